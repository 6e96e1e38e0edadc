# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The repository stands on its own: no reference leaves it, and its documentation links resolve.

* No file names a document that lives outside the repository (design notes, specifications and fixtures that were
  once kept beside the checkout). Comments cite the upstream source instead (repository, tag, file, function) or the
  project's own pages under docs/.
* Every relative link of the Markdown pages a reader follows (README.md, docs/*.md, roles/*/README.md,
  tests/**/README.md) points to a file or directory that exists, and a ``#fragment`` into a Markdown page names one
  of its headings.
* Every citation of docs/kata_behaviour.md in the form "<page>, <heading>" names a heading of that page.

The files are those git knows (tracked, or new and not ignored) when the tree is a git checkout, otherwise every file
under the root except build and cache directories (the copy ansible-test runs in has no .git).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Built from pieces so that this file does not name them itself.
FORBIDDEN = (
    'KATA' + '_SPEC',
    'TOOLING' + '.md',
    'STYLE' + '_ANCHORS',
    '..' + '/shared',
    'shared/' + 'fixtures',
    'shared/' + 'docs',
    '/work/' + 'shared',
)

# What os.walk skips when there is no git: the entries of .gitignore and the version-control directory.
SKIP_DIRS = {'.git', '.venv', '.ansible', 'build', '__pycache__', '.pytest_cache', '.hypothesis', '.mypy_cache'}
SKIP_PATHS = {os.path.join('tests', 'output'), os.path.join('tests', 'integration', 'inventory'),
              os.path.join('benchmarks', 'results')}
SKIP_SUFFIXES = ('.pyc', '.tar.gz')

BEHAVIOUR_PAGE = 'docs/kata_behaviour.md'


