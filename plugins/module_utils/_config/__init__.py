# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The _config package: Kata Containers configuration loading, as kata-runtime's ``katautils.LoadConfiguration`` does
it (3.0.0 to 4.1.0), and as runtime-rs's kata-types ``TomlConfig`` does it for runtime-rs files.

Its files, one job each: ``_schema`` (the Go runtime's keys, types and defaults), ``_gotypes`` (Go and TOML typing,
quoting and the kernel command line), ``_paths`` (where the file is: kata's lookup and the collection's, under the
host root), ``_loader`` (reading, typing and merging a file and its drop-ins), ``_builders`` (the per-hypervisor
builders), ``_rust`` (runtime-rs files), ``_load`` (``load_config``) and ``_env_sections`` (kata env's
configuration-derived sections). This file only re-exports their public names, so that ``module_utils._config`` keeps
the names other files use (load_config, locate_config, env_sections...); the schema's constants are in
``_config._schema``.

Which runtime reads a file (``detect_runtime``): a runtime handler says so (its shim); otherwise a file in a
``runtime-rs`` directory, or whose ``[runtime]`` table has ``name``, ``hypervisor_name`` or ``agent_name``, is
runtime-rs's, any other the Go runtime's. Go files are read with the union of the 3.0.0 and 4.1.0 schemas (4.1.0's
``src/runtime/pkg/katautils/config.go``: the stratovirt and remote builders, float ``default_vcpus``,
``shared_fs = "none"``, ``guest_extension_images``, ``checkPCIeConfig``...); runtime-rs files with kata-types'
(``src/libs/kata-types/src/config/``, 3.0.0 and 4.1.0): see ``_rust``. ``locate_config`` is the collection's
lookup (options ``config`` and ``runtime``, then the default paths and the container engines' handlers).

What is reproduced for the Go runtime (kata-containers 3.0.0, ``src/runtime/pkg/katautils/config.go``: ``getDefaultConfigFile``,
``decodeDropIns``, the ``new<Type>HypervisorConfig`` builders, ``SetKernelParams``, ``checkConfig``):

* the lookup order (``/etc`` first, then ``/usr/share/defaults``), symlinks resolved, kata's error texts;
* the ``config.d`` drop-ins beside the resolved file, sorted by name, every entry whatever its extension, applied key
  by key on top (``[hypervisor.X]``/``[agent.X]`` keys merged one by one, an unknown key there is kata's error,
  unknown keys elsewhere a warning);
* BurntSushi/toml's typing of every known key (a string where an integer is expected is an error, negative values
  wrap for the unsigned 64-bit keys, out-of-range values for 32-bit keys are errors), with its message text;
* the per-hypervisor builders: each hypervisor type reads only the keys its kata builder reads, the others keep Go's
  zero value (``firecracker`` and ``clh`` force ``disable_vhost_net``, ``dragonball`` has no ``path``...), and every
  default and normalisation (vCPUs, memory, bridges, slots, 9p msize, machine type, comma lists...);
* the validations and their messages, and the kernel command line assembled in kata's order and serialisation.

Deliberate differences, each because a read-only probe must still describe a host kata would refuse
(docs/kata_behaviour.md, Missing assets are warnings, and A hypervisor table must be chosen):

* Missing assets (kernel, image, initrd, hypervisor binary, firmware, pflashes, bind mounts) are warnings, not
  errors; kata fails on them. The configured path is kept when the file is missing, the resolved one otherwise.
  ``/dev/vhost-vsock``, which kata's qemu builder requires, is not looked at here (the host probes report it).
* Several ``[hypervisor.X]`` tables: kata silently uses one of them at random (Go map order); here the caller must
  choose (option ``hypervisor``), and only the chosen table is interpreted. An unknown table name is named in the
  error instead of kata's later ``VM memory cannot be zero``.
* Errors name the file that set the offending key (a drop-in or the main file), the ``table.key`` and its value
  before kata's own text. Decoding errors of the main file are worded like the drop-ins' ones.
* Non-regular ``config.d`` entries (directories, FIFOs, devices, sockets, dangling symlinks) are skipped with a
  warning; kata fails reading them (and blocks forever on a FIFO). Files over ``MAX_CONFIG_SIZE`` are refused.
* Key names are matched exactly; BurntSushi also accepts other letter cases in the main file.
* Every path is a host path read below ``host_root``: symlinks are resolved inside that root (an absolute target
  restarts at the root, ``..`` stops at it), as the host itself would see them, so nothing can point outside it.

Quirks of kata 3.0.0 kept on purpose: ``initConfig`` resets the runtime config after setting its defaults, so an
unset ``internetworking_model`` is ``default`` (kata later maps it to tcfilter) and an unset ``vfio_mode`` is
``vfio``, not the documented ``guest-kernel``; the compiled-in defaults used without a hypervisor table set both an
image and an initrd; a negative value for an unsigned 64-bit key wraps around.
"""

from __future__ import annotations

from ansible_collections.katacontainers.kata.plugins.module_utils._config._schema import (  # noqa: F401 (re-exported)
    DEFAULT_CONFIG_PATHS,
    MAX_CONFIG_SIZE,
    RUNTIME_GO,
    RUNTIME_RUST,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._gotypes import (  # noqa: F401 (re-exported)
    go_quote,
    normalize_arch,
    serialize_params,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._paths import (  # noqa: F401 (re-exported)
    DEFAULT_LOOKUP,
    KATA_DEPLOY_PREFIX,
    ConfigLocation,
    find_config,
    handler_location,
    locate_config,
    require_config,
    resolve_path,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._loader import (  # noqa: F401 (re-exported)
    KataConfig,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._rust import (  # noqa: F401 (re-exported)
    RUST_AGENT_KEYS,
    RUST_DEFAULT_HYPERVISOR,
    RUST_HYPERVISOR_KEYS,
    RUST_RUNTIME_KEYS,
    detect_runtime,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._load import (  # noqa: F401 (re-exported)
    load_config,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._config._env_sections import (  # noqa: F401 (re-exported)
    ENV_FORMAT_1_0_26,
    ENV_FORMAT_1_0_27,
    KEYS_SINCE_3_3,
    env_sections,
    newer_keys,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._hypervisors import (  # noqa: F401 (re-exported)
    GO_HYPERVISOR_TYPES,
    HYPERVISOR_TYPES,
    RUST_HYPERVISOR_TYPES,
)
