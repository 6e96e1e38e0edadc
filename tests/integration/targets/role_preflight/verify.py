# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Assertions of the role_preflight target: the report's exact verdicts, the play recap, and the HTML's DOM.

    python3 verify.py report REPORT.json [--hosts h1,h2,...]   the verdicts of the fleet (tests/fleet/fleet.py layout)
    python3 verify.py same A B                                  two files are byte-identical
    python3 verify.py recap LOG [--changed N] [--failed h1,h2]  the PLAY RECAP of an ansible-playbook log
    python3 verify.py dom DOM.html                              the DOM chromium dumped of preflight.html
    python3 verify.py local REPORT.json                         the report of a run against localhost
    python3 verify.py selection REPORT.json                     kata_preflight_runtimes naming a handler no host has

Exit status 1 with every mismatch listed.
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser

# The expected verdict of every fleet host: status, failed checks (in check order), and what else is pinned.
# Why each host is what it is:
#   the bare-metal Intel and AMD hosts have every flag, module and parameter kata wants, and /dev/kvm;
#   xeon-e5345 (Clovertown) lacks sse4_1; skylake-kvm-guest is a VM without nested virtualization (no vmx, so no
#   kvm_intel); xeon-unrestricted-off has kvm_intel unrestricted_guest=N on bare metal; xeon-no-dev-kvm has no
#   /dev/kvm, so the KVM test cannot create a VM; core-i5-m560-no-vhost misses vhost and vhost_net;
#   ryzen7-kvm-guest is a VM without svm (so no kvm_amd); opteron-865 (K8) has neither svm nor sse4_1;
#   jetson-tx1-no-vhost-net misses vhost_net; power8-smt-on is a POWER8 whose ppc64_cpu says SMT=8; z196-no-kvm has
#   no kvm module; xeon-clh is configured for Cloud Hypervisor while its group's policy requires qemu;
#   xeon-old-kernel runs 4.19 without vhost_vsock, in a group whose policy wants 5.10 and vhost_vsock;
#   kata-deploy-4.1.0 is a kata-deploy 4.1.0 node (23 runtime handlers) in the strict group, whose policy wants qemu:
#   its clh, dragonball and openvmm handlers fail it, and kata-fc's configuration file was removed;
#   containerd-1.x is kata-deploy 3.0.0 on containerd 1.x with three of its five handlers selected
#   (kata_preflight_runtimes), distro-3.0.0 a 3.0.0 distribution package with containerd's handler kata;
#   broken-root's host root does not exist (kata_check fails); unreachable has no SSH server.
CAPABLE = ('xeon-e5-2680v3', 'xeon-x7550', 'core-i7-1370p', 'core-i7-4800mq', 'pentium-g640', 'epyc-7451',
           'ryzen7-2700x', 'thunderx', 'cortex-x3', 'power9', 'z14', 'visionfive2', 'containerd-1.x', 'distro-3.0.0')
NOT_CAPABLE = {
    'xeon-e5345': ['sse4_1'],
    'skylake-kvm-guest': ['vmx', 'kvm_intel'],
    'xeon-unrestricted-off': ['unrestricted_guest'],
    'xeon-no-dev-kvm': ['vm_creation'],
    'core-i5-m560-no-vhost': ['vhost', 'vhost_net'],
    'ryzen7-kvm-guest': ['svm', 'kvm_amd'],
    'opteron-865': ['svm', 'sse4_1', 'kvm_amd'],
    'jetson-tx1-no-vhost-net': ['vhost_net'],
    'power8-smt-on': ['smt'],
    'z196-no-kvm': ['kvm'],
    'xeon-clh': ['policy_hypervisor'],
    'xeon-old-kernel': ['vhost_vsock', 'policy_kernel'],
    'kata-deploy-4.1.0': ['policy_hypervisor', 'handler_config'],
}
# The checks of the host, not of a runtime handler.
HOST_CHECKS = ('policy_kernel', 'policy_kata_version')
ORDER = ('xeon-e5-2680v3', 'xeon-x7550', 'core-i7-1370p', 'core-i7-4800mq', 'pentium-g640', 'xeon-e5345',
         'skylake-kvm-guest', 'xeon-unrestricted-off', 'xeon-no-dev-kvm', 'core-i5-m560-no-vhost', 'epyc-7451',
         'ryzen7-2700x', 'ryzen7-kvm-guest', 'opteron-865', 'thunderx', 'cortex-x3', 'jetson-tx1-no-vhost-net',
         'power8-smt-on', 'power9', 'z14', 'z196-no-kvm', 'visionfive2', 'xeon-clh', 'xeon-old-kernel',
         'kata-deploy-4.1.0', 'containerd-1.x', 'distro-3.0.0', 'broken-root', 'unreachable')
