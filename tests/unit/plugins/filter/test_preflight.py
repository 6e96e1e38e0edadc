# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight report filters: verdicts, policies, the fleet report, and its Markdown and HTML renderings.

Most inputs are results in the exact shape kata_check and kata_env return (see their RETURN docs); the last tests
take the real results of both modules' main() on host roots built from real /proc/cpuinfo dumps.
"""

from __future__ import annotations

import copy
import json
import shutil
from html.parser import HTMLParser

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.katacontainers.kata.plugins.plugin_utils import _preflight as preflight
from ansible_collections.katacontainers.kata.plugins.plugin_utils import _preflight_render as render
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import (
    normalize_policy,
    preflight_report,
    preflight_verdict,
    version_at_least,
)
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight_render import (
    preflight_html,
    preflight_markdown,
)
from ansible_collections.katacontainers.kata.tests.unit.ansible_compat import patch_module_args, set_controller_context


def _row(kind, name, description, ok=True, required=True, found=None, expected=None, detail=None):
    if detail is None:
        detail = {'attribute': 'CPU property found', 'flag': 'CPU property found', 'module': 'kernel property found',
                  'module_parameter': 'Kernel property value correct'}.get(kind, '') if ok else \
            {'attribute': 'CPU property not found', 'flag': 'CPU property not found',
             'module': 'kernel property %s not found' % name,
             'module_parameter': 'kernel module parameter has unexpected value'}.get(kind, '')
    return dict(type=kind, name=name, description=description, required=required, ok=ok, found=found,
                expected=expected, detail=detail)


def intel_check(missing=(), unrestricted='Y', vsock=True, can_create_vm=True, hypervisor='qemu'):
    """A kata_check result for an Intel bare-metal host, as the module returns it."""
    checks = [
        _row('attribute', 'GenuineIntel', 'Intel Architecture CPU'),
        _row('flag', 'vmx', 'Virtualization support', ok='vmx' not in missing),
        _row('flag', 'lm', '64Bit CPU'),
        _row('flag', 'sse4_1', 'SSE4.1'),
        _row('module', 'kvm', 'Kernel-based Virtual Machine'),
        _row('module', 'kvm_intel', 'Intel KVM'),
        _row('module_parameter', 'unrestricted_guest', 'Intel KVM parameter unrestricted_guest', ok=unrestricted == 'Y',
             found=unrestricted, expected='Y'),
        _row('module', 'vhost', 'Host kernel accelerator for virtio', ok='vhost' not in missing),
        _row('module', 'vhost_net', 'Host kernel accelerator for virtio network', ok='vhost_net' not in missing),
        _row('module', 'vhost_vsock', 'Host Support for Linux VM Sockets', ok=vsock, required=False),
    ]
    failed = [c['name'] for c in checks if c['required'] and not c['ok']]
    result = dict(changed=False, capable=not failed, can_create_vm=can_create_vm, checks=checks, failed_checks=failed,
                  arch='amd64', cpu_vendor='GenuineIntel', hypervisor=hypervisor,
                  config={'path': '/usr/share/defaults/kata-containers/configuration.toml', 'drop_ins': []},
                  messages=['System is capable of running Kata Containers' if not failed else
                            'ERROR: System is not capable of running Kata Containers'])
    if can_create_vm is not None:
        result['kvm'] = dict(ok=can_create_vm, device='/dev/kvm', api_version=12 if can_create_vm else None,
                             can_create_vm=can_create_vm, ipa_size=None, errno=None if can_create_vm else 2,
                             error=None if can_create_vm else 'cannot open /dev/kvm: No such file or directory')
        result['messages'].append('System can currently create Kata Containers' if can_create_vm
                                  else 'ERROR: cannot open /dev/kvm: No such file or directory')
    return result


def arm_check():
    checks = [_row('module', 'kvm', 'Kernel-based Virtual Machine'),
              _row('module', 'vhost', 'Host kernel accelerator for virtio'),
              _row('module', 'vhost_net', 'Host kernel accelerator for virtio network'),
              _row('module', 'vhost_vsock', 'Host Support for Linux VM Sockets', required=False)]
    return dict(changed=False, capable=True, can_create_vm=None, checks=checks, failed_checks=[], arch='arm64',
                cpu_vendor='ARM', hypervisor='qemu', config=None, messages=['System is capable of running Kata Containers'])


def amd_check():
    checks = [_row('attribute', 'AuthenticAMD', 'AMD Architecture CPU'),
              _row('flag', 'svm', 'Virtualization support', ok=False),
              _row('flag', 'lm', '64Bit CPU'),
              _row('flag', 'sse4_1', 'SSE4.1'),
              _row('module', 'kvm', 'Kernel-based Virtual Machine'),
              _row('module', 'kvm_amd', 'AMD KVM', ok=False),
              _row('module', 'vhost', 'Host kernel accelerator for virtio'),
              _row('module', 'vhost_net', 'Host kernel accelerator for virtio network'),
              _row('module', 'vhost_vsock', 'Host Support for Linux VM Sockets', required=False)]
    return dict(changed=False, capable=False, can_create_vm=None, checks=checks, failed_checks=['svm', 'kvm_amd'],
                arch='amd64', cpu_vendor='AuthenticAMD', hypervisor='qemu', config=None,
                messages=['ERROR: System is not capable of running Kata Containers'])


def env_result(kernel='6.1.0-18-amd64', kata='3.2.0', vendor='GenuineIntel', model='Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz',
               arch='amd64'):
    """A kata_env result, as the module returns it."""
    facts = dict(
        kernel={'path': '/usr/share/kata-containers/vmlinux.container', 'parameters': ''},
        meta={'version': '1.0.26'}, image={'path': '/usr/share/kata-containers/kata-containers.img'},
        initrd={'path': ''},
        hypervisor={'machine_type': 'q35', 'version': 'QEMU emulator version 7.2.0', 'path': '/usr/bin/qemu-system-x86_64'},
        runtime={'config': {'path': '/usr/share/defaults/kata-containers/configuration.toml'},
                 'path': '/usr/bin/kata-runtime',
                 'version': {'oci': '1.0.2-dev', 'version': None if kata is None else
                             {'semver': kata, 'commit': '', 'major': 3, 'minor': 2, 'patch': 0}}},
        host={'available_guest_protections': ['none'], 'kernel': kernel, 'architecture': arch,
              'distro': {'name': 'Debian GNU/Linux', 'version': '12'},
              'cpu': {'vendor': vendor, 'model': model, 'cpus': 24},
              'memory': {'total': 16318480, 'free': 9316780, 'available': 13250116},
              'vm_container_capable': None, 'support_vsocks': True},
        agent={'debug': False, 'trace': False}, warnings=[])
    return dict(changed=False, ansible_facts={'kata_env': facts})


UNREACHABLE = dict(unreachable=True, changed=False,
                   msg='Failed to connect to the host via ssh: ssh: connect to host 127.0.0.40 port 2222: Connection refused')


# ---------------------------------------------------------------------------------------------------------------
# versions and policy

@pytest.mark.parametrize('found, minimum, kernel, expected', [
    ('6.1.0-18-amd64', '5.10', True, True),
    ('5.10.0-28-amd64', '5.10', True, True),
    ('5.4.0-150-generic', '5.10', True, False),
    ('3.10.0-514.el7.ppc64le', '4', True, False),
    ('5.10', '5.10.1', True, False),
    ('4.18.0-348.el8.ppc64le', '4.18.0', True, True),
    ('6.1.0-rc7', '6.1', True, True),  # a kernel's suffix is a build tag, not a pre-release
    ('3.2.0', '3.2', False, True),
    ('3.2.0-rc0', '3.2.0', False, False),
    ('3.2.0-rc0', '3.2.0-rc0', False, True),
    ('3.10.0', '3.9.9', False, True),
    ('2.5.2', '3.0', False, False),
    (None, '3.0', False, None),
    ('unknown', '5.10', True, None),
])
def test_version_at_least(found, minimum, kernel, expected):
    assert version_at_least(found, minimum, kernel=kernel) is expected


def test_default_policy():
    assert normalize_policy(None) == {'required_hypervisor': None, 'min_kernel': None, 'min_kata_version': None,
                                      'require_vm_creation': False, 'require_vhost_vsock': False, 'waived_checks': []}
    assert normalize_policy({'required_hypervisor': '', 'min_kernel': None, 'waived_checks': ['vmx', 'smt', 'vmx']}) == {
        'required_hypervisor': None, 'min_kernel': None, 'min_kata_version': None, 'require_vm_creation': False,
        'require_vhost_vsock': False, 'waived_checks': ['smt', 'vmx']}


@pytest.mark.parametrize('policy, message', [
    ({'min_kernel': 'latest'}, "kata_preflight_min_kernel: 'latest' is not a version"),
    ({'min_kata_version': 'three'}, "kata_preflight_min_kata_version: 'three' is not a version"),
    ({'require_vm_creation': 'yes'}, "kata_preflight_require_vm_creation: 'yes' is not a boolean"),
    ({'waived_checks': 'vmx'}, "kata_preflight_waived_checks: expected a list of check names, got 'vmx'"),
    ({'min_kernal': '5.10'}, 'policy: unknown key(s) min_kernal; expected required_hypervisor, min_kernel'),
    (['min_kernel'], 'policy must be a dictionary'),
])
def test_bad_policy(policy, message):
    with pytest.raises(AnsibleFilterError) as exc_info:
        normalize_policy(policy)
    assert message in str(exc_info.value)


# ---------------------------------------------------------------------------------------------------------------
# one host

def test_capable_host():
    verdict = preflight_verdict(intel_check(), env_result(), host='node1')
    assert verdict['status'] == 'capable'
    assert verdict['capable'] is True
    assert verdict['kata_capable'] is True
    assert verdict['reachable'] is True
    assert verdict['can_create_vm'] is True
    assert verdict['failed_checks'] == []
    assert verdict['reasons'] == []
    assert verdict['error'] is None
    assert [(r['id'], r['state']) for r in verdict['checks']] == [
        ('GenuineIntel', 'ok'), ('vmx', 'ok'), ('lm', 'ok'), ('sse4_1', 'ok'), ('kvm', 'ok'), ('kvm_intel', 'ok'),
        ('unrestricted_guest', 'ok'), ('vhost', 'ok'), ('vhost_net', 'ok'), ('vhost_vsock', 'ok'), ('vm_creation', 'ok')]
    assert verdict['facts'] == {
        'arch': 'amd64', 'kernel': '6.1.0-18-amd64', 'distro': 'Debian GNU/Linux 12', 'cpu_vendor': 'GenuineIntel',
        'cpu_model': 'Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz', 'cpus': 24, 'memory_total_kb': 16318480,
        'hypervisor': 'qemu', 'hypervisor_path': '/usr/bin/qemu-system-x86_64',
        'hypervisor_version': 'QEMU emulator version 7.2.0', 'kata_version': '3.2.0', 'kata_runtime': '/usr/bin/kata-runtime',
        'config': '/usr/share/defaults/kata-containers/configuration.toml', 'support_vsocks': True,
        'guest_protections': ['none'], 'kvm_api_version': 12}
    assert verdict['messages'] == ['System is capable of running Kata Containers', 'System can currently create Kata Containers']
    assert json.loads(json.dumps(verdict)) == verdict


def test_incapable_host_has_kata_reasons():
    verdict = preflight_verdict(intel_check(missing=('vhost', 'vhost_net'), unrestricted='N', vsock=False), env_result(),
                                host='node2')
    assert verdict['status'] == 'not_capable'
    assert verdict['capable'] is False
    assert verdict['kata_capable'] is False
    assert verdict['failed_checks'] == ['unrestricted_guest', 'vhost', 'vhost_net']
    assert verdict['reasons'] == [
        'unrestricted_guest (Intel KVM parameter unrestricted_guest): kernel module parameter has unexpected value '
        '(found N, expected Y)',
        'vhost (Host kernel accelerator for virtio): kernel property vhost not found',
        'vhost_net (Host kernel accelerator for virtio network): kernel property vhost_net not found',
    ]
    # vhost_vsock is optional for kata: a warning, not a failure
    assert [r['state'] for r in verdict['checks'] if r['id'] == 'vhost_vsock'] == ['warn']


def test_vm_creation_failure_makes_a_capable_host_not_capable():
    verdict = preflight_verdict(intel_check(can_create_vm=False), env_result(), host='nokvm')
    assert verdict['kata_capable'] is True
    assert verdict['status'] == 'not_capable'
    assert verdict['can_create_vm'] is False
    assert verdict['failed_checks'] == ['vm_creation']
    assert verdict['reasons'] == ['cannot create a VM: cannot open /dev/kvm: No such file or directory']


def test_vm_creation_not_tested():
    verdict = preflight_verdict(intel_check(can_create_vm=None), env_result())
    assert verdict['status'] == 'capable'
    assert [r['state'] for r in verdict['checks'] if r['id'] == 'vm_creation'] == ['untested']
    strict = preflight_verdict(intel_check(can_create_vm=None), env_result(), policy={'require_vm_creation': True})
    assert strict['status'] == 'not_capable'
    assert strict['failed_checks'] == ['vm_creation']
    assert strict['reasons'] == ['VM creation was not tested and kata_preflight_require_vm_creation is set: run as root '
                                 '(become) or set kata_preflight_kvm_test=always']


def test_waived_checks_do_not_count():
    verdict = preflight_verdict(intel_check(unrestricted='N', can_create_vm=False), env_result(),
                                policy={'waived_checks': ['unrestricted_guest', 'vm_creation']})
    assert verdict['status'] == 'capable'
    assert verdict['kata_capable'] is False  # kata's own verdict is kept as it is
    assert [(r['id'], r['state']) for r in verdict['checks'] if r['state'] != 'ok'] == [
        ('unrestricted_guest', 'waived'), ('vm_creation', 'waived')]


def test_policies():
    policy = {'required_hypervisor': 'clh', 'min_kernel': '6.2', 'min_kata_version': '3.3', 'require_vhost_vsock': True}
    verdict = preflight_verdict(intel_check(vsock=False), env_result(), policy=policy, host='old')
    assert verdict['status'] == 'not_capable'
    assert verdict['kata_capable'] is True
    assert verdict['failed_checks'] == ['vhost_vsock', 'policy_hypervisor', 'policy_kernel', 'policy_kata_version']
    assert verdict['reasons'] == [
        'vhost_vsock (Host Support for Linux VM Sockets): kernel property vhost_vsock not found, required by '
        'kata_preflight_require_vhost_vsock',
        'hypervisor is qemu, the policy requires clh (kata_preflight_required_hypervisor)',
        'kernel 6.1.0-18-amd64 is older than 6.2 (kata_preflight_min_kernel)',
        'Kata Containers 3.2.0 is older than 3.3 (kata_preflight_min_kata_version)',
    ]
    rows = dict((r['id'], r) for r in verdict['checks'])
    assert rows['policy_kernel']['found'] == '6.1.0-18-amd64'
    assert rows['policy_kernel']['expected'] == '>= 6.2'
    assert verdict['policy'] == {'required_hypervisor': 'clh', 'min_kernel': '6.2', 'min_kata_version': '3.3',
                                 'require_vm_creation': False, 'require_vhost_vsock': True, 'waived_checks': []}

    met = preflight_verdict(intel_check(), env_result(), host='new',
                            policy={'required_hypervisor': 'qemu', 'min_kernel': '5.10', 'min_kata_version': '3.0',
                                    'require_vhost_vsock': True})
    assert met['status'] == 'capable'
    assert [(r['id'], r['state'], r['detail']) for r in met['checks'] if r['type'] == 'policy'] == [
        ('policy_hypervisor', 'ok', 'hypervisor is qemu'),
        ('policy_kernel', 'ok', 'kernel 6.1.0-18-amd64 is 5.10 or newer'),
        ('policy_kata_version', 'ok', 'Kata Containers 3.2.0 is 3.0 or newer')]


def test_unknown_kata_version_fails_a_version_policy():
    verdict = preflight_verdict(intel_check(), env_result(kata=None), policy={'min_kata_version': '3.0'})
    assert verdict['failed_checks'] == ['policy_kata_version']
    assert verdict['reasons'] == [
        'Kata Containers version is unknown (no kata-runtime found; versions are only read with '
        'kata_preflight_host_root=/), the policy requires 3.0 or newer (kata_preflight_min_kata_version)']


def test_unreachable_host():
    verdict = preflight_verdict(UNREACHABLE, None, host='gone')
    assert verdict['status'] == 'unreachable'
    assert verdict['reachable'] is False
    assert verdict['capable'] is None
    assert verdict['can_create_vm'] is None
    assert verdict['checks'] == []
    assert verdict['failed_checks'] == []
    assert verdict['error'] == UNREACHABLE['msg']
    assert verdict['reasons'] == ['unreachable: ' + UNREACHABLE['msg']]
    assert set(verdict['facts'].values()) == {None}


def test_module_failure():
    check = dict(failed=True, changed=False,
                 msg='host_root: /srv/roots/gone is not a directory; expected the root directory of a host')
    verdict = preflight_verdict(check, dict(skipped=True, changed=False), host='broken')
    assert verdict['status'] == 'failed'
    assert verdict['reachable'] is True
    assert verdict['capable'] is None
    assert verdict['error'] == ('kata_check failed: host_root: /srv/roots/gone is not a directory; '
                                'expected the root directory of a host')
    assert verdict['reasons'] == [verdict['error']]
    assert verdict['checks'] == []


@pytest.mark.parametrize('check, env, error', [
    (None, None, 'kata_check did not run'),
    (dict(skipped=True, changed=False), None, 'kata_check did not run'),
    (intel_check(), dict(skipped=True, changed=False), 'kata_env did not run'),
    (intel_check(), None, 'kata_env did not run'),
    (dict(changed=False), env_result(), 'kata_check failed: no message'),
])
def test_missing_results(check, env, error):
    verdict = preflight_verdict(check, env)
    assert (verdict['status'], verdict['error']) == ('failed', error)


def test_connection_error_prefix_is_dropped():
    result = dict(UNREACHABLE, msg='Task failed: Data could not be sent to remote host "127.0.0.27".')
    assert preflight_verdict(result)['error'] == 'Data could not be sent to remote host "127.0.0.27".'


def test_unreachable_on_the_second_task():
    verdict = preflight_verdict(intel_check(), UNREACHABLE)
    assert (verdict['status'], verdict['reachable'], verdict['error']) == ('unreachable', False, UNREACHABLE['msg'])


def test_env_failure_keeps_the_checks():
    env = dict(failed=True, msg='Cannot parse /etc/kata-containers/configuration.toml: Invalid value (at line 3)')
    verdict = preflight_verdict(intel_check(), env)
    assert verdict['status'] == 'failed'
    assert verdict['error'] == 'kata_env failed: ' + env['msg']
    assert verdict['kata_capable'] is True
    assert len(verdict['checks']) == 11
    assert verdict['facts']['kernel'] is None
    assert verdict['facts']['hypervisor'] == 'qemu'


def test_bad_inputs():
    with pytest.raises(AnsibleFilterError, match='check must be a dictionary'):
        preflight_verdict('ok', None)
    with pytest.raises(AnsibleFilterError, match='the input must be the list of hosts'):
        preflight_report('node1', {})
    with pytest.raises(AnsibleFilterError, match='hostvars must be a mapping'):
        preflight_report(['node1'], ['node1'])
    with pytest.raises(AnsibleFilterError, match='the input must be a report made by katacontainers.kata.preflight_report'):
        preflight_html({'hosts': []})
    with pytest.raises(AnsibleFilterError, match='preflight_markdown: the input must be a report'):
        preflight_markdown(None)


# ---------------------------------------------------------------------------------------------------------------
# the fleet

def fleet_hostvars():
    return {
        'intel': {'kata_preflight_verdict': preflight_verdict(intel_check(), env_result(), host='intel'), 'other': 1},
        'amd': {'kata_preflight_verdict': preflight_verdict(amd_check(), env_result(vendor='AuthenticAMD', model='AMD EPYC'),
                                                            host='amd')},
        'arm': {'kata_preflight_verdict': preflight_verdict(arm_check(), env_result(arch='arm64', vendor='ARM',
                                                                                    model='Cortex-A57'), host='arm')},
        'gone': {'kata_preflight_verdict': preflight_verdict(UNREACHABLE, None, host='gone')},
        'early': {},
    }


def test_report_summary_and_order():
    report = preflight_report(['intel', 'amd', 'arm', 'gone', 'early'], fleet_hostvars(),
                              active_hosts=['intel', 'amd', 'arm', 'gone'])
    assert report['format'] == 1
    assert report['generator'] == 'katacontainers.kata.preflight'
    assert report['complete'] is True
    assert report['summary'] == {'total': 5, 'capable': 2, 'not_capable': 1, 'unreachable': 1, 'failed': 1, 'pending': 0,
                                 'runtimes': {'total': 3, 'capable': 2, 'not_capable': 1, 'failed': 0}}
    # hosts without engine handlers: one verdict each, for the configuration the default lookup found
    assert [[(r['handler'], r['status'], r['config']) for r in h['runtimes']] for h in report['hosts']] == [
        [(None, 'capable', '/usr/share/defaults/kata-containers/configuration.toml')], [(None, 'not_capable', None)],
        [(None, 'capable', None)], [], []]
    assert [(h['host'], h['status']) for h in report['hosts']] == [
        ('intel', 'capable'), ('amd', 'not_capable'), ('arm', 'capable'), ('gone', 'unreachable'), ('early', 'failed')]
    early = report['hosts'][4]
    assert early['reasons'] == ['left the play before the preflight checks ran (it failed or was unreachable in an '
                                'earlier task)']
    assert early['reachable'] is None
    assert 'generated_at' not in report


def test_report_columns_merge_every_host_in_check_order():
    report = preflight_report(['intel', 'amd', 'arm'], fleet_hostvars())
    assert [c['id'] for c in report['columns']] == [
        'GenuineIntel', 'AuthenticAMD', 'vmx', 'svm', 'lm', 'sse4_1', 'kvm', 'kvm_intel', 'unrestricted_guest', 'kvm_amd',
        'vhost', 'vhost_net', 'vhost_vsock', 'vm_creation']
    assert report['columns'][-1] == {'id': 'vm_creation', 'label': 'VM creation', 'type': 'kvm',
                                     'description': preflight.EXTRA_COLUMNS['vm_creation'][1]}
    assert report['columns'][3] == {'id': 'svm', 'label': 'svm', 'type': 'flag', 'description': 'Virtualization support'}


def test_pending_hosts_make_a_partial_report():
    report = preflight_report(['intel', 'early'], fleet_hostvars(), active_hosts=['intel', 'early'], generated_at='2026-01-02')
    assert report['complete'] is False
    assert report['summary']['pending'] == 1
    assert report['hosts'][1]['status'] == 'pending'
    assert report['generated_at'] == '2026-01-02'
    assert 'partial' in preflight_markdown(report)


def test_one_host():
    report = preflight_report(['intel'], fleet_hostvars())
    assert ('**1 host: 1 capable, 0 not capable, 0 unreachable, 0 failed; 1 runtime handler checked: 1 capable, '
            '0 not capable, 0 failed**') in preflight_markdown(report)
    page = parse(preflight_html(report))
    assert [e['text'] for e in page.find('div', data_status='total')] == ['1host']


def test_a_verdict_that_is_not_one_is_ignored():
    hostvars = {'a': {'kata_preflight_verdict': {'status': 'great'}}}
    report = preflight_report(['a', 'a'], hostvars, active_hosts=[])
    assert [(h['host'], h['status']) for h in report['hosts']] == [('a', 'failed')]


def small_report():
    hostvars = fleet_hostvars()
    hostvars['pipe|host'] = {'kata_preflight_verdict': preflight_verdict(
        intel_check(can_create_vm=False), env_result(kernel='5.4.0-150-generic'), policy={'min_kernel': '5.10'},
        host='pipe|host')}
    return preflight_report(['intel', 'amd', 'gone', 'pipe|host'], hostvars)


def test_markdown():
    text = preflight_markdown(small_report())
    assert text == '\n'.join([
        '# Kata Containers fleet readiness',
        '',
        '**4 hosts: 1 capable, 2 not capable, 1 unreachable, 0 failed; 3 runtime handlers checked: 1 capable, '
        '2 not capable, 0 failed**',
        '',
        '| Status | Hosts |',
        '|---|---:|',
        '| capable | 1 |',
        '| not capable | 2 |',
        '| unreachable | 1 |',
        '| failed | 0 |',
        '',
        '## Hosts',
        '',
        '| Host | Verdict | Failed checks | Kernel | CPU | Hypervisor | Kata |',
        '|---|---|---|---|---|---|---|',
        '| intel | capable | - | 6.1.0-18-amd64 | GenuineIntel Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz | qemu | 3.2.0 |',
        '| amd | not capable | svm, kvm\\_amd | 6.1.0-18-amd64 | AuthenticAMD AMD EPYC | qemu | 3.2.0 |',
        '| gone | unreachable | - | - | - | - | - |',
        '| pipe\\|host | not capable | vm\\_creation, policy\\_kernel | 5.4.0-150-generic | GenuineIntel Intel(R) Xeon(R) '
        'CPU E5-2680 v3 @ 2.50GHz | qemu | 3.2.0 |',
        '',
        '## Runtime handlers',
        '',
        '| Host | Handler | Runtime | Hypervisor | Configuration | Verdict | Failed checks |',
        '|---|---|---|---|---|---|---|',
        '| intel | (default) | unknown | qemu | /usr/share/defaults/kata-containers/configuration.toml | capable | - |',
        '| amd | (default) | unknown | qemu | none found | not capable | svm, kvm\\_amd |',
        '| gone | - | - | - | - | unreachable | - |',
        '| pipe\\|host | (default) | unknown | qemu | /usr/share/defaults/kata-containers/configuration.toml | not capable '
        '| vm\\_creation |',
        '',
        '## Why hosts are not ready',
        '',
        '### amd: not capable',
        '',
        '- svm (Virtualization support): CPU property not found',
        '- kvm\\_amd (AMD KVM): kernel property kvm\\_amd not found',
        '',
        '### gone: unreachable',
        '',
        '- unreachable: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.40 port 2222: Connection refused',
        '',
        '### pipe\\|host: not capable',
        '',
        '- cannot create a VM: cannot open /dev/kvm: No such file or directory',
        '- kernel 5.4.0-150-generic is older than 5.10 (kata\\_preflight\\_min\\_kernel)',
        '',
        'Legend of the HTML matrix: \u2713 passed, \u2717 failed, ! optional requirement not met, ~ failed, waived by '
        'policy, ? not tested, \u00b7 not checked on this host.',
        ''])


class Page(HTMLParser):
    """Collects what the HTML tests look at: elements with their attributes and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.stack = []
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        element = dict(tag=tag, attrs=dict(attrs), text='')
        self.tags.add(tag)
        self.elements.append(element)
        if tag not in ('meta', 'br', 'img', 'link', 'input'):
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            element = self.stack.pop()
            if element['tag'] == tag:
                break

    def handle_data(self, data):
        for element in self.stack:
            element['text'] += data

    def find(self, tag=None, **attrs):
        return [e for e in self.elements if (tag is None or e['tag'] == tag)
                and all(e['attrs'].get(k.replace('_', '-')) == v for k, v in attrs.items())]


