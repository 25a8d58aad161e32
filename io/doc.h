/* A YAML scenario as a tree of mappings, sequences and scalars (read with libyaml), each node
 * knowing where it was written and its key path: typed getters, unknown-key checks, --set
 * overrides, emit. */
#ifndef WT_IO_DOC_H
#define WT_IO_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/units.h"

/* Error codes; every failing call also writes one line into err, such as
 * "study.yaml:12:9: deployments.0.tp: expected a whole number such as '8', got 'eight'". */
#define IO_DOC_EINVAL (-1)   /* malformed YAML, a value of the wrong kind, an unknown key */
#define IO_DOC_EMISSING (-2) /* a getter's key is absent; *value is left untouched */
#define IO_DOC_ENOMEM (-3)
#define IO_DOC_EIO (-4) /* the file cannot be read */

typedef enum { IO_NODE_SCALAR, IO_NODE_SEQUENCE, IO_NODE_MAPPING } io_node_kind;

/* Key paths name a node from the root: mapping keys and sequence indices (0-based) joined by dots,
 * "deployments.0.tp". A key containing '.', '=' or '"', or an empty one, is written in double
 * quotes: models."Llama-3.1-8B".layers. The empty path names the root (or the base of a lookup). */

/* A node. Read-only for users: the io_doc owns every node and string. */
typedef struct io_node {
  io_node_kind kind;
  const char *file;        /* the file name, or "--set PATH=VALUE" for values set by io_doc_set */
  int line, col;           /* 1-based; 0 for values from --set (the command line has no lines) */
  const char *path;        /* this node's key path from the root; "" for the root */
  const char *text;        /* SCALAR: the text, without quotes; NULL otherwise */
  bool quoted;             /* SCALAR: written quoted or as a block (| or >), so explicitly a
                              string; the emitter then quotes it */
  size_t count;            /* SEQUENCE, MAPPING: number of items */
  struct io_node **keys;   /* MAPPING: keys (scalars, with their own locations), in file order */
  struct io_node **values; /* SEQUENCE: items; MAPPING: values[i] is the value of keys[i] */
} io_node;

typedef struct io_doc io_doc;

/* Reads one YAML document. Anchors and aliases, non-scalar keys, duplicate keys and a second
 * document are errors; tags are ignored. An empty file is an empty mapping. *doc is the caller's,
 * freed with io_doc_free. */
int io_doc_load_file(const char *path, io_doc **doc, char *err, size_t err_len);
int io_doc_load_string(const char *name, const char *text, io_doc **doc, char *err, size_t err_len);
void io_doc_free(io_doc *doc);
const io_node *io_doc_root(const io_doc *doc);

/* Applies "key.path=value" (the argument of --set). value is read as YAML, so "2", "80GiB", "[0,
 * 1]" and "{tp: 2}" all work. Missing mapping keys along the path are created; index N of an N-item
 * sequence appends; an existing value is replaced whatever its kind. New nodes are located at
 * "--set key.path=value" so errors in them point at the command line. */
int io_doc_set(io_doc *doc, const char *assignment, char *err, size_t err_len);

/* Writes the document as YAML text (block style, key order kept, quoted scalars double-quoted),
 * which reloads to the same tree. *text is NUL-terminated and the caller's, freed with free(). */
int io_doc_emit(const io_doc *doc, char **text, char *err, size_t err_len);

/* The node at path below base, or NULL. */
const io_node *io_node_find(const io_node *base, const char *path);

/* Getters: find path below base, check the node, store into *value. A missing key returns
 * IO_DOC_EMISSING with a message and leaves *value alone, so optional fields read as
 *   if ((rc = io_node_get_i64(...)) == IO_DOC_EMISSING) rc = 0;  // keep the default
 * Bounds are inclusive; INT64_MIN/INT64_MAX and -INFINITY/INFINITY mean unbounded. */
int io_node_get(const io_node *base, const char *path, io_node_kind kind, const io_node **node,
                char *err, size_t err_len);
int io_node_get_i64(const io_node *base, const char *path, io_unit unit, int64_t min, int64_t max,
                    int64_t *value, char *err, size_t err_len);
int io_node_get_f64(const io_node *base, const char *path, io_unit unit, double min, double max,
                    double *value, char *err, size_t err_len);
int io_node_get_str(const io_node *base, const char *path, const char **value, char *err,
                    size_t err_len);
int io_node_get_bool(const io_node *base, const char *path, bool *value, char *err,
                     size_t err_len); /* true or false */
/* *index is the position of the scalar's text in choices (NULL-terminated). */
int io_node_get_choice(const io_node *base, const char *path, const char *const *choices,
                       int *index, char *err, size_t err_len);

/* Checks that map is a mapping whose keys are all in allowed (NULL-terminated); the first unknown
 * key is reported at its location with the closest allowed key ("did you mean 'max_num_seqs'?"). */
int io_node_check_keys(const io_node *map, const char *const *allowed, char *err, size_t err_len);

/* Writes "file:line:col: path: " and the formatted message into err; returns IO_DOC_EINVAL. For
 * callers' own checks ("tp must divide the number of heads"). */
int io_node_error(const io_node *node, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
