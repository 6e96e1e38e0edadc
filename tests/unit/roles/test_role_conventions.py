# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The naming and documentation conventions of the collection's roles.

ansible-lint's var-naming[no-role-prefix] wants ``<role>_`` prefixes (``metrics_``), while the collection's roles
use ``kata_<role>_`` (.ansible-lint skips that rule), so this test checks the collection's own prefixes instead:

- public variables (defaults/main.yml, meta/argument_specs.yml, facts the role sets for its users, loop variables a
  template may see): ``kata_<role>_``;
- internal variables (vars/main.yml, set_fact, task vars): ``_kata_<role>_``; registered results: ``__kata_<role>_``;
- every default is declared in meta/argument_specs.yml with the same default;
- every role has a README.md (galaxy-importer refuses a role without one) that names each of its variables.
"""

from __future__ import annotations

import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
ROLES_DIR = os.path.join(ROOT, 'roles')
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if not name.startswith('_')) if os.path.isdir(ROLES_DIR) else []
TASK_LISTS = ('block', 'rescue', 'always')


def _load(role, *parts):
    path = os.path.join(ROLES_DIR, role, *parts)
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def _specs(role):
    data = _load(role, 'meta', 'argument_specs.yml') or {}
    return data.get('argument_specs', {}).get('main', {}).get('options', {})


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for key in TASK_LISTS:
            if key in task:
                yield from _tasks(task[key])


def _task_files(role):
    directory = os.path.join(ROLES_DIR, role, 'tasks')
    for name in sorted(os.listdir(directory)):
        if name.endswith(('.yml', '.yaml')):
            yield name, _load(role, 'tasks', name)


def _set_fact_args(task):
    for key in ('ansible.builtin.set_fact', 'set_fact'):
        if isinstance(task.get(key), dict):
            return dict((k, v) for k, v in task[key].items() if k != 'cacheable')
    return {}


@pytest.mark.parametrize('role', ROLES)
def test_defaults_are_public_and_declared(role):
    public = 'kata_%s_' % role
    defaults = _load(role, 'defaults', 'main.yml') or {}
    specs = _specs(role)
    assert specs, 'roles/%s/meta/argument_specs.yml declares no option' % role
    assert [name for name in specs if not name.startswith(public)] == []
    assert [name for name in defaults if not name.startswith(public)] == []
    assert [name for name in defaults if name not in specs] == []
    mismatched = [(name, defaults[name], spec.get('default')) for name, spec in specs.items()
                  if name in defaults and defaults[name] != spec.get('default')]
    assert mismatched == []
    # An option with a default in the spec but none in defaults/main.yml would be undefined in the tasks.
    assert [name for name, spec in specs.items() if spec.get('default') is not None and name not in defaults] == []


@pytest.mark.parametrize('role', ROLES)
def test_internal_names(role):
    public, internal, registered = 'kata_%s_' % role, '_kata_%s_' % role, '__kata_%s_' % role
    role_vars = _load(role, 'vars', 'main.yml') or {}
    assert [name for name in role_vars if not name.startswith(internal)] == []
    bad = []
    for file_name, tasks in _task_files(role):
        for task in _tasks(tasks):
            where = '%s: %s' % (file_name, task.get('name'))
            register = task.get('register')
            if register and not register.startswith(registered):
                bad.append((where, 'register', register))
            for name in _set_fact_args(task):
                if not name.startswith((internal, public)):
                    bad.append((where, 'set_fact', name))
            for name in task.get('vars') or {}:
                if not name.startswith((internal, public)):
                    bad.append((where, 'vars', name))
            loop_var = (task.get('loop_control') or {}).get('loop_var')
            if loop_var and not loop_var.startswith(public):
                bad.append((where, 'loop_var', loop_var))
    assert bad == []


@pytest.mark.parametrize('role', ROLES)
def test_readme_names_every_variable(role):
    path = os.path.join(ROLES_DIR, role, 'README.md')
    assert os.path.isfile(path), 'roles/%s/README.md is missing (galaxy-importer needs one per role)' % role
    with open(path, encoding='utf-8') as f:
        readme = f.read()
    assert [name for name in _specs(role) if name not in readme] == []


@pytest.mark.parametrize('role', ROLES)
def test_meta_main(role):
    meta = _load(role, 'meta', 'main.yml')
    assert meta is not None, 'roles/%s/meta/main.yml is missing' % role
    info = meta['galaxy_info']
    assert info['license'] == 'GPL-3.0-or-later'
    assert info['description']
    assert meta.get('dependencies', []) == []
