# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Sandbox IDs, shim socket discovery and the options shared by the sandbox-facing modules.

kata-runtime validates a sandbox ID with ``VerifyContainerID`` (kata-containers 3.0.0,
``src/runtime/pkg/katautils/utils.go``) and, from 3.2.0, looks for the shim management socket at
``/run/vc/sbs/<id>/shim-monitor.sock`` (Go runtime) and then at ``/run/kata/<id>/shim-monitor.sock`` (runtime-rs)
(``ClientSocketAddress``, ``src/runtime/pkg/containerd-shim-v2/shim_management.go``). This module does the same, with
two additions: the ID is validated before any path is built from it (so no option value can name a path outside the
roots), and the socket and the sandbox directory holding it are checked with ``lstat``, so a symbolic link or a
non-socket there is refused instead of followed (docs/kata_behaviour.md, Sandbox IDs and sockets).
"""

from __future__ import annotations

import errno
import os
import re
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    ProbeError,
    ShimError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import lstat_or_none
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import socket_problem as _socket_problem
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr

SANDBOX_ID_PATTERN = r'^[a-zA-Z0-9][a-zA-Z0-9_.-]+$'
SANDBOX_ID_MAX_LENGTH = 255
DEFAULT_SANDBOX_ROOT = '/run/vc/sbs'
DEFAULT_RS_SANDBOX_ROOT = '/run/kata'
SHIM_SOCKET_NAME = 'shim-monitor.sock'
DEFAULT_TIMEOUT = 3.0
TRANSPORTS = ('stdlib', 'requests')
DEFAULT_TRANSPORT = 'stdlib'
# The runtime a sandbox's shim belongs to: the Go runtime (containerd-shim-kata-v2 of src/runtime) or runtime-rs.
RUNTIME_GO = 'go'
RUNTIME_RUST = 'rust'
# Where the container engines leave each pod sandbox's OCI bundle (see _pods.py for the upstream sources).
DEFAULT_CONTAINERD_STATE_DIR = '/run/containerd/io.containerd.runtime.v2.task'
DEFAULT_CONTAINERD_NAMESPACE = 'k8s.io'
DEFAULT_CRIO_CONTAINERS_DIR = '/run/containers/storage/overlay-containers'

_SANDBOX_ID_RE = re.compile(SANDBOX_ID_PATTERN)


def validate_sandbox_id(value, option='sandbox_id'):
    """Return ``value`` when it is a valid sandbox ID, else raise ArgumentError naming ``option``.

    kata's rule (non-empty, ``SANDBOX_ID_PATTERN``), plus: a string, no NUL, at most 255 characters (the ID is a
    directory name). The whole string must match: a trailing newline is not accepted.
    """
    if not isinstance(value, str):
        raise ArgumentError('%s: a sandbox ID must be a string, got %s %s'
                            % (option, type(value).__name__, short_repr(value)))
    if not value:
        raise ArgumentError('%s: the sandbox ID cannot be empty' % option)
    if '\0' in value:
        raise ArgumentError('%s: invalid sandbox ID %s: it contains a NUL character' % (option, short_repr(value)))
    if len(value) > SANDBOX_ID_MAX_LENGTH:
        raise ArgumentError('%s: invalid sandbox ID %s: it is %d characters long, the limit is %d'
                            % (option, short_repr(value), len(value), SANDBOX_ID_MAX_LENGTH))
    if not _SANDBOX_ID_RE.fullmatch(value):
        raise ArgumentError('%s: invalid sandbox ID %s: expected a string matching %s (at least 2 characters; letters, '
                            'digits, "_", "." and "-", not first)' % (option, short_repr(value), SANDBOX_ID_PATTERN))
    return value


def is_valid_sandbox_id(value):
    """True when ``value`` passes validate_sandbox_id."""
    return (isinstance(value, str) and 0 < len(value) <= SANDBOX_ID_MAX_LENGTH and '\0' not in value
            and _SANDBOX_ID_RE.fullmatch(value) is not None)


def _lstat(path):
    """``os.lstat(path)``, or None when nothing is there; other errors become ShimError."""
    try:
        return lstat_or_none(path)
    except OSError as exc:
        raise _check_error(path, exc)


def _check_error(path, exc):
    return ShimError('cannot check the shim socket %s: %s%s' % (path, exc.strerror or exc, _root_hint(exc)),
                     url=None, status=None, body=None)


def _root_hint(exc):
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ' (the shim sockets are root-only: run the task as root, e.g. with become: true)'
    return ''


def check_path_option(value, option):
    """Return ``value`` (a path option: None or a string) unless it contains a NUL character, which no path can hold
    (the system calls would refuse it with ValueError); ArgumentError naming ``option`` then."""
    if value is not None and '\0' in value:
        raise ArgumentError('%s: invalid path %s: it contains a NUL character' % (option, short_repr(value)))
    return value


def socket_problem(path):
    """Why ``path`` cannot be used as a shim socket (a phrase), or None when it is a unix socket itself.

    ``lstat`` is used: a symbolic link is refused rather than followed (_fs.socket_problem). Errors other than
    "missing" raise ShimError.
    """
    try:
        return _socket_problem(path)
    except OSError as exc:
        raise _check_error(path, exc)


def check_socket(path, option='shim_socket'):
    """Return ``path`` when it is a unix socket itself, else raise ShimError naming ``option`` and the path."""
    problem = socket_problem(path)
    if problem:
        raise ShimError('%s: cannot use %s as the shim socket: %s' % (option, path, problem),
                        url=None, status=None, body=None)
    return path


def socket_paths(sandbox_id, sandbox_root=DEFAULT_SANDBOX_ROOT, rs_sandbox_root=DEFAULT_RS_SANDBOX_ROOT):
    """The two places kata looks for a sandbox's shim socket, Go runtime first: ``[(runtime, path), ...]``."""
    validate_sandbox_id(sandbox_id)
    return [(RUNTIME_GO, os.path.join(sandbox_root, sandbox_id, SHIM_SOCKET_NAME)),
            (RUNTIME_RUST, os.path.join(rs_sandbox_root, sandbox_id, SHIM_SOCKET_NAME))]


