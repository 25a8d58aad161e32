/* windtunnel: the command line, one executable with subcommands (app/commands.h), and how each is
 * started: with MPI (run, phold, sweep, validate) or without it. */
#define _XOPEN_SOURCE 700 /* setenv */
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "io/timeline.h"

#ifndef WT_VERSION
#define WT_VERSION "0.0.0"
#endif

/* Written at each build by app/version.cmake. */
extern const char app_git_commit[], app_build_type[];

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: windtunnel <command> [options]\n"
      "Windtunnel simulates LLM serving on datacenters of accelerators, as a parallel\n"
      "discrete-event simulation over MPI ranks and OpenMP threads.\n\n"
      "commands:\n"
      "  run [SCENARIO]   simulate a scenario (default: the built-in one) into an HDF5 timeline\n"
      "  check [SCENARIO] validate a scenario without running it\n"
      "  report FILE.h5   summarise a timeline per pool, model and rack (--json for one JSON\n"
      "                   object); report A.h5 B.h5 compares two; --csv TABLE exports a table\n"
      "  sweep STUDY.yaml run a design study's configurations into one results file\n"
      "  plot FILE.h5     draw a timeline with gnuplot (PNG or SVG pictures)\n"
      "  trace FILE.h5    a timeline as Chrome trace-event JSON (Perfetto, chrome://tracing)\n"
      "  phold            the engine's PHOLD benchmark (ROSS-compatible parameters)\n"
      "  calibrate        the cost model's error against measured data (../shared/data)\n"
      "  validate         whole measured serving runs replayed: predicted vs measured\n"
      "  version          print the version\n"
      "  help             this help\n\n"
      "Run 'windtunnel <command> --help' for a command's options. Under MPI:\n"
      "  mpirun -np 4 windtunnel run examples/default.yaml -o out.h5\n");
}

/* The launcher's rank of this process (Open MPI, PMIx, MPICH/PMI, Slurm), for commands that run
 * without MPI: under `mpirun -np 4 windtunnel report`, rank 0 alone speaks. 0 when not launched. */
static int launcher_rank(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                     "SLURM_PROCID"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v)
      return atoi(v);
  }
  return 0;
}

int app_rank(MPI_Comm comm) {
  if (comm == MPI_COMM_NULL)
    return launcher_rank();
  int rank;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

static int cmd_version(int argc, char **argv, MPI_Comm comm) {
  (void)argc, (void)argv;
  if (app_rank(comm) == 0)
    printf("windtunnel %s (commit %s, %s build)\n", WT_VERSION, app_git_commit, app_build_type);
  return 0;
}

static int cmd_help(int argc, char **argv, MPI_Comm comm) {
  (void)argc, (void)argv;
  if (app_rank(comm) == 0)
    usage(stdout);
  return 0;
}

static int cmd_plot(int argc, char **argv, MPI_Comm comm) {
  (void)comm;
  return app_plot(argc, argv);
}

static int cmd_trace(int argc, char **argv, MPI_Comm comm) {
  (void)comm;
  return app_trace(argc, argv);
}

/* The subcommands. Those that need no MPI run without MPI_Init (which costs 0.6-1.3 s as a
 * singleton on Open MPI 4.1) and get comm == MPI_COMM_NULL. */
typedef struct app_command {
  const char *name;
  int (*run)(int argc, char **argv, MPI_Comm comm);
  bool needs_mpi;
} app_command;

static const app_command commands[] = {
    {"run", app_run, true},          {"phold", app_phold, true},
    {"sweep", app_sweep, true},      {"check", app_check, false},
    {"report", app_report, false},   {"plot", cmd_plot, false},
    {"trace", cmd_trace, false},     {"calibrate", app_calibrate, false},
    {"version", cmd_version, false}, {"--version", cmd_version, false},
    {"help", cmd_help, false},       {"--help", cmd_help, false},
    {"-h", cmd_help, false},         {"validate", app_validate, true},
};

/* Whether a launcher (mpirun, srun, mpiexec) started this process; otherwise MPI_Init makes it a
 * singleton, one rank alone. Slurm's variables count as a launcher even in a batch script's own
 * shell, to stay on the safe side. */
static bool launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE",
                                     "SLURM_PROCID"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (getenv(vars[i]))
      return true;
  return false;
}

/* Runs a command that needs MPI: initialises it, runs, finalises. */
static int run_with_mpi(const app_command *c, int argc, char **argv) {
  if (!launched()) {
    /* A singleton talks only to itself. Open MPI 4.1 would otherwise start its runtime daemon and
     * probe every network transport (UCX, OFI, PSM) it has: 0.3-1.0 s of a small run's start,
     * measured on the development VM (README, "Start-up"). Values the user set win (overwrite 0);
     * other MPI libraries ignore these variables. */
    setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
    setenv("OMPI_MCA_pml", "ob1", 0);
    setenv("OMPI_MCA_btl", "self", 0);
    /* Isolated singletons share one session folder (jf.0), which the first of them to finish
     * removes; ompio's sm shared-file-pointer component keeps a file there for every file it
     * opens, so a singleton writing timelines beside another failed to create them ("unable to
     * open file for mmap", seen by `validate` on the shared development VM). HDF5 never uses
     * shared file pointers. */
    setenv("OMPI_MCA_sharedfp", "^sm", 0);
  }
  int provided;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int rank, status;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (provided < MPI_THREAD_FUNNELED) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: the MPI library does not support MPI_THREAD_FUNNELED\n");
    status = 1;
  } else {
    status = c->run(argc - 1, argv + 1, MPI_COMM_WORLD);
  }
  MPI_Finalize();
  return status;
}

int main(int argc, char **argv) {
  const char *command = argc > 1 ? argv[1] : "help";
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    const app_command *c = &commands[i];
    if (strcmp(command, c->name) != 0)
      continue;
    if (c->needs_mpi)
      return run_with_mpi(c, argc, argv);
    io_timeline_reader_only(); /* these commands write no timeline */
    /* Launched on several ranks, rank 0 alone works and speaks; the others exit 0 at once, so that
     * the launcher reports rank 0's status and does not kill it first for another's. */
    return launcher_rank() == 0 ? c->run(argc - 1, argv + 1, MPI_COMM_NULL) : 0;
  }
  if (launcher_rank() != 0)
    return 0;
  fprintf(stderr, "windtunnel: unknown command '%s'\n\n", command);
  usage(stderr);
  return 2;
}
