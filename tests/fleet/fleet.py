# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A test fleet of Kata hosts on this one machine, reached over real SSH.

Every host is a loopback address (127.0.0.x) where an OpenSSH server of ours listens, with key authentication only,
and a host root of its own (``kata_preflight_host_root``): /proc/cpuinfo from a real machine's dump
(tests/fixtures/cpuinfo), /proc/version, /proc/meminfo, /etc/os-release, /sys/module with the kernel modules (and
parameters) that host has, /dev/kvm (a real character device node, so the KVM test really creates a VM) unless the
host is the one without it, and a Kata configuration file. Three hosts carry a real node layout instead of that file
(tests/kata_sim/sim_layouts.py: kata-deploy 4.1.0 with its 23 runtime handlers, kata-deploy 3.0.0 on containerd 1.x,
a 3.0.0 distribution package with containerd's ``kata`` handler). One host has no SSH server behind its address
(unreachable), one points to a host root that does not exist (the modules fail there).

    fleet.py up --dir DIR [--port auto|N] [--count N] [--fixtures DIR]   build, start, write DIR/inventory.json
                [--foreground]                                           ... and stay, as the sshd's parent, until down
    fleet.py down --dir DIR [--keep]                                     stop everything started, remove DIR
    fleet.py digest --dir DIR                                            a hash of every host root (change detection)
    fleet.py layout                                                      print the layout (names, CPUs, kinds)
    fleet.py fixtures                                                    print where the cpuinfo dumps are (rc 1: none)

sshd accepts at most 16 ListenAddress entries, so the hosts are served by several sshd instances. Keys (a host key
and a client key) are generated under DIR at each run. Everything needs root (device nodes, sshd, root logins).
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

SSHD = '/usr/sbin/sshd'
SSH = 'ssh'
SSH_KEYGEN = 'ssh-keygen'
HOSTS_PER_SSHD = 10  # sshd's limit is 16 (MAX_LISTEN_SOCKS)
FIRST_ADDRESS = 2  # 127.0.0.2 ...
DEFAULT_PORT = 2222
SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

INTEL = ('kvm', 'kvm_intel', 'vhost', 'vhost_net', 'vhost_vsock')
AMD = ('kvm', 'kvm_amd', 'vhost', 'vhost_net', 'vhost_vsock')
GENERIC = ('kvm', 'vhost', 'vhost_net', 'vhost_vsock')
POWER = ('kvm', 'kvm_hv', 'vhost_vsock')
S390X = ('kvm', 'vhost_vsock')
UG_Y = {('kvm_intel', 'unrestricted_guest'): 'Y'}

DEBIAN = ('Debian GNU/Linux', '12', '6.1.0-18-amd64')
UBUNTU = ('Ubuntu', '22.04', '5.15.0-91-generic')
RHEL7 = ('Red Hat Enterprise Linux Server', '7.3', '3.10.0-514.el7.ppc64le')
RHEL8 = ('Red Hat Enterprise Linux', '8.6', '4.18.0-372.9.1.el8.ppc64le')
SLES = ('SLES', '15.5', '5.14.21-150500.53-default')
UBUNTU_ARM = ('Ubuntu', '22.04', '5.15.0-1049-aws')
DEBIAN_RISCV = ('Debian GNU/Linux', '13', '6.6.20-riscv64')
OLD_DEBIAN = ('Debian GNU/Linux', '10', '4.19.0-25-amd64')

# name, cpuinfo fixture, loaded modules, module parameters, (distro, version, kernel), extras.
# extras: kvm (bool, default True): /dev/kvm exists; hypervisor: the hypervisor of the Kata configuration file;
# smt: what the ppc64_cpu stand-in prints for --smt; groups: inventory groups; root: False for a missing host root;
# reachable: False for no sshd behind the address; layout: a node layout of tests/kata_sim/sim_layouts.py written in the
# host root instead of the fleet's configuration file; remove: host paths removed from that layout; vars: host variables.
LAYOUT = (
    ('xeon-e5-2680v3', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, UG_Y, DEBIAN, {}),
    ('xeon-x7550', 'amd64-intel-xeon-x7550.txt', INTEL, UG_Y, DEBIAN, {}),
    ('core-i7-1370p', 'amd64-intel-core-i7-1370p-laptop.txt', INTEL, UG_Y, UBUNTU, {}),
    ('core-i7-4800mq', 'amd64-intel-core-i7-4800mq-laptop.txt', INTEL, UG_Y, UBUNTU, {}),
    ('pentium-g640', 'amd64-intel-pentium-g640.txt', INTEL, UG_Y, DEBIAN, {}),
    ('xeon-e5345', 'amd64-intel-xeon-e5345.txt', INTEL, UG_Y, DEBIAN, {}),
    ('skylake-kvm-guest', 'amd64-intel-kvm-guest-skylake-ibrs.txt', GENERIC, {}, DEBIAN, {}),
    ('xeon-unrestricted-off', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, {('kvm_intel', 'unrestricted_guest'): 'N'}, DEBIAN, {}),
    ('xeon-no-dev-kvm', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, UG_Y, DEBIAN, {'kvm': False}),
    ('core-i5-m560-no-vhost', 'amd64-intel-core-i5-m560-laptop.txt', ('kvm', 'kvm_intel'), UG_Y, UBUNTU, {}),
    ('epyc-7451', 'amd64-amd-epyc-7451.txt', AMD, {}, DEBIAN, {'groups': ['strict']}),
    ('ryzen7-2700x', 'amd64-amd-ryzen7-2700x.txt', AMD, {}, UBUNTU, {}),
    ('ryzen7-kvm-guest', 'amd64-amd-kvm-guest-ryzen7-2700x.txt', GENERIC, {}, UBUNTU, {}),
    ('opteron-865', 'amd64-amd-opteron-865.txt', ('kvm', 'vhost', 'vhost_net'), {}, OLD_DEBIAN, {}),
    ('thunderx', 'arm64-cavium-thunderx.txt', GENERIC, {}, UBUNTU_ARM, {}),
    ('cortex-x3', 'arm64-arm-cortex-a510-a710-a715-x3.txt', GENERIC, {}, UBUNTU_ARM, {}),
    ('jetson-tx1-no-vhost-net', 'arm64-nvidia-jetson-tx1-cortex-a57.txt', ('kvm', 'vhost'), {}, UBUNTU_ARM, {}),
    ('power8-smt-on', 'ppc64le-ibm-power8e-kvm-guest.txt', POWER, {}, RHEL7, {'smt': 'SMT=8'}),
    ('power9', 'ppc64le-ibm-power9-powernv-8335-gtw.txt', POWER, {}, RHEL8, {}),
    ('z14', 's390x-ibm-z14.txt', S390X, {}, SLES, {}),
    ('z196-no-kvm', 's390x-ibm-z196-zvm-guest.txt', ('vhost_vsock',), {}, SLES, {}),
    ('visionfive2', 'riscv64-starfive-visionfive2-u74.txt', GENERIC, {}, DEBIAN_RISCV, {}),
    ('xeon-clh', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, UG_Y, DEBIAN, {'hypervisor': 'clh', 'groups': ['strict']}),
    ('xeon-old-kernel', 'amd64-intel-xeon-x7550.txt', ('kvm', 'kvm_intel', 'vhost', 'vhost_net'), UG_Y, OLD_DEBIAN,
     {'groups': ['strict']}),
    # kata-deploy 4.1.0's 23 handlers, in the 'strict' group (its policy wants qemu), kata-fc's configuration removed
    ('kata-deploy-4.1.0', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, UG_Y, DEBIAN, {
        'layout': 'kata-deploy-4.1.0', 'groups': ['strict'],
        'remove': ['/opt/kata/share/defaults/kata-containers/runtimes/fc/configuration-fc.toml']}),
    ('containerd-1.x', 'amd64-amd-epyc-7451.txt', AMD, {}, UBUNTU, {
        'layout': 'containerd-1.x', 'vars': {'kata_preflight_runtimes': ['kata-qemu', 'kata-clh', 'kata-dragonball']}}),
    ('distro-3.0.0', 'arm64-arm-cortex-a510-a710-a715-x3.txt', GENERIC, {}, UBUNTU_ARM, {'layout': 'distro-3.0.0'}),
    ('broken-root', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, UG_Y, DEBIAN, {'root': False}),
    ('unreachable', 'amd64-intel-xeon-e5-2680v3.txt', INTEL, UG_Y, DEBIAN, {'reachable': False}),
)

# Group variables of the inventory: the policy of the 'strict' group.
GROUP_VARS = {
    'strict': {
        'kata_preflight_required_hypervisor': 'qemu',
        'kata_preflight_min_kernel': '5.10',
        'kata_preflight_require_vhost_vsock': True,
    },
}

ARCH_GROUPS = {'amd64': 'x86_64', 'arm64': 'arm64', 'ppc64le': 'power', 's390x': 's390x', 'riscv64': 'riscv64'}
QEMU_BINARIES = {'amd64': 'qemu-system-x86_64', 'arm64': 'qemu-system-aarch64', 'ppc64le': 'qemu-system-ppc64',
                 's390x': 'qemu-system-s390x', 'riscv64': 'qemu-system-riscv64'}
MACHINE_TYPES = {'amd64': 'q35', 'arm64': 'virt', 'ppc64le': 'pseries', 's390x': 's390-ccw-virtio', 'riscv64': 'virt'}
KVM_DEVICE = (10, 232)
VSOCK_DEVICE = (10, 241)


class FleetError(Exception):
    """A clear message for the user, printed without a traceback."""


def arch_of(fixture):
    return fixture.split('-', 1)[0]


# The real /proc/cpuinfo dumps the host roots are built from (tests/fixtures/cpuinfo, with SOURCES.md).
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures', 'cpuinfo')


def find_fixtures(explicit=None):
    """The directory of /proc/cpuinfo dumps: ``explicit``, or the repository's own tests/fixtures/cpuinfo."""
    path = explicit or FIXTURES
    return path if os.path.isdir(path) else None


def hosts_for(count):
    """The layout's hosts, cycled to ``count`` hosts (later copies get a -2, -3... suffix); all of it by default."""
    count = count or len(LAYOUT)
    hosts = []
    for index in range(count):
        name, fixture, modules, params, (distro, version, kernel), extras = LAYOUT[index % len(LAYOUT)]
        cycle = index // len(LAYOUT)
        hosts.append(dict(
            name=name if cycle == 0 else '%s-%d' % (name, cycle + 1), template=name, fixture=fixture,
            arch=arch_of(fixture), modules=list(modules), params=dict(('%s/%s' % k, v) for k, v in params.items()),
            distro=distro, distro_version=version, kernel=kernel, kvm=extras.get('kvm', True),
            hypervisor=extras.get('hypervisor', 'qemu'), smt=extras.get('smt'), groups=list(extras.get('groups', [])),
            has_root=extras.get('root', True), reachable=extras.get('reachable', True), layout=extras.get('layout'),
            remove=list(extras.get('remove', [])), vars=dict(extras.get('vars', {})),
            address='127.0.0.%d' % (FIRST_ADDRESS + index)))
    if FIRST_ADDRESS + count > 255:
        raise FleetError('at most %d hosts fit in 127.0.0.%d-254' % (255 - FIRST_ADDRESS, FIRST_ADDRESS))
    return hosts


# ---------------------------------------------------------------------------------------------------------------
# host roots

def _write(path, content, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(content)
    os.chmod(path, mode)


def _mknod(path, device):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(*device))
    except PermissionError:
        raise FleetError('cannot create the device node %s: run as root (CAP_MKNOD)' % path) from None


def kata_configuration(host, root):
    """A packaged Kata configuration (usr/share/defaults) for the host's hypervisor, with its assets present."""
    arch = host['arch']
    if host['hypervisor'] == 'clh':
        binary = '/usr/bin/cloud-hypervisor'
        table = ['[hypervisor.clh]', 'path = "%s"' % binary]
    else:
        binary = '/usr/bin/' + QEMU_BINARIES[arch]
        table = ['[hypervisor.qemu]', 'path = "%s"' % binary, 'machine_type = "%s"' % MACHINE_TYPES[arch]]
    assets = [binary, '/usr/share/kata-containers/vmlinux.container', '/usr/share/kata-containers/kata-containers.img',
              '/usr/libexec/virtiofsd']
    for asset in assets:
        _write(os.path.join(root, asset.lstrip('/')), '#!/bin/sh\n# placeholder of %s for the test fleet\n' % asset, 0o755)
    text = '\n'.join(table + [
        'kernel = "/usr/share/kata-containers/vmlinux.container"',
        'image = "/usr/share/kata-containers/kata-containers.img"',
        'virtio_fs_daemon = "/usr/libexec/virtiofsd"',
        'shared_fs = "virtio-fs"',
        'default_vcpus = 1',
        'default_memory = 2048',
        '',
        '[agent.kata]',
        '',
        '[runtime]',
        'internetworking_model = "tcfilter"',
        '']) + '\n'
    _write(os.path.join(root, 'usr/share/defaults/kata-containers/configuration.toml'), text)


# The node layouts (kata_sim's sim_layouts.py beside this directory).
KATA_SIM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'kata_sim')


