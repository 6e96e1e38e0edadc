#!/usr/bin/python
# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kata_exec_cmd
short_description: Run a command inside a Kata Containers sandbox VM through the agent's debug console
version_added: 0.1.0
description:
  - Runs one command in the guest of a Kata sandbox, the way M(ansible.builtin.command) runs one on a host, and
    returns its exit status and its output. This is the non-interactive form of C(kata-runtime exec), which only
    opens a terminal.
  - The module asks the sandbox's shim for the agent's address (C(GET /agent-url)), connects to the agent's debug
    console on O(debug_port) (AF_VSOCK for C(vsock://) addresses; the hypervisor's unix socket and its
    C(CONNECT <port>) handshake for C(hvsock://) addresses, as Firecracker and Cloud Hypervisor use), and talks to
    the shell the agent starts there, C(/bin/bash) or else C(/bin/sh).
  - That shell is interactive and on a terminal. The module frames the command so that its output and exit status
    come back exact whatever the prompt, the echo, the line editor or the terminal do. Each part is encoded in transit
    and framed by a random key, so output that contains any bytes, has very long lines or no final newline, and
    O(stdin) data, come back unchanged.
  - The command runs as C(<guest shell> -c <command>), with O(stdin) or else C(/dev/null) as its standard input.
    Its standard output and standard error are pipes, not the terminal. The exit status is what the shell reports,
    128 + N for a command killed by signal N.
  - The module connects anew for every task. Each connection gets its own shell, so tasks can run in the same
    sandbox at the same time.
  - The module itself logs nothing of the command or of its output. Ansible records the module's arguments on the
    managed node as for every module, unless the task has C(no_log), which also hides the result.
author:
  - Kata Containers collection contributors (@katacontainers)
extends_documentation_fragment:
  - katacontainers.kata._shim
  - katacontainers.kata._shim.pod
  - katacontainers.kata._shim.pod_metadata
  - katacontainers.kata._attributes
  - katacontainers.kata._attributes.actiongroup_kata
  - katacontainers.kata._attributes.platform
attributes:
  check_mode:
    support: partial
    details:
      - The module cannot know what a command does. In check mode it only checks its options and that the sandbox's
        shim socket exists, and reports the task as skipped.
      - With O(check_mode_safe=true) the command runs in check mode too. Set it only for commands that change
        nothing.
  diff_mode:
    support: none
  idempotent:
    support: N/A
    details:
      - The module always reports C(changed=true), like M(ansible.builtin.command). Use C(changed_when) to
        say when the command changed something.
options:
  sandbox_id:
    description:
      - The sandbox to run the command in. It must match kata's sandbox ID pattern C(^[a-zA-Z0-9][a-zA-Z0-9_.-]+$).
      - Exactly one of O(sandbox_id) and O(pod) is required.
    type: str
  cmd:
    description:
      - The command, run by the guest shell as C(<shell> -c <cmd>). Shell syntax works here (pipes, redirections,
        variables, several lines).
      - Exactly one of O(cmd) and O(argv) is required.
    type: str
  argv:
    description:
      - The program and its arguments, as a list. Each item is quoted for the guest shell, so no item is
        interpreted (quotes, C($()), newlines and spaces reach the program unchanged).
      - Exactly one of O(cmd) and O(argv) is required.
    type: list
    elements: str
  chdir:
    description:
      - Change into this directory of the guest before running the command. A relative path is relative to the
        agent's working directory, C(/).
      - If the directory cannot be entered, the task fails and the command does not run.
    type: str
  stdin:
    description:
      - Data sent to the command's standard input (UTF-8). Without it, the standard input is C(/dev/null).
    type: str
  stdin_add_newline:
    description:
      - Add a newline to O(stdin), like M(ansible.builtin.command).
    type: bool
    default: true
  strip_empty_ends:
    description:
      - Remove the newlines at the end of RV(stdout) and RV(stderr), like M(ansible.builtin.command).
      - Set it to V(false) to get the output exactly as written.
    type: bool
    default: true
  binary_output:
    description:
      - Also return the exact bytes of the output, base64-encoded, as RV(stdout_b64) and RV(stderr_b64).
      - RV(stdout) and RV(stderr) are text. Bytes that are not UTF-8 are replaced there by U+FFFD.
    type: bool
    default: false
  debug_port:
    description:
      - The vsock port of the agent's debug console, set in the guest by the kernel parameter
        C(agent.debug_console_vport). kata-runtime sets it to 1026 when C(debug_console_enabled = true) is in the
        C([agent.kata]) section of its configuration.
      - From 1 to 4294967295.
    type: int
    default: 1026
  timeout:
    description:
      - Seconds the command may run, counted from the moment it is sent to the guest.
      - When they run out, the module types Ctrl-C (SIGINT to the command). If the command still runs 2 seconds
        later, it types Ctrl-\ (SIGQUIT). If it still runs 2 seconds after that, the module closes the connection.
        The task then fails with RV(timed_out=true) and returns what the command wrote until then.
      - V(0) means no limit.
      - Unlike the other modules of the V(katacontainers.kata.kata) action group, this is not the timeout of the
        shim request, see O(connect_timeout). A value set for the group in C(module_defaults) applies here too.
    type: float
    default: 60
  connect_timeout:
    description:
      - Seconds allowed for each step of reaching the console, like C(kata-runtime exec)'s 3 seconds. The steps are
        the shim's answer to C(GET /agent-url), the connection to the console with its handshake, and the shell's
        first answer.
      - Failed connection attempts are retried until this time runs out, as kata does. The error then names the last
        failure.
    type: float
    default: 3
  check_mode_safe:
    description:
      - Run the command in check mode too. By default the task is skipped in check mode.
      - Say V(true) only for a command that changes nothing, such as one that reads files or lists processes.
    type: bool
    default: false
notes:
  - The debug console must be enabled. Set C(debug_console_enabled = true) in the C([agent.kata]) section of the
    Kata configuration before the sandbox starts. This adds C(agent.debug_console agent.debug_console_vport=1026)
    to the guest kernel command line.
  - The agent starts the shell with an empty argument list. Bash and dash work that way. A guest whose C(/bin/sh) is
    a busybox link has no usable console, because busybox prints C(applet not found) and exits.
  - The guest needs C(base64) or C(od) to send the output back (coreutils and busybox have both). For separate
    RV(stderr) and for O(stdin), it needs a writable directory among C($TMPDIR), C(/run), C(/tmp), C(/dev/shm) and
    C(/var/tmp). The directory holds two files only until the command starts. Without such a directory, stderr is
    merged into RV(stdout) (RV(stderr_merged=true)), and O(stdin) cannot be used.
  - The command must not change the terminal's settings or write to C(/dev/tty). That would damage the frame, and
    the task would then fail with a clear error.
  - Nothing of a run is left in the guest. The console's interactive shell is replaced by a non-interactive one
    without saving any history (bash's history file is left as it was; a line a busybox ash built to save history
    appended to its history file is taken back), the private directory is removed before the command starts, and
    variables live only in the shell of that session. What the command itself does stays, of course.
  - Like M(ansible.builtin.command), the module waits until the command's standard output is closed. A background
    process that keeps it open makes the task wait, up to O(timeout).
  - To run a command in every sandbox of a host, loop over the sandboxes listed by M(katacontainers.kata.kata_sandbox_info).
seealso:
  - module: katacontainers.kata.kata_sandbox_info
  - module: ansible.builtin.command
  - name: Kata Containers debug console
    description: How to enable the agent's debug console.
    link: https://github.com/kata-containers/kata-containers/blob/main/docs/Developer-Guide.md#connect-to-debug-console
"""

EXAMPLES = r"""
---
- name: Run a command in the sandbox VM of a pod
  katacontainers.kata.kata_exec_cmd:
    pod: default/nginx
    cmd: cat /proc/meminfo
  become: true

- name: Show the guest kernel of a sandbox
  katacontainers.kata.kata_exec_cmd:
    sandbox_id: 3f1d0f4e9c2b
    cmd: uname -a
  become: true
  register: guest_kernel
  changed_when: false

- name: Run a program with arguments that must not be interpreted
  katacontainers.kata.kata_exec_cmd:
    sandbox_id: 3f1d0f4e9c2b
    argv:
      - /usr/bin/grep
      - -c
      - "error: $(not run)"
      - /var/log/agent.log
    chdir: /var/log
  become: true
  register: errors
  failed_when: errors.rc not in [0, 1]
  changed_when: false

- name: Feed a script to the guest shell on stdin, with a 5 minute limit
  katacontainers.kata.kata_exec_cmd:
    sandbox_id: 3f1d0f4e9c2b
    cmd: sh -s
    stdin: |
      set -e
      df -h /
      ls /run/kata-containers
    timeout: 300
  become: true

- name: Read a binary file from the guest, exactly
  katacontainers.kata.kata_exec_cmd:
    sandbox_id: 3f1d0f4e9c2b
    cmd: cat /proc/self/auxv
    binary_output: true
    check_mode_safe: true
  become: true
  register: auxv
  changed_when: false

- name: List the sandboxes of the host
  katacontainers.kata.kata_sandbox_info:
    volumes: false
  become: true
  register: kata_info

- name: Run a command in every sandbox of the host
  katacontainers.kata.kata_exec_cmd:
    sandbox_id: "{{ item.id }}"
    cmd: cat /proc/loadavg
    check_mode_safe: true
  loop: "{{ kata_info.sandboxes | selectattr('reachable') | list }}"
  loop_control:
    label: "{{ item.id }}"
  become: true
  register: loads
  changed_when: false
"""

RETURN = r"""
pod:
  description:
    - The pod given in O(pod) and the sandbox it was resolved to.
  returned: when O(pod) is set
  type: dict
  contains:
    namespace:
      description: The pod's namespace.
      type: str
      sample: default
    name:
      description: The pod's name.
      type: str
      sample: nginx
    uid:
      description: The pod's UID, V(null) when the engine did not record it.
      type: str
      sample: 6f0a4a53-1a8e-4b7b-9a61-0c1f2d3e4f5a
    handler:
      description:
        - The runtime handler, as CRI-O records it. containerd records it only when the pod carries the
          C(io.containerd.cri.runtime-handler) annotation and the handler lets it through; V(null) otherwise.
      type: str
      sample: kata-qemu
    engine:
      description: The container engine whose metadata named the pod, V(containerd) or V(crio).
      type: str
      sample: containerd
    sandbox_id:
      description: The Kata sandbox of the pod.
      type: str
      sample: 4f8a3c2e0d1b4a5c9e7f6a1b2c3d4e5f
    runtime:
      description: The Kata runtime of the sandbox, V(go) (C(containerd-shim-kata-v2)) or V(rust) (runtime-rs).
      type: str
      sample: go
rc:
  description:
    - The command's exit status, as the guest shell reports it. It is 128 + N for a command killed by signal N.
    - V(null) when the command timed out and its status did not come back.
  returned: when the command ran
  type: int
  sample: 0
stdout:
  description:
    - The command's standard output, as UTF-8 text (invalid bytes become U+FFFD), without its final newlines
      unless O(strip_empty_ends=false).
    - When the command timed out, what it wrote until then.
  returned: when the command ran
  type: str
  sample: "Linux kata 6.1.38 #1 SMP x86_64 GNU/Linux"
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the command ran
  type: list
  elements: str
  sample: ["Linux kata 6.1.38 #1 SMP x86_64 GNU/Linux"]
stderr:
  description: The command's standard error, like RV(stdout). Empty when RV(stderr_merged=true).
  returned: when the command ran
  type: str
  sample: "grep: /var/log/agent.log: No such file or directory"
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the command ran
  type: list
  elements: str
  sample: ["grep: /var/log/agent.log: No such file or directory"]
stdout_b64:
  description: The exact bytes of the standard output, base64-encoded (never stripped).
  returned: when O(binary_output=true) and the command ran
  type: str
  sample: aGVsbG8K
stderr_b64:
  description: The exact bytes of the standard error, base64-encoded.
  returned: when O(binary_output=true) and the command ran
  type: str
  sample: ""
stderr_merged:
  description:
    - V(true) when the guest had no writable directory to keep the standard error apart. It is then in RV(stdout).
  returned: when the command ran
  type: bool
  sample: false
timed_out:
  description: Whether the command ran out of O(timeout). The task then fails.
  returned: when the command ran
  type: bool
  sample: false
cmd:
  description: The command line given to the guest shell. It is O(cmd), or O(argv) quoted word by word.
  returned: always
  type: str
  sample: "/usr/bin/grep -c 'error: $(not run)' /var/log/agent.log"
shell:
  description: The guest shell that ran the command (the agent's console shell).
  returned: when the command ran
  type: str
  sample: /usr/bin/bash
start:
  description: When the command was sent to the guest (local time of the managed node).
  returned: when the command ran
  type: str
  sample: "2026-11-28 12:00:00.135052"
end:
  description: When its result was complete.
  returned: when the command ran
  type: str
  sample: "2026-11-28 12:00:00.161873"
delta:
  description: The time between RV(start) and RV(end).
  returned: when the command ran
  type: str
  sample: "0:00:00.026821"
"""

from ansible_collections.katacontainers.kata.plugins.module_utils._console._address import DEFAULT_DEBUG_PORT
from ansible_collections.katacontainers.kata.plugins.module_utils._console._dial import DEFAULT_CONNECT_TIMEOUT
from ansible_collections.katacontainers.kata.plugins.module_utils._console._exec import exec_cmd_module
from ansible_collections.katacontainers.kata.plugins.module_utils._module import AnsibleModule, run
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import pod_argument_spec, shim_argument_spec


def main():
    argument_spec = shim_argument_spec()
    argument_spec.update(pod_argument_spec())
    argument_spec.update(
        sandbox_id=dict(type='str'),
        cmd=dict(type='str'),
        argv=dict(type='list', elements='str'),
        chdir=dict(type='str'),
        stdin=dict(type='str'),
        stdin_add_newline=dict(type='bool', default=True),
        strip_empty_ends=dict(type='bool', default=True),
        binary_output=dict(type='bool', default=False),
        debug_port=dict(type='int', default=DEFAULT_DEBUG_PORT),
        timeout=dict(type='float', default=60),
        connect_timeout=dict(type='float', default=DEFAULT_CONNECT_TIMEOUT),
        check_mode_safe=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, mutually_exclusive=[('cmd', 'argv'), ('sandbox_id', 'pod')],
                           required_one_of=[('cmd', 'argv'), ('sandbox_id', 'pod')], supports_check_mode=True)
    run(module, exec_cmd_module)


if __name__ == '__main__':
    main()
