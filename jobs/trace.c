/* Trace readers (Azure LLM inference 2023/2024, Mooncake JSONL, LLMServingSim, Vidur and
 * SplitwiseSim CSV), streaming one row at a time, as a backend of the job_source (jobs/source.c)
 * that synthetic sources share. */
#define _POSIX_C_SOURCE 200809L
#include "trace.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "workload_source.h"

enum { READ_BUFFER_BYTES = 256 << 10, SNIPPET_CHARS = 40 };
enum { JOB_TRACE_FIRST_YEAR = 1678, JOB_TRACE_LAST_YEAR = 2261 };
/* Longest line a reader takes: a Mooncake row of a 128K-token prompt has 256 hash ids (about 5 KB);
 * anything near this is not a trace (a binary file, /dev/zero) and must not be read whole. */
enum { JOB_TRACE_MAX_LINE_BYTES = 1 << 20 };

/* ---- Formats ------------------------------------------------------------------------------- */

/* Which columns (JSON keys for Mooncake) a format reads, and how its times convert to ns. */
typedef struct trace_layout {
  job_trace_format format;
  const char *name;
  const char *time_col; /* NULL: no times */
  const char *input_col, *output_col;
  int time_pow10;  /* ns = value * 10^time_pow10 (0: ns, 6: ms, 9: s) */
  bool wall_clock; /* times are dates; the trace starts at its first row */
} trace_layout;

/* Detection tries these in order; the first whose columns the header has wins. */
static const trace_layout layouts[] = {
    {JOB_TRACE_AZURE, "azure", "TIMESTAMP", "ContextTokens", "GeneratedTokens", 0, true},
    {JOB_TRACE_LLMSERVINGSIM, "llmservingsim", "arrival_time_ns", "input_toks", "output_toks", 0,
     false},
    {JOB_TRACE_VIDUR, "vidur", "arrived_at", "num_prefill_tokens", "num_decode_tokens", 9, false},
    {JOB_TRACE_SPLITWISE, "splitwise", "arrival_timestamp", "prompt_size", "token_size", 9, false},
    {JOB_TRACE_LENGTHS, "lengths", NULL, "num_prefill_tokens", "num_decode_tokens", 0, false},
    {JOB_TRACE_MOONCAKE, "mooncake", "timestamp", "input_length", "output_length", 6, false},
};
enum { LAYOUT_COUNT = sizeof layouts / sizeof layouts[0] };

static const trace_layout *layout_of(job_trace_format format) {
  for (int i = 0; i < LAYOUT_COUNT; i++)
    if (layouts[i].format == format)
      return &layouts[i];
  return NULL;
}

const char *job_trace_format_name(job_trace_format format) {
  const trace_layout *l = layout_of(format);
  return l ? l->name : "auto";
}

int job_trace_format_parse(const char *name, job_trace_format *format) {
  if (strcmp(name, "auto") == 0) {
    *format = JOB_TRACE_AUTO;
    return 0;
  }
  for (int i = 0; i < LAYOUT_COUNT; i++)
    if (strcmp(name, layouts[i].name) == 0) {
      *format = layouts[i].format;
      return 0;
    }
  return JOB_SOURCE_EINVAL;
}

static const char *const tier_names[] = {"interactive", "batch"}; /* job_tier order */

const char *job_tier_name(job_tier tier) {
  return (unsigned)tier < sizeof tier_names / sizeof tier_names[0] ? tier_names[tier] : "unknown";
}

int job_tier_parse(const char *name, size_t n, job_tier *tier) {
  for (size_t t = 0; t < sizeof tier_names / sizeof tier_names[0]; t++)
    if (n == strlen(tier_names[t]) && strncasecmp(name, tier_names[t], n) == 0) {
      *tier = (job_tier)t;
      return 0;
    }
  return JOB_SOURCE_EINVAL;
}

/* ---- Field parsers: each returns NULL, or why the text is not acceptable --------------------- */

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* A token count: decimal digits only, 1 .. INT32_MAX. */
static const char *parse_tokens(const char *s, size_t n, int32_t *out) {
  if (n > 0 && s[0] == '-')
    return "negative";
  if (n == 0)
    return "empty";
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return "not an integer";
    v = v * 10 + (s[i] - '0');
    if (v > INT32_MAX)
      return "too large";
  }
  if (v < 1)
    return "must be at least 1";
  *out = (int32_t)v;
  return NULL;
}

