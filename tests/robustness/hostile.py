# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile hosts: a local unprivileged user (simulated by files owned by ``nobody``) must not be able to make the
modules, run as root, write outside their directories, talk to a peer of the user's choosing, block, or leak.

Each case plants something, runs the module as Ansible does, and checks the victim files (hashed), the planted
listener's connection count, the time taken and the memory used, and the output (no secret in it). Static checks
read the collection's code: commands as argv lists only, no shell; options that can carry secrets.
"""

from __future__ import annotations

import ast
import base64
import os
import re
import subprocess
import sys
import threading
import time

import rlib

NOBODY = 65534
SECRET = 'S3cret-Jaeger-Passw0rd-kr'
LEAK_MARK = 'LEAKED-FROM-OUTSIDE-THE-HOST-ROOT'


def chown_nobody(*paths):
    for path in paths:
        os.lchown(path, NOBODY, NOBODY)


def digest(path):
    return rlib.tree_digest(path)


class Listener(object):
    """A unix socket owned by nobody that counts the connections it gets (it answers like a shim would)."""

    def __init__(self, path):
        import peers

        self.inner = peers.Listener(peers.http_peer('ok', peers.shim_routes()), path=path)
        chown_nobody(path)

    @property
    def connections(self):
        return self.inner.connections

    def close(self):
        self.inner.close()


def run_with_rusage(ws, module, args):
    """Run a module; ``(Outcome, max RSS in MiB)`` measured with wait4 on the module process."""
    path = rlib.module_args_file(ws, args)
    start = time.monotonic()
    proc = subprocess.Popen(rlib.module_command(ws, module, path), cwd=ws.cwd, env=ws.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read the output in the background so that a large answer cannot block the child; wait4 gives its rusage.
    chunks = {'out': [], 'err': []}

    def pump(stream, key):
        for block in iter(lambda: stream.read(65536), b''):
            chunks[key].append(block)
    readers = [threading.Thread(target=pump, args=(proc.stdout, 'out')),
               threading.Thread(target=pump, args=(proc.stderr, 'err'))]
    for t in readers:
        t.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    elapsed = time.monotonic() - start
    stdout, stderr = b''.join(chunks['out']), b''.join(chunks['err'])
    return rlib.Outcome(proc.returncode, stdout, stderr, rlib.parse_result(stdout), elapsed, False), usage.ru_maxrss / 1024.0


class Hostile(object):
    def __init__(self, ws, out):
        self.ws = ws
        self.out = out
        self.results = []

    def record(self, module, name, problems, outcome=None, note=None, counts=None):
        counts = dict(counts or {})
        if outcome is not None and outcome.traceback():
            problems = list(problems) + ['traceback: %s' % outcome.traceback()]
            counts['tracebacks'] = 1
        result = rlib.CaseResult('hostile', module, name, 'secure' if not problems else 'INSECURE', problems,
                                 elapsed=outcome.elapsed if outcome else None, note=note, counts=counts)
        self.results.append(result)
        verdict = 'secure' if not problems else 'INSECURE'
        self.out.write('  %-9s %-20s %s%s\n' % (verdict, module, name, (': ' + note) if note else ''))
        for problem in problems:
            self.out.write('            %s\n' % problem[:400])
        self.out.flush()

    # -- direct volumes ----------------------------------------------------------------------------------------------

    def direct_volume_links(self):
        ws = self.ws
        base = ws.mkdir('dv-hostile')
        victim = os.path.join(base, 'victim')  # the user's own directory and file
        os.makedirs(victim)
        with open(os.path.join(victim, 'passwd'), 'w', encoding='ascii') as f:
            f.write('root:x:0:0:root:/root:/bin/bash\n')
        chown_nobody(victim, os.path.join(victim, 'passwd'))
        root = os.path.join(base, 'direct-volumes')
        os.makedirs(root, 0o700)
        mount_info = {'volume_type': 'block', 'device': '/dev/kr-hostile', 'fstype': 'ext4'}

        def name(path):
            return base64.urlsafe_b64encode(path.encode()).decode()

        # 1. The volume directory is a symbolic link to the user's directory.
        link = os.path.join(root, name('/dev/kr-link-dir'))
        os.symlink(victim, link)
        chown_nobody(link)
        before = digest(victim)
        for state, check_mode in (('present', False), ('present', True), ('absent', False)):
            args = {'volume_path': '/dev/kr-link-dir', 'volume_root': root, 'state': state}
            if state == 'present':
                args['mount_info'] = mount_info
            outcome = rlib.run_module(ws, 'kata_direct_volume', args, check_mode=check_mode)
            problems = []
            if digest(victim) != before:
                problems.append('the directory the link points to changed')
            if state == 'present' and not outcome.failed:
                problems.append('a volume directory that is a symbolic link was accepted')
            if state == 'absent' and (outcome.failed or os.path.lexists(link)):
                problems.append('absent did not remove the link itself: %s' % outcome.msg)
            self.record('kata_direct_volume', 'symlink planted at a volume directory, state=%s%s' % (
                state, ' (check mode)' if check_mode else ''), problems, outcome,
                note=outcome.msg[:150] if outcome.failed else 'the link itself was removed, not followed')

        # 2. mountInfo.json is a symbolic link to the user's file.
        directory = os.path.join(root, name('/dev/kr-link-file'))
        os.makedirs(directory, 0o700)
        target = os.path.join(directory, 'mountInfo.json')
        os.symlink(os.path.join(victim, 'passwd'), target)
        chown_nobody(target)
        outcome = rlib.run_module(ws, 'kata_direct_volume', {'volume_path': '/dev/kr-link-file', 'volume_root': root,
                                                             'mount_info': mount_info})
        problems = []
        if digest(victim) != before:
            problems.append('the file the link points to was written')
        if outcome.failed or os.path.islink(target):
            problems.append('the link was not replaced by the record: %s' % outcome.msg)
        self.record('kata_direct_volume', 'symlink planted at mountInfo.json', problems, outcome,
                    note='replaced by a real file; the user\'s file untouched')

        # 3. mountInfo.json is a FIFO (a reader that opens it normally blocks forever).
        directory = os.path.join(root, name('/dev/kr-fifo'))
        os.makedirs(directory, 0o700)
        fifo = os.path.join(directory, 'mountInfo.json')
        os.mkfifo(fifo)
        chown_nobody(fifo)
        for module, args in (('kata_sandbox_info', {'volume_root': root, 'sandbox_root': os.path.join(base, 'none'),
                                                    'rs_sandbox_root': os.path.join(base, 'none')}),
                             ('kata_direct_volume', {'volume_path': '/dev/kr-fifo', 'volume_root': root,
                                                     'mount_info': mount_info})):
            outcome = rlib.run_module(ws, module, args, limit=30)
            problems = []
            if outcome.killed or outcome.elapsed > 10:
                problems.append('blocked on the FIFO (%.1f s)' % outcome.elapsed)
            elif outcome.failed:
                problems.append('failed: %s' % outcome.msg)
            self.record(module, 'FIFO planted at mountInfo.json', problems, outcome, note='%.2f s' % outcome.elapsed)
        if digest(victim) != before:
            self.record('kata_direct_volume', 'victim files after all direct-volume cases', ['changed'])

    # -- shim sockets ------------------------------------------------------------------------------------------------

    def shim_links(self):
        ws = self.ws
        base = ws.mkdir('shim-hostile')
        elsewhere = os.path.join(base, 'evil')
        os.makedirs(elsewhere)
        chown_nobody(elsewhere)
        listener = Listener(os.path.join(elsewhere, 'shim-monitor.sock'))
        try:
            sbs = os.path.join(base, 'sbs')
            rs = os.path.join(base, 'rs')
            os.makedirs(os.path.join(sbs, 'kr-link-socket'))
            os.makedirs(rs)
            link = os.path.join(sbs, 'kr-link-socket', 'shim-monitor.sock')
            os.symlink(os.path.join(elsewhere, 'shim-monitor.sock'), link)
            chown_nobody(link)
            link_dir = os.path.join(sbs, 'kr-link-dir')
            os.symlink(elsewhere, link_dir)
            chown_nobody(link_dir)
            volumes = os.path.join(base, 'dv')
            record = os.path.join(volumes, base64.urlsafe_b64encode(b'/dev/kr-v').decode())
            os.makedirs(record, 0o700)
            with open(os.path.join(record, 'mountInfo.json'), 'w', encoding='ascii') as f:
                f.write('{"volume-type":"block","device":"/dev/kr-v-dev","fstype":"ext4"}')
            os.chmod(os.path.join(record, 'mountInfo.json'), 0o600)
            for case, sandbox in (('the shim socket is a symbolic link', 'kr-link-socket'),
                                  ('the sandbox directory is a symbolic link', 'kr-link-dir')):
                open(os.path.join(record, sandbox), 'w', encoding='ascii').close()
                common = {'sandbox_root': sbs, 'rs_sandbox_root': rs, 'timeout': 2}
                runs = [
                    ('kata_metrics', dict(common, sandbox_id=sandbox)),
                    ('kata_iptables', dict(common, sandbox_id=sandbox, rules='*filter\nCOMMIT\n')),
                    ('kata_exec_cmd', dict(common, sandbox_id=sandbox, cmd='true', stdin='secret input')),
                    ('kata_sandbox_info', dict(common, sandbox_id=[sandbox], agent_url=True, volumes=False)),
                    ('kata_direct_volume', dict(common, volume_path='/dev/kr-v', volume_root=volumes, stats=True,
                                                mount_info={'volume_type': 'block', 'device': '/dev/kr-v-dev',
                                                            'fstype': 'ext4'})),
                ]
                for module, args in runs:
                    before = listener.connections
                    outcome = rlib.run_module(ws, module, args)
                    problems = []
                    if listener.connections != before:
                        problems.append('the module connected to the socket the link leads to')
                    message = outcome.msg
                    if module == 'kata_sandbox_info' and outcome.result and not outcome.failed:
                        message = (outcome.result.get('sandboxes') or [{}])[0].get('error') or ''
                    if not message:
                        problems.append('no error reported')
                    self.record(module, case, problems, outcome, note=message[:140])
                os.unlink(os.path.join(record, sandbox))
            # The explicit option too.
            outcome = rlib.run_module(ws, 'kata_metrics', {'sandbox_id': 'kr-link-socket', 'shim_socket': link})
            problems = [] if outcome.failed and listener.connections == 0 else ['the linked socket was used']
            self.record('kata_metrics', 'shim_socket names a symbolic link', problems, outcome, note=outcome.msg[:140])
        finally:
            listener.close()

    # -- configuration ------------------------------------------------------------------------------------------------

    def config_dropins(self, fixtures_base):
        import fixtures

        ws = self.ws
        fx = fixtures.Fixtures(fixtures_base)
        shadow = _shadow_secrets()
        config = fx.paths['config-fifo-dropin']
        dropins = os.path.join(os.path.dirname(config), 'config.d')
        escape = os.path.join(dropins, '40-escape.toml')
        link_target = os.readlink(escape)
        os.unlink(escape)
        chown_nobody(os.path.join(dropins, '10-fifo.toml'), os.path.join(dropins, '20-dir.toml'))
        runs = (('kata_env', {'config': config}),
                ('kata_check', {'config': config, 'kvm_test': 'never', 'fail_on_incapable': False}),
                ('kata_factory', {'config': config, 'state': 'absent', 'runtime_path': '/bin/false'}))
        for module, args in runs:
            outcome = rlib.run_module(ws, module, args, limit=30)
            problems = []
            if outcome.killed or outcome.elapsed > 10:
                problems.append('blocked on the FIFO drop-in (%.1f s)' % outcome.elapsed)
            text = (outcome.stdout + outcome.stderr).decode('utf-8', 'replace')
            if '10-fifo.toml skipped' not in text or '20-dir.toml skipped' not in text:
                problems.append('the FIFO or the directory drop-in is not reported')
            if module != 'kata_factory' and outcome.failed:
                problems.append('failed: %s' % outcome.msg)
            self.record(module, 'config.d drop-ins: a FIFO and a directory', problems, outcome,
                        note='%.2f s; skipped with a warning%s' % (
                            outcome.elapsed, '; ' + outcome.msg[:80] if outcome.failed else ''))
        # A drop-in that is a link to /etc/shadow (with host_root /, a link inside the root): read as TOML, refused,
        # and nothing of it may reach the output.
        os.symlink(link_target, escape)
        chown_nobody(escape)
        for module, args in runs:
            outcome = rlib.run_module(ws, module, args, limit=30)
            text = (outcome.stdout + outcome.stderr).decode('utf-8', 'replace')
            problems = []
            if any(secret in text for secret in shadow):
                problems.append('content of /etc/shadow is in the output')
            if not outcome.failed:
                problems.append('/etc/shadow was accepted as a drop-in')
            self.record(module, 'config.d drop-in linked to /etc/shadow', problems, outcome,
                        note=outcome.msg[:140])
        return fx

    def secrets_in_config(self, fx):
        ws = self.ws
        config = os.path.join(ws.mkdir('secret-config'), 'configuration.toml')
        with open(fx.config, encoding='utf-8') as f:
            text = f.read()
        text = text.replace('[runtime]\n', '[runtime]\njaeger_endpoint = "http://127.0.0.1:1"\njaeger_user = "kr"\n'
                                           'jaeger_password = "%s"\n' % SECRET)
        with open(config, 'w', encoding='utf-8') as f:
            f.write(text)
        for module, args in (('kata_env', {'config': config}),
                             ('kata_check', {'config': config, 'kvm_test': 'never', 'fail_on_incapable': False}),
                             ('kata_factory', {'config': config, 'state': 'absent', 'runtime_path': '/bin/false'})):
            outcome = rlib.run_module(ws, module, args, diff=True)
            text = (outcome.stdout + outcome.stderr).decode('utf-8', 'replace')
            problems = ['jaeger_password appears in the output'] if SECRET in text else []
            self.record(module, 'jaeger_password in the configuration', problems, outcome,
                        note='masked' if not problems else None)

    # -- /proc ----------------------------------------------------------------------------------------------------------

    def long_proc_line(self):
        ws = self.ws
        root = ws.mkdir('huge-proc')
        os.makedirs(os.path.join(root, 'proc'))
        with open(os.path.join(root, 'proc', 'cpuinfo'), 'wb') as f:
            # One line of 100 MB: "flags : vmx vmx ..." then NUL bytes (a sparse file: quick to make, read like any)
            f.write(b'vendor_id\t: GenuineIntel\nflags\t\t: ' + b'vmx ' * 262144)
            f.truncate(100 * 1024 * 1024)
            f.seek(0, os.SEEK_END)
            f.write(b'\n')
        with open(os.path.join(root, 'proc', 'meminfo'), 'wb') as f:
            f.write(b'MemTotal: ' + b'9' * (1024 * 1024) + b' kB\n')
        for module, args in (('kata_check', {'host_root': root, 'kvm_test': 'never', 'fail_on_incapable': False}),
                             ('kata_env', {'host_root': root})):
            outcome, rss = run_with_rusage(ws, module, args)
            problems = []
            if outcome.elapsed > 20:
                problems.append('took %.1f s' % outcome.elapsed)
            if rss > 400:
                problems.append('used %.0f MiB of memory' % rss)
            if len(outcome.stdout) > 20 * 1024 * 1024:
                problems.append('returned %d MiB' % (len(outcome.stdout) >> 20))
            self.record(module, 'host_root with a 100 MB /proc/cpuinfo line (and a 1 MB /proc/meminfo line)',
                        problems, outcome, note='%.2f s, %.0f MiB max RSS, %d KiB of output: %s' % (
                            outcome.elapsed, rss, len(outcome.stdout) >> 10,
                            outcome.msg[:100] if outcome.failed else 'succeeded'))

    def host_root_escape(self):
        ws = self.ws
        outside = os.path.join(ws.mkdir('outside'), 'os-release')
        with open(outside, 'w', encoding='ascii') as f:
            f.write('NAME="%s"\nVERSION_ID="666"\n' % LEAK_MARK)
        root = ws.mkdir('escape-root')
        os.makedirs(os.path.join(root, 'proc'))
        os.makedirs(os.path.join(root, 'etc'))
        for name in ('cpuinfo', 'version'):
            with open('/proc/' + name, 'rb') as src, open(os.path.join(root, 'proc', name), 'wb') as dst:
                dst.write(src.read())
        os.symlink(outside, os.path.join(root, 'etc', 'os-release'))
        os.symlink('../../../../../../../../etc/shadow', os.path.join(root, 'proc', 'meminfo'))
        chown_nobody(os.path.join(root, 'etc', 'os-release'), os.path.join(root, 'proc', 'meminfo'))
        shadow = _shadow_secrets()
        outcome = rlib.run_module(ws, 'kata_env', {'host_root': root})
        text = (outcome.stdout + outcome.stderr).decode('utf-8', 'replace')
        problems = []
        distro = ((outcome.result or {}).get('ansible_facts') or {}).get('kata_env', {}).get('host', {}).get('distro')
        if outcome.failed:
            problems.append('failed: %s' % outcome.msg)
        if LEAK_MARK in text:
            problems.append('an absolute link under host_root was followed outside it')
        if any(secret in text for secret in shadow):
            problems.append('/etc/shadow was read through a relative link climbing out of host_root')
        self.record('kata_env', 'links under host_root pointing outside it (absolute, and ../ climbing)', problems,
                    outcome, note='resolved inside the root: distro %s' % (distro,))

    # -- TLS -------------------------------------------------------------------------------------------------------------

    def tls(self):
        import peers

        context = peers.self_signed_context(self.ws.mkdir('tls'))
        mirror = peers.ReleaseMirror(tls=context)
        try:
            args = {'host_root': '/', 'kvm_test': 'never', 'fail_on_incapable': False, 'release_check': True,
                    'release_url': mirror.url, 'release_timeout': 5, 'runtime_path': '/bin/false'}
            outcome = rlib.run_module(self.ws, 'kata_check', args)
            problems = []
            if not outcome.failed or 'CERTIFICATE_VERIFY_FAILED' not in outcome.msg:
                problems.append('a self-signed mirror was not refused: %s' % (outcome.msg or 'the check succeeded'))
            self.record('kata_check', 'release check against a self-signed HTTPS mirror (default validate_certs)',
                        problems, outcome, note=outcome.msg[:140])
            outcome = rlib.run_module(self.ws, 'kata_check', dict(args, validate_certs=False))
            problems = [] if not outcome.failed else ['validate_certs=false still failed: %s' % outcome.msg]
            self.record('kata_check', 'the same mirror with validate_certs=false (the mirror itself works)', problems,
                        outcome, note='succeeded' if not problems else None)
        finally:
            mirror.close()

    # -- the code itself -----------------------------------------------------------------------------------------------

    def static_commands(self):
        """Every way the collection's code could start a process, and whether a shell could be involved."""
        findings = []
        calls = 0
        for path in _python_files(os.path.join(rlib.REPO, 'plugins')):
            with open(path, encoding='utf-8') as f:
                tree = ast.parse(f.read(), path)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = _call_name(node.func)
                where = '%s:%d' % (os.path.relpath(path, rlib.REPO), node.lineno)
                runner = name.endswith('run_command') or name.startswith('subprocess.')
                for keyword in node.keywords:
                    if runner and keyword.arg in ('shell', 'use_unsafe_shell') and not (
                            isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                        findings.append('%s: %s(%s=...)' % (where, name, keyword.arg))
                if name in ('os.system', 'os.popen', 'subprocess.getoutput', 'subprocess.getstatusoutput',
                            'commands.getoutput', 'pty.spawn'):
                    findings.append('%s: %s' % (where, name))
                if name.endswith('run_command') or name in ('subprocess.Popen', 'subprocess.run', 'subprocess.call',
                                                            'subprocess.check_output', 'subprocess.check_call'):
                    calls += 1
                    if node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr, ast.BinOp)):
                        findings.append('%s: %s called with a string command line' % (where, name))
        self.record('collection', 'commands run as argv lists, never through a shell (%d call sites read)' % calls,
                    findings, note='no shell=True, use_unsafe_shell, os.system or string command line in plugins/')

    def static_no_log(self, specs):
        """Options whose name looks like a secret must be no_log; report what else can carry one."""
        pattern = re.compile(r'^(?:.+[-_\s])?pass(?:[-_\s]?(?:word|phrase|wrd|wd)?)(?:[-_\s].+)?$|token|secret|key$',
                             re.I)
        problems = []
        looked = []
        for module, kwargs in sorted(specs.items()):
            for option, spec in _walk_spec(kwargs['argument_spec']):
                looked.append('%s.%s' % (module, option))
                if pattern.search(option) and not spec.get('no_log'):
                    problems.append('%s: option %s looks like a secret but is not no_log' % (module, option))
        self.record('collection', 'options that look like secrets are no_log (%d options read)' % len(looked),
                    problems, note='none of the options is a secret by name; see README for stdin and cmd')


