# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_direct_volume: kata's on-disk format, mount info validation, sizes, atomic and symlink-safe writes, removal,
concurrency (real processes), and the stats/resize requests against real unix-socket servers."""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import stat
import threading

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _direct_volume as dv
from ansible_collections.katacontainers.kata.plugins.module_utils import _mount_info as mi
from ansible_collections.katacontainers.kata.plugins.module_utils import _volume_store as vs
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, KataError, ShimError
from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import ShimClient
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv

try:
    from hypothesis import given, settings, strategies as st
    HAS_HYPOTHESIS = True
except ImportError:
    HAS_HYPOTHESIS = False

BLOCK = {'volume_type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4', 'metadata': None, 'options': None}
BLOCK_JSON = b'{"volume-type":"block","device":"/dev/sdb","fstype":"ext4"}'


def tree_digest(root):
    """A digest of everything under ``root``: names, types, modes, link targets and file contents."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            st_ = os.lstat(path)
            digest.update(('%s %o\n' % (os.path.relpath(path, root), st_.st_mode)).encode('utf-8', 'surrogateescape'))
            if stat.S_ISLNK(st_.st_mode):
                digest.update(os.readlink(path).encode())
            elif stat.S_ISREG(st_.st_mode):
                with open(path, 'rb') as f:
                    digest.update(f.read())
    return digest.hexdigest()


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


# --------------------------------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize('path, name', [
    ('/a/b', 'L2EvYg=='),  # observed with kata-runtime 3.0.0
    ('../../etc/passwd', 'Li4vLi4vZXRjL3Bhc3N3ZA=='),
    ('/', 'Lw=='),
    ('/dev/sdb', 'L2Rldi9zZGI='),
    ('/data/\u00e9t\u00e9', 'L2RhdGEvw6l0w6k='),
    ('/?>', 'Lz8-'),  # URL-safe alphabet: "-" where standard base64 has "+"
    ('/??', 'Lz8_'),  # and "_" where it has "/"
])
def test_encode_volume_path(path, name):
    assert vs.encode_volume_path(path) == name
    assert vs.decode_volume_name(name) == path
    assert vs.volume_directory('/root/dv', path) == '/root/dv/' + name


def test_encode_non_utf8_path_round_trips():
    path = os.fsdecode(b'/mnt/\xff\xfe')
    assert vs.encode_volume_path(path) == 'L21udC___g=='
    assert vs.decode_volume_name('L21udC___g==') == path


if HAS_HYPOTHESIS:
    @settings(max_examples=300, deadline=None)
    @given(st.text(min_size=1).filter(lambda s: '\0' not in s))
    def test_encoded_name_is_one_safe_component(path):
        name = vs.encode_volume_path(path)
        assert name not in ('', '.', '..')
        assert '/' not in name and '\0' not in name
        assert set(name) <= set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=')
        assert os.path.dirname(os.path.join('/r', name)) == '/r'
        assert vs.decode_volume_name(name) == path


@pytest.mark.parametrize('name', ['', 'L2EvYg=', 'L2Ev Yg==', 'L2EvYg===', 'Lw+=', 'YR==', '.kata-removing-x'])
def test_decode_rejects_names_kata_does_not_write(name):
    with pytest.raises(ValueError):
        vs.decode_volume_name(name)


@pytest.mark.parametrize('value, message', [
    ('', 'volume_path: the volume path cannot be empty (kata-runtime would then write into, or remove, the whole '
         'volume root)'),
    ('/a\0b', "volume_path: invalid volume path '/a\\x00b': it contains a NUL character"),
    (5, 'volume_path: expected a string, got int 5'),
    ('/' + 'x' * 189, "volume_path: the volume path '/" + 'x' * 58 + "... is too long: its encoded directory name "
                      "would be 256 bytes, more than the 255 a file name may have (paths of at most 189 bytes can be "
                      "recorded)"),
])
def test_validate_volume_path_rejects(value, message):
    with pytest.raises(ArgumentError) as exc_info:
        vs.validate_volume_path(value)
    assert exc_info.value.msg == message


def test_validate_volume_path_longest():
    path = '/' + 'x' * 188
    assert vs.validate_volume_path(path) == path
    assert len(vs.encode_volume_path(path)) == 252


# --------------------------------------------------------------------------------------------------------------------
# Mount info


def test_build_mount_info_full():
    info = mi.build_mount_info({'volume_type': 'block', 'device': '/dev/sdb', 'fstype': 'xfs',
                                'metadata': {'fsGroupChangePolicy': 'Always', 'fsGroup': 2000, 'x': ''},
                                'options': ['ro', 'noatime']})
    assert info == {'volume-type': 'block', 'device': '/dev/sdb', 'fstype': 'xfs',
                    'metadata': {'fsGroup': '2000', 'fsGroupChangePolicy': 'Always', 'x': ''},
                    'options': ['ro', 'noatime']}
    assert list(info['metadata']) == ['fsGroup', 'fsGroupChangePolicy', 'x']


def test_build_mount_info_minimal_leaves_out_empty_metadata_and_options():
    info = mi.build_mount_info({'volume_type': 'block', 'device': '/dev/sdb', 'metadata': {}, 'options': []})
    assert info == {'volume-type': 'block', 'device': '/dev/sdb', 'fstype': ''}
    assert mi.dump_mount_info(info) == b'{"volume-type":"block","device":"/dev/sdb","fstype":""}'


