# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option values of the wrong JSON type are refused before ansible-core converts them, for every option (and
sub-option, and list item) of every module, and the usual spellings ansible-core converts are still accepted."""

from __future__ import annotations

import importlib
import os

import pytest

from ansible_collections.katacontainers.kata.plugins.module_utils import _argtypes
from ansible_collections.katacontainers.kata.plugins.module_utils import _module
from ansible_collections.katacontainers.kata.plugins.modules import kata_direct_volume

MODULES = ('kata_check', 'kata_direct_volume', 'kata_env', 'kata_exec_cmd', 'kata_factory', 'kata_iptables',
           'kata_metrics', 'kata_runtime_info', 'kata_sandbox_info')


class _Captured(Exception):
    pass


def _spec(name):
    """The argument spec ``name``'s main() builds its AnsibleModule with."""
    mod = importlib.import_module('ansible_collections.katacontainers.kata.plugins.modules.%s' % name)

    def recorder(**kwargs):
        raise _Captured(kwargs)
    original = mod.AnsibleModule
    mod.AnsibleModule = recorder
    try:
        mod.main()
    except _Captured as exc:
        return exc.args[0]['argument_spec']
    finally:
        mod.AnsibleModule = original
    raise AssertionError('%s.main() built no AnsibleModule' % name)


# Values of the wrong JSON type for each declared type, and a value of the right one.
WRONG = {
    'str': [['a'], {'a': 'b'}, True, 5, 2.5],
    'path': [['/a'], {'a': 'b'}, False, 0],
    'int': ['abc', '1.5', '', True, 2.5, ['1'], {'a': 1}, '\u0661\u0662', '0x10', '1e3'],
    'float': ['abc', 'nan', 'inf', '1_000', '', True, ['1'], {'a': 1}],
    'bool': ['maybe', '2', '', 2, 0.5, ['yes'], {'a': True}],
    'list': [5, True, {'a': 'b'}],
    'dict': [['a'], 5, True, 'not a mapping'],
}
RIGHT = {'str': 'x', 'path': '/x', 'int': '42', 'float': ' 2.5 ', 'bool': 'Yes', 'list': 'a,b', 'dict': '{"a": "b"}'}


def _cases():
    """``(module, path, raw params, expected option path)`` for every option, sub-option and list item."""
    cases = []
    for name in MODULES:
        for option, entry in sorted(_spec(name).items()):
            kind = entry.get('type', 'str')
            for value in WRONG.get(kind, ()):
                cases.append((name, option, {option: value}, option))
            elements = entry.get('elements')
            if kind == 'list' and elements in WRONG:
                for value in WRONG[elements][:3]:
                    cases.append((name, '%s[]' % option, {option: [RIGHT[elements], value]}, '%s[1]' % option))
            for sub, sub_entry in sorted((entry.get('options') or {}).items()):
                sub_kind = sub_entry.get('type', 'str')
                for value in WRONG.get(sub_kind, ()):
                    cases.append((name, '%s.%s' % (option, sub), {option: {sub: value}}, '%s.%s' % (option, sub)))
                if sub_kind == 'list' and sub_entry.get('elements') in WRONG:
                    for value in WRONG[sub_entry['elements']][:3]:
                        cases.append((name, '%s.%s[]' % (option, sub), {option: {sub: [value]}},
                                      '%s.%s[0]' % (option, sub)))
    return cases


CASES = _cases()


def test_every_module_has_typed_options():
    modules = set(case[0] for case in CASES)
    assert modules == set(MODULES)
    assert any(case[3] == 'mount_info.device' for case in CASES)
    assert any(case[3] == 'mount_info.options[0]' for case in CASES)
    assert len(CASES) > 400


