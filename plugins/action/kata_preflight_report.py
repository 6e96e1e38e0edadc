# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kata_preflight_report action: the fleet readiness report's files, written on the controller in this process.

The preflight role used to write them with a ``file`` task and a ``copy`` loop: two local module processes per file
(copy runs stat first), seven in all, which was most of the role's fixed cost on a small fleet. Here the files are
rendered from the role's templates (roles/preflight/templates, by plugins/plugin_utils/_preflight_render.py) and
written atomically by the controller's worker, with no process.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ansible.errors import AnsibleActionFail, AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase
from ansible.plugins.filter.core import to_nice_json

from ansible_collections.katacontainers.kata.plugins.module_utils._argtypes import type_error
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import REPORT_FORMAT
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight_render import render as render_text

FORMATS = ('json', 'markdown', 'html')
EXTENSIONS = {'json': 'json', 'markdown': 'md', 'html': 'html'}
ARGUMENT_SPEC = dict(
    report=dict(type='dict', required=True),
    dest=dict(type='path', required=True),
    formats=dict(type='list', elements='str', choices=list(FORMATS), default=list(FORMATS)),
    mode=dict(type='str', default='0644'),
)


def render(report, fmt):
    """The bytes of one report file, as the role always wrote them (JSON as to_nice_json with indent 2)."""
    if fmt == 'json':
        text = to_nice_json(report, indent=2) + '\n'
    else:
        try:
            text = render_text(report, fmt, 'report')
        except AnsibleFilterError as exc:
            raise AnsibleActionFail(str(exc))
    return to_bytes(text, errors='surrogate_or_strict')


def parse_mode(value):
    """An octal file mode (``"0644"``, ``"644"``); AnsibleActionFail naming the value otherwise."""
    text = str(value).strip()
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not text or mode < 0 or mode > 0o7777:
        raise AnsibleActionFail('mode: %r is not an octal file mode; expected for example "0644"' % (value,))
    return mode


def _same(path, data, mode):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode):
        raise AnsibleActionFail('%s exists and is not a regular file; remove it or choose another dest' % path)
    if stat.S_IMODE(st.st_mode) != mode or st.st_size != len(data):
        return False
    with open(path, 'rb') as handle:
        return handle.read() == data


def write_atomically(path, data, mode):
    """Write ``data`` to ``path`` through a temporary file in the same directory, renamed into place."""
    directory = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class ActionModule(ActionBase):
    """Render the report and write its files on the controller."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        error = type_error(ARGUMENT_SPEC, self._task.args)
        if error:
            raise AnsibleActionFail(error)
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        report = args['report']
        if report.get('format') != REPORT_FORMAT or 'hosts' not in report:
            raise AnsibleActionFail('report: expected a report made by the katacontainers.kata.preflight_report filter '
                                    '(format %d)' % REPORT_FORMAT)
        mode = parse_mode(args['mode'])
        dest = os.path.abspath(os.path.expanduser(args['dest']))
        formats = []
        for fmt in args['formats']:
            if fmt not in formats:
                formats.append(fmt)
        if os.path.exists(dest) and not os.path.isdir(dest):
            raise AnsibleActionFail('dest: %s exists and is not a directory' % dest)
        check_mode = self._task.check_mode
        changed = []
        files = []
        created = not os.path.isdir(dest)
        if created and not check_mode:
            try:
                os.makedirs(dest, 0o755)
            except OSError as exc:
                raise AnsibleActionFail('dest: cannot create the directory %s: %s' % (dest, exc.strerror or exc))
        for fmt in formats:
            path = os.path.join(dest, 'preflight.%s' % EXTENSIONS[fmt])
            files.append(path)
            data = render(report, fmt)
            if not created and _same(path, data, mode):
                continue
            changed.append(path)
            if not check_mode:
                try:
                    write_atomically(path, data, mode)
                except OSError as exc:
                    raise AnsibleActionFail('cannot write %s: %s' % (path, exc.strerror or exc))
        result.update(changed=bool(changed) or created, dest=dest, files=files, changed_files=changed,
                      created_dest=created)
        return result
