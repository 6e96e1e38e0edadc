# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the host probes, on real files under tmp_path and real /proc/cpuinfo dumps (tests/fixtures/cpuinfo)."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.local_runner import local_run_command

FIXTURES = [
    'amd64-amd-epyc-7451.txt',
    'amd64-amd-kvm-guest-ryzen7-2700x.txt',
    'amd64-amd-opteron-865.txt',
    'amd64-amd-ryzen7-2700x.txt',
    'amd64-intel-core-i5-m560-laptop.txt',
    'amd64-intel-core-i7-1370p-laptop.txt',
    'amd64-intel-core-i7-4800mq-laptop.txt',
    'amd64-intel-kvm-guest-skylake-ibrs.txt',
    'amd64-intel-pentium-g640.txt',
    'amd64-intel-vmware-guest-xeon-gold-6326.txt',
    'amd64-intel-xeon-e5-2680v3.txt',
    'amd64-intel-xeon-e5345.txt',
    'amd64-intel-xeon-netburst-3ghz.txt',
    'amd64-intel-xeon-x7550.txt',
    'arm64-arm-cortex-a510-a710-a715-x3.txt',
    'arm64-cavium-thunderx.txt',
    'arm64-nvidia-jetson-tx1-cortex-a57.txt',
    'ppc64le-ibm-power8e-kvm-guest.txt',
    'ppc64le-ibm-power9-powernv-8335-gtw.txt',
    'riscv64-starfive-visionfive2-u74.txt',
    's390x-ibm-z14.txt',
    's390x-ibm-z196-zvm-guest.txt',
]

# (vendor, model) as kata env reports them, and the number of processors listed.
CPU_DETAILS = {
    'amd64-amd-epyc-7451.txt': ('AuthenticAMD', 'AMD EPYC 7451 24-Core Processor', 96),
    'amd64-amd-kvm-guest-ryzen7-2700x.txt': ('AuthenticAMD', 'AMD Ryzen 7 2700X Eight-Core Processor', 1),
    'amd64-amd-opteron-865.txt': ('AuthenticAMD', 'Dual Core AMD Opteron(tm) Processor 865', 16),
    'amd64-amd-ryzen7-2700x.txt': ('AuthenticAMD', 'AMD Ryzen 7 2700X Eight-Core Processor', 16),
    'amd64-intel-core-i5-m560-laptop.txt': ('GenuineIntel', 'Intel(R) Core(TM) i5 CPU       M 560  @ 2.67GHz', 4),
    'amd64-intel-core-i7-1370p-laptop.txt': ('GenuineIntel', '13th Gen Intel(R) Core(TM) i7-1370P', 20),
    'amd64-intel-core-i7-4800mq-laptop.txt': ('GenuineIntel', 'Intel(R) Core(TM) i7-4800MQ CPU @ 2.70GHz', 8),
    'amd64-intel-kvm-guest-skylake-ibrs.txt': ('GenuineIntel', 'Intel Core Processor (Skylake, IBRS)', 2),
    'amd64-intel-pentium-g640.txt': ('GenuineIntel', 'Intel(R) Pentium(R) CPU G640 @ 2.80GHz', 2),
    'amd64-intel-vmware-guest-xeon-gold-6326.txt': ('GenuineIntel', 'Intel(R) Xeon(R) Gold 6326 CPU @ 2.90GHz', 8),
    'amd64-intel-xeon-e5-2680v3.txt': ('GenuineIntel', 'Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz', 24),
    'amd64-intel-xeon-e5345.txt': ('GenuineIntel', 'Intel(R) Xeon(R) CPU           E5345  @ 2.33GHz', 8),
    'amd64-intel-xeon-netburst-3ghz.txt': ('GenuineIntel', 'Intel(R) Xeon(TM) CPU 3.00GHz', 2),
    'amd64-intel-xeon-x7550.txt': ('GenuineIntel', 'Intel(R) Xeon(R) CPU           X7550  @ 2.00GHz', 64),
    'arm64-arm-cortex-a510-a710-a715-x3.txt': ('ARM Limited', 'v8', 8),
    'arm64-cavium-thunderx.txt': ('3rd Party Limited', 'v8', 6),
    'arm64-nvidia-jetson-tx1-cortex-a57.txt': ('ARM Limited', 'v8', 4),
    'ppc64le-ibm-power8e-kvm-guest.txt': ('', 'IBM pSeries (emulated by qemu)', 16),
    'ppc64le-ibm-power9-powernv-8335-gtw.txt': ('', '8335-GTW', 176),
    'riscv64-starfive-visionfive2-u74.txt': ('0x489', '0x8000000000000007', 4),
    's390x-ibm-z14.txt': ('IBM/S390', '3906', 64),
    's390x-ibm-z196-zvm-guest.txt': ('IBM/S390', '2817', 4),
}

IN_VM = {'amd64-amd-kvm-guest-ryzen7-2700x.txt', 'amd64-intel-kvm-guest-skylake-ibrs.txt',
         'amd64-intel-vmware-guest-xeon-gold-6326.txt'}


