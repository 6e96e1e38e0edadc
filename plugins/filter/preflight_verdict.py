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
  - Combines the registered results of M(katacontainers.kata.kata_runtime_info),
    M(katacontainers.kata.kata_check) (one result, or the results of a loop over the runtime handlers) and
    M(katacontainers.kata.kata_env) for one host, and the host's policy, into the verdict the
    P(katacontainers.kata.preflight#role) stores as the C(kata_preflight_verdict) fact and puts in its fleet report.
  - Each runtime handler of O(runtimes) gets its own verdict in RV(_value.runtimes) (a host without handlers gets one,
    for the configuration kata_check used). A handler whose configuration file does not exist fails the check
    V(handler_config) without a kata_check result.
  - The status is V(capable), V(not_capable), V(unreachable) (a result says so) or V(failed) (a task failed, was
    skipped, or its result is missing).
  - A host is V(capable) when every runtime handler is, that is no required kata check failed, the KVM
    VM-creation test did not fail and the hypervisor policy is met for each, and the kernel and Kata version policies
    are met. Checks named in O(policy.waived_checks) do not count; kata's own verdict is kept as RV(_value.kata_capable).
positional: _input, env
options:
  _input:
    description:
      - The registered result of M(katacontainers.kata.kata_check) (with
        O(katacontainers.kata.kata_check#module:fail_on_incapable=false)), either one call with
        O(katacontainers.kata.kata_check#module:runtimes) (every handler in its RV(katacontainers.kata.kata_check#module:runtimes),
        which then also stands for O(runtimes)), one call for one configuration, or a loop of it whose items are the
        runtime handler names (O(katacontainers.kata.kata_check#module:runtime)).
      - A kata_check call that failed as a whole (not one item of a loop) fails the host, without handler verdicts.
    type: dict
    required: true
  env:
    description:
      - The registered result of M(katacontainers.kata.kata_env), or of M(katacontainers.kata.kata_check) with
        O(katacontainers.kata.kata_check#module:gather_env) (the same result as the input then).
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
  runtimes:
    description:
      - The registered result of M(katacontainers.kata.kata_runtime_info), for a loop of kata_check over the handlers.
        Not needed with a kata_check result with RV(katacontainers.kata.kata_check#module:runtimes), which names its
        handlers. Without either (or when that task was skipped) the host has no runtime handlers, and its one
        kata_check result is its one verdict.
    type: dict
    version_added: 0.2.0
  selection:
    description:
      - The runtime handlers selected (the role's C(kata_preflight_runtimes)), V(all) or a list of names; anything
        else fails the host with a message naming the variable.
    type: raw
    default: all
    version_added: 0.2.0
  config:
    description:
      - The configuration file set instead of the handlers (the role's C(kata_preflight_config)); with a list in
        O(selection), the host fails (they are mutually exclusive).
    type: str
    version_added: 0.2.0
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
    runtimes:
      description:
        - One verdict per runtime handler, in the engine's order, with C(handler) (V(null) for a host without
          handlers), C(engine), C(runtime) (V(go) or V(rust)), C(hypervisor), C(config), C(config_source), C(status)
          (V(capable), V(not_capable) or V(failed)), C(capable), C(kata_capable), C(can_create_vm), C(failed_checks),
          C(reasons) and C(error).
      type: list
      elements: dict
      version_added: 0.2.0
    facts:
      description: The facts that matter (kernel, CPU, hypervisor, Kata version...).
      type: dict
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._preflight import preflight_verdict


class FilterModule(object):
    """The preflight_verdict filter."""

    def filters(self):
        return {'preflight_verdict': preflight_verdict}
