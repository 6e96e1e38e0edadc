# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test support for the metrics tests: kata-like exposition text and real shim-like servers on unix sockets.

``kata_shim_text()`` writes what a kata 3.0.0 shim serves on ``/metrics`` (``serveMetrics``, kata-containers 3.0.0
``src/runtime/pkg/containerd-shim-v2/shim_management.go``; docs/kata_behaviour.md, Metrics): the shim's Go client
defaults (``go_*``, ``process_*``), the ``kata_shim_*``, ``kata_hypervisor_*`` and ``kata_virtiofsd_*`` families, then
the agent's families (``kata_agent_*`` with the renamed process collector, ``kata_guest_*``), formatted as Go's
client_golang formats them (families sorted by name, labels sorted, floats in Go's shortest ``%g`` form).

``ShimServer`` is a real HTTP/1.1 server on a unix socket in a thread; ``behaviour`` chooses what it does with every
request: ``ok`` (200 + the text), ``status`` (500 + a Go error string), ``notfound`` (404, Go's text), ``garbage``
(200 + invalid metrics text), ``empty`` (200, empty body), ``hang`` (reads the request, never answers until stopped), ``gate`` (see Gate).
"""

from __future__ import annotations

import decimal
import math
import os
import random
import shutil
import socketserver
import tempfile
import threading

from http.server import BaseHTTPRequestHandler

SANDBOX_SOCKET = 'shim-monitor.sock'
GARBAGE = '# HELP kata_shim_threads Kata containerd shim v2 process threads.\n# TYPE kata_shim_threads gauge\nkata_shim_threads twelve\n'
STATUS_BODY = 'failed to get agent metrics: ttrpc: closed'


def go_float(value):
    """Format a float as Go's strconv.FormatFloat(v, 'g', -1, 64) does (what client_golang writes)."""
    if math.isnan(value):
        return 'NaN'
    if value in (float('inf'), float('-inf')):
        return '+Inf' if value > 0 else '-Inf'
    if value == 0:
        return '0'
    sign = '-' if value < 0 else ''
    number = decimal.Decimal(repr(abs(value))).normalize()
    dummy, digits, exponent = number.as_tuple()
    digits = ''.join(str(d) for d in digits)
    point = len(digits) + exponent          # position of the decimal point in the digit string
    exp = point - 1
    if exp < -4 or exp >= 6:  # shortest %g: Go decides with a precision of 6
        mantissa = digits[0] + ('.' + digits[1:] if len(digits) > 1 else '')
        return '%s%se%s%02d' % (sign, mantissa, '-' if exp < 0 else '+', abs(exp))
    if point <= 0:
        return '%s0.%s%s' % (sign, '0' * -point, digits)
    if point >= len(digits):
        return sign + digits + '0' * (point - len(digits))
    return '%s%s.%s' % (sign, digits[:point], digits[point:])


PROC_STATUS_ITEMS = ('vmpeak vmsize vmlck vmpin vmhwm vmrss rssanon rssfile rssshmem vmdata vmstk vmexe vmlib vmpte '
                     'vmpmd vmswap hugetlbpages voluntary_ctxt_switches nonvoluntary_ctxt_switches').split()
PROC_STAT_ITEMS = 'utime stime cutime cstime'.split()
IO_STAT_ITEMS = 'rchar wchar syscr syscw readbytes writebytes cancelledwritebytes'.split()
NETDEV_ITEMS = ('recv_bytes recv_packets recv_errs recv_drop recv_compressed recv_fifo recv_frame recv_multicast '
                'sent_bytes sent_packets sent_errs sent_drop sent_colls sent_carrier sent_compressed sent_fifo').split()
CPU_ITEMS = 'user nice system idle iowait irq softirq steal guest guest_nice'.split()
DISK_ITEMS = ('reads merged sectors_read time_reading writes writes_merged sectors_written time_writing in_progress '
              'time_in_progress weighted_time_in_progress discards discards_merged sectors_discarded time_discarding '
              'flushes time_flushing').split()
MEMINFO_ITEMS = ('mem_total mem_free mem_available buffers cached swap_cached active inactive active_anon '
                 'inactive_anon active_file inactive_file unevictable mlocked swap_total swap_free dirty writeback '
                 'anon_pages mapped shmem k_reclaimable slab s_reclaimable s_unreclaim kernel_stack page_tables '
                 'commit_limit committed_as vmalloc_total vmalloc_used vmalloc_chunk per_cpu hardware_corrupted '
                 'anon_huge_pages hugetlb direct_map_4k direct_map_2M direct_map_1G').split()
VMSTAT_ITEMS = ('nr_free_pages nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file nr_zone_active_file '
                'nr_mlock nr_bounce nr_zspages nr_free_cma pgpgin pgpgout pswpin pswpout pgalloc_dma pgalloc_dma32 '
                'pgalloc_normal pgfree pgactivate pgdeactivate pgfault pgmajfault pgrefill_dma32 pgsteal_kswapd '
                'pgscan_kswapd workingset_refault_anon oom_kill thp_fault_alloc').split()
SHIM_ACTIONS = 'create start state wait pids update connect stats delete shutdown'.split()
AGENT_ACTIONS = ('grpc.CreateContainerRequest grpc.StartContainerRequest grpc.WaitProcessRequest '
                 'grpc.CreateSandboxRequest grpc.GetGuestDetailsRequest grpc.StatsContainerRequest').split()
BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class _Writer(object):
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.families = []

    def family(self, name, kind, text, samples):
        self.families.append((name, kind, text, samples))

    def value(self, low=0, high=1 << 20, integer=True):
        return float(self.rng.randint(low, high)) if integer else self.rng.uniform(low, high)

    def items(self, name, text, label, items, **kw):
        self.family(name, 'gauge', text, [(name, {label: i}, self.value(**kw)) for i in items])

    def histogram(self, name, text, label, actions):
        samples = []
        for action in actions:
            count = self.rng.randint(1, 40)
            cumulative = 0
            for bound in BUCKETS:
                cumulative = min(count, cumulative + self.rng.randint(0, 6))
                samples.append((name + '_bucket', {label: action, 'le': go_float(bound)}, float(cumulative)))
            samples.append((name + '_bucket', {label: action, 'le': '+Inf'}, float(count)))
            samples.append((name + '_sum', {label: action}, self.value(1, 9000, integer=False)))
            samples.append((name + '_count', {label: action}, float(count)))
        self.family(name, 'histogram', text, samples)

    def render(self, sort=True):
        out = []
        families = sorted(self.families, key=lambda f: f[0]) if sort else self.families
        for name, kind, text, samples in families:
            out.append('# HELP %s %s\n# TYPE %s %s\n' % (name, text.replace('\\', '\\\\').replace('\n', '\\n'), name, kind))
            for sample_name, labels, value in samples:
                if labels:
                    pairs = ','.join('%s="%s"' % (k, labels[k].replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n'))
                                     for k in sorted(labels) if k != 'le')
                    if 'le' in labels:
                        pairs = (pairs + ',' if pairs else '') + 'le="%s"' % labels['le']
                    out.append('%s{%s} %s\n' % (sample_name, pairs, go_float(value)))
                else:
                    out.append('%s %s\n' % (sample_name, go_float(value)))
        return ''.join(out)


def _process_families(w, prefix, text_prefix):
    w.family(prefix + 'process_cpu_seconds_total', 'counter', text_prefix + 'Total user and system CPU time spent in seconds.',
             [(prefix + 'process_cpu_seconds_total', {}, w.value(0, 50, integer=False))])
    for name, text in (('max_fds', 'Maximum number of open file descriptors.'),
                       ('open_fds', 'Number of open file descriptors.'),
                       ('resident_memory_bytes', 'Resident memory size in bytes.'),
                       ('start_time_seconds', 'Start time of the process since unix epoch in seconds.'),
                       ('virtual_memory_bytes', 'Virtual memory size in bytes.'),
                       ('virtual_memory_max_bytes', 'Maximum amount of virtual memory available in bytes.')):
        value = w.value(1 << 20, 1 << 31) if 'bytes' in name else w.value(3, 1 << 20)
        if name == 'start_time_seconds':
            value = 1767225600.0 + w.value(0, 86400, integer=False)
        if name == 'virtual_memory_max_bytes':
            value = 1.8446744073709552e+19
        w.family(prefix + 'process_' + name, 'gauge', text_prefix + text, [(prefix + 'process_' + name, {}, value)])


def kata_shim_text(sandbox_id='sandbox', agent=True, virtiofsd=True, cpus=2):
    """The text a kata 3.0.0 shim of sandbox ``sandbox_id`` serves (deterministic for one ID)."""
    shim = _Writer('shim:' + sandbox_id)
    shim.family('go_gc_duration_seconds', 'summary', 'A summary of the pause duration of garbage collection cycles.',
                [('go_gc_duration_seconds', {'quantile': q}, shim.value(1, 900, integer=False) * 1e-6)
                 for q in ('0', '0.25', '0.5', '0.75', '1')]
                + [('go_gc_duration_seconds_sum', {}, shim.value(0, 1, integer=False)),
                   ('go_gc_duration_seconds_count', {}, shim.value(1, 400))])
    shim.family('go_goroutines', 'gauge', 'Number of goroutines that currently exist.',
                [('go_goroutines', {}, shim.value(10, 90))])
    shim.family('go_info', 'gauge', 'Information about the Go environment.', [('go_info', {'version': 'go1.19.3'}, 1.0)])
    for name, kind, text in (('alloc_bytes', 'gauge', 'Number of bytes allocated and still in use.'),
                             ('alloc_bytes_total', 'counter', 'Total number of bytes allocated, even if freed.'),
                             ('heap_objects', 'gauge', 'Number of allocated objects.'),
                             ('last_gc_time_seconds', 'gauge', 'Number of seconds since 1970 of last garbage collection.'),
                             ('mallocs_total', 'counter', 'Total number of mallocs.'),
                             ('sys_bytes', 'gauge', 'Number of bytes obtained from system.')):
        value = 1.7672256e9 + shim.value(0, 1e5, integer=False) if 'seconds' in name else shim.value(1 << 16, 1 << 28)
        shim.family('go_memstats_' + name, kind, text, [('go_memstats_' + name, {}, value)])
    shim.family('go_threads', 'gauge', 'Number of OS threads created.', [('go_threads', {}, shim.value(5, 40))])
    _process_families(shim, '', '')
    for component, text in (('shim', 'Kata containerd shim v2'), ('hypervisor', 'Hypervisor'), ('virtiofsd', 'virtiofsd')):
        if component == 'virtiofsd' and not virtiofsd:
            continue
        prefix = 'kata_%s_' % component
        shim.family(prefix + 'threads', 'gauge', '%s process threads.' % text, [(prefix + 'threads', {}, shim.value(1, 60))])
        shim.family(prefix + 'fds', 'gauge', '%s open FDs.' % text, [(prefix + 'fds', {}, shim.value(4, 300))])
        shim.items(prefix + 'proc_status', '%s process status.' % text, 'item', PROC_STATUS_ITEMS)
        shim.items(prefix + 'proc_stat', '%s process statistics.' % text, 'item', PROC_STAT_ITEMS)
        shim.items(prefix + 'io_stat', '%s process IO statistics.' % text, 'item', IO_STAT_ITEMS)
        if component != 'virtiofsd':
            shim.family(prefix + 'netdev', 'gauge', '%s network devices statistics.' % text,
                        [(prefix + 'netdev', {'interface': iface, 'item': item}, shim.value())
                         for iface in ('eth0', 'lo') for item in NETDEV_ITEMS])
    shim.histogram('kata_shim_rpc_durations_histogram_milliseconds', 'RPC latency distributions.', 'action', SHIM_ACTIONS)
    shim.histogram('kata_shim_agent_rpc_durations_histogram_milliseconds', 'RPC latency distributions.', 'action',
                   AGENT_ACTIONS)
    shim.family('kata_shim_pod_overhead_cpu', 'gauge', 'Kata Pod overhead for CPU resources(percent).',
                [('kata_shim_pod_overhead_cpu', {}, shim.value(0, 5, integer=False))])
    shim.family('kata_shim_pod_overhead_memory_in_bytes', 'gauge', 'Kata Pod overhead for memory resources(bytes).',
                [('kata_shim_pod_overhead_memory_in_bytes', {}, shim.value(1 << 20, 1 << 28))])
    text = shim.render()
    if not agent:
        return text
    guest = _Writer('agent:' + sandbox_id)
    guest.family('kata_agent_scrape_count', 'counter', 'Metrics scrape count',
                 [('kata_agent_scrape_count', {}, guest.value(1, 5000))])
    for name, text_ in (('total_time', 'Agent process total time'), ('total_vm', 'Agent process total VM size'),
                        ('total_rss', 'Agent process total RSS size')):
        guest.family('kata_agent_' + name, 'gauge', text_, [('kata_agent_' + name, {}, guest.value())])
    guest.items('kata_agent_proc_status', 'Agent process status.', 'item', PROC_STATUS_ITEMS)
    guest.items('kata_agent_io_stat', 'Agent process IO statistics.', 'item', IO_STAT_ITEMS)
    guest.items('kata_agent_proc_stat', 'Agent process statistics.', 'item', PROC_STAT_ITEMS)
    _process_families(guest, 'kata_agent_', '')
    guest.items('kata_guest_load', 'Guest system load.', 'item', ('load1', 'load5', 'load15'), integer=False, high=4)
    guest.items('kata_guest_tasks', 'Guest system load.', 'item', ('cur', 'max'))
    guest.family('kata_guest_cpu_time', 'gauge', 'Guest CPU statistics.',
                 [('kata_guest_cpu_time', {'cpu': cpu, 'item': item}, guest.value())
                  for cpu in ['total'] + [str(n) for n in range(cpus)] for item in CPU_ITEMS])
    guest.items('kata_guest_vm_stat', 'Guest virtual memory statistics.', 'item', VMSTAT_ITEMS)
    guest.family('kata_guest_netdev_stat', 'gauge', 'Guest net devices statistics.',
                 [('kata_guest_netdev_stat', {'interface': iface, 'item': item}, guest.value())
                  for iface in ('eth0', 'lo') for item in NETDEV_ITEMS])
    guest.family('kata_guest_diskstat', 'gauge', 'Disks statistics in system.',
                 [('kata_guest_diskstat', {'disk': disk, 'item': item}, guest.value())
                  for disk in ('vda', 'pmem0') for item in DISK_ITEMS])
    guest.items('kata_guest_meminfo', 'Statistics about memory usage in the system.', 'item', MEMINFO_ITEMS)
    return text + guest.render()


def sample(name, value, labels=None, timestamp=None):
    """A sample in parse_text's shape."""
    return {'name': name, 'labels': labels or {}, 'value': value, 'timestamp': timestamp}


def family(name, kind, text, samples):
    """A family in parse_text's shape."""
    return {'name': name, 'type': kind, 'help': text, 'samples': samples}


# The oracle: prometheus_client's parser. It differs from the format (and from Go's parser) in known ways, undone
# by oracle() and canonical(): it renames counters OpenMetrics-style (family ``x``, samples ``x_total``), makes every
# sample it cannot place a one-sample untyped family, keeps families without samples, calls untyped ``unknown``,
# and gives timestamps in seconds.

def oracle(text):
    """prometheus_client's parse of ``text``, normalized to our shape's canonical form (see the docstring)."""
    from prometheus_client.parser import text_string_to_metric_families

    merged = []
    for metric in text_string_to_metric_families(text):
        kind = 'untyped' if metric.type == 'unknown' else metric.type
        samples = [(s.name, tuple(sorted(s.labels.items())), _value_key(float(s.value)), s.timestamp)
                   for s in metric.samples]
        if merged and merged[-1][0] == metric.name and merged[-1][1] == kind:
            merged[-1][3].extend(samples)   # the oracle splits untyped samples into one family each
        else:
            merged.append((metric.name, kind, metric.documentation, samples))
    return [f for f in merged if f[3]]


def canonical(families):
    """Our parse in the oracle's canonical form: counters named OpenMetrics-style, timestamps in seconds."""
    out = []
    for fam in families:
        name, kind = fam['name'], fam['type']
        samples = []
        for s in fam['samples']:
            sname = s['name']
            if kind == 'counter' and not sname.endswith('_total'):
                sname += '_total'
            ts = None if s['timestamp'] is None else s['timestamp'] / 1000
            samples.append((sname, tuple(sorted(s['labels'].items())), _value_key(float(s['value'])), ts))
        if kind == 'counter' and name.endswith('_total'):
            name = name[:-6]
        out.append((name, kind, fam['help'], samples))
    return out


def _value_key(value):
    return 'NaN' if math.isnan(value) else value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def address_string(self):
        return 'unix'

    def _answer(self, status, body, reason=None):
        data = body.encode('utf-8') if isinstance(body, str) else body
        self.send_response(status, reason)
        self.send_header('Content-Type', 'text/plain; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _any(self):
        server = self.server
        server.record(self.command, self.path)
        behaviour = server.behaviour
        if behaviour == 'hang':
            server.stopping.wait(60)
            return
        if behaviour == 'gate':
            server.gate.enter()
            try:
                server.gate.hold()
            finally:
                # Leave before answering: once the answer is written, the client may send its next request, and that
                # one must not find this one still counted (a sequential client showed 2 in flight).
                server.gate.leave()
            self._answer(200, server.body)
            return
        if self.path.split('?', 1)[0] != '/metrics':
            self._answer(404, '404 page not found\n', 'Not Found')
        elif behaviour == 'status':
            self._answer(500, STATUS_BODY, 'Internal Server Error')
        elif behaviour == 'notfound':
            self._answer(404, '404 page not found\n', 'Not Found')
        elif behaviour == 'garbage':
            self._answer(200, GARBAGE)
        elif behaviour == 'empty':
            self._answer(200, '')
        else:
            self._answer(200, server.body)

    do_GET = do_POST = do_PUT = do_HEAD = _any


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path, behaviour, body, gate):
        self.behaviour = behaviour
        self.body = body
        self.gate = gate
        self.requests = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        socketserver.UnixStreamServer.__init__(self, path, _Handler)

    def record(self, method, path):
        with self.lock:
            self.requests.append((method, path))


class Gate(object):
    """In-flight accounting shared by the ``gate`` servers of ``total`` sandboxes, for concurrency tests.

    Each request is held until ``size`` requests are in flight (or, at the tail, every request still to come), then
    for ``linger`` seconds more, so that a client keeping more than ``size`` scrapes going shows it in
    ``max_in_flight``. A client that keeps exactly ``size`` going is never stalled; one that keeps fewer stalls until
    ``wait`` seconds pass. Correct clients always pass; ``linger`` only sets how surely an unbounded one is caught.
    """

    def __init__(self, size, total, linger=0.1, wait=20.0):
        self.size = size
        self.total = total
        self.linger = linger
        self.wait = wait
        self.in_flight = 0
        self.completed = 0
        self.max_in_flight = 0
        self.cond = threading.Condition()
        self.stopping = False

    def enter(self):
        with self.cond:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.cond.notify_all()

    def hold(self):
        with self.cond:
            self.cond.wait_for(lambda: self.stopping or self.in_flight >= min(self.size, self.total - self.completed),
                               timeout=self.wait)
            self.cond.wait_for(lambda: self.stopping, timeout=self.linger)

    def leave(self):
        with self.cond:
            self.in_flight -= 1
            self.completed += 1
            self.cond.notify_all()

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


class ShimServer(object):
    """A shim-like HTTP server on ``path`` (a unix socket) in a background thread. Use as a context manager."""

    def __init__(self, path, behaviour='ok', body=None, gate=None):
        self.path = path
        self.server = _Server(path, behaviour, body if body is not None else kata_shim_text(), gate)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True

    @property
    def requests(self):
        with self.server.lock:
            return list(self.server.requests)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.stopping.set()
        if self.server.gate is not None:
            self.server.gate.stop()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class SandboxTree(object):
    """Sandbox directories under ``<base>/vc`` (Go runtime) and ``<base>/kata`` (runtime-rs), each with a server.

    ``base`` is a new short temporary directory (unix socket paths are limited to 107 bytes), removed by ``close()``.
    ``add(id, behaviour, runtime='go'|'rs', body=None, serve=True, gate=None)``; ``serve=False`` leaves the directory
    without a socket. Stop everything with ``close()`` (or use as a context manager).
    """

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix='km')
        self.sandbox_root = os.path.join(self.base, 'vc')
        self.rs_sandbox_root = os.path.join(self.base, 'kata')
        os.makedirs(self.sandbox_root)
        os.makedirs(self.rs_sandbox_root)
        self.servers = {}

    def socket(self, sandbox_id, runtime='go'):
        root = self.sandbox_root if runtime == 'go' else self.rs_sandbox_root
        return os.path.join(root, sandbox_id, SANDBOX_SOCKET)

    def add(self, sandbox_id, behaviour='ok', runtime='go', body=None, serve=True, gate=None):
        path = self.socket(sandbox_id, runtime)
        os.makedirs(os.path.dirname(path))
        if serve:
            text = body if body is not None else kata_shim_text(sandbox_id)
            self.servers[sandbox_id] = ShimServer(path, behaviour, text, gate=gate).start()
        return path

    def close(self):
        for server in self.servers.values():
            server.stop()
        self.servers = {}
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
