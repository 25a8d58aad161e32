/* The YAML document tree: built from libyaml parser events, looked up by key path, overridden by
 * --set, written back with libyaml's emitter. Every error names file:line:col and the key path. */
#define _POSIX_C_SOURCE 200809L
#include "io/doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define MAX_DEPTH 64      /* deeper nesting is a mistake (or an attack), not a scenario */
#define MAX_COMPONENT 256 /* longest key in a key path */

struct io_doc {
  io_node *root;
  char **names; /* file names and --set texts that nodes point at */
  size_t name_count;
};

/* ---- nodes ---- */

static void node_free(io_node *n) {
  if (!n)
    return;
  for (size_t i = 0; i < n->count; i++) {
    if (n->keys)
      node_free(n->keys[i]);
    node_free(n->values[i]);
  }
  free(n->keys);
  free(n->values);
  free((char *)n->text);
  free((char *)n->path);
  free(n);
}

static bool needs_quotes(const char *key) { return !*key || strpbrk(key, ".=\""); }

/* The path of parent's child named key (or index, when key is NULL). */
static char *child_path(const char *parent, const char *key, size_t index) {
  char index_text[24];
  if (!key)
    snprintf(index_text, sizeof index_text, "%zu", index);
  const char *name = key ? key : index_text;
  bool quote = key && needs_quotes(key);
  size_t len = strlen(parent) + strlen(name) + 4;
  char *path = malloc(len);
  if (path)
    snprintf(path, len, "%s%s%s%s%s", parent, *parent ? "." : "", quote ? "\"" : "", name,
             quote ? "\"" : "");
  return path;
}

static io_node *node_new(io_node_kind kind, const char *file, int line, int col, char *path) {
  io_node *n = calloc(1, sizeof *n);
  if (!n || !path) {
    free(n);
    free(path);
    return NULL;
  }
  *n = (io_node){.kind = kind, .file = file, .line = line, .col = col, .path = path};
  return n;
}

/* Appends (key, value) to a mapping (key non-NULL) or value to a sequence. */
static int node_append(io_node *n, io_node *key, io_node *value) {
  io_node **values = realloc(n->values, (n->count + 1) * sizeof *values);
  if (!values)
    return IO_DOC_ENOMEM;
  n->values = values;
  if (n->kind == IO_NODE_MAPPING) {
    io_node **keys = realloc(n->keys, (n->count + 1) * sizeof *keys);
    if (!keys)
      return IO_DOC_ENOMEM;
    n->keys = keys;
    keys[n->count] = key;
  }
  values[n->count++] = value;
  return 0;
}

