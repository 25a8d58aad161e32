/* The timeline under MPI: `roundtrip PATH [uncompressed]` writes a deterministic set of keyed rows
 * spread unevenly over ranks and 2 OpenMP threads with several flushes, and rank 0 checks the file
 * sorted by key; `append PATH` does the same, closing the timeline half way and appending to it;
 * `unwritable PATH` checks every rank gets the same clear error; `diskfull PATH`
 * (PATH on a small file system) checks a full disk fails every rank cleanly, leaving no timeline;
 * `failedclose /dev/full` checks a failed close is reported and does not crash at MPI_Finalize.
 * Exit 0 means it held. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <omp.h>

#include "io/timeline.h"
#include "sample_row.h"

#define KEYS 60000
#define ROUNDS 8
#define THREADS 2

/* Small chunks so that chunks straddle ranks' hyperslabs and flush boundaries. */
static const io_table_def keyed_table = {"rows/keyed", sizeof(sample_row), sample_fields,
                                         sizeof sample_fields / sizeof sample_fields[0], 997};

/* One row per partition (rank, thread): a second table, flushed with the first. */
typedef struct partition_row {
  uint64_t key;
  uint64_t rows;
} partition_row;
static const io_field partition_fields[] = {IO_FIELD(partition_row, key, IO_FIELD_UINT64),
                                            IO_FIELD(partition_row, rows, IO_FIELD_UINT64)};
static const io_table_def partition_table = {"partitions", sizeof(partition_row), partition_fields,
                                             2, 0};

/* A row's content depends on its key only, never on who wrote it. */
static sample_row expected_row(uint64_t key) {
  sample_row row;
  memset(&row, 0, sizeof row);
  row.key = key;
  row.start_ns = (int64_t)(key * 7919) - 1000000;
  row.energy_j = (double)key / 7.0;
  row.instance = (int32_t)(key % 13) - 6;
  row.tokens = (uint32_t)(key * 31 % 8192);
  row.share = (float)key * 0.5f;
  row.fate = (uint8_t)(key % 4);
  snprintf(row.label, sizeof row.label, "k%" PRIu64, key % 1000000000); /* fits char[11] */
  return row;
}

/* Which partition appends key: scattered, except round 3, where only the last partition has rows.
 */
static int owner(uint64_t key, int round, int partitions) {
  if (round == 3)
    return partitions - 1;
  return (int)((key * 2654435761u >> 7) % (uint64_t)partitions);
}

static int by_key(const void *a, const void *b) {
  uint64_t ka = *(const uint64_t *)a, kb = *(const uint64_t *)b;
  return ka < kb ? -1 : ka > kb;
}

static int check(const char *path, int ranks) {
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, sizeof err);
  if (!r) {
    fprintf(stderr, "check: %s\n", err);
    return 1;
  }
  int failures = 0;
  int64_t attr_ranks = 0;
  char *scenario = NULL;
  if (io_timeline_reader_attr_int64(r, "ranks", &attr_ranks, err, sizeof err) != 0 ||
      attr_ranks != ranks ||
      io_timeline_reader_attr_string(r, "scenario", &scenario, err, sizeof err) != 0 ||
      strlen(scenario) != 100000 || scenario[99999] != 'x') {
    fprintf(stderr, "check: attributes wrong (%s)\n", err);
    failures++;
  }
  free(scenario);
  uint64_t rows = 0;
  if (io_timeline_reader_rows(r, keyed_table.name, &rows, err, sizeof err) != 0 || rows != KEYS) {
    fprintf(stderr, "check: %" PRIu64 " rows, %d expected (%s)\n", rows, KEYS, err);
    io_timeline_reader_close(r);
    return 1;
  }
  sample_row *got = malloc(rows * sizeof *got);
  for (uint64_t first = 0; first < rows; first += 4099) { /* in blocks, as a report would */
    uint64_t n = rows - first < 4099 ? rows - first : 4099;
    if (io_timeline_reader_read(r, &keyed_table, first, n, got + first, err, sizeof err) != 0) {
      fprintf(stderr, "check: %s\n", err);
      failures++;
      break;
    }
  }
  qsort(got, rows, sizeof *got, by_key);
  for (uint64_t key = 0; key < rows; key++) {
    sample_row want = expected_row(key);
    if (memcmp(&got[key], &want, sizeof want) != 0 && failures++ < 5)
      fprintf(stderr, "check: row %" PRIu64 " holds key %" PRIu64 " or differs\n", key,
              got[key].key);
  }
  free(got);

  uint64_t partitions = 0, total = 0;
  partition_row parts[64];
  if (io_timeline_reader_rows(r, partition_table.name, &partitions, err, sizeof err) != 0 ||
      partitions != (uint64_t)ranks * THREADS ||
      io_timeline_reader_read(r, &partition_table, 0, partitions, parts, err, sizeof err) != 0) {
    fprintf(stderr, "check: partitions table wrong (%s)\n", err);
    failures++;
  } else {
    for (uint64_t i = 0; i < partitions; i++)
      total += parts[i].rows;
    if (total != KEYS) {
      fprintf(stderr, "check: partitions say %" PRIu64 " rows\n", total);
      failures++;
    }
  }
  io_timeline_reader_close(r);
  printf("check: %d ranks x %d threads, %" PRIu64 " rows sorted by key: %s\n", ranks, THREADS, rows,
         failures ? "DIFFERENT" : "identical to expected");
  return failures ? 1 : 0;
}