def write(root, host_path, content, mode=0o644):
    path = os.path.join(str(root), host_path.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(content)
    os.chmod(path, mode)
    return path


def mkdir(root, host_path):
    path = os.path.join(str(root), host_path.lstrip('/'))
    os.makedirs(path, exist_ok=True)
    return path


def host_with_cpuinfo(tmp_path, text):
    write(tmp_path, '/proc/cpuinfo', text)
    return _probes.Host(str(tmp_path))


# ----------------------------------------------------------------------------------------------- Host

def test_host_root_is_normalised_and_local_only_for_slash(tmp_path):
    host = _probes.Host(str(tmp_path) + '/./')
    assert host.root == str(tmp_path)
    assert host.is_local is False
    assert _probes.Host('/').is_local is True
    assert _probes.Host().root == '/'


def test_host_root_must_be_a_directory(tmp_path):
    with pytest.raises(ArgumentError) as exc:
        _probes.Host(str(tmp_path / 'nowhere'))
    assert exc.value.msg == 'host_root: %s is not a directory; expected the root directory of a host' % (tmp_path / 'nowhere')
    write(tmp_path, '/file', 'x')
    with pytest.raises(ArgumentError):
        _probes.Host(str(tmp_path / 'file'))
    with pytest.raises(ArgumentError):
        _probes.Host('')


def test_path_joins_under_the_root_and_never_escapes(tmp_path):
    host = _probes.Host(str(tmp_path))
    assert host.path('/proc/cpuinfo') == str(tmp_path / 'proc' / 'cpuinfo')
    assert host.path('proc/cpuinfo') == str(tmp_path / 'proc' / 'cpuinfo')
    assert host.path('/../../etc/passwd') == str(tmp_path / 'etc' / 'passwd')
    assert host.path('/a/../../b') == str(tmp_path / 'b')
    assert host.path('/') == str(tmp_path)
    assert _probes.Host('/').path('/proc/../etc//os-release') == '/etc/os-release'


def test_path_resolves_symlinks_inside_the_root(tmp_path):
    write(tmp_path, '/usr/lib/os-release', 'NAME="Inside"\nVERSION_ID=1\n')
    mkdir(tmp_path, '/etc')
    os.symlink('/usr/lib/os-release', str(tmp_path / 'etc' / 'os-release'))  # absolute: must stay in the root
    os.symlink('../../../../../../usr/lib', str(tmp_path / 'etc' / 'lib'))  # climbs above the root: clamped
    host = _probes.Host(str(tmp_path))
    assert host.path('/etc/os-release') == str(tmp_path / 'usr' / 'lib' / 'os-release')
    assert host.read_text('/etc/os-release') == 'NAME="Inside"\nVERSION_ID=1\n'
    assert host.path('/etc/lib/os-release') == str(tmp_path / 'usr' / 'lib' / 'os-release')
    assert host.path('/etc/missing/../x') == str(tmp_path / 'etc' / 'x')


def test_path_symlink_loop_is_a_probe_error(tmp_path):
    mkdir(tmp_path, '/etc')
    os.symlink('b', str(tmp_path / 'etc' / 'a'))
    os.symlink('a', str(tmp_path / 'etc' / 'b'))
    host = _probes.Host(str(tmp_path))
    with pytest.raises(ProbeError) as exc:
        host.path('/etc/a')
    assert 'too many levels of symbolic links' in exc.value.msg
    assert str(tmp_path) in exc.value.msg


def test_read_text(tmp_path):
    write(tmp_path, '/proc/version', 'Linux version 6.1.0 (x) #1\n')
    host = _probes.Host(str(tmp_path))
    assert host.read_text('/proc/version') == 'Linux version 6.1.0 (x) #1\n'
    assert host.read_text_or_none('/proc/version') == 'Linux version 6.1.0 (x) #1\n'


def test_read_text_missing_names_the_path(tmp_path):
    host = _probes.Host(str(tmp_path))
    with pytest.raises(ProbeError) as exc:
        host.read_text('/proc/cpuinfo')
    assert exc.value.msg == 'Cannot read %s: No such file or directory' % (tmp_path / 'proc' / 'cpuinfo')
    assert host.read_text_or_none('/proc/cpuinfo') is None
    write(tmp_path, '/etc/hostname', 'x')
    assert host.read_text_or_none('/etc/hostname/deeper') is None  # ENOTDIR


def test_read_text_refuses_a_directory_even_for_read_text_or_none(tmp_path):
    mkdir(tmp_path, '/proc/cpuinfo')
    host = _probes.Host(str(tmp_path))
    with pytest.raises(ProbeError) as exc:
        host.read_text_or_none('/proc/cpuinfo')
    assert str(tmp_path / 'proc' / 'cpuinfo') in exc.value.msg


def test_read_text_refuses_a_fifo_without_blocking(tmp_path):
    mkdir(tmp_path, '/proc')
    os.mkfifo(str(tmp_path / 'proc' / 'cpuinfo'))
    host = _probes.Host(str(tmp_path))
    outcome = []

    def attempt():
        try:
            host.read_text('/proc/cpuinfo')
            outcome.append('read')
        except ProbeError as exc:
            outcome.append(exc.msg)

    worker = threading.Thread(target=attempt)
    worker.daemon = True
    worker.start()
    worker.join(30)
    if worker.is_alive():
        # Unblock the reader so the test process can end, then fail.
        fd = os.open(str(tmp_path / 'proc' / 'cpuinfo'), os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail('read_text blocked on a FIFO')
    assert outcome == ['Cannot read %s: not a regular file (a FIFO)' % (tmp_path / 'proc' / 'cpuinfo')]


def test_read_text_refuses_a_character_device():
    host = _probes.Host('/')
    with pytest.raises(ProbeError) as exc:
        host.read_text('/dev/null')
    assert exc.value.msg == 'Cannot read /dev/null: not a regular file (a character device)'


def test_read_text_limit(tmp_path):
    write(tmp_path, '/proc/cpuinfo', 'x' * 1000)
    host = _probes.Host(str(tmp_path))
    assert host.read_text('/proc/cpuinfo', limit=1000) == 'x' * 1000
    with pytest.raises(ProbeError) as exc:
        host.read_text('/proc/cpuinfo', limit=999)
    assert exc.value.msg == 'Cannot read %s: larger than the limit of 999 bytes' % (tmp_path / 'proc' / 'cpuinfo')


def test_read_text_reads_real_proc_files():
    host = _probes.Host('/')
    text = host.read_text('/proc/self/status')  # st_size is 0 for /proc files: the size comes from reading
    assert text.startswith('Name:')
    assert 'Pid:\t%d\n' % os.getpid() in text


def test_read_text_permission_denied(world_tmp, unprivileged):
    path = write(world_tmp, '/secret', 'x', mode=0)
    outcome = unprivileged(lambda: _probes.Host(world_tmp).read_text_or_none('/secret'))
    assert outcome == ('raise', 'ProbeError', 'Cannot read %s: Permission denied' % path)


def test_exists_and_isdir(tmp_path):
    mkdir(tmp_path, '/sys/module/kvm')
    write(tmp_path, '/dev/vhost-vsock', '')
    mkdir(tmp_path, '/sys/firmware')
    os.symlink('/sys/module/kvm', str(tmp_path / 'sys' / 'firmware' / 'tdx_seam'))
    host = _probes.Host(str(tmp_path))
    assert host.exists('/sys/module/kvm') is True
    assert host.exists('/sys/module/kvm_intel') is False
    assert host.exists('/dev/vhost-vsock/x') is False
    assert host.isdir('/sys/module/kvm') is True
    assert host.isdir('/dev/vhost-vsock') is False
    assert host.isdir('/sys/firmware/tdx_seam') is True  # through the in-root symlink
    assert host.isdir('/nope') is False


# ----------------------------------------------------------------------------------------------- architecture

@pytest.mark.parametrize('name', FIXTURES)
def test_detect_arch_of_another_root_from_its_cpuinfo(tmp_path, cpuinfo_fixture, name):
    host = host_with_cpuinfo(tmp_path, cpuinfo_fixture(name))
    assert _probes.detect_arch(host) == name.split('-', 1)[0]


def test_detect_arch_local_is_uname():
    machine = os.uname()[4]
    expected = {'x86_64': 'amd64', 'aarch64': 'arm64', 'ppc64le': 'ppc64le', 's390x': 's390x',
                'riscv64': 'riscv64'}[machine]
    assert _probes.detect_arch(_probes.Host('/')) == expected


def test_detect_arch_falls_back_to_uname(tmp_path):
    expected = _probes.detect_arch(_probes.Host('/'))
    assert _probes.detect_arch(_probes.Host(str(tmp_path))) == expected  # no cpuinfo at all
    assert _probes.detect_arch(host_with_cpuinfo(tmp_path, 'processor : 0\nmodel : strange\n')) == expected


def test_goarch():
    assert [_probes.goarch(m) for m in ('x86_64', 'aarch64', 'ppc64le', 's390x', 'riscv64')] == list(_probes.ARCHITECTURES)
    with pytest.raises(ProbeError) as exc:
        _probes.goarch('mips64')
    assert exc.value.msg == ("Unsupported architecture: uname reports machine 'mips64'; kata-runtime exists for "
                             "amd64, arm64, ppc64le, s390x, riscv64")


def test_arch_from_cpuinfo_without_signature():
    assert _probes.arch_from_cpuinfo('processor\t: 0\nvendor_id\t: HygonGenuine\n') is None
    assert _probes.arch_from_cpuinfo('') is None
    assert _probes.arch_from_cpuinfo(None) is None


# ----------------------------------------------------------------------------------------------- cpuinfo parsers

@pytest.mark.parametrize('name', FIXTURES)
def test_first_cpu_block_is_the_text_before_the_first_blank_line(cpuinfo_fixture, name):
    text = cpuinfo_fixture(name)
    block = _probes.first_cpu_block(text)
    assert '\n\n' not in block
    assert text.startswith(block)
    rest = text[len(block):]
    assert rest.startswith('\n\n') or rest.strip() == ''
    assert block.endswith(block.strip())


def test_first_cpu_block_exact(cpuinfo_fixture):
    block = _probes.first_cpu_block(cpuinfo_fixture('amd64-amd-epyc-7451.txt'))
    lines = block.split('\n')
    assert lines[0] == 'processor\t: 0'
    assert lines[-1] == 'power management: ts ttp tm hwpstate cpb eff_freq_ro [13] [14]'
    assert len(lines) == 27
    z196 = _probes.first_cpu_block(cpuinfo_fixture('s390x-ibm-z196-zvm-guest.txt'))
    assert z196.split('\n')[-1] == 'processor 3: version = FF,  identification = 200123,  machine = 2817'


@pytest.mark.parametrize('text', ['', '   \n', '\n\nprocessor : 0\n', ' \n\nprocessor : 0'])
def test_first_cpu_block_empty(text):
    with pytest.raises(ProbeError) as exc:
        _probes.first_cpu_block(text)
    assert exc.value.msg == 'Cannot determine CPU details'


def test_cpu_flags_takes_the_flags_line_not_vmx_flags(cpuinfo_fixture):
    block = _probes.first_cpu_block(cpuinfo_fixture('amd64-intel-core-i7-1370p-laptop.txt'))
    flags = _probes.cpu_flags(block).split()
    assert flags[:4] == ['fpu', 'vme', 'de', 'pse']
    assert 'vmx' in flags and 'sse4_1' in flags and 'lm' in flags
    # the "vmx flags" line comes right after; words only it has are not CPU flags
    assert 'unrestricted_guest' not in flags and 'ept_x_only' not in flags and 'posted_intr' not in flags
    assert _probes.has_word(block, 'unrestricted_guest') is True
    assert len(flags) == len(set(flags))


def test_cpu_flags_rules():
    assert _probes.cpu_flags('vmx flags\t: ept\nflags\t: a b c\n') == 'a b c'
    # a flags line with two colons does not split into two parts: skipped, the next one is taken
    assert _probes.cpu_flags('flags : a:b\nflags : c d') == 'c d'
    assert _probes.cpu_flags('Features\t: fp asimd') == ''
    assert _probes.cpu_flags('flags') == ''
    assert _probes.cpu_flags('flagsfoo: x y') == 'x y'  # kata only checks the prefix


def test_has_word():
    assert _probes.has_word('fpu vmx lm sse4_1 sse4_2', 'sse4_1') is True
    assert _probes.has_word('fpu vmx lm sse4_2', 'sse4_1') is False
    assert _probes.has_word('fpu sse4_12', 'sse4_1') is False
    assert _probes.has_word('fpu xlm', 'lm') is False
    assert _probes.has_word('lahf_lm', 'lm') is False
    assert _probes.has_word('vendor_id\t: GenuineIntel\n', 'GenuineIntel') is True
    assert _probes.has_word('a.b c', 'a.b') is True
    assert _probes.has_word('axb c', 'a.b') is False  # the word is escaped, not a pattern
    assert _probes.has_word('', 'lm') is False
    assert _probes.has_word('lm', '') is False


@pytest.mark.parametrize('name', [n for n in FIXTURES if n.startswith('amd64-')])
def test_cpu_type(cpuinfo_fixture, name):
    expected = 'amd' if name.startswith('amd64-amd') else 'intel'
    assert _probes.cpu_type(cpuinfo_fixture(name)) == expected


def test_cpu_type_unknown(cpuinfo_fixture):
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_type(cpuinfo_fixture('s390x-ibm-z14.txt'))
    assert exc.value.msg == 'Unknown CPU Type'
    with pytest.raises(ProbeError):
        _probes.cpu_type('vendor_id\t: HygonGenuine\n')


@pytest.mark.parametrize('name', FIXTURES)
def test_cpu_vendor_model(cpuinfo_fixture, name):
    text = cpuinfo_fixture(name)
    arch = name.split('-', 1)[0]
    vendor, model, dummy_count = CPU_DETAILS[name]
    assert _probes.cpu_vendor_model(arch, _probes.first_cpu_block(text), text) == (vendor, model)


@pytest.mark.parametrize('architecture, expected', [
    ('8', 'v8'), ('7', 'v7'), ('7M', 'v7'), ('?(12)', 'v7'), ('?(17)', 'v7'), ('?(18)', 'unknown'), ('6', 'v6'),
    ('6TEJ', 'v6'), ('5', 'v5'), ('5T', 'v5'), ('5TE', 'v5'), ('5TEJ', 'v5'), ('4', 'v4'), ('4T', 'v4'), ('3', 'v3'),
    ('9', 'unknown'),
])
def test_cpu_vendor_model_arm_architectures(architecture, expected):
    block = 'processor\t: 0\nCPU implementer\t: 0x41\nCPU architecture: %s\n' % architecture
    assert _probes.cpu_vendor_model('arm64', block, block) == ('ARM Limited', expected)


def test_cpu_vendor_model_errors():
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_vendor_model('amd64', 'vendor_id\t: GenuineIntel\nmodel\t\t: 63', '')
    assert exc.value.msg == 'cannot find model field in file /proc/cpuinfo'
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_vendor_model('amd64', 'model name\t: x', '')
    assert exc.value.msg == 'cannot find vendor field in file /proc/cpuinfo'
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_vendor_model('arm64', 'processor\t: 0\nCPU architecture: 8', '')
    assert exc.value.msg == 'cannot find vendor field in file /proc/cpuinfo'
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_vendor_model('s390x', 'vendor_id : IBM/S390\nprocessor 0: version = FF', '')
    assert exc.value.msg == 'Error in parsing cpu model from /proc/cpuinfo'
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_vendor_model('ppc64le', 'processor : 0\ncpu : POWER9', 'processor : 0\ncpu : POWER9')
    assert exc.value.msg == 'cannot find model field in file /proc/cpuinfo'
    with pytest.raises(ProbeError):
        _probes.cpu_vendor_model('mips64', 'x', 'x')


def test_cpu_vendor_model_takes_the_last_line_and_the_text_up_to_the_next_colon():
    block = 'vendor_id : A\nmodel name : first\nvendor_id : B\nmodel name : second: part\n'
    assert _probes.cpu_vendor_model('amd64', block, block) == ('B', 'second')


def test_cpu_vendor_model_riscv_fallback_reads_the_processor_line():
    block = 'processor\t: 3\nhart\t\t: 4\nisa\t\t: rv64imafdc\nmvendorid\t: 0x0\n'
    assert _probes.cpu_vendor_model('riscv64', block, block) == ('0x0', '3')


@pytest.mark.parametrize('name', FIXTURES)
def test_running_in_vm(cpuinfo_fixture, name):
    arch = name.split('-', 1)[0]
    assert _probes.running_in_vm(arch, cpuinfo_fixture(name)) is (name in IN_VM)


def test_running_in_vm_rules():
    assert _probes.running_in_vm('amd64', 'flags\t: fpu hypervisor\n') is True
    assert _probes.running_in_vm('amd64', 'flags\t: fpu\nflags\t: hypervisor\n') is False  # first flags line only
    assert _probes.running_in_vm('amd64', 'processor : 0\n') is False
    assert _probes.running_in_vm('arm64', 'flags\t: hypervisor\n') is False  # kata cannot tell off amd64


def test_power_generation(cpuinfo_fixture):
    assert _probes.power_generation(cpuinfo_fixture('ppc64le-ibm-power8e-kvm-guest.txt')) == 8
    assert _probes.power_generation(cpuinfo_fixture('ppc64le-ibm-power9-powernv-8335-gtw.txt')) == 9
    # kata's single-digit regexp reads POWER10 as 1; the whole number is read here
    assert _probes.power_generation('cpu\t\t: POWER10 (architected), altivec supported\n') == 10
    assert _probes.power_generation('cpu\t\t: POWER11 (raw)\n') == 11
    assert _probes.power_generation('cpu\t\t: PPC970\n') is None
    assert _probes.power_generation('') is None


# ----------------------------------------------------------------------------------------------- os-release

@pytest.mark.parametrize('text, expected', [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n', ('Debian GNU/Linux', '12')),
    ('NAME=Fedora\nVERSION_ID=39\n', ('Fedora', '39')),
    ('NAME="Arch Linux"\nID=arch\n', ('Arch Linux', '<<unknown>>')),
    ('ID=x\n', ('<<unknown>>', '<<unknown>>')),
    ('', ('<<unknown>>', '<<unknown>>')),
    ('NAME="First"\nNAME="Second"\nVERSION_ID=1\nVERSION_ID=2\n', ('First', '1')),
    ('NAME="A=B"\nVERSION_ID="1"\n', ('A', '1')),  # kata: the value ends at the next "="
    ("NAME='Single'\nVERSION_ID=3\n", ("'Single'", '3')),  # only double quotes are trimmed
    ('  NAME="Indented"\nVERSION_ID=3\n', ('<<unknown>>', '3')),
    ('NAME=\nNAME=Later\nVERSION_ID=1\n', ('Later', '1')),
])
def test_parse_os_release(text, expected):
    assert _probes.parse_os_release(text) == expected


def test_distro_etc_then_usr_lib(tmp_path):
    host = _probes.Host(str(tmp_path))
    assert _probes.distro(host) == ('<<unknown>>', '<<unknown>>')
    write(tmp_path, '/usr/lib/os-release', 'NAME="Clear Linux OS"\nVERSION_ID=40000\n')
    assert _probes.distro(host) == ('Clear Linux OS', '40000')
    write(tmp_path, '/etc/os-release', 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n')
    assert _probes.distro(host) == ('Debian GNU/Linux', '12')
    # a value missing from /etc/os-release is taken from /usr/lib/os-release, the one found is kept
    write(tmp_path, '/etc/os-release', 'NAME="Debian GNU/Linux"\n')
    assert _probes.distro(host) == ('Debian GNU/Linux', '40000')


def test_distro_unreadable_file_is_an_error(tmp_path):
    mkdir(tmp_path, '/etc/os-release')
    with pytest.raises(ProbeError) as exc:
        _probes.distro(_probes.Host(str(tmp_path)))
    assert str(tmp_path / 'etc' / 'os-release') in exc.value.msg


# ----------------------------------------------------------------------------------------------- meminfo, version

MEMINFO = """MemTotal:       24684096 kB
MemFree:        23674572 kB
MemAvailable:   24236260 kB
Buffers:           24512 kB
HugePages_Total:       0
"""


def test_parse_meminfo():
    assert _probes.parse_meminfo(MEMINFO) == dict(total=24684096, free=23674572, available=24236260)
    assert _probes.parse_meminfo('MemTotal: 1000 kB\nMemFree: 10 kB\n') == dict(total=1000, free=10, available=0)
    assert _probes.parse_meminfo('') == dict(total=0, free=0, available=0)


def test_memory(tmp_path):
    host = _probes.Host(str(tmp_path))
    assert _probes.memory(host) == dict(total=0, free=0, available=0)  # kata: unreadable /proc -> zeros
    write(tmp_path, '/proc/meminfo', MEMINFO)
    assert _probes.memory(host) == dict(total=24684096, free=23674572, available=24236260)


def test_memory_local_matches_proc_meminfo():
    with open('/proc/meminfo', encoding='utf-8') as f:
        first = f.readline().split()
    assert first[0] == 'MemTotal:'
    assert _probes.memory(_probes.Host('/'))['total'] == int(first[1])


def test_kernel_release(tmp_path):
    text = 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP\n'
    assert _probes.kernel_release(text) == '6.1.0-18-amd64'
    assert _probes.kernel_release('a b c') == 'c'
    with pytest.raises(ProbeError) as exc:
        _probes.kernel_release('Linux version\n')
    assert exc.value.msg == 'unexpected contents in /proc/version'
    write(tmp_path, '/proc/version', text)
    assert _probes.kernel(_probes.Host(str(tmp_path))) == '6.1.0-18-amd64'
    with pytest.raises(ProbeError):
        _probes.kernel(_probes.Host(str(tmp_path / 'proc')))


def test_kernel_local_is_uname_release():
    assert _probes.kernel(_probes.Host('/')) == os.uname()[2]


# ----------------------------------------------------------------------------------------------- modules, devices

def test_module_loaded_and_parameter(tmp_path):
    write(tmp_path, '/sys/module/kvm_intel/parameters/unrestricted_guest', 'Y\n')
    write(tmp_path, '/sys/module/kvm_intel/parameters/nested', 'N\r\n')
    write(tmp_path, '/sys/module/kvm/parameters/halt_poll_ns', ' 200000 \n\n')
    host = _probes.Host(str(tmp_path))
    assert _probes.module_loaded(host, 'kvm_intel') is True
    assert _probes.module_loaded(host, 'kvm') is True
    assert _probes.module_loaded(host, 'vhost') is False
    assert _probes.module_parameter(host, 'kvm_intel', 'unrestricted_guest') == 'Y'
    assert _probes.module_parameter(host, 'kvm_intel', 'nested') == 'N'
    assert _probes.module_parameter(host, 'kvm', 'halt_poll_ns') == ' 200000 '  # only CR/LF are trimmed
    with pytest.raises(ProbeError) as exc:
        _probes.module_parameter(host, 'kvm_intel', 'ept')
    assert str(tmp_path / 'sys/module/kvm_intel/parameters/ept') in exc.value.msg


def test_module_loaded_does_not_use_proc_modules(tmp_path):
    write(tmp_path, '/proc/modules', 'kvm_intel 397312 0 - Live 0x0000000000000000\n')
    assert _probes.module_loaded(_probes.Host(str(tmp_path)), 'kvm_intel') is False


def test_support_vsocks(tmp_path):
    host = _probes.Host(str(tmp_path))
    assert _probes.support_vsocks(host) is False
    write(tmp_path, '/dev/vhost-vsock', '')
    assert _probes.support_vsocks(host) is True


def test_support_vsocks_local():
    assert _probes.support_vsocks(_probes.Host('/')) is os.path.exists('/dev/vhost-vsock')


# ----------------------------------------------------------------------------------------------- guest protections

INTEL = 'processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vmx lm sse4_1\n'
AMD = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu svm lm sse4_1\n'


def test_guest_protections_amd64_none(tmp_path):
    host = _probes.Host(str(tmp_path))
    assert _probes.guest_protections(host, 'amd64', INTEL) is None
    assert _probes.guest_protections(host, 'amd64', AMD) is None


def test_guest_protections_tdx_dir(tmp_path):
    mkdir(tmp_path, '/sys/firmware/tdx_seam')
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 'amd64', INTEL) == ['tdx']


def test_guest_protections_tdx_flag(tmp_path):
    text = INTEL.replace('sse4_1', 'sse4_1 tdx')
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 'amd64', text) == ['tdx']
    # tdx_guest (inside a TD) is another word
    text = INTEL.replace('sse4_1', 'sse4_1 tdx_guest')
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 'amd64', text) is None