@pytest.mark.parametrize('change, message', [
    ({'volume_type': None}, 'mount_info.volume_type is required (for example block)'),
    ({'device': None}, 'mount_info.device is required (for example /dev/sdb)'),
    ({'volume_type': ''}, 'mount_info.volume_type: must not be empty'),
    ({'device': ''}, 'mount_info.device: must not be empty'),
    ({'device': 7}, 'mount_info.device: expected a string, got int 7'),
    ({'device': '/dev/a\0'}, "mount_info.device: invalid value '/dev/a\\x00': it contains a NUL character"),
    ({'fstype': ['ext4']}, "mount_info.fstype: expected a string, got list ['ext4']"),
    ({'metadata': 'fsGroup'}, "mount_info.metadata: expected a dictionary of strings, got str 'fsGroup'"),
    ({'metadata': {'fsGroup': 'staff'}}, "mount_info.metadata.fsGroup: expected a decimal group ID (0 to 4294967294), "
                                         "got 'staff'"),
    ({'metadata': {'fsGroup': '-1'}}, "mount_info.metadata.fsGroup: expected a decimal group ID (0 to 4294967294), "
                                      "got '-1'"),
    ({'metadata': {'fsGroup': -1}}, "mount_info.metadata.fsGroup: expected a decimal group ID (0 to 4294967294), "
                                    "got '-1'"),
    ({'metadata': {'fsGroup': '4294967295'}}, "mount_info.metadata.fsGroup: expected a decimal group ID (0 to "
                                              "4294967294), got '4294967295'"),
    ({'metadata': {'fsGroup': '1000', 'fsGroupChangePolicy': 'Never'}},
     "mount_info.metadata.fsGroupChangePolicy: expected one of Always, OnRootMismatch, got 'Never'"),
    ({'metadata': {'fsGroupChangePolicy': 'Always'}},
     'mount_info.metadata.fsGroupChangePolicy=Always needs mount_info.metadata.fsGroup: kata only honours the policy '
     'together with fsGroup'),
    ({'metadata': {'ro': True}}, 'mount_info.metadata.ro: expected a string, got bool True'),
    ({'metadata': {'list': ['a']}}, "mount_info.metadata.list: expected a string, got list ['a']"),
    ({'options': 'ro'}, "mount_info.options: expected a list of strings, got str 'ro'"),
    ({'options': ['ro', '']}, 'mount_info.options[1]: must not be empty'),
    ({'options': ['ro', 3]}, 'mount_info.options[1]: expected a string, got int 3'),
    ({'size': 3}, 'mount_info: unknown keys size; expected volume_type, device, fstype, metadata, options'),
])
def test_build_mount_info_rejects(change, message):
    value = dict(BLOCK)
    value.update(change)
    with pytest.raises(ArgumentError) as exc_info:
        mi.build_mount_info(value)
    assert exc_info.value.msg == message


def test_build_mount_info_needs_a_dict():
    with pytest.raises(ArgumentError) as exc_info:
        mi.build_mount_info('{"device": "/dev/sdb"}')
    assert exc_info.value.msg == 'mount_info: expected a dictionary, got str \'{"device": "/dev/sdb"}\''


def test_dump_mount_info_is_go_json_marshal():
    info = mi.build_mount_info({'volume_type': 'block', 'device': '/dev/disk/by-id/a&b<c>', 'fstype': 'ext4',
                                'metadata': {'z': '\u2028', 'a': '\u00e9'}, 'options': ['ro']})
    # Go: struct order, sorted map keys, HTML characters and U+2028/2029 escaped, other non-ASCII as UTF-8.
    assert mi.dump_mount_info(info) == (
        b'{"volume-type":"block","device":"/dev/disk/by-id/a\\u0026b\\u003cc\\u003e","fstype":"ext4",'
        b'"metadata":{"a":"\xc3\xa9","z":"\\u2028"},"options":["ro"]}')
    assert mi.parse_mount_info(mi.dump_mount_info(info)) == info


@pytest.mark.parametrize('data, expected', [
    (BLOCK_JSON, {'volume-type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4'}),
    # As kata-runtime 3.0.0 wrote what the user gave: spaces, empty metadata and options, unknown keys, other case.
    (b'{ "Volume-Type": "block", "DEVICE": "/dev/sdb", "fsType": "ext4", "metadata": {}, "options": [], "x": 1 }\n',
     {'volume-type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4'}),
    (b'{"device":"/dev/a","device":"/dev/b","Device":"/dev/c"}', {'volume-type': '', 'device': '/dev/c', 'fstype': ''}),
    (b'{"device":null,"metadata":null,"options":null}', {'volume-type': '', 'device': '', 'fstype': ''}),
    (b'null', {'volume-type': '', 'device': '', 'fstype': ''}),
    (b'{"metadata":{"fsGroup":"1","b":null},"options":["ro",null]}',
     {'volume-type': '', 'device': '', 'fstype': '', 'metadata': {'b': '', 'fsGroup': '1'}, 'options': ['ro', '']}),
])
def test_parse_mount_info_reads_like_go(data, expected):
    assert mi.parse_mount_info(data) == expected


@pytest.mark.parametrize('data, message', [
    (b'{"device": 5}', 'cannot unmarshal number into Go struct field MountInfo.device of type string'),
    (b'{"Options": "ro"}', 'cannot unmarshal string into Go struct field MountInfo.options of type []string'),
    (b'{"metadata": {"a": 1}}', 'cannot unmarshal object into Go struct field MountInfo.metadata of type '
                                'map[string]string'),
    (b'{"volume-type": true}', 'cannot unmarshal bool into Go struct field MountInfo.volume-type of type string'),
    (b'[1, 2]', 'cannot unmarshal array into Go value of type MountInfo'),
    (b'"x"', 'cannot unmarshal string into Go value of type MountInfo'),
    (b'\xff', 'it is not UTF-8'),
])
def test_parse_mount_info_rejects_like_go(data, message):
    with pytest.raises(ValueError) as exc_info:
        mi.parse_mount_info(data)
    assert str(exc_info.value) == message


def test_parse_mount_info_invalid_json():
    with pytest.raises(ValueError) as exc_info:
        mi.parse_mount_info(b'{"device": "/dev/sdb",')
    assert str(exc_info.value).startswith('it is not valid JSON: ')


def test_render_mount_info():
    assert mi.render_mount_info(None) == ''
    assert mi.render_mount_info({'volume-type': 'block', 'device': '/dev/sdb', 'fstype': '', 'options': ['ro']}) == (
        '{\n  "volume-type": "block",\n  "device": "/dev/sdb",\n  "fstype": "",\n  "options": [\n    "ro"\n  ]\n}\n')


def test_mount_info_option_form():
    assert mi.mount_info_option_form({'volume-type': 'block', 'device': '/dev/sdb', 'fstype': ''}) == {
        'volume_type': 'block', 'device': '/dev/sdb', 'fstype': '', 'metadata': {}, 'options': []}
    assert mi.mount_info_option_form(None) is None


# --------------------------------------------------------------------------------------------------------------------
# Sizes


@pytest.mark.parametrize('value, expected', [
    (1, 1),
    (10737418240, 10737418240),
    ('4096', 4096),
    ('10Gi', 10 * 1024 ** 3),
    ('10G', 10 * 1000 ** 3),
    ('512M', 512 * 1000 ** 2),
    ('512Mi', 512 * 1024 ** 2),
    ('512MiB', 512 * 1024 ** 2),
    ('10GB', 10 * 1000 ** 3),
    ('1k', 1000),
    ('1K', 1000),
    ('1Ki', 1024),
    ('1ki', 1024),
    ('2Ti', 2 * 1024 ** 4),
    ('1Pi', 1024 ** 5),
    ('1E', 1000 ** 6),
    ('1.5Gi', 1610612736),
    ('0.5Ki', 512),
    (' 10 Gi ', 10 * 1024 ** 3),
    ('100B', 100),
    ('15Ei', 15 * 1024 ** 6),
    (2 ** 64 - 1, 2 ** 64 - 1),
])
def test_parse_size(value, expected):
    assert dv.parse_size(value) == expected