def parse(text):
    page = Page()
    page.feed(text)
    page.close()
    return page


def test_html_summary_matrix_and_details():
    report = small_report()
    page = parse(preflight_html(report))
    counts = dict((e['attrs']['data-status'], e['text']) for e in page.find('div') if 'data-status' in e['attrs'])
    assert counts == {'total': '4hosts', 'capable': '1capable', 'not_capable': '2not capable',
                      'unreachable': '1unreachable', 'failed': '0failed'}
    header = [e['attrs']['data-check'] for e in page.find('th') if 'data-check' in e['attrs']]
    assert header == [c['id'] for c in report['columns']]

    def cell(host, check):
        row_cells = [id(e) for e in _row_cells(page, host)]
        rows = [e for e in page.find('td', data_check=check) if id(e) in row_cells]
        assert len(rows) == 1
        return rows[0]['attrs']['data-state'], rows[0]['attrs']['class'], rows[0]['text']

    assert cell('amd', 'svm') == ('fail', 'fail', '\u2717')
    assert cell('amd', 'vmx') == ('na', 'na', '\u00b7')
    assert cell('intel', 'vmx') == ('ok', 'ok', '\u2713')
    assert cell('pipe|host', 'vm_creation') == ('fail', 'fail', '\u2717')
    assert cell('pipe|host', 'policy_kernel') == ('fail', 'fail', '\u2717')
    assert cell('intel', 'policy_kernel') == ('na', 'na', '\u00b7')
    assert cell('amd', 'vm_creation') == ('untested', 'untested', '?')
    gone = [e for e in page.find('td') if e['attrs'].get('class') == 'none']
    assert [e['text'] for e in gone] == ['unreachable: ' + UNREACHABLE['msg']]
    handlers = [(e['attrs']['data-host'], e['attrs']['data-handler'], e['attrs']['data-status'])
                for e in page.find('tr') if 'data-handler' in e['attrs']]
    assert handlers == [('intel', '', 'capable'), ('amd', '', 'not_capable'), ('gone', '', 'unreachable'),
                        ('pipe|host', '', 'not_capable')]
    assert [e['text'] for e in page.find('td', **{'class': 'nohandler'})] == ['unreachable: ' + UNREACHABLE['msg']]
    assert [e['text'] for e in page.find('td', **{'class': 'failed'})] == ['', 'svm, kvm_amd', 'vm_creation']
    articles = page.find('article')
    assert [(a['attrs']['data-host'], a['attrs']['class']) for a in articles] == [
        ('intel', 'host capable'), ('amd', 'host not_capable'), ('gone', 'host unreachable'),
        ('pipe|host', 'host not_capable')]
    assert 'Kernel6.1.0-18-amd64' in articles[0]['text']
    assert 'Kata Containers3.2.0 (/usr/bin/kata-runtime)' in articles[0]['text']
    assert 'HypervisorQEMU' not in articles[0]['text']
    assert 'Hypervisorqemu (/usr/bin/qemu-system-x86_64, QEMU emulator version 7.2.0)' in articles[0]['text']


