# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_metrics main(), run as Ansible runs it, against real shim-like servers on unix sockets."""

from __future__ import annotations

import json

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import parse_text
from ansible_collections.katacontainers.kata.plugins.modules import kata_metrics
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import (
    STATUS_BODY,
    Gate,
    SandboxTree,
    kata_shim_text,
)

ID_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]+$'


@pytest.fixture
def tree():
    with SandboxTree() as sandboxes:
        yield sandboxes


def args(tree, **kw):
    base = dict(sandbox_root=tree.sandbox_root, rs_sandbox_root=tree.rs_sandbox_root, detail='full')
    base.update(kw)  # detail: the shape most of these tests check; the compact and summary ones say so
    return base


def families(sandbox_id, *names):
    parsed = parse_text(kata_shim_text(sandbox_id))
    return [f for f in parsed if f['name'] in names] if names else parsed


def where(socket_path):
    return 'GET http://shim/metrics via %s' % socket_path


# ------------------------------------------------------------------------------------------------- one sandbox


@pytest.mark.parametrize('check_mode', [False, True])
def test_single_sandbox(run_module, tree, check_mode):
    tree.add('4f8a3c2e0d1b')
    result = run_module(kata_metrics, args(tree, sandbox_id='4f8a3c2e0d1b'), check_mode=check_mode)
    assert result['changed'] is False
    assert result['sandboxes'] == [{'id': '4f8a3c2e0d1b', 'socket': tree.socket('4f8a3c2e0d1b'), 'runtime': 'go',
                                    'families': families('4f8a3c2e0d1b')}]
    assert (result['errors'], result['scraped'], result['failures']) == ({}, 1, 0)
    assert 'query_result' not in result
    assert tree.servers['4f8a3c2e0d1b'].requests == [('GET', '/metrics')]
    # The whole result survives JSON, as Ansible sends it (no NaN/Infinity tokens).
    json.loads(json.dumps(result, allow_nan=False))


def test_single_runtime_rs_sandbox_with_raw(run_module, tree):
    tree.add('rs-sandbox', runtime='rs')
    result = run_module(kata_metrics, args(tree, sandbox_id='rs-sandbox', raw=True, families=['kata_guest_tasks']))
    assert result['sandboxes'] == [{'id': 'rs-sandbox', 'socket': tree.socket('rs-sandbox', 'rs'), 'runtime': 'rust',
                                    'families': families('rs-sandbox', 'kata_guest_tasks'),
                                    'raw': kata_shim_text('rs-sandbox')}]


def test_single_sandbox_failing_fails_the_task(run_module, tree):
    tree.add('sb-500', 'status')
    result = run_module(kata_metrics, args(tree, sandbox_id='sb-500'), expect='fail')
    assert result['msg'] == '%s: HTTP 500 Internal Server Error: %s' % (where(tree.socket('sb-500')), STATUS_BODY)
    assert (result['url'], result['status'], result['body']) == ('http://shim/metrics', 500, STATUS_BODY)


def test_single_sandbox_hanging_fails_with_the_timeout(run_module, tree):
    tree.add('sb-hang', 'hang')
    result = run_module(kata_metrics, args(tree, sandbox_id='sb-hang', timeout=0.3), expect='fail')
    assert result['msg'] == '%s: no complete answer within the timeout of 0.3 seconds' % where(tree.socket('sb-hang'))


def test_single_sandbox_invalid_metrics_fails_naming_the_line(run_module, tree):
    tree.add('sb-bad', 'garbage')
    result = run_module(kata_metrics, args(tree, sandbox_id='sb-bad'), expect='fail')
    assert result['msg'] == (
        "%s: the answer is not Prometheus text: Invalid Prometheus text format at line 3: expected a float as the value "
        "of 'kata_shim_threads', got 'twelve'; the line is: 'kata_shim_threads twelve'" % where(tree.socket('sb-bad')))
    assert (result['line_number'], result['line']) == (3, 'kata_shim_threads twelve')


def test_single_missing_sandbox_fails_naming_both_paths(run_module, tree):
    result = run_module(kata_metrics, args(tree, sandbox_id='nowhere'), expect='fail')
    assert result['msg'] == (
        'no shim socket for sandbox nowhere: neither %s nor %s exists (is the sandbox running on this host? Set '
        'sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
        % (tree.socket('nowhere'), tree.socket('nowhere', 'rs')))


def test_single_with_explicit_shim_socket(run_module, tree):
    path = tree.add('actual')
    result = run_module(kata_metrics, args(tree, sandbox_id='named', shim_socket=path, families=['kata_shim_fds']))
    assert result['sandboxes'] == [{'id': 'named', 'socket': path, 'runtime': None,
                                    'families': families('actual', 'kata_shim_fds')}]


# ------------------------------------------------------------------------------------------------- several