@pytest.mark.parametrize('value, message', [
    ('10 gigabytes', "size: invalid size '10 gigabytes': expected a number of bytes, optionally with a unit (Ki, Mi, "
                     "Gi, Ti, Pi, Ei for powers of 1024; k, M, G, T, P, E for powers of 1000), like 10Gi or 512M"),
    ('-1', "size: invalid size '-1': expected a number of bytes, optionally with a unit (Ki, Mi, Gi, Ti, Pi, Ei for "
           "powers of 1024; k, M, G, T, P, E for powers of 1000), like 10Gi or 512M"),
    ('1.5', "size: the size '1.5' is not a whole number of bytes"),
    ('0.0001k', "size: the size '0.0001k' is not a whole number of bytes"),
    (0, 'size: the size 0 is out of range: expected 1 to 18446744073709551615 bytes'),
    ('0Gi', "size: the size '0Gi' is out of range: expected 1 to 18446744073709551615 bytes"),
    ('16Ei', "size: the size '16Ei' is out of range: expected 1 to 18446744073709551615 bytes"),
    (-5, 'size: the size -5 is out of range: expected 1 to 18446744073709551615 bytes'),
    (True, 'size: expected a number of bytes or a size string like 10Gi, got bool True'),
    (1.5, 'size: expected a number of bytes or a size string like 10Gi, got float 1.5'),
    ('', "size: invalid size '': expected a number of bytes, optionally with a unit (Ki, Mi, Gi, Ti, Pi, Ei for "
         "powers of 1024; k, M, G, T, P, E for powers of 1000), like 10Gi or 512M"),
])
def test_parse_size_rejects(value, message):
    with pytest.raises(ArgumentError) as exc_info:
        dv.parse_size(value)
    assert exc_info.value.msg == message


# --------------------------------------------------------------------------------------------------------------------
# Writing the record


@pytest.fixture
def root(tmp_path):
    return str(tmp_path / 'run' / 'kata-containers' / 'shared' / 'direct-volumes')


def wanted(**change):
    value = dict(BLOCK)
    value.update(change)
    return mi.build_mount_info(value)


def test_present_creates_kata_layout(root, tmp_path):
    old_umask = os.umask(0o022)
    try:
        outcome = vs.ensure_present(root, '/a/b', wanted())
    finally:
        os.umask(old_umask)
    directory = os.path.join(root, 'L2EvYg==')
    assert outcome['changed'] is True
    assert outcome['before']['entry'] == 'missing'
    assert outcome['after']['mount_info'] == wanted()
    assert read(os.path.join(directory, 'mountInfo.json')) == BLOCK_JSON
    assert mode(directory) == 0o700
    assert mode(os.path.join(directory, 'mountInfo.json')) == 0o600
    # Missing parents are created 0700, like Go's MkdirAll(path, 0700) in kata.
    for path in (root, os.path.dirname(root), os.path.dirname(os.path.dirname(root))):
        assert mode(path) == 0o700
    assert os.listdir(root) == ['L2EvYg==']
    assert os.listdir(directory) == ['mountInfo.json']


def test_present_twice_is_unchanged_and_does_not_rewrite(root):
    vs.ensure_present(root, '/a/b', wanted())
    path = os.path.join(root, 'L2EvYg==', 'mountInfo.json')
    inode = os.stat(path).st_ino
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['changed'] is False
    assert os.stat(path).st_ino == inode


def test_equivalent_file_written_by_kata_is_kept(root):
    directory = os.path.join(root, 'L2EvYg==')
    os.makedirs(directory, 0o700)
    path = os.path.join(directory, 'mountInfo.json')
    text = b'{"volume-type": "block", "Device": "/dev/sdb", "fstype": "ext4", "metadata": {}, "options": []}'
    with open(path, 'wb') as f:
        f.write(text)
    os.chmod(path, 0o600)
    assert vs.ensure_present(root, '/a/b', wanted())['changed'] is False
    assert read(path) == text


def test_different_content_is_rewritten(root):
    vs.ensure_present(root, '/a/b', wanted())
    outcome = vs.ensure_present(root, '/a/b', wanted(options=['ro'], metadata={'fsGroup': '7'}))
    assert outcome['changed'] is True
    assert outcome['before']['mount_info'] == wanted()
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == (
        b'{"volume-type":"block","device":"/dev/sdb","fstype":"ext4","metadata":{"fsGroup":"7"},"options":["ro"]}')


def test_wrong_modes_are_fixed(root):
    vs.ensure_present(root, '/a/b', wanted())
    directory = os.path.join(root, 'L2EvYg==')
    os.chmod(directory, 0o755)
    os.chmod(os.path.join(directory, 'mountInfo.json'), 0o644)
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['changed'] is True
    assert (outcome['before']['dir_mode'], outcome['before']['file_mode']) == (0o755, 0o644)
    assert mode(directory) == 0o700
    assert mode(os.path.join(directory, 'mountInfo.json')) == 0o600
    assert vs.ensure_present(root, '/a/b', wanted())['changed'] is False


@pytest.mark.parametrize('content, state', [
    (b'{"volume-type": "block",', 'invalid'),
    (b'{"device": 5}', 'invalid'),
    (b'', 'invalid'),
])
def test_unreadable_content_is_rewritten(root, content, state):
    directory = os.path.join(root, 'L2EvYg==')
    os.makedirs(directory, 0o700)
    with open(os.path.join(directory, 'mountInfo.json'), 'wb') as f:
        f.write(content)
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['changed'] is True
    assert outcome['before']['mount_info_state'] == state
    assert read(os.path.join(directory, 'mountInfo.json')) == BLOCK_JSON


def test_empty_directory_left_by_kata_gets_the_file(root):
    os.makedirs(os.path.join(root, 'L2EvYg=='), 0o700)
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['changed'] is True
    assert outcome['before']['entry'] == 'directory'
    assert outcome['before']['mount_info_state'] == 'missing'
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON


