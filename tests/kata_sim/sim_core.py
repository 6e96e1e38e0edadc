# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulated node: sandboxes, their shim sockets and network namespaces, the control socket, and cleanup.

Everything the simulator creates is written down (``created`` in ``state.json``) before or as it is created, so
that ``stop`` can remove it all even when the daemon died; the daemon removes it itself when it stops, when its
``--max-lifetime`` runs out, or when its state directory disappears.

Optional services (the debug console, the VM-cache gRPC server) are separate files named ``service_<name>.py``
beside this one; each provides ``create(simulator)`` returning an object with ``start()``, ``stop()`` and
``describe() -> dict``, and optionally ``control(request) -> result`` (return NotImplemented for commands that are
not its own). They read their settings from ``simulator.config['options']`` (``start --opt KEY=VALUE``), are
started after the shim sockets and stopped before them (README.md).
"""

from __future__ import annotations

import base64
import datetime
import glob
import hashlib
import importlib
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
import traceback

import sim_pods
from sim_agent import AGENT_VERSIONS, IPTables
from sim_faults import FAULT_MODES
from sim_http import GoHTTPServer
from sim_metrics import MetricsState
from sim_shim import ShimSite

STATE_DIR_NAME = 'kata-sim'
SANDBOX_ROOT = 'run/vc/sbs'
RS_SANDBOX_ROOT = 'run/kata'
DIRECT_VOLUMES_ROOT = 'run/kata-containers/shared/direct-volumes'
SOCKET_NAME = 'shim-monitor.sock'
HYPERVISORS = ('firecracker', 'qemu', 'clh')
AGENT_PORT = 1024
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL
NETNS_PREFIX = 'katasim-'


class SimError(Exception):
    """A user-facing error of the simulator."""


def default_signals():
    """Give this process the signal state a kata agent's children start with: default dispositions, nothing blocked.

    A process started from a background job of a non-interactive shell (``make test &``, nohup, some CI runners)
    inherits SIGINT and SIGQUIT ignored, and every child inherits that in turn. The kata agent runs as the guest's
    init (or a systemd service) and forks its debug console shells on a new pty (kata-containers 3.0.0,
    ``src/agent/src/console.rs``), so they start with the defaults. Called where the simulator starts and in every
    guest shell it forks, so that no test depends on how the suite itself was started.
    """
    for number in range(1, signal.NSIG):
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # numbers the platform reserves (e.g. the real-time signals glibc keeps for itself)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def netns_name(root, sandbox_id):
    return NETNS_PREFIX + hashlib.sha1(('%s\0%s' % (root, sandbox_id)).encode('utf-8')).hexdigest()[:10]


def state_dir(root):
    return os.path.join(root, STATE_DIR_NAME)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def write_json_atomic(path, data):
    tmp = '%s.%d.%d.tmp' % (path, os.getpid(), threading.get_ident())
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write('\n')
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)


def _ip(*args):
    return subprocess.run(['ip'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


def delete_netns(name):
    if os.path.exists(os.path.join('/run/netns', name)) or os.path.exists(os.path.join('/var/run/netns', name)):
        _ip('netns', 'delete', name)


class RequestLog:
    """JSON lines, one per request: time, sandbox, runtime, method, path, query, status, bytes, request_bytes, fault."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, entry):
        record = {'time': utc_now()}
        record.update(entry)
        line = json.dumps(record, sort_keys=True) + '\n'
        with self.lock:
            try:
                with open(self.path, 'a') as f:
                    f.write(line)
            except OSError:
                pass


class Volume:
    """A direct-assigned volume as the sandbox sees it: host device -> guest mount directory."""

    def __init__(self, device, guest_path, volume_path=None, record_file=None):
        self.device = device
        self.guest_path = guest_path
        self.volume_path = volume_path
        self.record_file = record_file
        self.size = None  # bytes, once resized

    def describe(self):
        return {'device': self.device, 'guest_path': self.guest_path, 'volume_path': self.volume_path,
                'record_file': self.record_file, 'size': self.size}


