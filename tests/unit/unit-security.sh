#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# unit-security.sh UNIT: systemd's own verdict on how exposed vfiod.service
# is, which must stay at 2.0 or below.
set -u
unit=$1
echo "1..2"
if ! command -v systemd-analyze >/dev/null; then
    echo "Bail out! systemd-analyze is missing: install the systemd package"
    exit 1
fi
out=$(systemd-analyze security --offline=true "$unit" 2>&1)
level=$(sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
if [ -n "$level" ]; then
    echo "ok 1 - systemd-analyze rates $(basename "$unit") at $level"
else
    echo "not ok 1 - no exposure level in systemd-analyze's answer"
    sed 's/^/# /' <<<"$out"
fi
if [ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
    echo "ok 2 - $level is 2.0 or lower"
else
    echo "not ok 2 - exposure ${level:-unknown} is above 2.0"
    grep '✗' <<<"$out" | sed 's/^/# /'
fi
