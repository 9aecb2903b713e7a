/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device-use.h"
#include "early-mark.h"
#include "fake-kernel.h"
#include "handover.h"
#include "macro.h"
#include "pci-class.h"
#include "pci-device-sysfs.h"
#include "sysfs-pci.h"
#include "sysfs-platform.h"
#include "host-units.h"
#include "uevent-monitor.h"
#include "vfio-holders.h"

typedef struct FakeDevice {
        const char *address, *syspath;
        uint16_t vendor, device;
        uint32_t class_code;
        const char *home_driver; /* what a probe without override binds */
        int group;
        bool boot_vga;
        const char *initial_override; /* a device with one starts on its driver */
        /* The kernel's state now. */
        const char *driver, *override;
} FakeDevice;

#define ROOT "/sys/devices/pci0000:00/"
#define FIXTURE(addr, path, v, d, cls, home, grp, ...)                                                     \
        { .address = addr, .syspath = path, .vendor = v, .device = d, .class_code = cls,                \
          .home_driver = home, .group = grp, __VA_ARGS__ }

static FakeDevice devices[] = {
        FIXTURE("0000:00:00.0", ROOT "0000:00:00.0", 0x8086, 0x29c0, 0x060000, NULL, 0),
        FIXTURE("0000:00:01.0", ROOT "0000:00:01.0", 0x1234, 0x1111, 0x030000, "bochs-drm", 1, .boot_vga = true),
        FIXTURE("0000:00:02.0", ROOT "0000:00:02.0", 0x8086, 0x100e, 0x020000, "e1000", 2),
        FIXTURE("0000:00:03.0", ROOT "0000:00:03.0", 0x1b36, 0x0010, 0x010802, "nvme", 3),
        FIXTURE("0000:00:04.0", ROOT "0000:00:04.0", 0x8086, 0x7c00, 0x060400, "pcieport", 4),
        FIXTURE("0000:01:00.0", ROOT "0000:00:04.0/0000:01:00.0", 0x10de, 0x1f82, 0x030000, "nouveau", 4),
        FIXTURE("0000:01:00.1", ROOT "0000:00:04.0/0000:01:00.1", 0x10de, 0x10fa, 0x040300, "snd_hda_intel", 4),
        FIXTURE("0000:00:05.0", ROOT "0000:00:05.0", 0x1234, 0x11e8, 0x00ff00, NULL, 5),
        FIXTURE("0000:00:06.0", ROOT "0000:00:06.0", 0x1af4, 0x1041, 0x020000, "virtio-pci", 6,
                .initial_override = VFIO_PCI_DRIVER),
        FIXTURE("0000:00:07.0", ROOT "0000:00:07.0", 0x1af4, 0x1042, 0x010000, "virtio-pci", PCI_IOMMU_GROUP_NONE),
        FIXTURE("0000:00:1f.0", ROOT "0000:00:1f.0", 0x8086, 0x2918, 0x060100, "lpc_ich", 7),
        FIXTURE("0000:00:1f.3", ROOT "0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, "i801_smbus", 7),
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FakeWorld world = { .held_group = -1 };
static bool vfio_pci_loaded;
static char node_dir[VFIO_NODE_PATH_MAX - 4]; /* room for "/<group>" */
static uid_t node_owner[16];

/* Workers, the event loop and the fuzzer all call in. */
static void lock_machine(void)
{
        pthread_mutex_lock(&lock);
}

static void unlock_machine(void)
{
        pthread_mutex_unlock(&lock);
}

/* Where a device starts, and is back at rest. */
static const char *initial_driver(const FakeDevice *d)
{
        return d->initial_override ?: d->home_driver;
}

static FakeDevice *find(const char *address)
{
        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                if (streq(devices[i].address, address))
                        return &devices[i];
        return NULL;
}

static bool faulty(const FakeDevice *d, FakeFault fault)
{
        return world.fault == fault && d == &devices[world.fault_device % ELEMENTSOF(devices)];
}

int fake_kernel_init(const char *dir)
{
        char path[VFIO_NODE_PATH_MAX];

        if (strlen(dir) >= sizeof(node_dir))
                return -ENAMETOOLONG;
        strcpy(node_dir, dir);
        if (mkdir(node_dir, 0700) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
                devices[i].driver = initial_driver(&devices[i]);
                devices[i].override = devices[i].initial_override;
                if (devices[i].group < 0)
                        continue;
                vfio_group_node_path(devices[i].group, path);
                int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                close(fd);
        }
        return 0;
}

void fake_kernel_set_world(const FakeWorld *w)
{
        lock_machine();
        world = *w;
        vfio_pci_loaded = false;
        unlock_machine();
}

bool fake_kernel_at_rest(char **ret_difference)
{
        bool rest = true;

        lock_machine();
        for (size_t i = 0; rest && i < ELEMENTSOF(devices); i++) {
                const FakeDevice *d = &devices[i];
                if (streq_ptr(d->driver, initial_driver(d)) && streq_ptr(d->override, d->initial_override))
                        continue;
                rest = false;
                if (asprintf(ret_difference, "%s is on %s with override %s, was on %s with %s", d->address,
                             d->driver ?: "no driver", d->override ?: "none", initial_driver(d) ?: "no driver",
                             d->initial_override ?: "none") < 0)
                        *ret_difference = NULL;
        }
        unlock_machine();
        return rest;
}

void fake_kernel_touch_nodes(void)
{
        char path[VFIO_NODE_PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
                if (devices[i].group < 0)
                        continue;
                vfio_group_node_path(devices[i].group, path);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0)
                        close(fd);
        }
}

const char *fake_kernel_address(size_t i)
{
        return devices[i % ELEMENTSOF(devices)].address;
}

int fake_kernel_group(size_t i)
{
        return devices[i % ELEMENTSOF(devices)].group;
}

/* ---- pci-device.h: reading devices ---- */

static int new_pci_device(const FakeDevice *f, PciDevice **ret)
{
        PciDevice *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        strcpy(p->address, f->address);
        p->syspath = strdup(f->syspath);
        p->driver = f->driver ? strdup(f->driver) : NULL;
        if (!p->syspath || (f->driver && !p->driver)) {
                pci_device_free(p);
                return -ENOMEM;
        }
        p->vendor_id = f->vendor;
        p->device_id = f->device;
        p->class_code = f->class_code;
        p->iommu_group = f->group;
        p->boot_vga = f->boot_vga;
        p->numa_node = -1;
        *ret = p;
        return 0;
}

/* The fake sends no uevents (below), so nothing asks for a device by one. */
int pci_device_new_from_sd_device(sd_device *d, PciDevice **ret)
{
        return -ENODEV;
}

int pci_device_enumerate(PciDeviceFoundFn fn, void *userdata)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(devices); i++) {
                PciDevice *p;
                lock_machine();
                r = new_pci_device(&devices[i], &p);
                unlock_machine();
                if (r >= 0)
                        r = fn(p, userdata);
        }
        return r;
}