/* A non-negative decimal ("4.314579", "1e-05") times 10^pow10, rounded half up: exact in integers
 * unless it has an exponent (then through a double, which is exact to the ns for these sizes). */
static const char *parse_scaled(const char *s, size_t n, int pow10, int64_t *out) {
  static const int64_t pow10s[] = {1,      10,      100,      1000,      10000,
                                   100000, 1000000, 10000000, 100000000, 1000000000};
  assert(pow10 >= 0 && pow10 <= 9);
  int64_t whole = 0, frac = 0;
  int frac_digits = 0, round_up = 0, digits = 0;
  const int64_t limit = INT64_MAX / pow10s[pow10] / 10;
  size_t i = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
    if (whole > (limit - (s[i] - '0')) / 10) /* checked before it can overflow (found by fuzz/) */
      return "too large: times must be under 29 years (2^63 / 10 ns)";
    whole = whole * 10 + (s[i] - '0');
  }
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
      if (frac_digits < pow10)
        frac = frac * 10 + (s[i] - '0'), frac_digits++;
      else if (frac_digits++ == pow10)
        round_up = s[i] >= '5';
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E') && digits > 0 && n < 64) {
    char text[64], *stop;
    memcpy(text, s, n), text[n] = '\0';
    double v = strtod(text, &stop) * (double)pow10s[pow10];
    if (*stop || !(v >= 0) || v >= 0x1p62)
      return *stop ? "not a number" : "out of range";
    *out = llround(v);
    return NULL;
  }
  if (i != n || digits == 0)
    return n > 0 && s[0] == '-' ? "negative" : "not a number";
  if (frac_digits > pow10)
    frac_digits = pow10;
  *out = whole * pow10s[pow10] + frac * pow10s[pow10 - frac_digits] + round_up;
  return NULL;
}

/* A priority: an optional sign and decimal digits, in int32 range. */
static const char *parse_priority(const char *s, size_t n, int32_t *out) {
  size_t i = n > 0 && (s[0] == '-' || s[0] == '+');
  if (i == n)
    return "empty";
  int64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return "not an integer";
    if ((v = v * 10 + (s[i] - '0')) > (int64_t)INT32_MAX + 1)
      return "out of the 32-bit range";
  }
  v = s[0] == '-' ? -v : v;
  if (v > INT32_MAX)
    return "out of the 32-bit range";
  *out = (int32_t)v;
  return NULL;
}

