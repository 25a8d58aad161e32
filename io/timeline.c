/* The timeline writer (parallel HDF5 over MPI-IO, collective writes so that compressed tables work
 * with HDF5 1.10); the serial reader is io/timeline_read.c. The file layout is documented in
 * io/TIMELINE.md. */
#define _POSIX_C_SOURCE 200809L
#include "io/timeline.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/timeline_hdf5.h"

#define DEFAULT_FLUSH_BYTES ((size_t)32 << 20)
#define DEFAULT_CHUNK_BYTES ((size_t)384 << 10) /* 8192 rows of 48 bytes: fastest measured */
#define FIRST_CAPACITY_ROWS 256
#define SPACE_MARGIN_BYTES ((uint64_t)4 << 20) /* for metadata, beyond the rows */
#define HDF5_MARGIN_BYTES ((size_t)4 << 20)    /* free for HDF5 to open or extend a file */
#define CACHE_LINE 64

/* One thread's rows of one table; a cache line each so that threads appending never share one. */
typedef union row_buffer {
  struct {
    unsigned char *rows;
    size_t count, capacity;
    bool out_of_memory;
  } b;
  unsigned char cache_line[CACHE_LINE];
} row_buffer;

typedef struct table {
  const io_table_def *def;
  hid_t dataset;
  hid_t type; /* memory type == file type: no conversion, so collective writes stay possible */
  uint64_t rows_written;
  row_buffer *buffers; /* [threads] */
} table;

struct io_timeline {
  char *path;
  MPI_Comm comm;
  int rank, ranks, threads;
  size_t flush_bytes;
  bool compress, failed;
  bool appending; /* opened by io_timeline_open_append: tables in the file are reopened */
  hid_t file, dxpl;
  table *tables;
  int table_count;
  uint64_t *counts; /* [ranks + 1][table_count]: rows per rank and table at a flush; last: mine */
  unsigned char *staging; /* all threads' rows of one table, packed for one H5Dwrite */
  size_t staging_bytes;
  io_timeline_stats stats;
};

/* Collective: 0 if ok on every rank; else -1 everywhere, msg holding the lowest failing rank's. */
static int agree(MPI_Comm comm, bool ok, char *msg) {
  int rank, ranks, first;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &ranks);
  int mine = ok ? ranks : rank;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == ranks)
    return 0;
  MPI_Bcast(msg, IO_TL_MSG_BYTES, MPI_CHAR, first, comm);
  msg[IO_TL_MSG_BYTES - 1] = '\0';
  return -1;
}

static int write_attr(io_timeline *tl, const char *name, hid_t type, const void *value, char *msg) {
  hid_t root = tl->file, space = H5Screate(H5S_SCALAR), attr = -1;
  bool ok = space >= 0;
  htri_t exists = ok ? H5Aexists(root, name) : -1;
  ok = ok && exists >= 0 && (!exists || H5Adelete(root, name) >= 0);
  ok = ok && (attr = H5Acreate2(root, name, type, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0;
  ok = ok && H5Awrite(attr, type, value) >= 0;
  if (attr >= 0 && H5Aclose(attr) < 0)
    ok = false;
  if (space >= 0)
    H5Sclose(space);
  if (!ok) {
    char what[IO_TL_MSG_BYTES];
    io_tl_set_msg(what, sizeof what, "cannot write attribute '%s'", name);
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
  }
  return ok ? 0 : -1;
}

/* Fixed-length UTF-8, NUL-terminated: stored within the root's object header, which is checksummed.
 * (A variable-length string lives in the global heap, which has no checksum, and HDF5 1.10.8 loops
 * for ever reading some damaged heaps: found by fuzz/, target report.) */
static int write_string_attr(io_timeline *tl, const char *name, const char *value, char *msg) {
  hid_t type = H5Tcopy(H5T_C_S1);
  int status = -1;
  if (type >= 0 && H5Tset_size(type, strlen(value) + 1) >= 0 &&
      H5Tset_strpad(type, H5T_STR_NULLTERM) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0)
    status = write_attr(tl, name, type, value, msg);
  else
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, "cannot create a string type");
  if (type >= 0)
    H5Tclose(type);
  return status;
}

static bool reserved_attr(const char *name, char *msg) {
  if (name && strcmp(name, "complete") != 0 && name[0])
    return false;
  io_tl_set_msg(msg, IO_TL_MSG_BYTES, "attribute name '%s' is empty or reserved", name ? name : "");
  return true;
}

int io_timeline_attr_string(io_timeline *tl, const char *name, const char *value, char *err,
                            size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  if (reserved_attr(name, msg))
    return io_tl_finish(-1, msg, err,
                        err_len); /* same arguments everywhere: the same on every rank */
  /* Rank 0's value, so that every rank writes identical metadata as parallel HDF5 requires. */
  int bytes = tl->rank == 0 ? (strlen(value) < INT_MAX ? (int)strlen(value) + 1 : -1) : 0;
  MPI_Bcast(&bytes, 1, MPI_INT, 0, tl->comm);
  char *copy = bytes > 0 ? malloc((size_t)bytes) : NULL;
  if (!copy)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "attribute '%s' is too long, or out of memory", name);
  if (agree(tl->comm, copy != NULL, msg) != 0) {
    free(copy);
    return io_tl_finish(-1, msg, err, err_len);
  }
  if (tl->rank == 0)
    memcpy(copy, value, (size_t)bytes);
  MPI_Bcast(copy, bytes, MPI_CHAR, 0, tl->comm);
  io_tl_quiet q = io_tl_quiet_begin();
  int status = agree(tl->comm, write_string_attr(tl, name, copy, msg) == 0, msg);
  io_tl_quiet_end(q);
  free(copy);
  return io_tl_finish(status, msg, err, err_len);
}

