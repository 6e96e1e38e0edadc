# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_factory: the desired state of kata's VM factory, the VM template and the VM cache.

What kata-runtime 3.0.0 does (kata-containers 3.0.0: ``src/runtime/cmd/kata-runtime/factory.go``,
``src/runtime/virtcontainers/factory/template/template.go``, ``src/runtime/protocols/cache/cache.proto``), and what is
reproduced here:

* The template (``[factory] enable_template``) is a tmpfs at ``template_path`` holding ``memory`` and ``state``;
  kata calls it there when both files exist. Creating one boots a VM, so it is left to ``kata-runtime factory
  init`` (run here, then the files are checked). Removing one is kata's ``destroy``: a lazy unmount (MNT_DETACH)
  of the tmpfs, then the files and the directory are removed; this is done here directly.
* The VM cache (``vm_cache_number > 0``) is a gRPC server run by ``kata-runtime factory init`` in the foreground.
  It is started here detached (own session, output appended to a log file), and is up when it answers ``Status``.
  ``Quit`` stops it about a second later; its socket is removed then. With the template also enabled, the server
  creates the template itself when it starts and removes it when it stops, and it refuses to start while a
  template exists.

Deliberate differences from kata-runtime, each so that a desired state can be reached and reported safely
(docs/kata_behaviour.md, VM factory):

* Nothing enabled is an error naming the ``[factory]`` keys (kata prints a message and exits 0).
* A socket file at the endpoint that refuses connections (a server killed without cleaning up) is removed before a
  server is started (kata refuses to start: ``<path> already exist.  Please stop running VMCache server and remove
  <path>``), and by ``state=absent``. Anything else than a socket there is an error and is never removed.
* A server that accepts connections but does not answer fails the task after ``timeout`` seconds (kata's clients
  wait forever).
* With template and cache both enabled, a template left without a server (a crash, or a template made earlier
  without the cache) is removed before the server is started, since kata's server would refuse to start.
* Removing a template deletes ``memory``, ``state`` and then the directory only when it is empty (kata removes
  the whole tree): a mistyped ``template_path`` cannot wipe a directory.
* ``template_path`` and ``vm_cache_endpoint`` must be absolute paths.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import sys
import time

from ansible_collections.katacontainers.kata.plugins.module_utils._config import _gotypes, _load, _paths, _schema
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    ConfigError,
    KataError,
    PeerError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._limits import check_timeout

DEFAULT_LOG_PATH = '/var/log/kata-vm-cache.log'
RUNTIME_NAME = 'kata-runtime'
RUNTIME_EXTRA_DIRS = ['/opt/kata/bin']
TEMPLATE_FILES = ('memory', 'state')
MOUNTINFO = '/proc/self/mountinfo'
MNT_DETACH = 2
MAX_UNMOUNTS = 32
LOG_TAIL = 2000
POLL_FIRST, POLL_MAX = 0.05, 0.5

_OCTAL_ESCAPE = re.compile(br'\\([0-7]{3})')


# -- mounts ---------------------------------------------------------------------------------------------------------

def _unescape(field):
    return os.fsdecode(_OCTAL_ESCAPE.sub(lambda m: bytes((int(m.group(1), 8) & 0xFF,)), field))


def parse_mountinfo(data):
    """Parse ``/proc/<pid>/mountinfo`` (bytes) into dicts, in file order; malformed lines are skipped.

    Keys: ``mount_id``, ``parent_id``, ``root``, ``mount_point``, ``options``, ``fstype``, ``source``,
    ``super_options``. Octal escapes (``\\040`` for a space...) are decoded.
    """
    mounts = []
    for line in data.split(b'\n'):
        fields = line.split(b' ')
        try:
            separator = fields.index(b'-', 6)
        except ValueError:
            continue
        if len(fields) < separator + 3:
            continue
        try:
            mount_id, parent_id = int(fields[0]), int(fields[1])
        except ValueError:
            continue
        mounts.append(dict(
            mount_id=mount_id, parent_id=parent_id, root=_unescape(fields[3]), mount_point=_unescape(fields[4]),
            options=_unescape(fields[5]), fstype=_unescape(fields[separator + 1]),
            source=_unescape(fields[separator + 2]),
            super_options=_unescape(fields[separator + 3]) if len(fields) > separator + 3 else '',
        ))
    return mounts


