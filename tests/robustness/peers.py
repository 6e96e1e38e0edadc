# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Broken peers: every peer the modules talk to, misbehaving in every way a peer can.

Peers: the shim management socket (HTTP over AF_UNIX), the agent's debug console (hybrid vsock: ``CONNECT`` handshake
then a shell), the VM-cache server (gRPC over AF_UNIX) and the release mirror (HTTP over TCP, and HTTPS).

Behaviours (``MODES``): ``hang`` (accepts, reads, never answers), ``slow`` (a well-formed answer, one byte every
50 ms), ``reset`` (the head and part of the body, then the connection is reset), ``garbage`` (bytes of no protocol,
then close), ``huge`` (an answer of 1 GiB, generated as it is sent: never held in memory), ``close`` (closed before
the first byte of the answer). HTTP peers also get ``huge-unannounced`` (1 GiB without a length, until close).

Each module must return within its documented time bound plus one second, with a failure (or, for kata_sandbox_info,
a per-sandbox error) whose message names the peer, and no traceback. The bound is the number of steps the module
may spend waiting (documented per module) times the timeout given, plus one second, plus the time a module process
needs to start on this machine (measured first). The largest overrun seen is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import threading

import rlib

MODES = ('hang', 'slow', 'reset', 'garbage', 'huge', 'close')
HTTP_MODES = MODES + ('huge-unannounced',)
GIB = 1 << 30
SLOW_INTERVAL = 0.05
CHUNK = b'x' * 65536
TIMEOUT = 2.0

RELEASES = [
    {'tag_name': '3.1.0', 'prerelease': False,
     'assets': [{'browser_download_url': '%(base)s/download/3.1.0/kata-static-3.1.0-amd64.tar.xz',
                 'name': 'kata-static-3.1.0-amd64.tar.xz', 'created_at': '2023-02-10T12:00:00Z'}]},
    {'tag_name': '3.0.0', 'prerelease': False,
     'assets': [{'browser_download_url': '%(base)s/download/3.0.0/kata-static-3.0.0-amd64.tar.xz',
                 'name': 'kata-static-3.0.0-amd64.tar.xz', 'created_at': '2022-10-10T12:00:00Z'}]},
]
METRICS_TEXT = (b'# HELP kata_agent_scrape_count Metrics scrape count\n# TYPE kata_agent_scrape_count counter\n'
                b'kata_agent_scrape_count 1\n')
IPTABLES_TEXT = b'*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n'
STATS_JSON = b'{"usage":[{"available":10,"total":20,"used":10,"unit":1}],"volume_condition":{"message":"OK"}}'


# --------------------------------------------------------------------------------------------------------------------
# A listener that hands every connection to a behaviour


class Listener(object):
    """Accepts connections on a unix path or a TCP port (optionally TLS) and runs ``behaviour(conn, stop)`` for each
    in its own thread. ``connections`` counts the accepted ones. ``close()`` stops everything."""

    def __init__(self, behaviour, path=None, tls=None):
        self.behaviour = behaviour
        self.path = path
        self.stop = threading.Event()
        self.connections = 0
        self._lock = threading.Lock()
        self._open = []
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(('127.0.0.1', 0))
            self.port = self.sock.getsockname()[1]
        self.tls = tls
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._serve, name='listener')
        self.thread.daemon = True
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            worker = threading.Thread(target=self._handle, args=(conn,), name='peer-conn')
            worker.daemon = True
            worker.start()

    def _handle(self, conn):
        try:
            if self.tls is not None:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._open.append(conn)
            conn.settimeout(None)
            self.behaviour(conn, self.stop)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    conn.close()
                except OSError:
                    pass
        self.thread.join(2)
        if self.path:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def read_http_request(conn, limit=1 << 20):
    """Read one HTTP request (head and Content-Length body); returns ``(method, path, body)`` or None."""
    conn.settimeout(5)
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            return None
    head, _sep, body = data.partition(b'\r\n\r\n')
    lines = head.split(b'\r\n')
    method, target = lines[0].split(b' ')[:2]
    length = 0
    for line in lines[1:]:
        name, _sep, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    conn.settimeout(None)
    return method.decode('latin-1'), target.decode('latin-1').split('?')[0], body


