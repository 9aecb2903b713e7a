/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bus-names.h"
#include "client.h"
#include "macro.h"

/* D-Bus values as JSON, and vfiod's object paths as people name the
 * objects: what monitor prints. */

char *client_object_name(const char *path)
{
        static const struct {
                const char *prefix, *kind;
        } kinds[] = {
                { VFIOD_DEVICE_PATH_PREFIX, "device" },
                { VFIOD_GROUP_PATH_PREFIX, "group" },
                { VFIOD_LEASE_PATH_PREFIX, "lease" },
        };
        char *name = NULL;

        if (streq(path, VFIOD_ROOT_PATH))
                return strdup("vfiod");
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                _cleanup_free_ char *id = NULL;
                /* Device paths carry the address escaped (sd_bus_path_encode). */
                if (sd_bus_path_decode(path, kinds[i].prefix, &id) > 0 && id[0])
                        return asprintf(&name, "%s %s", kinds[i].kind, id) < 0 ? NULL : name;
        }
        return strdup(path);
}

static int write_basic(FILE *f, sd_bus_message *m, char type)
{
        union {
                uint8_t u8;
                int b;
                int16_t i16;
                uint16_t u16;
                int32_t i32;
                uint32_t u32;
                int64_t i64;
                uint64_t u64;
                double d;
                const char *s;
                int fd;
        } v;
        int r = sd_bus_message_read_basic(m, type, &v);

        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        switch (type) {
        case 'y': fprintf(f, "%u", v.u8); break;
        case 'b': fputs(v.b ? "true" : "false", f); break;
        case 'n': fprintf(f, "%d", v.i16); break;
        case 'q': fprintf(f, "%u", v.u16); break;
        case 'i': fprintf(f, "%" PRIi32, v.i32); break;
        case 'u': fprintf(f, "%" PRIu32, v.u32); break;
        case 'x': fprintf(f, "%" PRIi64, v.i64); break;
        case 't': fprintf(f, "%" PRIu64, v.u64); break;
        case 'd': /* JSON has no NaN nor infinity */
                if (isfinite(v.d))
                        fprintf(f, "%.17g", v.d);
                else
                        fputs("null", f);
                break;
        case 'h': fputs("null", f); break; /* an fd means nothing in text */
        default: json_string(f, v.s); break; /* s, o, g */
        }
        return 0;
}

/* An array of "{sv}" or "{s...}" entries is an object; any other array a list. */
static int write_array(FILE *f, sd_bus_message *m, const char *contents)
{
        bool object = contents[0] == '{' && contents[1] == 's';
        char entry[64] = ""; /* "{sv}" is entered as an 'e' of "sv" */
        size_t n = 0, len = strlen(contents);
        int r;

        if (object && len - 2 < sizeof(entry))
                memcpy(entry, contents + 1, len - 2);
        else if (object)
                return -E2BIG;
        r = sd_bus_message_enter_container(m, 'a', contents);

        fputc(object ? '{' : '[', f);
        while (r >= 0 && !sd_bus_message_at_end(m, false)) {
                if (n++ > 0)
                        fputc(',', f);
                if (object) {
                        const char *key;
                        r = sd_bus_message_enter_container(m, 'e', entry);
                        if (r >= 0)
                                r = sd_bus_message_read(m, "s", &key);
                        if (r >= 0) {
                                json_string(f, key);
                                fputc(':', f);
                                r = json_write_value(f, m);
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = json_write_value(f, m);
        }
        fputc(object ? '}' : ']', f);
        return r < 0 ? r : sd_bus_message_exit_container(m);
}

int json_write_value(FILE *f, sd_bus_message *m)
{
        const char *contents;
        char type;
        size_t n = 0;
        int r = sd_bus_message_peek_type(m, &type, &contents);

        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        switch (type) {
        case 'a':
                return write_array(f, m, contents);
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r >= 0)
                        r = json_write_value(f, m);
                return r < 0 ? r : sd_bus_message_exit_container(m);
        case 'r':
        case 'e':
                r = sd_bus_message_enter_container(m, type, contents);
                fputc('[', f);
                while (r >= 0 && !sd_bus_message_at_end(m, false)) {
                        if (n++ > 0)
                                fputc(',', f);
                        r = json_write_value(f, m);
                }
                fputc(']', f);
                return r < 0 ? r : sd_bus_message_exit_container(m);
        default:
                return write_basic(f, m, type);
        }
}
