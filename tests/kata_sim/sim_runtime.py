# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The body of ``kata-runtime-sim``: a stand-in ``kata-runtime`` 3.0.0 for ``factory init|destroy|status``.

Run it through the ``kata-runtime-sim`` executable beside this file (it picks the Python interpreter from
``KATA_SIM_PYTHON``, default ``python3``; cache mode needs grpcio and protobuf there).

What it reproduces (kata-containers 3.0.0 ``src/runtime/cmd/kata-runtime/factory.go`` and
``src/runtime/virtcontainers/factory``):

* global flags ``--config``/``--kata-config`` (made absolute, symlinks resolved, kata's error when missing; without
  it ``/etc/kata-containers/configuration.toml`` then ``/usr/share/defaults/kata-containers/configuration.toml``),
  ``--log`` (logrus-like text or JSON lines appended to the file, mode 0640), ``--log-format``,
  ``--show-default-config-paths``, ``--version``; the ``config.d`` drop-ins beside the file, key by key;
* kata's factory checks of the configuration: ``Factory option enable_template requires an initrd image`` and
  ``VM cache just support qemu``; vCPU and memory defaults (0 vCPUs -> 1, more than the host's -> the host's;
  memory under 256 MiB -> 2048);
* ``factory init``: with ``vm_cache_number > 0`` the VM-cache server (sim_cache.py) in the foreground, on top of a
  template when ``enable_template`` is also set (the server closes it when it stops); with the template only, the
  template: ``mkdir -p`` (0700), a tmpfs mounted there (nosuid, nodev, ``size=<memory + 8>M``, 300 on arm64),
  ``memory`` (sparse, the VM's memory size) and ``state``, then ``vm factory initialized``; an existing template ->
  ``There is already a VM template in <path>``; nothing enabled -> ``vm factory or VMCache is not enabled``, exit 0;
* ``factory destroy``: gRPC ``Quit`` then one second of sleep (cache), or unmount (lazy) and remove the template;
  always ``vm factory destroyed``;
* ``factory status``: ``VM cache server pid = N`` and ``VM pid = N Cpu = N Memory = NMiB`` lines (or kata's
  ``failed to call gRPC Status`` text), then ``vm factory is on|off`` or ``vm factory not enabled``.

Deliberate differences, for tests: no VM is booted; the tmpfs is only mounted when running as root (a plain
directory otherwise, so non-root tests can run); ``destroy`` gives up on a server that does not answer ``Quit``
within 60 s (kata waits forever); asset files named by the configuration are not checked.

Faults, from the environment (so that a test can set them for a module that runs this program):
``KATA_SIM_FACTORY_FAULT`` = ``template-fail`` (template creation fails after the tmpfs was mounted, and is
cleaned up like kata does), ``init-fail`` (init exits 1 before doing anything), ``slow-start:<seconds>``
(the cache server waits before it listens).
"""

from __future__ import annotations

import ctypes
import datetime
import errno
import json
import os
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from sim_goutil import go_errno_text, grpc_status_text  # noqa: E402

NAME = 'kata-runtime'
VERSION = '3.0.0'
DEFAULT_CONFIG_PATHS = ('/etc/kata-containers/configuration.toml',
                        '/usr/share/defaults/kata-containers/configuration.toml')
DEFAULT_TEMPLATE_PATH = '/run/vc/vm/template'
DEFAULT_VM_CACHE_ENDPOINT = '/var/run/kata-containers/cache.sock'
HYPERVISOR_TYPES = ('qemu', 'clh', 'firecracker', 'acrn', 'dragonball')
GOARCH = {'x86_64': 'amd64', 'aarch64': 'arm64', 'ppc64le': 'ppc64le', 's390x': 's390x', 'riscv64': 'riscv64'}
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2
QUIT_GIVE_UP = 60.0


class KataError(Exception):
    """An error kata-runtime prints on stderr before exiting 1."""


# -- logging (kata's logrus logger: text or JSON lines in --log, /dev/null by default) ------------------------------

class Logger(object):
    def __init__(self, path=None, fmt='text', command=None):
        self.path = path
        self.fmt = fmt
        self.fields = {'arch': GOARCH.get(os.uname()[4], os.uname()[4]), 'name': NAME, 'pid': os.getpid(),
                       'source': 'runtime'}
        if command:
            self.fields['command'] = command

    def __call__(self, level, msg, fields=None):
        if not self.path or self.path == '/dev/null':
            return
        entry = dict(self.fields)
        entry.update(fields or {})
        now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
        if self.fmt == 'json':
            entry.update(level=level, msg=msg, time=now)
            line = json.dumps(entry, sort_keys=True)
        else:
            parts = ['time="%s"' % now, 'level=%s' % level, 'msg=%s' % _logfmt(msg)]
            parts.extend('%s=%s' % (key, _logfmt(entry[key])) for key in sorted(entry))
            line = ' '.join(parts)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_SYNC, 0o640)
        try:
            os.write(fd, (line + '\n').encode('utf-8', 'surrogateescape'))
        finally:
            os.close(fd)


def _logfmt(value):
    text = str(value)
    if text and all(c.isalnum() or c in '-._/@^+' for c in text):
        return text
    return json.dumps(text)


# -- configuration ------------------------------------------------------------------------------------------------

def _toml():
    try:
        import tomllib
    except ImportError:
        import tomli as tomllib  # Python < 3.11
    return tomllib


def find_config(explicit):
    if explicit:
        path = os.path.abspath(explicit)
        if not os.path.exists(path):
            raise KataError('Cannot find usable config file (file %s does not exist)' % path)
        return os.path.realpath(path)
    errors = []
    for candidate in DEFAULT_CONFIG_PATHS:
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
        errors.append('config file "%s" unresolvable: file %s does not exist' % (candidate, candidate))
    raise KataError('Cannot find usable config file (%s)' % ', '.join(errors))


def load_config(path):
    """The parts of kata's LoadConfiguration that factory uses: a dict with the factory and VM settings."""
    toml = _toml()

    def decode(file_path):
        with open(file_path, 'rb') as f:
            try:
                return toml.load(f)
            except toml.TOMLDecodeError as exc:
                raise KataError('error decoding file "%s": %s' % (file_path, exc))

    doc = decode(path)
    drop_in_dir = os.path.join(os.path.dirname(path), 'config.d')
    if os.path.isdir(drop_in_dir):
        for name in sorted(os.listdir(drop_in_dir)):
            entry = os.path.join(drop_in_dir, name)
            if os.path.isfile(entry):
                _merge(doc, decode(entry))
    hypervisors = doc.get('hypervisor', {})
    htype = sorted(hypervisors)[0] if hypervisors else 'qemu'
    if htype not in HYPERVISOR_TYPES:
        raise KataError('VM memory cannot be zero')
    hv = hypervisors.get(htype, {})
    host_cpus = os.cpu_count() or 1
    vcpus = hv.get('default_vcpus', 0)
    vcpus = 1 if vcpus == 0 else (host_cpus if vcpus < 0 or vcpus > host_cpus else vcpus)
    memory = hv.get('default_memory', 0)
    memory = 2048 if memory < 256 else memory
    factory = doc.get('factory', {})
    cfg = {
        'path': path,
        'hypervisor_type': htype,
        'vcpus': vcpus,
        'memory_mib': memory,
        'kernel': hv.get('kernel', ''),
        'image': hv.get('image', ''),
        'initrd': hv.get('initrd', ''),
        'hypervisor_path': hv.get('path', ''),
        'enable_template': bool(factory.get('enable_template', False)),
        'template_path': factory.get('template_path', '') or DEFAULT_TEMPLATE_PATH,
        'vm_cache_number': int(factory.get('vm_cache_number', 0)),
        'vm_cache_endpoint': factory.get('vm_cache_endpoint', '') or DEFAULT_VM_CACHE_ENDPOINT,
        'enable_debug': bool(doc.get('runtime', {}).get('enable_debug', False)),
    }
    if cfg['enable_template'] and not cfg['initrd']:
        raise KataError('Factory option enable_template requires an initrd image')
    if cfg['vm_cache_number'] > 0 and htype != 'qemu':
        raise KataError('VM cache just support qemu')
    return cfg


def _merge(base, overlay):
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def vm_config_json(cfg):
    from sim_cache import go_vm_config
    return go_vm_config(cfg['hypervisor_type'], {
        'KernelPath': cfg['kernel'], 'ImagePath': cfg['image'], 'InitrdPath': cfg['initrd'],
        'HypervisorPath': cfg['hypervisor_path'], 'NumVCPUs': cfg['vcpus'], 'DefaultMaxVCPUs': os.cpu_count() or 1,
        'MemorySize': cfg['memory_mib'], 'HypervisorMachineType': 'q35', 'BlockDeviceDriver': 'virtio-scsi',
        'EntropySource': '/dev/urandom', 'SharedFS': 'virtio-fs', 'Debug': cfg['enable_debug'],
    }, {'LongLiveConn': True, 'Debug': cfg['enable_debug']})


def fault():
    return os.environ.get('KATA_SIM_FACTORY_FAULT', '')


# -- template -----------------------------------------------------------------------------------------------------

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def template_exists(path):
    return os.path.exists(os.path.join(path, 'memory')) and os.path.exists(os.path.join(path, 'state'))


def close_template(path, log):
    """template.close(): lazy unmount, then remove the directory recursively; errors are only logged."""
    if _libc().umount2(os.fsencode(path), MNT_DETACH) != 0:
        log('error', 'failed to unmount %s' % path, {'error': go_errno_text(ctypes.get_errno())})
    try:
        shutil.rmtree(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            log('error', 'failed to remove %s' % path, {'error': go_errno_text(exc.errno or 0)})


def create_template(cfg, log):
    """template.New: refuse an existing template, prepare the files, "boot and save" the template VM."""
    path = cfg['template_path']
    if template_exists(path):
        raise KataError('There is already a VM template in %s' % path)
    try:
        os.makedirs(path, 0o700, exist_ok=True)
    except OSError as exc:
        raise KataError('mkdir %s: %s' % (exc.filename or path, go_errno_text(exc.errno or 0)))
    if os.geteuid() == 0:
        extra = 300 if GOARCH.get(os.uname()[4]) == 'arm64' else 8
        options = ('size=%dM' % (cfg['memory_mib'] + extra)).encode('ascii')
        if _libc().mount(b'tmpfs', os.fsencode(path), b'tmpfs', MS_NOSUID | MS_NODEV, options) != 0:
            code = ctypes.get_errno()
            close_template(path, log)
            raise KataError(go_errno_text(code))
    try:
        with open(os.path.join(path, 'memory'), 'wb') as f:
            if fault() == 'template-fail':
                raise KataError('failed to launch qemu: exit status 1, error messages from qemu log: '
                                'qemu-system-x86_64: simulated failure (KATA_SIM_FACTORY_FAULT=template-fail)')
            f.truncate(cfg['memory_mib'] << 20)
        with open(os.path.join(path, 'state'), 'wb') as f:
            f.write(b'QEVM\x00\x00\x00\x03kata-sim template device state\n')
    except KataError:
        close_template(path, log)
        raise
    except OSError as exc:
        close_template(path, log)
        raise KataError('open %s: %s' % (exc.filename, go_errno_text(exc.errno or 0)))


# -- cache --------------------------------------------------------------------------------------------------------

def _dial_error(endpoint):
    """Go grpc's Unavailable text when the socket cannot be dialled, or None when it can."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(endpoint)
    except OSError as exc:
        return grpc_status_text(14, 'connection error: desc = "transport: Error while dialing dial unix %s: '
                                    'connect: %s"' % (endpoint, go_errno_text(exc.errno or 0)))
    finally:
        sock.close()
    return None


def cache_call(endpoint, method, timeout=None):
    """One CacheService call; returns the reply bytes or raises KataError with Go's grpc error text."""
    import grpc
    from sim_cache import uri_path
    error = _dial_error(endpoint)
    if error:
        raise KataError(error)
    channel = grpc.insecure_channel('unix:' + uri_path(endpoint), options=[('grpc.enable_http_proxy', 0)])
    try:
        return channel.unary_unary('/cache.CacheService/%s' % method)(b'', timeout=timeout)
    except grpc.RpcError as exc:
        raise KataError(grpc_status_text(exc.code().value[0], exc.details()))
    finally:
        channel.close()


def init_cache(cfg, log):
    from sim_cache import CacheServer, CacheServerError
    template = cfg['template_path'] if cfg['enable_template'] else None
    if template:
        log('info', 'create vm factory')
        create_template(cfg, log)
    if fault().startswith('slow-start:'):
        time.sleep(float(fault().split(':', 1)[1]))
    server = CacheServer(cfg['vm_cache_endpoint'], cfg['vm_cache_number'], vcpus=cfg['vcpus'],
                         memory_mib=cfg['memory_mib'], hypervisor_type=cfg['hypervisor_type'],
                         vm_config=vm_config_json(cfg),
                         on_close=(lambda: close_template(template, log)) if template else None, log=log)
    try:
        server.start()
    except CacheServerError as exc:
        raise KataError(str(exc))
    server.serve_until_stopped()


# -- commands -----------------------------------------------------------------------------------------------------

def factory_init(cfg, log, out):
    if fault() == 'init-fail':
        raise KataError('failed to launch qemu: exit status 1 (KATA_SIM_FACTORY_FAULT=init-fail)')
    if cfg['vm_cache_number'] > 0:
        init_cache(cfg, log)
        return
    if cfg['enable_template']:
        log('info', 'create vm factory')
        try:
            create_template(cfg, log)
        except KataError as exc:
            log('error', 'create vm factory failed', {'error': str(exc)})
            raise
        out.write('vm factory initialized\n')
    else:
        log('error', 'vm factory or VMCache is not enabled')
        out.write('vm factory or VMCache is not enabled\n')


def factory_destroy(cfg, log, out):
    if cfg['vm_cache_number'] > 0:
        try:
            cache_call(cfg['vm_cache_endpoint'], 'Quit', timeout=QUIT_GIVE_UP)
        except KataError as exc:
            raise KataError('failed to call gRPC Quit: %s' % exc)
        time.sleep(1)
    elif cfg['enable_template']:
        log('info', 'load vm factory')
        if template_exists(cfg['template_path']):
            close_template(cfg['template_path'], log)
        else:
            log('error', 'load vm factory failed', {'error': 'stat %s/memory: no such file or directory'
                                                             % cfg['template_path']})
    out.write('vm factory destroyed\n')


def factory_status(cfg, log, out):
    if cfg['vm_cache_number'] > 0:
        try:
            reply = cache_call(cfg['vm_cache_endpoint'], 'Status')
        except KataError as exc:
            out.write('failed to call gRPC Status\n: %s\n' % exc)
        else:
            from sim_cache import messages
            status = messages()['GrpcStatus'].FromString(reply)
            out.write('VM cache server pid = %d\n' % status.pid)
            for vm in status.vmstatus:
                out.write('VM pid = %d Cpu = %d Memory = %dMiB\n' % (vm.pid, vm.cpu, vm.memory))
    if cfg['enable_template']:
        out.write('vm factory is on\n' if template_exists(cfg['template_path']) else 'vm factory is off\n')
    else:
        out.write('vm factory not enabled\n')


FACTORY_COMMANDS = {'init': factory_init, 'destroy': factory_destroy, 'status': factory_status}

FACTORY_HELP = '''NAME:
   kata-runtime factory - manage vm factory

USAGE:
   kata-runtime factory command [command options] [arguments...]

COMMANDS:
     init     initialize a VM factory based on kata-runtime configuration
     destroy  destroy the VM factory
     status   query the status of VM factory

OPTIONS:
   --help, -h  show help
'''


def parse_global(argv):
    opts = {'config': None, 'log': '/dev/null', 'log_format': 'text'}
    rest = list(argv)
    while rest and rest[0].startswith('-'):
        arg = rest.pop(0)
        name, eq, value = arg.partition('=')
        if name in ('--show-default-config-paths', '--kata-show-default-config-paths'):
            opts['show_paths'] = True
            continue
        if name in ('--version', '-v'):
            opts['version'] = True
            continue
        if name in ('--config', '--kata-config', '--log', '--log-format', '--root', '--rootless'):
            if not eq:
                if not rest:
                    raise KataError('flag needs an argument: %s' % name)
                value = rest.pop(0)
            key = {'--kata-config': 'config', '--log-format': 'log_format'}.get(name, name[2:])
            opts[key] = value
            continue
        if name == '--systemd-cgroup':
            continue
        raise KataError('flag provided but not defined: %s' % name)
    return opts, rest


def main(argv=None, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, rest = parse_global(argv)
        if opts.get('show_paths'):
            out.write('\n'.join(DEFAULT_CONFIG_PATHS) + '\n')
            return 0
        if opts.get('version') or rest[:1] == ['version']:
            out.write('%s  : %s\n   commit   : <<unknown>>\n   OCI specs: 1.0.2-dev\n' % (NAME, VERSION))
            return 0
        if not rest:
            out.write('kata-runtime-sim: kata-runtime 3.0.0 stand-in; commands: factory init|destroy|status\n')
            return 0
        if rest[0] != 'factory':
            err.write('Invalid command "%s"\n' % rest[0])
            return 1
        if opts['log_format'] not in ('text', 'json'):
            raise KataError('unknown log-format "%s"' % opts['log_format'])
        sub = rest[1] if len(rest) > 1 else None
        if sub is None or sub in ('-h', '--help'):
            out.write(FACTORY_HELP)
            return 0
        if sub not in FACTORY_COMMANDS:
            out.write(FACTORY_HELP)
            err.write('No help topic for \'%s\'\n' % sub)
            return 3
        cfg = load_config(find_config(opts['config']))
        log = Logger(opts['log'], opts['log_format'], 'factory')
        log('info', 'loaded configuration', {'file': cfg['path'], 'format': 'TOML'})
        FACTORY_COMMANDS[sub](cfg, log, out)
        out.flush()
    except KataError as exc:
        err.write('%s\n' % exc)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
