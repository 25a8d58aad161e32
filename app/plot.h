/* Internal to `windtunnel plot` (app/plot.c drives; app/plot_timeline.c and app/plot_sweep.c draw):
 * the folder, the gnuplot script and the pictures being written, and the helpers both kinds of
 * picture share. */
#ifndef APP_PLOT_H
#define APP_PLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Where the pictures go and how they are drawn. */
typedef struct plot_job {
  const char *dir;
  const char *format;    /* png or svg */
  FILE *gp;              /* plots.gp */
  int64_t bin_ns;        /* width of the series computed here from /requests and /iterations */
  double time_scale;     /* ns per unit of the time axis */
  const char *time_unit; /* s, min or h */
  char outputs[16][64];  /* the pictures the script draws */
  int output_count;
  char err[1024];
} plot_job;


/* Creates job->dir (mkdir -p) and opens its plots.gp with a first line saying how it was drawn
 * from path. Returns 0, or -1 with a message in job->err. */
int plot_script_open(plot_job *job, const char *path);
/* Opens DIR/name for writing; NULL with a message in job->err. */
FILE *plot_data_file(plot_job *job, const char *name);
/* Closes a file of DIR; -1 with a message in job->err when it could not be written whole. */
int plot_data_close(plot_job *job, FILE *f, const char *name);
/* Starts the picture `name`.format in the script: the terminal, its size and the output file. */
void plot_begin_picture(plot_job *job, const char *name, int width, int height);
/* A gnuplot single-quoted string: quotes doubled. */
void plot_gp_string(FILE *gp, const char *s);

/* The pictures of a timeline (app/plot_timeline.c) or of a sweep's results file
 * (app/plot_sweep.c): each reads path, opens the script, writes its data files and pictures, and
 * closes the script. Return 0, or -1 with a message in job->err. */
int plot_timeline_pictures(plot_job *job, const char *path);
int plot_sweep_pictures(plot_job *job, const char *path);
/* Whether path is the results file of `windtunnel sweep` (root attribute schema
 * "windtunnel.sweep"). */
bool plot_is_sweep_results(const char *path);

#endif
