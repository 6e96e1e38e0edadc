# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one error hierarchy of the collection.

Every failure the logic in module_utils can foresee (bad input, a missing or malformed file, a peer that
misbehaves) is raised as a KataError subclass. Modules never catch anything else on purpose: the module runner in
_module.py turns a KataError into ``fail_json(msg=...)`` and anything unexpected into a ``fail_json`` with the
traceback attached as ``exception`` (shown only with -vvv), so no traceback reaches a user's screen.
"""

from __future__ import annotations


class KataError(Exception):
    """Base class. ``msg`` is the user-facing message; ``details`` are extra keys for the failed result."""

    def __init__(self, msg, **details):
        super(KataError, self).__init__(msg)
        self.msg = msg
        self.details = details


class ArgumentError(KataError):
    """An option value is invalid. The message names the option, the bad value and what was expected."""


class ConfigError(KataError):
    """A Kata configuration file is missing, unreadable or invalid. The message names the file (and key)."""


class ProbeError(KataError):
    """Reading the host (/proc, /sys, /etc, /dev) failed in a way that makes the result meaningless."""


class ReleaseCheckError(KataError):
    """The release check could not fetch or understand the releases document."""


class PeerError(KataError):
    """A peer (shim socket, debug console, VM cache server, release mirror) failed, timed out or lied."""


class ShimError(PeerError):
    """The shim management API failed. ``details`` carry ``url``, ``status`` and ``body`` when known."""


class MissingDependencyError(KataError):
    """An optional Python library is needed. ``library`` is the pip name, ``exception`` the import traceback."""

    def __init__(self, library, exception=None, reason=None):
        super(MissingDependencyError, self).__init__(
            'Failed to import the required Python library (%s)%s' % (library, ' ' + reason if reason else ''))
        self.library = library
        self.exception = exception
        self.reason = reason
