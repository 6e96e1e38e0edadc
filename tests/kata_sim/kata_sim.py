# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kata-sim: a simulated Kata Containers node for the collection's tests and demo (README.md beside this file).

    python3 kata_sim.py start  --root DIR [--sandboxes N] [--rs N] [...]   start (daemon), print the state as JSON
    python3 kata_sim.py status --root DIR                                   print the live state as JSON
    python3 kata_sim.py attach --root DIR --sandbox ID --device DEV [--volume-path P]
    python3 kata_sim.py detach --root DIR --sandbox ID --device DEV
    python3 kata_sim.py fault  --root DIR --sandbox ID|all --mode MODE [--path /metrics]
    python3 kata_sim.py call   --root DIR '{"command": ...}'                a raw control request (optional services)
    python3 kata_sim.py stop   --root DIR                                   stop and remove everything it created
    python3 kata_sim.py layout --root DIR --kind KIND                       write a real node's files (sim_layouts.py)

``--root`` may also come before the command (``kata_sim.py --root DIR fault ...``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# pylint: disable=wrong-import-position
from sim_agent import AGENT_VERSIONS  # noqa: E402
from sim_core import (HYPERVISORS, STATE_DIR_NAME, UNIX_PATH_MAX, SimError, Simulator, cleanup, control_call,  # noqa: E402
                      default_signals, state_dir, validate_config)
from sim_faults import FAULT_MODES  # noqa: E402
import sim_layouts  # noqa: E402
import sim_pods  # noqa: E402

SANDBOX_ID_RE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]+$')
DEFAULT_MAX_LIFETIME = 3600
READY_TIMEOUT = 120
STOP_TIMEOUT = 20
# The longest path the simulator hands out per sandbox: <root>/run/vc/firecracker/<id>/root/kata.hvsock
_LONGEST_SUFFIX = len('/run/vc/firecracker/') + len('/root/kata.hvsock')
_SOCKET_SUFFIX = len('/run/vc/sbs/') + len('/shim-monitor.sock')


def _err(message):
    sys.stderr.write('kata-sim: %s\n' % message)


def _print_json(data):
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + '\n')
    sys.stdout.flush()


# -- process helpers ---------------------------------------------------------------------------------------------------

def _read_pid(root):
    try:
        with open(os.path.join(state_dir(root), 'kata-sim.pid')) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    """True for a running (not zombie) process whose command line is a kata-sim."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = f.read()
    except OSError:
        return False
    if stat[stat.rfind(')') + 2:].startswith('Z'):
        return False
    return b'kata_sim' in cmdline


def _read_state(root):
    try:
        with open(os.path.join(state_dir(root), 'state.json')) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def stop(root):
    """Stop the simulator of ``root`` (if any) and remove whatever it created. Returns what was done."""
    state = _read_state(root)
    pid = _read_pid(root)
    stopped = False
    if pid and _alive(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.time() + STOP_TIMEOUT
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid) and time.time() < deadline + 5:
                time.sleep(0.05)
        stopped = True
    if state:
        cleanup(state.get('created', []))
    return {'root': root, 'stopped_pid': pid if stopped else None, 'cleaned': bool(state)}


# -- start ----------------------------------------------------------------------------------------------------------

def _ensure_packages(quiet=False):
    """Debian's iproute2 and iptables are needed for network namespaces; install them when missing (root only)."""
    missing = [pkg for pkg, tool in (('iproute2', 'ip'), ('iptables', 'iptables-restore')) if not shutil.which(tool)
               and not os.path.exists('/usr/sbin/' + tool)]
    if not missing or os.geteuid() != 0 or not shutil.which('apt-get'):
        return
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    out = subprocess.DEVNULL if quiet else sys.stderr
    subprocess.run(['apt-get', 'update', '-qq'], env=env, stdout=out, stderr=out, check=False)
    subprocess.run(['apt-get', 'install', '-y', '-qq'] + missing, env=env, stdout=out, stderr=out, check=False)


def _per_sandbox(values, option, choices):
    default, per = None, {}
    for value in values or []:
        if '=' in value:
            sandbox_id, _sep, choice = value.partition('=')
            per[sandbox_id] = choice
        else:
            default = value
    for choice in ([default] if default else []) + list(per.values()):
        if choice not in choices:
            raise SimError('%s: unknown value %r (known: %s)' % (option, choice, ', '.join(choices)))
    return default, per


