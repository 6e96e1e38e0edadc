# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An HTTP/1.1 server on a unix socket that writes its answers the way Go's net/http (1.19) server does.

What is reproduced, because clients can see it:

* the response head: ``HTTP/1.x <code> <text>``, the handler's headers sorted by name, then ``Date``,
  ``Content-Length``, ``Content-Type``, ``Connection``, ``Transfer-Encoding`` in Go's order;
* Content-Type sniffing (``http.DetectContentType``) of the first flushed bytes when the handler set none and the
  body is not empty;
* the 2 KiB response buffer: a body the handler finishes within 2048 bytes gets a ``Content-Length``, a larger one
  is sent with ``Transfer-Encoding: chunked`` (HTTP/1.1) with Go's chunk boundaries, or unframed with the
  connection closed afterwards (HTTP/1.0);
* keep-alive: connections are reused unless the client sends ``Connection: close`` (then the answer says
  ``Connection: close`` and the server closes) or speaks HTTP/1.0 without keep-alive;
* ``Expect: 100-continue`` (``100 Continue`` is sent when the handler first reads the body), unread request bodies
  discarded up to 256 KiB;
* Go's canned answers for unparsable requests (``400 Bad Request``, ``431``, ``501 Unsupported transfer
  encoding``, ``505``), written straight to the socket before closing it.

Each connection runs in its own thread; faults (sim_faults.py) replace or distort an answer per request.
"""

from __future__ import annotations

import email.utils
import http
import socket
import socketserver
import threading
import time

from sim_goutil import GoError, go_unescape

MAX_HEADER_BYTES = (1 << 20) + 4096  # Go's DefaultMaxHeaderBytes plus its 4096 slack
BUFFER_BEFORE_CHUNKING = 2048
MAX_POST_HANDLER_READ = 256 << 10
IDLE_TIMEOUT = 300.0
ERROR_HEADERS = b'\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n'

_HTML_SIGS = (b'<!DOCTYPE HTML', b'<HTML', b'<HEAD', b'<SCRIPT', b'<IFRAME', b'<H1', b'<DIV', b'<FONT', b'<TABLE',
              b'<A', b'<STYLE', b'<TITLE', b'<B', b'<BODY', b'<BR', b'<P', b'<!--')
_BINARY = set(range(0x00, 0x09)) | {0x0B} | set(range(0x0E, 0x1B)) | set(range(0x1C, 0x20))


def detect_content_type(data):
    """Go's http.DetectContentType for the kinds of bodies a shim can produce."""
    data = data[:512]
    rest = data.lstrip(b'\t\n\x0c\r ')
    for sig in _HTML_SIGS:
        if rest[:len(sig)].upper() == sig and len(rest) > len(sig) and rest[len(sig)] in b' >':
            return 'text/html; charset=utf-8'
    if rest.startswith(b'<?xml'):
        return 'text/xml; charset=utf-8'
    for magic, ctype in ((b'%PDF-', 'application/pdf'), (b'%!PS-Adobe-', 'application/postscript'),
                         (b'\xfe\xff', 'text/plain; charset=utf-16be'), (b'\xff\xfe', 'text/plain; charset=utf-16le'),
                         (b'\xef\xbb\xbf', 'text/plain; charset=utf-8'), (b'GIF87a', 'image/gif'), (b'GIF89a', 'image/gif'),
                         (b'\x89PNG\r\n\x1a\n', 'image/png'), (b'\xff\xd8\xff', 'image/jpeg'), (b'\x1f\x8b\x08', 'application/x-gzip'),
                         (b'PK\x03\x04', 'application/zip'), (b'\x00asm', 'application/wasm')):
        if data.startswith(magic):
            return ctype
    if any(b in _BINARY for b in data):
        return 'application/octet-stream'
    return 'text/plain; charset=utf-8'


