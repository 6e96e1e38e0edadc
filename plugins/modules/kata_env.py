#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_env
short_description: Gather Kata Containers environment facts, like kata-runtime env
version_added: 0.1.0
description:
  - The native form of C(kata-runtime env --json), as facts. Returns C(ansible_facts.kata_env) with every field of
    kata's environment report under snake_case names, for example C(kata_env.host.vm_container_capable) for C(Host.VMContainerCapable) and
    C(kata_env.hypervisor.machine_type) for C(Hypervisor.MachineType). The mapping is kata's name converted to
    snake_case, section by section; the exceptions are listed in the return value documentation.
  - The report has the format of the installed kata-runtime, C(1.0.27) for Kata 3.3 and later (VFIO hot and cold plug
    ports, PCIe switch ports, the hypervisor's security settings, the guest SELinux label) and C(1.0.26) for Kata 3.0
    to 3.2. When that version is unknown (no kata-runtime found, another O(host_root), C(runtime_version) not
    gathered), the configuration file decides, C(1.0.27) when it sets a key only Kata 3.3 and later read, C(1.0.26)
    otherwise.
  - A runtime-rs configuration file is reported in the same format, with C(runtime.config.runtime=rust); what
    runtime-rs does not have (C(msize_9p), C(hot_plug_vfio)) is empty.
  - The values are those kata-runtime reports for the same host and configuration. Unlike kata-runtime it never loads
    kernel modules, never reserves a vsock CID, and does not fail on a host without C(/dev/vhost-vsock).
  - It can be listed in C(ansible_facts_modules) beside C(setup), so that C(gather_facts) runs it.
  - A host without any Kata configuration file still gets its host facts, with a warning naming the paths tried; the
    configuration-derived sections (C(kernel), C(image), C(initrd), C(hypervisor), C(runtime), C(agent)) are then
    V(null).
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.facts
  - katacontainers.kata._attributes.facts_module
  - katacontainers.kata._attributes.platform
  - katacontainers.kata._host
  - katacontainers.kata._host.host_root
options:
  gather_subset:
    description:
      - Which parts to gather. V(all) gathers everything; a name prefixed with C(!) excludes that part.
      - V(host) is the host's kernel, distribution, CPU, memory, vsock and guest protections (file reads).
      - V(config) is everything read from the configuration file.
      - V(capability) is C(host.vm_container_capable), the capability check of M(katacontainers.kata.kata_check)
        without the KVM test.
      - V(hypervisor_version) runs the hypervisor with C(--version).
      - V(runtime_version) runs C(kata-runtime --version).
      - Parts not gathered are V(null).
    type: list
    elements: str
    default: [all]
notes:
  - C(hypervisor.socket_path) follows kata-runtime, which reports C(<<unknown>>) when not run as root.
seealso:
  - module: katacontainers.kata.kata_check
  - name: kata-runtime env
    description: The command this module replaces.
    link: https://github.com/kata-containers/kata-containers/blob/main/src/runtime/cmd/kata-runtime/kata-env.go
"""

EXAMPLES = r"""
---
- name: Gather Kata facts
  katacontainers.kata.kata_env:

- name: Use them in a conditional
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} runs {{ kata_env.hypervisor.path }} with {{ kata_env.host.cpu.cpus }} CPUs"
  when: kata_env.host.vm_container_capable

- name: Only the cheap host facts, without running any program
  katacontainers.kata.kata_env:
    gather_subset:
      - host

- name: Everything but the hypervisor's version
  katacontainers.kata.kata_env:
    gather_subset:
      - all
      - "!hypervisor_version"

