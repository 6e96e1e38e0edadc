# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_pods: the pod of a sandbox from containerd's and CRI-O's bundle annotations, and ``pod:`` resolution."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _pods
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import short_repr
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.podnode_testlib import PodNode


@pytest.fixture(scope='module')
def node():
    started = PodNode()
    yield started
    started.stop()


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f)


# --- the option's format ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('default/nginx', ('default', 'nginx')),
    ('kube-system/coredns-5d78c9869d-x7k2p', ('kube-system', 'coredns-5d78c9869d-x7k2p')),
    ('a/b.c-d', ('a', 'b.c-d')),
    ('%s/%s' % ('n' * 63, 'p' * 253), ('n' * 63, 'p' * 253)),
])
def test_parse_pod(value, expected):
    assert _pods.parse_pod(value) == expected


@pytest.mark.parametrize('value', ['nginx', 'default/', '/nginx', 'Default/nginx', 'default/Nginx', 'a/b/c',
                                   'default/nginx ', '-a/b', 'a-/b', 'a/-b', 'a/b.', 'n' * 64 + '/x',
                                   'a/' + 'p' * 254, 'a/b_c', '', 'default\n/x', 5, None])
def test_parse_pod_refuses(value):
    with pytest.raises(ArgumentError) as exc_info:
        _pods.parse_pod(value)
    assert exc_info.value.msg.startswith('pod: invalid pod %s: expected "<namespace>/<name>"' % short_repr(value))


# --- reading one spec ---------------------------------------------------------------------------------------------

def test_pod_from_containerd_spec():
    spec = {'annotations': {'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-name': 'web',
                            'io.kubernetes.cri.sandbox-namespace': 'default', 'io.kubernetes.cri.sandbox-uid': 'u-1'}}
    assert _pods.pod_from_spec(spec) == {'engine': 'containerd', 'namespace': 'default', 'name': 'web', 'uid': 'u-1',
                                         'handler': None}
    spec['annotations']['io.containerd.cri.runtime-handler'] = 'kata-clh'
    assert _pods.pod_from_spec(spec)['handler'] == 'kata-clh'


def test_pod_from_crio_spec_prefers_the_kubelet_labels():
    spec = {'annotations': {'io.kubernetes.cri-o.ContainerType': 'sandbox', 'io.kubernetes.cri-o.Namespace': 'ns-a',
                            'io.kubernetes.cri-o.KubeName': 'name-a', 'io.kubernetes.pod.namespace': 'ns-b',
                            'io.kubernetes.pod.name': 'name-b', 'io.kubernetes.pod.uid': 'u-2',
                            'io.kubernetes.cri-o.RuntimeHandler': 'kata-qemu'}}
    assert _pods.pod_from_spec(spec) == {'engine': 'crio', 'namespace': 'ns-b', 'name': 'name-b', 'uid': 'u-2',
                                         'handler': 'kata-qemu'}
    for key in ('io.kubernetes.pod.namespace', 'io.kubernetes.pod.name', 'io.kubernetes.pod.uid'):
        del spec['annotations'][key]
    assert _pods.pod_from_spec(spec) == {
        'engine': 'crio', 'namespace': 'ns-a', 'name': 'name-a', 'uid': None, 'handler': 'kata-qemu'}


@pytest.mark.parametrize('spec', [
    {}, {'annotations': None}, {'annotations': {}},
    {'annotations': {'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.sandbox-name': 'web'}},
    {'annotations': {'io.kubernetes.cri-o.ContainerType': 'container'}},
])
def test_not_a_pod_sandbox_spec(spec):
    assert _pods.pod_from_spec(spec) is None


# --- from a sandbox to its bundle ---------------------------------------------------------------------------------

def where(tmp_path):
    return {'sandbox_root': str(tmp_path / 'sbs'), 'containerd_state_dir': str(tmp_path / 'task'),
            'containerd_namespace': 'k8s.io', 'crio_containers_dir': str(tmp_path / 'crio')}


CONTAINERD_SPEC = {'annotations': {'io.kubernetes.cri.container-type': 'sandbox',
                                   'io.kubernetes.cri.sandbox-name': 'web',
                                   'io.kubernetes.cri.sandbox-namespace': 'default',
                                   'io.kubernetes.cri.sandbox-uid': 'u-3'}}


def test_go_runtime_persist_names_the_bundle(tmp_path):
    # The bundle the Go runtime recorded wins, wherever it is (e.g. k3s' state directory).
    bundle = str(tmp_path / 'k3s' / 'k8s.io' / 'abc')
    write_json(os.path.join(bundle, 'config.json'), CONTAINERD_SPEC)
    write_json(str(tmp_path / 'sbs' / 'abc' / 'persist.json'), {'SandboxContainer': 'abc'})
    write_json(str(tmp_path / 'sbs' / 'abc' / 'abc' / 'persist.json'), {'BundlePath': bundle})
    assert _pods.go_bundle(str(tmp_path / 'sbs'), 'abc') == bundle
    pod, problem = _pods.pod_of('abc', 'go', where(tmp_path))
    assert (pod['bundle'], pod['name'], problem) == (bundle, 'web', None)
    # runtime-rs records no bundle: only the engines' directories are looked at.
    assert _pods.pod_of('abc', 'rust', where(tmp_path)) == (None, None)


