#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_direct_volume
short_description: Manage the direct-assigned volumes of Kata Containers on a host
version_added: 0.1.0
description:
  - The native, idempotent form of C(kata-runtime direct-volume add), C(remove), C(stats) and C(resize).
  - A direct-assigned volume is a host block device (or other volume) that Kata Containers hands to the sandbox VM
    directly instead of sharing it through the host file system. kata-runtime records it under O(volume_root), in a
    directory named with the URL-safe base64 (with padding) of the volume path, holding C(mountInfo.json). The shim
    uses that record when a container mounts the volume path, and then adds an empty file named after the sandbox.
  - With O(state=present) the record holds O(mount_info), in kata's format (directory mode C(0700), file mode
    C(0600), the JSON keys C(volume-type), C(device), C(fstype), C(metadata) and C(options)). The file is written
    atomically and only when what kata would read from it differs from O(mount_info), or its mode is wrong. A new
    record appears whole (its directory is built with C(mountInfo.json) under a temporary name in O(volume_root),
    then renamed into place), so that kata never finds a volume without its mount information, even when the task
    is killed; what a killed task leaves behind is removed by the next one.
  - With O(state=absent) the volume's record is removed, and nothing else.
  - When a sandbox uses the volume, O(stats) returns the guest's view of it and O(size) grows it, through that
    sandbox's shim management API, like C(kata-runtime direct-volume stats) and C(resize).
  - Unlike kata-runtime, an empty O(volume_path) is refused (kata-runtime would write into, or delete, the whole
    O(volume_root)), and symbolic links planted at the volume directory or at C(mountInfo.json) are never followed.
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._shim
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.actiongroup_kata
  - katacontainers.kata._attributes.platform
attributes:
  check_mode:
    support: full
    details:
      - Nothing is written, removed or resized in check mode. O(stats) are still read, as they change nothing.
  diff_mode:
    support: full
    details:
      - The diff shows C(mountInfo.json) before and after, as indented JSON, with the modes in the headers.
      - When a resize is due, a second diff shows the size the guest reports and the size wanted.
  idempotent:
    support: full
    details:
      - With O(size), the guest's file system size is compared with O(size). A file system is smaller than its
        device, so give O(size) as the file system size wanted, or the resize is asked for on every run.
