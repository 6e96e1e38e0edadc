#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_sandbox_info
short_description: List the Kata Containers sandboxes and direct volumes of a host
version_added: 0.1.0
description:
  - Lists the sandboxes of the Go runtime (directories under O(sandbox_root)) and of runtime-rs (under
    O(rs_sandbox_root)), and asks each sandbox's shim management API whether it answers.
  - Each shim is sent one C(GET /agent-url), a read-only request that does not reach into the guest. Any HTTP answer
    within O(timeout) makes the sandbox RV(sandboxes[].reachable). The shims are asked concurrently (up to 128 at a
    time), so a host whose shims all hang costs about one O(timeout), not one per sandbox.
  - Lists the direct-assigned volumes kata-runtime C(direct-volume add) recorded under O(volume_root), with the
    volume path decoded from the directory name, the mount information and the sandbox using the volume.
  - Reports each sandbox's Kata runtime and, where the container engine (containerd's CRI plugin or CRI-O) left the
    sandbox's OCI bundle on the node, the Kubernetes pod it belongs to (namespace, name, UID) and the runtime
    handler, from the annotations the engine wrote into the bundle's C(config.json).
  - Nothing is changed on the host.
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._shim
  - katacontainers.kata._shim.pod_metadata
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.info_module
  - katacontainers.kata._attributes.actiongroup_kata
  - katacontainers.kata._attributes.platform
options:
  sandbox_id:
    description:
      - Only report these sandboxes (one ID or a list). Each must match kata's sandbox ID pattern
        C(^[a-zA-Z0-9][a-zA-Z0-9_.-]+$).
      - A sandbox that is not found is still reported, with RV(sandboxes[].reachable=false) and the reason in
        RV(sandboxes[].error).
      - When set, only the direct volumes used by these sandboxes are listed.
      - Required with O(shim_socket), and then exactly one.
    type: list
    elements: str
  agent_url:
    description:
      - Also return the URL the shim uses to reach the sandbox's agent (C(vsock://<cid>:1024) or
        C(hvsock://<path>:1024)), as RV(sandboxes[].agent_url).
    type: bool
    default: false
  volumes:
    description:
      - List the direct volumes under O(volume_root).
    type: bool
    default: true
  pods:
    description:
      - Read each sandbox's pod metadata (RV(sandboxes[].pod)).
    type: bool
    default: true
    version_added: 0.2.0
  volume_root:
    description:
      - Directory where kata-runtime records direct-assigned volumes.
    type: path
    default: /run/kata-containers/shared/direct-volumes
notes:
  - A sandbox directory whose shim has exited is still listed, with RV(sandboxes[].reachable=false).
  - The sandbox of a direct volume is found the way C(kata-runtime direct-volume stats) finds it, the first entry
    of the volume's directory by name other than C(mountInfo.json), so it is the same even when that entry is stale.
seealso:
  - module: katacontainers.kata.kata_metrics
  - module: katacontainers.kata.kata_direct_volume
  - name: The shim management API
    description: The HTTP server each Kata shim runs on its management socket.
    link: https://github.com/kata-containers/kata-containers/blob/main/src/runtime/pkg/containerd-shim-v2/shim_management.go
"""

EXAMPLES = r"""
---
- name: List the sandboxes and direct volumes of the host
  katacontainers.kata.kata_sandbox_info:
  become: true
  register: kata_info

- name: Show the sandboxes whose shim does not answer
  ansible.builtin.debug:
    msg: "{{ kata_info.sandboxes | rejectattr('reachable') | map(attribute='id') | list }}"

- name: The sandboxes of the pods in namespace shop (containerd under k3s)
  katacontainers.kata.kata_sandbox_info:
    containerd_state_dir: /run/k3s/containerd/io.containerd.runtime.v2.task
    volumes: false
  become: true
  register: kata_info_k3s

- name: Show them as pod -> sandbox
  ansible.builtin.debug:
    msg: >-
      {{ kata_info_k3s.sandboxes | selectattr('pod') | selectattr('pod.namespace', 'eq', 'shop')
         | map(attribute='pod.name') | zip(kata_info_k3s.sandboxes | selectattr('pod')
         | selectattr('pod.namespace', 'eq', 'shop') | map(attribute='id')) | list }}

- name: The agent URLs of two sandboxes, with a shorter timeout
  katacontainers.kata.kata_sandbox_info:
    sandbox_id:
      - 3f1d0f4e9c2b
      - a8e7c6b5d4e3
    agent_url: true
    volumes: false
    timeout: 1
  become: true
  register: kata_agents

- name: A shim listening on a socket of its own
  katacontainers.kata.kata_sandbox_info:
    sandbox_id: 3f1d0f4e9c2b
    shim_socket: /srv/kata/3f1d0f4e9c2b/shim-monitor.sock
  become: true

- name: Set the shim options once for every Kata module of a play
  module_defaults:
    group/katacontainers.kata.kata:
      timeout: 5
  block:
    - name: List the sandboxes
      katacontainers.kata.kata_sandbox_info:
        volumes: false
      become: true
"""

RETURN = r"""
sandboxes:
  description: The sandboxes found (or asked for with O(sandbox_id)), sorted by ID unless O(sandbox_id) gives the order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The sandbox ID.
      type: str
      sample: 3f1d0f4e9c2b
    runtime:
      description:
        - The Kata runtime whose shim serves the sandbox, V(go) for the Go runtime's C(containerd-shim-kata-v2)
          (a sandbox under O(sandbox_root)), V(rust) for runtime-rs (a sandbox under O(rs_sandbox_root)).
        - V(null) when the socket was given with O(shim_socket) or the sandbox was not found.
      type: str
      sample: go
    pod:
      description:
        - The Kubernetes pod of the sandbox, from the annotations the container engine wrote into the sandbox's OCI
          bundle (C(config.json)); V(null) when no engine left one (a sandbox not started by a CRI engine, or
          metadata elsewhere than O(containerd_state_dir) and O(crio_containers_dir)).
      returned: when O(pods=true)
      type: dict
      version_added: 0.2.0
      contains:
        engine:
          description: V(containerd) or V(crio).
          type: str
          sample: containerd
        namespace:
          description: The pod's namespace.
          type: str
          sample: default
        name:
          description: The pod's name.
          type: str
          sample: nginx
        uid:
          description: The pod's UID.
          type: str
          sample: 6f0a4a53-1a8e-4b7b-9a61-0c1f2d3e4f5a
        handler:
          description:
            - The runtime handler. CRI-O always records it (C(io.kubernetes.cri-o.RuntimeHandler)); containerd only
              when the pod carries the C(io.containerd.cri.runtime-handler) annotation and the handler's
              C(pod_annotations) let it through, so it is often V(null) there.
          type: str
          sample: kata-qemu
        bundle:
          description: The bundle directory the metadata was read from.
          type: str
          sample: /run/containerd/io.containerd.runtime.v2.task/k8s.io/3f1d0f4e9c2b
    socket:
      description: Path of the shim management socket (where it is, or would be); V(null) when the sandbox was not found.
      type: str
      sample: /run/vc/sbs/3f1d0f4e9c2b/shim-monitor.sock
    reachable:
      description: Whether the shim answered an HTTP request within O(timeout).
      type: bool
      sample: true
    error:
      description:
        - Why the shim could not be reached, or why its agent URL could not be read; V(null) when all went well.
      type: str
      sample: >-
        GET http://shim/agent-url via /run/vc/sbs/3f1d0f4e9c2b/shim-monitor.sock: connection refused (nothing
        listens on the socket: the shim may have exited)
    agent_url:
      description: The URL the shim uses to reach the agent; V(null) when it could not be read.
      returned: when O(agent_url=true)
      type: str
      sample: vsock://1234567:1024
