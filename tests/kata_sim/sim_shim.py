# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata's shim management API (kata-containers 3.0.0 ``src/runtime/pkg/containerd-shim-v2/shim_management.go``).

A Go ``http.ServeMux`` with six exact paths; every other path gets Go's ``404 page not found``; unclean paths get
the mux's 301 redirect. Handlers write what kata's handlers write (no Content-Type of their own, error bodies are
the raw error strings without a newline).

A runtime-rs sandbox (``--rs``) is served as runtime-rs serves it instead (sim_rsmgmt.py): routing on method and
path, 404 ``URL NOT FOUND``, hyper's answers, and a handler error drops the connection without any answer.
"""

from __future__ import annotations

import html
import os
import time
import urllib.parse

import sim_faults
from sim_agent import AgentError, resize_volume, volume_stats
from sim_goutil import GoError, go_clean_path, go_json_marshal, go_path_error, go_query_get, go_unescape, go_unmarshal_resize
from sim_http import BadRequest, Response, go_error_response
from sim_metrics import ProcSelf, agent_families, shim_families
from sim_promtext import encoder_writes
from sim_rsmgmt import HandlerError, RsShimSite
from sim_rsmgmt import wire as rs_wire

METRICS_URL = '/metrics'
AGENT_URL = '/agent-url'
DIRECT_VOLUME_STATS_URL = '/direct-volume/stats'
DIRECT_VOLUME_RESIZE_URL = '/direct-volume/resize'
IPTABLES_URL = '/iptables'
IP6TABLES_URL = '/ip6tables'
DIRECT_VOLUME_PATH_KEY = b'path'


def _go_html_escape(text):
    return html.escape(text, quote=False).replace('"', '&#34;').replace("'", '&#39;')


def _redirect(request, clean):
    """ServeMux's redirect to the cleaned path (http.RedirectHandler, 301)."""
    location = urllib.parse.quote(clean, safe="/!$&'()*+,;=:@-._~")
    if request.raw_query:
        location += '?' + request.raw_query.decode('latin-1')
    headers = {'Location': location}
    if request.method in ('GET', 'HEAD'):
        headers['Content-Type'] = 'text/html; charset=utf-8'
    response = Response(301, headers=headers)
    if request.method == 'GET':
        response.write(('<a href="%s">Moved Permanently</a>.\n\n' % _go_html_escape(location)).encode('utf-8'))
    return response


