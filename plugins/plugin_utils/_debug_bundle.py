# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What is wrong with the commands of the ``katacontainers.kata.debug_bundle`` role (controller side): the
implementation of the filter plugins/filter/debug_bundle_command_errors.py.

A command is a string (run by the guest shell), or a mapping with ``cmd`` (such a string) or ``argv`` (a list of
strings), and optionally ``name``, ``timeout`` (seconds, 0 for no limit) and ``check_mode_safe`` (a boolean); the
role's argument spec (roles/debug_bundle/meta/argument_specs.yml) has made sure the commands are a list.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.plugins.filter.core import to_json

COMMAND_KEYS = ('name', 'cmd', 'argv', 'timeout', 'check_mode_safe')
VARIABLE = 'kata_debug_bundle_commands'


def _non_empty_string(value):
    return isinstance(value, str) and value.strip() != ''


def _is_sequence(value):
    """Jinja's ``sequence`` test: it has a length and items."""
    try:
        len(value)
        value.__getitem__  # pylint: disable=pointless-statement
    except Exception:  # pylint: disable=broad-except
        return False
    return True


def command_error(command):
    """What is wrong with one command (the first problem found), or None."""
    if not isinstance(command, (str, Mapping)):
        return 'a string or a mapping is expected, got %s' % to_json(command)
    spec = command if isinstance(command, Mapping) else {'cmd': command}
    unknown = []
    for key in spec:
        if key not in COMMAND_KEYS and key not in unknown:
            unknown.append(key)
    if unknown:
        return 'unknown key(s) %s (known: %s)' % (', '.join(str(k) for k in unknown), ', '.join(COMMAND_KEYS))
    if ('cmd' in spec) == ('argv' in spec):
        return 'give exactly one of cmd and argv'
    if 'cmd' in spec and not _non_empty_string(spec['cmd']):
        return 'cmd must be a non-empty string'
    argv = spec.get('argv')
    if 'argv' in spec and (isinstance(argv, (str, Mapping)) or not _is_sequence(argv) or len(argv) == 0
                           or not all(isinstance(item, str) for item in argv)):
        return 'argv must be a non-empty list of strings'
    if 'name' in spec and not _non_empty_string(spec['name']):
        return 'name must be a non-empty string'
    timeout = spec.get('timeout')
    if 'timeout' in spec and (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or timeout < 0):
        return 'timeout must be a number of seconds (0: no limit)'
    if 'check_mode_safe' in spec and not isinstance(spec['check_mode_safe'], bool):
        return 'check_mode_safe must be true or false'
    return None


def debug_bundle_command_errors(commands, variable=VARIABLE):
    """One message per bad command of ``commands``, ``<variable>[<index>]: <what is wrong>``, in order."""
    if isinstance(commands, (str, Mapping)) or not isinstance(commands, (list, tuple)):
        raise AnsibleFilterError('debug_bundle_command_errors: the input must be the list of commands (%s), got %s'
                                 % (variable, type(commands).__name__))
    errors = []
    for index, command in enumerate(commands):
        error = command_error(command)
        if error:
            errors.append('%s[%d]: %s' % (variable, index, error))
    return errors
