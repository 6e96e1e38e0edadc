# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): the Go runtime's loader, reading and typing a file, its ``config.d``
drop-ins merged key by key, and the host facts the builders need (CPUs, memory).
"""

from __future__ import annotations

import copy
import errno
import math
import os
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._config._builders import _HypervisorBuilders
from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import (
    _go_type,
    _key_string,
    parse_toml,
    _toml_repr,
    _walk_keys,
    go_quote,
    normalize_arch,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._paths import (
    _absolute,
    _describe,
    _read_regular,
    resolve_path,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import (
    _BOOL,
    _F32,
    _IMAGES,
    _INT64_MAX,
    _INT64_MIN,
    _LIST,
    _MAP_TABLES,
    _RANGES,
    _SCHEMAS,
    _STR,
    _STRUCT_TABLES,
    _U64,
    MAX_VCPUS,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ConfigError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import (
    file_kind as _file_kind,
    local_path as _local,
    NotRegularFile,
    ResolveError as _ResolveError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import (
    GO_HYPERVISOR_TYPES,
    HYPERVISOR_TYPES,
    RUST_HYPERVISOR_TYPES,
)


class KataConfig(object):
    """The loaded configuration: what kata-runtime's RuntimeConfig holds, as TOML-named dicts."""

    def __init__(self, path, drop_ins, warnings, hypervisor_type, hypervisor, agent, runtime, factory,
                 kernel_params, hypervisor_tables=None, runtime_kind='go', runtime_kind_reason='', keys_set=()):
        self.keys_set = frozenset(keys_set)
        self.runtime_kind = runtime_kind
        self.runtime_kind_reason = runtime_kind_reason
        self.path = path
        self.drop_ins = drop_ins
        self.warnings = warnings
        self.hypervisor_type = hypervisor_type
        self.hypervisor = hypervisor
        self.agent = agent
        self.runtime = runtime
        self.factory = factory
        self.kernel_params = kernel_params
        self.hypervisor_tables = hypervisor_tables or []

    def to_dict(self):
        """A plain, JSON-safe copy."""
        return dict(
            path=self.path,
            drop_ins=list(self.drop_ins),
            warnings=list(self.warnings),
            hypervisor_type=self.hypervisor_type,
            hypervisor_tables=list(self.hypervisor_tables),
            hypervisor=copy.deepcopy(self.hypervisor),
            agent=copy.deepcopy(self.agent),
            runtime=copy.deepcopy(self.runtime),
            factory=copy.deepcopy(self.factory),
            kernel_params=self.kernel_params,
            runtime_kind=self.runtime_kind,
            runtime_kind_reason=self.runtime_kind_reason,
        )


