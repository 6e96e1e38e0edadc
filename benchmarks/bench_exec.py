# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark kata_exec_cmd (cmd=true) against ansible.builtin.ping on localhost.

The sandboxes are those of the simulated node (tests/kata_sim): a bash console and a dash console behind
hybrid-vsock sockets, so a round trip is: the shim's /agent-url, the CONNECT handshake, a fresh shell on a new pty,
the framing protocol, the command, the encoded results. ansible.builtin.command cmd=true is measured too, for
reference. Three measurements, round by round so that machine noise hits every contender alike:
  * tasks: one playbook whose tasks alternate between the contenders (ping, command, exec bash, exec dash, ping,
    ...), each task timed by a small callback from its start to its result: the task round trip, paired task by
    task, which drifting load on a shared machine disturbs least;
  * playbooks of 20 tasks of each contender, run one after the other;
  * the module process alone, run with its JSON arguments.
Prints the medians and the ratios to ping; the goal (issue 4) is at most 1.3 for the kata_exec_cmd task.

Run it with `make bench` (it needs the collection installed where ANSIBLE_COLLECTIONS_PATH points).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import _bench

TASKS = 20
EXEC_MODULE = 'ansible_collections.katacontainers.kata.plugins.modules.kata_exec_cmd'
TIMER = '''
import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.times = []
        self.task = None
        self.start = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.task = task.get_name()
        self.start = time.perf_counter()

    def v2_runner_on_ok(self, result):
        self.times.append([self.task.split()[0], time.perf_counter() - self.start])

    def v2_playbook_on_stats(self, stats):
        with open(os.environ['KATA_BENCH_TIMES'], 'a') as f:
            f.write(json.dumps(self.times) + '\\n')
'''


def contenders(sandbox_root):
    exec_args = {'sandbox_root': sandbox_root, 'cmd': 'true'}
    return {
        'ping': ('ansible.builtin.ping', 'ansible.modules.ping', {}),
        'command': ('ansible.builtin.command', 'ansible.modules.command', {'cmd': 'true'}),
        'exec_bash': ('katacontainers.kata.kata_exec_cmd', EXEC_MODULE, dict(exec_args, sandbox_id='bench-bash')),
        'exec_dash': ('katacontainers.kata.kata_exec_cmd', EXEC_MODULE, dict(exec_args, sandbox_id='bench-dash')),
    }


def write_playbook(path, tasks):
    """The play of ``tasks`` (``[(contender, module, args)]``), each task named ``<contender> <index>``."""
    return _bench.write_playbook(path, [('%s %d' % (name, index), module, module_args)
                                        for index, (name, module, module_args) in enumerate(tasks)])


def start_node(python, root):
    argv = [python, _bench.SIMULATOR, 'start', '--root', root, '--no-netns', '--no-install', '--max-lifetime', '3600',
            '--sandbox-id', 'bench-bash', '--sandbox-id', 'bench-dash', '--opt', 'console.shell.bench-dash=dash']
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        sys.exit('cannot start the simulated node: %s' % proc.stderr.decode(errors='replace'))
    return json.loads(proc.stdout.decode('utf-8'))


