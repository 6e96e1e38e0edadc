# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of kata's host capability check on host roots built under tmp_path from real /proc/cpuinfo dumps.

Commands (modprobe, ppc64_cpu) are small real executables run as real subprocesses.
"""

from __future__ import annotations

import os
import re
import stat

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _capability, _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.local_runner import local_run_command

INTEL_MODULES = ('kvm', 'kvm_intel', 'vhost', 'vhost_net', 'vhost_vsock')
AMD_MODULES = ('kvm', 'kvm_amd', 'vhost', 'vhost_net', 'vhost_vsock')
ARM_MODULES = ('kvm', 'vhost', 'vhost_net', 'vhost_vsock')
UG = ('kvm_intel', 'unrestricted_guest')


def make_host(tmp_path, cpuinfo, modules=(), params=None):
    """A host root: /proc/{cpuinfo,meminfo,version}, /etc/os-release and a /sys/module tree."""
    root = tmp_path / 'host'

    def write(host_path, content):
        path = root / host_path.lstrip('/')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    write('/proc/cpuinfo', cpuinfo)
    write('/proc/meminfo', 'MemTotal:       16318480 kB\nMemFree:         9316780 kB\nMemAvailable:   13250116 kB\n')
    write('/proc/version', 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP\n')
    write('/etc/os-release', 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n')
    (root / 'sys' / 'module').mkdir(parents=True, exist_ok=True)
    for module in modules:
        (root / 'sys' / 'module' / module).mkdir()
    for (module, param), value in (params or {}).items():
        write('/sys/module/%s/parameters/%s' % (module, param), value)
    return _probes.Host(str(root))


def executable(path, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\n' + body)
    os.chmod(str(path), stat.S_IRWXU)
    return str(path)


def only(**commands):
    """A find_command that knows exactly these commands (name -> path)."""
    return commands.get


def check(host, **kwargs):
    kwargs.setdefault('real_uid', 0)
    kwargs.setdefault('run_command', local_run_command)
    kwargs.setdefault('find_command', only())
    return _capability.check_host(host, **kwargs)


# (fixture, hypervisor, modules present, module parameters, failed_checks)
CASES = [
    ('amd64-intel-xeon-e5-2680v3.txt', 'qemu', INTEL_MODULES, {UG: 'Y\n'}, []),
    ('amd64-intel-xeon-e5-2680v3.txt', 'qemu', ('kvm', 'kvm_intel'), {UG: 'Y\n'}, ['vhost', 'vhost_net']),
    ('amd64-intel-xeon-e5-2680v3.txt', 'qemu', INTEL_MODULES, {UG: 'N\n'}, ['unrestricted_guest']),
    ('amd64-intel-xeon-e5-2680v3.txt', 'qemu', (), None, ['kvm', 'kvm_intel', 'vhost', 'vhost_net']),
    ('amd64-intel-xeon-e5-2680v3.txt', 'clh', INTEL_MODULES[:4], {UG: 'Y\n'}, []),
    ('amd64-intel-xeon-e5-2680v3.txt', 'firecracker', INTEL_MODULES[:4], {UG: 'Y\n'}, []),
    ('amd64-intel-xeon-e5-2680v3.txt', 'dragonball', ('kvm', 'vhost'), None, ['kvm_intel', 'vhost_net']),
    ('amd64-intel-xeon-e5-2680v3.txt', 'stratovirt', INTEL_MODULES, {UG: 'Y\n'}, []),
    ('amd64-intel-xeon-e5-2680v3.txt', 'acrn', (), None, []),
    ('amd64-intel-xeon-e5-2680v3.txt', 'mock', (), None, []),
    ('amd64-intel-xeon-e5345.txt', 'qemu', INTEL_MODULES, {UG: 'Y\n'}, ['sse4_1']),
    ('amd64-intel-xeon-e5345.txt', 'qemu', (), None, ['sse4_1', 'kvm', 'kvm_intel', 'vhost', 'vhost_net']),
    ('amd64-intel-xeon-netburst-3ghz.txt', 'qemu', INTEL_MODULES, {UG: 'N\n'}, ['vmx', 'sse4_1', 'unrestricted_guest']),
    ('amd64-intel-xeon-netburst-3ghz.txt', 'acrn', ('vhm_dev', 'vhost', 'vhost_net'), None, ['sse4_1']),
    ('amd64-intel-xeon-netburst-3ghz.txt', 'mock', INTEL_MODULES, None, ['vmx', 'sse4_1']),
    ('amd64-intel-xeon-x7550.txt', 'qemu', INTEL_MODULES, {UG: 'Y\n'}, []),
    ('amd64-intel-core-i5-m560-laptop.txt', 'qemu', INTEL_MODULES, {UG: 'Y\n'}, []),
    ('amd64-intel-core-i7-1370p-laptop.txt', 'qemu', INTEL_MODULES, {UG: 'Y\n'}, []),
    ('amd64-intel-core-i7-4800mq-laptop.txt', 'qemu', INTEL_MODULES[:4], {UG: 'Y\n'}, []),
    ('amd64-intel-pentium-g640.txt', 'qemu', INTEL_MODULES, {UG: 'Y\n'}, []),
    # Inside a VM unrestricted_guest is not requested: no parameter file, N, nothing matters.
    ('amd64-intel-kvm-guest-skylake-ibrs.txt', 'qemu', INTEL_MODULES, None, ['vmx']),
    ('amd64-intel-kvm-guest-skylake-ibrs.txt', 'qemu', INTEL_MODULES, {UG: 'N\n'}, ['vmx']),
    ('amd64-intel-vmware-guest-xeon-gold-6326.txt', 'qemu', ('kvm',), None, ['vmx', 'kvm_intel', 'vhost', 'vhost_net']),
    ('amd64-amd-epyc-7451.txt', 'qemu', AMD_MODULES, None, []),
    ('amd64-amd-epyc-7451.txt', 'qemu', ('kvm', 'vhost', 'vhost_net'), None, ['kvm_amd']),
    ('amd64-amd-epyc-7451.txt', 'remote', AMD_MODULES, None, []),  # kata takes any hypervisor type on AMD
    ('amd64-amd-ryzen7-2700x.txt', 'qemu', (), None, ['kvm', 'kvm_amd', 'vhost', 'vhost_net']),
    ('amd64-amd-ryzen7-2700x.txt', 'firecracker', AMD_MODULES[:4], None, []),
    ('amd64-amd-kvm-guest-ryzen7-2700x.txt', 'qemu', AMD_MODULES, None, ['svm']),
    ('amd64-amd-kvm-guest-ryzen7-2700x.txt', 'qemu', (), None, ['svm', 'kvm', 'kvm_amd', 'vhost', 'vhost_net']),
    ('amd64-amd-opteron-865.txt', 'qemu', AMD_MODULES, None, ['svm', 'sse4_1']),
    ('arm64-nvidia-jetson-tx1-cortex-a57.txt', 'qemu', ARM_MODULES[:3], None, []),
    ('arm64-cavium-thunderx.txt', 'qemu', ('kvm', 'vhost_vsock'), None, ['vhost', 'vhost_net']),
    ('arm64-arm-cortex-a510-a710-a715-x3.txt', 'clh', (), None, ['kvm', 'vhost', 'vhost_net']),
    ('ppc64le-ibm-power9-powernv-8335-gtw.txt', 'qemu', ('kvm', 'kvm_hv'), None, []),
    ('ppc64le-ibm-power9-powernv-8335-gtw.txt', 'qemu', ('kvm', 'vhost_vsock'), None, ['kvm_hv']),
    ('s390x-ibm-z14.txt', 'qemu', ('kvm',), None, []),
    ('s390x-ibm-z196-zvm-guest.txt', 'qemu', ('vhost_vsock',), None, ['kvm']),
    ('riscv64-starfive-visionfive2-u74.txt', 'qemu', ARM_MODULES, None, []),
    ('riscv64-starfive-visionfive2-u74.txt', 'qemu', ('kvm',), None, ['vhost', 'vhost_net']),
]


@pytest.mark.parametrize('name, hypervisor, modules, params, failed', CASES)
def test_fixture_verdicts(tmp_path, cpuinfo_fixture, name, hypervisor, modules, params, failed):
    host = make_host(tmp_path, cpuinfo_fixture(name), modules, params)
    result = check(host, hypervisor=hypervisor)
    assert result['failed_checks'] == failed
    assert result['capable'] is (failed == [])
    assert result['arch'] == name.split('-', 1)[0]
    assert result['changed'] is False
    assert result['messages'] == (['System is capable of running Kata Containers'] if not failed
                                  else ['ERROR: System is not capable of running Kata Containers'])


VENDORS = [
    ('amd64-intel-xeon-e5-2680v3.txt', 'GenuineIntel', False),
    ('amd64-intel-kvm-guest-skylake-ibrs.txt', 'GenuineIntel', True),
    ('amd64-amd-epyc-7451.txt', 'AuthenticAMD', False),
    ('amd64-amd-kvm-guest-ryzen7-2700x.txt', 'AuthenticAMD', True),
    ('arm64-cavium-thunderx.txt', '3rd Party Limited', False),
    ('arm64-nvidia-jetson-tx1-cortex-a57.txt', 'ARM Limited', False),
    ('ppc64le-ibm-power9-powernv-8335-gtw.txt', None, False),  # kata reads no vendor on POWER
    ('s390x-ibm-z196-zvm-guest.txt', 'IBM/S390', False),  # a z/VM guest, but kata cannot tell off amd64
    ('riscv64-starfive-visionfive2-u74.txt', '0x489', False),
]


@pytest.mark.parametrize('name, vendor, in_vm', VENDORS)
def test_cpu_vendor_and_in_vm(tmp_path, cpuinfo_fixture, name, vendor, in_vm):
    result = check(make_host(tmp_path, cpuinfo_fixture(name)), hypervisor='qemu')
    assert (result['cpu_vendor'], result['in_vm']) == (vendor, in_vm)


def test_arch_is_detected_from_the_host_root(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('s390x-ibm-z14.txt'), ('kvm',))
    assert check(host)['arch'] == 's390x'  # no arch given, default hypervisor qemu


def test_every_check_of_an_intel_bare_metal_host(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'), ('kvm', 'kvm_intel', 'vhost'),
                     {UG: 'N\n'})
    result = check(host, hypervisor='qemu', real_uid=1000)
    assert result == dict(
        capable=False, arch='amd64', cpu_vendor='GenuineIntel', in_vm=False, changed=False,
        failed_checks=['unrestricted_guest', 'vhost_net'],
        messages=['ERROR: System is not capable of running Kata Containers'],
        checks=[
            dict(type='attribute', name='GenuineIntel', description='Intel Architecture CPU', required=True, ok=True,
                 found=None, expected=None, detail='CPU property found'),
            dict(type='flag', name='vmx', description='Virtualization support', required=True, ok=True,
                 found=None, expected=None, detail='CPU property found'),
            dict(type='flag', name='lm', description='64Bit CPU', required=True, ok=True,
                 found=None, expected=None, detail='CPU property found'),
            dict(type='flag', name='sse4_1', description='SSE4.1', required=True, ok=True,
                 found=None, expected=None, detail='CPU property found'),
            dict(type='module', name='kvm', description='Kernel-based Virtual Machine', required=True, ok=True,
                 found=None, expected=None, detail='kernel property found'),
            dict(type='module', name='kvm_intel', description='Intel KVM', required=True, ok=True,
                 found=None, expected=None, detail='kernel property found'),
            dict(type='module_parameter', name='unrestricted_guest', description='Intel KVM parameter unrestricted_guest',
                 required=True, ok=False, found='N', expected='Y', detail='kernel module parameter has unexpected value'),
            dict(type='module', name='vhost', description='Host kernel accelerator for virtio', required=True, ok=True,
                 found=None, expected=None, detail='kernel property found'),
            dict(type='module', name='vhost_net', description='Host kernel accelerator for virtio network', required=True,
                 ok=False, found=None, expected=None,
                 detail='Module is not loaded and it can not be inserted. Please consider running with sudo or as root'),
            dict(type='module', name='vhost_vsock', description='Host Support for Linux VM Sockets', required=False,
                 ok=False, found=None, expected=None,
                 detail='Module is not loaded and it can not be inserted. Please consider running with sudo or as root'),
        ])


def test_unrestricted_guest_ok_on_bare_metal(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-xeon-x7550.txt'), INTEL_MODULES, {UG: 'Y\r\n'})
    params = [c for c in check(host)['checks'] if c['type'] == 'module_parameter']
    assert params == [dict(type='module_parameter', name='unrestricted_guest',
                           description='Intel KVM parameter unrestricted_guest', required=True, ok=True, found='Y',
                           expected='Y', detail='Kernel property value correct')]


def test_unrestricted_guest_not_requested_in_a_vm(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-vmware-guest-xeon-gold-6326.txt'), INTEL_MODULES,
                     {UG: 'N\n'})
    names = [c['name'] for c in check(host)['checks']]
    assert names == ['GenuineIntel', 'vmx', 'lm', 'sse4_1', 'kvm', 'kvm_intel', 'vhost', 'vhost_net', 'vhost_vsock']


def test_unrestricted_guest_not_checked_when_kvm_intel_is_missing(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-xeon-x7550.txt'), ('kvm', 'vhost', 'vhost_net'))
    result = check(host)
    assert result['failed_checks'] == ['kvm_intel']
    assert 'unrestricted_guest' not in [c['name'] for c in result['checks']]


def test_unreadable_parameter_aborts_the_check(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-xeon-x7550.txt'), INTEL_MODULES)
    with pytest.raises(ProbeError) as exc:
        check(host)
    assert exc.value.msg == 'Cannot read %s: No such file or directory' % host.path(
        '/sys/module/kvm_intel/parameters/unrestricted_guest')


def test_nested_is_always_excused(tmp_path):
    host = make_host(tmp_path, 'processor : 0\n', ('kvm_intel',), {('kvm_intel', 'nested'): 'N\n'})
    module = dict(name='kvm_intel', description='Intel KVM', required=True, parameters=[])
    assert _capability._parameter_check(host, module, 'nested', 'Y', True) == dict(
        type='module_parameter', name='nested', description='Intel KVM parameter nested', required=False, ok=False,
        found='N', expected='Y', detail='kernel module parameter has unexpected value')


def test_check_order_for_amd(tmp_path, cpuinfo_fixture):
    result = check(make_host(tmp_path, cpuinfo_fixture('amd64-amd-epyc-7451.txt'), AMD_MODULES))
    assert [(c['type'], c['name']) for c in result['checks']] == [
        ('attribute', 'AuthenticAMD'), ('flag', 'svm'), ('flag', 'lm'), ('flag', 'sse4_1'), ('module', 'kvm'),
        ('module', 'kvm_amd'), ('module', 'vhost'), ('module', 'vhost_net'), ('module', 'vhost_vsock')]
    assert [c['description'] for c in result['checks']][:2] == ['AMD Architecture CPU', 'Virtualization support']


def test_check_order_for_acrn(tmp_path, cpuinfo_fixture):
    result = check(make_host(tmp_path, cpuinfo_fixture('amd64-intel-pentium-g640.txt')), hypervisor='acrn')
    assert [(c['name'], c['required'], c['ok']) for c in result['checks']] == [
        ('GenuineIntel', True, True), ('lm', True, True), ('sse4_1', True, True), ('vhm_dev', False, False),
        ('vhost', False, False), ('vhost_net', False, False)]
    assert result['capable'] is True


@pytest.mark.parametrize('name, modules', [
    ('arm64-cavium-thunderx.txt', ['kvm', 'vhost', 'vhost_net', 'vhost_vsock']),
    ('riscv64-starfive-visionfive2-u74.txt', ['kvm', 'vhost', 'vhost_net', 'vhost_vsock']),
    ('ppc64le-ibm-power9-powernv-8335-gtw.txt', ['kvm', 'kvm_hv', 'vhost_vsock']),
    ('s390x-ibm-z14.txt', ['kvm', 'vhost_vsock']),
])
def test_other_architectures_check_modules_only(tmp_path, cpuinfo_fixture, name, modules):
    result = check(make_host(tmp_path, cpuinfo_fixture(name), modules))
    assert [(c['type'], c['name']) for c in result['checks']] == [('module', m) for m in modules]
    assert result['capable'] is True
    assert [c['required'] for c in result['checks']][-1] is False  # vhost_vsock is optional everywhere


# ----------------------------------------------------------------------------------------------- hypervisors

@pytest.mark.parametrize('hypervisor', ['remote', 'vmware', ''])
def test_unknown_hypervisor_for_intel(tmp_path, cpuinfo_fixture, hypervisor):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-xeon-x7550.txt'), INTEL_MODULES, {UG: 'Y\n'})
    if hypervisor == '':
        assert check(host, hypervisor=hypervisor)['capable'] is True  # empty means the default, qemu
        return
    with pytest.raises(ArgumentError) as exc:
        check(host, hypervisor=hypervisor)
    assert hypervisor in exc.value.msg
    assert 'qemu, clh, firecracker, dragonball, stratovirt' in exc.value.msg


def test_unknown_hypervisor_messages(tmp_path, cpuinfo_fixture):
    host = make_host(tmp_path, cpuinfo_fixture('amd64-intel-xeon-x7550.txt'))
    with pytest.raises(ArgumentError) as exc:
        check(host, hypervisor='remote')
    assert exc.value.msg == ('setCPUtype: Unknown hypervisor type remote (an Intel host is checked for qemu, clh, '
                             'firecracker, dragonball, stratovirt, openvmm, acrn, mock)')
    host = make_host(tmp_path / 'arm', cpuinfo_fixture('arm64-cavium-thunderx.txt'))
    with pytest.raises(ArgumentError) as exc:
        check(host, hypervisor='vmware')
    assert exc.value.msg == ("hypervisor: unknown hypervisor type 'vmware'; expected one of qemu, clh, firecracker, "
                             "dragonball, stratovirt, openvmm, acrn, mock, remote")


@pytest.mark.parametrize('hypervisor, applies', [
    ('qemu', True), ('clh', True), ('firecracker', True), ('dragonball', True), ('stratovirt', True),
    ('acrn', False), ('mock', False), ('remote', False),
])
@pytest.mark.parametrize('arch', ['amd64', 'arm64', 'ppc64le', 's390x', 'riscv64'])
def test_kvm_test_applies(arch, hypervisor, applies):
    assert _capability.kvm_test_applies(arch, hypervisor) is applies


# ----------------------------------------------------------------------------------------------- host errors

def test_missing_cpuinfo(tmp_path):
    host = _probes.Host(str(tmp_path))
    with pytest.raises(ProbeError) as exc:
        check(host, arch='amd64')
    assert exc.value.msg == 'Cannot read %s: No such file or directory' % (tmp_path / 'proc' / 'cpuinfo')


def test_amd64_without_flags(tmp_path):
    host = make_host(tmp_path, 'processor\t: 0\nvendor_id\t: GenuineIntel\n\nprocessor\t: 1\nflags\t: vmx lm sse4_1\n')
    with pytest.raises(ProbeError) as exc:
        check(host, arch='amd64')
    assert exc.value.msg == 'Cannot find CPU flags in the first CPU of %s' % host.path('/proc/cpuinfo')


def test_amd64_unknown_cpu_type(tmp_path):
    host = make_host(tmp_path, 'processor\t: 0\nvendor_id\t: HygonGenuine\nflags\t: svm lm sse4_1\n')
    with pytest.raises(ProbeError) as exc:
        check(host, arch='amd64')
    assert exc.value.msg == 'Unknown CPU Type'


def test_empty_cpuinfo(tmp_path):
    with pytest.raises(ProbeError) as exc:
        check(make_host(tmp_path, '\n'), arch='arm64')
    assert exc.value.msg == 'Cannot determine CPU details'


def test_attribute_is_searched_in_the_first_cpu_only(tmp_path):
    # GenuineIntel appears in the file (so the CPU type is Intel) but not in the first block
    text = 'processor\t: 0\nflags\t: vmx lm sse4_1\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n'
    result = check(make_host(tmp_path, text), arch='amd64', hypervisor='mock')
    assert result['failed_checks'] == ['GenuineIntel']


# ----------------------------------------------------------------------------------------------- POWER SMT rule

def smt_host(tmp_path, cpuinfo_fixture, name='ppc64le-ibm-power8e-kvm-guest.txt'):
    return make_host(tmp_path, cpuinfo_fixture(name), ('kvm', 'kvm_hv'))


def ppc64_cpu(tmp_path, answer, rc=0):
    # Answers only the exact call kata makes, in the C locale.
    return executable(tmp_path / 'bin' / 'ppc64_cpu',
                      '[ "$#" = 1 ] && [ "$1" = --smt ] || exit 64\n'
                      '[ "$LANG" = C ] && [ "$LC_ALL" = C ] || exit 65\n'
                      'printf "%s\\n\\n" "' + answer + '"\nexit ' + str(rc) + '\n')


def test_power8_smt_off(tmp_path, cpuinfo_fixture):
    tool = ppc64_cpu(tmp_path, 'SMT is off')
    result = check(smt_host(tmp_path, cpuinfo_fixture), find_command=only(ppc64_cpu=tool))
    assert result['checks'][0] == dict(type='smt', name='smt', description='SMT must be off on POWER8 and older',
                                       required=True, ok=True, found='SMT is off', expected='SMT is off',
                                       detail='SMT is off')
    assert result['capable'] is True
    assert result['failed_checks'] == []
    assert result['messages'] == ['System is capable of running Kata Containers']


def test_power8_smt_on(tmp_path, cpuinfo_fixture):
    tool = ppc64_cpu(tmp_path, 'SMT=8')
    result = check(smt_host(tmp_path, cpuinfo_fixture), find_command=only(ppc64_cpu=tool))
    assert result['checks'][0] == dict(type='smt', name='smt', description='SMT must be off on POWER8 and older',
                                       required=True, ok=False, found='SMT=8', expected='SMT is off',
                                       detail='SMT is not Off. System is not capable of running Kata Containers')
    assert result['capable'] is False
    assert result['failed_checks'] == ['smt']
    assert result['messages'] == ['SMT is not Off. System is not capable of running Kata Containers']
    # the modules are still checked and reported (kata stops at SMT)
    assert [c['name'] for c in result['checks']] == ['smt', 'kvm', 'kvm_hv', 'vhost_vsock']


def test_power8_smt_on_and_modules_missing(tmp_path, cpuinfo_fixture):
    tool = ppc64_cpu(tmp_path, 'SMT=4')
    host = make_host(tmp_path, cpuinfo_fixture('ppc64le-ibm-power8e-kvm-guest.txt'), ('kvm',))
    result = check(host, find_command=only(ppc64_cpu=tool))
    assert result['failed_checks'] == ['smt', 'kvm_hv']
    assert result['messages'] == ['SMT is not Off. System is not capable of running Kata Containers']


def test_power8_ppc64_cpu_missing(tmp_path, cpuinfo_fixture):
    result = check(smt_host(tmp_path, cpuinfo_fixture), find_command=only())
    assert result['checks'][0] == dict(type='smt', name='smt', description='SMT must be off on POWER8 and older',
                                       required=True, ok=True, found=None, expected='SMT is off',
                                       detail="ppc64_cpu isn't installed, can't detect SMT")
    assert result['capable'] is True


def test_power8_ppc64_cpu_failing_counts_as_missing(tmp_path, cpuinfo_fixture):
    tool = ppc64_cpu(tmp_path, 'SMT=8', rc=1)
    result = check(smt_host(tmp_path, cpuinfo_fixture), find_command=only(ppc64_cpu=tool))
    assert result['checks'][0]['detail'] == "ppc64_cpu isn't installed, can't detect SMT"
    assert result['checks'][0]['ok'] is True
    assert result['capable'] is True


def test_power9_has_no_smt_rule(tmp_path, cpuinfo_fixture):
    tool = ppc64_cpu(tmp_path, 'SMT=4')
    host = smt_host(tmp_path, cpuinfo_fixture, 'ppc64le-ibm-power9-powernv-8335-gtw.txt')
    result = check(host, find_command=only(ppc64_cpu=tool))
    assert 'smt' not in [c['type'] for c in result['checks']]
    assert result['capable'] is True


def test_power10_has_no_smt_rule(tmp_path):
    # kata's single-digit regexp would read POWER10 as 1 and apply the POWER8 rule; the whole number is read here
    tool = ppc64_cpu(tmp_path, 'SMT=8')
    text = 'processor\t: 0\ncpu\t\t: POWER10 (architected), altivec supported\n\nplatform\t: pSeries\n'
    result = check(make_host(tmp_path, text, ('kvm', 'kvm_hv')), arch='ppc64le', find_command=only(ppc64_cpu=tool))
    assert [c['name'] for c in result['checks']] == ['kvm', 'kvm_hv', 'vhost_vsock']


def test_power_unknown_generation_gets_the_smt_rule(tmp_path):
    tool = ppc64_cpu(tmp_path, 'SMT is off')
    text = 'processor\t: 0\ncpu\t\t: PPC970MP, altivec supported\n'
    result = check(make_host(tmp_path, text, ('kvm', 'kvm_hv')), arch='ppc64le', find_command=only(ppc64_cpu=tool))
    assert result['checks'][0]['detail'] == 'Failed to find Power Processor number from /proc/cpuinfo; SMT is off'
    assert result['checks'][0]['ok'] is True


# ----------------------------------------------------------------------------------------------- loading modules

def recording_modprobe(tmp_path, rc=0):
    log = tmp_path / 'modprobe.log'
    body = 'echo "$@" >> "%s"\n' % log
    if rc:
        body += 'echo "modprobe: FATAL: Module $1 not found in directory /lib/modules/6.1.0" >&2\nexit %d\n' % rc
    return executable(tmp_path / 'bin' / 'modprobe', body), log


def calls(log):
    return log.read_text().split('\n')[:-1] if log.exists() else []


def local_plan():
    """The local host's CPU and the hypervisor whose requirements have no module parameters, and those modules."""
    with open('/proc/cpuinfo', encoding='utf-8') as f:
        text = f.read()
    arch = _probes.detect_arch(_probes.Host('/'))
    hypervisor = 'qemu'
    if arch == 'amd64' and 'GenuineIntel' in text and not _probes.running_in_vm(arch, text):
        hypervisor = 'acrn'  # bare-metal Intel qemu reads kvm_intel's parameters, which a fake load cannot create
    wanted = [m['name'] for m in _capability.requirements(
        arch, _probes.cpu_type(text) if arch == 'amd64' else None, hypervisor,
        _probes.running_in_vm(arch, text))['modules']]
    return hypervisor, wanted