def test_guest_protections_tdx_kvm_intel_parameter(tmp_path):
    host = _probes.Host(str(tmp_path))
    write(tmp_path, '/sys/module/kvm_intel/parameters/tdx', 'N\n')
    assert _probes.guest_protections(host, 'amd64', INTEL) is None
    write(tmp_path, '/sys/module/kvm_intel/parameters/tdx', 'Y\n')
    assert _probes.guest_protections(host, 'amd64', INTEL) == ['tdx']


@pytest.mark.parametrize('value, expected', [('1\n', ['sev']), ('Y\n', ['sev']), ('N\n', None), ('0\n', None),
                                             ('', None), ('y\n', None)])
def test_guest_protections_sev(tmp_path, value, expected):
    write(tmp_path, '/sys/module/kvm_amd/parameters/sev', value)
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 'amd64', AMD) == expected


def test_guest_protections_snp_before_sev(tmp_path):
    host = _probes.Host(str(tmp_path))
    write(tmp_path, '/sys/module/kvm_amd/parameters/sev', 'Y\n')
    write(tmp_path, '/sys/module/kvm_amd/parameters/sev_snp', 'N\n')
    assert _probes.guest_protections(host, 'amd64', AMD) == ['sev']
    write(tmp_path, '/sys/module/kvm_amd/parameters/sev_snp', 'Y\n')
    assert _probes.guest_protections(host, 'amd64', AMD) == ['snp']


