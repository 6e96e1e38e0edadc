#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_runtime_info
short_description: List the Kata Containers runtime handlers of a host's container engines and its Kata installations
version_added: 0.2.0
description:
  - Reads the configuration files of the host's container engines as the engines read them and returns every Kata
    runtime handler they define (for example C(kata-qemu), C(kata-clh), C(kata-qemu-runtime-rs) on a node set up by
    kata-deploy), with the Kata runtime serving it (the Go runtime or runtime-rs), its shim, the Kata configuration
    file it uses and that file's hypervisor.
  - containerd - the main file C(/etc/containerd/config.toml), its C(imports) (globs, paths relative to the importing
    file) followed breadth first as containerd does, with the runtimes under
    C(plugins."io.containerd.grpc.v1.cri") (config version 2, containerd 1.x) or
    C(plugins."io.containerd.cri.v1.runtime") (version 3, containerd 2.x). An imported file without a version is read
    with the main file's version. With version 2, a plugin table in a later file replaces the earlier one entirely, as
    containerd 1.x does; with version 3 the tables are merged key by key.
  - k3s and rke2 - the rendered C(/var/lib/rancher/k3s/agent/etc/containerd/config.toml) (and rke2's) with its
    imports, such as the C(config-v3.toml.d/) drop-ins kata-deploy writes. k0s - C(/etc/k0s/containerd.toml),
    C(/run/k0s/containerd-cri.toml) and C(/etc/k0s/containerd.d/*.toml).
  - CRI-O - C(/etc/crio/crio.conf), then every file under C(/etc/crio/crio.conf.d/) in lexical order, whatever its
    name; C([crio.runtime.runtimes.<handler>]) tables with C(runtime_type = "vm") and a C(containerd-shim-kata*-v2)
    shim.
  - The configuration file of a handler is the one the engine names (containerd's C(options.ConfigPath), CRI-O's
    C(runtime_config_path)) or C(KATA_CONF_FILE) in the environment systemd gives the engine's service (unit file and
    C(.service.d/*.conf) drop-ins; the Go runtime prefers the engine's path, runtime-rs the variable), else the one
    the shim finds by itself (C(/etc/kata-containers/configuration.toml), then
    the installation's C(share/defaults/kata-containers/configuration.toml); for runtime-rs its C(runtime-rs/)
    locations), with symbolic links resolved as Kata resolves them. kata-deploy's files under
    C(runtimes/<shim>/) are reported as such, so their C(config.d/) drop-ins are the ones beside them.
  - A handler whose shim or configuration file is missing, or whose configuration cannot be read or parsed, is still
    returned and named in a warning; so is an engine file that cannot be read. None of these fails the task.
  - Also lists the Kata installations (C(/usr), C(/usr/local), C(/opt/kata), kata-deploy's C(/opt/kata-<suffix>) of
    C(MULTI_INSTALL_SUFFIX), and the prefixes of the handlers' shims, as with C(INSTALLATION_PREFIX)) with their
    C(kata-runtime) and C(kata-ctl) and the versions these print.
  - Nothing is changed on the host.
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.info_module
  - katacontainers.kata._attributes.platform
  - katacontainers.kata._host.host_root
options:
  handlers:
    description:
      - Only return these runtime handlers. A name that is not a Kata handler of the host fails the task, naming the
        handlers found.
    type: list
    elements: str
  versions:
    description:
      - Run C(kata-runtime --version) and C(kata-ctl --json-logging version) of each installation (local host only).
    type: bool
    default: true
notes:
  - Paths in the results are paths on the host, without the O(host_root) prefix.
  - The handlers of every engine found are listed, in the order the engine reads them; a node usually has one engine.
  - The shim's default lookup (a handler without a configuration path) assumes the prefix kata was built with, which
    is C(/opt/kata) for a shim under C(/opt/kata*) (kata-deploy's static build) and C(/usr) otherwise.
seealso:
  - module: katacontainers.kata.kata_check
  - module: katacontainers.kata.kata_env
  - name: kata-deploy
    description: How kata-deploy installs Kata Containers and configures the container engines.
    link: https://github.com/kata-containers/kata-containers/tree/main/tools/packaging/kata-deploy
"""

EXAMPLES = r"""
---
- name: List the Kata runtime handlers of a node
  katacontainers.kata.kata_runtime_info:
  register: kata_runtimes

- name: Show each handler with its configuration file and hypervisor
  ansible.builtin.debug:
    msg: "{{ item.handler }}: {{ item.runtime }} runtime, {{ item.hypervisor }}, {{ item.config }}"
  loop: "{{ kata_runtimes.runtimes }}"
  loop_control:
    label: "{{ item.handler }}"

- name: Check every runtime-rs handler's hypervisor requirements
  katacontainers.kata.kata_check:
    runtime: "{{ item.handler }}"
    fail_on_incapable: false
  loop: "{{ kata_runtimes.runtimes | selectattr('runtime', 'eq', 'rust') | list }}"
  loop_control:
    label: "{{ item.handler }}"

- name: A node's root mounted into a container at /host
  katacontainers.kata.kata_runtime_info:
    host_root: /host
    handlers:
      - kata-clh
      - kata-qemu
"""

RETURN = r"""
runtimes:
  description: The Kata runtime handlers of the host's container engines.
  returned: always
  type: list
  elements: dict
  contains:
    handler:
      description: The handler name, as Kubernetes RuntimeClasses name it.
      type: str
      sample: kata-qemu-runtime-rs
    engine:
      description: The container engine that defines it.
      type: str
      choices: [containerd, crio]
      sample: containerd
    runtime_type:
      description: The handler's C(runtime_type) (C(vm) for CRI-O).
      type: str
      sample: io.containerd.kata-qemu-runtime-rs.v2
    runtime:
      description: The Kata runtime of the shim, V(go) for the Go runtime, V(rust) for runtime-rs.
      type: str
      choices: [go, rust]
      sample: rust
    shim_path:
      description:
        - The shim the engine starts (C(runtime_path), or the binary found in the engine's PATH). V(null) when it
          cannot be found.
      type: str
      sample: /opt/kata/runtime-rs/bin/containerd-shim-kata-v2
    config:
      description:
        - The Kata configuration file the handler uses, with symbolic links resolved. When the engine names a file that
          does not exist, that path; V(null) when no file names one and none of the shim's default files exists.
      type: str
      sample: /opt/kata/share/defaults/kata-containers/runtime-rs/runtimes/qemu-runtime-rs/configuration-qemu-runtime-rs.toml
    config_exists:
      description: Whether RV(runtimes[].config) exists.
      type: bool
      sample: true
    config_from:
      description:
        - V(engine) when the engine's file names the configuration (containerd's C(ConfigPath), CRI-O's
          C(runtime_config_path)), V(environment) when it is C(KATA_CONF_FILE) of the engine's service, V(default)
          when the shim's own lookup finds it.
      type: str
      choices: [engine, environment, default]
      sample: engine
    hypervisor:
      description:
        - The name of the configuration file's C([hypervisor.<name>]) table (or of its C(config.d/) drop-ins when the
          file has none). V(null) when the file cannot be read.
      type: str
      sample: qemu
    source:
      description: The engine's file that defines the handler.
      type: str
      sample: /opt/kata/containerd/config.d/kata-deploy.toml
installations:
  description: The Kata installations found.
  returned: always
  type: list
  elements: dict
  contains:
    prefix:
      description: The installation prefix.
      type: str
      sample: /opt/kata
    kata_runtime:
      description: The path of C(kata-runtime), V(null) when the installation has none.
      type: str
      sample: /opt/kata/bin/kata-runtime
    kata_ctl:
      description: The path of C(kata-ctl), V(null) when the installation has none.
      type: str
      sample: /opt/kata/bin/kata-ctl
    kata_runtime_version:
      description: The version C(kata-runtime --version) prints; V(null) when not run or not understood.
      type: str
      sample: 4.1.0
    kata_ctl_version:
      description: The Kata release C(kata-ctl version) reports; V(null) when not run or not understood.
      type: str
      sample: 4.1.0
runtime_warnings:
  description:
    - The warnings about missing or unreadable files, also shown as task warnings.
    - Also a warning for each Kata handler whose name a Kubernetes RuntimeClass cannot use (a RuntimeClass handler is
      a DNS label; the handler is still listed), and for each runtime whose C(runtime_type) is not a string (it is not
      read as a Kata handler).
  returned: always
  type: list
  elements: str
  sample:
    - "Runtime handler kata-fc (containerd, /etc/containerd/config.toml): its configuration file
      /opt/kata/share/defaults/kata-containers/configuration-fc.toml does not exist"
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run
from ansible_collections.katacontainers.kata.plugins.module_utils._host_options import host_argument_spec
from ansible_collections.katacontainers.kata.plugins.module_utils._runtime_info import runtime_info_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host_argument_spec('host_root'),
            handlers=dict(type='list', elements='str'),
            versions=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    run(module, runtime_info_module)


if __name__ == '__main__':
    main()
