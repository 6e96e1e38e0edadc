# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_sandbox_info: the sandboxes on a host (with a probe of each shim) and its direct volumes.

Sandboxes are the directories under the Go and runtime-rs roots (_sandbox.list_sandboxes). Each shim is asked
``GET /agent-url`` (``agentURL`` in kata-containers 3.0.0 ``src/runtime/pkg/containerd-shim-v2/shim_management.go``): a
cheap, read-only endpoint both runtimes serve that touches no agent RPC. Any HTTP answer within the timeout makes the
shim ``reachable``; the URL itself is returned on request. The probes run concurrently so that a host full of dead
shims costs about one timeout, not one per sandbox.

Direct volumes are read from kata's on-disk format (``src/runtime/pkg/direct-volume/utils.go``): one directory per
volume, named with the URL-safe base64 (with padding) of the volume path, holding ``mountInfo.json`` and, once a
container uses it, an empty file named after the sandbox. The sandbox is found as ``kata-runtime direct-volume stats``
finds it (``GetSandboxIdForVolume``): the first entry, by name, that is not ``mountInfo.json``. The names are decoded
and ``mountInfo.json`` is read with _volume_store's and _mount_info's functions (kata's view of the file, Go's ``encoding/json``
rules), and the mount information is returned in kata_direct_volume's option form (``volume_type``, ``device``,
``fstype``, ``metadata``, ``options``), so both modules return the same shape.
"""

from __future__ import annotations

import errno
import os

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError, ShimError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import FileTooLarge, NotRegularFile, read_file
from ansible_collections.katacontainers.kata.plugins.module_utils._mount_info import (
    MOUNT_INFO_FILE,
    MOUNT_INFO_MAX_BYTES,
    mount_info_option_form,
    parse_mount_info,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import (
    DEFAULT_RS_SANDBOX_ROOT,
    DEFAULT_SANDBOX_ROOT,
    DEFAULT_TIMEOUT,
    DEFAULT_TRANSPORT,
    check_path_option,
    client_for,
    find_shim_socket,
    list_sandboxes,
    validate_sandbox_id,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._volume_store import (
    DEFAULT_VOLUME_ROOT,
    WORK_PREFIXES,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._volume_store import decode_volume_name as _decode_name

MAX_PROBE_THREADS = 128
AGENT_URL_MAX_BODY = 64 * 1024


def _requested_ids(value):
    """The sandbox_id option as a list of unique, validated IDs in the order given (None when not set)."""
    if value is None:
        return None
    values = [value] if isinstance(value, str) else list(value)
    ids = []
    for index, item in enumerate(values):
        validate_sandbox_id(item, option='sandbox_id' if isinstance(value, str) else 'sandbox_id[%d]' % index)
        if item not in ids:
            ids.append(item)
    return ids


def _targets(params, ids):
    """The sandboxes to probe: ``[{'id', 'socket', 'runtime', 'error'}]``."""
    sandbox_root = params.get('sandbox_root') or DEFAULT_SANDBOX_ROOT
    rs_sandbox_root = params.get('rs_sandbox_root') or DEFAULT_RS_SANDBOX_ROOT
    shim_socket = params.get('shim_socket')
    if shim_socket:
        if not ids or len(ids) != 1:
            raise ArgumentError('shim_socket: it is the socket of one sandbox, so sandbox_id must name exactly one '
                                'sandbox (got %s)' % ('none' if not ids else '%d' % len(ids)))
        return [{'id': ids[0], 'socket': shim_socket, 'runtime': None, 'error': None}]
    listed = list_sandboxes(sandbox_root, rs_sandbox_root)
    if ids is None:
        return [dict(entry, error=None) for entry in listed]
    by_id = dict((entry['id'], entry) for entry in listed)
    targets = []
    for sandbox_id in ids:
        if sandbox_id in by_id:
            targets.append(dict(by_id[sandbox_id], error=None))
            continue
        try:
            find_shim_socket(sandbox_id, sandbox_root, rs_sandbox_root)
            error = 'sandbox %s is not a directory under %s or %s' % (sandbox_id, sandbox_root, rs_sandbox_root)
        except ShimError as exc:
            error = exc.msg
        targets.append({'id': sandbox_id, 'socket': None, 'runtime': None, 'error': error})
    return targets


def _probe(target, client, want_agent_url):
    result = {'id': target['id'], 'runtime': target['runtime'], 'socket': target['socket'], 'reachable': False,
              'error': target['error']}
    if want_agent_url:
        result['agent_url'] = None
    if client is None:
        return result
    try:
        response = client.request('GET', '/agent-url')
    except ShimError as exc:
        result['error'] = exc.msg
        return result
    result['reachable'] = True
    if want_agent_url:
        if response.status == 200:
            try:
                result['agent_url'] = response.body.decode('utf-8').strip()
            except UnicodeDecodeError as exc:
                # A URL with replacement characters would look valid and lead nowhere: report it instead.
                result['error'] = 'GET %s via %s: the agent URL the shim answered is not UTF-8 text: %r at byte %d' % (
                    response.url, target['socket'], response.body[exc.start:exc.start + 4], exc.start)
        else:
            try:
                client.expect_ok(response)
            except ShimError as exc:
                result['error'] = exc.msg
    return result


def probe_sandboxes(targets, timeout=DEFAULT_TIMEOUT, transport=DEFAULT_TRANSPORT, agent_url=False):
    """Probe every target's shim concurrently (at most MAX_PROBE_THREADS at once); the per-sandbox results in order."""
    # Clients are made here, in one thread: a bad timeout or a missing transport library fails the task once.
    clients = [None if t['error'] or not t['socket'] else
               client_for(t['socket'], t['id'], t['runtime'], timeout, transport, max_body=AGENT_URL_MAX_BODY)
               for t in targets]
    if not targets:
        return []
    if len(targets) == 1:
        return [_probe(targets[0], clients[0], agent_url)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(MAX_PROBE_THREADS, len(targets))) as pool:
        return list(pool.map(lambda pair: _probe(pair[0], pair[1], agent_url), zip(targets, clients)))


