# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_sandbox_info's main() against real shim servers on unix sockets and real volume directories."""

from __future__ import annotations

import base64
import functools
import os

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _sandbox_info
from ansible_collections.katacontainers.kata.plugins.modules import kata_direct_volume, kata_sandbox_info
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv

try:
    import requests_unixsocket  # noqa: F401, pylint: disable=unused-import
    HAS_REQUESTS_UNIXSOCKET = True
except ImportError:
    HAS_REQUESTS_UNIXSOCKET = False


@pytest.fixture
def host():
    """A host layout in a short temporary directory: Go and runtime-rs sandbox roots and a volume root."""
    factory = srv.ServerFactory()
    factory.go = os.path.join(factory.dir, 'sbs')
    factory.rs = os.path.join(factory.dir, 'kata')
    factory.volumes = os.path.join(factory.dir, 'dv')
    for path in (factory.go, factory.rs, factory.volumes):
        os.makedirs(path)
    yield factory
    factory.close()


@pytest.fixture
def run(run_module):
    """``run(args, expect='exit'|'fail')``: kata_sandbox_info's main() through the shared runner (conftest.py), which
    returns the result it exited or failed with and the run's ``warnings``."""
    return functools.partial(run_module, kata_sandbox_info)


def base_args(host, **kwargs):
    # The probe tests leave the pod metadata out (pods=false); the pod tests below ask for it.
    args = {'sandbox_root': host.go, 'rs_sandbox_root': host.rs, 'volume_root': host.volumes, 'timeout': 0.5,
            'pods': False}
    args.update(kwargs)
    return args


def add_volume(host, volume_path, mount_info=None, sandbox_ids=(), name=None):
    name = name or base64.urlsafe_b64encode(volume_path.encode()).decode()
    directory = os.path.join(host.volumes, name)
    os.makedirs(directory, mode=0o700)
    if mount_info is not None:
        with open(os.path.join(directory, 'mountInfo.json'), 'w') as f:
            f.write(mount_info)
    for sandbox_id in sandbox_ids:
        open(os.path.join(directory, sandbox_id), 'w').close()
    return name


def sock(root, sandbox_id):
    return os.path.join(root, sandbox_id, 'shim-monitor.sock')


@pytest.mark.parametrize('transport', ['stdlib', 'requests'])
def test_reachable_and_unreachable_sandboxes(host, transport, run):
    if transport == 'requests' and not HAS_REQUESTS_UNIXSOCKET:
        pytest.skip('requests-unixsocket is not installed (see tests/unit/requirements.txt)')
    host.start(srv.respond(200, 'vsock://1234567:1024'), path=sock(host.go, 'go-ok'))
    host.start(srv.respond(500, 'Invalid socket type'), path=sock(host.go, 'go-500'))
    host.dead_socket(sock(host.go, 'go-dead'))
    host.start(srv.never_answer, path=sock(host.go, 'go-hung'))
    os.makedirs(os.path.join(host.go, 'go-gone'))
    host.start(srv.respond(200, 'hvsock:///run/vc/vm/rs-ok/clh.sock:1024'), path=sock(host.rs, 'rs-ok'))
    result = run(base_args(host, agent_url=True, volumes=False, transport=transport))
    where = 'GET http://shim/agent-url via %s: '
    assert result == {
        'changed': False,
        'sandboxes': [
            {'id': 'go-500', 'runtime': 'go', 'socket': sock(host.go, 'go-500'), 'reachable': True, 'agent_url': None,
             'error': where % sock(host.go, 'go-500') + 'HTTP 500 Internal Server Error: Invalid socket type'},
            {'id': 'go-dead', 'runtime': 'go', 'socket': sock(host.go, 'go-dead'), 'reachable': False, 'agent_url': None,
             'error': where % sock(host.go, 'go-dead') + 'connection refused (nothing listens on the socket: the shim '
                                                         'may have exited)'},
            {'id': 'go-gone', 'runtime': 'go', 'socket': sock(host.go, 'go-gone'), 'reachable': False, 'agent_url': None,
             'error': where % sock(host.go, 'go-gone') + 'it does not exist'},
            {'id': 'go-hung', 'runtime': 'go', 'socket': sock(host.go, 'go-hung'), 'reachable': False, 'agent_url': None,
             'error': where % sock(host.go, 'go-hung') + 'no complete answer within the timeout of 0.5 seconds'},
            {'id': 'go-ok', 'runtime': 'go', 'socket': sock(host.go, 'go-ok'), 'reachable': True,
             'agent_url': 'vsock://1234567:1024', 'error': None},
            {'id': 'rs-ok', 'runtime': 'rust', 'socket': sock(host.rs, 'rs-ok'), 'reachable': True,
             'agent_url': 'hvsock:///run/vc/vm/rs-ok/clh.sock:1024', 'error': None},
        ],
        'warnings': [],
    }