/* Gives n and its subtree the paths they have under path (after --set moved them). */
static int node_set_path(io_node *n, const char *path) {
  char *copy = strdup(path);
  if (!copy)
    return IO_DOC_ENOMEM;
  free((char *)n->path);
  n->path = copy;
  for (size_t i = 0; i < n->count; i++) {
    char *child = child_path(path, n->keys ? n->keys[i]->text : NULL, i);
    int rc = child ? 0 : IO_DOC_ENOMEM;
    if (rc == 0 && n->keys)
      rc = node_set_path(n->keys[i], child);
    if (rc == 0)
      rc = node_set_path(n->values[i], child);
    free(child);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static const char *intern(io_doc *doc, const char *name) {
  char **names = realloc(doc->names, (doc->name_count + 1) * sizeof *names);
  if (!names)
    return NULL;
  doc->names = names;
  if (!(names[doc->name_count] = strdup(name)))
    return NULL;
  return names[doc->name_count++];
}

static int vnode_error(const io_node *n, char *err, size_t err_len, const char *fmt, va_list ap) {
  int len = n->line > 0 ? snprintf(err, err_len, "%s:%d:%d: ", n->file, n->line, n->col)
                        : snprintf(err, err_len, "%s: ", n->file);
  if (*n->path && len >= 0 && (size_t)len < err_len)
    len += snprintf(err + len, err_len - len, "%s: ", n->path);
  if (len >= 0 && (size_t)len < err_len)
    vsnprintf(err + len, err_len - len, fmt, ap);
  return IO_DOC_EINVAL;
}

int io_node_error(const io_node *node, char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vnode_error(node, err, err_len, fmt, ap);
  va_end(ap);
  return IO_DOC_EINVAL;
}

/* ---- loading ---- */

typedef struct {
  yaml_parser_t parser;
  const char *file;
  bool command_line; /* a --set value: nodes get line 0 */
  char *err;
  size_t err_len;
} loader;

static int parse_error(loader *ld) {
  yaml_parser_t *p = &ld->parser;
  if (p->error == YAML_MEMORY_ERROR) {
    snprintf(ld->err, ld->err_len, "%s: out of memory", ld->file);
    return IO_DOC_ENOMEM;
  }
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->error == YAML_READER_ERROR)
    snprintf(ld->err, ld->err_len, "%s: byte %zu: %s", ld->file, p->problem_offset, problem);
  else if (ld->command_line && p->problem_mark.line > 0) /* libyaml's end of input is a new line */
    snprintf(ld->err, ld->err_len, "%s: %s (at the end of the value)", ld->file, problem);
  else if (ld->command_line)
    snprintf(ld->err, ld->err_len, "%s: %s (at column %zu of the value)", ld->file, problem,
             p->problem_mark.column + 1);
  else if (p->context)
    snprintf(ld->err, ld->err_len, "%s:%zu:%zu: %s (%s at line %zu, column %zu)", ld->file,
             p->problem_mark.line + 1, p->problem_mark.column + 1, problem, p->context,
             p->context_mark.line + 1, p->context_mark.column + 1);
  else
    snprintf(ld->err, ld->err_len, "%s:%zu:%zu: %s", ld->file, p->problem_mark.line + 1,
             p->problem_mark.column + 1, problem);
  return IO_DOC_EINVAL;
}

static int next_event(loader *ld, yaml_event_t *ev) {
  return yaml_parser_parse(&ld->parser, ev) ? 0 : parse_error(ld);
}

/* A node located at ev's start; takes ownership of path. */
static io_node *node_at(loader *ld, const yaml_event_t *ev, io_node_kind kind, char *path) {
  int line = ld->command_line ? 0 : (int)ev->start_mark.line + 1;
  int col = ld->command_line ? 0 : (int)ev->start_mark.column + 1;
  return node_new(kind, ld->file, line, col, path);
}

/* Builds the node that starts with ev (consumed), reading the events of its contents. */
static int build_node(loader *ld, yaml_event_t *ev, const char *path, int depth, io_node **out) {
  static const io_node_kind kinds[] = {[YAML_SCALAR_EVENT] = IO_NODE_SCALAR,
                                       [YAML_SEQUENCE_START_EVENT] = IO_NODE_SEQUENCE,
                                       [YAML_MAPPING_START_EVENT] = IO_NODE_MAPPING,
                                       [YAML_ALIAS_EVENT] = IO_NODE_SCALAR};
  io_node *n = node_at(ld, ev, kinds[ev->type], strdup(path));
  int rc = n ? 0 : IO_DOC_ENOMEM;
  const yaml_char_t *anchor = ev->type == YAML_ALIAS_EVENT    ? ev->data.alias.anchor
                              : ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                              : ev->type == YAML_SEQUENCE_START_EVENT
                                  ? ev->data.sequence_start.anchor
                                  : ev->data.mapping_start.anchor;
  if (rc == 0 && anchor) /* a tree with shared nodes would blur locations, paths and --set */
    rc = io_node_error(n, ld->err, ld->err_len,
                       "anchors and aliases are not supported (found '%s%s'); write the "
                       "values out",
                       ev->type == YAML_ALIAS_EVENT ? "*" : "&", (const char *)anchor);
  else if (rc == 0 && depth > MAX_DEPTH)
    rc = io_node_error(n, ld->err, ld->err_len, "nested deeper than %d levels", MAX_DEPTH);
  else if (rc == 0 && ev->type == YAML_SCALAR_EVENT) {
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    if (!(n->text = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length)))
      rc = IO_DOC_ENOMEM;
  }
  yaml_event_delete(ev);
  while (rc == 0 && n->kind != IO_NODE_SCALAR) {
    yaml_event_t item;
    if ((rc = next_event(ld, &item)) != 0)
      break;
    if (item.type == YAML_SEQUENCE_END_EVENT || item.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&item);
      break;
    }
    io_node *key = NULL, *value = NULL;
    if (n->kind == IO_NODE_MAPPING) {
      char *key_path = NULL;
      if (item.type != YAML_SCALAR_EVENT) {
        io_node *at = node_at(ld, &item, IO_NODE_SCALAR, strdup(n->path));
        rc = at ? io_node_error(at, ld->err, ld->err_len, "mapping keys must be scalars")
                : IO_DOC_ENOMEM;
        node_free(at);
        yaml_event_delete(&item);
        break;
      }
      key_path = child_path(path, (const char *)item.data.scalar.value, 0);
      rc = key_path ? build_node(ld, &item, key_path, depth + 1, &key) : IO_DOC_ENOMEM;
      for (size_t i = 0; rc == 0 && i < n->count; i++)
        if (strcmp(n->keys[i]->text, key->text) == 0)
          rc = io_node_error(key, ld->err, ld->err_len, "duplicate key '%s' (first at line %d)",
                             key->text, n->keys[i]->line);
      if (rc == 0 && (rc = next_event(ld, &item)) == 0)
        rc = build_node(ld, &item, key_path, depth + 1, &value);
      free(key_path);
    } else {
      char *item_path = child_path(path, NULL, n->count);
      rc = item_path ? build_node(ld, &item, item_path, depth + 1, &value) : IO_DOC_ENOMEM;
      free(item_path);
    }
    if (rc == 0)
      rc = node_append(n, key, value);
    if (rc != 0) {
      node_free(key);
      node_free(value);
    }
  }
  if (rc != 0) {
    node_free(n);
    return rc;
  }
  *out = n;
  return 0;
}

