/* Writing JSON: strings escaped as RFC 8259 requires, and numbers that JSON can hold (NaN and the
 * infinities, which it cannot, become null). */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string. */
void util_json_string(FILE *out, const char *s);
/* Writes x with 17 significant digits (round-trips a double), or null when it is not finite. */
void util_json_number(FILE *out, double x);

#endif
