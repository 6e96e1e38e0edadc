# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release check: SemVer, kata's acceptance rules and wording, and real HTTP against local servers.

Every network test talks to a real server on 127.0.0.1 (an ephemeral port, served from a thread): well-formed
GitHub-shaped documents, GitHub's rate-limit answer, server errors, broken and oversized bodies, a server that never
answers, one that answers one byte at a time and one that trickles forever, and a TLS server with a self-signed
certificate.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _release
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ReleaseCheckError
from ansible_collections.katacontainers.kata.plugins.module_utils._release import (
    SemVer,
    newer_release,
    parse_runtime_version,
    parse_semver,
    release_check,
    release_kind,
    valid_releases,
)

DL = 'https://github.com/kata-containers/kata-containers/releases/download'
LEGACY_DL = 'https://github.com/kata-containers/runtime/releases/download'
API = 'https://api.github.com/repos/kata-containers/kata-containers'


# --- GitHub-shaped documents -----------------------------------------------------------------------------------------

def gh_asset(tag, name, created, asset_id, base=DL):
    return {
        'url': '%s/releases/assets/%d' % (API, asset_id),
        'id': asset_id,
        'node_id': 'RA_kwDOC%07d' % asset_id,
        'name': name,
        'label': '',
        'uploader': {'login': 'katacontainersbot', 'id': 40771316, 'type': 'User', 'site_admin': False},
        'content_type': 'application/x-xz',
        'state': 'uploaded',
        'size': 262144000 + asset_id,
        'download_count': 1000 + asset_id,
        'created_at': created,
        'updated_at': created,
        'browser_download_url': '%s/%s/%s' % (base, tag, name),
    }


def gh_release(tag, assets, created, release_id, prerelease=False):
    return {
        'url': '%s/releases/%d' % (API, release_id),
        'assets_url': '%s/releases/%d/assets' % (API, release_id),
        'upload_url': 'https://uploads.github.com/repos/kata-containers/kata-containers/releases/%d/assets{?name,label}'
                      % release_id,
        'html_url': 'https://github.com/kata-containers/kata-containers/releases/tag/%s' % tag,
        'id': release_id,
        'author': {'login': 'katacontainersbot', 'id': 40771316, 'type': 'User', 'site_admin': False},
        'node_id': 'RE_kwDOC%07d' % release_id,
        'tag_name': tag,
        'target_commitish': 'main',
        'name': tag,
        'draft': False,
        'prerelease': prerelease,
        'created_at': created,
        'published_at': created,
        'assets': assets,
        'tarball_url': '%s/tarball/%s' % (API, tag),
        'zipball_url': '%s/zipball/%s' % (API, tag),
        'body': '# Release %s\n\n## Bugfixes\n- runtime: fix things\n' % tag,
    }


def static_assets(tag, created, first_id, base=DL):
    return [gh_asset(tag, 'kata-static-%s-%s.tar.xz' % (tag, arch), created, first_id + i, base)
            for i, arch in enumerate(('x86_64', 's390x', 'ppc64le', 'aarch64'))]


# Newest first, as GitHub lists them.
GITHUB_DOC = [
    gh_release('3.1.0-rc0', static_assets('3.1.0-rc0', '2023-01-24T14:25:29Z', 900), '2023-01-24T13:02:11Z', 90,
               prerelease=True),
    # The first asset is not under a kata download location: ignored although the second one is.
    gh_release('3.0.4', [gh_asset('3.0.4', 'kata-static-3.0.4-x86_64.tar.xz', '2023-04-01T10:00:00Z', 800,
                                  base='https://example.com/kata/releases/download')]
               + static_assets('3.0.4', '2023-04-01T10:00:00Z', 801), '2023-04-01T09:00:00Z', 80),
    # No binary assets uploaded (yet): ignored.
    gh_release('3.0.3', [], '2023-03-20T09:00:00Z', 70),
    # GitHub's prerelease flag is set, but the version has no pre-release part: kata keeps it.
    gh_release('3.0.2', static_assets('3.0.2', '2023-03-03T08:47:10Z', 600), '2023-03-03T07:55:40Z', 60,
               prerelease=True),
    # A leading v is not strict SemVer: ignored.
    gh_release('v3.0.1', static_assets('v3.0.1', '2023-01-13T11:00:00Z', 500), '2023-01-13T10:00:00Z', 50),
    gh_release('3.0.0', static_assets('3.0.0', '2022-10-09T18:12:35Z', 400), '2022-10-09T17:21:13Z', 40),
    gh_release('2.5.2', static_assets('2.5.2', '2022-09-26T12:45:00Z', 300), '2022-09-26T11:30:00Z', 30),
]


def kept(tag, created):
    return {'version': tag, 'date': created, 'url': '%s/%s/kata-static-%s-x86_64.tar.xz' % (DL, tag, tag),
            'filename': 'kata-static-%s-x86_64.tar.xz' % tag}


R_2_5_2 = kept('2.5.2', '2022-09-26T12:45:00Z')
R_3_0_0 = kept('3.0.0', '2022-10-09T18:12:35Z')
R_3_0_2 = kept('3.0.2', '2023-03-03T08:47:10Z')
R_3_1_0_RC0 = kept('3.1.0-rc0', '2023-01-24T14:25:29Z')

RATE_LIMIT_BODY = json.dumps({
    'message': 'API rate limit exceeded for 203.0.113.7. (But here\'s the good news: Authenticated requests get a '
               'higher rate limit. Check out the documentation for more details.)',
    'documentation_url': 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
}).encode()


