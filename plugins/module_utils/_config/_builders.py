# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients/parsers layer (_config package): the Go runtime's per-hypervisor builders (kata's
``new<Type>HypervisorConfig``, ``checkPCIeConfig``), a mixin of the loader.
"""

from __future__ import annotations

import os
import re

from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import go_quote
from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import _zero
from ansible_collections.katacontainers.kata.plugins.module_utils._config._paths import _describe, resolve_path
from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import (
    CHOICES,
    DEFAULT_WHEN_UNSET,
    _FORCED,
    _HYPERVISOR_BUILDERS,
    _SCHEMAS,
    BLOCK_DEVICE_AIOS,
    BLOCK_DEVICE_DRIVERS,
    DEFAULT_BRIDGES,
    DEFAULT_CTL_PATH,
    DEFAULT_HYPERVISOR_LOGLEVEL,
    DEFAULT_HYPERVISOR_PATHS,
    DEFAULT_IMAGE_PATH,
    DEFAULT_INITRD_PATH,
    DEFAULT_JAILER_PATH,
    DEFAULT_KERNEL_PATH,
    DEFAULT_MACHINE_TYPE,
    DEFAULT_MEMORY_MIB,
    DEFAULT_MSIZE_9P,
    DEFAULT_VCPUS,
    DEFAULT_VHOST_USER_STORE_PATH,
    EXTRA_MONITOR_SOCKETS,
    HYPERVISOR_KEYS,
    MAX_BRIDGES,
    MAX_HYPERVISOR_LOGLEVEL,
    MAX_PCIE_PORTS,
    MIN_MEMORY_MIB,
    PCIE_PORTS,
    VIRTIO_FS_KINDS,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._fs import (
    local_path as _local,
    ResolveError as _ResolveError,
)


class _HypervisorBuilders(object):
    """The builders of _loader._Loader: what each hypervisor type reads, its defaults and validations."""

    def build_hypervisor(self, name, h):
        """kata's newXxxHypervisorConfig for type ``name`` from the configured keys ``h``."""
        self.htype = name
        prefix = 'hypervisor.%s.' % name
        out = dict((key, _zero(kind)) for key, kind in HYPERVISOR_KEYS)

        def raw(key):
            return h.get(key, _zero(_SCHEMAS['hypervisor'][key]))

        def check_choice(key, value, allowed, text):
            if value not in allowed:
                self.fail(prefix + key, value, text % (value, '[%s]' % ' '.join(allowed)), ('hypervisor', name, key))
            return value

        for key in _HYPERVISOR_BUILDERS[name]:
            value = raw(key)
            if key in DEFAULT_WHEN_UNSET:
                value = value or DEFAULT_WHEN_UNSET[key]
            elif key in CHOICES:
                default, allowed, text = CHOICES[key]
                value = check_choice(key, value or default, allowed, text)
            elif key == 'path':
                value = self.asset(prefix + key, value or DEFAULT_HYPERVISOR_PATHS[self.arch])
            elif key == 'ctlpath':
                value = self.asset(prefix + key, value or DEFAULT_CTL_PATH)
            elif key == 'kernel':
                value = self.asset(prefix + key, value or DEFAULT_KERNEL_PATH)
            elif key in ('initrd', 'image', 'firmware', 'firmware_volume', 'jailer_path'):
                value = self.asset(prefix + key, value)
            elif key == 'pflashes':
                for item in value:
                    self.asset(prefix + key, item)
            elif key in ('machine_accelerators', 'cpu_features'):
                value = ','.join(item.strip() for item in value.split(',') if item != '').strip(',')
            elif key == 'machine_type':
                value = value if name == 'remote' else value or DEFAULT_MACHINE_TYPE
            elif key == 'hypervisor_loglevel':
                value = min(value, MAX_HYPERVISOR_LOGLEVEL) if value else DEFAULT_HYPERVISOR_LOGLEVEL
            elif key in ('pcie_root_port', 'pcie_switch_port'):
                value = min(value, MAX_PCIE_PORTS)
            elif key == 'extra_monitor_socket':
                if value:
                    check_choice(key, value, EXTRA_MONITOR_SOCKETS,
                                 'Invalid hypervisor extra monitor socket %s specified (supported values: %s)')
            elif key in ('block_device_logical_sector_size', 'block_device_physical_sector_size'):
                if value and (value < 512 or value > 65536 or value & (value - 1)):
                    self.fail(prefix + key, value, 'invalid %s %d: must be 0 or a power of 2 between 512 and 65536'
                              % (key, value), ('hypervisor', name, key))
            elif key == 'guest_extension_images':
                for index, image in enumerate(value):
                    if not image['name']:
                        self.fail(prefix + key, None, "guest_extension_images entry %d is missing required 'name' "
                                  'field' % index, ('hypervisor', name, key))
                    if not re.match(r'^[A-Za-z0-9_-]+\Z', image['name']):
                        self.fail(prefix + key, image['name'], "guest_extension_images '%s' has an invalid name: "
                                  "only ASCII alphanumerics, '-' and '_' are allowed" % image['name'],
                                  ('hypervisor', name, key), shown='%s%s name = %s' % (prefix, key,
                                                                                       go_quote(image['name'])))
                    if image['path']:
                        self.asset(prefix + key, image['path'], required_by_kata=False)
                value = [dict(image) for image in value]
            elif key == 'disable_image_nvdimm':
                value = value or out['machine_type'] == 'microvm'
            elif key == 'default_maxvcpus':
                value = self.max_vcpus(value)
            elif key == 'default_vcpus':
                current = min(self.host_cpu_count(), self.max_vcpus(0))
                value = current if value < 0 or value > current else (value or DEFAULT_VCPUS)
            elif key == 'default_memory':
                value = DEFAULT_MEMORY_MIB if value < MIN_MEMORY_MIB else value
            elif key == 'default_maxmemory':
                host = self.host_memory()
                if host is not None and (value == 0 or value > host):
                    value = host
            elif key == 'default_bridges':
                value = min(value, MAX_BRIDGES) if value else DEFAULT_BRIDGES
            elif key == 'virtio_fs_cache' and name == 'qemu':
                value = value or 'none'
            elif key.endswith('_one_time_burst'):
                max_key = key.replace('_one_time_burst', '_max_rate')
                if value and not raw(max_key):
                    self.warnings.append('%s%s is set but %s%s is not set, this option will be ignored'
                                         % (prefix, key, prefix, max_key))
                    value = 0
            out[key] = value
        out.update(_FORCED.get(name, {}))

        logical, physical = out['block_device_logical_sector_size'], out['block_device_physical_sector_size']
        if logical and physical and logical > physical:
            self.fail(prefix + 'block_device_logical_sector_size', logical, 'invalid sector sizes: logical (%d) must '
                      'not be larger than physical (%d)' % (logical, physical),
                      ('hypervisor', name, 'block_device_logical_sector_size'))
        needs_daemon = '%sshared_fs = %s without %svirtio_fs_daemon' % (prefix, go_quote(out['shared_fs']), prefix)
        if name == 'stratovirt':
            if out['image'] and out['initrd']:
                self.fail(prefix + 'image', None, 'having both an image and an initrd defined in the configuration '
                          'file is not supported', shown='both %simage and %sinitrd are set' % (prefix, prefix))
            if not out['image'] and not out['initrd']:
                self.fail(prefix + 'image', None, 'image or initrd must be defined in the configuration file',
                          shown='neither %simage nor %sinitrd is set' % (prefix, prefix))
            if out['shared_fs'] not in VIRTIO_FS_KINDS + ('none',):
                self.fail(prefix + 'shared_fs', out['shared_fs'], 'Stratovirt Hypervisor does not support %s shared '
                          'filesystem option' % out['shared_fs'], ('hypervisor', name, 'shared_fs'))
        if name in ('qemu', 'stratovirt') and out['shared_fs'] in VIRTIO_FS_KINDS and not out['virtio_fs_daemon']:
            self.fail(prefix + 'virtio_fs_daemon', None, 'cannot enable %s without daemon path in configuration file'
                      % out['shared_fs'], ('hypervisor', name, 'shared_fs'), shown=needs_daemon)
        if name == 'clh':
            if not out['image'] and not out['initrd']:
                self.fail(prefix + 'image', None, 'image or initrd must be defined in the configuration file',
                          shown='neither %simage nor %sinitrd is set' % (prefix, prefix))
            if out['shared_fs'] not in VIRTIO_FS_KINDS + ('none',):
                # kata 3.0.0's text; 3.3+ also accepts none and says "Cloud Hypervisor does not support <fs> shared
                # filesystem option".
                self.fail(prefix + 'shared_fs', out['shared_fs'], 'clh only support virtio-fs or virtio-fs-nydus',
                          ('hypervisor', name, 'shared_fs'))
            if out['shared_fs'] != 'none' and not out['virtio_fs_daemon']:
                self.fail(prefix + 'virtio_fs_daemon', None, 'cannot enable %s without daemon path in configuration '
                          'file' % out['shared_fs'], ('hypervisor', name, 'shared_fs'), shown=needs_daemon)
        if name == 'acrn' and not out['image']:
            self.fail(prefix + 'image', None, 'image must be defined in the configuration file',
                      shown='%simage is not set' % prefix)
        if out['virtio_fs_daemon']:
            self.asset(prefix + 'virtio_fs_daemon', out['virtio_fs_daemon'], required_by_kata=False)
        return out

    def default_hypervisor(self):
        """kata's GetDefaultHypervisorConfig(): used, unresolved, when the file has no hypervisor table."""
        self.htype = 'qemu'
        out = dict((key, _zero(kind)) for key, kind in HYPERVISOR_KEYS)
        out.update(
            path=DEFAULT_HYPERVISOR_PATHS[self.arch], jailer_path=DEFAULT_JAILER_PATH, kernel=DEFAULT_KERNEL_PATH,
            image=DEFAULT_IMAGE_PATH, initrd=DEFAULT_INITRD_PATH, machine_type=DEFAULT_MACHINE_TYPE,
            default_vcpus=DEFAULT_VCPUS, default_memory=DEFAULT_MEMORY_MIB, default_bridges=DEFAULT_BRIDGES,
            block_device_driver=BLOCK_DEVICE_DRIVERS[0], block_device_aio=BLOCK_DEVICE_AIOS[0],
            msize_9p=DEFAULT_MSIZE_9P, vhost_user_store_path=DEFAULT_VHOST_USER_STORE_PATH, virtio_fs_cache='none',
            hot_plug_vfio=PCIE_PORTS[0], cold_plug_vfio=PCIE_PORTS[0],
        )
        return out

    def check_images(self, hypervisor, memory_mib):
        """kata's checkHypervisorConfig image/initrd part (sizes), on the files that exist."""
        mib = 1024 * 1024
        for key, is_initrd in (('image', False), ('initrd', True)):
            path = hypervisor[key]
            if not path:
                continue
            name = 'hypervisor.%s.%s' % (self.htype, key)
            try:
                size = os.stat(_local(self.root, resolve_path(self.root, path))).st_size
            except _ResolveError as exc:
                message = '%s: %s (kata-runtime refuses a configuration whose %s is missing)' % (
                    name, _describe(exc, path), key)
                if message not in self.warnings:
                    self.warnings.append(message)
                continue
            except OSError as exc:
                self.warnings.append('%s: stat %s: %s' % (name, path, (exc.strerror or str(exc)).lower()))
                continue
            if size == 0:
                self.fail(name, path, 'image %s is empty' % go_quote(path), ('hypervisor', self.htype, key))
            if size > mib and size // mib >= memory_mib:
                text = 'VM memory (%dMB) smaller than image %s size (%dMB)' % (memory_mib, go_quote(path), size // mib)
                if is_initrd:
                    self.fail(name, path, text, ('hypervisor', self.htype, key))
                self.warnings.append('%s: %s' % (name, text))


def _check_pcie(loader, htype, hv):
    """kata 3.3+ checkPCIeConfig: hot_plug_vfio / cold_plug_vfio (QEMU and Cloud Hypervisor only)."""
    hot, cold = hv['hot_plug_vfio'], hv['cold_plug_vfio']
    prefix = 'hypervisor.%s.' % htype
    for key, value in (('hot_plug_vfio', hot), ('cold_plug_vfio', cold)):
        if value not in PCIE_PORTS:
            loader.fail(prefix + key, value, 'invalid vfio_port=%s setting, allowed values %s' % (
                value, ', '.join(PCIE_PORTS)), ('hypervisor', htype, key))
    if cold != 'no-port' and hot != 'no-port':
        loader.fail(prefix + 'hot_plug_vfio', hot, 'invalid hot-plug=%s and cold-plug=%s settings, only one of them '
                    'can be set' % (hot, cold), ('hypervisor', htype, 'hot_plug_vfio'),
                    shown='%shot_plug_vfio = %s with %scold_plug_vfio = %s' % (prefix, go_quote(hot), prefix,
                                                                               go_quote(cold)))
    if htype == 'clh' and hv['machine_type'] in ('q35', 'virt'):
        for key, value, word in (('cold_plug_vfio', cold, 'cold-plug'), ('hot_plug_vfio', hot, 'hot-plug')):
            if value not in ('no-port', 'root-port'):
                loader.fail(prefix + key, value, 'only %s=no-port or root-port supported on CLH' % word,
                            ('hypervisor', htype, key))
