# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A benchmark aid, like ansible.posix's profile_tasks callback: the wall time of every task of a run, as JSON.

Enabled with ANSIBLE_CALLBACK_PLUGINS=benchmarks/callback_plugins ANSIBLE_CALLBACKS_ENABLED=task_profile; writes the
file named by KATA_TASK_PROFILE (a list of {task, seconds}, in order, the time from a task's start to the next one's
or to the end of the play, which is what each task costs under the linear strategy; "startup" is from the
callback's loading to the first task).
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_profile
type: aggregate
short_description: Wall time of every task, as JSON (benchmarks only)
description:
  - Writes the wall time of each task to the file named by the environment variable C(KATA_TASK_PROFILE).
requirements:
  - enable in the callbacks_enabled setting
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'task_profile'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._start = time.monotonic()
        self._rows = []
        self._current = ('startup', self._start)

    def _close(self, now):
        name, started = self._current
        self._rows.append(dict(task=name, seconds=round(now - started, 3)))

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.monotonic()
        self._close(now)
        self._current = (task.get_name(), now)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_playbook_on_stats(self, stats):
        now = time.monotonic()
        self._close(now)
        path = os.environ.get('KATA_TASK_PROFILE')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(dict(total=round(now - self._start, 3), tasks=self._rows), handle, indent=1)