# --- the local HTTP servers ------------------------------------------------------------------------------------------

def send(handler, status, body, content_type='application/json; charset=utf-8', headers=()):
    handler.send_response(status)
    handler.send_header('Content-Type', content_type)
    handler.send_header('Content-Length', str(len(body)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def json_route(doc, status=200):
    body = json.dumps(doc).encode()
    return lambda handler: send(handler, status, body)


def raw_route(body, status=200, content_type='application/json'):
    return lambda handler: send(handler, status, body, content_type)


def byte_by_byte(handler):
    """The whole response (status line, headers, body) one byte per TCP segment."""
    body = json.dumps([GITHUB_DOC[3], GITHUB_DOC[5]]).encode()
    raw = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' % (
        len(body), body)
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for index in range(len(raw)):
        handler.wfile.write(raw[index:index + 1])
        if index % 4 == 0:
            time.sleep(0.001)
    handler.close_connection = True


def trickle_forever(handler):
    """A body delimited by the end of the connection, one byte every 50 ms: each read succeeds, the whole never ends."""
    handler.send_response(200)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Connection', 'close')
    handler.end_headers()
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        handler.wfile.write(b'[')
        for dummy in range(400):  # 20 s at most, far beyond any client timeout used here
            time.sleep(0.05)
            handler.wfile.write(b' ')
    except OSError:
        pass  # the client gave up, as it should
    handler.close_connection = True


def chunked_huge(handler):
    handler.send_response(200)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Transfer-Encoding', 'chunked')
    handler.end_headers()
    chunk = b'[' + b' ' * 998 + b'\n'
    try:
        for dummy in range(50):
            handler.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
        handler.wfile.write(b'0\r\n\r\n')
    except OSError:
        pass
    handler.close_connection = True


def truncated(handler):
    handler.send_response(200)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Content-Length', '100')
    handler.end_headers()
    handler.wfile.write(b'[{"tag_na')
    handler.close_connection = True


def hang_up(handler):
    handler.close_connection = True  # no answer at all


def redirect(handler):
    handler.send_response(302)
    handler.send_header('Location', '/releases')
    handler.send_header('Content-Length', '0')
    handler.end_headers()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        self.server.requests.append((self.path, dict((k.lower(), v) for k, v in self.headers.items())))
        route = self.server.routes.get(self.path)
        if route is None:
            send(self, 404, b'{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}')
        else:
            route(self)

    def log_message(self, *args):
        pass  # keep the test output clean


class QuietServer(ThreadingHTTPServer):
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) serving ``routes`` and recording the requests."""

    daemon_threads = True

    def __init__(self, routes, scheme='http'):
        ThreadingHTTPServer.__init__(self, ('127.0.0.1', 0), Handler)
        self.routes = dict(routes)
        self.requests = []
        self.base = '%s://127.0.0.1:%d' % (scheme, self.server_address[1])

    def handle_error(self, request, client_address):
        pass  # TLS handshakes the client refuses, clients that hang up: expected here


def start(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    return thread


def stop(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(5)


ROUTES = {
    '/releases': json_route(GITHUB_DOC),
    '/empty': json_route([]),
    '/ratelimit': raw_route(RATE_LIMIT_BODY, status=403),
    '/ratelimit-429': raw_route(RATE_LIMIT_BODY, status=429),
    '/forbidden': raw_route(b'{"message": "Resource not accessible by integration"}', status=403),
    '/error500': raw_route(b'upstream exploded\n\n  while rendering releases', status=500, content_type='text/plain'),
    '/long-error': raw_route(b'x' * 5000, status=502, content_type='text/plain'),
    '/invalid-json': raw_route(b'[{"tag_name": "3.0.0"'),
    '/object': json_route({'message': 'Moved Permanently', 'url': 'https://api.github.com/repositories/1'}),
    '/null': raw_route(b'null'),
    '/strings': json_route(['3.0.0', '3.0.1']),
    '/nan': raw_route(b'[NaN]'),
    '/huge': raw_route(b'[' + b' ' * 4998 + b']'),
    '/huge-chunked': chunked_huge,
    '/truncated': truncated,
    '/hang-up': hang_up,
    '/slow': byte_by_byte,
    '/trickle': trickle_forever,
    '/redirect': redirect,
    '/no-content': lambda handler: send(handler, 204, b''),
}


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """open_url honours proxy variables: the local servers must be reached directly."""
    for name in ('http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope='module', name='server')
def fixture_server():
    server = QuietServer(ROUTES)
    base = server.base
    mirror_doc = [
        gh_release('3.0.1', static_assets('3.0.1', '2023-01-13T11:00:00Z', 500, base=base + '/downloads'),
                   '2023-01-13T10:00:00Z', 50),
        gh_release('3.0.0', static_assets('3.0.0', '2022-10-09T18:12:35Z', 400), '2022-10-09T17:21:13Z', 40),
    ]
    server.routes['/mirror/releases'] = json_route(mirror_doc)
    thread = start(server)
    yield server
    stop(server, thread)


@pytest.fixture(name='silent_port')
def fixture_silent_port():
    """A port that accepts TCP connections (the kernel completes them from the backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(name='closed_port')
def fixture_closed_port():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture(scope='module', name='tls_server')
def fixture_tls_server(tmp_path_factory):
    openssl = shutil.which('openssl')
    if openssl is None:
        pytest.skip('the openssl command is needed to make a self-signed certificate for the TLS tests')
    tmp = tmp_path_factory.mktemp('tls')
    cert, key = str(tmp / 'cert.pem'), str(tmp / 'key.pem')
    subprocess.run([openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = QuietServer(ROUTES, scheme='https')
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = start(server)
    yield server
    stop(server, thread)


# --- SemVer ----------------------------------------------------------------------------------------------------------

# semver.org §11, in ascending precedence.
SEMVER_ORG_ORDER = [
    '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11',
    '1.0.0-rc.1', '1.0.0', '2.0.0', '2.1.0', '2.1.1',
]


def test_semver_org_precedence_order():
    versions = [parse_semver(v) for v in SEMVER_ORG_ORDER]
    for shuffle_seed in range(5):
        shuffled = list(versions)
        random.Random(shuffle_seed).shuffle(shuffled)
        assert [str(v) for v in sorted(shuffled)] == SEMVER_ORG_ORDER
    for lower, higher in zip(versions, versions[1:]):
        assert lower < higher
        assert lower <= higher
        assert higher > lower
        assert higher >= lower
        assert lower != higher
        assert (lower == higher) is False


@pytest.mark.parametrize('lower, higher', [
    ('1.0.0-1', '1.0.0-a'),  # numeric identifiers rank below alphanumeric ones
    ('1.0.0-2', '1.0.0-10'),  # numerically, not lexically
    ('1.0.0-a', '1.0.0-b'),
    ('1.0.0-B', '1.0.0-a'),  # ASCII order
    ('1.0.0-a.b', '1.0.0-a-b'),  # ['a', 'b'] vs ['a-b']: 'a' is a prefix of 'a-b', so it ranks lower
    ('1.0.0-rc.1', '1.0.0-rc.1.0'),  # more identifiers rank higher
    ('1.9.0', '1.10.0'),
    ('0.0.9', '0.1.0'),
    ('3.0.0-rc1', '3.0.0'),
    ('3.0.0', '3.0.1-rc0'),
    ('18446744073709551614.0.0', '18446744073709551615.0.0'),
])
def test_semver_pairs(lower, higher):
    a, b = parse_semver(lower), parse_semver(higher)
    assert a < b
    assert b > a
    assert a != b


def test_semver_build_metadata_is_ignored_in_precedence():
    a, b = parse_semver('1.0.0+build.1'), parse_semver('1.0.0+exp.sha.5114f85')
    assert a == b
    assert hash(a) == hash(b)
    assert (a < b, a > b, a <= b, a >= b) == (False, False, True, True)
    assert str(a) == '1.0.0+build.1'
    assert str(b) == '1.0.0+exp.sha.5114f85'
    assert parse_semver('1.0.0-rc.1+b') < parse_semver('1.0.0')


@pytest.mark.parametrize('text, parts', [
    ('0.0.0', (0, 0, 0, (), ())),
    ('3.0.0', (3, 0, 0, (), ())),
    ('3.1.0-rc0', (3, 1, 0, ('rc0',), ())),
    ('1.2.3-0', (1, 2, 3, (0,), ())),
    ('1.2.3-0a', (1, 2, 3, ('0a',), ())),  # alphanumeric identifiers may start with 0
    ('1.2.3-x-y.z.7', (1, 2, 3, ('x-y', 'z', 7), ())),
    ('1.2.3-rc.1+build.5', (1, 2, 3, ('rc', 1), ('build', '5'))),
    ('1.2.3+001', (1, 2, 3, (), ('001',))),  # build identifiers may have leading zeros
    ('1.2.3+build-1.x', (1, 2, 3, (), ('build-1', 'x'))),
    ('1.2.3----RC-SNAPSHOT.12.9.1--.12+788', (1, 2, 3, ('---RC-SNAPSHOT', 12, 9, '1--', 12), ('788',))),
    ('18446744073709551615.0.0', (18446744073709551615, 0, 0, (), ())),
])
def test_semver_valid(text, parts):
    version = parse_semver(text)
    assert (version.major, version.minor, version.patch, version.pre, version.build) == parts
    assert str(version) == text
    assert repr(version) == 'SemVer(%r)' % text


@pytest.mark.parametrize('text, reason', [
    ('', 'version string empty'),
    ('v3.0.1', "invalid character(s) found in major number 'v3'"),
    ('3.0', 'no Major.Minor.Patch elements found'),
    ('3', 'no Major.Minor.Patch elements found'),
    ('1.2.3.4', "invalid character(s) found in patch number '3.4'"),
    ('01.2.3', "major number must not contain leading zeroes '01'"),
    ('1.02.3', "minor number must not contain leading zeroes '02'"),
    ('1.2.03', "patch number must not contain leading zeroes '03'"),
    ('1..3', 'minor number is empty'),
    ('1.2.', 'patch number is empty'),
    ('1.2.3-01', "numeric prerelease identifier must not contain leading zeroes '01'"),
    ('1.2.3-', 'prerelease identifier is empty'),
    ('1.2.3-a..b', 'prerelease identifier is empty'),
    ('1.2.3+', 'build meta data is empty'),
    ('1.2.3+a..b', 'build meta data is empty'),
    ('1.2.3-rc_1', "invalid character(s) found in prerelease identifier 'rc_1'"),
    ('1.2.3+a+b', "invalid character(s) found in build meta data 'a+b'"),
    (' 1.2.3', "invalid character(s) found in major number ' 1'"),
    ('1.2.3 ', "invalid character(s) found in patch number '3 '"),
    ('1.2.3\n', "invalid character(s) found in patch number '3\\n'"),
    ('\u0661.2.3', "invalid character(s) found in major number '\u0661'"),  # ARABIC-INDIC DIGIT ONE
    ('18446744073709551616.0.0', "major number '18446744073709551616' is out of range (64 bits)"),
    ('1.0.0-18446744073709551616', "numeric prerelease identifier '18446744073709551616' is out of range (64 bits)"),
])
def test_semver_invalid(text, reason):
    with pytest.raises(ValueError) as exc:
        parse_semver(text)
    assert str(exc.value) == reason


def test_semver_not_a_string():
    with pytest.raises(ValueError) as exc:
        parse_semver(3)
    assert str(exc.value) == 'version must be a string, not int'


def test_semver_compares_only_with_semver():
    assert parse_semver('1.0.0') != '1.0.0'
    with pytest.raises(TypeError):
        assert parse_semver('1.0.0') < '2.0.0'


def test_semver_constructor():
    assert SemVer(3, 1, 0, ['rc', 0], ['b']) == parse_semver('3.1.0-rc.0+b')
    assert str(SemVer(3, 1, 0, ['rc', 0], ['b'])) == '3.1.0-rc.0+b'


# --- kata-runtime --version ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, version', [
    ('kata-runtime  : 3.0.0\n   commit   : e2a8815ba46360acb8bf89a2894b0d437dc8d3a5\n   OCI specs: 1.0.2-dev\n', '3.0.0'),
    ('kata-runtime  : 3.0.0\n   commit   : <<unknown>>\n   OCI specs: 1.0.2-dev\n', '3.0.0'),
    ('kata-runtime  : 3.2.0-alpha1\n   commit   : <<unknown>>\n', '3.2.0-alpha1'),
    ('kata-runtime  : 3.0.0', '3.0.0'),
    ('kata-runtime  : v3.0.0\n', None),
    ('kata-runtime  : 3.0\n', None),
    ('kata-runtime  : \n', None),
    ('   commit   : abc\nkata-runtime  : 3.0.0\n', None),  # the version is on the first line
    ('kata-runtime version 3.0.0\n', None),
    ('', None),
    (None, None),
])
def test_parse_runtime_version(text, version):
    assert parse_runtime_version(text) == version


# --- acceptance rules ------------------------------------------------------------------------------------------------

def test_valid_releases_github_doc():
    assert valid_releases(GITHUB_DOC) == [R_2_5_2, R_3_0_0, R_3_0_2]


def test_valid_releases_including_prereleases():
    assert valid_releases(GITHUB_DOC, include_prereleases=True) == [R_2_5_2, R_3_0_0, R_3_0_2, R_3_1_0_RC0]


def release(tag='3.0.0', url=DL + '/3.0.0/kata-static-3.0.0-x86_64.tar.xz', name='kata-static-3.0.0-x86_64.tar.xz',
            created='2022-10-09T18:12:35Z', assets=None):
    asset = {'browser_download_url': url, 'name': name, 'created_at': created}
    return {'tag_name': tag, 'assets': [asset] if assets is None else assets}


@pytest.mark.parametrize('item', [
    release(tag=''),
    release(tag=None),
    release(tag=300),
    release(tag='v3.0.0'),
    release(tag='3.0'),
    release(assets=[]),
    release(assets={'0': {}}),
    release(assets=['kata-static-3.0.0-x86_64.tar.xz']),  # kata would panic on this type assertion
    release(assets=[None]),
    release(url=''),
    release(url=None),
    release(url='https://github.com/kata-containers/kata-containers/releases/tag/3.0.0'),
    release(url='http://github.com/kata-containers/kata-containers/releases/download/3.0.0/x.tar.xz'),
    release(url='https://example.com/kata-containers/kata-containers/releases/download/3.0.0/x.tar.xz'),
    release(name=''),
    release(name=None),
    release(created=''),
    release(created=1665339155),
    {'tag_name': '3.0.0'},
    {'assets': release()['assets']},
    None,
    '3.0.0',
    [],
])
def test_invalid_release_ignored(item):
    assert valid_releases([item]) == []
    assert valid_releases([item, release()]) == [
        {'version': '3.0.0', 'date': '2022-10-09T18:12:35Z', 'url': DL + '/3.0.0/kata-static-3.0.0-x86_64.tar.xz',
         'filename': 'kata-static-3.0.0-x86_64.tar.xz'}]


def test_only_first_asset_counts():
    good = release()['assets'][0]
    bad = dict(good, browser_download_url='https://example.com/3.0.0/x.tar.xz')
    assert valid_releases([release(assets=[bad, good])]) == []
    assert valid_releases([release(assets=[good, bad])]) == [
        {'version': '3.0.0', 'date': good['created_at'], 'url': good['browser_download_url'], 'filename': good['name']}]


def test_prefix_is_a_plain_prefix_like_kata():
    # kata's strings.HasPrefix: no separator is required after .../download.
    url = DL + 'X/3.0.0/x.tar.xz'
    assert valid_releases([release(url=url)])[0]['url'] == url


def test_legacy_download_prefix_accepted():
    url = LEGACY_DL + '/1.13.0/kata-static-1.13.0-x86_64.tar.xz'
    assert valid_releases([release(tag='1.13.0', url=url)])[0]['url'] == url


def test_date_and_filename_come_from_the_asset():
    doc = [dict(release(), created_at='2000-01-01T00:00:00Z', name='Kata Containers 3.0.0')]
    assert valid_releases(doc)[0]['date'] == '2022-10-09T18:12:35Z'
    assert valid_releases(doc)[0]['filename'] == 'kata-static-3.0.0-x86_64.tar.xz'


def test_prerelease_filter_uses_semver_not_github_flag():
    doc = [dict(release(tag='3.1.0-rc0', url=DL + '/x'), prerelease=False), dict(release(tag='3.0.1', url=DL + '/y'), prerelease=True)]
    assert [r['version'] for r in valid_releases(doc)] == ['3.0.1']
    assert [r['version'] for r in valid_releases(doc, include_prereleases=True)] == ['3.0.1', '3.1.0-rc0']


def test_sorted_by_semver_precedence_not_text():
    tags = ['3.10.0', '3.9.0', '3.0.0', '3.2.0-rc.10', '3.2.0-rc.9', '3.2.0', '10.0.0']
    doc = [release(tag=t, url='%s/%s/x' % (DL, t)) for t in tags]
    assert [r['version'] for r in valid_releases(doc, include_prereleases=True)] == [
        '3.0.0', '3.2.0-rc.9', '3.2.0-rc.10', '3.2.0', '3.9.0', '3.10.0', '10.0.0']


def test_duplicate_tag_kept_once_last_wins():
    doc = [release(url=DL + '/first'), release(url=DL + '/second')]
    assert [r['url'] for r in valid_releases(doc)] == [DL + '/second']


def test_equal_precedence_keeps_document_order():
    doc = [release(tag='3.0.0+b', url=DL + '/b'), release(tag='3.0.0+a', url=DL + '/a')]
    assert [r['version'] for r in valid_releases(doc)] == ['3.0.0+b', '3.0.0+a']
    assert newer_release('2.0.0', valid_releases(doc))['latest'] == '3.0.0+a'


def test_download_prefixes_option():
    mirror = release(url='https://mirror.example.com/kata/3.0.0/x.tar.xz')
    assert valid_releases([mirror]) == []
    assert valid_releases([mirror], download_prefixes=['https://mirror.example.com/']) == [
        {'version': '3.0.0', 'date': '2022-10-09T18:12:35Z', 'url': 'https://mirror.example.com/kata/3.0.0/x.tar.xz',
         'filename': 'kata-static-3.0.0-x86_64.tar.xz'}]
    # An explicit list replaces kata's prefixes.
    assert valid_releases([release()], download_prefixes=['https://mirror.example.com/']) == []
    # An empty list disables the check, but a download URL is still required.
    assert len(valid_releases([mirror], download_prefixes=[])) == 1
    assert valid_releases([release(url='')], download_prefixes=[]) == []


def test_empty_documents():
    assert valid_releases([]) == []
    assert valid_releases(None) == []


@pytest.mark.parametrize('url, extra', [
    (_release.DEFAULT_RELEASE_URL, None),
    ('https://api.github.com/repos/kata-containers/runtime/releases', None),
    ('https://github.com/kata-containers/kata-containers/releases', None),
    ('https://mirror.example.com/kata/releases.json', 'https://mirror.example.com/'),
    ('http://mirror.example.com:8080/kata/releases.json', 'http://mirror.example.com:8080/'),
    ('HTTPS://user:secret@Mirror.Example.COM:8443/r', 'https://mirror.example.com:8443/'),
    ('http://[fd00::1]:8080/releases', 'http://[fd00::1]:8080/'),
    ('https://mirror.example.com:99999/r', None),  # invalid port: kata's prefixes only
    ('ftp://mirror.example.com/r', None),
    ('not a url', None),
])
def test_default_download_prefixes(url, extra):
    assert _release.default_download_prefixes(url) == list(_release.KATA_DOWNLOAD_PREFIXES) + ([extra] if extra else [])


# --- kata's verdict --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('current, latest, kind', [
    ('3.0.0', '4.0.0', 'major'),
    ('3.0.0', '4.0.0-rc0', 'major pre-release'),
    ('3.0.0-rc1', '4.0.0-alpha0', 'major pre-release'),
    ('2.5.2', '3.0.0', 'major'),
    ('3.0.0', '3.1.0', 'minor'),
    ('3.0.0', '3.1.0-rc0', 'minor pre-release'),
    ('3.0.2', '3.1.0', 'minor'),  # the patch went down, still "minor"
    ('3.0.0-rc1', '3.1.0', 'minor'),
    ('3.0.0', '3.0.1', 'patch'),
    ('3.0.0', '3.0.1-rc0', 'patch pre-release'),
    ('3.0.0-alpha', '3.0.1', 'patch'),
    ('3.0.0-rc0', '3.0.0-rc1', 'pre-release'),
    ('3.0.0-alpha', '3.0.0-alpha.1', 'pre-release'),
    ('3.0.0-rc1', '3.0.0', 'major'),  # sic: kata's word for the final release of a pre-release
    ('3.0.0-rc1+b1', '3.0.0+b2', 'major'),
])
def test_release_kind(current, latest, kind):
    assert release_kind(current, latest) == kind
    assert release_kind(parse_semver(current), parse_semver(latest)) == kind


