# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the unit tests need from ansible-core, the same on every supported version (2.15 to the newest).

* ``patch_module_args(args)``: ansible-core 2.19's ``ansible.module_utils.testing.patch_module_args``; before 2.19,
  the same by setting ``ansible.module_utils.basic._ANSIBLE_ARGS``, which ``AnsibleModule`` reads its arguments from.
* ``set_controller_context(monkeypatch, value)``: ansible-core 2.19 keeps a process-wide flag
  (``ansible.module_utils._internal.is_controller``) that sends module_utils' warnings to the controller's display once
  any controller code has been imported; tests put it where they need it. Before 2.19 there is no such flag (warnings
  always go to the module result), so there is nothing to set.
* ``reset_module_warnings(monkeypatch)``: an empty store of module warnings for one test (a dict since 2.19, a list
  before).
"""

from __future__ import annotations

import contextlib
import json

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

try:
    from ansible.module_utils import _internal
except ImportError:  # ansible-core < 2.19
    _internal = None

try:
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=unused-import
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose the given module args to ``AnsibleModule`` instances created within this context."""
        if not isinstance(args, (dict, type(None))):
            raise TypeError('The `args` arg must be a dict or None.')
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}).encode('utf-8')
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

HAS_CONTROLLER_FLAG = _internal is not None


def set_controller_context(monkeypatch, value):
    """Run the current test in the controller (``True``) or the module (``False``) context of ansible-core 2.19+."""
    if HAS_CONTROLLER_FLAG:
        monkeypatch.setattr(_internal, 'is_controller', value)


def force_module_context():
    """Leave the controller context for good (after collection, see tests/unit/controller_tests.py)."""
    if HAS_CONTROLLER_FLAG:
        _internal.is_controller = False


def reset_module_warnings(monkeypatch):
    """An empty store of module warnings for the current test."""
    monkeypatch.setattr(ansible_warnings, '_global_warnings', type(ansible_warnings._global_warnings)())