def mounts_at(path, mountinfo=MOUNTINFO):
    """The mounts whose mount point is ``path`` (symlinks resolved), bottom first."""
    real = os.path.realpath(path)
    try:
        with open(mountinfo, 'rb') as f:
            data = f.read()
    except OSError as exc:
        raise KataError('cannot read %s to look for the VM template mount: %s' % (mountinfo, exc.strerror or exc))
    return [m for m in parse_mountinfo(data) if m['mount_point'] == real]


def _umount_detach(path):
    """umount2(MNT_DETACH); returns the errno (0 on success)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(os.fsencode(path), MNT_DETACH) != 0:
        return ctypes.get_errno()
    return 0


# -- the template ---------------------------------------------------------------------------------------------------

def template_status(path, enabled=True, mountinfo=MOUNTINFO):
    """Observe the template at ``path``. Returns the public dict ``{enabled, path, present, mounted}`` plus
    ``leftover``: whether anything of a template is there (a mount, or either file) even if not complete."""
    mounts = mounts_at(path, mountinfo)
    files = [os.path.lexists(os.path.join(path, name)) for name in TEMPLATE_FILES]
    present = all(os.path.exists(os.path.join(path, name)) for name in TEMPLATE_FILES)
    return dict(enabled=enabled, path=path, present=present, mounted=bool(mounts),
                leftover=bool(mounts) or any(files))


def remove_template(path, mountinfo=MOUNTINFO):
    """kata's template close(): unmount every mount at ``path`` (lazily), delete ``memory`` and ``state``, then the
    directory when it is empty. Returns the names left in the directory (empty list when it was removed)."""
    for dummy in range(MAX_UNMOUNTS):
        if not mounts_at(path, mountinfo):
            break
        code = _umount_detach(path)
        if code in (errno.EINVAL, errno.ENOENT) and not mounts_at(path, mountinfo):
            break  # unmounted meanwhile (by a VM cache server closing its factory)
        if code:
            hint = ' (the task must run as root: become: true)' if code == errno.EPERM else ''
            raise KataError('cannot unmount the VM template at %s: %s%s' % (path, os.strerror(code), hint), path=path)
    else:
        raise KataError('%s is still mounted after %d unmounts' % (path, MAX_UNMOUNTS), path=path)
    for name in TEMPLATE_FILES:
        try:
            os.unlink(os.path.join(path, name))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise KataError('cannot remove %s: %s' % (os.path.join(path, name), exc.strerror or exc), path=path)
    try:
        os.rmdir(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return sorted(os.listdir(path))
        raise KataError('cannot remove the directory %s: %s' % (path, exc.strerror or exc), path=path)
    return []


# -- the cache ------------------------------------------------------------------------------------------------------

def _cache_client():
    # grpcio costs about 60 ms to import: only a host with the cache enabled pays for it.
    from ansible_collections.katacontainers.kata.plugins.module_utils import _cache_client
    return _cache_client


def summarize_vm_config(config):
    """The interesting part of a ``Config`` answer (JSON of kata's VMConfig), or None when it is not JSON."""
    try:
        data = json.loads(config['data'].decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    hv = data.get('HypervisorConfig')
    hv = hv if isinstance(hv, dict) else {}
    vcpus = hv.get('NumVCPUs', hv.get('NumVCPUsF'))
    return dict(
        hypervisor_type=data.get('HypervisorType'),
        vcpus=vcpus,
        memory_mib=hv.get('MemorySize'),
        kernel=hv.get('KernelPath') or None,
        image=hv.get('ImagePath') or None,
        initrd=hv.get('InitrdPath') or None,
        hypervisor_path=hv.get('HypervisorPath') or None,
    )


def cache_status(endpoint, enabled, vm_cache_number=0, timeout=3.0, warn=None):
    """Observe the VM cache. Returns the public dict ``{enabled, endpoint, vm_cache_number, running, server_pid, vms,
    vm_config}`` plus ``endpoint_state`` (see _cache_client.probe_endpoint) and ``endpoint_detail``.

    A server that is listening but does not answer ``Status`` raises PeerError. When the cache is not enabled the
    endpoint is not looked at and ``running`` is None.
    """
    result = dict(enabled=enabled, endpoint=endpoint, vm_cache_number=vm_cache_number, running=None,
                  server_pid=None, vms=[], vm_config=None, endpoint_state=None, endpoint_detail=None)
    if not enabled:
        return result
    cc = _cache_client()
    cc.require_grpc()
    state, detail = cc.probe_endpoint(endpoint, timeout)
    result.update(endpoint_state=state, endpoint_detail=detail, running=False)
    if state != cc.LISTENING:
        return result
    with cc.CacheClient(endpoint, timeout) as client:
        status = client.status()
        try:
            result['vm_config'] = summarize_vm_config(client.config())
        except PeerError as exc:
            if warn is not None:
                warn('the VM cache server answered Status but not Config: %s' % exc.msg)
    result.update(running=True, server_pid=status['pid'], vms=status['vms'])
    return result


def _pid_running(pid):
    """Whether ``pid`` is a live process here (a zombie is not)."""
    if not pid or pid <= 0:
        return False
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            data = f.read()
    except OSError:
        return False
    state = data[data.rfind(b')') + 2:][:1]
    return state not in (b'Z', b'X', b'x')


def _read_tail(path, offset):
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(offset, end - LOG_TAIL))
            return f.read().decode('utf-8', 'replace').strip()
    except OSError:
        return ''


def _stop_session(pid, grace=10.0, sleep=time.sleep):
    """SIGTERM the session (process group) a server was started in, then SIGKILL after ``grace`` seconds."""
    import signal
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except OSError:
            return
        deadline = _Deadline(wait)
        for dummy in _polls(deadline, sleep):
            if not _pid_running(pid):
                return


class _Deadline(object):
    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.end = clock() + seconds

    def remaining(self):
        return max(0.0, self.end - self.clock())

    def passed(self):
        return self.clock() >= self.end


def _polls(deadline, sleep=time.sleep):
    """Yield until the deadline passed, sleeping between polls with a growing delay (bounded)."""
    delay = POLL_FIRST
    while True:
        yield
        if deadline.passed():
            return
        sleep(min(delay, deadline.remaining()))
        delay = min(delay * 2, POLL_MAX)


# Started with run_command on the module's own interpreter: it starts the server in a new session, stdin from
# /dev/null, output appended to the log, working directory /, prints its pid and exits at once. The server is then
# nobody's child here (init adopts it), and the module process, which may hold gRPC threads, never forks it.
_DETACH = r"""
import os, subprocess, sys
try:
    log = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
    proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True,
                            start_new_session=True, cwd='/')
except OSError as exc:
    sys.stderr.write('%s\n' % (exc.strerror or exc))
    sys.exit(2)
sys.stdout.write('%d\n' % proc.pid)
"""


def spawn_detached(argv, log_path, run_command, python=None):
    """Start ``argv`` detached (see _DETACH) with its output appended to ``log_path``; return its pid."""
    helper = [python or sys.executable, '-c', _DETACH, log_path] + list(argv)
    rc, out, err = run_command(helper, expand_user_and_vars=False)
    if rc != 0 or not out.strip().isdigit():
        raise KataError('cannot run %s: %s' % (argv[0], (err or out).strip() or 'exit status %d' % rc),
                        cmd=' '.join(shlex.quote(arg) for arg in argv))
    return int(out.strip())


def start_cache_server(argv, endpoint, log_path, timeout, wait_timeout, run_command):
    """Start ``argv`` (``kata-runtime ... factory init``) detached, its output appended to ``log_path``, and wait
    until the server answers ``Status`` on ``endpoint``. Returns the Status dict.

    When the server exits early, or does not answer within ``wait_timeout`` seconds (it is then stopped), KataError
    carries the log's new lines.
    """
    cc = _cache_client()
    try:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, 'O_CLOEXEC', 0), 0o640)
    except OSError as exc:
        raise KataError('cannot open the VM cache server log %s: %s' % (log_path, exc.strerror or exc), log_path=log_path)
    command = ' '.join(shlex.quote(arg) for arg in argv)
    try:
        stamp = time.strftime('%Y-%m-%dT%H:%M:%S%z')
        os.write(fd, ('%s kata_factory: starting %s\n' % (stamp, command)).encode('utf-8', 'surrogateescape'))
        offset = os.fstat(fd).st_size  # what the server writes starts here
    finally:
        os.close(fd)
    pid = spawn_detached(argv, log_path, run_command)

    last_error = None
    deadline = _Deadline(wait_timeout)
    try:
        for dummy in _polls(deadline):
            if not _pid_running(pid):
                tail = _read_tail(log_path, offset)
                raise KataError('%s exited before the VM cache server answered on %s: %s'
                                % (command, endpoint, tail or '(no output; see %s)' % log_path),
                                cmd=command, log_path=log_path)
            state, dummy_detail = cc.probe_endpoint(endpoint, timeout)
            if state == cc.LISTENING:
                try:
                    with cc.CacheClient(endpoint, max(0.1, min(timeout, deadline.remaining()))) as client:
                        return client.status()
                except PeerError as exc:
                    last_error = exc.msg
    except BaseException:
        _stop_session(pid)
        raise
    _stop_session(pid)
    tail = _read_tail(log_path, offset)
    raise KataError('the VM cache server started by %s did not answer on %s within %g s, so it was stopped%s; '
                    'its output: %s' % (command, endpoint, wait_timeout,
                                        ' (last error: %s)' % last_error if last_error else '',
                                        tail or '(none; see %s)' % log_path),
                    cmd=command, log_path=log_path)


