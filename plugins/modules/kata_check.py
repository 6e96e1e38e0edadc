#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_check
short_description: Check whether a host can run Kata Containers
version_added: 0.1.0
description:
  - The native form of C(kata-runtime check). It reads the host's first CPU block in C(/proc/cpuinfo) for the CPU
    flags and attributes Kata Containers needs on this architecture, checks the kernel modules through
    C(/sys/module) and their parameters, and, as root, creates a KVM virtual machine to prove that the host can
    currently run one.
  - The verdict and the list of missing flags and modules are those of C(kata-runtime check) 3.0.0 for the same host
    and configuration, with two deliberate differences where kata-runtime is wrong. On Intel bare metal the
    C(kvm_intel) parameter C(unrestricted_guest=Y) is required (kata-runtime means to but never checks it, because of
    an inverted guard), and inside a VM it is not. The C(dragonball) hypervisor gets the KVM test (kata-runtime 3.0.0
    rejects it in that phase as an unknown hypervisor).
  - Unlike kata-runtime, kernel modules are not loaded unless O(load_modules=true), the release check runs as root too
    when asked for, and the results are structured data instead of log lines.
  - A host without any Kata configuration file is still checked, against the default hypervisor C(qemu) (or
    O(hypervisor)), with a warning naming the paths tried.
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.platform
  - katacontainers.kata._host
  - katacontainers.kata._host.host_root
attributes:
  check_mode:
    support: full
    details:
      - The module only reads the host, unless O(load_modules=true). In check mode no module is loaded; C(changed)
        then predicts whether a missing module would be loaded.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - With O(load_modules=true), a second run finds the modules loaded and reports no change.
options:
  runtimes:
    description:
      - Several runtime handlers checked in one call, each for the configuration file it uses and that file's
        hypervisor. A list of handler names, or V([all]) for every Kata runtime handler of the host's container
        engines (about 23 on a node set up by kata-deploy).
      - The result is then per handler, in RV(runtimes); each entry holds what a call with O(runtime) set to that
        handler returns. The host's files are read once, the KVM test runs at most once (its result is that of
        every handler whose hypervisor it applies to) and the release check once.
      - A handler whose configuration file is missing or does not load fails its own entry (C(failed), C(msg)), not
        the task; an unknown name fails the task with the list of the handlers found.
      - With V([all]) on a host whose container engines define no Kata runtime handler (a distribution package
        without containerd or CRI-O set up for it, for example), the one entry is the configuration the default
        lookup finds (see O(config)), as a call without O(config) and O(runtime) checks it, with C(handler) V(null).
      - O(hypervisor) then only applies to the default configuration of a host without runtime handlers.
      - Mutually exclusive with O(config) and O(runtime).
    type: list
    elements: str
    version_added: 0.2.0
  kvm_test:
    description:
      - Whether to open C(/dev/kvm) (under O(host_root)) and create a KVM VM, as kata-runtime does as root.
      - V(auto) runs it when the module runs as root, V(always) runs it anyway (it then fails with the permission
        error for a normal user), V(never) skips it and RV(can_create_vm) is V(null).
    type: str
    choices: [auto, always, never]
    default: auto
  load_modules:
    description:
      - Load missing kernel modules with C(modprobe), as kata-runtime does as root. The task is then C(changed).
      - Needs root and O(host_root=/).
    type: bool
    default: false
  release_check:
    description:
      - Also check for a newer Kata Containers release, comparing the releases published at O(release_url) with the
        version of the installed C(kata-runtime) (see O(runtime_path)).
      - This is a network request from the managed host. TLS certificates are verified.
      - When no C(kata-runtime) is found, the release check still lists the latest release, and RV(release.current)
        is V(null).
    type: bool
    default: false
  release_url:
    description:
      - The releases document to read, in the GitHub releases API format. Point it at an internal mirror when hosts
        cannot reach GitHub.
    type: str
    default: https://api.github.com/repos/kata-containers/kata-containers/releases
  release_download_prefixes:
    description:
      - Prefixes a release's first asset URL must start with for the release to be considered, like kata-runtime's
        check of download URLs.
      - Default is kata's GitHub download locations, plus the scheme and host of O(release_url) when it is not GitHub,
        so that a mirror's own assets are accepted.
    type: list
    elements: str
  include_prereleases:
    description:
      - Consider pre-release versions (for example C(3.1.0-rc0)) in the release check.
    type: bool
    default: false
  release_timeout:
    description:
      - Timeout in seconds for the release check request.
    type: float
    default: 10
  validate_certs:
    description:
      - Verify the TLS certificate of O(release_url). Only turn this off for a mirror with a private CA you cannot
        install.
    type: bool
    default: true
  gather_env:
    description:
      - Also gather the facts of M(katacontainers.kata.kata_env) in the same call, these of its C(gather_subset)
        parts (for example V([all, "!capability"])), and return them as RV(ansible_facts.kata_env), as kata_env
        returns them with this call's O(host_root), O(runtime_path), O(config), O(runtime) and O(hypervisor).
      - With O(runtimes), they describe the configuration of the one runtime handler checked, or, with several (or a
        host without handlers), the one the default lookup finds (with O(hypervisor)).
      - This saves a second module call per host, for example in a fleet check that needs both. Unset or V([])
        gathers nothing.
    type: list
    elements: str
    version_added: 0.2.0
  fail_on_incapable:
    description:
      - Fail the task when the host is not capable of running Kata Containers or cannot create a VM, like
        kata-runtime's exit status. All results are still returned.
      - Set it to V(false) to gather the verdict of a whole fleet and decide later.
    type: bool
    default: true
