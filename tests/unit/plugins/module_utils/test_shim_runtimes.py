# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shim client against the simulated node's two runtimes: the Go shim and runtime-rs (4.1.0
src/runtime-rs/crates/runtimes/src/shim_mgmt/handlers.rs): methods, 404 URL NOT FOUND, the dropped connection."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _direct_volume as dv
from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ShimError
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import shim_client
from ansible_collections.katacontainers.kata.plugins.module_utils._shim_client import ShimClient
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils.podnode_testlib import PodNode

try:
    import requests_unixsocket  # noqa: F401  pylint: disable=unused-import
    TRANSPORTS = ['stdlib', 'requests']
except ImportError:
    TRANSPORTS = ['stdlib']

RULES = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.9.8.7/32 -j DROP\nCOMMIT\n'
BAD_RULES = '*filter\n-A INPUT -j DROP\n'  # no COMMIT: iptables-restore refuses it (the agent's error)


@pytest.fixture(scope='module')
def node():
    started = PodNode(extra=['--agent', 'rs-db=4.0.0'])
    yield started
    started.stop()


@pytest.fixture(params=TRANSPORTS)
def transport(request):
    return request.param


def client(node, sandbox_id, transport='stdlib', **kwargs):
    return shim_client(node.params(transport=transport, timeout=5), sandbox_id, **kwargs)


def device_for(node, sandbox_id, tmp_path, name):
    device = str(tmp_path / name)
    open(device, 'w').close()
    return device, node.attach(sandbox_id, device)['guest_path']


def test_the_socket_location_says_the_runtime(node):
    assert (client(node, 'go-web').runtime, client(node, 'rs-api').runtime) == ('go', 'rust')
    assert client(node, 'rs-api').sandbox_id == 'rs-api'


@pytest.mark.parametrize('method, path', [('GET', '/direct-volume/stats'), ('GET', '/direct-volume/resize'),
                                          ('POST', '/agent-url'), ('PUT', '/metrics'), ('DELETE', '/iptables'),
                                          ('GET', '/nothing-here')])
def test_runtime_rs_answers_404_url_not_found(node, transport, method, path):
    response = client(node, 'rs-api', transport).request(method, path)
    assert (response.status, response.body) == (404, b'URL NOT FOUND')
    assert 'content-type' not in response.headers


def test_learn_runtime_from_a_404(node):
    rs = ShimClient(node.socket('rs-api'))
    go = ShimClient(node.socket('go-web'))
    assert rs.runtime is None and go.runtime is None
    assert rs.learn_runtime(rs.request('GET', '/x')) == 'rust'
    assert go.learn_runtime(go.request('GET', '/x')) == 'go'
    # A 200 teaches nothing.
    other = ShimClient(node.socket('rs-api'))
    assert other.learn_runtime(other.request('GET', '/agent-url')) is None


def test_stats_go_shim_is_get_and_json(node, tmp_path):
    device, guest = device_for(node, 'go-web', tmp_path, 'dev-go')
    stats = dv.volume_stats(client(node, 'go-web'), device)
    st = os.statvfs(guest)
    assert stats['usage'][0]['total'] == st.f_blocks * st.f_bsize and stats['usage'][0]['unit'] == 1
    entry = [e for e in node.log() if e['sandbox'] == 'go-web' and e['path'] == '/direct-volume/stats'][-1]
    assert (entry['method'], entry['status']) == ('GET', 200)


def test_stats_runtime_rs_is_an_absolute_form_post(node, transport, tmp_path):
    _device, guest = device_for(node, 'rs-api', tmp_path, 'dev-rs-%s' % transport)
    # The path goes to the agent unchanged as the guest path: with the guest mount point the agent answers.
    stats = dv.volume_stats(client(node, 'rs-api', transport), guest)
    st = os.statvfs(guest)  # the free counts move with the file system: only the totals are stable
    usage = stats['usage'][0]
    assert (usage['total'], usage['unit']) == (st.f_blocks * st.f_bsize, 1)
    assert usage['available'] + usage['used'] == usage['total'] and usage['available'] % st.f_bsize == 0
    assert stats['usage'][1]['unit'] == 2 and stats['usage'][1]['total'] == st.f_files
    assert stats['volume_condition'] == {'abnormal': False, 'message': 'OK'}
    entry = [e for e in node.log() if e['sandbox'] == 'rs-api' and e['path'] == '/direct-volume/stats'][-1]
    assert (entry['method'], entry['status']) == ('POST', 200)


def test_stats_runtime_rs_of_the_host_device_is_a_handler_failure(node, transport, tmp_path):
    device, _guest = device_for(node, 'rs-api', tmp_path, 'dev-rs-host-%s' % transport)
    with pytest.raises(ShimError) as exc_info:
        dv.volume_stats(client(node, 'rs-api', transport), device)
    exc = exc_info.value
    url = 'http://shim/direct-volume/stats?path=' + device.replace('/', '%2F')
    assert exc.msg == (
        "POST %s via %s: the shim closed the connection without answering: sandbox rs-api's shim failed to handle "
        "POST /direct-volume/stats (runtime-rs drops the connection, without an HTTP status, when a handler returns "
        "an error; the reason is only in the shim's log). runtime-rs hands the path it is given to the agent "
        "unchanged as the path of the volume inside the guest, and kata's record names the host device %s, which the "
        "guest sees under another path: the agent then cannot open it" % (url, node.socket('rs-api'), device))
    assert exc.details == {'url': url, 'status': None, 'body': None, 'handler_failed': True}
    assert node.log()[-1]['error'] == 'handler: Failed to get volume stats'


