# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz kata_factory's /proc/self/mountinfo parser (_factory.parse_mountinfo): any bytes give a list of mounts."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _factory

SEEDS = [
    b'36 35 98:0 /mnt1 /mnt/parent\040with\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n'
    b'100 36 0:50 / /run/vc/vm/template rw,nosuid,nodev - tmpfs tmpfs rw,size=524288k\n',
    b'1 2 3 4 5 6 - \n',
]


def test_one_input(data):
    for mount in _factory.parse_mountinfo(data):
        if not isinstance(mount['mount_point'], str) or not isinstance(mount['mount_id'], int):
            raise AssertionError('bad mount entry %r' % (mount,))


fuzzlib.main(test_one_input, SEEDS)
