/* The cost of one window's synchronisation, measured as the engine pays it (not a test): the
 * all-reduce of {partitions, every partition's earliest event, messages per rank, flags} (2P + 2
 * int64 with one thread per rank), alone, and with every rank also sending one 64-byte event to
 * rank 0, which receives them all (a global router's rank, to which every pod reports). Prints, per
 * rank count: bench=window ranks= allreduce_us= allreduce_bytes= gather_us= per_message_us=
 * (gather minus the all-reduce, over the ranks - 1 messages). The README's projection to 64 and
 * 1,024 ranks starts from these. Run: mpirun -np 2 build/tests/bench/bench_window [windows]. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reduce_min(void *in, void *inout, int *len, MPI_Datatype *type) {
  (void)type;
  const int64_t *a = in;
  int64_t *b = inout;
  for (int i = 0; i < *len; i++)
    b[i] = a[i] < b[i] ? a[i] : b[i];
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, ranks;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  int windows = argc > 1 ? atoi(argv[1]) : 20000;
  int len = 2 * ranks + 2;
  int64_t *v = calloc((size_t)len, sizeof *v);
  unsigned char event[64] = {0}, in[64];
  MPI_Op op;
  MPI_Op_create(reduce_min, 1, &op);
  double best[2] = {1e30, 1e30};
  for (int round = 0; round < 3; round++) {
    for (int gather = 0; gather < 2; gather++) {
      MPI_Barrier(MPI_COMM_WORLD);
      double t0 = MPI_Wtime();
      for (int w = 0; w < windows; w++) {
        MPI_Request req = MPI_REQUEST_NULL;
        if (gather && rank != 0)
          MPI_Isend(event, sizeof event, MPI_BYTE, 0, 0, MPI_COMM_WORLD, &req);
        for (int i = 0; i < len; i++)
          v[i] = rank + w + i;
        MPI_Allreduce(MPI_IN_PLACE, v, len, MPI_INT64_T, op, MPI_COMM_WORLD);
        for (int m = 0; gather && rank == 0 && m < ranks - 1; m++) {
          MPI_Message msg;
          MPI_Mprobe(MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, &msg, MPI_STATUS_IGNORE);
          MPI_Mrecv(in, sizeof in, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
        }
        MPI_Wait(&req, MPI_STATUS_IGNORE);
      }
      double t = (MPI_Wtime() - t0) / windows, worst;
      MPI_Allreduce(&t, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      best[gather] = worst < best[gather] ? worst : best[gather];
    }
  }
  if (rank == 0)
    printf(
        "bench=window ranks=%d allreduce_us=%.2f allreduce_bytes=%d gather_us=%.2f "
        "per_message_us=%.2f\n",
        ranks, best[0] * 1e6, len * 8, best[1] * 1e6,
        ranks > 1 ? (best[1] - best[0]) * 1e6 / (ranks - 1) : 0.0);
  MPI_Op_free(&op);
  free(v);
  MPI_Finalize();
  return 0;
}
