# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Host probes: what kata-runtime 3.0.0 reads from /proc, /sys, /etc and /dev, read through one host root.

Every file is read through a ``Host``, so the same code checks the local machine (root ``/``) or a host whose
root is mounted elsewhere (``Host('/host')``). Paths never leave that root, even through absolute symlinks.

The parsers are pure functions of the text and follow kata's rules (kata-containers 3.0.0,
``src/runtime/cmd/kata-runtime/``: ``kata-check.go``, ``kata-check_<arch>.go``, ``kata-env.go``, ``utils.go``), quirks
included, except where a comment says otherwise (docs/kata_behaviour.md, Where the collection deliberately differs
from kata-runtime):

* ``power_generation`` reads the whole number after ``POWER`` (kata reads one digit, so POWER10 would be 1).
* ``cpu_vendor_model`` for riscv64 reads ``mvendorid``/``marchid`` (kata 3.16+ looks for ``mvenderid``, a typo
  that makes ``kata-runtime env`` fail on every RISC-V host).
* ``guest_protections`` also reports ``snp`` (kvm_amd ``sev_snp=Y``) and ``tdx`` from kvm_intel's ``tdx=Y``, as
  newer kata does, beside kata 3.0.0's ``tdx``/``sev``/``pef``/``se`` rules.
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._arch import ARCH_ALIASES as _UNAME_TO_GOARCH
from ansible_collections.katacontainers.kata.plugins.module_utils._arch import ARCHITECTURES  # noqa: F401 (re-exported)
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import (
    MAX_SYMLINKS,
    FileTooLarge,
    NotRegularFile,
    ResolveError,
    local_path,
    open_file,
    read_fd,
    resolve_under,
)

UNKNOWN = '<<unknown>>'

# Bigger than any real /proc/cpuinfo (a few MB on machines with thousands of CPUs), small enough to stay harmless.
DEFAULT_READ_LIMIT = 16 * 1024 * 1024

# Where ansible's get_bin_path also looks: modprobe and ppc64_cpu live in sbin directories.
SBIN_DIRS = ('/sbin', '/usr/sbin', '/usr/local/sbin')


class Host:
    """The files of one host, under ``root`` (``/`` for this machine)."""

    def __init__(self, root='/'):
        if not isinstance(root, str) or not root or '\0' in root:
            raise ArgumentError('host_root: %r is not a valid path; expected an absolute directory path' % (root,))
        root = os.path.abspath(root)
        if not os.path.isdir(root):
            raise ArgumentError('host_root: %s is not a directory; expected the root directory of a host' % root)
        self.root = root

    @property
    def is_local(self):
        """True when the host is this machine (root ``/``)."""
        return self.root == '/'

    def path(self, host_path):
        """The real path of ``host_path`` (a path on the host, e.g. ``/proc/cpuinfo``), never outside the root.

        ``..`` stops at the root, and symlinks inside a non-local root are resolved as if the root were ``/``
        (an absolute target like ``/usr/lib/os-release`` stays under the root).
        """
        if not isinstance(host_path, str) or '\0' in host_path:
            raise ArgumentError('host path %r is not a valid path' % (host_path,))
        norm = posixpath.normpath('/' + host_path.lstrip('/'))
        if self.is_local:
            return norm
        return self._resolve(norm)

    def _resolve(self, norm):
        try:
            resolved = resolve_under(self.root, norm, strict=False, max_links=MAX_SYMLINKS)
        except ResolveError as exc:
            if exc.errno == errno.ELOOP:
                raise ProbeError('Cannot resolve %s under %s: too many levels of symbolic links' % (norm, self.root),
                                 path=norm)
            raise ProbeError('Cannot resolve %s under %s: %s' % (norm, self.root, os.strerror(exc.errno)),
                             path=norm, errno=exc.errno)
        return self.root if resolved == '/' else local_path(self.root, resolved)

    def _read(self, host_path, limit):
        real = self.path(host_path)
        try:
            # A non-local root is already resolved inside the root: a symlink here appeared meanwhile.
            fd = open_file(real, follow=self.is_local)
        except OSError as exc:
            raise ProbeError('Cannot read %s: %s' % (real, exc.strerror), path=real, errno=exc.errno) from exc
        try:
            return read_fd(fd, limit).decode('utf-8', 'replace')
        except NotRegularFile as exc:
            raise ProbeError('Cannot read %s: not a regular file (%s)' % (real, exc.kind), path=real, errno=None)
        except FileTooLarge:
            raise ProbeError('Cannot read %s: larger than the limit of %d bytes' % (real, limit),
                             path=real, errno=None)
        except OSError as exc:
            raise ProbeError('Cannot read %s: %s' % (real, exc.strerror), path=real, errno=exc.errno) from exc
        finally:
            os.close(fd)

    def read_text(self, host_path, limit=DEFAULT_READ_LIMIT):
        """Text of a regular file on the host (at most ``limit`` bytes); ProbeError naming the path otherwise."""
        return self._read(host_path, limit)

    def read_text_or_none(self, host_path, limit=DEFAULT_READ_LIMIT):
        """Like read_text, but None when the file does not exist. Other failures still raise ProbeError."""
        try:
            return self._read(host_path, limit)
        except ProbeError as exc:
            if exc.details.get('errno') in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def exists(self, host_path):
        """Whether the path exists, following symlinks (kata's FileExists: only "does not exist" means False)."""
        try:
            os.stat(self.path(host_path))
        except OSError as exc:
            return exc.errno not in (errno.ENOENT, errno.ENOTDIR)
        return True

    def isdir(self, host_path):
        """Whether the path is a directory (following symlinks)."""
        try:
            return stat.S_ISDIR(os.stat(self.path(host_path)).st_mode)
        except OSError:
            return False


