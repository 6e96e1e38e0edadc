# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark kata_metrics sandbox_id=all against a sequential scrape with kata-runtime's semantics.

A simulated Kata node (tests/kata_sim) serves N sandboxes (100 by default). Interleaved round by round, so that
machine noise hits every contender alike (the order is rotated each round):
  * sequential   one GET /metrics per sandbox in turn, each on a new AF_UNIX connection with a 3 s timeout, the body
                 read and nothing else (what `kata-runtime metrics <id>` does, once per sandbox), in this process;
  * module       the kata_metrics process run with its JSON arguments (sandbox_id=all), as Ansible runs it;
  * module_small the same with families=[kata_guest_load] (everything is scraped and parsed, little is returned);
  * task         an ansible-playbook with the one kata_metrics task (localhost, connection local);
  * task_small   the same with families=[kata_guest_load];
  * ping         an ansible-playbook with one ansible.builtin.ping task: the fixed cost of a playbook.
Then, in this process, where the module's time goes: the concurrent GETs alone, the parsing alone, the JSON encoding
of the full result. Prints the medians and the ratios to the sequential scrape; the goal (issue 3) is kata_metrics at
most 0.5 times the sequential scrape and under 2 s.

Run it after `make collection`, as root (the simulator makes network namespaces):
  .venv/bin/python benchmarks/bench_metrics.py --collections-path <BUILD>/collections --python .venv/bin/python
