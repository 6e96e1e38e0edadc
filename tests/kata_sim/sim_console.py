# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The agent's debug console behind a hybrid-vsock socket.

What kata does (kata-containers 3.0.0): the client side is ``HybridVSockDialer`` in
``src/runtime/virtcontainers/pkg/agent/protocols/client/client.go``, the guest side ``debug_console_handler`` in
``src/agent/src/console.rs`` (docs/kata_behaviour.md, Debug console).

For each Firecracker or Cloud Hypervisor sandbox, a unix socket at the path of the sandbox's agent URL
(``<root>/run/vc/firecracker/<id>/root/kata.hvsock``, ``<root>/run/vc/vm/<id>/clh.sock``) speaks the hypervisor's
host side: the client writes ``CONNECT <port>\\n``; when ``<port>`` is the debug console's vsock port (1026) the
answer is ``OK <host port>\\n`` and the connection becomes the console; any other port has no listener in the guest,
so the hypervisor closes the connection without a word, as Firecracker does when the guest resets the connection.

Each console connection then gets what the Rust agent (3.0.0 ``console.rs``) gives it: a new pseudo-terminal and a
forked child that calls ``setsid()``, puts the pty slave on fds 0, 1 and 2, makes it its controlling terminal
(``TIOCSCTTY``) and execs the shell with an **empty argv** (Linux >= 5.18 turns that into ``argv[0] = ""``). The
parent pumps bytes between the socket and the pty master; when the guest side ends (the shell and every process
holding the slave are gone) the socket is closed; when the client closes the socket, the master is closed (the
shell gets SIGHUP) and the shell's process group is killed after a short grace, as agents from 3.9.0 do.

Settings (``kata_sim.py start --opt KEY=VALUE``, repeatable): ``console.shell=NAME`` and ``console.mode=MODE`` for
every sandbox, ``console.shell.<ID>=NAME`` and ``console.mode.<ID>=MODE`` for one, ``console.port=N`` for the guest's
``agent.debug_console_vport`` (default 1026). At runtime: ``kata_sim.py call --root R '{"command": "console",
"sandbox": ID|"all", "shell": NAME, "mode": MODE, "kill": true}'`` (``kill`` SIGKILLs the shells of the open sessions).

Shells: ``bash`` (/bin/bash, the agent's first choice), ``sh`` (/bin/sh, dash on Debian),
``dash``, ``busybox`` (busybox exec'd with an empty argv, exactly as the agent would: it prints
``applet not found`` and exits, so the console closes at once; this is what kata does on an image whose shells are
busybox links) and ``ash`` (busybox's ash with ``argv[0] = "sh"``, a deliberate difference that gives a POSIX shell
with its own line editor to test clients against). Modes: ``ok``,
``failure`` (answers ``FAILURE\\n`` to the handshake), ``no-reply`` (reads the handshake and never answers),
``close`` (closes the connection after reading the handshake) and ``off`` (no socket at all).

Deliberate differences, to keep the host clean: the shell runs with ``HOME`` and the working directory set to
``<state dir>/guest/<id>/console`` (the agent's are ``/``) and ``TMPDIR`` set to a directory below it; the
environment is otherwise the agent's (``TERM=linux``, a plain ``PATH``). Sessions are logged, one JSON line each,
to ``<state dir>/console.log``.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import socket
import termios
import threading
import time

from sim_core import SimError, default_signals

DEBUG_CONSOLE_PORT = 1026
SHELLS = ('bash', 'sh', 'dash', 'ash', 'busybox')
CONSOLE_MODES = ('ok', 'failure', 'no-reply', 'close', 'off')
FIRST_HOST_PORT = 1 << 30  # Firecracker allocates host-side ports in [2^30, 2^31)
HANDSHAKE_LIMIT = 64
HANDSHAKE_TIMEOUT = 10.0
HANGUP_GRACE = 1.0
PUMP_CHUNK = 65536
PUMP_BACKLOG = 1 << 20
GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.execve.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)]


def shell_command(name):
    """``(path, argv0 or None)`` for a shell name; None as argv0 means the agent's empty argv."""
    if name == 'bash':
        return '/bin/bash', None
    if name == 'sh':
        return '/bin/sh', None
    if name == 'dash':
        return shutil.which('dash') or '/bin/dash', None
    busybox = shutil.which('busybox') or '/bin/busybox'
    if name == 'ash':
        return busybox, 'sh'
    if name == 'busybox':
        return busybox, None
    raise SimError('unknown shell %r (known: %s)' % (name, ', '.join(SHELLS)))