ARCH = {'thunderx': 'arm64', 'cortex-x3': 'arm64', 'jetson-tx1-no-vhost-net': 'arm64', 'power8-smt-on': 'ppc64le',
        'power9': 'ppc64le', 'z14': 's390x', 'z196-no-kvm': 's390x', 'visionfive2': 'riscv64', 'distro-3.0.0': 'arm64'}
KERNEL = {'core-i7-1370p': '5.15.0-91-generic', 'power8-smt-on': '3.10.0-514.el7.ppc64le', 'z14': '5.14.21-150500.53-default',
          'xeon-old-kernel': '4.19.0-25-amd64', 'xeon-e5-2680v3': '6.1.0-18-amd64'}
# Optional requirements that are not met: shown, never counted.
WARN = {'core-i5-m560-no-vhost': ['vhost_vsock'], 'opteron-865': ['vhost_vsock'], 'jetson-tx1-no-vhost-net': ['vhost_vsock']}
REASONS = {
    'xeon-clh': ['hypervisor is clh, the policy requires qemu (kata_preflight_required_hypervisor)'],
    'xeon-old-kernel': [
        'vhost_vsock (Host Support for Linux VM Sockets): kernel property vhost_vsock not found, required by '
        'kata_preflight_require_vhost_vsock',
        'kernel 4.19.0-25-amd64 is older than 5.10 (kata_preflight_min_kernel)'],
    'power8-smt-on': ['smt (SMT must be off on POWER8 and older): SMT is not Off. System is not capable of running Kata '
                      'Containers (found SMT=8, expected SMT is off)'],
    'skylake-kvm-guest': ['vmx (Virtualization support): CPU property not found',
                          'kvm_intel (Intel KVM): kernel property kvm_intel not found'],
    'xeon-unrestricted-off': ['unrestricted_guest (Intel KVM parameter unrestricted_guest): kernel module parameter has '
                              'unexpected value (found N, expected Y)'],
}
REASON_PATTERNS = {
    'xeon-no-dev-kvm': r'^cannot create a VM: cannot open /.*/xeon-no-dev-kvm/root/dev/kvm: No such file or directory$',
    'broken-root': r'^kata_check failed: host_root: /.*/broken-root/missing-root is not a directory; expected '
                   r'the root directory of a host$',
    # the text differs between connection plugins (ssh, mitogen's): the refused connection is in all of them, except
    # with ansible-core 2.15's ssh plugin, whose pipelined write fails first: 'Data could not be sent to remote host
    # "127.0.0.27". Make sure this host can be reached over ssh: [Errno 32] Broken pipe'
    'unreachable': r'^unreachable: .*127\.0\.0\.\d+( port \d+: Connection refused|"\. Make sure this host can be '
                   r'reached over ssh: \[Errno 32\] Broken pipe)',
}
COLUMNS = ['GenuineIntel', 'AuthenticAMD', 'vmx', 'svm', 'lm', 'sse4_1', 'smt', 'kvm', 'kvm_intel', 'unrestricted_guest',
           'kvm_amd', 'vhost', 'vhost_net', 'kvm_hv', 'vhost_vsock', 'vm_creation', 'policy_hypervisor', 'policy_kernel',
           'handler_config']