def status_text(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return 'status code %d' % code


class BadRequest(Exception):
    """A request Go's server refuses before any handler runs; ``wire`` is what Go writes back."""

    def __init__(self, wire):
        super().__init__(wire)
        self.wire = wire


def _bad(detail=None):
    public = b'400 Bad Request' + (b': ' + detail.encode() if detail else b'')
    return BadRequest(b'HTTP/1.1 ' + public + ERROR_HEADERS + public)


class Request:
    """A parsed request. ``path`` is the decoded URL path (Go's r.URL.Path), ``raw_query`` the bytes after '?'."""

    def __init__(self, conn, method, target, proto, headers):
        self.conn = conn
        self.method = method
        self.target = target
        self.proto = proto
        self.headers = headers
        self.http11 = proto == 'HTTP/1.1'
        self.expect_continue = False
        self.continue_sent = False
        self._body = None
        self._remaining = 0
        self._chunked = False
        self.body_read = 0
        self.body_complete = True
        self.close_after = False
        raw = target
        if raw.startswith(b'http://') or raw.startswith(b'https://'):
            raw = b'/' + raw.split(b'/', 3)[3] if raw.count(b'/') >= 3 else b'/'
        raw_path, _sep, self.raw_query = raw.partition(b'?')
        self.raw_path = raw_path
        try:
            self.path = go_unescape(raw_path).decode('utf-8', 'surrogateescape')
        except GoError as exc:  # Go's url.ParseRequestURI refuses a bad escape in the path
            raise _bad() from exc
        connection = ','.join(self.header_all('Connection')).lower()
        tokens = [t.strip() for t in connection.split(',')]
        self.wants_close = 'close' in tokens
        self.wants_10_keepalive = not self.http11 and 'keep-alive' in tokens

    def header(self, name):
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def setup_body(self):
        te = self.header_all('Transfer-Encoding')
        if te:
            if [t.strip().lower() for t in ','.join(te).split(',')] != ['chunked']:
                raise BadRequest(b'HTTP/1.1 501 Not Implemented' + ERROR_HEADERS + b'Unsupported transfer encoding')
            self._chunked = True
            self.body_complete = False
        else:
            lengths = set(v.strip() for v in self.header_all('Content-Length'))
            if len(lengths) > 1:
                raise _bad()
            if lengths:
                value = lengths.pop()
                if not value.isdigit():
                    raise _bad()
                self._remaining = int(value)
                self.body_complete = self._remaining == 0
        expect = (self.header('Expect') or '').lower()
        self.expect_continue = expect == '100-continue' and self.http11 and not self.body_complete

    def has_body(self):
        return self._chunked or self._remaining > 0 or self._body not in (None, b'')

    def body(self, limit=None):
        """Read the whole body (sending ``100 Continue`` first when the client asked for it)."""
        if self._body is not None:
            return self._body
        if self.expect_continue and not self.continue_sent:
            self.conn.sendall(b'HTTP/1.1 100 Continue\r\n\r\n')
            self.continue_sent = True
        self._body = self._read_body(limit)
        return self._body

    def _read_body(self, limit):
        rfile = self.conn.rfile
        if not self._chunked:
            want = self._remaining if limit is None else min(self._remaining, limit)
            data = rfile.read(want) if want else b''
            self._remaining -= len(data)
            self.body_read += len(data)
            self.body_complete = self._remaining == 0
            return data
        out = bytearray()
        while True:
            line = rfile.readline(4096)
            if not line.endswith(b'\n'):
                raise _bad()
            size_text = line.split(b';', 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise _bad() from exc
            if size == 0:
                while True:  # trailers
                    trailer = rfile.readline(4096)
                    if trailer in (b'\r\n', b'\n', b''):
                        break
                break
            out += rfile.read(size)
            rfile.readline(4096)
            if limit is not None and len(out) > limit:
                break
        self.body_read += len(out)
        self.body_complete = True
        return bytes(out)

    def discard_body(self):
        """What Go does after the handler with an unread body: returns True when the connection must close."""
        if self._body is not None or self.body_complete:
            return False
        if self.expect_continue and not self.continue_sent:
            return True
        self._body = self._read_body(MAX_POST_HANDLER_READ + 1)
        return not self.body_complete


class Response:
    """What a handler produces: a status, the headers it set, and its Write calls in order."""

    def __init__(self, status=200, body=None, headers=None):
        self.status = status
        self.headers = dict(headers or {})
        self.writes = []
        if body:
            self.writes.append(body)

    def write(self, data):
        if data:
            self.writes.append(data)
        return self


def go_error_response(text, status):
    """Go's http.Error: explicit text/plain, nosniff, the text plus a newline (used by http.NotFound)."""
    return Response(status, (text + '\n').encode('utf-8'),
                    {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff'})


def _bufio_flushes(writes, size=BUFFER_BEFORE_CHUNKING):
    """The pieces a Go bufio.Writer of ``size`` passes to the chunk writer, and what is left when the handler ends."""
    flushed = []
    buf = b''
    for data in writes:
        while len(data) > size - len(buf):
            if not buf:
                flushed.append(data)  # a large write to an empty buffer goes straight through
                data = b''
                break
            room = size - len(buf)
            buf += data[:room]
            data = data[room:]
            flushed.append(buf)
            buf = b''
        buf += data
    return flushed, buf


def _body_allowed(status):
    return not (100 <= status <= 199 or status in (204, 304))


def serialize(request, response):
    """Turn a handler's Response into the bytes Go would send: (head, body_pieces, close_after)."""
    status = response.status
    headers = dict(response.headers)
    is_head = request.method == 'HEAD'
    allowed = _body_allowed(status)
    flushed, tail = _bufio_flushes(response.writes if allowed else [])
    handler_done = not flushed
    first = flushed[0] if flushed else tail
    pieces = flushed + ([tail] if tail else [])
    content_length = headers.get('Content-Length')
    close_after = request.close_after
    set_headers = {}
    if handler_done and allowed and content_length is None and (not is_head or first):
        content_length = str(len(first))
        set_headers['Content-Length'] = content_length
    has_cl = content_length is not None
    if request.wants_10_keepalive and (is_head or has_cl or not allowed):
        if 'Connection' not in headers:
            set_headers['Connection'] = 'keep-alive'
    elif not request.http11 or request.wants_close:
        close_after = True
    chunking = False
    if allowed and 'Content-Type' not in headers and first:
        set_headers['Content-Type'] = detect_content_type(first)
    if is_head or not allowed:
        pass
    elif has_cl:
        pass
    elif request.http11:
        chunking = True
        set_headers['Transfer-Encoding'] = 'chunked'
    else:
        close_after = True
    if close_after and 'close' not in (headers.get('Connection') or '').lower():
        headers.pop('Connection', None)
        set_headers.pop('Connection', None)
        if request.http11:
            set_headers['Connection'] = 'close'
    lines = ['%s %d %s' % ('HTTP/1.1' if request.http11 else 'HTTP/1.0', status, status_text(status))]
    for name in sorted(headers):
        lines.append('%s: %s' % (name, headers[name]))
    lines.append('Date: %s' % email.utils.formatdate(usegmt=True))
    for name in ('Content-Length', 'Content-Type', 'Connection', 'Transfer-Encoding'):
        if name in set_headers:
            lines.append('%s: %s' % (name, set_headers[name]))
    head = ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')
    if is_head or not allowed:
        return head, [], close_after
    if chunking:
        wire = [b'%x\r\n' % len(p) + p + b'\r\n' for p in pieces] + [b'0\r\n\r\n']
        return head, wire, close_after
    return head, pieces, close_after


class Connection(socketserver.BaseRequestHandler):
    """One client connection: read requests, call the site, write Go-shaped answers."""

    server: 'GoHTTPServer'

    def setup(self):
        self.sock = self.request
        self.sock.settimeout(IDLE_TIMEOUT)
        self.rfile = self.sock.makefile('rb')
        self.server.track(self.sock, True)

    def finish(self):
        self.server.track(self.sock, False)
        try:
            self.rfile.close()
        except OSError:
            pass

    def sendall(self, data):
        self.sock.sendall(data)

    def handle(self):
        while not self.server.closing:
            try:
                request = self._read_request()
            except BadRequest as exc:
                self.server.site.log_bad_request(exc.wire)
                self.write_and_close(exc.wire)
                return
            except (OSError, ValueError):
                return
            if request is None:
                return
            try:
                keep = self.server.site.serve(self, request)
            except (OSError, ValueError):
                return
            if not keep:
                self.close_write()
                return

    def _read_request(self):
        total = 0
        line = self.rfile.readline(MAX_HEADER_BYTES)
        while line in (b'\r\n', b'\n'):  # Go tolerates empty lines before a request
            line = self.rfile.readline(MAX_HEADER_BYTES)
        if not line:
            return None
        total += len(line)
        if not line.endswith(b'\n'):
            if len(line) >= MAX_HEADER_BYTES:
                raise BadRequest(b'HTTP/1.1 431 Request Header Fields Too Large' + ERROR_HEADERS + b'431 Request Header Fields Too Large')
            raise _bad()
        parts = line.rstrip(b'\r\n').split(b' ', 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise _bad()
        method, target, proto = parts
        if proto not in (b'HTTP/1.0', b'HTTP/1.1'):
            if proto.startswith(b'HTTP/') and b'.' in proto:
                major = proto[5:].split(b'.', 1)[0]
                if major.isdigit() and int(major) != 1:
                    wire = b'HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version'
                    raise BadRequest(wire + ERROR_HEADERS + wire[9:])
            raise _bad()
        headers = []
        while True:
            hline = self.rfile.readline(MAX_HEADER_BYTES)
            total += len(hline)
            if total > MAX_HEADER_BYTES:
                raise BadRequest(b'HTTP/1.1 431 Request Header Fields Too Large' + ERROR_HEADERS + b'431 Request Header Fields Too Large')
            if not hline:
                return None
            if hline in (b'\r\n', b'\n'):
                break
            name, sep, value = hline.decode('latin-1').rstrip('\r\n').partition(':')
            if not sep or not name or name != name.strip():
                raise _bad()
            headers.append((name, value.strip()))
        request = Request(self, method.decode('latin-1'), target, proto.decode('latin-1'), headers)
        hosts = request.header_all('Host')
        if request.http11 and not hosts:
            raise _bad('missing required Host header')
        if len(hosts) > 1:
            raise _bad('too many Host headers')
        request.setup_body()
        return request

    def write_and_close(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            pass
        self.close_write()

    def close_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        # Go's closeWriteAndWait: give the client a moment to read before the close.
        self.sock.settimeout(0.5)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def send_response(self, request, response, pace=None, before_send=None):
        """Write one Go-shaped response; returns (keep_alive, body_bytes_sent). ``pace``: seconds between bytes;
        ``before_send(status, body_bytes)`` is called once the answer is built, before its first byte leaves."""
        if request.discard_body():
            request.close_after = True
        head, pieces, close_after = serialize(request, response)
        body = b''.join(pieces)
        if before_send is not None:
            before_send(response.status, len(body))
        if not pace:
            self.sock.sendall(head + body)
            return not close_after, len(body)
        sent = 0
        for i, byte in enumerate(head + body):
            self.sock.sendall(bytes((byte,)))
            if i >= len(head):
                sent += 1
            time.sleep(pace)
        return not close_after, sent


class GoHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """A threading AF_UNIX server; ``site`` (sim_shim.ShimSite) answers the requests."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = False

    def __init__(self, path, site):
        self.site = site
        self.closing = False
        self._conns = set()
        self._conns_lock = threading.Lock()
        socketserver.UnixStreamServer.__init__(self, path, Connection, bind_and_activate=True)
        self.thread = None

    def server_activate(self):
        self.socket.listen(64)

    def track(self, sock, add):
        with self._conns_lock:
            if add:
                self._conns.add(sock)
            else:
                self._conns.discard(sock)

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True,
                                       name='shim-http %s' % self.server_address)
        self.thread.start()

    def close(self):
        """Stop accepting, then cut every open connection (hung and slow ones included)."""
        self.closing = True
        self.shutdown()
        self.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
