# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM-cache gRPC client: its protobuf decoder against the protobuf runtime (as an oracle), the endpoint probe on
real files and sockets, and the client against the simulator's CacheService over real unix sockets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _cache_client as cc
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ConfigError,
    MissingDependencyError,
    PeerError,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import factory_testlib
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.factory_testlib import (
    SIM_CACHE,
    needs_grpc,
    pid_running,
    wait_for,
)

scratch = factory_testlib.scratch

pytestmark = needs_grpc


@pytest.fixture(scope='module')
def proto():
    import sim_cache
    return sim_cache.messages()


def encode_status(proto, pid, vms):
    return proto['GrpcStatus'](pid=pid, vmstatus=[dict(pid=p, cpu=c, memory=m) for p, c, m in vms]).SerializeToString()


def oracle_status(proto, data):
    """What the protobuf runtime reads from ``data``, in the decoder's shape."""
    message = proto['GrpcStatus'].FromString(data)
    return {'pid': message.pid, 'vms': [{'pid': v.pid, 'cpu': v.cpu, 'memory_mib': v.memory} for v in message.vmstatus]}


def key(number, wire):
    return bytes(varint((number << 3) | wire))


def varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# -- decoding ---------------------------------------------------------------------------------------------------------

class TestDecode:
    def test_status_with_vms(self, proto):
        data = encode_status(proto, 4242, [(4250, 1, 2048), (4251, 2, 512)])
        assert cc.decode_status(data) == {'pid': 4242, 'vms': [
            {'pid': 4250, 'cpu': 1, 'memory_mib': 2048}, {'pid': 4251, 'cpu': 2, 'memory_mib': 512}]}

    def test_empty_status_is_all_zero(self, proto):
        assert encode_status(proto, 0, []) == b''
        assert cc.decode_status(b'') == {'pid': 0, 'vms': []}

    def test_extreme_values(self, proto):
        data = encode_status(proto, -(1 << 63), [((1 << 63) - 1, (1 << 32) - 1, 0), (-1, 0, (1 << 32) - 1)])
        expected = {'pid': -(1 << 63), 'vms': [{'pid': (1 << 63) - 1, 'cpu': (1 << 32) - 1, 'memory_mib': 0},
                                               {'pid': -1, 'cpu': 0, 'memory_mib': (1 << 32) - 1}]}
        assert cc.decode_status(data) == expected == oracle_status(proto, data)

    def test_vm_config(self, proto):
        data = proto['GrpcVMConfig'](Data=b'{"HypervisorType":"qemu"}', AgentConfig=b'{"Debug":true}').SerializeToString()
        assert cc.decode_vm_config(data) == {'data': b'{"HypervisorType":"qemu"}', 'agent_config': b'{"Debug":true}'}
        assert cc.decode_vm_config(b'') == {'data': b'', 'agent_config': b''}

    def test_unknown_fields_of_every_wire_type_are_skipped(self, proto):
        vm = encode_status(proto, 0, [(7, 1, 256)])[2:]  # the GrpcVMStatus bytes (after key and length)
        vm_with_unknown = vm + key(9, 5) + b'\x01\x02\x03\x04' + key(10, 1) + b'\x00' * 8
        data = (key(15, 0) + varint(99) + key(1, 0) + varint(77) + key(3, 2) + varint(3) + b'abc'
                + key(2, 2) + varint(len(vm_with_unknown)) + vm_with_unknown + key(1000, 5) + b'\xff' * 4)
        assert cc.decode_status(data) == {'pid': 77, 'vms': [{'pid': 7, 'cpu': 1, 'memory_mib': 256}]}
        assert oracle_status(proto, data) == cc.decode_status(data)

    def test_last_scalar_wins_and_repeated_fields_accumulate(self, proto):
        data = (key(1, 0) + varint(1) + key(2, 2) + varint(2) + key(1, 0) + varint(5)
                + key(1, 0) + varint(2) + key(2, 2) + varint(0))
        assert cc.decode_status(data) == {'pid': 2, 'vms': [{'pid': 5, 'cpu': 0, 'memory_mib': 0},
                                                            {'pid': 0, 'cpu': 0, 'memory_mib': 0}]}
        assert oracle_status(proto, data) == cc.decode_status(data)

    def test_uint32_fields_keep_the_low_32_bits_of_a_wider_varint(self, proto):
        vm = key(2, 0) + varint((1 << 40) + 3) + key(3, 0) + varint(-1)
        data = key(2, 2) + varint(len(vm)) + vm
        assert cc.decode_status(data) == {'pid': 0, 'vms': [{'pid': 0, 'cpu': 3, 'memory_mib': (1 << 32) - 1}]}
        assert oracle_status(proto, data) == cc.decode_status(data)

    def test_a_known_field_with_another_wire_type_is_treated_as_unknown(self, proto):
        data = key(1, 2) + varint(2) + b'\x08\x01' + key(1, 0) + varint(9)
        assert cc.decode_status(data) == {'pid': 9, 'vms': []}
        assert oracle_status(proto, data) == cc.decode_status(data)

    @pytest.mark.parametrize('data, message', [
        (b'\x08', 'truncated varint at byte 1'),
        (b'\x08\x80\x80', 'truncated varint at byte 3'),
        (b'\x08' + b'\xff' * 10 + b'\x01', 'varint longer than 10 bytes at byte 11'),
        (b'\x12\x05ab', 'field 2 at byte 0 claims 5 bytes, 2 are left'),
        (b'\x0b', 'unsupported wire type 3 for field 1 at byte 0'),
        (b'\x0c', 'unsupported wire type 4 for field 1 at byte 0'),
        (b'\x0e', 'unsupported wire type 6 for field 1 at byte 0'),
        (b'\x00\x00', 'invalid field number 0 at byte 0'),
        (b'\x0d\x01\x02', 'truncated 4-byte field 1 at byte 0'),
        (b'\x09\x01\x02\x03', 'truncated 8-byte field 1 at byte 0'),
        (b'\x12\x02\x08', 'field 2 at byte 0 claims 2 bytes, 1 are left'),
    ])
    def test_malformed_messages_are_rejected_like_protobuf_does(self, proto, data, message):
        from google.protobuf.message import DecodeError as ProtobufDecodeError
        with pytest.raises(cc.DecodeError) as exc_info:
            cc.decode_status(data)
        assert str(exc_info.value) == message
        with pytest.raises(ProtobufDecodeError):
            proto['GrpcStatus'].FromString(data)

    def test_a_malformed_nested_message_is_rejected(self, proto):
        data = key(2, 2) + varint(1) + b'\x08'
        with pytest.raises(cc.DecodeError, match='^truncated varint at byte 1$'):
            cc.decode_status(data)


