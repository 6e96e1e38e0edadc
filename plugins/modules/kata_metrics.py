#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_metrics
short_description: Scrape and parse the metrics of Kata Containers sandboxes
version_added: 0.1.0
description:
  - The native form of C(kata-runtime metrics <sandbox id>), for one sandbox, a list of sandboxes or every sandbox on
    the host, with the metrics parsed.
  - Each sandbox's shim serves its metrics on C(GET /metrics) of its management socket, in the Prometheus text format
    0.0.4. They come from the shim process (C(go_*), C(process_*), C(kata_shim_*)), the hypervisor
    (C(kata_hypervisor_*)), virtiofsd (C(kata_virtiofsd_*)) and, through the agent, the guest (C(kata_agent_*),
    C(kata_guest_*)).
  - The sandboxes are scraped in parallel, at most O(concurrency) at a time, each within O(timeout), like
    C(kata-monitor) does.
  - Unlike C(kata-runtime metrics), an answer other than HTTP 200 is an error and is never read as metrics, and an
    answer that is not valid Prometheus text is an error naming the line.
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._shim
  - katacontainers.kata._shim.pod
  - katacontainers.kata._shim.pod_metadata
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.info_module
  - katacontainers.kata._attributes.actiongroup_kata
  - katacontainers.kata._attributes.platform
