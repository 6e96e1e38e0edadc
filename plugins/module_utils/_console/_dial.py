# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients layer (_console package): dialing the debug console, over AF_VSOCK (``vsock://``) or a hypervisor's
hybrid-vsock unix socket (``hvsock://``, ``CONNECT <port>`` then ``OK``), retried until the connect timeout runs out."""

from __future__ import annotations

import errno
import os
import math
import select
import socket
import time

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import PeerError

DEFAULT_CONNECT_TIMEOUT = 3.0
HANDSHAKE_LINE_LIMIT = 512

_RECV_SIZE = 65536
_POLL_SLICE_MS = 60000  # poll() takes a C int of milliseconds: long timeouts are waited for in slices
_RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2)


class _Attempt(Exception):
    """One connection attempt failed; ``reason`` says why, ``cut`` when only the deadline ended it."""

    def __init__(self, reason, cut=False):
        super(_Attempt, self).__init__(reason)
        self.reason = reason
        self.cut = cut


def _errno_reason(exc, what):
    if exc.errno == errno.ENOENT:
        return '%s does not exist' % what
    if exc.errno == errno.ECONNREFUSED:
        return 'connection refused on %s (nothing listens on it: the hypervisor may have exited)' % what
    if exc.errno in (errno.EACCES, errno.EPERM):
        return 'permission denied on %s (run the task as root, e.g. with become: true)' % what
    if exc.errno == errno.ENODEV:
        return 'no vsock transport reaches that CID (No such device)'
    if exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return 'the connection was reset'
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return 'the CID is unreachable (%s)' % (exc.strerror or exc)
    return '%s: %s' % (what, exc.strerror or exc)


def _wait(sock, events, deadline):
    """poll() ``sock`` for ``events`` until ``deadline`` (monotonic); False on timeout."""
    poller = select.poll()
    poller.register(sock.fileno(), events)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            if poller.poll(min(_POLL_SLICE_MS, max(1, int(math.ceil(remaining * 1000))))):
                return True
        except InterruptedError:
            continue


def _connect(sock, address, deadline, what):
    sock.setblocking(False)
    try:
        code = sock.connect_ex(address)
    except OSError as exc:
        raise _Attempt(_errno_reason(exc, what)) from exc
    if code in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
        if not _wait(sock, select.POLLOUT, deadline):
            raise _Attempt('no connection within the timeout', cut=True)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise _Attempt(_errno_reason(OSError(code, os.strerror(code)), what))


def _dial_vsock(address, port, deadline):
    family = getattr(socket, 'AF_VSOCK', None)
    if family is None:
        raise PeerError('this Python has no AF_VSOCK sockets, needed for the agent URL %s' % address.url,
                        agent_url=address.url)
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise _Attempt('cannot create a vsock socket: %s (is the vhost_vsock or vsock module loaded?)'
                       % (exc.strerror or exc)) from exc
    try:
        _connect(sock, (address.cid, port), deadline, 'vsock %d:%d' % (address.cid, port))
    except BaseException:
        sock.close()
        raise
    return sock, b''


def _read_handshake_line(sock, deadline):
    line = b''
    while b'\n' not in line:
        if len(line) > HANDSHAKE_LINE_LIMIT:
            raise _Attempt('the hypervisor answered %d bytes without a newline: %r' % (len(line), line[:60]))
        if not _wait(sock, select.POLLIN, deadline):
            raise _Attempt('no answer to the handshake within the timeout' + (' (partial answer %r)' % line if line else ''),
                           cut=True)
        try:
            piece = sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as exc:
            raise _Attempt(_errno_reason(exc, 'the hybrid vsock socket')) from exc
        if not piece:
            if line:
                raise _Attempt('the hypervisor closed the connection after a partial answer %r' % line)
            return None
        line += piece
    return line


def _dial_hvsock(address, port, deadline):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _connect(sock, address.path, deadline, address.path)
        request = b'CONNECT %d\n' % port
        try:
            sock.sendall(request)  # a few bytes into an empty socket buffer: never blocks
        except OSError as exc:
            raise _Attempt(_errno_reason(exc, address.path)) from exc
        data = _read_handshake_line(sock, deadline)
        if data is None:
            raise _Attempt('the hypervisor closed the connection without answering CONNECT %d: nothing listens on '
                           'vsock port %d in the guest (is the debug console enabled, debug_console_enabled = true '
                           'in the [agent.kata] section of the kata configuration, and is the port right?)'
                           % (port, port))
        line, _nl, rest = data.partition(b'\n')
        if not line.startswith(b'OK'):
            raise _Attempt('the hypervisor answered %r to CONNECT %d instead of "OK <port>"'
                           % (line.decode('latin-1'), port))
    except BaseException:
        sock.close()
        raise
    return sock, rest


def dial_console(address, port, timeout=DEFAULT_CONNECT_TIMEOUT, sleep=time.sleep):
    """Connect to the debug console on ``port``; returns ``(socket, bytes already received)``.

    Every failure is retried until ``timeout`` seconds have passed, like kata's dialers; PeerError then names the
    endpoint, the number of attempts and the last failure.
    """
    deadline = time.monotonic() + timeout
    attempts = 0
    reason = None
    while True:
        attempts += 1
        try:
            if address.scheme == 'vsock':
                return _dial_vsock(address, port, deadline)
            return _dial_hvsock(address, port, deadline)
        except _Attempt as exc:
            if not (exc.cut and reason):
                reason = exc.reason  # an attempt cut short by the deadline says less than a failed one
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sleep(min(remaining, _RETRY_DELAYS[min(attempts, len(_RETRY_DELAYS)) - 1]))
        if time.monotonic() >= deadline:
            break
    raise PeerError('cannot reach the debug console at %s within %g s (%d attempt%s): %s'
                    % (address.describe(port), timeout, attempts, '' if attempts == 1 else 's', reason),
                    agent_url=address.url)