def locate_shim_socket(sandbox_id, sandbox_root=DEFAULT_SANDBOX_ROOT, rs_sandbox_root=DEFAULT_RS_SANDBOX_ROOT,
                       shim_socket=None):
    """Like find_shim_socket, but return ``(path, runtime)``; ``runtime`` is None for an explicit ``shim_socket``."""
    check_path_option(sandbox_root, 'sandbox_root')
    check_path_option(rs_sandbox_root, 'rs_sandbox_root')
    check_path_option(shim_socket, 'shim_socket')
    if sandbox_id is not None or not shim_socket:
        validate_sandbox_id(sandbox_id)
    if shim_socket:
        return check_socket(shim_socket), None
    candidates = socket_paths(sandbox_id, sandbox_root, rs_sandbox_root)
    for runtime, path in candidates:
        # The sandbox directory is not followed either: a link planted there would lead the request (and, for
        # kata_exec_cmd, the command and its stdin) to a socket of someone else's choosing.
        directory = os.path.dirname(path)
        st = _lstat(directory)
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise ShimError('sandbox %s: cannot use %s as the sandbox directory: it is a symbolic link (not followed: '
                            'the shim socket must be in the directory itself)' % (sandbox_id, directory),
                            url=None, status=None, body=None)
        # kata stats the Go path and falls back to the runtime-rs path only when the first does not exist.
        if _lstat(path) is not None:
            return check_socket(path, option='sandbox %s' % sandbox_id), runtime
    raise ShimError('no shim socket for sandbox %s: neither %s nor %s exists (is the sandbox running on this host? '
                    'Set sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
                    % (sandbox_id, candidates[0][1], candidates[1][1]),
                    url=None, status=None, body=None)


def find_shim_socket(sandbox_id, sandbox_root=DEFAULT_SANDBOX_ROOT, rs_sandbox_root=DEFAULT_RS_SANDBOX_ROOT,
                     shim_socket=None):
    """The shim management socket of ``sandbox_id``.

    The ID is validated first (it may be None only with ``shim_socket``). An explicit ``shim_socket`` wins (the ID
    is then not used to build any path). Otherwise
    ``<sandbox_root>/<id>/shim-monitor.sock``, then ``<rs_sandbox_root>/<id>/shim-monitor.sock``, as kata 3.2+ does;
    neither -> ShimError naming both paths. The path found must be a unix socket, not a symbolic link.
    """
    return locate_shim_socket(sandbox_id, sandbox_root, rs_sandbox_root, shim_socket)[0]


def _sandbox_dirs(root):
    """Names of the sub-directories of ``root`` that are valid sandbox IDs (symbolic links are not followed)."""
    try:
        entries = list(os.scandir(root))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return set()
        raise ProbeError('cannot list the sandboxes in %s: %s%s' % (root, exc.strerror or exc, _root_hint(exc)))
    names = set()
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir and is_valid_sandbox_id(entry.name):
            names.add(entry.name)
    return names


