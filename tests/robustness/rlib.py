# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pieces of the robustness suite: running a module the way Ansible runs it, judging what came back,
hashing file trees, the simulated node and the request log, and the per-module tallies.

A module runs as its own process, exactly as the AnsiballZ wrapper finally runs it:
``<python> -m ansible_collections.katacontainers.kata.plugins.modules.<name> <args.json>`` where ``args.json`` holds
``{"ANSIBLE_MODULE_ARGS": {...}}`` and ``PYTHONPATH`` is a directory whose ``ansible_collections/katacontainers/kata``
is this checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
SIM = os.path.join(REPO, 'tests', 'kata_sim', 'kata_sim.py')
MODULE_PACKAGE = 'ansible_collections.katacontainers.kata.plugins.modules'
MODULES = ('kata_check', 'kata_env', 'kata_runtime_info', 'kata_sandbox_info', 'kata_metrics', 'kata_iptables',
           'kata_direct_volume', 'kata_factory', 'kata_exec_cmd')
TRACEBACK_MARK = b'Traceback (most recent call last)'
# Files the simulator rewrites on every request: never part of a "did anything change" hash.
SIM_NOISE = ('requests.log', 'state.json', 'console.log', 'daemon.log', 'kata-sim.pid')


# --------------------------------------------------------------------------------------------------------------------
# Where things run