@pytest.mark.parametrize('current, latest', [('3.0.0', '3.0.0'), ('3.0.1', '3.0.0'), ('3.0.0', '3.0.0+b'), ('3.0.0', '3.0.0-rc1')])
def test_release_kind_requires_newer(current, latest):
    with pytest.raises(ValueError) as exc:
        release_kind(current, latest)
    assert str(exc.value) == 'latest version %s is not newer than current version %s' % (latest, current)


def verdict(current, latest, newer_available, kind, message, url=None, date=None):
    return {'current': current, 'latest': latest, 'newer_available': newer_available, 'kind': kind, 'url': url,
            'date': date, 'message': message}


def test_newer_release_none_available():
    assert newer_release('3.0.0', []) == verdict('3.0.0', None, False, None, 'No releases available')


def test_newer_release_no_newer():
    releases = [R_2_5_2, R_3_0_0]
    assert newer_release('3.0.0', releases) == verdict(
        '3.0.0', '3.0.0', False, None, 'No newer release available', R_3_0_0['url'], R_3_0_0['date'])
    assert newer_release('3.1.0-rc0', releases)['message'] == 'No newer release available'
    assert newer_release('3.0.0+build', releases)['message'] == 'No newer release available'


@pytest.mark.parametrize('current, releases, expected_latest, kind', [
    ('3.0.0', [R_2_5_2, R_3_0_0, R_3_0_2], R_3_0_2, 'patch'),
    ('3.0.0', [R_2_5_2, R_3_0_0, R_3_0_2, R_3_1_0_RC0], R_3_1_0_RC0, 'minor pre-release'),
    ('2.5.2', [R_2_5_2, R_3_0_0, R_3_0_2], R_3_0_2, 'major'),
    ('3.0.0-rc1', [R_2_5_2, R_3_0_0], R_3_0_0, 'major'),
    ('3.0.0', [R_3_0_2, R_2_5_2, R_3_0_0], R_3_0_2, 'patch'),  # input order does not matter
])
def test_newer_release_newer(current, releases, expected_latest, kind):
    message = 'Newer %s release available: %s (url: %s, date: %s)' % (
        kind, expected_latest['version'], expected_latest['url'], expected_latest['date'])
    assert newer_release(current, releases) == verdict(
        current, expected_latest['version'], True, kind, message, expected_latest['url'], expected_latest['date'])