class Sandbox:
    """One simulated sandbox: a shim management socket, an agent, a network namespace and its volumes."""

    def __init__(self, sim, sandbox_id, runtime, hypervisor, agent_version, index):
        self.sim = sim
        self.id = sandbox_id
        self.runtime = runtime
        self.hypervisor = hypervisor
        self.agent_version = agent_version
        self.index = index
        base = sim.rs_sandbox_root if runtime == 'rs' else sim.sandbox_root
        self.dir = os.path.join(base, sandbox_id)
        self.socket_path = os.path.join(self.dir, SOCKET_NAME)
        self.netns = None
        self.netns_error = None
        self.iptables = IPTables(None)
        self.metrics = MetricsState(sandbox_id, hypervisor, index)
        # The agent round trip of GET /metrics (the shim's GetAgentMetrics call over vsock/ttrpc), in seconds.
        self.agent_latency = float(sim.config.get('agent_latency_ms') or 0) / 1000.0
        self.volumes = {}
        self.faults = {}
        self.pod = None  # the engine metadata laid down for it (sim_pods.lay_down), when it has a pod
        self.lock = threading.Lock()
        self.server = None
        digest = int(hashlib.sha1(sandbox_id.encode('utf-8')).hexdigest()[:8], 16)
        self.cid = 3 + digest % (0xFFFFFFFF - 4)

    @property
    def hvsock_path(self):
        """The hybrid-vsock socket the agent URL points at (None for qemu, which uses vsock)."""
        if self.hypervisor == 'firecracker':
            return os.path.join(self.sim.root, 'run/vc/firecracker', self.id, 'root', 'kata.hvsock')
        if self.hypervisor == 'clh':
            return os.path.join(self.sim.root, 'run/vc/vm', self.id, 'clh.sock')
        return None

    def agent_url(self):
        if self.hvsock_path:
            return 'hvsock://%s:%d' % (self.hvsock_path, AGENT_PORT)
        return 'vsock://%d:%d' % (self.cid, AGENT_PORT)

    def fault_for(self, path):
        with self.lock:
            mode = self.faults.get(path) or self.faults.get('*')
        return mode if mode and mode != 'none' else None

    def changed(self):
        self.sim.save_state()

    def describe(self):
        with self.lock:
            faults = dict(self.faults)
            volumes = [v.describe() for _k, v in sorted(self.volumes.items())]
        return {'id': self.id, 'runtime': self.runtime, 'socket': self.socket_path, 'dir': self.dir,
                'hypervisor': self.hypervisor, 'agent_version': self.agent_version, 'agent_url': self.agent_url(),
                'hvsock_path': self.hvsock_path, 'iptables': 'netns' if self.netns else 'memory', 'netns': self.netns,
                'netns_error': self.netns_error, 'faults': faults, 'volumes': volumes, 'pod': self.pod}


class _ControlHandler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline(1 << 20)
        try:
            request = json.loads(line.decode('utf-8'))
            result = self.server.sim.control(request)
            answer = {'ok': True, 'result': result}
        except SimError as exc:
            answer = {'ok': False, 'error': str(exc)}
        except (ValueError, KeyError, TypeError) as exc:
            answer = {'ok': False, 'error': 'bad control request: %s' % exc}
        self.wfile.write((json.dumps(answer) + '\n').encode('utf-8'))


class _ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path, sim):
        self.sim = sim
        socketserver.UnixStreamServer.__init__(self, path, _ControlHandler)


