# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for the module_utils/_config package: real files under tmp_path, used as the host root."""

from __future__ import annotations

import os
import socket
import sys
import threading

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._config import _env_sections, _load, _paths, _schema

try:
    import tomllib as toml_parser
except ImportError:  # Python < 3.11: the collection needs tomli there (tests/unit/requirements.txt)
    toml_parser = pytest.importorskip('tomli')
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    ConfigError,
    MissingDependencyError,
)

MAIN = '/etc/kata-containers/configuration.toml'
USR = '/usr/share/defaults/kata-containers/configuration.toml'
DROP = '/etc/kata-containers/config.d'

ASSETS = {
    '/usr/bin/qemu-system-x86_64': 'qemu',
    '/usr/bin/qemu-system-aarch64': 'qemu',
    '/usr/bin/cloud-hypervisor': 'clh',
    '/usr/bin/firecracker': 'fc',
    '/usr/bin/acrn-dm': 'acrn',
    '/usr/bin/acrnctl': 'acrnctl',
    '/opt/kata/vmlinux.container': 'kernel',
    '/opt/kata/kata-containers.img': 'image',
    '/opt/kata/kata-containers-initrd.img': 'initrd',
    '/usr/libexec/virtiofsd': 'virtiofsd',
}

QEMU = '''
[hypervisor.qemu]
path = "/usr/bin/qemu-system-x86_64"
kernel = "/opt/kata/vmlinux.container"
image = "/opt/kata/kata-containers.img"
virtio_fs_daemon = "/usr/libexec/virtiofsd"
'''

CLH = '''
[hypervisor.clh]
path = "/usr/bin/cloud-hypervisor"
kernel = "/opt/kata/vmlinux.container"
image = "/opt/kata/kata-containers.img"
virtio_fs_daemon = "/usr/libexec/virtiofsd"
'''

SYSTEMD = 'systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service systemd.mask=systemd-networkd.socket'


def put(root, host_path, text=''):
    path = os.path.join(str(root), host_path.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def link(root, host_path, target):
    path = os.path.join(str(root), host_path.lstrip('/'))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(target, path)
    return path


@pytest.fixture
def host(tmp_path):
    for path, content in ASSETS.items():
        put(tmp_path, path, content)
    return tmp_path


def load(root, text=None, **kwargs):
    if text is not None:
        put(root, MAIN, text)
    kwargs.setdefault('host_cpus', 4)
    kwargs.setdefault('host_memory_mib', 16000)
    return _load.load_config(MAIN, host_root=str(root), **kwargs)


def error_of(root, text, **kwargs):
    with pytest.raises(ConfigError) as exc:
        load(root, text, **kwargs)
    return exc.value.msg


# ---------------------------------------------------------------------------------------------------- lookup

def test_lookup_etc_wins_over_usr_share(tmp_path):
    put(tmp_path, MAIN, '')
    put(tmp_path, USR, '')
    assert _paths.find_config(str(tmp_path)) == (MAIN, [MAIN])


def test_lookup_falls_back_to_usr_share(tmp_path):
    put(tmp_path, USR, '')
    assert _paths.find_config(str(tmp_path)) == (USR, [MAIN, USR])
    assert _paths.require_config(str(tmp_path)) == USR


def test_lookup_neither_lists_both_paths(tmp_path):
    assert _paths.find_config(str(tmp_path)) == (None, [MAIN, USR])
    with pytest.raises(ConfigError) as exc:
        _paths.require_config(str(tmp_path))
    assert exc.value.msg == (
        'Cannot find usable config file (config file "/etc/kata-containers/configuration.toml" unresolvable: '
        'file /etc/kata-containers/configuration.toml does not exist, config file '
        '"/usr/share/defaults/kata-containers/configuration.toml" unresolvable: '
        'file /usr/share/defaults/kata-containers/configuration.toml does not exist)')


def test_explicit_config(tmp_path):
    put(tmp_path, MAIN, '')
    put(tmp_path, '/srv/kata/custom.toml', '')
    assert _paths.find_config(str(tmp_path), config='/srv/kata/custom.toml') == (
        '/srv/kata/custom.toml', ['/srv/kata/custom.toml'])


def test_explicit_config_missing_uses_kata_wording(tmp_path):
    put(tmp_path, MAIN, '')
    with pytest.raises(ConfigError) as exc:
        _paths.find_config(str(tmp_path), config='/srv/kata/../kata/missing.toml')
    assert exc.value.msg == 'Cannot find usable config file (file /srv/kata/missing.toml does not exist)'


def test_explicit_config_below_a_regular_file(tmp_path):
    put(tmp_path, '/srv/file', '')
    with pytest.raises(ConfigError) as exc:
        _paths.find_config(str(tmp_path), config='/srv/file/kata.toml')
    assert exc.value.msg == 'Cannot find usable config file (lstat /srv/file/kata.toml: not a directory)'
    # '..' is lexical, as in Go's EvalSymlinks: it pops the file without looking below it
    put(tmp_path, '/srv/kata.toml', '')
    assert _paths.resolve_path(str(tmp_path), '/srv/file/../kata.toml') == '/srv/kata.toml'


def test_load_config_with_missing_path(tmp_path):
    with pytest.raises(ConfigError) as exc:
        _load.load_config('/nowhere.toml', host_root=str(tmp_path))
    assert exc.value.msg == 'Cannot find usable config file (file /nowhere.toml does not exist)'


def test_host_root_absolute_symlink_stays_inside_root(host):
    put(host, '/opt/kata/share/configuration.toml', QEMU)
    put(host, '/opt/kata/share/config.d/50-mem.toml', '[hypervisor.qemu]\ndefault_memory = 3072\n')
    link(host, MAIN, '/opt/kata/share/configuration.toml')
    # The same absolute target does not exist on this machine: it is read under the root only.
    assert not os.path.exists('/opt/kata/share/configuration.toml')
    path, tried = _paths.find_config(str(host))
    assert (path, tried) == ('/opt/kata/share/configuration.toml', [MAIN])
    cfg = load(host)
    assert cfg.path == '/opt/kata/share/configuration.toml'
    assert cfg.drop_ins == ['/opt/kata/share/config.d/50-mem.toml']
    assert cfg.hypervisor['default_memory'] == 3072


def test_relative_symlink_cannot_climb_above_root(host):
    put(host, '/etc/real.toml', QEMU)
    link(host, MAIN, '../../../../../../../../etc/real.toml')
    assert _paths.find_config(str(host)) == ('/etc/real.toml', [MAIN])


def test_symlink_loop(tmp_path):
    link(tmp_path, MAIN, MAIN)
    with pytest.raises(ConfigError) as exc:
        _paths.require_config(str(tmp_path))
    assert exc.value.msg.startswith(
        'Cannot find usable config file (config file "/etc/kata-containers/configuration.toml" unresolvable: '
        'EvalSymlinks: too many links, ')


def test_resolve_path_through_directory_symlinks(tmp_path):
    put(tmp_path, '/data/a/b/file', 'x')
    link(tmp_path, '/usr/share/link', '/data/a')
    link(tmp_path, '/data/a/up', '..')
    assert _paths.resolve_path(str(tmp_path), '/usr/share/link/up/a/./b/file') == '/data/a/b/file'


def test_main_config_must_be_regular_file(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), MAIN.lstrip('/')))
    with pytest.raises(ConfigError) as exc:
        _load.load_config(MAIN, host_root=str(tmp_path))
    assert exc.value.msg == 'Kata configuration file "/etc/kata-containers/configuration.toml" is a directory, not a regular file'