/* ---- uevent-monitor.h: this machine sends none; the daemon learns of
 * its moves from the transactions, and the host's own uevents must not
 * reach it ---- */

int uevent_monitor_start(sd_event *event, const char *subsystem, sd_device_monitor_handler_t handler,
                         void *userdata, sd_device_monitor **ret)
{
        *ret = NULL;
        return 0;
}

/* ---- sysfs-pci.h: the driver core ---- */

/* vfio-pci is there once loaded, and while anything is bound to it (a
 * module with bound devices cannot be gone). */
static bool registered(const char *driver)
{
        if (!streq(driver, VFIO_PCI_DRIVER) || vfio_pci_loaded)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                if (streq_ptr(devices[i].driver, VFIO_PCI_DRIVER))
                        return true;
        return false;
}

/* The override names a driver the fixtures know, or none: the fake keeps
 * pointers to constant strings only. */
static const char *known_driver(const char *name)
{
        if (!name)
                return NULL;
        if (streq(name, VFIO_PCI_DRIVER))
                return VFIO_PCI_DRIVER;
        for (size_t i = 0; i < ELEMENTSOF(devices); i++)
                if (devices[i].home_driver && streq(devices[i].home_driver, name))
                        return devices[i].home_driver;
        return NULL;
}

/* Runs op on the device at address with the machine locked; -ENOENT for
 * an address the machine does not have. */
static int on_device(const char *address, int (*op)(FakeDevice *d, void *arg), void *arg)
{
        FakeDevice *d;
        int r = -ENOENT;

        lock_machine();
        if ((d = find(address)))
                r = op(d, arg);
        unlock_machine();
        return r;
}

static int copy_string(const char *value, char **ret)
{
        *ret = value ? strdup(value) : NULL;
        return value && !*ret ? -ENOMEM : 0;
}

static int read_driver(FakeDevice *d, void *ret)
{
        return copy_string(d->driver, ret);
}

bool sysfs_pci_device_exists(const char *address)
{
        bool r;

        lock_machine();
        r = find(address) != NULL;
        unlock_machine();
        return r;
}

int sysfs_pci_read_driver(const char *address, char **ret)
{
        return on_device(address, read_driver, ret);
}

static int read_override(FakeDevice *d, void *ret)
{
        return copy_string(d->override, ret);
}

