# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the simulated Kata node (tests/kata_sim): the real simulator, started in a temporary root, spoken to
with plain http.client and raw sockets over AF_UNIX."""

from __future__ import annotations

import base64
import http.client
import json
import os
import pathlib
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

SIM_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'kata_sim'))
SIM = os.path.join(SIM_DIR, 'kata_sim.py')
sys.path.insert(0, SIM_DIR)

# pylint: disable=wrong-import-position
import sim_faults  # noqa: E402
from sim_goutil import GoError, go_parse_query, go_unmarshal_resize, rust_debug_str  # noqa: E402
from sim_http import detect_content_type  # noqa: E402
from sim_promtext import go_float  # noqa: E402

IS_ROOT = os.geteuid() == 0
HAVE_NETNS_TOOLS = bool(shutil.which('ip')) and os.path.exists('/sbin/iptables-restore')
needs_netns = pytest.mark.skipif(not (IS_ROOT and HAVE_NETNS_TOOLS),
                                 reason='network namespaces and iptables-restore need root and Debian iproute2/iptables')

RULES_V4 = (b'*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n'
            b'-A INPUT -s 10.1.2.3/32 -j DROP\nCOMMIT\n')
RULES_V6 = b'*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -s 2001:db8::1/128 -j DROP\nCOMMIT\n'
BAD_RULES = b'*filter\n-A NO_SUCH_CHAIN -j DROP\nCOMMIT\n'


# -- helpers ---------------------------------------------------------------------------------------------------------

def run_sim(*args, check=True):
    proc = subprocess.run([sys.executable, SIM] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if check and proc.returncode != 0:
        raise AssertionError('kata_sim.py %s failed (%d): %s' % (' '.join(args), proc.returncode, proc.stderr.decode()))
    return proc


class Node:
    """A running simulator in a temporary root."""

    def __init__(self, root, *args):
        self.root = str(root)
        self.state = json.loads(run_sim('start', '--root', self.root, *args).stdout)
        self.by_id = {sb['id']: sb for sb in self.state['sandboxes']}

    def sim(self, *args, check=True):
        return run_sim(args[0], '--root', self.root, *args[1:], check=check)

    def socket(self, sandbox_id):
        return self.by_id[sandbox_id]['socket']

    def stop(self):
        return json.loads(self.sim('stop').stdout)

    def log(self):
        with open(os.path.join(self.root, 'kata-sim', 'requests.log')) as f:
            return [json.loads(line) for line in f]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10.0):
        super().__init__('shim', timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def request(path, method, url, body=None, headers=None, timeout=10.0):
    conn = UnixHTTPConnection(path, timeout)
    try:
        conn.request(method, url, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def raw(path, data, timeout=10.0):
    """Send raw bytes, read until the server closes."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(path)
    try:
        sock.sendall(data)
        out = b''
        while True:
            piece = sock.recv(65536)
            if not piece:
                return out
            out += piece
    finally:
        sock.close()


def get_close(path, url, extra=b''):
    return raw(path, b'GET ' + url.encode() + b' HTTP/1.1\r\nHost: shim\r\nConnection: close\r\n' + extra + b'\r\n')


def split_head(data):
    head, _sep, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    return lines[0], [tuple(line.split(': ', 1)) for line in lines[1:]], body


def dechunk(body):
    out, sizes = b'', []
    while True:
        size_line, _sep, body = body.partition(b'\r\n')
        size = int(size_line, 16)
        sizes.append(size)
        if size == 0:
            assert body == b'\r\n'
            return out, sizes
        out += body[:size]
        assert body[size:size + 2] == b'\r\n'
        body = body[size + 2:]


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return not f.read().rsplit(')', 1)[1].strip().startswith('Z')
    except OSError:
        return False


def netns_names():
    if not shutil.which('ip'):
        return set()
    out = subprocess.run(['ip', 'netns', 'list'], stdout=subprocess.PIPE, check=False).stdout.decode()
    return set(line.split()[0] for line in out.splitlines() if line.strip())


def iptables_lines(data):
    """iptables-save text without its timestamped comments."""
    return [line for line in data.decode().splitlines() if not line.startswith('#')]


def expected_stats(st, size=None):
    """The stats the shim answers for a file system whose os.statvfs is ``st``."""
    total, available = st.f_blocks * st.f_bsize, st.f_bfree * st.f_bsize
    if size is not None:
        used = min(total - available, size)
        total, available = size, size - used
    usage = [{'available': available, 'total': total, 'used': total - available, 'unit': 1},
             {'available': st.f_ffree, 'total': st.f_files, 'used': st.f_files - st.f_ffree, 'unit': 2}]
    usage = [dict((k, v) for k, v in u.items() if v) for u in usage]
    return {'usage': usage, 'volume_condition': {'message': 'OK'}}


def stats_when_quiet(sock, device, guest, size=None):
    """GET stats until an answer matches the statvfs taken just before it, with the file system unchanged just after
    it: ``(status, headers, body, expected)``. Other processes create and remove files in the same file system at any
    time, even between two equal statvfs (a file made and removed while the shim read it), so one try is not enough.
    When no try matches, the last answer and its expectation (the caller's assertion shows the difference)."""
    for _attempt in range(50):
        before = os.statvfs(guest)
        status, headers, body = request(sock, 'GET', '/direct-volume/stats?path=' + device.replace('/', '%2F'))
        expected = expected_stats(before, size)
        if os.statvfs(guest) == before and status == 200 and json.loads(body) == expected:
            break
    return status, headers, body, expected


@pytest.fixture
def short_tmp():
    """A short temporary directory: socket paths under it must fit in 107 bytes (pytest's tmp_path can be long)."""
    path = tempfile.mkdtemp(prefix='ks-')
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def node(short_tmp):
    root = short_tmp / 'node'
    root.mkdir()
    started = Node(root, '--sandbox-id', 'sb-qemu', '--sandbox-id', 'sb-fc', '--sandbox-id', 'sb-old',
                   '--rs-sandbox-id', 'sb-rs', '--hypervisor', 'sb-qemu=qemu', '--agent', 'sb-old=3.0.0',
                   '--max-lifetime', '600')
    yield started
    started.stop()


# -- pure helpers ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, text', [
    (0, '0'), (1, '1'), (-1, '-1'), (0.5, '0.5'), (100000, '100000'), (1234567, '1.234567e+06'),
    (73812992, '7.3812992e+07'), (2.5e-05, '2.5e-05'), (0.0001, '0.0001'), (18446744073709551615, '1.8446744073709552e+19'),
    (8.999999999999998, '8.999999999999998'), (float('inf'), '+Inf'), (float('nan'), 'NaN'), (512, '512'), (3.0, '3'),
])
def test_go_float_matches_strconv_g(value, text):
    assert go_float(value) == text


def test_rust_debug_quotes_and_escapes():
    assert rust_debug_str('a "b"\n\\ \t\'') == '"a \\"b\\"\\n\\\\ \\t\'"'
    assert rust_debug_str('\x1b\u00a0é') == '"\\u{1b}\\u{a0}é"'


