/* The report's writers: the summary written back into its timeline as the attributes of /summary,
 * and the timeline's tables exported as CSV. Computing the summary is serving/report.c's; printing
 * it, serving/report_print.c's. */
#include "serving/report.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "serving/report_private.h"
#include "serving/schema.h"

static int attr(hid_t group, const char *name, hid_t type, const void *value) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = space < 0 ? -1 : H5Acreate2(group, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  int rc = a < 0 || H5Awrite(a, type, value) < 0 ? -1 : 0;
  if (a >= 0)
    H5Aclose(a);
  if (space >= 0)
    H5Sclose(space);
  return rc;
}

static int attr_dist(hid_t group, const char *name, const srv_dist *d) {
  const struct {
    const char *suffix;
    double value;
  } fields[] = {{"mean", d->mean}, {"p50", d->p50}, {"p90", d->p90},
                {"p95", d->p95},   {"p99", d->p99}, {"max", d->max}};
  char full[64];
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
    snprintf(full, sizeof full, "%s_%s", name, fields[i].suffix);
    if (attr(group, full, H5T_NATIVE_DOUBLE, &fields[i].value) != 0)
      return -1;
  }
  snprintf(full, sizeof full, "%s_count", name);
  return attr(group, full, H5T_NATIVE_UINT64, &d->count);
}

int srv_report_write_summary(const char *path, const srv_summary *s, char *err, size_t err_len) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) {
    snprintf(err, err_len, "%s: cannot open to add its summary", path);
    return -1;
  }
  if (H5Lexists(file, "summary", H5P_DEFAULT) > 0)
    H5Ldelete(file, "summary", H5P_DEFAULT);
  hid_t g = H5Gcreate2(file, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const struct {
    const char *name;
    double value;
  } reals[] = {{"input_tok_s", s->input_tok_s},
               {"output_tok_s", s->output_tok_s},
               {"req_s", s->req_s},
               {"slo_attainment", s->slo_attainment},
               {"goodput_req_s", s->goodput_req_s},
               {"slo_ttft_ms", s->slo_ttft_ms},
               {"slo_tpot_ms", s->slo_tpot_ms},
               {"simulated_s", s->simulated_s},
               {"utilisation_mean", s->utilisation_mean},
               {"kv_use_mean", s->kv_use_mean},
               {"kv_use_peak", s->kv_use_peak},
               {"energy_j", s->energy_j},
               {"it_energy_j", s->it_energy_j},
               {"energy_per_output_token_j", s->energy_per_output_token_j},
               {"power_avg_w", s->power_avg_w},
               {"power_peak_w", s->power_peak_w},
               {"rack_peak_w", s->rack_peak_w},
               {"kv_bytes", s->kv_bytes},
               {"kv_share_of_decode", s->kv_share_of_decode},
               {"energy_usd_per_kwh", s->energy_usd_per_kwh},
               {"accelerators_usd_per_h", s->accelerators_usd_per_h},
               {"energy_usd_per_h", s->energy_usd_per_h},
               {"fleet_usd_per_h", s->fleet_usd_per_h},
               {"run_usd", s->run_usd},
               {"usd_per_m_input_tokens", s->usd_per_m_input_tokens},
               {"usd_per_m_output_tokens", s->usd_per_m_output_tokens}};
  const struct {
    const char *name;
    uint64_t value;
  } counts[] = {{"requests_total", s->total},
                {"requests_completed", s->completed},
                {"requests_unfinished", s->unfinished},
                {"skipped_rows", s->skipped_rows},
                {"dropped_arrivals", s->dropped_arrivals},
                {"preemptions", s->preemptions},
                {"prefix_hit_tokens", s->prefix_hit_tokens},
                {"tier_hit_tokens", s->tier_hit_tokens},
                {"swaps_out", s->swaps_out},
                {"iterations", s->iterations},
                {"instances", s->instances},
                {"transfers", s->transfers},
                {"rack_intervals_over", s->rack_intervals_over},
                {"site_intervals_over", s->site_intervals_over}};
  int rc = g < 0 ? -1 : 0;
  for (size_t i = 0; rc == 0 && i < sizeof reals / sizeof *reals; i++)
    rc = attr(g, reals[i].name, H5T_NATIVE_DOUBLE, &reals[i].value);
  for (size_t i = 0; rc == 0 && i < sizeof counts / sizeof *counts; i++)
    rc = attr(g, counts[i].name, H5T_NATIVE_UINT64, &counts[i].value);
  if (rc == 0)
    rc = attr_dist(g, "ttft_ms", &s->ttft_ms) || attr_dist(g, "tpot_ms", &s->tpot_ms) ||
                 attr_dist(g, "e2e_ms", &s->e2e_ms) || attr_dist(g, "queue_ms", &s->queue_ms) ||
                 attr_dist(g, "kv_transfer_ms", &s->kv_transfer_ms) ||
                 attr_dist(g, "kv_wait_ms", &s->kv_wait_ms)
             ? -1
             : 0;
  if (g >= 0)
    H5Gclose(g);
  if (H5Fclose(file) < 0)
    rc = -1;
  if (rc != 0)
    snprintf(err, err_len, "%s: could not write /summary", path);
  return rc;
}

