/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "bus-state.h"
#include "macro.h"

/* The exit status of a failure (vfioctl-client(1), EXIT STATUS). */
typedef enum ClientExit {
        CLIENT_EXIT_FAILURE = 1,        /* anything not below; the message says what */
        CLIENT_EXIT_USAGE = 2,          /* options or arguments that make no sense */
        CLIENT_EXIT_NOT_AUTHORIZED = 3, /* polkit, or vfiod's policy, said no */
        CLIENT_EXIT_BUSY = 4,           /* the device or group is in use, or moving */
        CLIENT_EXIT_NOT_FOUND = 5,      /* no such device, group, claim or reservation */
} ClientExit;

/* What every verb gets: the options and, on demand, the bus. */
typedef struct Client {
        const char *bus_address; /* NULL: the system bus */
        bool json;
        bool color;
        bool help;            /* --help: the verb's, or all */
        bool no_ask_password; /* no polkit agent, even at a terminal */
        bool force;                 /* claim: even what the host uses */
        const char *mode;           /* claim: "chown", "fd" or "cdev" */
        uint64_t memlock_bytes;     /* claim: raise RLIMIT_MEMLOCK to this; 0: leave */
        bool persistent, wait;      /* claim: the lease's lifetime */
        char **command;             /* claim: what runs after "--", NULL-terminated */
        const char *owner;          /* reserve: who owns the node, "alice" or "@vfio" */
        bool all;                   /* release: every lease */
        unsigned options_given;     /* the long options on the command line, as a set (main.c) */
        uint64_t call_timeout_usec; /* 0: sd-bus's default */
        int exit_status;            /* claim with a command: the command's */
        ClientExit failure_exit;    /* when a verb failed: why, for the exit status; 0: FAILURE */
        /* client_report() keeps a failure here instead of printing it,
         * for a verb that reports it as one row of its JSON. */
        bool hold_error;
        char *held_error_name, *held_error_message;
        sd_bus *bus;
} Client;

typedef int (*VerbFn)(Client *c, int argc, char *argv[]);

int verb_list(Client *c, int argc, char *argv[]);
int verb_show(Client *c, int argc, char *argv[]);
int verb_doctor(Client *c, int argc, char *argv[]);
int verb_claim(Client *c, int argc, char *argv[]);
int verb_release(Client *c, int argc, char *argv[]);
int verb_leases(Client *c, int argc, char *argv[]);
int verb_monitor(Client *c, int argc, char *argv[]);
int verb_reserve(Client *c, int argc, char *argv[]);
int verb_unreserve(Client *c, int argc, char *argv[]);
int verb_reservations(Client *c, int argc, char *argv[]);
int verb_memlock(Client *c, int argc, char *argv[]);
int verb_prepare(Client *c, int argc, char *argv[]);
int verb_unprepare(Client *c, int argc, char *argv[]);
int verb_prepared(Client *c, int argc, char *argv[]);

/* verb-memlock.c: RLIMIT_MEMLOCK of process pid (this one, or another of
 * the caller's) to --memlock's bytes, through vfiod; reports its own
 * error. *ret_limit (may be NULL): the limit now in force. */
int client_raise_memlock(Client *c, pid_t pid, uint64_t *ret_limit);

/* verb-leases.c: a lease as ListLeases gives it. */
typedef struct LeaseRow {
        const char *path, *mode, *lifetime, *holder;
        uint32_t group, uid, pid;
        uint64_t since_usec;
} LeaseRow;
/* The lease of group: 1 and *ret (its strings live in *reply), or 0 when
 * nothing leases it; reports its own error. */
int client_group_lease(Client *c, uint32_t group, sd_bus_message **reply, LeaseRow *ret);
/* The lease's object of "leases --json" and "show GROUP --json". */
void print_lease_json(const LeaseRow *l);

/* exit-status.c: the exit status for an error vfiod answered. */
int client_exit_for_error(const sd_bus_error *e);
/* Reports a failure: on stderr, or with --json as {"error": name (NULL:
 * the client's own for status), "message", "exit_status"} on stdout. Sets
 * the exit status. */
void client_report(Client *c, ClientExit status, const char *name, const char *message);
/* Says what failed, as client_report(), and why for the exit status; returns the
 * matching negative errno (-EBUSY for CLIENT_EXIT_BUSY...). */
int client_fail(Client *c, ClientExit status, const char *fmt, ...) _printf_(3, 4);
/* The same for a command line that makes no sense: points at --help. */
#define client_usage_error(c, ...) client_fail(c, CLIENT_EXIT_USAGE, __VA_ARGS__)

/* polkit-agent.c: pkttyagent for a person at a terminal, unless
 * --no-ask-password; 1 when started, and c->bus then allows interactive
 * authorization. */
int polkit_agent_open(const Client *c, pid_t *ret);
void polkit_agent_close(pid_t pid);

/* qemu-memory.c: a QEMU command's guest memory (-m), 1 when given. */
int qemu_guest_memory(char **command, uint64_t *ret);
/* The locked memory a VM with a VFIO device needs: its RAM plus 1 GiB,
 * as libvirt reckons it. -ERANGE when that does not fit. */
int memlock_for_guest(uint64_t guest_memory, uint64_t *ret);
/* Warns, before the claim, when claim's command is a QEMU whose guest
 * needs more locked memory than it will have; says which --memory. */
