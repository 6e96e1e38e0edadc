# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the Prometheus text format parser.

Three kinds: exact expected results for hand-written inputs (valid and invalid); a comparison with
prometheus_client's parser (the oracle) on a corpus (hand-written inputs, kata-like shim output, prometheus_client's
own exporter output); and Hypothesis properties (generated families rendered by our renderer and by
prometheus_client's ``generate_latest``, re-spelled with the format's freedoms, then parsed by both parsers).

The oracle differs from the format (and from Go's parser) in known ways, undone by ``oracle()``/``canonical()``:
it renames counters OpenMetrics-style (family ``x`` and samples ``x_total``), makes every sample it cannot place a
one-sample untyped family, keeps families without samples, calls untyped ``unknown``, and gives timestamps in
seconds. Where the two parsers disagree on purpose, a test below names the difference.
"""

from __future__ import annotations

import math

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import KataError
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
    FAMILY_TYPES,
    MetricsFormatError,
    float_value,
    json_value,
    parse_float,
    parse_text,
    render_text,
    select_families,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import (
    go_float,
    kata_shim_text,
)

prometheus_parser = pytest.importorskip('prometheus_client.parser')
hypothesis = pytest.importorskip('hypothesis')
st = pytest.importorskip('hypothesis.strategies')

from hypothesis import HealthCheck, given, settings  # noqa: E402  pylint: disable=wrong-import-position

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def sample(name, value, labels=None, timestamp=None):
    return {'name': name, 'labels': labels or {}, 'value': value, 'timestamp': timestamp}


def family(name, kind, text, samples):
    return {'name': name, 'type': kind, 'help': text, 'samples': samples}


# ------------------------------------------------------------------------------------------------- the oracle


def oracle(text):
    """prometheus_client's parse of ``text``, normalized to our shape's canonical form (see the docstring)."""
    merged = []
    for metric in prometheus_parser.text_string_to_metric_families(text):
        kind = 'untyped' if metric.type == 'unknown' else metric.type
        samples = [(s.name, tuple(sorted(s.labels.items())), _value_key(float(s.value)), s.timestamp)
                   for s in metric.samples]
        if merged and merged[-1][0] == metric.name and merged[-1][1] == kind:
            merged[-1][3].extend(samples)   # the oracle splits untyped samples into one family each
        else:
            merged.append((metric.name, kind, metric.documentation, samples))
    return [f for f in merged if f[3]]


def canonical(families):
    """Our parse in the oracle's canonical form: counters named OpenMetrics-style, timestamps in seconds."""
    out = []
    for fam in families:
        name, kind = fam['name'], fam['type']
        samples = []
        for s in fam['samples']:
            sname = s['name']
            if kind == 'counter' and not sname.endswith('_total'):
                sname += '_total'
            ts = None if s['timestamp'] is None else s['timestamp'] / 1000
            samples.append((sname, tuple(sorted(s['labels'].items())), _value_key(float_value(s['value'])), ts))
        if kind == 'counter' and name.endswith('_total'):
            name = name[:-6]
        out.append((name, kind, fam['help'], samples))
    return out


def _value_key(value):
    return 'NaN' if value != value else value


def assert_agrees_with_oracle(text):
    ours = parse_text(text)
    assert canonical(ours) == oracle(text)
    return ours


# ------------------------------------------------------------------------------------------------- valid input


def test_empty_and_comment_only_inputs():
    assert parse_text('') == []
    assert parse_text(b'') == []
    assert parse_text('\n\n  \n\t\n') == []
    assert parse_text('# just a comment\n#\n# HELP\n# TYPE\n') == []


def test_gauge_counter_untyped():
    text = ('# HELP kata_shim_threads Kata containerd shim v2 process threads.\n'
            '# TYPE kata_shim_threads gauge\n'
            'kata_shim_threads 12\n'
            '# HELP kata_agent_scrape_count Metrics scrape count\n'
            '# TYPE kata_agent_scrape_count counter\n'
            'kata_agent_scrape_count 7\n'
            'loose_metric{a="1"} 3.5\n'
            'loose_metric{a="2"} 4\n')
    assert assert_agrees_with_oracle(text) == [
        family('kata_shim_threads', 'gauge', 'Kata containerd shim v2 process threads.', [sample('kata_shim_threads', 12.0)]),
        family('kata_agent_scrape_count', 'counter', 'Metrics scrape count', [sample('kata_agent_scrape_count', 7.0)]),
        family('loose_metric', 'untyped', '', [sample('loose_metric', 3.5, {'a': '1'}), sample('loose_metric', 4.0, {'a': '2'})]),
    ]


def test_histogram_samples_are_grouped_in_their_family():
    text = ('# HELP rpc RPC latency distributions.\n'
            '# TYPE rpc histogram\n'
            'rpc_bucket{action="create",le="1"} 0\n'
            'rpc_bucket{action="create",le="2"} 1\n'
            'rpc_bucket{action="create",le="+Inf"} 2\n'
            'rpc_sum{action="create"} 3.25\n'
            'rpc_count{action="create"} 2\n'
            'rpc_bucket{le="+Inf"} 0\n'
            'rpc_sum 0\n'
            'rpc_count 0\n')
    assert assert_agrees_with_oracle(text) == [family('rpc', 'histogram', 'RPC latency distributions.', [
        sample('rpc_bucket', 0.0, {'action': 'create', 'le': '1'}),
        sample('rpc_bucket', 1.0, {'action': 'create', 'le': '2'}),
        sample('rpc_bucket', 2.0, {'action': 'create', 'le': '+Inf'}),
        sample('rpc_sum', 3.25, {'action': 'create'}),
        sample('rpc_count', 2.0, {'action': 'create'}),
        sample('rpc_bucket', 0.0, {'le': '+Inf'}),
        sample('rpc_sum', 0.0),
        sample('rpc_count', 0.0),
    ])]


def test_summary_samples_are_grouped_in_their_family():
    text = ('# TYPE go_gc_duration_seconds summary\n'
            'go_gc_duration_seconds{quantile="0"} 1.9568e-05\n'
            'go_gc_duration_seconds{quantile="0.5"} NaN\n'
            'go_gc_duration_seconds_sum 0.000512\n'
            'go_gc_duration_seconds_count 9\n')
    assert assert_agrees_with_oracle(text) == [family('go_gc_duration_seconds', 'summary', '', [
        sample('go_gc_duration_seconds', 1.9568e-05, {'quantile': '0'}),
        sample('go_gc_duration_seconds', 'NaN', {'quantile': '0.5'}),
        sample('go_gc_duration_seconds_sum', 0.000512),
        sample('go_gc_duration_seconds_count', 9.0),
    ])]


def test_sum_and_count_of_other_types_are_families_of_their_own():
    text = ('# TYPE a gauge\na 1\na_sum 2\na_count 3\n'
            '# TYPE s summary\ns_sum 1\ns_count 1\ns_bucket{le="1"} 1\n')
    assert [(f['name'], f['type'], [s['name'] for s in f['samples']]) for f in assert_agrees_with_oracle(text)] == [
        ('a', 'gauge', ['a']),
        ('a_sum', 'untyped', ['a_sum']),
        ('a_count', 'untyped', ['a_count']),
        ('s', 'summary', ['s_sum', 's_count']),
        ('s_bucket', 'untyped', ['s_bucket']),
    ]


def test_counter_named_total_and_counter_without_total():
    text = '# TYPE a_total counter\na_total 1\n# TYPE b counter\nb 2\n# TYPE c counter\nc_total 3\n'
    # ``c_total`` does not belong to family ``c`` (format 0.0.4 has no _total suffix rule): it is untyped on its own
    # and ``c``, left without samples, is dropped.
    assert assert_agrees_with_oracle(text) == [
        family('a_total', 'counter', '', [sample('a_total', 1.0)]),
        family('b', 'counter', '', [sample('b', 2.0)]),
        family('c_total', 'untyped', '', [sample('c_total', 3.0)]),
    ]


@pytest.mark.parametrize('token, expected', [
    ('0', 0.0), ('-0', -0.0), ('+1', 1.0), ('42', 42.0), ('1.5', 1.5), ('.5', 0.5), ('5.', 5.0), ('1e3', 1000.0),
    ('1E3', 1000.0), ('1e+03', 1000.0), ('2.5e-3', 0.0025), ('-1.8446744073709552e+19', -1.8446744073709552e+19),
    ('1e-400', 0.0), ('007', 7.0),
    ('NaN', 'NaN'), ('nan', 'NaN'), ('NAN', 'NaN'), ('+Inf', '+Inf'), ('Inf', '+Inf'), ('inf', '+Inf'),
    ('+infinity', '+Inf'), ('Infinity', '+Inf'), ('-Inf', '-Inf'), ('-inf', '-Inf'), ('-INFINITY', '-Inf'),
])
def test_values(token, expected):
    result = assert_agrees_with_oracle('m %s\n' % token)
    assert result == [family('m', 'untyped', '', [sample('m', expected)])]
    value = result[0]['samples'][0]['value']
    assert type(value) is type(expected)  # pylint: disable=unidiomatic-typecheck
    if token == '-0':
        assert math.copysign(1, value) == -1


@pytest.mark.parametrize('token, expected', [
    ('0', 0), ('1700000000000', 1700000000000), ('-5', -5), ('+12', 12),
    ('9223372036854775807', 9223372036854775807), ('-9223372036854775808', -9223372036854775808),
])
def test_timestamps(token, expected):
    result = assert_agrees_with_oracle('m{a="b"} 1 %s\n' % token)
    assert result == [family('m', 'untyped', '', [sample('m', 1.0, {'a': 'b'}, expected)])]
    assert type(result[0]['samples'][0]['timestamp']) is int  # pylint: disable=unidiomatic-typecheck


def test_label_value_escapes_and_unicode():
    text = 'm{a="back\\\\slash",b="quo\\"te",c="new\\nline",d="\\\\n",e="}{,= #",f="caf\u00e9 \u2603",g=""} 1\n'
    assert assert_agrees_with_oracle(text)[0]['samples'][0]['labels'] == {
        'a': 'back\\slash', 'b': 'quo"te', 'c': 'new\nline', 'd': '\\n', 'e': '}{,= #', 'f': 'caf\u00e9 \u2603', 'g': ''}


def test_help_escapes():
    text = ('# HELP a back\\\\slash new\\nline \\\\n \u2603\n# TYPE a gauge\na 1\n'
            # Unknown escapes in HELP are kept verbatim (prometheus_client does the same; Go rejects them).
            '# HELP b tab\\t quote\\" end\\\n# TYPE b gauge\nb 1\n')
    result = assert_agrees_with_oracle(text)
    assert [f['help'] for f in result] == ['back\\slash new\nline \\n \u2603', 'tab\\t quote\\" end\\']


def test_whitespace_freedoms():
    text = ('  # HELP   a    spaced   help  \t\r\n'
            '\t#\tTYPE\ta\tgauge\r\n'
            '\r\n'
            '   a{  x = "1" ,  y="2",  }\t 1 \t 100  \r\n'
            'a{}2\n'
            'a { } 3\n'
            'a\t4\t200\n'
            'a{z="3"}5')           # no final newline
    assert assert_agrees_with_oracle(text) == [family('a', 'gauge', 'spaced   help', [
        sample('a', 1.0, {'x': '1', 'y': '2'}, 100),
        sample('a', 2.0),
        sample('a', 3.0),
        sample('a', 4.0, timestamp=200),
        sample('a', 5.0, {'z': '3'}),
    ])]


def test_bytes_input_bom_and_crlf():
    data = '\ufeff# HELP m caf\u00e9\r\n# TYPE m gauge\r\nm{l="\u2603"} 1\r\n'.encode('utf-8')
    assert parse_text(data) == [family('m', 'gauge', 'caf\u00e9', [sample('m', 1.0, {'l': '\u2603'})])]


def test_type_keyword_is_case_insensitive_like_go():
    assert parse_text('# TYPE a COUNTER\na 1\n# TYPE b Histogram\nb_count 1\n') == [
        family('a', 'counter', '', [sample('a', 1.0)]),
        family('b', 'histogram', '', [sample('b_count', 1.0)]),
    ]


def test_comments_that_are_not_help_or_type_are_ignored():
    text = ('# HELPER not a help line\n# TYPES nope\n# help lower case is a comment\n#\n# HELP a\n'
            '# a b c d e\n# TYPE a gauge\na 1\n')
    assert assert_agrees_with_oracle(text) == [family('a', 'gauge', '', [sample('a', 1.0)])]


def test_type_line_without_a_type_is_ignored_like_go():
    # prometheus_client raises a bare ValueError here; Go's parser ignores the line.
    assert parse_text('# TYPE a\na 1\n') == [family('a', 'untyped', '', [sample('a', 1.0)])]
    with pytest.raises(ValueError):
        oracle('# TYPE a\na 1\n')


def test_help_and_type_without_samples_make_no_family():
    assert parse_text('# HELP a x\n# TYPE a gauge\n# HELP b y\n# TYPE c counter\n') == []


def test_help_after_samples_is_accepted():
    assert parse_text('# TYPE a gauge\na 1\n# HELP a late help\n') == [family('a', 'gauge', 'late help', [sample('a', 1.0)])]


def test_interleaved_families_are_merged_in_order_of_first_appearance():
    # Not a grouped exposition (the format asks for one group per family), but what concatenated expositions look
    # like. Like Go's parser, samples join the family of their name; the oracle instead starts new families.
    text = '# TYPE a gauge\na{i="1"} 1\n# TYPE b counter\nb 2\na{i="2"} 3\nc 4\nb 5\n'
    assert parse_text(text) == [
        family('a', 'gauge', '', [sample('a', 1.0, {'i': '1'}), sample('a', 3.0, {'i': '2'})]),
        family('b', 'counter', '', [sample('b', 2.0), sample('b', 5.0)]),
        family('c', 'untyped', '', [sample('c', 4.0)]),
    ]


def test_histogram_samples_after_another_family_still_join_it():
    text = '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nother 1\nh_sum 2\nh_count 1\n'
    assert [(f['name'], [s['name'] for s in f['samples']]) for f in parse_text(text)] == [
        ('h', ['h_bucket', 'h_sum', 'h_count']), ('other', ['other'])]


def test_duplicate_series_are_kept():
    assert parse_text('a 1\na 2\n') == [family('a', 'untyped', '', [sample('a', 1.0), sample('a', 2.0)])]


def test_go_style_help_line_without_blank_after_hash():
    # Go's parser reads the token after '#' as the keyword, blanks or not; prometheus_client calls it a comment.
    assert parse_text('#HELP a the help\n#TYPE a gauge\na 1\n') == [family('a', 'gauge', 'the help', [sample('a', 1.0)])]


def test_reserved_looking_label_names_are_accepted_like_go():
    assert parse_text('a{__meta="x",le="1",quantile="q"} 1\n')[0]['samples'][0]['labels'] == {
        '__meta': 'x', 'le': '1', 'quantile': 'q'}


def test_colons_in_metric_names():
    assert parse_text(':a:b 1\nc:d{e="f"} 2\n') == [
        family(':a:b', 'untyped', '', [sample(':a:b', 1.0)]),
        family('c:d', 'untyped', '', [sample('c:d', 2.0, {'e': 'f'})]),
    ]


def test_long_line_is_parsed():
    value = 'x' * 100000
    assert parse_text('m{v="%s"} 1\n' % value)[0]['samples'][0]['labels']['v'] == value


# ------------------------------------------------------------------------------------------------- invalid input


@pytest.mark.parametrize('text, number, reason', [
    ('9abc 1\n', 1, 'invalid metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]*)'),
    ('{a="b"} 1\n', 1, 'a sample needs a metric name before its labels (quoted metric names are not part of format 0.0.4)'),
    ('{"a.b"} 1\n', 1, 'a sample needs a metric name before its labels (quoted metric names are not part of format 0.0.4)'),
    ('ok 1\nabc\n', 2, "missing value after metric name 'abc'"),
    ('abc{a="b"}\n', 1, "missing value after the labels of metric 'abc'"),
    ('a-b 1\n', 1, "invalid character '-' in metric name 'a-'"),
    ('abc x\n', 1, "expected a float as the value of 'abc', got 'x'"),
    ('abc 1_000\n', 1, "expected a float as the value of 'abc', got '1_000'"),
    ('abc 0x1p3\n', 1, "expected a float as the value of 'abc', got '0x1p3'"),
    ('abc 0x10\n', 1, "expected a float as the value of 'abc', got '0x10'"),
    ('abc 1e400\n', 1, "expected a float as the value of 'abc', got '1e400'"),
    ('abc +nan\n', 1, "expected a float as the value of 'abc', got '+nan'"),
    ('abc infinit\n', 1, "expected a float as the value of 'abc', got 'infinit'"),
    ('abc \u0661\n', 1, "expected a float as the value of 'abc', got '\u0661'"),
    ('abc 1\x0b\n', 1, "expected a float as the value of 'abc', got '1\\x0b'"),
    ('abc 1 1.5\n', 1, "expected an integer timestamp in milliseconds, got '1.5'"),
    ('abc 1 1_0\n', 1, "expected an integer timestamp in milliseconds, got '1_0'"),
    ('abc 1 9223372036854775808\n', 1, "expected an integer timestamp in milliseconds, got '9223372036854775808'"),
    ('abc 1 2 3\n', 1, "unexpected text after the timestamp of metric 'abc'"),
    ('abc{a="1"} 1 2 3\n', 1, "unexpected text after the timestamp of metric 'abc'"),
    ('a{b} 1\n', 1, "expected '=' after label name 'b'"),
    ('a{b=c} 1\n', 1, 'expected \'"\' at the start of the value of label \'b\''),
    ('a{b="c} 1\n', 1, "unterminated value of label 'b'"),
    ('a{b="c\\"} 1\n', 1, "unterminated value of label 'b'"),
    ('a{b="c"\n', 1, "unterminated label set (no closing '}') for metric 'a'"),
    ('a{b="c" d="e"} 1\n', 1, "expected ',' or '}' after the value of label 'b'"),
    ('a{,b="c"} 1\n', 1, "empty label pair (stray comma) for metric 'a'"),
    ('a{b="c",,} 1\n', 1, "empty label pair (stray comma) for metric 'a'"),
    ('a{9b="c"} 1\n', 1, "invalid label name at '9b=\"c\"' for metric 'a'"),
    ('a{b:c="d"} 1\n', 1, "expected '=' after label name 'b'"),
    ('a{b="c",b="d"} 1\n', 1, "duplicate label name 'b' for metric 'a'"),
    ('a{__name__="x"} 1\n', 1, 'label name "__name__" is reserved'),
    ('a{b="\\t"} 1\n', 1, "invalid escape sequence '\\\\t' in a label value (only \\\\, \\\" and \\n are valid)"),
    ('# HELP 9x doc\n', 1, "invalid metric name '9x' in the HELP comment"),
    ('# TYPE a-b gauge\n', 1, "invalid metric name 'a-b' in the TYPE comment"),
    ('# TYPE a foo\n', 1, "unknown metric type 'foo' (expected one of counter, gauge, histogram, summary, untyped)"),
    ('# TYPE a gaugehistogram\n', 1,
     "unknown metric type 'gaugehistogram' (expected one of counter, gauge, histogram, summary, untyped)"),
    ('# TYPE a counter\n# TYPE a gauge\n', 2, "second TYPE line for metric 'a'"),
    ('# HELP a x\n# HELP a y\n', 2, "second HELP line for metric 'a'"),
    ('a 1\n# TYPE a gauge\n', 2, "TYPE line for metric 'a' after its samples"),
    ('# TYPE h histogram\n# TYPE h_bucket gauge\n', 2, "second TYPE line for metric 'h'"),
    ('# TYPE h histogram\nh 1\n', 2, "sample 'h' in histogram 'h' must be one of h_bucket, h_sum, h_count"),
    ('# TYPE h histogram\nh_bucket{a="b"} 1\n', 2, "histogram bucket 'h_bucket' has no 'le' label"),
    ('# TYPE h histogram\nh_bucket{le="big"} 1\n', 2, "expected a float as the value of the 'le' label, got 'big'"),
    ('# TYPE s summary\ns 1\n', 2, "summary sample 's' has no 'quantile' label"),
    ('# TYPE s summary\ns{quantile="x"} 1\n', 2, "expected a float as the value of the 'quantile' label, got 'x'"),
])
def test_invalid_input(text, number, reason):
    with pytest.raises(MetricsFormatError) as caught:
        parse_text(text)
    line = text.split('\n')[number - 1].strip(' \t')
    assert caught.value.msg == 'Invalid Prometheus text format at line %d: %s; the line is: %r' % (number, reason, line)
    assert caught.value.details == {'line_number': number, 'line': line}
    assert isinstance(caught.value, KataError)


def test_line_numbers_count_blank_comment_and_crlf_lines():
    text = '# HELP a x\r\n\r\n# TYPE a gauge\r\na 1\r\n\r\n  \r\na 2 x\r\n'
    with pytest.raises(MetricsFormatError) as caught:
        parse_text(text)
    assert caught.value.msg == ("Invalid Prometheus text format at line 7: expected an integer timestamp in milliseconds, "
                                "got 'x'; the line is: 'a 2 x'")


def test_long_bad_line_is_cut_in_the_message():
    line = 'm{v="%s"} one' % ('x' * 200)
    with pytest.raises(MetricsFormatError) as caught:
        parse_text(line)
    assert caught.value.details == {'line_number': 1, 'line': line[:120] + '...'}
    assert caught.value.msg == ("Invalid Prometheus text format at line 1: expected a float as the value of 'm', got 'one'; "
                                "the line is: %r" % (line[:120] + '...'))


def test_invalid_utf8_names_its_line_and_column():
    data = b'a 1\n# HELP b x\nb{l="caf\xe9"} 1\n'
    with pytest.raises(MetricsFormatError) as caught:
        parse_text(data)
    assert caught.value.msg == ("Invalid Prometheus text format at line 3: invalid UTF-8 byte b'\\xe9' at column 9; "
                                "the line is: 'b{l=\"caf\\\\xe9\"} 1'")
    assert caught.value.details['line_number'] == 3


# ------------------------------------------------------------------------------------------------- helpers


def test_parse_float_and_json_value():
    assert parse_float('1e3') == 1000.0
    assert parse_float('1e400') is None
    assert parse_float('') is None
    assert parse_float(' 1') is None
    assert math.isnan(parse_float('NaN'))
    assert [json_value(v) for v in (1.5, float('nan'), float('inf'), float('-inf'))] == [1.5, 'NaN', '+Inf', '-Inf']
    assert [float_value(v) for v in (1.5, '+Inf', '-Inf')] == [1.5, float('inf'), float('-inf')]
    assert math.isnan(float_value('NaN'))


def test_select_families_by_prefix():
    families = parse_text('kata_shim_threads 1\nkata_guest_load 2\ngo_goroutines 3\nkata_shim_fds 4\n')
    assert [f['name'] for f in select_families(families, ['kata_shim_', 'go_'])] == [
        'kata_shim_threads', 'go_goroutines', 'kata_shim_fds']
    assert [f['name'] for f in select_families(families, ['kata_guest_load'])] == ['kata_guest_load']
    assert select_families(families, ['nothing']) == []
    assert select_families(families, []) == families
    assert select_families(families, None) == families


def test_render_text_writes_the_format():
    families = [family('h', 'histogram', 'multi\nline \\ help', [
        sample('h_bucket', 1.0, {'a': 'q"\\\n', 'le': '+Inf'}), sample('h_sum', 2.5, timestamp=7), sample('h_count', 1.0)]),
        family('g', 'gauge', '', [sample('g', 'NaN'), sample('g', '-Inf'), sample('g', 1e300), sample('g', -3.0)])]
    text = render_text(families)
    assert text == ('# HELP h multi\\nline \\\\ help\n# TYPE h histogram\n'
                    'h_bucket{a="q\\"\\\\\\n",le="+Inf"} 1\nh_sum 2.5 7\nh_count 1\n'
                    '# TYPE g gauge\ng NaN\ng -Inf\ng 1e+300\ng -3\n')
    assert parse_text(text) == families


# ------------------------------------------------------------------------------------------------- corpus vs oracle


@pytest.mark.parametrize('sandbox_id, agent, cpus', [('abc', True, 2), ('0123456789abcdef' * 4, True, 64), ('x1', False, 1)])
def test_kata_shim_text_agrees_with_oracle(sandbox_id, agent, cpus):
    text = kata_shim_text(sandbox_id, agent=agent, cpus=cpus)
    result = assert_agrees_with_oracle(text)
    names = [f['name'] for f in result]
    assert len(names) == len(set(names))
    assert ('kata_guest_meminfo' in names) is agent
    by_name = dict((f['name'], f) for f in result)
    assert by_name['kata_shim_rpc_durations_histogram_milliseconds']['type'] == 'histogram'
    assert len(by_name['kata_shim_rpc_durations_histogram_milliseconds']['samples']) == 10 * (11 + 2)
    assert by_name['go_gc_duration_seconds']['type'] == 'summary'
    assert by_name['process_virtual_memory_max_bytes']['samples'][0]['value'] == 1.8446744073709552e+19
    assert parse_text(render_text(result)) == result
    if agent:
        assert len(by_name['kata_guest_cpu_time']['samples']) == (cpus + 1) * 10


def test_prometheus_client_exporter_output_agrees_with_oracle():
    # A real exporter's text: prometheus_client's process, platform and GC collectors plus every metric class.
    from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram, Info, Summary, generate_latest
    from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    Counter('requests', 'Requests\\served\nso far', ['path'], registry=registry).labels('/a"b\\c\nd').inc(3)
    Gauge('temperature_celsius', 'Temperature', registry=registry).set(-12.5)
    hist = Histogram('latency_seconds', 'Latency', ['op'], registry=registry, buckets=(0.001, 0.1, 1, 10))
    for n in (0.0005, 0.2, 3, 50):
        hist.labels('read').observe(n)
    Summary('size_bytes', 'Sizes', registry=registry).observe(1024)
    Info('build', 'Build information', registry=registry).info({'version': '3.0.0', 'commit': 'e2a8815'})
    Enum('state', 'Sandbox state', states=['ready', 'running', 'down'], registry=registry).state('running')
    text = generate_latest(registry).decode('utf-8')
    result = assert_agrees_with_oracle(text)
    names = [f['name'] for f in result]
    assert 'requests_total' in names and 'latency_seconds' in names and 'build_info' in names
    requests = result[names.index('requests_total')]
    assert requests['help'] == 'Requests\\served\nso far'
    assert requests['samples'][0]['labels'] == {'path': '/a"b\\c\nd'}
    assert requests['samples'][0]['value'] == 3.0


# ------------------------------------------------------------------------------------------------- properties

_SUFFIXES = ('_sum', '_count', '_bucket', '_total', '_created', '_gsum', '_gcount', '_info')
_WS = ' \t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a' \
      '\u2028\u2029\u202f\u205f\u3000'

metric_names = st.from_regex(r'\A[a-zA-Z_:][a-zA-Z0-9_:]{0,14}\Z').filter(lambda n: not n.endswith(_SUFFIXES))
label_names = st.from_regex(r'\A[a-zA-Z_][a-zA-Z0-9_]{0,9}\Z').filter(
    lambda n: not n.startswith('__') and n not in ('le', 'quantile'))
text_chars = st.characters(blacklist_categories=('Cs',))
label_values = st.text(text_chars, max_size=12)
# HELP text: the line's (and the oracle's, Unicode-wide) whitespace stripping must not change it.
helps = st.text(text_chars, max_size=30).filter(lambda h: h == h.strip(_WS) and h == h.strip())
finite = st.floats(allow_nan=False, allow_infinity=False)
values = st.one_of(finite, st.sampled_from(['NaN', '+Inf', '-Inf']))
timestamps = st.one_of(st.none(), st.integers(-(1 << 63), (1 << 63) - 1))
label_sets = st.dictionaries(label_names, label_values, max_size=3)


@st.composite
def families_model(draw, seconds_timestamps=False):
    """A list of families in parse_text's shape (unique names, at least one sample each)."""
    names = draw(st.lists(metric_names, min_size=1, max_size=6, unique=True))
    ts_strategy = st.one_of(st.none(), st.integers(-(1 << 40), 1 << 40).map(lambda k: k * 1000)) \
        if seconds_timestamps else timestamps
    out = []
    for base in names:
        kind = draw(st.sampled_from(FAMILY_TYPES))
        name = base + '_total' if kind == 'counter' and draw(st.booleans()) else base
        samples = []
        if kind in ('counter', 'gauge', 'untyped'):
            for labels in draw(st.lists(label_sets, min_size=1, max_size=4)):
                samples.append(sample(name, draw(values), labels, draw(ts_strategy)))
        else:
            for labels in draw(st.lists(label_sets, min_size=1, max_size=2, unique_by=lambda d: tuple(sorted(d.items())))):
                if kind == 'histogram':
                    bounds = sorted(set(draw(st.lists(finite, max_size=4))))
                    for bound in [repr(b) for b in bounds] + ['+Inf']:
                        samples.append(sample(name + '_bucket', draw(values), dict(labels, le=bound), draw(ts_strategy)))
                else:
                    for q in sorted(set(draw(st.lists(st.floats(0, 1), max_size=4)))):
                        samples.append(sample(name, draw(values), dict(labels, quantile=repr(q)), draw(ts_strategy)))
                samples.append(sample(name + '_sum', draw(values), dict(labels), draw(ts_strategy)))
                samples.append(sample(name + '_count', draw(values), dict(labels), draw(ts_strategy)))
        out.append(family(name, kind, draw(helps), samples))
    return out


@given(families_model())
@SETTINGS
def test_property_render_then_parse_is_identity_and_agrees_with_oracle(model):
    text = render_text(model)
    assert parse_text(text) == model
    assert canonical(parse_text(text)) == oracle(text)


def _spell_value(draw, value):
    if value == 'NaN':
        return draw(st.sampled_from(['NaN', 'nan', 'NAN', 'nAn']))
    if value == '+Inf':
        return draw(st.sampled_from(['+Inf', 'Inf', 'inf', '+inf', 'Infinity', '+INFINITY']))
    if value == '-Inf':
        return draw(st.sampled_from(['-Inf', '-inf', '-Infinity', '-INF']))
    spellings = [repr(value), repr(value).upper(), '%.17g' % value, '%.17e' % value, go_float(value)]
    if value == int(value) and abs(value) < 1e15:
        spellings.append('%d' % value)
    if math.copysign(1, value) > 0:
        spellings.append('+' + repr(value))
    return draw(st.sampled_from(spellings))


@st.composite
def spelled(draw):
    """A model and a text for it that uses the format's freedoms: blanks, tabs, CRLF, comments, value spellings."""
    model = draw(families_model())
    blank = st.sampled_from([' ', '\t', '  ', ' \t '])
    opt_blank = st.sampled_from(['', ' ', '\t'])
    eol = st.sampled_from(['\n', '\r\n', ' \n', '\t\r\n'])
    lines = []
    for fam in model:
        meta = []
        if fam['help']:
            meta.append('#%sHELP%s%s%s%s' % (draw(blank), draw(blank), fam['name'], draw(blank),
                                             fam['help'].replace('\\', '\\\\').replace('\n', '\\n')))
        if fam['type'] != 'untyped' or draw(st.booleans()):
            meta.append('#%sTYPE%s%s%s%s' % (draw(blank), draw(blank), fam['name'], draw(blank),
                                             fam['type'].upper() if draw(st.booleans()) else fam['type']))
        lines.extend(draw(st.permutations(meta)))
        for s in fam['samples']:
            if draw(st.integers(0, 9)) == 0:
                lines.append(draw(st.sampled_from(['', '#', '# a comment', '#  HELPER x', '  ', '# TYPEX y z'])))
            head = draw(opt_blank) + s['name']
            if s['labels'] or draw(st.booleans()):
                pairs = ['%s%s=%s"%s"%s' % (draw(opt_blank), k, draw(opt_blank),
                                            v.replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"'), draw(opt_blank))
                         for k, v in s['labels'].items()]
                head += '%s{%s%s}' % (draw(opt_blank), ','.join(pairs), ',' if pairs and draw(st.booleans()) else '')
                sep = draw(st.sampled_from(['', ' ', '\t']))
            else:
                sep = draw(blank)
            line = head + sep + _spell_value(draw, s['value'])
            if s['timestamp'] is not None:
                line += draw(blank) + draw(st.sampled_from(['%d', '%+d'])) % s['timestamp']
            lines.append(line)
    text = ''.join(line + draw(eol) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip('\r\n')
    return model, text


@given(spelled())
@SETTINGS
def test_property_spelling_freedoms_parse_to_the_model(case):
    model, text = case
    assert parse_text(text) == model
    assert parse_text(text.encode('utf-8')) == model


@given(families_model())
@SETTINGS
def test_property_oracle_agrees_on_spelled_text(model):
    # The same text through both parsers, with the whitespace the oracle also understands (it splits tokens on
    # blanks or tabs, but not on both in one line).
    text = render_text(model).replace('\n', '\r\n').replace('# TYPE ', '#   TYPE\t').replace('} ', '}\t\t')
    assert canonical(parse_text(text)) == oracle(text)


@given(families_model(seconds_timestamps=True))
@SETTINGS
def test_property_prometheus_client_rendering_agrees(model):
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import Metric

    class Collector(object):
        def collect(self):
            for fam in model:
                name, kind = fam['name'], fam['type']
                if kind == 'counter':   # prometheus_client names counter families without _total
                    metric = Metric(name[:-6] if name.endswith('_total') else name, fam['help'], 'counter')
                    sample_name = name if name.endswith('_total') else name + '_total'
                else:
                    metric = Metric(name, fam['help'], kind)
                    sample_name = None
                for s in fam['samples']:
                    ts = None if s['timestamp'] is None else s['timestamp'] / 1000
                    metric.add_sample(sample_name or s['name'], s['labels'], float_value(s['value']), ts)
                yield metric

    registry = CollectorRegistry()
    registry.register(Collector())
    text = generate_latest(registry).decode('utf-8')
    ours = parse_text(text)
    assert canonical(ours) == oracle(text)
    assert canonical(ours) == canonical(model)


@given(families_model())
@SETTINGS
def test_property_round_trip_is_stable(model):
    once = parse_text(render_text(model))
    assert parse_text(render_text(once)) == once


_FRAGMENTS = ['# HELP', '# TYPE', ' ', '\t', '{', '}', '"', '\\', '=', ',', 'a', 'm_bucket', 'le', '1', '1e5', 'NaN',
              '+Inf', '\r', 'histogram', 'summary', 'counter', '#', 'x_sum', 'quantile', '\u2603', '_count']


@given(st.lists(st.one_of(st.text(max_size=20), st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map(''.join)),
                max_size=8).map('\n'.join))
@SETTINGS
def test_property_any_text_parses_or_raises_a_format_error(text):
    try:
        result = parse_text(text)
    except MetricsFormatError as exc:
        assert exc.msg.startswith('Invalid Prometheus text format at line %d: ' % exc.details['line_number'])
        assert 1 <= exc.details['line_number'] <= text.count('\n') + 1
    else:
        assert parse_text(render_text(result)) == result


@given(st.binary(max_size=200))
@SETTINGS
def test_property_any_bytes_parse_or_raise_a_format_error(data):
    try:
        parse_text(data)
    except MetricsFormatError as exc:
        assert exc.details['line_number'] >= 1
