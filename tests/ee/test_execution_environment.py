# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment metadata (meta/execution-environment.yml) with the real ansible-builder, no container.

An execution environment that includes this collection is built in stages: ansible-galaxy installs the collection,
then ansible-builder's introspect script reads the installed collection's meta/execution-environment.yml and writes
the Python and system requirements the image gets. These tests build the collection tarball, let
``ansible-builder create`` make the build context of such an image, check the Containerfile, then run the stages that
need no container engine with the context's own files: the galaxy install of its requirements.yml and its
introspect.py. The requirement files that come out must be the collection's, valid for pip and bindep.

Run: ``.venv/bin/python -m pytest tests/ee`` (needs ansible-builder in the same environment as ansible-core).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
META = os.path.join(ROOT, 'meta', 'execution-environment.yml')
FROM_COLLECTION = '  # from collection katacontainers.kata'
BASE_IMAGE = 'ghcr.io/ansible-community/community-ee-base:latest'


def _tool(name):
    """A command-line tool of the environment that runs the tests (beside its Python first, then on PATH)."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if found is None:
        pytest.fail('%s is not installed beside %s nor on PATH: pip install ansible-builder' % (name, sys.executable))
    return found


def _run(argv, cwd=None):
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False,
                          universal_newlines=True)
    assert proc.returncode == 0, '%s failed (%d):\n%s' % (' '.join(argv), proc.returncode, proc.stdout)
    return proc.stdout


def _requirement_lines(path):
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith('#')]


@pytest.fixture(scope='module')
def metadata():
    with open(META, encoding='utf-8') as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    """The collection built from this tree, as ansible-galaxy builds it for Galaxy."""
    out = tmp_path_factory.mktemp('dist')
    _run([_tool('ansible-galaxy'), 'collection', 'build', '--output-path', str(out), ROOT])
    names = os.listdir(str(out))
    assert len(names) == 1 and names[0].startswith('katacontainers-kata-') and names[0].endswith('.tar.gz')
    return os.path.join(str(out), names[0])


@pytest.fixture(scope='module')
def context(tmp_path_factory, tarball):
    """The build context ansible-builder creates for an execution environment that includes the collection."""
    work = tmp_path_factory.mktemp('ee')
    shutil.copy(tarball, str(work))
    name = os.path.basename(tarball)
    with open(str(work / 'requirements.yml'), 'w', encoding='utf-8') as f:
        yaml.safe_dump({'collections': [{'name': 'collections/' + name, 'type': 'file'}]}, f)
    definition = {
        'version': 3,
        'images': {'base_image': {'name': BASE_IMAGE}},
        'dependencies': {'galaxy': 'requirements.yml'},
        'additional_build_files': [{'src': name, 'dest': 'collections'}],
    }
    with open(str(work / 'execution-environment.yml'), 'w', encoding='utf-8') as f:
        yaml.safe_dump(definition, f)
    _run([_tool('ansible-builder'), 'create', '-f', 'execution-environment.yml', '-c', 'context',
          '--output-filename', 'Containerfile'], cwd=str(work))
    return {'dir': str(work / 'context'), 'tarball': name}


def test_metadata_names_relative_requirement_files(metadata):
    assert metadata == {'version': 1,
                        'dependencies': {'python': 'meta/ee-requirements.txt', 'system': 'meta/ee-bindep.txt'}}
    for path in metadata['dependencies'].values():
        assert not os.path.isabs(path)      # introspection refuses absolute paths
        assert _requirement_lines(os.path.join(ROOT, path))


def test_python_requirements_are_valid_pep508(metadata):
    from packaging.requirements import Requirement

    lines = _requirement_lines(os.path.join(ROOT, metadata['dependencies']['python']))
    parsed = dict((Requirement(line).name, Requirement(line)) for line in lines)
    assert sorted(parsed) == ['jmespath', 'tomli']
    assert str(parsed['tomli'].marker) == 'python_version < "3.11"'
    assert not parsed['jmespath'].marker


def test_system_requirements_are_valid_bindep(metadata):
    from bindep.depends import Depends

    with open(os.path.join(ROOT, metadata['dependencies']['system']), encoding='utf-8') as f:
        depends = Depends(f.read())
    assert [rule[0] for rule in depends.active_rules(['platform:dpkg'])] == ['openssh-client']
    assert [rule[0] for rule in depends.active_rules(['platform:rpm'])] == ['openssh-clients']


def test_tarball_ships_the_metadata(tarball, metadata):
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
    assert 'meta/execution-environment.yml' in names
    assert set(metadata['dependencies'].values()) <= names


def test_create_writes_the_build_context(context):
    base = context['dir']
    files = sorted(os.path.relpath(os.path.join(d, n), base) for d, dummy, ns in os.walk(base) for n in ns)
    assert files == sorted([
        'Containerfile',
        '_build/collections/' + context['tarball'],
        '_build/requirements.yml',
        '_build/scripts/assemble',
        '_build/scripts/check_ansible',
        '_build/scripts/check_galaxy',
        '_build/scripts/entrypoint',
        '_build/scripts/install-from-bindep',
        '_build/scripts/introspect.py',
        '_build/scripts/pip_install',
    ])
    with open(os.path.join(base, '_build', 'requirements.yml'), encoding='utf-8') as f:
        assert yaml.safe_load(f) == {'collections': [{'name': 'collections/' + context['tarball'], 'type': 'file'}]}
    with open(os.path.join(base, 'Containerfile'), encoding='utf-8') as f:
        containerfile = f.read()
    for line in ('ARG EE_BASE_IMAGE="%s"' % BASE_IMAGE,
                 'FROM $EE_BASE_IMAGE AS base',
                 'COPY _build /build',
                 'RUN ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 ansible-galaxy collection install '
                 '$ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml --collections-path "/usr/share/ansible/collections"',
                 'RUN $PYCMD /output/scripts/introspect.py introspect --write-bindep=/tmp/src/bindep.txt '
                 '--write-pip=/tmp/src/requirements.txt',
                 'RUN /output/scripts/assemble',
                 'RUN /output/scripts/install-from-bindep && rm -rf /output/wheels',
                 'LABEL ansible-execution-environment=true'):
        assert line + '\n' in containerfile


def test_build_stages_without_a_container_give_the_collection_requirements(context, metadata, tmp_path):
    """The galaxy stage (install requirements.yml in _build) and the introspection of the builder stage."""
    build = os.path.join(context['dir'], '_build')
    collections = str(tmp_path / 'collections')
    # --force: where ANSIBLE_COLLECTIONS_PATH already holds this collection (make exports it), galaxy would skip it.
    _run([_tool('ansible-galaxy'), 'collection', 'install', '--force', '-r', 'requirements.yml', '-p', collections],
         cwd=build)
    assert os.path.isfile(os.path.join(collections, 'ansible_collections', 'katacontainers', 'kata', 'meta',
                                       'execution-environment.yml'))
    pip_out, bindep_out = str(tmp_path / 'requirements.txt'), str(tmp_path / 'bindep.txt')
    _run([sys.executable, os.path.join(build, 'scripts', 'introspect.py'), 'introspect',
          '--write-pip=' + pip_out, '--write-bindep=' + bindep_out, collections])
    with open(pip_out, encoding='utf-8') as f:
        pip_lines = f.read().splitlines()
    with open(bindep_out, encoding='utf-8') as f:
        bindep_lines = f.read().splitlines()
    assert pip_lines == [line + FROM_COLLECTION for line in
                         _requirement_lines(os.path.join(ROOT, metadata['dependencies']['python']))]
    assert bindep_lines == [line + FROM_COLLECTION for line in
                            _requirement_lines(os.path.join(ROOT, metadata['dependencies']['system']))]
    assert pip_lines[0] == 'jmespath>=0.9.0' + FROM_COLLECTION
    assert bindep_lines == ['openssh-clients [platform:rpm]' + FROM_COLLECTION,
                            'openssh-client [platform:dpkg]' + FROM_COLLECTION]
