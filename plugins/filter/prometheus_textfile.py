# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``prometheus_textfile`` filter: one node_exporter textfile from a host's kata_metrics result.

Its implementation is in plugins/plugin_utils/_prometheus_text.py.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: prometheus_textfile
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: Turn the metrics of a host's Kata sandboxes into one file for node_exporter's textfile collector
description:
  - Takes the result of M(katacontainers.kata.kata_metrics) (all the sandboxes of one host) and returns one
    Prometheus text file (format 0.0.4) for the textfile collector of the Prometheus node_exporter.
  - The families of all sandboxes are merged by name, since a family may appear only once in a file, and every
    sample gets a label with its sandbox ID (O(label)), as C(kata-monitor) does.
  - The shim's own C(go_*) and C(process_*) families are renamed C(kata_shim_go_*) and C(kata_shim_process_*), as
    C(kata-monitor) renames them, so that they cannot clash with node_exporter's own C(go_*) and C(process_*)
    families. The agent's are already named C(kata_agent_*).
  - Sample timestamps are dropped, because node_exporter skips a whole textfile that has any.
  - A gauge C(kata_metrics_scrape_success) is added, with one sample per sandbox, V(1) for a sandbox that was
    scraped and V(0) for one that is in the result's C(errors).
  - A family whose type differs from its type in an earlier sandbox (shims of different Kata versions) cannot be
    merged; that sandbox's samples of it are left out, with a warning.
  - Write the result atomically, for example to a temporary file in the same directory whose name does not end in
    C(.prom), then rename it; node_exporter reads every C(*.prom) file, hidden ones too. The
    C(katacontainers.kata.metrics) role does this.
positional: _input, label, header
options:
  _input:
    description:
      - The registered result of M(katacontainers.kata.kata_metrics), run without its C(query) option (which
        drops the metrics) and with C(detail=compact) (the default when C(families) is set) or C(detail=full), or
        its C(sandboxes) list.
      - With C(detail=compact), give the whole result, whose C(family_info) holds the type and help of the families
        that are a bare value. From the C(sandboxes) list alone, those families are written as C(untyped).
    type: raw
    required: true
  label:
    description:
      - The name of the label that carries the sandbox ID.
    type: str
    default: sandbox_id
  header:
    description:
      - Lines written at the top of the file, as comments (C(# ) is added before each).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Scrape every sandbox of the host
  katacontainers.kata.kata_metrics:
    sandbox_id: all
  become: true
  register: kata_scrape

- name: Write the textfile, staged beside it and renamed into place
  ansible.builtin.copy:
    content: "{{ kata_scrape | katacontainers.kata.prometheus_textfile(header=['Kata Containers sandboxes']) }}"
    dest: /var/lib/prometheus/node-exporter/.kata.prom.tmp
    mode: "0644"
  become: true

# kata_shim_threads{sandbox_id="4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f"} 12
# kata_shim_go_goroutines{sandbox_id="4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f"} 28
# kata_metrics_scrape_success{sandbox_id="4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f"} 1
"""

RETURN = r"""
_value:
  description:
    - The Prometheus text, each line ending with a newline. Families keep the order in which they first appear in
      the sandboxes, C(kata_metrics_scrape_success) comes last.
  type: str
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._prometheus_text import prometheus_textfile


class FilterModule(object):
    """The prometheus_textfile filter."""

    def filters(self):
        return {'prometheus_textfile': prometheus_textfile}
