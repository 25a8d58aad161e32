/* Unit tests of the request sources: every trace reader on inline fixtures and on the committed
 * Azure slices, replay options, malformed rows, and the synthetic generators' statistics and
 * determinism. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "jobs/trace.h"
#include "jobs/workload.h"

#define CONV_SLICE WT_SOURCE_DIR "/examples/traces/AzureLLMInferenceTrace_conv.csv"
#define CODE_SLICE WT_SOURCE_DIR "/examples/traces/AzureLLMInferenceTrace_code.csv"
enum { PATH_BYTES = 512, ERR_BYTES = 512 };

/* Writes text to a fresh file under the build tree; its name goes to path. */
static void fixture(char *path, const char *text) {
  snprintf(path, PATH_BYTES, "%s/fixture_XXXXXX", WT_TEST_TMP_DIR);
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  FILE *f = fdopen(fd, "w");
  CU_ASSERT_FATAL(f != NULL);
  fputs(text, f);
  fclose(f);
}

typedef struct summary {
  int64_t rows, first_ns, last_ns, input_tokens, output_tokens, hash_ids, bad_rows;
  int rc; /* of the last job_source_next */
  char err[ERR_BYTES];
} summary;

/* Drains a source, checking ids count up and arrivals never decrease. Closes it. */
static summary drain(job_source *src) {
  summary s = {0};
  job_request r;
  while ((s.rc = job_source_next(src, &r, s.err, sizeof s.err)) == 1) {
    CU_ASSERT_EQUAL(r.id, s.rows);
    if (s.rows == 0)
      s.first_ns = r.arrival_ns;
    CU_ASSERT(r.arrival_ns >= s.last_ns);
    CU_ASSERT(r.input_tokens >= 1 && r.output_tokens >= 1);
    s.last_ns = r.arrival_ns;
    s.input_tokens += r.input_tokens;
    s.output_tokens += r.output_tokens;
    s.hash_ids += r.prefix_hash_count;
    s.rows++;
  }
  s.bad_rows = job_source_bad_rows(src);
  job_source_close(src);
  return s;
}

static summary read_trace(const char *path, job_trace_format format, const job_source_opts *opts) {
  job_source *src;
  summary s = {0};
  s.rc = job_source_open_trace(&src, path, format, opts, s.err, sizeof s.err);
  if (s.rc != 0) {
    CU_ASSERT_PTR_NULL(src);
    return s;
  }
  return drain(src);
}

/* ---- Readers on the committed slices ----------------------------------------------------------
 */

static void azure_conv_slice_reads_every_row_with_exact_times_and_token_sums(void) {
  summary s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT_EQUAL(s.rows, 19366);
  CU_ASSERT_EQUAL(s.first_ns, 0);
  /* 19:14:08.4025270 - 18:15:46.6805900 */
  CU_ASSERT_EQUAL(s.last_ns, INT64_C(3501721937000));
  CU_ASSERT_EQUAL(s.input_tokens, 22361870);
  CU_ASSERT_EQUAL(s.output_tokens, 4088665);
  CU_ASSERT_EQUAL(s.bad_rows, 0);
}

static void azure_code_slice_reads_every_row_with_exact_times_and_token_sums(void) {
  summary s = read_trace(CODE_SLICE, JOB_TRACE_AZURE, NULL);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT_EQUAL(s.rows, 8819);
  CU_ASSERT_EQUAL(s.last_ns, INT64_C(3435948056000)); /* 19:14:19.9280160 - 18:17:03.9799600 */
  CU_ASSERT_EQUAL(s.input_tokens, 18059974);
  CU_ASSERT_EQUAL(s.output_tokens, 245896);
}

static void format_is_detected_from_the_header(void) {
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL(job_source_open_trace(&src, CONV_SLICE, JOB_TRACE_AUTO, NULL, err, sizeof err),
                  0);
  CU_ASSERT_EQUAL(job_source_format(src), JOB_TRACE_AZURE);
  job_source_close(src);
  struct {
    const char *text;
    job_trace_format format;
  } cases[] = {
      {"arrival_time_ns,input_toks,output_toks\n5,1,2\n", JOB_TRACE_LLMSERVINGSIM},
      {"arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,1,2\n", JOB_TRACE_VIDUR},
      {"request_id,request_type,application_id,arrival_timestamp,batch_size,prompt_size,token_"
       "size\n"
       "0,2,0,1,1,4096,32\n",
       JOB_TRACE_SPLITWISE},
      {"{\"timestamp\": 0, \"input_length\": 3, \"output_length\": 4, \"hash_ids\": [7]}\n",
       JOB_TRACE_MOONCAKE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[PATH_BYTES];
    fixture(path, cases[i].text);
    CU_ASSERT_EQUAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err), 0);
    if (src)
      CU_ASSERT_EQUAL(job_source_format(src), cases[i].format);
    job_source_close(src);
    unlink(path);
  }
  job_trace_format f;
  CU_ASSERT(job_trace_format_parse("mooncake", &f) == 0 && f == JOB_TRACE_MOONCAKE);
  CU_ASSERT_STRING_EQUAL(job_trace_format_name(JOB_TRACE_VIDUR), "vidur");
  CU_ASSERT_EQUAL(job_trace_format_parse("csv", &f), JOB_SOURCE_EINVAL);
}

static void unknown_header_and_format_mismatch_are_refused_with_the_reason(void) {
  char path[PATH_BYTES];
  fixture(path, "when,prompt,answer\n1,2,3\n");
  summary s = read_trace(path, JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.err, ":1: unknown trace header 'when,prompt,answer'"));
  s = read_trace(path, JOB_TRACE_AZURE, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "no column 'TIMESTAMP'"));
  s = read_trace(path, JOB_TRACE_MOONCAKE, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  unlink(path);
  s = read_trace(WT_TEST_TMP_DIR "/no/such/trace.csv", JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EIO);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "cannot open"));
  fixture(path, "");
  CU_ASSERT_EQUAL(read_trace(path, JOB_TRACE_AUTO, NULL).rc, JOB_SOURCE_EFORMAT);
  unlink(path);
}

/* ---- Readers on inline fixtures ------------------------------------------------------------- */

/* Reads the arrivals of a fixture into times (at most n); returns how many. */
static int64_t arrivals(const char *text, job_trace_format format, const job_source_opts *opts,
                        int64_t *times, int64_t n, summary *s) {
  char path[PATH_BYTES];
  fixture(path, text);
  job_source *src;
  int64_t count = 0;
  s->rc = job_source_open_trace(&src, path, format, opts, s->err, sizeof s->err);
  if (s->rc == 0) {
    job_request r;
    while ((s->rc = job_source_next(src, &r, s->err, sizeof s->err)) == 1)
      if (count < n)
        times[count++] = r.arrival_ns;
    s->bad_rows = job_source_bad_rows(src);
    job_source_close(src);
  }
  unlink(path);
  return count;
}

