# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kata_sandboxes inventory plugin, run by the real ``ansible-inventory`` over a real jsonfile fact cache.

The reports are what the playbook katacontainers.kata.sandbox_inventory stores (kata_sandbox_info's sandboxes,
with pod metadata of containerd and CRI-O, Go and runtime-rs sandboxes), written as the jsonfile cache plugin keeps
them: one JSON file per node, named after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ansible.plugins.loader import cache_loader

import ansible_collections
from ansible_collections.katacontainers.kata.plugins.inventory.kata_sandboxes import Sandbox, assign_names, hypervisor_of

COLLECTIONS_PATH = os.path.dirname(os.path.abspath(list(ansible_collections.__path__)[0]))

NODE1 = {
    'connection': {'connection': 'ssh', 'host': '10.0.0.5', 'port': 2222, 'user': 'root', 'ssh_args': '-o A=b',
                   'private_key_file': '/keys/id', 'python': '/usr/bin/python3', 'become': False,
                   'control_path_dir': None},
    'sandboxes': [
        {'id': 'aaa1', 'runtime': 'go', 'socket': '/run/vc/sbs/aaa1/shim-monitor.sock', 'reachable': True, 'error': None,
         'agent_url': 'hvsock:///run/vc/firecracker/aaa1/root/kata.hvsock:1024',
         'pod': {'engine': 'containerd', 'namespace': 'default', 'name': 'web', 'uid': 'u-1', 'handler': None,
                 'bundle': '/run/containerd/io.containerd.runtime.v2.task/k8s.io/aaa1'}},
        {'id': 'bbb2', 'runtime': 'go', 'socket': '/run/vc/sbs/bbb2/shim-monitor.sock', 'reachable': True, 'error': None,
         'agent_url': 'vsock://1234:1024',
         'pod': {'engine': 'crio', 'namespace': 'shop', 'name': 'cart', 'uid': 'u-2', 'handler': 'kata-qemu',
                 'bundle': '/run/containers/storage/overlay-containers/bbb2/userdata'}},
        {'id': 'ccc3', 'runtime': 'rust', 'socket': '/run/kata/ccc3/shim-monitor.sock', 'reachable': True, 'error': None,
         'agent_url': 'hvsock:///run/kata/ccc3/root/kata.hvsock:1024', 'pod': None},
        {'id': 'ddd4', 'runtime': 'rust', 'socket': '/run/kata/ddd4/shim-monitor.sock', 'reachable': False,
         'error': 'connection refused', 'agent_url': None,
         'pod': {'engine': 'containerd', 'namespace': 'ops', 'name': 'db', 'uid': 'u-4',
                 'handler': 'kata-qemu-runtime-rs', 'bundle': '/b'}},
        {'id': 'eee5', 'runtime': 'rust', 'socket': '/run/kata/eee5/shim-monitor.sock', 'reachable': True, 'error': None,
         'agent_url': 'hvsock:///run/vc/vm/eee5/clh.sock:1024',
         'pod': {'engine': 'crio', 'namespace': 'ops', 'name': 'db', 'uid': 'u-5', 'handler': 'kata-qemu-runtime-rs',
                 'bundle': '/b'}},
    ],
}
NODE2 = {
    'connection': {'connection': 'local', 'host': 'localhost', 'port': None, 'user': None, 'ssh_args': '',
                   'private_key_file': None, 'python': '/opt/py/bin/python3', 'become': True, 'control_path_dir': '/cp'},
    'sandboxes': [
        {'id': 'fff6', 'runtime': 'go', 'socket': '/s', 'reachable': True, 'error': None, 'agent_url': 'vsock://9:1024',
         'pod': {'engine': 'containerd', 'namespace': 'shop', 'name': 'cart', 'uid': 'u-6', 'handler': None,
                 'bundle': '/b'}},
        {'id': 'ggg7', 'runtime': 'go', 'socket': '/s', 'reachable': True, 'error': None, 'agent_url': None,
         'pod': None},
    ],
}


def report(node, data, **extra):
    value = dict(format=1, node=node, reported='2026-12-07T08:00:00Z', sandbox_root='/run/vc/sbs',
                 rs_sandbox_root='/run/kata', **data)
    value.update(extra)
    return value


