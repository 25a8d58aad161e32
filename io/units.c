/* Scalar values with units: a decimal number is read exactly (integer mantissa and power of ten),
 * then scaled by the unit's integer factor, so integer results are exact or refused. */
#include "io/units.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* value in base units = number * mul / div */
typedef struct {
  const char *suffix;
  int64_t mul;
  int64_t div;
} unit_def;

static const unit_def bytes_units[] = {{"B", 1, 1},
                                       {"kB", 1000, 1},
                                       {"KB", 1000, 1},
                                       {"KiB", 1024, 1},
                                       {"MB", 1000000, 1},
                                       {"MiB", 1048576, 1},
                                       {"GB", 1000000000, 1},
                                       {"GiB", 1073741824, 1},
                                       {"TB", 1000000000000, 1},
                                       {"TiB", 1099511627776, 1},
                                       {"PB", 1000000000000000, 1},
                                       {"PiB", 1125899906842624, 1},
                                       {"bit", 1, 8},
                                       {"kbit", 125, 1},
                                       {"kb", 125, 1},
                                       {"Kb", 125, 1},
                                       {"Mbit", 125000, 1},
                                       {"Mb", 125000, 1},
                                       {"Gbit", 125000000, 1},
                                       {"Gb", 125000000, 1},
                                       {"Tbit", 125000000000, 1},
                                       {"Tb", 125000000000, 1},
                                       {NULL, 0, 0}};
static const unit_def ns_units[] = {/* "\xC2\xB5s" is µs in UTF-8 */
                                    {"ns", 1, 1},
                                    {"us", 1000, 1},
                                    {"\xC2\xB5s", 1000, 1},
                                    {"ms", 1000000, 1},
                                    {"s", 1000000000, 1},
                                    {"min", 60000000000, 1},
                                    {"h", 3600000000000, 1},
                                    {"d", 86400000000000, 1},
                                    {NULL, 0, 0}};
static const unit_def w_units[] = {{"W", 1, 1}, {"kW", 1000, 1}, {"MW", 1000000, 1}, {NULL, 0, 0}};
static const unit_def j_units[] = {
    {"J", 1, 1},     {"kJ", 1000, 1},     {"MJ", 1000000, 1},     {"GJ", 1000000000, 1},
    {"Wh", 3600, 1}, {"kWh", 3600000, 1}, {"MWh", 3600000000, 1}, {NULL, 0, 0}};
static const unit_def per_s_units[] = {
    {"/s", 1, 1},     {"/ms", 1000, 1},    {"/min", 1, 60},        {"/h", 1, 3600}, {"Hz", 1, 1},
    {"kHz", 1000, 1}, {"MHz", 1000000, 1}, {"GHz", 1000000000, 1}, {NULL, 0, 0}};
static const unit_def ratio_units[] = {{"%", 1, 100}, {NULL, 0, 0}};
static const unit_def no_units[] = {{NULL, 0, 0}};

typedef struct {
  const char *expected;
  const unit_def *units;
  bool bare_ok;
} kind_def;

static const kind_def kinds[] = {
    [IO_UNIT_BYTES] = {"a size such as '80GiB' or '512MB'", bytes_units, false},
    [IO_UNIT_BYTES_PER_S] = {"a bandwidth such as '3.35TB/s' or '400Gb/s'", bytes_units, false},
    [IO_UNIT_NS] = {"a duration such as '5us' or '2h'", ns_units, false},
    [IO_UNIT_W] = {"a power such as '700W' or '1.2kW'", w_units, false},
    [IO_UNIT_J] = {"an energy such as '5kJ' or '2kWh'", j_units, false},
    [IO_UNIT_PER_S] = {"a rate such as '10/s' or '600/min'", per_s_units, false},
    [IO_UNIT_RATIO] = {"a ratio such as '50%' or '0.5'", ratio_units, true},
    [IO_UNIT_NUMBER] = {"a number such as '8'", no_units, true},
};

const char *io_units_expected(io_unit kind) { return kinds[kind].expected; }

/* A decimal number as read: (-1)^negative * mantissa * 10^exp10, exactly. */
typedef struct {
  bool negative;
  uint64_t mantissa;
  int exp10;
} decimal;

/* Reads [+-]digits[.digits][e[+-]digits] at s; returns the end, or NULL if there is no number or it
 * has more than 19 significant digits (*too_long then set). */