def http_answer(status, body, extra=b''):
    return (b'HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n%sConnection: close'
            b'\r\n\r\n' % (status, b'OK' if status == 200 else b'Error', len(body), extra)) + body


def stream(conn, stop, total):
    """Send ``total`` bytes of filler, generated as they go, until done, the peer goes or the listener stops."""
    sent = 0
    while sent < total and not stop.is_set():
        sent += conn.send(CHUNK[:min(len(CHUNK), total - sent)])


def dribble(conn, stop, data):
    for index in range(len(data)):
        if stop.wait(SLOW_INTERVAL):
            return
        conn.sendall(data[index:index + 1])


def reset(conn):
    """Close with SO_LINGER 0: a TCP RST (on a unix socket the peer just sees the end)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    conn.close()


GARBAGE = (b'\x16\x03\x01\x02\x00\xff\xfe garbage \x00\x01\r\n\x80\x81' * 64)


def http_peer(mode, routes):
    """A behaviour for an HTTP peer: ``routes`` maps a path to ``(status, body)`` for the ``ok`` mode."""
    def behaviour(conn, stop):
        if mode == 'close':
            return
        request = read_http_request(conn)
        if request is None:
            return
        _method, path, _body = request
        status, body = routes.get(path, (404, b'404 page not found\n'))
        if mode == 'ok':
            conn.sendall(http_answer(status, body))
        elif mode == 'hang':
            stop.wait()
        elif mode == 'slow':
            dribble(conn, stop, http_answer(200, body + b'\n' * 4096))
        elif mode == 'reset':
            answer = http_answer(200, body + b' ' * 2000)
            conn.sendall(answer[:len(answer) - 1500])
            reset(conn)
        elif mode == 'garbage':
            conn.sendall(GARBAGE)
        elif mode == 'huge':
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n' % GIB)
            stream(conn, stop, GIB)
        elif mode == 'huge-unannounced':
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n')
            stream(conn, stop, GIB)
    return behaviour


def console_peer(mode):
    """A behaviour for the hybrid-vsock debug console (the ``CONNECT <port>\\n`` handshake, then a shell)."""
    def behaviour(conn, stop):
        if mode == 'close':
            return
        conn.settimeout(5)
        data = b''
        while b'\n' not in data:
            chunk = conn.recv(256)
            if not chunk:
                return
            data += chunk
        conn.settimeout(None)
        if mode == 'hang':
            stop.wait()
        elif mode == 'slow':
            dribble(conn, stop, b'OK 1073741824\n' + b'bash-5.2# ' * 400)
        elif mode == 'reset':
            conn.sendall(b'OK 1073741824\nbash-5.2# ')
            reset(conn)
        elif mode == 'garbage':
            conn.sendall(GARBAGE)
        elif mode == 'huge':
            conn.sendall(b'OK 1073741824\n')
            stream(conn, stop, GIB)
    return behaviour


def grpc_peer(mode):
    """A behaviour for the VM-cache server's socket (gRPC, HTTP/2)."""
    settings = b'\x00\x00\x00\x04\x00\x00\x00\x00\x00'

    def behaviour(conn, stop):
        if mode == 'close':
            return
        conn.settimeout(5)
        try:
            conn.recv(65536)
        except socket.timeout:
            pass
        conn.settimeout(None)
        if mode == 'hang':
            stop.wait()
        elif mode == 'slow':
            dribble(conn, stop, settings + b'\x00\x00\x08\x06\x00\x00\x00\x00\x00' + b'\x00' * 2000)
        elif mode == 'reset':
            conn.sendall(settings[:5])
            reset(conn)
        elif mode == 'garbage':
            conn.sendall(GARBAGE)
        elif mode == 'huge':
            conn.sendall(settings + b'\x00\x40\x00\x00\x00\x00\x00\x00\x01')
            stream(conn, stop, GIB)
    return behaviour


