/* A design study (`windtunnel sweep`): a base scenario and axes over its keys (the paths of --set),
 * expanded into configurations, each a list of "key=value" overrides; the settings of a search per
 * configuration (max_rate, min_count); and the objectives whose Pareto front the results mark.
 * Reading, expansion and the front: running them is app/sweep.c's. */
#ifndef SRV_STUDY_H
#define SRV_STUDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum srv_study_mode {
  SRV_STUDY_GRID,      /* one run per configuration */
  SRV_STUDY_MAX_RATE,  /* per configuration, a bisection for the highest value of search.key that
                          passes (a rate: passing gets harder as it rises) */
  SRV_STUDY_MIN_COUNT, /* per configuration, a bisection for the lowest whole value of search.key
                          that passes (a count: passing gets easier as it rises) */
} srv_study_mode;

enum { SRV_STUDY_MAX_LIMITS = 8, SRV_STUDY_MAX_OBJECTIVES = 8, SRV_STUDY_MAX_SEARCH_KEYS = 4 };

/* A search's bound on a summary figure (serving/metrics.h): a run passes when value <= max. */
typedef struct srv_study_limit {
  char metric[64];
  double max;
} srv_study_limit;

/* One objective of the Pareto front: a summary figure, or a search's result column (max_rate,
 * min_count), or goodput_share; minimised unless maximise. */
typedef struct srv_study_objective {
  char column[64];
  bool maximise;
} srv_study_objective;

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
  /* The search of mode max_rate or min_count (its section has the mode's name). */
  struct {
    /* The keys bisected, all set to the value tried (a count and the nodes that hold it, say):
     * workload.rate_scale by default for max_rate. keys[0] names the search in messages. */
    char keys[SRV_STUDY_MAX_SEARCH_KEYS][256];
    size_t key_count;
    double low, high;     /* bounds of the bisection */
    double tolerance;     /* stops when high - low <= tolerance (min_count: 1) */
    double goodput_share; /* a run passes when requests meeting the SLOs / all >= this (0: no
                             such test, when only limits are given) */
    srv_study_limit limits[SRV_STUDY_MAX_LIMITS]; /* and when every figure is within its limit */
    size_t limit_count;
  } search;
  srv_study_objective objectives[SRV_STUDY_MAX_OBJECTIVES];
  size_t objective_count;
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

/* The name of a search mode's result column and section: "max_rate", "min_count"; NULL for grid. */
const char *srv_study_search_name(srv_study_mode mode);

/* The Pareto front of n points with k objectives each (values[i * k + j]; maximise[j] says which
 * way objective j is better): front[i] is set when point i is eligible, has no NaN, and no other
 * such point is at least as good in every objective and better in one. Points equal in every
 * objective are all on the front. */
void srv_study_pareto(const double *values, size_t n, size_t k, const bool *maximise,
                      const bool *eligible, bool *front);

#endif
