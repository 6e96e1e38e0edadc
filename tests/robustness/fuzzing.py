# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fuzz part of the robustness suite: every atheris target of tests/fuzz, briefly (see tests/fuzz/run.py)."""

from __future__ import annotations

import importlib.util
import os
import sys

import rlib

FUZZ_RUNNER = os.path.join(rlib.REPO, 'tests', 'fuzz', 'run.py')


def _runner():
    spec = importlib.util.spec_from_file_location('kata_fuzz_run', FUZZ_RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(python, seconds=20.0, out=sys.stdout, jobs=2):
    try:
        import atheris  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel,import-error
    except ImportError:
        return [rlib.CaseResult('fuzz', 'fuzz', 'atheris', 'missing',
                                ['atheris is not installed in %s (pip install atheris)' % python])]
    results = []
    for target in _runner().run(seconds=seconds, jobs=jobs, python=python, out=out):
        problems = [] if target.ok else ['crash: %s' % (', '.join(target.crashes) or 'the target failed')]
        results.append(rlib.CaseResult('fuzz', 'fuzz %s' % target.name, '%d runs' % target.runs, 'fuzzed', problems,
                                       elapsed=target.seconds, note='%d inputs' % target.runs))
    return results
