# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the /proc/cpuinfo parsers of _probes: the first block, the flags, the architecture signature, the vendor and
model of every architecture, the POWER generation, the s390x facilities. Allowed: ProbeError."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _probes
    from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ProbeError

SEEDS = [
    b'processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\nflags\t\t: fpu vmx lm sse4_1 hypervisor\n\n'
    b'processor\t: 1\n',
    b'processor\t: 0\nCPU implementer\t: 0x41\nCPU architecture: 8\nFeatures\t: fp asimd\n',
    b'processor\t: 0\ncpu\t\t: POWER9 (architected), altivec supported\nmodel\t\t: 2.2 (pvr 004e 1202)\n'
    b'platform\t: pSeries\n',
    b'vendor_id       : IBM/S390\nfacilities      : 0 1 2 3 158\n'
    b'processor 0: version = FF,  identification = 3FEC87,  machine = 2964\n',
    b'processor\t: 0\nisa\t\t: rv64imafdc\nmvendorid\t: 0x489\nmarchid\t\t: 0x8000000000000007\n',
    b'flags : a : b\nvmx flags : x\n',
]


def test_one_input(data):
    text = fuzzlib.text(data)
    _probes.arch_from_cpuinfo(text)
    _probes.power_generation(text)
    _probes._flag_set(text)  # pylint: disable=protected-access
    _probes._cpu_facilities(text)  # pylint: disable=protected-access
    for arch in _probes.ARCHITECTURES:
        _probes.running_in_vm(arch, text)
    try:
        _probes.cpu_type(text)
    except ProbeError:
        pass
    try:
        block = _probes.first_cpu_block(text)
    except ProbeError:
        return
    flags = _probes.cpu_flags(block)
    if ':' in flags:
        raise AssertionError('cpu_flags returned a value with a colon: %r' % flags)
    for word in flags.split()[:5]:
        if word.isascii() and word.isidentifier() and not _probes.has_word(block, word):
            raise AssertionError('flag %r not found back in the block' % word)
    for arch in _probes.ARCHITECTURES:
        try:
            vendor, model = _probes.cpu_vendor_model(arch, block, text)
        except ProbeError:
            continue
        if not isinstance(vendor, str) or not isinstance(model, str):
            raise AssertionError('vendor/model not strings for %s' % arch)


fuzzlib.main(test_one_input, SEEDS)