# ---------------------------------------------------------------------------------------------------------------
# Architecture

def goarch(machine):
    """kata's (Go's) architecture name for a uname machine name; ProbeError for one kata is not built for."""
    try:
        return _UNAME_TO_GOARCH[machine]
    except KeyError:
        raise ProbeError('Unsupported architecture: uname reports machine %r; kata-runtime exists for %s'
                         % (machine, ', '.join(ARCHITECTURES)), machine=machine) from None


_CPUINFO_ARCH_RULES = (
    (re.compile(r'^vendor_id\s*:\s*(GenuineIntel|AuthenticAMD)\s*$', re.M), 'amd64'),
    (re.compile(r'^vendor_id\s*:\s*IBM/S390\s*$', re.M), 's390x'),
    (re.compile(r'^CPU implementer\s*:', re.M), 'arm64'),
    (re.compile(r'^(cpu\s*:\s*POWER|platform\s*:\s*(PowerNV|pSeries))', re.M), 'ppc64le'),
    (re.compile(r'^isa\s*:\s*rv64', re.M), 'riscv64'),
)


def arch_from_cpuinfo(text):
    """The architecture a /proc/cpuinfo text comes from, or None when it has no signature this knows."""
    for pattern, arch in _CPUINFO_ARCH_RULES:
        if pattern.search(text or ''):
            return arch
    return None


def detect_arch(host):
    """The host's architecture in kata's naming (amd64, arm64, ppc64le, s390x, riscv64).

    This machine: from uname. Another root: from that root's /proc/cpuinfo, else from this machine's uname.
    """
    machine = os.uname()[4]
    if host.is_local:
        return goarch(machine)
    try:
        text = host.read_text_or_none('/proc/cpuinfo')
    except ProbeError:
        text = None
    arch = arch_from_cpuinfo(text)
    if arch is not None:
        return arch
    if machine in _UNAME_TO_GOARCH:
        return _UNAME_TO_GOARCH[machine]
    raise ProbeError('Cannot determine the architecture of the host at %s: %s has %s, and this machine is %r; '
                     'kata-runtime exists for %s'
                     % (host.root, host.path('/proc/cpuinfo'),
                        'no CPU signature known (vendor_id, CPU implementer, cpu: POWER, isa: rv64)'
                        if text is not None else 'no content', machine, ', '.join(ARCHITECTURES)),
                     machine=machine)


# ---------------------------------------------------------------------------------------------------------------
# /proc/cpuinfo parsers

def first_cpu_block(text):
    """kata's getCPUInfo: the text before the first blank line, trimmed."""
    block = (text or '').split('\n\n', 1)[0].strip()
    if not block:
        raise ProbeError('Cannot determine CPU details')
    return block


def cpu_flags(block):
    """kata's getCPUFlags (amd64): the value of the first line starting with ``flags`` that has exactly one ``:``.

    Lines such as Intel's ``vmx flags`` do not start with ``flags`` and are never taken. '' when there is none.
    """
    for line in block.split('\n'):
        if line.startswith('flags'):
            fields = line.split(':')
            if len(fields) == 2:
                return fields[1].strip()
    return ''


def _flag_set(text):
    """virtcontainers' CPUFlags: the words of the first line whose first word starts with ``flags``, or None."""
    for line in (text or '').split('\n'):
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith('flags'):
            return set(fields[1:])
    return None