/* Reads the one document of the stream into *root. */
static int load_stream(loader *ld, const char *root_path, io_node **root) {
  yaml_event_t ev;
  int rc = next_event(ld, &ev); /* stream start */
  if (rc != 0)
    return rc;
  yaml_event_delete(&ev);
  if ((rc = next_event(ld, &ev)) != 0)
    return rc;
  if (ev.type == YAML_STREAM_END_EVENT) { /* nothing but comments: an empty plain scalar */
    *root = node_at(ld, &ev, IO_NODE_SCALAR, strdup(root_path));
    yaml_event_delete(&ev);
    if (*root && ((*root)->text = strdup("")))
      return 0;
    node_free(*root);
    return IO_DOC_ENOMEM;
  }
  yaml_event_delete(&ev); /* document start */
  if ((rc = next_event(ld, &ev)) != 0 || (rc = build_node(ld, &ev, root_path, 0, root)) != 0)
    return rc;
  if ((rc = next_event(ld, &ev)) == 0) { /* document end */
    yaml_event_delete(&ev);
    if ((rc = next_event(ld, &ev)) == 0 && ev.type != YAML_STREAM_END_EVENT)
      rc = io_node_error(*root, ld->err, ld->err_len,
                         "found a second document at line %zu; write one document",
                         ev.start_mark.line + 1);
    yaml_event_delete(&ev);
  }
  if (rc != 0) {
    node_free(*root);
    *root = NULL;
  }
  return rc;
}

/* Parses a file (f) or a string (text) named name into a new subtree of doc. */
static int load(io_doc *doc, const char *name, FILE *f, const char *text, bool command_line,
                io_node **root, char *err, size_t err_len) {
  loader ld = {.command_line = command_line, .err = err, .err_len = err_len};
  if (!(ld.file = intern(doc, name)) || !yaml_parser_initialize(&ld.parser)) {
    snprintf(err, err_len, "%s: out of memory", name);
    return IO_DOC_ENOMEM;
  }
  if (f)
    yaml_parser_set_input_file(&ld.parser, f);
  else
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, strlen(text));
  int rc = load_stream(&ld, "", root);
  yaml_parser_delete(&ld.parser);
  io_node *r = rc == 0 ? *root : NULL;
  if (r && !command_line && r->kind == IO_NODE_SCALAR && !r->quoted && !*r->text) {
    r->kind = IO_NODE_MAPPING; /* an empty file, or one holding only "---", is an empty scenario */
    free((char *)r->text);
    r->text = NULL;
    r->line = r->col = 1;
  }
  return rc;
}

