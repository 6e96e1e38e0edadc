# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tests of this directory run in the controller context (tests/unit/controller_tests.py)."""

from __future__ import annotations

from ansible_collections.katacontainers.kata.tests.unit.controller_tests import (  # noqa: F401 pylint: disable=unused-import
    controller_context,
    pytest_collection_finish,
)
