#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_preflight_report
short_description: Write the Kata Containers fleet readiness report on the controller
version_added: 0.2.0
description:
  - Writes the files of a fleet readiness report made by the P(katacontainers.kata.preflight_report#filter) filter,
    as JSON (C(preflight.json)), Markdown (C(preflight.md), the P(katacontainers.kata.preflight_markdown#filter)
    filter) and a self-contained HTML page (C(preflight.html), the P(katacontainers.kata.preflight_html#filter)
    filter), in a directory of the controller. The P(katacontainers.kata.preflight#role) role writes its report with it.
  - An action plugin, it runs in the controller's Ansible process, whatever the host of the task, and starts no
    module process; the files belong to the user running C(ansible-playbook) (C(become) does not apply). Run it once
    (C(run_once)).
  - Each file is written through a temporary file in the same directory, renamed into place; a file whose content
    and mode are already those of the report is left untouched, and the task is then not C(changed).
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._attributes
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  check_mode:
    support: full
    details:
      - In check mode nothing is written and no directory is created; C(changed) and RV(changed_files) predict
        the run.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The report carries no time stamp, so the same fleet gives the same bytes.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: The files are written on the controller.
options:
  report:
    description:
      - The report, as the P(katacontainers.kata.preflight_report#filter) filter returns it (format 1).
    type: dict
    required: true
  dest:
    description:
      - The directory of the report files on the controller. It is created (mode C(0755), with its parents) when it
        does not exist; an existing one is left as it is.
      - A relative path is relative to the directory C(ansible-playbook) runs in.
    type: path
    required: true
  formats:
    description:
      - The files to write.
    type: list
    elements: str
    choices: [json, markdown, html]
    default: [json, markdown, html]
  mode:
    description:
      - The permissions of the files, in octal, for example V("0640").
    type: str
    default: "0644"
seealso:
  - plugin: katacontainers.kata.preflight_report
    plugin_type: filter
"""

EXAMPLES = r"""
---
- name: Write the readiness report of the play's hosts
  katacontainers.kata.kata_preflight_report:
    report: "{{ ansible_play_hosts_all | katacontainers.kata.preflight_report(hostvars, ansible_play_hosts) }}"
    dest: /srv/reports/kata
    formats: [json, html]
  run_once: true
"""

RETURN = r"""
dest:
  description: The report directory (absolute).
  returned: success
  type: str
  sample: /srv/reports/kata
files:
  description: The report files, in the order of O(formats).
  returned: success
  type: list
  elements: str
  sample: ["/srv/reports/kata/preflight.json", "/srv/reports/kata/preflight.html"]
changed_files:
  description: The files written (in check mode, that would be written).
  returned: success
  type: list
  elements: str
  sample: ["/srv/reports/kata/preflight.html"]
created_dest:
  description: Whether the directory did not exist (and was created, outside check mode).
  returned: success
  type: bool
  sample: false
"""
