# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The metric families a kata 3.0.0 shim serves on ``/metrics``.

Upstream (kata-containers 3.0.0): ``serveMetrics`` and ``decodeAgentMetrics`` in
``src/runtime/pkg/containerd-shim-v2/shim_management.go``, ``shim_metrics.go`` beside it, and the agent's
``src/agent/src/metrics.rs``.

Two halves, in the order the shim writes them:

* the shim's own Go registry (sorted by name): ``go_*`` (client_golang 1.12.1's Go 1.17+ collector, including the
  runtime/metrics families), ``kata_firecracker_*`` (firecracker sandboxes only), ``kata_hypervisor_*``,
  ``kata_shim_*``, ``kata_virtiofsd_*`` and ``process_*``. ``process_*`` and ``kata_shim_*`` are read from the
  simulator's own /proc entry (it *is* the shim process), shifted a little per sandbox;
* the agent's Rust registry as fetched over ttrpc, decoded and re-encoded by the shim: ``kata_agent_*``,
  ``kata_guest_*`` and the Rust process collector's ``process_*`` renamed ``kata_agent_process_*``.

Values other than the simulator's own process data are synthesised from a per-sandbox seed and the time since
start, so they differ per sandbox and move a little on every scrape. ``kata_sim_escapes`` is the one family kata
does not have (see README.md): its HELP and label value carry a backslash, a quote and a newline.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import threading
import time

from sim_promtext import Family

GO_VERSION = 'go1.19.3'
SHIM_RPC_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]  # prometheus.ExponentialBuckets(1, 2, 10)
GO_PAUSE_BUCKETS = [9.999999999999999e-10, 9.999999999999999e-09, 9.999999999999998e-08, 1.0239999999999999e-06,
                    1.0239999999999999e-05, 0.00010239999999999998, 0.0010485759999999998, 0.010485759999999998,
                    0.10485759999999998]
GO_SIZE_BUCKETS = [8.999999999999998, 16.999999999999996, 24.999999999999996, 32.99999999999999, 48.99999999999999,
                   64.99999999999999, 80.99999999999999, 96.99999999999999, 112.99999999999999, 128.99999999999997,
                   144.99999999999997, 160.99999999999997, 176.99999999999997, 192.99999999999997, 208.99999999999997,
                   224.99999999999997, 240.99999999999997, 256.99999999999994, 288.99999999999994, 320.99999999999994,
                   352.99999999999994, 384.99999999999994, 416.99999999999994, 448.99999999999994, 480.99999999999994,
                   512.9999999999999, 576.9999999999999, 640.9999999999999, 704.9999999999999, 768.9999999999999,
                   896.9999999999999, 1024.9999999999998, 1152.9999999999998, 1280.9999999999998, 1408.9999999999998,
                   1536.9999999999998, 1792.9999999999998, 2048.9999999999995, 2304.9999999999995, 2688.9999999999995,
                   3072.9999999999995, 3200.9999999999995, 3456.9999999999995, 4096.999999999999, 4864.999999999999,
                   5376.999999999999, 6144.999999999999, 6528.999999999999, 6784.999999999999, 6912.999999999999,
                   8192.999999999998, 9472.999999999998, 9728.999999999998, 10240.999999999998, 10880.999999999998,
                   12288.999999999998, 13568.999999999998, 14336.999999999998, 16384.999999999996, 18432.999999999996,
                   19072.999999999996, 20480.999999999996, 21760.999999999996, 24576.999999999996, 27264.999999999996,
                   28672.999999999996, 32768.99999999999]

PROC_STATUS_ITEMS = ('vmpeak', 'vmsize', 'vmlck', 'vmpin', 'vmhwm', 'vmrss', 'rssanon', 'rssfile', 'rssshmem', 'vmdata',
                     'vmstk', 'vmexe', 'vmlib', 'vmpte', 'vmpmd', 'vmswap', 'hugetlbpages', 'voluntary_ctxt_switches',
                     'nonvoluntary_ctxt_switches')
NETDEV_ITEMS = ('recv_bytes', 'recv_packets', 'recv_errs', 'recv_drop', 'recv_compressed', 'recv_fifo', 'recv_frame',
                'recv_multicast', 'sent_bytes', 'sent_packets', 'sent_errs', 'sent_drop', 'sent_colls', 'sent_carrier',
                'sent_compressed', 'sent_fifo')
# /proc/net/dev column order -> the shim's item names (procfs.NetDevLine).
_NETDEV_COLUMNS = ('recv_bytes', 'recv_packets', 'recv_errs', 'recv_drop', 'recv_fifo', 'recv_frame', 'recv_compressed',
                   'recv_multicast', 'sent_bytes', 'sent_packets', 'sent_errs', 'sent_drop', 'sent_fifo', 'sent_colls',
                   'sent_carrier', 'sent_compressed')
