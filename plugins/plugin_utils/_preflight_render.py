# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet readiness report as Markdown and HTML (controller side): the templates of the
``katacontainers.kata.preflight`` role, roles/preflight/templates/preflight.md.j2 and preflight.html.j2, rendered with
Jinja2 in the calling process.

The ``kata_preflight_report`` action (the role's report files) and the ``preflight_markdown`` and ``preflight_html``
filters render them here, found relative to the collection, so the three give the same bytes. The HTML template is
autoescaped: every value it outputs is HTML-escaped, with the entities of Python's ``html.escape`` (``&quot;`` and
``&#x27;`` for the quotes) that the report always used. The wording both formats share (the summary line, the cells
of a runtime handler's row) and the facts a host's details list are made by the functions below, which return plain
text that the templates escape.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping

import jinja2
from markupsafe import Markup

from ansible.errors import AnsibleFilterError

from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import (
    EXTRA_COLUMNS,
    GENERATOR,
    HANDLER_STATUSES,
    REPORT_FORMAT,
    STATES,
    STATUSES,
)

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            'roles', 'preflight', 'templates')
TEMPLATES = {'markdown': 'preflight.md.j2', 'html': 'preflight.html.j2'}

TITLE = 'Kata Containers fleet readiness'
STATUS_LABELS = {'capable': 'capable', 'not_capable': 'not capable', 'unreachable': 'unreachable',
                 'failed': 'failed', 'pending': 'pending'}
# 'na' is a check a host does not have (a matrix cell with no row).
STATE_SYMBOLS = {'ok': '\u2713', 'fail': '\u2717', 'warn': '!', 'waived': '~', 'untested': '?', 'na': '\u00b7'}
STATE_LABELS = {'ok': 'passed', 'fail': 'failed', 'warn': 'optional requirement not met',
                'waived': 'failed, waived by policy', 'untested': 'not tested', 'na': 'not checked on this host'}
# How the runtimes of kata_runtime_info are named in the reports.
RUNTIME_LABELS = {'go': 'Go', 'rust': 'runtime-rs'}
DEFAULT_HANDLER = '(default)'

_MD_SPECIAL = re.compile(r'([\\`*_\[\]|<>#])')


def md(value):
    """Text safe inside a Markdown table cell or list item (special characters escaped, one line)."""
    text = ' '.join(str(value).split())
    return _MD_SPECIAL.sub(r'\\\1', text)


def summary_line(summary):
    """``4 hosts: 1 capable, ...; 3 runtime handlers checked: ...``."""
    parts = ['%d %s' % (summary.get(s, 0), STATUS_LABELS[s]) for s in STATUSES]
    if summary.get('pending'):
        parts.append('%d pending' % summary['pending'])
    total = summary.get('total', 0)
    line = '%d %s: %s' % (total, 'host' if total == 1 else 'hosts', ', '.join(parts))
    handlers = summary.get('runtimes')
    if isinstance(handlers, Mapping):
        count = handlers.get('total', 0)
        line += '; %d %s checked: %s' % (count, 'runtime handler' if count == 1 else 'runtime handlers', ', '.join(
            '%d %s' % (handlers.get(s, 0), STATUS_LABELS[s]) for s in HANDLER_STATUSES))
    return line


def runtime_cells(handler):
    """The texts of one runtime handler's row: handler, runtime, hypervisor, configuration, verdict, failed checks."""
    config = handler.get('config') or 'none found'
    source = handler.get('config_source')
    if handler.get('handler') is None and source:
        kind, dummy, name = source.partition(':')
        config += ' (%s)' % {'default': 'default lookup', 'option': 'kata_preflight_config',
                             'engine': 'the configuration of the runtime handler %s' % name}.get(kind, source)
    return (handler.get('handler') or DEFAULT_HANDLER,
            RUNTIME_LABELS.get(handler.get('runtime'), handler.get('runtime') or 'unknown'),
            handler.get('hypervisor') or 'unknown', config,
            STATUS_LABELS.get(handler.get('status'), handler.get('status') or 'unknown'),
            ', '.join(handler.get('failed_checks') or []))


