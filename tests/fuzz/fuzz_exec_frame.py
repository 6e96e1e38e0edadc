# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz kata_exec_cmd's frame reader (_console._session.ConsoleSession): arbitrary console output in arbitrary pieces never
crashes it; and a frame built around fuzzed stdout/stderr bytes, with fuzzed terminal noise and CR/LF, cut in fuzzed
pieces, gives those bytes back exactly."""

from __future__ import annotations

import base64

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils._console import _script, _session
    from ansible_collections.katacontainers.kata.plugins.module_utils._console._session import ConsoleSession

MARKER = 'f00d'
KEY = ('KATA-%s:' % MARKER).encode('ascii')
SEEDS = [
    b'\r\nbash-5.2# ' + KEY + b'S base64 od|/bin/bash|hB\r\n' + KEY + b'B\r\naGVsbG8K\r\n' + KEY + b'E 0 5\r\n' + KEY + b'Z\r\n',
    KEY + b'S od|/bin/sh|\n' + KEY + b'C missing\n',
    b'\x1b[?2004h\x1b]0;title\x07' + KEY + b'E \xc2\xb2 5\n',
]


def feed_in_pieces(session, fdp, data):
    while data:
        size = fdp.ConsumeIntInRange(1, 64) if fdp.remaining_bytes() else len(data)
        session._feed(data[:size])  # pylint: disable=protected-access
        data = data[size:]
        if session._state == 'ready':  # pylint: disable=protected-access
            session._state = 'job'  # pylint: disable=protected-access


def encoded_lines(payload, encoder):
    if encoder == 'od':
        return [' '.join('%02x' % b for b in payload[i:i + 16]).encode('ascii') for i in range(0, len(payload), 16)]
    return [base64.b64encode(payload[i:i + 57]) for i in range(0, len(payload), 57)]


def test_one_input(data):
    fdp = fuzzlib.provider(data)
    # 1. Anything at all.
    session = ConsoleSession(None, marker=MARKER)
    session._state = 'sync'  # pylint: disable=protected-access
    feed_in_pieces(session, fdp, fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096)))
    for encoder in _script.ENCODERS:
        for strict in (True, False):
            for lines in (session._stdout, session._stderr):  # pylint: disable=protected-access
                try:
                    _session._decode(lines, encoder, strict)  # pylint: disable=protected-access
                except ValueError:
                    pass
    session.received()
    # 2. A real frame around fuzzed output: it must come back exact.
    encoder = 'od' if fdp.ConsumeBool() else 'base64'
    stdout = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 512))
    stderr = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256))
    noise = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64)).replace(b'\n', b'').replace(b'KATA-', b'')
    crlf = b'\r\n' if fdp.ConsumeBool() else b'\n'
    status = fdp.ConsumeIntInRange(0, 255)
    sync = noise + crlf + KEY + b'S base64 od|/bin/sh|h' + crlf
    frame = noise + crlf + KEY + b'B' + crlf + b''.join(line + crlf for line in encoded_lines(stdout, encoder))
    frame += KEY + b'E %d 5' % status + crlf + b''.join(line + crlf for line in encoded_lines(stderr, encoder))
    frame += KEY + b'Z' + crlf
    session = ConsoleSession(None, marker=MARKER)
    session._state = 'sync'  # pylint: disable=protected-access
    feed_in_pieces(session, fdp, sync)
    if session._state != 'job':  # pylint: disable=protected-access
        raise AssertionError('the sync line was not seen: state %s' % session._state)  # pylint: disable=protected-access
    feed_in_pieces(session, fdp, frame)
    if session._state != 'done' or session.rc != status:  # pylint: disable=protected-access
        raise AssertionError('frame not complete: state %s, rc %r' % (session._state, session.rc))  # pylint: disable=protected-access
    got_out = _session._decode(session._stdout, encoder, True)  # pylint: disable=protected-access
    got_err = _session._decode(session._stderr, encoder, True)  # pylint: disable=protected-access
    if (got_out, got_err) != (stdout, stderr):
        raise AssertionError('the frame changed the output: %r != %r' % ((got_out, got_err), (stdout, stderr)))


fuzzlib.main(test_one_input, SEEDS)