def test_load_modules_with_modprobe(tmp_path):
    modprobe, log = recording_modprobe(tmp_path)
    hypervisor, wanted = local_plan()
    absent = [m for m in wanted if not os.path.isdir('/sys/module/' + m)]
    result = check(_probes.Host('/'), hypervisor=hypervisor, load_modules=True, real_uid=0,
                   find_command=only(modprobe=modprobe, ppc64_cpu=None))
    assert calls(log) == absent
    assert result['changed'] is bool(absent)
    modules = [c for c in result['checks'] if c['type'] == 'module']
    assert [(c['name'], c['ok'], c['detail']) for c in modules] == [
        (m, True, 'kernel property found (loaded with modprobe)' if m in absent else 'kernel property found')
        for m in wanted]


def test_load_modules_modprobe_fails(tmp_path):
    modprobe, log = recording_modprobe(tmp_path, rc=1)
    hypervisor, wanted = local_plan()
    absent = [m for m in wanted if not os.path.isdir('/sys/module/' + m)]
    result = check(_probes.Host('/'), hypervisor=hypervisor, load_modules=True, real_uid=0,
                   find_command=only(modprobe=modprobe))
    assert calls(log) == absent
    assert result['changed'] is False
    failed = [(c['name'], c['ok'], c['detail']) for c in result['checks'] if c['type'] == 'module' and not c['ok']]
    assert failed == [(m, False, 'modprobe insert module failed (rc=1): modprobe: FATAL: Module %s not found in '
                                 'directory /lib/modules/6.1.0' % m) for m in absent]


