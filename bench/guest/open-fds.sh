# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs in the test VM: what open fds cost a claim. A second std VGA on
# bochs-drm (DRM nodes, so vfiod looks for them in every process) is
# claimed and released by vfiod ROUNDS times with no load, then under
# loads of LOADS processes (each holding FDS fds of the kinds a desktop's
# programs hold, and running THREADS threads); and fuser is asked about the card's node over the same
# processes. Prints TAP, with one "# result" line a measurement.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"
rounds=${BENCH_ROUNDS:-10}
fds=${BENCH_FDS:-250}
threads=${BENCH_THREADS:-8}
loads=${BENCH_LOADS:-100 200 400}
vga=$VM_VGA2_ADDR
g=$(pci_group "$vga")

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The fuser of psmisc, timed with only builtins around it.
fuser_median() {
    local node=$1 times="" t0 t1
    for _ in $(seq $rounds); do
        t0=${EPOCHREALTIME/./}
        fuser "$node" > /dev/null 2>&1
        t1=${EPOCHREALTIME/./}
        times+="$((10#$t1 - 10#$t0)) "
    done
    printf '%s\n' $times | median
}

# Sets claim_us: vfiod's median round trip, timed by the client.
claim_median() {
    local out
    out=$("$BENCH_CLAIM" roundtrip vga2 "$g" "$rounds" 2>&1)
    like "$out" "^# result" "vfiod: $rounds round trips of the second VGA ($1)"
    claim_us=$(printf '%s\n' "$out" | sed -n 's/.* vfiod median_us=\([0-9]*\) .*/\1/p' | head -1)
}

modprobe vfio-pci
udevadm settle
is "$(pci_driver "$vga")" bochs-drm "the second VGA is on bochs-drm"
card=$(ls "/sys/bus/pci/devices/$vga/drm" | grep -m1 '^card')
check "with its DRM node /dev/dri/$card" test -c "/dev/dri/$card"
check "it is not the boot VGA" test "$(cat /sys/bus/pci/devices/$vga/boot_vga)" = 0

claim_median "no load"
echo "# result none processes=0 fds=0 claim_us=$claim_us fuser_us=$(fuser_median /dev/dri/$card)"
touch /tmp/fd-hog.file
for n in $loads; do
    coproc hog { "$BENCH_FD_HOG" "$n" "$fds" "$threads" /tmp/fd-hog.file; }
    read -r line <&"${hog[0]}"
    is "$line" ready "$n processes hold $fds fds each, in $threads threads"
    total=$(ls /proc/[0-9]*/fd 2>/dev/null | wc -l)
    claim_median "$n processes"
    fuser_us=$(fuser_median "/dev/dri/$card")
    echo "# result load processes=$n fds=$((n * fds)) claim_us=$claim_us fuser_us=$fuser_us all_fds=$total threads=$((n * threads))"
    eval "exec ${hog[1]}>&-"
    wait "$hog_PID" 2>/dev/null
done
is "$(pci_driver "$vga")" bochs-drm "the VGA is back on bochs-drm"
done_testing
