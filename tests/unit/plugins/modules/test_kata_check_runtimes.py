# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_check with ``runtimes``: several runtime handlers in one call, each entry what a ``runtime: <handler>`` call
returns, on the node layouts of tests/kata_sim/sim_layouts.py (kata-deploy 4.1.0: 23 handlers)."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _check
from ansible_collections.katacontainers.kata.plugins.modules import kata_check
from ansible_collections.katacontainers.kata.tests.unit.plugins.modules.test_config_options import node

HANDLER_KEYS = ('handler', 'engine', 'runtime', 'source', 'handler_config', 'config_exists')


def single(run_module, root, handler, **options):
    """What a runtime: <handler> call returns (or fails with), as an entry of runtimes holds it."""
    args = dict(host_root=root, runtime=handler, fail_on_incapable=False, **options)
    result = run_module(kata_check, args)
    for key in ('changed', 'warnings'):
        result.pop(key, None)
    return result


def test_every_handler_of_a_kata_deploy_node_as_single_calls_give_it(tmp_path, run_module):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    # One handler whose configuration file is gone, as on the fleet's kata-deploy host.
    os.unlink(os.path.join(root, handlers['kata-fc']['config'].lstrip('/')))
    # As root the KVM test runs: the layout has no /dev/kvm, so it fails the same way for every KVM handler.
    result = run_module(kata_check, {'host_root': root, 'runtimes': ['all'], 'fail_on_incapable': False,
                                     'kvm_test': 'always'})
    assert len(handlers) == 23
    assert [e['handler'] for e in result['runtimes']] == list(handlers)
    assert result['changed'] is False
    assert result['arch'] == 'amd64'
    for entry in result['runtimes']:
        name = entry['handler']
        info = handlers[name]
        assert entry['engine'] == 'containerd'
        assert entry['runtime'] == info['runtime'] and entry['source'] == info['source']
        assert entry['handler_config'] == info['config']
        if name == 'kata-fc':
            assert entry['config_exists'] is False and entry['failed'] is True
            failure = run_module(kata_check, {'host_root': root, 'runtime': name}, expect='fail')
            assert entry['msg'] == failure['msg']
            assert set(entry) == set(HANDLER_KEYS) | {'failed', 'msg'}
            continue
        expected = single(run_module, root, name, kvm_test='always')
        assert dict((k, v) for k, v in entry.items() if k not in HANDLER_KEYS) == expected, name
        assert entry['config_exists'] is True
    kvm_entries = [e for e in result['runtimes'] if 'kvm' in e]
    assert kvm_entries and all(e['can_create_vm'] is False for e in kvm_entries)
    assert result['can_create_vm'] is False and result['kvm'] == kvm_entries[0]['kvm']
    # kata-fc failed: the host as a whole is not capable
    assert result['capable'] is False
    assert 'vm_creation' not in result['failed_checks']


def test_a_selection_in_the_engines_order_and_a_capable_host(tmp_path, run_module):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never',
                                     'runtimes': ['kata-dragonball', 'kata-clh', 'kata-clh']})
    order = list(handlers)
    assert [e['handler'] for e in result['runtimes']] == sorted(['kata-clh', 'kata-dragonball'], key=order.index)
    by_name = dict((e['handler'], e) for e in result['runtimes'])
    assert (by_name['kata-clh']['hypervisor'], by_name['kata-clh']['config']['runtime']) == ('clh', 'go')
    assert (by_name['kata-dragonball']['hypervisor'], by_name['kata-dragonball']['config']['runtime']) == \
        ('dragonball', 'rust')
    assert result['capable'] is True and result['can_create_vm'] is None and 'kvm' not in result
    assert result['failed_checks'] == [] and result['runtime_warnings'] == []


def test_the_host_files_are_read_once_and_the_kvm_test_runs_once(tmp_path, run_module, monkeypatch):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    reads, kvm_runs = [], []
    real_read = _check._probes.Host.read_text
    real_kvm = _check.run_kvm_test

    def counting_read(self, host_path, *args, **kwargs):
        reads.append(host_path)
        return real_read(self, host_path, *args, **kwargs)

    def counting_kvm(*args, **kwargs):
        kvm_runs.append(args)
        return real_kvm(*args, **kwargs)

    monkeypatch.setattr(_check._probes.Host, 'read_text', counting_read)
    monkeypatch.setattr(_check, 'run_kvm_test', counting_kvm)
    result = run_module(kata_check, {'host_root': root, 'runtimes': ['all'], 'kvm_test': 'always',
                                     'fail_on_incapable': False})
    assert len(result['runtimes']) == len(handlers)
    assert reads.count('/proc/cpuinfo') == 1
    assert len(kvm_runs) == 1


def test_fail_on_incapable_names_the_handlers(tmp_path, run_module):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    os.unlink(os.path.join(root, handlers['kata-fc']['config'].lstrip('/')))
    os.rmdir(os.path.join(root, 'sys', 'module', 'vhost_net'))
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'runtimes': ['kata-qemu', 'kata-fc']},
                        expect='fail')
    assert result['msg'].startswith('System is not capable of running Kata Containers (')
    assert 'kata-qemu: missing or wrong: vhost_net' in result['msg']
    assert 'kata-fc: runtime handler kata-fc (containerd, defined in ' in result['msg']
    assert [e['handler'] for e in result['runtimes']] == sorted(['kata-qemu', 'kata-fc'], key=list(handlers).index)