def has_word(text, word):
    """kata's findAnchoredString: ``word`` appears in ``text`` between (ASCII) word boundaries."""
    if not text or not word:
        return False
    return re.search(r'\b' + re.escape(word) + r'\b', text, re.ASCII) is not None


def cpu_type(full_text):
    """kata's getCPUtype (amd64): ``intel`` if the text contains GenuineIntel, else ``amd`` for AuthenticAMD.

    Anything else is kata's error, spelt ``Unknow CPU Type`` in 3.0.0 and ``Unknown CPU Type`` since 3.28.
    """
    if 'GenuineIntel' in full_text:
        return 'intel'
    if 'AuthenticAMD' in full_text:
        return 'amd'
    raise ProbeError('Unknown CPU Type')


def running_in_vm(arch, cpuinfo_text):
    """kata's RunningOnVMM: on amd64 the ``hypervisor`` CPU flag; kata cannot tell on other architectures (False).

    A text without any flags line gives False (kata returns an error there).
    """
    if arch != 'amd64':
        return False
    return 'hypervisor' in (_flag_set(cpuinfo_text) or ())


def _fields(text, vendor_field, model_field):
    """kata's genericGetCPUDetails loop: the last matching lines win, value between the first and second ``:``."""
    vendor = model = ''
    for line in text.split('\n'):
        if vendor_field and line.startswith(vendor_field):
            fields = line.split(':')
            if len(fields) > 1:
                vendor = fields[1].strip()
        if model_field and line.startswith(model_field):
            fields = line.split(':')
            if len(fields) > 1:
                model = fields[1].strip()
    if vendor_field and not vendor:
        raise ProbeError('cannot find vendor field in file /proc/cpuinfo')
    if model_field and not model:
        raise ProbeError('cannot find model field in file /proc/cpuinfo')
    return vendor, model


_ARM_MODELS = {
    '8': 'v8',
    '7': 'v7', '7M': 'v7', '?(12)': 'v7', '?(13)': 'v7', '?(14)': 'v7', '?(15)': 'v7', '?(16)': 'v7', '?(17)': 'v7',
    '6': 'v6', '6TEJ': 'v6',
    '5': 'v5', '5T': 'v5', '5TE': 'v5', '5TEJ': 'v5',
    '4': 'v4', '4T': 'v4',
    '3': 'v3',
}


def _s390x_details(block):
    vendor = model = ''
    for line in block.split('\n'):
        if line.startswith('vendor_id'):
            fields = line.split(':')
            if len(fields) > 1:
                vendor = fields[1].strip()
        if line.startswith('processor'):
            # processor 0: version = FF,  identification = 3FEC87,  machine = 2964
            fields = line.strip().split(',')
            if len(fields) > 2 and '=' in fields[2]:  # kata indexes blindly (and panics on a short line)
                model = fields[2].split('=')[1].strip()
    if not vendor:
        raise ProbeError('cannot find vendor field in file /proc/cpuinfo')
    if not model:
        raise ProbeError('Error in parsing cpu model from /proc/cpuinfo')
    return vendor, model


def _riscv64_details(block):
    vendor = model = ''
    for line in block.split('\n'):
        if line.startswith('mvendorid'):
            fields = line.split(':')
            if len(fields) > 1:
                vendor = fields[1].strip()
        if line.startswith('processor'):
            fields = line.split(':')
            if len(fields) > 1:
                model = fields[1].strip()
    if not vendor:
        raise ProbeError('cannot find vendor field in file /proc/cpuinfo')
    if not model:
        raise ProbeError('Error in parsing cpu model from /proc/cpuinfo')
    return vendor, model


def cpu_vendor_model(arch, first_block, full_text):
    """kata env's Host.CPU.{Vendor, Model} (getCPUDetails in kata's kata-check_<arch>.go) as a (vendor, model) tuple.

    amd64: vendor_id / model name. arm64: CPU implementer (0x41 -> ARM Limited, else 3rd Party Limited) /
    CPU architecture (8 -> v8, ...). ppc64le: no vendor ('') / the last ``model`` line of the whole file.
    s390x: vendor_id / the ``machine =`` value of the ``processor N:`` lines. riscv64: mvendorid / marchid.
    Raises ProbeError with kata's message when a field is missing.
    """
    if arch == 'amd64':
        return _fields(first_block, 'vendor_id', 'model name')
    if arch == 'arm64':
        vendor, model = _fields(first_block, 'CPU implementer', 'CPU architecture')
        return ('ARM Limited' if vendor == '0x41' else '3rd Party Limited'), _ARM_MODELS.get(model, 'unknown')
    if arch == 'ppc64le':
        try:
            return _fields(first_block, '', 'model')
        except ProbeError:
            if not full_text.strip():
                raise ProbeError('Cannot determine CPU details') from None
            return _fields(full_text, '', 'model')
    if arch == 's390x':
        try:
            return _fields(first_block, 'vendor_id', 'machine')
        except ProbeError:
            return _s390x_details(first_block)
    if arch == 'riscv64':
        # kata (3.16+) looks for "mvenderid", a typo that makes its env fail on every RISC-V host: read the real field.
        try:
            return _fields(first_block, 'mvendorid', 'marchid')
        except ProbeError:
            return _riscv64_details(first_block)
    raise ProbeError('Unsupported architecture %r; kata-runtime exists for %s' % (arch, ', '.join(ARCHITECTURES)))


