# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: kata_console
short_description: Run commands in Kata Containers guest VMs through the agent's debug console
version_added: 0.2.0
description:
  - Reaches the guest VM of a Kata sandbox through the agent's debug console, the way
    M(katacontainers.kata.kata_exec_cmd) does, and runs Ansible's commands there with their exact standard output,
    standard error and exit status. Files are copied in and out byte for byte (binary, large files).
  - The console is reached from the sandbox's node. A small relay (Python, standard library only, the collection's
    console code sent with it on its standard input) runs there for the length of a task, started over SSH to the
    node (one SSH master per node is kept and reused, C(ControlPersist)), or as a local process when the node is the
    controller. It asks the shim for the agent's address, dials the console through the hypervisor's socket and talks
    to the guest shell. Nothing is written on the node and nothing listens on the node's network.
  - The hosts and their variables usually come from the inventory plugin P(katacontainers.kata.kata_sandboxes#inventory),
    which sets every option below from what the node reported.
  - A sandbox that cannot be reached (its shim socket is gone, its shim does not answer, its debug console is disabled
    or does not answer, the node cannot be reached) makes the host UNREACHABLE with the reason.
  - "Guests without Python can run M(ansible.builtin.raw) and M(ansible.builtin.script) (which copies the script with
    this plugin and runs it with the guest's shell). Every other module (M(ansible.builtin.command),
    M(ansible.builtin.copy), M(ansible.builtin.fetch), M(ansible.builtin.setup), ...) is Python run in the guest, so it
    needs Python there."
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - ansible.builtin.connection_pipelining
options:
  sandbox_id:
    description: The sandbox whose guest the commands run in.
    type: str
    required: true
    vars:
      - name: kata_sandbox_id
  sandbox_root:
    description: Where the node keeps the Go runtime's sandboxes (their shim sockets).
    type: str
    default: /run/vc/sbs
    vars:
      - name: kata_sandbox_root
  rs_sandbox_root:
    description: Where the node keeps runtime-rs's sandboxes.
    type: str
    default: /run/kata
    vars:
      - name: kata_rs_sandbox_root
  debug_port:
    description: The vsock port of the agent's debug console (C(agent.debug_console_vport)).
    type: int
    default: 1026
    vars:
      - name: kata_debug_port
  connect_timeout:
    description:
      - Seconds allowed for each step of reaching the console on the node (the shim's answer, the connection and its
        handshake, the shell's first answer), as in M(katacontainers.kata.kata_exec_cmd).
    type: float
    default: 3
    vars:
      - name: kata_console_connect_timeout
  command_timeout:
    description:
      - Seconds a command may run in the guest; V(0) means no limit. At the limit Ctrl-C, then Ctrl-\ are typed
        and the task fails with what the command wrote until then.
    type: float
    default: 0
    vars:
      - name: kata_console_command_timeout
  node_connection:
    description:
      - How the node is reached. V(ssh) runs the relay over SSH to O(node_host); V(local) runs it on the controller,
        for sandboxes of the controller itself.
    type: str
    choices: [ssh, local]
    default: ssh
    vars:
      - name: kata_node_connection
  node_host:
    description: The address of the node, as its C(ansible_host).
    type: str
    vars:
      - name: kata_node_host
  node_port:
    description: The SSH port of the node.
    type: int
    vars:
      - name: kata_node_port
  node_user:
    description: The SSH user on the node.
    type: str
    vars:
      - name: kata_node_user
  node_private_key_file:
    description: The SSH private key for the node.
    type: str
    vars:
      - name: kata_node_private_key_file
  node_ssh_args:
    description: More arguments for C(ssh) to the node, as the node's C(ansible_ssh_common_args) and C(ansible_ssh_extra_args).
    type: str
    default: ''
    vars:
      - name: kata_node_ssh_args
  node_ssh_executable:
    description: The C(ssh) program.
    type: str
    default: ssh
    vars:
      - name: kata_node_ssh_executable
  node_control_path_dir:
    description:
      - The directory of the SSH master sockets (C(ControlPath)), one per node.
    type: str
    default: ~/.ansible/cp
    vars:
      - name: kata_node_control_path_dir
  node_control_persist:
    description: Seconds an idle SSH master to a node stays open (C(ControlPersist)).
    type: int
    default: 60
    vars:
      - name: kata_node_control_persist
  node_python:
    description: The Python interpreter of the node that runs the relay (3.9 or later).
    type: str
    default: /usr/bin/python3
    vars:
      - name: kata_node_python
  node_become:
    description:
      - Run the relay as root with C(sudo -n) on the node. The shims' sockets are root's, so a node user that is not
        root needs it (without a password prompt).
    type: bool
    default: false
    vars:
      - name: kata_node_become
  node_timeout:
    description: Seconds allowed to connect to the node over SSH (C(ConnectTimeout)).
    type: int
    default: 10
    vars:
      - name: kata_node_timeout
notes:
  - The debug console must be enabled in the Kata configuration (C(debug_console_enabled = true) in the C([agent.kata])
    section) before the sandbox starts, and the guest needs C(base64) or C(od) (coreutils and busybox have both);
    see M(katacontainers.kata.kata_exec_cmd).
  - The console's shell runs as root in the guest. Do not use C(become) with this connection; C(sudo) is rarely in a
    guest.
  - Each command is its own console session, with its own shell. Standard input (pipelining, O(pipelining)) and files
    copied in pass through a private directory of the guest (under C($TMPDIR), C(/run), C(/tmp), C(/dev/shm) or
    C(/var/tmp)) that is removed before the command starts; a guest without a writable one can still run commands
    (stderr then comes merged into stdout) but cannot receive files or standard input.
  - "What does not work through a debug console: a terminal (C(has_tty) is false: no interactive prompts, no
    C(sudo) password), C(async) tasks that outlive the session (the agent kills the session's processes when it ends
    from kata-containers 3.9), and commands that change the terminal or write to C(/dev/tty) (the frame would be
    damaged). Files are copied at the speed of the console terminal, a few MB/s."
  - The controller's user needs the node's SSH access; the relay needs Python 3.9 or later on the node.
