# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The KVM VM-creation test, against the real /dev/kvm of this machine and real non-KVM files.

Only the answers real hardware cannot be made to give here (a KVM API version other than 12, EBUSY from another
hypervisor, a failing arm64 extension query) are produced by replacing ``fcntl.ioctl``; every other path runs the
real system calls.
"""

from __future__ import annotations

import errno
import fcntl
import os

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _kvm

DEV_KVM = '/dev/kvm'


def open_fds():
    return sorted(os.listdir('/proc/self/fd'))


@pytest.fixture(autouse=True)
def no_fd_leak():
    """Fail every test of this file that leaves a file descriptor open (success and failure paths alike)."""
    before = open_fds()
    yield
    # listdir itself opens one descriptor while it runs: both lists include it.
    assert open_fds() == before


@pytest.fixture(name='real_kvm')
def fixture_real_kvm():
    if not os.path.exists(DEV_KVM):
        pytest.skip('%s does not exist on this machine (no KVM)' % DEV_KVM)
    if os.geteuid() != 0 and not os.access(DEV_KVM, os.R_OK | os.W_OK):
        pytest.skip('%s is not readable and writable by uid %d: run the tests as root' % (DEV_KVM, os.geteuid()))
    return DEV_KVM


def expected(**changes):
    result = dict(ok=False, device=None, api_version=None, can_create_vm=False, ipa_size=None, errno=None, error=None)
    result.update(changes)
    return result


# --- ioctl numbers -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('arch', ['amd64', 'arm64', 's390x', 'riscv64', 'x86_64', 'aarch64'])
def test_ioctl_numbers_generic_layout(arch):
    assert _kvm.kvm_ioctls(arch) == {
        'KVM_GET_API_VERSION': 0xAE00,
        'KVM_CREATE_VM': 0xAE01,
        'KVM_CHECK_EXTENSION': 0xAE03,
    }


@pytest.mark.parametrize('arch', ['ppc64le', 'ppc64', 'mips64le', 'sparc64'])
def test_ioctl_numbers_legacy_layout(arch):
    # The values <linux/kvm.h> gives on PowerPC and that kata 4.0.0 hard-codes in kvm_ioctls_ppc64le.go.
    assert _kvm.kvm_ioctls(arch) == {
        'KVM_GET_API_VERSION': 0x2000AE00,
        'KVM_CREATE_VM': 0x2000AE01,
        'KVM_CHECK_EXTENSION': 0x2000AE03,
    }


def test_ioctl_io_other_type_and_number():
    # _IO('T', 0x13), i.e. TIOCSTI's neighbourhood: 0x5413 generic, 0x20005413 on powerpc.
    assert _kvm.ioctl_io('amd64', 0x54, 0x13) == 0x5413
    assert _kvm.ioctl_io('ppc64le', 0x54, 0x13) == 0x20005413


def test_host_arch_matches_uname():
    names = {'x86_64': 'amd64', 'aarch64': 'arm64'}
    machine = os.uname().machine
    assert _kvm.host_arch() == names.get(machine, machine)


# --- the real /dev/kvm ---------------------------------------------------------------------------------------------

def test_real_kvm_creates_a_vm(real_kvm):
    assert _kvm.kvm_test(real_kvm) == expected(ok=True, device=real_kvm, api_version=12, can_create_vm=True)


def test_real_kvm_explicit_arch(real_kvm):
    arch = _kvm.host_arch()
    result = _kvm.kvm_test(device=real_kvm, arch=arch)
    assert result['ok'] is True
    assert result['can_create_vm'] is True
    if arch != 'arm64':
        assert result['ipa_size'] is None


def test_real_kvm_arm64_extension_query(real_kvm):
    """arch=arm64 adds KVM_CHECK_EXTENSION(KVM_CAP_ARM_VM_IPA_SIZE) on the device fd.

    On an x86 kernel the capability is unknown, and KVM answers 0 for unknown capabilities (no errno): kata accepts
    that value, so the test passes with ipa_size 0. On a real arm64 host the answer is the IPA limit (>= 32).
    """
    result = _kvm.kvm_test(device=real_kvm, arch='arm64')
    assert result['ok'] is True
    assert result['can_create_vm'] is True
    if _kvm.host_arch() == 'arm64':
        assert result['ipa_size'] >= 32
    else:
        assert result['ipa_size'] == 0


def test_real_kvm_repeated_does_not_leak(real_kvm):
    for dummy in range(20):
        assert _kvm.kvm_test(real_kvm)['ok'] is True


# --- real failures -------------------------------------------------------------------------------------------------

def test_missing_device(tmp_path):
    device = str(tmp_path / 'kvm')
    assert _kvm.kvm_test(device) == expected(
        device=device, errno=errno.ENOENT, error='cannot open %s: No such file or directory' % device)


def test_directory_as_device(tmp_path):
    device = str(tmp_path)
    assert _kvm.kvm_test(device) == expected(device=device, errno=errno.EISDIR, error='cannot open %s: Is a directory' % device)


def test_regular_file_as_device(tmp_path):
    device = tmp_path / 'kvm'
    device.write_bytes(b'')
    assert _kvm.kvm_test(str(device)) == expected(
        device=str(device), errno=errno.ENOTTY,
        error='KVM_GET_API_VERSION failed: Inappropriate ioctl for device (ENOTTY)')


def test_dev_null_as_device():
    assert _kvm.kvm_test('/dev/null') == expected(
        device='/dev/null', errno=errno.ENOTTY,
        error='KVM_GET_API_VERSION failed: Inappropriate ioctl for device (ENOTTY)')


def test_nul_byte_in_path():
    result = _kvm.kvm_test('/dev/kv\0m')
    assert result == expected(device='/dev/kv\0m', error="cannot open '/dev/kv\\x00m': the path contains a NUL byte")


# --- answers real hardware cannot give here (fcntl.ioctl replaced) -------------------------------------------------

class FakeKvm:
    """A stand-in for the kernel's KVM ioctls, on top of a real open file (/dev/null)."""

    def __init__(self, api_version=12, create_errno=None, extension_errno=None, ipa_size=40):
        self.api_version = api_version
        self.create_errno = create_errno
        self.extension_errno = extension_errno
        self.ipa_size = ipa_size
        self.calls = []
        self.vm_fds = []
        self.numbers = dict((v, k) for k, v in _kvm.kvm_ioctls(_kvm.host_arch()).items())

    def ioctl(self, dummy_fd, request, arg=0):
        name = self.numbers[request]
        self.calls.append((name, arg))
        if name == 'KVM_GET_API_VERSION':
            return self.api_version
        if name == 'KVM_CREATE_VM':
            if self.create_errno:
                raise OSError(self.create_errno, os.strerror(self.create_errno))
            vm_fd = os.open('/dev/null', os.O_RDONLY)
            self.vm_fds.append(vm_fd)
            return vm_fd
        if self.extension_errno:
            raise OSError(self.extension_errno, os.strerror(self.extension_errno))
        return self.ipa_size


