# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_env's main() on host roots built from real /proc/cpuinfo dumps: the whole EnvInfo, field by field."""

from __future__ import annotations

import os

import pytest

from ansible_collections.katacontainers.kata.plugins.modules import kata_env

CONFIG = """\
[hypervisor.qemu]
path = "/opt/kata/bin/qemu-system-aarch64"
kernel = "/opt/kata/share/vmlinux.container"
image = "/opt/kata/share/kata-containers.img"
machine_type = "virt"
kernel_params = "cgroup_no_v1=all"
virtio_fs_daemon = "/opt/kata/libexec/virtiofsd"
default_memory = 2048
enable_debug = true

[agent.kata]
enable_tracing = true

[runtime]
sandbox_cgroup_only = true
"""


def make_root(tmp_path, cpuinfo, config=None, extra=None):
    root = tmp_path / 'host'
    files = {'proc/cpuinfo': cpuinfo,
             'proc/meminfo': 'MemTotal:       16318480 kB\nMemFree:         9316780 kB\nMemAvailable:   13250116 kB\n',
             'proc/version': 'Linux version 6.1.0-18-arm64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP\n',
             'usr/lib/os-release': 'NAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\n'}
    if config is not None:
        files['etc/kata-containers/configuration.toml'] = config
        for asset in ('opt/kata/bin/qemu-system-aarch64', 'opt/kata/share/vmlinux.container',
                      'opt/kata/share/kata-containers.img', 'opt/kata/libexec/virtiofsd'):
            files[asset] = 'placeholder'
    files.update(extra or {})
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    for module in ('kvm', 'vhost', 'vhost_net'):
        (root / 'sys' / 'module' / module).mkdir(parents=True, exist_ok=True)
    (root / 'dev').mkdir(exist_ok=True)
    return str(root)


def test_every_field_for_an_arm64_host(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('arm64-nvidia-jetson-tx1-cortex-a57.txt'), CONFIG)
    result = run_module(kata_env, {'host_root': root})
    assert result['changed'] is False
    facts = result['ansible_facts']['kata_env']
    socket_path = '<<unknown>>' if os.geteuid() != 0 else ''
    assert facts == {
        'kernel': {
            'path': '/opt/kata/share/vmlinux.container',
            'parameters': ('systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service '
                           'systemd.mask=systemd-networkd.socket scsi_mod.scan=none agent.trace=true '
                           'cgroup_no_v1=all'),
        },
        'meta': {'version': '1.0.26'},
        'image': {'path': '/opt/kata/share/kata-containers.img'},
        'initrd': {'path': ''},
        'hypervisor': {
            'machine_type': 'virt',
            'version': None,  # programs are never run for another root
            'path': '/opt/kata/bin/qemu-system-aarch64',
            'block_device_driver': 'virtio-scsi',
            'entropy_source': '/dev/urandom',
            'shared_fs': 'virtio-fs',
            'virtio_fs_daemon': '/opt/kata/libexec/virtiofsd',
            'socket_path': socket_path,
            'msize_9p': 8192,
            'memory_slots': 10,
            'pcie_root_port': 0,
            'hotplug_vfio_on_root_bus': False,
            'debug': True,
        },
        'runtime': {
            'config': {'path': '/etc/kata-containers/configuration.toml', 'runtime': 'go',
                       'source': 'default:/etc/kata-containers/configuration.toml'},
            'path': None,
            'experimental': None,
            'version': {'oci': '1.0.2-dev', 'version': None},
            'debug': False,
            'trace': False,
            'disable_guest_seccomp': False,
            'disable_new_netns': False,
            'sandbox_cgroup_only': True,
        },
        'host': {
            'available_guest_protections': None,
            'kernel': '6.1.0-18-arm64',
            'architecture': 'arm64',
            'distro': {'name': 'Ubuntu', 'version': '22.04'},
            'cpu': {'vendor': 'ARM Limited', 'model': 'v8', 'cpus': 4},
            'memory': {'total': 16318480, 'free': 9316780, 'available': 13250116},
            'vm_container_capable': True,
            'support_vsocks': False,
        },
        'agent': {'debug': False, 'trace': True},
        'warnings': [],
    }


