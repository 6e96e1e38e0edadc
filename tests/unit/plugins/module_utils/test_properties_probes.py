# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis properties of the host-file parsers of _probes: /proc/cpuinfo (first block, flags, running in a VM),
os-release (kata's distro rule) and /proc/meminfo.

Structured inputs are generated in the shape of the real files (blocks of ``key\\t: value`` lines, ``KEY=value``
lines, ``Key: number kB`` lines) with the freedoms the files have, and the parsers must give back what was generated;
arbitrary text must never make them fail with anything but their documented error.
"""

from __future__ import annotations

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _probes
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ProbeError

st = pytest.importorskip('hypothesis.strategies')

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402  pylint: disable=wrong-import-position

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

word = st.text('abcdefghijklmnopqrstuvwxyz0123456789_', min_size=1, max_size=12)
flag_words = st.lists(word | st.sampled_from(['hypervisor', 'vmx', 'svm', 'lm']), min_size=0, max_size=30)
# Values of cpuinfo lines: no newline and no colon (kata splits at colons).
value = st.text(st.characters(blacklist_characters='\n:', blacklist_categories=('Cs',)), max_size=30)
keys = st.sampled_from(['processor', 'vendor_id', 'cpu family', 'model', 'model name', 'stepping', 'microcode',
                        'cpu MHz', 'cache size', 'bogomips', 'vmx flags', 'bugs', 'power management'])


@st.composite
def cpu_blocks(draw):
    """A /proc/cpuinfo text of 1 to 4 processor blocks; returns (text, first block lines, flags of each block (None
    for a block without a flags line))."""
    blocks = []
    all_flags = []
    for index in range(draw(st.integers(1, 4))):
        lines = ['processor\t: %d' % index]
        lines += ['%s\t: %s' % (draw(keys), draw(value).strip()) for dummy in range(draw(st.integers(0, 6)))]
        flags = draw(flag_words)
        if draw(st.booleans()):
            lines.insert(draw(st.integers(1, len(lines))), 'flags\t\t: %s' % ' '.join(flags))
            all_flags.append(flags)
        else:
            all_flags.append(None)
        blocks.append(lines)
    text = '\n\n'.join('\n'.join(lines) for lines in blocks) + '\n' * draw(st.integers(0, 3))
    return text, blocks[0], all_flags


@given(cpu_blocks())
@SETTINGS
def test_property_first_block_and_its_flags(case):
    text, first, all_flags = case
    flags = all_flags[0]
    block = _probes.first_cpu_block(text)
    assert block == '\n'.join(first).strip()
    assert _probes.cpu_flags(block) == (' '.join(flags) if flags is not None else '')
    for flag in flags or ():
        assert _probes.has_word(block, flag)
    # kata's RunningOnVMM reads the first flags line of the whole text, even one without any flag.
    first_line = next((f for f in all_flags if f is not None), None)
    assert _probes.running_in_vm('amd64', text) == ('hypervisor' in (first_line or ()))
    assert _probes.running_in_vm('arm64', text) is False


@given(st.lists(word, min_size=1, max_size=10), st.sampled_from(['vmx flags', 'flags2', 'flagsx']))
@SETTINGS
def test_property_only_the_flags_line_counts(flags, other):
    # "vmx flags" (Intel) does not start with "flags"; "flags2" does, and kata takes it (the first such line).
    text = 'processor\t: 0\n%s\t: %s\nflags\t\t: %s\n' % (other, ' '.join(reversed(flags)), ' '.join(flags))
    expected = ' '.join(reversed(flags)) if other.startswith('flags') else ' '.join(flags)
    assert _probes.cpu_flags(_probes.first_cpu_block(text)) == expected


@given(st.text(max_size=400))
@SETTINGS
def test_property_any_text_gives_a_block_or_probe_error(text):
    try:
        block = _probes.first_cpu_block(text)
    except ProbeError:
        assert not text.split('\n\n', 1)[0].strip()
        return
    assert block and '\n\n' not in block and block == block.strip()
    flags = _probes.cpu_flags(block)
    assert ':' not in flags and flags == flags.strip()
    _probes.arch_from_cpuinfo(text)
    _probes.power_generation(text)
    for arch in _probes.ARCHITECTURES:
        try:
            vendor, model = _probes.cpu_vendor_model(arch, block, text)
        except ProbeError:
            continue
        assert isinstance(vendor, str) and isinstance(model, str)


# -- os-release -------------------------------------------------------------------------------------------------------

os_value = st.text(st.characters(blacklist_characters='\n="', blacklist_categories=('Cs',)), max_size=20)
other_keys = st.sampled_from(['ID', 'PRETTY_NAME', 'VERSION', 'ID_LIKE', 'HOME_URL', 'VERSION_CODENAME', '# NAME'])


@st.composite
def os_release(draw):
    """Lines in any order; NAME and VERSION_ID possibly missing, empty, repeated, quoted or not. Returns the text and
    the first non-empty NAME and VERSION_ID values."""
    lines = []
    first = {}
    for dummy in range(draw(st.integers(0, 10))):
        key = draw(st.sampled_from(['NAME', 'VERSION_ID']) | other_keys)
        raw = draw(os_value)
        quoted = draw(st.booleans())
        lines.append('%s=%s' % (key, '"%s"' % raw if quoted else raw))
        if key in ('NAME', 'VERSION_ID') and key not in first and raw:
            first[key] = raw
    return '\n'.join(lines) + '\n', first


@given(os_release())
@SETTINGS
def test_property_os_release_first_values_quotes_trimmed(case):
    text, first = case
    name, version = _probes.parse_os_release(text)
    # kata's rule: the first line with the key and a non-empty value wins; none at all is unknown.
    assert name == (first.get('NAME') or '<<unknown>>')
    assert version == (first.get('VERSION_ID') or '<<unknown>>')


@given(st.text(max_size=300))
@SETTINGS
def test_property_os_release_any_text(text):
    name, version = _probes.parse_os_release(text)
    assert name and version and '\n' not in name + version
    assert '=' not in name + version


# -- meminfo ----------------------------------------------------------------------------------------------------------

kib = st.integers(0, 2 ** 62)


@given(st.fixed_dictionaries({}, optional={'MemTotal': kib, 'MemFree': kib, 'MemAvailable': kib}),
       st.lists(st.tuples(st.sampled_from(['Buffers', 'Cached', 'SwapTotal', 'HugePages_Total', 'DirectMap4k']), kib),
                max_size=8),
       st.randoms())
@SETTINGS
def test_property_meminfo_values_in_any_order(wanted, others, rnd):
    lines = ['%s:%s%d kB' % (key, ' ' * rnd.randint(1, 12), number) for key, number in list(wanted.items()) + others]
    rnd.shuffle(lines)
    result = _probes.parse_meminfo('\n'.join(lines) + '\n')
    assert result == {'total': wanted.get('MemTotal', 0), 'free': wanted.get('MemFree', 0),
                      'available': wanted.get('MemAvailable', 0)}


@given(st.text(max_size=300))
@SETTINGS
def test_property_meminfo_any_text_gives_non_negative_integers(text):
    result = _probes.parse_meminfo(text)
    assert sorted(result) == ['available', 'free', 'total']
    assert all(isinstance(v, int) and v >= 0 for v in result.values())


@given(st.sampled_from(['MemTotal', 'MemFree', 'MemAvailable']),
       st.text(st.characters(whitelist_categories=('Nd', 'No')), min_size=1, max_size=6))
@SETTINGS
def test_property_meminfo_only_ascii_digits_are_numbers(key, digits):
    assume(not digits.isascii())
    result = _probes.parse_meminfo('%s: %s kB\n' % (key, digits))
    assert result == {'total': 0, 'free': 0, 'available': 0}
