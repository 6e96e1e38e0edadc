# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer, kata_env's facts (also gathered by kata_check): kata-runtime's EnvInfo as snake_case facts.

EnvInfo is what ``getEnvInfo`` builds (kata-containers ``src/runtime/cmd/kata-runtime/kata-env.go``), in the format
of the installed kata-runtime: 1.0.27 for 3.3 and later (4.1.0 included), 1.0.26 for 3.0 to 3.2. When its version is
unknown (no kata-runtime found, another host root, runtime_version not gathered), the configuration file decides:
1.0.27 when it sets a key only kata 3.3 and later read (``_config._env_sections.KEYS_SINCE_3_3``), else 1.0.26.

Sections and the kata field each key comes from:
  kernel      Kernel.{Path, Parameters}
  meta        Meta.Version (1.0.26 or 1.0.27)
  image       Image.Path                 initrd  Initrd.Path
  hypervisor  Hypervisor.{MachineType, Version, Path, BlockDeviceDriver, EntropySource, SharedFS, VirtioFSDaemon,
              SocketPath, Msize9p, MemorySlots, Debug}; 1.0.26: {PCIeRootPort, HotplugVFIOOnRootBus};
              1.0.27: {HotPlugVFIO, ColdPlugVFIO, PCIeRootPort, PCIeSwitchPort, SecurityInfo}
  runtime     Runtime.{Config.Path, Path, Experimental, Version.{OCI, Version.{Semver, Commit, Major, Minor, Patch}},
              Debug, Trace, DisableGuestSeccomp, DisableNewNetNs, SandboxCgroupOnly}, 1.0.27: GuestSeLinuxLabel;
              runtime.config.runtime (go or rust: which runtime reads the file) and runtime.config.source (how it was
              found) are the collection's additions
  host        Host.{AvailableGuestProtections, Kernel, Architecture, Distro.{Name, Version},
              CPU.{Vendor, Model, CPUs}, Memory.{Total, Free, Available}, VMContainerCapable, SupportVSocks}
  agent       Agent.{Debug, Trace}
"""

from __future__ import annotations

import os

from ansible_collections.katacontainers.kata.plugins.module_utils import _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._config import _env_sections, _load, _paths
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError
from ansible_collections.katacontainers.kata.plugins.module_utils._runtimes import find_kata_runtime

ENV_FORMAT_VERSION = _env_sections.ENV_FORMAT_1_0_26  # kata-runtime 3.0.0's; see env_format_version
UNKNOWN = '<<unknown>>'
OCI_VERSION = '1.0.2-dev'
SUBSETS = ('host', 'config', 'capability', 'hypervisor_version', 'runtime_version')


def parse_gather_subset(values):
    """Return the set of parts to gather from gather_subset (``all``, names, ``!name`` exclusions)."""
    wanted = set()
    excluded = set()
    for raw in values or ['all']:
        value = raw.strip()
        exclude = value.startswith('!')
        name = value[1:] if exclude else value
        if name not in SUBSETS and name != 'all':
            raise ArgumentError('gather_subset: unknown subset %r; expected all, %s, optionally prefixed with "!"'
                                % (raw, ', '.join(SUBSETS)))
        target = excluded if exclude else wanted
        target.update(SUBSETS if name == 'all' else (name,))
    if not wanted:
        wanted = set(SUBSETS)
    return wanted - excluded


def socket_path(hypervisor_type, hypervisor_path):
    """Hypervisor.SocketPath as kata-runtime env's getHypervisorInfo computes it, for the sandbox ID placeholder ``{ID}``."""
    if os.geteuid() != 0:
        return UNKNOWN
    if hypervisor_type == 'firecracker':
        # The middle element is the basename of the hypervisor binary, as kata builds it.
        return '/run/vc/%s/{ID}/root/kata.hvsock' % os.path.basename(hypervisor_path or 'firecracker')
    if hypervisor_type == 'clh':
        return '{ID}/clh.sock'
    return ''


