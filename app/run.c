/* `windtunnel run` and `windtunnel check`: the scenario and its --set overrides read and checked,
 * the run with its output kept safe (a temporary file renamed over the target only when whole;
 * inputs refused as outputs), stop signals and --max-wall turned into a partial timeline, and the
 * summary printed. */
#define _XOPEN_SOURCE 700 /* sigaction with SA_RESTART and SA_RESETHAND; setenv */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/commands.h"
#include "io/units.h"
#include "serving/checkpoint.h"
#include "serving/estimate.h"
#include "serving/report.h"
#include "serving/scenario.h"
#include "serving/serving.h"
#include "util/error.h"
#include "util/json.h"

#ifndef WT_VERSION
#define WT_VERSION "0.0.0"
#endif

enum { MAX_SETS = 256 };

/* Exit statuses of run besides 0 (done), 1 (failed) and 2 (bad usage), documented in the README:
 * a run stopped early, whose partial timeline (complete=0) was written. */
enum {
  EXIT_STOPPED_MAX_WALL = 3, /* --max-wall passed */
  EXIT_STOPPED_SIGNAL = 128, /* plus the signal's number, as a shell reports a killed job */
};

/* The one piece of mutable state outside main: the number of the last stop signal caught (SIGTERM,
 * SIGINT, SIGUSR1), written by the handler and nothing else, read by the engine at each window
 * boundary. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) { stop_signal = sig; }

/* Catches the stop signals: the run then stops at the next window boundary and writes a partial
 * timeline. SA_RESETHAND: a second signal of the same kind acts as if uncaught (kills at once). */
static void catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  /* A file-size limit (ulimit -f, a batch system's) kills with SIGXFSZ by default, leaving a
   * temporary file and no word: ignored, the write fails with EFBIG and the run says so. */
  signal(SIGXFSZ, SIG_IGN);
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
      "  --max-timeline SIZE   refuse a run whose timeline takes more before compression\n"
      "                        (default: the free space in the output's folder)\n"
      "  --json                print the summary as one JSON object\n"
      "  --stats               print the placement (partitions, lookahead, prediction) at start\n"
      "                        and each partition's engine statistics, the leaps, the price\n"
      "                        cache and the timeline's write rates at the end\n"
      "  --quiet               no progress line\n"
      "  --max-wall TIME       stop at the first window boundary after TIME of wall clock\n"
      "                        (e.g. 50min, 1h30m) and write a partial timeline (complete=0);\n"
      "                        SIGTERM, SIGINT and SIGUSR1 do the same. Exit status: 3 after\n"
      "                        --max-wall, 128+N after signal N\n"
      "  --checkpoint-every T  write a checkpoint every T of simulated time (e.g. 10min) or,\n"
      "                        as wall:T, of wall clock (e.g. wall:20m); and one whenever a\n"
      "                        signal or --max-wall stops the run\n"
      "  --checkpoint DIR      the checkpoint folder (default: the output's name + .ckpt);\n"
      "                        alone, checkpoints only when a stop ends the run. Each new one\n"
      "                        replaces the last only once it is whole\n"
      "  --restart DIR         continue from checkpoint DIR, at any number of ranks and threads:\n"
      "                        the timeline and summary come out as the uninterrupted run's.\n"
      "                        Without SCENARIO and --set the checkpoint's scenario runs; with\n"
      "                        them, they must give exactly the checkpoint's scenario\n"
      "  -h, --help            this help\n"
      "Without SCENARIO the built-in default runs: the Azure 2023 conversation hour on 16\n"
      "Llama-3.1-8B instances on H100 (see examples/default.yaml).\n",
      command);
}

