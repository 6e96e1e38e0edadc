# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``preflight_verdict`` filter: one host's readiness verdict, for the preflight role's fleet report.

Its implementation is in plugins/plugin_utils/_preflight.py.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: preflight_verdict
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: One host's Kata Containers readiness verdict, with its reasons
description:
  - Combines the registered results of M(katacontainers.kata.kata_check) and M(katacontainers.kata.kata_env) for
    one host, and the host's policy, into the verdict the P(katacontainers.kata.preflight#role)
    stores as the C(kata_preflight_verdict) fact and puts in its fleet report.
  - The status is V(capable), V(not_capable), V(unreachable) (a result says so) or V(failed) (a task failed, was
    skipped, or its result is missing).
  - A host is V(capable) when no required kata check failed, the KVM VM-creation test did not fail, and every policy
    is met. Checks named in O(policy.waived_checks) do not count; kata's own verdict is kept as RV(_value.kata_capable).
positional: _input, env
options:
  _input:
    description: The registered result of M(katacontainers.kata.kata_check) (with O(katacontainers.kata.kata_check#module:fail_on_incapable=false)).
    type: dict
    required: true
  env:
    description: The registered result of M(katacontainers.kata.kata_env).
    type: dict
  policy:
    description: The policy the host must meet. Every key is optional.
    type: dict
    suboptions:
      required_hypervisor:
        description: The hypervisor the host's Kata configuration must select.
        type: str
      min_kernel:
        description: The oldest host kernel release accepted, for example V(5.10).
        type: str
      min_kata_version:
        description: The oldest installed Kata Containers version accepted, for example V(3.2).
        type: str
      require_vm_creation:
        description: The KVM VM-creation test must have run and passed.
        type: bool
        default: false
      require_vhost_vsock:
        description: The C(vhost_vsock) module, optional for kata, is required.
        type: bool
        default: false
      waived_checks:
        description: Checks whose failure does not count (kata check names, or V(vm_creation)).
        type: list
        elements: str
        default: []
  host:
    description: The inventory name of the host.
    type: str
"""

EXAMPLES = r"""
kata_preflight_verdict: >-
  {{ check_result | katacontainers.kata.preflight_verdict(env_result, policy={'min_kernel': '5.10'},
                                                          host=inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: The verdict, as one host entry of the report (see the preflight role's README for every key).
  type: dict
  contains:
    host:
      description: The inventory name.
      type: str
    status:
      description: V(capable), V(not_capable), V(unreachable) or V(failed).
      type: str
    reachable:
      description: Whether the host answered; V(null) when unknown.
      type: bool
    capable:
      description: The verdict with the policy; V(null) for an unreachable or failed host.
      type: bool
    kata_capable:
      description: kata's own capability verdict (C(kata-runtime check)), without the KVM test and the policy.
      type: bool
    can_create_vm:
      description: The KVM test's result, V(null) when it did not run.
      type: bool
    failed_checks:
      description: The ids of the checks that count against the host.
      type: list
      elements: str
    reasons:
      description: Why the host is not capable, one sentence per failed check or policy.
      type: list
      elements: str
    checks:
      description: Every check with its C(state) (V(ok), V(fail), V(warn), V(waived), V(untested)).
      type: list
      elements: dict
    facts:
      description: The facts that matter (kernel, CPU, hypervisor, Kata version...).
      type: dict
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import preflight_verdict


class FilterModule(object):
    """The preflight_verdict filter."""

    def filters(self):
        return {'preflight_verdict': preflight_verdict}
