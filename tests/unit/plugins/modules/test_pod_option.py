# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``pod: <namespace>/<name>`` on kata_metrics, kata_iptables and kata_exec_cmd, and the pod metadata kata_sandbox_info
reports, against a simulated node whose sandboxes carry containerd's and CRI-O's metadata (kata_sim.py --pod)."""

from __future__ import annotations

import pytest

from ansible_collections.katacontainers.kata.plugins.modules import kata_exec_cmd, kata_iptables, kata_metrics, kata_sandbox_info
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.podnode_testlib import PodNode

RULES = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.4.4.4/32 -j DROP\nCOMMIT\n'


@pytest.fixture(scope='module')
def node():
    started = PodNode()
    yield started
    started.stop()


def module_args(module, node, **kwargs):
    """The arguments each module needs besides the sandbox (or pod)."""
    if module is kata_iptables:
        kwargs.setdefault('rules', RULES)
    elif module is kata_exec_cmd:
        kwargs.setdefault('cmd', 'echo hello')
    return node.params(**kwargs)


MODULES = [kata_metrics, kata_iptables, kata_exec_cmd]


def pod_of(node, sandbox_id, runtime):
    pod = node.pod(sandbox_id)
    return {'namespace': pod['namespace'], 'name': pod['name'], 'uid': pod['uid'], 'handler': pod['handler'],
            'engine': pod['engine'], 'sandbox_id': sandbox_id, 'runtime': runtime}


def test_metrics_by_pod(node, run_module):
    result = run_module(kata_metrics, module_args(kata_metrics, node, pod='shop/cart', families=['kata_shim_threads']))
    assert [s['id'] for s in result['sandboxes']] == ['go-cart']
    assert result['pod'] == pod_of(node, 'go-cart', 'go')
    assert list(result['sandboxes'][0]['metrics']) == ['kata_shim_threads']
    assert result['family_info']['kata_shim_threads']['type'] == 'gauge'


def test_iptables_by_pod_on_runtime_rs(node, run_module):
    result = run_module(kata_iptables, module_args(kata_iptables, node, pod='shop/api'))
    assert result['changed'] is True and '-A INPUT -s 10.4.4.4/32 -j DROP' in result['rules']
    assert result['pod'] == pod_of(node, 'rs-api', 'rust')
    puts = [e for e in node.log() if e['method'] == 'PUT' and e['path'] == '/iptables']
    assert [(e['sandbox'], e['status']) for e in puts] == [('rs-api', 200)]
    again = run_module(kata_iptables, module_args(kata_iptables, node, pod='shop/api'))
    assert again['changed'] is False


def test_exec_cmd_by_pod(node, run_module):
    result = run_module(kata_exec_cmd, module_args(kata_exec_cmd, node, pod='default/web'))
    assert (result['rc'], result['stdout']) == (0, 'hello')
    assert result['pod'] == pod_of(node, 'go-web', 'go')


@pytest.mark.parametrize('module', MODULES)
def test_pod_without_sandbox(node, run_module, module):
    result = run_module(module, module_args(module, node, pod='default/nope'), expect='fail')
    assert result['msg'].startswith('pod: no Kata sandbox belongs to pod default/nope (6 sandboxes under %s and %s; '
                                    'pods with a Kata sandbox here: default/web, ops/db, shop/api, shop/cart;'
                                    % (node.sandbox_root, node.rs_sandbox_root))
    assert result['candidates'] == []


@pytest.mark.parametrize('module', MODULES)
def test_pod_with_several_sandboxes(node, run_module, module):
    result = run_module(module, module_args(module, node, pod='ops/db'), expect='fail')
    assert result['msg'].startswith('pod: 2 sandboxes belong to pod ops/db: rs-db (runtime rust, pod uid %s, '
                                    % node.pod('rs-db')['uid'])
    assert result['msg'].endswith('; name the one you mean with sandbox_id instead')
    assert result['candidates'] == ['rs-db', 'rs-db2']


@pytest.mark.parametrize('module', MODULES)
@pytest.mark.parametrize('value', ['web', 'default/Web', 'a/b/c', ''])
def test_pod_bad_format(node, run_module, module, value):
    result = run_module(module, module_args(module, node, pod=value), expect='fail')
    assert result['msg'].startswith("pod: invalid pod %r: expected \"<namespace>/<name>\": a Kubernetes namespace"
                                    % value)


@pytest.mark.parametrize('module', MODULES)
def test_pod_and_sandbox_id_exclude_each_other(node, run_module, module):
    result = run_module(module, module_args(module, node, pod='default/web', sandbox_id='go-web'), expect='fail')
    assert result['msg'] == 'parameters are mutually exclusive: sandbox_id|pod'
    result = run_module(module, module_args(module, node), expect='fail')
    assert result['msg'] == 'one of the following is required: sandbox_id, pod'


@pytest.mark.parametrize('module', MODULES)
def test_no_request_before_the_pod_is_resolved(node, run_module, module):
    before = len(node.log())
    run_module(module, module_args(module, node, pod='ops/db'), expect='fail')
    assert len(node.log()) == before


# --- kata_sandbox_info -----------------------------------------------------------------------------------------------

def test_sandbox_info_reports_runtime_and_pod(node, run_module):
    result = run_module(kata_sandbox_info, node.params(volumes=False))
    by_id = dict((s['id'], s) for s in result['sandboxes'])
    assert sorted(by_id) == ['go-cart', 'go-plain', 'go-web', 'rs-api', 'rs-db', 'rs-db2']
    assert dict((i, s['runtime']) for i, s in by_id.items()) == {
        'go-cart': 'go', 'go-plain': 'go', 'go-web': 'go', 'rs-api': 'rust', 'rs-db': 'rust', 'rs-db2': 'rust'}
    assert all(s['reachable'] for s in by_id.values())
    # containerd: namespace, name, uid; the handler only when the pod let io.containerd.cri.runtime-handler through.
    assert by_id['go-web']['pod'] == node.pod('go-web') == {
        'engine': 'containerd', 'namespace': 'default', 'name': 'web', 'uid': node.pod('go-web')['uid'],
        'handler': None, 'bundle': node.containerd_state_dir + '/k8s.io/go-web'}
    assert by_id['rs-api']['pod']['handler'] == 'kata-qemu-runtime-rs'
    # CRI-O: the handler always.
    assert by_id['go-cart']['pod'] == {'engine': 'crio', 'namespace': 'shop', 'name': 'cart',
                                       'uid': node.pod('go-cart')['uid'], 'handler': 'kata-qemu',
                                       'bundle': node.crio_containers_dir + '/go-cart/userdata'}
    assert by_id['rs-db']['pod'] == dict(node.pod('rs-db'), handler='kata-qemu-runtime-rs', engine='crio')
    assert by_id['go-plain']['pod'] is None
    assert result['warnings'] == []


def test_sandbox_info_pods_false_and_default_locations(node, run_module):
    result = run_module(kata_sandbox_info, node.params(volumes=False, pods=False))
    assert all('pod' not in s for s in result['sandboxes'])
    # With the default engine locations (/run/containerd/..., /run/containers/storage/...), which hold nothing of
    # this node, the Go sandbox is still found through the bundle its runtime recorded in persist.json; the
    # runtime-rs one, whose runtime records none, is not.
    result = run_module(kata_sandbox_info, dict(sandbox_root=node.sandbox_root, rs_sandbox_root=node.rs_sandbox_root,
                                                volumes=False, sandbox_id=['go-web', 'rs-db']))
    assert [s['pod'] for s in result['sandboxes']] == [node.pod('go-web'), None]


def test_sandbox_info_warns_about_an_unreadable_bundle(node, run_module, tmp_path):
    bundle = tmp_path / 'k8s.io' / 'go-plain'
    bundle.mkdir(parents=True)
    (bundle / 'config.json').write_text('{"annotations": ', encoding='utf-8')
    result = run_module(kata_sandbox_info, node.params(volumes=False, sandbox_id=['go-plain'],
                                                       containerd_state_dir=str(tmp_path)))
    assert result['sandboxes'][0]['pod'] is None
    assert len(result['warnings']) == 1
    assert result['warnings'][0].startswith('sandbox go-plain: cannot read its pod metadata: %s is not valid JSON: '
                                            % (bundle / 'config.json'))