@pytest.mark.parametrize('body, message', [
    (b'', 'unexpected end of JSON input'),
    (b'{', 'unexpected end of JSON input'),
    (b'x', "invalid character 'x' looking for beginning of value"),
    (b'{"VolumePath":"/a"} x', "invalid character 'x' after top-level value"),
    (b'{"VolumePath" 1}', "invalid character '1' after object key"),
    (b'[]', 'json: cannot unmarshal array into Go value of type containerdshim.ResizeRequest'),
    (b'"s"', 'json: cannot unmarshal string into Go value of type containerdshim.ResizeRequest'),
    (b'{"VolumePath":1}', 'json: cannot unmarshal number into Go struct field ResizeRequest.VolumePath of type string'),
    (b'{"Size":"1"}', 'json: cannot unmarshal string into Go struct field ResizeRequest.Size of type uint64'),
    (b'{"Size":-1}', 'json: cannot unmarshal number -1 into Go struct field ResizeRequest.Size of type uint64'),
    (b'{"Size":1.5}', 'json: cannot unmarshal number 1.5 into Go struct field ResizeRequest.Size of type uint64'),
    (b'{"Size":18446744073709551616}',
     'json: cannot unmarshal number 18446744073709551616 into Go struct field ResizeRequest.Size of type uint64'),
    (b'{"Size":NaN}', "invalid character 'N' looking for beginning of value"),
])
def test_resize_json_errors_are_gos(body, message):
    with pytest.raises(GoError) as exc:
        go_unmarshal_resize(body)
    assert str(exc.value) == message


def test_resize_json_keys_are_case_insensitive_exact_wins():
    assert go_unmarshal_resize(b'{"volumepath":"/dev/a","SIZE":42,"other":[1]}') == ('/dev/a', 42)
    assert go_unmarshal_resize(b'{"volumePath":"/x","VolumePath":"/y","volumepath":"/z"}') == ('/z', 0)
    assert go_unmarshal_resize(b'null') == ('', 0)
    assert go_unmarshal_resize(b'{"VolumePath":null,"Size":null}') == ('', 0)


def test_query_parsing_drops_semicolons_and_bad_escapes_like_go():
    assert go_parse_query(b'path=%2Fdev%2Fa&path=b&x=1;2&bad=%zz&+k=a+b') == {
        b'path': [b'/dev/a', b'b'], b' k': [b'a b']}


@pytest.mark.parametrize('data, ctype', [
    (b'vsock://1:1024', 'text/plain; charset=utf-8'),
    (b'{"usage":[]}', 'text/plain; charset=utf-8'),
    (b'  <html><body>', 'text/html; charset=utf-8'),
    (b'\x00\x01binary', 'application/octet-stream'),
    (b'\xff\xfeu\x00', 'text/plain; charset=utf-16le'),
])
def test_content_type_sniffing(data, ctype):
    assert detect_content_type(data) == ctype


# -- the node --------------------------------------------------------------------------------------------------------

def test_start_creates_sockets_and_state(node):
    root = node.root
    assert node.socket('sb-qemu') == os.path.join(root, 'run/vc/sbs/sb-qemu/shim-monitor.sock')
    assert node.socket('sb-rs') == os.path.join(root, 'run/kata/sb-rs/shim-monitor.sock')
    for sb in node.state['sandboxes']:
        st = os.stat(sb['socket'])
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
    assert [sb['runtime'] for sb in node.state['sandboxes']] == ['go', 'go', 'go', 'rs']
    assert node.state['sandbox_root'] == os.path.join(root, 'run/vc/sbs')
    assert node.state['rs_sandbox_root'] == os.path.join(root, 'run/kata')
    assert alive(node.state['pid'])
    status = json.loads(node.sim('status').stdout)
    assert status['running'] is True
    assert [sb['id'] for sb in status['sandboxes']] == ['sb-qemu', 'sb-fc', 'sb-old', 'sb-rs']


def test_generated_ids_are_hex_and_fit_the_socket_address(short_tmp):
    started = Node(short_tmp, '--sandboxes', '2', '--rs', '1', '--no-netns')
    try:
        ids = [sb['id'] for sb in started.state['sandboxes']]
        assert len(set(ids)) == 3
        assert all(re.match(r'^[0-9a-f]{8,32}$', i) for i in ids)
        assert all(len(sb['socket']) <= 107 for sb in started.state['sandboxes'])
    finally:
        started.stop()


def test_agent_url_per_hypervisor(node):
    status, headers, body = request(node.socket('sb-fc'), 'GET', '/agent-url')
    assert status == 200
    assert body == ('hvsock://%s/run/vc/firecracker/sb-fc/root/kata.hvsock:1024' % node.root).encode()
    assert headers['Content-Type'] == 'text/plain; charset=utf-8'
    assert headers['Content-Length'] == str(len(body))
    status, _h, body = request(node.socket('sb-qemu'), 'POST', '/agent-url', body=b'ignored')
    assert status == 200
    assert re.match(rb'^vsock://\d+:1024$', body)
    assert body.decode() == node.by_id['sb-qemu']['agent_url']


def test_answer_head_is_written_like_go(node):
    status_line, headers, body = split_head(get_close(node.socket('sb-fc'), '/agent-url'))
    assert status_line == 'HTTP/1.1 200 OK'
    assert [name for name, _v in headers] == ['Date', 'Content-Length', 'Content-Type', 'Connection']
    assert dict(headers)['Connection'] == 'close'
    assert re.match(r'^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$', dict(headers)['Date'])
    assert body.endswith(b':1024')


def test_unknown_path_is_gos_404(node):
    status_line, headers, body = split_head(get_close(node.socket('sb-fc'), '/nope'))
    assert status_line == 'HTTP/1.1 404 Not Found'
    assert [name for name, _v in headers] == ['Content-Type', 'X-Content-Type-Options', 'Date', 'Content-Length', 'Connection']
    assert dict(headers)['X-Content-Type-Options'] == 'nosniff'
    assert body == b'404 page not found\n'
    for path in ('/metrics/', '/iptables/x', '/'):
        assert request(node.socket('sb-qemu'), 'GET', path)[::2] == (404, b'404 page not found\n')


def test_unclean_path_redirects_like_servemux(node):
    status, headers, body = request(node.socket('sb-qemu'), 'GET', '//metrics?a=1')
    assert (status, headers['Location'], headers['Content-Type']) == (301, '/metrics?a=1', 'text/html; charset=utf-8')
    assert body == b'<a href="/metrics?a=1">Moved Permanently</a>.\n\n'


@pytest.mark.parametrize('method', ['POST', 'DELETE', 'HEAD', 'PATCH', 'put', 'get'])
def test_iptables_other_methods_are_501_empty(node, method):
    for path in ('/iptables', '/ip6tables'):
        status, headers, body = request(node.socket('sb-fc'), method, path)
        # Go computes no Content-Length for an empty answer to HEAD
        assert (status, body, headers.get('Content-Length')) == (501, b'', None if method == 'HEAD' else '0')
        assert 'Content-Type' not in headers