@pytest.mark.parametrize('name,label,params,path', CASES, ids=['%s:%s:%d' % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_wrong_type_refused(name, label, params, path):
    msg = _argtypes.type_error(_spec(name), params)
    assert msg is not None, '%s %r was accepted' % (name, params)
    assert msg.startswith('%s: expected ' % path), msg
    assert 'got a' in msg


@pytest.mark.parametrize('name', MODULES)
def test_right_types_accepted(name):
    spec = _spec(name)
    for option, entry in spec.items():
        kind = entry.get('type', 'str')
        if kind in RIGHT:
            assert _argtypes.type_error(spec, {option: RIGHT[kind]}) is None, (option, RIGHT[kind])
        assert _argtypes.type_error(spec, {option: None}) is None


@pytest.mark.parametrize('kind,value', [
    ('int', 42), ('int', -3), ('int', ' -3 '), ('int', '+7'),
    ('float', 1), ('float', 1.5), ('float', '1e-3'), ('float', '.5'), ('float', '-2.'),
    ('bool', True), ('bool', 'off'), ('bool', 'Y'), ('bool', 'TRUE'), ('bool', 1), ('bool', 0), ('bool', '0'),
    ('list', ['a']), ('list', 'a'), ('list', []),
    ('dict', {}), ('dict', 'a=b c=d'), ('dict', '{"a": 1}'),
    ('raw', [1, {'a': None}]), ('str', ''),
])
def test_usual_spellings_accepted(kind, value):
    assert _argtypes.type_error({'o': {'type': kind}}, {'o': value}) is None


def test_dict_given_as_text_checks_its_sub_options():
    spec = {'m': {'type': 'dict', 'options': {'n': {'type': 'int'}, 's': {'type': 'str'}}}}
    assert _argtypes.type_error(spec, {'m': 'n=5 s=x'}) is None
    assert _argtypes.type_error(spec, {'m': 'n=five'}).startswith('m.n: expected an integer')
    assert _argtypes.type_error(spec, {'m': '{"s": [1]}'}).startswith('m.s: expected a string, got an array')


def test_aliases_and_list_of_dicts():
    spec = {'items': {'type': 'list', 'elements': 'dict', 'aliases': ['entries'],
                      'options': {'name': {'type': 'str'}}}}
    assert _argtypes.type_error(spec, {'entries': [{'name': 'a'}, {'name': 3}]}).startswith(
        'entries[1].name: expected a string, got a number')  # named as the task wrote it
    assert _argtypes.type_error(spec, {'items': [{'name': 'a'}, 'b=c']}) is None


def test_unknown_options_and_internal_keys_left_to_ansible_core():
    spec = {'a': {'type': 'int'}}
    assert _argtypes.type_error(spec, {'nope': [1], '_ansible_check_mode': 'x', 'a': 1}) is None


def test_no_log_value_never_quoted():
    spec = {'secret': {'type': 'int', 'no_log': True}, 'plain': {'type': 'int'}}
    msg = _argtypes.type_error(spec, {'secret': 'hunter2'})
    assert msg.startswith('secret: expected an integer') and 'hunter2' not in msg
    assert "'word'" in _argtypes.type_error(spec, {'plain': 'word'})
    masked = _argtypes.masked_params(spec, {'secret': 'hunter2', 'plain': 'x', '_ansible_debug': False})
    assert masked == {'secret': _argtypes.NO_LOG_PLACEHOLDER, 'plain': 'x'}


def test_quote_hint_only_for_scalars_given_for_text():
    spec = {'s': {'type': 'str'}, 'i': {'type': 'int'}}
    assert 'quote a number' in _argtypes.type_error(spec, {'s': 5})
    assert 'quote a number' not in _argtypes.type_error(spec, {'s': ['a']})
    assert 'quote a number' not in _argtypes.type_error(spec, {'i': 'x'})


def test_modules_build_the_checking_ansible_module():
    for name in MODULES:
        mod = importlib.import_module('ansible_collections.katacontainers.kata.plugins.modules.%s' % name)
        assert mod.AnsibleModule is _module.AnsibleModule, name


def test_issue_example_refused_and_nothing_written(run_module, tmp_path):
    """kata_direct_volume with mount_info {volume_type: 5, device: [1]} wrote {"volume-type":"5","device":"[1]"}."""
    root = tmp_path / 'volumes'
    args = {'volume_path': '/var/lib/kubelet/pv/pvc-1/globalmount', 'volume_root': str(root),
            'mount_info': {'volume_type': 5, 'device': [1], 'fstype': 'ext4'}}
    result = run_module(kata_direct_volume, args, expect='fail')
    assert result['msg'].startswith('mount_info.volume_type: expected a string, got a number'), result['msg']
    assert not os.path.exists(str(root))
    args['mount_info'] = {'volume_type': 'block', 'device': [1], 'fstype': 'ext4'}
    result = run_module(kata_direct_volume, args, expect='fail')
    assert result['msg'].startswith('mount_info.device: expected a string, got an array (a list)'), result['msg']
    assert result['invocation']['module_args']['mount_info']['device'] == [1]
    assert not os.path.exists(str(root))
    # The same record with the right types is written.
    args['mount_info'] = {'volume_type': 'block', 'device': '/dev/sdb', 'fstype': 'ext4'}
    assert run_module(kata_direct_volume, args)['changed'] is True
    assert os.path.isdir(str(root))


def test_core_would_have_crashed_on_a_list_for_sub_options(run_module, tmp_path):
    """ansible-core's set_fallbacks raised TypeError for a list given where a dict with sub-options is expected."""
    args = {'volume_path': '/v', 'volume_root': str(tmp_path / 'r'), 'mount_info': [1]}
    result = run_module(kata_direct_volume, args, expect='fail')
    assert result['msg'].startswith('mount_info: expected a dictionary, got an array (a list)'), result['msg']
    assert not os.path.exists(str(tmp_path / 'r'))


def test_every_module_building_an_ansible_module_uses_the_checking_one():
    """A module added later is covered too: whoever builds an AnsibleModule takes it from _module (an action plugin's
    documentation stub builds none)."""
    directory = os.path.dirname(importlib.import_module(
        'ansible_collections.katacontainers.kata.plugins.modules.kata_check').__file__)
    builders = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith('.py') or name == '__init__.py':
            continue
        with open(os.path.join(directory, name), encoding='utf-8') as f:
            text = f.read()
        if 'AnsibleModule(' in text:
            builders.append(name[:-3])
            assert 'ansible.module_utils.basic import AnsibleModule' not in text, name
            assert 'plugins.module_utils._module import AnsibleModule' in text, name
    assert set(MODULES) <= set(builders)