class ShimSite:
    """The management server of one sandbox: routing, faults and the request log around the handlers."""

    def __init__(self, sandbox, log):
        self.sandbox = sandbox
        self.log = log
        self.routes = {
            METRICS_URL: self.serve_metrics,
            AGENT_URL: self.agent_url,
            DIRECT_VOLUME_STATS_URL: self.serve_volume_stats,
            DIRECT_VOLUME_RESIZE_URL: self.serve_volume_resize,
            IPTABLES_URL: lambda request: self.iptables_handler(request, False),
            IP6TABLES_URL: lambda request: self.iptables_handler(request, True),
        }
        self.rs = RsShimSite(sandbox, self._rs_metrics) if sandbox.runtime == 'rs' else None

    # -- the connection side -------------------------------------------------------------------------------------

    def serve(self, conn, request):
        """Answer one request (with the sandbox's fault for this path, if any); returns whether to keep the connection."""
        if self.rs is not None:
            return self.serve_rs(conn, request)
        mode = self.sandbox.fault_for(request.path)
        if mode == 'hang':
            self._log(request, None, 0, mode)
        logged = []

        def log_once(status, sent):
            if not logged:
                logged.append(True)
                self._log(request, status, sent, mode)

        status, sent, keep = None, 0, False
        try:
            if mode:
                status, sent, keep = sim_faults.apply(mode, conn, request, lambda: self.route(request), log_once)
            else:
                # Logged before the answer leaves, so a client that got it finds its line in the log.
                keep, sent = conn.send_response(request, self.route(request), before_send=log_once)
        except BadRequest as exc:  # a malformed chunked body, found while a handler read it
            conn.write_and_close(exc.wire)
            status, keep = 400, False
        finally:
            if mode != 'hang':
                log_once(status, sent)
        return keep

    def serve_rs(self, conn, request):
        """runtime-rs: the ``status500`` fault makes the agent fail (handlers that need it return an error, so the
        connection drops; /metrics answers without the agent's part, as its unwrap_or_default does); the other faults
        distort the answer as for the Go shim. A handler error drops the connection: no byte of an answer."""
        mode = self.sandbox.fault_for(request.path)
        agent_down = mode == 'status500'
        try:
            if mode and not agent_down:
                logged = []

                def log_once(status, sent):
                    if not logged:
                        logged.append(True)
                        self._log(request, status, sent, mode)

                def go_shaped():
                    answer = self.rs.route(request)
                    return Response(answer.status, answer.body, {'Content-Length': str(len(answer.body))})

                if mode == 'hang':
                    self._log(request, None, 0, mode)
                status, sent, keep = sim_faults.apply(mode, conn, request, go_shaped, log_once)
                if mode != 'hang':
                    log_once(status, sent)
                return keep
            answer = self.rs.route(request, agent_down=agent_down)
        except HandlerError as exc:
            self._log(request, None, 0, mode, error=str(exc))
            # hyper's serve_connection returns the service's error and the stream is dropped.
            sim_faults.abort(conn)
            return False
        close = request.wants_close or not request.http11
        if not close and request.discard_body():
            close = True
        data = rs_wire(request, answer)
        self._log(request, answer.status, len(answer.body), mode)
        conn.sock.sendall(data)
        return not close

    def _rs_metrics(self, request, agent_ok):
        if agent_ok:
            return b''.join(self.serve_metrics(request).writes)
        return b''.join(encoder_writes(shim_families(self.sandbox.metrics, ProcSelf())))

    def log_bad_request(self, wire):
        status = int(wire.split(b' ', 2)[1])
        self.log({'sandbox': self.sandbox.id, 'runtime': self.sandbox.runtime, 'method': None, 'path': None,
                  'query': None, 'status': status, 'bytes': len(wire.split(b'\r\n\r\n', 1)[-1]), 'request_bytes': 0,
                  'fault': None})

    def _log(self, request, status, sent, mode, **extra):
        entry = {'sandbox': self.sandbox.id, 'runtime': self.sandbox.runtime, 'method': request.method,
                 'path': request.path, 'query': request.raw_query.decode('utf-8', 'replace'), 'status': status,
                 'bytes': sent, 'request_bytes': request.body_read, 'fault': mode}
        entry.update(extra)
        self.log(entry)

    def route(self, request):
        clean = go_clean_path(request.path)
        if clean != request.path and request.method != 'CONNECT':
            return _redirect(request, clean)
        handler = self.routes.get(request.path)
        if handler is None:
            return go_error_response('404 page not found', 404)
        return handler(request)

    # -- handlers ----------------------------------------------------------------------------------------------------

    def serve_metrics(self, request):
        sandbox = self.sandbox
        state = sandbox.metrics
        proc = ProcSelf()
        response = Response(200)
        response.writes.extend(encoder_writes(shim_families(state, proc)))
        started = time.time()
        if sandbox.agent_latency:
            time.sleep(sandbox.agent_latency)  # the GetMetrics round trip to the agent in the VM (vsock, ttrpc)
        with state.lock:
            state.scrapes += 1  # the agent counts the scrape before gathering
        response.writes.extend(encoder_writes(agent_families(state)))
        state.observe_agent('grpc.GetMetricsRequest', (time.time() - started) * 1000)
        # The shim's pod-overhead measurement starts now and shows on the next scrape.
        rng = state.rng('overhead')
        state.pod_overhead = (round(rng.uniform(0.5, 3.5), 6), 120000000 + rng.randint(0, 8) * 4096)
        return response

    def agent_url(self, request):
        return Response(200, self.sandbox.agent_url().encode('utf-8'))

    def _guest_mount_path(self, volume_path):
        """Sandbox.guestMountPath: the device must exist on the host, then be the source of a mount."""
        text = volume_path.decode('utf-8', 'surrogateescape')
        try:
            os.stat(volume_path)
        except OSError as exc:
            raise GoError(go_path_error('stat', text, exc)) from exc
        except ValueError as exc:  # an embedded NUL: Go's syscall layer answers EINVAL
            raise GoError('stat %s: invalid argument' % text) from exc
        volume = self.sandbox.volumes.get(text)
        if volume is None:
            raise GoError('mount %s not found in sandbox' % text)
        return volume

    def serve_volume_stats(self, request):
        value = go_query_get(request.raw_query, DIRECT_VOLUME_PATH_KEY)
        if not value:
            return Response(400, b'Required parameter path not found')
        started = time.time()
        try:
            volume_path = go_unescape(value)
            volume = self._guest_mount_path(volume_path)
            try:
                stats = volume_stats(volume.guest_path, volume.size)
            finally:
                self.sandbox.metrics.observe_agent('grpc.VolumeStatsRequest', (time.time() - started) * 1000)
        except (GoError, AgentError) as exc:
            return Response(500, str(exc).encode('utf-8', 'surrogateescape'))
        return Response(200, go_json_marshal(stats))

    def serve_volume_resize(self, request):
        body = request.body()
        try:
            volume_path, size = go_unmarshal_resize(body)
            volume = self._guest_mount_path(volume_path.encode('utf-8', 'surrogateescape'))
            started = time.time()
            try:
                volume.size = resize_volume(self.sandbox.agent_version, volume.guest_path, size)
            finally:
                self.sandbox.metrics.observe_agent('grpc.ResizeVolumeRequest', (time.time() - started) * 1000)
        except (GoError, AgentError) as exc:
            return Response(500, str(exc).encode('utf-8', 'surrogateescape'))
        self.sandbox.changed()
        return Response(200)

    def iptables_handler(self, request, is_ipv6):
        iptables = self.sandbox.iptables
        started = time.time()
        if request.method == 'PUT':
            body = request.body()
            try:
                iptables.set(is_ipv6, body)
            except AgentError as exc:
                return Response(500, str(exc).encode('utf-8'))
            finally:
                self.sandbox.metrics.observe_agent('grpc.SetIPTablesRequest', (time.time() - started) * 1000)
            return Response(200)
        if request.method == 'GET':
            try:
                data = iptables.get(is_ipv6)
            except AgentError as exc:
                return Response(500, str(exc).encode('utf-8'))
            finally:
                self.sandbox.metrics.observe_agent('grpc.GetIPTablesRequest', (time.time() - started) * 1000)
            return Response(200, data)
        return Response(501)
