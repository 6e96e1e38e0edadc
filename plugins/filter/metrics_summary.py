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
  - Reads each host's registered result of M(katacontainers.kata.kata_metrics) from O(hostvars) and returns how many
    sandboxes each host scraped and how many it could not, with the reasons, and the fleet totals.
  - Hosts whose task failed or that were unreachable are listed too, with the reason, and so are hosts without a
    result, as C(failed) when they left the play before the scrape, or as C(pending) when they are still in the play
    (the later batches of a C(serial) play).
  - The C(katacontainers.kata.metrics) role writes this summary as JSON on the controller. It holds no timestamp, so
    that it only changes when the fleet does.
positional: _input, hostvars, result_var
options:
  _input:
    description:
      - The hosts to summarize, usually C(ansible_play_hosts_all).
    type: list
    elements: str
    required: true
  hostvars:
    description:
      - The variables of the hosts, C(hostvars).
    type: dict
    required: true
  result_var:
    description:
      - The name of the variable each host registered the C(kata_metrics) result in (run with C(sandbox_id) V(all)
        or a list, and without C(query)).
    type: str
    required: true
  textfile_var:
    description:
      - The name of a host variable holding the path of the textfile written on that host, copied into the host's
        entry.
    type: str
  active_hosts:
    description:
      - The hosts still in the play, usually C(ansible_play_hosts). A host without a result that is not among them
        is C(failed); one that is, is C(pending). When not given, a host without a result is C(failed).
    type: list
    elements: str
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
      {{ ansible_play_hosts_all | katacontainers.kata.metrics_summary(hostvars, 'kata_scrape',
                                                                      active_hosts=ansible_play_hosts) }}
  run_once: true
  # {"format": 1, "complete": true,
  #  "hosts": [{"host": "node1", "status": "ok", "scraped": 12, "failed": 1, "errors": {...}, ...}, ...],
  #  "totals": {"hosts": 2, "ok": 1, "failed": 0, "unreachable": 1, "pending": 0,
  #             "sandboxes": 13, "sandboxes_scraped": 12, "sandboxes_failed": 1}}
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    format:
      description: The version of this format, V(1).
      type: int
    complete:
      description: Whether every host has a result (no host is C(pending)).
      type: bool
    hosts:
      description: One entry per host, in the order of O(_input).
      type: list
      elements: dict
      contains:
        host:
          description: The host name.
          type: str
        status:
          description:
            - V(ok) when the host's sandboxes were scraped (some may still have failed, see
              RV(_value.hosts[].failed)), V(failed) when the task failed or the host left the play before it,
              V(unreachable) when the host could not be reached, V(pending) when the host has not got there yet.
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
          description: Why the host has no counts; V(null) when it has.
          type: str
        textfile:
          description: The textfile written on the host (from O(textfile_var)); V(null) when there is none.
          type: str
    totals:
      description: The fleet totals.
      type: dict
      contains:
        hosts:
          description: The number of hosts.
          type: int
        ok:
          description: The hosts whose sandboxes were scraped.
          type: int
        failed:
          description: The hosts whose task failed, or that left the play before it.
          type: int
        unreachable:
          description: The hosts that could not be reached.
          type: int
        pending:
          description: The hosts that have not got to the scrape yet.
          type: int
        sandboxes:
          description: The sandboxes found on the hosts that were scraped.
          type: int
        sandboxes_scraped:
          description: The sandboxes scraped.
          type: int
        sandboxes_failed:
          description: The sandboxes that could not be scraped.
          type: int
