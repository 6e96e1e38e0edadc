# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Kata Containers configuration loading, as kata-runtime's ``katautils.LoadConfiguration`` does it (3.0.0 to 4.1.0),
and as runtime-rs's kata-types ``TomlConfig`` does it for runtime-rs files.

Which runtime reads a file (``detect_runtime``): a runtime handler says so (its shim); otherwise a file in a
``runtime-rs`` directory, or whose ``[runtime]`` table has ``name``, ``hypervisor_name`` or ``agent_name``, is
runtime-rs's, any other the Go runtime's. Go files are read with the union of the 3.0.0 and 4.1.0 schemas (4.1.0's
``src/runtime/pkg/katautils/config.go``: the stratovirt and remote builders, float ``default_vcpus``,
``shared_fs = "none"``, ``guest_extension_images``, ``checkPCIeConfig``...); runtime-rs files with kata-types'
(``src/libs/kata-types/src/config/``, 3.0.0 and 4.1.0): see ``_load_rust``. ``locate_config`` is the collection's
lookup (options ``config`` and ``runtime``, then the default paths and the container engines' handlers).

What is reproduced for the Go runtime (kata-containers 3.0.0, ``src/runtime/pkg/katautils/config.go``: ``getDefaultConfigFile``,
``decodeDropIns``, the ``new<Type>HypervisorConfig`` builders, ``SetKernelParams``, ``checkConfig``):

* the lookup order (``/etc`` first, then ``/usr/share/defaults``), symlinks resolved, kata's error texts;
* the ``config.d`` drop-ins beside the resolved file, sorted by name, every entry whatever its extension, applied key
  by key on top (``[hypervisor.X]``/``[agent.X]`` keys merged one by one, an unknown key there is kata's error,
  unknown keys elsewhere a warning);
* BurntSushi/toml's typing of every known key (a string where an integer is expected is an error, negative values
  wrap for the unsigned 64-bit keys, out-of-range values for 32-bit keys are errors), with its message text;
* the per-hypervisor builders: each hypervisor type reads only the keys its kata builder reads, the others keep Go's
  zero value (``firecracker`` and ``clh`` force ``disable_vhost_net``, ``dragonball`` has no ``path``...), and every
  default and normalisation (vCPUs, memory, bridges, slots, 9p msize, machine type, comma lists...);
* the validations and their messages, and the kernel command line assembled in kata's order and serialisation.

Deliberate differences, each because a read-only probe must still describe a host kata would refuse
(docs/kata_behaviour.md, Missing assets are warnings, and A hypervisor table must be chosen):

* Missing assets (kernel, image, initrd, hypervisor binary, firmware, pflashes, bind mounts) are warnings, not
  errors; kata fails on them. The configured path is kept when the file is missing, the resolved one otherwise.
  ``/dev/vhost-vsock``, which kata's qemu builder requires, is not looked at here (the host probes report it).
* Several ``[hypervisor.X]`` tables: kata silently uses one of them at random (Go map order); here the caller must
  choose (option ``hypervisor``), and only the chosen table is interpreted. An unknown table name is named in the
  error instead of kata's later ``VM memory cannot be zero``.
* Errors name the file that set the offending key (a drop-in or the main file), the ``table.key`` and its value
  before kata's own text. Decoding errors of the main file are worded like the drop-ins' ones.
* Non-regular ``config.d`` entries (directories, FIFOs, devices, sockets, dangling symlinks) are skipped with a
  warning; kata fails reading them (and blocks forever on a FIFO). Files over ``MAX_CONFIG_SIZE`` are refused.
* Key names are matched exactly; BurntSushi also accepts other letter cases in the main file.
* Every path is a host path read below ``host_root``: symlinks are resolved inside that root (an absolute target
  restarts at the root, ``..`` stops at it), as the host itself would see them, so nothing can point outside it.

Quirks of kata 3.0.0 kept on purpose: ``initConfig`` resets the runtime config after setting its defaults, so an
unset ``internetworking_model`` is ``default`` (kata later maps it to tcfilter) and an unset ``vfio_mode`` is
``vfio``, not the documented ``guest-kernel``; the compiled-in defaults used without a hypervisor table set both an
image and an initrd; a negative value for an unsigned 64-bit key wraps around.
"""

from __future__ import annotations

import copy
import errno
import json
import math
import os
import re
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._arch import ARCH_ALIASES, ARCHITECTURES
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ConfigError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import (
    FileTooLarge,
    NotRegularFile,
    ResolveError as _ResolveError,
    file_kind as _file_kind,
    local_path as _local,
    open_file,
    read_fd,
    resolve_under,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import (  # noqa: F401 (re-exported)
    GO_HYPERVISOR_TYPES,
    HYPERVISOR_TYPES,
    RUST_HYPERVISOR_TYPES,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._toml import toml_module


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


def _toml_module():
    """The TOML parser module (_toml.toml_module)."""
    return toml_module()


def normalize_arch(arch):
    """Return kata's GOARCH name for ``arch`` (``x86_64`` -> ``amd64``); ArgumentError when unknown."""
    try:
        return ARCH_ALIASES[arch]
    except (KeyError, TypeError):
        raise ArgumentError('arch: unsupported architecture %r (supported: %s)'
                            % (arch, ', '.join(sorted(ARCHITECTURES))))


def go_quote(value):
    """Go's %q for a string (close enough: printable non-ASCII kept, quotes and backslashes escaped)."""
    return json.dumps(value, ensure_ascii=False)


def _toml_repr(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return '[%s]' % ', '.join(_toml_repr(item) for item in value)
    return str(value)


def _key_string(parts):
    """BurntSushi's Key.String(): dotted, with non-bare parts double-quoted."""
    out = []
    for part in parts:
        out.append(part if _BARE_KEY.match(part) else go_quote(part))
    return '.'.join(out)


def _go_type(value):
    """The Go type name BurntSushi reports (%T) for a decoded TOML value."""
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int64'
    if isinstance(value, float):
        return 'float64'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, dict):
        return 'map[string]interface {}'
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return '[]map[string]interface {}'
        return '[]interface {}'
    return 'time.Time'


def _walk_keys(parts, value):
    """Yield the dotted key of ``value`` and of everything below it, in document order."""
    yield _key_string(parts)
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk_keys(parts + [key], child)
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, dict):
                for key, child in element.items():
                    yield from _walk_keys(parts + [key], child)


def _go_fields(text):
    """Go's strings.Fields (splits on Unicode white space)."""
    return [item for item in _GO_SPACE.split(text) if item]


def serialize_params(params):
    """kata's SerializeParams(params, '='), joined by one space."""
    out = []
    for key, value in params:
        if key == '' and value == '':
            continue
        if key == '':
            out.append(value)
        elif value == '':
            out.append(key)
        else:
            out.append('%s=%s' % (key, value))
    return ' '.join(out)


def _absolute(path, host_root):
    """kata's filepath.Abs + Clean, for a path given on the host (relative paths are taken from /)."""
    if not path.startswith('/'):
        path = os.path.abspath(path) if host_root in ('/', '') else '/' + path
    path = os.path.normpath(path)
    if path.startswith('//'):
        path = '/' + path.lstrip('/')
    return path


def _describe(exc, original):
    """kata's wording for a _ResolveError: ``file <p> does not exist`` or Go's ``lstat <p>: <error>``."""
    if exc.errno == errno.ENOENT:
        return 'file %s does not exist' % original
    if exc.errno == errno.ELOOP:
        return 'EvalSymlinks: too many links'
    return 'lstat %s: %s' % (exc.path, os.strerror(exc.errno).lower())


def resolve_path(host_root, path):
    """Resolve every symlink of the host path ``path`` inside ``host_root`` (Go's filepath.EvalSymlinks, chrooted).

    Returns the resolved host path. An absolute link target restarts at ``host_root``; ``..`` never climbs above it.
    Raises _ResolveError (errno, host path that failed) when a component is missing or unreadable.
    """
    return resolve_under(host_root, path)


def _lookup(host_root, config):
    """Return (resolved path or None, tried host paths, [(path, error text)])."""
    host_root = host_root or '/'
    if config and '\0' in config:
        raise ArgumentError('config: invalid path %r: it contains a NUL character' % (config,))
    if config:
        wanted = _absolute(config, host_root)
        try:
            return resolve_path(host_root, wanted), [wanted], []
        except _ResolveError as exc:
            raise ConfigError('Cannot find usable config file (%s)' % _describe(exc, wanted), path=wanted)
    tried, errors = [], []
    for candidate in DEFAULT_CONFIG_PATHS:
        tried.append(candidate)
        try:
            return resolve_path(host_root, candidate), tried, errors
        except _ResolveError as exc:
            errors.append((candidate, _describe(exc, candidate)))
    return None, tried, errors


def find_config(host_root='/', config=None):
    """Find the configuration file as kata-runtime does; return ``(resolved host path or None, tried host paths)``.

    ``config`` (an explicit file) must exist: ConfigError ``Cannot find usable config file (file <p> does not
    exist)`` otherwise. Without it the default paths are tried in order and ``None`` means none exists (see
    ``require_config`` for kata's error).
    """
    path, tried, dummy = _lookup(host_root, config)
    return path, tried


def require_config(host_root='/', config=None):
    """Like ``find_config`` but raise kata's exact error when no default file exists; return the resolved path."""
    path, dummy, errors = _lookup(host_root, config)
    if path is None:
        raise ConfigError('Cannot find usable config file (%s)' % ', '.join(
            'config file %s unresolvable: %s' % (go_quote(candidate), text) for candidate, text in errors),
            tried=list(DEFAULT_CONFIG_PATHS))
    return path