def test_newer_release_exact_kata_line():
    assert newer_release('3.0.0', [R_3_0_2])['message'] == (
        'Newer patch release available: 3.0.2 (url: https://github.com/kata-containers/kata-containers/releases/download/'
        '3.0.2/kata-static-3.0.2-x86_64.tar.xz, date: 2023-03-03T08:47:10Z)')


def test_newer_release_without_current():
    assert newer_release(None, [R_3_0_0, R_3_0_2]) == verdict(
        None, '3.0.2', False, None,
        'Latest release available: 3.0.2 (url: %s, date: %s)' % (R_3_0_2['url'], R_3_0_2['date']),
        R_3_0_2['url'], R_3_0_2['date'])
    assert newer_release(None, []) == verdict(None, None, False, None, 'No releases available')


def test_newer_release_invalid_current():
    with pytest.raises(ArgumentError) as exc:
        newer_release('v3.0.0', [R_3_0_0])
    assert exc.value.msg == ("current version 'v3.0.0' is not a valid SemVer 2.0.0 version: "
                             "invalid character(s) found in major number 'v3'")


# --- real HTTP -------------------------------------------------------------------------------------------------------

def test_release_check_against_server(server):
    url = server.base + '/releases'
    result = release_check('3.0.0', url=url)
    assert result == dict(
        verdict('3.0.0', '3.0.2', True, 'patch',
                'Newer patch release available: 3.0.2 (url: %s, date: %s)' % (R_3_0_2['url'], R_3_0_2['date']),
                R_3_0_2['url'], R_3_0_2['date']),
        releases=[R_2_5_2, R_3_0_0, R_3_0_2], warnings=[])
    path, headers = server.requests[-1]
    assert path == '/releases'
    assert headers['user-agent'] == 'katacontainers.kata-ansible-collection (release check)'
    assert headers['accept'] == 'application/vnd.github+json'


