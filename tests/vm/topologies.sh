# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Named device topologies of the test VM.
#
# Sourced by the harness (to build QEMU's command line) and by scenarios in
# the guest (to know the addresses). Every topology owns fixed slots, so any
# set of them can be combined in one boot. The two virtio-9p devices that
# carry the guest's root filesystem and the results share are always present.

VM_ROOT9P_ADDR=0000:00:10.0     # backs the guest's root filesystem
VM_RESULTS9P_ADDR=0000:00:11.0  # writable share for results
VM_ETC9P_ADDR=0000:00:12.0      # the guest's /etc/vfiod, with --etc-vfiod
VM_VGA_ADDR=0000:00:02.0        # std VGA, the boot display
VM_EDU_ADDR=0000:00:03.0        # QEMU edu (1234:11e8): no host driver
VM_E1000_ADDR=0000:00:04.0      # e1000: the host driver binds it
VM_MF_ADDRS="0000:00:05.0 0000:00:05.1"   # one slot, two functions, one group
VM_BRIDGE_ADDR=0000:00:06.0     # conventional PCI bridge ...
VM_BRIDGED_ADDRS="0000:01:01.0 0000:01:02.0"  # ... and the endpoints behind it
VM_NVME_ADDR=0000:00:07.0       # nvme: the host driver probes asynchronously
VM_EDU2_ADDR=0000:00:08.0       # a second edu, identical to the first
VM_E1000B_ADDR=0000:00:09.0     # a second e1000, identical to the first
VM_NVME2_ADDR=0000:00:0a.0      # a second nvme, for a RAID1 over both
VM_VGA2_ADDR=0000:00:0b.0       # a second std VGA: DRM nodes, not the boot display
VM_DISPLAY_ADDR=0000:00:0c.0    # bochs-display: a GPU of class "display", not VGA
VM_USB_ADDR=0000:00:0e.0        # xHCI, a hub on it and a USB disk behind the hub
VM_NVME_MPATH_ADDR=0000:00:0f.0 # nvme in a subsystem, with 0f.1: their namespace multipathed
VM_NVME_SRIOV_ADDR=0000:00:1b.0 # nvme with SR-IOV: its virtual functions at 1b.1 and 1b.2
# A conventional PCI bridge with one nvme behind it, which the kernel can
# reset by FLR and by a reset of the bridge's bus; the nvme's bus number
# depends on the bridges before it: the child of this address.
VM_NVME_BRIDGE_ADDR=0000:00:1c.0
VM_VIRTIO_NET_ADDR=0000:00:1d.0 # virtio-net: its interface lives below a virtio device, not the function
VM_GPU_AUDIO_ADDRS="0000:00:0d.0 0000:00:0d.1"  # a std VGA and its HD audio function, one group
VM_EDU8_ADDRS="0000:00:13.0 0000:00:14.0 0000:00:15.0 0000:00:16.0 0000:00:17.0 0000:00:18.0 0000:00:19.0 0000:00:1a.0"  # eight edus, eight groups
# Eight PCIe root ports, the functions of one slot, with an nvme behind
# each: eight groups (the ports have ACS) of devices that have a host
# driver and a reset (FLR). Each nvme is the one device behind its port.
VM_NVME8_PORTS="0000:00:1e.0 0000:00:1e.1 0000:00:1e.2 0000:00:1e.3 0000:00:1e.4 0000:00:1e.5 0000:00:1e.6 0000:00:1e.7"

# The default set, and the twins that only some scenarios need.
VM_TOPOLOGIES="edu e1000 multifunction bridge vga nvme"
VM_KNOWN_TOPOLOGIES="$VM_TOPOLOGIES edu2 e1000b nvme2 vga2 display gpu-audio edu8 nvme8 usb-disk nvme-mpath nvme-sriov nvme-bridged virtio-net"

