# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files the bad-input matrix points options at: malformed Kata configurations, malformed iptables files, host roots
with hostile /proc and /etc files, node roots with hostile container engine configurations (kata_runtime_info), and
special files (FIFO, socket, device, directory, dangling and looping links).

Everything is built under one directory, read-only for the modules; ``Fixtures.paths`` maps a case label to a path.
"""

from __future__ import annotations

import os
import socket
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KATA_SIM = os.path.join(HERE, '..', 'kata_sim')

CONFIG_BASE = '''[hypervisor.qemu]
path = "{assets}/qemu-system-x86_64"
kernel = "{assets}/vmlinux.container"
initrd = "{assets}/kata-containers-initrd.img"
default_memory = 512
default_vcpus = 1
shared_fs = "virtio-9p"

[agent.kata]
debug_console_enabled = true

[runtime]
internetworking_model = "tcfilter"

[factory]
enable_template = false
template_path = "{assets}/template"
vm_cache_number = 0
vm_cache_endpoint = "{assets}/cache.sock"
'''

# Malformed or hostile configuration.toml texts (bytes): label -> content.
BAD_CONFIGS = {
    'toml-unterminated-table': b'[hypervisor.qemu\npath = "/x"\n',
    'toml-binary': bytes(range(256)) * 4,
    'toml-invalid-utf8': b'[hypervisor.qemu]\npath = "/usr/bin/\xff\xfeqemu"\n',
    'toml-nul': b'[hypervisor.qemu]\npath = "/usr/bin/q\x00emu"\n',
    'toml-empty': b'',
    'toml-bom-only': b'\xef\xbb\xbf',
    'toml-wrong-type': b'[hypervisor.qemu]\ndefault_memory = "lots"\n',
    'toml-negative': b'[hypervisor.qemu]\ndefault_vcpus = -1\ndefault_memory = -5\nmemory_slots = -1\n',
    'toml-huge-int': b'[hypervisor.qemu]\ndefault_memory = 99999999999999999999999999\n',
    'toml-int-overflow32': b'[hypervisor.qemu]\ndefault_vcpus = 4294967296\n',
    'toml-float-nan': b'[hypervisor.qemu]\ndefault_memory = nan\n',
    'toml-deep-array': b'x = ' + b'[' * 20000 + b']' * 20000 + b'\n',
    'toml-deep-inline-table': b'x = ' + b'{a=' * 3000 + b'1' + b'}' * 3000 + b'\n',
    'toml-duplicate-key': b'[hypervisor.qemu]\npath = "/a"\npath = "/b"\n',
    'toml-unknown-hypervisor': b'[hypervisor.bogus]\npath = "/x"\n',
    'toml-two-hypervisors': b'[hypervisor.qemu]\npath = "/a"\n[hypervisor.clh]\npath = "/b"\n',
    'toml-hypervisor-not-table': b'hypervisor = 5\n',
    'toml-agent-bad': b'[hypervisor.qemu]\n[agent.kata]\nkernel_modules = 5\n',
    'toml-runtime-bad-model': b'[hypervisor.qemu]\n[runtime]\ninternetworking_model = "bogus"\n',
    'toml-factory-relative-endpoint': b'[hypervisor.qemu]\n[factory]\nvm_cache_number = 1\nvm_cache_endpoint = "rel.sock"\n',
    'toml-factory-huge-endpoint': b'[hypervisor.qemu]\n[factory]\nvm_cache_number = 1\nvm_cache_endpoint = "/'
                                  + b'a' * 300 + b'"\n',
    'toml-kernel-params-empty-key': b'[hypervisor.qemu]\nkernel_params = "=x"\n',
    'toml-long-line': b'# ' + b'x' * (1 << 20) + b'\n[hypervisor.qemu]\n',
    'toml-too-large': b'#' * (5 * 1024 * 1024) + b'\n',
    'toml-control-chars': b'[hypervisor.qemu]\npath = "\x1b[31m\x07"\n',
}

# Malformed iptables-save texts (bytes), for ``rules`` and for ``src`` files.
BAD_RULES = {
    'ipt-no-commit': b'*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n',
    'ipt-commit-only': b'COMMIT\n',
    'ipt-rule-outside-table': b'-A INPUT -j DROP\n*filter\nCOMMIT\n',
    'ipt-unterminated-quote': b'*filter\n-A INPUT -m comment --comment "open\nCOMMIT\n',
    'ipt-bad-counters': b'*filter\n:INPUT ACCEPT [x:y]\nCOMMIT\n',
    'ipt-table-twice': b'*filter\nCOMMIT\n*filter\nCOMMIT\n',
    'ipt-empty-table-name': b'*\nCOMMIT\n',
    'ipt-only-comments': b'# nothing\n# here\n',
    'ipt-binary': bytes(range(256)),
    'ipt-nul': b'*filter\n-A INPUT -s 10.0.0.1\x00 -j DROP\nCOMMIT\n',
    'ipt-invalid-utf8': b'*filter\n-A INPUT -m comment --comment \xff\xfe -j DROP\n',
    'ipt-json': b'{"filter": {"INPUT": []}}',
    'ipt-counters-no-rule': b'*filter\n[1:2]\nCOMMIT\n',
    'ipt-huge-line': b'*filter\n-A INPUT ' + b'-s 10.0.0.1 ' * 200000 + b'\n',
}


class Fixtures(object):
    """Build every fixture under ``base``; ``paths[label]`` is the path for a label."""

    def __init__(self, base, cpuinfo_text=None):
        self.base = base
        self.paths = {}
        self.assets = self._dir('assets')
        for name in ('vmlinux.container', 'kata-containers-initrd.img'):
            self._file(os.path.join('assets', name), b'placeholder\n')
        self._file('assets/qemu-system-x86_64', b'#!/bin/sh\necho "QEMU emulator version 7.2.0"\n', mode=0o755)
        self.config = self._file('configuration.toml', CONFIG_BASE.format(assets=self.assets).encode())
        self.paths['config-valid'] = self.config
        # The factory's: the template enabled (never created: the bases only ask for state=absent).
        self.factory_config = self._file('factory/configuration.toml', CONFIG_BASE.format(assets=self.assets).replace(
            'enable_template = false', 'enable_template = true').encode())
        for label, data in BAD_CONFIGS.items():
            self.paths[label] = self._file(os.path.join('configs', label, 'configuration.toml'), data)
        for label, data in BAD_RULES.items():
            self.paths[label] = self._file(os.path.join('rules', label + '.rules'), data)
        self.paths['ipt-too-large'] = self._sparse(os.path.join('rules', 'too-large.rules'), 17 * 1024 * 1024)
        self._specials()
        self._host_roots(cpuinfo_text if cpuinfo_text is not None else _read('/proc/cpuinfo'))
        self._engine_roots()

    # -- building blocks

    def _dir(self, rel):
        path = os.path.join(self.base, rel)
        os.makedirs(path, exist_ok=True)
        return path

    def _file(self, rel, data, mode=0o644):
        path = os.path.join(self.base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(data)
        os.chmod(path, mode)
        return path

    def _sparse(self, rel, size):
        path = os.path.join(self.base, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(b'*filter\n')
            f.truncate(size)
        return path

    def _specials(self):
        special = self._dir('special')
        fifo = os.path.join(special, 'fifo')
        os.mkfifo(fifo)
        self.paths['fifo'] = fifo
        sock_path = os.path.join(special, 'sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(sock_path)
        sock.close()  # a socket file nobody listens on
        self.paths['dead-socket'] = sock_path
        self.paths['directory'] = self._dir('special/dir')
        self.paths['regular-file'] = self._file('special/file', b'just a file\n')
        self.paths['empty-file'] = self._file('special/empty', b'')
        dangling = os.path.join(special, 'dangling')
        os.symlink(os.path.join(special, 'nowhere'), dangling)
        self.paths['dangling-link'] = dangling
        loop_a, loop_b = os.path.join(special, 'loop-a'), os.path.join(special, 'loop-b')
        os.symlink(loop_b, loop_a)
        os.symlink(loop_a, loop_b)
        self.paths['link-loop'] = loop_a
        self.paths['unreadable'] = self._file('special/unreadable', b'secret\n', mode=0o000)
        self.paths['dev-zero'] = '/dev/zero'
        self.paths['dev-null'] = '/dev/null'
        self.paths['long-path'] = os.path.join(special, *(['d' * 200] * 25))
        self.paths['newline-path'] = os.path.join(special, 'a\nb')
        # A config directory whose config.d holds a FIFO and a directory among real drop-ins.
        conf_dir = self._dir('configs/with-fifo-dropin')
        self.paths['config-fifo-dropin'] = self._file('configs/with-fifo-dropin/configuration.toml',
                                                      CONFIG_BASE.format(assets=self.assets).encode())
        dropins = self._dir('configs/with-fifo-dropin/config.d')
        os.mkfifo(os.path.join(dropins, '10-fifo.toml'))
        os.mkdir(os.path.join(dropins, '20-dir.toml'))
        self._file('configs/with-fifo-dropin/config.d/30-ok.toml', b'[hypervisor.qemu]\ndefault_memory = 1024\n')
        os.symlink('/etc/shadow', os.path.join(dropins, '40-escape.toml'))
        del conf_dir

    def _host_roots(self, cpuinfo):
        def root(label, files, links=None):
            base = self._dir(os.path.join('hosts', label))
            for rel, data in files.items():
                path = os.path.join(base, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if data is None:
                    os.mkfifo(path)
                elif isinstance(data, dict):
                    os.makedirs(path, exist_ok=True)
                else:
                    with open(path, 'wb') as f:
                        f.write(data)
            for rel, target in (links or {}).items():
                path = os.path.join(base, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.symlink(target, path)
            self.paths['host-' + label] = base
            return base

        good = {'proc/cpuinfo': cpuinfo.encode('utf-8', 'surrogateescape'),
                'proc/meminfo': b'MemTotal:       16000000 kB\nMemFree: 1 kB\nMemAvailable: 2 kB\n',
                'proc/version': b'Linux version 6.1.0-test (x@y) #1 SMP\n',
                'etc/os-release': b'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n',
                'proc/sys/kernel/osrelease': b'6.1.0-test\n'}

        def variant(**changes):
            files = dict(good)
            for rel, data in changes.items():
                rel = rel.replace('__', '/')
                if data is False:
                    files.pop(rel, None)
                else:
                    files[rel] = data
            return files

        root('empty', {})
        digits = 'MemTotal: \u00b2\u00b3 kB\nMemFree: \u0661\u0662 kB\n'.encode('utf-8')
        root('meminfo-unicode-digits', variant(proc__meminfo=digits))
        root('meminfo-garbage', variant(proc__meminfo=bytes(range(256)) * 8))
        root('cpuinfo-binary', variant(proc__cpuinfo=bytes(range(256)) * 64))
        root('cpuinfo-empty', variant(proc__cpuinfo=b''))
        root('cpuinfo-blank-first', variant(proc__cpuinfo=b'\n\n' + cpuinfo.encode('utf-8', 'surrogateescape')))
        root('cpuinfo-flags-colons', variant(proc__cpuinfo=b'vendor_id\t: GenuineIntel\nflags\t: a : b : vmx\n'
                                                           b'model name: x\n'))
        root('cpuinfo-invalid-utf8', variant(proc__cpuinfo=b'vendor_id\t: Genuine\xffIntel\nflags\t: vmx \xfe\n'))
        root('cpuinfo-fifo', variant(proc__cpuinfo=None))
        root('cpuinfo-directory', variant(proc__cpuinfo={}))
        root('os-release-weird', variant(etc__os_release=b'NAME==\nVERSION_ID="\n"NAME=x\n=\n'))
        root('version-empty', variant(proc__version=b''))
        root('proc-escape-link', dict((k, v) for k, v in good.items() if not k.startswith('proc/')),
             links={'proc': '/'})
        self.paths['host-file'] = self.paths['regular-file']

    def _engine_roots(self):
        """Node roots for kata_runtime_info: ``engine_root``, a real containerd 1.x node (tests/kata_sim/sim_layouts.py:
        kata-deploy's handlers kata, kata-fc, kata-qemu, kata-clh, kata-dragonball), and ``paths['engine-*']``, the
        same node with one engine file made hostile. None may fail the task: a file that cannot be read or parsed is
        named in a warning; none may block (FIFOs, /dev/zero), read outside the root or take long."""
        if KATA_SIM not in sys.path:
            sys.path.insert(0, KATA_SIM)
        import sim_layouts  # pylint: disable=import-outside-toplevel

        def node(label):
            base = os.path.join(self.base, 'engines', label)
            sim_layouts.build(base, 'containerd-1.x', assets=False)
            return base

        def write(base, rel, data):
            path = os.path.join(base, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.lexists(path) and not os.path.isdir(path):
                os.unlink(path)
            with open(path, 'wb') as f:
                f.write(data)
            return path

        def replace(base, rel):
            path = os.path.join(base, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if os.path.lexists(path):
                os.unlink(path)
            return path

        self.engine_root = node('good')
        config = 'etc/containerd/config.toml'
        cri = b'plugins."io.containerd.grpc.v1.cri".containerd.runtimes'
        kata = b'runtime_type = "io.containerd.kata.v2"\n'
        variants = {
            'binary': lambda base: write(base, config, bytes(range(256)) * 64),
            'invalid-utf8': lambda base: write(base, config, b'version = 2\n[' + cri + b'."kata-\xff\xfe"]\n' + kata),
            'deep-array': lambda base: write(base, config, b'version = 2\nx = ' + b'[' * 20000 + b']' * 20000 + b'\n'),
            'fifo': lambda base: os.mkfifo(replace(base, config)),
            'directory': lambda base: os.makedirs(replace(base, config)),
            'too-large': lambda base: _truncated(replace(base, config), 64 * 1024 * 1024),
            'link-out-absolute': lambda base: os.symlink('/etc/shadow', replace(base, config)),
            'link-out-relative': lambda base: os.symlink('../../../../../../../../etc/shadow', replace(base, config)),
            'link-loop': lambda base: os.symlink('config.toml', replace(base, config)),
            'version-garbage': lambda base: write(base, config, b'version = "two"\n[' + cri + b'.kata]\n' + kata),
            'wrong-types': lambda base: write(base, config, (
                b'version = 2\nimports = [1, {a = 1}]\n[' + cri + b']\n"kata-int" = 5\n"kata-list" = [1]\n'
                b'[' + cri + b'."kata-x"]\nruntime_type = 7\nruntime_path = ["a"]\noptions = "x"\n'
                b'[' + cri + b'."kata-y"]\n' + kata + b'[' + cri + b'."kata-y".options]\nConfigPath = 5\n')),
            'hostile-names': lambda base: write(base, config, b'version = 2\n' + b''.join(
                b'[' + cri + b'."' + name + b'"]\n' + kata for name in (
                    b'../../../etc', b'kata\\nqemu', b'', b'kata qemu', b'-rf', b'k' * 5000, b'kata\\u0000x'))),
            'imports-loop': lambda base: (
                write(base, config, b'version = 2\nimports = ["/etc/containerd/config.toml", "b.toml"]\n'),
                write(base, 'etc/containerd/b.toml', b'version = 2\nimports = ["config.toml", "/etc/containerd/b.toml"]\n')),
            'imports-many': lambda base: (
                write(base, config, b'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n'),
                [write(base, 'etc/containerd/conf.d/%04d.toml' % i, b'version = 2\n') for i in range(1000)]),
            'imports-escape': lambda base: write(base, config, (
                b'version = 2\nimports = ["../../../../../../../../etc/*", "/proc/self/environ", "/dev/zero"]\n')),
            'config-path-fifo': lambda base: (
                os.mkfifo(replace(base, 'opt/kata/fifo.toml')),
                write(base, config, b'version = 2\n[' + cri + b'.kata]\n' + kata + b'[' + cri
                      + b'.kata.options]\nConfigPath = "/opt/kata/fifo.toml"\n')),
            'systemd-env-hostile': lambda base: (
                os.mkfifo(replace(base, 'opt/kata/fifo.toml')),
                write(base, 'etc/systemd/system/containerd.service.d/kata.conf',
                      b'[Service]\nEnvironment="KATA_CONF_FILE=/opt/kata/fifo.toml\nEnvironment=\xff\xfe "unterminated\n'
                      + b'Environment=' + b'A' * (1 << 20) + b'\n'),
                write(base, 'etc/systemd/system/containerd.service', bytes(range(256)) * 16)),
            'crio-hostile': lambda base: (
                write(base, 'etc/crio/crio.conf', bytes(range(256)) * 16),
                os.mkfifo(replace(base, 'etc/crio/crio.conf.d/10-fifo.conf')),
                os.makedirs(replace(base, 'etc/crio/crio.conf.d/20-dir.conf')),
                os.symlink('/nowhere', replace(base, 'etc/crio/crio.conf.d/30-dangling.conf')),
                write(base, 'etc/crio/crio.conf.d/40-broken.conf', b'[crio.runtime.runtimes.kata\n'),
                write(base, 'etc/crio/crio.conf.d/50-types.conf', (
                    b'[crio.runtime.runtimes.kata-crio]\nruntime_type = "vm"\nruntime_path = '
                    b'"/usr/local/bin/containerd-shim-kata-v2"\nruntime_config_path = 5\n'
                    b'[crio.runtime.runtimes.kata-crio2]\nruntime_type = "vm"\nruntime_path = 5\n'))),
        }
        for label, sabotage in sorted(variants.items()):
            base = node(label)
            sabotage(base)
            self.paths['engine-' + label] = base


def _truncated(path, size):
    """A sparse file of ``size`` bytes (NUL bytes) at ``path``."""
    with open(path, 'wb') as f:
        f.truncate(size)


def _read(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8', 'surrogateescape')


def is_fifo(path):
    try:
        return stat.S_ISFIFO(os.lstat(path).st_mode)
    except OSError:
        return False