/* An 8-byte number attribute: rank 0's value. */
static int number_attr(io_timeline *tl, const char *name, hid_t type, MPI_Datatype mpi_type,
                       void *value, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  if (reserved_attr(name, msg))
    return io_tl_finish(-1, msg, err, err_len);
  MPI_Bcast(value, 1, mpi_type, 0, tl->comm);
  io_tl_quiet q = io_tl_quiet_begin();
  int status = agree(tl->comm, write_attr(tl, name, type, value, msg) == 0, msg);
  io_tl_quiet_end(q);
  return io_tl_finish(status, msg, err, err_len);
}

int io_timeline_attr_int64(io_timeline *tl, const char *name, int64_t value, char *err,
                           size_t err_len) {
  return number_attr(tl, name, H5T_NATIVE_INT64, MPI_INT64_T, &value, err, err_len);
}

int io_timeline_attr_double(io_timeline *tl, const char *name, double value, char *err,
                            size_t err_len) {
  return number_attr(tl, name, H5T_NATIVE_DOUBLE, MPI_DOUBLE, &value, err, err_len);
}

static void free_tables(io_timeline *tl) {
  for (int i = 0; i < tl->table_count; i++) {
    table *t = &tl->tables[i];
    if (t->dataset >= 0)
      H5Dclose(t->dataset);
    if (t->type >= 0)
      H5Tclose(t->type);
    for (int th = 0; th < tl->threads; th++)
      free(t->buffers[th].b.rows);
    free(t->buffers);
  }
  free(tl->tables);
  tl->tables = NULL;
  tl->table_count = 0;
}

/* After a failed H5Fclose (the file system refused HDF5's last metadata writes: a full disk,
 * /dev/full), HDF5 1.10 keeps the half-destroyed file in its table of open objects, and its
 * termination, run by MPI_Finalize, dereferences it: SIGSEGV in H5F__close_cb (measured with
 * 1.10.8: a second H5Fclose, H5Idec_ref and H5close all crash the same way). Marking the library
 * as not initialised makes that termination, and the one at exit, return at once; what HDF5 still
 * holds is left to the operating system. Called after the last HDF5 call (any call would
 * initialise the library again); the process must not use HDF5 afterwards (the run has failed
 * and is ending). */
extern hbool_t H5_libinit_g;
static void forget_failed_file(void) { H5_libinit_g = false; }

/* Closes the file and frees tl; collective. Returns -1 if HDF5 failed to close, and then
 * *close_failed when H5Fclose itself failed (the caller calls forget_failed_file() after its
 * last HDF5 call). */
