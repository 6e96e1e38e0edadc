# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): ``load_config``, a configuration file and its drop-ins loaded for the
runtime that reads it (Go runtime or runtime-rs).

The _config package: Kata Containers configuration loading, as kata-runtime's ``katautils.LoadConfiguration`` does
it (3.0.0 to 4.1.0), and as runtime-rs's kata-types ``TomlConfig`` does it for runtime-rs files.

Its files, one job each: ``_schema`` (the Go runtime's keys, types and defaults), ``_gotypes`` (Go and TOML typing,
quoting and the kernel command line), ``_paths`` (where the file is: kata's lookup and the collection's, under the
host root), ``_loader`` (reading, typing and merging a file and its drop-ins), ``_builders`` (the per-hypervisor
builders), ``_rust`` (runtime-rs files), ``_load`` (``load_config``) and ``_env_sections`` (kata env's
configuration-derived sections). The package's ``__init__.py`` is empty (ansible-test 2.15 requires it): import
from these files.

Which runtime reads a file (``detect_runtime``): a runtime handler says so (its shim); otherwise a file in a
``runtime-rs`` directory, or whose ``[runtime]`` table has ``name``, ``hypervisor_name`` or ``agent_name``, is
runtime-rs's, any other the Go runtime's. Go files are read with the union of the 3.0.0 and 4.1.0 schemas (4.1.0's
``src/runtime/pkg/katautils/config.go``: the stratovirt and remote builders, float ``default_vcpus``,
``shared_fs = "none"``, ``guest_extension_images``, ``checkPCIeConfig``...); runtime-rs files with kata-types'
(``src/libs/kata-types/src/config/``, 3.0.0 and 4.1.0): see ``_rust``. ``locate_config`` is the collection's
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

import os

from ansible_collections.katacontainers.kata.plugins.module_utils._config._builders import _check_pcie
from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import (
    _go_fields,
    go_quote,
    serialize_params,
    _zero,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._loader import (
    _choose_hypervisor,
    _Loader,
    KataConfig,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._paths import _absolute, require_config
from ansible_collections.katacontainers.kata.plugins.module_utils._config._rust import (
    _load_rust,
    _parse_plain,
    detect_runtime,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import (
    _MAP_TABLES,
    _MASKED,
    AGENT_KEYS,
    DEBUG_CONSOLE_VPORT,
    DEFAULT_TEMPLATE_PATH,
    DEFAULT_VM_CACHE_ENDPOINT,
    INTERNETWORKING_MODELS,
    RUNTIME_GO,
    RUNTIME_KEYS,
    RUNTIME_RUST,
    SYSTEMD_KERNEL_PARAMS,
    VFIO_MODES,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError


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