def test_volume_stats_parameter_errors(node):
    sock = node.socket('sb-fc')
    for query in ('', '?path=', '?other=1', '?path=%zz', '?path;x=1'):
        status, headers, body = request(sock, 'GET', '/direct-volume/stats' + query)
        assert (status, body) == (400, b'Required parameter path not found')
        assert headers['Content-Type'] == 'text/plain; charset=utf-8'
    assert request(sock, 'GET', '/direct-volume/stats?path=%25zz')[::2] == (500, b'invalid URL escape "%zz"')
    assert request(sock, 'GET', '/direct-volume/stats?path=%2Fno%2Fsuch%2Fdev')[::2] == (
        500, b'stat /no/such/dev: no such file or directory')
    assert request(sock, 'GET', '/direct-volume/stats?path=%2Fdev%2Fnull')[::2] == (500, b'mount /dev/null not found in sandbox')
    assert request(sock, 'GET', '/direct-volume/stats?path=%2Fdev%2500x')[::2] == (500, b'stat /dev\x00x: invalid argument')
    # The query value is unescaped a second time, as the shim does: %252F -> %2F -> /
    assert request(sock, 'GET', '/direct-volume/stats?path=%252Fdev%252Fnull')[::2] == (
        500, b'mount /dev/null not found in sandbox')


def test_volume_stats_are_statvfs_of_the_guest_directory(node, tmp_path):
    device = str(tmp_path / 'dev-vdb')
    open(device, 'w').close()
    volume_path = '/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv1/mount'
    volume_dir = os.path.join(node.root, 'run/kata-containers/shared/direct-volumes',
                              base64.urlsafe_b64encode(volume_path.encode()).decode())
    os.makedirs(volume_dir, 0o700)
    attached = json.loads(node.sim('attach', '--sandbox', 'sb-fc', '--device', device, '--volume-path', volume_path).stdout)
    guest = attached['guest_path']
    assert os.path.isdir(guest) and guest.startswith(os.path.join(node.root, 'kata-sim', 'guest', 'sb-fc'))
    record = os.path.join(volume_dir, 'sb-fc')
    assert attached['record_file'] == record
    assert os.path.getsize(record) == 0 and stat.S_IMODE(os.stat(record).st_mode) == 0o600
    status, headers, body, expected = stats_when_quiet(node.socket('sb-fc'), device, guest)
    assert status == 200
    assert headers['Content-Type'] == 'text/plain; charset=utf-8'
    assert json.loads(body) == expected
    assert body.startswith(b'{"usage":[{"available":') and body.endswith(b'"volume_condition":{"message":"OK"}}')
    # Another sandbox does not have that mount.
    assert request(node.socket('sb-qemu'), 'GET', '/direct-volume/stats?path=' + device.replace('/', '%2F'))[::2] == (
        500, ('mount %s not found in sandbox' % device).encode())


def test_attach_without_volume_dir_writes_no_record(node, tmp_path):
    device = str(tmp_path / 'dev-vdc')
    open(device, 'w').close()
    attached = json.loads(node.sim('attach', '--sandbox', 'sb-qemu', '--device', device, '--volume-path', '/no/dir').stdout)
    assert attached['record_file'] is None
    assert not os.path.exists(os.path.join(node.root, 'run/kata-containers'))


def test_resize_is_recorded_and_reported_as_total(node, tmp_path):
    device = str(tmp_path / 'dev-vdd')
    open(device, 'w').close()
    guest = json.loads(node.sim('attach', '--sandbox', 'sb-fc', '--device', device).stdout)['guest_path']
    size = 3 * 1024 ** 3
    status, headers, body = request(node.socket('sb-fc'), 'POST', '/direct-volume/resize',
                                    body=json.dumps({'volumepath': device, 'SIZE': size}).encode(),
                                    headers={'Content-Type': 'application/json'})
    assert (status, body, headers['Content-Length']) == (200, b'', '0')
    status, _h, body, expected = stats_when_quiet(node.socket('sb-fc'), device, guest, size)
    assert status == 200
    assert json.loads(body) == expected
    assert json.loads(body)['usage'][0]['total'] == size
    state = json.loads(node.sim('status').stdout)
    assert [v['size'] for v in state['sandboxes'][1]['volumes']] == [size]


def test_resize_errors(node):
    sock = node.socket('sb-fc')
    assert request(sock, 'POST', '/direct-volume/resize', body=b'{')[::2] == (500, b'unexpected end of JSON input')
    assert request(sock, 'POST', '/direct-volume/resize', body=b'{"Size":"big"}')[::2] == (
        500, b'json: cannot unmarshal string into Go struct field ResizeRequest.Size of type uint64')
    assert request(sock, 'POST', '/direct-volume/resize', body=b'{"VolumePath":"/dev/null","Size":1}')[::2] == (
        500, b'mount /dev/null not found in sandbox')
    assert request(sock, 'POST', '/direct-volume/resize', body=b'{}')[::2] == (500, b'stat : no such file or directory')


def test_resize_with_a_300_agent_fails_like_kata(node, tmp_path):
    device = str(tmp_path / 'dev-vde')
    open(device, 'w').close()
    node.sim('attach', '--sandbox', 'sb-old', '--device', device)
    status, _h, body = request(node.socket('sb-old'), 'POST', '/direct-volume/resize',
                               body=json.dumps({'VolumePath': device, 'Size': 1 << 30}).encode())
    assert (status, body) == (500, b'rpc error: code = NotFound desc = /grpc.AgentService/ResizeVolume is not supported')


def test_metrics_are_chunked_prometheus_text(node):
    status_line, headers, body = split_head(get_close(node.socket('sb-qemu'), '/metrics'))
    assert status_line == 'HTTP/1.1 200 OK'
    assert [name for name, _v in headers] == ['Date', 'Content-Type', 'Connection', 'Transfer-Encoding']
    assert dict(headers)['Transfer-Encoding'] == 'chunked'
    assert dict(headers)['Content-Type'] == 'text/plain; charset=utf-8'
    text, sizes = dechunk(body)
    assert sizes[0] == 2048 and sizes[-1] == 0
    text = text.decode('utf-8')
    families = re.findall(r'^# TYPE (\S+) (\S+)$', text, re.M)
    names = [n for n, _t in families]
    shim_part = names[:names.index('kata_agent_io_stat')]
    assert shim_part == sorted(shim_part)
    assert shim_part[0].startswith('go_') and shim_part[-1] == 'process_virtual_memory_max_bytes'
    assert names[-1] == 'kata_agent_process_virtual_memory_bytes'
    for needed in ('kata_shim_rpc_durations_histogram_milliseconds', 'kata_hypervisor_proc_status', 'kata_virtiofsd_io_stat',
                   'kata_agent_scrape_count', 'kata_guest_cpu_time', 'kata_guest_meminfo', 'kata_guest_netdev_stat',
                   'go_gc_duration_seconds', 'process_open_fds', 'kata_agent_process_open_fds'):
        assert needed in names
    assert dict(families)['kata_shim_rpc_durations_histogram_milliseconds'] == 'histogram'
    assert dict(families)['kata_agent_scrape_count'] == 'counter'
    buckets = re.findall(r'^kata_shim_rpc_durations_histogram_milliseconds_bucket\{action="create",le="([^"]+)"\} \S+$', text, re.M)
    assert buckets == ['1', '2', '4', '8', '16', '32', '64', '128', '256', '512', '+Inf']
    assert re.search(r'^kata_shim_rpc_durations_histogram_milliseconds_sum\{action="create"\} \S+$', text, re.M)
    assert re.search(r'^kata_shim_rpc_durations_histogram_milliseconds_count\{action="create"\} 1$', text, re.M)
    assert re.search(r'^kata_guest_cpu_time\{cpu="total",item="idle"\} \S+$', text, re.M)
    assert re.search(r'^kata_guest_netdev_stat\{interface="eth0",item="recv_bytes"\} \S+$', text, re.M)
    assert '# HELP kata_sim_escapes Simulator-only family (not in kata): HELP with a backslash \\\\ and a newline\\nto' in text
    assert 'kata_sim_escapes{path="C:\\\\kata\\\\\\"sim\\"\\nline2",sandbox="sb-qemu"} 1\n' in text