class Simulator:
    """The whole simulated node under one root directory."""

    def __init__(self, config):
        self.config = config
        self.root = os.path.abspath(config['root'])
        self.state_dir = state_dir(self.root)
        self.sandbox_root = os.path.join(self.root, SANDBOX_ROOT)
        self.rs_sandbox_root = os.path.join(self.root, RS_SANDBOX_ROOT)
        self.direct_volumes_root = os.path.join(self.root, DIRECT_VOLUMES_ROOT)
        self.state_path = os.path.join(self.state_dir, 'state.json')
        self.pid_path = os.path.join(self.state_dir, 'kata-sim.pid')
        self.control_path = os.path.join(self.state_dir, 'control.sock')
        self.log_path = os.path.join(self.state_dir, 'requests.log')
        self.guest_root = os.path.join(self.state_dir, 'guest')
        self.log = RequestLog(self.log_path)
        self.created = []
        self.sandboxes = []
        self.services = {}
        self.stop_event = threading.Event()
        self.stop_reason = None
        self.lock = threading.RLock()
        self.state_lock = threading.Lock()
        self.started = time.time()
        self.max_lifetime = float(config.get('max_lifetime') or 0)
        self.control_server = None
        self.ready = False
        self.shim_processes = int(config.get('shim_processes') or 1)
        self.shim_pids = []  # the processes serving the sandboxes when shim_processes > 1

    # -- bookkeeping -------------------------------------------------------------------------------------------------

    def register(self, kind, path):
        """Remember something this run created: 'tree' (dir, removed with content), 'dir' (removed when empty),
        'file' and 'socket' (unlinked), 'netns' (deleted)."""
        with self.lock:
            if [kind, path] not in self.created:
                self.created.append([kind, path])

    def make_dirs(self, path, mode=0o700, tree=False):
        """mkdir -p, registering every directory created (the last one as a tree when ``tree``)."""
        missing = []
        current = path
        while not os.path.exists(current):
            missing.append(current)
            current = os.path.dirname(current)
        for directory in reversed(missing):
            os.mkdir(directory, mode)
            self.register('tree' if tree and directory == path else 'dir', directory)

    def describe(self):
        with self.lock:
            created = [list(item) for item in self.created]
        services = {}
        for name, service in self.services.items():
            try:
                services[name] = service.describe()
            except Exception as exc:  # a broken optional service must not break status
                services[name] = {'error': str(exc)}
        return {
            'version': 1, 'pid': os.getpid(), 'root': self.root, 'state_dir': self.state_dir, 'ready': self.ready,
            'started': self.started, 'max_lifetime': self.max_lifetime,
            'expires': self.started + self.max_lifetime if self.max_lifetime else None,
            'sandbox_root': self.sandbox_root, 'rs_sandbox_root': self.rs_sandbox_root,
            'direct_volumes_root': self.direct_volumes_root, 'request_log': self.log_path,
            'control_socket': self.control_path, 'pidfile': self.pid_path,
            'sandboxes': [sb.describe() for sb in self.sandboxes], 'services': services, 'created': created,
            'options': dict(self.config.get('options') or {}),
            'shim_processes': self.shim_processes, 'shim_pids': list(self.shim_pids),
            'agent_latency_ms': float(self.config.get('agent_latency_ms') or 0),
        }

    def save_state(self):
        data = self.describe()  # takes the locks it needs one at a time: never while holding another
        with self.state_lock:
            if os.path.isdir(self.state_dir):
                try:
                    write_json_atomic(self.state_path, data)
                except OSError:
                    pass

    def sandbox(self, sandbox_id):
        for sb in self.sandboxes:
            if sb.id == sandbox_id:
                return sb
        raise SimError('no sandbox %r in this simulator (sandboxes: %s)' % (sandbox_id, ', '.join(s.id for s in self.sandboxes)))

    # -- set-up --------------------------------------------------------------------------------------------------------

    def setup(self):
        if not os.path.isdir(self.root):
            self.make_dirs(self.root, 0o755)
        self.make_dirs(self.state_dir, tree=True)
        self.register('file', self.pid_path)
        self.register('file', self.state_path)
        self.register('socket', self.control_path)
        self.register('file', self.log_path)
        with open(self.log_path, 'a'):
            pass
        os.chmod(self.log_path, 0o600)
        self.make_dirs(self.guest_root)
        with open(self.pid_path, 'w') as f:
            f.write('%d\n' % os.getpid())
        cfg = self.config
        index = 0
        for runtime, ids in (('go', cfg['go_ids']), ('rs', cfg['rs_ids'])):
            for sandbox_id in ids:
                hypervisor = cfg['hypervisors'].get(sandbox_id, cfg['hypervisor'])
                agent = cfg['agents'].get(sandbox_id, cfg['agent'])
                self.sandboxes.append(Sandbox(self, sandbox_id, runtime, hypervisor, agent, index))
                index += 1
        for sb in self.sandboxes:
            for path, mode in cfg['faults'].get(sb.id, {}).items():
                sb.faults[path] = mode
        self.save_state()
        for sb in self.sandboxes:
            self._setup_sandbox(sb)
            self.save_state()
        if self.shim_processes > 1:
            self._fork_shims()  # before any thread of this process starts
        self._start_control()
        self._start_services()
        self.ready = True
        self.save_state()

    def _setup_sandbox(self, sb):
        if len(sb.socket_path.encode('utf-8')) > UNIX_PATH_MAX:
            raise SimError('socket path %s is %d bytes long, more than a unix socket address can hold (%d): use a shorter '
                           '--root or sandbox ID' % (sb.socket_path, len(sb.socket_path.encode('utf-8')), UNIX_PATH_MAX))
        existed = os.path.isdir(sb.dir)
        self.make_dirs(sb.dir, tree=not existed)
        pod = (self.config.get('pods') or {}).get(sb.id)
        if pod is not None:
            sb.pod = sim_pods.lay_down(self, sb, pod)
        if os.path.lexists(sb.socket_path):
            os.unlink(sb.socket_path)  # a stale socket left by a killed run
        if self.config['netns']:
            name = netns_name(self.root, sb.id)
            self.register('netns', name)
            proc = _ip('netns', 'add', name)
            if proc.returncode != 0 and b'exists' in proc.stderr:
                delete_netns(name)
                proc = _ip('netns', 'add', name)
            if proc.returncode == 0:
                sb.netns = name
                sb.iptables = IPTables(name)
            else:
                sb.netns_error = proc.stderr.decode('utf-8', 'replace').strip() or 'ip netns add failed'
        else:
            sb.netns_error = 'disabled with --no-netns'
        self.register('socket', sb.socket_path)
        old_umask = os.umask(0o177)
        try:
            sb.server = GoHTTPServer(sb.socket_path, ShimSite(sb, self.log))
        finally:
            os.umask(old_umask)
        os.chmod(sb.socket_path, 0o600)
        if self.shim_processes == 1:
            sb.server.start()

    def _fork_shims(self):
        """Serve the sandboxes from ``shim_processes`` processes (sandbox i from process i mod N), as a real node runs
        one shim process per sandbox: each process renders its sandboxes' answers on its own CPU time."""
        parent = os.getpid()
        for number in range(self.shim_processes):
            mine = [sb for sb in self.sandboxes if sb.index % self.shim_processes == number]
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    self.save_state = lambda: None  # state.json is the parent's
                    for sb in self.sandboxes:
                        if sb not in mine:
                            sb.server.socket.close()  # each listening socket is held by its one shim process
                    for sb in mine:
                        sb.server.start()
                    while os.getppid() == parent:
                        time.sleep(0.5)
                except BaseException:
                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)
            self.shim_pids.append(pid)
        for sb in self.sandboxes:
            sb.server.socket.close()  # served by the shim processes only (the paths are removed at teardown)

    def _start_control(self):
        old_umask = os.umask(0o177)
        try:
            self.control_server = _ControlServer(self.control_path, self)
        finally:
            os.umask(old_umask)
        threading.Thread(target=self.control_server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True,
                         name='control').start()

    def _start_services(self):
        here = os.path.dirname(os.path.abspath(__file__))
        for path in sorted(glob.glob(os.path.join(here, 'service_*.py'))):
            name = os.path.basename(path)[len('service_'):-len('.py')]
            module = importlib.import_module('service_' + name)
            service = module.create(self)
            service.start()
            self.services[name] = service

    # -- control commands --------------------------------------------------------------------------------------------

    def control(self, request):
        command = request['command']
        if command == 'status':
            return self.describe()
        if command == 'stop':
            self.request_stop('stop command')
            return {'stopping': True}
        if command in ('attach', 'detach', 'fault') and self.shim_processes > 1:
            raise SimError('%s: the sandboxes are served by %d processes (--shim-processes), which do not see state '
                           'changed after the start; give faults with --fault, or start with --shim-processes 1'
                           % (command, self.shim_processes))
        if command == 'attach':
            return self.attach(request['sandbox'], request['device'], request.get('volume_path'))
        if command == 'detach':
            return self.detach(request['sandbox'], request['device'])
        if command == 'fault':
            return self.set_fault(request['sandbox'], request['mode'], request.get('path'))
        for service in self.services.values():
            handler = getattr(service, 'control', None)
            result = handler(request) if handler else NotImplemented
            if result is not NotImplemented:
                return result
        raise SimError('unknown control command %r' % command)

    def attach(self, sandbox_id, device, volume_path=None):
        """Record device -> guest mount directory, and the sandbox ID file in the volume's direct-volume dir."""
        sb = self.sandbox(sandbox_id)
        if not device:
            raise SimError('attach needs a device path')
        with sb.lock:
            volume = sb.volumes.get(device)
            if volume is None:
                name = '%d-%s' % (len(sb.volumes) + 1, os.path.basename(device.rstrip('/')) or 'volume')
                guest = os.path.join(self.guest_root, sb.id, 'storage', name)
                self.make_dirs(guest)
                volume = Volume(device, guest)
                sb.volumes[device] = volume
            if volume_path is not None:
                volume.volume_path = volume_path
                encoded = base64.urlsafe_b64encode(volume_path.encode('utf-8', 'surrogateescape')).decode('ascii')
                volume_dir = os.path.join(self.direct_volumes_root, encoded)
                if os.path.isdir(volume_dir):
                    record = os.path.join(volume_dir, sb.id)
                    if not os.path.exists(record):
                        self.register('file', record)
                        fd = os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                        os.close(fd)
                    volume.record_file = record
            result = volume.describe()
        self.save_state()
        return result

    def detach(self, sandbox_id, device):
        sb = self.sandbox(sandbox_id)
        with sb.lock:
            volume = sb.volumes.pop(device, None)
        if volume is None:
            raise SimError('device %s is not attached to sandbox %s' % (device, sandbox_id))
        if volume.record_file and os.path.exists(volume.record_file):
            os.unlink(volume.record_file)
        shutil.rmtree(volume.guest_path, ignore_errors=True)
        self.save_state()
        return volume.describe()

    def set_fault(self, sandbox_id, mode, path=None):
        if mode not in FAULT_MODES:
            raise SimError('unknown fault mode %r (known: %s)' % (mode, ', '.join(FAULT_MODES)))
        targets = self.sandboxes if sandbox_id in (None, '*', 'all') else [self.sandbox(sandbox_id)]
        for sb in targets:
            with sb.lock:
                if mode == 'none':
                    if path:
                        sb.faults.pop(path, None)
                    else:
                        sb.faults.clear()
                else:
                    sb.faults[path or '*'] = mode
        self.save_state()
        return {sb.id: dict(sb.faults) for sb in targets}

    # -- running and stopping ------------------------------------------------------------------------------------------

    def request_stop(self, reason):
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop_event.set()

    def run(self):
        """Serve until stopped, the lifetime runs out, or the state directory is removed."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.request_stop('signal %d' % signum))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        while not self.stop_event.wait(1.0):
            if self.max_lifetime and time.time() - self.started > self.max_lifetime:
                self.request_stop('max lifetime of %g s reached' % self.max_lifetime)
            elif not os.path.isdir(self.state_dir):
                self.request_stop('state directory %s removed' % self.state_dir)
            else:
                try:
                    with open(self.pid_path) as f:
                        if f.read().strip() != str(os.getpid()):
                            self.request_stop('pidfile taken over')
                except OSError:
                    self.request_stop('pidfile removed')
        self.teardown()

    def teardown(self):
        for name, service in reversed(list(self.services.items())):
            try:
                service.stop()
            except Exception as exc:
                print('kata-sim: service %s failed to stop: %s' % (name, exc), flush=True)
        self.services = {}
        if self.control_server is not None:
            self.control_server.shutdown()
            self.control_server.server_close()
        for pid in self.shim_pids:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
        for sb in self.sandboxes:
            if sb.server is not None:
                if self.shim_pids:
                    sb.server.server_close()  # served by the shim processes: this process never ran serve_forever
                else:
                    sb.server.close()
        with self.lock:
            created = list(self.created)
        cleanup(created)


def cleanup(created):
    """Remove what a run created (see Simulator.register), newest first. Never fails."""
    for kind, path in reversed(created):
        try:
            if kind == 'netns':
                delete_netns(path)
            elif kind in ('file', 'socket'):
                if os.path.lexists(path):
                    os.unlink(path)
            elif kind == 'tree':
                shutil.rmtree(path, ignore_errors=True)
            elif kind == 'dir':
                if os.path.isdir(path) and not os.listdir(path):
                    os.rmdir(path)
        except OSError:
            pass


def control_call(root, request, timeout=10.0):
    """Send one command to a running simulator; returns its result or raises SimError."""
    path = os.path.join(state_dir(root), 'control.sock')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall((json.dumps(request) + '\n').encode('utf-8'))
        data = b''
        while not data.endswith(b'\n'):
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except OSError as exc:
        raise SimError('no simulator answers on %s: %s' % (path, exc)) from exc
    finally:
        sock.close()
    answer = json.loads(data.decode('utf-8'))
    if not answer.get('ok'):
        raise SimError(answer.get('error', 'unknown error'))
    return answer['result']


def validate_config(config):
    for sandbox_id, hypervisor in list(config['hypervisors'].items()) + [(None, config['hypervisor'])]:
        if hypervisor not in HYPERVISORS:
            where = ' for %s' % sandbox_id if sandbox_id else ''
            raise SimError('unknown hypervisor %r%s (known: %s)' % (hypervisor, where, ', '.join(HYPERVISORS)))
    for sandbox_id, agent in list(config['agents'].items()) + [(None, config['agent'])]:
        if agent not in AGENT_VERSIONS:
            where = ' for %s' % sandbox_id if sandbox_id else ''
            raise SimError('unknown agent version %r%s (known: %s)' % (agent, where, ', '.join(AGENT_VERSIONS)))
    ids = config['go_ids'] + config['rs_ids']
    if len(set(ids)) != len(ids):
        raise SimError('sandbox IDs must be unique: %s' % ', '.join(ids))
    for sandbox_id in (list(config['hypervisors']) + list(config['agents']) + list(config['faults'])
                       + list(config.get('pods') or {})):
        if sandbox_id not in ids:
            raise SimError('option given for unknown sandbox %r (sandboxes: %s)' % (sandbox_id, ', '.join(ids)))
    processes = config.get('shim_processes', 1)
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise SimError('--shim-processes must be a whole number from 1 up, got %r' % (processes,))
    latency = config.get('agent_latency_ms', 0)
    if isinstance(latency, bool) or not isinstance(latency, (int, float)) or not 0 <= latency <= 60000:
        raise SimError('--agent-latency must be from 0 to 60000 milliseconds, got %r' % (latency,))
    for per_path in config['faults'].values():
        for mode in per_path.values():
            if mode not in FAULT_MODES:
                raise SimError('unknown fault mode %r (known: %s)' % (mode, ', '.join(FAULT_MODES)))
