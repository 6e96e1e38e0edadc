# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): Go and TOML typing, as BurntSushi/toml and kata's serialisation show
them in messages (``%q`` quoting, Go type names, TOML key paths) and the kernel command line.
"""

from __future__ import annotations

import json

from ansible_collections.katacontainers.kata.plugins.module_utils._arch import ARCH_ALIASES, ARCHITECTURES
from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import _BARE_KEY, _BOOL, _GO_SPACE, _IMAGES, _LIST, _STR
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ConfigError
from ansible_collections.katacontainers.kata.plugins.module_utils._toml import toml_module


def _toml_module():
    """The TOML parser module (_toml.toml_module)."""
    return toml_module()


def normalize_arch(arch):
    """Return kata's GOARCH name for ``arch`` (``x86_64`` -> ``amd64``); ArgumentError when unknown."""
    try:
        return ARCH_ALIASES[arch]
    except (KeyError, TypeError):
        raise ArgumentError('arch: unsupported architecture %r (supported: %s)'
                            % (arch, ', '.join(sorted(ARCHITECTURES))))


def go_quote(value):
    """Go's %q for a string (close enough: printable non-ASCII kept, quotes and backslashes escaped)."""
    return json.dumps(value, ensure_ascii=False)


def _toml_repr(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        return '[%s]' % ', '.join(_toml_repr(item) for item in value)
    return str(value)


def _key_string(parts):
    """BurntSushi's Key.String(): dotted, with non-bare parts double-quoted."""
    out = []
    for part in parts:
        out.append(part if _BARE_KEY.match(part) else go_quote(part))
    return '.'.join(out)


def _go_type(value):
    """The Go type name BurntSushi reports (%T) for a decoded TOML value."""
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int64'
    if isinstance(value, float):
        return 'float64'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, dict):
        return 'map[string]interface {}'
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return '[]map[string]interface {}'
        return '[]interface {}'
    return 'time.Time'


def _walk_keys(parts, value):
    """Yield the dotted key of ``value`` and of everything below it, in document order."""
    yield _key_string(parts)
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk_keys(parts + [key], child)
    elif isinstance(value, list):
        for element in value:
            if isinstance(element, dict):
                for key, child in element.items():
                    yield from _walk_keys(parts + [key], child)


def _go_fields(text):
    """Go's strings.Fields (splits on Unicode white space)."""
    return [item for item in _GO_SPACE.split(text) if item]


def serialize_params(params):
    """kata's SerializeParams(params, '='), joined by one space."""
    out = []
    for key, value in params:
        if key == '' and value == '':
            continue
        if key == '':
            out.append(value)
        elif value == '':
            out.append(key)
        else:
            out.append('%s=%s' % (key, value))
    return ' '.join(out)


def _zero(kind):
    """Go's zero value of a value kind (what an unset key holds)."""
    if kind == _STR:
        return ''
    if kind == _BOOL:
        return False
    if kind in (_LIST, _IMAGES):
        return []
    return 0


def parse_toml(data, path):
    """The TOML document in ``data`` (the bytes of the host file ``path``; a UTF-8 byte order mark is skipped, as
    BurntSushi/toml and serde do), or ConfigError with kata's ``error decoding file`` wording."""
    toml_module = _toml_module()
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    try:
        return toml_module.loads(data.decode('utf-8'))
    except UnicodeDecodeError as exc:
        raise ConfigError('error decoding file %s: invalid UTF-8: %s' % (go_quote(path), exc), path=path)
    except ValueError as exc:
        raise ConfigError('error decoding file %s: %s' % (go_quote(path), exc), path=path)
    except RecursionError:
        # tomllib/tomli parse nested arrays and inline tables recursively: a deep enough nesting exhausts the stack.
        raise ConfigError('error decoding file %s: arrays or inline tables nested too deeply' % go_quote(path),
                          path=path) from None