int sysfs_pci_read_override(const char *address, char **ret)
{
        return on_device(address, read_override, ret);
}

static int write_override(FakeDevice *d, void *driver)
{
        const char *known = known_driver(driver);

        if (faulty(d, FAKE_FAULT_OVERRIDE))
                return -EIO;
        if (driver && !known)
                return -EINVAL;
        d->override = known;
        return 0;
}

int sysfs_pci_write_override(const char *address, const char *driver)
{
        return on_device(address, write_override, (void *)driver);
}

static int unbind(FakeDevice *d, void *unused)
{
        if (faulty(d, FAKE_FAULT_UNBIND))
                return -EBUSY;
        d->driver = NULL; /* nothing bound: nothing to do, as sysfs_pci_unbind() says */
        return 0;
}

int sysfs_pci_unbind(const char *address)
{
        return on_device(address, unbind, NULL);
}

/* drivers_probe: the override's driver if loaded, else the device's own;
 * nothing for a device that has a driver. */
static int probe(FakeDevice *d, void *unused)
{
        const char *candidate = d->override ?: d->home_driver;

        if (!d->driver && candidate && registered(candidate) && !faulty(d, FAKE_FAULT_PROBE))
                d->driver = candidate;
        return 0;
}

int sysfs_pci_probe(const char *address)
{
        return on_device(address, probe, NULL);
}

static int bind(FakeDevice *d, void *driver)
{
        const char *known = known_driver(driver);

        if (d->driver)
                return -EBUSY;
        if (!known || !registered(known) || (d->override && !streq(d->override, known)) ||
            faulty(d, FAKE_FAULT_PROBE))
                return -ENODEV;
        d->driver = known;
        return 0;
}

int sysfs_pci_bind(const char *address, const char *driver)
{
        return on_device(address, bind, (void *)driver);
}

/* The fake functions have no reset method. */
int sysfs_pci_reset(const char *address)
{
        return sysfs_pci_device_exists(address) ? -ENOTTY : -ENODEV;
}

int sysfs_pci_read_reset_methods(const char *address, char **ret)
{
        return sysfs_pci_device_exists(address) ? -ENOTTY : -ENODEV;
}

int sysfs_pci_write_reset_methods(const char *address, const char *methods)
{
        return sysfs_pci_device_exists(address) ? -EINVAL : -ENODEV;
}

ResetMethods sysfs_pci_read_reset_method_set(const char *address)
{
        return 0;
}

/* The fake machine has no firmware framebuffer to move. */
int sysfs_platform_unbind(const char *device, const char *driver)
{
        return 0;
}

int sysfs_platform_bind(const char *device, const char *driver)
{
        return -ENODEV;
}

/* The fake functions have no power states to keep. */
int sysfs_pci_read_d3cold_allowed(const char *address)
{
        return -ENOENT;
}

int sysfs_pci_write_d3cold_allowed(const char *address, bool allowed)
{
        return -ENOENT;
}

/* Nobody holds the fake devices' nodes. */
int device_use_busy_holders(char *const *addresses, char **const *node_patterns, size_t n, pid_t **ret,
                            size_t *ret_n)
{
        *ret = NULL;
        *ret_n = 0;
        return 0;
}

/* ---- host-units.h: the fake machine runs no units, loads no modules ---- */

int host_unit_is_active(const char *unit)
{
        return 0;
}

int host_unit_stop(const char *unit, uint64_t timeout_usec)
{
        return 0;
}

int host_unit_start(const char *unit, uint64_t timeout_usec)
{
        return -ENOENT;
}

bool host_module_loaded(const char *module)
{
        return false;
}

int host_module_unload(const char *module, bool wait, uint64_t timeout_usec)
{
        return 0;
}

int host_module_load(const char *module, uint64_t timeout_usec)
{
        return -ENOPKG;
}

/* Nothing binds later on its own: whatever is not there now never comes. */
int sysfs_pci_wait_for_driver(const char *address, const char *driver, uint64_t timeout_usec)
{
        int r = sysfs_pci_driver_is(address, driver, NULL);
        return r < 0 ? r : r ? 0 : -ETIMEDOUT;
}

bool sysfs_pci_driver_registered(const char *driver)
{
        bool r;

        lock_machine();
        r = registered(driver);
        unlock_machine();
        return r;
}

int sysfs_pci_load_driver(const char *driver)
{
        int r = 0;

        /* As the real one: modprobe, then the driver directory says. */
        lock_machine();
        if (!registered(driver) && world.fault == FAKE_FAULT_MODULE)
                r = -ENOPKG;
        else if (streq(driver, VFIO_PCI_DRIVER))
                vfio_pci_loaded = true;
        unlock_machine();
        return r;
}

