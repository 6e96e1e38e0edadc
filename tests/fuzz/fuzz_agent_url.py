# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the agent URL parser of kata_exec_cmd (_console._address.parse_agent_url) and the sandbox ID check (_sandbox): any text
gives an address or PeerError / ArgumentError; an address describes itself and its parts are in range."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import MAX_VSOCK_PORT, parse_agent_url
    from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, PeerError
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import (
        is_valid_sandbox_id,
        validate_sandbox_id,
    )

SEEDS = [
    b'vsock://3:1024',
    b'hvsock:///run/vc/firecracker/0123abcd/root/kata.hvsock:1024\n',
    b'HVSOCK:///run/vc/vm/x/clh.sock:1024',
    b'remote:///run/remote.sock',
    b'vsock://4294967295:4294967296',
]


def test_one_input(data):
    text = fuzzlib.text(data)
    for value in (data, text):
        try:
            address = parse_agent_url(value)
        except PeerError:
            continue
        if address.scheme not in ('vsock', 'hvsock') or not 0 <= address.port <= MAX_VSOCK_PORT:
            raise AssertionError('parse_agent_url(%r) gave %s port %r' % (value, address.scheme, address.port))
        if address.scheme == 'vsock' and not 0 <= address.cid <= MAX_VSOCK_PORT:
            raise AssertionError('cid out of range: %r' % address.cid)
        if address.scheme == 'hvsock' and not address.path.startswith('/'):
            raise AssertionError('hvsock path not absolute: %r' % address.path)
        address.describe(1026)
    try:
        validate_sandbox_id(text)
        valid = True
    except ArgumentError:
        valid = False
    if valid != is_valid_sandbox_id(text):
        raise AssertionError('validate_sandbox_id and is_valid_sandbox_id disagree on %r' % text)
    if valid and ('/' in text or text in ('.', '..') or '\0' in text):
        raise AssertionError('a sandbox ID that is not one path component was accepted: %r' % text)


fuzzlib.main(test_one_input, SEEDS)