def test_metrics_parse_and_move_per_scrape_and_sandbox(node):
    parser = pytest.importorskip('prometheus_client.parser')
    scrapes = [request(node.socket('sb-qemu'), 'GET', '/metrics')[2].decode() for _i in range(2)]
    other = request(node.socket('sb-fc'), 'GET', '/metrics')[2].decode()
    parsed = [{f.name: f for f in parser.text_string_to_metric_families(text)} for text in scrapes + [other]]
    assert [p['kata_agent_scrape_count'].samples[0].value for p in parsed] == [1, 2, 1]
    assert parsed[0]['kata_sim_escapes'].samples[0].labels['path'] == 'C:\\kata\\"sim"\nline2'
    assert 'backslash \\ and a newline\nto' in parsed[0]['kata_sim_escapes'].documentation
    first_rpc = [s for s in parsed[0]['kata_shim_agent_rpc_durations_histogram_milliseconds'].samples
                 if s.labels.get('action') == 'grpc.GetMetricsRequest']
    second_rpc = [s for s in parsed[1]['kata_shim_agent_rpc_durations_histogram_milliseconds'].samples
                  if s.labels.get('action') == 'grpc.GetMetricsRequest' and s.name.endswith('_count')]
    assert first_rpc == []  # observed after the shim's registry was written, so visible from the next scrape
    assert [s.value for s in second_rpc] == [1]
    # firecracker has no virtiofsd: only the two plain gauges, at 0
    assert 'kata_virtiofsd_io_stat' not in parsed[2] and parsed[2]['kata_virtiofsd_fds'].samples[0].value == 0
    assert 'kata_firecracker_api_server' in parsed[2] and 'kata_firecracker_api_server' not in parsed[0]
    guest_mem = [s.value for s in parsed[0]['kata_guest_meminfo'].samples if s.labels['item'] == 'mem_total']
    other_mem = [s.value for s in parsed[2]['kata_guest_meminfo'].samples if s.labels['item'] == 'mem_total']
    assert guest_mem != other_mem


def test_metrics_over_http10_are_unframed_and_closed(node):
    data = raw(node.socket('sb-fc'), b'GET /metrics HTTP/1.0\r\n\r\n')
    status_line, headers, body = split_head(data)
    assert status_line == 'HTTP/1.0 200 OK'
    assert [name for name, _v in headers] == ['Date', 'Content-Type']
    assert body.startswith(b'# HELP go_') and body.endswith(b'\n')


def test_keep_alive_then_connection_close(node):
    conn = UnixHTTPConnection(node.socket('sb-fc'))
    try:
        for _i in range(3):
            conn.request('GET', '/agent-url')
            resp = conn.getresponse()
            assert resp.status == 200 and resp.getheader('Connection') is None
            resp.read()
        conn.request('GET', '/agent-url', headers={'Connection': 'close'})
        resp = conn.getresponse()
        assert resp.getheader('Connection') == 'close'
        resp.read()
        assert conn.sock is None or conn.sock.recv(1) == b''
    finally:
        conn.close()


def test_malformed_requests_get_gos_canned_answers(node):
    sock = node.socket('sb-fc')
    assert raw(sock, b'NONSENSE\r\n\r\n') == (
        b'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request')
    assert raw(sock, b'GET /metrics HTTP/1.1\r\n\r\n').endswith(b'\r\n\r\n400 Bad Request: missing required Host header')
    assert raw(sock, b'PUT /iptables HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n').endswith(
        b'\r\n\r\nUnsupported transfer encoding')
    assert raw(sock, b'GET / HTTP/2.0\r\nHost: x\r\n\r\n').startswith(b'HTTP/1.1 505 HTTP Version Not Supported')
    assert raw(sock, b'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n').endswith(b'\r\n\r\n400 Bad Request')
    # An escaped path is decoded before routing, like Go's r.URL.Path.
    assert request(sock, 'GET', '/%61gent-url')[0] == 200


def test_expect_continue_is_answered_before_the_body(node):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(node.socket('sb-fc'))
    try:
        sock.sendall(b'POST /direct-volume/resize HTTP/1.1\r\nHost: shim\r\nContent-Length: 2\r\n'
                     b'Expect: 100-continue\r\nConnection: close\r\n\r\n')
        assert sock.recv(100) == b'HTTP/1.1 100 Continue\r\n\r\n'
        sock.sendall(b'{}')
        data = b''
        while True:
            piece = sock.recv(4096)
            if not piece:
                break
            data += piece
    finally:
        sock.close()
    assert data.startswith(b'HTTP/1.1 500 Internal Server Error\r\n')
    assert data.endswith(b'\r\n\r\nstat : no such file or directory')


@needs_netns
def test_iptables_round_trip_in_the_sandbox_netns(node):
    sock = node.socket('sb-fc')
    netns = node.by_id['sb-fc']['netns']
    assert netns and netns in netns_names()
    assert request(sock, 'GET', '/iptables')[::2] == (200, b'')  # a fresh guest has no tables
    status, headers, body = request(sock, 'PUT', '/iptables', body=RULES_V4, headers={'Content-Type': 'application/octet-stream'})
    assert (status, body, headers['Content-Length']) == (200, b'', '0')
    status, _h, body = request(sock, 'GET', '/iptables')
    assert status == 200
    assert iptables_lines(body) == ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]',
                                    '-A INPUT -s 10.1.2.3/32 -j DROP', 'COMMIT']
    direct = subprocess.run(['ip', 'netns', 'exec', netns, 'iptables-save'], stdout=subprocess.PIPE, check=True).stdout
    assert iptables_lines(direct) == iptables_lines(body)
    # Other sandboxes have their own namespace.
    assert request(node.socket('sb-qemu'), 'GET', '/iptables')[::2] == (200, b'')
    assert request(sock, 'PUT', '/ip6tables', body=RULES_V6)[::2] == (200, b'')
    assert '-A INPUT -s 2001:db8::1/128 -j DROP' in iptables_lines(request(sock, 'GET', '/ip6tables')[2])
    assert '2001:db8' not in request(sock, 'GET', '/iptables')[2].decode()