def test_without_agent_url_an_error_answer_is_still_reachable(host, run):
    server = host.start(srv.respond(500, 'Invalid socket type'), path=sock(host.go, 'abc'))
    result = run(base_args(host, volumes=False))
    assert result['sandboxes'] == [{'id': 'abc', 'runtime': 'go', 'socket': server.path, 'reachable': True, 'error': None}]
    assert server.requests[0].target == '/agent-url'
    assert 'volumes' not in result


def test_the_shims_are_probed_at_the_same_time(host, run):
    # Each of the 40 shims answers only once all 40 requests are in flight: probed in turn, or fewer at a time, none
    # would answer (the first waits 20 s for the others, then every one closes without answering).
    behaviour = srv.all_at_once(40, 'vsock://3:1024')
    for i in range(40):
        host.start(behaviour, path=sock(host.go, 'sb%02d' % i))
    result = run(base_args(host, volumes=False, timeout=30))
    assert [(s['id'], s['reachable'], s['error']) for s in result['sandboxes']] == [
        ('sb%02d' % i, True, None) for i in range(40)]


def test_many_hung_shims_are_all_reported(host, run):
    # 40 shims that never answer, 0.5 s each: each is reported unreachable with the reason.
    for i in range(40):
        host.start(srv.never_answer, path=sock(host.go, 'hung%02d' % i))
    result = run(base_args(host, volumes=False))
    assert [s['id'] for s in result['sandboxes']] == ['hung%02d' % i for i in range(40)]
    assert all(s['reachable'] is False and s['error'].endswith('no complete answer within the timeout of 0.5 seconds')
               for s in result['sandboxes'])


def test_agent_url_that_is_not_utf8_is_an_error(host, run):
    host.start(srv.respond(200, b'vsock://12:1024\xc3(\xa0'), path=sock(host.go, 'bad-url'))
    result = run(base_args(host, agent_url=True, volumes=False))
    assert result['sandboxes'] == [
        {'id': 'bad-url', 'runtime': 'go', 'socket': sock(host.go, 'bad-url'), 'reachable': True, 'agent_url': None,
         'error': "GET http://shim/agent-url via %s: the agent URL the shim answered is not UTF-8 text: "
                  "b'\\xc3(\\xa0' at byte 15" % sock(host.go, 'bad-url')}]


def test_sandbox_id_restricts_and_reports_missing(host, run):
    host.start(srv.respond(200, 'vsock://3:1024'), path=sock(host.go, 'one'))
    host.start(srv.respond(200, 'vsock://4:1024'), path=sock(host.go, 'two'))
    add_volume(host, '/dev/sda', '{"device": "/dev/sda"}', ['one'])
    add_volume(host, '/dev/sdb', '{"device": "/dev/sdb"}', ['two'])
    result = run(base_args(host, sandbox_id=['two', 'missing', 'two']))
    assert result['sandboxes'] == [
        {'id': 'two', 'runtime': 'go', 'socket': sock(host.go, 'two'), 'reachable': True, 'error': None},
        {'id': 'missing', 'runtime': None, 'socket': None, 'reachable': False,
         'error': 'no shim socket for sandbox missing: neither %s nor %s exists (is the sandbox running on this host? '
                  'Set sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
                  % (sock(host.go, 'missing'), sock(host.rs, 'missing'))},
    ]
    assert [v['volume_path'] for v in result['volumes']] == ['/dev/sdb']


def test_single_sandbox_id_as_a_string(host, run):
    host.start(srv.respond(200, 'vsock://3:1024'), path=sock(host.rs, 'one'))
    result = run(base_args(host, sandbox_id='one', agent_url=True, volumes=False))
    assert result['sandboxes'] == [{'id': 'one', 'runtime': 'rust', 'socket': sock(host.rs, 'one'), 'reachable': True,
                                    'agent_url': 'vsock://3:1024', 'error': None}]


def test_explicit_shim_socket(host, run):
    server = host.start(srv.respond(200, 'vsock://9:1024\n'))
    result = run(base_args(host, sandbox_id=['mine'], shim_socket=server.path, agent_url=True, volumes=False))
    assert result['sandboxes'] == [{'id': 'mine', 'runtime': None, 'socket': server.path, 'reachable': True,
                                    'agent_url': 'vsock://9:1024', 'error': None}]


def test_explicit_shim_socket_needs_one_sandbox(host, run):
    result = run(base_args(host, shim_socket='/tmp/x.sock'), expect='fail')
    assert result['msg'] == ('shim_socket: it is the socket of one sandbox, so sandbox_id must name exactly one '
                             'sandbox (got none)')


