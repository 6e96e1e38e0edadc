# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # The Python library of the VM cache client.
    # NOTE: must be kept in sync with GRPC_MINIMUM_VERSION in plugins/module_utils/_cache_client.py.
    DOCUMENTATION = r"""
options: {}
requirements:
  - grpcio >= 1.51.0 on the managed node, only when the VM cache is enabled (C([factory] vm_cache_number > 0)).
    The protobuf library is not needed.
"""