# ---------------------------------------------------------------------------------------------------- drop-ins

def test_drop_in_overrides_one_key_and_keeps_the_others(host):
    put(host, DROP + '/10-debug.toml', '[hypervisor.qemu]\nenable_debug = true\n')
    cfg = load(host, QEMU + 'default_memory = 4096\n')
    assert cfg.drop_ins == [DROP + '/10-debug.toml']
    assert cfg.hypervisor['enable_debug'] is True
    assert cfg.hypervisor['default_memory'] == 4096
    assert cfg.hypervisor['kernel'] == '/opt/kata/vmlinux.container'
    assert cfg.hypervisor['image'] == '/opt/kata/kata-containers.img'
    assert cfg.warnings == []


def test_drop_ins_applied_in_name_order_whatever_the_extension(host):
    put(host, DROP + '/2-last.conf', '[hypervisor.qemu]\ndefault_memory = 4000\n')
    put(host, DROP + '/10-first.toml', '[hypervisor.qemu]\ndefault_memory = 3000\ndefault_bridges = 3\n')
    put(host, DROP + '/README', '[runtime]\nenable_debug = true\n')
    cfg = load(host, QEMU)
    assert cfg.drop_ins == [DROP + '/10-first.toml', DROP + '/2-last.conf', DROP + '/README']
    assert cfg.hypervisor['default_memory'] == 4000
    assert cfg.hypervisor['default_bridges'] == 3
    assert cfg.runtime['enable_debug'] is True


def test_drop_in_creates_agent_table_and_struct_tables_overlay(host):
    put(host, DROP + '/a.toml', '[agent.kata]\nenable_tracing = true\n[factory]\nvm_cache_number = 2\n')
    cfg = load(host, QEMU + '[factory]\ntemplate_path = "/srv/template"\n')
    assert cfg.agent == dict(kernel_modules=[], enable_debug=False, enable_tracing=True,
                             debug_console_enabled=False, dial_timeout=0, cdh_api_timeout=0,
                             launch_process_timeout=0, visible_cdi_devices=False)
    assert cfg.factory == dict(enable_template=False, template_path='/srv/template', vm_cache_number=2,
                               vm_cache_endpoint='/var/run/kata-containers/cache.sock')


def test_drop_in_header_without_keys_does_not_create_a_table(host):
    put(host, DROP + '/a.toml', '[hypervisor.clh]\n')
    cfg = load(host, QEMU)
    assert cfg.hypervisor_type == 'qemu'
    assert cfg.hypervisor_tables == ['qemu']


def test_no_drop_in_directory(host):
    assert load(host, QEMU).drop_ins == []


def test_drop_in_directory_that_is_a_file(host):
    put(host, DROP, '')
    msg = error_of(host, QEMU)
    assert msg == ('error reading "/etc/kata-containers/config.d" directory: '
                   'open /etc/kata-containers/config.d: not a directory')


def test_fifo_and_other_non_regular_drop_ins_are_skipped_without_blocking(host):
    os.makedirs(os.path.join(str(host), DROP.lstrip('/')))
    os.mkfifo(os.path.join(str(host), DROP.lstrip('/'), '20-fifo'))
    os.makedirs(os.path.join(str(host), DROP.lstrip('/'), '30-dir'))
    link(host, DROP + '/40-dangling', '/nowhere')
    sock = socket.socket(socket.AF_UNIX)
    try:
        # Bind by a relative name: the absolute path may pass the 107-byte limit of AF_UNIX socket paths.
        cwd = os.getcwd()
        os.chdir(os.path.join(str(host), DROP.lstrip('/')))
        try:
            sock.bind('50-sock')
        finally:
            os.chdir(cwd)
        put(host, DROP + '/60-ok', '[hypervisor.qemu]\ndefault_memory = 3000\n')
        result = {}
        worker = threading.Thread(target=lambda: result.update(cfg=load(host, QEMU)))
        worker.daemon = True
        worker.start()
        worker.join(60)  # a watchdog, not a timing assertion: a blocking open would hang here forever
        assert not worker.is_alive(), 'load_config blocked on the FIFO'
    finally:
        sock.close()
    cfg = result['cfg']
    assert cfg.drop_ins == [DROP + '/60-ok']
    assert cfg.hypervisor['default_memory'] == 3000
    assert cfg.warnings == [
        'config.d entry /etc/kata-containers/config.d/20-fifo skipped: it is a FIFO, not a regular file '
        '(kata-runtime fails reading it)',
        'config.d entry /etc/kata-containers/config.d/30-dir skipped: it is a directory, not a regular file '
        '(kata-runtime fails reading it)',
        'config.d entry /etc/kata-containers/config.d/40-dangling skipped: file /etc/kata-containers/config.d/40-dangling '
        'does not exist (kata-runtime fails reading it)',
        'config.d entry /etc/kata-containers/config.d/50-sock skipped: it is a socket, not a regular file '
        '(kata-runtime fails reading it)',
    ]


