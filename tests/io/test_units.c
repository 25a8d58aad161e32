/* Unit tests of io_units: exact parsing of values with units, the refusals and their messages, and
 * printing that parses back. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "harness.h"

#include "io/units.h"

/* Parses text as kind and checks the exact result; prints what went wrong. */
#define ASSERT_I64(kind, text, expected)                                                           \
  do {                                                                                             \
    int64_t v_ = -12345;                                                                           \
    char e_[512] = "";                                                                             \
    int rc_ = io_units_parse_i64(kind, text, &v_, e_, sizeof e_);                                  \
    if (rc_ != 0 || v_ != (int64_t)(expected))                                                     \
      fprintf(stderr, "\n'%s': rc %d, got %" PRId64 ", want %" PRId64 " (%s)\n", text, rc_, v_,    \
              (int64_t)(expected), e_);                                                            \
    CU_ASSERT(rc_ == 0 && v_ == (int64_t)(expected));                                              \
  } while (0)

#define ASSERT_F64(kind, text, expected)                                                           \
  do {                                                                                             \
    double v_ = -12345;                                                                            \
    char e_[512] = "";                                                                             \
    int rc_ = io_units_parse_f64(kind, text, &v_, e_, sizeof e_);                                  \
    if (rc_ != 0 || v_ != (double)(expected))                                                      \
      fprintf(stderr, "\n'%s': rc %d, got %.17g, want %.17g (%s)\n", text, rc_, v_,                \
              (double)(expected), e_);                                                             \
    CU_ASSERT(rc_ == 0 && v_ == (double)(expected));                                               \
  } while (0)

/* Checks that text is refused (as an integer when integer, else as a real) and that the message
 * contains want; the value must stay untouched. */
