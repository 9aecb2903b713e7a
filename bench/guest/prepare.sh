# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM: claim-bench prepare on eight edus, then on eight
# nvmes. Prints TAP, and a "# result prepare devices=KIND ..." line for
# each kind.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-10}

mask_driverctl_vfio_rule # as in bench/rebind-yardstick

# bench_devices KIND DRIVER ADDRESS...: the bench on the devices, which
# must be back on DRIVER (or "none") after it.
bench_devices() {
    local kind=$1 driver=$2 out status a
    shift 2
    out=$("$BENCH_CLAIM" prepare "$rounds" "$(pci_group "$1")" "$@" 2>&1)
    status=$?
    printf '%s\n' "$out" | sed "s/^# result prepare /# result prepare devices=$kind /"
    is "$status" 0 "claim-bench prepare ran $rounds rounds on the $kind devices"
    is "$(vfioctl-client prepared)" "(nothing prepared)" "nothing is left prepared"
    for a in "$@"; do
        [ "$(pci_driver "$a")" = "$driver" ] || not_ok "$a is back on $driver"
    done
}

bench_devices edu none $VM_EDU8_ADDRS

# Each nvme is its port's child; its bus number is the kernel's to choose.
nvmes=()
for port in $VM_NVME8_PORTS; do
    nvmes+=("$(basename "$(ls -d "/sys/bus/pci/devices/$port"/0000:*)")")
done
udevadm settle # the nvmes' probe runs on after boot
for a in "${nvmes[@]}"; do
    [ "$(pci_driver "$a")" = nvme ] || not_ok "$a is on nvme before the bench"
done
bench_devices nvme nvme "${nvmes[@]}"
done_testing