(<BUILD> is /var/tmp/katacontainers.kata/_work_main for the checkout /work/main). --rounds, --sandboxes and
--no-playbooks adjust it; the figures land in benchmarks/results/metrics.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIMULATOR = os.path.join(HERE, '..', 'tests', 'kata_sim', 'kata_sim.py')
MODULE = 'ansible_collections.katacontainers.kata.plugins.modules.kata_metrics'
KATA_TIMEOUT = 3.0
SMALL = ['kata_guest_load']


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket, as kata-runtime's client dials the shim (host "shim")."""

    def __init__(self, path, timeout):
        super().__init__('shim', timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def sequential_scrape(sockets):
    """kata-runtime's semantics: one GET per sandbox, in turn, 3 s timeout; returns the bytes read."""
    total = 0
    for path in sockets:
        conn = UnixHTTPConnection(path, KATA_TIMEOUT)
        try:
            conn.request('GET', '/metrics')
            total += len(conn.getresponse().read())
        finally:
            conn.close()
    return total


def run(argv, env=None, stdin=None):
    """(seconds, stdout) of a command that must succeed."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('benchmark command failed (%s):\n%s\n%s' % (' '.join(argv), proc.stdout.decode(errors='replace')[-2000:],
                                                             proc.stderr.decode(errors='replace')[-2000:]))
    return elapsed, proc.stdout


def write_playbook(directory, name, task):
    """A playbook (JSON is YAML) running ``task`` once on localhost."""
    path = os.path.join(directory, '%s.yml' % name)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
                    'tasks': [dict({'name': name}, **task)]}], f)
    return path


def breakdown(collections_path, sockets):
    """A function measuring, in this process with the collection's own code, where the module's time goes: the
    concurrent GETs, the parsing, the JSON encoding and exit_json's remove_values of the full result (seconds)."""
    sys.path.insert(0, collections_path)
    from ansible_collections.katacontainers.kata.plugins.module_utils import _metrics, _prometheus  # noqa: E402
    from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import ShimClient  # noqa: E402
    from ansible.module_utils.common.parameters import remove_values  # what AnsibleModule.exit_json runs on a result
    from concurrent.futures import ThreadPoolExecutor

    def one_round():
        times = {}
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=_metrics.DEFAULT_CONCURRENCY) as pool:
            bodies = list(pool.map(lambda path: ShimClient(path, timeout=KATA_TIMEOUT).get('/metrics'), sockets))
        times['concurrent_get_s'] = time.perf_counter() - start
        start = time.perf_counter()
        families = [_prometheus.parse_text(_prometheus.decode(body)) for body in bodies]
        times['parse_s'] = time.perf_counter() - start
        result = {'sandboxes': [{'id': os.path.basename(os.path.dirname(p)), 'families': f}
                                for p, f in zip(sockets, families)]}
        start = time.perf_counter()
        text = json.dumps(result)
        times['json_encode_s'] = time.perf_counter() - start
        start = time.perf_counter()
        remove_values(result, set())
        times['exit_json_remove_values_s'] = time.perf_counter() - start
        sizes = {'result_bytes': len(text), 'metrics_bytes': sum(len(b) for b in bodies)}
        return times, sizes
    return one_round


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sandboxes', type=int, default=100)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--python', default=sys.executable, help='interpreter for the modules (ansible_python_interpreter)')
    parser.add_argument('--collections-path', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
                        help='directory that holds ansible_collections/katacontainers/kata')
    parser.add_argument('--no-playbooks', action='store_true', help='skip the ansible-playbook contenders')
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.collections_path, 'ansible_collections', 'katacontainers', 'kata')):
        sys.exit('--collections-path: no ansible_collections/katacontainers/kata under %r' % args.collections_path)

    load_start = os.getloadavg()
    work = tempfile.mkdtemp(prefix='kata-bench-metrics-')
    root = tempfile.mkdtemp(prefix='kb.', dir='/tmp')  # short: unix socket paths hold 107 bytes
    sim = [sys.executable, SIMULATOR, '--root', root]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path, ANSIBLE_PYTHON_INTERPRETER=args.python,
               ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0')
    module_env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (args.collections_path, env.get('PYTHONPATH')) if p))
    try:
        dummy, out = run(sim + ['start', '--sandboxes', str(args.sandboxes), '--rs', '0', '--max-lifetime', '3600'])
        state = json.loads(out)
        sockets = [s['socket'] for s in sorted(state['sandboxes'], key=lambda s: s['id'])]
        common = {'sandbox_id': 'all', 'sandbox_root': state['sandbox_root'], 'rs_sandbox_root': state['rs_sandbox_root']}
        small = dict(common, families=SMALL)
        arg_files = {}
        for name, margs in (('module', common), ('module_small', small)):
            arg_files[name] = os.path.join(work, '%s.json' % name)
            with open(arg_files[name], 'w', encoding='utf-8') as f:
                json.dump({'ANSIBLE_MODULE_ARGS': margs}, f)
        playbooks = {}
        if not args.no_playbooks:
            playbooks = {
                'task': write_playbook(work, 'task', {'katacontainers.kata.kata_metrics': common}),
                'task_small': write_playbook(work, 'task_small', {'katacontainers.kata.kata_metrics': small}),
                'ping': write_playbook(work, 'ping', {'ansible.builtin.ping': {}}),
            }

        def module(name):
            def contender():
                elapsed, out = run([args.python, '-m', MODULE, arg_files[name]], env=module_env)
                result = json.loads(out)
                if result.get('scraped') != args.sandboxes or result.get('failures'):
                    sys.exit('%s scraped %r of %d sandboxes: %r'
                             % (name, result.get('scraped'), args.sandboxes, result.get('errors') or result.get('msg')))
                return elapsed
            return contender

        beside = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
        ansible_playbook = beside if os.access(beside, os.X_OK) else shutil.which('ansible-playbook') or 'ansible-playbook'

        def playbook(name):
            return lambda: run([ansible_playbook, '-i', 'localhost,', playbooks[name]], env=env)[0]

        def sequential():
            start = time.perf_counter()
            sequential_scrape(sockets)
            return time.perf_counter() - start

        contenders = [('sequential', sequential), ('module', module('module')), ('module_small', module('module_small'))]
        contenders += [(name, playbook(name)) for name in playbooks]
        times = dict((name, []) for name, dummy in contenders)
        for name, contender in contenders:  # warm-up: page cache, .pyc files, the simulator's first scrapes
            contender()
        one_breakdown = breakdown(args.collections_path, sockets)
        part_times = {}
        for index in range(args.rounds):
            shift = index % len(contenders)
            for name, contender in contenders[shift:] + contenders[:shift]:
                times[name].append(contender())
            round_parts, sizes = one_breakdown()
            for key, value in round_parts.items():
                part_times.setdefault(key, []).append(value)
        parts = dict((key, statistics.median(values)) for key, values in part_times.items())
        parts.update(sizes)
    finally:
        subprocess.run(sim + ['stop'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    medians = dict((name, statistics.median(values)) for name, values in times.items())
    base = medians['sequential']
    report = {'sandboxes': args.sandboxes, 'rounds': args.rounds, 'cpus': os.cpu_count(), 'loadavg_start': load_start,
              'loadavg_end': os.getloadavg(),
              'median_s': dict((k, round(v, 3)) for k, v in medians.items()),
              'all_s': dict((k, [round(x, 3) for x in v]) for k, v in times.items()),
              'ratio_to_sequential': dict((k, round(v / base, 2)) for k, v in medians.items()),
              'breakdown': dict((k, round(v, 3) if isinstance(v, float) else v) for k, v in parts.items())}
    print('%d sandboxes, %d rounds, medians (load average %.1f at the start, %.1f at the end, %d CPUs)'
          % (args.sandboxes, args.rounds, load_start[0], report['loadavg_end'][0], report['cpus']))
    print('%-13s %10s %10s' % ('contender', 'median', 'ratio'))
    for name, value in medians.items():
        print('%-13s %8.3f s %10.2f' % (name, value, value / base))
    print('breakdown (in process): concurrent GETs %.3f s, parse %.3f s, JSON encoding %.3f s, exit_json\'s '
          'remove_values %.3f s; %.1f MB of metrics text, %.1f MB of result'
          % (parts['concurrent_get_s'], parts['parse_s'], parts['json_encode_s'], parts['exit_json_remove_values_s'],
             parts['metrics_bytes'] / 1e6, parts['result_bytes'] / 1e6))
    goal = medians['module'] <= 0.5 * base and medians['module'] < 2.0
    print('goal (module <= 0.5 x sequential and < 2 s): %s' % ('met' if goal else 'NOT met'))
    report['goal_met'] = goal
    out = os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'metrics.json'), 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=2)
    print('results in benchmarks/results/metrics.json')


if __name__ == '__main__':
    main()