class _Loader(_HypervisorBuilders):
    def __init__(self, host_root, arch, host_cpus, host_memory_mib):
        self.root = host_root or '/'
        self.arch = normalize_arch(arch)
        self.host_cpus = host_cpus
        self.host_memory_mib = host_memory_mib
        self.warnings = []
        self.sources = {}
        self.path = None
        self.htype = None

    # ---------------------------------------------------------------- reading and decoding

    def read(self, host_path, resolved_host_path):
        try:
            data = _read_regular(_local(self.root, resolved_host_path), host_path)
        except NotRegularFile as exc:
            raise ConfigError('Kata configuration file %s is %s, not a regular file' % (go_quote(host_path), exc.kind),
                              path=host_path)
        except (IOError, OSError) as exc:
            raise ConfigError('error reading file %s: open %s: %s'
                              % (go_quote(host_path), host_path, (exc.strerror or str(exc)).lower()), path=host_path)
        return data

    def decode(self, data, path):
        """Parse and type one file; return (typed document, undecoded keys, unknown keys of map tables)."""
        parsed = parse_toml(data, path)
        doc = dict((table, {}) for table in _SCHEMAS)
        undecoded, unknown = [], []
        for top, value in parsed.items():
            if top in _MAP_TABLES:
                if not isinstance(value, dict):
                    self._bad_type(path, [top], 'map', value)
                schema = _SCHEMAS[top]
                for name, table in value.items():
                    if not isinstance(table, dict):
                        self._decode_error(path, [top, name], 'type mismatch for katautils.%s: expected table but found %s'
                                           % (top, _go_type(table)))
                    typed = doc[top].setdefault(name, {})
                    for key, item in table.items():
                        if key in schema:
                            typed[key] = self._convert(path, [top, name, key], schema[key], item)
                        else:
                            undecoded.extend(_walk_keys([top, name, key], item))
                            unknown.append((top, name, key))
            elif top in _STRUCT_TABLES:
                if not isinstance(value, dict):
                    self._decode_error(path, [top], 'type mismatch for katautils.%s: expected table but found %s'
                                       % (top, _go_type(value)))
                schema = _SCHEMAS[top]
                for key, item in value.items():
                    if key in schema:
                        doc[top][key] = self._convert(path, [top, key], schema[key], item)
                    else:
                        undecoded.extend(_walk_keys([top, key], item))
            else:
                undecoded.extend(_walk_keys([top], value))
        return doc, undecoded, unknown

    @staticmethod
    def _decode_error(path, parts, text, value=None, show_value=False):
        msg = 'error decoding file %s: toml: (last key %s): %s' % (go_quote(path), go_quote(_key_string(parts)), text)
        if show_value:
            msg += ' (value %s)' % _toml_repr(value)
        raise ConfigError(msg, path=path, key=_key_string(parts), value=value)

    def _bad_type(self, path, parts, destination, value):
        self._decode_error(path, parts, 'incompatible types: TOML value has type %s; destination has type %s'
                           % (_go_type(value), destination), value, show_value=not isinstance(value, (dict, list)))

    def _convert(self, path, parts, kind, value):
        if kind == _STR:
            if not isinstance(value, str):
                self._bad_type(path, parts, 'string', value)
            return value
        if kind == _BOOL:
            if not isinstance(value, bool):
                self._bad_type(path, parts, 'boolean', value)
            return value
        if kind == _LIST:
            if not isinstance(value, list):
                self._bad_type(path, parts, 'slice', value)
            for item in value:
                if not isinstance(item, str):
                    self._bad_type(path, parts, 'string', item)
            return list(value)
        if kind == _F32:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self._bad_type(path, parts, 'float', value)
            if isinstance(value, float) and math.isnan(value):
                self._decode_error(path, parts, 'nan is not a number of vCPUs', value)
            if abs(value) > 3.4028234663852886e38:
                self._decode_error(path, parts, '%s is out of range for float32' % value, value)
            return value
        if kind == _IMAGES:
            return self._images(path, parts, value)
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad_type(path, parts, 'integer', value)
        if value < _INT64_MIN or value > _INT64_MAX:
            self._decode_error(path, parts, '%d is out of range for int64' % value, value)
        if kind in _RANGES:
            low, high = _RANGES[kind]
            if value < low or value > high:
                self._decode_error(path, parts, '%d is out of range for %s' % (value, kind), value)
        elif kind == _U64 and value < 0:
            value += 1 << 64  # Go's uint64(int64) conversion: BurntSushi does not check the sign for uint64
        return value

    def _images(self, path, parts, value):
        """``[[hypervisor.X.guest_extension_images]]``: a list of tables of strings {name, path, verity_params}."""
        if not isinstance(value, list):
            self._bad_type(path, parts, 'slice', value)
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self._bad_type(path, parts, 'struct', item)
            entry = dict(name='', path='', verity_params='')
            for key, field in item.items():
                if key in entry:
                    entry[key] = self._convert(path, parts + [str(index), key], _STR, field)
                else:
                    self.warnings.append('%s: undecoded key %s' % (go_quote(path), _key_string(parts + [key])))
            out.append(entry)
        return out

    # ---------------------------------------------------------------- drop-ins

    def drop_ins(self, resolved_main):
        dir_host = os.path.join(os.path.dirname(resolved_main), 'config.d')
        try:
            resolved_dir = resolve_path(self.root, dir_host)
            names = sorted(os.listdir(_local(self.root, resolved_dir)))
        except _ResolveError as exc:
            if exc.errno == errno.ENOENT:
                return []
            raise ConfigError('error reading %s directory: %s' % (go_quote(dir_host), _describe(exc, dir_host)),
                              path=dir_host)
        except OSError as exc:
            raise ConfigError('error reading %s directory: open %s: %s'
                              % (go_quote(dir_host), dir_host, (exc.strerror or str(exc)).lower()), path=dir_host)
        found = []
        for name in names:
            entry = dir_host + '/' + name
            try:
                target = resolve_path(self.root, entry)
                st = os.lstat(_local(self.root, target))
            except _ResolveError as exc:
                self.warnings.append('config.d entry %s skipped: %s (kata-runtime fails reading it)'
                                     % (entry, _describe(exc, entry)))
                continue
            except OSError as exc:
                self.warnings.append('config.d entry %s skipped: %s' % (entry, exc.strerror))
                continue
            if not stat.S_ISREG(st.st_mode):
                self.warnings.append('config.d entry %s skipped: it is %s, not a regular file (kata-runtime fails '
                                     'reading it)' % (entry, _file_kind(st.st_mode)))
                continue
            found.append((entry, target))
        return found

    def merge(self, base, doc, unknown, path):
        for top, name, key in unknown:
            raise ConfigError("error applying key '%s' from drop-in file %s: error getting key %s from a decoded "
                              'drop-in conf file: key %s not found'
                              % (_key_string([top, name, key]), go_quote(path), go_quote(key), go_quote(key)),
                              path=path, key=_key_string([top, name, key]))
        for top in _MAP_TABLES:
            for name, table in doc[top].items():
                for key, value in table.items():
                    if name not in base[top]:
                        base[top][name] = {}
                        self.sources[(top, name)] = path
                    base[top][name][key] = value
                    self.sources[(top, name, key)] = path
        for top in _STRUCT_TABLES:
            for key, value in doc[top].items():
                base[top][key] = value
                self.sources[(top, key)] = path

    # ---------------------------------------------------------------- errors and assets

    def source(self, *key):
        return self.sources.get(tuple(key), self.path)

    def fail(self, key, value, text, source_key=None, shown=None):
        """ConfigError ``<file>: <table.key> = <value>: <kata's text>``; the file is the one that set ``source_key``."""
        path = self.source(*source_key) if source_key else self.path
        if shown is None:
            shown = key if value is None else '%s = %s' % (key, _toml_repr(value))
        raise ConfigError('%s: %s: %s' % (path, shown, text), path=path, key=key, value=value)

    def asset(self, key, value, required_by_kata=True):
        """Resolve an asset path inside the root; keep it and warn when it is missing."""
        if not value:
            return ''
        wanted = _absolute(value, self.root)
        try:
            return resolve_path(self.root, wanted)
        except _ResolveError as exc:
            if required_by_kata:
                self.warnings.append('%s: %s (kata-runtime refuses a configuration whose %s is missing)'
                                     % (key, _describe(exc, wanted), key.rsplit('.', 1)[-1]))
            else:
                self.warnings.append('%s: %s' % (key, _describe(exc, wanted)))
            return wanted

    # ---------------------------------------------------------------- hypervisor

    def host_cpu_count(self):
        if self.host_cpus is not None:
            return int(self.host_cpus)
        count = None
        if self.root not in ('/', ''):
            count = _online_cpus(_local(self.root, '/sys/devices/system/cpu/online'))
        if count is None:
            try:
                count = len(os.sched_getaffinity(0))
            except (AttributeError, OSError):
                count = os.cpu_count() or 1
        return count

    def host_memory(self):
        if self.host_memory_mib is not None:
            return int(self.host_memory_mib)
        try:
            with open(_local(self.root, '/proc/meminfo'), 'rb') as handle:
                for line in handle.read(65536).decode('ascii', 'replace').splitlines():
                    if line.startswith('MemTotal:'):
                        return int(line.split()[1]) // 1024
        except (IOError, OSError, ValueError, IndexError):
            pass
        return None

    def max_vcpus(self, requested):
        numcpus = self.host_cpu_count()
        if requested >= numcpus or requested == 0:
            requested = numcpus
        return min(requested, MAX_VCPUS[self.arch])