def measure(args, work, sandbox_root):
    """``(task_times, play_times, proc_times)``: lists of seconds per contender."""
    env = _bench.ansible_env(args.collections_path, args.python)
    module_env = _bench.module_env(env, args.collections_path)
    playbook = _bench.ansible_playbook()
    plugins = os.path.join(work, 'callback_plugins')
    os.mkdir(plugins)
    with open(os.path.join(plugins, 'bench_timer.py'), 'w', encoding='utf-8') as f:
        f.write(TIMER)
    times_file = os.path.join(work, 'task_times.jsonl')
    timer_env = dict(env, ANSIBLE_CALLBACK_PLUGINS=plugins, ANSIBLE_CALLBACKS_ENABLED='bench_timer',
                     KATA_BENCH_TIMES=times_file)
    table = contenders(sandbox_root)
    plays, arg_files = {}, {}
    for name, (module, python_module, module_args) in table.items():
        plays[name] = write_playbook(os.path.join(work, '%s.yml' % name), [(name, module, module_args)] * TASKS)
        arg_files[name] = (python_module, _bench.write_module_args(os.path.join(work, '%s.json' % name), module_args))
    mixed = write_playbook(os.path.join(work, 'mixed.yml'),
                           [(name,) + table[name][::2] for dummy_i in range(TASKS // 2) for name in table])

    def play(path, play_env):
        return lambda: _bench.timed([playbook, '-i', 'localhost,', path], env=play_env)

    def process(name):
        return lambda: _bench.timed([args.python, '-m', arg_files[name][0], arg_files[name][1]], env=module_env)

    for name in plays:  # warm-up: compile caches, page cache
        play(plays[name], env)()
    # Each round: the mixed playbook (its tasks timed by the callback), then every contender's playbook, each followed
    # by four runs of its module's process (four contenders of the same name, whose times interleave keeps together).
    runs = [('mixed', play(mixed, timer_env))] + [
        (kind + ' ' + name, function) for name in plays
        for kind, function in [('play', play(plays[name], env))] + [('process', process(name))] * 4]
    times = _bench.interleave(runs, args.rounds, rotate=False)
    play_times = dict((name, times['play ' + name]) for name in table)
    proc_times = dict((name, times['process ' + name]) for name in table)
    task_times = dict((name, []) for name in table)
    with open(times_file, encoding='utf-8') as f:
        for line in f:
            for name, seconds in json.loads(line):
                task_times[name].append(seconds)
    return task_times, play_times, proc_times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _bench.add_common_arguments(parser, rounds=5)
    args = parser.parse_args()
    _bench.check_collections_path(args.collections_path)

    work = tempfile.mkdtemp(prefix='kata-bench-')
    root = tempfile.mkdtemp(prefix='kb-', dir='/tmp')
    state = start_node(args.python, root)
    try:
        task_times, play_times, proc_times = measure(args, work, state['sandbox_root'])
    finally:
        subprocess.run([args.python, _bench.SIMULATOR, 'stop', '--root', root], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    report = {'rounds': args.rounds, 'tasks_per_playbook': TASKS, 'task_ms': {}, 'playbook_s': {}, 'process_ms': {},
              'ratios': {}}
    print('%-10s %16s %7s %14s %7s %15s %7s' % ('contender', 'task (paired)', 'ratio', 'playbook(20)', 'ratio',
                                                'process alone', 'ratio'))
    medians = dict((kind, _bench.medians(times)) for kind, times in
                   (('task', task_times), ('playbook', play_times), ('process', proc_times)))
    base = dict((kind, values['ping']) for kind, values in medians.items())
    for name in task_times:
        task, play, proc = (medians[kind][name] for kind in ('task', 'playbook', 'process'))
        report['task_ms'][name] = round(task * 1000, 1)
        report['playbook_s'][name] = round(play, 3)
        report['process_ms'][name] = round(proc * 1000, 1)
        report['ratios'][name] = {'task': round(task / base['task'], 3), 'playbook': round(play / base['playbook'], 3),
                                  'process': round(proc / base['process'], 3)}
        print('%-10s %13.1f ms %7.2f %12.2f s %7.2f %12.1f ms %7.2f'
              % (name, task * 1000, task / base['task'], play, play / base['playbook'], proc * 1000,
                 proc / base['process']))
    report['load_average'] = _bench.load_average()
    print('load average at the end: %s' % ' '.join('%.2f' % v for v in report['load_average']))
    _bench.write_results('exec', report)
    print('goal: the kata_exec_cmd task ratio <= 1.3; results in benchmarks/results/exec.json')


if __name__ == '__main__':
    main()
