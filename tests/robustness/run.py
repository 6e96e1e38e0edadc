# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The robustness suite's runner: runs the parts, prints the totals per module, ends with
``robustness: N passed, M failed`` and exits non-zero when anything failed.

    python tests/robustness/run.py                      # everything, CI sizes (a few minutes)
    python tests/robustness/run.py --parts matrix,peers # some parts
    python tests/robustness/run.py --full               # longer: the whole matrix, more crash runs, longer fuzzing

Run it as root with the collection's virtualenv Python (``make robustness`` does both). See README.md.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rlib  # noqa: E402  pylint: disable=wrong-import-position

PARTS = ('matrix', 'peers', 'crash', 'hostile', 'fuzz')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--parts', default=','.join(PARTS), help='comma-separated: %s' % ', '.join(PARTS))
    parser.add_argument('--modules', default=','.join(rlib.MODULES), help='modules of the matrix')
    parser.add_argument('--jobs', type=int, default=3, help='isolated matrix workers (one simulated node each)')
    parser.add_argument('--full', action='store_true', help='the whole matrix, longer crash loops and fuzzing')
    parser.add_argument('--crash-runs', type=int, default=None, help='kill -9 runs of kata_direct_volume')
    parser.add_argument('--fuzz-seconds', type=float, default=None, help='total fuzzing time')
    parser.add_argument('--limit', type=int, default=None, help='run only the first N matrix cases (debugging)')
    parser.add_argument('--serial', action='store_true', help='do not fuzz while the broken peers run')
    parser.add_argument('--keep', action='store_true', help='keep the scratch directories')
    parser.add_argument('--verbose', action='store_true', help='list every case')
    options = parser.parse_args(argv)
    if os.geteuid() != 0:
        print('robustness: run as root (the hostile-host cases need root, the simulated node uses network namespaces)')
    parts = [p for p in options.parts.split(',') if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error('unknown parts: %s' % ', '.join(sorted(unknown)))
    python = sys.executable
    out = sys.stdout
    # A SIGTERM (a CI timeout) unwinds like Ctrl-C, so that simulated nodes are stopped and scratch directories removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    rlib.make_importable()
    started = time.monotonic()
    results = []
    timings = []
    beside = None
    if 'fuzz' in parts and 'peers' in parts and not options.serial and not options.full:
        # The fuzzers need the CPU, the broken peers mostly wait for their timeouts: they run side by side (not with
        # --full: ten minutes of fuzzing on every CPU would stretch the peers' time bounds).
        beside = Background(lambda stream: run_part('fuzz', options, python, stream))
        parts = [p for p in parts if p != 'fuzz']
    for part in parts:
        begin = time.monotonic()
        out.write('\n== %s ==\n' % part)
        out.flush()
        if part == 'peers' and beside is not None:
            beside.start()
        got = run_part(part, options, python, out)
        timings.append((part, time.monotonic() - begin, len(got)))
        report_part(part, got, options, out)
        results.extend(got)
        if part == 'peers' and beside is not None:
            fuzzed = beside.join()
            out.write('\n== fuzz (ran beside the peers) ==\n%s' % beside.stream.getvalue())
            timings.append(('fuzz', beside.elapsed, len(fuzzed)))
            report_part('fuzz', fuzzed, options, out)
            results.extend(fuzzed)
    rlib.print_table(results, out=out, title='all parts: totals per module')
    failed = [r for r in results if not r.passed]
    if failed:
        out.write('\nfailures:\n')
        for r in failed:
            out.write('  [%s] %s: %s\n' % (r.part, r.name, '; '.join(r.problems)[:800]))
    out.write('\ntime: %s; total %.1f s\n' % (', '.join('%s %.1f s (%d cases)' % t for t in timings),
                                              time.monotonic() - started))
    out.write('robustness: %d passed, %d failed\n' % (len(results) - len(failed), len(failed)))
    out.flush()
    return 1 if failed else 0


class Background(object):
    """A part run in a thread; its output is kept until it is shown."""

    def __init__(self, function):
        self.stream = io.StringIO()
        self.function = function
        self.results = []
        self.elapsed = 0.0
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        begin = time.monotonic()
        try:
            self.results = self.function(self.stream)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            self.results = [rlib.CaseResult('fuzz', 'fuzz', 'the fuzz part', 'error', ['it failed: %r' % exc])]
        self.elapsed = time.monotonic() - begin

    def start(self):
        self.thread.start()

    def join(self):
        self.thread.join()
        return self.results


def run_part(part, options, python, out):
    """The CaseResults of one part."""
    if part == 'matrix':
        import matrix
        modules = [m for m in options.modules.split(',') if m]
        return matrix.run(python, jobs=options.jobs, modules=modules, out=out, keep=options.keep, limit=options.limit,
                          sample=not options.full)
    if part == 'peers':
        import peers
        return peers.run(python, out=out, keep=options.keep)
    if part == 'crash':
        import crash
        runs = options.crash_runs or (1000 if options.full else 200)
        return crash.run(python, runs=runs, out=out, keep=options.keep, full=options.full)
    if part == 'hostile':
        import hostile
        return hostile.run(python, out=out, keep=options.keep)
    import fuzzing
    seconds = options.fuzz_seconds or (600.0 if options.full else 20.0)
    return fuzzing.run(python, seconds=seconds, out=out)


def report_part(part, got, options, out):
    if options.verbose:
        for r in got:
            note = (r.note or '')[:120].replace('\n', ' ')
            verdict = 'ok  ' if r.passed else 'FAIL'
            out.write('  %s %-60s %-9s %6.2f %s\n' % (verdict, r.name[:60], r.kind, r.elapsed or 0, note))
    rlib.print_table(got, out=out, title='%s: totals per module' % part)


if __name__ == '__main__':
    sys.exit(main())
