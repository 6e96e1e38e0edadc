# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Leaf layer: excerpts of values and peer output for messages (cut to a length, marked with ``...`` when cut).

Every message that quotes user input or what a peer sent goes through these, so a hostile or huge value never makes
a huge message. Imports nothing of the collection.
"""

from __future__ import annotations

import re

REPR_LIMIT = 60
_ESCAPE_SEQUENCE = re.compile(r'\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])')


def cut(text, limit):
    """The first ``limit`` characters of ``text``, followed by ``...`` when it was longer."""
    return text if len(text) <= limit else text[:limit] + '...'


def short_repr(value, limit=REPR_LIMIT):
    """``repr(value)`` cut to ``limit`` characters, for messages that quote user input."""
    return cut(repr(value), limit)


def one_line(data, limit):
    """Bytes or text with every run of white space folded to one space, cut to ``limit`` characters."""
    text = data.decode('utf-8', 'replace') if isinstance(data, bytes) else str(data)
    return cut(' '.join(text.split()), limit)


def body_excerpt(body, limit):
    """A body as text for a message: UTF-8 with replacement characters, trailing white space removed, cut to
    ``limit`` characters (with a note saying how long it was). None stays None."""
    if body is None:
        return None
    text = body.decode('utf-8', 'replace') if isinstance(body, bytes) else str(body)
    text = text.rstrip()
    if len(text) > limit:
        text = '%s... (%d bytes in all)' % (text[:limit], len(body))
    return text


def terminal_tail(data, limit):
    """What a terminal sent, as text for a message: escape sequences dropped, control bytes escaped, the last
    ``limit`` characters (marked with a leading ``...`` when cut)."""
    text = _ESCAPE_SEQUENCE.sub('', bytes(data).decode('utf-8', 'replace'))
    text = text.replace('\r\n', '\n').replace('\r', '\n')
    text = ''.join(c if c == '\n' or c >= ' ' and c != '\x7f' else '\\x%02x' % ord(c) for c in text).strip()
    if len(text) > limit:
        text = '...' + text[-limit:]
    return text
