/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <syslog.h>

#include "macro.h"

/* Logging to stderr, each line in one write (whole up to 4 KiB, whichever
 * thread logs). Under systemd (JOURNAL_STREAM set) each line carries the
 * "<N>" prefix journald reads the priority from. */

void log_set_max_level(int level);
void log_full(int level, const char *fmt, ...) _printf_(2, 3);

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

/* Logs the message, then ": " and what error (a negative errno) means, and
 * returns error, so that a failure is reported and passed on in one line:
 * "return log_error_errno(r, "Cannot read %s", path);". */
int log_full_errno(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
