/* Unit tests of the trace readers (jobs/trace.c): every format on inline fixtures and on the
 * committed Azure slices, timestamps, malformed rows and the bad-row policy, and the request
 * attribute columns. The replay options, merged streams and synthetic generators are in
 * test_workload.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sources.h"

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

/* ---- Request attributes ------------------------------------------------------------------------
 */

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
    TEST(malformed_row_stops_the_read_naming_file_and_line),
    TEST(skipped_bad_rows_are_counted_and_the_first_is_kept),
    TEST(each_kind_of_malformed_row_is_reported_at_its_line),
    TEST(arrivals_past_the_representable_end_are_dropped_and_counted),
    TEST(a_line_past_the_limit_or_a_nul_byte_is_refused_at_its_line),
    TEST(attribute_columns_and_keys_override_the_defaults),
    TEST(malformed_attributes_are_refused_at_their_line),
};

int main(int argc, char **argv) {
  return run_named_tests("trace", tests, sizeof tests / sizeof tests[0], argc, argv);
}
