# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Driver of kata_metrics: scrape the shim ``/metrics`` endpoint of one, several or all sandboxes and parse it.

kata-runtime ``metrics <id>`` (kata-containers 3.0.0, ``src/runtime/cmd/kata-runtime/kata-metrics.go``) GETs
``http://shim/metrics`` on the sandbox's shim socket with a 3 s timeout and prints the body, whatever the HTTP status.
kata-monitor (``aggregateSandboxMetrics``, ``src/runtime/pkg/kata-monitor/metrics.go``) scrapes every sandbox in
parallel, 3 s each, skips (and logs) the ones that fail, and from 3.2.0 can keep only the families whose name starts
with one of the ``filter_family`` prefixes. This module does both, with these differences (docs/kata_behaviour.md,
Metrics of many sandboxes):

* a non-200 answer is an error, never parsed as metrics (kata-runtime would print the error text as if it were);
* the text is parsed (``_prometheus.parse_counted``), and text that is not valid format 0.0.4 is an error; the
  sample lines of families that ``families`` does not keep are skipped unparsed;
* what comes back follows ``detail``: ``summary`` (the default without ``families`` or ``query``) counts each
  sandbox's families and samples without parsing a sample line; ``compact`` (the default with them) gives each
  sandbox's families in ``_prometheus.compact``'s shape (a value per label-less family, label names once and a row
  per sample otherwise) and their type and help once per result in ``family_info``; ``full`` gives parse_text's list
  of families with a dictionary per sample. The cost of a result is in the number of values Ansible walks
  (``remove_values`` in ``exit_json``) and sends back: ``summary`` has two per sandbox;
