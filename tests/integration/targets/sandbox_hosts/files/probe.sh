#!/bin/sh
# Run by ansible.builtin.script in a guest: says where it runs and what arguments it got, one per line.
printf 'dir=%s\n' "$(pwd)"
printf 'argc=%s\n' "$#"
for arg in "$@"; do
    printf 'arg=[%s]\n' "$arg"
done
printf 'to stderr\n' >&2
exit 3
