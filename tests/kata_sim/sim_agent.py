# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guest side of the shim's calls: what kata's Rust agent (3.0.0 ``rpc.rs``, ``metrics.rs``) answers.

Errors are raised as AgentError whose text is what the Go shim writes in its 500 body: the ttrpc status converted by
Go's grpc ``status.Error`` (``rpc error: code = Internal desc = <message>``), where ``<message>`` is built by the
agent's ``ttrpc_error!`` macro, i.e. ``format!("{:?}", err)``: a String error is therefore Debug-quoted once more.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time

from sim_goutil import (CODE_INTERNAL, CODE_NOT_FOUND, CODE_UNIMPLEMENTED, grpc_status_text, rust_debug_str,
                        rust_io_error_debug, rust_lossy)

IPTABLES_SAVE = '/sbin/iptables-save'
IPTABLES_RESTORE = '/sbin/iptables-restore'
IP6TABLES_SAVE = '/sbin/ip6tables-save'
IP6TABLES_RESTORE = '/sbin/ip6tables-restore'
IPTABLES_RESTORE_WAIT_SEC = 5

AGENT_VERSIONS = ('sim', '3.0.0', '4.0.0')


class AgentError(Exception):
    """A failed agent call; str() is the shim's error text."""

    def __init__(self, code, message):
        super().__init__(grpc_status_text(code, message))
        self.code = code
        self.message = message


def rust_internal(text):
    """``ttrpc_error!(ttrpc::Code::INTERNAL, <String>)``: the message is the Debug form of the string."""
    return AgentError(CODE_INTERNAL, rust_debug_str(text))


def _run_bounded(argv, data, timeout):
    """Spawn like the agent: write ``data`` to stdin from another thread, wait at most ``timeout`` for the write."""
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outcome = {}

    def writer():
        try:
            child.stdin.write(data)
            child.stdin.close()
            outcome['written'] = True
        except OSError:
            outcome['written'] = False

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        child.kill()
        child.communicate()
        raise rust_internal('timeout waiting for stdin writer to complete')
    out = child.stdout.read()
    err = child.stderr.read()
    child.wait()
    return child.returncode, out, err


