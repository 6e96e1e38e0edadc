# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection: ways a shim answer can go wrong, for testing clients (see README.md, "Faults").

Every fault acts on one connection only (each connection has its own thread), so a hung or slow answer never
delays another sandbox or another request.
"""

from __future__ import annotations

import email.utils
import socket

from sim_http import Response, detect_content_type, serialize

FAULT_MODES = ('none', 'hang', 'slow', 'reset', 'close', 'garbage', 'huge', 'truncated', 'invalid-utf8', 'status500')
# Faults that let the handler run first (its side effects happen) and then distort the answer.
RUNS_HANDLER = ('slow', 'reset', 'truncated', 'invalid-utf8')
SLOW_PACE = 0.05  # seconds between two bytes
HUGE_SIZE = (64 << 20) + (64 << 10)
TRUNCATED_MISSING = 1024
GARBAGE = b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03SSH-2.0-kata-sim\r\n\x00\xff\xfe not http \x9c\x00\x01'
INVALID_UTF8 = b'\xc3\x28\xa0\xa1'
STATUS500_BODY = b'ttrpc: closed'


def _abort(conn):
    try:
        conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


abort = _abort


def _hang(conn, request):
    """Read the request, never answer; return when the client goes away or the simulator stops."""
    if request.has_body():
        request.body()
    conn.sock.settimeout(1.0)
    while not conn.server.closing:
        try:
            if not conn.sock.recv(65536):
                return
        except socket.timeout:
            continue
        except OSError:
            return


def _huge(conn):
    head = ('HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Length: %d\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
            % (email.utils.formatdate(usegmt=True), HUGE_SIZE)).encode('ascii')
    line = b'kata_sim_huge_filler{fault="huge"} 1\n'
    block = line * ((1 << 20) // len(line))
    conn.sock.settimeout(30)
    conn.sock.sendall(head)
    sent = 0
    while sent < HUGE_SIZE:
        piece = block[:HUGE_SIZE - sent]
        conn.sock.sendall(piece)
        sent += len(piece)
    return sent


def apply(mode, conn, request, handler, before_send=lambda status, size: None):
    """Answer ``request`` with fault ``mode``; ``handler()`` returns the normal Response.

    ``before_send(status, body_bytes)`` is called before the first byte leaves (not for hang).
    Returns (status sent or None, body bytes sent, keep the connection).
    """
    if mode == 'hang':
        _hang(conn, request)
        return None, 0, False
    if mode == 'close':
        before_send(None, 0)
        _abort(conn)
        return None, 0, False
    if mode == 'garbage':
        before_send(None, len(GARBAGE))
        conn.sock.sendall(GARBAGE)
        _abort(conn)
        return None, len(GARBAGE), False
    if mode == 'huge':
        sent = 0
        before_send(200, HUGE_SIZE)
        try:
            sent = _huge(conn)
        except OSError:
            pass
        _abort(conn)
        return 200, sent, False
    if mode == 'status500':
        keep, sent = conn.send_response(request, Response(500, STATUS500_BODY), before_send=before_send)
        return 500, sent, keep
    response = handler()
    if mode == 'slow':
        keep, sent = conn.send_response(request, response, pace=SLOW_PACE, before_send=before_send)
        return response.status, sent, keep
    if mode == 'invalid-utf8':
        body = b''.join(response.writes)
        cut = body.find(b'\n')
        cut = len(body) if cut < 0 else cut
        response.writes = [body[:cut] + INVALID_UTF8 + body[cut:]]
        keep, sent = conn.send_response(request, response, before_send=before_send)
        return response.status, sent, keep
    if mode == 'truncated':
        request.discard_body()
        body = b''.join(response.writes)
        headers = ['HTTP/1.1 %d %s' % (response.status, 'OK' if response.status == 200 else 'Error'),
                   'Date: ' + email.utils.formatdate(usegmt=True), 'Content-Length: %d' % (len(body) + TRUNCATED_MISSING)]
        if body:
            headers.append('Content-Type: ' + response.headers.get('Content-Type', detect_content_type(body)))
        before_send(response.status, len(body))
        conn.sock.sendall(('\r\n'.join(headers) + '\r\n\r\n').encode('latin-1') + body)
        _abort(conn)
        return response.status, len(body), False
    if mode == 'reset':
        request.discard_body()
        head, pieces, _close = serialize(request, response)
        body = b''.join(pieces)
        sent = max(1, len(body) // 2) if body else 0
        before_send(response.status, sent)
        if body:
            conn.sock.sendall(head + body[:sent])
        else:
            conn.sock.sendall(head[:len(head) // 2])
        _abort(conn)
        return response.status, sent, False
    raise ValueError('unknown fault mode %r' % mode)


def describe(mode):
    return {
        'none': 'normal answers',
        'hang': 'read the request, never answer (until the client closes)',
        'slow': 'the normal answer, one byte every %.2f s' % SLOW_PACE,
        'reset': 'the normal head and half the body, then the connection is cut',
        'close': 'close the connection before any byte of the answer',
        'garbage': 'non-HTTP bytes, then close',
        'huge': '200 with a %d-byte body (64 MiB + 64 KiB)' % HUGE_SIZE,
        'truncated': 'Content-Length %d bytes larger than the body, then close' % TRUNCATED_MISSING,
        'invalid-utf8': 'the normal answer with bytes that are not UTF-8 before its first newline',
        'status500': '500 with the body %r (the agent connection is gone)' % STATUS500_BODY.decode(),
    }[mode]