class Workspace(object):
    """One run's scratch area: a short directory under /tmp (unix socket paths must fit in 107 bytes) holding the
    ``ansible_collections`` link, the argument files and every fixture. Removed by ``close()``."""

    def __init__(self, python=None, keep=False):
        self.python = python or sys.executable
        self.keep = keep
        self.path = tempfile.mkdtemp(prefix='kr-', dir='/tmp')
        os.chmod(self.path, 0o755)
        self.collections = os.path.join(self.path, 'c')
        link = os.path.join(self.collections, 'ansible_collections', 'katacontainers')
        os.makedirs(link)
        os.symlink(REPO, os.path.join(link, 'kata'))
        self.args_dir = self.mkdir('args')
        self.cwd = self.mkdir('cwd')
        self._counter = 0
        self.env = dict(os.environ)
        self.env['PYTHONPATH'] = self.collections
        self.env['ANSIBLE_NOCOLOR'] = '1'
        self.env.pop('PYTHONDONTWRITEBYTECODE', None)
        self.env['LC_ALL'] = 'C.UTF-8'

    def mkdir(self, *parts):
        path = os.path.join(self.path, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def join(self, *parts):
        return os.path.join(self.path, *parts)

    def next_name(self, prefix):
        self._counter += 1
        return '%s-%05d' % (prefix, self._counter)

    def close(self):
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


_IMPORT_HOME = []


def make_importable():
    """Let this process import ``ansible_collections.katacontainers.kata`` (a link in a scratch directory that is
    removed at exit)."""
    if _IMPORT_HOME:
        return _IMPORT_HOME[0]
    import atexit

    home = Workspace()
    atexit.register(home.close)
    sys.path.insert(0, home.collections)
    _IMPORT_HOME.append(home)
    return home


class Outcome(object):
    """What one module process did: ``rc``, ``stdout``/``stderr`` (bytes), ``result`` (the JSON it printed, or
    None), ``elapsed`` (seconds, wall clock), ``killed`` (it outlived the runner's hard limit)."""

    __slots__ = ('rc', 'stdout', 'stderr', 'result', 'elapsed', 'killed')

    def __init__(self, rc, stdout, stderr, result, elapsed, killed):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.result = result
        self.elapsed = elapsed
        self.killed = killed

    @property
    def failed(self):
        return bool(self.result is None or self.result.get('failed'))

    @property
    def msg(self):
        if self.result is None:
            return ''
        msg = self.result.get('msg')
        return msg if isinstance(msg, str) else repr(msg)

    @property
    def changed(self):
        return bool(self.result and self.result.get('changed'))

    def traceback(self):
        """Why this counts as a traceback (a text), or None.

        Anything a user could see as a crash: a Python traceback on stdout or stderr, an ``exception`` key in the
        result (AnsibleModule shows it with -vvv), the collection's own "Unexpected error" wrapper, output that is not
        one JSON object, an exit status other than 0 and 1, or a process that had to be killed.
        """
        if self.killed:
            return 'killed after %.1f s (hung)' % self.elapsed
        if TRACEBACK_MARK in self.stdout or TRACEBACK_MARK in self.stderr:
            return 'Python traceback in the output: %s' % _tail(self.stdout + self.stderr)
        if self.result is None:
            return 'no JSON result (rc %s): %s' % (self.rc, _tail(self.stdout + self.stderr))
        if 'exception' in self.result:
            return 'result carries an exception: %s' % _tail(str(self.result['exception']).encode('utf-8', 'replace'))
        if self.msg.startswith('Unexpected error in '):
            return self.msg[:300]
        if self.rc not in (0, 1):
            return 'exit status %s' % self.rc
        return None


def _tail(data, limit=400):
    text = data.decode('utf-8', 'replace').strip()
    return text if len(text) <= limit else '...' + text[-limit:]


def module_args_file(ws, args, check_mode=False, diff=False):
    """Write ``{"ANSIBLE_MODULE_ARGS": args}`` (plus the check/diff mode flags) and return its path."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    path = os.path.join(ws.args_dir, ws.next_name('args') + '.json')
    with open(path, 'w', encoding='ascii') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, f, ensure_ascii=True)
    return path


def module_command(ws, name, args_path):
    return [ws.python, '-m', '%s.%s' % (MODULE_PACKAGE, name), args_path]


def run_module(ws, name, args, check_mode=False, diff=False, limit=120.0, env=None):
    """Run module ``name`` with ``args`` in its own process; an Outcome. ``limit`` is a hard stop for hung modules
    (the process group is killed), far above any bound the tests assert."""
    path = module_args_file(ws, args, check_mode=check_mode, diff=diff)
    environment = ws.env if env is None else dict(ws.env, **env)
    start = time.monotonic()
    proc = subprocess.Popen(module_command(ws, name, path), cwd=ws.cwd, env=environment, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    killed = False
    try:
        stdout, stderr = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        killed = True
        kill_group(proc.pid)
        stdout, stderr = proc.communicate()
    elapsed = time.monotonic() - start
    try:
        os.unlink(path)
    except OSError:
        pass
    return Outcome(proc.returncode, stdout, stderr, parse_result(stdout), elapsed, killed)


def parse_result(stdout):
    """The module's JSON result (a dict) or None when stdout is not exactly one JSON object."""
    try:
        result = json.loads(stdout.decode('utf-8'))
    except (UnicodeDecodeError, ValueError):
        return None
    return result if isinstance(result, dict) else None


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


# --------------------------------------------------------------------------------------------------------------------
# Did anything change?


def tree_digest(root, skip=()):
    """A digest of everything under ``root`` (names, types, modes, owners, link targets, file contents), not following
    symbolic links; ``skip`` are paths relative to ``root`` left out. A missing root has a digest too."""
    digest = hashlib.sha256()
    if not os.path.lexists(root):
        digest.update(b'<missing>')
        return digest.hexdigest()
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in skip)
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel in skip:
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            digest.update(('%s %o %d %d\n' % (rel, st.st_mode, st.st_uid, st.st_gid)).encode('utf-8', 'surrogateescape'))
            if stat.S_ISLNK(st.st_mode):
                digest.update(os.fsencode(os.readlink(path)))
            elif stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    chunk = f.read(1 << 20)
                    while chunk:
                        digest.update(chunk)
                        chunk = f.read(1 << 20)
    return digest.hexdigest()


def tree_listing(root, skip=()):
    """``{relative path: description}`` of a tree, for saying *what* changed."""
    listing = {}
    if not os.path.lexists(root):
        return listing
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if os.path.normpath(os.path.join(rel_dir, d)) not in skip]
        for name in dirnames + filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel in skip:
                continue
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            text = '%o' % st.st_mode
            if stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    text += ' ' + hashlib.sha256(f.read()).hexdigest()[:12]
            listing[rel] = text
    return listing


