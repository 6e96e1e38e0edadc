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
import os
import tempfile

import _bench

TASKS = 20
PLAYS = {
    'ping': ('ansible.builtin.ping', {}),
    'kata_env': ('katacontainers.kata.kata_env', {}),
    'kata_check': ('katacontainers.kata.kata_check', {'fail_on_incapable': False}),
}
MODULE_ARGS = {
    'ping': ('ansible.modules.ping', {}),
    'kata_env': ('ansible_collections.katacontainers.kata.plugins.modules.kata_env', {}),
    'kata_check': ('ansible_collections.katacontainers.kata.plugins.modules.kata_check', {'fail_on_incapable': False}),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _bench.add_common_arguments(parser, rounds=5)
    args = parser.parse_args()
    _bench.check_collections_path(args.collections_path)

    work = tempfile.mkdtemp(prefix='kata-bench-')
    env = _bench.ansible_env(args.collections_path, args.python)
    module_env = _bench.module_env(env, args.collections_path)
    playbook = _bench.ansible_playbook()
    playbooks = dict((name, _bench.write_playbook(os.path.join(work, '%s.yml' % name),
                                                  [('%s %d' % (name, i), module, module_args) for i in range(TASKS)]))
                     for name, (module, module_args) in PLAYS.items())
    arg_files = dict((name, _bench.write_module_args(os.path.join(work, '%s.json' % name), module_args))
                     for name, (dummy, module_args) in MODULE_ARGS.items())

    def play(name):
        return lambda: _bench.timed([playbook, '-i', 'localhost,', playbooks[name]], env=env)

    def process(name):
        return lambda: _bench.timed([args.python, '-m', MODULE_ARGS[name][0], arg_files[name]], env=module_env)

    for name in PLAYS:  # warm-up: compile caches, page cache
        play(name)()
    # Each round: every playbook, each followed by four runs of its module's process (four contenders of the same
    # name, whose times interleave keeps together), in the same order.
    contenders = [(kind + ' ' + name, function(name)) for name in PLAYS
                  for kind, function in [('play', play)] + [('process', process)] * 4]
    times = _bench.interleave(contenders, args.rounds, rotate=False)
    play_times = dict((name, times['play ' + name]) for name in PLAYS)
    proc_times = dict((name, times['process ' + name]) for name in PLAYS)

    report = {'rounds': args.rounds, 'tasks_per_playbook': TASKS, 'playbook_s': {}, 'process_ms': {}, 'ratios': {},
              'load_average': _bench.load_average()}
    print('%-11s %14s %12s %16s %12s' % ('module', 'playbook(20)', 'ratio', 'process alone', 'ratio'))
    plays, procs = _bench.medians(play_times), _bench.medians(proc_times)
    for name in PLAYS:
        play_s, proc_s = plays[name], procs[name]
        report['playbook_s'][name] = round(play_s, 3)
        report['process_ms'][name] = round(proc_s * 1000, 1)
        report['ratios'][name] = {'playbook': round(play_s / plays['ping'], 3), 'process': round(proc_s / procs['ping'], 3)}
        print('%-11s %12.2f s %12.2f %13.1f ms %12.2f' % (name, play_s, play_s / plays['ping'], proc_s * 1000,
                                                          proc_s / procs['ping']))
    _bench.write_results('host_modules', report)
    print('goal: every ratio <= 1.3; results in benchmarks/results/host_modules.json')


if __name__ == '__main__':
    main()