static int destroy(io_timeline *tl, bool *close_failed) {
  free_tables(tl);
  int status = 0;
  if (tl->dxpl >= 0)
    H5Pclose(tl->dxpl);
  /* After a failed flush (a full disk, usually), closing must write HDF5's metadata; if that fails
   * on some ranks only, parallel HDF5 1.10 deadlocks. Emptying the file first frees the space; once
   * closed, it is emptied again, so what remains is plainly not a timeline. */
  bool empty = tl->failed && tl->rank == 0;
  if (empty && truncate(tl->path, 0) != 0)
    status = -1;
  *close_failed = tl->file >= 0 && H5Fclose(tl->file) < 0;
  if (*close_failed)
    status = -1;
  if (empty && truncate(tl->path, 0) != 0)
    status = -1;
  MPI_Comm_free(&tl->comm);
  free(tl->staging);
  free(tl->counts);
  free(tl->path);
  free(tl);
  return status;
}

/* Rank 0 tries the path with plain POSIX first: the usual failures (no such directory, permission
 * denied, a directory) then read as the operating system says them, on every rank. */
static bool path_writable(const char *path, int rank, char *msg) {
  if (rank != 0)
    return true;
  FILE *f = fopen(path, "w");
  if (!f) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "cannot create timeline '%s': %s", path, strerror(errno));
    return false;
  }
  fclose(f);
  return true;
}

/* Collective: a timeline for path with opt's settings, its file not open yet. NULL on every rank
 * (with msg) when out of memory. */
static io_timeline *timeline_new(const char *path, const io_timeline_options *opt, MPI_Comm comm,
                                 char *msg) {
  io_timeline *tl = calloc(1, sizeof *tl);
  bool ok = tl != NULL && (tl->path = strdup(path)) != NULL;
  if (!ok)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "out of memory");
  if (agree(comm, ok, msg) != 0) {
    if (tl)
      free(tl->path);
    free(tl);
    return NULL;
  }
  MPI_Comm_dup(comm, &tl->comm);
  MPI_Comm_rank(tl->comm, &tl->rank);
  MPI_Comm_size(tl->comm, &tl->ranks);
  tl->threads = opt->threads > 0 ? opt->threads : 1;
  tl->flush_bytes = opt->flush_bytes > 0 ? opt->flush_bytes : DEFAULT_FLUSH_BYTES;
  tl->compress = !opt->uncompressed;
  tl->file = tl->dxpl = -1;
  return tl;
}

/* Creates (truncates) or opens for writing tl->path with MPI-IO and collective metadata, and the
 * collective transfer list. Returns whether HDF5 agreed, with why in msg. */
static bool open_file(io_timeline *tl, bool create, char *msg) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  bool ok = fapl >= 0 && H5Pset_fapl_mpio(fapl, tl->comm, MPI_INFO_NULL) >= 0 &&
            H5Pset_coll_metadata_write(fapl, 1) >= 0 &&
            H5Pset_all_coll_metadata_ops(fapl, 1) >= 0 &&
            H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) >= 0;
  if (ok)
    tl->file = create ? H5Fcreate(tl->path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)
                      : H5Fopen(tl->path, H5F_ACC_RDWR, fapl);
  ok = ok && tl->file >= 0;
  if (fapl >= 0)
    H5Pclose(fapl);
  ok = ok && (tl->dxpl = H5Pcreate(H5P_DATASET_XFER)) >= 0 &&
       H5Pset_dxpl_mpio(tl->dxpl, H5FD_MPIO_COLLECTIVE) >= 0;
  if (!ok) {
    char what[IO_TL_MSG_BYTES];
    io_tl_set_msg(what, sizeof what, "cannot %s timeline '%s'", create ? "create" : "open",
                  tl->path);
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
  }
  return ok;
}

/* Collective, HDF5 quiet: the end of create and open_append. ok: this rank's file is open and set
 * up. Returns tl, or NULL on every rank with the message in err. */
static io_timeline *opened(io_timeline *tl, bool ok, char *msg, char *err, size_t err_len) {
  int status = agree(tl->comm, ok, msg);
  if (status != 0 && tl->file >= 0 && H5Fclose(tl->file) >= 0)
    tl->file = -1;
  if (status == 0)
    return tl;
  /* A file may be open on some ranks only if HDF5 failed unevenly; closing it is then collective
   * over a subset and could hang, so such a file is left open (and the process should exit). */
  bool close_failed;
  if (tl->file < 0)
    destroy(tl, &close_failed); /* its file is closed already */
  return io_tl_finish(-1, msg, err, err_len), NULL;
}