/* After an append: the file's first `rows` rows hold exactly the keys written before it. */
static int check_written_first(const char *path, uint64_t rows) {
  char err[512] = "";
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, sizeof err);
  sample_row *got = malloc(rows * sizeof *got);
  int failures = !r || !got ||
                 io_timeline_reader_read(r, &keyed_table, 0, rows, got, err, sizeof err) != 0;
  for (uint64_t i = 0; !failures && i < rows; i++)
    failures += got[i].key >= rows;
  if (failures)
    fprintf(stderr, "check: the first %" PRIu64 " rows are not those written first (%s)\n", rows,
            err);
  free(got);
  if (r)
    io_timeline_reader_close(r);
  return failures ? 1 : 0;
}

/* Writes the rows in ROUNDS rounds; after round reopen_round (-1: never) closes the timeline
 * incomplete and goes on in the same file with io_timeline_open_append, as a checkpoint does. */
static int roundtrip(const char *path, bool uncompressed, int reopen_round, int rank, int ranks) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "windtunnel.test",
                             .schema_version = 1,
                             .program_version = "test",
                             .threads = THREADS,
                             .uncompressed = uncompressed,
                             .flush_bytes = 64 << 10};
  io_timeline *tl = io_timeline_create(path, &opt, MPI_COMM_WORLD, err, sizeof err);
  if (!tl) {
    fprintf(stderr, "rank %d: %s\n", rank, err);
    return 1;
  }
  char *scenario = malloc(100001);
  memset(scenario, rank == 0 ? 'x' : 'y', 100000); /* rank 0's value must win */
  scenario[100000] = '\0';
  int keyed = io_timeline_add_table(tl, &keyed_table, err, sizeof err);
  int parts = keyed < 0 ? -1 : io_timeline_add_table(tl, &partition_table, err, sizeof err);
  bool ok = parts >= 0 && io_timeline_attr_string(tl, "scenario", scenario, err, sizeof err) == 0 &&
            io_timeline_attr_int64(tl, "ranks", ranks, err, sizeof err) == 0;
  free(scenario);
  int partitions = ranks * THREADS, flushes = 0;
  uint64_t appended[THREADS] = {0};
  for (int round = 0; ok && round < ROUNDS; round++) {
    uint64_t first = (uint64_t)KEYS * round / ROUNDS, end = (uint64_t)KEYS * (round + 1) / ROUNDS;
#pragma omp parallel num_threads(THREADS)
    {
      int thread = omp_get_thread_num(), me = rank * THREADS + thread;
      for (uint64_t key = first; key < end; key++) {
        if (owner(key, round, partitions) != me)
          continue;
        sample_row row = expected_row(key);
        if (io_timeline_append(tl, keyed, thread, &row) == 0)
          appended[thread]++;
      }
    }
    /* As the engine does at a window boundary: flush when any rank wants to; always after round 3,
     * where all but one partition have nothing to write. */
    int wants = io_timeline_wants_flush(tl) || round == 3, any = 0;
    MPI_Allreduce(&wants, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any) {
      ok = io_timeline_flush(tl, err, sizeof err) == 0;
      flushes++;
    }
    if (ok && round == reopen_round) { /* the tables again, in another order */
      ok = io_timeline_close_incomplete(tl, err, sizeof err) == 0;
      tl = ok ? io_timeline_open_append(path, &opt, MPI_COMM_WORLD, err, sizeof err) : NULL;
      if (!tl) {
        fprintf(stderr, "rank %d: %s\n", rank, err);
        return 1;
      }
      parts = io_timeline_add_table(tl, &partition_table, err, sizeof err);
      keyed = parts < 0 ? -1 : io_timeline_add_table(tl, &keyed_table, err, sizeof err);
      ok = keyed >= 0;
    }
  }
  for (int thread = 0; ok && thread < THREADS; thread++) { /* a failure shows at the close */
    partition_row row = {(uint64_t)(rank * THREADS + thread), appended[thread]};
    io_timeline_append(tl, parts, thread, &row);
  }
  if (!ok) {
    fprintf(stderr, "rank %d: %s\n", rank, err);
    io_timeline_abort(tl);
    return 1;
  }
  if (io_timeline_close(tl, err, sizeof err) != 0) {
    fprintf(stderr, "rank %d: %s\n", rank, err);
    return 1;
  }
  if (rank != 0)
    return 0;
  printf("wrote %d rows in %d flushes and the close\n", KEYS, flushes);
  if (flushes < 3) {
    fprintf(stderr, "only %d flushes: the test no longer exercises streaming\n", flushes);
    return 1;
  }
  if (check(path, ranks) != 0)
    return 1;
  return reopen_round < 0 ? 0
                          : check_written_first(path, (uint64_t)KEYS * (reopen_round + 1) / ROUNDS);
}