def test_check_mode_writes_nothing(root, tmp_path):
    before = tree_digest(str(tmp_path))
    outcome = vs.ensure_present(root, '/a/b', wanted(), check_mode=True)
    assert outcome['changed'] is True
    assert tree_digest(str(tmp_path)) == before
    assert not os.path.exists(root)

    vs.ensure_present(root, '/a/b', wanted())
    os.chmod(os.path.join(root, 'L2EvYg=='), 0o750)
    before = tree_digest(str(tmp_path))
    assert vs.ensure_present(root, '/a/b', wanted(fstype='xfs'), check_mode=True)['changed'] is True
    assert vs.ensure_absent(root, '/a/b', check_mode=True)['changed'] is True
    assert tree_digest(str(tmp_path)) == before


def test_sandbox_is_found_like_kata(root):
    vs.ensure_present(root, '/a/b', wanted())
    directory = os.path.join(root, 'L2EvYg==')
    assert vs.inspect_volume(root, '/a/b')['sandbox_id'] is None
    for name in ('sandbox-b', 'sandbox-a'):
        open(os.path.join(directory, name), 'w').close()
    # The first entry by name other than mountInfo.json (which sorts before both).
    assert vs.inspect_volume(root, '/a/b')['sandbox_id'] == 'sandbox-a'
    open(os.path.join(directory, 'Asandbox'), 'w').close()
    assert vs.inspect_volume(root, '/a/b')['sandbox_id'] == 'Asandbox'
    outcome = vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
    assert outcome['after']['sandbox_id'] == 'Asandbox'
    assert sorted(os.listdir(directory)) == ['Asandbox', 'mountInfo.json', 'sandbox-a', 'sandbox-b']


def test_no_temporary_file_is_ever_in_the_volume_directory(root, monkeypatch):
    # kata takes the first entry of the volume directory other than mountInfo.json for the sandbox ID: look at the
    # directory at the moment of the rename. A new volume is renamed into place whole (its directory holding the
    # complete mountInfo.json, under a temporary name no reader takes); an existing one gets its file by rename.
    seen = []
    real_rename = os.rename

    def spy(src, dst, **kwargs):
        seen.append((src, dst, sorted(os.listdir(kwargs['dst_dir_fd'])), sorted(os.listdir(kwargs['src_dir_fd']))))
        if src.startswith('.kata-creating-'):
            seen.append(read(os.path.join(root, src, 'mountInfo.json')))
            seen.append(sorted(os.listdir(os.path.join(root, src))))
        return real_rename(src, dst, **kwargs)
    monkeypatch.setattr(os, 'rename', spy)
    vs.ensure_present(root, '/a/b', wanted())
    src, dst, in_dst, in_src = seen[0]
    assert src.startswith('.kata-creating-') and dst == 'L2EvYg==' and in_dst == in_src == [src]
    assert seen[1:] == [BLOCK_JSON, ['mountInfo.json']]
    assert os.listdir(root) == ['L2EvYg==']
    assert mode(os.path.join(root, 'L2EvYg==')) == 0o700
    del seen[:]
    vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
    src, dst, in_dst, in_src = seen[0]
    assert src.startswith('.kata-mountinfo-') and dst == 'mountInfo.json'
    assert in_dst == ['mountInfo.json'] and in_src == sorted([src, 'L2EvYg=='])
    assert os.listdir(root) == ['L2EvYg==']


def test_failed_write_leaves_no_temporary_file(root, monkeypatch):
    def fail(fd):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted())
    assert exc_info.value.msg == 'cannot write %s/L2EvYg==/mountInfo.json: No space left on device' % root
    # A new volume is created whole or not at all.
    assert os.listdir(root) == []
    monkeypatch.undo()
    vs.ensure_present(root, '/a/b', wanted())
    monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
    assert exc_info.value.msg == 'cannot write %s/L2EvYg==/mountInfo.json: No space left on device' % root
    assert os.listdir(root) == ['L2EvYg==']
    assert os.listdir(os.path.join(root, 'L2EvYg==')) == ['mountInfo.json']
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON


# --------------------------------------------------------------------------------------------------------------------
# Symbolic links and other things planted in the way


def test_file_at_volume_directory_is_an_error(root, tmp_path):
    os.makedirs(root)
    with open(os.path.join(root, 'L2EvYg=='), 'w') as f:
        f.write('x')
    before = tree_digest(str(tmp_path))
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted())
    assert exc_info.value.msg == '%s/L2EvYg== should be a directory' % root
    with pytest.raises(KataError):
        vs.ensure_present(root, '/a/b', wanted(), check_mode=True)
    assert tree_digest(str(tmp_path)) == before


def test_symlink_at_volume_directory_is_not_followed(root, tmp_path):
    os.makedirs(root)
    target = tmp_path / 'elsewhere'
    target.mkdir()
    os.symlink(str(target), os.path.join(root, 'L2EvYg=='))
    before = tree_digest(str(tmp_path))
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted())
    assert exc_info.value.msg == '%s/L2EvYg== should be a directory' % root
    assert tree_digest(str(tmp_path)) == before
    assert os.listdir(str(target)) == []


def test_symlink_swapped_in_after_the_check_is_not_followed(root, tmp_path, monkeypatch):
    # The race: a symbolic link appears at the volume's name after the check, before the new record is renamed into
    # place (rename(2) does not replace it with a directory), or before an existing record is opened.
    target = tmp_path / 'elsewhere'
    target.mkdir()
    real_rename = os.rename

    def swap(src, dst, **kwargs):
        if src.startswith('.kata-creating-'):
            os.symlink(str(target), os.path.join(root, dst))
        return real_rename(src, dst, **kwargs)
    monkeypatch.setattr(os, 'rename', swap)
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted())
    assert exc_info.value.msg == '%s/L2EvYg== should be a directory' % root
    assert os.listdir(str(target)) == []
    assert os.listdir(root) == ['L2EvYg=='] and os.path.islink(os.path.join(root, 'L2EvYg=='))
    monkeypatch.undo()
    os.unlink(os.path.join(root, 'L2EvYg=='))
    vs.ensure_present(root, '/a/b', wanted())
    real_lstat = vs._lstat_at  # pylint: disable=protected-access

    def lstat_then_swap(name, dir_fd):
        st = real_lstat(name, dir_fd)
        if name == 'L2EvYg==' and not os.path.islink(os.path.join(root, name)):
            vs._remove_tree_at(dir_fd, name)  # pylint: disable=protected-access
            os.symlink(str(target), os.path.join(root, name))
        return st
    monkeypatch.setattr(vs, '_lstat_at', lstat_then_swap)
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
    assert exc_info.value.msg == '%s/L2EvYg== should be a directory' % root
    assert os.listdir(str(target)) == []


