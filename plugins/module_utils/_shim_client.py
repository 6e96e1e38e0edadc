# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A client for the Kata shim management API: HTTP/1.1 over the shim's unix socket.

The server is ``startManagementServer`` (kata-containers 3.0.0,
``src/runtime/pkg/containerd-shim-v2/shim_management.go``). Like kata's client
(``src/runtime/pkg/utils/shimclient/shim_management_client.go``): one request per connection (``Connection: close``),
any Host (``shim``), a timeout of 3 seconds by default. Unlike it, the timeout bounds the whole exchange (connect,
send, and every byte of the answer: a peer that trickles bytes cannot stretch it), the answer's size is bounded
(``max_body``), and a non-200 answer is never handed out as data by the ``get``/``put``/``post_json`` helpers
(kata-runtime prints it and exits 0; docs/kata_behaviour.md, Non-200 answers are errors).

Two transports:
``stdlib`` (the default): a small HTTP/1.1 reader on a plain ``socket``. It needs nothing beyond the standard
  library, imports less than ``http.client``, and reads the answer against one deadline.
``requests``: ``requests`` + ``requests-unixsocket`` when installed. Importing them costs 70 to 95 ms per task
  (measured on Python 3.11), so they are used only when asked for (``transport='requests'``), never picked automatically.
  A watchdog timer shuts the connection down at the deadline so the same bound holds.
Both give the same results and the same error messages for the same peer behaviour.

