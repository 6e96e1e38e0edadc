# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crashes and concurrency: ``kill -9`` at random points while the collection writes files, and parallel tasks on the
same objects.

Writers under test:

* ``kata_direct_volume`` (its module process) writing, replacing and removing a volume's record
  (``mountInfo.json`` in a 0700 directory). Each run changes the record (A -> B -> absent -> A...). A third of the
  runs are killed at a uniformly random time; the others are killed a random 0-4 ms after the first write the
  process makes in the volume root (seen with inotify), which puts the kill inside the write, the fsync or the rename.
  After every run the record must be exactly the one before or the one wanted (bytes compared), never a directory
  without its file, nor a file with other content. Two readers read the record all along, the way kata does (the
  directory, then ``mountInfo.json`` in it): they must never see a volume without its file, nor a partial file.
* The metrics role's textfile: the role writes it with ``ansible.builtin.copy`` to a staging name, then renames it
  into place with ``mv -f -T``. The same two processes, with the role's arguments, are run and killed at random.
  The textfile must always be the previous or the new one.
* The preflight role's report files (JSON, Markdown, HTML), written by ``ansible.builtin.copy``: same check per
  file.

Parallel tasks: eight kata_direct_volume processes at once on the same volume (different wanted records, and
absent); six kata_iptables processes at once on the same sandbox of a simulated node with two different rule sets.
Afterwards every process ended cleanly (success, or a failure with a message and no traceback) and the state is one
of the wanted ones.

Leftovers (temporary files of killed writers, under names no reader takes) are counted and reported, not failed;
kata_direct_volume's are left in place for its next run, which must remove them.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
import zlib

import rlib

IN_MODIFY = 0x2
IN_CLOSE_WRITE = 0x8
IN_MOVED_FROM = 0x40
IN_MOVED_TO = 0x80
IN_CREATE = 0x100
IN_DELETE = 0x200
VOLUME = '/dev/kr-crash-volume'
MOUNT_INFOS = {
    'A': {'volume_type': 'block', 'device': '/dev/kr-a', 'fstype': 'ext4', 'metadata': {'fsGroup': '1000'},
          'options': ['ro']},
    'B': {'volume_type': 'mountedfs', 'device': '/dev/kr-b' + 'x' * 3000, 'fstype': 'xfs',
          'metadata': dict(('k%03d' % i, 'v' * 40) for i in range(100)), 'options': ['rw', 'noatime']},
}
CYCLE = ('A', 'B', 'absent')


class Inotify(object):
    """Linux inotify through ctypes: ``watch(path, mask)``, ``wait(timeout)`` -> True when an event came."""

    def __init__(self):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_init1')

    def watch(self, path, mask):
        return self.libc.inotify_add_watch(self.fd, os.fsencode(path), mask) >= 0

    def drain(self):
        try:
            while os.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass

    def wait(self, timeout):
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if ready:
            self.drain()
            return True
        return False

    def close(self):
        os.close(self.fd)


