# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Kubernetes pod of a Kata sandbox, from what the container engine leaves on the node.

A Kata sandbox ID is the ID of the pod's sandbox container, the ID under which the CRI runtime created that
container's OCI bundle, and the engine writes the pod's identity into the bundle's ``config.json`` as annotations:

* containerd's CRI plugin (1.x ``pkg/cri/annotations/annotations.go``, 2.x ``internal/cri/annotations/
  annotations.go``, ``DefaultCRIAnnotations`` called by ``podsandbox/sandbox_run_linux.go``):
  ``io.kubernetes.cri.container-type`` (``sandbox``), ``io.kubernetes.cri.sandbox-id``,
  ``io.kubernetes.cri.sandbox-namespace``, ``io.kubernetes.cri.sandbox-name``, ``io.kubernetes.cri.sandbox-uid``.
  containerd writes no runtime handler into the spec; ``io.containerd.cri.runtime-handler`` is only there when the
  pod carries it as an annotation and the handler's ``pod_annotations`` let it through. The bundle is
  ``<state>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json`` (``core/runtime/v2/bundle.go``
  ``NewBundle``; the CRI namespace is ``k8s.io``), the same in 1.x and 2.x.
* CRI-O (``server/sandbox_run_linux.go`` ``setupSandboxAnnotations``, ``internal/annotations/annotations.go``):
  ``io.kubernetes.cri-o.ContainerType`` (``sandbox``), ``io.kubernetes.cri-o.RuntimeHandler``,
  ``io.kubernetes.cri-o.Namespace``, ``io.kubernetes.cri-o.KubeName``, and the pod's labels copied as annotations,
  among them the kubelet's ``io.kubernetes.pod.name``, ``io.kubernetes.pod.namespace`` and ``io.kubernetes.pod.uid``
  (``populateSandboxLabels`` adds them when a client did not). The spec is saved to the sandbox container's run
  directory, ``<runroot>/<driver>-containers/<id>/userdata/config.json`` with containers/storage's defaults
  (``/run/containers/storage``, ``overlay``).