static void assert_refused(io_unit kind, const char *text, bool integer, const char *want) {
  char err[512] = "";
  int64_t i = 77;
  double d = 77;
  int rc = integer ? io_units_parse_i64(kind, text, &i, err, sizeof err)
                   : io_units_parse_f64(kind, text, &d, err, sizeof err);
  if (rc != IO_UNITS_EINVAL || !strstr(err, want))
    fprintf(stderr, "\n'%s': rc %d, message '%s', wanted '%s'\n", text, rc, err, want);
  CU_ASSERT_EQUAL(rc, IO_UNITS_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
  CU_ASSERT(i == 77 && d == 77);
}

static void test_durations_are_exact_nanoseconds(void) {
  ASSERT_I64(IO_UNIT_NS, "5us", 5000);
  ASSERT_I64(IO_UNIT_NS, "1.5ms", 1500000);
  ASSERT_I64(IO_UNIT_NS, "2h", 7200000000000);
  ASSERT_I64(IO_UNIT_NS, "30min", 1800000000000);
  ASSERT_I64(IO_UNIT_NS, "10s", 10000000000);
  ASSERT_I64(IO_UNIT_NS, "250ns", 250);
  ASSERT_I64(IO_UNIT_NS, "1d", 86400000000000);
  ASSERT_I64(IO_UNIT_NS, "5 us", 5000);
  ASSERT_I64(IO_UNIT_NS, "5\xC2\xB5s", 5000); /* µs */
  ASSERT_I64(IO_UNIT_NS, "0.000000001s", 1);
  ASSERT_I64(IO_UNIT_NS, "1.000000001s", 1000000001);
  ASSERT_I64(IO_UNIT_NS, "0.1s", 100000000);
  ASSERT_I64(IO_UNIT_NS, "1e3ns", 1000);
  ASSERT_I64(IO_UNIT_NS, "2.5E-3s", 2500000);
  ASSERT_I64(IO_UNIT_NS, ".5ms", 500000);
  ASSERT_I64(IO_UNIT_NS, "-3us", -3000);
  ASSERT_I64(IO_UNIT_NS, "+3us", 3000);
  ASSERT_I64(IO_UNIT_NS, "0", 0);
  ASSERT_I64(IO_UNIT_NS, "1.2345678900000000000000s", 1234567890);      /* zeros past 19 digits */
  ASSERT_I64(IO_UNIT_NS, "1234567890.123456789s", 1234567890123456789); /* 19 digits * 1e9 */
  ASSERT_I64(IO_UNIT_NS, "9223372036854775807ns", INT64_MAX);
  ASSERT_I64(IO_UNIT_NS, "-9223372036854775808ns", INT64_MIN);
  ASSERT_I64(IO_UNIT_NS, "2562047h", 9223369200000000000); /* the largest whole hour */
}

static void test_durations_refused_with_reason(void) {
  assert_refused(IO_UNIT_NS, "5 parsecs", true,
                 "expected a duration such as '5us' or '2h', got '5 parsecs' (units: ns, us");
  assert_refused(IO_UNIT_NS, "1.5ns", true, "(not a whole number of nanoseconds)");
  assert_refused(IO_UNIT_NS, "0.0000000005s", true, "(not a whole number of nanoseconds)");
  assert_refused(IO_UNIT_NS, "5", true, "got '5' (a unit is required)");
  assert_refused(IO_UNIT_NS, "5", false, "(a unit is required)");
  assert_refused(IO_UNIT_NS, "9223372036854775808ns", true, "(out of range)");
  assert_refused(IO_UNIT_NS, "2562048h", true, "(out of range)");
  assert_refused(IO_UNIT_NS, "1e30s", true, "(out of range)");
  assert_refused(IO_UNIT_NS, "12345678901234567891ns", true, "(more than 19 significant digits)");
  assert_refused(IO_UNIT_NS, "5m", true, "got '5m' (units:");
  assert_refused(IO_UNIT_NS, "", true, "got ''");
  assert_refused(IO_UNIT_NS, "ms", true, "got 'ms'");
  assert_refused(IO_UNIT_NS, "1.2.3s", true, "got '1.2.3s'");
  assert_refused(IO_UNIT_NS, "inf", false, "got 'inf'");
  assert_refused(IO_UNIT_NS, "nan", false, "got 'nan'");
  assert_refused(IO_UNIT_NS, "5  us", true, "got '5  us'");
  assert_refused(IO_UNIT_NS, "5e", true, "got '5e'");
}

static void test_sizes_exact_with_decimal_binary_and_bit_units(void) {
  ASSERT_I64(IO_UNIT_BYTES, "80GiB", 85899345920);
  ASSERT_I64(IO_UNIT_BYTES, "1.5GiB", 1610612736);
  ASSERT_I64(IO_UNIT_BYTES, "512MB", 512000000);
  ASSERT_I64(IO_UNIT_BYTES, "1kB", 1000);
  ASSERT_I64(IO_UNIT_BYTES, "1KB", 1000);
  ASSERT_I64(IO_UNIT_BYTES, "1KiB", 1024);
  ASSERT_I64(IO_UNIT_BYTES, "2TiB", 2199023255552);
  ASSERT_I64(IO_UNIT_BYTES, "3.35TB", 3350000000000);
  ASSERT_I64(IO_UNIT_BYTES, "8Gb", 1000000000);
  ASSERT_I64(IO_UNIT_BYTES, "8Gbit", 1000000000);
  ASSERT_I64(IO_UNIT_BYTES, "16bit", 2);
  ASSERT_I64(IO_UNIT_BYTES, "0", 0);
  assert_refused(IO_UNIT_BYTES, "1bit", true, "(not a whole number of bytes)");
  assert_refused(IO_UNIT_BYTES, "0.5B", true, "(not a whole number of bytes)");
  assert_refused(IO_UNIT_BYTES, "8b", true, "('b' is ambiguous: write 'B' for bytes or 'bit'");
  assert_refused(IO_UNIT_BYTES, "80gb", true, "expected a size such as '80GiB' or '512MB'");
  assert_refused(IO_UNIT_BYTES, "80", true, "(a unit is required)");
  assert_refused(IO_UNIT_BYTES, "8EiB", true, "(units: B, kB, KB, KiB");
  ASSERT_F64(IO_UNIT_BYTES, "1bit", 0.125); /* a real size may be fractional */
}

static void test_bandwidths_in_bytes_per_second(void) {
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "3.35TB/s", 3350000000000.0);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "400Gb/s", 50000000000.0);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "400Gbit/s", 50000000000.0);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "1.6Tb/s", 200000000000.0);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "100Gbps", 12500000000.0);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "1GiB/s", 1073741824.0);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "10 GB/s", 10e9);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "900GB/s", 900e9);
  ASSERT_I64(IO_UNIT_BYTES_PER_S, "25Gb/s", 3125000000);
  assert_refused(IO_UNIT_BYTES_PER_S, "3.35TB", false, "expected a bandwidth such as '3.35TB/s'");
  assert_refused(IO_UNIT_BYTES_PER_S, "10b/s", false, "('b' is ambiguous");
  assert_refused(IO_UNIT_BYTES_PER_S, "1e400GB/s", false, "(out of range)");
}