static void azure_2023_timestamps_convert_to_exact_ns_across_midnight_and_year(void) {
  int64_t t[4];
  summary s;
  int64_t n = arrivals(
      "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
      "2023-12-31 23:59:59.9999999,10,2\r\n"
      "2024-01-01 00:00:00.0000001,10,2\r\n"
      "2024-03-01 00:00:00.0000000,10,2\r\n"
      "2024-03-01 00:00:00.1234567,10,2", /* CRLF, no final newline */
      JOB_TRACE_AUTO, NULL, t, 4, &s);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT_EQUAL_FATAL(n, 4);
  CU_ASSERT_EQUAL(t[0], 0);
  CU_ASSERT_EQUAL(t[1], 200);
  /* 31 + 29 days (2024 is a leap year) after 2024-01-01 */
  CU_ASSERT_EQUAL(t[2], INT64_C(60) * 86400 * 1000000000 + 100);
  CU_ASSERT_EQUAL(t[3], t[2] + 123456700);
}

static void azure_2024_layout_with_utc_offsets_and_short_fractions_is_read(void) {
  /* The 2024 week files: same columns, up to 6 fraction digits (none when zero) and "+00:00". */
  int64_t t[4];
  summary s;
  int64_t n = arrivals(
      "\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\n"
      "2024-05-10 00:00:00.009930+00:00,2162,5\n"
      "2024-05-10 00:00:01+00:00,100,20\n"
      "2024-05-10 02:00:02.5+02:00,100,20\n"
      "2024-05-10T00:00:03Z,1,1\n",
      JOB_TRACE_AUTO, NULL, t, 4, &s);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT_EQUAL_FATAL(n, 4);
  CU_ASSERT_EQUAL(t[0], 0);
  CU_ASSERT_EQUAL(t[1], 990070000);
  CU_ASSERT_EQUAL(t[2], 2490070000);
  CU_ASSERT_EQUAL(t[3], 2990070000);
}

static void mooncake_lines_give_times_lengths_and_prefix_hashes(void) {
  char path[PATH_BYTES];
  fixture(path,
          "{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500, "
          "\"hash_ids\": [0, 1, 2, 18446744073709551615]}\n"
          "\n"
          "{\"hash_ids\":[],\"output_length\":3,\"session\":{\"a\":[1,\"x,}\"]},"
          "\"input_length\":2,\"timestamp\":3052}\n"
          "  {\"timestamp\": 3052.5, \"input_length\": 1, \"output_length\": 1}  \n");
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  job_request r;
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT(r.arrival_ns == 0 && r.input_tokens == 6758 && r.output_tokens == 500);
  CU_ASSERT_EQUAL_FATAL(r.prefix_hash_count, 4);
  CU_ASSERT(r.prefix_hashes[0] == 0 && r.prefix_hashes[2] == 2 && r.prefix_hashes[3] == UINT64_MAX);
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT(r.arrival_ns == INT64_C(3052000000) && r.input_tokens == 2 && r.output_tokens == 3);
  CU_ASSERT(r.prefix_hash_count == 0 && r.prefix_hashes == NULL);
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT_EQUAL(r.arrival_ns, INT64_C(3052500000));
  CU_ASSERT_EQUAL(job_source_next(src, &r, err, sizeof err), 0);
  job_source_close(src);
  unlink(path);
}

static void llmservingsim_ns_times_are_kept_as_recorded(void) {
  int64_t t[3];
  summary s;
  CU_ASSERT_EQUAL(arrivals("arrival_time_ns,input_toks,output_toks\n"
                           "46926808,85,416\n347938951,9,333\n347938951,1,1\n",
                           JOB_TRACE_LLMSERVINGSIM, NULL, t, 3, &s),
                  3);
  CU_ASSERT(s.rc == 0 && t[0] == 46926808 && t[1] == 347938951 && t[2] == 347938951);
}

static void vidur_and_splitwise_decimal_seconds_convert_exactly(void) {
  int64_t t[4];
  summary s;
  CU_ASSERT_EQUAL(arrivals("arrived_at,num_prefill_tokens,num_decode_tokens\n"
                           "0.0,374,44\n4.314579,396,109\n4.3145790004,1,1\n1.2e1,1,1\n",
                           JOB_TRACE_AUTO, NULL, t, 4, &s),
                  4);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT(t[0] == 0 && t[1] == 4314579000 && t[2] == 4314579000 && t[3] == 12000000000);
  CU_ASSERT_EQUAL(
      arrivals("request_id,request_type,application_id,arrival_timestamp,batch_size,"
               "prompt_size,token_size\n0,2,0,1,1,4096,32\n1,2,0,3.0000000005,1,2048,8\n",
               JOB_TRACE_SPLITWISE, NULL, t, 4, &s),
      2);
  CU_ASSERT(s.rc == 0 && t[0] == 1000000000 && t[1] == 3000000001);
}

static void lengths_only_files_are_no_trace_but_an_empirical_distribution(void) {
  char path[PATH_BYTES];
  fixture(path,
          "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n"
          "11,101,112,0.1\n22,202,224,0.1\n33,303,336,0.1\n");
  summary s = read_trace(path, JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "no arrival times"));
  job_rate_point rate = {0, 100};
  job_synth_spec spec = {.rate_curve = &rate, .rate_points = 1, .empirical_path = path, .seed = 7};
  job_source_opts opts = {.max_requests = 30000};
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &opts, s.err, sizeof s.err), 0);
  int64_t seen[3] = {0};
  job_request r;
  while (job_source_next(src, &r, s.err, sizeof s.err) == 1) {
    int k = r.input_tokens / 11 - 1;
    CU_ASSERT_FATAL(k >= 0 && k < 3 && r.input_tokens == 11 * (k + 1));
    CU_ASSERT_EQUAL(r.output_tokens, 101 * (k + 1)); /* pairs stay together */
    seen[k]++;
  }
  job_source_close(src);
  for (int k = 0; k < 3; k++) /* binomial(30000, 1/3): sd 82 */
    CU_ASSERT(fabs((double)seen[k] - 10000) < 500);
  unlink(path);
}

/* ---- Options ------------------------------------------------------------------------------- */

