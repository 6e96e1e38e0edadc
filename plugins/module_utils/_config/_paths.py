# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): where the configuration file is on the host, as kata-runtime looks
for it and as the collection looks for it (options ``config`` and ``runtime``, the default paths, the container
engines' handlers), symbolic links resolved under the host root, and the bounded read of a file.
"""

from __future__ import annotations

import errno
import os
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import go_quote
from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import (
    DEFAULT_CONFIG_PATHS,
    MAX_CONFIG_SIZE,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ConfigError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import (
    file_kind as _file_kind,
    FileTooLarge,
    local_path as _local,
    NotRegularFile,
    open_file,
    read_fd,
    resolve_under,
    ResolveError as _ResolveError,
)


def _absolute(path, host_root):
    """kata's filepath.Abs + Clean, for a path given on the host (relative paths are taken from /)."""
    if not path.startswith('/'):
        path = os.path.abspath(path) if host_root in ('/', '') else '/' + path
    path = os.path.normpath(path)
    if path.startswith('//'):
        path = '/' + path.lstrip('/')
    return path


def _describe(exc, original):
    """kata's wording for a _ResolveError: ``file <p> does not exist`` or Go's ``lstat <p>: <error>``."""
    if exc.errno == errno.ENOENT:
        return 'file %s does not exist' % original
    if exc.errno == errno.ELOOP:
        return 'EvalSymlinks: too many links'
    return 'lstat %s: %s' % (exc.path, os.strerror(exc.errno).lower())


def resolve_path(host_root, path):
    """Resolve every symlink of the host path ``path`` inside ``host_root`` (Go's filepath.EvalSymlinks, chrooted).

    Returns the resolved host path. An absolute link target restarts at ``host_root``; ``..`` never climbs above it.
    Raises _ResolveError (errno, host path that failed) when a component is missing or unreadable.
    """
    return resolve_under(host_root, path)


def _lookup(host_root, config):
    """Return (resolved path or None, tried host paths, [(path, error text)])."""
    host_root = host_root or '/'
    if config and '\0' in config:
        raise ArgumentError('config: invalid path %r: it contains a NUL character' % (config,))
    if config:
        wanted = _absolute(config, host_root)
        try:
            return resolve_path(host_root, wanted), [wanted], []
        except _ResolveError as exc:
            raise ConfigError('Cannot find usable config file (%s)' % _describe(exc, wanted), path=wanted)
    tried, errors = [], []
    for candidate in DEFAULT_CONFIG_PATHS:
        tried.append(candidate)
        try:
            return resolve_path(host_root, candidate), tried, errors
        except _ResolveError as exc:
            errors.append((candidate, _describe(exc, candidate)))
    return None, tried, errors


def find_config(host_root='/', config=None):
    """Find the configuration file as kata-runtime does; return ``(resolved host path or None, tried host paths)``.

    ``config`` (an explicit file) must exist: ConfigError ``Cannot find usable config file (file <p> does not
    exist)`` otherwise. Without it the default paths are tried in order and ``None`` means none exists (see
    ``require_config`` for kata's error).
    """
    path, tried, dummy = _lookup(host_root, config)
    return path, tried


def require_config(host_root='/', config=None):
    """Like ``find_config`` but raise kata's exact error when no default file exists; return the resolved path."""
    path, dummy, errors = _lookup(host_root, config)
    if path is None:
        raise ConfigError('Cannot find usable config file (%s)' % ', '.join(
            'config file %s unresolvable: %s' % (go_quote(candidate), text) for candidate, text in errors),
            tried=list(DEFAULT_CONFIG_PATHS))
    return path


# The collection's default lookup (option ``config`` and ``runtime`` both unset), in order:
# 1. the Go runtime's own paths (GetDefaultConfigFilePaths: /etc, then the distribution's /usr/share/defaults);
# 2. runtime-rs's distribution paths (kata-types default::DEFAULT_RUNTIME_CONFIGURATIONS);
# 3. kata-deploy's prefix /opt/kata (tools/packaging/kata-deploy/binary/src/utils/system.rs) for both runtimes, then
#    its MULTI_INSTALL_SUFFIX prefixes /opt/kata-<suffix>, sorted;
# 4. the runtime handlers of the host's container engines (_runtimes.find_handlers): ``kata``, then ``kata-qemu``,
#    then the first handler whose configuration file exists, in the engines' order.
KATA_DEPLOY_PREFIX = '/opt/kata'
_DEFAULTS_DIR = '/share/defaults/kata-containers'
DEFAULT_LOOKUP = DEFAULT_CONFIG_PATHS + (
    '/etc/kata-containers/runtime-rs/configuration.toml',
    '/usr/share/defaults/kata-containers/runtime-rs/configuration.toml',
    KATA_DEPLOY_PREFIX + _DEFAULTS_DIR + '/configuration.toml',
    KATA_DEPLOY_PREFIX + _DEFAULTS_DIR + '/runtime-rs/configuration.toml',
)
_PREFERRED_HANDLERS = ('kata', 'kata-qemu')


class ConfigLocation(object):
    """Where the configuration comes from: ``path`` (resolved host path, or None), ``source`` (``option``,
    ``runtime:<handler>``, ``default:<path looked up>``, ``engine:<handler>``), ``runtime`` (``go``/``rust`` when the
    handler tells, else None: detect), ``handler`` (the runtime handler dict, or None), ``tried`` (host paths)."""

    def __init__(self, path, source, runtime=None, handler=None, tried=None, warnings=None):
        self.path = path
        self.source = source
        self.runtime = runtime
        self.handler = handler
        self.tried = tried or []
        self.warnings = warnings or []


def _suffix_candidates(host_root):
    try:
        names = sorted(os.listdir(_local(host_root, resolve_path(host_root, '/opt'))))
    except (_ResolveError, OSError):
        return []
    out = []
    for name in names:
        if name.startswith('kata-') and len(name) > 5:
            prefix = '/opt/' + name + _DEFAULTS_DIR
            out.extend((prefix + '/configuration.toml', prefix + '/runtime-rs/configuration.toml'))
    return out


def handler_location(handler):
    """The ConfigLocation of a runtime handler (a ``_runtimes.find_handlers`` entry); ConfigError when its
    configuration file does not exist."""
    runtime = handler['handler']
    if not handler['config_exists']:
        raise ConfigError('runtime handler %s (%s, defined in %s) uses the configuration file %s, which does not '
                          'exist' % (runtime, handler['engine'], handler['source'], handler['config']),
                          path=handler['config'], handler=runtime)
    return ConfigLocation(handler['config'], 'runtime:%s' % runtime, handler['runtime'], handler,
                          tried=[handler['config']])


def locate_config(host, config=None, runtime=None):
    """Find the configuration to use on ``host`` (a _probes.Host); return a ConfigLocation (``path`` None: none).

    ``config`` (a file) and ``runtime`` (a runtime handler name of the host's container engines) are mutually
    exclusive; with neither, the default lookup above is followed. An explicit file or handler whose configuration
    does not exist is a ConfigError; an unknown handler an ArgumentError listing the known ones.
    """
    root = host.root
    if config and runtime:
        raise ArgumentError('parameters are mutually exclusive: config|runtime (config is a file, runtime a runtime '
                            'handler whose configuration file is used)')
    if config:
        return ConfigLocation(require_config(root, config), 'option', tried=[_absolute(config, root)])
    from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
    if runtime:
        return handler_location(_runtimes.find_handler(host, runtime))
    tried = []
    for candidate in DEFAULT_LOOKUP + tuple(_suffix_candidates(root)):
        tried.append(candidate)
        try:
            resolved = resolve_path(root, candidate)
        except _ResolveError:
            continue
        if os.path.isfile(_local(root, resolved)):
            return ConfigLocation(resolved, 'default:%s' % candidate, tried=tried)
    handlers, warnings = _runtimes.find_handlers(host)
    usable = [h for h in handlers if h['config_exists']]
    usable.sort(key=lambda h: _PREFERRED_HANDLERS.index(h['handler']) if h['handler'] in _PREFERRED_HANDLERS
                else len(_PREFERRED_HANDLERS))
    tried.append('the runtime handlers of the container engines (%s)' % (
        ', '.join(h['handler'] for h in handlers) or 'none found'))
    if usable:
        handler = usable[0]
        return ConfigLocation(handler['config'], 'engine:%s' % handler['handler'], handler['runtime'], handler,
                              tried=tried, warnings=warnings)
    return ConfigLocation(None, None, tried=tried, warnings=warnings)


def _read_regular(local_path, host_path):
    """Read a regular file without ever blocking on a FIFO or following a last-moment symlink."""
    st = os.lstat(local_path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(_file_kind(st.st_mode))
    if st.st_size > MAX_CONFIG_SIZE:
        raise ConfigError('Kata configuration file %s is too large (%d bytes; the limit is %d bytes)'
                          % (go_quote(host_path), st.st_size, MAX_CONFIG_SIZE), path=host_path)
    fd = open_file(local_path)
    try:
        return read_fd(fd, MAX_CONFIG_SIZE)
    except FileTooLarge:
        raise ConfigError('Kata configuration file %s is too large (more than %d bytes)'
                          % (go_quote(host_path), MAX_CONFIG_SIZE), path=host_path)
    finally:
        os.close(fd)
