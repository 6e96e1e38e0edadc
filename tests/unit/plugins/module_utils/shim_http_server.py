# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real unix-socket servers for the shim client tests: each connection gets a scripted behaviour.

A behaviour is ``function(conn, request, stop)``: ``conn`` is the accepted socket, ``request`` the parsed request
(``None`` when the behaviour asked not to read it), ``stop`` an Event set when the test ends (so that servers that
hang finish their threads).
"""

from __future__ import annotations

import os
import shutil
import socket
import socketserver
import tempfile
import threading
import time


class Request(object):
    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body


def read_request(conn):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    method, target, _version = lines[0].split(' ')
    headers = {}
    for line in lines[1:]:
        name, value = line.split(':', 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get('content-length', '0'))
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return Request(method, target, headers, body)


def answer(status, body=b'', reason=None, headers=None, chunked=False, content_length=True):
    """A complete HTTP/1.1 answer as bytes."""
    reasons = {200: 'OK', 404: 'Not Found', 500: 'Internal Server Error', 501: 'Not Implemented', 204: 'No Content'}
    if isinstance(body, str):
        body = body.encode('utf-8')
    lines = ['HTTP/1.1 %d %s' % (status, reason if reason is not None else reasons.get(status, 'Unknown'))]
    lines.append('Date: Sat, 28 Nov 2026 12:00:00 GMT')
    lines.extend('%s: %s' % h for h in (headers or []))
    if chunked:
        lines.append('Transfer-Encoding: chunked')
        payload = b''
        for start in range(0, len(body), 7):
            piece = body[start:start + 7]
            payload += b'%x;ext=1\r\n%s\r\n' % (len(piece), piece)
        payload += b'0\r\nX-Trailer: yes\r\n\r\n'
        body = payload
    elif content_length:
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


def respond(status, body=b'', **kwargs):
    data = answer(status, body, **kwargs)

    def behaviour(conn, request, stop):
        conn.sendall(data)
    return behaviour


def raw(data):
    def behaviour(conn, request, stop):
        conn.sendall(data)
    return behaviour


def never_answer(conn, request, stop):
    stop.wait(30)


def all_at_once(count, body, wait=20.0):
    """A behaviour for ``count`` connections (across every server given it): each answers 200 ``body`` only once all
    ``count`` requests are in flight together. When they are not within ``wait`` seconds of the first, every one of
    them, and every later one, closes without answering: a client that does not send them all at once fails."""
    barrier = threading.Barrier(count)
    data = answer(200, body)

    def behaviour(conn, request, stop):
        try:
            barrier.wait(wait)
        except threading.BrokenBarrierError:
            return
        conn.sendall(data)
    return behaviour


def trickle(data, delay=0.05):
    """Send ``data`` one byte at a time, ``delay`` seconds apart (each recv of the client is quick)."""
    def behaviour(conn, request, stop):
        for i in range(len(data)):
            if stop.is_set():
                return
            conn.sendall(data[i:i + 1])
            time.sleep(delay)
    return behaviour


def stream(head, total, piece=1024 * 1024, chunked=False):
    """Send ``head`` then ``total`` bytes of body (as chunks when ``chunked``) until the client goes away."""
    def behaviour(conn, request, stop):
        conn.sendall(head)
        block = b'x' * piece
        sent = 0
        while sent < total and not stop.is_set():
            conn.sendall(b'%x\r\n%s\r\n' % (piece, block) if chunked else block)
            sent += piece
        if chunked:
            conn.sendall(b'0\r\n\r\n')
    return behaviour


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        try:
            if server.read_first is None:
                request = read_request(self.request)
                server.requests.append(request)
            elif server.read_first:
                # Read only part of the request: closing with unread data makes the kernel reset the connection.
                self.request.recv(server.read_first)
                request = None
            else:
                request = None
            server.behaviour(self.request, request, server.stop)
        except OSError:
            pass  # the client went away (timeout, size limit): expected in these tests


class ShimServer(object):
    """A threaded unix-socket server at ``path`` running ``behaviour`` for each connection."""

    def __init__(self, path, behaviour, read_first=None):
        self.path = path
        self.server = socketserver.ThreadingUnixStreamServer(path, _Handler)
        self.server.daemon_threads = True
        self.server.behaviour = behaviour
        self.server.read_first = read_first
        self.server.requests = self.requests = []
        self.server.stop = self.stop = threading.Event()
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True
        self.thread.start()

    def close(self, unlink=True):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        if unlink and os.path.lexists(self.path):
            os.unlink(self.path)


class ServerFactory(object):
    """Starts servers in a short temporary directory (unix socket paths are limited to 107 bytes)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='kshim', dir='/tmp')
        self.servers = []

    def start(self, behaviour, path=None, read_first=None):
        if path is None:
            path = os.path.join(self.dir, 's%d.sock' % len(self.servers))
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        server = ShimServer(path, behaviour, read_first=read_first)
        self.servers.append(server)
        return server

    def dead_socket(self, path=None):
        """A socket file nobody listens on (bound, then closed): connecting is refused."""
        if path is None:
            path = os.path.join(self.dir, 'dead%d.sock' % len(self.servers))
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.close()
        return path

    def close(self):
        for server in self.servers:
            server.close(unlink=False)
        shutil.rmtree(self.dir, ignore_errors=True)
