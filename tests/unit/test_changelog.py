# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module, filter, role and playbook is, or will be, in the release notes, exactly once.

antsibull-changelog lists a module or plugin in the release whose version equals its ``version_added``, and roles and
playbooks from ``add object.role`` / ``add object.playbook`` fragments. So content that is not in a released version
of changelogs/changelog.yaml must have a ``version_added`` later than the last release (content added after a release
with the released version would never be listed), and content that is listed must say the version that lists it.
"""

from __future__ import annotations

import ast
import glob
import os

import pytest
import yaml

from ansible.module_utils.compat.version import LooseVersion

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_yaml(*path):
    with open(os.path.join(ROOT, *path), encoding='utf-8') as f:
        return yaml.safe_load(f)


CHANGELOG = _load_yaml('changelogs', 'changelog.yaml')
RELEASES = CHANGELOG.get('releases') or {}
LAST_RELEASE = max(RELEASES, key=LooseVersion) if RELEASES else None


def released(kind, name):
    """The released versions whose notes list ``name`` (kind: module, filter, role or playbook)."""
    versions = []
    for version, release in RELEASES.items():
        if kind == 'module':
            entries = release.get('modules') or []
        elif kind in ('role', 'playbook'):
            entries = (release.get('objects') or {}).get(kind) or []
        else:
            entries = (release.get('plugins') or {}).get(kind) or []
        if any(entry['name'] == name for entry in entries):
            versions.append(version)
    return versions


def documented_version_added(path):
    """``version_added`` of the DOCUMENTATION of a module or plugin file, read without importing it."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'DOCUMENTATION' for t in node.targets):
            return str(yaml.safe_load(node.value.value)['version_added'])
    raise AssertionError('%s has no DOCUMENTATION' % path)


def fragment_objects(kind):
    """The names of the ``add object.<kind>`` entries of the fragments waiting for the next release."""
    names = []
    for path in glob.glob(os.path.join(ROOT, 'changelogs', 'fragments', '*.y*ml')):
        with open(path, encoding='utf-8') as f:
            fragment = yaml.safe_load(f) or {}
        names += [entry['name'] for entry in fragment.get('add object.%s' % kind) or []]
    return names


PLUGINS = ([('module', os.path.basename(p)[:-3], p) for p in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'modules', '*.py')))]
           + [('filter', os.path.basename(p)[:-3], p) for p in sorted(glob.glob(os.path.join(ROOT, 'plugins', 'filter', '*.py')))])
OBJECTS = ([('role', os.path.basename(os.path.dirname(os.path.dirname(p))))
            for p in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'main.yml')))]
           + [('playbook', os.path.basename(p)[:-4]) for p in sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))])


def test_a_release_is_recorded_and_galaxy_is_not_behind_it():
    assert LAST_RELEASE is not None
    assert LooseVersion(str(_load_yaml('galaxy.yml')['version'])) >= LooseVersion(LAST_RELEASE)


@pytest.mark.parametrize('kind, name, path', PLUGINS, ids=['%s %s' % (k, n) for k, n, _p in PLUGINS])
def test_plugin_version_added_matches_the_release_notes(kind, name, path):
    version_added = documented_version_added(path)
    versions = released(kind, name)
    if versions:
        assert versions == [version_added], '%s %s: listed in %s, version_added %s' % (kind, name, versions, version_added)
    else:
        assert LooseVersion(version_added) > LooseVersion(LAST_RELEASE), (
            '%s %s is not in a released changelog, so its version_added must be the next release (after %s), '
            'not %s: antsibull-changelog would never list it' % (kind, name, LAST_RELEASE, version_added))


@pytest.mark.parametrize('kind, name', OBJECTS, ids=['%s %s' % (k, n) for k, n in OBJECTS])
def test_roles_and_playbooks_are_listed_once(kind, name):
    listings = released(kind, name) + ['next release'] * fragment_objects(kind).count(name)
    assert len(listings) == 1, '%s %s: listed in %s; add it once in an "add object.%s" fragment' % (
        kind, name, listings or 'no release and no fragment', kind)
