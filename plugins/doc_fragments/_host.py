# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment(object):

    # The options of the modules that read a host's Kata configuration (kata_check, kata_env, kata_factory).
    # Must be kept in sync with host_argument_spec() in plugins/module_utils/_host_options.py; the hypervisor choices
    # are HYPERVISOR_TYPES of plugins/module_utils/_hypervisors.py (a unit test compares them).
    DOCUMENTATION = r"""
options:
  config:
    description:
      - Path of the Kata configuration file on the host (under C(host_root) where the module has that option). The
        file must exist.
      - The drop-in files in C(config.d/) beside the file are applied as the runtime that reads it does.
      - A Go runtime file and a runtime-rs file are told apart by their location (a C(runtime-rs) directory) or their
        content (C([runtime]) with C(hypervisor_name), C(name) or C(agent_name), which only runtime-rs reads).
      - When neither O(config) nor O(runtime) is set, the first of these files that exists is used,
        C(/etc/kata-containers/configuration.toml), C(/usr/share/defaults/kata-containers/configuration.toml), the
        runtime-rs files C(/etc/kata-containers/runtime-rs/configuration.toml) and
        C(/usr/share/defaults/kata-containers/runtime-rs/configuration.toml), then kata-deploy's
        C(/opt/kata/share/defaults/kata-containers/configuration.toml) and its C(runtime-rs/configuration.toml),
        then those of C(/opt/kata-<suffix>) (kata-deploy's C(MULTI_INSTALL_SUFFIX)); failing all of them, the
        configuration of a runtime handler of the container engines (C(kata), then C(kata-qemu), then the first one
        whose file exists; see M(katacontainers.kata.kata_runtime_info)). The result says which file was used and
        how it was found (C(config_source), or C(runtime.config.source) in the facts of
        M(katacontainers.kata.kata_env)).
      - Mutually exclusive with O(runtime).
    type: path
  runtime:
    description:
      - A Kata runtime handler of the host's container engines (containerd or CRI-O), for example V(kata-clh) or
        V(kata-qemu-runtime-rs); the configuration file that handler uses is read (its C(ConfigPath), or its shim's
        default file), as M(katacontainers.kata.kata_runtime_info) reports it.
      - An unknown handler fails the task with the list of the handlers found.
      - Mutually exclusive with O(config).
    type: str
    version_added: 0.2.0
  hypervisor:
    description:
      - The hypervisor, that is the C([hypervisor.<type>]) table of the configuration file, to use.
      - Default is the only C([hypervisor.*]) table of the configuration file (for runtime-rs, the one its
        C(runtime.hypervisor_name) names). It must be set when the file has several tables (kata-runtime would pick
        one of them at random). M(katacontainers.kata.kata_check) checks the requirements of V(qemu) on a host
        without any configuration file.
      - V(stratovirt) and V(remote) are Go runtime hypervisors of Kata 3.3 and later, V(openvmm) a runtime-rs one
        (4.1), V(acrn) a Go runtime one of Kata 3.x only.
    type: str
    choices: [qemu, clh, firecracker, dragonball, stratovirt, remote, openvmm, acrn]
  runtime_path:
    description:
      - The C(kata-runtime) executable whose version M(katacontainers.kata.kata_check) compares with the latest
        release and M(katacontainers.kata.kata_env) reports (its version also chooses the format of that report), or
        that M(katacontainers.kata.kata_factory) runs to create the template and the cache server.
      - Default is the C(kata-runtime) of the installation that holds the configuration file used (for example
        C(/opt/kata/bin/kata-runtime) for a kata-deploy configuration), else C(kata-runtime) found in the PATH, else
        the one of a kata-deploy installation (C(/opt/kata/bin), C(/opt/kata-<suffix>/bin)). Where the module has
        C(host_root), it is only looked for with C(host_root=/).
    type: path
requirements:
  - tomli on Python older than 3.11, to read the Kata configuration and the container engines' TOML files (the
    standard library's tomllib from 3.11)
"""

    # The root of the host whose files are read (kata_check, kata_env, kata_runtime_info).
    HOST_ROOT = r"""
options:
  host_root:
    description:
      - Read the host's files (C(/proc), C(/sys), C(/etc), C(/dev), the Kata and container engine configuration)
        under this directory, for example a host's root mounted into a container at C(/host). Symbolic links are
        resolved as the host would resolve them, never leaving this directory.
      - Programs (the hypervisor, C(kata-runtime), C(kata-ctl)) are only run for the local host, so their versions
        are V(null) for another root.
    type: path
    default: /
requirements:
  - tomli on Python older than 3.11, to read the Kata configuration and the container engines' TOML files (the
    standard library's tomllib from 3.11)
"""