/* Every rank must fail, with the same message naming the path. */
static int unwritable(const char *path, int rank) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "windtunnel.test"};
  io_timeline *tl = io_timeline_create(path, &opt, MPI_COMM_WORLD, err, sizeof err);
  int right = tl == NULL && strstr(err, path) != NULL, all = 0;
  if (tl)
    io_timeline_close(tl, err, sizeof err);
  printf("rank %d: %s\n", rank, err);
  MPI_Allreduce(&right, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all ? 0 : 1;
}

/* Streams rows until a flush fails for want of space: every rank must say so, abort must return
 * (parallel HDF5 can deadlock on a full disk, so the writer stops before it), and the file left
 * must not open as a timeline. */
static int diskfull(const char *path, int rank) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "windtunnel.test", .threads = 1, .uncompressed = true};
  io_timeline *tl = io_timeline_create(path, &opt, MPI_COMM_WORLD, err, sizeof err);
  int keyed = tl ? io_timeline_add_table(tl, &keyed_table, err, sizeof err) : -1;
  if (keyed < 0) {
    fprintf(stderr, "rank %d: %s\n", rank, err);
    return 1;
  }
  int flushes = 0, status = 0;
  for (uint64_t key = (uint64_t)rank; status == 0 && flushes < 1000; flushes++) {
    for (int i = 0; i < 10000; i++, key += 8) {
      sample_row row = expected_row(key);
      io_timeline_append(tl, keyed, 0, &row);
    }
    status = io_timeline_flush(tl, err, sizeof err);
  }
  printf("rank %d: after %d flushes: %s\n", rank, flushes, err);
  int right = status != 0 && strstr(err, "no space left for timeline") != NULL, all = 0;
  io_timeline_abort(tl);
  MPI_Allreduce(&right, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  if (rank == 0) {
    io_timeline_reader *r = io_timeline_reader_open(path, true, err, sizeof err);
    printf("reader: %s\n", r ? "opened the file left by a full disk" : err);
    all = all && r == NULL;
    io_timeline_reader_close(r);
  }
  return all ? 0 : 1;
}

/* A timeline on a file that takes no byte (/dev/full): closing fails on every rank with a message,
 * and the process then finalises MPI without crashing in HDF5's termination (it did: SIGSEGV in
 * H5F__close_cb after the failed H5Fclose). */
static int failed_close(const char *path, int rank) {
  char err[512] = "";
  io_timeline_options opt = {.schema = "windtunnel.test", .threads = 1};
  io_timeline *tl = io_timeline_create(path, &opt, MPI_COMM_WORLD, err, sizeof err);
  int keyed = tl ? io_timeline_add_table(tl, &keyed_table, err, sizeof err) : -1;
  if (keyed < 0) {
    fprintf(stderr, "rank %d: %s\n", rank, err);
    return 1;
  }
  for (uint64_t key = (uint64_t)rank; key < 1000; key += 8) {
    sample_row row = expected_row(key);
    io_timeline_append(tl, keyed, 0, &row);
  }
  int status = io_timeline_close(tl, err, sizeof err);
  printf("rank %d: close: %s\n", rank, status ? err : "succeeded");
  int right = status != 0 && err[0] != '\0', all = 0;
  MPI_Allreduce(&right, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  return all ? 0 : 1;
}

int main(int argc, char **argv) {
  int provided, rank, ranks;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  int status = 2;
  if (argc >= 3 && strcmp(argv[1], "roundtrip") == 0)
    status = roundtrip(argv[2], argc > 3 && strcmp(argv[3], "uncompressed") == 0, -1, rank, ranks);
  else if (argc == 3 && strcmp(argv[1], "append") == 0)
    status = roundtrip(argv[2], false, 3, rank, ranks);
  else if (argc == 3 && strcmp(argv[1], "unwritable") == 0)
    status = unwritable(argv[2], rank);
  else if (argc == 3 && strcmp(argv[1], "diskfull") == 0)
    status = diskfull(argv[2], rank);
  else if (argc == 3 && strcmp(argv[1], "failedclose") == 0)
    status = failed_close(argv[2], rank);
  else if (rank == 0)
    fprintf(
        stderr,
        "usage: test_timeline_mpi roundtrip PATH [uncompressed] | append PATH | unwritable PATH | "
        "diskfull PATH | failedclose PATH\n");
  int worst = 0;
  MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
