# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM factory logic: mountinfo parsing, template detection and removal on real tmpfs mounts, the plan for each
observed state, starting and stopping real servers, and the simulated kata-runtime's factory commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _cache_client as cc
from ansible_collections.katacontainers.kata.plugins.module_utils import _factory as fm
from ansible_collections.katacontainers.kata.plugins.module_utils._config._loader import KataConfig
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    ConfigError,
    KataError,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import factory_testlib
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.factory_testlib import (
    CAN_MOUNT,
    IS_ROOT,
    SIM_CACHE,
    mount_points_under,
    needs_grpc,
    needs_tmpfs,
    pid_running,
    run_command,
    wait_for,
)

scratch = factory_testlib.scratch


def mount_tmpfs(path, size='4M'):
    os.makedirs(path, exist_ok=True)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,nosuid,nodev' % size, 'tmpfs', path], check=True)


def make_template(path):
    for name in fm.TEMPLATE_FILES:
        with open(os.path.join(path, name), 'wb') as f:
            f.write(b'x')


# -- mountinfo ----------------------------------------------------------------------------------------------------

MOUNTINFO = b'''\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
36 22 0:32 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=817708k,mode=755
101 36 0:55 / /run/vc/vm/template rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=2105344k
102 101 0:56 / /run/vc/vm/template rw,relatime master:3 propagate_from:2 - tmpfs none rw
103 22 0:57 /sub\\040dir /mnt/with\\040space\\011tab\\134back rw - fuse.sshfs me@host:/x\\040y rw,user_id=0
garbage line without a separator
104 22 0:58 / /short rw -
x 22 0:58 / /bad-id rw - tmpfs tmpfs rw
105 22 0:59 / /no-super rw - tmpfs tmpfs
'''


class TestMountinfo:
    def test_parse(self):
        mounts = fm.parse_mountinfo(MOUNTINFO)
        assert [m['mount_point'] for m in mounts] == [
            '/', '/run', '/run/vc/vm/template', '/run/vc/vm/template', '/mnt/with space\ttab\\back', '/no-super']
        assert mounts[2] == dict(mount_id=101, parent_id=36, root='/', mount_point='/run/vc/vm/template',
                                 options='rw,nosuid,nodev,relatime', fstype='tmpfs', source='tmpfs',
                                 super_options='rw,size=2105344k')
        assert mounts[3]['source'] == 'none'
        assert (mounts[4]['root'], mounts[4]['fstype'], mounts[4]['source']) == ('/sub dir', 'fuse.sshfs', 'me@host:/x y')
        assert mounts[5]['super_options'] == ''

    def test_mounts_at_follows_symlinks_and_keeps_stacking_order(self, tmp_path):
        info = tmp_path / 'mountinfo'
        info.write_bytes(MOUNTINFO)
        os.symlink('/run/vc/vm/template', str(tmp_path / 'link'))
        assert [m['mount_id'] for m in fm.mounts_at(str(tmp_path / 'link'), str(info))] == [101, 102]
        assert fm.mounts_at('/run/vc/vm', str(info)) == []

    def test_real_mountinfo_has_the_root(self):
        assert [m['mount_point'] for m in fm.mounts_at('/')] != []

    def test_unreadable_mountinfo(self, tmp_path):
        with pytest.raises(KataError) as exc_info:
            fm.mounts_at('/run', str(tmp_path / 'missing'))
        assert exc_info.value.msg == ('cannot read %s to look for the VM template mount: No such file or directory'
                                      % (tmp_path / 'missing'))


# -- the template -------------------------------------------------------------------------------------------------

