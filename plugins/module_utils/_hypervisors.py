# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The hypervisor types of Kata Containers 3.0.0 to 4.1.0: the one list the whole collection derives from.

The modules' ``hypervisor`` choices, the configuration loader and the host capability check all use
``HYPERVISOR_TYPES``; a unit test asserts that each module's documented choices equal it.

Sources (kata-containers repository):

* Go runtime: the ``[hypervisor.<type>]`` table names of ``src/runtime/pkg/katautils/config.go``
  (``updateRuntimeConfigHypervisor``). 3.0.0 knows qemu, clh, firecracker, acrn and dragonball; stratovirt and remote
  came in 3.3.0; acrn was removed before 4.0.0.
* runtime-rs: the plugin names registered in ``src/libs/kata-types/src/config/hypervisor/`` (``HYPERVISOR_NAME_*``):
  3.0.0 knows dragonball (and qemu); 4.1.0 qemu, clh, firecracker, dragonball, remote and openvmm.
"""

from __future__ import annotations

HYPERVISOR_TYPES = ('qemu', 'clh', 'firecracker', 'dragonball', 'stratovirt', 'remote', 'openvmm', 'acrn')

# The types each runtime reads, over the releases covered.
GO_HYPERVISOR_TYPES = ('qemu', 'clh', 'firecracker', 'dragonball', 'stratovirt', 'remote', 'acrn')
RUST_HYPERVISOR_TYPES = ('qemu', 'clh', 'firecracker', 'dragonball', 'remote', 'openvmm')
