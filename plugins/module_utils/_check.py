# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_check: the whole of ``kata-runtime check`` for one host, as data.

Order of work, as kata-runtime's (the ``check`` command's action, ``kataCheckCLICommand`` in kata-containers 3.0.0
``src/runtime/cmd/kata-runtime/kata-check.go``): configuration (which hypervisor), the host capability check, then the
root phase (the KVM VM-creation test), and the release check when asked for.
"""

from __future__ import annotations

import os

from ansible_collections.katacontainers.kata.plugins.module_utils import _capability, _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._config import _load, _paths
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, KataError
from ansible_collections.katacontainers.kata.plugins.module_utils._runtimes import find_kata_runtime  # noqa: F401 (re-exported)

CAPABLE_MESSAGE = 'System is capable of running Kata Containers'
CAN_CREATE_MESSAGE = 'System can currently create Kata Containers'


def _configuration(host, config, runtime, hypervisor, arch, warn, handler=None):
    """Return (KataConfig or None, hypervisor type, ConfigLocation) following the lookup (``_config._paths.locate_config``),
    or of the runtime ``handler`` already found (a ``_runtimes.find_handlers`` entry); warn when there is no file."""
    if handler is not None:
        location = _paths.handler_location(handler)
    else:
        location = _paths.locate_config(host, config=config, runtime=runtime)
    for message in location.warnings:
        warn(message)
    if location.path is None:
        warn('No Kata configuration file found (tried %s); checking against the %s hypervisor'
             % (', '.join(location.tried), hypervisor or 'qemu'))
        return None, hypervisor or 'qemu', location
    cfg = _load.load_config(location.path, host_root=host.root, hypervisor=hypervisor, arch=arch,
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
    from ansible_collections.katacontainers.kata.plugins.module_utils._runtime_version import runtime_version

    path = find_kata_runtime(host or _probes.Host('/'), runtime_path, get_bin_path, cfg)
    if not path:
        return None
    return runtime_version(path, run_command, 'runtime_path' if runtime_path else None)


class _CachingHost(_probes.Host):
    """A host whose files are read once: several runtime handlers are checked against the same /proc and /sys."""

    def __init__(self, root='/'):
        super(_CachingHost, self).__init__(root)
        self._texts = {}

    def read_text(self, host_path, limit=_probes.DEFAULT_READ_LIMIT):
        key = (host_path, limit)
        if key not in self._texts:
            self._texts[key] = super(_CachingHost, self).read_text(host_path, limit)
        return self._texts[key]


def _check_configuration(module, host, arch, cfg, hypervisor, location, load_modules, kvm_runner):
    """kata-runtime check's host check and root phase for one configuration: the single-configuration result
    (without the release check and the fail_on_incapable verdict)."""
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
    kvm = kvm_runner(hypervisor)
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
    return result


def _load_modules_option(module, host):
    load_modules = module.params['load_modules']
    if load_modules and not host.is_local:
        module.warn('load_modules is ignored for host_root=%s: modules are only loaded on the local host' % host.root)
        load_modules = False
    return load_modules


def _release_result(module, host, cfg):
    p = module.params
    from ansible_collections.katacontainers.kata.plugins.module_utils import _release
    current = installed_runtime_version(p['runtime_path'], module.run_command, module.get_bin_path, host, cfg)
    release = _release.release_check(
        current, url=p['release_url'], include_prereleases=p['include_prereleases'],
        timeout=p['release_timeout'], validate_certs=p['validate_certs'],
        download_prefixes=p['release_download_prefixes'])
    for message in release.pop('warnings', None) or []:
        module.warn(message)
    return release


def _env_facts(module, config=None, runtime=None, hypervisor=None):
    """kata_env's facts for the same host, as the kata_env module gathers them (gather_env's subsets)."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._env import gather_env
    p = module.params
    params = dict(host_root=p['host_root'], config=config, runtime=runtime, hypervisor=hypervisor,
                  runtime_path=p['runtime_path'], gather_subset=p['gather_env'])
    return gather_env(params, module.run_command, module.get_bin_path, module.warn)


def check_host_module(module):
    """The work of the kata_check module: returns its result dict."""
    p = module.params
    if p.get('gather_env'):
        from ansible_collections.katacontainers.kata.plugins.module_utils._env import parse_gather_subset
        try:
            parse_gather_subset(p['gather_env'])
        except ArgumentError as exc:
            raise ArgumentError('gather_env' + exc.msg[len('gather_subset'):])
    if p.get('runtimes') is not None:
        result = check_runtimes_module(module)
        if p.get('gather_env'):
            # the configuration of the one handler checked; with several (or none), the default lookup's
            handlers = [e['handler'] for e in result['runtimes'] if e['handler']]
            result['ansible_facts'] = dict(kata_env=_env_facts(
                module, runtime=handlers[0] if len(handlers) == 1 else None,
                hypervisor=None if handlers else p['hypervisor']))
        return result
    host = _probes.Host(p['host_root'])
    arch = _probes.detect_arch(host)
    cfg, hypervisor, location = _configuration(host, p['config'], p.get('runtime'), p['hypervisor'], arch,
                                               module.warn)
    result = _check_configuration(module, host, arch, cfg, hypervisor, location, _load_modules_option(module, host),
                                  lambda hv: run_kvm_test(host, arch, hv, p['kvm_test']))
    if p['release_check']:
        result['release'] = _release_result(module, host, cfg)
    if p.get('gather_env'):
        result['ansible_facts'] = dict(kata_env=_env_facts(module, p['config'], p.get('runtime'), p['hypervisor']))

    kvm = result.get('kvm')
    if p['fail_on_incapable'] and (not result['capable'] or result['can_create_vm'] is False):
        reasons = []
        if not result['capable']:
            reasons.append('missing or wrong: %s' % ', '.join(result['failed_checks']))
        if result['can_create_vm'] is False:
            reasons.append('cannot create a VM: %s' % kvm['error'])
        result['failed'] = True
        result['msg'] = 'System is not capable of running Kata Containers (%s)' % '; '.join(reasons)
    return result