class TestTemplate:
    def test_nothing_there(self, tmp_path):
        path = str(tmp_path / 'template')
        assert fm.template_status(path) == dict(enabled=True, path=path, present=False, mounted=False, leftover=False)
        assert fm.remove_template(path) == []

    def test_an_empty_directory_is_not_a_template_nor_a_leftover(self, tmp_path):
        path = str(tmp_path)
        assert fm.template_status(path, enabled=False) == dict(enabled=False, path=path, present=False, mounted=False,
                                                               leftover=False)

    def test_one_file_is_a_leftover(self, tmp_path):
        (tmp_path / 'memory').write_bytes(b'')
        assert fm.template_status(str(tmp_path))['present'] is False
        assert fm.template_status(str(tmp_path))['leftover'] is True

    def test_both_files_make_a_template_as_for_kata(self, tmp_path):
        make_template(str(tmp_path))
        status = fm.template_status(str(tmp_path))
        assert (status['present'], status['mounted'], status['leftover']) == (True, False, True)

    def test_dangling_symlinks_are_a_leftover_not_a_template(self, tmp_path):
        for name in fm.TEMPLATE_FILES:
            os.symlink('/nonexistent/%s' % name, str(tmp_path / name))
        status = fm.template_status(str(tmp_path))
        assert (status['present'], status['leftover']) == (False, True)

    def test_remove_keeps_a_directory_with_other_files(self, tmp_path):
        path = tmp_path / 'template'
        path.mkdir()
        make_template(str(path))
        (path / 'notes.txt').write_text('mine')
        assert fm.remove_template(str(path)) == ['notes.txt']
        assert sorted(os.listdir(str(path))) == ['notes.txt']

    def test_remove_plain_directory_template(self, tmp_path):
        path = tmp_path / 'template'
        path.mkdir()
        make_template(str(path))
        assert fm.remove_template(str(path)) == []
        assert not path.exists()

    @needs_tmpfs
    def test_tmpfs_template_is_detected_and_removed(self, scratch):
        path = scratch.template_path
        mount_tmpfs(path)
        make_template(path)
        assert fm.template_status(path) == dict(enabled=True, path=path, present=True, mounted=True, leftover=True)
        assert fm.remove_template(path) == []
        assert not os.path.exists(path)
        assert mount_points_under(scratch.path) == []

    @needs_tmpfs
    def test_stacked_mounts_are_all_removed(self, scratch):
        path = scratch.template_path
        mount_tmpfs(path)
        mount_tmpfs(path)
        make_template(path)
        assert len(fm.mounts_at(path)) == 2
        assert fm.remove_template(path) == []
        assert mount_points_under(scratch.path) == []
        assert not os.path.exists(path)

    @needs_tmpfs
    def test_a_mounted_empty_tmpfs_is_a_leftover(self, scratch):
        mount_tmpfs(scratch.template_path)
        status = fm.template_status(scratch.template_path)
        assert (status['present'], status['mounted'], status['leftover']) == (False, True, True)

    @pytest.mark.skipif(not IS_ROOT, reason='a normal user gets EPERM before EINVAL')
    def test_unmount_of_something_mountinfo_lists_but_is_not_mounted(self, tmp_path):
        path = tmp_path / 'template'
        path.mkdir()
        info = tmp_path / 'mountinfo'
        info.write_text('101 36 0:55 / %s rw - tmpfs tmpfs rw\n' % path)
        with pytest.raises(KataError) as exc_info:
            fm.remove_template(str(path), str(info))
        assert exc_info.value.msg == 'cannot unmount the VM template at %s: Invalid argument' % path
        assert path.is_dir()

    def test_unmount_without_privilege(self, unprivileged):
        assert unprivileged(lambda: fm.remove_template('/proc')) == (
            'raise', 'KataError', 'cannot unmount the VM template at /proc: Operation not permitted (the task '
                                  'must run as root: become: true)')


# -- what the plan is for each observed state ------------------------------------------------------------------------

def config(template=False, cache=0, template_path='/run/vc/vm/template', endpoint='/run/kata-containers/cache.sock'):
    return KataConfig(path='/etc/kata-containers/configuration.toml', drop_ins=[], warnings=[], hypervisor_type='qemu',
                      hypervisor={}, agent={}, runtime={}, kernel_params='',
                      factory=dict(enable_template=template, template_path=template_path, vm_cache_number=cache,
                                   vm_cache_endpoint=endpoint))


def cache_obs(state=None, running=False, pid=None):
    return dict(enabled=state is not None, endpoint='/run/kata-containers/cache.sock', running=running,
                server_pid=pid, vms=[], vm_config=None, endpoint_state=state,
                endpoint_detail='a regular file' if state == 'not_socket' else None)


def template_obs(present=False, leftover=False):
    return dict(enabled=True, path='/run/vc/vm/template', present=present, mounted=leftover, leftover=leftover or present)


