# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the bench_*.py scripts share: their common options, the environments of ansible-playbook and of a module
process, running and timing a command, writing a playbook and a module's arguments, contenders interleaved round by
round, medians and ratios, the load average, and the results file under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, 'results')
SIMULATOR = os.path.join(REPO, 'tests', 'kata_sim', 'kata_sim.py')
FLEET = os.path.join(REPO, 'tests', 'fleet', 'fleet.py')


# --------------------------------------------------------------------------------------------------------------------
# options and environments

def add_common_arguments(parser, rounds):
    """--rounds (default ``rounds``), --python and --collections-path, as every benchmark takes them."""
    parser.add_argument('--rounds', type=int, default=rounds)
    parser.add_argument('--python', default=sys.executable, help='interpreter for the modules (ansible_python_interpreter)')
    parser.add_argument('--collections-path', default=os.environ.get('ANSIBLE_COLLECTIONS_PATH', ''),
                        help='directory that holds ansible_collections/katacontainers/kata')


def check_collections_path(path, option='--collections-path'):
    """Exit with a message unless ``path`` holds the collection (``make collection`` puts it there)."""
    if not path or not os.path.isdir(os.path.join(path, 'ansible_collections', 'katacontainers', 'kata')):
        sys.exit('%s: no ansible_collections/katacontainers/kata under %r (run `make collection` first)' % (option, path))


def ansible_playbook():
    """The ansible-playbook beside this interpreter, else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return beside if os.access(beside, os.X_OK) else shutil.which('ansible-playbook') or 'ansible-playbook'


def ansible_env(collections_path, python=None, **extra):
    """The environment of an ansible-playbook run: the collection found, no colour, no deprecation warnings."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1',
               ANSIBLE_DEPRECATION_WARNINGS='0')
    if python:
        env['ANSIBLE_PYTHON_INTERPRETER'] = python
    env.update(extra)
    return env


def module_env(env, collections_path):
    """The environment of a module process run as ``python -m <module> <args.json>``: the collection importable."""
    return dict(env, PYTHONPATH=os.pathsep.join(p for p in (collections_path, env.get('PYTHONPATH')) if p))


# --------------------------------------------------------------------------------------------------------------------
# running and timing

def run(argv, env=None, stdin=None, merge_stderr=False):
    """``(seconds, stdout bytes)`` of a command that must succeed; exits with the end of its output otherwise."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdin=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit('benchmark command failed (%s):\n%s%s' % (
            ' '.join(argv), proc.stdout.decode(errors='replace')[-3000:],
            '' if merge_stderr else '\n' + proc.stderr.decode(errors='replace')[-2000:]))
    return elapsed, proc.stdout


def timed(argv, env=None):
    """The seconds a command that must succeed takes (its output, stdout and stderr, shown if it fails)."""
    return run(argv, env=env, merge_stderr=True)[0]


def rotation(items, index):
    """``items`` rotated left by ``index`` (modulo their number): the order of round ``index``, so that over the rounds
    each item runs in each position and machine noise hits every contender alike."""
    shift = index % len(items) if items else 0
    return list(items[shift:]) + list(items[:shift])


def interleave(contenders, rounds, rotate=True):
    """Run each contender (``[(name, callable returning seconds)]``) once per round, in the round's rotation
    (``rotate``) or always in the given order. Returns ``{name: [seconds]}`` (contenders of the same name share
    one list)."""
    times = dict((name, []) for name, dummy in contenders)
    for index in range(rounds):
        for name, contender in rotation(contenders, index) if rotate else contenders:
            times[name].append(contender())
    return times


def int_list(text):
    """An argparse type: comma-separated integers >= 0 (``10,100,500``)."""
    try:
        values = [int(part) for part in text.split(',') if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError('expected comma-separated integers, got %r' % text) from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError('expected comma-separated integers >= 0, got %r' % text)
    return values


def medians(times):
    """``{name: median}`` of ``{name: [seconds]}``."""
    return dict((name, statistics.median(values)) for name, values in times.items())


def ratios(values, base):
    """``{name: value / values[base]}``."""
    return dict((name, value / values[base]) for name, value in values.items())


def load_average():
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(value, 2) for value in os.getloadavg()]


def settle(load, longest):
    """Wait (at most ``longest`` seconds) for the 1-minute load average to fall under ``load``; returns it."""
    deadline = time.monotonic() + longest
    while os.getloadavg()[0] >= load and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def uptime():
    """``uptime``'s line (the load averages, with the time and the users)."""
    return subprocess.run(['uptime'], capture_output=True, text=True, check=False).stdout.strip()


# --------------------------------------------------------------------------------------------------------------------
# files

def write_playbook(path, tasks, hosts='localhost', connection='local'):
    """A play of ``tasks`` (``[(name, module, args)]``, in order) on ``hosts``, without fact gathering, written as
    JSON (which is YAML) to ``path``; returns ``path``."""
    play = {'hosts': hosts, 'gather_facts': False,
            'tasks': [{'name': name, module: module_args} for name, module, module_args in tasks]}
    if connection:
        play['connection'] = connection
    with open(path, 'w', encoding='utf-8') as f:
        json.dump([play], f, indent=1)
        f.write('\n')
    return path


def write_module_args(path, module_args):
    """The JSON arguments file of a module process (``{"ANSIBLE_MODULE_ARGS": ...}``); returns ``path``."""
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': module_args}, f)
    return path


def write_results(name_or_path, report):
    """Write ``report`` as JSON (indented, final newline) to benchmarks/results/<name>.json, or to a path; returns it."""
    path = name_or_path if os.sep in name_or_path else os.path.join(RESULTS, name_or_path + '.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=2)
        f.write('\n')
    return path