static void check_usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel check [SCENARIO.yaml] [options]\n"
          "Validates a scenario (and its trace) without running it, and says what it describes:\n"
          "per deployment its instances, KV blocks and, when it names one, its engine profile\n"
          "(hw/data/engines.csv), whether the engine's host work overlaps the kernels and\n"
          "whether its client sees a step's tokens one step late (output_lag).\n"
          "  --set KEY.PATH=VALUE  override a scenario field, as for run (repeatable)\n"
          "  --json                print one JSON object (scenario, valid, instances,\n"
          "                        deployments, each with engine: null when it names none)\n"
          "                        instead of text\n"
          "  --max-memory SIZE     refuse, as run does, a run whose memory estimate passes SIZE\n"
          "                        (default: this machine's physical memory)\n"
          "  --max-timeline SIZE   likewise for the timeline before compression (default: the\n"
          "                        free space in output.path's folder)\n"
          "  -h, --help            this help\n"
          "It also prints the estimate of memory and timeline size (on stderr with --json).\n"
          "Without SCENARIO the built-in default is checked. Exit status: 0 valid, 1 invalid\n"
          "or too big to run (the message names the file, line, column and key, or the key to\n"
          "change), 2 bad usage.\n");
}

typedef struct run_args {
  const char *scenario, *output;
  const char *sets[MAX_SETS];
  size_t set_count;
  int threads;
  uint64_t max_memory_bytes;   /* 0: the machine's */
  uint64_t max_timeline_bytes; /* 0: the output folder's free space */
  double max_wall_s;           /* 0: none */
  bool json, stats, quiet;
  const char *checkpoint, *restart; /* folders; NULL: none */
  const char *checkpoint_every;     /* as given, for the restart command printed */
  int64_t checkpoint_every_ns;      /* 0: none */
  double checkpoint_every_wall_s;   /* 0: none */
} run_args;

/* Parses a wall-clock duration: one or more io/units durations in a row ("90min", "1h30min",
 * "2h"), where "m" also means minutes ("10m", "1h30m"). Returns 0 with *seconds > 0, or -1. */