static void test_power_energy_rate_ratio_number(void) {
  ASSERT_F64(IO_UNIT_W, "700W", 700);
  ASSERT_F64(IO_UNIT_W, "1.2kW", 1200);
  ASSERT_F64(IO_UNIT_W, "2MW", 2e6);
  ASSERT_F64(IO_UNIT_J, "5kJ", 5000);
  ASSERT_F64(IO_UNIT_J, "2kWh", 7.2e6);
  ASSERT_F64(IO_UNIT_J, "1Wh", 3600);
  ASSERT_F64(IO_UNIT_PER_S, "10/s", 10);
  ASSERT_F64(IO_UNIT_PER_S, "2.5/s", 2.5);
  ASSERT_F64(IO_UNIT_PER_S, "600/min", 10);
  ASSERT_F64(IO_UNIT_PER_S, "3600/h", 1);
  ASSERT_F64(IO_UNIT_PER_S, "1/h", 1.0 / 3600);
  ASSERT_F64(IO_UNIT_PER_S, "1.98GHz", 1.98e9);
  ASSERT_F64(IO_UNIT_RATIO, "50%", 0.5);
  ASSERT_F64(IO_UNIT_RATIO, "12.5%", 0.125);
  ASSERT_F64(IO_UNIT_RATIO, "0.1", 0.1);
  ASSERT_F64(IO_UNIT_NUMBER, "0.85", 0.85);
  ASSERT_F64(IO_UNIT_NUMBER, "1e-3", 0.001);
  ASSERT_I64(IO_UNIT_NUMBER, "8", 8);
  ASSERT_I64(IO_UNIT_NUMBER, "1e6", 1000000);
  ASSERT_I64(IO_UNIT_NUMBER, "1.5e3", 1500);
  assert_refused(IO_UNIT_W, "700", false, "expected a power such as '700W' or '1.2kW', got '700'");
  assert_refused(IO_UNIT_W, "700w", false, "(units: W, kW, MW)");
  assert_refused(IO_UNIT_J, "2kwh", false, "expected an energy such as '5kJ' or '2kWh'");
  assert_refused(IO_UNIT_PER_S, "10", false, "expected a rate such as '10/s' or '600/min'");
  assert_refused(IO_UNIT_PER_S, "/h", false, "got '/h'");
  assert_refused(IO_UNIT_RATIO, "50 percent", false, "expected a ratio such as '50%' or '0.5'");
  assert_refused(IO_UNIT_NUMBER, "2.5", true, "expected a whole number, got '2.5'");
  assert_refused(IO_UNIT_NUMBER, "8k", true, "(a bare number, no unit)");
  assert_refused(IO_UNIT_NUMBER, "0x10", true, "got '0x10'");
}