# The runtime handlers of each host, as kata-deploy 4.1.0 (tools/packaging/kata-deploy/binary/src/utils/system.rs)
# and 3.0.0 install them: (handler, runtime, hypervisor, configuration file, status, failed checks).
KD = '/opt/kata/share/defaults/kata-containers'
KATA_DEPLOY_SHIMS = (  # shim, runtime, hypervisor; in the order of kata-deploy's containerd drop-in (sorted names)
    ('clh', 'go', 'clh'), ('clh-azure', 'go', 'clh'), ('clh-azure-runtime-rs', 'rust', 'clh'),
    ('clh-runtime-rs', 'rust', 'clh'), ('dragonball', 'rust', 'dragonball'), ('fc', 'go', None),
    ('openvmm-azure-runtime-rs', 'rust', 'openvmm'), ('qemu', 'go', 'qemu'), ('qemu-coco-dev', 'go', 'qemu'),
    ('qemu-coco-dev-runtime-rs', 'rust', 'qemu'), ('qemu-nvidia-cpu', 'go', 'qemu'),
    ('qemu-nvidia-cpu-runtime-rs', 'rust', 'qemu'), ('qemu-nvidia-gpu', 'go', 'qemu'),
    ('qemu-nvidia-gpu-runtime-rs', 'rust', 'qemu'), ('qemu-nvidia-gpu-snp', 'go', 'qemu'),
    ('qemu-nvidia-gpu-snp-runtime-rs', 'rust', 'qemu'), ('qemu-nvidia-gpu-tdx', 'go', 'qemu'),
    ('qemu-nvidia-gpu-tdx-runtime-rs', 'rust', 'qemu'), ('qemu-runtime-rs', 'rust', 'qemu'), ('qemu-snp', 'go', 'qemu'),
    ('qemu-snp-runtime-rs', 'rust', 'qemu'), ('qemu-tdx', 'go', 'qemu'), ('qemu-tdx-runtime-rs', 'rust', 'qemu'))


def _kata_deploy_handler(shim, runtime, hypervisor):
    config = '%s/%sruntimes/%s/configuration-%s.toml' % (KD, 'runtime-rs/' if runtime == 'rust' else '', shim, shim)
    if shim == 'fc':
        return ('kata-fc', runtime, hypervisor, config, 'not_capable', ['handler_config'])
    if hypervisor != 'qemu':
        return ('kata-' + shim, runtime, hypervisor, config, 'not_capable', ['policy_hypervisor'])
    return ('kata-' + shim, runtime, hypervisor, config, 'capable', [])


HANDLERS = {
    'kata-deploy-4.1.0': [_kata_deploy_handler(*shim) for shim in KATA_DEPLOY_SHIMS],
    'containerd-1.x': [('kata-qemu', 'go', 'qemu', KD + '/configuration-qemu.toml', 'capable', []),
                       ('kata-clh', 'go', 'clh', KD + '/configuration-clh.toml', 'capable', []),
                       ('kata-dragonball', 'rust', 'dragonball', KD + '/configuration-dragonball.toml', 'capable', [])],
    'distro-3.0.0': [('kata', 'go', 'qemu', '/usr/share/defaults/kata-containers/configuration-qemu.toml', 'capable', [])],
}
FLEET_CONFIG = '/usr/share/defaults/kata-containers/configuration.toml'


def expected_handlers(host):
    """The runtime handler verdicts of ``host``; a fleet host without handlers has one, of its default configuration."""
    if host in HANDLERS:
        return HANDLERS[host]
    if host in ('broken-root', 'unreachable'):
        return []
    failed = [c for c in NOT_CAPABLE.get(host, []) if c not in HOST_CHECKS]
    return [(None, 'go', 'clh' if host == 'xeon-clh' else 'qemu', FLEET_CONFIG, 'not_capable' if failed else 'capable',
             failed)]


def handler_summary(hosts):
    found = [h for host in hosts for h in expected_handlers(host)]
    summary = dict(total=len(found), capable=0, not_capable=0, failed=0)
    for handler in found:
        summary[handler[4]] += 1
    return summary


def expected_status(host):
    if host in CAPABLE:
        return 'capable'
    if host in NOT_CAPABLE:
        return 'not_capable'
    return {'broken-root': 'failed', 'unreachable': 'unreachable'}[host]


class Errors(list):
    def check(self, ok, message):
        if not ok:
            self.append(message)

    def equal(self, got, want, what):
        self.check(got == want, '%s: got %r, expected %r' % (what, got, want))

    def finish(self, what):
        if self:
            print('FAILED %s:' % what)
            for message in self:
                print('  - %s' % message)
            return 1
        print('ok: %s' % what)
        return 0


