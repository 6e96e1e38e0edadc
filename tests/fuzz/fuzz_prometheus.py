# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the Prometheus text format parser (_prometheus.parse_text): any bytes parse or raise MetricsFormatError, and
what parses renders to text that parses back to the same families."""

from __future__ import annotations

import math

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
        MetricsFormatError,
        parse_text,
        render_text,
    )

SEEDS = [
    b'# HELP kata_agent_scrape_count Metrics scrape count\n# TYPE kata_agent_scrape_count counter\n'
    b'kata_agent_scrape_count 3\n# HELP go_gc_duration_seconds A summary.\n# TYPE go_gc_duration_seconds summary\n'
    b'go_gc_duration_seconds{quantile="0.5"} 1.2e-05\ngo_gc_duration_seconds_sum 0.1\ngo_gc_duration_seconds_count 7\n',
    b'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n',
    b'esc{a="\\\"\n"} NaN 1700000000000\n# HELP esc a \\ b \n c\n',
]


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(a) == sorted(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_one_input(data):
    try:
        families = parse_text(data)
    except MetricsFormatError:
        return
    again = parse_text(render_text(families))
    if not _same(families, again):
        raise AssertionError('render then parse changed the families')


fuzzlib.main(test_one_input, SEEDS)
