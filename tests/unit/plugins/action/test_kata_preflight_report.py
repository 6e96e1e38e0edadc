# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kata_preflight_report action: the report's files written on the controller, atomically, idempotently."""

from __future__ import annotations

import json
import os
import stat
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task

from ansible_collections.katacontainers.kata.plugins.action.kata_preflight_report import ActionModule
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import (
    preflight_report,
    preflight_verdict,
)
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight_render import (
    preflight_html,
    preflight_markdown,
)


def report():
    verdict = preflight_verdict(dict(failed=True, changed=False, msg='host_root: /gone is not a directory'), None,
                                host='node-1')
    return preflight_report(['node-1'], {'node-1': {'kata_preflight_verdict': verdict}})


def run(args, check_mode=False):
    task = Task()
    task.action = 'katacontainers.kata.kata_preflight_report'
    task.args = args
    task.check_mode = check_mode
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})


def test_writes_the_three_files_then_changes_nothing(tmp_path):
    dest = tmp_path / 'reports' / 'kata'
    data = report()
    result = run(dict(report=data, dest=str(dest)))
    files = [str(dest / name) for name in ('preflight.json', 'preflight.md', 'preflight.html')]
    assert (result['changed'], result['created_dest'], result['files'], result['changed_files']) == (
        True, True, files, files)
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o755
    with open(files[0], encoding='utf-8') as f:
        text = f.read()
    assert json.loads(text) == json.loads(json.dumps(data)) and text.endswith('}\n') and '\n  "columns"' in text
    assert (dest / 'preflight.md').read_text(encoding='utf-8') == preflight_markdown(data)
    assert (dest / 'preflight.html').read_text(encoding='utf-8') == preflight_html(data)
    assert all(stat.S_IMODE(os.stat(f).st_mode) == 0o644 for f in files)
    inodes = [os.stat(f).st_ino for f in files]
    again = run(dict(report=data, dest=str(dest)))
    assert (again['changed'], again['changed_files']) == (False, [])
    assert [os.stat(f).st_ino for f in files] == inodes
    # a changed mode or content is written again, through a new file (atomic rename), and nothing else is left
    changed = run(dict(report=data, dest=str(dest), formats=['html', 'json'], mode='0640'))
    assert changed['changed_files'] == [files[2], files[0]]
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o640 and os.stat(files[0]).st_ino != inodes[0]
    assert sorted(os.listdir(dest)) == ['preflight.html', 'preflight.json', 'preflight.md']


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / 'new'
    result = run(dict(report=report(), dest=str(dest), formats=['json']), check_mode=True)
    assert (result['changed'], result['created_dest'], result['changed_files']) == (True, True, [str(dest / 'preflight.json')])
    assert not dest.exists()


@pytest.mark.parametrize('args, message', [
    (dict(report={'format': 2, 'hosts': []}), 'report: expected a report made by the katacontainers.kata.preflight_report'),
    (dict(report=[1]), 'report: expected a dictionary, got an array'),
    # ansible-core's own words, which differ: "of type NoneType" (2.19+), "of type <class 'NoneType'>" (2.15)
    (dict(report=None), "argument 'report' is of type "),
    (dict(mode='0999'), "mode: '0999' is not an octal file mode; expected for example \"0644\""),
    (dict(mode='u=rw'), "mode: 'u=rw' is not an octal file mode"),
    (dict(formats=['pdf']), 'value of formats must be one or more of: json, markdown, html. Got no match for: pdf'),
    (dict(nope=1), 'Invalid options for katacontainers.kata.kata_preflight_report: nope'),
])
def test_bad_input_changes_nothing(tmp_path, args, message):
    dest = tmp_path / 'out'
    full = dict(dict(report=report(), dest=str(dest)), **args)
    with pytest.raises(AnsibleActionFail) as failure:
        run(full)
    assert message in str(failure.value)
    assert not dest.exists()


def test_dest_that_is_a_file(tmp_path):
    dest = tmp_path / 'file'
    dest.write_text('x')
    with pytest.raises(AnsibleActionFail, match='dest: .* exists and is not a directory'):
        run(dict(report=report(), dest=str(dest)))
    assert dest.read_text() == 'x'
