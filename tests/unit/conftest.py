# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared unit-test fixtures.

Real host data (/proc/cpuinfo dumps of many machines) lives outside the project, in ``shared/fixtures`` beside the
checkout (see shared/fixtures/cpuinfo/SOURCES.md). It is found by walking up from this file, so it is found from the
checkout and from the copy that ``make`` hands to ansible-test; tests that need it skip with a clear reason where
it is absent. It is never copied into the project.
"""

from __future__ import annotations

import os

import pytest


def _find_shared_fixtures():
    env = os.environ.get('KATA_SHARED_FIXTURES')
    if env:
        return env if os.path.isdir(env) else None
    here = os.path.dirname(os.path.abspath(__file__))
    while True:
        candidate = os.path.join(here, 'shared', 'fixtures')
        if os.path.isdir(os.path.join(candidate, 'cpuinfo')):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


SHARED_FIXTURES = _find_shared_fixtures()


@pytest.fixture
def cpuinfo_fixture():
    """Return a function that reads ``shared/fixtures/cpuinfo/<name>``, or skip when shared/ is absent."""
    def read(name):
        if SHARED_FIXTURES is None:
            pytest.skip('shared/fixtures (real /proc/cpuinfo dumps) is not beside this checkout; '
                        'set KATA_SHARED_FIXTURES to its path to run this test')
        with open(os.path.join(SHARED_FIXTURES, 'cpuinfo', name), 'rb') as f:
            return f.read().decode('utf-8')
    return read