def test_stats_through_an_explicit_runtime_rs_socket_learns_the_runtime(node, tmp_path):
    _device, guest = device_for(node, 'rs-api', tmp_path, 'dev-rs-explicit')
    explicit = shim_client(node.params(shim_socket=node.socket('rs-api')), None)
    assert explicit.runtime is None
    stats = dv.volume_stats(explicit, guest)
    assert explicit.runtime == 'rust' and stats['volume_condition']['message'] == 'OK'
    methods = [(e['method'], e['status']) for e in node.log() if e['path'] == '/direct-volume/stats'][-2:]
    assert methods == [('GET', 404), ('POST', 200)]


def test_resize_runtime_rs_uses_serde_names(node, tmp_path):
    _device, guest = device_for(node, 'rs-api', tmp_path, 'dev-rs-resize')
    rs = client(node, 'rs-api')
    dv.resize_volume(rs, guest, 7 * 1024 ** 3, 'rs-api')
    assert dv.bytes_total(dv.volume_stats(rs, guest)) == 7 * 1024 ** 3
    entry = [e for e in node.log() if e['path'] == '/direct-volume/resize'][-1]
    assert (entry['sandbox'], entry['method'], entry['status'], entry['request_bytes']) == (
        'rs-api', 'POST', 200, len(json.dumps({'volume_guest_path': guest, 'size': 7 * 1024 ** 3},
                                              separators=(',', ':'))))


def test_resize_runtime_rs_agent_without_resize_is_a_handler_failure(node, tmp_path):
    _device, guest = device_for(node, 'rs-db', tmp_path, 'dev-rs-old')
    with pytest.raises(ShimError) as exc_info:
        dv.resize_volume(client(node, 'rs-db'), guest, 1 << 30, 'rs-db')
    assert exc_info.value.msg.startswith('cannot resize %s to 1073741824 bytes in sandbox rs-db: POST '
                                         'http://shim/direct-volume/resize via %s: the shim closed the connection '
                                         "without answering: sandbox rs-db's shim failed to handle POST "
                                         '/direct-volume/resize' % (guest, node.socket('rs-db')))
    assert 'does not implement ResizeVolume' in exc_info.value.msg
    assert exc_info.value.details['handler_failed'] is True
    assert node.log()[-1]['error'] == 'handler: Failed to resize volume'


def test_resize_go_shim_keeps_the_go_body(node, tmp_path):
    device, _guest = device_for(node, 'go-cart', tmp_path, 'dev-go-resize')
    dv.resize_volume(client(node, 'go-cart'), device, 2 * 1024 ** 3, 'go-cart')
    entry = [e for e in node.log() if e['path'] == '/direct-volume/resize'][-1]
    assert (entry['sandbox'], entry['status'], entry['request_bytes']) == (
        'go-cart', 200, len(json.dumps({'VolumePath': device, 'Size': 2 * 1024 ** 3}, separators=(',', ':'))))


def test_iptables_agent_error_drops_on_runtime_rs_and_is_500_on_go(node, transport):
    rs = client(node, 'rs-api', transport)
    assert rs.put('/iptables', RULES) == b''
    assert '-A INPUT -s 10.9.8.7/32 -j DROP' in rs.get('/iptables').decode()
    with pytest.raises(ShimError) as exc_info:
        rs.put('/iptables', BAD_RULES)
    assert exc_info.value.msg == (
        "PUT http://shim/iptables via %s: the shim closed the connection without answering: sandbox rs-api's shim "
        "failed to handle PUT /iptables (runtime-rs drops the connection, without an HTTP status, when a handler "
        "returns an error; the reason is only in the shim's log)" % node.socket('rs-api'))
    response = client(node, 'go-web', transport).request('PUT', '/iptables', body=BAD_RULES)
    assert response.status == 500 and b'iptables-restore' in response.body


def test_status500_fault_on_runtime_rs_is_an_agent_failure(node, transport):
    node.fault('rs-db2', 'status500')
    try:
        rs = client(node, 'rs-db2', transport)
        with pytest.raises(ShimError) as exc_info:
            rs.get('/ip6tables')
        assert exc_info.value.details['handler_failed'] is True
        # /metrics and /agent-url swallow agent errors (unwrap_or_default, unwrap_or_else): still 200.
        assert b'kata_shim_threads' in rs.get('/metrics')
        assert rs.get('/agent-url') == node.by_id['rs-db2']['agent_url'].encode()
    finally:
        node.fault('rs-db2', 'none')


@pytest.mark.parametrize('text, expected', [
    ('Usage: [] Volume Condition: VolumeCondition { abnormal: true, message: "a \\"b\\"\\n\\u{1b}", special_fields: '
     'SpecialFields { unknown_fields: UnknownFields { fields: None }, cached_size: CachedSize { size: 0 } } }',
     {'usage': [], 'volume_condition': {'abnormal': True, 'message': 'a "b"\n\x1b'}}),
    ('Usage: [VolumeUsage { available: 1, total: 3, used: 2, unit: 7, special_fields: SpecialFields { } }] Volume '
     'Condition: VolumeCondition { abnormal: false, message: "", special_fields: SpecialFields { } }',
     {'usage': [{'available': 1, 'total': 3, 'used': 2, 'unit': 7}],
      'volume_condition': {'abnormal': False, 'message': ''}}),
])
def test_parse_rust_stats(text, expected):
    assert dv.parse_rust_stats(text) == expected


@pytest.mark.parametrize('text', ['{"usage": []}', 'Usage: [] Volume Condition: nothing', ''])
def test_parse_rust_stats_refuses_other_text(text):
    with pytest.raises(ValueError):
        dv.parse_rust_stats(text)
