# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet summary filter of the metrics role: per-host counts from registered kata_metrics results in hostvars."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.katacontainers.kata.plugins.filter.metrics_summary import (
    LEFT_THE_PLAY,
    NOT_YET,
    FilterModule,
    metrics_summary,
)

TIMEOUT = ('GET http://shim/metrics via /run/vc/sbs/bbbb/shim-monitor.sock: no complete answer within the timeout '
           'of 3 seconds')


def _ok(ids, errors=None):
    errors = errors or {}
    return {'changed': False, 'failed': False, 'sandboxes': [{'id': i, 'families': []} for i in ids], 'errors': errors,
            'scraped': len(ids), 'failures': len(errors)}


HOSTVARS = {
    'node1': {'scrape': _ok(['aaaa', 'cccc'], {'bbbb': TIMEOUT}), 'textfile': '/var/lib/prometheus/node-exporter/kata.prom'},
    'node2': {'scrape': _ok([])},
    'node3': {'scrape': {'failed': True, 'changed': False, 'msg': 'sandbox_root /run/vc/sbs: permission denied'}},
    'node4': {'scrape': {'unreachable': True, 'changed': False,
                         'msg': 'Task failed: Failed to connect to the host via ssh: Connection refused'}},
    'node5': {'other': 1},
    'node6': {},
    'node7': {'scrape': {'skipped': True, 'changed': False, 'skip_reason': 'Conditional result was False'}},
}


def _entry(host, status, scraped=None, failed=None, errors=None, msg=None, textfile=None):
    return {'host': host, 'status': status, 'scraped': scraped, 'failed': failed, 'errors': errors or {}, 'msg': msg,
            'textfile': textfile}


def test_summary_exact():
    hosts = ['node1', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7']
    summary = metrics_summary(hosts, HOSTVARS, 'scrape', textfile_var='textfile',
                              active_hosts=['node1', 'node2', 'node6'])
    assert summary == {
        'format': 1,
        'complete': False,
        'hosts': [
            _entry('node1', 'ok', 2, 1, {'bbbb': TIMEOUT}, textfile='/var/lib/prometheus/node-exporter/kata.prom'),
            _entry('node2', 'ok', 0, 0),
            _entry('node3', 'failed', msg='sandbox_root /run/vc/sbs: permission denied'),
            _entry('node4', 'unreachable', msg='Task failed: Failed to connect to the host via ssh: Connection refused'),
            _entry('node5', 'failed', msg=LEFT_THE_PLAY),
            _entry('node6', 'pending', msg=NOT_YET),
            _entry('node7', 'failed', msg=LEFT_THE_PLAY),
        ],
        'totals': {'hosts': 7, 'ok': 2, 'failed': 3, 'unreachable': 1, 'pending': 1, 'sandboxes': 3,
                   'sandboxes_scraped': 2, 'sandboxes_failed': 1},
    }


def test_summary_without_active_hosts_reports_missing_results_as_failed():
    summary = metrics_summary(['node6', 'node1'], HOSTVARS, 'scrape')
    assert summary['complete'] is True
    assert summary['hosts'] == [_entry('node6', 'failed', msg=LEFT_THE_PLAY),
                                _entry('node1', 'ok', 2, 1, {'bbbb': TIMEOUT})]
    assert summary['totals'] == {'hosts': 2, 'ok': 1, 'failed': 1, 'unreachable': 0, 'pending': 0, 'sandboxes': 3,
                                 'sandboxes_scraped': 2, 'sandboxes_failed': 1}


def test_summary_host_order_and_duplicates():
    summary = metrics_summary(['node2', 'node1', 'node2', 'ghost'], HOSTVARS, 'scrape', active_hosts=['ghost'])
    assert [(e['host'], e['status']) for e in summary['hosts']] == [('node2', 'ok'), ('node1', 'ok'), ('ghost', 'pending')]


def test_summary_counts_errors_when_failures_is_missing():
    result = _ok(['a'], {'b': 'refused', 'c': 'refused'})
    del result['failures']
    assert metrics_summary(['h'], {'h': {'r': result}}, 'r')['hosts'][0]['failed'] == 2


def test_summary_sorts_errors_and_makes_them_text():
    result = _ok(['a'], {'z': 'late', 'b': 'early'})
    summary = metrics_summary(['h'], {'h': {'r': result}}, 'r')
    assert list(summary['hosts'][0]['errors'].items()) == [('b', 'early'), ('z', 'late')]


def test_summary_of_no_host():
    assert metrics_summary([], {}, 'r') == {
        'format': 1, 'complete': True, 'hosts': [],
        'totals': {'hosts': 0, 'ok': 0, 'failed': 0, 'unreachable': 0, 'pending': 0, 'sandboxes': 0,
                   'sandboxes_scraped': 0, 'sandboxes_failed': 0}}


@pytest.mark.parametrize('args, kwargs, message', [
    (('node1', HOSTVARS, 'scrape'), {}, 'the input must be the list of hosts (ansible_play_hosts_all), got str'),
    ((['node1'], ['x'], 'scrape'), {}, 'hostvars must be a mapping (pass hostvars), got list'),
    ((['node1'], HOSTVARS, ''), {}, "result_var must be the name of the registered variable, got ''"),
    ((['node1'], HOSTVARS, 'scrape'), {'textfile_var': 3}, 'textfile_var must be a variable name, got 3'),
    ((['node1'], HOSTVARS, 'scrape'), {'active_hosts': 'node1'}, 'active_hosts must be a list of hosts'),
    ((['h'], {'h': {'r': 'text'}}, 'r'), {}, 'the result of host h must be a dictionary'),
    ((['h'], {'h': {'r': {'changed': False, 'sandboxes': [{'id': 'a'}], 'errors': {}}}}, 'r'), {},
     'the result of host h is not a kata_metrics result for a list of sandboxes or all of them (it has no "scraped")'),
    ((['h'], {'h': {'r': dict(_ok(['a']), scraped=-1)}}, 'r'), {}, 'the result of host h has an invalid "scraped": -1'),
    ((['h'], {'h': {'r': dict(_ok(['a']), failures=True)}}, 'r'), {}, 'the result of host h has an invalid "failures": True'),
    ((['h'], {'h': {'r': dict(_ok(['a']), errors=['b'])}}, 'r'), {}, 'the "errors" of host h must be a dictionary'),
])
def test_summary_errors(args, kwargs, message):
    with pytest.raises(AnsibleFilterError) as exc:
        metrics_summary(*args, **kwargs)
    assert message in str(exc.value)


def test_filter_module():
    assert FilterModule().filters() == {'metrics_summary': metrics_summary}
