# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container engine's metadata for a simulated pod sandbox (``--pod ID=[ENGINE:]NAMESPACE/NAME[@HANDLER]``).

What the engines write for a pod sandbox, and where:

* containerd (1.7 ``pkg/cri/annotations/annotations.go`` / 2.x ``internal/cri/annotations/annotations.go``
  ``DefaultCRIAnnotations``, called by ``podsandbox/sandbox_run_linux.go`` with ``sandbox=true``; the bundle from
  ``core/runtime/v2/bundle.go`` ``NewBundle``): ``<root>/run/containerd/io.containerd.runtime.v2.task/k8s.io/<id>/
  config.json`` with the annotations ``io.kubernetes.cri.sandbox-id``, ``-namespace``, ``-uid``, ``-name``,
  ``-log-directory``, ``-image-name`` and ``io.kubernetes.cri.container-type: sandbox``. No runtime handler: with
  ``@HANDLER`` the pod carries ``io.containerd.cri.runtime-handler`` as a pod annotation let through by the
  handler's ``pod_annotations``.
* CRI-O (``server/sandbox_run_linux.go`` ``setupSandboxAnnotations``, the labels loop and ``populateSandboxLabels``;
  ``internal/annotations/annotations.go``): ``<root>/run/containers/storage/overlay-containers/<id>/userdata/
  config.json`` with ``io.kubernetes.cri-o.*`` annotations (``ContainerType: sandbox``, ``RuntimeHandler``,
  ``Namespace``, ``KubeName``, ``Name``, ``SandboxID``, ``ContainerID``, ``Metadata``, ``Labels``) and the kubelet's
  pod labels ``io.kubernetes.pod.name``, ``io.kubernetes.pod.namespace``, ``io.kubernetes.pod.uid``.
* The Go runtime (``src/runtime/virtcontainers/persist/fs/fs.go``, ``persist/api/sandbox.go`` and
  ``container.go``): ``/run/vc/sbs/<id>/persist.json`` (``SandboxContainer``) and
  ``/run/vc/sbs/<id>/<id>/persist.json`` (``BundlePath``). runtime-rs records no bundle path.
