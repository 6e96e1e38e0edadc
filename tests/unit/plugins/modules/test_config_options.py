# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The configuration options of kata_check, kata_env and kata_factory: ``runtime`` (a runtime handler), the default
lookup on node layouts (tests/kata_sim/sim_layouts.py), the EnvInfo format, and the one hypervisor list."""

from __future__ import annotations

import os
import shutil
import sys

import pytest
import yaml

from ansible_collections.katacontainers.kata.plugins.doc_fragments import _host
from ansible_collections.katacontainers.kata.plugins.module_utils._host_options import host_argument_spec
from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import HYPERVISOR_TYPES
from ansible_collections.katacontainers.kata.plugins.modules import kata_check, kata_env, kata_factory

SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim'))
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

import sim_layouts  # noqa: E402  pylint: disable=wrong-import-position

FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures'))
INTEL_MODULES = ('kvm', 'kvm_intel', 'vhost', 'vhost_net')


@pytest.mark.parametrize('module', [kata_check, kata_env, kata_factory])
def test_documented_hypervisor_choices_are_the_one_list(module):
    # The host modules take hypervisor and runtime from the shared doc fragment and argument spec, not their own.
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert 'katacontainers.kata._host' in doc['extends_documentation_fragment']
    assert 'hypervisor' not in doc['options'] and 'runtime' not in doc['options']
    options = yaml.safe_load(_host.ModuleDocFragment.DOCUMENTATION)['options']
    assert options['hypervisor']['choices'] == list(HYPERVISOR_TYPES)
    assert options['runtime']['type'] == 'str'
    spec = host_argument_spec()
    assert spec['hypervisor']['choices'] == list(HYPERVISOR_TYPES)
    assert set(spec) == set(options) | {'host_root'}


def node(tmp_path, kind, cpuinfo='amd64-intel-xeon-e5-2680v3.txt'):
    """A node layout under tmp_path/host with the host files the capability check reads."""
    root = tmp_path / 'host'
    manifest = sim_layouts.build(str(root), kind, assets=False)
    with open(os.path.join(FIXTURES, 'cpuinfo', cpuinfo), encoding='utf-8') as handle:
        files = {'proc/cpuinfo': handle.read(),
                 'proc/meminfo': 'MemTotal: 16318480 kB\nMemFree: 9316780 kB\nMemAvailable: 13250116 kB\n',
                 'proc/version': 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP\n',
                 'etc/os-release': 'NAME="Ubuntu"\nVERSION_ID="24.04"\n',
                 'sys/module/kvm_intel/parameters/unrestricted_guest': 'Y\n'}
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    for name in INTEL_MODULES:
        (root / 'sys' / 'module' / name).mkdir(parents=True, exist_ok=True)
    return str(root), dict((h['handler'], h) for h in manifest['handlers'])


def test_kata_check_default_options_on_a_kata_deploy_node(tmp_path, run_module):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never'})
    assert result['config_source'] == 'default:/opt/kata/share/defaults/kata-containers/configuration.toml'
    assert result['config']['path'] == handlers['kata-qemu']['config']
    assert (result['config']['runtime'], result['hypervisor'], result['capable']) == ('go', 'qemu', True)


def test_kata_check_runtime_handler(tmp_path, run_module):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'runtime': 'kata-clh'})
    assert result['config'] == dict(path=handlers['kata-clh']['config'], drop_ins=[], source='runtime:kata-clh',
                                    runtime='go', handler='kata-clh')
    assert result['config_source'] == 'runtime:kata-clh'
    assert result['hypervisor'] == 'clh'
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'runtime': 'kata-dragonball'})
    assert (result['hypervisor'], result['config']['runtime']) == ('dragonball', 'rust')


def test_kata_check_unknown_handler(tmp_path, run_module):
    root, handlers = node(tmp_path, 'crio')
    result = run_module(kata_check, {'host_root': root, 'runtime': 'kata-nope'}, expect='fail')
    assert result['msg'] == ("runtime: kata-nope is not a Kata runtime handler of this host's container engines; "
                             'the handlers found are: %s' % ', '.join(sorted(handlers)))


@pytest.mark.parametrize('module', [kata_check, kata_env, kata_factory])
def test_config_and_runtime_are_mutually_exclusive(tmp_path, run_module, module):
    result = run_module(module, {'config': '/etc/kata-containers/configuration.toml', 'runtime': 'kata-clh'},
                        expect='fail')
    assert result['msg'] == 'parameters are mutually exclusive: config|runtime'


def test_kata_env_on_a_kata_deploy_node(tmp_path, run_module):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    facts = run_module(kata_env, {'host_root': root})['ansible_facts']['kata_env']
    # kata-runtime is not run for another root: the 4.1.0 file's own keys make the format 1.0.27.
    assert facts['meta'] == {'version': '1.0.27'}
    assert facts['runtime']['config'] == dict(
        path=handlers['kata-qemu']['config'], runtime='go',
        source='default:/opt/kata/share/defaults/kata-containers/configuration.toml')
    assert facts['hypervisor']['cold_plug_vfio'] == 'no-port' and 'hotplug_vfio_on_root_bus' not in facts['hypervisor']
    facts = run_module(kata_env, {'host_root': root, 'runtime': 'kata-qemu-snp-runtime-rs'})['ansible_facts']['kata_env']
    assert facts['runtime']['config']['runtime'] == 'rust'
    assert facts['runtime']['config']['source'] == 'runtime:kata-qemu-snp-runtime-rs'
    assert facts['hypervisor']['shared_fs'] == 'none'
    assert facts['hypervisor']['security_info']['confidential_guest'] is True


@pytest.mark.parametrize('version, fixture, expected', [
    ('3.3.0', '3.0.0/runtime/configuration-qemu.toml', '1.0.27'),
    ('3.2.0', '4.1.0/runtime/configuration-qemu.toml', '1.0.26'),
    ('4.1.0', '4.1.0/runtime/configuration-qemu.toml', '1.0.27'),
])
def test_kata_env_format_follows_the_installed_runtime(tmp_path, run_module, version, fixture, expected):
    config = tmp_path / 'configuration.toml'
    shutil.copy(os.path.join(FIXTURES, 'kata-configs', fixture), str(config))
    runtime = tmp_path / 'kata-runtime'
    runtime.write_text(sim_layouts.kata_runtime_stub('4.1.0').replace('4.1.0', version))
    runtime.chmod(0o755)
    facts = run_module(kata_env, {'config': str(config), 'runtime_path': str(runtime),
                                  'gather_subset': ['config', 'runtime_version']})['ansible_facts']['kata_env']
    assert facts['meta'] == {'version': expected}
    assert facts['runtime']['version']['version']['semver'] == version
    assert ('security_info' in facts['hypervisor'], 'guest_selinux_label' in facts['runtime']) == (
        (True, True) if expected == '1.0.27' else (False, False))
    assert ('hotplug_vfio_on_root_bus' in facts['hypervisor']) is (expected == '1.0.26')


@pytest.mark.parametrize('role, option', [
    ('preflight', 'kata_preflight_hypervisor'), ('preflight', 'kata_preflight_required_hypervisor')])
def test_role_hypervisor_choices_are_the_one_list(role, option):
    path = os.path.join(os.path.dirname(FIXTURES), '..', 'roles', role, 'meta', 'argument_specs.yml')
    with open(path, encoding='utf-8') as handle:
        options = yaml.safe_load(handle)['argument_specs']['main']['options']
    assert options[option]['choices'] == list(HYPERVISOR_TYPES)


def test_kata_factory_refuses_a_runtime_rs_configuration(tmp_path, run_module):
    config = tmp_path / 'runtime-rs' / 'configuration.toml'
    config.parent.mkdir()
    shutil.copy(os.path.join(FIXTURES, 'kata-configs', '4.1.0', 'runtime-rs', 'configuration-qemu-runtime-rs.toml'),
                str(config))
    result = run_module(kata_factory, {'config': str(config), 'state': 'absent'}, expect='fail')
    assert result['msg'] == ("%s (option) is a runtime-rs configuration (found by location): the VM factory managed "
                             "here is the Go runtime's (kata-runtime factory); choose a Go runtime configuration or "
                             "handler" % config)


def test_kata_factory_unknown_runtime_handler(tmp_path, run_module, monkeypatch):
    from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
    monkeypatch.setattr(_runtimes, 'find_handlers', lambda host: ([], []))  # a host without container engines
    result = run_module(kata_factory, {'runtime': 'kata-qemu', 'state': 'absent'}, expect='fail')
    assert result['msg'] == ("runtime: kata-qemu is not a Kata runtime handler of this host's container engines; "
                             'none was found in the containerd or CRI-O configuration')