def test_check_mode_gives_the_same_result(tmp_path, run_module):
    root, dummy = node(tmp_path, 'kata-deploy-4.1.0')
    args = {'host_root': root, 'runtimes': ['all'], 'kvm_test': 'never', 'fail_on_incapable': False}
    normal = run_module(kata_check, dict(args))
    checked = run_module(kata_check, dict(args), check_mode=True)
    assert checked == normal and checked['changed'] is False


@pytest.mark.parametrize('args, message', [
    ({'runtimes': ['kata-qemu', 'kata-nope']},
     "runtimes: kata-nope is not a Kata runtime handler of this host's container engines; the handlers found are: "),
    ({'runtimes': ['kata-nope', 'kata-qemu', 'kata-nix']},
     "runtimes: kata-nope, kata-nix are not Kata runtime handlers of this host's container engines; the handlers "
     "found are: "),
    ({'runtimes': ['all', 'kata-qemu']},
     'runtimes: all selects every runtime handler and cannot be combined with names, got all, kata-qemu'),
    ({'runtimes': []}, 'runtimes: expected all or a non-empty list of runtime handler names, got []'),
    ({'runtimes': ['kata-qemu', ' ']}, "runtimes: expected all or a non-empty list of runtime handler names, got ['kata-qemu', ' ']"),
    ({'runtimes': ['all'], 'config': '/etc/kata-containers/configuration.toml'},
     'parameters are mutually exclusive: config|runtimes'),
    ({'runtimes': ['all'], 'runtime': 'kata-qemu'}, 'parameters are mutually exclusive: runtime|runtimes'),
])
def test_bad_input(tmp_path, run_module, args, message):
    root, handlers = node(tmp_path, 'kata-deploy-4.1.0')
    result = run_module(kata_check, dict(args, host_root=root, kvm_test='never'), expect='fail')
    assert result['msg'].startswith(message), result['msg']
    if 'kata-nope' in message:
        assert result['msg'] == message + ', '.join(handlers)
        assert result['handlers'] == list(handlers)


def test_a_host_without_handlers_gets_its_default_configuration(tmp_path, run_module):
    root, dummy = node(tmp_path, 'kata-deploy-4.1.0')
    shutil.rmtree(os.path.join(root, 'etc', 'containerd'))
    result = run_module(kata_check, {'host_root': root, 'runtimes': ['all'], 'kvm_test': 'never',
                                     'fail_on_incapable': False})
    expected = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'fail_on_incapable': False})
    for key in ('changed', 'warnings'):
        expected.pop(key)
    assert len(result['runtimes']) == 1
    entry = dict(result['runtimes'][0])
    assert [entry.pop(k) for k in HANDLER_KEYS] == [None] * len(HANDLER_KEYS)
    assert entry == expected
    assert entry['config_source'] == 'default:/opt/kata/share/defaults/kata-containers/configuration.toml'
    # the hypervisor option applies to that configuration: one without a [hypervisor.clh] table fails the entry as
    # it fails a single call
    result = run_module(kata_check, {'host_root': root, 'runtimes': ['all'], 'kvm_test': 'never', 'hypervisor': 'clh',
                                     'fail_on_incapable': False})
    failure = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'hypervisor': 'clh'}, expect='fail')
    assert failure['msg'].startswith('hypervisor clh was chosen but ')
    assert (result['runtimes'][0]['failed'], result['runtimes'][0]['msg']) == (True, failure['msg'])
    assert result['capable'] is False
    # a named selection has nothing to fall back to
    failure = run_module(kata_check, {'host_root': root, 'runtimes': ['kata-qemu'], 'kvm_test': 'never'}, expect='fail')
    assert failure['msg'] == ("runtimes: kata-qemu is not a Kata runtime handler of this host's container engines; "
                              'none was found in the containerd or CRI-O configuration')


@pytest.mark.parametrize('kind, runtimes, env_args', [
    ('kata-deploy-4.1.0', ['all'], {}),
    ('kata-deploy-4.1.0', ['kata-clh'], {'runtime': 'kata-clh'}),
    ('kata-deploy-4.1.0', None, {}),
])
def test_gather_env_returns_what_kata_env_returns(tmp_path, run_module, kind, runtimes, env_args):
    from ansible_collections.katacontainers.kata.plugins.modules import kata_env  # pylint: disable=import-outside-toplevel
    root, dummy = node(tmp_path, kind)
    subset = ['all', '!capability']
    args = {'host_root': root, 'kvm_test': 'never', 'fail_on_incapable': False, 'gather_env': subset}
    if runtimes:
        args['runtimes'] = runtimes
    result = run_module(kata_check, args)
    expected = run_module(kata_env, dict(env_args, host_root=root, gather_subset=subset))
    assert result['ansible_facts'] == expected['ansible_facts']
    assert expected['ansible_facts']['kata_env']['host']['kernel'] == '6.1.0-18-amd64'
    # without gather_env, no facts
    args.pop('gather_env')
    assert 'ansible_facts' not in run_module(kata_check, args)


def test_gather_env_bad_subset(tmp_path, run_module):
    root, dummy = node(tmp_path, 'kata-deploy-4.1.0')
    result = run_module(kata_check, {'host_root': root, 'runtimes': ['all'], 'gather_env': ['all', '!nope']},
                        expect='fail')
    assert result['msg'].startswith("gather_env: unknown subset '!nope'; expected all, ")
