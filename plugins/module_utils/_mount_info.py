# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer: kata's direct-volume mount information (``mountInfo.json``) as the runtime reads and writes it.

kata's ``MountInfo`` struct (kata-containers 3.0.0, ``src/runtime/pkg/direct-volume/utils.go``) holds the keys
``volume-type``, ``device``, ``fstype``, ``metadata`` and ``options`` (the last two left out when empty, like Go's
``omitempty``). This module builds the record from kata_direct_volume's option form, parses a file the way kata
does (Go's ``encoding/json``: keys matched case-insensitively, unknown keys ignored), and writes the JSON Go's
``json.Marshal`` gives for the struct. It reads and writes no file (see _volume_store).
"""

from __future__ import annotations

import json
import re

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr as _short

MOUNT_INFO_FILE = 'mountInfo.json'
MOUNT_INFO_MAX_BYTES = 1024 * 1024
FS_GROUP_CHANGE_POLICIES = ('Always', 'OnRootMismatch')
MAX_GID = 4294967294  # (gid_t)-1 is "no group"

# kata's MountInfo struct: (option key, JSON key), in the struct's (and so json.Marshal's) order.
MOUNT_INFO_KEYS = (('volume_type', 'volume-type'), ('device', 'device'), ('fstype', 'fstype'),
                   ('metadata', 'metadata'), ('options', 'options'))
_STRING_FIELDS = ('volume-type', 'device', 'fstype')


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