class IPTables:
    """iptables inside the sandbox: a real network namespace, or an in-memory ruleset (see README.md)."""

    def __init__(self, netns=None):
        self.netns = netns
        self.lock = threading.Lock()
        self.memory = {False: {}, True: {}}  # is_ipv6 -> {table: [lines]} when there is no netns

    def _argv(self, binary, *args):
        argv = [binary] + list(args)
        if self.netns:
            argv = ['ip', 'netns', 'exec', self.netns] + argv
        return argv

    def get(self, is_ipv6):
        binary = IP6TABLES_SAVE if is_ipv6 else IPTABLES_SAVE
        if self.netns is None:
            with self.lock:
                return _render_tables(self.memory[is_ipv6])
        if not os.path.exists(binary):
            raise AgentError(CODE_INTERNAL, rust_io_error_debug(FileNotFoundError(2, os.strerror(2))))
        # A non-zero exit status still returns whatever stdout was produced (the agent only checks the spawn).
        proc = subprocess.run(self._argv(binary), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        return proc.stdout

    def set(self, is_ipv6, data):
        binary = IP6TABLES_RESTORE if is_ipv6 else IPTABLES_RESTORE
        if self.netns is None:
            return self._set_memory(is_ipv6, binary, data)
        if not os.path.exists(binary):
            raise AgentError(CODE_INTERNAL, rust_io_error_debug(FileNotFoundError(2, os.strerror(2))))
        with self.lock:
            rc, out, err = _run_bounded(self._argv(binary, '--wait', str(IPTABLES_RESTORE_WAIT_SEC)), data,
                                        IPTABLES_RESTORE_WAIT_SEC)
        if rc != 0:
            raise rust_internal('%s failed: %s' % (binary, rust_debug_str(rust_lossy(err))))
        return out

    def _set_memory(self, is_ipv6, binary, data):
        tool = shutil.which(os.path.basename(binary))
        if tool and os.geteuid() == 0:
            # Validate against the real parser without touching the host's rules.
            rc, _out, err = _run_bounded([tool, '--test', '--wait', str(IPTABLES_RESTORE_WAIT_SEC)], data,
                                         IPTABLES_RESTORE_WAIT_SEC)
        else:
            rc, err = _check_restore_syntax(os.path.basename(binary), data)
        if rc != 0:
            raise rust_internal('%s failed: %s' % (binary, rust_debug_str(rust_lossy(err))))
        with self.lock:
            self.memory[is_ipv6].update(_parse_tables(data))
        return b''


def _parse_tables(data):
    tables = {}
    current = None
    for line in data.decode('utf-8', 'replace').splitlines():
        if line.startswith('*'):
            current = line[1:].strip()
            tables[current] = []
        elif current is not None and line.strip() == 'COMMIT':
            current = None
        elif current is not None and line.strip() and not line.startswith('#'):
            tables[current].append(line.rstrip())
    return tables


def _render_tables(tables):
    stamp = time.strftime('%a %b %e %H:%M:%S %Y')
    out = []
    for name in sorted(tables):
        out.append('# Generated by iptables-save v1.8.9 on %s' % stamp)
        out.append('*' + name)
        out.extend(tables[name])
        out.append('COMMIT')
        out.append('# Completed on %s' % stamp)
    return ('\n'.join(out) + '\n').encode('utf-8') if out else b''


_RULE = re.compile(r'^(:\S+ \S+( \[\d+:\d+\])?|-[AIDNPXFZR] \S.*|\[\d+:\d+\] -A \S.*)$')


def _check_restore_syntax(tool, data):
    """A minimal iptables-restore syntax check for hosts without a usable iptables-restore (no root)."""
    current = None
    lines = data.decode('utf-8', 'replace').splitlines()
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if stripped.startswith('*'):
            if current is not None:
                return 2, ('%s: line %d failed\n' % (tool, number)).encode()
            current = stripped[1:]
            continue
        if stripped == 'COMMIT':
            if current is None:
                return 2, ('%s: line %d failed\n' % (tool, number)).encode()
            current = None
            continue
        if current is None or not _RULE.match(stripped):
            return 2, ('%s: line %d failed\n' % (tool, number)).encode()
    if current is not None:
        return 1, ('%s: COMMIT expected at line %d\n' % (tool, len(lines) + 1)).encode()
    return 0, b''


def volume_stats(guest_path, size=None):
    """GetVolumeStats: open the path, statfs it, two usages; the shim then json.Marshals the protobuf struct.

    ``size`` (bytes, recorded by a resize) replaces the total; used stays the real used space (capped), available is
    the rest. Zero values are omitted (Go ``omitempty``), ``abnormal: false`` too.
    """
    try:
        fd = os.open(guest_path, os.O_RDONLY)
        os.close(fd)
        st = os.statvfs(guest_path)
    except OSError as exc:
        raise AgentError(CODE_INTERNAL, rust_io_error_debug(exc)) from exc
    total = st.f_blocks * st.f_bsize
    available = st.f_bfree * st.f_bsize  # kata uses the free blocks, not the blocks available to non-root
    if size is not None:
        used = min(total - available, size)
        total, available = size, size - used
    byte_usage = _omit_empty([('available', available), ('total', total), ('used', total - available), ('unit', 1)])
    inode_usage = _omit_empty([('available', st.f_ffree), ('total', st.f_files), ('used', st.f_files - st.f_ffree), ('unit', 2)])
    return {'usage': [byte_usage, inode_usage], 'volume_condition': {'message': 'OK'}}


def _omit_empty(pairs):
    return dict((k, v) for k, v in pairs if v)


def resize_volume(version, guest_path, size):
    """ResizeVolume: the 3.0.0 agent lacks it (ttrpc's generated default), 4.0.0+ says unimplemented."""
    if version == '3.0.0':
        raise AgentError(CODE_NOT_FOUND, '/grpc.AgentService/ResizeVolume is not supported')
    if version == '4.0.0':
        raise AgentError(CODE_UNIMPLEMENTED, rust_debug_str('resize_volume is not implemented in kata-agent'))
    if not os.path.isdir(guest_path):
        raise AgentError(CODE_INTERNAL, rust_io_error_debug(FileNotFoundError(2, os.strerror(2))))
    return size
