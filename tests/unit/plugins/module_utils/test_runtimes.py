# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests for module_utils/_runtimes.py against real files under a host root.

The node layouts come from tests/kata_sim/sim_layouts.py, which writes what kata-deploy (and a distribution package)
writes and derives the expected handlers from the installer's own rules; the other cases write the engines' files
by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _runtimes
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError
from ansible_collections.katacontainers.kata.plugins.module_utils._probes import Host

SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim'))
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

import sim_layouts  # noqa: E402  pylint: disable=wrong-import-position

KEYS = ('handler', 'engine', 'runtime_type', 'runtime', 'shim_path', 'config', 'config_exists', 'hypervisor', 'source')
FIXTURES = sim_layouts.FIXTURES
QEMU_41 = os.path.join(FIXTURES, '4.1.0', 'runtime', 'configuration-qemu.toml')
CLH_41 = os.path.join(FIXTURES, '4.1.0', 'runtime', 'configuration-clh.toml')
QEMU_RS_41 = os.path.join(FIXTURES, '4.1.0', 'runtime-rs', 'configuration-qemu-runtime-rs.toml')

V3 = 'io.containerd.cri.v1.runtime'
V2 = 'io.containerd.grpc.v1.cri'


def write(root, host_path, text, mode=0o644):
    local = os.path.join(str(root), host_path.lstrip('/'))
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with open(local, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.chmod(local, mode)
    return local


def link(root, host_path, target):
    local = os.path.join(str(root), host_path.lstrip('/'))
    os.makedirs(os.path.dirname(local), exist_ok=True)
    os.symlink(target, local)


def fixture_text(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def shim(root, host_path='/opt/kata/bin/containerd-shim-kata-v2'):
    write(root, host_path, '#!/bin/sh\nexit 0\n', 0o755)


def entry(plugin, handler, config=None, runtime_path='/opt/kata/bin/containerd-shim-kata-v2', runtime_type=None):
    table = 'plugins."%s".containerd.runtimes.%s' % (plugin, handler)
    text = '[%s]\nruntime_type = "%s"\n' % (table, runtime_type or 'io.containerd.%s.v2' % handler)
    if runtime_path:
        text += 'runtime_path = "%s"\n' % runtime_path
    if config:
        text += '[%s.options]\nConfigPath = "%s"\n' % (table, config)
    return text


def selected(handlers):
    return [dict((key, h[key]) for key in KEYS) for h in handlers]


def find(root):
    return _runtimes.find_handlers(Host(str(root)))


def names(handlers):
    return [h['handler'] for h in handlers]


def run_command(argv, handle_exceptions=True):  # pylint: disable=unused-argument
    """What AnsibleModule.run_command returns, for real."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')


# ---------------------------------------------------------------------------------------------------------------
# The node layouts

@pytest.mark.parametrize('kind', sim_layouts.KINDS)
def test_layout_handlers(tmp_path, kind):
    manifest = sim_layouts.build(str(tmp_path), kind)
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert selected(handlers) == [dict((key, h[key]) for key in KEYS) for h in manifest['handlers']]


def test_kata_deploy_410_has_the_23_amd64_handlers_of_the_helm_defaults(tmp_path):
    sim_layouts.build(str(tmp_path), 'kata-deploy-4.1.0')
    handlers, dummy = find(tmp_path)
    assert len(handlers) == 23
    by_name = dict((h['handler'], h) for h in handlers)
    rs = by_name['kata-qemu-runtime-rs']
    assert rs['runtime'] == 'rust'
    assert rs['shim_path'] == '/opt/kata/runtime-rs/bin/containerd-shim-kata-v2'
    assert rs['config'] == ('/opt/kata/share/defaults/kata-containers/runtime-rs/runtimes/qemu-runtime-rs/'
                            'configuration-qemu-runtime-rs.toml')
    assert by_name['kata-clh']['hypervisor'] == 'clh'
    assert by_name['kata-clh']['runtime'] == 'go'
    assert by_name['kata-dragonball']['runtime'] == 'rust'
    assert by_name['kata-fc']['hypervisor'] == 'firecracker'
    assert by_name['kata-openvmm-azure-runtime-rs']['hypervisor'] == 'openvmm'
    assert sum(1 for h in handlers if h['runtime'] == 'rust') == 12
    assert all(h['config_from'] == 'engine' for h in handlers)


@pytest.mark.parametrize('kind', sim_layouts.KINDS)
def test_layout_installations(tmp_path, kind):
    manifest = sim_layouts.build(str(tmp_path), kind)
    host = Host(str(tmp_path))
    handlers, dummy = _runtimes.find_handlers(host)
    # Not this machine: nothing is run, so no version, even with a run_command.
    expected = [dict(item, kata_runtime_version=None, kata_ctl_version=None) for item in manifest['installations']]
    assert _runtimes.find_installations(host, run_command=run_command, handlers=handlers) == expected


@pytest.mark.parametrize('kind', sim_layouts.KINDS)
def test_layout_binaries_print_their_version(tmp_path, kind):
    manifest = sim_layouts.build(str(tmp_path), kind)
    for item in manifest['installations']:
        runtime = str(tmp_path) + item['kata_runtime']
        assert _runtimes.kata_runtime_version(runtime, run_command) == item['kata_runtime_version']
        if item['kata_ctl']:
            assert _runtimes.kata_ctl_version(str(tmp_path) + item['kata_ctl'], run_command) == item['kata_ctl_version']


def test_versions_of_binaries_that_fail_or_say_nothing(tmp_path):
    bad = write(tmp_path, '/bad', '#!/bin/sh\necho nonsense\nexit 0\n', 0o755)
    failing = write(tmp_path, '/failing', '#!/bin/sh\necho "kata-runtime  : 9.9.9"\nexit 3\n', 0o755)
    not_exec = write(tmp_path, '/plain', 'kata-runtime  : 1.0.0\n', 0o644)
    term = write(tmp_path, '/term', '#!/bin/sh\necho \'Jan 01 INFO kata-ctl version "3.5.0-0123456789abcdef-0.0.1"'
                                    ' (type: rust)\' >&2\n', 0o755)
    for path in (bad, failing, not_exec):
        assert _runtimes.kata_runtime_version(path, run_command) is None
        assert _runtimes.kata_ctl_version(path, run_command) is None
    assert _runtimes.kata_ctl_version(term, run_command) == '3.5.0'


def test_multi_install_suffix_handlers_are_suffixed_and_use_their_prefix(tmp_path):
    sim_layouts.build(str(tmp_path), 'multi-install-suffix')
    handlers, dummy = find(tmp_path)
    dev = [h for h in handlers if h['handler'].endswith('-dev')]
    assert names(dev) == ['kata-clh-dev', 'kata-dragonball-dev', 'kata-fc-dev', 'kata-qemu-dev', 'kata-qemu-runtime-rs-dev']
    assert all(h['config'].startswith('/opt/kata-dev/share/defaults/kata-containers/') for h in dev)
    assert all(h['shim_path'].startswith('/opt/kata-dev/') for h in dev)
    # kata-deploy's prefix drop-in is beside the file the handler uses
    drop_in = os.path.join(str(tmp_path), os.path.dirname(dev[0]['config']).lstrip('/'), 'config.d',
                           '10-installation-prefix.toml')
    assert 'kernel = "/opt/kata-dev/share/kata-containers/vmlinux.container"' in fixture_text(drop_in)


def test_distro_300_handler_without_config_path_uses_the_shims_lookup(tmp_path):
    sim_layouts.build(str(tmp_path), 'distro-3.0.0')
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert handlers[0]['config_from'] == 'default'
    assert handlers[0]['config'] == '/usr/share/defaults/kata-containers/configuration-qemu.toml'
    # /etc/kata-containers comes first, as in kata's GetDefaultConfigFilePaths
    write(tmp_path, '/etc/kata-containers/configuration.toml', fixture_text(CLH_41))
    handlers, warnings = find(tmp_path)
    assert (handlers[0]['config'], handlers[0]['hypervisor']) == ('/etc/kata-containers/configuration.toml', 'clh')


def test_default_lookup_of_a_kata_deploy_go_shim_follows_the_link_chain(tmp_path):
    sim_layouts.build(str(tmp_path), 'kata-deploy-4.1.0')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(V3, 'kata-qemu'))
    handlers, warnings = find(tmp_path)
    assert warnings == []
    # configuration.toml -> configuration-qemu.toml -> runtimes/qemu/configuration-qemu.toml
    assert handlers[0]['config'] == '/opt/kata/share/defaults/kata-containers/runtimes/qemu/configuration-qemu.toml'
    assert handlers[0]['config_from'] == 'default'


def test_default_lookup_of_a_runtime_rs_shim(tmp_path):
    sim_layouts.build(str(tmp_path), 'kata-deploy-4.1.0')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(
        V3, 'kata-qemu-runtime-rs', runtime_path='/opt/kata/runtime-rs/bin/containerd-shim-kata-v2'))
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert handlers[0]['runtime'] == 'rust'
    assert handlers[0]['config'] == ('/opt/kata/share/defaults/kata-containers/runtime-rs/runtimes/qemu-runtime-rs/'
                                     'configuration-qemu-runtime-rs.toml')
    os.unlink(os.path.join(str(tmp_path), 'opt/kata/share/defaults/kata-containers/runtime-rs/configuration.toml'))
    handlers, warnings = find(tmp_path)
    assert handlers[0]['config'] is None and handlers[0]['config_exists'] is False
    assert len(warnings) == 1 and 'none of the runtime-rs runtime\'s default files exists' in warnings[0]
    assert '/etc/kata-containers/runtime-rs/configuration.toml' in warnings[0]


# ---------------------------------------------------------------------------------------------------------------
# containerd: imports, versions, merging

def test_relative_and_glob_imports_in_lexical_order(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml',
          'version = 3\nimports = ["conf.d/*.toml", "../extra/one.toml", "/abs/two.toml", "nothing/*.toml"]\n')
    write(tmp_path, '/etc/containerd/conf.d/20-b.toml', entry(V3, 'kata-b', '/cfg/q.toml'))
    write(tmp_path, '/etc/containerd/conf.d/10-a.toml', entry(V3, 'kata-a', '/cfg/q.toml'))
    write(tmp_path, '/etc/containerd/conf.d/30-c.conf', entry(V3, 'kata-not-imported', '/cfg/q.toml'))
    write(tmp_path, '/etc/extra/one.toml', entry(V3, 'kata-one', '/cfg/q.toml'))
    write(tmp_path, '/abs/two.toml', entry(V3, 'kata-two', '/cfg/q.toml'))
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert names(handlers) == ['kata-a', 'kata-b', 'kata-one', 'kata-two']
    assert [h['source'] for h in handlers] == ['/etc/containerd/conf.d/10-a.toml', '/etc/containerd/conf.d/20-b.toml',
                                               '/etc/extra/one.toml', '/abs/two.toml']
    assert all(h['hypervisor'] == 'qemu' for h in handlers)


def test_nested_imports_cycles_and_duplicates_are_read_once(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\nimports = ["a.toml", "b.toml", "a.toml"]\n')
    write(tmp_path, '/etc/containerd/a.toml', 'imports = ["b.toml", "config.toml"]\n' + entry(V3, 'kata-a', '/cfg/q.toml'))
    write(tmp_path, '/etc/containerd/b.toml', 'imports = ["a.toml"]\n' + entry(V3, 'kata-b', '/cfg/q.toml'))
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert names(handlers) == ['kata-a', 'kata-b']


def test_missing_import_is_a_warning(tmp_path):
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\nimports = ["/opt/kata/containerd/config.d/kata-deploy.toml"]\n')
    handlers, warnings = find(tmp_path)
    assert handlers == []
    assert warnings == ['containerd (containerd) imports /opt/kata/containerd/config.d/kata-deploy.toml, '
                        'which does not exist']


def test_v3_merges_plugin_tables_of_imports(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/cfg/c.toml', fixture_text(CLH_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\nimports = ["/d/x.toml"]\n' + entry(V3, 'kata-qemu', '/cfg/q.toml'))
    # an import that only changes the ConfigPath of kata-qemu, and adds kata-clh
    write(tmp_path, '/d/x.toml', '[plugins."%s".containerd.runtimes.kata-qemu.options]\nConfigPath = "/cfg/c.toml"\n' % V3
          + entry(V3, 'kata-clh', '/cfg/c.toml'))
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert [(h['handler'], h['config'], h['hypervisor'], h['source']) for h in handlers] == [
        ('kata-qemu', '/cfg/c.toml', 'clh', '/d/x.toml'), ('kata-clh', '/cfg/c.toml', 'clh', '/d/x.toml')]


def test_v2_import_replaces_the_whole_plugin_table_as_containerd_1x(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 2\nimports = ["/d/x.toml"]\n' + entry(V2, 'kata-qemu', '/cfg/q.toml'))
    write(tmp_path, '/d/x.toml', 'version = 2\n' + entry(V2, 'kata-clh', '/cfg/q.toml'))
    handlers, warnings = find(tmp_path)
    assert names(handlers) == ['kata-clh']
    assert len(warnings) == 1
    assert 'the [plugins."io.containerd.grpc.v1.cri"] table of /d/x.toml replaces the one of /etc/containerd/config.toml' \
        in warnings[0] and 'kata-qemu' in warnings[0]


def test_v2_import_of_another_plugin_keeps_the_handlers(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 2\nimports = ["/d/x.toml"]\n' + entry(V2, 'kata-qemu', '/cfg/q.toml'))
    write(tmp_path, '/d/x.toml', 'version = 2\n[plugins."io.containerd.snapshotter.v1.devmapper"]\npool_name = "p"\n')
    handlers, warnings = find(tmp_path)
    assert (names(handlers), warnings) == (['kata-qemu'], [])


def test_versionless_import_is_read_with_the_main_version_and_v2_imports_are_migrated(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\nimports = ["/d/a.toml", "/d/b.toml", "/d/c.toml"]\n')
    write(tmp_path, '/d/a.toml', entry(V3, 'kata-a', '/cfg/q.toml'))
    write(tmp_path, '/d/b.toml', 'version = 2\n' + entry(V2, 'kata-b', '/cfg/q.toml'))
    write(tmp_path, '/d/c.toml', entry(V2, 'kata-wrong-plugin', '/cfg/q.toml'))
    handlers, warnings = find(tmp_path)
    assert names(handlers) == ['kata-a', 'kata-b']
    assert warnings == ['containerd (containerd) ignores the Kata handlers under [plugins."io.containerd.grpc.v1.cri"] '
                        'in /d/c.toml: that file is read as config version 3, whose runtimes are under '
                        '[plugins."io.containerd.cri.v1.runtime"]']


def test_config_version_1_uses_the_cri_plugin(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', entry('cri', 'kata', '/cfg/q.toml').replace('"cri"', 'cri'))
    handlers, warnings = find(tmp_path)
    assert (names(handlers), warnings) == (['kata'], [])


def test_only_kata_runtime_types_are_handlers(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n'
          + entry(V3, 'runc', runtime_type='io.containerd.runc.v2', runtime_path=None)
          + entry(V3, 'kata-x', '/cfg/q.toml', runtime_type='io.containerd.kata.v1')
          + entry(V3, 'katafake', '/cfg/q.toml', runtime_type='io.containerd.katana.v2.extra')
          + entry(V3, 'my-kata', '/cfg/q.toml', runtime_type='io.containerd.kata-qemu.v2'))
    handlers, warnings = find(tmp_path)
    assert (names(handlers), warnings) == (['my-kata'], [])


def test_shim_found_in_the_path_from_runtime_type(tmp_path):
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    shim(tmp_path, '/opt/kata/runtime-rs/bin/containerd-shim-kata-v2')
    link(tmp_path, '/usr/local/bin/containerd-shim-kata-dragonball-v2', '/opt/kata/runtime-rs/bin/containerd-shim-kata-v2')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 2\n'
          + entry(V2, 'kata-dragonball', '/cfg/q.toml', runtime_path=None)
          + entry(V2, 'kata-nowhere', '/cfg/q.toml', runtime_path=None))
    handlers, warnings = find(tmp_path)
    assert [(h['handler'], h['shim_path'], h['runtime']) for h in handlers] == [
        ('kata-dragonball', '/usr/local/bin/containerd-shim-kata-dragonball-v2', 'rust'),
        ('kata-nowhere', None, 'go')]
    assert len(warnings) == 1 and 'its shim containerd-shim-kata-nowhere-v2 is not in the PATH of containerd' in warnings[0]


def test_missing_shim_is_a_warning_and_runtime_rs_is_told_by_the_config_path(tmp_path):
    write(tmp_path, '/opt/kata/share/defaults/kata-containers/runtime-rs/c.toml', fixture_text(QEMU_RS_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(
        V3, 'kata-rs', '/opt/kata/share/defaults/kata-containers/runtime-rs/c.toml',
        runtime_path='/opt/gone/containerd-shim-kata-v2'))
    handlers, warnings = find(tmp_path)
    assert handlers[0]['runtime'] == 'rust' and handlers[0]['shim_path'] == '/opt/gone/containerd-shim-kata-v2'
    assert warnings == ['Runtime handler kata-rs (containerd, /etc/containerd/config.toml): its shim '
                        '/opt/gone/containerd-shim-kata-v2 does not exist']


def test_k0s_fragments_and_generated_cri_file(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/k0s/containerd.toml', 'version = 2\nimports = ["/run/k0s/containerd-cri.toml"]\n')
    write(tmp_path, '/run/k0s/containerd-cri.toml', 'version = 2\n' + entry(V2, 'kata-qemu', '/cfg/q.toml'))
    write(tmp_path, '/etc/k0s/containerd.d/kata-deploy.toml', entry(V2, 'kata-qemu', '/cfg/q.toml')
          + entry(V2, 'kata-clh', '/cfg/q.toml'))
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert [(h['handler'], h['source']) for h in handlers] == [
        ('kata-qemu', '/etc/k0s/containerd.d/kata-deploy.toml'), ('kata-clh', '/etc/k0s/containerd.d/kata-deploy.toml')]


def test_k3s_drop_in_not_imported_by_the_rendered_file_is_not_used(tmp_path):
    manifest = sim_layouts.build(str(tmp_path), 'k3s')
    rendered = os.path.join(str(tmp_path), 'var/lib/rancher/k3s/agent/etc/containerd/config.toml')
    text = fixture_text(rendered)
    with open(rendered, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(line for line in text.splitlines() if not line.startswith('imports')))
    handlers, warnings = find(tmp_path)
    assert (handlers, warnings) == ([], [])
    assert len(manifest['handlers']) == 4


# ---------------------------------------------------------------------------------------------------------------
# CRI-O

def test_crio_drop_ins_walked_in_lexical_order_later_definitions_win(tmp_path):
    shim(tmp_path)
    shim(tmp_path, '/usr/bin/containerd-shim-kata-v2')
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/cfg/c.toml', fixture_text(CLH_41))
    write(tmp_path, '/etc/crio/crio.conf', '[crio.runtime.runtimes.kata]\nruntime_path = "/opt/kata/bin/containerd-shim-kata-v2"\n'
          'runtime_type = "vm"\nruntime_config_path = "/cfg/q.toml"\n')
    write(tmp_path, '/etc/crio/crio.conf.d/50-x.conf', '[crio.runtime.runtimes.kata]\nruntime_path = '
          '"/opt/kata/bin/containerd-shim-kata-v2"\nruntime_type = "vm"\nruntime_config_path = "/cfg/c.toml"\n'
          '[crio.runtime.runtimes.runc]\nruntime_path = "/usr/bin/runc"\nruntime_type = "oci"\n'
          '[crio.runtime.runtimes.kata-oci]\nruntime_path = "/opt/kata/bin/containerd-shim-kata-v2"\nruntime_type = "oci"\n')
    write(tmp_path, '/etc/crio/crio.conf.d/sub/10-y', '[crio.runtime.runtimes.containerd-shim-kata-v2]\nruntime_type = "vm"\n')
    handlers, warnings = find(tmp_path)
    assert [(h['handler'], h['config'], h['hypervisor'], h['source'], h['shim_path'], h['config_from'])
            for h in handlers] == [
        ('kata', '/cfg/c.toml', 'clh', '/etc/crio/crio.conf.d/50-x.conf', '/opt/kata/bin/containerd-shim-kata-v2',
         'engine'),
        ('containerd-shim-kata-v2', None, None, '/etc/crio/crio.conf.d/sub/10-y', '/usr/bin/containerd-shim-kata-v2',
         'default')]
    assert handlers[1]['config_exists'] is False
    assert warnings == ["Runtime handler containerd-shim-kata-v2 (crio, /etc/crio/crio.conf.d/sub/10-y) names no "
                        "configuration file and none of the Go runtime's default files exists "
                        "(/etc/kata-containers/configuration.toml, /usr/share/defaults/kata-containers/configuration.toml)"]


# ---------------------------------------------------------------------------------------------------------------
# Broken, missing, unreadable files; loops; the host root

def test_broken_engine_toml_is_a_warning(tmp_path):
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n[plugins\n')
    write(tmp_path, '/etc/crio/crio.conf.d/99-kata-deploy', '[crio.runtime.runtimes.kata-qemu]\nruntime_type = vm\n')
    handlers, warnings = find(tmp_path)
    assert handlers == []
    assert len(warnings) == 2
    assert warnings[0].startswith('Cannot parse containerd configuration /etc/containerd/config.toml: ')
    assert warnings[1].startswith('Cannot parse CRI-O configuration /etc/crio/crio.conf.d/99-kata-deploy: ')


def test_broken_kata_configuration_keeps_the_handler(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', '[hypervisor.qemu\npath = 1\n')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(V3, 'kata-qemu', '/cfg/q.toml'))
    handlers, warnings = find(tmp_path)
    assert [(h['config'], h['config_exists'], h['hypervisor']) for h in handlers] == [('/cfg/q.toml', True, None)]
    assert len(warnings) == 1
    assert warnings[0].startswith('Cannot parse Kata configuration (runtime handler kata-qemu) /cfg/q.toml: ')


def test_missing_config_path_target_is_reported_with_a_warning(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(V3, 'kata-fc', '/opt/kata/x/../configuration-fc.toml'))
    handlers, warnings = find(tmp_path)
    assert [(h['config'], h['config_exists'], h['hypervisor']) for h in handlers] == [
        ('/opt/kata/configuration-fc.toml', False, None)]
    assert warnings == ['Runtime handler kata-fc (containerd, /etc/containerd/config.toml): its configuration file '
                        '/opt/kata/configuration-fc.toml does not exist']


def test_dangling_symlink_names_the_missing_link_target(tmp_path):
    shim(tmp_path)
    link(tmp_path, '/opt/kata/configuration.toml', 'runtimes/qemu/configuration-qemu.toml')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(V3, 'kata', '/opt/kata/configuration.toml'))
    handlers, warnings = find(tmp_path)
    assert handlers[0]['config_exists'] is False
    assert warnings == ['Runtime handler kata (containerd, /etc/containerd/config.toml): its configuration file '
                        '/opt/kata/configuration.toml does not exist (/opt/kata/runtimes is missing)']


def test_symlink_loops(tmp_path):
    shim(tmp_path)
    link(tmp_path, '/cfg/a.toml', 'b.toml')
    link(tmp_path, '/cfg/b.toml', 'a.toml')
    link(tmp_path, '/etc/containerd/conf.d/loop.toml', 'loop.toml')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\nimports = ["conf.d/*.toml"]\n'
          + entry(V3, 'kata', '/cfg/a.toml'))
    handlers, warnings = find(tmp_path)
    assert [(h['config'], h['config_exists']) for h in handlers] == [('/cfg/a.toml', False)]
    assert len(warnings) == 2
    assert warnings[0].startswith('Cannot read containerd configuration /etc/containerd/conf.d/loop.toml: ')
    assert 'too many levels of symbolic links' in warnings[0]
    assert warnings[1] == ('Runtime handler kata (containerd, /etc/containerd/config.toml): its configuration file '
                           '/cfg/a.toml cannot be resolved: too many levels of symbolic links')


def test_main_file_as_a_dangling_link(tmp_path):
    link(tmp_path, '/etc/containerd/config.toml', '/nowhere/config.toml')
    handlers, warnings = find(tmp_path)
    assert handlers == []
    assert warnings == ['containerd (containerd): /etc/containerd/config.toml is a symbolic link that cannot be resolved']


def test_unreadable_files_are_warnings(world_tmp, unprivileged):
    root = os.path.join(world_tmp, 'root')
    shim(root)
    write(root, '/cfg/q.toml', fixture_text(QEMU_41), 0o600)
    write(root, '/etc/containerd/config.toml', 'version = 3\nimports = ["/d/secret.toml"]\n'
          + entry(V3, 'kata-qemu', '/cfg/q.toml'))
    write(root, '/d/secret.toml', entry(V3, 'kata-hidden', '/cfg/q.toml'), 0o600)
    for top, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(top, name), 0o755)
    outcome = unprivileged(lambda: find(root))
    assert outcome[0] == 'return'
    handlers, warnings = outcome[1]
    assert [(h['handler'], h['config'], h['config_exists'], h['hypervisor']) for h in handlers] == [
        ('kata-qemu', '/cfg/q.toml', True, None)]
    assert warnings == [
        'Cannot read containerd configuration /d/secret.toml: Permission denied',
        'Cannot read Kata configuration (runtime handler kata-qemu) /cfg/q.toml: Permission denied']


def test_nothing_leaves_the_host_root(tmp_path):
    root = tmp_path / 'root'
    outside = tmp_path / 'outside'
    write(outside, '/secret.toml', fixture_text(CLH_41))
    write(outside, '/evil.toml', entry(V3, 'kata-evil', '/cfg/q.toml'))
    shim(root)
    write(root, '/cfg/q.toml', fixture_text(QEMU_41))
    # a relative link climbing out, an absolute link to the real path outside, .. in imports and ConfigPath
    link(root, '/cfg/up.toml', '../../../../../../../../../../outside/secret.toml')
    link(root, '/cfg/abs.toml', str(outside / 'secret.toml'))
    write(root, '/etc/containerd/config.toml', 'version = 3\nimports = ["../../../../../../outside/*.toml", "%s"]\n'
          % (outside / 'evil.toml')
          + entry(V3, 'kata-up', '/cfg/up.toml') + entry(V3, 'kata-abs', '/cfg/abs.toml')
          + entry(V3, 'kata-dots', '/../../../../outside/secret.toml'))
    handlers, warnings = find(root)
    assert names(handlers) == ['kata-up', 'kata-abs', 'kata-dots']
    assert [h['config_exists'] for h in handlers] == [False, False, False]
    assert [h['hypervisor'] for h in handlers] == [None, None, None]
    assert handlers[2]['config'] == '/outside/secret.toml'
    prefix = 'Runtime handler %s (containerd, /etc/containerd/config.toml): its configuration file '
    assert warnings == [
        'containerd (containerd) imports %s, which does not exist' % (outside / 'evil.toml'),
        prefix % 'kata-up' + '/cfg/up.toml does not exist (/outside is missing)',
        prefix % 'kata-abs' + '/cfg/abs.toml does not exist (/%s is missing)' % str(outside).split('/')[1],
        prefix % 'kata-dots' + '/outside/secret.toml does not exist (/outside is missing)']


def test_hypervisor_from_drop_ins_and_several_tables(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/none.toml', '[runtime]\nenable_debug = false\n')
    write(tmp_path, '/cfg/config.d/10-hv.toml', '[hypervisor.clh]\npath = "/x"\n')
    write(tmp_path, '/two/t.toml', fixture_text(QEMU_41) + '\n[hypervisor.firecracker]\npath = "/y"\n')
    write(tmp_path, '/empty/e.toml', '[runtime]\n')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n' + entry(V3, 'kata-a', '/cfg/none.toml')
          + entry(V3, 'kata-b', '/two/t.toml') + entry(V3, 'kata-c', '/empty/e.toml'))
    handlers, warnings = find(tmp_path)
    assert [h['hypervisor'] for h in handlers] == ['clh', 'qemu', None]
    assert warnings == [
        'Runtime handler kata-b: its configuration file /two/t.toml has several hypervisor tables (qemu, firecracker); '
        'qemu is reported',
        'Runtime handler kata-c: its configuration file /empty/e.toml has no [hypervisor.<name>] table']


# ---------------------------------------------------------------------------------------------------------------
# find_handler

def test_find_handler(tmp_path):
    sim_layouts.build(str(tmp_path), 'k3s')
    host = Host(str(tmp_path))
    assert _runtimes.find_handler(host, 'kata-clh')['hypervisor'] == 'clh'
    with pytest.raises(ArgumentError) as err:
        _runtimes.find_handler(host, 'kata-nope')
    assert err.value.msg == ("runtime: kata-nope is not a Kata runtime handler of this host's container engines; "
                             "the handlers found are: kata-clh, kata-fc, kata-qemu, kata-qemu-runtime-rs")


def test_find_handler_on_a_host_without_engines(tmp_path):
    with pytest.raises(ArgumentError) as err:
        _runtimes.find_handler(Host(str(tmp_path)), 'kata-qemu')
    assert err.value.msg == ("runtime: kata-qemu is not a Kata runtime handler of this host's container engines; "
                             "none was found in the containerd or CRI-O configuration")
    with pytest.raises(ArgumentError):
        _runtimes.find_handler(Host(str(tmp_path)), '')


@pytest.mark.parametrize('value, words', [
    ('', []),
    ('A=1 B=2', ['A=1', 'B=2']),
    ('  A=1\t\tB=2  ', ['A=1', 'B=2']),
    ('"A=1 2" B=3', ['A=1 2', 'B=3']),
    ("'A=1 2'", ['A=1 2']),
    ('A="1 2"3 B', ['A=1 23', 'B']),  # quotes may open inside a word
    ('"" B', ['', 'B']),  # an empty quoted word is a word
    ('"A=\\"x\\" \\\\y"', ['A="x" \\y']),  # a backslash in quotes escapes the next character
    ('A=\\x', ['A=\\x']),  # outside quotes a backslash is kept
    ('"A=1 2', ['A=1 2']),  # an unterminated quote runs to the end
    ('"A=1\\', ['A=1\\']),  # a backslash at the very end is kept
    ("'a\"b' \"c'd\"", ['a"b', "c'd"]),
])
def test_split_assignments(value, words):
    """Environment= words as systemd.exec(5) splits them (the cases a hostile drop-in can hold)."""
    assert _runtimes._split_assignments(value) == words


def test_split_assignments_of_a_huge_value():
    """A 1 MiB value is one word (it used to be built a character at a time)."""
    assert _runtimes._split_assignments('A=' + 'x' * (1 << 20) + ' B=1') == ['A=' + 'x' * (1 << 20), 'B=1']


# ---------------------------------------------------------------------------------------------------------------
# KATA_CONF_FILE in the engine service's environment

def test_kata_conf_file_of_the_service(tmp_path):
    sim_layouts.build(str(tmp_path), 'kata-deploy-4.1.0')
    go_default = '/opt/kata/share/defaults/kata-containers/configuration.toml'
    rs_default = '/opt/kata/share/defaults/kata-containers/runtime-rs/configuration.toml'
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n'
          + entry(V3, 'kata-go-plain')
          + entry(V3, 'kata-go-path', '/opt/kata/share/defaults/kata-containers/configuration-clh.toml')
          + entry(V3, 'kata-rs-path', '/opt/kata/share/defaults/kata-containers/runtime-rs/configuration-dragonball.toml',
                  runtime_path='/opt/kata/runtime-rs/bin/containerd-shim-kata-v2'))
    write(tmp_path, '/usr/lib/systemd/system/containerd.service',
          '[Unit]\nDescription=containerd\n[Service]\nExecStart=/usr/bin/containerd\nEnvironment="PATH=/usr/bin" \\\n'
          '  KATA_CONF_FILE=/nowhere.toml\n')
    # the drop-in of /etc masks the one of the same name under /usr/lib; the empty Environment= resets the list
    write(tmp_path, '/usr/lib/systemd/system/containerd.service.d/50-kata.conf', '[Service]\nEnvironment=KATA_CONF_FILE=/x\n')
    write(tmp_path, '/etc/systemd/system/containerd.service.d/50-kata.conf',
          '[Service]\nEnvironment=\nEnvironment="KATA_CONF_FILE=%s" OTHER=1\n' % go_default)
    handlers, warnings = find(tmp_path)
    got = dict((h['handler'], (h['config'], h['config_from'], h['hypervisor'])) for h in handlers)
    assert got == {
        'kata-go-plain': ('/opt/kata/share/defaults/kata-containers/runtimes/qemu/configuration-qemu.toml',
                          'environment', 'qemu'),
        'kata-go-path': ('/opt/kata/share/defaults/kata-containers/runtimes/clh/configuration-clh.toml', 'engine', 'clh'),
        'kata-rs-path': ('/opt/kata/share/defaults/kata-containers/runtimes/qemu/configuration-qemu.toml',
                         'environment', 'qemu'),
    }
    # runtime-rs takes the variable, which is not one of its own default files
    assert warnings == [
        'Runtime handler kata-rs-path (containerd, /etc/containerd/config.toml): KATA_CONF_FILE=%s is not one of the '
        'runtime-rs runtime\'s default configuration files; Kata 4.0 and later refuse it ("only shipped Kata '
        'configuration files are accepted")' % go_default]
    # An EnvironmentFile overrides Environment=; a missing mandatory one is a warning
    write(tmp_path, '/etc/systemd/system/containerd.service.d/60-file.conf',
          '[Service]\nEnvironmentFile=/etc/default/kata\nEnvironmentFile=-/etc/default/optional\n')
    write(tmp_path, '/etc/default/kata', '# kata\nKATA_CONF_FILE="%s"\n' % rs_default)
    handlers, warnings = find(tmp_path)
    got = dict((h['handler'], (h['config'], h['config_from'])) for h in handlers)
    assert got['kata-rs-path'] == ('/opt/kata/share/defaults/kata-containers/runtime-rs/runtimes/qemu-runtime-rs/'
                                   'configuration-qemu-runtime-rs.toml', 'environment')
    assert got['kata-go-plain'][1] == 'environment'
    assert len(warnings) == 1 and 'KATA_CONF_FILE=%s is not one of the Go runtime' % rs_default in warnings[0]
    os.unlink(os.path.join(str(tmp_path), 'etc/default/kata'))
    dummy, warnings = find(tmp_path)
    assert warnings[0] == 'Cannot read /etc/default/kata, an EnvironmentFile of containerd.service'


def test_kata_conf_file_of_crio_and_a_missing_file(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/etc/crio/crio.conf.d/99-kata', '[crio.runtime.runtimes.kata]\nruntime_path = '
          '"/opt/kata/bin/containerd-shim-kata-v2"\nruntime_type = "vm"\n')
    write(tmp_path, '/etc/systemd/system/crio.service', '[Service]\nEnvironment=KATA_CONF_FILE=/etc/kata/gone.toml\n')
    handlers, warnings = find(tmp_path)
    assert [(h['config'], h['config_exists'], h['config_from']) for h in handlers] == [
        ('/etc/kata/gone.toml', False, 'environment')]
    assert warnings[0] == ('Runtime handler kata (crio, /etc/crio/crio.conf.d/99-kata): its configuration file '
                           '(KATA_CONF_FILE of the crio service) /etc/kata/gone.toml does not exist '
                           '(/etc/kata is missing)')
    assert len(warnings) == 2 and 'Kata 4.0 and later refuse it' in warnings[1]


def test_odd_values_in_engine_files(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\nimports = "not-a-list"\n'
          '[plugins."%s".containerd.runtimes.kata-nul]\nruntime_type = "io.containerd.kata.v2"\n'
          'runtime_path = "/opt/kata/bin/containerd-shim-kata-v2"\n'
          '[plugins."%s".containerd.runtimes.kata-nul.options]\nConfigPath = "/cfg/q\\u0000.toml"\n'
          '[plugins."%s".containerd.runtimes.kata-nulshim]\nruntime_type = "io.containerd.kata.v2"\n'
          'runtime_path = "/opt/kata\\u0000/shim"\n[plugins."%s".containerd.runtimes.kata-nulshim.options]\n'
          'ConfigPath = "//cfg//q.toml"\n'
          '[plugins."%s".containerd.runtimes.kata-int]\nruntime_type = 3\n'
          '[plugins."%s".containerd.runtimes]\nkata-scalar = "x"\n' % ((V3,) * 6))
    handlers, warnings = find(tmp_path)
    assert [(h['handler'], h['config'], h['config_exists'], h['runtime']) for h in handlers] == [
        ('kata-nul', '/cfg/q\0.toml', False, 'go'), ('kata-nulshim', '/cfg/q.toml', True, 'go')]
    assert warnings == [
        'containerd (containerd): runtime kata-int in /etc/containerd/config.toml has a runtime_type that is not a '
        'string (3), so it is not read as a Kata handler; containerd expects a string such as "io.containerd.kata.v2"',
        'containerd (containerd): runtime kata-scalar in /etc/containerd/config.toml is not a table; containerd fails '
        'to load it',
        "containerd ignores the imports of /etc/containerd/config.toml: expected a list of paths, found 'not-a-list'",
        'Runtime handler kata-nul (containerd, /etc/containerd/config.toml): its configuration file /cfg/q\0.toml is '
        'not a valid path: it contains a NUL character',
        'Runtime handler kata-nulshim (containerd, /etc/containerd/config.toml): its shim /opt/kata\0/shim does not '
        'exist']


def test_handler_names_a_runtimeclass_cannot_name(tmp_path):
    """Every Kata handler is reported as the engine has it; one that no RuntimeClass can select is also named in a
    warning (its name quoted, cut when long): Kubernetes wants a DNS label."""
    shim(tmp_path)
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    odd = ['../../../etc', 'Kata', 'kata_qemu', '-rf', 'kata\\u0000x', 'k' * 64]
    good = ['kata', 'kata-qemu-snp', '9', 'k' * 63]
    write(tmp_path, '/etc/containerd/config.toml', 'version = 2\n' + ''.join(
        entry(V2, '"%s"' % name, '/cfg/q.toml', runtime_type='io.containerd.kata.v2') for name in odd + good))
    handlers, warnings = find(tmp_path)
    assert names(handlers) == ['../../../etc', 'Kata', 'kata_qemu', '-rf', 'kata\0x', 'k' * 64] + good
    assert len(warnings) == len(odd)
    assert warnings[0] == (
        "Runtime handler '../../../etc' (containerd, /etc/containerd/config.toml): a Kubernetes RuntimeClass cannot "
        'name it (its handler must be a DNS label: at most 63 lowercase letters, digits and "-", starting and ending '
        'with a letter or digit)')
    assert warnings[4].startswith("Runtime handler 'kata\\x00x' (containerd, ")
    assert all(len(w) < 400 for w in warnings)


def test_crio_runtime_type_that_is_not_a_string(tmp_path):
    shim(tmp_path)
    write(tmp_path, '/etc/crio/crio.conf.d/99-kata', '[crio.runtime.runtimes.kata]\nruntime_path = '
          '"/opt/kata/bin/containerd-shim-kata-v2"\nruntime_type = 5\n'
          '[crio.runtime.runtimes.runc]\nruntime_path = "/usr/bin/runc"\n')
    handlers, warnings = find(tmp_path)
    assert handlers == []
    assert warnings == ['CRI-O: runtime kata in /etc/crio/crio.conf.d/99-kata has a runtime_type that is not a string '
                        '(5), so it is not read as a Kata handler; CRI-O expects a string such as "vm"']


def test_rke2_with_config_v2_drop_ins_and_k3s_shim_directory(tmp_path):
    write(tmp_path, '/cfg/q.toml', fixture_text(QEMU_41))
    base = '/var/lib/rancher/rke2/agent/etc/containerd'
    write(tmp_path, base + '/config.toml', 'version = 2\nimports = ["%s/config.toml.d/*.toml"]\n' % base)
    write(tmp_path, base + '/config.toml.d/kata-deploy.toml', entry(V2, 'kata-qemu', '/cfg/q.toml', runtime_path=None))
    shim(tmp_path, '/var/lib/rancher/rke2/bin/containerd-shim-kata-qemu-v2')
    k3s = '/var/lib/rancher/k3s/agent/etc/containerd'
    write(tmp_path, k3s + '/config.toml', 'version = 3\n' + entry(V3, 'kata-clh', '/cfg/q.toml', runtime_path=None))
    shim(tmp_path, '/var/lib/rancher/k3s/data/current/bin/containerd-shim-kata-clh-v2')
    handlers, warnings = find(tmp_path)
    assert warnings == []
    assert [(h['handler'], h['shim_path'], h['source']) for h in handlers] == [
        ('kata-clh', '/var/lib/rancher/k3s/data/current/bin/containerd-shim-kata-clh-v2', k3s + '/config.toml'),
        ('kata-qemu', '/var/lib/rancher/rke2/bin/containerd-shim-kata-qemu-v2', base + '/config.toml.d/kata-deploy.toml')]


def test_installation_prefix_install(tmp_path):
    """kata-deploy with INSTALLATION_PREFIX=/custom: dest_dir /custom/opt/kata (config.rs), found through its shims."""
    dest = '/custom/opt/kata'
    shim(tmp_path, dest + '/bin/containerd-shim-kata-v2')
    write(tmp_path, dest + '/bin/kata-runtime', sim_layouts.kata_runtime_stub('4.1.0'), 0o755)
    write(tmp_path, dest + '/share/defaults/kata-containers/configuration-qemu.toml', fixture_text(QEMU_41))
    link(tmp_path, dest + '/share/defaults/kata-containers/configuration.toml', 'configuration-qemu.toml')
    write(tmp_path, '/opt/kata/share/defaults/kata-containers/configuration-clh.toml', fixture_text(CLH_41))
    link(tmp_path, '/opt/kata/share/defaults/kata-containers/configuration.toml', 'configuration-clh.toml')
    write(tmp_path, '/etc/containerd/config.toml', 'version = 3\n'
          + entry(V3, 'kata-qemu', dest + '/share/defaults/kata-containers/configuration-qemu.toml',
                  runtime_path=dest + '/bin/containerd-shim-kata-v2')
          + entry(V3, 'kata-default', runtime_path=dest + '/bin/containerd-shim-kata-v2'))
    host = Host(str(tmp_path))
    handlers, warnings = _runtimes.find_handlers(host)
    # without ConfigPath the static build looks where it was built for, /opt/kata, not under the prefix
    assert [(h['handler'], h['config'], h['hypervisor']) for h in handlers] == [
        ('kata-qemu', dest + '/share/defaults/kata-containers/configuration-qemu.toml', 'qemu'),
        ('kata-default', '/opt/kata/share/defaults/kata-containers/configuration-clh.toml', 'clh')]
    assert warnings == []
    assert _runtimes.find_installations(host) == [
        {'prefix': dest, 'kata_runtime': dest + '/bin/kata-runtime', 'kata_ctl': None, 'kata_runtime_version': None,
         'kata_ctl_version': None}]
