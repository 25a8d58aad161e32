/* The measured runs `windtunnel validate` replays: building cases, the workloads given only by
 * distribution, and the flat JSON reader of bench_serving results. */
#define _POSIX_C_SOURCE 200809L
#include "calib/validate_case.h"

#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

val_case *val_case_new(val_cases *cases, const char *dataset, const char *name) {
  val_case *grown = util_grow(cases->c, &cases->cap, cases->n + 1, sizeof *grown);
  if (!grown)
    return NULL;
  cases->c = grown;
  val_case *c = &cases->c[cases->n++];
  memset(c, 0, sizeof *c);
  snprintf(c->dataset, sizeof c->dataset, "%s", dataset);
  snprintf(c->name, sizeof c->name, "%s", name);
  c->tp = c->pp = c->count = 1;
  c->chunked_prefill = -1;
  return c;
}

int val_case_request(val_case *c, int64_t arrival_ns, int32_t input_tokens, int32_t output_tokens) {
  val_request *grown = util_grow(c->req, &c->cap_req, c->n_req + 1, sizeof *grown);
  if (!grown)
    return -1;
  c->req = grown;
  c->req[c->n_req++] = (val_request){arrival_ns, input_tokens, output_tokens, {NAN, NAN, NAN}};
  return 0;
}

void val_case_metric(val_case *c, const char *name, double measured) {
  if (c->n_metric == VAL_MAX_METRICS || !isfinite(measured) || measured <= 0.0)
    return; /* a figure the run does not give (empty, zero) is not compared */
  val_metric *m = &c->metric[c->n_metric++];
  snprintf(m->name, sizeof m->name, "%s", name);
  m->measured = measured;
  m->predicted = NAN;
}

void val_case_skip(val_case *c, const char *fmt, ...) {
  if (c->skip[0])
    return; /* the first reason stands */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->skip, sizeof c->skip, fmt, ap);
  va_end(ap);
}

void val_case_note(val_case *c, const char *fmt, ...) {
  size_t len = strlen(c->note);
  if (len && len + 2 < sizeof c->note)
    len += (size_t)snprintf(c->note + len, sizeof c->note - len, "; ");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->note + len, sizeof c->note - len, fmt, ap);
  va_end(ap);
}

void val_cases_free(val_cases *cases) {
  for (size_t i = 0; i < cases->n; i++)
    free(cases->c[i].req);
  free(cases->c);
  *cases = (val_cases){0};
}

bool val_filter_case(const val_filter *f, const char *name) {
  return !f->case_pattern || fnmatch(f->case_pattern, name, 0) == 0;
}

double val_rng_uniform(val_rng *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL); /* splitmix64 (Steele et al., 2014) */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return ((double)(z >> 11) + 0.5) / 9007199254740992.0; /* 2^53 */
}

int val_case_poisson(val_case *c, double rate_per_s, size_t n, val_rng *rng,
                     void (*lengths)(size_t i, val_rng *rng, void *ctx, int32_t *in, int32_t *out),
                     void *ctx) {
  double t_s = 0.0;
  bool offline = !(rate_per_s > 0.0) || isinf(rate_per_s);
  for (size_t i = 0; i < n; i++) {
    int32_t in, out;
    lengths(i, rng, ctx, &in, &out);
    if (!offline && i > 0)
      t_s += -log(val_rng_uniform(rng)) / rate_per_s;
    if (val_case_request(c, (int64_t)llround(t_s * 1e9), in, out) != 0)
      return -1;
  }
  return 0;
}

/* ---- the flat JSON reader ---- */

typedef struct json_parser {
  const char *s, *end;
  const char *path;
  long line;
  char *err;
  size_t err_len;
} json_parser;

static int json_fail(json_parser *p, const char *what) {
  snprintf(p->err, p->err_len, "%s:%ld: %s", p->path, p->line, what);
  return -1;
}

static void json_space(json_parser *p) {
  while (p->s < p->end && isspace((unsigned char)*p->s))
    p->line += *p->s++ == '\n';
}

