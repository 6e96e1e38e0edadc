# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""debug_bundle_command_errors: the debug_bundle role's check of its commands, with the messages the role always gave.

The last test runs the Jinja loop the role had before (in roles/debug_bundle/vars/main.yml, with Ansible's own
``to_json`` and ``difference`` filters) on the same inputs and asserts the same messages.
"""

from __future__ import annotations

import jinja2
import pytest

from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import to_json
from ansible.plugins.filter.mathstuff import difference

from ansible_collections.katacontainers.kata.plugins.filter.debug_bundle_command_errors import FilterModule
from ansible_collections.katacontainers.kata.plugins.plugin_utils._debug_bundle import debug_bundle_command_errors

DEFAULTS = [
    {'name': 'uname', 'cmd': 'uname -a', 'check_mode_safe': True},
    {'name': 'processes', 'cmd': 'ps -ef 2>/dev/null || ps', 'check_mode_safe': True},
    {'name': 'disk-usage', 'cmd': 'df -h', 'timeout': 20, 'check_mode_safe': True},
]

GOOD = [
    'uname -a',
    {'cmd': 'uname'},
    {'argv': ['ls', '-la', '/run/kata-containers']},
    {'argv': ('ls',)},
    {'cmd': 'dmesg', 'name': 'kernel log', 'timeout': 0, 'check_mode_safe': False},
    {'cmd': 'sleep 1', 'timeout': 2.5},
]

BAD = [
    (42, 'a string or a mapping is expected, got 42'),
    (None, 'a string or a mapping is expected, got null'),
    (True, 'a string or a mapping is expected, got true'),
    (['uname', '-a'], 'a string or a mapping is expected, got ["uname", "-a"]'),
    (1.5, 'a string or a mapping is expected, got 1.5'),
    ({'cmd': 'uname', 'shell': 'bash'}, 'unknown key(s) shell (known: name, cmd, argv, timeout, check_mode_safe)'),
    ({'shell': 'bash', 'cmd': 'uname', 'user': 'root', 'argv': []},
     'unknown key(s) shell, user (known: name, cmd, argv, timeout, check_mode_safe)'),
    ({'cmd': 'uname', 'argv': ['uname']}, 'give exactly one of cmd and argv'),
    ({}, 'give exactly one of cmd and argv'),
    ({'name': 'x'}, 'give exactly one of cmd and argv'),
    ('', 'cmd must be a non-empty string'),
    ('  \t', 'cmd must be a non-empty string'),
    ({'cmd': '  '}, 'cmd must be a non-empty string'),
    ({'cmd': None}, 'cmd must be a non-empty string'),
    ({'cmd': ['uname']}, 'cmd must be a non-empty string'),
    ({'argv': 'uname'}, 'argv must be a non-empty list of strings'),
    ({'argv': []}, 'argv must be a non-empty list of strings'),
    ({'argv': ['ls', 1]}, 'argv must be a non-empty list of strings'),
    ({'argv': {'a': 'b'}}, 'argv must be a non-empty list of strings'),
    ({'argv': 7}, 'argv must be a non-empty list of strings'),
    ({'argv': None}, 'argv must be a non-empty list of strings'),
    ({'cmd': 'uname', 'name': ''}, 'name must be a non-empty string'),
    ({'cmd': 'uname', 'name': 3}, 'name must be a non-empty string'),
    ({'cmd': 'uname', 'timeout': 'soon'}, 'timeout must be a number of seconds (0: no limit)'),
    ({'cmd': 'uname', 'timeout': '10'}, 'timeout must be a number of seconds (0: no limit)'),
    ({'cmd': 'uname', 'timeout': -1}, 'timeout must be a number of seconds (0: no limit)'),
    ({'cmd': 'uname', 'timeout': True}, 'timeout must be a number of seconds (0: no limit)'),
    ({'cmd': 'uname', 'timeout': None}, 'timeout must be a number of seconds (0: no limit)'),
    ({'cmd': 'uname', 'check_mode_safe': 'yes'}, 'check_mode_safe must be true or false'),
    ({'cmd': 'uname', 'check_mode_safe': 1}, 'check_mode_safe must be true or false'),
    # one message per command: the first problem found
    ({'cmd': '', 'timeout': -1, 'check_mode_safe': 'no'}, 'cmd must be a non-empty string'),
]


def test_the_filter_file_gives_it():
    assert FilterModule().filters() == {'debug_bundle_command_errors': debug_bundle_command_errors}


@pytest.mark.parametrize('commands', [DEFAULTS, GOOD, []])
def test_good_commands_have_no_error(commands):
    assert debug_bundle_command_errors(commands) == []


@pytest.mark.parametrize('command, message', BAD)
def test_each_bad_command_is_named_with_what_is_wrong(command, message):
    assert debug_bundle_command_errors(['uname', command]) == ['kata_debug_bundle_commands[1]: ' + message]


def test_every_bad_command_is_reported_in_order_under_the_given_name():
    commands = [command for command, dummy in BAD]
    assert debug_bundle_command_errors(GOOD + commands, 'my_commands') == [
        'my_commands[%d]: %s' % (len(GOOD) + index, message) for index, (dummy, message) in enumerate(BAD)]


@pytest.mark.parametrize('value', ['uname', {'cmd': 'uname'}, None, 42])
def test_the_input_must_be_a_list(value):
    with pytest.raises(AnsibleFilterError, match=r'^debug_bundle_command_errors: the input must be the list of commands '
                                                 r'\(kata_debug_bundle_commands\), got '):
        debug_bundle_command_errors(value)


def test_the_input_is_not_modified():
    commands = [dict(c) for c in DEFAULTS] + [{'argv': ['ls', 1]}]
    before = [dict(c) for c in commands]
    debug_bundle_command_errors(commands)
    assert commands == before


# The role's check before it became a filter (roles/debug_bundle/vars/main.yml).
OLD_CHECK = r"""
  {%- set keys = ['name', 'cmd', 'argv', 'timeout', 'check_mode_safe'] -%}
  {%- set ns = namespace(errors=[]) -%}
  {%- for c in kata_debug_bundle_commands -%}
  {%-   set d = c if c is mapping else {'cmd': c} -%}
  {%-   set where = 'kata_debug_bundle_commands[%d]' % loop.index0 -%}
  {%-   if c is not string and c is not mapping -%}
  {%-     set ns.errors = ns.errors + [where ~ ': a string or a mapping is expected, got ' ~ (c | to_json)] -%}
  {%-   elif d | list | difference(keys) -%}
  {%-     set ns.errors = ns.errors + [where ~ ': unknown key(s) ' ~ (d | list | difference(keys)
                                                                 | join(', ')) ~ ' (known: ' ~ (keys
                                                                 | join(', ')) ~ ')'] -%}
  {%-   elif (d.cmd is defined) == (d.argv is defined) -%}
  {%-     set ns.errors = ns.errors + [where ~ ': give exactly one of cmd and argv'] -%}
  {%-   elif d.cmd is defined and (d.cmd is not string or d.cmd | trim == '') -%}
  {%-     set ns.errors = ns.errors + [where ~ ': cmd must be a non-empty string'] -%}
  {%-   elif d.argv is defined and (d.argv is string or d.argv is mapping or d.argv is not sequence or d.argv | length == 0
                                    or d.argv | reject('string') | list | length > 0) -%}
  {%-     set ns.errors = ns.errors + [where ~ ': argv must be a non-empty list of strings'] -%}
  {%-   elif d.name is defined and (d.name is not string or d.name | trim == '') -%}
  {%-     set ns.errors = ns.errors + [where ~ ': name must be a non-empty string'] -%}
  {%-   elif d.timeout is defined and (d.timeout is not number or d.timeout is boolean or d.timeout < 0) -%}
  {%-     set ns.errors = ns.errors + [where ~ ': timeout must be a number of seconds (0: no limit)'] -%}
  {%-   elif d.check_mode_safe is defined and d.check_mode_safe is not boolean -%}
  {%-     set ns.errors = ns.errors + [where ~ ': check_mode_safe must be true or false'] -%}
  {%-   endif -%}
  {%- endfor -%}
  {{ ns.errors | to_json }}
"""


def _unordered_keys(message):
    """The unknown keys of a message as a set: Ansible's difference filter gave them in set order."""
    head, found, rest = message.partition(': unknown key(s) ')
    if not found:
        return message
    keys, dummy, known = rest.partition(' (known: ')
    return head, frozenset(keys.split(', ')), known


def test_the_same_messages_as_the_jinja_loop_it_replaces():
    import json

    environment = jinja2.Environment()
    environment.filters.update(to_json=to_json, difference=difference)
    commands = DEFAULTS + GOOD + [command for command, dummy in BAD]
    old = json.loads(environment.from_string(OLD_CHECK).render(kata_debug_bundle_commands=commands))
    new = debug_bundle_command_errors(commands)
    assert len(old) == len(BAD)
    assert [_unordered_keys(m) for m in new] == [_unordered_keys(m) for m in old]
    # now in the order of the command's keys, whatever the hash seed
    assert new[6] == ('kata_debug_bundle_commands[%d]: unknown key(s) shell, user (known: name, cmd, argv, timeout, '
                      'check_mode_safe)' % (len(DEFAULTS) + len(GOOD) + 6))