def _selected_handlers(host, names):
    """The runtime handlers of ``names`` (``all``: every one), in the engines' order, and the lookup's warnings;
    ArgumentError naming an unknown handler and the ones found."""
    from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise ArgumentError('runtimes: expected all or a non-empty list of runtime handler names, got %r' % (names,))
    names = [n.strip() for n in names]
    if 'all' in names and len(names) > 1:
        raise ArgumentError('runtimes: all selects every runtime handler and cannot be combined with names, got %s'
                            % ', '.join(names))
    handlers, warnings = _runtimes.find_handlers(host)
    if names == ['all']:
        return handlers, warnings, True
    # the same words as kata_runtime_info's handlers option
    known = [h['handler'] for h in handlers]
    problem = _runtimes.unknown_handlers('runtimes', names, known)
    if problem:
        raise ArgumentError(problem, handlers=known)
    # in the engines' order; a name several engines define is the first one's, as with runtime
    selected, seen = [], set()
    for handler in handlers:
        if handler['handler'] in names and handler['handler'] not in seen:
            seen.add(handler['handler'])
            selected.append(handler)
    return selected, warnings, False


def check_runtimes_module(module):
    """kata_check with ``runtimes``: every selected runtime handler's configuration checked in one call.

    The host's files are read once, the KVM test runs at most once and the release check once; each entry of
    ``runtimes`` is what a kata_check call with ``runtime: <handler>`` returns for that handler (its changed flag and
    the release check aside), with the handler's engine, the file that defines it and its configuration file; a
    configuration that is missing or does not load fails that entry (``failed``, ``msg``), not the task.
    """
    p = module.params
    host = _CachingHost(p['host_root'])
    arch = _probes.detect_arch(host)
    handlers, warnings, every = _selected_handlers(host, p['runtimes'])
    load_modules = _load_modules_option(module, host)
    kvm_results = {}

    def kvm_runner(hypervisor):
        # The test creates a VM through /dev/kvm whatever the configuration: it runs once, for the first handler
        # whose hypervisor it applies to, and that result is every such handler's.
        if p['kvm_test'] == 'never' or not _capability.kvm_test_applies(arch, hypervisor):
            return None
        if 'result' not in kvm_results:
            kvm_results['result'] = run_kvm_test(host, arch, hypervisor, p['kvm_test'])
        return kvm_results['result']

    entries = []
    changed = False
    first_cfg = None
    # all on a host whose engines define no Kata runtime handler: the configuration the default lookup finds, as
    # without runtime (handler null), for the hypervisor option's hypervisor
    for handler in handlers or ([None] if every else []):
        name = handler['handler'] if handler else None
        info = dict(handler=name, engine=handler['engine'] if handler else None,
                    runtime=handler['runtime'] if handler else None,
                    source=handler['source'] if handler else None,
                    handler_config=handler['config'] if handler else None,
                    config_exists=handler['config_exists'] if handler else None)
        messages = []
        try:
            cfg, hypervisor, location = _configuration(host, None, None, None if handler else p['hypervisor'], arch,
                                                       messages.append, handler=handler)
        except KataError as exc:
            info.update(failed=True, msg=exc.msg)
            entries.append(info)
            continue
        for message in messages:
            module.warn('runtime handler %s: %s' % (name, message) if name else message)
        first_cfg = first_cfg or cfg
        result = _check_configuration(module, host, arch, cfg, hypervisor, location, load_modules, kvm_runner)
        changed = changed or result.pop('changed')
        info.update(result)
        entries.append(info)

    checked = [e for e in entries if not e.get('failed')]
    failed_checks = []
    for entry in checked:
        failed_checks.extend(name for name in entry['failed_checks'] if name not in failed_checks)
    result = dict(
        changed=changed,
        capable=bool(checked) and len(checked) == len(entries) and all(e['capable'] for e in checked),
        can_create_vm=kvm_results['result']['can_create_vm'] if kvm_results.get('result') else None,
        failed_checks=failed_checks,
        arch=arch,
        runtimes=entries,
        runtime_warnings=warnings,
    )
    if kvm_results.get('result'):
        result['kvm'] = kvm_results['result']
    if p['release_check']:
        result['release'] = _release_result(module, host, first_cfg)

    if p['fail_on_incapable'] and (not result['capable'] or result['can_create_vm'] is False):
        reasons = []
        for entry in entries:
            if entry.get('failed'):
                reasons.append('%s: %s' % (entry['handler'] or 'default configuration', entry['msg']))
            elif not entry['capable']:
                label = entry['handler'] or 'default configuration'
                reasons.append('%s: missing or wrong: %s' % (label, ', '.join(entry['failed_checks'])))
        if result['can_create_vm'] is False:
            reasons.append('cannot create a VM: %s' % result['kvm']['error'])
        result['failed'] = True
        result['msg'] = 'System is not capable of running Kata Containers (%s)' % '; '.join(reasons)
    return result