def _load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def verify_report(path, hosts=None):
    report = _load(path)
    errors = Errors()
    hosts = hosts or list(ORDER)
    errors.equal(report.get('format'), 1, 'format')
    errors.equal(report.get('complete'), True, 'complete')
    summary = dict(total=len(hosts), capable=0, not_capable=0, unreachable=0, failed=0, pending=0,
                   runtimes=handler_summary(hosts))
    for host in hosts:
        summary[expected_status(host)] += 1
    errors.equal(report.get('summary'), summary, 'summary')
    entries = report.get('hosts') or []
    errors.equal([e.get('host') for e in entries], hosts, 'host order')
    if len(hosts) == len(ORDER):
        errors.equal([c['id'] for c in report.get('columns') or []], COLUMNS, 'matrix columns')
    for entry in entries:
        host = entry.get('host')
        if host not in hosts:
            continue
        status = expected_status(host)
        errors.equal(entry.get('status'), status, '%s status' % host)
        errors.equal(entry.get('failed_checks'), NOT_CAPABLE.get(host, []), '%s failed_checks' % host)
        errors.equal(entry.get('capable'), {'capable': True, 'not_capable': False}.get(status), '%s capable' % host)
        errors.equal(entry.get('reachable'), status != 'unreachable', '%s reachable' % host)
        states = dict((row['id'], row['state']) for row in entry.get('checks') or [])
        errors.equal(sorted(k for k, v in states.items() if v == 'warn'), WARN.get(host, []), '%s optional checks not met' % host)
        if status in ('capable', 'not_capable'):
            errors.equal(entry.get('can_create_vm'), host != 'xeon-no-dev-kvm', '%s can_create_vm' % host)
            errors.equal(entry.get('kata_capable'), status == 'capable' or host in (
                'xeon-no-dev-kvm', 'xeon-clh', 'xeon-old-kernel', 'kata-deploy-4.1.0'), '%s kata_capable' % host)
            facts = entry.get('facts') or {}
            errors.equal(facts.get('arch'), ARCH.get(host, 'amd64'), '%s arch' % host)
            handlers = expected_handlers(host)
            errors.equal(facts.get('hypervisor'), ', '.join(sorted(set(h[2] for h in handlers if h[2]))),
                         '%s hypervisor' % host)
            errors.equal(facts.get('config'), handlers[0][3] if len(handlers) == 1 else None, '%s config' % host)
            errors.check(bool(facts.get('cpu_model')) or facts.get('arch') in ('arm64', 'riscv64', 'ppc64le', 's390x'),
                         '%s has no CPU model' % host)
            if host in KERNEL:
                errors.equal(facts.get('kernel'), KERNEL[host], '%s kernel' % host)
        else:
            errors.equal(entry.get('checks'), [], '%s checks' % host)
        if host in REASONS:
            errors.equal(entry.get('reasons'), REASONS[host], '%s reasons' % host)
        if host in REASON_PATTERNS:
            reasons = entry.get('reasons') or ['']
            errors.check(len(reasons) == 1 and re.search(REASON_PATTERNS[host], reasons[0], re.S),
                         '%s reasons %r do not match %r' % (host, reasons, REASON_PATTERNS[host]))
        if status == 'capable':
            errors.equal(entry.get('reasons'), [], '%s reasons' % host)
        runtimes = [(r.get('handler'), r.get('runtime'), r.get('hypervisor'), r.get('config'), r.get('status'),
                     r.get('failed_checks')) for r in entry.get('runtimes') or []]
        errors.equal(runtimes, expected_handlers(host), '%s runtime handlers' % host)
        for runtime in entry.get('runtimes') or []:
            handler = runtime.get('handler')
            checked = runtime.get('failed_checks') != ['handler_config']
            errors.equal(runtime.get('engine'), 'containerd' if handler else None, '%s/%s engine' % (host, handler))
            errors.equal(runtime.get('config_source'), None if not checked else
                         'runtime:%s' % handler if handler else 'default:' + FLEET_CONFIG, '%s/%s config_source' % (host, handler))
            errors.equal(runtime.get('can_create_vm'), (host != 'xeon-no-dev-kvm') if checked else None,
                         '%s/%s can_create_vm' % (host, handler))
    facts = dict((e['host'], e.get('facts') or {}) for e in entries)
    reasons = dict((e['host'], e.get('reasons')) for e in entries)
    if 'kata-deploy-4.1.0' in reasons:
        errors.equal(reasons['kata-deploy-4.1.0'], [
            'kata-clh, kata-clh-azure, kata-clh-azure-runtime-rs, kata-clh-runtime-rs: hypervisor is clh, the policy '
            'requires qemu (kata_preflight_required_hypervisor)',
            'kata-dragonball: hypervisor is dragonball, the policy requires qemu (kata_preflight_required_hypervisor)',
            'kata-fc: the configuration file %s/runtimes/fc/configuration-fc.toml does not exist (runtime handler '
            'kata-fc, defined in /opt/kata/containerd/config.d/kata-deploy.toml)' % KD,
            'kata-openvmm-azure-runtime-rs: hypervisor is openvmm, the policy requires qemu '
            '(kata_preflight_required_hypervisor)'], 'kata-deploy-4.1.0 reasons')
    if 'epyc-7451' in facts:
        errors.equal(facts['epyc-7451'].get('cpu_model'), 'AMD EPYC 7451 24-Core Processor', 'epyc-7451 cpu_model')
        errors.equal(facts['epyc-7451'].get('cpus'), 96, 'epyc-7451 cpus')
        errors.equal(facts['epyc-7451'].get('hypervisor_path'), '/usr/bin/qemu-system-x86_64', 'epyc-7451 hypervisor_path')
    return errors.finish('report %s' % path)


