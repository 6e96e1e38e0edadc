# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet readiness report of the ``katacontainers.kata.preflight`` role (controller side): its data, the
implementation of the filters plugins/filter/preflight_verdict.py and preflight_report.py (each file holds one filter
and its documentation).

- ``preflight_verdict``: one host's verdict, from the registered results of kata_check and kata_env (an
  unreachable or failed result included) and the host's policy.
- ``preflight_report``: the fleet report, from the verdicts stored as host facts (hosts that never got one are
  reported as failed, or as pending while a ``serial`` run has not reached them).

Its Markdown and HTML are templates of the role, rendered by plugins/plugin_utils/_preflight_render.py. The report
format (``format: 1``) is documented in roles/preflight/README.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

REPORT_FORMAT = 1
GENERATOR = 'katacontainers.kata.preflight'

STATUSES = ('capable', 'not_capable', 'unreachable', 'failed')

# States of one check on one host.
STATES = ('ok', 'fail', 'warn', 'waived', 'untested')

POLICY_KEYS = ('required_hypervisor', 'min_kernel', 'min_kata_version', 'require_vm_creation', 'require_vhost_vsock',
               'waived_checks')
# The role variable behind each policy key, named in reasons and errors.
POLICY_VARIABLES = dict((key, 'kata_preflight_' + key) for key in POLICY_KEYS)
RUNTIMES_VARIABLE = 'kata_preflight_runtimes'

# The rows the verdict adds to kata's checks, and their labels in the matrix.
VM_CREATION = 'vm_creation'
EXTRA_COLUMNS = {
    VM_CREATION: ('VM creation', 'A KVM virtual machine could be created (the KVM test of kata-runtime check, as root)'),
    'policy_hypervisor': ('policy: hypervisor', 'The configured hypervisor is the one the policy requires'),
    'policy_kernel': ('policy: kernel', 'The host kernel is at least the version the policy requires'),
    'policy_kata_version': ('policy: Kata version', 'The installed Kata Containers is at least the version the policy requires'),
    'handler_config': ('handler configuration', "The runtime handler's Kata configuration file exists"),
}
HANDLER_CONFIG = 'handler_config'

# The statuses of one runtime handler of a host (the default configuration of a host without handlers included).
HANDLER_STATUSES = ('capable', 'not_capable', 'failed')
# The worst state of a check across the runtime handlers of a host comes first.
_STATE_ORDER = ('fail', 'waived', 'warn', 'untested', 'ok')

_VERSION_RE = re.compile(r'^\s*v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?')


# --------------------------------------------------------------------------------------------------------------
# small helpers

