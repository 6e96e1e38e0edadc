# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the Prometheus text format parser.

Exact expected results for hand-written inputs (valid and invalid), each valid one also compared with
prometheus_client's parser (the oracle, see metrics_testlib.oracle); the same comparison on a corpus of kata-like
shim output, the simulator's output (tests/kata_sim) and prometheus_client's own exporter output. Where the two
parsers disagree on purpose, a test below names the difference. The Hypothesis properties are in
test_prometheus_properties.py.
"""

from __future__ import annotations

import math
import os
import sys

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import KataError
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
    MetricsFormatError,
    float_value,
    json_value,
    parse_float,
    parse_text,
    render_text,
    select_families,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import (
    canonical,
    family,
    kata_shim_text,
    oracle,
    sample,
)

try:
    import prometheus_client  # noqa: F401  pylint: disable=unused-import
    HAS_ORACLE = True
except ImportError:
    HAS_ORACLE = False

needs_oracle = pytest.mark.skipif(not HAS_ORACLE, reason='prometheus_client (the test oracle) is not installed')


def assert_agrees_with_oracle(text):
    """Our parse of ``text``, after checking it against prometheus_client's (when installed)."""
    ours = parse_text(text)
    if HAS_ORACLE:
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
    # Go's parser ignores the line (prometheus_client raises a bare ValueError).
    assert parse_text('# TYPE a\na 1\n') == [family('a', 'untyped', '', [sample('a', 1.0)])]


@needs_oracle
def test_oracle_rejects_a_type_line_without_a_type():
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


@needs_oracle
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


def _simulator_text(sandbox_id, hypervisor, index):
    """What the collection's simulated shim (tests/kata_sim) serves on /metrics, built without starting it."""
    here = os.path.dirname(os.path.abspath(__file__))
    sim_dir = os.path.normpath(os.path.join(here, '..', '..', '..', 'kata_sim'))
    if not os.path.isfile(os.path.join(sim_dir, 'sim_metrics.py')):
        pytest.skip('the simulator (tests/kata_sim) is not beside these tests')
    sys.path.insert(0, sim_dir)
    try:
        import sim_metrics  # pylint: disable=import-error
        import sim_promtext  # pylint: disable=import-error
    finally:
        sys.path.remove(sim_dir)
    state = sim_metrics.MetricsState(sandbox_id, hypervisor, index)
    writes = sim_promtext.encoder_writes(sim_metrics.shim_families(state)) + \
        sim_promtext.encoder_writes(sim_metrics.agent_families(state))
    return b''.join(writes)


@pytest.mark.parametrize('hypervisor', ['qemu', 'clh', 'firecracker'])
def test_simulator_output_agrees_with_oracle(hypervisor):
    data = _simulator_text('sim-%s' % hypervisor, hypervisor, 3)
    result = assert_agrees_with_oracle(data.decode('utf-8'))
    assert parse_text(data) == result
    by_name = dict((f['name'], f) for f in result)
    assert len(by_name) == len(result)
    assert by_name['kata_sim_escapes']['samples'][0]['labels']['path'] == 'C:\\kata\\"sim"\nline2'
    assert by_name['kata_shim_rpc_durations_histogram_milliseconds']['type'] == 'histogram'
    assert by_name['go_gc_duration_seconds']['type'] == 'summary'
    assert ('kata_firecracker_api_server' in by_name) is (hypervisor == 'firecracker')
    assert parse_text(render_text(result)) == result
