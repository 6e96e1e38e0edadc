# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Leaf layer: the one validator of timeouts (seconds), with one message style for every option that takes one.

Imports nothing of the collection but _errors.
"""

from __future__ import annotations

import math

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError

# Larger timeouts overflow the C timeouts of sockets, poll and threads (OverflowError): one year is already absurd.
MAX_TIMEOUT = 365 * 86400.0
_REPR_LIMIT = 60


def _quoted(value):
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[:_REPR_LIMIT] + '...'


def check_timeout(value, option='timeout', allow_zero=False):
    """Return ``value`` as a float when it is a number of seconds greater than 0 (or 0 too, with ``allow_zero``) and
    at most MAX_TIMEOUT; else ArgumentError naming ``option`` and the bad value.

    Messages: ``<option>: expected a number of seconds greater than 0, got <value>`` (``of at least 0`` with
    ``allow_zero``) and ``<option>: <value> seconds is more than the 31536000 (365 days) a timeout may be``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 \
            or (value == 0 and not allow_zero):
        raise ArgumentError('%s: expected a number of seconds %s 0, got %s'
                            % (option, 'of at least' if allow_zero else 'greater than', _quoted(value)))
    if value > MAX_TIMEOUT:
        raise ArgumentError('%s: %s seconds is more than the %d (365 days) a timeout may be'
                            % (option, _quoted(value), MAX_TIMEOUT))
    return float(value)
