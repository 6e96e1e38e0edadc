# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): runtime-rs configuration files, kata-types' ``TomlConfig``
(``src/libs/kata-types/src/config/``, 3.0.0 and 4.1.0).
"""

from __future__ import annotations

import copy
import math

from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import (
    _key_string,
    parse_toml,
    go_quote,
    _zero,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._loader import (
    _choose_hypervisor,
    KataConfig,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import (
    _BOOL,
    _F32,
    _I32,
    _I64,
    _IMAGES,
    _INT64_MAX,
    _INT64_MIN,
    _LIST,
    _MASKED,
    _RANGES,
    _STR,
    _U32,
    _U64,
    AGENT_KEYS,
    BLOCK_DEVICE_AIOS,
    DEFAULT_REMOTE_HYPERVISOR_SOCKET,
    DEFAULT_REMOTE_HYPERVISOR_TIMEOUT,
    DEFAULT_TEMPLATE_PATH,
    DEFAULT_VCPUS,
    DEFAULT_VM_CACHE_ENDPOINT,
    HYPERVISOR_KEYS,
    MAX_BRIDGES,
    PCIE_PORTS,
    RUNTIME_GO,
    RUNTIME_KEYS,
    RUNTIME_RUST,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ConfigError
from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import RUST_HYPERVISOR_TYPES

# ---------------------------------------------------------------------------------------------------------------
# runtime-rs (containerd-shim-kata-v2 built from src/runtime-rs): its own schema, kata-types' TomlConfig.

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
    return parse_toml(data, path)


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
