# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP output and sysfs helpers for scenarios, sourced in the guest:
#   . "$VM_SRCDIR/tests/vm/guest/tap.sh"
# A scenario ends with done_testing, which prints the plan and sets the
# exit status. Booted more than once (run --boots), the numbering carries
# on from boot to boot and the last boot prints the plan.
. /vmtest/job.env
. "$VM_SRCDIR/tests/vm/topologies.sh"

tap_count=$(cat /vmtest/tap-count 2>/dev/null || echo 0)
tap_failures=0

ok()     { tap_count=$((tap_count + 1)); echo "ok $tap_count - $*"; }
not_ok() { tap_count=$((tap_count + 1)); tap_failures=$((tap_failures + 1)); echo "not ok $tap_count - $*"; }
diag()   { printf '%s\n' "$@" | sed 's/^/# /'; }

# The checks return 1 when they fail, after saying so, so that
# "check ... || diag MORE" adds what explains a failure.

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local desc=$1; shift
    local out
    if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc"; diag "failed: $*" "$out"; return 1; fi
}

# is GOT WANT DESCRIPTION
is() {
    if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; diag "got:  '$1'" "want: '$2'"; return 1; fi
}

# like TEXT REGEX DESCRIPTION
like() {
    if printf '%s' "$1" | grep -Eq -- "$2"; then ok "$3"; else not_ok "$3"; diag "no match for /$2/ in:" "$1"; return 1; fi
}

# unlike TEXT REGEX DESCRIPTION
unlike() {
    if ! printf '%s' "$1" | grep -Eq -- "$2"; then ok "$3"; else not_ok "$3"; diag "a match for /$2/ in:" "$1"; return 1; fi
}

done_testing() {
    if [ "${VM_BOOT:-1}" -lt "${VM_BOOTS:-1}" ]; then
        echo "$tap_count" > /vmtest/tap-count
    else
        echo "1..$tap_count"
    fi
    [ $tap_failures = 0 ]
    exit $?
}

topology_enabled() { [[ " $VM_ENABLED_TOPOLOGIES " == *" $1 "* ]]; }

# The driver bound to a PCI device, or "none".
pci_driver() {
    local link
    link=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${link##*/}" || echo none
}

pci_group() {
    local link
    link=$(readlink "/sys/bus/pci/devices/$1/iommu_group") && echo "${link##*/}"
}

# group_state N [PROPERTY]: what vfiod says of IOMMU group N (its State).
group_state() {
    busctl --system get-property io.github.vfiod1 "/io/github/vfiod1/group/$1" io.github.vfiod1.Group "${2:-State}" |
        cut -d'"' -f2
}

# device_state ADDRESS: what vfiod says of the device (its State).
device_state() {
    local path
    path=$(busctl --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager GetDevice s "$1" |
        cut -d'"' -f2) &&
        busctl --system get-property io.github.vfiod1 "$path" io.github.vfiod1.Device State | cut -d'"' -f2
}

# The addresses in IOMMU group N, sorted, on one line.
group_members() {
    ls "/sys/kernel/iommu_groups/$1/devices" | sort | xargs
}

# json_shape DEFINITION TEXT DESCRIPTION: TEXT, what vfioctl-client --json
# printed, has the shape of docs/vfioctl-client.schema.json's DEFINITION.
json_shape() {
    local err
    if err=$(printf '%s' "$2" | "$VM_SRCDIR/tests/check-json.py" "$VM_SRCDIR/docs/vfioctl-client.schema.json" "$1" 2>&1)
    then ok "$3"; else not_ok "$3"; diag "$err"; return 1; fi
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
    local tries=$(($1 * 10)); shift
    while [ $tries -gt 0 ]; do
        "$@" > /dev/null 2>&1 && return 0
        sleep 0.1
        tries=$((tries - 1))
    done
    return 1
}

# ms_until COMMAND...: milliseconds until COMMAND succeeds (polled for
# about 5 s), or 9999. The figure is reported, not judged: how fast is for
# the benchmarks; that it happens at all, unprompted, is for the tests.
ms_until() {
    local start=$(date +%s%N) i
    for i in $(seq 500); do
        "$@" && { echo $((($(date +%s%N) - start) / 1000000)); return; }
        sleep 0.01
    done
    echo 9999
}

# The test users (tests/vm/guest/prepare-root): alice may use VFIO,
# mallory may not. spawn_alice runs in the background, $! its own pid.
as_alice()    { timeout 120 setpriv --reuid=alice --regid=alice --init-groups "$@"; }
spawn_alice() { setpriv --reuid=alice --regid=alice --init-groups "$@" & }
as_mallory()  { timeout 60 setpriv --reuid=mallory --regid=mallory --init-groups "$@"; }

# Kernel functions that reset a PCI function, traced: trace_resets_start
# before what should reset a device, trace_resets_stop after; the trace
# lines ("TASK-PID ... pcie_flr <-...") are left in /tmp/resets.trace.
TRACEFS=/sys/kernel/tracing
trace_resets_start() {
    mountpoint -q $TRACEFS || mount -t tracefs tracefs $TRACEFS || return 1
    echo 0 > $TRACEFS/tracing_on
    echo nop > $TRACEFS/current_tracer
    echo "pcie_flr pci_af_flr pci_pm_reset pci_parent_bus_reset pci_dev_specific_reset" > $TRACEFS/set_ftrace_filter
    echo function > $TRACEFS/current_tracer
    echo > $TRACEFS/trace
    echo 1 > $TRACEFS/tracing_on
}
trace_resets_stop() {
    echo 0 > $TRACEFS/tracing_on
    grep -v '^#' $TRACEFS/trace > /tmp/resets.trace
    echo nop > $TRACEFS/current_tracer
}

# A single-GPU host's GPU, as the hand-off scenarios set it up: a stand-in
# display manager unit holding the GPU's DRM node, and vfiod's profile for
# bochs-drm that stops it and unloads bochs. Sets $card.
VMTEST_DM=vmtest-display-manager.service
setup_single_gpu_host() {
    local gpu=$1
    udevadm settle
    wait_for 20 test -d "/sys/bus/pci/devices/$gpu/drm" || diag "no DRM device on $gpu"
    card=$(ls "/sys/bus/pci/devices/$gpu/drm" | grep -m1 '^card')
    printf '[Service]\nExecStart=/bin/sh -c %s\n' "'exec sleep infinity < /dev/dri/$card'" \
        > /run/systemd/system/$VMTEST_DM
    mkdir -p /etc/vfiod/profiles.d
    printf '%s\n' "# The test VM's GPU, as a single-GPU host would write it." "Drivers=bochs-drm" \
        "StopUnits=$VMTEST_DM" "UnloadModules=bochs" > /etc/vfiod/profiles.d/bochs.conf
    systemctl daemon-reload
    systemctl start $VMTEST_DM
}

# For benchmarks: driverctl, installed for bench/rebind-yardstick's
# yardstick, brings a udev rule that runs a bash script (and basename, and
# readlink) for every new /dev/vfio node, some 200 ms of CPU a group under
# TCG. It is no part of what a bench measures, nor of most hosts, yet on two
# emulated CPUs it takes CPU from whatever runs beside it: masked.
mask_driverctl_vfio_rule() {
    mkdir -p /run/udev/rules.d
    ln -sf /dev/null /run/udev/rules.d/89-vfio-uio.rules
    udevadm control --reload
}