static void window_scale_offset_and_cap_shape_the_replay(void) {
  job_source_opts w = {.from_ns = INT64_C(600000000000), .to_ns = INT64_C(1200000000000)};
  summary s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &w);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT_EQUAL(s.rows, 3118); /* arrivals in [600 s, 1200 s) of the hour, counted with Python */
  CU_ASSERT_EQUAL(s.first_ns, 197636000); /* rebased to the window start */
  CU_ASSERT_EQUAL(s.last_ns, 599748791000);
  CU_ASSERT_EQUAL(s.input_tokens, 3595428);
  w.rate_scale = 10;
  w.offset_ns = 5000000000;
  s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &w);
  CU_ASSERT_EQUAL(s.rows, 3118);
  CU_ASSERT_EQUAL(s.first_ns, 19763600 + 5000000000);
  CU_ASSERT_EQUAL(s.last_ns, 59974879100 + 5000000000);
  job_source_opts scaled = {.rate_scale = 0.5, .max_requests = 100};
  s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &scaled);
  CU_ASSERT_EQUAL(s.rows, 100);
  job_source_opts all = {.max_requests = 100};
  summary plain = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &all);
  CU_ASSERT_EQUAL(s.last_ns, 2 * plain.last_ns); /* half the rate: gaps twice as long */
  CU_ASSERT_EQUAL(s.input_tokens, plain.input_tokens);
}

static void invalid_options_are_refused(void) {
  job_source_opts bad[] = {
      {.offset_ns = -1}, {.rate_scale = -2},   {.rate_scale = NAN}, {.from_ns = 10, .to_ns = 10},
      {.from_ns = -1},   {.max_requests = -5},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    summary s = read_trace(CONV_SLICE, JOB_TRACE_AUTO, &bad[i]);
    CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.err, "workload options"));
  }
}

/* ---- Malformed rows ------------------------------------------------------------------------ */

/* Lines 3, 5, 7, 8, 10 and 11 are bad; blank line 9 is not a row. */
static const char *const bad_azure =
    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:15:46.6805900,374,44\n"
    "2023-11-16 18:15:47.0,abc,44\n"
    "2023-11-16 18:15:48.0,10,5\n"
    "2023-11-16 18:15:49.0,10\n"
    "2023-11-16 18:15:50.0,10,5\n"
    "2023-11-16 18:15:49.5,10,5\n"
    "2023-11-16 18:15:51.0,0,5\n"
    "\n"
    "2023-13-16 18:15:52.0,10,5\n"
    "2023-11-16 18:15:53.0,10,-3\n"
    "2023-11-16 18:15:54.0,10,5\n";

static void malformed_row_stops_the_read_naming_file_and_line(void) {
  char path[PATH_BYTES];
  fixture(path, bad_azure);
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  job_request r;
  CU_ASSERT_EQUAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT_EQUAL(job_source_next(src, &r, err, sizeof err), JOB_SOURCE_EFORMAT);
  char expected[PATH_BYTES + 64];
  snprintf(expected, sizeof expected, "%s:3: ContextTokens 'abc': not an integer", path);
  CU_ASSERT_STRING_EQUAL(err, expected);
  err[0] = '\0'; /* the error sticks */
  CU_ASSERT_EQUAL(job_source_next(src, &r, err, sizeof err), JOB_SOURCE_EFORMAT);
  CU_ASSERT_STRING_EQUAL(err, expected);
  job_source_close(src);
  unlink(path);
}

static void skipped_bad_rows_are_counted_and_the_first_is_kept(void) {
  char path[PATH_BYTES];
  fixture(path, bad_azure);
  job_source_opts skip = {.skip_bad_rows = true};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, &skip, err, sizeof err),
                        0);
  job_request r;
  int64_t rows = 0, last_input = 0;
  while (job_source_next(src, &r, err, sizeof err) == 1)
    rows++, last_input = r.input_tokens;
  CU_ASSERT_EQUAL(rows, 4);
  CU_ASSERT_EQUAL(last_input, 10);
  CU_ASSERT_EQUAL(job_source_bad_rows(src), 6);
  CU_ASSERT_PTR_NOT_NULL(strstr(job_source_first_bad_row(src), ":3: ContextTokens"));
  job_source_close(src);
  unlink(path);
}

/* A reader used to take a line of any length: /dev/zero as a trace grew to gigabytes. */
static void a_line_past_the_limit_or_a_nul_byte_is_refused_at_its_line(void) {
  summary s = read_trace("/dev/zero", JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  CU_ASSERT_STRING_EQUAL(s.err, "/dev/zero:1: a line longer than 1048576 bytes: not a trace");
  char path[PATH_BYTES], *text = malloc((2 << 20) + 64);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  int n = sprintf(text, "arrival_time_ns,input_toks,output_toks\n1,1,1\n");
  memset(text + n, '1', 2 << 20);
  strcpy(text + n + (2 << 20), ",1,1\n");
  fixture(path, text);
  free(text);
  s = read_trace(path, JOB_TRACE_AUTO, &(job_source_opts){.skip_bad_rows = true});
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  CU_ASSERT_EQUAL(s.rows, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.err, ":3: a line longer than 1048576 bytes"));
  unlink(path);
  FILE *f = fopen(path, "w");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs("arrival_time_ns,input_toks,output_toks\n1,1,1\n", f);
  fwrite("2,1\0,1\n", 1, 8, f);
  fclose(f);
  s = read_trace(path, JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(s.err, ":3: a NUL byte: a binary file, not a trace"));
  unlink(path);
}

/* rate_scale=1e-300 used to turn every arrival but the first into INT64_MAX, never reached and
 * never counted. Now each arrival at or past 2^62 ns is dropped and counted, up to the cap. */
