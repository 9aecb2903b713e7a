# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package, as an administrator meets it: installed with apt into
# a system where nothing of vfiod is (no vfio group, vfio-pci not loaded,
# no reboot after), first used by alice with a nested QEMU, upgraded while
# leases are held, and purged. VM_DEB: the package built by
# packaging/build-deb.
. "$VM_SRCDIR/tests/vm/guest/tap.sh"

edu=$VM_EDU_ADDR e1000=$VM_E1000_ADDR
as_alice() { timeout 300 setpriv --reuid=alice --regid=alice --init-groups "$@"; }
ge=$(pci_group "$e1000") gd=$(pci_group "$edu")
e1000_home() { [ "$(pci_driver "$e1000")" = e1000 ]; }

# ---- before: nothing of vfiod on the system ----
check "vfiod is not installed" bash -c '! dpkg-query -W vfiod'
check "nor is vfioctl-client" bash -c '! command -v vfioctl-client'
check "there is no vfio group" bash -c '! getent group vfio'
modprobe -r vfio_pci vfio_iommu_type1 vfio 2>/dev/null
check "vfio-pci is not loaded" test ! -e /sys/module/vfio_pci
check "e1000 is on its host driver" e1000_home

# The triggers this package fires that the test VM has no use for: the
# guest boots an initramfs of the harness's, not /boot's, and reads no man
# page (man-db's trigger rebuilds its whole index): both would cost
# minutes under TCG.
sed -i 's/^update_initramfs=.*/update_initramfs=no/' /etc/initramfs-tools/update-initramfs.conf
rm -f /var/lib/man-db/auto-update

# ---- install ----
apt_get() { DEBIAN_FRONTEND=noninteractive timeout 200 apt-get -y "$@" 2>&1; }
started=$SECONDS
out=$(apt_get install --no-install-recommends "$VM_DEB")
is "$?" 0 "apt-get install ./vfiod.deb succeeds ($((SECONDS - started)) s)" || diag "$out"
check "vfioctl-client is installed" command -v vfioctl-client
check "the package created the vfio group (sysusers.d)" getent group vfio
check "and the user vfiod, which vfiod.service runs as" getent passwd vfiod
is "$(systemctl show -P ActiveState vfiod.service)" inactive "the package starts nothing: vfiod waits for its first caller"
is "$(systemctl is-enabled vfiod.service 2>&1)" disabled "and enables nothing (an administrator may)"
check "completion is in place for bash" test -r /usr/share/bash-completion/completions/vfioctl-client
check "the man pages are installed" test -r /usr/share/man/man1/vfioctl-client.1.gz
check "and the docs they name, by those names" \
    test -r /usr/share/doc/vfiod/safety.md -a -r /usr/share/doc/vfiod/kubernetes.md -a -r /usr/share/doc/vfiod/libvirt.md

# What README tells an administrator to do, and nothing else.
usermod -aG vfio alice
install -m 644 /usr/share/doc/vfiod/examples/49-vfiod-vfio-group.rules /etc/polkit-1/rules.d/
systemctl try-restart polkit.service

# ---- first use: alice's claim for her nested QEMU ----
cat > /tmp/alice-vm <<'SCRIPT'
#!/bin/sh
printf 'info pci\nquit\n' | qemu-system-x86_64 -M q35 -S -m 64 -nodefaults -display none \
    -monitor stdio -device "vfio-pci,host=${1#0000:}"
SCRIPT
chmod 755 /tmp/alice-vm
out=$(as_alice vfioctl-client claim "$edu" --memory 64M -- /tmp/alice-vm "$edu" 2>&1)
is "$?" 0 "alice's first claim, with her nested QEMU, succeeds" || diag "$out"
like "$out" "PCI device 1234:11e8" "her QEMU sees edu"
is "$(systemctl show -P ActiveState vfiod.service)" active "vfiod was activated through the package's files"
check "its unit loaded vfio-pci" test -d /sys/module/vfio_pci
is "$(pci_driver "$edu")" none "edu is back without a driver"
like "$(vfioctl-client --json doctor)" '"check":"vfio-pci","severity":"ok"' "doctor, from inside the sandbox, finds vfio-pci"

# ---- upgrade while leases are held ----
vfioctl-client --no-ask-password claim "$e1000" > /tmp/claim.out 2>&1
is "$?" 0 "root claims e1000 (persistent)" || diag "$(cat /tmp/claim.out)"
setpriv --reuid=alice --regid=alice --init-groups vfioctl-client claim "$edu" --wait > /tmp/wait.out 2>&1 &
waiter=$!
edu_leased() { [ "$(group_state "$gd")" = claimed ]; }
check "alice holds edu by her connection" wait_for 30 edu_leased || diag "$(cat /tmp/wait.out)"
pid_before=$(systemctl show -P MainPID vfiod.service)
started=$SECONDS
out=$(apt_get install --reinstall "$VM_DEB")
is "$?" 0 "the package is upgraded in place (reinstalled, $((SECONDS - started)) s)" || diag "$out"
pid_after=$(systemctl show -P MainPID vfiod.service)
check "the upgrade restarted vfiod ($pid_before -> $pid_after)" test "$pid_after" != "$pid_before" -a "$pid_after" != 0
leases=$(vfioctl-client --json leases)
like "$leases" "\"iommu_group\":$ge,.*\"lifetime\":\"persistent\"" "root's lease of e1000 survives the upgrade"
like "$leases" "\"iommu_group\":$gd,.*\"lifetime\":\"connection\"" "and alice's of edu" || diag "$leases"
is "$(pci_driver "$e1000")" vfio-pci "e1000 is still on vfio-pci"
is "$(stat -c %U "/dev/vfio/$gd")" alice "alice still owns /dev/vfio/$gd"
kill $waiter; wait $waiter 2>/dev/null
edu_back() { [ "$(group_state "$gd")" = unbound ]; }
check "alice's lease still ends with her connection" wait_for 10 edu_back

# ---- purge, with root's lease still held ----
files=$(dpkg-query -L vfiod | while read -r f; do [ -d "$f" ] || echo "$f"; done)
mkdir -p /etc/vfiod && echo "MemlockMax=4G" > /etc/vfiod/limits.conf
started=$SECONDS
out=$(apt_get purge vfiod)
is "$?" 0 "apt-get purge vfiod succeeds ($((SECONDS - started)) s)" || diag "$out"
like "$out" "Released IOMMU group $ge" "removing it gave e1000's group back first"
check "e1000 is on its host driver again" e1000_home
is "$(ls /sys/bus/pci/drivers/vfio-pci 2>/dev/null | grep -c '^0000:')" 0 "no device is left on vfio-pci"
left=$(for f in $files; do [ -e "$f" ] || [ -L "$f" ] && echo "$f"; done)
is "$left" "" "none of the package's $(echo "$files" | wc -l) files is left"
check "nor its configuration (/etc/vfiod)" test ! -e /etc/vfiod
check "nor its state (/run/vfiod)" test ! -e /run/vfiod
is "$(systemctl show -P LoadState vfiod.service)" not-found "systemd no longer knows vfiod.service"
check "the vfio group stays (files and rules outside the package may name it)" getent group vfio

done_testing