def test_drop_in_symlink_to_regular_file_is_applied(host):
    put(host, '/srv/shared/mem.toml', '[hypervisor.qemu]\ndefault_memory = 5000\n')
    link(host, DROP + '/mem.toml', '/srv/shared/mem.toml')
    cfg = load(host, QEMU)
    assert cfg.drop_ins == [DROP + '/mem.toml']
    assert cfg.hypervisor['default_memory'] == 5000


def test_oversize_main_file(host):
    path = put(host, MAIN, QEMU)
    os.truncate(path, _schema.MAX_CONFIG_SIZE + 1)
    with pytest.raises(ConfigError) as exc:
        load(host)
    assert exc.value.msg == ('Kata configuration file "/etc/kata-containers/configuration.toml" is too large '
                             '(4194305 bytes; the limit is 4194304 bytes)')


def test_oversize_drop_in(host):
    path = put(host, DROP + '/big.toml', '')
    os.truncate(path, 5 * 1024 * 1024)
    msg = error_of(host, QEMU)
    assert msg == ('Kata configuration file "/etc/kata-containers/config.d/big.toml" is too large '
                   '(5242880 bytes; the limit is 4194304 bytes)')


def test_decode_error_names_the_file(host):
    bad = '[hypervisor.qemu\npath = 1\n'
    put(host, DROP + '/bad.toml', bad)
    msg = error_of(host, QEMU)
    expected = None
    try:
        toml_parser.loads(bad)
    except ValueError as exc:
        expected = str(exc)
    assert expected
    assert msg == 'error decoding file "/etc/kata-containers/config.d/bad.toml": %s' % expected


def test_invalid_utf8(host):
    path = os.path.join(str(host), MAIN.lstrip('/'))
    put(host, MAIN, '')
    with open(path, 'wb') as f:
        f.write(b'[runtime]\ninternetworking_model = "\xff"\n')
    with pytest.raises(ConfigError) as exc:
        load(host)
    assert exc.value.msg.startswith('error decoding file "/etc/kata-containers/configuration.toml": invalid UTF-8: ')


def test_byte_order_mark_is_accepted(host):
    path = os.path.join(str(host), MAIN.lstrip('/'))
    put(host, MAIN, '')
    with open(path, 'wb') as f:
        f.write(b'\xef\xbb\xbf' + QEMU.encode('utf-8'))
    assert load(host).hypervisor_type == 'qemu'


def test_unknown_keys_in_drop_in_warn(host):
    put(host, DROP + '/x.toml', '[runtime]\nenable_debug = true\nbogus = 1\n[made.up]\nkey = "v"\n'
                                '[factory]\n"odd key" = 2\n')
    cfg = load(host, QEMU + '[runtime]\nalso_unknown_in_main = 1\n')
    assert cfg.runtime['enable_debug'] is True
    assert cfg.warnings == [
        'undecoded keys in "/etc/kata-containers/config.d/x.toml": [runtime.bogus made made.up made.up.key '
        'factory."odd key"]']


def test_unknown_key_in_drop_in_hypervisor_table_is_kata_error(host):
    put(host, DROP + '/x.toml', '[hypervisor.qemu]\ndefault_memory = 4096\nno_such_key = true\n')
    assert error_of(host, QEMU) == (
        "error applying key 'hypervisor.qemu.no_such_key' from drop-in file \"/etc/kata-containers/config.d/x.toml\": "
        'error getting key "no_such_key" from a decoded drop-in conf file: key "no_such_key" not found')


# ---------------------------------------------------------------------------------------------------- typing

@pytest.mark.parametrize('line, message', [
    ('default_memory = "2048"',
     'toml: (last key "hypervisor.qemu.default_memory"): incompatible types: TOML value has type string; '
     'destination has type integer (value "2048")'),
    ('enable_debug = "yes"',
     'toml: (last key "hypervisor.qemu.enable_debug"): incompatible types: TOML value has type string; '
     'destination has type boolean (value "yes")'),
    ('kernel_params = 5',
     'toml: (last key "hypervisor.qemu.kernel_params"): incompatible types: TOML value has type int64; '
     'destination has type string (value 5)'),
    ('default_vcpus = "1.5"',
     'toml: (last key "hypervisor.qemu.default_vcpus"): incompatible types: TOML value has type string; '
     'destination has type float (value "1.5")'),
    ('default_memory = true',
     'toml: (last key "hypervisor.qemu.default_memory"): incompatible types: TOML value has type bool; '
     'destination has type integer (value true)'),
    ('pflashes = "/a"',
     'toml: (last key "hypervisor.qemu.pflashes"): incompatible types: TOML value has type string; '
     'destination has type slice (value "/a")'),
    ('enable_annotations = ["a", 1]',
     'toml: (last key "hypervisor.qemu.enable_annotations"): incompatible types: TOML value has type int64; '
     'destination has type string (value 1)'),
    ('default_memory = -1', 'toml: (last key "hypervisor.qemu.default_memory"): -1 is out of range for uint32'),
    ('default_vcpus = 1e39',
     'toml: (last key "hypervisor.qemu.default_vcpus"): 1e+39 is out of range for float32'),
    ('default_vcpus = nan',
     'toml: (last key "hypervisor.qemu.default_vcpus"): nan is not a number of vCPUs'),
    ('default_vcpus = -inf',
     'toml: (last key "hypervisor.qemu.default_vcpus"): -inf is out of range for float32'),
])
def test_wrong_value_types(host, line, message):
    assert error_of(host, QEMU + line + '\n') == (
        'error decoding file "/etc/kata-containers/configuration.toml": ' + message)


def test_wrong_type_in_drop_in_names_the_drop_in(host):
    put(host, DROP + '/x.toml', '[factory]\nenable_template = 1\n')
    assert error_of(host, QEMU) == (
        'error decoding file "/etc/kata-containers/config.d/x.toml": toml: (last key "factory.enable_template"): '
        'incompatible types: TOML value has type int64; destination has type boolean (value 1)')