def _parse_faults(values):
    faults = {}
    for value in values or []:
        sandbox_id, sep, rest = value.partition('=')
        if not sep:
            raise SimError('--fault %r: expected ID=MODE or ID=MODE:/path' % value)
        mode, _sep, path = rest.partition(':')
        if mode not in FAULT_MODES:
            raise SimError('--fault %r: unknown mode %r (known: %s)' % (value, mode, ', '.join(FAULT_MODES)))
        faults.setdefault(sandbox_id, {})[path or '*'] = mode
    return faults


def _parse_options(values):
    options = {}
    for value in values or []:
        key, sep, setting = value.partition('=')
        if not sep or not key:
            raise SimError('--opt %r: expected KEY=VALUE' % value)
        options[key] = setting
    return options


def _id_length(root):
    budget = UNIX_PATH_MAX - len(root.encode('utf-8')) - _LONGEST_SUFFIX
    if budget < 12:
        budget = UNIX_PATH_MAX - len(root.encode('utf-8')) - _SOCKET_SUFFIX
    if budget < 4:
        raise SimError('--root %s is too long: the shim socket paths under it would not fit in a unix socket address '
                       '(%d bytes)' % (root, UNIX_PATH_MAX))
    return min(32, budget) // 2 * 2


def build_config(args, root):
    go_ids = list(args.sandbox_id or [])
    rs_ids = list(args.rs_sandbox_id or [])
    length = _id_length(root)
    while len(go_ids) < args.sandboxes:
        go_ids.append(secrets.token_hex(length // 2))
    while len(rs_ids) < args.rs:
        rs_ids.append(secrets.token_hex(length // 2))
    for sandbox_id in go_ids + rs_ids:
        if not SANDBOX_ID_RE.match(sandbox_id):
            raise SimError('invalid sandbox ID %r (kata requires %s)' % (sandbox_id, SANDBOX_ID_RE.pattern))
    hypervisor, hypervisors = _per_sandbox(args.hypervisor, '--hypervisor', HYPERVISORS)
    agent, agents = _per_sandbox(args.agent, '--agent', AGENT_VERSIONS)
    pods = {}
    for value in getattr(args, 'pod', None) or []:
        try:
            pod_id, pod = sim_pods.parse_pod(value)
        except sim_pods.PodError as exc:
            raise SimError(str(exc)) from None
        pods[pod_id] = pod
    config = {
        'root': root, 'go_ids': go_ids, 'rs_ids': rs_ids, 'hypervisor': hypervisor or 'firecracker',
        'hypervisors': hypervisors, 'agent': agent or 'sim', 'agents': agents, 'faults': _parse_faults(args.fault),
        'netns': not args.no_netns, 'max_lifetime': args.max_lifetime, 'options': _parse_options(args.opt),
        'pods': pods, 'shim_processes': args.shim_processes or max(1, len(go_ids) + len(rs_ids)), 'agent_latency_ms': args.agent_latency,
    }
    validate_config(config)
    return config


def _redirect_stdio(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _serve(config, ready):
    """Set up the simulator, report through ``ready(ok, payload)``, then serve until told to stop."""
    sim = Simulator(config)
    try:
        sim.setup()
    except Exception as exc:
        detail = str(exc) if isinstance(exc, SimError) else traceback.format_exc()
        sim.teardown()
        ready(False, detail)
        return 1
    state = sim.describe()
    state['running'] = True
    ready(True, state)
    sim.run()
    return 0


def _complete_json(data):
    try:
        json.loads(data.decode('utf-8'))
    except ValueError:
        return False
    return True


def _start_daemon(config):
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        default_signals()
        # ... but as a Python program: a peer that hangs up is an EPIPE for the thread that writes, not a kill.
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        # Keep nothing of the caller's (test runner pipes, ansible's module channel) but the ready pipe.
        max_fd = os.sysconf('SC_OPEN_MAX') if os.sysconf('SC_OPEN_MAX') > 0 else 1024
        os.closerange(3, write_fd)
        os.closerange(write_fd + 1, max_fd)
        os.chdir('/')

        def ready(ok, payload):
            if ok:
                log = os.path.join(payload['state_dir'], 'daemon.log')
                _redirect_stdio(log)
                print('kata-sim %d ready at %s' % (os.getpid(), time.strftime('%Y-%m-%dT%H:%M:%S')), flush=True)
            os.write(write_fd, json.dumps({'ok': ok, 'payload': payload}).encode('utf-8'))
            os.close(write_fd)

        code = 1
        try:
            code = _serve(config, ready)
        finally:
            os._exit(code)
    os.close(write_fd)
    os.waitpid(pid, 0)
    data = b''
    deadline = time.time() + READY_TIMEOUT
    while time.time() < deadline:
        readable, _w, _x = select.select([read_fd], [], [], max(0.1, deadline - time.time()))
        if not readable:
            continue
        piece = os.read(read_fd, 1 << 20)
        if not piece:
            break
        data += piece
        if _complete_json(data):
            break  # the shim processes forked before ready() hold the pipe open too: EOF may never come
    os.close(read_fd)
    if not data:
        raise SimError('the simulator did not report ready within %d s' % READY_TIMEOUT)
    answer = json.loads(data.decode('utf-8'))
    if not answer['ok']:
        raise SimError('the simulator failed to start: %s' % answer['payload'])
    return answer['payload']


def cmd_start(args, root):
    if os.path.isdir(state_dir(root)):
        previous = stop(root)
        if previous['stopped_pid']:
            _err('stopped the simulator already running on %s (pid %s)' % (root, previous['stopped_pid']))
    config = build_config(args, root)
    if config['netns'] and not args.no_install:
        _ensure_packages(quiet=True)
    if args.foreground:
        def ready(ok, payload):
            if ok:
                _print_json(payload)
            else:
                _err('the simulator failed to start: %s' % payload)
        return _serve(config, ready)
    _print_json(_start_daemon(config))
    return 0


# -- the other commands -------------------------------------------------------------------------------------------------

def cmd_stop(args, root):
    _print_json(stop(root))
    return 0


def cmd_status(args, root):
    try:
        state = control_call(root, {'command': 'status'})
    except SimError as exc:
        _print_json({'running': False, 'root': root, 'error': str(exc), 'last_state': _read_state(root)})
        return 1
    state['running'] = True
    _print_json(state)
    return 0


def cmd_attach(args, root):
    _print_json(control_call(root, {'command': 'attach', 'sandbox': args.sandbox, 'device': args.device,
                                    'volume_path': args.volume_path}))
    return 0


def cmd_detach(args, root):
    _print_json(control_call(root, {'command': 'detach', 'sandbox': args.sandbox, 'device': args.device}))
    return 0


def cmd_fault(args, root):
    _print_json(control_call(root, {'command': 'fault', 'sandbox': args.sandbox, 'mode': args.mode, 'path': args.path}))
    return 0


def cmd_call(args, root):
    try:
        request = json.loads(args.request)
    except ValueError as exc:
        raise SimError('call: the request is not JSON: %s' % exc) from exc
    if not isinstance(request, dict) or 'command' not in request:
        raise SimError('call: the request must be a JSON object with a "command"')
    _print_json(control_call(root, request))
    return 0


def cmd_layout(args, root):
    if args.kind not in sim_layouts.KINDS:
        _err('--kind: unknown layout %r; expected one of %s' % (args.kind, ', '.join(sim_layouts.KINDS)))
        return 2
    print(json.dumps(sim_layouts.build(root, args.kind, assets=not args.no_assets), indent=1, sort_keys=True))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog='kata_sim.py', description='A simulated Kata Containers node (shim management '
                                     'API, agent, network namespaces) for tests and demos. See README.md.')
    parser.add_argument('--root', dest='global_root', help='root directory of the simulated node')
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--root', default=argparse.SUPPRESS, help='root directory of the simulated node')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    sub.required = True

    start = sub.add_parser('start', parents=[common], help='start a simulator (stopping one already on this root)')
    start.add_argument('--sandboxes', type=int, default=1, metavar='N', help='Go-shim sandboxes under <root>/run/vc/sbs')
    start.add_argument('--rs', type=int, default=0, metavar='N', help='runtime-rs sandboxes under <root>/run/kata')
    start.add_argument('--sandbox-id', action='append', metavar='ID', help='ID of a Go-shim sandbox (repeatable)')
    start.add_argument('--rs-sandbox-id', action='append', metavar='ID', help='ID of a runtime-rs sandbox (repeatable)')
    start.add_argument('--hypervisor', action='append', metavar='[ID=]HV',
                       help='firecracker (default), qemu or clh; for all sandboxes or one (repeatable)')
    start.add_argument('--agent', action='append', metavar='[ID=]VERSION',
                       help='agent behaviour: sim (default, resize works), 3.0.0 or 4.0.0 (resize fails as those agents do)')
    start.add_argument('--fault', action='append', metavar='ID=MODE[:PATH]', help='fault at start (repeatable); modes: '
                       + ', '.join(FAULT_MODES))
    start.add_argument('--pod', action='append', metavar='ID=[ENGINE:]NS/NAME[@HANDLER]',
                       help='lay down the metadata containerd (default) or CRI-O (crio:) writes for a pod sandbox '
                            '(repeatable; see sim_pods.py)')
    start.add_argument('--shim-processes', type=int, default=1, metavar='N',
                       help='serve the sandboxes from N processes (sandbox i from process i mod N; a real node runs '
                            'one shim process per sandbox); 0 means one per sandbox')
    start.add_argument('--agent-latency', type=float, default=0.0, metavar='MS',
                       help='milliseconds each GET /metrics waits for the agent (the shim\'s GetMetrics round trip '
                            'to the VM); default 0')
    start.add_argument('--no-netns', action='store_true', help='keep iptables in memory instead of network namespaces')
    start.add_argument('--no-install', action='store_true', help='never apt-get install iproute2/iptables')
    start.add_argument('--max-lifetime', type=float, default=DEFAULT_MAX_LIFETIME, metavar='SECONDS',
                       help='stop and clean up by itself after this long (0: never; default %d)' % DEFAULT_MAX_LIFETIME)
    start.add_argument('--opt', action='append', metavar='KEY=VALUE', help='a setting for an optional service (repeatable)')
    start.add_argument('--foreground', action='store_true', help='do not daemonize')
    start.set_defaults(func=cmd_start)

    sub.add_parser('stop', parents=[common], help='stop and remove everything the simulator created').set_defaults(func=cmd_stop)
    sub.add_parser('status', parents=[common], help='print the live state (exit 1 when not running)').set_defaults(func=cmd_status)

    attach = sub.add_parser('attach', parents=[common], help='attach a direct volume (device -> guest directory)')
    attach.add_argument('--sandbox', required=True, metavar='ID')
    attach.add_argument('--device', required=True, metavar='DEV', help='host device path, as in mountInfo.json')
    attach.add_argument('--volume-path', metavar='P', help='the volume path: record the sandbox ID in its direct-volume dir')
    attach.set_defaults(func=cmd_attach)

    detach = sub.add_parser('detach', parents=[common], help='detach a direct volume')
    detach.add_argument('--sandbox', required=True, metavar='ID')
    detach.add_argument('--device', required=True, metavar='DEV')
    detach.set_defaults(func=cmd_detach)

    fault = sub.add_parser('fault', parents=[common], help='set or clear a fault at runtime')
    fault.add_argument('--sandbox', required=True, metavar='ID', help='a sandbox ID, or "all"')
    fault.add_argument('--mode', required=True, choices=FAULT_MODES)
    fault.add_argument('--path', metavar='PATH', help='only this URL path (default: every path)')
    fault.set_defaults(func=cmd_fault)

    call = sub.add_parser('call', parents=[common], help='send a raw control request (for optional services)')
    call.add_argument('request', metavar='JSON', help='e.g. \'{"command": "status"}\'')
    call.set_defaults(func=cmd_call)

    layout = sub.add_parser('layout', parents=[common], help='write the files of a real node layout under the root '
                            '(no simulator); print its manifest as JSON')
    layout.add_argument('--kind', required=True, metavar='KIND', help='one of: ' + ', '.join(sim_layouts.KINDS))
    layout.add_argument('--no-assets', action='store_true', help='no placeholders for the files the configurations name')
    layout.set_defaults(func=cmd_layout)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    root = getattr(args, 'root', None) or args.global_root
    if not root:
        _err('--root is required')
        return 2
    root = os.path.abspath(root)
    if os.path.basename(root) == STATE_DIR_NAME:
        _err('--root is the node root, not its %s state directory' % STATE_DIR_NAME)
        return 2
    try:
        return args.func(args, root)
    except SimError as exc:
        _err('error: %s' % exc)
        return 1


if __name__ == '__main__':
    sys.exit(main())