The two runtimes serve the same paths differently (``ShimClient.runtime`` says which one a socket belongs to):
the Go shim (``src/runtime/pkg/containerd-shim-v2/shim_management.go``, 3.0.0 to 4.1.0) routes by path alone, with
Go's ``404 page not found`` for other paths and a 500 with the error text when a handler fails; runtime-rs
(``src/runtime-rs/crates/runtimes/src/shim_mgmt/handlers.rs``, 3.1.0 to 4.1.0; 3.0.0 has no management server)
routes by method and path (GET ``/agent-url`` and ``/metrics``, GET or PUT ``/iptables`` and ``/ip6tables``, POST
``/direct-volume/stats`` and ``/direct-volume/resize``, PUT ``/policy``), answers 404 ``URL NOT FOUND`` to anything
else, and closes the connection without any answer when a handler returns an error (hyper's server drops a
connection whose service fails). Such a drop is reported as the handler failing, not as a protocol error.
"""

from __future__ import annotations

import errno
import socket
import time
import traceback

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    MissingDependencyError,
    ShimError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import socket_problem
from ansible_collections.katacontainers.kata.plugins.module_utils._limits import check_timeout
from ansible_collections.katacontainers.kata.plugins.module_utils._text import body_excerpt as _body_excerpt
from ansible_collections.katacontainers.kata.plugins.module_utils._text import cut

DEFAULT_TIMEOUT = 3.0
DEFAULT_MAX_BODY = 16 * 1024 * 1024
TRANSPORTS = ('auto', 'stdlib', 'requests')
RUNTIME_GO = 'go'
RUNTIME_RUST = 'rust'
RUNTIMES = (RUNTIME_GO, RUNTIME_RUST)
# What each runtime answers to a path it does not serve: Go's http.NotFound (3.0.0 shim_management.go uses a plain
# ServeMux) and runtime-rs's not_found() (3.1.0 to 4.1.0 src/runtime-rs/crates/runtimes/src/shim_mgmt/handlers.rs).
GO_NOT_FOUND_BODY = b'404 page not found\n'
RUST_NOT_FOUND_BODY = b'URL NOT FOUND'
BODY_EXCERPT_CHARS = 2048
USER_AGENT = 'katacontainers.kata'

_RECV_SIZE = 65536
_MAX_STATUS_LINE = 4096
_MAX_HEADER_LINE = 65536
_MAX_HEADER_LINES = 100
_NO_BODY_STATUSES = (204, 304)
_URL_PREFIX = 'http://shim'
# Characters left alone when a query value is percent-encoded: RFC 3986's unreserved set.
_UNRESERVED = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~')
_HEX = frozenset('0123456789abcdefABCDEF')
_DIGITS = frozenset('0123456789')


class ShimResponse(object):
    """One HTTP answer: ``status`` (int), ``reason`` (str), ``headers`` (dict, lower-case names; repeated headers
    joined with ``, ``), ``body`` (bytes, never decoded), ``url`` (``http://shim<path>``) and ``method``."""

    __slots__ = ('status', 'reason', 'headers', 'body', 'url', 'method')

    def __init__(self, status, reason, headers, body, url, method='GET'):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.url = url
        self.method = method

    @property
    def text(self):
        """The body as text; bytes that are not UTF-8 become U+FFFD."""
        return self.body.decode('utf-8', 'replace')

    def __repr__(self):
        return 'ShimResponse(status=%r, reason=%r, url=%r, body=<%d bytes>)' % (
            self.status, self.reason, self.url, len(self.body))


def body_excerpt(body, limit=BODY_EXCERPT_CHARS):
    """A body as text for a message (_text.body_excerpt), cut to BODY_EXCERPT_CHARS characters by default."""
    return _body_excerpt(body, limit)


def _seconds(value):
    return '%g' % value


def _percent_encode(text):
    return ''.join(c if c in _UNRESERVED else ''.join('%%%02X' % b for b in c.encode('utf-8')) for c in text)


def _check_url_text(text, what):
    if not isinstance(text, str) or any(not 0x21 <= ord(c) <= 0x7e or c == '#' for c in text):
        raise ArgumentError('shim request %s %r: expected printable ASCII without spaces or "#"' % (what, text))


def request_target(path, query=None):
    """``path`` plus its query string, as sent on the request line.

    ``query`` is None, a str (already encoded, sent as is), a mapping or a sequence of ``(name, value)`` pairs (names
    and values percent-encoded, only RFC 3986 unreserved characters left alone: ``/`` becomes ``%2F``).
    """
    _check_url_text(path, 'path')
    if not path.startswith('/') or '?' in path:
        raise ArgumentError('shim request path %r: expected an absolute path starting with "/" and without a query'
                            % (path,))
    if query is None or query == '' or query == {} or query == []:
        return path
    if isinstance(query, str):
        _check_url_text(query, 'query')
        return path + '?' + query
    pairs = query.items() if hasattr(query, 'items') else query
    encoded = []
    for name, value in pairs:
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        encoded.append('%s=%s' % (_percent_encode(str(name)), _percent_encode(str(value))))
    return path + '?' + '&'.join(encoded)


class _Failure(Exception):
    """An exchange failed; ``reason`` is the phrase that ends the ShimError message."""

    def __init__(self, reason):
        super(_Failure, self).__init__(reason)
        self.reason = reason


def _oversize(max_body):
    return _Failure('the answer is larger than the limit of %d bytes (max_body)' % max_body)


def _oversize_announced(length, max_body):
    return _Failure('the answer announces a body of %d bytes, more than the limit of %d bytes (max_body)'
                    % (length, max_body))


def _truncated(received, announced):
    return _Failure('truncated answer: the connection closed after %d of the %d body bytes announced by '
                    'Content-Length' % (received, announced))


_TRUNCATED_CHUNKED = 'truncated answer: the connection closed in the middle of the chunked body'
_CLOSED_WITHOUT_ANSWER = 'the shim closed the connection without answering'
_RESET = 'the connection was reset by the shim'


class _Dropped(Exception):
    """The shim closed (or reset) the connection before the first byte of an answer: its handler failed."""


def _connect_failure(exc):
    """The reason for an OSError raised by connect()."""
    if exc.errno == errno.ECONNREFUSED:
        return 'connection refused (nothing listens on the socket: the shim may have exited)'
    if exc.errno == errno.ENOENT:
        return 'the socket does not exist'
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ('permission denied (the shim sockets are root-only: run the task as root, e.g. with '
                'become: true)')
    return 'cannot connect: %s' % (exc.strerror or exc)


def _io_failure(exc):
    """The reason for an OSError raised while sending or receiving."""
    if exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return _RESET
    return 'I/O error: %s' % (exc.strerror or exc)


def _garbage(first_line):
    text = first_line.decode('latin-1') if isinstance(first_line, bytes) else first_line
    text = cut(text.rstrip('\r\n'), 60)
    return _Failure('not an HTTP answer: it starts with %r' % text)


def _parse_status_line(line):
    """``(status, reason)`` from a status line (bytes), or raise _Failure."""
    if not line:
        raise _Failure(_CLOSED_WITHOUT_ANSWER)
    if not line.endswith(b'\n'):
        if line.startswith(b'HTTP/'):
            raise _Failure('truncated answer: the connection closed in the middle of the status line')
        raise _garbage(line)
    text = line.decode('latin-1').rstrip('\r\n')
    parts = text.split(' ', 2)
    if (len(parts) < 2 or parts[0] not in ('HTTP/1.0', 'HTTP/1.1') or len(parts[1]) != 3
            or not set(parts[1]) <= _DIGITS or parts[1][0] == '0'):
        raise _garbage(line)
    return int(parts[1]), parts[2] if len(parts) == 3 else ''


def _content_length(headers, max_body):
    """The announced body length, None when there is none; _Failure when invalid or over ``max_body``."""
    value = headers.get('content-length')
    if value is None:
        return None
    values = set(v.strip() for v in value.split(','))
    length = values.pop() if len(values) == 1 else ''
    if not length or not set(length) <= _DIGITS or len(length) > 19:
        raise _Failure('invalid Content-Length %r in the answer' % value)
    length = int(length)
    if length > max_body:
        raise _oversize_announced(length, max_body)
    return length


class _Reader(object):
    """Buffered reads from a socket, each recv bounded by what is left of one deadline."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buf = bytearray()
        self.eof = False
        self.received = 0

    def _fill(self):
        if self.eof:
            return False
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout('deadline reached')
        self.sock.settimeout(remaining)
        data = self.sock.recv(_RECV_SIZE)
        if not data:
            self.eof = True
            return False
        self.received += len(data)
        self.buf += data
        return True

    def readline(self, limit, what):
        """One line with its ``\\n``; a shorter result without ``\\n`` means the peer closed first."""
        start = 0
        while True:
            end = self.buf.find(b'\n', start)
            if end >= 0:
                if end + 1 > limit:
                    raise _Failure('%s longer than %d bytes in the answer' % (what, limit))
                line = bytes(self.buf[:end + 1])
                del self.buf[:end + 1]
                return line
            if len(self.buf) > limit:
                raise _Failure('%s longer than %d bytes in the answer' % (what, limit))
            start = len(self.buf)
            if not self._fill():
                line = bytes(self.buf)
                del self.buf[:]
                return line

    def peek_status(self):
        """Fail early on a peer that does not speak HTTP: check the first bytes before waiting for a whole line."""
        while len(self.buf) < 5 and b'\n' not in self.buf:
            if not self._fill():
                break
        head = bytes(self.buf[:5])
        if head and not b'HTTP/'.startswith(head):
            line = bytes(self.buf)
            end = line.find(b'\n')
            raise _garbage(line if end < 0 else line[:end])

    def read(self, size):
        """Up to ``size`` bytes; fewer only when the peer closed first."""
        while len(self.buf) < size and self._fill():
            pass
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    def read_available(self):
        """What is buffered or the next recv; b'' at end of stream."""
        if not self.buf and not self._fill():
            return b''
        data = bytes(self.buf)
        del self.buf[:]
        return data


def _read_headers(reader, what='header line'):
    headers = {}
    last = None
    count = 0
    while True:
        line = reader.readline(_MAX_HEADER_LINE, what)
        if not line.endswith(b'\n'):
            raise _Failure('truncated answer: the connection closed in the middle of the headers')
        if line in (b'\r\n', b'\n'):
            return headers
        count += 1
        if count > _MAX_HEADER_LINES:
            raise _Failure('more than %d header lines in the answer' % _MAX_HEADER_LINES)
        text = line.decode('latin-1').rstrip('\r\n')
        if text[:1] in (' ', '\t') and last is not None:
            # Obsolete line folding: a continuation of the previous header.
            headers[last] = (headers[last] + ' ' + text.strip()).strip()
            continue
        name, sep, value = text.partition(':')
        if not sep or not name or name != name.strip() or ' ' in name or '\t' in name:
            raise _Failure('malformed %s %r in the answer' % (what, text[:80]))
        key = name.lower()
        value = value.strip()
        headers[key] = headers[key] + ', ' + value if key in headers else value
        last = key


def _read_chunked(reader, max_body):
    parts = []
    total = 0
    while True:
        line = reader.readline(_MAX_HEADER_LINE, 'chunk size line')
        if not line.endswith(b'\n'):
            raise _Failure(_TRUNCATED_CHUNKED)
        size_text = line.split(b';', 1)[0].strip().decode('latin-1')
        if not size_text or not set(size_text) <= _HEX or len(size_text) > 16:
            raise _Failure('invalid chunked body: bad chunk size line %r' % line.decode('latin-1').rstrip('\r\n')[:80])
        size = int(size_text, 16)
        if size == 0:
            break
        if total + size > max_body:
            raise _oversize(max_body)
        data = reader.read(size)
        if len(data) < size:
            raise _Failure(_TRUNCATED_CHUNKED)
        parts.append(data)
        total += size
        end = reader.readline(_MAX_HEADER_LINE, 'chunk end')
        if not end.endswith(b'\n'):
            raise _Failure(_TRUNCATED_CHUNKED)
        if end not in (b'\r\n', b'\n'):
            raise _Failure('invalid chunked body: no line end after a chunk of %d bytes' % size)
    # Trailer fields, up to the empty line (a peer that closes instead is forgiven: the body is complete).
    count = 0
    while True:
        line = reader.readline(_MAX_HEADER_LINE, 'trailer line')
        if line in (b'', b'\r\n', b'\n') or not line.endswith(b'\n'):
            break
        count += 1
        if count > _MAX_HEADER_LINES:
            raise _Failure('more than %d trailer lines in the answer' % _MAX_HEADER_LINES)
    return b''.join(parts)


def _read_body(reader, method, status, headers, max_body):
    if method == 'HEAD' or status in _NO_BODY_STATUSES:
        return b''
    encoding = headers.get('transfer-encoding')
    if encoding is not None:
        codings = [c.strip().lower() for c in encoding.split(',') if c.strip()]
        if codings != ['chunked']:
            raise _Failure('unsupported Transfer-Encoding %r in the answer' % encoding)
        return _read_chunked(reader, max_body)
    length = _content_length(headers, max_body)
    if length is not None:
        data = reader.read(length)
        if len(data) < length:
            raise _truncated(len(data), length)
        return data
    # Neither: the body ends when the connection closes.
    parts = []
    total = 0
    while True:
        data = reader.read_available()
        if not data:
            return b''.join(parts)
        total += len(data)
        if total > max_body:
            raise _oversize(max_body)
        parts.append(data)


def _stdlib_exchange(socket_path, method, request, deadline, max_body):
    """Send ``request`` (bytes) and read the answer before ``deadline``: ``(status, reason, headers, body)``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            sock.connect(socket_path)
        except socket.timeout:
            raise
        except OSError as exc:
            raise _Failure(_connect_failure(exc))
        reader = None
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout('deadline reached')
            sock.settimeout(remaining)
            # Python >= 3.5: the timeout bounds the whole sendall.
            reader = _Reader(sock, deadline)
            try:
                sock.sendall(request)
            except OSError as exc:
                if exc.errno not in (errno.ECONNRESET, errno.EPIPE):
                    raise
                # The shim stopped reading the request: an answer may still be waiting to be read.
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            while True:
                reader.peek_status()
                if not reader.received:
                    # Nothing at all came back: the shim dropped the connection.
                    raise _Dropped()
                status, reason = _parse_status_line(reader.readline(_MAX_STATUS_LINE, 'status line'))
                headers = _read_headers(reader)
                if 100 <= status < 200:
                    # An interim answer (100 Continue, 103 Early Hints): the real one follows.
                    continue
                return status, reason, headers, _read_body(reader, method, status, headers, max_body)
        except socket.timeout:
            raise
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET, errno.EPIPE) and (reader is None or not reader.received):
                # A unix socket closed with unread data resets its peer (Linux unix_release_sock): still a drop.
                raise _Dropped()
            raise _Failure(_io_failure(exc))
    finally:
        sock.close()


