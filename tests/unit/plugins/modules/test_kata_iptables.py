# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata_iptables's main() against shims on real unix sockets: one that keeps the rules in memory and prints them the
way iptables-save does, and (as root) one that applies them with the real iptables-restore in a network namespace.
Every request is logged, so the tests assert exactly when a PUT is sent."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible.module_utils import basic

from ansible_collections.katacontainers.kata.plugins.module_utils import _iptables as ipt
from ansible_collections.katacontainers.kata.plugins.modules import kata_iptables
from ansible_collections.katacontainers.kata.tests.unit.ansible_compat import patch_module_args
from ansible_collections.katacontainers.kata.tests.unit.plugins.module_utils import shim_http_server as srv

SANDBOX = 'sb-0123456789abcdef'
BUILTIN = {
    'filter': ['INPUT', 'FORWARD', 'OUTPUT'],
    'nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
    'mangle': ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
    'raw': ['PREROUTING', 'OUTPUT'],
}
WANTED = '''*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT
COMMIT
'''
NORMALIZED_INITIAL = '''*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
'''
NORMALIZED_WANTED = '''*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
'''


class FakeGuest(object):
    """The guest side of the iptables endpoints, in memory: tables restored like iptables-restore (only the tables
    given are replaced; built-in chains not declared keep their policy) and printed like iptables-save (generator
    comments, counters on chain lines, the short forms expanded as the real tool does for ``-s <addr>``)."""

    def __init__(self):
        self.tables = {4: {}, 6: {}}
        self.restore(4, '*filter\nCOMMIT\n*nat\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n')
        self.restore(6, '*filter\nCOMMIT\n')

    def restore(self, family, text):
        """None when applied, else iptables-restore's error text (nothing applied)."""
        parsed = []
        current = None
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            if line.startswith('*'):
                current = (line[1:], {}, [])
                continue
            if current is None:
                return 'iptables-restore: line %d failed\n' % number
            if line == 'COMMIT':
                parsed.append(current)
                current = None
            elif line.startswith(':'):
                name, policy = line[1:].split()[:2]
                current[1][name] = policy
            else:
                words = line.split()
                if '-j' in words:
                    target = words[words.index('-j') + 1]
                    known = set(BUILTIN.get(current[0], [])) | set(current[1])
                    if target.isupper() and target not in ('ACCEPT', 'DROP', 'RETURN', 'LOG', 'MASQUERADE', 'DNAT',
                                                           'NOTRACK', 'REJECT') and target not in known:
                        return ("iptables-restore v1.8.9 (nf_tables): Chain '%s' does not exist\nError occurred at "
                                "line: %d\nTry `iptables-restore -h' or 'iptables-restore --help' for more "
                                "information.\n" % (target, number))
                if '-s' in words and '/' not in words[words.index('-s') + 1]:
                    words[words.index('-s') + 1] += '/32' if family == 4 else '/128'
                current[2].append(' '.join(words))
        if current is not None:
            return 'iptables-restore: COMMIT expected at line %d\n' % (len(text.splitlines()) + 1)
        for name, chains, rules in parsed:
            old = self.tables[family].get(name, ({}, []))[0]
            policies = dict((c, old.get(c, 'ACCEPT')) for c in BUILTIN.get(name, []))
            policies.update(chains)
            self.tables[family][name] = (policies, rules)
        return None

    def save(self, family):
        tool = 'iptables-save' if family == 4 else 'ip6tables-save'
        out = []
        for name, (chains, rules) in self.tables[family].items():
            out.append('# Generated by %s v1.8.9 (nf_tables) on Sat Nov 28 12:00:00 2026' % tool)
            out.append('*%s' % name)
            for index, (chain, policy) in enumerate(chains.items()):
                out.append(':%s %s [%d:%d]' % (chain, policy, index * 7, index * 420))
            out.extend(rules)
            out.append('COMMIT')
            out.append('# Completed on Sat Nov 28 12:00:00 2026')
        return '\n'.join(out) + '\n' if out else ''

    def behaviour(self, conn, request, stop):
        family = {'/iptables': 4, '/ip6tables': 6}.get(request.target)
        if family is None:
            conn.sendall(srv.answer(404, '404 page not found\n'))
        elif request.method == 'GET':
            conn.sendall(srv.answer(200, self.save(family)))
        elif request.method == 'PUT':
            error = self.restore(family, request.body.decode())
            if error is None:
                conn.sendall(srv.answer(200, ''))
            else:
                tool = '/sbin/iptables-restore' if family == 4 else '/sbin/ip6tables-restore'
                conn.sendall(srv.answer(500, 'rpc error: code = Internal desc = %s --wait 5 failed: %r'
                                        % (tool, error)))
        else:
            conn.sendall(srv.answer(501, ''))


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture(autouse=True)
def capture_exit(monkeypatch):
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, **kwargs):
        raise FailJson(kwargs)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