def test_table_type_mismatch(host):
    assert error_of(host, 'runtime = 3\n') == (
        'error decoding file "/etc/kata-containers/configuration.toml": toml: (last key "runtime"): '
        'type mismatch for katautils.runtime: expected table but found int64')
    assert error_of(host, '[hypervisor]\nqemu = "x"\n') == (
        'error decoding file "/etc/kata-containers/configuration.toml": toml: (last key "hypervisor.qemu"): '
        'type mismatch for katautils.hypervisor: expected table but found string')


def test_negative_uint64_wraps_like_go(host):
    cfg = load(host, QEMU + 'memory_offset = -1\n')
    assert cfg.hypervisor['memory_offset'] == 18446744073709551615


# ---------------------------------------------------------------------------------------------------- validation

@pytest.mark.parametrize('text, message', [
    ('[runtime]\ninternetworking_model = "bridged"\n',
     '/etc/kata-containers/configuration.toml: runtime.internetworking_model = "bridged": Unknown type bridged'),
    ('[runtime]\nvfio_mode = "pci"\n',
     '/etc/kata-containers/configuration.toml: runtime.vfio_mode = "pci": Unknown VFIO mode pci'),
    (QEMU + 'block_device_driver = "ide"\n',
     '/etc/kata-containers/configuration.toml: hypervisor.qemu.block_device_driver = "ide": Invalid hypervisor block '
     'storage driver ide specified (supported drivers: [virtio-scsi virtio-blk virtio-mmio nvdimm virtio-blk-ccw])'),
    (QEMU + 'block_device_aio = "posix"\n',
     '/etc/kata-containers/configuration.toml: hypervisor.qemu.block_device_aio = "posix": Invalid hypervisor block '
     'storage I/O mechanism  posix specified (supported AIO: [io_uring native threads])'),
    (QEMU + 'shared_fs = "nfs"\n',
     '/etc/kata-containers/configuration.toml: hypervisor.qemu.shared_fs = "nfs": Invalid hypervisor shared file '
     'system nfs specified (supported file systems: [virtio-9p virtio-fs virtio-fs-nydus none])'),
    (QEMU.replace('virtio_fs_daemon = "/usr/libexec/virtiofsd"', 'shared_fs = "virtio-fs-nydus"'),
     '/etc/kata-containers/configuration.toml: hypervisor.qemu.shared_fs = "virtio-fs-nydus" without '
     'hypervisor.qemu.virtio_fs_daemon: cannot enable virtio-fs-nydus without daemon path in configuration file'),
    (QEMU + '[runtime]\nexperimental = ["newstore"]\n',
     '/etc/kata-containers/configuration.toml: runtime.experimental = ["newstore"]: '
     'Unsupported experimental feature "newstore"'),
    (QEMU + '[runtime]\ndisable_new_netns = true\ninternetworking_model = "tcfilter"\n',
     '/etc/kata-containers/configuration.toml: runtime.disable_new_netns = true with runtime.internetworking_model '
     '= "tcfilter": config disable_new_netns only works with \'none\' internetworking_model'),
    (QEMU + '[runtime]\ndisable_new_netns = true\n',
     '/etc/kata-containers/configuration.toml: runtime.disable_new_netns = true with runtime.internetworking_model '
     '= "default": config disable_new_netns only works with \'none\' internetworking_model'),
    (QEMU + '[factory]\nenable_template = true\n',
     '/etc/kata-containers/configuration.toml: factory.enable_template = true: '
     'Factory option enable_template requires an initrd image'),
    (CLH + '[factory]\nvm_cache_number = 3\n',
     '/etc/kata-containers/configuration.toml: factory.vm_cache_number = 3 with hypervisor clh: '
     'VM cache just support qemu'),
    (QEMU + 'kernel_params = "quiet =oops"\n',
     '/etc/kata-containers/configuration.toml: hypervisor.qemu.kernel_params = "quiet =oops": Empty kernel parameter'),
    (CLH + 'shared_fs = "virtio-9p"\n',
     '/etc/kata-containers/configuration.toml: hypervisor.clh.shared_fs = "virtio-9p": '
     'clh only support virtio-fs or virtio-fs-nydus'),
    (CLH.replace('virtio_fs_daemon = "/usr/libexec/virtiofsd"', ''),
     '/etc/kata-containers/configuration.toml: hypervisor.clh.shared_fs = "virtio-fs" without '
     'hypervisor.clh.virtio_fs_daemon: cannot enable virtio-fs without daemon path in configuration file'),
    (CLH.replace('image = "/opt/kata/kata-containers.img"', ''),
     '/etc/kata-containers/configuration.toml: neither hypervisor.clh.image nor hypervisor.clh.initrd is set: '
     'image or initrd must be defined in the configuration file'),
    ('[hypervisor.acrn]\npath = "/usr/bin/acrn-dm"\nkernel = "/opt/kata/vmlinux.container"\n',
     '/etc/kata-containers/configuration.toml: hypervisor.acrn.image is not set: '
     'image must be defined in the configuration file'),
    (QEMU + '[runtime]\nsandbox_bind_mounts = ["/opt/kata/kata-containers.img", "/usr/bin/../lib/kata-containers.img"]\n',
     '/etc/kata-containers/configuration.toml: runtime.sandbox_bind_mounts = ["/opt/kata/kata-containers.img", '
     '"/usr/bin/../lib/kata-containers.img"]: sandbox-bindmounts: File /usr/lib/kata-containers.img has base that '
     'matches already specified bindmount'),
])
def test_validation_errors(host, text, message):
    assert error_of(host, text) == message


def test_validation_error_names_the_drop_in_that_set_the_value(host):
    put(host, DROP + '/90-driver.toml', '[hypervisor.qemu]\nblock_device_driver = "floppy"\n')
    assert error_of(host, QEMU) == (
        '/etc/kata-containers/config.d/90-driver.toml: hypervisor.qemu.block_device_driver = "floppy": Invalid '
        'hypervisor block storage driver floppy specified (supported drivers: [virtio-scsi virtio-blk virtio-mmio '
        'nvdimm virtio-blk-ccw])')


def test_error_details(host):
    with pytest.raises(ConfigError) as exc:
        load(host, QEMU + '[runtime]\nvfio_mode = "pci"\n')
    assert exc.value.details == dict(path=MAIN, key='runtime.vfio_mode', value='pci')