static int load_doc(const char *name, FILE *f, const char *text, io_doc **out, char *err,
                    size_t err_len) {
  io_doc *doc = calloc(1, sizeof *doc);
  if (!doc) {
    snprintf(err, err_len, "%s: out of memory", name);
    return IO_DOC_ENOMEM;
  }
  int rc = load(doc, name, f, text, false, &doc->root, err, err_len);
  if (rc != 0) {
    io_doc_free(doc);
    return rc;
  }
  *out = doc;
  return 0;
}

int io_doc_load_file(const char *path, io_doc **doc, char *err, size_t err_len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    return IO_DOC_EIO;
  }
  int rc = load_doc(path, f, NULL, doc, err, err_len);
  fclose(f);
  return rc;
}

int io_doc_load_string(const char *name, const char *text, io_doc **doc, char *err,
                       size_t err_len) {
  return load_doc(name, NULL, text, doc, err, err_len);
}

void io_doc_free(io_doc *doc) {
  if (!doc)
    return;
  node_free(doc->root);
  for (size_t i = 0; i < doc->name_count; i++)
    free(doc->names[i]);
  free(doc->names);
  free(doc);
}

const io_node *io_doc_root(const io_doc *doc) { return doc->root; }

/* ---- key paths ---- */

/* Copies the component at *p into comp and moves *p past it and its dot. Returns 1 for a component,
 * 0 at the end, -1 for a malformed path. */
static int path_next(const char **p, char comp[MAX_COMPONENT]) {
  const char *s = *p, *end;
  if (!*s)
    return 0;
  bool quoted = *s == '"';
  end = quoted ? strchr(s + 1, '"') : s + strcspn(s, ".");
  if (!end || (quoted && end[1] != '.' && end[1] != '\0') || (!quoted && end == s))
    return -1;
  size_t len = (size_t)(end - s) - quoted;
  if (len >= MAX_COMPONENT)
    return -1;
  memcpy(comp, s + quoted, len);
  comp[len] = '\0';
  end += quoted;
  if (*end == '.' && !end[1])
    return -1; /* trailing dot */
  *p = *end == '.' ? end + 1 : end;
  return 1;
}

/* Index named by comp in a sequence, or -1 if comp is not a plain decimal index. */
static long long path_index(const char *comp) {
  if (!*comp || strspn(comp, "0123456789") != strlen(comp) || strlen(comp) > 15)
    return -1;
  return strtoll(comp, NULL, 10);
}

/* Position of comp among n's children, or -1. */
static long long child_at(const io_node *n, const char *comp) {
  if (n->kind == IO_NODE_MAPPING) {
    for (size_t i = 0; i < n->count; i++)
      if (strcmp(n->keys[i]->text, comp) == 0)
        return (long long)i;
  } else if (n->kind == IO_NODE_SEQUENCE) {
    long long i = path_index(comp);
    return i < (long long)n->count ? i : -1;
  }
  return -1;
}

/* Follows path from base. On failure *last is the deepest node reached and comp the component that
 * was not found (comp[0] == '\0' for a malformed path). */
static const io_node *walk(const io_node *base, const char *path, const io_node **last,
                           char comp[MAX_COMPONENT]) {
  const io_node *n = base;
  int more = 0;
  while (path && (more = path_next(&path, comp)) != 0) {
    long long i = more < 0 ? -1 : child_at(n, comp);
    if (i < 0) {
      if (more < 0)
        comp[0] = '\0';
      *last = n;
      return NULL;
    }
    n = n->values[i];
  }
  return n;
}

const io_node *io_node_find(const io_node *base, const char *path) {
  const io_node *last;
  char comp[MAX_COMPONENT];
  return walk(base, path, &last, comp);
}

static const char *kind_name(io_node_kind kind) {
  return kind == IO_NODE_MAPPING    ? "a mapping"
         : kind == IO_NODE_SEQUENCE ? "a sequence"
                                    : "a scalar";
}

