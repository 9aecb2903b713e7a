#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The shell completions load in their shells and offer what the client
# takes: every verb of its --help, the verb's options, addresses and
# groups. completion.sh SRCDIR CLIENT
set -u
src=$1 client=$2
n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; printf '# %s\n' "${@:2}"; }

# The verbs as --help lists them: the first word of each line of the
# Commands section.
help_verbs=$("$client" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' | sort -u | xargs)
[ -n "$help_verbs" ] && ok "--help lists verbs ($help_verbs)" || nok "--help lists verbs"

# bash: COMPREPLY for a command line, as bash-completion would ask.
bash_complete() {
    bash --norc -c '
        . /usr/share/bash-completion/bash_completion || exit 1
        . "$1" || exit 1
        shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        _vfioctl_client vfioctl-client "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf "%s\n" "${COMPREPLY[@]}"' _ "$src/shell-completion/bash/vfioctl-client" "$@" 2> /dev/null
}

if [ -r /usr/share/bash-completion/bash_completion ]; then
    got=$(bash_complete vfioctl-client '' | sort -u | xargs)
    [ "$got" = "$help_verbs" ] && ok "bash offers every verb and no other" || nok "bash offers every verb" "got: $got"
    got=$(bash_complete vfioctl-client claim --me | xargs)
    [ "$got" = "--memlock= --memory=" ] && ok "bash offers claim's options" || nok "bash offers claim's options" "got: $got"
    got=$(bash_complete vfioctl-client release --a | xargs)
    [ "$got" = "--all" ] && ok "bash offers release --all" || nok "bash offers release --all" "got: $got"
    got=$(bash_complete vfioctl-client list --a | xargs)
    [ -z "$got" ] && ok "bash offers no option a verb does not take" || nok "bash: list --a" "got: $got"
    first=$(ls /sys/bus/pci/devices 2>/dev/null | head -n 1)
    if [ -n "$first" ]; then
        got=$(bash_complete vfioctl-client show "${first:0:8}")
        grep -qx "$first" <<< "$got" && ok "bash completes PCI addresses ($first)" || nok "bash completes addresses" "got: $got"
    else
        nok "bash completes PCI addresses" "this machine shows no PCI device in /sys/bus/pci/devices to complete"
    fi
    if [ -n "$first" ]; then
        got=$(bash_complete vfioctl-client prepare "${first:0:8}")
        [ -z "$got" ] && ok "bash offers nothing for prepare's claim id" || nok "bash: prepare's claim id" "got: $got"
        got=$(bash_complete vfioctl-client prepare --json vm-1 "${first:0:8}")
        grep -qx "$first" <<< "$got" && ok "bash completes prepare's addresses after the claim id" ||
            nok "bash completes prepare's addresses" "got: $got"
    fi
    got=$(bash_complete vfioctl-client claim 3 -- qemu-system-x86_6)
    [ -n "$got" ] || got=$(bash_complete vfioctl-client claim 3 -- ls)
    [ -n "$got" ] && ok "bash completes the command after claim --" || nok "bash completes claim's command"
else
    nok "bash-completion is installed" "/usr/share/bash-completion/bash_completion is missing: tests/setup installs it"
fi

# zsh: the script parses, and asked for the verb it describes every verb
# (zsh's own completion system is stood in for by two functions that
# print what they are given).
if command -v zsh > /dev/null; then
    zsh_script=$src/shell-completion/zsh/_vfioctl-client
    check_zsh=$(zsh -n "$zsh_script" 2>&1) && ok "zsh's completion parses" || nok "zsh's completion parses" "$check_zsh"
    got=$(zsh -f -c '
        _arguments() { state=verb; return 1 }
        _describe() { print -l ${${(P)4}%%:*} }
        source "$1"' _ "$zsh_script" 2>&1 | sort -u | xargs)
    [ "$got" = "$help_verbs" ] && ok "zsh's completion offers every verb and no other" ||
        nok "zsh's completion offers every verb" "got: $got"
else
    nok "zsh is installed" "tests/setup installs it"
fi

echo "1..$n"
exit $failed