def test_guest_protections_tdx_wins(tmp_path):
    write(tmp_path, '/sys/module/kvm_amd/parameters/sev', '1\n')
    mkdir(tmp_path, '/sys/firmware/tdx_seam')
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 'amd64', AMD) == ['tdx']


def test_guest_protections_amd64_without_flags_line(tmp_path):
    mkdir(tmp_path, '/sys/firmware/tdx_seam')
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 'amd64', 'processor : 0\n') is None


def test_guest_protections_pef(tmp_path, cpuinfo_fixture):
    text = cpuinfo_fixture('ppc64le-ibm-power9-powernv-8335-gtw.txt')
    host = _probes.Host(str(tmp_path))
    assert _probes.guest_protections(host, 'ppc64le', text) is None
    write(tmp_path, '/sys/firmware/ultravisor', '')  # a file is not enough
    assert _probes.guest_protections(host, 'ppc64le', text) is None
    os.unlink(str(tmp_path / 'sys' / 'firmware' / 'ultravisor'))
    mkdir(tmp_path, '/sys/firmware/ultravisor')
    assert _probes.guest_protections(host, 'ppc64le', text) == ['pef']


S390_WITH_158 = 'vendor_id       : IBM/S390\nfacilities      : 0 1 2 76 129 156 158 165\n'


