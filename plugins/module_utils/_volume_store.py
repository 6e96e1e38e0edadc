# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer: the volume store, kata's direct-assigned volume records on disk, used by both volume drivers.

The on-disk format is kata's (kata-containers 3.0.0, ``src/runtime/pkg/direct-volume/utils.go``): under the volume
root, one directory per volume, mode 0700, named with the URL-safe base64 (with ``=`` padding) of the raw bytes of the
volume path; in it ``mountInfo.json`` (mode 0600, see _mount_info) and, once a container uses the volume, an empty
file named after the sandbox (``RecordSandboxId``). kata_direct_volume writes records through this module and
kata_sandbox_info lists them.

Differences from kata-runtime, on purpose (docs/kata_behaviour.md, Direct volumes):

* An empty volume path is refused (kata's ``Add`` would write into, and its ``Remove`` delete, the whole volume
  root), as is a path whose encoded name is longer than a file name may be.
* Nothing is followed: the volume directory and ``mountInfo.json`` are opened relative to directory descriptors with
  ``O_NOFOLLOW``, so a symbolic link planted there is never written through. A non-directory at the volume directory
  is an error (``<dir> should be a directory``, kata's message), except for ``absent``, which removes the entry itself.
* A new record is created whole: the directory (0700) and its ``mountInfo.json`` (0600, fsync) are made under a
  temporary name in the volume root (``.kata-creating-*``, a name kata never reads as a volume), then renamed into
  place, so that a reader (kata, kata_sandbox_info, another task) sees either no volume or a complete one, even if the
  task is killed (kata's ``Add`` makes the directory, then writes the file: a kill in between leaves a volume without
  mount information). When the volume appears meanwhile (another task was quicker), the temporary directory is
  removed and the record found is updated instead.
* ``mountInfo.json`` of an existing record is replaced atomically: a temporary file in the volume root (not in the
  volume directory, where kata's sandbox lookup, "the first entry by name that is not mountInfo.json", would take it
  for a sandbox), fsync, ``rename`` into the volume directory, fsync of both directories. It is rewritten only when its content, read the
  way kata reads it (Go's ``encoding/json``: keys matched case-insensitively, unknown keys ignored), differs from the
  wanted one, or its mode is not 0600. The JSON written is what Go's ``json.Marshal`` gives for kata's struct.
* ``absent`` renames the directory away (atomically) before deleting its content, so that a volume is either there
  or not, never half removed.
* Work in progress (a temporary file or directory, a record being removed) is held with ``flock``. Those a killed task
  left behind are removed by the next task (not in check mode) on the volume root, even one that changes nothing: only entries of the collection's own
  prefixes (``.kata-mountinfo-``, ``.kata-creating-``, ``.kata-removing-``) whose lock nobody holds, never following
  a symbolic link.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import os
import posixpath
import re
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, KataError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import (
    O_CLOEXEC as _O_CLOEXEC,
    O_DIRECTORY as _O_DIRECTORY,
    O_NOFOLLOW as _O_NOFOLLOW,
    FileTooLarge,
    NotRegularFile,
    open_file,
    read_fd,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._mount_info import (
    MOUNT_INFO_FILE,
    MOUNT_INFO_MAX_BYTES,
    dump_mount_info,
    parse_mount_info,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr as _short

DEFAULT_VOLUME_ROOT = '/run/kata-containers/shared/direct-volumes'
DIR_MODE = 0o700
FILE_MODE = 0o600
NAME_MAX = 255
_TEMP_PREFIX = '.kata-mountinfo-'
_CREATING_PREFIX = '.kata-creating-'
_REMOVING_PREFIX = '.kata-removing-'
_WORK_PREFIXES = (_TEMP_PREFIX, _CREATING_PREFIX, _REMOVING_PREFIX)
# The names of the collection's work in progress in the volume root (never a volume: kata never reads them).
WORK_PREFIXES = _WORK_PREFIXES
_RACE_ATTEMPTS = 10


def _strerror(exc):
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------------------------------------------------
# Names


def validate_volume_path(value, option='volume_path'):
    """Return ``value`` when kata can record it, else ArgumentError naming ``option``.

    A non-empty string without NUL whose encoded directory name fits in one file name (255 bytes: paths of up to
    189 bytes). No other rule: kata records any path as given, without normalisation.
    """
    if not isinstance(value, str):
        raise ArgumentError('%s: expected a string, got %s %s' % (option, type(value).__name__, _short(value)))
    if not value:
        raise ArgumentError('%s: the volume path cannot be empty (kata-runtime would then write into, or remove, the '
                            'whole volume root)' % option)
    if '\0' in value:
        raise ArgumentError('%s: invalid volume path %s: it contains a NUL character' % (option, _short(value)))
    length = len(encode_volume_path(value))
    if length > NAME_MAX:
        raise ArgumentError('%s: the volume path %s is too long: its encoded directory name would be %d bytes, more '
                            'than the %d a file name may have (paths of at most 189 bytes can be recorded)'
                            % (option, _short(value), length, NAME_MAX))
    return value


def clean_path(path):
    """Go's ``filepath.Clean`` of an absolute path: ``.``, ``..``, doubled and trailing slashes resolved lexically."""
    cleaned = posixpath.normpath(path)
    if cleaned.startswith('//'):
        cleaned = '/' + cleaned.lstrip('/')  # POSIX keeps a leading "//", Go does not
    return cleaned


def check_mount_source(value, option='volume_path'):
    """Return ``value`` when it is a path kata can ever look a volume up by, else ArgumentError naming ``option``.

    kata finds a direct volume by the source of a container's bind mount: the Go runtime's
    ``createBlockDevices`` calls ``volume.VolumeMountInfo(c.mounts[i].Source)`` and runtime-rs
    ``get_volume_mount_info(volume_path)`` (kata-containers ``src/runtime/virtcontainers/container.go``,
    ``src/libs/kata-types/src/mount.rs``), both of which encode the path's bytes as given, without cleaning it. The
    source is the host path of the mount (kubelet's, built with ``filepath.Join``): absolute and clean. A relative
    path, or one that is not in its clean form (``//``, ``/./``, ``/../``, a trailing ``/``), would never match it.
    """
    validate_volume_path(value, option)
    if not value.startswith('/'):
        raise ArgumentError('%s: the volume path %s is not absolute: kata looks a direct volume up by the source of a '
                            "container's bind mount, an absolute path, so a record under this path would never be used"
                            % (option, _short(value)))
    cleaned = clean_path(value)
    if cleaned != value:
        raise ArgumentError('%s: the volume path %s is not in its clean form %s: kata compares the path, byte for '
                            "byte, with the source of a container's bind mount, which is clean, so a record under "
                            'this path would never be used; give %s'
                            % (option, _short(value), _short(cleaned), _short(cleaned)))
    return value


def encode_volume_path(volume_path):
    """The directory name kata uses for ``volume_path``: URL-safe base64, with padding, of its raw bytes.

    The result only contains ``A-Z a-z 0-9 - _ =``: it is always one path component, never ``.`` or ``..``.
    """
    return base64.urlsafe_b64encode(os.fsencode(volume_path)).decode('ascii')


def decode_volume_name(name):
    """The volume path a directory name encodes (a str; bytes that are not UTF-8 are surrogate-escaped), or raise
    ValueError when ``name`` is not a name kata writes."""
    if not name or len(name) % 4 or not re.match(r'^[A-Za-z0-9_-]*={0,2}$', name):
        raise ValueError('%r is not URL-safe base64 with padding' % (name,))
    raw = base64.urlsafe_b64decode(name)
    if base64.urlsafe_b64encode(raw).decode('ascii') != name:
        raise ValueError('%r is not the canonical URL-safe base64 of any path' % (name,))
    return os.fsdecode(raw)


def volume_directory(volume_root, volume_path):
    """The directory of ``volume_path``'s record under ``volume_root``."""
    return os.path.join(volume_root, encode_volume_path(volume_path))


# --------------------------------------------------------------------------------------------------------------------
# The record on disk


def _open_dir(path, dir_fd=None, nofollow=False):
    flags = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC | (_O_NOFOLLOW if nofollow else 0)
    return os.open(path, flags, dir_fd=dir_fd)


def _make_root(volume_root):
    """``mkdir -p`` with mode 0700 for every directory created, like Go's MkdirAll in kata."""
    missing = []
    path = os.path.abspath(volume_root)
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, DIR_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST or not os.path.isdir(path):
                raise KataError('cannot create the volume root %s: mkdir %s: %s%s'
                                % (volume_root, path, _strerror(exc), _root_hint(exc)), path=path)


def _root_hint(exc):
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ' (the direct-volume records belong to root: run the task as root, e.g. with become: true)'
    return ''


def _open_root(volume_root, create):
    """A descriptor of the volume root, or None when it does not exist and ``create`` is false."""
    if create:
        _make_root(volume_root)
    try:
        return _open_dir(volume_root)
    except OSError as exc:
        if exc.errno == errno.ENOENT and not create:
            return None
        raise KataError('cannot open the volume root %s: %s%s' % (volume_root, _strerror(exc), _root_hint(exc)),
                        path=volume_root)


def _lstat_at(name, dir_fd):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def _read_mount_info_at(vol_fd, directory):
    """``(state, info, raw, mode)`` of ``mountInfo.json`` in the open volume directory.

    ``state`` is ``missing``, ``valid``, ``invalid`` (kata could not read it; ``raw`` says why), ``symlink`` or
    ``other`` (not a regular file). Symbolic links are never followed, FIFOs never block.
    """
    path = os.path.join(directory, MOUNT_INFO_FILE)
    try:
        fd = open_file(MOUNT_INFO_FILE, dir_fd=vol_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return 'missing', None, None, None
        st = _lstat_at(MOUNT_INFO_FILE, vol_fd)
        if st is not None and stat.S_ISLNK(st.st_mode):
            return 'symlink', None, '(a symbolic link, not followed)', None
        raise KataError('cannot read %s: %s%s' % (path, _strerror(exc), _root_hint(exc)), path=path)
    mode = None
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        data = read_fd(fd, MOUNT_INFO_MAX_BYTES)
    except NotRegularFile:
        return 'other', None, '(not a regular file)', None
    except FileTooLarge:
        return 'invalid', None, '(larger than %d bytes)' % MOUNT_INFO_MAX_BYTES, mode
    except OSError as exc:
        raise KataError('cannot read %s: %s' % (path, _strerror(exc)), path=path)
    finally:
        os.close(fd)
    try:
        return 'valid', parse_mount_info(data), None, mode
    except ValueError as exc:
        text = data.decode('utf-8', 'replace')
        return 'invalid', None, '%s\n(kata cannot read it: %s)' % (text.rstrip('\n'), exc), mode


def _sandbox_of(vol_fd):
    """kata's sandbox lookup: the first entry by name (byte order) that is not mountInfo.json, or None."""
    names = sorted(os.listdir(vol_fd), key=os.fsencode)
    for name in names:
        if name != MOUNT_INFO_FILE:
            return name
    return None


def inspect_volume(volume_root, volume_path):
    """The record of ``volume_path`` as it is now, changing nothing.

    Returns ``{directory, entry, dir_mode, mount_info_state, mount_info, raw, file_mode, sandbox_id}``: ``entry`` is
    ``missing``, ``directory`` or ``other`` (a file, a symbolic link...); ``mount_info`` is kata's view (JSON keys)
    when ``mount_info_state`` is ``valid``.
    """
    directory = volume_directory(volume_root, volume_path)
    root_fd = _open_root(volume_root, create=False)
    try:
        return _inspect_at(root_fd, directory)
    finally:
        if root_fd is not None:
            os.close(root_fd)


def _empty_state(directory, entry='missing'):
    return {'directory': directory, 'entry': entry, 'dir_mode': None, 'mount_info_state': 'missing',
            'mount_info': None, 'raw': None, 'file_mode': None, 'sandbox_id': None}


def _inspect_at(root_fd, directory, vol_fd=None):
    state = _empty_state(directory)
    if root_fd is None:
        return state
    name = os.path.basename(directory)
    own_fd = vol_fd is None
    try:
        if own_fd:
            st = _lstat_at(name, root_fd)
            if st is None:
                return state
            if not stat.S_ISDIR(st.st_mode):
                state['entry'] = 'other'
                return state
            vol_fd = _open_dir(name, dir_fd=root_fd, nofollow=True)
        state['entry'] = 'directory'
        state['dir_mode'] = stat.S_IMODE(os.fstat(vol_fd).st_mode)
        (state['mount_info_state'], state['mount_info'], state['raw'],
         state['file_mode']) = _read_mount_info_at(vol_fd, directory)
        state['sandbox_id'] = _sandbox_of(vol_fd)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            # Replaced between lstat and open: report what is there now.
            state = _empty_state(directory, 'missing' if exc.errno == errno.ENOENT else 'other')
            return state
        raise KataError('cannot read the volume directory %s: %s%s' % (directory, _strerror(exc), _root_hint(exc)),
                        path=directory)
    finally:
        if own_fd and vol_fd is not None:
            os.close(vol_fd)
    return state


def _same_file(st, other):
    return other is not None and (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


def _needs_write(state, wanted):
    return (state['entry'] != 'directory' or state['mount_info_state'] != 'valid'
            or state['mount_info'] != wanted or state['file_mode'] != FILE_MODE)


def _not_a_directory(directory):
    return KataError('%s should be a directory' % directory, path=directory)


def ensure_present(volume_root, volume_path, wanted, check_mode=False):
    """Make ``mountInfo.json`` of ``volume_path`` hold ``wanted`` (kata's MountInfo with JSON keys).

    Returns ``{changed, before, after}``: ``before`` is the inspect_volume state found, ``after`` the state left (in
    check mode: the one that would be left, ``sandbox_id`` kept from before).
    """
    directory = volume_directory(volume_root, volume_path)
    root_fd = _open_root(volume_root, create=not check_mode)
    try:
        before = _inspect_at(root_fd, directory)
        if before['entry'] == 'other':
            raise _not_a_directory(directory)
        if not check_mode:
            _remove_stale_work(root_fd)
        changed = _needs_write(before, wanted) or before['dir_mode'] != DIR_MODE
        if check_mode or not changed:
            after = dict(before, entry='directory', dir_mode=DIR_MODE, mount_info_state='valid', mount_info=wanted,
                         raw=None, file_mode=FILE_MODE)
            return {'changed': changed, 'before': before, 'after': after}
        path = os.path.join(directory, MOUNT_INFO_FILE)
        data = dump_mount_info(wanted)
        for _attempt in range(_RACE_ATTEMPTS):
            vol_fd = _open_volume_dir(root_fd, directory)
            if vol_fd is None:
                # No volume yet: create it whole, under a temporary name, and rename it into place.
                if _create_volume(root_fd, directory, data):
                    after = _inspect_at(root_fd, directory)
                    return {'changed': True, 'before': before, 'after': after}
                continue  # the volume appeared meanwhile (another task was quicker): update what is there
            try:
                # What is there now (another run may have been quicker): write only when still needed.
                current = _inspect_at(root_fd, directory, vol_fd=vol_fd)
                if current['dir_mode'] != DIR_MODE:
                    os.fchmod(vol_fd, DIR_MODE)
                if _needs_write(current, wanted):
                    _write_mount_info(root_fd, vol_fd, directory, data)
                if not _same_file(os.fstat(vol_fd), _lstat_at(os.path.basename(directory), root_fd)):
                    continue  # moved away meanwhile by a task removing the volume: what was written went with it
                after = _inspect_at(root_fd, directory, vol_fd=vol_fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    continue  # the directory was removed meanwhile (a task removing the same volume): start again
                raise KataError('cannot write %s: %s%s' % (path, _strerror(exc), _root_hint(exc)), path=directory)
            finally:
                os.close(vol_fd)
            return {'changed': True, 'before': before, 'after': after}
        raise KataError('cannot write %s: the volume directory was removed %d times while it was written (other tasks '
                        'remove the same volume at the same time)' % (path, _RACE_ATTEMPTS), path=directory)
    finally:
        if root_fd is not None:
            os.close(root_fd)


def _open_volume_dir(root_fd, directory):
    """A descriptor of the existing volume directory, or None when there is none; never through a symbolic link."""
    name = os.path.basename(directory)
    try:
        return _open_dir(name, dir_fd=root_fd, nofollow=True)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _not_a_directory(directory)
        raise KataError('cannot open %s: %s%s' % (directory, _strerror(exc), _root_hint(exc)), path=directory)


def _random_name(prefix, suffix=''):
    return '%s%s%s' % (prefix, base64.b32encode(os.urandom(10)).decode('ascii').lower(), suffix)


def _write_synced(fd, data):
    """Give the new file ``fd`` FILE_MODE, write all of ``data`` and fsync it."""
    os.fchmod(fd, FILE_MODE)
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def _lock(fd):
    """Hold ``fd``'s file with ``flock`` (released when the process ends, killed or not): work in progress."""
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _create_volume(root_fd, directory, data):
    """Create the volume directory holding ``mountInfo.json`` (``data``) in one step, as seen from the volume root.

    Returns True when the record was put in place, False when an entry appeared at the volume's name meanwhile (the
    caller then updates it). The directory is built under a temporary name (locked while it is built, so that no
    other task takes it for a killed task's leftover) and renamed into place: a reader never sees it incomplete.
    """
    name = os.path.basename(directory)
    path = os.path.join(directory, MOUNT_INFO_FILE)
    temp = None
    for _attempt in range(100):
        candidate = _random_name(_CREATING_PREFIX)
        try:
            os.mkdir(candidate, DIR_MODE, dir_fd=root_fd)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue
            raise KataError('cannot create %s: %s%s' % (directory, _strerror(exc), _root_hint(exc)), path=directory)
        temp = candidate
        break
    if temp is None:
        raise KataError('cannot create a temporary directory in the volume root for %s' % directory, path=directory)
    temp_fd = None
    try:
        try:
            temp_fd = _open_dir(temp, dir_fd=root_fd, nofollow=True)
            try:
                _lock(temp_fd)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    return False  # taken for a leftover by another task in the instant before the lock: start again
                # A file system without flock: go on unlocked (only a leftover cleaner could disturb it).
            os.fchmod(temp_fd, DIR_MODE)
            fd = os.open(MOUNT_INFO_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, FILE_MODE,
                         dir_fd=temp_fd)
            try:
                _write_synced(fd, data)
            finally:
                os.close(fd)
            os.fsync(temp_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return False  # removed under us as a leftover: start again (never happens while it is locked)
            raise KataError('cannot write %s: %s%s' % (path, _strerror(exc), _root_hint(exc)), path=directory)
        try:
            # rename(2) replaces an empty directory only: a complete record that appeared meanwhile is kept.
            os.rename(temp, name, src_dir_fd=root_fd, dst_dir_fd=root_fd)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            if exc.errno in (errno.ENOTDIR, errno.EISDIR):
                raise _not_a_directory(directory)
            if exc.errno == errno.ENOENT:
                return False
            raise KataError('cannot create %s: %s%s' % (directory, _strerror(exc), _root_hint(exc)), path=directory)
        temp = None
        os.fsync(root_fd)
        return True
    finally:
        if temp is not None:
            try:
                _remove_tree_at(root_fd, temp)
            except OSError:
                pass
        if temp_fd is not None:
            os.close(temp_fd)


def _remove_stale_work(root_fd):
    """Remove what killed tasks left in the volume root: entries of the collection's own prefixes whose ``flock``
    nobody holds (a running task holds the lock of its temporary file or directory). Best effort, never following a
    symbolic link; what cannot be removed is left for the next run."""
    try:
        names = os.listdir(root_fd)
    except OSError:
        return
    for name in names:
        if not name.startswith(_WORK_PREFIXES):
            continue
        try:
            fd = os.open(name, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | os.O_NONBLOCK, dir_fd=root_fd)
        except OSError:
            continue
        try:
            try:
                _lock(fd)
            except OSError:
                continue  # in use by a running task
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                _remove_tree_at(root_fd, name)
            else:
                os.unlink(name, dir_fd=root_fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _write_mount_info(root_fd, vol_fd, directory, data):
    """Atomically replace ``mountInfo.json`` in the open volume directory with ``data`` (mode 0600).

    The temporary file is created in the volume root (same file system), never in the volume directory: kata's
    sandbox lookup takes the first entry of that directory by name, which a temporary file could be.
    """
    temp = None
    for _attempt in range(100):
        candidate = _random_name(_TEMP_PREFIX, '.tmp')
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, FILE_MODE,
                         dir_fd=root_fd)
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue
            raise
        temp = candidate
        break
    if temp is None:
        raise KataError('cannot create a temporary file in the volume root for %s' % directory, path=directory)
    try:
        try:
            try:
                _lock(fd)
            except OSError:
                pass  # taken for a leftover by another task in the instant before the lock: the rename will fail
            _write_synced(fd, data)
        finally:
            os.close(fd)
        try:
            os.rename(temp, MOUNT_INFO_FILE, src_dir_fd=root_fd, dst_dir_fd=vol_fd)
        except OSError as exc:
            if exc.errno == errno.EISDIR:
                raise KataError('cannot write %s: it is a directory' % os.path.join(directory, MOUNT_INFO_FILE),
                                path=directory)
            raise
        temp = None
        os.fsync(vol_fd)
        os.fsync(root_fd)
    finally:
        if temp is not None:
            try:
                os.unlink(temp, dir_fd=root_fd)
            except OSError:
                pass


def ensure_absent(volume_root, volume_path, check_mode=False):
    """Remove the record of ``volume_path`` (its directory and everything in it), and nothing else.

    A non-directory at the record's name (a file, a symbolic link) is removed itself, never followed. Returns
    ``{changed, before}``.
    """
    directory = volume_directory(volume_root, volume_path)
    name = os.path.basename(directory)
    root_fd = _open_root(volume_root, create=False)
    if root_fd is None:
        return {'changed': False, 'before': _empty_state(directory)}
    try:
        before = _inspect_at(root_fd, directory)
        if not check_mode:
            _remove_stale_work(root_fd)
        if before['entry'] == 'missing' or check_mode:
            return {'changed': before['entry'] != 'missing', 'before': before}
        vol_fd = None
        try:
            if before['entry'] == 'other':
                os.unlink(name, dir_fd=root_fd)
            else:
                # Atomically out of sight first, then emptied: the volume is never seen half removed. Locked, so
                # that no other task takes it for a killed task's leftover while it is emptied.
                vol_fd = _open_dir(name, dir_fd=root_fd, nofollow=True)
                try:
                    _lock(vol_fd)
                except OSError as exc:
                    if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                        return {'changed': False, 'before': before}  # another run is removing it right now
                    # A file system without flock: go on unlocked.
                hidden = _random_name(_REMOVING_PREFIX)
                os.rename(name, hidden, src_dir_fd=root_fd, dst_dir_fd=root_fd)
                _remove_tree_at(root_fd, hidden)
            os.fsync(root_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return {'changed': False, 'before': _empty_state(directory)}  # another run removed it first
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                return ensure_absent(volume_root, volume_path)  # replaced by a non-directory meanwhile: remove that
            raise KataError('cannot remove %s: %s%s' % (directory, _strerror(exc), _root_hint(exc)), path=directory)
        finally:
            if vol_fd is not None:
                os.close(vol_fd)
        return {'changed': True, 'before': before}
    finally:
        os.close(root_fd)


def _remove_tree_at(parent_fd, name):
    """``rm -r`` of ``name`` relative to ``parent_fd``, never following a symbolic link.

    A task writing the same volume at the same time may still put its ``mountInfo.json`` into the directory after it
    was listed (it holds the directory open): the directory is then emptied again.
    """
    try:
        fd = _open_dir(name, dir_fd=parent_fd, nofollow=True)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            os.unlink(name, dir_fd=parent_fd)
            return
        raise
    try:
        for attempt in range(_RACE_ATTEMPTS):
            for entry in os.listdir(fd):
                st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    _remove_tree_at(fd, entry)
                else:
                    os.unlink(entry, dir_fd=fd)
            try:
                os.rmdir(name, dir_fd=parent_fd)
                return
            except OSError as exc:
                if exc.errno != errno.ENOTEMPTY or attempt + 1 == _RACE_ATTEMPTS:
                    raise
    finally:
        os.close(fd)
