# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Prometheus text filters (controller side), built on the collection's parser and renderer (module_utils/_prometheus):
the implementation of plugins/filter/prometheus_parse.py and prometheus_textfile.py (each file holds one filter and its
documentation).

- ``prometheus_parse``: Prometheus text (format 0.0.4) to the families kata_metrics returns.
- ``prometheus_textfile``: a kata_metrics result (all the sandboxes of one host) to one file for node_exporter's
  textfile collector, merged and relabelled the way kata-monitor merges sandboxes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
    FAMILY_TYPES,
    LABEL_NAME_PATTERN,
    METRIC_NAME_PATTERN,
    MetricsFormatError,
    expand,
    parse_text,
    render_text,
    select_families,
)

# kata-monitor renames the shim's own Go client families so that they cannot clash with the families of the process
# that exports them (node_exporter has go_* and process_* of its own). The agent's are already kata_agent_* .
SHIM_RENAMES = (('go_', 'kata_shim_go_'), ('process_', 'kata_shim_process_'))

SCRAPE_SUCCESS = 'kata_metrics_scrape_success'
SCRAPE_SUCCESS_HELP = ('Whether the shim metrics of the sandbox were scraped (1) or not (0) by the '
                       'katacontainers.kata metrics role.')

SPECIAL_VALUES = ('NaN', '+Inf', '-Inf')

_METRIC_NAME_RE = re.compile(METRIC_NAME_PATTERN)
_LABEL_NAME_RE = re.compile(LABEL_NAME_PATTERN)

_display = Display()


def _rename(name):
    for prefix, replacement in SHIM_RENAMES:
        if name.startswith(prefix):
            return replacement + name[len(prefix):]
    return name


