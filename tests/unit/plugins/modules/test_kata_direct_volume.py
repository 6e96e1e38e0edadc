# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_direct_volume's main(): real volume directories under tmp_path, and a shim on a real unix socket that
answers the stats and resize requests and logs them."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import stat

import pytest

from ansible_collections.katacontainers.kata.plugins.modules import kata_direct_volume
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv

VOLUME = '/var/lib/kubelet/pv/pvc-1/globalmount'
NAME = 'L3Zhci9saWIva3ViZWxldC9wdi9wdmMtMS9nbG9iYWxtb3VudA=='
MOUNT_INFO = {'volume_type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4',
              'metadata': {'fsGroup': 2000, 'fsGroupChangePolicy': 'OnRootMismatch'}, 'options': ['noatime']}
FILE = (b'{"volume-type":"block","device":"/dev/sdb","fstype":"ext4",'
        b'"metadata":{"fsGroup":"2000","fsGroupChangePolicy":"OnRootMismatch"},"options":["noatime"]}')
RETURNED = {'volume_type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4',
            'metadata': {'fsGroup': '2000', 'fsGroupChangePolicy': 'OnRootMismatch'}, 'options': ['noatime']}
RENDERED = ('{\n  "volume-type": "block",\n  "device": "/dev/sdb",\n  "fstype": "ext4",\n  "metadata": {\n'
            '    "fsGroup": "2000",\n    "fsGroupChangePolicy": "OnRootMismatch"\n  },\n  "options": [\n'
            '    "noatime"\n  ]\n}\n')


@pytest.fixture
def host(tmp_path):
    factory = srv.ServerFactory()
    factory.volumes = str(tmp_path / 'run' / 'kata-containers' / 'shared' / 'direct-volumes')
    factory.sbs = os.path.join(factory.dir, 'sbs')
    factory.tmp = str(tmp_path)
    yield factory
    factory.close()


@pytest.fixture
def run(run_module):
    """``run(args, expect='exit'|'fail')``: kata_direct_volume's main() through the shared runner (conftest.py), which
    returns the result it exited or failed with and the run's ``warnings``."""
    return functools.partial(run_module, kata_direct_volume)


def args_for(host, **kwargs):
    args = {'volume_path': VOLUME, 'mount_info': MOUNT_INFO, 'volume_root': host.volumes, 'sandbox_root': host.sbs,
            'rs_sandbox_root': os.path.join(host.dir, 'kata'), 'timeout': 2}
    args.update(kwargs)
    return args


def tree_digest(root):
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest.update(('%s %o\n' % (os.path.relpath(path, root), st.st_mode)).encode())
            if stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as f:
                    digest.update(f.read())
    return digest.hexdigest()


def mount_info_path(host):
    return os.path.join(host.volumes, NAME, 'mountInfo.json')


# --------------------------------------------------------------------------------------------------------------------
# The record


def test_present_twice(host, run):
    result = run(args_for(host))
    assert result == {'changed': True, 'volume': {'volume_path': VOLUME, 'directory': os.path.join(host.volumes, NAME),
                                                  'mount_info': RETURNED, 'sandbox_id': None}, 'warnings': []}
    with open(mount_info_path(host), 'rb') as f:
        assert f.read() == FILE
    assert stat.S_IMODE(os.stat(mount_info_path(host)).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(mount_info_path(host))).st_mode) == 0o700
    inode = os.stat(mount_info_path(host)).st_ino

    result = run(args_for(host))
    assert result['changed'] is False
    assert os.stat(mount_info_path(host)).st_ino == inode


def test_check_mode_writes_nothing(host, run):
    before = tree_digest(host.tmp)
    result = run(args_for(host, _ansible_check_mode=True, _ansible_diff=True))
    assert result['changed'] is True
    assert result['volume']['mount_info'] == RETURNED
    assert result['diff']['after'] == RENDERED
    assert tree_digest(host.tmp) == before

    run(args_for(host))
    before = tree_digest(host.tmp)
    changed = dict(MOUNT_INFO, options=['ro'])
    assert run(args_for(host, mount_info=changed, _ansible_check_mode=True))['changed'] is True
    assert run(args_for(host, mount_info=MOUNT_INFO, _ansible_check_mode=True))['changed'] is False
    assert run(args_for(host, state='absent', _ansible_check_mode=True))['changed'] is True
    assert tree_digest(host.tmp) == before


