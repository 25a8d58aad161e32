/* A design study (`windtunnel sweep`): a base scenario and axes over its keys (the paths of --set),
 * expanded into configurations, each a list of "key=value" overrides; and the max_rate search's
 * settings. Reading and expansion only: running them is app/sweep.c's. */
#ifndef SRV_STUDY_H
#define SRV_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum srv_study_mode {
  SRV_STUDY_GRID,     /* one run per configuration */
  SRV_STUDY_MAX_RATE, /* per configuration, a bisection for the highest rate meeting the SLOs */
} srv_study_mode;

/* One axis value of a configuration: the key (a --set path) and its value's text. */
typedef struct srv_study_value {
  const char *key, *value; /* owned by the study */
} srv_study_value;

typedef struct srv_study_config {
  srv_study_value *values; /* one per study key, in the order of srv_study.keys */
  const char **sets;       /* the study's fixed sets, then "key=value" of each value; owned */
  size_t set_count;
  char *label; /* "key=value, key=value": what identifies it in the results file */
} srv_study_config;

typedef struct srv_study {
  char base_path[1024]; /* the base scenario, relative to the study's folder resolved; "" for the
                           built-in default */
  srv_study_mode mode;
  struct {
    char key[256];        /* the key bisected, workload.rate_scale by default */
    double low, high;     /* bounds of the bisection */
    double tolerance;     /* stops when high - low <= tolerance */
    double goodput_share; /* a rate passes when requests meeting the SLOs / all >= this */
  } max_rate;
  const char **keys; /* every axis key, in the order first written; owned */
  size_t key_count;
  bool *key_numeric; /* whether every value of the key reads as a plain number */
  srv_study_config *configs;
  size_t config_count;
  char *text; /* the study file's text, for the results file; owned */
} srv_study;

/* Reads the study at path and expands its axes. Returns 0, or negative with
 * "file:line:col: key.path: what was expected" in err. *out is the caller's (srv_study_free). */
int srv_study_load(const char *path, srv_study **out, char *err, size_t err_len);
void srv_study_free(srv_study *st);

#endif