options:
  volume_path:
    description:
      - The path of the volume as containers mount it (the source of the bind mount in the container
        specification), for example a CSI driver's staging path.
      - It is recorded as given, without normalisation, like kata-runtime does. It must not be empty, must not
        contain NUL, and its encoded form must fit in a file name (at most 189 bytes).
      - With O(state=present) it must also be a path kata can look the volume up by. kata finds a direct volume by
        the source of a container's bind mount, compared byte for byte and never cleaned, and that source is an
        absolute, clean path (as kubelet builds it). So a relative path (V(relative/vol)) and a path that is not in
        its clean form (V(/a//b), V(/a/./b), V(/a/../b), V(/a/b/)) are refused, naming the clean form.
        O(state=absent) accepts them, to remove a record written under such a name before.
    type: str
    required: true
  state:
    description:
      - V(present) makes the volume's record hold O(mount_info); V(absent) removes the record.
    type: str
    choices: [present, absent]
    default: present
  mount_info:
    description:
      - What kata needs to attach the volume. Required with O(state=present).
    type: dict
    suboptions:
      volume_type:
        description:
          - The kind of volume, kata's C(volume-type), for example V(block).
          - Required with O(state=present).
        type: str
      device:
        description:
          - The host device backing the volume, for example V(/dev/sdb).
          - Required with O(state=present).
        type: str
      fstype:
        description:
          - The file system to mount from the device, for example V(ext4). Empty when not set.
        type: str
      metadata:
        description:
          - Extra information for the shim and the agent, string keys to string values (integers are taken as their
            decimal text).
          - The 3.0.0 shim understands C(fsGroup), a decimal group ID given to the volume's files, and
            C(fsGroupChangePolicy), V(Always) or V(OnRootMismatch), only together with C(fsGroup).
        type: dict
      options:
        description:
          - Mount options, for example V(ro) to mount the volume read-only.
        type: list
        elements: str
  size:
    description:
      - The size the volume should have in the guest, in bytes, or a size string.
      - A size string is a number and a unit. V(Ki), V(Mi), V(Gi), V(Ti), V(Pi) and V(Ei) are powers of 1024, V(k)
        (or V(K)), V(M), V(G), V(T), V(P) and V(E) powers of 1000, as in Kubernetes quantities; a trailing V(B) is
        allowed. V(10Gi) is 10737418240 bytes, V(10G) is 10000000000 bytes, V(1.5Gi) is 1610612736 bytes.
      - When a sandbox uses the volume and the guest reports a smaller total size, the sandbox's shim is asked to
        resize it (C(POST /direct-volume/resize)). The volume is never shrunk.
      - The Kata agents from 3.0.0 up to at least 4.0.0 do not implement the resize; with them the task fails with
        the agent's answer.
      - Ignored, with a warning, while no sandbox uses the volume.
    type: raw
  stats:
    description:
      - Return the guest's statistics of the volume (bytes and inodes) as RV(volume.stats), read through the shim
        of the sandbox that uses the volume (C(GET /direct-volume/stats)).
      - RV(volume.stats) is V(null) while no sandbox uses the volume.
    type: bool
    default: false
  volume_root:
    description:
      - The directory where kata records the direct-assigned volumes. It is created (mode C(0700)) when missing.
    type: path
    default: /run/kata-containers/shared/direct-volumes
notes:
  - The sandbox that uses the volume is the one kata-runtime finds, the first entry of the volume's directory by name
    other than C(mountInfo.json). The shim options (O(shim_socket), O(sandbox_root), O(rs_sandbox_root),
    O(timeout), O(transport)) say how to reach its shim; they are only used for O(stats) and O(size).
  - O(mount_info), O(size) and O(stats) are ignored with O(state=absent).
  - Removing the record of a volume a running sandbox uses does not detach it; the module warns.
  - A runtime-rs sandbox (kata 3.2.0 and later) serves the stats and the resize differently from the Go shim, and
    the module speaks its dialect (C(POST /direct-volume/stats), a resize body of C(volume_guest_path) and C(size),
    its text answer read into the same RV(volume.stats) shape). runtime-rs hands the path it is given to the agent
    unchanged, as the path of the volume inside the guest, while kata's record names the host device, so the agent
    cannot open it; runtime-rs then closes the connection without an answer, and the task fails saying that the
    shim's handler failed, and why.
  - The records belong to root, so this module normally runs with C(become=true).
seealso:
  - module: katacontainers.kata.kata_sandbox_info
  - name: kata-runtime direct-volume
    description: The commands this module replaces.
    link: https://github.com/kata-containers/kata-containers/blob/main/src/runtime/cmd/kata-runtime/kata-volume.go
  - name: Direct-assigned volumes in Kata Containers
    description: The design of the feature.
    link: https://github.com/kata-containers/kata-containers/blob/main/docs/design/direct-blk-device-assignment.md
"""

EXAMPLES = r"""
---
- name: Record a direct-assigned block volume
  katacontainers.kata.kata_direct_volume:
    volume_path: /var/lib/kubelet/plugins/kubernetes.io/csi/pv/pvc-0a1b2c/globalmount
    mount_info:
      volume_type: block
      device: /dev/sdb
      fstype: ext4
      metadata:
        fsGroup: 2000
        fsGroupChangePolicy: OnRootMismatch
      options:
        - noatime
  become: true

- name: Show the guest's view of the volume once a sandbox uses it
  katacontainers.kata.kata_direct_volume:
    volume_path: /var/lib/kubelet/plugins/kubernetes.io/csi/pv/pvc-0a1b2c/globalmount
    mount_info:
      volume_type: block
      device: /dev/sdb
      fstype: ext4
    stats: true
  become: true
  register: kata_volume

- name: Report the free space
  ansible.builtin.debug:
    msg: "{{ kata_volume.volume.stats.usage[0].available }} bytes free in sandbox {{ kata_volume.volume.sandbox_id }}"
  when: kata_volume.volume.stats is not none

- name: Grow the volume's file system to at least 20 GiB (needs an agent that implements the resize)
  katacontainers.kata.kata_direct_volume:
    volume_path: /var/lib/kubelet/plugins/kubernetes.io/csi/pv/pvc-0a1b2c/globalmount
    mount_info:
      volume_type: block
      device: /dev/sdb
      fstype: ext4
    size: 20Gi
  become: true

- name: Remove the record of the volume
  katacontainers.kata.kata_direct_volume:
    volume_path: /var/lib/kubelet/plugins/kubernetes.io/csi/pv/pvc-0a1b2c/globalmount
    state: absent
  become: true
"""

RETURN = r"""
volume:
  description: The volume's record as the task left it (in check mode, as it would leave it).
  returned: success
  type: dict
  contains:
    volume_path:
      description: The volume path.
      type: str
      sample: /var/lib/kubelet/plugins/kubernetes.io/csi/pv/pvc-0a1b2c/globalmount
    directory:
      description: The directory of the record, under O(volume_root).
      type: str
      sample: /run/kata-containers/shared/direct-volumes/L2EvYg==
    mount_info:
      description: The mount information recorded, with the keys of O(mount_info); V(null) with O(state=absent).
      type: dict
      sample:
        volume_type: block
        device: /dev/sdb
        fstype: ext4
        metadata: {"fsGroup": "2000"}
        options: [noatime]
    sandbox_id:
      description: The sandbox that uses the volume, as kata-runtime finds it; V(null) when none does.
      type: str
      sample: 4f7a6d0c2b1e4e0f9a3c8d7e6b5a4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b
    stats:
      description:
        - The guest's statistics of the volume, the shim's answer as is. C(usage) lists the bytes (C(unit=1)) and the
          inodes (C(unit=2)), each with C(total), C(used) and C(available) (computed by the agent from the free
          blocks); keys with zero values are left out by the shim.
        - V(null) when no sandbox uses the volume.
      type: dict
      returned: when O(stats=true) and O(state=present)
      sample:
        usage:
          - {"available": 9735507968, "total": 10464022528, "used": 728514560, "unit": 1}
          - {"available": 655349, "total": 655360, "used": 11, "unit": 2}
        volume_condition: {"message": "OK"}
url:
  description: The URL of the failed shim request.
  returned: failure, when a request to the shim failed
  type: str
  sample: http://shim/direct-volume/stats?path=%2Fvolumes%2Fdata
  version_added: 0.2.0
status:
  description: The HTTP status of the failed request. V(null) when there was no HTTP answer.
  returned: failure, when a request to the shim failed
  type: int
  sample: 500
  version_added: 0.2.0
body:
  description:
    - The body of the shim's error answer, as text, cut to 2048 characters (the Go shim answers status 500 with the
      agent's error).
  returned: failure, when the shim answered with an error status
  type: str
  sample: "ttrpc: closed"
  version_added: 0.2.0
handler_failed:
  description:
    - V(true) when the shim closed the connection without an HTTP answer, as runtime-rs does when its handler returns
      an error (and the Go shim when a handler panics); the reason is then only in the shim's log, and RV(status) is
      V(null).
  returned: failure, when the shim closed the connection before answering
  type: bool
  sample: true
  version_added: 0.2.0
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._direct_volume import (
    DEFAULT_VOLUME_ROOT,
    direct_volume_module,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import shim_argument_spec


def main():
    argument_spec = shim_argument_spec()
    argument_spec.update(
        volume_path=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        mount_info=dict(type='dict', options=dict(
            volume_type=dict(type='str'),
            device=dict(type='str'),
            fstype=dict(type='str'),
            metadata=dict(type='dict'),
            options=dict(type='list', elements='str'),
        )),
        size=dict(type='raw'),
        stats=dict(type='bool', default=False),
        volume_root=dict(type='path', default=DEFAULT_VOLUME_ROOT),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[('state', 'present', ['mount_info'])],
        supports_check_mode=True,
    )
    run(module, direct_volume_module)


if __name__ == '__main__':
    main()
