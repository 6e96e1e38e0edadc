# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for ansible-test's get-pip bootstrap script.

ansible-test creates its virtualenvs without pip and downloads get-pip.py from a host this machine cannot
reach. ``make`` copies this file into ansible-test's cache under the names it looks for; it installs pip from
the interpreter's bundled wheel (ensurepip) and then the pip version ansible-test asked for, from the package
index that pip is configured with.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    if args:
        subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)
    if '--no-setuptools' in sys.argv[1:] and importlib.util.find_spec('setuptools'):
        subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '-y', '-q', 'setuptools'])


if __name__ == '__main__':
    main()
