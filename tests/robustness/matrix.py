# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generated bad-input matrix.

Every module's argument spec is read from the module file itself (its ``main()`` is run with ``AnsibleModule``
replaced by a recorder), so an option added later is covered without touching this file. For each option, a list of
bad and boundary values is derived from its type, its elements, its choices and sub-options, and from what the
option means (sandbox IDs, paths, file contents, URLs, JMESPath, iptables text...). Each case is one module run with
one option replaced on a valid base, against a running simulated node.

A case is judged on four things:

* ``rejected``: the task failed with a ``msg`` that names the option (or, for file contents, the file);
  ``accepted``: the task succeeded (the value was valid after all: listed, not a failure);
  ``unnamed``: it failed with a message that names neither (a failure of the suite);
* no traceback anywhere (stdout, stderr, an ``exception`` key, the collection's "Unexpected error");
* nothing changed: the simulated node's tree, the workspace trees and the canary directory hash the same before
  and after, and the request log shows no PUT or POST;
* it returned within a generous bound.
"""

from __future__ import annotations

import os
import sys
import threading
import zlib

import rlib
from fixtures import BAD_RULES, Fixtures

BASE_RULES = ('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n'
              '-A INPUT -s 192.0.2.1/32 -j DROP\nCOMMIT\n')
BASE_MOUNT_INFO = {'volume_type': 'block', 'device': '/dev/kr-dev', 'fstype': 'ext4',
                   'metadata': {'fsGroup': '1000'}, 'options': ['ro']}
LEGIT_TIMEOUT_WORDS = ('timed out', 'timeout', 'within', 'did not finish', 'did not answer')
CASE_BOUND = 30.0  # seconds: a case that takes longer is reported as slow (none of the bases waits on anything)
HUGE = 'A' * (1 << 20)
# What kata_exec_cmd types into the guest terminal: 64 KiB takes about a second, 1 MiB over ten.
EXEC_HUGE = 'A' * (1 << 16)


class Captured(Exception):
    """Raised by the recorder that stands in for AnsibleModule."""


def capture_specs(modules=rlib.MODULES):
    """``{module: AnsibleModule kwargs}`` read by running each module's ``main()`` against a recorder."""
    import importlib

    specs = {}
    for name in modules:
        mod = importlib.import_module('%s.%s' % (rlib.MODULE_PACKAGE, name))

        def recorder(**kwargs):
            raise Captured(kwargs)

        original = mod.AnsibleModule
        mod.AnsibleModule = recorder
        try:
            mod.main()
        except Captured as exc:
            specs[name] = exc.args[0]
        finally:
            mod.AnsibleModule = original
        if name not in specs:
            raise RuntimeError('%s.main() did not build an AnsibleModule' % name)
    return specs


class Case(object):
    """One module run. ``names``: texts of which one must be in the failure message (the option, or the value);
    ``legit``: words of a failure that a valid value may rightly cause (a timeout too short to finish)."""

    __slots__ = ('module', 'option', 'label', 'args', 'names', 'check_mode', 'legit', 'type_path')

    def __init__(self, module, option, label, args, names, check_mode=False, legit=(), type_path=None):
        self.type_path = type_path  # a type confusion: the option path its message must start with
        self.module = module
        self.option = option
        self.label = label
        self.args = args
        self.names = names
        self.check_mode = check_mode
        self.legit = legit

    @property
    def title(self):
        return '%s %s=%s' % (self.module, self.option, self.label)


# --------------------------------------------------------------------------------------------------------------------
# Values


def _canary(ctx, tag):
    return os.path.join(ctx.canary_dir, tag)


def injections(ctx):
    """Shell injection attempts: if any of these is ever run by a shell, a file appears in the canary directory."""
    return [
        ('inject-dollar', '$(touch %s)' % _canary(ctx, 'dollar')),
        ('inject-backtick', '`touch %s`' % _canary(ctx, 'backtick')),
        ('inject-semicolon', 'x; touch %s' % _canary(ctx, 'semicolon')),
    ]


def generic_strings(ctx):
    return [
        ('empty', ''),
        ('blank', '   '),
        ('huge-1MiB', HUGE),
        ('nul', 'a\x00b'),
        ('non-utf8-decoded', '\u00ff\u00fe\ufffd'),
        ('control-chars', '\x1b[31m\r\n\t\x7f'),
        ('bidi', 'a\u202eb'),
        ('format', '%s%n{0}%(x)s'),
        ('traversal', '../../../../../../etc/passwd'),
        ('json-malformed', '{"a": [1,'),
    ] + injections(ctx)


WRONG_TYPES = [('int', 5), ('float', -1.5), ('bool', True), ('list', ['a', 'b']), ('dict', {'a': 1})]


def hostile_ids():
    return [
        ('id-empty', ''),
        ('id-dot', '.'),
        ('id-dotdot', '..'),
        ('id-traversal', '../../../etc'),
        ('id-slash', 'a/b'),
        ('id-leading-dash', '-rf'),
        ('id-leading-dot', '.hidden'),
        ('id-space', 'a b'),
        ('id-newline', 'ab\n'),
        ('id-comma', 'ab,cd'),
        ('id-glob', 'a*'),
        ('id-nul', 'ab\x00cd'),
        ('id-cyrillic', '\u0430b'),
        ('id-256-chars', 'a' * 256),
        ('id-one-char', 'a'),
        ('id-unknown-valid', 'kr-no-such-sandbox'),
    ]


def number_values(kind):
    values = [('string', 'x'), ('empty', ''), ('negative', -1), ('zero', 0), ('list', [1]), ('dict', {'a': 1}),
              ('bool', True)]
    if kind == 'int':
        values += [('float', 1.5), ('huge', 2 ** 64), ('hex-string', '0x10')]
    else:
        values += [('nan', 'nan'), ('inf', 'inf'), ('minus-inf', '-inf'), ('huge', 1e10), ('tiny', 1e-9)]
    return values


BOOL_VALUES = [('maybe', 'maybe'), ('two', 2), ('empty', ''), ('list', [True]), ('dict', {'a': True}),
               ('float', 0.5)]


def choice_values(choices):
    first = str(choices[0])
    return [('unknown', 'bogus'), ('empty', ''), ('upper', first.upper()), ('padded', ' %s ' % first),
            ('int', 1), ('list', list(choices)), ('nul', first + '\x00')]


def list_values(elements):
    values = [('not-a-list-dict', {'a': 1}), ('nested-list', [['a']]), ('list-of-dicts', [{'a': 1}]),
              ('nul-item', ['a\x00b']), ('empty-item', ['']), ('ten-thousand', ['x%d' % i for i in range(10000)]),
              ('surrogate-item', ['\udcff\udcfe']), ('huge-item', [HUGE])]
    if elements != 'str':
        values.append(('strings', ['x']))
    return values


def path_values(ctx):
    """Paths for options that name files or directories on the node."""
    p = ctx.fixtures.paths
    return [
        ('empty', ''),
        ('relative', 'relative/dir'),
        ('traversal', '../../../../../../etc'),
        ('etc-shadow', '/etc/shadow'),
        ('dev-zero', p['dev-zero']),
        ('dev-null', p['dev-null']),
        ('fifo', p['fifo']),
        ('dead-socket', p['dead-socket']),
        ('directory', p['directory']),
        ('regular-file', p['regular-file']),
        ('dangling-link', p['dangling-link']),
        ('link-loop', p['link-loop']),
        ('too-long', p['long-path']),
        ('newline', p['newline-path']),
        ('nul', '/tmp/a\x00b'),
        ('tilde-user', '~no-such-user/x'),
        ('env-var', '$NO_SUCH_VAR/x'),
        ('non-utf8-decoded', '/tmp/\u00ff\ufffd'),
    ] + injections(ctx)


def config_values(ctx):
    p = ctx.fixtures.paths
    labels = sorted(k for k in p if k.startswith('toml-'))
    return [(label, p[label]) for label in labels] + path_values(ctx)


def host_root_values(ctx):
    p = ctx.fixtures.paths
    return [(label, p[label]) for label in sorted(k for k in p if k.startswith('host-'))] + path_values(ctx)


def engine_root_values(ctx):
    """kata_runtime_info's host_root: the node with one hostile container engine file each, then the other roots."""
    p = ctx.fixtures.paths
    return [(label, p[label]) for label in sorted(k for k in p if k.startswith('engine-'))] + host_root_values(ctx)


def handler_values(ctx):
    """kata_runtime_info's handlers (the base node has kata, kata-fc, kata-qemu, kata-clh, kata-dragonball)."""
    return list_values('str') + [
        ('unknown', ['kata-nope']), ('known-and-unknown', ['kata-qemu', 'kata-nope', 'kata-other']),
        ('traversal', ['../../etc']), ('upper', ['KATA-QEMU']), ('padded', [' kata-qemu ']),
        ('duplicate', ['kata-qemu', 'kata-qemu']), ('empty-list', []), ('newline', ['kata-qemu\n']),
        ('string-not-list', 'kata-qemu'), ('comma-string', 'kata-qemu,kata-fc'),
    ] + [(label, [value]) for label, value in injections(ctx)]


def rules_text_values(ctx):
    values = []
    for label, data in sorted(BAD_RULES.items()):
        values.append((label, data.decode('utf-8', 'replace')))
    return values + [('empty', ''), ('huge-1MiB', HUGE), ('nul', 'a\x00b'), ('int', 5), ('list', ['*filter']),
                     ('dict', {'a': 1})] + injections(ctx)


def src_values(ctx):
    p = ctx.fixtures.paths
    return ([(label, p[label]) for label in sorted(k for k in p if k.startswith('ipt-'))] + path_values(ctx))


def query_values():
    return [('unclosed', 'foo['), ('operator', '&&'), ('deep-parens', '(' * 5000 + 'a' + ')' * 5000),
            ('deep-dots', 'a' + '.a' * 20000), ('bad-function', 'no_such_fn(@)'), ('type-error', 'length(`1`)'),
            ('empty', ''), ('huge', 'a' * (1 << 20)), ('nul', 'a\x00b'), ('backtick-json', '`{"a": [1`'),
            ('int', 5), ('list', ['a'])]


def url_values():
    return [('file-scheme', 'file:///etc/passwd'), ('ftp', 'ftp://127.0.0.1/x'), ('no-host', 'http://'),
            ('bad-ipv6', 'http://[::1'), ('javascript', 'javascript:alert(1)'), ('space-host', 'http://a b/'),
            ('refused-port', 'http://127.0.0.1:1/x'), ('bad-port', 'http://127.0.0.1:99999/x'),
            ('no-scheme', '127.0.0.1/releases'), ('huge', 'http://127.0.0.1/' + 'a' * 100000),
            ('nul', 'http://127.0.0.1/\x00'), ('crlf-injection', 'http://127.0.0.1/x\r\nX-Evil: 1'),
            ('userinfo', 'http://user:pass@127.0.0.1:1/x'), ('empty', ''), ('int', 5)]


def size_values():
    return [('negative', -1), ('zero', 0), ('too-big', 2 ** 64), ('fraction', '1.5'), ('unit-only', 'Gi'),
            ('bad-unit', '10Zi'), ('exponent', '1e9'), ('negative-string', '-5Gi'), ('spaces', ' 10 Gi '),
            ('arabic-digits', '\u0661\u0660'), ('bool', True), ('list', [1]), ('dict', {'a': 1}), ('float', 1.5),
            ('huge-string', '9' * 10000), ('empty', ''), ('nul', '1\x00')]


def mount_info_values():
    good = dict(BASE_MOUNT_INFO)

    def variant(**changes):
        value = dict(good)
        value.update(changes)
        return dict((k, v) for k, v in value.items() if v is not Ellipsis)

    return [
        ('not-a-dict', 'block'), ('list', [1]), ('json-malformed', '{"volume_type": "block"'),
        ('kv-string', 'volume_type=block device'), ('empty-dict', {}),
        ('unknown-key', variant(bogus='x')), ('no-device', variant(device=Ellipsis)),
        ('device-empty', variant(device='')), ('device-nul', variant(device='/dev/\x00sdb')),
        ('device-surrogates', variant(device='/dev/\udcff')), ('volume-type-int', variant(volume_type=5)),
        ('metadata-not-dict', variant(metadata='x')), ('metadata-list-value', variant(metadata={'a': [1]})),
        ('metadata-empty-key', variant(metadata={'': 'x'})), ('fsgroup-text', variant(metadata={'fsGroup': 'x'})),
        ('fsgroup-huge', variant(metadata={'fsGroup': '9' * 40})),
        ('policy-without-group', variant(metadata={'fsGroupChangePolicy': 'Always'})),
        ('policy-bogus', variant(metadata={'fsGroup': '1', 'fsGroupChangePolicy': 'Sometimes'})),
        ('options-string', variant(options='ro')), ('options-empty-item', variant(options=[''])),
        ('options-nul', variant(options=['r\x00o'])), ('options-dict', variant(options=[{'a': 1}])),
        ('metadata-10k-keys', variant(metadata=dict(('k%d' % i, 'v') for i in range(10000)))),
        ('deep-metadata', variant(metadata={'a': {'b': {'c': 'd'}}})),
    ]


def volume_path_values():
    return [('empty', ''), ('nul', '/dev/\x00x'), ('190-bytes', '/' + 'a' * 189), ('huge', '/' + HUGE),
            ('traversal', '../../../../etc/passwd'), ('dot', '.'), ('dotdot', '..'), ('root', '/'),
            ('int', 5), ('list', ['/a']), ('dict', {'a': 1})]


def exec_text_values(ctx, option):
    """Values for cmd/argv/chdir/stdin of kata_exec_cmd: harmless when they run (cmd is a shell command by design)."""
    if option == 'cmd':
        return [('empty', ''), ('blank', '   '), ('nul', 'echo a\x00b'), ('huge-64KiB', 'echo ' + EXEC_HUGE),
                ('non-utf8-decoded', 'echo \u00ff\ufffd'), ('control-chars', 'echo \x03\x1c\x04'),
                ('unterminated-quote', 'echo "open'), ('int', 5), ('list', ['true']), ('dict', {'a': 1})]
    if option == 'argv':
        inj = [(label, ['echo', value]) for label, value in injections(ctx)]
        return [('empty-list', []), ('empty-program', ['']), ('nul', ['echo', 'a\x00b']),
                ('not-a-list-dict', {'a': 1}), ('list-of-dicts', [{'a': 1}]), ('ten-thousand', ['true'] * 10000),
                ('surrogate-item', ['echo', '\udcff']), ('huge-item', ['echo', EXEC_HUGE])] + inj
    if option == 'chdir':
        return ([('missing', '/no/such/dir'), ('file', '/etc/hostname'), ('nul', '/tmp\x00x'),
                 ('traversal', '../../../../..'), ('huge', '/' + EXEC_HUGE), ('newline', '/tmp\nx'),
                 ('int', 5), ('list', ['/tmp'])] + injections(ctx))
    # stdin
    return [('nul', 'a\x00b'), ('huge-1MiB', HUGE), ('control-chars', '\x03\x04\x1c\x1a'),
            ('non-utf8-decoded', '\u00ff\ufffd'), ('int', 5), ('list', ['a']), ('dict', {'a': 1})]


SANDBOX_ID_OPTIONS = ('sandbox_id',)
PATH_CONTENT_OPTIONS = ('config', 'host_root', 'src')
CONFIG_OPTIONS = ('config',)
ROOT_PATH_OPTIONS = ('sandbox_root', 'rs_sandbox_root', 'volume_root', 'backup_dir', 'log_path')


def values_for(ctx, module, option, spec):
    """``[(label, value, generic)]`` for one option of one module: ``generic`` values are derived from the type only
    (and the paths every path option gets), the others were chosen for what the option means."""
    values = _specific_values(ctx, module, option, spec)
    if values is None:
        return [(label, value, True) for label, value in _generic_values(ctx, spec)]
    generic_paths = set(label for label, _value in path_values(ctx)) if option in PATH_CONTENT_OPTIONS else ()
    return [(label, value, label in generic_paths) for label, value in values]


def _specific_values(ctx, module, option, spec):
    kind = spec.get('type', 'str')
    if option in SANDBOX_ID_OPTIONS:
        ids = hostile_ids()
        if kind == 'list':
            return ([(label, [value]) for label, value in ids]
                    + [('not-a-list-dict', {'a': 1}), ('empty-list', []), ('list-of-lists', [['ab']]),
                       ('ten-thousand', ['kr-%d' % i for i in range(10000)])])
        if kind == 'raw':
            return ids + [('int', 12345), ('dict', {'a': 1}), ('empty-list', []), ('list-bad', ['ok-id', '../x']),
                          ('list-of-dicts', [{'a': 1}]), ('bool', True), ('float', 1.5)]
        return ids + [('int', 5), ('list', ['ab', 'cd'])]
    if module == 'kata_exec_cmd' and option in ('cmd', 'argv', 'chdir', 'stdin'):
        return exec_text_values(ctx, option)
    if option == 'mount_info':
        return mount_info_values()
    if option == 'size':
        return size_values()
    if option == 'volume_path':
        return volume_path_values()
    if option == 'rules':
        return rules_text_values(ctx)
    if option == 'src':
        return src_values(ctx)
    if option == 'query':
        return query_values()
    if option == 'release_url':
        return url_values()
    if option in CONFIG_OPTIONS:
        return config_values(ctx)
    if option == 'host_root':
        return engine_root_values(ctx) if module == 'kata_runtime_info' else host_root_values(ctx)
    if module == 'kata_runtime_info' and option == 'handlers':
        return handler_values(ctx)
    if option == 'families':
        return list_values('str') + [('digit-prefix', ['1abc']), ('space', ['kata guest']), ('regex', ['kata_.*'])]
    if option == 'gather_subset':
        return list_values('str') + [('unknown', ['bogus']), ('only-exclusions', ['!all']), ('bang', ['!'])]
    return None


def _generic_values(ctx, spec):
    kind = spec.get('type', 'str')
    if 'choices' in spec:
        return choice_values(spec['choices'])
    if kind == 'bool':
        return list(BOOL_VALUES)
    if kind in ('int', 'float'):
        return number_values(kind)
    if kind == 'list':
        return list_values(spec.get('elements'))
    if kind == 'dict':
        return [('string', 'x'), ('list', [1]), ('json-malformed', '{"a": 1'), ('unknown-key', {'bogus': 1})]
    if kind == 'path':
        return path_values(ctx)
    return generic_strings(ctx) + WRONG_TYPES


# --------------------------------------------------------------------------------------------------------------------
# Bases: valid arguments for which every valid mutation is still a no-op


class Context(object):
    """One worker's world: workspace, simulated node, fixtures, mirror, canary directory."""

    def __init__(self, ws, sim, fixtures, mirror_url, canary_dir):
        self.ws = ws
        self.sim = sim
        self.fixtures = fixtures
        self.mirror_url = mirror_url
        self.canary_dir = canary_dir
        self.backup_dir = ws.mkdir('backups')
        self.factory_log = os.path.join(ws.mkdir('factory'), 'factory.log')
        self.cache_config = None
        self.cache_server = None

    def shim_args(self):
        return {'sandbox_root': self.sim.sandbox_root, 'rs_sandbox_root': self.sim.rs_sandbox_root}

    def bases(self, module):
        """``{base name: args}`` and a function option -> base name."""
        sb = self.sim.sandboxes[0]
        shim = self.shim_args()
        cfg = self.fixtures.config
        if module == 'kata_check':
            default = {'config': cfg, 'host_root': '/', 'kvm_test': 'never', 'fail_on_incapable': False}
            release = dict(default, release_check=True, release_url=self.mirror_url, release_timeout=5)
            # The configuration is a host path, read under host_root: a host_root case takes the default lookup.
            host = {'host_root': '/', 'kvm_test': 'never', 'fail_on_incapable': False}
            release_options = ('release_url', 'release_download_prefixes', 'include_prereleases', 'release_timeout',
                               'validate_certs', 'runtime_path')
            return {'default': default, 'release': release, 'host': host}, (
                lambda o: 'release' if o in release_options else 'host' if o == 'host_root' else 'default')
        if module == 'kata_env':
            return {'default': {'config': cfg, 'host_root': '/'}, 'host': {'host_root': '/'}}, (
                lambda o: 'host' if o == 'host_root' else 'default')
        if module == 'kata_runtime_info':
            # A containerd 1.x node's root (its engine files only): the versions are only run with host_root=/.
            return {'default': {'host_root': self.fixtures.engine_root, 'versions': False}}, None
        if module == 'kata_sandbox_info':
            return {'default': dict(shim, volume_root=self.sim.volume_root, agent_url=True)}, None
        if module == 'kata_metrics':
            return {'default': dict(shim, sandbox_id=sb, families=['kata_agent_scrape'])}, None
        if module == 'kata_iptables':
            return {'default': dict(shim, sandbox_id=sb, rules=BASE_RULES, backup_dir=self.backup_dir)}, None
        if module == 'kata_direct_volume':
            absent = dict(shim, volume_path='/dev/kr-missing', state='absent', volume_root=self.sim.volume_root)
            present = dict(shim, volume_path='/dev/kr-vol', state='present', mount_info=dict(BASE_MOUNT_INFO),
                           volume_root=self.sim.volume_root)
            return {'absent': absent, 'present': present}, (
                lambda o: 'absent' if o in ('volume_path', 'volume_root', 'state') else 'present')
        if module == 'kata_factory':
            default = {'config': self.fixtures.factory_config, 'state': 'absent', 'log_path': self.factory_log,
                       'runtime_path': '/bin/false'}
            # A running VM-cache server (tests/kata_sim/sim_cache.py) and state=present: the timeouts are used.
            cache = dict(default, config=self.cache_config, state='present')
            return {'default': default, 'cache': cache}, (
                lambda o: 'cache' if o in ('timeout', 'wait_timeout') else 'default')
        if module == 'kata_exec_cmd':
            return {'default': dict(shim, sandbox_id=sb, cmd='true', timeout=20, connect_timeout=5)}, None
        raise KeyError(module)

    def start_cache(self):
        """A simulated VM-cache server (one cached VM) and a configuration that names it."""
        import subprocess

        directory = self.ws.mkdir('cache')
        endpoint = os.path.join(directory, 'cache.sock')
        self.cache_config = os.path.join(directory, 'configuration.toml')
        with open(self.fixtures.config, encoding='utf-8') as f:
            text = f.read()
        text = text.replace('vm_cache_number = 0', 'vm_cache_number = 1')
        text = text.replace(text[text.index('vm_cache_endpoint'):].split('\n')[0], 'vm_cache_endpoint = "%s"' % endpoint)
        with open(self.cache_config, 'w', encoding='utf-8') as f:
            f.write(text)
        self.cache_server = subprocess.Popen([self.ws.python, os.path.join(rlib.REPO, 'tests', 'kata_sim', 'sim_cache.py'),
                                              'serve', '--endpoint', endpoint, '--vms', '1'],
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL, start_new_session=True)
        for dummy in range(200):
            if os.path.exists(endpoint):
                break
            threading.Event().wait(0.05)

    def stop_cache(self):
        server = self.cache_server
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except Exception:  # pylint: disable=broad-exception-caught
                rlib.kill_group(server.pid)
                server.wait()

    def setup(self):
        """Make every base a no-op: the base rules are in place, the base volume record exists."""
        shim = self.shim_args()
        out = rlib.run_module(self.ws, 'kata_iptables', dict(shim, sandbox_id=self.sim.sandboxes[0], rules=BASE_RULES))
        if out.failed:
            raise RuntimeError('setting the base rules failed: %s' % out.msg)
        out = rlib.run_module(self.ws, 'kata_direct_volume', self.bases('kata_direct_volume')[0]['present'])
        if out.failed:
            raise RuntimeError('creating the base volume failed: %s' % out.msg)

    def watched(self):
        return rlib.Watched([self.sim.watched(), (self.ws.cwd, ()), (self.backup_dir, ()), (self.canary_dir, ()),
                             (os.path.dirname(self.factory_log), ()), (os.path.dirname(self.cache_config), ())])


SAMPLE = 3  # the CI run keeps one generic value in SAMPLE


def _keep(sample, module, option, label):
    """Whether a generic value is in the sample: a fixed, spread-out third of them (every value still meets many
    options), so that the CI run stays short; ``sample`` False keeps all."""
    if not sample:
        return True
    return zlib.crc32(('%s %s %s' % (module, option, label)).encode('utf-8')) % SAMPLE == 0


# Words a message may use for an option instead of its name. host_root: the host's files are named as the host
# sees them (kata's own texts: "cannot find vendor field in file /proc/cpuinfo", "Unknown CPU Type").
ALIASES = {'release_url': ['release URL'], 'host_root': ['/proc/', '/etc/', 'CPU']}
# Messages of ansible-core's own argument handling that do not name the option (sub-options given as a string).
CORE_MESSAGES = ('dictionary requested, could not parse JSON or key=value', 'unable to evaluate string')


def generate(ctx, specs, modules, sample=False):
    """Every case, in a fixed order (``sample``: only a fixed half of the generic values)."""
    cases = []
    for module in modules:
        kwargs = specs[module]
        argspec = kwargs['argument_spec']
        bases, chooser = ctx.bases(module)
        exclusive = {}
        for group in kwargs.get('mutually_exclusive') or []:
            for option in group:
                exclusive.setdefault(option, set()).update(o for o in group if o != option)
        for name in sorted(bases):
            cases.append(Case(module, 'base', name, dict(bases[name]), []))
        for option in sorted(argspec):
            spec = argspec[option]
            base_name = chooser(option) if chooser else 'default'
            base = dict((k, v) for k, v in bases[base_name].items() if k not in exclusive.get(option, ()))
            # A valid value of these would rewrite the base record: they run in check mode, which still validates.
            check_mode = module == 'kata_direct_volume' and option in ('mount_info', 'size', 'stats')
            for label, value, generic in values_for(ctx, module, option, spec):
                if generic and not _keep(sample, module, option, label):
                    continue
                args = dict(base)
                args[option] = value
                names = [option] + ALIASES.get(option, []) + _value_names(value)
                legit = LEGIT_TIMEOUT_WORDS if 'timeout' in option and label == 'tiny' else ()
                cases.append(Case(module, option, label, args, names, check_mode=check_mode, legit=legit))
            base_value = BASE_MOUNT_INFO if option == 'mount_info' else base.get(option)
            for label, value, path in type_confusions(option, spec, base_value if isinstance(base_value, dict)
                                                      else None, sample=sample):
                args = dict(base)
                args[option] = value
                cases.append(Case(module, option, label, args, [path], check_mode=check_mode, type_path=path))
            if spec.get('required'):
                args = dict(base)
                args.pop(option, None)
                cases.append(Case(module, option, 'missing', args, [option]))
        base = bases[sorted(bases)[0]]
        cases.append(Case(module, 'bogus_option', 'unknown', dict(base, bogus_option=1), ['bogus_option']))
        for group in kwargs.get('mutually_exclusive') or []:
            args = dict(base)
            for option in group:
                args.setdefault(option, _sample_value(argspec[option]))
            cases.append(Case(module, '+'.join(group), 'together', args, list(group)))
        for group in kwargs.get('required_one_of') or []:
            args = dict((k, v) for k, v in base.items() if k not in group)
            cases.append(Case(module, '|'.join(group), 'none-given', args, list(group)))
    return cases


# --------------------------------------------------------------------------------------------------------------------
# Type confusions: a value of another JSON type than the option's (issue "typed input like kata's"). Every option,
# sub-option and list item gets them; each must be refused with a message naming its path (``mount_info.device``,
# ``argv[1]``), never accepted (ansible-core would have converted it: a list given for a string became its text).

TYPE_CONFUSIONS = {
    'str': [('list', ['a']), ('dict', {'a': 'b'}), ('bool', True), ('int', 5), ('float', 2.5)],
    'path': [('list', ['/a']), ('dict', {'a': 'b'}), ('bool', False), ('int', 0)],
    'int': [('word', 'abc'), ('fraction-text', '1.5'), ('bool', True), ('float', 2.5), ('list', ['1']),
            ('dict', {'a': 1}), ('arabic-digits', '\u0661\u0662'), ('exponent', '1e3')],
    'float': [('word', 'abc'), ('nan-text', 'nan'), ('inf-text', 'inf'), ('underscore', '1_000'), ('bool', True),
              ('list', ['1']), ('dict', {'a': 1})],
    'bool': [('word', 'maybe'), ('two', 2), ('half', 0.5), ('empty', ''), ('list', ['yes']), ('dict', {'a': True})],
    'list': [('int', 5), ('bool', True), ('dict', {'a': 'b'})],
    'dict': [('list', ['a']), ('int', 5), ('bool', True), ('garbage-text', 'not a mapping')],
}
# A valid item of a list, to put a confused one beside it.
GOOD_ITEMS = {'str': 'x', 'path': '/x', 'int': 1, 'float': 1.0, 'bool': True}
TYPE_SAMPLE = 2  # the CI run keeps the first TYPE_SAMPLE confusions of each option, sub-option and list (--full: all)


def type_confusions(option, spec, base_value=None, sample=False):
    """``[(label, value, path)]``: the option's value replaced by one of another JSON type, then each sub-option's
    (the rest of the dictionary as in the base), then a list item (beside a valid one)."""
    def keep(values):
        return values[:TYPE_SAMPLE] if sample else values

    kind = spec.get('type', 'str')
    found = [('type-%s' % label, value, option) for label, value in keep(TYPE_CONFUSIONS.get(kind, []))]
    elements = spec.get('elements')
    if kind == 'list' and elements in TYPE_CONFUSIONS:
        for label, value in keep(TYPE_CONFUSIONS[elements]):
            found.append(('type-item-%s' % label, [GOOD_ITEMS.get(elements, 'x'), value], '%s[1]' % option))
    if kind == 'dict' and spec.get('options'):
        for sub in sorted(spec['options']):
            sub_spec = spec['options'][sub]
            sub_kind = sub_spec.get('type', 'str')
            for label, value in keep(TYPE_CONFUSIONS.get(sub_kind, [])):
                found.append(('type-%s-%s' % (sub, label), dict(base_value or {}, **{sub: value}),
                              '%s.%s' % (option, sub)))
            if sub_kind == 'list' and sub_spec.get('elements') in TYPE_CONFUSIONS:
                for label, value in keep(TYPE_CONFUSIONS[sub_spec['elements']]):
                    found.append(('type-%s-item-%s' % (sub, label), dict(base_value or {}, **{sub: [value]}),
                                  '%s.%s[0]' % (option, sub)))
    return found


def _value_names(value):
    """How a message may name a value instead of its option: the value itself (its start, when long), for string
    values that a message can quote as they are."""
    if not isinstance(value, str) or len(value) < 2 or not value.isprintable():
        return []
    return [value if len(value) <= 200 else value[:100]]


def _sample_value(spec):
    kind = spec.get('type', 'str')
    return {'list': ['x'], 'bool': True, 'int': 1, 'float': 1.0, 'dict': {}, 'path': '/tmp/x'}.get(kind, 'x')


# --------------------------------------------------------------------------------------------------------------------
# Running and judging


def judge(case, outcome, change, mutating):
    """The CaseResult of one case."""
    problems = []
    counts = {}
    tb = outcome.traceback()
    if tb and core_traceback(outcome) and case.type_path is None:
        # ansible-core's own argument handling failed before any code of the collection ran.
        counts['core'] = 1
        return rlib.CaseResult('matrix', case.module, case.title, 'core', [], elapsed=outcome.elapsed,
                               note='ansible-core traceback before the module code: %s' % tb[-200:], counts=counts)
    if tb:
        problems.append('traceback: %s' % tb)
        counts['tracebacks'] = 1
    if change:
        problems.append('changed: %s' % change)
        counts['changes'] = 1
    if mutating:
        requests = ', '.join('%s %s' % (e.get('method'), e.get('path')) for e in mutating)
        problems.append('mutating requests: %s' % requests)
        counts['changes'] = 1
    if outcome.elapsed > CASE_BOUND:
        problems.append('slow: %.1f s' % outcome.elapsed)
        counts['slow'] = 1
    note = None
    if case.option == 'base':
        # kata_exec_cmd always reports changed=true, like ansible.builtin.command.
        if outcome.failed or (outcome.changed and case.module != 'kata_exec_cmd'):
            problems.append('the base itself %s: %s' % ('fails' if outcome.failed else 'reports a change', outcome.msg[:300]))
        return rlib.CaseResult('matrix', case.module, case.title, 'accepted', problems, elapsed=outcome.elapsed,
                               note='base', counts=counts)
    if case.type_path is not None:
        # A value of the wrong JSON type: refused, by the collection, in its own words, naming the option's path.
        counts['type_cases'] = 1
        if outcome.result is None or not outcome.failed:
            counts['type_accepted'] = int(outcome.result is not None)
            problems.append('a value of the wrong type for %s was %s' % (
                case.type_path, 'accepted (changed=%s)' % outcome.changed if outcome.result is not None
                else 'answered with output that is not a result'))
            kind = 'accepted' if outcome.result is not None else 'unnamed'
        elif outcome.msg.startswith('%s: expected ' % case.type_path):
            kind = 'rejected'
        else:
            kind = 'unnamed'
            problems.append('the message does not start with %r: %r'
                            % ('%s: expected' % case.type_path, outcome.msg[:300]))
        if tb:
            counts['type_tracebacks'] = 1
        return rlib.CaseResult('matrix', case.module, case.title, kind, problems, elapsed=outcome.elapsed,
                               note=outcome.msg[:200], counts=counts)
    if outcome.result is None:
        kind = 'unnamed'
    elif outcome.failed and outcome.msg.startswith(CORE_MESSAGES):
        # ansible-core's argument handling refused the value before the module ran, in its own words.
        counts['core'] = 1
        return rlib.CaseResult('matrix', case.module, case.title, 'core', problems, elapsed=outcome.elapsed,
                               note='ansible-core: %s' % outcome.msg[:200], counts=counts)
    elif not outcome.failed:
        kind = 'accepted'
        note = 'accepted (changed=%s)' % outcome.changed
    elif (case.module == 'kata_exec_cmd' and outcome.result.get('rc') not in (None, 0)
          and outcome.msg == 'non-zero return code'):
        kind = 'accepted'
        note = 'ran in the guest, rc %s' % outcome.result.get('rc')
    elif any(name and name in outcome.msg for name in case.names):
        kind = 'rejected'
    elif case.legit and any(word in outcome.msg for word in case.legit):
        kind = 'accepted'
        note = 'valid, failed as it should: %s' % outcome.msg[:200]
    else:
        kind = 'unnamed'
        problems.append('the message does not name %s: %r' % (' or '.join(case.names[:2]), outcome.msg[:300]))
    return rlib.CaseResult('matrix', case.module, case.title, kind, problems, elapsed=outcome.elapsed,
                           note=note or outcome.msg[:200], counts=counts)


def core_traceback(outcome):
    """True when the traceback comes from ansible-core's AnsibleModule() itself (argument handling, invocation
    logging), called from the module's main() before any of the collection's code ran."""
    text = (outcome.stdout + outcome.stderr).decode('utf-8', 'replace')
    if rlib.TRACEBACK_MARK.decode() not in text:
        return False
    lines = text.splitlines()
    ours = [i for i, line in enumerate(lines) if 'ansible_collections/katacontainers' in line and 'File "' in line]
    if not ours:
        return False
    last = ours[-1]
    return last + 1 < len(lines) and 'AnsibleModule(' in lines[last + 1] and 'plugins/modules/' in lines[last]


def run_cases(ctx, cases, progress=None):
    results = []
    watched = ctx.watched()
    for case in cases:
        watched.snapshot()
        ctx.sim.mark_log()
        outcome = rlib.run_module(ctx.ws, case.module, case.args, check_mode=case.check_mode, limit=90)
        change = watched.changes()
        mutating = ctx.sim.mutating_requests_since_mark()
        result = judge(case, outcome, change, mutating)
        results.append(result)
        if change or mutating:
            _repair(ctx)
        if progress:
            progress(result)
    return results


def _repair(ctx):
    """Put the bases back after a case that changed something, so that later cases are judged fairly."""
    for entry in os.listdir(ctx.canary_dir):
        os.unlink(os.path.join(ctx.canary_dir, entry))
    try:
        ctx.setup()
    except RuntimeError:
        pass


def run(python, jobs=2, modules=rlib.MODULES, out=sys.stdout, keep=False, mirror=None, limit=None, sample=True):
    """The whole matrix with ``jobs`` isolated workers (each its own simulated node); a list of CaseResult."""
    import peers

    specs = capture_specs(modules)
    shared = rlib.Workspace(python=python, keep=keep)
    own_mirror = mirror is None
    if own_mirror:
        mirror = peers.ReleaseMirror()
    workers = []
    try:
        fixtures = Fixtures(shared.mkdir('fixtures'))
        static = rlib.Watched([(fixtures.base, ())])
        static.snapshot()
        for index in range(jobs):
            ws = rlib.Workspace(python=python, keep=keep)
            sim = rlib.SimNode(ws, 'n', ['--sandboxes', '2', '--rs', '1'])
            ctx = Context(ws, sim, fixtures, mirror.url, ws.mkdir('canary'))
            workers.append(ctx)
            ctx.start_cache()
            ctx.setup()
        plan = generate(workers[0], specs, modules, sample=sample)
        if limit:
            plan = plan[:limit]
        out.write('matrix: %d cases over %d modules, %d workers%s\n' % (
            len(plan), len(modules), jobs, ', a fixed third of the generic values (--full: all)' if sample else ''))
        out.flush()
        per_worker = [[] for dummy in workers]
        for index in range(len(plan)):
            per_worker[index % jobs].append(index)
        results = [None] * len(plan)
        lock = threading.Lock()
        done = [0]

        def progress(result):
            with lock:
                done[0] += 1
                if not result.passed:
                    out.write('  FAIL %s: %s\n' % (result.name, '; '.join(result.problems)[:500]))
                if done[0] % 100 == 0:
                    out.write('  ... %d/%d\n' % (done[0], len(plan)))
                out.flush()

        def work(worker_index):
            ctx = workers[worker_index]
            mine = generate(ctx, specs, modules, sample=sample)
            chosen = [mine[i] for i in per_worker[worker_index]]
            for i, result in zip(per_worker[worker_index], run_cases(ctx, chosen, progress)):
                results[i] = result

        threads = [threading.Thread(target=work, args=(i,)) for i in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        results.extend(ansiballz_sample(workers[0], out))
        change = static.changes()
        if change:
            results.append(rlib.CaseResult('matrix', 'fixtures', 'read-only fixtures', 'intact',
                                           ['the fixtures changed: %s' % change], counts={'changes': 1}))
        return [r for r in results if r is not None]
    finally:
        for ctx in workers:
            ctx.stop_cache()
            ctx.sim.stop()
            ctx.ws.close()
        if own_mirror:
            mirror.close()
        _unlock(shared.path)
        shared.close()


def sample_cases(ctx):
    """One bad value per module, to run through ansible-playbook (AnsiballZ) as well: ``[(module, option, args)]``."""
    shim = ctx.shim_args()
    sb = ctx.sim.sandboxes[0]
    p = ctx.fixtures.paths
    return [
        ('kata_check', 'config', {'config': p['toml-deep-array'], 'kvm_test': 'never'}),
        ('kata_env', 'config', {'config': p['toml-wrong-type']}),
        ('kata_runtime_info', 'handlers', {'host_root': ctx.fixtures.engine_root, 'versions': False,
                                           'handlers': ['kata-nope']}),
        ('kata_sandbox_info', 'volume_root', dict(shim, volume_root='/run/a\x00b')),
        ('kata_metrics', 'query', dict(shim, sandbox_id=sb, query='(' * 5000 + 'a' + ')' * 5000)),
        ('kata_iptables', 'rules', dict(shim, sandbox_id=sb, rules='*filter\n-A INPUT -s 10.0.0.1\x00 -j DROP\nCOMMIT\n')),
        ('kata_direct_volume', 'size', dict(shim, volume_path='/dev/kr-vol', volume_root=ctx.sim.volume_root,
                                            mount_info=dict(BASE_MOUNT_INFO), size='9' * 10000)),
        ('kata_factory', 'timeout', {'config': ctx.fixtures.factory_config, 'timeout': 1e10}),
        ('kata_exec_cmd', 'sandbox_id', dict(shim, sandbox_id='../../etc', cmd='true')),
    ]


def ansiballz_sample(ctx, out):
    """A sample of the matrix through ansible-playbook: the modules as AnsiballZ payloads, JSON callback."""
    import json
    import subprocess

    cases = sample_cases(ctx)
    collected = ctx.ws.join('sample-results.json')
    tasks = [{'name': '%s %s' % (module, option), 'katacontainers.kata.%s' % module: args, 'ignore_errors': True,
              'register': 'kr_%d' % index} for index, (module, option, args) in enumerate(cases)]
    tasks.append({'name': 'collect', 'ansible.builtin.copy': {
        'content': '{{ [%s] | to_json }}' % ', '.join('kr_%d' % i for i in range(len(cases))), 'dest': collected}})
    play = [{'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]
    path = ctx.ws.join('sample-playbook.yml')
    with open(path, 'w', encoding='ascii') as f:
        json.dump(play, f)  # JSON is YAML: escapes such as \u0000 survive
    env = dict(ctx.ws.env, ANSIBLE_COLLECTIONS_PATH=ctx.ws.collections, ANSIBLE_PYTHON_INTERPRETER=ctx.ws.python,
               ANSIBLE_LOCALHOST_WARNING='False', ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
    env.pop('PYTHONPATH', None)
    ansible_playbook = os.path.join(os.path.dirname(ctx.ws.python), 'ansible-playbook')
    ctx.sim.mark_log()
    proc = subprocess.run([ansible_playbook, '-i', 'localhost,', '-c', 'local', path], cwd=ctx.ws.cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    results = []
    try:
        with open(collected, encoding='utf-8') as f:
            registered = json.load(f)
    except (OSError, ValueError):
        return [rlib.CaseResult('matrix', 'ansible-playbook', 'AnsiballZ sample', 'unnamed',
                                ['ansible-playbook did not run the sample: %s' % (proc.stdout + proc.stderr)[-800:]])]
    for (module, option, _args), result in zip(cases, registered):
        problems = []
        text = json.dumps(result)
        # ansible-core 2.19's controller puts "exception": "(traceback unavailable)" in every failed result whose
        # module sent none: that is not one.
        exception = result.get('exception')
        if ('Traceback (most recent call last)' in text or 'module_stderr' in result
                or (exception and exception != '(traceback unavailable)')):
            problems.append('traceback: %s' % text[-300:])
        if not result.get('failed'):
            problems.append('did not fail')
        elif option not in str(result.get('msg', '')) and 'release URL' not in str(result.get('msg', '')):
            problems.append('the message does not name %s: %r' % (option, str(result.get('msg'))[:200]))
        results.append(rlib.CaseResult('matrix', module, '%s %s (ansible-playbook, AnsiballZ)' % (module, option),
                                       'rejected' if not problems else 'unnamed', problems,
                                       note=str(result.get('msg'))[:200],
                                       counts={'tracebacks': 1} if problems and problems[0].startswith('traceback') else {}))
    mutating = ctx.sim.mutating_requests_since_mark()
    if mutating:
        results.append(rlib.CaseResult('matrix', 'ansible-playbook', 'AnsiballZ sample: request log', 'unnamed',
                                       ['mutating requests: %r' % mutating], counts={'changes': 1}))
    out.write('matrix: %d cases also run through ansible-playbook (AnsiballZ): %d as expected\n'
              % (len(cases), sum(1 for r in results if r.passed)))
    return results


def _unlock(path):
    """Make every fixture removable (the unreadable file, the FIFOs) before the workspace goes."""
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            try:
                os.chmod(os.path.join(dirpath, name), 0o700, follow_symlinks=False)
            except (OSError, NotImplementedError):
                pass