_REQUESTS_BACKEND = []


def _requests_backend():
    """``(requests module, adapter class)``; the adapter records each connection's socket for the watchdog.

    Imported on first use only: importing requests costs about 95 ms.
    """
    if _REQUESTS_BACKEND:
        return _REQUESTS_BACKEND[0]
    try:
        import requests
        from requests_unixsocket import adapters as unix_adapters
    except ImportError:
        raise MissingDependencyError('requests-unixsocket', exception=traceback.format_exc(),
                                     reason='for transport=requests (transport=stdlib needs nothing)')

    class WatchedConnection(unix_adapters.UnixHTTPConnection):
        watchdog = None

        def connect(self):
            super(WatchedConnection, self).connect()
            self.watchdog.register(self.sock)

    class WatchedPool(unix_adapters.UnixHTTPConnectionPool):
        def __init__(self, socket_url, timeout, watchdog):
            super(WatchedPool, self).__init__(socket_url, timeout)
            self.watchdog = watchdog

        def _new_conn(self):
            conn = WatchedConnection(self.socket_path, self.timeout)
            conn.watchdog = self.watchdog
            return conn

    class WatchedAdapter(unix_adapters.UnixAdapter):
        def __init__(self, watchdog, timeout):
            super(WatchedAdapter, self).__init__(timeout=timeout)
            self.watchdog = watchdog

        def get_connection(self, url, proxies=None):
            return WatchedPool(url, self.timeout, self.watchdog)

        def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
            return self.get_connection(request.url, proxies)

        def request_url(self, request, proxies):
            path = super(WatchedAdapter, self).request_url(request, proxies)
            # The absolute form of the request target (see ShimClient.request), when asked for.
            return _URL_PREFIX + path if getattr(self, 'absolute_form', False) else path

    _REQUESTS_BACKEND.append((requests, WatchedAdapter))
    return _REQUESTS_BACKEND[0]


