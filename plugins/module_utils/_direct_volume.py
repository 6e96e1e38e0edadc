# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""kata_direct_volume: kata's direct-assigned volume records, and their stats and resize through the shim.

The on-disk format is kata's (kata-containers 3.0.0, ``src/runtime/pkg/direct-volume/utils.go``): under the volume
root, one directory per volume, mode 0700, named with the URL-safe base64 (with ``=`` padding) of the raw bytes of the
volume path; in it ``mountInfo.json`` (mode 0600) with the keys ``volume-type``, ``device``, ``fstype``, ``metadata``
and ``options`` (the last two left out when empty, like Go's ``omitempty``); and, once a container uses the volume, an
empty file named after the sandbox (``RecordSandboxId``).

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
* A device containing ``%``, ``+`` or ``&`` is encoded so that the shim's two unescapes give it back (kata's single
  ``url.PathEscape`` does not).
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import os
import posixpath
import re
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    KataError,
    ShimError,
)

DEFAULT_VOLUME_ROOT = '/run/kata-containers/shared/direct-volumes'
MOUNT_INFO_FILE = 'mountInfo.json'
DIR_MODE = 0o700
FILE_MODE = 0o600
NAME_MAX = 255
MOUNT_INFO_MAX_BYTES = 1024 * 1024
FS_GROUP_CHANGE_POLICIES = ('Always', 'OnRootMismatch')
MAX_GID = 4294967294  # (gid_t)-1 is "no group"
MAX_SIZE = 2 ** 64 - 1  # kata's --size is a uint64
STATS_URL = '/direct-volume/stats'
RESIZE_URL = '/direct-volume/resize'
UNIT_BYTES = 1

# kata's MountInfo struct: (option key, JSON key), in the struct's (and so json.Marshal's) order.
MOUNT_INFO_KEYS = (('volume_type', 'volume-type'), ('device', 'device'), ('fstype', 'fstype'),
                   ('metadata', 'metadata'), ('options', 'options'))
_STRING_FIELDS = ('volume-type', 'device', 'fstype')
_TEMP_PREFIX = '.kata-mountinfo-'
_CREATING_PREFIX = '.kata-creating-'
_REMOVING_PREFIX = '.kata-removing-'
_WORK_PREFIXES = (_TEMP_PREFIX, _CREATING_PREFIX, _REMOVING_PREFIX)
# The names of the collection's work in progress in the volume root (never a volume: kata never reads them).
WORK_PREFIXES = _WORK_PREFIXES
_RACE_ATTEMPTS = 10
_O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
_O_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)
_O_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)

# Sizes: a number (decimal fraction allowed) and an optional unit; binary units are powers of 1024 (Ki, Mi, ...),
# the others powers of 1000 (k or K, M, G, ...) like Kubernetes quantities; an optional trailing B is ignored.
_SIZE_RE = re.compile(r'^([0-9]+)(?:\.([0-9]+))?\s*([kKMGTPE]i?)?[bB]?$')
_SIZE_UNITS = {None: 1}
for _index, _letter in enumerate('KMGTPE'):
    _SIZE_UNITS[_letter] = 1000 ** (_index + 1)
    _SIZE_UNITS[_letter + 'i'] = 1024 ** (_index + 1)
_SIZE_UNITS['k'] = 1000
_SIZE_UNITS['ki'] = 1024