def test_decoder_agrees_with_protobuf_on_random_messages(proto):
    hypothesis = pytest.importorskip('hypothesis')
    st = pytest.importorskip('hypothesis.strategies')

    int64 = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
    uint32 = st.integers(min_value=0, max_value=(1 << 32) - 1)

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(pid=int64, vms=st.lists(st.tuples(int64, uint32, uint32), max_size=8))
    def check(pid, vms):
        data = encode_status(proto, pid, vms)
        assert cc.decode_status(data) == oracle_status(proto, data) == {
            'pid': pid, 'vms': [{'pid': p, 'cpu': c, 'memory_mib': m} for p, c, m in vms]}

    check()


# -- the endpoint -------------------------------------------------------------------------------------------------

class TestEndpoint:
    def test_relative_endpoint_is_refused(self):
        with pytest.raises(ConfigError) as exc_info:
            cc.check_endpoint_path('run/cache.sock')
        assert exc_info.value.msg == ("factory.vm_cache_endpoint must be an absolute path, got 'run/cache.sock': "
                                      'kata-runtime would resolve it against the current directory of each process')

    def test_too_long_endpoint_is_refused(self):
        path = '/' + 'x' * 107
        with pytest.raises(ConfigError) as exc_info:
            cc.check_endpoint_path(path)
        assert exc_info.value.msg == ('factory.vm_cache_endpoint %s is 108 bytes long; a unix socket address holds '
                                      'at most 107' % path)
        assert cc.check_endpoint_path(path[:-1]) == path[:-1]

    def test_missing(self, scratch):
        assert cc.probe_endpoint(scratch.join('run', 'nothing.sock')) == (cc.MISSING, None)
        assert cc.probe_endpoint(scratch.join('vmlinux.container', 'below-a-file.sock')) == (cc.MISSING, None)

    def test_regular_file_and_directory(self, scratch):
        assert cc.probe_endpoint(scratch.assets['vmlinux.container']) == (cc.NOT_SOCKET, 'a regular file')
        assert cc.probe_endpoint(scratch.path) == (cc.NOT_SOCKET, 'a directory')

    def test_stale_socket(self, scratch):
        assert cc.probe_endpoint(scratch.make_stale_socket()) == (cc.STALE, None)

    def test_listening(self, scratch):
        proc = scratch.start_silent()
        try:
            assert cc.probe_endpoint(scratch.endpoint) == (cc.LISTENING, None)
        finally:
            proc.kill()
            proc.wait()

    def test_permission_denied_is_an_error(self, scratch, unprivileged):
        os.chmod(scratch.path, 0o755)  # nobody reaches 'locked' and is stopped there
        os.makedirs(scratch.join('locked'))
        endpoint = scratch.make_stale_socket(scratch.join('locked', 'cache.sock'))
        os.chmod(scratch.join('locked'), 0o600)
        try:
            outcome = unprivileged(lambda: cc.probe_endpoint(endpoint))
        finally:
            os.chmod(scratch.join('locked'), 0o700)
        assert outcome == ('raise', 'PeerError', 'cannot look at the VM cache endpoint %s: Permission denied' % endpoint)

    def test_grpc_target_percent_encodes_the_path(self):
        assert cc.grpc_target('/run/a b/%41#?.sock') == 'unix:/run/a%20b/%2541%23%3F.sock'


