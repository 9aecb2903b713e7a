# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libvirt with vfiod's hook: Debian's libvirtd starts a domain with a
# <hostdev managed='no'>, its QEMU sees the device, and 'virsh destroy'
# gives it back; a domain whose device the host needs does not start.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

edu=$VM_EDU_ADDR
g=$(pci_group "$edu")

check "virsh is installed (libvirt-clients)" command -v virsh
check "vfiod's hook is in libvirt's qemu.d" test -x /etc/libvirt/hooks/qemu.d/vfiod
systemctl start libvirtd.service
is "$(systemctl show -P ActiveState libvirtd.service)" active "libvirtd runs"

# A q35 guest under TCG with nothing but the device: it need not boot.
domain_xml() { # NAME ADDRESS
    local d b s f
    IFS=':.' read -r d b s f <<< "$2"
    cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/></source>
    </hostdev>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}

# ---- a domain with edu ----
domain_xml vfiod-edu "$edu" > /tmp/edu.xml
check "the domain is defined" virsh -q define /tmp/edu.xml
out=$(timeout 300 virsh start vfiod-edu 2>&1)
is "$?" 0 "virsh start succeeds" || diag "$out" "$(journalctl -b -u libvirtd --no-pager | tail -20)"
is "$(pci_driver "$edu")" vfio-pci "the hook had vfiod move edu to vfio-pci"
like "$(vfioctl-client --json leases)" "\"iommu_group\":$g,\"uid\":0,.*\"lifetime\":\"persistent\"" \
    "under a persistent lease of root's"
qemu_pci() { virsh qemu-monitor-command vfiod-edu --hmp 'info pci'; }
like "$(qemu_pci 2>&1)" "PCI device 1234:11e8" "the domain's QEMU sees edu"
out=$(virsh destroy vfiod-edu 2>&1)
is "$?" 0 "virsh destroy succeeds" || diag "$out"
edu_back() { [ "$(pci_driver "$edu")" = none ] && [ "$(group_state "$g")" = unbound ]; }
check "edu is back without a driver" wait_for 30 edu_back
is "$(vfioctl-client --json leases)" '{"leases":[],"held":[]}' "and nobody leases it"
check "the hook forgot the domain's groups" test ! -e /run/vfiod-libvirt/"$(virsh domuuid vfiod-edu)"

# ---- a device someone else holds: the domain does not start, and the
# release libvirt then runs leaves her lease alone ----
install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
systemctl restart polkit.service
setpriv --reuid=alice --regid=alice --init-groups vfioctl-client claim "$edu" --wait > /tmp/alice.out 2>&1 &
alice=$!
alice_holds() { [ "$(group_state "$g")" = claimed ]; }
check "alice holds edu" wait_for 30 alice_holds || diag "$(cat /tmp/alice.out)"
out=$(timeout 300 virsh start vfiod-edu 2>&1)
check "virsh start fails" test $? != 0
like "$out" "vfiod refuses .*GroupBusy" "vfiod says the group is busy" || diag "$out"
like "$(vfioctl-client --json leases)" "\"iommu_group\":$g,\"uid\":$(id -u alice)," "alice's lease stays"
is "$(stat -c %U "/dev/vfio/$g")" alice "and so does her node"
kill $alice; wait $alice 2>/dev/null
check "edu comes back when she lets go" wait_for 30 edu_back

# ---- a domain with the device behind the root filesystem ----
domain_xml vfiod-root "$VM_ROOT9P_ADDR" > /tmp/root.xml
check "a domain with the root filesystem's device is defined" virsh -q define /tmp/root.xml
out=$(timeout 300 virsh start vfiod-root 2>&1)
check "virsh start fails" test $? != 0
like "$out" "vfiod refuses the device\\(s\\) of domain 'vfiod-root'.*HostCritical" "with vfiod's reason"
diag "$out"
is "$(pci_driver "$VM_ROOT9P_ADDR")" virtio-pci "the device stays on its driver"
is "$(virsh domstate vfiod-root 2>&1)" "shut off" "the domain is not running"
is "$(vfioctl-client --json leases)" '{"leases":[],"held":[]}' "no lease is left"

done_testing
