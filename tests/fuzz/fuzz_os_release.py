# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the os-release parser (kata's distro rule) and the /proc/version kernel release of _probes."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _probes
    from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ProbeError

SEEDS = [
    b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    b'NAME=Fedora\nVERSION_ID=39\nNAME="second"\n',
    b'NAME==x\nVERSION_ID="\n',
    b'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP\n',
]


def test_one_input(data):
    text = fuzzlib.text(data)
    name, version = _probes.parse_os_release(text)
    if not name or not version or '\n' in name or '\n' in version:
        raise AssertionError('parse_os_release returned %r, %r' % (name, version))
    try:
        _probes.kernel_release(text)
    except ProbeError:
        pass


fuzzlib.main(test_one_input, SEEDS)