volumes:
  description: The direct-assigned volumes, sorted by directory name.
  returned: when O(volumes=true)
  type: list
  elements: dict
  contains:
    name:
      description: The directory name under O(volume_root), the URL-safe base64 (with padding) of the volume path.
      type: str
      sample: L2Rldi9zZGI=
    volume_path:
      description: The volume path decoded from RV(volumes[].name); V(null) when the name does not decode.
      type: str
      sample: /dev/sdb
    mount_info:
      description:
        - The content of C(mountInfo.json) as kata reads it, in the form M(katacontainers.kata.kata_direct_volume) takes
          in O(katacontainers.kata.kata_direct_volume#module:mount_info) and returns in
          RV(katacontainers.kata.kata_direct_volume#module:volume.mount_info), with the keys C(volume_type) (kata's
          C(volume-type)), C(device), C(fstype), C(metadata) and C(options). Missing fields are empty (V("") for the
          strings, V({}) and V([]) for C(metadata) and C(options)).
        - Keys are matched the way kata matches them (case-insensitively) and unknown keys are ignored.
        - V(null) when C(mountInfo.json) is missing, is not a regular file, or kata could not read it (not JSON, or a
          value of the wrong type); RV(volumes[].error) then says why.
      type: dict
      sample: {"volume_type": "block", "device": "/dev/sdb", "fstype": "ext4", "metadata": {}, "options": ["ro"]}
    sandbox_id:
      description: The sandbox that uses the volume, as kata records it; V(null) when none does.
      type: str
      sample: 3f1d0f4e9c2b
    error:
      description:
        - What is wrong with this volume (a name that does not decode, a missing or invalid C(mountInfo.json));
          V(null) when nothing is.
      type: str
      sample: null
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import pod_metadata_argument_spec, shim_argument_spec
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox_info import sandbox_info_module
from ansible_collections.katacontainers.kata.plugins.module_utils._volume_store import DEFAULT_VOLUME_ROOT


def main():
    argument_spec = shim_argument_spec()
    argument_spec.update(pod_metadata_argument_spec())
    argument_spec.update(
        sandbox_id=dict(type='list', elements='str'),
        pods=dict(type='bool', default=True),
        agent_url=dict(type='bool', default=False),
        volumes=dict(type='bool', default=True),
        volume_root=dict(type='path', default=DEFAULT_VOLUME_ROOT),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run(module, sandbox_info_module)


if __name__ == '__main__':
    main()
