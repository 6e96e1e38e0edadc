# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The release check of ``kata-runtime check`` (kata-containers 3.0.0, src/runtime/cmd/kata-runtime/release.go) as data.

What is kata's, reproduced exactly:

- versions are strict SemVer 2.0.0 as blang/semver's ``semver.Make`` parses them (a leading ``v`` is invalid, no
  leading zeros, numbers within 64 bits) and ordered by SemVer precedence (``parse_semver``);
- a release is accepted only with a strict-SemVer ``tag_name``, a non-empty ``assets`` array whose **first** asset has
  a ``browser_download_url`` starting with an accepted prefix, a non-empty ``name`` and a non-empty ``created_at``;
  the date, URL and file name come from that first asset; invalid releases are skipped silently
  (``valid_releases``);
- pre-releases are dropped by the SemVer pre-release part of the tag unless asked for; GitHub's ``prerelease`` flag
  is ignored;
- the one-line verdict and its ``major``/``minor``/``patch``[`` pre-release``]/``pre-release`` wording, including the
  ``major`` kata prints for a final release of the same version as a pre-release (``newer_release``);
- HTTP 403 with ``limit exceeded`` in the body is not an error: no releases, and kata's warning.

Deliberate differences (improvements; docs/kata_behaviour.md, Release check):

- the request has a timeout, a bounded response size, a User-Agent naming the collection and the GitHub JSON media
  type; TLS is verified; any other HTTP error status is an error naming the URL, status and body (kata tries to
  parse the error body as releases); a 429 rate-limit answer is treated like the 403 one;
- ``release_url`` may be any http(s) URL (kata accepts only its two GitHub URLs), for internal mirrors. A mirror's
  assets are not under github.com, so the accepted download prefixes are configurable: by default kata's two GitHub
  prefixes plus ``<scheme>://<host>[:<port>]/`` of a release URL that is not on GitHub
  (``default_download_prefixes``); an explicit list replaces them, and an empty list disables the prefix check;