def node_layout(host, root):
    """Write the host's node layout (sim_layouts.build) under its root, then remove the paths it should lack."""
    if KATA_SIM not in sys.path:
        sys.path.insert(0, KATA_SIM)
    import sim_layouts  # pylint: disable=import-outside-toplevel
    sim_layouts.build(root, host['layout'])
    for path in host['remove']:
        os.unlink(os.path.join(root, path.lstrip('/')))


def build_host(host, fixtures, hosts_dir):
    """Create DIR/hosts/<name>/ with root/ (the host root) and bin/ (programs in that host's PATH)."""
    base = os.path.join(hosts_dir, host['name'])
    root = os.path.join(base, 'root')
    bindir = os.path.join(base, 'bin')
    os.makedirs(bindir)
    host['root'] = root if host['has_root'] else os.path.join(base, 'missing-root')
    host['bin'] = bindir
    if not host['has_root']:
        return
    with open(os.path.join(fixtures, host['fixture']), 'rb') as f:
        cpuinfo = f.read().decode('utf-8')
    _write(os.path.join(root, 'proc/cpuinfo'), cpuinfo, 0o444)
    _write(os.path.join(root, 'proc/version'), 'Linux version %s (builder@fleet) (gcc version 12.2.0) #1 SMP\n'
           % host['kernel'], 0o444)
    _write(os.path.join(root, 'proc/meminfo'), 'MemTotal:       65861340 kB\nMemFree:        40123456 kB\n'
           'MemAvailable:   52345678 kB\n', 0o444)
    _write(os.path.join(root, 'proc/cmdline'), 'BOOT_IMAGE=/vmlinuz-%s root=/dev/sda1 ro quiet\n' % host['kernel'], 0o444)
    _write(os.path.join(root, 'etc/os-release'), 'NAME="%s"\nVERSION_ID="%s"\nID=fleet\n'
           % (host['distro'], host['distro_version']))
    for module in host['modules']:
        os.makedirs(os.path.join(root, 'sys/module', module, 'parameters'), exist_ok=True)
    for path, value in host['params'].items():
        module, param = path.split('/')
        os.makedirs(os.path.join(root, 'sys/module', module, 'parameters'), exist_ok=True)
        _write(os.path.join(root, 'sys/module', module, 'parameters', param), value + '\n', 0o444)
    os.makedirs(os.path.join(root, 'dev'), exist_ok=True)
    if host['kvm']:
        _mknod(os.path.join(root, 'dev/kvm'), KVM_DEVICE)
    if 'vhost_vsock' in host['modules']:
        _mknod(os.path.join(root, 'dev/vhost-vsock'), VSOCK_DEVICE)
    if host['layout']:
        node_layout(host, root)
    else:
        kata_configuration(host, root)
    if host['smt']:
        # powerpc-utils' ppc64_cpu: kata_check runs it (from the PATH) on POWER8 and older to see whether SMT is off.
        _write(os.path.join(bindir, 'ppc64_cpu'), '#!/bin/sh\n# stand-in for powerpc-utils ppc64_cpu on this host\n'
               'if [ "$1" = "--smt" ]; then echo "%s"; exit 0; fi\necho "ppc64_cpu: unsupported option $1" >&2\nexit 1\n'
               % host['smt'], 0o755)


