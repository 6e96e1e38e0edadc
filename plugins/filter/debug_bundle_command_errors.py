# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``debug_bundle_command_errors`` filter: what is wrong with the commands of the debug_bundle role.

Its implementation is in plugins/plugin_utils/_debug_bundle.py.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: debug_bundle_command_errors
version_added: 0.2.0
author:
  - Kata Containers collection contributors (@katacontainers)
short_description: What is wrong with the diagnostic commands of the debug_bundle role
description:
  - Checks a list of commands in the form the C(kata_debug_bundle_commands) variable of the
    P(katacontainers.kata.debug_bundle#role) role takes, and returns one message per bad command, naming it by its
    position (C(kata_debug_bundle_commands[1]) is the second) and saying what is wrong with it. The role fails with
    these messages before any command runs.
  - A command is a string (run by the guest shell), or a mapping with C(cmd) (a non-empty string) or C(argv) (a
    non-empty list of strings), not both, and optionally C(name) (a non-empty string), C(timeout) (a number of
    seconds, not negative; 0 for no limit) and C(check_mode_safe) (a boolean). Other keys are refused.
  - Only the first problem of each command is reported.
positional: _input, variable
options:
  _input:
    description: The commands.
    type: list
    elements: raw
    required: true
  variable:
    description: The name the messages give the list.
    type: str
    default: kata_debug_bundle_commands
"""

EXAMPLES = r"""
- name: Check the commands before running any
  ansible.builtin.assert:
    that: commands_errors | length == 0
    fail_msg: "{{ commands_errors | join('; ') }}"
  vars:
    commands_errors: "{{ my_commands | katacontainers.kata.debug_bundle_command_errors('my_commands') }}"
"""

RETURN = r"""
_value:
  description: One message per bad command, in the order of the list; empty when every command is good.
  type: list
  elements: str
  sample: ["kata_debug_bundle_commands[0]: a string or a mapping is expected, got 42"]
"""

from ansible_collections.katacontainers.kata.plugins.plugin_utils._debug_bundle import debug_bundle_command_errors


class FilterModule(object):
    """The debug_bundle_command_errors filter."""

    def filters(self):
        return {'debug_bundle_command_errors': debug_bundle_command_errors}
