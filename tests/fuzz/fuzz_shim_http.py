# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the shim client's HTTP/1.1 answer reader (_shim_client, stdlib transport): any bytes, arriving in any pieces,
give an answer or a _Failure, never more body than the limit."""

from __future__ import annotations

import time

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _shim_client as sc

SEEDS = [
    b'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nvsock://3:1024',
    b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;ext=1\r\nhello, \r\n'
    b'5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n',
    b'HTTP/1.0 500 Internal Server Error\r\nX-A: 1\r\n  folded\r\n\r\nttrpc: closed',
    b'\x16\x03\x01 garbage',
]
MAX_BODY = 4096


class FakeSocket(object):
    """What _Reader needs of a socket: recv() hands out the input in fuzzed pieces, then the end of the stream."""

    def __init__(self, data, sizes):
        self.data = data
        self.sizes = sizes

    def settimeout(self, timeout):
        pass

    def recv(self, limit):
        size = min(self.sizes.pop(0) if self.sizes else limit, limit)
        piece, self.data = self.data[:size], self.data[size:]
        return piece


def test_one_input(data):
    fdp = fuzzlib.provider(data)
    method = 'HEAD' if fdp.ConsumeBool() else 'GET'
    sizes = [fdp.ConsumeIntInRange(1, 100) for dummy in range(fdp.ConsumeIntInRange(0, 20))]
    reader = sc._Reader(FakeSocket(fdp.ConsumeBytes(fdp.remaining_bytes()), sizes), time.monotonic() + 60)  # pylint: disable=protected-access
    try:
        while True:
            reader.peek_status()
            status, reason = sc._parse_status_line(reader.readline(sc._MAX_STATUS_LINE, 'status line'))  # pylint: disable=protected-access
            headers = sc._read_headers(reader)  # pylint: disable=protected-access
            if 100 <= status < 200:
                continue
            body = sc._read_body(reader, method, status, headers, MAX_BODY)  # pylint: disable=protected-access
            break
    except sc._Failure:  # pylint: disable=protected-access
        return
    if not 100 <= status <= 999 or not isinstance(reason, str) or len(body) > MAX_BODY:
        raise AssertionError('answer %r %r with %d bytes' % (status, reason, len(body)))
    sc.body_excerpt(body)


fuzzlib.main(test_one_input, SEEDS)