# --------------------------------------------------------------------------------------------------------------------
# The release mirror (also used by the matrix as the valid mirror)


def releases_body(base):
    return json.dumps([json.loads(json.dumps(r) % {'base': base}) for r in RELEASES]).encode('utf-8')


class ReleaseMirror(object):
    """A well-behaved (``mode='ok'``) or broken release mirror on 127.0.0.1, HTTP or HTTPS (self-signed)."""

    def __init__(self, mode='ok', tls=None):
        scheme = 'https' if tls else 'http'
        self.listener = Listener(self._behaviour, tls=tls)
        self.base = '%s://127.0.0.1:%d' % (scheme, self.listener.port)
        self.url = self.base + '/releases'
        self._routes = {'/releases': (200, releases_body(self.base))}
        self._peer = http_peer(mode, self._routes)

    def _behaviour(self, conn, stop):
        self._peer(conn, stop)

    def close(self):
        self.listener.close()


def self_signed_context(directory):
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (made with openssl)."""
    key = os.path.join(directory, 'key.pem')
    cert = os.path.join(directory, 'cert.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# --------------------------------------------------------------------------------------------------------------------
# Cases


class PeerCase(object):
    __slots__ = ('peer', 'mode', 'module', 'args', 'steps', 'timeout', 'expect', 'setup', 'label')

    def __init__(self, peer, mode, module, args, steps, timeout, expect='fail', setup=None, label=None):
        self.peer = peer
        self.mode = mode
        self.module = module
        self.args = args
        self.steps = steps
        self.timeout = timeout
        self.expect = expect
        self.setup = setup
        self.label = label or module

    @property
    def title(self):
        return '%s %s: %s' % (self.peer, self.mode, self.label)


class World(object):
    """Directories that look like a node's, with a peer listening where each module looks."""

    SANDBOX = 'kr-peer-sandbox'

    def __init__(self, ws):
        self.ws = ws
        self.root = ws.mkdir('peers')
        self.listeners = []
        self._serial = 0

    def fresh(self):
        """A new sandbox root, volume root and scratch directory for one case."""
        self._serial += 1
        base = os.path.join(self.root, '%03d' % self._serial)
        paths = dict(base=base, sbs=os.path.join(base, 'sbs'), rs=os.path.join(base, 'rs'),
                     volumes=os.path.join(base, 'dv'), sandbox_dir=os.path.join(base, 'sbs', self.SANDBOX))
        os.makedirs(paths['sandbox_dir'])
        os.makedirs(paths['rs'])
        paths['socket'] = os.path.join(paths['sandbox_dir'], 'shim-monitor.sock')
        return paths

    def listen(self, behaviour, path=None, tls=None):
        listener = Listener(behaviour, path=path, tls=tls)
        self.listeners.append(listener)
        return listener

    def close(self):
        for listener in self.listeners:
            listener.close()
        self.listeners = []


def shim_routes(agent_url=b'vsock://3:1024'):
    return {'/agent-url': (200, agent_url), '/metrics': (200, METRICS_TEXT), '/iptables': (200, IPTABLES_TEXT),
            '/direct-volume/stats': (200, STATS_JSON)}


