# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the release check's parsers (_release): SemVer strings (parse, print, order), kata-runtime --version output,
and a releases document (JSON) through the whole verdict."""

from __future__ import annotations

import fuzzlib

with fuzzlib.instrumented():
    from ansible_collections.katacontainers.kata.plugins.module_utils import _release
    from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ReleaseCheckError

SEEDS = [
    b'3.0.0', b'v3.1.0-rc0+build.5', b'1.2.3-alpha.1.beta',
    b'kata-runtime  : 3.0.0\n   commit   : e2a8815ba46360acb8bf89a2894b0d437dc8d63a\n   OCI specs: 1.0.2-dev\n',
    b'[{"tag_name": "3.1.0", "prerelease": false, "assets": [{"browser_download_url": '
    b'"https://github.com/kata-containers/kata-containers/releases/download/3.1.0/k.tar.xz", "name": "k.tar.xz", '
    b'"created_at": "2023-02-10T12:00:00Z"}]}, null, {"tag_name": "3.2.0-rc0", "assets": []}]',
]


def test_one_input(data):
    text = fuzzlib.text(data)
    try:
        version = _release.parse_semver(text)
    except ValueError:
        version = None
    if version is not None:
        again = _release.parse_semver(str(version))
        if again != version or again > version or again < version:
            raise AssertionError('SemVer %r printed as %r does not parse back equal' % (text, str(version)))
    _release.parse_runtime_version(text)
    try:
        doc = _release._unpack(data, 'http://mirror/releases')  # pylint: disable=protected-access
    except ReleaseCheckError:
        return
    for include in (False, True):
        releases = _release.valid_releases(doc, include_prereleases=include, download_prefixes=[])
        keys = [_release.parse_semver(r['version']) for r in releases]
        if keys != sorted(keys):
            raise AssertionError('valid_releases is not sorted')
        for current in (None, '0.0.1', '3.0.0', '99.0.0'):
            _release.newer_release(current, releases)


fuzzlib.main(test_one_input, SEEDS)
