# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small re-implementations of Go and Rust library behaviour that kata's answers depend on.

Everything here reproduces text that the real shim (Go 1.19, net/url, encoding/json, os, strconv, grpc status)
or the real agent (Rust ``{:?}`` formatting, ttrpc status) produces, so that the simulator's bodies are byte-equal
to kata's.
"""

from __future__ import annotations

import errno as _errno
import json
import os
import re
import unicodedata

# gRPC status code names as google.golang.org/grpc/codes.Code.String() prints them.
GRPC_CODE_NAMES = {
    0: 'OK', 1: 'Canceled', 2: 'Unknown', 3: 'InvalidArgument', 4: 'DeadlineExceeded', 5: 'NotFound',
    6: 'AlreadyExists', 7: 'PermissionDenied', 8: 'ResourceExhausted', 9: 'FailedPrecondition', 10: 'Aborted',
    11: 'OutOfRange', 12: 'Unimplemented', 13: 'Internal', 14: 'Unavailable', 15: 'DataLoss', 16: 'Unauthenticated',
}
CODE_NOT_FOUND = 5
CODE_UNIMPLEMENTED = 12
CODE_INTERNAL = 13


class GoError(Exception):
    """An error whose str() is exactly the text Go's err.Error() would give."""


def grpc_status_text(code, message):
    """Go's ``status.Error(code, msg).Error()``: what the shim writes for a failed agent call."""
    return 'rpc error: code = %s desc = %s' % (GRPC_CODE_NAMES.get(code, 'Code(%d)' % code), message)


# ---------------------------------------------------------------------------------------------------------------
# Rust

def _rust_escape_char(ch):
    if ch == '"':
        return '\\"'
    if ch == '\\':
        return '\\\\'
    if ch == '\n':
        return '\\n'
    if ch == '\r':
        return '\\r'
    if ch == '\t':
        return '\\t'
    if ch == '\0':
        return '\\0'
    if ch == ' ' or ch == "'":
        return ch
    # Rust escapes non-printable characters and grapheme extenders (combining marks) as \u{...}.
    if not ch.isprintable() or unicodedata.category(ch) in ('Mn', 'Me'):
        return '\\u{%x}' % ord(ch)
    return ch


def rust_debug_str(text):
    """Rust's ``format!("{:?}", s)`` for a ``str``/``String``: double quotes and escapes."""
    return '"' + ''.join(_rust_escape_char(ch) for ch in text) + '"'


def rust_lossy(data):
    """``String::from_utf8_lossy``: invalid sequences become U+FFFD."""
    return data.decode('utf-8', 'replace')


def rust_io_error_debug(exc):
    """``format!("{:?}", std::io::Error)`` for an OS error, e.g. ``Os { code: 2, kind: NotFound, message: "No such file or directory" }``."""
    code = exc.errno or 0
    kinds = {
        _errno.ENOENT: 'NotFound', _errno.EACCES: 'PermissionDenied', _errno.EPERM: 'PermissionDenied',
        _errno.ENOTDIR: 'NotADirectory', _errno.EISDIR: 'IsADirectory', _errno.EEXIST: 'AlreadyExists',
        _errno.EINVAL: 'InvalidInput', _errno.ELOOP: 'FilesystemLoop', _errno.ENAMETOOLONG: 'InvalidFilename',
    }
    return 'Os { code: %d, kind: %s, message: %s }' % (code, kinds.get(code, 'Uncategorized'), rust_debug_str(os.strerror(code)))


# ---------------------------------------------------------------------------------------------------------------
# Go: errors of package os

def go_errno_text(code):
    """Go's syscall.Errno.Error(): the C strerror text with a lower-case first letter (Linux table)."""
    text = os.strerror(code)
    return text[:1].lower() + text[1:]


def go_path_error(op, path, exc):
    """Go's *fs.PathError text, e.g. ``stat /dev/xyz: no such file or directory``."""
    return '%s %s: %s' % (op, path, go_errno_text(exc.errno or 0))


# ---------------------------------------------------------------------------------------------------------------
# Go: strconv.Quote and net/url

def go_quote(data):
    """Go's strconv.Quote of a byte string (invalid UTF-8 bytes become \\xNN)."""
    out = ['"']
    text = data.decode('utf-8', 'surrogateescape')
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append('\\x%02x' % (code - 0xDC00))
        elif ch in '"\\':
            out.append('\\' + ch)
        elif ch in '\a\b\f\n\r\t\v':
            out.append({'\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v'}[ch])
        elif code < 0x80 and not (0x20 <= code < 0x7f):
            out.append('\\x%02x' % code)
        elif code >= 0x80 and not ch.isprintable():
            out.append('\\u%04x' % code if code < 0x10000 else '\\U%08x' % code)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


_HEX = b'0123456789abcdefABCDEF'


def go_unescape(data, query=False):
    """Go's url.PathUnescape (or url.QueryUnescape when ``query``) on bytes; raises GoError like Go."""
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x25:  # '%'
            if i + 2 >= n or data[i + 1] not in _HEX or data[i + 2] not in _HEX:
                bad = data[i:i + 3]
                raise GoError('invalid URL escape ' + go_quote(bad))
            out.append(int(data[i + 1:i + 3], 16))
            i += 3
            continue
        if c == 0x2B and query:  # '+'
            out.append(0x20)
        else:
            out.append(c)
        i += 1
    return bytes(out)


