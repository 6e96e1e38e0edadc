# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): the configuration-derived sections of ``kata-runtime env``'s report, in
the format of the kata-runtime release (1.0.26 or 1.0.27), and the keys that tell a 3.3+ file.
"""

from __future__ import annotations


# Keys the Go runtime reads since 3.3.0 and not in 3.0.0 (config.go at both tags): a file that sets one of them was
# written for 3.3 or later, which kata_env uses when it cannot run the installed kata-runtime.
KEYS_SINCE_3_3 = frozenset((
    'cold_plug_vfio', 'disable_guest_selinux', 'enable_vcpus_pinning', 'extra_monitor_socket', 'guest_selinux_label',
    'hot_plug_vfio', 'remote_hypervisor_socket', 'remote_hypervisor_timeout', 'rootfs_type', 'sev_snp_guest',
    'vhost_user_reconnect_timeout_sec', 'virtio_fs_queue_size'))


def newer_keys(cfg):
    """The keys of KEYS_SINCE_3_3 the configuration sets (its hypervisor table, [runtime], its agent table)."""
    return sorted(KEYS_SINCE_3_3.intersection(cfg.keys_set))


ENV_FORMAT_1_0_26 = '1.0.26'  # kata-runtime 3.0 to 3.2 (src/runtime/cmd/kata-runtime/kata-env.go formatVersion)
ENV_FORMAT_1_0_27 = '1.0.27'  # kata-runtime 3.3 and later (4.1.0 included)


def env_sections(cfg, format_version=ENV_FORMAT_1_0_27, release=None):
    """The configuration-derived parts of kata env's EnvInfo in snake_case, in the format ``format_version``.

    1.0.26 (3.0.0): ``hypervisor.pcie_root_port`` and ``hotplug_vfio_on_root_bus``. 1.0.27 (3.3.0 and later,
    kata-env.go): ``hypervisor.hot_plug_vfio``, ``cold_plug_vfio``, ``pcie_root_port``, ``pcie_switch_port`` and
    ``security_info`` instead of ``hotplug_vfio_on_root_bus``, and ``runtime.guest_selinux_label``; kata-runtime 3.3
    to 3.5 (``release``, a (major, minor) tuple, when known) have no ``pcie_root_port``/``pcie_switch_port`` there.
    ``runtime.config.runtime`` (``go``/``rust``) is the collection's addition: which runtime reads the file.
    ``hypervisor.version``/``socket_path``, ``runtime.path``/``version``, ``host`` and ``meta`` are filled elsewhere.
    """
    hv = cfg.hypervisor
    rt = cfg.runtime
    hypervisor = dict(
        machine_type=hv['machine_type'],
        path=hv['path'],
        block_device_driver=hv['block_device_driver'],
        entropy_source=hv['entropy_source'],
        shared_fs=hv['shared_fs'],
        virtio_fs_daemon=hv['virtio_fs_daemon'],
        msize_9p=hv['msize_9p'],
        memory_slots=hv['memory_slots'],
    )
    if format_version == ENV_FORMAT_1_0_26:
        hypervisor.update(pcie_root_port=hv['pcie_root_port'], hotplug_vfio_on_root_bus=hv['hotplug_vfio_on_root_bus'],
                          debug=hv['enable_debug'])
    else:
        hypervisor.update(hot_plug_vfio=hv['hot_plug_vfio'], cold_plug_vfio=hv['cold_plug_vfio'])
        if release is None or tuple(release) >= (3, 6):
            hypervisor.update(pcie_root_port=hv['pcie_root_port'], pcie_switch_port=hv['pcie_switch_port'])
        hypervisor.update(
            debug=hv['enable_debug'],
            security_info=dict(
                rootless=hv['rootless'],
                disable_seccomp=hv['disable_seccomp'],
                guest_hook_path=hv['guest_hook_path'],
                enable_annotations=list(hv['enable_annotations']) or None,
                confidential_guest=hv['confidential_guest'],
            ),
        )
    runtime = dict(config=dict(path=cfg.path, runtime=cfg.runtime_kind))
    if format_version != ENV_FORMAT_1_0_26:
        runtime['guest_selinux_label'] = rt['guest_selinux_label']
    return dict(
        kernel=dict(path=hv['kernel'], parameters=cfg.kernel_params),
        image=dict(path=hv['image']),
        initrd=dict(path=hv['initrd']),
        hypervisor=hypervisor,
        runtime=dict(
            runtime,
            experimental=list(rt['experimental']) or None,
            debug=rt['enable_debug'],
            trace=rt['enable_tracing'],
            disable_guest_seccomp=rt['disable_guest_seccomp'],
            disable_new_netns=rt['disable_new_netns'],
            sandbox_cgroup_only=rt['sandbox_cgroup_only'],
        ),
        agent=dict(debug=cfg.agent['enable_debug'], trace=cfg.agent['enable_tracing']),
    )