def stop_cache_server(endpoint, server_pid, timeout, wait_timeout):
    """``Quit``, then wait until the endpoint stops accepting connections and the server process is gone (when it
    is visible here). A socket file the server left behind is removed. Raises KataError when it takes longer."""
    cc = _cache_client()
    with cc.CacheClient(endpoint, timeout) as client:
        client.quit()
    deadline = _Deadline(wait_timeout)
    state = None
    for dummy in _polls(deadline):
        state, dummy_detail = cc.probe_endpoint(endpoint, timeout)
        if state != cc.LISTENING and not _pid_running(server_pid):
            break
    else:
        if state == cc.LISTENING:
            raise KataError('the VM cache server at %s (pid %s) still accepts connections %g s after Quit'
                            % (endpoint, server_pid, wait_timeout), endpoint=endpoint, server_pid=server_pid)
    if state == cc.STALE:
        _remove_stale_socket(endpoint)


def _remove_stale_socket(endpoint):
    cc = _cache_client()
    state, dummy = cc.probe_endpoint(endpoint)
    if state != cc.STALE:
        return
    try:
        os.unlink(endpoint)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise KataError('cannot remove the stale VM cache socket %s: %s' % (endpoint, exc.strerror or exc),
                            endpoint=endpoint)


# -- the module's work ----------------------------------------------------------------------------------------------

