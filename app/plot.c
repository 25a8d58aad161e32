/* `windtunnel plot`: pictures of a timeline (app/plot_timeline.c), or of a sweep's results file
 * (app/plot_sweep.c: the headline metrics against the swept key), drawn by gnuplot. Writes the
 * series as data files and one gnuplot script (plots.gp) into a folder, then runs gnuplot there,
 * so the user can edit the script and draw again without Windtunnel. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np */
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "app/commands.h"
#include "app/plot.h"

extern char **environ;

static void plot_usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel plot FILE.h5 [-o DIR] [--format png|svg] [--gnuplot PROGRAM]\n"
          "Draws the timeline with gnuplot into DIR (default: FILE-plots): latency CDFs with\n"
          "the SLOs, requests/s and tokens/s, queue and running requests, per-instance\n"
          "utilisation and KV use heatmaps, power per rack and site with budgets, and for\n"
          "disaggregated runs KV-transfer times and link utilisation. DIR keeps the data\n"
          "files and plots.gp: edit it and run 'gnuplot plots.gp' in DIR to draw again.\n"
          "Given the results file of 'windtunnel sweep', draws the headline metrics against\n"
          "the swept key instead: goodput, share of requests meeting the SLOs, TTFT and TPOT\n"
          "p99 with the SLOs, output tokens/s, energy per output token and, for max_rate\n"
          "studies, the highest passing rate. The first numeric axis is on x (a text axis as\n"
          "tick labels when none is), one line per value of the other axes; failed\n"
          "configurations are left out, with a note on stderr. DIR also gets study.yaml and\n"
          "results.csv (as 'sweep --csv' prints it, without wall_s).\n"
          "  -o, --output DIR     the folder (created if missing)\n"
          "  --format png|svg     picture format (default png)\n"
          "  --gnuplot PROGRAM    the gnuplot to run (default: $WT_GNUPLOT, else gnuplot)\n"
          "  -h, --help           this help\n");
}


FILE *plot_data_file(plot_job *job, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", job->dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    snprintf(job->err, sizeof job->err, "cannot write %.900s: %s", path, strerror(errno));
  return f;
}

int plot_data_close(plot_job *job, FILE *f, const char *name) {
  if (ferror(f) | (fclose(f) != 0)) {
    snprintf(job->err, sizeof job->err, "cannot write %.900s/%s", job->dir, name);
    return -1;
  }
  return 0;
}

void plot_begin_picture(plot_job *job, const char *name, int width, int height) {
  snprintf(job->outputs[job->output_count++], sizeof job->outputs[0], "%s.%s", name, job->format);
  fprintf(job->gp, "\n# --- %s\nreset\n", name);
  if (strcmp(job->format, "svg") == 0)
    fprintf(job->gp,
            "set terminal svg size %d,%d dynamic noenhanced font 'sans,11' background 'white'\n",
            width, height);
  else
    fprintf(job->gp, "set terminal pngcairo size %d,%d noenhanced font 'sans,10'\n", width, height);
  fprintf(job->gp, "set output '%s.%s'\nset grid lc rgb '#dddddd'\nset border lc rgb '#555555'\n",
          name, job->format);
}

void plot_gp_string(FILE *gp, const char *s) {
  fputc('\'', gp);
  for (; *s; s++) {
    if (*s == '\'')
      fputc('\'', gp);
    if (*s != '\n')
      fputc(*s, gp);
  }
  fputc('\'', gp);
}

/* mkdir -p. Returns 0, or -1 with a message. */
static int make_dir(const char *dir, char *err, size_t err_len) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
    snprintf(err, err_len, "output folder name too long");
    return -1;
  }
  for (char *p = path + 1;; p++) {
    bool last = *p == '\0';
    if (*p == '/' || last) {
      *p = '\0';
      if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create %.900s: %s", path, strerror(errno));
        return -1;
      }
      if (last)
        break;
      *p = '/';
    }
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    snprintf(err, err_len, "%.900s is not a folder", dir);
    return -1;
  }
  return 0;
}