# -- the client against the simulator's server -----------------------------------------------------------------------

class Server:
    """The simulator's CacheService in this process."""

    def __init__(self, endpoint, vms=2, vcpus=1, memory_mib=1024):
        import sim_cache
        self.closed = threading.Event()
        self.server = sim_cache.CacheServer(endpoint, vms, vcpus=vcpus, memory_mib=memory_mib,
                                            on_close=self.closed.set)
        self.server.start()

    def vm_pids(self):
        return [vm.pid for vm in self.server.cached]

    def stop(self):
        self.server.stop()


@pytest.fixture
def server(scratch):
    s = Server(scratch.endpoint)
    try:
        yield s
    finally:
        s.stop()


class TestClient:
    def test_status(self, scratch, server):
        with cc.CacheClient(scratch.endpoint) as client:
            status = client.status()
        pids = server.vm_pids()
        assert status == {'pid': os.getpid(), 'vms': [{'pid': pids[0], 'cpu': 1, 'memory_mib': 1024},
                                                      {'pid': pids[1], 'cpu': 1, 'memory_mib': 1024}]}
        assert all(pid_running(pid) for pid in pids)

    def test_config(self, scratch, server):
        import sim_cache
        with cc.CacheClient(scratch.endpoint) as client:
            config = client.config()
        data, agent = sim_cache.go_vm_config('qemu', {'NumVCPUs': 1, 'MemorySize': 1024})
        assert config == {'data': data, 'agent_config': agent}
        assert json.loads(config['data'])['HypervisorConfig']['MemorySize'] == 1024

    def test_quit_stops_the_server_about_a_second_later(self, scratch, server):
        pids = server.vm_pids()
        with cc.CacheClient(scratch.endpoint) as client:
            client.quit()
        # Quit answers at once; the server is still there until its one-second delay has passed.
        assert not server.server.done.is_set()
        assert cc.probe_endpoint(scratch.endpoint) == (cc.LISTENING, None)
        wait_for(server.server.done.is_set, what='the server to stop')
        assert cc.probe_endpoint(scratch.endpoint) == (cc.MISSING, None)
        assert server.closed.is_set()
        assert not any(pid_running(pid) for pid in pids)

    def test_special_characters_in_the_endpoint(self, scratch):
        endpoint = scratch.join('a b%41#?', 'cache.sock')
        s = Server(endpoint, vms=1)
        try:
            with cc.CacheClient(endpoint) as client:
                assert client.status()['vms'][0]['pid'] == s.vm_pids()[0]
        finally:
            s.stop()

    def test_a_server_that_never_answers_times_out_cleanly(self, scratch):
        proc = scratch.start_silent()
        try:
            with cc.CacheClient(scratch.endpoint, timeout=0.5) as client:
                with pytest.raises(PeerError) as exc_info:
                    client.status()
        finally:
            proc.kill()
            proc.wait()
        assert exc_info.value.msg == (
            'the VM cache server at %s did not answer gRPC /cache.CacheService/Status within 0.5 s: something '
            'accepts connections there but does not speak gRPC (or is stuck)' % scratch.endpoint)
        assert exc_info.value.details['grpc_code'] == 'DEADLINE_EXCEEDED'

    def test_stale_socket_is_unavailable(self, scratch):
        scratch.make_stale_socket()
        with cc.CacheClient(scratch.endpoint) as client:
            with pytest.raises(PeerError) as exc_info:
                client.status()
        assert exc_info.value.msg.startswith('gRPC /cache.CacheService/Status to the VM cache server at %s failed: '
                                             'UNAVAILABLE: ' % scratch.endpoint)
        assert exc_info.value.details['grpc_code'] == 'UNAVAILABLE'

    def test_unknown_method_is_unimplemented(self, scratch, server):
        with cc.CacheClient(scratch.endpoint) as client:
            with pytest.raises(PeerError) as exc_info:
                client.call('Nope')
        assert exc_info.value.details['grpc_code'] == 'UNIMPLEMENTED'
        assert exc_info.value.details['rpc'] == '/cache.CacheService/Nope'

    def test_a_malformed_answer_is_an_error(self, scratch):
        import grpc
        from concurrent import futures
        handler = grpc.method_handlers_generic_handler('cache.CacheService', {
            'Status': grpc.unary_unary_rpc_method_handler(lambda request, context: b'\x08\x80'),
        })
        rogue = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=(handler,))
        os.makedirs(os.path.dirname(scratch.endpoint))
        rogue.add_insecure_port(cc.grpc_target(scratch.endpoint))
        rogue.start()
        try:
            with cc.CacheClient(scratch.endpoint) as client:
                with pytest.raises(PeerError) as exc_info:
                    client.status()
        finally:
            rogue.stop(None)
        assert exc_info.value.msg == ('the VM cache server at %s answered gRPC /cache.CacheService/Status with a '
                                      'malformed message: truncated varint at byte 2' % scratch.endpoint)


