# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the direct-volume codecs (_volume_store, _mount_info, _direct_volume): the path encoding round trip (any bytes, one safe path component),
directory names kata may or may not have written, mountInfo.json as kata reads it (and what it writes back), size
strings, and the stats query the shim unescapes twice."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _direct_volume as dv
    from ansible_collections.katacontainers.kata.plugins.module_utils import _mount_info as mi
    from ansible_collections.katacontainers.kata.plugins.module_utils import _volume_store as vs
    from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError

SAFE = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=')
SEEDS = [
    b'/var/lib/kubelet/pv/pvc-1/globalmount',
    b'{"volume-type":"block","device":"/dev/sdb","fstype":"ext4","metadata":{"fsGroup":"2000"},"options":["ro"]}',
    b'{"Volume-Type": "x", "DEVICE": null, "metadata": {"a": null}, "options": [null]}',
    b'10Gi', b'1.5k', b'L2EvYg==',
]


def test_one_input(data):
    path = os.fsdecode(data)
    if data and b'\0' not in data:
        name = vs.encode_volume_path(path)
        if not set(name) <= SAFE or name in ('.', '..') or vs.decode_volume_name(name) != path:
            raise AssertionError('encoding round trip broke for %r' % data)
    text = fuzzlib.text(data)
    try:
        vs.decode_volume_name(text)
    except ValueError:
        pass
    try:
        info = mi.parse_mount_info(data)
    except ValueError:
        info = None
    if info is not None:
        if mi.parse_mount_info(mi.dump_mount_info(info)) != info:
            raise AssertionError('mountInfo.json written back reads differently: %r' % (info,))
        mi.render_mount_info(info)
    try:
        size = dv.parse_size(text)
    except ArgumentError:
        size = None
    if size is not None and not 1 <= size <= dv.MAX_SIZE:
        raise AssertionError('size out of range: %r -> %r' % (text, size))
    if text and '\0' not in text:
        query = dv.stats_query(text)
        value = parse_qs(query, keep_blank_values=True).get('path', [''])[0]
        if unquote(value, errors='surrogateescape') != text and '\ufffd' not in text:
            raise AssertionError('the shim would read %r back as %r' % (text, unquote(value)))


fuzzlib.main(test_one_input, SEEDS)