def test_load_modules_without_modprobe(tmp_path):
    hypervisor, wanted = local_plan()
    absent = [m for m in wanted if not os.path.isdir('/sys/module/' + m)]
    result = check(_probes.Host('/'), hypervisor=hypervisor, load_modules=True, real_uid=0, find_command=only())
    details = [c['detail'] for c in result['checks'] if c['type'] == 'module' and not c['ok']]
    assert details == ['modprobe insert module failed: modprobe was not found in PATH or /sbin, /usr/sbin, '
                       '/usr/local/sbin'] * len(absent)
    assert result['changed'] is False


def test_load_modules_needs_the_real_root_user(tmp_path):
    modprobe, log = recording_modprobe(tmp_path)
    hypervisor, wanted = local_plan()
    absent = [m for m in wanted if not os.path.isdir('/sys/module/' + m)]
    result = check(_probes.Host('/'), hypervisor=hypervisor, load_modules=True, real_uid=1000,
                   find_command=only(modprobe=modprobe))
    assert calls(log) == []
    assert result['changed'] is False
    details = [c['detail'] for c in result['checks'] if c['type'] == 'module' and not c['ok']]
    assert details == ['Module is not loaded and it can not be inserted. Please consider running with sudo or as root'
                       ] * len(absent)


def test_load_modules_never_for_another_root(tmp_path, cpuinfo_fixture):
    modprobe, log = recording_modprobe(tmp_path)
    host = make_host(tmp_path, cpuinfo_fixture('amd64-amd-epyc-7451.txt'), ('kvm',))
    result = check(host, load_modules=True, real_uid=0, find_command=only(modprobe=modprobe))
    assert calls(log) == []
    assert result['changed'] is False
    assert result['failed_checks'] == ['kvm_amd', 'vhost', 'vhost_net']
    assert [c['detail'] for c in result['checks'] if c['name'] == 'kvm_amd'] == ['kernel property kvm_amd not found']


