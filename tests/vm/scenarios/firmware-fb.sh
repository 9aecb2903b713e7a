# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The firmware's framebuffer on the GPU it set up. The VM boots through
# UEFI (OVMF) with the GPU's own driver blacklisted, as hosts that keep a
# GPU for VMs do, so efifb draws the console into the GPU's BAR. Two GPUs,
# one per boot:
#  - display (bochs-display, class "display"): vfio-pci leaves efifb alone,
#    so the kernel by itself cannot give the guest the BAR ("can't
#    reserve"); vfiod unbinds efifb for the claim and binds it again after;
#  - vga (the std VGA): vfio-pci (Linux 5.19 and later) removes efifb for
#    good as it binds; vfiod says that the console cannot come back.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

if topology_enabled display; then gpu=$VM_DISPLAY_ADDR; else gpu=$VM_VGA_ADDR; fi
fbdev=/sys/bus/platform/devices/efi-framebuffer.0

fb_driver() { basename "$(readlink "$fbdev/driver" 2>/dev/null)" 2>/dev/null || echo none; }
# The range named $1 in /proc/iomem and the one that holds it: "PARENT CHILD".
iomem_parent_of() {
    awk -v want="$1" '{ depth = match($0, /[^ ]/); name = $0; sub(/^[^:]*: /, "", name)
                        parent[depth] = name
                        if (name == want) { print parent[depth - 2]; exit } }' /proc/iomem
}
fbcon_bound() { grep -qs 1 $(grep -ls "frame buffer" /sys/class/vtconsole/vtcon*/name | sed 's/name$/bind/') /dev/null; }
# info pci of a nested QEMU given the GPU, and whether the kernel refused it its BARs.
nested_qemu_sees() {
    local before out
    before=$(dmesg | grep -c "can't reserve")
    out=$(printf 'info pci\nquit\n' | timeout 120 qemu-system-x86_64 -M q35 -S -m 64 -nodefaults -display none \
          -monitor stdio -device "vfio-pci,host=${gpu#0000:}" 2>&1)
    printf '%s\n' "$out" | grep -q "PCI device 1234:1111" || { echo "$out"; return 1; }
    [ "$(dmesg | grep -c "can't reserve")" = "$before" ] || { dmesg | grep "can't reserve" | tail -2; return 1; }
}
vfiod_on_bus() {
    busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        NameHasOwner s io.github.vfiod1 | grep -q true
}

# ---- how the VM booted: efifb on the GPU, the console on efifb ----
is "$(pci_driver "$gpu")" none "the GPU's own driver is kept off (modprobe.blacklist=bochs)"
is "$(fb_driver)" efi-framebuffer "efifb drives the firmware's framebuffer"
is "$(iomem_parent_of efifb)" "$gpu" "its memory lies in the GPU's BAR"
check "the console is on it" fbcon_bound
modprobe vfio-pci

# vfiod started by hand, for its log.
/usr/libexec/vfiod --idle-timeout=0 > /tmp/vfiod.log 2>&1 &
vfiod_pid=$!
wait_for 20 vfiod_on_bus || diag "vfiod did not come up: $(tail -5 /tmp/vfiod.log)"

# ---- the kernel alone cannot give a guest that BAR ----
if topology_enabled display; then
    echo vfio-pci > "/sys/bus/pci/devices/$gpu/driver_override"
    echo "$gpu" > /sys/bus/pci/drivers_probe
    out=$(nested_qemu_sees)
    like "$out" "can't reserve" "bound by hand, vfio-pci cannot reserve the BAR efifb holds"
    echo > "/sys/bus/pci/devices/$gpu/driver_override"
    echo "$gpu" > /sys/bus/pci/drivers/vfio-pci/unbind
    is "$(pci_driver "$gpu") $(fb_driver)" "none efi-framebuffer" "  (back as it was)"
fi

# ---- doctor and the refusal ----
doctor=$(vfioctl-client doctor)
like "$doctor" "$gpu carries the firmware framebuffer \(efi-framebuffer.0" "doctor names the firmware framebuffer on the GPU"
like "$doctor" "GPU $gpu has no reset method" "  and flags the GPU without a reset method"
like "$doctor" "The vfio-pci driver is loaded \(a module\)" "  and says that vfio-pci is a module here"
out=$(vfioctl-client --json claim "$gpu" 2>/dev/null)
like "$out" '"error":"io.github.vfiod1.Error.HostCritical"' "a claim without force is refused (HostCritical)"
like "$out" "carries the firmware framebuffer \\(efi-framebuffer.0, driver efi-framebuffer\\)" \
    "  naming the firmware framebuffer"
like "$out" "shows the console \\(vtcon[0-9]: \\(M\\) frame buffer device\\)" "  and the console on it"

# ---- the forced claim frees the BAR ----
check "a forced claim succeeds" vfioctl-client claim --force "$gpu"
is "$(pci_driver "$gpu")" vfio-pci "the GPU is on vfio-pci"
is "$(iomem_parent_of efifb)" "" "efifb no longer holds a range of the BAR"
check "a nested QEMU sees the GPU and gets its BARs" nested_qemu_sees
like "$(cat /run/vfiod/claims/group-$(pci_group "$gpu"))" "firmware-fb efi-framebuffer.0 efi-framebuffer" \
    "the claim record notes the framebuffer to give back"

# ---- the release gives the console back where the kernel kept it ----
check "release succeeds" vfioctl-client release "$gpu"
is "$(pci_driver "$gpu")" none "the GPU is back without a driver"
if topology_enabled display; then
    is "$(fb_driver)" efi-framebuffer "efifb is bound to the firmware framebuffer again"
    is "$(iomem_parent_of efifb)" "$gpu" "  and holds its range of the BAR"
    check "the console is back on it" wait_for 5 fbcon_bound
    like "$(cat /tmp/vfiod.log)" "efi-framebuffer.0 is back on efi-framebuffer, and the console with it" \
        "vfiod's log says so"
else
    check "vfio-pci had the kernel remove efifb's device" test ! -e "$fbdev"
    like "$(cat /tmp/vfiod.log)" "The kernel removed the firmware framebuffer efi-framebuffer.0 while vfio-pci had its GPU" \
        "vfiod's log says why the console cannot come back"
fi
kill "$vfiod_pid"

done_testing
