# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz kata_factory's hand-written protobuf decoder (_cache_client): any bytes decode or raise DecodeError; and the
VM config summary of whatever a server answers."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _cache_client as cc
    from ansible_collections.katacontainers.kata.plugins.module_utils import _factory

SEEDS = [
    b'\x08\xd2\t\x12\x08\x08\xe8\x07\x10\x01\x18\x80\x04',
    b'\n\x15{"HypervisorType":"qemu"}\x12\x02{}',
    b'\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01',
]


def test_one_input(data):
    try:
        status = cc.decode_status(data)
    except cc.DecodeError:
        status = None
    if status is not None:
        for vm in status['vms']:
            if not (0 <= vm['cpu'] < 2 ** 32 and 0 <= vm['memory_mib'] < 2 ** 32):
                raise AssertionError('uint32 out of range: %r' % (vm,))
    try:
        config = cc.decode_vm_config(data)
    except cc.DecodeError:
        return
    _factory.summarize_vm_config(config)
    _factory.summarize_vm_config({'data': data, 'agent_config': b''})


fuzzlib.main(test_one_input, SEEDS)
