# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""kata_check: the whole of ``kata-runtime check`` for one host, as data.

Order of work, as kata-runtime's (the ``check`` command's action, ``kataCheckCLICommand`` in kata-containers 3.0.0
``src/runtime/cmd/kata-runtime/kata-check.go``): configuration (which hypervisor), the host capability check, then the
root phase (the KVM VM-creation test), and the release check when asked for.
"""

from __future__ import annotations

import os

from ansible_collections.katacontainers.kata.plugins.module_utils import _capability, _config, _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError

CAPABLE_MESSAGE = 'System is capable of running Kata Containers'
CAN_CREATE_MESSAGE = 'System can currently create Kata Containers'


def _configuration(host, config, runtime, hypervisor, arch, warn):
    """Return (KataConfig or None, hypervisor type, ConfigLocation) following the lookup (``_config.locate_config``);
    warn when there is no file."""
    location = _config.locate_config(host, config=config, runtime=runtime)
    for message in location.warnings:
        warn(message)
    if location.path is None:
        warn('No Kata configuration file found (tried %s); checking against the %s hypervisor'
             % (', '.join(location.tried), hypervisor or 'qemu'))
        return None, hypervisor or 'qemu', location
    cfg = _config.load_config(location.path, host_root=host.root, hypervisor=hypervisor, arch=arch,
                              runtime=location.runtime)
    for message in cfg.warnings:
        warn(message)
    return cfg, hypervisor or cfg.hypervisor_type, location


def config_result(cfg, location):
    """The ``config`` result of kata_check and kata_env: the file used, how it was found, which runtime reads it."""
    if cfg is None:
        return None
    return dict(path=cfg.path, drop_ins=list(cfg.drop_ins), source=location.source, runtime=cfg.runtime_kind,
                handler=location.handler['handler'] if location.handler else None)


def find_kata_runtime(host, runtime_path, get_bin_path, cfg=None):
    """The kata-runtime to run: ``runtime_path``, else the one of the installation that holds the configuration file
    used, else ``kata-runtime`` in the PATH, else the first installation's (kata-deploy: /opt/kata/bin, then
    /opt/kata-<suffix>/bin; ``_runtimes.find_installations``). None when there is none (or the host is not this one).
    """
    if runtime_path:
        if '\0' in runtime_path:
            raise ArgumentError('runtime_path: invalid path %r: it contains a NUL character' % (runtime_path,))
        return runtime_path
    if not host.is_local:
        return None
    from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
    installations = [item for item in _runtimes.find_installations(host) if item['kata_runtime']]
    if cfg is not None:
        for item in installations:
            if cfg.path.startswith(item['prefix'].rstrip('/') + '/'):
                return item['kata_runtime']
    found = get_bin_path('kata-runtime')
    if found:
        return found
    return installations[0]['kata_runtime'] if installations else None


def run_kvm_test(host, arch, hypervisor, kvm_test):
    """Return the KVM test's result dict, or None when it does not run (kvm_test never/auto as non-root, n/a)."""
    if kvm_test == 'never' or not _capability.kvm_test_applies(arch, hypervisor):
        return None
    if kvm_test == 'auto' and os.geteuid() != 0:
        return None
    from ansible_collections.katacontainers.kata.plugins.module_utils._kvm import kvm_test as _kvm_test
    return _kvm_test(device=host.path('/dev/kvm'), arch=arch)


def installed_runtime_version(runtime_path, run_command, get_bin_path, host=None, cfg=None):
    """Version of the installed kata-runtime (``--version``), or None when there is none (see find_kata_runtime)."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._release import parse_runtime_version
    path = find_kata_runtime(host or _probes.Host('/'), runtime_path, get_bin_path, cfg)
    if not path:
        return None
    try:
        # handle_exceptions=False: AnsibleModule.run_command would otherwise fail the task with a bare
        # "Error executing command." for a file it cannot execute.
        rc, out, dummy_err = run_command([path, '--version'], handle_exceptions=False)
    except OSError as exc:
        if runtime_path:
            raise ArgumentError('runtime_path: cannot run %s: %s' % (path, exc.strerror or exc))
        return None
    if rc != 0:
        return None
    return parse_runtime_version(out)


def check_host_module(module):
    """The work of the kata_check module: returns its result dict."""
    p = module.params
    host = _probes.Host(p['host_root'])
    arch = _probes.detect_arch(host)
    cfg, hypervisor, location = _configuration(host, p['config'], p.get('runtime'), p['hypervisor'], arch,
                                               module.warn)

    load_modules = p['load_modules']
    if load_modules and not host.is_local:
        module.warn('load_modules is ignored for host_root=%s: modules are only loaded on the local host' % host.root)
        load_modules = False
    verdict = _capability.check_host(
        host, hypervisor=hypervisor, arch=arch,
        load_modules=load_modules and not module.check_mode,
        run_command=module.run_command)
    changed = bool(verdict.get('changed'))
    if load_modules and module.check_mode and os.getuid() == 0:
        # Predict what the real run does: as real root on the local host, every missing module (optional ones
        # too, as kata does) is handed to modprobe.
        changed = any(c['type'] == 'module' and not c['ok'] for c in verdict['checks'])

    messages = list(verdict['messages'])
    kvm = run_kvm_test(host, arch, hypervisor, p['kvm_test'])
    can_create_vm = None
    if kvm is not None:
        can_create_vm = bool(kvm['can_create_vm'])
        if can_create_vm:
            messages.append(CAN_CREATE_MESSAGE)
        else:
            messages.append('ERROR: %s' % kvm['error'])

    result = dict(
        changed=changed,
        capable=verdict['capable'],
        can_create_vm=can_create_vm,
        checks=verdict['checks'],
        failed_checks=verdict['failed_checks'],
        arch=arch,
        cpu_vendor=verdict.get('cpu_vendor'),
        hypervisor=hypervisor,
        config=config_result(cfg, location),
        config_source=location.source,
        messages=messages,
    )
    if kvm is not None:
        result['kvm'] = kvm

    if p['release_check']:
        from ansible_collections.katacontainers.kata.plugins.module_utils import _release
        current = installed_runtime_version(p['runtime_path'], module.run_command, module.get_bin_path, host, cfg)
        release = _release.release_check(
            current, url=p['release_url'], include_prereleases=p['include_prereleases'],
            timeout=p['release_timeout'], validate_certs=p['validate_certs'],
            download_prefixes=p['release_download_prefixes'])
        for message in release.pop('warnings', None) or []:
            module.warn(message)
        result['release'] = release

    if p['fail_on_incapable'] and (not verdict['capable'] or can_create_vm is False):
        reasons = []
        if not verdict['capable']:
            reasons.append('missing or wrong: %s' % ', '.join(verdict['failed_checks']))
        if can_create_vm is False:
            reasons.append('cannot create a VM: %s' % kvm['error'])
        result['failed'] = True
        result['msg'] = 'System is not capable of running Kata Containers (%s)' % '; '.join(reasons)
    return result