void qemu_warn_memlock(const Client *c);

/* target.c: a command's ADDRESS|GROUP argument. Returns 1 and sets *group
 * for a group number (all digits), 0 for a PCI address (vfiod says whether
 * there is a device); reports its own error. */
int client_parse_target(Client *c, const char *arg, uint32_t *group);
/* 0 for a PCI address; else reports a usage error. */
int client_check_address(Client *c, const char *arg);

/* Connects once; reports its own error. */
int client_bus(Client *c, sd_bus **ret);
/* A call of a Manager method, to fill in and pass to client_call(); reports its own error. */
int client_new_manager_call(Client *c, const char *method, sd_bus_message **ret);
/* Calls; reports a failure with the daemon's message. */
int client_call(Client *c, sd_bus_message *msg, sd_bus_message **reply);
/* The same for a call polkit may ask a password for: an agent answers at
 * the terminal meanwhile, and the call may take timeout_usec. */
int client_call_authorized(Client *c, sd_bus_message *msg, uint64_t timeout_usec, sd_bus_message **reply);
/* Calls a Manager method; reports a failure with the daemon's message. */
int client_call_manager(Client *c, const char *method, sd_bus_message **reply, const char *types, ...);
/* The next row of ListGroups' "a(uoasbs)", whose array the caller has
 * entered: 1, or 0 at its end. */
int client_read_group_row(sd_bus_message *reply, uint32_t *ret_id, int *ret_viable, const char **ret_state);
/* Who holds group open while nothing leases it: "PID 12 (qemu), ..."
 * or, with --json, [{"pid":12,"command":"qemu"},...]; NULL when nobody. */
char *client_group_holders(Client *c, uint32_t group);
/* On the bus already connected: the groups that processes hold open while
 * nothing leases them (state held), each to fn, which stops the walk by returning < 0. Quiet: -errno
 * when vfiod's list cannot be had or read, for the caller to say or not. */
int client_foreach_held_group(Client *c, int (*fn)(Client *c, uint32_t group, void *userdata), void *userdata);
/* Whether the error means "vfiod is not there" rather than "vfiod said no". */
bool client_error_is_absent(const sd_bus_error *e);

/* One row of ListDevices(); the strings live in the reply message. */
typedef struct DeviceRow {
        const char *address, *path;
        uint16_t vendor_id, device_id, subsystem_vendor_id, subsystem_device_id;
        uint32_t class_code;
        const char *vendor_name, *model_name, *driver;
        int32_t group;
        int boot_vga, bridge;
        const char *state;
        char **reset_methods; /* only where show asked for them: NULL otherwise */
        struct DeviceTopology *topology; /* likewise */
} DeviceRow;

/* Where a device sits, as an orchestrator schedules by it (show). */
typedef struct DeviceTopology {
        char *physical_path, *root_port; /* "" when unknown, on the root bus */
        int32_t numa_node;               /* -1: none */
        char *physical_function;         /* a VF's; "" for others */
        char **virtual_functions;        /* a PF's; none for others */
        bool virtual_functions_known;    /* false: an older vfiod, without them */
        char *cdev;                      /* "" while it has none */
} DeviceTopology;

int client_read_devices(sd_bus_message *reply, DeviceRow **ret, size_t *n);
/* ListDevices, read: the rows' strings live in *reply. */
int client_list_devices(Client *c, sd_bus_message **reply, DeviceRow **ret, size_t *n);
/* The device at address; its strings live in *reply, which the caller frees. */
int client_lookup_device(Client *c, const char *address, sd_bus_message **reply, DeviceRow *ret);

/* bus-json.c: "device 0000:01:00.0", "group 5", "lease 3", "vfiod" for
 * vfiod's object paths, the path itself for others; NULL when out of memory. */
char *client_object_name(const char *path);
/* The next value of m, of any type, as JSON: an a{s...} as an object, other
 * arrays and structs as lists, an fd as null. */
int json_write_value(FILE *f, sd_bus_message *m);

/* output.c */
typedef enum Color { COLOR_NONE, COLOR_GREEN, COLOR_YELLOW, COLOR_RED, COLOR_BLUE, COLOR_DIM, COLOR_BOLD } Color;
const char *color_on(const Client *c, Color color);
const char *color_off(const Client *c);
void json_string(FILE *f, const char *s); /* a quoted JSON string, or null for NULL */
/* A listing with --json is one object, its rows an array under key:
 * {"key":[...]}. print_list_start() opens it; print_list_end() closes it,
 * or says none_text in text when n is 0. r is the reading's result,
 * reported when it failed; returned. */
void print_list_start(const Client *c, const char *key);
int print_list_end(Client *c, size_t n, const char *none_text, int r);
/* Reports an answer of vfiod's that cannot be read; returns r. */
int report_unreadable_answer(Client *c, int r);
/* Reports an answer whose signature is not the one given (a vfiod of
 * another version), before anything of it is printed: with --json, the
 * error is then the only object. */
int check_answer_signature(Client *c, sd_bus_message *reply, const char *signature);
void print_device_json(FILE *f, const DeviceRow *d);
/* ,"devices":[...] with the rows of one group, closing the group's object. */
void print_group_devices_json(FILE *f, const DeviceRow *rows, size_t n, int32_t group);
