# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM: N round trips (bind to vfio-pci and back) of each
# yardstick (the raw sysfs writes, driverctl) and of vfiod, for edu and e1000, timed one by
# one; then vfiod with four groups at once, and its bus during a claim.
# Prints TAP, with one "# result" line a measurement.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-20}

# Only shell builtins inside the timed part (times from $EPOCHREALTIME): a
# fork costs milliseconds under TCG and would hide the floor.

# bound_to ADDR DRIVER: ADDR is bound to DRIVER ("none": to no driver).
bound_to() {
    local dev=/sys/bus/pci/devices/$1
    if [ "$2" = none ]; then [ ! -e $dev/driver ]; else [ $dev/driver -ef /sys/bus/pci/drivers/$2 ]; fi
}

# The floor: the sysfs writes of a claim and a release, done by a shell.
raw_round_trip() {
    local addr=$1 host_driver=$2 dev=/sys/bus/pci/devices/$1
    echo vfio-pci > $dev/driver_override
    [ -e $dev/driver ] && echo $addr > $dev/driver/unbind
    echo $addr > /sys/bus/pci/drivers_probe
    bound_to $addr vfio-pci || return 1
    echo > $dev/driver_override
    echo $addr > $dev/driver/unbind
    echo $addr > /sys/bus/pci/drivers_probe
    bound_to $addr $host_driver
}

# The anchor: driverctl without persistence.
driverctl_round_trip() {
    local addr=$1 host_driver=$2
    driverctl --nosave set-override $addr vfio-pci > /dev/null || return 1
    bound_to $addr vfio-pci || return 1
    # driverctl fails the unset when no driver takes the device back (edu):
    # the state it leaves is what counts.
    driverctl --nosave unset-override $addr > /dev/null 2>&1
    bound_to $addr $host_driver
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() {
    local method=$1 name=$2 addr=$3 host_driver=$4 times="" failed=0
    for _ in $(seq $rounds); do
        local t0=${EPOCHREALTIME/./}
        ${method}_round_trip $addr $host_driver || failed=$((failed + 1))
        local t1=${EPOCHREALTIME/./}
        times+="$((10#$t1 - 10#$t0)) "
    done
    local med=$(printf '%s\n' $times | median)
    is "$failed" 0 "$method $name: $rounds round trips, every one back on '$host_driver'"
    echo "# result $name $method median_us=$med rounds=$rounds"
}

# driverctl's rule for new /dev/vfio nodes belongs to none of the three
# ways measured: masked for all three.
mask_driverctl_vfio_rule

modprobe vfio-pci
for target in "edu $VM_EDU_ADDR none" "e1000 $VM_E1000_ADDR e1000"; do
    set -- $target
    measure raw "$@"
    measure driverctl "$@"
    # vfiod (bus-activated): ClaimGroup + ReleaseGroup over one connection,
    # timed inside the client, which pays for the D-Bus round trips.
    out=$("$BENCH_CLAIM" roundtrip "$1" "$(pci_group "$2")" "$rounds" 2>&1)
    like "$out" "^# result" "vfiod $1: $rounds round trips"
    printf '%s\n' "$out"
    is "$(pci_driver "$2")" "$3" "vfiod $1: back on '$3'"
done

groups="$(pci_group "$VM_EDU_ADDR") $(pci_group "$VM_E1000_ADDR") $(pci_group ${VM_MF_ADDRS%% *}) $(pci_group ${VM_BRIDGED_ADDRS%% *})"
out=$("$BENCH_CLAIM" concurrent 5 $groups 2>&1)
like "$out" "^# result" "vfiod: four groups ($groups) at once and in turn"
printf '%s\n' "$out"
out=$("$BENCH_CLAIM" list-during "$(pci_group "$VM_E1000_ADDR")" "$rounds" 2>&1)
like "$out" "^# result" "vfiod: ListDevices while e1000 is being claimed"
printf '%s\n' "$out"
done_testing