# ---------------------------------------------------------------------------------------------------------------
# sshd

def _run(argv, **kwargs):
    return subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          **kwargs)


def port_is_free(address, port):
    """Whether sshd could listen on address:port (connections in TIME_WAIT do not count, as for sshd)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def choose_port(hosts, wanted):
    """``wanted`` when it is free on every address (the unreachable one too), or the first free port from 2222."""
    addresses = [h['address'] for h in hosts]
    candidates = [int(wanted)] if wanted != 'auto' else list(range(DEFAULT_PORT, DEFAULT_PORT + 100))
    for port in candidates:
        if all(port_is_free(a, port) for a in addresses):
            return port
    if wanted != 'auto':
        raise FleetError('port %s is in use on one of %s-%s; pick another with --port, or --port auto'
                         % (wanted, addresses[0], addresses[-1]))
    raise FleetError('no free port in %d-%d on %s-%s' % (candidates[0], candidates[-1], addresses[0], addresses[-1]))


def sshd_config(index, hosts, port, ssh_dir):
    lines = ['# test fleet sshd #%d' % index]
    lines += ['ListenAddress %s:%d' % (h['address'], port) for h in hosts]
    lines += [
        'HostKey %s' % os.path.join(ssh_dir, 'ssh_host_ed25519_key'),
        'PidFile %s' % os.path.join(ssh_dir, 'sshd-%d.pid' % index),
        'AuthorizedKeysFile %s' % os.path.join(ssh_dir, 'authorized_keys'),
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'UseDNS no',
        'PrintMotd no',
        'MaxStartups 200:30:400',
        'MaxSessions 200',
        'LogLevel ERROR',
        'Subsystem sftp internal-sftp',
    ]
    for host in hosts:
        # Each host gets its own PATH (its bin/ first: the ppc64_cpu stand-in) and names itself.
        lines += ['Match LocalAddress %s' % host['address'],
                  '    SetEnv PATH=%s:%s KATA_FLEET_HOST=%s' % (host['bin'], SYSTEM_PATH, host['name'])]
    return '\n'.join(lines) + '\n'


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            return f.read().split(b') ', 1)[1][:1] != b'Z'
    except OSError:
        return False


def _cmdline(pid):
    """The command line of a process as one string (sshd rewrites its own into one title, spaces included)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def _children(pids):
    """Processes whose parent is one of ``pids`` (sshd's per-connection processes)."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, 'rb') as f:
                fields = f.read().split(b') ', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) in pids:
            found.append(int(entry))
    return found


def wait_listening(address, port, pid, log, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _process_alive(pid):
            raise FleetError('sshd (pid %d) exited at start: %s' % (pid, _tail(log)))
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise FleetError('sshd (pid %d) does not listen on %s:%d after %.0fs: %s' % (pid, address, port, timeout, _tail(log)))


def _tail(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()[-2000:].strip() or '(empty log)'
    except OSError:
        return '(no log)'


def ssh_args(state):
    ssh_dir = state['ssh_dir']
    return ['-o', 'UserKnownHostsFile=%s' % os.path.join(ssh_dir, 'known_hosts'), '-o', 'GlobalKnownHostsFile=/dev/null',
            '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentitiesOnly=yes', '-o', 'PreferredAuthentications=publickey',
            '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5']


def up(args):
    if os.geteuid() != 0:
        raise FleetError('the fleet needs root: device nodes, sshd and root logins')
    for program in (SSHD,):
        if not os.access(program, os.X_OK):
            raise FleetError('%s is missing: apt-get install -y openssh-server' % program)
    if shutil.which(SSH) is None or shutil.which(SSH_KEYGEN) is None:
        raise FleetError('ssh and ssh-keygen are missing: apt-get install -y openssh-client')
    fixtures = find_fixtures(args.fixtures)
    if fixtures is None:
        raise FleetError('%s (real /proc/cpuinfo dumps) is not a directory' % (args.fixtures or FIXTURES))
    directory = os.path.abspath(args.dir)
    if os.path.exists(os.path.join(directory, 'fleet.json')):
        raise FleetError('%s already holds a fleet: run "fleet.py down --dir %s" first' % (directory, directory))
    os.makedirs(directory, exist_ok=True)
    hosts = hosts_for(args.count)
    port = choose_port(hosts, args.port)
    ssh_dir = os.path.join(directory, 'ssh')
    hosts_dir = os.path.join(directory, 'hosts')
    os.makedirs(ssh_dir, mode=0o700)
    os.makedirs(os.path.join(directory, 'cp'), mode=0o700)
    os.makedirs(hosts_dir)
    state = dict(dir=directory, port=port, ssh_dir=ssh_dir, sshd=[], hosts=hosts, fixtures=fixtures,
                 inventory=os.path.join(directory, 'inventory.json'), control_path_dir=os.path.join(directory, 'cp'),
                 python=args.python)
    _save(state)
    for host in hosts:
        build_host(host, fixtures, hosts_dir)
    _run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-C', 'kata test fleet host', '-f',
          os.path.join(ssh_dir, 'ssh_host_ed25519_key')])
    _run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-C', 'kata test fleet client', '-f', os.path.join(ssh_dir, 'id_ed25519')])
    shutil.copyfile(os.path.join(ssh_dir, 'id_ed25519.pub'), os.path.join(ssh_dir, 'authorized_keys'))
    with open(os.path.join(ssh_dir, 'ssh_host_ed25519_key.pub'), encoding='ascii') as f:
        host_key = ' '.join(f.read().split()[:2])
    with open(os.path.join(ssh_dir, 'known_hosts'), 'w', encoding='ascii') as f:
        for host in hosts:
            f.write('[%s]:%d %s\n' % (host['address'], port, host_key))
    os.makedirs('/run/sshd', mode=0o755, exist_ok=True)  # sshd's privilege separation directory (Debian)

    served = [h for h in hosts if h['reachable']]
    groups = [served[i:i + HOSTS_PER_SSHD] for i in range(0, len(served), HOSTS_PER_SSHD)]
    try:
        for index, group in enumerate(groups):
            config = os.path.join(ssh_dir, 'sshd-%d.conf' % index)
            log = os.path.join(ssh_dir, 'sshd-%d.log' % index)
            with open(config, 'w', encoding='utf-8') as f:
                f.write(sshd_config(index, group, port, ssh_dir))
            check = subprocess.run([SSHD, '-t', '-f', config], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, check=False)
            if check.returncode != 0:
                raise FleetError('sshd rejects %s: %s' % (config, check.stdout.decode(errors='replace').strip()))
            proc = subprocess.Popen([SSHD, '-D', '-f', config, '-E', log], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            state['sshd'].append(dict(pid=proc.pid, config=config, log=log, addresses=[h['address'] for h in group]))
            _save(state)
        for entry in state['sshd']:
            for address in entry['addresses']:
                wait_listening(address, port, entry['pid'], entry['log'])
        for entry in state['sshd']:  # one real login per sshd: keys, known_hosts and the per-host PATH work
            address = entry['addresses'][0]
            name = [h['name'] for h in hosts if h['address'] == address][0]
            out = subprocess.run([SSH] + ssh_args(state) + ['-i', os.path.join(ssh_dir, 'id_ed25519'), '-p', str(port),
                                                            'root@%s' % address, 'echo $KATA_FLEET_HOST'],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            if out.returncode != 0 or out.stdout.decode().strip() != name:
                raise FleetError('ssh login to %s:%d failed (rc=%d): %s %s' % (
                    address, port, out.returncode, out.stderr.decode(errors='replace').strip(), _tail(entry['log'])))
        for host in hosts:
            if not host['reachable'] and not port_is_free(host['address'], port):
                raise FleetError('something listens on %s:%d, which must stay unreachable' % (host['address'], port))
    except BaseException:
        down_state(state, keep=True)
        raise
    write_inventory(state)
    if args.foreground:
        state['supervisor'] = os.getpid()
    _save(state)
    print(state['inventory'], flush=True)
    if args.foreground:
        supervise(state)
    return 0


PR_SET_CHILD_SUBREAPER = 36


def _reap():
    """Collect every child that exited (sshd instances, and orphans of theirs we adopted)."""
    while True:
        try:
            pid, dummy = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def supervise(state):
    """Stay the parent of our sshd instances until SIGTERM/SIGINT, then stop them and reap every process.

    Without a parent that waits for them, stopped sshd instances stay zombies wherever PID 1 does not reap (some
    containers). As a child subreaper this process also reaps sshd's orphaned session processes.
    """
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    stop = []
    signal.signal(signal.SIGTERM, lambda *dummy: stop.append(True))
    signal.signal(signal.SIGINT, lambda *dummy: stop.append(True))
    with open(os.path.join(state['dir'], 'ready'), 'w', encoding='ascii') as f:
        f.write('%d\n' % os.getpid())
    while not stop:
        _reap()
        time.sleep(0.2)
    try:
        down_state(state, keep=True)
    finally:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                pid, dummy = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)


def write_inventory(state):
    hosts = state['hosts']
    groups = {}
    for host in hosts:
        for group in [ARCH_GROUPS[host['arch']]] + host['groups']:
            groups.setdefault(group, []).append(host['name'])
    fleet_vars = {
        'ansible_user': 'root',
        'ansible_port': state['port'],
        'ansible_connection': 'ssh',
        'ansible_python_interpreter': state['python'],
        'ansible_pipelining': True,
        'ansible_ssh_private_key_file': os.path.join(state['ssh_dir'], 'id_ed25519'),
        'ansible_ssh_common_args': ' '.join(ssh_args(state)),
        'ansible_control_path_dir': state['control_path_dir'],
        'ansible_ssh_retries': 0,
    }
    inventory = {'all': {'children': {'kata_fleet': {
        'vars': fleet_vars,
        'hosts': dict((h['name'], dict({'ansible_host': h['address'], 'kata_preflight_host_root': h['root']},
                                       **h.get('vars', {}))) for h in hosts),
        'children': dict((group, dict({'hosts': dict((name, None) for name in names)},
                                      **({'vars': GROUP_VARS[group]} if group in GROUP_VARS else {})))
                         for group, names in sorted(groups.items())),
    }}}}
    with open(state['inventory'], 'w', encoding='utf-8') as f:
        json.dump(inventory, f, indent=2, sort_keys=False)
        f.write('\n')


def _save(state):
    path = os.path.join(state['dir'], 'fleet.json')
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, path)


def _load(directory):
    try:
        with open(os.path.join(os.path.abspath(directory), 'fleet.json'), encoding='utf-8') as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def _terminate(pids, timeout=5.0):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_process_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _process_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def down_state(state, keep=False):
    """Stop the SSH masters Ansible left (ControlPersist), then our sshd instances and their sessions."""
    cp_dir = state.get('control_path_dir')
    if cp_dir and os.path.isdir(cp_dir):
        for name in os.listdir(cp_dir):
            sock = os.path.join(cp_dir, name)
            subprocess.run([SSH, '-o', 'ControlPath=%s' % sock, '-O', 'exit', 'fleet-master'], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=10)
    listeners = []
    for entry in state.get('sshd', []):
        pid = entry['pid']
        # Only our own sshd: the pid must still run sshd with our configuration file.
        if _process_alive(pid) and (' -f %s ' % entry['config']) in _cmdline(pid) + ' ':
            listeners.append(pid)
    sessions = _children(set(listeners)) if listeners else []
    _terminate(listeners)
    _terminate([p for p in sessions if _process_alive(p)])
    for entry in state.get('sshd', []):
        for address in entry['addresses']:
            if not port_is_free(address, state['port']):
                raise FleetError('%s:%d is still in use after stopping the fleet' % (address, state['port']))
    if not keep:
        shutil.rmtree(state['dir'], ignore_errors=True)


def down(args):
    state = _load(args.dir)
    if state is None:
        print('no fleet in %s' % args.dir)
        return 0
    supervisor = state.get('supervisor')
    if supervisor and supervisor != os.getpid() and _process_alive(supervisor) and \
            ' up ' in _cmdline(supervisor) and ' --foreground' in _cmdline(supervisor) + ' ':
        _terminate([supervisor], timeout=30.0)  # it stops its sshd instances and reaps them
    down_state(state, keep=args.keep)
    return 0


def digest(args):
    """sha256 of every file, directory, device and mode under the host roots (and bin/)."""
    state = _load(args.dir)
    if state is None:
        raise FleetError('no fleet in %s' % args.dir)
    sha = hashlib.sha256()
    base = os.path.join(state['dir'], 'hosts')
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            sha.update(('%s %o %d\n' % (os.path.relpath(path, base), st.st_mode, st.st_rdev)).encode())
            if stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    sha.update(f.read())
    print(sha.hexdigest())
    return 0


def layout(dummy_args):
    for host in hosts_for(None):
        print('%-24s %-8s %-44s %s' % (host['name'], host['arch'], host['fixture'], ' '.join(host['modules'])))
    return 0


def fixtures(args):
    path = find_fixtures(args.fixtures)
    if path is None:
        print('%s (real /proc/cpuinfo dumps) is not a directory' % (args.fixtures or FIXTURES), file=sys.stderr)
        return 1
    print(path)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p_up = sub.add_parser('up', help='build the host roots, start sshd, write the inventory')
    p_up.add_argument('--dir', required=True, help='working directory of this fleet (created)')
    p_up.add_argument('--port', default=str(DEFAULT_PORT), help='SSH port on every address, or "auto" (default %(default)s)')
    p_up.add_argument('--count', type=int, default=None, help='number of hosts (the layout is cycled); default: the layout')
    p_up.add_argument('--fixtures', help='a directory of /proc/cpuinfo dumps (default: tests/fixtures/cpuinfo)')
    p_up.add_argument('--python', default='/usr/bin/python3', help='ansible_python_interpreter of the hosts')
    p_up.add_argument('--foreground', action='store_true',
                      help='stay in the foreground as the parent of the sshd instances (writes DIR/ready), until down')
    p_up.set_defaults(func=up)
    p_down = sub.add_parser('down', help='stop everything the fleet started and remove its directory')
    p_down.add_argument('--dir', required=True)
    p_down.add_argument('--keep', action='store_true', help='keep the directory')
    p_down.set_defaults(func=down)
    p_digest = sub.add_parser('digest', help='print a hash of every host root')
    p_digest.add_argument('--dir', required=True)
    p_digest.set_defaults(func=digest)
    p_layout = sub.add_parser('layout', help='print the hosts of the layout')
    p_layout.set_defaults(func=layout)
    p_fixtures = sub.add_parser('fixtures', help='print the cpuinfo fixtures directory, or fail')
    p_fixtures.add_argument('--fixtures')
    p_fixtures.set_defaults(func=fixtures)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FleetError as exc:
        print('fleet.py: %s' % exc, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