notes:
  - Run it with C(become=true) to get the KVM test, as kata-runtime does only as root.
  - RV(config.runtime) says whether the configuration file checked is a Go runtime or a runtime-rs one.
  - With O(host_root) other than C(/), the architecture is taken from that root's C(/proc/cpuinfo), and kernel
    modules are never loaded.
seealso:
  - module: katacontainers.kata.kata_env
  - name: kata-runtime check
    description: The command this module replaces.
    link: https://github.com/kata-containers/kata-containers/blob/main/src/runtime/cmd/kata-runtime/kata-check.go
"""

EXAMPLES = r"""
---
- name: Check the host, failing when it cannot run Kata Containers
  katacontainers.kata.kata_check:
  become: true

- name: Check every host and keep going, to report on the fleet afterwards
  katacontainers.kata.kata_check:
    fail_on_incapable: false
  become: true
  register: kata_verdict

- name: Show why a host is not capable
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} is missing {{ kata_verdict.failed_checks | join(', ') }}"
  when: not kata_verdict.capable

- name: Check for the Firecracker requirements and load missing modules
  katacontainers.kata.kata_check:
    hypervisor: firecracker
    load_modules: true
  become: true

- name: Check the requirements of the configuration the kata-clh runtime handler uses (a kata-deploy node)
  katacontainers.kata.kata_check:
    runtime: kata-clh
    fail_on_incapable: false
  become: true
  register: kata_clh

- name: Check every runtime handler of a kata-deploy node in one call
  katacontainers.kata.kata_check:
    runtimes: [all]
    fail_on_incapable: false
  become: true
  register: kata_handlers

- name: Show the handlers that are not capable
  ansible.builtin.debug:
    msg: "{{ item.handler }}: {{ item.msg | default(item.failed_checks | join(', ')) }}"
  loop: "{{ kata_handlers.runtimes | rejectattr('capable', 'true') | list }}"
  loop_control:
    label: "{{ item.handler }}"

- name: Show which configuration was checked
  ansible.builtin.debug:
    msg: "{{ kata_clh.config.path }} ({{ kata_clh.config_source }}, {{ kata_clh.config.runtime }} runtime)"

- name: Check a host whose root is mounted at /host, without the KVM test
  katacontainers.kata.kata_check:
    host_root: /host
    kvm_test: never
    fail_on_incapable: false

- name: Look for a newer release on an internal mirror
  katacontainers.kata.kata_check:
    release_check: true
    release_url: https://mirror.example.com/kata-containers/releases.json
    fail_on_incapable: false
  register: kata_release

- name: Report a newer release
  ansible.builtin.debug:
    msg: "{{ kata_release.release.message }}"
  when: kata_release.release.newer_available
"""

RETURN = r"""
capable:
  description:
    - Whether the host has every required CPU flag, CPU attribute, kernel module and module parameter.
    - This is kata-runtime's C(System is capable of running Kata Containers).
    - With O(runtimes), whether every handler's entry is capable (an entry that failed is not).
  returned: success
  type: bool
  sample: false