def _row_cells(page, host):
    """The <td> elements of the matrix row of ``host`` (document order: a row's cells follow its <tr>)."""
    cells = []
    inside = False
    for element in page.elements:
        if element['tag'] == 'tr':
            inside = element['attrs'].get('data-host') == host
        elif inside and element['tag'] == 'td':
            cells.append(element)
    return cells


def test_html_is_self_contained_and_escaped():
    hostvars = {'<script>alert(1)</script>': {'kata_preflight_verdict': preflight_verdict(
        UNREACHABLE, None, host='<script>alert(1)</script>')}}
    text = preflight_html(preflight_report(['<script>alert(1)</script>'], hostvars))
    assert '<script>' not in text
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in text
    page = parse(text)
    assert page.tags.isdisjoint({'script', 'link', 'img', 'iframe', 'object', 'embed'})
    for element in page.elements:
        for name, value in element['attrs'].items():
            if name in ('src', 'href'):
                assert value.startswith('#'), (name, value)
    assert 'http:' not in text and 'https:' not in text and 'url(' not in text and '@import' not in text
    assert page.find('meta', http_equiv='Content-Security-Policy')[0]['attrs']['content'].startswith("default-src 'none'")


def test_report_input_is_not_modified():
    hostvars = fleet_hostvars()
    before = copy.deepcopy(hostvars)
    report = preflight_report(['intel', 'amd'], hostvars)
    preflight_html(report)
    preflight_markdown(report)
    assert hostvars == before