class _Watchdog(object):
    """Shuts the registered sockets down when the deadline passes, so that no blocked read outlives it."""

    def __init__(self, remaining):
        import threading

        self.lock = threading.Lock()
        self.sockets = []
        self.fired = False
        self.timer = threading.Timer(remaining, self.fire)
        self.timer.daemon = True

    @staticmethod
    def _shutdown(sock):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def register(self, sock):
        with self.lock:
            self.sockets.append(sock)
            if self.fired:
                self._shutdown(sock)

    def fire(self):
        with self.lock:
            self.fired = True
            for sock in self.sockets:
                self._shutdown(sock)


def _exception_chain(exc):
    """``exc`` and every exception it wraps (cause, context, exception arguments, ``reason``), outermost first."""
    seen = []
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend([getattr(current, 'reason', None), current.__cause__, current.__context__])
        todo.extend(current.args)
    return seen


def _requests_failure(exc, timeout, received, announced):
    """Map an exception from requests/urllib3/http.client to the reason the stdlib transport gives."""
    import http.client

    chain = _exception_chain(exc)
    names = [type(e).__name__ for e in chain]
    for e in chain:
        if isinstance(e, socket.timeout) or 'Timeout' in type(e).__name__:
            return _timeout_reason(timeout)
    for e in chain:
        if isinstance(e, http.client.RemoteDisconnected):
            return _CLOSED_WITHOUT_ANSWER
        if isinstance(e, http.client.LineTooLong):
            return 'header line longer than %d bytes in the answer' % _MAX_HEADER_LINE
        if isinstance(e, http.client.BadStatusLine):
            line = e.args[0] if e.args and isinstance(e.args[0], str) else ''
            return _garbage(line.strip("'")).reason if line else _CLOSED_WITHOUT_ANSWER
    if 'IncompleteRead' in names or 'InvalidChunkLength' in names:
        if announced is None:
            return _TRUNCATED_CHUNKED
        for e in chain:
            partial = getattr(e, 'partial', None) if type(e).__name__ == 'IncompleteRead' else None
            if isinstance(partial, int) and not isinstance(partial, bool):
                # urllib3 counts what it read before the error; what was handed out is not all of it.
                received = max(received, partial)
                break
        return _truncated(received, announced).reason
    for e in chain:
        if isinstance(e, (ConnectionResetError, BrokenPipeError)):
            return _RESET
    for e in chain:
        if isinstance(e, OSError) and e.errno is not None:
            return _connect_failure(e)
    return 'request failed: %s' % (exc,)


