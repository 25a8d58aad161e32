/* The scenario loader's small readers: one key each, errors at its location, defaults kept. */
#define _POSIX_C_SOURCE 200809L
#include "serving/scenario_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stands in for an absent optional section: every key is missing, so every default holds. */
static const io_node empty_mapping = {.kind = IO_NODE_MAPPING, .file = "", .path = ""};

const io_node *scn_section(const io_node *root, const char *key) {
  const io_node *n = root ? io_node_find(root, key) : NULL;
  return n ? n : &empty_mapping;
}

int scn_optional(int rc) { return rc == IO_DOC_EMISSING ? 0 : rc; }

int scn_get_u32(const scn_loader *ld, const io_node *m, const char *key, uint32_t min, uint32_t max,
                uint32_t *value) {
  int64_t v = *value;
  int rc = scn_optional(
      io_node_get_i64(m, key, IO_UNIT_NUMBER, min, max, &v, ld->err, ld->err_len));
  if (rc == 0)
    *value = (uint32_t)v;
  return rc;
}

int scn_get_i32(const scn_loader *ld, const io_node *m, const char *key, int32_t min,
                int32_t *value) {
  int64_t v = *value;
  int rc = scn_optional(
      io_node_get_i64(m, key, IO_UNIT_NUMBER, min, INT32_MAX, &v, ld->err, ld->err_len));
  if (rc == 0)
    *value = (int32_t)v;
  return rc;
}

int scn_get_ns(const scn_loader *ld, const io_node *m, const char *key, int64_t min,
               int64_t *value) {
  return scn_optional(
      io_node_get_i64(m, key, IO_UNIT_NS, min, INT64_MAX, value, ld->err, ld->err_len));
}

int scn_get_f64(const scn_loader *ld, const io_node *m, const char *key, io_unit unit,
                double *value) {
  return scn_optional(io_node_get_f64(m, key, unit, 0.0, INFINITY, value, ld->err, ld->err_len));
}

int scn_get_bool(const scn_loader *ld, const io_node *m, const char *key, bool *value) {
  return scn_optional(io_node_get_bool(m, key, value, ld->err, ld->err_len));
}

int scn_get_choice(const scn_loader *ld, const io_node *m, const char *key,
                   const char *const *choices, int *index) {
  return scn_optional(io_node_get_choice(m, key, choices, index, ld->err, ld->err_len));
}

/* Copies the string at key (if present) into buf, refusing empty and over-long values. */
int scn_get_text(const scn_loader *ld, const io_node *m, const char *key, char *buf, size_t size) {
  const io_node *n;
  int rc = io_node_get(m, key, IO_NODE_SCALAR, &n, ld->err, ld->err_len);
  if (rc != 0)
    return scn_optional(rc);
  if (!*n->text)
    return io_node_error(n, ld->err, ld->err_len, "expected a non-empty text");
  if (strlen(n->text) >= size)
    return io_node_error(n, ld->err, ld->err_len, "expected at most %zu characters", size - 1);
  memcpy(buf, n->text, strlen(n->text) + 1);
  return 0;
}

/* A key's node, or fallback when the key is absent: where to point errors about its value. */
const io_node *scn_node_or(const io_node *m, const char *key, const io_node *fallback) {
  const io_node *n = io_node_find(m, key);
  return n ? n : fallback;
}

int scn_check_keys(const scn_loader *ld, const io_node *m, const char *const *allowed) {
  return io_node_check_keys(m, allowed, ld->err, ld->err_len);
}

int scn_expect_kind(const scn_loader *ld, const io_node *n, io_node_kind kind, const char *what) {
  if (n->kind == kind)
    return 0;
  if (n->kind == IO_NODE_SCALAR)
    return io_node_error(n, ld->err, ld->err_len, "expected %s, got '%s'", what, n->text);
  return io_node_error(n, ld->err, ld->err_len, "expected %s", what);
}

/* An input file path, relative to the scenario's folder unless absolute or given with --set (whose
 * nodes have no line: the command line's paths are relative to the current directory). */
int scn_resolve_path(const scn_loader *ld, const io_node *n, char *out, size_t out_len) {
  if (!*n->text)
    return io_node_error(n, ld->err, ld->err_len, "expected a file path");
  bool as_written = n->text[0] == '/' || n->line == 0;
  int len = as_written ? snprintf(out, out_len, "%s", n->text)
                       : snprintf(out, out_len, "%s/%s", ld->base_dir, n->text);
  if (len < 0 || (size_t)len >= out_len)
    return io_node_error(n, ld->err, ld->err_len, "path longer than %zu characters", out_len - 1);
  return 0;
}

/* Reports an unknown catalogue name, suggesting the closest one (io_node_get_choice's message). */
int scn_unknown_name(const scn_loader *ld, const io_node *n, bool accel) {
  const hw_catalog *cat = ld->s->catalog;
  size_t count = accel ? hw_catalog_accel_count(cat) : hw_catalog_model_count(cat);
  const char **names = calloc(count + 1, sizeof *names);
  if (!names) {
    snprintf(ld->err, ld->err_len, "out of memory");
    return IO_DOC_ENOMEM;
  }
  for (size_t i = 0; i < count; i++)
    names[i] = accel ? hw_catalog_accel_at(cat, i)->name : hw_catalog_model_at(cat, i)->name;
  int index;
  int rc = io_node_get_choice(n, "", names, &index, ld->err, ld->err_len);
  free(names);
  return rc != 0 ? rc : IO_DOC_EINVAL; /* an exact name would have been found */
}

int scn_find_accel(const scn_loader *ld, const io_node *m, const char *key, const hw_accel **out) {
  const io_node *n;
  int rc = io_node_get(m, key, IO_NODE_SCALAR, &n, ld->err, ld->err_len);
  if (rc != 0)
    return rc;
  *out = hw_catalog_accel(ld->s->catalog, n->text);
  return *out ? 0 : scn_unknown_name(ld, n, true);
}

int scn_find_model(const scn_loader *ld, const io_node *m, const char *key, const hw_model **out) {
  const io_node *n;
  int rc = io_node_get(m, key, IO_NODE_SCALAR, &n, ld->err, ld->err_len);
  if (rc != 0)
    return rc;
  *out = hw_catalog_model(ld->s->catalog, n->text);
  return *out ? 0 : scn_unknown_name(ld, n, false);
}