def test_a_server_in_its_own_process_exits_after_quit(scratch):
    """The command-line server: Quit makes the process exit 0 and remove its socket, its VMs die with it."""
    proc = subprocess.Popen([sys.executable, SIM_CACHE, 'serve', '--endpoint', scratch.endpoint, '--vms', '3'])
    try:
        wait_for(lambda: cc.probe_endpoint(scratch.endpoint)[0] == cc.LISTENING, what='the server to listen')
        with cc.CacheClient(scratch.endpoint) as client:
            status = client.status()
            client.quit()
        assert status['pid'] == proc.pid
        assert [vm['memory_mib'] for vm in status['vms']] == [2048, 2048, 2048]
        assert proc.wait(15) == 0
        assert not os.path.lexists(scratch.endpoint)
        assert not any(pid_running(vm['pid']) for vm in status['vms'])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_stops_the_server_like_quit(scratch):
    proc = subprocess.Popen([sys.executable, SIM_CACHE, 'serve', '--endpoint', scratch.endpoint, '--vms', '1'])
    try:
        wait_for(lambda: cc.probe_endpoint(scratch.endpoint)[0] == cc.LISTENING, what='the server to listen')
        with cc.CacheClient(scratch.endpoint) as client:
            vm_pid = client.status()['vms'][0]['pid']
        proc.terminate()
        assert proc.wait(15) == 0
        assert not os.path.lexists(scratch.endpoint)
        assert not pid_running(vm_pid)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_existing_endpoint_is_refused_with_kata_message(scratch):
    scratch.make_stale_socket()
    proc = subprocess.run([sys.executable, SIM_CACHE, 'serve', '--endpoint', scratch.endpoint], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        1, '', '%s already exist.  Please stop running VMCache server and remove %s\n' % (scratch.endpoint, scratch.endpoint))


# -- the dependency ------------------------------------------------------------------------------------------------

def test_missing_grpcio(monkeypatch):
    monkeypatch.setattr(cc, 'HAS_GRPC', False)
    monkeypatch.setattr(cc, 'GRPC_IMPORT_ERROR', 'Traceback: No module named grpc')
    with pytest.raises(MissingDependencyError) as exc_info:
        cc.CacheClient('/run/x.sock')
    assert exc_info.value.library == 'grpcio'
    assert exc_info.value.exception == 'Traceback: No module named grpc'
    assert exc_info.value.reason == 'to talk to the Kata VM cache server ([factory] vm_cache_number > 0)'


def test_too_old_grpcio(monkeypatch):
    monkeypatch.setattr(cc.grpc, '__version__', '1.48.2')
    with pytest.raises(MissingDependencyError) as exc_info:
        cc.require_grpc()
    assert exc_info.value.library == 'grpcio >= 1.51.0'
    assert exc_info.value.reason == ('to talk to the Kata VM cache server ([factory] vm_cache_number > 0); grpcio '
                                     '1.48.2 is installed')


def test_the_doc_fragment_names_the_same_minimum_version():
    from ansible_collections.katacontainers.kata.plugins.doc_fragments._grpc_dep import ModuleDocFragment
    assert 'grpcio >= %s ' % cc.GRPC_MINIMUM_VERSION in ModuleDocFragment.DOCUMENTATION
