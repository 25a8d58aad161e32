/* The results of `windtunnel sweep`: the table's layout from the study, the rows rank 0 holds,
 * the Pareto front of their objectives, and the HDF5 results file, written whole after every row,
 * read back so that a rerun skips what is done, and printed as CSV. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/commands.h"
#include "app/sweep_private.h"
#include "io/timeline.h"
#include "serving/metrics.h"
#include "serving/study.h"

static size_t add_field(sweep_layout *l, size_t *at, const char *name, io_field_type type,
                        size_t string_bytes) {
  size_t offset = *at;
  l->fields[l->def.field_count++] = (io_field){name, offset, type, string_bytes};
  *at += type == IO_FIELD_STRING ? string_bytes : 8;
  return offset;
}

int sweep_make_layout(const srv_study *st, sweep_layout *l, char *err, size_t err_len) {
  memset(l, 0, sizeof *l);
  if (st->key_count + srv_metric_count + 16 > SWEEP_MAX_FIELDS || srv_metric_count > METRIC_MAX) {
    snprintf(err, err_len, "a study has at most %d axis keys",
             (int)(SWEEP_MAX_FIELDS - srv_metric_count - 16));
    return -1;
  }
  size_t at = 0;
  l->index_at = add_field(l, &at, "index", IO_FIELD_UINT64, 0);
  for (size_t k = 0; k < st->key_count; k++)
    if (st->key_numeric[k])
      l->key_at[k] = add_field(l, &at, st->keys[k], IO_FIELD_DOUBLE, 0);
  const char *search = srv_study_search_name(st->mode);
  if (search) {
    snprintf(l->found_name, sizeof l->found_name, "%s", search);
    snprintf(l->fail_name, sizeof l->fail_name, "%s_%s_failing", search,
             st->mode == SRV_STUDY_MAX_RATE ? "lowest" : "highest");
    snprintf(l->note_name, sizeof l->note_name, "%s_note", search);
    l->found_at = add_field(l, &at, l->found_name, IO_FIELD_DOUBLE, 0);
    l->fail_at = add_field(l, &at, l->fail_name, IO_FIELD_DOUBLE, 0);
    l->runs_at = add_field(l, &at, "runs", IO_FIELD_UINT64, 0);
  }
  if (st->objective_count)
    l->pareto_at = add_field(l, &at, "pareto", IO_FIELD_UINT64, 0);
  for (size_t m = 0; m < srv_metric_count; m++)
    l->metric_at[m] = add_field(
        l, &at, srv_metrics[m].name,
        srv_metrics[m].type == SRV_METRIC_DOUBLE ? IO_FIELD_DOUBLE : IO_FIELD_UINT64, 0);
  l->share_at = add_field(l, &at, "goodput_share", IO_FIELD_DOUBLE, 0);
  l->wall_at = add_field(l, &at, "wall_s", IO_FIELD_DOUBLE, 0);
  for (size_t k = 0; k < st->key_count; k++)
    if (!st->key_numeric[k])
      l->key_at[k] = add_field(l, &at, st->keys[k], IO_FIELD_STRING, SWEEP_VALUE_BYTES);
  l->label_at = add_field(l, &at, "config", IO_FIELD_STRING, SWEEP_LABEL_BYTES);
  l->status_at = add_field(l, &at, "status", IO_FIELD_STRING, SWEEP_STATUS_BYTES);
  l->error_at = add_field(l, &at, "error", IO_FIELD_STRING, SWEEP_ERROR_BYTES);
  if (search)
    l->note_at = add_field(l, &at, l->note_name, IO_FIELD_STRING, SWEEP_NOTE_BYTES);
  l->def = (io_table_def){.name = "configurations",
                          .row_bytes = (at + 7) / 8 * 8,
                          .fields = l->fields,
                          .field_count = l->def.field_count};
  return 0;
}

int sweep_rows_add(sweep_rows *r, const char *row) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    char *grown = realloc(r->rows, cap * r->row_bytes);
    if (!grown)
      return -1;
    r->rows = grown;
    r->cap = cap;
  }
  memcpy(r->rows + r->count++ * r->row_bytes, row, r->row_bytes);
  return 0;
}

/* qsort has no context argument: rows sort by their index, the first 8 bytes (index_at is 0). */
static int cmp_rows(const void *a, const void *b) {
  uint64_t x = get_u64(a, 0), y = get_u64(b, 0);
  return (x > y) - (x < y);
}

