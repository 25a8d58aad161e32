/* The run's timeline: one HDF5 file written collectively by all ranks (parallel HDF5), holding root
 * attributes and 1-D tables of fixed-size rows streamed from simulation threads; and its serial
 * reader. */
#ifndef IO_TIMELINE_H
#define IO_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

/* The types a table's field can have, stored as the same native type in the file. */
typedef enum io_field_type {
  IO_FIELD_INT64,
  IO_FIELD_UINT64,
  IO_FIELD_INT32,
  IO_FIELD_UINT32,
  IO_FIELD_DOUBLE,
  IO_FIELD_FLOAT,
  IO_FIELD_UINT8,
  IO_FIELD_STRING, /* char[string_bytes], NUL-terminated within it */
} io_field_type;

typedef struct io_field {
  const char *name;
  size_t offset; /* offsetof(row struct, member) */
  io_field_type type;
  size_t string_bytes; /* IO_FIELD_STRING only */
} io_field;

/* A field of `row_type`, named as its member: IO_FIELD(my_row, ttft_ns, IO_FIELD_INT64). */
#define IO_FIELD(row_type, member, field_type)                                                     \
  { #member, offsetof(row_type, member), field_type, 0 }
#define IO_FIELD_STR(row_type, member)                                                             \
  { #member, offsetof(row_type, member), IO_FIELD_STRING, sizeof(((row_type *)0)->member) }

/* A table: the caller's row struct and its fields, defined once (usually static const). */
typedef struct io_table_def {
  const char *name; /* dataset path under the root, e.g. "requests" or "engine/partitions" */
  size_t row_bytes; /* sizeof the row struct */
  const io_field *fields;
  size_t field_count;
  size_t chunk_rows; /* rows per HDF5 chunk; 0: about 384 KiB of rows (see io/TIMELINE.md) */
} io_table_def;

typedef struct io_timeline_options {
  const char *schema; /* root attribute "schema", e.g. "windtunnel.timeline" */
  int64_t schema_version;
  const char *program_version;
  int threads;        /* threads per rank that append (thread indices 0..threads-1); 0 means 1 */
  bool uncompressed;  /* default: shuffle + deflate level 1 */
  size_t flush_bytes; /* buffered bytes per rank above which io_timeline_wants_flush(); 0: 32 MiB */
} io_timeline_options;

/* Writer (parallel). Functions marked collective are called by every rank of comm. They return 0,
 * or -1 on every rank with the same one-line message in err (from the lowest failing rank). */
typedef struct io_timeline io_timeline;

/* Collective: creates (truncates) path; opt may be NULL for defaults. Returns NULL on every rank
 * on failure. */
io_timeline *io_timeline_create(const char *path, const io_timeline_options *opt, MPI_Comm comm,
                                char *err, size_t err_len);

/* Collective: opens path, a timeline io_timeline_create wrote (complete or not, e.g. closed by
 * io_timeline_close_incomplete), to write more: io_timeline_add_table of a table the file holds
 * goes on after its rows; attributes are replaced by name as before; complete is 0 until close.
 * opt as for create, except that tables in the file keep their own compression and chunks; with
 * opt->schema set, the file's must be the same. A file without a schema attribute is refused.
 * Returns NULL on every rank on failure. (A checkpoint closes its timeline incomplete, copies the
 * file, and opens it again with this; a restart appends to its copy.) */
io_timeline *io_timeline_open_append(const char *path, const io_timeline_options *opt,
                                     MPI_Comm comm, char *err, size_t err_len);

/* Collective, while no thread appends: adds a table; returns its index (0, 1, ...) or -1. def is
 * borrowed until close. On a timeline opened by io_timeline_open_append, a table of that name in
 * the file is reopened, its rows kept, if its fields are def's. */
int io_timeline_add_table(io_timeline *tl, const io_table_def *def, char *err, size_t err_len);

/* Collective: sets a root attribute (replacing one of the same name); rank 0's value is written.
 * Strings are fixed-length UTF-8, NUL-terminated, of any length (h5py reads them as bytes;
 * io/TIMELINE.md says why not variable-length). */
int io_timeline_attr_string(io_timeline *tl, const char *name, const char *value, char *err,
                            size_t err_len);
int io_timeline_attr_int64(io_timeline *tl, const char *name, int64_t value, char *err,
                           size_t err_len);
int io_timeline_attr_double(io_timeline *tl, const char *name, double value, char *err,
                            size_t err_len);

/* Local, lock-free: copies one row into thread `thread`'s buffer of `table`. Each thread passes its
 * own index; threads never share one. Returns 0, or -1 when out of memory (the next flush then
 * fails on every rank). */
int io_timeline_append(io_timeline *tl, int table, int thread, const void *row);

/* Local: whether this rank's buffered rows exceed flush_bytes. Call while no thread appends. */
bool io_timeline_wants_flush(const io_timeline *tl);

/* Collective, while no thread appends: writes every rank's buffered rows of every table, then
 * empties the buffers. Fails before writing if the file system lacks room for the rows
 * (uncompressed) plus 4 MiB. After a failure the timeline is failed: flushes and close fail.
 * A write that fails on some ranks only (a file-size limit, a disk filling between the check and
 * the write) leaves the others inside HDF5's collective write: the failing rank then removes the
 * file, prints why and calls MPI_Abort (after 10 s without the others), rather than hang. */
int io_timeline_flush(io_timeline *tl, char *err, size_t err_len);

/* What the flushes so far wrote, on this rank's clock: every rank's rows (bytes as buffered, before
 * compression), the flushes that wrote any, their wall time, and the fastest flush's rate. */
typedef struct io_timeline_stats {
  uint64_t row_bytes;
  uint32_t flushes;
  double write_s, peak_bytes_per_s;
} io_timeline_stats;
io_timeline_stats io_timeline_get_stats(const io_timeline *tl);

/* Collective: flushes, marks the file complete (root attribute complete=1), closes, frees tl. The
 * file is marked complete only if everything succeeded. tl is freed whatever the result. */
int io_timeline_close(io_timeline *tl, char *err, size_t err_len);

/* Collective: as io_timeline_close, but leaves complete=0: for a run stopped early on purpose,
 * whose rows are true but not all there (readers open it with allow_incomplete). */
int io_timeline_close_incomplete(io_timeline *tl, char *err, size_t err_len);

/* Collective: closes and frees tl without flushing or marking complete (a failed run). Rows
 * flushed so far stay readable with allow_incomplete, unless a flush failed: then, as after a
 * failed close, the file is left empty (io/TIMELINE.md says why). */
void io_timeline_abort(io_timeline *tl);

/* Reader (serial: one process, MPI not needed). Functions return 0, or -1 with a message in err. */
typedef struct io_timeline_reader io_timeline_reader;

/* Opens path for reading. A file without complete=1 is refused unless allow_incomplete. */
io_timeline_reader *io_timeline_reader_open(const char *path, bool allow_incomplete, char *err,
                                            size_t err_len);
void io_timeline_reader_close(io_timeline_reader *r);
/* For a process that only reads timelines, before its first HDF5 call: HDF5 is not shut down at
 * exit. Reading some damaged files leaks HDF5's own free-list blocks, and its shutdown then loops
 * and prints "infinite loop closing library"; a reader has nothing to flush. */
void io_timeline_reader_only(void);
bool io_timeline_reader_complete(const io_timeline_reader *r);

/* Root attributes. *value of a string is malloc'd, NUL-terminated, and the caller's to free. */
int io_timeline_reader_attr_string(io_timeline_reader *r, const char *name, char **value, char *err,
                                   size_t err_len);
int io_timeline_reader_attr_int64(io_timeline_reader *r, const char *name, int64_t *value,
                                  char *err, size_t err_len);
int io_timeline_reader_attr_double(io_timeline_reader *r, const char *name, double *value,
                                   char *err, size_t err_len);

/* Number of rows of table `name`. */
int io_timeline_reader_rows(io_timeline_reader *r, const char *name, uint64_t *rows, char *err,
                            size_t err_len);

/* Reads rows [first, first + count) of def->name into rows (count * def->row_bytes bytes). Every
 * field of def must exist in the file with the same type; fields of the file not in def are
 * skipped. */
int io_timeline_reader_read(io_timeline_reader *r, const io_table_def *def, uint64_t first,
                            uint64_t count, void *rows, char *err, size_t err_len);

#endif