/* Whether this rank has the memory for HDF5 to open a file or write to it: HDF5 1.10.8
 * dereferences NULL when it cannot allocate a file's metadata cache (H5AC_create, under H5Fcreate
 * and H5Fopen) or a chunk's fill buffer (H5D__fill_init, under H5Dset_extent), found with `ulimit
 * -v`. So a file is opened, and each flush written, only when HDF5_MARGIN_BYTES can be had at that
 * moment (asked for, not touched); every rank agrees on it first. */
static bool memory_for_file(const io_timeline *tl, char *msg) {
  void *probe = malloc(HDF5_MARGIN_BYTES);
  bool ok = probe != NULL;
  free(probe);
  if (!ok)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "out of memory for timeline '%s': HDF5 needs %zu MiB",
                  tl->path, HDF5_MARGIN_BYTES >> 20);
  return ok;
}

io_timeline *io_timeline_create(const char *path, const io_timeline_options *opt, MPI_Comm comm,
                                char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  static const io_timeline_options defaults = {0};
  opt = opt ? opt : &defaults;
  io_timeline *tl = timeline_new(path, opt, comm, msg);
  if (!tl)
    return io_tl_finish(-1, msg, err, err_len), NULL;
  bool close_failed = false;
  if (agree(tl->comm, path_writable(path, tl->rank, msg) && memory_for_file(tl, msg), msg) != 0) {
    destroy(tl, &close_failed); /* no file yet */
    return io_tl_finish(-1, msg, err, err_len), NULL;
  }
  io_tl_quiet q = io_tl_quiet_begin();
  bool ok = open_file(tl, true, msg);
  int64_t complete = 0;
  /* complete=0 now, 1 at a successful close: a file left by a failed run never looks complete. */
  if (ok)
    ok = write_attr(tl, "complete", H5T_NATIVE_INT64, &complete, msg) == 0 &&
         write_string_attr(tl, "schema", opt->schema ? opt->schema : "", msg) == 0 &&
         write_attr(tl, "schema_version", H5T_NATIVE_INT64, &opt->schema_version, msg) == 0 &&
         write_string_attr(tl, "program_version", opt->program_version ? opt->program_version : "",
                           msg) == 0;
  tl = opened(tl, ok, msg, err, err_len);
  io_tl_quiet_end(q);
  return tl;
}

/* Rank 0 tries the file with plain POSIX first, as path_writable does for a new one. */
static bool file_writable(const char *path, int rank, char *msg) {
  if (rank != 0 || access(path, R_OK | W_OK) == 0)
    return true;
  io_tl_set_msg(msg, IO_TL_MSG_BYTES, "cannot open timeline '%s' to append: %s", path,
                strerror(errno));
  return false;
}

/* Whether the file's root attribute "schema" is a string equal to schema (any, when schema is NULL
 * or empty). Else false with why in msg. */
static bool schema_matches(io_timeline *tl, const char *schema, char *msg) {
  hid_t attr = H5Aexists(tl->file, "schema") > 0 ? H5Aopen(tl->file, "schema", H5P_DEFAULT) : -1;
  char *found = attr >= 0 ? io_tl_string_attr(attr) : NULL;
  bool ok = found != NULL;
  H5Eclear2(H5E_DEFAULT);
  if (!ok)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES,
                  "'%s' is not a timeline: it has no schema attribute, so it cannot be appended to",
                  tl->path);
  else if (schema && schema[0] && strcmp(found, schema) != 0) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "timeline '%s' has schema '%s', not '%s'", tl->path, found,
                  schema);
    ok = false;
  }
  free(found);
  if (attr >= 0)
    H5Aclose(attr);
  return ok;
}

io_timeline *io_timeline_open_append(const char *path, const io_timeline_options *opt,
                                     MPI_Comm comm, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  static const io_timeline_options defaults = {0};
  opt = opt ? opt : &defaults;
  io_timeline *tl = timeline_new(path, opt, comm, msg);
  if (!tl)
    return io_tl_finish(-1, msg, err, err_len), NULL;
  tl->appending = true;
  bool close_failed = false;
  if (agree(tl->comm, file_writable(path, tl->rank, msg) && memory_for_file(tl, msg), msg) != 0) {
    destroy(tl, &close_failed); /* no file open */
    return io_tl_finish(-1, msg, err, err_len), NULL;
  }
  io_tl_quiet q = io_tl_quiet_begin();
  bool ok = open_file(tl, false, msg) && schema_matches(tl, opt->schema, msg);
  int64_t complete = 0; /* until this writer closes it complete */
  if (ok)
    ok = write_attr(tl, "complete", H5T_NATIVE_INT64, &complete, msg) == 0;
  tl = opened(tl, ok, msg, err, err_len);
  io_tl_quiet_end(q);
  return tl;
}

