# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark kata_exec_cmd (cmd=true) against ansible.builtin.ping on localhost.

The sandboxes are those of the simulated node (tests/kata_sim): a bash console and a dash console behind
hybrid-vsock sockets, so a round trip is: the shim's /agent-url, the CONNECT handshake, a fresh shell on a new pty,
the framing protocol, the command, the encoded results. ansible.builtin.command cmd=true is measured too, for
reference. Two measurements, interleaved round by round so that machine noise hits every contender alike:
  * playbooks of 20 tasks of each contender;
  * the module process alone, run with its JSON arguments.
Prints the medians and the ratios to ping; the goal (issue 4) is at most 1.3 for kata_exec_cmd.

Run it with `make bench` (it needs the collection installed where ANSIBLE_COLLECTIONS_PATH points).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TASKS = 20
SIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'kata_sim', 'kata_sim.py')


def contenders(sandbox_root):
    exec_args = {'sandbox_root': sandbox_root, 'cmd': 'true'}
    return {
        'ping': ('ansible.builtin.ping', 'ansible.modules.ping', {}),
        'command': ('ansible.builtin.command', 'ansible.modules.command', {'cmd': 'true'}),
        'exec_bash': ('katacontainers.kata.kata_exec_cmd', 'ansible_collections.katacontainers.kata.plugins.modules.kata_exec_cmd',
                      dict(exec_args, sandbox_id='bench-bash')),
        'exec_dash': ('katacontainers.kata.kata_exec_cmd', 'ansible_collections.katacontainers.kata.plugins.modules.kata_exec_cmd',
                      dict(exec_args, sandbox_id='bench-dash')),
    }


def write_playbook(directory, name, module, module_args):
    path = os.path.join(directory, '%s.yml' % name)
    lines = ['- hosts: localhost', '  connection: local', '  gather_facts: false', '  tasks:']
    for i in range(TASKS):
        lines.append('    - name: %s %d' % (name, i))
        lines.append('      %s: %s' % (module, json.dumps(module_args)))
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def timed(argv, env=None):
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('benchmark command failed (%s):\n%s' % (' '.join(argv), proc.stdout.decode(errors='replace')[-3000:]))
    return elapsed


def start_node(python, root):
    argv = [python, SIM, 'start', '--root', root, '--no-netns', '--no-install', '--max-lifetime', '1800',
            '--sandbox-id', 'bench-bash', '--sandbox-id', 'bench-dash', '--opt', 'console.shell.bench-dash=dash']
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        sys.exit('cannot start the simulated node: %s' % proc.stderr.decode(errors='replace'))
    return json.loads(proc.stdout.decode('utf-8'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--python', default=sys.executable, help='interpreter for the modules (ansible_python_interpreter)')
    parser.add_argument('--collections-path', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
                        help='directory that holds ansible_collections/katacontainers/kata')
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix='kata-bench-')
    root = tempfile.mkdtemp(prefix='kb-', dir='/tmp')
    state = start_node(args.python, root)
    try:
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path, ANSIBLE_PYTHON_INTERPRETER=args.python,
                   ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0')
        module_env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (args.collections_path, env.get('PYTHONPATH')) if p))
        plays, arg_files = {}, {}
        for name, (module, python_module, module_args) in contenders(state['sandbox_root']).items():
            plays[name] = write_playbook(work, name, module, module_args)
            arg_files[name] = (python_module, os.path.join(work, '%s.json' % name))
            with open(arg_files[name][1], 'w') as f:
                json.dump({'ANSIBLE_MODULE_ARGS': module_args}, f)

        play_times = dict((name, []) for name in plays)
        proc_times = dict((name, []) for name in plays)
        for name in plays:  # warm-up: compile caches, page cache
            timed(['ansible-playbook', '-i', 'localhost,', plays[name]], env=env)
        for dummy_round in range(args.rounds):
            for name in plays:
                play_times[name].append(timed(['ansible-playbook', '-i', 'localhost,', plays[name]], env=env))
                for dummy_i in range(4):
                    proc_times[name].append(timed([args.python, '-m', arg_files[name][0], arg_files[name][1]],
                                                  env=module_env))
    finally:
        subprocess.run([args.python, SIM, 'stop', '--root', root], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    report = {'rounds': args.rounds, 'tasks_per_playbook': TASKS, 'playbook_s': {}, 'process_ms': {}, 'ratios': {}}
    print('%-10s %14s %8s %16s %8s' % ('contender', 'playbook(20)', 'ratio', 'process alone', 'ratio'))
    base_play = statistics.median(play_times['ping'])
    base_proc = statistics.median(proc_times['ping'])
    for name in plays:
        play = statistics.median(play_times[name])
        proc = statistics.median(proc_times[name])
        report['playbook_s'][name] = round(play, 3)
        report['process_ms'][name] = round(proc * 1000, 1)
        report['ratios'][name] = {'playbook': round(play / base_play, 3), 'process': round(proc / base_proc, 3)}
        print('%-10s %12.2f s %8.2f %13.1f ms %8.2f' % (name, play, play / base_play, proc * 1000, proc / base_proc))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'exec.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print('goal: kata_exec_cmd ratios <= 1.3; results in benchmarks/results/exec.json')


if __name__ == '__main__':
    main()