def test_list_reports_failures_beside_results(run_module, tree):
    tree.add('ok-1')
    tree.add('bad-1', 'status')
    tree.add('hang-1', 'hang')
    result = run_module(kata_metrics, args(tree, sandbox_id=['ok-1', 'bad-1', 'gone-1', 'hang-1', 'ok-1'],
                                           families=['kata_shim_threads'], timeout=0.4))
    assert result['changed'] is False
    assert result['sandboxes'] == [{'id': 'ok-1', 'socket': tree.socket('ok-1'), 'runtime': 'go',
                                    'families': families('ok-1', 'kata_shim_threads')}]
    assert result['errors'] == {
        'bad-1': '%s: HTTP 500 Internal Server Error: %s' % (where(tree.socket('bad-1')), STATUS_BODY),
        'gone-1': 'no shim socket for sandbox gone-1: neither %s nor %s exists (is the sandbox running on this host? '
                  'Set sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
                  % (tree.socket('gone-1'), tree.socket('gone-1', 'rs')),
        'hang-1': '%s: no complete answer within the timeout of 0.4 seconds' % where(tree.socket('hang-1')),
    }
    assert (result['scraped'], result['failures']) == (1, 3)
    assert tree.servers['ok-1'].requests == [('GET', '/metrics')]   # the duplicate ID was scraped once


def test_list_strict_fails_and_keeps_the_data(run_module, tree):
    tree.add('ok-1')
    tree.add('bad-1', 'notfound')
    result = run_module(kata_metrics, args(tree, sandbox_id=['ok-1', 'bad-1'], strict=True,
                                           families=['kata_guest_load']), expect='fail')
    assert result['msg'] == ('1 of 2 sandboxes could not be scraped (strict is true): bad-1: %s: HTTP 404 Not Found: '
                             '404 page not found' % where(tree.socket('bad-1')))
    assert result['sandboxes'][0]['families'] == families('ok-1', 'kata_guest_load')
    assert (result['scraped'], result['failures'], list(result['errors'])) == (1, 1, ['bad-1'])


def test_list_of_one_named_all_is_a_sandbox_id(run_module, tree):
    tree.add('all')
    tree.add('other')
    result = run_module(kata_metrics, args(tree, sandbox_id=['all'], families=['go_goroutines']))
    assert [s['id'] for s in result['sandboxes']] == ['all']


def test_all_scrapes_both_roots_sorted(run_module, tree):
    tree.add('cc')
    tree.add('aa', runtime='rs')
    tree.add('bb', 'hang')
    tree.add('dd', serve=False)
    result = run_module(kata_metrics, args(tree, sandbox_id='all', timeout=0.4, families=['kata_hypervisor_threads']))
    assert [(s['id'], s['runtime']) for s in result['sandboxes']] == [('aa', 'rust'), ('cc', 'go')]
    assert result['sandboxes'][1]['families'] == families('cc', 'kata_hypervisor_threads')
    assert result['errors'] == {
        'bb': '%s: no complete answer within the timeout of 0.4 seconds' % where(tree.socket('bb')),
        'dd': '%s: it does not exist' % where(tree.socket('dd')),
    }
    assert (result['scraped'], result['failures']) == (2, 2)


def test_all_strict_fails(run_module, tree):
    tree.add('aa')
    tree.add('bb', 'garbage')
    # The bad text is in kata_shim_threads: a family that is kept is parsed (one that is not, is not: see
    # test_skipped_family_is_never_parsed).
    result = run_module(kata_metrics, args(tree, sandbox_id='all', strict=True, families=['kata_shim_threads']),
                        expect='fail')
    assert result['msg'].startswith('1 of 2 sandboxes could not be scraped (strict is true): bb: %s: the answer is not '
                                    'Prometheus text: Invalid Prometheus text format at line 3' % where(tree.socket('bb')))
    assert [s['id'] for s in result['sandboxes']] == ['aa']


def test_all_without_sandboxes(run_module, tree):
    result = run_module(kata_metrics, args(tree, sandbox_id='all', strict=True))
    assert (result['sandboxes'], result['errors'], result['scraped'], result['failures']) == ([], {}, 0, 0)


def test_concurrency_bound_is_kept(run_module, tree):
    gate = Gate(4, 10)
    for n in range(10):
        tree.add('sb-%d' % n, 'gate', gate=gate)
    result = run_module(kata_metrics, args(tree, sandbox_id='all', concurrency=4, timeout=30, families=['none']))
    assert (result['scraped'], result['failures']) == (10, 0)
    assert gate.max_in_flight == 4


def test_empty_answer_warns(run_module, tree):
    tree.add('sb-empty', 'empty')
    result = run_module(kata_metrics, args(tree, sandbox_id='sb-empty'))
    assert result['sandboxes'][0]['families'] == []
    assert result['warnings'] == ['sandbox sb-empty: the shim answered /metrics without any metric (kata 3.0.0 answers '
                                  'with an empty body when gathering its metrics fails)']


