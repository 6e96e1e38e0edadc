# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_factory main() end to end: the simulated kata-runtime as runtime_path, its VM-cache gRPC server over real unix
sockets, real processes, real tmpfs templates as root; and the module in a virtualenv without grpcio."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _cache_client as cc
from ansible_collections.katacontainers.kata.plugins.modules import kata_factory
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import factory_testlib
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.factory_testlib import (
    CAN_MOUNT,
    RUNTIME_SIM,
    mount_points_under,
    needs_grpc,
    pid_running,
    processes_mentioning,
    wait_for,
)

scratch = factory_testlib.scratch

pytestmark = needs_grpc


@pytest.fixture(autouse=True)
def sim_python(monkeypatch):
    """The stand-in kata-runtime runs on this interpreter (it has grpcio and protobuf)."""
    monkeypatch.setenv('KATA_SIM_PYTHON', sys.executable)
    monkeypatch.delenv('KATA_SIM_FACTORY_FAULT', raising=False)


def args(scratch, **extra):
    base = dict(config=scratch.config_path, runtime_path=RUNTIME_SIM, log_path=scratch.log_path)
    base.update(extra)
    return base


def disabled_cache(scratch):
    return dict(enabled=False, endpoint=scratch.endpoint, vm_cache_number=0, running=None, server_pid=None, vms=[],
                vm_config=None)


def disabled_template(scratch, present=False):
    return dict(enabled=False, path=scratch.template_path, present=present, mounted=False)


def template(scratch, present):
    return dict(enabled=True, path=scratch.template_path, present=present, mounted=present and CAN_MOUNT)


def stopped_cache(scratch, number=2):
    return dict(enabled=True, endpoint=scratch.endpoint, vm_cache_number=number, running=False, server_pid=None,
                vms=[], vm_config=None)


def vm_config(scratch, memory=512):
    return dict(hypervisor_type='qemu', vcpus=1, memory_mib=memory, kernel=scratch.assets['vmlinux.container'],
                image=None, initrd=scratch.assets['kata-containers-initrd.img'],
                hypervisor_path=scratch.assets['qemu-system-x86_64'])


def start_action(scratch):
    return 'start the VM cache server (%s factory init) on %s' % (RUNTIME_SIM, scratch.endpoint)


def server_command_line(pid):
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        return f.read().split(b'\0')[:-1]


# -- template only --------------------------------------------------------------------------------------------------

def test_template_lifecycle(run_module, scratch):
    scratch.write_config(template=True, memory=300)
    create = 'create the VM template in %s (%s factory init)' % (scratch.template_path, RUNTIME_SIM)
    remove = 'remove the VM template in %s (unmount and delete)' % scratch.template_path

    predicted = run_module(kata_factory, args(scratch), check_mode=True)
    assert (predicted['changed'], predicted['actions']) == (True, [create])
    assert predicted['template'] == template(scratch, False)
    assert not os.path.exists(scratch.template_path)

    first = run_module(kata_factory, args(scratch))
    assert first == dict(changed=True, actions=[create], config=scratch.config_path, config_source='option',
                         runtime_kind='go', cache=disabled_cache(scratch),
                         template=template(scratch, True), warnings=[])
    assert scratch.runtime('factory', 'status').stdout == 'vm factory is on\n'
    if CAN_MOUNT:
        assert mount_points_under(scratch.path) == [scratch.template_path]

    second = run_module(kata_factory, args(scratch))
    assert (second['changed'], second['actions'], second['template']) == (False, [], template(scratch, True))

    predicted = run_module(kata_factory, args(scratch, state='absent'), check_mode=True)
    assert (predicted['changed'], predicted['actions'], predicted['template']) == (True, [remove], template(scratch, True))
    assert os.path.exists(os.path.join(scratch.template_path, 'state'))

    removed = run_module(kata_factory, args(scratch, state='absent'))
    assert (removed['changed'], removed['actions'], removed['template']) == (True, [remove], template(scratch, False))
    assert not os.path.exists(scratch.template_path)
    assert mount_points_under(scratch.path) == []
    assert scratch.runtime('factory', 'status').stdout == 'vm factory is off\n'

    again = run_module(kata_factory, args(scratch, state='absent'))
    assert (again['changed'], again['actions']) == (False, [])


