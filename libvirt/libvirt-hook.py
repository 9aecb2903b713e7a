# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libvirt-hook.py DOMAIN OPERATION SUBOPERATION EXTRA < DOMAIN-XML,
# run by vfiod's libvirt hook: at "prepare begin", claims through vfiod
# the IOMMU group of each of the domain's <hostdev mode='subsystem'
# type='pci' managed='no'> devices, as a persistent lease of root's, and
# notes them and their leases as the domain's in /run/vfiod-libvirt; at
# "release end", releases the groups noted for the domain whose noted lease
# still holds them, and no other: libvirt also releases a domain that never
# started, and a lease that ended meanwhile may be someone else's now.
# Under a session libvirt (not root) it does nothing. A claim vfiod refuses fails the hook, which keeps the domain
# from starting, with vfiod's reason; the groups claimed before it are
# released first. managed='yes' devices are libvirt's own to move, and
# left to it.
import json
import os
import subprocess
import sys

CLIENT = "vfioctl-client"
# Where the IOMMU groups are read, and the domains' groups noted; the unit
# test points them elsewhere.
SYSFS = os.environ.get("VFIOD_HOOK_SYSFS", "/sys")
STATE = os.environ.get("VFIOD_HOOK_STATE", "/run/vfiod-libvirt")


def parse(xml_text):
    import xml.etree.ElementTree as ET

    return ET.fromstring(xml_text)


def domain_key(root, name):
    """The domain's UUID, which no rename changes; its name without one."""
    uuid = root.findtext("uuid", "").strip()
    key = uuid or name
    return key if key and "/" not in key and not key.startswith(".") else None


def unmanaged_pci_addresses(root):
    addresses = []
    for hostdev in root.iter("hostdev"):
        if (hostdev.get("mode", "subsystem") != "subsystem" or hostdev.get("type") != "pci"
                or hostdev.get("managed", "no") != "no"):
            continue
        address = hostdev.find("source/address")
        if address is None:
            continue
        fields = [int(address.get(name, "0"), 0) for name in ("domain", "bus", "slot", "function")]
        addresses.append("%04x:%02x:%02x.%x" % tuple(fields))
    return addresses


def iommu_group(address):
    """The device's IOMMU group number, or None: vfiod then says why."""
    try:
        return os.path.basename(os.readlink(f"{SYSFS}/bus/pci/devices/{address}/iommu_group"))
    except OSError:
        return None


def groups_of(addresses):
    """One target per group, in the domain's order: a group is claimed once."""
    targets = []
    for address in addresses:
        target = iommu_group(address) or address
        if target not in targets:
            targets.append(target)
    return targets


def client(*args):
    result = subprocess.run([CLIENT, "--json", "--no-ask-password", *args], capture_output=True, text=True)
    try:
        answer = json.loads(result.stdout) if result.stdout.strip() else {}
    except ValueError:
        answer = {"message": result.stdout.strip() or result.stderr.strip()}
    return result.returncode, answer


def root_leases():
    """The object paths of root's leases now, or None when vfiod cannot say."""
    status, answer = client("leases")
    if status != 0:
        return None
    return {lease["lease"] for lease in answer.get("leases", []) if lease.get("uid") == 0}


def release(entries):
    """Ends the leases of entries [(target, lease)] that are still the ones
    claimed: a group whose lease ended meanwhile may be someone else's now.
    Returns the entries that could not be ended."""
    if not entries:
        return []
    current = root_leases()
    left = []
    for target, lease in entries:
        if current is None:
            left.append((target, lease))
            continue
        if lease not in current:
            continue
        status, answer = client("release", target)
        # Not claimed (5): it ended meanwhile.
        if status not in (0, 5):
            print(f"vfiod: cannot return IOMMU group {target}: {answer.get('message')}", file=sys.stderr)
            left.append((target, lease))
    return left


def note(key, entries):
    """The groups claimed for the domain and their leases, for its release
    to find; written after each claim, so that none is lost."""
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    path = os.path.join(STATE, key)
    if not entries:
        if os.path.exists(path):
            os.unlink(path)
        return
    with open(path + ".new", "w") as f:
        f.write("".join(f"{target} {lease}\n" for target, lease in entries))
    os.replace(path + ".new", path)


def noted(key):
    try:
        with open(os.path.join(STATE, key)) as f:
            return [tuple(line.split()) for line in f if len(line.split()) == 2]
    except FileNotFoundError:
        return []


def prepare(domain, key, targets):
    claimed = noted(key)  # a release that failed before: still the domain's
    for target in targets:
        if any(target == noted_target for noted_target, _ in claimed):
            continue
        status, answer = client("claim", target, "--persistent")
        if status != 0 or not answer.get("lease"):
            note(key, release(claimed))
            print(f"vfiod refuses the device(s) of domain '{domain}' (IOMMU group {target}): "
                  f"{answer.get('message', 'no answer')} [{answer.get('error', 'exit ' + str(status))}]",
                  file=sys.stderr)
            return 1
        claimed.append((target, answer["lease"]))
        note(key, claimed)
    return 0


def main(argv):
    if len(argv) < 3:
        print("usage: libvirt-hook.py DOMAIN OPERATION SUBOPERATION [EXTRA] < DOMAIN-XML", file=sys.stderr)
        return 2
    domain, operation, suboperation = argv[:3]
    if (operation, suboperation) not in (("prepare", "begin"), ("release", "end")):
        return 0
    # A session libvirt runs its hooks as the user, who claims for it by
    # hand (docs/libvirt.md): persistent leases are root's.
    if os.geteuid() != 0:
        return 0
    root = parse(sys.stdin.read())
    key = domain_key(root, domain)
    if key is None:
        print(f"vfiod: domain '{domain}' has no UUID nor a name to note its devices by", file=sys.stderr)
        return 1
    if operation == "release":
        note(key, release(noted(key)))
        return 0
    targets = groups_of(unmanaged_pci_addresses(root))
    return prepare(domain, key, targets) if targets else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
