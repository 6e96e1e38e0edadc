# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""kata-runtime's host capability check, returning data instead of log lines.

The algorithm is kata-runtime 3.0.0's (kata-containers 3.0.0, ``src/runtime/cmd/kata-runtime/kata-check.go``:
``checkCPU``, ``checkKernelModules``, ``haveKernelModule``) and the requirements are its per architecture, CPU type
and hypervisor (``setCPUtype`` and ``archRequiredKernelModules`` in ``kata-check_<arch>.go``), plus ``stratovirt``
(3.3) and riscv64 (3.16). Each requirement becomes one entry of ``checks``, in a fixed order (kata walks Go maps, so
its order changes from run to run): CPU attributes, CPU flags, the SMT rule (ppc64le), then the kernel modules in
kata's listed order, each followed by its parameters.

Deliberate differences from kata-runtime 3.0.0 (docs/kata_behaviour.md explains each):

* ``kvm_intel`` ``unrestricted_guest=Y`` is required on Intel bare metal and not requested inside a VM. kata means
  this, but its guard reads ``err != nil && !onVMM`` instead of ``err == nil && !onVMM``, so it never asks for it.
* Kernel modules are loaded with ``modprobe`` only when asked (``load_modules``), as root, on this machine; kata
  always tries as root.
* When SMT is on (POWER8 and older), kata stops before the kernel modules; here they are still checked and
  reported, with the same verdict and kata's SMT message.