def _get(data, *path):
    """``data[path[0]][path[1]]...``, or None as soon as a level is missing or not a mapping."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _text(value):
    return None if value is None else str(value)


def _is_str(value):
    return isinstance(value, str)


def _mapping_or_none(value, what):
    if value is None or isinstance(value, Mapping):
        return value
    raise AnsibleFilterError('%s must be a dictionary (a registered task result), got %s' % (what, type(value).__name__))


def _parse_version(value, what):
    """(numbers tuple, is_release) of a version like ``6.1.0-18-amd64`` or ``3.2.0-rc0``; AnsibleFilterError if none."""
    match = _VERSION_RE.match(str(value)) if value is not None else None
    if not match:
        raise AnsibleFilterError('%s: %r is not a version; expected numbers separated by dots, like 5.10 or 3.2.0'
                                 % (what, value))
    return tuple(int(part) for part in match.group(1).split('.')), match.group(2) is None


def _version_tuple(value):
    """Like _parse_version, or None for a value that has no leading version."""
    try:
        return _parse_version(value, 'version')
    except AnsibleFilterError:
        return None


def version_at_least(found, minimum, kernel=False):
    """Whether version ``found`` is at least ``minimum`` (numeric components, missing ones count as 0).

    For a Kata (SemVer) version a pre-release is older than its release (``3.2.0-rc0`` < ``3.2.0``); for a kernel
    release the suffix is a build tag (``6.1.0-18-amd64`` is 6.1.0). Returns None when ``found`` has no version.
    """
    want = _parse_version(minimum, 'minimum version')
    have = _version_tuple(found)
    if have is None:
        return None
    width = max(len(have[0]), len(want[0]))
    have_numbers = have[0] + (0,) * (width - len(have[0]))
    want_numbers = want[0] + (0,) * (width - len(want[0]))
    if have_numbers != want_numbers:
        return have_numbers > want_numbers
    if kernel:
        return True
    return have[1] or not want[1]


# --------------------------------------------------------------------------------------------------------------
# policy

def normalize_policy(policy):
    """Validate the policy dict (the role's ``kata_preflight_*`` policy variables) and fill in the defaults."""
    policy = _mapping_or_none(policy, 'policy') or {}
    unknown = sorted(set(policy) - set(POLICY_KEYS))
    if unknown:
        raise AnsibleFilterError('policy: unknown key(s) %s; expected %s' % (', '.join(unknown), ', '.join(POLICY_KEYS)))
    result = dict(required_hypervisor=None, min_kernel=None, min_kata_version=None, require_vm_creation=False,
                  require_vhost_vsock=False, waived_checks=[])
    for key in ('required_hypervisor', 'min_kernel', 'min_kata_version'):
        value = policy.get(key)
        if value is None or value == '':
            continue
        if not _is_str(value):
            value = str(value)
        if key != 'required_hypervisor':
            _parse_version(value, POLICY_VARIABLES[key])
        result[key] = value
    for key in ('require_vm_creation', 'require_vhost_vsock'):
        value = policy.get(key)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise AnsibleFilterError('%s: %r is not a boolean' % (POLICY_VARIABLES[key], value))
        result[key] = value
    waived = policy.get('waived_checks')
    if waived is not None:
        if _is_str(waived) or not isinstance(waived, Sequence) or not all(_is_str(x) for x in waived):
            raise AnsibleFilterError('%s: expected a list of check names, got %r' % (POLICY_VARIABLES['waived_checks'], waived))
        result['waived_checks'] = sorted(set(str(x) for x in waived))
    return result


# --------------------------------------------------------------------------------------------------------------
# one host

def _facts(check, env_facts):
    host = _get(env_facts, 'host') or {}
    distro = _get(host, 'distro')
    distro_text = None
    if isinstance(distro, Mapping) and distro.get('name'):
        distro_text = ' '.join(str(x) for x in (distro.get('name'), distro.get('version')) if x)
    memory_total = _get(host, 'memory', 'total')
    return dict(
        arch=_text(_get(check, 'arch') or _get(host, 'architecture')),
        kernel=_text(_get(host, 'kernel')),
        distro=distro_text,
        cpu_vendor=_text(_get(host, 'cpu', 'vendor') or _get(check, 'cpu_vendor')),
        cpu_model=_text(_get(host, 'cpu', 'model')),
        cpus=_get(host, 'cpu', 'cpus'),
        memory_total_kb=memory_total if memory_total else None,
        hypervisor=_text(_get(check, 'hypervisor')),
        hypervisor_path=_text(_get(env_facts, 'hypervisor', 'path')) or None,
        hypervisor_version=_text(_get(env_facts, 'hypervisor', 'version')) or None,
        kata_version=_text(_get(env_facts, 'runtime', 'version', 'version', 'semver')) or None,
        kata_runtime=_text(_get(env_facts, 'runtime', 'path')) or None,
        config=_text(_get(check, 'config', 'path')),
        support_vsocks=_get(host, 'support_vsocks'),
        guest_protections=_get(host, 'available_guest_protections'),
        kvm_api_version=_get(check, 'kvm', 'api_version'),
    )


def _reason(row):
    text = '%s (%s): %s' % (row['name'], row['description'], row['detail']) if row.get('description') else \
        '%s: %s' % (row['name'], row['detail'])
    if row.get('found') is not None or row.get('expected') is not None:
        text += ' (found %s, expected %s)' % (row.get('found') if row.get('found') is not None else 'nothing',
                                              row.get('expected'))
    return text


def _kata_rows(check, policy):
    """The verdict's rows for kata's own checks, with their state; reasons for the failing ones."""
    rows = []
    reasons = []
    waived = set(policy['waived_checks'])
    for item in _get(check, 'checks') or []:
        if not isinstance(item, Mapping):
            continue
        name = _text(item.get('name'))
        row = dict(id=name, type=_text(item.get('type')), name=name, description=_text(item.get('description')),
                   required=bool(item.get('required')), ok=bool(item.get('ok')), found=_text(item.get('found')),
                   expected=_text(item.get('expected')), detail=_text(item.get('detail')))
        if row['ok']:
            row['state'] = 'ok'
        elif name in waived:
            row['state'] = 'waived'
        elif row['required'] or (name == 'vhost_vsock' and policy['require_vhost_vsock']):
            row['state'] = 'fail'
            reason = _reason(row)
            if not row['required']:
                reason += ', required by %s' % POLICY_VARIABLES['require_vhost_vsock']
            reasons.append(reason)
        else:
            row['state'] = 'warn'
        rows.append(row)
    if policy['require_vhost_vsock'] and 'vhost_vsock' not in [r['id'] for r in rows] and rows:
        # kata does not look for vhost_vsock with this hypervisor (acrn): the policy still wants it.
        row = dict(id='vhost_vsock', type='module', name='vhost_vsock', description='Host Support for Linux VM Sockets',
                   required=False, ok=False, found=None, expected=None, state='fail',
                   detail='not checked for the %s hypervisor' % (_get(check, 'hypervisor') or 'configured'))
        rows.append(row)
        reasons.append(_reason(row) + ', required by %s' % POLICY_VARIABLES['require_vhost_vsock'])
    return rows, reasons


def _vm_row(check, policy):
    can_create_vm = _get(check, 'can_create_vm')
    error = _get(check, 'kvm', 'error')
    label, description = EXTRA_COLUMNS[VM_CREATION]
    row = dict(id=VM_CREATION, type='kvm', name=label, description=description, required=True,
               ok=can_create_vm is True, found=None, expected=None)
    reason = None
    if can_create_vm is True:
        row.update(state='ok', detail='System can currently create Kata Containers')
    elif can_create_vm is False:
        row.update(detail='cannot create a VM: %s' % (error or 'unknown error'))
        row['state'] = 'waived' if VM_CREATION in policy['waived_checks'] else 'fail'
        reason = row['detail'] if row['state'] == 'fail' else None
    else:
        row.update(detail='not tested (the KVM test runs as root only, unless kata_preflight_kvm_test=always)')
        if policy['require_vm_creation'] and VM_CREATION not in policy['waived_checks']:
            row['state'] = 'fail'
            reason = 'VM creation was not tested and %s is set: run as root (become) or set kata_preflight_kvm_test=always' \
                % POLICY_VARIABLES['require_vm_creation']
        else:
            row['state'] = 'untested'
    return row, reason


def _policy_rows(facts, policy, which=('hypervisor', 'kernel', 'kata_version')):
    """The policy rows (and reasons) of ``which``: the hypervisor policy holds for each configuration checked, the
    kernel and Kata version policies for the host."""
    rows = []
    reasons = []

    def add(row_id, ok, detail, found, expected):
        label, description = EXTRA_COLUMNS[row_id]
        row = dict(id=row_id, type='policy', name=label, description=description, required=True, ok=ok,
                   found=found, expected=expected, detail=detail, state='ok' if ok else 'fail')
        rows.append(row)
        if not ok:
            reasons.append(detail)

    wanted = policy['required_hypervisor'] if 'hypervisor' in which else None
    if wanted is not None:
        found = facts['hypervisor']
        ok = found == wanted
        add('policy_hypervisor', ok, 'hypervisor is %s' % found if ok else
            'hypervisor is %s, the policy requires %s (%s)' % (found or 'unknown', wanted, POLICY_VARIABLES['required_hypervisor']),
            found, wanted)
    minimum = policy['min_kernel'] if 'kernel' in which else None
    if minimum is not None:
        found = facts['kernel']
        ok = version_at_least(found, minimum, kernel=True)
        if ok is None:
            detail = 'kernel release %s is unknown or has no version, the policy requires %s or newer (%s)' % (
                found or '(none)', minimum, POLICY_VARIABLES['min_kernel'])
        elif ok:
            detail = 'kernel %s is %s or newer' % (found, minimum)
        else:
            detail = 'kernel %s is older than %s (%s)' % (found, minimum, POLICY_VARIABLES['min_kernel'])
        add('policy_kernel', bool(ok), detail, found, '>= %s' % minimum)
    minimum = policy['min_kata_version'] if 'kata_version' in which else None
    if minimum is not None:
        found = facts['kata_version']
        ok = version_at_least(found, minimum)
        if ok is None:
            detail = ('Kata Containers version is unknown (no kata-runtime found; versions are only read with '
                      'kata_preflight_host_root=/), the policy requires %s or newer (%s)'
                      % (minimum, POLICY_VARIABLES['min_kata_version']))
        elif ok:
            detail = 'Kata Containers %s is %s or newer' % (found, minimum)
        else:
            detail = 'Kata Containers %s is older than %s (%s)' % (found, minimum, POLICY_VARIABLES['min_kata_version'])
        add('policy_kata_version', bool(ok), detail, found, '>= %s' % minimum)
    return rows, reasons


def _unreachable(result):
    return isinstance(result, Mapping) and bool(result.get('unreachable'))


def _failed(result):
    return isinstance(result, Mapping) and bool(result.get('failed'))


def _message(result):
    msg = _get(result, 'msg')
    if not msg:
        return 'no message'
    msg = str(msg).strip()
    # ansible-core 2.19 decorates connection errors with this prefix: noise in a report.
    return msg[len('Task failed: '):] if msg.startswith('Task failed: ') else msg


def _results(check):
    """The registered kata_check result as [(handler or None, result)]: one per loop item, or the single result."""
    if isinstance(check, Mapping) and isinstance(check.get('results'), Sequence) and not _is_str(check.get('results')):
        pairs = []
        for item in check['results']:
            if not isinstance(item, Mapping):
                raise AnsibleFilterError('check: every loop result must be a dictionary, got %s' % type(item).__name__)
            handler = item.get(item.get('ansible_loop_var') or 'item')
            pairs.append((_text(handler) if handler else None, item))
        return pairs
    return [(None, check)]


def _is_runtimes_result(check):
    """Whether ``check`` is a kata_check result with ``runtimes`` (every handler in one call)."""
    return isinstance(check, Mapping) and 'results' not in check and isinstance(check.get('runtimes'), Sequence) \
        and not _is_str(check.get('runtimes'))


def _runtimes_pairs(check):
    """kata_check's ``runtimes`` entries as [(handler or None, result)] and the kata_runtime_info-like result of the
    handlers they name (engine, runtime, configuration file and whether it exists, where defined)."""
    pairs, handlers = [], []
    for entry in check['runtimes']:
        if not isinstance(entry, Mapping):
            raise AnsibleFilterError('check: every entry of runtimes must be a dictionary, got %s' % type(entry).__name__)
        handler = _text(entry.get('handler')) if entry.get('handler') else None
        pairs.append((handler, entry))
        if handler is not None:
            handlers.append(dict(handler=handler, engine=entry.get('engine'), runtime=entry.get('runtime'),
                                 config=entry.get('handler_config'), config_exists=entry.get('config_exists'),
                                 source=entry.get('source'), hypervisor=entry.get('hypervisor')))
    return pairs, dict(changed=False, runtimes=handlers, runtime_warnings=check.get('runtime_warnings') or [])


def _check_ok(result):
    return isinstance(result, Mapping) and not _failed(result) and not _unreachable(result) and 'capable' in result \
        and not result.get('skipped')


def _selection(selection):
    """``all`` (None) or the list of handler names of kata_preflight_runtimes; AnsibleFilterError for anything else."""
    if selection is None or selection == 'all' or (not _is_str(selection) and isinstance(selection, Sequence)
                                                   and list(selection) == ['all']):
        return None
    if _is_str(selection):
        names = [n.strip() for n in selection.split(',')]
    elif isinstance(selection, Sequence) and all(_is_str(n) for n in selection):
        names = [n.strip() for n in selection]
    else:
        names = []
    if not names or not all(names) or 'all' in names:
        raise AnsibleFilterError('%s: expected all or a list of runtime handler names, got %r' % (RUNTIMES_VARIABLE, selection))
    return names


def _handler_entry(handler, info, result, policy):
    """One runtime handler's verdict (``handler`` None: the default configuration of a host without handlers), from
    its kata_runtime_info entry ``info`` and its kata_check ``result``; returns (entry, rows, reasons)."""
    info = info or {}
    config = _get(result, 'config') if _check_ok(result) else None
    entry = dict(handler=handler, engine=_text(info.get('engine')),
                 runtime=_text(_get(config, 'runtime') or info.get('runtime')),
                 hypervisor=_text(_get(result, 'hypervisor') if _check_ok(result) else info.get('hypervisor')),
                 config=_text(_get(config, 'path') or info.get('config')),
                 config_source=_text(_get(result, 'config_source')) if _check_ok(result) else None,
                 status=None, capable=None, kata_capable=None, can_create_vm=None, failed_checks=[], reasons=[],
                 error=None)
    if handler is not None and info and not info.get('config_exists', True):
        label, description = EXTRA_COLUMNS[HANDLER_CONFIG]
        row = dict(id=HANDLER_CONFIG, type='handler', name=label, description=description, required=True, ok=False,
                   found=None, expected=None, state='fail',
                   detail='the configuration file %s does not exist (runtime handler %s, defined in %s)'
                   % (info.get('config') or '(none)', handler, info.get('source') or 'an unknown file'))
        entry.update(status='not_capable', capable=False, failed_checks=[HANDLER_CONFIG], reasons=[row['detail']])
        return entry, [row], [row['detail']]
    if result is None or result.get('skipped'):
        entry.update(status='failed', error='kata_check did not run')
        entry['reasons'] = [entry['error']]
        return entry, [], []
    if not _check_ok(result):
        entry.update(status='failed', error='kata_check failed: %s' % _message(result))
        entry['reasons'] = [entry['error']]
        return entry, [], []
    rows, reasons = _kata_rows(result, policy)
    vm_row, vm_reason = _vm_row(result, policy)
    rows.append(vm_row)
    if vm_reason:
        reasons.append(vm_reason)
    more_rows, more_reasons = _policy_rows(dict(hypervisor=entry['hypervisor']), policy, which=('hypervisor',))
    rows.extend(more_rows)
    reasons.extend(more_reasons)
    failed = [r['id'] for r in rows if r['state'] == 'fail']
    entry.update(status='not_capable' if failed else 'capable', capable=not failed, failed_checks=failed,
                 reasons=reasons, kata_capable=bool(result.get('capable')), can_create_vm=result.get('can_create_vm'))
    return entry, rows, reasons


def _merge_rows(row_lists):
    """One row per check across the handlers of a host, in first-seen order, with the worst state."""
    merged = {}
    order = []
    for rows in row_lists:
        for row in rows:
            known = merged.get(row['id'])
            if known is None:
                order.append(row['id'])
                merged[row['id']] = row
            elif _STATE_ORDER.index(row['state']) < _STATE_ORDER.index(known['state']):
                merged[row['id']] = row
    return [merged[name] for name in order]


def _grouped_reasons(entries):
    """The reasons of the handlers of a host, each text once, prefixed with the handlers it applies to."""
    texts = []
    handlers = {}
    for entry in entries:
        for reason in entry['reasons']:
            if reason not in handlers:
                texts.append(reason)
                handlers[reason] = []
            handlers[reason].append(entry['handler'])
    result = []
    for text in texts:
        names = handlers[text]
        if len(entries) > 1 and len(names) == len(entries):
            prefix = 'every runtime handler (%d)' % len(names)
        else:
            prefix = ', '.join(names)
        result.append('%s: %s' % (prefix, text))
    return result


def _runtime_info_message(result):
    msg = _message(result)
    # the module names its option; the role's users know the role variable
    for option in ('handlers', 'runtimes'):
        if msg.startswith(option + ': '):
            return RUNTIMES_VARIABLE + msg[len(option):]
    return msg


def preflight_verdict(check, env=None, policy=None, host=None, runtimes=None, selection='all', config=None):
    """One host's verdict from its registered kata_runtime_info (``runtimes``), kata_check (``check``: one result,
    or the results of a loop over the runtime handlers) and kata_env (``env``) results.

    ``policy`` holds the host's policy variables (see normalize_policy), ``host`` is the inventory name,
    ``selection`` and ``config`` the role's ``kata_preflight_runtimes`` and ``kata_preflight_config``. Each runtime
    handler checked gets its verdict in ``runtimes`` (a host without handlers gets one, for its default
    configuration); the host is capable when every one of them is, and the host's policies are met. A result that is
    unreachable, failed, skipped or missing makes the host unreachable or failed. Returns the host entry of the report.
    """
    info = _mapping_or_none(runtimes, 'runtimes')
    check = _mapping_or_none(check, 'check')
    env = _mapping_or_none(env, 'env')
    policy = normalize_policy(policy)
    whole_check_failed = False
    if _is_runtimes_result(check):
        pairs, derived = _runtimes_pairs(check)
        info = info if info is not None else derived
    else:
        pairs = _results(check)
        # kata_check failed as a whole (not one handler of a loop): no handler verdict, the host failed
        whole_check_failed = _failed(check) and 'results' not in check
    env_facts = _get(env, 'ansible_facts', 'kata_env') if env is not None and not _failed(env) else None
    first_ok = next((result for dummy, result in pairs if _check_ok(result)), None)

    facts = _facts(first_ok, env_facts)
    verdict = dict(host=_text(host), status=None, reachable=None, capable=None, kata_capable=None, can_create_vm=None,
                   failed_checks=[], reasons=[], checks=[], runtimes=[], facts=facts, messages=[], warnings=[],
                   policy=policy, error=None)

    unreachable = [r for r in [info] + [result for dummy, result in pairs] + [env] if _unreachable(r)]
    if unreachable:
        verdict.update(status='unreachable', reachable=False, error=_message(unreachable[0]))
        verdict['reasons'] = ['unreachable: %s' % verdict['error']]
        return verdict
    verdict['reachable'] = True if any(r is not None for r in [info, env, check]) else None

    error = None
    try:
        names = _selection(selection)
    except AnsibleFilterError as exc:
        names, error = None, str(exc)
    if error is None and names is not None and config:
        error = ('%s and kata_preflight_config are mutually exclusive: kata_preflight_config checks that one file; '
                 'unset it, or set %s to all' % (RUNTIMES_VARIABLE, RUNTIMES_VARIABLE))
    if error is None and _failed(info):
        error = 'kata_runtime_info failed: %s' % _runtime_info_message(info)
    if error is None and whole_check_failed:
        error = 'kata_check failed: %s' % _runtime_info_message(check)

    handlers = []
    if error is None and isinstance(info, Mapping) and not info.get('skipped'):
        handlers = [h for h in info.get('runtimes') or [] if isinstance(h, Mapping) and h.get('handler')]
    by_handler = dict((handler, result) for handler, result in pairs if handler is not None)
    entries, row_lists, reasons = [], [], []
    if error is None:
        if handlers:
            for item in handlers:
                name = _text(item['handler'])
                entry, rows, dummy = _handler_entry(name, item, by_handler.get(name), policy)
                entries.append(entry)
                row_lists.append(rows)
        else:
            entry, rows, reasons = _handler_entry(None, None, pairs[0][1], policy)
            entries.append(entry)
            row_lists.append(rows)
        if handlers:
            reasons = _grouped_reasons([e for e in entries if e['status'] != 'failed'])
    checked = [e for e in entries if e['kata_capable'] is not None]
    if checked:
        verdict['kata_capable'] = all(e['kata_capable'] for e in checked)
        vms = [e['can_create_vm'] for e in checked]
        verdict['can_create_vm'] = False if False in vms else (True if all(v is True for v in vms) else None)
    messages = []
    for dummy, result in pairs:
        if _check_ok(result):
            messages.extend(str(m) for m in result.get('messages') or [] if str(m) not in messages)
    verdict['messages'] = messages
    if len(entries) > 1:
        hypervisors = sorted(set(e['hypervisor'] for e in entries if e['hypervisor']))
        facts.update(hypervisor=', '.join(hypervisors) or None, config=None)
    elif entries:
        facts.update(hypervisor=entries[0]['hypervisor'] or facts['hypervisor'], config=entries[0]['config'])
    warnings = [str(w) for w in _get(info, 'runtime_warnings') or []] if isinstance(info, Mapping) else []
    if env_facts is not None:
        warnings.extend(str(w) for w in _get(env_facts, 'warnings') or [] if str(w) not in warnings)
    verdict['warnings'] = warnings
    verdict['runtimes'] = entries
    rows = _merge_rows(row_lists)

    if error is None:
        failures = [e for e in entries if e['status'] == 'failed']
        if failures:
            error = '; '.join(('%s (runtime handler %s)' % (e['error'], e['handler'])) if e['handler'] else e['error']
                              for e in failures)
        elif env is None or env.get('skipped'):
            error = 'kata_env did not run'
        elif env_facts is None:
            error = 'kata_env failed: %s' % _message(env)
    if error is not None:
        verdict.update(status='failed', error=error, checks=rows, reasons=[error])
        verdict['failed_checks'] = [r['id'] for r in rows if r['state'] == 'fail']
        return verdict

    more_rows, more_reasons = _policy_rows(facts, policy, which=('kernel', 'kata_version'))
    rows.extend(more_rows)
    reasons.extend(more_reasons)
    verdict.update(checks=rows, reasons=reasons, failed_checks=[r['id'] for r in rows if r['state'] == 'fail'])
    verdict['capable'] = not verdict['failed_checks']
    verdict['status'] = 'capable' if verdict['capable'] else 'not_capable'
    return verdict


# --------------------------------------------------------------------------------------------------------------
# the fleet

def _merge_order(order, names):
    """Add the unseen ``names`` to ``order``, each right before the next name of ``names`` already in ``order``."""
    for position, name in enumerate(names):
        if name in order:
            continue
        following = [order.index(n) for n in names[position + 1:] if n in order]
        if following:
            order.insert(following[0], name)
        else:
            order.append(name)


# Matrix column groups, in display order: CPU attributes, CPU flags, the SMT rule, then kernel modules with their
# parameters (and anything kata adds later).
_COLUMN_GROUPS = ('attribute', 'flag', 'smt')


def _columns(hosts):
    """The matrix columns: kata's checks grouped by kind, each group in check order merged across hosts (first host
    first), then VM creation, then the policies that were set."""
    groups = dict((kind, []) for kind in _COLUMN_GROUPS + ('module',))
    columns = {}
    for entry in hosts:
        names = dict((kind, []) for kind in groups)
        for row in entry.get('checks') or []:
            if row['id'] in EXTRA_COLUMNS:
                continue
            if row['id'] not in columns:
                columns[row['id']] = dict(id=row['id'], label=row['name'], description=row.get('description'),
                                          type=row.get('type'))
            kind = columns[row['id']]['type'] if columns[row['id']]['type'] in _COLUMN_GROUPS else 'module'
            names[kind].append(row['id'])
        for kind, items in names.items():
            _merge_order(groups[kind], items)
    present = set(row['id'] for entry in hosts for row in entry.get('checks') or [])
    result = [columns[name] for kind in _COLUMN_GROUPS + ('module',) for name in groups[kind]]
    for row_id, (label, description) in EXTRA_COLUMNS.items():
        if row_id in present:
            result.append(dict(id=row_id, label=label, description=description,
                               type='kvm' if row_id == VM_CREATION else 'policy'))
    return result


def _host_vars(hostvars, host):
    try:
        data = hostvars[host]
    except (KeyError, TypeError):
        return None
    return data if isinstance(data, Mapping) else None


def preflight_report(hosts, hostvars, active_hosts=None, verdict_var='kata_preflight_verdict', generated_at=None):
    """The fleet report for ``hosts`` (the play's hosts, in order), from each host's verdict fact in ``hostvars``.

    A host without a verdict that is no longer in ``active_hosts`` (``ansible_play_hosts``) left the play before
    the checks ran: it is reported as failed. One still active has not been checked yet (a later ``serial``
    batch): it is ``pending`` and the report is not ``complete``.
    """
    if _is_str(hosts) or not isinstance(hosts, Sequence):
        raise AnsibleFilterError('preflight_report: the input must be the list of hosts (ansible_play_hosts_all), got %s'
                                 % type(hosts).__name__)
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('preflight_report: hostvars must be a mapping (pass hostvars), got %s' % type(hostvars).__name__)
    active = None if active_hosts is None else set(str(h) for h in active_hosts)
    entries = []
    seen = set()
    for host in hosts:
        host = str(host)
        if host in seen:
            continue
        seen.add(host)
        verdict = _get(_host_vars(hostvars, host), verdict_var)
        if isinstance(verdict, Mapping) and verdict.get('status') in STATUSES:
            entry = dict(verdict)
            entry['host'] = host
        elif active is not None and host in active:
            entry = preflight_verdict(None, host=host)
            entry.update(status='pending', error=None, reasons=['not checked yet'], reachable=None, runtimes=[])
        else:
            entry = preflight_verdict(None, host=host)
            entry.update(status='failed', error='left the play before the preflight checks ran (it failed or was '
                                                'unreachable in an earlier task)')
            entry['reasons'] = [entry['error']]
            entry['runtimes'] = []
        entries.append(entry)
    summary = dict(total=len(entries))
    for status in STATUSES + ('pending',):
        summary[status] = sum(1 for e in entries if e['status'] == status)
    handlers = [h for e in entries for h in e.get('runtimes') or []]
    summary['runtimes'] = dict(total=len(handlers))
    for status in HANDLER_STATUSES:
        summary['runtimes'][status] = sum(1 for h in handlers if h.get('status') == status)
    report = dict(format=REPORT_FORMAT, generator=GENERATOR, complete=summary['pending'] == 0, summary=summary,
                  columns=_columns(entries), hosts=entries)
    if generated_at:
        report['generated_at'] = str(generated_at)
    return report
