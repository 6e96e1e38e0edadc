# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark the preflight playbook over the SSH test fleet against an ansible.builtin.ping play (issue 7).

One fleet of the largest size is started with tests/fleet/fleet.py (``up --foreground``, in the background of this
process, as the integration target role_preflight does; its layout cycled with ``--count``), and every smaller fleet
is its first N hosts (``--limit``). For each fleet size and each strategy (``linear``, ``free``, and
``mitogen_linear`` when mitogen is importable), the two contenders run interleaved, round by round, their order
swapped every round:
  * ``katacontainers.kata.preflight`` (one kata_check on every host, then the report on the controller);
  * a play of one ``ansible.builtin.ping`` task over the same hosts;
with the same inventory, the same forks and the same environment. The wall time of each ansible-playbook process is
measured; the medians and the ratio preflight / ping are printed (goal: at most 2.5) and written as JSON, with the
median time of each preflight task (the task_profile callback of benchmarks/callback_plugins, enabled for every run).
The fleet is always stopped (``fleet.py down``), whatever happens.

  .venv/bin/python benchmarks/bench_preflight.py --collections-path /var/tmp/katacontainers.kata/_work_main/collections
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

import _bench

HERE = _bench.HERE
FLEET = _bench.FLEET
PING_PLAY = '''---
- name: Ping
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
'''


def start_fleet(python, directory, count):
    """Start the fleet in the foreground of a child process; return (process, inventory path) once it is ready."""
    log = open(directory + '.out', 'w', encoding='utf-8')  # pylint: disable=consider-using-with
    proc = subprocess.Popen([python, FLEET, 'up', '--dir', directory, '--port', 'auto', '--count', str(count),
                             '--python', '/usr/bin/python3', '--foreground'],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    while not os.path.exists(os.path.join(directory, 'ready')):
        if proc.poll() is not None:
            with open(directory + '.out', encoding='utf-8') as f:
                raise RuntimeError('fleet.py up exited with %s:\n%s' % (proc.returncode, f.read()))
        time.sleep(0.1)
    return proc, os.path.join(directory, 'inventory.json')


def stop_fleet(python, directory, proc):
    subprocess.run([python, FLEET, 'down', '--dir', directory], check=False)
    if proc is not None:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)


def host_names(inventory):
    with open(inventory, encoding='utf-8') as f:
        data = json.load(f)
    return list(data['all']['children']['kata_fleet']['hosts'])


