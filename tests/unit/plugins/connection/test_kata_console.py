# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kata_console connection plugin, local case: the relay started as a process of the controller, against the real
simulated node of tests/kata_sim (debug consoles with bash, dash and busybox ash; consoles that refuse, never answer
or are off; a busybox guest whose console closes at once) and a shim that never answers. The frames of the relay
protocol are tested on their own too."""

from __future__ import annotations

import io
import os
import shlex
import socket
import struct
import sys
import tempfile
import threading

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.playbook.play_context import PlayContext

from ansible_collections.katacontainers.kata.plugins.connection import kata_console
from ansible_collections.katacontainers.kata.plugins.module_utils import _console_relay as relay
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.console_testlib import shared_node


def _definitions():
    options = yaml.safe_load(kata_console.DOCUMENTATION)['options']
    options['pipelining'] = {'type': 'bool', 'default': False}  # from the ansible.builtin.connection_pipelining fragment
    C.config.initialize_plugin_configuration_definitions('connection', 'kata_console', options)


@pytest.fixture(scope='module')
def node():
    return shared_node()


@pytest.fixture
def connect(node):
    """``connect(sandbox_id, **options)``: a kata_console Connection (local node) to a sandbox of the shared node."""
    _definitions()
    made = []

    def make(sandbox_id, **options):
        connection = kata_console.Connection(PlayContext(), None)  # ansible-core 2.15 still takes new_stdin
        connection._load_name = 'kata_console'  # what the plugin loader sets
        settings = dict(sandbox_id=sandbox_id, sandbox_root=node.sandbox_root, rs_sandbox_root=node.rs_sandbox_root,
                        node_connection='local', node_python=sys.executable, connect_timeout=2)
        settings.update(options)
        connection.set_options(direct=settings)
        made.append(connection)
        return connection
    yield make
    for connection in made:
        connection.close()


# -- frames --------------------------------------------------------------------------------------------------------

def test_frames_round_trip_and_end_cleanly():
    stream = io.BytesIO(relay.frame({'op': 'exec', 'n': 1}, b'\x00\xffdata') + relay.frame({'a': []}))
    assert relay.read_frame(stream) == ({'op': 'exec', 'n': 1}, b'\x00\xffdata')
    assert relay.read_frame(stream) == ({'a': []}, b'')
    assert relay.read_frame(stream) is None


@pytest.mark.parametrize('data, words', [
    (relay.frame({'x': 1}, b'abcdef')[:-2], '2 bytes before the end of a frame'),
    (b'\x00\x00', 'bytes before the end of a frame'),
    (struct.pack('>II', 1 << 30, 0), 'not a relay frame'),
    (struct.pack('>II', 3, 0) + b'{{{', 'not JSON'),
    (struct.pack('>II', 2, 0) + b'[]', 'not a JSON object'),
])
def test_broken_frames_are_refused(data, words):
    with pytest.raises(relay.ProtocolError, match=words):
        relay.read_frame(io.BytesIO(data))


def test_serve_answers_a_broken_request_and_stops():
    out = io.BytesIO()
    assert relay.serve(io.BytesIO(struct.pack('>II', 9, 0) + b'{'), out) == 2
    out.seek(0)
    header, _data = relay.read_frame(out)
    assert header['status'] == 'error' and 'relay:' in header['msg']


def test_serve_reports_unknown_requests_and_bad_paths_as_failed():
    out = io.BytesIO()
    requests = relay.frame({'op': 'dance'}) + relay.frame({'op': 'fetch', 'path': '', 'sandbox': {'id': 'sb-x'}})
    assert relay.serve(io.BytesIO(requests), out) == 0
    out.seek(0)
    first, second = relay.read_frame(out)[0], relay.read_frame(out)[0]
    assert first == {'status': 'failed', 'msg': "unknown relay request 'dance'"}
    assert second == {'status': 'failed', 'msg': "fetch: invalid guest path ''"}


# -- commands ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('shell', ['bash', 'dash', 'ash'])
def test_exec_exact_output_and_status(connect, node, shell):
    if shell not in node.shells:
        pytest.fail('the simulated node has no %s console (install it: it is a test requirement)' % shell)
    connection = connect('sb-' + shell)
    script = "printf 'out\\nmarker KATA-x:E 0\\n\\001\\377'; printf 'err' >&2; exit 7"
    rc, stdout, stderr = connection.exec_command('/bin/sh -c %s' % shlex.quote(script))
    assert (rc, stdout, stderr) == (7, b'out\nmarker KATA-x:E 0\n\x01\xff', b'err')
    # several requests over one relay: the shim is asked for the agent URL once
    rc, stdout, stderr = connection.exec_command('cat', in_data=b'piped\x00 data\n' * 3)
    assert (rc, stdout, stderr) == (0, b'piped\x00 data\n' * 3, b'')
    rc, stdout, _stderr = connection.exec_command('kill -9 $$')
    assert rc == 137


def test_command_timeout_interrupts(connect):
    connection = connect('sb-bash', command_timeout=0.5)
    with pytest.raises(AnsibleError, match=r'did not finish within 0.5 s .*interrupted \(SIGINT\).*before') as info:
        connection.exec_command("echo before; sleep 30")
    assert not isinstance(info.value, AnsibleConnectionFailure)


# -- files ---------------------------------------------------------------------------------------------------------

def test_put_and_fetch_are_byte_exact(connect, node, tmp_path):
    connection = connect('sb-dash')
    data = os.urandom(1 << 20) + b'\x00\r\n\x1b[0m\x03\x04'
    local = tmp_path / 'blob'
    local.write_bytes(data)
    guest = os.path.join(node.guest_tmp('sb-dash'), 'kata-console-test-%d' % os.getpid())
    try:
        connection.put_file(str(local), guest)
        with open(guest, 'rb') as f:
            assert f.read() == data
        back = tmp_path / 'sub' / 'back'
        back.parent.mkdir()
        connection.fetch_file(guest, str(back))
        assert back.read_bytes() == data
        assert sorted(os.listdir(str(back.parent))) == ['back']  # no temporary file left
        # an empty file
        empty = tmp_path / 'empty'
        empty.write_bytes(b'')
        connection.put_file(str(empty), guest)
        assert os.path.getsize(guest) == 0
        connection.fetch_file(guest, str(back))
        assert back.read_bytes() == b''
    finally:
        if os.path.exists(guest):
            os.unlink(guest)


def test_file_errors_fail_the_task(connect, tmp_path):
    connection = connect('sb-bash')
    with pytest.raises(AnsibleFileNotFound):
        connection.put_file(str(tmp_path / 'missing'), '/tmp/x')
    with pytest.raises(AnsibleError, match=r'cannot read /no/such/file in the guest \(exit status 1\): .*No such file') as info:
        connection.fetch_file('/no/such/file', str(tmp_path / 'out'))
    assert not isinstance(info.value, AnsibleConnectionFailure)
    assert not (tmp_path / 'out').exists()
    (tmp_path / 'f').write_bytes(b'x')
    with pytest.raises(AnsibleError, match=r'cannot write /no/such/dir/f in the guest'):
        connection.put_file(str(tmp_path / 'f'), '/no/such/dir/f')


# -- unreachable ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('sandbox_id, words', [
    ('sb-busybox', 'closed the connection before its shell answered'),
    ('sb-off', 'cannot reach the debug console'),
    ('sb-failure', 'answered .FAILURE. to CONNECT 1026'),
    ('sb-close', 'nothing listens on vsock port 1026 in the guest'),
    ('sb-missing', 'no shim socket for sandbox sb-missing'),
])
def test_unreachable_sandboxes(connect, sandbox_id, words):
    connection = connect(sandbox_id, connect_timeout=0.5)
    with pytest.raises(AnsibleConnectionFailure, match=words):
        connection.exec_command('true')


def test_a_shim_that_does_not_answer_is_unreachable(connect):
    root = tempfile.mkdtemp(prefix='kc-')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.makedirs(os.path.join(root, 'sb-mute'))
        listener.bind(os.path.join(root, 'sb-mute', 'shim-monitor.sock'))
        listener.listen(8)
        accepted = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()))
        thread.daemon = True
        thread.start()
        connection = connect('sb-mute', sandbox_root=root, connect_timeout=0.5)
        with pytest.raises(AnsibleConnectionFailure, match='sandbox sb-mute: GET http://shim/agent-url'):
            connection.exec_command('true')
        assert accepted
    finally:
        listener.close()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def test_a_node_that_cannot_run_the_relay_is_unreachable(connect):
    connection = connect('sb-bash', node_python='/nonexistent/python3')
    with pytest.raises(AnsibleConnectionFailure, match='cannot start /nonexistent/python3'):
        connection.exec_command('true')
    connection = connect('sb-bash', node_python='/bin/false')
    with pytest.raises(AnsibleConnectionFailure, match='the local relay exited with status 1'):
        connection.exec_command('true')


def test_ssh_command_line(connect, tmp_path):
    connection = connect('sb-bash', node_connection='ssh', node_host='10.1.2.3', node_port=2200, node_user='admin',
                         node_private_key_file='/k/id', node_ssh_args='-o StrictHostKeyChecking=yes -o "X=a b"',
                         node_control_path_dir=str(tmp_path / 'cp'), node_become=True, node_python='/usr/bin/python3')
    argv = connection.relay_argv()
    assert argv[:3] == ['ssh', '-T', '-o'] and 'ControlMaster=auto' in argv and 'ControlPersist=60s' in argv
    assert 'ControlPath=%s' % (tmp_path / 'cp' / 'kata-%C') in argv and (tmp_path / 'cp').is_dir()
    assert argv[argv.index('-p') + 1] == '2200' and argv[argv.index('-l') + 1] == 'admin'
    assert argv[argv.index('-i') + 1] == '/k/id' and 'X=a b' in argv
    assert argv[-3:-1] == ['--', '10.1.2.3']
    assert shlex.split(argv[-1]) == ['sudo', '-n', '--', '/usr/bin/python3', '-c', relay.BOOTSTRAP]
    with pytest.raises(AnsibleConnectionFailure, match='kata_node_host is not set'):
        connect('sb-bash', node_connection='ssh').exec_command('true')


def test_the_payload_carries_the_console_code():
    import json
    import zlib

    length, _nl, body = kata_console.relay_payload().partition(b'\n')
    assert int(length) == len(body)
    modules = json.loads(zlib.decompress(body).decode('utf-8'))['modules']
    prefix = 'ansible_collections.katacontainers.kata.plugins.module_utils.'
    for name in ('_console_relay', '_errors', '_sandbox', '_shim_client'):
        assert modules[prefix + name][1]
    assert any(name == prefix + '_console' or name.startswith(prefix + '_console.') for name in modules)
    assert modules['ansible_collections'] == [True, '']
    assert not any(name.startswith('ansible.') for name in modules)


FAKE_SSH = '''#!/bin/sh
# A stand-in for ssh: the remote command (the last argument) runs here, as the node's login shell would run it;
# "mux" refuses a session on the shared master (sshd's MaxSessions), "down" cannot connect.
for a in "$@"; do last=$a; case "$a" in ControlPath=none) alone=1;; esac; done
echo "call ${alone:-shared}" >>"$0.log"
case "%s" in
  mux) if [ -z "$alone" ]; then
         echo 'mux_client_request_session: session request failed: Session open refused by peer' >&2; exit 255
       fi;;
  down) echo 'ssh: connect to host 10.9.9.9 port 22: Connection refused' >&2; exit 255;;
esac
exec /bin/sh -c "$last"
'''


def fake_ssh(tmp_path, mode):
    path = tmp_path / ('ssh-' + mode)
    path.write_text(FAKE_SSH % mode, encoding='utf-8')
    path.chmod(0o755)
    return path


@pytest.mark.parametrize('mode', ['plain', 'mux'])
def test_over_ssh_the_remote_command_survives_the_login_shell(connect, tmp_path, mode):
    """The relay command line goes through the node's shell intact; a master that refuses one more session (sshd's
    MaxSessions) is replaced by a connection of this relay's own."""
    ssh = fake_ssh(tmp_path, mode)
    connection = connect('sb-bash', node_connection='ssh', node_host='node-1', node_ssh_executable=str(ssh),
                         node_control_path_dir=str(tmp_path / 'cp'))
    assert connection.exec_command("printf '%s' \"it's\"") == (0, b"it's", b'')
    assert connection.exec_command('echo again') == (0, b'again\n', b'')  # the same relay
    calls = (tmp_path / ('ssh-%s.log' % mode)).read_text(encoding='utf-8').splitlines()
    assert calls == (['call shared', 'call 1'] if mode == 'mux' else ['call shared'])


def test_a_node_that_ssh_cannot_reach_is_unreachable(connect, tmp_path):
    connection = connect('sb-bash', node_connection='ssh', node_host='10.9.9.9',
                         node_ssh_executable=str(fake_ssh(tmp_path, 'down')), node_control_path_dir=str(tmp_path / 'cp'))
    with pytest.raises(AnsibleConnectionFailure, match=r'sandbox sb-bash on node 10.9.9.9: the relay ended without '
                                                       r'answering \(ssh to the node exited with status 255\): ssh: '
                                                       r'connect to host 10.9.9.9 port 22: Connection refused'):
        connection.exec_command('true')
