# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the /proc/meminfo parser of _probes: any text gives three non-negative integers."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _probes

SEEDS = [
    b'MemTotal:       24684096 kB\nMemFree:        23674572 kB\nMemAvailable:   24236260 kB\nBuffers: 1 kB\n',
    b'MemTotal: \xc2\xb2 kB\nMemFree: \xd9\xa1 kB\n',
    b'MemTotal:\nMemFree: -1 kB\nMemAvailable: 1e3 kB\n',
]


def test_one_input(data):
    result = _probes.parse_meminfo(fuzzlib.text(data))
    if sorted(result) != ['available', 'free', 'total'] or any(
            not isinstance(v, int) or v < 0 for v in result.values()):
        raise AssertionError('parse_meminfo returned %r' % (result,))


fuzzlib.main(test_one_input, SEEDS)