START = ('start_cache', 'start the VM cache server (/usr/bin/kata-runtime factory init) on /run/kata-containers/cache.sock')
STOP = ('stop_cache', 'stop the VM cache server (pid 42) on /run/kata-containers/cache.sock with gRPC Quit')
STALE = ('remove_socket', 'remove the stale socket /run/kata-containers/cache.sock (no server listens on it)')
CREATE = ('create_template', 'create the VM template in /run/vc/vm/template (/usr/bin/kata-runtime factory init)')
REMOVE = ('remove_template', 'remove the VM template in /run/vc/vm/template (unmount and delete)')
REMOVE_INCOMPLETE = ('remove_template', 'remove the incomplete VM template in /run/vc/vm/template')
REMOVE_ORPHAN = ('remove_template', 'remove the VM template in /run/vc/vm/template left without a VM cache server '
                 '(the server creates its own)')


@pytest.mark.parametrize('cfg, state, cache, template, expected', [
    # template only
    (dict(template=True), 'present', cache_obs(), template_obs(), [CREATE]),
    (dict(template=True), 'present', cache_obs(), template_obs(leftover=True), [REMOVE_INCOMPLETE, CREATE]),
    (dict(template=True), 'present', cache_obs(), template_obs(present=True), []),
    (dict(template=True), 'absent', cache_obs(), template_obs(present=True), [REMOVE]),
    (dict(template=True), 'absent', cache_obs(), template_obs(leftover=True), [REMOVE]),
    (dict(template=True), 'absent', cache_obs(), template_obs(), []),
    # cache only
    (dict(cache=2), 'present', cache_obs('missing'), template_obs(), [START]),
    (dict(cache=2), 'present', cache_obs('stale'), template_obs(), [STALE, START]),
    (dict(cache=2), 'present', cache_obs('listening', True, 42), template_obs(), []),
    (dict(cache=2), 'present', cache_obs('listening', True, 42), template_obs(present=True), []),
    (dict(cache=2), 'absent', cache_obs('listening', True, 42), template_obs(present=True), [STOP]),
    (dict(cache=2), 'absent', cache_obs('stale'), template_obs(), [STALE]),
    (dict(cache=2), 'absent', cache_obs('missing'), template_obs(leftover=True), []),
    # both
    (dict(template=True, cache=2), 'present', cache_obs('missing'), template_obs(), [START]),
    (dict(template=True, cache=2), 'present', cache_obs('missing'), template_obs(present=True), [REMOVE_ORPHAN, START]),
    (dict(template=True, cache=2), 'present', cache_obs('stale'), template_obs(leftover=True),
     [STALE, REMOVE_ORPHAN, START]),
    (dict(template=True, cache=2), 'present', cache_obs('listening', True, 42), template_obs(present=True), []),
    (dict(template=True, cache=2), 'absent', cache_obs('listening', True, 42), template_obs(present=True), [STOP]),
    (dict(template=True, cache=2), 'absent', cache_obs('stale'), template_obs(present=True), [STALE, REMOVE]),
    (dict(template=True, cache=2), 'absent', cache_obs('missing'), template_obs(), []),
])
def test_plan(cfg, state, cache, template, expected):
    manager = fm.FactoryManager(config(**cfg), runtime_path=None, find_runtime=lambda: '/usr/bin/kata-runtime')
    assert manager.plan(state, cache, template) == expected


def test_plan_refuses_a_server_without_its_template():
    manager = fm.FactoryManager(config(template=True, cache=2))
    with pytest.raises(KataError) as exc_info:
        manager.plan('present', cache_obs('listening', True, 42), template_obs())
    assert exc_info.value.msg == (
        'the VM cache server (pid 42) on /run/kata-containers/cache.sock runs without the VM template in '
        '/run/vc/vm/template that the configuration enables (it was started with another configuration, or the '
        'template was removed under it): stop it with state=absent, then start it again with state=present')


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_plan_refuses_something_else_than_a_socket(state):
    manager = fm.FactoryManager(config(cache=1))
    with pytest.raises(ConfigError) as exc_info:
        manager.plan(state, cache_obs('not_socket'), template_obs())
    assert exc_info.value.msg == ('factory.vm_cache_endpoint /run/kata-containers/cache.sock is a regular file, not '
                                  'a socket: move it away (it is not removed automatically)')


