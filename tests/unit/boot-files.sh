#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The reservations' boot integration as built: shell syntax of the
# initramfs-tools and dracut scripts, and the orderings that make
# vfiod-early run before any host driver loads. The vm suite runs them: the
# unit and the rule at boot, the initramfs hooks in images built in the guest.
set -u
build=$1
n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@" > /dev/null 2>&1; then ok "$d"; else nok "$d"; fi; }

sys=$build/systemd
check "the initramfs-tools hook is valid sh" sh -n "$sys/initramfs-tools-hook-vfiod"
check "the initramfs-tools init-top script is valid sh" sh -n "$sys/initramfs-tools-init-top-vfiod"
check "the dracut module is valid bash" bash -n "$sys/dracut-module-setup.sh"
check "the dracut hook is valid sh" sh -n "$sys/dracut-vfiod-early.sh"
check "the dracut hook runs before udev's coldplug" grep -q 'inst_hook pre-trigger' "$sys/dracut-module-setup.sh"
check "the boot unit runs before udev's coldplug" grep -qx 'Before=systemd-udev-trigger.service sysinit.target shutdown.target' "$sys/vfiod-early.service"
check "and only when something is reserved" grep -qx 'ConditionDirectoryNotEmpty=/etc/vfiod/reservations.d' "$sys/vfiod-early.service"
# 80-drivers.rules loads host drivers: the rule must sort before it.
rule=$(ls "$sys"/*-vfiod.rules)
check "the udev rule sorts before 80-drivers.rules" test "$(printf '%s\n' "${rule##*/}" 80-drivers.rules | sort | head -n 1)" = "${rule##*/}"
helper=$(sed -n 's/.*IMPORT{program}="\([^ ]*\) .*/\1/p' "$rule")
check "the rule runs the installed helper ($helper)" test "${helper##*/}" = vfiod-early
check "every @...@ was substituted" bash -c "! grep -l '@[a-z]*@' '$sys'/initramfs-tools-* '$sys'/dracut-* '$rule' '$sys/vfiod-early.service'"
echo "1..$n"
exit $failed