def test_fake_success_closes_vm_fd(monkeypatch):
    fake = FakeKvm()
    monkeypatch.setattr(fcntl, 'ioctl', fake.ioctl)
    assert _kvm.kvm_test('/dev/null', arch='amd64') == expected(
        ok=True, device='/dev/null', api_version=12, can_create_vm=True)
    assert fake.calls == [('KVM_GET_API_VERSION', 0), ('KVM_CREATE_VM', 0)]
    assert len(fake.vm_fds) == 1  # and the autouse no_fd_leak fixture proves it was closed


def test_fake_api_version_mismatch(monkeypatch):
    fake = FakeKvm(api_version=11)
    monkeypatch.setattr(fcntl, 'ioctl', fake.ioctl)
    assert _kvm.kvm_test('/dev/null', arch='amd64') == expected(
        device='/dev/null', api_version=11, error='KVM API version is 11, expected 12')
    assert fake.calls == [('KVM_GET_API_VERSION', 0)]


def test_fake_ebusy(monkeypatch):
    monkeypatch.setattr(fcntl, 'ioctl', FakeKvm(create_errno=errno.EBUSY).ioctl)
    assert _kvm.kvm_test('/dev/null', arch='amd64') == expected(
        device='/dev/null', api_version=12, errno=errno.EBUSY,
        error='KVM_CREATE_VM failed: another hypervisor is running (EBUSY)')


def test_fake_create_vm_other_errno(monkeypatch):
    monkeypatch.setattr(fcntl, 'ioctl', FakeKvm(create_errno=errno.ENOMEM).ioctl)
    assert _kvm.kvm_test('/dev/null', arch='s390x') == expected(
        device='/dev/null', api_version=12, errno=errno.ENOMEM,
        error='KVM_CREATE_VM failed: Cannot allocate memory (ENOMEM)')


def test_fake_arm64_ipa_size(monkeypatch):
    fake = FakeKvm(ipa_size=44)
    monkeypatch.setattr(fcntl, 'ioctl', fake.ioctl)
    assert _kvm.kvm_test('/dev/null', arch='arm64') == expected(
        ok=True, device='/dev/null', api_version=12, can_create_vm=True, ipa_size=44)
    assert fake.calls == [('KVM_GET_API_VERSION', 0), ('KVM_CREATE_VM', 0), ('KVM_CHECK_EXTENSION', 165)]


def test_fake_arm64_extension_unsupported(monkeypatch):
    monkeypatch.setattr(fcntl, 'ioctl', FakeKvm(extension_errno=errno.EINVAL).ioctl)
    assert _kvm.kvm_test('/dev/null', arch='arm64') == expected(
        device='/dev/null', api_version=12, can_create_vm=True, errno=errno.EINVAL,
        error='KVM extension KVM_CAP_ARM_VM_IPA_SIZE (Maximum IPA shift supported by the host) is not supported: '
              'Invalid argument (EINVAL)')


# --- error texts ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('err, text', [
    (errno.EBUSY, 'KVM_CREATE_VM failed: another hypervisor is running (EBUSY)'),
    (errno.ENOMEM, 'KVM_CREATE_VM failed: Cannot allocate memory (ENOMEM)'),
    (errno.EINVAL, 'KVM_CREATE_VM failed: Invalid argument (EINVAL)'),
    (errno.ENOTTY, 'KVM_CREATE_VM failed: Inappropriate ioctl for device (ENOTTY)'),
])
def test_create_vm_error(err, text):
    assert _kvm.create_vm_error(err) == text


@pytest.mark.parametrize('version, text', [
    (11, 'KVM API version is 11, expected 12'),
    (0, 'KVM API version is 0, expected 12'),
    (13, 'KVM API version is 13, expected 12'),
])
def test_api_version_error(version, text):
    assert _kvm.api_version_error(version) == text


def test_errno_text_unknown_errno():
    assert _kvm.errno_text(4095) == 'Unknown error 4095 (errno 4095)'


def test_open_error_permission():
    exc = OSError(errno.EACCES, os.strerror(errno.EACCES), '/host/dev/kvm')
    assert _kvm.open_error('/host/dev/kvm', exc) == 'cannot open /host/dev/kvm: Permission denied'
