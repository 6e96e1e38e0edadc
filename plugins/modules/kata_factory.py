#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_factory
short_description: Manage the Kata Containers VM factory (VM template and VM cache)
version_added: 0.1.0
description:
  - The desired-state form of C(kata-runtime factory init), C(destroy) and C(status). The factory keeps VMs ready so
    that sandboxes start faster. What is managed is read from the C([factory]) table of the Kata configuration file.
  - With C(enable_template = true), the VM template is a tmpfs at C(template_path) holding the files C(memory) and
    C(state). O(state=present) runs C(kata-runtime factory init) when there is no template, then checks the files.
    O(state=absent) unmounts the tmpfs (lazily) and deletes the template, as C(kata-runtime factory destroy) does.
  - With C(vm_cache_number) greater than 0, the VM cache is a gRPC server that keeps that many paused VMs ready on
    the unix socket C(vm_cache_endpoint). O(state=present) starts C(kata-runtime factory init) in the background when
    no server answers, its output appended to O(log_path), and waits until the server answers. O(state=absent) asks it
    to stop (gRPC C(Quit)) and waits until it is gone.
  - With both enabled, the cache server creates the template when it starts and removes it when it stops, as
    kata-runtime does. A template left without a server is removed before a server is started, because kata's server
    refuses to start while one exists.
  - The state of both is always returned, read from the files, C(/proc/self/mountinfo) and the server's gRPC
    C(Status) answer, without running kata-runtime.
  - A configuration with neither enabled is an error naming the C([factory]) keys (kata-runtime only prints a
    message and succeeds).
  - A socket file at C(vm_cache_endpoint) that refuses connections (left by a server that was killed) is removed, so
    that a new server can start. A server that accepts connections but does not answer within O(timeout) fails the
    task; it is not touched.
  - A managed service (for example a systemd unit running C(kata-runtime factory init)) can run the cache server
    instead; this module then only reports it, and stops it with O(state=absent).
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.platform
  - katacontainers.kata._grpc_dep
  - katacontainers.kata._host
attributes:
  check_mode:
    support: full
    details:
      - The template and the server are looked at (a gRPC C(Status) call included), nothing is changed. RV(actions)
        lists what would be done; RV(cache) and RV(template) are the state found.
  diff_mode:
    support: full
    details:
      - The diff shows the state of the cache (V(running), V(stopped) or V(disabled)) and of the template (V(present),
        V(absent) or V(disabled)) before and after.
  idempotent:
    support: full
options:
  state:
    description:
      - V(present) makes the enabled parts of the factory exist, V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  log_path:
    description:
      - File the cache server's output is appended to (it is also passed to C(kata-runtime) as C(--log), so that
        kata's own log lines land there too). Created with mode 0640 when missing; its directory must exist.
    type: path
    default: /var/log/kata-vm-cache.log
  timeout:
    description:
      - Seconds allowed for each gRPC call to the cache server, connecting included, like kata-runtime's 3 seconds
        for its other clients.
      - Must be greater than 0.
    type: float
    default: 3
  wait_timeout:
    description:
      - Seconds to wait for a cache server that was just started to answer, and for a stopped one to go away.
      - A server that does not answer in time is stopped again and the task fails with the end of its output.
      - Must be greater than 0.
    type: float
    default: 60