/* The product with the unit is rounded once, so decimal text gives the double nearest to it. */
static void test_reals_are_correctly_rounded(void) {
  ASSERT_F64(IO_UNIT_NS, "0.1s", 1e8);
  ASSERT_F64(IO_UNIT_NS, "1.1ms", 1100000);
  ASSERT_F64(IO_UNIT_BYTES_PER_S, "4.35TB/s", 4.35e12); /* 4.35 * 1e12 is 4349999999999.9995 */
  ASSERT_F64(IO_UNIT_W, "2.01kW", 2010);                /* 2.01 * 1000 is 2009.9999999999998 */
  ASSERT_F64(IO_UNIT_NS, "8.2ms", 8200000);             /* 8.2 * 1e6 is 8199999.999999999 */
  ASSERT_F64(IO_UNIT_J, "1e-400J", 0);
}

static void assert_format(io_unit kind, double value, const char *want) {
  char text[64];
  io_units_format(kind, value, text, sizeof text);
  if (strcmp(text, want) != 0)
    fprintf(stderr, "\n%.17g printed as '%s', want '%s'\n", value, text, want);
  CU_ASSERT_STRING_EQUAL(text, want);
  double back = -1;
  char err[256];
  CU_ASSERT_EQUAL(io_units_parse_f64(kind, text, &back, err, sizeof err), 0);
  CU_ASSERT(fabs(back - value) <= 5e-4 * fabs(value)); /* 4 significant digits */
}

static void test_format_picks_readable_units_that_parse_back(void) {
  assert_format(IO_UNIT_BYTES, 85899345920.0, "80GiB");
  assert_format(IO_UNIT_BYTES, 1536, "1.536kB");
  assert_format(IO_UNIT_BYTES, 512e6, "512MB");
  assert_format(IO_UNIT_BYTES, 0, "0B");
  assert_format(IO_UNIT_BYTES_PER_S, 3.35e12, "3.35TB/s");
  assert_format(IO_UNIT_NS, 1500000, "1.5ms");
  assert_format(IO_UNIT_NS, 7.2e12, "2h");
  assert_format(IO_UNIT_NS, 90e9, "1.5min");
  assert_format(IO_UNIT_NS, 1234567, "1.235ms");
  assert_format(IO_UNIT_NS, 250, "250ns");
  assert_format(IO_UNIT_NS, 3.6e16, "10000h");
  assert_format(IO_UNIT_W, 700, "700W");
  assert_format(IO_UNIT_W, 1.2e6, "1.2MW");
  assert_format(IO_UNIT_J, 7.2e6, "7.2MJ");
  assert_format(IO_UNIT_PER_S, 10, "10/s");
  assert_format(IO_UNIT_PER_S, 0.5, "30/min");
  assert_format(IO_UNIT_PER_S, 0, "0/s");
  assert_format(IO_UNIT_RATIO, 0.5, "50%");
  assert_format(IO_UNIT_NUMBER, 12345678, "12345678");
  assert_format(IO_UNIT_NS, -5000, "-5us");
  assert_format(IO_UNIT_NUMBER, 2.7e24, "2.7e+24"); /* no 25-digit text that would not parse */
}

int main(void) {
  static const harness_test tests[] = {
      {"durations_are_exact_nanoseconds", test_durations_are_exact_nanoseconds},
      {"durations_refused_with_reason", test_durations_refused_with_reason},
      {"sizes_exact_with_decimal_binary_and_bit_units",
       test_sizes_exact_with_decimal_binary_and_bit_units},
      {"bandwidths_in_bytes_per_second", test_bandwidths_in_bytes_per_second},
      {"power_energy_rate_ratio_number", test_power_energy_rate_ratio_number},
      {"reals_are_correctly_rounded", test_reals_are_correctly_rounded},
      {"format_picks_readable_units_that_parse_back",
       test_format_picks_readable_units_that_parse_back},
      {NULL, NULL},
  };
  return harness_run("io_units", tests, NULL, true);
}
