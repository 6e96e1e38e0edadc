# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_runtime_info's main() on node layouts written by tests/kata_sim/sim_layouts.py under a host root."""

from __future__ import annotations

import os
import sys

from ansible_collections.katacontainers.kata.plugins.modules import kata_runtime_info

SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'kata_sim'))
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

import sim_layouts  # noqa: E402  pylint: disable=wrong-import-position

KEYS = ('handler', 'engine', 'runtime_type', 'runtime', 'shim_path', 'config', 'config_exists', 'hypervisor', 'source')


def test_lists_the_handlers_and_installations_in_check_mode(tmp_path, run_module):
    manifest = sim_layouts.build(str(tmp_path), 'multi-install-suffix')
    before = sorted(os.walk(str(tmp_path)))
    result = run_module(kata_runtime_info, {'host_root': str(tmp_path)}, check_mode=True)
    assert result['changed'] is False
    assert [dict((k, h[k]) for k in KEYS) for h in result['runtimes']] == manifest['handlers']
    assert result['installations'] == [dict(i, kata_runtime_version=None, kata_ctl_version=None)
                                       for i in manifest['installations']]
    assert result['runtime_warnings'] == [] and result['warnings'] == []
    assert sorted(os.walk(str(tmp_path))) == before


def test_handlers_option_selects_and_rejects(tmp_path, run_module):
    sim_layouts.build(str(tmp_path), 'crio')
    result = run_module(kata_runtime_info, {'host_root': str(tmp_path), 'handlers': ['kata-qemu', 'kata-clh']})
    assert [h['handler'] for h in result['runtimes']] == ['kata-clh', 'kata-qemu']
    assert all(h['engine'] == 'crio' for h in result['runtimes'])
    failed = run_module(kata_runtime_info, {'host_root': str(tmp_path), 'handlers': ['kata-qemu', 'kata-nope', 'x']},
                        expect='fail')
    assert failed['msg'] == ("handlers: kata-nope, x are not Kata runtime handlers of this host's container engines; "
                             "the handlers found are: kata-clh, kata-dragonball, kata-qemu, kata-qemu-runtime-rs, "
                             "kata-qemu-snp")


def test_missing_configuration_is_a_warning_not_a_failure(tmp_path, run_module):
    sim_layouts.build(str(tmp_path), 'distro-3.0.0')
    os.unlink(os.path.join(str(tmp_path), 'usr/share/defaults/kata-containers/configuration-qemu.toml'))
    result = run_module(kata_runtime_info, {'host_root': str(tmp_path)})
    assert [(h['handler'], h['config'], h['config_exists'], h['hypervisor']) for h in result['runtimes']] == [
        ('kata', None, False, None)]
    expected = ("Runtime handler kata (containerd, /etc/containerd/config.toml) names no configuration file and none "
                "of the Go runtime's default files exists (/etc/kata-containers/configuration.toml, "
                "/usr/share/defaults/kata-containers/configuration.toml)")
    assert result['runtime_warnings'] == [expected]
    assert result['warnings'] == [expected]


def test_bad_host_root_fails_cleanly(tmp_path, run_module):
    failed = run_module(kata_runtime_info, {'host_root': str(tmp_path / 'nope')}, expect='fail')
    assert failed['msg'] == 'host_root: %s is not a directory; expected the root directory of a host' % (tmp_path / 'nope')


def test_empty_host(tmp_path, run_module):
    result = run_module(kata_runtime_info, {'host_root': str(tmp_path)})
    assert (result['runtimes'], result['installations'], result['runtime_warnings']) == ([], [], [])
