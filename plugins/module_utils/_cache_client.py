# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Client of kata's VM-cache server: gRPC ``cache.CacheService`` over the unix socket ``vm_cache_endpoint``.

kata-runtime's ``factory init`` (cache mode) serves ``cache.CacheService`` (``src/runtime/protocols/cache/cache.proto``)
over plain gRPC (HTTP/2 without TLS) on a unix socket; kata's clients dial ``unix://<vm_cache_endpoint>``. Every
request is ``google.protobuf.Empty`` (zero bytes on the wire). The replies used here:

* ``GrpcStatus { int64 pid = 1; repeated GrpcVMStatus vmstatus = 2; }`` and
  ``GrpcVMStatus { int64 pid = 1; uint32 cpu = 2; uint32 memory = 3; }`` (memory in MiB);
* ``GrpcVMConfig { bytes Data = 1; bytes AgentConfig = 2; }`` (JSON of kata's VMConfig and agent config);
* ``Quit`` answers ``Empty`` and the server stops about a second later.

The three messages are decoded here by a small protobuf wire-format reader (proto3 semantics: unknown fields are
skipped, the last value of a scalar field wins, a field with an unexpected wire type is treated as unknown) instead
of generated ``*_pb2`` code, so that only grpcio is needed and no protobuf runtime version is pinned.

grpcio is optional for the collection and imported only here. Nothing in this file raises on import: ``HAS_GRPC``
and ``GRPC_IMPORT_ERROR`` tell, and the functions that need gRPC raise MissingDependencyError.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import traceback

from ansible.module_utils.compat.version import LooseVersion

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ConfigError,
    MissingDependencyError,
    PeerError,
)

try:
    import grpc
except ImportError:
    grpc = None
    HAS_GRPC = False
    GRPC_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_GRPC = True
    GRPC_IMPORT_ERROR = None

# The oldest grpcio this client is tested with (Debian 12 ships 1.51.1).
# NOTE: must be kept in sync with the requirements in plugins/doc_fragments/_grpc_dep.py.
GRPC_MINIMUM_VERSION = '1.51.0'
GRPC_REASON = 'to talk to the Kata VM cache server ([factory] vm_cache_number > 0)'

SERVICE = 'cache.CacheService'
DEFAULT_TIMEOUT = 3.0
UNIX_PATH_MAX = 107  # sun_path holds 108 bytes with the terminating NUL
MAX_MESSAGE = 16 * 1024 * 1024

# Endpoint states found by probe_endpoint().
MISSING = 'missing'          # nothing at the path
NOT_SOCKET = 'not_socket'    # something else than a socket is there
STALE = 'stale'              # a socket file nobody listens on (connection refused)
LISTENING = 'listening'      # something accepts connections


def require_grpc():
    """Raise MissingDependencyError unless a recent enough grpcio is importable."""
    if not HAS_GRPC:
        raise MissingDependencyError('grpcio', exception=GRPC_IMPORT_ERROR, reason=GRPC_REASON)
    version = getattr(grpc, '__version__', None)
    if version and LooseVersion(version) < LooseVersion(GRPC_MINIMUM_VERSION):
        raise MissingDependencyError('grpcio >= %s' % GRPC_MINIMUM_VERSION,
                                     reason='%s; grpcio %s is installed' % (GRPC_REASON, version))


# -- protobuf wire format -------------------------------------------------------------------------------------------

class DecodeError(ValueError):
    """A message that is not valid protobuf wire format."""


_U64 = (1 << 64) - 1
_WIRE_VARINT, _WIRE_FIXED64, _WIRE_BYTES, _WIRE_FIXED32 = 0, 1, 2, 5


def _varint(data, pos):
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError('truncated varint at byte %d' % pos)
        byte = data[pos]
        pos += 1
        if shift < 64:
            result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result & _U64, pos
        shift += 7
        if shift >= 70:
            raise DecodeError('varint longer than 10 bytes at byte %d' % pos)


def iter_fields(data):
    """Yield ``(field number, wire type, value)`` for each field of a message: ints for varints and fixed fields,
    bytes for length-delimited ones. Groups (wire types 3 and 4, unused by proto3) are an error."""
    data = bytes(data)
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise DecodeError('invalid field number %d at byte %d' % (number, start))
        if wire == _WIRE_VARINT:
            value, pos = _varint(data, pos)
        elif wire == _WIRE_FIXED64 or wire == _WIRE_FIXED32:
            size = 8 if wire == _WIRE_FIXED64 else 4
            if pos + size > len(data):
                raise DecodeError('truncated %d-byte field %d at byte %d' % (size, number, start))
            value = int.from_bytes(data[pos:pos + size], 'little')
            pos += size
        elif wire == _WIRE_BYTES:
            size, pos = _varint(data, pos)
            if size > len(data) - pos:
                raise DecodeError('field %d at byte %d claims %d bytes, %d are left' % (number, start, size, len(data) - pos))
            value = data[pos:pos + size]
            pos += size
        else:
            raise DecodeError('unsupported wire type %d for field %d at byte %d' % (wire, number, start))
        yield number, wire, value


def _int64(value):
    return value - (1 << 64) if value >= (1 << 63) else value


def _uint32(value):
    return value & 0xFFFFFFFF


def decode_vm_status(data):
    """``GrpcVMStatus`` -> ``{'pid': int, 'cpu': int, 'memory_mib': int}``."""
    vm = {'pid': 0, 'cpu': 0, 'memory_mib': 0}
    for number, wire, value in iter_fields(data):
        if wire != _WIRE_VARINT:
            continue
        if number == 1:
            vm['pid'] = _int64(value)
        elif number == 2:
            vm['cpu'] = _uint32(value)
        elif number == 3:
            vm['memory_mib'] = _uint32(value)
    return vm