# topology_qemu_args NAME WORKDIR: append NAME's devices to the array
# QEMU_TOPOLOGY_ARGS; WORKDIR holds any backing files it needs.
topology_qemu_args() {
    local name=$1 workdir=$2
    case $name in
    edu)
        QEMU_TOPOLOGY_ARGS+=(-device edu,addr=03.0) ;;
    e1000)
        QEMU_TOPOLOGY_ARGS+=(-netdev user,id=vmnet0,restrict=on
                             -device e1000,netdev=vmnet0,addr=04.0) ;;
    multifunction)
        QEMU_TOPOLOGY_ARGS+=(-netdev user,id=vmnet1,restrict=on
                             -device e1000,netdev=vmnet1,addr=05.0,multifunction=on
                             -device edu,addr=05.1) ;;
    bridge)
        QEMU_TOPOLOGY_ARGS+=(-device pci-bridge,id=vmbridge,chassis_nr=1,shpc=off,addr=06.0
                             -device edu,bus=vmbridge,addr=01.0
                             -netdev user,id=vmnet2,restrict=on
                             -device e1000,netdev=vmnet2,bus=vmbridge,addr=02.0) ;;
    vga)
        QEMU_TOPOLOGY_ARGS+=(-device VGA,addr=02.0) ;;
    vga2)
        QEMU_TOPOLOGY_ARGS+=(-device VGA,addr=0b.0) ;;
    display)
        QEMU_TOPOLOGY_ARGS+=(-device bochs-display,addr=0c.0) ;;
    gpu-audio)
        QEMU_TOPOLOGY_ARGS+=(-device VGA,addr=0d.0,multifunction=on
                             -audiodev none,id=vmsound -device intel-hda,id=vmhda,addr=0d.1
                             -device hda-duplex,bus=vmhda.0,audiodev=vmsound) ;;
    edu2)
        QEMU_TOPOLOGY_ARGS+=(-device edu,addr=08.0) ;;
    e1000b)
        QEMU_TOPOLOGY_ARGS+=(-netdev user,id=vmnet3,restrict=on
                             -device e1000,netdev=vmnet3,addr=09.0) ;;
    nvme)
        truncate -s 16M "$workdir/nvme.img"
        QEMU_TOPOLOGY_ARGS+=(-drive "file=$workdir/nvme.img,if=none,format=raw,id=vmnvme"
                             -device nvme,serial=vfiodtest,drive=vmnvme,addr=07.0) ;;
    edu8)
        for a in $VM_EDU8_ADDRS; do
            QEMU_TOPOLOGY_ARGS+=(-device "edu,addr=${a#0000:00:}")
        done ;;
    nvme8)
        local i mf=,multifunction=on
        for i in 0 1 2 3 4 5 6 7; do
            truncate -s 1M "$workdir/nvme8-$i.img"
            QEMU_TOPOLOGY_ARGS+=(-device "pcie-root-port,id=vmrp8$i,chassis=$((80 + i)),addr=1e.$i$mf"
                                 -drive "file=$workdir/nvme8-$i.img,if=none,format=raw,id=vmnvme8$i"
                                 -device "nvme,serial=vfiod8$i,drive=vmnvme8$i,bus=vmrp8$i")
            mf=
        done ;;
    nvme2)
        truncate -s 128M "$workdir/nvme2.img"
        QEMU_TOPOLOGY_ARGS+=(-drive "file=$workdir/nvme2.img,if=none,format=raw,id=vmnvme2"
                             -device nvme,serial=vfiodtest2,drive=vmnvme2,addr=0a.0) ;;
    virtio-net)
        QEMU_TOPOLOGY_ARGS+=(-netdev user,id=vmnet4,restrict=on -device virtio-net-pci,netdev=vmnet4,addr=1d.0) ;;
    usb-disk)
        truncate -s 16M "$workdir/usb.img"
        QEMU_TOPOLOGY_ARGS+=(-device qemu-xhci,id=vmxhci,addr=0e.0
                             -device usb-hub,bus=vmxhci.0,port=1
                             -drive "file=$workdir/usb.img,if=none,format=raw,id=vmusb"
                             -device usb-storage,bus=vmxhci.0,port=1.1,drive=vmusb) ;;
    nvme-mpath)
        truncate -s 16M "$workdir/nvme-mpath.img"
        # Two controllers, functions of one slot and so of one group, each
        # with a path to the one shared namespace.
        QEMU_TOPOLOGY_ARGS+=(-device nvme-subsys,id=vmsubsys,nqn=vfiodtest-subsys
                             -device nvme,id=vmnvmempath,serial=vfiodtest3,subsys=vmsubsys,addr=0f.0,multifunction=on
                             -device nvme,id=vmnvmempath2,serial=vfiodtest3,subsys=vmsubsys,addr=0f.1
                             -drive "file=$workdir/nvme-mpath.img,if=none,format=raw,id=vmnvmempathns"
                             -device nvme-ns,drive=vmnvmempathns,bus=vmnvmempath,nsid=1,shared=on) ;;
    nvme-bridged)
        truncate -s 16M "$workdir/nvme-bridged.img"
        QEMU_TOPOLOGY_ARGS+=(-device pci-bridge,id=vmbridge3,chassis_nr=3,shpc=off,addr=1c.0
                             -drive "file=$workdir/nvme-bridged.img,if=none,format=raw,id=vmnvmebridged"
                             -device nvme,serial=vfiodtest5,drive=vmnvmebridged,bus=vmbridge3,addr=01.0) ;;
    nvme-sriov)
        QEMU_TOPOLOGY_ARGS+=(-device nvme-subsys,id=vmsubsyssriov,nqn=vfiodtest-sriov
                             -device nvme,serial=vfiodtest4,subsys=vmsubsyssriov,addr=1b.0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2) ;;
    *)
        echo "unknown topology '$name' (known: $VM_KNOWN_TOPOLOGIES)" >&2
        return 1 ;;
    esac
}