# The collection's default lookup (option ``config`` and ``runtime`` both unset), in order:
# 1. the Go runtime's own paths (GetDefaultConfigFilePaths: /etc, then the distribution's /usr/share/defaults);
# 2. runtime-rs's distribution paths (kata-types default::DEFAULT_RUNTIME_CONFIGURATIONS);
# 3. kata-deploy's prefix /opt/kata (tools/packaging/kata-deploy/binary/src/utils/system.rs) for both runtimes, then
#    its MULTI_INSTALL_SUFFIX prefixes /opt/kata-<suffix>, sorted;
# 4. the runtime handlers of the host's container engines (_runtimes.find_handlers): ``kata``, then ``kata-qemu``,
#    then the first handler whose configuration file exists, in the engines' order.
KATA_DEPLOY_PREFIX = '/opt/kata'
_DEFAULTS_DIR = '/share/defaults/kata-containers'
DEFAULT_LOOKUP = DEFAULT_CONFIG_PATHS + (
    '/etc/kata-containers/runtime-rs/configuration.toml',
    '/usr/share/defaults/kata-containers/runtime-rs/configuration.toml',
    KATA_DEPLOY_PREFIX + _DEFAULTS_DIR + '/configuration.toml',
    KATA_DEPLOY_PREFIX + _DEFAULTS_DIR + '/runtime-rs/configuration.toml',
)
_PREFERRED_HANDLERS = ('kata', 'kata-qemu')


class ConfigLocation(object):
    """Where the configuration comes from: ``path`` (resolved host path, or None), ``source`` (``option``,
    ``runtime:<handler>``, ``default:<path looked up>``, ``engine:<handler>``), ``runtime`` (``go``/``rust`` when the
    handler tells, else None: detect), ``handler`` (the runtime handler dict, or None), ``tried`` (host paths)."""

    def __init__(self, path, source, runtime=None, handler=None, tried=None, warnings=None):
        self.path = path
        self.source = source
        self.runtime = runtime
        self.handler = handler
        self.tried = tried or []
        self.warnings = warnings or []


def _suffix_candidates(host_root):
    try:
        names = sorted(os.listdir(_local(host_root, resolve_path(host_root, '/opt'))))
    except (_ResolveError, OSError):
        return []
    out = []
    for name in names:
        if name.startswith('kata-') and len(name) > 5:
            prefix = '/opt/' + name + _DEFAULTS_DIR
            out.extend((prefix + '/configuration.toml', prefix + '/runtime-rs/configuration.toml'))
    return out


def handler_location(handler):
    """The ConfigLocation of a runtime handler (a ``_runtimes.find_handlers`` entry); ConfigError when its
    configuration file does not exist."""
    runtime = handler['handler']
    if not handler['config_exists']:
        raise ConfigError('runtime handler %s (%s, defined in %s) uses the configuration file %s, which does not '
                          'exist' % (runtime, handler['engine'], handler['source'], handler['config']),
                          path=handler['config'], handler=runtime)
    return ConfigLocation(handler['config'], 'runtime:%s' % runtime, handler['runtime'], handler,
                          tried=[handler['config']])


def locate_config(host, config=None, runtime=None):
    """Find the configuration to use on ``host`` (a _probes.Host); return a ConfigLocation (``path`` None: none).

    ``config`` (a file) and ``runtime`` (a runtime handler name of the host's container engines) are mutually
    exclusive; with neither, the default lookup above is followed. An explicit file or handler whose configuration
    does not exist is a ConfigError; an unknown handler an ArgumentError listing the known ones.
    """
    root = host.root
    if config and runtime:
        raise ArgumentError('parameters are mutually exclusive: config|runtime (config is a file, runtime a runtime '
                            'handler whose configuration file is used)')
    if config:
        return ConfigLocation(require_config(root, config), 'option', tried=[_absolute(config, root)])
    from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
    if runtime:
        return handler_location(_runtimes.find_handler(host, runtime))
    tried = []
    for candidate in DEFAULT_LOOKUP + tuple(_suffix_candidates(root)):
        tried.append(candidate)
        try:
            resolved = resolve_path(root, candidate)
        except _ResolveError:
            continue
        if os.path.isfile(_local(root, resolved)):
            return ConfigLocation(resolved, 'default:%s' % candidate, tried=tried)
    handlers, warnings = _runtimes.find_handlers(host)
    usable = [h for h in handlers if h['config_exists']]
    usable.sort(key=lambda h: _PREFERRED_HANDLERS.index(h['handler']) if h['handler'] in _PREFERRED_HANDLERS
                else len(_PREFERRED_HANDLERS))
    tried.append('the runtime handlers of the container engines (%s)' % (
        ', '.join(h['handler'] for h in handlers) or 'none found'))
    if usable:
        handler = usable[0]
        return ConfigLocation(handler['config'], 'engine:%s' % handler['handler'], handler['runtime'], handler,
                              tried=tried, warnings=warnings)
    return ConfigLocation(None, None, tried=tried, warnings=warnings)