@pytest.fixture
def facts(tmp_path):
    """A jsonfile fact cache directory; ``write(node, facts)`` stores a node's facts as the cache plugin does."""
    directory = tmp_path / 'facts'
    directory.mkdir()

    def write(node, node_facts, prefix=''):
        # Through the cache plugin itself: ansible-core 2.19 keeps its own key scheme in the file names.
        cache_loader.get('jsonfile', _uri=str(directory), _prefix=prefix, _timeout=86400).set(node, node_facts)
    write.path = str(directory)
    return write


def inventory(tmp_path, config, env=None, expect_rc=0, name='kata_sandboxes.yml'):
    """``ansible-inventory --list`` of ``config`` (a dict): the parsed JSON (or stderr when it fails)."""
    path = tmp_path / name
    path.write_text(json.dumps(config), encoding='utf-8')
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_INVENTORY_ENABLED='host_list,'
                       'katacontainers.kata.kata_sandboxes', ANSIBLE_NOCOLOR='1', ANSIBLE_HOME=str(tmp_path / 'home'))
    environment.pop('ANSIBLE_CONFIG', None)
    environment.update(env or {})
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.inventory', '-i', str(path), '--list'],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path), env=environment,
                          check=False)
    assert proc.returncode == expect_rc, proc.stderr.decode()
    if expect_rc:
        return ' '.join(proc.stderr.decode().split())  # ansible-core before 2.19 wraps its warnings at 80 columns
    return plain(json.loads(proc.stdout.decode()))


def plain(value):
    """The listing without ansible-core 2.19's marks of untrusted strings (``{"__ansible_unsafe": text}``): what the
    nodes reported is data, never a template, and is listed so."""
    if isinstance(value, dict):
        if list(value) == ['__ansible_unsafe']:
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def base(facts, **options):
    return dict(plugin='katacontainers.kata.kata_sandboxes', fact_cache_plugin='ansible.builtin.jsonfile',
                fact_cache_connection=facts.path, **options)


def hosts_of(listing):
    return sorted(listing['_meta']['hostvars'])


def members(listing, group):
    return sorted(listing.get(group, {}).get('hosts', []))


