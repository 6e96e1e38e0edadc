# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Module glue: the argument spec of the options the host modules share (doc fragment ``katacontainers.kata._host``).

``config``, ``runtime``, ``hypervisor`` (choices: the one list, _hypervisors.HYPERVISOR_TYPES) and ``runtime_path``
(kata_check, kata_env, kata_factory), and ``host_root`` (kata_check, kata_env, kata_runtime_info, doc fragment
``katacontainers.kata._host.host_root``).
"""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import HYPERVISOR_TYPES

HOST_OPTIONS = ('config', 'runtime', 'hypervisor', 'runtime_path', 'host_root')


def host_argument_spec(*names):
    """A fresh argument spec of the shared host options ``names`` (all of HOST_OPTIONS when none is given)."""
    spec = dict(
        config=dict(type='path'),
        runtime=dict(type='str'),
        hypervisor=dict(type='str', choices=list(HYPERVISOR_TYPES)),
        runtime_path=dict(type='path'),
        host_root=dict(type='path', default='/'),
    )
    return dict((name, spec[name]) for name in (names or HOST_OPTIONS))