def run_playbook(playbook, inventory, hosts, env, log, extra_vars=None):
    """Run one playbook over ``hosts``; return (wall seconds, exit status, the recap or the output's tail)."""
    argv = [env['ANSIBLE_PLAYBOOK'], '-i', inventory, '--limit', ','.join(hosts)]
    if extra_vars:
        argv += ['-e', json.dumps(extra_vars)]
    argv.append(playbook)
    start = time.perf_counter()
    with open(log, 'w', encoding='utf-8') as out:
        rc = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    elapsed = time.perf_counter() - start
    with open(log, encoding='utf-8') as f:
        text = f.read()
    recap = text[text.find('PLAY RECAP'):] if 'PLAY RECAP' in text else text[-2000:]
    return elapsed, rc, recap


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--collections-path', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH'))
    parser.add_argument('--ansible-playbook', default=os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'))
    parser.add_argument('--sizes', type=_bench.int_list, default=[5, 20, 50],
                        help='fleet sizes, comma-separated (default 5,20,50)')
    parser.add_argument('--strategies', default='linear,free,mitogen_linear')
    parser.add_argument('--forks', type=int, default=20, help='forks of every run (default %(default)s)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--python', default=sys.executable, help='Python that runs fleet.py')
    parser.add_argument('--output', default=os.path.join(HERE, 'results', 'bench_preflight.json'))
    args = parser.parse_args(argv)
    if not args.collections_path:
        parser.error('--collections-path (or ANSIBLE_COLLECTIONS_PATH) is required: run `make collection` first')
    sizes = args.sizes
    strategies = args.strategies.split(',')

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path, ANSIBLE_FORKS=str(args.forks),
               ANSIBLE_PIPELINING='1', ANSIBLE_NOCOLOR='1', ANSIBLE_SSH_RETRIES='0', ANSIBLE_TIMEOUT='20',
               ANSIBLE_PLAYBOOK=args.ansible_playbook,
               # every run's task times (profile_tasks-like), for the breakdown printed at the end
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'), ANSIBLE_CALLBACKS_ENABLED='task_profile')
    mitogen_dir = None
    try:
        import ansible_mitogen  # pylint: disable=import-outside-toplevel
        mitogen_dir = os.path.join(os.path.dirname(ansible_mitogen.__file__), 'plugins', 'strategy')
    except ImportError:
        pass

    work = tempfile.mkdtemp(prefix='kata-bench-preflight.')
    fleet_dir = os.path.join(work, 'fleet')
    ping = os.path.join(work, 'ping.yml')
    with open(ping, 'w', encoding='utf-8') as f:
        f.write(PING_PLAY)
    results = dict(forks=args.forks, rounds=args.rounds, load_before=_bench.uptime(), runs=[], table=[], profiles=[])
    profiles = {}
    print('load before:', results['load_before'], flush=True)
    proc = None
    try:
        proc, inventory = start_fleet(args.python, fleet_dir, max(sizes))
        names = host_names(inventory)
        for size in sizes:
            hosts = names[:size]
            for strategy in strategies:
                run_env = dict(env, ANSIBLE_STRATEGY=strategy)
                if strategy.startswith('mitogen'):
                    if mitogen_dir is None:
                        print('SKIP %s: ansible_mitogen is not importable by %s' % (strategy, sys.executable))
                        continue
                    run_env['ANSIBLE_STRATEGY_PLUGINS'] = mitogen_dir
                contenders = {'preflight': 'katacontainers.kata.preflight', 'ping': ping}
                times = dict((name, []) for name in contenders)
                # one untimed ping run first: the SSH ControlPersist masters (linear) exist for every timed run alike
                run_playbook(ping, inventory, hosts, run_env, os.path.join(work, 'warmup.log'))
                for rnd in range(args.rounds):
                    for name in _bench.rotation(['preflight', 'ping'], rnd):
                        log = os.path.join(work, '%s-%d-%s-%d.log' % (strategy, size, name, rnd))
                        extra_vars = None
                        if name == 'preflight':
                            extra_vars = {'kata_preflight_report_dir': os.path.join(work, 'report-%s-%d-%d' % (strategy, size, rnd))}
                        profile = log[:-len('.log')] + '.profile.json'
                        elapsed, rc, recap = run_playbook(contenders[name], inventory, hosts,
                                                          dict(run_env, KATA_TASK_PROFILE=profile), log, extra_vars)
                        if name == 'preflight' and os.path.exists(profile):
                            with open(profile, encoding='utf-8') as f:
                                profiles.setdefault((size, strategy), []).append(json.load(f))
                        times[name].append(elapsed)
                        results['runs'].append(dict(hosts=size, strategy=strategy, contender=name, round=rnd,
                                                    seconds=round(elapsed, 3), rc=rc))
                        print('%3d hosts %-15s %-9s round %d: %7.2f s rc=%d' % (size, strategy, name, rnd, elapsed, rc),
                              flush=True)
                        if rc not in (0, 4) or (name == 'preflight' and rc != 0):
                            print(recap)
                print('load:', _bench.uptime(), flush=True)
                medians = _bench.medians(times)
                pre, png = medians['preflight'], medians['ping']
                results['table'].append(dict(hosts=size, strategy=strategy, preflight=round(pre, 2), ping=round(png, 2),
                                             ratio=round(pre / png, 2)))
    finally:
        stop_fleet(args.python, fleet_dir, proc)
        shutil.rmtree(work, ignore_errors=True)
    results['load_after'] = _bench.uptime()
    for (size, strategy), runs in profiles.items():
        # the median of each task's time over the rounds (tasks in the order of the first run)
        names = [row['task'] for row in runs[0]['tasks']]
        tasks = []
        for index, task in enumerate(names):
            values = [run['tasks'][index]['seconds'] for run in runs
                      if len(run['tasks']) > index and run['tasks'][index]['task'] == task]
            tasks.append(dict(task=task, seconds=round(statistics.median(values), 2)))
        results['profiles'].append(dict(hosts=size, strategy=strategy, tasks=tasks))
        print('\npreflight task times, %d hosts, %s (median of %d):' % (size, strategy, len(runs)))
        for row in tasks:
            print('  %7.2f s  %s' % (row['seconds'], row['task']))
    print('load after:', results['load_after'])
    print('\n| hosts | strategy | preflight | ping | ratio |\n|---|---|---|---|---|')
    for row in results['table']:
        print('| %(hosts)d | %(strategy)s | %(preflight).2f s | %(ping).2f s | %(ratio).2f |' % row)
    _bench.write_results(os.path.abspath(args.output), results)
    return 0


if __name__ == '__main__':
    sys.exit(main())