# ------------------------------------------------------------------------------------------------- query


def test_query_returns_its_value_and_trims_sandboxes(run_module, tree):
    tree.add('sb-a')
    tree.add('sb-b', runtime='rs')
    query = "sandboxes[].{id: id, mem_free: families[0].samples[?labels.item=='mem_free'] | [0].value}"
    result = run_module(kata_metrics, args(tree, sandbox_id='all', families=['kata_guest_meminfo'], query=query,
                                           raw=True))
    expected = []
    for sandbox_id in ('sb-a', 'sb-b'):
        meminfo = families(sandbox_id, 'kata_guest_meminfo')[0]
        mem_free = [s['value'] for s in meminfo['samples'] if s['labels']['item'] == 'mem_free']
        expected.append({'id': sandbox_id, 'mem_free': mem_free[0]})
    assert result['query_result'] == expected
    assert result['sandboxes'] == [{'id': 'sb-a', 'socket': tree.socket('sb-a'), 'runtime': 'go'},
                                   {'id': 'sb-b', 'socket': tree.socket('sb-b', 'rs'), 'runtime': 'rust'}]


def test_query_on_histogram_buckets(run_module, tree):
    tree.add('sb-a')
    query = ("sandboxes[0].families[?name=='kata_shim_rpc_durations_histogram_milliseconds'] | [0].samples"
             "[?name=='kata_shim_rpc_durations_histogram_milliseconds_bucket' && labels.le=='+Inf'].labels.action")
    result = run_module(kata_metrics, args(tree, sandbox_id='sb-a', query=query))
    assert result['query_result'] == ['create', 'start', 'state', 'wait', 'pids', 'update', 'connect', 'stats',
                                      'delete', 'shutdown']


def test_bad_query_syntax_fails_clearly_without_scraping(run_module, tree):
    tree.add('sb-a')
    result = run_module(kata_metrics, args(tree, sandbox_id='sb-a', query="sandboxes[?id=='x'"), expect='fail')
    assert result['msg'] == ("query: invalid JMESPath expression \"sandboxes[?id=='x'\": incomplete expression (it ends "
                             "at column 19, where more was expected)")
    assert tree.servers['sb-a'].requests == []


# ------------------------------------------------------------------------------------------------- bad options


@pytest.mark.parametrize('extra, message', [
    (dict(sandbox_id='bad/id'), 'sandbox_id: invalid sandbox ID \'bad/id\': expected a string matching %s (at least 2 '
                                'characters; letters, digits, "_", "." and "-", not first)' % ID_PATTERN),
    (dict(sandbox_id='x'), 'sandbox_id: invalid sandbox ID \'x\': expected a string matching %s (at least 2 '
                           'characters; letters, digits, "_", "." and "-", not first)' % ID_PATTERN),
    (dict(sandbox_id=['ok-1', '.hidden']), 'sandbox_id[1]: invalid sandbox ID \'.hidden\': expected a string matching '
                                           '%s (at least 2 characters; letters, digits, "_", "." and "-", not first)'
                                           % ID_PATTERN),
    (dict(sandbox_id=[]), 'sandbox_id: the list of sandbox IDs is empty; give at least one ID, or the string "all"'),
    (dict(sandbox_id=['ok-1', 7]), 'sandbox_id[1]: a sandbox ID must be a string, got int 7'),
    (dict(sandbox_id=123), 'sandbox_id: expected a sandbox ID, a list of sandbox IDs or the string "all", got int 123'),
    (dict(sandbox_id='a1,b2'), 'sandbox_id: invalid sandbox ID \'a1,b2\': IDs cannot contain ","; to scrape several '
                               'sandboxes, give a YAML list of IDs'),
    (dict(sandbox_id='all', concurrency=0), 'concurrency: expected an integer from 1 to 128, got 0'),
    (dict(sandbox_id='all', concurrency=500), 'concurrency: expected an integer from 1 to 128, got 500'),
    (dict(sandbox_id='all', timeout=0), 'timeout: expected a number of seconds greater than 0, got 0.0'),
    (dict(sandbox_id='all', families=['kata-shim']), 'families[0]: \'kata-shim\' cannot start a metric name (expected '
                                                     'letters, digits, "_" and ":", not starting with a digit, for '
                                                     'example "kata_guest_")'),
    (dict(sandbox_id='all', shim_socket='/tmp/x.sock'), 'shim_socket can only be used with a single sandbox_id (given '
                                                        'as a string), not with a list of IDs or "all"'),
])
def test_bad_options(run_module, tree, extra, message):
    result = run_module(kata_metrics, args(tree, **extra), expect='fail')
    assert result['msg'] == message


def test_sandbox_id_is_required(run_module, tree):
    result = run_module(kata_metrics, args(tree), expect='fail')
    assert result['msg'] == 'one of the following is required: sandbox_id, pod'
