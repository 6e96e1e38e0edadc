# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # The options of the modules that talk to a sandbox's shim management API.
    # Must be kept in sync with shim_argument_spec() in plugins/module_utils/_sandbox.py.
    DOCUMENTATION = r"""
options:
  shim_socket:
    description:
      - Path of the shim management socket to use, instead of looking it up from the sandbox ID.
      - For a shim that listens somewhere else than kata's usual places, or a test server.
      - The path must be the unix socket itself. A symbolic link is refused rather than followed, so that nobody
        who can write to a directory on the way can redirect a request made as root.
    type: path
  sandbox_root:
    description:
      - Directory of the Go runtime's sandboxes. A sandbox's shim socket is looked up as
        C(<sandbox_root>/<sandbox id>/shim-monitor.sock) first, then as
        C(<rs_sandbox_root>/<sandbox id>/shim-monitor.sock), like kata-runtime 3.2.0 and later.
    type: path
    default: /run/vc/sbs
  rs_sandbox_root:
    description:
      - Directory of the runtime-rs sandboxes, searched after O(sandbox_root).
    type: path
    default: /run/kata
  timeout:
    description:
      - Seconds allowed for each request to a shim, from connecting to the last byte of the answer, like
        kata-runtime's 3 seconds. A shim that answers slowly, byte by byte, cannot stretch it.
      - Must be greater than 0.
    type: float
    default: 3
  transport:
    description:
      - How to speak HTTP over the shim's unix socket.
      - V(stdlib) uses a small HTTP/1.1 client built on the Python standard library. It needs nothing installed
        and costs the least time per task.
      - V(requests) uses the C(requests) and C(requests-unixsocket) Python libraries, which must be installed on
        the managed node. Importing them adds about 0.1 seconds to every task, which is why they are never chosen
        automatically. Both transports apply the same timeout and size limits and give the same results.
    type: str
    choices: [stdlib, requests]
    default: stdlib
notes:
  - The shim management sockets are readable by root only, so these modules normally run with C(become=true).
  - Answers larger than 16 MiB are refused.
requirements:
  - C(requests) and C(requests-unixsocket) (or C(requests-unixsocket2)), only with O(transport=requests).
"""

    # The option of the modules that accept a pod instead of a sandbox ID (with POD_METADATA).
    # Must be kept in sync with pod_argument_spec() in plugins/module_utils/_sandbox.py.
    POD = r"""
options:
  pod:
    description:
      - The Kubernetes pod whose Kata sandbox to use, as C(<namespace>/<name>), instead of O(sandbox_id).
      - The pod is looked up in the metadata the container engine leaves on the node for each sandbox (see
        O(containerd_state_dir) and O(crio_containers_dir)). It is an error when no sandbox or more than one
        belongs to the pod (a pod whose sandbox was just recreated may have two for a while); the message names
        the candidates.
      - Mutually exclusive with O(sandbox_id); one of the two is required.
    type: str
    version_added: 0.2.0
"""

    # Where the container engines leave the pod metadata of each sandbox.
    # Must be kept in sync with pod_metadata_argument_spec() in plugins/module_utils/_sandbox.py.
    POD_METADATA = r"""
options:
  containerd_state_dir:
    description:
      - containerd's task state directory. containerd (1.x and 2.x) writes each pod sandbox's OCI bundle to
        C(<containerd_state_dir>/<containerd_namespace>/<sandbox id>/config.json), with the pod's namespace, name and
        UID in the annotations C(io.kubernetes.cri.sandbox-namespace), C(io.kubernetes.cri.sandbox-name) and
        C(io.kubernetes.cri.sandbox-uid).
      - k3s and rke2 use C(/run/k3s/containerd/io.containerd.runtime.v2.task), k0s
        C(/run/k0s/containerd/io.containerd.runtime.v2.task).
      - For the Go runtime, the bundle path the runtime recorded in C(<sandbox_root>/<id>/<id>/persist.json) is
        tried first.
    type: path
    default: /run/containerd/io.containerd.runtime.v2.task
    version_added: 0.2.0
  containerd_namespace:
    description:
      - The containerd namespace of the Kubernetes pods (the CRI plugin's).
    type: str
    default: k8s.io
    version_added: 0.2.0
  crio_containers_dir:
    description:
      - CRI-O's container directory in its storage run root. CRI-O writes each pod sandbox's OCI spec to
        C(<crio_containers_dir>/<sandbox id>/userdata/config.json), with the pod's labels
        C(io.kubernetes.pod.namespace), C(io.kubernetes.pod.name) and C(io.kubernetes.pod.uid) and the runtime
        handler (C(io.kubernetes.cri-o.RuntimeHandler)) in its annotations.
    type: path
    default: /run/containers/storage/overlay-containers
    version_added: 0.2.0
"""
