# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM: claim-bench prepare on eight edus, then on eight
# nvmes. Prints TAP, and a "# result prepare devices=KIND ..." line for
# each kind.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-10}

mask_driverctl_vfio_rule # as in bench/rebind-yardstick

# bench_devices KIND DRIVER ADDRESS...: the bench on the devices, which
# must be in a group each, and back on DRIVER ("none": no driver) after it.
bench_devices() {
    local kind=$1 driver=$2 out status a
    shift 2
    is "$(for a in "$@"; do pci_group "$a"; done | sort -u | wc -l)" "$#" "the $# $kind devices are in $# groups"
    out=$("$BENCH_CLAIM" prepare "$rounds" "$(pci_group "$1")" "$@" 2>&1)
    status=$?
    printf '%s\n' "$out" | sed "s/^# result prepare /# result prepare devices=$kind /"
    is "$status" 0 "claim-bench prepare ran $rounds rounds on the $kind devices"
    is "$(vfioctl-client prepared)" "(nothing prepared)" "nothing is left prepared after the $kind bench"
    for a in "$@"; do
        [ "$(pci_driver "$a")" = "$driver" ] ||
            not_ok "$a is back on $driver after the $kind bench (it is on $(pci_driver "$a"))"
    done
}

bench_devices edu none $VM_EDU8_ADDRS

# Each nvme is the one device behind its port, on a bus that the bridges
# before the port decide; the port's own entries (0000:00:1e.0:pcie001)
# are not devices.
nvmes=()
for port in $VM_NVME8_PORTS; do
    children=("/sys/bus/pci/devices/$port"/[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f].[0-7])
    if [ ${#children[@]} != 1 ] || [ ! -e "${children[0]}" ]; then
        not_ok "one device behind $port (found: ${children[*]##*/})"
        continue
    fi
    a=${children[0]##*/}
    nvmes+=("$a")
    [ "$(pci_driver "$a")" = nvme ] || not_ok "$a is on nvme before the bench"
    # On the way back vfiod leaves the reset to the kernel: the first of these.
    like "$(cat "/sys/bus/pci/devices/$a/reset_method")" '^flr' "$a is reset by FLR first"
done
[ ${#nvmes[@]} = 8 ] && bench_devices nvme nvme "${nvmes[@]}"
done_testing
