# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_check's main() on host roots built from real /proc/cpuinfo dumps, and its release check against a local
HTTP server and a stand-in kata-runtime executable."""

from __future__ import annotations

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.katacontainers.kata.plugins.modules import kata_check

INTEL = ('kvm', 'kvm_intel', 'vhost', 'vhost_net', 'vhost_vsock')


def make_root(tmp_path, cpuinfo, modules=(), params=None, config=None):
    root = tmp_path / 'host'
    files = {'proc/cpuinfo': cpuinfo,
             'proc/meminfo': 'MemTotal: 16318480 kB\nMemFree: 9316780 kB\nMemAvailable: 13250116 kB\n',
             'proc/version': 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP\n',
             'etc/os-release': 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n'}
    if config is not None:
        files['etc/kata-containers/configuration.toml'] = config
    for (module, param), value in (params or {}).items():
        files['sys/module/%s/parameters/%s' % (module, param)] = value
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    for module in modules:
        (root / 'sys' / 'module' / module).mkdir(parents=True, exist_ok=True)
    return str(root)


@pytest.mark.parametrize('fixture, modules, params, capable, failed', [
    ('amd64-intel-xeon-e5-2680v3.txt', INTEL, {('kvm_intel', 'unrestricted_guest'): 'Y\n'}, True, []),
    ('amd64-intel-xeon-e5-2680v3.txt', ('kvm', 'kvm_intel'), {('kvm_intel', 'unrestricted_guest'): 'Y\n'},
     False, ['vhost', 'vhost_net']),
    ('amd64-amd-kvm-guest-ryzen7-2700x.txt', ('kvm', 'vhost', 'vhost_net'), None, False, ['svm', 'kvm_amd']),
    ('arm64-nvidia-jetson-tx1-cortex-a57.txt', ('kvm', 'vhost', 'vhost_net'), None, True, []),
    ('s390x-ibm-z14.txt', (), None, False, ['kvm']),
])
def test_verdicts_on_real_cpus(tmp_path, cpuinfo_fixture, run_module, fixture, modules, params, capable, failed):
    root = make_root(tmp_path, cpuinfo_fixture(fixture), modules, params)
    args = {'host_root': root, 'kvm_test': 'never', 'fail_on_incapable': False}
    result = run_module(kata_check, args)
    assert result['capable'] is capable
    assert result['failed_checks'] == failed
    assert result['can_create_vm'] is None
    assert result['changed'] is False
    assert result['config'] is None
    assert result['messages'][0] == ('System is capable of running Kata Containers' if capable
                                     else 'ERROR: System is not capable of running Kata Containers')


def test_incapable_host_fails_with_its_data(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('amd64-amd-kvm-guest-ryzen7-2700x.txt'), ('kvm',))
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never'}, expect='fail')
    assert result['msg'] == ('System is not capable of running Kata Containers '
                             '(missing or wrong: svm, kvm_amd, vhost, vhost_net)')
    assert result['failed_checks'] == ['svm', 'kvm_amd', 'vhost', 'vhost_net']
    assert result['arch'] == 'amd64'


def test_missing_dev_kvm_under_the_host_root(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'), INTEL,
                     {('kvm_intel', 'unrestricted_guest'): 'Y\n'})
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'always'}, expect='fail')
    assert result['capable'] is True
    assert result['can_create_vm'] is False
    assert result['kvm']['device'] == os.path.join(root, 'dev/kvm')
    assert 'No such file or directory' in result['kvm']['error']
    assert result['msg'].startswith('System is not capable of running Kata Containers (cannot create a VM: cannot open')


def test_hypervisor_comes_from_the_configuration(tmp_path, cpuinfo_fixture, run_module):
    config = '[hypervisor.firecracker]\npath = "/usr/bin/firecracker"\nkernel = "/vmlinux"\nimage = "/img"\n'
    root = make_root(tmp_path, cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'), INTEL,
                     {('kvm_intel', 'unrestricted_guest'): 'Y\n'}, config=config)
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never'})
    assert result['hypervisor'] == 'firecracker'
    assert result['config'] == {'path': '/etc/kata-containers/configuration.toml', 'drop_ins': [],
                                'source': 'default:/etc/kata-containers/configuration.toml', 'runtime': 'go',
                                'handler': None}
    assert result['config_source'] == 'default:/etc/kata-containers/configuration.toml'
    assert result['capable'] is True
    # The assets the file names do not exist under the root: reported, not fatal.
    assert any('/vmlinux' in w for w in result['warnings'])


def test_load_modules_is_refused_for_another_root(tmp_path, cpuinfo_fixture, run_module):
    root = make_root(tmp_path, cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'), ('kvm',))
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'load_modules': True,
                                     'fail_on_incapable': False})
    assert result['changed'] is False
    assert any('load_modules is ignored' in w for w in result['warnings'])


def test_bad_host_root(tmp_path, run_module):
    result = run_module(kata_check, {'host_root': str(tmp_path / 'nowhere')}, expect='fail')
    assert result['msg'] == 'host_root: %s is not a directory; expected the root directory of a host' % (tmp_path / 'nowhere')


class Releases(BaseHTTPRequestHandler):
    document = b'[]'

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def release_server():
    server = HTTPServer(('127.0.0.1', 0), Releases)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d/releases' % server.server_address[1]
    server.shutdown()
    server.server_close()


def release(version, prefix='https://github.com/kata-containers/kata-containers/releases/download'):
    return {'tag_name': version, 'assets': [{
        'browser_download_url': '%s/%s/kata-static-%s-amd64.tar.xz' % (prefix, version, version),
        'name': 'kata-static-%s-amd64.tar.xz' % version, 'created_at': '2023-08-22T09:57:43Z'}]}


def test_release_check_against_a_mirror(tmp_path, cpuinfo_fixture, run_module, release_server):
    Releases.document = json.dumps([release('3.0.0'), release('3.2.0'), release('3.3.0-rc0'),
                                    release('v3.1.0')]).encode()
    runtime = tmp_path / 'kata-runtime'
    runtime.write_text('#!/bin/sh\nprintf "kata-runtime  : 3.0.0\\n   commit   : <<unknown>>\\n   OCI specs: 1.0.2-dev\\n"\n')
    os.chmod(str(runtime), stat.S_IRWXU)
    root = make_root(tmp_path, cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'), INTEL,
                     {('kvm_intel', 'unrestricted_guest'): 'Y\n'})
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'release_check': True,
                                     'release_url': release_server, 'runtime_path': str(runtime)})
    rel = result['release']
    assert rel['current'] == '3.0.0'
    assert rel['latest'] == '3.2.0'
    assert rel['newer_available'] is True
    assert rel['kind'] == 'minor'
    assert rel['message'] == ('Newer minor release available: 3.2.0 (url: https://github.com/kata-containers/'
                              'kata-containers/releases/download/3.2.0/kata-static-3.2.0-amd64.tar.xz, '
                              'date: 2023-08-22T09:57:43Z)')
    assert [r['version'] for r in rel['releases']] == ['3.0.0', '3.2.0']


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

@pytest.mark.parametrize('content, reason', [('not a program\n', 'Exec format error'), (None, 'Permission denied')])
def test_runtime_path_that_cannot_be_executed_names_the_option(tmp_path, cpuinfo_fixture, run_module, release_server,
                                                               content, reason):
    # AnsibleModule.run_command failed the task with a bare "Error executing command." and an exception.
    runtime = tmp_path / 'kata-runtime'
    if content is None:
        runtime.mkdir()
    else:
        runtime.write_text(content)
        runtime.chmod(0o755)
    root = make_root(tmp_path, cpuinfo_fixture('amd64-intel-xeon-e5-2680v3.txt'), INTEL,
                     {('kvm_intel', 'unrestricted_guest'): 'Y\n'})
    result = run_module(kata_check, {'host_root': root, 'kvm_test': 'never', 'release_check': True,
                                     'release_url': release_server, 'runtime_path': str(runtime)}, expect='fail')
    assert result['msg'] == 'runtime_path: cannot run %s: %s' % (runtime, reason)
    assert 'exception' not in result