def _short(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


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
# Mount information


def _check_text(value, option, allow_empty=True):
    if not isinstance(value, str):
        raise ArgumentError('%s: expected a string, got %s %s' % (option, type(value).__name__, _short(value)))
    if not allow_empty and not value:
        raise ArgumentError('%s: must not be empty' % option)
    if '\0' in value:
        raise ArgumentError('%s: invalid value %s: it contains a NUL character' % (option, _short(value)))
    return value


def build_mount_info(value, option='mount_info'):
    """Kata's MountInfo (JSON keys, struct order, empty ``metadata``/``options`` left out) from the option value.

    ``value`` has the option's keys (``volume_type``, ``device``, ``fstype``, ``metadata``, ``options``; missing or
    None means not set). ``volume_type`` and ``device`` are required. ``metadata`` maps strings to strings (integer
    values are taken as their decimal text); ``fsGroup`` must be a decimal gid and ``fsGroupChangePolicy`` one of
    FS_GROUP_CHANGE_POLICIES, only together with ``fsGroup``. ``options`` is a list of non-empty strings.
    Raises ArgumentError naming the option (``mount_info.device``, ``mount_info.metadata.fsGroup``...) and the value.
    """
    if not isinstance(value, dict):
        raise ArgumentError('%s: expected a dictionary, got %s %s' % (option, type(value).__name__, _short(value)))
    unknown = sorted(set(value) - set(k for k, _json in MOUNT_INFO_KEYS))
    if unknown:
        raise ArgumentError('%s: unknown keys %s; expected %s' % (
            option, ', '.join(unknown), ', '.join(k for k, _json in MOUNT_INFO_KEYS)))
    for key in ('volume_type', 'device'):
        if value.get(key) is None:
            raise ArgumentError('%s.%s is required (for example %s)' % (
                option, key, 'block' if key == 'volume_type' else '/dev/sdb'))
    info = {
        'volume-type': _check_text(value['volume_type'], option + '.volume_type', allow_empty=False),
        'device': _check_text(value['device'], option + '.device', allow_empty=False),
        'fstype': _check_text(value.get('fstype') or '', option + '.fstype'),
    }
    metadata = _build_metadata(value.get('metadata'), option + '.metadata')
    if metadata:
        info['metadata'] = metadata
    options = _build_options(value.get('options'), option + '.options')
    if options:
        info['options'] = options
    return info


def _build_metadata(value, option):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArgumentError('%s: expected a dictionary of strings, got %s %s' % (option, type(value).__name__, _short(value)))
    metadata = {}
    for key in sorted(value):
        item = value[key]
        name = '%s.%s' % (option, key)
        _check_text(key, option + ' key', allow_empty=False)
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise ArgumentError('%s: expected a string, got %s %s' % (name, type(item).__name__, _short(item)))
        metadata[key] = _check_text(item, name)
    if 'fsGroup' in metadata:
        gid = metadata['fsGroup']
        if not re.match(r'^[0-9]+$', gid) or int(gid) > MAX_GID:
            raise ArgumentError('%s.fsGroup: expected a decimal group ID (0 to %d), got %s' % (option, MAX_GID, _short(gid)))
    if 'fsGroupChangePolicy' in metadata:
        policy = metadata['fsGroupChangePolicy']
        if policy not in FS_GROUP_CHANGE_POLICIES:
            raise ArgumentError('%s.fsGroupChangePolicy: expected one of %s, got %s'
                                % (option, ', '.join(FS_GROUP_CHANGE_POLICIES), _short(policy)))
        if 'fsGroup' not in metadata:
            raise ArgumentError('%s.fsGroupChangePolicy=%s needs %s.fsGroup: kata only honours the policy together '
                                'with fsGroup' % (option, policy, option))
    return metadata


def _build_options(value, option):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ArgumentError('%s: expected a list of strings, got %s %s' % (option, type(value).__name__, _short(value)))
    options = []
    for index, item in enumerate(value):
        options.append(_check_text(item, '%s[%d]' % (option, index), allow_empty=False))
    return options


def mount_info_option_form(info):
    """The option form (``volume_type``, ``device``, ``fstype``, ``metadata``, ``options``) of kata's MountInfo."""
    if info is None:
        return None
    return {
        'volume_type': info.get('volume-type', ''),
        'device': info.get('device', ''),
        'fstype': info.get('fstype', ''),
        'metadata': dict(info.get('metadata') or {}),
        'options': list(info.get('options') or []),
    }


def _json_kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, dict):
        return 'object'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, str):
        return 'string'
    if value is None:
        return 'null'
    return 'number'


