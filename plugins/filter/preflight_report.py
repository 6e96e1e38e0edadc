# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``preflight_report`` filter: the preflight role's fleet readiness report.

Its implementation is in plugins/plugin_utils/_preflight.py.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_report
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: The Kata Containers fleet readiness report
description:
  - Builds the fleet report of the P(katacontainers.kata.preflight#role) from the
    verdict each host stored (see P(katacontainers.kata.preflight_verdict#filter)).
  - A host without a verdict that is no longer in O(active_hosts) left the play before the checks (it failed or was
    unreachable earlier) and is reported as V(failed). A host without a verdict that is still active has not been
    checked yet (a later C(serial) batch), so it is V(pending) and RV(_value.complete) is V(false).
positional: _input, hostvars
options:
  _input:
    description: The hosts of the report, in order (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars).
    type: dict
    required: true
  active_hosts:
    description: The hosts still in the play (C(ansible_play_hosts)).
    type: list
    elements: str
  verdict_var:
    description: The host variable holding each verdict.
    type: str
    default: kata_preflight_verdict
  generated_at:
    description: A time stamp to put in the report. None by default, so that the same fleet gives the same report.
    type: str
"""

EXAMPLES = r"""
report: "{{ ansible_play_hosts_all | katacontainers.kata.preflight_report(hostvars, ansible_play_hosts) }}"
"""

RETURN = r"""
_value:
  description: The report (format 1).
  type: dict
  contains:
    format:
      description: The report format version, V(1).
      type: int
    generator:
      description: V(katacontainers.kata.preflight).
      type: str
    complete:
      description: Whether every host has a verdict.
      type: bool
    summary:
      description:
        - Counts of hosts by status (C(total), C(capable), C(not_capable), C(unreachable), C(failed), C(pending)), and
          in C(runtimes) of the runtime handler verdicts (C(total), C(capable), C(not_capable), C(failed)).
      type: dict
    columns:
      description: The checks of the host-by-check matrix, in display order (C(id), C(label), C(description), C(type)).
      type: list
      elements: dict
    hosts:
      description: One verdict per host (see P(katacontainers.kata.preflight_verdict#filter)), in the order of the input.
      type: list
      elements: dict
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import preflight_report


class FilterModule(object):
    """The preflight_report filter."""

    def filters(self):
        return {'preflight_report': preflight_report}