/* Whether the file has a link at name ("a/b/c"): 1, 0, or -1. H5Lexists fails when a group on the
 * way is missing, so each prefix is asked in turn. */
static int table_exists(io_timeline *tl, const char *name) {
  char *prefix = strdup(name);
  if (!prefix)
    return -1;
  htri_t exists = 1;
  for (char *slash = strchr(prefix, '/'); exists > 0 && slash; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    exists = prefix[0] ? H5Lexists(tl->file, prefix, H5P_DEFAULT) : 1;
    *slash = '/';
  }
  if (exists > 0)
    exists = H5Lexists(tl->file, name, H5P_DEFAULT);
  free(prefix);
  H5Eclear2(H5E_DEFAULT);
  return exists > 0 ? 1 : exists == 0 ? 0 : -1;
}

/* Appending: opens t's dataset in the file, checks that its rows are t's (the same fields, types
 * and offsets), and goes on after its rows. */
static bool reopen_table(io_timeline *tl, table *t, char *msg) {
  const char *name = t->def->name;
  for (const table *other = tl->tables; other < t; other++)
    if (strcmp(other->def->name, name) == 0) { /* two writers of one dataset would overlap */
      io_tl_set_msg(msg, IO_TL_MSG_BYTES, "table '%s' is added twice", name);
      return false;
    }
  t->dataset = H5Dopen2(tl->file, name, H5P_DEFAULT);
  hid_t file_type = t->dataset >= 0 ? H5Dget_type(t->dataset) : -1;
  hid_t space = t->dataset >= 0 ? H5Dget_space(t->dataset) : -1;
  hsize_t rows = 0;
  bool ok = file_type >= 0 && space >= 0 && H5Tequal(file_type, t->type) > 0 &&
            H5Sget_simple_extent_ndims(space) == 1 &&
            H5Sget_simple_extent_dims(space, &rows, NULL) == 1;
  H5Eclear2(H5E_DEFAULT);
  if (!ok)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES,
                  "cannot append to table '%s' of '%s': its rows are not this program's (another "
                  "schema version?)",
                  name, tl->path);
  t->rows_written = rows;
  if (file_type >= 0)
    H5Tclose(file_type);
  if (space >= 0)
    H5Sclose(space);
  return ok;
}

int io_timeline_add_table(io_timeline *tl, const io_table_def *def, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  table *grown = realloc(tl->tables, (size_t)(tl->table_count + 1) * sizeof *grown);
  if (grown)
    tl->tables = grown;
  uint64_t *counts = NULL;
  if (grown)
    counts = realloc(tl->counts, ((size_t)tl->ranks + 1) * (size_t)(tl->table_count + 1) * 8);
  if (counts)
    tl->counts = counts;
  row_buffer *buffers = NULL;
  if (counts)
    buffers = aligned_alloc(CACHE_LINE, (size_t)tl->threads * sizeof *buffers);
  if (!buffers)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "out of memory adding table '%s'",
                  def->name ? def->name : "");
  if (agree(tl->comm, buffers != NULL, msg) != 0) {
    free(buffers);
    return io_tl_finish(-1, msg, err, err_len);
  }
  memset(buffers, 0, (size_t)tl->threads * sizeof *buffers);
  table *t = &tl->tables[tl->table_count++];
  *t = (table){.def = def, .dataset = -1, .type = -1, .buffers = buffers};

  io_tl_quiet q = io_tl_quiet_begin();
  t->type = io_tl_row_type(def, msg);
  bool ok = t->type >= 0;
  int exists = ok && tl->appending ? table_exists(tl, def->name) : 0;
  if (exists > 0)
    ok = reopen_table(tl, t, msg);
  else if (ok) {
    size_t chunk_rows = def->chunk_rows;
    if (chunk_rows == 0)
      chunk_rows = DEFAULT_CHUNK_BYTES / def->row_bytes > 0 ? DEFAULT_CHUNK_BYTES / def->row_bytes
                                                            : 1;
    hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = chunk_rows;
    hid_t space = H5Screate_simple(1, &zero, &unlimited);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
    ok = space >= 0 && dcpl >= 0 && lcpl >= 0 && H5Pset_chunk(dcpl, 1, &chunk) >= 0 &&
         H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
         H5Pset_create_intermediate_group(lcpl, 1) >= 0;
    if (ok && tl->compress)
      ok = H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, 1) >= 0;
    ok = ok && (t->dataset = H5Dcreate2(tl->file, def->name, t->type, space, lcpl, dcpl,
                                        H5P_DEFAULT)) >= 0;
    if (!ok) {
      char what[IO_TL_MSG_BYTES];
      io_tl_set_msg(what, sizeof what, "cannot create table '%s'", def->name);
      io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
    }
    if (space >= 0)
      H5Sclose(space);
    if (dcpl >= 0)
      H5Pclose(dcpl);
    if (lcpl >= 0)
      H5Pclose(lcpl);
  }
  int status = agree(tl->comm, ok, msg);
  if (status != 0) { /* forget the table: the timeline stays usable */
    if (t->dataset >= 0)
      H5Dclose(t->dataset);
    if (t->type >= 0)
      H5Tclose(t->type);
    free(t->buffers);
    tl->table_count--;
  }
  io_tl_quiet_end(q);
  return status == 0 ? tl->table_count - 1 : io_tl_finish(-1, msg, err, err_len);
}