@pytest.mark.parametrize('cmdline, expected', [
    ('root=/dev/dasda1 prot_virt=1\n', ['se']),
    ('prot_virt=on', ['se']),
    ('prot_virt=YES quiet', ['se']),
    ('prot_virt=Y', ['se']),
    ('prot_virt=0', None),
    ('PROT_VIRT=1', None),  # the parameter name is case-sensitive
    ('prot_virt', None),
    ('', None),
])
def test_guest_protections_se(tmp_path, cmdline, expected):
    write(tmp_path, '/proc/cmdline', cmdline)
    assert _probes.guest_protections(_probes.Host(str(tmp_path)), 's390x', S390_WITH_158) == expected


def test_guest_protections_se_needs_facility_158_and_a_cmdline(tmp_path, cpuinfo_fixture):
    host = _probes.Host(str(tmp_path))
    assert _probes.guest_protections(host, 's390x', S390_WITH_158) is None  # no /proc/cmdline
    write(tmp_path, '/proc/cmdline', 'prot_virt=1\n')
    assert _probes.guest_protections(host, 's390x', cpuinfo_fixture('s390x-ibm-z14.txt')) is None  # up to 156
    assert _probes.guest_protections(host, 's390x', cpuinfo_fixture('s390x-ibm-z196-zvm-guest.txt')) is None
    assert _probes.guest_protections(host, 's390x', 'facilities : 1 2 x 158\n') is None  # kata: parse error