def _c_array(items):
    array = (ctypes.c_char_p * (len(items) + 1))()
    for index, item in enumerate(items):
        array[index] = item
    array[len(items)] = None
    return array


def spawn_shell(path, argv0, env, cwd):
    """Fork a shell on a new pty as the agent does; returns ``(pid, master fd)``."""
    argv = _c_array([argv0.encode()] if argv0 else [])
    envp = _c_array([('%s=%s' % item).encode() for item in sorted(env.items())])
    c_path = path.encode()
    master, slave = pty.openpty()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only lives until execve
        try:
            os.close(master)
            default_signals()
            os.setsid()
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            os.closerange(3, 65536)
            os.chdir(cwd)
            _LIBC.execve(c_path, argv, envp)
            os.write(2, b'kata-sim: cannot execute %s\n' % c_path)
        finally:
            os._exit(127)
    os.close(slave)
    return pid, master


class _Session(object):
    """One accepted console connection: the handshake, then a shell pumped to the socket."""

    def __init__(self, console, conn):
        self.console = console
        self.conn = conn
        self.pid = None
        self.result = None

    def _log(self, **entry):
        self.console.service.log(dict(entry, sandbox=self.console.sandbox.id))

    def _read_handshake(self):
        self.conn.settimeout(HANDSHAKE_TIMEOUT)
        line = b''
        while not line.endswith(b'\n') and len(line) < HANDSHAKE_LIMIT:
            try:
                piece = self.conn.recv(1)
            except (socket.timeout, OSError):
                return None
            if not piece:
                return None
            line += piece
        return line

    def run(self):
        try:
            self._run()
        except OSError as exc:
            self._log(event='error', error=str(exc))
        finally:
            try:
                self.conn.close()
            except OSError:
                pass

    def _run(self):
        console = self.console
        line = self._read_handshake()
        if line is None or not line.endswith(b'\n'):
            self._log(event='handshake', request=_text(line), answer=None, result='no CONNECT line')
            return
        words = line[:-1].split(b' ')
        port = None
        if len(words) == 2 and words[0] == b'CONNECT' and words[1].isdigit() and len(words[1]) <= 10:
            port = int(words[1])
        mode = console.mode
        if mode == 'close':
            self._log(event='handshake', request=_text(line), answer=None, result='closed (fault)')
            return
        if mode == 'no-reply':
            self._log(event='handshake', request=_text(line), answer=None, result='no reply (fault)')
            self._wait_for_close()
            return
        if mode == 'failure':
            self.conn.sendall(b'FAILURE\n')
            self._log(event='handshake', request=_text(line), answer='FAILURE', result='refused (fault)')
            return
        if port != console.port:
            # Nothing listens on that vsock port in the guest: the guest resets, the hypervisor hangs up.
            self._log(event='handshake', request=_text(line), answer=None, result='no listener on that port')
            return
        answer = 'OK %d\n' % console.service.next_host_port()
        self.conn.sendall(answer.encode('ascii'))
        self._log(event='handshake', request=_text(line), answer=answer.strip(), result='connected')
        self._pump()

    def _wait_for_close(self):
        self.conn.settimeout(0.5)
        while not self.console.service.stopping:
            try:
                if not self.conn.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _pump(self):
        console = self.console
        path, argv0 = console.shell_path, console.shell_argv0
        self.pid, master = spawn_shell(path, argv0, console.env(), console.home)
        console.service.add_pid(self.pid, console.sandbox.id)
        started = time.time()
        self._log(event='session', pid=self.pid, shell=console.shell, state='started')
        self.conn.setblocking(False)
        os.set_blocking(master, False)
        to_master = bytearray()
        to_conn = bytearray()
        conn_open = master_open = True
        try:
            while not console.service.stopping:
                if not master_open and not to_conn:
                    break  # the guest side ended and everything it wrote was delivered
                if not conn_open:
                    break
                rlist, wlist = [], []
                if conn_open and len(to_master) < PUMP_BACKLOG:
                    rlist.append(self.conn)
                if master_open and len(to_conn) < PUMP_BACKLOG:
                    rlist.append(master)
                if to_master and master_open:
                    wlist.append(master)
                if to_conn:
                    wlist.append(self.conn)
                readable, writable, _x = select.select(rlist, wlist, [], 0.5)
                if self.conn in readable:
                    try:
                        data = self.conn.recv(PUMP_CHUNK)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except OSError:
                        data = b''
                    if data == b'':
                        conn_open = False
                    elif data:
                        to_master += data
                if master in readable:
                    try:
                        data = os.read(master, PUMP_CHUNK)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except OSError:
                        data = b''  # EIO: no process has the slave open any more
                    if data == b'':
                        master_open = False
                    elif data:
                        to_conn += data
                if master in writable and to_master:
                    try:
                        sent = os.write(master, to_master)
                        del to_master[:sent]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        master_open = False
                if self.conn in writable and to_conn:
                    try:
                        sent = self.conn.send(to_conn)
                        del to_conn[:sent]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        conn_open = False
        finally:
            os.close(master)  # the shell's session gets SIGHUP if it is still there
            status = self._reap()
            console.service.remove_pid(self.pid)
            self._log(event='session', pid=self.pid, shell=console.shell, state='ended', status=status,
                      seconds=round(time.time() - started, 3), client_closed=not conn_open)

    def _reap(self):
        deadline = time.time() + HANGUP_GRACE
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid:
                if os.WIFSIGNALED(status):
                    return 'signal %d' % os.WTERMSIG(status)
                return 'exit %d' % os.WEXITSTATUS(status)
            if time.time() > deadline:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                deadline = time.time() + 5
            time.sleep(0.02)


