# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark Kata sandboxes as Ansible hosts (issue 15): ``ansible -m raw -a true`` over 50 sandboxes against the same
over 50 SSH hosts.

Sandboxes: ``--nodes`` simulated Kata nodes (tests/kata_sim, bash debug consoles, pod metadata), each behind one host of
the SSH test fleet (tests/fleet), 50 sandboxes in all; the playbook katacontainers.kata.sandbox_inventory refreshes
them into a jsonfile fact cache and the inventory plugin katacontainers.kata.kata_sandboxes reads it. A command on a
sandbox is: an SSH session on the node's shared master (ControlPersist), the relay's Python started there with the
console code on its standard input, the shim's /agent-url, the hybrid-vsock handshake, a fresh shell on a new pty,
the framed command. SSH hosts: 50 hosts of the same fleet (our own sshd on 127.0.0.x, real SSH, ControlPersist), the
one without an sshd left out. Both run with the same forks, after one warm-up run each (the SSH masters open), then
``--rounds`` rounds, the two contenders alternating in order round by round; medians and the load average before and
after are printed and written to benchmarks/results/sandbox_hosts.json.

    python benchmarks/bench_sandbox_hosts.py --collections-path /var/tmp/.../collections [--rounds 3] [--forks 50]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import _bench

SANDBOXES = 50


def ansible_bin(name):
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.access(beside, os.X_OK) else shutil.which(name) or name


def start_nodes(nodes, sandboxes):
    """``nodes`` simulated nodes holding ``sandboxes`` in all: ``[root]``."""
    roots = []
    for node in range(nodes):
        root = tempfile.mkdtemp(prefix='kb%d.' % node, dir='/tmp')
        roots.append(root)
        argv = [sys.executable, _bench.SIMULATOR, '--root', root, 'start', '--sandboxes', '0', '--no-netns',
                '--no-install', '--max-lifetime', '3600']
        for index in range(node, sandboxes, nodes):
            sandbox = 'bench-%02d' % index
            argv += ['--sandbox-id', sandbox, '--pod', '%s=bench/pod-%02d' % (sandbox, index)]
        _bench.run(argv)
    return roots


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    _bench.add_common_arguments(parser, rounds=3)
    parser.add_argument('--nodes', type=int, default=5, help='simulated nodes the sandboxes are spread over')
    parser.add_argument('--forks', type=int, default=50)
    parser.add_argument('--output', default=os.path.join(_bench.RESULTS, 'sandbox_hosts.json'))
    args = parser.parse_args()
    _bench.check_collections_path(args.collections_path)
    work = tempfile.mkdtemp(prefix='kbsh.', dir='/tmp')
    fleet_dir = os.path.join(work, 'fleet')
    roots = []
    fleet = None
    try:
        roots = start_nodes(args.nodes, SANDBOXES)
        # 51 fleet hosts: the layout's 29th is the one without an sshd, left out by the pattern below.
        fleet = subprocess.Popen([sys.executable, _bench.FLEET, 'up', '--dir', fleet_dir, '--port', 'auto',
                                  '--count', str(SANDBOXES + 1), '--python', '/usr/bin/python3', '--foreground'],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not os.path.exists(os.path.join(fleet_dir, 'ready')):
            if fleet.poll() is not None:
                sys.exit('the fleet did not start')
            time.sleep(0.2)
        with open(os.path.join(fleet_dir, 'inventory.json'), encoding='utf-8') as f:
            fleet_hosts = list(json.load(f)['all']['children']['kata_fleet']['hosts'])
        node_names = fleet_hosts[:args.nodes]
        node_vars = {'all': {'hosts': dict((name, {
            'kata_sandbox_inventory_sandbox_root': root + '/run/vc/sbs',
            'kata_sandbox_inventory_rs_sandbox_root': root + '/run/kata',
            'kata_sandbox_inventory_containerd_state_dir': root + '/run/containerd/io.containerd.runtime.v2.task',
            'kata_sandbox_inventory_crio_containers_dir': root + '/run/containers/storage/overlay-containers',
        }) for name, root in zip(node_names, roots))}}
        with open(os.path.join(work, 'nodes.json'), 'w', encoding='utf-8') as f:
            json.dump(node_vars, f)
        with open(os.path.join(work, 'kata_sandboxes.yml'), 'w', encoding='utf-8') as f:
            f.write('plugin: katacontainers.kata.kata_sandboxes\n')
        env = _bench.ansible_env(args.collections_path, ANSIBLE_CACHE_PLUGIN='ansible.builtin.jsonfile',
                                 ANSIBLE_CACHE_PLUGIN_CONNECTION=os.path.join(work, 'facts'), ANSIBLE_SSH_RETRIES='0',
                                 ANSIBLE_INVENTORY_ENABLED='host_list,yaml,auto,katacontainers.kata.kata_sandboxes',
                                 ANSIBLE_PYTHON_INTERPRETER='/usr/bin/python3')
        fleet_inventory = os.path.join(fleet_dir, 'inventory.json')
        _bench.run([_bench.ansible_playbook(), '-i', fleet_inventory, '-i', os.path.join(work, 'nodes.json'),
                    'katacontainers.kata.sandbox_inventory', '-e', 'kata_hosts=' + ':'.join(node_names)], env=env)
        ansible = ansible_bin('ansible')
        contenders = [
            ('sandboxes', [ansible, 'kata_sandboxes', '-i', os.path.join(work, 'kata_sandboxes.yml'), '-f',
                           str(args.forks), '-m', 'raw', '-a', 'true']),
            ('ssh_hosts', [ansible, 'kata_fleet:!unreachable', '-i', fleet_inventory, '-f', str(args.forks), '-m',
                           'raw', '-a', 'true']),
        ]
        counts = {}
        for name, argv in contenders:
            listed = _bench.run(argv[:2] + ['-i', argv[3], '--list-hosts'], env=env)[1].decode().splitlines()
            counts[name] = len([line for line in listed if line.startswith('    ')])
            _bench.timed(argv, env=env)  # warm-up: the SSH masters open
        if counts != {'sandboxes': SANDBOXES, 'ssh_hosts': SANDBOXES}:
            sys.exit('expected %d hosts of each kind, got %r' % (SANDBOXES, counts))
        load_before = _bench.uptime()
        times = _bench.interleave([(name, lambda argv=argv: _bench.timed(argv, env=env)) for name, argv in contenders],
                                  args.rounds)
        load_after = _bench.uptime()
        medians = _bench.medians(times)
        report = {'sandboxes': SANDBOXES, 'nodes': args.nodes, 'forks': args.forks, 'rounds': args.rounds,
                  'times': times, 'medians': medians, 'ratio': medians['sandboxes'] / medians['ssh_hosts'],
                  'per_host_ms': dict((name, 1000.0 * value / SANDBOXES) for name, value in medians.items()),
                  'load_before': load_before, 'load_after': load_after, 'cpus': os.cpu_count()}
        path = _bench.write_results(os.path.abspath(args.output), report)
        print(json.dumps(report, indent=2))
        print('written to', path)
    finally:
        if fleet is not None:
            subprocess.run([sys.executable, _bench.FLEET, 'down', '--dir', fleet_dir], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            fleet.wait()
        for root in roots:
            subprocess.run([sys.executable, _bench.SIMULATOR, 'stop', '--root', root], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