def test_nothing_enabled_names_the_keys():
    with pytest.raises(ConfigError) as exc_info:
        fm.FactoryManager(config())
    assert exc_info.value.msg == (
        'Neither the VM template nor the VM cache is enabled in /etc/kata-containers/configuration.toml: set '
        '[factory] enable_template = true (it needs an initrd) and/or [factory] vm_cache_number to the number of VMs '
        'to keep ready (qemu only). With neither, kata-runtime factory init only prints "vm factory or VMCache is not '
        'enabled".')


@pytest.mark.parametrize('factory, key, message', [
    (dict(template=True, template_path='vm/template'), 'factory.template_path',
     "factory.template_path must be an absolute path, got 'vm/template': kata-runtime would resolve it against the "
     'current directory of each process'),
    (dict(template=True, template_path='//'), 'factory.template_path', 'factory.template_path must not be the root directory'),
    (dict(cache=1, endpoint='cache.sock'), 'factory.vm_cache_endpoint',
     "factory.vm_cache_endpoint must be an absolute path, got 'cache.sock': kata-runtime would resolve it against the "
     'current directory of each process'),
])
def test_paths_must_be_absolute(factory, key, message):
    with pytest.raises(ConfigError) as exc_info:
        fm.FactoryManager(config(**factory))
    assert exc_info.value.msg == message


class TestRuntime:
    def test_explicit_path_must_be_executable(self, tmp_path):
        manager = fm.FactoryManager(config(template=True), runtime_path=str(tmp_path / 'kata-runtime'))
        with pytest.raises(ArgumentError) as exc_info:
            manager.runtime()
        assert exc_info.value.msg == 'runtime_path: %s is not an executable file' % (tmp_path / 'kata-runtime')

    def test_not_found(self):
        manager = fm.FactoryManager(config(template=True), find_runtime=lambda: None)
        with pytest.raises(KataError) as exc_info:
            manager.plan('present', cache_obs(), template_obs())
        assert exc_info.value.msg == ('kata-runtime was not found in PATH nor in /opt/kata/bin: install Kata '
                                      'Containers or set runtime_path')

    def test_not_needed_to_remove(self):
        manager = fm.FactoryManager(config(template=True), find_runtime=lambda: None)
        assert manager.plan('absent', cache_obs(), template_obs(present=True)) == [REMOVE]


def test_drift_warnings():
    cfg = config(cache=1)
    cfg.hypervisor = {'default_vcpus': 2, 'default_memory': 2048}
    running = dict(cache_obs('listening', True, 42), vm_config=dict(hypervisor_type='qemu', vcpus=1, memory_mib=2048))
    assert fm.drift_warnings(cfg, running) == [
        'the VM cache server (pid 42) on /run/kata-containers/cache.sock runs with vcpus 1 (configuration: 2): it '
        'keeps its VMs until it is restarted (state=absent, then state=present)']
    running['vm_config']['vcpus'] = 2
    assert fm.drift_warnings(cfg, running) == []
    running['vm_config'] = None
    assert fm.drift_warnings(cfg, running) == []
    assert fm.drift_warnings(cfg, cache_obs('missing')) == []


# -- the Config summary -----------------------------------------------------------------------------------------------

@needs_grpc
def test_summarize_the_simulator_config():
    import sim_cache
    data, agent = sim_cache.go_vm_config('qemu', {'NumVCPUs': 2, 'MemorySize': 4096, 'KernelPath': '/k',
                                                  'InitrdPath': '/i', 'HypervisorPath': '/usr/bin/qemu'})
    assert fm.summarize_vm_config({'data': data, 'agent_config': agent}) == dict(
        hypervisor_type='qemu', vcpus=2, memory_mib=4096, kernel='/k', image=None, initrd='/i',
        hypervisor_path='/usr/bin/qemu')


