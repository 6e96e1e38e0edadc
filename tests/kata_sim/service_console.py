# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Registers the debug console (sim_console.py) as a kata_sim service (sim_core starts every service_*.py)."""

from __future__ import annotations

from sim_console import create  # noqa: F401  pylint: disable=unused-import
