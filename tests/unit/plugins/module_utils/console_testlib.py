# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated Kata node with debug consoles (tests/kata_sim) for the kata_exec_cmd tests.

One node, one sandbox per console flavour: a shell (``sb-bash``, ``sb-dash``, ``sb-ash``, ``sb-busybox``), a
handshake fault (``sb-failure``, ``sb-noreply``, ``sb-close``) and a qemu sandbox whose agent URL is
``vsock://<cid>:1024`` (AF_VSOCK has no loopback transport here: dialing it can only fail).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

SIM = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim', 'kata_sim.py'))
SHELLS = ('bash', 'dash', 'ash')
FAULTS = {'sb-failure': 'failure', 'sb-noreply': 'no-reply', 'sb-close': 'close'}


def shell_available(shell):
    if shell == 'bash':
        return os.path.exists('/bin/bash')
    if shell == 'dash':
        return bool(shutil.which('dash'))
    return bool(shutil.which('busybox'))


class ConsoleNode(object):
    """A running simulator under a short temporary root."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='kx-', dir='/tmp')
        args = [sys.executable, SIM, 'start', '--root', self.root, '--no-netns', '--no-install', '--max-lifetime', '900']
        shells = [s for s in SHELLS if shell_available(s)] + (['busybox'] if shell_available('ash') else [])
        for shell in shells:
            args += ['--sandbox-id', 'sb-' + shell, '--opt', 'console.shell.sb-%s=%s' % (shell, shell)]
        for sandbox_id, mode in sorted(FAULTS.items()):
            args += ['--sandbox-id', sandbox_id, '--opt', 'console.mode.%s=%s' % (sandbox_id, mode)]
        args += ['--sandbox-id', 'sb-qemu', '--hypervisor', 'sb-qemu=qemu', '--sandbox-id', 'sb-off',
                 '--opt', 'console.mode.sb-off=off']
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            shutil.rmtree(self.root, ignore_errors=True)
            raise RuntimeError('kata_sim start failed: %s' % proc.stderr.decode('utf-8', 'replace'))
        self.state = json.loads(proc.stdout.decode('utf-8'))
        self.sandbox_root = self.state['sandbox_root']
        self.rs_sandbox_root = self.state['rs_sandbox_root']
        self.by_id = dict((sb['id'], sb) for sb in self.state['sandboxes'])
        self.shells = [s for s in shells if s != 'busybox']

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

    def stop(self):
        subprocess.run([sys.executable, SIM, 'stop', '--root', self.root], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