def test_template_creation_failure_reports_kata_error(run_module, scratch, monkeypatch):
    scratch.write_config(template=True)
    monkeypatch.setenv('KATA_SIM_FACTORY_FAULT', 'template-fail')
    result = run_module(kata_factory, args(scratch), expect='fail')
    command = '%s --config %s factory init' % (RUNTIME_SIM, scratch.config_path)
    assert result['msg'] == ('%s failed with exit status 1: failed to launch qemu: exit status 1, error messages from '
                             'qemu log: qemu-system-x86_64: simulated failure (KATA_SIM_FACTORY_FAULT=template-fail)'
                             % command)
    assert (result['rc'], result['cmd']) == (1, command)
    assert not os.path.exists(scratch.template_path)


def test_an_incomplete_template_is_replaced(run_module, scratch):
    scratch.write_config(template=True)
    os.makedirs(scratch.template_path)
    with open(os.path.join(scratch.template_path, 'memory'), 'wb'):
        pass
    result = run_module(kata_factory, args(scratch))
    assert result['actions'] == ['remove the incomplete VM template in %s' % scratch.template_path,
                                 'create the VM template in %s (%s factory init)' % (scratch.template_path, RUNTIME_SIM)]
    assert result['template'] == template(scratch, True)


# -- cache only -----------------------------------------------------------------------------------------------------

def test_cache_lifecycle(run_module, scratch):
    scratch.write_config(cache=2)
    stop_prefix = 'stop the VM cache server (pid '

    predicted = run_module(kata_factory, dict(args(scratch), _ansible_diff=True), check_mode=True)
    assert predicted == dict(changed=True, actions=[start_action(scratch)], config=scratch.config_path,
                             config_source='option', runtime_kind='go',
                             cache=stopped_cache(scratch), template=disabled_template(scratch),
                             diff=dict(before=dict(cache='stopped', template='disabled'),
                                       after=dict(cache='running', template='disabled')), warnings=[])
    assert not os.path.lexists(scratch.endpoint)
    assert processes_mentioning(scratch.config_path) == []

    first = run_module(kata_factory, args(scratch))
    cache = first['cache']
    assert (first['changed'], first['actions']) == (True, [start_action(scratch)])
    assert cache['running'] is True
    pid = cache['server_pid']
    assert server_command_line(pid)[-6:] == [b'--config', scratch.config_path.encode(), b'--log',
                                             scratch.log_path.encode(), b'factory', b'init']
    assert [(vm['cpu'], vm['memory_mib']) for vm in cache['vms']] == [(1, 512), (1, 512)]
    assert all(pid_running(vm['pid']) for vm in cache['vms'])
    assert cache['vm_config'] == vm_config(scratch)
    assert first['template'] == disabled_template(scratch)
    with open(scratch.log_path) as f:
        log = f.read()
    assert 'kata_factory: starting %s --config %s --log %s factory init\n' % (
        RUNTIME_SIM, scratch.config_path, scratch.log_path) in log
    assert 'msg="VM cache server start"' in log

    second = run_module(kata_factory, args(scratch))
    assert (second['changed'], second['actions'], second['cache']) == (False, [], cache)
    assert scratch.runtime('factory', 'status').stdout == (
        'VM cache server pid = %d\n' % pid + ''.join('VM pid = %d Cpu = 1 Memory = 512MiB\n' % vm['pid']
                                                     for vm in cache['vms']) + 'vm factory not enabled\n')

    predicted = run_module(kata_factory, args(scratch, state='absent'), check_mode=True)
    assert predicted['changed'] is True
    assert predicted['actions'] == ['%s%d) on %s with gRPC Quit' % (stop_prefix, pid, scratch.endpoint)]
    assert predicted['cache'] == cache
    assert pid_running(pid)

    stopped = run_module(kata_factory, args(scratch, state='absent'))
    assert (stopped['changed'], stopped['actions']) == (True, predicted['actions'])
    assert stopped['cache'] == stopped_cache(scratch)
    assert not pid_running(pid)
    assert not any(pid_running(vm['pid']) for vm in cache['vms'])
    assert not os.path.lexists(scratch.endpoint)

    again = run_module(kata_factory, args(scratch, state='absent'))
    assert (again['changed'], again['actions'], again['cache']) == (False, [], stopped_cache(scratch))