def _git_files(root):
    if not os.path.isdir(os.path.join(root, '.git')) or not shutil.which('git'):
        return None
    try:
        out = subprocess.run(['git', '-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             check=True, capture_output=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # Deleted but not yet committed files are still listed by --cached: keep only what is there.
    return sorted({p for p in out.decode('utf-8', 'surrogateescape').split('\0')
                   if p and os.path.isfile(os.path.join(root, p))})


def _walked_files(root):
    found = []
    for top, dirs, files in os.walk(root):
        rel_top = os.path.relpath(top, root)
        dirs[:] = sorted(d for d in dirs
                         if d not in SKIP_DIRS and os.path.normpath(os.path.join(rel_top, d)) not in SKIP_PATHS)
        for name in files:
            if not name.endswith(SKIP_SUFFIXES):
                found.append(os.path.normpath(os.path.join(rel_top, name)))
    return sorted(found)


def repository_files(root=ROOT):
    """The repository's files, relative to ``root``."""
    files = _git_files(root)
    return files if files is not None else _walked_files(root)


def _read_text(root, rel):
    """The file's text, or None for a binary file (one with a NUL byte) or a special file."""
    path = os.path.join(root, rel)
    if os.path.islink(path) or not os.path.isfile(path):
        return None
    with open(path, 'rb') as f:
        data = f.read()
    if b'\0' in data:
        return None
    return data.decode('utf-8', 'replace')


def outside_references(root=ROOT):
    """``['<file>:<line>: <pattern>', ...]`` for every mention of a document outside the repository."""
    problems = []
    for rel in repository_files(root):
        text = _read_text(root, rel)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for pattern in FORBIDDEN:
                if pattern in line:
                    problems.append('%s:%d: %s' % (rel, number, pattern))
    return problems


_FENCE_RE = re.compile(r'^(```|~~~).*?^\1[^\n]*$', re.M | re.S)
_CODE_SPAN_RE = re.compile(r'(`+)(?:(?!\1).)+?\1', re.S)
_INLINE_LINK_RE = re.compile(r'!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
_REFERENCE_RE = re.compile(r'^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$', re.M)
_SCHEME_RE = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:')
_HEADING_RE = re.compile(r'^#{1,6}\s+(.+?)\s*#*\s*$', re.M)


def markdown_headings(text):
    """The headings of a Markdown text, code blocks left out."""
    return [h.strip() for h in _HEADING_RE.findall(_FENCE_RE.sub('', text))]


def heading_slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped (``-`` and ``_`` kept), spaces to ``-``."""
    text = re.sub(r'`', '', heading).strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def markdown_links(text):
    """The link targets of a Markdown text, code blocks and code spans left out."""
    text = _CODE_SPAN_RE.sub('', _FENCE_RE.sub('', text))
    return _INLINE_LINK_RE.findall(text) + _REFERENCE_RE.findall(text)


def markdown_pages(root=ROOT):
    """The Markdown pages a reader follows links in, relative to ``root``."""
    patterns = ('README.md', os.path.join('docs', '*.md'), os.path.join('roles', '*', 'README.md'),
                os.path.join('tests', '**', 'README.md'))
    pages = set()
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            rel = os.path.relpath(path, root)
            if not rel.startswith(os.path.join('tests', 'output') + os.sep):
                pages.add(rel)
    return sorted(pages)


def broken_links(root=ROOT):
    """``['<page>: <target> (<why>)', ...]`` for every relative link that does not resolve."""
    problems = []
    for page in markdown_pages(root):
        text = _read_text(root, page) or ''
        for target in markdown_links(text):
            if _SCHEME_RE.match(target) or target.startswith('//'):
                continue
            path_part, fragment = (target.split('#', 1) + [''])[:2]
            path_part = path_part.split('?', 1)[0]
            if path_part.startswith('/'):
                problems.append('%s: %s (absolute path: breaks outside this checkout)' % (page, target))
                continue
            resolved = os.path.normpath(os.path.join(root, os.path.dirname(page), path_part)) if path_part \
                else os.path.join(root, page)
            if os.path.relpath(resolved, root).startswith(os.pardir):
                problems.append('%s: %s (leaves the repository)' % (page, target))
            elif not os.path.exists(resolved):
                problems.append('%s: %s (no such file)' % (page, target))
            elif fragment and resolved.endswith('.md') and os.path.isfile(resolved):
                slugs = {heading_slug(h) for h in markdown_headings(_read_text(root, os.path.relpath(resolved, root)))}
                if fragment not in slugs:
                    problems.append('%s: %s (no such heading)' % (page, target))
    return problems


_CITATION_RE = re.compile(re.escape(BEHAVIOUR_PAGE) + r',\s+((?:.|\n){1,300})')
_CONTINUATION_RE = re.compile(r'\s*\n\s*(?:#|//|\*)?\s*')


def unknown_citations(root=ROOT):
    """``['<file>: <cited text>', ...]`` for every citation "<page>, <heading>" of the page naming no heading."""
    with open(os.path.join(root, BEHAVIOUR_PAGE), encoding='utf-8') as f:
        headings = markdown_headings(f.read())
    problems = []
    for rel in repository_files(root):
        if rel == BEHAVIOUR_PAGE:
            continue
        text = _read_text(root, rel)
        if text is None or BEHAVIOUR_PAGE not in text:
            continue
        for match in _CITATION_RE.finditer(text):
            cited = _CONTINUATION_RE.sub(' ', match.group(1)).strip()
            if not any(cited.startswith(h) for h in headings):
                problems.append('%s: %s' % (rel, cited[:60]))
    return problems


def test_no_reference_leaves_the_repository():
    problems = outside_references()
    assert not problems, 'documents outside the repository are cited:\n' + '\n'.join(problems)


def test_relative_markdown_links_resolve():
    assert 'README.md' in markdown_pages()
    problems = broken_links()
    assert not problems, 'broken links:\n' + '\n'.join(problems)


def test_behaviour_page_citations_name_a_heading():
    problems = unknown_citations()
    assert not problems, 'citations of %s name no heading:\n%s' % (BEHAVIOUR_PAGE, '\n'.join(problems))


# The checks themselves, on a small tree made for them: each must find what it is there to find.

def _tree(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode('utf-8'))
    return str(tmp_path)


@pytest.mark.parametrize('pattern', FORBIDDEN)
def test_each_outside_reference_is_found(tmp_path, pattern):
    root = _tree(tmp_path, {
        'plugins/module_utils/_x.py': '"""Clean."""\n\n# see %s for details\n' % pattern,
        'docs/ok.md': '# Fine\n',
    })
    assert outside_references(root) == ['%s:3: %s' % (os.path.join('plugins', 'module_utils', '_x.py'), pattern)]


def test_walk_skips_build_and_cache_directories_and_binary_files(tmp_path):
    bad = FORBIDDEN[0]
    root = _tree(tmp_path, {
        '.venv/lib/x.py': bad, 'tests/output/junk.txt': bad, '.hypothesis/x': bad, 'build/y': bad,
        'plugins/__pycache__/x.txt': bad, 'data.bin': b'\0' + bad.encode(), 'tests/unit/ok.py': 'fine\n',
    })
    assert _git_files(root) is None
    assert outside_references(root) == []
    assert repository_files(root) == ['data.bin', os.path.join('tests', 'unit', 'ok.py')]


def test_git_checkout_lists_tracked_and_new_files_but_not_ignored_ones(tmp_path):
    if not shutil.which('git'):
        pytest.fail('git is needed by this test (and is installed by the Makefile deps)')
    bad = FORBIDDEN[1]
    root = _tree(tmp_path, {'.gitignore': 'ignored/\n', 'ignored/x.md': bad, 'tracked.md': 'ok\n', 'new.md': bad})
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM='1')
    subprocess.run(['git', '-C', root, 'init', '-q'], check=True, env=env)
    subprocess.run(['git', '-C', root, 'add', 'tracked.md', '.gitignore'], check=True, env=env)
    assert repository_files(root) == ['.gitignore', 'new.md', 'tracked.md']
    assert outside_references(root) == ['new.md:1: %s' % bad]


def test_broken_links_are_found(tmp_path):
    root = _tree(tmp_path, {
        'README.md': ('# Title\n\n## Second part\n\n[ok](docs/page.md) [dir](roles/) [web](https://example.com/x.md)\n'
                      '[self](#second-part) [gone](docs/missing.md) [bad anchor](docs/page.md#nowhere)\n'
                      '[up](../outside.md) [abs](/etc/passwd) `[code](not/a/link.md)`\n\n'
                      '```\n[fenced](not/a/link.md)\n```\n\n[ref]: docs/also-missing.md\n'),
        'docs/page.md': '# Page\n\n[back](../README.md#title) [there](#page)\n',
        'roles/r/README.md': '# r\n\n[doc](../../docs/page.md#page) [no](../../docs/nope.md)\n',
        'tests/sim/README.md': '# sim\n\n[x](../../README.md#second-part) [y](missing.py)\n',
    })
    assert broken_links(root) == [
        'README.md: docs/missing.md (no such file)',
        'README.md: docs/page.md#nowhere (no such heading)',
        'README.md: ../outside.md (leaves the repository)',
        'README.md: /etc/passwd (absolute path: breaks outside this checkout)',
        'README.md: docs/also-missing.md (no such file)',
        '%s: ../../docs/nope.md (no such file)' % os.path.join('roles', 'r', 'README.md'),
        '%s: missing.py (no such file)' % os.path.join('tests', 'sim', 'README.md'),
    ]


def test_heading_slugs_follow_github():
    assert heading_slug('unrestricted_guest on Intel bare metal') == 'unrestricted_guest-on-intel-bare-metal'
    assert heading_slug('`kata_env` and KVM: the 3.0.0 way') == 'kata_env-and-kvm-the-300-way'


def test_citations_of_unknown_headings_are_found(tmp_path):
    root = _tree(tmp_path, {
        BEHAVIOUR_PAGE: '# Page\n\n## Release check\n\n### Where the collection deliberately differs from kata\n',
        'a.py': '"""Text (docs/kata_behaviour.md, Release check)."""\n',
        'b.yml': '# kata (docs/kata_behaviour.md, Where the collection deliberately\n# differs from kata).\n',
        'c.py': '# see docs/kata_behaviour.md, Releases\n',
    })
    assert unknown_citations(root) == ['c.py: Releases']