* Checking goes on after a failure so that every problem is reported, as kata does for flags and modules.
"""

from __future__ import annotations

import os

from ansible_collections.katacontainers.kata.plugins.module_utils import _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError
from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import HYPERVISOR_TYPES

FAIL_MESSAGE = 'System is not capable of running Kata Containers'
CAPABLE_MESSAGE = 'System is capable of running Kata Containers'
INCAPABLE_MESSAGE = 'ERROR: ' + FAIL_MESSAGE
SMT_FAIL_MESSAGE = 'SMT is not Off. ' + FAIL_MESSAGE

# kata's log messages, used as the ``detail`` of each outcome.
CPU_FOUND = 'CPU property found'
CPU_NOT_FOUND = 'CPU property not found'
MODULE_FOUND = 'kernel property found'
MODULE_NOT_FOUND = 'kernel property %s not found'
MODULE_CANNOT_INSERT = 'Module is not loaded and it can not be inserted. Please consider running with sudo or as root'
MODPROBE_FAILED = 'modprobe insert module failed'
PARAM_CORRECT = 'Kernel property value correct'
PARAM_UNEXPECTED = 'kernel module parameter has unexpected value'
SMT_OFF = 'SMT is off'
SMT_UNKNOWN = "ppc64_cpu isn't installed, can't detect SMT"
POWER_UNKNOWN = 'Failed to find Power Processor number from /proc/cpuinfo'

# Hypervisor types kata-runtime knows (``remote`` since 3.3, ``stratovirt`` since 3.3, ``acrn`` until 3.10), from the
# collection's one list. Every type but acrn (its own device test) and remote (no local VM) runs its VMs on KVM here;
# openvmm (runtime-rs 4.1) is checked like the other KVM hypervisors.
KVM_HYPERVISORS = tuple(name for name in HYPERVISOR_TYPES if name not in ('acrn', 'remote'))
INTEL_HYPERVISORS = KVM_HYPERVISORS + ('acrn', 'mock')
HYPERVISORS = INTEL_HYPERVISORS + ('remote',)

_VM = 'Kernel-based Virtual Machine'
_VIRTIO = 'Host kernel accelerator for virtio'
_VIRTIO_NET = 'Host kernel accelerator for virtio network'
_VSOCK = 'Host Support for Linux VM Sockets'


def _module(name, description, required=True, parameters=()):
    """A kernel module requirement; parameters are (name, expected value, required) tuples."""
    return dict(name=name, description=description, required=required, parameters=list(parameters))


def _generic_kvm_modules():
    return [_module('kvm', _VM), _module('vhost', _VIRTIO), _module('vhost_net', _VIRTIO_NET),
            _module('vhost_vsock', _VSOCK, required=False)]


def requirements(arch, cpu_type=None, hypervisor='qemu', in_vm=False):
    """What kata requires of a host: {attributes: [(name, description)], flags: [...], modules: [...]}.

    ``cpu_type`` (``intel``/``amd``, see _probes.cpu_type) matters on amd64 only, ``in_vm`` only for Intel's
    ``unrestricted_guest``. An unknown hypervisor, or one kata does not accept for Intel, raises ArgumentError.
    """
    if hypervisor not in HYPERVISORS:
        raise ArgumentError('hypervisor: unknown hypervisor type %r; expected one of %s'
                            % (hypervisor, ', '.join(HYPERVISORS)), hypervisor=hypervisor)
    if arch == 'amd64':
        if cpu_type == 'intel':
            return _intel_requirements(hypervisor, in_vm)
        if cpu_type == 'amd':
            return dict(
                attributes=[('AuthenticAMD', 'AMD Architecture CPU')],
                flags=[('svm', 'Virtualization support'), ('lm', '64Bit CPU'), ('sse4_1', 'SSE4.1')],
                modules=[_module('kvm', _VM), _module('kvm_amd', 'AMD KVM'), _module('vhost', _VIRTIO),
                         _module('vhost_net', _VIRTIO_NET), _module('vhost_vsock', _VSOCK, required=False)])
        raise ProbeError('Unknown CPU Type')
    if arch in ('arm64', 'riscv64'):
        return dict(attributes=[], flags=[], modules=_generic_kvm_modules())
    if arch == 'ppc64le':
        return dict(attributes=[], flags=[], modules=[
            _module('kvm', _VM), _module('kvm_hv', 'Kernel-based Virtual Machine hardware virtualization'),
            _module('vhost_vsock', _VSOCK, required=False)])
    if arch == 's390x':
        return dict(attributes=[], flags=[], modules=[_module('kvm', _VM), _module('vhost_vsock', _VSOCK, required=False)])
    raise ProbeError('Unsupported architecture %r; kata-runtime exists for %s' % (arch, ', '.join(_probes.ARCHITECTURES)))


def _intel_requirements(hypervisor, in_vm):
    if hypervisor not in INTEL_HYPERVISORS:
        raise ArgumentError('setCPUtype: Unknown hypervisor type %s (an Intel host is checked for %s)'
                            % (hypervisor, ', '.join(INTEL_HYPERVISORS)), hypervisor=hypervisor)
    attributes = [('GenuineIntel', 'Intel Architecture CPU')]
    if hypervisor == 'acrn':
        return dict(attributes=attributes, flags=[('lm', '64Bit CPU'), ('sse4_1', 'SSE4.1')], modules=[
            _module('vhm_dev', 'Intel ACRN', required=False), _module('vhost', _VIRTIO, required=False),
            _module('vhost_net', _VIRTIO_NET, required=False)])
    flags = [('vmx', 'Virtualization support'), ('lm', '64Bit CPU'), ('sse4_1', 'SSE4.1')]
    if hypervisor == 'mock':
        return dict(attributes=attributes, flags=flags, modules=[])
    # "VMX Unrestricted mode support": kata's heuristic for a CPU new enough (Westmere or later). Not needed, and
    # usually not offered, inside a VM. kata 3.0.0 means exactly this but never asks for it (inverted guard).
    parameters = [] if in_vm else [('unrestricted_guest', 'Y', True)]
    return dict(attributes=attributes, flags=flags, modules=[
        _module('kvm', _VM), _module('kvm_intel', 'Intel KVM', parameters=parameters), _module('vhost', _VIRTIO),
        _module('vhost_net', _VIRTIO_NET), _module('vhost_vsock', _VSOCK, required=False)])


def kvm_test_applies(arch, hypervisor):
    """Whether kata's root phase is the KVM VM-creation test for this hypervisor.

    True for qemu, clh, firecracker, stratovirt and dragonball (kata 3.0.0 rejects dragonball in that phase as an
    unknown hypervisor although it accepts it everywhere else: it is a KVM hypervisor, so it gets the test).
    False for acrn (its own device test), mock and remote (no local VM). ``arch`` is accepted for symmetry: the
    rule is the same on every architecture.
    """
    del arch
    return hypervisor in KVM_HYPERVISORS


def _check(kind, name, description, required, ok, detail, found=None, expected=None):
    return dict(type=kind, name=name, description=description, required=required, ok=ok, found=found,
                expected=expected, detail=detail)


def _module_check(host, module, load_modules, real_uid, run_command, find_command):
    """Return (check, changed) for one kernel module, loading it with modprobe when asked and allowed."""
    name = module['name']
    present = _probes.module_loaded(host, name)
    changed = False
    if present:
        detail = MODULE_FOUND
    elif load_modules and real_uid == 0 and host.is_local:
        modprobe = find_command('modprobe')
        if modprobe is None:
            detail = '%s: modprobe was not found in PATH or %s' % (MODPROBE_FAILED, ', '.join(_probes.SBIN_DIRS))
        else:
            rc, out, err = run_command([modprobe, name])
            if rc == 0:
                present = changed = True
                detail = '%s (loaded with modprobe)' % MODULE_FOUND
            else:
                output = '\n'.join(part.strip() for part in (out, err) if part and part.strip())
                detail = '%s (rc=%s): %s' % (MODPROBE_FAILED, rc, output or 'no output')
    elif real_uid != 0:
        detail = MODULE_CANNOT_INSERT
    else:
        detail = MODULE_NOT_FOUND % name
    return _check('module', name, module['description'], module['required'], present, detail), changed


def _parameter_check(host, module, param, expected, required):
    value = _probes.module_parameter(host, module['name'], param)  # unreadable: kata aborts the check, so do we
    ok = value == expected
    if param == 'nested':
        required = False  # kata's parameter handler always excuses ``nested`` (only warns)
    return _check('module_parameter', param, '%s parameter %s' % (module['description'], param), required, ok,
                  PARAM_CORRECT if ok else PARAM_UNEXPECTED, found=value, expected=expected)


def _smt_check(generation, run_command, find_command):
    description = 'SMT must be off on POWER8 and older'
    prefix = '' if generation is not None else POWER_UNKNOWN + '; '
    ppc64_cpu = find_command('ppc64_cpu')
    if ppc64_cpu is None:
        return _check('smt', 'smt', description, True, True, prefix + SMT_UNKNOWN, expected=SMT_OFF)
    rc, out, dummy_err = run_command([ppc64_cpu, '--smt'], environ_update={'LANG': 'C', 'LC_ALL': 'C'})
    if rc != 0:
        # kata: any failure of the command counts as "not installed", and the host passes.
        return _check('smt', 'smt', description, True, True, prefix + SMT_UNKNOWN, expected=SMT_OFF)
    found = (out or '').rstrip('\n')
    ok = found == SMT_OFF
    return _check('smt', 'smt', description, True, ok, prefix + (SMT_OFF if ok else SMT_FAIL_MESSAGE),
                  found=found, expected=SMT_OFF)


def _no_commands(args, **unused_kwargs):
    """The runner when the caller gives none: nothing is run (modules always pass ``module.run_command``)."""
    return 127, '', '%s: not run (no command runner given)' % args[0]


def check_host(host, hypervisor='qemu', arch=None, load_modules=False, run_command=None, real_uid=None,
               find_command=None):
    """Run kata's host capability check on ``host`` (a _probes.Host) for ``hypervisor``.

    ``run_command`` has AnsibleModule.run_command's signature (default: none, so no command runs);
    ``find_command(name) -> path or None`` finds modprobe and ppc64_cpu (default: PATH, then the sbin dirs);
    ``real_uid`` defaults to os.getuid() (kata decides on module loading with the real UID).

    Returns {capable, arch, cpu_vendor, in_vm, checks, failed_checks, changed, messages}; raises ProbeError when
    the host cannot be read the way kata needs (no /proc/cpuinfo, no CPU block, no flags on amd64, an unreadable
    module parameter) and ArgumentError for a hypervisor kata does not accept.
    """
    hypervisor = hypervisor or 'qemu'
    arch = arch or _probes.detect_arch(host)
    run_command = run_command or _no_commands
    find_command = find_command or _probes.find_command
    real_uid = os.getuid() if real_uid is None else real_uid

    cpuinfo = host.read_text('/proc/cpuinfo')
    kind = _probes.cpu_type(cpuinfo) if arch == 'amd64' else None
    in_vm = _probes.running_in_vm(arch, cpuinfo)
    wanted = requirements(arch, kind, hypervisor, in_vm)
    block = _probes.first_cpu_block(cpuinfo)

    checks = []
    if arch == 'amd64':
        cpu_vendor = 'GenuineIntel' if kind == 'intel' else 'AuthenticAMD'
        flags = _probes.cpu_flags(block)
        if not flags:
            raise ProbeError('Cannot find CPU flags in the first CPU of %s' % host.path('/proc/cpuinfo'))
        for name, description in wanted['attributes']:
            ok = _probes.has_word(block, name)
            checks.append(_check('attribute', name, description, True, ok, CPU_FOUND if ok else CPU_NOT_FOUND))
        for name, description in wanted['flags']:
            ok = _probes.has_word(flags, name)
            checks.append(_check('flag', name, description, True, ok, CPU_FOUND if ok else CPU_NOT_FOUND))
    else:
        try:
            cpu_vendor = _probes.cpu_vendor_model(arch, block, cpuinfo)[0] or None
        except ProbeError:
            cpu_vendor = None

    if arch == 'ppc64le':
        generation = _probes.power_generation(cpuinfo)
        if generation is None or generation <= 8:  # kata: an unreadable generation counts as 0
            checks.append(_smt_check(generation, run_command, find_command))

    changed = False
    for module in wanted['modules']:
        check, loaded = _module_check(host, module, load_modules, real_uid, run_command, find_command)
        checks.append(check)
        changed = changed or loaded
        if check['ok']:
            for param, expected, required in module['parameters']:
                checks.append(_parameter_check(host, module, param, expected, required))

    failed = [c['name'] for c in checks if c['required'] and not c['ok']]
    if not failed:
        messages = [CAPABLE_MESSAGE]
    elif 'smt' in [c['type'] for c in checks if c['required'] and not c['ok']]:
        messages = [SMT_FAIL_MESSAGE]
    else:
        messages = [INCAPABLE_MESSAGE]
    return dict(capable=not failed, arch=arch, cpu_vendor=cpu_vendor, in_vm=in_vm, checks=checks,
                failed_checks=failed, changed=changed, messages=messages)