@needs_netns
def test_bad_ruleset_is_refused_with_the_agents_error_and_keeps_the_rules(node):
    sock = node.socket('sb-qemu')
    assert request(sock, 'PUT', '/iptables', body=RULES_V4)[0] == 200
    status, headers, body = request(sock, 'PUT', '/iptables', body=BAD_RULES)
    assert status == 500
    assert headers['Content-Type'] == 'text/plain; charset=utf-8'
    stderr = subprocess.run(['ip', 'netns', 'exec', node.by_id['sb-qemu']['netns'], '/sbin/iptables-restore', '--wait', '5'],
                            input=BAD_RULES, stderr=subprocess.PIPE, check=False).stderr.decode()
    inner = '/sbin/iptables-restore failed: ' + rust_debug_str(stderr)
    assert body.decode() == 'rpc error: code = Internal desc = ' + rust_debug_str(inner)
    assert body.startswith(b'rpc error: code = Internal desc = "/sbin/iptables-restore failed: \\"')
    assert body.endswith(b'\\\\n\\""')
    assert '-A INPUT -s 10.1.2.3/32 -j DROP' in iptables_lines(request(sock, 'GET', '/iptables')[2])


def test_iptables_in_memory_without_netns(short_tmp):
    started = Node(short_tmp, '--sandbox-id', 'sb-mem', '--no-netns')
    try:
        sandbox = started.by_id['sb-mem']
        assert (sandbox['iptables'], sandbox['netns'], sandbox['netns_error']) == ('memory', None, 'disabled with --no-netns')
        sock = started.socket('sb-mem')
        assert request(sock, 'GET', '/iptables')[::2] == (200, b'')
        assert request(sock, 'PUT', '/iptables', body=RULES_V4)[::2] == (200, b'')
        assert iptables_lines(request(sock, 'GET', '/iptables')[2]) == iptables_lines(RULES_V4)
        status, _h, body = request(sock, 'PUT', '/iptables', body=b'*filter\n-A INPUT -j DROP\n')
        assert status == 500 and body.startswith(b'rpc error: code = Internal desc = "/sbin/iptables-restore failed: ')
        assert iptables_lines(request(sock, 'GET', '/iptables')[2]) == iptables_lines(RULES_V4)
        assert request(sock, 'GET', '/ip6tables')[::2] == (200, b'')
    finally:
        started.stop()


# -- faults ------------------------------------------------------------------------------------------------------------

def set_fault(node, sandbox_id, mode, path=None):
    args = ['fault', '--sandbox', sandbox_id, '--mode', mode] + (['--path', path] if path else [])
    return json.loads(node.sim(*args).stdout)


def test_fault_hang_does_not_wedge_other_sandboxes(node):
    assert set_fault(node, 'sb-fc', 'hang') == {'sb-fc': {'*': 'hang'}}
    with pytest.raises(socket.timeout):
        request(node.socket('sb-fc'), 'GET', '/agent-url', timeout=0.5)
    assert request(node.socket('sb-qemu'), 'GET', '/agent-url')[0] == 200
    entries = [e for e in node.log() if e['sandbox'] == 'sb-fc']
    assert entries[-1]['fault'] == 'hang' and entries[-1]['status'] is None
    set_fault(node, 'sb-fc', 'none')
    assert request(node.socket('sb-fc'), 'GET', '/agent-url')[0] == 200


def test_fault_slow_sends_one_byte_at_a_time(node):
    set_fault(node, 'sb-fc', 'slow', '/agent-url')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(node.socket('sb-fc'))
    try:
        sock.sendall(b'GET /agent-url HTTP/1.1\r\nHost: shim\r\n\r\n')
        assert sock.recv(4096) == b'H'
        assert sock.recv(4096) == b'T'
    finally:
        sock.close()
    assert request(node.socket('sb-fc'), 'GET', '/nope')[0] == 404  # other paths are not affected


@pytest.mark.parametrize('mode, error', [
    ('reset', http.client.IncompleteRead), ('truncated', http.client.IncompleteRead),
    ('close', http.client.RemoteDisconnected), ('garbage', http.client.BadStatusLine),
])
def test_fault_broken_answers(node, mode, error):
    set_fault(node, 'sb-qemu', mode, '/metrics')
    with pytest.raises(error):
        request(node.socket('sb-qemu'), 'GET', '/metrics')
    assert request(node.socket('sb-qemu'), 'GET', '/agent-url')[0] == 200


def test_fault_raw_bytes(node):
    sock = node.socket('sb-fc')
    set_fault(node, 'sb-fc', 'garbage')
    assert get_close(sock, '/agent-url') == sim_faults.GARBAGE
    set_fault(node, 'sb-fc', 'close')
    assert get_close(sock, '/agent-url') == b''
    set_fault(node, 'sb-fc', 'truncated')
    _line, headers, body = split_head(get_close(sock, '/agent-url'))
    assert int(dict(headers)['Content-Length']) == len(body) + sim_faults.TRUNCATED_MISSING
    set_fault(node, 'sb-fc', 'reset')
    _line, headers, body = split_head(get_close(sock, '/agent-url'))
    assert 0 < len(body) < int(dict(headers)['Content-Length'])


def test_fault_invalid_utf8_and_status500(node):
    sock = node.socket('sb-qemu')
    set_fault(node, 'sb-qemu', 'invalid-utf8', '/metrics')
    status, _h, body = request(sock, 'GET', '/metrics')
    assert status == 200 and sim_faults.INVALID_UTF8 in body.split(b'\n', 1)[0]
    with pytest.raises(UnicodeDecodeError):
        body.decode('utf-8')
    set_fault(node, 'sb-qemu', 'status500')
    assert request(sock, 'GET', '/iptables')[::2] == (500, b'ttrpc: closed')


def test_fault_huge_body(node):
    set_fault(node, 'sb-rs', 'huge', '/metrics')
    conn = UnixHTTPConnection(node.socket('sb-rs'))
    try:
        conn.request('GET', '/metrics')
        resp = conn.getresponse()
        assert int(resp.getheader('Content-Length')) == sim_faults.HUGE_SIZE > 64 << 20
        assert resp.read(1 << 20).startswith(b'kata_sim_huge_filler')
    finally:
        conn.close()
    assert request(node.socket('sb-rs'), 'GET', '/agent-url')[0] == 200


