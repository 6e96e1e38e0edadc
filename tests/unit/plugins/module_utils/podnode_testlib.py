# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated Kata node (tests/kata_sim) with Go-shim and runtime-rs sandboxes and the pod metadata that containerd
and CRI-O leave for them (``kata_sim.py start --pod``), for the pod and runtime-rs tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.console_testlib import start_watcher

SIM = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim', 'kata_sim.py'))

# sandbox -> (runtime, pod option or None)
SANDBOXES = {
    'go-web': ('go', 'default/web'),                       # containerd, no handler recorded
    'go-cart': ('go', 'crio:shop/cart'),                   # CRI-O, handler kata-qemu
    'go-plain': ('go', None),                              # no engine metadata
    'rs-api': ('rs', 'shop/api@kata-qemu-runtime-rs'),     # containerd, handler let through as a pod annotation
    'rs-db': ('rs', 'crio:ops/db'),                        # CRI-O, handler kata-qemu-runtime-rs
    'rs-db2': ('rs', 'ops/db'),                            # the same pod again (a recreated sandbox): two candidates
}


class PodNode(object):
    """A running simulator under a fresh short root (unix socket paths must stay short)."""

    def __init__(self, extra=()):
        self.root = tempfile.mkdtemp(prefix='kp', dir='/tmp')
        os.chmod(self.root, 0o755)
        args = [sys.executable, SIM, 'start', '--root', self.root, '--no-netns', '--no-install', '--max-lifetime',
                '900', '--sandboxes', '0']
        for sandbox_id, (runtime, pod) in sorted(SANDBOXES.items()):
            args += ['--sandbox-id' if runtime == 'go' else '--rs-sandbox-id', sandbox_id]
            if pod:
                args += ['--pod', '%s=%s' % (sandbox_id, pod)]
        args += list(extra)
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            shutil.rmtree(self.root, ignore_errors=True)
            raise RuntimeError('kata_sim start failed: %s' % proc.stderr.decode('utf-8', 'replace'))
        self.state = json.loads(proc.stdout.decode('utf-8'))
        # ansible-test runs every test in a fork that exits without tearing down the module's fixtures, so stop()
        # may never be called: a watcher (console_testlib's) stops the node and removes its root once the process
        # that started it is gone.
        start_watcher(os.getpid(), self.root, self.root + '.lock')
        self.by_id = dict((sb['id'], sb) for sb in self.state['sandboxes'])
        self.sandbox_root = self.state['sandbox_root']
        self.rs_sandbox_root = self.state['rs_sandbox_root']
        self.containerd_state_dir = os.path.join(self.root, 'run/containerd/io.containerd.runtime.v2.task')
        self.crio_containers_dir = os.path.join(self.root, 'run/containers/storage/overlay-containers')

    def sim(self, *args):
        proc = subprocess.run([sys.executable, SIM, args[0], '--root', self.root] + list(args[1:]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise RuntimeError('kata_sim %s failed: %s' % (args[0], proc.stderr.decode('utf-8', 'replace')))
        return json.loads(proc.stdout.decode('utf-8')) if proc.stdout.strip() else None

    def socket(self, sandbox_id):
        return self.by_id[sandbox_id]['socket']

    def pod(self, sandbox_id):
        return self.by_id[sandbox_id]['pod']

    def params(self, **kwargs):
        """The module options that point at this node."""
        params = dict(sandbox_root=self.sandbox_root, rs_sandbox_root=self.rs_sandbox_root,
                      containerd_state_dir=self.containerd_state_dir, crio_containers_dir=self.crio_containers_dir)
        params.update(kwargs)
        return params

    def attach(self, sandbox_id, device, volume_path=None):
        args = ['attach', '--sandbox', sandbox_id, '--device', device]
        if volume_path:
            args += ['--volume-path', volume_path]
        return self.sim(*args)

    def fault(self, sandbox_id, mode, path=None):
        return self.sim('fault', '--sandbox', sandbox_id, '--mode', mode, *(['--path', path] if path else []))

    def log(self):
        with open(self.state['request_log'], encoding='utf-8') as f:
            return [json.loads(line) for line in f]

    def stop(self):
        subprocess.run([sys.executable, SIM, 'stop', '--root', self.root], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
