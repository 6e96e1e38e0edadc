# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the kata_metrics orchestration against real shim-like HTTP servers on unix sockets."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _metrics
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    MissingDependencyError,
    ShimError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._metrics import (
    check_concurrency,
    check_prefixes,
    check_timeout,
    collect_metrics,
    compile_query,
    parse_selection,
    resolve_targets,
    run_query,
    scrape,
    scrape_many,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import MetricsFormatError, parse_text
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import (
    GARBAGE,
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


def params(tree, **kw):
    base = dict(sandbox_root=tree.sandbox_root, rs_sandbox_root=tree.rs_sandbox_root, timeout=3.0, families=[],
                raw=False, query=None, strict=False, concurrency=16, shim_socket=None, transport='stdlib',
                detail='full')  # the shape these tests check; the compact and summary shapes have their own tests
    base.update(kw)
    return base


def url_error(socket_path, reason):
    return 'GET http://shim/metrics via %s: %s' % (socket_path, reason)


# ------------------------------------------------------------------------------------------------- option checks


def test_parse_selection():
    one = parse_selection('abc')
    assert (one.single, one.all, one.ids) == (True, False, ['abc'])
    every = parse_selection('all')
    assert (every.single, every.all, every.ids) == (False, True, [])
    some = parse_selection(['b1', 'a1', 'b1', 'all'])
    assert (some.single, some.all, some.ids) == (False, False, ['b1', 'a1', 'all'])


@pytest.mark.parametrize('value, message', [
    ('a', 'sandbox_id: invalid sandbox ID \'a\': expected a string matching %s (at least 2 characters; letters, digits, '
          '"_", "." and "-", not first)' % ID_PATTERN),
    ('../etc', 'sandbox_id: invalid sandbox ID \'../etc\': expected a string matching %s (at least 2 characters; '
               'letters, digits, "_", "." and "-", not first)' % ID_PATTERN),
    ('', 'sandbox_id: the sandbox ID cannot be empty'),
    ('a1,b2', 'sandbox_id: invalid sandbox ID \'a1,b2\': IDs cannot contain ","; to scrape several sandboxes, give a '
              'YAML list of IDs'),
    ([], 'sandbox_id: the list of sandbox IDs is empty; give at least one ID, or the string "all"'),
    (['ok1', 12], 'sandbox_id[1]: a sandbox ID must be a string, got int 12'),
    (['ok1', '-x'], 'sandbox_id[1]: invalid sandbox ID \'-x\': expected a string matching %s (at least 2 characters; '
                    'letters, digits, "_", "." and "-", not first)' % ID_PATTERN),
    (['a,b'], 'sandbox_id[0]: invalid sandbox ID \'a,b\': IDs cannot contain ","; to scrape several sandboxes, give '
              'a YAML list of IDs'),
    (42, 'sandbox_id: expected a sandbox ID, a list of sandbox IDs or the string "all", got int 42'),
    ({'id': 'x'}, 'sandbox_id: expected a sandbox ID, a list of sandbox IDs or the string "all", got dict {\'id\': \'x\'}'),
    (None, 'sandbox_id: expected a sandbox ID, a list of sandbox IDs or the string "all", got NoneType None'),
])
def test_parse_selection_rejects(value, message):
    with pytest.raises(ArgumentError) as caught:
        parse_selection(value)
    assert caught.value.msg == message


def test_check_prefixes():
    assert check_prefixes(['kata_guest_', 'go', ':x', '_']) == ['kata_guest_', 'go', ':x', '_']
    assert check_prefixes(None) == []
    for index, bad in ((1, 'kata-shim'), (1, ''), (1, '9x'), (1, 5)):
        with pytest.raises(ArgumentError) as caught:
            check_prefixes(['ok', bad])
        assert caught.value.msg == ('families[%d]: %r cannot start a metric name (expected letters, digits, "_" and ":", '
                                    'not starting with a digit, for example "kata_guest_")' % (index, bad))


def test_check_concurrency_and_timeout():
    assert check_concurrency(1) == 1
    assert check_concurrency(128) == 128
    for bad in (0, 129, -1, True, '4', 2.0):
        with pytest.raises(ArgumentError) as caught:
            check_concurrency(bad)
        assert caught.value.msg == 'concurrency: expected an integer from 1 to 128, got %r' % (bad,)
    assert check_timeout(2) == 2.0
    for bad in (0, -1.0, float('nan'), float('inf'), True, '3'):
        with pytest.raises(ArgumentError) as caught:
            check_timeout(bad)
        assert caught.value.msg == 'timeout: expected a number of seconds greater than 0, got %r' % (bad,)


def test_compile_and_run_query():
    compiled = compile_query("sandboxes[?id=='b'].families[].name")
    assert run_query(compiled, {'sandboxes': [{'id': 'a', 'families': [{'name': 'x'}]},
                                              {'id': 'b', 'families': [{'name': 'y'}, {'name': 'z'}]}]}) == ['y', 'z']


@pytest.mark.parametrize('expression, problem', [
    ('sandboxes[?id==', 'incomplete expression (it ends at column 16, where more was expected)'),
    ('a ^ b', 'Unknown token ^ at column 3'),
    ('a."x', 'Unclosed " delimiter at column 3'),
    ('sandboxes[0]..x', "Expecting: ['quoted_identifier', 'unquoted_identifier', 'lbracket', 'lbrace'], got: dot "
                        "at column 14 (token '.')"),
])
def test_compile_query_syntax_error_names_the_option(expression, problem):
    with pytest.raises(ArgumentError) as caught:
        compile_query(expression)
    assert caught.value.msg == 'query: invalid JMESPath expression %r: %s' % (expression, problem)


def test_run_query_type_error_names_the_option():
    with pytest.raises(ArgumentError) as caught:
        run_query(compile_query('length(scraped)'), {'scraped': 3})
    assert caught.value.msg.startswith('query: the JMESPath expression failed on the result: ')
    assert 'length()' in caught.value.msg


def test_compile_query_without_jmespath(monkeypatch):
    # jmespath is installed here; hide it to see the clean missing-library error.
    monkeypatch.setitem(sys.modules, 'jmespath', None)
    with pytest.raises(MissingDependencyError) as caught:
        compile_query('scraped')
    assert caught.value.library == 'jmespath'
    assert caught.value.reason == 'for the query option'
    assert 'ImportError' in caught.value.exception or 'ModuleNotFoundError' in caught.value.exception


def test_module_utils_import_does_not_import_jmespath_or_threads():
    # The import cost a task pays: jmespath and concurrent.futures only when used. A fresh interpreter, with the
    # directory that holds this collection's ansible_collections/ on its path.
    import subprocess
    root = os.path.abspath(_metrics.__file__)
    for dummy in range(6):   # .../ansible_collections/katacontainers/kata/plugins/module_utils/_metrics.py
        root = os.path.dirname(root)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    code = ('import sys; from ansible_collections.katacontainers.kata.plugins.module_utils import _metrics; '
            'print(sorted(m for m in ("jmespath", "concurrent.futures", "requests", "threading") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == '[]'


# ------------------------------------------------------------------------------------------------- targets


def test_resolve_all_lists_both_roots(tree):
    tree.add('zz-go')
    tree.add('aa-rs', runtime='rs')
    tree.add('mm-nosock', serve=False)
    os.makedirs(os.path.join(tree.sandbox_root, '.hidden-invalid'))   # not a valid ID: ignored
    with open(os.path.join(tree.sandbox_root, 'a-file'), 'w', encoding='utf-8') as f:    # not a directory: ignored
        f.write('x')
    targets = resolve_targets(parse_selection('all'), tree.sandbox_root, tree.rs_sandbox_root)
    assert targets == [
        {'id': 'aa-rs', 'socket': tree.socket('aa-rs', 'rs'), 'runtime': 'rust', 'error': None},
        {'id': 'mm-nosock', 'socket': tree.socket('mm-nosock'), 'runtime': 'go', 'error': None},
        {'id': 'zz-go', 'socket': tree.socket('zz-go'), 'runtime': 'go', 'error': None},
    ]


def test_resolve_list_reports_missing_sockets(tree):
    tree.add('there')
    targets = resolve_targets(parse_selection(['there', 'gone']), tree.sandbox_root, tree.rs_sandbox_root)
    assert targets[0] == {'id': 'there', 'socket': tree.socket('there'), 'runtime': 'go', 'error': None}
    assert targets[1]['socket'] is None
    assert targets[1]['error'] == (
        'no shim socket for sandbox gone: neither %s nor %s exists (is the sandbox running on this host? Set '
        'sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
        % (tree.socket('gone'), tree.socket('gone', 'rs')))


def test_resolve_single_missing_raises(tree):
    with pytest.raises(ShimError) as caught:
        resolve_targets(parse_selection('gone'), tree.sandbox_root, tree.rs_sandbox_root)
    assert caught.value.msg.startswith('no shim socket for sandbox gone: neither %s nor %s exists'
                                       % (tree.socket('gone'), tree.socket('gone', 'rs')))


def test_resolve_shim_socket_only_for_a_single_id(tree):
    path = tree.add('elsewhere')
    assert resolve_targets(parse_selection('any-id'), tree.sandbox_root, tree.rs_sandbox_root, shim_socket=path) == [
        {'id': 'any-id', 'socket': path, 'runtime': None, 'error': None}]
    for selection in ('all', ['a1']):
        with pytest.raises(ArgumentError) as caught:
            resolve_targets(parse_selection(selection), tree.sandbox_root, tree.rs_sandbox_root, shim_socket=path)
        assert caught.value.msg == ('shim_socket can only be used with a single sandbox_id (given as a string), not '
                                    'with a list of IDs or "all"')


# ------------------------------------------------------------------------------------------------- one scrape


def target(tree, sandbox_id, runtime='go'):
    return {'id': sandbox_id, 'socket': tree.socket(sandbox_id, runtime), 'runtime': runtime, 'error': None}


def test_scrape_parses_what_the_shim_serves(tree):
    tree.add('sb1')
    entry = scrape(target(tree, 'sb1'))
    assert entry == {'id': 'sb1', 'socket': tree.socket('sb1'), 'runtime': 'go',
                     'families': parse_text(kata_shim_text('sb1'))}
    assert tree.servers['sb1'].requests == [('GET', '/metrics')]


def test_scrape_filters_families_and_keeps_raw_text(tree):
    tree.add('sb1')
    entry = scrape(target(tree, 'sb1'), prefixes=['kata_guest_load', 'kata_shim_t'], raw=True)
    assert [f['name'] for f in entry['families']] == ['kata_shim_threads', 'kata_guest_load']
    assert entry['raw'] == kata_shim_text('sb1')


def test_scrape_non_200_is_an_error_not_metrics(tree):
    tree.add('sb1', 'status')
    with pytest.raises(ShimError) as caught:
        scrape(target(tree, 'sb1'))
    assert caught.value.msg == url_error(tree.socket('sb1'), 'HTTP 500 Internal Server Error: ' + STATUS_BODY)
    assert caught.value.details == {'url': 'http://shim/metrics', 'status': 500, 'body': STATUS_BODY}


def test_scrape_404_is_an_error(tree):
    tree.add('sb1', 'notfound')
    with pytest.raises(ShimError) as caught:
        scrape(target(tree, 'sb1'))
    assert caught.value.msg == url_error(tree.socket('sb1'), 'HTTP 404 Not Found: 404 page not found')


def test_scrape_invalid_text_names_socket_and_line(tree):
    tree.add('sb1', 'garbage')
    with pytest.raises(MetricsFormatError) as caught:
        scrape(target(tree, 'sb1'))
    assert caught.value.msg == url_error(
        tree.socket('sb1'), "the answer is not Prometheus text: Invalid Prometheus text format at line 3: expected a "
                            "float as the value of 'kata_shim_threads', got 'twelve'; the line is: 'kata_shim_threads twelve'")
    assert caught.value.details == {'url': 'http://shim/metrics', 'line_number': 3, 'line': 'kata_shim_threads twelve'}
    assert GARBAGE.split('\n')[2] == 'kata_shim_threads twelve'


def test_scrape_invalid_utf8_is_a_format_error(tree):
    tree.add('sb1', body=b'ok 1\nbad{x="\xff"} 1\n')
    with pytest.raises(MetricsFormatError) as caught:
        scrape(target(tree, 'sb1'))
    assert caught.value.details['line_number'] == 2


def test_scrape_hanging_shim_times_out(tree):
    tree.add('sb1', 'hang')
    with pytest.raises(ShimError) as caught:
        scrape(target(tree, 'sb1'), timeout=0.3)
    assert caught.value.msg == url_error(tree.socket('sb1'), 'no complete answer within the timeout of 0.3 seconds')


def test_scrape_dead_socket(tree):
    path = tree.add('sb1', serve=False)
    with pytest.raises(ShimError) as caught:
        scrape({'id': 'sb1', 'socket': path, 'runtime': 'go', 'error': None})
    assert caught.value.msg == url_error(path, 'it does not exist')


# ------------------------------------------------------------------------------------------------- many scrapes


def test_scrape_many_keeps_order_and_separates_errors(tree):
    tree.add('c3')
    tree.add('a1', 'status')
    tree.add('b2', runtime='rs')
    targets = resolve_targets(parse_selection(['c3', 'a1', 'b2', 'zz']), tree.sandbox_root, tree.rs_sandbox_root)
    outcomes = scrape_many(targets, concurrency=4, prefixes=['kata_shim_threads'], detail='full')
    assert [(t['id'], entry is not None, empty, error is not None) for t, entry, empty, error in outcomes] == [
        ('c3', True, False, False), ('a1', False, False, True), ('b2', True, False, False), ('zz', False, False, True)]
    assert outcomes[2][1]['families'] == [f for f in parse_text(kata_shim_text('b2')) if f['name'] == 'kata_shim_threads']


@pytest.mark.parametrize('concurrency, count', [(3, 9), (3, 7), (4, 4), (1, 3), (16, 5)])
def test_scrape_many_bounds_the_scrapes_in_flight(tree, concurrency, count):
    gate = Gate(min(concurrency, count), count)
    ids = ['sb%02d' % n for n in range(count)]
    for sandbox_id in ids:
        tree.add(sandbox_id, 'gate', gate=gate)
    targets = resolve_targets(parse_selection(ids), tree.sandbox_root, tree.rs_sandbox_root)
    outcomes = scrape_many(targets, concurrency=concurrency, timeout=30)
    assert [error for dummy, dummy, dummy, error in outcomes] == [None] * count
    # Exactly the bound: never more (the gate holds every request until the bound is reached, so an unbounded
    # client would have all of them in flight), and the bound is used (a client keeping fewer would stall).
    assert gate.max_in_flight == min(concurrency, count)


# ------------------------------------------------------------------------------------------------- the whole result


def test_collect_single(tree):
    tree.add('sb1')
    warnings = []
    result = collect_metrics(params(tree, sandbox_id='sb1', families=['kata_guest_load']), warnings.append)
    assert result == {
        'changed': False, 'errors': {}, 'scraped': 1, 'failures': 0,
        'sandboxes': [{'id': 'sb1', 'socket': tree.socket('sb1'), 'runtime': 'go',
                       'families': [f for f in parse_text(kata_shim_text('sb1')) if f['name'] == 'kata_guest_load']}],
    }
    assert warnings == []


def test_collect_single_failure_raises_the_shim_error(tree):
    tree.add('sb1', 'status')
    with pytest.raises(ShimError) as caught:
        collect_metrics(params(tree, sandbox_id='sb1'))
    assert caught.value.details['status'] == 500


def test_collect_single_with_explicit_socket(tree):
    path = tree.add('real-id', runtime='rs')
    result = collect_metrics(params(tree, sandbox_id='label-only', shim_socket=path, families=['go_goroutines']))
    assert result['sandboxes'][0]['id'] == 'label-only'
    assert result['sandboxes'][0]['socket'] == path
    assert result['sandboxes'][0]['runtime'] is None


def test_collect_all_with_failures(tree):
    tree.add('ok1')
    tree.add('ok2', runtime='rs')
    tree.add('bad', 'garbage')
    tree.add('slow', 'hang')
    tree.add('nosock', serve=False)
    # kata_shim_ keeps kata_shim_threads, whose sample 'bad' writes as text: parsed, so an error.
    result = collect_metrics(params(tree, sandbox_id='all', timeout=0.5, families=['kata_shim_']))
    assert [s['id'] for s in result['sandboxes']] == ['ok1', 'ok2']
    assert sorted(result['errors']) == ['bad', 'nosock', 'slow']
    assert result['errors']['slow'] == url_error(tree.socket('slow'), 'no complete answer within the timeout of 0.5 seconds')
    assert result['errors']['nosock'] == url_error(tree.socket('nosock'), 'it does not exist')
    assert (result['scraped'], result['failures'], result['changed']) == (2, 3, False)
    assert 'failed' not in result


def test_collect_strict_fails_but_keeps_the_data(tree):
    tree.add('ok1')
    tree.add('bad', 'status')
    result = collect_metrics(params(tree, sandbox_id=['ok1', 'bad'], strict=True, families=['kata_shim_fds']))
    assert result['failed'] is True
    assert result['msg'] == '1 of 2 sandboxes could not be scraped (strict is true): bad: %s' % url_error(
        tree.socket('bad'), 'HTTP 500 Internal Server Error: ' + STATUS_BODY)
    assert [s['id'] for s in result['sandboxes']] == ['ok1']
    assert (result['scraped'], result['failures']) == (1, 1)


def test_collect_strict_without_failures_succeeds(tree):
    tree.add('ok1')
    result = collect_metrics(params(tree, sandbox_id=['ok1'], strict=True, families=['nothing_matches']))
    assert 'failed' not in result
    assert result['sandboxes'][0]['families'] == []


def test_collect_all_with_no_sandboxes(tree):
    assert collect_metrics(params(tree, sandbox_id='all', strict=True)) == {
        'changed': False, 'sandboxes': [], 'errors': {}, 'scraped': 0, 'failures': 0}


def test_collect_missing_roots(tmp_path):
    missing = str(tmp_path / 'none')
    result = collect_metrics(dict(sandbox_id='all', sandbox_root=missing, rs_sandbox_root=missing))
    assert result['sandboxes'] == [] and result['scraped'] == 0


def test_collect_query_trims_the_result(tree):
    tree.add('sb1')
    tree.add('sb2')
    tree.add('sb3', 'status')
    query = "sandboxes[].{id: id, threads: families[?name=='kata_shim_threads'] | [0].samples[0].value}"
    result = collect_metrics(params(tree, sandbox_id='all', query=query, raw=True))
    expected = []
    for sandbox_id in ('sb1', 'sb2'):
        threads = [f for f in parse_text(kata_shim_text(sandbox_id)) if f['name'] == 'kata_shim_threads']
        expected.append({'id': sandbox_id, 'threads': threads[0]['samples'][0]['value']})
    assert result['query_result'] == expected
    assert result['sandboxes'] == [{'id': 'sb1', 'socket': tree.socket('sb1'), 'runtime': 'go'},
                                   {'id': 'sb2', 'socket': tree.socket('sb2'), 'runtime': 'go'}]
    assert list(result['errors']) == ['sb3']


def test_collect_query_sees_errors_and_counts(tree):
    tree.add('sb1', 'status')
    result = collect_metrics(params(tree, sandbox_id=['sb1', 'sb2'], query='{n: scraped, f: failures, e: keys(errors)}'))
    assert result['query_result'] == {'n': 0, 'f': 2, 'e': ['sb1', 'sb2']}


def test_collect_bad_query_fails_before_scraping(tree):
    tree.add('sb1')
    with pytest.raises(ArgumentError):
        collect_metrics(params(tree, sandbox_id='sb1', query='sandboxes[?'))
    assert tree.servers['sb1'].requests == []


def test_collect_empty_answer_warns(tree):
    tree.add('sb1', 'empty')
    warnings = []
    result = collect_metrics(params(tree, sandbox_id=['sb1']), warnings.append)
    assert result['sandboxes'][0]['families'] == []
    assert warnings == ['sandbox sb1: the shim answered /metrics without any metric (kata 3.0.0 answers with an empty '
                        'body when gathering its metrics fails)']


def test_collect_uses_no_thread_pool_for_one_target(tree, monkeypatch):
    tree.add('sb1')
    monkeypatch.setitem(sys.modules, 'concurrent.futures', None)   # importing it would now fail
    assert collect_metrics(params(tree, sandbox_id=['sb1']))['scraped'] == 1
    assert collect_metrics(params(tree, sandbox_id='sb1'))['scraped'] == 1


def test_metrics_module_passes_params_and_warn(tree):
    tree.add('sb1', 'empty')

    class FakeModule(object):
        def __init__(self):
            self.params = params(tree, sandbox_id='sb1')
            self.warnings = []

        def warn(self, msg):
            self.warnings.append(msg)

    module = FakeModule()
    assert _metrics.metrics_module(module)['scraped'] == 1
    assert len(module.warnings) == 1


# --- found by the robustness suite (tests/robustness) ---------------------------------------------------------------

def test_timeout_too_large_for_a_socket_is_refused():
    with pytest.raises(ArgumentError) as caught:
        check_timeout(1e10)
    assert caught.value.msg == 'timeout: 10000000000.0 seconds is more than the 31536000 (365 days) a timeout may be'


@pytest.mark.parametrize('expression', ['(' * 5000 + 'a' + ')' * 5000, '!' * 5000 + 'a'])
def test_query_nested_too_deeply_to_compile(expression):
    # jmespath's recursive parser raised RecursionError, which reached the user as a traceback.
    with pytest.raises(ArgumentError) as caught:
        compile_query(expression)
    assert caught.value.msg == ('query: the JMESPath expression %s... is nested too deeply to be parsed'
                                % repr(expression)[:60])


def test_query_nested_too_deeply_to_apply():
    compiled = compile_query('a' + '|a' * 3000)
    with pytest.raises(ArgumentError) as caught:
        run_query(compiled, {'a': {'a': 1}})
    assert caught.value.msg == 'query: the JMESPath expression is nested too deeply to be applied'


def test_query_too_long():
    # jmespath's lexer is quadratic: a 1 MiB expression took over a minute before being refused.
    expression = 'a' * 65537
    with pytest.raises(ArgumentError) as caught:
        compile_query(expression)
    assert caught.value.msg == ("query: the JMESPath expression %s... is 65537 characters long, more than the 65536 "
                                "allowed" % repr(expression)[:60])
    assert compile_query('a' * 65536).search({'a' * 65536: 1}) == 1
