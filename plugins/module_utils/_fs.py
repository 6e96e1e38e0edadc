# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Leaf layer: reading files safely, naming file kinds, and resolving symbolic links under a host root.

``read_file`` is the one bounded reader of the collection: it opens without following a last-moment symbolic link
(unless asked to), never blocks on a FIFO (``O_NONBLOCK``), checks that what it opened is a regular file, and reads in
chunks up to a limit. ``resolve_under`` resolves the links of a host path as the host would (Go's
``filepath.EvalSymlinks`` with the host root as ``/``): an absolute target restarts at the root and ``..`` never
climbs above it. The callers turn the exceptions here into their own messages. Imports nothing of the collection.
"""

from __future__ import annotations

import errno
import os
import stat

O_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
O_DIRECTORY = getattr(os, 'O_DIRECTORY', 0)
O_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
O_NOCTTY = getattr(os, 'O_NOCTTY', 0)
READ_FLAGS = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | O_NOCTTY | O_CLOEXEC
CHUNK = 65536
# Linux's MAXSYMLINKS (40); Go's EvalSymlinks allows 255.
MAX_SYMLINKS = 40
GO_MAX_SYMLINKS = 255

_FILE_KINDS = (
    (stat.S_ISREG, 'a regular file'), (stat.S_ISDIR, 'a directory'), (stat.S_ISFIFO, 'a FIFO'),
    (stat.S_ISCHR, 'a character device'), (stat.S_ISBLK, 'a block device'), (stat.S_ISSOCK, 'a socket'),
    (stat.S_ISLNK, 'a symbolic link'),
)


class NotRegularFile(Exception):
    """What was opened is not a regular file; ``kind`` names what it is (file_kind)."""

    def __init__(self, kind):
        super(NotRegularFile, self).__init__(kind)
        self.kind = kind


class FileTooLarge(Exception):
    """The file holds more than ``limit`` bytes."""

    def __init__(self, limit):
        super(FileTooLarge, self).__init__(limit)
        self.limit = limit


class ResolveError(Exception):
    """A component of a host path is missing or unreadable (``errno``, the host path that failed), or there are too
    many links (ELOOP)."""

    def __init__(self, err, path):
        super(ResolveError, self).__init__(err, path)
        self.errno = err
        self.path = path


def file_kind(mode):
    """What a ``st_mode`` is, as a phrase: ``a regular file``, ``a directory``, ``a FIFO``, ``a socket``, ..."""
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return 'a file of another kind'


def open_file(path, follow=False, dir_fd=None):
    """A read-only descriptor of ``path`` that never blocks on a FIFO; a symbolic link as the last component is not
    followed unless ``follow`` (ELOOP then). OSError as ``os.open`` raises it."""
    return os.open(path, READ_FLAGS | (0 if follow else O_NOFOLLOW), dir_fd=dir_fd)


def read_fd(fd, limit):
    """The content of the open regular file ``fd`` (at most ``limit`` bytes; FileTooLarge beyond).

    NotRegularFile when ``fd`` is not a regular file; OSError from ``fstat`` and ``read`` is left to the caller.
    """
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(file_kind(st.st_mode))
    chunks = []
    size = 0
    while size <= limit:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise FileTooLarge(limit)
    return b''.join(chunks)


def read_file(path, limit, follow=False, dir_fd=None):
    """open_file then read_fd: the bytes of the regular file ``path``; OSError, NotRegularFile or FileTooLarge."""
    fd = open_file(path, follow=follow, dir_fd=dir_fd)
    try:
        return read_fd(fd, limit)
    finally:
        os.close(fd)


def local_path(host_root, host_path):
    """Where the host path ``host_path`` is on this machine, for a host whose root is ``host_root``."""
    return os.path.join(host_root or '/', host_path.lstrip('/'))


def resolve_under(host_root, host_path, strict=True, max_links=GO_MAX_SYMLINKS):
    """Resolve every symbolic link of the host path ``host_path`` inside ``host_root``; return the resolved host path.

    An absolute link target restarts at the root; ``..`` never climbs above it. ``strict``: a component that is
    missing or unreadable raises ResolveError (errno, host path that failed), as Go's EvalSymlinks; otherwise the rest
    of the path is joined as it is (still under the root). More than ``max_links`` links raise ResolveError(ELOOP).
    """
    host_root = host_root or '/'
    resolved = []
    pending = [part for part in reversed(host_path.split('/')) if part]
    links = 0
    while pending:
        part = pending.pop()
        if part == '.':
            continue
        if part == '..':
            if resolved:
                resolved.pop()
            continue
        candidate = resolved + [part]
        host_candidate = '/' + '/'.join(candidate)
        try:
            st = os.lstat(local_path(host_root, host_candidate))
        except OSError as exc:
            if strict:
                raise ResolveError(exc.errno, host_candidate)
            resolved = candidate
            for rest in reversed(pending):
                if rest == '..':
                    if resolved:
                        resolved.pop()
                elif rest != '.':
                    resolved.append(rest)
            break
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > max_links:
                raise ResolveError(errno.ELOOP, host_candidate)
            try:
                target = os.readlink(local_path(host_root, host_candidate))
            except OSError as exc:
                raise ResolveError(exc.errno, host_candidate)
            if target.startswith('/'):
                resolved = []
            pending.extend(part for part in reversed(target.split('/')) if part)
            continue
        resolved = candidate  # a non-directory followed by more components fails at the next lstat, as in Go
    return '/' + '/'.join(resolved)


def lstat_or_none(path):
    """``os.lstat(path)``, or None when nothing is there (ENOENT, ENOTDIR); other OSError is left to the caller."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def socket_problem(path):
    """Why ``path`` cannot be used as a unix socket (a phrase), or None when it is a unix socket itself.

    ``lstat`` is used: a symbolic link is refused rather than followed, so that a local user who can write to a
    directory on the way cannot redirect a request made as root. OSError other than "missing" is left to the caller.
    """
    if '\0' in path:
        return 'its path contains a NUL character'
    st = lstat_or_none(path)
    if st is None:
        return 'it does not exist'
    if stat.S_ISLNK(st.st_mode):
        return 'it is a symbolic link (not followed: the shim socket must be the socket itself)'
    if not stat.S_ISSOCK(st.st_mode):
        return 'it is %s, not a unix socket' % file_kind(st.st_mode)
    return None