/* Finds path below base, reporting a missing node, or one not of kind (described as expected). */
static int lookup(const io_node *base, const char *path, io_node_kind kind, const char *expected,
                  const io_node **node, char *err, size_t err_len) {
  const io_node *last;
  char comp[MAX_COMPONENT];
  const io_node *n = walk(base, path, &last, comp);
  if (!n && !comp[0])
    return io_node_error(last, err, err_len, "malformed key path '%s'", path);
  if (!n && last->kind == IO_NODE_MAPPING) {
    io_node_error(last, err, err_len, "missing key '%s'", comp);
    return IO_DOC_EMISSING;
  }
  if (!n && last->kind == IO_NODE_SEQUENCE) {
    io_node_error(last, err, err_len, "no item '%s' (the sequence has %zu)", comp, last->count);
    return IO_DOC_EMISSING;
  }
  if (!n)
    return io_node_error(last, err, err_len, "expected a mapping holding '%s', got '%s'", comp,
                         last->text);
  if (n->kind != kind && n->kind == IO_NODE_SCALAR)
    return io_node_error(n, err, err_len, "expected %s, got '%s'", expected, n->text);
  if (n->kind != kind)
    return io_node_error(n, err, err_len, "expected %s, got %s", expected, kind_name(n->kind));
  *node = n;
  return 0;
}

int io_node_get(const io_node *base, const char *path, io_node_kind kind, const io_node **node,
                char *err, size_t err_len) {
  return lookup(base, path, kind, kind_name(kind), node, err, err_len);
}

/* ---- typed getters ---- */

static int range_error(const io_node *n, io_unit unit, double min, double max, bool has_min,
                       bool has_max, char *err, size_t err_len) {
  char lo[48], hi[48];
  if (unit == IO_UNIT_NUMBER) {
    snprintf(lo, sizeof lo, "%.15g", min);
    snprintf(hi, sizeof hi, "%.15g", max);
  } else {
    io_units_format(unit, min, lo, sizeof lo);
    io_units_format(unit, max, hi, sizeof hi);
  }
  if (has_min && has_max)
    return io_node_error(n, err, err_len, "expected a value from %s to %s, got '%s'", lo, hi,
                         n->text);
  return io_node_error(n, err, err_len, "expected a value of at %s %s, got '%s'",
                       has_min ? "least" : "most", has_min ? lo : hi, n->text);
}

int io_node_get_i64(const io_node *base, const char *path, io_unit unit, int64_t min, int64_t max,
                    int64_t *value, char *err, size_t err_len) {
  const io_node *n = NULL;
  int64_t v;
  int rc = lookup(base, path, IO_NODE_SCALAR, io_units_expected(unit), &n, err, err_len);
  if (rc != 0)
    return rc;
  char why[256];
  if (io_units_parse_i64(unit, n->text, &v, why, sizeof why) != 0)
    return io_node_error(n, err, err_len, "%s", why);
  if (v < min || v > max)
    return range_error(n, unit, (double)min, (double)max, min != INT64_MIN, max != INT64_MAX, err,
                       err_len);
  *value = v;
  return 0;
}

int io_node_get_f64(const io_node *base, const char *path, io_unit unit, double min, double max,
                    double *value, char *err, size_t err_len) {
  const io_node *n = NULL;
  double v;
  int rc = lookup(base, path, IO_NODE_SCALAR, io_units_expected(unit), &n, err, err_len);
  if (rc != 0)
    return rc;
  char why[256];
  if (io_units_parse_f64(unit, n->text, &v, why, sizeof why) != 0)
    return io_node_error(n, err, err_len, "%s", why);
  if (v < min || v > max)
    return range_error(n, unit, min, max, !isinf(min), !isinf(max), err, err_len);
  *value = v;
  return 0;
}

int io_node_get_str(const io_node *base, const char *path, const char **value, char *err,
                    size_t err_len) {
  const io_node *n = NULL;
  int rc = lookup(base, path, IO_NODE_SCALAR, "a scalar", &n, err, err_len);
  if (rc == 0)
    *value = n->text;
  return rc;
}

int io_node_get_bool(const io_node *base, const char *path, bool *value, char *err,
                     size_t err_len) {
  static const char *const choices[] = {"false", "true", NULL};
  int index;
  int rc = io_node_get_choice(base, path, choices, &index, err, err_len);
  if (rc == 0)
    *value = index == 1;
  return rc;
}

