# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # Standard documentation: check_mode, diff_mode and idempotent, to be filled in by each module; the typing rule
    # of every module's options (plugins/module_utils/_argtypes.py).
    DOCUMENTATION = r"""
options: {}
notes:
  - Option values are checked against their documented type before anything else runs, and a value of the wrong
    JSON type is refused, not converted, the way kata-runtime refuses it (Go's C(json.Unmarshal)). Refused are a list, a
    dictionary, a boolean or a number given for a C(str) or C(path) option, a string that is not a decimal number for
    an C(int) or C(float) option (V("42") is read as an integer, V("2.5") and V("1e-3") as numbers; V("1e3") for an
    integer, V("nan"), V("inf"), V("0x10") and V(true) are refused), a string other than V(yes), V(no), V(true), V(false), V(on), V(off), V(y), V(n),
    V(t), V(f), V(1) or V(0) (any case) for a C(bool) option, a number, a boolean or a dictionary for a C(list)
    option, and a list, a number, a boolean or a string that is neither a JSON object nor C(key=value) pairs for a
    C(dict) option. Sub-options and list items are checked the same way. The task fails naming the option (for
    example C(mount_info.device) or C(argv[2])), the type found and the one expected, and changes nothing. Quote a
    number or a boolean in YAML to give it as a string.
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # Platform: Linux hosts only (Kata Containers runs on Linux).
    PLATFORM = r"""
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
    details: Linux hosts only. Kata Containers runs on Linux (amd64, arm64, ppc64le, s390x, riscv64).
"""

    # For read-only modules that return information.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
"""

    # For facts modules.
    FACTS = r"""
options: {}
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
"""

    FACTS_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  facts:
    support: full
  idempotent:
    support: full
"""

    # Modules of the katacontainers.kata.kata action group (the sandbox-facing modules).
    ACTIONGROUP_KATA = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/katacontainers.kata.kata) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - katacontainers.kata.kata
"""
