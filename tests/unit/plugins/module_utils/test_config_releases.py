# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every real configuration file of Kata 3.0.0 and 4.1.0 (Go runtime and runtime-rs, tests/fixtures/kata-configs)
loads, with the file's own values; kata-deploy's drop-ins over them; the lookup on node layouts."""

from __future__ import annotations

import glob
import os
import shutil
import sys

import pytest

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

from ansible_collections.katacontainers.kata.plugins.module_utils import _check, _hypervisors, _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._config import _env_sections, _paths, _schema
from ansible_collections.katacontainers.kata.plugins.module_utils._config._load import load_config
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ConfigError

# The same directory tests/unit/conftest.py exposes as KATA_CONFIGS_DIR.
KATA_CONFIGS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures',
                                                'kata-configs'))
SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim'))
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

import sim_layouts  # noqa: E402  pylint: disable=wrong-import-position

FIXTURES = sorted(os.path.relpath(path, KATA_CONFIGS_DIR)
                  for path in glob.glob(os.path.join(KATA_CONFIGS_DIR, '*', '*', '*.toml')))
HOST_CPUS = 64
HOST_MEMORY_MIB = 1 << 20  # nothing is clamped: the values are the file's


def test_the_fixture_set_is_complete():
    counts = {}
    for rel in FIXTURES:
        version, runtime, dummy = rel.split(os.sep)
        counts[(version, runtime)] = counts.get((version, runtime), 0) + 1
    assert counts == {('4.1.0', 'runtime'): 14, ('4.1.0', 'runtime-rs'): 15,
                      ('3.0.0', 'runtime'): 4, ('3.0.0', 'runtime-rs'): 1}


def _file(rel):
    with open(os.path.join(KATA_CONFIGS_DIR, rel), 'rb') as handle:
        return tomllib.load(handle)


def _load(rel, **kwargs):
    kwargs.setdefault('host_cpus', HOST_CPUS)
    kwargs.setdefault('host_memory_mib', HOST_MEMORY_MIB)
    return load_config('/' + rel.replace(os.sep, '/'), host_root=KATA_CONFIGS_DIR, **kwargs)


@pytest.mark.parametrize('rel', FIXTURES)
def test_every_fixture_loads_with_its_own_values(rel):
    doc = _file(rel)
    rust = rel.split(os.sep)[1] == 'runtime-rs'
    (name, table), = doc['hypervisor'].items()
    cfg = _load(rel)
    assert cfg.hypervisor_type == name
    assert cfg.runtime_kind == ('rust' if rust else 'go')
    assert cfg.runtime_kind_reason == ('location' if rust else 'default')
    hv = cfg.hypervisor
    if rust:
        assert doc['runtime']['hypervisor_name'] == name
    # Keys the runtime reads for this hypervisor type: the file's value, unchanged.
    reads_boot = rust or name not in ('remote',)
    if reads_boot:
        for key in ('kernel', 'image'):
            if key in table:
                assert hv[key] == table[key], key
        if 'initrd' in table and name != 'dragonball':
            assert hv['initrd'] == table['initrd']
        for key in ('default_vcpus', 'default_memory'):
            if key in table:
                assert hv[key] == table[key], key
    if 'path' in table and (rust or name not in ('dragonball', 'remote')):
        assert hv['path'] == table['path']
    if 'machine_type' in table and (rust or name in ('qemu', 'clh', 'stratovirt', 'remote')):
        assert hv['machine_type'] == table['machine_type']
    if rust or name in ('qemu', 'clh', 'stratovirt'):
        assert hv['shared_fs'] == table.get('shared_fs', 'none' if rust else 'virtio-fs')
    elif name == 'remote':
        assert hv['shared_fs'] == 'none'  # newRemoteHypervisorConfig: config.NoSharedFS
    else:
        assert hv['shared_fs'] == ''  # firecracker, acrn, dragonball (Go): not read, Go's zero value


@pytest.mark.parametrize('rel', [rel for rel in FIXTURES if rel.split(os.sep)[1] == 'runtime-rs'])
def test_a_runtime_rs_file_is_told_by_its_content_elsewhere(tmp_path, rel):
    target = tmp_path / 'etc' / 'kata-containers' / 'configuration.toml'
    target.parent.mkdir(parents=True)
    shutil.copy(os.path.join(KATA_CONFIGS_DIR, rel), str(target))
    cfg = load_config('/etc/kata-containers/configuration.toml', host_root=str(tmp_path), host_cpus=HOST_CPUS,
                      host_memory_mib=HOST_MEMORY_MIB)
    assert (cfg.runtime_kind, cfg.runtime_kind_reason) == ('rust', 'content')
    assert cfg.hypervisor_type == _file(rel)['runtime']['hypervisor_name']


def test_a_go_file_read_as_runtime_rs_when_the_handler_says_so():
    # A runtime-rs shim given a Go file: kata-types' Agent denies unknown fields (dial_timeout is dial_timeout_ms).
    with pytest.raises(ConfigError) as exc:
        _load(os.path.join('4.1.0', 'runtime', 'configuration-qemu.toml'), runtime='rust')
    assert exc.value.msg.startswith('error decoding "/4.1.0/runtime/configuration-qemu.toml": unknown field '
                                    '`dial_timeout`, expected one of `enable_debug`, ')
    assert exc.value.msg.endswith(' for key `agent.kata.dial_timeout`')
    # And a runtime-rs file read as a Go one: the Go runtime ignores runtime-rs's keys.
    cfg = _load(os.path.join('4.1.0', 'runtime-rs', 'configuration-qemu-runtime-rs.toml'), runtime='go')
    assert (cfg.runtime_kind, cfg.runtime_kind_reason, cfg.hypervisor_type) == ('go', 'given', 'qemu')


def test_runtime_rs_quirks_of_4_1_0_are_reported():
    cfg = _load(os.path.join('4.1.0', 'runtime-rs', 'configuration-remote.toml'))
    # kata-types 4.1.0 RemoteInfo reads hypervisor_socket; the shipped file sets remote_hypervisor_socket.
    assert any('hypervisor.remote.remote_hypervisor_socket is not a runtime-rs key' in w for w in cfg.warnings)
    assert cfg.hypervisor['hypervisor_socket'] == '/run/peerpod/hypervisor.sock'
    assert (cfg.runtime['internetworking_model'], cfg.runtime['disable_new_netns']) == ('none', False)


def test_guest_extension_images_of_a_runtime_rs_file():
    rel = os.path.join('4.1.0', 'runtime-rs', 'configuration-qemu-nvidia-gpu-snp-runtime-rs.toml')
    images = _file(rel)['hypervisor']['qemu']['guest_extension_images']
    cfg = _load(rel)
    assert [image['name'] for image in cfg.hypervisor['guest_extension_images']] == [i['name'] for i in images]
    assert len(images) == 2


def test_float_default_vcpus_and_shared_fs_none_in_go(tmp_path):
    text = open(os.path.join(KATA_CONFIGS_DIR, '4.1.0', 'runtime', 'configuration-qemu-snp.toml')).read()
    text = text.replace('default_vcpus = 1\n', 'default_vcpus = 0.5\n')
    assert 'default_vcpus = 0.5' in text
    (tmp_path / 'c.toml').write_text(text)
    cfg = load_config('/c.toml', host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert cfg.hypervisor['default_vcpus'] == 0.5
    assert cfg.hypervisor['shared_fs'] == 'none'
    assert cfg.hypervisor['confidential_guest'] is True


# ------------------------------------------------------------------------------------- kata-deploy's drop-ins

DEVKIT = '''# Devkit debug extension
# Generated by kata-deploy

[agent.kata]
debug_console_enabled = true

[[hypervisor.qemu.guest_extension_images]]
name = "coco"
path = "/opt/kata/share/kata-containers/kata-containers-coco.img"

[[hypervisor.qemu.guest_extension_images]]
name = "devkit"
path = "/opt/kata/share/kata-containers/kata-containers-devkit-extension.img"
verity_params = "root_hash=abc,salt=def"
'''
PREFIX = '''# Installation prefix adjustments
# Generated by kata-deploy

[hypervisor.%(hv)s]
path = "/opt/kata-dev/bin/qemu-system-x86_64"
kernel = "/opt/kata-dev/share/kata-containers/vmlinux.container"
image = "/opt/kata-dev/share/kata-containers/kata-containers.img"
initrd = "/opt/kata-dev/share/kata-containers/kata-containers-initrd.img"
'''
DEBUG = '''[hypervisor.%(hv)s]
enable_debug = true

[runtime]
enable_debug = true

[agent.kata]
debug_console_enabled = true
enable_debug = true
'''


def _with_drop_ins(tmp_path, rel, drop_ins):
    """The file as kata-deploy installs it: runtimes/<shim>/configuration-<shim>.toml with config.d beside it."""
    where = '/opt/kata/share/defaults/kata-containers/%sruntimes/shim' % (
        'runtime-rs/' if rel.split(os.sep)[1] == 'runtime-rs' else '')
    directory = tmp_path / where.lstrip('/')
    (directory / 'config.d').mkdir(parents=True)
    shutil.copy(os.path.join(KATA_CONFIGS_DIR, rel), str(directory / 'configuration-shim.toml'))
    for name, text in drop_ins.items():
        (directory / 'config.d' / name).write_text(text)
    return where + '/configuration-shim.toml'


@pytest.mark.parametrize('rel', [os.path.join('4.1.0', 'runtime', 'configuration-qemu-coco-dev.toml'),
                                 os.path.join('4.1.0', 'runtime-rs', 'configuration-qemu-coco-dev-runtime-rs.toml')])
def test_kata_deploy_drop_ins_over_4_1_0(tmp_path, rel):
    main = _with_drop_ins(tmp_path, rel, {'10-installation-prefix.toml': PREFIX % {'hv': 'qemu'},
                                          '20-debug.toml': DEBUG % {'hv': 'qemu'}, '25-devkit.toml': DEVKIT})
    cfg = load_config(main, host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert cfg.drop_ins == [main.rsplit('/', 1)[0] + '/config.d/' + name
                            for name in ('10-installation-prefix.toml', '20-debug.toml', '25-devkit.toml')]
    assert cfg.hypervisor['path'] == '/opt/kata-dev/bin/qemu-system-x86_64'
    assert cfg.hypervisor['kernel'] == '/opt/kata-dev/share/kata-containers/vmlinux.container'
    assert cfg.hypervisor['enable_debug'] is True and cfg.runtime['enable_debug'] is True
    assert cfg.agent['debug_console_enabled'] is True
    # The drop-in's array of tables replaces the file's (kata-deploy re-lists the base extensions for that reason).
    assert [(i['name'], i['verity_params']) for i in cfg.hypervisor['guest_extension_images']] == [
        ('coco', ''), ('devkit', 'root_hash=abc,salt=def')]
    assert cfg.hypervisor['shared_fs'] == 'none'


def test_a_devkit_image_without_a_name_is_kata_s_error(tmp_path):
    rel = os.path.join('4.1.0', 'runtime', 'configuration-qemu.toml')
    main = _with_drop_ins(tmp_path, rel, {'25-devkit.toml': '[[hypervisor.qemu.guest_extension_images]]\npath = "/x"\n'})
    with pytest.raises(ConfigError) as exc:
        load_config(main, host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert exc.value.msg.endswith("guest_extension_images entry 0 is missing required 'name' field")
    assert exc.value.msg.startswith(main.rsplit('/', 1)[0] + '/config.d/25-devkit.toml: ')


def test_an_unknown_agent_key_is_a_runtime_rs_error(tmp_path):
    rel = os.path.join('4.1.0', 'runtime-rs', 'configuration-dragonball.toml')
    main = _with_drop_ins(tmp_path, rel, {'20-agent.toml': '[agent.kata]\ndial_timeout = 30\n'})
    with pytest.raises(ConfigError) as exc:
        load_config(main, host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert 'unknown field `dial_timeout`' in exc.value.msg and 'for key `agent.kata.dial_timeout`' in exc.value.msg


def test_a_wrong_type_in_a_runtime_rs_file(tmp_path):
    rel = os.path.join('4.1.0', 'runtime-rs', 'configuration-clh-runtime-rs.toml')
    main = _with_drop_ins(tmp_path, rel, {'30-mem.toml': '[hypervisor.clh]\ndefault_memory = "2G"\n'})
    with pytest.raises(ConfigError) as exc:
        load_config(main, host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert exc.value.msg.endswith('invalid type: string "2G", expected u32 for key `hypervisor.clh.default_memory`')


def test_pcie_ports_are_checked(tmp_path):
    rel = os.path.join('4.1.0', 'runtime', 'configuration-clh.toml')
    main = _with_drop_ins(tmp_path, rel, {'40-vfio.toml': '[hypervisor.clh]\ncold_plug_vfio = "switch-port"\n'})
    with pytest.raises(ConfigError) as exc:
        load_config(main, host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert exc.value.msg.endswith('hypervisor.clh.cold_plug_vfio = "switch-port": only cold-plug=no-port or '
                                  'root-port supported on CLH')


# ------------------------------------------------------------------------------------------ env formats

def test_env_1_0_27_fields_of_a_4_1_0_file():
    cfg = _load(os.path.join('4.1.0', 'runtime', 'configuration-qemu-nvidia-gpu.toml'))
    table = _file(os.path.join('4.1.0', 'runtime', 'configuration-qemu-nvidia-gpu.toml'))['hypervisor']['qemu']
    assert _env_sections.newer_keys(cfg)  # it sets keys only 3.3+ reads
    hv = _env_sections.env_sections(cfg, '1.0.27')['hypervisor']
    assert (hv['hot_plug_vfio'], hv['cold_plug_vfio']) == (table['hot_plug_vfio'], table['cold_plug_vfio'])
    assert hv['pcie_root_port'] == table['pcie_root_port'] == 8
    assert hv['pcie_switch_port'] == table.get('pcie_switch_port', 0)
    assert hv['security_info']['confidential_guest'] is table.get('confidential_guest', False)
    assert 'hotplug_vfio_on_root_bus' not in hv


def test_a_3_0_0_file_sets_no_3_3_key():
    assert _env_sections.newer_keys(_load(os.path.join('3.0.0', 'runtime', 'configuration-qemu.toml'))) == []


# ------------------------------------------------------------------------------------------ the lookup

def _layout(tmp_path, kind, remove=()):
    # Without asset placeholders (kata refuses an empty image file): the configurations' assets are then missing,
    # which the loader reports as warnings.
    manifest = sim_layouts.build(str(tmp_path), kind, assets=False)
    for host_path in remove:
        os.unlink(str(tmp_path) + host_path)
    return _probes.Host(str(tmp_path)), manifest


def _handler(manifest, name):
    return [h for h in manifest['handlers'] if h['handler'] == name][0]


GO_LINK = '/opt/kata/share/defaults/kata-containers/configuration.toml'
RS_LINK = '/opt/kata/share/defaults/kata-containers/runtime-rs/configuration.toml'


def test_default_lookup_on_a_kata_deploy_node_finds_its_configuration(tmp_path):
    host, manifest = _layout(tmp_path, 'kata-deploy-4.1.0')
    location = _paths.locate_config(host)
    assert location.source == 'default:' + GO_LINK
    assert location.path == _handler(manifest, 'kata-qemu')['config']
    assert location.tried == list(_schema.DEFAULT_CONFIG_PATHS) + [
        '/etc/kata-containers/runtime-rs/configuration.toml',
        '/usr/share/defaults/kata-containers/runtime-rs/configuration.toml', GO_LINK]


def test_default_lookup_then_runtime_rs_then_the_engines(tmp_path):
    host, manifest = _layout(tmp_path, 'kata-deploy-4.1.0', remove=(GO_LINK,))
    location = _paths.locate_config(host)
    assert location.source == 'default:' + RS_LINK
    assert location.path == _handler(manifest, 'kata-qemu-runtime-rs')['config']
    assert load_config(location.path, host_root=host.root, runtime=location.runtime).runtime_kind == 'rust'
    os.unlink(str(tmp_path) + RS_LINK)
    location = _paths.locate_config(host)
    assert (location.source, location.runtime) == ('engine:kata-qemu', 'go')
    assert location.path == _handler(manifest, 'kata-qemu')['config']
    assert location.tried[-1].startswith('the runtime handlers of the container engines (kata-')


def test_default_lookup_finds_a_multi_install_suffix(tmp_path):
    host, manifest = _layout(tmp_path, 'multi-install-suffix', remove=(GO_LINK, RS_LINK))
    location = _paths.locate_config(host)
    assert location.source == 'default:/opt/kata-dev/share/defaults/kata-containers/configuration.toml'
    assert location.path == _handler(manifest, 'kata-qemu-dev')['config']


def test_default_lookup_on_a_distribution_node(tmp_path):
    host, dummy = _layout(tmp_path, 'distro-3.0.0')
    location = _paths.locate_config(host)
    assert location.source == 'default:/usr/share/defaults/kata-containers/configuration.toml'


def test_runtime_option_uses_the_handler_s_configuration(tmp_path):
    host, manifest = _layout(tmp_path, 'kata-deploy-4.1.0')
    for name in ('kata-clh', 'kata-dragonball', 'kata-qemu-snp'):
        handler = _handler(manifest, name)
        location = _paths.locate_config(host, runtime=name)
        assert (location.path, location.source, location.runtime) == (
            handler['config'], 'runtime:' + name, handler['runtime'])
        cfg = load_config(location.path, host_root=host.root, runtime=location.runtime)
        assert cfg.hypervisor_type == handler['hypervisor']
        assert cfg.runtime_kind == handler['runtime']


def test_unknown_runtime_handler_lists_the_known_ones(tmp_path):
    host, manifest = _layout(tmp_path, 'multi-install-suffix')
    with pytest.raises(ArgumentError) as exc:
        _paths.locate_config(host, runtime='kata-nope')
    known = sorted(h['handler'] for h in manifest['handlers'])
    assert exc.value.msg == ("runtime: kata-nope is not a Kata runtime handler of this host's container engines; "
                             'the handlers found are: %s' % ', '.join(known))


def test_config_and_runtime_are_mutually_exclusive(tmp_path):
    with pytest.raises(ArgumentError) as exc:
        _paths.locate_config(_probes.Host(str(tmp_path)), config='/etc/x.toml', runtime='kata-clh')
    assert exc.value.msg.startswith('parameters are mutually exclusive: config|runtime')


def test_a_handler_whose_configuration_is_missing(tmp_path):
    host, manifest = _layout(tmp_path, 'kata-deploy-4.1.0')
    config = _handler(manifest, 'kata-fc')['config']
    os.unlink(str(tmp_path) + config)
    with pytest.raises(ConfigError) as exc:
        _paths.locate_config(host, runtime='kata-fc')
    assert exc.value.msg.startswith('runtime handler kata-fc (containerd, defined in ')
    assert exc.value.msg.endswith('uses the configuration file %s, which does not exist' % config)


def test_kata_runtime_of_the_installation_holding_the_configuration(monkeypatch):
    from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
    installations = [dict(prefix='/opt/kata', kata_runtime='/opt/kata/bin/kata-runtime'),
                     dict(prefix='/opt/kata-dev', kata_runtime='/opt/kata-dev/bin/kata-runtime')]
    monkeypatch.setattr(_runtimes, 'find_installations', lambda host: installations)

    class Cfg(object):
        path = '/opt/kata-dev/share/defaults/kata-containers/runtimes/qemu/configuration-qemu.toml'

    local = _probes.Host('/')
    assert _check.find_kata_runtime(local, None, lambda name: '/usr/bin/kata-runtime', Cfg()) == \
        '/opt/kata-dev/bin/kata-runtime'
    assert _check.find_kata_runtime(local, None, lambda name: '/usr/bin/kata-runtime') == '/usr/bin/kata-runtime'
    assert _check.find_kata_runtime(local, None, lambda name: None) == '/opt/kata/bin/kata-runtime'
    assert _check.find_kata_runtime(local, '/srv/kata-runtime', lambda name: None) == '/srv/kata-runtime'


def test_one_list_of_hypervisor_types():
    assert set(_hypervisors.GO_HYPERVISOR_TYPES) | set(_hypervisors.RUST_HYPERVISOR_TYPES) == set(
        _hypervisors.HYPERVISOR_TYPES)


def test_suffix_lookup_stays_inside_the_host_root(tmp_path):
    outside = tmp_path / 'outside'
    (outside / 'kata-evil' / 'share' / 'defaults' / 'kata-containers').mkdir(parents=True)
    (outside / 'kata-evil' / 'share' / 'defaults' / 'kata-containers' / 'configuration.toml').write_text('')
    root = tmp_path / 'root'
    root.mkdir()
    os.symlink(str(outside), str(root / 'opt'))  # an absolute link: the host itself would not see tmp_path/outside
    location = _paths.locate_config(_probes.Host(str(root)))
    assert location.path is None
    assert not [path for path in location.tried if 'kata-evil' in path]


@pytest.mark.parametrize('value', ['nan', 'inf', '"1"'])
def test_a_bad_default_vcpus_in_a_runtime_rs_file(tmp_path, value):
    rel = os.path.join('4.1.0', 'runtime-rs', 'configuration-dragonball.toml')
    main = _with_drop_ins(tmp_path, rel, {'50-cpu.toml': '[hypervisor.dragonball]\ndefault_vcpus = %s\n' % value})
    with pytest.raises(ConfigError) as exc:
        load_config(main, host_root=str(tmp_path), host_cpus=4, host_memory_mib=8192)
    assert exc.value.msg.endswith(' for key `hypervisor.dragonball.default_vcpus`')