def test_guest_protections_arm64_riscv64(tmp_path, cpuinfo_fixture):
    mkdir(tmp_path, '/sys/firmware/ultravisor')
    mkdir(tmp_path, '/sys/firmware/tdx_seam')
    host = _probes.Host(str(tmp_path))
    assert _probes.guest_protections(host, 'arm64', cpuinfo_fixture('arm64-cavium-thunderx.txt')) is None
    assert _probes.guest_protections(host, 'riscv64', cpuinfo_fixture('riscv64-starfive-visionfive2-u74.txt')) is None


# ----------------------------------------------------------------------------------------------- CPU count

@pytest.mark.parametrize('name', FIXTURES)
def test_cpu_count_of_another_root(tmp_path, cpuinfo_fixture, name):
    host = host_with_cpuinfo(tmp_path, cpuinfo_fixture(name))
    assert _probes.cpu_count(host) == CPU_DETAILS[name][2]


def test_cpu_count_without_processors(tmp_path):
    host = host_with_cpuinfo(tmp_path, 'vendor_id : x\n')
    with pytest.raises(ProbeError) as exc:
        _probes.cpu_count(host)
    assert 'lists no processor' in exc.value.msg


def _ranges_count(text):
    total = 0
    for part in text.strip().split(','):
        low, dummy, high = part.partition('-')
        total += int(high or low) - int(low) + 1
    return total