def test_a_server_started_elsewhere_is_reported_and_stopped(run_module, scratch):
    """A service manager may run `kata-runtime factory init` itself: the module sees it and leaves it alone."""
    scratch.write_config(cache=1, memory=1024)
    proc = scratch.start_runtime_server()
    try:
        wait_for(lambda: cc.probe_endpoint(scratch.endpoint)[0] == cc.LISTENING, what='the server')
        result = run_module(kata_factory, args(scratch))
        assert (result['changed'], result['cache']['server_pid']) == (False, proc.pid)
        assert result['cache']['vm_config'] == vm_config(scratch, memory=1024)
        run_module(kata_factory, args(scratch, state='absent'))
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_server_running_another_configuration_is_reported(run_module, scratch):
    scratch.write_config(cache=1, memory=512)
    first = run_module(kata_factory, args(scratch))
    scratch.write_config(cache=1, memory=1024, vcpus=2)
    result = run_module(kata_factory, args(scratch))
    assert (result['changed'], result['cache']['server_pid']) == (False, first['cache']['server_pid'])
    host_cpus = len(os.sched_getaffinity(0))
    vcpus = 2 if host_cpus >= 2 else host_cpus
    differences = 'memory_mib 512 (configuration: 1024)' if vcpus == 1 else \
        'vcpus 1 (configuration: 2), memory_mib 512 (configuration: 1024)'
    assert result['warnings'] == ['the VM cache server (pid %d) on %s runs with %s: it keeps its VMs until it is '
                                  'restarted (state=absent, then state=present)'
                                  % (first['cache']['server_pid'], scratch.endpoint, differences)]
    run_module(kata_factory, args(scratch, state='absent'))


def test_a_stale_socket_is_replaced_by_a_server(run_module, scratch):
    scratch.write_config(cache=1)
    scratch.make_stale_socket()
    result = run_module(kata_factory, args(scratch))
    assert result['actions'] == ['remove the stale socket %s (no server listens on it)' % scratch.endpoint,
                                 start_action(scratch)]
    assert result['cache']['running'] is True
    run_module(kata_factory, args(scratch, state='absent'))


def test_a_stale_socket_is_removed_by_absent(run_module, scratch):
    scratch.write_config(cache=1)
    scratch.make_stale_socket()
    predicted = run_module(kata_factory, args(scratch, state='absent'), check_mode=True)
    assert predicted['actions'] == ['remove the stale socket %s (no server listens on it)' % scratch.endpoint]
    assert os.path.lexists(scratch.endpoint)
    result = run_module(kata_factory, args(scratch, state='absent'))
    assert (result['changed'], result['actions']) == (True, predicted['actions'])
    assert not os.path.lexists(scratch.endpoint)
    assert run_module(kata_factory, args(scratch, state='absent'))['changed'] is False


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_a_server_that_never_answers_fails_cleanly(run_module, scratch, state):
    scratch.write_config(cache=1)
    silent = scratch.start_silent()
    try:
        result = run_module(kata_factory, args(scratch, state=state, timeout=0.5), expect='fail')
        assert result['msg'] == (
            'the VM cache server at %s did not answer gRPC /cache.CacheService/Status within 0.5 s: something accepts '
            'connections there but does not speak gRPC (or is stuck)' % scratch.endpoint)
        assert (result['endpoint'], result['grpc_code']) == (scratch.endpoint, 'DEADLINE_EXCEEDED')
        # Nothing was touched: the listener is still there.
        assert silent.poll() is None
        assert cc.probe_endpoint(scratch.endpoint) == (cc.LISTENING, None)
    finally:
        silent.kill()
        silent.wait()


def test_something_else_at_the_endpoint_is_never_removed(run_module, scratch):
    scratch.write_config(cache=1)
    os.makedirs(os.path.dirname(scratch.endpoint))
    with open(scratch.endpoint, 'w') as f:
        f.write('not a socket')
    result = run_module(kata_factory, args(scratch), expect='fail')
    assert result['msg'] == ('factory.vm_cache_endpoint %s is a regular file, not a socket: move it away (it is not '
                             'removed automatically)' % scratch.endpoint)
    with open(scratch.endpoint) as f:
        assert f.read() == 'not a socket'