def power_generation(text):
    """The POWER processor generation from /proc/cpuinfo (``POWER9`` -> 9), or None when there is none.

    kata reads a single digit (regexp ``POWER[0-9]``), so POWER10 and POWER11 would read as 1 and get the SMT rule
    meant for POWER8 and older. This reads the whole number, which is what kata means.
    """
    match = re.search(r'POWER([0-9]+)', text or '')
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------------------------------------------------------
# Other host files

def _os_release_fields(text, name, version):
    for line in text.split('\n'):
        if line.startswith('NAME=') and name == '':
            name = line.split('=')[1].strip('"')
        elif line.startswith('VERSION_ID=') and version == '':
            version = line.split('=')[1].strip('"')
    return name, version


def parse_os_release(text):
    """kata's distro rule for one os-release text: (NAME, VERSION_ID), ``<<unknown>>`` for a missing one.

    First ``NAME=`` and ``VERSION_ID=`` lines; the value is the text after the first ``=`` up to the next ``=``,
    with surrounding double quotes trimmed.
    """
    name, version = _os_release_fields(text, '', '')
    return name or UNKNOWN, version or UNKNOWN


def distro(host):
    """(name, version) of the host's distribution from /etc/os-release, then /usr/lib/os-release (kata's order).

    A missing file is skipped; a value already found in the first file is kept.
    """
    name = version = ''
    for path in ('/etc/os-release', '/usr/lib/os-release'):
        text = host.read_text_or_none(path)
        if text is None:
            continue
        name, version = _os_release_fields(text, name, version)
        if name and version:
            break
    return name or UNKNOWN, version or UNKNOWN


def parse_meminfo(text):
    """{total, free, available} in kB from /proc/meminfo (MemTotal, MemFree, MemAvailable); 0 where absent."""
    keys = {'MemTotal': 'total', 'MemFree': 'free', 'MemAvailable': 'available'}
    result = dict(total=0, free=0, available=0)
    for line in text.split('\n'):
        key, sep, rest = line.partition(':')
        if sep and key in keys:
            fields = rest.split()
            # isdigit() alone also accepts digits int() refuses, such as '\u00b2' (superscript two).
            if fields and fields[0].isdigit() and fields[0].isascii():
                result[keys[key]] = int(fields[0])
    return result


def memory(host):
    """The host's memory in kB; all 0 when /proc/meminfo cannot be read (as kata)."""
    try:
        return parse_meminfo(host.read_text('/proc/meminfo'))
    except ProbeError:
        return parse_meminfo('')


def kernel_release(proc_version_text):
    """kata's getKernelVersion: the third whitespace-separated field of /proc/version."""
    fields = proc_version_text.split()
    if len(fields) < 3:
        raise ProbeError('unexpected contents in /proc/version')
    return fields[2]


def kernel(host):
    """The host's kernel release (``Host.Kernel``)."""
    return kernel_release(host.read_text('/proc/version'))


def module_loaded(host, name):
    """kata's test: /sys/module/<name> exists (/proc/modules is not used)."""
    return host.exists('/sys/module/%s' % name)


def module_parameter(host, module, param):
    """The value of /sys/module/<module>/parameters/<param>, trailing CR/LF trimmed; ProbeError when unreadable."""
    return host.read_text('/sys/module/%s/parameters/%s' % (module, param)).rstrip('\r\n')


def support_vsocks(host):
    """``Host.SupportVSocks``: /dev/vhost-vsock exists."""
    return host.exists('/dev/vhost-vsock')


def _parameter_starts_with(host, path, letters):
    try:
        value = host.read_text_or_none(path)
    except ProbeError:
        return False
    return bool(value) and value[0] in letters


