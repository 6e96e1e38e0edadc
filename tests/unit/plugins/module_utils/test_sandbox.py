# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sandbox ID validation, shim socket discovery over both roots, and the common options."""

from __future__ import annotations

import os
import socket

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _sandbox
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError, ShimError
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import (
    SANDBOX_ID_PATTERN,
    check_socket,
    find_shim_socket,
    is_valid_sandbox_id,
    list_sandboxes,
    locate_shim_socket,
    shim_argument_spec,
    shim_client,
    validate_sandbox_id,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv

PATTERN_HINT = 'expected a string matching %s (at least 2 characters; letters, digits, "_", "." and "-", not first)' % SANDBOX_ID_PATTERN


@pytest.fixture
def servers():
    factory = srv.ServerFactory()
    yield factory
    factory.close()


def make_socket(path):
    """A socket file (nobody listening) at ``path``, creating the parent directories."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.close()
    return path


@pytest.fixture
def roots(servers):
    go = os.path.join(servers.dir, 'sbs')
    rs = os.path.join(servers.dir, 'kata')
    return go, rs


# --- IDs ----------------------------------------------------------------------------------------------------------

def test_pattern_is_katas():
    assert SANDBOX_ID_PATTERN == r'^[a-zA-Z0-9][a-zA-Z0-9_.-]+$'


@pytest.mark.parametrize('value', [
    'ab', 'a..', 'A-b_c.d', '0123456789abcdef' * 4, 'x' * 255,
    'f3b2c1d0e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2',
])
def test_valid_ids(value):
    assert validate_sandbox_id(value) == value
    assert is_valid_sandbox_id(value)


@pytest.mark.parametrize('value, message', [
    ('../x', "sandbox_id: invalid sandbox ID '../x': " + PATTERN_HINT),
    ('a/b', "sandbox_id: invalid sandbox ID 'a/b': " + PATTERN_HINT),
    ('-x', "sandbox_id: invalid sandbox ID '-x': " + PATTERN_HINT),
    ('a', "sandbox_id: invalid sandbox ID 'a': " + PATTERN_HINT),
    ('.hidden', "sandbox_id: invalid sandbox ID '.hidden': " + PATTERN_HINT),
    ('ab\n', "sandbox_id: invalid sandbox ID 'ab\\n': " + PATTERN_HINT),
    ('ab c', "sandbox_id: invalid sandbox ID 'ab c': " + PATTERN_HINT),
    ('sandbox\u00e9', "sandbox_id: invalid sandbox ID 'sandbox\u00e9': " + PATTERN_HINT),
    ('a' * 300, "sandbox_id: invalid sandbox ID '" + 'a' * 59 + "...: it is 300 characters long, the limit is 255"),
    ('a\0b', "sandbox_id: invalid sandbox ID 'a\\x00b': it contains a NUL character"),
    ('', 'sandbox_id: the sandbox ID cannot be empty'),
    (None, 'sandbox_id: a sandbox ID must be a string, got NoneType None'),
    (12, 'sandbox_id: a sandbox ID must be a string, got int 12'),
    (b'ab', "sandbox_id: a sandbox ID must be a string, got bytes b'ab'"),
])
def test_invalid_ids(value, message):
    with pytest.raises(ArgumentError) as exc_info:
        validate_sandbox_id(value)
    assert exc_info.value.msg == message
    assert not is_valid_sandbox_id(value)


def test_invalid_id_names_the_option():
    with pytest.raises(ArgumentError) as exc_info:
        validate_sandbox_id('../etc', option='sandbox_id[2]')
    assert exc_info.value.msg == "sandbox_id[2]: invalid sandbox ID '../etc': " + PATTERN_HINT


# --- finding a socket ---------------------------------------------------------------------------------------------

def test_go_socket_found(roots):
    go, rs = roots
    path = make_socket(os.path.join(go, 'abc', 'shim-monitor.sock'))
    make_socket(os.path.join(rs, 'abc', 'shim-monitor.sock'))
    assert find_shim_socket('abc', go, rs) == path
    assert locate_shim_socket('abc', go, rs) == (path, 'go')


def test_rs_socket_is_the_fallback(roots):
    go, rs = roots
    os.makedirs(os.path.join(go, 'abc'))  # a Go sandbox directory without a socket does not stop the fallback
    path = make_socket(os.path.join(rs, 'abc', 'shim-monitor.sock'))
    assert find_shim_socket('abc', go, rs) == path
    assert locate_shim_socket('abc', go, rs) == (path, 'rust')


def test_missing_socket_names_both_paths(roots):
    go, rs = roots
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket('abc', go, rs)
    assert exc_info.value.msg == (
        'no shim socket for sandbox abc: neither %s/abc/shim-monitor.sock nor %s/abc/shim-monitor.sock exists (is the '
        'sandbox running on this host? Set sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
        % (go, rs))
    assert exc_info.value.details == {'url': None, 'status': None, 'body': None}


def test_default_roots_in_the_message():
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket('no-such-sandbox-here')
    assert exc_info.value.msg.startswith(
        'no shim socket for sandbox no-such-sandbox-here: neither /run/vc/sbs/no-such-sandbox-here/shim-monitor.sock '
        'nor /run/kata/no-such-sandbox-here/shim-monitor.sock exists')


def test_id_validated_before_any_path(roots):
    go, rs = roots
    with pytest.raises(ArgumentError) as exc_info:
        find_shim_socket('../../etc', go, rs)
    assert exc_info.value.msg == "sandbox_id: invalid sandbox ID '../../etc': " + PATTERN_HINT


def test_explicit_socket_wins(roots, servers):
    go, rs = roots
    make_socket(os.path.join(go, 'abc', 'shim-monitor.sock'))
    explicit = make_socket(os.path.join(servers.dir, 'mine.sock'))
    assert find_shim_socket('abc', go, rs, shim_socket=explicit) == explicit
    assert locate_shim_socket(None, go, rs, shim_socket=explicit) == (explicit, None)
    # The ID, when given, is still validated.
    with pytest.raises(ArgumentError):
        find_shim_socket('a/b', go, rs, shim_socket=explicit)


def test_explicit_socket_symlink_refused(servers):
    target = make_socket(os.path.join(servers.dir, 'real.sock'))
    link = os.path.join(servers.dir, 'link.sock')
    os.symlink(target, link)
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket('abc', shim_socket=link)
    assert exc_info.value.msg == ('shim_socket: cannot use %s as the shim socket: it is a symbolic link (not followed: '
                                  'the shim socket must be the socket itself)' % link)


@pytest.mark.parametrize('kind, phrase', [('file', 'a regular file'), ('dir', 'a directory'), ('fifo', 'a FIFO')])
def test_explicit_socket_of_the_wrong_kind(servers, kind, phrase):
    path = os.path.join(servers.dir, 'thing')
    if kind == 'file':
        with open(path, 'w') as f:
            f.write('x')
    elif kind == 'dir':
        os.mkdir(path)
    else:
        os.mkfifo(path)
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket(None, shim_socket=path)
    assert exc_info.value.msg == 'shim_socket: cannot use %s as the shim socket: it is %s, not a unix socket' % (path, phrase)


def test_explicit_socket_missing(servers):
    path = os.path.join(servers.dir, 'nothing.sock')
    with pytest.raises(ShimError) as exc_info:
        check_socket(path)
    assert exc_info.value.msg == 'shim_socket: cannot use %s as the shim socket: it does not exist' % path


def test_discovered_symlink_refused_not_skipped(roots, servers):
    go, rs = roots
    target = make_socket(os.path.join(servers.dir, 'elsewhere.sock'))
    os.makedirs(os.path.join(go, 'abc'))
    os.symlink(target, os.path.join(go, 'abc', 'shim-monitor.sock'))
    make_socket(os.path.join(rs, 'abc', 'shim-monitor.sock'))
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket('abc', go, rs)
    assert exc_info.value.msg == ('sandbox abc: cannot use %s/abc/shim-monitor.sock as the shim socket: it is a '
                                  'symbolic link (not followed: the shim socket must be the socket itself)' % go)


def test_unreadable_root(world_tmp, unprivileged):
    locked = os.path.join(world_tmp, 'locked')
    os.makedirs(os.path.join(locked, 'abc'))
    os.chmod(locked, 0)
    assert unprivileged(lambda: find_shim_socket('abc', locked, locked))[:2] == ('raise', 'ShimError')
    assert unprivileged(lambda: list_sandboxes(locked, locked))[:2] == ('raise', 'ProbeError')


# --- listing ------------------------------------------------------------------------------------------------------

def test_list_sandboxes_over_both_roots(roots, servers):
    go, rs = roots
    make_socket(os.path.join(go, 'go1', 'shim-monitor.sock'))
    os.makedirs(os.path.join(go, 'go-no-socket'))
    make_socket(os.path.join(rs, 'rs1', 'shim-monitor.sock'))
    # The same ID under both roots: listed once, with the socket kata's lookup picks.
    make_socket(os.path.join(go, 'both', 'shim-monitor.sock'))
    make_socket(os.path.join(rs, 'both', 'shim-monitor.sock'))
    os.makedirs(os.path.join(go, 'rs-wins'))
    make_socket(os.path.join(rs, 'rs-wins', 'shim-monitor.sock'))
    # Not sandboxes: invalid names, files, symbolic links to directories.
    os.makedirs(os.path.join(go, '.tmp'))
    os.makedirs(os.path.join(rs, 'x'))
    with open(os.path.join(go, 'persist.json'), 'w') as f:
        f.write('{}')
    os.makedirs(os.path.join(servers.dir, 'real'))
    os.symlink(os.path.join(servers.dir, 'real'), os.path.join(go, 'linked'))
    assert list_sandboxes(go, rs) == [
        {'id': 'both', 'socket': os.path.join(go, 'both', 'shim-monitor.sock'), 'runtime': 'go'},
        {'id': 'go-no-socket', 'socket': os.path.join(go, 'go-no-socket', 'shim-monitor.sock'), 'runtime': 'go'},
        {'id': 'go1', 'socket': os.path.join(go, 'go1', 'shim-monitor.sock'), 'runtime': 'go'},
        {'id': 'rs-wins', 'socket': os.path.join(rs, 'rs-wins', 'shim-monitor.sock'), 'runtime': 'rust'},
        {'id': 'rs1', 'socket': os.path.join(rs, 'rs1', 'shim-monitor.sock'), 'runtime': 'rust'},
    ]


def test_list_sandboxes_missing_roots(roots):
    go, rs = roots
    assert list_sandboxes(go, rs) == []


def test_list_sandboxes_root_is_a_file(servers):
    path = os.path.join(servers.dir, 'file')
    with open(path, 'w') as f:
        f.write('x')
    with pytest.raises(ProbeError) as exc_info:
        list_sandboxes(path, os.path.join(servers.dir, 'none'))
    assert exc_info.value.msg == 'cannot list the sandboxes in %s: Not a directory' % path


# --- options and the client factory ---------------------------------------------------------------------------------

def test_shim_argument_spec_is_fresh():
    spec = shim_argument_spec()
    assert spec == {
        'shim_socket': {'type': 'path'},
        'sandbox_root': {'type': 'path', 'default': '/run/vc/sbs'},
        'rs_sandbox_root': {'type': 'path', 'default': '/run/kata'},
        'timeout': {'type': 'float', 'default': 3.0},
        'transport': {'type': 'str', 'default': 'stdlib', 'choices': ['stdlib', 'requests']},
    }
    spec['timeout']['default'] = 10
    assert shim_argument_spec()['timeout']['default'] == 3.0


def test_shim_client_from_params(roots, servers):
    go, rs = roots
    server = servers.start(srv.respond(200, 'vsock://3:1024'), path=os.path.join(rs, 'abc', 'shim-monitor.sock'))
    params = {'shim_socket': None, 'sandbox_root': go, 'rs_sandbox_root': rs, 'timeout': 2.5, 'transport': 'stdlib'}
    client = shim_client(params, 'abc', max_body=100)
    assert (client.socket_path, client.timeout, client.max_body, client.transport) == (server.path, 2.5, 100, 'stdlib')
    assert client.get('/agent-url') == b'vsock://3:1024'


def test_shim_client_explicit_socket(servers):
    server = servers.start(srv.respond(200, 'ok'))
    client = shim_client({'shim_socket': server.path}, 'abc')
    assert (client.socket_path, client.timeout, client.transport) == (server.path, 3.0, 'stdlib')


def test_shim_client_bad_id():
    with pytest.raises(ArgumentError):
        shim_client({'sandbox_root': '/nonexistent'}, '../x')


def test_module_constants():
    assert (_sandbox.DEFAULT_SANDBOX_ROOT, _sandbox.DEFAULT_RS_SANDBOX_ROOT) == ('/run/vc/sbs', '/run/kata')


# --- found by the robustness suite (tests/robustness) ---------------------------------------------------------------

@pytest.mark.parametrize('option', ['sandbox_root', 'rs_sandbox_root', 'shim_socket'])
def test_nul_in_a_path_option_names_the_option(roots, option):
    go, rs = roots
    paths = {'sandbox_root': go, 'rs_sandbox_root': rs, 'shim_socket': None}
    paths[option] = '/run/a\0b'
    with pytest.raises(ArgumentError) as exc_info:
        find_shim_socket('abc', **paths)
    assert exc_info.value.msg == "%s: invalid path '/run/a\\x00b': it contains a NUL character" % option


@pytest.mark.parametrize('option', ['sandbox_root', 'rs_sandbox_root'])
def test_nul_in_a_root_when_listing_names_the_option(roots, option):
    go, rs = roots
    paths = {'sandbox_root': go, 'rs_sandbox_root': rs}
    paths[option] = '/run/a\0b'
    with pytest.raises(ArgumentError) as exc_info:
        list_sandboxes(**paths)
    assert exc_info.value.msg == "%s: invalid path '/run/a\\x00b': it contains a NUL character" % option


def test_socket_with_nul_is_a_problem_not_a_crash():
    assert _sandbox.socket_problem('/run/a\0b') == 'its path contains a NUL character'
    with pytest.raises(ShimError) as exc_info:
        check_socket('/run/a\0b')
    assert exc_info.value.msg == "shim_socket: cannot use /run/a\0b as the shim socket: its path contains a NUL character"


def test_symlinked_sandbox_directory_refused_not_followed(roots, servers):
    go, rs = roots
    elsewhere = os.path.join(servers.dir, 'elsewhere')
    make_socket(os.path.join(elsewhere, 'shim-monitor.sock'))
    os.makedirs(go)
    os.symlink(elsewhere, os.path.join(go, 'abc'))
    make_socket(os.path.join(rs, 'abc', 'shim-monitor.sock'))
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket('abc', go, rs)
    assert exc_info.value.msg == ('sandbox abc: cannot use %s/abc as the sandbox directory: it is a symbolic link (not '
                                  'followed: the shim socket must be in the directory itself)' % go)


def test_symlinked_rs_sandbox_directory_refused(roots, servers):
    go, rs = roots
    elsewhere = os.path.join(servers.dir, 'elsewhere')
    make_socket(os.path.join(elsewhere, 'shim-monitor.sock'))
    os.makedirs(rs)
    os.symlink(elsewhere, os.path.join(rs, 'abc'))
    with pytest.raises(ShimError) as exc_info:
        find_shim_socket('abc', go, rs)
    assert exc_info.value.msg.startswith('sandbox abc: cannot use %s/abc as the sandbox directory: it is a symbolic link'
                                         % rs)