- duplicated tags are listed once (the last one wins, as in kata's map of details);
- the check runs as root too (kata refuses network checks as root), and works without an installed kata-runtime
  (``current`` is then ``None``, see ``newer_release``);
- the releases URL does not switch to the kata 1.x ``runtime`` repository for a current version 1.x.
"""

from __future__ import annotations

import json
import re
import socket
import time
from urllib.parse import urlsplit

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import ArgumentError, ReleaseCheckError
from ansible_collections.katacontainers.kata.plugins.module_utils._limits import check_timeout
from ansible_collections.katacontainers.kata.plugins.module_utils._text import one_line

DEFAULT_RELEASE_URL = 'https://api.github.com/repos/kata-containers/kata-containers/releases'

# release.go: kataDownloadURL and kataLegacyDownloadURL (plain prefix match, as kata's strings.HasPrefix).
KATA_DOWNLOAD_PREFIXES = (
    'https://github.com/kata-containers/kata-containers/releases/download',
    'https://github.com/kata-containers/runtime/releases/download',
)
_GITHUB_HOSTS = frozenset(('github.com', 'api.github.com'))

USER_AGENT = 'katacontainers.kata-ansible-collection (release check)'
ACCEPT = 'application/vnd.github+json'
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_ERROR_BODY_BYTES = 64 * 1024
_EXCERPT_CHARS = 200
_READ_CHUNK = 64 * 1024
# Larger timeouts overflow the C timeouts of sockets and threads (OverflowError): one year is already absurd.
# The watchdog of fetch_releases fires this long after the timeout: the exchange's own deadlines report first.
_WATCHDOG_GRACE = 0.25

MSG_NO_RELEASES = 'No releases available'
MSG_NO_NEWER_RELEASE = 'No newer release available'
MSG_RATE_LIMIT = ('API rate limit exceeded. Try again later. Read '
                  'https://docs.github.com/apps/building-github-apps/understanding-rate-limits-for-github-apps '
                  'for more information')

_UINT64_MAX = 2 ** 64 - 1
_NUMBERS = frozenset('0123456789')
_ALPHANUM = frozenset('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-')


# --- SemVer ----------------------------------------------------------------------------------------------------------

class SemVer:
    """A strict SemVer 2.0.0 version. Ordering and equality follow SemVer precedence (build metadata ignored).

    ``pre`` is a tuple of identifiers (``int`` for numeric ones, ``str`` otherwise), ``build`` a tuple of strings.
    """

    __slots__ = ('major', 'minor', 'patch', 'pre', 'build')

    def __init__(self, major, minor, patch, pre=(), build=()):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.pre = tuple(pre)
        self.build = tuple(build)

    def __str__(self):
        text = '%d.%d.%d' % (self.major, self.minor, self.patch)
        if self.pre:
            text += '-' + '.'.join(str(p) for p in self.pre)
        if self.build:
            text += '+' + '.'.join(self.build)
        return text

    def __repr__(self):
        return 'SemVer(%r)' % str(self)

    def _key(self):
        # A version without pre-release part ranks above all its pre-releases; numeric identifiers rank below
        # alphanumeric ones; a longer list of identifiers ranks above its prefix (tuple order does that).
        if not self.pre:
            pre = (1,)
        else:
            pre = (0, tuple((0, p, '') if isinstance(p, int) else (1, 0, p) for p in self.pre))
        return (self.major, self.minor, self.patch, pre)

    def __eq__(self, other):
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other):
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() != other._key()

    def __lt__(self, other):
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other):
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other):
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other):
        if not isinstance(other, SemVer):
            return NotImplemented
        return self._key() >= other._key()

    def __hash__(self):
        return hash(self._key())


def _parse_number(text, what):
    if not text or not set(text) <= _NUMBERS:
        raise ValueError('invalid character(s) found in %s %r' % (what, text) if text else '%s is empty' % what)
    if len(text) > 1 and text[0] == '0':
        raise ValueError('%s must not contain leading zeroes %r' % (what, text))
    value = int(text)
    if value > _UINT64_MAX:
        raise ValueError('%s %r is out of range (64 bits)' % (what, text))
    return value


def parse_semver(text):
    """Parse ``text`` as a strict SemVer 2.0.0 version (blang/semver ``Make`` rules) and return a ``SemVer``.

    Raises ``ValueError`` with the reason. Like blang/semver: no leading ``v``, no surrounding spaces, no leading
    zeros in numbers or numeric pre-release identifiers, numbers and numeric identifiers fit in 64 bits, identifiers
    are non-empty ``[0-9A-Za-z-]``.
    """
    if not isinstance(text, str):
        raise ValueError('version must be a string, not %s' % type(text).__name__)
    if not text:
        raise ValueError('version string empty')
    parts = text.split('.', 2)
    if len(parts) != 3:
        raise ValueError('no Major.Minor.Patch elements found')
    major = _parse_number(parts[0], 'major number')
    minor = _parse_number(parts[1], 'minor number')
    rest = parts[2]
    build = []
    pre = []
    if '+' in rest:
        rest, build_text = rest.split('+', 1)
        build = build_text.split('.')
    if '-' in rest:
        rest, pre_text = rest.split('-', 1)
        pre = pre_text.split('.')
    patch = _parse_number(rest, 'patch number')
    pre_ids = []
    for ident in pre:
        if not ident:
            raise ValueError('prerelease identifier is empty')
        if set(ident) <= _NUMBERS:
            pre_ids.append(_parse_number(ident, 'numeric prerelease identifier'))
        elif set(ident) <= _ALPHANUM:
            pre_ids.append(ident)
        else:
            raise ValueError('invalid character(s) found in prerelease identifier %r' % ident)
    for ident in build:
        if not ident:
            raise ValueError('build meta data is empty')
        if not set(ident) <= _ALPHANUM:
            raise ValueError('invalid character(s) found in build meta data %r' % ident)
    return SemVer(major, minor, patch, pre_ids, build)


def _as_semver(value, what):
    if isinstance(value, SemVer):
        return value
    try:
        return parse_semver(value)
    except ValueError as exc:
        raise ArgumentError('%s %r is not a valid SemVer 2.0.0 version: %s' % (what, value, exc)) from exc


_RUNTIME_VERSION_LINE = re.compile(r'^\s*\S+\s*:\s*(\S+)\s*$')


def parse_runtime_version(text):
    """The version in ``kata-runtime --version`` output, or ``None`` when it has none.

    The first line is ``kata-runtime  : 3.0.0`` (name, padding, colon, version). The version must be strict SemVer,
    as kata's own check requires; anything else gives ``None``.
    """
    if not text:
        return None
    match = _RUNTIME_VERSION_LINE.match(text.splitlines()[0])
    if not match:
        return None
    try:
        parse_semver(match.group(1))
    except ValueError:
        return None
    return match.group(1)


# --- releases document -----------------------------------------------------------------------------------------------

def default_download_prefixes(release_url):
    """kata's download prefixes, plus ``<scheme>://<host>[:<port>]/`` of ``release_url`` when it is not on GitHub.

    The mirror prefix ends with ``/`` so that ``https://mirror.example.com.evil.example/`` does not match it; user
    information in the URL is left out.
    """
    prefixes = list(KATA_DOWNLOAD_PREFIXES)
    try:
        parts = urlsplit(release_url)
        host = parts.hostname
        port = parts.port
    except ValueError:  # an invalid port
        return prefixes
    if parts.scheme.lower() in ('http', 'https') and host and host not in _GITHUB_HOSTS:
        if ':' in host:
            host = '[%s]' % host
        prefixes.append('%s://%s%s/' % (parts.scheme.lower(), host, '' if port is None else ':%d' % port))
    return prefixes


def _release_details(release, download_prefixes):
    """kata's makeRelease(): the details of one release object, or None when kata would ignore it."""
    if not isinstance(release, dict):
        return None
    tag = release.get('tag_name')
    if not isinstance(tag, str) or not tag:
        return None
    try:
        version = parse_semver(tag)
    except ValueError:
        return None
    assets = release.get('assets')
    if not isinstance(assets, list) or not assets or not isinstance(assets[0], dict):
        return None
    asset = assets[0]
    url = asset.get('browser_download_url')
    if not isinstance(url, str) or not url:
        return None
    if download_prefixes and not any(url.startswith(prefix) for prefix in download_prefixes):
        return None
    filename = asset.get('name')
    date = asset.get('created_at')
    if not isinstance(filename, str) or not filename or not isinstance(date, str) or not date:
        return None
    return version, dict(version=tag, date=date, url=url, filename=filename)


def valid_releases(doc, include_prereleases=False, download_prefixes=None):
    """The releases kata would consider in a GitHub releases document (a list of release objects).

    Returns ``[{version, date, url, filename}]`` sorted by ascending SemVer precedence (document order among
    versions of equal precedence). ``download_prefixes``: the accepted starts of the first asset's download URL;
    ``None`` means kata's two GitHub prefixes (``KATA_DOWNLOAD_PREFIXES``), an empty list accepts any URL. A tag
    listed twice is kept once, with the details of its last occurrence.
    """
    if download_prefixes is None:
        download_prefixes = KATA_DOWNLOAD_PREFIXES
    by_tag = {}
    order = []
    for release in doc or ():
        found = _release_details(release, download_prefixes)
        if found is None:
            continue
        version, details = found
        if version.pre and not include_prereleases:
            continue
        if details['version'] not in by_tag:
            order.append(details['version'])
        by_tag[details['version']] = (version, details)
    entries = sorted((by_tag[tag] for tag in order), key=lambda entry: entry[0])
    return [details for dummy, details in entries]


# --- verdict ---------------------------------------------------------------------------------------------------------

def release_kind(current, latest):
    """kata's getNewReleaseType(): how ``latest`` differs from the older ``current``.

    ``major``/``minor``/``patch`` when that number grew (checked in this order, so 3.0.2 -> 3.1.0 is ``minor``),
    with `` pre-release`` appended when ``latest`` is a pre-release; ``pre-release`` when only the pre-release part
    differs (3.0.0-rc0 -> 3.0.0-rc1); and ``major`` (sic, kata's wording) for the final release of a pre-release
    (3.0.0-rc1 -> 3.0.0). kata's other branches (an empty word, ``BUG: unhandled scenario``) cannot be reached once
    ``latest > current``, which is required here (``ValueError`` otherwise).
    """
    current = _as_semver(current, 'current version')
    latest = _as_semver(latest, 'latest version')
    if latest <= current:
        raise ValueError('latest version %s is not newer than current version %s' % (latest, current))
    if latest.major > current.major:
        kind = 'major'
    elif latest.minor > current.minor:
        kind = 'minor'
    elif latest.patch > current.patch:
        kind = 'patch'
    elif latest.pre:
        return 'pre-release'
    else:
        return 'major'  # sic: kata calls the final release of a pre-release a major one
    return kind + ' pre-release' if latest.pre else kind


def newer_release(current, releases):
    """kata's check verdict for ``current`` against ``releases`` (the output of ``valid_releases``).

    Returns ``{current, latest, newer_available, kind, url, date, message}``: ``latest`` is the greatest release
    (``None`` when there is none), with its ``url`` and ``date``; ``newer_available`` says whether it is newer than
    ``current``, ``kind`` is then kata's word for it (``release_kind``), else ``None``; ``message`` is exactly kata's
    output line: ``No releases available``, ``No newer release available`` or
    ``Newer <kind> release available: <version> (url: <url>, date: <date>)``.

    ``current`` may be ``None`` (no kata-runtime installed): ``newer_available`` is then false and the message is
    ``Latest release available: <version> (url: <url>, date: <date>)`` (not a kata line: kata always knows its own
    version).
    """
    current_semver = None if current is None else _as_semver(current, 'current version')
    result = dict(current=None if current is None else str(current), latest=None, newer_available=False, kind=None,
                  url=None, date=None, message=MSG_NO_RELEASES)
    latest_semver = None
    latest = None
    for release in releases:
        version = _as_semver(release['version'], 'release version')
        if latest_semver is None or version >= latest_semver:  # the last of equal ones, as kata's sort then [-1]
            latest_semver, latest = version, release
    if latest is None:
        return result
    result.update(latest=latest['version'], url=latest['url'], date=latest['date'])
    if current_semver is None:
        result['message'] = 'Latest release available: %s (url: %s, date: %s)' % (
            latest['version'], latest['url'], latest['date'])
    elif latest_semver > current_semver:
        kind = release_kind(current_semver, latest_semver)
        result.update(newer_available=True, kind=kind, message='Newer %s release available: %s (url: %s, date: %s)' % (
            kind, latest['version'], latest['url'], latest['date']))
    else:
        result['message'] = MSG_NO_NEWER_RELEASE
    return result


# --- fetching --------------------------------------------------------------------------------------------------------

def _excerpt(body):
    return one_line(body, _EXCERPT_CHARS)


def _timeout_error(url, timeout, stage):
    return ReleaseCheckError('failed to %s release details: timed out after %s seconds (url: %s)' % (stage, timeout, url),
                             url=url)


def _read_bounded(response, limit, deadline, url, timeout):
    """Read at most ``limit`` bytes of ``response``; return ``(body, too_large)``.

    ``read1`` returns what has arrived instead of waiting for a full chunk, so the deadline is checked between the
    pieces of a body that trickles in (each read is also bounded by the socket timeout).
    """
    read = getattr(response, 'read1', None) or response.read
    chunks = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise _timeout_error(url, timeout, 'read')
        try:
            chunk = read(_READ_CHUNK)
        except socket.timeout as exc:
            raise _timeout_error(url, timeout, 'read') from exc
        if not chunk:
            return b''.join(chunks), False
        size += len(chunk)
        if size > limit:
            chunks.append(chunk[:len(chunk) - (size - limit)])
            return b''.join(chunks), True
        chunks.append(chunk)


def _unpack(body, url):
    """Decode the releases document: a JSON array of objects (``null`` items allowed, as Go's decoder allows them)."""
    def reject_constant(name):
        raise ValueError('invalid JSON value %s' % name)

    try:
        doc = json.loads(body.decode('utf-8', 'replace'), parse_constant=reject_constant)
    except ValueError as exc:
        raise ReleaseCheckError('failed to unpack release details: %s (url: %s)' % (exc, url), url=url) from exc
    except RecursionError:
        raise ReleaseCheckError('failed to unpack release details: arrays or objects nested too deeply (url: %s)' % url,
                                url=url) from None
    if not isinstance(doc, list):
        what = {dict: 'an object', str: 'a string', bool: 'a boolean', type(None): 'null'}.get(type(doc), 'a number')
        hint = ''
        if isinstance(doc, dict) and isinstance(doc.get('message'), str):
            hint = ' (message: %s)' % doc['message'][:_EXCERPT_CHARS]
        raise ReleaseCheckError('failed to unpack release details: expected a JSON array of releases, got %s%s (url: %s)'
                                % (what, hint, url), url=url)
    for index, item in enumerate(doc):
        if item is not None and not isinstance(item, dict):
            raise ReleaseCheckError('failed to unpack release details: release #%d is %s, expected an object (url: %s)'
                                    % (index, type(item).__name__, url), url=url)
    return doc


def _http_error(exc, url, deadline, timeout):
    """An HTTP error status: kata's rate-limit case (returns ``([], [warning])``), else a ReleaseCheckError."""
    from http.client import HTTPException

    body = b''
    if exc.fp is not None:
        try:
            body = _read_bounded(exc, _ERROR_BODY_BYTES, deadline, url, timeout)[0]
        except (ReleaseCheckError, HTTPException, OSError):
            pass  # the status is the news; a body that cannot be read is left out
        finally:
            exc.close()
    if exc.code in (403, 429) and b'limit exceeded' in body:
        return [], ['%s (url: %s)' % (MSG_RATE_LIMIT, url)]
    excerpt = _excerpt(body)
    raise ReleaseCheckError(
        'failed to get release details: HTTP %d %s%s (url: %s)' % (exc.code, exc.reason, ': ' + excerpt if excerpt else '', url),
        url=url, status=exc.code, body=excerpt)


def fetch_releases(url, timeout=10, validate_certs=True, max_bytes=DEFAULT_MAX_BYTES):
    """GET the releases document at ``url``; return ``(releases, warnings)``.

    ``releases`` is the decoded JSON array (release objects, unfiltered: see ``valid_releases``); ``warnings`` a list
    of texts. Like kata, an HTTP 403 (or 429) whose body contains ``limit exceeded`` gives no releases and kata's
    rate-limit warning. Every other failure raises ``ReleaseCheckError`` naming the URL: transport and TLS errors,
    other HTTP statuses (with ``status`` and a ``body`` excerpt), a response over ``max_bytes``, a timeout, invalid
    JSON, a document that is not an array of objects.

    ``timeout`` bounds the whole exchange: the connection and every read (socket timeout), the reading of the body
    as a whole, and, through a watchdog, everything else (name resolution, a status line and headers sent one byte at a
    time): the call returns within ``timeout`` plus a fraction of a second whatever the server does.
    ``validate_certs=False`` disables TLS verification.
    """
    parts = None
    if isinstance(url, str):
        try:
            parts = urlsplit(url)
            dummy_port = parts.port  # ValueError for a port that is not a number
        except ValueError as exc:
            raise ArgumentError('release URL %r is not valid: %s' % (url, exc)) from None
    if parts is None or parts.scheme.lower() not in ('http', 'https') or not parts.netloc:
        raise ArgumentError('release URL %r is not valid: expected an http:// or https:// URL' % (url,))
    if any(ord(c) <= 0x20 or ord(c) == 0x7f for c in url):
        raise ArgumentError('release URL %r is not valid: it contains white space or control characters' % (url,))
    check_timeout(timeout, 'release_timeout')
    import threading

    outcome = []

    def work():
        try:
            outcome.append((True, _fetch(url, timeout, validate_certs, max_bytes)))
        except BaseException as exc:  # pylint: disable=broad-exception-caught  # handed over to the caller below
            outcome.append((False, exc))

    worker = threading.Thread(target=work, name='kata-release-check')
    worker.daemon = True  # a worker stuck on a trickling server must not keep the module process alive
    worker.start()
    worker.join(timeout + _WATCHDOG_GRACE)
    if not outcome:
        raise _timeout_error(url, timeout, 'get')
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _fetch(url, timeout, validate_certs, max_bytes):
    """fetch_releases' exchange, run in its worker thread."""
    # These are heavy to import (http.client and ssl alone take about 13 ms): only imported when a release check
    # really runs, not by the modules that only parse a version.
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError
    from ansible.module_utils.urls import open_url, ConnectionError as UrlsConnectionError

    deadline = time.monotonic() + timeout
    try:
        response = open_url(url, headers={'Accept': ACCEPT}, timeout=timeout, validate_certs=validate_certs,
                            http_agent=USER_AGENT)
    except HTTPError as exc:
        return _http_error(exc, url, deadline, timeout)
    except URLError as exc:
        if isinstance(exc.reason, socket.timeout):
            raise _timeout_error(url, timeout, 'get') from exc
        raise ReleaseCheckError('failed to get release details: %s (url: %s)' % (exc.reason, url), url=url) from exc
    except socket.timeout as exc:
        raise _timeout_error(url, timeout, 'get') from exc
    except (HTTPException, UrlsConnectionError, OSError, ValueError) as exc:
        raise ReleaseCheckError('failed to get release details: %s (url: %s)' % (str(exc) or type(exc).__name__, url),
                                url=url) from exc

    try:
        status = response.getcode()
        if status != 200:
            raise ReleaseCheckError('failed to get release details: unexpected HTTP status %s (url: %s)' % (status, url),
                                    url=url, status=status)
        length = (response.headers.get('Content-Length') or '').strip()
        if length.isdigit() and int(length) > max_bytes:
            raise ReleaseCheckError('failed to read release details: the response is larger than %d bytes (Content-Length %s)'
                                    ' (url: %s)' % (max_bytes, length, url), url=url)
        try:
            body, too_large = _read_bounded(response, max_bytes, deadline, url, timeout)
        except (HTTPException, OSError) as exc:
            raise ReleaseCheckError('failed to read release details: %s (url: %s)' % (str(exc) or type(exc).__name__, url),
                                    url=url) from exc
        if too_large:
            raise ReleaseCheckError('failed to read release details: the response is larger than %d bytes (url: %s)'
                                    % (max_bytes, url), url=url)
        # read1() ends quietly when the server closes before Content-Length bytes; http.client keeps the count.
        missing = getattr(response, 'length', None)
        if isinstance(missing, int) and missing > 0:
            raise ReleaseCheckError('failed to read release details: the connection was closed %d bytes before the end of '
                                    'the response (url: %s)' % (missing, url), url=url)
    finally:
        response.close()
    return _unpack(body, url), []


def release_check(current_version, url=DEFAULT_RELEASE_URL, include_prereleases=False, timeout=10,
                  validate_certs=True, download_prefixes=None, max_bytes=DEFAULT_MAX_BYTES):
    """The whole release check: fetch, filter, compare with ``current_version`` (a version string or ``None``).

    Returns the ``newer_release`` dict plus ``releases`` (the considered releases, oldest first: ``version``,
    ``date``, ``url``, ``filename``) and ``warnings`` (texts to show the user). ``download_prefixes=None`` means
    ``default_download_prefixes(url)``. An invalid ``current_version`` raises ``ArgumentError`` before any request.
    """
    current = None if current_version is None else _as_semver(current_version, 'current version')
    if download_prefixes is None:
        download_prefixes = default_download_prefixes(url)
    doc, warnings = fetch_releases(url, timeout=timeout, validate_certs=validate_certs, max_bytes=max_bytes)
    releases = valid_releases(doc, include_prereleases=include_prereleases, download_prefixes=download_prefixes)
    result = newer_release(current, releases)
    result['releases'] = releases
    result['warnings'] = warnings
    return result
