# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark kata_env and kata_check against ansible.builtin.ping on localhost.

Two measurements, interleaved round by round so that machine noise hits every contender alike:
  * playbooks of 20 tasks of the module (kata_check without the release check) against 20 ping tasks;
  * the module process alone, run with its JSON arguments, against ping's process.
Prints the medians and the ratios to ping; the goal (issue 2) is at most 1.3 for both.

Run it with `make bench` (it needs the collection installed where ANSIBLE_COLLECTIONS_PATH points).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

TASKS = 20
PLAYS = {
    'ping': 'ansible.builtin.ping:',
    'kata_env': 'katacontainers.kata.kata_env:',
    'kata_check': 'katacontainers.kata.kata_check: {fail_on_incapable: false}',
}
MODULE_ARGS = {
    'ping': ('ansible.modules.ping', {}),
    'kata_env': ('ansible_collections.katacontainers.kata.plugins.modules.kata_env', {}),
    'kata_check': ('ansible_collections.katacontainers.kata.plugins.modules.kata_check', {'fail_on_incapable': False}),
}


def write_playbook(directory, name, task):
    path = os.path.join(directory, '%s.yml' % name)
    lines = ['- hosts: localhost', '  connection: local', '  gather_facts: false', '  tasks:']
    for i in range(TASKS):
        lines.append('    - name: %s %d' % (name, i))
        lines.append('      %s' % task)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--python', default=sys.executable, help='interpreter for the modules (ansible_python_interpreter)')
    parser.add_argument('--collections-path', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
                        help='directory that holds ansible_collections/katacontainers/kata')
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix='kata-bench-')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path, ANSIBLE_PYTHON_INTERPRETER=args.python,
               ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0')
    playbooks = dict((name, write_playbook(work, name, task)) for name, task in PLAYS.items())
    module_env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (args.collections_path, env.get('PYTHONPATH')) if p))
    arg_files = {}
    for name, (dummy_mod, margs) in MODULE_ARGS.items():
        arg_files[name] = os.path.join(work, '%s.json' % name)
        with open(arg_files[name], 'w') as f:
            json.dump({'ANSIBLE_MODULE_ARGS': margs}, f)

    play_times = dict((name, []) for name in PLAYS)
    proc_times = dict((name, []) for name in PLAYS)
    # Warm-up: compile caches, page cache.
    for name in PLAYS:
        timed(['ansible-playbook', '-i', 'localhost,', playbooks[name]], env=env)
    for dummy_round in range(args.rounds):
        for name in PLAYS:
            play_times[name].append(timed(['ansible-playbook', '-i', 'localhost,', playbooks[name]], env=env))
            for dummy_i in range(4):
                proc_times[name].append(timed([args.python, '-m', MODULE_ARGS[name][0], arg_files[name]], env=module_env))

    report = {'rounds': args.rounds, 'tasks_per_playbook': TASKS, 'playbook_s': {}, 'process_ms': {}, 'ratios': {}}
    print('%-11s %14s %12s %16s %12s' % ('module', 'playbook(20)', 'ratio', 'process alone', 'ratio'))
    base_play = statistics.median(play_times['ping'])
    base_proc = statistics.median(proc_times['ping'])
    for name in PLAYS:
        play = statistics.median(play_times[name])
        proc = statistics.median(proc_times[name])
        report['playbook_s'][name] = round(play, 3)
        report['process_ms'][name] = round(proc * 1000, 1)
        report['ratios'][name] = {'playbook': round(play / base_play, 3), 'process': round(proc / base_proc, 3)}
        print('%-11s %12.2f s %12.2f %13.1f ms %12.2f' % (name, play, play / base_play, proc * 1000, proc / base_proc))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'host_modules.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print('goal: every ratio <= 1.3; results in benchmarks/results/host_modules.json')


if __name__ == '__main__':
    main()