seealso:
  - plugin: katacontainers.kata.kata_sandboxes
    plugin_type: inventory
  - module: katacontainers.kata.kata_exec_cmd
"""

EXAMPLES = r"""
# Normally the inventory plugin sets everything (see katacontainers.kata.kata_sandboxes). By hand, in an INI inventory:
# [sandboxes]
# web ansible_connection=katacontainers.kata.kata_console kata_sandbox_id=3f1d0f4e9c2b kata_node_host=10.0.0.5 kata_node_user=root
#
#   ansible sandboxes -i hosts.ini -m raw -a 'cat /proc/cmdline'
#   ansible sandboxes -i hosts.ini -m script -a './collect.sh --since 1h'
"""

import os
import shlex
import subprocess
import threading

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.katacontainers.kata.plugins.module_utils._console_relay import (
    BOOTSTRAP,
    ProtocolError,
    frame,
    read_frame,
)

display = Display()

RELAY_MODULE = 'ansible_collections.katacontainers.kata.plugins.module_utils._console_relay'
_COLLECTION_UTILS = 'ansible_collections.katacontainers.kata.plugins.module_utils.'
_PAYLOAD = {}
# What ssh says when the master connection's server refuses one more session (sshd's MaxSessions).
MUX_REFUSED = ('Session open refused by peer', 'mux_client_request_session')
_PAYLOAD_LOCK = threading.Lock()


_IMPORT_RE = None


def _imports(source):
    """The collection module_utils that ``source`` names (in imports anywhere, also inside functions). Modules
    imported from a package (``from ..._console import _dial``) come with the package, which brings all its parts."""
    global _IMPORT_RE  # pylint: disable=global-statement
    if _IMPORT_RE is None:
        import re

        _IMPORT_RE = re.compile(r'\bansible_collections\.katacontainers\.kata\.plugins\.module_utils\.[\w.]*\w')
    return set(_IMPORT_RE.findall(source))


def relay_payload():
    """The length line and compressed payload the relay's bootstrap reads: the relay and every collection
    module_utils it needs, found by following their imports (computed once per process)."""
    with _PAYLOAD_LOCK:
        if 'data' not in _PAYLOAD:
            import importlib.util
            import json
            import pkgutil
            import zlib

            modules = {}
            pending = [RELAY_MODULE, _COLLECTION_UTILS + '_console', _COLLECTION_UTILS + '_sandbox']
            while pending:
                name = pending.pop()
                if name in modules:
                    continue
                try:
                    spec = importlib.util.find_spec(name)
                except (ImportError, ValueError, AttributeError):
                    spec = None
                if spec is None or spec.loader is None:
                    continue  # a name imported from a module ("from x import name"), not a module itself
                locations = spec.submodule_search_locations
                source = spec.loader.get_source(name) or ''
                if isinstance(source, bytes):  # Ansible's collection loader gives bytes
                    source = source.decode('utf-8')
                modules[name] = [locations is not None, source]
                pending.extend(_imports(source))
                if locations is not None:
                    # a module made a package keeps its parts: all of them go
                    pending.extend(name + '.' + info.name for info in pkgutil.iter_modules(list(locations)))
            for name in list(modules):
                parts = name.split('.')
                for index in range(1, len(parts)):
                    modules.setdefault('.'.join(parts[:index]), [True, ''])
            data = zlib.compress(json.dumps({'modules': modules, 'main': RELAY_MODULE}).encode('utf-8'), 6)
            _PAYLOAD['data'] = b'%d\n' % len(data) + data
        return _PAYLOAD['data']


class Connection(ConnectionBase):
    """A Kata guest, through the debug console, relayed by the node."""

    transport = 'katacontainers.kata.kata_console'
    has_pipelining = True
    has_tty = False
    allow_executable = True

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._process = None
        self._stderr_chunks = []
        self._stderr_thread = None
        self._no_mux = False
        self._fresh = False  # a relay that has not answered yet

    # the relay process

    def _sandbox(self):
        return {
            'id': self.get_option('sandbox_id'),
            'sandbox_root': self.get_option('sandbox_root'),
            'rs_sandbox_root': self.get_option('rs_sandbox_root'),
            'debug_port': self.get_option('debug_port'),
            'connect_timeout': self.get_option('connect_timeout'),
        }

    def relay_argv(self):
        """The command that starts the relay: locally, or over SSH to the node."""
        python = self.get_option('node_python') or '/usr/bin/python3'
        command = [python, '-c', BOOTSTRAP]
        if self.get_option('node_become'):
            command = ['sudo', '-n', '--'] + command
        if self.get_option('node_connection') == 'local':
            return command
        host = self.get_option('node_host')
        if not host:
            raise AnsibleConnectionFailure('sandbox %s: kata_node_host is not set, so its node cannot be reached (refresh '
                                           'the inventory with the playbook katacontainers.kata.sandbox_inventory)'
                                           % self.get_option('sandbox_id'))
        control_dir = os.path.expanduser(self.get_option('node_control_path_dir') or '~/.ansible/cp')
        if not os.path.isdir(control_dir):
            os.makedirs(control_dir, mode=0o700, exist_ok=True)
        argv = [self.get_option('node_ssh_executable') or 'ssh', '-T', '-o', 'BatchMode=yes']
        if self._no_mux:
            argv += ['-o', 'ControlMaster=no', '-o', 'ControlPath=none']
        else:
            argv += ['-o', 'ControlMaster=auto', '-o', 'ControlPersist=%ds' % self.get_option('node_control_persist'),
                     '-o', 'ControlPath=%s' % os.path.join(control_dir, 'kata-%C')]
        argv += ['-o', 'ConnectTimeout=%d' % self.get_option('node_timeout')]
        if self.get_option('node_port'):
            argv += ['-p', str(self.get_option('node_port'))]
        if self.get_option('node_user'):
            argv += ['-l', self.get_option('node_user')]
        if self.get_option('node_private_key_file'):
            argv += ['-i', os.path.expanduser(self.get_option('node_private_key_file'))]
        argv += self._split_ssh_args(self.get_option('node_ssh_args') or '')
        argv += ['--', host, ' '.join(shlex.quote(word) for word in command)]
        return argv

    def _where(self):
        if self.get_option('node_connection') == 'local':
            return 'sandbox %s on this controller' % self.get_option('sandbox_id')
        return 'sandbox %s on node %s' % (self.get_option('sandbox_id'), self.get_option('node_host'))

    def _connect(self):
        if self._process is not None:
            return self
        argv = self.relay_argv()
        display.vvv('KATA_CONSOLE: starting the relay for %s: %s' % (self._where(), ' '.join(argv[:-1])),
                    host=self._play_context.remote_addr)
        try:
            self._process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, close_fds=True)
        except OSError as exc:
            raise AnsibleConnectionFailure('%s: cannot start %s: %s'
                                           % (self._where(), argv[0], exc.strerror or exc)) from exc
        self._stderr_chunks = []
        self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(self._process.stderr,))
        self._stderr_thread.daemon = True
        self._stderr_thread.start()
        self._send(relay_payload())  # a relay that is gone already is found out by the first request
        self._fresh = True
        self._connected = True
        return self

    def _drain_stderr(self, stream):
        while True:
            chunk = stream.read(4096)
            if not chunk:
                return
            self._stderr_chunks.append(chunk)

    def _relay_stderr(self):
        if self._stderr_thread is not None:
            self._stderr_thread.join(2)
        text = to_text(b''.join(self._stderr_chunks), errors='surrogate_or_replace').strip()
        return text[-1500:]

    def _stop_relay(self):
        """End the relay process; ``(exit status, what it said on stderr)``."""
        process = self._process
        self._process = None
        self._connected = False
        rc = None
        if process is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
            try:
                rc = process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                rc = process.wait()
        return rc, self._relay_stderr()

    def _lost(self, what):
        """The relay is gone: AnsibleConnectionFailure with what the node's side said."""
        rc, said = self._stop_relay()
        how = 'ssh to the node' if self.get_option('node_connection') != 'local' else 'the local relay'
        raise AnsibleConnectionFailure('%s: %s (%s exited with status %s)%s'
                                       % (self._where(), what, how, rc, ': %s' % said if said else ''))

    def _send(self, data):
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def _exchange(self, data):
        """Send a request frame; the answer frame, or None when the relay is gone (see _lost)."""
        if not self._send(data):
            return None
        try:
            return read_frame(self._process.stdout)
        except ProtocolError as exc:
            self._lost('the relay answered something else than a frame: %s' % exc)

    def request(self, header, data=b''):
        """Send one request to the relay; its answer ``(header, data)``; AnsibleConnectionFailure when the sandbox
        cannot be reached, AnsibleError when the request failed there."""
        request = frame(dict(header, sandbox=self._sandbox()), data)
        self._connect()
        first = self._fresh
        answer = self._exchange(request)
        self._fresh = False
        if answer is None and first and not self._no_mux and self.get_option('node_connection') != 'local':
            rc, said = self._stop_relay()
            if any(marker in said for marker in MUX_REFUSED):
                # The node's sshd refuses more sessions on the shared master (MaxSessions, 10 by default): this
                # relay gets a connection of its own. Nothing ran: the relay never started.
                display.vvv('KATA_CONSOLE: %s; connecting without the shared SSH master' % said,
                            host=self._play_context.remote_addr)
                self._no_mux = True
                self._connect()
                answer = self._exchange(request)
            else:
                how = 'ssh to the node'
                raise AnsibleConnectionFailure('%s: the relay ended without answering (%s exited with status %s)%s'
                                               % (self._where(), how, rc, ': %s' % said if said else ''))
        if answer is None:
            self._lost('the relay ended without answering')
        header, data = answer
        status = header.get('status')
        if status == 'ok':
            return header, data
        msg = header.get('msg') or 'no reason given'
        if status == 'unreachable':
            raise AnsibleConnectionFailure(msg)
        if status == 'error' and header.get('traceback'):
            display.vvv('KATA_CONSOLE: the relay failed:\n%s' % header['traceback'])
        raise AnsibleError('%s: %s' % (self._where(), msg))

    # Ansible's connection interface

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv('KATA_CONSOLE: EXEC %s' % cmd, host=self._play_context.remote_addr)
        command = to_bytes(cmd, errors='surrogate_or_strict')
        stdin = to_bytes(in_data or b'', errors='surrogate_or_strict')
        timeout = self.get_option('command_timeout') or 0
        header, data = self.request({'op': 'exec', 'command_length': len(command), 'timeout': timeout}, command + stdin)
        length = header.get('stdout_length', len(data))
        stdout, stderr = data[:length], data[length:]
        if header.get('timed_out'):
            raise AnsibleError('%s: the command did not finish within %g s (kata_console_command_timeout); it was '
                               'interrupted (%s). Its output so far: %s'
                               % (self._where(), timeout, header.get('interrupted'),
                                  to_text(stdout[-1000:] + stderr[-1000:], errors='surrogate_or_replace')))
        rc = header.get('rc')
        if rc is None:
            raise AnsibleConnectionFailure('%s: the command ended without an exit status' % self._where())
        return rc, stdout, stderr

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv('KATA_CONSOLE: PUT %s TO %s' % (in_path, out_path), host=self._play_context.remote_addr)
        path = to_bytes(in_path, errors='surrogate_or_strict')
        if not os.path.isfile(path):
            raise AnsibleFileNotFound('file or module does not exist: %s' % to_text(in_path))
        with open(path, 'rb') as f:
            content = f.read()
        self.request({'op': 'put', 'path': to_text(out_path, errors='surrogate_or_strict')}, content)

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv('KATA_CONSOLE: FETCH %s TO %s' % (in_path, out_path), host=self._play_context.remote_addr)
        _header, content = self.request({'op': 'fetch', 'path': to_text(in_path, errors='surrogate_or_strict')})
        path = to_bytes(out_path, errors='surrogate_or_strict')
        directory = os.path.dirname(path) or b'.'
        temporary = os.path.join(directory, b'.%s.kata-fetch-%d' % (os.path.basename(path), os.getpid()))
        try:
            with open(temporary, 'wb') as f:
                f.write(content)
            os.rename(temporary, path)
        except OSError as exc:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise AnsibleError('cannot write %s: %s' % (to_text(out_path), exc.strerror or exc)) from exc

    def reset(self):
        self.close()

    def close(self):
        process = self._process
        self._process = None
        self._connected = False
        if process is None:
            return
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            try:
                stream.close()
            except OSError:
                pass
