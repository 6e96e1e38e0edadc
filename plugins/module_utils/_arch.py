# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Leaf layer: the one map from architecture names (``uname -m`` and Go's GOARCH) to kata's names.

kata-runtime is built for the GOARCH values of ``src/runtime/Makefile`` (``ARCH`` of kata-containers 3.0.0 to 4.1.0:
amd64, arm64, ppc64le, s390x, riscv64); the kernel reports them as ``x86_64``, ``aarch64``, ``ppc64le``, ``s390x``
and ``riscv64``. Imports nothing of the collection.
"""

from __future__ import annotations

# kata's (Go's GOARCH) names, in the order messages list them.
ARCHITECTURES = ('amd64', 'arm64', 'ppc64le', 's390x', 'riscv64')

# uname -m spellings and GOARCH names -> kata's name.
ARCH_ALIASES = {
    'amd64': 'amd64', 'x86_64': 'amd64',
    'arm64': 'arm64', 'aarch64': 'arm64',
    'ppc64le': 'ppc64le',
    's390x': 's390x',
    'riscv64': 'riscv64',
}


def kata_arch(name, default=None):
    """kata's name for the architecture ``name`` (either spelling), or ``default`` when kata is not built for it."""
    try:
        return ARCH_ALIASES.get(name, default)
    except TypeError:  # an unhashable value
        return default
