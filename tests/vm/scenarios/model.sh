# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The device model against the real kernel: vfiod, started by bus
# activation, agrees with sysfs on every topology, finds the IOMMU, and
# follows a device rebound by hand with its state and a signal. First, while
# this fast boot has not loaded vfio-pci yet: vfiod-early loads it for a
# reserved device (systemd boots load it from modules-load.d, vm-reserve).
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

mkdir -p /tmp/early/reservations.d
echo "$VM_EDU_ADDR" > /tmp/early/reservations.d/edu.conf
check "vfio-pci is not loaded yet" test ! -e /sys/bus/pci/drivers/vfio-pci
like "$(/usr/libexec/vfiod-early --config-dir /tmp/early 2>&1)" "$VM_EDU_ADDR reserved for vfio-pci" \
    "vfiod-early reserves edu"
is "$(pci_driver "$VM_EDU_ADDR")" vfio-pci "loading vfio-pci bound it"
echo > "/sys/bus/pci/devices/$VM_EDU_ADDR/driver_override"
echo "$VM_EDU_ADDR" > "/sys/bus/pci/devices/$VM_EDU_ADDR/driver/unbind"

json=$(vfioctl-client --json list)
check "vfioctl-client list --json works (vfiod bus-activated)" test -n "$json"
is "$(busctl --system get-property io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager IommuState)" \
    's "enabled"' "vfiod reports the IOMMU enabled"

# Every PCI function of sysfs, with its driver and group, and nothing else.
mismatches=$(printf '%s' "$json" | python3 -c '
import json, os, sys
listed = {d["address"]: d for d in json.load(sys.stdin)["devices"]}
root = "/sys/bus/pci/devices"
seen = set()
for addr in sorted(os.listdir(root)):
    seen.add(addr)
    d = listed.get(addr)
    if d is None:
        print(f"{addr}: in sysfs, not listed"); continue
    link = os.path.join(root, addr, "driver")
    driver = os.path.basename(os.readlink(link)) if os.path.islink(link) else None
    link = os.path.join(root, addr, "iommu_group")
    group = int(os.path.basename(os.readlink(link))) if os.path.islink(link) else None
    vendor = open(os.path.join(root, addr, "vendor")).read().strip()[2:]
    if (d["driver"], d["iommu_group"], d["vendor_id"]) != (driver, group, vendor):
        print(f"{addr}: listed {d[\"driver\"]}/{d[\"iommu_group\"]}/{d[\"vendor_id\"]}, sysfs {driver}/{group}/{vendor}")
for addr in set(listed) - seen:
    print(f"{addr}: listed, not in sysfs")
')
is "$mismatches" "" "list --json agrees with sysfs on every device: driver, group, vendor"

for t in $VM_ENABLED_TOPOLOGIES; do
    case $t in
    edu) addr=$VM_EDU_ADDR ;; e1000) addr=$VM_E1000_ADDR ;; multifunction) addr=${VM_MF_ADDRS%% *} ;;
    bridge) addr=${VM_BRIDGED_ADDRS%% *} ;; vga) addr=$VM_VGA_ADDR ;; nvme) addr=$VM_NVME_ADDR ;;
    esac
    group=$(pci_group $addr)
    members=$(vfioctl-client --json show $group | python3 -c '
import json, sys; print(" ".join(sorted(d["address"] for d in json.load(sys.stdin)["devices"])))')
    is "$members" "$(group_members $group)" "show $group lists the $t group as sysfs does"
done
like "$(vfioctl-client show ${VM_BRIDGED_ADDRS%% *})" "group: +$(pci_group $VM_BRIDGE_ADDR)" \
    "show of a device behind the bridge names the bridge's group"

doctor=$(vfioctl-client --json doctor)
like "$doctor" '"daemon":true' "doctor asks vfiod"
like "$doctor" '"check":"iommu-enabled","severity":"ok"' "doctor reports the IOMMU enabled"
like "$doctor" '"check":"interrupt-remapping","severity":"ok"' "doctor reports interrupt remapping"
like "$doctor" '"check":"boot-vga","severity":"info","summary":"'"$VM_VGA_ADDR"' is the boot VGA' \
    "doctor names the boot VGA"
like "$(vfioctl-client doctor 2>&1)" "^ok +The IOMMU is enabled" "doctor's text output"

# A device rebound by hand: the daemon follows, with a signal.
edu_path=$(busctl --system call io.github.vfiod1 /io/github/vfiod1 io.github.vfiod1.Manager \
    GetDevice s "${VM_EDU_ADDR#0000:}" | cut -d'"' -f2)
edu_on_vfio() { [ "$(device_state "$VM_EDU_ADDR")" = vfio ]; }
dbus-monitor --system "type='signal',sender='io.github.vfiod1',path='$edu_path'" > /tmp/signals 2>&1 &
monitor=$!
sleep 1
modprobe vfio-pci
echo vfio-pci > /sys/bus/pci/devices/$VM_EDU_ADDR/driver_override
echo $VM_EDU_ADDR > /sys/bus/pci/drivers_probe
check "vfiod follows edu onto vfio-pci" wait_for 10 edu_on_vfio
check "a PropertiesChanged signal told of it" wait_for 10 grep -q 'string "vfio"' /tmp/signals
kill $monitor
is "$(vfioctl-client --json show $VM_EDU_ADDR | python3 -c 'import json,sys; print(json.load(sys.stdin)["driver"])')" \
    vfio-pci "show reports the new driver"

done_testing