/* A string into a malloc'd copy (escapes kept as the letter after the backslash: the keys and
 * values validate reads are plain). */
static int json_string(json_parser *p, char **out) {
  if (p->s >= p->end || *p->s != '"')
    return json_fail(p, "expected a string");
  const char *start = ++p->s;
  size_t n = 0;
  for (const char *q = start; q < p->end && *q != '"'; q++, n++)
    if (*q == '\\')
      q++;
  char *copy = malloc(n + 1);
  if (!copy)
    return json_fail(p, "out of memory");
  size_t k = 0;
  while (p->s < p->end && *p->s != '"') {
    if (*p->s == '\\')
      p->s++;
    if (p->s < p->end)
      copy[k++] = *p->s++;
  }
  copy[k] = 0;
  if (p->s >= p->end) {
    free(copy);
    return json_fail(p, "a string that never ends");
  }
  p->s++;
  *out = copy;
  return 0;
}

static int json_number(json_parser *p, double *out) {
  char *endp;
  *out = strtod(p->s, &endp);
  if (endp == p->s)
    return json_fail(p, "expected a value");
  p->s = endp;
  return 0;
}

/* Skips any value (objects and arrays nested to any depth). */
static int json_skip(json_parser *p) {
  json_space(p);
  if (p->s >= p->end)
    return json_fail(p, "expected a value");
  if (*p->s == '"') {
    char *s;
    if (json_string(p, &s) != 0)
      return -1;
    free(s);
    return 0;
  }
  if (*p->s == '{' || *p->s == '[') {
    char close = *p->s == '{' ? '}' : ']';
    p->s++;
    json_space(p);
    if (p->s < p->end && *p->s == close)
      return p->s++, 0;
    for (;;) {
      if (close == '}') {
        char *k;
        json_space(p);
        if (json_string(p, &k) != 0)
          return -1;
        free(k);
        json_space(p);
        if (p->s >= p->end || *p->s++ != ':')
          return json_fail(p, "expected ':'");
      }
      if (json_skip(p) != 0)
        return -1;
      json_space(p);
      if (p->s < p->end && *p->s == ',') {
        p->s++;
        continue;
      }
      if (p->s < p->end && *p->s == close)
        return p->s++, 0;
      return json_fail(p, "expected ',' or the end of an object or array");
    }
  }
  if (!strncmp(p->s, "null", 4) || !strncmp(p->s, "true", 4))
    return p->s += 4, 0;
  if (!strncmp(p->s, "false", 5))
    return p->s += 5, 0;
  if (!strncmp(p->s, "NaN", 3))
    return p->s += 3, 0;
  double x;
  return json_number(p, &x);
}

/* An array of numbers (null items become NAN) into m; another array is skipped (kind OTHER). */
static int json_array(json_parser *p, val_json_member *m) {
  const char *start = p->s;
  long line = p->line;
  size_t cap = 0;
  p->s++;
  m->kind = VAL_JSON_ARRAY;
  for (;;) {
    json_space(p);
    if (p->s < p->end && *p->s == ']' && m->array_n == 0)
      return p->s++, 0;
    double x;
    if (p->s < p->end && !strncmp(p->s, "null", 4)) {
      p->s += 4;
      x = NAN;
    } else if (p->s < p->end && (*p->s == '-' || isdigit((unsigned char)*p->s))) {
      if (json_number(p, &x) != 0)
        return -1;
    } else { /* not numbers: skip the whole array */
      free(m->array);
      m->array = NULL;
      m->array_n = 0;
      m->kind = VAL_JSON_OTHER;
      p->s = start;
      p->line = line;
      return json_skip(p);
    }
    double *grown = util_grow(m->array, &cap, m->array_n + 1, sizeof *grown);
    if (!grown)
      return json_fail(p, "out of memory");
    m->array = grown;
    m->array[m->array_n++] = x;
    json_space(p);
    if (p->s < p->end && *p->s == ',') {
      p->s++;
      continue;
    }
    if (p->s < p->end && *p->s == ']')
      return p->s++, 0;
    return json_fail(p, "expected ',' or ']' in an array");
  }
}

