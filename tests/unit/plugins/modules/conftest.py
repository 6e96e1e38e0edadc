# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module's main() with arguments, as Ansible would, and return what it exited or failed with."""

from __future__ import annotations

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.katacontainers.kata.tests.unit.ansible_compat import (
    patch_module_args,
    reset_module_warnings,
    set_controller_context,
)


class ModuleExit(Exception):
    """exit_json was called; args[0] is the result."""


class ModuleFail(Exception):
    """fail_json was called; args[0] is the result."""


@pytest.fixture(autouse=True)
def no_syslog(monkeypatch):
    """No invocation logging to syslog from unit tests.

    It is not what they test, and since ansible-core 2.21 an argument holding a NUL byte fails there ("Failed to log
    to syslog") before the module sees its arguments.
    """
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: None)


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args, expect='exit'|'fail', check_mode=False) -> result dict``.

    The result carries ``warnings``: the texts the module passed to ``module.warn()`` during this run.
    """
    # Modules run in the module context (controller code imported by other tests flips this process-wide flag).
    set_controller_context(monkeypatch, False)

    def warnings():
        return list(ansible_warnings.get_warning_messages())

    def exit_json(self, **kwargs):
        kwargs['warnings'] = warnings()
        raise ModuleExit(kwargs)

    def fail_json(self, **kwargs):
        kwargs['failed'] = True
        kwargs['warnings'] = warnings()
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    def run(module, args, expect='exit', check_mode=False):
        # Each run starts with no warnings, as a module process does (before ansible-core 2.19 they are a list, and
        # a second run in the same test would report the first run's again).
        reset_module_warnings(monkeypatch)
        args = dict(args)
        if check_mode:
            args['_ansible_check_mode'] = True
        with patch_module_args(args):
            with pytest.raises(ModuleExit if expect == 'exit' else ModuleFail) as exc_info:
                module.main()
        return exc_info.value.args[0]
    return run