@pytest.mark.parametrize('value, message', [
    ('../x', "sandbox_id[0]: invalid sandbox ID '../x'"),
    (['ok-id', 'a/b'], "sandbox_id[1]: invalid sandbox ID 'a/b'"),
])
def test_bad_sandbox_id_fails(host, value, message, run):
    result = run(base_args(host, sandbox_id=value), expect='fail')
    assert result['msg'].startswith(message + ': expected a string matching ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$')


def test_bad_timeout_fails(host, run):
    host.start(srv.respond(200, 'x'), path=sock(host.go, 'abc'))
    result = run(base_args(host, timeout=0), expect='fail')
    assert result['msg'] == 'timeout: expected a number of seconds greater than 0, got 0.0'


def test_volumes(host, run):
    mount_info = '{"volume-type":"block","device":"/dev/sdb","fstype":"ext4","metadata":{"fsGroup":"2000"},"options":["ro"]}'
    good = add_volume(host, '/dev/sdb', mount_info, ['sb-b', 'sb-a'])
    unused = add_volume(host, '/srv/data vol', '{"device": "/dev/loop0", "Fstype": "xfs", "extra": 1}')
    invalid = add_volume(host, '/dev/bad', '{"device": "/dev/bad",', ['sb-c'])
    wrong_type = add_volume(host, '/dev/typed', '{"device": 5}')
    array = add_volume(host, '/dev/array', '[1, 2]')
    empty = add_volume(host, '/dev/empty')  # kata creates the directory before it validates the JSON
    add_volume(host, None, '{}', name='not-base64!')
    add_volume(host, None, '{}', name='YR==')  # decodes, but is not what kata would write for any path
    add_volume(host, None, '{}', name=base64.urlsafe_b64encode(b'/dev/\xff').decode())
    # Not volumes: a file, a symbolic link to a directory, and kata_direct_volume's work in progress (a record being
    # created, or removed).
    add_volume(host, None, '{"volume-type":"block","device":"/dev/new"}', name='.kata-creating-abc')
    add_volume(host, None, '{"volume-type":"block","device":"/dev/old"}', name='.kata-removing-abc')
    open(os.path.join(host.volumes, 'mountInfo.json'), 'w').close()
    os.symlink(os.path.join(host.volumes, good), os.path.join(host.volumes, 'L2xpbms='))
    result = run(base_args(host))
    assert result['sandboxes'] == []
    by_name = dict((v['name'], v) for v in result['volumes'])
    assert [v['name'] for v in result['volumes']] == sorted(by_name)
    assert by_name[good] == {'name': 'L2Rldi9zZGI=', 'volume_path': '/dev/sdb', 'sandbox_id': 'sb-a', 'error': None,
                             'mount_info': {'volume_type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4',
                                            'metadata': {'fsGroup': '2000'}, 'options': ['ro']}}
    # Keys matched case-insensitively and unknown keys ignored, as kata's Go decoder does; missing fields are empty.
    assert by_name[unused] == {'name': unused, 'volume_path': '/srv/data vol', 'sandbox_id': None, 'error': None,
                               'mount_info': {'volume_type': '', 'device': '/dev/loop0', 'fstype': 'xfs',
                                              'metadata': {}, 'options': []}}
    assert by_name[invalid]['mount_info'] is None
    assert by_name[invalid]['sandbox_id'] == 'sb-c'
    assert by_name[invalid]['error'].startswith('kata cannot read mountInfo.json: it is not valid JSON: ')
    assert by_name[wrong_type]['mount_info'] is None
    assert by_name[wrong_type]['error'] == ('kata cannot read mountInfo.json: cannot unmarshal number into Go struct '
                                            'field MountInfo.device of type string')
    assert by_name[array]['mount_info'] is None
    assert by_name[array]['error'] == 'kata cannot read mountInfo.json: cannot unmarshal array into Go value of type MountInfo'
    assert by_name[empty] == {'name': empty, 'volume_path': '/dev/empty', 'mount_info': None, 'sandbox_id': None,
                              'error': 'mountInfo.json is missing (kata creates the directory before it validates the '
                                       'mount info)'}
    assert by_name['not-base64!'] == {
        'name': 'not-base64!', 'volume_path': None, 'sandbox_id': None,
        'mount_info': {'volume_type': '', 'device': '', 'fstype': '', 'metadata': {}, 'options': []},
        'error': "the directory name is not one kata writes: 'not-base64!' is not URL-safe base64 with padding"}
    assert by_name['YR==']['error'] == ("the directory name is not one kata writes: 'YR==' is not the canonical "
                                        "URL-safe base64 of any path")
    assert by_name['L2Rldi__']['error'] == "the directory name decodes to a path that is not UTF-8: b'/dev/\\xff'"
    assert 'L2xpbms=' not in by_name
    assert len(result['volumes']) == 9