def test_fault_set_at_start_and_unknown_mode_refused(short_tmp):
    started = Node(short_tmp, '--sandbox-id', 'sb-a', '--sandbox-id', 'sb-b', '--fault', 'sb-a=status500:/agent-url', '--no-netns')
    try:
        assert started.by_id['sb-a']['faults'] == {'/agent-url': 'status500'}
        assert request(started.socket('sb-a'), 'GET', '/agent-url')[::2] == (500, b'ttrpc: closed')
        assert request(started.socket('sb-b'), 'GET', '/agent-url')[0] == 200
        proc = started.sim('fault', '--sandbox', 'sb-a', '--mode', 'explode', check=False)
        assert proc.returncode == 2 and b'invalid choice' in proc.stderr
        proc = started.sim('fault', '--sandbox', 'sb-zz', '--mode', 'hang', check=False)
        assert proc.returncode == 1 and b"no sandbox 'sb-zz'" in proc.stderr
    finally:
        started.stop()


# -- the request log -------------------------------------------------------------------------------------------------

def test_request_log_records_every_request(node):
    request(node.socket('sb-fc'), 'GET', '/agent-url')
    request(node.socket('sb-fc'), 'GET', '/direct-volume/stats?path=%2Fdev%2Fnull&x=1')
    request(node.socket('sb-rs'), 'PUT', '/iptables', body=b'*filter\nCOMMIT\n')
    raw(node.socket('sb-fc'), b'BAD\r\n\r\n')
    entries = node.log()
    assert [sorted(e) for e in entries] == [['bytes', 'fault', 'method', 'path', 'query', 'request_bytes', 'runtime',
                                             'sandbox', 'status', 'time']] * 4
    first, second, third, fourth = entries
    url = node.by_id['sb-fc']['agent_url']
    assert {k: first[k] for k in first if k != 'time'} == {
        'sandbox': 'sb-fc', 'runtime': 'go', 'method': 'GET', 'path': '/agent-url', 'query': '', 'status': 200,
        'bytes': len(url), 'request_bytes': 0, 'fault': None}
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$', first['time'])
    assert (second['path'], second['query'], second['status']) == ('/direct-volume/stats', 'path=%2Fdev%2Fnull&x=1', 500)
    assert (third['sandbox'], third['runtime'], third['method'], third['request_bytes']) == ('sb-rs', 'rs', 'PUT', 15)
    assert (fourth['method'], fourth['status']) == (None, 400)
    assert not [e for e in entries if e['method'] not in ('GET', None) and e['sandbox'] == 'sb-fc']


# -- lifecycle ---------------------------------------------------------------------------------------------------------

def _tree(root):
    found = []
    for base, dirs, files in os.walk(root):
        found.extend(os.path.relpath(os.path.join(base, n), root) for n in dirs + files)
    return sorted(found)


def test_stop_leaves_nothing_behind(short_tmp, tmp_path):
    root = short_tmp / 'node'
    (root / 'run').mkdir(parents=True)
    keep = root / 'run' / 'kata-containers' / 'shared' / 'direct-volumes' / base64.urlsafe_b64encode(b'/v1').decode()
    keep.mkdir(parents=True)
    before = _tree(str(root))
    started = Node(root, '--sandboxes', '2', '--rs', '1')
    device = str(tmp_path / 'dev-x')
    open(device, 'w').close()
    sandbox = started.state['sandboxes'][0]['id']
    started.sim('attach', '--sandbox', sandbox, '--device', device, '--volume-path', '/v1')
    assert os.path.exists(str(keep / sandbox))
    request(started.socket(sandbox), 'GET', '/metrics')
    pid = started.state['pid']
    names = set(sb['netns'] for sb in started.state['sandboxes'] if sb['netns'])
    result = started.stop()
    assert result == {'root': str(root), 'stopped_pid': pid, 'cleaned': True}
    assert not alive(pid)
    assert _tree(str(root)) == before
    assert not names & netns_names()
    assert started.stop() == {'root': str(root), 'stopped_pid': None, 'cleaned': False}  # idempotent


def test_stop_removes_a_root_it_created(short_tmp):
    root = short_tmp / 'new' / 'n'
    started = Node(root, '--no-netns')
    started.stop()
    assert not os.path.exists(str(short_tmp / 'new'))


def test_start_again_replaces_the_running_simulator(short_tmp):
    first = Node(short_tmp, '--sandbox-id', 'sb-1')
    second = Node(short_tmp, '--sandbox-id', 'sb-2')
    try:
        assert not alive(first.state['pid'])
        assert alive(second.state['pid'])
        assert not os.path.exists(os.path.join(str(short_tmp), 'run/vc/sbs/sb-1'))
        assert request(second.socket('sb-2'), 'GET', '/agent-url')[0] == 200
    finally:
        second.stop()


def test_status_when_not_running(tmp_path):
    proc = run_sim('status', '--root', str(tmp_path), check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)['running'] is False


def test_max_lifetime_stops_and_cleans_up(short_tmp):
    root = short_tmp / 'node'
    started = Node(root, '--max-lifetime', '1')
    pid = started.state['pid']
    names = set(sb['netns'] for sb in started.state['sandboxes'] if sb['netns'])
    for _i in range(300):
        if not alive(pid):
            break
        time.sleep(0.1)
    assert not alive(pid)
    assert not os.path.exists(str(root))
    assert not names & netns_names()


def test_bad_start_arguments(short_tmp):
    for args, message in (
            (['--hypervisor', 'vmware'], b"--hypervisor: unknown value 'vmware'"),
            (['--agent', 'x=3.0.0'], b"option given for unknown sandbox 'x'"),
            (['--sandbox-id=-bad'], b'invalid sandbox ID'),
            (['--fault', 'a=hang'], b"option given for unknown sandbox 'a'"),
            (['--sandbox-id', 'x' * 90], b'more than a unix socket address can hold')):
        proc = run_sim('start', '--root', str(short_tmp), '--no-netns', *args, check=False)
        assert proc.returncode == 1, args
        assert message in proc.stderr, (args, proc.stderr)
    assert _tree(str(short_tmp)) == []


# -- runtime-rs's management server (4.1.0 src/runtime-rs/crates/runtimes/src/shim_mgmt/) ------------------------------

def raw_or_reset(path, data, timeout=10.0):
    """Like raw(), but a reset before any byte (a unix socket closed with unread data) counts as an empty answer."""
    try:
        return raw(path, data, timeout)
    except ConnectionResetError:
        return b''


def rs_post(path, target, body=b'', content_type=b'application/json'):
    return raw_or_reset(path, b'POST ' + target.encode() + b' HTTP/1.1\r\nHost: shim\r\nConnection: close\r\n'
                        b'Content-Type: ' + content_type + b'\r\nContent-Length: %d\r\n\r\n' % len(body) + body)


def test_rs_answers_like_hyper(node):
    status_line, headers, body = split_head(get_close(node.socket('sb-rs'), '/agent-url'))
    assert status_line == 'HTTP/1.1 200 OK'
    assert [name for name, _v in headers] == ['content-length', 'connection', 'date']
    assert body.decode() == node.by_id['sb-rs']['agent_url']
    assert int(dict(headers)['content-length']) == len(body)


