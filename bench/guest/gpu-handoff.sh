# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM (systemd): the whole hand-off of the boot GPU (a std
# VGA on bochs-drm with the console, its HD audio function, a stand-in
# display manager holding its DRM node) to vfio-pci and its return, N
# times each way, done by a shell script as the single-GPU hook scripts do
# it (without their sleeps), and by vfiod with a profile that stops the
# display manager and unloads bochs. Prints TAP, one "# result" line per
# measurement.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-5}
set -- $VM_GPU_AUDIO_ADDRS
gpu=$1 audio=$2
dm=$VMTEST_DM

bound_to() {
    local dev=/sys/bus/pci/devices/$1
    [ $dev/driver -ef /sys/bus/pci/drivers/$2 ]
}
wait_bound() { # wait_bound ADDR DRIVER: polls, as nothing notifies a bind
    local i
    for i in $(seq 500); do bound_to "$1" "$2" && return 0; read -rt 0.01 <> <(:) || :; done
    return 1
}

# ---- the hook script's way ----
script_handoff() {
    systemctl stop $dm || return 1
    for c in /sys/class/vtconsole/vtcon*/bind; do echo 0 > $c; done
    echo $gpu > /sys/bus/pci/devices/$gpu/driver/unbind
    echo $audio > /sys/bus/pci/devices/$audio/driver/unbind
    modprobe -r bochs || return 1
    for a in $gpu $audio; do
        echo vfio-pci > /sys/bus/pci/devices/$a/driver_override
        echo $a > /sys/bus/pci/drivers_probe
    done
    bound_to $gpu vfio-pci && bound_to $audio vfio-pci
}
script_return() {
    for a in $gpu $audio; do
        echo > /sys/bus/pci/devices/$a/driver_override
        echo $a > /sys/bus/pci/drivers/vfio-pci/unbind
    done
    modprobe bochs || return 1
    for a in $gpu $audio; do echo $a > /sys/bus/pci/drivers_probe; done
    wait_bound $gpu bochs-drm && wait_bound $audio snd_hda_intel || return 1
    for c in /sys/class/vtconsole/vtcon*/bind; do echo 1 > $c 2>/dev/null; done
    systemctl start $dm
}

# ---- vfiod's ----
vfiod_handoff() { vfioctl-client claim --force $gpu > /dev/null; }
vfiod_return() { vfioctl-client release $gpu > /dev/null; }

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
at_home() {
    bound_to $gpu bochs-drm && bound_to $audio snd_hda_intel && [ "$(systemctl show -P ActiveState $dm)" = active ]
}

measure() {
    local way=$1 there="" back="" failed=0 t0 t1 t2
    for _ in $(seq $rounds); do
        udevadm settle
        t0=${EPOCHREALTIME/./}
        ${way}_handoff || failed=$((failed + 1))
        t1=${EPOCHREALTIME/./}
        bound_to $gpu vfio-pci && bound_to $audio vfio-pci || failed=$((failed + 1))
        udevadm settle
        t1b=${EPOCHREALTIME/./}
        ${way}_return || failed=$((failed + 1))
        t2=${EPOCHREALTIME/./}
        at_home || failed=$((failed + 1))
        there+="$((10#$t1 - 10#$t0)) " back+="$((10#$t2 - 10#$t1b)) "
    done
    is "$failed" 0 "$way: $rounds hand-offs and returns, each complete"
    echo "# result $way handoff_us=$(printf '%s\n' $there | median) return_us=$(printf '%s\n' $back | median) rounds=$rounds"
}

# The stand-in display manager and vfiod's profile for the GPU.
setup_single_gpu_host "$gpu"
modprobe vfio-pci
is "$(pci_group $gpu)" "$(pci_group $audio)" "the GPU and its audio function share a group"
check "the GPU and its audio function are on their drivers, the display manager runs" at_home
vfioctl-client list > /dev/null # vfiod starts, and reads the profile

measure script
measure vfiod
done_testing