static int json_object(json_parser *p, val_json_object *o) {
  p->s++; /* '{' */
  json_space(p);
  if (p->s < p->end && *p->s == '}')
    return p->s++, 0;
  for (;;) {
    json_space(p);
    val_json_member *grown = util_grow(o->m, &o->cap, o->n + 1, sizeof *grown);
    if (!grown)
      return json_fail(p, "out of memory");
    o->m = grown;
    val_json_member *m = &o->m[o->n];
    memset(m, 0, sizeof *m);
    if (json_string(p, &m->key) != 0)
      return -1;
    o->n++;
    json_space(p);
    if (p->s >= p->end || *p->s++ != ':')
      return json_fail(p, "expected ':' after a key");
    json_space(p);
    if (p->s >= p->end)
      return json_fail(p, "expected a value");
    if (*p->s == '"') {
      m->kind = VAL_JSON_STRING;
      if (json_string(p, &m->string) != 0)
        return -1;
    } else if (*p->s == '[') {
      if (json_array(p, m) != 0)
        return -1;
    } else if (*p->s == '-' || isdigit((unsigned char)*p->s)) {
      m->kind = VAL_JSON_NUMBER;
      if (json_number(p, &m->number) != 0)
        return -1;
    } else if (!strncmp(p->s, "Infinity", 8)) { /* Python's json writes float("inf") so */
      m->kind = VAL_JSON_NUMBER;
      m->number = INFINITY;
      p->s += 8;
    } else {
      m->kind = VAL_JSON_OTHER;
      if (json_skip(p) != 0)
        return -1;
    }
    json_space(p);
    if (p->s < p->end && *p->s == ',') {
      p->s++;
      continue;
    }
    if (p->s < p->end && *p->s == '}')
      return p->s++, 0;
    return json_fail(p, "expected ',' or '}' in an object");
  }
}

int val_json_read(const char *path, val_json_object **objs, size_t *n, char *err, size_t err_len) {
  *objs = NULL;
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: cannot open", path);
    return -1;
  }
  size_t cap_text = 0, len = 0;
  char *text = NULL;
  for (;;) {
    char *grown = util_grow(text, &cap_text, len + 65536, 1);
    if (!grown) {
      free(text);
      fclose(f);
      snprintf(err, err_len, "%s: out of memory", path);
      return -1;
    }
    text = grown;
    size_t got = fread(text + len, 1, 65536, f);
    len += got;
    if (got < 65536)
      break;
  }
  fclose(f);
  json_parser p = {text, text + len, path, 1, err, err_len};
  size_t cap = 0;
  int rc = 0;
  for (;;) {
    json_space(&p);
    if (p.s >= p.end)
      break;
    if (*p.s != '{') {
      rc = json_fail(&p, "expected a JSON object");
      break;
    }
    val_json_object *grown = util_grow(*objs, &cap, *n + 1, sizeof *grown);
    if (!grown) {
      rc = json_fail(&p, "out of memory");
      break;
    }
    *objs = grown;
    (*objs)[*n] = (val_json_object){0};
    (*n)++;
    if ((rc = json_object(&p, &(*objs)[*n - 1])) != 0)
      break;
  }
  free(text);
  if (rc != 0) {
    val_json_free(*objs, *n);
    *objs = NULL;
    *n = 0;
  }
  return rc;
}

void val_json_free(val_json_object *objs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < objs[i].n; k++) {
      free(objs[i].m[k].key);
      free(objs[i].m[k].string);
      free(objs[i].m[k].array);
    }
    free(objs[i].m);
  }
  free(objs);
}

const val_json_member *val_json_get(const val_json_object *o, const char *key) {
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->m[i].key, key))
      return &o->m[i];
  return NULL;
}

double val_json_number(const val_json_object *o, const char *key) {
  const val_json_member *m = val_json_get(o, key);
  return m && m->kind == VAL_JSON_NUMBER ? m->number : NAN;
}
