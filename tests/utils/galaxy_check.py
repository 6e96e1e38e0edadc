# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What Galaxy will see of this collection (``make galaxy``).

1. The tarball is clean when built from a dirty working tree: the working tree is copied (without .git and .venv),
   one sample of every pattern in .gitignore is planted in the copy, ``ansible-galaxy collection build`` builds it, and
   no member of the tarball may be a path that git ignores (galaxy.yml's ``build_ignore`` must cover .gitignore).
2. galaxy-importer imports the tarball with no warning and no error, every module and filter it lists has its
   documentation, and the filters it lists are exactly the files of plugins/filter.
3. ``antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all
   --disallow-unknown-collection-refs`` is clean on the collection copy.

Usage: galaxy_check.py --root <git checkout> --work <scratch dir> --collection-dir <.../ansible_collections/ns/name>
The tools (ansible-galaxy, galaxy-importer, antsibull-docs) come from the virtualenv this script runs in.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

PLANT = 'planted-by-galaxy-check'
# Unanchored .gitignore patterns match at any depth: each is planted at the root and in these directories too.
DEEP_DIRS = ('plugins/filter', 'tests/unit')


def run(argv, **kwargs):
    print('+ ' + ' '.join(argv), flush=True)
    return subprocess.run(argv, check=True, **kwargs)


def plant_ignored_artifacts(root, tree):
    """Create one sample path for every pattern of .gitignore in ``tree``; return the paths made."""
    made = []
    with open(os.path.join(root, '.gitignore'), encoding='utf-8') as f:
        patterns = [line.strip() for line in f if line.strip() and not line.startswith('#')]
    for pattern in patterns:
        if pattern.startswith('!'):
            continue
        is_dir = pattern.endswith('/')
        body = pattern.strip('/').replace('*', PLANT)
        anchored = pattern.startswith('/') or '/' in body
        bases = [''] if anchored else [''] + list(DEEP_DIRS)
        for base in bases:
            path = os.path.join(tree, base, body)
            if is_dir:
                path = os.path.join(path, PLANT + '.txt')
            elif os.path.isdir(path):
                continue
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w', encoding='utf-8') as f:
                f.write('an artifact the collection tarball must not contain\n')
            made.append(os.path.relpath(path, tree))
    return made


def check_tarball(root, work):
    tree = os.path.join(work, 'tree', 'ansible_collections', 'katacontainers', 'kata')
    os.makedirs(tree)
    run(['rsync', '-a', '--exclude=/.git', '--exclude=/.venv', root + '/', tree + '/'])
    planted = plant_ignored_artifacts(root, tree)
    print('planted %d ignored artifacts: %s' % (len(planted), ', '.join(sorted(planted))))
    dist = os.path.join(work, 'dist')
    run([os.path.join(os.path.dirname(sys.executable), 'ansible-galaxy'), 'collection', 'build', '--force',
         '--output-path', dist], cwd=tree, stdout=subprocess.DEVNULL)
    tarballs = [name for name in os.listdir(dist) if name.endswith('.tar.gz')]
    if len(tarballs) != 1:
        sys.exit('galaxy: expected one tarball in %s, found %s' % (dist, tarballs))
    tarball = os.path.join(dist, tarballs[0])
    with tarfile.open(tarball) as tar:
        members = [member.name for member in tar.getmembers()]
    ignored = subprocess.run(['git', '-C', root, 'check-ignore', '--no-index', '--stdin'], input='\n'.join(members),
                             capture_output=True, text=True, check=False).stdout.split()
    leaked = sorted(set(ignored) | set(name for name in members if PLANT in name))
    if leaked:
        sys.exit('galaxy: the tarball holds %d ignored path(s), add them to build_ignore in galaxy.yml: %s'
                 % (len(leaked), ', '.join(leaked)))
    print('tarball %s: %d members, none of them ignored by git' % (os.path.basename(tarball), len(members)))
    return tarball


def check_importer(root, work, tarball):
    out_dir = os.path.join(work, 'importer')
    os.makedirs(out_dir)
    proc = subprocess.run([sys.executable, '-m', 'galaxy_importer.main', tarball], cwd=out_dir, capture_output=True,
                          text=True, check=False)
    log = proc.stdout + proc.stderr
    with open(os.path.join(out_dir, 'importer.log'), 'w', encoding='utf-8') as f:
        f.write(log)
    problems = [line for line in log.splitlines() if re.search(r'\b(WARNING|ERROR)\b', line)]
    if proc.returncode or problems or 'Importer processing completed successfully' not in log:
        sys.exit('galaxy: galaxy-importer (rc %d) reported:\n%s' % (proc.returncode, '\n'.join(problems) or log[-3000:]))
    with open(os.path.join(out_dir, 'importer_result.json'), encoding='utf-8') as f:
        result = json.load(f)
    contents = result['docs_blob']['contents']
    undocumented = sorted('%s %s' % (c['content_type'], c['content_name']) for c in contents
                          if c['content_type'] in ('module', 'filter', 'role') and not c['doc_strings']
                          and not c.get('readme_file'))
    if undocumented:
        sys.exit('galaxy: galaxy-importer found no documentation for: %s' % ', '.join(undocumented))
    filters = sorted(c['content_name'] for c in contents if c['content_type'] == 'filter')
    files = sorted(name[:-3] for name in os.listdir(os.path.join(root, 'plugins', 'filter')) if name.endswith('.py'))
    if filters != files:
        sys.exit('galaxy: galaxy-importer lists the filters %s, plugins/filter has %s' % (filters, files))
    counts = {}
    for content in contents:
        counts[content['content_type']] = counts.get(content['content_type'], 0) + 1
    print('galaxy-importer: no warning; %s' % ', '.join('%d %s' % (n, t) for t, n in sorted(counts.items())))


def check_docs(collection_dir):
    run([os.path.join(os.path.dirname(sys.executable), 'antsibull-docs'), 'lint-collection-docs', '--plugin-docs',
         '--validate-collection-refs', 'all', '--disallow-unknown-collection-refs', '.'], cwd=collection_dir)
    print('antsibull-docs lint-collection-docs: clean')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', required=True)
    parser.add_argument('--work', required=True)
    parser.add_argument('--collection-dir', required=True)
    args = parser.parse_args()
    root, work = os.path.abspath(args.root), os.path.abspath(args.work)
    # The tools run by name (ansible-doc, ansible-lint): this virtualenv's first.
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    tarball = check_tarball(root, work)
    check_importer(root, work, tarball)
    check_docs(os.path.abspath(args.collection_dir))
    print('make galaxy: passed')


if __name__ == '__main__':
    main()