def build_cases(world, factory_config_text):
    """Every broken-peer case, with a setup function that starts its peer in a fresh directory."""
    cases = []
    sb = World.SANDBOX

    def shim_case(mode, module, make_args, label=None, steps=1, expect='fail'):
        def setup():
            paths = world.fresh()
            world.listen(http_peer(mode, shim_routes()), path=paths['socket'])
            return make_args(paths)
        return PeerCase('shim', mode, module, None, steps, TIMEOUT, expect=expect, setup=setup, label=label)

    def shim_common(paths):
        return {'sandbox_root': paths['sbs'], 'rs_sandbox_root': paths['rs'], 'timeout': TIMEOUT}

    def volume_args(paths):
        import base64
        name = base64.urlsafe_b64encode(b'/dev/kr-peer').decode('ascii')
        directory = os.path.join(paths['volumes'], name)
        os.makedirs(directory, mode=0o700)
        with open(os.path.join(directory, 'mountInfo.json'), 'wb') as f:
            f.write(b'{"volume-type":"block","device":"/dev/kr-peer-dev","fstype":"ext4"}')
        os.chmod(os.path.join(directory, 'mountInfo.json'), 0o600)
        open(os.path.join(directory, sb), 'wb').close()
        return dict(shim_common(paths), volume_path='/dev/kr-peer', state='present', volume_root=paths['volumes'],
                    stats=True, mount_info={'volume_type': 'block', 'device': '/dev/kr-peer-dev', 'fstype': 'ext4'})

    shim_modules = [
        ('kata_metrics', lambda p: dict(shim_common(p), sandbox_id=sb), None),
        ('kata_metrics', lambda p: dict(shim_common(p), sandbox_id=sb, transport='requests'), 'kata_metrics (requests)'),
        ('kata_iptables', lambda p: dict(shim_common(p), sandbox_id=sb, rules=IPTABLES_TEXT.decode()), None),
        ('kata_sandbox_info', lambda p: dict(shim_common(p), agent_url=True, volumes=False), None),
        ('kata_direct_volume', volume_args, None),
        ('kata_exec_cmd', lambda p: dict(shim_common(p), sandbox_id=sb, cmd='true', connect_timeout=TIMEOUT), None),
    ]
    for mode in ('ok',) + HTTP_MODES:
        for module, make_args, label in shim_modules:
            if mode == 'ok' and module == 'kata_exec_cmd':
                continue  # its "ok" shim points at a console: see below
            cases.append(shim_case(mode, module, make_args, label=label, expect='ok' if mode == 'ok' else 'fail'))

    # The debug console behind a well-behaved shim.
    for mode in MODES:
        def console_setup(mode=mode):
            paths = world.fresh()
            console = os.path.join(paths['base'], 'kata.hvsock')
            world.listen(console_peer(mode), path=console)
            world.listen(http_peer('ok', shim_routes(('hvsock://%s:1024' % console).encode())), path=paths['socket'])
            return dict(shim_common(paths), sandbox_id=sb, cmd='true', connect_timeout=TIMEOUT, timeout=TIMEOUT)
        cases.append(PeerCase('console', mode, 'kata_exec_cmd', None, 2, TIMEOUT, setup=console_setup))

    # The VM-cache server named by the configuration.
    for mode in MODES:
        def cache_setup(mode=mode):
            paths = world.fresh()
            endpoint = os.path.join(paths['base'], 'cache.sock')
            config = os.path.join(paths['base'], 'configuration.toml')
            with open(config, 'w', encoding='utf-8') as f:
                f.write(factory_config_text.replace('@ENDPOINT@', endpoint))
            world.listen(grpc_peer(mode), path=endpoint)
            return {'config': config, 'state': 'present', 'timeout': TIMEOUT, 'runtime_path': '/bin/false',
                    'log_path': os.path.join(paths['base'], 'factory.log')}
        cases.append(PeerCase('vm-cache', mode, 'kata_factory', None, 1, TIMEOUT, setup=cache_setup))

    # The release mirror.
    for mode in ('ok',) + HTTP_MODES:
        def mirror_setup(mode=mode):
            mirror = ReleaseMirror(mode)
            world.listeners.append(mirror.listener)
            return {'host_root': '/', 'kvm_test': 'never', 'fail_on_incapable': False, 'release_check': True,
                    'release_url': mirror.url, 'release_timeout': TIMEOUT, 'runtime_path': '/bin/false'}
        cases.append(PeerCase('release mirror', mode, 'kata_check', None, 1, TIMEOUT,
                              expect='ok' if mode == 'ok' else 'fail', setup=mirror_setup))
    return cases