def test_mount_info_is_the_form_kata_direct_volume_returns(host, run, run_module):
    # The record kata_direct_volume writes and returns is reported by kata_sandbox_info in the very same form.
    wanted = {'volume_type': 'block', 'device': '/dev/sdc', 'fstype': 'xfs',
              'metadata': {'fsGroup': '3000', 'fsGroupChangePolicy': 'OnRootMismatch'}, 'options': ['noatime', 'ro']}
    written = run_module(kata_direct_volume, {'volume_path': '/srv/vol <1>', 'volume_root': host.volumes,
                                              'mount_info': wanted})['volume']['mount_info']
    result = run(base_args(host))
    assert [v['mount_info'] for v in result['volumes']] == [written]
    assert written == wanted
    assert result['volumes'][0]['volume_path'] == '/srv/vol <1>'


def test_mount_info_exact_key_wins_over_a_case_variant(host, run):
    # Go's encoding/json: an exact key match is preferred, a case-insensitive one fills the field otherwise.
    add_volume(host, '/dev/sdd', '{"Device": "/dev/other", "device": "/dev/sdd", "VOLUME-TYPE": "block"}')
    result = run(base_args(host))
    assert result['volumes'][0]['mount_info'] == {'volume_type': 'block', 'device': '/dev/sdd', 'fstype': '',
                                                  'metadata': {}, 'options': []}


def test_mount_info_symlink_and_fifo_are_not_read(host, run):
    target = os.path.join(host.dir, 'elsewhere.json')
    with open(target, 'w') as f:
        f.write('{"volume-type": "block", "device": "/dev/sde"}')
    linked = add_volume(host, '/dev/linked')
    os.symlink(target, os.path.join(host.volumes, linked, 'mountInfo.json'))
    fifo = add_volume(host, '/dev/fifo')
    os.mkfifo(os.path.join(host.volumes, fifo, 'mountInfo.json'))  # opening it for reading must not block
    result = run(base_args(host))
    by_name = dict((v['name'], v) for v in result['volumes'])
    assert by_name[linked]['mount_info'] is None
    assert by_name[linked]['error'] == 'mountInfo.json is a symbolic link (not followed)'
    assert by_name[fifo]['mount_info'] is None
    assert by_name[fifo]['error'] == 'mountInfo.json is not a regular file'


def test_volume_name_encoding_matches_kata():
    # kata names a volume's directory with Go's base64.URLEncoding of the path (Add, kata-containers 3.0.0
    # src/runtime/pkg/direct-volume/utils.go): the URL-safe alphabet with '=' padding.
    assert _sandbox_info.decode_volume_name('L2EvYg==') == '/a/b'
    assert _sandbox_info.decode_volume_name('Li4vLi4vZXRjL3Bhc3N3ZA==') == '../../etc/passwd'


def test_missing_volume_root(host, run):
    result = run(base_args(host, volume_root=os.path.join(host.dir, 'none')))
    assert result['volumes'] == []


def test_volume_root_is_a_file(host, run):
    server = host.start(srv.respond(200, 'vsock://3:1024'), path=sock(host.go, 'abc'))
    path = os.path.join(host.dir, 'file')
    open(path, 'w').close()
    result = run(base_args(host, volume_root=path), expect='fail')
    assert result['msg'] == 'cannot list the direct volumes in %s: Not a directory' % path
    assert server.requests == []  # the task failed before asking any shim


def test_check_mode(host, run):
    host.start(srv.respond(200, 'vsock://3:1024'), path=sock(host.go, 'abc'))
    result = run(base_args(host, _ansible_check_mode=True, agent_url=True))
    assert result['changed'] is False
    assert result['sandboxes'][0]['agent_url'] == 'vsock://3:1024'


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

@pytest.mark.parametrize('option', ['volume_root', 'sandbox_root', 'rs_sandbox_root'])
def test_path_with_nul_names_the_option(host, option, run):
    server = host.start(srv.respond(200, 'vsock://3:1024'), path=sock(host.go, 'abc'))
    result = run(base_args(host, **{option: '/run/a\0b'}), expect='fail')
    assert result['msg'] == "%s: invalid path '/run/a\\x00b': it contains a NUL character" % option
    assert server.requests == []


def test_mount_info_nested_too_deeply(host, run):
    add_volume(host, '/a', mount_info='{"device": ' + '[' * 100000 + ']' * 100000 + '}')
    result = run(base_args(host))
    assert result['volumes'][0]['mount_info'] is None
    assert result['volumes'][0]['error'] == ('kata cannot read mountInfo.json: it is not valid JSON: arrays or objects '
                                             'nested too deeply')
