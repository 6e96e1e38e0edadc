# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_direct_volume: the wanted record (through _volume_store), and the volume's stats and resize through
the shim.

The records are kata's (see _volume_store for the on-disk format and where this module differs from kata-runtime on
purpose); sizes are parsed here, and stats and resize go to the shim of the sandbox that uses the volume
(``/direct-volume/stats`` and ``/direct-volume/resize`` of kata-containers 3.0.0
``src/runtime/pkg/containerd-shim-v2/shim_management.go``). A device containing ``%``, ``+`` or ``&`` is encoded so
that the shim's two unescapes give it back (kata's single ``url.PathEscape`` does not).
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    KataError,
    ShimError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._mount_info import (
    MOUNT_INFO_FILE,
    build_mount_info,
    mount_info_option_form,
    render_mount_info,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr as _short
from ansible_collections.katacontainers.kata.plugins.module_utils._volume_store import (
    DEFAULT_VOLUME_ROOT,
    check_mount_source,
    ensure_absent,
    ensure_present,
    validate_volume_path,
    volume_directory,
)

MAX_SIZE = 2 ** 64 - 1  # kata's --size is a uint64
STATS_URL = '/direct-volume/stats'
RESIZE_URL = '/direct-volume/resize'
UNIT_BYTES = 1

# Sizes: a number (decimal fraction allowed) and an optional unit; binary units are powers of 1024 (Ki, Mi, ...),
# the others powers of 1000 (k or K, M, G, ...) like Kubernetes quantities; an optional trailing B is ignored.
_SIZE_RE = re.compile(r'^([0-9]+)(?:\.([0-9]+))?\s*([kKMGTPE]i?)?[bB]?$')
_SIZE_UNITS = {None: 1}
for _index, _letter in enumerate('KMGTPE'):
    _SIZE_UNITS[_letter] = 1000 ** (_index + 1)
    _SIZE_UNITS[_letter + 'i'] = 1024 ** (_index + 1)
_SIZE_UNITS['k'] = 1000
_SIZE_UNITS['ki'] = 1024


# --------------------------------------------------------------------------------------------------------------------
# Sizes


def parse_size(value, option='size'):
    """Bytes (an int, 1 to 2**64-1) from an int or a size string.

    Strings: a number (a decimal fraction is allowed when the result is a whole number of bytes) and an optional
    unit: ``Ki Mi Gi Ti Pi Ei`` are powers of 1024, ``k``/``K M G T P E`` powers of 1000 (as in Kubernetes
    quantities), and a trailing ``B`` is allowed (``512MiB``, ``10GB``). ``10Gi`` is 10737418240, ``10G`` 10000000000.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ArgumentError('%s: expected a number of bytes or a size string like 10Gi, got %s %s'
                            % (option, type(value).__name__, _short(value)))
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE_RE.match(value.strip())
        if not match:
            raise ArgumentError('%s: invalid size %s: expected a number of bytes, optionally with a unit (Ki, Mi, Gi, '
                                'Ti, Pi, Ei for powers of 1024; k, M, G, T, P, E for powers of 1000), like 10Gi or '
                                '512M' % (option, _short(value)))
        whole, fraction, unit = match.groups()
        multiplier = _SIZE_UNITS[unit if unit in _SIZE_UNITS else unit[0].upper() + unit[1:]]
        # Zeros that do not change the value go first; what is left of a thousand digits or more is out of range (or
        # not a whole number of bytes), and Python refuses to convert such long digit strings to int at all.
        whole = whole.lstrip('0') or '0'
        fraction = (fraction or '').rstrip('0')
        if len(whole) + len(fraction) > 1000:
            raise ArgumentError('%s: the size %s is out of range: expected 1 to %d bytes' % (option, _short(value), MAX_SIZE))
        numerator = int(whole + fraction) * multiplier
        denominator = 10 ** len(fraction)
        if numerator % denominator:
            raise ArgumentError('%s: the size %s is not a whole number of bytes' % (option, _short(value)))
        size = numerator // denominator
    if not 1 <= size <= MAX_SIZE:
        raise ArgumentError('%s: the size %s is out of range: expected 1 to %d bytes' % (option, _short(value), MAX_SIZE))
    return size


# --------------------------------------------------------------------------------------------------------------------
# Stats and resize through the shim


def stats_query(device):
    """The query string of ``/direct-volume/stats`` for ``device``: ``path=`` and Go's ``url.PathEscape`` of it, as
    kata-runtime sends. The shim unescapes it twice (query parsing, then ``PathUnescape``), so a device containing
    ``%``, ``+`` or ``&`` (which kata's encoding loses) is escaped a second time."""
    from urllib.parse import quote

    value = quote(device, safe="$&+:=@")
    if any(c in device for c in '%+&'):
        value = quote(value, safe='$:=@')
    return 'path=' + value


# runtime-rs answers the stats with the Rust Debug form of the agent's answer, not JSON:
# 4.1.0 src/runtime-rs/crates/agent/src/kata/trans.rs, From<csi::VolumeStatsResponse>:
#   format!("Usage: {:?} Volume Condition: {:?}", from.usage(), from.volume_condition())
# i.e. "Usage: [VolumeUsage { available: 1, total: 2, used: 1, unit: BYTES, special_fields: ... }, ...] Volume
# Condition: VolumeCondition { abnormal: false, message: \"OK\", special_fields: ... }" (rust-protobuf 3 messages
# derive Debug; an enum value prints its name, an unknown one its number).
_RUST_USAGE_RE = re.compile(r'VolumeUsage \{ available: (\d+), total: (\d+), used: (\d+), unit: ([A-Z_]+|-?\d+)')
_RUST_CONDITION_RE = re.compile(r'VolumeCondition \{ abnormal: (true|false), message: "((?:[^"\\]|\\.)*)"')
_RUST_UNITS = {'UNKNOWN': 0, 'BYTES': UNIT_BYTES, 'INODES': 2}
_RUST_ESCAPES = {'n': '\n', 'r': '\r', 't': '\t', '\\': '\\', '"': '"', "'": "'", '0': '\0'}


def _rust_unescape(text):
    """A Rust Debug string literal's content as text (escapes \\n \\t \\" \\\\ \\u{...} ...)."""
    return re.sub(r'\\(u\{([0-9a-fA-F]{1,6})\}|.)',
                  lambda m: chr(int(m.group(2), 16)) if m.group(2) else _RUST_ESCAPES.get(m.group(1), m.group(1)), text)


def parse_rust_stats(text):
    """runtime-rs's stats answer (see above) as the Go shim's JSON would give it: ``{'usage': [{available, total,
    used, unit}], 'volume_condition': {abnormal, message}}``; ValueError when it is not in that form."""
    if not text.startswith('Usage: [') or ' Volume Condition: ' not in text:
        raise ValueError('it does not start with "Usage: [" and name a "Volume Condition"')
    usage = [{'available': int(a), 'total': int(t), 'used': int(u), 'unit': _RUST_UNITS.get(unit, None)
              if not unit.lstrip('-').isdigit() else int(unit)}
             for a, t, u, unit in _RUST_USAGE_RE.findall(text.split(' Volume Condition: ', 1)[0])]
    condition = _RUST_CONDITION_RE.search(text.split(' Volume Condition: ', 1)[1])
    if condition is None:
        raise ValueError('its "Volume Condition" is not a VolumeCondition { abnormal, message }')
    return {'usage': usage, 'volume_condition': {'abnormal': condition.group(1) == 'true',
                                                 'message': _rust_unescape(condition.group(2))}}


def _rust_volume_stats(client, device):
    """runtime-rs (3.2.0 to 4.1.0 shim_mgmt/handlers.rs): POST only; the query is read with
    ``Url::parse(&req.uri().to_string())``, which fails for the usual origin-form target (a relative URL), so the
    request goes out in absolute form; ``path`` (form-decoded once) goes to the agent unchanged as the guest path
    (``virt_container/src/sandbox.rs`` ``direct_volume_stats``): no host-to-guest mapping as in the Go shim."""
    query = {'path': device}
    try:
        response = client.request('POST', STATS_URL, query=query, absolute_form=True)
    except ShimError as exc:
        if not exc.details.get('handler_failed'):
            raise
        raise ShimError('%s. runtime-rs hands the path it is given to the agent unchanged as the path of the volume '
                        'inside the guest, and kata\'s record names the host device %s, which the guest sees under '
                        'another path: the agent then cannot open it' % (exc.msg, device), **exc.details) from None
    body = client.expect_ok(response)
    try:
        return parse_rust_stats(body.decode('utf-8', 'replace'))
    except ValueError as exc:
        raise ShimError('the runtime-rs shim answered POST %s with text that is not its stats form: %s'
                        % (STATS_URL, exc), url=response.url, status=200, body=body[:2048].decode('utf-8', 'replace'))


def volume_stats(client, device):
    """The guest's stats of the volume whose host device is ``device``: the shim's answer, parsed (JSON from the Go
    shim, runtime-rs's text form converted to the same shape)."""
    if client.runtime == 'rust':
        return _rust_volume_stats(client, device)
    response = client.request('GET', STATS_URL, query=stats_query(device))
    if client.learn_runtime(response) == 'rust':
        # An explicit shim_socket of runtime-rs, which serves the stats with POST only.
        return _rust_volume_stats(client, device)
    body = client.expect_ok(response)
    try:
        stats = json.loads(body.decode('utf-8'))
    except RecursionError:
        raise ShimError('the shim answered GET %s with JSON nested too deeply to be read' % STATS_URL,
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=None) from None
    except ValueError as exc:
        raise ShimError('the shim answered GET %s with something that is not JSON: %s' % (STATS_URL, exc),
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=body[:2048].decode('utf-8', 'replace'))
    if not isinstance(stats, dict):
        raise ShimError('the shim answered GET %s with JSON that is not an object' % STATS_URL,
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=None)
    return stats


def bytes_total(stats):
    """The total bytes the guest reports (the usage entry with unit 1, BYTES), or None."""
    for usage in stats.get('usage') or []:
        if isinstance(usage, dict) and usage.get('unit') in (UNIT_BYTES, 'BYTES'):
            total = usage.get('total', 0)
            if isinstance(total, int) and not isinstance(total, bool):
                return total
    return None


def resize_volume(client, device, size, sandbox_id=None):
    """POST kata's resize request for ``device`` (``{"VolumePath": device, "Size": size}``).

    kata 3.0.0's agent does not implement ResizeVolume (the shim answers 500 ``... is not supported``; 4.0.0 says
    ``not implemented``): that is reported as such.
    """
    where = 'sandbox %s' % sandbox_id if sandbox_id else 'the sandbox'
    if client.runtime == 'rust':
        # runtime-rs deserialises agent::ResizeVolumeRequest (4.1.0 src/runtime-rs/crates/agent/src/types.rs) with
        # serde_json: the field names are volume_guest_path and size, both required.
        body = {'volume_guest_path': device, 'size': size}
    else:
        body = {'VolumePath': device, 'Size': size}
    try:
        response = client.request('POST', RESIZE_URL, body=json.dumps(body, separators=(',', ':')),
                                  content_type='application/json')
    except ShimError as exc:
        if not exc.details.get('handler_failed'):
            raise
        raise ShimError('cannot resize %s to %d bytes in %s: %s. The Kata agent does not implement ResizeVolume '
                        '(3.x answers "not supported", 4.0.0 to at least 4.1.0 "resize_volume is not implemented in '
                        'kata-agent"), and runtime-rs hands the path to the agent unchanged as a guest path'
                        % (device, size, where, exc.msg), **exc.details) from None
    if response.status == 200:
        return
    text = response.body.decode('utf-8', 'replace').strip()
    if response.status == 500 and ('not supported' in text or 'not implemented' in text.lower()):
        raise ShimError('cannot resize %s to %d bytes: the Kata agent of %s does not support resizing volumes '
                        '(kata-agent 3.0.0 up to at least 4.0.0 does not implement ResizeVolume); the agent said: %s'
                        % (device, size, where, text), url=response.url, status=response.status, body=text)
    raise ShimError('cannot resize %s to %d bytes in %s: POST %s answered HTTP %d: %s'
                    % (device, size, where, RESIZE_URL, response.status, text or '(empty body)'),
                    url=response.url, status=response.status, body=text)


# --------------------------------------------------------------------------------------------------------------------
# The module


def _diff(before, after, directory):
    path = os.path.join(directory, MOUNT_INFO_FILE)

    def text(state):
        if state is None or state['entry'] != 'directory':
            return ''
        if state['mount_info_state'] == 'valid':
            return render_mount_info(state['mount_info'])
        return (state['raw'] or '').rstrip('\n') + '\n' if state['raw'] else ''

    def header(state):
        if state is None or state['entry'] == 'missing':
            return '%s (absent)' % path
        if state['entry'] == 'other':
            return '%s (not a directory)' % directory
        modes = 'directory mode %s' % ('%04o' % state['dir_mode'] if state['dir_mode'] is not None else '-')
        if state['file_mode'] is not None:
            modes += ', file mode %04o' % state['file_mode']
        return '%s (%s)' % (path, modes)
    return {'before': text(before), 'after': text(after), 'before_header': header(before), 'after_header': header(after)}


def _attached_client(module, sandbox_id, directory):
    from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import is_valid_sandbox_id, shim_client

    if not is_valid_sandbox_id(sandbox_id):
        raise KataError('the sandbox recorded for the volume, the entry %r in %s, is not a valid sandbox ID'
                        % (sandbox_id, directory), path=directory)
    return shim_client(module.params, sandbox_id)


def _stats_and_resize(module, sandbox_id, directory, device, size, result, diffs):
    """Read the guest's stats of the volume; grow it when ``size`` is larger than its total (not in check mode).
    Returns the stats (read again after a resize). Sets ``result['changed']`` and adds the size diff when growing."""
    client = _attached_client(module, sandbox_id, directory)
    stats = volume_stats(client, device)
    if size is None:
        return stats
    total = bytes_total(stats)
    if total is None:
        raise ShimError('cannot decide whether to resize %s: the guest reported no byte usage for it' % device,
                        url=client.url(STATS_URL, stats_query(device)), status=200, body=None)
    if total >= size:
        return stats
    result['changed'] = True
    diffs.append({'before': 'size: %d\n' % total, 'after': 'size: %d\n' % size,
                  'before_header': '%s (guest file system size)' % device,
                  'after_header': '%s (guest file system size)' % device})
    if module.check_mode:
        return stats
    resize_volume(client, device, size, sandbox_id)
    return volume_stats(client, device) if module.params['stats'] else stats


def direct_volume_module(module):
    """The work of the kata_direct_volume module: returns its result dict."""
    p = module.params
    if p['state'] == 'absent':
        # Any record kata-runtime (or an earlier version of this module) may have written can be removed.
        volume_path = validate_volume_path(p['volume_path'])
    else:
        volume_path = check_mount_source(p['volume_path'])
    volume_root = p['volume_root'] or DEFAULT_VOLUME_ROOT
    if '\0' in volume_root:
        raise ArgumentError('volume_root: invalid path %s: it contains a NUL character' % _short(volume_root))
    directory = volume_directory(volume_root, volume_path)
    result = {'changed': False}

    if p['state'] == 'absent':
        outcome = ensure_absent(volume_root, volume_path, check_mode=module.check_mode)
        before = outcome['before']
        if outcome['changed'] and before['sandbox_id']:
            module.warn('the removed volume %s was recorded as used by sandbox %s; its record is gone, the volume '
                        'itself stays attached to the running sandbox' % (volume_path, before['sandbox_id']))
        result['changed'] = outcome['changed']
        result['volume'] = {'volume_path': volume_path, 'directory': directory, 'mount_info': None, 'sandbox_id': None}
        if module._diff:  # pylint: disable=protected-access
            result['diff'] = _diff(before, None, directory)
        return result

    if p['mount_info'] is None:
        raise ArgumentError('mount_info is required with state=present')
    wanted = build_mount_info(p['mount_info'])
    size = parse_size(p['size']) if p['size'] is not None else None

    outcome = ensure_present(volume_root, volume_path, wanted, check_mode=module.check_mode)
    after = outcome['after']
    result['changed'] = outcome['changed']
    sandbox_id = after['sandbox_id']
    volume = {'volume_path': volume_path, 'directory': directory, 'mount_info': mount_info_option_form(wanted),
              'sandbox_id': sandbox_id}
    diffs = [_diff(outcome['before'], after, directory)]

    if (p['stats'] or size is not None) and sandbox_id is None:
        if size is not None:
            module.warn('size is not applied: no sandbox uses the volume %s yet, and only a sandbox can resize it'
                        % volume_path)
        if p['stats']:
            volume['stats'] = None
    elif p['stats'] or size is not None:
        try:
            volume['stats'] = _stats_and_resize(module, sandbox_id, directory, wanted['device'], size, result, diffs)
        except KataError as exc:
            # The record may have been written already (a resize that failed changed nothing): say so.
            exc.details.setdefault('changed', outcome['changed'])
            exc.details.setdefault('volume', volume)
            raise
        if not p['stats']:
            del volume['stats']
    result['volume'] = volume
    if module._diff:  # pylint: disable=protected-access
        result['diff'] = diffs[0] if len(diffs) == 1 else diffs
    return result
