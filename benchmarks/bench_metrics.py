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
import subprocess
import sys
import tempfile
import time

import _bench

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


def write_playbook(directory, name, module, module_args):
    """A playbook running the one task ``module`` on localhost."""
    return _bench.write_playbook(os.path.join(directory, '%s.yml' % name), [(name, module, module_args)])


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
    sim = [sys.executable, _bench.SIMULATOR, '--root', root]
    env = _bench.ansible_env(args.collections_path, args.python)
    module_env = _bench.module_env(env, args.collections_path)
    load_start = os.getloadavg()  # unrounded, as the cell reports it
    try:
        dummy, out = _bench.run(sim + ['start', '--sandboxes', str(size), '--rs', '0', '--max-lifetime', '3600',
                                '--shim-processes', str(args.shim_processes), '--agent-latency', str(latency)])
        state = json.loads(out)
        sockets = [s['socket'] for s in sorted(state['sandboxes'], key=lambda s: s['id'])]
        common = {'sandbox_id': 'all', 'sandbox_root': state['sandbox_root'], 'rs_sandbox_root': state['rs_sandbox_root']}
        variants = {'module': common, 'module_small': dict(common, families=SMALL)}
        if size <= args.full_max:
            variants['module_full'] = dict(common, detail='full')
        arg_files = dict((name, _bench.write_module_args(os.path.join(work, '%s.json' % name), margs))
                         for name, margs in variants.items())
        playbooks = {}
        if not args.no_playbooks:
            playbooks = {
                'task': write_playbook(work, 'task', 'katacontainers.kata.kata_metrics', common),
                'task_small': write_playbook(work, 'task_small', 'katacontainers.kata.kata_metrics',
                                             variants['module_small']),
                'ping': write_playbook(work, 'ping', 'ansible.builtin.ping', {}),
            }
        result_bytes = {}

        def module(name):
            def contender():
                elapsed, out = _bench.run([args.python, '-m', MODULE, arg_files[name]], env=module_env)
                result = json.loads(out)
                if result.get('scraped') != size or result.get('failures'):
                    sys.exit('%s scraped %r of %d sandboxes: %r'
                             % (name, result.get('scraped'), size, result.get('errors') or result.get('msg')))
                result_bytes[name] = len(out)
                return elapsed
            return contender

        def playbook(name):
            return lambda: _bench.run([ansible_playbook, '-i', 'localhost,', playbooks[name]], env=env)[0]

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
            for name, contender in _bench.rotation(contenders, index):
                times[name].append(contender())
            get_times.append(get_round()[0])
    finally:
        subprocess.run(sim + ['stop'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    medians = _bench.medians(dict(times, concurrent_get=get_times))
    base = medians['sequential']
    return {'sandboxes': size, 'agent_latency_ms': latency, 'shim_processes': args.shim_processes,
            'rounds': args.rounds, 'loadavg_start': load_start, 'loadavg_end': os.getloadavg(),
            'median_s': dict((k, round(v, 3)) for k, v in medians.items()),
            'all_s': dict((k, [round(x, 3) for x in v]) for k, v in times.items()),
            'ratio_to_sequential': dict((k, round(v / base, 2)) for k, v in medians.items()),
            'bytes': result_bytes}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=_bench.int_list, default=[10, 100, 500], help='sandbox counts (default 10,100,500)')
    parser.add_argument('--latencies', type=_bench.int_list, default=[0, 3], help='agent latencies in ms (default 0,3)')
    parser.add_argument('--shim-processes', type=int, default=0, help='simulator processes (0: one per sandbox)')
    parser.add_argument('--full-max', type=int, default=100, help='largest size at which detail=full is measured')
    _bench.add_common_arguments(parser, rounds=3)
    parser.add_argument('--settle-load', type=float, default=1.0,
                        help='before each cell, wait for the 1-minute load average to fall under this (default 1.0)')
    parser.add_argument('--settle-max', type=float, default=180, help='longest wait for it, seconds (default 180)')
    parser.add_argument('--no-playbooks', action='store_true', help='skip the ansible-playbook contenders')
    args = parser.parse_args()
    _bench.check_collections_path(args.collections_path)
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)  # the playbooks run from another directory
    ansible_playbook = _bench.ansible_playbook()

    cells = []
    for latency in args.latencies:
        for size in args.sizes:
            # a 500-sandbox cell leaves the load average high for a minute after its processes are gone
            _bench.settle(args.settle_load, args.settle_max)
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
    _bench.write_results('metrics', report)
    print('results in benchmarks/results/metrics.json')


if __name__ == '__main__':
    main()
