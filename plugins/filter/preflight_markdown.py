# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``preflight_markdown`` filter: the fleet readiness report as Markdown.

It renders the template roles/preflight/templates/preflight.md.j2 (plugins/plugin_utils/_preflight_render.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_markdown
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: The Kata Containers fleet readiness report as Markdown
description:
  - Renders a report of P(katacontainers.kata.preflight_report#filter) as Markdown, for a ticket or a merge request, with
    the summary counts, one table row per host (verdict, failed checks, kernel, CPU, hypervisor, Kata version), one
    table row per runtime handler of each host (runtime, hypervisor, configuration file, verdict, failed checks), and
    the reasons of every host that is not capable.
  - The text is the template C(templates/preflight.md.j2) of the P(katacontainers.kata.preflight#role) role, the same
    the role's report file is made of.
options:
  _input:
    description: The report.
    type: dict
    required: true
"""

EXAMPLES = r"""
markdown: "{{ report | katacontainers.kata.preflight_markdown }}"
"""

RETURN = r"""
_value:
  description: The Markdown text.
  type: str
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight_render import preflight_markdown


class FilterModule(object):
    """The preflight_markdown filter."""

    def filters(self):
        return {'preflight_markdown': preflight_markdown}
