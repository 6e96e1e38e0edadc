# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM-cache gRPC server of ``kata-runtime factory init`` (kata 3.0.0, cache mode), for tests and the demo.

It serves ``cache.CacheService`` (kata's ``protocols/cache/cache.proto``) over plain gRPC on a unix socket, as
``cmd/kata-runtime/factory.go`` does:

* ``Status`` -> ``GrpcStatus{pid: this process, vmstatus: [{pid, cpu, memory}]}``, one entry per cached VM;
* ``Config`` -> ``GrpcVMConfig{Data: JSON of the VMConfig, AgentConfig: JSON of the agent config}``;
* ``GetBaseVM`` -> ``GrpcVM`` taken from the cache, and a new VM is started to refill it;
* ``Quit`` -> ``Empty`` at once; the server stops about a second later (gRPC graceful stop), the socket is removed,
  then the factory is closed: the cached VMs are stopped and a template the server created is unmounted and removed.
  SIGTERM and SIGINT stop it the same way without the delay; SIGPIPE is ignored.

The socket's directory is created (0755); an existing path is refused with kata's message; the socket is 0600.

The messages are encoded with the protobuf runtime from a descriptor built here field by field from cache.proto (no
generated code), so that the collection's hand-written client codec is checked against an independent encoder.

Deliberate differences from kata, for tests: a cached "VM" is a ``sleep`` process (its pid is the VM's hypervisor
pid) that dies with the server (PR_SET_PDEATHSIG); the cache is filled before the socket listens (kata boots the VMs
in the background), so ``Status`` is deterministic; VMs handed out by ``GetBaseVM`` are still stopped when the
server stops, so nothing is left behind.

Command line (the ``silent`` server accepts connections and never answers, to test clients' timeouts)::

    python3 sim_cache.py serve  --endpoint PATH [--vms N] [--vcpus N] [--memory MIB]
    python3 sim_cache.py silent --endpoint PATH [--max-lifetime SECONDS]   (also stops when PATH is removed)
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import quote

SERVICE = 'cache.CacheService'
QUIT_DELAY = 1.0
PR_SET_PDEATHSIG = 1


class CacheServerError(Exception):
    """A failure kata-runtime would report (printed on stderr, exit status 1)."""


# -- cache.proto, as a descriptor -------------------------------------------------------------------------------------

_MESSAGES = {}

_LAYOUT = (
    ('GrpcVMConfig', (('Data', 1, 'bytes', False, None), ('AgentConfig', 2, 'bytes', False, None))),
    ('GrpcVM', (('id', 1, 'string', False, None), ('hypervisor', 2, 'bytes', False, None),
                ('proxyPid', 3, 'int64', False, None), ('proxyURL', 4, 'string', False, None),
                ('cpu', 5, 'uint32', False, None), ('memory', 6, 'uint32', False, None),
                ('cpuDelta', 7, 'uint32', False, None))),
    ('GrpcStatus', (('pid', 1, 'int64', False, None), ('vmstatus', 2, 'message', True, '.cache.GrpcVMStatus'))),
    ('GrpcVMStatus', (('pid', 1, 'int64', False, None), ('cpu', 2, 'uint32', False, None),
                      ('memory', 3, 'uint32', False, None))),
)


def messages():
    """Return the message classes of cache.proto: dict name -> class, plus 'Empty'."""
    if not _MESSAGES:
        from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2

        field = descriptor_pb2.FieldDescriptorProto
        kinds = {'bytes': field.TYPE_BYTES, 'string': field.TYPE_STRING, 'int64': field.TYPE_INT64,
                 'uint32': field.TYPE_UINT32, 'message': field.TYPE_MESSAGE}
        proto = descriptor_pb2.FileDescriptorProto(name='kata_sim/cache.proto', package='cache', syntax='proto3',
                                                   dependency=['google/protobuf/empty.proto'])
        for name, fields in _LAYOUT:
            message = proto.message_type.add(name=name)
            for field_name, number, kind, repeated, type_name in fields:
                entry = message.field.add(name=field_name, number=number, type=kinds[kind],
                                          label=field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL)
                if type_name:
                    entry.type_name = type_name
        pool = descriptor_pool.DescriptorPool()
        pool.AddSerializedFile(empty_pb2.DESCRIPTOR.serialized_pb)
        pool.Add(proto)
        _MESSAGES['Empty'] = _message_class(pool, 'google.protobuf.Empty')
        for name, dummy in _LAYOUT:
            _MESSAGES[name] = _message_class(pool, 'cache.' + name)
    return _MESSAGES


def _message_class(pool, full_name):
    from google.protobuf import message_factory
    descriptor = pool.FindMessageTypeByName(full_name)
    if hasattr(message_factory, 'GetMessageClass'):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)  # protobuf < 4.21


# -- Go-shaped JSON of kata's VMConfig (field order and zero values of the 3.0.0 structs) ----------------------------

_HV_STRINGS = ('KernelPath', 'ImagePath', 'InitrdPath', 'FirmwarePath', 'FirmwareVolumePath', 'MachineAccelerators',
               'CPUFeatures', 'HypervisorPath', 'HypervisorCtlPath', 'JailerPath', 'BlockDeviceDriver',
               'HypervisorMachineType', 'MemoryPath', 'DevicesStatePath', 'EntropySource', 'SharedFS', 'SharedPath',
               'VirtioFSDaemon', 'VirtioFSCache', 'FileBackedMemRootDir', 'VhostUserStorePath', 'GuestMemoryDumpPath',
               'GuestHookPath', 'VMid', 'VMStorePath', 'RunStorePath', 'SELinuxProcessLabel')
_HV_LISTS = ('HypervisorPathList', 'HypervisorCtlPathList', 'JailerPathList', 'EntropySourceList', 'VirtioFSDaemonList',
             'VirtioFSExtraArgs', 'EnableAnnotations', 'FileBackedMemRootList', 'PFlash', 'VhostUserStorePathList')
_HV_TAIL_STRINGS = ('SeccompSandbox', 'BlockDeviceAIO', 'User')
_HV_NUMBERS = ('SGXEPCSize', 'DiskRateLimiterBwMaxRate', 'DiskRateLimiterBwOneTimeBurst', 'DiskRateLimiterOpsMaxRate',
               'DiskRateLimiterOpsOneTimeBurst', 'RxRateLimiterMaxRate', 'TxRateLimiterMaxRate', 'NetRateLimiterBwMaxRate',
               'NetRateLimiterBwOneTimeBurst', 'NetRateLimiterOpsMaxRate', 'NetRateLimiterOpsOneTimeBurst', 'MemOffset',
               'PCIeRootPort', 'NumVCPUs', 'DefaultMaxVCPUs', 'MemorySize', 'DefaultMaxMemorySize', 'DefaultBridges',
               'Msize9p', 'MemSlots', 'VirtioFSCacheSize', 'Uid', 'Gid')
_HV_BOOLS = ('BlockDeviceCacheSet', 'BlockDeviceCacheDirect', 'BlockDeviceCacheNoflush', 'DisableBlockDeviceUse',
             'EnableIOThreads', 'Debug', 'MemPrealloc', 'HugePages', 'VirtioMem', 'IOMMU', 'IOMMUPlatform',
             'DisableNestingChecks', 'DisableImageNvdimm', 'HotplugVFIOOnRootBus', 'GuestMemoryDumpPaging',
             'ConfidentialGuest', 'BootToBeTemplate', 'BootFromTemplate', 'DisableVhostNet', 'EnableVhostUserStore',
             'GuestSwap', 'Rootless', 'DisableSeccomp', 'DisableSeLinux', 'LegacySerial')


def go_vm_config(hypervisor_type='qemu', hypervisor=None, agent=None):
    """(Data, AgentConfig) JSON bytes of a VMConfig, as Go's encoding/json writes kata 3.0.0's structs.

    ``hypervisor`` maps HypervisorConfig field names to values; the other fields keep Go's zero values.
    """
    hv = {'Groups': None}
    hv.update((name, '') for name in _HV_STRINGS)
    hv.update((name, None) for name in _HV_LISTS)
    hv.update((name, '') for name in _HV_TAIL_STRINGS)
    hv.update(KernelParams=None, HypervisorParams=None)
    hv.update((name, 0) for name in _HV_NUMBERS)
    hv.update((name, False) for name in _HV_BOOLS)
    for name, value in (hypervisor or {}).items():
        if name not in hv:
            raise ValueError('HypervisorConfig has no field %s' % name)
        hv[name] = value
    ag = {'KernelModules': None, 'ContainerPipeSize': 0, 'DialTimeout': 0, 'LongLiveConn': False, 'Debug': False,
          'Trace': False, 'EnableDebugConsole': False}
    ag.update(agent or {})
    data = {'HypervisorType': hypervisor_type, 'HypervisorConfig': hv, 'AgentConfig': ag}
    return go_json(data), go_json(ag)


def go_json(value):
    """Compact JSON with Go's HTML escaping of <, > and &."""
    text = json.dumps(value, separators=(',', ':'))
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026').encode('utf-8')


# -- the cached VMs ------------------------------------------------------------------------------------------------

def _die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Spawner(object):
    """Starts the VM processes from one long-lived thread: PR_SET_PDEATHSIG fires when the *thread* that forked a
    child ends, so children forked from short-lived threads would be killed at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests = None

    def _loop(self, requests):
        while True:
            argv, reply = requests.get()
            try:
                reply.put(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, close_fds=True, cwd='/',
                                           preexec_fn=_die_with_parent))  # pylint: disable=subprocess-popen-preexec-fn
            except OSError as exc:
                reply.put(exc)

    def spawn(self, argv):
        with self._lock:
            if self._requests is None:
                self._requests = queue.Queue()
                threading.Thread(target=self._loop, args=(self._requests,), name='vm-spawner', daemon=True).start()
        reply = queue.Queue()
        self._requests.put((argv, reply))
        result = reply.get()
        if isinstance(result, OSError):
            raise result
        return result


_SPAWNER = _Spawner()


class SimVM(object):
    """A paused VM of the cache: a ``sleep`` process standing for its hypervisor."""

    def __init__(self, vcpus, memory_mib, max_vcpus):
        self.id = str(uuid.uuid4())
        self.cpu = vcpus
        self.memory = memory_mib
        self.max_vcpus = max_vcpus
        self.process = _SPAWNER.spawn(['sleep', '2147483647'])

    @property
    def pid(self):
        return self.process.pid

    def hypervisor_json(self):
        """qemu's ``toGrpc`` JSON (qemuGrpc: ID, QmpChannelpath, State, NvdimmCount, QemuSMP)."""
        state = {'UUID': str(uuid.uuid4()), 'Bridges': None, 'HotpluggedVCPUs': None, 'HotpluggedMemory': 0,
                 'VirtiofsDaemonPid': 0, 'PCIeRootPort': 0, 'HotplugVFIOOnRootBus': False}
        smp = {'CPUs': self.cpu, 'Cores': self.cpu, 'Threads': 1, 'Sockets': 1, 'MaxCPUs': self.max_vcpus}
        return go_json({'ID': self.id, 'QmpChannelpath': '/run/vc/vm/%s/qmp.sock' % self.id, 'State': state,
                        'NvdimmCount': 0, 'QemuSMP': smp})

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


# -- the server -----------------------------------------------------------------------------------------------------

def prepare_endpoint(path):
    """The checks of kata's getUnixListener: parent directory created 0755, an existing path refused."""
    try:
        os.makedirs(os.path.dirname(path) or '.', 0o755, exist_ok=True)
    except OSError as exc:
        raise CacheServerError('mkdir %s: %s' % (os.path.dirname(path), exc.strerror or exc))
    if os.path.lexists(path):
        raise CacheServerError('%s already exist.  Please stop running VMCache server and remove %s' % (path, path))


def listen_unix(path):
    """kata's getUnixListener: the checks above, listen, chmod 0600."""
    prepare_endpoint(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(128)
        os.chmod(path, 0o600)
    except OSError as exc:
        sock.close()
        raise CacheServerError('listen unix %s: %s' % (path, exc.strerror or exc))
    return sock


def uri_path(path):
    """A socket path as the path of a ``unix:`` URI (gRPC percent-decodes it)."""
    return quote(os.path.abspath(path), safe="/-_.~!$&'()*+,;=:@")


class CacheServer(object):
    """The gRPC server of ``factory init`` in cache mode.

    ``on_close`` is called after the server stopped and the socket is gone (kata's deferred CloseFactory): the
    factory below the cache (a template) is closed there. ``log`` is a callable taking (level, msg, fields).
    """

    def __init__(self, endpoint, vm_count, vcpus=1, memory_mib=2048, hypervisor_type='qemu', max_vcpus=None,
                 vm_config=None, on_close=None, log=None):
        self.endpoint = endpoint
        self.vm_count = vm_count
        self.vcpus = vcpus
        self.memory_mib = memory_mib
        self.max_vcpus = max_vcpus or os.cpu_count() or 1
        self.vm_config = vm_config or go_vm_config(hypervisor_type, {'NumVCPUs': vcpus, 'MemorySize': memory_mib})
        self.on_close = on_close
        self.log = log or (lambda level, msg, fields=None: None)
        self.cached = []
        self.handed_out = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self._server = None
        self._stopping = False

    # RPC handlers -------------------------------------------------------------------------------------------------

    def rpc_config(self, request, context):
        data, agent = self.vm_config
        return messages()['GrpcVMConfig'](Data=data, AgentConfig=agent)

    def rpc_status(self, request, context):
        with self.lock:
            vms = [dict(pid=vm.pid, cpu=vm.cpu, memory=vm.memory) for vm in self.cached]
        return messages()['GrpcStatus'](pid=os.getpid(), vmstatus=vms)

    def rpc_get_base_vm(self, request, context):
        import grpc
        with self.lock:
            vm = self.cached.pop(0) if self.cached and not self._stopping else None
            if vm is not None:
                self.handed_out.append(vm)
        if vm is None:
            context.abort(grpc.StatusCode.UNKNOWN, 'failed to GetBaseVM: cache factory is closed')
        threading.Thread(target=self._refill, name='refill', daemon=True).start()
        return messages()['GrpcVM'](id=vm.id, hypervisor=vm.hypervisor_json(), cpu=vm.cpu, memory=vm.memory, cpuDelta=0)

    def rpc_quit(self, request, context):
        self.log('info', 'VM cache server will stop after 1 second')
        timer = threading.Timer(QUIT_DELAY, self.stop)
        timer.daemon = True
        timer.start()
        return messages()['Empty']()

    # life cycle ---------------------------------------------------------------------------------------------------

    def _new_vm(self):
        return SimVM(self.vcpus, self.memory_mib, self.max_vcpus)

    def _refill(self):
        vm = self._new_vm()
        with self.lock:
            stopping = self._stopping
            if not stopping:
                self.cached.append(vm)
        if stopping:
            vm.stop()

    def start(self):
        """Fill the cache, listen and serve. Raises CacheServerError like kata's factory init."""
        import grpc
        from concurrent import futures

        for dummy in range(self.vm_count):
            self.cached.append(self._new_vm())
        try:
            prepare_endpoint(self.endpoint)
        except CacheServerError:
            self._close_factory()
            raise
        m = messages()
        handlers = {
            'Config': (self.rpc_config, m['GrpcVMConfig']),
            'GetBaseVM': (self.rpc_get_base_vm, m['GrpcVM']),
            'Status': (self.rpc_status, m['GrpcStatus']),
            'Quit': (self.rpc_quit, m['Empty']),
        }
        generic = grpc.method_handlers_generic_handler(SERVICE, dict(
            (name, grpc.unary_unary_rpc_method_handler(function, request_deserializer=m['Empty'].FromString,
                                                       response_serializer=reply.SerializeToString))
            for name, (function, reply) in handlers.items()))
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=(generic,))
        old_umask = os.umask(0o177)
        try:
            port = self._server.add_insecure_port('unix:' + uri_path(self.endpoint))
        except RuntimeError as exc:
            port = 0
            detail = str(exc)
        else:
            detail = 'gRPC could not bind the socket'
        finally:
            os.umask(old_umask)
        if not port:
            self._close_factory()
            raise CacheServerError('listen unix %s: %s' % (self.endpoint, detail))
        os.chmod(self.endpoint, 0o600)
        self._server.start()
        self.log('info', 'VM cache server start', {'endpoint': self.endpoint})

    def stop(self):
        """GracefulStop, socket removed, then the factory closed; ``done`` is set at the end."""
        with self.lock:
            if self._stopping:
                return
            self._stopping = True
        if self._server is not None:
            self._server.stop(grace=5).wait()
        if os.path.lexists(self.endpoint):
            try:
                os.unlink(self.endpoint)
            except OSError:
                pass
        self.log('info', 'VM cache server stop', {'endpoint': self.endpoint})
        self._close_factory()
        self.done.set()

    def _close_factory(self):
        with self.lock:
            vms = self.cached + self.handed_out
            self.cached, self.handed_out = [], []
        for vm in vms:
            vm.stop()
        if self.on_close is not None:
            self.on_close()

    def serve_until_stopped(self):
        """Block until Quit or SIGTERM/SIGINT (main thread only), like kata's ``<-s.done``."""
        def on_signal(signum, frame):
            threading.Thread(target=self.stop, name='stop', daemon=True).start()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        while not self.done.wait(0.2):
            pass


# -- a server that accepts and never answers ------------------------------------------------------------------------

class SilentServer(object):
    """Listens on a unix socket, accepts every connection and never reads or writes anything."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.sock = listen_unix(endpoint)
        self.connections = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name='silent', daemon=True)

    def start(self):
        self._thread.start()
        return self

    @property
    def accepted(self):
        return len(self.connections)

    def _loop(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, dummy = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        for conn in self.connections:
            conn.close()
        self.sock.close()
        if os.path.lexists(self.endpoint):
            os.unlink(self.endpoint)


# -- command line -------------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(prog='sim_cache.py', description=__doc__.split('\n', 1)[0])
    sub = parser.add_subparsers(dest='command')
    serve = sub.add_parser('serve', help='serve cache.CacheService until Quit, SIGTERM or SIGINT')
    serve.add_argument('--endpoint', required=True)
    serve.add_argument('--vms', type=int, default=1)
    serve.add_argument('--vcpus', type=int, default=1)
    serve.add_argument('--memory', type=int, default=2048, help='MiB')
    silent = sub.add_parser('silent', help='accept connections and never answer, until SIGTERM or SIGINT, the '
                            'socket file is removed or the lifetime runs out')
    silent.add_argument('--endpoint', required=True)
    silent.add_argument('--max-lifetime', type=float, default=600, metavar='SECONDS')
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error('a command is required (serve or silent)')
    try:
        if args.command == 'serve':
            server = CacheServer(args.endpoint, args.vms, vcpus=args.vcpus, memory_mib=args.memory)
            server.start()
            server.serve_until_stopped()
        else:
            server = SilentServer(args.endpoint).start()
            stop = threading.Event()
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda signum, frame: stop.set())
            end = time.monotonic() + args.max_lifetime
            while not stop.wait(0.2) and os.path.lexists(args.endpoint) and time.monotonic() < end:
                pass
            server.stop()
    except CacheServerError as exc:
        sys.stderr.write('%s\n' % exc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