# In ansible.cfg or the inventory, to gather them with the other facts:
#   ANSIBLE_FACTS_MODULES=ansible.builtin.setup,katacontainers.kata.kata_env
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: complex
  contains:
    kata_env:
      description:
        - Kata's environment report in snake_case. Sections and keys follow C(kata-runtime env --json);
          C(Msize9p) is C(msize_9p), C(PCIeRootPort) is C(pcie_root_port), C(PCIeSwitchPort) is C(pcie_switch_port),
          C(HotplugVFIOOnRootBus) is C(hotplug_vfio_on_root_bus), C(HotPlugVFIO) is C(hot_plug_vfio), C(ColdPlugVFIO)
          is C(cold_plug_vfio), C(GuestSeLinuxLabel) is C(guest_selinux_label), C(VirtioFSDaemon) is C(virtio_fs_daemon), C(SharedFS) is C(shared_fs),
          C(OCI) is C(oci), C(CPUs) is C(cpus), C(VMContainerCapable) is C(vm_container_capable), C(SupportVSocks) is
          C(support_vsocks), C(DisableNewNetNs) is C(disable_new_netns).
      returned: always
      type: dict
      contains:
        kernel:
          description: C(Kernel) - the guest kernel path and the kernel parameters kata assembles.
          type: dict
          sample: {"path": "/usr/share/kata-containers/vmlinux-6.1.38-114", "parameters": "systemd.unit=kata-containers.target scsi_mod.scan=none"}
        meta:
          description: C(Meta) - the format version of kata's report, V(1.0.27) (Kata 3.3 and later) or V(1.0.26).
          type: dict
          sample: {"version": "1.0.27"}
        image:
          description: C(Image) - the guest image path (empty when none).
          type: dict
          sample: {"path": "/usr/share/kata-containers/kata-containers.img"}
        initrd:
          description: C(Initrd) - the guest initrd path (empty when none).
          type: dict
          sample: {"path": ""}
        hypervisor:
          description:
            - C(Hypervisor) - machine_type, version, path, block_device_driver, entropy_source, shared_fs,
              virtio_fs_daemon, socket_path, msize_9p, memory_slots, debug, and
            - in format 1.0.27, hot_plug_vfio, cold_plug_vfio, pcie_root_port and pcie_switch_port (not for
              kata-runtime 3.3 to 3.5), and security_info (rootless, disable_seccomp, guest_hook_path,
              enable_annotations, confidential_guest);
            - in format 1.0.26, pcie_root_port and hotplug_vfio_on_root_bus.
          type: dict
          sample: {"machine_type": "q35", "version": "QEMU emulator version 7.2.0", "path": "/usr/bin/qemu-system-x86_64"}
        runtime:
          description:
            - C(Runtime) - config (path), path, experimental, version (oci, version (semver, commit, major, minor,
              patch)), debug, trace, disable_guest_seccomp, disable_new_netns, sandbox_cgroup_only, and in format
              1.0.27 guest_selinux_label.
            - C(config.runtime) (V(go) or V(rust), the runtime that reads the file) and C(config.source) (how the file
              was found, V(option), V(runtime:<handler>), V(default:<path>) or V(engine:<handler>)) are this module's
              additions.
          type: dict
          sample: {"config": {"path": "/opt/kata/share/defaults/kata-containers/configuration-qemu.toml", "runtime": "go",
                              "source": "default:/opt/kata/share/defaults/kata-containers/configuration.toml"},
                   "path": "/opt/kata/bin/kata-runtime"}
        host:
          description:
            - C(Host) - available_guest_protections, kernel, architecture, distro (name, version), cpu (vendor, model,
              cpus), memory (total, free, available, in kB), vm_container_capable, support_vsocks.
          type: dict
          sample: {"kernel": "6.1.0-18-amd64", "architecture": "amd64", "vm_container_capable": true, "support_vsocks": true}
        agent:
          description: C(Agent) - debug and trace.
          type: dict
          sample: {"debug": false, "trace": false}
        warnings:
          description: Why some values could not be gathered (for example a missing configuration file).
          type: list
          elements: str
          sample: []
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._env import gather_env
from ansible_collections.katacontainers.kata.plugins.module_utils._host_options import host_argument_spec
from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run


def gather_env_module(module):
    """The work of the kata_env module: the facts of _env.gather_env."""
    facts = gather_env(module.params, module.run_command, module.get_bin_path, module.warn)
    return dict(changed=False, ansible_facts=dict(kata_env=facts))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host_argument_spec(),
            gather_subset=dict(type='list', elements='str', default=['all']),
        ),
        mutually_exclusive=[('config', 'runtime')],
        supports_check_mode=True,
    )
    run(module, gather_env_module)


if __name__ == '__main__':
    main()