def _check_path(value, key):
    if not value or not os.path.isabs(value):
        raise ConfigError('%s must be an absolute path, got %r: kata-runtime would resolve it against the current '
                          'directory of each process' % (key, value))
    if os.path.realpath(value) == '/':
        raise ConfigError('%s must not be the root directory' % key)
    return value


class FactoryManager(object):
    """Observe, plan and apply the factory's desired state for one loaded configuration."""

    def __init__(self, cfg, runtime_path=None, find_runtime=None, run_command=None, timeout=3.0, wait_timeout=60.0,
                 log_path=DEFAULT_LOG_PATH, warn=None, mountinfo=MOUNTINFO):
        self.cfg = cfg
        fa = cfg.factory
        self.template_enabled = bool(fa['enable_template'])
        self.cache_enabled = fa['vm_cache_number'] > 0
        if not (self.template_enabled or self.cache_enabled):
            raise ConfigError(
                'Neither the VM template nor the VM cache is enabled in %s: set [factory] enable_template = true '
                '(it needs an initrd) and/or [factory] vm_cache_number to the number of VMs to keep ready (qemu '
                'only). With neither, kata-runtime factory init only prints "vm factory or VMCache is not enabled".'
                % cfg.path, path=cfg.path)
        self.template_path = _check_path(fa['template_path'], 'factory.template_path')
        self.endpoint = fa['vm_cache_endpoint']
        if self.cache_enabled:
            _cache_client().check_endpoint_path(self.endpoint)
        self.vm_cache_number = fa['vm_cache_number']
        self.runtime_path = runtime_path
        self.find_runtime = find_runtime
        self.run_command = run_command
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self.log_path = log_path
        self.warn = warn or (lambda msg: None)
        self.mountinfo = mountinfo
        self.done = []

    # observation ----------------------------------------------------------------------------------------------

    def observe_template(self):
        return template_status(self.template_path, self.template_enabled, self.mountinfo)

    def observe_cache(self):
        return cache_status(self.endpoint, self.cache_enabled, self.vm_cache_number, self.timeout, self.warn)

    def observe(self):
        return self.observe_cache(), self.observe_template()

    # planning -------------------------------------------------------------------------------------------------

    def _refuse_not_socket(self, cache):
        if cache['endpoint_state'] == 'not_socket':
            raise ConfigError('factory.vm_cache_endpoint %s is %s, not a socket: move it away (it is not removed '
                              'automatically)' % (self.endpoint, cache['endpoint_detail']), endpoint=self.endpoint)

    def plan(self, state, cache, template):
        """The actions that reach ``state`` from what was observed: a list of (action, description)."""
        actions = []
        runtime = None
        if state == 'present':
            if self.cache_enabled:
                self._refuse_not_socket(cache)
                if cache['running']:
                    if self.template_enabled and not template['present']:
                        raise KataError(
                            'the VM cache server (pid %s) on %s runs without the VM template in %s that the '
                            'configuration enables (it was started with another configuration, or the template was '
                            'removed under it): stop it with state=absent, then start it again with state=present'
                            % (cache['server_pid'], self.endpoint, self.template_path), endpoint=self.endpoint)
                else:
                    if cache['endpoint_state'] == 'stale':
                        actions.append(('remove_socket', 'remove the stale socket %s (no server listens on it)'
                                        % self.endpoint))
                    if self.template_enabled and template['leftover']:
                        actions.append(('remove_template', 'remove the VM template in %s left without a VM cache '
                                        'server (the server creates its own)' % self.template_path))
                    runtime = self.runtime()
                    actions.append(('start_cache', 'start the VM cache server (%s factory init) on %s'
                                    % (runtime, self.endpoint)))
            elif not template['present']:
                if template['leftover']:
                    actions.append(('remove_template', 'remove the incomplete VM template in %s' % self.template_path))
                runtime = self.runtime()
                actions.append(('create_template', 'create the VM template in %s (%s factory init)'
                                % (self.template_path, runtime)))
        else:
            if self.cache_enabled:
                self._refuse_not_socket(cache)
                if cache['running']:
                    actions.append(('stop_cache', 'stop the VM cache server (pid %s) on %s with gRPC Quit'
                                    % (cache['server_pid'], self.endpoint)))
                elif cache['endpoint_state'] == 'stale':
                    actions.append(('remove_socket', 'remove the stale socket %s (no server listens on it)'
                                    % self.endpoint))
            # A running cache server removes its own template when it stops: check again after stopping it.
            if self.template_enabled and template['leftover'] and not cache['running']:
                actions.append(('remove_template', 'remove the VM template in %s (unmount and delete)'
                                % self.template_path))
        return actions

    def runtime(self):
        """The kata-runtime executable to run; KataError when there is none."""
        if self.runtime_path:
            if not (os.path.isfile(self.runtime_path) and os.access(self.runtime_path, os.X_OK)):
                raise ArgumentError('runtime_path: %s is not an executable file' % self.runtime_path)
            return self.runtime_path
        found = self.find_runtime() if self.find_runtime else None
        if not found:
            raise KataError('%s was not found in PATH nor in %s: install Kata Containers or set runtime_path'
                            % (RUNTIME_NAME, ', '.join(RUNTIME_EXTRA_DIRS)))
        self.runtime_path = found
        return found

    # applying -------------------------------------------------------------------------------------------------

    def apply(self, state, actions, cache):
        for action, description in actions:
            getattr(self, '_do_' + action)(cache)
            self.done.append(description)
        if state == 'absent' and self.template_enabled and cache['running']:
            # The server closed its factory when it stopped; a template still there is removed here.
            template = self.observe_template()
            if template['leftover']:
                self._do_remove_template(cache)
                self.done.append('remove the VM template in %s that the stopped VM cache server left (unmount and '
                                 'delete)' % self.template_path)

    def _do_remove_socket(self, cache):
        _remove_stale_socket(self.endpoint)

    def _do_remove_template(self, cache):
        left = remove_template(self.template_path, self.mountinfo)
        if left:
            self.warn('the directory %s was kept because it holds other files than a template: %s'
                      % (self.template_path, ', '.join(left)))

    def _do_start_cache(self, cache):
        argv = [self.runtime(), '--config', self.cfg.path, '--log', self.log_path, 'factory', 'init']
        start_cache_server(argv, self.endpoint, self.log_path, self.timeout, self.wait_timeout, self.run_command)

    def _do_stop_cache(self, cache):
        stop_cache_server(self.endpoint, cache['server_pid'], self.timeout, self.wait_timeout)

    def _do_create_template(self, cache):
        argv = [self.runtime(), '--config', self.cfg.path, 'factory', 'init']
        rc, out, err = self.run_command(argv)
        command = ' '.join(shlex.quote(arg) for arg in argv)
        if rc != 0:
            raise KataError('%s failed with exit status %d: %s' % (command, rc, (err or out).strip()),
                            rc=rc, stdout=out, stderr=err, cmd=command)
        if not self.observe_template()['present']:
            raise KataError('%s succeeded but there is no VM template (memory and state) in %s: %s'
                            % (command, self.template_path, (out or err).strip()),
                            rc=rc, stdout=out, stderr=err, cmd=command)


