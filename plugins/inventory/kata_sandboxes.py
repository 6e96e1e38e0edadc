# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: kata_sandboxes
short_description: Kata Containers sandboxes as inventory hosts, from what the nodes reported
version_added: 0.2.0
description:
  - Makes every Kata sandbox that the nodes of a fleet run an inventory host, so that patterns, groups, forks,
    C(--limit), ad hoc commands, M(ansible.builtin.raw) and M(ansible.builtin.script) work on the guest VMs.
    Commands reach a guest through the connection plugin P(katacontainers.kata.kata_console#connection).
  - The source is what the nodes reported, read from the fact cache the way P(ansible.builtin.constructed#inventory)
    reads facts. The playbook C(katacontainers.kata.sandbox_inventory) runs M(katacontainers.kata.kata_sandbox_info)
    on the nodes and stores a cacheable fact, C(kata_sandbox_inventory), with the node's sandboxes and how to reach the
    node. Run it again to refresh the inventory. Configure a persistent fact cache (for example
    C(fact_caching = ansible.builtin.jsonfile) with C(fact_caching_connection)) for both runs, or name it with
    O(fact_cache_plugin) and O(fact_cache_connection).
  - Each host is named after its pod, C(<namespace>/<pod name>). A sandbox without pod metadata is named
    C(<sandbox ID>@<node>). When several sandboxes would get the same name (the same pod on two nodes, or a pod whose
    sandbox was recreated), each of them is named C(<namespace>/<pod name>@<node>), and, if that is still not unique,
    C(<namespace>/<pod name>@<node>/<sandbox ID>).
  - "Groups: V(kata_sandboxes) (every host), C(kata_node_<node>), C(kata_namespace_<namespace>), C(kata_pod_<namespace>_<pod>),
    C(kata_handler_<runtime handler>), C(kata_hypervisor_<hypervisor>), C(kata_runtime_go) or C(kata_runtime_rust), and
    C(kata_engine_containerd) or C(kata_engine_crio). Names are made safe for Ansible (C(kata-qemu) becomes C(kata_qemu))."
  - The file must end in C(kata_sandboxes.yml) or C(kata_sandboxes.yaml).
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin. It must be V(katacontainers.kata.kata_sandboxes).
    required: true
    type: str
    choices: [katacontainers.kata.kata_sandboxes]
  nodes:
    description:
      - Only the sandboxes of these nodes (their inventory names, as the refresh playbook ran on them).
      - By default every node in the fact cache that reported its sandboxes.
    type: list
    elements: str
  fact_cache_plugin:
    description:
      - The cache plugin that holds the facts the nodes reported.
      - By default the fact cache Ansible is configured with (C(fact_caching)), which is where the playbook
        C(katacontainers.kata.sandbox_inventory) stores them.
    type: str
  fact_cache_connection:
    description:
      - The connection of O(fact_cache_plugin), for example the directory of C(ansible.builtin.jsonfile).
      - By default C(fact_caching_connection) when O(fact_cache_plugin) is not set.
    type: str
  fact_cache_prefix:
    description:
      - The key prefix of O(fact_cache_plugin). By default C(fact_caching_prefix) when O(fact_cache_plugin) is not set.
    type: str
  fact_cache_timeout:
    description:
      - Seconds the facts stay valid in O(fact_cache_plugin). By default C(fact_caching_timeout) when
        O(fact_cache_plugin) is not set. Older reports are not read.
    type: int
  include_unreachable:
    description:
      - Also make hosts of the sandboxes whose shim did not answer when the node reported them.
      - They are in the group C(kata_shim_unreachable); a command sent to them fails as UNREACHABLE when the shim still
        does not answer.
    type: bool
    default: true
  connection_plugin:
    description:
      - The value of C(ansible_connection) set on every host.
    type: str
    default: katacontainers.kata.kata_console
notes:
  - Host names contain a C(/). Ansible takes them in patterns and C(--limit) as they are (C(--limit 'shop/cart'),
    C(--limit 'shop/*')), but a fact cache plugin that stores one file per host, such as C(ansible.builtin.jsonfile),
    cannot store facts gathered from the sandbox hosts themselves. Do not gather facts from them with such a cache.
  - The hypervisor is read from the agent URL each sandbox's shim reports, as the runtimes build it (kata-containers
    3.0.0 C(src/runtime/virtcontainers/fc.go), C(clh.go), C(qemu.go); runtime-rs 4.1.0
    C(crates/hypervisor/src/{firecracker,ch,dragonball})). C(vsock://) is V(qemu); a C(hvsock://) path ending in
    C(clh.sock) is V(clh); one ending in C(kata.hvsock) is V(firecracker) (Go runtime, or a path through a
    C(firecracker) directory) or V(dragonball) (runtime-rs). Otherwise the host variable C(kata_hypervisor) is
    V(null) and the host is in no hypervisor group. Use O(compose) and O(keyed_groups) where the rule does not fit.
seealso:
  - plugin: katacontainers.kata.kata_console
    plugin_type: connection
  - module: katacontainers.kata.kata_sandbox_info
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
"""

EXAMPLES = r"""
# kata_sandboxes.yml: every sandbox the nodes reported, with the fact cache of ansible.cfg
plugin: katacontainers.kata.kata_sandboxes

# kata_sandboxes.yml: the fact cache named here, only two nodes, more groups and variables
plugin: katacontainers.kata.kata_sandboxes
fact_cache_plugin: ansible.builtin.jsonfile
fact_cache_connection: /var/cache/ansible/facts
nodes: [node1, node2]
compose:
  # run raw commands with a longer limit in the pods of the batch namespace
  kata_console_command_timeout: "600 if kata_pod is not none and kata_pod.namespace == 'batch' else 60"
groups:
  rust_on_qemu: kata_runtime == 'rust' and kata_hypervisor == 'qemu'
keyed_groups:
  - key: kata_pod.uid | default('none')
    prefix: pod_uid
# The refresh, then a command in the pods of the payments namespace that run under the kata-qemu handler:
#   ansible-playbook katacontainers.kata.sandbox_inventory -i nodes.ini
#   ansible 'kata_namespace_payments:&kata_handler_kata_qemu' -i kata_sandboxes.yml -m raw -a 'dmesg | tail -5'
"""

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.inventory.group import to_safe_group_name
from ansible.plugins.loader import cache_loader

FACT_NAME = 'kata_sandbox_inventory'
FACT_FORMAT = 1
RUNTIMES = ('go', 'rust')
ENGINES = ('containerd', 'crio')
# Host variables of the node's connection as the refresh playbook records them, and their host variable here.
NODE_VARS = (
    ('connection', 'kata_node_connection'),
    ('host', 'kata_node_host'),
    ('port', 'kata_node_port'),
    ('user', 'kata_node_user'),
    ('ssh_args', 'kata_node_ssh_args'),
    ('private_key_file', 'kata_node_private_key_file'),
    ('python', 'kata_node_python'),
    ('become', 'kata_node_become'),
    ('control_path_dir', 'kata_node_control_path_dir'),
)


def hypervisor_of(agent_url, runtime):
    """The hypervisor a shim's agent URL implies (see the plugin notes), or None."""
    if not isinstance(agent_url, str):
        return None
    scheme, sep, rest = agent_url.partition('://')
    if not sep:
        return None
    scheme = scheme.lower()
    if scheme == 'vsock':
        return 'qemu'
    if scheme != 'hvsock':
        return None
    path = rest.rpartition(':')[0] or rest
    parts = path.split('/')
    if parts[-1] == 'clh.sock':
        return 'clh'
    if parts[-1] == 'kata.hvsock':
        if runtime == 'rust' and 'firecracker' not in parts:
            return 'dragonball'
        return 'firecracker'
    return None


def _text(value):
    return value if isinstance(value, str) and value else None


def _node_value(key, value):
    """A value of the node's connection as the refresh recorded it, in its type. Before ansible-core 2.19 a template
    that gives None gives '' instead, and numbers and booleans may come as text."""
    if value is None or value == '':
        return None
    if key == 'port':
        return int(value) if isinstance(value, int) or str(value).isdigit() else value
    if key == 'become':
        return value if isinstance(value, bool) else str(value).lower() in ('true', 'yes', '1', 'on')
    return value


class Sandbox(object):
    """One sandbox as a node reported it, with the names and groups it gets."""

    def __init__(self, node, report, entry):
        self.node = node
        self.report = report
        self.entry = entry
        self.id = entry['id']
        pod = entry.get('pod')
        self.pod = pod if isinstance(pod, dict) and _text(pod.get('namespace')) and _text(pod.get('name')) else None
        self.runtime = entry.get('runtime') if entry.get('runtime') in RUNTIMES else None
        self.hypervisor = hypervisor_of(entry.get('agent_url'), self.runtime)
        self.name = None

    def names(self):
        """The candidate host names, preferred first (the last one is unique per node and sandbox)."""
        if self.pod is None:
            # No "/" here: a file fact cache would look for this host's facts under the node's own facts file.
            return ['%s@%s' % (self.id, self.node)]
        base = '%s/%s' % (self.pod['namespace'], self.pod['name'])
        return [base, '%s@%s' % (base, self.node), '%s@%s/%s' % (base, self.node, self.id)]


def assign_names(sandboxes):
    """Give each sandbox the first of its names that no other sandbox also wants at that level."""
    pending = list(sandboxes)
    taken = set()
    level = 0
    while pending:
        wanted = {}
        for sandbox in pending:
            names = sandbox.names()
            wanted.setdefault(names[min(level, len(names) - 1)], []).append(sandbox)
        pending = []
        for name, group in wanted.items():
            if len(group) == 1 and name not in taken:
                group[0].name = name
                taken.add(name)
            else:
                pending.extend(group)
        if level >= 2 and pending:
            # Only the same node reported twice could get here (its fact cache key is unique): number them.
            for index, sandbox in enumerate(pending):
                name = '%s#%d' % (sandbox.names()[-1], index + 1)
                sandbox.name = name
                taken.add(name)
            pending = []
        level += 1
    return sandboxes


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Kata sandboxes as hosts, from the nodes' reports in the fact cache."""

    NAME = 'katacontainers.kata.kata_sandboxes'

    def verify_file(self, path):
        if super(InventoryModule, self).verify_file(path):
            return path.endswith(('kata_sandboxes.yml', 'kata_sandboxes.yaml'))
        return False

    # reading the reports

    def _fact_cache(self):
        plugin = self.get_option('fact_cache_plugin')
        if plugin:
            options = {}
            for option, key in (('fact_cache_connection', '_uri'), ('fact_cache_prefix', '_prefix'),
                                ('fact_cache_timeout', '_timeout')):
                if self.get_option(option) is not None:
                    options[key] = self.get_option(option)
        else:
            plugin = C.CACHE_PLUGIN
            options = {}
        cache = cache_loader.get(plugin, **options)
        if cache is None:
            raise AnsibleParserError('fact_cache_plugin: cannot load the cache plugin %r' % plugin)
        try:
            # The file caches take an unset prefix as none when they store, but their keys() needs a string.
            if cache.get_option('_prefix') is None:
                cache.set_option('_prefix', '')
        except (KeyError, AttributeError):
            pass
        return cache

    def read_reports(self):
        """``{node: report}`` from the fact cache (only nodes that reported, and those of ``nodes``)."""
        cache = self._fact_cache()
        wanted = self.get_option('nodes')
        reports = {}
        try:
            keys = sorted(cache.keys())
        except Exception as exc:  # pylint: disable=broad-exception-caught  # cache plugins raise what their backend raises
            raise AnsibleParserError('cannot list the hosts of the fact cache: %s' % exc) from exc
        for node in keys:
            if wanted is not None and node not in wanted:
                continue
            try:
                facts = cache.get(node)
            except KeyError:
                continue  # expired between keys() and get()
            except Exception as exc:  # pylint: disable=broad-exception-caught
                raise AnsibleParserError('cannot read the facts of %s from the fact cache: %s' % (node, exc)) from exc
            report = facts.get(FACT_NAME) if isinstance(facts, dict) else None
            if report is None:
                continue
            reports[node] = self._checked(node, report)
        return reports

    @staticmethod
    def _checked(node, report):
        """The report of ``node`` as plain data, or AnsibleParserError saying what is wrong with it."""
        where = 'the %s fact of node %s' % (FACT_NAME, node)
        if not isinstance(report, dict):
            raise AnsibleParserError('%s is %s, expected a dict (run the playbook katacontainers.kata.sandbox_inventory '
                                     'again)' % (where, type(report).__name__))
        if report.get('format') != FACT_FORMAT:
            raise AnsibleParserError('%s has the format %r, this plugin reads format %d (run the playbook '
                                     'katacontainers.kata.sandbox_inventory of this collection again)'
                                     % (where, report.get('format'), FACT_FORMAT))
        sandboxes = report.get('sandboxes')
        if not isinstance(sandboxes, list):
            raise AnsibleParserError('%s has no list of sandboxes' % where)
        clean = []
        for index, entry in enumerate(sandboxes):
            if not isinstance(entry, dict) or not _text(entry.get('id')):
                raise AnsibleParserError('%s: sandboxes[%d] has no sandbox ID' % (where, index))
            clean.append(entry)
        return dict(report, sandboxes=clean)

    # building the inventory

    def sandboxes(self, reports):
        found = []
        include_unreachable = self.get_option('include_unreachable')
        for node in sorted(reports):
            for entry in reports[node]['sandboxes']:
                if not include_unreachable and not entry.get('reachable', True):
                    continue
                found.append(Sandbox(node, reports[node], entry))
        return assign_names(found)

    def _host_vars(self, sandbox):
        report = sandbox.report
        entry = sandbox.entry
        connection = report.get('connection') if isinstance(report.get('connection'), dict) else {}
        pod = None
        if sandbox.pod is not None:
            pod = dict((key, sandbox.pod.get(key)) for key in ('namespace', 'name', 'uid', 'handler', 'engine'))
        variables = {
            'ansible_connection': self.get_option('connection_plugin'),
            'kata_node': sandbox.node,
            'kata_sandbox_id': sandbox.id,
            'kata_runtime': sandbox.runtime,
            'kata_hypervisor': sandbox.hypervisor,
            'kata_pod': pod,
            'kata_agent_url': entry.get('agent_url'),
            'kata_shim_socket': entry.get('socket'),
            'kata_shim_reachable': bool(entry.get('reachable', True)),
            'kata_shim_error': entry.get('error'),
            'kata_sandbox_root': report.get('sandbox_root'),
            'kata_rs_sandbox_root': report.get('rs_sandbox_root'),
            'kata_reported': report.get('reported'),
        }
        for key, var in NODE_VARS:
            variables[var] = _node_value(key, connection.get(key))
        return variables

    def _groups(self, sandbox):
        groups = ['kata_sandboxes', 'kata_node_%s' % sandbox.node]
        if sandbox.pod is not None:
            groups.append('kata_namespace_%s' % sandbox.pod['namespace'])
            groups.append('kata_pod_%s_%s' % (sandbox.pod['namespace'], sandbox.pod['name']))
            if _text(sandbox.pod.get('handler')):
                groups.append('kata_handler_%s' % sandbox.pod['handler'])
            if sandbox.pod.get('engine') in ENGINES:
                groups.append('kata_engine_%s' % sandbox.pod['engine'])
        if sandbox.hypervisor:
            groups.append('kata_hypervisor_%s' % sandbox.hypervisor)
        if sandbox.runtime:
            groups.append('kata_runtime_%s' % sandbox.runtime)
        if not sandbox.entry.get('reachable', True):
            groups.append('kata_shim_unreachable')
        # Always made safe, whatever TRANSFORM_INVALID_GROUP_CHARS says: pod, node and handler names are full of "-" and ".".
        return [to_safe_group_name(group, force=True, silent=True) for group in groups]

    def populate(self, hosts):
        strict = self.get_option('strict')
        for host in hosts:
            name = host['name']
            self.inventory.add_host(name)
            for group in host['groups']:
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
            for key, value in host['vars'].items():
                self.inventory.set_variable(name, key, value)
            variables = self.inventory.get_host(name).get_vars()
            self._set_composite_vars(self.get_option('compose'), variables, name, strict=strict)
            variables = self.inventory.get_host(name).get_vars()
            self._add_host_to_composed_groups(self.get_option('groups'), variables, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option('keyed_groups'), variables, name, strict=strict)

    def hosts(self, reports):
        """What populate() adds: ``[{name, groups, vars}]``, plain data (also what the inventory cache keeps)."""
        return [{'name': s.name, 'groups': self._groups(s), 'vars': self._host_vars(s)} for s in self.sandboxes(reports)]

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option('cache') and cache
        update_cache = self.get_option('cache') and not cache
        hosts = None
        if use_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            try:
                hosts = self.hosts(self.read_reports())
            except AnsibleError:
                raise
            except Exception as exc:  # pylint: disable=broad-exception-caught
                raise AnsibleParserError('cannot read the Kata sandbox reports: %s' % exc) from exc
        if update_cache:
            self._cache[cache_key] = hosts
        self.populate(hosts)