def test_hosts_groups_and_variables(tmp_path, facts):
    facts('node1', {'kata_sandbox_inventory': report('node1', NODE1), 'other_fact': 1})
    facts('node2', {'kata_sandbox_inventory': report('node2', NODE2)})
    facts('plain-host', {'ansible_distribution': 'Debian'})  # a host that never reported sandboxes
    listing = inventory(tmp_path, base(facts))
    # shop/cart is on both nodes, ops/db twice on node1: those get longer names; no pod metadata: <id>@<node>
    assert hosts_of(listing) == sorted(['default/web', 'ccc3@node1', 'ggg7@node2', 'ops/db@node1/ddd4',
                                        'ops/db@node1/eee5', 'shop/cart@node1', 'shop/cart@node2'])
    assert members(listing, 'kata_sandboxes') == hosts_of(listing)
    assert members(listing, 'kata_node_node1') == sorted(['default/web', 'ccc3@node1', 'ops/db@node1/ddd4',
                                                          'ops/db@node1/eee5', 'shop/cart@node1'])
    assert members(listing, 'kata_node_node2') == sorted(['ggg7@node2', 'shop/cart@node2'])
    assert members(listing, 'kata_namespace_shop') == sorted(['shop/cart@node1', 'shop/cart@node2'])
    assert members(listing, 'kata_pod_shop_cart') == sorted(['shop/cart@node1', 'shop/cart@node2'])
    assert members(listing, 'kata_namespace_ops') == sorted(['ops/db@node1/ddd4', 'ops/db@node1/eee5'])
    # handler names made safe ("-" is not allowed in a group name), whatever TRANSFORM_INVALID_GROUP_CHARS says
    assert members(listing, 'kata_handler_kata_qemu') == sorted(['shop/cart@node1'])
    assert members(listing, 'kata_handler_kata_qemu_runtime_rs') == sorted(['ops/db@node1/ddd4', 'ops/db@node1/eee5'])
    assert members(listing, 'kata_hypervisor_firecracker') == ['default/web']
    assert members(listing, 'kata_hypervisor_qemu') == sorted(['shop/cart@node1', 'shop/cart@node2'])
    assert members(listing, 'kata_hypervisor_dragonball') == sorted(['ccc3@node1'])
    assert members(listing, 'kata_hypervisor_clh') == sorted(['ops/db@node1/eee5'])
    assert members(listing, 'kata_runtime_go') == sorted(['default/web', 'ggg7@node2', 'shop/cart@node1', 'shop/cart@node2'])
    assert members(listing, 'kata_runtime_rust') == sorted(['ccc3@node1', 'ops/db@node1/ddd4', 'ops/db@node1/eee5'])
    assert members(listing, 'kata_engine_crio') == sorted(['ops/db@node1/eee5', 'shop/cart@node1'])
    assert members(listing, 'kata_shim_unreachable') == sorted(['ops/db@node1/ddd4'])
    assert not any(group.startswith('kata_node_plain') for group in listing)
    web = listing['_meta']['hostvars']['default/web']
    assert web == {
        'ansible_connection': 'katacontainers.kata.kata_console', 'kata_node': 'node1', 'kata_sandbox_id': 'aaa1',
        'kata_runtime': 'go', 'kata_hypervisor': 'firecracker',
        'kata_pod': {'namespace': 'default', 'name': 'web', 'uid': 'u-1', 'handler': None, 'engine': 'containerd'},
        'kata_agent_url': 'hvsock:///run/vc/firecracker/aaa1/root/kata.hvsock:1024',
        'kata_shim_socket': '/run/vc/sbs/aaa1/shim-monitor.sock', 'kata_shim_reachable': True, 'kata_shim_error': None,
        'kata_sandbox_root': '/run/vc/sbs', 'kata_rs_sandbox_root': '/run/kata', 'kata_reported': '2026-12-07T08:00:00Z',
        'kata_node_connection': 'ssh', 'kata_node_host': '10.0.0.5', 'kata_node_port': 2222, 'kata_node_user': 'root',
        'kata_node_ssh_args': '-o A=b', 'kata_node_private_key_file': '/keys/id', 'kata_node_python': '/usr/bin/python3',
        'kata_node_become': False, 'kata_node_control_path_dir': None}
    local = listing['_meta']['hostvars']['ggg7@node2']
    assert (local['kata_node_connection'], local['kata_node_python'], local['kata_node_become'], local['kata_pod'],
            local['kata_hypervisor']) == ('local', '/opt/py/bin/python3', True, None, None)


def test_unique_pods_keep_their_short_names_and_nodes_filter(tmp_path, facts):
    facts('node1', {'kata_sandbox_inventory': report('node1', NODE1)})
    facts('node2', {'kata_sandbox_inventory': report('node2', NODE2)})
    listing = inventory(tmp_path, base(facts, nodes=['node2'], include_unreachable=False))
    assert hosts_of(listing) == sorted(['ggg7@node2', 'shop/cart'])  # alone now: no suffix
    listing = inventory(tmp_path, base(facts, nodes=['node1'], include_unreachable=False))
    # ddd4's shim did not answer: left out, so eee5 is the only sandbox of ops/db
    assert hosts_of(listing) == sorted(['default/web', 'ccc3@node1', 'ops/db', 'shop/cart'])


def test_compose_groups_and_keyed_groups(tmp_path, facts):
    facts('node1', {'kata_sandbox_inventory': report('node1', NODE1)})
    config = base(facts, compose={'kata_console_command_timeout': "600 if kata_runtime == 'rust' else 30",
                                  'pod_label': "kata_pod.name | default('none') if kata_pod else 'none'"},
                  groups={'rust_hvsock': "kata_runtime == 'rust' and kata_agent_url is string and "
                                         "kata_agent_url.startswith('hvsock')"},
                  keyed_groups=[{'key': 'kata_pod.engine | default("none") if kata_pod else "none"', 'prefix': 'eng'},
                                {'key': 'kata_node_host', 'prefix': 'via'}])
    listing = inventory(tmp_path, config)
    hostvars = listing['_meta']['hostvars']
    assert int(hostvars['ccc3@node1']['kata_console_command_timeout']) == 600  # '600' before ansible-core 2.19
    assert int(hostvars['default/web']['kata_console_command_timeout']) == 30
    assert hostvars['default/web']['pod_label'] == 'web' and hostvars['ccc3@node1']['pod_label'] == 'none'
    assert members(listing, 'rust_hvsock') == sorted(['ccc3@node1', 'ops/db@node1/eee5'])
    assert members(listing, 'eng_crio') == sorted(['ops/db@node1/eee5', 'shop/cart'])
    assert members(listing, 'eng_none') == sorted(['ccc3@node1'])
    assert members(listing, 'via_10_0_0_5') == hosts_of(listing)