def test_cpu_count_local_is_the_affinity_mask():
    with open('/proc/self/status', encoding='utf-8') as f:
        allowed = [line.split(':', 1)[1] for line in f if line.startswith('Cpus_allowed_list:')][0]
    assert _probes.cpu_count(_probes.Host('/')) == _ranges_count(allowed)


# ----------------------------------------------------------------------------------------------- commands

def executable(path, body):
    with open(str(path), 'w', encoding='utf-8') as f:
        f.write('#!/bin/sh\n' + body)
    os.chmod(str(path), stat.S_IRWXU)
    return str(path)


def test_hypervisor_version(tmp_path):
    qemu = executable(tmp_path / 'qemu-system-x86_64',
                      'echo "  QEMU emulator version 7.2.0"\necho "Copyright (c) 2003-2022"\necho " "\necho noise >&2\n')
    assert _probes.hypervisor_version(qemu, local_run_command) == 'QEMU emulator version 7.2.0\nCopyright (c) 2003-2022'


def test_hypervisor_version_unknown(tmp_path):
    failing = executable(tmp_path / 'clh', 'echo "cloud-hypervisor v30"\nexit 1\n')
    assert _probes.hypervisor_version(failing, local_run_command) == '<<unknown>>'
    assert _probes.hypervisor_version(str(tmp_path / 'missing'), local_run_command) == '<<unknown>>'
    assert _probes.hypervisor_version(None, local_run_command) == '<<unknown>>'
    assert _probes.hypervisor_version('', local_run_command) == '<<unknown>>'
    not_executable = tmp_path / 'fc'
    not_executable.write_text('#!/bin/sh\necho 1\n')
    assert _probes.hypervisor_version(str(not_executable), local_run_command) == '<<unknown>>'