GUEST_MEMINFO_ITEMS = ('mem_total', 'mem_free', 'mem_available', 'buffers', 'cached', 'swap_cached', 'active', 'inactive',
                       'active_anon', 'inactive_anon', 'active_file', 'inactive_file', 'unevictable', 'mlocked',
                       'high_total', 'high_free', 'low_total', 'low_free', 'mmap_copy', 'swap_total', 'swap_free', 'dirty',
                       'writeback', 'anon_pages', 'mapped', 'shmem', 'slab', 's_reclaimable', 's_unreclaim',
                       'kernel_stack', 'page_tables', 'quicklists', 'nfs_unstable', 'bounce', 'writeback_tmp',
                       'commit_limit', 'committed_as', 'vmalloc_total', 'vmalloc_used', 'vmalloc_chunk',
                       'hardware_corrupted', 'anon_hugepages', 'shmem_hugepages', 'shmem_pmd_mapped', 'cma_total',
                       'cma_free', 'hugepages_total', 'hugepages_free', 'hugepages_rsvd', 'hugepages_surp', 'hugepagesize',
                       'direct_map_4k', 'direct_map_4M', 'direct_map_2M', 'direct_map_1G', 'hugetlb', 'per_cpu',
                       'k_reclaimable')
GUEST_CPU_ITEMS = ('user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guest_nice')
GUEST_DISK_ITEMS = ('reads', 'merged', 'sectors_read', 'time_reading', 'writes', 'writes_merged', 'sectors_written',
                    'time_writing', 'in_progress', 'time_in_progress', 'weighted_time_in_progress', 'discards',
                    'discards_merged', 'sectors_discarded', 'time_discarding', 'flushes', 'time_flushing')
# A guest kernel's /proc/vmstat keys (5.19, as in kata 3.0.0's guest kernel), in file order.
GUEST_VMSTAT_KEYS = (
    'nr_free_pages nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file nr_zone_active_file '
    'nr_zone_unevictable nr_zone_write_pending nr_mlock nr_bounce nr_zspages nr_free_cma numa_hit numa_miss '
    'numa_foreign numa_interleave numa_local numa_other nr_inactive_anon nr_active_anon nr_inactive_file '
    'nr_active_file nr_unevictable nr_slab_reclaimable nr_slab_unreclaimable nr_isolated_anon nr_isolated_file '
    'workingset_nodes workingset_refault_anon workingset_refault_file workingset_activate_anon '
    'workingset_activate_file workingset_restore_anon workingset_restore_file workingset_nodereclaim nr_anon_pages '
    'nr_mapped nr_file_pages nr_dirty nr_writeback nr_writeback_temp nr_shmem nr_shmem_hugepages '
    'nr_shmem_pmdmapped nr_file_hugepages nr_file_pmdmapped nr_anon_transparent_hugepages nr_vmscan_write '
    'nr_vmscan_immediate_reclaim nr_dirtied nr_written nr_throttled_written nr_kernel_misc_reclaimable '
    'nr_foll_pin_acquired nr_foll_pin_released nr_kernel_stack nr_page_table_pages nr_swapcached '
    'nr_dirty_threshold nr_dirty_background_threshold pgpgin pgpgout pswpin pswpout pgalloc_dma pgalloc_dma32 '
    'pgalloc_normal pgalloc_movable allocstall_dma allocstall_dma32 allocstall_normal allocstall_movable '
    'pgskip_dma pgskip_dma32 pgskip_normal pgskip_movable pgfree pgactivate pgdeactivate pglazyfree pgfault '
    'pgmajfault pglazyfreed pgrefill pgreuse pgsteal_kswapd pgsteal_direct pgdemote_kswapd pgdemote_direct '
    'pgscan_kswapd pgscan_direct pgscan_direct_throttle pgscan_anon pgscan_file pgsteal_anon pgsteal_file '
    'zone_reclaim_failed pginodesteal slabs_scanned kswapd_inodesteal kswapd_low_wmark_hit_quickly '
    'kswapd_high_wmark_hit_quickly pageoutrun pgrotated drop_pagecache drop_slab oom_kill numa_pte_updates '
    'numa_huge_pte_updates numa_hint_faults numa_hint_faults_local numa_pages_migrated pgmigrate_success '
    'pgmigrate_fail thp_migration_success thp_migration_fail thp_migration_split compact_migrate_scanned '
    'compact_free_scanned compact_isolated compact_stall compact_fail compact_success compact_daemon_wake '
    'compact_daemon_migrate_scanned compact_daemon_free_scanned htlb_buddy_alloc_success htlb_buddy_alloc_fail '
    'unevictable_pgs_culled unevictable_pgs_scanned unevictable_pgs_rescued unevictable_pgs_mlocked '
    'unevictable_pgs_munlocked unevictable_pgs_cleared unevictable_pgs_stranded thp_fault_alloc '
    'thp_fault_fallback thp_fault_fallback_charge thp_collapse_alloc thp_collapse_alloc_failed thp_file_alloc '
    'thp_file_fallback thp_file_fallback_charge thp_file_mapped thp_split_page thp_split_page_failed '
    'thp_deferred_split_page thp_split_pmd thp_scan_exceed_none_pte thp_scan_exceed_swap_pte '
    'thp_scan_exceed_share_pte thp_zero_page_alloc thp_zero_page_alloc_failed thp_swpout thp_swpout_fallback '
    'balloon_inflate balloon_deflate balloon_migrate swap_ra swap_ra_hit direct_map_level2_splits '
    'direct_map_level3_splits nr_unstable').split()

