# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer: the one ``kata-runtime --version`` probe (kata_check, kata_env, kata_runtime_info).

kata-runtime prints ``kata-runtime  : <version>``, then ``commit   : <commit>`` and ``OCI specs: <version>``
(``makeVersionString``, kata-containers 3.0.0 ``src/runtime/cmd/kata-runtime/main.go``); the version is read with
_release.parse_runtime_version (strict SemVer, as kata's own release check requires).
"""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError


def version_output(path, run_command, option=None):
    """What ``<path> --version`` prints when it exits 0, else None.

    ``run_command`` is AnsibleModule.run_command (or the same signature). A program that cannot be executed at all is
    an ArgumentError naming ``option`` when the user gave its path (``runtime_path``), else None.
    """
    try:
        # handle_exceptions=False: AnsibleModule.run_command would otherwise fail the task with a bare
        # "Error executing command." for a file it cannot execute.
        rc, out, dummy_err = run_command([path, '--version'], handle_exceptions=False)
    except (OSError, ValueError) as exc:
        if option:
            raise ArgumentError('%s: cannot run %s: %s' % (option, path, getattr(exc, 'strerror', None) or exc))
        return None
    return out if rc == 0 else None


def runtime_version(path, run_command, option=None):
    """The version ``<path> --version`` reports (a SemVer string), or None (see version_output)."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._release import parse_runtime_version

    return parse_runtime_version(version_output(path, run_command, option))


def runtime_version_info(path, run_command, option=None):
    """kata-runtime env's ``Version`` of the runtime: ``{semver, commit, major, minor, patch}``, or None."""
    from ansible_collections.katacontainers.kata.plugins.module_utils._release import parse_runtime_version

    out = version_output(path, run_command, option)
    semver = parse_runtime_version(out)
    if not semver:
        return None
    core = semver.split('-', 1)[0].split('+', 1)[0].split('.')
    numbers = [int(x) if x.isdigit() else 0 for x in (core + ['0', '0', '0'])[:3]]
    commit = ''
    for line in out.splitlines():
        if line.strip().startswith('commit') and ':' in line:
            value = line.split(':', 1)[1].strip()
            commit = '' if value == '<<unknown>>' else value  # env reports "" where version prints <<unknown>>
    return dict(semver=semver, commit=commit, major=numbers[0], minor=numbers[1], patch=numbers[2])