def spawn(ws, module, args):
    path = rlib.module_args_file(ws, args)
    return subprocess.Popen(rlib.module_command(ws, module, path), cwd=ws.cwd, env=ws.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def kill(proc):
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except OSError:
        pass


# --------------------------------------------------------------------------------------------------------------------
# kata_direct_volume under kill -9


class VolumeRecord(object):
    """What the record of VOLUME looks like on disk, judged against the wanted versions."""

    def __init__(self, root):
        from ansible_collections.katacontainers.kata.plugins.module_utils import _mount_info as mi
        from ansible_collections.katacontainers.kata.plugins.module_utils import _volume_store as vs

        self.root = root
        self.directory = vs.volume_directory(root, VOLUME)
        self.expected = dict((name, mi.dump_mount_info(mi.build_mount_info(info))) for name, info in MOUNT_INFOS.items())

    def read_like_kata(self):
        """One read of the record as a reader sees it at one moment (kata reads ``<dir>/mountInfo.json``): ``absent``,
        ``A``, ``B``, ``incomplete`` (the directory is at its name without mountInfo.json) or ``partial: <why>``.

        The directory is opened first, then the file in it; when the file is missing, the directory still being at
        the record's name (the same inode) proves that it was there, without the file, at the moment of the read
        (a record being removed is renamed away before it is emptied, and nothing is ever renamed back).
        """
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            dir_fd = os.open(self.directory, flags)
        except FileNotFoundError:
            return 'absent'
        except OSError as exc:
            return 'partial: the record cannot be opened as a directory: %s' % exc
        try:
            try:
                fd = os.open('mountInfo.json', os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
            except FileNotFoundError:
                try:
                    still_there = os.lstat(self.directory).st_ino == os.fstat(dir_fd).st_ino
                except FileNotFoundError:
                    still_there = False
                return 'incomplete' if still_there else 'absent'
            try:
                chunks = []
                while True:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                data = b''.join(chunks)
            finally:
                os.close(fd)
        finally:
            os.close(dir_fd)
        for name, expected in self.expected.items():
            if data == expected:
                return name
        return 'partial: mountInfo.json holds %d bytes that are neither version' % len(data)

    def state(self):
        """``absent``, ``A``, ``B``, ``incomplete`` (the directory without mountInfo.json), or ``partial: <why>``."""
        if not os.path.lexists(self.directory):
            return 'absent'
        if not os.path.isdir(self.directory) or os.path.islink(self.directory):
            return 'partial: the record is not a directory'
        path = os.path.join(self.directory, 'mountInfo.json')
        if not os.path.lexists(path):
            # kata's own two steps (MkdirAll, then the file) would leave this; the collection creates a record whole.
            return 'incomplete'
        with open(path, 'rb') as f:
            data = f.read()
        for name, expected in self.expected.items():
            if data == expected:
                mode = os.stat(path).st_mode & 0o777
                return name if mode == 0o600 else 'partial: mountInfo.json has mode %o' % mode
        return 'partial: mountInfo.json holds %d bytes that are neither version' % len(data)

    def leftovers(self):
        """Temporary names of killed writers in the volume root, left in place: the next run removes them itself."""
        return set(name for name in os.listdir(self.root) if name.startswith('.kata-'))


class Reader(object):
    """A reader beside the kill loop: reads the record the way kata does, again and again, and counts what it saw."""

    def __init__(self, record):
        self.record = record
        self.reads = 0
        self.seen = {}
        self.bad = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop)

    def _loop(self):
        while not self.stopped.is_set():
            state = self.record.read_like_kata()
            self.reads += 1
            self.seen[state] = self.seen.get(state, 0) + 1
            if (state == 'incomplete' or state.startswith('partial')) and len(self.bad) < 20:
                self.bad.append(state)
            time.sleep(0.0005)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join()

    def incomplete(self):
        return sum(n for state, n in self.seen.items() if state == 'incomplete' or state.startswith('partial'))


def volume_args(root, target):
    args = {'volume_path': VOLUME, 'volume_root': root, 'state': 'absent' if target == 'absent' else 'present'}
    if target != 'absent':
        args['mount_info'] = MOUNT_INFOS[target]
    return args


def direct_volume_kill_loop(ws, runs, out):
    root = ws.mkdir('dv-crash')
    record = VolumeRecord(root)
    rng = random.Random(20260)
    results = []
    previous = record.state()
    kills = incomplete = 0
    leftover_names = set()
    durations = []
    readers = [Reader(record) for dummy in range(2)]
    for reader in readers:
        reader.start()
    for index in range(runs):
        target = CYCLE[index % len(CYCLE)]
        triggered = index % 3 != 0
        notify = Inotify()
        notify.watch(root, IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE)
        if os.path.isdir(record.directory):
            notify.watch(record.directory, IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MODIFY)
        start = time.monotonic()
        proc = spawn(ws, 'kata_direct_volume', volume_args(root, target))
        killed = False
        if triggered:
            deadline = start + 10
            while proc.poll() is None and time.monotonic() < deadline:
                if notify.wait(0.05):
                    time.sleep(rng.uniform(0, 0.004))
                    kill(proc)
                    killed = True
                    break
        else:
            limit = (sorted(durations)[len(durations) // 2] if durations else 0.3) * 1.2
            time.sleep(rng.uniform(0, limit))
            if proc.poll() is None:
                kill(proc)
                killed = True
        stdout, stderr = proc.communicate()
        elapsed = time.monotonic() - start
        notify.close()
        killed = killed and proc.returncode == -signal.SIGKILL
        kills += killed
        state = record.state()
        problems, counts = [], {}
        if state.startswith('partial'):
            problems.append(state)
            counts['partial'] = 1
        elif state == 'incomplete':
            # A volume directory without mountInfo.json: kata reads a volume without mount information.
            incomplete += 1
            counts['incomplete'] = 1
            problems.append('the record is a volume directory without mountInfo.json (%s -> %s, %s)'
                            % (previous, target, 'killed' if killed else 'finished'))
        elif state not in (previous, target):
            problems.append('the record is %s: neither the one before (%s) nor the wanted one (%s)'
                            % (state, previous, target))
            counts['partial'] = 1
        if not killed:
            durations.append(elapsed)
            outcome = rlib.Outcome(proc.returncode, stdout, stderr, rlib.parse_result(stdout), elapsed, False)
            if outcome.traceback():
                problems.append('traceback: %s' % outcome.traceback())
                counts['tracebacks'] = 1
            elif outcome.failed:
                problems.append('the run failed: %s' % outcome.msg)
            elif state != target:
                problems.append('a run that finished left %s, not %s' % (state, target))
        found = record.leftovers()
        leftover_names.update(found)
        counts['kill_runs'] = 1
        results.append(rlib.CaseResult('crash', 'kata_direct_volume', 'kill -9 run %d (%s -> %s, %s)' % (
            index, previous, target, 'killed' if killed else 'finished'), 'intact', problems, elapsed=elapsed,
            note='leftovers: %d' % len(found), counts=counts))
        previous = state if not state.startswith('partial') else previous
    for reader in readers:
        reader.stop()
    reads = sum(reader.reads for reader in readers)
    seen_incomplete = sum(reader.incomplete() for reader in readers)
    seen = {}
    for reader in readers:
        for state, number in reader.seen.items():
            seen[state] = seen.get(state, 0) + number
    problems = ['the readers saw %s' % ', '.join(sorted(set(b for r in readers for b in r.bad)))] if seen_incomplete else []
    results.append(rlib.CaseResult('crash', 'kata_direct_volume', 'readers during the kill loop', 'intact', problems,
                                   note='%d reads: %s' % (reads, seen),
                                   counts={'incomplete_read': seen_incomplete, 'reads': reads}))
    # A killed run must not stop the next ones from working, and the next run removes what killed runs left.
    outcome = rlib.run_module(ws, 'kata_direct_volume', volume_args(root, 'A'))
    problems = []
    if outcome.failed or record.state() != 'A':
        problems.append('after the kill loop the module cannot write the record: %s' % (outcome.msg or record.state()))
    remaining = record.leftovers()
    if remaining:
        problems.append('a run after the kill loop left the temporary names of killed runs: %s' % sorted(remaining))
    results.append(rlib.CaseResult('crash', 'kata_direct_volume', 'a run after the kill loop', 'intact', problems,
                                   elapsed=outcome.elapsed))
    out.write('crash: kata_direct_volume: %d runs, %d killed mid-run, %d incomplete records after the runs; 2 readers '
              'beside them: %d reads (%s), %d incomplete or partial; %d temporary names left by killed runs (removed '
              'by the next run: %d left at the end)\n'
              % (runs, kills, incomplete, reads, ', '.join('%s %d' % kv for kv in sorted(seen.items())),
                 seen_incomplete, len(leftover_names), len(remaining)))
    return results


# --------------------------------------------------------------------------------------------------------------------
# Files written with ansible.builtin.copy (the roles' writers), under kill -9


def copy_command(ws, src, dest, mode='0644'):
    args = {'src': src, 'dest': dest, 'mode': mode, '_original_basename': os.path.basename(dest)}
    path = rlib.module_args_file(ws, args)
    return [ws.python, '-m', 'ansible.modules.copy', path]


def prometheus_text(version, size):
    lines = ['# Kata Containers sandbox metrics, written by the katacontainers.kata metrics role: version %s' % version,
             '# HELP kata_guest_load Guest system load.', '# TYPE kata_guest_load gauge']
    index = 0
    while sum(len(line) + 1 for line in lines) < size:
        lines.append('kata_guest_load{sandbox_id="sb%04d",item="load1"} %d.%d' % (index, index, len(version)))
        index += 1
    return ('\n'.join(lines) + '\n').encode('ascii')


def kill_steps(ws, steps, rng, budget):
    """Run ``steps`` (argv lists) one after the other; SIGKILL whichever runs ``rng.uniform(0, budget)`` seconds after
    the start. Returns True when a process was killed."""
    moment = time.monotonic() + rng.uniform(0, budget)
    for argv in steps:
        proc = subprocess.Popen(argv, cwd=ws.cwd, env=ws.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        while proc.poll() is None:
            if time.monotonic() >= moment:
                kill(proc)
                proc.wait()
                return True
            time.sleep(0.002)
        if proc.returncode != 0:
            return False
    return False


def copy_kill_loop(ws, runs, out, label, module, files, rename=None):
    """Kill loop for files written by ansible.builtin.copy: ``files`` maps a final path to its two versions (bytes).
    With ``rename`` (the metrics role) the copy goes to a staging path which ``mv -f -T`` then puts in place."""
    rng = random.Random(zlib.crc32(label.encode('utf-8')))
    scratch = ws.mkdir('copy-src-%s' % label.replace(' ', '-'))
    results = []
    versions = {}
    for path in files:
        versions[path] = None
    budget = None
    leftovers = kills = 0
    for index in range(runs):
        wanted = index % 2
        steps = []
        for path, contents in sorted(files.items()):
            src = os.path.join(scratch, 'src-%d-%s' % (index, os.path.basename(path)))
            with open(src, 'wb') as f:
                f.write(contents[wanted])
            if rename:
                staging = rename(path)
                steps.append(copy_command(ws, src, staging))
                steps.append(['mv', '-f', '-T', '--', staging, path])
            else:
                steps.append(copy_command(ws, src, path))
        start = time.monotonic()
        if budget is None:
            killed = kill_steps(ws, steps, rng, 1e9)
            budget = (time.monotonic() - start) * 1.1
        else:
            killed = kill_steps(ws, steps, rng, budget)
        elapsed = time.monotonic() - start
        kills += killed
        problems, counts = [], {}
        for path, contents in sorted(files.items()):
            data = None
            if os.path.lexists(path):
                with open(path, 'rb') as f:
                    data = f.read()
            allowed = [versions[path], contents[wanted]]
            if data not in allowed:
                problems.append('%s holds %s bytes: neither the previous version nor the new one'
                                % (os.path.basename(path), 'no' if data is None else len(data)))
                counts['partial'] = 1
            if rename:
                staging = rename(path)
                if os.path.lexists(staging):
                    with open(staging, 'rb') as f:
                        if f.read() not in contents:
                            problems.append('the staging file %s is partial' % os.path.basename(staging))
                            counts['partial'] = 1
            versions[path] = data
            if not killed and data != contents[wanted]:
                problems.append('%s was not written by a run that finished' % os.path.basename(path))
        for path in files:
            directory = os.path.dirname(path)
            for name in os.listdir(directory):
                if name.startswith('.ansible_tmp'):
                    leftovers += 1
                    os.unlink(os.path.join(directory, name))
        for name in os.listdir(scratch):
            os.unlink(os.path.join(scratch, name))
        results.append(rlib.CaseResult('crash', module, 'kill -9 %s run %d (%s)' % (label, index,
                                                                                    'killed' if killed else 'finished'),
                                       'intact', problems, elapsed=elapsed, counts=counts))
    out.write('crash: %s: %d runs, %d killed mid-run, %d temporary files left by killed runs\n'
              % (label, runs, kills, leftovers))
    return results


def textfile_kill_loop(ws, runs, out):
    directory = ws.mkdir('node-exporter')
    final = os.path.join(directory, 'kata.prom')
    files = {final: (prometheus_text('old', 400000), prometheus_text('new-and-longer', 600000))}
    return copy_kill_loop(ws, runs, out, 'metrics role textfile', 'role metrics', files,
                          rename=lambda path: os.path.join(directory, '.kata.prom.0123456789ab.tmp'))


def report_kill_loop(ws, runs, out):
    directory = ws.mkdir('preflight-report')
    files = {}
    for ext in ('json', 'md', 'html'):
        old = json.dumps({'version': 'old', 'hosts': ['h%d' % i for i in range(3000)]}).encode()
        new = json.dumps({'version': 'new', 'hosts': ['host-%d' % i for i in range(5000)]}).encode()
        files[os.path.join(directory, 'preflight.%s' % ext)] = (old, new)
    return copy_kill_loop(ws, runs, out, 'preflight report', 'role preflight', files)


# --------------------------------------------------------------------------------------------------------------------
# Parallel tasks on the same objects


def parallel_direct_volume(ws, rounds, out):
    root = ws.mkdir('dv-parallel')
    record = VolumeRecord(root)
    results = []
    rng = random.Random(7)
    for index in range(rounds):
        targets = [rng.choice(CYCLE) for dummy in range(8)]
        procs = [spawn(ws, 'kata_direct_volume', volume_args(root, t)) for t in targets]
        start = time.monotonic()
        problems, counts = [], {}
        for proc in procs:
            stdout, stderr = proc.communicate()
            outcome = rlib.Outcome(proc.returncode, stdout, stderr, rlib.parse_result(stdout), 0, False)
            if outcome.traceback():
                problems.append('traceback: %s' % outcome.traceback())
                counts['tracebacks'] = 1
            elif outcome.failed:
                problems.append('a run failed: %s' % outcome.msg)
        state = record.state()
        if state not in targets:
            problems.append('the record is %s after runs wanting %s' % (state, ', '.join(sorted(set(targets)))))
            counts['partial'] = 1
        found = record.leftovers()
        if found:
            problems.append('temporary files left by runs that finished: %s' % sorted(found))
        results.append(rlib.CaseResult('crash', 'kata_direct_volume', 'parallel round %d (%s)' % (
            index, ' '.join(targets)), 'intact', problems, elapsed=time.monotonic() - start, counts=counts))
    out.write('crash: kata_direct_volume: %d rounds of 8 parallel runs\n' % rounds)
    return results


RULES = {
    'R1': '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n'
          '-A INPUT -s 192.0.2.1/32 -j DROP\nCOMMIT\n',
    'R2': '*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n'
          '-A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -i lo -j ACCEPT\nCOMMIT\n',
}


def parallel_iptables(ws, rounds, out):
    from ansible_collections.katacontainers.kata.plugins.module_utils import _iptables
    from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import ShimClient

    sim = rlib.SimNode(ws, 'ipt', ['--sandboxes', '1'])
    results = []
    try:
        sandbox = sim.sandboxes[0]
        client = ShimClient(sim.by_id[sandbox]['socket'], timeout=10)
        wanted = dict((k, _iptables.parse_ruleset(v)) for k, v in RULES.items())
        rng = random.Random(11)
        for index in range(rounds):
            choice = [rng.choice(sorted(RULES)) for dummy in range(6)]
            procs = [spawn(ws, 'kata_iptables', {'sandbox_id': sandbox, 'sandbox_root': sim.sandbox_root,
                                                 'rs_sandbox_root': sim.rs_sandbox_root, 'rules': RULES[c],
                                                 'timeout': 20}) for c in choice]
            start = time.monotonic()
            problems, counts = [], {}
            for proc in procs:
                stdout, stderr = proc.communicate()
                outcome = rlib.Outcome(proc.returncode, stdout, stderr, rlib.parse_result(stdout), 0, False)
                if outcome.traceback():
                    problems.append('traceback: %s' % outcome.traceback())
                    counts['tracebacks'] = 1
                elif outcome.failed and 'still differ from the wanted ones' not in outcome.msg:
                    # "applied, but the rules it reports now still differ": another task won the race (a clean failure)
                    problems.append('a run failed: %s' % outcome.msg)
            live = client.get('/iptables').decode('utf-8', 'replace')
            matching = [name for name, tables in sorted(wanted.items())
                        if not _iptables.verify(live, tables)]
            if not matching:
                problems.append('the live rules are none of the wanted sets: %r' % live[:300])
                counts['partial'] = 1
            results.append(rlib.CaseResult('crash', 'kata_iptables', 'parallel round %d (%s)' % (index, ' '.join(choice)),
                                           'intact', problems, elapsed=time.monotonic() - start, counts=counts,
                                           note='live rules: %s' % ', '.join(matching)))
    finally:
        sim.stop()
    out.write('crash: kata_iptables: %d rounds of 6 parallel runs on one sandbox\n' % rounds)
    return results


def parallel_textfile(ws, rounds, out):
    directory = ws.mkdir('node-exporter-parallel')
    final = os.path.join(directory, 'kata.prom')
    versions = [prometheus_text('writer-%d' % i, 200000 + i * 1000) for i in range(4)]
    results = []
    for index in range(rounds):
        threads = []
        for writer, content in enumerate(versions):
            src = os.path.join(directory, '..', 'src-%d-%d' % (index, writer))
            with open(src, 'wb') as f:
                f.write(content)
            staging = os.path.join(directory, '.kata.prom.%012d.tmp' % writer)
            steps = [copy_command(ws, src, staging), ['mv', '-f', '-T', '--', staging, final]]
            threads.append(threading.Thread(target=kill_steps, args=(ws, steps, random.Random(writer), 1e9)))
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        problems, counts = [], {}
        with open(final, 'rb') as f:
            if f.read() not in versions:
                problems.append('the textfile is none of the versions written')
                counts['partial'] = 1
        results.append(rlib.CaseResult('crash', 'role metrics', 'parallel textfile writers round %d' % index,
                                       'intact', problems, elapsed=time.monotonic() - start, counts=counts))
    out.write('crash: metrics role textfile: %d rounds of 4 parallel writers\n' % rounds)
    return results


def run(python, runs=200, out=sys.stdout, keep=False, full=False):
    """The kill loops and the parallel rounds, in two streams at once (they touch separate directories)."""
    import io

    ws = rlib.Workspace(python=python, keep=keep)
    try:
        copy_runs = 200 if full else max(25, runs // 8)
        streams = [io.StringIO(), io.StringIO()]
        outcome = [[], []]

        def first():
            outcome[0] = direct_volume_kill_loop(ws, runs, streams[0])
            outcome[0] += parallel_direct_volume(ws, 10 if not full else 50, streams[0])

        def second():
            outcome[1] = textfile_kill_loop(ws, copy_runs, streams[1])
            outcome[1] += report_kill_loop(ws, copy_runs, streams[1])
            outcome[1] += parallel_iptables(ws, 4 if not full else 20, streams[1])
            outcome[1] += parallel_textfile(ws, 3 if not full else 10, streams[1])

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for stream in streams:
            out.write(stream.getvalue())
        return outcome[0] + outcome[1]
    finally:
        ws.close()