How the sandbox ID leads to its bundle: the Go runtime persists, for the sandbox container, the bundle path it was
started from (``src/runtime/virtcontainers/persist/api/container.go`` ``ContainerState.BundlePath``, written by
``persist/fs/fs.go`` to ``/run/vc/sbs/<id>/<container id>/persist.json``; the sandbox's own ``persist.json`` names
that container, ``SandboxState.SandboxContainer``). runtime-rs persists no bundle path (its
``/run/kata/<id>/state.json`` holds ``sandbox_type``, ``resource`` and ``hypervisor``,
``virt_container/src/sandbox_persist.rs``), so its bundle is found by the ID in the engines' directories, which is
also the fallback for the Go runtime.
"""

from __future__ import annotations

import errno
import json
import os
import re

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, KataError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import FileTooLarge, NotRegularFile, read_file
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import (
    DEFAULT_CONTAINERD_NAMESPACE,
    DEFAULT_CONTAINERD_STATE_DIR,
    DEFAULT_CRIO_CONTAINERS_DIR,
    DEFAULT_RS_SANDBOX_ROOT,
    DEFAULT_SANDBOX_ROOT,
    RUNTIME_GO,
    check_path_option,
    is_valid_sandbox_id,
    list_sandboxes,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr

ENGINE_CONTAINERD = 'containerd'
ENGINE_CRIO = 'crio'
CONFIG_FILE = 'config.json'
GO_PERSIST_FILE = 'persist.json'
MAX_JSON_BYTES = 8 * 1024 * 1024

# containerd's CRI plugin (pkg/cri/annotations, internal/cri/annotations).
CONTAINERD_CONTAINER_TYPE = 'io.kubernetes.cri.container-type'
CONTAINERD_SANDBOX_ID = 'io.kubernetes.cri.sandbox-id'
CONTAINERD_SANDBOX_NAMESPACE = 'io.kubernetes.cri.sandbox-namespace'
CONTAINERD_SANDBOX_NAME = 'io.kubernetes.cri.sandbox-name'
CONTAINERD_SANDBOX_UID = 'io.kubernetes.cri.sandbox-uid'
CONTAINERD_RUNTIME_HANDLER = 'io.containerd.cri.runtime-handler'
# CRI-O (internal/annotations) and the kubelet's pod labels (k8s.io/kubelet/pkg/types/labels.go).
CRIO_CONTAINER_TYPE = 'io.kubernetes.cri-o.ContainerType'
CRIO_RUNTIME_HANDLER = 'io.kubernetes.cri-o.RuntimeHandler'
CRIO_NAMESPACE = 'io.kubernetes.cri-o.Namespace'
CRIO_KUBE_NAME = 'io.kubernetes.cri-o.KubeName'
KUBE_POD_NAME = 'io.kubernetes.pod.name'
KUBE_POD_NAMESPACE = 'io.kubernetes.pod.namespace'
KUBE_POD_UID = 'io.kubernetes.pod.uid'
CONTAINER_TYPE_SANDBOX = 'sandbox'

# A namespace is a DNS label (RFC 1123), a pod name a DNS subdomain (Kubernetes' validation rules).
_NAMESPACE_RE = re.compile(r'[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?')
_NAME_RE = re.compile(r'(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')


class PodNotFound(KataError):
    """No sandbox, or more than one, belongs to the pod asked for."""


def parse_pod(value, option='pod'):
    """``(namespace, name)`` from ``<namespace>/<name>``, else ArgumentError naming ``option`` and the value."""
    expected = ('expected "<namespace>/<name>": a Kubernetes namespace (lower-case letters, digits and "-", at most '
                '63 characters), a slash and a pod name (lower-case letters, digits, "-" and ".", at most 253 '
                'characters), e.g. "default/nginx"')
    if not isinstance(value, str):
        raise ArgumentError('%s: invalid pod %s: %s' % (option, short_repr(value), expected))
    namespace, sep, name = value.partition('/')
    if not sep or not _NAMESPACE_RE.fullmatch(namespace) or not _NAME_RE.fullmatch(name):
        raise ArgumentError('%s: invalid pod %s: %s' % (option, short_repr(value), expected))
    return namespace, name


def _read_json(path):
    """The JSON object in ``path`` (a regular file, not a symbolic link, at most MAX_JSON_BYTES), None when it does
    not exist; ValueError saying why it cannot be used otherwise."""
    try:
        raw = read_file(path, MAX_JSON_BYTES)
    except NotRegularFile:
        raise ValueError('%s is not a regular file' % path) from None
    except FileTooLarge:
        raise ValueError('%s is larger than %d bytes' % (path, MAX_JSON_BYTES)) from None
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        if exc.errno == errno.ELOOP:
            raise ValueError('%s is a symbolic link (not followed)' % path) from None
        raise ValueError('cannot read %s: %s' % (path, exc.strerror or exc)) from None
    try:
        data = json.loads(raw.decode('utf-8'))
    except (ValueError, RecursionError) as exc:
        raise ValueError('%s is not valid JSON: %s' % (path, exc)) from None
    if not isinstance(data, dict):
        raise ValueError('%s does not hold a JSON object' % path)
    return data


def go_bundle(sandbox_root, sandbox_id):
    """The bundle directory the Go runtime recorded for the sandbox container of ``sandbox_id``, or None."""
    state = _read_json(os.path.join(sandbox_root, sandbox_id, GO_PERSIST_FILE))
    container = (state or {}).get('SandboxContainer') or sandbox_id
    if not isinstance(container, str) or not is_valid_sandbox_id(container):
        return None
    container_state = _read_json(os.path.join(sandbox_root, sandbox_id, container, GO_PERSIST_FILE))
    bundle = (container_state or {}).get('BundlePath')
    if not isinstance(bundle, str) or not bundle or '\0' in bundle or not os.path.isabs(bundle):
        return None
    return bundle


def _text(annotations, *keys):
    for key in keys:
        value = annotations.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def pod_from_spec(spec):
    """``{engine, namespace, name, uid, handler}`` from the annotations of a sandbox container's OCI spec, or None
    when the spec is not a pod sandbox's (no engine's annotations, or a container's rather than the sandbox's)."""
    annotations = spec.get('annotations')
    if not isinstance(annotations, dict):
        return None
    if annotations.get(CONTAINERD_CONTAINER_TYPE) == CONTAINER_TYPE_SANDBOX:
        return {'engine': ENGINE_CONTAINERD,
                'namespace': _text(annotations, CONTAINERD_SANDBOX_NAMESPACE),
                'name': _text(annotations, CONTAINERD_SANDBOX_NAME),
                'uid': _text(annotations, CONTAINERD_SANDBOX_UID),
                'handler': _text(annotations, CONTAINERD_RUNTIME_HANDLER)}
    if annotations.get(CRIO_CONTAINER_TYPE) == CONTAINER_TYPE_SANDBOX:
        return {'engine': ENGINE_CRIO,
                'namespace': _text(annotations, KUBE_POD_NAMESPACE, CRIO_NAMESPACE),
                'name': _text(annotations, KUBE_POD_NAME, CRIO_KUBE_NAME),
                'uid': _text(annotations, KUBE_POD_UID),
                'handler': _text(annotations, CRIO_RUNTIME_HANDLER)}
    return None


def metadata_locations(params):
    """The engines' directories from a module's params (validated paths), as a dict."""
    return {
        'sandbox_root': check_path_option(params.get('sandbox_root') or DEFAULT_SANDBOX_ROOT, 'sandbox_root'),
        'containerd_state_dir': check_path_option(params.get('containerd_state_dir') or DEFAULT_CONTAINERD_STATE_DIR,
                                                  'containerd_state_dir'),
        'containerd_namespace': params.get('containerd_namespace') or DEFAULT_CONTAINERD_NAMESPACE,
        'crio_containers_dir': check_path_option(params.get('crio_containers_dir') or DEFAULT_CRIO_CONTAINERS_DIR,
                                                 'crio_containers_dir'),
    }


def _bundles(sandbox_id, runtime, where):
    """The bundle directories where the sandbox container's spec may be, in the order they are tried."""
    bundles = []
    if runtime == RUNTIME_GO:
        bundle = go_bundle(where['sandbox_root'], sandbox_id)
        if bundle:
            bundles.append(bundle)
    bundles.append(os.path.join(where['containerd_state_dir'], where['containerd_namespace'], sandbox_id))
    bundles.append(os.path.join(where['crio_containers_dir'], sandbox_id, 'userdata'))
    return bundles


