# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_metrics' detail shapes (compact, summary), the families skip, and concurrent scrapes against sequential ones."""

from __future__ import annotations

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _prometheus
from ansible_collections.katacontainers.kata.plugins.module_utils._metrics import collect_metrics
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
    MetricsFormatError,
    compact,
    expand,
    parse_counted,
    parse_text,
    select_families,
)
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.metrics_testlib import SandboxTree, kata_shim_text

MIXED = ('# HELP up Up.\n# TYPE up gauge\nup 1\n'
         '# TYPE h histogram\nh_bucket{a="x",le="1"} 2\nh_bucket{a="x",le="+Inf"} 3\nh_sum{a="x"} 4.5\nh_count{a="x"} 3\n'
         '# TYPE t gauge\nt{k="v"} NaN 1700000000000\nt{k="w",j="z"} +Inf\n')


@pytest.fixture
def tree():
    with SandboxTree() as sandboxes:
        yield sandboxes


def test_compact_shape():
    metrics, info = compact(parse_text(MIXED))
    assert metrics == {
        'up': 1.0,
        'h': {'type': 'histogram', 'labels': ['__name__', 'a', 'le'],
              'samples': [['h_bucket', 'x', '1', 2.0], ['h_bucket', 'x', '+Inf', 3.0], ['h_sum', 'x', None, 4.5],
                          ['h_count', 'x', None, 3.0]]},
        't': {'type': 'gauge', 'labels': ['k', 'j'], 'samples': [['v', None, 'NaN'], ['w', 'z', '+Inf']],
              'timestamps': [1700000000000, None]},
    }
    assert info == {'up': {'type': 'gauge', 'help': 'Up.'}, 'h': {'type': 'histogram', 'help': ''},
                    't': {'type': 'gauge', 'help': ''}}


@pytest.mark.parametrize('text', [MIXED, kata_shim_text('sb-x'), 'a 1\na 2\n'])
def test_compact_expands_back(text):
    families = parse_text(text)
    assert expand(*compact(families)) == families


def test_skipped_family_is_never_parsed(monkeypatch):
    bad = '# TYPE bad gauge\nbad{x="unterminated} twelve\nbad_other "\n' + MIXED
    with pytest.raises(MetricsFormatError):
        parse_text(bad)
    seen = []
    original = _prometheus.parse_float
    monkeypatch.setattr(_prometheus, 'parse_float', lambda token: seen.append(token) or original(token))
    families, counts = parse_counted(bad, ['up', 'h'])
    assert [f['name'] for f in families] == ['up', 'h']
    # only the kept families' values (and the histogram's le bounds) were read: nothing of bad or t
    assert seen == ['1', '2', '1', '3', '+Inf', '4.5', '3']
    assert counts == {'families': 5, 'samples': 9}  # bad 1, bad_other 1, up 1, h 4, t 2


@pytest.mark.parametrize('prefixes', [['kata_guest_'], ['go_', 'kata_shim_rpc'], ['process_cpu'], ['nothing'], []])
def test_skip_keeps_what_select_families_keeps(prefixes):
    text = kata_shim_text('sb-y')
    assert parse_text(text, prefixes) == select_families(parse_text(text), prefixes)


def test_summary_counts_without_parsing():
    families, counts = parse_counted('# TYPE a gauge\na one\nb 1\n', keep_none=True)
    assert families == [] and counts == {'families': 2, 'samples': 2}
    full = parse_text(kata_shim_text('sb-z'))
    assert parse_counted(kata_shim_text('sb-z'), keep_none=True)[1] == {
        'families': len(full), 'samples': sum(len(f['samples']) for f in full)}


def _params(tree, **kw):
    base = dict(sandbox_root=tree.sandbox_root, rs_sandbox_root=tree.rs_sandbox_root, sandbox_id='all')
    base.update(kw)
    return base


def test_auto_detail(tree):
    tree.add('s1')
    summary = collect_metrics(_params(tree))
    assert sorted(summary['sandboxes'][0]) == ['family_count', 'id', 'runtime', 'sample_count', 'socket']
    assert 'family_info' not in summary
    picked = collect_metrics(_params(tree, families=['kata_shim_threads']))
    assert list(picked['sandboxes'][0]['metrics']) == ['kata_shim_threads']
    assert picked['family_info']['kata_shim_threads']['type'] == 'gauge'
    queried = collect_metrics(_params(tree, query='family_info.kata_shim_threads.type'))
    assert queried['query_result'] == 'gauge' and 'family_info' not in queried


@pytest.mark.parametrize('detail', ['compact', 'full', 'summary'])
def test_concurrent_equals_sequential(tree, detail):
    for n in range(12):
        tree.add('ok-%02d' % n)
    tree.add('bad', 'garbage')
    tree.add('err', 'status')
    tree.add('gone', serve=False)
    sequential = collect_metrics(_params(tree, detail=detail, concurrency=1))
    concurrent = collect_metrics(_params(tree, detail=detail, concurrency=8))
    assert concurrent == sequential
    assert sorted(concurrent['errors']) == (['bad', 'err', 'gone'] if detail != 'summary' else ['err', 'gone'])
    assert concurrent['scraped'] == 12 + (detail == 'summary')