def go_parse_query(raw_query):
    """Go's url.ParseQuery (Go 1.17+): returns {key: [values]} as bytes; bad pairs are dropped as Go does."""
    values = {}
    for part in raw_query.split(b'&'):
        if b';' in part or not part:
            continue
        key, _sep, value = part.partition(b'=')
        try:
            key = go_unescape(key, query=True)
            value = go_unescape(value, query=True)
        except GoError:
            continue
        values.setdefault(key, []).append(value)
    return values


def go_query_get(raw_query, key):
    """Go's ``r.URL.Query().Get(key)``: the first value or empty."""
    values = go_parse_query(raw_query).get(key)
    return values[0] if values else b''


def go_clean_path(path):
    """Go's net/http cleanPath (path.Clean keeping a trailing slash)."""
    if path == '':
        return '/'
    if not path.startswith('/'):
        path = '/' + path
    parts = []
    for seg in path.split('/'):
        if seg in ('', '.'):
            continue
        if seg == '..':
            if parts:
                parts.pop()
            continue
        parts.append(seg)
    cleaned = '/' + '/'.join(parts)
    if path.endswith('/') and cleaned != '/':
        cleaned += '/'
    return cleaned


# ---------------------------------------------------------------------------------------------------------------
# Go: encoding/json into the shim's ResizeRequest struct

_PY_TO_GO_SYNTAX = (
    ('Expecting value', 'looking for beginning of value'),
    ("Expecting ':' delimiter", 'after object key'),
    ('Expecting property name enclosed in double quotes', 'looking for beginning of object key string'),
    ('Extra data', 'after top-level value'),
    ('Invalid control character', 'in string literal'),
    ('Invalid \\escape', 'in string escape code'),
    ('Invalid \\uXXXX escape', 'in \\u hexadecimal character escape'),
)


def _go_quote_char(ch):
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + go_quote(ch.encode('utf-8', 'surrogateescape'))[1:-1] + "'"


def _go_syntax_error(exc, text):
    pos = exc.pos
    if pos >= len(text.rstrip(' \t\r\n')) and not exc.msg.startswith('Extra data'):
        return GoError('unexpected end of JSON input')
    context = 'looking for beginning of value'
    if exc.msg.startswith("Expecting ',' delimiter"):
        # Python does not say whether it was in an object or an array: find the innermost open bracket.
        depth_obj = text.rfind('{', 0, pos)
        depth_arr = text.rfind('[', 0, pos)
        context = 'after object key:value pair' if depth_obj > depth_arr else 'after array element'
    else:
        for prefix, go_context in _PY_TO_GO_SYNTAX:
            if exc.msg.startswith(prefix):
                context = go_context
                break
    while pos < len(text) and text[pos] in ' \t\r\n':
        pos += 1
    if pos >= len(text):
        return GoError('unexpected end of JSON input')
    return GoError('invalid character %s %s' % (_go_quote_char(text[pos]), context))


class _Obj(list):
    """A JSON object kept as its (key, value) pairs in order, as Go's decoder walks them."""


class _Num(str):
    """A JSON number kept as its literal text, as Go's decoder sees it."""


class _Constant(ValueError):
    pass


def _reject_constant(name):
    raise _Constant(name)


def _json_kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, _Num):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, _Obj):
        return 'object'
    return 'array'


def go_unmarshal_resize(body):
    """Decode the shim's ``ResizeRequest{VolumePath string; Size uint64}`` the way Go's json.Unmarshal does.

    Returns (volume_path, size). Raises GoError with Go's message. Keys match case-insensitively (an exact match
    wins), unknown keys are ignored, null leaves the zero value, the first type error is returned. Syntax error
    texts are mapped from Python's decoder to Go's wording (same character, same context phrase).
    """
    text = body.decode('utf-8', 'replace')
    try:
        doc = json.loads(text, object_pairs_hook=_Obj, parse_int=_Num, parse_float=_Num, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _go_syntax_error(exc, text) from exc
    except _Constant as exc:
        # NaN / Infinity / -Infinity are not JSON for Go.
        match = re.search(r'-?(?:NaN|Infinity)', text)
        token = match.group(0) if match else str(exc)
        if token.startswith('-'):
            raise GoError("invalid character 'I' in numeric literal") from exc
        raise GoError('invalid character %s looking for beginning of value' % _go_quote_char(token[0])) from exc
    if doc is None:
        return '', 0
    if not isinstance(doc, _Obj):
        raise GoError('json: cannot unmarshal %s into Go value of type containerdshim.ResizeRequest' % _json_kind(doc))
    fields = {'VolumePath': '', 'Size': 0}
    first_error = None
    for key, value in doc:
        field = key if key in fields else None
        if field is None:
            for name in fields:
                if name.lower() == key.lower():
                    field = name
                    break
        if field is None or value is None:
            continue
        kind = _json_kind(value)
        if field == 'VolumePath':
            if kind == 'string':
                fields[field] = str(value)
                continue
            error = GoError('json: cannot unmarshal %s into Go struct field ResizeRequest.VolumePath of type string' % kind)
        else:
            if kind == 'number':
                literal = str(value)
                if literal.isdigit() and int(literal) < 2 ** 64:
                    fields[field] = int(literal)
                    continue
                kind = 'number ' + literal
            error = GoError('json: cannot unmarshal %s into Go struct field ResizeRequest.Size of type uint64' % kind)
        if first_error is None:
            first_error = error
    if first_error is not None:
        raise first_error
    return fields['VolumePath'], fields['Size']


def go_json_marshal(obj):
    """Go's json.Marshal for plain data: compact, HTML-safe escaping of <, > and &."""
    text = json.dumps(obj, separators=(',', ':'), ensure_ascii=False)
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026').encode('utf-8')