@pytest.fixture
def shim():
    factory = srv.ServerFactory()
    factory.root = os.path.join(factory.dir, 'sbs')
    factory.guest = FakeGuest()
    factory.server = factory.start(factory.guest.behaviour,
                                   path=os.path.join(factory.root, SANDBOX, 'shim-monitor.sock'))
    yield factory
    factory.close()


def run_module(args, expect='exit'):
    with patch_module_args(args):
        with pytest.raises(ExitJson if expect == 'exit' else FailJson) as exc_info:
            kata_iptables.main()
    return exc_info.value.args[0]


def args_for(shim, **kwargs):
    args = {'sandbox_id': SANDBOX, 'sandbox_root': shim.root, 'rs_sandbox_root': os.path.join(shim.dir, 'kata'),
            'timeout': 2}
    args.update(kwargs)
    return args


def log(shim):
    return [(r.method, r.target) for r in shim.server.requests]


def test_change_then_unchanged(shim):
    result = run_module(args_for(shim, rules=WANTED))
    assert result['changed'] is True
    assert log(shim) == [('GET', '/iptables'), ('PUT', '/iptables'), ('GET', '/iptables')]
    put = shim.server.requests[1]
    assert put.headers['content-type'] == 'application/octet-stream'
    assert put.body == WANTED.encode()
    assert result['rules'] == shim.guest.save(4)
    assert 'diff' not in result and 'backup_file' not in result

    del shim.server.requests[:]
    result = run_module(args_for(shim, rules=WANTED))
    assert result == {'changed': False, 'rules': shim.guest.save(4)}
    assert log(shim) == [('GET', '/iptables')]


def test_check_mode_sends_no_put_and_diff_shows_the_plan(shim):
    before = shim.guest.save(4)
    result = run_module(args_for(shim, rules=WANTED, _ansible_check_mode=True, _ansible_diff=True))
    assert result['changed'] is True
    assert log(shim) == [('GET', '/iptables')]
    assert shim.guest.save(4) == before
    assert result['rules'] == before
    assert result['diff'] == {'before': NORMALIZED_INITIAL, 'after': NORMALIZED_WANTED,
                              'before_header': 'sandbox %s iptables (live)' % SANDBOX,
                              'after_header': 'sandbox %s iptables (wanted)' % SANDBOX}


def test_diff_when_unchanged_is_empty(shim):
    run_module(args_for(shim, rules=WANTED))
    result = run_module(args_for(shim, rules=WANTED, _ansible_diff=True))
    assert result['changed'] is False
    assert result['diff']['before'] == result['diff']['after'] == NORMALIZED_WANTED


def test_equal_rules_written_differently_send_no_put(shim):
    run_module(args_for(shim, rules=WANTED))
    del shim.server.requests[:]
    same = ('# my rules\n*filter\n:OUTPUT ACCEPT\n:INPUT DROP [99:99]\n:FORWARD   DROP\n\n'
            '[3:4] -A INPUT -i lo -j ACCEPT\n'
            '-A INPUT  -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j "ACCEPT"\nCOMMIT')
    result = run_module(args_for(shim, rules=same, _ansible_check_mode=True))
    assert result['changed'] is False
    result = run_module(args_for(shim, rules=same))
    assert result['changed'] is False
    assert [m for m, _t in log(shim)] == ['GET', 'GET']


def test_missing_final_newline_is_added(shim):
    result = run_module(args_for(shim, rules=WANTED.rstrip('\n')))
    assert result['changed'] is True
    assert shim.server.requests[1].body == WANTED.encode()


