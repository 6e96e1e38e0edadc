# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients layer (_console package): one console session, from the sync line to the decoded frame of the command's
stdout, stderr and exit status, with the timeout's Ctrl-C and Ctrl-\\ (step 5 of the protocol)."""

from __future__ import annotations

import math
import os
import select
import time

from ansible_collections.katacontainers.kata.plugins.module_utils._console._dial import (
    DEFAULT_CONNECT_TIMEOUT,
    _POLL_SLICE_MS,
    _RECV_SIZE,
    dial_console,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._script import (
    ENCODERS,
    TEMP_DIRS,
    job_script,
    start_lines,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, PeerError
from ansible_collections.katacontainers.kata.plugins.module_utils._text import terminal_tail

INTERRUPT_GRACE = 2.0
QUIT_GRACE = 2.0
NOISE_LIMIT = 4096
_ECHO_PIECE = 16  # the shortest piece of a start line that received() takes for its echo

_CHDIR_REASONS = {
    'missing': 'it does not exist in the guest',
    'notdir': 'it is not a directory in the guest',
    'denied': 'the guest shell cannot enter it',
}


def excerpt(data, limit=600):
    """What a console sent, as text for a message: terminal escape sequences dropped, control bytes escaped, the last
    ``limit`` characters (_text.terminal_tail)."""
    return terminal_tail(data, limit)


def _decode(lines, encoder, strict):
    """The bytes the encoder lines stand for. ``strict``: ValueError on anything invalid; else the longest valid
    prefix (for a frame cut short)."""
    import binascii

    if encoder == 'od':
        text = b''.join(b''.join(line.split()) for line in lines)
        if not strict:
            text = text[:len(text) // 2 * 2]
        try:
            return bytes.fromhex(text.decode('ascii'))
        except (ValueError, UnicodeDecodeError) as exc:
            if strict:
                raise ValueError('not the output of od -An -v -tx1') from exc
            return b''
    import base64

    text = b''.join(line.strip() for line in lines)
    if not strict:
        text = text[:len(text) // 4 * 4]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        if strict:
            raise ValueError('not valid base64') from exc
        return b''


class ExecResult(object):
    """What came back from one command.

    ``rc`` (int, or None when the frame was cut before the status), ``stdout`` and ``stderr`` (bytes),
    ``stderr_merged`` (no private directory in the guest: stderr is in stdout), ``timed_out``, ``interrupted``
    (None, ``SIGINT``, ``SIGQUIT`` or ``closed``: the last step taken after the timeout), ``complete`` (the whole
    frame arrived) and ``shell`` (the guest shell's path).
    """

    __slots__ = ('rc', 'stdout', 'stderr', 'stderr_merged', 'timed_out', 'interrupted', 'complete', 'shell')

    def __init__(self, rc, stdout, stderr, stderr_merged, timed_out, interrupted, complete, shell):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.stderr_merged = stderr_merged
        self.timed_out = timed_out
        self.interrupted = interrupted
        self.complete = complete
        self.shell = shell


class ConsoleSession(object):
    """The protocol over one connected console socket (see the module documentation).

    ``received`` are bytes that came with the handshake answer; ``where`` names the console in messages.
    """

    def __init__(self, sock, received=b'', where='the debug console', marker=None):
        self.sock = sock
        self.where = where
        self.marker = marker or os.urandom(12).hex()
        self._key = ('KATA-%s:' % self.marker).encode('ascii')
        self._partial = bytearray()
        self._out = bytearray()
        self._noise = bytearray()
        self._typed = ()  # the start lines, whose echo received() leaves out
        self._state = 'new'
        self.eof = False
        self.tools = ()
        self.shell = None
        self.flags = ''
        self.rc = None
        self.stderr_merged = False
        self.failure = None
        self._stdout = []
        self._stderr = []
        self._feed(received)

    # receiving

    def _feed(self, data):
        if not data:
            return
        self._partial += data
        if b'\n' not in data:
            if len(self._partial) > 4 * NOISE_LIMIT and self._state not in ('stdout', 'stderr'):
                self._add_noise(self._partial[:-NOISE_LIMIT])
                del self._partial[:-NOISE_LIMIT]
            return
        lines = bytes(self._partial).split(b'\n')
        self._partial = bytearray(lines.pop())
        for line in lines:
            self._line(line.replace(b'\r', b''))

    def _add_noise(self, data):
        self._noise += data
        if len(self._noise) > NOISE_LIMIT:
            del self._noise[:-NOISE_LIMIT]

    def _line(self, line):
        index = line.find(self._key)
        if index < 0:
            if self._state == 'stdout':
                if line:
                    self._stdout.append(line)
            elif self._state == 'stderr':
                if line:
                    self._stderr.append(line)
            else:
                self._add_noise(line + b'\n')
            return
        if index:
            self._add_noise(line[:index] + b'\n')
        tag = line[index + len(self._key):index + len(self._key) + 1]
        rest = line[index + len(self._key) + 1:].decode('utf-8', 'replace')
        if tag == b'S' and self._state == 'sync':
            tools, _sep, rest = rest.partition('|')
            self.flags, _sep, self.shell = rest.partition('|')
            self.tools = tuple(tools.split())
            self._state = 'ready'
        elif tag == b'B' and self._state == 'job':
            self._state = 'stdout'
        elif tag == b'E' and self._state == 'stdout':
            words = rest.split()
            self.rc = int(words[0]) if words and words[0].isdigit() and words[0].isascii() else None
            self.stderr_merged = words[1:] != ['5']
            self._state = 'stderr'
        elif tag == b'Z' and self._state == 'stderr':
            self._state = 'done'
        elif tag in (b'C', b'X') and self._state == 'job':
            self.failure = (tag.decode('ascii'), rest.strip())
            self._state = 'done'
        else:
            self._add_noise(line + b'\n')

    # the connection

    def _pump(self, deadline, until):
        """Send what is queued and take in what arrives until ``until()``; 'done', 'eof' or 'timeout'."""
        poller = select.poll()
        fd = self.sock.fileno()
        self.sock.setblocking(False)
        while not until():
            if self.eof:
                return 'eof'
            if deadline is None:
                wait = -1
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return 'timeout'
                wait = min(_POLL_SLICE_MS, max(1, int(math.ceil(remaining * 1000))))
            poller.register(fd, select.POLLIN | (select.POLLOUT if self._out else 0))
            try:
                events = poller.poll(wait)
            except InterruptedError:
                continue
            for _fd, event in events:
                if event & select.POLLOUT and self._out:
                    try:
                        sent = self.sock.send(self._out)
                        del self._out[:sent]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self.eof = True
                        del self._out[:]
                if event & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    try:
                        data = self.sock.recv(_RECV_SIZE)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b''
                    if data:
                        self._feed(data)
                    else:
                        self.eof = True
                        self._feed(b'\n')  # a last line without a newline still counts
        return 'done'

    def received(self):
        """The last bytes the console sent outside the frame (prompts, error messages), as text.

        The echo of the start lines is left out: the guest's terminal echoes what is typed until the sync line turns
        echo off, and a guest that fails before then (no usable shell) would otherwise show this collection's own
        script in place of its error. A line that only partly survives the noise limit (the first) or has not fully
        arrived (the last) is echo when it is a long enough piece of a start line."""
        lines = bytes(self._noise + self._partial).split(b'\n')
        if self._typed:
            last = len(lines) - 1
            lines = [self._without_echo(line, index, last) for index, line in enumerate(lines)]
        return excerpt(b'\n'.join(line for line in lines if line is not None))

    def _without_echo(self, line, index, last):
        """``line`` without the echo of a start line (a prompt before it stays), or None when it was echo alone."""
        for typed in self._typed:
            if line.endswith(typed):
                return line[:-len(typed)] or None
            if len(line) >= _ECHO_PIECE and ((index == 0 and typed.endswith(line))
                                             or (index == last and typed.startswith(line))):
                return None
        return line

    def start(self, timeout=DEFAULT_CONNECT_TIMEOUT):
        """Replace the interactive shell by a non-interactive one and wait for its sync line."""
        self._state = 'sync'
        typed = start_lines(self.marker)
        self._typed = tuple(line for line in typed.split(b'\n') if line)
        self._out += typed
        outcome = self._pump(time.monotonic() + timeout, lambda: self._state != 'sync')
        if outcome == 'timeout':
            raise PeerError('%s did not answer like a shell within %g s. It sent: %r'
                            % (self.where, timeout, self.received()), console_output=self.received())
        if outcome == 'eof':
            raise PeerError('%s closed the connection before its shell answered: the guest has no usable shell '
                            '(the agent runs /bin/bash, else /bin/sh, with an empty argv, which busybox cannot run). '
                            'It sent: %r' % (self.where, self.received()), console_output=self.received())
        if 'i' in self.flags:
            raise PeerError('%s: the guest shell could not be replaced by a non-interactive one (exec /proc/$$/exe '
                            'failed: is /proc mounted in the guest?)' % self.where, console_output=self.received())

    def run(self, command, stdin=None, chdir=None, timeout=None, temp_dirs=TEMP_DIRS):
        """Run ``command`` (bytes) with ``stdin`` and ``chdir`` (bytes or None); an ExecResult.

        ``timeout`` (seconds, None or 0 for none) bounds the command from the moment it is sent. PeerError when the
        console closes before the end of the frame; ArgumentError when ``chdir`` cannot be entered.
        """
        encoder = next((e for e in ENCODERS if e in self.tools), None)
        if encoder is None:
            raise PeerError('%s: the guest has neither base64 nor od, needed to bring the output back' % self.where)
        self._state = 'job'
        self._out += job_script(self.marker, command, stdin=stdin, chdir=chdir, encoder=encoder, temp_dirs=temp_dirs,
                                shell=self.shell)

        def done():
            return self._state == 'done'

        outcome = self._pump(time.monotonic() + timeout if timeout else None, done)
        interrupted = None
        if outcome == 'timeout':
            for char, name, grace in ((b'\x03', 'SIGINT', INTERRUPT_GRACE), (b'\x1c', 'SIGQUIT', QUIT_GRACE)):
                interrupted = name
                self._out[:] = char  # drop what was not sent yet: the interrupt must not wait behind it
                outcome = self._pump(time.monotonic() + grace, done)
                if outcome != 'timeout':
                    break
            else:
                interrupted = 'closed'
        if self.failure is not None:
            kind, detail = self.failure
            if kind == 'C':
                raise ArgumentError('chdir: cannot change to %r before running the command: %s'
                                    % (chdir.decode('utf-8', 'replace'), _CHDIR_REASONS.get(detail, detail)))
            raise PeerError('%s: stdin cannot be passed: no writable directory in the guest (tried %s)'
                            % (self.where, ', '.join(temp_dirs)))
        complete = self._state == 'done'
        try:
            stdout = _decode(self._stdout, encoder, strict=complete)
            stderr = _decode(self._stderr, encoder, strict=complete)
        except ValueError as exc:
            raise PeerError('%s: the output frame is damaged (%s): did the command write to the terminal (/dev/tty) '
                            'or change its settings?' % (self.where, exc), console_output=self.received()) from exc
        result = ExecResult(self.rc, stdout, stderr, self.stderr_merged, outcome == 'timeout' or interrupted is not None,
                            interrupted, complete, self.shell)
        if not complete and interrupted is None:
            raise PeerError('%s closed the connection before the command finished: the guest shell exited or was '
                            'killed' % self.where, rc=self.rc, stdout=stdout, stderr=stderr,
                            console_output=self.received())
        return result

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def open_session(sandbox_id, address, port, connect_timeout):
    """Dial the debug console of sandbox ``sandbox_id`` at ``address`` (an AgentAddress) and ``port``: a
    ConsoleSession, not started yet, whose messages name the sandbox and the console. PeerError when it cannot be
    reached within ``connect_timeout``."""
    sock, received = dial_console(address, port, connect_timeout)
    return ConsoleSession(sock, received, where='the debug console of sandbox %s (%s)'
                          % (sandbox_id, address.describe(port)))