def test_empty_image_is_an_error(host):
    put(host, '/opt/kata/kata-containers.img', '')
    assert error_of(host, QEMU) == (
        '/etc/kata-containers/configuration.toml: hypervisor.qemu.image = "/opt/kata/kata-containers.img": '
        'image "/opt/kata/kata-containers.img" is empty')


def test_initrd_larger_than_memory_is_an_error_image_only_a_warning(host):
    os.truncate(os.path.join(str(host), 'opt/kata/kata-containers-initrd.img'), 2048 * 1024 * 1024)
    os.truncate(os.path.join(str(host), 'opt/kata/kata-containers.img'), 3000 * 1024 * 1024)
    cfg = load(host, QEMU + 'default_memory = 2048\n')
    assert cfg.warnings == [
        'hypervisor.qemu.image: VM memory (2048MB) smaller than image "/opt/kata/kata-containers.img" size (3000MB)']
    text = QEMU.replace('image = "/opt/kata/kata-containers.img"', 'initrd = "/opt/kata/kata-containers-initrd.img"')
    assert error_of(host, text) == (
        '/etc/kata-containers/configuration.toml: hypervisor.qemu.initrd = "/opt/kata/kata-containers-initrd.img": '
        'VM memory (2048MB) smaller than image "/opt/kata/kata-containers-initrd.img" size (2048MB)')


def test_valid_runtime_section(host):
    cfg = load(host, QEMU + '''
[runtime]
enable_debug = true
enable_tracing = true
internetworking_model = "none"
disable_new_netns = true
disable_guest_seccomp = true
sandbox_cgroup_only = true
static_sandbox_resource_mgmt = true
enable_pprof = true
vfio_mode = "guest-kernel"
jaeger_endpoint = "http://jaeger:14268"
jaeger_user = "kata"
jaeger_password = "s3cret"
guest_selinux_label = "system_u:system_r:container_t"
sandbox_bind_mounts = ["/opt/kata/vmlinux.container"]
''')
    assert cfg.runtime == dict(
        internetworking_model='none', jaeger_endpoint='http://jaeger:14268', jaeger_user='kata',
        jaeger_password='********', vfio_mode='guest-kernel', guest_selinux_label='system_u:system_r:container_t',
        sandbox_bind_mounts=['/opt/kata/vmlinux.container'], experimental=[], enable_debug=True, enable_tracing=True,
        disable_new_netns=True, disable_guest_seccomp=True, sandbox_cgroup_only=True,
        static_sandbox_resource_mgmt=True, enable_pprof=True, disable_guest_empty_dir=False,
        enable_vcpus_pinning=False, emptydir_mode='', create_container_timeout=0, dan_conf='',
        experimental_force_guest_pull=False, pod_resource_api_sock='', kubelet_root_dir='')
    assert 's3cret' not in repr(cfg.to_dict())


def test_runtime_defaults(host):
    cfg = load(host, QEMU)
    assert cfg.runtime['internetworking_model'] == 'default'
    assert cfg.runtime['vfio_mode'] == 'vfio'
    assert cfg.runtime['experimental'] == []


# ---------------------------------------------------------------------------------------------------- kernel params

def test_kernel_params_image_scsi_agent_debug_console_user(host):
    cfg = load(host, QEMU + 'kernel_params = " quiet  console=hvc0 rootflags=data=ordered,errors=remount-ro init= "\n'
               '[agent.kata]\nenable_debug = true\ndebug_console_enabled = true\n')
    assert cfg.kernel_params == (
        'systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service '
        'systemd.mask=systemd-networkd.socket scsi_mod.scan=none agent.log=debug agent.debug_console '
        'agent.debug_console_vport=1026 quiet console=hvc0 rootflags=data=ordered,errors=remount-ro init')


def test_kernel_params_observed_example(host):
    assert load(host, QEMU).kernel_params == (
        'systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service '
        'systemd.mask=systemd-networkd.socket scsi_mod.scan=none')


def test_kernel_params_initrd_virtio_blk_trace(host):
    text = QEMU.replace('image = "/opt/kata/kata-containers.img"', 'initrd = "/opt/kata/kata-containers-initrd.img"')
    cfg = load(host, text + 'block_device_driver = "virtio-blk"\nkernel_params = "a=1 a=2"\n'
                            '[agent.kata]\nenable_tracing = true\n')
    assert cfg.kernel_params == 'agent.trace=true a=1 a=2'


def test_no_hypervisor_table_uses_compiled_in_qemu_defaults(host):
    cfg = load(host, '[runtime]\nenable_debug = true\n')
    assert cfg.hypervisor_type == 'qemu'
    assert cfg.hypervisor_tables == []
    hv = cfg.hypervisor
    assert (hv['path'], hv['kernel'], hv['image'], hv['initrd'], hv['jailer_path']) == (
        '/usr/bin/qemu-system-x86_64', '/usr/share/kata-containers/vmlinuz.container',
        '/usr/share/kata-containers/kata-containers.img', '/usr/share/kata-containers/kata-containers-initrd.img',
        '/usr/bin/jailer')
    assert (hv['memory_slots'], hv['entropy_source'], hv['shared_fs'], hv['default_maxvcpus']) == (0, '', '', 0)
    assert cfg.kernel_params == SYSTEMD + ' scsi_mod.scan=none'
    assert cfg.warnings == [
        'hypervisor.qemu.image: file /usr/share/kata-containers/kata-containers.img does not exist '
        '(kata-runtime refuses a configuration whose image is missing)',
        'hypervisor.qemu.initrd: file /usr/share/kata-containers/kata-containers-initrd.img does not exist '
        '(kata-runtime refuses a configuration whose initrd is missing)',
    ]


# ---------------------------------------------------------------------------------------------------- defaults