def drift_warnings(cfg, cache):
    """Warnings for a running server whose VM configuration differs from the configuration file's."""
    running = cache.get('vm_config')
    if not cache.get('running') or not running:
        return []
    wanted = dict(hypervisor_type=cfg.hypervisor_type, vcpus=cfg.hypervisor.get('default_vcpus'),
                  memory_mib=cfg.hypervisor.get('default_memory'))
    differences = ['%s %s (configuration: %s)' % (key, running[key], wanted[key])
                   for key in ('hypervisor_type', 'vcpus', 'memory_mib')
                   if running.get(key) is not None and wanted[key] is not None and running[key] != wanted[key]]
    if not differences:
        return []
    return ['the VM cache server (pid %s) on %s runs with %s: it keeps its VMs until it is restarted (state=absent, '
            'then state=present)' % (cache['server_pid'], cache['endpoint'], ', '.join(differences))]


_PUBLIC_CACHE = ('enabled', 'endpoint', 'vm_cache_number', 'running', 'server_pid', 'vms', 'vm_config')
_PUBLIC_TEMPLATE = ('enabled', 'path', 'present', 'mounted')


def _public(observed, keys):
    return dict((key, observed[key]) for key in keys)


def _summary(cache, template):
    return dict(
        cache='disabled' if not cache['enabled'] else 'running' if cache['running'] else 'stopped',
        template='disabled' if not template['enabled'] else 'present' if template['present'] else 'absent',
    )


