# Copyright (c) 2026, Kata Containers collection contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Clients layer (_console package): the lines typed into the guest shell, the start lines and the job script
(steps 1 to 4 of the protocol described in the package)."""

from __future__ import annotations

TEMP_DIRS = ('$TMPDIR', '/run', '/tmp', '/dev/shm', '/var/tmp')
ENCODERS = ('base64', 'od')

_OCTAL_CHUNK = 200  # bytes per printf line: 800 characters, far below the 4095 of a canonical line
_BASE64_CHUNK = 57  # bytes per here-document line: 76 characters
_ENCODER_COMMANDS = {'base64': 'base64', 'od': 'od -An -v -tx1'}


def _octal(data):
    return ''.join('\\%03o' % b for b in bytearray(data))


def _printf_lines(data):
    """``printf '<octal>'`` lines that write ``data`` exactly (none for empty data)."""
    return ["printf '%s'" % _octal(data[i:i + _OCTAL_CHUNK]) for i in range(0, len(data), _OCTAL_CHUNK)]


def _typable(data):
    """Whether ``data`` can be typed into a canonical-mode terminal as is: UTF-8 text without control characters
    other than newline and tab (the line discipline gives meaning to the others), in lines far below its limit."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return False
    if any(c < ' ' and c not in '\n\t' or c == '\x7f' for c in text):
        return False
    return all(len(line) <= _OCTAL_CHUNK * 4 for line in data.split(b'\n'))


def _assign(name, data):
    """Shell text that sets variable ``name`` to ``data`` (no NUL) exactly, trailing newlines included: the data
    single-quoted when it can be typed as is, else decoded by ``printf`` from octal escapes."""
    if _typable(data):
        return "%s='%s'" % (name, data.decode('utf-8').replace("'", "'\\''"))
    return '%s=$(%s); %s=${%s%%x}' % (name, '\n'.join(_printf_lines(data) + ['printf x']), name, name)


def _base64_lines(data):
    import base64

    return [base64.b64encode(data[i:i + _BASE64_CHUNK]).decode('ascii') for i in range(0, len(data), _BASE64_CHUNK)]


# The first line: the interactive shell, replaced (see the module doc). bash unsets ``HISTFILE`` first: interactive
# bash saves its history when ``exec`` replaces it (bash's exec builtin calls maybe_save_shell_history), and without
# HISTFILE it saves nothing. Other shells keep it (the clean-up line needs it). No single quote in it: the clean-up
# line quotes it.
EXEC_LINE = (' [ -z "${BASH_VERSION-}" ] || unset HISTFILE; if [ -z "${BASH_VERSION-}" ] && (exec -a sh /proc/$$/exe -c :) 2>/dev/null; then '
             'exec -a sh /proc/$$/exe 3>&1 >/dev/null 2>&1; else exec /proc/$$/exe 3>&1 >/dev/null 2>&1; fi')
# busybox ash built with FEATURE_EDITING_SAVEHISTORY appends each line it reads to $HISTFILE (by default
# $HOME/.ash_history) at once, before running it: the non-interactive shell takes that line off the end of the file
# again, with shell builtins only, writing the file in place (or removing it when the line was all it held).
_HISTORY_CLEANUP = ("h=${HISTFILE:-${HOME:+$HOME/.ash_history}}; if [ -z \"${BASH_VERSION-}\" ] && [ -n \"$h\" ] && "
                    "[ -f \"$h\" ] && [ ! -L \"$h\" ]; then l='%s'; c=0; y=; while IFS= read -r x; do c=$((c+1)); "
                    "y=$x; done <\"$h\"; if [ \"$y\" = \"$l\" ]; then n=$(printf '\\n_'); n=${n%%_}; t=; i=1; "
                    "while [ $i -lt $c ] && IFS= read -r x; do t=$t$x$n; i=$((i+1)); done <\"$h\"; if [ -n \"$t\" ]; "
                    "then printf %%s \"$t\" >\"$h\"; else rm -f \"$h\"; fi; fi; fi" % EXEC_LINE)


