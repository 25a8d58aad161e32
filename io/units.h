/* Scalar values with units, as written in scenario files ("80GiB", "3.35TB/s", "5us", "700W",
 * "10/s", "50%"): exact parsing into base units, and human-readable printing for summaries. */
#ifndef WT_IO_UNITS_H
#define WT_IO_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define IO_UNITS_EINVAL (-1) /* the text is not a value of the asked kind; err says why */

/* What a value measures, and the base unit it is returned in.
 * A bare number (no unit) is accepted only where it cannot be misread: for IO_UNIT_RATIO ("0.5")
 * and IO_UNIT_NUMBER; every other kind requires a unit, except a bare "0", which means zero in
 * any unit. Units are case-sensitive; one optional space may separate number and unit. */
typedef enum {
  IO_UNIT_BYTES,       /* B, kB=KB=1000, KiB=1024, MB, MiB, GB, GiB, TB, TiB, PB, PiB; bits as
                          bit, kbit/kb/Kb, Mbit/Mb, Gbit/Gb, Tbit/Tb. A lone "b" is refused as
                          ambiguous (a typo for "B" or a bit?). */
  IO_UNIT_BYTES_PER_S, /* any IO_UNIT_BYTES unit followed by "/s" (GB/s, GiB/s, Gb/s, Gbit/s),
                          and kbps, Mbps, Gbps, Tbps; bits are returned as bytes/s */
  IO_UNIT_NS,          /* ns, us (or µs), ms, s, min, h, d: nanoseconds */
  IO_UNIT_W,           /* W, kW, MW */
  IO_UNIT_J,           /* J, kJ, MJ, GJ, Wh, kWh, MWh */
  IO_UNIT_PER_S,       /* /s, /ms, /min, /h, Hz, kHz, MHz, GHz: events per second */
  IO_UNIT_RATIO,       /* "50%" or a bare "0.5" */
  IO_UNIT_NUMBER,      /* a bare number, no unit */
} io_unit;

/* Parses text as an exact whole number of kind's base unit ("1.5ms" = 1500000 ns, "1.5GiB" =
 * 1610612736 B). Refuses, with a message, values that are not whole ("1.5ns", "1bit") or do not fit
 * in int64. Decimal exponents are accepted ("1e6"). */
int io_units_parse_i64(io_unit kind, const char *text, int64_t *value, char *err, size_t err_len);

/* Parses text as a real number of kind's base unit. The result is the correctly rounded value of
 * the decimal text for units that are whole multiples of the base unit; units that divide it
 * (bits, %, /min, /h) add one more rounding. Refuses infinities, NaN and overflow. */
int io_units_parse_f64(io_unit kind, const char *text, double *value, char *err, size_t err_len);

/* What a value of kind looks like, for messages: "a duration such as '5us' or '2h'". */
const char *io_units_expected(io_unit kind);

/* Prints value (in kind's base unit) in the largest unit that keeps it at least 1, rounded to 4
 * significant digits ("80GiB", "3.35TB/s", "1.5ms", "700W", "10/s", "50%"); sizes use binary units
 * when they divide evenly. A finite value's text parses back with io_units_parse_f64. Returns
 * snprintf's result. */
int io_units_format(io_unit kind, double value, char *buf, size_t buf_len);

#endif
