/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "client.h"

const char *color_on(const Client *c, Color color)
{
        static const char *const codes[] = {
                [COLOR_NONE] = "",          [COLOR_GREEN] = "\033[32m", [COLOR_YELLOW] = "\033[33m",
                [COLOR_RED] = "\033[1;31m", [COLOR_BLUE] = "\033[34m",  [COLOR_DIM] = "\033[2m",
                [COLOR_BOLD] = "\033[1m",
        };
        return c->color ? codes[color] : "";
}

const char *color_off(const Client *c)
{
        return c->color ? "\033[0m" : "";
}

void json_string(FILE *f, const char *s)
{
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20)
                        fprintf(f, "\\u%04x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

int report_unreadable_answer(Client *c, int r)
{
        client_fail(c, CLIENT_EXIT_FAILURE, "cannot read vfiod's answer: %s", strerror(-r));
        return r;
}

int check_answer_signature(Client *c, sd_bus_message *reply, const char *signature)
{
        if (sd_bus_message_has_signature(reply, signature))
                return 0;
        return client_fail(c, CLIENT_EXIT_FAILURE,
                           "cannot read vfiod's answer: it is of signature '%s', where this vfioctl-client reads "
                           "'%s'. Are vfiod and vfioctl-client of the same version?",
                           strempty(sd_bus_message_get_signature(reply, true)), signature);
}

void print_list_start(const Client *c, const char *key)
{
        if (c->json)
                printf("{\"%s\":[", key);
}

int print_list_end(Client *c, size_t n, const char *none_text, int r)
{
        if (c->json)
                printf("]}\n");
        else if (n == 0)
                printf("%s\n", none_text);
        return r < 0 ? report_unreadable_answer(c, r) : r;
}

static const char *nonempty(const char *s)
{
        return s && s[0] ? s : NULL;
}

static void print_string_list_json(FILE *f, char **l)
{
        fputc('[', f);
        for (char **s = l; s && *s; s++) {
                if (s != l)
                        fputc(',', f);
                json_string(f, *s);
        }
        fputc(']', f);
}

static void print_topology_json(FILE *f, const DeviceTopology *t)
{
        fputs(",\"physical_path\":", f);
        json_string(f, nonempty(t->physical_path));
        fputs(",\"root_port\":", f);
        json_string(f, nonempty(t->root_port));
        if (t->numa_node >= 0)
                fprintf(f, ",\"numa_node\":%d", (int)t->numa_node);
        else
                fputs(",\"numa_node\":null", f);
        fputs(",\"physical_function\":", f);
        json_string(f, nonempty(t->physical_function));
        fputs(",\"virtual_functions\":", f);
        if (t->virtual_functions_known)
                print_string_list_json(f, t->virtual_functions);
        else
                fputs("null", f);
        fputs(",\"cdev\":", f);
        json_string(f, nonempty(t->cdev));
}

void print_device_json(FILE *f, const DeviceRow *d)
{
        fputs("{\"address\":", f);
        json_string(f, d->address);
        fprintf(f, ",\"vendor_id\":\"%04x\",\"device_id\":\"%04x\"", d->vendor_id, d->device_id);
        fprintf(f, ",\"subsystem_vendor_id\":\"%04x\",\"subsystem_device_id\":\"%04x\"", d->subsystem_vendor_id,
                d->subsystem_device_id);
        fprintf(f, ",\"class\":\"%06x\",\"vendor_name\":", d->class_code);
        json_string(f, nonempty(d->vendor_name));
        fputs(",\"model_name\":", f);
        json_string(f, nonempty(d->model_name));
        fputs(",\"driver\":", f);
        json_string(f, nonempty(d->driver));
        if (d->group >= 0)
                fprintf(f, ",\"iommu_group\":%d", d->group);
        else
                fputs(",\"iommu_group\":null", f);
        fprintf(f, ",\"boot_vga\":%s,\"bridge\":%s,\"state\":", d->boot_vga ? "true" : "false",
                d->bridge ? "true" : "false");
        json_string(f, d->state);
        if (d->reset_methods) {
                fputs(",\"reset_methods\":", f);
                print_string_list_json(f, d->reset_methods);
        }
        if (d->topology)
                print_topology_json(f, d->topology);
        fputs(",\"object\":", f);
        json_string(f, d->path);
        fputc('}', f);
}

void print_group_devices_json(FILE *f, const DeviceRow *rows, size_t n, int32_t group)
{
        size_t shown = 0;

        fputs(",\"devices\":[", f);
        for (size_t i = 0; i < n; i++)
                if (rows[i].group == group) {
                        if (shown++ > 0)
                                fputc(',', f);
                        print_device_json(f, &rows[i]);
                }
        fputs("]}\n", f);
}