static int parse_wall_time(const char *text, double *seconds) {
  double total_s = 0;
  const char *p = text;
  if (!*p)
    return -1;
  while (*p) {
    char term[64];
    size_t n = 0;
    while ((p[n] >= '0' && p[n] <= '9') || p[n] == '.')
      n++;
    if (n == 0)
      return -1;
    size_t unit = n;
    while (p[unit] && !((p[unit] >= '0' && p[unit] <= '9') || p[unit] == '.'))
      unit++;
    if (unit - n == 0 || unit + 4 >= sizeof term)
      return -1;
    memcpy(term, p, unit);
    term[unit] = '\0';
    if (unit - n == 1 && term[n] == 'm') /* minutes, as Slurm users write them */
      snprintf(term + n, sizeof term - n, "min");
    int64_t ns;
    if (io_units_parse_i64(IO_UNIT_NS, term, &ns, NULL, 0) != 0 || ns < 0)
      return -1;
    total_s += (double)ns * 1e-9;
    p += unit;
  }
  *seconds = total_s;
  return total_s > 0 ? 0 : -1;
}

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
                                          {"max-timeline", required_argument, 0, 'T'},
                                          {"max-wall", required_argument, 0, 'w'},
                                          {"checkpoint", required_argument, 0, 'c'},
                                          {"checkpoint-every", required_argument, 0, 'e'},
                                          {"restart", required_argument, 0, 'r'},
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
    case 'm':
    case 'T': {
      int64_t bytes;
      char why[256];
      if (io_units_parse_i64(IO_UNIT_BYTES, optarg, &bytes, why, sizeof why) != 0 || bytes < 1) {
        if (rank == 0)
          fprintf(stderr, "windtunnel: --max-%s expects a size such as 64GiB\n",
                  c == 'm' ? "memory" : "timeline");
        return 1;
      }
      *(c == 'm' ? &a->max_memory_bytes : &a->max_timeline_bytes) = (uint64_t)bytes;
      break;
    }
    case 'w':
      if (parse_wall_time(optarg, &a->max_wall_s) != 0) {
        if (rank == 0)
          fprintf(stderr,
                  "windtunnel: --max-wall expects a wall-clock time above 0 such as '50min', "
                  "'1h30m' or '2h', got '%s'\n",
                  optarg);
        return 1;
      }
      break;
    case 'c': a->checkpoint = optarg; break;
    case 'r': a->restart = optarg; break;
    case 'e': {
      bool wall = strncmp(optarg, "wall:", 5) == 0;
      int64_t ns = 0;
      a->checkpoint_every = optarg;
      if (wall ? parse_wall_time(optarg + 5, &a->checkpoint_every_wall_s) != 0
               : io_units_parse_i64(IO_UNIT_NS, optarg, &ns, NULL, 0) != 0 || ns < 1) {
        if (rank == 0)
          fprintf(stderr,
                  "windtunnel: --checkpoint-every expects a simulated time above 0 such as "
                  "'10min', or a wall-clock time such as 'wall:20m', got '%s'\n",
                  optarg);
        return 1;
      }
      a->checkpoint_every_ns = ns;
      break;
    }
    case 'j': a->json = true; break;
    case 'x': a->stats = true; break;
    case 'q': a->quiet = true; break;
    case 'h':
      if (rank == 0) {
        if (strcmp(argv[0], "check") == 0)
          check_usage(stdout);
        else
          run_usage(stdout, argv[0]);
      }
      return -1;
    default:
      if (rank == 0)
        fprintf(stderr, "windtunnel %s: %s '%s'; see 'windtunnel %s --help'\n", argv[0],
                optopt && strchr("ostwmTcer", optopt) ? "missing value for" : "unknown option",
                argv[optind - 1], argv[0]);
      return 1;
    }
  }
  if (strcmp(argv[0], "check") == 0 && (a->output || a->threads || a->stats || a->quiet ||
                                        a->checkpoint || a->checkpoint_every || a->restart)) {
    if (rank == 0)
      fprintf(stderr,
              "windtunnel check: -o, --threads, --stats, --quiet and the checkpoint options "
              "apply to run; see 'windtunnel check --help'\n");
    return 1;
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

/* A restart's scenario: the checkpoint's (its file and --set overrides) when the command gives
 * neither SCENARIO nor --set, else the one they give, which must be the checkpoint's exactly: a
 * restart continues one run. Returns 0 with *s loaded, or 1 with the message printed. */
static int load_restart_scenario(const run_args *a, int rank, srv_scenario **s,
                                 srv_checkpoint_header *header) {
  srv_checkpoint_header h;
  char err[1024], diff[600];
  if (srv_checkpoint_read_header(a->restart, &h, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: --restart: %s\n", err);
    return 1;
  }
  bool theirs = !a->scenario && !a->set_count;
  const char *path = theirs ? (h.scenario_path[0] ? h.scenario_path : NULL) : a->scenario;
  int rc = theirs ? srv_scenario_load(path, (const char *const *)h.sets, h.set_count, s, err,
                                      sizeof err)
                  : srv_scenario_load(path, a->sets, a->set_count, s, err, sizeof err);
  if (rc != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: %s%s\n", theirs ? "the checkpoint's scenario: " : "", err);
  } else if (strcmp((*s)->resolved_text, h.resolved_text) != 0 || (*s)->simulation.seed != h.seed) {
    srv_checkpoint_diff((*s)->resolved_text, h.resolved_text, diff, sizeof diff);
    if (rank == 0 && theirs)
      fprintf(stderr,
              "windtunnel: the scenario '%s' changed since checkpoint '%s' was written (%s); a "
              "restart continues the run that wrote it\n",
              path ? path : "(built-in default)", a->restart, diff);
    else if (rank == 0)
      fprintf(stderr,
              "windtunnel: the scenario given (with its --set overrides) is not checkpoint '%s''s "
              "(%s); a restart continues the run that wrote it: give its scenario, or none\n",
              a->restart, diff);
    srv_scenario_free(*s);
    rc = 1;
  }
  if (rc)
    srv_checkpoint_header_free(&h);
  else
    *header = h;
  return rc ? 1 : 0;
}

/* Parses the options of run or check and loads the scenario (with --restart, the checkpoint's
 * header too). Returns -1 when the command is done (its help was printed), an exit status > 0 on
 * error, 0 with *s loaded. */
static int parse_and_load(int argc, char **argv, int rank, run_args *a, srv_scenario **s,
                          srv_checkpoint_header *restart) {
  int rc = parse_run_args(argc, argv, rank, a);
  if (rc)
    return rc < 0 ? -1 : 2;
  if (a->restart)
    return load_restart_scenario(a, rank, s, restart);
  char err[1024];
  if (srv_scenario_load(a->scenario, a->sets, a->set_count, s, err, sizeof err) != 0) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: %s\n", err);
    return 1;
  }
  return 0;
}

/* check --json: what check prints, as one JSON object. */
static void print_check_json(const srv_scenario *s, FILE *out) {
  fputs("{\"scenario\":", out);
  util_json_string(out, s->path);
  fprintf(out, ",\"valid\":true,\"instances\":%u,\"deployments\":[", srv_scenario_instances(s));
  for (size_t d = 0; d < s->deployment_count; d++) {
    const srv_deployment *dep = &s->deployments[d];
    fputs(d ? ",{\"name\":" : "{\"name\":", out);
    util_json_string(out, dep->name);
    fputs(",\"model\":", out);
    util_json_string(out, dep->model->name);
    fputs(",\"accelerator\":", out);
    util_json_string(out, dep->accel->name);
    fprintf(out, ",\"count\":%u,\"tp\":%u,\"pp\":%u,\"kv_blocks\":%u,\"block_size_tokens\":%u",
            dep->count, dep->hw.tp ? dep->hw.tp : 1, dep->hw.pp ? dep->hw.pp : 1,
            dep->sched.total_kv_blocks, dep->sched.block_size_tokens);
    /* the engine's limits, per micro-batch (pp of them in flight) */
    fprintf(out, ",\"max_num_seqs\":%u,\"max_num_batched_tokens\":%u,\"moe_routing\":\"%s\"",
            dep->hw.max_seqs, dep->hw.max_batched_tokens, dep->hw.moe_copies ? "copies" : "uniform");
    fputs(",\"engine\":", out);
    if (dep->engine[0])
      util_json_string(out, dep->engine);
    else
      fputs("null", out);
    fprintf(out, ",\"output_lag\":%s}", dep->output_lag ? "true" : "false");
  }
  fputs("],\"router\":{\"policy\":", out);
  util_json_string(out, job_route_policy_name(s->router.policy));
  fputs(",\"pods\":", out);
  if (s->router.pods.enabled) {
    fputs("{\"policy\":", out);
    util_json_string(out, job_route_policy_name(s->router.pods.policy));
    fprintf(out, ",\"replicated\":%s}", srv_scenario_router_replicated(s) ? "true" : "false");
  } else {
    fputs("null", out);
  }
  fputs("}}\n", out);
}

int app_check(int argc, char **argv, MPI_Comm comm) {
  int rank = app_rank(comm);
  run_args a = {0};
  srv_scenario *s;
  int rc = parse_run_args(argc, argv, rank, &a);
  if (rc)
    return rc < 0 ? 0 : 2;
  char err[1024];
  if (srv_scenario_load(a.scenario, a.sets, a.set_count, &s, err, sizeof err) != 0) {
    if (rank == 0 && a.json) { /* the verdict on stdout, as JSON; the message on stderr too */
      fputs("{\"scenario\":", stdout);
      util_json_string(stdout, a.scenario ? a.scenario : "(built-in default)");
      fputs(",\"valid\":false,\"error\":", stdout);
      util_json_string(stdout, err);
      fputs("}\n", stdout);
    }
    if (rank == 0)
      fprintf(stderr, "windtunnel: %s\n", err);
    return 1;
  }
  if (rank == 0 && a.json)
    print_check_json(s, stdout);
  else if (rank == 0) {
    printf("%s: valid; %u instances\n", s->path, srv_scenario_instances(s));
    for (size_t d = 0; d < s->deployment_count; d++) {
      const srv_deployment *dep = &s->deployments[d];
      printf("  %s: %u x %s on %s, tp %u pp %u, %u KV blocks of %u tokens each", dep->name,
             dep->count, dep->model->name, dep->accel->name, dep->hw.tp ? dep->hw.tp : 1,
             dep->hw.pp ? dep->hw.pp : 1, dep->sched.total_kv_blocks, dep->sched.block_size_tokens);
      if (dep->engine[0]) /* hw/data/engines.csv */
        printf(", engine %s (host %s%s)", dep->engine,
               dep->hw.host_overlap ? "overlapped" : "in series",
               dep->output_lag ? "; the client sees a step's tokens one step late" : "");
      if (dep->hw.pp > 1) /* the scheduler's limits are the micro-batches' together */
        printf(", %u micro-batches in flight of up to %u sequences and %u tokens each",
               dep->hw.pp, dep->hw.max_seqs, dep->hw.max_batched_tokens);
      if (dep->hw.moe_copies && dep->model->experts) /* hw/data/SOURCES.md "Mixture of experts" */
        printf(", a batch's sequences copies of one prompt (they route to the same experts)");
      putchar('\n');
    }
    if (s->router.pods.enabled)
      printf("  router: %s over pods, %s in each%s\n", job_route_policy_name(s->router.pods.policy),
             job_route_policy_name(s->router.policy),
             srv_scenario_router_replicated(s)
                 ? "; the global router reads no load: it runs beside every partition, and "
                   "nothing is cut between pods"
                 : "");
  }
  /* What the run would need, from the cluster and one read of the workload; refused like run. */
  int ranks = 1;
  if (comm != MPI_COMM_NULL) /* check runs without MPI too */
    MPI_Comm_size(comm, &ranks);
  srv_estimate estimate;
  rc = srv_estimate_scenario(s, ranks, &estimate, rank == 0 ? stderr : NULL, err, sizeof err) != 0;
  if (!rc && rank == 0) /* --json keeps stdout one object */
    srv_estimate_print(&estimate, a.json ? stderr : stdout);
  rc = rc || srv_estimate_check(s, &estimate, a.max_memory_bytes, false, err, sizeof err) != 0;
  bool free_space = !a.max_timeline_bytes;
  uint64_t room = free_space ? srv_free_disk_bytes(s->output.path) : a.max_timeline_bytes;
  rc = rc || srv_estimate_check_timeline(s, &estimate, room, free_space, err, sizeof err) != 0;
  if (rc && rank == 0)
    fprintf(stderr, "windtunnel: %s\n", err);
  srv_scenario_free(s);
  return rc;
}

enum { PATH_BYTES = 4096 };

/* Whether the existing file out is input (the same device and inode: a link or another spelling
 * of the path is caught too). */
static bool same_file(const struct stat *out, const char *input) {
  struct stat in;
  return input && input[0] && stat(input, &in) == 0 && in.st_dev == out->st_dev &&
         in.st_ino == out->st_ino;
}

/* Refuses an existing output (what: "output", "checkpoint"), st its stat, that is one of the
 * run's inputs. */
static int refuse_input(const struct stat *st, const srv_scenario *s, const char *what,
                        const char *target, const char *option, char *err, size_t err_len) {
  const srv_workload *w = &s->workload; /* itself, or each of its streams */
  for (size_t k = 0; k < (w->stream_count ? w->stream_count : 1); k++) {
    const srv_workload *x = w->stream_count ? &w->streams[k] : w;
    const struct {
      const char *what, *path;
    } inputs[] = {{"scenario file", s->path},
                  {"trace", x->synthetic ? NULL : x->trace_path},
                  {"empirical length file", x->empirical_path}};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
      if (same_file(st, inputs[i].path))
        return util_err(err, err_len,
                        "%s '%s' is the run's %s ('%s'): refusing to overwrite an input; choose "
                        "another %s (%s)",
                        what, target, inputs[i].what, inputs[i].path, what, option);
  }
  return 0;
}

/* The folder that holds path: "." for a bare name. Returns 0, or -1 when it is too long. */
static int folder_of(const char *path, char *folder, size_t folder_len) {
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) : 0;
  if (n >= folder_len)
    return -1;
  if (!slash)
    snprintf(folder, folder_len, ".");
  else if (n == 0)
    snprintf(folder, folder_len, "/");
  else {
    memcpy(folder, path, n);
    folder[n] = '\0';
  }
  return 0;
}