def test_symlink_at_mount_info_is_replaced_not_followed(root, tmp_path):
    directory = os.path.join(root, 'L2EvYg==')
    os.makedirs(directory, 0o700)
    victim = tmp_path / 'passwd'
    victim.write_bytes(b'root:x:0:0\n')
    os.symlink(str(victim), os.path.join(directory, 'mountInfo.json'))
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['changed'] is True
    assert outcome['before']['mount_info_state'] == 'symlink'
    assert victim.read_bytes() == b'root:x:0:0\n'
    path = os.path.join(directory, 'mountInfo.json')
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert read(path) == BLOCK_JSON


def test_symlink_at_mount_info_in_check_mode(root, tmp_path):
    directory = os.path.join(root, 'L2EvYg==')
    os.makedirs(directory, 0o700)
    os.symlink('/etc/hostname', os.path.join(directory, 'mountInfo.json'))
    before = tree_digest(str(tmp_path))
    assert vs.ensure_present(root, '/a/b', wanted(), check_mode=True)['changed'] is True
    assert tree_digest(str(tmp_path)) == before


def test_fifo_at_mount_info_does_not_block(root):
    directory = os.path.join(root, 'L2EvYg==')
    os.makedirs(directory, 0o700)
    os.mkfifo(os.path.join(directory, 'mountInfo.json'))
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['before']['mount_info_state'] == 'other'
    assert read(os.path.join(directory, 'mountInfo.json')) == BLOCK_JSON


def test_directory_at_mount_info_is_an_error(root):
    directory = os.path.join(root, 'L2EvYg==')
    os.makedirs(os.path.join(directory, 'mountInfo.json'))
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted())
    assert exc_info.value.msg == 'cannot write %s/mountInfo.json: it is a directory' % directory
    assert os.listdir(root) == ['L2EvYg==']


# --------------------------------------------------------------------------------------------------------------------
# Removal


def test_absent_removes_only_that_volume(root):
    vs.ensure_present(root, '/a/b', wanted())
    vs.ensure_present(root, '/a/c', wanted())
    directory = os.path.join(root, 'L2EvYg==')
    open(os.path.join(directory, 'sandbox-1'), 'w').close()
    outcome = vs.ensure_absent(root, '/a/b')
    assert outcome['changed'] is True
    assert outcome['before']['sandbox_id'] == 'sandbox-1'
    assert outcome['before']['mount_info'] == wanted()
    assert os.listdir(root) == [vs.encode_volume_path('/a/c')]
    assert vs.ensure_absent(root, '/a/b') == {'changed': False, 'before': vs.inspect_volume(root, '/a/b')}


def test_absent_with_missing_root(root):
    outcome = vs.ensure_absent(root, '/a/b')
    assert outcome['changed'] is False
    assert not os.path.exists(root)


def test_absent_does_not_follow_links_inside(root, tmp_path):
    vs.ensure_present(root, '/a/b', wanted())
    directory = os.path.join(root, 'L2EvYg==')
    keep = tmp_path / 'keep'
    keep.mkdir()
    (keep / 'data').write_bytes(b'precious')
    os.symlink(str(keep), os.path.join(directory, 'link-to-dir'))
    os.makedirs(os.path.join(directory, 'sub', 'deeper'))
    os.symlink(str(keep / 'data'), os.path.join(directory, 'sub', 'deeper', 'link-to-file'))
    assert vs.ensure_absent(root, '/a/b')['changed'] is True
    assert os.listdir(root) == []
    assert (keep / 'data').read_bytes() == b'precious'


def test_absent_removes_a_planted_symlink_itself(root, tmp_path):
    os.makedirs(root)
    keep = tmp_path / 'keep'
    keep.mkdir()
    (keep / 'mountInfo.json').write_bytes(b'{}')
    os.symlink(str(keep), os.path.join(root, 'L2EvYg=='))
    outcome = vs.ensure_absent(root, '/a/b')
    assert outcome['changed'] is True
    assert outcome['before']['entry'] == 'other'
    assert os.listdir(root) == []
    assert (keep / 'mountInfo.json').read_bytes() == b'{}'


def test_absent_removes_a_planted_file(root):
    os.makedirs(root)
    open(os.path.join(root, 'L2EvYg=='), 'w').close()
    assert vs.ensure_absent(root, '/a/b')['changed'] is True
    assert os.listdir(root) == []


# --------------------------------------------------------------------------------------------------------------------
# Concurrency: real processes


def _present_worker(args):
    root, volume_path, device, rounds = args
    for _i in range(rounds):
        vs.ensure_present(root, volume_path, mi.build_mount_info({'volume_type': 'block', 'device': device}))
    return volume_path


def test_parallel_runs_leave_valid_files_only(root):
    jobs = [(root, '/vol/%02d' % i, '/dev/disk%02d' % i, 3) for i in range(20)]
    jobs += [(root, '/vol/shared', '/dev/shared%d' % i, 20) for i in range(5)]
    context = multiprocessing.get_context('fork')
    with context.Pool(25) as pool:
        done = pool.map(_present_worker, jobs)
    assert sorted(set(done)) == sorted(set(job[1] for job in jobs))
    names = sorted(os.listdir(root))
    assert names == sorted(vs.encode_volume_path(job[1]) for job in jobs[:21])
    for i in range(20):
        path = os.path.join(root, vs.encode_volume_path('/vol/%02d' % i), 'mountInfo.json')
        assert json.loads(read(path)) == {'volume-type': 'block', 'device': '/dev/disk%02d' % i, 'fstype': ''}
    shared = os.path.join(root, vs.encode_volume_path('/vol/shared'))
    assert os.listdir(shared) == ['mountInfo.json']
    assert json.loads(read(os.path.join(shared, 'mountInfo.json')))['device'] in ['/dev/shared%d' % i for i in range(5)]


def test_parallel_readers_never_see_a_partial_file(root):
    vs.ensure_present(root, '/vol/x', wanted(device='/dev/' + 'a' * 3000))
    path = os.path.join(root, vs.encode_volume_path('/vol/x'), 'mountInfo.json')
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            try:
                mi.parse_mount_info(read(path))
            except (ValueError, OSError) as exc:
                bad.append(exc)
    threads = [threading.Thread(target=reader) for _i in range(3)]
    for thread in threads:
        thread.start()
    try:
        for i in range(200):
            vs.ensure_present(root, '/vol/x', wanted(device='/dev/' + 'ab'[i % 2] * 3000))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert bad == []