def test_diff(host, run):
    result = run(args_for(host, _ansible_diff=True))
    path = mount_info_path(host)
    assert result['diff'] == {'before': '', 'after': RENDERED, 'before_header': '%s (absent)' % path,
                              'after_header': '%s (directory mode 0700, file mode 0600)' % path}
    result = run(args_for(host, mount_info=dict(MOUNT_INFO, metadata=None, options=None), _ansible_diff=True))
    assert result['changed'] is True
    assert result['diff']['before'] == RENDERED
    assert result['diff']['after'] == '{\n  "volume-type": "block",\n  "device": "/dev/sdb",\n  "fstype": "ext4"\n}\n'
    result = run(args_for(host, state='absent', _ansible_diff=True))
    assert result['diff'] == {
        'before': '{\n  "volume-type": "block",\n  "device": "/dev/sdb",\n  "fstype": "ext4"\n}\n', 'after': '',
        'before_header': '%s (directory mode 0700, file mode 0600)' % path, 'after_header': '%s (absent)' % path}


def test_no_diff_without_diff_mode(host, run):
    assert 'diff' not in run(args_for(host))
    assert 'diff' not in run(args_for(host, state='absent'))


def test_diff_of_an_unreadable_file(host, run):
    os.makedirs(os.path.join(host.volumes, NAME))
    with open(mount_info_path(host), 'w') as f:
        f.write('{"device": 5}')
    result = run(args_for(host, _ansible_diff=True))
    assert result['diff']['before'] == ('{"device": 5}\n(kata cannot read it: cannot unmarshal number into Go struct '
                                        'field MountInfo.device of type string)\n')


def test_absent_twice(host, run):
    run(args_for(host))
    run(args_for(host, volume_path='/other'))
    open(os.path.join(host.volumes, NAME, 'sandbox-7'), 'w').close()
    result = run(args_for(host, state='absent', mount_info=None))
    warnings = result.pop('warnings')
    assert result == {'changed': True, 'volume': {'volume_path': VOLUME, 'directory': os.path.join(host.volumes, NAME),
                                                  'mount_info': None, 'sandbox_id': None}}
    assert warnings == ['the removed volume %s was recorded as used by sandbox sandbox-7; its record is gone, the '
                        'volume itself stays attached to the running sandbox' % VOLUME]
    assert os.listdir(host.volumes) == ['L290aGVy']
    assert run(args_for(host, state='absent'))['changed'] is False


def test_existing_non_directory_fails_and_changes_nothing(host, run):
    os.makedirs(host.volumes)
    os.symlink('/etc', os.path.join(host.volumes, NAME))
    before = tree_digest(host.tmp)
    result = run(args_for(host), expect='fail')
    assert result['msg'] == '%s/%s should be a directory' % (host.volumes, NAME)
    assert result['file'] == os.path.join(host.volumes, NAME)
    assert tree_digest(host.tmp) == before