/* A number of the row by its column's name (8-byte columns only); NaN when there is no such. */
static double row_value(const sweep_layout *l, const char *row, const char *column) {
  for (size_t f = 0; f < l->def.field_count; f++) {
    const io_field *fd = &l->fields[f];
    if (strcmp(fd->name, column) != 0)
      continue;
    if (fd->type == IO_FIELD_UINT64)
      return (double)get_u64(row, fd->offset);
    double v;
    memcpy(&v, row + fd->offset, sizeof v);
    return fd->type == IO_FIELD_DOUBLE ? v : NAN;
  }
  return NAN;
}

/* Sets the pareto column of the rows (when the study has objectives): 1 on the front of the rows
 * that ran. Returns 0, or -1 when out of memory. */
static int mark_pareto(const sweep *sw, sweep_rows *r) {
  const srv_study *st = sw->st;
  const sweep_layout *l = &sw->layout;
  size_t n = r->count, k = st->objective_count;
  if (k == 0 || n == 0)
    return 0;
  double *values = malloc(n * k * sizeof *values);
  bool *eligible = malloc(n), *front = malloc(n), maximise[SRV_STUDY_MAX_OBJECTIVES];
  if (!values || !eligible || !front) {
    free(values);
    free(eligible);
    free(front);
    return -1;
  }
  for (size_t j = 0; j < k; j++)
    maximise[j] = st->objectives[j].maximise;
  for (size_t i = 0; i < n; i++) {
    const char *row = r->rows + i * r->row_bytes;
    eligible[i] = strcmp(row + l->status_at, "ok") == 0;
    for (size_t j = 0; j < k; j++)
      values[i * k + j] = row_value(l, row, st->objectives[j].column);
  }
  srv_study_pareto(values, n, k, maximise, eligible, front);
  for (size_t i = 0; i < n; i++)
    put_u64(r->rows + i * r->row_bytes, l->pareto_at, front[i]);
  free(values);
  free(eligible);
  free(front);
  return 0;
}

void sweep_print_pareto(const sweep *sw, const sweep_rows *r, FILE *out) {
  const srv_study *st = sw->st;
  const sweep_layout *l = &sw->layout;
  size_t on = 0;
  for (size_t i = 0; i < r->count; i++)
    on += get_u64(r->rows + i * r->row_bytes, l->pareto_at) != 0;
  fprintf(out, "pareto: %zu of %zu configurations on the front of", on, r->count);
  for (size_t j = 0; j < st->objective_count; j++)
    fprintf(out, "%s %s %s", j ? "," : "", st->objectives[j].maximise ? "max" : "min",
            st->objectives[j].column);
  fputc('\n', out);
  for (size_t i = 0; i < r->count; i++) {
    const char *row = r->rows + i * r->row_bytes;
    if (!get_u64(row, l->pareto_at))
      continue;
    fprintf(out, "  [%llu] %s:", (unsigned long long)get_u64(row, l->index_at), row + l->label_at);
    for (size_t j = 0; j < st->objective_count; j++)
      fprintf(out, "%s %s=%.6g", j ? "," : "", st->objectives[j].column,
              row_value(l, row, st->objectives[j].column));
    fputc('\n', out);
  }
}