def _display(name):
    """A file name (bytes) as text that is safe to return: invalid UTF-8 becomes U+FFFD."""
    return name.decode('utf-8', 'replace')


def decode_volume_name(name):
    """The volume path a directory name encodes, or raise ValueError saying why it is not one kata wrote."""
    try:
        path = _decode_name(name)
    except ValueError as exc:
        raise ValueError('the directory name is not one kata writes: %s' % exc) from None
    try:
        path.encode('utf-8')
    except UnicodeEncodeError:
        raise ValueError('the directory name decodes to a path that is not UTF-8: %r' % os.fsencode(path)) from None
    return path


def _read_mount_info(directory):
    """``(mount_info in option form or None, error or None)`` for a volume directory (bytes path).

    ``mountInfo.json`` is read as kata reads it (_mount_info.parse_mount_info). A symbolic link is not followed
    and a FIFO never blocks: neither is a file kata-runtime writes.
    """
    path = os.path.join(directory, os.fsencode(MOUNT_INFO_FILE))
    try:
        data = read_file(path, MOUNT_INFO_MAX_BYTES)
    except NotRegularFile:
        return None, '%s is not a regular file' % MOUNT_INFO_FILE
    except FileTooLarge:
        return None, '%s is larger than %d bytes' % (MOUNT_INFO_FILE, MOUNT_INFO_MAX_BYTES)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None, '%s is missing (kata creates the directory before it validates the mount info)' % MOUNT_INFO_FILE
        if os.path.islink(path):
            return None, '%s is a symbolic link (not followed)' % MOUNT_INFO_FILE
        return None, 'cannot read %s: %s' % (MOUNT_INFO_FILE, exc.strerror or exc)
    try:
        return mount_info_option_form(parse_mount_info(data)), None
    except ValueError as exc:
        return None, 'kata cannot read %s: %s' % (MOUNT_INFO_FILE, exc)


