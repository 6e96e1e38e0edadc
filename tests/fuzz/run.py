# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the atheris fuzz targets (tests/fuzz/fuzz_*.py): briefly in CI, at length by hand.

    python tests/fuzz/run.py                           # every target, 20 s in all (2 at a time)
    python tests/fuzz/run.py --seconds 3600 --jobs 2   # an hour in all
    python tests/fuzz/run.py --target iptables --seconds 600 --corpus ~/kata-fuzz-corpus
    python tests/fuzz/fuzz_iptables.py -max_total_time=60 CORPUS_DIR   # one target, libFuzzer flags

Each target starts from its seeds (and from ``--corpus DIR/<target>`` when given: the corpus grows there between
runs). A crash (an exception the parser does not document, or a broken invariant) stops the target; the input is
saved as ``crash-<sha1>`` in the artifacts directory and printed. The run ends with ``fuzz: N passed, M failed``.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))


def targets():
    return sorted(os.path.basename(p)[len('fuzz_'):-3] for p in glob.glob(os.path.join(HERE, 'fuzz_*.py')))


class TargetResult(object):
    __slots__ = ('name', 'ok', 'runs', 'seconds', 'crashes', 'output')

    def __init__(self, name, ok, runs, seconds, crashes, output):
        self.name = name
        self.ok = ok
        self.runs = runs
        self.seconds = seconds
        self.crashes = crashes
        self.output = output


def run_target(name, seconds, python, env, work, corpus=None):
    """Fuzz one target for ``seconds``; a TargetResult."""
    script = os.path.join(HERE, 'fuzz_%s.py' % name)
    seeds = os.path.join(work, 'seeds-%s' % name)
    subprocess.run([python, script, '--write-seeds', seeds], env=env, check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)
    artifacts = os.path.join(work, 'artifacts-%s' % name)
    os.makedirs(artifacts)
    dirs = []
    if corpus:
        dirs.append(os.path.join(corpus, name))
        os.makedirs(dirs[0], exist_ok=True)
    else:
        dirs.append(os.path.join(work, 'corpus-%s' % name))
        os.makedirs(dirs[0])
    dirs.append(seeds)
    start = time.monotonic()
    proc = subprocess.run([python, script, '-max_total_time=%d' % max(1, int(seconds)), '-timeout=20',
                           '-rss_limit_mb=3072', '-max_len=65536', '-print_final_stats=1',
                           '-artifact_prefix=%s/' % artifacts] + dirs,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=work, check=False)
    elapsed = time.monotonic() - start
    output = proc.stdout.decode('utf-8', 'replace')
    crashes = sorted(glob.glob(os.path.join(artifacts, '*')))
    match = re.search(r'Done (\d+) runs', output) or re.search(r'stat::number_of_executed_units:\s*(\d+)', output)
    runs = int(match.group(1)) if match else 0
    kept = []
    for path in crashes:
        keep = os.path.join(REPO, 'tests', 'output', 'fuzz', '%s-%s' % (name, os.path.basename(path)))
        os.makedirs(os.path.dirname(keep), exist_ok=True)
        shutil.copyfile(path, keep)
        kept.append(keep)
    return TargetResult(name, proc.returncode == 0 and not crashes, runs, elapsed, kept, output)


def run(seconds=20.0, names=None, jobs=2, python=None, corpus=None, out=sys.stdout):
    """Fuzz ``names`` (default: all), ``seconds`` in all, ``jobs`` at a time; a list of TargetResult."""
    python = python or sys.executable
    names = names or targets()
    work = tempfile.mkdtemp(prefix='kata-fuzz-')
    collections = os.path.join(work, 'collections')
    os.makedirs(os.path.join(collections, 'ansible_collections', 'katacontainers'))
    os.symlink(REPO, os.path.join(collections, 'ansible_collections', 'katacontainers', 'kata'))
    env = dict(os.environ, KATA_FUZZ_COLLECTIONS=collections, KATA_FUZZ_WORK=work)
    env.pop('PYTHONDONTWRITEBYTECODE', None)
    per_target = max(1.0, float(seconds) * jobs / len(names))
    out.write('fuzz: %d targets, %.0f s each, %d at a time\n' % (len(names), per_target, jobs))
    out.flush()
    results = []
    queue = list(names)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                name = queue.pop(0)
            result = run_target(name, per_target, python, env, work, corpus)
            with lock:
                results.append(result)
                out.write('  %-4s %-18s %9d runs in %5.1f s%s\n' % (
                    'ok' if result.ok else 'FAIL', name, result.runs, result.seconds,
                    '' if result.ok else ': crash saved as %s' % ', '.join(result.crashes)))
                if not result.ok:
                    tail = result.output.strip().splitlines()[-40:]
                    out.write('\n'.join('       | ' + line for line in tail) + '\n')
                out.flush()

    try:
        threads = [threading.Thread(target=worker) for dummy in range(max(1, jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sorted(results, key=lambda r: r.name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=20.0, help='total fuzzing time (default 20)')
    parser.add_argument('--target', action='append', choices=targets(), help='only this target (repeatable)')
    parser.add_argument('--jobs', type=int, default=2, help='targets fuzzed at the same time')
    parser.add_argument('--corpus', help='keep and grow the corpus in DIR/<target> (for runs at length)')
    options = parser.parse_args(argv)
    results = run(options.seconds, options.target, options.jobs, corpus=options.corpus)
    failed = [r for r in results if not r.ok]
    print('fuzz: %d passed, %d failed' % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
