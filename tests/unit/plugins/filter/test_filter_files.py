# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every file in plugins/filter holds exactly one filter, named like the file, with its documentation inline.

ansible-doc finds a filter's documentation through the file of the same name, and galaxy-importer lists one filter per
file of plugins/filter: a file named otherwise (one holding several filters) shows up there as an undocumented filter,
and a documentation sidecar (``<name>.yml``) beside a ``<name>.py`` lists the filter twice. Shared code lives in
plugins/plugin_utils.
"""

from __future__ import annotations

import importlib
import os

import pytest
import yaml

FILTER_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'filter')
FILTER_FILES = sorted(name for name in os.listdir(FILTER_DIR) if not name.startswith(('.', '__')))
FILTERS = [name[:-3] for name in FILTER_FILES if name.endswith('.py')]
# The filters added after the first release.
VERSION_ADDED = {'debug_bundle_command_errors': '0.2.0'}


def test_only_python_files():
    assert FILTER_FILES == [name + '.py' for name in FILTERS]
    assert FILTERS == ['debug_bundle_command_errors', 'metrics_summary', 'preflight_html', 'preflight_markdown',
                       'preflight_report', 'preflight_verdict', 'prometheus_parse', 'prometheus_textfile']


@pytest.mark.parametrize('name', FILTERS)
def test_one_documented_filter_per_file(name):
    module = importlib.import_module('ansible_collections.katacontainers.kata.plugins.filter.' + name)
    filters = module.FilterModule().filters()
    assert list(filters) == [name]
    assert callable(filters[name])
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert documentation['name'] == name
    assert documentation['short_description']
    assert documentation['version_added'] == VERSION_ADDED.get(name, '0.1.0')
    assert '_input' in documentation['options']
    assert 'katacontainers.kata.' + name in module.EXAMPLES
    assert '_value' in yaml.safe_load(module.RETURN)