int sweep_write_results(const sweep *sw, sweep_rows *r, char *err, size_t err_len) {
  if (r->count > 1)
    qsort(r->rows, r->count, r->row_bytes, cmp_rows);
  if (mark_pareto(sw, r) != 0) {
    snprintf(err, err_len, "out of memory for the Pareto front of %s", sw->args->output);
    return -1;
  }
  const char *search = srv_study_search_name(sw->st->mode);
  char tmp[1280];
  snprintf(tmp, sizeof tmp, "%s.tmp", sw->args->output);
  io_timeline_options opt = {.schema = "windtunnel.sweep",
                             .schema_version = SWEEP_SCHEMA_VERSION,
                             .program_version = WT_VERSION};
  io_timeline *tl = io_timeline_create(tmp, &opt, MPI_COMM_SELF, err, err_len);
  if (!tl)
    return -1;
  int table = io_timeline_add_table(tl, &sw->layout.def, err, err_len);
  int rc = table < 0 ? -1 : 0;
  const srv_study *st = sw->st;
  if (rc == 0)
    rc = io_timeline_attr_string(tl, "study", st->text, err, err_len) ||
         io_timeline_attr_string(tl, "base", *st->base_path ? st->base_path : "(built-in default)",
                                 err, err_len) ||
         io_timeline_attr_string(tl, "mode", search ? search : "grid", err, err_len) ||
         io_timeline_attr_int64(tl, "configurations", (int64_t)st->config_count, err, err_len);
  if (rc == 0 && search) {
    char name[64], limits[SRV_STUDY_MAX_LIMITS * 96] = "";
    for (size_t i = 0; i < st->search.limit_count; i++)
      snprintf(limits + strlen(limits), sizeof limits - strlen(limits), "%s%s<=%.17g",
               i ? ", " : "", st->search.limits[i].metric, st->search.limits[i].max);
#define SEARCH_ATTR(suffix) (snprintf(name, sizeof name, "%s_%s", search, suffix), name)
    char keys[SRV_STUDY_MAX_SEARCH_KEYS * 258] = "";
    for (size_t k = 0; k < st->search.key_count; k++)
      snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? ", " : "",
               st->search.keys[k]);
    rc = io_timeline_attr_string(tl, SEARCH_ATTR("key"), keys, err, err_len) ||
         io_timeline_attr_double(tl, SEARCH_ATTR("goodput_share"), st->search.goodput_share, err,
                                 err_len) ||
         io_timeline_attr_double(tl, SEARCH_ATTR("tolerance"), st->search.tolerance, err,
                                 err_len) ||
         io_timeline_attr_string(tl, SEARCH_ATTR("limits"), limits, err, err_len);
#undef SEARCH_ATTR
  }
  if (rc == 0 && st->objective_count) {
    char objectives[SRV_STUDY_MAX_OBJECTIVES * 80] = "";
    for (size_t j = 0; j < st->objective_count; j++)
      snprintf(objectives + strlen(objectives), sizeof objectives - strlen(objectives),
               "%s%s %s", j ? ", " : "", st->objectives[j].maximise ? "max" : "min",
               st->objectives[j].column);
    rc = io_timeline_attr_string(tl, "objectives", objectives, err, err_len);
  }
  for (size_t i = 0; rc == 0 && i < r->count; i++)
    if (io_timeline_append(tl, table, 0, r->rows + i * r->row_bytes) != 0) {
      snprintf(err, err_len, "out of memory writing %s", sw->args->output);
      rc = -1;
    }
  if (rc != 0) {
    io_timeline_abort(tl);
    remove(tmp);
    return -1;
  }
  if (io_timeline_close(tl, err, err_len) != 0) {
    remove(tmp);
    return -1;
  }
  if (rename(tmp, sw->args->output) != 0) {
    snprintf(err, err_len, "cannot replace %s: %s", sw->args->output, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

int sweep_read_done(const sweep *sw, sweep_rows *kept, bool *done, char *err, size_t err_len) {
  struct stat sb;
  if (stat(sw->args->output, &sb) != 0)
    return 0;
  char why[512];
  io_timeline_reader *r = io_timeline_reader_open(sw->args->output, false, why, sizeof why);
  uint64_t n = 0;
  char *rows = NULL;
  const sweep_layout *l = &sw->layout;
  if (!r || io_timeline_reader_rows(r, l->def.name, &n, why, sizeof why) != 0 ||
      !(rows = malloc((n ? n : 1) * l->def.row_bytes)) ||
      io_timeline_reader_read(r, &l->def, 0, n, rows, why, sizeof why) != 0) {
    snprintf(err, err_len,
             "%s exists but is not the results of this study (%s); remove it or choose another "
             "file with -o",
             sw->args->output, rows || !r ? why : "out of memory");
    free(rows);
    io_timeline_reader_close(r);
    return -1;
  }
  io_timeline_reader_close(r);
  size_t dropped = 0;
  for (uint64_t i = 0; i < n; i++) {
    char *row = rows + i * l->def.row_bytes;
    bool matched = false;
    if (strcmp(row + l->status_at, "ok") == 0)
      for (size_t c = 0; c < sw->st->config_count && !matched; c++)
        if (!done[c] && strcmp(row + l->label_at, sw->st->configs[c].label) == 0) {
          put_u64(row, l->index_at, c);
          matched = done[c] = true;
          if (sweep_rows_add(kept, row) != 0) {
            snprintf(err, err_len, "out of memory reading %s", sw->args->output);
            free(rows);
            return -1;
          }
        }
    dropped += !matched;
  }
  free(rows);
  if (dropped && !sw->args->quiet)
    fprintf(stderr,
            "windtunnel sweep: %zu rows of %s are failed or not configurations of this study; "
            "they will be run again or dropped\n",
            dropped, sw->args->output);
  return 0;
}

static void csv_text(const char *text, FILE *out) {
  if (!strpbrk(text, ",\"\n")) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *c = text; *c; c++) {
    if (*c == '"')
      fputc('"', out);
    fputc(*c, out);
  }
  fputc('"', out);
}

int sweep_print_csv(const sweep_layout *l, const char *path, bool no_wall, FILE *out, char *err,
                    size_t err_len) {
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, err_len);
  uint64_t n = 0;
  char *rows = NULL;
  if (!r || io_timeline_reader_rows(r, l->def.name, &n, err, err_len) != 0 ||
      !(rows = malloc((n ? n : 1) * l->def.row_bytes)) ||
      io_timeline_reader_read(r, &l->def, 0, n, rows, err, err_len) != 0) {
    if (r && !rows)
      snprintf(err, err_len, "out of memory reading %s", path);
    free(rows);
    io_timeline_reader_close(r);
    return -1;
  }
  io_timeline_reader_close(r);
  bool first = true;
  for (size_t f = 0; f < l->def.field_count; f++) {
    if (no_wall && l->fields[f].offset == l->wall_at)
      continue;
    if (!first)
      fputc(',', out);
    first = false;
    csv_text(l->fields[f].name, out);
  }
  fputc('\n', out);
  for (uint64_t i = 0; i < n; i++) {
    const char *row = rows + i * l->def.row_bytes;
    first = true;
    for (size_t f = 0; f < l->def.field_count; f++) {
      const io_field *fd = &l->fields[f];
      if (no_wall && fd->offset == l->wall_at)
        continue;
      if (!first)
        fputc(',', out);
      first = false;
      if (fd->type == IO_FIELD_STRING) {
        csv_text(row + fd->offset, out);
      } else if (fd->type == IO_FIELD_UINT64) {
        fprintf(out, "%llu", (unsigned long long)get_u64(row, fd->offset));
      } else {
        double v;
        memcpy(&v, row + fd->offset, sizeof v);
        fprintf(out, "%.17g", v);
      }
    }
    fputc('\n', out);
  }
  free(rows);
  return 0;
}

int app_sweep_csv(const srv_study *st, const char *results, bool no_wall, FILE *out, char *err,
                  size_t err_len) {
  sweep_layout layout;
  return sweep_make_layout(st, &layout, err, err_len) != 0
             ? -1
             : sweep_print_csv(&layout, results, no_wall, out, err, err_len);
}
