# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis properties of the direct-volume codecs (_direct_volume) not covered by test_direct_volume.py (which has
the text path round trip): any byte path (not UTF-8 too) round trips through its directory name, which is always one
safe path component; mountInfo.json as written reads back as the same record; sizes written with any unit parse to
their byte count; and the stats query gives the device back after the shim's two unescapes (query parsing, then Go's
url.PathUnescape)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _direct_volume as dv
from ansible_collections.katacontainers.kata.plugins.module_utils import _mount_info as mi
from ansible_collections.katacontainers.kata.plugins.module_utils import _volume_store as vs

st = pytest.importorskip('hypothesis.strategies')

from hypothesis import HealthCheck, given, settings  # noqa: E402  pylint: disable=wrong-import-position

SETTINGS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SAFE = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=')
text = st.text(st.characters(blacklist_characters='\x00', blacklist_categories=('Cs',)), max_size=30)


@given(st.binary(min_size=1, max_size=189).filter(lambda b: b'\x00' not in b))
@SETTINGS
def test_property_any_byte_path_round_trips_as_one_safe_component(raw):
    path = os.fsdecode(raw)  # how a non-UTF-8 path reaches Python: surrogate escapes
    name = vs.encode_volume_path(path)
    assert set(name) <= SAFE and name not in ('.', '..') and len(name) <= vs.NAME_MAX
    assert os.path.dirname(os.path.join('/root', name)) == '/root'
    assert vs.decode_volume_name(name) == path
    assert os.fsencode(vs.decode_volume_name(name)) == raw
    assert vs.validate_volume_path(path) == path


@st.composite
def mount_infos(draw):
    value = {'volume_type': draw(text.filter(bool)), 'device': draw(text.filter(bool)), 'fstype': draw(text)}
    if draw(st.booleans()):
        metadata = draw(st.dictionaries(text.filter(bool), text, max_size=4))
        if draw(st.booleans()):
            metadata['fsGroup'] = str(draw(st.integers(0, mi.MAX_GID)))
            if draw(st.booleans()):
                metadata['fsGroupChangePolicy'] = draw(st.sampled_from(mi.FS_GROUP_CHANGE_POLICIES))
        value['metadata'] = metadata
    if draw(st.booleans()):
        value['options'] = draw(st.lists(text.filter(bool), max_size=4))
    return value


@given(mount_infos())
@SETTINGS
def test_property_mount_info_written_reads_back_the_same(value):
    info = mi.build_mount_info(value)
    data = mi.dump_mount_info(info)
    assert mi.parse_mount_info(data) == info
    assert mi.mount_info_option_form(mi.parse_mount_info(data)) == dict(
        volume_type=value['volume_type'], device=value['device'], fstype=value['fstype'],
        metadata=dict(value.get('metadata') or {}), options=list(value.get('options') or []))
    # Go's json.Marshal escapes these; a reader that does not unescape them would see other text.
    assert not set(data.decode('utf-8')) & set('<>&\u2028\u2029')


UNITS = [(u, m) for u, m in dv._SIZE_UNITS.items() if u]  # pylint: disable=protected-access


@given(st.integers(1, 2 ** 20), st.sampled_from(UNITS), st.sampled_from(['', 'B', 'b']), st.sampled_from(['', ' ']))
@SETTINGS
def test_property_sizes_with_units(number, unit, suffix, blank):
    name, multiplier = unit
    written = '%d%s%s%s' % (number, blank, name, suffix)
    if number * multiplier > dv.MAX_SIZE:
        with pytest.raises(dv.ArgumentError):
            dv.parse_size(written)
    else:
        assert dv.parse_size(written) == number * multiplier
    assert dv.parse_size(number) == number


@given(st.integers(1, 10 ** 6), st.integers(0, 999), st.sampled_from(UNITS))
@SETTINGS
def test_property_fractional_sizes_are_exact_or_refused(whole, thousandths, unit):
    name, multiplier = unit
    text_ = '%d.%03d%s' % (whole, thousandths, name)
    numerator = (whole * 1000 + thousandths) * multiplier
    if numerator % 1000 or numerator // 1000 > dv.MAX_SIZE:
        with pytest.raises(dv.ArgumentError):
            dv.parse_size(text_)
    else:
        assert dv.parse_size(text_) == numerator // 1000


@given(text.filter(bool))
@SETTINGS
def test_property_the_shim_reads_the_device_back(device):
    query = dv.stats_query(device)
    assert query.startswith('path=') and '&' not in query[5:] and '#' not in query
    value = parse_qs(query, keep_blank_values=True)['path'][0]
    assert unquote(value) == device