/* Levenshtein distance, or a large number for words too long to matter. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), row[MAX_COMPONENT];
  if (la >= MAX_COMPONENT || lb >= MAX_COMPONENT)
    return SIZE_MAX;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t substitute = diagonal + (a[i - 1] != b[j - 1]), above = row[j];
      size_t best = substitute < above + 1 ? substitute : above + 1;
      row[j] = best < row[j - 1] + 1 ? best : row[j - 1] + 1;
      diagonal = above;
    }
  }
  return row[lb];
}

/* Writes " (did you mean 'x'?)" for the choice closest to word, or " (expected one of: ...)". */
static void suggest(const char *word, const char *const *choices, char *out, size_t out_len) {
  const char *best = NULL;
  size_t best_distance = SIZE_MAX, limit = (strlen(word) + 2) / 3;
  limit = limit < 1 ? 1 : limit > 3 ? 3 : limit;
  for (const char *const *c = choices; *c; c++) {
    size_t d = edit_distance(word, *c);
    if (d <= limit && d < best_distance) {
      best = *c;
      best_distance = d;
    }
  }
  if (best) {
    snprintf(out, out_len, " (did you mean '%s'?)", best);
    return;
  }
  size_t len = (size_t)snprintf(out, out_len, " (expected one of:");
  for (const char *const *c = choices; *c && len < out_len; c++)
    len += (size_t)snprintf(out + len, out_len - len, " %s%s", *c, c[1] ? "," : ")");
}

int io_node_get_choice(const io_node *base, const char *path, const char *const *choices,
                       int *index, char *err, size_t err_len) {
  const io_node *n = NULL;
  int rc = lookup(base, path, IO_NODE_SCALAR, "a scalar", &n, err, err_len);
  if (rc != 0)
    return rc;
  for (int i = 0; choices[i]; i++)
    if (strcmp(choices[i], n->text) == 0) {
      *index = i;
      return 0;
    }
  char hint[512];
  suggest(n->text, choices, hint, sizeof hint);
  return io_node_error(n, err, err_len, "unknown value '%s'%s", n->text, hint);
}

int io_node_check_keys(const io_node *map, const char *const *allowed, char *err, size_t err_len) {
  if (map->kind != IO_NODE_MAPPING)
    return io_node_error(map, err, err_len, "expected a mapping, got %s", kind_name(map->kind));
  for (size_t i = 0; i < map->count; i++) {
    const char *key = map->keys[i]->text;
    const char *const *a = allowed;
    while (*a && strcmp(*a, key) != 0)
      a++;
    if (*a)
      continue;
    char hint[512];
    suggest(key, allowed, hint, sizeof hint);
    io_node at = *map->keys[i]; /* the key's location, the mapping's path */
    at.path = map->path;
    return io_node_error(&at, err, err_len, "unknown key '%s'%s", key, hint);
  }
  return 0;
}

/* ---- --set ---- */