int io_timeline_append(io_timeline *tl, int table_index, int thread, const void *row) {
  assert(table_index >= 0 && table_index < tl->table_count);
  assert(thread >= 0 && thread < tl->threads);
  table *t = &tl->tables[table_index];
  row_buffer *buf = &t->buffers[thread];
  size_t row_bytes = t->def->row_bytes;
  if (buf->b.count == buf->b.capacity) {
    size_t capacity = buf->b.capacity ? 2 * buf->b.capacity : FIRST_CAPACITY_ROWS;
    unsigned char *rows = realloc(buf->b.rows, capacity * row_bytes);
    if (!rows) {
      buf->b.out_of_memory = true;
      return -1;
    }
    buf->b.rows = rows;
    buf->b.capacity = capacity;
  }
  memcpy(buf->b.rows + buf->b.count * row_bytes, row, row_bytes);
  buf->b.count++;
  return 0;
}

bool io_timeline_wants_flush(const io_timeline *tl) {
  size_t bytes = 0;
  for (int i = 0; i < tl->table_count; i++)
    for (int th = 0; th < tl->threads; th++)
      bytes += tl->tables[i].buffers[th].b.count * tl->tables[i].def->row_bytes;
  return bytes >= tl->flush_bytes;
}

/* This rank's rows of t in one contiguous block: thread 0's buffer itself when only it has rows. */
static const unsigned char *gather_rows(io_timeline *tl, table *t, uint64_t count, char *msg) {
  size_t row_bytes = t->def->row_bytes;
  if (count == 0 || t->buffers[0].b.count == count)
    return t->buffers[0].b.rows;
  for (int th = 1; th < tl->threads; th++)
    if (t->buffers[th].b.count == count)
      return t->buffers[th].b.rows;
  if (tl->staging_bytes < count * row_bytes) {
    unsigned char *staging = realloc(tl->staging, count * row_bytes);
    if (!staging) {
      io_tl_set_msg(msg, IO_TL_MSG_BYTES, "out of memory gathering %llu rows of table '%s'",
                    (unsigned long long)count, t->def->name);
      return NULL;
    }
    tl->staging = staging;
    tl->staging_bytes = count * row_bytes;
  }
  size_t at = 0;
  for (int th = 0; th < tl->threads; th++) {
    memcpy(tl->staging + at, t->buffers[th].b.rows, t->buffers[th].b.count * row_bytes);
    at += t->buffers[th].b.count * row_bytes;
  }
  return tl->staging;
}