static void arrivals_past_the_representable_end_are_dropped_and_counted(void) {
  char path[PATH_BYTES];
  fixture(path, "arrival_time_ns,input_toks,output_toks\n0,1,1\n5,1,1\n9,1,1\n12,1,1\n");
  const struct {
    job_source_opts opts;
    int64_t rows, dropped;
  } cases[] = {
      {{.rate_scale = 1e-300}, 1, 3},
      {{.rate_scale = 1e-300, .max_requests = 2}, 1, 1},
      {{.offset_ns = JOB_ARRIVAL_END_NS - 9}, 2, 2},
      {{.offset_ns = JOB_ARRIVAL_END_NS - 13}, 4, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    job_source *src;
    char err[ERR_BYTES];
    CU_ASSERT_EQUAL_FATAL(
        job_source_open_trace(&src, path, JOB_TRACE_AUTO, &cases[i].opts, err, sizeof err), 0);
    job_request r;
    int64_t rows = 0;
    int rc;
    while ((rc = job_source_next(src, &r, err, sizeof err)) == 1) {
      CU_ASSERT(r.arrival_ns < JOB_ARRIVAL_END_NS);
      rows++;
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(rows, cases[i].rows);
    CU_ASSERT_EQUAL(job_source_dropped_arrivals(src), cases[i].dropped);
    job_source_close(src);
  }
  unlink(path);
}

static void each_kind_of_malformed_row_is_reported_at_its_line(void) {
  struct {
    const char *text;
    const char *needle;
  } cases[] = {
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:49.0,10\n",
       ":2: expected 3 fields, found 2"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:49.0,1,1\n\n"
       "2023-11-16 18:15:48.0,1,1\n",
       ":4: time goes back 1.000000000 s"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 25:15:49.0,1,1\n", ":2: TIMESTAMP"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n9999-12-31 23:59:59.0,1,1\n",
       ":2: TIMESTAMP '9999-12-31 23:59:59.0': year outside 1678-2261"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:49.0,1,1\n"
       "2262-04-12 00:00:00.0,1,1\n",
       ":3: TIMESTAMP '2262-04-12 00:00:00.0': year outside 1678-2261"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n1677-01-01 00:00:00.0,1,1\n",
       ":2: TIMESTAMP '1677-01-01 00:00:00.0': year outside 1678-2261"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n0000-01-01 00:00:00+00:00,1,1\n",
       ":2: TIMESTAMP '0000-01-01 00:00:00+00:00': year outside"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n1678-01-01 00:00:00.0,1,1\n"
       "2261-12-31 23:59:59.0,1,1\n",
       ":3: more than 292 years after the first row's time"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:49.0,1,0\n",
       ":2: GeneratedTokens '0': must be at least 1"},
      {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:49.0,99999999999,1\n",
       "too large"},
      {"arrival_time_ns,input_toks,output_toks\n-5,1,1\n", ":2: arrival_time_ns '-5': negative"},
      {"arrival_time_ns,input_toks,output_toks\n0,1,1\n4000000000000000000,1,1\n",
       ":3: arrival_time_ns '4000000000000000000': too large: times must be under 29 years"},
      {"arrived_at,num_prefill_tokens,num_decode_tokens\n1.5s,1,1\n", "not a number"},
      {"{\"timestamp\": 0, \"input_length\": 1}\n", ":1: missing key 'output_length'"},
      {"{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 2\n", ":1: not a JSON object"},
      {"{\"timestamp\": 0}\n{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, "
       "\"hash_ids\": [1, x]}\n",
       ":1: missing key"},
      {"{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1 2]}\n",
       ":1: hash_ids: expected ',' or ']'"},
      {"{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1} x\n",
       ":1: not a JSON object"},
      {"{\"timestamp\": 1, \"input_length\": 1, \"output_length\": 1, \"hash_ids\": [1, -2]}\n",
       ":1: hash_ids: '-2' is not a 64-bit block hash"},
      {"{\"timestamp\": 1, \"input_length\": 1.5, \"output_length\": 1}\n",
       ":1: input_length '1.5': not an integer"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[PATH_BYTES];
    fixture(path, cases[i].text);
    summary s = read_trace(path, JOB_TRACE_AUTO, NULL);
    CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
    if (!strstr(s.err, cases[i].needle) || !strstr(s.err, path))
      fprintf(stderr, "\ncase %zu: '%s' lacks '%s'\n", i, s.err, cases[i].needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.err, cases[i].needle));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.err, path));
    unlink(path);
  }
}

/* ---- Synthetic sources --------------------------------------------------------------------- */

typedef struct gap_stats {
  int64_t count;
  double mean_s, cv;
} gap_stats;

static gap_stats gaps_of(const job_synth_spec *spec, int64_t requests) {
  job_source_opts opts = {.max_requests = requests};
  job_source *src;
  char err[ERR_BYTES];
  gap_stats g = {0};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, spec, &opts, err, sizeof err), 0);
  job_request r;
  int64_t prev = 0;
  double sum = 0, sum2 = 0;
  while (job_source_next(src, &r, err, sizeof err) == 1) {
    double gap = (double)(r.arrival_ns - prev) * 1e-9;
    prev = r.arrival_ns;
    sum += gap, sum2 += gap * gap;
    g.count++;
  }
  job_source_close(src);
  g.mean_s = sum / (double)g.count;
  g.cv = sqrt(sum2 / (double)g.count - g.mean_s * g.mean_s) / g.mean_s;
  return g;
}

static void poisson_arrivals_have_the_mean_rate_and_unit_cv(void) {
  job_rate_point rate = {0, 100};
  job_synth_spec spec = {.arrival = JOB_ARRIVAL_POISSON,
                         .rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 8},
                         .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 2},
                         .seed = 1,
                         .stream_id = JOB_SYNTH_STREAM_DEFAULT};
  gap_stats g = gaps_of(&spec, 200000);
  CU_ASSERT_EQUAL(g.count, 200000);
  /* 5 standard errors: the mean gap's is 0.22%, the CV's about 0.32% */
  CU_ASSERT(fabs(g.mean_s / 0.01 - 1) < 0.011);
  CU_ASSERT(fabs(g.cv - 1) < 0.016);
}

static void gamma_arrivals_have_the_mean_rate_and_the_asked_cv(void) {
  const double cvs[] = {0.5, 2.0, 4.0};
  for (int i = 0; i < 3; i++) {
    job_rate_point rate = {0, 50};
    job_synth_spec spec = {.arrival = JOB_ARRIVAL_GAMMA,
                           .cv = cvs[i],
                           .rate_curve = &rate,
                           .rate_points = 1,
                           .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 8},
                           .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 2},
                           .seed = 3};
    gap_stats g = gaps_of(&spec, 400000);
    /* standard error of the mean gap cv/sqrt(n); of the CV estimate, up to 1.2% at cv 4 */
    CU_ASSERT(fabs(g.mean_s / 0.02 - 1) < 5 * cvs[i] / sqrt(400000.0));
    if (fabs(g.cv - cvs[i]) > 0.06 * cvs[i])
      fprintf(stderr, "\ncv %.2f measured %.4f\n", cvs[i], g.cv);
    CU_ASSERT(fabs(g.cv - cvs[i]) < 0.06 * cvs[i]);
  }
}

