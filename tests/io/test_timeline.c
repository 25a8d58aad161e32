/* CUnit tests of io/timeline on one process: rows and attributes round-trip, the reader's checks,
 * and the failure cases (unwritable path, aborted run, crashed run) never yield a file that looks
 * complete. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <mpi.h>

#include "io/timeline.h"
#include "sample_row.h"

#define CRASHED_PATH "timeline_crashed.h5"

static const io_table_def sample_table = {"samples", sizeof(sample_row), sample_fields,
                                          sizeof sample_fields / sizeof sample_fields[0], 1000};

static sample_row sample(uint64_t key) {
  sample_row row;
  memset(&row, 0, sizeof row);
  row.key = key;
  row.start_ns = (int64_t)(key * 1000003) - 5000;
  row.energy_j = (double)key * 0.25 + 1e-9;
  row.instance = -(int32_t)(key % 97);
  row.tokens = (uint32_t)(key * 7 % 4096);
  row.share = (float)key / 3.0f;
  row.fate = (uint8_t)(key % 5);
  snprintf(row.label, sizeof row.label, "r%u",
           (unsigned)(key % 1000000000u)); /* keys stay below 10^9 */
  return row;
}

static int by_key(const void *a, const void *b) {
  uint64_t ka = ((const sample_row *)a)->key, kb = ((const sample_row *)b)->key;
  return ka < kb ? -1 : ka > kb;
}

static io_timeline *create(const char *path, bool uncompressed, int threads) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "windtunnel.test",
                             .schema_version = 3,
                             .program_version = "0.1.0-test",
                             .threads = threads,
                             .uncompressed = uncompressed};
  io_timeline *tl = io_timeline_create(path, &opt, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL(tl);
  if (!tl)
    fprintf(stderr, "create: %s\n", err);
  return tl;
}

/* Writes `rows` samples alternating over two threads, flushing every `flush_every` rows. */
static void write_samples(const char *path, bool uncompressed, uint64_t rows,
                          uint64_t flush_every) {
  char err[512] = "";
  io_timeline *tl = create(path, uncompressed, 2);
  if (!tl)
    return;
  int table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
  CU_ASSERT_EQUAL(table, 0);
  for (uint64_t key = 0; key < rows; key++) {
    sample_row row = sample(key);
    CU_ASSERT_EQUAL(io_timeline_append(tl, table, (int)(key % 2), &row), 0);
    if ((key + 1) % flush_every == 0)
      CU_ASSERT_EQUAL(io_timeline_flush(tl, err, sizeof err), 0);
  }
  CU_ASSERT_EQUAL(io_timeline_close(tl, err, sizeof err), 0);
}

/* Appends samples [first, end) on thread 0, in key order. */
static void append_samples(io_timeline *tl, int table, uint64_t first, uint64_t end) {
  for (uint64_t key = first; key < end; key++) {
    sample_row row = sample(key);
    CU_ASSERT_EQUAL(io_timeline_append(tl, table, 0, &row), 0);
  }
}

static void check_samples(const char *path, uint64_t rows) {
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_TRUE(io_timeline_reader_complete(r));
  uint64_t count = 0;
  CU_ASSERT_EQUAL(io_timeline_reader_rows(r, "samples", &count, err, sizeof err), 0);
  CU_ASSERT_EQUAL(count, rows);
  sample_row *got = calloc(rows, sizeof *got);
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &sample_table, 0, rows, got, err, sizeof err), 0);
  qsort(got, rows, sizeof *got, by_key);
  uint64_t equal = 0;
  for (uint64_t key = 0; key < rows; key++) {
    sample_row want = sample(key);
    equal += memcmp(&got[key], &want, sizeof want) == 0;
  }
  CU_ASSERT_EQUAL(equal, rows);
  free(got);
  io_timeline_reader_close(r);
}

static void test_rows_round_trip_compressed(void) {
  write_samples("timeline_compressed.h5", false, 10007, 3001);
  check_samples("timeline_compressed.h5", 10007);
}