def list_sandboxes(sandbox_root=DEFAULT_SANDBOX_ROOT, rs_sandbox_root=DEFAULT_RS_SANDBOX_ROOT):
    """The sandboxes with a directory under either root: ``[{'id', 'socket', 'runtime': 'go'|'rust'}]`` sorted by id.

    Only real directories whose names are valid sandbox IDs count. An ID present under both roots is listed once,
    with the socket kata's lookup picks: the Go one when its socket path exists, else the runtime-rs one when its
    socket path exists, else the Go one. ``socket`` is where the socket is (or would be); it may be missing when the
    shim is gone. A missing root lists nothing; an unreadable one raises ProbeError. A root containing a NUL character
    raises ArgumentError naming the option (``sandbox_root``, ``rs_sandbox_root``).
    """
    check_path_option(sandbox_root, 'sandbox_root')
    check_path_option(rs_sandbox_root, 'rs_sandbox_root')
    go_ids = _sandbox_dirs(sandbox_root)
    rs_ids = _sandbox_dirs(rs_sandbox_root)
    result = []
    for sandbox_id in sorted(go_ids | rs_ids):
        go_socket = os.path.join(sandbox_root, sandbox_id, SHIM_SOCKET_NAME)
        rs_socket = os.path.join(rs_sandbox_root, sandbox_id, SHIM_SOCKET_NAME)
        if sandbox_id in go_ids and (sandbox_id not in rs_ids or os.path.lexists(go_socket)
                                     or not os.path.lexists(rs_socket)):
            result.append({'id': sandbox_id, 'socket': go_socket, 'runtime': RUNTIME_GO})
        else:
            result.append({'id': sandbox_id, 'socket': rs_socket, 'runtime': RUNTIME_RUST})
    return result


def shim_argument_spec():
    """The options every sandbox-facing module shares (doc fragment ``katacontainers.kata._shim``); a fresh dict."""
    return dict(
        shim_socket=dict(type='path'),
        sandbox_root=dict(type='path', default=DEFAULT_SANDBOX_ROOT),
        rs_sandbox_root=dict(type='path', default=DEFAULT_RS_SANDBOX_ROOT),
        timeout=dict(type='float', default=DEFAULT_TIMEOUT),
        transport=dict(type='str', default=DEFAULT_TRANSPORT, choices=list(TRANSPORTS)),
    )


def pod_metadata_argument_spec():
    """Where the container engines' pod metadata is (doc fragment ``katacontainers.kata._shim.pod_metadata``)."""
    return dict(
        containerd_state_dir=dict(type='path', default=DEFAULT_CONTAINERD_STATE_DIR),
        containerd_namespace=dict(type='str', default=DEFAULT_CONTAINERD_NAMESPACE),
        crio_containers_dir=dict(type='path', default=DEFAULT_CRIO_CONTAINERS_DIR),
    )


def pod_argument_spec():
    """``pod`` and the metadata locations (doc fragments ``katacontainers.kata._shim.pod`` and ``.pod_metadata``)
    for the modules that take ``pod: <namespace>/<name>`` instead of ``sandbox_id``. Those modules declare
    ``sandbox_id`` and ``pod`` mutually exclusive, and one of them required."""
    spec = dict(pod=dict(type='str'))
    spec.update(pod_metadata_argument_spec())
    return spec


def client_for(socket_path, sandbox_id=None, runtime=None, timeout=None, transport=None, **kwargs):
    """The one factory of ShimClients: a client of the shim socket ``socket_path`` (already located).

    ``timeout`` None is DEFAULT_TIMEOUT and ``transport`` None DEFAULT_TRANSPORT (module options not set); extra
    keyword arguments (``max_body``) go to ShimClient, which validates them all.
    """
    # Imported here: modules that only list sandboxes do not pay for the client.
    from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import ShimClient

    return ShimClient(socket_path, timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                      transport=transport or DEFAULT_TRANSPORT, sandbox_id=sandbox_id, runtime=runtime, **kwargs)


def shim_client(params, sandbox_id, **kwargs):
    """A ShimClient for ``sandbox_id`` built from the common options in ``params`` (a module's ``module.params``).

    The socket is found with find_shim_socket (``shim_socket`` wins); ``timeout`` and ``transport`` are passed on.
    Extra keyword arguments (``max_body``) go to ShimClient.
    """
    path, runtime = locate_shim_socket(sandbox_id, params.get('sandbox_root') or DEFAULT_SANDBOX_ROOT,
                                       params.get('rs_sandbox_root') or DEFAULT_RS_SANDBOX_ROOT,
                                       params.get('shim_socket'))
    return client_for(path, sandbox_id, runtime, params.get('timeout'), params.get('transport'), **kwargs)