def test_rejected_rules_fail_with_the_agent_message_and_keep_the_rules(shim):
    before = shim.guest.save(4)
    bad = '*filter\n:INPUT DROP [0:0]\n-A INPUT -j NOPE\nCOMMIT\n'
    result = run_module(args_for(shim, rules=bad), expect='fail')
    assert result['msg'] == (
        'the Kata agent in sandbox %s rejected the iptables rules (rules), the previous rules stay in place; the agent '
        'said: rpc error: code = Internal desc = /sbin/iptables-restore --wait 5 failed: "iptables-restore v1.8.9 '
        '(nf_tables): Chain \'NOPE\' does not exist\\nError occurred at line: 3\\nTry `iptables-restore -h\' or '
        '\'iptables-restore --help\' for more information.\\n"' % SANDBOX)
    assert result['changed'] is False
    assert result['status'] == 500
    assert log(shim) == [('GET', '/iptables'), ('PUT', '/iptables')]
    assert shim.guest.save(4) == before


def test_rules_printed_differently_fail_the_verification(shim):
    wanted = '*filter\n-A INPUT -s 10.0.0.1 -j ACCEPT\nCOMMIT\n'
    result = run_module(args_for(shim, rules=wanted), expect='fail')
    assert result['msg'] == (
        'the iptables rules were applied to sandbox %s, but the rules it reports now still differ from the wanted '
        "ones: table filter, chain INPUT: rule 1 is '-A INPUT -s 10.0.0.1/32 -j ACCEPT', wanted '-A INPUT -s "
        "10.0.0.1 -j ACCEPT'. The guest prints some rules differently from how they were written; write them as "
        'iptables-save prints them (for example "-s 10.0.0.1/32", "-p tcp -m tcp --dport 22") so that they can be '
        'compared' % SANDBOX)
    assert result['changed'] is True
    assert result['rules'] == shim.guest.save(4)
    assert log(shim) == [('GET', '/iptables'), ('PUT', '/iptables'), ('GET', '/iptables')]


def test_ipv6(shim):
    wanted = '*filter\n:INPUT DROP [0:0]\n-A INPUT -s fd00::/8 -j ACCEPT\nCOMMIT\n'
    result = run_module(args_for(shim, rules=wanted, ipv6=True))
    assert result['changed'] is True
    assert log(shim) == [('GET', '/ip6tables'), ('PUT', '/ip6tables'), ('GET', '/ip6tables')]
    assert '-A INPUT -s fd00::/8 -j ACCEPT' in result['rules']
    assert '-A INPUT' not in shim.guest.save(4)
    assert run_module(args_for(shim, rules=wanted, ipv6=True))['changed'] is False


def test_src_file(shim, tmp_path):
    path = tmp_path / 'sandbox.rules'
    path.write_bytes(WANTED.encode())
    assert run_module(args_for(shim, src=str(path)))['changed'] is True
    assert shim.server.requests[1].body == WANTED.encode()
    assert run_module(args_for(shim, src=str(path)))['changed'] is False


def test_src_unreadable(shim, tmp_path):
    result = run_module(args_for(shim, src=str(tmp_path / 'nope.rules')), expect='fail')
    assert result['msg'] == 'src: cannot read the rules file %s: No such file or directory' % (tmp_path / 'nope.rules')
    assert log(shim) == []


def test_src_not_in_iptables_save_format(shim, tmp_path):
    path = tmp_path / 'bad.rules'
    path.write_bytes(b'-A INPUT -j ACCEPT\n')
    result = run_module(args_for(shim, src=str(path)), expect='fail')
    assert result['msg'] == ('src (%s): not in iptables-save format: line 1: \'-A INPUT -j ACCEPT\' is outside a table: '
                             'expected a "*<table>" line first' % path)
    assert log(shim) == []


@pytest.mark.parametrize('rules, message', [
    ('', 'rules: not in iptables-save format: no table found: expected iptables-save text, a "*<table>" line, chain '
         'and rule lines, then "COMMIT"'),
    ('*filter\n-A INPUT -j ACCEPT\n', 'rules: not in iptables-save format: table filter is not terminated by COMMIT'),
])
def test_rules_not_in_iptables_save_format(shim, rules, message):
    result = run_module(args_for(shim, rules=rules), expect='fail')
    assert result['msg'] == message
    assert log(shim) == []


