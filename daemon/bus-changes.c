/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bus-changes.h"
#include "log.h"

/* Enough for the most properties one interface announces (Group's six). */
#define CHANGED_MAX 8

typedef struct Change {
        char *path;
        const char *interface;
        const char *names[CHANGED_MAX + 1]; /* NULL-terminated */
} Change;

struct BusChanges {
        sd_bus *bus;
        sd_event_source *flush;
        Change *changes;
        size_t n_changes;
};

static void change_add_name(Change *ch, const char *name)
{
        size_t i = 0;

        for (; ch->names[i]; i++)
                if (streq(ch->names[i], name))
                        return;
        if (i < CHANGED_MAX)
                ch->names[i] = name;
        else
                log_warning("More than %d properties of %s changed at once; '%s' goes untold.", CHANGED_MAX,
                            ch->path, name);
}

static Change *find_or_add(BusChanges *c, const char *path, const char *interface)
{
        Change *a;

        for (size_t i = 0; i < c->n_changes; i++)
                if (streq(c->changes[i].path, path) && streq(c->changes[i].interface, interface))
                        return &c->changes[i];
        a = reallocarray(c->changes, c->n_changes + 1, sizeof(*a));
        if (!a)
                return NULL;
        c->changes = a;
        a[c->n_changes] = (Change){ .path = strdup(path), .interface = interface };
        if (!a[c->n_changes].path)
                return NULL;
        return &a[c->n_changes++];
}

static void drop(BusChanges *c, size_t i)
{
        free(c->changes[i].path);
        c->changes[i] = c->changes[--c->n_changes];
}

static int on_flush(sd_event_source *s, void *userdata)
{
        BusChanges *c = userdata;

        /* An object gone meanwhile is not found by sd-bus: nothing is sent. */
        for (size_t i = 0; i < c->n_changes; i++)
                (void)sd_bus_emit_properties_changed_strv(c->bus, c->changes[i].path, c->changes[i].interface,
                                                          (char **)c->changes[i].names);
        while (c->n_changes > 0)
                drop(c, c->n_changes - 1);
        return 0;
}

void bus_changes_add(BusChanges *c, const char *path, const char *interface, ...)
{
        Change *ch = find_or_add(c, path, interface);
        const char *name;
        va_list ap;

        if (!ch) {
                log_warning("Out of memory: a change of %s goes untold.", path);
                return;
        }
        va_start(ap, interface);
        while ((name = va_arg(ap, const char *)))
                change_add_name(ch, name);
        va_end(ap);
        (void)sd_event_source_set_enabled(c->flush, SD_EVENT_ONESHOT);
}

void bus_changes_forget(BusChanges *c, const char *path)
{
        for (size_t i = c->n_changes; i-- > 0;)
                if (streq(c->changes[i].path, path))
                        drop(c, i);
}

int bus_changes_new(sd_event *event, sd_bus *bus, BusChanges **ret)
{
        BusChanges *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        c->bus = sd_bus_ref(bus);
        r = sd_event_add_defer(event, &c->flush, on_flush, c);
        if (r < 0) {
                bus_changes_free(c);
                return r;
        }
        /* After the handlers of whatever else is pending: their changes
         * join the same signals. */
        (void)sd_event_source_set_priority(c->flush, SD_EVENT_PRIORITY_NORMAL + 10);
        (void)sd_event_source_set_enabled(c->flush, SD_EVENT_OFF);
        *ret = c;
        return 0;
}

BusChanges *bus_changes_free(BusChanges *c)
{
        if (!c)
                return NULL;
        while (c->n_changes > 0)
                drop(c, c->n_changes - 1);
        free(c->changes);
        sd_event_source_disable_unref(c->flush);
        sd_bus_unref(c->bus);
        free(c);
        return NULL;
}