def test_load_modules_false_never_runs_modprobe(tmp_path):
    modprobe, log = recording_modprobe(tmp_path)
    hypervisor, dummy_wanted = local_plan()
    check(_probes.Host('/'), hypervisor=hypervisor, load_modules=False, real_uid=0, find_command=only(modprobe=modprobe))
    assert calls(log) == []


# ----------------------------------------------------------------------------------------------- this machine

def test_this_machine_verdict_matches_an_independent_reading():
    with open('/proc/cpuinfo', encoding='utf-8') as f:
        text = f.read()
    if os.uname()[4] != 'x86_64':
        pytest.skip('the independent reading below knows x86_64 only')
    first = text.split('\n\n')[0]
    vendor = re.search(r'^vendor_id\s*:\s*(\S+)', first, re.M).group(1)
    flags = re.search(r'^flags\s*:\s*(.*)$', first, re.M).group(1).split()
    in_vm = 'hypervisor' in flags
    intel = vendor == 'GenuineIntel'
    want_flags = ['vmx' if intel else 'svm', 'lm', 'sse4_1']
    want_modules = ['kvm', 'kvm_intel' if intel else 'kvm_amd', 'vhost', 'vhost_net']
    expected = [vendor] if vendor not in ('GenuineIntel', 'AuthenticAMD') else []
    expected += [f for f in want_flags if f not in flags]
    for module in want_modules:
        if not os.path.isdir('/sys/module/' + module):
            expected.append(module)
        elif module == 'kvm_intel' and not in_vm:
            with open('/sys/module/kvm_intel/parameters/unrestricted_guest', encoding='utf-8') as f:
                if f.read().strip() != 'Y':
                    expected.append('unrestricted_guest')

    result = _capability.check_host(_probes.Host('/'), hypervisor='qemu')
    assert result['arch'] == 'amd64'
    assert result['cpu_vendor'] == vendor
    assert result['in_vm'] is in_vm
    assert result['failed_checks'] == expected
    assert result['capable'] is (expected == [])
    assert result['changed'] is False
    assert [c['name'] for c in result['checks'] if c['type'] == 'module'] == want_modules + ['vhost_vsock']
    vsock = [c for c in result['checks'] if c['name'] == 'vhost_vsock'][0]
    assert (vsock['required'], vsock['ok']) == (False, os.path.isdir('/sys/module/vhost_vsock'))