# --------------------------------------------------------------------------------------------------------------------
# Stats and resize requests


@pytest.mark.parametrize('device, query', [
    ('/dev/sdb', 'path=%2Fdev%2Fsdb'),  # what kata-runtime sends (Go url.PathEscape)
    ('/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsi0-0-0-1', 'path=%2Fdev%2Fdisk%2Fby-id%2Fscsi-0QEMU_QEMU_HARDDISK_drive-scsi0-0-0-1'),
    ('/dev/my disk;1', 'path=%2Fdev%2Fmy%20disk%3B1'),
    ('/dev/a:b=c@d$', 'path=%2Fdev%2Fa:b=c@d$'),
    ('/dev/a+b', 'path=%252Fdev%252Fa%2Bb'),  # escaped twice: the shim unescapes twice
    ('/dev/50%', 'path=%252Fdev%252F50%2525'),
    ('/dev/a&b', 'path=%252Fdev%252Fa%26b'),
])
def test_stats_query(device, query):
    assert dv.stats_query(device) == query


def _go_unescape_twice(query):
    """What the Go shim does with the query: url.Query() (QueryUnescape: "+" is a space), then url.PathUnescape."""
    from urllib.parse import unquote, unquote_plus
    value = query.split('=', 1)[1]
    assert '&' not in value
    return unquote(unquote_plus(value))


@pytest.mark.parametrize('device', ['/dev/sdb', '/dev/a+b', '/dev/50%', '/dev/a&b', '/dev/my disk', '/dev/\u00e9'])
def test_stats_query_survives_the_shim(device):
    assert _go_unescape_twice(dv.stats_query(device)) == device


@pytest.fixture
def servers():
    factory = srv.ServerFactory()
    yield factory
    factory.close()


STATS_BODY = (b'{"usage":[{"available":9735507968,"total":10464022528,"used":728514560,"unit":1},'
              b'{"available":655349,"total":655360,"used":11,"unit":2}],"volume_condition":{"message":"OK"}}')


def test_volume_stats_and_total(servers):
    server = servers.start(srv.respond(200, STATS_BODY))
    stats = dv.volume_stats(ShimClient(server.path, timeout=2), '/dev/sdb')
    assert server.requests[0].method == 'GET'
    assert server.requests[0].target == '/direct-volume/stats?path=%2Fdev%2Fsdb'
    assert stats == json.loads(STATS_BODY)
    assert dv.bytes_total(stats) == 10464022528
    assert dv.bytes_total({'usage': [{'unit': 2, 'total': 5}]}) is None
    assert dv.bytes_total({'volume_condition': {}}) is None


def test_volume_stats_error_answer(servers):
    server = servers.start(srv.respond(500, 'mount /dev/sdb not found in sandbox'))
    with pytest.raises(ShimError) as exc_info:
        dv.volume_stats(ShimClient(server.path, timeout=2), '/dev/sdb')
    assert exc_info.value.msg == ('GET http://shim/direct-volume/stats?path=%%2Fdev%%2Fsdb via %s: HTTP 500 Internal '
                                  'Server Error: mount /dev/sdb not found in sandbox' % server.path)


def test_volume_stats_not_json(servers):
    server = servers.start(srv.respond(200, 'oops'))
    with pytest.raises(ShimError) as exc_info:
        dv.volume_stats(ShimClient(server.path, timeout=2), '/dev/sdb')
    assert exc_info.value.msg.startswith('the shim answered GET /direct-volume/stats with something that is not JSON: ')


def test_resize_request(servers):
    server = servers.start(srv.respond(200, ''))
    dv.resize_volume(ShimClient(server.path, timeout=2), '/dev/sdb', 21474836480, 'sb1')
    request = server.requests[0]
    assert (request.method, request.target) == ('POST', '/direct-volume/resize')
    assert request.headers['content-type'] == 'application/json'
    assert request.body == b'{"VolumePath":"/dev/sdb","Size":21474836480}'


@pytest.mark.parametrize('body, message', [
    ('rpc error: code = NotFound desc = /grpc.AgentService/ResizeVolume is not supported',
     'cannot resize /dev/sdb to 1024 bytes: the Kata agent of sandbox sb1 does not support resizing volumes '
     '(kata-agent 3.0.0 up to at least 4.0.0 does not implement ResizeVolume); the agent said: rpc error: code = '
     'NotFound desc = /grpc.AgentService/ResizeVolume is not supported'),
    ('rpc error: code = Unimplemented desc = resize_volume is not implemented in kata-agent',
     'cannot resize /dev/sdb to 1024 bytes: the Kata agent of sandbox sb1 does not support resizing volumes '
     '(kata-agent 3.0.0 up to at least 4.0.0 does not implement ResizeVolume); the agent said: rpc error: code = '
     'Unimplemented desc = resize_volume is not implemented in kata-agent'),
    ('mount /dev/sdb not found in sandbox',
     'cannot resize /dev/sdb to 1024 bytes in sandbox sb1: POST /direct-volume/resize answered HTTP 500: mount '
     '/dev/sdb not found in sandbox'),
])
def test_resize_failures(servers, body, message):
    server = servers.start(srv.respond(500, body))
    with pytest.raises(ShimError) as exc_info:
        dv.resize_volume(ShimClient(server.path, timeout=2), '/dev/sdb', 1024, 'sb1')
    assert exc_info.value.msg == message
    assert exc_info.value.details['status'] == 500


# --------------------------------------------------------------------------------------------------------------------
# Found by the robustness suite (tests/robustness)


@pytest.mark.parametrize('value', ['9' * 10000, '9' * 1001 + 'Gi', '1.' + '3' * 5000])
def test_parse_size_digit_strings_too_long_for_int(value):
    # int() refuses strings of more than 4300 digits (ValueError): that reached the user as a traceback.
    with pytest.raises(ArgumentError) as exc_info:
        dv.parse_size(value)
    assert exc_info.value.msg == ('size: the size %s... is out of range: expected 1 to 18446744073709551615 bytes'
                                  % repr(value)[:60])


@pytest.mark.parametrize('value, expected', [
    ('0' * 5000 + '1', 1),
    ('1.' + '0' * 5000 + 'Ki', 1024),
    ('0' * 3000 + '2.5' + '0' * 3000 + 'k', 2500),
])
def test_parse_size_zeros_that_do_not_change_the_value(value, expected):
    assert dv.parse_size(value) == expected