def parse_mount_info(data):
    """Kata's view of a ``mountInfo.json`` (bytes): its MountInfo with JSON keys, as Go's ``json.Unmarshal`` fills
    the struct. Keys match case-insensitively (an exact match wins), unknown keys are ignored, ``null`` leaves a
    field empty. Raises ValueError (with Go-like wording) when kata could not read it."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise ValueError('it is not UTF-8')
    try:
        pairs = json.loads(text, object_pairs_hook=_Pairs)
    except ValueError as exc:
        raise ValueError('it is not valid JSON: %s' % exc)
    except RecursionError:
        raise ValueError('it is not valid JSON: arrays or objects nested too deeply') from None
    if pairs is None:
        return {'volume-type': '', 'device': '', 'fstype': ''}
    if not isinstance(pairs, _Pairs):
        raise ValueError('cannot unmarshal %s into Go value of type MountInfo' % _json_kind(_plain(pairs)))
    fields = dict((json_key, None) for _key, json_key in MOUNT_INFO_KEYS)
    for key, value in pairs:
        field = key if key in fields else next((f for f in fields if f.lower() == key.lower()), None)
        if field is None or value is None:
            continue
        value = _plain(value)
        if field in _STRING_FIELDS:
            ok = isinstance(value, str)
            expected = 'string'
        elif field == 'metadata':
            ok = isinstance(value, dict) and all(isinstance(v, str) or v is None for v in value.values())
            expected = 'map[string]string'
        else:
            ok = isinstance(value, list) and all(isinstance(v, str) or v is None for v in value)
            expected = '[]string'
        if not ok:
            raise ValueError('cannot unmarshal %s into Go struct field MountInfo.%s of type %s'
                             % (_json_kind(value), field, expected))
        fields[field] = value
    info = {
        'volume-type': fields['volume-type'] or '',
        'device': fields['device'] or '',
        'fstype': fields['fstype'] or '',
    }
    if fields['metadata']:
        info['metadata'] = dict((k, v or '') for k, v in sorted(fields['metadata'].items()))
    if fields['options']:
        info['options'] = [v or '' for v in fields['options']]
    return info


class _Pairs(list):
    """A JSON object as its ``(key, value)`` pairs in document order (Go assigns duplicate keys in that order)."""


def _plain(value):
    """A value parsed with ``object_pairs_hook=_Pairs`` as plain dicts and lists (the last duplicate key wins)."""
    if isinstance(value, _Pairs):
        return dict((k, _plain(v)) for k, v in value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def dump_mount_info(info):
    """``mountInfo.json``'s bytes for ``info`` (kata's MountInfo with JSON keys), as Go's ``json.Marshal`` of kata's
    struct writes them: compact, struct order, map keys sorted, ``<``, ``>``, ``&``, U+2028 and U+2029 escaped."""
    ordered = {}
    for _key, json_key in MOUNT_INFO_KEYS:
        if json_key in _STRING_FIELDS:
            ordered[json_key] = info.get(json_key, '')
        elif info.get(json_key):
            ordered[json_key] = dict(sorted(info[json_key].items())) if json_key == 'metadata' else list(info[json_key])
    text = json.dumps(ordered, separators=(',', ':'), ensure_ascii=False)
    for char, escape in (('<', '\\u003c'), ('>', '\\u003e'), ('&', '\\u0026'), ('\u2028', '\\u2028'),
                         ('\u2029', '\\u2029')):
        text = text.replace(char, escape)
    return text.encode('utf-8', 'surrogateescape')


def render_mount_info(info):
    """A readable text of ``info`` for diffs (indented JSON, keys in struct order, final newline)."""
    if info is None:
        return ''
    return json.dumps(json.loads(dump_mount_info(info).decode('utf-8', 'surrogateescape')), indent=2) + '\n'


# --------------------------------------------------------------------------------------------------------------------
# Sizes


def parse_size(value, option='size'):
    """Bytes (an int, 1 to 2**64-1) from an int or a size string.

    Strings: a number (a decimal fraction is allowed when the result is a whole number of bytes) and an optional
    unit: ``Ki Mi Gi Ti Pi Ei`` are powers of 1024, ``k``/``K M G T P E`` powers of 1000 (as in Kubernetes
    quantities), and a trailing ``B`` is allowed (``512MiB``, ``10GB``). ``10Gi`` is 10737418240, ``10G`` 10000000000.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ArgumentError('%s: expected a number of bytes or a size string like 10Gi, got %s %s'
                            % (option, type(value).__name__, _short(value)))
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE_RE.match(value.strip())
        if not match:
            raise ArgumentError('%s: invalid size %s: expected a number of bytes, optionally with a unit (Ki, Mi, Gi, '
                                'Ti, Pi, Ei for powers of 1024; k, M, G, T, P, E for powers of 1000), like 10Gi or '
                                '512M' % (option, _short(value)))
        whole, fraction, unit = match.groups()
        multiplier = _SIZE_UNITS[unit if unit in _SIZE_UNITS else unit[0].upper() + unit[1:]]
        # Zeros that do not change the value go first; what is left of a thousand digits or more is out of range (or
        # not a whole number of bytes), and Python refuses to convert such long digit strings to int at all.
        whole = whole.lstrip('0') or '0'
        fraction = (fraction or '').rstrip('0')
        if len(whole) + len(fraction) > 1000:
            raise ArgumentError('%s: the size %s is out of range: expected 1 to %d bytes' % (option, _short(value), MAX_SIZE))
        numerator = int(whole + fraction) * multiplier
        denominator = 10 ** len(fraction)
        if numerator % denominator:
            raise ArgumentError('%s: the size %s is not a whole number of bytes' % (option, _short(value)))
        size = numerator // denominator
    if not 1 <= size <= MAX_SIZE:
        raise ArgumentError('%s: the size %s is out of range: expected 1 to %d bytes' % (option, _short(value), MAX_SIZE))
    return size


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
        fd = os.open(MOUNT_INFO_FILE, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | os.O_NONBLOCK, dir_fd=vol_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return 'missing', None, None, None
        st = _lstat_at(MOUNT_INFO_FILE, vol_fd)
        if st is not None and stat.S_ISLNK(st.st_mode):
            return 'symlink', None, '(a symbolic link, not followed)', None
        raise KataError('cannot read %s: %s%s' % (path, _strerror(exc), _root_hint(exc)), path=path)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return 'other', None, '(not a regular file)', None
        chunks = []
        size = 0
        while size <= MOUNT_INFO_MAX_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b''.join(chunks)
    except OSError as exc:
        raise KataError('cannot read %s: %s' % (path, _strerror(exc)), path=path)
    finally:
        os.close(fd)
    mode = stat.S_IMODE(st.st_mode)
    if len(data) > MOUNT_INFO_MAX_BYTES:
        return 'invalid', None, '(larger than %d bytes)' % MOUNT_INFO_MAX_BYTES, mode
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
                os.fchmod(fd, FILE_MODE)
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
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
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
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


# --------------------------------------------------------------------------------------------------------------------
# Stats and resize through the shim


def stats_query(device):
    """The query string of ``/direct-volume/stats`` for ``device``: ``path=`` and Go's ``url.PathEscape`` of it, as
    kata-runtime sends. The shim unescapes it twice (query parsing, then ``PathUnescape``), so a device containing
    ``%``, ``+`` or ``&`` (which kata's encoding loses) is escaped a second time."""
    from urllib.parse import quote

    value = quote(device, safe="$&+:=@")
    if any(c in device for c in '%+&'):
        value = quote(value, safe='$:=@')
    return 'path=' + value


# runtime-rs answers the stats with the Rust Debug form of the agent's answer, not JSON:
# 4.1.0 src/runtime-rs/crates/agent/src/kata/trans.rs, From<csi::VolumeStatsResponse>:
#   format!("Usage: {:?} Volume Condition: {:?}", from.usage(), from.volume_condition())
# i.e. "Usage: [VolumeUsage { available: 1, total: 2, used: 1, unit: BYTES, special_fields: ... }, ...] Volume
# Condition: VolumeCondition { abnormal: false, message: \"OK\", special_fields: ... }" (rust-protobuf 3 messages
# derive Debug; an enum value prints its name, an unknown one its number).
_RUST_USAGE_RE = re.compile(r'VolumeUsage \{ available: (\d+), total: (\d+), used: (\d+), unit: ([A-Z_]+|-?\d+)')
_RUST_CONDITION_RE = re.compile(r'VolumeCondition \{ abnormal: (true|false), message: "((?:[^"\\]|\\.)*)"')
_RUST_UNITS = {'UNKNOWN': 0, 'BYTES': UNIT_BYTES, 'INODES': 2}
_RUST_ESCAPES = {'n': '\n', 'r': '\r', 't': '\t', '\\': '\\', '"': '"', "'": "'", '0': '\0'}


def _rust_unescape(text):
    """A Rust Debug string literal's content as text (escapes \\n \\t \\" \\\\ \\u{...} ...)."""
    return re.sub(r'\\(u\{([0-9a-fA-F]{1,6})\}|.)',
                  lambda m: chr(int(m.group(2), 16)) if m.group(2) else _RUST_ESCAPES.get(m.group(1), m.group(1)), text)


def parse_rust_stats(text):
    """runtime-rs's stats answer (see above) as the Go shim's JSON would give it: ``{'usage': [{available, total,
    used, unit}], 'volume_condition': {abnormal, message}}``; ValueError when it is not in that form."""
    if not text.startswith('Usage: [') or ' Volume Condition: ' not in text:
        raise ValueError('it does not start with "Usage: [" and name a "Volume Condition"')
    usage = [{'available': int(a), 'total': int(t), 'used': int(u), 'unit': _RUST_UNITS.get(unit, None)
              if not unit.lstrip('-').isdigit() else int(unit)}
             for a, t, u, unit in _RUST_USAGE_RE.findall(text.split(' Volume Condition: ', 1)[0])]
    condition = _RUST_CONDITION_RE.search(text.split(' Volume Condition: ', 1)[1])
    if condition is None:
        raise ValueError('its "Volume Condition" is not a VolumeCondition { abnormal, message }')
    return {'usage': usage, 'volume_condition': {'abnormal': condition.group(1) == 'true',
                                                 'message': _rust_unescape(condition.group(2))}}


def _rust_volume_stats(client, device):
    """runtime-rs (3.2.0 to 4.1.0 shim_mgmt/handlers.rs): POST only; the query is read with
    ``Url::parse(&req.uri().to_string())``, which fails for the usual origin-form target (a relative URL), so the
    request goes out in absolute form; ``path`` (form-decoded once) goes to the agent unchanged as the guest path
    (``virt_container/src/sandbox.rs`` ``direct_volume_stats``): no host-to-guest mapping as in the Go shim."""
    query = {'path': device}
    try:
        response = client.request('POST', STATS_URL, query=query, absolute_form=True)
    except ShimError as exc:
        if not exc.details.get('handler_failed'):
            raise
        raise ShimError('%s. runtime-rs hands the path it is given to the agent unchanged as the path of the volume '
                        'inside the guest, and kata\'s record names the host device %s, which the guest sees under '
                        'another path: the agent then cannot open it' % (exc.msg, device), **exc.details) from None
    body = client.expect_ok(response)
    try:
        return parse_rust_stats(body.decode('utf-8', 'replace'))
    except ValueError as exc:
        raise ShimError('the runtime-rs shim answered POST %s with text that is not its stats form: %s'
                        % (STATS_URL, exc), url=response.url, status=200, body=body[:2048].decode('utf-8', 'replace'))


def volume_stats(client, device):
    """The guest's stats of the volume whose host device is ``device``: the shim's answer, parsed (JSON from the Go
    shim, runtime-rs's text form converted to the same shape)."""
    if client.runtime == 'rust':
        return _rust_volume_stats(client, device)
    response = client.request('GET', STATS_URL, query=stats_query(device))
    if client.learn_runtime(response) == 'rust':
        # An explicit shim_socket of runtime-rs, which serves the stats with POST only.
        return _rust_volume_stats(client, device)
    body = client.expect_ok(response)
    try:
        stats = json.loads(body.decode('utf-8'))
    except RecursionError:
        raise ShimError('the shim answered GET %s with JSON nested too deeply to be read' % STATS_URL,
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=None) from None
    except ValueError as exc:
        raise ShimError('the shim answered GET %s with something that is not JSON: %s' % (STATS_URL, exc),
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=body[:2048].decode('utf-8', 'replace'))
    if not isinstance(stats, dict):
        raise ShimError('the shim answered GET %s with JSON that is not an object' % STATS_URL,
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=None)
    return stats


def bytes_total(stats):
    """The total bytes the guest reports (the usage entry with unit 1, BYTES), or None."""
    for usage in stats.get('usage') or []:
        if isinstance(usage, dict) and usage.get('unit') in (UNIT_BYTES, 'BYTES'):
            total = usage.get('total', 0)
            if isinstance(total, int) and not isinstance(total, bool):
                return total
    return None


def resize_volume(client, device, size, sandbox_id=None):
    """POST kata's resize request for ``device`` (``{"VolumePath": device, "Size": size}``).

    kata 3.0.0's agent does not implement ResizeVolume (the shim answers 500 ``... is not supported``; 4.0.0 says
    ``not implemented``): that is reported as such.
    """
    where = 'sandbox %s' % sandbox_id if sandbox_id else 'the sandbox'
    if client.runtime == 'rust':
        # runtime-rs deserialises agent::ResizeVolumeRequest (4.1.0 src/runtime-rs/crates/agent/src/types.rs) with
        # serde_json: the field names are volume_guest_path and size, both required.
        body = {'volume_guest_path': device, 'size': size}
    else:
        body = {'VolumePath': device, 'Size': size}
    try:
        response = client.request('POST', RESIZE_URL, body=json.dumps(body, separators=(',', ':')),
                                  content_type='application/json')
    except ShimError as exc:
        if not exc.details.get('handler_failed'):
            raise
        raise ShimError('cannot resize %s to %d bytes in %s: %s. The Kata agent does not implement ResizeVolume '
                        '(3.x answers "not supported", 4.0.0 to at least 4.1.0 "resize_volume is not implemented in '
                        'kata-agent"), and runtime-rs hands the path to the agent unchanged as a guest path'
                        % (device, size, where, exc.msg), **exc.details) from None
    if response.status == 200:
        return
    text = response.body.decode('utf-8', 'replace').strip()
    if response.status == 500 and ('not supported' in text or 'not implemented' in text.lower()):
        raise ShimError('cannot resize %s to %d bytes: the Kata agent of %s does not support resizing volumes '
                        '(kata-agent 3.0.0 up to at least 4.0.0 does not implement ResizeVolume); the agent said: %s'
                        % (device, size, where, text), url=response.url, status=response.status, body=text)
    raise ShimError('cannot resize %s to %d bytes in %s: POST %s answered HTTP %d: %s'
                    % (device, size, where, RESIZE_URL, response.status, text or '(empty body)'),
                    url=response.url, status=response.status, body=text)


# --------------------------------------------------------------------------------------------------------------------
# The module


def _diff(before, after, directory):
    path = os.path.join(directory, MOUNT_INFO_FILE)

    def text(state):
        if state is None or state['entry'] != 'directory':
            return ''
        if state['mount_info_state'] == 'valid':
            return render_mount_info(state['mount_info'])
        return (state['raw'] or '').rstrip('\n') + '\n' if state['raw'] else ''

    def header(state):
        if state is None or state['entry'] == 'missing':
            return '%s (absent)' % path
        if state['entry'] == 'other':
            return '%s (not a directory)' % directory
        modes = 'directory mode %s' % ('%04o' % state['dir_mode'] if state['dir_mode'] is not None else '-')
        if state['file_mode'] is not None:
            modes += ', file mode %04o' % state['file_mode']
        return '%s (%s)' % (path, modes)
    return {'before': text(before), 'after': text(after), 'before_header': header(before), 'after_header': header(after)}


def _attached_client(module, sandbox_id, directory):
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import is_valid_sandbox_id, shim_client

    if not is_valid_sandbox_id(sandbox_id):
        raise KataError('the sandbox recorded for the volume, the entry %r in %s, is not a valid sandbox ID'
                        % (sandbox_id, directory), path=directory)
    return shim_client(module.params, sandbox_id)


def _stats_and_resize(module, sandbox_id, directory, device, size, result, diffs):
    """Read the guest's stats of the volume; grow it when ``size`` is larger than its total (not in check mode).
    Returns the stats (read again after a resize). Sets ``result['changed']`` and adds the size diff when growing."""
    client = _attached_client(module, sandbox_id, directory)
    stats = volume_stats(client, device)
    if size is None:
        return stats
    total = bytes_total(stats)
    if total is None:
        raise ShimError('cannot decide whether to resize %s: the guest reported no byte usage for it' % device,
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=None)
    if total >= size:
        return stats
    result['changed'] = True
    diffs.append({'before': 'size: %d\n' % total, 'after': 'size: %d\n' % size,
                  'before_header': '%s (guest file system size)' % device,
                  'after_header': '%s (guest file system size)' % device})
    if module.check_mode:
        return stats
    resize_volume(client, device, size, sandbox_id)
    return volume_stats(client, device) if module.params['stats'] else stats


def direct_volume_module(module):
    """The work of the kata_direct_volume module: returns its result dict."""
    p = module.params
    if p['state'] == 'absent':
        # Any record kata-runtime (or an earlier version of this module) may have written can be removed.
        volume_path = validate_volume_path(p['volume_path'])
    else:
        volume_path = check_mount_source(p['volume_path'])
    volume_root = p['volume_root'] or DEFAULT_VOLUME_ROOT
    if '\0' in volume_root:
        raise ArgumentError('volume_root: invalid path %s: it contains a NUL character' % _short(volume_root))
    directory = volume_directory(volume_root, volume_path)
    result = {'changed': False}

    if p['state'] == 'absent':
        outcome = ensure_absent(volume_root, volume_path, check_mode=module.check_mode)
        before = outcome['before']
        if outcome['changed'] and before['sandbox_id']:
            module.warn('the removed volume %s was recorded as used by sandbox %s; its record is gone, the volume '
                        'itself stays attached to the running sandbox' % (volume_path, before['sandbox_id']))
        result['changed'] = outcome['changed']
        result['volume'] = {'volume_path': volume_path, 'directory': directory, 'mount_info': None, 'sandbox_id': None}
        if module._diff:  # pylint: disable=protected-access
            result['diff'] = _diff(before, None, directory)
        return result

    if p['mount_info'] is None:
        raise ArgumentError('mount_info is required with state=present')
    wanted = build_mount_info(p['mount_info'])
    size = parse_size(p['size']) if p['size'] is not None else None

    outcome = ensure_present(volume_root, volume_path, wanted, check_mode=module.check_mode)
    after = outcome['after']
    result['changed'] = outcome['changed']
    sandbox_id = after['sandbox_id']
    volume = {'volume_path': volume_path, 'directory': directory, 'mount_info': mount_info_option_form(wanted),
              'sandbox_id': sandbox_id}
    diffs = [_diff(outcome['before'], after, directory)]

    if (p['stats'] or size is not None) and sandbox_id is None:
        if size is not None:
            module.warn('size is not applied: no sandbox uses the volume %s yet, and only a sandbox can resize it'
                        % volume_path)
        if p['stats']:
            volume['stats'] = None
    elif p['stats'] or size is not None:
        try:
            volume['stats'] = _stats_and_resize(module, sandbox_id, directory, wanted['device'], size, result, diffs)
        except KataError as exc:
            # The record may have been written already (a resize that failed changed nothing): say so.
            exc.details.setdefault('changed', outcome['changed'])
            exc.details.setdefault('volume', volume)
            raise
        if not p['stats']:
            del volume['stats']
    result['volume'] = volume
    if module._diff:  # pylint: disable=protected-access
        result['diff'] = diffs[0] if len(diffs) == 1 else diffs
    return result
