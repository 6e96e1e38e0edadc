# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``prometheus_parse`` filter: Prometheus text to the metric families kata_metrics returns.

Its implementation is in plugins/plugin_utils/_prometheus_text.py.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: prometheus_parse
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: Parse Prometheus text into metric families
description:
  - Parses Prometheus text exposition format 0.0.4, the format of a Kata shim's C(/metrics) and of node_exporter
    textfiles, with the parser M(katacontainers.kata.kata_metrics) uses, and returns the families in the same shape
    as that module's RV(katacontainers.kata.kata_metrics#module:sandboxes[].families).
  - Text that is not valid fails the task, with the line number and the line.
positional: _input, families
options:
  _input:
    description: The Prometheus text.
    type: str
    required: true
  families:
    description:
      - Keep only the families whose name starts with one of these prefixes. By default all are kept.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Read the textfile the metrics role wrote
  ansible.builtin.slurp:
    src: /var/lib/prometheus/node-exporter/kata.prom
  register: kata_textfile

- name: Count the sandboxes that were scraped
  ansible.builtin.debug:
    msg: >-
      {{ (kata_textfile.content | b64decode | katacontainers.kata.prometheus_parse(['kata_metrics_scrape_success']))[0].samples
         | selectattr('value', 'eq', 1.0) | list | length }}
"""

RETURN = r"""
_value:
  description:
    - The families, in the order of the text. Each is a dictionary with C(name), C(type) (V(counter), V(gauge),
      V(histogram), V(summary) or V(untyped)), C(help) and C(samples), a list of dictionaries with C(name),
      C(labels), C(value) (a float, or V(NaN), V(+Inf) or V(-Inf) as a string) and C(timestamp) (milliseconds, or
      V(null)).
    - A family with no sample is not listed.
  type: list
  elements: dict
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._prometheus_text import prometheus_parse


class FilterModule(object):
    """The prometheus_parse filter."""

    def filters(self):
        return {'prometheus_parse': prometheus_parse}
