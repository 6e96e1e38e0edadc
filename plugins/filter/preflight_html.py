# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``preflight_html`` filter: the fleet readiness report as a self-contained HTML page.

It renders the template roles/preflight/templates/preflight.html.j2 (plugins/plugin_utils/_preflight_render.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_html
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: The Kata Containers fleet readiness report as a self-contained HTML page
description:
  - Renders a report of P(katacontainers.kata.preflight_report#filter) as one HTML page with inline CSS, no script and
    no network asset (its Content-Security-Policy forbids them), with the summary counts, a host-by-check matrix with failures
    highlighted, a host-by-runtime-handler table (runtime, hypervisor, configuration file, verdict and failed checks of
    each handler), and per-host details (reasons, kernel, CPU, hypervisor, Kata version, every check).
  - The page is the template C(templates/preflight.html.j2) of the P(katacontainers.kata.preflight#role) role, the
    same the role's report file is made of, rendered with autoescaping, so every text is HTML-escaped.
  - Elements carry C(data-status), C(data-host), C(data-check), C(data-state) and (in the handler table)
    C(data-handler) attributes for tools that read the page.
options:
  _input:
    description: The report.
    type: dict
    required: true
"""

EXAMPLES = r"""
html: "{{ report | katacontainers.kata.preflight_html }}"
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight_render import preflight_html


class FilterModule(object):
    """The preflight_html filter."""

    def filters(self):
        return {'preflight_html': preflight_html}