options:
  sandbox_id:
    description:
      - Which sandboxes to scrape.
      - A single sandbox ID, as a string. If it cannot be scraped, the task fails with the shim's error.
      - A list of sandbox IDs. Sandboxes that cannot be scraped are reported in RV(errors). The task fails only
        when O(strict=true).
      - The string V(all) scrapes every sandbox with a directory under O(sandbox_root) or O(rs_sandbox_root).
        Failures are handled as for a list. To scrape a sandbox that is really named C(all), give a list with that
        one ID.
      - Every ID must match kata's sandbox ID pattern C(^[a-zA-Z0-9][a-zA-Z0-9_.-]+$). Duplicate IDs in a list
        are scraped once.
      - Exactly one of O(sandbox_id) and O(pod) is required. O(pod) names one sandbox, handled like a single ID.
    type: raw
  families:
    description:
      - Keep only the metric families whose name starts with one of these prefixes, like the C(filter_family)
        parameter of C(kata-monitor). For example V(kata_guest_) keeps the guest's metrics.
      - The samples of the other families are skipped without being parsed, so keeping a few families of many
        sandboxes costs little.
      - A prefix is compared with the family name. The samples of a histogram or summary family (C(<name>_bucket),
        C(<name>_sum), C(<name>_count)) stay with their family.
      - By default all families are returned.
    type: list
    elements: str
    default: []
  detail:
    description:
      - What comes back for each sandbox. The cost of the task follows it, because Ansible walks every value of a
        result and sends it to the controller. All samples of 100 sandboxes are hundreds of thousands of values.
      - V(auto), the default, is V(compact) when O(families) or O(query) is set, and V(summary) otherwise. Name the
        families you need, or set O(detail) to get them all.
      - V(summary) returns, per sandbox, the number of families and samples its shim served, in
        RV(sandboxes[].family_count) and RV(sandboxes[].sample_count), and no metric. The sample lines are counted,
        not parsed, so text that is not valid is not found.
      - V(compact) returns RV(sandboxes[].metrics), a dictionary keyed by family name. A family that is one sample
        without labels (most C(go_*), C(process_*) and C(kata_shim_*) families) is just its value. Any other family
        names its label columns once in C(labels) and gives each sample as a row, its label values then its value.
        The families' type and help come once for the whole result in RV(family_info).
      - V(full) returns RV(sandboxes[].families), a list of families with one dictionary per sample, the shape the
        C(katacontainers.kata.prometheus_parse) filter gives. It is about twice the size of V(compact).
    type: str
    choices: [auto, summary, compact, full]
    default: auto
    version_added: 0.2.0
  raw:
    description:
      - Also return each sandbox's metrics text as the shim sent it, unfiltered, in RV(sandboxes[].raw).
    type: bool
    default: false
  query:
    description:
      - A L(JMESPath,https://jmespath.org/) expression applied to the result. The expression sees a dictionary with
        the keys C(sandboxes), C(errors), C(scraped) and C(failures), as described under RV(sandboxes), RV(errors),
        RV(scraped) and RV(failures). Its value is returned in RV(query_result).
      - Use it to return only the values a play needs. When it is set, RV(sandboxes) holds only the ID, socket and
        runtime of each sandbox, without the metrics or raw text, and RV(family_info) is not returned (the
        expression sees it as C(family_info) when O(detail=compact)). A host with many sandboxes would otherwise send
        megabytes back to the controller.
      - Needs the C(jmespath) Python library on the managed node.
      - An expression with invalid syntax fails the task before any sandbox is scraped.
    type: str
  strict:
    description:
      - When O(sandbox_id) is a list or V(all), fail the task if any sandbox cannot be scraped. The result keeps
        everything that was scraped.
    type: bool
    default: false
  concurrency:
    description:
      - The maximum number of sandboxes scraped at the same time. Must be from 1 to 128.
    type: int
    default: 16
notes:
  - "Sample values are floating-point numbers. JSON has no notation for the three special values, so they are
    returned as the strings C(NaN), C(+Inf) and C(-Inf), which is how the text format writes them."
  - Timestamps are rare in shim metrics. When present, they are integers in milliseconds since the epoch.
  - "Compared with what Prometheus shows: the family and sample names, label names and label values are the
    shim's, unchanged, and the values are the same floats. In O(detail=compact), the series
    C(kata_guest_load{item=\"load1\"} 0.08) is the row C([\"load1\", 0.08]) of C(metrics.kata_guest_load), whose
    C(labels) are C([\"item\"]); the sample name of a histogram or summary is the C(__name__) column, which is the
    label Prometheus keeps it in; a label a sample lacks is V(null) in its row, where Prometheus treats it as empty.
    What a Prometheus server adds is not here: C(job) and C(instance) labels, the scrape time as the timestamp,
    and, through C(kata-monitor), the C(sandbox_id) label (use RV(sandboxes[].id), or the
    C(katacontainers.kata.prometheus_textfile) filter, which adds it)."
  - The families are returned as each shim names them. C(kata-monitor) renames the shim's C(go_*) and
    C(process_*) families to C(kata_shim_go_*) and C(kata_shim_process_*) and adds a C(sandbox_id) label. This
    module keeps each sandbox's families under its own entry instead.
  - A shim whose metrics gathering fails answers with an empty body. The sandbox is then returned without families,
    with a warning.
requirements:
  - C(jmespath), only when O(query) is used.
seealso:
  - module: katacontainers.kata.kata_sandbox_info
  - name: kata-runtime metrics
    description: The command this module replaces.
    link: https://github.com/kata-containers/kata-containers/blob/main/src/runtime/cmd/kata-runtime/kata-metrics.go
  - name: Prometheus text exposition format
    description: The format of the shim's metrics.
    link: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
"""

EXAMPLES = r"""
---
- name: Scrape the sandbox of a pod
  katacontainers.kata.kata_metrics:
    pod: default/nginx
    families: [kata_guest_]
  become: true

- name: Scrape one sandbox, every family (the task fails if its shim cannot be reached)
  katacontainers.kata.kata_metrics:
    sandbox_id: 4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f
    detail: compact
  become: true
  register: one

- name: Show the shim's thread count (a family without labels is its value)
  ansible.builtin.debug:
    msg: "{{ one.sandboxes[0].metrics.kata_shim_threads }}"

- name: Show the guest's 1-minute load (a family with one label is a list of [label value, value] rows)
  ansible.builtin.debug:
    msg: "{{ dict(one.sandboxes[0].metrics.kata_guest_load.samples).load1 }}"

- name: The same rows as dictionaries, whatever the number of labels
  ansible.builtin.debug:
    msg: >-
      {% set family = one.sandboxes[0].metrics.kata_guest_netdev_stat %}
      {% for row in family.samples %}{{ dict(family.labels | zip(row)) }} value={{ row[-1] }}
      {% endfor %}

- name: Scrape every sandbox on the host, keeping only the guest and hypervisor families
  katacontainers.kata.kata_metrics:
    sandbox_id: all
    families:
      - kata_guest_
      - kata_hypervisor_
    concurrency: 32
  become: true
  register: all_metrics

- name: Which sandboxes answer, and how much they serve (without families, no metric comes back)
  katacontainers.kata.kata_metrics:
    sandbox_id: all
  become: true
  register: answered

- name: Show it
  ansible.builtin.debug:
    msg: "{{ answered.scraped }} sandboxes answered, {{ answered.sandboxes | map(attribute='sample_count') | sum }} samples"

- name: Report the sandboxes that could not be scraped
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value }}"
  loop: "{{ all_metrics.errors | dict2items }}"

- name: Loop over the scraped sandboxes
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.metrics | length }} families, load {{ dict(item.metrics.kata_guest_load.samples).load1 }}"
  loop: "{{ all_metrics.sandboxes }}"
  loop_control:
    label: "{{ item.id }}"

- name: Free guest memory per sandbox, computed on the node (only this comes back)
  katacontainers.kata.kata_metrics:
    sandbox_id: all
    families:
      - kata_guest_meminfo
    query: >-
      sandboxes[].{id: id,
                   mem_free: metrics.kata_guest_meminfo.samples[?@[0]=='mem_free'] | [0][-1]}
  become: true
  register: mem

- name: Show them
  ansible.builtin.debug:
    var: mem.query_result
  # [{"id": "4f8a3c2e...", "mem_free": 1923104768.0}, ...]

- name: Some sandboxes, failing the task if any of them cannot be scraped, with the text kept
  katacontainers.kata.kata_metrics:
    sandbox_id:
      - 4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f
      - 0d1b4a5c9e7f6a1b2c3d4e5f4f8a3c2e
    raw: true
    strict: true
    timeout: 5
  become: true
  register: some

- name: Write one sandbox's metrics to a node_exporter textfile
  ansible.builtin.copy:
    content: "{{ some.sandboxes[0].raw }}"
    dest: /var/lib/node_exporter/textfile/kata_{{ some.sandboxes[0].id }}.prom
    mode: "0644"
  become: true

- name: One dictionary per sample (the full detail)
  katacontainers.kata.kata_metrics:
    sandbox_id: all
    families: [kata_guest_load]
    detail: full
  become: true
  register: full

- name: Show the first sandbox's samples
  ansible.builtin.debug:
    msg: "{{ full.sandboxes[0].families[0].samples | map(attribute='value') | list }}"

- name: Defaults for every sandbox module of the collection
  module_defaults:
    group/katacontainers.kata.kata:
      sandbox_root: /run/vc/sbs
      timeout: 2
  block:
    - name: Scrape all sandboxes
      katacontainers.kata.kata_metrics:
        sandbox_id: all
      become: true
"""

RETURN = r"""
pod:
  description:
    - The pod given in O(pod) and the sandbox it was resolved to.
  returned: when O(pod) is set
  type: dict
  contains:
    namespace:
      description: The pod's namespace.
      type: str
      sample: default
    name:
      description: The pod's name.
      type: str
      sample: nginx
    uid:
      description: The pod's UID, V(null) when the engine did not record it.
      type: str
      sample: 6f0a4a53-1a8e-4b7b-9a61-0c1f2d3e4f5a
    handler:
      description:
        - The runtime handler, as CRI-O records it. containerd records it only when the pod carries the
          C(io.containerd.cri.runtime-handler) annotation and the handler lets it through; V(null) otherwise.
      type: str
      sample: kata-qemu
    engine:
      description: The container engine whose metadata named the pod, V(containerd) or V(crio).
      type: str
      sample: containerd
    sandbox_id:
      description: The Kata sandbox of the pod.
      type: str
      sample: 4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f
    runtime:
      description: The Kata runtime of the sandbox, V(go) (C(containerd-shim-kata-v2)) or V(rust) (runtime-rs).
      type: str
      sample: go
sandboxes:
  description:
    - The sandboxes that were scraped, one entry each. The order is that of O(sandbox_id) for a list, and sorted by
      ID for V(all).
    - A list rather than a dictionary keyed by ID, so that loops and JMESPath projections keep each sandbox's ID
      next to its data.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The sandbox ID.
      type: str
      sample: 4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f
    socket:
      description: The shim management socket that was scraped.
      type: str
      sample: /run/vc/sbs/4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f/shim-monitor.sock
    runtime:
      description:
        - V(go) when the socket was found under O(sandbox_root), V(rs) when found under O(rs_sandbox_root).
        - V(null) when O(shim_socket) was given.
      type: str
      sample: go
    family_count:
      description: The number of metric families the shim served (before O(families) filtering).
      type: int
      returned: when O(detail) is or resolves to V(summary) and O(query) is not set
      sample: 98
    sample_count:
      description: The number of samples the shim served (before O(families) filtering).
      type: int
      returned: when O(detail) is or resolves to V(summary) and O(query) is not set
      sample: 1064
    metrics:
      description:
        - With O(detail=compact) (the default when O(families) is set), the metric families, keyed by family name, filtered by
          O(families). A family with no sample is not listed.
        - A family of one sample without labels or timestamp (not a histogram or summary) is that sample's value.
        - Any other family is a dictionary with C(type), C(labels) (the label names, once), C(samples) (one row per
          sample, in the shim's order, its label values in the order of C(labels), then its value) and, only when a
          sample has a timestamp, C(timestamps) (one per row, V(null) for none).
        - A histogram or summary has C(__name__) as its first label column, the sample's own name
          (C(<name>_bucket), C(<name>_sum), C(<name>_count), and C(<name>) for the quantiles). Their C(le) and
          C(quantile) labels are kept as the shim wrote them, for example C(+Inf).
        - A label that a sample does not have is V(null) in its row.
        - Values are floats, or the strings V(NaN), V(+Inf) or V(-Inf) for the special values, which JSON cannot
          carry.
        - Not returned when O(query) is set.
      type: dict
      returned: when O(detail) is or resolves to V(compact) and O(query) is not set
      sample:
        kata_shim_threads: 12.0
        kata_guest_load:
          type: gauge
          labels: [item]
          samples: [[load1, 0.08], [load5, 0.03], [load15, 0.0]]
        kata_shim_rpc_durations_histogram_milliseconds:
          type: histogram
          labels: [__name__, action, le]
          samples:
            - [kata_shim_rpc_durations_histogram_milliseconds_bucket, create, "1", 0.0]
            - [kata_shim_rpc_durations_histogram_milliseconds_bucket, create, "+Inf", 1.0]
            - [kata_shim_rpc_durations_histogram_milliseconds_sum, create, null, 12.0]
            - [kata_shim_rpc_durations_histogram_milliseconds_count, create, null, 1.0]
    families:
      description:
        - With O(detail=full), the metric families, in the order the shim wrote them, filtered by O(families).
        - A family with no sample is not listed.
        - Not returned when O(query) is set.
      type: list
      elements: dict
      returned: when O(detail=full) and O(query) is not set
      contains:
        name:
          description: The family name.
          type: str
          sample: kata_shim_rpc_durations_histogram_milliseconds
        type:
          description: V(counter), V(gauge), V(histogram), V(summary) or V(untyped) (no C(# TYPE) line).
          type: str
          sample: histogram
        help:
          description: The C(# HELP) text, unescaped. Empty when there is none.
          type: str
          sample: RPC latency distributions.
        samples:
          description:
            - The samples, in order.
            - The samples of a histogram or summary keep their own names (C(<name>_bucket), C(<name>_sum),
              C(<name>_count), and C(<name>) for the quantiles). Their C(le) and C(quantile) labels stay in
              C(labels) as the shim wrote them, for example C(+Inf).
          type: list
          elements: dict
          contains:
            name:
              description: The sample (series) name.
              type: str
              sample: kata_shim_rpc_durations_histogram_milliseconds_bucket
            labels:
              description: The labels, unescaped.
              type: dict
              sample: {"action": "create", "le": "+Inf"}
            value:
              description:
                - The value, a float.
                - The strings V(NaN), V(+Inf) or V(-Inf) for the special values, which JSON cannot carry.
              type: raw
              sample: 12.0
            timestamp:
              description: The sample's timestamp in milliseconds since the epoch, V(null) when it has none.
              type: int
              sample: null
      sample:
        - name: kata_shim_threads
          type: gauge
          help: Kata containerd shim v2 process threads.
          samples:
            - {name: kata_shim_threads, labels: {}, value: 12.0, timestamp: null}
        - name: kata_guest_load
          type: gauge
          help: Guest system load.
          samples:
            - {name: kata_guest_load, labels: {item: load1}, value: 0.08, timestamp: null}
            - {name: kata_guest_load, labels: {item: load5}, value: 0.03, timestamp: null}
            - {name: kata_guest_load, labels: {item: load15}, value: 0.0, timestamp: null}
    raw:
      description:
        - The metrics text as the shim sent it, before O(families) filtering.
      type: str
      returned: when O(raw=true) and O(query) is not set
      sample: "# HELP kata_shim_threads Kata containerd shim v2 process threads.\n# TYPE kata_shim_threads gauge\nkata_shim_threads 12\n"
family_info:
  description:
    - With O(detail=compact), the type and help of every family in RV(sandboxes[].metrics), keyed by family name,
      once for all sandboxes (as the first sandbox that has the family describes it).
  returned: when O(detail) is or resolves to V(compact) and O(query) is not set
  type: dict
  sample:
    kata_shim_threads: {type: gauge, help: Kata containerd shim v2 process threads.}
    kata_guest_load: {type: gauge, help: Guest system load.}
errors:
  description:
    - The sandboxes that could not be scraped, with the reason, keyed by sandbox ID.
    - Reasons include a missing or refused socket, a timeout, an answer other than HTTP 200 (with its status and
      body), and invalid metrics text (with the line).
    - Always empty for a single O(sandbox_id), because such a failure fails the task.
  returned: success, and failure with O(strict=true)
  type: dict
  sample:
    0d1b4a5c9e7f6a1b2c3d4e5f4f8a3c2e: >-
      GET http://shim/metrics via /run/vc/sbs/0d1b4a5c9e7f6a1b2c3d4e5f4f8a3c2e/shim-monitor.sock:
      no complete answer within the timeout of 3 seconds
scraped:
  description: The number of sandboxes scraped.
  returned: success, and failure with O(strict=true)
  type: int
  sample: 41
failures:
  description: The number of sandboxes that could not be scraped (the entries of RV(errors)).
  returned: success, and failure with O(strict=true)
  type: int
  sample: 1
query_result:
  description: The value of O(query), of whatever type the expression gives.
  returned: when O(query) is set
  type: raw
  sample: [{"id": "4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f", "mem_free": 1923104768.0}]
url:
  description: The URL of the failed request, when a single sandbox could not be scraped.
  returned: failure
  type: str
  sample: http://shim/metrics
status:
  description: The HTTP status of a failed request. V(null) when there was no HTTP answer.
  returned: failure, when the shim answered with a status other than 200
  type: int
  sample: 500
body:
  description: The body of the shim's error answer, as text, cut to 2048 characters.
  returned: failure, when the shim answered with a status other than 200
  type: str
  sample: "ttrpc: closed"
handler_failed:
  description:
    - V(true) when the shim closed the connection without an HTTP answer, as runtime-rs does when its handler returns
      an error (and the Go shim when a handler panics); the reason is then only in the shim's log, and RV(status) is
      V(null).
  returned: failure, when the shim closed the connection before answering
  type: bool
  sample: true
  version_added: 0.2.0
line_number:
  description: The line of the metrics text that is not valid, when a single sandbox's metrics could not be parsed.
  returned: failure, when the metrics text is invalid
  type: int
  sample: 12
line:
  description: The start of that line (120 characters at most).
  returned: failure, when the metrics text is invalid
  type: str
  sample: "kata_shim_threads twelve"
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._metrics import DEFAULT_CONCURRENCY, metrics_module
from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import pod_argument_spec, shim_argument_spec


def main():
    argument_spec = shim_argument_spec()
    argument_spec.update(pod_argument_spec())
    argument_spec.update(
        sandbox_id=dict(type='raw'),
        families=dict(type='list', elements='str', default=[]),
        raw=dict(type='bool', default=False),
        query=dict(type='str'),
        strict=dict(type='bool', default=False),
        concurrency=dict(type='int', default=DEFAULT_CONCURRENCY),
        detail=dict(type='str', choices=['auto', 'summary', 'compact', 'full'], default='auto'),
    )
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('sandbox_id', 'pod')],
                           required_one_of=[('sandbox_id', 'pod')], supports_check_mode=True)
    run(module, metrics_module)


if __name__ == '__main__':
    main()
