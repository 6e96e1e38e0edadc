# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis properties of the Prometheus text format parser.

Generated families are rendered by our renderer and by prometheus_client's ``generate_latest``, re-spelled with the
format's freedoms (blanks, tabs, CRLF, comments, value spellings), then parsed by our parser (which must give the
generated families back) and by prometheus_client's parser (the oracle, which must agree after normalization).
"""

from __future__ import annotations

import math

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
    FAMILY_TYPES,
    MetricsFormatError,
    float_value,
    parse_text,
    render_text,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import (
    canonical,
    family,
    go_float,
    oracle,
    sample,
)

pytest.importorskip('prometheus_client')
st = pytest.importorskip('hypothesis.strategies')

from hypothesis import HealthCheck, given, settings  # noqa: E402  pylint: disable=wrong-import-position

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


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