def test_rules_and_src_are_exclusive(shim):
    result = run_module(args_for(shim, rules=WANTED, src='/x'), expect='fail')
    assert result['msg'] == 'parameters are mutually exclusive: rules|src'
    result = run_module(args_for(shim), expect='fail')
    assert result['msg'] == 'one of the following is required: rules, src'


def test_invalid_sandbox_id(shim):
    result = run_module(args_for(shim, sandbox_id='../etc', rules=WANTED), expect='fail')
    assert result['msg'].startswith("sandbox_id: invalid sandbox ID '../etc': expected a string matching")
    assert log(shim) == []


def test_unknown_sandbox(shim):
    result = run_module(args_for(shim, sandbox_id='other', rules=WANTED), expect='fail')
    assert result['msg'] == (
        'no shim socket for sandbox other: neither %s nor %s exists (is the sandbox running on this host? Set '
        'sandbox_root, rs_sandbox_root or shim_socket if its shim listens elsewhere)'
        % (os.path.join(shim.root, 'other', 'shim-monitor.sock'), os.path.join(shim.dir, 'kata', 'other',
                                                                               'shim-monitor.sock')))


def test_get_error_fails(shim):
    server = shim.start(srv.respond(500, 'rpc error: code = Internal desc = failed to spawn iptables-save'))
    result = run_module(args_for(shim, shim_socket=server.path, rules=WANTED), expect='fail')
    assert result['msg'] == ('GET http://shim/iptables via %s: HTTP 500 Internal Server Error: rpc error: code = '
                             'Internal desc = failed to spawn iptables-save' % server.path)
    assert [(r.method, r.target) for r in server.requests] == [('GET', '/iptables')]


def test_backup(shim, tmp_path):
    backups = tmp_path / 'backups'
    before = shim.guest.save(4)
    result = run_module(args_for(shim, rules=WANTED, backup=True, backup_dir=str(backups), _ansible_check_mode=True))
    assert 'backup_file' not in result
    assert not backups.exists()

    result = run_module(args_for(shim, rules=WANTED, backup=True, backup_dir=str(backups)))
    assert result['changed'] is True
    assert os.path.dirname(result['backup_file']) == str(backups)
    assert os.path.basename(result['backup_file']).startswith(SANDBOX + '.iptables.')
    with open(result['backup_file']) as f:
        assert f.read() == before
    assert os.stat(result['backup_file']).st_mode & 0o777 == 0o600

    result = run_module(args_for(shim, rules=WANTED, backup=True, backup_dir=str(backups)))
    assert result['changed'] is False and 'backup_file' not in result
    assert len(os.listdir(str(backups))) == 1


def test_backup_is_kept_when_the_agent_rejects(shim, tmp_path):
    result = run_module(args_for(shim, rules='*filter\n-A INPUT -j NOPE\nCOMMIT\n', backup=True,
                                 backup_dir=str(tmp_path)), expect='fail')
    assert os.path.dirname(result['backup_file']) == str(tmp_path)
    assert os.path.exists(result['backup_file'])


# --------------------------------------------------------------------------------------------------------------------
# A shim whose guest is a real network namespace


class NetnsGuest(object):
    """GET runs iptables-save, PUT runs iptables-restore --wait 5 (stdin = body) in the namespace, as the agent."""

    def __init__(self, name):
        self.name = name

    def behaviour(self, conn, request, stop):
        family = {'/iptables': '', '/ip6tables': '6'}.get(request.target)
        if family is None:
            conn.sendall(srv.answer(404, '404 page not found\n'))
            return
        prefix = ['ip', 'netns', 'exec', self.name]
        if request.method == 'GET':
            done = subprocess.run(prefix + ['ip%stables-save' % family], capture_output=True, check=False)
            conn.sendall(srv.answer(200, done.stdout))
        elif request.method == 'PUT':
            command = 'ip%stables-restore' % family
            done = subprocess.run(prefix + [command, '--wait', '5'], input=request.body, capture_output=True, check=False)
            if done.returncode:
                conn.sendall(srv.answer(500, 'rpc error: code = Internal desc = /sbin/%s --wait 5 failed: %r'
                                        % (command, done.stderr.decode())))
            else:
                conn.sendall(srv.answer(200, ''))
        else:
            conn.sendall(srv.answer(501, ''))