int io_doc_set(io_doc *doc, const char *assignment, char *err, size_t err_len) {
  /* the path ends at the first '=' outside quotes; check all of it before changing anything */
  const char *eq = assignment;
  for (bool quoted = false; *eq && (quoted || *eq != '='); eq++)
    quoted ^= *eq == '"';
  char *path = strndup(assignment, (size_t)(eq - assignment)), comp[MAX_COMPONENT];
  if (!path) {
    snprintf(err, err_len, "--set %s: out of memory", assignment);
    return IO_DOC_ENOMEM;
  }
  const char *p = path;
  int more;
  while ((more = path_next(&p, comp)) > 0)
    ;
  if (!*eq || !*path || more < 0) {
    snprintf(err, err_len,
             "--set %s: expected key.path=value with a key path such as "
             "'deployments.0.tp'",
             assignment);
    free(path);
    return IO_DOC_EINVAL;
  }
  size_t name_len = strlen(assignment) + 7;
  char *name = malloc(name_len);
  io_node *value = NULL, *n = doc->root;
  int rc = name ? 0 : IO_DOC_ENOMEM;
  if (rc == 0) {
    snprintf(name, name_len, "--set %s", assignment);
    rc = load(doc, name, NULL, eq + 1, true, &value, err, err_len);
  }
  const char *file = rc == 0 ? doc->names[doc->name_count - 1] : NULL;
  for (p = path; rc == 0 && path_next(&p, comp) > 0;) {
    bool last = !*p;
    long long i = child_at(n, comp);
    if (i >= 0 && last) {
      node_free(n->values[i]);
      n->values[i] = value;
      value = NULL;
      break;
    }
    if (i >= 0) {
      n = n->values[i];
      continue;
    }
    if (n->kind == IO_NODE_SCALAR ||
        (n->kind == IO_NODE_SEQUENCE && path_index(comp) != (long long)n->count)) {
      const char *where = *n->path ? n->path : "the document root";
      if (n->kind == IO_NODE_SCALAR)
        snprintf(err, err_len, "--set %s: '%s' is a scalar, it has no key '%s'", assignment, where,
                 comp);
      else
        snprintf(err, err_len, "--set %s: '%s' has no item '%s' (it has %zu; index %zu appends)",
                 assignment, where, comp, n->count, n->count);
      rc = IO_DOC_EINVAL;
      break;
    }
    /* a new key, or an item one past the end of a sequence */
    io_node *key = NULL, *child = last ? value : node_new(IO_NODE_MAPPING, file, 0, 0, strdup(""));
    if (n->kind == IO_NODE_MAPPING && (key = node_new(IO_NODE_SCALAR, file, 0, 0, strdup(""))))
      key->text = strdup(comp);
    if (!child || (n->kind == IO_NODE_MAPPING && (!key || !key->text)) ||
        node_append(n, key, child) != 0) {
      node_free(key);
      if (!last)
        node_free(child);
      rc = IO_DOC_ENOMEM;
    } else if (last) {
      value = NULL;
      break;
    } else {
      n = child;
    }
  }
  if (rc == 0) /* new and moved nodes get their paths */
    rc = node_set_path(doc->root, "");
  if (rc == IO_DOC_ENOMEM)
    snprintf(err, err_len, "--set %s: out of memory", assignment);
  node_free(value);
  free(name);
  free(path);
  return rc;
}

/* ---- emitting ---- */

typedef struct {
  char *text;
  size_t len, cap;
} text_buffer;

static int append_output(void *data, unsigned char *bytes, size_t size) {
  text_buffer *b = data;
  if (b->len + size + 1 > b->cap) {
    size_t cap = (b->len + size + 1) * 2;
    char *text = realloc(b->text, cap);
    if (!text)
      return 0;
    b->text = text;
    b->cap = cap;
  }
  memcpy(b->text + b->len, bytes, size);
  b->len += size;
  b->text[b->len] = '\0';
  return 1;
}

static int emit_node(yaml_emitter_t *e, const io_node *n) {
  yaml_event_t ev;
  if (n->kind == IO_NODE_SCALAR) {
    yaml_scalar_style_t style = n->quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
    return yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)n->text,
                                        (int)strlen(n->text), 1, 1, style) &&
           yaml_emitter_emit(e, &ev);
  }
  bool map = n->kind == IO_NODE_MAPPING;
  if (!(map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
            : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                   YAML_BLOCK_SEQUENCE_STYLE)) ||
      !yaml_emitter_emit(e, &ev))
    return 0;
  for (size_t i = 0; i < n->count; i++)
    if ((map && !emit_node(e, n->keys[i])) || !emit_node(e, n->values[i]))
      return 0;
  return (map ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev)) &&
         yaml_emitter_emit(e, &ev);
}

int io_doc_emit(const io_doc *doc, char **text, char *err, size_t err_len) {
  yaml_emitter_t e;
  yaml_event_t ev;
  text_buffer out = {0};
  if (!yaml_emitter_initialize(&e)) {
    snprintf(err, err_len, "emitting YAML: out of memory");
    return IO_DOC_ENOMEM;
  }
  yaml_emitter_set_output(&e, append_output, &out);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, -1); /* long values stay on one line */
  bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
            yaml_emitter_emit(&e, &ev) &&
            yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
            yaml_emitter_emit(&e, &ev) && emit_node(&e, doc->root) &&
            yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
            yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
            yaml_emitter_flush(&e);
  if (!ok) {
    int rc = e.error == YAML_MEMORY_ERROR || !e.problem ? IO_DOC_ENOMEM : IO_DOC_EINVAL;
    snprintf(err, err_len, "emitting YAML: %s", e.problem ? e.problem : "out of memory");
    yaml_emitter_delete(&e);
    free(out.text);
    return rc;
  }
  yaml_emitter_delete(&e);
  *text = out.text;
  return 0;
}