/* The "add" uevent: udev's rules load the module, which probes. */
int sysfs_pci_trigger_add(const char *address, uint64_t timeout_usec)
{
        return sysfs_pci_probe(address);
}

/* The fault applies now or never: read it under the lock. */
static bool fault_is(FakeFault fault)
{
        bool r;

        lock_machine();
        r = world.fault == fault;
        unlock_machine();
        return r;
}

int wait_for_path(const char *path, uint64_t timeout_usec)
{
        return fault_is(FAKE_FAULT_NODE) ? -ETIMEDOUT : 0;
}

int wait_for_udev(const char *subsystem, const char *sysname, uint64_t timeout_usec)
{
        return 0;
}

/* ---- early-mark.h: vfiod-early marked nothing on this machine ---- */

bool early_mark_present(const char *address)
{
        return false;
}

int early_mark_clear(const char *address)
{
        return 0;
}

/* ---- device-use.h ---- */

static const char *const use_names[_DEVICE_USE_MAX] = {
        [DEVICE_USE_NONE] = "unused",
        [DEVICE_USE_BUSY] = "busy",
        [DEVICE_USE_HOST_CRITICAL] = "host-critical",
        [DEVICE_USE_PLATFORM] = "a platform function",
};

/* Platform functions by their class, as the real check; the rest as the
 * world says. */
/* The fake check holds no disks open. */
void disk_holds_release(DiskHolds *h)
{
        *h = (DiskHolds){};
}

int device_use_check(char *const *addresses, char **const *node_patterns, size_t n, DeviceUseScope scope,
                     DiskHolds *ret_holds, DeviceUse *ret_use, char **ret_reason)
{
        DeviceUse use = DEVICE_USE_NONE;
        const char *what = NULL;

        lock_machine();
        for (size_t i = 0; i < n && use != DEVICE_USE_PLATFORM; i++) {
                const FakeDevice *d = find(addresses[i]);
                DeviceUse u = d && pci_class_platform_role(d->class_code) ? DEVICE_USE_PLATFORM
                              : scope == DEVICE_USE_SCOPE_ALL                 ? world.use
                                                                              : DEVICE_USE_NONE;
                if (u > use) {
                        use = u;
                        what = addresses[i];
                }
        }
        unlock_machine();
        *ret_use = use;
        *ret_reason = NULL;
        if (use != DEVICE_USE_NONE && asprintf(ret_reason, "%s is %s", what, use_names[use]) < 0)
                return -ENOMEM;
        return 0;
}

/* ---- handover.h: the group nodes, files in node_dir ---- */

void vfio_group_node_path(int group, char buf[static VFIO_NODE_PATH_MAX])
{
        snprintf(buf, VFIO_NODE_PATH_MAX, "%s/%d", node_dir, group);
}

int handover_open_fds(int group, int *ret_group_fd, int *ret_container_fd)
{
        char path[VFIO_NODE_PATH_MAX];
        int group_fd, container_fd;

        if (fault_is(FAKE_FAULT_OPEN))
                return -EBUSY;
        vfio_group_node_path(group, path);
        group_fd = open(path, O_RDWR | O_CLOEXEC);
        if (group_fd < 0)
                return -errno;
        container_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (container_fd < 0) {
                close(group_fd);
                return -errno;
        }
        *ret_group_fd = group_fd;
        *ret_container_fd = container_fd;
        return 0;
}

/* cdev mode: /dev/null stands for the iommufd and every cdev. */
int handover_open_iommufd(void)
{
        int fd;

        if (fault_is(FAKE_FAULT_OPEN))
                return -EBUSY;
        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int handover_open_cdev(const char *address)
{
        return handover_open_iommufd();
}

int handover_set_owner(int group, uid_t uid, gid_t gid, mode_t mode, bool cdevs)
{
        int r = -ENOENT;

        lock_machine();
        if (world.fault != FAKE_FAULT_OPEN && group >= 0 && (size_t)group < ELEMENTSOF(node_owner)) {
                r = node_owner[group] != uid;
                node_owner[group] = uid;
        }
        unlock_machine();
        return r;
}

/* ---- vfio-holders.h ---- */

int vfio_group_node_busy(int group)
{
        return vfio_group_held(group);
}

int vfio_group_held(int group)
{
        int r;

        lock_machine();
        r = world.held_group == group;
        unlock_machine();
        return r;
}

int vfio_group_holders(int group, VfioHolder **ret, size_t *n)
{
        VfioHolder *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        *h = (VfioHolder){ .pid = 4242 };
        strcpy(h->comm, "qemu-system-x86");
        *ret = h;
        *n = 1;
        return 0;
}