def _read_regular(local_path, host_path):
    """Read a regular file without ever blocking on a FIFO or following a last-moment symlink."""
    st = os.lstat(local_path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(_file_kind(st.st_mode))
    if st.st_size > MAX_CONFIG_SIZE:
        raise ConfigError('Kata configuration file %s is too large (%d bytes; the limit is %d bytes)'
                          % (go_quote(host_path), st.st_size, MAX_CONFIG_SIZE), path=host_path)
    fd = open_file(local_path)
    try:
        return read_fd(fd, MAX_CONFIG_SIZE)
    except FileTooLarge:
        raise ConfigError('Kata configuration file %s is too large (more than %d bytes)'
                          % (go_quote(host_path), MAX_CONFIG_SIZE), path=host_path)
    finally:
        os.close(fd)


class KataConfig(object):
    """The loaded configuration: what kata-runtime's RuntimeConfig holds, as TOML-named dicts."""

    def __init__(self, path, drop_ins, warnings, hypervisor_type, hypervisor, agent, runtime, factory,
                 kernel_params, hypervisor_tables=None, runtime_kind='go', runtime_kind_reason='', keys_set=()):
        self.keys_set = frozenset(keys_set)
        self.runtime_kind = runtime_kind
        self.runtime_kind_reason = runtime_kind_reason
        self.path = path
        self.drop_ins = drop_ins
        self.warnings = warnings
        self.hypervisor_type = hypervisor_type
        self.hypervisor = hypervisor
        self.agent = agent
        self.runtime = runtime
        self.factory = factory
        self.kernel_params = kernel_params
        self.hypervisor_tables = hypervisor_tables or []

    def to_dict(self):
        """A plain, JSON-safe copy."""
        return dict(
            path=self.path,
            drop_ins=list(self.drop_ins),
            warnings=list(self.warnings),
            hypervisor_type=self.hypervisor_type,
            hypervisor_tables=list(self.hypervisor_tables),
            hypervisor=copy.deepcopy(self.hypervisor),
            agent=copy.deepcopy(self.agent),
            runtime=copy.deepcopy(self.runtime),
            factory=copy.deepcopy(self.factory),
            kernel_params=self.kernel_params,
            runtime_kind=self.runtime_kind,
            runtime_kind_reason=self.runtime_kind_reason,
        )


def _zero(kind):
    if kind == _STR:
        return ''
    if kind == _BOOL:
        return False
    if kind in (_LIST, _IMAGES):
        return []
    return 0


class _Loader(object):
    def __init__(self, host_root, arch, host_cpus, host_memory_mib):
        self.root = host_root or '/'
        self.arch = normalize_arch(arch)
        self.host_cpus = host_cpus
        self.host_memory_mib = host_memory_mib
        self.warnings = []
        self.sources = {}
        self.path = None
        self.htype = None

    # ---------------------------------------------------------------- reading and decoding

    def read(self, host_path, resolved_host_path):
        try:
            data = _read_regular(_local(self.root, resolved_host_path), host_path)
        except NotRegularFile as exc:
            raise ConfigError('Kata configuration file %s is %s, not a regular file' % (go_quote(host_path), exc.kind),
                              path=host_path)
        except (IOError, OSError) as exc:
            raise ConfigError('error reading file %s: open %s: %s'
                              % (go_quote(host_path), host_path, (exc.strerror or str(exc)).lower()), path=host_path)
        return data

    def decode(self, data, path):
        """Parse and type one file; return (typed document, undecoded keys, unknown keys of map tables)."""
        toml_module = _toml_module()
        if data.startswith(b'\xef\xbb\xbf'):
            data = data[3:]
        try:
            text = data.decode('utf-8')
            parsed = toml_module.loads(text)
        except UnicodeDecodeError as exc:
            raise ConfigError('error decoding file %s: invalid UTF-8: %s' % (go_quote(path), exc), path=path)
        except ValueError as exc:
            raise ConfigError('error decoding file %s: %s' % (go_quote(path), exc), path=path)
        except RecursionError:
            # tomllib/tomli parse nested arrays and inline tables recursively: a deep enough nesting exhausts the stack.
            raise ConfigError('error decoding file %s: arrays or inline tables nested too deeply' % go_quote(path),
                              path=path) from None
        doc = dict((table, {}) for table in _SCHEMAS)
        undecoded, unknown = [], []
        for top, value in parsed.items():
            if top in _MAP_TABLES:
                if not isinstance(value, dict):
                    self._bad_type(path, [top], 'map', value)
                schema = _SCHEMAS[top]
                for name, table in value.items():
                    if not isinstance(table, dict):
                        self._decode_error(path, [top, name], 'type mismatch for katautils.%s: expected table but found %s'
                                           % (top, _go_type(table)))
                    typed = doc[top].setdefault(name, {})
                    for key, item in table.items():
                        if key in schema:
                            typed[key] = self._convert(path, [top, name, key], schema[key], item)
                        else:
                            undecoded.extend(_walk_keys([top, name, key], item))
                            unknown.append((top, name, key))
            elif top in _STRUCT_TABLES:
                if not isinstance(value, dict):
                    self._decode_error(path, [top], 'type mismatch for katautils.%s: expected table but found %s'
                                       % (top, _go_type(value)))
                schema = _SCHEMAS[top]
                for key, item in value.items():
                    if key in schema:
                        doc[top][key] = self._convert(path, [top, key], schema[key], item)
                    else:
                        undecoded.extend(_walk_keys([top, key], item))
            else:
                undecoded.extend(_walk_keys([top], value))
        return doc, undecoded, unknown

    @staticmethod
    def _decode_error(path, parts, text, value=None, show_value=False):
        msg = 'error decoding file %s: toml: (last key %s): %s' % (go_quote(path), go_quote(_key_string(parts)), text)
        if show_value:
            msg += ' (value %s)' % _toml_repr(value)
        raise ConfigError(msg, path=path, key=_key_string(parts), value=value)

    def _bad_type(self, path, parts, destination, value):
        self._decode_error(path, parts, 'incompatible types: TOML value has type %s; destination has type %s'
                           % (_go_type(value), destination), value, show_value=not isinstance(value, (dict, list)))

    def _convert(self, path, parts, kind, value):
        if kind == _STR:
            if not isinstance(value, str):
                self._bad_type(path, parts, 'string', value)
            return value
        if kind == _BOOL:
            if not isinstance(value, bool):
                self._bad_type(path, parts, 'boolean', value)
            return value
        if kind == _LIST:
            if not isinstance(value, list):
                self._bad_type(path, parts, 'slice', value)
            for item in value:
                if not isinstance(item, str):
                    self._bad_type(path, parts, 'string', item)
            return list(value)
        if kind == _F32:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._bad_type(path, parts, 'float', value)
            if isinstance(value, float) and math.isnan(value):
                self._decode_error(path, parts, 'nan is not a number of vCPUs', value)
            if abs(value) > 3.4028234663852886e38:
                self._decode_error(path, parts, '%s is out of range for float32' % value, value)
            return value
        if kind == _IMAGES:
            return self._images(path, parts, value)
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad_type(path, parts, 'integer', value)
        if value < _INT64_MIN or value > _INT64_MAX:
            self._decode_error(path, parts, '%d is out of range for int64' % value, value)
        if kind in _RANGES:
            low, high = _RANGES[kind]
            if value < low or value > high:
                self._decode_error(path, parts, '%d is out of range for %s' % (value, kind), value)
        elif kind == _U64 and value < 0:
            value += 1 << 64  # Go's uint64(int64) conversion: BurntSushi does not check the sign for uint64
        return value

    def _images(self, path, parts, value):
        """``[[hypervisor.X.guest_extension_images]]``: a list of tables of strings {name, path, verity_params}."""
        if not isinstance(value, list):
            self._bad_type(path, parts, 'slice', value)
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self._bad_type(path, parts, 'struct', item)
            entry = dict(name='', path='', verity_params='')
            for key, field in item.items():
                if key in entry:
                    entry[key] = self._convert(path, parts + [str(index), key], _STR, field)
                else:
                    self.warnings.append('%s: undecoded key %s' % (go_quote(path), _key_string(parts + [key])))
            out.append(entry)
        return out

    # ---------------------------------------------------------------- drop-ins

    def drop_ins(self, resolved_main):
        dir_host = os.path.join(os.path.dirname(resolved_main), 'config.d')
        try:
            resolved_dir = resolve_path(self.root, dir_host)
            names = sorted(os.listdir(_local(self.root, resolved_dir)))
        except _ResolveError as exc:
            if exc.errno == errno.ENOENT:
                return []
            raise ConfigError('error reading %s directory: %s' % (go_quote(dir_host), _describe(exc, dir_host)),
                              path=dir_host)
        except OSError as exc:
            raise ConfigError('error reading %s directory: open %s: %s'
                              % (go_quote(dir_host), dir_host, (exc.strerror or str(exc)).lower()), path=dir_host)
        found = []
        for name in names:
            entry = dir_host + '/' + name
            try:
                target = resolve_path(self.root, entry)
                st = os.lstat(_local(self.root, target))
            except _ResolveError as exc:
                self.warnings.append('config.d entry %s skipped: %s (kata-runtime fails reading it)'
                                     % (entry, _describe(exc, entry)))
                continue
            except OSError as exc:
                self.warnings.append('config.d entry %s skipped: %s' % (entry, exc.strerror))
                continue
            if not stat.S_ISREG(st.st_mode):
                self.warnings.append('config.d entry %s skipped: it is %s, not a regular file (kata-runtime fails '
                                     'reading it)' % (entry, _file_kind(st.st_mode)))
                continue
            found.append((entry, target))
        return found

    def merge(self, base, doc, unknown, path):
        for top, name, key in unknown:
            raise ConfigError("error applying key '%s' from drop-in file %s: error getting key %s from a decoded "
                              'drop-in conf file: key %s not found'
                              % (_key_string([top, name, key]), go_quote(path), go_quote(key), go_quote(key)),
                              path=path, key=_key_string([top, name, key]))
        for top in _MAP_TABLES:
            for name, table in doc[top].items():
                for key, value in table.items():
                    if name not in base[top]:
                        base[top][name] = {}
                        self.sources[(top, name)] = path
                    base[top][name][key] = value
                    self.sources[(top, name, key)] = path
        for top in _STRUCT_TABLES:
            for key, value in doc[top].items():
                base[top][key] = value
                self.sources[(top, key)] = path

    # ---------------------------------------------------------------- errors and assets

    def source(self, *key):
        return self.sources.get(tuple(key), self.path)

    def fail(self, key, value, text, source_key=None, shown=None):
        """ConfigError ``<file>: <table.key> = <value>: <kata's text>``; the file is the one that set ``source_key``."""
        path = self.source(*source_key) if source_key else self.path
        if shown is None:
            shown = key if value is None else '%s = %s' % (key, _toml_repr(value))
        raise ConfigError('%s: %s: %s' % (path, shown, text), path=path, key=key, value=value)

    def asset(self, key, value, required_by_kata=True):
        """Resolve an asset path inside the root; keep it and warn when it is missing."""
        if not value:
            return ''
        wanted = _absolute(value, self.root)
        try:
            return resolve_path(self.root, wanted)
        except _ResolveError as exc:
            if required_by_kata:
                self.warnings.append('%s: %s (kata-runtime refuses a configuration whose %s is missing)'
                                     % (key, _describe(exc, wanted), key.rsplit('.', 1)[-1]))
            else:
                self.warnings.append('%s: %s' % (key, _describe(exc, wanted)))
            return wanted

    # ---------------------------------------------------------------- hypervisor

    def host_cpu_count(self):
        if self.host_cpus is not None:
            return int(self.host_cpus)
        count = None
        if self.root not in ('/', ''):
            count = _online_cpus(_local(self.root, '/sys/devices/system/cpu/online'))
        if count is None:
            try:
                count = len(os.sched_getaffinity(0))
            except (AttributeError, OSError):
                count = os.cpu_count() or 1
        return count

    def host_memory(self):
        if self.host_memory_mib is not None:
            return int(self.host_memory_mib)
        try:
            with open(_local(self.root, '/proc/meminfo'), 'rb') as handle:
                for line in handle.read(65536).decode('ascii', 'replace').splitlines():
                    if line.startswith('MemTotal:'):
                        return int(line.split()[1]) // 1024
        except (IOError, OSError, ValueError, IndexError):
            pass
        return None

    def max_vcpus(self, requested):
        numcpus = self.host_cpu_count()
        if requested >= numcpus or requested == 0:
            requested = numcpus
        return min(requested, MAX_VCPUS[self.arch])

    def build_hypervisor(self, name, h):
        """kata's newXxxHypervisorConfig for type ``name`` from the configured keys ``h``."""
        self.htype = name
        prefix = 'hypervisor.%s.' % name
        out = dict((key, _zero(kind)) for key, kind in HYPERVISOR_KEYS)

        def raw(key):
            return h.get(key, _zero(_SCHEMAS['hypervisor'][key]))

        def check_choice(key, value, allowed, text):
            if value not in allowed:
                self.fail(prefix + key, value, text % (value, '[%s]' % ' '.join(allowed)), ('hypervisor', name, key))
            return value

        for key in _HYPERVISOR_BUILDERS[name]:
            value = raw(key)
            if key == 'path':
                value = self.asset(prefix + key, value or DEFAULT_HYPERVISOR_PATHS[self.arch])
            elif key == 'ctlpath':
                value = self.asset(prefix + key, value or DEFAULT_CTL_PATH)
            elif key == 'kernel':
                value = self.asset(prefix + key, value or DEFAULT_KERNEL_PATH)
            elif key in ('initrd', 'image', 'firmware', 'firmware_volume', 'jailer_path'):
                value = self.asset(prefix + key, value)
            elif key == 'pflashes':
                for item in value:
                    self.asset(prefix + key, item)
            elif key in ('machine_accelerators', 'cpu_features'):
                value = ','.join(item.strip() for item in value.split(',') if item != '').strip(',')
            elif key == 'machine_type':
                value = value if name == 'remote' else value or DEFAULT_MACHINE_TYPE
            elif key == 'rootfs_type':
                value = value or DEFAULT_ROOTFS_TYPE
            elif key == 'measurement_algo':
                value = value or DEFAULT_MEASUREMENT_ALGO
            elif key == 'hypervisor_loglevel':
                value = min(value, MAX_HYPERVISOR_LOGLEVEL) if value else DEFAULT_HYPERVISOR_LOGLEVEL
            elif key in ('hot_plug_vfio', 'cold_plug_vfio'):
                value = value or PCIE_PORTS[0]
            elif key in ('pcie_root_port', 'pcie_switch_port'):
                value = min(value, MAX_PCIE_PORTS)
            elif key == 'remote_hypervisor_socket':
                value = value or DEFAULT_REMOTE_HYPERVISOR_SOCKET
            elif key == 'remote_hypervisor_timeout':
                value = value or DEFAULT_REMOTE_HYPERVISOR_TIMEOUT
            elif key == 'extra_monitor_socket':
                if value:
                    check_choice(key, value, EXTRA_MONITOR_SOCKETS,
                                 'Invalid hypervisor extra monitor socket %s specified (supported values: %s)')
            elif key in ('block_device_logical_sector_size', 'block_device_physical_sector_size'):
                if value and (value < 512 or value > 65536 or value & (value - 1)):
                    self.fail(prefix + key, value, 'invalid %s %d: must be 0 or a power of 2 between 512 and 65536'
                              % (key, value), ('hypervisor', name, key))
            elif key == 'guest_extension_images':
                for index, image in enumerate(value):
                    if not image['name']:
                        self.fail(prefix + key, None, "guest_extension_images entry %d is missing required 'name' "
                                  'field' % index, ('hypervisor', name, key))
                    if not re.match(r'^[A-Za-z0-9_-]+\Z', image['name']):
                        self.fail(prefix + key, image['name'], "guest_extension_images '%s' has an invalid name: "
                                  "only ASCII alphanumerics, '-' and '_' are allowed" % image['name'],
                                  ('hypervisor', name, key), shown='%s%s name = %s' % (prefix, key,
                                                                                       go_quote(image['name'])))
                    if image['path']:
                        self.asset(prefix + key, image['path'], required_by_kata=False)
                value = [dict(image) for image in value]
            elif key == 'disable_image_nvdimm':
                value = value or out['machine_type'] == 'microvm'
            elif key == 'block_device_driver':
                value = check_choice(key, value or BLOCK_DEVICE_DRIVERS[0], BLOCK_DEVICE_DRIVERS,
                                     'Invalid hypervisor block storage driver %s specified (supported drivers: %s)')
            elif key == 'block_device_aio':
                value = check_choice(key, value or BLOCK_DEVICE_AIOS[0], BLOCK_DEVICE_AIOS,
                                     'Invalid hypervisor block storage I/O mechanism  %s specified (supported AIO: %s)')
            elif key == 'shared_fs':
                value = check_choice(key, value or 'virtio-fs', SHARED_FILESYSTEMS,
                                     'Invalid hypervisor shared file system %s specified (supported file systems: %s)')
            elif key == 'default_maxvcpus':
                value = self.max_vcpus(value)
            elif key == 'default_vcpus':
                current = min(self.host_cpu_count(), self.max_vcpus(0))
                value = current if value < 0 or value > current else (value or DEFAULT_VCPUS)
            elif key == 'default_memory':
                value = DEFAULT_MEMORY_MIB if value < MIN_MEMORY_MIB else value
            elif key == 'memory_slots':
                value = value or DEFAULT_MEMORY_SLOTS
            elif key == 'default_maxmemory':
                host = self.host_memory()
                if host is not None and (value == 0 or value > host):
                    value = host
            elif key == 'default_bridges':
                value = min(value, MAX_BRIDGES) if value else DEFAULT_BRIDGES
            elif key == 'msize_9p':
                value = value or DEFAULT_MSIZE_9P
            elif key == 'entropy_source':
                value = value or DEFAULT_ENTROPY_SOURCE
            elif key == 'virtio_fs_cache' and name == 'qemu':
                value = value or 'none'
            elif key == 'vhost_user_store_path':
                value = value or DEFAULT_VHOST_USER_STORE_PATH
            elif key.endswith('_one_time_burst'):
                max_key = key.replace('_one_time_burst', '_max_rate')
                if value and not raw(max_key):
                    self.warnings.append('%s%s is set but %s%s is not set, this option will be ignored'
                                         % (prefix, key, prefix, max_key))
                    value = 0
            out[key] = value
        out.update(_FORCED.get(name, {}))

        logical, physical = out['block_device_logical_sector_size'], out['block_device_physical_sector_size']
        if logical and physical and logical > physical:
            self.fail(prefix + 'block_device_logical_sector_size', logical, 'invalid sector sizes: logical (%d) must '
                      'not be larger than physical (%d)' % (logical, physical),
                      ('hypervisor', name, 'block_device_logical_sector_size'))
        needs_daemon = '%sshared_fs = %s without %svirtio_fs_daemon' % (prefix, go_quote(out['shared_fs']), prefix)
        if name == 'stratovirt':
            if out['image'] and out['initrd']:
                self.fail(prefix + 'image', None, 'having both an image and an initrd defined in the configuration '
                          'file is not supported', shown='both %simage and %sinitrd are set' % (prefix, prefix))
            if not out['image'] and not out['initrd']:
                self.fail(prefix + 'image', None, 'image or initrd must be defined in the configuration file',
                          shown='neither %simage nor %sinitrd is set' % (prefix, prefix))
            if out['shared_fs'] not in VIRTIO_FS_KINDS + ('none',):
                self.fail(prefix + 'shared_fs', out['shared_fs'], 'Stratovirt Hypervisor does not support %s shared '
                          'filesystem option' % out['shared_fs'], ('hypervisor', name, 'shared_fs'))
        if name in ('qemu', 'stratovirt') and out['shared_fs'] in VIRTIO_FS_KINDS and not out['virtio_fs_daemon']:
            self.fail(prefix + 'virtio_fs_daemon', None, 'cannot enable %s without daemon path in configuration file'
                      % out['shared_fs'], ('hypervisor', name, 'shared_fs'), shown=needs_daemon)
        if name == 'clh':
            if not out['image'] and not out['initrd']:
                self.fail(prefix + 'image', None, 'image or initrd must be defined in the configuration file',
                          shown='neither %simage nor %sinitrd is set' % (prefix, prefix))
            if out['shared_fs'] not in VIRTIO_FS_KINDS + ('none',):
                # kata 3.0.0's text; 3.3+ also accepts none and says "Cloud Hypervisor does not support <fs> shared
                # filesystem option".
                self.fail(prefix + 'shared_fs', out['shared_fs'], 'clh only support virtio-fs or virtio-fs-nydus',
                          ('hypervisor', name, 'shared_fs'))
            if out['shared_fs'] != 'none' and not out['virtio_fs_daemon']:
                self.fail(prefix + 'virtio_fs_daemon', None, 'cannot enable %s without daemon path in configuration '
                          'file' % out['shared_fs'], ('hypervisor', name, 'shared_fs'), shown=needs_daemon)
        if name == 'acrn' and not out['image']:
            self.fail(prefix + 'image', None, 'image must be defined in the configuration file',
                      shown='%simage is not set' % prefix)
        if out['virtio_fs_daemon']:
            self.asset(prefix + 'virtio_fs_daemon', out['virtio_fs_daemon'], required_by_kata=False)
        return out

    def default_hypervisor(self):
        """kata's GetDefaultHypervisorConfig(): used, unresolved, when the file has no hypervisor table."""
        self.htype = 'qemu'
        out = dict((key, _zero(kind)) for key, kind in HYPERVISOR_KEYS)
        out.update(
            path=DEFAULT_HYPERVISOR_PATHS[self.arch], jailer_path=DEFAULT_JAILER_PATH, kernel=DEFAULT_KERNEL_PATH,
            image=DEFAULT_IMAGE_PATH, initrd=DEFAULT_INITRD_PATH, machine_type=DEFAULT_MACHINE_TYPE,
            default_vcpus=DEFAULT_VCPUS, default_memory=DEFAULT_MEMORY_MIB, default_bridges=DEFAULT_BRIDGES,
            block_device_driver=BLOCK_DEVICE_DRIVERS[0], block_device_aio=BLOCK_DEVICE_AIOS[0],
            msize_9p=DEFAULT_MSIZE_9P, vhost_user_store_path=DEFAULT_VHOST_USER_STORE_PATH, virtio_fs_cache='none',
            hot_plug_vfio=PCIE_PORTS[0], cold_plug_vfio=PCIE_PORTS[0],
        )
        return out

    def check_images(self, hypervisor, memory_mib):
        """kata's checkHypervisorConfig image/initrd part (sizes), on the files that exist."""
        mib = 1024 * 1024
        for key, is_initrd in (('image', False), ('initrd', True)):
            path = hypervisor[key]
            if not path:
                continue
            name = 'hypervisor.%s.%s' % (self.htype, key)
            try:
                size = os.stat(_local(self.root, resolve_path(self.root, path))).st_size
            except _ResolveError as exc:
                message = '%s: %s (kata-runtime refuses a configuration whose %s is missing)' % (
                    name, _describe(exc, path), key)
                if message not in self.warnings:
                    self.warnings.append(message)
                continue
            except OSError as exc:
                self.warnings.append('%s: stat %s: %s' % (name, path, (exc.strerror or str(exc)).lower()))
                continue
            if size == 0:
                self.fail(name, path, 'image %s is empty' % go_quote(path), ('hypervisor', self.htype, key))
            if size > mib and size // mib >= memory_mib:
                text = 'VM memory (%dMB) smaller than image %s size (%dMB)' % (memory_mib, go_quote(path), size // mib)
                if is_initrd:
                    self.fail(name, path, text, ('hypervisor', self.htype, key))
                self.warnings.append('%s: %s' % (name, text))


def _online_cpus(path):
    """Count the CPUs of a /sys/devices/system/cpu/online list (``0-3,6``); None when unreadable."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read(4096).decode('ascii').strip()
        count = 0
        for part in text.split(','):
            if '-' in part:
                low, high = part.split('-', 1)
                count += int(high) - int(low) + 1
            elif part:
                count += 1
        return count or None
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return None


def _check_pcie(loader, htype, hv):
    """kata 3.3+ checkPCIeConfig: hot_plug_vfio / cold_plug_vfio (QEMU and Cloud Hypervisor only)."""
    hot, cold = hv['hot_plug_vfio'], hv['cold_plug_vfio']
    prefix = 'hypervisor.%s.' % htype
    for key, value in (('hot_plug_vfio', hot), ('cold_plug_vfio', cold)):
        if value not in PCIE_PORTS:
            loader.fail(prefix + key, value, 'invalid vfio_port=%s setting, allowed values %s' % (
                value, ', '.join(PCIE_PORTS)), ('hypervisor', htype, key))
    if cold != 'no-port' and hot != 'no-port':
        loader.fail(prefix + 'hot_plug_vfio', hot, 'invalid hot-plug=%s and cold-plug=%s settings, only one of them '
                    'can be set' % (hot, cold), ('hypervisor', htype, 'hot_plug_vfio'),
                    shown='%shot_plug_vfio = %s with %scold_plug_vfio = %s' % (prefix, go_quote(hot), prefix,
                                                                               go_quote(cold)))
    if htype == 'clh' and hv['machine_type'] in ('q35', 'virt'):
        for key, value, word in (('cold_plug_vfio', cold, 'cold-plug'), ('hot_plug_vfio', hot, 'hot-plug')):
            if value not in ('no-port', 'root-port'):
                loader.fail(prefix + key, value, 'only %s=no-port or root-port supported on CLH' % word,
                            ('hypervisor', htype, key))


def _choose_hypervisor(loader, tables, hypervisor, described, known=GO_HYPERVISOR_TYPES, runtime_name='kata-runtime'):
    if hypervisor is not None:
        if hypervisor not in HYPERVISOR_TYPES:
            raise ArgumentError('hypervisor: unknown hypervisor type %r (known types: %s)'
                                % (hypervisor, ', '.join(HYPERVISOR_TYPES)))
        if hypervisor not in known:
            raise ConfigError('hypervisor %s was chosen but %s is a %s configuration, which has no %s hypervisor '
                              '(its types: %s)' % (hypervisor, described, 'runtime-rs' if known is RUST_HYPERVISOR_TYPES
                                                   else 'Go runtime', hypervisor, ', '.join(known)),
                              path=loader.path, tables=list(tables))
        if hypervisor not in tables:
            raise ConfigError('hypervisor %s was chosen but %s has no [hypervisor.%s] table (tables found: %s)'
                              % (hypervisor, described, hypervisor,
                                 ', '.join('[hypervisor.%s]' % t for t in tables) or 'none'),
                              path=loader.path, tables=list(tables))
        return hypervisor
    if not tables:
        return None
    if len(tables) > 1:
        raise ConfigError('%s defines several hypervisor tables (%s); kata-runtime would use one of them at random: '
                          'set the hypervisor option to choose one' % (described, ', '.join(
                              '[hypervisor.%s]' % t for t in tables)), path=loader.path, tables=list(tables))
    if tables[0] not in known:
        raise ConfigError('%s: [hypervisor.%s] is not a known hypervisor type (known types: %s); %s would fail with '
                          '"configuration file contains invalid hypervisor section"'
                          % (loader.source('hypervisor', tables[0]) or described, tables[0], ', '.join(known),
                             runtime_name), path=loader.path, tables=list(tables))
    return tables[0]


# ---------------------------------------------------------------------------------------------------------------
# runtime-rs (containerd-shim-kata-v2 built from src/runtime-rs): its own schema, kata-types' TomlConfig.

RUNTIME_GO, RUNTIME_RUST = 'go', 'rust'
# [runtime] keys only runtime-rs's Runtime struct has (kata-types src/config/runtime.rs); the Go runtime ignores them.
_RUST_MARKERS = ('name', 'hypervisor_name', 'agent_name')
# kata-types default::DEFAULT_HYPERVISOR (runtime.hypervisor_name unset).
RUST_DEFAULT_HYPERVISOR = 'dragonball'

_U8, _USIZE = 'uint8', 'usize'
_RS_RANGES = {_U8: (0, 255), _USIZE: (0, (1 << 64) - 1), _U64: (0, (1 << 64) - 1)}


def _table(fields, strict):
    return ('table', dict(fields), strict)


_RS_FACTORY = _table((('enable_template', _BOOL), ('template_path', _STR)), True)
_RS_ROOTLESS_USER = _table((('uid', _U32), ('gid', _U32), ('groups', ('list', _U32)), ('user_name', _STR)), True)
_RS_MEM_AGENT = _table((
    ('enable', _BOOL), ('mem_agent_enable', _BOOL), ('memcg_disable', _BOOL), ('memcg_swap', _BOOL),
    ('memcg_swappiness_max', _U8), ('memcg_period_secs', _U64), ('memcg_period_psi_percent_limit', _U8),
    ('memcg_eviction_psi_percent_limit', _U8), ('memcg_eviction_run_aging_count_min', _U64),
    ('compact_disable', _BOOL), ('compact_period_secs', _U64), ('compact_period_psi_percent_limit', _U8),
    ('compact_psi_percent_limit', _U8), ('compact_sec_max', _I64), ('compact_order', _U8),
    ('compact_threshold', _U64), ('compact_force_times', _U64)), True)
_RS_SHARED_MOUNT = _table((('name', _STR), ('src_ctr', _STR), ('src_path', _STR), ('dst_ctr', _STR),
                           ('dst_path', _STR)), True)

# [hypervisor.<type>]: kata-types' Hypervisor with its flattened parts (BlockDeviceInfo, BootInfo, CpuInfo,
# DebugInfo, DeviceInfo, MachineInfo, MemoryInfo, NetworkInfo, SecurityInfo, SharedFsInfo, RemoteInfo,
# VmTemplateInfo), 3.0.0 and 4.1.0 together. Unknown keys are ignored by serde there (no deny_unknown_fields).
RUST_HYPERVISOR_KEYS = (
    ('path', _STR), ('valid_hypervisor_paths', _LIST), ('ctlpath', _STR), ('valid_ctlpaths', _LIST),
    ('jailer_path', _STR), ('valid_jailer_paths', _LIST), ('disable_nesting_checks', _BOOL),
    ('enable_iothreads', _BOOL), ('indep_iothreads', _U32), ('guest_extension_images', _IMAGES),
    ('factory', _RS_FACTORY), ('prefetch_list_path', _STR), ('disable_guest_selinux', _BOOL),
    ('disable_selinux', _BOOL),
    # BlockDeviceInfo
    ('disable_block_device_use', _BOOL), ('block_device_driver', _STR), ('block_device_aio', _STR),
    ('block_device_cache_set', _BOOL), ('block_device_cache_direct', _BOOL), ('block_device_cache_noflush', _BOOL),
    ('block_device_logical_sector_size', _U32), ('block_device_physical_sector_size', _U32),
    ('disable_image_nvdimm', _BOOL), ('memory_offset', _U64), ('enable_vhost_user_store', _BOOL),
    ('vhost_user_store_path', _STR), ('valid_vhost_user_store_paths', _LIST),
    ('disk_rate_limiter_bw_max_rate', _U64), ('disk_rate_limiter_bw_one_time_burst', _U64),
    ('disk_rate_limiter_ops_max_rate', _U64), ('disk_rate_limiter_ops_one_time_burst', _U64),
    ('queue_size', _U32), ('num_queues', _USIZE),
    # BootInfo
    ('kernel', _STR), ('kernel_params', _STR), ('kernel_verity_params', _STR), ('initrd', _STR), ('image', _STR),
    ('rootfs_type', _STR), ('firmware', _STR), ('vm_rootfs_driver', _STR),
    # CpuInfo
    ('cpu_features', _STR), ('default_vcpus', _F32), ('overhead_vcpus', _F32), ('default_maxvcpus', _U32),
    ('disable_nested_virtualization', _BOOL),
    # DebugInfo
    ('enable_debug', _BOOL), ('log_level', _STR), ('guest_memory_dump_paging', _BOOL),
    ('guest_memory_dump_path', _STR), ('extra_monitor_socket', _STR), ('dbg_monitor_socket', _STR),
    # DeviceInfo
    ('default_bridges', _U32), ('hotplug_vfio_on_root_bus', _BOOL), ('cold_plug_vfio', _STR),
    ('pcie_root_port', _U32), ('pcie_switch_port', _U32), ('enable_iommu', _BOOL), ('enable_iommu_platform', _BOOL),
    ('reclaim_guest_freed_memory', _BOOL),
    # MachineInfo
    ('machine_type', _STR), ('machine_accelerators', _STR), ('pflashes', _LIST), ('entropy_source', _STR),
    ('valid_entropy_sources', _LIST),
    # MemoryInfo
    ('default_memory', _U32), ('overhead_memory', _U32), ('default_maxmemory', _U32), ('memory_slots', _U32),
    ('enable_mem_prealloc', _BOOL), ('enable_hugepages', _BOOL), ('hugepage_type', _STR),
    ('enable_virtio_mem', _BOOL), ('enable_guest_swap', _BOOL), ('guest_swap_path', _STR),
    ('guest_swap_size_percent', _U64), ('guest_swap_create_threshold_secs', _U64),
    ('file_mem_backend', _STR), ('valid_file_mem_backends', _LIST), ('enable_swap', _BOOL),  # 3.0.0 only
    # NetworkInfo
    ('disable_vhost_net', _BOOL), ('rx_rate_limiter_max_rate', _U64), ('tx_rate_limiter_max_rate', _U64),
    ('network_queues', _U32),
    # SecurityInfo
    ('rootless', _BOOL), ('rootless_user', _RS_ROOTLESS_USER), ('disable_seccomp', _BOOL),
    ('confidential_guest', _BOOL), ('sev_snp_guest', _BOOL), ('snp_id_block', _STR), ('snp_id_auth', _STR),
    ('snp_guest_policy', _U32), ('guest_hook_path', _STR), ('initdata', _STR), ('enable_annotations', _LIST),
    ('tdx_quote_generation_service_socket_port', _U32), ('seccomp_sandbox', _STR), ('selinux_label', _STR),
    # SharedFsInfo
    ('shared_fs', _STR), ('virtio_fs_daemon', _STR), ('valid_virtio_fs_daemon_paths', _LIST),
    ('virtio_fs_extra_args', _LIST), ('virtio_fs_cache', _STR), ('virtio_fs_cache_size', _U32),
    ('virtio_fs_queue_size', _U32), ('virtio_fs_is_dax', _BOOL),
    # RemoteInfo
    ('hypervisor_socket', _STR), ('hypervisor_timeout', _I32), ('default_gpus', _U32), ('default_gpu_model', _STR),
    # VmTemplateInfo
    ('boot_to_be_template', _BOOL), ('boot_from_template', _BOOL), ('memory_path', _STR),
    ('device_state_path', _STR),
)

# [agent.<name>]: kata-types' Agent, deny_unknown_fields (an unknown key is an error). request_timeout_ms is
# 3.0.0's name of 4.1.0's create_container_timeout (seconds).
RUST_AGENT_KEYS = (
    ('enable_debug', _BOOL), ('log_level', _STR), ('enable_tracing', _BOOL), ('debug_console_enabled', _BOOL),
    ('visible_cdi_devices', _BOOL), ('server_port', _U32), ('log_port', _U32), ('passfd_listener_port', _U32),
    ('dial_timeout_ms', _U32), ('reconnect_timeout_ms', _U32), ('cdh_api_timeout_ms', _U32),
    ('request_timeout_ms', _U32), ('create_container_timeout', _U32), ('health_check_request_timeout_ms', _U32),
    ('kernel_modules', _LIST), ('container_pipe_size', _U32), ('launch_process_timeout', _U32),
    ('mem_agent', _RS_MEM_AGENT), ('policy', _STR),
)

# [runtime]: kata-types' Runtime (unknown keys ignored).
RUST_RUNTIME_KEYS = (
    ('name', _STR), ('hypervisor_name', _STR), ('agent_name', _STR), ('enable_debug', _BOOL), ('log_level', _STR),
    ('experimental', _LIST), ('internetworking_model', _STR), ('disable_new_netns', _BOOL),
    ('sandbox_bind_mounts', _LIST), ('sandbox_cgroup_only', _BOOL), ('enable_vcpus_pinning', _BOOL),
    ('enable_tracing', _BOOL), ('jaeger_endpoint', _STR), ('jaeger_user', _STR), ('jaeger_password', _STR),
    ('enable_pprof', _BOOL), ('static_sandbox_resource_mgmt', _BOOL), ('disable_guest_seccomp', _BOOL),
    ('emptydir_mode', _STR), ('vfio_mode', _STR), ('keep_abnormal', _BOOL), ('dan_conf', _STR),
    ('shared_mounts', ('aot', _RS_SHARED_MOUNT)), ('use_passfd_io', _BOOL), ('passfd_listener_port', _U32),
    ('pod_resource_api_sock', _STR), ('static_resource_mgmt', _BOOL),  # the last one: 3.0.0's name
)

_RS_SCHEMAS = {
    'hypervisor': _table(RUST_HYPERVISOR_KEYS, False),
    'agent': _table(RUST_AGENT_KEYS, True),
    'runtime': _table(RUST_RUNTIME_KEYS, False),
}

# Per-type defaults applied by each kata-types plugin's adjust_config (4.1.0 src/libs/kata-types/src/config/default.rs).
_RS_DEFAULTS = {
    'qemu': dict(path='/usr/bin/qemu-system-x86_64', kernel='vmlinuz', default_memory=128, memory_slots=128,
                 default_bridges=1, machine_type='q35', entropy_source='/dev/urandom', rootfs_type='ext4'),
    'clh': dict(path='/usr/bin/cloud-hypervisor', kernel='vmlinuz', default_memory=128, memory_slots=128,
                default_bridges=2, entropy_source='/dev/urandom', rootfs_type='ext4'),
    'dragonball': dict(kernel='vmlinuz', default_memory=128, memory_slots=128, entropy_source='/dev/urandom'),
    'firecracker': dict(kernel='vmlinux', default_memory=128, entropy_source='/dev/urandom'),
    'remote': dict(default_memory=64, memory_slots=128, hypervisor_socket=DEFAULT_REMOTE_HYPERVISOR_SOCKET,
                   hypervisor_timeout=DEFAULT_REMOTE_HYPERVISOR_TIMEOUT),
    'openvmm': dict(),
}
_RS_SHARED_FS = ('virtio-fs', 'inline-virtio-fs', 'virtio-fs-nydus')
_RS_VIRTIO_FS_CACHES = ('never', 'auto', 'always')
_RS_HUGEPAGE_TYPES = ('hugetlbfs', 'thp')


def _rs_type_name(value):
    """serde's name of a TOML value's type in its ``invalid type`` errors."""
    if isinstance(value, bool):
        return 'boolean `%s`' % ('true' if value else 'false')
    if isinstance(value, int):
        return 'integer `%d`' % value
    if isinstance(value, float):
        return 'floating point `%s`' % value
    if isinstance(value, str):
        return 'string %s' % go_quote(value)
    if isinstance(value, dict):
        return 'map'
    if isinstance(value, list):
        return 'sequence'
    return 'datetime'


class _RustDecoder(object):
    """Type a merged runtime-rs document as serde does into kata-types' TomlConfig."""

    def __init__(self, described, warnings):
        self.described = described
        self.warnings = warnings

    def error(self, parts, text, value=None):
        key = _key_string(parts)
        raise ConfigError('error decoding %s: %s for key `%s`' % (self.described, text, key), key=key, value=value)

    def expect(self, parts, value, expected):
        self.error(parts, 'invalid type: %s, expected %s' % (_rs_type_name(value), expected), value)

    def value(self, parts, kind, value):
        if isinstance(kind, tuple):
            if kind[0] == 'table':
                return self.table(parts, kind, value)
            if kind[0] == 'list':
                if not isinstance(value, list):
                    self.expect(parts, value, 'a sequence')
                return [self.value(parts, kind[1], item) for item in value]
            if kind[0] == 'aot':
                if not isinstance(value, list):
                    self.expect(parts, value, 'a sequence')
                return [self.value(parts + [str(index)], kind[1], item) for index, item in enumerate(value)]
        if kind == _STR:
            if not isinstance(value, str):
                self.expect(parts, value, 'a string')
            return value
        if kind == _BOOL:
            if not isinstance(value, bool):
                self.expect(parts, value, 'a boolean')
            return value
        if kind == _LIST:
            if not isinstance(value, list):
                self.expect(parts, value, 'a sequence')
            for item in value:
                if not isinstance(item, str):
                    self.expect(parts, item, 'a string')
            return list(value)
        if kind == _IMAGES:
            if not isinstance(value, list):
                self.expect(parts, value, 'a sequence')
            images = []
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    self.expect(parts + [str(index)], item, 'struct GuestExtensionImage')
                if 'name' not in item:
                    self.error(parts + [str(index)], 'missing field `name`')
                entry = dict(name='', path='', verity_params='')
                for key in entry:
                    if key in item:
                        entry[key] = self.value(parts + [str(index), key], _STR, item[key])
                images.append(entry)
            return images
        if kind == _F32:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.expect(parts, value, 'f32')
            if isinstance(value, float) and (math.isnan(value) or abs(value) > 3.4028234663852886e38):
                self.error(parts, 'invalid value: floating point `%s`, expected a number of vCPUs' % value, value)
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.expect(parts, value, kind.replace('uint', 'u').replace('int', 'i'))
        low, high = _RS_RANGES.get(kind) or _RANGES.get(kind) or (_INT64_MIN, _INT64_MAX)
        if value < low or value > high:
            self.error(parts, 'invalid value: integer `%d`, expected %s' % (value, kind.replace('uint', 'u').replace(
                'int', 'i')), value)
        return value

    def table(self, parts, kind, value):
        dummy, fields, strict = kind
        if not isinstance(value, dict):
            self.expect(parts, value, 'a table')
        out = {}
        for key, item in value.items():
            if key in fields:
                out[key] = self.value(parts + [key], fields[key], item)
            elif strict:
                self.error(parts + [key], 'unknown field `%s`, expected one of %s'
                           % (key, ', '.join('`%s`' % name for name in fields)))
            else:
                self.warnings.append('%s: %s is not a runtime-rs key: runtime-rs ignores it'
                                     % (self.described, _key_string(parts + [key])))
        return out

    def document(self, doc):
        out = dict(hypervisor={}, agent={}, runtime={})
        for top, value in doc.items():
            if top in ('hypervisor', 'agent'):
                if not isinstance(value, dict):
                    self.expect([top], value, 'a map')
                for name, table in value.items():
                    out[top][name] = self.table([top, name], _RS_SCHEMAS[top], table)
            elif top == 'runtime':
                out['runtime'] = self.table([top], _RS_SCHEMAS['runtime'], value)
            else:
                self.warnings.append('%s: [%s] is not a runtime-rs table: runtime-rs ignores it'
                                     % (self.described, _key_string([top])))
        return out


def _merge_tree(base, drop_in):
    """kata-types drop_in.rs toml_tree_ops::merge: tables merged key by key, recursively; anything else replaced."""
    for key, value in drop_in.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_tree(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def detect_runtime(path, doc):
    """Tell a runtime-rs configuration from a Go runtime one: return ``(runtime, reason)``, runtime ``go`` or ``rust``.

    By location first: a path with a ``runtime-rs`` directory (``/etc/kata-containers/runtime-rs/``,
    ``<prefix>/share/defaults/kata-containers/runtime-rs/`` and kata-deploy's ``runtime-rs/runtimes/<shim>/``) is
    runtime-rs's, as its build installs it there (src/runtime-rs/Makefile) and kata-types' default lookup reads it
    there. Then by content: a ``[runtime]`` table with ``name``, ``hypervisor_name`` or ``agent_name``, keys only
    runtime-rs reads (every runtime-rs configuration file sets them; the Go runtime has no such keys).
    """
    if 'runtime-rs' in path.split('/'):
        return RUNTIME_RUST, 'location'
    runtime = doc.get('runtime') if isinstance(doc, dict) else None
    if isinstance(runtime, dict) and any(key in runtime for key in _RUST_MARKERS):
        return RUNTIME_RUST, 'content'
    return RUNTIME_GO, 'default'


def _parse_plain(loader, data, path):
    """Parse TOML bytes into a dict with kata's decoding error texts (no typing)."""
    toml_module = _toml_module()
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    try:
        return toml_module.loads(data.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise ConfigError('error decoding file %s: invalid UTF-8: %s' % (go_quote(path), exc), path=path)
    except ValueError as exc:
        raise ConfigError('error decoding file %s: %s' % (go_quote(path), exc), path=path)
    except RecursionError:
        raise ConfigError('error decoding file %s: arrays or inline tables nested too deeply' % go_quote(path),
                          path=path) from None


def _rs_cpus(loader, cpu):
    """kata-types CpuInfo::adjust_config (num_cpus is the host's CPU count)."""
    cpus = loader.host_cpu_count()
    maxvcpus = cpu.get('default_maxvcpus', 0)
    if maxvcpus == 0 or maxvcpus > cpus:
        maxvcpus = cpus
    vcpus = cpu.get('default_vcpus', 0)
    if vcpus < 0 or vcpus > cpus:
        vcpus = cpus
    elif vcpus == 0:
        vcpus = DEFAULT_VCPUS
    if vcpus > maxvcpus:
        vcpus = maxvcpus
    return vcpus, maxvcpus


def _load_rust(loader, resolved, main_doc, hypervisor, reason):
    """Load a runtime-rs configuration: merged drop-ins, kata-types' typing, the chosen table with its defaults."""
    applied = []
    merged = copy.deepcopy(main_doc)
    for entry, target in loader.drop_ins(resolved):
        _merge_tree(merged, _parse_plain(loader, loader.read(entry, target), entry))
        applied.append(entry)
    described = go_quote(resolved) if not applied else '%s (with its config.d drop-ins)' % go_quote(resolved)
    doc = _RustDecoder(described, loader.warnings).document(merged)

    tables = list(doc['hypervisor'])
    for name in tables:
        if name not in RUST_HYPERVISOR_TYPES:
            raise ConfigError('%s: [hypervisor.%s] is not a runtime-rs hypervisor type (known types: %s); runtime-rs '
                              'would fail with "Can not find plugin for hypervisor %s"'
                              % (described, name, ', '.join(RUST_HYPERVISOR_TYPES), name),
                              path=resolved, tables=tables)
    rt = doc['runtime']
    wanted = rt.get('hypervisor_name', '')
    if hypervisor is not None:
        chosen = _choose_hypervisor(loader, tables, hypervisor, described, RUST_HYPERVISOR_TYPES, 'runtime-rs')
        if wanted and wanted != chosen:
            loader.warnings.append('%s: runtime.hypervisor_name is %s: runtime-rs uses [hypervisor.%s], not the chosen '
                                   '[hypervisor.%s]' % (described, go_quote(wanted), wanted, chosen))
    else:
        chosen = wanted or (tables[0] if len(tables) == 1 else RUST_DEFAULT_HYPERVISOR)
        if chosen not in tables:
            raise ConfigError('%s: runtime-rs uses [hypervisor.%s] (%s) but the file has no such table (tables '
                              'found: %s)' % (described, chosen, 'runtime.hypervisor_name' if wanted else
                                              'its default hypervisor', ', '.join(
                                                  '[hypervisor.%s]' % t for t in tables) or 'none'),
                              path=resolved, tables=tables)
    loader.htype = chosen
    prefix = 'hypervisor.%s.' % chosen
    raw = doc['hypervisor'][chosen]
    defaults = _RS_DEFAULTS.get(chosen, {})

    hv = dict((key, _zero(kind)) for key, kind in HYPERVISOR_KEYS)
    for key, kind in RUST_HYPERVISOR_KEYS:
        if not isinstance(kind, tuple):
            hv[key] = _zero(kind)
    hv.update(raw)
    for key, value in defaults.items():
        if not hv.get(key):
            hv[key] = value
    hv['default_vcpus'], hv['default_maxvcpus'] = _rs_cpus(loader, raw)
    host_memory = loader.host_memory()
    if host_memory is not None:
        if hv['default_memory'] > host_memory:
            hv['default_memory'] = host_memory
        if hv['default_maxmemory'] == 0 or hv['default_maxmemory'] > host_memory:
            hv['default_maxmemory'] = host_memory
    hv['default_bridges'] = min(hv['default_bridges'], MAX_BRIDGES)
    if hv['disable_block_device_use']:
        hv['block_device_driver'] = ''
    else:
        hv['block_device_driver'] = hv['block_device_driver'] or 'virtio-blk-pci'
        hv['block_device_aio'] = hv['block_device_aio'] or BLOCK_DEVICE_AIOS[0]
        if hv['block_device_aio'] not in BLOCK_DEVICE_AIOS:
            loader.fail(prefix + 'block_device_aio', hv['block_device_aio'], '%s is unsupported block device AIO '
                        'mode.' % hv['block_device_aio'])
    hv['hot_plug_vfio'] = ''  # runtime-rs has no hot_plug_vfio key
    hv['cold_plug_vfio'] = hv['cold_plug_vfio'] or PCIE_PORTS[0]
    if hv['hugepage_type'] and hv['hugepage_type'] not in _RS_HUGEPAGE_TYPES:
        loader.fail(prefix + 'hugepage_type', hv['hugepage_type'], 'unknown variant `%s`, expected `hugetlbfs` or '
                    '`thp`' % hv['hugepage_type'])
    if 'disable_guest_selinux' not in raw:
        hv['disable_guest_selinux'] = True  # serde default "yes"
    # SharedFsInfo: absent (None) and "none" mean no shared file system; "" means virtio-fs.
    shared_fs = raw.get('shared_fs')
    if shared_fs is None or shared_fs == 'none':
        hv['shared_fs'] = 'none'
    else:
        shared_fs = shared_fs or 'virtio-fs'
        if shared_fs not in _RS_SHARED_FS:
            loader.fail(prefix + 'shared_fs', shared_fs, 'Invalid shared_fs type %s' % shared_fs)
        hv['shared_fs'] = shared_fs
        cache = hv['virtio_fs_cache'] or 'never'
        if cache == 'none':
            loader.warnings.append('%svirtio_fs_cache = "none" is deprecated since Kata Containers 2.5.0: runtime-rs '
                                   'uses "never"' % prefix)
            cache = 'never'
        if cache not in _RS_VIRTIO_FS_CACHES:
            loader.fail(prefix + 'virtio_fs_cache', cache, 'Invalid virtio-fs cache mode: %s' % cache)
        hv['virtio_fs_cache'] = cache
        if shared_fs != 'inline-virtio-fs':
            hv['virtio_fs_daemon'] = loader.asset(prefix + 'virtio_fs_daemon', hv['virtio_fs_daemon'])
    for key in ('path', 'kernel', 'image', 'initrd', 'firmware'):
        if hv[key] and (hv[key].startswith('/') or key != 'kernel'):
            hv[key] = loader.asset(prefix + key, hv[key])
    for image in hv['guest_extension_images']:
        if image['path']:
            loader.asset(prefix + 'guest_extension_images', image['path'])
    hv['machine_accelerators'] = ','.join(item.strip() for item in hv['machine_accelerators'].split(','))
    hv['cpu_features'] = ','.join(item.strip() for item in hv['cpu_features'].split(','))
    hv['msize_9p'] = 0  # runtime-rs has no 9p
    factory_table = raw.get('factory', {})

    agent_tables = sorted(doc['agent'])
    agent_name = rt.get('agent_name') or 'kata'
    agent_raw = doc['agent'].get(agent_name, {})
    if agent_tables and agent_name not in doc['agent']:
        loader.warnings.append('%s: runtime-rs uses [agent.%s], which the file does not have (agent tables: %s)'
                               % (described, agent_name, ', '.join('[agent.%s]' % t for t in agent_tables)))
    agent = dict((key, agent_raw.get(key, _zero(kind))) for key, kind in AGENT_KEYS)
    agent['dial_timeout'] = agent_raw.get('dial_timeout_ms', 0)
    agent.update((key, value) for key, value in agent_raw.items() if key not in agent)

    runtime = dict((key, rt.get(key, _zero(kind))) for key, kind in RUNTIME_KEYS)
    runtime.update((key, value) for key, value in rt.items() if key not in runtime)
    runtime['internetworking_model'] = runtime['internetworking_model'] or 'tcfilter'
    if chosen == 'remote':
        runtime['internetworking_model'], runtime['disable_new_netns'] = 'none', False
    if runtime['jaeger_password']:
        runtime['jaeger_password'] = _MASKED
    factory = dict(
        enable_template=factory_table.get('enable_template', False),
        template_path=factory_table.get('template_path', '') or DEFAULT_TEMPLATE_PATH,
        vm_cache_number=0, vm_cache_endpoint=DEFAULT_VM_CACHE_ENDPOINT,
    )
    return KataConfig(path=resolved, drop_ins=applied, warnings=loader.warnings, hypervisor_type=chosen,
                      hypervisor=hv, agent=agent, runtime=runtime, factory=factory,
                      kernel_params=hv['kernel_params'], hypervisor_tables=tables, runtime_kind=RUNTIME_RUST,
                      runtime_kind_reason=reason, keys_set=set(raw) | set(rt) | set(agent_raw))


def load_config(path, host_root='/', hypervisor=None, host_cpus=None, host_memory_mib=None, arch='amd64',
                runtime=None):
    """Load a Kata configuration file (a host path read under ``host_root``) and its drop-ins; return a KataConfig.

    ``hypervisor`` picks the ``[hypervisor.X]`` table (needed when there are several). ``host_cpus`` (default: this
    process' CPU affinity, or the host's online CPUs under another root) and ``host_memory_mib`` (default: MemTotal
    of ``<host_root>/proc/meminfo``) drive kata's vCPU and memory clamping; ``arch`` (GOARCH or uname name) the
    default hypervisor binary and the vCPU cap. ``runtime`` (``go`` or ``rust``, e.g. from the runtime handler's
    shim) says which runtime reads the file; by default ``detect_runtime`` tells from its location and content.
    Raises ConfigError, ArgumentError or MissingDependencyError.
    """
    loader = _Loader(host_root, arch, host_cpus, host_memory_mib)
    resolved = require_config(loader.root, path)
    loader.path = resolved

    data = loader.read(resolved, resolved)
    reason = 'given'
    if runtime is None:
        wanted = _absolute(path, loader.root) if path else resolved
        runtime, reason = detect_runtime(wanted, {})
        if runtime == RUNTIME_GO:
            runtime, reason = detect_runtime(resolved, _parse_plain(loader, data, resolved))
    elif runtime not in (RUNTIME_GO, RUNTIME_RUST):
        raise ArgumentError('runtime: unknown runtime %r (expected go or rust)' % (runtime,))
    if runtime == RUNTIME_RUST:
        return _load_rust(loader, resolved, _parse_plain(loader, data, resolved), hypervisor, reason)

    base, dummy_undecoded, dummy_unknown = loader.decode(data, resolved)
    applied = []
    for entry, target in loader.drop_ins(resolved):
        doc, undecoded, unknown = loader.decode(loader.read(entry, target), entry)
        if undecoded:
            loader.warnings.append('undecoded keys in %s: [%s]' % (go_quote(entry), ' '.join(undecoded)))
        loader.merge(base, doc, unknown, entry)
        applied.append(entry)
    for top in _MAP_TABLES:
        for name, table in base[top].items():
            for key in table:
                loader.sources.setdefault((top, name, key), resolved)
            loader.sources.setdefault((top, name), resolved)
    described = go_quote(resolved) if not applied else '%s (with its config.d drop-ins)' % go_quote(resolved)

    rt = base['runtime']
    internetworking_model = rt.get('internetworking_model', '')
    if internetworking_model and internetworking_model not in INTERNETWORKING_MODELS:
        loader.fail('runtime.internetworking_model', internetworking_model, 'Unknown type %s' % internetworking_model,
                    ('runtime', 'internetworking_model'))
    vfio_mode = rt.get('vfio_mode', '')
    if vfio_mode and vfio_mode not in VFIO_MODES:
        loader.fail('runtime.vfio_mode', vfio_mode, 'Unknown VFIO mode %s' % vfio_mode, ('runtime', 'vfio_mode'))

    tables = list(base['hypervisor'])
    chosen = _choose_hypervisor(loader, tables, hypervisor, described)
    if chosen is None:
        hv = loader.default_hypervisor()
    else:
        hv = loader.build_hypervisor(chosen, base['hypervisor'][chosen])
    htype = loader.htype

    agent_tables = sorted(base['agent'])
    agent_raw = {}
    if agent_tables:
        agent_name = 'kata' if 'kata' in agent_tables else agent_tables[0]
        if len(agent_tables) > 1:
            loader.warnings.append('several agent tables (%s): kata-runtime uses one of them at random; [agent.%s] '
                                   'is used here' % (', '.join('[agent.%s]' % t for t in agent_tables), agent_name))
        agent_raw = base['agent'][agent_name]
    agent = dict((key, agent_raw.get(key, _zero(kind))) for key, kind in AGENT_KEYS)

    fa = base['factory']
    factory = dict(
        enable_template=fa.get('enable_template', False),
        template_path=fa.get('template_path', '') or DEFAULT_TEMPLATE_PATH,
        vm_cache_number=fa.get('vm_cache_number', 0),
        vm_cache_endpoint=fa.get('vm_cache_endpoint', '') or DEFAULT_VM_CACHE_ENDPOINT,
    )

    params = []
    if hv['image']:
        params.extend(SYSTEMD_KERNEL_PARAMS)
    if hv['block_device_driver'] == 'virtio-scsi':
        params.append(('scsi_mod.scan', 'none'))
    if agent['enable_debug']:
        params.append(('agent.log', 'debug'))
    if agent['enable_tracing']:
        params.append(('agent.trace', 'true'))
    if agent['debug_console_enabled']:
        params.append(('agent.debug_console', ''))
        params.append(('agent.debug_console_vport', DEBUG_CONSOLE_VPORT))
    for field in _go_fields(hv['kernel_params']):
        key, dummy_sep, value = field.partition('=')
        if key == '':
            loader.fail('hypervisor.%s.kernel_params' % htype, hv['kernel_params'], 'Empty kernel parameter',
                        ('hypervisor', htype, 'kernel_params'))
        params.append((key, value))

    runtime = dict((key, rt.get(key, _zero(kind))) for key, kind in RUNTIME_KEYS)
    runtime['internetworking_model'] = internetworking_model or 'default'
    runtime['vfio_mode'] = vfio_mode or 'vfio'
    if runtime['jaeger_password']:
        runtime['jaeger_password'] = _MASKED
    for feature in runtime['experimental']:
        loader.fail('runtime.experimental', runtime['experimental'], 'Unsupported experimental feature %s'
                    % go_quote(feature), ('runtime', 'experimental'))
    bases = set()
    for mount in runtime['sandbox_bind_mounts']:
        resolved_mount = loader.asset('runtime.sandbox_bind_mounts', mount)
        mount_base = os.path.basename(resolved_mount)
        if mount_base in bases:
            loader.fail('runtime.sandbox_bind_mounts', runtime['sandbox_bind_mounts'],
                        'sandbox-bindmounts: File %s has base that matches already specified bindmount'
                        % resolved_mount, ('runtime', 'sandbox_bind_mounts'))
        bases.add(mount_base)

    if runtime['disable_new_netns'] and runtime['internetworking_model'] != 'none':
        loader.fail('runtime.disable_new_netns', True, "config disable_new_netns only works with 'none' "
                    'internetworking_model', ('runtime', 'disable_new_netns'),
                    shown='runtime.disable_new_netns = true with runtime.internetworking_model = %s'
                    % go_quote(runtime['internetworking_model']))
    if htype != 'remote':  # checkHypervisorConfig returns at once for a remote hypervisor (kata 3.3+)
        loader.check_images(hv, hv['default_memory'])
    if htype in ('qemu', 'clh'):
        _check_pcie(loader, htype, hv)
    if factory['enable_template'] and not hv['initrd']:
        loader.fail('factory.enable_template', True, 'Factory option enable_template requires an initrd image',
                    ('factory', 'enable_template'))
    if factory['vm_cache_number'] > 0 and htype != 'qemu':
        loader.fail('factory.vm_cache_number', factory['vm_cache_number'], 'VM cache just support qemu',
                    ('factory', 'vm_cache_number'),
                    shown='factory.vm_cache_number = %d with hypervisor %s' % (factory['vm_cache_number'], htype))

    return KataConfig(path=resolved, drop_ins=applied, warnings=loader.warnings, hypervisor_type=htype,
                      hypervisor=hv, agent=agent, runtime=runtime, factory=factory,
                      kernel_params=serialize_params(params), hypervisor_tables=tables, runtime_kind=RUNTIME_GO,
                      runtime_kind_reason=reason,
                      keys_set=set(base['hypervisor'].get(htype, {})) | set(base['runtime']) | set(agent_raw))


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
