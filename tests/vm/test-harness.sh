#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The harness fails, never skips, when it cannot boot, and names the
# package to install. No VM is booted here.
run=$(dirname "$(readlink -f "$0")")/run
scenario=$(dirname "$(readlink -f "$0")")/scenarios/smoke.sh
n=0 failed=0
expect() {
    local desc=$1 pattern=$2; shift 2
    local out status
    out=$("$@" 2>&1); status=$?
    n=$((n + 1))
    if [ $status -ne 0 ] && printf '%s' "$out" | grep -q -- "$pattern"; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"; failed=1
        printf '%s\n' "exit status $status, output:" "$out" | sed 's/^/# /'
    fi
}

expect "a missing kernel fails and names linux-image-amd64" \
    "Bail out! .*apt-get install linux-image-amd64" env VM_KERNEL=/nonexistent/vmlinuz "$run" "$scenario"
# PATH keeps what the harness itself needs, but not QEMU.
nobin=$(mktemp -d); trap 'rm -rf "$nobin"' EXIT
for tool in bash readlink dirname mktemp date; do ln -s "$(command -v $tool)" "$nobin/"; done
expect "a missing QEMU fails and names qemu-system-x86" \
    "Bail out! .*apt-get install qemu-system-x86" env PATH="$nobin" "$run" "$scenario"
expect "an unknown topology fails" "unknown topology 'nosuch'" "$run" --topology nosuch "$scenario"
echo "1..$n"
exit $failed
