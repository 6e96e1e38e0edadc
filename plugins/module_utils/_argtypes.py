# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Option values of the wrong JSON type are refused, not converted.

ansible-core converts an option value to the type its argument spec declares: a list or a dictionary given where a
string is expected becomes its Python text (``[1]`` becomes ``"[1]"``), a boolean becomes ``"True"``. kata-runtime
decodes its input with Go's ``encoding/json``, which refuses a value of the wrong type (``json: cannot unmarshal
array into Go struct field MountInfo.device of type string``, kata-containers ``src/runtime/pkg/direct-volume/
utils.go`` ``Add``, called by ``src/runtime/cmd/kata-runtime/kata-volume.go``). The collection does the same, for
every option of every module, before ansible-core converts anything:

* ``str`` and ``path``: a string; a number, a boolean, a list or a dictionary is refused;
* ``int``: an integer, or a string that spells one in decimal digits (``"42"``, ``" -3 "``); a boolean, a number
  with a fraction part and any other string are refused;
* ``float``: a number (not a boolean), or a string that spells one in decimal (``"2.5"``, ``"1e-3"``); ``"nan"``,
  ``"inf"``, ``"1_000"`` and other spellings Python alone would read are refused;
* ``bool``: a boolean, one of ansible-core's boolean strings (``yes``, ``no``, ``true``, ``false``, ``on``, ``off``,
  ``y``, ``n``, ``t``, ``f``, ``1``, ``0``, any case) or the integers 0 and 1;
* ``list``: a list, or a string (ansible-core splits it at commas), each item checked against ``elements``; a number,
  a boolean or a dictionary is refused;
* ``dict``: a dictionary, or a string holding a JSON object or ``key=value`` pairs (as ansible-core reads it); its
  keys are checked against the sub-options; anything else is refused;
* ``raw`` and anything else: not checked here (the module checks it).