def verify_same(first, second):
    with open(first, 'rb') as f:
        one = f.read()
    with open(second, 'rb') as f:
        two = f.read()
    errors = Errors()
    errors.check(one == two, '%s and %s differ' % (first, second))
    return errors.finish('%s == %s' % (first, second))


RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+'
                   r'rescued=(\d+)\s+ignored=(\d+)', re.M)


def verify_recap(path, changed=None, failed=None, hosts=None):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    recap = dict((m.group(1), dict(changed=int(m.group(3)), unreachable=int(m.group(4)), failed=int(m.group(5))))
                 for m in RECAP.finditer(text.split('PLAY RECAP', 1)[-1]))
    errors = Errors()
    errors.equal(sorted(recap), sorted(hosts or ORDER), 'hosts in the recap')
    failed = set(failed or [])
    for host, counts in sorted(recap.items()):
        if changed is not None:
            errors.equal(counts['changed'], changed, '%s changed' % host)
        errors.equal(counts['unreachable'], 0, '%s unreachable (ignored, reported)' % host)
        errors.equal(counts['failed'], 1 if host in failed else 0, '%s failed' % host)
    return errors.finish('recap of %s' % path)


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.row = None
        self.table = None
        self.open = []

    def handle_starttag(self, tag, attrs):
        element = dict(tag=tag, attrs=dict(attrs), text='', row=None)
        if tag == 'table':
            self.table = element['attrs'].get('id')
        if tag == 'tr':
            self.row = element['attrs'].get('data-host')
        element['row'] = self.row
        element['table'] = self.table
        self.elements.append(element)
        if tag not in ('meta', 'br', 'img', 'link', 'input'):
            self.open.append(element)

    def handle_endtag(self, tag):
        if tag == 'tr':
            self.row = None
        while self.open:
            if self.open.pop()['tag'] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element['text'] += data