* for ``all``, both sandbox roots are listed (kata-monitor 4.1+ does this; 3.0.0 lists only /run/vc/sbs);
* the number of scrapes in flight is bounded (``concurrency``); kata-monitor starts one goroutine per sandbox;
* family names are not rewritten (kata-monitor renames ``go_*``/``process_*`` to ``kata_shim_*`` and adds
  ``sandbox_id``/``cri_*`` labels when it aggregates; here each sandbox's families stay under its own entry).

A single sandbox named as a string fails the task when it cannot be scraped. For a list or ``all``, per-sandbox
failures are collected in ``errors`` and fail the task only with ``strict``.
"""

from __future__ import annotations

import re
import traceback

from ansible_collections.katacontainers.kata.plugins.module_utils._errors import (
    ArgumentError,
    KataError,
    MissingDependencyError,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._limits import check_timeout
from ansible_collections.katacontainers.kata.plugins.module_utils._prometheus import (
    MetricsFormatError,
    compact,
    decode,
    parse_counted,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._sandbox import (
    DEFAULT_RS_SANDBOX_ROOT,
    DEFAULT_SANDBOX_ROOT,
    DEFAULT_TIMEOUT,
    DEFAULT_TRANSPORT,
    client_for,
    list_sandboxes,
    locate_shim_socket,
    validate_sandbox_id,
)
from ansible_collections.katacontainers.kata.plugins.module_utils._text import short_repr

METRICS_PATH = '/metrics'
METRICS_URL = 'http://shim' + METRICS_PATH
ALL = 'all'
DETAILS = ('auto', 'summary', 'compact', 'full')
DEFAULT_DETAIL = 'auto'
DEFAULT_CONCURRENCY = 16
MAX_CONCURRENCY = 128

MAX_QUERY_LENGTH = 65536
_PREFIX_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')


class Selection(object):
    """What ``sandbox_id`` asked for: ``single`` (one string ID), ``all``, else a list of ``ids``."""

    __slots__ = ('ids', 'single', 'all')

    def __init__(self, ids=None, single=False, all_sandboxes=False):
        self.ids = ids or []
        self.single = single
        self.all = all_sandboxes


def parse_selection(value, option='sandbox_id'):
    """Validate ``sandbox_id`` (a string ID, the string ``all``, or a list of IDs) into a Selection.

    In a list, ``all`` is an ID like any other (a sandbox can be named ``all``); duplicates are dropped, the first
    occurrence keeping its place.
    """
    if isinstance(value, str):
        if value == ALL:
            return Selection(all_sandboxes=True)
        _check_not_a_list_string(value, option)
        return Selection([validate_sandbox_id(value, option)], single=True)
    if isinstance(value, (list, tuple)):
        if not value:
            raise ArgumentError('%s: the list of sandbox IDs is empty; give at least one ID, or the string "all"' % option)
        ids = []
        for index, item in enumerate(value):
            name = '%s[%d]' % (option, index)
            if isinstance(item, str):
                _check_not_a_list_string(item, name)
            validate_sandbox_id(item, name)
            if item not in ids:
                ids.append(item)
        return Selection(ids)
    raise ArgumentError('%s: expected a sandbox ID, a list of sandbox IDs or the string "all", got %s %s'
                        % (option, type(value).__name__, short_repr(value)))


def _check_not_a_list_string(value, option):
    if ',' in value:
        raise ArgumentError('%s: invalid sandbox ID %s: IDs cannot contain ","; to scrape several sandboxes, give a '
                            'YAML list of IDs' % (option, short_repr(value)))


def check_prefixes(prefixes, option='families'):
    """The ``families`` prefixes, each the start of a valid metric name; ArgumentError naming the bad one."""
    for index, prefix in enumerate(prefixes or []):
        if not isinstance(prefix, str) or _PREFIX_RE.match(prefix) is None:
            raise ArgumentError('%s[%d]: %s cannot start a metric name (expected letters, digits, "_" and ":", not '
                                'starting with a digit, for example "kata_guest_")' % (option, index, short_repr(prefix)))
    return list(prefixes or [])


def check_concurrency(value, option='concurrency'):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ArgumentError('%s: expected an integer from 1 to %d, got %s' % (option, MAX_CONCURRENCY, short_repr(value)))
    return value


def check_detail(value, option='detail'):
    if value not in DETAILS:
        raise ArgumentError('%s: expected one of %s, got %s' % (option, ', '.join(DETAILS), short_repr(value)))
    return value


def compile_query(expression, option='query'):
    """Compile a JMESPath expression (jmespath is imported here, only when a query is used).

    Expressions longer than MAX_QUERY_LENGTH are refused (jmespath's lexer takes quadratic time: a 1 MiB expression
    takes minutes), and so are expressions nested deeper than its recursive parser can go.
    """
    try:
        import jmespath
        from jmespath import exceptions as jmespath_exceptions
    except ImportError:
        raise MissingDependencyError('jmespath', exception=traceback.format_exc(), reason='for the %s option' % option) from None
    if isinstance(expression, str) and len(expression) > MAX_QUERY_LENGTH:
        raise ArgumentError('%s: the JMESPath expression %s is %d characters long, more than the %d allowed'
                            % (option, short_repr(expression), len(expression), MAX_QUERY_LENGTH))
    try:
        return jmespath.compile(expression)
    except jmespath_exceptions.JMESPathError as exc:
        raise ArgumentError('%s: invalid JMESPath expression %s: %s'
                            % (option, short_repr(expression, 200), _syntax_problem(exc, jmespath_exceptions))) from None
    except RecursionError:
        raise ArgumentError('%s: the JMESPath expression %s is nested too deeply to be parsed'
                            % (option, short_repr(expression))) from None


def _syntax_problem(exc, jmespath_exceptions):
    """jmespath's error as one line (its own message spans lines, with a caret under the position)."""
    if isinstance(exc, jmespath_exceptions.IncompleteExpressionError):
        return 'incomplete expression (it ends at column %d, where more was expected)' % (exc.lex_position + 1)
    if isinstance(exc, jmespath_exceptions.LexerError):
        return '%s at column %d' % (exc.message, exc.lexer_position + 1)
    if isinstance(exc, jmespath_exceptions.ParseError) and isinstance(getattr(exc, 'lex_position', None), int):
        return '%s at column %d (token %r)' % (exc.msg, exc.lex_position + 1, exc.token_value)
    return ' '.join(str(exc).split())


def run_query(compiled, data, option='query'):
    """Apply a compiled JMESPath expression; errors at evaluation (wrong argument types...) name the option."""
    from jmespath import exceptions as jmespath_exceptions
    try:
        return compiled.search(data)
    except jmespath_exceptions.JMESPathError as exc:
        raise ArgumentError('%s: the JMESPath expression failed on the result: %s'
                            % (option, ' '.join(str(exc).split()))) from None
    except RecursionError:
        raise ArgumentError('%s: the JMESPath expression is nested too deeply to be applied' % option) from None


def resolve_targets(selection, sandbox_root=DEFAULT_SANDBOX_ROOT, rs_sandbox_root=DEFAULT_RS_SANDBOX_ROOT,
                    shim_socket=None):
    """The sandboxes to scrape: ``[{'id', 'socket', 'runtime', 'error'}]``.

    ``error`` is set (and ``socket`` None) for a listed ID whose socket cannot be found; for a single ID that error is
    raised instead. ``shim_socket`` is only allowed with a single ID.
    """
    if shim_socket and not selection.single:
        raise ArgumentError('shim_socket can only be used with a single sandbox_id (given as a string), not with a '
                            'list of IDs or "all"')
    if selection.all:
        return [dict(entry, error=None) for entry in list_sandboxes(sandbox_root, rs_sandbox_root)]
    targets = []
    for sandbox_id in selection.ids:
        try:
            path, runtime = locate_shim_socket(sandbox_id, sandbox_root, rs_sandbox_root, shim_socket)
        except KataError as exc:
            if selection.single:
                raise
            targets.append({'id': sandbox_id, 'socket': None, 'runtime': None, 'error': exc.msg})
        else:
            targets.append({'id': sandbox_id, 'socket': path, 'runtime': runtime, 'error': None})
    return targets


def scrape(target, timeout=DEFAULT_TIMEOUT, transport=DEFAULT_TRANSPORT, prefixes=None, raw=False, detail='full'):
    """Scrape and parse one sandbox: ``{'id', 'socket', 'runtime', 'families'[, 'raw']}`` (``detail='full'``) or
    ``{'id', 'socket', 'runtime', 'metrics'[, 'raw']}`` (``detail='compact'``, the family info left out).

    Raises ShimError (transport error, timeout, non-200 answer) or MetricsFormatError (naming the socket and line).
    """
    entry = _scrape(target, timeout, transport, prefixes, raw, detail)[0]
    entry.pop('info', None)
    return entry


def _scrape(target, timeout, transport, prefixes, raw, detail='compact'):
    """``(entry, empty)``: ``empty`` is True when the answer held no metrics at all (before the prefix filter);
    in compact detail, ``entry['info']`` holds the families' type and help (collect_metrics moves it)."""
    body = client_for(target['socket'], target['id'], target.get('runtime'), timeout, transport).get(METRICS_PATH)
    try:
        text = decode(body)
        families, counts = parse_counted(text, prefixes, keep_none=detail == 'summary')
    except MetricsFormatError as exc:
        raise MetricsFormatError('GET %s via %s: the answer is not Prometheus text: %s'
                                 % (METRICS_URL, target['socket'], exc.msg), url=METRICS_URL, **exc.details) from None
    entry = {'id': target['id'], 'socket': target['socket'], 'runtime': target['runtime']}
    if detail == 'full':
        entry['families'] = families
    elif detail == 'compact':
        entry['metrics'], entry['info'] = compact(families)
    else:
        entry['family_count'] = counts['families']
        entry['sample_count'] = counts['samples']
    if raw:
        entry['raw'] = text
    return entry, not counts['samples']


def _scrape_or_error(target, options):
    """``(entry, empty, None)`` or ``(None, False, message)``; only KataError is caught (a bug stays loud)."""
    if target['error']:
        return None, False, target['error']
    try:
        return _scrape(target, **options) + (None,)
    except KataError as exc:
        return None, False, exc.msg


def scrape_many(targets, concurrency=DEFAULT_CONCURRENCY, timeout=DEFAULT_TIMEOUT, transport=DEFAULT_TRANSPORT,
                prefixes=None, raw=False, detail='compact'):
    """Scrape ``targets`` with at most ``concurrency`` scrapes in flight.

    Returns ``[(target, entry, empty, error)]`` in the order of ``targets``; ``entry`` is None when ``error`` is set.
    """
    options = dict(timeout=timeout, transport=transport, prefixes=prefixes, raw=raw, detail=detail)
    if len(targets) <= 1 or concurrency == 1:
        return [(t,) + _scrape_or_error(t, options) for t in targets]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(concurrency, len(targets))) as pool:
        outcomes = list(pool.map(lambda t: _scrape_or_error(t, options), targets))
    return [(t,) + outcome for t, outcome in zip(targets, outcomes)]