def test_parse_mount_info_nested_too_deeply():
    with pytest.raises(ValueError) as exc_info:
        mi.parse_mount_info(b'{"metadata": ' + b'[' * 100000 + b']' * 100000 + b'}')
    assert str(exc_info.value) == 'it is not valid JSON: arrays or objects nested too deeply'


def test_volume_stats_nested_too_deeply(servers):
    server = servers.start(srv.respond(200, '[' * 100000 + ']' * 100000))
    with pytest.raises(ShimError) as exc_info:
        dv.volume_stats(ShimClient(server.path, timeout=2), '/dev/sdb')
    assert exc_info.value.msg == 'the shim answered GET /direct-volume/stats with JSON nested too deeply to be read'


def test_volume_removed_while_it_is_written_is_written_again(root, monkeypatch):
    # A task removing the same volume took the directory away between the open and the rename of mountInfo.json: the
    # write failed with "No such file or directory" although the wanted state is simply "present". The volume is then
    # created again, whole.
    vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
    real_write = vs._write_mount_info  # pylint: disable=protected-access
    calls = []

    def racing_write(root_fd, vol_fd, directory, data):
        calls.append(directory)
        if len(calls) == 1:
            vs.ensure_absent(root, '/a/b')
        return real_write(root_fd, vol_fd, directory, data)
    monkeypatch.setattr(vs, '_write_mount_info', racing_write)
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert (outcome['changed'], len(calls)) == (True, 1)
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON
    assert sorted(os.listdir(root)) == ['L2EvYg==']


def test_volume_removed_again_and_again_while_it_is_written(root, monkeypatch):
    # Every time: another task's record appears before ours is renamed into place, and is removed again before we
    # update it.
    real_write = vs._write_mount_info  # pylint: disable=protected-access

    def quicker_task(root_fd, directory, data):
        os.makedirs(os.path.join(directory, 'sandbox'))
        return False

    def racing_write(root_fd, vol_fd, directory, data):
        vs.ensure_absent(root, '/a/b')
        return real_write(root_fd, vol_fd, directory, data)
    monkeypatch.setattr(vs, '_create_volume', quicker_task)
    monkeypatch.setattr(vs, '_write_mount_info', racing_write)
    with pytest.raises(KataError) as exc_info:
        vs.ensure_present(root, '/a/b', wanted())
    assert exc_info.value.msg == ('cannot write %s/L2EvYg==/mountInfo.json: the volume directory was removed 10 times '
                                  'while it was written (other tasks remove the same volume at the same time)' % root)


def test_volume_appearing_before_the_rename_is_updated_not_replaced(root, monkeypatch):
    # Another task put its complete record in place while ours was being built: ours is dropped (rename(2) does not
    # replace a directory that is not empty) and the record found is updated in place, its sandbox file kept.
    real_rename = os.rename

    def quicker_task(src, dst, **kwargs):
        if src.startswith('.kata-creating-'):
            os.mkdir(os.path.join(root, dst), 0o700)
            with open(os.path.join(root, dst, 'mountInfo.json'), 'wb') as f:
                f.write(BLOCK_JSON.replace(b'ext4', b'xfs'))
            open(os.path.join(root, dst, 'sandbox-a'), 'w').close()
        return real_rename(src, dst, **kwargs)
    monkeypatch.setattr(os, 'rename', quicker_task)
    outcome = vs.ensure_present(root, '/a/b', wanted())
    assert outcome['changed'] is True and outcome['after']['sandbox_id'] == 'sandbox-a'
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON
    assert sorted(os.listdir(root)) == ['L2EvYg==']
    assert mode(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == 0o600


def test_leftovers_of_killed_tasks_are_removed_unless_in_use(root):
    # A killed task leaves its temporary file or directory; the next task that writes removes those nobody holds.
    vs.ensure_present(root, '/a/b', wanted())
    os.mkdir(os.path.join(root, '.kata-creating-dead'), 0o700)
    with open(os.path.join(root, '.kata-creating-dead', 'mountInfo.json'), 'wb') as f:
        f.write(BLOCK_JSON[:10])
    os.mkdir(os.path.join(root, '.kata-removing-dead'))
    open(os.path.join(root, '.kata-removing-dead', 'sandbox'), 'w').close()
    open(os.path.join(root, '.kata-mountinfo-dead.tmp'), 'w').close()
    os.mkdir(os.path.join(root, '.kata-creating-alive'))
    held = os.open(os.path.join(root, '.kata-creating-alive'), os.O_RDONLY)
    elsewhere = os.path.join(os.path.dirname(root), 'elsewhere')
    os.mkdir(elsewhere)
    open(os.path.join(elsewhere, 'keep'), 'w').close()
    os.symlink(elsewhere, os.path.join(root, '.kata-removing-link'))
    open(os.path.join(root, 'not-ours'), 'w').close()
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
        assert sorted(os.listdir(root)) == ['.kata-creating-alive', '.kata-removing-link', 'L2EvYg==', 'not-ours']
        assert os.listdir(elsewhere) == ['keep']
    finally:
        os.close(held)
    vs.ensure_absent(root, '/a/b')
    assert sorted(os.listdir(root)) == ['.kata-removing-link', 'not-ours']


def test_removal_empties_a_directory_written_into_after_it_was_listed(root, monkeypatch):
    # A task writing the volume held its directory open and renamed mountInfo.json into it after the removing task had
    # listed it: rmdir failed with "Directory not empty" and a .kata-removing-* directory was left behind.
    vs.ensure_present(root, '/a/b', wanted())
    real_rmdir = os.rmdir
    calls = []

    def late_writer(name, dir_fd=None):
        calls.append(name)
        if len(calls) == 1:
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=dir_fd)
            try:
                with open(os.open('mountInfo.json', os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), 'wb') as f:
                    f.write(BLOCK_JSON)
            finally:
                os.close(fd)
        return real_rmdir(name, dir_fd=dir_fd)
    monkeypatch.setattr(os, 'rmdir', late_writer)
    assert vs.ensure_absent(root, '/a/b')['changed'] is True
    assert (len(calls), os.listdir(root)) == (2, [])


