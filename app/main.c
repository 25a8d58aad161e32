/* windtunnel: the command line, one executable with subcommands. */
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "io/units.h"
#include "serving/estimate.h"
#include "serving/report.h"
#include "serving/scenario.h"
#include "serving/serving.h"

#ifndef WT_VERSION
#define WT_VERSION "0.0.0"
#endif

enum { MAX_SETS = 256 };

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: windtunnel <command> [options]\n"
      "Windtunnel simulates LLM serving on datacenters of accelerators, as a parallel\n"
      "discrete-event simulation over MPI ranks and OpenMP threads.\n\n"
      "commands:\n"
      "  run [SCENARIO]   simulate a scenario (default: the built-in one) into an HDF5 timeline\n"
      "  check [SCENARIO] validate a scenario without running it\n"
      "  report FILE.h5   summarise a timeline (--json for one JSON object)\n"
      "  phold            the engine's PHOLD benchmark (ROSS-compatible parameters)\n"
      "  calibrate        the cost model's error against measured data (../shared/data)\n"
      "  version          print the version\n"
      "  help             this help\n\n"
      "Run 'windtunnel <command> --help' for a command's options. Under MPI:\n"
      "  mpirun -np 4 windtunnel run examples/default.yaml -o out.h5\n");
}

static void run_usage(FILE *out, const char *command) {
  fprintf(
      out,
      "usage: windtunnel %s [SCENARIO.yaml] [options]\n"
      "  -o, --output FILE     timeline file (default: the scenario's output.path)\n"
      "  --set KEY.PATH=VALUE  override a scenario field, e.g. --set deployments.0.count=4\n"
      "                        (repeatable; values take units: --set simulation.end=10min)\n"
      "  --threads N           OpenMP threads per rank (default: simulation.threads)\n"
      "  --max-memory SIZE     refuse a run whose estimate needs more memory, e.g. 64GiB\n"
      "                        (default: this machine's physical memory)\n"
      "  --json                print the summary as one JSON object\n"
      "  --stats               print the placement (partitions, lookahead, prediction) at start\n"
      "                        and each partition's engine statistics and the leaps at the\n"
      "                        end\n"
      "  --quiet               no progress line\n"
      "  -h, --help            this help\n"
      "Without SCENARIO the built-in default runs: the Azure 2023 conversation hour on 16\n"
      "Llama-3.1-8B instances on H100 (see examples/default.yaml).\n",
      command);
}

typedef struct run_args {
  const char *scenario, *output;
  const char *sets[MAX_SETS];
  size_t set_count;
  int threads;
  uint64_t max_memory_bytes; /* 0: the machine's */
  bool json, stats, quiet;
} run_args;

/* Parses run/check options; returns -1 to exit 0 (help), 1 on bad usage, 0 to go on. */
static int parse_run_args(int argc, char **argv, int rank, run_args *a) {
  static const struct option options[] = {{"output", required_argument, 0, 'o'},
                                          {"set", required_argument, 0, 's'},
                                          {"threads", required_argument, 0, 't'},
                                          {"json", no_argument, 0, 'j'},
                                          {"stats", no_argument, 0, 'x'},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"help", no_argument, 0, 'h'},
                                          {"max-memory", required_argument, 0, 'm'},
                                          {0, 0, 0, 0}};
  optind = 1;
  opterr = 0; /* our own messages, naming the command */
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o': a->output = optarg; break;
    case 's':
      if (a->set_count == MAX_SETS) {
        if (rank == 0)
          fprintf(stderr, "windtunnel: at most %d --set options\n", MAX_SETS);
        return 1;
      }
      a->sets[a->set_count++] = optarg;
      break;
    case 't':
      a->threads = (int)strtol(optarg, &end, 10);
      if (*end || a->threads < 1 || a->threads > SRV_MAX_THREADS) {
        if (rank == 0)
          fprintf(stderr, "windtunnel: --threads expects a whole number from 1 to %d\n",
                  SRV_MAX_THREADS);
        return 1;
      }
      break;
    case 'm': {
      int64_t bytes;
      char why[256];
      if (io_units_parse_i64(IO_UNIT_BYTES, optarg, &bytes, why, sizeof why) != 0 || bytes < 1) {
        if (rank == 0)
          fprintf(stderr, "windtunnel: --max-memory expects a size such as 64GiB\n");
        return 1;
      }
      a->max_memory_bytes = (uint64_t)bytes;
      break;
    }
    case 'j': a->json = true; break;
    case 'x': a->stats = true; break;
    case 'q': a->quiet = true; break;
    case 'h':
      if (rank == 0)
        run_usage(stdout, argv[0]);
      return -1;
    default:
      if (rank == 0)
        fprintf(stderr, "windtunnel %s: %s '%s'; see 'windtunnel %s --help'\n", argv[0],
                optopt && strchr("ostm", optopt) ? "missing value for" : "unknown option",
                argv[optind - 1], argv[0]);
      return 1;
    }
  }
  if (optind < argc)
    a->scenario = argv[optind++];
  if (optind < argc) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: unexpected argument '%s'\n", argv[optind]);
    return 1;
  }
  return 0;
}

/* Parses the options of run or check and loads the scenario. Returns -1 when the command is done
 * (its help was printed), an exit status > 0 on error, 0 with *s loaded. */
