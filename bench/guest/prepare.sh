# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM: claim-bench prepare on eight edus. Prints TAP, and
# the "# result" line.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-10}

mask_driverctl_vfio_rule # as in bench/rebind-yardstick
set -- $VM_EDU8_ADDRS
g=$(pci_group "$1")

out=$("$BENCH_CLAIM" prepare "$rounds" "$g" "$@" 2>&1)
status=$?
printf '%s\n' "$out"
is "$status" 0 "claim-bench prepare ran $rounds rounds"
is "$(vfioctl-client prepared)" "(nothing prepared)" "nothing is left prepared"
for a in "$@"; do
    [ "$(pci_driver "$a")" = none ] || not_ok "$a is back with no driver"
done
done_testing