static void rate_curve_shapes_arrivals_and_a_final_zero_ends_the_source(void) {
  /* Rate rises linearly 0 -> 200/s over 100 s, then falls to 0 at 150 s: 10000 + 5000 expected. */
  const job_rate_point curve[] = {{0, 0}, {INT64_C(100000000000), 200}, {INT64_C(150000000000), 0}};
  job_synth_spec spec = {.rate_curve = curve,
                         .rate_points = 3,
                         .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .seed = 11};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, NULL, err, sizeof err), 0);
  int64_t bins[3] = {0}; /* [0, 50 s): 2500 expected, [50, 100 s): 7500, [100, 150 s): 5000 */
  job_request r;
  int rc;
  while ((rc = job_source_next(src, &r, err, sizeof err)) == 1) {
    CU_ASSERT_FATAL(r.arrival_ns < INT64_C(150000000000));
    bins[r.arrival_ns / INT64_C(50000000000)]++;
  }
  CU_ASSERT_EQUAL(rc, 0);
  job_source_close(src);
  const double expected[3] = {2500, 7500, 5000};
  for (int i = 0; i < 3; i++) /* Poisson counts: 5 standard deviations */
    CU_ASSERT(fabs((double)bins[i] - expected[i]) < 5 * sqrt(expected[i]));
}

static void same_seed_gives_the_same_requests_and_another_seed_does_not(void) {
  job_rate_point rate = {0, 20};
  job_synth_spec spec = {.arrival = JOB_ARRIVAL_GAMMA,
                         .cv = 3,
                         .rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_LOGNORMAL, .median_tokens = 900, .sigma = 1},
                         .output = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 1, .max_tokens = 500},
                         .seed = 42,
                         .stream_id = 5};
  job_source_opts opts = {.max_requests = 5000};
  job_source *a, *b, *c, *d;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&a, &spec, &opts, err, sizeof err), 0);
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&b, &spec, &opts, err, sizeof err), 0);
  spec.seed = 43;
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&c, &spec, &opts, err, sizeof err), 0);
  spec.seed = 42; /* other input lengths: the same arrivals and output lengths */
  spec.input = (job_length_dist){.kind = JOB_LENGTH_FIXED, .fixed_tokens = 3};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&d, &spec, &opts, err, sizeof err), 0);
  job_request ra, rb, rc, rd;
  int64_t same = 0, differ = 0, same_arrival = 0;
  for (int i = 0; i < 5000; i++) {
    CU_ASSERT_FATAL(job_source_next(a, &ra, err, sizeof err) == 1);
    CU_ASSERT_FATAL(job_source_next(b, &rb, err, sizeof err) == 1);
    CU_ASSERT_FATAL(job_source_next(c, &rc, err, sizeof err) == 1);
    CU_ASSERT_FATAL(job_source_next(d, &rd, err, sizeof err) == 1);
    same += ra.arrival_ns == rb.arrival_ns && ra.input_tokens == rb.input_tokens &&
            ra.output_tokens == rb.output_tokens;
    differ += ra.arrival_ns != rc.arrival_ns;
    same_arrival += ra.arrival_ns == rd.arrival_ns && ra.output_tokens == rd.output_tokens;
  }
  CU_ASSERT_EQUAL(same, 5000);
  CU_ASSERT(differ > 4990);
  CU_ASSERT_EQUAL(same_arrival, 5000);
  job_source_close(a), job_source_close(b), job_source_close(c), job_source_close(d);
}

static void length_distributions_respect_their_parameters(void) {
  job_rate_point rate = {0, 1000};
  job_synth_spec spec = {.rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 5, .max_tokens = 9},
                         .output = {.kind = JOB_LENGTH_LOGNORMAL,
                                    .median_tokens = 200,
                                    .sigma = 0.5,
                                    .max_tokens = 400},
                         .seed = 9};
  job_source_opts opts = {.max_requests = 100000};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &opts, err, sizeof err), 0);
  int64_t uniform[5] = {0}, below_median = 0, clamped = 0, n = 0;
  job_request r;
  while (job_source_next(src, &r, err, sizeof err) == 1) {
    CU_ASSERT_FATAL(r.input_tokens >= 5 && r.input_tokens <= 9);
    uniform[r.input_tokens - 5]++;
    CU_ASSERT(r.output_tokens >= 1 && r.output_tokens <= 400);
    below_median += r.output_tokens < 200;
    clamped += r.output_tokens == 400;
    n++;
  }
  job_source_close(src);
  for (int i = 0; i < 5; i++) /* binomial(1e5, 0.2): sd 126 */
    CU_ASSERT(fabs((double)uniform[i] - 20000) < 650);
  /* P(x < 199.5) = Phi(ln(199.5/200)/0.5) = 0.498; P(x >= 399.5) = 1 - Phi(ln(1.9975)/0.5) = 0.0836
   */
  CU_ASSERT(fabs((double)below_median / (double)n - 0.498) < 0.008);
  CU_ASSERT(fabs((double)clamped / (double)n - 0.0836) < 0.005);
}

static int compare_pairs(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static void empirical_lengths_come_only_from_pairs_of_the_trace(void) {
  summary all = read_trace(CONV_SLICE, JOB_TRACE_AUTO, NULL);
  int64_t *pairs = malloc((size_t)all.rows * sizeof *pairs);
  CU_ASSERT_FATAL(pairs != NULL);
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(
      job_source_open_trace(&src, CONV_SLICE, JOB_TRACE_AUTO, NULL, err, sizeof err), 0);
  job_request r;
  for (int64_t i = 0; job_source_next(src, &r, err, sizeof err) == 1; i++)
    pairs[i] = (int64_t)r.input_tokens << 32 | r.output_tokens;
  job_source_close(src);
  qsort(pairs, (size_t)all.rows, sizeof *pairs, compare_pairs);
  job_rate_point rate = {0, 10};
  job_synth_spec spec = {
      .rate_curve = &rate, .rate_points = 1, .empirical_path = CONV_SLICE, .seed = 5};
  job_source_opts opts = {.max_requests = 50000};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &opts, err, sizeof err), 0);
  int64_t found = 0, n = 0, input_sum = 0;
  while (job_source_next(src, &r, err, sizeof err) == 1) {
    int64_t key = (int64_t)r.input_tokens << 32 | r.output_tokens;
    found += bsearch(&key, pairs, (size_t)all.rows, sizeof key, compare_pairs) != NULL;
    input_sum += r.input_tokens;
    n++;
  }
  job_source_close(src);
  CU_ASSERT_EQUAL(n, 50000);
  CU_ASSERT_EQUAL(found, n);
  /* the mean input matches the trace's 1154.7 (sd 1109 / sqrt(5e4) = 5; 5 sd) */
  CU_ASSERT(fabs((double)input_sum / (double)n - 22361870.0 / 19366) < 25);
  /* a pair built from two rows' halves is not in the trace: the check above can fail */
  int64_t mixed = (int64_t)14050 << 32 | 7;
  CU_ASSERT_PTR_NULL(bsearch(&mixed, pairs, (size_t)all.rows, sizeof mixed, compare_pairs));
  free(pairs);
}