def test_strict_compose_error_names_the_expression(tmp_path, facts):
    facts('node1', {'kata_sandbox_inventory': report('node1', NODE1)})
    stderr = inventory(tmp_path, base(facts, strict=True, compose={'x': 'no_such_variable + 1'}), expect_rc=1,
                       env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1'})
    assert 'no_such_variable' in stderr


@pytest.mark.parametrize('bad, words', [
    ({'format': 2, 'sandboxes': []}, 'has the format 2, this plugin reads format 1'),
    ('not a dict', 'is str, expected a dict'),
    ({'format': 1, 'sandboxes': 'x'}, 'has no list of sandboxes'),
    ({'format': 1, 'sandboxes': [{'runtime': 'go'}]}, 'sandboxes[0] has no sandbox ID'),
])
def test_bad_reports_fail_with_a_clear_message(tmp_path, facts, bad, words):
    facts('node9', {'kata_sandbox_inventory': bad})
    stderr = inventory(tmp_path, base(facts), expect_rc=1, env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1'})
    assert 'the kata_sandbox_inventory fact of node node9' in stderr and words in stderr


def test_the_configured_fact_cache_and_its_prefix(tmp_path, facts):
    """Without fact_cache_plugin the plugin reads Ansible's own fact cache, as ansible.builtin.constructed does."""
    facts('node2', {'kata_sandbox_inventory': report('node2', NODE2)}, prefix='kf_')
    listing = inventory(tmp_path, {'plugin': 'katacontainers.kata.kata_sandboxes'},
                        env={'ANSIBLE_CACHE_PLUGIN': 'ansible.builtin.jsonfile', 'ANSIBLE_CACHE_PLUGIN_CONNECTION': facts.path,
                             'ANSIBLE_CACHE_PLUGIN_PREFIX': 'kf_'})
    assert hosts_of(listing) == sorted(['ggg7@node2', 'shop/cart'])
    # the default memory cache holds nothing across processes: no host, no error
    listing = inventory(tmp_path, {'plugin': 'katacontainers.kata.kata_sandboxes'})
    assert hosts_of(listing) == []


def test_expired_facts_are_not_read(tmp_path, facts):
    facts('node2', {'kata_sandbox_inventory': report('node2', NODE2)})
    old = time.time() - 7200
    (name,) = os.listdir(facts.path)
    os.utime(os.path.join(facts.path, name), (old, old))
    assert hosts_of(inventory(tmp_path, base(facts, fact_cache_timeout=3600))) == []
    assert hosts_of(inventory(tmp_path, base(facts, fact_cache_timeout=86400))) == sorted(['ggg7@node2', 'shop/cart'])


def test_inventory_cache(tmp_path, facts):
    """With cache: true the hosts come from the inventory cache until it expires or --flush-cache."""
    facts('node2', {'kata_sandbox_inventory': report('node2', NODE2)})
    cache_dir = tmp_path / 'inventory-cache'
    config = base(facts, cache=True, cache_plugin='ansible.builtin.jsonfile', cache_connection=str(cache_dir),
                  cache_timeout=3600)
    assert hosts_of(inventory(tmp_path, config)) == sorted(['ggg7@node2', 'shop/cart'])
    assert len(os.listdir(str(cache_dir))) == 1
    # the node now reports one more sandbox: the cached inventory is still served
    more = dict(NODE2, sandboxes=NODE2['sandboxes'] + [dict(NODE2['sandboxes'][1], id='hhh8')])
    facts('node2', {'kata_sandbox_inventory': report('node2', more)})
    assert hosts_of(inventory(tmp_path, config)) == sorted(['ggg7@node2', 'shop/cart'])
    # without the cache, or once it is flushed, the new report is read
    assert hosts_of(inventory(tmp_path, dict(config, cache=False))) == sorted(['ggg7@node2', 'hhh8@node2', 'shop/cart'])
    path = tmp_path / 'kata_sandboxes.yml'
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_PATH, ANSIBLE_HOME=str(tmp_path / 'home'),
                       ANSIBLE_INVENTORY_ENABLED='katacontainers.kata.kata_sandboxes')
    path.write_text(json.dumps(config), encoding='utf-8')
    playbook = tmp_path / 'noop.yml'
    playbook.write_text('- hosts: all\n  gather_facts: false\n  tasks: []\n', encoding='utf-8')
    # --flush-cache: ansible-playbook has it in every supported release (ansible-inventory only from 2.16)
    proc = subprocess.run([sys.executable, '-m', 'ansible.cli.playbook', '-i', str(path), '--flush-cache', '--list-hosts',
                           str(playbook)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert 'hhh8@node2' in proc.stdout.decode()
    assert hosts_of(inventory(tmp_path, config)) == sorted(['ggg7@node2', 'hhh8@node2', 'shop/cart'])


def test_only_files_named_kata_sandboxes_are_taken(tmp_path, facts):
    facts('node2', {'kata_sandbox_inventory': report('node2', NODE2)})
    stderr = inventory(tmp_path, base(facts), name='sandboxes.yml', expect_rc=1,
                       env={'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1'})
    assert 'sandboxes.yml' in stderr


@pytest.mark.parametrize('url, runtime, expected', [
    ('vsock://3:1024', 'go', 'qemu'),
    ('VSOCK://3:1024', 'rust', 'qemu'),
    ('hvsock:///run/vc/firecracker/x/root/kata.hvsock:1024', 'go', 'firecracker'),
    ('hvsock:///run/kata/x/root/kata.hvsock:1024', 'rust', 'dragonball'),
    ('hvsock:///run/kata/x/firecracker/root/kata.hvsock:1024', 'rust', 'firecracker'),
    ('hvsock:///run/vc/vm/x/clh.sock:1024', 'go', 'clh'),
    ('hvsock:///run/kata/x/clh.sock:1024', 'rust', 'clh'),
    ('hvsock:///somewhere/else.sock:1024', 'go', None),
    ('remote:///run/peerpod/x.sock', 'go', None),
    ('no scheme', 'go', None),
    (None, 'go', None),
])
def test_hypervisor_from_the_agent_url(url, runtime, expected):
    assert hypervisor_of(url, runtime) == expected


def sandbox(node, sid, pod=None):
    entry = {'id': sid, 'runtime': 'go'}
    if pod:
        entry['pod'] = {'namespace': pod.split('/')[0], 'name': pod.split('/')[1]}
    return Sandbox(node, {}, entry)


def test_names_stay_unique():
    sandboxes = [sandbox('n1', 'a', 'x/p'), sandbox('n1', 'b', 'x/p'), sandbox('n2', 'c', 'x/p'),
                 sandbox('n1', 'd', 'y/q'), sandbox('n1', 'e'), sandbox('x', 'p')]
    names = [s.name for s in assign_names(sandboxes)]
    # x/p on n2 is alone there: x/p@n2; the two of n1 need their IDs; no pod metadata: <id>@<node>
    assert names == ['x/p@n1/a', 'x/p@n1/b', 'x/p@n2', 'y/q', 'e@n1', 'p@x']
    assert len(set(names)) == len(names)
    twice = [s.name for s in assign_names([sandbox('n1', 'a', 'x/p'), sandbox('n1', 'a', 'x/p')])]
    assert twice == ['x/p@n1/a#1', 'x/p@n1/a#2']


def test_what_older_ansible_core_recorded_is_read_in_its_type(tmp_path, facts):
    """Before 2.19 a template giving None gave '', and numbers and booleans could come as text."""
    old = dict(NODE2, connection={'connection': 'ssh', 'host': 'n2', 'port': '2200', 'user': '', 'ssh_args': '',
                                  'private_key_file': '', 'python': '/usr/bin/python3', 'become': 'True',
                                  'control_path_dir': ''})
    facts('node2', {'kata_sandbox_inventory': report('node2', old)})
    variables = inventory(tmp_path, base(facts))['_meta']['hostvars']['shop/cart']
    assert (variables['kata_node_port'], variables['kata_node_user'], variables['kata_node_ssh_args'],
            variables['kata_node_private_key_file'], variables['kata_node_become'],
            variables['kata_node_control_path_dir']) == (2200, None, None, None, True, None)
