# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM on the cdev kernel: claim-bench usable, mode fd and
# mode cdev in turn on edu. Prints TAP, and the "# result" line.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-100}
g=$(pci_group "$VM_EDU_ADDR")

check "the kernel has VFIO device cdevs" grep -qw vfio-dev /proc/devices
out=$("$BENCH_CLAIM" usable "$g" "$VM_EDU_ADDR" "$rounds" 2>&1)
status=$?
printf '%s\n' "$out"
is "$status" 0 "claim-bench usable ran $rounds rounds of each mode"
is "$(pci_driver "$VM_EDU_ADDR")" none "edu is back with no driver"
done_testing
