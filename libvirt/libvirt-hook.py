# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libvirt-hook.py DOMAIN OPERATION SUBOPERATION EXTRA < DOMAIN-XML,
# run by vfiod's libvirt hook: at "prepare begin", claims through vfiod
# the IOMMU group of each of the domain's <hostdev mode='subsystem'
# type='pci' managed='no'> devices, as a persistent lease of root's, and
# notes them as the domain's in /run/vfiod-libvirt; at "release end",
# releases the groups noted for the domain, and no other: libvirt also
# releases a domain that never started, whose groups may be someone
# else's. A claim vfiod refuses fails the hook, which keeps the domain
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


def release(targets):
    for target in targets:
        status, answer = client("release", target)
        # Not claimed (5): released already, by hand or by vfiod.
        if status not in (0, 5):
            print(f"vfiod: cannot return IOMMU group {target}: {answer.get('message')}", file=sys.stderr)


def note(key, targets):
    """The groups claimed for the domain, for its release to find."""
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    path = os.path.join(STATE, key)
    with open(path + ".new", "w") as f:
        f.write("".join(target + "\n" for target in targets))
    os.replace(path + ".new", path)


def noted(key):
    """The groups noted for the domain, forgotten as they are read."""
    path = os.path.join(STATE, key)
    try:
        with open(path) as f:
            targets = f.read().split()
    except FileNotFoundError:
        return []
    os.unlink(path)
    return targets


def prepare(domain, key, targets):
    claimed = []
    for target in targets:
        status, answer = client("claim", target, "--persistent")
        if status != 0:
            release(claimed)
            print(f"vfiod refuses the device(s) of domain '{domain}' (IOMMU group {target}): "
                  f"{answer.get('message', 'no answer')} [{answer.get('error', 'exit ' + str(status))}]",
                  file=sys.stderr)
            return 1
        claimed.append(target)
    note(key, claimed)
    return 0


def main(argv):
    if len(argv) < 3:
        print("usage: libvirt-hook.py DOMAIN OPERATION SUBOPERATION [EXTRA] < DOMAIN-XML", file=sys.stderr)
        return 2
    domain, operation, suboperation = argv[:3]
    if (operation, suboperation) not in (("prepare", "begin"), ("release", "end")):
        return 0
    root = parse(sys.stdin.read())
    key = domain_key(root, domain)
    if key is None:
        print(f"vfiod: domain '{domain}' has no UUID nor a name to note its devices by", file=sys.stderr)
        return 1
    if operation == "release":
        release(noted(key))
        return 0
    targets = groups_of(unmanaged_pci_addresses(root))
    return prepare(domain, key, targets) if targets else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