static int parse_and_load(int argc, char **argv, int rank, run_args *a, srv_scenario **s) {
  int rc = parse_run_args(argc, argv, rank, a);
  if (rc)
    return rc < 0 ? -1 : 2;
  char err[1024];
  if (srv_scenario_load(a->scenario, a->sets, a->set_count, s, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: %s\n", err);
    return 1;
  }
  return 0;
}

static int cmd_check(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  run_args a = {0};
  srv_scenario *s;
  int rc = parse_and_load(argc, argv, rank, &a, &s);
  if (rc)
    return rc < 0 ? 0 : rc;
  if (rank == 0) {
    printf("%s: valid; %u instances\n", s->path, srv_scenario_instances(s));
    for (size_t d = 0; d < s->deployment_count; d++) {
      const srv_deployment *dep = &s->deployments[d];
      printf("  %s: %u x %s on %s, tp %u pp %u, %u KV blocks of %u tokens each\n", dep->name,
             dep->count, dep->model->name, dep->accel->name, dep->hw.tp ? dep->hw.tp : 1,
             dep->hw.pp ? dep->hw.pp : 1, dep->sched.total_kv_blocks, dep->sched.block_size_tokens);
    }
  }
  /* What the run would need, from the cluster and one read of the workload; refused like run. */
  int ranks;
  MPI_Comm_size(comm, &ranks);
  srv_estimate estimate;
  char err[1024];
  rc = srv_estimate_scenario(s, ranks, &estimate, rank == 0 ? stderr : NULL, err, sizeof err) != 0;
  if (!rc && rank == 0)
    srv_estimate_print(&estimate, stdout);
  rc = rc || srv_estimate_check(s, &estimate, a.max_memory_bytes, false, err, sizeof err) != 0;
  if (rc && rank == 0)
    fprintf(stderr, "windtunnel: %s\n", err);
  srv_scenario_free(s);
  return rc;
}

static int cmd_run(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  run_args a = {0};
  srv_scenario *s;
  int rc = parse_and_load(argc, argv, rank, &a, &s);
  if (rc)
    return rc < 0 ? 0 : rc;
  srv_options opt = {.output_path = a.output,
                     .threads = a.threads,
                     .progress = !a.quiet && rank == 0,
                     .stats = a.stats,
                     .version = WT_VERSION,
                     .max_memory_bytes = a.max_memory_bytes};
  srv_result res;
  char err[1024];
  const char *path = a.output ? a.output : s->output.path;
  if (srv_run(s, &opt, comm, &res, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: %s\n", err);
    srv_scenario_free(s);
    return 1;
  }
  rc = 0;
  if (rank == 0) {
    srv_summary sum;
    if (srv_report_summarise(path, &sum, err, sizeof err) != 0 ||
        srv_report_write_summary(path, &sum, err, sizeof err) != 0) {
      fprintf(stderr, "windtunnel: %s\n", err);
      rc = 1;
    } else if (a.json) {
      srv_report_print_json(&sum, true, stdout);
    } else {
      printf("timeline: %s\n", path);
      srv_report_print(&sum, stdout);
    }
  }
  srv_scenario_free(s);
  return rc;
}

static int cmd_report(int argc, char **argv, MPI_Comm comm) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  bool json = false, no_wall = false;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = true;
    else if (strcmp(argv[i], "--no-wall") == 0)
      no_wall = true;
    else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      if (rank == 0)
        printf(
            "usage: windtunnel report FILE.h5 [--json] [--no-wall]\n"
            "  --json     one JSON object (requests, ttft_ms, tpot_ms, e2e_ms, queue_ms,\n"
            "             throughput, slo, instances, sim)\n"
            "  --no-wall  leave out wall-clock time, to compare runs byte for byte\n");
      return 0;
    } else if (!path && argv[i][0] != '-')
      path = argv[i];
    else {
      if (rank == 0)
        fprintf(stderr, "windtunnel report: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (!path) {
    if (rank == 0)
      fprintf(stderr, "windtunnel report: which timeline? usage: windtunnel report FILE.h5\n");
    return 2;
  }
  if (rank != 0)
    return 0;
  srv_summary sum;
  char err[1024];
  if (srv_report_summarise(path, &sum, err, sizeof err) != 0) {
    fprintf(stderr, "windtunnel report: %s\n", err);
    return 1;
  }
  if (json)
    srv_report_print_json(&sum, !no_wall, stdout);
  else
    srv_report_print(&sum, stdout);
  return 0;
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
  } else if (strcmp(command, "run") == 0) {
    status = cmd_run(argc - 1, argv + 1, MPI_COMM_WORLD);
  } else if (strcmp(command, "check") == 0) {
    status = cmd_check(argc - 1, argv + 1, MPI_COMM_WORLD);
  } else if (strcmp(command, "report") == 0) {
    status = cmd_report(argc - 1, argv + 1, MPI_COMM_WORLD);
  } else if (strcmp(command, "calibrate") == 0) {
    status = app_calibrate(argc - 1, argv + 1, MPI_COMM_WORLD);
  } else if (strcmp(command, "phold") == 0) {
    status = app_phold(argc - 1, argv + 1, MPI_COMM_WORLD);
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