@pytest.mark.parametrize('args, message', [
    ({'volume_path': ''}, 'volume_path: the volume path cannot be empty (kata-runtime would then write into, or '
                          'remove, the whole volume root)'),
    ({'volume_path': '', 'state': 'absent'}, 'volume_path: the volume path cannot be empty (kata-runtime would then '
                                             'write into, or remove, the whole volume root)'),
    ({'mount_info': None}, 'mount_info is required with state=present'),
    ({'mount_info': {'device': '/dev/sdb'}}, 'mount_info.volume_type is required (for example block)'),
    ({'mount_info': {'volume_type': 'block'}}, 'mount_info.device is required (for example /dev/sdb)'),
    ({'mount_info': {'volume_type': 'block', 'device': ''}}, 'mount_info.device: must not be empty'),
    ({'mount_info': {'volume_type': 'block', 'device': '/dev/sdb', 'metadata': {'fsGroup': 'wheel'}}},
     "mount_info.metadata.fsGroup: expected a decimal group ID (0 to 4294967294), got 'wheel'"),
    ({'mount_info': {'volume_type': 'block', 'device': '/dev/sdb', 'metadata': {'fsGroupChangePolicy': 'Always'}}},
     'mount_info.metadata.fsGroupChangePolicy=Always needs mount_info.metadata.fsGroup: kata only honours the policy '
     'together with fsGroup'),
    ({'mount_info': {'volume_type': 'block', 'device': '/dev/sdb',
                     'metadata': {'fsGroup': '1', 'fsGroupChangePolicy': 'Sometimes'}}},
     "mount_info.metadata.fsGroupChangePolicy: expected one of Always, OnRootMismatch, got 'Sometimes'"),
    ({'mount_info': {'volume_type': 'block', 'device': '/dev/sdb', 'metadata': {'ro': ['x']}}},
     "mount_info.metadata.ro: expected a string, got list ['x']"),
    ({'mount_info': {'volume_type': 'block', 'device': '/dev/sdb', 'options': ['ro', '']}},
     'mount_info.options[1]: must not be empty'),
    ({'size': '10 gigs'}, "size: invalid size '10 gigs': expected a number of bytes, optionally with a unit (Ki, Mi, "
                          "Gi, Ti, Pi, Ei for powers of 1024; k, M, G, T, P, E for powers of 1000), like 10Gi or 512M"),
    ({'size': 0}, 'size: the size 0 is out of range: expected 1 to 18446744073709551615 bytes'),
    ({'size': '1.5'}, "size: the size '1.5' is not a whole number of bytes"),
    ({'size': [1]}, 'size: expected a number of bytes or a size string like 10Gi, got list [1]'),
])
def test_invalid_arguments_fail_and_change_nothing(host, args, message, run):
    before = tree_digest(host.tmp)
    result = run(args_for(host, **args), expect='fail')
    assert result['msg'] == message
    assert tree_digest(host.tmp) == before


def test_unknown_mount_info_key_is_refused_by_the_argument_spec(host, run):
    result = run(args_for(host, mount_info={'volume_type': 'block', 'device': '/dev/sdb', 'fs_type': 'x'}),
                 expect='fail')
    assert result['msg'].startswith('Unsupported parameters for (')
    assert result['msg'].endswith('module: mount_info.fs_type. Supported parameters include: device, fstype, metadata, '
                                  'options, volume_type.')


def test_not_root_message(host, world_tmp, unprivileged, run):
    locked = os.path.join(world_tmp, 'locked')
    os.mkdir(locked, 0o555)
    outcome = unprivileged(lambda: run(args_for(host, volume_root=os.path.join(locked, 'dv')), expect='fail'))
    assert outcome[0] == 'return', outcome
    assert 'run the task as root' in outcome[1]['msg']
    assert os.listdir(locked) == []


# --------------------------------------------------------------------------------------------------------------------
# Stats and resize through a shim

STATS = {'usage': [{'available': 9000000000, 'total': 10000000000, 'used': 1000000000, 'unit': 1},
                   {'available': 655349, 'total': 655360, 'used': 11, 'unit': 2}],
         'volume_condition': {'message': 'OK'}}


class FakeShim(object):
    """Answers /direct-volume/stats and /direct-volume/resize like the Go shim, for one device."""

    def __init__(self, device='/dev/sdb', total=10000000000, resize_error=None):
        self.device = device
        self.total = total
        self.resize_error = resize_error

    def behaviour(self, conn, request, stop):
        from urllib.parse import parse_qs, unquote, urlsplit
        parts = urlsplit(request.target)
        if parts.path == '/direct-volume/stats':
            values = parse_qs(parts.query).get('path')
            if not values:
                conn.sendall(srv.answer(400, 'Required parameter path not found'))
                return
            device = unquote(values[0])
            if device != self.device:
                conn.sendall(srv.answer(500, 'mount %s not found in sandbox' % device))
                return
            stats = json.loads(json.dumps(STATS))
            stats['usage'][0]['total'] = self.total
            conn.sendall(srv.answer(200, json.dumps(stats, separators=(',', ':'))))
        elif parts.path == '/direct-volume/resize':
            body = json.loads(request.body)
            if self.resize_error:
                conn.sendall(srv.answer(500, self.resize_error))
                return
            self.total = body['Size']
            conn.sendall(srv.answer(200, ''))
        else:
            conn.sendall(srv.answer(404, '404 page not found\n'))