SHIM_ACTIONS = {'connect': (1, 0), 'create': (1, 280), 'start': (1, 12), 'state': (6, 0), 'wait': (1, 0), 'pids': (2, 0),
                'stats': (3, 1), 'update': (1, 2)}
AGENT_START_ACTIONS = {'grpc.CheckRequest': (2, 0), 'grpc.CreateSandboxRequest': (1, 38), 'grpc.GetGuestDetailsRequest': (1, 0),
                       'grpc.UpdateInterfaceRequest': (1, 3), 'grpc.UpdateRoutesRequest': (1, 2),
                       'grpc.CreateContainerRequest': (2, 21), 'grpc.StartContainerRequest': (2, 3),
                       'grpc.StatsContainerRequest': (3, 1), 'grpc.SetGuestDateTimeRequest': (1, 0)}


def _read(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


class ProcSelf:
    """What procfs (Go) reads from /proc/self for the shim process: stat, status, io, fds, limits, net/dev."""

    def __init__(self):
        self.ticks = os.sysconf('SC_CLK_TCK')
        self.page = os.sysconf('SC_PAGE_SIZE')
        stat = _read('/proc/self/stat')
        fields = stat[stat.rfind(')') + 2:].split()
        self.utime, self.stime, self.cutime, self.cstime = (int(x) for x in fields[11:15])
        self.threads = int(fields[17])
        self.starttime = int(fields[19])
        self.vsize = int(fields[20])
        self.rss = int(fields[21]) * self.page
        self.status = {}
        for line in _read('/proc/self/status').splitlines():
            key, _sep, value = line.partition(':')
            parts = value.split()
            if parts and parts[0].isdigit():
                self.status[key.strip()] = int(parts[0]) * (1024 if parts[1:] == ['kB'] else 1)
        self.io = {}
        for line in _read('/proc/self/io').splitlines():
            key, _sep, value = line.partition(':')
            if value.strip().isdigit():
                self.io[key.strip()] = int(value)
        try:
            self.fds = len(os.listdir('/proc/self/fd'))
        except OSError:
            self.fds = 0
        self.max_fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.max_as = resource.getrlimit(resource.RLIMIT_AS)[0]
        self.netdev = {}
        for line in _read('/proc/self/net/dev').splitlines()[2:]:
            name, _sep, values = line.partition(':')
            numbers = [int(x) for x in values.split()]
            if len(numbers) == 16:
                self.netdev[name.strip()] = dict(zip(_NETDEV_COLUMNS, numbers))
        boot = 0
        for line in _read('/proc/stat').splitlines():
            if line.startswith('btime '):
                boot = int(line.split()[1])
        self.start_time = boot + self.starttime / float(self.ticks)


class MetricsState:
    """Per-sandbox metric state: seed, start time, scrape counter and the RPC histograms' observations."""

    def __init__(self, sandbox_id, hypervisor, index):
        self.sandbox_id = sandbox_id
        self.hypervisor = hypervisor
        self.index = index
        self.seed = int(hashlib.sha256(sandbox_id.encode('utf-8')).hexdigest()[:12], 16)
        self.started = time.time() - 30 - self.seed % 600
        self.lock = threading.Lock()
        self.scrapes = 0  # the agent's kata_agent_scrape_count
        self.pod_overhead = None  # set after the first scrape, like the shim's asynchronous measurement
        rng = random.Random(self.seed)
        self.shim_rpc = {}
        for action, (count, typical) in SHIM_ACTIONS.items():
            self.shim_rpc[action] = [max(0, int(rng.gauss(typical, typical / 4.0 + 0.5))) for _i in range(count)]
        self.agent_rpc = {}
        for action, (count, typical) in AGENT_START_ACTIONS.items():
            self.agent_rpc[action] = [max(0, int(rng.gauss(typical, typical / 4.0 + 0.5))) for _i in range(count)]

    def observe_agent(self, action, milliseconds):
        """Record an agent RPC like kata's agentRPCDurationsHistogram (integer milliseconds)."""
        with self.lock:
            self.agent_rpc.setdefault(action, []).append(int(milliseconds))

    def observe_shim(self, action, milliseconds):
        with self.lock:
            self.shim_rpc.setdefault(action, []).append(int(milliseconds))

    def rng(self, salt=''):
        return random.Random('%d/%d/%s' % (self.seed, self.scrapes, salt))

    def uptime(self):
        return max(1.0, time.time() - self.started)


def _scaled(base, rng, spread=0.02):
    return int(base * (1 + rng.uniform(-spread, spread)))


def _netdev_family(name, help_text, devices):
    family = Family(name, 'gauge', help_text)
    for dev, values in devices.items():
        for item in NETDEV_ITEMS:
            family.add(values.get(item, 0), interface=dev, item=item)
    return family.sort()


def _proc_status_family(name, help_text, status, items=PROC_STATUS_ITEMS):
    family = Family(name, 'gauge', help_text)
    for item in items:
        family.add(status.get(item, 0), item=item)
    return family.sort()


def _self_status(proc):
    keys = {'vmpeak': 'VmPeak', 'vmsize': 'VmSize', 'vmlck': 'VmLck', 'vmpin': 'VmPin', 'vmhwm': 'VmHWM', 'vmrss': 'VmRSS',
            'rssanon': 'RssAnon', 'rssfile': 'RssFile', 'rssshmem': 'RssShmem', 'vmdata': 'VmData', 'vmstk': 'VmStk',
            'vmexe': 'VmExe', 'vmlib': 'VmLib', 'vmpte': 'VmPTE', 'vmpmd': 'VmPMD', 'vmswap': 'VmSwap',
            'hugetlbpages': 'HugetlbPages', 'voluntary_ctxt_switches': 'voluntary_ctxt_switches',
            'nonvoluntary_ctxt_switches': 'nonvoluntary_ctxt_switches'}
    return {item: proc.status.get(key, 0) for item, key in keys.items()}


def _synthetic_process(rng, uptime, rss, vm, threads, fds, busy):
    """A plausible process (hypervisor, virtiofsd, agent) in the shape of procfs data."""
    ticks = int(uptime * busy * 100)
    status = {'vmpeak': _scaled(vm * 1.05, rng, 0), 'vmsize': _scaled(vm, rng, 0.001), 'vmlck': 0, 'vmpin': 0,
              'vmhwm': _scaled(rss * 1.1, rng, 0), 'vmrss': _scaled(rss, rng, 0.01), 'rssanon': _scaled(rss * 0.8, rng, 0.01),
              'rssfile': _scaled(rss * 0.19, rng, 0.01), 'rssshmem': _scaled(rss * 0.01, rng, 0.01),
              'vmdata': _scaled(vm * 0.3, rng, 0.001), 'vmstk': 135168, 'vmexe': 1 << 22, 'vmlib': _scaled(vm * 0.01, rng, 0),
              'vmpte': _scaled(rss / 400.0, rng, 0), 'vmpmd': 12288, 'vmswap': 0, 'hugetlbpages': 0,
              'voluntary_ctxt_switches': int(uptime * busy * 900), 'nonvoluntary_ctxt_switches': int(uptime * busy * 40)}
    stat = {'utime': int(ticks * 0.7), 'stime': ticks - int(ticks * 0.7), 'cutime': 0, 'cstime': 0}
    io = {'rchar': int(uptime * busy * 52000), 'wchar': int(uptime * busy * 31000), 'syscr': int(uptime * busy * 230),
          'syscw': int(uptime * busy * 170), 'readbytes': int(uptime * busy * 4096), 'writebytes': int(uptime * busy * 2048),
          'cancelledwritebytes': 0}
    return {'status': status, 'stat': stat, 'io': io, 'threads': threads, 'fds': fds}


def _gauge(name, help_text, value):
    return Family(name, 'gauge', help_text).add(value)


def _items(name, help_text, values, kind='gauge'):
    family = Family(name, kind, help_text)
    for item, value in values.items():
        family.add(value, item=item)
    return family.sort()


def _go_families(state, rng):
    up = state.uptime()
    heap = _scaled(4200000 + state.seed % 900000, rng, 0.05)
    sys_bytes = 21582856 + (state.seed % 7) * 1048576
    gcs = int(up / 120) + 9
    mallocs = int(up * 310) + 41000
    frees = mallocs - 15000 - state.seed % 3000
    families = [
        Family('go_gc_cycles_automatic_gc_cycles_total', 'counter', 'Count of completed GC cycles generated by the Go runtime.').add(gcs),
        Family('go_gc_cycles_forced_gc_cycles_total', 'counter', 'Count of completed GC cycles forced by the application.').add(0),
        Family('go_gc_cycles_total_gc_cycles_total', 'counter', 'Count of all completed GC cycles.').add(gcs),
        Family('go_gc_duration_seconds', 'summary', 'A summary of the pause duration of garbage collection cycles.', [{
            'labels': {}, 'quantiles': [(0, 3.1e-05), (0.25, 4.2e-05), (0.5, 6.01e-05 + rng.uniform(0, 1e-05)),
                                        (0.75, 9.5e-05), (1, 0.000412)],
            'sum': gcs * 7.3e-05, 'count': gcs}]),
        Family('go_gc_heap_allocs_by_size_bytes_total', 'histogram',
               'Distribution of heap allocations by approximate size. Note that this does not include tiny objects as defined '
               'by /gc/heap/tiny/allocs:objects, only tiny blocks.'),
        Family('go_gc_heap_allocs_bytes_total', 'counter', 'Cumulative sum of memory allocated to the heap by the application.').add(mallocs * 180),
        Family('go_gc_heap_allocs_objects_total', 'counter',
               'Cumulative count of heap allocations triggered by the application. Note that this does not include tiny '
               'objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks.').add(mallocs),
        Family('go_gc_heap_frees_bytes_total', 'counter', 'Cumulative sum of heap memory freed by the garbage collector.').add(frees * 176),
        Family('go_gc_heap_frees_objects_total', 'counter',
               'Cumulative count of heap allocations whose storage was freed by the garbage collector. Note that this does '
               'not include tiny objects as defined by /gc/heap/tiny/allocs:objects, only tiny blocks.').add(frees),
        Family('go_gc_heap_goal_bytes', 'gauge', 'Heap size target for the end of the GC cycle.').add(heap * 2),
        Family('go_gc_heap_objects_objects', 'gauge', 'Number of objects, live or unswept, occupying heap memory.').add(mallocs - frees),
        Family('go_gc_heap_tiny_allocs_objects_total', 'counter',
               'Count of small allocations that are packed together into blocks. These allocations are counted separately '
               'from other allocations because each individual allocation is not tracked by the runtime, only their block. '
               'Each block is already accounted for in allocs-by-size and frees-by-size.').add(int(mallocs * 0.21)),
        Family('go_gc_pauses_seconds_total', 'histogram', 'Distribution individual GC-related stop-the-world pause latencies.'),
        _gauge('go_goroutines', 'Number of goroutines that currently exist.', 31 + state.seed % 9 + rng.randint(0, 2)),
        Family('go_info', 'gauge', 'Information about the Go environment.').add(1, version=GO_VERSION),
        Family('go_memory_classes_heap_free_bytes', 'gauge',
               'Memory that is completely free and eligible to be returned to the underlying system, but has not been. This '
               "metric is the runtime's estimate of free address space that is backed by physical memory.").add(1146880),
        Family('go_memory_classes_heap_objects_bytes', 'gauge',
               'Memory occupied by live objects and dead objects that have not yet been marked free by the garbage '
               'collector.').add(heap),
        Family('go_memory_classes_heap_released_bytes', 'gauge',
               'Memory that is completely free and has been returned to the underlying system.').add(3932160),
        Family('go_memory_classes_heap_stacks_bytes', 'gauge',
               'Memory allocated from the heap that is reserved for stack space, whether or not it is currently in-use.').add(950272),
        Family('go_memory_classes_heap_unused_bytes', 'gauge',
               'Memory that is reserved for heap objects but is not currently used to hold heap objects.').add(1306624),
        Family('go_memory_classes_os_stacks_bytes', 'gauge', 'Stack memory allocated by the underlying operating system.').add(0),
        Family('go_memory_classes_total_bytes', 'gauge',
               'All memory mapped by the Go runtime into the current process as read-write. Note that this does not include '
               'memory mapped by code called via cgo or via the syscall package. Sum of all metrics in /memory/classes.').add(sys_bytes),
        _gauge('go_memstats_alloc_bytes', 'Number of bytes allocated and still in use.', heap),
        Family('go_memstats_alloc_bytes_total', 'counter', 'Total number of bytes allocated, even if freed.').add(mallocs * 180),
        _gauge('go_memstats_buck_hash_sys_bytes', 'Number of bytes used by the profiling bucket hash table.', 1450347),
        Family('go_memstats_frees_total', 'counter', 'Total number of frees.').add(frees),
        _gauge('go_memstats_gc_sys_bytes', 'Number of bytes used for garbage collection system metadata.', 8532840),
        _gauge('go_memstats_heap_alloc_bytes', 'Number of heap bytes allocated and still in use.', heap),
        _gauge('go_memstats_heap_idle_bytes', 'Number of heap bytes waiting to be used.', 5079040),
        _gauge('go_memstats_heap_inuse_bytes', 'Number of heap bytes that are in use.', heap + 1306624),
        _gauge('go_memstats_heap_objects', 'Number of allocated objects.', mallocs - frees),
        _gauge('go_memstats_heap_released_bytes', 'Number of heap bytes released to OS.', 3932160),
        _gauge('go_memstats_heap_sys_bytes', 'Number of heap bytes obtained from system.', 11698176),
        _gauge('go_memstats_last_gc_time_seconds', 'Number of seconds since 1970 of last garbage collection.',
               state.started + (gcs - 9) * 120 + 0.123456789),
        Family('go_memstats_lookups_total', 'counter', 'Total number of pointer lookups.').add(0),
        Family('go_memstats_mallocs_total', 'counter', 'Total number of mallocs.').add(mallocs),
        _gauge('go_memstats_mcache_inuse_bytes', 'Number of bytes in use by mcache structures.', 4800),
        _gauge('go_memstats_mcache_sys_bytes', 'Number of bytes used for mcache structures obtained from system.', 15600),
        _gauge('go_memstats_mspan_inuse_bytes', 'Number of bytes in use by mspan structures.', 113696),
        _gauge('go_memstats_mspan_sys_bytes', 'Number of bytes used for mspan structures obtained from system.', 130560),
        _gauge('go_memstats_next_gc_bytes', 'Number of heap bytes when next garbage collection will take place.', heap * 2),
        _gauge('go_memstats_other_sys_bytes', 'Number of bytes used for other system allocations.', 1187989),
        _gauge('go_memstats_stack_inuse_bytes', 'Number of bytes in use by the stack allocator.', 950272),
        _gauge('go_memstats_stack_sys_bytes', 'Number of bytes obtained from system for stack allocator.', 950272),
        _gauge('go_memstats_sys_bytes', 'Number of bytes obtained from system.', sys_bytes),
        Family('go_sched_goroutines_goroutines', 'gauge', 'Count of live goroutines.').add(31 + state.seed % 9),
        Family('go_sched_latencies_seconds', 'histogram',
               'Distribution of the time goroutines have spent in the scheduler in a runnable state before actually running.'),
        _gauge('go_threads', 'Number of OS threads created.', 11 + state.seed % 4),
    ]
    by_name = {f.name: f for f in families}
    sizes = [int(mallocs / (2.0 ** (i / 3.0 + 2))) if i < 40 else 0 for i in range(len(GO_SIZE_BUCKETS))]
    by_name['go_gc_heap_allocs_by_size_bytes_total'].metrics.append(_cumulative(GO_SIZE_BUCKETS, sizes))
    by_name['go_gc_pauses_seconds_total'].metrics.append(
        _cumulative(GO_PAUSE_BUCKETS, [0, 0, 0, 0, gcs * 2, gcs, 0, 0, 0]))
    by_name['go_sched_latencies_seconds'].metrics.append(
        _cumulative(GO_PAUSE_BUCKETS, [int(up * 3), 0, 0, int(up * 2), int(up / 3), 0, 0, 0, 0]))
    return families


def _cumulative(bounds, per_bucket):
    """A runtime/metrics histogram as client_golang 1.12 exposes it: cumulative counts, the sum is not tracked (0)."""
    buckets = []
    total = 0
    for bound, count in zip(bounds, per_bucket):
        total += count
        buckets.append((bound, total))
    return {'labels': {}, 'buckets': buckets, 'sum': 0, 'count': total}


def shim_families(state, proc=None):
    """The shim's own registry, sorted by family name like prometheus.DefaultGatherer."""
    proc = proc or ProcSelf()
    rng = state.rng('shim')
    up = state.uptime()
    shift = state.index  # each real sandbox has its own shim process: make them differ a little
    families = _go_families(state, rng)

    if state.hypervisor == 'firecracker':
        families.append(_items('kata_firecracker_api_server', 'Metrics related to the internal API server.', {
            'process_startup_time_cpu_us': 3200 + state.seed % 500, 'process_startup_time_us': 9800 + state.seed % 900,
            'sync_response_fails': 0, 'sync_vmm_send_timeout_count': 0}))
        families.append(_items('kata_firecracker_block', 'Block Device associated metrics.', {
            'activate_fails': 0, 'cfg_fails': 0, 'event_fails': 0, 'execute_fails': 0, 'flush_count': int(up / 5),
            'invalid_reqs_count': 0, 'no_avail_buffer': int(up / 2), 'queue_event_count': int(up * 3),
            'rate_limiter_event_count': 0, 'rate_limiter_throttled_events': 0, 'read_bytes': int(up * 40960),
            'read_count': int(up * 10), 'update_count': 0, 'update_fails': 0, 'write_bytes': int(up * 8192),
            'write_count': int(up * 2)}))
        families.append(_items('kata_firecracker_net', 'Network-related metrics.', {
            'activate_fails': 0, 'cfg_fails': 0, 'event_fails': 0, 'rx_bytes_count': int(up * 900),
            'rx_count': int(up * 7), 'rx_fails': 0, 'rx_packets_count': int(up * 7), 'tx_bytes_count': int(up * 700),
            'tx_count': int(up * 6), 'tx_fails': 0, 'tx_packets_count': int(up * 6)}))

    hyp = _synthetic_process(rng, up, rss=268435456 + (state.seed % 64) * 1048576, vm=2617245696, threads=7 + state.seed % 3,
                             fds=76 + state.seed % 20, busy=0.03)
    families.append(_gauge('kata_hypervisor_fds', 'Open FDs for hypervisor.', hyp['fds']))
    families.append(_items('kata_hypervisor_io_stat', 'Process IO statistics.', hyp['io']))
    hyp_net = {'eth0': {}, 'lo': {}, 'tap0_kata': {}}
    for i, dev in enumerate(sorted(hyp_net)):
        if dev != 'lo':
            hyp_net[dev] = {'recv_bytes': int(up * (850 + 40 * i)), 'recv_packets': int(up * (6 + i)),
                            'sent_bytes': int(up * (640 + 30 * i)), 'sent_packets': int(up * (5 + i)),
                            'recv_drop': i % 2, 'recv_multicast': 0}
    families.append(_netdev_family('kata_hypervisor_netdev', 'Net devices statistics.', hyp_net))
    families.append(_items('kata_hypervisor_proc_stat', 'Hypervisor process statistics.', hyp['stat']))
    families.append(_proc_status_family('kata_hypervisor_proc_status', 'Hypervisor process status.', hyp['status']))
    families.append(_gauge('kata_hypervisor_threads', 'Hypervisor process threads.', hyp['threads']))

    with state.lock:
        agent_rpc = {k: list(v) for k, v in state.agent_rpc.items()}
        shim_rpc = {k: list(v) for k, v in state.shim_rpc.items()}
        overhead = state.pod_overhead
    family = Family('kata_shim_agent_rpc_durations_histogram_milliseconds', 'histogram', 'RPC latency distributions.')
    for action in sorted(agent_rpc):
        family.add_histogram(agent_rpc[action], SHIM_RPC_BUCKETS, {'action': action})
    families.append(family)
    families.append(_gauge('kata_shim_fds', 'Kata containerd shim v2 open FDs.', proc.fds + shift))
    families.append(_items('kata_shim_io_stat', 'Kata containerd shim v2 process IO statistics.', {
        'rchar': proc.io.get('rchar', 0), 'wchar': proc.io.get('wchar', 0), 'syscr': proc.io.get('syscr', 0),
        'syscw': proc.io.get('syscw', 0), 'readbytes': proc.io.get('read_bytes', 0), 'writebytes': proc.io.get('write_bytes', 0),
        'cancelledwritebytes': proc.io.get('cancelled_write_bytes', 0)}))
    families.append(_netdev_family('kata_shim_netdev', 'Kata containerd shim v2 network devices statistics.', proc.netdev))
    cpu, mem = overhead if overhead else (0, 0)
    families.append(_gauge('kata_shim_pod_overhead_cpu', 'Kata Pod overhead for CPU resources(percent).', cpu))
    families.append(_gauge('kata_shim_pod_overhead_memory_in_bytes', 'Kata Pod overhead for memory resources(bytes).', mem))
    families.append(_items('kata_shim_proc_stat', 'Kata containerd shim v2 process statistics.', {
        'utime': proc.utime, 'stime': proc.stime, 'cutime': proc.cutime, 'cstime': proc.cstime}))
    status = _self_status(proc)
    status['vmrss'] += shift * 4096
    families.append(_proc_status_family('kata_shim_proc_status', 'Kata containerd shim v2 process status.', status))
    family = Family('kata_shim_rpc_durations_histogram_milliseconds', 'histogram', 'RPC latency distributions.')
    for action in sorted(shim_rpc):
        family.add_histogram(shim_rpc[action], SHIM_RPC_BUCKETS, {'action': action})
    families.append(family)
    families.append(_gauge('kata_shim_threads', 'Kata containerd shim v2 process threads.', proc.threads))

    families.append(Family('kata_sim_escapes', 'gauge',
                           'Simulator-only family (not in kata): HELP with a backslash \\ and a newline\n'
                           'to exercise the text format escapes.').add(1, path='C:\\kata\\"sim"\nline2', sandbox=state.sandbox_id))

    if state.hypervisor == 'firecracker':
        # No virtiofsd: only the plain gauges exist (always exported, left at 0); the vectors stay empty.
        families.append(_gauge('kata_virtiofsd_fds', 'Open FDs for virtiofsd.', 0))
        families.append(_gauge('kata_virtiofsd_threads', 'Virtiofsd process threads.', 0))
    else:
        vfs = _synthetic_process(rng, up, rss=8388608 + (state.seed % 16) * 65536, vm=1412726784, threads=5, fds=23 + state.seed % 5,
                                 busy=0.002)
        families.append(_gauge('kata_virtiofsd_fds', 'Open FDs for virtiofsd.', vfs['fds']))
        families.append(_items('kata_virtiofsd_io_stat', 'Process IO statistics.', vfs['io']))
        families.append(_items('kata_virtiofsd_proc_stat', 'Virtiofsd process statistics.', vfs['stat']))
        families.append(_proc_status_family('kata_virtiofsd_proc_status', 'Virtiofsd process status.', vfs['status']))
        families.append(_gauge('kata_virtiofsd_threads', 'Virtiofsd process threads.', vfs['threads']))

    families.append(Family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.').add(
        (proc.utime + proc.stime) / float(proc.ticks)))
    families.append(_gauge('process_max_fds', 'Maximum number of open file descriptors.', proc.max_fds))
    families.append(_gauge('process_open_fds', 'Number of open file descriptors.', proc.fds + shift))
    families.append(_gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', proc.rss + shift * 4096))
    families.append(_gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', proc.start_time))
    families.append(_gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', proc.vsize))
    max_as = proc.max_as if proc.max_as >= 0 else 2 ** 64 - 1  # procfs reads "unlimited" as ^uint64(0)
    families.append(_gauge('process_virtual_memory_max_bytes', 'Maximum amount of virtual memory available in bytes.', max_as))
    families.sort(key=lambda f: f.name)
    return families


def agent_families(state):
    """The agent's registry (Rust, gathered sorted by name), as the shim re-encodes it; process_* renamed."""
    rng = state.rng('agent')
    up = state.uptime()
    agent = _synthetic_process(rng, up, rss=11534336 + (state.seed % 32) * 4096, vm=1176502272, threads=4, fds=17, busy=0.001)
    io = agent['io']
    families = [
        _items('kata_agent_io_stat', 'Agent process IO statistics.', {
            'rchar': io['rchar'], 'wchar': io['wchar'], 'syscr': io['syscr'], 'syscw': io['syscw'], 'read_bytes': io['readbytes'],
            'write_bytes': io['writebytes'], 'cancelled_write_bytes': 0}),
        _items('kata_agent_proc_stat', 'Agent process statistics.', agent['stat']),
        _proc_status_family('kata_agent_proc_status', 'Agent process status.', agent['status'],
                            [i for i in PROC_STATUS_ITEMS if i != 'vmpmd']),
        Family('kata_agent_scrape_count', 'counter', 'Metrics scrape count').add(state.scrapes),
        _gauge('kata_agent_total_rss', 'Agent process total RSS size', agent['status']['vmrss']),
        _gauge('kata_agent_total_time', 'Agent process total time', (agent['stat']['utime'] + agent['stat']['stime']) / 100.0),
        _gauge('kata_agent_total_vm', 'Agent process total VM size', agent['status']['vmsize']),
    ]

    cpu_time = Family('kata_guest_cpu_time', 'gauge', 'Guest CPU statistics.')
    per_cpu = []
    for cpu in range(2):
        busy = 0.01 + (state.seed >> cpu) % 5 / 1000.0
        values = {'user': up * busy * 600, 'nice': 0, 'system': up * busy * 350, 'idle': up * (1 - busy) * 1000,
                  'iowait': up * 0.4, 'irq': 0, 'softirq': up * 0.2, 'steal': up * 0.05, 'guest': 0, 'guest_nice': 0}
        per_cpu.append({k: int(v) * 10 for k, v in values.items()})  # procfs reports multiples of the 10 ms tick
    for cpu, values in [('total', {k: per_cpu[0][k] + per_cpu[1][k] for k in GUEST_CPU_ITEMS})] + list(
            (str(i), v) for i, v in enumerate(per_cpu)):
        for item in GUEST_CPU_ITEMS:
            cpu_time.add(values[item], cpu=cpu, item=item)
    families.append(cpu_time.sort())

    disks = Family('kata_guest_diskstat', 'gauge', 'Disks statistics in system.')
    for n, disk in enumerate(('pmem0', 'pmem0p1', 'vda')):
        reads = int(up * (3 - n)) + 120
        values = {'reads': reads, 'merged': reads // 9, 'sectors_read': reads * 24, 'time_reading': reads // 2,
                  'writes': int(up / 7) * (n == 2), 'writes_merged': 0, 'sectors_written': int(up / 7) * 8 * (n == 2),
                  'time_writing': int(up / 20) * (n == 2), 'in_progress': 0, 'time_in_progress': reads // 3,
                  'weighted_time_in_progress': reads // 2, 'discards': 0, 'discards_merged': 0, 'sectors_discarded': 0,
                  'time_discarding': 0, 'flushes': int(up / 30) * (n == 2), 'time_flushing': 0}
        for item in GUEST_DISK_ITEMS:
            disks.add(values[item], disk=disk, item=item)
    families.append(disks.sort())

    load1 = round(rng.uniform(0, 0.3), 2)
    families.append(_items('kata_guest_load', 'Guest system load.', {'load1': load1, 'load5': round(load1 * 0.7 + 0.02, 2),
                                                                     'load15': round(load1 * 0.4 + 0.01, 2)}))
    total = 2092257280 + (state.seed % 8) * 1048576
    free = _scaled(1862164480, rng, 0.01)
    meminfo = dict.fromkeys(GUEST_MEMINFO_ITEMS, 0)
    meminfo.update({'mem_total': total, 'mem_free': free, 'mem_available': free + 48234496, 'buffers': 0,
                    'cached': 102187008, 'active': 41943040, 'inactive': 98566144, 'active_anon': 2637824,
                    'inactive_anon': 41484288, 'active_file': 39305216, 'inactive_file': 57081856, 'anon_pages': 37330944,
                    'mapped': 26214400, 'shmem': 6791168, 'slab': 25165824, 's_reclaimable': 9437184, 's_unreclaim': 15728640,
                    'kernel_stack': 1769472, 'page_tables': 1409024, 'commit_limit': total // 2,
                    'committed_as': 180355072, 'vmalloc_total': 35184372087808, 'vmalloc_used': 6291456, 'per_cpu': 1048576,
                    'direct_map_4k': 67108864, 'direct_map_2M': 2080374784, 'hugepagesize': 2097152,
                    'k_reclaimable': 9437184})
    families.append(_items('kata_guest_meminfo', 'Statistics about memory usage in the system.', meminfo))
    net = Family('kata_guest_netdev_stat', 'gauge', 'Guest net devices statistics.')
    for dev, factor in (('eth0', 1), ('lo', 0)):
        for item in NETDEV_ITEMS:
            value = 0
            if item in ('recv_bytes', 'sent_bytes'):
                value = int(up * (700 if item == 'recv_bytes' else 900) * factor) + 4096
            elif item in ('recv_packets', 'sent_packets'):
                value = int(up * 6 * factor) + 32
            net.add(value, interface=dev, item=item)
    families.append(net.sort())
    families.append(_items('kata_guest_tasks', 'Guest system load.', {'cur': 1 + rng.randint(0, 1), 'max': 159 + state.seed % 40}))
    vmstat = {}
    for n, key in enumerate(GUEST_VMSTAT_KEYS):
        vmstat[key] = int(up * ((state.seed >> (n % 40)) % 7)) if key.startswith(('pg', 'numa', 'nr_dirtied', 'nr_written')) else (
            (state.seed >> (n % 30)) % 20000 if key.startswith('nr_') else 0)
    vmstat['nr_free_pages'] = free // 4096
    families.append(_items('kata_guest_vm_stat', 'Guest virtual memory statistics.', vmstat))

    start = state.started + 0.5
    process = [
        Family('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.').add(int(up * 0.001)),
        _gauge('process_max_fds', 'Maximum number of open file descriptors.', 1048576),
        _gauge('process_open_fds', 'Number of open file descriptors.', agent['fds']),
        _gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', agent['status']['vmrss']),
        _gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', int(start)),
        _gauge('process_threads', 'Number of OS threads in the process.', agent['threads']),
        _gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', agent['status']['vmsize']),
    ]
    families.sort(key=lambda f: f.name)
    # The shim renames go_*/process_* of the agent after decoding: they keep the agent's (sorted) position.
    return families + [f.renamed('kata_agent_' + f.name) for f in process]
