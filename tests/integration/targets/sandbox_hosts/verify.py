# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of the sandbox_hosts target (see runme.sh); each exits non-zero with a message when its check fails.

    verify.py nodes FLEET_INVENTORY NODE_A_ROOT NODE_B_ROOT OUT   write the nodes' own variables (where their sandboxes are)
    verify.py inventory LIST NODE_A_ROOT NODE_B_ROOT              ansible-inventory --list: hosts, groups, variables
    verify.py raw RESULT                                          the json callback output of the raw run over all
    verify.py hosts RESULT HOST=SANDBOX...                        exactly these hosts ran, each in its own sandbox
    verify.py script RESULT                                       the script run
    verify.py skipped RESULT COUNT                                check mode: every host skipped
    verify.py readonly REQUEST_LOG...                             no shim was asked to change anything
"""

from __future__ import annotations

import json
import sys

NODE_A = 'xeon-e5-2680v3'
NODE_B = 'xeon-x7550'

# host name -> (sandbox, node, runtime, hypervisor, namespace, handler, engine)
EXPECTED = {
    'default/web': ('a-web', NODE_A, 'go', 'firecracker', 'default', None, 'containerd'),
    'shop/cart@' + NODE_A: ('a-cart', NODE_A, 'go', 'clh', 'shop', 'kata-qemu', 'crio'),
    'ops/tools': ('a-tools', NODE_A, 'go', 'firecracker', 'ops', None, 'containerd'),
    'ops/busybox': ('a-bb', NODE_A, 'go', 'firecracker', 'ops', None, 'containerd'),
    'ops/off': ('a-off', NODE_A, 'go', 'firecracker', 'ops', None, 'containerd'),
    'shop/api': ('a-api', NODE_A, 'rust', 'firecracker', 'shop', 'kata-qemu-runtime-rs', 'containerd'),
    'payments/api': ('b-pay', NODE_B, 'go', 'firecracker', 'payments', 'kata-qemu', 'crio'),
    'shop/cart@' + NODE_B: ('b-cart', NODE_B, 'go', 'firecracker', 'shop', None, 'containerd'),
    'b-none@' + NODE_B: ('b-none', NODE_B, 'go', 'firecracker', None, None, None),
    # its shim does not answer: no agent URL, so no hypervisor
    'payments/hang': ('b-hang', NODE_B, 'go', None, 'payments', None, 'containerd'),
    'payments/db': ('b-db', NODE_B, 'rust', 'firecracker', 'payments', 'kata-qemu', 'crio'),
}
UNREACHABLE = {
    'ops/busybox': 'closed the connection before its shell answered',
    'ops/off': 'cannot reach the debug console',
    'payments/hang': 'sandbox b-hang: GET http://shim/agent-url',
}


def fail(message):
    sys.stderr.write('verify.py: %s\n' % message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def load(path):
    with open(path, encoding='utf-8') as f:
        return plain(json.load(f))


def plain(value):
    """``value`` without ansible-core 2.19's marks of untrusted strings (``{"__ansible_unsafe": text}``): what the
    nodes reported is data, never a template, and is listed so."""
    if isinstance(value, dict):
        if list(value) == ['__ansible_unsafe']:
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def safe(name):
    return ''.join(c if c.isalnum() or c == '_' else '_' for c in name)


def nodes(fleet_inventory, root_a, root_b, out):
    hosts = load(fleet_inventory)['all']['children']['kata_fleet']['hosts']
    check(sorted(hosts) == sorted([NODE_A, NODE_B]), 'the fleet has %s' % sorted(hosts))
    data = {'all': {'hosts': {}}}
    for node, root in ((NODE_A, root_a), (NODE_B, root_b)):
        data['all']['hosts'][node] = {
            'kata_sandbox_inventory_sandbox_root': root + '/run/vc/sbs',
            'kata_sandbox_inventory_rs_sandbox_root': root + '/run/kata',
            'kata_sandbox_inventory_containerd_state_dir': root + '/run/containerd/io.containerd.runtime.v2.task',
            'kata_sandbox_inventory_crio_containers_dir': root + '/run/containers/storage/overlay-containers',
            'kata_sandbox_inventory_timeout': 1,
        }
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(data, f)


def members(listing, group):
    return sorted(listing.get(group, {}).get('hosts', []))


def inventory(path, root_a, root_b):
    listing = load(path)
    hostvars = listing['_meta']['hostvars']
    check(sorted(hostvars) == sorted(EXPECTED), 'hosts: %s, expected %s' % (sorted(hostvars), sorted(EXPECTED)))
    groups = {}
    for host, (sandbox, node, runtime, hypervisor, namespace, handler, engine) in EXPECTED.items():
        variables = hostvars[host]
        root = root_a if node == NODE_A else root_b
        expected = {
            'ansible_connection': 'katacontainers.kata.kata_console', 'kata_node': node, 'kata_sandbox_id': sandbox,
            'kata_runtime': runtime, 'kata_hypervisor': hypervisor, 'kata_node_connection': 'ssh',
            'kata_node_user': 'root', 'kata_node_python': '/usr/bin/python3', 'kata_node_become': False,
            'kata_sandbox_root': root + '/run/vc/sbs', 'kata_rs_sandbox_root': root + '/run/kata',
            'kata_shim_reachable': sandbox != 'b-hang', 'ansible_python_interpreter': '/usr/bin/python3',
            'kata_console_connect_timeout': 1,
        }
        for key, value in expected.items():
            check(variables.get(key) == value, '%s: %s is %r, expected %r' % (host, key, variables.get(key), value))
        check(variables['kata_node_host'].startswith('127.0.0.') and isinstance(variables['kata_node_port'], int),
              '%s: node address %r port %r' % (host, variables['kata_node_host'], variables['kata_node_port']))
        check('UserKnownHostsFile' in variables['kata_node_ssh_args'], '%s: ssh args %r' % (host, variables['kata_node_ssh_args']))
        pod = variables['kata_pod']
        if namespace is None:
            check(pod is None, '%s: pod %r' % (host, pod))
        else:
            check(pod['namespace'] == namespace and pod['handler'] == handler and pod['engine'] == engine
                  and host.startswith('%s/%s' % (pod['namespace'], pod['name'])), '%s: pod %r' % (host, pod))
        for group in ['kata_sandboxes', 'kata_node_' + node, 'kata_runtime_' + runtime] \
                + (['kata_hypervisor_' + hypervisor] if hypervisor else []) \
                + (['kata_namespace_' + namespace, 'kata_engine_' + engine, 'kata_pod_%s_%s' % (namespace, pod['name'])]
                   if namespace else []) + (['kata_handler_' + handler] if handler else []) \
                + (['kata_shim_unreachable'] if sandbox == 'b-hang' else []):
            groups.setdefault(safe(group), []).append(host)
    for group, hosts in groups.items():
        check(members(listing, group) == sorted(hosts), 'group %s: %s, expected %s'
              % (group, members(listing, group), sorted(hosts)))
    kata_groups = sorted(g for g in listing if g.startswith('kata_'))
    check(kata_groups == sorted(groups), 'groups: %s, expected %s' % (kata_groups, sorted(groups)))
    check(members(listing, 'kata_handler_kata_qemu') == ['payments/api', 'payments/db', 'shop/cart@' + NODE_A],
          'kata_handler_kata_qemu: %s' % members(listing, 'kata_handler_kata_qemu'))


def results(path):
    data = load(path)
    check(len(data['plays']) == 1 and len(data['plays'][0]['tasks']) == 1, 'one play, one task expected')
    return data['plays'][0]['tasks'][0]['hosts']


def ran_in(result, sandbox):
    first = (result.get('stdout') or '').split('\n')[0].rstrip('\r')
    return first.endswith('/kata-sim/guest/%s/console' % sandbox)


def raw(path):
    hosts = results(path)
    check(sorted(hosts) == sorted(EXPECTED), 'raw ran on %s' % sorted(hosts))
    for host, result in sorted(hosts.items()):
        sandbox = EXPECTED[host][0]
        if host in UNREACHABLE:
            check(result.get('unreachable') is True and UNREACHABLE[host] in result.get('msg', ''),
                  '%s: expected UNREACHABLE (%s), got %r' % (host, UNREACHABLE[host], result))
            print('%s UNREACHABLE: %s' % (host, result['msg']))
            continue
        check(not result.get('failed') and not result.get('unreachable') and result.get('rc') == 0,
              '%s: %r' % (host, result))
        check(ran_in(result, sandbox), '%s: ran in %r, expected sandbox %s' % (host, result.get('stdout'), sandbox))
        check(result['stdout'].endswith('/console\n') and result['stdout'].count('\n') == 1,
              '%s: stdout %r' % (host, result['stdout']))
        # stderr comes back separately and exact (no final newline)
        check(result['stderr'] == 'err|', '%s: stderr %r' % (host, result['stderr']))


def hosts_ran(path, *pairs):
    hosts = results(path)
    wanted = dict(pair.split('=', 1) for pair in pairs)
    check(sorted(hosts) == sorted(wanted), 'ran on %s, expected %s' % (sorted(hosts), sorted(wanted)))
    for host, sandbox in wanted.items():
        check(hosts[host].get('rc') == 0 and ran_in(hosts[host], sandbox), '%s: %r' % (host, hosts[host]))


def script(path):
    hosts = results(path)
    expected = sorted(h for h in EXPECTED if h not in UNREACHABLE)
    check(sorted(hosts) == expected, 'script ran on %s, expected %s' % (sorted(hosts), expected))
    for host, result in hosts.items():
        sandbox = EXPECTED[host][0]
        want = 'dir=%s\nargc=3\narg=[a b]\narg=[c\'d]\narg=[]\n' % result.get('stdout', '').split('\n')[0][4:]
        check(result.get('rc') == 3 and result.get('failed') is True, '%s: rc %r' % (host, result.get('rc')))
        check(result['stdout'] == want and '/kata-sim/guest/%s/console' % sandbox in result['stdout'],
              '%s: stdout %r' % (host, result['stdout']))
        check(result['stderr'] == 'to stderr\n', '%s: stderr %r' % (host, result['stderr']))


def skipped(path, count):
    hosts = results(path)
    check(len(hosts) == int(count), '%d hosts, expected %s' % (len(hosts), count))
    for host, result in hosts.items():
        check(result.get('skipped') is True and not result.get('changed'), '%s: %r' % (host, result))


def readonly(*logs):
    for path in logs:
        with open(path, encoding='utf-8') as f:
            for line in f:
                entry = json.loads(line)
                check(entry['method'] in ('GET', None), '%s: %r' % (path, entry))


def main(argv):
    commands = {'nodes': nodes, 'inventory': inventory, 'raw': raw, 'hosts': hosts_ran, 'script': script,
                'skipped': skipped, 'readonly': readonly}
    if len(argv) < 2 or argv[1] not in commands:
        fail('usage: verify.py %s ...' % '|'.join(sorted(commands)))
    commands[argv[1]](*argv[2:])


if __name__ == '__main__':
    main(sys.argv)
