# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shim client against real unix-socket HTTP servers, with both transports."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _shim_client
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    MissingDependencyError,
    ShimError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import (
    DEFAULT_MAX_BODY,
    ShimClient,
    body_excerpt,
    request_target,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv

try:
    import requests_unixsocket  # noqa: F401, pylint: disable=unused-import
    HAS_REQUESTS_UNIXSOCKET = True
except ImportError:
    HAS_REQUESTS_UNIXSOCKET = False

MiB = 1024 * 1024


@pytest.fixture(params=['stdlib', 'requests'])
def transport(request):
    if request.param == 'requests' and not HAS_REQUESTS_UNIXSOCKET:
        pytest.skip('requests-unixsocket is not installed (pip install requests-unixsocket, see '
                    'tests/unit/requirements.txt): the requests transport cannot be tested here')
    return request.param


@pytest.fixture
def servers():
    factory = srv.ServerFactory()
    yield factory
    factory.close()


def client(server_or_path, transport, **kwargs):
    path = server_or_path if isinstance(server_or_path, str) else server_or_path.path
    return ShimClient(path, transport=transport, **kwargs)


def failure(server_or_path, transport, method='GET', path='/agent-url', **kwargs):
    with pytest.raises(ShimError) as exc_info:
        client(server_or_path, transport, **kwargs).request(method, path)
    return exc_info.value


# --- successful exchanges ---------------------------------------------------------------------------------------

def test_get_with_content_length(servers, transport):
    server = servers.start(srv.respond(200, 'vsock://1234567:1024', headers=[('Content-Type', 'text/plain; charset=utf-8')]))
    response = client(server, transport).request('GET', '/agent-url')
    assert response.status == 200
    assert response.reason == 'OK'
    assert response.body == b'vsock://1234567:1024'
    assert response.text == 'vsock://1234567:1024'
    assert response.url == 'http://shim/agent-url'
    assert response.headers['content-type'] == 'text/plain; charset=utf-8'
    assert response.headers['content-length'] == '20'
    request = server.requests[0]
    assert (request.method, request.target, request.body) == ('GET', '/agent-url', b'')
    assert request.headers['host'] == 'shim'
    assert request.headers['connection'] == 'close'
    assert request.headers['accept-encoding'] == 'identity'
    assert request.headers['user-agent'] == 'katacontainers.kata'


def test_get_helper_returns_bytes(servers, transport):
    server = servers.start(srv.respond(200, 'hvsock:///run/vc/vm/abc/clh.sock:1024'))
    assert client(server, transport).get('/agent-url') == b'hvsock:///run/vc/vm/abc/clh.sock:1024'


def test_chunked_answer(servers, transport):
    body = b'# HELP kata_shim_fds Kata containerd shim v2 open FDs.\n# TYPE kata_shim_fds gauge\nkata_shim_fds 24\n'
    server = servers.start(srv.respond(200, body, chunked=True))
    response = client(server, transport).request('GET', '/metrics')
    assert response.body == body
    assert response.headers['transfer-encoding'] == 'chunked'


def test_answer_until_close(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nno length, ends at close'))
    response = client(server, transport).request('GET', '/iptables')
    assert (response.status, response.body) == (200, b'no length, ends at close')


def test_empty_200_body(servers, transport):
    server = servers.start(srv.respond(200, b''))
    assert client(server, transport).post_json('/direct-volume/resize', {'VolumePath': '/dev/sda', 'Size': 1}) == b''


def test_put_sends_body_and_content_type(servers, transport):
    server = servers.start(srv.respond(200, b''))
    rules = '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'
    assert client(server, transport).put('/iptables', rules) == b''
    request = server.requests[0]
    assert (request.method, request.target, request.body) == ('PUT', '/iptables', rules.encode())
    assert request.headers['content-type'] == 'application/octet-stream'
    assert request.headers['content-length'] == str(len(rules))


def test_post_json_is_compact_like_go(servers, transport):
    server = servers.start(srv.respond(200, b''))
    client(server, transport).post_json('/direct-volume/resize', {'VolumePath': '/dev/sdb', 'Size': 1073741824})
    request = server.requests[0]
    assert request.method == 'POST'
    assert request.body == b'{"VolumePath":"/dev/sdb","Size":1073741824}'
    assert request.headers['content-type'] == 'application/json'


def test_query_is_percent_encoded(servers, transport):
    server = servers.start(srv.respond(200, '{}'))
    client(server, transport).get('/direct-volume/stats', query={'path': '/dev/disk/by-id/a b+c'})
    assert server.requests[0].target == '/direct-volume/stats?path=%2Fdev%2Fdisk%2Fby-id%2Fa%20b%2Bc'


def test_interim_answer_is_skipped(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.1 100 Continue\r\n\r\n' + srv.answer(200, 'done')))
    response = client(server, transport).request('PUT', '/iptables', body=b'x')
    assert (response.status, response.body) == (200, b'done')


def test_no_body_for_204(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.1 204 No Content\r\n\r\n'))
    response = client(server, transport).request('GET', '/x')
    assert (response.status, response.body) == (204, b'')


def test_invalid_utf8_body_is_returned_as_bytes(servers, transport):
    server = servers.start(srv.respond(200, b'\xff\xfeok\x80'))
    assert client(server, transport).get('/iptables') == b'\xff\xfeok\x80'


# --- non-200 answers ----------------------------------------------------------------------------------------------

def test_404_is_returned_by_request(servers, transport):
    server = servers.start(srv.respond(404, '404 page not found', headers=[('Content-Type', 'text/plain; charset=utf-8')]))
    response = client(server, transport).request('GET', '/nope')
    assert (response.status, response.reason, response.body) == (404, 'Not Found', b'404 page not found')


def test_404_raises_in_get(servers, transport):
    server = servers.start(srv.respond(404, '404 page not found\n'))
    with pytest.raises(ShimError) as exc_info:
        client(server, transport).get('/nope')
    assert exc_info.value.msg == 'GET http://shim/nope via %s: HTTP 404 Not Found: 404 page not found' % server.path
    assert exc_info.value.details == {'url': 'http://shim/nope', 'status': 404, 'body': '404 page not found'}


def test_500_raises_in_put_with_the_plain_text_error(servers, transport):
    error = ('/sbin/iptables-restore failed: "iptables-restore v1.8.9 (nf_tables): line 2: RULE_APPEND failed '
             '(No such file or directory): rule in chain INPUT\\n"')
    server = servers.start(srv.respond(500, error))
    with pytest.raises(ShimError) as exc_info:
        client(server, transport).put('/iptables', b'*filter\nCOMMIT\n')
    assert exc_info.value.msg == 'PUT http://shim/iptables via %s: HTTP 500 Internal Server Error: %s' % (server.path, error)
    assert exc_info.value.details == {'url': 'http://shim/iptables', 'status': 500, 'body': error}


def test_500_with_query_in_url(servers, transport):
    server = servers.start(srv.respond(500, 'mount /dev/sdz not found in sandbox'))
    with pytest.raises(ShimError) as exc_info:
        client(server, transport).get('/direct-volume/stats', query=[('path', '/dev/sdz')])
    assert exc_info.value.msg == ('GET http://shim/direct-volume/stats?path=%%2Fdev%%2Fsdz via %s: HTTP 500 Internal '
                                  'Server Error: mount /dev/sdz not found in sandbox' % server.path)
    assert exc_info.value.details['url'] == 'http://shim/direct-volume/stats?path=%2Fdev%2Fsdz'


def test_501_empty_body(servers, transport):
    server = servers.start(srv.respond(501, b''))
    with pytest.raises(ShimError) as exc_info:
        client(server, transport).post_json('/iptables', {})
    assert exc_info.value.msg == 'POST http://shim/iptables via %s: HTTP 501 Not Implemented (empty body)' % server.path
    assert exc_info.value.details == {'url': 'http://shim/iptables', 'status': 501, 'body': ''}


def test_500_invalid_utf8_uses_replacement_characters(servers, transport):
    server = servers.start(srv.respond(500, b'agent said \xff\xfe'))
    with pytest.raises(ShimError) as exc_info:
        client(server, transport).get('/agent-url')
    assert exc_info.value.msg.endswith(': HTTP 500 Internal Server Error: agent said \ufffd\ufffd')
    assert exc_info.value.details['body'] == 'agent said \ufffd\ufffd'


def test_long_error_body_is_cut(servers, transport):
    server = servers.start(srv.respond(500, 'e' * 5000))
    with pytest.raises(ShimError) as exc_info:
        client(server, transport).get('/agent-url')
    assert exc_info.value.details['body'] == 'e' * 2048 + '... (5000 bytes in all)'


# --- transport failures -------------------------------------------------------------------------------------------

def test_connection_refused(servers, transport):
    path = servers.dead_socket()
    exc = failure(path, transport)
    assert exc.msg == ('GET http://shim/agent-url via %s: connection refused (nothing listens on the socket: the shim '
                       'may have exited)' % path)
    assert exc.details == {'url': 'http://shim/agent-url', 'status': None, 'body': None}


def test_missing_socket(servers, transport):
    path = os.path.join(servers.dir, 'gone.sock')
    assert failure(path, transport).msg == 'GET http://shim/agent-url via %s: it does not exist' % path


def test_symlink_is_refused(servers, transport):
    server = servers.start(srv.respond(200, 'x'))
    link = os.path.join(servers.dir, 'link.sock')
    os.symlink(server.path, link)
    assert failure(link, transport).msg == ('GET http://shim/agent-url via %s: it is a symbolic link (not followed: '
                                            'the shim socket must be the socket itself)' % link)
    assert server.requests == []


def test_regular_file_is_refused(servers, transport):
    path = os.path.join(servers.dir, 'file.sock')
    with open(path, 'w') as f:
        f.write('not a socket')
    assert failure(path, transport).msg == 'GET http://shim/agent-url via %s: it is a regular file, not a unix socket' % path


def test_never_answers(servers, transport):
    server = servers.start(srv.never_answer)
    exc = failure(server, transport, timeout=0.3)
    assert exc.msg == 'GET http://shim/agent-url via %s: no complete answer within the timeout of 0.3 seconds' % server.path
    assert exc.details == {'url': 'http://shim/agent-url', 'status': None, 'body': None}


def test_trickling_peer_cannot_stretch_the_timeout(servers, transport):
    # Every byte arrives 50 ms after the previous one, so no single read waits long; the whole answer takes ~4 s.
    server = servers.start(srv.trickle(srv.answer(200, 'x' * 40)))
    exc = failure(server, transport, timeout=0.5)
    assert exc.msg == 'GET http://shim/agent-url via %s: no complete answer within the timeout of 0.5 seconds' % server.path


def test_trickling_body_cannot_stretch_the_timeout(servers, transport):
    # The status line and headers arrive at once; then the body comes one byte every 50 ms for ~3 s.
    def behaviour(conn, request, stop):
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n')
        srv.trickle(b'x' * 60)(conn, request, stop)
    server = servers.start(behaviour)
    exc = failure(server, transport, timeout=0.5)
    assert exc.msg == 'GET http://shim/agent-url via %s: no complete answer within the timeout of 0.5 seconds' % server.path


def test_reset_in_the_middle_of_the_body(servers, transport):
    def behaviour(conn, request, stop):
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + b'y' * 10)
        # Close (no shutdown first) with the rest of the request unread: the kernel resets the connection.
        conn.close()
    server = servers.start(behaviour, read_first=8)
    exc = failure(server, transport)
    assert exc.msg == 'GET http://shim/agent-url via %s: the connection was reset by the shim' % server.path


def test_truncated_body(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + b'z' * 10))
    exc = failure(server, transport)
    assert exc.msg == ('GET http://shim/agent-url via %s: truncated answer: the connection closed after 10 of the 100 '
                       'body bytes announced by Content-Length' % server.path)


def test_truncated_chunked_body(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly-six'))
    exc = failure(server, transport)
    assert exc.msg == ('GET http://shim/agent-url via %s: truncated answer: the connection closed in the middle of '
                       'the chunked body' % server.path)


def test_body_over_max_body_announced(servers, transport):
    head = b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % (64 * MiB)
    server = servers.start(srv.stream(head, 64 * MiB))
    exc = failure(server, transport, path='/metrics')
    assert exc.msg == ('GET http://shim/metrics via %s: the answer announces a body of 67108864 bytes, more than the '
                       'limit of 16777216 bytes (max_body)' % server.path)
    assert DEFAULT_MAX_BODY == 16 * MiB


def test_body_over_max_body_until_close(servers, transport):
    server = servers.start(srv.stream(b'HTTP/1.1 200 OK\r\n\r\n', 64 * MiB))
    exc = failure(server, transport, path='/metrics')
    assert exc.msg == 'GET http://shim/metrics via %s: the answer is larger than the limit of 16777216 bytes (max_body)' % server.path


def test_body_over_max_body_chunked(servers, transport):
    server = servers.start(srv.stream(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 64 * MiB, chunked=True))
    exc = failure(server, transport, path='/metrics')
    assert exc.msg == 'GET http://shim/metrics via %s: the answer is larger than the limit of 16777216 bytes (max_body)' % server.path


def test_small_max_body(servers, transport):
    server = servers.start(srv.respond(200, 'x' * 11))
    assert client(server, transport, max_body=11).get('/metrics') == b'x' * 11
    exc = failure(server, transport, path='/metrics', max_body=10)
    assert exc.msg == ('GET http://shim/metrics via %s: the answer announces a body of 11 bytes, more than the limit '
                       'of 10 bytes (max_body)' % server.path)


def test_garbage_instead_of_http(servers, transport):
    server = servers.start(srv.raw(b'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'))
    exc = failure(server, transport)
    assert exc.msg == "GET http://shim/agent-url via %s: not an HTTP answer: it starts with 'SSH-2.0-OpenSSH_9.2p1 Debian-2'" % server.path


def test_bad_status_code(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.1 2x0 OK\r\n\r\n'))
    exc = failure(server, transport)
    assert exc.msg == "GET http://shim/agent-url via %s: not an HTTP answer: it starts with 'HTTP/1.1 2x0 OK'" % server.path


def test_close_before_status_line(servers, transport):
    """No byte of an answer: the shim's handler failed (how runtime-rs answers every handler error)."""
    server = servers.start(srv.raw(b''))
    exc = failure(server, transport)
    assert exc.msg == ('GET http://shim/agent-url via %s: the shim closed the connection without answering: the shim '
                       'failed to handle GET /agent-url (runtime-rs drops the connection when a handler returns an '
                       'error, the Go shim when a handler panics; the reason is in the shim\'s log)' % server.path)
    assert exc.details == {'url': 'http://shim/agent-url', 'status': None, 'body': None, 'handler_failed': True}


# --- stdlib transport only: stricter parsing than http.client ---------------------------------------------------------

@pytest.mark.parametrize('data, reason', [
    (b'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
     "invalid Content-Length '1, 2' in the answer"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nab', "invalid Content-Length '\xb2' in the answer"),
    (b'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', "malformed header line 'no colon here' in the answer"),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
     "unsupported Transfer-Encoding 'gzip, chunked' in the answer"),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n', "invalid chunked body: bad chunk size line '0x10'"),
    (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n', 'invalid chunked body: no line end after a chunk of 2 bytes'),
    (b'HTTP/1.1 200 OK\r\nContent-Le', 'truncated answer: the connection closed in the middle of the headers'),
    (b'HTTP/1.1 20', 'truncated answer: the connection closed in the middle of the status line'),
    (b'HT', "not an HTTP answer: it starts with 'HT'"),
    (b'HTTP/1.1 200 OK\r\n' + b'X-A: b\r\n' * 101 + b'\r\n', 'more than 100 header lines in the answer'),
    (b'HTTP/1.1 200 OK\r\nX-Long: ' + b'a' * 70000 + b'\r\n\r\n', 'header line longer than 65536 bytes in the answer'),
    (b'\x00' * 10000, "not an HTTP answer: it starts with '" + '\\x00' * 60 + "...'"),
])
def test_stdlib_protocol_errors(servers, data, reason):
    server = servers.start(srv.raw(data))
    assert failure(server, 'stdlib').msg == 'GET http://shim/agent-url via %s: %s' % (server.path, reason)


def test_stdlib_folded_and_repeated_headers(servers):
    server = servers.start(srv.raw(b'HTTP/1.1 200 OK\r\nX-A: one\r\nX-A: two\r\nX-Fold: first\r\n  second\r\n'
                                   b'Content-Length: 2\r\n\r\nok'))
    response = client(server, 'stdlib').request('GET', '/x')
    assert response.headers == {'x-a': 'one, two', 'x-fold': 'first second', 'content-length': '2'}


def test_head_has_no_body(servers, transport):
    server = servers.start(srv.raw(b'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n'))
    response = client(server, transport).request('HEAD', '/metrics')
    assert (response.status, response.body) == (200, b'')


# --- arguments ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('kwargs, message', [
    ({'timeout': 0}, 'timeout: expected a number of seconds greater than 0, got 0'),
    ({'timeout': -1.5}, 'timeout: expected a number of seconds greater than 0, got -1.5'),
    ({'timeout': True}, 'timeout: expected a number of seconds greater than 0, got True'),
    ({'timeout': float('nan')}, 'timeout: expected a number of seconds greater than 0, got nan'),
    ({'timeout': float('inf')}, 'timeout: expected a number of seconds greater than 0, got inf'),
    ({'timeout': '3'}, "timeout: expected a number of seconds greater than 0, got '3'"),
    ({'max_body': -1}, 'max_body: expected a number of bytes (0 or more), got -1'),
    ({'transport': 'curl'}, "transport: expected one of auto, stdlib, requests, got 'curl'"),
])
def test_bad_client_arguments(kwargs, message):
    with pytest.raises(ArgumentError) as exc_info:
        ShimClient('/run/vc/sbs/abc/shim-monitor.sock', **kwargs)
    assert exc_info.value.msg == message


def test_auto_means_stdlib():
    assert ShimClient('/x.sock').transport == 'stdlib'
    assert ShimClient('/x.sock', transport='stdlib').transport == 'stdlib'


@pytest.mark.parametrize('path, query, target', [
    ('/metrics', None, '/metrics'),
    ('/metrics', {}, '/metrics'),
    ('/direct-volume/stats', {'path': '/dev/sda'}, '/direct-volume/stats?path=%2Fdev%2Fsda'),
    ('/direct-volume/stats', 'path=%2Fdev%2Fsda', '/direct-volume/stats?path=%2Fdev%2Fsda'),
    ('/x', [('a', 'é~'), ('b', True)], '/x?a=%C3%A9~&b=true'),
])
def test_request_target(path, query, target):
    assert request_target(path, query) == target
    assert ShimClient.url(path, query) == 'http://shim' + target


@pytest.mark.parametrize('path, query, message', [
    ('metrics', None, "shim request path 'metrics': expected an absolute path starting with \"/\" and without a query"),
    ('/a?b', None, "shim request path '/a?b': expected an absolute path starting with \"/\" and without a query"),
    ('/a b', None, "shim request path '/a b': expected printable ASCII without spaces or \"#\""),
    ('/a\r\nX: y', None, "shim request path '/a\\r\\nX: y': expected printable ASCII without spaces or \"#\""),
    ('/a', 'x=1#f', "shim request query 'x=1#f': expected printable ASCII without spaces or \"#\""),
])
def test_bad_request_target(path, query, message):
    with pytest.raises(ArgumentError) as exc_info:
        request_target(path, query)
    assert exc_info.value.msg == message


@pytest.mark.parametrize('method', ['get', 'GET /x HTTP/1.1\r\n', '', 'PU T'])
def test_bad_method(method):
    with pytest.raises(ArgumentError) as exc_info:
        ShimClient('/x.sock').request(method, '/x')
    assert exc_info.value.msg == 'shim request method %r: expected an upper-case HTTP method' % (method,)


def test_bad_content_type():
    with pytest.raises(ArgumentError) as exc_info:
        ShimClient('/x.sock').request('PUT', '/x', body=b'', content_type='text/plain\r\nX-Evil: 1')
    assert exc_info.value.msg == "shim request content type 'text/plain\\r\\nX-Evil: 1': expected printable ASCII"


def test_body_excerpt():
    assert body_excerpt(None) is None
    assert body_excerpt(b'error text\n') == 'error text'
    assert body_excerpt(b'\xffx') == '\ufffdx'
    assert body_excerpt(b'abcdef', limit=3) == 'abc... (6 bytes in all)'


def test_response_repr(servers):
    server = servers.start(srv.respond(200, 'abc'))
    response = client(server, 'stdlib').request('GET', '/agent-url')
    assert repr(response) == "ShimResponse(status=200, reason='OK', url='http://shim/agent-url', body=<3 bytes>)"
    assert response.method == 'GET'


def test_requests_transport_missing(monkeypatch):
    # The real "not installed" state cannot coexist with the installed library: hide it from the import system.
    monkeypatch.setattr(_shim_client, '_REQUESTS_BACKEND', [])
    monkeypatch.setitem(sys.modules, 'requests_unixsocket', None)
    with pytest.raises(MissingDependencyError) as exc_info:
        ShimClient('/x.sock', transport='requests')
    assert exc_info.value.library == 'requests-unixsocket'
    assert exc_info.value.reason == 'for transport=requests (transport=stdlib needs nothing)'
    assert 'ImportError' in exc_info.value.exception or 'ModuleNotFoundError' in exc_info.value.exception
    # The default transport does not need it.
    assert ShimClient('/x.sock').transport == 'stdlib'


# --- found by the robustness suite (tests/robustness) ---------------------------------------------------------------

@pytest.mark.parametrize('timeout', [1e10, 365 * 86400.0 + 1])
def test_timeout_too_large_for_a_socket_is_refused(timeout):
    # socket.settimeout(1e10) raises OverflowError: the value must be refused before it reaches a socket.
    with pytest.raises(ArgumentError) as exc_info:
        _shim_client.ShimClient('/run/x.sock', timeout=timeout)
    assert exc_info.value.msg == 'timeout: %r seconds is more than the 31536000 (365 days) a timeout may be' % timeout


def test_timeout_of_one_year_is_accepted():
    assert _shim_client.ShimClient('/run/x.sock', timeout=365 * 86400).timeout == 31536000.0


def test_headers_cut_by_the_deadline_are_no_answer(servers, transport):
    # The status line arrives, the headers trickle and are cut by the deadline. http.client takes the end of the stream
    # for the end of the headers: the requests transport returned a "complete" 200 with an empty body.
    server = servers.start(srv.trickle(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: ' + b'p' * 40
                                       + b'\r\nContent-Length: 4\r\n\r\nbody', delay=0.02))
    exc = failure(server, transport, timeout=0.8)
    assert exc.msg == 'GET http://shim/agent-url via %s: no complete answer within the timeout of 0.8 seconds' % server.path