# ---------------------------------------------------------------------------------------------------------------
# with the real modules

def _module_result(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def make_root(tmp_path, name, cpuinfo, modules, params=None, kernel='6.1.0-18-amd64'):
    root = tmp_path / name
    files = {'proc/cpuinfo': cpuinfo,
             'proc/meminfo': 'MemTotal: 16318480 kB\nMemFree: 9316780 kB\nMemAvailable: 13250116 kB\n',
             'proc/version': 'Linux version %s (builder@example) #1 SMP\n' % kernel,
             'etc/os-release': 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n'}
    for (module, param), value in (params or {}).items():
        files['sys/module/%s/parameters/%s' % (module, param)] = value
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    for module in modules:
        (root / 'sys' / 'module' / module).mkdir(parents=True, exist_ok=True)
    return str(root)


def test_verdicts_from_the_real_modules(tmp_path, cpuinfo_fixture, capsys, monkeypatch):
    from ansible_collections.katacontainers.kata.plugins.modules import kata_check, kata_env

    set_controller_context(monkeypatch, False)  # the modules run in their own context (conftest.py)

    roots = {
        'xeon': make_root(tmp_path, 'xeon', cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'),
                          ('kvm', 'kvm_intel', 'vhost', 'vhost_net', 'vhost_vsock'), {('kvm_intel', 'unrestricted_guest'): 'Y\n'}),
        'ryzen-guest': make_root(tmp_path, 'ryzen-guest', cpuinfo_fixture('amd64-amd-kvm-guest-ryzen7-2700x.txt'),
                                 ('kvm', 'vhost', 'vhost_net')),
        'z14': make_root(tmp_path, 'z14', cpuinfo_fixture('s390x-ibm-z14.txt'), ('kvm',), kernel='5.14.21-150500.53-default'),
    }
    hostvars = {}
    for host, root in roots.items():
        check = _module_result(kata_check, {'host_root': root, 'kvm_test': 'never', 'fail_on_incapable': False}, capsys)
        env = _module_result(kata_env, {'host_root': root, 'gather_subset': ['all', '!capability']}, capsys)
        verdict = preflight_verdict(check, env, policy={'min_kernel': '5.15'}, host=host)
        hostvars[host] = {'kata_preflight_verdict': json.loads(json.dumps(verdict))}
    report = preflight_report(list(roots), hostvars, active_hosts=list(roots))
    assert [(h['host'], h['status'], h['kata_capable'], h['failed_checks']) for h in report['hosts']] == [
        ('xeon', 'capable', True, []),
        ('ryzen-guest', 'not_capable', False, ['svm', 'kvm_amd']),
        ('z14', 'not_capable', True, ['policy_kernel']),
    ]
    xeon, dummy, z14 = report['hosts']
    assert xeon['facts']['cpu_model'] == 'Intel(R) Xeon(R) CPU E5-2680 v3 @ 2.50GHz'
    assert xeon['facts']['cpus'] == 24
    assert xeon['facts']['kernel'] == '6.1.0-18-amd64'
    assert xeon['facts']['kata_version'] is None
    assert xeon['warnings'][0].startswith('No Kata configuration file found')
    assert z14['facts']['arch'] == 's390x'
    assert z14['facts']['cpu_vendor'] == 'IBM/S390'
    assert z14['reasons'] == ['kernel 5.14.21-150500.53-default is older than 5.15 (kata_preflight_min_kernel)']
    assert [c['id'] for c in report['columns']] == [
        'GenuineIntel', 'AuthenticAMD', 'vmx', 'svm', 'lm', 'sse4_1', 'kvm', 'kvm_intel', 'unrestricted_guest', 'kvm_amd',
        'vhost', 'vhost_net', 'vhost_vsock', 'vm_creation', 'policy_kernel']


# ---------------------------------------------------------------------------------------------------------------
# runtime handlers (kata_runtime_info, then kata_check once per handler)

KD = '/opt/kata/share/defaults/kata-containers'


def handler_info(name, hypervisor, runtime='go', exists=True, config=None):
    """One entry of kata_runtime_info's ``runtimes``, as the module returns it."""
    shim = name[len('kata-'):]
    config = config or '%s/%sruntimes/%s/configuration-%s.toml' % (KD, 'runtime-rs/' if runtime == 'rust' else '', shim, shim)
    return dict(handler=name, engine='containerd', runtime_type='io.containerd.%s.v2' % name, runtime=runtime,
                shim_path='/opt/kata/%sbin/containerd-shim-kata-v2' % ('runtime-rs/' if runtime == 'rust' else ''),
                config=config, config_exists=exists, config_from='engine', hypervisor=hypervisor if exists else None,
                source='/opt/kata/containerd/config.d/kata-deploy.toml')


def runtime_info(*handlers, **extra):
    result = dict(changed=False, runtimes=list(handlers), installations=[], runtime_warnings=[])
    result.update(extra)
    return result


def handler_check(info, **kwargs):
    """kata_check's result for one handler (runtime: <handler>), as the module returns it."""
    result = intel_check(hypervisor=info['hypervisor'], **kwargs)
    result['config'] = dict(path=info['config'], drop_ins=[], source='runtime:' + info['handler'], runtime=info['runtime'],
                            handler=info['handler'])
    result['config_source'] = 'runtime:' + info['handler']
    return result


def loop(*pairs):
    """A registered loop result: (handler, result) per item."""
    results = [dict(result, item=name, ansible_loop_var='item') for name, result in pairs]
    return dict(changed=False, msg='All items completed', results=results, skipped=False)


QEMU = handler_info('kata-qemu', 'qemu')
CLH = handler_info('kata-clh', 'clh')
DRAGONBALL = handler_info('kata-dragonball', 'dragonball', runtime='rust')
FC_MISSING = handler_info('kata-fc', 'firecracker', exists=False)


def test_each_runtime_handler_gets_its_verdict():
    info = runtime_info(CLH, DRAGONBALL, FC_MISSING, QEMU, runtime_warnings=['Runtime handler kata-fc (containerd, '
                                                                             '...): its configuration file ... does not exist'])
    check = loop(*[(h['handler'], handler_check(h)) for h in (CLH, DRAGONBALL, QEMU)])
    verdict = preflight_verdict(check, env_result(), policy={'required_hypervisor': 'qemu', 'min_kernel': '5.10'},
                                host='node', runtimes=info)
    assert verdict['status'] == 'not_capable'
    assert [(r['handler'], r['engine'], r['runtime'], r['hypervisor'], r['config'], r['config_source'], r['status'],
             r['capable'], r['failed_checks']) for r in verdict['runtimes']] == [
        ('kata-clh', 'containerd', 'go', 'clh', CLH['config'], 'runtime:kata-clh', 'not_capable', False,
         ['policy_hypervisor']),
        ('kata-dragonball', 'containerd', 'rust', 'dragonball', DRAGONBALL['config'], 'runtime:kata-dragonball',
         'not_capable', False, ['policy_hypervisor']),
        ('kata-fc', 'containerd', 'go', None, FC_MISSING['config'], None, 'not_capable', False, ['handler_config']),
        ('kata-qemu', 'containerd', 'go', 'qemu', QEMU['config'], 'runtime:kata-qemu', 'capable', True, []),
    ]
    fc = verdict['runtimes'][2]
    assert (fc['kata_capable'], fc['can_create_vm'], fc['error']) == (None, None, None)
    assert fc['reasons'] == ['the configuration file %s does not exist (runtime handler kata-fc, defined in '
                             '/opt/kata/containerd/config.d/kata-deploy.toml)' % FC_MISSING['config']]
    # the host: every handler's failed checks once, in column order, then the host's own policies
    assert verdict['failed_checks'] == ['policy_hypervisor', 'handler_config']
    assert verdict['reasons'] == [
        'kata-clh: hypervisor is clh, the policy requires qemu (kata_preflight_required_hypervisor)',
        'kata-dragonball: hypervisor is dragonball, the policy requires qemu (kata_preflight_required_hypervisor)',
        'kata-fc: ' + fc['reasons'][0]]
    assert [r['id'] for r in verdict['checks']][-4:] == ['vm_creation', 'policy_hypervisor', 'handler_config',
                                                         'policy_kernel']
    assert dict((r['id'], r['state']) for r in verdict['checks'])['policy_kernel'] == 'ok'
    assert (verdict['kata_capable'], verdict['can_create_vm'], verdict['capable']) == (True, True, False)
    assert (verdict['facts']['hypervisor'], verdict['facts']['config']) == ('clh, dragonball, qemu', None)
    assert verdict['warnings'] == info['runtime_warnings']
    assert verdict['messages'] == ['System is capable of running Kata Containers', 'System can currently create Kata Containers']


def test_a_host_is_capable_when_every_handler_is():
    check = loop(('kata-qemu', handler_check(QEMU)), ('kata-clh', handler_check(CLH)))
    verdict = preflight_verdict(check, env_result(), runtimes=runtime_info(QEMU, CLH), host='node')
    assert (verdict['status'], verdict['capable'], verdict['failed_checks'], verdict['reasons']) == ('capable', True, [], [])
    assert [r['status'] for r in verdict['runtimes']] == ['capable', 'capable']


def test_a_reason_of_every_handler_is_given_once():
    check = loop(('kata-qemu', handler_check(QEMU, missing=('vhost_net',))),
                 ('kata-clh', handler_check(CLH, missing=('vhost_net',), vsock=False)))
    verdict = preflight_verdict(check, env_result(), runtimes=runtime_info(QEMU, CLH), host='node')
    assert verdict['reasons'] == ['every runtime handler (2): vhost_net (Host kernel accelerator for virtio network): '
                                  'kernel property vhost_net not found']
    # the matrix shows each check's worst state among the handlers
    states = dict((r['id'], r['state']) for r in verdict['checks'])
    assert (states['vhost_net'], states['vhost_vsock'], states['vmx']) == ('fail', 'warn', 'ok')
    assert verdict['failed_checks'] == ['vhost_net']


def test_one_handler_alone_is_named():
    kata = handler_info('kata', 'qemu', config='/usr/share/defaults/kata-containers/configuration-qemu.toml')
    check = loop(('kata', handler_check(kata, can_create_vm=False)))
    verdict = preflight_verdict(check, env_result(), runtimes=runtime_info(kata), host='node')
    assert verdict['reasons'] == ['kata: cannot create a VM: cannot open /dev/kvm: No such file or directory']
    assert verdict['facts']['config'] == '/usr/share/defaults/kata-containers/configuration-qemu.toml'
    assert verdict['can_create_vm'] is False


def test_a_handler_whose_check_fails_fails_the_host_and_keeps_the_others():
    failure = dict(failed=True, changed=False, msg='%s: hypervisor.clh.image = "/opt/kata/share/kata-containers/'
                   'kata-containers.img": image "/opt/kata/share/kata-containers/kata-containers.img" is empty' % CLH['config'])
    check = loop(('kata-clh', failure), ('kata-qemu', handler_check(QEMU)))
    check['failed'] = True
    verdict = preflight_verdict(check, None, runtimes=runtime_info(CLH, QEMU), host='node')
    assert verdict['status'] == 'failed'
    assert verdict['error'] == 'kata_check failed: %s (runtime handler kata-clh)' % failure['msg']
    assert verdict['reasons'] == [verdict['error']]
    assert [(r['handler'], r['status'], r['error'] is not None) for r in verdict['runtimes']] == [
        ('kata-clh', 'failed', True), ('kata-qemu', 'capable', False)]
    assert verdict['runtimes'][0]['hypervisor'] == 'clh'  # from kata_runtime_info
    assert len(verdict['checks']) == 11


def test_a_handler_without_its_result_did_not_run():
    verdict = preflight_verdict(loop(('kata-qemu', handler_check(QEMU))), env_result(), runtimes=runtime_info(QEMU, CLH))
    assert verdict['status'] == 'failed'
    assert verdict['error'] == 'kata_check did not run (runtime handler kata-clh)'


def test_every_handler_without_configuration_needs_no_check():
    skipped = dict(changed=False, skipped=True, skipped_reason='No items in the list', results=[])
    verdict = preflight_verdict(skipped, env_result(), runtimes=runtime_info(FC_MISSING))
    assert (verdict['status'], verdict['failed_checks']) == ('not_capable', ['handler_config'])
    assert verdict['kata_capable'] is None


def test_kata_runtime_info_failures_name_the_role_variable():
    info = dict(failed=True, changed=False, msg="handlers: kata-nope is not a Kata runtime handler of this host's "
                                                'container engines; the handlers found are: kata, kata-fc')
    verdict = preflight_verdict(None, None, runtimes=info, selection=['kata-nope'], host='node')
    assert verdict['status'] == 'failed'
    assert verdict['error'] == ("kata_runtime_info failed: kata_preflight_runtimes: kata-nope is not a Kata runtime "
                                "handler of this host's container engines; the handlers found are: kata, kata-fc")
    assert verdict['runtimes'] == []
    gone = dict(failed=True, msg='host_root: /srv/gone is not a directory; expected the root directory of a host')
    assert preflight_verdict(None, None, runtimes=gone)['reasons'] == ['kata_runtime_info failed: ' + gone['msg']]


def test_unreachable_at_kata_runtime_info():
    skipped = dict(changed=False, skipped=True, results=[])
    verdict = preflight_verdict(skipped, dict(skipped=True), runtimes=UNREACHABLE)
    assert (verdict['status'], verdict['reachable'], verdict['runtimes']) == ('unreachable', False, [])
    assert verdict['reasons'] == ['unreachable: ' + UNREACHABLE['msg']]


def test_unreachable_in_the_loop():
    check = loop(('kata-qemu', UNREACHABLE))
    verdict = preflight_verdict(check, None, runtimes=runtime_info(QEMU))
    assert (verdict['status'], verdict['error']) == ('unreachable', UNREACHABLE['msg'])


@pytest.mark.parametrize('selection, config, error', [
    (['kata-qemu'], '/etc/kata-containers/configuration.toml',
     'kata_preflight_runtimes and kata_preflight_config are mutually exclusive: kata_preflight_config checks that one '
     'file; unset it, or set kata_preflight_runtimes to all'),
    ({'kata-qemu': True}, None, "kata_preflight_runtimes: expected all or a list of runtime handler names, got "
                                "{'kata-qemu': True}"),
    (['kata-qemu', ''], None, "kata_preflight_runtimes: expected all or a list of runtime handler names, got "
                              "['kata-qemu', '']"),
    (['all', 'kata-qemu'], None, "kata_preflight_runtimes: expected all or a list of runtime handler names, got "
                                 "['all', 'kata-qemu']"),
    ([], None, 'kata_preflight_runtimes: expected all or a list of runtime handler names, got []'),
])
def test_bad_selections_fail_the_host(selection, config, error):
    verdict = preflight_verdict(intel_check(), env_result(), runtimes=dict(skipped=True), selection=selection, config=config)
    assert (verdict['status'], verdict['error'], verdict['reasons']) == ('failed', error, [error])


@pytest.mark.parametrize('selection', ['all', ['all'], None, 'kata-qemu', 'kata-qemu,kata-clh', ['kata-qemu']])
def test_good_selections(selection):
    check = loop(('kata-qemu', handler_check(QEMU)))
    assert preflight_verdict(check, env_result(), runtimes=runtime_info(QEMU), selection=selection)['status'] == 'capable'


def test_config_with_all_checks_that_file():
    verdict = preflight_verdict(loop((None, intel_check())), env_result(), runtimes=dict(skipped=True, changed=False),
                                selection=['all'], config='/etc/kata-containers/configuration.toml')
    assert verdict['status'] == 'capable'
    assert [(r['handler'], r['engine'], r['hypervisor']) for r in verdict['runtimes']] == [(None, None, 'qemu')]


def handlers_report():
    info = runtime_info(CLH, FC_MISSING, QEMU)
    check = loop(('kata-clh', handler_check(CLH)), ('kata-qemu', handler_check(QEMU, missing=('vhost',))))
    hostvars = fleet_hostvars()
    hostvars['kd'] = {'kata_preflight_verdict': preflight_verdict(check, env_result(), runtimes=info, host='kd')}
    return preflight_report(['kd', 'intel', 'gone'], hostvars)


def test_report_counts_the_handlers():
    report = handlers_report()
    assert report['summary']['runtimes'] == {'total': 4, 'capable': 2, 'not_capable': 2, 'failed': 0}
    assert [c['id'] for c in report['columns']][-2:] == ['vm_creation', 'handler_config']
    kd = report['hosts'][0]
    assert kd['reasons'] == ['kata-fc: ' + kd['runtimes'][1]['reasons'][0],
                             'kata-qemu: vhost (Host kernel accelerator for virtio): kernel property vhost not found']


def test_markdown_shows_each_handler():
    text = preflight_markdown(handlers_report())
    assert '**3 hosts: 1 capable, 1 not capable, 1 unreachable, 0 failed; 4 runtime handlers checked: 2 capable, ' \
        '2 not capable, 0 failed**' in text
    table = text.split('## Runtime handlers\n\n', 1)[1].split('\n\n', 1)[0].split('\n')
    assert table == [
        '| Host | Handler | Runtime | Hypervisor | Configuration | Verdict | Failed checks |',
        '|---|---|---|---|---|---|---|',
        '| kd | kata-clh | Go | clh | %s | capable | - |' % CLH['config'],
        '| kd | kata-fc | Go | unknown | %s | not capable | handler\\_config |' % FC_MISSING['config'],
        '| kd | kata-qemu | Go | qemu | %s | not capable | vhost |' % QEMU['config'],
        '| intel | (default) | unknown | qemu | /usr/share/defaults/kata-containers/configuration.toml | capable | - |',
        '| gone | - | - | - | - | unreachable | - |']


def test_html_shows_a_host_by_handler_table():
    report = handlers_report()
    page = parse(preflight_html(report))
    rows = [e for e in page.find('tr') if 'data-handler' in e['attrs']]
    assert [(r['attrs']['data-host'], r['attrs']['data-handler'], r['attrs']['data-status']) for r in rows] == [
        ('kd', 'kata-clh', 'capable'), ('kd', 'kata-fc', 'not_capable'), ('kd', 'kata-qemu', 'not_capable'),
        ('intel', '', 'capable'), ('gone', '', 'unreachable')]
    assert rows[0]['text'] == 'kdkata-clhGoclh%s\u2713 capable' % CLH['config']
    assert rows[1]['text'] == 'kata-fcGounknown%s\u2717 not capablehandler_config' % FC_MISSING['config']
    assert rows[3]['text'] == 'intel(default)unknownqemu/usr/share/defaults/kata-containers/configuration.toml\u2713 capable'
    heads = [e for e in page.find('th', scope='row') if e['attrs'].get('rowspan')]
    assert [(e['text'], e['attrs']['rowspan'], e['attrs'].get('href')) for e in heads] == [
        ('kd', '3', None), ('intel', '1', None), ('gone', '1', None)]
    links = [e['attrs']['href'] for e in page.find('a') if e['text'] == 'kd']
    assert links == ['#host-0', '#host-0']
    failed = page.find('td', **{'class': 'failed'})
    assert failed[1]['attrs']['title'] == report['hosts'][0]['runtimes'][1]['reasons'][0]
    assert [e['text'] for e in page.find('td', **{'class': 'handler default'})] == ['(default)']
    article = page.find('article', data_host='kd')[0]
    assert 'Configurationone per runtime handler (3, see the runtime handlers)' in article['text']
    assert 'Hypervisorclh, qemu' in article['text']
    assert '/usr/bin/qemu-system-x86_64' not in article['text']


# ---------------------------------------------------------------------------------------------------------------
# with the real modules on a real node layout

def test_handler_verdicts_from_the_real_modules(tmp_path, cpuinfo_fixture, capsys, monkeypatch):
    import os
    import sys
    from ansible_collections.katacontainers.kata.plugins.modules import kata_check, kata_env, kata_runtime_info

    sim_dir = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim')
    if sim_dir not in sys.path:
        sys.path.insert(0, sim_dir)
    import sim_layouts  # pylint: disable=import-outside-toplevel

    set_controller_context(monkeypatch, False)
    root = make_root(tmp_path, 'node', cpuinfo_fixture('amd64-amd-epyc-7451.txt'),
                     ('kvm', 'kvm_amd', 'vhost', 'vhost_net', 'vhost_vsock'))
    manifest = sim_layouts.build(root, 'containerd-1.x')
    for dirpath, dummy, filenames in os.walk(root):  # a real node's images are not empty (the Go runtime checks)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path) and os.path.getsize(path) == 0:
                with open(path, 'w') as f:
                    f.write('image\n')
    info = _module_result(kata_runtime_info, {'host_root': root, 'versions': False,
                                              'handlers': ['kata-qemu', 'kata-fc', 'kata-dragonball']}, capsys)
    results = []
    for handler in [h['handler'] for h in info['runtimes']]:
        result = _module_result(kata_check, {'host_root': root, 'runtime': handler, 'kvm_test': 'never',
                                             'fail_on_incapable': False}, capsys)
        results.append((handler, result))
    env = _module_result(kata_env, {'host_root': root, 'gather_subset': ['all', '!capability']}, capsys)
    verdict = preflight_verdict(loop(*results), env, policy={'required_hypervisor': 'qemu'}, host='node', runtimes=info,
                                selection=['kata-qemu', 'kata-fc', 'kata-dragonball'])
    verdict = json.loads(json.dumps(verdict))
    expected = dict((h['handler'], h) for h in manifest['handlers'])
    assert [(r['handler'], r['runtime'], r['hypervisor'], r['config'], r['status'], r['failed_checks'])
            for r in verdict['runtimes']] == [
        (name, expected[name]['runtime'], expected[name]['hypervisor'], expected[name]['config'],
         'capable' if expected[name]['hypervisor'] == 'qemu' else 'not_capable',
         [] if expected[name]['hypervisor'] == 'qemu' else ['policy_hypervisor'])
        for name in ('kata-fc', 'kata-qemu', 'kata-dragonball')]
    assert [r['config_source'] for r in verdict['runtimes']] == [
        'runtime:kata-fc', 'runtime:kata-qemu', 'runtime:kata-dragonball']
    assert verdict['status'] == 'not_capable'
    assert verdict['reasons'] == [
        'kata-fc: hypervisor is firecracker, the policy requires qemu (kata_preflight_required_hypervisor)',
        'kata-dragonball: hypervisor is dragonball, the policy requires qemu (kata_preflight_required_hypervisor)']
    assert verdict['facts']['cpu_model'] == 'AMD EPYC 7451 24-Core Processor'
    report = preflight_report(['node'], {'node': {'kata_preflight_verdict': verdict}})
    page = parse(preflight_html(report))
    assert [e['attrs']['data-handler'] for e in page.find('tr') if 'data-handler' in e['attrs']] == [
        'kata-fc', 'kata-qemu', 'kata-dragonball']


@pytest.mark.parametrize('handler, source, shown', [
    (None, 'default:/usr/share/defaults/kata-containers/configuration.toml', '/x.toml (default lookup)'),
    (None, 'option', '/x.toml (kata_preflight_config)'),
    (None, 'engine:kata-qemu', '/x.toml (the configuration of the runtime handler kata-qemu)'),
    (None, None, '/x.toml'),
    ('kata-qemu', 'runtime:kata-qemu', '/x.toml'),
])
def test_how_the_configuration_was_found_is_shown(handler, source, shown):
    cells = render.runtime_cells(dict(handler=handler, runtime='rust', hypervisor='qemu', config='/x.toml',
                                      config_source=source, status='capable', failed_checks=[]))
    assert cells == (handler or '(default)', 'runtime-rs', 'qemu', shown, 'capable', '')


@pytest.mark.parametrize('kind, selection', [('kata-deploy-4.1.0', ['all']), ('containerd-1.x', ['kata-qemu', 'kata-fc']),
                                             (None, ['all'])])
def test_one_kata_check_with_runtimes_gives_the_verdicts_of_one_per_handler(tmp_path, cpuinfo_fixture, capsys,
                                                                            monkeypatch, kind, selection):
    """The role's one kata_check call (runtimes) against kata_runtime_info and a kata_check per handler: same verdict."""
    import os
    import sys
    from ansible_collections.katacontainers.kata.plugins.modules import kata_check, kata_env, kata_runtime_info

    sim_dir = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim')
    if sim_dir not in sys.path:
        sys.path.insert(0, sim_dir)
    import sim_layouts  # pylint: disable=import-outside-toplevel

    set_controller_context(monkeypatch, False)
    root = make_root(tmp_path, 'node', cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'),
                     ('kvm', 'kvm_intel', 'vhost', 'vhost_net'))
    os.makedirs(os.path.join(root, 'sys', 'module', 'kvm_intel', 'parameters'), exist_ok=True)
    with open(os.path.join(root, 'sys', 'module', 'kvm_intel', 'parameters', 'unrestricted_guest'), 'w') as f:
        f.write('Y\n')
    if kind:
        manifest = sim_layouts.build(root, kind)
        for dirpath, dummy, filenames in os.walk(root):  # a real node's images are not empty (the Go runtime checks)
            for name in filenames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path) and os.path.getsize(path) == 0:
                    with open(path, 'w') as f:
                        f.write('image\n')
        fc = [h for h in manifest['handlers'] if h['handler'] == 'kata-fc'][0]
        os.unlink(os.path.join(root, fc['config'].lstrip('/')))
    else:
        sim_layouts.build(root, 'distro-3.0.0')
        shutil.rmtree(os.path.join(root, 'etc', 'containerd'))
    options = dict(host_root=root, kvm_test='always', fail_on_incapable=False)
    policy = {'required_hypervisor': 'qemu', 'min_kernel': '5.10'}
    env = _module_result(kata_env, {'host_root': root, 'gather_subset': ['all', '!capability']}, capsys)

    info = _module_result(kata_runtime_info, dict(host_root=root, versions=False,
                                                  **({} if selection == ['all'] else {'handlers': selection})), capsys)
    names = [h['handler'] for h in info['runtimes'] if h['config_exists']]
    results = [(name, _module_result(kata_check, dict(options, runtime=name), capsys)) for name in names]
    if not info['runtimes']:
        one = _module_result(kata_check, options, capsys)
        before = preflight_verdict(one, env, policy=policy, host='node', runtimes=info, selection=selection)
    else:
        before = preflight_verdict(loop(*results), env, policy=policy, host='node', runtimes=info, selection=selection)

    check = _module_result(kata_check, dict(options, runtimes=selection), capsys)
    after = preflight_verdict(check, env, policy=policy, host='node', selection=selection)
    before, after = json.loads(json.dumps(before)), json.loads(json.dumps(after))
    assert after == before
    # the role's one call: kata_env's facts gathered by kata_check (gather_env), its result given as env too
    one = _module_result(kata_check, dict(options, runtimes=selection, gather_env=['all', '!capability']), capsys)
    assert json.loads(json.dumps(preflight_verdict(one, one, policy=policy, host='node', selection=selection))) == before
    assert len(after['runtimes']) == max(len(info['runtimes']), 1)
    if kind == 'kata-deploy-4.1.0':
        assert len(after['runtimes']) == 23
        assert after['status'] == 'not_capable'
        assert set(after['failed_checks']) == {'policy_hypervisor', 'handler_config', 'vm_creation'}


def test_a_failed_kata_check_with_runtimes_fails_the_host_naming_the_role_variable():
    check = dict(failed=True, changed=False, msg="runtimes: kata-nope is not a Kata runtime handler of this host's "
                                                 'container engines; the handlers found are: kata')
    verdict = preflight_verdict(check, dict(skipped=True, changed=False), host='n', selection=['kata-nope'])
    assert verdict['status'] == 'failed' and verdict['runtimes'] == []
    assert verdict['reasons'] == ["kata_check failed: kata_preflight_runtimes: kata-nope is not a Kata runtime "
                                  "handler of this host's container engines; the handlers found are: kata"]
