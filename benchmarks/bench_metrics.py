# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark kata_metrics sandbox_id=all against a sequential scrape with kata-runtime's semantics.

A simulated Kata node (tests/kata_sim) serves N sandboxes from one process each (``--shim-processes 0``: a real
node runs one shim per sandbox), each GET /metrics waiting ``--agent-latency`` ms for the agent (the shim asks the
agent over vsock on every scrape). For every size in --sizes and latency in --latencies, interleaved round by round
(the order rotated each round, so that machine noise hits every contender alike):
  * sequential   one GET /metrics per sandbox in turn, each on a new AF_UNIX connection with a 3 s timeout, the body
                 read and nothing else (what `kata-runtime metrics <id>` does, once per sandbox), in this process;
  * module       the kata_metrics process run with its JSON arguments (sandbox_id=all, default options), as Ansible
                 runs it;
  * module_small the same with families=[kata_guest_load] (every sandbox scraped, one family parsed and returned);
  * module_full  the same with detail=full (every sample of every family as a dict; only up to --full-max sandboxes);
  * task         an ansible-playbook with the one kata_metrics task, default options (localhost, connection local);
  * task_small   the same with families=[kata_guest_load];
  * ping         an ansible-playbook with one ansible.builtin.ping task: the fixed cost of a playbook.
Then, in this process, the module's concurrent GETs alone (where the agent latency goes). Prints the medians and the
ratios to the sequential scrape; the goal (issue 12) is kata_metrics, default options, 100 sandboxes at the agent
latency kata measured (3 ms), at most 0.5 times the sequential scrape, and its task under 2 s.

Run it after `make collection`, as root (the simulator makes network namespaces):
  .venv/bin/python benchmarks/bench_metrics.py --collections-path <BUILD>/collections --python .venv/bin/python
(<BUILD> is /var/tmp/katacontainers.kata/_work_main for the checkout /work/main). --rounds, --sizes, --latencies,
--shim-processes and --no-playbooks adjust it; the figures land in benchmarks/results/metrics.json.
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


def concurrent_get(collections_path, sockets):
    """A function timing, in this process with the collection's own client, the module's concurrent GETs alone."""
    if collections_path not in sys.path:
        sys.path.insert(0, collections_path)
    from concurrent.futures import ThreadPoolExecutor
    from ansible_collections.katacontainers.kata.plugins.module_utils import _metrics  # noqa: E402
    from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import ShimClient  # noqa: E402

    def one_round():
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=_metrics.DEFAULT_CONCURRENCY) as pool:
            bodies = list(pool.map(lambda path: ShimClient(path, timeout=KATA_TIMEOUT).get('/metrics'), sockets))
        return time.perf_counter() - start, sum(len(b) for b in bodies)
    return one_round