FACTORY_CONFIG = '''[hypervisor.qemu]
path = "/bin/true"
kernel = "/bin/true"
initrd = "/bin/true"
default_memory = 512
shared_fs = "virtio-9p"

[factory]
enable_template = false
vm_cache_number = 1
vm_cache_endpoint = "@ENDPOINT@"
'''


def measure_startup(ws, modules):
    """Median seconds a module process needs to start and fail on a missing option, per module."""
    startup = {}
    for module in modules:
        times = []
        for dummy in range(3):
            out = rlib.run_module(ws, module, {'bogus_option': 1})
            times.append(out.elapsed)
        startup[module] = statistics.median(times)
    return startup


def judge(case, outcome, bound, peer_ids):
    problems = []
    counts = {}
    tb = outcome.traceback()
    if tb:
        problems.append('traceback: %s' % tb)
        counts['tracebacks'] = 1
    message = outcome.msg
    if case.module == 'kata_sandbox_info' and outcome.result and not outcome.failed:
        entries = outcome.result.get('sandboxes') or [{}]
        message = entries[0].get('error') or ''
        failed = bool(message)
    else:
        failed = outcome.failed
    if case.expect == 'ok':
        if failed:
            problems.append('the well-behaved peer failed: %s' % message[:300])
    else:
        if not failed:
            problems.append('no failure against a %s peer' % case.mode)
        elif not any(ident in message for ident in peer_ids):
            problems.append('the message does not name the peer: %r' % message[:300])
    if outcome.elapsed > bound:
        problems.append('took %.2f s, bound %.2f s' % (outcome.elapsed, bound))
        counts['slow'] = 1
    kind = 'rejected' if failed else 'accepted'
    return rlib.CaseResult('peers', case.module, case.title, kind, problems, elapsed=outcome.elapsed,
                           note=message[:200], counts=counts)


def run(python, jobs=3, out=sys.stdout, keep=False):
    ws = rlib.Workspace(python=python, keep=keep)
    world = World(ws)
    results = []
    try:
        modules = sorted(set(['kata_metrics', 'kata_iptables', 'kata_sandbox_info', 'kata_direct_volume',
                              'kata_exec_cmd', 'kata_factory', 'kata_check']))
        startup = measure_startup(ws, modules)
        out.write('peers: module start-up (median of 3): %s\n' % ', '.join(
            '%s %.2f s' % (m, startup[m]) for m in modules))
        cases = build_cases(world, FACTORY_CONFIG)
        out.write('peers: %d cases\n' % len(cases))
        out.flush()
        prepared = []
        for case in cases:
            case.args = case.setup()
            prepared.append(case)
        lock = threading.Lock()
        queue = list(prepared)
        overruns = []

        def worker():
            while True:
                with lock:
                    if not queue:
                        return
                    case = queue.pop(0)
                outcome = rlib.run_module(ws, case.module, case.args, limit=120)
                allowance = max(1.0, 2 * startup[case.module])
                bound = case.steps * case.timeout + 1.0 + allowance
                ids = [v for k, v in sorted(case.args.items()) if k in (
                    'sandbox_root', 'release_url', 'config') and isinstance(v, str)]
                ids += ['shim-monitor.sock', 'debug console', 'VM cache', 'release', World.SANDBOX]
                result = judge(case, outcome, bound, ids)
                with lock:
                    results.append(result)
                    overruns.append((outcome.elapsed - case.steps * case.timeout - startup[case.module], case.title))
                    if not result.passed:
                        out.write('  FAIL %s: %s\n' % (result.name, '; '.join(result.problems)[:500]))
                        out.flush()

        threads = [threading.Thread(target=worker) for dummy in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        worst = max(overruns) if overruns else (0.0, '-')
        out.write('peers: largest overrun beyond the waiting steps and the start-up time: %.2f s (%s)\n' % worst)
        return results
    finally:
        world.close()
        shutil.rmtree(world.root, ignore_errors=True)
        ws.close()