def _check_value(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise AnsibleFilterError('%s: the value must be a number, got %s' % (where, type(value).__name__))
    if isinstance(value, str) and value not in SPECIAL_VALUES:
        raise AnsibleFilterError('%s: a string value must be one of %s, got %r' % (where, ', '.join(SPECIAL_VALUES), value))
    return value


def _check_labels(labels, where):
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise AnsibleFilterError('%s: labels must be a dictionary, got %s' % (where, type(labels).__name__))
    for key, value in labels.items():
        if not isinstance(key, str) or _LABEL_NAME_RE.match(key) is None or key == '__name__':
            raise AnsibleFilterError('%s: invalid label name %r' % (where, key))
        if not isinstance(value, str):
            raise AnsibleFilterError('%s: the value of label %r must be a string, got %s' % (where, key, type(value).__name__))
    return labels


def _sandboxes_and_errors(data):
    """The sandbox entries and the errors (ID -> reason) of a kata_metrics result, or of a list of sandbox entries."""
    if isinstance(data, Mapping):
        if data.get('failed'):
            raise AnsibleFilterError('prometheus_textfile: the kata_metrics task failed: %s' % (data.get('msg') or 'no message'))
        if 'sandboxes' not in data:
            raise AnsibleFilterError('prometheus_textfile: the input has no "sandboxes" key; give the registered result '
                                     'of katacontainers.kata.kata_metrics, or its "sandboxes" list')
        sandboxes = data.get('sandboxes') or []
        errors = data.get('errors') or {}
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        sandboxes = data
        errors = {}
    else:
        raise AnsibleFilterError('prometheus_textfile: expected the registered result of katacontainers.kata.kata_metrics '
                                 '(a dictionary) or its "sandboxes" list, got %s' % type(data).__name__)
    if not isinstance(sandboxes, Sequence) or isinstance(sandboxes, (str, bytes)):
        raise AnsibleFilterError('prometheus_textfile: "sandboxes" must be a list, got %s' % type(sandboxes).__name__)
    if not isinstance(errors, Mapping):
        raise AnsibleFilterError('prometheus_textfile: "errors" must be a dictionary, got %s' % type(errors).__name__)
    return sandboxes, errors


def _header_lines(header):
    if header is None:
        return []
    lines = [header] if isinstance(header, str) else header
    if not isinstance(lines, Sequence) or isinstance(lines, bytes):
        raise AnsibleFilterError('prometheus_textfile: header must be a string or a list of strings, got %s'
                                 % type(header).__name__)
    out = []
    for line in lines:
        if not isinstance(line, str):
            raise AnsibleFilterError('prometheus_textfile: header lines must be strings, got %s' % type(line).__name__)
        if '\n' in line or '\r' in line:
            raise AnsibleFilterError('prometheus_textfile: a header line must not contain a line break: %r' % line)
        out.append('# %s\n' % line if line else '#\n')
    return out


def prometheus_textfile(data, label='sandbox_id', header=None):
    """One host's sandboxes as one Prometheus text file for node_exporter's textfile collector.

    ``data`` is the registered result of kata_metrics (or its ``sandboxes`` list). The families of all sandboxes are
    merged by name (each family once in the file, as the text format requires), every sample gets the label
    ``label`` with its sandbox ID, the shim's ``go_*``/``process_*`` families become ``kata_shim_go_*`` and
    ``kata_shim_process_*`` (as kata-monitor renames them), timestamps are dropped (node_exporter refuses a file
    that has any), and a gauge ``kata_metrics_scrape_success`` says, per sandbox, whether it was scraped (1) or is in
    the result's ``errors`` (0). ``header`` lines come first, as comments.

    A family whose type differs from the type it had in an earlier sandbox cannot be merged: that sandbox's samples of
    it are left out, with a warning.
    """
    if not isinstance(label, str) or _LABEL_NAME_RE.match(label) is None or label == '__name__':
        raise AnsibleFilterError('prometheus_textfile: label must be a valid Prometheus label name, got %r' % (label,))
    sandboxes, errors = _sandboxes_and_errors(data)
    info = data.get('family_info') if isinstance(data, Mapping) else None
    lines = _header_lines(header)

    merged = {}
    conflicts = {}
    scraped = []
    seen = set()
    for index, sandbox in enumerate(sandboxes):
        if not isinstance(sandbox, Mapping) or not isinstance(sandbox.get('id'), str) or not sandbox.get('id'):
            raise AnsibleFilterError('prometheus_textfile: sandboxes[%d] must be a dictionary with a sandbox "id"' % index)
        sandbox_id = sandbox['id']
        if sandbox_id in seen:
            raise AnsibleFilterError('prometheus_textfile: sandbox %s is listed twice' % sandbox_id)
        seen.add(sandbox_id)
        families = sandbox.get('families')
        if families is None and sandbox.get('metrics') is not None:
            try:
                families = expand(sandbox['metrics'], info)
            except ValueError as exc:
                raise AnsibleFilterError('prometheus_textfile: the metrics of sandbox %s: %s' % (sandbox_id, exc)) from None
        if families is None:
            raise AnsibleFilterError('prometheus_textfile: sandbox %s has no "metrics" nor "families" (kata_metrics '
                                     'returns them with detail=compact or full, or with families set, and without '
                                     'query)' % sandbox_id)
        if not isinstance(families, Sequence) or isinstance(families, (str, bytes)):
            raise AnsibleFilterError('prometheus_textfile: the families of sandbox %s must be a list' % sandbox_id)
        scraped.append(sandbox_id)
        for family in families:
            _merge_family(merged, conflicts, sandbox_id, family, label)

    failed = sorted(str(key) for key in errors if key not in seen)
    success = {'name': SCRAPE_SUCCESS, 'type': 'gauge', 'help': SCRAPE_SUCCESS_HELP, 'samples': []}
    for sandbox_id, value in sorted([(s, 1.0) for s in scraped] + [(s, 0.0) for s in failed]):
        success['samples'].append({'name': SCRAPE_SUCCESS, 'labels': {label: sandbox_id}, 'value': value, 'timestamp': None})
    _merge_family(merged, conflicts, None, success, label, relabel=False)

    for name, (kind, sandbox_ids) in sorted(conflicts.items()):
        _display.warning('prometheus_textfile: family %s is a %s in an earlier sandbox; its samples from sandbox(es) %s '
                         'have another type and were left out' % (name, kind, ', '.join(sorted(sandbox_ids))))
    return ''.join(lines) + render_text([family for family in merged.values() if family['samples']])


def _merge_family(merged, conflicts, sandbox_id, family, label, relabel=True):
    where = 'prometheus_textfile: sandbox %s' % sandbox_id
    if not isinstance(family, Mapping) or not isinstance(family.get('name'), str):
        raise AnsibleFilterError('%s: a family must be a dictionary with a "name"' % where)
    name = _rename(family['name']) if relabel else family['name']
    if _METRIC_NAME_RE.match(name) is None:
        raise AnsibleFilterError('%s: invalid metric family name %r' % (where, family['name']))
    kind = family.get('type') or 'untyped'
    if kind not in FAMILY_TYPES:
        raise AnsibleFilterError('%s: family %s has an unknown type %r' % (where, family['name'], kind))
    samples = family.get('samples') or []
    if not isinstance(samples, Sequence) or isinstance(samples, (str, bytes)):
        raise AnsibleFilterError('%s: the samples of family %s must be a list' % (where, family['name']))
    target = merged.get(name)
    if target is None:
        target = merged[name] = {'name': name, 'type': kind, 'help': '', 'samples': []}
    elif target['type'] != kind:
        conflicts.setdefault(name, (target['type'], set()))[1].add(sandbox_id)
        return
    if not target['help'] and isinstance(family.get('help'), str):
        target['help'] = family['help']
    for sample in samples:
        if not isinstance(sample, Mapping) or not isinstance(sample.get('name'), str):
            raise AnsibleFilterError('%s: a sample of family %s must be a dictionary with a "name"' % (where, family['name']))
        sample_name = _rename(sample['name']) if relabel else sample['name']
        sample_where = '%s, sample %s' % (where, sample['name'])
        if _METRIC_NAME_RE.match(sample_name) is None:
            raise AnsibleFilterError('%s: invalid sample name' % sample_where)
        labels = _check_labels(sample.get('labels'), sample_where)
        if relabel:
            labels = dict([(label, sandbox_id)] + [(key, value) for key, value in labels.items() if key != label])
        target['samples'].append({'name': sample_name, 'labels': labels,
                                  'value': _check_value(sample.get('value'), sample_where), 'timestamp': None})


def prometheus_parse(text, families=None):
    """Parse Prometheus text (format 0.0.4) into families, as kata_metrics returns them; ``families``: prefixes to keep."""
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'strict')
    if not isinstance(text, str):
        raise AnsibleFilterError('prometheus_parse: expected the metrics text (a string), got %s' % type(text).__name__)
    if families is not None:
        if isinstance(families, str):
            families = [families]
        if not isinstance(families, Sequence) or not all(isinstance(prefix, str) for prefix in families):
            raise AnsibleFilterError('prometheus_parse: families must be a list of name prefixes')
    try:
        parsed = parse_text(text)
    except MetricsFormatError as exc:
        raise AnsibleFilterError('prometheus_parse: %s' % exc.msg) from None
    return select_families(parsed, list(families or []))
