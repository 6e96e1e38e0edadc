# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README as Galaxy shows it: complete content list, links that work there, ad-hoc commands with an inventory.

* Every module, role, playbook and filter of the tree has its line in the README (a link named after it).
* Galaxy renders the README outside the repository, so a link to a file of the repository is an absolute URL under
  galaxy.yml's ``repository`` (``/blob/main/<file>`` or ``/tree/main/<directory>``), and that path exists. Relative
  links are left to ``#anchors`` of the README itself.
* Every ``ansible`` and ``ansible-playbook`` command of its shell examples names an inventory (``-i``): without one,
  ``ansible all`` matches no host and quietly succeeds.
"""

from __future__ import annotations

import glob
import os
import re
import shlex

import pytest
import yaml

from ansible_collections.katacontainers.kata.tests.unit import test_repository as repository

ROOT = repository.ROOT

with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as _f:
    REPOSITORY_URL = yaml.safe_load(_f)['repository'].rstrip('/')

_CODE_BLOCK_RE = re.compile(r'^```(\w*)\n(.*?)^```', re.M | re.S)


def _files(pattern, suffix):
    """The names of the files ``pattern`` matches, without ``suffix``."""
    return sorted(os.path.basename(path)[:-len(suffix)] for path in glob.glob(os.path.join(ROOT, pattern)))


def _roles():
    return sorted(os.path.basename(os.path.dirname(os.path.dirname(path)))
                  for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'main.yml')))


def readme():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        return f.read()


def listed(text, name, url_part):
    """Whether the README has a ``[`name`](<repository>/blob/main/<url_part>...)`` link."""
    return re.search(r'\[`%s`\]\(%s/blob/main/%s' % (re.escape(name), re.escape(REPOSITORY_URL), re.escape(url_part)),
                     text) is not None


CONTENT = (
    [('module', name, 'plugins/modules/%s.py' % name) for name in _files('plugins/modules/*.py', '.py')]
    + [('filter', name, 'plugins/filter/%s.py' % name) for name in _files('plugins/filter/*.py', '.py')]
    + [('role', name, 'roles/%s/' % name) for name in _roles()]
    # A playbook is listed on the line of the role of the same name ("role and playbook"), or on its own line when
    # no role has its name.
    + [('playbook', name, 'roles/%s/' % name if name in _roles() else 'playbooks/%s.yml' % name)
       for name in _files('playbooks/*.yml', '.yml')]
)


def test_content_is_found():
    kinds = set(kind for kind, _name, _path in CONTENT)
    assert kinds == {'module', 'filter', 'role', 'playbook'}


@pytest.mark.parametrize('kind, name, url_part', CONTENT, ids=['%s %s' % (k, n) for k, n, _p in CONTENT])
def test_every_content_has_its_line(kind, name, url_part):
    assert listed(readme(), name, url_part), '%s %s is not listed in README.md' % (kind, name)


def test_links_work_outside_the_repository():
    bad = []
    for target in repository.markdown_links(readme()):
        if target.startswith('#'):
            continue
        if not re.match(r'^https://', target):
            bad.append('%s (relative: Galaxy cannot follow it)' % target)
            continue
        match = re.match(r'^%s/(blob|tree)/main/([^#?]+)' % re.escape(REPOSITORY_URL), target)
        if target.startswith(REPOSITORY_URL + '/') and not match:
            bad.append('%s (not a /blob/main/ or /tree/main/ URL)' % target)
        elif match:
            path = os.path.join(ROOT, match.group(2))
            if match.group(1) == 'blob' and not os.path.isfile(path):
                bad.append('%s (no such file)' % target)
            elif match.group(1) == 'tree' and not os.path.isdir(path):
                bad.append('%s (no such directory)' % target)
    assert not bad


def test_anchors_name_headings():
    slugs = set(repository.heading_slug(h) for h in repository.markdown_headings(readme()))
    anchors = [t[1:] for t in repository.markdown_links(readme()) if t.startswith('#')]
    assert anchors
    assert [a for a in anchors if a not in slugs] == []


def shell_commands(text):
    """The ``ansible`` and ``ansible-playbook`` command lines of the README's sh blocks, continuations joined."""
    commands = []
    for lang, body in _CODE_BLOCK_RE.findall(text):
        if lang != 'sh':
            continue
        for line in body.replace('\\\n', ' ').splitlines():
            argv = shlex.split(line, comments=True)
            if argv and argv[0] in ('ansible', 'ansible-playbook'):
                commands.append(argv)
    return commands


def test_ad_hoc_commands_name_an_inventory():
    commands = shell_commands(readme())
    assert len(commands) >= 3
    assert [' '.join(argv) for argv in commands if '-i' not in argv] == []


def test_shell_commands_are_found_in_code_blocks_only():
    text = 'ansible all -m x\n```sh\nansible all \\\n  -i h, -m y  # comment\nmake test\n```\n```yaml\nansible: z\n```\n'
    assert shell_commands(text) == [['ansible', 'all', '-i', 'h,', '-m', 'y']]