def _text(data):
    return None if data is None else data.decode('latin-1')


class _Console(object):
    """The hybrid-vsock socket of one sandbox."""

    def __init__(self, service, sandbox, shell, mode):
        self.service = service
        self.sandbox = sandbox
        self.shell = shell
        self.mode = mode
        self.port = service.port
        self.shell_path, self.shell_argv0 = shell_command(shell)
        self.path = sandbox.hvsock_path
        self.home = os.path.join(service.sim.guest_root, sandbox.id, 'console')
        self.tmp = os.path.join(self.home, 'tmp')
        self.listener = None
        self.thread = None

    def env(self):
        return {'HOME': self.home, 'TERM': 'linux', 'PATH': GUEST_PATH, 'TMPDIR': self.tmp}

    def start(self):
        sim = self.service.sim
        if not os.path.exists(self.shell_path):
            raise SimError('sandbox %s: shell %s needs %s, which is not installed'
                           % (self.sandbox.id, self.shell, self.shell_path))
        sim.make_dirs(self.tmp)
        sim.make_dirs(os.path.dirname(self.path))
        if os.path.lexists(self.path):
            os.unlink(self.path)
        sim.register('socket', self.path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(old_umask)
        listener.listen(64)
        listener.settimeout(0.2)
        self.listener = listener
        self.thread = threading.Thread(target=self._accept, name='console-%s' % self.sandbox.id, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.service.stopping:
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            session = _Session(self, conn)
            threading.Thread(target=session.run, name='console-session', daemon=True).start()

    def stop(self):
        if self.listener is not None:
            self.listener.close()
        if self.thread is not None:
            self.thread.join(2)

    def describe(self):
        return {'socket': self.path, 'shell': self.shell, 'shell_path': self.shell_path, 'mode': self.mode,
                'port': self.port}


class ConsoleService(object):
    """The debug consoles of all hybrid-vsock sandboxes of a simulator (a kata_sim service, see sim_core)."""

    def __init__(self, sim):
        self.sim = sim
        options = dict(sim.config.get('options') or {})
        self.stopping = False
        self.consoles = {}
        self.lock = threading.Lock()
        self.pids = {}
        self._port = FIRST_HOST_PORT
        self.log_path = os.path.join(sim.state_dir, 'console.log')
        try:
            self.port = int(options.get('console.port', DEBUG_CONSOLE_PORT))
        except ValueError:
            self.port = -1
        if not 0 < self.port <= 0xFFFFFFFF:
            raise SimError('--opt console.port=%s: expected a vsock port (1 to 4294967295)' % options['console.port'])
        ids = [sb.id for sb in sim.sandboxes]
        self.settings = dict((sandbox_id, {}) for sandbox_id in ids)
        for key, value in sorted(options.items()):
            if not key.startswith('console.') or key == 'console.port':
                continue
            what, _dot, sandbox_id = key[len('console.'):].partition('.')
            if what not in ('shell', 'mode'):
                raise SimError('--opt %s: unknown console setting (known: console.port, console.shell[.ID], '
                               'console.mode[.ID])' % key)
            if sandbox_id and sandbox_id not in ids:
                raise SimError('--opt %s: no sandbox %r (sandboxes: %s)' % (key, sandbox_id, ', '.join(ids)))
            self._check(what, value, '--opt %s' % key)
            for target in [sandbox_id] if sandbox_id else ids:
                if sandbox_id or what not in self.settings[target]:
                    self.settings[target][what] = value

    @staticmethod
    def _check(what, value, where):
        choices = SHELLS if what == 'shell' else CONSOLE_MODES
        if value not in choices:
            raise SimError('%s: unknown %s %r (known: %s)' % (where, what, value, ', '.join(choices)))

    def next_host_port(self):
        with self.lock:
            port = self._port
            self._port = FIRST_HOST_PORT + (self._port + 1 - FIRST_HOST_PORT) % FIRST_HOST_PORT
            return port

    def add_pid(self, pid, sandbox_id):
        with self.lock:
            self.pids[pid] = sandbox_id

    def remove_pid(self, pid):
        with self.lock:
            self.pids.pop(pid, None)

    def log(self, entry):
        record = {'time': time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}
        record.update(entry)
        line = json.dumps(record, sort_keys=True) + '\n'
        with self.lock:
            try:
                with open(self.log_path, 'a', encoding='utf-8') as f:
                    f.write(line)
            except OSError:
                pass

    def start(self):
        self.sim.register('file', self.log_path)
        for sb in self.sim.sandboxes:
            self._open(sb)

    def _open(self, sb):
        settings = self.settings[sb.id]
        mode = settings.get('mode', 'ok')
        if sb.hvsock_path is None or mode == 'off':
            return None  # qemu sandboxes use vsock, which has no loopback transport here
        console = _Console(self, sb, settings.get('shell', 'bash'), mode)
        console.start()
        self.consoles[sb.id] = console
        return console

    def control(self, request):
        """``{"command": "console", "sandbox": ID|"all", "shell": NAME, "mode": MODE, "kill": true}``: change the
        console of one or all sandboxes (new connections use the new shell and mode; ``kill`` SIGKILLs the shells of
        the open sessions, as if they had died). Returns the consoles' descriptions."""
        if request.get('command') != 'console':
            return NotImplemented
        target = request.get('sandbox')
        sandboxes = self.sim.sandboxes if target in (None, 'all') else [self.sim.sandbox(target)]
        for what in ('shell', 'mode'):
            if request.get(what) is not None:
                self._check(what, request[what], 'console %s' % what)
        for sb in sandboxes:
            for what in ('shell', 'mode'):
                if request.get(what) is not None:
                    self.settings[sb.id][what] = request[what]
            console = self.consoles.pop(sb.id, None)
            if console is not None:
                if request.get('kill'):
                    self.kill_sessions(sb.id)
                if self.settings[sb.id].get('mode', 'ok') == 'off':
                    console.stop()
                    if os.path.lexists(console.path):
                        os.unlink(console.path)
                    continue
                console.shell = self.settings[sb.id].get('shell', 'bash')
                console.shell_path, console.shell_argv0 = shell_command(console.shell)
                console.mode = self.settings[sb.id].get('mode', 'ok')
                self.consoles[sb.id] = console
            else:
                self._open(sb)
        self.sim.save_state()
        return self.describe()

    def kill_sessions(self, sandbox_id):
        with self.lock:
            pids = [pid for pid, owner in self.pids.items() if owner == sandbox_id]
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        for console in self.consoles.values():
            console.stop()
        with self.lock:
            pids = list(self.pids)
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError as exc:
                if exc.errno != errno.ESRCH:
                    raise

    def describe(self):
        with self.lock:
            sessions = dict(self.pids)
        consoles = {}
        for sandbox_id, console in sorted(self.consoles.items()):
            consoles[sandbox_id] = dict(console.describe(), sessions=sorted(p for p, o in sessions.items() if o == sandbox_id))
        return {'consoles': consoles, 'log': self.log_path, 'port': self.port}


def create(sim):
    """The kata_sim service entry point (sim_core._start_services)."""
    return ConsoleService(sim)
