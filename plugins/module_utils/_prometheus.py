# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A parser (and a renderer) for the Prometheus text exposition format, version 0.0.4.

This is what a kata shim serves on ``/metrics`` (``serveMetrics`` in kata-containers 3.0.0
``src/runtime/pkg/containerd-shim-v2/shim_management.go``). The grammar and the semantics follow the format's
specification and, where the specification is silent, Go's ``expfmt.TextParser`` (the parser kata-monitor and the
Prometheus Go client use), with these deliberate differences, all on the lenient side:

* CRLF line ends, trailing blanks and a missing final newline are accepted (Go rejects the last two).
* Unknown escape sequences in ``# HELP`` text are kept verbatim (Go rejects them; Python's prometheus_client keeps
  them). In label values they are an error, as in Go: a label value is data, a guess would corrupt it.
* A UTF-8 byte order mark at the start is skipped.

And these, on the strict side (Go silently drops such values; here they are reported as errors):

* a histogram ``<name>_bucket`` sample without an ``le`` label, a bare ``<name>`` sample in a histogram family, and
  a bare ``<name>`` sample without a ``quantile`` label in a summary family.

Result shape (``parse_text``): a list of families in order of first appearance, each
``{'name', 'type', 'help', 'samples': [{'name', 'labels', 'value', 'timestamp'}]}``:

* ``type`` is one of counter, gauge, histogram, summary, untyped (untyped when no ``# TYPE`` line names it);
* ``help`` is the unescaped ``# HELP`` text, ``''`` when there is none;
* samples of histograms and summaries stay flat, under their own names (``x_bucket``, ``x_sum``, ``x_count``, ``x``),
  with ``le`` and ``quantile`` kept in ``labels`` as the text the exporter wrote (for example ``'+Inf'``, ``'0.5'``);
* ``labels`` is a dict of unescaped strings; ``timestamp`` is an int (milliseconds since the epoch) or None;
* ``value`` is a float, except the three values JSON cannot carry, which are the strings ``'NaN'``, ``'+Inf'`` and
  ``'-Inf'`` (what the format itself writes), so that a result survives any JSON round trip unchanged;
* families that are only named by ``# HELP``/``# TYPE`` lines and have no sample are left out (as Go does).

Samples of one family are normally written as one group. Like Go's parser, a sample whose name belongs to a family
seen earlier is added to that family (so interleaved or concatenated expositions still parse); a second ``# HELP``
or ``# TYPE`` line for a family, or a ``# TYPE`` line after the family's first sample, is an error.
"""

from __future__ import annotations

import math
import re

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import KataError
from ansible_collections.katacontainers.kata.plugins.module_utils._text import cut

FAMILY_TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')

METRIC_NAME_PATTERN = r'^[a-zA-Z_:][a-zA-Z0-9_:]*$'
LABEL_NAME_PATTERN = r'^[a-zA-Z_][a-zA-Z0-9_]*$'

EXCERPT_LENGTH = 120

_INF = float('inf')
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# One sample line: name, then either a label set (greedy up to the last '}', since neither the value nor the
# timestamp can contain one) or at least one blank, then the value token and an optional timestamp token.
_SAMPLE_RE = re.compile(
    r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]*\{(.*)\}[ \t]*|[ \t]+)([^ \t]+)(?:[ \t]+([^ \t]+))?\Z')
# One label pair inside the braces, with the comma that may follow it (a trailing comma is allowed).
_LABEL_RE = re.compile(r'[ \t]*([a-zA-Z_][a-zA-Z0-9_]*)[ \t]*=[ \t]*"([^"\\]*(?:\\.[^"\\]*)*)"[ \t]*(?:,|\Z)')
_LABEL_ESCAPE_RE = re.compile(r'\\(.?)')
_HELP_ESCAPE_RE = re.compile(r'\\[\\n]')
# The HELP/TYPE comment: '#', the keyword as its own token, the name token, then the rest of the line.
_META_RE = re.compile(r'#[ \t]*(HELP|TYPE)[ \t]+([^ \t]*)(?:[ \t]+(.*))?\Z')
# The name at the start of each line, after its line end.
_LINE_NAME_RE = re.compile(r'\n[ \t]*([a-zA-Z_:][a-zA-Z0-9_:]*)')
_NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
_LABEL_NAME_RE = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
_FULL_NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
# Go's strconv.ParseFloat, minus hexadecimal floats and underscores (Prometheus' parseFloat rejects 'p' and '_').
_FLOAT_RE = re.compile(
    r'[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?)\Z'
    r'|[nN][aA][nN]\Z')
_INT_RE = re.compile(r'[+-]?[0-9]+\Z')

_LABEL_ESCAPES = {'\\': '\\', '"': '"', 'n': '\n'}
_HELP_ESCAPES = {'\\\\': '\\', '\\n': '\n'}


class MetricsFormatError(KataError):
    """The text is not valid Prometheus text format. ``details``: ``line_number`` (1-based) and ``line``."""


def excerpt(line, length=EXCERPT_LENGTH):
    """The start of ``line`` for an error message, marked when cut (_text.cut)."""
    return cut(line, length)


def _error(number, line, reason):
    return MetricsFormatError(
        'Invalid Prometheus text format at line %d: %s; the line is: %r' % (number, reason, excerpt(line)),
        line_number=number, line=excerpt(line))


def decode(data):
    """Decode an exposition body (UTF-8). Invalid bytes raise MetricsFormatError naming their line."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        number = data.count(b'\n', 0, exc.start) + 1
        start = data.rfind(b'\n', 0, exc.start) + 1
        end = data.find(b'\n', exc.start)
        line = data[start:] if end < 0 else data[start:end]
        raise _error(number, line.decode('utf-8', 'backslashreplace'),
                     'invalid UTF-8 byte %r at column %d' % (data[exc.start:exc.start + 1], exc.start - start + 1)) from None


def parse_float(token):
    """Parse a sample value as Go's ParseFloat does; None when ``token`` is not one (or overflows float64)."""
    if _FLOAT_RE.match(token) is None:
        return None
    value = float(token)
    if (value == _INF or value == -_INF) and token[-1] not in 'fFyY':
        return None  # out of range: Go returns ErrRange, Python would give inf
    return value


def json_value(value):
    """A float as the parser returns it: itself when finite, else 'NaN', '+Inf' or '-Inf'."""
    if value - value == 0:
        return value
    if math.isnan(value):
        return 'NaN'
    return '+Inf' if value > 0 else '-Inf'


def float_value(value):
    """The inverse of json_value: a float for a parsed sample value (float or 'NaN'/'+Inf'/'-Inf')."""
    return float(value)


def _unescape_label(value, number, line):
    def replace(match):
        char = match.group(1)
        try:
            return _LABEL_ESCAPES[char]
        except KeyError:
            raise _error(number, line, 'invalid escape sequence %r in a label value (only \\\\, \\" and \\n are valid)'
                         % ('\\' + char)) from None
    return _LABEL_ESCAPE_RE.sub(replace, value)


def _parse_labels(text, number, line, name):
    labels = {}
    pos = 0
    end = len(text)
    while pos < end:
        match = _LABEL_RE.match(text, pos)
        if match is None:
            rest = text[pos:]
            if not rest.strip(' \t'):
                break
            raise _error(number, line, _label_problem(rest, name))
        label, value = match.group(1, 2)
        if label in labels:
            raise _error(number, line, 'duplicate label name %r for metric %r' % (label, name))
        if label == '__name__':
            raise _error(number, line, 'label name "__name__" is reserved')
        if '\\' in value:
            value = _unescape_label(value, number, line)
        labels[label] = value
        pos = match.end()
    return labels


def _label_problem(rest, name):
    """Explain why the label text ``rest`` (from the first pair that failed) is not valid."""
    stripped = rest.lstrip(' \t')
    label = _LABEL_NAME_RE.match(stripped)
    if stripped.startswith(','):
        return 'empty label pair (stray comma) for metric %r' % name
    if label is None:
        return 'invalid label name at %r for metric %r' % (excerpt(stripped, 30), name)
    after = stripped[label.end():].lstrip(' \t')
    if not after.startswith('='):
        return "expected '=' after label name %r" % label.group(0)
    after = after[1:].lstrip(' \t')
    if not after.startswith('"'):
        return 'expected \'"\' at the start of the value of label %r' % label.group(0)
    closing = re.match(r'"[^"\\]*(?:\\.[^"\\]*)*"', after)
    if closing is None:
        return 'unterminated value of label %r' % label.group(0)
    return "expected ',' or '}' after the value of label %r" % label.group(0)


def _sample_problem(line):
    """Explain why ``line`` (a sample line that did not match the grammar) is not valid."""
    if line.startswith('{'):
        return 'a sample needs a metric name before its labels (quoted metric names are not part of format 0.0.4)'
    match = _NAME_RE.match(line)
    if match is None:
        return 'invalid metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]*)'
    name = match.group(0)
    rest = line[match.end():]
    stripped = rest.lstrip(' \t')
    if stripped.startswith('{'):
        close = _find_label_end(stripped)
        if close < 0:
            return "unterminated label set (no closing '}') for metric %r" % name
        tail = stripped[close + 1:].strip(' \t')
        if not tail:
            return 'missing value after the labels of metric %r' % name
        return 'unexpected text after the timestamp of metric %r' % name
    if not stripped:
        return 'missing value after metric name %r' % name
    if rest[:1] not in (' ', '\t'):
        return 'invalid character %r in metric name %r' % (rest[0], name + rest[0])
    return 'unexpected text after the timestamp of metric %r' % name


def _find_label_end(text):
    """Index of the '}' closing the label set that starts ``text``, outside quoted values; -1 when none."""
    quoted = False
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == '\\':
            escaped = quoted
        elif char == '"':
            quoted = not quoted
        elif char == '}' and not quoted:
            return index
    return -1


class _Family(object):
    __slots__ = ('name', 'type', 'help', 'samples', 'typed', 'helped')

    def __init__(self, name):
        self.name = name
        self.type = None      # set by '# TYPE' or, as untyped, by the first sample
        self.help = None
        self.samples = []
        self.typed = False    # a '# TYPE' line was seen
        self.helped = False   # a '# HELP' line was seen


def _lookup(families, name):
    """The family a sample or comment named ``name`` belongs to (Go's setOrCreateCurrentMF), or None."""
    family = families.get(name)
    if family is not None:
        return family
    if name.endswith('_sum') or name.endswith('_count'):
        family = families.get(name[:-4] if name.endswith('_sum') else name[:-6])
        if family is not None and family.type in ('summary', 'histogram'):
            return family
    elif name.endswith('_bucket'):
        family = families.get(name[:-7])
        if family is not None and family.type == 'histogram':
            return family
    return None


def _family(families, name):
    family = _lookup(families, name)
    if family is None:
        family = families[name] = _Family(name)
    return family


def _parse_meta(families, groups, number, line):
    """Read a ``# HELP``/``# TYPE`` line (``groups``: what _meta returns for it) into ``families``."""
    keyword, name, rest, valid = groups
    if not valid:
        raise _error(number, line, 'invalid metric name %r in the %s comment' % (name, keyword))
    if rest is None:
        return  # '# HELP name' or '# TYPE name' with nothing after: ignored, as in Go
    family = _family(families, name)
    if keyword == 'HELP':
        if family.helped:
            raise _error(number, line, 'second HELP line for metric %r' % family.name)
        family.helped = True
        family.help = _HELP_ESCAPE_RE.sub(lambda m: _HELP_ESCAPES[m.group(0)], rest) if '\\' in rest else rest
        return
    if family.typed:
        raise _error(number, line, 'second TYPE line for metric %r' % family.name)
    if family.samples:
        raise _error(number, line, 'TYPE line for metric %r after its samples' % family.name)
    kind = rest.lower()
    if kind not in FAMILY_TYPES:
        raise _error(number, line, 'unknown metric type %r (expected one of %s)' % (rest, ', '.join(FAMILY_TYPES)))
    family.type = kind
    family.typed = True


def _check_sample(family, name, labels, number, line):
    """Histogram and summary samples must be recognizable as buckets, quantiles, sums or counts."""
    if family.type == 'histogram':
        if name == family.name:
            raise _error(number, line, 'sample %r in histogram %r must be one of %s_bucket, %s_sum, %s_count'
                         % (name, family.name, family.name, family.name, family.name))
        if name == family.name + '_bucket':
            if 'le' not in labels:
                raise _error(number, line, "histogram bucket %r has no 'le' label" % name)
            if parse_float(labels['le']) is None:
                raise _error(number, line, "expected a float as the value of the 'le' label, got %r" % labels['le'])
    elif family.type == 'summary' and name == family.name:
        if 'quantile' not in labels:
            raise _error(number, line, "summary sample %r has no 'quantile' label" % name)
        if parse_float(labels['quantile']) is None:
            raise _error(number, line, "expected a float as the value of the 'quantile' label, got %r"
                         % labels['quantile'])


def parse_text(text, prefixes=None):
    """Parse an exposition (str or bytes) into a list of families; see the module docstring for the shape.

    ``prefixes``: keep only the families whose name starts with one of them (all when empty); the sample lines of
    the other families are never parsed (only their name is read), so text that is not valid in a family that is
    not kept is not an error. Raises MetricsFormatError (line number and excerpt in the message and in ``details``)
    on invalid input.
    """
    return parse_counted(text, prefixes)[0]


def parse_counted(text, prefixes=None, keep_none=False):
    """``(families, counts)``: parse_text's families, and ``{'families', 'samples'}``, how many families and samples
    the text held (kept or not). ``keep_none``: keep no family (every sample line is only counted, never parsed).

    The text is cut at its comment lines into runs of sample lines (one run per family in what Go's encoder writes).
    When some families are not kept, a run whose lines all belong to families that are not kept is counted whole:
    the lines that start with each name of the family named by the last comment (the name and its ``_bucket``,
    ``_sum`` and ``_count`` siblings) are counted, and only when they do not account for every line is each line's
    name read. Every other run is read line by line. Placing a name in a family does not depend on the other names of
    its run (a family made by a sample is untyped, and an untyped family takes only samples of its own name), so both
    ways give the same families, counts and errors.
    """
    if isinstance(text, bytes):
        text = decode(text)
    if text.startswith('\ufeff'):
        text = text[1:]
    if text.endswith('\n'):
        text = text[:-1]  # the empty line after the last line end
    keep = () if keep_none else tuple(prefixes) if prefixes else None
    state = _Counting(keep)
    state.read('\n' + text)  # each line, the first too, after a line end
    kept = [
        {'name': family.name, 'type': family.type, 'help': family.help or '', 'samples': family.samples}
        for family in state.families.values() if family.samples
    ]
    return kept, {'families': len(kept) + len(state.sampled), 'samples': state.found}


# Comment lines already read, in every parse of this process: the line -> what _meta returns. Every sandbox of a node
# sends the same HELP and TYPE lines; the cache holds at most _META_CACHE_ENTRIES lines of _META_CACHE_LINE characters.
_META_CACHE = {}
_META_CACHE_ENTRIES = 4096
_META_CACHE_LINE = 512


def _meta(comment):
    """``(keyword, name, rest, valid)`` of a comment line (``rest`` None when nothing follows the name, ``valid``
    whether the name is a metric name), or False."""
    groups = _META_CACHE.get(comment)
    if groups is None:
        match = _META_RE.match(comment.rstrip(' \t\r').lstrip(' \t'))
        if match is None:
            groups = False
        else:
            groups = match.group(1, 2, 3) + (_FULL_NAME_RE.match(match.group(2)) is not None,)
        if len(comment) <= _META_CACHE_LINE and len(_META_CACHE) < _META_CACHE_ENTRIES:
            _META_CACHE[comment] = groups
    return groups


class _Counting(object):
    """The state of parse_counted: the kept families, the skipped ones (only their name and type are known, to place
    the samples that follow), and how many samples were seen."""

    __slots__ = ('keep', 'families', 'skipped', 'sampled', 'placed', 'found')

    def __init__(self, keep):
        self.keep = keep
        self.families = {}
        self.skipped = {}
        self.sampled = set()  # the names of the skipped families that have samples
        self.placed = {}  # names already placed in a skipped family (the placement cannot change later)
        self.found = 0

    def read(self, text):
        """Read ``text``, which starts with a line end."""
        if self.keep is None or '\n ' in text or '\n\t' in text:
            self._lines(text.split('\n'), 0)
            return
        # No line starts with a blank (Go's encoder writes none): a comment line is what follows '\n#'.
        pieces = text.split('\n#')
        number = self._run(pieces[0], 0, None)  # the number of the line before the current one
        base = None  # the name in the last HELP or TYPE line
        placed = self.placed
        sampled = self.sampled
        for piece in pieces[1:]:
            number += 1
            end = piece.find('\n')
            comment = '#' + (piece if end < 0 else piece[:end])
            groups = _meta(comment)
            if groups:
                keyword, name, rest, valid = groups
                base = name if valid else None
                family = placed.get(name) if rest is not None else None
                if family is None:
                    if not self._skip_meta(groups):
                        _parse_meta(self.families, groups, number, comment.rstrip(' \t\r'))
                elif keyword == 'TYPE' and family.name not in sampled:
                    family.type = rest.strip(' \t').lower()  # what _skip_meta does for a placed name
            if end >= 0:
                number += self._run(piece[end:], number, base)

    def _run(self, run, number, base):
        """Read a run of sample lines (each after its line end, the first line ``number + 1``) that follows comments
        naming ``base`` (None: none); its line count."""
        lines = run.count('\n')
        if not lines:
            return 0
        # The usual run: every line a sample of the family the comments just named, which is not kept.
        if base is not None and run.count('\n' + base + ' ') + run.count('\n' + base + '{') == lines:
            family = self.placed.get(base)
            if family is not None:
                self.sampled.add(family.name)
                self.found += lines
                return lines
        if not self._count_run(run, lines, base):
            self._lines(run.split('\n'), number)
        return lines

    def _skip_meta(self, groups):
        """True when a ``# HELP``/``# TYPE`` line belongs to a family that is not kept (its type is noted, unchecked);
        once placed in a skipped family, a name stays there."""
        keyword, name, rest = groups[:3]
        if rest is None:
            return False
        family = self.placed.get(name)
        if family is None:
            if self.families and _lookup(self.families, name) is not None:
                return False
            family = _lookup(self.skipped, name)
            if family is None:
                if name.startswith(self.keep):
                    return False
                family = self.skipped[name] = _Family(name)
            self.placed[name] = family
        if keyword == 'TYPE' and family.name not in self.sampled:
            family.type = rest.strip(' \t').lower()
        return True

    def place(self, name):
        """The skipped family a sample named ``name`` belongs to, or None when it is parsed (kept)."""
        family = self.placed.get(name)
        if family is None and (not self.families or _lookup(self.families, name) is None):
            family = _lookup(self.skipped, name)
            if family is None and not name.startswith(self.keep):
                family = self.skipped[name] = _Family(name)
                family.type = 'untyped'
            if family is not None:
                self.placed[name] = family
        return family

    def _count_run(self, run, lines, base):
        """Count the ``lines`` sample lines of ``run`` when all belong to skipped families; False when one does not
        (or is blank, or starts with no name): the run is then read line by line."""
        names = _run_names(run, lines, base)
        if names is None:
            return False
        families = []
        for name in names:
            family = self.place(name)
            if family is None:
                return False
            families.append(family.name)
        self.sampled.update(families)
        self.found += lines
        return True

    def _lines(self, lines, number):
        """Read lines one at a time; ``lines[0]`` is what precedes the first line end, ``lines[1]`` is line
        ``number + 1``."""
        keep = self.keep
        families = self.families
        sample_re = _SAMPLE_RE.match
        name_re = _NAME_RE.match
        counted = set()  # sample names placed in a skipped family that is already in ``sampled``
        for number, raw in enumerate(lines[1:], number + 1):
            line = raw.rstrip(' \t\r').lstrip(' \t')
            if not line:
                continue
            if line[0] == '#':
                groups = _meta(line)
                if groups and (keep is None or not self._skip_meta(groups)):
                    _parse_meta(families, groups, number, line)
                continue
            if keep is not None:
                match = name_re(line)
                if match is not None:
                    name = match.group(0)
                    if name in counted:
                        self.found += 1
                        continue
                    family = self.place(name)
                    if family is not None:
                        self.sampled.add(family.name)
                        counted.add(name)
                        self.found += 1
                        continue
            match = sample_re(line)
            if match is None:
                raise _error(number, line, _sample_problem(line))
            name, label_text, value_token, time_token = match.groups()
            value = parse_float(value_token)
            if value is None:
                raise _error(number, line, 'expected a float as the value of %r, got %r' % (name, value_token))
            if time_token is None:
                timestamp = None
            else:
                timestamp = int(time_token) if _INT_RE.match(time_token) is not None else None
                if timestamp is None or not _INT64_MIN <= timestamp <= _INT64_MAX:
                    raise _error(number, line, 'expected an integer timestamp in milliseconds, got %r' % time_token)
            labels = _parse_labels(label_text, number, line, name) if label_text else {}
            family = _lookup(families, name)
            if family is None:
                family = families[name] = _Family(name)
            if family.type is None:
                family.type = 'untyped'
            elif family.type in ('histogram', 'summary'):
                _check_sample(family, name, labels, number, line)
            if value - value != 0:
                value = json_value(value)
            family.samples.append({'name': name, 'labels': labels, 'value': value, 'timestamp': timestamp})
            self.found += 1


def _run_names(run, lines, base):
    """The distinct names of the ``lines`` lines of ``run`` (each after its line end), or None when a line is blank or
    starts with no name.

    The lines that start with ``base`` or its ``_bucket``, ``_sum`` or ``_count`` siblings followed by ``' '`` or
    ``'{'`` (as Go's encoder writes them) are counted first; only when they do not account for every line is each
    line's name read."""
    if base is not None:
        names = []
        seen = 0
        for name in (base, base + '_bucket', base + '_sum', base + '_count'):
            count = run.count('\n' + name + ' ') + run.count('\n' + name + '{')
            if count:
                names.append(name)
                seen += count
                if seen == lines:
                    return names
    names = _LINE_NAME_RE.findall(run)
    return set(names) if len(names) == lines else None


def select_families(families, prefixes):
    """The families whose name starts with one of ``prefixes`` (kata-monitor's ``filter_family``); all when empty."""
    if not prefixes:
        return families
    prefixes = tuple(prefixes)
    return [family for family in families if family['name'].startswith(prefixes)]


def compact(families):
    """The compact shape of parsed families: ``(metrics, info)``.

    ``metrics`` maps each family name to its value when the family is one sample without labels or timestamp (and
    not a histogram or summary), else to ``{'type', 'labels', 'samples'[, 'timestamps']}``: ``labels`` names the
    columns once (``__name__`` first for a histogram or summary, whose samples have their own names), each sample
    is a row of those label values (None where a sample lacks that label) followed by its value, and
    ``timestamps`` (only when a sample has one) holds each row's timestamp or None. ``info`` maps each family name to
    ``{'type', 'help'}``. ``expand(metrics, info)`` gives the families back.
    """
    metrics = {}
    info = {}
    for family in families:
        name = family['name']
        kind = family['type']
        samples = family['samples']
        info[name] = {'type': kind, 'help': family['help']}
        if len(samples) == 1 and kind not in ('histogram', 'summary'):
            sample = samples[0]
            if not sample['labels'] and sample['timestamp'] is None:
                metrics[name] = sample['value']
                continue
        named = kind in ('histogram', 'summary')
        columns = []
        seen = set()
        for sample in samples:
            for label in sample['labels']:
                if label not in seen:
                    seen.add(label)
                    columns.append(label)
        rows = []
        stamped = False
        for sample in samples:
            labels = sample['labels']
            row = [sample['name']] if named else []
            if columns:
                row.extend([labels.get(label) for label in columns])
            row.append(sample['value'])
            rows.append(row)
            if sample['timestamp'] is not None:
                stamped = True
        entry = {'type': kind, 'labels': (['__name__'] + columns) if named else columns, 'samples': rows}
        if stamped:
            entry['timestamps'] = [sample['timestamp'] for sample in samples]
        metrics[name] = entry
    return metrics, info


def expand(metrics, info=None):
    """The families (the parse_text shape) of a compact ``metrics`` dictionary; ``info`` gives the type and help of
    families that are a bare value (untyped without it). Raises ValueError naming what is not of the compact shape."""
    if not isinstance(metrics, dict):
        raise ValueError('the metrics must be a dictionary of families, got %s' % type(metrics).__name__)
    info = info if isinstance(info, dict) else {}
    families = []
    for name, entry in metrics.items():
        about = info.get(name) if isinstance(info.get(name), dict) else {}
        help_text = about.get('help') if isinstance(about.get('help'), str) else ''
        if not isinstance(entry, dict):
            if isinstance(entry, bool) or not isinstance(entry, (int, float, str)):
                raise ValueError('family %s: expected a number or a dictionary, got %s' % (name, type(entry).__name__))
            families.append({'name': name, 'type': about.get('type') or 'untyped', 'help': help_text,
                             'samples': [{'name': name, 'labels': {}, 'value': entry, 'timestamp': None}]})
            continue
        columns = entry.get('labels') or []
        rows = entry.get('samples') or []
        stamps = entry.get('timestamps')
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise ValueError('family %s: "labels" and "samples" must be lists' % name)
        named = bool(columns) and columns[0] == '__name__'
        label_names = columns[1:] if named else columns
        samples = []
        for index, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != len(columns) + 1:
                raise ValueError('family %s: sample %d must be a list of %d label values and the value'
                                 % (name, index, len(columns)))
            values = row[1:-1] if named else row[:-1]
            labels = dict((label, value) for label, value in zip(label_names, values) if value is not None)
            timestamp = stamps[index] if isinstance(stamps, list) and index < len(stamps) else None
            samples.append({'name': row[0] if named else name, 'labels': labels, 'value': row[-1],
                            'timestamp': timestamp})
        families.append({'name': name, 'type': entry.get('type') or about.get('type') or 'untyped',
                         'help': help_text, 'samples': samples})
    return families


def _format_value(value):
    if isinstance(value, str):
        return value
    if value - value != 0:
        return json_value(value)
    if value == int(value) and abs(value) < 1e15:
        return '%d' % value
    return repr(float(value))


def _escape_label(value):
    return value.replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


def render_text(families):
    """Render families (the parse_text shape) back to text format 0.0.4; ``parse_text(render_text(f)) == f``."""
    out = []
    for family in families:
        if family.get('help'):
            out.append('# HELP %s %s\n' % (family['name'], family['help'].replace('\\', '\\\\').replace('\n', '\\n')))
        out.append('# TYPE %s %s\n' % (family['name'], family.get('type') or 'untyped'))
        for sample in family['samples']:
            labels = sample.get('labels')
            if labels:
                head = '%s{%s}' % (sample['name'], ','.join('%s="%s"' % (k, _escape_label(v)) for k, v in labels.items()))
            else:
                head = sample['name']
            timestamp = sample.get('timestamp')
            if timestamp is None:
                out.append('%s %s\n' % (head, _format_value(sample['value'])))
            else:
                out.append('%s %s %d\n' % (head, _format_value(sample['value']), timestamp))
    return ''.join(out)
