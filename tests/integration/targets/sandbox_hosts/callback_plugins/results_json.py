# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes every task's per-host results as JSON to the file named by $KATA_RESULTS_JSON, for verify.py (the json
stdout callback left ansible-core for ansible.posix, which the tests do not install)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: results_json
short_description: Per-host results of every task, as JSON, in a file
description:
  - Test helper of the sandbox_hosts target.
type: notification
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'results_json'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.tasks = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.tasks.append({'task': task.get_name(), 'hosts': {}})

    def _record(self, result, **extra):
        data = dict(result._result)
        data.update(extra)
        self.tasks[-1]['hosts'][result._host.get_name()] = data

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('KATA_RESULTS_JSON')
        if path:
            with open(path, 'w', encoding='utf-8') as f:
                json.dump({'plays': [{'tasks': self.tasks}]}, f, default=str)
