# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Prometheus text filters: prometheus_textfile (a host's sandboxes as one node_exporter textfile) and
prometheus_parse.

The realistic inputs are what kata_metrics returns for kata 3.0.0 shims: the text of metrics_testlib.kata_shim_text()
parsed by the collection's parser. prometheus_client's parser is the independent check that the files are valid.
"""

from __future__ import annotations

import copy

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.katacontainers.kata.plugins.plugin_utils import _prometheus_text as prometheus_text
from ansible_collections.katacontainers.kata.plugins.plugin_utils._prometheus_text import (
    SCRAPE_SUCCESS,
    SCRAPE_SUCCESS_HELP,
    prometheus_parse,
    prometheus_textfile,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import parse_text
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import (
    kata_shim_text,
    oracle,
)

SANDBOXES = ('0a1b2c3d4e5f60718293a4b5c6d7e8f9', '5e6f708192a3b4c5d6e7f8091a2b3c4d', 'rs-9f8e7d6c5b4a')
FAILED = 'ffeeddccbbaa99887766554433221100'


def _sample(name, value, labels=None, timestamp=None):
    return {'name': name, 'labels': labels or {}, 'value': value, 'timestamp': timestamp}


def _family(name, kind, text, samples):
    return {'name': name, 'type': kind, 'help': text, 'samples': samples}


def _scrape(ids=SANDBOXES, errors=None):
    """A kata_metrics result for sandbox_id=all, as the module returns it."""
    sandboxes = [{'id': sandbox_id, 'socket': '/run/vc/sbs/%s/shim-monitor.sock' % sandbox_id, 'runtime': 'go',
                  'families': parse_text(kata_shim_text(sandbox_id))} for sandbox_id in ids]
    errors = errors if errors is not None else {}
    return {'changed': False, 'sandboxes': sandboxes, 'errors': errors, 'scraped': len(sandboxes),
            'failures': len(errors)}


def _unrename(name):
    for prefix in ('kata_shim_go_', 'kata_shim_process_'):
        if name.startswith(prefix):
            return name[len('kata_shim_'):]
    return name


# ----------------------------------------------------------------------------------------------------------------
# prometheus_textfile: an exact small case

SMALL = {
    'sandboxes': [
        {'id': 'sb-a', 'families': [
            _family('go_goroutines', 'gauge', 'Number of goroutines that currently exist.', [_sample('go_goroutines', 12.0)]),
            _family('kata_guest_load', 'gauge', 'Guest system load.', [_sample('kata_guest_load', 0.5, {'item': 'load1'})]),
        ]},
        {'id': 'sb-b', 'families': [
            _family('kata_guest_load', 'gauge', 'Guest system load.', [_sample('kata_guest_load', 1.25, {'item': 'load1'})]),
            _family('process_open_fds', 'gauge', 'Number of open file descriptors.', [_sample('process_open_fds', 9.0)]),
            _family('go_gc_duration_seconds', 'summary', 'A summary of the pause duration of garbage collection cycles.',
                    [_sample('go_gc_duration_seconds', 2.5e-05, {'quantile': '0.5'}),
                     _sample('go_gc_duration_seconds_sum', 0.25), _sample('go_gc_duration_seconds_count', 7.0)]),
        ]},
    ],
    'errors': {'sb-c': 'GET http://shim/metrics via /run/vc/sbs/sb-c/shim-monitor.sock: no complete answer within the '
                       'timeout of 3 seconds'},
    'scraped': 2,
    'failures': 1,
}

SMALL_TEXT = (
    '# Kata Containers sandbox metrics\n'
    '# HELP kata_shim_go_goroutines Number of goroutines that currently exist.\n'
    '# TYPE kata_shim_go_goroutines gauge\n'
    'kata_shim_go_goroutines{sandbox_id="sb-a"} 12\n'
    '# HELP kata_guest_load Guest system load.\n'
    '# TYPE kata_guest_load gauge\n'
    'kata_guest_load{sandbox_id="sb-a",item="load1"} 0.5\n'
    'kata_guest_load{sandbox_id="sb-b",item="load1"} 1.25\n'
    '# HELP kata_shim_process_open_fds Number of open file descriptors.\n'
    '# TYPE kata_shim_process_open_fds gauge\n'
    'kata_shim_process_open_fds{sandbox_id="sb-b"} 9\n'
    '# HELP kata_shim_go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.\n'
    '# TYPE kata_shim_go_gc_duration_seconds summary\n'
    'kata_shim_go_gc_duration_seconds{sandbox_id="sb-b",quantile="0.5"} 2.5e-05\n'
    'kata_shim_go_gc_duration_seconds_sum{sandbox_id="sb-b"} 0.25\n'
    'kata_shim_go_gc_duration_seconds_count{sandbox_id="sb-b"} 7\n'
    '# HELP kata_metrics_scrape_success ' + SCRAPE_SUCCESS_HELP + '\n'
    '# TYPE kata_metrics_scrape_success gauge\n'
    'kata_metrics_scrape_success{sandbox_id="sb-a"} 1\n'
    'kata_metrics_scrape_success{sandbox_id="sb-b"} 1\n'
    'kata_metrics_scrape_success{sandbox_id="sb-c"} 0\n'
)


def test_textfile_small_exact():
    assert prometheus_textfile(SMALL, header=['Kata Containers sandbox metrics']) == SMALL_TEXT


def test_textfile_does_not_change_its_input():
    data = copy.deepcopy(SMALL)
    prometheus_textfile(data)
    assert data == SMALL


def test_textfile_header_forms():
    body = SMALL_TEXT.split('\n', 1)[1]
    assert prometheus_textfile(SMALL) == body
    assert prometheus_textfile(SMALL, header='one line') == '# one line\n' + body
    assert prometheus_textfile(SMALL, header=['a', '', 'b']) == '# a\n#\n# b\n' + body


def test_textfile_other_label_name():
    text = prometheus_textfile(SMALL, label='kata_sandbox')
    assert 'kata_guest_load{kata_sandbox="sb-b",item="load1"} 1.25\n' in text
    assert 'kata_metrics_scrape_success{kata_sandbox="sb-c"} 0\n' in text
    assert 'sandbox_id' not in text


def test_textfile_from_a_sandboxes_list():
    text = prometheus_textfile(SMALL['sandboxes'])
    success = [f for f in parse_text(text) if f['name'] == SCRAPE_SUCCESS][0]
    assert [(s['labels'], s['value']) for s in success['samples']] == [({'sandbox_id': 'sb-a'}, 1.0),
                                                                       ({'sandbox_id': 'sb-b'}, 1.0)]


def test_textfile_no_sandbox():
    assert prometheus_textfile({'sandboxes': [], 'errors': {}, 'scraped': 0, 'failures': 0}) == ''
    assert prometheus_textfile({'sandboxes': [], 'errors': {}}, header='h') == '# h\n'


def test_textfile_only_failures():
    text = prometheus_textfile({'sandboxes': [], 'errors': {'b': 'x', 'a': 'y'}})
    assert text == ('# HELP kata_metrics_scrape_success ' + SCRAPE_SUCCESS_HELP + '\n'
                    '# TYPE kata_metrics_scrape_success gauge\n'
                    'kata_metrics_scrape_success{sandbox_id="a"} 0\n'
                    'kata_metrics_scrape_success{sandbox_id="b"} 0\n')


# ----------------------------------------------------------------------------------------------------------------
# prometheus_textfile: kata-like shims

def test_textfile_of_kata_shims_keeps_every_sample():
    scrape = _scrape(errors={FAILED: 'connection refused'})
    text = prometheus_textfile(scrape, header='h')
    families = parse_text(text)
    names = [f['name'] for f in families]
    assert len(names) == len(set(names))                 # each family once, as the format requires
    assert not [n for n in names if n.startswith(('go_', 'process_'))]
    assert 'kata_shim_go_goroutines' in names and 'kata_shim_process_open_fds' in names
    assert 'kata_agent_process_open_fds' in names         # the agent's are renamed by the shim already

    # Undo the merge: per sandbox, the families are exactly what the shim served (renames undone, label removed).
    for sandbox in scrape['sandboxes']:
        rebuilt = []
        for fam in families:
            if fam['name'] == SCRAPE_SUCCESS:
                continue
            samples = []
            for s in fam['samples']:
                if s['labels']['sandbox_id'] == sandbox['id']:
                    labels = dict(s['labels'])
                    del labels['sandbox_id']
                    samples.append(_sample(_unrename(s['name']), s['value'], labels))
            if samples:
                rebuilt.append(_family(_unrename(fam['name']), fam['type'], fam['help'], samples))
        order = [f['name'] for f in sandbox['families']]
        assert sorted(rebuilt, key=lambda f: order.index(f['name'])) == sandbox['families']

    success = [f for f in families if f['name'] == SCRAPE_SUCCESS][0]
    assert success['type'] == 'gauge'
    assert [(s['labels']['sandbox_id'], s['value']) for s in success['samples']] == sorted(
        [(i, 1.0) for i in SANDBOXES] + [(FAILED, 0.0)])


def test_textfile_of_kata_shims_is_valid_for_prometheus_client():
    pytest.importorskip('prometheus_client')
    scrape = _scrape()
    text = prometheus_textfile(scrape)
    ours = parse_text(text)
    theirs = oracle(text)
    # prometheus_client names counters without _total; the families and the sample counts must agree.
    assert len(theirs) == len(ours)
    assert sum(len(f[3]) for f in theirs) == sum(len(f['samples']) for f in ours)
    histogram = [f for f in theirs if f[0] == 'kata_shim_rpc_durations_histogram_milliseconds'][0]
    assert histogram[1] == 'histogram'
    assert set(dict(s[1])['sandbox_id'] for s in histogram[3]) == set(SANDBOXES)


def test_textfile_drops_timestamps():
    data = {'sandboxes': [{'id': 's1', 'families': [
        _family('kata_shim_threads', 'gauge', '', [_sample('kata_shim_threads', 12.0, timestamp=1764333000123)])]}]}
    text = prometheus_textfile(data)
    assert '# TYPE kata_shim_threads gauge\nkata_shim_threads{sandbox_id="s1"} 12\n' in text
    assert '1764333000123' not in text


def test_textfile_replaces_a_sandbox_id_label_and_keeps_escapes():
    data = {'sandboxes': [{'id': 's1', 'families': [
        _family('kata_x', 'untyped', 'a \\ back\nslash', [_sample('kata_x', 1.0, {'sandbox_id': 'other', 'v': 'q"\\\n'})])]}]}
    text = prometheus_textfile(data)
    assert ('# HELP kata_x a \\\\ back\\nslash\n# TYPE kata_x untyped\n'
            'kata_x{sandbox_id="s1",v="q\\"\\\\\\n"} 1\n') in text
    fam = parse_text(text)[0]
    assert fam['help'] == 'a \\ back\nslash'
    assert fam['samples'][0]['labels'] == {'sandbox_id': 's1', 'v': 'q"\\\n'}


def test_textfile_special_values():
    data = {'sandboxes': [{'id': 's1', 'families': [
        _family('kata_x', 'gauge', '', [_sample('kata_x', 'NaN', {'i': '1'}), _sample('kata_x', '+Inf', {'i': '2'}),
                                        _sample('kata_x', '-Inf', {'i': '3'}), _sample('kata_x', -0.5, {'i': '4'})])]}]}
    text = prometheus_textfile(data)
    assert ('kata_x{sandbox_id="s1",i="1"} NaN\nkata_x{sandbox_id="s1",i="2"} +Inf\n'
            'kata_x{sandbox_id="s1",i="3"} -Inf\nkata_x{sandbox_id="s1",i="4"} -0.5\n') in text


def test_textfile_help_from_the_first_sandbox_that_has_one():
    data = {'sandboxes': [
        {'id': 'a', 'families': [_family('kata_x', 'gauge', '', [_sample('kata_x', 1.0)])]},
        {'id': 'b', 'families': [_family('kata_x', 'gauge', 'Second.', [_sample('kata_x', 2.0)])]},
        {'id': 'c', 'families': [_family('kata_x', 'gauge', 'Third.', [_sample('kata_x', 3.0)])]},
    ]}
    assert prometheus_textfile(data).startswith('# HELP kata_x Second.\n# TYPE kata_x gauge\n'
                                                'kata_x{sandbox_id="a"} 1\nkata_x{sandbox_id="b"} 2\n'
                                                'kata_x{sandbox_id="c"} 3\n')


def test_textfile_type_conflict_leaves_out_the_later_sandbox_with_a_warning(monkeypatch):
    warnings = []
    monkeypatch.setattr(prometheus_text._display, 'warning', warnings.append)
    data = {'sandboxes': [
        {'id': 'new', 'families': [_family('kata_x', 'counter', 'X.', [_sample('kata_x', 5.0)]),
                                   _family('kata_y', 'gauge', 'Y.', [_sample('kata_y', 1.0)])]},
        {'id': 'old', 'families': [_family('kata_x', 'gauge', 'X.', [_sample('kata_x', 4.0)]),
                                   _family('kata_y', 'gauge', 'Y.', [_sample('kata_y', 2.0)])]},
        {'id': 'old2', 'families': [_family('kata_x', 'untyped', 'X.', [_sample('kata_x', 3.0)])]},
    ]}
    families = parse_text(prometheus_textfile(data))
    assert families[0] == _family('kata_x', 'counter', 'X.', [_sample('kata_x', 5.0, {'sandbox_id': 'new'})])
    assert [s['labels']['sandbox_id'] for s in families[1]['samples']] == ['new', 'old']
    assert warnings == ['prometheus_textfile: family kata_x is a counter in an earlier sandbox; its samples from '
                        'sandbox(es) old, old2 have another type and were left out']


def test_textfile_without_conflict_warns_nothing(monkeypatch):
    warnings = []
    monkeypatch.setattr(prometheus_text._display, 'warning', warnings.append)
    prometheus_textfile(_scrape())
    assert warnings == []


@pytest.mark.parametrize('data, message', [
    ({'failed': True, 'msg': 'sandbox_root: permission denied'},
     'prometheus_textfile: the kata_metrics task failed: sandbox_root: permission denied'),
    ({'changed': False}, 'the input has no "sandboxes" key'),
    ('text', 'expected the registered result of katacontainers.kata.kata_metrics (a dictionary) or its "sandboxes" '
             'list, got str'),
    ({'sandboxes': 'x'}, '"sandboxes" must be a list, got str'),
    ({'sandboxes': [], 'errors': ['a']}, '"errors" must be a dictionary, got list'),
    ({'sandboxes': [{'families': []}]}, 'sandboxes[0] must be a dictionary with a sandbox "id"'),
    ({'sandboxes': [{'id': 'a', 'socket': '/s'}]},
     'sandbox a has no "metrics" nor "families" (kata_metrics returns them with detail=compact or full'),
    ({'sandboxes': [{'id': 'a', 'families': []}, {'id': 'a', 'families': []}]}, 'sandbox a is listed twice'),
    ({'sandboxes': [{'id': 'a', 'families': [{'type': 'gauge'}]}]}, 'sandbox a: a family must be a dictionary with a "name"'),
    ({'sandboxes': [{'id': 'a', 'families': [_family('kata x', 'gauge', '', [])]}]},
     "sandbox a: invalid metric family name 'kata x'"),
    ({'sandboxes': [{'id': 'a', 'families': [_family('kata_x', 'enum', '', [])]}]},
     "sandbox a: family kata_x has an unknown type 'enum'"),
    ({'sandboxes': [{'id': 'a', 'families': [_family('kata_x', 'gauge', '', [_sample('kata_x', 'many')])]}]},
     "sandbox a, sample kata_x: a string value must be one of NaN, +Inf, -Inf, got 'many'"),
    ({'sandboxes': [{'id': 'a', 'families': [_family('kata_x', 'gauge', '', [_sample('kata_x', True)])]}]},
     'sandbox a, sample kata_x: the value must be a number, got bool'),
    ({'sandboxes': [{'id': 'a', 'families': [_family('kata_x', 'gauge', '', [_sample('kata_x', 1.0, {'0bad': 'v'})])]}]},
     "sandbox a, sample kata_x: invalid label name '0bad'"),
    ({'sandboxes': [{'id': 'a', 'families': [_family('kata_x', 'gauge', '', [_sample('kata_x', 1.0, {'k': 3})])]}]},
     "sandbox a, sample kata_x: the value of label 'k' must be a string, got int"),
])
def test_textfile_errors(data, message):
    with pytest.raises(AnsibleFilterError) as exc:
        prometheus_textfile(data)
    assert message in str(exc.value)


@pytest.mark.parametrize('kwargs, message', [
    ({'label': '__name__'}, "label must be a valid Prometheus label name, got '__name__'"),
    ({'label': 'sandbox-id'}, "label must be a valid Prometheus label name, got 'sandbox-id'"),
    ({'header': 'two\nlines'}, "a header line must not contain a line break: 'two\\nlines'"),
    ({'header': [1]}, 'header lines must be strings, got int'),
    ({'header': 5}, 'header must be a string or a list of strings, got int'),
])
def test_textfile_option_errors(kwargs, message):
    with pytest.raises(AnsibleFilterError) as exc:
        prometheus_textfile(SMALL, **kwargs)
    assert message in str(exc.value)


# ----------------------------------------------------------------------------------------------------------------
# prometheus_parse

def test_parse_kata_text():
    text = kata_shim_text('sb')
    assert prometheus_parse(text) == parse_text(text)
    assert prometheus_parse(text.encode('utf-8')) == parse_text(text)


def test_parse_keeps_the_families_asked_for():
    text = kata_shim_text('sb')
    kept = prometheus_parse(text, ['kata_guest_load', 'go_goroutines'])
    assert [f['name'] for f in kept] == ['go_goroutines', 'kata_guest_load']
    assert [f['name'] for f in prometheus_parse(text, 'kata_guest_l')] == ['kata_guest_load']
    assert len(prometheus_parse(text, [])) == len(parse_text(text))


def test_parse_small_exact():
    assert prometheus_parse('# HELP a The a.\n# TYPE a counter\na{x="1"} 3 1700000000000\n') == [
        _family('a', 'counter', 'The a.', [_sample('a', 3.0, {'x': '1'}, 1700000000000)])]


def test_parse_invalid_text_names_the_line():
    with pytest.raises(AnsibleFilterError) as exc:
        prometheus_parse('# TYPE kata_shim_threads gauge\nkata_shim_threads twelve\n')
    assert str(exc.value) == ("prometheus_parse: Invalid Prometheus text format at line 2: expected a float as the value "
                              "of 'kata_shim_threads', got 'twelve'; the line is: 'kata_shim_threads twelve'")


@pytest.mark.parametrize('args, message', [
    ((5,), 'expected the metrics text (a string), got int'),
    (('a 1\n', [3]), 'families must be a list of name prefixes'),
])
def test_parse_errors(args, message):
    with pytest.raises(AnsibleFilterError) as exc:
        prometheus_parse(*args)
    assert message in str(exc.value)


def test_textfile_round_trips_through_parse():
    text = prometheus_textfile(_scrape(), header='h')
    assert prometheus_textfile({'sandboxes': [{'id': 'x', 'families': []}]}) == (
        '# HELP kata_metrics_scrape_success ' + SCRAPE_SUCCESS_HELP + '\n# TYPE kata_metrics_scrape_success gauge\n'
        'kata_metrics_scrape_success{sandbox_id="x"} 1\n')
    families = prometheus_parse(text)
    from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import render_text
    assert '# h\n' + render_text(families) == text
