# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_exec_cmd (_console package): the module's options checked, the shim asked for the agent URL, one
console session run, and the module's result."""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import (
    DEFAULT_DEBUG_PORT,
    MAX_VSOCK_PORT,
    parse_agent_url,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._dial import (
    DEFAULT_CONNECT_TIMEOUT,
    dial_console,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._session import ConsoleSession
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
    where = 'the debug console of sandbox %s (%s)' % (sandbox_id, address.describe(port))
    sock, received = dial_console(address, port, connect_timeout)
    session = ConsoleSession(sock, received, where=where)
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
    from ansible_collections.katacontainers.kata.plugins.module_utils._pods import apply_pod, pod_result

    found = apply_pod(module.params)
    result = exec_cmd(module.params, check_mode=module.check_mode)
    if found is not None:
        result['pod'] = pod_result(found)
    return result