@pytest.mark.parametrize('data, expected', [
    (b'not json', None),
    (b'\xff\xfe', None),
    (b'[1, 2]', None),
    (b'{}', dict(hypervisor_type=None, vcpus=None, memory_mib=None, kernel=None, image=None, initrd=None,
                 hypervisor_path=None)),
    # Newer kata (3.x later) counts vCPUs as a float, NumVCPUsF.
    (json.dumps({'HypervisorType': 'qemu', 'HypervisorConfig': {'NumVCPUsF': 1.5, 'MemorySize': 2048}}).encode(),
     dict(hypervisor_type='qemu', vcpus=1.5, memory_mib=2048, kernel=None, image=None, initrd=None,
          hypervisor_path=None)),
])
def test_summarize_odd_configs(data, expected):
    assert fm.summarize_vm_config({'data': data, 'agent_config': b''}) == expected


# -- polling ------------------------------------------------------------------------------------------------------

def test_polls_are_bounded_and_back_off():
    now = [100.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    deadline = fm._Deadline(1.0, clock=lambda: now[0])
    count = sum(1 for dummy in fm._polls(deadline, sleep=sleep))
    assert sleeps == [0.05, 0.1, 0.2, 0.4, 0.25]
    assert count == 6
    assert now[0] == 101.0


def test_pid_running():
    assert fm._pid_running(os.getpid()) is True
    assert fm._pid_running(None) is False
    assert fm._pid_running(0) is False
    proc = subprocess.Popen(['true'])
    wait_for(lambda: not factory_testlib.pid_running(proc.pid) or proc.poll() is not None, what='true to exit')
    # Exited but not yet reaped: a zombie is not running.
    assert fm._pid_running(proc.pid) is False
    proc.wait()
    assert fm._pid_running(proc.pid) is False


# -- starting and stopping real servers --------------------------------------------------------------------------------

@needs_grpc
class TestStartStop:
    def test_start_waits_for_status_then_stop_waits_for_the_end(self, scratch):
        argv = [sys.executable, SIM_CACHE, 'serve', '--endpoint', scratch.endpoint, '--vms', '2', '--memory', '256']
        status = fm.start_cache_server(argv, scratch.endpoint, scratch.log_path, 3.0, 30.0, run_command)
        assert [vm['memory_mib'] for vm in status['vms']] == [256, 256]
        assert pid_running(status['pid'])
        with open(scratch.log_path) as f:
            assert f.read().split('\n')[0].endswith(' kata_factory: starting %s %s serve --endpoint %s --vms 2 '
                                                    '--memory 256' % (sys.executable, SIM_CACHE, scratch.endpoint))
        assert os.stat(scratch.log_path).st_mode & 0o777 == 0o640
        fm.stop_cache_server(scratch.endpoint, status['pid'], 3.0, 30.0)
        assert not pid_running(status['pid'])
        assert not os.path.lexists(scratch.endpoint)

    def test_a_command_that_exits_early(self, scratch):
        argv = [sys.executable, '-c', 'import sys; sys.stderr.write("boom: no qemu\\n"); sys.exit(3)']
        with pytest.raises(KataError) as exc_info:
            fm.start_cache_server(argv, scratch.endpoint, scratch.log_path, 3.0, 30.0, run_command)
        assert exc_info.value.msg.startswith('%s -c ' % sys.executable)
        assert exc_info.value.msg.endswith(' exited before the VM cache server answered on %s: boom: no qemu'
                                           % scratch.endpoint)

    def test_a_command_that_cannot_run(self, scratch):
        with pytest.raises(KataError) as exc_info:
            fm.start_cache_server([scratch.join('nope')], scratch.endpoint, scratch.log_path, 3.0, 30.0, run_command)
        assert exc_info.value.msg == 'cannot run %s: No such file or directory' % scratch.join('nope')

    def test_an_unwritable_log(self, scratch):
        with pytest.raises(KataError) as exc_info:
            fm.start_cache_server(['true'], scratch.endpoint, scratch.join('no', 'dir.log'), 3.0, 30.0, run_command)
        assert exc_info.value.msg == ('cannot open the VM cache server log %s: No such file or directory'
                                      % scratch.join('no', 'dir.log'))

    def test_a_server_that_never_answers_is_stopped_after_the_wait(self, scratch):
        argv = [sys.executable, SIM_CACHE, 'silent', '--endpoint', scratch.endpoint]
        with pytest.raises(KataError) as exc_info:
            fm.start_cache_server(argv, scratch.endpoint, scratch.log_path, 0.3, 1.5, run_command)
        msg = exc_info.value.msg
        assert msg.startswith('the VM cache server started by %s did not answer on %s within 1.5 s, so it was '
                              'stopped (last error: the VM cache server at %s did not answer gRPC '
                              '/cache.CacheService/Status within ' % (' '.join(argv), scratch.endpoint, scratch.endpoint))
        assert factory_testlib.processes_mentioning(scratch.endpoint) == []
        assert not os.path.lexists(scratch.endpoint)

    def test_a_server_that_ignores_quit(self, scratch):
        import grpc
        from concurrent import futures
        handler = grpc.method_handlers_generic_handler('cache.CacheService', {
            'Quit': grpc.unary_unary_rpc_method_handler(lambda request, context: b''),
        })
        stubborn = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=(handler,))
        os.makedirs(os.path.dirname(scratch.endpoint))
        stubborn.add_insecure_port(cc.grpc_target(scratch.endpoint))
        stubborn.start()
        try:
            with pytest.raises(KataError) as exc_info:
                fm.stop_cache_server(scratch.endpoint, None, 1.0, 1.0)
        finally:
            stubborn.stop(None)
        assert exc_info.value.msg == ('the VM cache server at %s (pid None) still accepts connections 1 s after Quit'
                                      % scratch.endpoint)

    def test_stop_removes_a_socket_the_server_left(self, scratch):
        """A server that stops listening but leaves its socket file behind (kata's Go listener removes it)."""
        import grpc
        from concurrent import futures
        holder = {}

        def quit_(request, context):
            def later():
                holder['server'].stop(None).wait()
                scratch.make_stale_socket()
            threading.Timer(0.2, later).start()
            return b''
        handler = grpc.method_handlers_generic_handler('cache.CacheService', {
            'Quit': grpc.unary_unary_rpc_method_handler(quit_)})
        holder['server'] = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=(handler,))
        os.makedirs(os.path.dirname(scratch.endpoint))
        holder['server'].add_insecure_port(cc.grpc_target(scratch.endpoint))
        holder['server'].start()
        fm.stop_cache_server(scratch.endpoint, None, 1.0, 5.0)
        assert cc.probe_endpoint(scratch.endpoint) == (cc.MISSING, None)