static const char *read_decimal(const char *s, decimal *d, bool *too_long) {
  *d = (decimal){0};
  *too_long = false;
  if (*s == '+' || *s == '-')
    d->negative = *s++ == '-';
  int digits = 0, significant = 0;
  bool in_fraction = false;
  for (;; s++) {
    if (*s == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (*s < '0' || *s > '9')
      break;
    digits++;
    if (significant == 19) { /* beyond uint64: only zeros can be absorbed into the exponent */
      if (*s != '0')
        *too_long = true;
      else if (!in_fraction)
        d->exp10++;
      continue;
    }
    d->mantissa = d->mantissa * 10 + (uint64_t)(*s - '0');
    significant += d->mantissa != 0;
    d->exp10 -= in_fraction;
  }
  if (digits == 0 || *too_long)
    return NULL;
  bool has_exp = *s == 'e' || *s == 'E';
  const char *exp_digits = has_exp ? s + 1 + (s[1] == '+' || s[1] == '-') : s;
  if (has_exp && *exp_digits >= '0' && *exp_digits <= '9') {
    s++;
    bool negative_exp = *s == '-';
    s += *s == '+' || *s == '-';
    int e = 0;
    for (; *s >= '0' && *s <= '9'; s++)
      e = e < 100000 ? e * 10 + (*s - '0') : e; /* clamp: such values overflow or vanish anyway */
    d->exp10 += negative_exp ? -e : e;
  }
  while (d->mantissa != 0 && d->mantissa % 10 == 0) {
    d->mantissa /= 10;
    d->exp10++;
  }
  if (d->mantissa == 0)
    d->exp10 = 0;
  return s;
}

/* Finds the unit written at s (the whole rest of the text) for kind; NULL if none. */
static const unit_def *find_unit(io_unit kind, const char *s) {
  char name[16];
  size_t len = strlen(s);
  if (kind == IO_UNIT_BYTES_PER_S) { /* a size unit per second */
    if (len > 2 && len < sizeof name && strcmp(s + len - 2, "/s") == 0) {
      memcpy(name, s, len - 2);
      name[len - 2] = '\0';
      s = name;
    } else if (len == 4 && strcmp(s + 1, "bps") == 0 && strchr("kMGT", s[0])) {
      snprintf(name, sizeof name, "%cb", s[0]);
      s = name;
    } else {
      return NULL;
    }
  }
  for (const unit_def *u = kinds[kind].units; u->suffix; u++)
    if (strcmp(u->suffix, s) == 0)
      return u;
  return NULL;
}

/* Reads number and unit; on failure writes "expected ..., got '...' (reason)". */
static int read_value(io_unit kind, const char *text, decimal *d, unit_def *unit, char *err,
                      size_t err_len) {
  static const unit_def one = {"", 1, 1};
  bool too_long;
  const char *s = read_decimal(text, d, &too_long);
  const char *why = NULL;
  char units[320] = "";
  if (!s) {
    why = too_long ? " (more than 19 significant digits)" : "";
  } else {
    if (*s == ' ')
      s++;
    const unit_def *u = *s ? find_unit(kind, s) : NULL;
    if (u) {
      *unit = *u;
      return 0;
    }
    if (!*s && s[-1] != ' ' && (kinds[kind].bare_ok || d->mantissa == 0)) {
      *unit = one;
      return 0;
    }
    if (!*s) {
      why = " (a unit is required)";
    } else if ((kind == IO_UNIT_BYTES && strcmp(s, "b") == 0) ||
               (kind == IO_UNIT_BYTES_PER_S && strcmp(s, "b/s") == 0)) {
      why = " ('b' is ambiguous: write 'B' for bytes or 'bit' for bits)";
    } else {
      size_t n = snprintf(units, sizeof units, " (units:");
      for (const unit_def *u = kinds[kind].units; u->suffix && n < sizeof units; u++)
        n += snprintf(units + n, sizeof units - n, " %s%s%s", u->suffix,
                      kind == IO_UNIT_BYTES_PER_S ? "/s" : "", u[1].suffix ? "," : ")");
      why = kinds[kind].units[0].suffix ? units : " (a bare number, no unit)";
    }
  }
  snprintf(err, err_len, "expected %s, got '%s'%s", kinds[kind].expected, text, why);
  return IO_UNITS_EINVAL;
}

int io_units_parse_i64(io_unit kind, const char *text, int64_t *value, char *err, size_t err_len) {
  decimal d;
  unit_def u;
  if (read_value(kind, text, &d, &u, err, err_len) != 0)
    return IO_UNITS_EINVAL;
  uint64_t mul = (uint64_t)u.mul, n;
  int e = d.exp10;
  const char *why = NULL;
  while (e < 0 && mul % 10 == 0) { /* "1.5ms": cancel the fraction against the unit first */
    mul /= 10;
    e++;
  }
  if (d.mantissa != 0 && mul > UINT64_MAX / d.mantissa) {
    why = "out of range";
  } else {
    n = d.mantissa * mul;
    for (; e < 0 && !why; e++)
      if (n % 10 != 0)
        why = "not whole";
      else
        n /= 10;
    for (; e > 0 && !why; e--)
      if (n > UINT64_MAX / 10)
        why = "out of range";
      else
        n *= 10;
    if (!why && n % (uint64_t)u.div != 0)
      why = "not whole";
    else if (!why && (n /= (uint64_t)u.div) > (uint64_t)INT64_MAX + d.negative)
      why = "out of range";
  }
  if (why) {
    static const char *const base[] = {
        "bytes", "bytes/s", "nanoseconds", "watts", "joules", "per second", "", ""};
    if (strcmp(why, "not whole") != 0)
      snprintf(err, err_len, "expected %s, got '%s' (out of range)", kinds[kind].expected, text);
    else if (kind == IO_UNIT_RATIO || kind == IO_UNIT_NUMBER)
      snprintf(err, err_len, "expected a whole number, got '%s'", text);
    else
      snprintf(err, err_len, "expected %s, got '%s' (not a whole number of %s)",
               kinds[kind].expected, text, base[kind]);
    return IO_UNITS_EINVAL;
  }
  *value = d.negative ? (int64_t)(0 - n) : (int64_t)n;
  return 0;
}

int io_units_parse_f64(io_unit kind, const char *text, double *value, char *err, size_t err_len) {
  decimal d;
  unit_def u;
  if (read_value(kind, text, &d, &u, err, err_len) != 0)
    return IO_UNITS_EINVAL;
  /* strtod rounds a decimal string correctly, so hand it the exact product when it fits.
   * The C locale is assumed ('.' as decimal point): Windtunnel never calls setlocale. */
  char digits[48];
  uint64_t mul = (uint64_t)u.mul;
  double v;
  if (d.mantissa == 0 || mul <= UINT64_MAX / d.mantissa) {
    snprintf(digits, sizeof digits, "%" PRIu64 "e%d", d.mantissa * mul, d.exp10);
    v = strtod(digits, NULL);
  } else {
    snprintf(digits, sizeof digits, "%" PRIu64 "e%d", d.mantissa, d.exp10);
    v = strtod(digits, NULL) * (double)mul;
  }
  v /= (double)u.div;
  if (isinf(v)) {
    snprintf(err, err_len, "expected %s, got '%s' (out of range)", kinds[kind].expected, text);
    return IO_UNITS_EINVAL;
  }
  *value = d.negative ? -v : v;
  return 0;
}

/* Display units, smallest first; a unit is used once the value reaches it. */
typedef struct {
  const char *suffix;
  double size;
} display_unit;

int io_units_format(io_unit kind, double value, char *buf, size_t buf_len) {
  static const display_unit bytes_dec[] = {{"B", 1},     {"kB", 1e3},  {"MB", 1e6}, {"GB", 1e9},
                                           {"TB", 1e12}, {"PB", 1e15}, {NULL, 0}};
  static const display_unit bytes_bin[] = {{"B", 1},        {"KiB", 0x1p10}, {"MiB", 0x1p20},
                                           {"GiB", 0x1p30}, {"TiB", 0x1p40}, {"PiB", 0x1p50},
                                           {NULL, 0}};
  static const display_unit bw[] = {{"B/s", 1},    {"kB/s", 1e3},  {"MB/s", 1e6},
                                    {"GB/s", 1e9}, {"TB/s", 1e12}, {NULL, 0}};
  static const display_unit ns[] = {{"ns", 1},     {"us", 1e3},   {"ms", 1e6}, {"s", 1e9},
                                    {"min", 60e9}, {"h", 3600e9}, {NULL, 0}};
  static const display_unit w[] = {{"W", 1}, {"kW", 1e3}, {"MW", 1e6}, {NULL, 0}};
  static const display_unit j[] = {{"J", 1}, {"kJ", 1e3}, {"MJ", 1e6}, {"GJ", 1e9}, {NULL, 0}};
  static const display_unit per_s[] = {
      {"/h", 1.0 / 3600}, {"/min", 1.0 / 60}, {"/s", 1}, {NULL, 0}};
  static const display_unit ratio[] = {{"%", 0.01}, {NULL, 0}};
  static const display_unit number[] = {{"", 1}, {NULL, 0}};
  static const display_unit *const tables[] = {[IO_UNIT_BYTES] = bytes_dec,
                                               [IO_UNIT_BYTES_PER_S] = bw,
                                               [IO_UNIT_NS] = ns,
                                               [IO_UNIT_W] = w,
                                               [IO_UNIT_J] = j,
                                               [IO_UNIT_PER_S] = per_s,
                                               [IO_UNIT_RATIO] = ratio,
                                               [IO_UNIT_NUMBER] = number};
  const display_unit *table = tables[kind];
  double magnitude = fabs(value);
  if (kind == IO_UNIT_BYTES) { /* 80GiB reads better than 85.9GB: binary when it divides evenly */
    int k = 0;
    while (bytes_bin[k + 1].suffix && magnitude >= bytes_bin[k + 1].size)
      k++;
    if (fmod(magnitude, bytes_bin[k].size) == 0)
      table = bytes_bin;
  }
  const display_unit *u = table;
  while (magnitude == 0 && u->size != 1 && u[1].suffix) /* zero in the base unit: "0/s" */
    u++;
  while (u[1].suffix && magnitude >= u[1].size)
    u++;
  double scaled = value / u->size;
  if (!isfinite(value) || fabs(scaled) < 1e4 || fabs(scaled) >= 1e15)
    return snprintf(buf, buf_len, "%.4g%s", scaled, u->suffix);
  return snprintf(buf, buf_len, "%.0f%s", scaled, u->suffix); /* 12345h, not 1.234e+04h */
}