def test_release_check_including_prereleases(server):
    result = release_check('3.0.0', url=server.base + '/releases', include_prereleases=True)
    assert result['releases'] == [R_2_5_2, R_3_0_0, R_3_0_2, R_3_1_0_RC0]
    assert result['kind'] == 'minor pre-release'
    assert result['message'] == 'Newer minor pre-release release available: 3.1.0-rc0 (url: %s, date: %s)' % (
        R_3_1_0_RC0['url'], R_3_1_0_RC0['date'])


def test_release_check_up_to_date(server):
    result = release_check('3.0.2', url=server.base + '/releases')
    assert (result['message'], result['newer_available'], result['latest']) == ('No newer release available', False, '3.0.2')


def test_release_check_without_installed_runtime(server):
    result = release_check(None, url=server.base + '/releases')
    assert (result['current'], result['latest'], result['newer_available']) == (None, '3.0.2', False)


def test_release_check_empty(server):
    assert release_check('3.0.0', url=server.base + '/empty') == dict(
        verdict('3.0.0', None, False, None, 'No releases available'), releases=[], warnings=[])


def test_release_check_follows_redirects(server):
    assert release_check('3.0.0', url=server.base + '/redirect')['latest'] == '3.0.2'


def test_release_check_invalid_current_makes_no_request(server):
    before = len(server.requests)
    with pytest.raises(ArgumentError) as exc:
        release_check('3.0', url=server.base + '/releases')
    assert exc.value.msg == "current version '3.0' is not a valid SemVer 2.0.0 version: no Major.Minor.Patch elements found"
    assert len(server.requests) == before