@pytest.fixture
def netns_shim():
    if os.geteuid() != 0:
        pytest.skip('needs root (ip netns add)')
    for tool in ('ip', 'iptables-save', 'iptables-restore'):
        if shutil.which(tool) is None:
            pytest.skip('%s is not installed (apt-get install -y iptables iproute2)' % tool)
    name = 'katashim%d' % os.getpid()
    created = subprocess.run(['ip', 'netns', 'add', name], capture_output=True, text=True, check=False)
    if created.returncode:
        pytest.skip('cannot create a network namespace: %s' % created.stderr.strip())
    factory = srv.ServerFactory()
    factory.root = os.path.join(factory.dir, 'sbs')
    factory.netns = name
    factory.server = factory.start(NetnsGuest(name).behaviour,
                                   path=os.path.join(factory.root, SANDBOX, 'shim-monitor.sock'))
    try:
        yield factory
    finally:
        factory.close()
        subprocess.run(['ip', 'netns', 'del', name], capture_output=True, check=False)


def test_real_iptables_end_to_end(netns_shim):
    shim = netns_shim
    wanted = WANTED + '*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 10.88.0.0/16 ! -o lo -j MASQUERADE\nCOMMIT\n'
    result = run_module(args_for(shim, rules=wanted, _ansible_diff=True))
    assert result['changed'] is True
    assert '-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -m comment --comment "ssh in" -j ACCEPT' in result['rules']
    assert result['rules'].startswith('# Generated by iptables-save')

    del shim.server.requests[:]
    result = run_module(args_for(shim, rules=wanted))
    assert result['changed'] is False
    assert log(shim) == [('GET', '/iptables')]

    # Rejected by the real iptables-restore: the agent's message, and the rules stay.
    live = subprocess.run(['ip', 'netns', 'exec', shim.netns, 'iptables-save'], capture_output=True, text=True, check=False).stdout
    result = run_module(args_for(shim, rules='*filter\n-A INPUT -j NOPE\nCOMMIT\n'), expect='fail')
    assert result['msg'].startswith('the Kata agent in sandbox %s rejected the iptables rules (rules), the previous '
                                    'rules stay in place; the agent said: rpc error: code = Internal desc = '
                                    '/sbin/iptables-restore --wait 5 failed: "iptables-restore v' % SANDBOX)
    assert "Chain 'NOPE' does not exist" in result['msg']
    after = subprocess.run(['ip', 'netns', 'exec', shim.netns, 'iptables-save'], capture_output=True, text=True, check=False).stdout
    assert ipt.normalize(after) == ipt.normalize(live)

    # Short forms: applied, then reported as printed differently.
    result = run_module(args_for(shim, rules='*filter\n-A INPUT -s 10.0.0.1 -p tcp --dport 22 -j ACCEPT\nCOMMIT\n'),
                        expect='fail')
    assert result['changed'] is True
    assert ("rule 1 is '-A INPUT -s 10.0.0.1/32 -p tcp -m tcp --dport 22 -j ACCEPT', wanted '-A INPUT -s 10.0.0.1 -p "
            "tcp --dport 22 -j ACCEPT'") in result['msg']


# -- found by the robustness suite (tests/robustness) ----------------------------------------------------------------

def test_rules_with_nul_are_refused_before_any_put(shim):
    # iptables-restore would have cut the rule at the NUL and applied "-A INPUT -s 10.0.0.1" without its target.
    rules = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1\0 -j DROP\nCOMMIT\n'
    result = run_module(args_for(shim, rules=rules), expect='fail')
    assert result['msg'] == 'rules: the rules contain a NUL character (line 3), which iptables-restore would cut the line at'
    assert log(shim) == []


def test_src_with_nul_is_refused_before_any_put(shim, tmp_path):
    path = tmp_path / 'nul.rules'
    path.write_bytes(b'*filter\n-A INPUT -j DROP\0\nCOMMIT\n')
    result = run_module(args_for(shim, src=str(path)), expect='fail')
    assert result['msg'] == ('src (%s): the rules contain a NUL character (line 2), which iptables-restore would cut '
                             'the line at' % path)
    assert log(shim) == []


def test_src_path_with_nul_names_the_option(shim):
    result = run_module(args_for(shim, src='/tmp/a\0b'), expect='fail')
    assert result['msg'] == "src: invalid path '/tmp/a\\x00b': it contains a NUL character"
    assert log(shim) == []