static void invalid_or_endless_synthetic_specs_are_refused(void) {
  job_rate_point rate = {0, 10}, zero = {0, 0}, late = {5, 10};
  const job_length_dist one = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1};
  job_source_opts capped = {.max_requests = 10};
  struct {
    job_synth_spec spec;
    const job_source_opts *opts;
    const char *needle;
  } cases[] = {
      {{.rate_curve = &rate, .rate_points = 1, .input = one, .output = one}, NULL, "never ends"},
      {{.rate_curve = &zero, .rate_points = 1, .input = one, .output = one}, &capped, "rate is 0"},
      {{.rate_curve = &late, .rate_points = 1, .input = one, .output = one}, &capped, "time 0"},
      {{.rate_points = 0, .input = one, .output = one}, &capped, "needs a rate"},
      {{.arrival = JOB_ARRIVAL_GAMMA,
        .rate_curve = &rate,
        .rate_points = 1,
        .input = one,
        .output = one},
       &capped,
       "coefficient of variation"},
      {{.rate_curve = &rate,
        .rate_points = 1,
        .input = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 9, .max_tokens = 3},
        .output = one},
       &capped,
       "uniform"},
      {{.rate_curve = &rate,
        .rate_points = 1,
        .input = one,
        .output = {.kind = JOB_LENGTH_LOGNORMAL, .median_tokens = -1}},
       &capped,
       "lognormal"},
      {{.rate_curve = &rate, .rate_points = 1, .empirical_path = WT_TEST_TMP_DIR "/absent.csv"},
       &capped,
       "cannot open"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    job_source *src;
    char err[ERR_BYTES] = "";
    CU_ASSERT(job_source_open_synthetic(&src, &cases[i].spec, cases[i].opts, err, sizeof err) < 0);
    CU_ASSERT_PTR_NULL(src);
    if (!strstr(err, cases[i].needle))
      fprintf(stderr, "\ncase %zu: '%s' lacks '%s'\n", i, err, cases[i].needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].needle));
  }
}

static void synthetic_window_and_cap_apply_like_a_trace(void) {
  job_rate_point rate = {0, 1000};
  job_synth_spec spec = {.rate_curve = &rate,
                         .rate_points = 1,
                         .input = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .output = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 1},
                         .seed = 2};
  job_source_opts window = {.from_ns = 1000000000, .to_ns = 11000000000};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &window, err, sizeof err), 0);
  summary s = drain(src);
  CU_ASSERT_EQUAL(s.rc, 0);
  CU_ASSERT(fabs((double)s.rows - 10000) < 500); /* Poisson(10000): sd 100 */
  CU_ASSERT(s.first_ns >= 0 && s.last_ns < 10000000000);
  job_source_opts cap = {.max_requests = 1234};
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &cap, err, sizeof err), 0);
  CU_ASSERT_EQUAL(drain(src).rows, 1234);
}

/* ---- Request attributes and offline replay --------------------------------------------------- */

/* Optional columns priority, tier and deadline_s (CSV) or keys (Mooncake) set each request's
 * attributes; an empty field or a missing key keeps the source's defaults. */
static void attribute_columns_and_keys_override_the_defaults(void) {
  char path[PATH_BYTES], err[ERR_BYTES];
  fixture(path,
          "arrival_time_ns,input_toks,output_toks,tier,priority,deadline_s\n"
          "0,10,5,batch,-3,1.5\n1,10,5,,,\n2,10,5,Interactive,7,\n");
  job_source_opts opts = {.defaults = {.priority = 2, .tier = JOB_TIER_BATCH}};
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, &opts, err, sizeof err),
                        0);
  job_request r[3];
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r[i], err, sizeof err), 1);
  job_source_close(src);
  unlink(path);
  CU_ASSERT(r[0].attrs.tier == JOB_TIER_BATCH && r[0].attrs.priority == -3 &&
            r[0].attrs.deadline_ns == 1500000000);
  CU_ASSERT(r[1].attrs.tier == JOB_TIER_BATCH && r[1].attrs.priority == 2 &&
            r[1].attrs.deadline_ns == 0);
  CU_ASSERT(r[2].attrs.tier == JOB_TIER_INTERACTIVE && r[2].attrs.priority == 7);
  fixture(path,
          "{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2, \"tier\": "
          "\"batch\", \"priority\": 1, \"deadline_s\": 60}\n"
          "{\"timestamp\": 5, \"input_length\": 4, \"output_length\": 2}\n");
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  for (int i = 0; i < 2; i++)
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r[i], err, sizeof err), 1);
  job_source_close(src);
  unlink(path);
  CU_ASSERT(r[0].attrs.tier == JOB_TIER_BATCH && r[0].attrs.priority == 1 &&
            r[0].attrs.deadline_ns == 60000000000);
  CU_ASSERT(r[1].attrs.tier == JOB_TIER_INTERACTIVE && r[1].attrs.priority == 0 &&
            r[1].attrs.deadline_ns == 0);
}

static void malformed_attributes_are_refused_at_their_line(void) {
  static const struct {
    const char *text, *needle;
  } cases[] = {
      {"arrival_time_ns,input_toks,output_toks,tier\n0,1,1,urgent\n",
       ":2: tier 'urgent': expected interactive or batch"},
      {"arrival_time_ns,input_toks,output_toks,priority\n0,1,1,high\n",
       ":2: priority 'high': not an integer"},
      {"arrival_time_ns,input_toks,output_toks,priority\n0,1,1,3000000000\n",
       ":2: priority '3000000000': out of the 32-bit range"},
      {"arrival_time_ns,input_toks,output_toks,tier,deadline_s\n0,1,1,batch,0\n",
       ":2: deadline_s '0': must be above 0"},
      {"arrival_time_ns,input_toks,output_toks,deadline_s\n0,1,1,5\n",
       ":2: a deadline applies to batch requests only"},
      {"{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1, \"tier\": \"x\"}\n",
       ":1: tier 'x'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[PATH_BYTES];
    fixture(path, cases[i].text);
    summary s = read_trace(path, JOB_TRACE_AUTO, NULL);
    CU_ASSERT_EQUAL(s.rc, JOB_SOURCE_EFORMAT);
    if (!strstr(s.err, cases[i].needle))
      fprintf(stderr, "\ncase %zu: '%s' lacks '%s'\n", i, s.err, cases[i].needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.err, cases[i].needle));
    unlink(path);
  }
  job_source *src;
  char err[ERR_BYTES];
  job_source_opts bad = {.defaults = {.deadline_ns = 5}}; /* a deadline on interactive requests */
  CU_ASSERT_EQUAL(job_source_open_trace(&src, CODE_SLICE, JOB_TRACE_AUTO, &bad, err, sizeof err),
                  JOB_SOURCE_EINVAL);
}