@pytest.mark.parametrize('persist', [None, {'SandboxContainer': '../x'}, {'SandboxContainer': 7}])
def test_go_runtime_without_usable_persist_falls_back_to_the_engine_dirs(tmp_path, persist):
    if persist is not None:
        write_json(str(tmp_path / 'sbs' / 'abc' / 'persist.json'), persist)
    write_json(str(tmp_path / 'task' / 'k8s.io' / 'abc' / 'config.json'), CONTAINERD_SPEC)
    assert _pods.go_bundle(str(tmp_path / 'sbs'), 'abc') is None
    pod, _problem = _pods.pod_of('abc', 'go', where(tmp_path))
    assert pod['bundle'] == str(tmp_path / 'task' / 'k8s.io' / 'abc')


def test_unreadable_spec_is_a_problem_not_a_failure(tmp_path):
    path = str(tmp_path / 'task' / 'k8s.io' / 'abc' / 'config.json')
    os.makedirs(os.path.dirname(path))
    with open(path, 'w', encoding='utf-8') as f:
        f.write('{"annotations": ')
    crio = str(tmp_path / 'crio' / 'abc' / 'userdata')
    os.makedirs(crio)
    os.symlink(path, os.path.join(crio, 'config.json'))
    pod, problem = _pods.pod_of('abc', 'rust', where(tmp_path))
    assert pod is None
    assert problem.startswith('%s is not valid JSON: ' % path)
    assert problem.endswith('; %s is a symbolic link (not followed)' % os.path.join(crio, 'config.json'))


# --- resolving pod: against the simulated node --------------------------------------------------------------------

@pytest.mark.parametrize('pod, sandbox_id, runtime, engine, handler', [
    ('default/web', 'go-web', 'go', 'containerd', None),
    ('shop/cart', 'go-cart', 'go', 'crio', 'kata-qemu'),
    ('shop/api', 'rs-api', 'rust', 'containerd', 'kata-qemu-runtime-rs'),
])
def test_resolve_pod_found(node, pod, sandbox_id, runtime, engine, handler):
    found = _pods.resolve_pod(node.params(pod=pod))
    assert (found['id'], found['runtime'], found['socket']) == (sandbox_id, runtime, node.socket(sandbox_id))
    assert found['pod'] == dict(node.pod(sandbox_id), engine=engine, handler=handler)
    assert _pods.pod_result(found) == {'namespace': pod.split('/')[0], 'name': pod.split('/')[1],
                                       'uid': node.pod(sandbox_id)['uid'], 'handler': handler, 'engine': engine,
                                       'sandbox_id': sandbox_id, 'runtime': runtime}


def test_resolve_pod_none(node):
    with pytest.raises(_pods.PodNotFound) as exc_info:
        _pods.resolve_pod(node.params(pod='default/nope'))
    assert exc_info.value.msg == (
        'pod: no Kata sandbox belongs to pod default/nope (6 sandboxes under %s and %s; pods with a Kata sandbox '
        'here: default/web, ops/db, shop/api, shop/cart; the pod metadata is read from the sandbox bundles under '
        '%s/k8s.io and %s)' % (node.sandbox_root, node.rs_sandbox_root, node.containerd_state_dir,
                               node.crio_containers_dir))
    assert exc_info.value.details == {'candidates': []}


def test_resolve_pod_several(node):
    with pytest.raises(_pods.PodNotFound) as exc_info:
        _pods.resolve_pod(node.params(pod='ops/db'))
    uid = node.pod('rs-db')['uid']
    assert exc_info.value.msg == (
        'pod: 2 sandboxes belong to pod ops/db: rs-db (runtime rust, pod uid %s, %s), rs-db2 (runtime rust, pod uid '
        '%s, %s); name the one you mean with sandbox_id instead'
        % (uid, node.pod('rs-db')['bundle'], uid, node.pod('rs-db2')['bundle']))
    assert exc_info.value.details == {'candidates': ['rs-db', 'rs-db2']}


def test_resolve_pod_with_other_metadata_dirs_finds_nothing(node, tmp_path):
    with pytest.raises(_pods.PodNotFound) as exc_info:
        _pods.resolve_pod(node.params(pod='default/web', containerd_state_dir=str(tmp_path),
                                      crio_containers_dir=str(tmp_path), sandbox_root=str(tmp_path / 'none')))
    assert 'no sandbox here has pod metadata' in exc_info.value.msg


def test_apply_pod(node):
    params = node.params(pod='shop/api', sandbox_id=None)
    found = _pods.apply_pod(params)
    assert params['sandbox_id'] == 'rs-api' == found['id']
    params = node.params(pod=None, sandbox_id='go-web')
    assert _pods.apply_pod(params) is None and params['sandbox_id'] == 'go-web'
