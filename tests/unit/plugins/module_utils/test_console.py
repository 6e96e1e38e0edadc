# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The debug console client: agent URLs, dialing (real unix sockets, real AF_VSOCK) and the framing protocol
against real shells (bash, dash, busybox ash) on real ptys, served by the simulated node's console."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._console import _dial, _exec, _session
from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import parse_agent_url
from ansible_collections.katacontainers.kata.plugins.module_utils._console._dial import dial_console
from ansible_collections.katacontainers.kata.plugins.module_utils._console._exec import command_text
from ansible_collections.katacontainers.kata.plugins.module_utils._console._script import (
    EXEC_LINE,
    job_script,
    start_lines,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._session import ConsoleSession
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, PeerError
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.console_testlib import shared_node

MiB = 1024 * 1024
ALL_BYTES = bytes(range(256))


# -- agent URLs ---------------------------------------------------------------------------------------------------

def test_vsock_url():
    address = parse_agent_url('vsock://1234567:1024')
    assert (address.scheme, address.cid, address.port, address.path) == ('vsock', 1234567, 1024, None)
    assert address.describe(1026) == 'vsock 1234567:1026'


def test_hvsock_url_with_newline():
    address = parse_agent_url(b'hvsock:///run/vc/firecracker/abc/root/kata.hvsock:1024\n')
    assert (address.scheme, address.path, address.port, address.cid) == (
        'hvsock', '/run/vc/firecracker/abc/root/kata.hvsock', 1024, None)
    assert address.url == 'hvsock:///run/vc/firecracker/abc/root/kata.hvsock:1024'
    assert address.describe(1026) == 'hvsock /run/vc/firecracker/abc/root/kata.hvsock:1026'


def test_scheme_is_case_insensitive_like_go():
    assert parse_agent_url('VSOCK://3:1024').scheme == 'vsock'
    assert parse_agent_url('HvSock:///run/vc/vm/x/clh.sock:1024').path == '/run/vc/vm/x/clh.sock'


@pytest.mark.parametrize('url, message', [
    ('remote:/run/kata/x/remote.sock',
     "the agent URL 'remote:/run/kata/x/remote.sock' has the scheme 'remote', which has no debug console this module "
     "can reach: expected vsock or hvsock"),
    ('unix:///run/x.sock',
     "the agent URL 'unix:///run/x.sock' has the scheme 'unix', which has no debug console this module can reach: "
     "expected vsock or hvsock"),
    ('', "the agent URL '' has no scheme: expected vsock://<cid>:<port> or hvsock://<socket path>:<port>"),
    ('/run/x.sock:1024',
     "the agent URL '/run/x.sock:1024' has no scheme: expected vsock://<cid>:<port> or hvsock://<socket path>:<port>"),
    ('vsock:3:1024', "invalid vsock agent URL 'vsock:3:1024': expected vsock://..."),
    ('vsock://1:2:3', "invalid vsock agent URL 'vsock://1:2:3': expected vsock://<cid>:<port>"),
    ('vsock://3', "invalid vsock agent URL 'vsock://3': expected vsock://<cid>:<port>"),
    ('vsock://3:1024/x', "invalid vsock agent URL 'vsock://3:1024/x': expected vsock://<cid>:<port>"),
    ('vsock://abc:1024',
     "invalid vsock agent URL 'vsock://abc:1024': the CID and the port must be decimal numbers below 2^32"),
    ('vsock://4294967296:1024',
     "invalid vsock agent URL 'vsock://4294967296:1024': the CID and the port must be decimal numbers below 2^32"),
    ('vsock://-1:1024',
     "invalid vsock agent URL 'vsock://-1:1024': the CID and the port must be decimal numbers below 2^32"),
    ('hvsock:///a:b:1024',
     "invalid hvsock agent URL 'hvsock:///a:b:1024': expected hvsock://<absolute socket path>:<port>"),
    ('hvsock://host/x.sock:1024',
     "invalid hvsock agent URL 'hvsock://host/x.sock:1024': expected hvsock://<absolute socket path>:<port>"),
    ('hvsock:///x.sock', "invalid hvsock agent URL 'hvsock:///x.sock': expected hvsock://<absolute socket path>:<port>"),
    ('hvsock:///:1024', "invalid hvsock agent URL 'hvsock:///:1024': expected hvsock://<absolute socket path>:<port>"),
    ('hvsock:///x.sock:port',
     "invalid hvsock agent URL 'hvsock:///x.sock:port': the port must be a decimal number below 2^32"),
])
def test_bad_agent_urls(url, message):
    with pytest.raises(PeerError) as exc_info:
        parse_agent_url(url)
    assert exc_info.value.msg == message
    assert exc_info.value.details == {'agent_url': url}


# -- what is typed into the guest -------------------------------------------------------------------------------

def _check_typed(data):
    """No control bytes but newlines and tabs, every line far below the 4095 bytes of a canonical tty line."""
    assert set(data) <= set(range(0x20, 0x7f)) | set(range(0x80, 0x100)) | {0x09, 0x0a}
    assert max(len(line) for line in data.split(b'\n')) < 1100


def test_start_lines_are_safe_for_an_interactive_shell():
    data = start_lines('0123456789abcdef01234567')
    _check_typed(data)
    first = data.split(b'\n')[0]
    assert b'!' not in first  # bash's history expansion in the interactive shell
    assert first.startswith(b' ')  # kept out of bash's history (HISTCONTROL=ignorespace)
    assert b'KATA-0123456789abcdef01234567' not in data  # the echo can never look like a frame line


@pytest.mark.parametrize('encoder', ['base64', 'od'])
def test_job_script_is_safe_for_the_line_discipline(encoder):
    marker = 'feedfacefeedfacefeedface'
    data = job_script(marker, ALL_BYTES * 40 + b"\x03\x04\x1a\x7f\r\n'\"\\", stdin=os.urandom(300000),
                      chdir=b'/tmp/\x03 \'dir\'\n', encoder=encoder)
    _check_typed(data)
    assert b'KATA-' + marker.encode() not in data


def test_job_script_types_plain_text_and_encodes_the_rest():
    plain = job_script('m', "echo 'it''s' \u00e9t\u00e9\n\tdone".encode('utf-8'), shell='/usr/bin/bash')
    assert plain.split(b'\n')[:3] == [b"set -- '/usr/bin/bash'",
                                      b"c='echo '\\''it'\\'''\\''s'\\'' \xc3\xa9t\xc3\xa9", b"\tdone'"]
    control = job_script('m', b'echo \x1b[1m\r', shell='/bin/busybox')
    assert control.split(b'\n')[:3] == [b"set -- '/bin/busybox' sh",
                                        b"c=$(printf '\\145\\143\\150\\157\\040\\033\\133\\061\\155\\015'",
                                        b'printf x); c=${c%x}']
    long_line = job_script('m', b'x' * 900)
    assert long_line.split(b'\n')[:2] == [b'set -- "/proc/$$/exe"', b"c=$(printf '" + b'\\170' * 200 + b"'"]


def test_decode_strict_and_partial():
    decode = getattr(_session, '_decode')
    encoded = base64.encodebytes(ALL_BYTES * 3).split(b'\n')
    assert decode(encoded, 'base64', True) == ALL_BYTES * 3
    with pytest.raises(ValueError):
        decode([b'hello there'], 'base64', True)
    assert decode([encoded[0][:10]], 'base64', False) == (ALL_BYTES * 3)[:6]
    assert decode([b' 00 01 ff', b' 41'], 'od', True) == b'\x00\x01\xffA'
    assert decode([b' 00 01 f'], 'od', False) == b'\x00\x01'
    with pytest.raises(ValueError):
        decode([b' 0g'], 'od', True)


# -- dialing ------------------------------------------------------------------------------------------------------

@pytest.fixture
def servers():
    factory = srv.ServerFactory()
    yield factory
    factory.close()


def read_line(conn):
    line = b''
    while not line.endswith(b'\n'):
        piece = conn.recv(1)
        if not piece:
            break
        line += piece
    return line


def handshake_server(servers, answer, after=None):
    """A hybrid-vsock socket that reads the CONNECT line, sends ``answer`` and then runs ``after(conn, stop)``."""
    seen = []

    def behaviour(conn, _request, stop):
        seen.append(read_line(conn))
        if answer:
            conn.sendall(answer)
        if after:
            after(conn, stop)
    server = servers.start(behaviour, read_first=0)
    return parse_agent_url('hvsock://%s:1024' % server.path), seen


def dial_error(address, port=1026, timeout=0.3):
    with pytest.raises(PeerError) as exc_info:
        dial_console(address, port, timeout)
    return exc_info.value


def test_hvsock_handshake_keeps_what_follows_the_ok_line(servers):
    address, seen = handshake_server(servers, b'OK 1073741824\nbash-5.2# ')
    sock, received = dial_console(address, 1026, 2)
    sock.close()
    assert seen == [b'CONNECT 1026\n']
    assert received == b'bash-5.2# '


def test_hvsock_handshake_sends_the_debug_port_given(servers):
    address, seen = handshake_server(servers, b'OK 5\n')
    dial_console(address, 4294967295, 2)[0].close()
    assert seen == [b'CONNECT 4294967295\n']


def test_hvsock_failure_line_is_retried_then_reported(servers):
    address, seen = handshake_server(servers, b'FAILURE\n')
    error = dial_error(address, timeout=1.5)
    attempts = len(seen)
    assert attempts >= 2  # retried like kata's dialer
    assert error.msg == ('cannot reach the debug console at hvsock %s:1026 within 1.5 s (%d attempts): the hypervisor '
                         'answered \'FAILURE\' to CONNECT 1026 instead of "OK <port>"' % (address.path, attempts))
    assert error.details == {'agent_url': address.url}


def test_hvsock_no_reply(servers):
    address, seen = handshake_server(servers, None, after=lambda conn, stop: stop.wait(5))
    error = dial_error(address)
    assert seen == [b'CONNECT 1026\n']
    assert error.msg == ('cannot reach the debug console at hvsock %s:1026 within 0.3 s (1 attempt): no answer to the '
                         'handshake within the timeout' % address.path)


def test_hvsock_closed_without_answer(servers):
    address, seen = handshake_server(servers, None)
    error = dial_error(address, port=1027)
    assert error.msg.endswith('(%d attempts): the hypervisor closed the connection without answering CONNECT 1027: '
                              'nothing listens on vsock port 1027 in the guest (is the debug console enabled, '
                              'debug_console_enabled = true in the [agent.kata] section of the kata configuration, and '
                              'is the port right?)' % len(seen))


def test_hvsock_partial_and_endless_answers(servers):
    address, _seen = handshake_server(servers, b'OK')
    assert dial_error(address).msg.endswith("the hypervisor closed the connection after a partial answer b'OK'")
    address, _seen = handshake_server(servers, b'O' * 2000, after=lambda conn, stop: stop.wait(5))
    assert re.search(r'\): the hypervisor answered \d+ bytes without a newline: b\'OOOO', dial_error(address).msg)


def test_hvsock_missing_and_refused_sockets(servers):
    missing = os.path.join(servers.dir, 'nothing.sock')
    error = dial_error(parse_agent_url('hvsock://%s:1024' % missing))
    assert re.match(r'cannot reach the debug console at hvsock %s:1026 within 0.3 s \(\d+ attempts\): %s does not exist$'
                    % (re.escape(missing), re.escape(missing)), error.msg)
    dead = servers.dead_socket()
    error = dial_error(parse_agent_url('hvsock://%s:1024' % dead))
    assert error.msg.endswith('connection refused on %s (nothing listens on it: the hypervisor may have exited)' % dead)


def test_hvsock_retries_until_the_console_answers(servers):
    calls = []

    def behaviour(conn, _request, _stop):
        calls.append(read_line(conn))
        if len(calls) >= 3:
            conn.sendall(b'OK 7\n')
    server = servers.start(behaviour, read_first=0)
    sock, received = dial_console(parse_agent_url('hvsock://%s:1024' % server.path), 1026, 10)
    sock.close()
    assert (len(calls), received) == (3, b'')


@pytest.mark.skipif(getattr(socket, 'AF_VSOCK', None) is None, reason='this Python has no AF_VSOCK')
def test_vsock_unreachable_cid_fails_within_the_timeout():
    # There is no vsock loopback transport here: the connection times out, is refused or has no device, whatever the
    # CID. Each failure is retried until the timeout, then reported.
    error = dial_error(parse_agent_url('vsock://4294967200:1024'), timeout=0.5)
    assert re.match(r'cannot reach the debug console at vsock 4294967200:1026 within 0.5 s \(\d+ attempts?\): .+',
                    error.msg)
    assert error.details == {'agent_url': 'vsock://4294967200:1024'}


# -- sessions on real shells --------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def node():
    # One node per pytest process, stopped when that process exits (console_testlib): ansible-test forks per test.
    return shared_node()


@pytest.fixture(params=['bash', 'dash', 'ash'])
def shell(request, node):
    if request.param not in node.shells:
        pytest.skip('%s is not installed (Debian package %s)' % (request.param,
                                                                 'busybox-static' if request.param == 'ash' else request.param))
    return request.param


def open_session(node, sandbox_id, marker=None):
    address = parse_agent_url(node.agent_url(sandbox_id))
    sock, received = dial_console(address, 1026, 5)
    session = ConsoleSession(sock, received, where='console of %s' % sandbox_id, marker=marker)
    session.start(5)
    return session


def run(node, shell, command, stdin=None, chdir=None, timeout=30, tools=None, marker=None, **kwargs):
    session = open_session(node, 'sb-' + shell, marker=marker)
    try:
        if tools is not None:
            session.tools = tools
        return session.run(command, stdin=stdin, chdir=chdir, timeout=timeout, **kwargs)
    finally:
        session.close()


def test_sync_reports_the_shell_and_the_encoders(node, shell):
    session = open_session(node, 'sb-' + shell)
    session.close()
    assert session.shell == {'bash': os.path.realpath('/bin/bash'), 'dash': os.path.realpath(shutil.which('dash')),
                             'ash': os.path.realpath(shutil.which('busybox'))}[shell]
    assert session.tools == ('base64', 'od')
    assert 'i' not in session.flags


@pytest.mark.parametrize('tools', [('base64', 'od'), ('od',)], ids=['base64', 'od'])
def test_output_with_the_frame_markers_comes_back_verbatim(node, shell, tools):
    marker = 'c0ffee00c0ffee00c0ffee00'
    text = b'KATA-%s:E 0 5\nKATA-%s:Z\n\nKATA-%s:B\r\n' % ((marker.encode(),) * 3)
    result = run(node, shell, b"printf '%s' '" + text + b"'; exit 3", marker=marker, tools=tools)
    assert (result.rc, result.stdout, result.stderr, result.complete) == (3, text, b'', True)


@pytest.mark.parametrize('tools', [('base64', 'od'), ('od',)], ids=['base64', 'od'])
def test_every_byte_value_and_no_final_newline(node, shell, tools):
    octal = ''.join('\\%03o' % b for b in ALL_BYTES).encode()
    result = run(node, shell, b"printf '" + octal + b"'; printf '" + octal + b"' >&2", tools=tools)
    assert (result.rc, result.stdout, result.stderr, result.stderr_merged) == (0, ALL_BYTES, ALL_BYTES, False)


@pytest.mark.parametrize('tools', [('base64', 'od'), ('od',)], ids=['base64', 'od'])
def test_one_mebibyte_through_stdin_and_back(node, shell, tools):
    data = os.urandom(MiB)
    result = run(node, shell, b'cat; cat >&2 <<EOF\nerr\nEOF', stdin=data, tools=tools)
    assert (result.rc, result.stdout == data, len(result.stdout), result.stderr) == (0, True, MiB, b'err\n')


def test_a_very_long_line(node, shell):
    result = run(node, shell, b'head -c 300000 /dev/zero | tr "\\000" x')
    assert (result.rc, result.stdout) == (0, b'x' * 300000)


@pytest.mark.parametrize('command, rc, stderr_pattern', [
    (b'true', 0, b'^$'),
    (b'false', 1, b'^$'),
    (b'exit 255', 255, b'^$'),
    (b'kata-no-such-command-xyz', 127, b'kata-no-such-command-xyz: .*not found'),
    (b'kill -KILL $$', 137, b'^(Killed\n)?$'),
    (b'kill -TERM $$', 143, b'^(Terminated\n)?$'),
])
def test_exit_statuses(node, shell, command, rc, stderr_pattern):
    result = run(node, shell, command)
    assert (result.rc, result.stdout, result.complete, result.timed_out) == (rc, b'', True, False)
    assert re.search(stderr_pattern, result.stderr), result.stderr


def test_stdin_with_nul_bytes_and_no_final_newline(node, shell):
    result = run(node, shell, b'od -An -v -tx1', stdin=b'a\x00b\xff')
    assert result.stdout.split() == [b'61', b'00', b'62', b'ff']


def test_without_stdin_the_command_reads_dev_null(node, shell):
    result = run(node, shell, b'cat; readlink /proc/self/fd/0')
    assert result.stdout == b'/dev/null\n'


def test_chdir_to_a_hostile_name(node, shell):
    parent = tempfile.mkdtemp(prefix='kx-chdir-')
    try:
        target = os.path.join(parent, "it's a \"dir\" $(x) \n\twith\x03 ctrl")
        os.mkdir(target)
        result = run(node, shell, b'pwd', chdir=target.encode())
        assert (result.rc, result.stdout) == (0, target.encode() + b'\n')
        with open(os.path.join(parent, 'file'), 'w'):
            pass
        for path, reason in ((os.path.join(parent, 'file'), 'it is not a directory in the guest'),
                             (os.path.join(parent, 'missing'), 'it does not exist in the guest')):
            with pytest.raises(ArgumentError) as exc_info:
                run(node, shell, b'pwd', chdir=path.encode())
            assert exc_info.value.msg == 'chdir: cannot change to %r before running the command: %s' % (path, reason)
    finally:
        shutil.rmtree(parent)


def test_hostile_argv_is_not_interpreted(node, shell):
    witness = os.path.join(tempfile.gettempdir(), 'kx-witness-%d' % os.getpid())
    words = ['printf', '[%s]', "a'b", '$(touch %s)' % witness, '`touch %s`' % witness, 'x\ny', ' spaced ', '', '*',
             '"; exit 7; "', '\\', 'ünï\u00e7ode', '\x1b[31m']
    result = run(node, shell, command_text({'argv': words}).encode('utf-8'))
    assert result.rc == 0
    assert result.stdout == ''.join('[%s]' % w for w in words[2:]).encode('utf-8')
    assert not os.path.exists(witness)


def test_unicode_text_is_typed_and_comes_back(node, shell):
    text = 'gr\u00fc\u00dfe \u2603 \U0001f600 \u65e5\u672c'
    result = run(node, shell, ("printf '%%s' '%s'" % text).encode('utf-8'))
    assert (result.rc, result.stdout.decode('utf-8')) == (0, text)


def test_shell_syntax_in_cmd(node, shell):
    result = run(node, shell, b'for i in 1 2 3; do echo "n=$i"; done | tail -n 2\nx=$(echo sub)\necho "$x" >&2')
    assert (result.rc, result.stdout, result.stderr) == (0, b'n=2\nn=3\n', b'sub\n')


def test_no_writable_directory_merges_stderr(node, shell):
    result = run(node, shell, b'echo out; echo err >&2; exit 4', temp_dirs=('/nonexistent-kx-dir',))
    assert (result.rc, result.stdout, result.stderr, result.stderr_merged) == (4, b'out\nerr\n', b'', True)
    with pytest.raises(PeerError) as exc_info:
        run(node, shell, b'cat', stdin=b'data', temp_dirs=('/nonexistent-kx-dir',))
    assert exc_info.value.msg == ('console of sb-%s: stdin cannot be passed: no writable directory in the guest (tried '
                                  '/nonexistent-kx-dir)' % shell)


def test_nothing_is_left_in_the_guest(node, shell):
    run(node, shell, b'echo x; echo y >&2', stdin=b'in')
    assert os.listdir(node.guest_tmp('sb-' + shell)) == []


def test_timeout_interrupts_and_keeps_the_output(node, shell):
    result = run(node, shell, b'echo before; echo warn >&2; sleep 30; echo after', timeout=0.5)
    assert (result.timed_out, result.interrupted, result.complete, result.rc) == (True, 'SIGINT', True, 130)
    assert (result.stdout, result.stderr) == (b'before\n', b'warn\n')
    # The console is still usable: every connection has its own shell.
    assert run(node, shell, b'echo again').stdout == b'again\n'
    assert os.listdir(node.guest_tmp('sb-' + shell)) == []


@pytest.mark.parametrize('sh', ['bash', 'dash'])
def test_timeout_of_a_command_that_ignores_sigint(node, sh):
    if sh not in node.shells:
        pytest.skip('%s is not installed' % sh)
    result = run(node, sh, b"trap '' INT; sleep 30", timeout=0.5)
    assert (result.timed_out, result.interrupted, result.complete, result.rc) == (True, 'SIGQUIT', True, 131)


def test_guest_commands_start_with_default_signals(node, shell):
    # The node was started with SIGINT and SIGQUIT ignored and blocked (console_testlib.hostile_signals); a guest
    # command must see neither, or a timeout could not interrupt it.
    result = run(node, shell, b"grep -E '^Sig(Blk|Ign):' /proc/self/status")
    fields = dict(line.split(b':') for line in result.stdout.splitlines())
    # busybox ash runs its commands with SIGQUIT ignored whoever started it (the same without the hostile parent).
    signals = (signal.SIGINT,) if shell == 'ash' else (signal.SIGINT, signal.SIGQUIT)
    assert int(fields[b'SigBlk'], 16) == 0
    assert int(fields[b'SigIgn'], 16) & sum(1 << (number - 1) for number in signals) == 0


def test_timeout_of_a_command_that_ignores_everything(node, shell):
    result = run(node, shell, b"trap '' INT QUIT; exec sleep 30", timeout=0.3)
    assert (result.timed_out, result.interrupted, result.complete, result.rc) == (True, 'closed', False, None)
    assert run(node, shell, b'echo usable').stdout == b'usable\n'


def test_two_concurrent_executions_in_one_sandbox(node, shell):
    parent = tempfile.mkdtemp(prefix='kx-fifo-')
    fifo = os.path.join(parent, 'fifo')
    os.mkfifo(fifo)
    results = {}

    def reader():
        results['reader'] = run(node, shell, b'read x < "$F"; echo "got $x"'.replace(b'$F', fifo.encode()), timeout=20)
    try:
        thread = threading.Thread(target=reader)
        thread.start()
        # The reader can only finish when the writer runs while it waits: the two run at the same time.
        writer = run(node, shell, b'echo hello > ' + fifo.encode(), timeout=20)
        thread.join(30)
    finally:
        shutil.rmtree(parent)
    assert (writer.rc, writer.stdout) == (0, b'')
    assert (results['reader'].rc, results['reader'].stdout) == (0, b'got hello\n')


def test_the_shell_exits_mid_command(node, shell):
    with pytest.raises(PeerError) as exc_info:
        run(node, shell, b'echo partial; kill -KILL 0')
    assert exc_info.value.msg == ('console of sb-%s closed the connection before the command finished: the guest shell '
                                  'exited or was killed' % shell)
    assert exc_info.value.details['rc'] is None


def test_the_shell_is_killed_from_outside(node, shell):
    errors = []

    def victim():
        try:
            run(node, shell, b'sleep 30', timeout=25)
        except PeerError as exc:
            errors.append(exc.msg)
    thread = threading.Thread(target=victim)
    thread.start()
    sandbox_id = 'sb-' + shell
    deadline = time.time() + 10
    while time.time() < deadline and not node.call({'command': 'status'})['services']['console']['consoles'][
            sandbox_id]['sessions']:
        time.sleep(0.05)
    node.call({'command': 'console', 'sandbox': sandbox_id, 'kill': True})
    thread.join(30)
    assert errors == ['console of %s closed the connection before the command finished: the guest shell exited or '
                      'was killed' % sandbox_id]


# -- the console itself, as the agent starts it ------------------------------------------------------------------

def raw_exchange(node, sandbox_id, line, token):
    address = parse_agent_url(node.agent_url(sandbox_id))
    sock, received = dial_console(address, 1026, 5)
    sock.settimeout(10)
    data = received
    try:
        sock.sendall(line)
        while not re.search(token + rb'[^\r\n]*\r\n', data):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    finally:
        sock.close()
    return data


def test_the_console_shell_is_started_as_the_agent_does(node, shell):
    data = raw_exchange(node, 'sb-' + shell,
                        b"printf 'R%sT' E; od -An -tx1 /proc/$$/cmdline | tr -d ' \\n'; "
                        b"printf ' %s %s\\n' $$ \"$(cut -d' ' -f6,7 /proc/$$/stat)\"\n", rb'RET')
    match = re.search(rb'RET(\S*) (\d+) (\d+) (\d+)\r\n', data)
    assert match, data
    cmdline, pid, session, tty = match.groups()
    if shell == 'ash':
        assert cmdline == b'736800'  # argv[0] "sh": busybox cannot run with an empty argv (it needs an applet name)
    else:
        assert cmdline == b'00'  # an empty argv: the kernel (5.18+) gives the process a single empty argv[0]
    assert session == pid  # setsid(): the shell leads its own session
    assert int(tty) != 0  # and the pty is its controlling terminal


def test_busybox_cannot_be_the_console_shell(node):
    if 'ash' not in node.shells:
        pytest.skip('busybox is not installed (Debian package busybox-static)')
    address = parse_agent_url(node.agent_url('sb-busybox'))
    sock, received = dial_console(address, 1026, 5)
    session = ConsoleSession(sock, received, where='console of sb-busybox')
    try:
        with pytest.raises(PeerError) as exc_info:
            session.start(5)
    finally:
        session.close()
    assert exc_info.value.msg.startswith('console of sb-busybox closed the connection before its shell answered: the '
                                         'guest has no usable shell')
    assert 'applet not found' in exc_info.value.details['console_output']
    assert 'stty -echo' not in exc_info.value.details['console_output']  # the echo of the start lines is left out


def _start_against(payload, timeout, close=True):
    """The PeerError of a session whose console sends ``payload`` (then closes, when ``close``) to the start lines."""
    left, right = socket.socketpair()
    try:
        session = ConsoleSession(left, where='the console', marker='m2')
        right.sendall(payload)
        if close:
            right.shutdown(socket.SHUT_WR)
        with pytest.raises(PeerError) as exc_info:
            session.start(timeout)
        return exc_info.value
    finally:
        left.close()
        right.close()


def _echo(data):
    return data.replace(b'\n', b'\r\n')  # a terminal's echo (ONLCR)


@pytest.mark.parametrize('payload, sent', [
    # A guest that fails before its shell runs: the terminal echoes the start lines, then the error.
    (_echo(start_lines('m2')) + b': applet not found\r\n', ': applet not found'),
    (b'boot\r\n$ ' + _echo(start_lines('m2')) + b'bye\r\n', 'boot\n$ \nbye'),  # a prompt before the echo stays
    # More than the noise limit: what is kept starts in the middle of an echoed line.
    (_echo(start_lines('m2')) * 6 + b': applet not found\r\n', ': applet not found'),
    # Nothing but the echo.
    (_echo(start_lines('m2')), ''),
])
def test_the_echo_of_the_start_lines_is_not_what_the_console_sent(payload, sent):
    error = _start_against(payload, 2)
    assert error.msg.endswith('It sent: %r' % sent)
    assert error.details['console_output'] == sent


def test_an_echo_still_arriving_is_not_what_the_console_sent():
    echo = _echo(start_lines('m2'))
    error = _start_against(b'welcome\r\n' + echo[:40], 0.3, close=False)
    assert error.msg.endswith("did not answer like a shell within 0.3 s. It sent: 'welcome'")
    error = _start_against(b'welcome\r\n' + echo[:10], 0.3, close=False)  # too short a piece to tell
    assert error.msg.endswith('It sent: %r' % ('welcome\n' + echo[:10].decode('ascii')))


@pytest.mark.parametrize('sandbox_id, reason', [
    ('sb-failure', 'the hypervisor answered \'FAILURE\' to CONNECT 1026 instead of "OK <port>"'),
    ('sb-close', 'the hypervisor closed the connection without answering CONNECT 1026'),
    ('sb-noreply', 'no answer to the handshake within the timeout'),
])
def test_simulated_handshake_faults(node, sandbox_id, reason):
    error = dial_error(parse_agent_url(node.agent_url(sandbox_id)), timeout=0.4)
    assert reason in error.msg


def test_simulated_console_other_port_hangs_up(node):
    error = dial_error(parse_agent_url(node.agent_url('sb-' + node.shells[0])), port=1024, timeout=0.3)
    assert 'closed the connection without answering CONNECT 1024' in error.msg
    entries = [e for e in node.console_log() if e.get('request') == 'CONNECT 1024\n']
    assert entries and all(e['answer'] is None and e['result'] == 'no listener on that port' for e in entries)


def test_simulated_console_off_has_no_socket(node):
    error = dial_error(parse_agent_url(node.agent_url('sb-off')), timeout=0.2)
    assert error.msg.endswith('does not exist')


def test_a_console_that_never_answers_like_a_shell(servers):
    address, _seen = handshake_server(servers, b'OK 1\nwelcome, not a shell\n', after=lambda conn, stop: stop.wait(5))
    sock, received = dial_console(address, 1026, 2)
    session = ConsoleSession(sock, received, where='the console')
    try:
        with pytest.raises(PeerError) as exc_info:
            session.start(0.3)
    finally:
        session.close()
    assert exc_info.value.msg.startswith("the console did not answer like a shell within 0.3 s. It sent: 'welcome, not a "
                                         "shell")


def test_command_text():
    assert command_text({'cmd': 'echo $HOME'}) == 'echo $HOME'
    assert command_text({'argv': ['ls', '-l', "it's", '']}) == "ls -l 'it'\"'\"'s' ''"
    for params, message in (({'cmd': ' \n'}, 'cmd: the command is empty'),
                            ({'argv': []}, 'argv: the list is empty, expected the program and its arguments'),
                            ({'argv': ['', 'x']}, 'argv[0]: the program name is empty'),
                            ({'argv': ['echo', 'a\0b']}, 'argv[1]: contains a NUL character, which a shell command cannot '
                                                         'carry'),
                            ({'cmd': 'echo \0'}, 'cmd: contains a NUL character, which a shell command cannot carry'),
                            ({}, 'one of cmd or argv is required'),
                            ({'cmd': 'x', 'argv': ['x']}, 'cmd and argv are mutually exclusive')):
        with pytest.raises(ArgumentError) as exc_info:
            command_text(params)
        assert exc_info.value.msg == message


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

@pytest.mark.parametrize('name', ['timeout', 'connect_timeout'])
def test_timeouts_too_large_for_a_socket_are_refused(name):
    # 1e10 reached socket.settimeout / poll and raised OverflowError, a traceback for the user.
    params = {'sandbox_id': 'sb1', 'cmd': 'true', name: 1e10}
    with pytest.raises(ArgumentError) as exc_info:
        _exec._validated(params)  # pylint: disable=protected-access
    assert exc_info.value.msg == '%s: 10000000000.0 seconds is more than the 31536000 (365 days) a timeout may be' % name


def test_exit_status_with_digits_int_refuses_is_no_status():
    # '\u00b2'.isdigit() is True, int('\u00b2') raises ValueError: a frame line from a hostile guest crashed the module.
    left, right = socket.socketpair()
    try:
        session = ConsoleSession(left, marker='m0')
        session._state = 'stdout'  # pylint: disable=protected-access
        session._feed(u'KATA-m0:E \u00b2 5\n'.encode('utf-8'))  # pylint: disable=protected-access
        assert (session.rc, session._state) == (None, 'stderr')  # pylint: disable=protected-access
    finally:
        left.close()
        right.close()


def test_long_timeouts_are_waited_for_in_slices():
    # poll() takes a C int of milliseconds (24.8 days at most): a 300-day deadline must not overflow it.
    left, right = socket.socketpair()
    try:
        session = ConsoleSession(left, marker='m1')
        right.sendall(b'hello\n')
        outcome = session._pump(time.monotonic() + 300 * 86400, lambda: bool(session._noise))  # pylint: disable=protected-access
        assert (outcome, session.received()) == ('done', 'hello')
        right.sendall(b'OK 1\n')
        assert _dial._read_handshake_line(left, time.monotonic() + 300 * 86400) == b'OK 1\n'  # pylint: disable=protected-access
    finally:
        left.close()
        right.close()


# -- the guest is left as found -----------------------------------------------------------------------------------

def _home(node, shell):
    return os.path.dirname(node.guest_tmp('sb-' + shell))


def _tree(root):
    """Every file and directory under ``root`` with its content (files), mode and inode."""
    found = {}
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(parent, name)
            st = os.lstat(path)
            content = None
            if name in files and not os.path.islink(path):
                with open(path, 'rb') as f:
                    content = f.read()
            found[os.path.relpath(path, root)] = (st.st_mode, st.st_ino, content)
    return found


ENV_PROBE = b'env | LC_ALL=C sort; echo "umask $(umask)"; pwd; ls -A "$HOME"; ls -A "${TMPDIR:-/tmp}"'


def test_exec_leaves_no_history_no_file_no_variable(node, shell):
    """After a command, a second console session finds the guest as the first one did: the history file (none, or
    the user's) unchanged, no file anywhere in the shell's home or temporary directory, the same environment."""
    home = _home(node, shell)
    for history in ('.bash_history', '.ash_history'):
        path = os.path.join(home, history)
        if os.path.exists(path):
            os.unlink(path)
    before_env = run(node, shell, ENV_PROBE)
    before = _tree(home)
    result = run(node, shell, b'export KX_LEAK=1; cd /; umask 077; echo done; history -c 2>/dev/null; :',
                 stdin=b'input', chdir=b'/')
    assert (result.rc, result.stdout) == (0, b'done\n')
    assert _tree(home) == before
    assert '.bash_history' not in os.listdir(home) and '.ash_history' not in os.listdir(home)
    after_env = run(node, shell, ENV_PROBE)
    assert after_env.rc == 0 and after_env.stdout == before_env.stdout
    assert b'KX_LEAK' not in after_env.stdout


def test_exec_keeps_the_users_history_file(node, shell):
    """A history file the guest's user has is neither changed nor rewritten (same inode, same bytes)."""
    home = _home(node, shell)
    name = '.bash_history' if shell == 'bash' else '.ash_history'
    path = os.path.join(home, name)
    with open(path, 'wb') as f:
        f.write(b'echo old one\n ls -l\n')
    try:
        before = _tree(home)
        for _run in range(2):
            assert run(node, shell, b'echo x').stdout == b'x\n'
        assert _tree(home) == before
    finally:
        os.unlink(path)


@pytest.mark.parametrize('history, left', [
    (b'echo old\n' + EXEC_LINE.encode() + b'\n', b'echo old\n'),
    (EXEC_LINE.encode() + b'\n', None),
    (b'echo old\n' + EXEC_LINE.encode() + b'\necho later\n', b'echo old\n' + EXEC_LINE.encode() + b'\necho later\n'),
    (b'echo old\n', b'echo old\n'),
])
def test_busybox_history_line_is_taken_back(node, history, left):
    """busybox ash built with FEATURE_EDITING_SAVEHISTORY appends the first line to ~/.ash_history as it reads it
    (Debian's busybox saves no history, so the file is written here as such a busybox leaves it): the session takes
    that line back, in place, and removes a file that held nothing else; any other file is left alone."""
    if 'ash' not in node.shells:
        pytest.skip('busybox is not installed (Debian package busybox-static)')
    home = _home(node, 'ash')
    path = os.path.join(home, '.ash_history')
    with open(path, 'wb') as f:
        f.write(history)
    inode = os.stat(path).st_ino
    try:
        assert run(node, 'ash', b'echo x').stdout == b'x\n'
        if left is None:
            assert not os.path.exists(path)
        else:
            with open(path, 'rb') as f:
                assert f.read() == left
            assert os.stat(path).st_ino == inode
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_bash_writes_no_history_when_replaced(node):
    """Interactive bash saves its history when exec replaces it; the first line unsets HISTFILE so that it saves
    nothing. Without that, bash wrote the line to ~/.bash_history on every run."""
    if 'bash' not in node.shells:
        pytest.skip('bash is not installed')
    assert EXEC_LINE.lstrip().startswith('[ -z "${BASH_VERSION-}" ] || unset HISTFILE;')
    home = _home(node, 'bash')
    for _run in range(3):
        run(node, 'bash', b'true')
    assert not os.path.exists(os.path.join(home, '.bash_history'))
