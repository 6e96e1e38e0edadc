# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real command runner with AnsibleModule.run_command's signature, for tests that call module_utils directly.

(module_utils themselves never spawn processes: modules hand them ``module.run_command``.)
"""

from __future__ import annotations

import os
import subprocess


def local_run_command(args, environ_update=None, **unused_kwargs):
    """A stand-in for AnsibleModule.run_command (argv list, no shell) -> (rc, stdout, stderr)."""
    env = dict(os.environ)
    env.update(environ_update or {})
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, close_fds=True)
    except OSError as exc:
        return 127, '', '%s: %s' % (args[0], exc.strerror)
    out, err = proc.communicate()
    return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')