/* Offline: every request at offset_ns, the window and cap still choosing which. */
static void offline_replay_sends_the_windowed_requests_at_the_offset(void) {
  job_source_opts window = {.from_ns = INT64_C(200000000000), .to_ns = INT64_C(400000000000)};
  summary timed = read_trace(CODE_SLICE, JOB_TRACE_AUTO, &window);
  window.offline = true;
  window.offset_ns = 7;
  summary offline = read_trace(CODE_SLICE, JOB_TRACE_AUTO, &window);
  CU_ASSERT_EQUAL(offline.rc, 0);
  CU_ASSERT(timed.rows > 10 && timed.last_ns > timed.first_ns);
  CU_ASSERT_EQUAL(offline.rows, timed.rows);
  CU_ASSERT_EQUAL(offline.input_tokens, timed.input_tokens);
  CU_ASSERT(offline.first_ns == 7 && offline.last_ns == 7);
}

/* A model column (or key) names each request's model: numbered from 1 in order of first
 * appearance; an empty field takes the default model (opts.model_name, number 1), else 0. */
static void model_names_are_numbered_in_order_of_appearance(void) {
  char path[PATH_BYTES], err[ERR_BYTES];
  fixture(path,
          "arrival_time_ns,input_toks,output_toks,model\n0,1,1,b\n1,1,1,\n2,1,1,a\n"
          "3,1,1,b\n");
  job_source_opts opts = {.model_name = "dflt"};
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, &opts, err, sizeof err),
                        0);
  uint32_t want[] = {2, 1, 3, 2};
  job_request r;
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
    CU_ASSERT_EQUAL(r.attrs.model, want[i]);
  }
  CU_ASSERT_EQUAL(job_source_models(src), 3);
  CU_ASSERT_STRING_EQUAL(job_source_model_name(src, 1), "dflt");
  CU_ASSERT_STRING_EQUAL(job_source_model_name(src, 2), "b");
  CU_ASSERT_STRING_EQUAL(job_source_model_name(src, 3), "a");
  job_source_close(src);
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT_EQUAL(r.attrs.model, 1); /* "b" */
  CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
  CU_ASSERT_EQUAL(r.attrs.model, 0); /* none named, no default */
  job_source_close(src);
  unlink(path);
  fixture(path,
          "{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2, \"model\": "
          "\"m1\"}\n{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2, "
          "\"model\": 7}\n");
  summary bad = read_trace(path, JOB_TRACE_AUTO, NULL);
  CU_ASSERT_EQUAL(bad.rows, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(bad.err, ":2: model: expected a string"));
  unlink(path);
}

/* ---- Multi-turn sessions ----------------------------------------------------------------------
 */

enum { MAX_TURN_HASHES = 64 };
typedef struct turn {
  int64_t arrival_ns;
  int32_t input_tokens, output_tokens;
  uint32_t hash_count;
  uint64_t hashes[MAX_TURN_HASHES];
} turn;

/* Turn b follows turn a in one conversation: b's prompt holds a's prompt and output, and b's
 * prefix hashes start with a's full blocks' hashes. */
static bool continues(const turn *a, const turn *b) {
  uint32_t full = (uint32_t)(a->input_tokens / JOB_MOONCAKE_BLOCK_TOKENS);
  return b->input_tokens > a->input_tokens + a->output_tokens && b->hash_count >= full &&
         memcmp(a->hashes, b->hashes, full * sizeof *a->hashes) == 0;
}

/* Synthetic sessions: 3 turns each, 2 s apart, prompts growing by the conversation so far; turns of
 * one session share their prefix hashes (block 0 names the session), other sessions none. */
static void synthetic_sessions_grow_their_prompts_and_share_prefix_hashes(void) {
  enum { TURNS = 300 };
  job_rate_point rate = {0, 5};
  job_synth_spec spec = {
      .rate_curve = &rate,
      .rate_points = 1,
      .input = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 100, .max_tokens = 900},
      .output = {.kind = JOB_LENGTH_UNIFORM, .min_tokens = 10, .max_tokens = 600},
      .seed = 3,
      .sessions = true,
      .turns = {.kind = JOB_LENGTH_FIXED, .fixed_tokens = 3},
      .turn_gap_ns = 2000000000};
  job_source_opts cap = {.max_requests = TURNS};
  job_source *src;
  char err[ERR_BYTES];
  CU_ASSERT_EQUAL_FATAL(job_source_open_synthetic(&src, &spec, &cap, err, sizeof err), 0);
  CU_ASSERT(job_source_has_prefix_hashes(src));
  static turn t[TURNS];
  job_request r;
  int n = 0;
  while (n < TURNS && job_source_next(src, &r, err, sizeof err) == 1) {
    CU_ASSERT_FATAL(r.prefix_hash_count <= MAX_TURN_HASHES);
    CU_ASSERT_EQUAL(r.prefix_hash_count,
                    (r.input_tokens + JOB_MOONCAKE_BLOCK_TOKENS - 1) / JOB_MOONCAKE_BLOCK_TOKENS);
    t[n] = (turn){r.arrival_ns, r.input_tokens, r.output_tokens, r.prefix_hash_count, {0}};
    memcpy(t[n].hashes, r.prefix_hashes, r.prefix_hash_count * sizeof *r.prefix_hashes);
    CU_ASSERT(n == 0 || t[n].arrival_ns >= t[n - 1].arrival_ns);
    n++;
  }
  job_source_close(src);
  CU_ASSERT_EQUAL_FATAL(n, TURNS);
  /* Group by block 0's hash: each session is up to 3 turns 2 s apart, each continuing the last; a
   * session with fewer was cut by the cap: its next turn would come after the last one read. */
  int sessions = 0, complete = 0, broken = 0, cut_early = 0;
  static bool seen[TURNS];
  for (int i = 0; i < n; i++) {
    if (seen[i])
      continue;
    sessions++;
    int members[TURNS] = {i}, m = 0;
    for (int j = i; j < n; j++)
      if (!seen[j] && t[j].hashes[0] == t[i].hashes[0])
        seen[j] = true, members[m++] = j;
    CU_ASSERT(m <= 3);
    complete += m == 3;
    cut_early += m < 3 && t[members[m - 1]].arrival_ns + 2000000000 < t[n - 1].arrival_ns;
    for (int k = 1; k < m; k++)
      broken += !continues(&t[members[k - 1]], &t[members[k]]) ||
                t[members[k]].arrival_ns - t[members[k - 1]].arrival_ns != 2000000000;
    CU_ASSERT(t[members[0]].input_tokens >= 100 && t[members[0]].input_tokens <= 900);
  }
  CU_ASSERT_EQUAL(broken, 0);
  CU_ASSERT_EQUAL(cut_early, 0);
  CU_ASSERT(complete >= 80 && sessions >= 100); /* 5 sessions/s for about 22 s */
}

