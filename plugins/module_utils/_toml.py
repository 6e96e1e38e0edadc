# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Leaf layer: the TOML parser, the standard library's ``tomllib`` (Python 3.11+) or ``tomli`` before.

Imports nothing of the collection but _errors.
"""

from __future__ import annotations

import traceback

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import MissingDependencyError


def toml_module():
    """Return the TOML parser module: ``tomllib`` (Python 3.11+) or ``tomli``; MissingDependencyError otherwise."""
    try:
        import tomllib as module
    except ImportError:
        try:
            import tomli as module
        except ImportError:
            raise MissingDependencyError('tomli', exception=traceback.format_exc(),
                                         reason='(needed to read Kata configuration files on Python < 3.11)')
    return module