@pytest.mark.parametrize('method, path', [
    ('POST', '/agent-url'), ('GET', '/direct-volume/stats'), ('GET', '/direct-volume/resize'),
    ('PUT', '/direct-volume/stats'), ('POST', '/metrics'), ('DELETE', '/iptables'), ('POST', '/ip6tables'),
    ('GET', '/policy'), ('GET', '/nope'), ('GET', '/'), ('GET', '//metrics'), ('GET', '/metrics/'),
])
def test_rs_routes_on_method_and_path(node, method, path):
    """handler_mux matches (method, path) exactly: anything else is not_found(): 404 "URL NOT FOUND", no redirect."""
    status_line, headers, body = split_head(raw(node.socket('sb-rs'), method.encode() + b' ' + path.encode()
                                                + b' HTTP/1.1\r\nHost: shim\r\nConnection: close\r\n\r\n'))
    assert (status_line, body) == ('HTTP/1.1 404 Not Found', b'URL NOT FOUND')
    assert dict(headers)['content-length'] == '13' and 'Content-Type' not in dict(headers)


def test_rs_stats_needs_post_and_an_absolute_target(node, tmp_path):
    device = str(tmp_path / 'dev-rs1')
    open(device, 'w').close()
    guest = json.loads(node.sim('attach', '--sandbox', 'sb-rs', '--device', device).stdout)['guest_path']
    sock = node.socket('sb-rs')
    query = 'path=' + guest.replace('/', '%2F')
    # Origin form: Url::parse(&req.uri().to_string()) fails (a relative URL): the handler errs, the connection drops.
    assert rs_post(sock, '/direct-volume/stats?' + query) == b''
    # Absolute form: parsed, and the path goes to the agent unchanged as the guest path.
    status_line, headers, body = split_head(rs_post(sock, 'http://shim/direct-volume/stats?' + query))
    assert status_line == 'HTTP/1.1 200 OK' and 'Content-Type' not in dict(headers)
    text = body.decode()
    special = ('special_fields: SpecialFields { unknown_fields: UnknownFields { fields: None }, '
               'cached_size: CachedSize { size: 0 } }')
    assert re.fullmatch(r'Usage: \[VolumeUsage \{ available: \d+, total: \d+, used: \d+, unit: BYTES, %s \}, '
                        r'VolumeUsage \{ available: \d+, total: \d+, used: \d+, unit: INODES, %s \}\] Volume Condition: '
                        r'VolumeCondition \{ abnormal: false, message: "OK", %s \}' % ((re.escape(special),) * 3), text)
    st = os.statvfs(guest)
    assert 'total: %d, used:' % (st.f_blocks * st.f_bsize) in text
    # The host device is not a path in the guest; no path at all: both are handler errors.
    assert rs_post(sock, 'http://shim/direct-volume/stats?path=' + device.replace('/', '%2F')) == b''
    assert rs_post(sock, 'http://shim/direct-volume/stats?x=1') == b''
    log = [e for e in node.log() if e['sandbox'] == 'sb-rs' and e['path'] == '/direct-volume/stats']
    assert [(e['status'], e.get('error')) for e in log] == [
        (None, 'relative URL without a base'), (200, None), (None, 'handler: Failed to get volume stats'),
        (None, 'shim-mgmt: volume path key not found in request params')]


def test_rs_resize_takes_serde_field_names(node, tmp_path):
    device = str(tmp_path / 'dev-rs2')
    open(device, 'w').close()
    guest = json.loads(node.sim('attach', '--sandbox', 'sb-rs', '--device', device).stdout)['guest_path']
    sock = node.socket('sb-rs')
    size = 5 * 1024 ** 3
    # The Go shim's body ({"VolumePath", "Size"}) does not deserialise into ResizeVolumeRequest: the handler errs.
    assert rs_post(sock, '/direct-volume/resize', json.dumps({'VolumePath': guest, 'Size': size}).encode()) == b''
    answer = rs_post(sock, '/direct-volume/resize', json.dumps({'volume_guest_path': guest, 'size': size}).encode())
    status_line, headers, body = split_head(answer)
    assert (status_line, body, dict(headers)['content-length']) == ('HTTP/1.1 200 OK', b'', '0')
    status_line, _h, body = split_head(rs_post(sock, 'http://shim/direct-volume/stats?path=' + guest.replace('/', '%2F')))
    assert 'total: %d,' % size in body.decode()


def test_rs_resize_with_an_old_agent_drops(short_tmp, tmp_path):
    started = Node(short_tmp, '--rs-sandbox-id', 'rs-old', '--agent', 'rs-old=4.0.0', '--no-netns', '--sandboxes', '0')
    try:
        device = str(tmp_path / 'dev-rs3')
        open(device, 'w').close()
        guest = json.loads(started.sim('attach', '--sandbox', 'rs-old', '--device', device).stdout)['guest_path']
        body = json.dumps({'volume_guest_path': guest, 'size': 1 << 30}).encode()
        assert rs_post(started.socket('rs-old'), '/direct-volume/resize', body) == b''
        assert started.log()[-1]['error'] == 'handler: Failed to resize volume'
    finally:
        started.stop()


def test_rs_iptables_get_put_and_agent_errors(node):
    sock = node.socket('sb-rs')
    assert request(sock, 'PUT', '/iptables', body=RULES_V4)[::2] == (200, b'')
    status, _h, body = request(sock, 'GET', '/iptables')
    assert status == 200 and b'-A INPUT -s 10.1.2.3/32 -j DROP' in body
    # An agent error (iptables-restore refuses the rules) is a handler error: no answer at all.
    assert raw_or_reset(sock, b'PUT /iptables HTTP/1.1\r\nHost: shim\r\nContent-Length: %d\r\n\r\n' % len(BAD_RULES)
                        + BAD_RULES) == b''
    assert node.log()[-1]['error'] == 'Failed to set iptable'


def test_rs_status500_fault_is_an_agent_failure(node):
    set_fault(node, 'sb-rs', 'status500')
    sock = node.socket('sb-rs')
    assert get_close(sock, '/iptables') == b''
    status, _h, body = request(sock, 'GET', '/metrics')
    assert status == 200 and b'kata_shim_threads' in body and b'kata_agent_' not in body
    assert request(sock, 'GET', '/agent-url')[0] == 200


# -- pods: the container engines' metadata -----------------------------------------------------------------------------