def test_qemu_defaults_and_normalisations(host):
    cfg = load(host, QEMU + '''
default_vcpus = 0
default_maxvcpus = 0
default_memory = 255
default_bridges = 9
memory_slots = 0
msize_9p = 0
machine_accelerators = " nvdimm=on , ,kernel_irqchip=on,"
cpu_features = "pmu=off,,"
''')
    hv = cfg.hypervisor
    assert hv['default_vcpus'] == 1
    assert hv['default_maxvcpus'] == 4
    assert hv['default_memory'] == 2048
    assert hv['default_bridges'] == 5
    assert hv['memory_slots'] == 10
    assert hv['msize_9p'] == 8192
    assert hv['default_maxmemory'] == 16000
    assert hv['machine_accelerators'] == 'nvdimm=on,,kernel_irqchip=on'
    assert hv['cpu_features'] == 'pmu=off'
    assert hv['machine_type'] == 'q35'
    assert hv['block_device_driver'] == 'virtio-scsi'
    assert hv['block_device_aio'] == 'io_uring'
    assert hv['shared_fs'] == 'virtio-fs'
    assert hv['virtio_fs_cache'] == 'none'
    assert hv['entropy_source'] == '/dev/urandom'
    assert hv['vhost_user_store_path'] == '/var/run/kata-containers/vhost-user/'
    assert hv['disable_vhost_net'] is False
    assert hv['disable_image_nvdimm'] is False
    assert cfg.warnings == []


@pytest.mark.parametrize('vcpus, maxvcpus, expected', [
    (-1, 0, (4, 4)),
    (100, 2, (4, 2)),
    (3, 3, (3, 3)),
    (4, 8, (4, 4)),
])
def test_vcpu_rules(host, vcpus, maxvcpus, expected):
    hv = load(host, QEMU + 'default_vcpus = %d\ndefault_maxvcpus = %d\n' % (vcpus, maxvcpus)).hypervisor
    assert (hv['default_vcpus'], hv['default_maxvcpus']) == expected


def test_vcpu_caps_per_arch(host):
    put(host, MAIN, QEMU.replace('path = "/usr/bin/qemu-system-x86_64"\n', '') + 'default_vcpus = -1\n')
    hv = load(host, host_cpus=500, arch='aarch64').hypervisor
    assert (hv['default_vcpus'], hv['default_maxvcpus'], hv['path']) == (123, 123, '/usr/bin/qemu-system-aarch64')
    hv = load(host, host_cpus=500, arch='amd64').hypervisor
    assert (hv['default_vcpus'], hv['default_maxvcpus']) == (240, 240)


def test_unknown_arch(host):
    with pytest.raises(ArgumentError) as exc:
        load(host, QEMU, arch='mips')
    assert exc.value.msg == "arch: unsupported architecture 'mips' (supported: amd64, arm64, ppc64le, riscv64, s390x)"


@pytest.mark.parametrize('line, key, expected', [
    ('default_memory = 256', 'default_memory', 256),
    ('default_bridges = 0', 'default_bridges', 1),
    ('default_bridges = 3', 'default_bridges', 3),
    ('default_maxmemory = 100000', 'default_maxmemory', 16000),
    ('default_maxmemory = 1024', 'default_maxmemory', 1024),
    ('memory_slots = 4', 'memory_slots', 4),
    ('msize_9p = 1024', 'msize_9p', 1024),
    ('machine_type = "microvm"', 'disable_image_nvdimm', True),
])
def test_single_value_rules(host, line, key, expected):
    assert load(host, QEMU + line + '\n').hypervisor[key] == expected


def test_host_memory_from_proc_meminfo_under_root(host):
    put(host, '/proc/meminfo', 'MemTotal:       24684096 kB\nMemFree:        23674572 kB\n')
    cfg = load(host, QEMU, host_memory_mib=None)
    assert cfg.hypervisor['default_maxmemory'] == 24105


def test_host_cpus_from_sys_under_other_root(host):
    put(host, '/sys/devices/system/cpu/online', '0-5,8\n')
    cfg = load(host, QEMU + 'default_vcpus = -1\n', host_cpus=None)
    assert cfg.hypervisor['default_vcpus'] == 7


def test_firecracker_builder_reads_only_its_keys(host):
    cfg = load(host, '''
[hypervisor.firecracker]
path = "/usr/bin/firecracker"
kernel = "/opt/kata/vmlinux.container"
image = "/opt/kata/kata-containers.img"
machine_type = "ignored"
shared_fs = "virtio-9p"
disable_vhost_net = false
virtio_fs_daemon = "/usr/libexec/virtiofsd"
''')
    hv = cfg.hypervisor
    assert cfg.hypervisor_type == 'firecracker'
    assert (hv['machine_type'], hv['shared_fs'], hv['virtio_fs_daemon'], hv['msize_9p']) == ('', '', '', 0)
    assert hv['disable_vhost_net'] is True
    assert hv['block_device_driver'] == 'virtio-scsi'
    assert cfg.kernel_params == SYSTEMD + ' scsi_mod.scan=none'


def test_dragonball_has_no_path_nor_block_driver(host):
    cfg = load(host, '[hypervisor.dragonball]\nkernel = "/opt/kata/vmlinux.container"\npath = "/nowhere"\n')
    hv = cfg.hypervisor
    assert (hv['path'], hv['block_device_driver'], hv['machine_type'], hv['memory_slots']) == ('', '', '', 10)
    assert cfg.kernel_params == ''
    assert cfg.warnings == []


def test_clh_specifics(host):
    cfg = load(host, CLH + 'disk_rate_limiter_bw_one_time_burst = 10\nnet_rate_limiter_ops_max_rate = 5\n'
                           'net_rate_limiter_ops_one_time_burst = 7\n')
    hv = cfg.hypervisor
    assert hv['virtio_fs_cache'] == ''
    assert hv['disable_vhost_net'] is True
    assert hv['disk_rate_limiter_bw_one_time_burst'] == 0
    assert hv['net_rate_limiter_ops_one_time_burst'] == 7
    assert cfg.warnings == [
        'hypervisor.clh.disk_rate_limiter_bw_one_time_burst is set but hypervisor.clh.disk_rate_limiter_bw_max_rate '
        'is not set, this option will be ignored']


def test_acrn_uses_default_ctlpath(host):
    cfg = load(host, '[hypervisor.acrn]\npath = "/usr/bin/acrn-dm"\nkernel = "/opt/kata/vmlinux.container"\n'
                     'image = "/opt/kata/kata-containers.img"\n')
    assert cfg.hypervisor['ctlpath'] == '/usr/bin/acrnctl'


# ---------------------------------------------------------------------------------------------------- assets