def _cpu_facilities(text):
    """The s390x facility bits of the first ``facilities`` line, or None when there is none or it is malformed."""
    for line in text.split('\n'):
        fields = line.split()
        if len(fields) < 2 or not fields[0].startswith('facilities'):
            continue
        start = 2 if fields[1] == ':' else 1
        bits = set()
        for field in fields[start:]:
            if not (field.isdigit() and field.isascii()):
                return None
            bits.add(int(field))
        return bits
    return None


def _cmdline_has(text, param, values):
    """virtcontainers' CheckCmdline: a ``param=value`` word (param case-sensitive, value case-insensitive)."""
    for word in text.split():
        key, sep, value = word.partition('=')
        if sep and key == param and value.lower() in values:
            return True
    return False


def guest_protections(host, arch, cpuinfo):
    """``Host.AvailableGuestProtections``: a one-element list, or None when the host offers none.

    amd64 (kata 3.0.0): ``tdx`` when /sys/firmware/tdx_seam/ is a directory or ``tdx`` is a CPU flag, else ``sev``
    when kvm_amd's ``sev`` parameter starts with 1 or Y. Added from newer kata: ``tdx`` when kvm_intel's ``tdx``
    parameter starts with Y, and ``snp`` when kvm_amd's ``sev_snp`` starts with Y (checked before ``sev``, since
    SEV-SNP implies SEV). ppc64le: ``pef`` when /sys/firmware/ultravisor/ is a directory. s390x: ``se`` when
    facility 158 is listed in /proc/cpuinfo and /proc/cmdline has prot_virt=1|on|y|yes. arm64, riscv64: None.
    """
    if arch == 'amd64':
        flags = _flag_set(cpuinfo)
        if flags is None:
            return None  # kata: CPUFlags fails, so no protection is reported
        if (host.isdir('/sys/firmware/tdx_seam') or 'tdx' in flags
                or _parameter_starts_with(host, '/sys/module/kvm_intel/parameters/tdx', 'Y')):
            return ['tdx']
        if _parameter_starts_with(host, '/sys/module/kvm_amd/parameters/sev_snp', 'Y'):
            return ['snp']
        if _parameter_starts_with(host, '/sys/module/kvm_amd/parameters/sev', '1Y'):
            return ['sev']
        return None
    if arch == 'ppc64le':
        return ['pef'] if host.isdir('/sys/firmware/ultravisor') else None
    if arch == 's390x':
        facilities = _cpu_facilities(cpuinfo)
        if not facilities or 158 not in facilities:
            return None
        try:
            cmdline = host.read_text_or_none('/proc/cmdline')
        except ProbeError:
            cmdline = None
        if cmdline is not None and _cmdline_has(cmdline, 'prot_virt', ('1', 'on', 'y', 'yes')):
            return ['se']
        return None
    return None


def cpu_count(host):
    """``Host.CPU.CPUs``: this machine's CPUs in the process' affinity mask (Go's runtime.NumCPU).

    For another root, the processors listed in its /proc/cpuinfo (``processor : N`` or s390x's ``processor N:``).
    """
    if host.is_local:
        if hasattr(os, 'sched_getaffinity'):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1
    text = host.read_text('/proc/cpuinfo')
    count = len(re.findall(r'^processor\s*(?:\d+\s*)?:', text, re.M))
    if count == 0:
        raise ProbeError('Cannot count the CPUs of the host at %s: %s lists no processor'
                         % (host.root, host.path('/proc/cpuinfo')))
    return count


# ---------------------------------------------------------------------------------------------------------------
# Commands

def find_command(name, extra_dirs=SBIN_DIRS):
    """The path of an executable: ``name`` itself when it has a ``/``, else searched in PATH then the sbin dirs.

    None when there is none. (AnsibleModule.run_command fails the whole task for a missing executable, so
    commands are looked up before they are run.)
    """
    if '/' in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    dirs = [d for d in os.environ.get('PATH', '').split(os.pathsep) if d]
    dirs.extend(d for d in extra_dirs if d not in dirs)
    for directory in dirs:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def hypervisor_version(path, run_command):
    """``Hypervisor.Version``: stdout of ``<path> --version`` stripped (all lines), ``<<unknown>>`` on failure."""
    if not path:
        return UNKNOWN
    executable = find_command(path)
    if executable is None:
        return UNKNOWN
    try:
        # handle_exceptions=False: AnsibleModule.run_command would otherwise fail the whole task ("Error executing
        # command.") for a file it cannot execute, such as a configured hypervisor path that is not a program.
        rc, out, dummy_err = run_command([executable, '--version'], handle_exceptions=False)
    except OSError:
        return UNKNOWN
    if rc != 0:
        return UNKNOWN
    return (out or '').strip()