static void test_rows_round_trip_uncompressed(void) {
  write_samples("timeline_uncompressed.h5", true, 10007, 4000);
  check_samples("timeline_uncompressed.h5", 10007);
}

static void test_block_reads_equal_one_whole_read(void) {
  const uint64_t rows = 5000;
  write_samples("timeline_blocks.h5", false, rows, 1234);
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open("timeline_blocks.h5", false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  sample_row *whole = calloc(rows, sizeof *whole), *blocks = calloc(rows, sizeof *blocks);
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &sample_table, 0, rows, whole, err, sizeof err), 0);
  for (uint64_t first = 0; first < rows; first += 777) {
    uint64_t n = rows - first < 777 ? rows - first : 777;
    CU_ASSERT_EQUAL(
        io_timeline_reader_read(r, &sample_table, first, n, blocks + first, err, sizeof err), 0);
  }
  CU_ASSERT_EQUAL(memcmp(whole, blocks, rows * sizeof *whole), 0);
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &sample_table, rows - 1, 2, blocks, err, sizeof err),
                  -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "5000 rows"));
  free(whole);
  free(blocks);
  io_timeline_reader_close(r);
}

static void test_attributes_round_trip(void) {
  char err[512] = "";
  io_timeline *tl = create("timeline_attrs.h5", false, 1);
  if (!tl)
    return;
  size_t scenario_bytes = 300000; /* longer than HDF5's 64 KiB limit for compact attributes */
  char *scenario = malloc(scenario_bytes + 1);
  for (size_t i = 0; i < scenario_bytes; i++)
    scenario[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
  scenario[scenario_bytes] = '\0';
  CU_ASSERT_EQUAL(io_timeline_attr_string(tl, "scenario", scenario, err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_attr_int64(tl, "seed", -42, err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_attr_double(tl, "wall_s", 1.0, err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_attr_double(tl, "wall_s", 2.5, err, sizeof err), 0); /* replaces */
  CU_ASSERT_EQUAL(io_timeline_attr_int64(tl, "complete", 1, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "reserved"));
  CU_ASSERT_EQUAL(io_timeline_close(tl, err, sizeof err), 0);

  io_timeline_reader *r = io_timeline_reader_open("timeline_attrs.h5", false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  char *text = NULL;
  CU_ASSERT_EQUAL(io_timeline_reader_attr_string(r, "scenario", &text, err, sizeof err), 0);
  CU_ASSERT_TRUE(text && strcmp(text, scenario) == 0);
  free(text);
  CU_ASSERT_EQUAL(io_timeline_reader_attr_string(r, "schema", &text, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(text, "windtunnel.test");
  free(text);
  CU_ASSERT_EQUAL(io_timeline_reader_attr_string(r, "program_version", &text, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(text, "0.1.0-test");
  free(text);
  int64_t seed = 0, version = 0;
  double wall_s = 0;
  CU_ASSERT_EQUAL(io_timeline_reader_attr_int64(r, "seed", &seed, err, sizeof err), 0);
  CU_ASSERT_EQUAL(seed, -42);
  CU_ASSERT_EQUAL(io_timeline_reader_attr_int64(r, "schema_version", &version, err, sizeof err), 0);
  CU_ASSERT_EQUAL(version, 3);
  CU_ASSERT_EQUAL(io_timeline_reader_attr_double(r, "wall_s", &wall_s, err, sizeof err), 0);
  CU_ASSERT_EQUAL(wall_s, 2.5);
  CU_ASSERT_EQUAL(io_timeline_reader_attr_int64(r, "no_such", &seed, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no_such"));
  CU_ASSERT_EQUAL(io_timeline_reader_attr_int64(r, "scenario", &seed, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a"));
  io_timeline_reader_close(r);
  free(scenario);
}

static void test_reader_names_the_mismatched_field(void) {
  write_samples("timeline_fields.h5", false, 10, 100);
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open("timeline_fields.h5", false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  sample_row rows[10];

  io_field wrong_type[sizeof sample_fields / sizeof sample_fields[0]];
  memcpy(wrong_type, sample_fields, sizeof wrong_type);
  wrong_type[2].type = IO_FIELD_FLOAT; /* energy_j is a double */
  io_table_def def = sample_table;
  def.fields = wrong_type;
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &def, 0, 10, rows, err, sizeof err), -1);
  CU_ASSERT_STRING_EQUAL(err,
                         "table 'samples' field 'energy_j' is double in the file, float expected");

  wrong_type[2] = (io_field){"energy_kj", offsetof(sample_row, energy_j), IO_FIELD_DOUBLE, 0};
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &def, 0, 10, rows, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no field 'energy_kj'"));

  wrong_type[2] = sample_fields[2];
  wrong_type[7].string_bytes = 12; /* label is char[11] */
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &def, 0, 10, rows, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "string[11] in the file, string[12] expected"));

  def = sample_table;
  def.name = "nothing/here";
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &def, 0, 10, rows, err, sizeof err), -1);
  CU_ASSERT_STRING_EQUAL(err, "the timeline has no table 'nothing/here'");
  io_timeline_reader_close(r);
}

/* A reader that knows fewer fields, in another order and struct layout, still reads them. */
typedef struct key_and_label {
  char label[11];
  uint64_t key;
} key_and_label;

static void test_reader_reads_a_subset_of_fields(void) {
  write_samples("timeline_subset.h5", true, 100, 1000);
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open("timeline_subset.h5", false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  static const io_field fields[] = {IO_FIELD_STR(key_and_label, label),
                                    IO_FIELD(key_and_label, key, IO_FIELD_UINT64)};
  io_table_def def = {"samples", sizeof(key_and_label), fields, 2, 0};
  key_and_label rows[100];
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &def, 0, 100, rows, err, sizeof err), 0);
  int right = 0;
  for (int i = 0; i < 100; i++) {
    sample_row want = sample(rows[i].key);
    right += strcmp(rows[i].label, want.label) == 0;
  }
  CU_ASSERT_EQUAL(right, 100);
  io_timeline_reader_close(r);
}

static void test_bad_table_definition_is_refused(void) {
  char err[512] = "";
  io_timeline *tl = create("timeline_baddef.h5", false, 1);
  if (!tl)
    return;
  io_field past_end[] = {{"x", 44, IO_FIELD_INT64, 0}};
  io_table_def def = {"bad", 48, past_end, 1, 0};
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &def, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "ends past the row"));
  io_field twice[] = {{"x", 0, IO_FIELD_INT64, 0}, {"x", 8, IO_FIELD_INT64, 0}};
  def = (io_table_def){"bad", 16, twice, 2, 0};
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &def, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "field 'x'"));
  /* The timeline is still usable after refusing them. */
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &sample_table, err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &sample_table, err, sizeof err), -1); /* same name */
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot create table 'samples'"));
  CU_ASSERT_EQUAL(io_timeline_close(tl, err, sizeof err), 0);
}

static void test_wants_flush_past_its_threshold(void) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "t", .threads = 3, .flush_bytes = 100 * sizeof(sample_row)};
  io_timeline *tl = io_timeline_create("timeline_threshold.h5", &opt, MPI_COMM_WORLD, err,
                                       sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(tl);
  int table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
  for (uint64_t key = 0; key < 99; key++) {
    sample_row row = sample(key);
    io_timeline_append(tl, table, (int)(key % 3), &row);
  }
  CU_ASSERT_FALSE(io_timeline_wants_flush(tl));
  sample_row row = sample(99);
  io_timeline_append(tl, table, 2, &row);
  CU_ASSERT_TRUE(io_timeline_wants_flush(tl));
  CU_ASSERT_EQUAL(io_timeline_flush(tl, err, sizeof err), 0);
  CU_ASSERT_FALSE(io_timeline_wants_flush(tl));
  CU_ASSERT_EQUAL(io_timeline_close(tl, err, sizeof err), 0);
  check_samples("timeline_threshold.h5", 100);
}

