# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The _console package: run one command through a Kata agent's debug console and get its exact output and exit
status.

Its files, one job each: ``_address`` (the agent URL), ``_dial`` (reaching the console), ``_script`` (the lines typed
into the guest), ``_session`` (one session and its frame), ``_exec`` (kata_exec_cmd's driver). This file only
re-exports their names, so that ``module_utils._console`` keeps the names it always had.

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

Without a writable directory the command still runs, with stderr merged into stdout (and ``stdin`` refused).
"""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import (  # noqa: F401 (re-exported)
    DEFAULT_DEBUG_PORT,
    MAX_VSOCK_PORT,
    AgentAddress,
    parse_agent_url,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._dial import (  # noqa: F401 (re-exported)
    DEFAULT_CONNECT_TIMEOUT,
    HANDSHAKE_LINE_LIMIT,
    dial_console,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._exec import (  # noqa: F401 (re-exported)
    command_text,
    exec_cmd,
    exec_cmd_module,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._script import (  # noqa: F401 (re-exported)
    ENCODERS,
    EXEC_LINE,
    TEMP_DIRS,
    job_script,
    start_lines,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._console._session import (  # noqa: F401 (re-exported)
    INTERRUPT_GRACE,
    NOISE_LIMIT,
    QUIT_GRACE,
    ConsoleSession,
    ExecResult,
    excerpt,
)