"""

from __future__ import annotations

import json
import os
import re
import uuid

ENGINES = ('containerd', 'crio')
CONTAINERD_TASK_DIR = 'run/containerd/io.containerd.runtime.v2.task'
CONTAINERD_NAMESPACE = 'k8s.io'
CRIO_CONTAINERS_DIR = 'run/containers/storage/overlay-containers'
DEFAULT_HANDLERS = {'go': 'kata-qemu', 'rs': 'kata-qemu-runtime-rs'}
PAUSE_IMAGE = 'registry.k8s.io/pause:3.10'
_SPEC = re.compile(r'^(?:(containerd|crio):)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9][-a-z0-9.]*)(?:@([A-Za-z0-9_.-]+))?$')


class PodError(ValueError):
    pass


def parse_pod(value):
    """``ID=[ENGINE:]NAMESPACE/NAME[@HANDLER]`` -> (id, {engine, namespace, name, handler})."""
    sandbox_id, sep, spec = value.partition('=')
    match = _SPEC.match(spec) if sep and sandbox_id else None
    if match is None:
        raise PodError('--pod %r: expected ID=[containerd:|crio:]NAMESPACE/NAME[@HANDLER]' % value)
    return sandbox_id, {'engine': match.group(1) or 'containerd', 'namespace': match.group(2),
                        'name': match.group(4), 'handler': match.group(5)}


def pod_uid(namespace, name):
    """A stable UID per pod (a recreated sandbox of the same pod keeps the pod's UID)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, 'kata-sim/pod/%s/%s' % (namespace, name)))


def _spec(sandbox_id, annotations, hostname):
    # The parts of the pause container's OCI spec the tests do not read are kept short but real in shape.
    return {
        'ociVersion': '1.1.0',
        'process': {'user': {'uid': 65535, 'gid': 65535}, 'args': ['/pause'], 'cwd': '/',
                    'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']},
        'root': {'path': 'rootfs', 'readonly': True},
        'hostname': hostname,
        'annotations': annotations,
        'linux': {'cgroupsPath': 'kubepods-besteffort-pod.slice:cri-containerd:%s' % sandbox_id,
                  'namespaces': [{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'},
                                 {'type': 'network'}]},
    }


def containerd_annotations(sandbox_id, pod):
    uid = pod['uid']
    annotations = {
        'io.kubernetes.cri.sandbox-id': sandbox_id,
        'io.kubernetes.cri.sandbox-namespace': pod['namespace'],
        'io.kubernetes.cri.sandbox-uid': uid,
        'io.kubernetes.cri.sandbox-name': pod['name'],
        'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/%s_%s_%s' % (pod['namespace'], pod['name'], uid),
        'io.kubernetes.cri.sandbox-image-name': PAUSE_IMAGE,
        'io.kubernetes.cri.container-type': 'sandbox',
    }
    if pod['handler']:
        annotations['io.containerd.cri.runtime-handler'] = pod['handler']
    return annotations


def crio_annotations(sandbox_id, pod, handler):
    uid = pod['uid']
    name = 'k8s_POD_%s_%s_%s_0' % (pod['name'], pod['namespace'], uid)
    labels = {'io.kubernetes.pod.name': pod['name'], 'io.kubernetes.pod.namespace': pod['namespace'],
              'io.kubernetes.pod.uid': uid}
    metadata = {'name': pod['name'], 'uid': uid, 'namespace': pod['namespace']}
    annotations = {
        'io.kubernetes.cri-o.Metadata': json.dumps(metadata, separators=(',', ':')),
        'io.kubernetes.cri-o.Labels': json.dumps(labels, separators=(',', ':'), sort_keys=True),
        'io.kubernetes.cri-o.Annotations': '{}',
        'io.kubernetes.cri-o.LogPath': '/var/log/pods/%s_%s_%s/%s.log' % (pod['namespace'], pod['name'], uid, sandbox_id),
        'io.kubernetes.cri-o.Name': name,
        'io.kubernetes.cri-o.SandboxName': name,
        'io.kubernetes.cri-o.Namespace': pod['namespace'],
        'io.kubernetes.cri-o.ContainerType': 'sandbox',
        'io.kubernetes.cri-o.SandboxID': sandbox_id,
        'io.kubernetes.cri-o.Image': PAUSE_IMAGE,
        'io.kubernetes.cri-o.ImageName': PAUSE_IMAGE,
        'io.kubernetes.cri-o.ContainerName': name,
        'io.kubernetes.cri-o.ContainerID': sandbox_id,
        'io.kubernetes.cri-o.PrivilegedRuntime': 'false',
        'io.kubernetes.cri-o.RuntimeHandler': handler,
        'io.kubernetes.cri-o.KubeName': pod['name'],
        'io.kubernetes.cri-o.HostNetwork': 'false',
        'io.container.manager': 'cri-o',
    }
    annotations.update(labels)
    return annotations


def _write_json(sim, path, data):
    sim.make_dirs(os.path.dirname(path), 0o755)
    sim.register('file', path)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def lay_down(sim, sandbox, pod):
    """Write the engine's bundle spec (and, for the Go runtime, its persist files) for ``sandbox``; returns the
    description kept in the state."""
    pod = dict(pod, uid=pod_uid(pod['namespace'], pod['name']))
    if pod['engine'] == 'containerd':
        bundle = os.path.join(sim.root, CONTAINERD_TASK_DIR, CONTAINERD_NAMESPACE, sandbox.id)
        annotations = containerd_annotations(sandbox.id, pod)
        handler = pod['handler']
    else:
        bundle = os.path.join(sim.root, CRIO_CONTAINERS_DIR, sandbox.id, 'userdata')
        handler = pod['handler'] or DEFAULT_HANDLERS[sandbox.runtime]
        annotations = crio_annotations(sandbox.id, pod, handler)
    _write_json(sim, os.path.join(bundle, 'config.json'), _spec(sandbox.id, annotations, pod['name']))
    if sandbox.runtime == 'go':
        _write_json(sim, os.path.join(sandbox.dir, 'persist.json'),
                    {'SandboxContainer': sandbox.id, 'State': 'running', 'PersistVersion': 2})
        _write_json(sim, os.path.join(sandbox.dir, sandbox.id, 'persist.json'),
                    {'State': 'running', 'BundlePath': bundle, 'Rootfs': {}, 'Process': {}})
    return {'engine': pod['engine'], 'namespace': pod['namespace'], 'name': pod['name'], 'uid': pod['uid'],
            'handler': handler, 'bundle': bundle}