def describe_change(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    modified = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    parts = []
    for label, items in (('added', added), ('removed', removed), ('modified', modified)):
        if items:
            parts.append('%s %s' % (label, ', '.join(items[:5]) + (' ...' if len(items) > 5 else '')))
    return '; '.join(parts) or 'changed'


class Watched(object):
    """A set of directory trees whose state must not change: ``snapshot()`` then ``changes()``."""

    def __init__(self, roots):
        self.roots = list(roots)  # (root, skip)
        self._before = None
        self._listings = None

    def snapshot(self):
        self._before = [tree_digest(root, skip) for root, skip in self.roots]
        self._listings = [tree_listing(root, skip) for root, skip in self.roots]

    def changes(self):
        """A text naming what changed since the snapshot, or None."""
        found = []
        for (root, skip), digest, listing in zip(self.roots, self._before, self._listings):
            if tree_digest(root, skip) != digest:
                found.append('%s: %s' % (root, describe_change(listing, tree_listing(root, skip))))
        return '; '.join(found) or None


# --------------------------------------------------------------------------------------------------------------------
# The simulated node


class SimNode(object):
    """A running tests/kata_sim node under a short root; ``stop()`` removes it and everything it made."""

    def __init__(self, ws, name='node', args=()):
        self.ws = ws
        self.root = os.path.join(ws.path, name)
        proc = subprocess.run([ws.python, SIM, 'start', '--root', self.root, '--no-install', '--max-lifetime', '1800']
                              + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise RuntimeError('kata_sim start failed: %s' % proc.stderr.decode('utf-8', 'replace'))
        self.state = json.loads(proc.stdout.decode('utf-8'))
        self.sandbox_root = self.state['sandbox_root']
        self.rs_sandbox_root = self.state['rs_sandbox_root']
        self.volume_root = self.state['direct_volumes_root']
        self.request_log = self.state['request_log']
        self.sandboxes = [sb['id'] for sb in self.state['sandboxes']]
        self.by_id = dict((sb['id'], sb) for sb in self.state['sandboxes'])
        self._log_offset = 0

    def cmd(self, *args, **kwargs):
        proc = subprocess.run([self.ws.python, SIM, '--root', self.root] + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False, **kwargs)
        if proc.returncode != 0:
            raise RuntimeError('kata_sim %s failed: %s' % (' '.join(args), proc.stderr.decode('utf-8', 'replace')))
        return json.loads(proc.stdout.decode('utf-8') or 'null')

    def fault(self, sandbox, mode, path=None):
        args = ['fault', '--sandbox', sandbox, '--mode', mode]
        if path:
            args += ['--path', path]
        return self.cmd(*args)

    def watched(self):
        """This node's tree, without the files the simulator itself rewrites. The simulated guest's files are
        included: kata_exec_cmd must leave no history, no file in them."""
        skip = [os.path.join('kata-sim', n) for n in SIM_NOISE]
        return (self.root, tuple(skip))

    def mark_log(self):
        """Remember where the request log ends now."""
        try:
            self._log_offset = os.path.getsize(self.request_log)
        except OSError:
            self._log_offset = 0

    def requests_since_mark(self):
        """The request log entries written since ``mark_log()``."""
        try:
            with open(self.request_log, 'rb') as f:
                f.seek(self._log_offset)
                data = f.read()
        except OSError:
            return []
        entries = []
        for line in data.splitlines():
            try:
                entries.append(json.loads(line.decode('utf-8')))
            except ValueError:
                continue
        return entries

    def mutating_requests_since_mark(self):
        return [e for e in self.requests_since_mark() if e.get('method') in ('PUT', 'POST', 'PATCH', 'DELETE')]

    def stop(self):
        subprocess.run([self.ws.python, SIM, 'stop', '--root', self.root], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)


# --------------------------------------------------------------------------------------------------------------------
# Accounting


class CaseResult(object):
    """One case of one part: ``problems`` empty means it passed. ``kind`` classifies the outcome (``rejected``,
    ``accepted``, ``timed``, ``intact``...), ``counts`` adds to the module's tallies (``tracebacks``, ``changes``,
    ``partial``...)."""

    __slots__ = ('part', 'module', 'name', 'kind', 'problems', 'elapsed', 'note', 'counts')

    def __init__(self, part, module, name, kind, problems=(), elapsed=None, note=None, counts=None):
        self.part = part
        self.module = module
        self.name = name
        self.kind = kind
        self.problems = list(problems)
        self.elapsed = elapsed
        self.note = note
        self.counts = dict(counts or {})

    @property
    def passed(self):
        return not self.problems


TALLY_KEYS = ('cases', 'rejected', 'accepted', 'unnamed', 'core', 'tracebacks', 'changes', 'partial', 'slow')
# Counts reported on their own lines: the type-confusion cases of the matrix, the volume records of the crash part.
SPECIAL_KEYS = ('type_cases', 'type_accepted', 'type_tracebacks', 'kill_runs', 'incomplete', 'incomplete_read',
                'reads')


def tally(results):
    """Per-module totals: ``{module: {cases, rejected, accepted, unnamed, tracebacks, changes, partial, slow,
    max_elapsed}}``."""
    totals = {}
    for r in results:
        t = totals.setdefault(r.module, dict((k, 0) for k in TALLY_KEYS))
        t.setdefault('max_elapsed', 0.0)
        t['cases'] += 1
        if r.kind in ('rejected', 'accepted', 'unnamed'):
            t[r.kind] += 1
        elif r.kind == 'core':
            pass  # counted through counts['core']
        for key, value in r.counts.items():
            t[key] = t.get(key, 0) + value
        if r.elapsed is not None:
            t['max_elapsed'] = max(t['max_elapsed'], r.elapsed)
    return totals


def print_table(results, out=sys.stdout, title=None):
    totals = tally(results)
    if title:
        out.write('\n%s\n' % title)
    header = '%-20s %6s %9s %9s %8s %5s %10s %8s %8s %9s' % ('module', 'cases', 'rejected', 'accepted', 'unnamed',
                                                             'core', 'tracebacks', 'changes', 'partial', 'max s')
    out.write(header + '\n' + '-' * len(header) + '\n')
    grand = dict((k, 0) for k in TALLY_KEYS)
    grand['max_elapsed'] = 0.0
    for module in sorted(totals):
        t = totals[module]
        out.write('%-20s %6d %9d %9d %8d %5d %10d %8d %8d %9.2f\n' % (
            module, t['cases'], t['rejected'], t['accepted'], t['unnamed'], t['core'], t['tracebacks'], t['changes'],
            t['partial'], t['max_elapsed']))
        for k in TALLY_KEYS:
            grand[k] += t.get(k, 0)
        grand['max_elapsed'] = max(grand['max_elapsed'], t['max_elapsed'])
    out.write('-' * len(header) + '\n')
    out.write('%-20s %6d %9d %9d %8d %5d %10d %8d %8d %9.2f\n' % (
        'total', grand['cases'], grand['rejected'], grand['accepted'], grand['unnamed'], grand['core'],
        grand['tracebacks'], grand['changes'], grand['partial'], grand['max_elapsed']))
    special = dict((key, sum(r.counts.get(key, 0) for r in results)) for key in SPECIAL_KEYS)
    if special['type_cases']:
        typed = [r for r in results if r.counts.get('type_cases')]
        out.write('type confusions: %d cases over %d modules, %d rejected naming the option, %d accepted, %d unnamed, '
                  '%d tracebacks\n' % (special['type_cases'], len(set(r.module for r in typed)),
                                       sum(1 for r in typed if r.kind == 'rejected'), special['type_accepted'],
                                       sum(1 for r in typed if r.kind == 'unnamed'), special['type_tracebacks']))
    if special['kill_runs']:
        out.write('volume records: %d kill -9 runs, %d incomplete records seen by the checks after the runs, %d by '
                  'the readers during them (%d reads)\n'
                  % (special['kill_runs'], special['incomplete'], special['incomplete_read'], special['reads']))
    out.flush()