typedef struct count_row {
  uint64_t key, count;
} count_row;
static const io_field count_fields[] = {IO_FIELD(count_row, key, IO_FIELD_UINT64),
                                        IO_FIELD(count_row, count, IO_FIELD_UINT64)};
static const io_table_def count_table = {"later/counts", sizeof(count_row), count_fields, 2, 0};

static void test_append_goes_on_after_the_rows_of_a_closed_timeline(void) {
  const char *path = "timeline_append.h5";
  char err[512] = "";
  io_timeline *tl = create(path, false, 2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(tl);
  int table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
  append_samples(tl, table, 0, 1500);
  CU_ASSERT_EQUAL(io_timeline_flush(tl, err, sizeof err), 0);
  append_samples(tl, table, 1500, 2500);
  CU_ASSERT_EQUAL(io_timeline_attr_string(tl, "stage", "first", err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_close_incomplete(tl, err, sizeof err), 0);

  /* Twice: the second opens a file that was closed complete. */
  for (int again = 0; again < 2; again++) {
    io_timeline_options opt = {.schema = "windtunnel.test", .threads = 2, .uncompressed = true};
    tl = io_timeline_open_append(path, &opt, MPI_COMM_WORLD, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tl);
    /* A table the file lacks first, in a group it lacks: it is created. */
    int counts = io_timeline_add_table(tl, &count_table, err, sizeof err);
    table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
    CU_ASSERT(counts >= 0 && table >= 0);
    if (counts < 0 || table < 0)
      printf("\n  add_table: %s\n", err);
    uint64_t first = 2500 + 1000 * (uint64_t)again;
    append_samples(tl, table, first, first + 1000);
    count_row row = {(uint64_t)again, first + 1000};
    CU_ASSERT_EQUAL(io_timeline_append(tl, counts, 1, &row), 0);
    CU_ASSERT_EQUAL(
        io_timeline_attr_string(tl, "stage", again ? "third" : "second", err, sizeof err), 0);
    CU_ASSERT_EQUAL(io_timeline_close(tl, err, sizeof err), 0);
  }

  io_timeline_reader *r = io_timeline_reader_open(path, false, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  uint64_t rows = 0;
  CU_ASSERT_EQUAL(io_timeline_reader_rows(r, "samples", &rows, err, sizeof err), 0);
  CU_ASSERT_EQUAL_FATAL(rows, 4500);
  sample_row *got = calloc(rows, sizeof *got);
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &sample_table, 0, rows, got, err, sizeof err), 0);
  uint64_t in_order = 0; /* written on one thread: the file's order is the key order */
  for (uint64_t key = 0; key < rows; key++) {
    sample_row want = sample(key);
    in_order += memcmp(&got[key], &want, sizeof want) == 0;
  }
  CU_ASSERT_EQUAL(in_order, rows);
  free(got);
  count_row counts[2] = {{0}};
  CU_ASSERT_EQUAL(io_timeline_reader_rows(r, "later/counts", &rows, err, sizeof err), 0);
  CU_ASSERT_EQUAL(rows, 2);
  CU_ASSERT_EQUAL(io_timeline_reader_read(r, &count_table, 0, 2, counts, err, sizeof err), 0);
  CU_ASSERT(counts[0].key == 0 && counts[0].count == 3500);
  CU_ASSERT(counts[1].key == 1 && counts[1].count == 4500);
  char *stage = NULL, *schema = NULL;
  CU_ASSERT_EQUAL(io_timeline_reader_attr_string(r, "stage", &stage, err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_reader_attr_string(r, "schema", &schema, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(stage ? stage : "", "third");
  CU_ASSERT_STRING_EQUAL(schema ? schema : "", "windtunnel.test");
  free(stage);
  free(schema);
  io_timeline_reader_close(r);
}

static void test_append_is_incomplete_until_closed(void) {
  const char *path = "timeline_append_incomplete.h5";
  write_samples(path, false, 100, 1000);
  char err[512] = "";
  io_timeline *tl = io_timeline_open_append(path, NULL, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(tl);
  int table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
  append_samples(tl, table, 100, 150);
  CU_ASSERT_EQUAL(io_timeline_close_incomplete(tl, err, sizeof err), 0);
  CU_ASSERT_PTR_NULL(io_timeline_reader_open(path, false, err, sizeof err));
  io_timeline_reader *r = io_timeline_reader_open(path, true, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  uint64_t rows = 0;
  CU_ASSERT_EQUAL(io_timeline_reader_rows(r, "samples", &rows, err, sizeof err), 0);
  CU_ASSERT_EQUAL(rows, 150);
  io_timeline_reader_close(r);
}

static void test_append_refuses_what_is_not_its_timeline(void) {
  char err[512] = "";
  /* An HDF5 file without the schema attribute. */
  const char *plain = "timeline_plain.h5";
  hid_t file = H5Fcreate(plain, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  CU_ASSERT_FATAL(file >= 0);
  H5Fclose(file);
  CU_ASSERT_PTR_NULL(io_timeline_open_append(plain, NULL, MPI_COMM_WORLD, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "no schema attribute"));
  /* A missing file, with the system's reason. */
  CU_ASSERT_PTR_NULL(
      io_timeline_open_append("no_such_timeline.h5", NULL, MPI_COMM_WORLD, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
  /* Another schema. */
  const char *path = "timeline_append_other.h5";
  write_samples(path, false, 10, 1000);
  io_timeline_options opt = {.schema = "windtunnel.other"};
  CU_ASSERT_PTR_NULL(io_timeline_open_append(path, &opt, MPI_COMM_WORLD, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "windtunnel.other"));
  /* A table of the same name with other fields; the file stays readable with its rows. */
  io_timeline *tl = io_timeline_open_append(path, NULL, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(tl);
  io_table_def other = count_table;
  other.name = "samples";
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &other, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "not this program's"));
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &sample_table, err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_timeline_add_table(tl, &sample_table, err, sizeof err), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "added twice"));
  CU_ASSERT_EQUAL(io_timeline_close(tl, err, sizeof err), 0);
  check_samples(path, 10);
}

static void test_unwritable_path_fails_with_the_reason(void) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "t"};
  io_timeline *tl = io_timeline_create("no_such_dir/run.h5", &opt, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NULL(tl);
  CU_ASSERT_STRING_EQUAL(err,
                         "cannot create timeline 'no_such_dir/run.h5': No such file or directory");
  tl = io_timeline_create(".", &opt, MPI_COMM_WORLD, err, sizeof err);
  CU_ASSERT_PTR_NULL(tl);
  CU_ASSERT_STRING_EQUAL(err, "cannot create timeline '.': Is a directory");
}

static void test_aborted_run_is_refused_as_incomplete(void) {
  char err[512] = "";
  io_timeline *tl = create("timeline_aborted.h5", false, 1);
  if (!tl)
    return;
  int table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
  for (uint64_t key = 0; key < 50; key++) {
    sample_row row = sample(key);
    io_timeline_append(tl, table, 0, &row);
  }
  CU_ASSERT_EQUAL(io_timeline_flush(tl, err, sizeof err), 0);
  sample_row row = sample(50);
  io_timeline_append(tl, table, 0, &row); /* buffered, never written */
  io_timeline_abort(tl);

  io_timeline_reader *r = io_timeline_reader_open("timeline_aborted.h5", false, err, sizeof err);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "is incomplete"));
  r = io_timeline_reader_open("timeline_aborted.h5", true, err, sizeof err);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT_FALSE(io_timeline_reader_complete(r));
  uint64_t rows = 0;
  CU_ASSERT_EQUAL(io_timeline_reader_rows(r, "samples", &rows, err, sizeof err), 0);
  CU_ASSERT_EQUAL(rows, 50);
  io_timeline_reader_close(r);
}

static void test_crashed_run_is_refused(void) {
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open(CRASHED_PATH, false, err, sizeof err);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, CRASHED_PATH));
  io_timeline_reader_close(r);
}

static void test_reader_explains_missing_and_foreign_files(void) {
  char err[512] = "";
  CU_ASSERT_PTR_NULL(io_timeline_reader_open("no_such_file.h5", false, err, sizeof err));
  CU_ASSERT_STRING_EQUAL(err, "cannot open timeline 'no_such_file.h5': No such file or directory");
  FILE *f = fopen("timeline_not_hdf5.h5", "w");
  fputs("arrival_time_ns,input_toks,output_toks\n", f);
  fclose(f);
  CU_ASSERT_PTR_NULL(io_timeline_reader_open("timeline_not_hdf5.h5", true, err, sizeof err));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open timeline 'timeline_not_hdf5.h5' (not HDF5"));
}

/* A writer that dies after a flush, without closing: run in a child forked before MPI starts. */
static void crash_a_writer(void) {
  pid_t child = fork();
  if (child == 0) {
    MPI_Init(NULL, NULL);
    char err[512];
    io_timeline_options opt = {.schema = "t"};
    io_timeline *tl = io_timeline_create(CRASHED_PATH, &opt, MPI_COMM_SELF, err, sizeof err);
    if (!tl)
      _exit(2);
    int table = io_timeline_add_table(tl, &sample_table, err, sizeof err);
    for (uint64_t key = 0; key < 100000; key++) {
      sample_row row = sample(key);
      io_timeline_append(tl, table, 0, &row);
    }
    io_timeline_flush(tl, err, sizeof err);
    _exit(0); /* no close, no MPI_Finalize: as if killed */
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "the crashing writer failed before crashing (status %d)\n", status);
}

int main(int argc, char **argv) {
  crash_a_writer();
  MPI_Init(&argc, &argv);
  CU_initialize_registry();
  CU_pSuite suite = CU_add_suite("timeline", NULL, NULL);
  CU_add_test(suite, "rows round-trip compressed", test_rows_round_trip_compressed);
  CU_add_test(suite, "rows round-trip uncompressed", test_rows_round_trip_uncompressed);
  CU_add_test(suite, "block reads equal one whole read", test_block_reads_equal_one_whole_read);
  CU_add_test(suite, "attributes round-trip", test_attributes_round_trip);
  CU_add_test(suite, "reader names the mismatched field", test_reader_names_the_mismatched_field);
  CU_add_test(suite, "reader reads a subset of fields", test_reader_reads_a_subset_of_fields);
  CU_add_test(suite, "bad table definition is refused", test_bad_table_definition_is_refused);
  CU_add_test(suite, "wants flush past its threshold", test_wants_flush_past_its_threshold);
  CU_add_test(suite, "append goes on after the rows of a closed timeline",
              test_append_goes_on_after_the_rows_of_a_closed_timeline);
  CU_add_test(suite, "append is incomplete until closed", test_append_is_incomplete_until_closed);
  CU_add_test(suite, "append refuses what is not its timeline",
              test_append_refuses_what_is_not_its_timeline);
  CU_add_test(suite, "unwritable path fails with the reason",
              test_unwritable_path_fails_with_the_reason);
  CU_add_test(suite, "aborted run is refused as incomplete",
              test_aborted_run_is_refused_as_incomplete);
  CU_add_test(suite, "crashed run is refused", test_crashed_run_is_refused);
  CU_add_test(suite, "reader explains missing and foreign files",
              test_reader_explains_missing_and_foreign_files);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  int failed = (int)CU_get_number_of_failures();
  CU_cleanup_registry();
  MPI_Finalize();
  return failed ? 1 : 0;
}