def test_mirror_prefix_accepted_by_default(server):
    url = server.base + '/mirror/releases'
    result = release_check('3.0.0', url=url)
    assert result['latest'] == '3.0.1'
    assert result['url'] == server.base + '/downloads/3.0.1/kata-static-3.0.1-x86_64.tar.xz'
    assert result['kind'] == 'patch'
    # kata's own prefixes only: the mirror's asset is refused, as kata would.
    strict = release_check('3.0.0', url=url, download_prefixes=list(_release.KATA_DOWNLOAD_PREFIXES))
    assert [r['version'] for r in strict['releases']] == ['3.0.0']
    assert strict['message'] == 'No newer release available'


@pytest.mark.parametrize('path', ['/ratelimit', '/ratelimit-429'])
def test_rate_limit_is_a_warning(server, path):
    url = server.base + path
    assert release_check('3.0.0', url=url) == dict(
        verdict('3.0.0', None, False, None, 'No releases available'), releases=[],
        warnings=['API rate limit exceeded. Try again later. Read '
                  'https://docs.github.com/apps/building-github-apps/understanding-rate-limits-for-github-apps '
                  'for more information (url: %s)' % url])
    assert _release.fetch_releases(url) == ([], [_release.MSG_RATE_LIMIT + ' (url: %s)' % url])


