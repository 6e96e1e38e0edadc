# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared unit-test fixtures.

Real host data lives in the repository under ``tests/fixtures``: /proc/cpuinfo dumps of many machines
(``cpuinfo/``, with SOURCES.md) and Kata's configuration files as its build renders them (``kata-configs/``, with
README.md). A fresh clone has everything its tests need.
"""

from __future__ import annotations

import os

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')
CPUINFO_DIR = os.path.join(FIXTURES, 'cpuinfo')
KATA_CONFIGS_DIR = os.path.join(FIXTURES, 'kata-configs')


@pytest.fixture
def cpuinfo_fixture():
    """Return a function that reads ``tests/fixtures/cpuinfo/<name>`` as text."""
    def read(name):
        with open(os.path.join(CPUINFO_DIR, name), 'rb') as f:
            return f.read().decode('utf-8')
    return read
