# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Markdown and HTML of the readiness report: the preflight role's templates, byte for byte what the report
always was, with every text escaped.

preflight_golden/ holds the renderings of the reports below as the Python renderer of
plugins/plugin_utils/_preflight.py wrote them (before the report moved to the templates of the preflight role): the
reports of test_preflight.py, and one with hostile texts in every field a renderer shows (host names, check
descriptions and details, kata-runtime messages, warnings, facts, the time stamp). Run this file with
``--write-golden`` as the only argument of ``python`` to write them again after an intended change of the format.
"""

from __future__ import annotations

import copy
import os
import sys

import pytest

from ansible.errors import AnsibleActionFail, AnsibleFilterError

from ansible_collections.katacontainers.kata.plugins.action.kata_preflight_report import render as action_render
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import (
    preflight_report,
    preflight_verdict,
)
from ansible_collections.katacontainers.kata.plugins.plugin_utils import _preflight_render as render
from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight_render import (
    preflight_html,
    preflight_markdown,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.filter.test_preflight import (
    UNREACHABLE,
    env_result,
    fleet_hostvars,
    handlers_report,
    intel_check,
    parse,
    small_report,
)

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'preflight_golden')

HOSTILE_HOST = 'evil"host\'<b>&amp;|`*_[x](y)#'


def hostile_report():
    """Markup, quotes, entities, Markdown specials, newlines and non-ASCII text in every field the reports show."""
    check = intel_check(missing=('vmx',), can_create_vm=False)
    check['checks'][0]['description'] = 'Intel "Architecture" <CPU> & \'co\''
    check['checks'][1]['detail'] = 'CPU property <not> found: "vmx" & \'svm\'\nsecond line\u00a0\u2014 \u00e9'
    check['checks'][6]['found'] = '<N>'
    check['checks'][6]['expected'] = '"Y" & \'y\''
    check['messages'].append('<img src=x onerror=alert(1)> "quoted" & \'single\' \\ `tick`')
    check['config']['path'] = '/etc/kata/<conf>&"x".toml'
    env = env_result(kernel='6.1.0 <i>&"\'', model='Xeon <b>"quoted"</b> & co', kata='3.2.0-<rc>')
    env['ansible_facts']['kata_env']['warnings'] = ['warn <b>&</b> "x" \'y\'']
    env['ansible_facts']['kata_env']['host']['available_guest_protections'] = ['tdx<', '"snp"']
    env['ansible_facts']['kata_env']['hypervisor']['path'] = '/usr/bin/qemu "<x>"'
    hostvars = {
        HOSTILE_HOST: {'kata_preflight_verdict': preflight_verdict(
            check, env, policy={'min_kernel': '7.0', 'waived_checks': ['<x>']}, host=HOSTILE_HOST)},
        '<script>alert(1)</script>': {'kata_preflight_verdict': preflight_verdict(
            dict(UNREACHABLE, msg='Failed to connect: "<host>" & \'port\''), None, host='<script>alert(1)</script>')},
        'failed&': {'kata_preflight_verdict': preflight_verdict(
            dict(failed=True, changed=False, msg='host_root: </gone> & "x" is not a directory'), None, host='failed&')},
    }
    return preflight_report([HOSTILE_HOST, '<script>alert(1)</script>', 'failed&', "later'"], hostvars,
                            active_hosts=[HOSTILE_HOST, "later'"], generated_at='2026-01-02 <now> & "then"')


def action_report():
    verdict = preflight_verdict(dict(failed=True, changed=False, msg='host_root: /gone is not a directory'), None,
                                host='node-1')
    return preflight_report(['node-1'], {'node-1': {'kata_preflight_verdict': verdict}})


REPORTS = {
    'small': small_report,
    'handlers': handlers_report,
    'fleet': lambda: preflight_report(['intel', 'amd', 'arm', 'gone', 'early'], fleet_hostvars(),
                                      active_hosts=['intel', 'amd', 'arm', 'gone']),
    'pending': lambda: preflight_report(['intel', 'early'], fleet_hostvars(), active_hosts=['intel', 'early'],
                                        generated_at='2026-01-02'),
    'one': lambda: preflight_report(['intel'], fleet_hostvars()),
    'empty': lambda: preflight_report([], {}),
    'action': action_report,
    'hostile': hostile_report,
}
RENDERERS = {'md': preflight_markdown, 'html': preflight_html}


def golden(name, extension):
    with open(os.path.join(GOLDEN, '%s.%s' % (name, extension)), 'rb') as handle:
        return handle.read()


@pytest.mark.parametrize('extension', sorted(RENDERERS))
@pytest.mark.parametrize('name', sorted(REPORTS))
def test_rendering_is_unchanged(name, extension):
    report = REPORTS[name]()
    before = copy.deepcopy(report)
    assert RENDERERS[extension](report).encode('utf-8') == golden(name, extension)
    assert report == before


def write_golden():
    os.makedirs(GOLDEN, exist_ok=True)
    for name, make in sorted(REPORTS.items()):
        for extension, render in sorted(RENDERERS.items()):
            with open(os.path.join(GOLDEN, '%s.%s' % (name, extension)), 'wb') as handle:
                handle.write(render(make()).encode('utf-8'))


if __name__ == '__main__' and sys.argv[1:] == ['--write-golden']:
    write_golden()


# ---------------------------------------------------------------------------------------------------------------
# the templates

def test_the_templates_are_the_preflight_roles():
    role = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'roles', 'preflight')
    assert os.path.samefile(render.TEMPLATE_DIR, os.path.join(role, 'templates'))
    assert sorted(os.listdir(render.TEMPLATE_DIR)) == sorted(render.TEMPLATES.values())


@pytest.mark.parametrize('name', sorted(REPORTS))
def test_the_action_writes_the_same_bytes(name):
    for fmt, extension in (('markdown', 'md'), ('html', 'html')):
        assert action_render(REPORTS[name](), fmt) == golden(name, extension)


def test_hostile_texts_are_escaped_in_html():
    text = preflight_html(hostile_report())
    page = parse(text)
    # only the page's own elements: nothing a host name, a message or a fact brought in
    assert page.tags == {'html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'p', 'section', 'div', 'span',
                         'h2', 'table', 'thead', 'tr', 'th', 'tbody', 'a', 'td', 'article', 'h3', 'ul', 'li', 'details',
                         'summary', 'footer'}
    for raw in ('<script>', '<b>', '<img', '<i>', '<CPU>', '<conf>', '<now>', '"quoted"', "'single'", '&amp;|'):
        assert raw not in text, raw
    assert [a['attrs']['data-host'] for a in page.find('article')] == [
        HOSTILE_HOST, '<script>alert(1)</script>', 'failed&', "later'"]
    assert [a['text'] for a in page.find('h3')] == [
        HOSTILE_HOST + ' not capable', '<script>alert(1)</script> unreachable', 'failed& failed', "later' pending"]
    evil = page.find('article', data_host=HOSTILE_HOST)[0]['text']
    assert '<img src=x onerror=alert(1)> "quoted" & \'single\' \\ `tick`' in evil
    assert 'warn <b>&</b> "x" \'y\'' in evil
    assert 'Intel "Architecture" <CPU> & \'co\'' in [e['attrs'].get('title') for e in page.find('td')]
    assert page.find('p', **{'class': 'sub'})[0]['text'].endswith('generated 2026-01-02 <now> & "then"')
    assert text.count('&quot;') > 10 and text.count('&#x27;') > 5


def test_hostile_texts_are_escaped_in_markdown():
    text = preflight_markdown(hostile_report())
    assert '| evil"host\'\\<b\\>&amp;\\|\\`\\*\\_\\[x\\](y)\\# | not capable |' in text
    assert '\\<script\\>alert(1)\\</script\\>' in text and '<script>' not in text
    assert '\u00a0' not in text and 'found: "vmx" & \'svm\' second line' in text


@pytest.mark.parametrize('breakage, words', [
    (lambda r: r['hosts'][0].pop('status'), "'dict object' has no attribute 'status'"),
    (lambda r: r['hosts'][0].pop('host'), "'dict object' has no attribute 'host'"),
    (lambda r: r['hosts'][0]['checks'][0].update(state='great'), "has no attribute 'great'"),
])
def test_a_report_the_templates_cannot_show_is_an_error(breakage, words):
    report = small_report()
    breakage(report)
    for fmt, renderer in (('markdown', preflight_markdown), ('html', preflight_html)):
        if fmt == 'markdown' and 'great' in words:
            continue  # the Markdown has no per-check cells
        with pytest.raises(AnsibleFilterError) as exc_info:
            renderer(report)
        assert str(exc_info.value).startswith('preflight_%s: the report is not one katacontainers.kata.preflight_report '
                                              'made: ' % fmt)
        assert words in str(exc_info.value)
        with pytest.raises(AnsibleActionFail, match='^report: the report is not one'):
            action_render(report, fmt)
