# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients layer (_console package): the agent URL the shim gives (``/agent-url``), parsed into where to dial."""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import PeerError

DEFAULT_DEBUG_PORT = 1026
MAX_VSOCK_PORT = 0xFFFFFFFF


class AgentAddress(object):
    """Where the agent listens, from the shim's ``/agent-url``: ``scheme`` (``vsock`` or ``hvsock``), ``cid`` (vsock),
    ``path`` (hvsock unix socket), ``port`` (the agent's own port, replaced by the debug port) and ``url``."""

    __slots__ = ('scheme', 'cid', 'path', 'port', 'url')

    def __init__(self, scheme, url, port, cid=None, path=None):
        self.scheme = scheme
        self.url = url
        self.port = port
        self.cid = cid
        self.path = path

    def describe(self, port):
        """The console endpoint as messages show it, e.g. ``vsock 1234:1026``, ``hvsock /run/.../kata.hvsock:1026``."""
        if self.scheme == 'vsock':
            return 'vsock %d:%d' % (self.cid, port)
        return 'hvsock %s:%d' % (self.path, port)


def _uint32(text):
    """Go's strconv.ParseUint(text, 10, 32), or None."""
    if not text or not text.isdigit() or not text.isascii():
        return None
    value = int(text)
    return value if value <= MAX_VSOCK_PORT else None


def parse_agent_url(text):
    """Parse the body of the shim's ``/agent-url`` like kata-runtime does, or raise PeerError saying what is wrong.

    ``vsock://<cid>:<port>`` and ``hvsock://<path>:<port>`` (``<path>`` absolute, e.g.
    ``hvsock:///run/vc/firecracker/<id>/root/kata.hvsock:1024``); the scheme is matched case-insensitively (Go's
    url.Parse lower-cases it); a trailing newline is ignored. Any other scheme (``remote:`` of kata 3.3+, ...) is
    refused: there is no debug console to reach through it.
    """
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    url = text[:-1] if text.endswith('\n') else text
    scheme, sep, rest = url.partition(':')
    if not sep or not scheme or not scheme[0].isalpha() or not all(c.isalnum() or c in '+-.' for c in scheme):
        raise PeerError('the agent URL %r has no scheme: expected vsock://<cid>:<port> or hvsock://<socket path>:<port>'
                        % url, agent_url=url)
    scheme = scheme.lower()
    if scheme not in ('vsock', 'hvsock'):
        raise PeerError('the agent URL %r has the scheme %r, which has no debug console this module can reach: '
                        'expected vsock or hvsock' % (url, scheme), agent_url=url)
    if not rest.startswith('//'):
        raise PeerError('invalid %s agent URL %r: expected %s://...' % (scheme, url, scheme), agent_url=url)
    authority, _slash, path = rest[2:].partition('/')
    if scheme == 'vsock':
        parts = authority.split(':')
        if len(parts) != 2 or path:
            raise PeerError('invalid vsock agent URL %r: expected vsock://<cid>:<port>' % url, agent_url=url)
        cid, port = _uint32(parts[0]), _uint32(parts[1])
        if cid is None or port is None:
            raise PeerError('invalid vsock agent URL %r: the CID and the port must be decimal numbers below 2^32' % url,
                            agent_url=url)
        return AgentAddress('vsock', url, port, cid=cid)
    parts = ('/' + path).split(':')
    if authority or len(parts) != 2 or parts[0] == '/':
        raise PeerError('invalid hvsock agent URL %r: expected hvsock://<absolute socket path>:<port>' % url,
                        agent_url=url)
    port = _uint32(parts[1])
    if port is None:
        raise PeerError('invalid hvsock agent URL %r: the port must be a decimal number below 2^32' % url, agent_url=url)
    return AgentAddress('hvsock', url, port, path=parts[0])