def _online_cpus(path):
    """Count the CPUs of a /sys/devices/system/cpu/online list (``0-3,6``); None when unreadable."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read(4096).decode('ascii').strip()
        count = 0
        for part in text.split(','):
            if '-' in part:
                low, high = part.split('-', 1)
                count += int(high) - int(low) + 1
            elif part:
                count += 1
        return count or None
    except (IOError, OSError, ValueError, UnicodeDecodeError):
        return None


def _choose_hypervisor(loader, tables, hypervisor, described, known=GO_HYPERVISOR_TYPES, runtime_name='kata-runtime'):
    if hypervisor is not None:
        if hypervisor not in HYPERVISOR_TYPES:
            raise ArgumentError('hypervisor: unknown hypervisor type %r (known types: %s)'
                                % (hypervisor, ', '.join(HYPERVISOR_TYPES)))
        if hypervisor not in known:
            raise ConfigError('hypervisor %s was chosen but %s is a %s configuration, which has no %s hypervisor '
                              '(its types: %s)' % (hypervisor, described, 'runtime-rs' if known is RUST_HYPERVISOR_TYPES
                                                   else 'Go runtime', hypervisor, ', '.join(known)),
                              path=loader.path, tables=list(tables))
        if hypervisor not in tables:
            raise ConfigError('hypervisor %s was chosen but %s has no [hypervisor.%s] table (tables found: %s)'
                              % (hypervisor, described, hypervisor,
                                 ', '.join('[hypervisor.%s]' % t for t in tables) or 'none'),
                              path=loader.path, tables=list(tables))
        return hypervisor
    if not tables:
        return None
    if len(tables) > 1:
        raise ConfigError('%s defines several hypervisor tables (%s); kata-runtime would use one of them at random: '
                          'set the hypervisor option to choose one' % (described, ', '.join(
                              '[hypervisor.%s]' % t for t in tables)), path=loader.path, tables=list(tables))
    if tables[0] not in known:
        raise ConfigError('%s: [hypervisor.%s] is not a known hypervisor type (known types: %s); %s would fail with '
                          '"configuration file contains invalid hypervisor section"'
                          % (loader.source('hypervisor', tables[0]) or described, tables[0], ', '.join(known),
                             runtime_name), path=loader.path, tables=list(tables))
    return tables[0]