def _shadow_secrets():
    """Password hashes of /etc/shadow (fields long enough to be recognisable), to look for in outputs."""
    try:
        with open('/etc/shadow', encoding='utf-8', errors='replace') as f:
            fields = [line.split(':')[1] for line in f if line.count(':') > 2]
    except OSError:
        return []
    return [field for field in fields if len(field) > 12]


def _python_files(top):
    for dirpath, _dirnames, filenames in os.walk(top):
        for name in filenames:
            if name.endswith('.py'):
                yield os.path.join(dirpath, name)


def _call_name(func):
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return '.'.join(reversed(parts))


def _walk_spec(spec, prefix=''):
    for option, value in spec.items():
        yield prefix + option, value
        if value.get('options'):
            yield from _walk_spec(value['options'], prefix + option + '.')


def run(python, out=sys.stdout, keep=False):
    import matrix

    ws = rlib.Workspace(python=python, keep=keep)
    hostile = Hostile(ws, out)
    try:
        if os.geteuid() != 0:
            hostile.record('collection', 'hostile-host cases', ['they need root (run the suite as root)'])
            return hostile.results
        hostile.direct_volume_links()
        hostile.shim_links()
        fx = hostile.config_dropins(ws.mkdir('fixtures'))
        hostile.secrets_in_config(fx)
        hostile.long_proc_line()
        hostile.host_root_escape()
        hostile.tls()
        hostile.static_commands()
        hostile.static_no_log(matrix.capture_specs())
        return hostile.results
    finally:
        matrix._unlock(ws.path)  # pylint: disable=protected-access
        ws.close()