def _dropped_before_answer(exc):
    """Whether requests failed because the shim closed or reset the connection before any byte of an answer."""
    import http.client

    for e in _exception_chain(exc):
        if isinstance(e, http.client.RemoteDisconnected):
            return True
        if isinstance(e, http.client.BadStatusLine) and not (e.args and isinstance(e.args[0], str)
                                                             and e.args[0].strip("'")):
            return True
        if isinstance(e, (ConnectionResetError, BrokenPipeError)):
            return True
    return False


def _timeout_reason(timeout):
    return 'no complete answer within the timeout of %s seconds' % _seconds(timeout)


def _requests_exchange(socket_path, method, target, headers, body, deadline, timeout, max_body):
    requests, adapter_class = _requests_backend()
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Failure(_timeout_reason(timeout))
    watchdog = _Watchdog(remaining)
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc from the environment
    adapter = adapter_class(watchdog, remaining)
    if target.startswith(_URL_PREFIX):
        adapter.absolute_form = True
        target = target[len(_URL_PREFIX):]
    session.mount('http+unix://', adapter)
    url = 'http+unix://%s%s' % (_percent_encode(socket_path), target)
    received = 0
    announced = None
    watchdog.timer.start()
    try:
        try:
            response = session.request(method, url, data=body, headers=headers, timeout=(remaining, remaining),
                                       stream=True, allow_redirects=False)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if not watchdog.fired and _dropped_before_answer(exc):
                raise _Dropped() from None
            raise
        try:
            answer_headers = dict((k.lower(), v) for k, v in response.headers.items())
            if method != 'HEAD' and response.status_code not in _NO_BODY_STATUSES:
                if 'transfer-encoding' not in answer_headers:
                    announced = _content_length(answer_headers, max_body)
                parts = []
                for chunk in response.iter_content(_RECV_SIZE):
                    received += len(chunk)
                    if received > max_body:
                        raise _oversize(max_body)
                    parts.append(chunk)
                data = b''.join(parts)
                if announced is not None and received < announced:
                    raise _truncated(received, announced)
            else:
                data = b''
            if watchdog.fired:
                # The watchdog cut the connection: http.client takes the end of the stream for the end of the headers
                # (or of a body without a length), so what looks like a complete answer is only its start.
                raise _Failure(_timeout_reason(timeout))
            return response.status_code, response.reason or '', answer_headers, data
        finally:
            response.close()
    except (_Failure, _Dropped):
        if watchdog.fired:
            raise _Failure(_timeout_reason(timeout))
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # requests, urllib3 and http.client raise many types; map them all to the stdlib transport's reasons.
        if watchdog.fired:
            raise _Failure(_timeout_reason(timeout))
        raise _Failure(_requests_failure(exc, timeout, received, announced))
    finally:
        watchdog.timer.cancel()
        session.close()