def fact_lines(facts, handlers=0):
    """(label, text) pairs of the facts that matter, in display order; unknown values say so."""
    def value(key, unknown='unknown'):
        item = facts.get(key)
        return unknown if item is None or item == '' else str(item)

    cpu = ' '.join(x for x in (facts.get('cpu_vendor'), facts.get('cpu_model')) if x) or 'unknown'
    if facts.get('cpus'):
        cpu += ' (%s CPUs)' % facts['cpus']
    hypervisor = value('hypervisor')
    extra = [x for x in (facts.get('hypervisor_path'), facts.get('hypervisor_version')) if x]
    if extra and handlers < 2:
        hypervisor += ' (%s)' % ', '.join(str(x) for x in extra)
    memory = facts.get('memory_total_kb')
    lines = [
        ('Kernel', value('kernel')),
        ('Architecture', value('arch')),
        ('Distribution', value('distro')),
        ('CPU', cpu),
        ('Memory', '%.1f GiB' % (memory / 1048576.0) if isinstance(memory, (int, float)) and memory else 'unknown'),
        ('Hypervisor', hypervisor),
        ('Kata Containers', value('kata_version') + (' (%s)' % facts['kata_runtime'] if facts.get('kata_runtime') else '')),
        ('Configuration', value('config', 'none found') if handlers < 2 else
         'one per runtime handler (%d, see the runtime handlers)' % handlers),
        ('vhost-vsock', {True: 'yes', False: 'no'}.get(facts.get('support_vsocks'), 'unknown')),
    ]
    protections = facts.get('guest_protections')
    if protections:
        lines.append(('Guest protections', ', '.join(str(p) for p in protections)))
    return lines


def rows_by_id(rows):
    """``{id: row}`` of a host's check rows (the first row of each id): the matrix cell of each column."""
    found = {}
    for row in rows:
        found.setdefault(row['id'], row)
    return found


def _finalize(eval_ctx, value):
    """In an autoescaped template, each value output is escaped as ``html.escape`` does (None is empty)."""
    if not eval_ctx.autoescape or hasattr(value, '__html__'):
        return value
    return Markup(html.escape('' if value is None else str(value), quote=True))


_ENVIRONMENT = None


def _environment():
    global _ENVIRONMENT  # pylint: disable=global-statement
    if _ENVIRONMENT is None:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=jinja2.select_autoescape(enabled_extensions=('html', 'html.j2'), default_for_string=True,
                                                default=False),
            finalize=jinja2.pass_eval_context(_finalize), undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False)
        environment.filters['md'] = md
        environment.globals.update(
            title=TITLE, generator=GENERATOR, report_format=REPORT_FORMAT, statuses=list(STATUSES),
            states=list(STATES), status_labels=STATUS_LABELS, state_labels=STATE_LABELS, state_symbols=STATE_SYMBOLS,
            extra_columns=list(EXTRA_COLUMNS), summary_line=summary_line, runtime_cells=runtime_cells,
            fact_lines=fact_lines, rows_by_id=rows_by_id)
        _ENVIRONMENT = environment
    return _ENVIRONMENT


def check_report(report, name):
    """AnsibleFilterError naming ``name`` unless ``report`` is a report of katacontainers.kata.preflight_report."""
    if not isinstance(report, Mapping) or report.get('format') != REPORT_FORMAT or 'hosts' not in report:
        raise AnsibleFilterError('%s: the input must be a report made by katacontainers.kata.preflight_report (format %d)'
                                 % (name, REPORT_FORMAT))


def render(report, fmt, name=None):
    """The report as text in ``fmt`` (``markdown`` or ``html``); AnsibleFilterError naming ``name`` for a report the
    templates cannot show (not one of preflight_report, or a host entry without the fields they need)."""
    name = name or 'preflight_' + fmt
    check_report(report, name)
    try:
        template = _environment().get_template(TEMPLATES[fmt])
    except jinja2.TemplateNotFound as exc:
        raise AnsibleFilterError('%s: the template %s is missing from %s' % (name, exc, TEMPLATE_DIR))
    try:
        return template.render(report=report)
    except (jinja2.UndefinedError, KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('%s: the report is not one katacontainers.kata.preflight_report made: %s' % (name, exc))


def preflight_markdown(report):
    """The report as Markdown: summary, one table row per host and per runtime handler, then the reasons of every host
    that is not capable."""
    return render(report, 'markdown', 'preflight_markdown')


def preflight_html(report):
    """The report as one self-contained HTML page: summary counts, the host-by-check matrix, per-host details."""
    return render(report, 'html', 'preflight_html')