def check_error(target, msg, timeout=10, **details):
    """fetch_releases(target) (at most 1000 bytes) fails with exactly ``msg`` and these details.

    The timeout is generous unless the test is about the timeout: a loaded machine (CI runs tests in parallel) must
    not turn an expected error into a time-out.
    """
    with pytest.raises(ReleaseCheckError) as exc:
        _release.fetch_releases(target, timeout=timeout, max_bytes=1000)
    assert exc.value.msg == msg
    for key, value in details.items():
        assert exc.value.details[key] == value
    return exc.value


def test_forbidden_without_rate_limit_is_an_error(server):
    url = server.base + '/forbidden'
    check_error(url, 'failed to get release details: HTTP 403 Forbidden: {"message": "Resource not accessible by integration"}'
                ' (url: %s)' % url, url=url, status=403, body='{"message": "Resource not accessible by integration"}')


def test_server_error(server):
    url = server.base + '/error500'
    check_error(url, 'failed to get release details: HTTP 500 Internal Server Error: upstream exploded while rendering '
                'releases (url: %s)' % url, url=url, status=500, body='upstream exploded while rendering releases')


def test_not_found(server):
    url = server.base + '/no-such-path'
    check_error(url, 'failed to get release details: HTTP 404 Not Found: {"message": "Not Found", "documentation_url": '
                '"https://docs.github.com/rest"} (url: %s)' % url, status=404)


def test_long_error_body_is_cut(server):
    url = server.base + '/long-error'
    error = check_error(url, 'failed to get release details: HTTP 502 Bad Gateway: %s... (url: %s)' % ('x' * 200, url))
    assert error.details['body'] == 'x' * 200 + '...'


def test_unexpected_success_status(server):
    url = server.base + '/no-content'
    check_error(url, 'failed to get release details: unexpected HTTP status 204 (url: %s)' % url, status=204)


def test_invalid_json(server):
    url = server.base + '/invalid-json'
    with pytest.raises(ReleaseCheckError) as exc:
        _release.fetch_releases(url)
    assert exc.value.msg.startswith('failed to unpack release details: Expecting ')
    assert exc.value.msg.endswith(' (url: %s)' % url)
    assert exc.value.details == {'url': url}


@pytest.mark.parametrize('path, what', [
    ('/object', 'an object (message: Moved Permanently)'),
    ('/null', 'null'),
])
def test_document_not_an_array(server, path, what):
    url = server.base + path
    check_error(url, 'failed to unpack release details: expected a JSON array of releases, got %s (url: %s)' % (what, url))


def test_document_items_not_objects(server):
    url = server.base + '/strings'
    check_error(url, 'failed to unpack release details: release #0 is str, expected an object (url: %s)' % url)


def test_json_nan_rejected_like_go(server):
    url = server.base + '/nan'
    check_error(url, 'failed to unpack release details: invalid JSON value NaN (url: %s)' % url)


def test_body_over_the_bound_with_content_length(server):
    url = server.base + '/huge'
    check_error(url, 'failed to read release details: the response is larger than 1000 bytes (Content-Length 5000) (url: %s)'
                % url)


def test_body_over_the_bound_chunked(server):
    url = server.base + '/huge-chunked'
    check_error(url, 'failed to read release details: the response is larger than 1000 bytes (url: %s)' % url)


def test_body_within_the_bound(server):
    doc, warnings = _release.fetch_releases(server.base + '/releases', max_bytes=len(json.dumps(GITHUB_DOC)))
    assert (doc, warnings) == (GITHUB_DOC, [])
    with pytest.raises(ReleaseCheckError):
        _release.fetch_releases(server.base + '/releases', max_bytes=len(json.dumps(GITHUB_DOC)) - 1)


def test_truncated_body(server):
    url = server.base + '/truncated'
    check_error(url, 'failed to read release details: the connection was closed 91 bytes before the end of the response '
                '(url: %s)' % url)


def test_server_hangs_up(server):
    url = server.base + '/hang-up'
    check_error(url, 'failed to get release details: Remote end closed connection without response (url: %s)' % url)


def test_connection_refused(closed_port):
    url = 'http://127.0.0.1:%d/releases' % closed_port
    check_error(url, 'failed to get release details: [Errno 111] Connection refused (url: %s)' % url, url=url)


