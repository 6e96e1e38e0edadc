# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runtime-rs's shim management server, as 4.1.0 serves it (3.2.0 to 4.1.0 route the same paths).

Upstream (kata-containers 4.1.0):
``src/runtime-rs/crates/runtimes/src/shim_mgmt/server.rs``: a hyper 1.x ``http1`` server on
``/run/kata/<id>/shim-monitor.sock``; every connection is served with ``service_fn(handler_mux)``, and when the
service returns an error ``serve_connection`` ends with that error (hyper's dispatcher gives no answer for it) and
the connection is dropped: the client gets no HTTP status at all, only the end of the stream.
``src/runtime-rs/crates/runtimes/src/shim_mgmt/handlers.rs`` ``handler_mux`` routes on (method, path):

=======  =========================  =============================================================================
method   path                       handler
=======  =========================  =============================================================================
GET      /agent-url                 ``agent_sock()`` (``<address>:<port>``), an error becomes an empty body
GET/PUT  /iptables, /ip6tables      agent GetIPTables / SetIPTables; an agent error -> Err (dropped connection)
POST     /direct-volume/stats       ``Url::parse(&req.uri().to_string())`` (fails for an origin-form target: a
                                    relative URL), ``path`` from the form-decoded query, passed to the agent
                                    unchanged as ``volume_guest_path``; the answer is the Rust Debug text of the
                                    agent's reply (``agent/src/kata/trans.rs``)
POST     /direct-volume/resize      body -> ``agent::ResizeVolumeRequest {volume_guest_path, size}`` with serde_json
                                    (``agent/src/types.rs``), agent ResizeVolume; 200 with an empty body
GET      /metrics                   agent, hypervisor and shim metrics, each ``unwrap_or_default``: always 200
PUT      /policy                    agent SetPolicy (the body must be UTF-8)
(other)                             404 with the body ``URL NOT FOUND`` (``not_found``)
=======  =========================  =============================================================================

(3.1.0 routes only /agent-url and the two iptables paths; 3.0.0's runtime-rs has no management server.)

The answers are hyper's: ``content-length`` and ``date`` headers (lower-case, as hyper writes a HeaderMap), no
content type. The metrics text comes from the simulator's common generator (the families of the Go shim), not from
runtime-rs's own collectors.
"""

from __future__ import annotations

import email.utils
import json
import urllib.parse

from sim_agent import AgentError, resize_volume, volume_stats
from sim_goutil import rust_debug_str

AGENT_URL = '/agent-url'
IP_TABLE_URL = '/iptables'
IP6_TABLE_URL = '/ip6tables'
DIRECT_VOLUME_STATS_URL = '/direct-volume/stats'
DIRECT_VOLUME_RESIZE_URL = '/direct-volume/resize'
METRICS_URL = '/metrics'
AGENT_POLICY_URL = '/policy'
DIRECT_VOLUME_PATH_KEY = 'path'
NOT_FOUND_BODY = b'URL NOT FOUND'

# rust-protobuf 3.x Debug of a message's special_fields, as decoded from the wire (cached size never computed).
_SPECIAL_FIELDS = 'special_fields: SpecialFields { unknown_fields: UnknownFields { fields: None }, cached_size: CachedSize { size: 0 } }'
_UNIT_NAMES = {0: 'UNKNOWN', 1: 'BYTES', 2: 'INODES'}


class HandlerError(Exception):
    """A handler returned Err: hyper drops the connection without an answer."""


class RsResponse:
    """A hyper answer: status and body (``Full<Bytes>``)."""

    def __init__(self, status=200, body=b''):
        self.status = status
        self.body = body


def wire(request, response):
    """The bytes hyper 1.x writes for ``response`` (status line, content-length, date; connection: close when the
    client asked for it, as hyper's h1 role does for a connection that will not be kept alive)."""
    reasons = {200: 'OK', 404: 'Not Found'}
    lines = ['HTTP/1.1 %d %s' % (response.status, reasons.get(response.status, '')),
             'content-length: %d' % len(response.body)]
    if request.wants_close or not request.http11:
        lines.append('connection: close')
    lines.append('date: %s' % email.utils.formatdate(usegmt=True))
    body = b'' if request.method == 'HEAD' else response.body
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body


def stats_debug_text(stats):
    """``format!("Usage: {:?} Volume Condition: {:?}", from.usage(), from.volume_condition())`` (trans.rs) for the
    agent's stats (the dict sim_agent.volume_stats returns, zero fields omitted there)."""
    usages = []
    for usage in stats.get('usage') or []:
        unit = usage.get('unit', 0)
        usages.append('VolumeUsage { available: %d, total: %d, used: %d, unit: %s, %s }' % (
            usage.get('available', 0), usage.get('total', 0), usage.get('used', 0), _UNIT_NAMES.get(unit, str(unit)),
            _SPECIAL_FIELDS))
    condition = stats.get('volume_condition') or {}
    return 'Usage: [%s] Volume Condition: VolumeCondition { abnormal: %s, message: %s, %s }' % (
        ', '.join(usages), 'true' if condition.get('abnormal') else 'false',
        rust_debug_str(condition.get('message', '')), _SPECIAL_FIELDS)


def _form_pairs(query):
    """``Url::query_pairs()``: application/x-www-form-urlencoded decoding ('+' is a space, lossy UTF-8)."""
    return urllib.parse.parse_qsl(query, keep_blank_values=True, encoding='utf-8', errors='replace')


class RsShimSite:
    """The handlers of one runtime-rs sandbox; ``route`` returns an RsResponse or raises HandlerError."""

    def __init__(self, sandbox, metrics_body):
        self.sandbox = sandbox
        self.metrics_body = metrics_body  # callable(request, agent_ok) -> bytes

    def route(self, request, agent_down=False):
        # hyper's req.uri().path(): the raw path, not percent-decoded (an absolute-form target keeps only its path).
        path = request.raw_path.decode('latin-1')
        method = request.method
        if method == 'GET' and path == AGENT_URL:
            return RsResponse(200, self.sandbox.agent_url().encode('utf-8'))
        if method in ('GET', 'PUT') and path in (IP_TABLE_URL, IP6_TABLE_URL):
            return self.iptables(request, path == IP6_TABLE_URL, agent_down)
        if method == 'POST' and path == DIRECT_VOLUME_STATS_URL:
            return self.volume_stats(request, agent_down)
        if method == 'POST' and path == DIRECT_VOLUME_RESIZE_URL:
            return self.volume_resize(request, agent_down)
        if method == 'GET' and path == METRICS_URL:
            return RsResponse(200, self.metrics_body(request, not agent_down))
        if method == 'PUT' and path == AGENT_POLICY_URL:
            return self.set_policy(request, agent_down)
        return RsResponse(404, NOT_FOUND_BODY)

    def iptables(self, request, is_ipv6, agent_down):
        if request.method == 'GET':
            if agent_down:
                raise HandlerError('Failed to get iptable')
            try:
                return RsResponse(200, self.sandbox.iptables.get(is_ipv6))
            except AgentError as exc:
                raise HandlerError('Failed to get iptable') from exc
        data = request.body()
        if agent_down:
            raise HandlerError('Failed to set iptable')
        try:
            out = self.sandbox.iptables.set(is_ipv6, data)
        except AgentError as exc:
            raise HandlerError('Failed to set iptable') from exc
        return RsResponse(200, out or b'')

    def _guest_volume(self, guest_path):
        """The guest sees a direct volume at its mount point only (runtime-rs maps no host path to it)."""
        for volume in list(self.sandbox.volumes.values()):
            if volume.guest_path == guest_path:
                return volume
        raise AgentError(2, 'No such file or directory (os error 2)')

    def volume_stats(self, request, agent_down):
        target = request.target.decode('latin-1')
        if not (target.startswith('http://') or target.startswith('https://')):
            # Url::parse of an origin-form URI: ParseError::RelativeUrlWithoutBase.
            raise HandlerError('relative URL without a base')
        query = urllib.parse.urlsplit(target).query
        params = dict(_form_pairs(query))
        if DIRECT_VOLUME_PATH_KEY not in params:
            raise HandlerError('shim-mgmt: volume path key not found in request params')
        if agent_down:
            raise HandlerError('handler: Failed to get volume stats')
        try:
            volume = self._guest_volume(params[DIRECT_VOLUME_PATH_KEY])
            stats = volume_stats(volume.guest_path, volume.size)
        except AgentError as exc:
            raise HandlerError('handler: Failed to get volume stats') from exc
        return RsResponse(200, stats_debug_text(stats).encode('utf-8'))

    def volume_resize(self, request, agent_down):
        body = request.body()
        try:
            data = json.loads(body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as exc:
            raise HandlerError('shim-mgmt: deserialize resizeRequest failed') from exc
        guest_path = data.get('volume_guest_path') if isinstance(data, dict) else None
        size = data.get('size') if isinstance(data, dict) else None
        if (not isinstance(guest_path, str) or isinstance(size, bool) or not isinstance(size, int)
                or not 0 <= size < 1 << 64):
            raise HandlerError('shim-mgmt: deserialize resizeRequest failed')
        if agent_down:
            raise HandlerError('handler: Failed to resize volume')
        try:
            volume = self._guest_volume(guest_path)
            volume.size = resize_volume(self.sandbox.agent_version, volume.guest_path, size)
        except AgentError as exc:
            raise HandlerError('handler: Failed to resize volume') from exc
        self.sandbox.changed()
        return RsResponse(200, b'')

    def set_policy(self, request, agent_down):
        data = request.body()
        try:
            data.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise HandlerError('invalid utf-8 sequence') from exc
        if agent_down or self.sandbox.agent_version == '3.0.0':
            # The 3.0.0 agent has no SetPolicy (ttrpc answers NOT_FOUND): the handler's `?` returns the error.
            raise HandlerError('set agent policy handler failed')
        return RsResponse(200, b'')
