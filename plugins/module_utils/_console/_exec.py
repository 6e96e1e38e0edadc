# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_exec_cmd (_console package): the module's options checked, the shim asked for the agent URL, one
console session run, and the module's result.

The _console package: run one command through a Kata agent's debug console and get its exact output and exit
status.

Its files, one job each: ``_address`` (the agent URL), ``_dial`` (reaching the console), ``_script`` (the lines typed
into the guest), ``_session`` (one session and its frame), ``_exec`` (kata_exec_cmd's driver). The package's
``__init__.py`` is empty (ansible-test 2.15 requires it): import from these files.

Reaching the console (kata-containers 3.0.0: ``getConn`` in ``src/runtime/cmd/kata-runtime/kata-exec.go``, and
``HybridVSockDialer`` in ``src/runtime/virtcontainers/pkg/agent/protocols/client/client.go``): the shim's
``/agent-url`` gives ``vsock://<cid>:<port>`` (dial AF_VSOCK to ``<cid>``:debug port) or
``hvsock://<unix socket>:<port>`` (connect the hypervisor's unix socket, write ``CONNECT <debug port>\\n``, expect a
line starting with ``OK``). Like kata, every failed attempt is retried until the connect timeout runs out, and the
error then names the last failure.

What answers (the agent's ``debug_console_handler``, ``src/agent/src/console.rs``) is a bare shell on a new
pseudo-terminal, started with an empty argv, hence interactive: it prints prompts, may run a line editor (bash's
readline, busybox's), echoes, turns ``\\n`` into ``\\r\\n``, and its line discipline gives meaning to control bytes
and caps a line at 4095 bytes. The protocol below depends on none of that:

1. Right after connecting, three short lines of printable ASCII are typed. The first replaces the interactive shell
   by the same binary, non-interactive (``exec /proc/$$/exe`` with stdout and stderr away from the terminal and the
   terminal kept as fd 3; a shell that is not bash and takes ``exec -a`` gets ``argv[0] = "sh"``, which busybox
   needs): no prompt, no line editor, no history expansion, no job control, and the terminal stays in canonical
   mode, so each later line reaches the shell intact. bash unsets ``HISTFILE`` first, so that bash, which saves its
   history when ``exec`` replaces it, saves none; the second line takes that first line off the end of busybox
   ash's history file, which a busybox built to save history appends to as soon as it reads a line. Nothing of the
   session is left in the guest: no history, no file, no variable (every session has its own shell, which exits at
   the end). The third turns echo off (``stty -echo``, when ``stty``
   exists) and prints a sync line: a random per-run key, the guest's encoders (``base64``, ``od``), the shell's
   flags and its path. Nothing else is sent before the sync line is seen, so nothing can be swallowed while the
   shell starts or switches terminal modes.
2. The command (``cmd``, or ``argv`` quoted with ``shlex.quote``) and ``chdir`` are typed single-quoted when they
   are UTF-8 text without control characters (other than newline and tab) in short lines; otherwise they reach
   the guest as ``printf`` octal escapes (``\\101``) decoded by the shell's own ``printf``: every byte value, no tool
   needed. ``stdin`` is sent as base64 in a here-document (or as octal ``printf`` lines when the guest has no
   ``base64``) and decoded to a file. No line sent carries a control byte or comes near the line limit.
3. A private directory (``mkdir`` of a random name, mode 0700, under ``$TMPDIR``, ``/run``, ``/tmp``, ``/dev/shm``
   or ``/var/tmp``) holds the stdin file and the stderr file; both are opened and the directory removed before the
   command starts, so nothing is left behind whatever happens next.
4. The command runs as ``<shell> -c <cmd>`` (a child process, so ``$$``, ``exit`` and signals behave as in
   ``sh -c``) with stdin from the file or ``/dev/null``. Its stdout goes through ``base64`` (or ``od -An -v -tx1``)
   straight to the terminal between a begin line and an end line that carries the exit status; then the stderr file
   is encoded the same way and a last line closes the frame, and the shell exits. Encoded output can contain neither
   the key nor a control byte, so output that contains the marker text, binary bytes, long lines and no final
   newline all come back exact. The status is ``$?`` of ``<shell> -c``: 128 + n for a command killed by signal n.
5. At the command timeout, Ctrl-C is typed (SIGINT to the command; the framing shell and the encoder ignore it and
   finish the frame, so everything the command wrote comes back), then Ctrl-\\ (SIGQUIT), then the connection is
   closed. Every connection has its own shell, so the console stays usable.

Without a writable directory the command still runs, with stderr merged into stdout (and ``stdin`` refused)."""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import (
    DEFAULT_DEBUG_PORT,
    MAX_VSOCK_PORT,
    parse_agent_url,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._dial import DEFAULT_CONNECT_TIMEOUT
from ansible_collections.katacontainers.kata.plugins.module_utils._console._session import open_session
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, PeerError
from ansible_collections.katacontainers.kata.plugins.module_utils._limits import check_timeout


def _text(data):
    return data.decode('utf-8', 'replace')


def _no_nul(value, option):
    if '\0' in value:
        raise ArgumentError('%s: contains a NUL character, which a shell command cannot carry' % option)
    return value


def command_text(params):
    """The command line the guest shell runs: ``cmd`` as given, or ``argv`` quoted word by word."""
    cmd, argv = params.get('cmd'), params.get('argv')
    if cmd is not None and argv is not None:
        raise ArgumentError('cmd and argv are mutually exclusive')
    if argv is not None:
        if not argv:
            raise ArgumentError('argv: the list is empty, expected the program and its arguments')
        import shlex

        words = []
        for index, word in enumerate(argv):
            if not isinstance(word, str):
                raise ArgumentError('argv[%d]: expected a string, got %s' % (index, type(word).__name__))
            words.append(shlex.quote(_no_nul(word, 'argv[%d]' % index)))
        if not argv[0]:
            raise ArgumentError('argv[0]: the program name is empty')
        return ' '.join(words)
    if cmd is None:
        raise ArgumentError('one of cmd or argv is required')
    if not cmd.strip():
        raise ArgumentError('cmd: the command is empty')
    return _no_nul(cmd, 'cmd')


def _validated(params):
    """``(sandbox_id, command, stdin bytes or None, chdir bytes or None, port, timeout, connect_timeout)``."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import validate_sandbox_id

    sandbox_id = validate_sandbox_id(params.get('sandbox_id'))
    command = command_text(params)
    port = params.get('debug_port')
    if port is None:
        port = DEFAULT_DEBUG_PORT
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port <= MAX_VSOCK_PORT:
        raise ArgumentError('debug_port: expected a vsock port from 1 to %d, got %r' % (MAX_VSOCK_PORT, port))
    timeout = check_timeout(params.get('timeout'), 'timeout', allow_zero=True) if params.get('timeout') is not None else 0.0
    if params.get('connect_timeout') is None:
        params = dict(params, connect_timeout=DEFAULT_CONNECT_TIMEOUT)
    connect_timeout = check_timeout(params.get('connect_timeout'), 'connect_timeout')
    stdin = params.get('stdin')
    if stdin:
        if params.get('stdin_add_newline', True):
            stdin += '\n'
        stdin = stdin.encode('utf-8', 'surrogateescape')
    else:
        stdin = None
    chdir = params.get('chdir') or None
    if chdir is not None:
        chdir = _no_nul(chdir, 'chdir').encode('utf-8', 'surrogateescape')
    return sandbox_id, command, stdin, chdir, port, timeout, connect_timeout


def _now():
    import datetime

    return datetime.datetime.now()


def exec_cmd(params, check_mode=False):
    """The result of kata_exec_cmd for its ``params``; KataError on bad input or a broken peer."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import find_shim_socket, shim_client

    sandbox_id, command, stdin, chdir, port, timeout, connect_timeout = _validated(params)
    result = {'changed': True, 'cmd': command}
    if check_mode and not params.get('check_mode_safe'):
        find_shim_socket(sandbox_id, params.get('sandbox_root') or '/run/vc/sbs',
                         params.get('rs_sandbox_root') or '/run/kata', params.get('shim_socket'))
        result.update(changed=False, skipped=True,
                      msg='Command would have run if not in check mode (set check_mode_safe=true for a command '
                          'that changes nothing)')
        return result
    client = shim_client(dict(params, timeout=connect_timeout), sandbox_id, max_body=64 * 1024)
    address = parse_agent_url(client.get('/agent-url'))
    session = open_session(sandbox_id, address, port, connect_timeout)
    start = end = None
    try:
        session.start(connect_timeout)
        start = _now()
        try:
            outcome = session.run(command.encode('utf-8', 'surrogateescape'), stdin=stdin, chdir=chdir, timeout=timeout)
        except PeerError as exc:
            end = _now()
            details = dict(exc.details)
            for key in ('stdout', 'stderr'):
                if isinstance(details.get(key), bytes):
                    details[key] = _text(details[key])
            details.update(cmd=command, start=str(start), end=str(end), delta=str(end - start))
            raise PeerError(exc.msg, **details) from exc
        end = _now()
    finally:
        session.close()
    stdout, stderr = _text(outcome.stdout), _text(outcome.stderr)
    if params.get('strip_empty_ends', True):
        stdout, stderr = stdout.rstrip('\r\n'), stderr.rstrip('\r\n')
    result.update(rc=outcome.rc, stdout=stdout, stderr=stderr, stdout_lines=stdout.splitlines(),
                  stderr_lines=stderr.splitlines(), start=str(start), end=str(end), delta=str(end - start),
                  shell=outcome.shell, stderr_merged=outcome.stderr_merged, timed_out=outcome.timed_out)
    if params.get('binary_output'):
        import base64

        result.update(stdout_b64=base64.b64encode(outcome.stdout).decode('ascii'),
                      stderr_b64=base64.b64encode(outcome.stderr).decode('ascii'))
    if outcome.timed_out:
        steps = {'SIGINT': 'it was interrupted with Ctrl-C (SIGINT)',
                 'SIGQUIT': 'Ctrl-C (SIGINT) did not stop it, Ctrl-\\ (SIGQUIT) was sent',
                 'closed': 'neither Ctrl-C nor Ctrl-\\ stopped it; the connection was closed and it may still run in '
                           'the guest'}
        ending = ('exited with status %d' % outcome.rc if outcome.rc is not None and outcome.complete
                  else 'its output so far is returned')
        result.update(failed=True, msg='the command did not finish within %g s: %s; %s'
                      % (timeout, steps[outcome.interrupted], ending))
    elif outcome.rc != 0:
        result.update(failed=True, msg='non-zero return code')
    return result


def exec_cmd_module(module):
    """The work function for _module.run."""
    pod = None
    if module.params.get('pod') is not None:
        # Imported here: a task that names its sandbox by ID does not pay for the pod lookup.
        from ansible_collections.katacontainers.kata.plugins.module_utils._pods import apply_pod, pod_result

        pod = pod_result(apply_pod(module.params))
    result = exec_cmd(module.params, check_mode=module.check_mode)
    if pod is not None:
        result['pod'] = pod
    return result
