# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # The options of the modules that talk to a sandbox's shim management API.
    # Must be kept in sync with shim_argument_spec() in plugins/module_utils/_sandbox.py.
    DOCUMENTATION = r"""
options:
  shim_socket:
    description:
      - Path of the shim management socket to use, instead of looking it up from the sandbox ID.
      - For a shim that listens somewhere else than kata's usual places, or a test server.
      - The path must be the unix socket itself. A symbolic link is refused rather than followed, so that nobody
        who can write to a directory on the way can redirect a request made as root.
    type: path
  sandbox_root:
    description:
      - Directory of the Go runtime's sandboxes. A sandbox's shim socket is looked up as
        C(<sandbox_root>/<sandbox id>/shim-monitor.sock) first, then as
        C(<rs_sandbox_root>/<sandbox id>/shim-monitor.sock), like kata-runtime 3.2.0 and later.
    type: path
    default: /run/vc/sbs
  rs_sandbox_root:
    description:
      - Directory of the runtime-rs sandboxes, searched after O(sandbox_root).
    type: path
    default: /run/kata
  timeout:
    description:
      - Seconds allowed for each request to a shim, from connecting to the last byte of the answer, like
        kata-runtime's 3 seconds. A shim that answers slowly, byte by byte, cannot stretch it.
      - Must be greater than 0.
    type: float
    default: 3
  transport:
    description:
      - How to speak HTTP over the shim's unix socket.
      - V(stdlib) uses a small HTTP/1.1 client built on the Python standard library. It needs nothing installed
        and costs the least time per task.
      - V(requests) uses the C(requests) and C(requests-unixsocket) Python libraries, which must be installed on
        the managed node. Importing them adds about 0.1 seconds to every task, which is why they are never chosen
        automatically. Both transports apply the same timeout and size limits and give the same results.
    type: str
    choices: [stdlib, requests]
    default: stdlib
notes:
  - The shim management sockets are readable by root only, so these modules normally run with C(become=true).
  - Answers larger than 16 MiB are refused.
requirements:
  - C(requests) and C(requests-unixsocket) (or C(requests-unixsocket2)), only with O(transport=requests).
"""