def decode_status(data):
    """``GrpcStatus`` -> ``{'pid': int, 'vms': [GrpcVMStatus dicts]}``."""
    status = {'pid': 0, 'vms': []}
    for number, wire, value in iter_fields(data):
        if number == 1 and wire == _WIRE_VARINT:
            status['pid'] = _int64(value)
        elif number == 2 and wire == _WIRE_BYTES:
            status['vms'].append(decode_vm_status(value))
    return status


def decode_vm_config(data):
    """``GrpcVMConfig`` -> ``{'data': bytes, 'agent_config': bytes}``."""
    config = {'data': b'', 'agent_config': b''}
    for number, wire, value in iter_fields(data):
        if wire != _WIRE_BYTES:
            continue
        if number == 1:
            config['data'] = value
        elif number == 2:
            config['agent_config'] = value
    return config


# -- the endpoint -------------------------------------------------------------------------------------------------

def check_endpoint_path(endpoint, key='factory.vm_cache_endpoint'):
    """An endpoint must be an absolute path that fits in a unix socket address; ConfigError otherwise."""
    if not endpoint or not os.path.isabs(endpoint):
        raise ConfigError('%s must be an absolute path, got %r: kata-runtime would resolve it against the current '
                          'directory of each process' % (key, endpoint))
    size = len(os.fsencode(endpoint))
    if size > UNIX_PATH_MAX:
        raise ConfigError('%s %s is %d bytes long; a unix socket address holds at most %d' % (key, endpoint, size,
                                                                                              UNIX_PATH_MAX))
    return endpoint


def probe_endpoint(endpoint, timeout=DEFAULT_TIMEOUT):
    """Look at the endpoint without gRPC. Returns ``(state, detail)``: MISSING, NOT_SOCKET (detail: what is there),
    STALE (a socket that refuses connections) or LISTENING. Other errors (permission denied...) raise PeerError."""
    try:
        mode = os.stat(endpoint).st_mode
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return MISSING, None
        raise PeerError('cannot look at the VM cache endpoint %s: %s' % (endpoint, exc.strerror or exc),
                        endpoint=endpoint)
    if not stat.S_ISSOCK(mode):
        kind = 'a directory' if stat.S_ISDIR(mode) else 'a regular file' if stat.S_ISREG(mode) else 'not a socket'
        return NOT_SOCKET, kind
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(endpoint)
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            return STALE, None
        if exc.errno == errno.ENOENT:
            return MISSING, None
        if isinstance(exc, socket.timeout) or exc.errno in (errno.EAGAIN, errno.ETIMEDOUT):
            # The listen backlog is full: something listens, but is not accepting.
            return LISTENING, 'the connection was not accepted within %g s' % timeout
        raise PeerError('cannot connect to the VM cache endpoint %s: %s' % (endpoint, exc.strerror or exc),
                        endpoint=endpoint)
    finally:
        sock.close()
    return LISTENING, None


def grpc_target(endpoint):
    """The gRPC target for a socket path: ``unix:`` and the absolute path, percent-encoded (gRPC decodes it)."""
    from urllib.parse import quote
    return 'unix:' + quote(endpoint, safe="/-_.~!$&'()*+,;=:@")


# -- the client ---------------------------------------------------------------------------------------------------

class CacheClient(object):
    """gRPC client of one VM-cache server. ``timeout`` (seconds) bounds each call, connecting included.

    Use it as a context manager, or call ``close()``: the channel holds a connection and threads.
    """

    def __init__(self, endpoint, timeout=DEFAULT_TIMEOUT):
        require_grpc()
        self.endpoint = endpoint
        self.timeout = timeout
        self._channel = grpc.insecure_channel(grpc_target(endpoint), options=[
            ('grpc.enable_http_proxy', 0),
            ('grpc.max_receive_message_length', MAX_MESSAGE),
        ])

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def call(self, method):
        """Send ``Empty`` to ``/cache.CacheService/<method>``; return the reply's bytes. PeerError on any failure."""
        path = '/%s/%s' % (SERVICE, method)
        # Without serializers gRPC sends and returns raw bytes: Empty is zero bytes.
        stub = self._channel.unary_unary(path)
        try:
            return stub(b'', timeout=self.timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, 'code') else None
            name = code.name if code is not None else 'UNKNOWN'
            details = exc.details() if hasattr(exc, 'details') else str(exc)
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                msg = ('the VM cache server at %s did not answer gRPC %s within %g s: something accepts connections '
                       'there but does not speak gRPC (or is stuck)' % (self.endpoint, path, self.timeout))
            else:
                msg = 'gRPC %s to the VM cache server at %s failed: %s: %s' % (path, self.endpoint, name, details)
            raise PeerError(msg, endpoint=self.endpoint, rpc=path, grpc_code=name, grpc_details=details)

    def _decode(self, method, decoder, data):
        try:
            return decoder(data)
        except DecodeError as exc:
            raise PeerError('the VM cache server at %s answered gRPC /%s/%s with a malformed message: %s'
                            % (self.endpoint, SERVICE, method, exc), endpoint=self.endpoint)

    def status(self):
        """``Status`` -> ``{'pid': server pid, 'vms': [{'pid', 'cpu', 'memory_mib'}]}``."""
        return self._decode('Status', decode_status, self.call('Status'))

    def config(self):
        """``Config`` -> ``{'data': bytes, 'agent_config': bytes}`` (JSON texts of kata's VMConfig and agent)."""
        return self._decode('Config', decode_vm_config, self.call('Config'))

    def quit(self):
        """``Quit``: the server stops about a second after answering."""
        self.call('Quit')