can_create_vm:
  description:
    - Whether a KVM VM could be created. V(null) when the KVM test did not run (see O(kvm_test)), or does not apply to
      the hypervisor.
  returned: success
  type: bool
  sample: true
checks:
  description: Every requirement checked, in a stable order (attributes, flags, modules each followed by its parameters, then the rest).
  returned: success, without O(runtimes) (every entry of RV(runtimes) has it)
  type: list
  elements: dict
  contains:
    type:
      description: What was checked.
      type: str
      sample: flag
      choices: [attribute, flag, module, module_parameter, smt]
    name:
      description: The flag, attribute, module or module parameter name (for example C(unrestricted_guest) of C(kvm_intel)).
      type: str
      sample: vmx
    description:
      description: Kata's description of the requirement.
      type: str
      sample: Virtualization support
    required:
      description: Whether a failure makes the host not capable (C(vhost_vsock) is optional).
      type: bool
      sample: true
    ok:
      description: Whether the requirement is met.
      type: bool
      sample: false
    found:
      description: The value found, for parameters; V(null) otherwise.
      type: str
      sample: "N"
    expected:
      description: The value required, for parameters; V(null) otherwise.
      type: str
      sample: "Y"
    detail:
      description: Kata's message for this outcome.
      type: str
      sample: CPU property not found
failed_checks:
  description: The names of the required checks that failed, in check order (with O(runtimes), of every handler).
  returned: success
  type: list
  elements: str
  sample: [vmx, kvm_intel, vhost, vhost_net]
arch:
  description: The host architecture, in kata's (Go) naming.
  returned: success
  type: str
  sample: amd64
cpu_vendor:
  description: The CPU vendor as kata reads it (V(null) where kata reads none).
  returned: success, without O(runtimes) (every entry of RV(runtimes) has it)
  type: str
  sample: GenuineIntel
hypervisor:
  description: The hypervisor whose requirements were checked.
  returned: success, without O(runtimes) (every entry of RV(runtimes) has it)
  type: str
  sample: qemu
config:
  description: The configuration file used (host path, symlinks resolved) with its drop-ins, or V(null) when none was found.
  returned: success, without O(runtimes) (every entry of RV(runtimes) has it)
  type: dict
  contains:
    path:
      description: The configuration file (symlinks resolved, as kata resolves them).
      type: str
      sample: /opt/kata/share/defaults/kata-containers/runtimes/clh/configuration-clh.toml
    drop_ins:
      description: The C(config.d) files applied on top, in order.
      type: list
      elements: str
      sample: ["/opt/kata/share/defaults/kata-containers/runtimes/clh/config.d/20-debug.toml"]
    source:
      description: How the file was found, as RV(config_source).
      type: str
      sample: runtime:kata-clh
    runtime:
      description: The runtime that reads the file, V(go) (kata-runtime, the Go shim) or V(rust) (runtime-rs).
      type: str
      sample: go
    handler:
      description: The runtime handler whose configuration this is, when it was found through one.
      type: str
      sample: kata-clh
  sample: {"path": "/etc/kata-containers/configuration.toml", "drop_ins": [], "source": "option", "runtime": "go",
           "handler": null}