# -- the kata-runtime stand-in: kata's texts, and the same view as the module_utils ------------------------------------

@needs_grpc
class TestRuntimeSim:
    def test_nothing_enabled(self, scratch):
        scratch.write_config()
        init, destroy, status = scratch.runtime('factory', 'init'), scratch.runtime('factory', 'destroy'), \
            scratch.runtime('factory', 'status')
        assert (init.returncode, init.stdout, init.stderr) == (0, 'vm factory or VMCache is not enabled\n', '')
        assert (destroy.returncode, destroy.stdout) == (0, 'vm factory destroyed\n')
        assert (status.returncode, status.stdout) == (0, 'vm factory not enabled\n')

    def test_missing_config(self, scratch):
        proc = scratch.runtime('factory', 'status')
        assert (proc.returncode, proc.stdout, proc.stderr) == (
            1, '', 'Cannot find usable config file (file %s does not exist)\n' % scratch.config_path)

    def test_config_checks(self, scratch):
        scratch.write_config(template=True, extra='')
        with open(scratch.config_path) as f:
            text = f.read()
        with open(scratch.config_path, 'w') as f:
            f.write(text.replace('initrd = ', 'image = '))
        proc = scratch.runtime('factory', 'init')
        assert (proc.returncode, proc.stderr) == (1, 'Factory option enable_template requires an initrd image\n')

    def test_template(self, scratch):
        scratch.write_config(template=True, memory=300)
        assert scratch.runtime('factory', 'status').stdout == 'vm factory is off\n'
        init = scratch.runtime('factory', 'init')
        assert (init.returncode, init.stdout, init.stderr) == (0, 'vm factory initialized\n', '')
        status = fm.template_status(scratch.template_path)
        assert (status['present'], status['mounted']) == (True, CAN_MOUNT)
        if CAN_MOUNT:
            mount = fm.mounts_at(scratch.template_path)[-1]
            assert (mount['fstype'], mount['super_options']) == ('tmpfs', 'rw,size=315392k')  # 300 + 8 MiB
            assert mount['options'].split(',')[:3] == ['rw', 'nosuid', 'nodev']
        assert os.path.getsize(os.path.join(scratch.template_path, 'memory')) == 300 << 20
        assert scratch.runtime('factory', 'status').stdout == 'vm factory is on\n'
        again = scratch.runtime('factory', 'init')
        assert (again.returncode, again.stderr) == (1, 'There is already a VM template in %s\n' % scratch.template_path)
        destroy = scratch.runtime('factory', 'destroy')
        assert (destroy.returncode, destroy.stdout) == (0, 'vm factory destroyed\n')
        assert not os.path.exists(scratch.template_path)
        assert mount_points_under(scratch.path) == []

    def test_template_failure_cleans_up(self, scratch):
        scratch.write_config(template=True)
        proc = scratch.runtime('factory', 'init', env={'KATA_SIM_FACTORY_FAULT': 'template-fail'})
        assert (proc.returncode, proc.stdout) == (1, '')
        assert proc.stderr == ('failed to launch qemu: exit status 1, error messages from qemu log: qemu-system-x86_64: '
                               'simulated failure (KATA_SIM_FACTORY_FAULT=template-fail)\n')
        assert not os.path.exists(scratch.template_path)
        assert mount_points_under(scratch.path) == []

    def test_cache_status_lines_match_the_client(self, scratch):
        scratch.write_config(cache=2, memory=768, vcpus=1)
        down = scratch.runtime('factory', 'status')
        assert down.stdout == ('failed to call gRPC Status\n: rpc error: code = Unavailable desc = connection error: '
                               'desc = "transport: Error while dialing dial unix %s: connect: no such file or '
                               'directory"\nvm factory not enabled\n' % scratch.endpoint)
        proc = scratch.start_runtime_server()
        try:
            wait_for(lambda: cc.probe_endpoint(scratch.endpoint)[0] == cc.LISTENING, what='the server')
            observed = fm.cache_status(scratch.endpoint, True, 2)
            assert observed['server_pid'] == proc.pid
            expected = 'VM cache server pid = %d\n' % proc.pid + ''.join(
                'VM pid = %d Cpu = 1 Memory = 768MiB\n' % vm['pid'] for vm in observed['vms'])
            assert scratch.runtime('factory', 'status').stdout == expected + 'vm factory not enabled\n'
            assert len(observed['vms']) == 2
            assert os.stat(scratch.endpoint).st_mode & 0o777 == 0o600
            destroy = scratch.runtime('factory', 'destroy')
            assert (destroy.returncode, destroy.stdout) == (0, 'vm factory destroyed\n')
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        assert not os.path.lexists(scratch.endpoint)
        assert not any(pid_running(vm['pid']) for vm in observed['vms'])

    def test_destroy_without_a_server(self, scratch):
        scratch.write_config(cache=1)
        proc = scratch.runtime('factory', 'destroy')
        assert (proc.returncode, proc.stdout) == (1, '')
        assert proc.stderr == ('failed to call gRPC Quit: rpc error: code = Unavailable desc = connection error: desc = '
                               '"transport: Error while dialing dial unix %s: connect: no such file or directory"\n'
                               % scratch.endpoint)

    def test_cache_over_template_refuses_an_existing_socket_and_closes_the_template(self, scratch):
        scratch.write_config(template=True, cache=1)
        scratch.make_stale_socket()
        proc = scratch.runtime('factory', 'init')
        assert (proc.returncode, proc.stderr) == (1, '%s already exist.  Please stop running VMCache server and '
                                                     'remove %s\n' % (scratch.endpoint, scratch.endpoint))
        assert not os.path.exists(scratch.template_path)
        assert mount_points_under(scratch.path) == []

    def test_version(self, scratch):
        proc = scratch.runtime('--version')
        assert proc.stdout == 'kata-runtime  : 3.0.0\n   commit   : <<unknown>>\n   OCI specs: 1.0.2-dev\n'


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

def test_vm_config_nested_too_deeply_is_no_summary():
    # A VM cache server answering Config with JSON nested beyond the parser's recursion limit crashed the module.
    assert fm.summarize_vm_config({'data': b'[' * 100000 + b']' * 100000, 'agent_config': b''}) is None
