# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_runtime_info: the runtime handlers of the host's container engines and the Kata installations
(both read by _runtimes), with the handlers asked for."""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError
from ansible_collections.katacontainers.kata.plugins.module_utils._probes import Host
from ansible_collections.katacontainers.kata.plugins.module_utils._runtimes import (
    find_handlers,
    find_installations,
    unknown_handlers,
)


def runtime_info_module(module):
    """kata_runtime_info: ``runtimes``, ``installations`` and ``warnings`` (also shown by Ansible) of the host."""
    host = Host(module.params['host_root'])
    handlers, warnings = find_handlers(host)
    names = module.params.get('handlers')
    if names:
        problem = unknown_handlers('handlers', names, [h['handler'] for h in handlers])
        if problem:
            raise ArgumentError(problem)
        handlers = [h for h in handlers if h['handler'] in names]
    installations = find_installations(host, run_command=module.run_command if module.params['versions'] else None,
                                       handlers=handlers)
    for warning in warnings:
        module.warn(warning)
    return {'changed': False, 'runtimes': handlers, 'installations': installations, 'runtime_warnings': warnings}