def _volume_sandbox(directory):
    """``(sandbox id or None, error or None)``: the first entry by name (byte order, as Go sorts) that is not
    mountInfo.json."""
    try:
        names = sorted(os.listdir(os.fsencode(directory)))
    except OSError as exc:
        return None, 'cannot list the volume directory: %s' % (exc.strerror or exc)
    for name in names:
        if name != MOUNT_INFO_FILE.encode('ascii'):
            return _display(name), None
    return None, None


def list_volumes(volume_root=DEFAULT_VOLUME_ROOT):
    """The direct volumes under ``volume_root``: ``[{name, volume_path, mount_info, sandbox_id, error}]`` by name.

    ``mount_info`` is in kata_direct_volume's option form (_mount_info.mount_info_option_form), None when kata
    could not read ``mountInfo.json``.
    Only directories count (symbolic links are not followed), and not kata_direct_volume's work in progress (a record
    being created or removed, under a ``.kata-`` name kata never reads). A missing root lists nothing; an unreadable
    one raises ProbeError. Problems with one volume are reported in its ``error`` (several joined with ``; ``).
    """
    try:
        names = sorted(os.listdir(os.fsencode(volume_root)))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        hint = ' (run the task as root, e.g. with become: true)' if exc.errno in (errno.EACCES, errno.EPERM) else ''
        raise ProbeError('cannot list the direct volumes in %s: %s%s' % (volume_root, exc.strerror or exc, hint))
    volumes = []
    work = tuple(prefix.encode('ascii') for prefix in WORK_PREFIXES)
    for raw_name in names:
        directory = os.path.join(os.fsencode(volume_root), raw_name)
        if raw_name.startswith(work) or not os.path.isdir(directory) or os.path.islink(directory):
            continue
        name = _display(raw_name)
        errors = []
        volume_path = None
        try:
            volume_path = decode_volume_name(name)
        except ValueError as exc:
            errors.append(str(exc))
        mount_info, error = _read_mount_info(directory)
        if error:
            errors.append(error)
        sandbox_id, error = _volume_sandbox(directory)
        if error:
            errors.append(error)
        volumes.append({'name': name, 'volume_path': volume_path, 'mount_info': mount_info, 'sandbox_id': sandbox_id,
                        'error': '; '.join(errors) if errors else None})
    return volumes


def _add_pods(sandboxes, params, warn):
    """Each sandbox's ``pod`` (_pods.pod_of: the engine's metadata in its bundle, None when there is none)."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._pods import metadata_locations, pod_of

    where = metadata_locations(params)
    for sandbox in sandboxes:
        pod, problem = (None, None) if sandbox['runtime'] is None and not sandbox['socket'] else \
            pod_of(sandbox['id'], sandbox['runtime'], where)
        sandbox['pod'] = pod
        if problem and warn is not None:
            warn('sandbox %s: cannot read its pod metadata: %s' % (sandbox['id'], problem))


def sandbox_info(params, warn=None):
    """The result of kata_sandbox_info for its ``params``."""
    ids = _requested_ids(params.get('sandbox_id'))
    targets = _targets(params, ids)
    timeout = params.get('timeout')
    volumes = None
    if params.get('volumes', True):
        # Read first: an unreadable volume root fails the task before any shim is asked anything.
        volumes = list_volumes(check_path_option(params.get('volume_root') or DEFAULT_VOLUME_ROOT, 'volume_root'))
        if ids is not None:
            volumes = [v for v in volumes if v['sandbox_id'] in ids]
    result = {
        'changed': False,
        'sandboxes': probe_sandboxes(targets, timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                                     transport=params.get('transport') or DEFAULT_TRANSPORT,
                                     agent_url=bool(params.get('agent_url'))),
    }
    if params.get('pods', True):
        _add_pods(result['sandboxes'], params, warn)
    if volumes is not None:
        result['volumes'] = volumes
    return result


def sandbox_info_module(module):
    """The work function for _module.run."""
    return sandbox_info(module.params, module.warn)
