# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one place where module_utils errors become Ansible results.

A module file builds its AnsibleModule (this file's, which refuses option values of the wrong JSON type before
ansible-core converts them, see ``_argtypes``) and calls ``run(module, work)``; ``work(module)`` returns the result
dict.
"""

from __future__ import annotations

import traceback

from ansible.module_utils import basic
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.katacontainers.kata.plugins.module_utils._argtypes import masked_params, type_error
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    KataError,
    MissingDependencyError,
)


class AnsibleModule(basic.AnsibleModule):
    """ansible-core's AnsibleModule, refusing an option value of the wrong JSON type instead of converting it.

    The raw parameters are checked as soon as they are loaded, before ansible-core's argument validation converts
    them (a list given for a string would become its text), and the task fails naming the option; nothing else has
    run yet. ``_load_params`` is the hook: AnsibleModule calls it first, on every ansible-core from 2.15 on.
    """

    def _load_params(self):
        super(AnsibleModule, self)._load_params()
        error = type_error(self.argument_spec, self.params)
        if error:
            invocation = {'module_args': masked_params(self.argument_spec, self.params)}
            self._set_internal_properties()
            self.fail_json(msg=error, invocation=invocation)


def run(module, work):
    """Run ``work(module)`` and exit with its result; turn every error into a clean ``fail_json``.

    ``work`` may return a result with ``failed=True`` and ``msg``: it is then reported as a failure that keeps
    every other key of the result (the data a user needs to see why).
    """
    try:
        result = work(module)
    except MissingDependencyError as exc:
        module.fail_json(msg=missing_required_lib(exc.library, reason=exc.reason), exception=exc.exception)
    except KataError as exc:
        details = dict(exc.details)
        if 'path' in details:
            # AnsibleModule decorates any result with a 'path' key with that file's owner, mode, size...:
            # noise in an error. The file is still named, as 'file'.
            details['file'] = details.pop('path')
        module.fail_json(msg=exc.msg, **details)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # A bug in the collection, not the user's fault: say so, keep the traceback for -vvv only.
        module.fail_json(
            msg='Unexpected error in %s: %s: %s' % (module._name, type(exc).__name__, exc),  # pylint: disable=protected-access
            exception=traceback.format_exc())
    if result.get('failed'):
        # A result the module judged a failure (e.g. kata_check on an incapable host): keep all of its data.
        module.fail_json(**result)
    module.exit_json(**result)