def test_assets_resolved_inside_root(host):
    link(host, '/usr/share/kata-containers/vmlinux.container', '../../../opt/kata/vmlinux.container')
    link(host, '/usr/local/bin/qemu', '/usr/bin/qemu-system-x86_64')
    cfg = load(host, QEMU.replace('/opt/kata/vmlinux.container', '/usr/share/kata-containers/vmlinux.container')
               .replace('path = "/usr/bin/qemu-system-x86_64"', 'path = "/usr/local/bin/qemu"'))
    assert cfg.hypervisor['kernel'] == '/opt/kata/vmlinux.container'
    assert cfg.hypervisor['path'] == '/usr/bin/qemu-system-x86_64'


def test_missing_assets_are_warnings_and_keep_the_configured_path(host):
    cfg = load(host, QEMU.replace('/opt/kata/vmlinux.container', '/opt/kata/./missing-kernel')
               .replace('/usr/libexec/virtiofsd', '/usr/libexec/gone') + 'pflashes = ["/opt/flash0"]\n'
                                                                         'firmware = "/opt/OVMF.fd"\n')
    assert cfg.hypervisor['kernel'] == '/opt/kata/missing-kernel'
    assert cfg.hypervisor['virtio_fs_daemon'] == '/usr/libexec/gone'
    assert cfg.hypervisor['pflashes'] == ['/opt/flash0']
    assert cfg.hypervisor['firmware'] == '/opt/OVMF.fd'
    assert cfg.warnings == [
        'hypervisor.qemu.kernel: file /opt/kata/missing-kernel does not exist '
        '(kata-runtime refuses a configuration whose kernel is missing)',
        'hypervisor.qemu.pflashes: file /opt/flash0 does not exist '
        '(kata-runtime refuses a configuration whose pflashes is missing)',
        'hypervisor.qemu.firmware: file /opt/OVMF.fd does not exist '
        '(kata-runtime refuses a configuration whose firmware is missing)',
        'hypervisor.qemu.virtio_fs_daemon: file /usr/libexec/gone does not exist',
    ]


# ---------------------------------------------------------------------------------------------------- factory

def test_factory_defaults(host):
    assert load(host, QEMU).factory == dict(
        enable_template=False, template_path='/run/vc/vm/template', vm_cache_number=0,
        vm_cache_endpoint='/var/run/kata-containers/cache.sock')


def test_factory_overrides(host):
    text = QEMU.replace('image = "/opt/kata/kata-containers.img"', 'initrd = "/opt/kata/kata-containers-initrd.img"')
    cfg = load(host, text + '[factory]\nenable_template = true\ntemplate_path = "/srv/tpl"\nvm_cache_number = 4\n'
                            'vm_cache_endpoint = "/run/cache.sock"\n')
    assert cfg.factory == dict(enable_template=True, template_path='/srv/tpl', vm_cache_number=4,
                               vm_cache_endpoint='/run/cache.sock')


# ---------------------------------------------------------------------------------------------------- hypervisor choice

def test_several_hypervisor_tables_need_a_choice(host):
    text = QEMU + CLH
    assert error_of(host, text) == (
        '"/etc/kata-containers/configuration.toml" defines several hypervisor tables ([hypervisor.qemu], '
        '[hypervisor.clh]); kata-runtime would use one of them at random: set the hypervisor option to choose one')
    assert load(host, text, hypervisor='clh').hypervisor_type == 'clh'
    cfg = load(host, text, hypervisor='qemu')
    assert cfg.hypervisor_type == 'qemu'
    assert cfg.hypervisor_tables == ['qemu', 'clh']


def test_chosen_hypervisor_absent(host):
    put(host, DROP + '/a.toml', '[runtime]\nenable_debug = true\n')
    assert error_of(host, QEMU, hypervisor='firecracker') == (
        'hypervisor firecracker was chosen but "/etc/kata-containers/configuration.toml" (with its config.d drop-ins) '
        'has no [hypervisor.firecracker] table (tables found: [hypervisor.qemu])')


def test_chosen_hypervisor_absent_without_tables(host):
    assert error_of(host, '', hypervisor='clh') == (
        'hypervisor clh was chosen but "/etc/kata-containers/configuration.toml" has no [hypervisor.clh] table '
        '(tables found: none)')


def test_unknown_hypervisor_table(host):
    assert error_of(host, '[hypervisor.cloud]\npath = "/usr/bin/cloud"\n') == (
        '/etc/kata-containers/configuration.toml: [hypervisor.cloud] is not a known hypervisor type (known '
        'types: qemu, clh, firecracker, dragonball, stratovirt, remote, acrn); kata-runtime would fail with '
        '"configuration file contains invalid hypervisor section"')


def test_runtime_rs_only_hypervisor_table_in_a_go_file(host):
    assert error_of(host, '[hypervisor.openvmm]\npath = "/usr/bin/openvmm"\n').startswith(
        '/etc/kata-containers/configuration.toml: [hypervisor.openvmm] is not a known hypervisor type (known '
        'types: qemu, clh, firecracker, dragonball, stratovirt, remote, acrn)')


def test_unknown_hypervisor_choice(host):
    with pytest.raises(ArgumentError) as exc:
        load(host, QEMU, hypervisor='cloud')
    assert exc.value.msg == ("hypervisor: unknown hypervisor type 'cloud' "
                             "(known types: qemu, clh, firecracker, dragonball, stratovirt, remote, openvmm, acrn)")


def test_runtime_rs_hypervisor_choice_for_a_go_file(host):
    assert error_of(host, QEMU, hypervisor='openvmm') == (
        'hypervisor openvmm was chosen but "/etc/kata-containers/configuration.toml" is a Go runtime configuration, '
        'which has no openvmm hypervisor (its types: qemu, clh, firecracker, dragonball, stratovirt, remote, acrn)')


def test_several_agent_tables(host):
    cfg = load(host, QEMU + '[agent.other]\nenable_debug = true\n[agent.kata]\nenable_tracing = true\n')
    assert cfg.agent['enable_tracing'] is True
    assert cfg.agent['enable_debug'] is False
    assert cfg.warnings == ['several agent tables ([agent.kata], [agent.other]): kata-runtime uses one of them at '
                            'random; [agent.kata] is used here']