def collect_metrics(params, warn=None):
    """The kata_metrics result for module parameters ``params`` (see the module's RETURN)."""
    selection = parse_selection(params.get('sandbox_id'))
    prefixes = check_prefixes(params.get('families'))
    concurrency = check_concurrency(params.get('concurrency', DEFAULT_CONCURRENCY))
    timeout = check_timeout(params.get('timeout', DEFAULT_TIMEOUT))
    detail = check_detail(params.get('detail') or DEFAULT_DETAIL)
    query = params.get('query')
    if detail == 'auto':
        # The metrics come back when the task says which it wants (families) or will pick from them (query).
        detail = 'compact' if prefixes or query is not None else 'summary'
    compiled = compile_query(query) if query is not None else None
    targets = resolve_targets(selection, params.get('sandbox_root') or DEFAULT_SANDBOX_ROOT,
                              params.get('rs_sandbox_root') or DEFAULT_RS_SANDBOX_ROOT, params.get('shim_socket'))

    transport = params.get('transport') or DEFAULT_TRANSPORT
    raw = bool(params.get('raw'))
    if selection.single:
        # One sandbox named as a string: its failure is the task's failure, with the shim's error.
        outcomes = [(targets[0],) + _scrape(targets[0], timeout, transport, prefixes, raw, detail) + (None,)]
    else:
        outcomes = scrape_many(targets, concurrency, timeout=timeout, transport=transport, prefixes=prefixes, raw=raw,
                               detail=detail)

    sandboxes = []
    errors = {}
    family_info = {}
    for target, entry, empty, error in outcomes:
        if error is not None:
            errors[target['id']] = error
            continue
        if empty and warn is not None:
            warn('sandbox %s: the shim answered /metrics without any metric (kata 3.0.0 answers with an empty body '
                 'when gathering its metrics fails)' % entry['id'])
        if detail == 'compact':
            for name, about in entry.pop('info').items():
                family_info.setdefault(name, about)  # the first sandbox that has a family describes it
        sandboxes.append(entry)

    result = {'changed': False, 'sandboxes': sandboxes, 'errors': errors, 'scraped': len(sandboxes),
              'failures': len(errors)}
    if detail == 'compact':
        result['family_info'] = family_info
    if compiled is not None:
        seen = dict(result)
        del seen['changed']
        result['query_result'] = run_query(compiled, seen)
        result.pop('family_info', None)
        # The query is how a play trims the result: do not send every family back as well.
        result['sandboxes'] = [dict((k, s[k]) for k in ('id', 'socket', 'runtime')) for s in sandboxes]
    if errors and params.get('strict'):
        result['failed'] = True
        result['msg'] = '%d of %d sandboxes could not be scraped (strict is true): %s' % (
            len(errors), len(outcomes), '; '.join('%s: %s' % item for item in errors.items()))
    return result


def metrics_module(module):
    """The work function of kata_metrics (for _module.run)."""
    pod = None
    if module.params.get('pod') is not None:
        # Imported here: a task that names its sandboxes by ID does not pay for the pod lookup.
        from ansible_collections.katacontainers.kata.plugins.module_utils._pods import apply_pod, pod_result

        pod = pod_result(apply_pod(module.params))
    result = collect_metrics(module.params, module.warn)
    if pod is not None:
        result['pod'] = pod
    return result
