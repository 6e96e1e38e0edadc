# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): the Go runtime's configuration schema, kata 3.0.0 to 4.1.0.

The default values, the keys of each table with the Go type of their struct field (katautils' ``tomlConfig``),
the keys each ``new<Type>HypervisorConfig`` builder reads and the values some of them force.
"""

from __future__ import annotations

import re


DEFAULT_CONFIG_PATHS = (
    '/etc/kata-containers/configuration.toml',
    '/usr/share/defaults/kata-containers/configuration.toml',
)


# The hypervisor binary used when a table sets no ``path``. kata 3.0.0's compiled-in value is literally
# /usr/bin/qemu-system-x86_64 on every architecture (config-settings.go.in); the shipped configuration files always
# set the architecture's binary, which is what is used here.
DEFAULT_HYPERVISOR_PATHS = {
    'amd64': '/usr/bin/qemu-system-x86_64',
    'arm64': '/usr/bin/qemu-system-aarch64',
    'ppc64le': '/usr/bin/qemu-system-ppc64',
    's390x': '/usr/bin/qemu-system-s390x',
    'riscv64': '/usr/bin/qemu-system-riscv64',
}

# govmm.MaxVCPUs(): arm64 is GIC v3's 123; riscv64 (kata 3.16+) 512.
MAX_VCPUS = {'amd64': 240, 'arm64': 123, 'ppc64le': 128, 's390x': 248, 'riscv64': 512}

MAX_CONFIG_SIZE = 4 * 1024 * 1024

DEFAULT_KERNEL_PATH = '/usr/share/kata-containers/vmlinuz.container'
DEFAULT_IMAGE_PATH = '/usr/share/kata-containers/kata-containers.img'
DEFAULT_INITRD_PATH = '/usr/share/kata-containers/kata-containers-initrd.img'
DEFAULT_JAILER_PATH = '/usr/bin/jailer'
DEFAULT_CTL_PATH = '/usr/bin/acrnctl'
DEFAULT_MACHINE_TYPE = 'q35'
DEFAULT_ENTROPY_SOURCE = '/dev/urandom'
DEFAULT_VHOST_USER_STORE_PATH = '/var/run/kata-containers/vhost-user/'
DEFAULT_TEMPLATE_PATH = '/run/vc/vm/template'
DEFAULT_VM_CACHE_ENDPOINT = '/var/run/kata-containers/cache.sock'
DEFAULT_VCPUS = 1
DEFAULT_MEMORY_MIB = 2048
MIN_MEMORY_MIB = 256
DEFAULT_MEMORY_SLOTS = 10
DEFAULT_BRIDGES = 1
MAX_BRIDGES = 5
DEFAULT_MSIZE_9P = 8192
DEBUG_CONSOLE_VPORT = '1026'

BLOCK_DEVICE_DRIVERS = ('virtio-scsi', 'virtio-blk', 'virtio-mmio', 'nvdimm', 'virtio-blk-ccw')
BLOCK_DEVICE_AIOS = ('io_uring', 'native', 'threads')
# ``none`` (no shared file system: confidential guests pull their images inside) is kata 3.3+'s config.NoSharedFS.
SHARED_FILESYSTEMS = ('virtio-9p', 'virtio-fs', 'virtio-fs-nydus', 'none')
VIRTIO_FS_KINDS = ('virtio-fs', 'virtio-fs-nydus')
# config.PCIePort values (kata 3.3+ hot_plug_vfio / cold_plug_vfio), NoPort first.
PCIE_PORTS = ('no-port', 'bridge-port', 'root-port', 'switch-port')
MAX_PCIE_PORTS = 16
EXTRA_MONITOR_SOCKETS = ('hmp', 'qmp', 'qmp-pretty')
DEFAULT_ROOTFS_TYPE = 'ext4'
DEFAULT_MEASUREMENT_ALGO = 'sha512'
DEFAULT_HYPERVISOR_LOGLEVEL = 1
MAX_HYPERVISOR_LOGLEVEL = 3
DEFAULT_REMOTE_HYPERVISOR_SOCKET = '/run/peerpod/hypervisor.sock'
DEFAULT_REMOTE_HYPERVISOR_TIMEOUT = 600
INTERNETWORKING_MODELS = ('default', 'macvtap', 'tcfilter', 'none')
VFIO_MODES = ('vfio', 'guest-kernel')

SYSTEMD_KERNEL_PARAMS = (
    ('systemd.unit', 'kata-containers.target'),
    ('systemd.mask', 'systemd-networkd.service'),
    ('systemd.mask', 'systemd-networkd.socket'),
)

# Value kinds, as the Go struct fields of katautils' tomlConfig declare them.
_STR, _BOOL, _LIST, _I32, _I64, _U32, _U64 = 'string', 'bool', 'list', 'int32', 'int64', 'uint32', 'uint64'
_F32 = 'float32'
_IMAGES = 'guest extension images'  # an array of tables {name, path, verity_params} (kata 4.1 guestExtensionImage)

# Every [hypervisor.X] key of kata 3.0.0 in its struct order, then the keys kata 3.1 to 4.1 added
# (src/runtime/pkg/katautils/config.go, type hypervisor, at 4.1.0). default_vcpus is a float32 since 3.5 (int32 in
# 3.0.0): an integer is accepted for it as BurntSushi/toml accepts one for a float field.
HYPERVISOR_KEYS = (
    ('path', _STR), ('jailer_path', _STR), ('kernel', _STR), ('ctlpath', _STR), ('initrd', _STR),
    ('image', _STR), ('firmware', _STR), ('firmware_volume', _STR), ('machine_accelerators', _STR),
    ('cpu_features', _STR), ('kernel_params', _STR), ('machine_type', _STR), ('block_device_driver', _STR),
    ('entropy_source', _STR), ('shared_fs', _STR), ('virtio_fs_daemon', _STR), ('virtio_fs_cache', _STR),
    ('vhost_user_store_path', _STR), ('file_mem_backend', _STR), ('guest_hook_path', _STR),
    ('guest_memory_dump_path', _STR), ('seccompsandbox', _STR), ('block_device_aio', _STR),
    ('valid_hypervisor_paths', _LIST), ('valid_jailer_paths', _LIST), ('valid_ctlpaths', _LIST),
    ('valid_virtio_fs_daemon_paths', _LIST), ('virtio_fs_extra_args', _LIST), ('pflashes', _LIST),
    ('valid_vhost_user_store_paths', _LIST), ('valid_file_mem_backends', _LIST), ('valid_entropy_sources', _LIST),
    ('enable_annotations', _LIST),
    ('rx_rate_limiter_max_rate', _U64), ('tx_rate_limiter_max_rate', _U64), ('memory_offset', _U64),
    ('disk_rate_limiter_bw_max_rate', _I64), ('disk_rate_limiter_bw_one_time_burst', _I64),
    ('disk_rate_limiter_ops_max_rate', _I64), ('disk_rate_limiter_ops_one_time_burst', _I64),
    ('net_rate_limiter_bw_max_rate', _I64), ('net_rate_limiter_bw_one_time_burst', _I64),
    ('net_rate_limiter_ops_max_rate', _I64), ('net_rate_limiter_ops_one_time_burst', _I64),
    ('virtio_fs_cache_size', _U32), ('default_maxvcpus', _U32), ('default_memory', _U32), ('memory_slots', _U32),
    ('default_maxmemory', _U64), ('default_bridges', _U32), ('msize_9p', _U32), ('pcie_root_port', _U32),
    ('default_vcpus', _F32),
    ('block_device_cache_set', _BOOL), ('block_device_cache_direct', _BOOL), ('block_device_cache_noflush', _BOOL),
    ('enable_vhost_user_store', _BOOL), ('disable_block_device_use', _BOOL), ('enable_mem_prealloc', _BOOL),
    ('enable_hugepages', _BOOL), ('enable_virtio_mem', _BOOL), ('enable_iommu', _BOOL),
    ('enable_iommu_platform', _BOOL), ('enable_debug', _BOOL), ('disable_nesting_checks', _BOOL),
    ('enable_iothreads', _BOOL), ('disable_image_nvdimm', _BOOL), ('hotplug_vfio_on_root_bus', _BOOL),
    ('disable_vhost_net', _BOOL), ('guest_memory_dump_paging', _BOOL), ('confidential_guest', _BOOL),
    ('enable_guest_swap', _BOOL), ('rootless', _BOOL), ('disable_seccomp', _BOOL), ('disable_selinux', _BOOL),
    ('use_legacy_serial', _BOOL),
    # kata 3.1 to 4.1
    ('rootfs_type', _STR), ('kernel_verity_params', _STR), ('tdx_quote_generation_service_socket_port', _U32),
    ('remote_hypervisor_socket', _STR), ('snp_id_block', _STR), ('snp_id_auth', _STR), ('snp_guest_policy', _U64),
    ('measurement_algo', _STR), ('hypervisor_loglevel', _U32), ('virtio_fs_queue_size', _U32),
    ('remote_hypervisor_timeout', _U32), ('block_device_logical_sector_size', _U32),
    ('block_device_physical_sector_size', _U32), ('vhost_user_reconnect_timeout_sec', _U32),
    ('reclaim_guest_freed_memory', _BOOL), ('enable_numa', _BOOL), ('numa_mapping', _LIST),
    ('indep_iothreads', _U32), ('hot_plug_vfio', _STR), ('cold_plug_vfio', _STR), ('pcie_switch_port', _U32),
    ('sev_snp_guest', _BOOL), ('disable_guest_selinux', _BOOL), ('extra_monitor_socket', _STR),
    ('guest_extension_images', _IMAGES),
)

AGENT_KEYS = (
    ('kernel_modules', _LIST), ('enable_debug', _BOOL), ('enable_tracing', _BOOL),
    ('debug_console_enabled', _BOOL), ('dial_timeout', _U32),
    # kata 3.x to 4.1
    ('cdh_api_timeout', _U32), ('launch_process_timeout', _U32), ('visible_cdi_devices', _BOOL),
)

# guest_selinux_label is a kata 3.1 key (env 1.0.27 reports it); the others are 3.0.0's.
RUNTIME_KEYS = (
    ('internetworking_model', _STR), ('jaeger_endpoint', _STR), ('jaeger_user', _STR), ('jaeger_password', _STR),
    ('vfio_mode', _STR), ('guest_selinux_label', _STR), ('sandbox_bind_mounts', _LIST), ('experimental', _LIST),
    ('enable_debug', _BOOL), ('enable_tracing', _BOOL), ('disable_new_netns', _BOOL),
    ('disable_guest_seccomp', _BOOL), ('sandbox_cgroup_only', _BOOL), ('static_sandbox_resource_mgmt', _BOOL),
    ('enable_pprof', _BOOL), ('disable_guest_empty_dir', _BOOL),
    # kata 3.x to 4.1
    ('enable_vcpus_pinning', _BOOL), ('emptydir_mode', _STR), ('create_container_timeout', _U64), ('dan_conf', _STR),
    ('experimental_force_guest_pull', _BOOL), ('pod_resource_api_sock', _STR), ('kubelet_root_dir', _STR),
)

IMAGE_KEYS = (('provision', _STR), ('service_offload', _BOOL))

FACTORY_KEYS = (
    ('template_path', _STR), ('vm_cache_endpoint', _STR), ('vm_cache_number', _U64), ('enable_template', _BOOL),
)

_SCHEMAS = {
    'hypervisor': dict(HYPERVISOR_KEYS),
    'agent': dict(AGENT_KEYS),
    'runtime': dict(RUNTIME_KEYS),
    'image': dict(IMAGE_KEYS),
    'factory': dict(FACTORY_KEYS),
}
_MAP_TABLES = ('hypervisor', 'agent')
_STRUCT_TABLES = ('runtime', 'image', 'factory')

# Keys each builder (newXxxHypervisorConfig) reads: kata 3.0.0's, then what 3.1 to 4.1 added (4.1.0's config.go).
# Keys not listed keep Go's zero value for that type.
_COMMON_SIZING = ('default_vcpus', 'default_maxvcpus', 'default_memory', 'memory_slots')
_HYPERVISOR_BUILDERS = {
    'firecracker': (
        'path', 'valid_hypervisor_paths', 'jailer_path', 'valid_jailer_paths', 'kernel', 'initrd', 'image',
        'firmware', 'kernel_params', 'block_device_driver') + _COMMON_SIZING + (
        'default_maxmemory', 'entropy_source', 'valid_entropy_sources', 'default_bridges', 'enable_hugepages',
        'enable_debug', 'disable_nesting_checks', 'enable_iothreads', 'guest_hook_path',
        'rx_rate_limiter_max_rate', 'tx_rate_limiter_max_rate', 'enable_annotations', 'disable_selinux',
        'rootfs_type', 'kernel_verity_params', 'indep_iothreads'),
    'qemu': (
        'path', 'valid_hypervisor_paths', 'kernel', 'initrd', 'image', 'pflashes', 'firmware', 'firmware_volume',
        'machine_accelerators', 'cpu_features', 'kernel_params', 'machine_type', 'disable_image_nvdimm',
        'block_device_driver', 'block_device_aio', 'shared_fs') + _COMMON_SIZING + (
        'memory_offset', 'default_maxmemory', 'enable_virtio_mem', 'entropy_source', 'valid_entropy_sources',
        'default_bridges', 'disable_block_device_use', 'virtio_fs_daemon', 'valid_virtio_fs_daemon_paths',
        'virtio_fs_cache_size', 'virtio_fs_cache', 'virtio_fs_extra_args', 'enable_mem_prealloc', 'enable_hugepages',
        'enable_iommu', 'enable_iommu_platform', 'file_mem_backend', 'valid_file_mem_backends', 'enable_debug',
        'disable_nesting_checks', 'block_device_cache_set', 'block_device_cache_direct',
        'block_device_cache_noflush', 'enable_iothreads', 'msize_9p', 'hotplug_vfio_on_root_bus', 'pcie_root_port',
        'disable_vhost_net', 'enable_vhost_user_store', 'vhost_user_store_path', 'valid_vhost_user_store_paths',
        'seccompsandbox', 'guest_hook_path', 'rx_rate_limiter_max_rate', 'tx_rate_limiter_max_rate',
        'enable_annotations', 'guest_memory_dump_path', 'guest_memory_dump_paging', 'confidential_guest',
        'enable_guest_swap', 'rootless', 'use_legacy_serial', 'disable_selinux',
        'rootfs_type', 'kernel_verity_params', 'tdx_quote_generation_service_socket_port', 'hypervisor_loglevel',
        'virtio_fs_queue_size', 'reclaim_guest_freed_memory', 'enable_numa', 'numa_mapping',
        'block_device_logical_sector_size', 'block_device_physical_sector_size', 'indep_iothreads', 'hot_plug_vfio',
        'cold_plug_vfio', 'pcie_switch_port', 'vhost_user_reconnect_timeout_sec', 'sev_snp_guest',
        'disable_guest_selinux', 'extra_monitor_socket', 'snp_id_block', 'snp_id_auth', 'snp_guest_policy',
        'measurement_algo', 'guest_extension_images'),
    'acrn': (
        'path', 'valid_hypervisor_paths', 'ctlpath', 'valid_ctlpaths', 'kernel', 'image', 'firmware', 'kernel_params',
        'block_device_driver') + _COMMON_SIZING + (
        'default_maxmemory', 'entropy_source', 'valid_entropy_sources', 'default_bridges', 'enable_hugepages',
        'enable_debug', 'disable_nesting_checks', 'disable_vhost_net', 'guest_hook_path', 'disable_selinux',
        'enable_annotations'),
    'clh': (
        'path', 'valid_hypervisor_paths', 'kernel', 'initrd', 'image', 'firmware', 'machine_accelerators',
        'kernel_params', 'machine_type', 'block_device_driver', 'shared_fs') + _COMMON_SIZING + (
        'memory_offset', 'default_maxmemory', 'enable_virtio_mem', 'entropy_source', 'valid_entropy_sources',
        'default_bridges', 'disable_block_device_use', 'virtio_fs_daemon', 'valid_virtio_fs_daemon_paths',
        'virtio_fs_cache_size', 'virtio_fs_cache', 'enable_mem_prealloc', 'enable_hugepages', 'file_mem_backend',
        'valid_file_mem_backends', 'enable_debug', 'disable_nesting_checks', 'block_device_cache_set',
        'block_device_cache_direct', 'block_device_cache_noflush', 'enable_iothreads', 'msize_9p',
        'hotplug_vfio_on_root_bus', 'pcie_root_port', 'guest_hook_path', 'virtio_fs_extra_args',
        'enable_annotations', 'disable_seccomp', 'confidential_guest', 'disable_selinux',
        'net_rate_limiter_bw_max_rate', 'net_rate_limiter_bw_one_time_burst', 'net_rate_limiter_ops_max_rate',
        'net_rate_limiter_ops_one_time_burst', 'disk_rate_limiter_bw_max_rate',
        'disk_rate_limiter_bw_one_time_burst', 'disk_rate_limiter_ops_max_rate',
        'disk_rate_limiter_ops_one_time_burst',
        'rootfs_type', 'kernel_verity_params', 'hypervisor_loglevel', 'reclaim_guest_freed_memory',
        'indep_iothreads', 'cold_plug_vfio', 'hot_plug_vfio', 'pcie_switch_port', 'rootless', 'disable_guest_selinux',
        'measurement_algo'),
    'dragonball': ('kernel', 'image', 'kernel_params') + _COMMON_SIZING + (
        'entropy_source', 'enable_debug', 'rootfs_type', 'kernel_verity_params'),
    # kata 3.3+ (newStratovirtHypervisorConfig)
    'stratovirt': (
        'path', 'valid_hypervisor_paths', 'kernel', 'initrd', 'image', 'rootfs_type', 'kernel_params',
        'kernel_verity_params', 'machine_type') + _COMMON_SIZING + (
        'memory_offset', 'default_maxmemory', 'entropy_source', 'default_bridges', 'disable_block_device_use',
        'shared_fs', 'virtio_fs_daemon', 'valid_virtio_fs_daemon_paths', 'hypervisor_loglevel', 'virtio_fs_cache_size',
        'virtio_fs_cache', 'virtio_fs_extra_args', 'enable_hugepages', 'enable_debug', 'disable_nesting_checks',
        'block_device_driver', 'block_device_logical_sector_size', 'block_device_physical_sector_size',
        'guest_hook_path', 'enable_annotations', 'disable_seccomp', 'disable_selinux', 'disable_guest_selinux'),
    # kata 3.3+ (newRemoteHypervisorConfig): the VM runs elsewhere (peer pods); its machine_type is passed unchanged.
    'remote': ('remote_hypervisor_socket', 'remote_hypervisor_timeout', 'machine_type', 'enable_annotations',
               'guest_hook_path'),
}
_FORCED = {
    'firecracker': {'disable_vhost_net': True, 'disable_guest_selinux': True},
    'clh': {'disable_vhost_net': True},
    'stratovirt': {'disable_vhost_net': True},
    'remote': {'disable_guest_selinux': True, 'shared_fs': 'none', 'block_device_driver': 'dummy'},
}

_GO_SPACE = re.compile('[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+')
_BARE_KEY = re.compile(r'^[A-Za-z0-9_-]+$')
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_RANGES = {_I32: (-(1 << 31), (1 << 31) - 1), _U32: (0, (1 << 32) - 1)}
_MASKED = '********'

# The runtime a configuration file is for: the Go runtime (src/runtime) or runtime-rs (src/runtime-rs).
RUNTIME_GO, RUNTIME_RUST = 'go', 'rust'

# Keys the builders set to a default when the file leaves them unset (or zero), as kata's builders do.
DEFAULT_WHEN_UNSET = {
    'rootfs_type': DEFAULT_ROOTFS_TYPE,
    'measurement_algo': DEFAULT_MEASUREMENT_ALGO,
    'hot_plug_vfio': PCIE_PORTS[0],
    'cold_plug_vfio': PCIE_PORTS[0],
    'remote_hypervisor_socket': DEFAULT_REMOTE_HYPERVISOR_SOCKET,
    'remote_hypervisor_timeout': DEFAULT_REMOTE_HYPERVISOR_TIMEOUT,
    'memory_slots': DEFAULT_MEMORY_SLOTS,
    'msize_9p': DEFAULT_MSIZE_9P,
    'entropy_source': DEFAULT_ENTROPY_SOURCE,
    'vhost_user_store_path': DEFAULT_VHOST_USER_STORE_PATH,
}
# Keys with a fixed set of values: (default when unset, the values kata accepts, kata's message for another one).
CHOICES = {
    'block_device_driver': (BLOCK_DEVICE_DRIVERS[0], BLOCK_DEVICE_DRIVERS,
                            'Invalid hypervisor block storage driver %s specified (supported drivers: %s)'),
    'block_device_aio': (BLOCK_DEVICE_AIOS[0], BLOCK_DEVICE_AIOS,
                         'Invalid hypervisor block storage I/O mechanism  %s specified (supported AIO: %s)'),
    'shared_fs': ('virtio-fs', SHARED_FILESYSTEMS,
                  'Invalid hypervisor shared file system %s specified (supported file systems: %s)'),
}
