# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The import layers of plugins/module_utils, read from the source with ``ast`` (nothing is imported).

Layers, from the bottom:

* leaf: imports nothing of the collection but _errors (file reads, timeouts, excerpts, architecture names, TOML);
* clients/parsers: peers' protocols and the host's files (shim and cache clients, configuration, probes, sandboxes,
  volume store, console protocol); they import leaf modules and other clients/parsers;
* drivers: the work of one module each; they import leaf modules and clients/parsers, never another driver;
* glue: what turns a module's options and errors into Ansible's terms (``_module``, argument specs, the relay of
  the connection plugin); it may import anything.

Every import counts, also those inside functions (they are lazy, not absent). A package's ``__init__`` that
re-exports its own submodules is the package itself: those edges are exempt from the layer rules (not from the
cycle check). Every file must have a layer here, and a docstring saying what it is for, except a package's
``__init__.py``, which must be empty (ansible-test 2.15's empty-init sanity test): its submodules say what the
package is for.
"""

from __future__ import annotations

import ast
import os

import pytest

PREFIX = 'ansible_collections.katacontainers.kata.plugins.module_utils'
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'module_utils'))

LEAF, CLIENT, DRIVER, GLUE = 'leaf', 'clients/parsers', 'driver', 'glue'
RANK = {LEAF: 0, CLIENT: 1, DRIVER: 2, GLUE: 3}
LAYERS = {
    '_errors': LEAF, '_arch': LEAF, '_fs': LEAF, '_hypervisors': LEAF, '_limits': LEAF, '_text': LEAF, '_toml': LEAF,

    '_cache_client': CLIENT, '_capability': CLIENT, '_env': CLIENT, '_kvm': CLIENT, '_mount_info': CLIENT,
    '_pods': CLIENT, '_probes': CLIENT, '_prometheus': CLIENT, '_release': CLIENT, '_runtime_version': CLIENT,
    '_runtimes': CLIENT, '_sandbox': CLIENT, '_shim_client': CLIENT, '_volume_store': CLIENT,
    '_config': CLIENT, '_config._builders': CLIENT, '_config._env_sections': CLIENT, '_config._gotypes': CLIENT,
    '_config._load': CLIENT, '_config._loader': CLIENT, '_config._paths': CLIENT, '_config._rust': CLIENT,
    '_config._schema': CLIENT,
    '_console._address': CLIENT, '_console._dial': CLIENT, '_console._script': CLIENT, '_console._session': CLIENT,

    '_check': DRIVER, '_direct_volume': DRIVER, '_factory': DRIVER, '_iptables': DRIVER, '_metrics': DRIVER,
    '_runtime_info': DRIVER, '_sandbox_info': DRIVER, '_console._exec': DRIVER,
    '_console': CLIENT,  # an empty __init__.py: the protocol (clients/parsers) and kata_exec_cmd's driver

    '_argtypes': GLUE, '_host_options': GLUE, '_module': GLUE, '_console_relay': GLUE,
}
# The one module the leaf layer may import.
LEAF_ALLOWED = frozenset(('_errors',))


def module_name(root, path):
    """``_config._loader`` for ``<root>/_config/_loader.py``, ``_config`` for ``<root>/_config/__init__.py``."""
    rel = os.path.relpath(path, root)[:-len('.py')].split(os.sep)
    if rel[-1] == '__init__':
        rel = rel[:-1]
    return '.'.join(rel)


def _targets(node, known):
    """The module_utils modules an import node names (``from <PREFIX>._a import _b``: ``_a._b`` when that is a
    module, else ``_a``)."""
    found = []
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == PREFIX:
            found.extend(alias.name for alias in node.names)
        elif node.module.startswith(PREFIX + '.'):
            base = node.module[len(PREFIX) + 1:]
            subs = [base + '.' + alias.name for alias in node.names if base + '.' + alias.name in known]
            found.extend(subs or [base])
    elif isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.startswith(PREFIX + '.'):
                found.append(alias.name[len(PREFIX) + 1:])
    return found


def import_graph(root):
    """``{module: set of module_utils modules it imports}`` for every .py file under ``root`` (any depth of
    function or class: a lazy import is still a dependency)."""
    paths = []
    for directory, dummy_dirs, files in os.walk(root):
        paths.extend(os.path.join(directory, name) for name in files if name.endswith('.py'))
    known = set(module_name(root, path) for path in paths)
    graph = {}
    for path in sorted(paths):
        with open(path, encoding='utf-8') as handle:
            tree = ast.parse(handle.read(), path)
        name = module_name(root, path)
        graph[name] = set()
        for node in ast.walk(tree):
            for target in _targets(node, known):
                if target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph):
    """One import cycle as a list ``[a, b, ..., a]``, or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 'done'
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def _own_part(importer, imported):
    """A package's __init__ importing its own submodule."""
    return imported.startswith(importer + '.')


def layer_problems(graph, layers):
    """Sentences naming every import that breaks the layer rules, and every module without a layer."""
    problems = []
    for name in sorted(graph):
        if name not in layers:
            problems.append('%s has no layer (add it to LAYERS)' % name)
            continue
        layer = layers[name]
        for imported in sorted(graph[name]):
            if _own_part(name, imported):
                continue
            other = layers.get(imported)
            if other is None:
                problems.append('%s imports %s, which has no layer' % (name, imported))
            elif layer == LEAF and imported not in LEAF_ALLOWED:
                problems.append('%s (leaf) imports %s: a leaf module imports nothing but _errors' % (name, imported))
            elif layer == DRIVER and other == DRIVER:
                problems.append('%s (driver) imports the driver %s' % (name, imported))
            elif layer != GLUE and RANK[other] > RANK[layer]:
                problems.append('%s (%s) imports %s (%s), a higher layer' % (name, layer, imported, other))
    return problems


def test_module_utils_has_no_import_cycle():
    graph = import_graph(ROOT)
    assert '_config._loader' in graph and '_console' in graph  # the packages are read
    assert find_cycle(graph) is None


def test_module_utils_layers():
    assert layer_problems(import_graph(ROOT), LAYERS) == []


def test_every_module_utils_file_says_what_it_is_for():
    for name in import_graph(ROOT):
        path = os.path.join(ROOT, *name.split('.'))
        if os.path.isdir(path):
            with open(os.path.join(path, '__init__.py'), encoding='utf-8') as handle:
                assert handle.read() == '', '%s/__init__.py must be empty (ansible-test 2.15, empty-init)' % name
            continue
        with open(path + '.py', encoding='utf-8') as handle:
            docstring = ast.get_docstring(ast.parse(handle.read()))
        assert docstring and docstring.split('\n')[0].strip(), '%s has no docstring saying what it is for' % name


def test_the_shim_client_and_the_sandbox_module_are_not_a_cycle_any_more():
    graph = import_graph(ROOT)
    assert '_sandbox' not in graph['_shim_client']
    assert not graph['_sandbox_info'] & {'_direct_volume', '_shim_client'}
    assert not graph['_metrics'] & {'_shim_client'}


# --- the checker itself, on made-up trees -------------------------------------------------------------------------

def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(str(root), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('"""A made-up file."""\n' + text)
    return str(root)


def test_checker_finds_a_cycle_through_a_lazy_import(tmp_path):
    root = write_tree(tmp_path, {
        '_a.py': 'from %s._b import f\n' % PREFIX,
        '_b.py': 'def f():\n    from %s import _c\n' % PREFIX,
        '_c.py': 'from %s._a import g\n' % PREFIX,
        '_d.py': 'from %s._a import g\n' % PREFIX,
    })
    graph = import_graph(root)
    assert graph == {'_a': {'_b'}, '_b': {'_c'}, '_c': {'_a'}, '_d': {'_a'}}
    assert find_cycle(graph) == ['_a', '_b', '_c', '_a']


def test_checker_accepts_a_tree_without_cycle(tmp_path):
    root = write_tree(tmp_path, {
        '_a.py': 'from %s._b import f\nfrom %s import _c\n' % (PREFIX, PREFIX),
        '_b.py': 'from %s._c import g\n' % PREFIX,
        '_c.py': 'import os\n',
    })
    assert find_cycle(import_graph(root)) is None


def test_checker_reads_packages_and_their_submodules(tmp_path):
    root = write_tree(tmp_path, {
        '_pkg/__init__.py': 'from %s._pkg._one import f\n' % PREFIX,
        '_pkg/_one.py': 'from %s._pkg._two import g\n' % PREFIX,
        '_pkg/_two.py': 'from %s._pkg import _one\n' % PREFIX,
        '_user.py': 'from %s._pkg import f\n' % PREFIX,
    })
    graph = import_graph(root)
    assert graph == {'_pkg': {'_pkg._one'}, '_pkg._one': {'_pkg._two'}, '_pkg._two': {'_pkg._one'}, '_user': {'_pkg'}}
    assert find_cycle(graph) == ['_pkg._one', '_pkg._two', '_pkg._one']


@pytest.mark.parametrize('files, layers, expected', [
    ({'_leaf.py': 'from %s import _client\n', '_client.py': ''},
     {'_leaf': LEAF, '_client': CLIENT},
     ['_leaf (leaf) imports _client: a leaf module imports nothing but _errors']),
    ({'_leaf.py': 'from %s import _other_leaf\n', '_other_leaf.py': ''},
     {'_leaf': LEAF, '_other_leaf': LEAF},
     ['_leaf (leaf) imports _other_leaf: a leaf module imports nothing but _errors']),
    ({'_one.py': 'def f():\n    from %s._two import g\n', '_two.py': ''},
     {'_one': DRIVER, '_two': DRIVER},
     ['_one (driver) imports the driver _two']),
    ({'_client.py': 'from %s import _driver\n', '_driver.py': ''},
     {'_client': CLIENT, '_driver': DRIVER},
     ['_client (clients/parsers) imports _driver (driver), a higher layer']),
    ({'_new.py': ''}, {}, ['_new has no layer (add it to LAYERS)']),
    ({'_glue.py': 'from %s import _driver, _errors\n', '_driver.py': 'from %s import _errors\n', '_errors.py': ''},
     {'_glue': GLUE, '_driver': DRIVER, '_errors': LEAF},
     []),
])
def test_checker_names_each_broken_layer_rule(tmp_path, files, layers, expected):
    root = write_tree(tmp_path, dict((name, text.replace('%s', PREFIX)) for name, text in files.items()))
    assert layer_problems(import_graph(root), layers) == expected