def manage_factory(module):
    """The work of the kata_factory module: returns its result dict."""
    p = module.params
    timeout = check_timeout(p['timeout'], 'timeout')
    wait_timeout = check_timeout(p['wait_timeout'], 'wait_timeout')
    from ansible_collections.katacontainers.kata.plugins.module_utils import _probes, _runtimes
    host = _probes.Host('/')
    location = _paths.locate_config(host, config=p['config'], runtime=p.get('runtime'))
    for message in location.warnings:
        module.warn(message)
    if location.path is None:
        raise ConfigError('Cannot find usable config file (tried %s); set config or runtime'
                          % ', '.join(location.tried), tried=location.tried)
    cfg = _load.load_config(location.path, hypervisor=p['hypervisor'],
                            arch=_gotypes.normalize_arch(os.uname()[4]), runtime=location.runtime)
    for message in cfg.warnings:
        module.warn(message)
    if cfg.runtime_kind != _schema.RUNTIME_GO:
        raise ConfigError('%s (%s) is a runtime-rs configuration (found by %s): the VM factory managed here is the Go '
                          "runtime's (kata-runtime factory); choose a Go runtime configuration or handler"
                          % (cfg.path, location.source, cfg.runtime_kind_reason), path=cfg.path)

    manager = FactoryManager(
        cfg, runtime_path=p['runtime_path'],
        find_runtime=lambda: (_runtimes.find_kata_runtime(host, None, module.get_bin_path, cfg)
                              or module.get_bin_path(RUNTIME_NAME, required=False, opt_dirs=RUNTIME_EXTRA_DIRS)),
        run_command=module.run_command, timeout=timeout, wait_timeout=wait_timeout, log_path=p['log_path'],
        warn=module.warn)
    cache, template = manager.observe()
    actions = manager.plan(p['state'], cache, template)
    before = _summary(cache, template)
    if actions and not module.check_mode:
        manager.apply(p['state'], actions, cache)
        cache, template = manager.observe()
        done = manager.done
    else:
        done = [description for dummy, description in actions]
    after = _summary(cache, template) if not module.check_mode else dict(
        cache=before['cache'] if not manager.cache_enabled else 'running' if p['state'] == 'present' else 'stopped',
        template=before['template'] if not manager.template_enabled else
        'present' if p['state'] == 'present' else 'absent')
    for message in drift_warnings(cfg, cache):
        module.warn(message)
    result = dict(changed=bool(actions), actions=done, config=cfg.path, config_source=location.source,
                  runtime_kind=cfg.runtime_kind, cache=_public(cache, _PUBLIC_CACHE),
                  template=_public(template, _PUBLIC_TEMPLATE))
    if module._diff:  # pylint: disable=protected-access
        result['diff'] = dict(before=before, after=after)
    return result