``None`` (null) is always accepted here: it means "not set". The message names the option's path
(``mount_info.device``, ``argv[2]``), the JSON type found and what was expected; a value is quoted only when its
option is not ``no_log``.
"""

from __future__ import annotations

import re

from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr

# ansible-core's boolean spellings (ansible.module_utils.parsing.convert_bool.BOOLEANS), compared in lower case.
_BOOLEAN_STRINGS = frozenset(('y', 'yes', 'on', '1', 'true', 't', 'n', 'no', 'off', '0', 'false', 'f'))
_INT_RE = re.compile(r'^\s*[+-]?[0-9]+\s*$', re.ASCII)
_FLOAT_RE = re.compile(r'^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$', re.ASCII)
_TEXT_TYPES = ('str', 'path')
_EXPECTED = {
    'str': 'a string',
    'path': 'a string (a path)',
    'int': 'an integer (or a string of decimal digits)',
    'float': 'a number (or a string spelling one in decimal)',
    'bool': 'a boolean (or one of yes, no, true, false, on, off, 1, 0)',
    'list': 'a list',
    'dict': 'a dictionary',
}
_HINT = '; a value of the wrong type is refused rather than converted, like kata-runtime refuses it'
_QUOTE_HINT = ' (quote a number or a boolean in YAML to give it as a string)'
NO_LOG_PLACEHOLDER = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def json_type(value):
    """The JSON name of ``value``'s type, with Ansible's word for it."""
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, (list, tuple)):
        return 'an array (a list)'
    if isinstance(value, dict):
        return 'an object (a dictionary)'
    return 'a %s' % type(value).__name__


def _quote(value, secret, limit=40):
    return '' if secret else ' %s' % short_repr(value, limit)


class _TypeMismatch(Exception):
    pass


def _refuse(path, kind, value, secret, detail=''):
    expected = _EXPECTED.get(kind, 'a %s' % kind)
    hint = _HINT + (_QUOTE_HINT if kind in _TEXT_TYPES and isinstance(value, (bool, int, float)) else '')
    quoted = _quote(value, secret) if isinstance(value, str) else ''
    raise _TypeMismatch('%s: expected %s, got %s%s%s%s' % (path, expected, json_type(value), quoted, detail, hint))


def _spec_for(spec, name):
    """The entry of ``spec`` for the option or alias ``name``, or None (ansible-core reports unknown options)."""
    if name in spec:
        return spec[name]
    for entry in spec.values():
        if name in (entry.get('aliases') or ()):
            return entry
    return None


def _check_options(spec, params, prefix):
    if not isinstance(params, dict):
        return
    for name, value in params.items():
        if not isinstance(name, str) or name.startswith('_ansible_'):
            continue
        entry = _spec_for(spec, name)
        if entry is None or value is None:
            continue
        _check_value(entry, entry.get('type', 'str'), value, '%s%s' % (prefix, name), bool(entry.get('no_log')))


def _as_dict(value):
    """A string given for a dictionary, read as ansible-core reads it, or None when it cannot be read."""
    try:
        parsed = check_type_dict(value)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _check_value(entry, kind, value, path, secret):
    if not isinstance(kind, str) or value is None:
        return  # a callable type, or a null list item (ansible-core's own rules apply)
    if kind in _TEXT_TYPES:
        if not isinstance(value, str):
            _refuse(path, kind, value, secret)
    elif kind == 'int':
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            _refuse(path, kind, value, secret)
        if isinstance(value, str) and not _INT_RE.match(value):
            _refuse(path, kind, value, secret, ', which is not an integer in decimal digits')
    elif kind == 'float':
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            _refuse(path, kind, value, secret)
        if isinstance(value, str) and not _FLOAT_RE.match(value):
            _refuse(path, kind, value, secret, ', which is not a number in decimal')
    elif kind == 'bool':
        if isinstance(value, bool):
            return
        if isinstance(value, int) and value in (0, 1):
            return
        if isinstance(value, str) and value.strip().lower() in _BOOLEAN_STRINGS:
            return
        _refuse(path, kind, value, secret, ', which is not one of the boolean spellings' if isinstance(value, str)
                else '')
    elif kind == 'list':
        if isinstance(value, str):
            value = value.split(',')  # ansible-core's reading of a string given for a list
        elif not isinstance(value, (list, tuple)):
            _refuse(path, kind, value, secret)
        elements = entry.get('elements')
        if elements:
            element_entry = {'type': elements, 'options': entry.get('options')}
            for index, item in enumerate(value):
                _check_value(element_entry, elements, item, '%s[%d]' % (path, index), secret)
    elif kind == 'dict':
        if isinstance(value, str):
            parsed = _as_dict(value)
            if parsed is None:
                _refuse(path, kind, value, secret, ', which is neither a JSON object nor key=value pairs')
            value = parsed
        elif not isinstance(value, dict):
            _refuse(path, kind, value, secret)
        if entry.get('options'):
            _check_options(entry['options'], value, '%s.' % path)


def type_error(argument_spec, params):
    """The message for the first option value of ``params`` (raw, as the module received them) whose JSON type
    does not fit ``argument_spec``, or None when every value fits."""
    if not isinstance(params, dict):
        return None
    try:
        _check_options(argument_spec, params, '')
    except _TypeMismatch as exc:
        return str(exc)
    return None


def masked_params(argument_spec, params):
    """``params`` with the values of ``no_log`` options (and their sub-options) replaced, for a failure's
    ``invocation``: the values ansible-core would mask have not been collected yet when the types are checked."""
    if not isinstance(params, dict):
        return {}
    masked = {}
    for name, value in params.items():
        if isinstance(name, str) and name.startswith('_ansible_'):
            continue
        entry = _spec_for(argument_spec, name) or {}
        if entry.get('no_log') and value is not None:
            masked[name] = NO_LOG_PLACEHOLDER
        elif entry.get('options') and isinstance(value, dict):
            masked[name] = masked_params(entry['options'], value)
        else:
            masked[name] = value
    return masked
