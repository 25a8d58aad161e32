/* windtunnel: the command line, one executable with subcommands. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "jobs/phold.h"

#ifndef WT_VERSION
#define WT_VERSION "0.0.0"
#endif

static void usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel <command> [options]\n"
          "Windtunnel simulates LLM serving on datacenters of accelerators, as a parallel\n"
          "discrete-event simulation over MPI ranks and OpenMP threads.\n\n"
          "commands:\n"
          "  phold     the engine's PHOLD benchmark (ROSS-compatible parameters)\n"
          "  version   print the version\n"
          "  help      this help\n\n"
          "Run 'windtunnel <command> --help' for a command's options. Under MPI:\n"
          "  mpirun -np 4 windtunnel phold --lps 65536\n");
}

int main(int argc, char **argv) {
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int status = 0;
  const char *command = argc > 1 ? argv[1] : "help";
  if (provided < MPI_THREAD_FUNNELED) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: the MPI library does not support MPI_THREAD_FUNNELED\n");
    status = 1;
  } else if (strcmp(command, "phold") == 0) {
    status = job_phold_main(argc - 1, argv + 1, MPI_COMM_WORLD);
  } else if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
    if (rank == 0)
      printf("windtunnel %s\n", WT_VERSION);
  } else if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
             strcmp(command, "-h") == 0) {
    if (rank == 0)
      usage(stdout);
  } else {
    if (rank == 0) {
      fprintf(stderr, "windtunnel: unknown command '%s'\n\n", command);
      usage(stderr);
    }
    status = 2;
  }
  MPI_Finalize();
  return status;
}
