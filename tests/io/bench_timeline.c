/* Timeline write throughput: every rank streams request-like 48-byte rows, flushing collectively
 * when any rank's buffers pass the threshold (as the engine will), and rank 0 prints one JSON line.
 * usage: mpirun -np R bench_timeline [--rows N] [--uncompressed] [--chunk-rows C] [--flush-mib M]
 *        [--path FILE] */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <mpi.h>

#include "io/timeline.h"

typedef struct request_row { /* what a /requests row will roughly hold: 48 bytes */
  uint64_t request_id;
  int64_t arrival_ns;
  int64_t first_token_ns;
  int64_t done_ns;
  int32_t instance;
  uint32_t input_tokens;
  uint32_t output_tokens;
  uint32_t preemptions;
} request_row;

static const io_field request_fields[] = {
    IO_FIELD(request_row, request_id, IO_FIELD_UINT64),
    IO_FIELD(request_row, arrival_ns, IO_FIELD_INT64),
    IO_FIELD(request_row, first_token_ns, IO_FIELD_INT64),
    IO_FIELD(request_row, done_ns, IO_FIELD_INT64),
    IO_FIELD(request_row, instance, IO_FIELD_INT32),
    IO_FIELD(request_row, input_tokens, IO_FIELD_UINT32),
    IO_FIELD(request_row, output_tokens, IO_FIELD_UINT32),
    IO_FIELD(request_row, preemptions, IO_FIELD_UINT32),
};

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser: cheap, deterministic noise */
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

/* This process's user + system CPU seconds: steadier than wall time on a shared machine. */
static double cpu_seconds(void) {
  struct rusage use;
  getrusage(RUSAGE_SELF, &use);
  return (double)(use.ru_utime.tv_sec + use.ru_stime.tv_sec) +
         1e-6 * (double)(use.ru_utime.tv_usec + use.ru_stime.tv_usec);
}

static request_row make_row(uint64_t id) {
  uint64_t noise = mix(id);
  request_row row;
  row.request_id = id;
  row.arrival_ns = (int64_t)(id * 50000 + noise % 40000); /* ~20k requests per simulated second */
  row.first_token_ns = row.arrival_ns + 15000000 + (int64_t)(noise >> 40 & 0xffffff);
  row.input_tokens = 16 + (uint32_t)(noise >> 16 & 0xfff);
  row.output_tokens = 1 + (uint32_t)(noise >> 28 & 0x3ff);
  row.done_ns = row.first_token_ns + (int64_t)row.output_tokens * 25000000;
  row.instance = (int32_t)(id % 160);
  row.preemptions = (noise & 0xff) == 0;
  return row;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  uint64_t rows = 4000000;
  size_t chunk_rows = 0, flush_mib = 0;
  bool uncompressed = false;
  const char *path = "bench_timeline.h5";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
      rows = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--chunk-rows") == 0 && i + 1 < argc)
      chunk_rows = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--flush-mib") == 0 && i + 1 < argc)
      flush_mib = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc)
      path = argv[++i];
    else if (strcmp(argv[i], "--uncompressed") == 0)
      uncompressed = true;
    else {
      if (rank == 0)
        fprintf(stderr, "bench_timeline: unknown option '%s'\n", argv[i]);
      MPI_Finalize();
      return 2;
    }
  }
  io_table_def table = {"requests", sizeof(request_row), request_fields,
                        sizeof request_fields / sizeof request_fields[0], chunk_rows};
  io_timeline_options opt = {.schema = "windtunnel.bench",
                             .schema_version = 1,
                             .program_version = "bench",
                             .threads = 1,
                             .uncompressed = uncompressed,
                             .flush_bytes = flush_mib << 20};
  char err[512] = "";
  MPI_Barrier(MPI_COMM_WORLD);
  double start = MPI_Wtime(), flush_s = 0, cpu_start = cpu_seconds();
  io_timeline *tl = io_timeline_create(path, &opt, MPI_COMM_WORLD, err, sizeof err);
  int requests = tl ? io_timeline_add_table(tl, &table, err, sizeof err) : -1;
  double create_s = MPI_Wtime() - start;
  if (requests < 0) {
    if (rank == 0)
      fprintf(stderr, "bench_timeline: %s\n", err);
    if (tl)
      io_timeline_abort(tl);
    MPI_Finalize();
    return 1;
  }
  int status = 0, flushes = 0;
  const uint64_t window_rows = 4096; /* rows appended between window boundaries */
  for (uint64_t first = 0; status == 0 && first < rows; first += window_rows * (uint64_t)ranks) {
    for (uint64_t id = first + (uint64_t)rank; id < first + window_rows * ranks && id < rows;
         id += (uint64_t)ranks) {
      request_row row = make_row(id);
      io_timeline_append(tl, requests, 0, &row);
    }
    int wants = io_timeline_wants_flush(tl), any = 0;
    MPI_Allreduce(&wants, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any) {
      double flush_start = MPI_Wtime();
      status = io_timeline_flush(tl, err, sizeof err);
      flush_s += MPI_Wtime() - flush_start;
      flushes++;
    }
  }
  double close_start = MPI_Wtime();
  if (io_timeline_close(tl, err, sizeof err) != 0)
    status = -1;
  double end = MPI_Wtime();
  flush_s += end - close_start;
  if (status != 0) {
    if (rank == 0)
      fprintf(stderr, "bench_timeline: %s\n", err);
    MPI_Finalize();
    return 1;
  }
  double seconds = end - start, slowest = 0, cpu_s = cpu_seconds() - cpu_start, cpu_total_s = 0;
  MPI_Reduce(&seconds, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
  MPI_Reduce(&cpu_s, &cpu_total_s, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    struct stat st;
    long long file_bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    printf(
        "{\"bench\":\"timeline\",\"ranks\":%d,\"rows\":%llu,\"row_bytes\":%zu,\"compressed\":%s,"
        "\"chunk_rows\":%zu,\"flush_mib\":%zu,\"flushes\":%d,\"seconds\":%.3f,\"create_seconds\":%."
        "3f,"
        "\"flush_seconds\":%.3f,\"rows_per_s\":%.0f,\"cpu_seconds\":%.3f,"
        "\"rows_per_cpu_s\":%.0f,\"file_bytes\":%lld,"
        "\"file_bytes_per_row\":%.2f}\n",
        ranks, (unsigned long long)rows, sizeof(request_row), uncompressed ? "false" : "true",
        chunk_rows, flush_mib, flushes + 1, slowest, create_s, flush_s, (double)rows / slowest,
        cpu_total_s, (double)rows / cpu_total_s, file_bytes, (double)file_bytes / (double)rows);
  }
  MPI_Finalize();
  return 0;
}