/* A trace's session column: rows of one session share prefix hashes, of others not. */
static void trace_session_column_gives_shared_prefix_hashes(void) {
  char path[PATH_BYTES], err[ERR_BYTES];
  fixture(path,
          "arrival_time_ns,input_toks,output_toks,session\n0,1100,300,chat-a\n"
          "1,1200,10,chat-b\n5,1500,20,chat-a\n6,700,5,\n");
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&src, path, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  CU_ASSERT(job_source_has_prefix_hashes(src));
  turn t[4];
  job_request r;
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
    t[i] = (turn){r.arrival_ns, r.input_tokens, r.output_tokens, r.prefix_hash_count, {0}};
    if (r.prefix_hash_count) /* else prefix_hashes is NULL */
      memcpy(t[i].hashes, r.prefix_hashes, r.prefix_hash_count * sizeof *r.prefix_hashes);
  }
  job_source_close(src);
  unlink(path);
  CU_ASSERT(t[0].hash_count == 3 && t[1].hash_count == 3 && t[2].hash_count == 3);
  CU_ASSERT(continues(&t[0], &t[2]));
  CU_ASSERT(t[0].hashes[0] != t[1].hashes[0] && t[0].hashes[1] != t[1].hashes[1]);
  CU_ASSERT_EQUAL(t[3].hash_count, 0); /* no session: no hashes */
}

/* Merged sources: arrival order, ties to the earlier source, model names renumbered by the merged
 * stream and the merged stream's default model for requests that name none. */
static void merged_sources_interleave_by_arrival_and_renumber_models(void) {
  char a[PATH_BYTES], b[PATH_BYTES], err[ERR_BYTES];
  fixture(a, "arrival_time_ns,input_toks,output_toks,model\n0,1,1,x\n10,2,1,\n20,3,1,x\n");
  fixture(b, "arrival_time_ns,input_toks,output_toks,model\n0,4,1,y\n15,5,1,x\n");
  job_source *subs[2];
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&subs[0], a, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  CU_ASSERT_EQUAL_FATAL(job_source_open_trace(&subs[1], b, JOB_TRACE_AUTO, NULL, err, sizeof err),
                        0);
  job_source_opts opts = {.model_name = "d"};
  job_source *src;
  CU_ASSERT_EQUAL_FATAL(job_source_open_merged(&src, subs, 2, &opts, err, sizeof err), 0);
  int32_t want_input[] = {1, 4, 2, 5, 3};
  const char *want_model[] = {"x", "y", "d", "x", "x"};
  job_request r;
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL_FATAL(job_source_next(src, &r, err, sizeof err), 1);
    CU_ASSERT_EQUAL(r.id, i);
    CU_ASSERT_EQUAL(r.input_tokens, want_input[i]);
    CU_ASSERT_STRING_EQUAL(job_source_model_name(src, r.attrs.model), want_model[i]);
  }
  CU_ASSERT_EQUAL(job_source_next(src, &r, err, sizeof err), 0);
  CU_ASSERT_EQUAL(job_source_models(src), 3); /* d, x, y */
  job_source_close(src);
  unlink(a);
  unlink(b);
}

typedef struct named_test {
  const char *name;
  CU_TestFunc run;
} named_test;

#define TEST(f)                                                                                    \
  { #f, f }
static const named_test tests[] = {
    TEST(azure_conv_slice_reads_every_row_with_exact_times_and_token_sums),
    TEST(azure_code_slice_reads_every_row_with_exact_times_and_token_sums),
    TEST(format_is_detected_from_the_header),
    TEST(unknown_header_and_format_mismatch_are_refused_with_the_reason),
    TEST(azure_2023_timestamps_convert_to_exact_ns_across_midnight_and_year),
    TEST(azure_2024_layout_with_utc_offsets_and_short_fractions_is_read),
    TEST(mooncake_lines_give_times_lengths_and_prefix_hashes),
    TEST(llmservingsim_ns_times_are_kept_as_recorded),
    TEST(vidur_and_splitwise_decimal_seconds_convert_exactly),
    TEST(lengths_only_files_are_no_trace_but_an_empirical_distribution),
    TEST(window_scale_offset_and_cap_shape_the_replay),
    TEST(invalid_options_are_refused),
    TEST(malformed_row_stops_the_read_naming_file_and_line),
    TEST(skipped_bad_rows_are_counted_and_the_first_is_kept),
    TEST(each_kind_of_malformed_row_is_reported_at_its_line),
    TEST(arrivals_past_the_representable_end_are_dropped_and_counted),
    TEST(a_line_past_the_limit_or_a_nul_byte_is_refused_at_its_line),
    TEST(poisson_arrivals_have_the_mean_rate_and_unit_cv),
    TEST(gamma_arrivals_have_the_mean_rate_and_the_asked_cv),
    TEST(rate_curve_shapes_arrivals_and_a_final_zero_ends_the_source),
    TEST(same_seed_gives_the_same_requests_and_another_seed_does_not),
    TEST(length_distributions_respect_their_parameters),
    TEST(empirical_lengths_come_only_from_pairs_of_the_trace),
    TEST(invalid_or_endless_synthetic_specs_are_refused),
    TEST(synthetic_window_and_cap_apply_like_a_trace),
    TEST(attribute_columns_and_keys_override_the_defaults),
    TEST(malformed_attributes_are_refused_at_their_line),
    TEST(offline_replay_sends_the_windowed_requests_at_the_offset),
    TEST(model_names_are_numbered_in_order_of_appearance),
    TEST(synthetic_sessions_grow_their_prompts_and_share_prefix_hashes),
    TEST(trace_session_column_gives_shared_prefix_hashes),
    TEST(merged_sources_interleave_by_arrival_and_renumber_models),
};

/* Runs every test, or those whose names contain argv[1]. */
int main(int argc, char **argv) {
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 1;
  CU_pSuite suite = CU_add_suite("trace", NULL, NULL);
  int added = 0;
  for (size_t i = 0; suite && i < sizeof tests / sizeof tests[0]; i++)
    if (argc < 2 || strstr(tests[i].name, argv[1]))
      added += CU_add_test(suite, tests[i].name, tests[i].run) != NULL;
  if (added == 0) {
    fprintf(stderr, "trace: no test matches\n");
    CU_cleanup_registry();
    return 1;
  }
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_ErrorCode rc = CU_basic_run_tests();
  unsigned failed = CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return rc != CUE_SUCCESS || failed != 0;
}
