# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every fuzz target shares: importing the collection (instrumented for coverage), seeds, and the entry point.

A target module defines ``test_one_input(data)`` and ``SEEDS`` (a list of bytes) and ends with
``fuzzlib.main(test_one_input, SEEDS)``. Run it as ``python fuzz_<name>.py [libFuzzer flags] [corpus dirs]``, or
``python fuzz_<name>.py --write-seeds DIR`` to write its seeds; tests/fuzz/run.py does both for every target.
Expected failures of a parser (its documented exceptions) are caught in the target; anything else is a crash, and
atheris writes the input that caused it (``crash-<sha1>``) to the artifact prefix.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def _collection_path():
    """A directory whose ``ansible_collections/katacontainers/kata`` is this checkout (the runner passes one)."""
    given = os.environ.get('KATA_FUZZ_COLLECTIONS')
    if given:
        return given
    home = tempfile.mkdtemp(prefix='kata-fuzz-')
    os.makedirs(os.path.join(home, 'ansible_collections', 'katacontainers'))
    os.symlink(REPO, os.path.join(home, 'ansible_collections', 'katacontainers', 'kata'))
    atexit.register(shutil.rmtree, home, True)
    return home


sys.path.insert(0, _collection_path())

import atheris  # noqa: E402  pylint: disable=wrong-import-position,import-error


def instrumented():
    """``with fuzzlib.instrumented(): import ...``: the collection's code is instrumented for coverage."""
    return atheris.instrument_imports(include=['ansible_collections.katacontainers'])


def provider(data):
    return atheris.FuzzedDataProvider(data)


def text(data):
    """The input as text, the way the modules decode what they read (UTF-8, bad bytes replaced)."""
    return data.decode('utf-8', 'replace')


def main(test_one_input, seeds):
    if len(sys.argv) == 3 and sys.argv[1] == '--write-seeds':
        os.makedirs(sys.argv[2], exist_ok=True)
        for index, seed in enumerate(seeds):
            with open(os.path.join(sys.argv[2], 'seed-%03d' % index), 'wb') as f:
                f.write(seed)
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