notes:
  - O(config) is also passed to C(kata-runtime) with C(--config). It must be a Go runtime configuration (the VM factory
    is kata-runtime's); a runtime-rs one is refused. Keep a single C([hypervisor.*]) table in configurations used for
    the factory.
  - O(runtime_path) is only needed when something must be created; stopping and removing are done without it.
  - Creating and removing a template mounts and unmounts a tmpfs, and kata's default paths are under C(/run) and
    C(/var/run). Run the task as root (C(become=true)).
  - The module does not edit the configuration file; set the C([factory]) keys first, for example with the
    P(katacontainers.kata.vm_factory#role) role (it writes them as a drop-in file in the C(config.d) directory beside
    the configuration file) or with M(ansible.builtin.template).
  - A cache server started by this module runs in its own session but stays in the login session's control group.
    On hosts where systemd-logind kills the processes of a session when it ends (C(KillUserProcesses=yes)), run the
    server as a systemd unit instead (C(kata-runtime factory init) as C(ExecStart)); this module then only reports
    and stops it.
  - A running cache server keeps the VMs it was started with. When its VM configuration (hypervisor, vCPUs, memory)
    differs from the configuration file, a warning says so; restart it with O(state=absent) then O(state=present).
seealso:
  - module: katacontainers.kata.kata_env
  - name: kata-runtime factory
    description: The commands this module replaces.
    link: https://github.com/kata-containers/kata-containers/blob/main/src/runtime/cmd/kata-runtime/factory.go
  - name: VM templating
    description: How Kata Containers uses VM templates.
    link: https://github.com/kata-containers/kata-containers/blob/main/docs/how-to/what-is-vm-templating-and-how-do-I-use-it.md
"""

EXAMPLES = r"""
---
- name: Make the VM factory of the configuration exist (template and/or cache)
  katacontainers.kata.kata_factory:
    state: present
  become: true
  register: factory

- name: Show how many VMs the cache holds
  ansible.builtin.debug:
    msg: "VM cache server {{ factory.cache.server_pid }} holds {{ factory.cache.vms | length }} VMs"
  when: factory.cache.running

- name: Use kata-runtime from kata-deploy with a configuration of its own, log to /var/log/kata/vm-cache.log
  katacontainers.kata.kata_factory:
    config: /opt/kata/share/defaults/kata-containers/configuration-qemu.toml
    runtime_path: /opt/kata/bin/kata-runtime
    log_path: /var/log/kata/vm-cache.log
    wait_timeout: 120
  become: true

- name: See what would be done, without doing it
  katacontainers.kata.kata_factory:
    state: present
  check_mode: true
  become: true
  register: factory_plan

- name: Stop the VM cache server and remove the template
  katacontainers.kata.kata_factory:
    state: absent
  become: true
"""

RETURN = r"""
actions:
  description:
    - What was done, in order (in check mode, what would be done). Empty when nothing had to change.
  returned: success
  type: list
  elements: str
  sample: ["remove the stale socket /var/run/kata-containers/cache.sock (no server listens on it)",
           "start the VM cache server (/usr/bin/kata-runtime factory init) on /var/run/kata-containers/cache.sock"]
config:
  description: The configuration file used (symlinks resolved).
  returned: success
  type: str
  sample: /etc/kata-containers/configuration.toml
config_source:
  description:
    - How the configuration file was found, V(option) (O(config)), V(runtime:<handler>) (O(runtime)),
      V(default:<path>) (the first existing file of the default lookup) or V(engine:<handler>) (a container engine's
      runtime handler).
  returned: success
  type: str
  sample: default:/opt/kata/share/defaults/kata-containers/configuration.toml
runtime_kind:
  description: The runtime that reads the configuration file, always V(go) here (a runtime-rs file is refused).
  returned: success
  type: str
  sample: go
cache:
  description:
    - The VM cache, after the changes (in check mode, as found).
  returned: success
  type: dict
  contains:
    enabled:
      description: Whether C([factory] vm_cache_number) is greater than 0.
      type: bool
      sample: true
    endpoint:
      description: The unix socket of the server (C([factory] vm_cache_endpoint)).
      type: str
      sample: /var/run/kata-containers/cache.sock
    vm_cache_number:
      description: The number of VMs the configuration asks the server to keep ready.
      type: int
      sample: 2
    running:
      description:
        - Whether a server answers on the endpoint.
        - V(null) when the cache is not enabled (the endpoint is not looked at then).
      type: bool
      sample: true
    server_pid:
      description: The process ID of the server, from its answer; V(null) when none runs.
      type: int
      sample: 4242
    vms:
      description: The VMs the server holds ready, from its answer (a server fills its cache gradually after it starts).
      type: list
      elements: dict
      contains:
        pid:
          description: The process ID of the VM's hypervisor.
          type: int
          sample: 4250
        cpu:
          description: The VM's vCPUs.
          type: int
          sample: 1
        memory_mib:
          description: The VM's memory in MiB.
          type: int
          sample: 2048
    vm_config:
      description:
        - Part of the VM configuration the server runs with (its gRPC C(Config) answer); V(null) when none runs.
      type: dict
      sample: {"hypervisor_type": "qemu", "vcpus": 1, "memory_mib": 2048, "kernel": "/usr/share/kata-containers/vmlinux.container",
               "image": null, "initrd": "/usr/share/kata-containers/kata-containers-initrd.img",
               "hypervisor_path": "/usr/bin/qemu-system-x86_64"}
template:
  description:
    - The VM template, after the changes (in check mode, as found).
  returned: success
  type: dict
  contains:
    enabled:
      description: Whether C([factory] enable_template) is true.
      type: bool
      sample: true
    path:
      description: The template directory (C([factory] template_path)).
      type: str
      sample: /run/vc/vm/template
    present:
      description: Whether the template's C(memory) and C(state) files both exist, which is how kata recognizes a template.
      type: bool
      sample: true
    mounted:
      description: Whether a file system is mounted at the template directory (kata mounts a tmpfs there).
      type: bool
      sample: true
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._factory import DEFAULT_LOG_PATH, manage_factory
from ansible_collections.katacontainers.kata.plugins.module_utils._host_options import host_argument_spec
from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host_argument_spec('config', 'runtime', 'hypervisor', 'runtime_path'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            log_path=dict(type='path', default=DEFAULT_LOG_PATH),
            timeout=dict(type='float', default=3),
            wait_timeout=dict(type='float', default=60),
        ),
        mutually_exclusive=[('config', 'runtime')],
        supports_check_mode=True,
    )
    run(module, manage_factory)


if __name__ == '__main__':
    main()