class ShimClient(object):
    """The management API of one shim, reached through ``socket_path``.

    ``timeout`` (seconds) bounds each request from connect to the last byte of the answer; ``max_body`` (bytes)
    bounds the answer's body; ``transport`` is ``stdlib`` (also what ``auto`` means) or ``requests``.
    """

    def __init__(self, socket_path, timeout=DEFAULT_TIMEOUT, max_body=DEFAULT_MAX_BODY, transport='auto',
                 sandbox_id=None, runtime=None):
        timeout = check_timeout(timeout)
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 0:
            raise ArgumentError('max_body: expected a number of bytes (0 or more), got %r' % (max_body,))
        if transport not in TRANSPORTS:
            raise ArgumentError('transport: expected one of %s, got %r' % (', '.join(TRANSPORTS), transport))
        self.socket_path = socket_path
        self.timeout = float(timeout)
        self.max_body = max_body
        self.transport = 'stdlib' if transport == 'auto' else transport
        if runtime not in (None,) + RUNTIMES:
            raise ArgumentError('runtime: expected one of %s or None, got %r' % (', '.join(RUNTIMES), runtime))
        # Which shim serves the socket (RUNTIME_GO or RUNTIME_RUST), None when not known (an explicit shim_socket):
        # requests then go out as the Go shim wants them, and learn_runtime() notes runtime-rs's 404.
        self.runtime = runtime
        self.sandbox_id = sandbox_id
        if self.transport == 'requests':
            _requests_backend()  # fail now, with the install hint, rather than at the first request

    @staticmethod
    def url(path, query=None):
        """``http://shim<path>[?query]``, the URL as messages show it."""
        return _URL_PREFIX + request_target(path, query)

    def _where(self, method, url):
        return '%s %s via %s' % (method, url, self.socket_path)

    def _dropped(self, method, path, url):
        who = "sandbox %s's shim" % self.sandbox_id if self.sandbox_id else 'the shim'
        if self.runtime == RUNTIME_RUST:
            why = ('runtime-rs drops the connection, without an HTTP status, when a handler returns an error; the '
                   'reason is only in the shim\'s log')
        else:
            why = ('runtime-rs drops the connection when a handler returns an error, the Go shim when a handler '
                   'panics; the reason is in the shim\'s log')
        return ShimError('%s: %s: %s failed to handle %s %s (%s)'
                         % (self._where(method, url), _CLOSED_WITHOUT_ANSWER, who, method, path, why),
                         url=url, status=None, body=None, handler_failed=True)

    def request(self, method, path, query=None, body=None, content_type=None, absolute_form=False):
        """Send one request and return the ShimResponse, whatever its status.

        ``absolute_form``: send the target as ``http://shim/<path>`` on the request line (RFC 9112 §3.2.2, which
        every HTTP/1.1 server accepts) instead of ``/<path>``; runtime-rs needs it for ``/direct-volume/stats``.

        Raises ShimError (with ``url``; ``status`` and ``body`` None) when there is no complete HTTP answer within
        the timeout: missing or wrong socket, connection refused or reset, timeout, truncated, malformed or
        oversized answer. A connection closed or reset before the first byte of an answer is the shim's handler
        failing (runtime-rs answers every handler error so): the ShimError then says so and carries
        ``handler_failed=True``.
        """
        if not isinstance(method, str) or not method.isalpha() or not method.isupper():
            raise ArgumentError('shim request method %r: expected an upper-case HTTP method' % (method,))
        target = request_target(path, query)
        url = _URL_PREFIX + target
        if isinstance(body, str):
            body = body.encode('utf-8')
        if content_type is not None and (not isinstance(content_type, str)
                                         or any(not 0x20 <= ord(c) <= 0x7e for c in content_type)):
            raise ArgumentError('shim request content type %r: expected printable ASCII' % (content_type,))
        try:
            problem = socket_problem(self.socket_path)
        except OSError as exc:
            problem = 'cannot check the socket: %s' % (exc.strerror or exc)
        if problem:
            raise ShimError('%s: %s' % (self._where(method, url), problem), url=url, status=None, body=None)
        headers = [('Host', 'shim'), ('User-Agent', USER_AGENT), ('Accept-Encoding', 'identity'),
                   ('Connection', 'close')]
        if body is not None or method in ('POST', 'PUT', 'PATCH'):
            headers.append(('Content-Length', str(len(body or b''))))
        if content_type is not None:
            headers.append(('Content-Type', content_type))
        deadline = time.monotonic() + self.timeout
        line_target = _URL_PREFIX + target if absolute_form else target
        try:
            if self.transport == 'requests':
                status, reason, answer_headers, data = _requests_exchange(
                    self.socket_path, method, line_target, dict(headers), body, deadline, self.timeout, self.max_body)
            else:
                request = ''.join(['%s %s HTTP/1.1\r\n' % (method, line_target)]
                                  + ['%s: %s\r\n' % h for h in headers] + ['\r\n']).encode('latin-1')
                status, reason, answer_headers, data = _stdlib_exchange(
                    self.socket_path, method, request + (body or b''), deadline, self.max_body)
        except _Dropped:
            raise self._dropped(method, path, url) from None
        except _Failure as exc:
            raise ShimError('%s: %s' % (self._where(method, url), exc.reason), url=url, status=None, body=None)
        except socket.timeout:
            raise ShimError('%s: %s' % (self._where(method, url), _timeout_reason(self.timeout)),
                            url=url, status=None, body=None)
        return ShimResponse(status, reason, answer_headers, data, url, method)

    def expect_ok(self, response):
        """``response.body`` when the status is 200, else ShimError with ``url``, ``status`` and ``body`` (the body
        as text, cut to BODY_EXCERPT_CHARS): kata's error bodies are plain text, and they are never data."""
        if response.status == 200:
            return response.body
        text = body_excerpt(response.body)
        answer = ('HTTP %d %s' % (response.status, response.reason)).rstrip()
        raise ShimError('%s: %s%s' % (self._where(response.method, response.url), answer,
                                      ': ' + text if text else ' (empty body)'),
                        url=response.url, status=response.status, body=text)

    def learn_runtime(self, response):
        """Note which runtime serves the socket from a 404 answer, when not known yet (an explicit ``shim_socket``):
        runtime-rs answers ``URL NOT FOUND``, the Go shim Go's ``404 page not found``. Returns ``self.runtime``."""
        if self.runtime is None and response.status == 404:
            if response.body == RUST_NOT_FOUND_BODY:
                self.runtime = RUNTIME_RUST
            elif response.body == GO_NOT_FOUND_BODY:
                self.runtime = RUNTIME_GO
        return self.runtime

    def get(self, path, query=None):
        """GET ``path``; the body (bytes) of a 200 answer, else ShimError."""
        return self.expect_ok(self.request('GET', path, query=query))

    def put(self, path, body, content_type='application/octet-stream'):
        """PUT ``body`` (bytes or str) to ``path``; the body of a 200 answer, else ShimError."""
        return self.expect_ok(self.request('PUT', path, body=body, content_type=content_type))

    def post_json(self, path, obj):
        """POST ``obj`` as compact JSON (like Go's encoding/json) to ``path``; the body of a 200 answer, else ShimError."""
        import json

        body = json.dumps(obj, separators=(',', ':'))
        return self.expect_ok(self.request('POST', path, body=body, content_type='application/json'))