# ---------------------------------------------------------------------------------------------------- env, to_dict

def test_env_sections(host):
    cfg = load(host, QEMU + '''
enable_debug = true
rootless = true
disable_seccomp = true
guest_hook_path = "/usr/share/oci/hooks"
enable_annotations = ["enable_iommu"]
pcie_root_port = 2
hotplug_vfio_on_root_bus = true
[agent.kata]
enable_debug = true
enable_tracing = true
[runtime]
enable_debug = true
sandbox_cgroup_only = true
''')
    common = dict(
        kernel=dict(path='/opt/kata/vmlinux.container',
                    parameters=SYSTEMD + ' scsi_mod.scan=none agent.log=debug agent.trace=true'),
        image=dict(path='/opt/kata/kata-containers.img'),
        initrd=dict(path=''),
        agent=dict(debug=True, trace=True),
    )
    hypervisor = dict(machine_type='q35', path='/usr/bin/qemu-system-x86_64', block_device_driver='virtio-scsi',
                      entropy_source='/dev/urandom', shared_fs='virtio-fs', virtio_fs_daemon='/usr/libexec/virtiofsd',
                      msize_9p=8192, memory_slots=10)
    runtime = dict(experimental=None, debug=True, trace=False, disable_guest_seccomp=False, disable_new_netns=False,
                   sandbox_cgroup_only=True)
    # EnvInfo 1.0.27 (kata-runtime 3.3+): VFIO hot/cold plug ports, the switch port, SecurityInfo, the SELinux label.
    assert _env_sections.env_sections(cfg) == dict(
        common,
        hypervisor=dict(
            hypervisor, hot_plug_vfio='no-port', cold_plug_vfio='no-port', pcie_root_port=2, pcie_switch_port=0,
            debug=True,
            # qemu's builder does not read disable_seccomp (kata 3.0.0 to 4.1.0)
            security_info=dict(rootless=True, disable_seccomp=False, guest_hook_path='/usr/share/oci/hooks',
                               enable_annotations=['enable_iommu'], confidential_guest=False)),
        runtime=dict(runtime, config=dict(path=MAIN, runtime='go'), guest_selinux_label=''),
    )
    # kata-runtime 3.3 to 3.5: 1.0.27 without the PCIe port counts (back from 3.6).
    assert 'pcie_root_port' not in _env_sections.env_sections(cfg, '1.0.27', (3, 5))['hypervisor']
    assert _env_sections.env_sections(cfg, '1.0.27', (3, 6))['hypervisor']['pcie_switch_port'] == 0
    # EnvInfo 1.0.26 (kata-runtime 3.0 to 3.2).
    assert _env_sections.env_sections(cfg, '1.0.26') == dict(
        common,
        hypervisor=dict(hypervisor, pcie_root_port=2, hotplug_vfio_on_root_bus=True, debug=True),
        runtime=dict(runtime, config=dict(path=MAIN, runtime='go')),
    )


def test_to_dict_is_a_copy(host):
    put(host, DROP + '/a.toml', '[runtime]\nenable_pprof = true\n')
    cfg = load(host, QEMU)
    data = cfg.to_dict()
    assert sorted(data) == ['agent', 'drop_ins', 'factory', 'hypervisor', 'hypervisor_tables', 'hypervisor_type',
                            'kernel_params', 'path', 'runtime', 'runtime_kind', 'runtime_kind_reason', 'warnings']
    assert (data['runtime_kind'], data['runtime_kind_reason']) == ('go', 'default')
    assert data['drop_ins'] == [DROP + '/a.toml']
    assert data['runtime']['enable_pprof'] is True
    data['hypervisor']['valid_hypervisor_paths'].append('/x')
    assert cfg.hypervisor['valid_hypervisor_paths'] == []


# ---------------------------------------------------------------------------------------------------- TOML library

def test_missing_toml_library(host, monkeypatch):
    put(host, MAIN, QEMU)
    monkeypatch.setitem(sys.modules, 'tomllib', None)
    monkeypatch.setitem(sys.modules, 'tomli', None)
    with pytest.raises(MissingDependencyError) as exc:
        load(host)
    assert exc.value.library == 'tomli'
    assert exc.value.msg == ('Failed to import the required Python library (tomli) '
                             '(needed to read Kata configuration files on Python < 3.11)')
    assert 'ModuleNotFoundError: import of tomli halted' in exc.value.exception


# ---------------------------------------------------------------------------------------------------- found by the robustness suite


@pytest.mark.parametrize('text', ['x = ' + '[' * 20000 + ']' * 20000, 'x = ' + '{a=' * 3000 + '1' + '}' * 3000])
def test_nesting_too_deep_for_the_toml_parser(host, text):
    # The TOML parsers recurse into arrays and inline tables: RecursionError reached the user as a traceback.
    assert error_of(host, text) == 'error decoding file "%s": arrays or inline tables nested too deeply' % MAIN


def test_nesting_too_deep_in_a_drop_in(host):
    put(host, DROP + '/10-deep.toml', 'x = ' + '[' * 20000 + ']' * 20000)
    assert error_of(host, QEMU) == ('error decoding file "%s/10-deep.toml": arrays or inline tables nested too deeply'
                                    % DROP)


def test_config_path_with_nul(tmp_path):
    with pytest.raises(ArgumentError) as exc:
        _paths.find_config(str(tmp_path), '/etc/kata\0/configuration.toml')
    assert exc.value.msg == "config: invalid path '/etc/kata\\x00/configuration.toml': it contains a NUL character"


def test_unknown_hypervisor_key_is_accepted_in_the_main_file_and_refused_in_a_drop_in(host):
    # Found by tests/fuzz/fuzz_config.py (an invariant of the target, not a parser bug): kata only checks the keys of
    # [hypervisor.X] tables when it applies a drop-in, so the same text loads as the main file and fails as a drop-in.
    text = QEMU + 'bogus = 1\n'
    assert load(host, text).hypervisor_type == 'qemu'
    put(host, DROP + '/again.toml', text)
    assert error_of(host, text) == (
        "error applying key 'hypervisor.qemu.bogus' from drop-in file \"/etc/kata-containers/config.d/again.toml\": "
        'error getting key "bogus" from a decoded drop-in conf file: key "bogus" not found')
