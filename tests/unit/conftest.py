# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared unit-test fixtures.

Real host data lives in the repository under ``tests/fixtures``: /proc/cpuinfo dumps of many machines
(``cpuinfo/``, with SOURCES.md) and Kata's configuration files as its build renders them (``kata-configs/``, with
README.md). A fresh clone has everything its tests need.
"""

from __future__ import annotations

# The unprivileged child below can only use the modules its parent has already imported: the interpreter's own
# library may be out of the user nobody's reach (pyenv's under /root, mode 0700). So the standard modules that the code
# it tests imports lazily are imported here (ctypes: _factory's umount2).
import ctypes  # noqa: F401, pylint: disable=unused-import
import importlib
import os
import pickle
import pkgutil
import shutil
import tempfile

import pytest

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')
CPUINFO_DIR = os.path.join(FIXTURES, 'cpuinfo')
KATA_CONFIGS_DIR = os.path.join(FIXTURES, 'kata-configs')


@pytest.fixture
def cpuinfo_fixture():
    """Return a function that reads ``tests/fixtures/cpuinfo/<name>`` as text."""
    def read(name):
        with open(os.path.join(CPUINFO_DIR, name), 'rb') as f:
            return f.read().decode('utf-8')
    return read


NOBODY = 65534


def _preload_ansible_profiles():
    """Import what ansible-core (2.19+) imports lazily when a module exits: its JSON profiles.

    ansible-test runs the units with ansible-core in a private temporary directory that nobody cannot read.
    """
    try:
        from ansible.module_utils._internal._json import _profiles  # pylint: disable=import-outside-toplevel
    except ImportError:
        return
    for info in pkgutil.iter_modules(_profiles.__path__):
        importlib.import_module('%s.%s' % (_profiles.__name__, info.name))


def _unprivileged_child(func, write_fd):
    try:
        _preload_ansible_profiles()
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        outcome = ('return', func())
    except BaseException as exc:  # pylint: disable=broad-exception-caught
        outcome = ('raise', type(exc).__name__, getattr(exc, 'msg', str(exc)))
    try:
        data = pickle.dumps(outcome)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        data = pickle.dumps(('raise', 'PicklingError', str(exc)))
    with os.fdopen(write_fd, 'wb') as pipe:
        pipe.write(data)


@pytest.fixture
def unprivileged():
    """Run ``func()`` in a forked child as the unprivileged user nobody (65534) and return what it did.

    The suite runs as root in CI, where permission errors cannot happen; the code paths that report them still need
    real tests. Returns ``('return', value)`` or ``('raise', exception class name, its msg)``. Files the child must
    reach have to be reachable by nobody: make them under ``world_tmp``.
    """
    def call(func):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            os.close(read_fd)
            try:
                _unprivileged_child(func, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd, 'rb') as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        return pickle.loads(data)
    if os.geteuid() != 0:
        return _as_outcome
    return call


def _as_outcome(func):
    try:
        return ('return', func())
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return ('raise', type(exc).__name__, getattr(exc, 'msg', str(exc)))


@pytest.fixture
def world_tmp():
    """A scratch directory that the user nobody can traverse (pytest's tmp_path is private to root)."""
    path = tempfile.mkdtemp(prefix='kata-unpriv-')
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        for top, dirs, _files in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(top, name), 0o700)
        shutil.rmtree(path, ignore_errors=True)