def _runtime_version(path, run_command, option=None):
    """The runtime's version dict, or None (_runtime_version.runtime_version_info)."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._runtime_version import runtime_version_info

    return runtime_version_info(path, run_command, option)


def env_format_version(version, cfg):
    """EnvInfo's format: that of the kata-runtime ``version`` (a version dict or None), else the configuration's."""
    if version is not None:
        release = (version['major'], version['minor'])
        return _env_sections.ENV_FORMAT_1_0_27 if release >= (3, 3) else _env_sections.ENV_FORMAT_1_0_26
    if cfg is not None and _env_sections.newer_keys(cfg):
        return _env_sections.ENV_FORMAT_1_0_27
    return ENV_FORMAT_VERSION


def gather_env(params, run_command, get_bin_path, warn):
    """Build the kata_env facts dict."""
    parts = parse_gather_subset(params.get('gather_subset'))
    host = _probes.Host(params.get('host_root') or '/')
    arch = _probes.detect_arch(host)
    warnings = []

    def note(message):
        warnings.append(message)
        warn(message)

    cfg = location = None
    hypervisor_type = params.get('hypervisor') or 'qemu'
    if 'config' in parts or 'capability' in parts or 'hypervisor_version' in parts:
        location = _paths.locate_config(host, config=params.get('config'), runtime=params.get('runtime'))
        for message in location.warnings:
            note(message)
        if location.path is None:
            note('No Kata configuration file found (tried %s): the configuration sections are null'
                 % ', '.join(location.tried))
        else:
            cfg = _load.load_config(location.path, host_root=host.root, hypervisor=params.get('hypervisor'),
                                    arch=arch, host_cpus=_probes.cpu_count(host), runtime=location.runtime)
            hypervisor_type = cfg.hypervisor_type
            for message in cfg.warnings:
                note(message)

    runtime_path = version = None
    if 'runtime_version' in parts and host.is_local:
        runtime_path = find_kata_runtime(host, params.get('runtime_path'), get_bin_path, cfg)
        if runtime_path:
            version = _runtime_version(runtime_path, run_command, 'runtime_path' if params.get('runtime_path') else None)

    format_version = env_format_version(version, cfg)
    facts = dict(kernel=None, meta=dict(version=format_version), image=None, initrd=None, hypervisor=None,
                 runtime=None, host=None, agent=None)

    if cfg is not None and 'config' in parts:
        release = (version['major'], version['minor']) if version else None
        sections = _env_sections.env_sections(cfg, format_version, release)
        facts.update(kernel=sections['kernel'], image=sections['image'], initrd=sections['initrd'],
                     agent=sections['agent'])
        hypervisor = dict(sections['hypervisor'])
        hypervisor['version'] = None
        hypervisor['socket_path'] = socket_path(cfg.hypervisor_type, hypervisor.get('path'))
        facts['hypervisor'] = hypervisor
        runtime = dict(sections['runtime'])
        runtime['config'] = dict(runtime['config'], source=location.source)
        runtime.setdefault('path', None)
        runtime.setdefault('version', dict(oci=OCI_VERSION, version=None))
        facts['runtime'] = runtime

    if cfg is not None and 'hypervisor_version' in parts and facts['hypervisor'] is not None:
        if host.is_local:
            facts['hypervisor']['version'] = _probes.hypervisor_version(cfg.hypervisor.get('path'), run_command)

    if runtime_path and facts['runtime'] is not None:
        facts['runtime']['path'] = os.path.realpath(runtime_path)
        facts['runtime']['version'] = dict(oci=OCI_VERSION, version=version)

    if 'host' in parts or 'capability' in parts:
        facts['host'] = _host_section(host, arch, parts, hypervisor_type, run_command)

    facts['warnings'] = warnings
    return facts


def _host_section(host, arch, parts, hypervisor_type, run_command):
    section = dict(available_guest_protections=None, kernel=None, architecture=arch, distro=None, cpu=None,
                   memory=None, vm_container_capable=None, support_vsocks=None)
    if 'host' in parts:
        cpuinfo = host.read_text('/proc/cpuinfo')
        block = _probes.first_cpu_block(cpuinfo)
        vendor, model = _probes.cpu_vendor_model(arch, block, cpuinfo)
        name, version = _probes.distro(host)
        section.update(
            available_guest_protections=_probes.guest_protections(host, arch, cpuinfo),
            kernel=_probes.kernel(host),
            distro=dict(name=name, version=version),
            cpu=dict(vendor=vendor, model=model, cpus=_probes.cpu_count(host)),
            memory=_probes.memory(host),
            support_vsocks=_probes.support_vsocks(host),
        )
    if 'capability' in parts:
        from ansible_collections.katacontainers.kata.plugins.module_utils import _capability
        verdict = _capability.check_host(host, hypervisor=hypervisor_type, arch=arch, load_modules=False,
                                         run_command=run_command)
        section['vm_container_capable'] = verdict['capable']
    return section