def attach(run, host, shim, sandbox_id='sb-1'):
    """Record ``sandbox_id`` in the volume directory (as the shim does) and serve its shim socket."""
    run(args_for(host))
    open(os.path.join(host.volumes, NAME, sandbox_id), 'w').close()
    return host.start(shim.behaviour, path=os.path.join(host.sbs, sandbox_id, 'shim-monitor.sock'))


def requests_of(server):
    return [(r.method, r.target, r.body) for r in server.requests]


def test_stats(host, run):
    server = attach(run, host, FakeShim())
    result = run(args_for(host, stats=True))
    assert result['changed'] is False
    assert result['volume']['sandbox_id'] == 'sb-1'
    assert result['volume']['stats'] == STATS
    assert requests_of(server) == [('GET', '/direct-volume/stats?path=%2Fdev%2Fsdb', b'')]


def test_stats_in_check_mode_are_read(host, run):
    server = attach(run, host, FakeShim())
    result = run(args_for(host, stats=True, _ansible_check_mode=True))
    assert result['volume']['stats'] == STATS
    assert len(server.requests) == 1


def test_stats_without_a_sandbox_are_null(host, run):
    result = run(args_for(host, stats=True))
    assert result['volume']['stats'] is None
    assert result['volume']['sandbox_id'] is None
    assert result['warnings'] == []


def test_stats_error_fails_with_the_shim_message(host, run):
    server = attach(run, host, FakeShim(device='/dev/other'))
    result = run(args_for(host, stats=True), expect='fail')
    assert result['msg'] == ('GET http://shim/direct-volume/stats?path=%%2Fdev%%2Fsdb via %s: HTTP 500 Internal Server '
                             'Error: mount /dev/sdb not found in sandbox' % server.path)
    assert result['changed'] is False


def test_sandbox_without_shim_fails(host, run):
    run(args_for(host))
    open(os.path.join(host.volumes, NAME, 'gone'), 'w').close()
    result = run(args_for(host, stats=True), expect='fail')
    assert result['msg'].startswith('no shim socket for sandbox gone: neither %s nor ' % os.path.join(
        host.sbs, 'gone', 'shim-monitor.sock'))


def test_invalid_sandbox_record_fails(host, run):
    run(args_for(host))
    open(os.path.join(host.volumes, NAME, '-bad'), 'w').close()
    result = run(args_for(host, stats=True), expect='fail')
    assert result['msg'] == ("the sandbox recorded for the volume, the entry '-bad' in %s/%s, is not a valid sandbox ID"
                             % (host.volumes, NAME))


@pytest.mark.parametrize('size', [10000000000, '10G', '9Gi', '1k'])
def test_size_not_larger_sends_no_resize(host, size, run):
    server = attach(run, host, FakeShim(total=10000000000))
    result = run(args_for(host, size=size))
    assert result['changed'] is False
    assert 'stats' not in result['volume']
    assert [m for m, _t, _b in requests_of(server)] == ['GET']


def test_size_larger_resizes_once(host, run):
    shim = FakeShim(total=10000000000)
    server = attach(run, host, shim)
    result = run(args_for(host, size='20Gi', stats=True, _ansible_diff=True))
    assert result['changed'] is True
    assert requests_of(server) == [
        ('GET', '/direct-volume/stats?path=%2Fdev%2Fsdb', b''),
        ('POST', '/direct-volume/resize', b'{"VolumePath":"/dev/sdb","Size":21474836480}'),
        ('GET', '/direct-volume/stats?path=%2Fdev%2Fsdb', b''),
    ]
    assert server.requests[1].headers['content-type'] == 'application/json'
    assert result['volume']['stats']['usage'][0]['total'] == 21474836480
    assert result['diff'][1] == {'before': 'size: 10000000000\n', 'after': 'size: 21474836480\n',
                                 'before_header': '/dev/sdb (guest file system size)',
                                 'after_header': '/dev/sdb (guest file system size)'}
    assert result['diff'][0]['before'] == result['diff'][0]['after'] == RENDERED

    del server.requests[:]
    result = run(args_for(host, size='20Gi'))
    assert result['changed'] is False
    assert [m for m, _t, _b in requests_of(server)] == ['GET']


