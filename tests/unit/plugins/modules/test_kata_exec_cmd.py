# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_exec_cmd's main() against the simulated node (real shim sockets, hybrid-vsock consoles, real shells)."""

from __future__ import annotations

import base64
import re

import pytest

from ansible.module_utils import basic

from ansible_collections.katacontainers.kata.plugins.modules import kata_exec_cmd
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.console_testlib import shared_node

TIME = r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$'


@pytest.fixture(scope='module')
def node():
    # One node per pytest process, stopped when that process exits (console_testlib): ansible-test forks per test.
    return shared_node()


@pytest.fixture
def servers():
    factory = srv.ServerFactory()
    yield factory
    factory.close()


@pytest.fixture(params=['bash', 'dash'])
def shell(request, node):
    if request.param not in node.shells:
        pytest.skip('%s is not installed' % request.param)
    return request.param


def args(node, sandbox_id, **kwargs):
    kwargs.update(sandbox_id=sandbox_id, sandbox_root=node.sandbox_root, rs_sandbox_root=node.rs_sandbox_root)
    return kwargs


def sessions(node, sandbox_id):
    return [e for e in node.console_log() if e['sandbox'] == sandbox_id and e['event'] == 'session'
            and e['state'] == 'started']


def handshakes(node):
    """Connections to any console (logged when the handshake is read, before the answer)."""
    return [e for e in node.console_log() if e['event'] == 'handshake']


