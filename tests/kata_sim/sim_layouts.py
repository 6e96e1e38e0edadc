# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Node layouts: the files a real Kata node has, written under a root directory (``kata_sim.py layout``).

Each kind writes what its installer writes, from the real configuration files in ``tests/fixtures/kata-configs``
and from kata-deploy's code (kata-containers ``tools/packaging/kata-deploy/binary/src/``, tag 4.1.0:
``config.rs`` for the paths, handler names, INSTALLATION_PREFIX and MULTI_INSTALL_SUFFIX; ``utils/system.rs`` for
the shim and configuration paths of each shim; ``artifacts/install.rs`` for the ``runtimes/<shim>/`` copies, their
``config.d/`` and the relative symlink left at the original name; ``runtime/containerd.rs`` and ``runtime/crio.rs``
for the engine entries; kata-deploy 3.0.0's ``scripts/kata-deploy.sh`` for the 3.x layout):

``kata-deploy-4.1.0``
    the default helm install on amd64 (the 23 shims of ``helm-chart/kata-deploy/values.yaml`` enabled for amd64),
    containerd 2.x: ``/etc/containerd/config.toml`` version 3 importing ``/opt/kata/containerd/config.d/kata-deploy.toml``.
``containerd-1.x``
    kata-deploy 3.0.0 on containerd 1.x: handlers kata, kata-fc, kata-qemu, kata-clh, kata-dragonball appended to
    ``/etc/containerd/config.toml`` (version 2) without ``runtime_path``: containerd finds the shims it derives from
    ``runtime_type`` in ``/usr/local/bin`` (symlinks into ``/opt/kata``).
``crio``
    kata-deploy 4.1.0 on CRI-O: ``/etc/crio/crio.conf.d/99-kata-deploy`` (no extension, as kata-deploy names it).