def test_size_in_check_mode_sends_no_resize(host, run):
    server = attach(run, host, FakeShim(total=10000000000))
    result = run(args_for(host, size='20Gi', _ansible_check_mode=True))
    assert result['changed'] is True
    assert [m for m, _t, _b in requests_of(server)] == ['GET']


def test_resize_not_supported_by_the_agent(host, run):
    server = attach(run, host, FakeShim(resize_error='rpc error: code = NotFound desc = '
                                                     '/grpc.AgentService/ResizeVolume is not supported'))
    result = run(args_for(host, size='20Gi'), expect='fail')
    assert result['msg'] == ('cannot resize /dev/sdb to 21474836480 bytes: the Kata agent of sandbox sb-1 does not '
                             'support resizing volumes (kata-agent 3.0.0 up to at least 4.0.0 does not implement '
                             'ResizeVolume); the agent said: rpc error: code = NotFound desc = '
                             '/grpc.AgentService/ResizeVolume is not supported')
    assert result['changed'] is False
    assert result['volume']['sandbox_id'] == 'sb-1'
    assert [m for m, _t, _b in requests_of(server)] == ['GET', 'POST']


def test_resize_failure_after_a_rewrite_reports_changed(host, run):
    attach(run, host, FakeShim(resize_error='boom'))
    result = run(args_for(host, size='20Gi', mount_info=dict(MOUNT_INFO, options=['ro'])), expect='fail')
    assert result['changed'] is True
    assert result['msg'] == ('cannot resize /dev/sdb to 21474836480 bytes in sandbox sb-1: POST /direct-volume/resize '
                             'answered HTTP 500: boom')


def test_size_without_a_sandbox_warns(host, run):
    result = run(args_for(host, size='20Gi'))
    assert result['changed'] is True
    assert result['warnings'] == ['size is not applied: no sandbox uses the volume %s yet, and only a sandbox can '
                                  'resize it' % VOLUME]


def test_explicit_shim_socket(host, run):
    run(args_for(host))
    open(os.path.join(host.volumes, NAME, 'sb-2'), 'w').close()
    server = host.start(FakeShim().behaviour)
    result = run(args_for(host, stats=True, shim_socket=server.path))
    assert result['volume']['stats'] == STATS
    assert len(server.requests) == 1


# --------------------------------------------------------------------------------------------------------------------
# Found by the robustness suite (tests/robustness)


def test_volume_root_with_nul_names_the_option(host, run):
    result = run(args_for(host, volume_root='/run/kata\0x'), expect='fail')
    assert result['msg'] == "volume_root: invalid path '/run/kata\\x00x': it contains a NUL character"


def test_mount_info_nested_too_deeply_is_reported_as_invalid(host, run):
    run(args_for(host))
    with open(mount_info_path(host), 'wb') as f:
        f.write(b'{"volume-type": ' + b'[' * 100000 + b']' * 100000 + b'}')
    result = run(args_for(host))
    assert result['changed'] is True
    with open(mount_info_path(host), 'rb') as f:
        assert f.read() == FILE


@pytest.mark.parametrize('volume_path, words', [
    ('relative/vol', "'relative/vol' is not absolute"),
    ('/a//b', "'/a//b' is not in its clean form '/a/b'"),
    ('/a/b/', "'/a/b/' is not in its clean form '/a/b'"),
])
def test_volume_path_kata_could_never_match_is_refused(host, volume_path, words, run):
    """kata looks a volume up by a bind mount's source (absolute, clean): a record under another path is never used.
    state=absent still removes such a record (written by kata-runtime or an earlier version of the module)."""
    result = run(args_for(host, volume_path=volume_path), expect='fail')
    assert result['msg'].startswith('volume_path: the volume path %s' % words), result['msg']
    assert not os.path.exists(host.volumes) or os.listdir(host.volumes) == []
    directory = os.path.join(host.volumes, base64.urlsafe_b64encode(volume_path.encode()).decode())
    os.makedirs(directory, 0o700)
    with open(os.path.join(directory, 'mountInfo.json'), 'w') as f:
        f.write('{"volume-type":"block","device":"/dev/sdb","fstype":"ext4"}')
    assert run(args_for(host, volume_path=volume_path, state='absent'))['changed'] is True
    assert os.listdir(host.volumes) == []