static const char *parse_tier(const char *s, size_t n, uint32_t *out) {
  job_tier tier;
  if (job_tier_parse(s, n, &tier) != 0)
    return "expected interactive or batch";
  *out = (uint32_t)tier;
  return NULL;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* Whether s matches pattern, where '0' is any digit and 'T' is also ' '. */
static bool matches(const char *s, size_t n, const char *pattern) {
  if (n < strlen(pattern))
    return false;
  for (size_t i = 0; pattern[i]; i++)
    if (pattern[i] == '0' ? s[i] < '0' || s[i] > '9'
                          : s[i] != pattern[i] && !(pattern[i] == 'T' && s[i] == ' '))
      return false;
  return true;
}

#define TWO_DIGITS(s) (((s)[0] - '0') * 10 + (s)[1] - '0')

/* "YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]" ('T' also separates) to ns since the epoch,
 * UTC. Azure 2023 writes 7 fraction digits and no zone; 2024 writes up to 6 digits and "+00:00". */
static const char *parse_datetime(const char *s, size_t n, int64_t *out) {
  static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!matches(s, n, "0000-00-00T00:00:00"))
    return "not a date and time (YYYY-MM-DD HH:MM:SS.fraction)";
  int year = TWO_DIGITS(s) * 100 + TWO_DIGITS(s + 2), month = TWO_DIGITS(s + 5);
  int day = TWO_DIGITS(s + 8), hour = TWO_DIGITS(s + 11), minute = TWO_DIGITS(s + 14);
  int second = TWO_DIGITS(s + 17);
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 ||
      minute > 59 || second > 59)
    return "date or time out of range";
  /* Signed 64-bit ns from 1970 span 1677-09-21 to 2262-04-11: whole years inside, any zone. */
  if (year < JOB_TRACE_FIRST_YEAR || year > JOB_TRACE_LAST_YEAR)
    return "year outside 1678-2261 (times are 64-bit nanoseconds from 1970)";
  size_t i = 19, zone = i;
  while (zone < n && s[zone] != 'Z' && s[zone] != '+' && s[zone] != '-')
    zone++;
  int64_t frac_ns = 0, zone_s = 0;
  if (i < zone && (s[i] != '.' || zone == i + 1))
    return "bad fraction of a second";
  for (int64_t k = (int64_t)i + 1, place_ns = 100000000; k < (int64_t)zone; k++, place_ns /= 10) {
    if (s[k] < '0' || s[k] > '9')
      return "bad fraction of a second";
    frac_ns += (s[k] - '0') * place_ns; /* digits past the ns are dropped */
  }
  if (zone < n && s[zone] != 'Z') {
    const char *z = s + zone + 1;
    size_t left = n - zone - 1;
    if (!(left == 5 && matches(z, left, "00:00")) && !(left == 4 && matches(z, left, "0000")))
      return "bad time zone offset (+HH:MM)";
    zone_s = (s[zone] == '-' ? -1 : 1) * (TWO_DIGITS(z) * 3600 + TWO_DIGITS(z + left - 2) * 60);
  } else if (zone < n && zone + 1 != n) {
    return "unexpected characters after the time";
  }
  int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  *out = (secs - zone_s) * 1000000000 + frac_ns;
  return NULL;
}

/* ---- The reader ---------------------------------------------------------------------------- */

typedef struct trace_reader {
  FILE *file;
  char *io_buffer;       /* read in chunks of READ_BUFFER_BYTES, split at line ends */
  size_t io_pos, io_len; /* the unread bytes are io_buffer[io_pos, io_len) */
  bool io_end;           /* the file has no more */
  char *path;
  char *line;
  size_t line_cap;
  int64_t line_no;
  bool line_pending; /* the first data line was read while detecting the format */
  const trace_layout *layout;
  int columns, time_col, input_col, output_col;        /* CSV: field count and indices (-1: none) */
  int priority_col, tier_col, deadline_col, model_col; /* optional CSV columns (-1: none) */
  int session_col; /* a conversation's id: its turns share prefix hashes (-1: none) */
  bool have_start, have_prev;
  int64_t start_ns, prev_ns;
  uint64_t *hashes;
  size_t hash_cap;
} trace_reader;

static void reader_close(void *impl) {
  trace_reader *r = impl;
  if (!r)
    return;
  if (r->file)
    fclose(r->file);
  free(r->io_buffer);
  free(r->path);
  free(r->line);
  free(r->hashes);
  free(r);
}