"""

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

SUMMARY_FORMAT = 1
STATUSES = ('ok', 'failed', 'unreachable', 'pending')
LEFT_THE_PLAY = 'left the play before the metrics were scraped (it failed or was unreachable in an earlier task)'
NOT_YET = 'not scraped yet'


def _host_var(hostvars, host, name):
    """``hostvars[host][name]``, or None when the host or the variable does not exist."""
    if not name:
        return None
    try:
        variables = hostvars[host]
    except (KeyError, TypeError):
        return None
    if not isinstance(variables, Mapping) or name not in variables:
        return None
    return variables[name]


def _count(value, host, key):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AnsibleFilterError('metrics_summary: the result of host %s has an invalid "%s": %r' % (host, key, value))
    return value


def _host_entry(host, result, textfile, active):
    entry = {'host': host, 'status': 'failed', 'scraped': None, 'failed': None, 'errors': {}, 'msg': None,
             'textfile': None if textfile is None else str(textfile)}
    if result is None or (isinstance(result, Mapping) and result.get('skipped')):
        if active:
            entry.update(status='pending', msg=NOT_YET)
        else:
            entry['msg'] = LEFT_THE_PLAY
        return entry
    if not isinstance(result, Mapping):
        raise AnsibleFilterError('metrics_summary: the result of host %s must be a dictionary (a registered kata_metrics '
                                 'result), got %s' % (host, type(result).__name__))
    msg = result.get('msg')
    entry['msg'] = str(msg) if msg else None
    if result.get('unreachable'):
        entry['status'] = 'unreachable'
        return entry
    if result.get('failed'):
        return entry
    if 'scraped' not in result:
        raise AnsibleFilterError('metrics_summary: the result of host %s is not a kata_metrics result for a list of '
                                 'sandboxes or all of them (it has no "scraped")' % host)
    errors = result.get('errors') or {}
    if not isinstance(errors, Mapping):
        raise AnsibleFilterError('metrics_summary: the "errors" of host %s must be a dictionary' % host)
    entry.update(status='ok', msg=None, scraped=_count(result.get('scraped'), host, 'scraped'),
                 failed=_count(result.get('failures', len(errors)), host, 'failures'),
                 errors=dict((str(key), str(value)) for key, value in sorted(errors.items())))
    return entry


def metrics_summary(hosts, hostvars, result_var, textfile_var=None, active_hosts=None):
    """The fleet summary of the kata_metrics results registered as ``result_var`` by ``hosts``; see DOCUMENTATION."""
    if isinstance(hosts, (str, bytes)) or not isinstance(hosts, Sequence):
        raise AnsibleFilterError('metrics_summary: the input must be the list of hosts (ansible_play_hosts_all), got %s'
                                 % type(hosts).__name__)
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('metrics_summary: hostvars must be a mapping (pass hostvars), got %s'
                                 % type(hostvars).__name__)
    if not isinstance(result_var, str) or not result_var:
        raise AnsibleFilterError('metrics_summary: result_var must be the name of the registered variable, got %r'
                                 % (result_var,))
    if textfile_var is not None and not isinstance(textfile_var, str):
        raise AnsibleFilterError('metrics_summary: textfile_var must be a variable name, got %r' % (textfile_var,))
    if active_hosts is not None and (isinstance(active_hosts, (str, bytes)) or not isinstance(active_hosts, Sequence)):
        raise AnsibleFilterError('metrics_summary: active_hosts must be a list of hosts (ansible_play_hosts), got %s'
                                 % type(active_hosts).__name__)
    active = None if active_hosts is None else set(str(host) for host in active_hosts)
    entries = []
    seen = set()
    for host in hosts:
        host = str(host)
        if host in seen:
            continue
        seen.add(host)
        entries.append(_host_entry(host, _host_var(hostvars, host, result_var), _host_var(hostvars, host, textfile_var),
                                   active is not None and host in active))
    ok = [entry for entry in entries if entry['status'] == 'ok']
    scraped = sum(entry['scraped'] for entry in ok)
    failed = sum(entry['failed'] for entry in ok)
    totals = dict((status, sum(1 for entry in entries if entry['status'] == status)) for status in STATUSES)
    totals.update(hosts=len(entries), sandboxes=scraped + failed, sandboxes_scraped=scraped, sandboxes_failed=failed)
    return {'format': SUMMARY_FORMAT, 'complete': totals['pending'] == 0, 'hosts': entries, 'totals': totals}


class FilterModule(object):
    """The fleet summary of the metrics role."""

    def filters(self):
        return {'metrics_summary': metrics_summary}