``k3s``
    kata-deploy 4.1.0 on k3s (containerd 2.x): the rendered ``config.toml`` imports ``config-v3.toml.d/*.toml``,
    where kata-deploy writes ``kata-deploy.toml``; the user's ``config-v3.toml.tmpl`` carries that import.
``multi-install-suffix``
    a plain ``/opt/kata`` install next to ``/opt/kata-dev`` (MULTI_INSTALL_SUFFIX=dev): handlers ``kata-<shim>-dev``,
    ``10-installation-prefix.toml`` drop-ins, both drop-ins imported by the main containerd file.
``distro-3.0.0``
    a distribution package of 3.0.0 (PREFIX=/usr): ``/usr/share/defaults/kata-containers/configuration.toml`` a
    symlink to ``configuration-qemu.toml``, ``/usr/bin/kata-runtime`` and the shim, containerd's handler ``kata``
    without ``ConfigPath`` (the shim's own lookup finds the file).

The binaries are small shell scripts: ``kata-runtime --version`` and ``kata-ctl [--json-logging] version`` print
what the real ones of that release print (kata-runtime ``main.go`` ``makeVersionString``; kata-ctl
``ops/check_ops.rs`` ``handle_version``), the shims print a version line. Asset paths named by the configuration files
(hypervisors, kernels, images, firmware...) get one-line placeholder files unless ``assets=False``.

``build(root, kind)`` returns the manifest: every handler as the engine will use it (handler, engine,
runtime_type, runtime, shim_path, config, config_exists, hypervisor, source) and every installation (prefix,
kata_runtime, kata_ctl, kata_runtime_version, kata_ctl_version), derived from the installer's rules, not from the
collection's code.
"""

from __future__ import annotations

import os
import posixpath
import shutil

try:
    import tomllib as _toml
except ImportError:  # Python < 3.11
    import tomli as _toml  # type: ignore[no-redef]

FIXTURES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures',
                                         'kata-configs'))

KINDS = ('kata-deploy-4.1.0', 'containerd-1.x', 'crio', 'k3s', 'multi-install-suffix', 'distro-3.0.0')

# helm-chart/kata-deploy/values.yaml (4.1.0): the shims enabled by default whose supportedArches has amd64, in the
# order helm's `range` gives them (sorted names).
HELM_AMD64_SHIMS = tuple(sorted((
    'clh', 'clh-azure', 'clh-runtime-rs', 'clh-azure-runtime-rs', 'dragonball', 'fc', 'qemu', 'qemu-runtime-rs',
    'qemu-nvidia-cpu', 'qemu-nvidia-cpu-runtime-rs', 'qemu-nvidia-gpu', 'qemu-nvidia-gpu-runtime-rs',
    'qemu-nvidia-gpu-snp', 'qemu-nvidia-gpu-snp-runtime-rs', 'qemu-nvidia-gpu-tdx', 'qemu-nvidia-gpu-tdx-runtime-rs',
    'qemu-snp', 'qemu-snp-runtime-rs', 'qemu-tdx', 'qemu-tdx-runtime-rs', 'qemu-coco-dev',
    'qemu-coco-dev-runtime-rs', 'openvmm-azure-runtime-rs')))

# utils/system.rs RUST_SHIMS (4.1.0)
RUST_SHIMS = frozenset((
    'clh-azure-runtime-rs', 'clh-runtime-rs', 'dragonball', 'openvmm-azure-runtime-rs', 'qemu-runtime-rs',
    'qemu-nvidia-cpu-runtime-rs', 'qemu-nvidia-gpu-runtime-rs', 'qemu-nvidia-gpu-snp-runtime-rs',
    'qemu-nvidia-gpu-tdx-runtime-rs', 'qemu-coco-dev-runtime-rs', 'qemu-se-runtime-rs', 'qemu-snp-runtime-rs',
    'qemu-tdx-runtime-rs'))

COMMITS = {'3.0.0': 'e2a8815ba46360acb8bf89a2894b0d437dc8548a', '4.1.0': 'ddcb1ad8d23cbb4323f86c209f132b89592902df'}
OCI_SPECS = {'3.0.0': '1.0.2-dev', '4.1.0': '1.2.1'}  # runtime-spec's specs.Version vendored by each release

# artifacts/install.rs KATA_DEPLOY_CONFIG_WARNING (4.1.0)
KATA_DEPLOY_CONFIG_WARNING = '''# =============================================================================
# IMPORTANT: This file is managed by kata-deploy. Do not modify it directly!
#
# To customize settings, create drop-in configuration files in the config.d/
# directory alongside this file. Drop-in files are processed in alphabetical
# order, with later files overriding earlier settings.
#
# Example: config.d/50-custom.toml
#
# See the kata-deploy documentation for more details:
#   https://github.com/kata-containers/kata-containers/tree/main/tools/packaging/kata-deploy
# =============================================================================

'''

CONTAINERD_V3_HEAD = '''version = 3
root = "/var/lib/containerd"
state = "/run/containerd"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"

[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  SystemdCgroup = true
'''

CONTAINERD_V2_HEAD = '''version = 2
root = "/var/lib/containerd"
state = "/run/containerd"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = true
'''

# Keys of [hypervisor.<name>] whose values are files that exist on a real node; executables first.
_EXEC_KEYS = ('path', 'jailer_path', 'virtio_fs_daemon', 'ctlpath')
_FILE_KEYS = ('kernel', 'image', 'initrd', 'firmware', 'firmware_volume')


class Layout(object):
    """Writes files under ``root`` (host paths are absolute paths on the simulated node) and records the manifest."""

    def __init__(self, root, assets=True):
        self.root = os.path.abspath(root)
        self.assets = assets
        self.handlers = []
        self.installations = []
        self.configs = []

    def local(self, host_path):
        return os.path.join(self.root, host_path.lstrip('/'))

    def write(self, host_path, text, mode=0o644):
        local = self.local(host_path)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        if os.path.lexists(local):
            os.unlink(local)
        with open(local, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.chmod(local, mode)

    def append(self, host_path, text):
        local = self.local(host_path)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, 'a', encoding='utf-8') as handle:
            handle.write(text)

    def symlink(self, host_path, target):
        local = self.local(host_path)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        if os.path.lexists(local):
            os.unlink(local)
        os.symlink(target, local)

    def mkdir(self, host_path):
        os.makedirs(self.local(host_path), exist_ok=True)

    def placeholder(self, host_path, executable):
        local = self.local(host_path.rstrip('/'))
        if os.path.lexists(local) or not host_path.startswith('/'):
            return
        if host_path.endswith('/'):
            os.makedirs(local, exist_ok=True)
            return
        # Never empty: the Go runtime refuses an empty kernel or image (kata-containers
        # src/runtime/pkg/katautils/config.go, checkHypervisorConfig), and a real node's assets are not empty.
        content = '#!/bin/sh\nexit 0\n' if executable else 'placeholder of %s\n' % host_path
        self.write(host_path, content, 0o755 if executable else 0o644)

    def config_assets(self, host_path):
        """Placeholders for the files a configuration (and its config.d drop-ins) names."""
        if not self.assets:
            return
        files = [host_path]
        drop_dir = posixpath.join(posixpath.dirname(host_path), 'config.d')
        if os.path.isdir(self.local(drop_dir)):
            files.extend(posixpath.join(drop_dir, n) for n in sorted(os.listdir(self.local(drop_dir))))
        for path in files:
            with open(self.local(path), 'rb') as handle:
                doc = _toml.load(handle)
            for table in (doc.get('hypervisor') or {}).values():
                for key in _EXEC_KEYS + _FILE_KEYS:
                    value = table.get(key)
                    if isinstance(value, str) and value.startswith('/'):
                        self.placeholder(value, key in _EXEC_KEYS)

    def expect(self, **entry):
        entry.setdefault('config_exists', True)
        self.handlers.append(entry)


def hypervisor_of(fixture_path):
    """The name of the [hypervisor.<name>] table of a fixture file (each has exactly one)."""
    with open(fixture_path, 'rb') as handle:
        names = list(_toml.load(handle).get('hypervisor', {}))
    if len(names) != 1:
        raise ValueError('%s: expected one hypervisor table, found %r' % (fixture_path, names))
    return names[0]


# ---------------------------------------------------------------------------------------------------------------
# Binaries

def kata_runtime_stub(version):
    return '''#!/bin/sh
# kata-runtime %(version)s, as far as `--version` goes (tests/kata_sim/sim_layouts.py)
case "$1" in
  --version|-v) printf 'kata-runtime  : %(version)s\\n   commit   : %(commit)s\\n   OCI specs: %(oci)s\\n' ;;
  *) echo "kata-runtime stub of a simulated node: only --version is answered" >&2; exit 1 ;;
esac
''' % {'version': version, 'commit': COMMITS[version], 'oci': OCI_SPECS[version]}


def kata_ctl_stub(version):
    full = '%s-%s-0.0.1' % (version, COMMITS[version])
    return '''#!/bin/sh
# kata-ctl %(version)s, as far as `version` goes (tests/kata_sim/sim_layouts.py): kata-ctl logs its version with slog
json=0
[ "$1" = "--json-logging" ] || [ "$1" = "-j" ] && { json=1; shift; }
[ "$1" = "version" ] || { echo "kata-ctl stub of a simulated node: only version is answered" >&2; exit 1; }
if [ $json = 1 ]; then
  printf '{"msg":"kata-ctl version \\\\"%(full)s\\\\" (type: rust)","level":"INFO",'
  printf '"ts":"2026-01-01T00:00:00.000000000Z","source":"kata-ctl","name":"kata-ctl","pid":"%%s",' $$
  printf '"subsystem":"kata-ctl_main","version":"0.0.1"}\\n'
else
  printf 'Jan 01 00:00:00.000 INFO kata-ctl version "%(full)s" (type: rust), subsystem: kata-ctl_main\\n' >&2
fi
''' % {'version': version, 'full': full}


def shim_stub(version, rust):
    if rust:
        line = 'Kata Containers containerd shim (Rust): id: io.containerd.kata.v2, version: %s, commit: %s' % (
            version, COMMITS[version])
    else:
        line = 'Kata Containers containerd shim (Golang): id: "io.containerd.kata.v2", version: %s, commit: %s' % (
            version, COMMITS[version])
    return '#!/bin/sh\n# containerd-shim-kata-v2 of a simulated node (tests/kata_sim/sim_layouts.py)\n' \
           '[ "$1" = "--version" ] && { echo \'%s\'; exit 0; }\necho "shim stub: not a real shim" >&2\nexit 1\n' % line


# ---------------------------------------------------------------------------------------------------------------
# kata-deploy 4.1.0

def _kata_deploy_artifacts(layout, dest, version='4.1.0'):
    """The tarballs' files under ``dest``: every configuration file, the configuration.toml links, the binaries."""
    go_dir = dest + '/share/defaults/kata-containers'
    rs_dir = go_dir + '/runtime-rs'
    for sub, host_dir in (('runtime', go_dir), ('runtime-rs', rs_dir)):
        source = os.path.join(FIXTURES, version, sub)
        for name in sorted(os.listdir(source)):
            with open(os.path.join(source, name), encoding='utf-8') as handle:
                layout.write(host_dir + '/' + name, handle.read())
    # static-build/shim-v2/build.sh and src/runtime-rs/Makefile install-configs
    layout.symlink(go_dir + '/configuration.toml', 'configuration-qemu.toml')
    layout.symlink(rs_dir + '/configuration.toml', 'configuration-qemu-runtime-rs.toml')
    layout.write(dest + '/bin/containerd-shim-kata-v2', shim_stub(version, False), 0o755)
    layout.write(dest + '/runtime-rs/bin/containerd-shim-kata-v2', shim_stub(version, True), 0o755)
    layout.write(dest + '/bin/kata-runtime', kata_runtime_stub(version), 0o755)
    layout.write(dest + '/bin/kata-ctl', kata_ctl_stub(version), 0o755)
    layout.installations.append({
        'prefix': dest, 'kata_runtime': dest + '/bin/kata-runtime', 'kata_ctl': dest + '/bin/kata-ctl',
        'kata_runtime_version': version, 'kata_ctl_version': version,
    })


def _config_dir(shim, dest):
    base = dest + '/share/defaults/kata-containers'
    return base + '/runtime-rs' if shim in RUST_SHIMS else base


def _shim_path(shim, dest):
    return dest + ('/runtime-rs/bin/containerd-shim-kata-v2' if shim in RUST_SHIMS else '/bin/containerd-shim-kata-v2')


def _handler_name(shim, suffix):
    return 'kata-%s-%s' % (shim, suffix) if suffix else 'kata-' + shim


def _hypervisor_name(shim):
    """artifacts/install.rs get_hypervisor_name."""
    if shim.startswith('qemu'):
        return 'qemu'
    return {'clh': 'clh', 'clh-azure': 'clh', 'clh-runtime-rs': 'clh', 'clh-azure-runtime-rs': 'clh',
            'dragonball': 'dragonball', 'fc': 'firecracker', 'openvmm-azure-runtime-rs': 'openvmm',
            'remote': 'remote'}[shim]


def _installation_prefix_drop_in(shim, dest):
    """artifacts/install.rs generate_installation_prefix_drop_in (amd64)."""
    lines = ['# Installation prefix adjustments', '# Generated by kata-deploy', '', '[hypervisor.%s]' % _hypervisor_name(shim)]
    if shim.startswith('qemu'):
        artifact = {'qemu-nvidia-cpu-runtime-rs': 'qemu-no-shared-fs', 'qemu-nvidia-gpu-runtime-rs': 'qemu-no-shared-fs',
                    'qemu-nvidia-gpu-snp': 'qemu-snp-experimental', 'qemu-nvidia-gpu-snp-runtime-rs': 'qemu-snp-experimental',
                    'qemu-nvidia-gpu-tdx': 'qemu-tdx-experimental',
                    'qemu-nvidia-gpu-tdx-runtime-rs': 'qemu-tdx-experimental'}.get(shim, 'qemu')
        binary = '%s/bin/qemu-system-x86_64%s' % (dest, artifact[len('qemu'):])
        lines.append('path = "%s-installation-prefix"' % binary)
    else:
        binary = {'clh': 'cloud-hypervisor', 'clh-azure': 'cloud-hypervisor', 'clh-runtime-rs': 'cloud-hypervisor',
                  'clh-azure-runtime-rs': 'cloud-hypervisor', 'openvmm-azure-runtime-rs': 'openvmm',
                  'fc': 'firecracker', 'dragonball': 'dragonball'}.get(shim)
        if binary:
            lines.append('path = "%s/bin/%s"' % (dest, binary))
    lines.append('kernel = "%s/share/kata-containers/vmlinux.container"' % dest)
    lines.append('image = "%s/share/kata-containers/kata-containers.img"' % dest)
    lines.append('initrd = "%s/share/kata-containers/kata-containers-initrd.img"' % dest)
    if shim.startswith('qemu'):
        lines.append('firmware = "%s/share/kata-containers/firmware/"' % dest)
        lines.append('firmware_volume = "%s/share/kata-containers/firmware/"' % dest)
    if shim == 'fc':
        lines.append('jailer_path = "%s/bin/jailer"' % dest)
        lines.append('valid_jailer_paths = ["%s/bin/jailer"]' % dest)
    return '\n'.join(lines) + '\n'


def _kata_deploy_shim(layout, shim, dest, version='4.1.0'):
    """artifacts/install.rs setup_runtime_directory + write_common_drop_ins; returns the ConfigPath."""
    original_dir = _config_dir(shim, dest)
    runtime_dir = '%s/runtimes/%s' % (original_dir, shim)
    name = 'configuration-%s.toml' % shim
    layout.mkdir(runtime_dir + '/config.d')
    with open(layout.local(original_dir + '/' + name), encoding='utf-8') as handle:
        content = handle.read()
    layout.write(runtime_dir + '/' + name, KATA_DEPLOY_CONFIG_WARNING + content)
    layout.symlink(original_dir + '/' + name, 'runtimes/%s/%s' % (shim, name))
    if dest != '/opt/kata':
        layout.write(runtime_dir + '/config.d/10-installation-prefix.toml', _installation_prefix_drop_in(shim, dest))
    config = runtime_dir + '/' + name
    layout.config_assets(config)
    return config


def _fixture(version, shim_or_file, rust):
    name = shim_or_file if shim_or_file.endswith('.toml') else 'configuration-%s.toml' % shim_or_file
    return os.path.join(FIXTURES, version, 'runtime-rs' if rust else 'runtime', name)


def kata_deploy_containerd_entries(layout, shims, dest, suffix, plugin, source):
    """runtime/containerd.rs write_containerd_runtime_config for each shim, appended to ``source``."""
    out = []
    for shim in shims:
        handler = _handler_name(shim, suffix)
        config = _kata_deploy_shim(layout, shim, dest)
        table = 'plugins."%s".containerd.runtimes.%s' % (plugin, handler)
        out.append('[%s]\nruntime_type = "io.containerd.%s.v2"\nruntime_path = "%s"\n'
                   'privileged_without_host_devices = true\npod_annotations = ["io.katacontainers.*"]\n'
                   'container_annotations = ["io.kubernetes.container.terminationMessage*"]\n\n'
                   '[%s.options]\nConfigPath = "%s"\n' % (table, handler, _shim_path(shim, dest), table, config))
        layout.expect(handler=handler, engine='containerd', runtime_type='io.containerd.%s.v2' % handler,
                      runtime='rust' if shim in RUST_SHIMS else 'go', shim_path=_shim_path(shim, dest), config=config,
                      hypervisor=hypervisor_of(_fixture('4.1.0', shim, shim in RUST_SHIMS)), source=source)
    layout.append(source, '\n'.join(out))


def build_kata_deploy_410(layout):
    dest = '/opt/kata'
    _kata_deploy_artifacts(layout, dest)
    drop_in = dest + '/containerd/config.d/kata-deploy.toml'
    layout.write('/etc/containerd/config.toml', 'imports = ["%s"]\n' % drop_in + CONTAINERD_V3_HEAD)
    layout.write(drop_in, '')
    kata_deploy_containerd_entries(layout, HELM_AMD64_SHIMS, dest, None, 'io.containerd.cri.v1.runtime', drop_in)


def build_multi_install_suffix(layout):
    imports = []
    for dest, suffix, shims in (('/opt/kata', None, ('clh', 'qemu', 'qemu-runtime-rs')),
                                ('/opt/kata-dev', 'dev', ('clh', 'dragonball', 'fc', 'qemu', 'qemu-runtime-rs'))):
        _kata_deploy_artifacts(layout, dest)
        drop_in = dest + '/containerd/config.d/kata-deploy.toml'
        layout.write(drop_in, '')
        imports.append(drop_in)
        kata_deploy_containerd_entries(layout, shims, dest, suffix, 'io.containerd.cri.v1.runtime', drop_in)
    layout.write('/etc/containerd/config.toml',
                 'imports = [%s]\n' % ', '.join('"%s"' % p for p in imports) + CONTAINERD_V3_HEAD)


def build_k3s(layout):
    dest = '/opt/kata'
    _kata_deploy_artifacts(layout, dest)
    base = '/var/lib/rancher/k3s/agent/etc/containerd'
    drop_in = base + '/config-v3.toml.d/kata-deploy.toml'
    # config.rs: k3s' rendered config must import the config-v3.toml.d directory; the user's template says so.
    layout.write(base + '/config-v3.toml.tmpl',
                 '{{ template "base" . }}\n\nimports = ["%s/config-v3.toml.d/*.toml"]\n' % base)
    layout.write(base + '/config.toml', '''# File generated by k3s. DO NOT EDIT. Use config-v3.toml.tmpl instead.
version = 3
root = "/var/lib/rancher/k3s/agent/containerd"
state = "/run/k3s/containerd"
imports = ["%s/config-v3.toml.d/*.toml"]

[grpc]
  address = "/run/k3s/containerd/containerd.sock"

[plugins.'io.containerd.cri.v1.runtime'.containerd]
  snapshotter = "overlayfs"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
''' % base)
    layout.write(drop_in, '')
    kata_deploy_containerd_entries(layout, ('clh', 'fc', 'qemu', 'qemu-runtime-rs'), dest, None,
                                   'io.containerd.cri.v1.runtime', drop_in)


def build_crio(layout):
    dest = '/opt/kata'
    _kata_deploy_artifacts(layout, dest)
    layout.write('/etc/crio/crio.conf', '''[crio.runtime]
default_runtime = "crun"

[crio.runtime.runtimes.crun]
runtime_path = "/usr/bin/crun"
runtime_type = "oci"
runtime_root = "/run/crun"
''')
    drop_in = '/etc/crio/crio.conf.d/99-kata-deploy'
    # runtime/crio.rs configure_crio + write_crio_runtime_config
    text = ['[crio]\n  storage_option = [\n\t"overlay.skip_mount_home=true",\n  ]\n']
    for shim in ('clh', 'dragonball', 'qemu', 'qemu-runtime-rs', 'qemu-snp'):
        handler = _handler_name(shim, None)
        config = _kata_deploy_shim(layout, shim, dest)
        text.append('\n[crio.runtime.runtimes.%s]\n\truntime_path = "%s"\n\truntime_type = "vm"\n'
                    '\truntime_root = "/run/vc"\n\truntime_config_path = "%s"\n\tprivileged_without_host_devices = true\n'
                    % (handler, _shim_path(shim, dest), config))
        layout.expect(handler=handler, engine='crio', runtime_type='vm', runtime='rust' if shim in RUST_SHIMS else 'go',
                      shim_path=_shim_path(shim, dest), config=config,
                      hypervisor=hypervisor_of(_fixture('4.1.0', shim, shim in RUST_SHIMS)), source=drop_in)
    layout.write(drop_in, ''.join(text))
    layout.write('/etc/crio/crio.conf.d/100-debug', '')


# ---------------------------------------------------------------------------------------------------------------
# kata-deploy 3.0.0 on containerd 1.x

def build_containerd_1x(layout):
    version = '3.0.0'
    dest = '/opt/kata'
    conf_dir = dest + '/share/defaults/kata-containers'
    for sub in ('runtime', 'runtime-rs'):
        source = os.path.join(FIXTURES, version, sub)
        for name in sorted(os.listdir(source)):
            with open(os.path.join(source, name), encoding='utf-8') as handle:
                layout.write(conf_dir + '/' + name, handle.read())
    layout.symlink(conf_dir + '/configuration.toml', 'configuration-qemu.toml')
    layout.write(dest + '/bin/containerd-shim-kata-v2', shim_stub(version, False), 0o755)
    layout.write(dest + '/runtime-rs/bin/containerd-shim-kata-v2', shim_stub(version, True), 0o755)
    layout.write(dest + '/bin/kata-runtime', kata_runtime_stub(version), 0o755)
    layout.installations.append({'prefix': dest, 'kata_runtime': dest + '/bin/kata-runtime', 'kata_ctl': None,
                                 'kata_runtime_version': version, 'kata_ctl_version': None})
    # kata-deploy.sh configure_different_shims_base: /usr/local/bin/containerd-shim-kata-<shim>-v2 links
    shims = ('fc', 'qemu', 'clh', 'dragonball')
    for shim in shims:
        target = dest + ('/runtime-rs/bin/containerd-shim-kata-v2' if shim == 'dragonball'
                         else '/bin/containerd-shim-kata-v2')
        layout.symlink('/usr/local/bin/containerd-shim-kata-%s-v2' % shim, target)
    layout.symlink('/usr/local/bin/containerd-shim-kata-v2', '/usr/local/bin/containerd-shim-kata-qemu-v2')
    source = '/etc/containerd/config.toml'
    text = [CONTAINERD_V2_HEAD]
    for shim in (None,) + shims:
        handler = 'kata' if shim is None else 'kata-' + shim
        configuration = 'configuration' if shim is None else 'configuration-' + shim
        table = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes.' + handler
        # kata-deploy.sh configure_containerd_runtime, appended with tee -a
        text.append('[%s]\n  runtime_type = "io.containerd.%s.v2"\n  privileged_without_host_devices = true\n'
                    '  pod_annotations = ["io.katacontainers.*"]\n  [%s.options]\n    ConfigPath = "%s/%s.toml"\n'
                    % (table, handler, table, conf_dir, configuration))
        real = '%s/configuration-%s.toml' % (conf_dir, shim or 'qemu')
        rust = shim == 'dragonball'
        layout.config_assets(real)
        layout.expect(handler=handler, engine='containerd', runtime_type='io.containerd.%s.v2' % handler,
                      runtime='rust' if rust else 'go', shim_path='/usr/local/bin/containerd-shim-%s-v2' % handler,
                      config=real, hypervisor=hypervisor_of(_fixture(version, shim or 'qemu', rust)), source=source)
    layout.write(source, ''.join(text))


# ---------------------------------------------------------------------------------------------------------------
# A distribution package of 3.0.0

def build_distro_300(layout):
    version = '3.0.0'
    conf_dir = '/usr/share/defaults/kata-containers'
    for name in sorted(os.listdir(os.path.join(FIXTURES, version, 'runtime'))):
        with open(os.path.join(FIXTURES, version, 'runtime', name), encoding='utf-8') as handle:
            # The fixtures are rendered with PREFIX=/opt/kata; a distribution renders the same templates with /usr.
            layout.write(conf_dir + '/' + name, handle.read().replace('/opt/kata/', '/usr/'))
    layout.symlink(conf_dir + '/configuration.toml', 'configuration-qemu.toml')
    layout.write('/usr/bin/containerd-shim-kata-v2', shim_stub(version, False), 0o755)
    layout.write('/usr/bin/kata-runtime', kata_runtime_stub(version), 0o755)
    layout.installations.append({'prefix': '/usr', 'kata_runtime': '/usr/bin/kata-runtime', 'kata_ctl': None,
                                 'kata_runtime_version': version, 'kata_ctl_version': None})
    real = conf_dir + '/configuration-qemu.toml'
    layout.config_assets(real)
    source = '/etc/containerd/config.toml'
    layout.write(source, CONTAINERD_V2_HEAD + '''      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
        runtime_type = "io.containerd.kata.v2"
''')
    layout.expect(handler='kata', engine='containerd', runtime_type='io.containerd.kata.v2', runtime='go',
                  shim_path='/usr/bin/containerd-shim-kata-v2', config=real,
                  hypervisor=hypervisor_of(_fixture(version, 'qemu', False)), source=source)


BUILDERS = {
    'kata-deploy-4.1.0': build_kata_deploy_410,
    'containerd-1.x': build_containerd_1x,
    'crio': build_crio,
    'k3s': build_k3s,
    'multi-install-suffix': build_multi_install_suffix,
    'distro-3.0.0': build_distro_300,
}


def build(root, kind, assets=True):
    """Write the layout ``kind`` under ``root`` (created when missing); return its manifest."""
    if kind not in BUILDERS:
        raise ValueError('unknown layout kind %r; expected one of %s' % (kind, ', '.join(KINDS)))
    os.makedirs(root, exist_ok=True)
    layout = Layout(root, assets=assets)
    BUILDERS[kind](layout)
    return {'root': layout.root, 'kind': kind, 'handlers': layout.handlers, 'installations': layout.installations}


def remove(root):
    """Remove a layout root written by ``build`` (everything under it)."""
    shutil.rmtree(root, ignore_errors=True)