def pod_of(sandbox_id, runtime, where):
    """``(pod or None, problem or None)`` for one sandbox: ``pod`` is {engine, namespace, name, uid, handler,
    bundle}; ``problem`` says why a bundle that is there could not be read."""
    problems = []
    seen = set()
    for bundle in _bundles(sandbox_id, runtime, where):
        if bundle in seen:
            continue
        seen.add(bundle)
        try:
            spec = _read_json(os.path.join(bundle, CONFIG_FILE))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if spec is None:
            continue
        pod = pod_from_spec(spec)
        if pod is not None:
            pod['bundle'] = bundle
            return pod, None
    return None, '; '.join(problems) if problems else None


def resolve_pod(params, option='pod'):
    """The sandbox of the pod ``params[option]`` (``<namespace>/<name>``): ``{'id', 'runtime', 'socket', 'pod'}``.

    Every sandbox under the two roots is looked at; exactly one must belong to the pod, else PodNotFound naming the
    pods that are there (none) or the candidates (several: a pod whose sandbox was recreated may have two for a
    while). Bad format: ArgumentError.
    """
    namespace, name = parse_pod(params.get(option), option)
    where = metadata_locations(params)
    sandbox_root = where['sandbox_root']
    rs_sandbox_root = check_path_option(params.get('rs_sandbox_root') or DEFAULT_RS_SANDBOX_ROOT, 'rs_sandbox_root')
    sandboxes = list_sandboxes(sandbox_root, rs_sandbox_root)
    matches = []
    others = []
    problems = []
    for sandbox in sandboxes:
        pod, problem = pod_of(sandbox['id'], sandbox['runtime'], where)
        if problem:
            problems.append('%s: %s' % (sandbox['id'], problem))
        if pod is None:
            continue
        if pod['namespace'] == namespace and pod['name'] == name:
            matches.append(dict(sandbox, pod=pod))
        else:
            others.append('%s/%s' % (pod['namespace'], pod['name']))
    if len(matches) == 1:
        return matches[0]
    wanted = '%s/%s' % (namespace, name)
    if matches:
        described = ['%s (runtime %s, pod uid %s, %s)' % (m['id'], m['runtime'], m['pod']['uid'], m['pod']['bundle'])
                     for m in matches]
        raise PodNotFound('%s: %d sandboxes belong to pod %s: %s; name the one you mean with sandbox_id instead'
                          % (option, len(matches), wanted, ', '.join(described)),
                          candidates=[m['id'] for m in matches])
    if others:
        found = 'pods with a Kata sandbox here: %s' % ', '.join(sorted(set(others)))
    else:
        found = 'no sandbox here has pod metadata'
    looked = '%d sandbox%s under %s and %s' % (len(sandboxes), '' if len(sandboxes) == 1 else 'es', sandbox_root,
                                               rs_sandbox_root)
    note = (' (unreadable: %s)' % '; '.join(problems)) if problems else ''
    raise PodNotFound('%s: no Kata sandbox belongs to pod %s (%s; %s; the pod metadata is read from the sandbox '
                      'bundles under %s/%s and %s)%s'
                      % (option, wanted, looked, found, where['containerd_state_dir'], where['containerd_namespace'],
                         where['crio_containers_dir'], note), candidates=[])


def apply_pod(params, option='pod'):
    """For the modules that take ``pod`` instead of ``sandbox_id``: when ``pod`` is set, resolve it and put the
    sandbox's ID into ``params['sandbox_id']``. Returns the resolution (see resolve_pod) or None."""
    if params.get(option) is None:
        return None
    found = resolve_pod(params, option)
    params['sandbox_id'] = found['id']
    return found


def pod_result(found):
    """What the modules return about the pod they resolved."""
    pod = found['pod']
    return {'namespace': pod['namespace'], 'name': pod['name'], 'uid': pod['uid'], 'handler': pod['handler'],
            'engine': pod['engine'], 'sandbox_id': found['id'], 'runtime': found['runtime']}