/* --csv: every table the schema defines (their rows in key order: srv_sort_rows), in
 * srv_report_tables' order. */
static const io_table_def *const csv_tables[] = {
    &srv_requests_table,  &srv_iterations_table, &srv_intervals_table, &srv_instances_table,
    &srv_transfers_table, &srv_nodes_table,      &srv_power_table,     &srv_links_table,
    &srv_link_util_table, &srv_kv_tiers_table,   &srv_engine_table,    &srv_lifecycle_table,
};

const char *const srv_report_tables[] = {
    "requests", "iterations", "instance_intervals", "instances", "transfers", "nodes",
    "power",    "links",      "link_utilisation",   "kv_tiers",  "engine",    "lifecycle",
    NULL};

static void csv_value(FILE *out, const io_field *f, const char *row) {
  const void *p = row + f->offset;
  switch (f->type) {
  case IO_FIELD_INT64: fprintf(out, "%lld", (long long)*(const int64_t *)p); break;
  case IO_FIELD_UINT64: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)p); break;
  case IO_FIELD_INT32: fprintf(out, "%d", *(const int32_t *)p); break;
  case IO_FIELD_UINT32: fprintf(out, "%u", *(const uint32_t *)p); break;
  case IO_FIELD_UINT8: fprintf(out, "%u", *(const uint8_t *)p); break;
  case IO_FIELD_DOUBLE: fprintf(out, "%.17g", *(const double *)p); break;
  case IO_FIELD_FLOAT: fprintf(out, "%.9g", (double)*(const float *)p); break;
  case IO_FIELD_STRING: {
    const char *text = p;
    fputc('"', out);
    for (size_t i = 0; i < f->string_bytes && text[i]; i++) {
      if (text[i] == '"')
        fputc('"', out);
      fputc(text[i], out);
    }
    fputc('"', out);
    break;
  }
  }
}

int srv_report_write_csv(const char *path, const char *table, FILE *out, char *err,
                         size_t err_len) {
  const io_table_def *def = NULL;
  for (size_t i = 0; i < sizeof csv_tables / sizeof *csv_tables; i++)
    if (strcmp(csv_tables[i]->name, table) == 0)
      def = csv_tables[i];
  if (!def) {
    size_t len = (size_t)snprintf(err, err_len, "no table '%s'; the tables are", table);
    for (size_t i = 0; srv_report_tables[i] && len < err_len; i++)
      len += (size_t)snprintf(err + len, err_len - len, " %s", srv_report_tables[i]);
    return -1;
  }
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, err_len);
  if (!r)
    return -1;
  char *rows = NULL;
  uint64_t n = 0;
  int rc = report_check_schema(r, err, err_len) ||
                   srv_report_read_table(r, def, (void **)&rows, &n, err, err_len)
               ? -1
               : 0;
  if (rc == 0) {
    srv_sort_rows(def, rows, n);
    for (size_t f = 0; f < def->field_count; f++)
      fprintf(out, "%s%s", f ? "," : "", def->fields[f].name);
    fputc('\n', out);
    for (uint64_t i = 0; i < n; i++) {
      const char *row = rows + i * def->row_bytes;
      for (size_t f = 0; f < def->field_count; f++) {
        if (f)
          fputc(',', out);
        csv_value(out, &def->fields[f], row);
      }
      fputc('\n', out);
    }
    if (ferror(out)) {
      snprintf(err, err_len, "writing the CSV of /%s failed", table);
      rc = -1;
    }
  }
  free(rows);
  io_timeline_reader_close(r);
  return rc;
}