/* Collective: appends every rank's rows of t, rank by rank, at the end of its dataset. */
static bool write_table(io_timeline *tl, table *t, const uint64_t *counts, int table_index,
                        char *msg) {
  uint64_t offset = 0, total = 0, mine = counts[(size_t)tl->rank * tl->table_count + table_index];
  for (int r = 0; r < tl->ranks; r++) {
    uint64_t n = counts[(size_t)r * tl->table_count + table_index];
    offset += r < tl->rank ? n : 0;
    total += n;
  }
  if (total == 0)
    return true;
  /* Every rank goes through the same collective calls even if its own data cannot be gathered. */
  const unsigned char *rows = gather_rows(tl, t, mine, msg);
  bool ok = mine == 0 || rows != NULL;
  hsize_t extent = t->rows_written + total, start = t->rows_written + offset, n = mine;
  hsize_t mem_dims = mine > 0 ? mine : 1;
  hid_t file_space = -1, mem_space = H5Screate_simple(1, &mem_dims, NULL);
  bool hdf5_ok = mem_space >= 0 && H5Dset_extent(t->dataset, &extent) >= 0 &&
                 (file_space = H5Dget_space(t->dataset)) >= 0;
  if (hdf5_ok && ok && mine > 0)
    hdf5_ok = H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, NULL, &n, NULL) >= 0;
  else if (hdf5_ok)
    hdf5_ok = H5Sselect_none(file_space) >= 0 && H5Sselect_none(mem_space) >= 0;
  hdf5_ok = hdf5_ok && H5Dwrite(t->dataset, t->type, mem_space, file_space, tl->dxpl,
                                rows ? (const void *)rows : (const void *)&extent) >= 0;
  if (!hdf5_ok) {
    char what[IO_TL_MSG_BYTES];
    io_tl_set_msg(what, sizeof what, "cannot write %llu rows to table '%s'",
                  (unsigned long long)mine, t->def->name);
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
  }
  if (file_space >= 0)
    H5Sclose(file_space);
  if (mem_space >= 0)
    H5Sclose(mem_space);
  t->rows_written += total;
  return ok && hdf5_ok;
}

/* Rank 0: whether the file system has room for this flush's rows (uncompressed) and metadata, so
 * that HDF5 does not meet a full disk in the middle of a collective write. */
static bool space_for(const io_timeline *tl, char *msg) {
  uint64_t bytes = SPACE_MARGIN_BYTES;
  for (int r = 0; r < tl->ranks; r++)
    for (int i = 0; i < tl->table_count; i++)
      bytes += tl->counts[(size_t)r * tl->table_count + i] * tl->tables[i].def->row_bytes;
  struct statvfs fs;
  if (statvfs(tl->path, &fs) != 0) /* unknown: the writes will tell */
    return true;
  uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
  if (free_bytes >= bytes)
    return true;
  io_tl_set_msg(msg, IO_TL_MSG_BYTES,
                "no space left for timeline '%s': %.1f MiB free, %.1f MiB needed", tl->path,
                (double)free_bytes / 1048576.0, (double)bytes / 1048576.0);
  return false;
}

/* agree() after a table's collective write, with a way out for a rank whose write failed. HDF5
 * does not keep its collective calls matched when a write fails on some ranks only (a file-size
 * limit, or a disk filling at one rank's offsets): the failing rank may return while the others
 * still wait inside HDF5's collective write. A rank that failed therefore waits for the others'
 * agreement at most AGREE_AFTER_FAILURE_S; if they do not come, nothing can finish the file: the
 * rank removes it, says why and aborts every rank, rather than hang until the batch limit. A rank
 * that did not fail waits as long as the others write. */
#define AGREE_AFTER_FAILURE_S 10.0
static int agree_or_abort(io_timeline *tl, bool ok, char *msg) {
  int mine = ok ? tl->ranks : tl->rank, first;
  MPI_Request request;
  MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, tl->comm, &request);
  double give_up = MPI_Wtime() + AGREE_AFTER_FAILURE_S;
  for (int done = 0; !done;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done && !ok && MPI_Wtime() > give_up) {
      bool removed = unlink(tl->path) == 0;
      fprintf(stderr,
              "windtunnel: rank %d: %s; the other ranks are held inside HDF5's collective write, "
              "which cannot finish: stopping every rank (the unfinished timeline '%s' %s)\n",
              tl->rank, msg, tl->path, removed ? "is removed" : "could not be removed");
      MPI_Abort(tl->comm, 1);
    }
  }
  if (first == tl->ranks)
    return 0;
  MPI_Bcast(msg, IO_TL_MSG_BYTES, MPI_CHAR, first, tl->comm);
  msg[IO_TL_MSG_BYTES - 1] = '\0';
  return -1;
}