/* Runs `gnuplot plots.gp` in dir. Returns 0, or -1 with a message. */
static int run_gnuplot(const char *gnuplot, const char *dir, char *err, size_t err_len) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir);
  char *argv[] = {(char *)gnuplot, "plots.gp", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, gnuplot, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    snprintf(err, err_len,
             "cannot run %.300s: %s; install gnuplot (Debian: apt-get install gnuplot-nox) or "
             "name one with --gnuplot; the data and plots.gp are in %.300s",
             gnuplot, strerror(rc), dir);
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(err, err_len, "waiting for %.300s: %s", gnuplot, strerror(errno));
      return -1;
    }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    snprintf(err, err_len,
             "cannot run %.300s (not found); install gnuplot (Debian: apt-get install "
             "gnuplot-nox) or name one with --gnuplot; the data and plots.gp are in %.300s",
             gnuplot, dir);
    return -1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(err, err_len, "%.300s failed on %.300s/plots.gp (exit status %d)", gnuplot, dir,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
  }
  return 0;
}

int plot_script_open(plot_job *job, const char *path) {
  if (make_dir(job->dir, job->err, sizeof job->err) != 0 ||
      !(job->gp = plot_data_file(job, "plots.gp")))
    return -1;
  fprintf(job->gp, "# Drawn by 'windtunnel plot %s'; run 'gnuplot plots.gp' here to draw again.\n",
          path);
  return 0;
}

/* Runs gnuplot on DIR/plots.gp and prints each picture's path; a picture missing or empty is an
 * error. */
static int draw(plot_job *job, const char *gnuplot) {
  if (run_gnuplot(gnuplot, job->dir, job->err, sizeof job->err) != 0)
    return -1;
  for (int i = 0; i < job->output_count; i++) {
    char file[4200];
    struct stat st;
    snprintf(file, sizeof file, "%s/%s", job->dir, job->outputs[i]);
    if (stat(file, &st) != 0 || st.st_size == 0) {
      snprintf(job->err, sizeof job->err, "gnuplot did not draw %.900s (see its messages above)",
               file);
      return -1;
    }
    printf("%s\n", file);
  }
  return 0;
}

int app_plot(int argc, char **argv) {
  static const struct option options[] = {{"output", required_argument, 0, 'o'},
                                          {"format", required_argument, 0, 'f'},
                                          {"gnuplot", required_argument, 0, 'g'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
  const char *dir = NULL, *format = "png", *gnuplot = getenv("WT_GNUPLOT");
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o': dir = optarg; break;
    case 'f': format = optarg; break;
    case 'g': gnuplot = optarg; break;
    case 'h': plot_usage(stdout); return 0;
    default:
      fprintf(stderr, "windtunnel plot: %s '%s'; see 'windtunnel plot --help'\n",
              optopt ? "missing value for" : "unknown option", argv[optind - 1]);
      return 2;
    }
  }
  if (strcmp(format, "png") != 0 && strcmp(format, "svg") != 0) {
    fprintf(stderr, "windtunnel plot: --format is png or svg, not '%s'\n", format);
    return 2;
  }
  if (optind + 1 != argc) {
    fprintf(stderr, optind < argc ? "windtunnel plot: one timeline at a time\n"
                                  : "windtunnel plot: which timeline? usage: windtunnel plot "
                                    "FILE.h5 [-o DIR]\n");
    return 2;
  }
  const char *path = argv[optind];
  char default_dir[4096];
  if (!dir) {
    size_t len = strlen(path);
    if (len > 3 && strcmp(path + len - 3, ".h5") == 0)
      len -= 3;
    snprintf(default_dir, sizeof default_dir, "%.*s-plots", (int)len, path);
    dir = default_dir;
  }
  if (!gnuplot || !*gnuplot)
    gnuplot = "gnuplot";
  plot_job job = {.dir = dir, .format = format};
  int rc = plot_is_sweep_results(path) ? plot_sweep_pictures(&job, path)
                                       : plot_timeline_pictures(&job, path);
  if (rc == 0)
    rc = draw(&job, gnuplot);
  if (rc)
    fprintf(stderr, "windtunnel plot: %s\n", job.err);
  return rc ? 1 : 0;
}