/* Whether folder is one this process can make files in (what: "timeline", "checkpoint", written
 * at target there). */
static int writable_folder(const char *folder, const char *what, const char *target, char *err,
                           size_t err_len) {
  struct stat st;
  if (stat(folder, &st) != 0 || (S_ISDIR(st.st_mode) && access(folder, W_OK | X_OK) != 0))
    return util_err(err, err_len, "cannot write %s '%s': folder '%s': %s", what, target, folder,
                    strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return util_err(err, err_len, "cannot write %s '%s': '%s' is not a folder", what, target,
                    folder);
  return 0;
}

/* Whether the output would be written inside the checkpoint folder dir (which a checkpoint
 * replaces whole, and a restart reads). */
static bool output_inside(const char *output, const char *dir) {
  char folder[PATH_BYTES];
  struct stat st;
  return folder_of(output, folder, sizeof folder) == 0 && stat(folder, &st) == 0 &&
         same_file(&st, dir);
}

/* Rank 0, before anything runs: refuses a checkpoint folder that is an input, the output or holds
 * it, in a folder it cannot write, or something other than a checkpoint (which a checkpoint would
 * replace). */
static int prepare_checkpoint(const char *target, const char *output, const srv_scenario *s,
                              char *err, size_t err_len) {
  struct stat st;
  char folder[PATH_BYTES];
  if (strcmp(target, output) == 0 || output_inside(output, target))
    return util_err(err, err_len,
                    "--checkpoint '%s' is or holds the output '%s': give the folder another name",
                    target, output);
  if (folder_of(target, folder, sizeof folder) != 0 ||
      writable_folder(folder, "checkpoint", target, err, err_len) != 0)
    return -1;
  if (stat(target, &st) != 0)
    return 0;
  if (refuse_input(&st, s, "checkpoint", target, "--checkpoint", err, err_len) != 0)
    return -1;
  if (!srv_checkpoint_is_one(target))
    return util_err(err, err_len,
                    "--checkpoint '%s' exists and is not a checkpoint: refusing to replace it; "
                    "remove it or choose another folder",
                    target);
  return 0;
}

/* Rank 0, before anything runs: refuses an output path that is one of the run's inputs, a
 * directory, something other than a regular file, or in a folder it cannot write; and picks the
 * temporary name in the target's folder that the run writes (renamed over the target only when
 * the run has written it). Returns 0, or -1 with why in err. */
static int prepare_output(const char *target, const srv_scenario *s, char *tmp, size_t tmp_len,
                          char *err, size_t err_len) {
  struct stat st;
  if (!target[0])
    return util_err(err, err_len, "no output path: give -o FILE.h5 or output.path");
  if (stat(target, &st) == 0) {
    if (refuse_input(&st, s, "output", target, "-o", err, err_len) != 0)
      return -1;
    if (S_ISDIR(st.st_mode))
      return util_err(err, err_len, "output '%s' is a directory: give a file name (-o %s/run.h5)",
                      target, target);
    if (!S_ISREG(st.st_mode))
      return util_err(
          err, err_len,
          "output '%s' is not a regular file: the timeline is written beside it under a "
          "temporary name and renamed over it, which needs a file",
          target);
  } else if (errno != ENOENT)
    return util_err(err, err_len, "cannot use output '%s': %s", target, strerror(errno));
  char folder[PATH_BYTES];
  const char *slash = strrchr(target, '/'), *base = slash ? slash + 1 : target;
  if (!*base)
    return util_err(err, err_len, "output '%s' names a folder: give a file name", target);
  if (folder_of(target, folder, sizeof folder) != 0)
    return util_err(err, err_len, "output path too long: '%s'", target);
  if (writable_folder(folder, "timeline", target, err, err_len) != 0)
    return -1;
  int n = snprintf(tmp, tmp_len, "%s/.%s.partial-%ld", folder, base, (long)getpid());
  if (n < 0 || (size_t)n >= tmp_len)
    return util_err(err, err_len, "output path too long: '%s'", target);
  return 0;
}

/* Rewrites each mention of the temporary file in msg as the target the user named. */
static void name_target(char *msg, size_t msg_len, const char *tmp, const char *target) {
  char out[1024];
  size_t n = 0, tmp_len = strlen(tmp), target_len = strlen(target);
  for (const char *p = msg; *p && n + 1 < sizeof out;) {
    if (strncmp(p, tmp, tmp_len) == 0 && n + target_len + 1 < sizeof out) {
      memcpy(out + n, target, target_len);
      n += target_len;
      p += tmp_len;
    } else
      out[n++] = *p++;
  }
  out[n] = '\0';
  snprintf(msg, msg_len, "%s", out);
}

static const char *signal_name(int sig) {
  return sig == SIGTERM   ? "SIGTERM"
         : sig == SIGINT  ? "SIGINT"
         : sig == SIGUSR1 ? "SIGUSR1"
                          : "a signal";
}

/* Rank 0, after a run that wrote its timeline under tmp: the summary (added to the file), the
 * rename over target, and what is printed. Returns the exit status. */
static int finish_run(const run_args *a, const srv_result *res, const char *tmp, const char *target,
                      const char *checkpoint, double start_s) {
  srv_summary sum;
  char err[1024];
  if (srv_report_summarise_partial(tmp, &sum, err, sizeof err) != 0 ||
      srv_report_write_summary(tmp, &sum, err, sizeof err) != 0) {
    fprintf(stderr, "windtunnel: %s\n", err);
    unlink(tmp);
    return 1;
  }
  if (rename(tmp, target) != 0) {
    fprintf(stderr, "windtunnel: cannot rename the timeline '%s' to '%s': %s (it stays there)\n",
            tmp, target, strerror(errno));
    return 1;
  }
  if (a->json) {
    srv_report_print_json(&sum, true, stdout);
  } else {
    printf("timeline: %s\n", target);
    srv_report_print(&sum, stdout);
  }
  fflush(stdout);
  if (!res->stopped) {
    if (stop_signal)
      fprintf(stderr,
              "windtunnel: %s arrived after the simulation had ended; the timeline is "
              "complete\n",
              signal_name(stop_signal));
    return 0;
  }
  char why[64];
  if (res->stop_signal)
    snprintf(why, sizeof why, "%s", signal_name(res->stop_signal));
  else
    snprintf(why, sizeof why, "--max-wall %.0f s", a->max_wall_s);
  fprintf(stderr,
          "windtunnel: stopped by %s at simulated time %.3f s (end_reached_ns=%lld) after %.1f s "
          "of wall time; '%s' is a partial timeline (complete=0) of what was simulated until "
          "then\n",
          why, (double)res->end_reached_ns * 1e-9, (long long)res->end_reached_ns,
          MPI_Wtime() - start_s, target);
  if (res->checkpoints)
    fprintf(
        stderr,
        "windtunnel: checkpoint '%s' holds the run at simulated time %.3f s; continue it "
        "(at any number of ranks) with: windtunnel run --restart %s -o %s --checkpoint %s%s%s\n",
        checkpoint, (double)res->checkpoint_ns * 1e-9, checkpoint, target, checkpoint,
        a->checkpoint_every ? " --checkpoint-every " : "",
        a->checkpoint_every ? a->checkpoint_every : "");
  return res->stop_signal ? EXIT_STOPPED_SIGNAL + res->stop_signal : EXIT_STOPPED_MAX_WALL;
}

int app_run(int argc, char **argv, MPI_Comm comm) {
  double start_s = MPI_Wtime();
  int rank;
  MPI_Comm_rank(comm, &rank);
  catch_stop_signals(); /* from the start: a signal during set-up stops at the first window */
  run_args a = {0};
  srv_scenario *s;
  srv_checkpoint_header restart = {0};
  int rc = parse_and_load(argc, argv, rank, &a, &s, &restart);
  /* All ranks go on or none does: reading the same files can still fail on one rank alone (out of
   * memory there, or a checkpoint on a file system that rank does not share), and rank 0, which
   * alone prints a failure, must then say so. */
  int worst, failing = rc > 0 ? rank : INT_MAX, first;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, comm);
  MPI_Allreduce(&failing, &first, 1, MPI_INT, MPI_MIN, comm);
  if (worst > 0 && rc == 0) {
    if (rank == 0 && a.restart)
      fprintf(stderr,
              "windtunnel: rank %d could not read checkpoint '%s' (it must be on a file system "
              "every rank shares)\n",
              first, a.restart);
    else if (rank == 0)
      fprintf(stderr,
              "windtunnel: rank %d could not load the scenario and its workload where rank 0 did "
              "(out of memory there?)\n",
              first);
    srv_scenario_free(s);
    srv_checkpoint_header_free(&restart);
  }
  rc = worst > 0 ? worst : rc;
  if (rc)
    return rc < 0 ? 0 : rc;
  char err[1024] = "", tmp[PATH_BYTES] = "", checkpoint[PATH_BYTES] = "";
  char scenario_path[PATH_MAX]; /* absolute, for the checkpoint's header */
  const char *path = a.output ? a.output : s->output.path;
  if (a.checkpoint || a.checkpoint_every)
    snprintf(checkpoint, sizeof checkpoint, "%s%s", a.checkpoint ? a.checkpoint : path,
             a.checkpoint ? "" : ".ckpt");
  for (size_t n = strlen(checkpoint); n > 1 && checkpoint[n - 1] == '/';) /* dir/ is dir */
    checkpoint[--n] = '\0';
  int ok = 1;
  if (rank == 0 && a.restart && output_inside(path, a.restart)) {
    util_err(err, sizeof err,
             "output '%s' is inside the checkpoint '%s' that the run continues from: write it "
             "elsewhere (-o)",
             path, a.restart);
    ok = 0;
  }
  if (rank == 0 && ok)
    ok = prepare_output(path, s, tmp, sizeof tmp, err, sizeof err) == 0 &&
         (!checkpoint[0] || prepare_checkpoint(checkpoint, path, s, err, sizeof err) == 0);
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  if (!ok) {
    if (rank == 0)
      fprintf(stderr, "windtunnel: %s\n", err);
    srv_scenario_free(s);
    srv_checkpoint_header_free(&restart);
    return 1;
  }
  /* the checkpoint's scenario and overrides (a restart without them) or the command's */
  bool theirs = a.restart && !a.scenario && !a.set_count;
  MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, comm); /* every rank writes the name rank 0 picked */
  double left_s = a.max_wall_s - (MPI_Wtime() - start_s); /* rank 0's is the one that counts */
  srv_options opt = {.output_path = tmp,
                     .threads = a.threads,
                     .progress = !a.quiet && rank == 0,
                     .stats = a.stats,
                     .version = WT_VERSION,
                     .stop_flag = &stop_signal,
                     .max_memory_bytes = a.max_memory_bytes,
                     .max_timeline_bytes = a.max_timeline_bytes,
                     .max_wall_s = a.max_wall_s > 0 ? (left_s > 1e-9 ? left_s : 1e-9) : 0,
                     .checkpoint_path = checkpoint[0] ? checkpoint : NULL,
                     .checkpoint_every_ns = a.checkpoint_every_ns,
                     .checkpoint_every_wall_s = a.checkpoint_every_wall_s,
                     .scenario_path = realpath(s->path, scenario_path),
                     .sets = theirs ? (const char *const *)restart.sets : a.sets,
                     .set_count = theirs ? restart.set_count : a.set_count,
                     .restart_path = a.restart};
  if (rank == 0 && a.restart)
    fprintf(stderr,
            "windtunnel: continuing from checkpoint '%s' at simulated time %.3f s (written at %d "
            "rank(s) x %d thread(s))\n",
            a.restart, (double)restart.at_ns * 1e-9, restart.ranks, restart.threads);
  srv_result res;
  if (srv_run(s, &opt, comm, &res, err, sizeof err) != 0) {
    if (rank == 0) {
      unlink(tmp); /* an existing timeline at the target stays as it was */
      name_target(err, sizeof err, tmp, path);
      fprintf(stderr, "windtunnel: %s\n", err);
    }
    srv_scenario_free(s);
    srv_checkpoint_header_free(&restart);
    return 1;
  }
  rc = rank == 0 ? finish_run(&a, &res, tmp, path, checkpoint, start_s) : 0;
  MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
  srv_scenario_free(s);
  srv_checkpoint_header_free(&restart);
  return rc;
}