def test_hypervisor_version_bare_name_is_looked_up_in_path(tmp_path, monkeypatch):
    executable(tmp_path / 'firecracker', 'echo "Firecracker v1.4.1"\n')
    monkeypatch.setenv('PATH', str(tmp_path))
    calls = []

    def run(args, **kwargs):
        calls.append(args)
        return local_run_command(args, **kwargs)

    assert _probes.hypervisor_version('firecracker', run) == 'Firecracker v1.4.1'
    assert calls == [[str(tmp_path / 'firecracker'), '--version']]


def test_find_command(tmp_path, monkeypatch):
    first = tmp_path / 'a'
    second = tmp_path / 'b'
    first.mkdir()
    second.mkdir()
    executable(second / 'tool', 'exit 0\n')
    (first / 'tool').write_text('not executable')
    monkeypatch.setenv('PATH', '%s:%s' % (first, second))
    assert _probes.find_command('tool', extra_dirs=()) == str(second / 'tool')
    assert _probes.find_command('absent-tool-name', extra_dirs=()) is None
    assert _probes.find_command('tool', extra_dirs=(str(first),)) == str(second / 'tool')
    monkeypatch.setenv('PATH', '')
    assert _probes.find_command('tool', extra_dirs=(str(second),)) == str(second / 'tool')
    assert _probes.find_command(str(second / 'tool')) == str(second / 'tool')
    assert _probes.find_command(str(first / 'tool')) is None


def test_local_run_command(tmp_path):
    script = executable(tmp_path / 'show', 'echo "$LANG/$1"\necho err >&2\nexit 3\n')
    assert local_run_command([script, 'x'], environ_update={'LANG': 'C'}) == (3, 'C/x\n', 'err\n')
    rc, out, err = local_run_command([str(tmp_path / 'missing')])
    assert (rc, out) == (127, '')
    assert err == '%s: No such file or directory' % (tmp_path / 'missing')


# ------------------------------------------------------------------------------------------- found by the robustness suite

def test_parse_meminfo_unicode_digits_are_not_numbers():
    # '\u00b2'.isdigit() is True but int('\u00b2') raises ValueError: a hostile /proc/meminfo made kata_env crash.
    text = 'MemTotal: \u00b2\u00b3 kB\nMemFree: \u0661\u0662 kB\nMemAvailable: 7 kB\n'
    assert _probes.parse_meminfo(text) == dict(total=0, free=0, available=7)


def test_cpu_facilities_unicode_digits_are_malformed():
    assert _probes._cpu_facilities('facilities      : 0 1 \u00b2\n') is None  # pylint: disable=protected-access
    assert _probes._cpu_facilities('facilities      : 0 1 158\n') == {0, 1, 158}  # pylint: disable=protected-access


def test_hypervisor_version_not_executable_with_ansible_run_command(tmp_path, monkeypatch):
    # AnsibleModule.run_command fails the task itself ("Error executing command.") when the exec fails, unless told
    # not to: a configured hypervisor path that is not a program made kata_env fail.
    import json

    from ansible.module_utils import basic

    text = tmp_path / 'qemu-system-x86_64'
    text.write_text('not a program\n')
    text.chmod(0o755)
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core before 2.19 (module_utils run on older controllers' Pythons too)
        monkeypatch.setattr(basic, '_ANSIBLE_ARGS', json.dumps({'ANSIBLE_MODULE_ARGS': {}}).encode('utf-8'))
        module = basic.AnsibleModule(argument_spec={})
    else:
        with patch_module_args({}):
            module = basic.AnsibleModule(argument_spec={})
    assert _probes.hypervisor_version(str(text), module.run_command) == '<<unknown>>'
