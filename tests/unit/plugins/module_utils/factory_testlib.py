# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the VM factory tests: short scratch directories that clean up after themselves (processes, mounts),
Kata configurations with a [factory] table, and the simulator's VM-cache server and kata-runtime stand-in."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim'))
RUNTIME_SIM = os.path.join(SIM_DIR, 'kata-runtime-sim')
SIM_CACHE = os.path.join(SIM_DIR, 'sim_cache.py')
IS_ROOT = os.geteuid() == 0

if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)


def have_grpc():
    try:
        import grpc  # noqa: F401 pylint: disable=unused-import
        from google.protobuf import descriptor_pool  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        return False
    return True


needs_grpc = pytest.mark.skipif(not have_grpc(), reason='grpcio and protobuf are needed for the simulated VM-cache server')


def can_mount_tmpfs():
    """Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN, not in a locked-down container)."""
    if not IS_ROOT:
        return False
    probe = tempfile.mkdtemp(prefix='kf-probe-')
    try:
        proc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1M', 'tmpfs', probe], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            return False
        subprocess.run(['umount', probe], check=False)
        return True
    finally:
        os.rmdir(probe)


CAN_MOUNT = can_mount_tmpfs()
needs_tmpfs = pytest.mark.skipif(not CAN_MOUNT, reason='mounting a tmpfs needs root (CAP_SYS_ADMIN)')


def mount_points_under(path):
    """Mount points at or below ``path`` (mountinfo order), read from /proc/self/mountinfo."""
    real = os.path.realpath(path)
    found = []
    with open('/proc/self/mountinfo', 'rb') as f:
        for line in f.read().decode('utf-8', 'surrogateescape').splitlines():
            point = line.split(' ')[4].replace('\\040', ' ')
            if point == real or point.startswith(real + '/'):
                found.append(point)
    return found


def processes_mentioning(text):
    """PIDs of live processes whose command line contains ``text``."""
    pids = []
    needle = os.fsencode(text)
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as f:
                cmdline = f.read()
            with open('/proc/%s/stat' % entry, 'rb') as f:
                stat = f.read()
        except OSError:
            continue
        if needle in cmdline and stat[stat.rfind(b')') + 2:][:1] != b'Z':
            pids.append(int(entry))
    return pids


def pid_running(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(b')') + 2:][:1] not in (b'Z', b'X')


def accepts_connections(endpoint):
    """Whether a unix socket ``endpoint`` takes a connection (something listens on it)."""
    import socket
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(endpoint)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def wait_for(predicate, timeout=15.0, what='condition'):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError('timed out after %g s waiting for %s' % (timeout, what))
        time.sleep(0.05)


def run_command(argv, expand_user_and_vars=True):
    """A stand-in for AnsibleModule.run_command (argv list -> (rc, stdout, stderr)), for module_utils tests."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


class Scratch(object):
    """A short directory under /tmp (unix socket paths must stay under 108 bytes) with config helpers."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix='kf-')
        self.assets = {}
        for name in ('vmlinux.container', 'kata-containers-initrd.img', 'qemu-system-x86_64'):
            asset = os.path.join(self.path, name)
            with open(asset, 'w', encoding='utf-8') as f:
                f.write('placeholder %s\n' % name)
            self.assets[name] = asset
        os.chmod(self.assets['qemu-system-x86_64'], 0o755)
        self.config_path = os.path.join(self.path, 'configuration.toml')
        self.endpoint = os.path.join(self.path, 'run', 'cache.sock')
        self.template_path = os.path.join(self.path, 'vm', 'template')
        self.log_path = os.path.join(self.path, 'vm-cache.log')

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def write_config(self, template=False, cache=0, memory=512, vcpus=1, endpoint=None, template_path=None,
                     extra=''):
        """Write configuration.toml (qemu with a kernel and an initrd) and return its path."""
        lines = [
            '[hypervisor.qemu]',
            'path = "%s"' % self.assets['qemu-system-x86_64'],
            'kernel = "%s"' % self.assets['vmlinux.container'],
            'initrd = "%s"' % self.assets['kata-containers-initrd.img'],
            'default_memory = %d' % memory,
            'default_vcpus = %d' % vcpus,
            'shared_fs = "virtio-9p"',
            '',
            '[factory]',
            'enable_template = %s' % ('true' if template else 'false'),
            'template_path = "%s"' % (template_path or self.template_path),
            'vm_cache_number = %d' % cache,
            'vm_cache_endpoint = "%s"' % (endpoint or self.endpoint),
            '',
        ]
        with open(self.config_path, 'w', encoding='utf-8') as f:
            f.write('\n'.join(lines) + extra)
        return self.config_path

    def runtime(self, *args, **kwargs):
        """Run the kata-runtime stand-in with this configuration; returns the CompletedProcess."""
        env = dict(os.environ, KATA_SIM_PYTHON=sys.executable)
        env.update(kwargs.pop('env', {}))
        return subprocess.run([RUNTIME_SIM, '--config', self.config_path] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, check=False, universal_newlines=True, **kwargs)

    def start_runtime_server(self, env=None):
        """``kata-runtime-sim factory init`` in cache mode, in the background (as a service manager would)."""
        environment = dict(os.environ, KATA_SIM_PYTHON=sys.executable)
        environment.update(env or {})
        with open(self.join('server-output.log'), 'ab') as log:
            return subprocess.Popen([RUNTIME_SIM, '--config', self.config_path, 'factory', 'init'],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=environment,
                                    start_new_session=True)

    def start_silent(self, endpoint=None):
        """A process that listens on the endpoint and never answers."""
        endpoint = endpoint or self.endpoint
        proc = subprocess.Popen([sys.executable, SIM_CACHE, 'silent', '--endpoint', endpoint],
                                stdin=subprocess.DEVNULL, start_new_session=True)
        # The socket file exists from bind(); connections are refused until listen(), a moment later (a probe then
        # sees a stale socket). Wait until one is taken; the server keeps it, unanswered, as it keeps every other.
        wait_for(lambda: accepts_connections(endpoint), what='the silent server listening on %s' % endpoint)
        return proc

    def make_stale_socket(self, endpoint=None):
        """A socket file nobody listens on, as a server killed with SIGKILL leaves."""
        import socket
        endpoint = endpoint or self.endpoint
        os.makedirs(os.path.dirname(endpoint), exist_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(endpoint)
        sock.close()
        return endpoint

    def cleanup(self):
        for pid in processes_mentioning(self.path):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in processes_mentioning(self.path):
            wait_for(lambda p=pid: not pid_running(p), what='process %d to die' % pid)
        for point in reversed(mount_points_under(self.path)):
            subprocess.run(['umount', '-l', point], check=False)
        shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture
def scratch():
    s = Scratch()
    try:
        yield s
    finally:
        s.cleanup()
