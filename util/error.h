/* The error convention: a function that can fail returns a negative code and leaves a one-line
 * message in the caller's buffer (err, err_len). */
#ifndef UTIL_ERROR_H
#define UTIL_ERROR_H

#include <stddef.h>

/* Writes the printf-style message into err (when err and err_len are non-zero) and returns -1, so
 * that `return util_err(err, err_len, "...", ...);` fails with a message in one line. */
int util_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