int io_timeline_flush(io_timeline *tl, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  if (tl->failed)
    return io_tl_finish(-1, "the timeline failed earlier", err, err_len);
  if (tl->table_count == 0)
    return 0;
  double start_s = MPI_Wtime();
  int tables = tl->table_count;
  uint64_t *mine = tl->counts + (size_t)tl->ranks * tables;
  bool ok = true;
  for (int i = 0; i < tables; i++) {
    mine[i] = 0;
    for (int th = 0; th < tl->threads; th++) {
      mine[i] += tl->tables[i].buffers[th].b.count;
      if (tl->tables[i].buffers[th].b.out_of_memory) {
        io_tl_set_msg(msg, IO_TL_MSG_BYTES, "out of memory buffering rows of table '%s'",
                      tl->tables[i].def->name);
        ok = false;
      }
    }
  }
  /* One collective for the counts of every table: each rank's offset is the sum of lower ranks'. */
  MPI_Allgather(mine, tables, MPI_UINT64_T, tl->counts, tables, MPI_UINT64_T, tl->comm);
  if (ok && tl->rank == 0)
    ok = space_for(tl, msg);
  ok = ok && memory_for_file(tl, msg); /* HDF5's chunk allocation too fails by a crash */
  if (agree(tl->comm, ok, msg) != 0) {
    tl->failed = true;
    return io_tl_finish(-1, msg, err, err_len);
  }
  /* Agreed after each table, so that no rank goes on to the next table's collective calls after a
   * write failed somewhere (one small collective per table and flush of flush_bytes). */
  io_tl_quiet q = io_tl_quiet_begin();
  int status = 0;
  for (int i = 0; i < tables; i++) {
    if (status == 0)
      status = agree_or_abort(tl, write_table(tl, &tl->tables[i], tl->counts, i, msg), msg);
    for (int th = 0; th < tl->threads; th++)
      tl->tables[i].buffers[th].b.count = 0;
  }
  io_tl_quiet_end(q);
  tl->failed = status != 0;
  uint64_t bytes = 0; /* every rank's rows, as buffered */
  for (int r = 0; r < tl->ranks; r++)
    for (int i = 0; i < tables; i++)
      bytes += tl->counts[(size_t)r * tables + i] * tl->tables[i].def->row_bytes;
  if (status == 0 && bytes > 0) {
    double seconds = MPI_Wtime() - start_s, rate = seconds > 0 ? (double)bytes / seconds : 0;
    tl->stats.row_bytes += bytes;
    tl->stats.flushes++;
    tl->stats.write_s += seconds;
    tl->stats.peak_bytes_per_s = rate > tl->stats.peak_bytes_per_s ? rate
                                                                   : tl->stats.peak_bytes_per_s;
  }
  return io_tl_finish(status, msg, err, err_len);
}

io_timeline_stats io_timeline_get_stats(const io_timeline *tl) { return tl->stats; }

/* Flushes, writes complete=`complete` when it is 1 (create wrote 0), closes, frees tl. */
static int close_as(io_timeline *tl, int64_t complete, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  int status = io_timeline_flush(tl, msg, sizeof msg);
  io_tl_quiet q = io_tl_quiet_begin();
  if (status == 0 && complete == 1) {
    status = agree(tl->comm, write_attr(tl, "complete", H5T_NATIVE_INT64, &complete, msg) == 0,
                   msg);
  }
  MPI_Comm comm;
  MPI_Comm_dup(tl->comm, &comm);
  bool close_failed;
  bool closed = destroy(tl, &close_failed) == 0;
  if (!closed)
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, "cannot close the timeline");
  io_tl_quiet_end(q);
  if (close_failed)
    forget_failed_file();
  if (status == 0)
    status = agree(comm, closed, msg);
  MPI_Comm_free(&comm);
  return io_tl_finish(status, msg, err, err_len);
}

int io_timeline_close(io_timeline *tl, char *err, size_t err_len) {
  return close_as(tl, 1, err, err_len);
}

int io_timeline_close_incomplete(io_timeline *tl, char *err, size_t err_len) {
  return close_as(tl, 0, err, err_len);
}

void io_timeline_abort(io_timeline *tl) {
  io_tl_quiet q = io_tl_quiet_begin();
  bool close_failed;
  destroy(tl, &close_failed);
  H5Eclear2(H5E_DEFAULT);
  io_tl_quiet_end(q);
  if (close_failed)
    forget_failed_file();
}