config_source:
  description:
    - How the configuration file was found. V(option) (O(config)), V(runtime:<handler>) (O(runtime)),
      V(default:<path>) (the first existing file of the default lookup, see O(config)), V(engine:<handler>) (a
      container engine's runtime handler, when no default file exists), or V(null) when none was found.
  returned: success, without O(runtimes) (every entry of RV(runtimes) has it)
  type: str
  sample: default:/opt/kata/share/defaults/kata-containers/configuration.toml
kvm:
  description: Details of the KVM test, when it ran.
  returned: when the KVM test ran
  type: dict
  sample: {"device": "/dev/kvm", "api_version": 12, "can_create_vm": true, "error": null}
messages:
  description: Kata's own summary lines for this host.
  returned: success, without O(runtimes) (every entry of RV(runtimes) has it)
  type: list
  elements: str
  sample: ["ERROR: System is not capable of running Kata Containers", "System can currently create Kata Containers"]
runtimes:
  description:
    - One entry per runtime handler of O(runtimes), in the container engines' order. Each holds the keys a call with
      O(runtime) set to that handler returns (RV(capable), RV(can_create_vm), RV(checks), RV(failed_checks),
      RV(arch), RV(cpu_vendor), RV(hypervisor), RV(config), RV(config_source), RV(messages), RV(kvm)), and those
      below; an entry whose configuration is missing or does not load has only those below, with C(failed) and C(msg).
  returned: when O(runtimes) is set
  type: list
  elements: dict
  contains:
    handler:
      description: The runtime handler's name; V(null) for the default configuration of a host without handlers.
      type: str
      sample: kata-clh
    engine:
      description: The container engine that defines it (as M(katacontainers.kata.kata_runtime_info) names it).
      type: str
      sample: containerd
    runtime:
      description: The runtime the handler's shim is, V(go) (the Go shim) or V(rust) (runtime-rs).
      type: str
      sample: go
    source:
      description: The engine's configuration file that defines the handler.
      type: str
      sample: /etc/containerd/config.toml
    handler_config:
      description: The configuration file the handler uses (host path), whether it exists or not.
      type: str
      sample: /opt/kata/share/defaults/kata-containers/runtimes/clh/configuration-clh.toml
    config_exists:
      description: Whether that file exists.
      type: bool
      sample: true
    failed:
      description: V(true) when this handler could not be checked (see C(msg)).
      type: bool
      sample: true
    msg:
      description: Why this handler could not be checked, as a call with O(runtime) would fail.
      type: str
      sample: runtime handler kata-fc (containerd, defined in /etc/containerd/config.toml) uses the configuration file ..., which does not exist
runtime_warnings:
  description: Sentences about the container engines' files that could not be read, from the handler lookup.
  returned: when O(runtimes) is set
  type: list
  elements: str
  sample: []
ansible_facts:
  description: The facts of O(gather_env).
  returned: when O(gather_env) is set
  type: dict
  contains:
    kata_env:
      description: What M(katacontainers.kata.kata_env) returns as C(ansible_facts.kata_env), see its documentation.
      type: dict
      sample: {"meta": {"version": "1.0.26"}, "host": {"kernel": "6.1.0-18-amd64"}, "warnings": []}
release:
  description: The result of the release check.
  returned: when O(release_check=true)
  type: dict
  contains:
    current:
      description: The version of the installed kata-runtime, or V(null) when none was found.
      type: str
      sample: 3.0.0
    latest:
      description: The newest release considered, or V(null) when there is none.
      type: str
      sample: 3.2.0
    newer_available:
      description: Whether RV(release.latest) is newer than RV(release.current).
      type: bool
      sample: true
    kind:
      description: Kata's description of the newer release (V(major), V(minor), V(patch), with V(pre-release) variants).
      type: str
      sample: minor
    url:
      description: The download URL of the latest release's first asset.
      type: str
      sample: https://github.com/kata-containers/kata-containers/releases/download/3.2.0/kata-static-3.2.0-amd64.tar.xz
    date:
      description: The creation date of that asset.
      type: str
      sample: "2023-08-22T09:57:43Z"
    message:
      description: Kata's one-line report.
      type: str
      sample: "Newer minor release available: 3.2.0 (url: https://github.com/..., date: 2023-08-22T09:57:43Z)"
    releases:
      description: The releases considered, oldest first.
      type: list
      elements: dict
      sample: [{"version": "3.2.0", "date": "2023-08-22T09:57:43Z", "url": "https://github.com/...", "filename": "kata-static-3.2.0-amd64.tar.xz"}]
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._check import check_host_module
from ansible_collections.katacontainers.kata.plugins.module_utils._host_options import host_argument_spec
from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host_argument_spec(),
            runtimes=dict(type='list', elements='str'),
            kvm_test=dict(type='str', choices=['auto', 'always', 'never'], default='auto'),
            load_modules=dict(type='bool', default=False),
            release_check=dict(type='bool', default=False),
            release_url=dict(type='str', default='https://api.github.com/repos/kata-containers/kata-containers/releases'),
            release_download_prefixes=dict(type='list', elements='str'),
            include_prereleases=dict(type='bool', default=False),
            release_timeout=dict(type='float', default=10),
            validate_certs=dict(type='bool', default=True),
            fail_on_incapable=dict(type='bool', default=True),
            gather_env=dict(type='list', elements='str'),
        ),
        mutually_exclusive=[('config', 'runtime'), ('config', 'runtimes'), ('runtime', 'runtimes')],
        supports_check_mode=True,
    )
    run(module, check_host_module)


if __name__ == '__main__':
    main()