def test_pods_laid_down_as_the_engines_write_them(short_tmp):
    started = Node(short_tmp / 'node', '--sandbox-id', 'go-ctd', '--sandbox-id', 'go-crio', '--rs-sandbox-id', 'rs-ctd',
                   '--rs-sandbox-id', 'rs-crio', '--pod', 'go-ctd=default/web', '--pod', 'go-crio=crio:shop/cart',
                   '--pod', 'rs-ctd=containerd:shop/api@kata-qemu-runtime-rs', '--pod', 'rs-crio=crio:ops/db',
                   '--no-netns', '--sandboxes', '0')
    root = started.root
    try:
        pods = {sb['id']: sb['pod'] for sb in started.state['sandboxes']}
        ctd = os.path.join(root, 'run/containerd/io.containerd.runtime.v2.task/k8s.io')
        crio = os.path.join(root, 'run/containers/storage/overlay-containers')
        with open(os.path.join(ctd, 'go-ctd', 'config.json')) as f:
            annotations = json.load(f)['annotations']
        assert annotations['io.kubernetes.cri.container-type'] == 'sandbox'
        assert (annotations['io.kubernetes.cri.sandbox-namespace'], annotations['io.kubernetes.cri.sandbox-name'],
                annotations['io.kubernetes.cri.sandbox-uid'], annotations['io.kubernetes.cri.sandbox-id']) == (
            'default', 'web', pods['go-ctd']['uid'], 'go-ctd')
        assert 'io.containerd.cri.runtime-handler' not in annotations and pods['go-ctd']['handler'] is None
        with open(os.path.join(ctd, 'rs-ctd', 'config.json')) as f:
            assert json.load(f)['annotations']['io.containerd.cri.runtime-handler'] == 'kata-qemu-runtime-rs'
        with open(os.path.join(crio, 'rs-crio', 'userdata', 'config.json')) as f:
            annotations = json.load(f)['annotations']
        assert (annotations['io.kubernetes.cri-o.ContainerType'], annotations['io.kubernetes.pod.namespace'],
                annotations['io.kubernetes.pod.name'], annotations['io.kubernetes.pod.uid'],
                annotations['io.kubernetes.cri-o.RuntimeHandler']) == (
            'sandbox', 'ops', 'db', pods['rs-crio']['uid'], 'kata-qemu-runtime-rs')
        assert json.loads(annotations['io.kubernetes.cri-o.Labels'])['io.kubernetes.pod.name'] == 'db'
        # The Go runtime's persist files name the bundle; runtime-rs writes none.
        with open(os.path.join(root, 'run/vc/sbs/go-crio/persist.json')) as f:
            assert json.load(f)['SandboxContainer'] == 'go-crio'
        with open(os.path.join(root, 'run/vc/sbs/go-crio/go-crio/persist.json')) as f:
            assert json.load(f)['BundlePath'] == os.path.join(crio, 'go-crio', 'userdata') == pods['go-crio']['bundle']
        assert not os.path.exists(os.path.join(root, 'run/kata/rs-ctd/persist.json'))
    finally:
        started.stop()
    assert not os.path.exists(root)


def test_bad_pod_option(short_tmp):
    for value, message in (('x=default/web', b"option given for unknown sandbox 'x'"),
                           ('sb=Default/web', b'expected ID=[containerd:|crio:]NAMESPACE/NAME[@HANDLER]'),
                           ('sb=docker:a/b', b'expected ID='), ('sb=a', b'expected ID=')):
        proc = run_sim('start', '--root', str(short_tmp), '--no-netns', '--sandbox-id', 'sb', '--pod', value, check=False)
        assert proc.returncode == 1 and message in proc.stderr, (value, proc.stderr)
    assert _tree(str(short_tmp)) == []


# -- a node of several shim processes, and the agent's round trip --------------------------------------------------

def _listening_unix_paths(pid):
    """The unix socket paths process ``pid`` holds open (from /proc/<pid>/fd and /proc/net/unix)."""
    inodes = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            continue
        match = re.match(r'socket:\[(\d+)\]\Z', target)
        if match:
            inodes.add(match.group(1))
    paths = set()
    with open('/proc/net/unix') as f:
        next(f)
        for line in f:
            fields = line.split()
            if len(fields) >= 8 and fields[6] in inodes:
                paths.add(fields[7])
    return paths


def _agent_getmetrics_sum(text):
    match = re.search(r'^kata_shim_agent_rpc_durations_histogram_milliseconds_sum\{action="grpc\.GetMetricsRequest"\} '
                      r'(\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0  # absent until the first scrape is recorded


@pytest.mark.parametrize('processes', ['3', '0'])
def test_shim_processes_each_serve_their_sandboxes(short_tmp, processes):
    node = Node(short_tmp, '--sandboxes', '4', '--rs', '1', '--no-netns', '--shim-processes', processes)
    try:
        pids = node.state['shim_pids']
        expected = 3 if processes == '3' else 5  # 0: one process per sandbox
        assert len(pids) == expected == node.state['shim_processes'] and len(set(pids)) == expected
        assert node.state['pid'] not in pids and all(alive(pid) for pid in pids)
        sockets = [sb['socket'] for sb in node.state['sandboxes']]
        held = [_listening_unix_paths(pid) & set(sockets) for pid in pids]
        # every sandbox socket is held by exactly one shim process, sandbox i by process i mod N; none by the daemon
        for index, path in enumerate(sockets):
            assert [number for number, paths in enumerate(held) if path in paths] == [index % expected]
        assert not _listening_unix_paths(node.state['pid']) & set(sockets)
        for path in sockets:
            status, _headers, body = request(path, 'GET', '/metrics')
            assert status == 200 and b'kata_agent_scrape_count' in body
        # state set after the start would not reach the shim processes: refused, naming the option
        proc = node.sim('fault', '--sandbox', 'all', '--mode', 'hang', check=False)
        assert proc.returncode == 1 and b'--shim-processes' in proc.stderr
    finally:
        node.stop()
    deadline = time.time() + 10
    while any(alive(pid) for pid in pids) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_shim_processes_keep_faults_given_at_start(short_tmp):
    node = Node(short_tmp, '--sandbox-id', 'sp-a', '--sandbox-id', 'sp-b', '--no-netns', '--shim-processes', '2',
                '--fault', 'sp-b=status500:/metrics')
    try:
        assert request(node.socket('sp-a'), 'GET', '/metrics')[0] == 200
        assert request(node.socket('sp-b'), 'GET', '/metrics')[0] == 500
    finally:
        node.stop()


def test_agent_latency_is_the_getmetrics_round_trip(short_tmp):
    """Each scrape waits for the agent: the shim's own histogram of the GetMetrics RPC records it."""
    node = Node(short_tmp, '--sandboxes', '1', '--no-netns', '--agent-latency', '250')
    try:
        assert node.state['agent_latency_ms'] == 250.0
        path = node.state['sandboxes'][0]['socket']
        assert _agent_getmetrics_sum(request(path, 'GET', '/metrics')[2].decode()) == 0.0
        before = _agent_getmetrics_sum(request(path, 'GET', '/metrics')[2].decode())  # the first scrape's round trip
        after = _agent_getmetrics_sum(request(path, 'GET', '/metrics')[2].decode())
        assert before >= 250 and after - before >= 250
    finally:
        node.stop()


@pytest.mark.parametrize('option, value, message', [
    ('--shim-processes', '-1', b'--shim-processes must be a whole number from 1 up'),
    ('--agent-latency', '-5', b'--agent-latency must be from 0 to 60000 milliseconds'),
    ('--agent-latency', 'nan', b'--agent-latency must be from 0 to 60000 milliseconds'),
])
def test_node_options_are_checked(short_tmp, option, value, message):
    proc = run_sim('start', '--root', str(short_tmp), '--no-netns', option, value, check=False)
    assert proc.returncode != 0 and message in proc.stderr
    assert not os.path.exists(os.path.join(str(short_tmp), 'kata-sim', 'kata-sim.pid'))
