# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated Kata node with debug consoles (tests/kata_sim) for the kata_exec_cmd tests.

One node, one sandbox per console flavour: a shell (``sb-bash``, ``sb-dash``, ``sb-ash``, ``sb-busybox``), a
handshake fault (``sb-failure``, ``sb-noreply``, ``sb-close``), no console (``sb-off``) and a qemu sandbox whose
agent URL is ``vsock://<cid>:1024`` (AF_VSOCK has no loopback transport here: dialing it can only fail).

ansible-test runs every test in a fork of the pytest process, so a module-scoped fixture would start a node per
test and stop only the last one. Instead, ``shared_node()`` starts one node per pytest process (the process that
imported this file, which the forks inherit), reuses it from every test and every fork, and leaves its stopping to
a watcher process that stops the node and removes its root once that pytest process has exited.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys

SIM = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim', 'kata_sim.py'))
SHELLS = ('bash', 'dash', 'ash')
FAULTS = {'sb-failure': 'failure', 'sb-noreply': 'no-reply', 'sb-close': 'close'}
OWNER_PID = os.getpid()  # evaluated at import, in the pytest process: the forks of ansible-test see the same value
LIFETIME = 1800  # the simulator's own backstop, should the watcher die
WATCHER = '''
import os, shutil, subprocess, sys, time
pid, python, sim, root, lock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
while True:
    try:
        with open('/proc/%d/stat' % pid) as f:
            if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                break
    except OSError:
        break
    time.sleep(0.5)
subprocess.run([python, sim, 'stop', '--root', root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
shutil.rmtree(root, ignore_errors=True)
for path in (root + '.json', lock):
    try:
        os.unlink(path)
    except OSError:
        pass
'''


def start_watcher(owner_pid, root, lock):
    """Start a detached WATCHER: once process ``owner_pid`` is gone, it stops the simulator on ``root`` and removes
    ``root``, its state file and ``lock``."""
    with open(os.devnull, 'r+b') as devnull:
        subprocess.Popen([sys.executable, '-c', WATCHER, str(owner_pid), sys.executable, SIM, root, lock],  # pylint: disable=consider-using-with
                         stdin=devnull, stdout=devnull, stderr=devnull, close_fds=True, start_new_session=True)


def hostile_signals():
    """In a child before exec: SIGINT and SIGQUIT ignored and blocked (what a background job inherits, and worse)."""
    for number in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(number, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGQUIT])


def shell_available(shell):
    if shell == 'bash':
        return os.path.exists('/bin/bash')
    if shell == 'dash':
        return bool(shutil.which('dash'))
    return bool(shutil.which('busybox'))


def _start_args(root):
    args = [sys.executable, SIM, 'start', '--root', root, '--no-netns', '--no-install', '--max-lifetime', str(LIFETIME)]
    shells = [s for s in SHELLS if shell_available(s)] + (['busybox'] if shell_available('ash') else [])
    for shell in shells:
        args += ['--sandbox-id', 'sb-' + shell, '--opt', 'console.shell.sb-%s=%s' % (shell, shell)]
    for sandbox_id, mode in sorted(FAULTS.items()):
        args += ['--sandbox-id', sandbox_id, '--opt', 'console.mode.%s=%s' % (sandbox_id, mode)]
    args += ['--sandbox-id', 'sb-qemu', '--hypervisor', 'sb-qemu=qemu', '--sandbox-id', 'sb-off',
             '--opt', 'console.mode.sb-off=off']
    return args


def _running(root):
    proc = subprocess.run([sys.executable, SIM, 'status', '--root', root], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    return proc.returncode == 0


def shared_node():
    """The node of this pytest process: started by the first caller, reused by the others (and by their forks)."""
    root = '/tmp/kx-%d' % OWNER_PID
    lock = root + '.lock'
    state_file = root + '.json'
    with open(lock, 'a', encoding='utf-8') as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if os.path.exists(state_file) and _running(root):
            with open(state_file, encoding='utf-8') as f:
                return ConsoleNode(json.load(f))
        shutil.rmtree(root, ignore_errors=True)  # a previous process with the same pid, long gone
        os.mkdir(root, 0o755)
        # Started from a hostile parent, whatever started the tests: SIGINT and SIGQUIT ignored and blocked, as a
        # background job of a non-interactive shell (make test &, nohup, some CI runners) leaves them. The
        # simulator must still give every guest shell the defaults a kata agent's children have.
        proc = subprocess.run(_start_args(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                              preexec_fn=hostile_signals)  # pylint: disable=subprocess-popen-preexec-fn
        if proc.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError('kata_sim start failed: %s' % proc.stderr.decode('utf-8', 'replace'))
        state = json.loads(proc.stdout.decode('utf-8'))
        with open(state_file, 'w', encoding='utf-8') as f:
            json.dump(state, f)
        start_watcher(OWNER_PID, root, lock)
        return ConsoleNode(state)


class ConsoleNode(object):
    """A running simulator, described by what ``kata_sim.py start`` printed."""

    def __init__(self, state):
        self.state = state
        self.root = state['root']
        self.sandbox_root = state['sandbox_root']
        self.rs_sandbox_root = state['rs_sandbox_root']
        self.by_id = dict((sb['id'], sb) for sb in state['sandboxes'])
        self.shells = [s for s in SHELLS if 'sb-' + s in self.by_id]

    def agent_url(self, sandbox_id):
        return self.by_id[sandbox_id]['agent_url']

    def socket(self, sandbox_id):
        return self.by_id[sandbox_id]['socket']

    def call(self, request):
        proc = subprocess.run([sys.executable, SIM, 'call', '--root', self.root, json.dumps(request)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        return json.loads(proc.stdout.decode('utf-8'))

    def console_log(self):
        path = os.path.join(self.root, 'kata-sim', 'console.log')
        if not os.path.exists(path):
            return []
        with open(path, encoding='utf-8') as f:
            return [json.loads(line) for line in f]

    def guest_tmp(self, sandbox_id):
        return os.path.join(self.root, 'kata-sim', 'guest', sandbox_id, 'console', 'tmp')
