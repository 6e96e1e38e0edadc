# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: metrics_summary
version_added: 0.1.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: Summarize the Kata sandbox metrics scraped on a fleet of hosts
description:
  - Takes the registered results of M(katacontainers.kata.kata_metrics) of several hosts, keyed by host name, and
    returns how many sandboxes each host scraped and how many it could not, with the reasons, and the fleet totals.
  - A host without a result, or whose task failed or was unreachable, is listed too, with the reason when the result
    has one. The C(katacontainers.kata.metrics) role writes this summary as JSON on the controller.
  - The summary holds no timestamp, so that it only changes when the fleet does.
positional: _input, textfiles
options:
  _input:
    description:
      - A dictionary of host name to that host's registered C(kata_metrics) result (run with O(_input) V(all) or a
        list of sandboxes), or V(null) for a host that has none.
    type: dict
    required: true
  textfiles:
    description:
      - A dictionary of host name to the path of the textfile written on that host, copied into the host's entry.
    type: dict
"""

EXAMPLES = r"""
- name: Scrape every sandbox of every host
  katacontainers.kata.kata_metrics:
    sandbox_id: all
  become: true
  register: kata_scrape

- name: Summarize the fleet
  ansible.builtin.debug:
    msg: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars)
                                             | map(attribute='kata_scrape', default=none)))
         | katacontainers.kata.metrics_summary }}
  run_once: true
  # {"format": 1, "hosts": [{"host": "node1", "status": "ok", "scraped": 12, "failed": 1, "errors": {...}, ...}],
  #  "totals": {"hosts": 1, "hosts_ok": 1, "hosts_failed": 0, "sandboxes": 13, "scraped": 12, "failed": 1}}
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    format:
      description: The version of this format, V(1).
      type: int
    hosts:
      description: One entry per host, sorted by host name.
      type: list
      elements: dict
      contains:
        host:
          description: The host name.
          type: str
        status:
          description:
            - V(ok) when the host's sandboxes were scraped (some may still have failed, see RV(_value.hosts[].failed)),
              V(failed) when the task failed, V(unreachable) when the host could not be reached, V(no_result) when
              there is no result (the host failed before, was skipped, or was not reached yet).
          type: str
        scraped:
          description: The number of sandboxes scraped; V(null) unless RV(_value.hosts[].status=ok).
          type: int
        failed:
          description: The number of sandboxes that could not be scraped; V(null) unless RV(_value.hosts[].status=ok).
          type: int
        errors:
          description: The reason of each sandbox that could not be scraped, keyed by sandbox ID.
          type: dict
        msg:
          description: Why the host has no counts, when its result says; V(null) otherwise.
          type: str
        textfile:
          description: The textfile written on the host, from O(textfiles); V(null) when not given.
          type: str
    totals:
      description: The fleet totals.
      type: dict
      contains:
        hosts:
          description: The number of hosts.
          type: int
        hosts_ok:
          description: The hosts whose sandboxes were scraped.
          type: int
        hosts_failed:
          description: The other hosts (failed, unreachable or without a result).
          type: int
        sandboxes:
          description: The sandboxes found on the hosts that were scraped.
          type: int
        scraped:
          description: The sandboxes scraped.
          type: int
        failed:
          description: The sandboxes that could not be scraped.
          type: int
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

SUMMARY_FORMAT = 1


def _count(value, host, key):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AnsibleFilterError('metrics_summary: the result of host %s has an invalid "%s": %r' % (host, key, value))
    return value


def _host_entry(host, result, textfile):
    entry = {'host': host, 'status': 'no_result', 'scraped': None, 'failed': None, 'errors': {}, 'msg': None,
             'textfile': textfile}
    if result is None:
        return entry
    if not isinstance(result, Mapping):
        raise AnsibleFilterError('metrics_summary: the result of host %s must be a dictionary (a registered kata_metrics '
                                 'result) or null, got %s' % (host, type(result).__name__))
    msg = result.get('msg')
    entry['msg'] = str(msg) if msg else None
    if result.get('unreachable'):
        entry['status'] = 'unreachable'
        return entry
    if result.get('failed'):
        entry['status'] = 'failed'
        return entry
    if result.get('skipped') or 'scraped' not in result:
        return entry
    errors = result.get('errors') or {}
    if not isinstance(errors, Mapping):
        raise AnsibleFilterError('metrics_summary: the "errors" of host %s must be a dictionary' % host)
    entry.update(status='ok', msg=None, scraped=_count(result.get('scraped'), host, 'scraped'),
                 failed=_count(result.get('failures', len(errors)), host, 'failures'),
                 errors=dict((str(key), str(value)) for key, value in sorted(errors.items())))
    return entry


def metrics_summary(results, textfiles=None):
    """The fleet summary of kata_metrics results keyed by host; see DOCUMENTATION."""
    if not isinstance(results, Mapping):
        raise AnsibleFilterError('metrics_summary: expected a dictionary of host name to kata_metrics result, got %s'
                                 % type(results).__name__)
    if textfiles is None:
        textfiles = {}
    if not isinstance(textfiles, Mapping):
        raise AnsibleFilterError('metrics_summary: textfiles must be a dictionary of host name to path, got %s'
                                 % type(textfiles).__name__)
    hosts = []
    for host in sorted(results, key=str):
        textfile = textfiles.get(host)
        hosts.append(_host_entry(str(host), results[host], None if textfile is None else str(textfile)))
    ok = [entry for entry in hosts if entry['status'] == 'ok']
    scraped = sum(entry['scraped'] for entry in ok)
    failed = sum(entry['failed'] for entry in ok)
    return {
        'format': SUMMARY_FORMAT,
        'hosts': hosts,
        'totals': {'hosts': len(hosts), 'hosts_ok': len(ok), 'hosts_failed': len(hosts) - len(ok),
                   'sandboxes': scraped + failed, 'scraped': scraped, 'failed': failed},
    }


class FilterModule(object):
    """The fleet summary of the metrics role."""

    def filters(self):
        return {'metrics_summary': metrics_summary}