def start_lines(marker):
    """The lines typed first: the non-interactive shell, then the history clean-up, echo off and the sync line (see
    module doc)."""
    sync_line = ("stty -echo 2>/dev/null; k=KATA-; k=${k}%s; t=; for x in %s; do if command -v $x >/dev/null 2>&1; "
                 "then t=\"$t $x\"; fi; done; printf '\\n%%s:S%%s|%%s|' \"$k\" \"$t\" \"$-\" >&3; "
                 "readlink /proc/$$/exe >&3 2>/dev/null || echo >&3" % (marker, ' '.join(ENCODERS)))
    return (EXEC_LINE + '\n' + _HISTORY_CLEANUP + '\n' + sync_line + '\n').encode('ascii')


def job_script(marker, command, stdin=None, chdir=None, encoder='base64', temp_dirs=TEMP_DIRS, shell=None):
    """The lines that run ``command`` (bytes) and frame its results, typed after the sync line.

    ``stdin`` (bytes or None), ``chdir`` (bytes or None); ``encoder`` is ``base64`` or ``od`` (what the guest has);
    ``temp_dirs`` are the parents tried in turn for the private directory (``$TMPDIR``: that variable, when set);
    ``shell`` is the path of the guest shell from the sync line (None: ``/proc/$$/exe``).
    """
    encode = _ENCODER_COMMANDS[encoder]
    if shell and _typable(shell.encode('utf-8')) and '\n' not in shell:
        program = "'%s'" % shell.replace("'", "'\\''")
        if shell.rsplit('/', 1)[-1] == 'busybox':
            program += ' sh'  # busybox picks the applet from argv[0]
    else:
        program = '"/proc/$$/exe"'
    lines = ['set -- %s' % program, _assign('c', command)]
    if chdir:
        lines.append(_assign('w', chdir))
    candidates = ' '.join('"${TMPDIR-}"' if d == '$TMPDIR' else "'%s'" % d.replace("'", "'\\''") for d in temp_dirs)
    lines.append('d=; for t in %s; do if [ -n "$t" ] && mkdir -m 700 "$t/.kata-exec.%s" 2>/dev/null; '
                 'then d=$t/.kata-exec.%s; break; fi; done' % (candidates, marker, marker))
    if stdin:
        lines.append('if [ -z "$d" ]; then printf \'\\n%s:X nodir\\n\' "$k" >&3; exit; fi')
    lines.append('if [ -n "$d" ]; then exec 5>"$d/e" 6<"$d/e"; fi')
    if stdin:
        if encoder == 'base64':
            delimiter = 'KATA_EOF_%s' % marker
            lines.append("(TMPDIR=$d; base64 -d >\"$d/i\" <<'%s'" % delimiter)
            lines.extend(_base64_lines(stdin))
            lines.append(delimiter)
            lines.append(')')
        else:
            lines.append('{')
            lines.extend(_printf_lines(stdin))
            lines.append('} >"$d/i"')
        lines.append('exec 7<"$d/i"')
    lines.append('[ -z "$d" ] || rm -rf "$d"')
    if chdir:
        lines.append('if cd -- "$w" 2>/dev/null; then :; else if [ ! -e "$w" ]; then x=missing; elif [ ! -d "$w" ]; '
                     'then x=notdir; else x=denied; fi; printf \'\\n%s:C %s\\n\' "$k" "$x" >&3; exit; fi')
    redirect_in = '<&7' if stdin else '</dev/null'
    lines.append(
        'if [ -n "$d" ]; then e=5; else e=1; fi; trap : INT QUIT; printf \'\\n%%s:B\\n\' "$k" >&3; '
        'r=$( { { trap : INT QUIT; if [ "$e" = 5 ]; then "$@" -c "$c" %s 2>&5 3>&- 4>&- 5>&- 6<&- 7<&-; '
        'else "$@" -c "$c" %s 2>&1 3>&- 4>&- 5>&- 6<&- 7<&-; fi; printf %%s $? >&4; } | '
        '(trap \'\' INT QUIT; exec %s) >&3; } 4>&1 ); printf \'\\n%%s:E %%s %%s\\n\' "$k" "$r" "$e" >&3; '
        '[ "$e" != 5 ] || [ ! -s /dev/fd/6 ] || %s <&6 >&3; printf \'\\n%%s:Z\\n\' "$k" >&3; exit'
        % (redirect_in, redirect_in, encode, encode))
    return ('\n'.join(lines) + '\n').encode('utf-8')
