# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The relay of the connection plugin kata_console: it runs on the node, next to the shims, and reaches each
sandbox's debug console with the collection's console code (the _console package) on behalf of the controller.

The controller starts it with ``python3 -c BOOTSTRAP`` (over SSH to the node, or locally), sends the source of the
module_utils it needs on its standard input (see BOOTSTRAP), then requests, each answered before the next is read.
Nothing is written on the node and nothing listens: the relay speaks only on its standard input and output.

A frame is ``struct.pack('>II', len(header), len(data))``, a JSON header (an object), then ``data`` (raw bytes).

Requests (header ``op`` and its fields; ``data`` as said):

* ``exec``: ``sandbox`` (the common fields below), ``command_length``, ``timeout`` (0: none); ``data`` is the
  command (``command_length`` bytes) followed by the bytes for its standard input (none: ``/dev/null``).
* ``put``: ``sandbox``, ``path``; ``data`` is the file's content, written to ``path`` in the guest.
* ``fetch``: ``sandbox``, ``path``; the answer's ``data`` is the content of ``path`` in the guest.

``sandbox`` is ``{id, sandbox_root, rs_sandbox_root, shim_socket, debug_port, connect_timeout}``.

Answers: ``{"status": "ok", "rc", "stdout_length", "stderr_merged", "timed_out", "interrupted", "complete"}`` with
stdout then stderr in ``data``; ``{"status": "unreachable", "msg"}`` when the sandbox cannot be reached (no shim
socket, a shim that does not answer, a console that refuses or is disabled, a connection lost mid-command);
``{"status": "failed", "msg"}`` when it was reached but the request could not be done (a guest without the tools
needed, a file that cannot be read); ``{"status": "error", "msg", "traceback"}`` for a bug.
"""

from __future__ import annotations

import json
import struct
import sys

_HEADER = struct.Struct('>II')
MAX_HEADER = 1 << 20
MAX_DATA = 1 << 34

# Run by ``python3 -c`` on the node. It reads one line ``<length>\n`` and that many bytes: zlib-compressed JSON
# ``{"modules": {name: [is_package, source]}, "main": name}``, serves those modules from memory (a meta path finder,
# so that imports inside functions work as they do in the collection), imports ``main`` and calls its ``serve()``.
BOOTSTRAP = r'''
import sys, json, zlib, importlib.abc, importlib.util
i = sys.stdin.buffer
n = int(i.readline())
d = b''
while len(d) < n:
    c = i.read(n - len(d))
    if not c:
        sys.exit(3)
    d += c
p = json.loads(zlib.decompress(d).decode('utf-8'))
m = p['modules']
class F(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name in m:
            return importlib.util.spec_from_loader(name, self, is_package=m[name][0])
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        exec(compile(m[module.__name__][1], '<kata relay: %s>' % module.__name__, 'exec'), module.__dict__)
sys.meta_path.insert(0, F())
sys.exit(importlib.import_module(p['main']).serve())
'''


class ProtocolError(Exception):
    """The other side sent something that is not a frame, or closed in the middle of one."""


def _read_exact(stream, size):
    chunks = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise ProtocolError('the stream ended %d bytes before the end of a frame' % left)
        chunks.append(chunk)
        left -= len(chunk)
    return b''.join(chunks)


def read_frame(stream):
    """``(header dict, data bytes)``, or None at a clean end of the stream (before a frame starts)."""
    first = stream.read(_HEADER.size)
    if not first:
        return None
    if len(first) < _HEADER.size:
        first += _read_exact(stream, _HEADER.size - len(first))
    header_length, data_length = _HEADER.unpack(first)
    if header_length > MAX_HEADER or data_length > MAX_DATA:
        raise ProtocolError('a frame announces %d + %d bytes: not a relay frame' % (header_length, data_length))
    try:
        header = json.loads(_read_exact(stream, header_length).decode('utf-8'))
    except ValueError as exc:
        raise ProtocolError('a frame header is not JSON: %s' % exc) from exc
    if not isinstance(header, dict):
        raise ProtocolError('a frame header is not a JSON object')
    return header, _read_exact(stream, data_length)


def frame(header, data=b''):
    """The bytes of one frame."""
    encoded = json.dumps(header, sort_keys=True).encode('utf-8')
    return _HEADER.pack(len(encoded), len(data)) + encoded + data


# -- the node's side ----------------------------------------------------------------------------------------------

class _Unreachable(Exception):
    pass


class _Failed(Exception):
    pass


class Relay(object):
    """Serves requests for the sandboxes of this node. Agent URLs are asked once per sandbox and relay."""

    def __init__(self):
        self._agent_urls = {}

    def _address(self, sandbox):
        from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import parse_agent_url
        from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import shim_client

        key = (sandbox.get('id'), sandbox.get('sandbox_root'), sandbox.get('rs_sandbox_root'), sandbox.get('shim_socket'))
        url = self._agent_urls.get(key)
        if url is None:
            params = {'sandbox_root': sandbox.get('sandbox_root'), 'rs_sandbox_root': sandbox.get('rs_sandbox_root'),
                      'shim_socket': sandbox.get('shim_socket'), 'timeout': sandbox.get('connect_timeout') or 3.0}
            client = shim_client(params, sandbox.get('id'), max_body=64 * 1024)
            url = client.get('/agent-url')
            self._agent_urls[key] = url
        return parse_agent_url(url)

    def _run(self, sandbox, command, stdin=None, timeout=None):
        """Run ``command`` (bytes) in the guest: an ExecResult. _Unreachable or _Failed otherwise."""
        from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import DEFAULT_DEBUG_PORT
        from ansible_collections.katacontainers.kata.plugins.module_utils._console._session import open_session
        from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, KataError, PeerError
        from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import validate_sandbox_id

        connect_timeout = float(sandbox.get('connect_timeout') or 3.0)
        port = int(sandbox.get('debug_port') or DEFAULT_DEBUG_PORT)
        try:
            validate_sandbox_id(sandbox.get('id'), option='kata_sandbox_id')
        except ArgumentError as exc:
            raise _Failed(exc.msg) from exc
        try:
            session = open_session(sandbox.get('id'), self._address(sandbox), port, connect_timeout)
        except ArgumentError as exc:
            raise _Failed(exc.msg) from exc
        except KataError as exc:
            raise _Unreachable('sandbox %s: %s' % (sandbox.get('id'), exc.msg)) from exc
        try:
            try:
                session.start(connect_timeout)
            except PeerError as exc:
                raise _Unreachable(exc.msg) from exc
            try:
                return session.run(command, stdin=stdin, timeout=timeout or None)
            except PeerError as exc:
                if session.eof:
                    raise _Unreachable(exc.msg) from exc
                raise _Failed(exc.msg) from exc
            except KataError as exc:
                raise _Failed(exc.msg) from exc
        finally:
            session.close()

    def handle(self, header, data):
        op = header.get('op')
        sandbox = header.get('sandbox') or {}
        if op == 'exec':
            length = int(header.get('command_length', len(data)))
            command, stdin = data[:length], data[length:]
            outcome = self._run(sandbox, command, stdin=stdin or None, timeout=header.get('timeout'))
            return ({'status': 'ok', 'rc': outcome.rc, 'stdout_length': len(outcome.stdout),
                     'stderr_merged': outcome.stderr_merged, 'timed_out': outcome.timed_out,
                     'interrupted': outcome.interrupted, 'complete': outcome.complete},
                    outcome.stdout + outcome.stderr)
        if op in ('put', 'fetch'):
            import shlex

            path = header.get('path')
            if not isinstance(path, str) or not path or '\0' in path:
                raise _Failed('%s: invalid guest path %r' % (op, path))
            quoted = shlex.quote(path)
            if op == 'put':
                # stdin reaches the guest as a file of the console's private directory (none for empty data).
                command = ('cat > %s' % quoted) if data else (': > %s' % quoted)
                outcome = self._run(sandbox, command.encode('utf-8', 'surrogateescape'), stdin=data or None,
                                    timeout=header.get('timeout'))
            else:
                outcome = self._run(sandbox, ('cat -- %s' % quoted).encode('utf-8', 'surrogateescape'),
                                    timeout=header.get('timeout'))
            if outcome.timed_out:
                raise _Failed('%s %s: the guest did not finish within %s s' % (op, path, header.get('timeout')))
            if outcome.rc != 0:
                said = (outcome.stdout if outcome.stderr_merged else outcome.stderr).decode('utf-8', 'replace').strip()
                raise _Failed('%s: cannot %s %s in the guest (exit status %s): %s'
                              % (op, 'write' if op == 'put' else 'read', path, outcome.rc, said[-500:] or 'no message'))
            if op == 'put':
                return {'status': 'ok', 'rc': 0}, b''
            return {'status': 'ok', 'rc': 0, 'length': len(outcome.stdout)}, outcome.stdout
        raise _Failed('unknown relay request %r' % (op,))


def serve(infile=None, outfile=None):
    """Answer requests until the controller closes the relay's standard input; the exit status."""
    infile = infile or sys.stdin.buffer
    outfile = outfile or sys.stdout.buffer
    relay = Relay()
    while True:
        try:
            request = read_frame(infile)
        except ProtocolError as exc:
            outfile.write(frame({'status': 'error', 'msg': 'relay: %s' % exc}))
            outfile.flush()
            return 2
        if request is None:
            return 0
        header, data = request
        try:
            answer, payload = relay.handle(header, data)
        except _Unreachable as exc:
            answer, payload = {'status': 'unreachable', 'msg': str(exc)}, b''
        except _Failed as exc:
            answer, payload = {'status': 'failed', 'msg': str(exc)}, b''
        except Exception as exc:  # pylint: disable=broad-exception-caught
            import traceback

            answer, payload = {'status': 'error', 'msg': 'relay: %s: %s' % (type(exc).__name__, exc),
                               'traceback': traceback.format_exc()}, b''
        outfile.write(frame(answer, payload))
        outfile.flush()
