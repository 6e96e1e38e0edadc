# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""parse_counted reads runs of sample lines whole; it must give what reading the text one line at a time gives.

The reference below is the line-by-line reading parse_counted did before it cut the text into runs (and still does
when every family is kept): every line goes through the per-line code. Texts are generated from a vocabulary built to
hit what the runs rely on: comment lines among sample lines, histogram and summary siblings, names that extend a
family's name, blank and indented lines, CRLF, tabs after a name, invalid names, and prefixes that keep some
families.
"""

from __future__ import annotations

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _prometheus
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import MetricsFormatError, parse_counted
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import kata_shim_text

st = pytest.importorskip('hypothesis.strategies')

from hypothesis import HealthCheck, given, settings  # noqa: E402  pylint: disable=wrong-import-position

SETTINGS = settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ['a', 'a_sum', 'a_count', 'a_bucket', 'a_bucket_sum', 'ab', 'h', 'h_bucket', 'h_sum', 'h_count',
         'h_bucket_bucket', 's', 's_sum', 's_count', 'kata_x', 'kata_x_bucket', 'kata_x_count', 'go_gc', 'b_total',
         '1bad', '']
TYPES = ['gauge', 'counter', 'histogram', 'summary', 'untyped', 'HISTOGRAM', 'bogus']
COMMENTS = ['# HELP {n} some help', '# TYPE {n} {t}', '# TYPE {n}', '# HELP {n}', '#TYPE {n} {t}', '  # TYPE {n} {t}',
            '# plain comment', '#', '# TYPE {n} {t} ', '\t# HELP {n} x\\ny', '# HELP {n} a\r']
SAMPLES = ['{n} 1', '{n}  1', '{n}{{le="1"}} 2', '{n}{{le="+Inf"}} 3', '{n}{{quantile="0.5"}} 1', '{n} one',
           '  {n} 2', '{n}\t3 123', '{n}{{x="y"}} NaN', '{n} 1\r', '', '   ', '\r', ' \r', '{n}', '{{x="1"}} 2',
           '\r{n} 1', '{n}{{a="b",a="c"}} 1', '{n}{{', '{n} 1 2 3', '{n}{{le="x"}} 1', '{n}{{}} 1', '{n}_sum 1',
           '{n}_bucket{{le="1"}} 1', '{n}_count 2', '{n}x 1', '{n}:y 1']
PREFIXES = [None, ['a'], ['h', 'kata_'], ['s'], ['zzz'], ['a_b']]


def line_by_line(text, prefixes=None, keep_none=False):
    """parse_counted's result, reading ``text`` one line at a time (the reference)."""
    if isinstance(text, bytes):
        text = _prometheus.decode(text)
    if text.startswith('\ufeff'):
        text = text[1:]
    keep = () if keep_none else tuple(prefixes) if prefixes else None
    state = _prometheus._Counting(keep)
    state._lines([''] + text.split('\n'), 0)
    kept = [{'name': f.name, 'type': f.type, 'help': f.help or '', 'samples': f.samples}
            for f in state.families.values() if f.samples]
    return kept, {'families': len(kept) + len(state.sampled), 'samples': state.found}


def outcome(parse, text, prefixes, keep_none):
    try:
        return 'ok', parse(text, prefixes, keep_none)
    except MetricsFormatError as exc:
        return 'error', exc.msg


@st.composite
def texts(draw):
    lines = []
    for dummy in range(draw(st.integers(0, 40))):
        name = draw(st.sampled_from(NAMES))
        if draw(st.integers(0, 3)) == 0:
            lines.append(draw(st.sampled_from(COMMENTS)).format(n=name, t=draw(st.sampled_from(TYPES))))
        else:
            lines.append(draw(st.sampled_from(SAMPLES)).format(n=name))
    text = '\n'.join(lines) + draw(st.sampled_from(['', '\n', '\n\n', '\r\n']))
    return draw(st.sampled_from(['', '\ufeff'])) + text


@SETTINGS
@given(texts(), st.sampled_from(PREFIXES), st.booleans())
def test_runs_read_as_lines(text, prefixes, keep_none):
    assert outcome(parse_counted, text, prefixes, keep_none) == outcome(line_by_line, text, prefixes, keep_none)


@pytest.mark.parametrize('prefixes', PREFIXES + [['kata_guest_'], ['go_', 'kata_shim_rpc'], ['process_cpu']])
@pytest.mark.parametrize('keep_none', [False, True])
def test_kata_text_read_as_lines(prefixes, keep_none):
    for text in (kata_shim_text('sb-1'), kata_shim_text('sb-2', agent=False), kata_shim_text('sb-3', cpus=8)):
        assert parse_counted(text, prefixes, keep_none) == line_by_line(text, prefixes, keep_none)
        # the same text indented and with CRLF line ends takes the other way of finding the comment lines
        odd = '\r\n'.join(' ' + line for line in text.split('\n'))
        assert outcome(parse_counted, odd, prefixes, keep_none) == outcome(line_by_line, odd, prefixes, keep_none)


def test_whole_runs_are_counted_without_reading_lines(monkeypatch):
    """A Go text whose families are all skipped is counted without reading a sample line on its own."""
    read = []
    original = _prometheus._Counting._lines
    monkeypatch.setattr(_prometheus._Counting, '_lines', lambda self, lines, number: read.append(lines) or
                        original(self, lines, number))
    text = kata_shim_text('sb-4')
    counted = parse_counted(text, keep_none=True)
    assert read == []
    assert counted == line_by_line(text, keep_none=True)


def test_comment_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(_prometheus, '_META_CACHE', {})
    monkeypatch.setattr(_prometheus, '_META_CACHE_ENTRIES', 10)
    text = ''.join('# HELP m%d help\nm%d 1\n' % (index, index) for index in range(50))
    text += '# HELP long %s\nlong 1\n' % ('x' * _prometheus._META_CACHE_LINE)
    assert parse_counted(text, keep_none=True)[1] == {'families': 51, 'samples': 51}
    assert len(_prometheus._META_CACHE) == 10
    assert all(len(line) <= _prometheus._META_CACHE_LINE for line in _prometheus._META_CACHE)
