# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the Kata configuration loader (_config._load.load_config): the input is split into a main configuration.toml and
a config.d drop-in, written under a host root, loaded with every hypervisor choice. Allowed: ConfigError and
ArgumentError (KataError). Invariant: a drop-in that is the main file again changes nothing (except that kata refuses
unknown keys of [hypervisor.X] and [agent.X] tables in drop-ins only)."""

from __future__ import annotations

import os
import shutil
import tempfile

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils._config import _env_sections, _load
    from ansible_collections.katacontainers.kata.plugins.module_utils._errors import KataError

MAIN = 'etc/kata-containers/configuration.toml'
DROP = 'etc/kata-containers/config.d/50-fuzz.toml'
SEPARATOR = b'\n#--drop-in--\n'
# In the runner's work directory (removed after the run) when there is one: libFuzzer exits without Python's atexit.
ROOT = tempfile.mkdtemp(prefix='kata-fuzz-config-', dir=os.environ.get('KATA_FUZZ_WORK'))
for asset in ('usr/bin/qemu-system-x86_64', 'opt/kata/vmlinux', 'opt/kata/kata.img', 'opt/kata/initrd.img'):
    os.makedirs(os.path.dirname(os.path.join(ROOT, asset)), exist_ok=True)
    with open(os.path.join(ROOT, asset), 'w', encoding='ascii') as placeholder:
        placeholder.write('x')

SEEDS = [
    b'[hypervisor.qemu]\npath = "/usr/bin/qemu-system-x86_64"\nkernel = "/opt/kata/vmlinux"\n'
    b'image = "/opt/kata/kata.img"\ndefault_memory = 512\ndefault_vcpus = -1\nshared_fs = "virtio-9p"\n'
    b'kernel_params = "a=b c"\n[agent.kata]\ndebug_console_enabled = true\n[runtime]\n'
    b'internetworking_model = "tcfilter"\njaeger_password = "x"\n[factory]\nvm_cache_number = 1\n'
    + SEPARATOR + b'[hypervisor.qemu]\ndefault_memory = 1024\n',
    b'[hypervisor.firecracker]\npath = "/usr/bin/qemu-system-x86_64"\nkernel = "/opt/kata/vmlinux"\n'
    b'initrd = "/opt/kata/initrd.img"\n' + SEPARATOR + b'[hypervisor.firecracker]\nbogus = 1\n',
    b'[hypervisor.clh]\n[hypervisor.qemu]\n',
]


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def load(hypervisor, errors=None):
    try:
        return _load.load_config(MAIN, host_root=ROOT, hypervisor=hypervisor, host_cpus=4, host_memory_mib=8192)
    except KataError as exc:
        if errors is not None:
            errors.append(exc.msg)
        return None


def test_one_input(data):
    main, _sep, drop = data.partition(SEPARATOR)
    shutil.rmtree(os.path.join(ROOT, 'etc'), ignore_errors=True)
    write(MAIN, main)
    if drop:
        write(DROP, drop)
    for hypervisor in (None, 'qemu', 'firecracker'):
        cfg = load(hypervisor)
        if cfg is not None:
            cfg.to_dict()
            _env_sections.env_sections(cfg)
    if not drop:
        # A drop-in that repeats the main file sets every key to the value it has: same result.
        alone = load(None)
        write(DROP, main)
        errors = []
        again = load(None, errors)
        # kata refuses unknown keys of [hypervisor.X] and [agent.X] in a drop-in (not in the main file): the only way
        # the repeated file may fail where the main file alone loads.
        if alone is not None and again is None and 'error applying key' not in errors[0]:
            raise AssertionError('repeating the main file as a drop-in made it fail: %s' % errors[0])
        if alone is None and again is not None:
            raise AssertionError('repeating a failing main file as a drop-in made it load')
        if again is None:
            return
        if alone is not None:
            first, second = alone.to_dict(), again.to_dict()
            for key in ('drop_ins', 'warnings'):
                first.pop(key)
                second.pop(key)
            if first != second:
                raise AssertionError('repeating the main file as a drop-in changed the configuration')


fuzzlib.main(test_one_input, SEEDS)
