# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The KVM VM-creation test of ``kata-runtime check``, as a structured result.

kata-runtime 3.0.0, as root, opens ``/dev/kvm`` read-write with close-on-exec, issues ``KVM_CREATE_VM`` with argument
0 and closes both file descriptors (``genericKvmIsUsable`` in kata-containers 3.0.0
``src/runtime/cmd/kata-runtime/kata-check.go``); on arm64 it then asks ``KVM_CHECK_EXTENSION`` for
``KVM_CAP_ARM_VM_IPA_SIZE`` and only logs the answer (``checkKVMExtensions``, ``kata-check_arm64.go``). This module
does the same, and also checks ``KVM_GET_API_VERSION`` (12, as kata-ctl and every KVM user does) before creating the
VM (docs/kata_behaviour.md, KVM API version is checked).

``kvm_test()`` never raises for an operating-system error: a missing device, a permission problem or a failing ioctl
is returned as ``ok=False`` with ``errno`` and a clear ``error`` text, so that a module can report it beside the other
checks.
"""

from __future__ import annotations

import errno
import fcntl
import os

from ansible_collections.katacontainers.kata.plugins.module_utils._arch import kata_arch

KVM_API_VERSION = 12
KVM_CAP_ARM_VM_IPA_SIZE = 165
KVM_CAP_ARM_VM_IPA_SIZE_DESCRIPTION = 'Maximum IPA shift supported by the host'

# The ioctl "type" of every KVM request (<linux/kvm.h>: #define KVMIO 0xAE) and the request numbers used here.
KVMIO = 0xAE
_KVM_REQUESTS = (
    ('KVM_GET_API_VERSION', 0x00),
    ('KVM_CREATE_VM', 0x01),
    ('KVM_CHECK_EXTENSION', 0x03),
)

# Layout of an ioctl request number. include/uapi/asm-generic/ioctl.h: 8 bits of number, 8 bits of type, 14 bits
# of size, 2 bits of direction, and _IOC_NONE == 0. Alpha, MIPS, PowerPC and SPARC override it
# (arch/powerpc/include/uapi/asm/ioctl.h ...): 13 bits of size, 3 bits of direction and _IOC_NONE == 1, so the
# direction "none" sets bit 29 and _IO(0xAE, 0x01) is 0x2000AE01 there instead of 0xAE01. kata-runtime 3.0.0 took the
# numbers from <linux/kvm.h> through cgo, so it got the right one on every architecture; 4.0.0 hard-codes the same
# values per architecture. Computing them here keeps one rule instead of a table per architecture.
_IOC_NRBITS = 8
_IOC_TYPEBITS = 8
_IOC_LAYOUT_GENERIC = (14, 0)  # (size bits, value of _IOC_NONE)
_IOC_LAYOUT_LEGACY = (13, 1)
# Kata's (Go's) architecture names, and the kernel's (uname -m) names, of the architectures with the legacy layout.
_LEGACY_IOC_ARCHES = frozenset((
    'ppc64le', 'ppc64', 'ppc', 'powerpc', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64el', 'mipsel',
    'sparc', 'sparc64', 'alpha',
))


def host_arch():
    """This machine's architecture in kata's naming (``amd64``, ``arm64``, ...), from ``uname -m``.

    The ioctl numbers depend on the running kernel, which is always this machine's, even when ``/dev/kvm`` is read
    under another root (a host root mounted into a container shares the kernel).
    """
    machine = os.uname().machine
    return kata_arch(machine, machine)


def ioctl_io(arch, ioc_type, number):
    """The Linux ``_IO(type, number)`` request number (no data transfer) on ``arch`` (kata or uname naming)."""
    size_bits, ioc_none = _IOC_LAYOUT_LEGACY if arch in _LEGACY_IOC_ARCHES else _IOC_LAYOUT_GENERIC
    dir_shift = _IOC_NRBITS + _IOC_TYPEBITS + size_bits
    return (ioc_none << dir_shift) | (ioc_type << _IOC_NRBITS) | number


def kvm_ioctls(arch):
    """Return ``{'KVM_GET_API_VERSION': n, 'KVM_CREATE_VM': n, 'KVM_CHECK_EXTENSION': n}`` for ``arch``.

    For example ``KVM_CREATE_VM`` is 0xAE01 on amd64, arm64, s390x and riscv64, and 0x2000AE01 on ppc64le.
    """
    return dict((name, ioctl_io(arch, KVMIO, number)) for name, number in _KVM_REQUESTS)


def errno_text(err):
    """``'<strerror> (<ERRNAME>)'`` for an errno value, e.g. ``'Device or resource busy (EBUSY)'``."""
    return '%s (%s)' % (os.strerror(err), errno.errorcode.get(err, 'errno %d' % err))


def open_error(device, exc):
    """The error text when the device cannot be opened, e.g. ``cannot open /dev/kvm: No such file or directory``."""
    reason = exc.strerror or str(exc)
    return 'cannot open %s: %s' % (device, reason)


def ioctl_error(request, err):
    """The error text of a failed ioctl, e.g. ``KVM_GET_API_VERSION failed: Inappropriate ioctl for device (ENOTTY)``."""
    return '%s failed: %s' % (request, errno_text(err))


def api_version_error(version):
    """The error text when ``KVM_GET_API_VERSION`` answers something other than 12."""
    return 'KVM API version is %d, expected %d' % (version, KVM_API_VERSION)


def create_vm_error(err):
    """The error text when ``KVM_CREATE_VM`` fails with ``err``.

    EBUSY is what KVM answers when another hypervisor (VirtualBox, VMware, ...) holds the virtualization extensions;
    kata-runtime logs ``cannot create VM`` with reason ``another hypervisor running`` for it.
    """
    if err == errno.EBUSY:
        return 'KVM_CREATE_VM failed: another hypervisor is running (EBUSY)'
    return ioctl_error('KVM_CREATE_VM', err)


def ipa_size_error(err):
    """The error text when ``KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE)`` fails (kata logs ``is not supported``)."""
    return 'KVM extension KVM_CAP_ARM_VM_IPA_SIZE (%s) is not supported: %s' % (
        KVM_CAP_ARM_VM_IPA_SIZE_DESCRIPTION, errno_text(err))


def _failed(result, err, message):
    result.update(ok=False, errno=err, error=message)
    return result


def kvm_test(device='/dev/kvm', arch=None):
    """Open ``device`` and create (then close) a KVM VM, like kata-runtime's root phase.

    ``device`` is a parameter so that callers reading a host under another root pass ``<host_root>/dev/kvm``.
    ``arch`` (kata's naming; default: this machine's) selects kata's per-architecture steps: on ``arm64`` the IPA
    size extension is checked too. The ioctl numbers always follow the running kernel (``host_arch()``): the device
    is served by this machine's kernel whatever root it is reached under.

    Returns ``{ok, device, api_version, can_create_vm, ipa_size, errno, error}``:

    - ``ok``: every step passed; ``can_create_vm``: ``KVM_CREATE_VM`` succeeded;
    - ``api_version``: the answer of ``KVM_GET_API_VERSION`` (``None`` when it was not obtained);
    - ``ipa_size``: arm64 only, the answer of ``KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE)`` in bits (reported,
      not judged: kata accepts any value, 0 included);
    - ``errno``/``error``: the failing errno (``None`` for a wrong API version) and a clear text.

    Both file descriptors are closed on every path.
    """
    arch = arch or host_arch()
    requests = kvm_ioctls(host_arch())
    result = dict(ok=False, device=device, api_version=None, can_create_vm=False, ipa_size=None, errno=None, error=None)
    if '\0' in device:
        return _failed(result, None, 'cannot open %r: the path contains a NUL byte' % device)
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return _failed(result, exc.errno, open_error(device, exc))
    try:
        try:
            version = fcntl.ioctl(fd, requests['KVM_GET_API_VERSION'], 0)
        except OSError as exc:
            return _failed(result, exc.errno, ioctl_error('KVM_GET_API_VERSION', exc.errno))
        result['api_version'] = version
        if version != KVM_API_VERSION:
            return _failed(result, None, api_version_error(version))

        try:
            vm_fd = fcntl.ioctl(fd, requests['KVM_CREATE_VM'], 0)
        except OSError as exc:
            return _failed(result, exc.errno, create_vm_error(exc.errno))
        # Linux releases the descriptor even when close() reports an error: nothing to retry.
        try:
            os.close(vm_fd)
        except OSError:
            pass
        result['can_create_vm'] = True

        if arch == 'arm64':
            try:
                result['ipa_size'] = fcntl.ioctl(fd, requests['KVM_CHECK_EXTENSION'], KVM_CAP_ARM_VM_IPA_SIZE)
            except OSError as exc:
                return _failed(result, exc.errno, ipa_size_error(exc.errno))
        result['ok'] = True
        return result
    finally:
        os.close(fd)