/* "path:line: " + message, for a row the policy may skip. */
static int row_bad(trace_reader *r, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int row_bad(trace_reader *r, char *err, size_t err_len, const char *fmt, ...) {
  char why[MESSAGE_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  util_err(err, err_len, "%s:%lld: %s", r->path, (long long)r->line_no, why);
  return JOB_ROW_BAD;
}

/* Appends n bytes to the line being read (its first `len`); 0, or a negative code when the line
 * passes JOB_TRACE_MAX_LINE_BYTES or memory runs out. */
static int line_append(trace_reader *r, size_t len, const char *bytes, size_t n, char *err,
                       size_t err_len) {
  if (len + n > JOB_TRACE_MAX_LINE_BYTES) {
    util_err(err, err_len, "%s:%lld: a line longer than %d bytes: not a trace", r->path,
             (long long)r->line_no + 1, JOB_TRACE_MAX_LINE_BYTES);
    return JOB_SOURCE_EFORMAT;
  }
  if (len + n + 1 > r->line_cap) {
    size_t cap = r->line_cap ? r->line_cap : 256;
    while (cap < len + n + 1)
      cap *= 2;
    char *grown = realloc(r->line, cap);
    if (!grown) {
      util_err(err, err_len, "%s:%lld: out of memory", r->path, (long long)r->line_no + 1);
      return JOB_SOURCE_ENOMEM;
    }
    r->line = grown, r->line_cap = cap;
  }
  memcpy(r->line + len, bytes, n);
  return 0;
}

/* Reads one line into r->line without its end, at most JOB_TRACE_MAX_LINE_BYTES: 1 (its length in
 * *len), 0 at the end of the file, or a negative code with "path:line: why". Chunks are split at
 * line ends, so a file without any (/dev/zero) is refused within a line's limit, not read whole. */
static int read_any_line(trace_reader *r, size_t *len, char *err, size_t err_len) {
  size_t n = 0;
  bool ended = false, any = false;
  while (!ended) {
    if (r->io_pos == r->io_len) {
      if (r->io_end)
        break;
      r->io_pos = 0;
      r->io_len = fread(r->io_buffer, 1, READ_BUFFER_BYTES, r->file);
      if (r->io_len < READ_BUFFER_BYTES) {
        if (ferror(r->file)) {
          util_err(err, err_len, "%s:%lld: read error: %s", r->path, (long long)r->line_no + 1,
                   strerror(errno ? errno : EIO));
          return JOB_SOURCE_EIO;
        }
        r->io_end = true;
      }
      continue;
    }
    const char *from = r->io_buffer + r->io_pos;
    const char *nl = memchr(from, '\n', r->io_len - r->io_pos);
    size_t take = nl ? (size_t)(nl - from) : r->io_len - r->io_pos;
    int rc = line_append(r, n, from, take, err, err_len);
    if (rc < 0)
      return rc;
    n += take, any = true;
    r->io_pos += take + (nl != NULL);
    ended = nl != NULL;
  }
  if (!any)
    return 0;
  r->line_no++;
  if (memchr(r->line, '\0', n)) {
    util_err(err, err_len, "%s:%lld: a NUL byte: a binary file, not a trace", r->path,
             (long long)r->line_no);
    return JOB_SOURCE_EFORMAT;
  }
  while (n > 0 && r->line[n - 1] == '\r')
    n--;
  r->line[n] = '\0';
  *len = n;
  return 1;
}

/* Reads the next non-blank line, without its line end. 1, 0 at the end, or a negative code. */
static int read_line(trace_reader *r, size_t *len, char *err, size_t err_len) {
  for (;;) {
    errno = 0;
    size_t n;
    int rc = read_any_line(r, &n, err, err_len);
    if (rc <= 0)
      return rc;
    size_t blank = 0;
    while (blank < n && is_space(r->line[blank]))
      blank++;
    if (blank < n) {
      *len = n;
      return 1;
    }
  }
}

/* The field [s, s+n) without surrounding blanks and double quotes. */
static void trim_field(const char **s, size_t *n) {
  while (*n && is_space(**s))
    (*s)++, (*n)--;
  while (*n && is_space((*s)[*n - 1]))
    (*n)--;
  if (*n >= 2 && (*s)[0] == '"' && (*s)[*n - 1] == '"')
    (*s)++, *n -= 2;
}

/* Splits a CSV line at commas: the first `want` fields' spans, and the count of all. */
static int split_csv(const char *line, size_t len, const char **starts, size_t *lens, int want) {
  int count = 0;
  const char *p = line, *end = line + len;
  for (;;) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *stop = comma ? comma : end;
    if (count < want) {
      starts[count] = p;
      lens[count] = (size_t)(stop - p);
      trim_field(&starts[count], &lens[count]);
    }
    count++;
    if (!comma)
      return count;
    p = comma + 1;
  }
}

enum { MAX_COLUMNS = 64 };

static int column_index(const char **names, const size_t *lens, int count, const char *want) {
  if (!want)
    return -1;
  for (int i = 0; i < count && i < MAX_COLUMNS; i++)
    if (lens[i] == strlen(want) && strncasecmp(names[i], want, lens[i]) == 0)
      return i;
  return -2;
}

/* Reads the header (or, for JSON lines, keeps the first line as data) and fixes the layout. */
static int reader_detect(trace_reader *r, job_trace_format format, char *err, size_t err_len) {
  size_t len;
  int rc = read_line(r, &len, err, err_len);
  if (rc < 0)
    return rc;
  if (rc == 0) {
    util_err(err, err_len, "%s: empty file: no header and no rows", r->path);
    return JOB_SOURCE_EFORMAT;
  }
  char *line = r->line;
  if ((unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
      (unsigned char)line[2] == 0xBF) /* UTF-8 byte order mark */
    memmove(line, line + 3, (len -= 3) + 1);
  size_t lead = 0;
  while (lead < len && is_space(line[lead]))
    lead++;
  bool json = line[lead] == '{';
  if (json || format == JOB_TRACE_MOONCAKE) {
    if (!json || (format != JOB_TRACE_AUTO && format != JOB_TRACE_MOONCAKE)) {
      util_err(err, err_len, "%s:%lld: the %s format %s", r->path, (long long)r->line_no,
               job_trace_format_name(format),
               json ? "is CSV but the line is a JSON object" : "needs a JSON object per line");
      return JOB_SOURCE_EFORMAT;
    }
    r->layout = layout_of(JOB_TRACE_MOONCAKE);
    r->line_pending = true;
    return 0;
  }
  const char *names[MAX_COLUMNS];
  size_t lens[MAX_COLUMNS];
  r->columns = split_csv(line, len, names, lens, MAX_COLUMNS);
  for (int i = 0; i < LAYOUT_COUNT; i++) {
    const trace_layout *l = &layouts[i];
    if (l->format == JOB_TRACE_MOONCAKE || (format != JOB_TRACE_AUTO && l->format != format))
      continue;
    int t = column_index(names, lens, r->columns, l->time_col);
    int in = column_index(names, lens, r->columns, l->input_col);
    int out = column_index(names, lens, r->columns, l->output_col);
    if (t != -2 && in >= 0 && out >= 0) {
      r->layout = l;
      r->time_col = t;
      r->input_col = in;
      r->output_col = out;
      r->priority_col = column_index(names, lens, r->columns, "priority");
      r->tier_col = column_index(names, lens, r->columns, "tier");
      r->deadline_col = column_index(names, lens, r->columns, "deadline_s");
      r->model_col = column_index(names, lens, r->columns, "model");
      r->session_col = column_index(names, lens, r->columns, "session");
      return 0;
    }
    if (format != JOB_TRACE_AUTO) {
      util_err(err, err_len, "%s:%lld: header has no column '%s', which the %s format needs",
               r->path, (long long)r->line_no,
               t == -2  ? l->time_col
               : in < 0 ? l->input_col
                        : l->output_col,
               l->name);
      return JOB_SOURCE_EFORMAT;
    }
  }
  util_err(err, err_len,
           "%s:%lld: unknown trace header '%.*s': expected Azure (TIMESTAMP,ContextTokens,"
           "GeneratedTokens), LLMServingSim (arrival_time_ns,input_toks,output_toks), Vidur "
           "(arrived_at,num_prefill_tokens,num_decode_tokens), SplitwiseSim (arrival_timestamp,"
           "prompt_size,token_size) or Mooncake JSON lines",
           r->path, (long long)r->line_no, (int)(len < 120 ? len : 120), line);
  return JOB_SOURCE_EFORMAT;
}

static int reader_open(trace_reader **out, const char *path, job_trace_format format,
                       bool lengths_ok, char *err, size_t err_len) {
  *out = NULL;
  if (format != JOB_TRACE_AUTO && !layout_of(format)) {
    util_err(err, err_len, "%s: unknown trace format %d", path, (int)format);
    return JOB_SOURCE_EINVAL;
  }
  trace_reader *r = calloc(1, sizeof *r);
  if (!r || !(r->path = strdup(path)) || !(r->io_buffer = malloc(READ_BUFFER_BYTES))) {
    reader_close(r);
    util_err(err, err_len, "%s: out of memory", path);
    return JOB_SOURCE_ENOMEM;
  }
  r->time_col = r->input_col = r->output_col = -1;
  r->priority_col = r->tier_col = r->deadline_col = r->model_col = r->session_col = -1;
  if (!(r->file = fopen(path, "r"))) {
    util_err(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    reader_close(r);
    return JOB_SOURCE_EIO;
  }
  int rc = reader_detect(r, format, err, err_len);
  if (rc == 0 && !lengths_ok && !r->layout->time_col) {
    util_err(err, err_len,
             "%s: has lengths but no arrival times; use it as an empirical length "
             "distribution of a synthetic workload",
             path);
    rc = JOB_SOURCE_EFORMAT;
  }
  if (rc < 0) {
    reader_close(r);
    return rc;
  }
  *out = r;
  return 0;
}

/* A quoted snippet of bad text for messages. */
#define SNIP(s, n) (int)((n) < SNIPPET_CHARS ? (n) : SNIPPET_CHARS), (s)

/* The attribute fields of a row (NULL: not given): priority, tier, deadline_s. */
static int parse_attrs(trace_reader *r, const char *const values[3], const size_t lens[3],
                       job_raw_request *raw, char *err, size_t err_len) {
  static const char *const names[3] = {"priority", "tier", "deadline_s"};
  for (int k = 0; k < 3; k++) {
    if (!values[k])
      continue;
    const char *why = k == 0   ? parse_priority(values[k], lens[k], &raw->attrs.priority)
                      : k == 1 ? parse_tier(values[k], lens[k], &raw->attrs.tier)
                               : parse_scaled(values[k], lens[k], 9, &raw->attrs.deadline_ns);
    if (!why && k == 2 && raw->attrs.deadline_ns <= 0)
      why = "must be above 0";
    if (why)
      return row_bad(r, err, err_len, "%s '%.*s': %s", names[k], SNIP(values[k], lens[k]), why);
  }
  if (raw->attrs.deadline_ns > 0 && raw->attrs.tier != JOB_TIER_BATCH)
    return row_bad(r, err, err_len, "a deadline applies to batch requests only (tier batch)");
  return 1;
}

static int parse_csv_row(trace_reader *r, size_t len, job_raw_request *raw, char *err,
                         size_t err_len) {
  const char *f[MAX_COLUMNS];
  size_t n[MAX_COLUMNS];
  int want = r->columns < MAX_COLUMNS ? r->columns : MAX_COLUMNS;
  int count = split_csv(r->line, len, f, n, want);
  if (count != r->columns)
    return row_bad(r, err, err_len, "expected %d fields, found %d", r->columns, count);
  const trace_layout *l = r->layout;
  const char *why;
  raw->time_ns = 0;
  if (r->time_col >= 0) {
    int c = r->time_col;
    why = l->wall_clock ? parse_datetime(f[c], n[c], &raw->time_ns)
                        : parse_scaled(f[c], n[c], l->time_pow10, &raw->time_ns);
    if (why)
      return row_bad(r, err, err_len, "%s '%.*s': %s", l->time_col, SNIP(f[c], n[c]), why);
  }
  int c = r->input_col;
  if ((why = parse_tokens(f[c], n[c], &raw->input_tokens)))
    return row_bad(r, err, err_len, "%s '%.*s': %s", l->input_col, SNIP(f[c], n[c]), why);
  c = r->output_col;
  if ((why = parse_tokens(f[c], n[c], &raw->output_tokens)))
    return row_bad(r, err, err_len, "%s '%.*s': %s", l->output_col, SNIP(f[c], n[c]), why);
  /* Optional attribute columns; an empty field keeps the workload's default. */
  const int cols[3] = {r->priority_col, r->tier_col, r->deadline_col};
  const char *values[3] = {NULL, NULL, NULL};
  size_t value_lens[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++)
    if (cols[k] >= 0 && n[cols[k]] > 0)
      values[k] = f[cols[k]], value_lens[k] = n[cols[k]];
  raw->prefix_hash_count = 0;
  raw->prefix_hashes = NULL;
  if (r->model_col >= 0 && n[r->model_col] > 0)
    raw->model_name = f[r->model_col], raw->model_name_len = n[r->model_col];
  if (r->session_col >= 0 && n[r->session_col] > 0) { /* FNV-1a of the id names the conversation */
    uint64_t key = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n[r->session_col]; i++)
      key = (key ^ (unsigned char)f[r->session_col][i]) * 0x100000001b3ull;
    int64_t count = job_session_hashes(key, raw->input_tokens, &r->hashes, &r->hash_cap);
    if (count < 0) {
      util_err(err, err_len, "%s:%lld: out of memory", r->path, (long long)r->line_no);
      return JOB_SOURCE_ENOMEM;
    }
    raw->prefix_hash_count = (uint32_t)count;
    raw->prefix_hashes = r->hashes;
  }
  return parse_attrs(r, values, value_lens, raw, err, err_len);
}

/* The value of "key" in a one-line JSON object: just past its colon, or NULL if absent. Enough for
 * Mooncake's fixed shape: no key name occurs inside its values. */
static const char *json_value(const char *line, const char *key) {
  size_t key_len = strlen(key);
  for (const char *p = line; (p = strchr(p, '"')) != NULL; p++)
    if (strncmp(p + 1, key, key_len) == 0 && p[key_len + 1] == '"') {
      p += key_len + 2;
      while (is_space(*p))
        p++;
      if (*p == ':')
        for (p++; is_space(*p);)
          p++;
      return p;
    }
  return NULL;
}

/* The length of the JSON number at p. */
static size_t number_len(const char *p) {
  size_t n = 0;
  while (p[n] && !is_space(p[n]) && !strchr(",]}", p[n]))
    n++;
  return n;
}

/* {"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [n, ...]}, any key order;
 * other keys are ignored and hash_ids may be absent. */
static int parse_mooncake_row(trace_reader *r, size_t len, job_raw_request *raw, char *err,
                              size_t err_len) {
  const trace_layout *l = r->layout;
  const char *line = r->line, *keys[3] = {l->time_col, l->input_col, l->output_col}, *why;
  while (len > 0 && is_space(line[len - 1]))
    len--;
  while (is_space(*line))
    line++, len--;
  if (line[0] != '{' || line[len - 1] != '}')
    return row_bad(r, err, err_len, "not a JSON object on one line ({...})");
  for (int k = 0; k < 3; k++) {
    const char *v = json_value(line, keys[k]);
    if (!v)
      return row_bad(r, err, err_len, "missing key '%s'", keys[k]);
    size_t n = number_len(v);
    why = k == 0   ? parse_scaled(v, n, l->time_pow10, &raw->time_ns)
          : k == 1 ? parse_tokens(v, n, &raw->input_tokens)
                   : parse_tokens(v, n, &raw->output_tokens);
    if (why)
      return row_bad(r, err, err_len, "%s '%.*s': %s", keys[k], SNIP(v, n), why);
  }
  raw->prefix_hash_count = 0;
  const char *p = json_value(line, "hash_ids");
  if (p && *p++ != '[')
    return row_bad(r, err, err_len, "hash_ids: expected an array");
  for (bool first = true; p; first = false) {
    while (is_space(*p))
      p++;
    if (*p == ']')
      break;
    if (!first && *p++ != ',')
      return row_bad(r, err, err_len, "hash_ids: expected ',' or ']'");
    while (is_space(*p))
      p++;
    char *stop;
    errno = 0;
    unsigned long long hash = strtoull(p, &stop, 10);
    if (*p < '0' || *p > '9' || errno)
      return row_bad(r, err, err_len, "hash_ids: '%.*s' is not a 64-bit block hash",
                     SNIP(p, number_len(p)));
    if (raw->prefix_hash_count == r->hash_cap) {
      size_t cap = r->hash_cap ? 2 * r->hash_cap : 256;
      uint64_t *grown = realloc(r->hashes, cap * sizeof *grown);
      if (!grown) {
        util_err(err, err_len, "%s:%lld: out of memory", r->path, (long long)r->line_no);
        return JOB_SOURCE_ENOMEM;
      }
      r->hashes = grown, r->hash_cap = cap;
    }
    r->hashes[raw->prefix_hash_count++] = hash;
    p = stop;
  }
  raw->prefix_hashes = raw->prefix_hash_count ? r->hashes : NULL;
  const char *model = json_value(line, "model");
  if (model && *model++ != '"')
    return row_bad(r, err, err_len, "model: expected a string");
  if (model) {
    const char *close = strchr(model, '"');
    if (!close)
      return row_bad(r, err, err_len, "model: unterminated string");
    if (close > model)
      raw->model_name = model, raw->model_name_len = (size_t)(close - model);
  }
  const char *values[3] = {json_value(line, "priority"), json_value(line, "tier"),
                           json_value(line, "deadline_s")};
  size_t value_lens[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    if (values[k] && k == 1 && *values[k] == '"') { /* a JSON string */
      const char *close = strchr(++values[k], '"');
      value_lens[k] = close ? (size_t)(close - values[k]) : strlen(values[k]);
    } else if (values[k]) {
      value_lens[k] = number_len(values[k]);
    }
  }
  return parse_attrs(r, values, value_lens, raw, err, err_len);
}

static int reader_next(void *impl, job_raw_request *raw, char *err, size_t err_len) {
  trace_reader *r = impl;
  size_t len = r->line_pending ? strlen(r->line) : 0;
  if (!r->line_pending) {
    int rc = read_line(r, &len, err, err_len);
    if (rc <= 0)
      return rc;
  }
  r->line_pending = false;
  int rc = r->layout->format == JOB_TRACE_MOONCAKE ? parse_mooncake_row(r, len, raw, err, err_len)
                                                   : parse_csv_row(r, len, raw, err, err_len);
  if (rc != 1)
    return rc;
  if (r->layout->wall_clock) {
    if (!r->have_start)
      r->start_ns = raw->time_ns, r->have_start = true;
    if (r->start_ns < 0 && raw->time_ns > INT64_MAX + r->start_ns)
      return row_bad(r, err, err_len, "more than 292 years after the first row's time");
    if (r->start_ns > 0 && raw->time_ns < INT64_MIN + r->start_ns) /* found by fuzz/ (UBSan) */
      return row_bad(r, err, err_len, "more than 292 years before the first row's time");
    raw->time_ns -= r->start_ns;
  }
  if (r->have_prev && raw->time_ns < r->prev_ns)
    return row_bad(r, err, err_len,
                   "time goes back %.9f s from the previous row (rows must be sorted by time)",
                   ((double)r->prev_ns - (double)raw->time_ns) * 1e-9);
  r->prev_ns = raw->time_ns, r->have_prev = true;
  return 1;
}

int64_t job_session_hashes(uint64_t session_key, int32_t input_tokens, uint64_t **out,
                           size_t *cap) {
  int64_t count = ((int64_t)input_tokens + JOB_MOONCAKE_BLOCK_TOKENS - 1) /
                  JOB_MOONCAKE_BLOCK_TOKENS;
  if ((size_t)count > *cap) {
    uint64_t *grown = realloc(*out, (size_t)count * sizeof *grown);
    if (!grown)
      return -1;
    *out = grown, *cap = (size_t)count;
  }
  for (int64_t b = 0; b < count; b++) { /* splitmix64 of (session, block) */
    uint64_t x = session_key + 0x9e3779b97f4a7c15ull * (uint64_t)(b + 1);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    (*out)[b] = x ^ (x >> 31);
  }
  return count;
}

static const job_source_backend trace_backend = {reader_next, reader_close};

static int open_trace(job_source **out, const char *path, job_trace_format format,
                      const job_source_opts *opts, bool lengths_ok, char *err, size_t err_len) {
  *out = NULL;
  trace_reader *r;
  int rc = reader_open(&r, path, format, lengths_ok, err, err_len);
  if (rc < 0)
    return rc;
  bool hashes = r->layout->format == JOB_TRACE_MOONCAKE || r->session_col >= 0;
  rc = job_source_wrap(out, &trace_backend, r, r->layout->format, opts, err, err_len);
  if (rc == 0 && hashes)
    job_source_set_prefix_hashes(*out);
  return rc;
}

int job_source_open_trace(job_source **out, const char *path, job_trace_format format,
                          const job_source_opts *opts, char *err, size_t err_len) {
  return open_trace(out, path, format, opts, false, err, err_len);
}

int job_source_open_lengths(job_source **out, const char *path, job_trace_format format,
                            const job_source_opts *opts, char *err, size_t err_len) {
  return open_trace(out, path, format, opts, true, err, err_len);
}
