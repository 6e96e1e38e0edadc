# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Run one command through a Kata agent's debug console and get its exact output and exit status.

Reaching the console (kata-containers 3.0.0: ``getConn`` in ``src/runtime/cmd/kata-runtime/kata-exec.go``, and
``HybridVSockDialer`` in ``src/runtime/virtcontainers/pkg/agent/protocols/client/client.go``): the shim's
``/agent-url`` gives ``vsock://<cid>:<port>`` (dial AF_VSOCK to ``<cid>``:debug port) or
``hvsock://<unix socket>:<port>`` (connect the hypervisor's unix socket, write ``CONNECT <debug port>\\n``, expect a
line starting with ``OK``). Like kata, every failed attempt is retried until the connect timeout runs out, and the
error then names the last failure.

What answers (the agent's ``debug_console_handler``, ``src/agent/src/console.rs``) is a bare shell on a new
pseudo-terminal, started with an empty argv, hence interactive: it prints prompts, may run a line editor (bash's
readline, busybox's), echoes, turns ``\\n`` into ``\\r\\n``, and its line discipline gives meaning to control bytes
and caps a line at 4095 bytes. The protocol below depends on none of that:

1. Right after connecting, three short lines of printable ASCII are typed. The first replaces the interactive shell
   by the same binary, non-interactive (``exec /proc/$$/exe`` with stdout and stderr away from the terminal and the
   terminal kept as fd 3; a shell that is not bash and takes ``exec -a`` gets ``argv[0] = "sh"``, which busybox
   needs): no prompt, no line editor, no history expansion, no job control, and the terminal stays in canonical
   mode, so each later line reaches the shell intact. bash unsets ``HISTFILE`` first, so that bash, which saves its
   history when ``exec`` replaces it, saves none; the second line takes that first line off the end of busybox
   ash's history file, which a busybox built to save history appends to as soon as it reads a line. Nothing of the
   session is left in the guest: no history, no file, no variable (every session has its own shell, which exits at
   the end). The third turns echo off (``stty -echo``, when ``stty``
   exists) and prints a sync line: a random per-run key, the guest's encoders (``base64``, ``od``), the shell's
   flags and its path. Nothing else is sent before the sync line is seen, so nothing can be swallowed while the
   shell starts or switches terminal modes.
2. The command (``cmd``, or ``argv`` quoted with ``shlex.quote``) and ``chdir`` are typed single-quoted when they
   are UTF-8 text without control characters (other than newline and tab) in short lines; otherwise they reach
   the guest as ``printf`` octal escapes (``\\101``) decoded by the shell's own ``printf``: every byte value, no tool
   needed. ``stdin`` is sent as base64 in a here-document (or as octal ``printf`` lines when the guest has no
   ``base64``) and decoded to a file. No line sent carries a control byte or comes near the line limit.
3. A private directory (``mkdir`` of a random name, mode 0700, under ``$TMPDIR``, ``/run``, ``/tmp``, ``/dev/shm``
   or ``/var/tmp``) holds the stdin file and the stderr file; both are opened and the directory removed before the
   command starts, so nothing is left behind whatever happens next.
4. The command runs as ``<shell> -c <cmd>`` (a child process, so ``$$``, ``exit`` and signals behave as in
   ``sh -c``) with stdin from the file or ``/dev/null``. Its stdout goes through ``base64`` (or ``od -An -v -tx1``)
   straight to the terminal between a begin line and an end line that carries the exit status; then the stderr file
   is encoded the same way and a last line closes the frame, and the shell exits. Encoded output can contain neither
   the key nor a control byte, so output that contains the marker text, binary bytes, long lines and no final
   newline all come back exact. The status is ``$?`` of ``<shell> -c``: 128 + n for a command killed by signal n.
5. At the command timeout, Ctrl-C is typed (SIGINT to the command; the framing shell and the encoder ignore it and
   finish the frame, so everything the command wrote comes back), then Ctrl-\\ (SIGQUIT), then the connection is
   closed. Every connection has its own shell, so the console stays usable.

Without a writable directory the command still runs, with stderr merged into stdout (and ``stdin`` refused).
"""

from __future__ import annotations

import errno
import math
import os
import select
import socket
import time

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, PeerError
from ansible_collections.katacontainers.kata.plugins.module_utils._limits import check_timeout
from ansible_collections.katacontainers.kata.plugins.module_utils._text import terminal_tail

DEFAULT_DEBUG_PORT = 1026
MAX_VSOCK_PORT = 0xFFFFFFFF
DEFAULT_CONNECT_TIMEOUT = 3.0
TEMP_DIRS = ('$TMPDIR', '/run', '/tmp', '/dev/shm', '/var/tmp')
ENCODERS = ('base64', 'od')
INTERRUPT_GRACE = 2.0
QUIT_GRACE = 2.0
HANDSHAKE_LINE_LIMIT = 512
NOISE_LIMIT = 4096

_RECV_SIZE = 65536
_POLL_SLICE_MS = 60000  # poll() takes a C int of milliseconds: long timeouts are waited for in slices
_OCTAL_CHUNK = 200  # bytes per printf line: 800 characters, far below the 4095 of a canonical line
_BASE64_CHUNK = 57  # bytes per here-document line: 76 characters
_RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.2)
_ENCODER_COMMANDS = {'base64': 'base64', 'od': 'od -An -v -tx1'}
_CHDIR_REASONS = {
    'missing': 'it does not exist in the guest',
    'notdir': 'it is not a directory in the guest',
    'denied': 'the guest shell cannot enter it',
}


# -- the agent URL ------------------------------------------------------------------------------------------------

class AgentAddress(object):
    """Where the agent listens, from the shim's ``/agent-url``: ``scheme`` (``vsock`` or ``hvsock``), ``cid`` (vsock),
    ``path`` (hvsock unix socket), ``port`` (the agent's own port, replaced by the debug port) and ``url``."""

    __slots__ = ('scheme', 'cid', 'path', 'port', 'url')

    def __init__(self, scheme, url, port, cid=None, path=None):
        self.scheme = scheme
        self.url = url
        self.port = port
        self.cid = cid
        self.path = path

    def describe(self, port):
        """The console endpoint as messages show it, e.g. ``vsock 1234:1026``, ``hvsock /run/.../kata.hvsock:1026``."""
        if self.scheme == 'vsock':
            return 'vsock %d:%d' % (self.cid, port)
        return 'hvsock %s:%d' % (self.path, port)


def _uint32(text):
    """Go's strconv.ParseUint(text, 10, 32), or None."""
    if not text or not text.isdigit() or not text.isascii():
        return None
    value = int(text)
    return value if value <= MAX_VSOCK_PORT else None


def parse_agent_url(text):
    """Parse the body of the shim's ``/agent-url`` like kata-runtime does, or raise PeerError saying what is wrong.

    ``vsock://<cid>:<port>`` and ``hvsock://<path>:<port>`` (``<path>`` absolute, e.g.
    ``hvsock:///run/vc/firecracker/<id>/root/kata.hvsock:1024``); the scheme is matched case-insensitively (Go's
    url.Parse lower-cases it); a trailing newline is ignored. Any other scheme (``remote:`` of kata 3.3+, ...) is
    refused: there is no debug console to reach through it.
    """
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    url = text[:-1] if text.endswith('\n') else text
    scheme, sep, rest = url.partition(':')
    if not sep or not scheme or not scheme[0].isalpha() or not all(c.isalnum() or c in '+-.' for c in scheme):
        raise PeerError('the agent URL %r has no scheme: expected vsock://<cid>:<port> or hvsock://<socket path>:<port>'
                        % url, agent_url=url)
    scheme = scheme.lower()
    if scheme not in ('vsock', 'hvsock'):
        raise PeerError('the agent URL %r has the scheme %r, which has no debug console this module can reach: '
                        'expected vsock or hvsock' % (url, scheme), agent_url=url)
    if not rest.startswith('//'):
        raise PeerError('invalid %s agent URL %r: expected %s://...' % (scheme, url, scheme), agent_url=url)
    authority, _slash, path = rest[2:].partition('/')
    if scheme == 'vsock':
        parts = authority.split(':')
        if len(parts) != 2 or path:
            raise PeerError('invalid vsock agent URL %r: expected vsock://<cid>:<port>' % url, agent_url=url)
        cid, port = _uint32(parts[0]), _uint32(parts[1])
        if cid is None or port is None:
            raise PeerError('invalid vsock agent URL %r: the CID and the port must be decimal numbers below 2^32' % url,
                            agent_url=url)
        return AgentAddress('vsock', url, port, cid=cid)
    parts = ('/' + path).split(':')
    if authority or len(parts) != 2 or parts[0] == '/':
        raise PeerError('invalid hvsock agent URL %r: expected hvsock://<absolute socket path>:<port>' % url,
                        agent_url=url)
    port = _uint32(parts[1])
    if port is None:
        raise PeerError('invalid hvsock agent URL %r: the port must be a decimal number below 2^32' % url, agent_url=url)
    return AgentAddress('hvsock', url, port, path=parts[0])


# -- dialing ------------------------------------------------------------------------------------------------------

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


# -- the guest script ---------------------------------------------------------------------------------------------

def _octal(data):
    return ''.join('\\%03o' % b for b in bytearray(data))


def _printf_lines(data):
    """``printf '<octal>'`` lines that write ``data`` exactly (none for empty data)."""
    return ["printf '%s'" % _octal(data[i:i + _OCTAL_CHUNK]) for i in range(0, len(data), _OCTAL_CHUNK)]


def _typable(data):
    """Whether ``data`` can be typed into a canonical-mode terminal as is: UTF-8 text without control characters
    other than newline and tab (the line discipline gives meaning to the others), in lines far below its limit."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return False
    if any(c < ' ' and c not in '\n\t' or c == '\x7f' for c in text):
        return False
    return all(len(line) <= _OCTAL_CHUNK * 4 for line in data.split(b'\n'))


def _assign(name, data):
    """Shell text that sets variable ``name`` to ``data`` (no NUL) exactly, trailing newlines included: the data
    single-quoted when it can be typed as is, else decoded by ``printf`` from octal escapes."""
    if _typable(data):
        return "%s='%s'" % (name, data.decode('utf-8').replace("'", "'\\''"))
    return '%s=$(%s); %s=${%s%%x}' % (name, '\n'.join(_printf_lines(data) + ['printf x']), name, name)


def _base64_lines(data):
    import base64

    return [base64.b64encode(data[i:i + _BASE64_CHUNK]).decode('ascii') for i in range(0, len(data), _BASE64_CHUNK)]


# The first line: the interactive shell, replaced (see the module doc). bash unsets ``HISTFILE`` first: interactive
# bash saves its history when ``exec`` replaces it (bash's exec builtin calls maybe_save_shell_history), and without
# HISTFILE it saves nothing. Other shells keep it (the clean-up line needs it). No single quote in it: the clean-up
# line quotes it.
EXEC_LINE = (' [ -z "${BASH_VERSION-}" ] || unset HISTFILE; if [ -z "${BASH_VERSION-}" ] && (exec -a sh /proc/$$/exe -c :) 2>/dev/null; then '
             'exec -a sh /proc/$$/exe 3>&1 >/dev/null 2>&1; else exec /proc/$$/exe 3>&1 >/dev/null 2>&1; fi')
# busybox ash built with FEATURE_EDITING_SAVEHISTORY appends each line it reads to $HISTFILE (by default
# $HOME/.ash_history) at once, before running it: the non-interactive shell takes that line off the end of the file
# again, with shell builtins only, writing the file in place (or removing it when the line was all it held).
_HISTORY_CLEANUP = ("h=${HISTFILE:-${HOME:+$HOME/.ash_history}}; if [ -z \"${BASH_VERSION-}\" ] && [ -n \"$h\" ] && "
                    "[ -f \"$h\" ] && [ ! -L \"$h\" ]; then l='%s'; c=0; y=; while IFS= read -r x; do c=$((c+1)); "
                    "y=$x; done <\"$h\"; if [ \"$y\" = \"$l\" ]; then n=$(printf '\\n_'); n=${n%%_}; t=; i=1; "
                    "while [ $i -lt $c ] && IFS= read -r x; do t=$t$x$n; i=$((i+1)); done <\"$h\"; if [ -n \"$t\" ]; "
                    "then printf %%s \"$t\" >\"$h\"; else rm -f \"$h\"; fi; fi; fi" % EXEC_LINE)


def start_lines(marker):
    """The lines typed first: the non-interactive shell, then the history clean-up, echo off and the sync line (see
    module doc)."""
    sync_line = ("stty -echo 2>/dev/null; k=KATA-; k=${k}%s; t=; for x in %s; do if command -v $x >/dev/null 2>&1; "
                 "then t=\"$t $x\"; fi; done; printf '\\n%%s:S%%s|%%s|' \"$k\" \"$t\" \"$-\" >&3; "
                 "readlink /proc/$$/exe >&3 2>/dev/null || echo >&3" % (marker, ' '.join(ENCODERS)))
    return (EXEC_LINE + '\n' + _HISTORY_CLEANUP + '\n' + sync_line + '\n').encode('ascii')


def job_script(marker, command, stdin=None, chdir=None, encoder='base64', temp_dirs=TEMP_DIRS, shell=None):
    """The lines that run ``command`` (bytes) and frame its results, typed after the sync line.

    ``stdin`` (bytes or None), ``chdir`` (bytes or None); ``encoder`` is ``base64`` or ``od`` (what the guest has);
    ``temp_dirs`` are the parents tried in turn for the private directory (``$TMPDIR``: that variable, when set);
    ``shell`` is the path of the guest shell from the sync line (None: ``/proc/$$/exe``).
    """
    encode = _ENCODER_COMMANDS[encoder]
    if shell and _typable(shell.encode('utf-8')) and '\n' not in shell:
        program = "'%s'" % shell.replace("'", "'\\''")
        if shell.rsplit('/', 1)[-1] == 'busybox':
            program += ' sh'  # busybox picks the applet from argv[0]
    else:
        program = '"/proc/$$/exe"'
    lines = ['set -- %s' % program, _assign('c', command)]
    if chdir:
        lines.append(_assign('w', chdir))
    candidates = ' '.join('"${TMPDIR-}"' if d == '$TMPDIR' else "'%s'" % d.replace("'", "'\\''") for d in temp_dirs)
    lines.append('d=; for t in %s; do if [ -n "$t" ] && mkdir -m 700 "$t/.kata-exec.%s" 2>/dev/null; '
                 'then d=$t/.kata-exec.%s; break; fi; done' % (candidates, marker, marker))
    if stdin:
        lines.append('if [ -z "$d" ]; then printf \'\\n%s:X nodir\\n\' "$k" >&3; exit; fi')
    lines.append('if [ -n "$d" ]; then exec 5>"$d/e" 6<"$d/e"; fi')
    if stdin:
        if encoder == 'base64':
            delimiter = 'KATA_EOF_%s' % marker
            lines.append("(TMPDIR=$d; base64 -d >\"$d/i\" <<'%s'" % delimiter)
            lines.extend(_base64_lines(stdin))
            lines.append(delimiter)
            lines.append(')')
        else:
            lines.append('{')
            lines.extend(_printf_lines(stdin))
            lines.append('} >"$d/i"')
        lines.append('exec 7<"$d/i"')
    lines.append('[ -z "$d" ] || rm -rf "$d"')
    if chdir:
        lines.append('if cd -- "$w" 2>/dev/null; then :; else if [ ! -e "$w" ]; then x=missing; elif [ ! -d "$w" ]; '
                     'then x=notdir; else x=denied; fi; printf \'\\n%s:C %s\\n\' "$k" "$x" >&3; exit; fi')
    redirect_in = '<&7' if stdin else '</dev/null'
    lines.append(
        'if [ -n "$d" ]; then e=5; else e=1; fi; trap : INT QUIT; printf \'\\n%%s:B\\n\' "$k" >&3; '
        'r=$( { { trap : INT QUIT; if [ "$e" = 5 ]; then "$@" -c "$c" %s 2>&5 3>&- 4>&- 5>&- 6<&- 7<&-; '
        'else "$@" -c "$c" %s 2>&1 3>&- 4>&- 5>&- 6<&- 7<&-; fi; printf %%s $? >&4; } | '
        '(trap \'\' INT QUIT; exec %s) >&3; } 4>&1 ); printf \'\\n%%s:E %%s %%s\\n\' "$k" "$r" "$e" >&3; '
        '[ "$e" != 5 ] || [ ! -s /dev/fd/6 ] || %s <&6 >&3; printf \'\\n%%s:Z\\n\' "$k" >&3; exit'
        % (redirect_in, redirect_in, encode, encode))
    return ('\n'.join(lines) + '\n').encode('utf-8')


# -- the session --------------------------------------------------------------------------------------------------

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
        """The last bytes the console sent outside the frame (prompts, echo, error messages), as text."""
        return excerpt(self._noise + self._partial)

    def start(self, timeout=DEFAULT_CONNECT_TIMEOUT):
        """Replace the interactive shell by a non-interactive one and wait for its sync line."""
        self._state = 'sync'
        self._out += start_lines(self.marker)
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


# -- the kata_exec_cmd module -------------------------------------------------------------------------------------

def _text(data):
    return data.decode('utf-8', 'replace')


def _no_nul(value, option):
    if '\0' in value:
        raise ArgumentError('%s: contains a NUL character, which a shell command cannot carry' % option)
    return value


def command_text(params):
    """The command line the guest shell runs: ``cmd`` as given, or ``argv`` quoted word by word."""
    cmd, argv = params.get('cmd'), params.get('argv')
    if cmd is not None and argv is not None:
        raise ArgumentError('cmd and argv are mutually exclusive')
    if argv is not None:
        if not argv:
            raise ArgumentError('argv: the list is empty, expected the program and its arguments')
        import shlex

        words = []
        for index, word in enumerate(argv):
            if not isinstance(word, str):
                raise ArgumentError('argv[%d]: expected a string, got %s' % (index, type(word).__name__))
            words.append(shlex.quote(_no_nul(word, 'argv[%d]' % index)))
        if not argv[0]:
            raise ArgumentError('argv[0]: the program name is empty')
        return ' '.join(words)
    if cmd is None:
        raise ArgumentError('one of cmd or argv is required')
    if not cmd.strip():
        raise ArgumentError('cmd: the command is empty')
    return _no_nul(cmd, 'cmd')


def _validated(params):
    """``(sandbox_id, command, stdin bytes or None, chdir bytes or None, port, timeout, connect_timeout)``."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import validate_sandbox_id

    sandbox_id = validate_sandbox_id(params.get('sandbox_id'))
    command = command_text(params)
    port = params.get('debug_port')
    if port is None:
        port = DEFAULT_DEBUG_PORT
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= MAX_VSOCK_PORT:
        raise ArgumentError('debug_port: expected a vsock port from 1 to %d, got %r' % (MAX_VSOCK_PORT, port))
    timeout = check_timeout(params.get('timeout'), 'timeout', allow_zero=True) if params.get('timeout') is not None else 0.0
    if params.get('connect_timeout') is None:
        params = dict(params, connect_timeout=DEFAULT_CONNECT_TIMEOUT)
    connect_timeout = check_timeout(params.get('connect_timeout'), 'connect_timeout')
    stdin = params.get('stdin')
    if stdin:
        if params.get('stdin_add_newline', True):
            stdin += '\n'
        stdin = stdin.encode('utf-8', 'surrogateescape')
    else:
        stdin = None
    chdir = params.get('chdir') or None
    if chdir is not None:
        chdir = _no_nul(chdir, 'chdir').encode('utf-8', 'surrogateescape')
    return sandbox_id, command, stdin, chdir, port, timeout, connect_timeout


def _now():
    import datetime

    return datetime.datetime.now()


def exec_cmd(params, check_mode=False):
    """The result of kata_exec_cmd for its ``params``; KataError on bad input or a broken peer."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import find_shim_socket, shim_client

    sandbox_id, command, stdin, chdir, port, timeout, connect_timeout = _validated(params)
    result = {'changed': True, 'cmd': command}
    if check_mode and not params.get('check_mode_safe'):
        find_shim_socket(sandbox_id, params.get('sandbox_root') or '/run/vc/sbs',
                         params.get('rs_sandbox_root') or '/run/kata', params.get('shim_socket'))
        result.update(changed=False, skipped=True,
                      msg='Command would have run if not in check mode (set check_mode_safe=true for a command '
                          'that changes nothing)')
        return result
    client = shim_client(dict(params, timeout=connect_timeout), sandbox_id, max_body=64 * 1024)
    address = parse_agent_url(client.get('/agent-url'))
    where = 'the debug console of sandbox %s (%s)' % (sandbox_id, address.describe(port))
    sock, received = dial_console(address, port, connect_timeout)
    session = ConsoleSession(sock, received, where=where)
    start = end = None
    try:
        session.start(connect_timeout)
        start = _now()
        try:
            outcome = session.run(command.encode('utf-8', 'surrogateescape'), stdin=stdin, chdir=chdir, timeout=timeout)
        except PeerError as exc:
            end = _now()
            details = dict(exc.details)
            for key in ('stdout', 'stderr'):
                if isinstance(details.get(key), bytes):
                    details[key] = _text(details[key])
            details.update(cmd=command, start=str(start), end=str(end), delta=str(end - start))
            raise PeerError(exc.msg, **details) from exc
        end = _now()
    finally:
        session.close()
    stdout, stderr = _text(outcome.stdout), _text(outcome.stderr)
    if params.get('strip_empty_ends', True):
        stdout, stderr = stdout.rstrip('\r\n'), stderr.rstrip('\r\n')
    result.update(rc=outcome.rc, stdout=stdout, stderr=stderr, stdout_lines=stdout.splitlines(),
                  stderr_lines=stderr.splitlines(), start=str(start), end=str(end), delta=str(end - start),
                  shell=outcome.shell, stderr_merged=outcome.stderr_merged, timed_out=outcome.timed_out)
    if params.get('binary_output'):
        import base64

        result.update(stdout_b64=base64.b64encode(outcome.stdout).decode('ascii'),
                      stderr_b64=base64.b64encode(outcome.stderr).decode('ascii'))
    if outcome.timed_out:
        steps = {'SIGINT': 'it was interrupted with Ctrl-C (SIGINT)',
                 'SIGQUIT': 'Ctrl-C (SIGINT) did not stop it, Ctrl-\\ (SIGQUIT) was sent',
                 'closed': 'neither Ctrl-C nor Ctrl-\\ stopped it; the connection was closed and it may still run in '
                           'the guest'}
        ending = ('exited with status %d' % outcome.rc if outcome.rc is not None and outcome.complete
                  else 'its output so far is returned')
        result.update(failed=True, msg='the command did not finish within %g s: %s; %s'
                      % (timeout, steps[outcome.interrupted], ending))
    elif outcome.rc != 0:
        result.update(failed=True, msg='non-zero return code')
    return result


def exec_cmd_module(module):
    """The work function for _module.run."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._pods import apply_pod, pod_result

    found = apply_pod(module.params)
    result = exec_cmd(module.params, check_mode=module.check_mode)
    if found is not None:
        result['pod'] = pod_result(found)
    return result