def test_a_server_that_exits_at_once(run_module, scratch, monkeypatch):
    scratch.write_config(cache=1)
    monkeypatch.setenv('KATA_SIM_FACTORY_FAULT', 'init-fail')
    result = run_module(kata_factory, args(scratch), expect='fail')
    command = '%s --config %s --log %s factory init' % (RUNTIME_SIM, scratch.config_path, scratch.log_path)
    # The end of the log: kata's own log line (--log goes to the same file), then its error.
    head, dummy, log = result['msg'].partition(': time="')
    assert head == '%s exited before the VM cache server answered on %s' % (command, scratch.endpoint)
    goarch = {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(os.uname()[4], os.uname()[4])
    assert log.split('\n')[0].endswith(' level=info msg="loaded configuration" arch=%s command=factory file=%s '
                                       'format=TOML name=kata-runtime pid=%s source=runtime'
                                       % (goarch, scratch.config_path, log.split(' pid=')[1].split(' ')[0]))
    assert log.split('\n')[1:] == ['failed to launch qemu: exit status 1 (KATA_SIM_FACTORY_FAULT=init-fail)']
    assert result['log_path'] == scratch.log_path


def test_a_server_too_slow_to_start_is_stopped(run_module, scratch, monkeypatch):
    scratch.write_config(cache=1)
    monkeypatch.setenv('KATA_SIM_FACTORY_FAULT', 'slow-start:30')
    result = run_module(kata_factory, args(scratch, wait_timeout=1), expect='fail')
    command = '%s --config %s --log %s factory init' % (RUNTIME_SIM, scratch.config_path, scratch.log_path)
    assert result['msg'].startswith('the VM cache server started by %s did not answer on %s within 1 s, so it was '
                                    'stopped; its output: ' % (command, scratch.endpoint))
    assert 'msg="loaded configuration"' in result['msg']
    assert processes_mentioning(scratch.config_path) == []
    assert not os.path.lexists(scratch.endpoint)


# -- template and cache together ------------------------------------------------------------------------------------

def test_cache_over_template_lifecycle(run_module, scratch):
    scratch.write_config(template=True, cache=2)
    first = run_module(kata_factory, args(scratch))
    assert first['actions'] == [start_action(scratch)]
    assert first['cache']['running'] is True
    assert first['template'] == template(scratch, True)
    assert scratch.runtime('factory', 'status').stdout.endswith('vm factory is on\n')

    second = run_module(kata_factory, args(scratch))
    assert (second['changed'], second['template']) == (False, template(scratch, True))

    stopped = run_module(kata_factory, dict(args(scratch, state='absent'), _ansible_diff=True))
    assert stopped['actions'] == ['stop the VM cache server (pid %d) on %s with gRPC Quit'
                                  % (first['cache']['server_pid'], scratch.endpoint)]
    assert stopped['diff'] == dict(before=dict(cache='running', template='present'),
                                   after=dict(cache='stopped', template='absent'))
    # The server closed its template when it stopped.
    assert (stopped['cache'], stopped['template']) == (stopped_cache(scratch), template(scratch, False))
    assert not os.path.exists(scratch.template_path)
    assert mount_points_under(scratch.path) == []
    assert run_module(kata_factory, args(scratch, state='absent'))['changed'] is False


def test_a_template_left_without_server_is_replaced(run_module, scratch):
    """kata's server refuses to start over an existing template: the leftover is removed first."""
    scratch.write_config(template=True)
    run_module(kata_factory, args(scratch))
    scratch.write_config(template=True, cache=1)
    result = run_module(kata_factory, args(scratch))
    assert result['actions'] == [
        'remove the VM template in %s left without a VM cache server (the server creates its own)' % scratch.template_path,
        start_action(scratch)]
    assert (result['cache']['running'], result['template']) == (True, template(scratch, True))
    run_module(kata_factory, args(scratch, state='absent'))
    assert not os.path.exists(scratch.template_path)


def test_a_server_without_the_template_is_refused(run_module, scratch):
    scratch.write_config(cache=1)
    run_module(kata_factory, args(scratch))
    scratch.write_config(template=True, cache=1)
    result = run_module(kata_factory, args(scratch), expect='fail')
    assert result['msg'].startswith('the VM cache server (pid ')
    assert result['msg'].endswith(') on %s runs without the VM template in %s that the configuration enables (it was '
                                  'started with another configuration, or the template was removed under it): stop it '
                                  'with state=absent, then start it again with state=present'
                                  % (scratch.endpoint, scratch.template_path))
    stopped = run_module(kata_factory, args(scratch, state='absent'))
    assert stopped['cache']['running'] is False


# -- bad input ------------------------------------------------------------------------------------------------------

def test_nothing_enabled(run_module, scratch):
    scratch.write_config()
    result = run_module(kata_factory, args(scratch), expect='fail')
    assert result['msg'] == (
        'Neither the VM template nor the VM cache is enabled in %s: set [factory] enable_template = true (it needs an '
        'initrd) and/or [factory] vm_cache_number to the number of VMs to keep ready (qemu only). With neither, '
        'kata-runtime factory init only prints "vm factory or VMCache is not enabled".' % scratch.config_path)
    assert result['file'] == scratch.config_path


def test_missing_config(run_module, scratch):
    result = run_module(kata_factory, args(scratch), expect='fail')
    assert result['msg'] == 'Cannot find usable config file (file %s does not exist)' % scratch.config_path


@pytest.mark.parametrize('option, value', [('timeout', 0), ('timeout', float('nan')), ('wait_timeout', -1),
                                           ('wait_timeout', float('inf'))])
def test_bad_timeouts(run_module, scratch, option, value):
    scratch.write_config(template=True)
    result = run_module(kata_factory, args(scratch, **{option: value}), expect='fail')
    assert result['msg'] == '%s: expected a number of seconds greater than 0, got %r' % (option, float(value))


def test_runtime_not_found(run_module, scratch, monkeypatch):
    scratch.write_config(template=True)
    monkeypatch.setenv('PATH', scratch.join('empty'))
    result = run_module(kata_factory, dict(config=scratch.config_path), expect='fail', check_mode=True)
    assert result['msg'] == ('kata-runtime was not found in PATH nor in /opt/kata/bin: install Kata Containers or set '
                             'runtime_path')


def test_runtime_found_in_path(run_module, scratch, monkeypatch):
    scratch.write_config(template=True)
    os.symlink(RUNTIME_SIM, scratch.join('kata-runtime'))
    monkeypatch.setenv('PATH', scratch.path)
    result = run_module(kata_factory, dict(config=scratch.config_path), check_mode=True)
    assert result['actions'] == ['create the VM template in %s (%s factory init)'
                                 % (scratch.template_path, scratch.join('kata-runtime'))]


# -- without grpcio -------------------------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def bare_python(tmp_path_factory):
    """A virtualenv without grpcio (nor anything else): only ansible and this collection on its path, and tomli on
    Python < 3.11 (where the module needs it to read the configuration, as documented)."""
    import ansible
    root = tmp_path_factory.mktemp('nogrpc')
    venv = root / 'venv'
    proc = subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        pytest.skip('cannot create a virtualenv: %s' % proc.stdout.decode('utf-8', 'replace'))
    path = root / 'path'
    path.mkdir()
    os.symlink(os.path.dirname(ansible.__file__), str(path / 'ansible'))
    collections = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(kata_factory.__file__)))))
    os.symlink(os.path.dirname(collections), str(path / 'ansible_collections'))
    if sys.version_info < (3, 11):
        import tomli
        os.symlink(os.path.dirname(tomli.__file__), str(path / 'tomli'))
    python = str(venv / 'bin' / 'python')
    check = subprocess.run([python, '-c', 'import grpc'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                           env=dict(os.environ, PYTHONPATH=str(path)))
    assert check.returncode == 1 and b"No module named 'grpc'" in check.stdout
    return python, str(path)


def run_bare(bare_python, module_args, tmp_path):
    python, path = bare_python
    args_file = tmp_path / 'args.json'
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': module_args}))
    proc = subprocess.run([python, '-m', 'ansible_collections.katacontainers.kata.plugins.modules.kata_factory',
                           str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
                          env=dict(os.environ, PYTHONPATH=path))
    return proc.returncode, json.loads(proc.stdout.decode('utf-8'))


def test_without_grpcio_the_cache_needs_it(bare_python, scratch, tmp_path):
    scratch.write_config(cache=1)
    rc, result = run_bare(bare_python, args(scratch), tmp_path)
    assert rc == 1
    assert result['msg'] == (
        "Failed to import the required Python library (grpcio) on %s's Python %s. This is required to talk to the "
        'Kata VM cache server ([factory] vm_cache_number > 0). Please read the module documentation and install it in '
        'the appropriate location. If the required library is installed, but Ansible is using the wrong Python '
        'interpreter, please consult the documentation on ansible_python_interpreter'
        % (platform.node(), bare_python[0]))


def test_without_grpcio_the_template_works(bare_python, scratch, tmp_path):
    scratch.write_config(template=True)
    rc, result = run_bare(bare_python, dict(args(scratch), _ansible_check_mode=True), tmp_path)
    assert rc == 0
    assert result['changed'] is True
    assert result['cache'] == disabled_cache(scratch)


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

@pytest.mark.parametrize('option', ['timeout', 'wait_timeout'])
def test_timeouts_too_large_for_a_socket(run_module, scratch, option):
    # 1e10 reached socket.settimeout and raised OverflowError.
    scratch.write_config(template=True)
    result = run_module(kata_factory, args(scratch, **{option: 1e10}), expect='fail')
    assert result['msg'] == '%s: 10000000000.0 seconds is more than the 31536000 (365 days) a timeout may be' % option