def test_without_configuration(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('amd64-amd-epyc-7451.txt'),
                     extra={'sys/module/kvm_amd/parameters/sev': '1\n', 'dev/vhost-vsock': ''})
    result = run_module(kata_env, {'host_root': root})
    facts = result['ansible_facts']['kata_env']
    for section in ('kernel', 'image', 'initrd', 'hypervisor', 'runtime', 'agent'):
        assert facts[section] is None
    assert facts['host']['cpu'] == {'vendor': 'AuthenticAMD', 'model': 'AMD EPYC 7451 24-Core Processor', 'cpus': 96}
    assert facts['host']['available_guest_protections'] == ['sev']
    assert facts['host']['support_vsocks'] is True
    assert facts['host']['vm_container_capable'] is True  # svm, and kvm_amd exists (it holds the sev parameter)
    tried = ('/etc/kata-containers/configuration.toml, /usr/share/defaults/kata-containers/configuration.toml, '
             '/etc/kata-containers/runtime-rs/configuration.toml, '
             '/usr/share/defaults/kata-containers/runtime-rs/configuration.toml, '
             '/opt/kata/share/defaults/kata-containers/configuration.toml, '
             '/opt/kata/share/defaults/kata-containers/runtime-rs/configuration.toml, '
             'the runtime handlers of the container engines (none found)')
    assert facts['warnings'] == ['No Kata configuration file found (tried %s): the configuration sections are null' % tried]
    assert result['warnings'] == facts['warnings']


@pytest.mark.parametrize('subset, present, absent', [
    (['host'], ['host'], ['hypervisor', 'kernel']),
    (['config'], ['hypervisor', 'kernel'], ['host']),
    (['all', '!host', '!capability'], ['hypervisor'], ['host']),
])
def test_gather_subset(tmp_path, cpuinfo_fixture, run_module, subset, present, absent):
    root = make_root(tmp_path, cpuinfo_fixture('arm64-nvidia-jetson-tx1-cortex-a57.txt'), CONFIG)
    facts = run_module(kata_env, {'host_root': root, 'gather_subset': subset})['ansible_facts']['kata_env']
    for section in present:
        assert facts[section] is not None
    for section in absent:
        assert facts[section] is None


def test_capability_alone_fills_only_the_verdict(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('arm64-nvidia-jetson-tx1-cortex-a57.txt'), CONFIG)
    facts = run_module(kata_env, {'host_root': root, 'gather_subset': ['capability']})['ansible_facts']['kata_env']
    assert facts['host']['vm_container_capable'] is True
    assert facts['host']['kernel'] is None


def test_unknown_subset(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('arm64-nvidia-jetson-tx1-cortex-a57.txt'))
    result = run_module(kata_env, {'host_root': root, 'gather_subset': ['all', '!cpu']}, expect='fail')
    assert result['msg'] == ("gather_subset: unknown subset '!cpu'; expected all, host, config, capability, "
                             'hypervisor_version, runtime_version, optionally prefixed with "!"')


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

LOCAL_CONFIG = """\
[hypervisor.qemu]
path = "{qemu}"
kernel = "{kernel}"
image = "{kernel}"
shared_fs = "virtio-9p"
"""


def local_config(tmp_path, qemu_text):
    """A configuration on this host (host_root /) whose hypervisor binary is ``qemu_text`` (mode 0755)."""
    qemu = tmp_path / 'qemu-system-x86_64'
    qemu.write_text(qemu_text)
    qemu.chmod(0o755)
    kernel = tmp_path / 'vmlinux'
    kernel.write_text('placeholder')
    config = tmp_path / 'configuration.toml'
    config.write_text(LOCAL_CONFIG.format(qemu=qemu, kernel=kernel))
    return str(config)


def test_hypervisor_that_cannot_be_executed_has_an_unknown_version(tmp_path, run_module):
    # AnsibleModule.run_command failed the whole task ("Error executing command.") for a binary it could not exec.
    config = local_config(tmp_path, 'not a program\n')
    facts = run_module(kata_env, {'config': config, 'gather_subset': ['config', 'hypervisor_version']})
    assert facts['ansible_facts']['kata_env']['hypervisor']['version'] == '<<unknown>>'


def test_runtime_path_that_cannot_be_executed_names_the_option(tmp_path, run_module):
    config = local_config(tmp_path, '#!/bin/sh\necho "QEMU emulator version 7.2.0"\n')
    runtime = tmp_path / 'kata-runtime'
    runtime.write_text('not a program\n')
    runtime.chmod(0o755)
    result = run_module(kata_env, {'config': config, 'runtime_path': str(runtime),
                                   'gather_subset': ['config', 'runtime_version']}, expect='fail')
    assert result['msg'] == 'runtime_path: cannot run %s: Exec format error' % runtime
    assert 'exception' not in result


def test_runtime_path_with_nul_names_the_option(tmp_path, run_module):
    config = local_config(tmp_path, '#!/bin/sh\necho "QEMU emulator version 7.2.0"\n')
    result = run_module(kata_env, {'config': config, 'runtime_path': '/usr/bin/kata\0runtime',
                                   'gather_subset': ['config', 'runtime_version']}, expect='fail')
    assert result['msg'] == "runtime_path: invalid path '/usr/bin/kata\\x00runtime': it contains a NUL character"
