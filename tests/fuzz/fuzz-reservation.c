/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reservation.h"

/* A line of a reservations file, as an administrator or the bus hands it
 * in: refused with a reason, or an entry whose canonical line parses back
 * to the same entry. Never a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = strndup((const char *)data, size), *line = NULL;
        const char *reason = NULL;
        Reservation r, again;
        ReservationMatch m;
        char canonical[RESERVATION_MATCH_STRING_MAX];
        int e;

        if (!text)
                return 0;
        e = reservation_parse_line(text, &r, &reason);
        if (e < 0)
                assert(e == -ENOMEM || reason);
        if (e > 0) {
                assert(reservation_format_line(&r, &line) == 0);
                assert(reservation_parse_line(line, &again, &reason) == 1);
                assert(reservation_match_equal(&r.match, &again.match));
                assert(strcmp(r.owner, again.owner) == 0);
                free(line);
        }
        if (reservation_match_parse(text, &m, &reason) == 0)
                assert(reservation_match_parse(reservation_match_format(&m, canonical), &m, &reason) == 0);
        free(text);
        return 0;
}