def test_volume_moved_away_after_the_write_is_written_again(root, monkeypatch):
    # The removing task renamed the directory away after our rename of mountInfo.json into it: what we wrote went
    # with it. The wanted record must still be there at the end.
    vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))
    real_write = vs._write_mount_info  # pylint: disable=protected-access
    calls = []

    def write_then_lose(root_fd, vol_fd, directory, data):
        calls.append(directory)
        real_write(root_fd, vol_fd, directory, data)
        if len(calls) == 1:
            os.rename(directory, os.path.join(root, '.kata-removing-test'))
    monkeypatch.setattr(vs, '_write_mount_info', write_then_lose)
    assert vs.ensure_present(root, '/a/b', wanted())['changed'] is True
    assert len(calls) == 1
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON


def test_volume_removed_between_mkdir_and_open_is_created_again(root, monkeypatch):
    # The directory existed at the mkdir (EEXIST) and was removed by another task before the open.
    vs.ensure_present(root, '/a/b', wanted())
    real_mkdir = os.mkdir
    calls = []

    def mkdir_then_removed(name, mode=0o777, dir_fd=None):
        calls.append(name)
        try:
            return real_mkdir(name, mode, dir_fd=dir_fd)
        finally:
            if len(calls) == 1:
                vs.ensure_absent(root, '/a/b')
    monkeypatch.setattr(os, 'mkdir', mkdir_then_removed)
    assert vs.ensure_present(root, '/a/b', wanted(device='/dev/sdc'))['changed'] is True
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON.replace(b'sdb', b'sdc')


# --------------------------------------------------------------------------------------------------------------------
# Volume paths kata can look a volume up by


@pytest.mark.parametrize('value', ['/', '/a', '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pvc-1/mount',
                                   '/a/.b/..c/b..', '/\u00e9t\u00e9', '/' + 'x' * 188])
def test_check_mount_source_accepts_absolute_clean_paths(value):
    assert vs.check_mount_source(value) == value
    assert vs.clean_path(value) == value


@pytest.mark.parametrize('value, clean', [
    ('/a//b', '/a/b'), ('//a', '/a'), ('///a', '/a'), ('/a/./b', '/a/b'), ('/a/../b', '/b'), ('/a/b/', '/a/b'),
    ('/..', '/'), ('/.', '/'), ('/a/b/.', '/a/b'),
])
def test_check_mount_source_refuses_paths_not_clean(value, clean):
    assert vs.clean_path(value) == clean
    with pytest.raises(ArgumentError) as exc_info:
        vs.check_mount_source(value)
    assert exc_info.value.msg == ("volume_path: the volume path %r is not in its clean form %r: kata compares the "
                                  "path, byte for byte, with the source of a container's bind mount, which is clean, "
                                  "so a record under this path would never be used; give %r" % (value, clean, clean))


@pytest.mark.parametrize('value', ['relative/vol', 'vol', '.', '..', '../../etc/passwd', ' /a', '~/vol'])
def test_check_mount_source_refuses_relative_paths(value):
    with pytest.raises(ArgumentError) as exc_info:
        vs.check_mount_source(value)
    assert exc_info.value.msg == ("volume_path: the volume path %r is not absolute: kata looks a direct volume up by "
                                  "the source of a container's bind mount, an absolute path, so a record under this "
                                  "path would never be used" % value)


@pytest.mark.parametrize('value', ['', '/a\0b', 5, '/' + 'x' * 189])
def test_check_mount_source_keeps_the_other_rules(value):
    with pytest.raises(ArgumentError) as exc_info:
        vs.check_mount_source(value)
    assert exc_info.value.msg == _validate_message(value)


def _validate_message(value):
    try:
        vs.validate_volume_path(value)
    except ArgumentError as exc:
        return exc.msg
    raise AssertionError('%r accepted' % (value,))


def test_temporary_directory_taken_for_a_leftover_is_built_again(root, monkeypatch):
    # Another task's clean-up locked (and removed) our temporary directory in the instant between its mkdir and our
    # lock: the record is built again under a new name; nothing is left behind.
    real_lock = vs._lock  # pylint: disable=protected-access
    calls = []

    def lock(fd):
        calls.append(fd)
        if len(calls) == 1:
            raise BlockingIOError(11, 'Resource temporarily unavailable')
        return real_lock(fd)
    monkeypatch.setattr(vs, '_lock', lock)
    assert vs.ensure_present(root, '/a/b', wanted())['changed'] is True
    assert len(calls) == 2
    assert os.listdir(root) == ['L2EvYg==']
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON


def test_volume_root_without_flock_still_gets_whole_records(root, monkeypatch):
    def no_lock(fd):
        raise OSError(37, 'No locks available')
    monkeypatch.setattr(vs, '_lock', no_lock)
    assert vs.ensure_present(root, '/a/b', wanted())['changed'] is True
    assert read(os.path.join(root, 'L2EvYg==', 'mountInfo.json')) == BLOCK_JSON
    os.mkdir(os.path.join(root, '.kata-creating-unknown'))
    assert vs.ensure_present(root, '/a/b', wanted(fstype='xfs'))['changed'] is True
    # Without locks nothing tells a leftover from work in progress: it is left alone.
    assert sorted(os.listdir(root)) == ['.kata-creating-unknown', 'L2EvYg==']
    assert vs.ensure_absent(root, '/a/b')['changed'] is True
    assert os.listdir(root) == ['.kata-creating-unknown']


def test_volume_being_removed_by_another_task_is_left_to_it(root):
    vs.ensure_present(root, '/a/b', wanted())
    held = os.open(os.path.join(root, 'L2EvYg=='), os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        outcome = vs.ensure_absent(root, '/a/b')
        assert outcome['changed'] is False and outcome['before']['entry'] == 'directory'
        assert os.listdir(root) == ['L2EvYg==']
    finally:
        os.close(held)
    assert vs.ensure_absent(root, '/a/b')['changed'] is True


def test_leftovers_are_removed_by_a_run_that_changes_nothing_but_not_in_check_mode(root):
    vs.ensure_present(root, '/a/b', wanted())
    open(os.path.join(root, '.kata-mountinfo-dead.tmp'), 'w').close()
    assert vs.ensure_present(root, '/a/b', wanted(), check_mode=True)['changed'] is False
    assert vs.ensure_absent(root, '/c', check_mode=True)['changed'] is False
    assert sorted(os.listdir(root)) == ['.kata-mountinfo-dead.tmp', 'L2EvYg==']
    assert vs.ensure_present(root, '/a/b', wanted())['changed'] is False
    assert os.listdir(root) == ['L2EvYg==']
    open(os.path.join(root, '.kata-mountinfo-dead.tmp'), 'w').close()
    assert vs.ensure_absent(root, '/c')['changed'] is False
    assert os.listdir(root) == ['L2EvYg==']
