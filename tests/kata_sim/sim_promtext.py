# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus text exposition (format 0.0.4) exactly as the Go shim writes it.

The shim encodes its registry with github.com/prometheus/common v0.32.1 ``expfmt`` (text format): families sorted by
name, label pairs sorted by name, metrics sorted by label values, every number written with Go's
``strconv.FormatFloat(f, 'g', -1, 64)`` (so ``73812992`` is written ``7.3812992e+07``), HELP escaping ``\\`` and
newline, label values escaping ``\\``, ``"`` and newline.
"""

from __future__ import annotations

import decimal
import math


def go_float(value):
    """Go's writeFloat of expfmt: 'g' format with the shortest representation (precision 6 for the %e switch)."""
    value = float(value)
    if value == 1:
        return '1'
    if value == 0:
        return '0'
    if value == -1:
        return '-1'
    if math.isnan(value):
        return 'NaN'
    if math.isinf(value):
        return '+Inf' if value > 0 else '-Inf'
    sign = '-' if value < 0 else ''
    # repr() gives the shortest digits that round-trip, which is what Go's shortest formatting picks too.
    parts = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    digits = ''.join(str(d) for d in parts.digits)
    dp = len(digits) + parts.exponent  # decimal point position relative to the first digit
    exp10 = dp - 1
    if exp10 < -4 or exp10 >= 6:
        out = digits[0]
        if len(digits) > 1:
            out += '.' + digits[1:]
        return '%s%se%s%02d' % (sign, out, '-' if exp10 < 0 else '+', abs(exp10))
    if dp <= 0:
        return sign + '0.' + '0' * (-dp) + digits
    if dp >= len(digits):
        return sign + digits + '0' * (dp - len(digits))
    return sign + digits[:dp] + '.' + digits[dp:]


def escape_help(text):
    return text.replace('\\', '\\\\').replace('\n', '\\n')


def escape_label_value(text):
    return text.replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


class Family:
    """One metric family: ``kind`` is gauge, counter, untyped, histogram or summary.

    ``metrics`` holds dicts: ``{'labels': {...}, 'value': v}`` for scalar kinds,
    ``{'labels', 'buckets': [(upper_bound, cumulative_count)], 'sum', 'count'}`` for histograms and
    ``{'labels', 'quantiles': [(q, v)], 'sum', 'count'}`` for summaries.
    """

    def __init__(self, name, kind, help_text, metrics=None):
        self.name = name
        self.kind = kind
        self.help = help_text
        self.metrics = list(metrics or [])

    def add(self, value, **labels):
        self.metrics.append({'labels': labels, 'value': value})
        return self

    def add_histogram(self, observations, bounds, labels=None):
        buckets = []
        for bound in bounds:
            buckets.append((bound, sum(1 for o in observations if o <= bound)))
        self.metrics.append({'labels': labels or {}, 'buckets': buckets, 'sum': float(sum(observations)),
                             'count': len(observations)})
        return self

    def renamed(self, name):
        return Family(name, self.kind, self.help, self.metrics)

    def sort(self):
        """Go's registry order: metrics by their label values, label names sorted."""
        self.metrics.sort(key=lambda m: [m['labels'][k] for k in sorted(m['labels'])])
        return self


def _labels(labels, extra_name=None, extra_value=None):
    pairs = ['%s="%s"' % (k, escape_label_value(str(labels[k]))) for k in sorted(labels)]
    if extra_name is not None:
        pairs.append('%s="%s"' % (extra_name, go_float(extra_value)))
    return '{' + ','.join(pairs) + '}' if pairs else ''


def encode_family(family):
    """One family in Go's text format (``MetricFamilyToText``)."""
    lines = ['# HELP %s %s' % (family.name, escape_help(family.help)), '# TYPE %s %s' % (family.name, family.kind)]
    for metric in family.metrics:
        labels = metric['labels']
        if family.kind == 'histogram':
            for bound, count in metric['buckets']:
                lines.append('%s_bucket%s %s' % (family.name, _labels(labels, 'le', bound), go_float(count)))
            lines.append('%s_bucket%s %s' % (family.name, _labels(labels, 'le', float('inf')), go_float(metric['count'])))
            lines.append('%s_sum%s %s' % (family.name, _labels(labels), go_float(metric['sum'])))
            lines.append('%s_count%s %s' % (family.name, _labels(labels), go_float(metric['count'])))
        elif family.kind == 'summary':
            for quantile, value in metric['quantiles']:
                lines.append('%s%s %s' % (family.name, _labels(labels, 'quantile', quantile), go_float(value)))
            lines.append('%s_sum%s %s' % (family.name, _labels(labels), go_float(metric['sum'])))
            lines.append('%s_count%s %s' % (family.name, _labels(labels), go_float(metric['count'])))
        else:
            lines.append('%s%s %s' % (family.name, _labels(labels), go_float(metric['value'])))
    return ('\n'.join(lines) + '\n').encode('utf-8')


def encoder_writes(families, piece=4096):
    """The Write calls the shim's handler makes: expfmt wraps the response in a 4 KiB bufio.Writer per family."""
    writes = []
    for family in families:
        if not family.metrics:
            continue  # Go's Gather drops families without metrics
        text = encode_family(family)
        for start in range(0, len(text), piece):
            writes.append(text[start:start + piece])
    return writes