def verify_dom(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    page = Page()
    page.feed(text)
    errors = Errors()
    tags = set(e['tag'] for e in page.elements)
    errors.check(tags.isdisjoint({'script', 'link', 'img', 'iframe', 'object', 'embed'}),
                 'the page loads resources: %s' % sorted(tags & {'script', 'link', 'img', 'iframe', 'object', 'embed'}))
    errors.check(not re.search(r'(?:src|href)="(?!#)', text), 'the page references a URL that is not an anchor')
    counts = dict((e['attrs']['data-status'], e['text']) for e in page.elements
                  if e['tag'] == 'div' and 'data-status' in e['attrs'])
    errors.equal(counts, {'total': '29hosts', 'capable': '14capable', 'not_capable': '13not capable',
                          'unreachable': '1unreachable', 'failed': '1failed'}, 'summary cards')
    header = [e['attrs']['data-check'] for e in page.elements if e['tag'] == 'th' and 'data-check' in e['attrs']]
    errors.equal(header, COLUMNS, 'matrix header')
    rows = dict((e['attrs']['data-host'], e['attrs'].get('data-status')) for e in page.elements
                if e['tag'] == 'tr' and 'data-host' in e['attrs'] and e['table'] == 'matrix')
    errors.equal(list(rows), list(ORDER), 'matrix rows')
    for host in ORDER:
        status = expected_status(host)
        errors.equal(rows.get(host), status, 'row %s data-status' % host)
        cells = [e for e in page.elements if e['tag'] == 'td' and e['row'] == host and 'data-check' in e['attrs']
                 and e['table'] == 'matrix']
        if status in ('capable', 'not_capable'):
            errors.equal(len(cells), len(COLUMNS), '%s cells' % host)
            failing = [c['attrs']['data-check'] for c in cells if c['attrs'].get('data-state') == 'fail']
            errors.equal(failing, NOT_CAPABLE.get(host, []), '%s failed cells' % host)
            for cell in cells:
                state = cell['attrs'].get('data-state')
                errors.check(cell['attrs'].get('class') == state, '%s %s: class %r != state %r' % (
                    host, cell['attrs']['data-check'], cell['attrs'].get('class'), state))
                errors.equal(cell['text'], {'ok': '\u2713', 'fail': '\u2717', 'warn': '!', 'na': '\u00b7'}.get(state, '?'),
                             '%s %s symbol' % (host, cell['attrs']['data-check']))
        else:
            notes = [e['text'] for e in page.elements if e['tag'] == 'td' and e['row'] == host
                     and e['attrs'].get('class') == 'none' and e['table'] == 'matrix']
            errors.check(len(notes) == 1 and re.search(REASON_PATTERNS[host], notes[0], re.S),
                         '%s: the row does not say why: %r' % (host, notes))
    pinned = [('xeon-e5-2680v3', 'vmx', 'ok'), ('xeon-e5-2680v3', 'svm', 'na'), ('epyc-7451', 'svm', 'ok'),
              ('epyc-7451', 'policy_kernel', 'ok'), ('power9', 'smt', 'na'), ('power8-smt-on', 'kvm_hv', 'ok'),
              ('z14', 'kvm', 'ok'), ('jetson-tx1-no-vhost-net', 'vhost_vsock', 'warn'), ('xeon-clh', 'policy_kernel', 'ok'),
              ('thunderx', 'vm_creation', 'ok'), ('kata-deploy-4.1.0', 'policy_hypervisor', 'fail'),
              ('kata-deploy-4.1.0', 'handler_config', 'fail'), ('kata-deploy-4.1.0', 'vm_creation', 'ok'),
              ('containerd-1.x', 'svm', 'ok'), ('containerd-1.x', 'handler_config', 'na'), ('distro-3.0.0', 'kvm', 'ok')]
    for host, check, state in pinned:
        found = [e['attrs'].get('data-state') for e in page.elements
                 if e['tag'] == 'td' and e['row'] == host and e['attrs'].get('data-check') == check]
        errors.equal(found, [state], 'cell %s/%s' % (host, check))
    articles = [e['attrs'].get('data-host') for e in page.elements if e['tag'] == 'article']
    errors.equal(articles, list(ORDER), 'per-host details')
    verify_dom_runtimes(page, errors)
    return errors.finish('DOM %s' % path)


RUNTIME_LABELS = {'go': 'Go', 'rust': 'runtime-rs'}
STATUS_TEXT = {'capable': '\u2713 capable', 'not_capable': '\u2717 not capable', 'failed': '\u2717 failed'}


def verify_dom_runtimes(page, errors):
    """The host-by-runtime-handler table: one row per handler of each host, with its cells, in the report's order."""
    rows = [e for e in page.elements if e['tag'] == 'tr' and e['table'] == 'runtimes' and 'data-host' in e['attrs']]
    want = [(host, handler[0] or '') for host in ORDER for handler in expected_handlers(host) or [(None,)]]
    errors.equal([(r['attrs']['data-host'], r['attrs'].get('data-handler')) for r in rows], want, 'runtime handler rows')
    for host in ORDER:
        cells = [e for e in page.elements if e['tag'] in ('td', 'th') and e['row'] == host and e['table'] == 'runtimes']
        heads = [e for e in cells if e['tag'] == 'th']
        handlers = expected_handlers(host)
        errors.equal([h['attrs'].get('rowspan') for h in heads], [str(max(len(handlers), 1))], '%s host cell' % host)
        if not handlers:
            notes = [e['text'] for e in cells if e['attrs'].get('class') == 'nohandler']
            errors.check(len(notes) == 1 and re.search(REASON_PATTERNS[host], notes[0], re.S),
                         '%s: the handler table does not say why: %r' % (host, notes))
            continue
        got = []
        for row in [r for r in rows if r['attrs']['data-host'] == host]:
            index = page.elements.index(row)
            tds = []
            for element in page.elements[index + 1:]:
                if element['tag'] == 'tr':
                    break
                if element['tag'] == 'td':
                    tds.append(element)
            got.append(tuple(td['text'] for td in tds) + (row['attrs'].get('data-status'),))
        config = dict((h[3], h[3] + (' (default lookup)' if h[0] is None else '')) for h in handlers)
        errors.equal(got, [(h[0] or '(default)', RUNTIME_LABELS[h[1]], h[2] or 'unknown', config[h[3]], STATUS_TEXT[h[4]],
                            ', '.join(h[5]), h[4]) for h in handlers], '%s handler rows' % host)
    failed = [e for e in page.elements if e['tag'] == 'td' and e['table'] == 'runtimes'
              and e['attrs'].get('class') == 'failed' and e['text'] == 'handler_config']
    errors.equal([(e['row'], e['attrs'].get('title')) for e in failed], [(
        'kata-deploy-4.1.0', 'the configuration file %s/runtimes/fc/configuration-fc.toml does not exist (runtime handler '
        'kata-fc, defined in /opt/kata/containerd/config.d/kata-deploy.toml)' % KD)], 'kata-fc failed checks title')


def verify_selection(path):
    """The report of a run with kata_preflight_runtimes=[kata-qemu, kata-nope] on three hosts: each failed, naming
    the handlers it has."""
    report = _load(path)
    errors = Errors()
    errors.equal(report.get('summary'), {'total': 3, 'capable': 0, 'not_capable': 0, 'unreachable': 0, 'failed': 3,
                                         'pending': 0, 'runtimes': {'total': 0, 'capable': 0, 'not_capable': 0,
                                                                    'failed': 0}}, 'summary')
    prefix = 'kata_check failed: kata_preflight_runtimes: '
    want = {
        'containerd-1.x': prefix + "kata-nope is not a Kata runtime handler of this host's container engines; the "
                                   'handlers found are: kata, kata-fc, kata-qemu, kata-clh, kata-dragonball',
        'distro-3.0.0': prefix + "kata-qemu, kata-nope are not Kata runtime handlers of this host's container "
                                 'engines; the handlers found are: kata',
        'xeon-e5-2680v3': prefix + "kata-qemu, kata-nope are not Kata runtime handlers of this host's container "
                                   'engines; none was found in the containerd or CRI-O configuration',
    }
    got = dict((e['host'], (e['status'], e['reasons'], e['runtimes'])) for e in report.get('hosts') or [])
    errors.equal(got, dict((host, ('failed', [reason], [])) for host, reason in want.items()), 'verdicts')
    return errors.finish('selection report %s' % path)


def verify_local(path):
    report = _load(path)
    errors = Errors()
    errors.equal(report.get('summary', {}).get('total'), 1, 'hosts')
    entry = (report.get('hosts') or [{}])[0]
    errors.equal(entry.get('host'), 'localhost', 'host')
    errors.equal(entry.get('reachable'), True, 'reachable')
    errors.check(entry.get('status') in ('capable', 'not_capable'), 'status %r' % entry.get('status'))
    errors.check(bool((entry.get('facts') or {}).get('kernel')), 'no kernel fact')
    errors.check(len(entry.get('checks') or []) > 3, 'no checks')
    return errors.finish('local report %s' % path)


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    command, args = argv[1], argv[2:]
    options = {}
    positional = []
    while args:
        arg = args.pop(0)
        if arg.startswith('--'):
            options[arg[2:]] = args.pop(0)
        else:
            positional.append(arg)
    hosts = options['hosts'].split(',') if options.get('hosts') else None
    if command == 'report':
        return verify_report(positional[0], hosts)
    if command == 'same':
        return verify_same(positional[0], positional[1])
    if command == 'recap':
        return verify_recap(positional[0], changed=int(options['changed']) if 'changed' in options else None,
                            failed=options['failed'].split(',') if options.get('failed') else None, hosts=hosts)
    if command == 'dom':
        return verify_dom(positional[0])
    if command == 'local':
        return verify_local(positional[0])
    if command == 'selection':
        return verify_selection(positional[0])
    print('unknown command %r' % command)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
