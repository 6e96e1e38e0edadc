# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The Kata runtime handlers of a host's container engines, read from the engines' own configuration files.

Every file is read through a ``Host`` (``_probes.Host``) and every path resolved with ``_config._paths.resolve_path``, so
a host mounted elsewhere (``host_root``) is read as that host sees itself and nothing resolves outside its root.

containerd (containerd/containerd ``cmd/containerd/server/config/config.go``, ``LoadConfig``, ``resolveImports``,
``mergeConfig``):

* the main file, then its ``imports`` breadth first, each file once (a path already loaded is skipped, which also
  ends import cycles); a relative import is taken from the importing file's directory; an import with ``*`` is a
  glob (Go's ``filepath.Glob``: matches in lexical order, nothing when nothing matches);
* the runtime handlers are ``plugins.<id>.containerd.runtimes.<handler>`` where ``<id>`` follows the file's
  ``version``: ``cri`` (1, or no version), ``"io.containerd.grpc.v1.cri"`` (2), ``"io.containerd.cri.v1.runtime"``
  (3 and later, containerd 2.x). An imported file without ``version`` is read with the main file's version (this is
  how kata-deploy's drop-in, written without one, is read), and containerd 2.x migrates an imported version 2 file;
* merging: containerd 2.x (config version 3) merges the imported plugin tables key by key; containerd 1.x
  (version 2 and older) replaces a whole plugin table with the one of a later file (``mergeConfig``: "Replace entire
  sections instead of merging map's values"), so handlers of an earlier file can vanish; this is followed, with a
  warning naming what was replaced;
* the shim: ``runtime_path`` when set, else ``containerd-shim-<name>-<version>`` from the last two dot-separated
  parts of ``runtime_type`` (``BinaryName`` in ``core/runtime/v2/binary.go``) searched in the service's PATH; the
  configuration file: ``[...runtimes.<handler>.options] ConfigPath``.

Where the files are: ``/etc/containerd/config.toml``; k3s and rke2 render theirs to
``/var/lib/rancher/{k3s,rke2}/agent/etc/containerd/config.toml`` from ``config[-v3].toml.tmpl``, and kata-deploy
4.x writes ``config[-v3].toml.d/kata-deploy.toml`` beside them, which the rendered file must import; k0s reads
``/etc/k0s/containerd.toml``, merges the CRI fragments of ``/etc/k0s/containerd.d/*.toml`` into
``/run/k0s/containerd-cri.toml`` (all three are read here). kata-deploy (kata-containers
``tools/packaging/kata-deploy/binary/src/config.rs``, ``runtime/containerd.rs``, 4.1.0) writes its handlers to
``<dest>/containerd/config.d/kata-deploy.toml`` imported by the main file, or to ``/etc/containerd/conf.d/`` when the
main file imports that directory.

CRI-O (cri-o/cri-o ``pkg/config/config.go``, ``UpdateFromFile``, ``UpdateFromPath``): ``/etc/crio/crio.conf``, then
every file under ``/etc/crio/crio.conf.d`` walked in lexical order whatever its name (kata-deploy's
``99-kata-deploy`` has no extension); ``[crio.runtime.runtimes.<handler>]`` with ``runtime_path`` (default: the
handler's name in PATH), ``runtime_type`` (``vm`` for Kata) and ``runtime_config_path``. A handler defined again by
a later file replaces the earlier definition.

A handler is Kata's when its ``runtime_type`` is ``io.containerd.kata*.v2`` (containerd) or, for CRI-O, its type is
``vm`` and its shim is a ``containerd-shim-kata*-v2``. It is served by runtime-rs when its shim resolves into a
``runtime-rs`` directory (kata-deploy ``utils/system.rs``: ``<dest>/runtime-rs/bin/containerd-shim-kata-v2``),
else by the Go runtime.

The configuration file of a handler: the engine's path (``ConfigPath``/``runtime_config_path``) or
``KATA_CONF_FILE`` in the environment systemd gives the engine's service (the Go shim prefers the engine's path,
``containerd-shim-v2/create.go`` ``loadRuntimeConfig``; runtime-rs the variable, ``crates/runtimes/src/manager.rs``
``load_config``; from 4.0 both accept the variable only when it resolves to one of their default files), else the
shim's own lookup: the Go runtime (``src/runtime/pkg/katautils/config.go``, ``GetDefaultConfigFilePaths``, with the paths of
``src/runtime/Makefile``: ``/etc/kata-containers/configuration.toml`` then
``<PREFIX>/share/defaults/kata-containers/configuration.toml``, PREFIX being ``/opt/kata`` for kata-deploy's
static build and ``/usr`` otherwise), runtime-rs (``src/libs/kata-types/src/config/default.rs``,
``DEFAULT_RUNTIME_CONFIGURATIONS`` of 3.2 and later). Symlinks are resolved as both runtimes do (``ResolvePath``,
``fs::canonicalize``): the result is the real file, whose ``config.d`` applies.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import posixpath
import re
import stat

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ProbeError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import ResolveError as _ResolveError
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import resolve_under as resolve_path
from ansible_collections.katacontainers.kata.plugins.module_utils._runtime_version import runtime_version
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr
from ansible_collections.katacontainers.kata.plugins.module_utils._toml import toml_module

ENGINE_CONTAINERD = 'containerd'
ENGINE_CRIO = 'crio'

# Larger than any real engine or Kata configuration file.
MAX_FILE_SIZE = 4 * 1024 * 1024
# containerd's LoadConfig has no limit; a bound keeps a pathological import graph harmless.
MAX_FILES = 1000

# The PATH systemd gives services (systemd.exec(5)), where containerd and CRI-O look for shims.
SERVICE_PATH = ('/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin')

# (name, main files, extra PATH directories, fragment globs read after the main files, systemd units)
CONTAINERD_SETUPS = (
    ('containerd', ('/etc/containerd/config.toml',), (), (), ('containerd',)),
    ('k3s', ('/var/lib/rancher/k3s/agent/etc/containerd/config.toml',), ('/var/lib/rancher/k3s/data/current/bin',),
     (), ('k3s', 'k3s-agent')),
    ('rke2', ('/var/lib/rancher/rke2/agent/etc/containerd/config.toml',),
     ('/var/lib/rancher/rke2/bin', '/var/lib/rancher/rke2/data/current/bin'), (), ('rke2-server', 'rke2-agent')),
    ('k0s', ('/etc/k0s/containerd.toml', '/run/k0s/containerd-cri.toml'), ('/var/lib/k0s/bin',),
     ('/etc/k0s/containerd.d/*.toml',), ('k0sworker', 'k0scontroller')),
)
CRIO_UNITS = ('crio',)

# systemd's unit search path for the system manager (systemd.unit(5)), highest priority first.
UNIT_DIRS = ('/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system',
             '/lib/systemd/system')

CRIO_MAIN = '/etc/crio/crio.conf'
CRIO_DROP_IN_DIR = '/etc/crio/crio.conf.d'

PLUGIN_V1 = 'cri'
PLUGIN_V2 = 'io.containerd.grpc.v1.cri'
PLUGIN_V3 = 'io.containerd.cri.v1.runtime'

GO_DEFAULT_SYSCONF = '/etc/kata-containers/configuration.toml'
KATA_DEPLOY_PREFIX = '/opt/kata'
DISTRO_PREFIX = '/usr'
# kata-containers src/libs/kata-types/src/config/default.rs (3.2.0 to 4.1.0)
RUST_DEFAULT_CONFIGS = (
    '/etc/kata-containers/runtime-rs/configuration.toml',
    '/usr/share/defaults/kata-containers/runtime-rs/configuration.toml',
    '/opt/kata/share/defaults/kata-containers/runtime-rs/configuration.toml',
)

_KATA_RUNTIME_TYPE = re.compile(r'^io\.containerd\.kata[^.]*\.v2$')
# What a Kubernetes RuntimeClass can name (k8s.io/api node/v1 RuntimeClass.Handler: a DNS label, RFC 1123).
_RUNTIMECLASS_HANDLER = re.compile(r'[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\Z')
_KATA_SHIM_NAME = re.compile(r'^containerd-shim-kata[^/]*-v2$')
_KATA_DEPLOY_DEST = re.compile(r'/opt/kata(?:-[^/]+)?$')  # kata-deploy config.rs dest_dir
_SHIM_UNDER_PREFIX = re.compile(r'^(/.*?)/(?:runtime-rs/)?bin/containerd-shim-kata-v2$')
_CTL_VERSION = re.compile(r'version "([^"]+)"')
_CTL_VERSION_PARTS = re.compile(r'^(.+?)-[0-9a-f]{7,40}(?:-dirty)?-\d+\.\d+\.\d+$')


def _plugin_for_version(version):
    if version >= 3:
        return PLUGIN_V3
    if version == 2:
        return PLUGIN_V2
    return PLUGIN_V1


def _clean(path):
    """A host path made absolute (from ``/``) and cleaned like Go's filepath.Clean."""
    return posixpath.normpath('/' + path.lstrip('/'))


class _Reader(object):
    """Reads and parses files of one host, collecting warnings instead of failing."""

    def __init__(self, host):
        self.host = host
        self.warnings = []

    def warn(self, text):
        if text not in self.warnings:
            self.warnings.append(text)

    def real(self, host_path):
        """The host path with every symlink resolved inside the root; _ResolveError when it cannot be."""
        if '\0' in host_path:
            raise _ResolveError(errno.EINVAL, host_path)
        return resolve_path(self.host.root, host_path)

    def exists(self, host_path):
        try:
            self.real(host_path)
        except _ResolveError:
            return False
        return True

    def is_executable_file(self, host_path):
        try:
            real = self.real(host_path)
            st = os.stat(self.host.path(real))
        except (_ResolveError, OSError, ProbeError):
            return False
        return stat.S_ISREG(st.st_mode) and bool(st.st_mode & 0o111)

    def listdir(self, host_dir):
        """Names in a host directory, sorted; None when it is not a readable directory."""
        try:
            real = self.real(host_dir)
            local = self.host.path(real)
            if not stat.S_ISDIR(os.stat(local).st_mode):
                return None
            return sorted(os.listdir(local))
        except (_ResolveError, OSError, ProbeError):
            return None

    def lexists(self, host_path):
        """Whether the path exists without following its last component (a dangling symlink exists)."""
        return _is_link(self.host, host_path) or self.exists(host_path)

    def load_toml(self, host_path, what):
        """The parsed TOML document of a host file; None (and a warning naming the file) when it cannot be read.

        ``what`` says what the file is, for the warning. A missing file is None without a warning.
        """
        try:
            text = self.host.read_text(host_path, limit=MAX_FILE_SIZE)
        except ProbeError as exc:
            err = exc.details.get('errno')
            if err in (errno.ENOENT, errno.ENOTDIR):
                if _is_link(self.host, host_path):
                    self.warn('Cannot read %s %s: it is a symbolic link to a file that does not exist'
                              % (what, host_path))
                return None
            if err:
                reason = os.strerror(err)
            elif 'too many levels of symbolic links' in exc.msg:
                reason = 'too many levels of symbolic links'
            else:
                reason = exc.msg.rsplit(': ', 1)[-1]
            self.warn('Cannot read %s %s: %s' % (what, host_path, reason))
            return None
        except ArgumentError as exc:
            self.warn('Cannot read %s %s: %s' % (what, host_path, exc.msg))
            return None
        try:
            return toml_module().loads(text)
        except (ValueError, RecursionError) as exc:
            self.warn('Cannot parse %s %s: %s' % (what, host_path, exc))
            return None

    def glob(self, pattern):
        """Go's filepath.Glob over host paths: the matching host paths in lexical order per directory."""
        parts = [p for p in pattern.split('/') if p]
        found = ['/']
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            nxt = []
            for base in found:
                if not _has_meta(part):
                    candidate = posixpath.join(base, part)
                    if last:
                        if self.exists(candidate) or _is_link(self.host, candidate):
                            nxt.append(candidate)
                    else:
                        nxt.append(candidate)
                    continue
                names = self.listdir(base)
                if names is None:
                    continue
                matcher = part.replace('[^', '[!')
                nxt.extend(posixpath.join(base, name) for name in names if fnmatch.fnmatchcase(name, matcher))
            found = nxt
            if not found:
                break
        return found


def _is_link(host, host_path):
    try:
        return stat.S_ISLNK(os.lstat(host.path(posixpath.dirname(host_path)) + '/' + posixpath.basename(host_path))
                            .st_mode)
    except (OSError, ProbeError, ArgumentError):
        return False


def _has_meta(part):
    return any(char in part for char in '*?[\\')


def _table(doc, *keys):
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc if isinstance(doc, dict) else None


def _deep_merge(into, update):
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        elif isinstance(value, dict):
            into[key] = _deep_merge({}, value)
        else:
            into[key] = value
    return into


# ---------------------------------------------------------------------------------------------------------------
# containerd

def _resolve_imports(parent, imports, reader):
    """containerd's resolveImports (2.x): relative paths from the importing file's directory, ``*`` globs."""
    out = []
    if not isinstance(imports, list):
        reader.warn('containerd ignores the imports of %s: expected a list of paths, found %r' % (parent, imports))
        return out
    for item in imports:
        if not isinstance(item, str) or not item or '\0' in item:
            reader.warn('containerd cannot use the import %r of %s: expected a path' % (item, parent))
            continue
        path = item if item.startswith('/') else posixpath.join(posixpath.dirname(parent), item)
        path = _clean(path)
        if '*' in path:
            out.extend(reader.glob(path))
        else:
            out.append(path)
    return out


def _containerd_setup(reader, name, mains, path_dirs, fragments, units):
    """The handlers of one containerd setup, in the order containerd reads its files."""
    pending = []
    main_version = None
    for main in mains:
        if reader.exists(main):
            pending.append(main)
        elif _is_link(reader.host, main):
            reader.warn('containerd (%s): %s is a symbolic link that cannot be resolved' % (name, main))
    for pattern in fragments:
        pending.extend(reader.glob(pattern))
    if not pending:
        return []
    loaded = set()
    handlers = {}   # plugin id -> {handler: {'table': merged table, 'source': the file that last defined it}}
    order = []
    count = 0
    while pending:
        path = pending.pop(0)
        if path in loaded:
            continue
        loaded.add(path)
        count += 1
        if count > MAX_FILES:
            reader.warn('containerd (%s): more than %d configuration files through imports; the rest were not read'
                        % (name, MAX_FILES))
            break
        doc = reader.load_toml(path, 'containerd configuration')
        if doc is None:
            if not reader.lexists(path) and path not in mains:
                reader.warn('containerd (%s) imports %s, which does not exist' % (name, path))
            continue
        version = doc.get('version')
        if not isinstance(version, int) or isinstance(version, bool):
            version = None
        if main_version is None:
            # Without a version containerd reads config version 1; k0s generates version 2 files.
            main_version = version if version is not None else (2 if name == 'k0s' else 1)
        file_version = version if version is not None else main_version
        plugin = _plugin_for_version(file_version)
        target = _plugin_for_version(main_version) if main_version >= 3 else plugin
        plugins = _table(doc, 'plugins') or {}
        _warn_ignored_plugins(reader, name, path, plugins, plugin, file_version)
        section = _table(plugins, plugin)
        if section is not None and main_version < 3:
            # containerd 1.x: the later plugin table replaces the earlier one entirely.
            previous = handlers.get(target, {})
            runtimes_now = _table(section, 'containerd', 'runtimes') or {}
            lost = [h for h, entry in previous.items()
                    if h not in runtimes_now and _is_kata_containerd(entry['table'])]
            if lost:
                reader.warn('containerd (%s, config version %d): the [plugins."%s"] table of %s replaces the one of %s '
                            'entirely, so the handlers %s defined there are not used (containerd 1.x merges imports '
                            'plugin by plugin)' % (name, main_version, plugin, path,
                                                   ', '.join(sorted(set(previous[h]['source'] for h in lost))),
                                                   ', '.join(lost)))
            handlers[target] = {}
            order = [entry for entry in order if entry[0] != target]
        runtimes = _table(section, 'containerd', 'runtimes') if section is not None else None
        if not runtimes:
            pending.extend(_resolve_imports(path, doc.get('imports', []), reader))
            continue
        bucket = handlers.setdefault(target, {})
        for handler, table in runtimes.items():
            if not isinstance(table, dict):
                reader.warn('containerd (%s): runtime %s in %s is not a table; containerd fails to load it'
                            % (name, handler, path))
                continue
            _warn_runtime_type(reader, 'containerd (%s)' % name, 'containerd', handler, path, table,
                               'io.containerd.kata.v2')
            entry = bucket.get(handler)
            if entry is None:
                entry = bucket[handler] = {'table': {}, 'source': path}
                order.append((target, handler))
            _deep_merge(entry['table'], table)
            if 'runtime_type' in table or 'runtime_path' in table or 'options' in table:
                entry['source'] = path
        pending.extend(_resolve_imports(path, doc.get('imports', []), reader))
    result = []
    env = None
    for target, handler in order:
        entry = handlers.get(target, {}).get(handler)
        if entry is None or not _is_kata_containerd(entry['table']):
            continue
        if env is None:
            env = service_environment(reader, units)
        result.append(_containerd_handler(reader, handler, entry, path_dirs, env))
    return result


def _warn_ignored_plugins(reader, name, path, plugins, plugin, version):
    for other in (PLUGIN_V1, PLUGIN_V2, PLUGIN_V3):
        if other == plugin:
            continue
        runtimes = _table(plugins, other, 'containerd', 'runtimes')
        if runtimes and any(isinstance(t, dict) and _is_kata_containerd(t) for t in runtimes.values()):
            reader.warn('containerd (%s) ignores the Kata handlers under [plugins."%s"] in %s: that file is read as '
                        'config version %d, whose runtimes are under [plugins."%s"]'
                        % (name, other, path, version, plugin))


def _warn_runtime_type(reader, who, engine, handler, path, table, example):
    """A runtime whose ``runtime_type`` is not a string is none of Kata's; the engine cannot read it either: say so."""
    runtime_type = table.get('runtime_type')
    if runtime_type is not None and not isinstance(runtime_type, str):
        reader.warn('%s: runtime %s in %s has a runtime_type that is not a string (%s), so it is not read as a Kata '
                    'handler; %s expects a string such as "%s"'
                    % (who, handler, path, short_repr(runtime_type), engine, example))


def _is_kata_containerd(table):
    runtime_type = table.get('runtime_type')
    return isinstance(runtime_type, str) and bool(_KATA_RUNTIME_TYPE.match(runtime_type))


def _binary_name(runtime_type):
    """containerd's BinaryName: ``io.containerd.kata-qemu.v2`` -> ``containerd-shim-kata-qemu-v2``."""
    parts = runtime_type.split('.')
    if len(parts) < 2 or not parts[0]:
        return None
    return 'containerd-shim-%s-%s' % (parts[-2], parts[-1])


def _search_path(reader, name, extra_dirs):
    for directory in tuple(extra_dirs) + SERVICE_PATH:
        candidate = posixpath.join(directory, name)
        if reader.is_executable_file(candidate):
            return candidate
    return None


def _containerd_handler(reader, handler, entry, path_dirs, env):
    table = entry['table']
    runtime_type = table['runtime_type']
    runtime_path = table.get('runtime_path')
    if isinstance(runtime_path, str) and runtime_path:
        shim = _clean(runtime_path)
    else:
        binary = _binary_name(runtime_type)
        shim = _search_path(reader, binary, path_dirs) if binary else None
        if shim is None:
            reader.warn('Runtime handler %s (containerd, %s): its shim %s is not in the PATH of containerd (%s)'
                        % (handler, entry['source'], binary, ':'.join(tuple(path_dirs) + SERVICE_PATH)))
    options = _table(table, 'options') or {}
    config_path = options.get('ConfigPath')
    if not isinstance(config_path, str) or not config_path:
        config_path = None
    return _finish(reader, handler, ENGINE_CONTAINERD, runtime_type, shim, config_path, entry['source'], env)


# ---------------------------------------------------------------------------------------------------------------
# CRI-O

def _crio_files(reader):
    files = []
    if reader.exists(CRIO_MAIN):
        files.append(CRIO_MAIN)
    files.extend(_walk(reader, CRIO_DROP_IN_DIR, 0))
    return files


def _walk(reader, host_dir, depth):
    """Go's filepath.Walk: lexical order, into subdirectories (not following symlinked directories)."""
    names = reader.listdir(host_dir)
    if names is None or depth > 16:
        return []
    out = []
    for name in names:
        path = posixpath.join(host_dir, name)
        try:
            st = os.lstat(reader.host.path(reader.real(host_dir)) + '/' + name)
        except (OSError, _ResolveError, ProbeError):
            continue
        if stat.S_ISDIR(st.st_mode):
            out.extend(_walk(reader, path, depth + 1))
        else:
            out.append(path)
    return out


def _crio_handlers(reader):
    handlers = {}
    order = []
    for path in _crio_files(reader):
        doc = reader.load_toml(path, 'CRI-O configuration')
        if doc is None:
            continue
        runtimes = _table(doc, 'crio', 'runtime', 'runtimes')
        if not runtimes:
            continue
        for handler, table in runtimes.items():
            if not isinstance(table, dict):
                reader.warn('CRI-O: runtime %s in %s is not a table' % (handler, path))
                continue
            _warn_runtime_type(reader, 'CRI-O', 'CRI-O', handler, path, table, 'vm')
            if handler not in handlers:
                order.append(handler)
            handlers[handler] = {'table': table, 'source': path}
    result = []
    env = None
    for handler in order:
        entry = handlers[handler]
        table = entry['table']
        runtime_path = table.get('runtime_path')
        if isinstance(runtime_path, str) and runtime_path:
            shim = _clean(runtime_path)
        else:
            shim = _search_path(reader, handler, ())
        if table.get('runtime_type') != 'vm' or shim is None:
            continue
        name = posixpath.basename(shim)
        real_name = None
        try:
            real_name = posixpath.basename(reader.real(shim))
        except _ResolveError:
            pass
        if not (_KATA_SHIM_NAME.match(name) or (real_name and _KATA_SHIM_NAME.match(real_name))):
            continue
        config_path = table.get('runtime_config_path')
        if not isinstance(config_path, str) or not config_path:
            config_path = None
        if env is None:
            env = service_environment(reader, CRIO_UNITS)
        result.append(_finish(reader, handler, ENGINE_CRIO, 'vm', shim, config_path, entry['source'], env))
    return result


# ---------------------------------------------------------------------------------------------------------------
# One handler: runtime, configuration file, hypervisor

def _shim_runtime(reader, shim, config_path):
    """('go' | 'rust', resolved shim host path or None)."""
    real = None
    if shim:
        try:
            real = reader.real(shim)
        except _ResolveError:
            real = None
    probe = real or shim or config_path or ''
    if '/runtime-rs/' in probe:
        return 'rust', real
    if real is None and config_path and '/runtime-rs/' in config_path:
        return 'rust', real
    return 'go', real


def default_config_paths(runtime, shim_real=None):
    """The configuration files a shim tries without ConfigPath, in order (see the module docstring)."""
    if runtime == 'rust':
        return list(RUST_DEFAULT_CONFIGS)
    prefix = DISTRO_PREFIX
    if shim_real:
        match = _SHIM_UNDER_PREFIX.match(shim_real)
        if match and _KATA_DEPLOY_DEST.search(match.group(1)):
            # kata-deploy's static build (PREFIX=/opt/kata), wherever INSTALLATION_PREFIX/MULTI_INSTALL_SUFFIX put it
            prefix = KATA_DEPLOY_PREFIX
    return [GO_DEFAULT_SYSCONF, prefix + '/share/defaults/kata-containers/configuration.toml']


def _finish(reader, handler, engine, runtime_type, shim, config_path, source, env=None):
    if _RUNTIMECLASS_HANDLER.match(handler) is None:
        reader.warn('Runtime handler %s (%s, %s): a Kubernetes RuntimeClass cannot name it (its handler must be a DNS '
                    'label: at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit)'
                    % (short_repr(handler), engine, source))
    runtime, shim_real = _shim_runtime(reader, shim, config_path)
    if shim and shim_real is None:
        reader.warn('Runtime handler %s (%s, %s): its shim %s does not exist' % (handler, engine, source, shim))
    env_path = (env or {}).get('KATA_CONF_FILE') or None
    # The Go shim takes the engine's path before KATA_CONF_FILE (containerd-shim-v2/create.go loadRuntimeConfig);
    # runtime-rs takes KATA_CONF_FILE first (runtime-rs crates/runtimes/src/manager.rs load_config).
    if env_path and (runtime == 'rust' or not config_path):
        chosen, how, what = env_path, 'environment', 'its configuration file (KATA_CONF_FILE of the %s service)' % engine
    elif config_path:
        chosen, how, what = config_path, 'engine', 'its configuration file'
    else:
        chosen, how, what = None, 'default', None
    config, exists = None, False
    if chosen:
        wanted = _clean(chosen)
        try:
            config, exists = reader.real(wanted), True
        except _ResolveError as exc:
            config = wanted
            reader.warn('Runtime handler %s (%s, %s): %s %s %s'
                        % (handler, engine, source, what, wanted, _resolve_text(exc, wanted)))
        if how == 'environment':
            _check_shipped(reader, handler, engine, source, runtime, shim_real, wanted, config if exists else None)
    else:
        tried = default_config_paths(runtime, shim_real)
        for candidate in tried:
            try:
                config, exists = reader.real(candidate), True
                break
            except _ResolveError:
                continue
        if not exists:
            reader.warn('Runtime handler %s (%s, %s) names no configuration file and none of the %s runtime\'s '
                        'default files exists (%s)' % (handler, engine, source,
                                                       'Go' if runtime == 'go' else 'runtime-rs', ', '.join(tried)))
    hypervisor = None
    if exists:
        hypervisor = _hypervisor(reader, handler, config)
    return {
        'handler': handler,
        'engine': engine,
        'runtime_type': runtime_type,
        'runtime': runtime,
        'shim_path': shim,
        'config': config,
        'config_exists': exists,
        'config_from': how,
        'hypervisor': hypervisor,
        'source': source,
    }


def _check_shipped(reader, handler, engine, source, runtime, shim_real, wanted, resolved):
    """Kata 4.0 and later accept KATA_CONF_FILE only when it resolves to one of the shim's default files."""
    for candidate in default_config_paths(runtime, shim_real):
        try:
            if resolved is not None and reader.real(candidate) == resolved:
                return
        except _ResolveError:
            continue
    reader.warn('Runtime handler %s (%s, %s): KATA_CONF_FILE=%s is not one of the %s runtime\'s default '
                'configuration files; Kata 4.0 and later refuse it ("only shipped Kata configuration files are '
                'accepted")' % (handler, engine, source, wanted, 'Go' if runtime == 'go' else 'runtime-rs'))


def _unit_lines(text):
    """(section, key, value) of a systemd unit file, with continuation lines joined (systemd.syntax(7))."""
    section, pending = None, ''
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ''
        if line.endswith('\\'):
            pending = line[:-1] + ' '
            continue
        if not line or line[0] in '#;':
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1]
            continue
        if '=' in line:
            key, value = line.split('=', 1)
            yield section, key.strip(), value.strip()


_ASSIGNMENT_TOKEN_RE = re.compile(
    r'(\s+)'                               # whitespace: ends a word
    r'|"((?:[^"\\]|\\.|\\\Z)*)(?:"|\Z)'  # double quotes (backslash escapes; unterminated runs to the end)
    r"|'((?:[^'\\]|\\.|\\\Z)*)(?:'|\Z)"  # single quotes, the same
    r'|([^\s"\']+)', re.S)                 # anything else
_ESCAPE_RE = re.compile(r'\\(.)', re.S)


def _split_assignments(value):
    """The words of an Environment= value: whitespace separated, double or single quotes group, a backslash in quotes
    escapes the next character (systemd.exec(5)).

    Tokens are matched by one regular expression and joined once per word: building a word a character at a time is
    quadratic in CPython whenever its in-place concatenation shortcut does not apply (16 s for one 1 MiB value).
    """
    words, parts, started = [], [], False
    for space, double, single, plain in _ASSIGNMENT_TOKEN_RE.findall(value):
        if space:
            if started:
                words.append(''.join(parts))
            parts, started = [], False
        elif plain:
            parts.append(plain)
            started = True
        else:
            parts.append(_ESCAPE_RE.sub(r'\1', double or single))
            started = True
    if started:
        words.append(''.join(parts))
    return words


def service_environment(reader, units):
    """The environment systemd gives the engine's service: Environment= and EnvironmentFile= of the unit file and of
    its ``.service.d/*.conf`` drop-ins (systemd.unit(5): the unit file of the highest-priority directory, drop-ins
    of every directory, a drop-in masking one of the same name in a lower-priority directory, applied in name order).

    The first of ``units`` that exists is read. EnvironmentFile= variables override Environment= ones, as in systemd.
    """
    for unit in units:
        name = unit + '.service'
        main = None
        for directory in UNIT_DIRS:
            if reader.exists(directory + '/' + name):
                main = directory + '/' + name
                break
        drop_ins = {}
        for directory in reversed(UNIT_DIRS):
            for entry in reader.listdir(directory + '/' + name + '.d') or ():
                if entry.endswith('.conf'):
                    drop_ins[entry] = directory + '/' + name + '.d/' + entry
        if main is None and not drop_ins:
            continue
        env, files = {}, []
        for path in [main] + [drop_ins[key] for key in sorted(drop_ins)]:
            if path is None:
                continue
            try:
                text = reader.host.read_text(path, limit=MAX_FILE_SIZE)
            except (ProbeError, ArgumentError):
                continue
            for section, key, value in _unit_lines(text):
                if section != 'Service':
                    continue
                if key == 'Environment':
                    if not value:
                        env = {}
                    for word in _split_assignments(value):
                        if '=' in word:
                            var, val = word.split('=', 1)
                            env[var] = val
                elif key == 'EnvironmentFile':
                    if not value:
                        files = []
                    else:
                        files.append(value)
        for item in files:
            optional = item.startswith('-')
            path = item[1:] if optional else item
            try:
                text = reader.host.read_text(path, limit=MAX_FILE_SIZE)
            except (ProbeError, ArgumentError):
                if not optional:
                    reader.warn('Cannot read %s, an EnvironmentFile of %s' % (path, name))
                continue
            for line in text.splitlines():
                line = line.strip()
                if not line or line[0] in '#;' or '=' not in line:
                    continue
                var, val = line.split('=', 1)
                val = val.strip()
                if len(val) > 1 and val[0] == val[-1] and val[0] in '"\'':
                    val = val[1:-1]
                env[var.strip()] = val
        return env
    return {}


def _resolve_text(exc, wanted):
    if '\0' in (exc.path or ''):
        return 'is not a valid path: it contains a NUL character'
    if exc.errno == errno.ENOENT:
        return 'does not exist (%s is missing)' % exc.path if exc.path and exc.path != wanted else 'does not exist'
    if exc.errno == errno.ELOOP:
        return 'cannot be resolved: too many levels of symbolic links'
    return 'cannot be resolved: %s: %s' % (exc.path, os.strerror(exc.errno or 0).lower())


def _hypervisor(reader, handler, config):
    """The name of the [hypervisor.<name>] table of the file (or of its config.d drop-ins when it has none)."""
    doc = reader.load_toml(config, 'Kata configuration (runtime handler %s)' % handler)
    names = []
    if doc is not None:
        names = list((_table(doc, 'hypervisor') or {}).keys())
    if not names:
        drop_in_dir = posixpath.join(posixpath.dirname(config), 'config.d')
        for name in reader.listdir(drop_in_dir) or ():
            drop = reader.load_toml(posixpath.join(drop_in_dir, name), 'Kata configuration drop-in')
            for table in (_table(drop, 'hypervisor') or {}) if drop else ():
                if table not in names:
                    names.append(table)
    if doc is not None and not names:
        reader.warn('Runtime handler %s: its configuration file %s has no [hypervisor.<name>] table' % (handler, config))
    if len(names) > 1:
        reader.warn('Runtime handler %s: its configuration file %s has several hypervisor tables (%s); %s is reported'
                    % (handler, config, ', '.join(names), names[0]))
    return names[0] if names else None


# ---------------------------------------------------------------------------------------------------------------
# Public API

def find_handlers(host):
    """All Kata runtime handlers of the host's container engines; returns ``(handlers, warnings)``.

    ``handlers`` is a list of dicts: handler, engine, runtime_type, runtime (``go``/``rust``), shim_path, config,
    config_exists, config_from (``engine``: the engine names the file; ``environment``: KATA_CONF_FILE of the
    engine's service; ``default``: the shim's own lookup),
    hypervisor, source. ``warnings`` are sentences about files that could not be read or do not exist.
    """
    reader = _Reader(host)
    handlers = []
    for name, mains, path_dirs, fragments, units in CONTAINERD_SETUPS:
        handlers.extend(_containerd_setup(reader, name, mains, path_dirs, fragments, units))
    handlers.extend(_crio_handlers(reader))
    return handlers, reader.warnings


def find_handler(host, name):
    """The handler called ``name`` (the first one when several engines define it); ArgumentError otherwise."""
    if not isinstance(name, str) or not name:
        raise ArgumentError('runtime: %r is not a runtime handler name; expected a name such as kata-qemu' % (name,))
    handlers, dummy = find_handlers(host)
    for handler in handlers:
        if handler['handler'] == name:
            return handler
    known = sorted(set(h['handler'] for h in handlers))
    raise ArgumentError('runtime: %s is not a Kata runtime handler of this host\'s container engines; %s'
                        % (name, 'the handlers found are: %s' % ', '.join(known) if known
                           else 'none was found in the containerd or CRI-O configuration'),
                        handlers=known)


def _install_prefixes(reader, handlers):
    prefixes = [DISTRO_PREFIX, '/usr/local', KATA_DEPLOY_PREFIX]
    for name in reader.listdir('/opt') or ():
        if name.startswith('kata-'):
            prefixes.append('/opt/' + name)
    for handler in handlers or ():
        shim = handler.get('shim_path') or ''
        match = _SHIM_UNDER_PREFIX.match(shim)
        if match and match.group(1) not in prefixes:
            prefixes.append(match.group(1))
    return prefixes


def _owns(reader, prefix, path):
    """Whether ``path`` is an executable that resolves inside ``prefix`` (not a link into another installation)."""
    if not reader.is_executable_file(path):
        return False
    try:
        return reader.real(path).startswith(reader.real(prefix) + '/')
    except _ResolveError:
        return False


def find_installations(host, run_command=None, handlers=None):
    """The Kata installations of the host: [{prefix, kata_runtime, kata_ctl, kata_runtime_version, kata_ctl_version}].

    A prefix is listed when ``<prefix>/bin`` holds kata-runtime, kata-ctl or a containerd-shim-kata-v2 (or
    ``<prefix>/runtime-rs/bin`` a runtime-rs shim) that is not a link into another prefix. Prefixes looked at:
    ``/usr``, ``/usr/local``, ``/opt/kata``, ``/opt/kata-*`` (kata-deploy's MULTI_INSTALL_SUFFIX) and the prefixes of
    the handlers' shims (kata-deploy's INSTALLATION_PREFIX; ``handlers`` as find_handlers returns them, found here
    when not given). The versions are those the binaries print, and only when ``run_command`` is given (a function
    like AnsibleModule.run_command) and the host is this machine; None otherwise.
    """
    reader = _Reader(host)
    if handlers is None:
        handlers = find_handlers(host)[0]
    found = []
    for prefix in _install_prefixes(reader, handlers):
        runtime = prefix + '/bin/kata-runtime'
        ctl = prefix + '/bin/kata-ctl'
        shims = (prefix + '/bin/containerd-shim-kata-v2', prefix + '/runtime-rs/bin/containerd-shim-kata-v2')
        has_runtime = reader.is_executable_file(runtime)
        has_ctl = reader.is_executable_file(ctl)
        if not (has_runtime or has_ctl or any(_owns(reader, prefix, shim) for shim in shims)):
            continue
        entry = {
            'prefix': prefix,
            'kata_runtime': runtime if has_runtime else None,
            'kata_ctl': ctl if has_ctl else None,
            'kata_runtime_version': None,
            'kata_ctl_version': None,
        }
        if run_command is not None and host.is_local:
            if has_runtime:
                entry['kata_runtime_version'] = kata_runtime_version(runtime, run_command)
            if has_ctl:
                entry['kata_ctl_version'] = kata_ctl_version(ctl, run_command)
        found.append(entry)
    return found


def _run(argv, run_command):
    try:
        rc, out, err = run_command(argv, handle_exceptions=False)
    except (OSError, ValueError):
        return None, ''
    return rc, (out or '') + '\n' + (err or '')


def kata_runtime_version(path, run_command):
    """The version ``kata-runtime --version`` prints (_runtime_version.runtime_version), or None."""
    return runtime_version(path, run_command)


def kata_ctl_version(path, run_command):
    """The release ``kata-ctl --json-logging version`` reports (kata-ctl ``ops/version.rs.in``), or None.

    kata-ctl logs ``kata-ctl version "<VERSION>-<commit>-<crate version>" (type: rust)``; the release is the part
    before the commit.
    """
    rc, text = _run([path, '--json-logging', 'version'], run_command)
    if rc != 0:
        return None
    for line in text.splitlines():
        line = line.strip()
        message = line
        if line.startswith('{'):
            try:
                message = json.loads(line).get('msg', '')
            except (ValueError, AttributeError):
                continue
        match = _CTL_VERSION.search(message or '')
        if match:
            full = match.group(1)
            parts = _CTL_VERSION_PARTS.match(full)
            return parts.group(1) if parts else full
    return None


def find_kata_runtime(host, runtime_path, get_bin_path, cfg=None):
    """The kata-runtime to run: ``runtime_path``, else the one of the installation that holds the configuration file
    used, else ``kata-runtime`` in the PATH, else the first installation's (kata-deploy: /opt/kata/bin, then
    /opt/kata-<suffix>/bin; ``_runtimes.find_installations``). None when there is none (or the host is not this one).
    """
    if runtime_path:
        if '\0' in runtime_path:
            raise ArgumentError('runtime_path: invalid path %r: it contains a NUL character' % (runtime_path,))
        return runtime_path
    if not host.is_local:
        return None
    installations = [item for item in find_installations(host) if item['kata_runtime']]
    if cfg is not None:
        for item in installations:
            if cfg.path.startswith(item['prefix'].rstrip('/') + '/'):
                return item['kata_runtime']
    found = get_bin_path('kata-runtime')
    if found:
        return found
    return installations[0]['kata_runtime'] if installations else None


def unknown_handlers(option, names, known):
    """The message for the names of ``names`` that are not among the handler names ``known`` (``option`` first),
    or None when there are none."""
    unknown = [name for name in names if name not in known]
    if not unknown:
        return None
    return ('%s: %s %s of this host\'s container engines; %s'
            % (option, ', '.join(unknown), 'is not a Kata runtime handler' if len(unknown) == 1
               else 'are not Kata runtime handlers',
               'the handlers found are: %s' % ', '.join(known) if known
               else 'none was found in the containerd or CRI-O configuration'))