def test_success(node, shell, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-' + shell, cmd='echo out; echo line2; echo err >&2'))
    for key in ('start', 'end'):
        assert re.match(TIME, result.pop(key))
    assert re.match(r'^0:00:\d\d\.\d{6}$', result.pop('delta'))
    assert result.pop('shell').endswith('/' + shell)
    assert result == {'changed': True, 'rc': 0, 'cmd': 'echo out; echo line2; echo err >&2', 'stdout': 'out\nline2',
                      'stderr': 'err', 'stdout_lines': ['out', 'line2'], 'stderr_lines': ['err'],
                      'stderr_merged': False, 'timed_out': False, 'warnings': []}


def test_non_zero_status_fails_with_the_output(node, shell, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-' + shell, cmd='echo partial; exit 3'), expect='fail')
    assert (result['failed'], result['msg'], result['rc'], result['stdout'], result['changed']) == (
        True, 'non-zero return code', 3, 'partial', True)


def test_exact_output_on_request(node, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-' + node.shells[0], cmd="printf 'a\\n\\n\\377\\000z\\n\\n'",
                                            strip_empty_ends=False, binary_output=True))
    assert result['stdout'] == 'a\n\n\ufffd\x00z\n\n'
    assert base64.b64decode(result['stdout_b64']) == b'a\n\n\xff\x00z\n\n'
    assert (result['stderr_b64'], result['stdout_lines']) == ('', ['a', '', '\ufffd\x00z', ''])


def test_argv_is_quoted(node, shell, run_module):
    words = ['printf', '<%s>', "it's", '$(id)', 'two\nlines', '']
    result = run_module(kata_exec_cmd, args(node, 'sb-' + shell, argv=words))
    assert result['stdout'] == "<it's><$(id)><two\nlines><>"
    assert result['cmd'] == "printf '<%s>' 'it'\"'\"'s' '$(id)' 'two\nlines' ''"


@pytest.mark.parametrize('add_newline, expected', [(True, 'hello\\n'), (False, 'hello')])
def test_stdin(node, run_module, add_newline, expected):
    result = run_module(kata_exec_cmd, args(node, 'sb-' + node.shells[0], cmd='od -c -An | tr -d " "', stdin='hello',
                                            stdin_add_newline=add_newline))
    assert result['stdout'] == expected


def test_chdir(node, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-' + node.shells[0], cmd='pwd', chdir='/usr/share'))
    assert result['stdout'] == '/usr/share'
    result = run_module(kata_exec_cmd, args(node, 'sb-' + node.shells[0], cmd='pwd', chdir='/nonexistent-kx'),
                        expect='fail')
    assert result['msg'] == ("chdir: cannot change to '/nonexistent-kx' before running the command: it does not exist "
                             "in the guest")


def test_timeout(node, shell, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-' + shell, cmd='echo started; sleep 30', timeout=0.5),
                        expect='fail')
    assert (result['msg'], result['timed_out'], result['rc'], result['stdout']) == (
        'the command did not finish within 0.5 s: it was interrupted with Ctrl-C (SIGINT); exited with status 130',
        True, 130, 'started')
    assert run_module(kata_exec_cmd, args(node, 'sb-' + shell, cmd='echo next'))['stdout'] == 'next'


def test_the_shell_exits_mid_command(node, run_module):
    sandbox_id = 'sb-' + node.shells[0]
    result = run_module(kata_exec_cmd, args(node, sandbox_id, cmd='kill -KILL 0'), expect='fail')
    assert re.match(r'^the debug console of sandbox %s \(hvsock /\S+/kata.hvsock:1026\) closed the connection before '
                    r'the command finished: the guest shell exited or was killed$' % sandbox_id, result['msg'])
    assert (result['cmd'], result['rc'], result['stdout'], result['stderr']) == ('kill -KILL 0', None, '', '')


def test_check_mode_skips_unless_marked_safe(node, run_module):
    sandbox_id = 'sb-' + node.shells[0]
    before = len(sessions(node, sandbox_id))
    result = run_module(kata_exec_cmd, args(node, sandbox_id, cmd='touch /should-not-exist'), check_mode=True)
    assert result == {'changed': False, 'skipped': True, 'cmd': 'touch /should-not-exist', 'warnings': [],
                      'msg': 'Command would have run if not in check mode (set check_mode_safe=true for a command that '
                             'changes nothing)'}
    assert len(sessions(node, sandbox_id)) == before  # not even connected
    result = run_module(kata_exec_cmd, args(node, sandbox_id, cmd='echo read-only', check_mode_safe=True),
                        check_mode=True)
    assert (result['stdout'], result['rc'], result['changed']) == ('read-only', 0, True)
    assert len(sessions(node, sandbox_id)) == before + 1


def test_check_mode_still_checks_the_sandbox(node, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-nope', cmd='true'), check_mode=True, expect='fail')
    assert result['msg'].startswith('no shim socket for sandbox sb-nope: neither %s/sb-nope/shim-monitor.sock nor '
                                    % node.sandbox_root)


@pytest.mark.parametrize('extra, message', [
    ({'sandbox_id': 'a'}, 'sandbox_id: invalid sandbox ID \'a\': expected a string matching ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$ '
                          '(at least 2 characters; letters, digits, "_", "." and "-", not first)'),
    ({'sandbox_id': '../etc'}, 'sandbox_id: invalid sandbox ID \'../etc\': expected a string matching '
                               '^[a-zA-Z0-9][a-zA-Z0-9_.-]+$ (at least 2 characters; letters, digits, "_", "." and "-", '
                               'not first)'),
    ({'debug_port': 0}, 'debug_port: expected a vsock port from 1 to 4294967295, got 0'),
    ({'debug_port': 4294967296}, 'debug_port: expected a vsock port from 1 to 4294967295, got 4294967296'),
    ({'cmd': ''}, 'cmd: the command is empty'),
    ({'cmd': '  \n'}, 'cmd: the command is empty'),
    ({'cmd': None, 'argv': []}, 'argv: the list is empty, expected the program and its arguments'),
    ({'cmd': 'echo \x00'}, 'cmd: contains a NUL character, which a shell command cannot carry'),
    ({'chdir': '/tmp\x00'}, 'chdir: contains a NUL character, which a shell command cannot carry'),
    ({'timeout': -1}, 'timeout: expected a number of seconds of at least 0, got -1.0'),
    ({'connect_timeout': 0}, 'connect_timeout: expected a number of seconds greater than 0, got 0.0'),
    ({'argv': ['x']}, 'parameters are mutually exclusive: cmd|argv'),
    ({'cmd': None}, 'one of the following is required: cmd, argv'),
])
def test_bad_input(node, run_module, extra, message):
    params = args(node, 'sb-bash', cmd='true')
    params.update(extra)
    params = dict((k, v) for k, v in params.items() if v is not None)
    before = len(handshakes(node))
    result = run_module(kata_exec_cmd, params, expect='fail')
    assert result['msg'] == message
    assert len(handshakes(node)) == before


def test_unknown_agent_url_scheme(servers, run_module):
    server = servers.start(srv.respond(200, 'remote:/run/kata/abc/remote.sock'))
    result = run_module(kata_exec_cmd, {'sandbox_id': 'abc', 'shim_socket': server.path, 'cmd': 'true'}, expect='fail')
    assert result['msg'] == ("the agent URL 'remote:/run/kata/abc/remote.sock' has the scheme 'remote', which has no "
                             "debug console this module can reach: expected vsock or hvsock")
    assert result['agent_url'] == 'remote:/run/kata/abc/remote.sock'
    assert [(r.method, r.target) for r in server.requests] == [('GET', '/agent-url')]


def test_shim_error_on_agent_url(servers, run_module):
    server = servers.start(srv.respond(500, 'Invalid socket type'))
    result = run_module(kata_exec_cmd, {'sandbox_id': 'abc', 'shim_socket': server.path, 'cmd': 'true'}, expect='fail')
    assert result['msg'] == ('GET http://shim/agent-url via %s: HTTP 500 Internal Server Error: Invalid socket type'
                             % server.path)


def test_vsock_cid_unreachable(node, run_module):
    result = run_module(kata_exec_cmd, args(node, 'sb-qemu', cmd='true', connect_timeout=0.5), expect='fail')
    cid = node.agent_url('sb-qemu')[len('vsock://'):-len(':1024')]
    assert re.match(r'^cannot reach the debug console at vsock %s:1026 within 0.5 s \(\d+ attempts?\): .+' % cid,
                    result['msg'])


@pytest.mark.parametrize('sandbox_id, debug_port, reason', [
    ('sb-failure', 1026, ': the hypervisor answered \'FAILURE\' to CONNECT 1026 instead of "OK <port>"'),
    ('sb-noreply', 1026, ': no answer to the handshake within the timeout'),
    ('sb-close', 1026, ': the hypervisor closed the connection without answering CONNECT 1026: nothing listens on '
                       'vsock port 1026 in the guest'),
    ('sb-bash', 1027, ': the hypervisor closed the connection without answering CONNECT 1027: nothing listens on '
                      'vsock port 1027 in the guest'),
])
def test_handshake_faults(node, run_module, sandbox_id, debug_port, reason):
    result = run_module(kata_exec_cmd, args(node, sandbox_id, cmd='true', debug_port=debug_port, connect_timeout=0.4),
                        expect='fail')
    assert result['msg'].startswith('cannot reach the debug console at hvsock %s/run/vc/firecracker/%s/root/kata.hvsock:'
                                    '%d within 0.4 s (' % (node.root, sandbox_id, debug_port))
    assert reason in result['msg']


def test_nothing_of_the_command_is_logged(node, run_module, monkeypatch):
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: logged.append((msg, log_args)))
    params = args(node, 'sb-' + node.shells[0], cmd='printf "%s" s3cr3t-output', stdin='s3cr3t-input')
    params['_ansible_no_log'] = True
    result = run_module(kata_exec_cmd, params)
    assert result['stdout'] == 's3cr3t-output'
    assert not any('s3cr3t' in repr(entry) for entry in logged)
