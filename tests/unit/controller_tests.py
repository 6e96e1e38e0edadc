# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pytest hook and fixture that the conftest.py of each controller plugin directory (filter, inventory,
connection) imports: controller plugins are tested in the controller context, and leave the module context to the
others.

Importing controller code (``ansible.errors``, which these plugins need) sets ansible-core's process-wide
``is_controller`` flag once and for all; module_utils then send warnings to the controller's display instead of the
module result. Module tests collected in the same pytest process expect the module context, so the flag is put back
after collection, and set again around each test of those directories only.
"""

from __future__ import annotations

import pytest

from ansible_collections.katacontainers.kata.tests.unit.ansible_compat import force_module_context, set_controller_context


def pytest_collection_finish(session):  # pylint: disable=unused-argument
    force_module_context()


@pytest.fixture(autouse=True)
def controller_context(monkeypatch):
    set_controller_context(monkeypatch, True)
