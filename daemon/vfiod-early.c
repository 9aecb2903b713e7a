/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "early-mark.h"
#include "iommu-group.h"
#include "log.h"
#include "macro.h"
#include "number.h"
#include "pci-device-sysfs.h"
#include "reservation-config.h"
#include "sysfs-pci.h"

/* vfiod-early: puts reserved devices on vfio-pci before a host driver can
 * bind them. Run at boot before udev's coldplug (vfiod-early.service, the
 * initramfs), and by the udev rule for each PCI device added. It only ever
 * sets driver_override of devices without a driver, for every endpoint of
 * a reserved device's IOMMU group; whatever a host driver holds already is
 * left to vfiod, which moves whole groups with its safety checks. */

static const char *config_dir = SYSCONFDIR "/vfiod";
static const char *udev_address;

static void help(void)
{
        printf("vfiod-early " PACKAGE_VERSION "\n"
               "Puts reserved PCI devices on vfio-pci before host drivers bind them.\n\n"
               "Usage: vfiod-early [OPTIONS]\n\n"
               "  --config-dir=DIR   read reservations.d here (default %s)\n"
               "  --udev ADDRESS     for a udev rule: this device only; prints\n"
               "                     VFIOD_RESERVED=1 when it is reserved\n"
               "  -h --help          show this help\n\n"
               "See vfiod.conf(5).\n",
               config_dir);
}

/* Sets the override of one endpoint without a driver and binds it when
 * vfio-pci is there; 1 when it waits for vfio-pci. */
static int reserve_endpoint(const char *address)
{
        _cleanup_(pci_device_freep) PciDevice *p = NULL;
        _cleanup_free_ char *override = NULL;
        int r = pci_device_new_from_address(address, &p);

        if (r < 0) {
                log_warning_errno(r, "Cannot read %s", address);
                return 0;
        }
        if (pci_device_is_bridge(p))
                return 0;
        if (p->driver) {
                if (!streq(p->driver, VFIO_PCI_DRIVER))
                        log_notice("%s is on %s already: vfiod moves its group when it starts.", address, p->driver);
                return 0;
        }
        r = sysfs_pci_read_override(address, &override);
        if (r < 0 || !streq_ptr(override, VFIO_PCI_DRIVER)) {
                /* Marked first: an override without its mark is kept. */
                r = early_mark_set(address);
                if (r < 0)
                        log_warning("Cannot mark %s in %s (%s): it stays on vfio-pci when unreserved.", address,
                                    EARLY_MARK_DIR, strerror(-r));
                r = sysfs_pci_write_override(address, VFIO_PCI_DRIVER);
                if (r < 0) {
                        log_error_errno(r, "Cannot set driver_override of %s", address);
                        return 0;
                }
        }
        log_info("%s reserved for vfio-pci.", address);
        if (!sysfs_pci_driver_registered(VFIO_PCI_DRIVER))
                return 1;
        if ((r = sysfs_pci_probe(address)) < 0)
                log_warning_errno(r, "Cannot bind %s to vfio-pci", address);
        return 0;
}

static int reserve_member(const char *address, void *userdata)
{
        *(int *)userdata |= reserve_endpoint(address);
        return 0;
}

/* Every endpoint of the device's IOMMU group: the group moves whole.
 * 1 when one waits for vfio-pci. */
static int reserve_group(const PciDevice *p)
{
        int waiting = 0, r;

        if (p->iommu_group == PCI_IOMMU_GROUP_NONE) {
                log_warning("%s is reserved but in no IOMMU group: VFIO needs the IOMMU on; left alone.", p->address);
                return 0;
        }
        r = iommu_group_foreach_member(p->iommu_group, reserve_member, &waiting);
        if (r < 0)
                log_warning_errno(r, "Cannot list the members of IOMMU group %d", p->iommu_group);
        return waiting;
}

/* 0: not reserved; 1: reserved; 2: reserved, waiting for vfio-pci. */
static int consider(const ReservationSet *set, const char *address)
{
        _cleanup_(pci_device_freep) PciDevice *p = NULL;
        char path[RESERVATION_MATCH_STRING_MAX];
        const ReservationEntry *e;
        PciIdentity id;

        if (pci_device_new_from_address(address, &p) < 0)
                return 0;
        pci_device_identity(p, path, &id);
        e = reservation_set_find(set, &id);
        if (!e)
                return 0;
        log_debug("%s matches %s:%u.", address, e->file, e->line);
        return 1 + reserve_group(p);
}

/* 2 when a reserved device waits for vfio-pci, as consider(). */
static int consider_all(const ReservationSet *set)
{
        struct dirent **names;
        int n = scandir(SYSFS_PCI_DEVICES, &names, NULL, alphasort), most = 0;

        if (n < 0) {
                log_error("Cannot list " SYSFS_PCI_DEVICES ": %s", strerror(errno));
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.') {
                        int r = consider(set, names[i]->d_name);
                        most = r > most ? r : most;
                }
                free(names[i]);
        }
        free(names);
        return most;
}

static int parse_argv(int argc, char *argv[])
{
        enum { ARG_CONFIG_DIR = 0x100, ARG_UDEV };
        static const struct option options[] = {
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "udev", required_argument, NULL, ARG_UDEV },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        char normalized[PCI_ADDRESS_STRING_MAX];
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_CONFIG_DIR:
                        config_dir = optarg;
                        break;
                case ARG_UDEV:
                        if (pci_address_normalize(optarg, normalized) < 0 || !streq(normalized, optarg)) {
                                log_error("--udev takes a PCI address such as 0000:01:00.0, not '%s'.", optarg);
                                return -EINVAL;
                        }
                        udev_address = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'; see --help.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char *argv[])
{
        ReservationSet set;
        int found, r = parse_argv(argc, argv);

        if (r <= 0)
                return r < 0 ? 2 : 0;
        r = reservation_set_load(config_dir, &set);
        if (r < 0) {
                log_error_errno(r, "Cannot read the reservations");
                return 1;
        }
        found = udev_address ? consider(&set, udev_address) : consider_all(&set);
        reservation_set_clear(&set);
        if (found < 0)
                return 1;
        /* As vfio-pci registers, it binds every device whose override names
         * it: nobody else loads it this early, so load it. */
        if (found == 2 && (r = sysfs_pci_load_driver(VFIO_PCI_DRIVER)) < 0)
                log_error("Cannot load vfio-pci: %s; the reserved devices stay without a driver.", strerror(-r));
        if (udev_address && found > 0)
                printf("VFIOD_RESERVED=1\n");
        return 0;
}