def test_server_never_answers(silent_port):
    url = 'http://127.0.0.1:%d/releases' % silent_port
    check_error(url, 'failed to get release details: timed out after 0.5 seconds (url: %s)' % url, timeout=0.5, url=url)


def test_slow_byte_by_byte_server(server):
    assert _release.fetch_releases(server.base + '/slow') == ([GITHUB_DOC[3], GITHUB_DOC[5]], [])


def test_endless_trickle_times_out(server):
    url = server.base + '/trickle'
    # The body never ends: the deadline ends the request. Whether it strikes while open_url still waits (get) or
    # while the body is read (read) depends on the interpreter's http.client buffering; both are the time-out.
    with pytest.raises(ReleaseCheckError) as exc:
        _release.fetch_releases(url, timeout=2, max_bytes=1000)
    assert re.match(r'failed to (get|read) release details: timed out after 2 seconds \(url: %s\)$' % re.escape(url),
                    exc.value.msg), exc.value.msg


@pytest.mark.parametrize('url', ['ftp://127.0.0.1/releases', 'file:///etc/passwd', 'releases.json', 'https://', None])
def test_invalid_release_url(url):
    with pytest.raises(ArgumentError) as exc:
        _release.fetch_releases(url)
    assert exc.value.msg == 'release URL %r is not valid: expected an http:// or https:// URL' % (url,)


def test_tls_certificate_verified(tls_server):
    url = tls_server.base + '/releases'
    with pytest.raises(ReleaseCheckError) as exc:
        release_check('3.0.0', url=url)
    assert 'CERTIFICATE_VERIFY_FAILED' in exc.value.msg
    assert exc.value.msg.startswith('failed to get release details: ')
    assert exc.value.msg.endswith(' (url: %s)' % url)


def test_tls_without_verification(tls_server):
    result = release_check('3.0.0', url=tls_server.base + '/releases', validate_certs=False)
    assert result['latest'] == '3.0.2'
    assert result['releases'] == [R_2_5_2, R_3_0_0, R_3_0_2]


def test_module_import_stays_light():
    """Parsing a version (kata_env does) must not pay for the HTTP stack: it is imported by fetch_releases only."""
    code = ('import sys; '
            'from ansible_collections.katacontainers.kata.plugins.module_utils import _release; '
            'print("http.client" in sys.modules, "ansible.module_utils.urls" in sys.modules)')
    # The child must find the collection and ansible the way this process does (ansible-test sets sys.path itself).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', code], check=True, capture_output=True, text=True, env=env).stdout
    assert out.split() == ['False', 'False']


# --- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

def headers_byte_by_byte(handler):
    """A status line and 90 headers, one byte every 20 ms (about 40 s): no single read ever waits long."""
    head = b'HTTP/1.1 200 OK\r\n' + b''.join(b'X-Header-%d: v\r\n' % i for i in range(90)) + b'\r\n'
    try:
        for index in range(len(head)):
            handler.wfile.write(head[index:index + 1])
            handler.wfile.flush()
            time.sleep(0.02)
    except OSError:
        pass
    handler.close_connection = True


def test_headers_trickled_byte_by_byte_fail_at_the_timeout(server):
    # open_url waits for the whole head with only a per-read socket timeout: before the watchdog, this took the ~40 s
    # the server needed and then failed at the body ("failed to read ...").
    server.routes['/trickled-headers'] = headers_byte_by_byte
    url = server.base + '/trickled-headers'
    check_error(url, 'failed to get release details: timed out after 0.5 seconds (url: %s)' % url, timeout=0.5, url=url)


def test_json_nested_too_deeply(server):
    server.routes['/deep'] = raw_route(b'[' * 100000 + b']' * 100000)
    url = server.base + '/deep'
    with pytest.raises(ReleaseCheckError) as exc:
        _release.fetch_releases(url, timeout=5)
    assert exc.value.msg == 'failed to unpack release details: arrays or objects nested too deeply (url: %s)' % url


@pytest.mark.parametrize('url, reason', [
    ('http://[::1/releases', 'Invalid IPv6 URL'),
    ('http://127.0.0.1:99999/releases', 'Port out of range 0-65535'),
    ('http://127.0.0.1:port/releases', "Port could not be cast to integer value as 'port'"),
    ('http://127.0.0.1/re\x00leases', 'it contains white space or control characters'),
    ('http://127.0.0.1/releases\r\nX-Injected: 1', 'it contains white space or control characters'),
    ('http://127.0.0.1/rel eases', 'it contains white space or control characters'),
])
def test_release_url_refused_before_any_request(url, reason):
    with pytest.raises(ArgumentError) as exc:
        _release.fetch_releases(url)
    assert exc.value.msg == 'release URL %r is not valid: %s' % (url, reason)


@pytest.mark.parametrize('timeout', [0, -1, float('nan'), float('inf'), 1e10, True, '3'])
def test_release_timeout_refused(timeout):
    # 1e10 made socket.settimeout raise OverflowError; nan never timed out; 0 and negative values failed oddly.
    with pytest.raises(ArgumentError) as exc:
        _release.fetch_releases('http://127.0.0.1:9/releases', timeout=timeout)
    if timeout == 1e10:
        assert exc.value.msg == 'release_timeout: 10000000000.0 seconds is more than the 31536000 (365 days) a timeout may be'
    else:
        assert exc.value.msg == 'release_timeout: expected a number of seconds greater than 0, got %r' % (timeout,)
