/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One line of a configuration file, without its newline: 0 or more when
 * taken, -EINVAL with *ret_reason set when it is wrong (logged with file
 * and line, and skipped), -ENOMEM to stop. */
typedef int (*ConfigLineFn)(const char *line, unsigned lineno, void *userdata, const char **ret_reason);

/* Calls fn for each line of path; skipped says what a wrong line costs
 * ("this reservation is skipped"). A missing file counts as empty; one
 * that cannot be read is logged and counts as empty too. Returns the
 * number of lines, or -ENOMEM. */
int config_file_read(const char *path, const char *skipped, ConfigLineFn fn, void *userdata);