def measure_cell(args, size, latency, ansible_playbook):
    """Start a node of ``size`` sandboxes at ``latency`` ms, run the rounds, stop it; the cell's report."""
    work = tempfile.mkdtemp(prefix='kata-bench-metrics-')
    root = tempfile.mkdtemp(prefix='kb.', dir='/tmp')  # short: unix socket paths hold 107 bytes
    sim = [sys.executable, SIMULATOR, '--root', root]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=args.collections_path, ANSIBLE_PYTHON_INTERPRETER=args.python,
               ANSIBLE_NOCOLOR='1', ANSIBLE_DEPRECATION_WARNINGS='0')
    module_env = dict(env, PYTHONPATH=os.pathsep.join(p for p in (args.collections_path, env.get('PYTHONPATH')) if p))
    load_start = os.getloadavg()
    try:
        dummy, out = run(sim + ['start', '--sandboxes', str(size), '--rs', '0', '--max-lifetime', '3600',
                                '--shim-processes', str(args.shim_processes), '--agent-latency', str(latency)])
        state = json.loads(out)
        sockets = [s['socket'] for s in sorted(state['sandboxes'], key=lambda s: s['id'])]
        common = {'sandbox_id': 'all', 'sandbox_root': state['sandbox_root'], 'rs_sandbox_root': state['rs_sandbox_root']}
        variants = {'module': common, 'module_small': dict(common, families=SMALL)}
        if size <= args.full_max:
            variants['module_full'] = dict(common, detail='full')
        arg_files = {}
        for name, margs in variants.items():
            arg_files[name] = os.path.join(work, '%s.json' % name)
            with open(arg_files[name], 'w', encoding='utf-8') as f:
                json.dump({'ANSIBLE_MODULE_ARGS': margs}, f)
        playbooks = {}
        if not args.no_playbooks:
            playbooks = {
                'task': write_playbook(work, 'task', {'katacontainers.kata.kata_metrics': common}),
                'task_small': write_playbook(work, 'task_small', {'katacontainers.kata.kata_metrics': variants['module_small']}),
                'ping': write_playbook(work, 'ping', {'ansible.builtin.ping': {}}),
            }
        result_bytes = {}

        def module(name):
            def contender():
                elapsed, out = run([args.python, '-m', MODULE, arg_files[name]], env=module_env)
                result = json.loads(out)
                if result.get('scraped') != size or result.get('failures'):
                    sys.exit('%s scraped %r of %d sandboxes: %r'
                             % (name, result.get('scraped'), size, result.get('errors') or result.get('msg')))
                result_bytes[name] = len(out)
                return elapsed
            return contender

        def playbook(name):
            return lambda: run([ansible_playbook, '-i', 'localhost,', playbooks[name]], env=env)[0]

        def sequential():
            start = time.perf_counter()
            result_bytes['metrics_text'] = sequential_scrape(sockets)
            return time.perf_counter() - start

        contenders = [('sequential', sequential)] + [(name, module(name)) for name in variants]
        contenders += [(name, playbook(name)) for name in playbooks]
        times = dict((name, []) for name, dummy in contenders)
        for name, contender in contenders:  # warm-up: page cache, .pyc files, the simulator's first scrapes
            contender()
        get_round = concurrent_get(args.collections_path, sockets)
        get_times = []
        for index in range(args.rounds):
            shift = index % len(contenders)
            for name, contender in contenders[shift:] + contenders[:shift]:
                times[name].append(contender())
            get_times.append(get_round()[0])
    finally:
        subprocess.run(sim + ['stop'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    medians = dict((name, statistics.median(values)) for name, values in times.items())
    medians['concurrent_get'] = statistics.median(get_times)
    base = medians['sequential']
    return {'sandboxes': size, 'agent_latency_ms': latency, 'shim_processes': args.shim_processes,
            'rounds': args.rounds, 'loadavg_start': load_start, 'loadavg_end': os.getloadavg(),
            'median_s': dict((k, round(v, 3)) for k, v in medians.items()),
            'all_s': dict((k, [round(x, 3) for x in v]) for k, v in times.items()),
            'ratio_to_sequential': dict((k, round(v / base, 2)) for k, v in medians.items()),
            'bytes': result_bytes}


def settle(load, longest):
    """Wait (at most ``longest`` seconds) for the 1-minute load average to fall under ``load``: a 500-sandbox cell
    leaves the load average high for a minute after its processes are gone."""
    deadline = time.monotonic() + longest
    while os.getloadavg()[0] >= load and time.monotonic() < deadline:
        time.sleep(5)


def int_list(text):
    try:
        values = [int(part) for part in text.split(',') if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated integers, got %r' % text) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError('expected comma-separated integers >= 0, got %r' % text)
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int_list, default=[10, 100, 500], help='sandbox counts (default 10,100,500)')
    parser.add_argument('--latencies', type=int_list, default=[0, 3], help='agent latencies in ms (default 0,3)')
    parser.add_argument('--shim-processes', type=int, default=0, help='simulator processes (0: one per sandbox)')
    parser.add_argument('--full-max', type=int, default=100, help='largest size at which detail=full is measured')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--settle-load', type=float, default=1.0,
                        help='before each cell, wait for the 1-minute load average to fall under this (default 1.0)')
    parser.add_argument('--settle-max', type=float, default=180, help='longest wait for it, seconds (default 180)')
    parser.add_argument('--python', default=sys.executable, help='interpreter for the modules (ansible_python_interpreter)')
    parser.add_argument('--collections-path', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
                        help='directory that holds ansible_collections/katacontainers/kata')
    parser.add_argument('--no-playbooks', action='store_true', help='skip the ansible-playbook contenders')
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.collections_path, 'ansible_collections', 'katacontainers', 'kata')):
        sys.exit('--collections-path: no ansible_collections/katacontainers/kata under %r' % args.collections_path)
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)  # the playbooks run from another directory
    beside = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    ansible_playbook = beside if os.access(beside, os.X_OK) else shutil.which('ansible-playbook') or 'ansible-playbook'

    cells = []
    for latency in args.latencies:
        for size in args.sizes:
            settle(args.settle_load, args.settle_max)
            cell = measure_cell(args, size, latency, ansible_playbook)
            cells.append(cell)
            print('\n%d sandboxes, agent latency %d ms, %d rounds, medians (load average %.1f at the start, %.1f at '
                  'the end, %d CPUs); %.1f MB of metrics text per scrape of all'
                  % (size, latency, args.rounds, cell['loadavg_start'][0], cell['loadavg_end'][0], os.cpu_count(),
                     cell['bytes'].get('metrics_text', 0) / 1e6))
            print('%-15s %10s %8s  %s' % ('contender', 'median', 'ratio', 'rounds'))
            for name, value in cell['median_s'].items():
                print('%-15s %8.3f s %8.2f  %s' % (name, value, cell['ratio_to_sequential'][name],
                                                   ' '.join('%.3f' % x for x in cell['all_s'].get(name, []))))
            print('result bytes: %s' % ', '.join('%s %d' % item for item in sorted(cell['bytes'].items())))
            sys.stdout.flush()
    goal_cell = [c for c in cells if c['sandboxes'] == 100 and c['agent_latency_ms'] == 3]
    report = {'cpus': os.cpu_count(), 'cells': cells}
    if goal_cell:
        cell = goal_cell[0]
        goal = (cell['median_s']['module'] <= 0.5 * cell['median_s']['sequential']
                and cell['median_s'].get('task', 0) < 2.0)
        report['goal_met'] = goal
        print('\ngoal (100 sandboxes, 3 ms: module <= 0.5 x sequential, task < 2 s): %s' % ('met' if goal else 'NOT met'))
    out = os.path.join(HERE, 'results')
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, 'metrics.json'), 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=2)
    print('results in benchmarks/results/metrics.json')


if __name__ == '__main__':
    main()
