# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hypothesis properties of configuration merging (_config._load.load_config with config.d drop-ins).

kata applies the drop-ins of ``config.d`` in file-name order, key by key, on top of the main file: for every key, the
value is the one of the last drop-in (by name) that sets it, else the main file's, else kata's default. Generated
main files and drop-ins (random names, extensions, subsets of keys across the runtime, agent and hypervisor tables)
are written under a host root and loaded; the result must follow that rule, must not depend on the order the files
were written in, and a drop-in that repeats values already in force must change nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils._config import _load

st = pytest.importorskip('hypothesis.strategies')

from hypothesis import HealthCheck, given, settings  # noqa: E402  pylint: disable=wrong-import-position

SETTINGS = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

MAIN = '/etc/kata-containers/configuration.toml'
DROP_DIR = '/etc/kata-containers/config.d'
HYPERVISOR = ('[hypervisor.qemu]\npath = "/usr/bin/qemu-system-x86_64"\nkernel = "/opt/kata/vmlinux"\n'
              'image = "/opt/kata/kata.img"\nshared_fs = "virtio-9p"\n')
# (section, key, strategy of values, how load_config shows it): keys that kata passes through unchanged.
KEYS = [
    ('runtime', 'enable_debug', st.booleans()),
    ('runtime', 'enable_tracing', st.booleans()),
    ('runtime', 'sandbox_cgroup_only', st.booleans()),
    ('runtime', 'disable_guest_seccomp', st.booleans()),
    ('runtime', 'enable_pprof', st.booleans()),
    ('runtime', 'jaeger_endpoint', st.sampled_from(['', 'http://a:1', 'http://b:2/x'])),
    ('agent.kata', 'enable_debug', st.booleans()),
    ('agent.kata', 'enable_tracing', st.booleans()),
    ('agent.kata', 'dial_timeout', st.integers(0, 4000)),
    ('agent.kata', 'kernel_modules', st.lists(st.sampled_from(['e1000', 'i915 enable_ppgtt=0', 'vfio']), max_size=3)),
    ('hypervisor.qemu', 'enable_iothreads', st.booleans()),
    ('hypervisor.qemu', 'disable_nesting_checks', st.booleans()),
    ('hypervisor.qemu', 'enable_debug', st.booleans()),
    ('hypervisor.qemu', 'block_device_driver', st.sampled_from(['virtio-scsi', 'virtio-blk'])),
]
DEFAULTS = {('runtime', 'jaeger_endpoint'): '', ('agent.kata', 'dial_timeout'): 0, ('agent.kata', 'kernel_modules'): [],
            ('hypervisor.qemu', 'block_device_driver'): 'virtio-scsi'}


def toml_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return '[%s]' % ', '.join(toml_value(v) for v in value)
    return '"%s"' % value


def render(settings_):
    """TOML text for ``{(section, key): value}`` (the main file always has the hypervisor table)."""
    sections = {}
    for (section, key), value in settings_.items():
        sections.setdefault(section, []).append('%s = %s' % (key, toml_value(value)))
    return '\n'.join('[%s]\n%s\n' % (section, '\n'.join(lines)) for section, lines in sorted(sections.items()))


@st.composite
def layers(draw):
    """``(main settings, [(drop-in name, settings)])``."""
    def some():
        chosen = draw(st.lists(st.sampled_from(range(len(KEYS))), unique=True, max_size=len(KEYS)))
        return dict(((KEYS[i][0], KEYS[i][1]), draw(KEYS[i][2])) for i in chosen)
    names = draw(st.lists(st.sampled_from(['10-a.toml', '20-b.conf', '05-z', 'a.toml', 'zz', '99-last.toml',
                                           '50-mid.d', '50-mid.e', 'B.toml']), unique=True, max_size=4))
    return some(), [(name, some()) for name in names]


def shown(cfg, section, key):
    if section == 'runtime':
        return cfg.runtime[key]
    if section.startswith('agent'):
        return cfg.agent[key]
    return cfg.hypervisor[key]


def write(root, path, text):
    local = os.path.join(root, path.lstrip('/'))
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with open(local, 'w', encoding='utf-8') as f:
        f.write(text)


def load(root):
    return _load.load_config(MAIN, host_root=root, host_cpus=4, host_memory_mib=8192)


def make_root(main, drop_ins, order):
    root = tempfile.mkdtemp(prefix='kata-prop-config-')
    for asset in ('/usr/bin/qemu-system-x86_64', '/opt/kata/vmlinux', '/opt/kata/kata.img'):
        write(root, asset, 'x')
    hypervisor = dict((k, v) for k, v in main.items() if k[0] == 'hypervisor.qemu')
    others = dict((k, v) for k, v in main.items() if k[0] != 'hypervisor.qemu')
    write(root, MAIN, HYPERVISOR + ''.join('%s = %s\n' % (key, toml_value(value))
                                           for (_section, key), value in sorted(hypervisor.items()))
          + render(others))
    for index in order:
        name, values = drop_ins[index]
        write(root, '%s/%s' % (DROP_DIR, name), render(values))
    return root


@given(layers(), st.randoms())
@SETTINGS
def test_property_last_drop_in_by_name_wins_key_by_key(case, rnd):
    main, drop_ins = case
    order = list(range(len(drop_ins)))
    rnd.shuffle(order)  # the order the files are written in must not matter
    root = make_root(main, drop_ins, order)
    try:
        cfg = load(root)
        assert cfg.drop_ins == ['%s/%s' % (DROP_DIR, name) for name in sorted(n for n, _v in drop_ins)]
        for section, key, _strategy in KEYS:
            expected = main.get((section, key), DEFAULTS.get((section, key), False))
            for _name, values in sorted(drop_ins):
                expected = values.get((section, key), expected)
            assert shown(cfg, section, key) == expected, (section, key)
    finally:
        shutil.rmtree(root)


@given(layers())
@SETTINGS
def test_property_a_drop_in_repeating_the_values_in_force_changes_nothing(case):
    main, drop_ins = case
    root = make_root(main, drop_ins, range(len(drop_ins)))
    try:
        before = load(root).to_dict()
        in_force = {}
        for section, key, _strategy in KEYS:
            value = main.get((section, key))
            for _name, values in sorted(drop_ins):
                value = values.get((section, key), value)
            if value is not None:
                in_force[(section, key)] = value
        write(root, '%s/zzzz-repeat.toml' % DROP_DIR, render(in_force))
        after = load(root).to_dict()
        for result in (before, after):
            result.pop('drop_ins')
            result.pop('warnings')
        assert after == before
    finally:
        shutil.rmtree(root)
