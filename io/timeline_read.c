/* The timeline's serial reader: attributes, and rows checked field by field against the
 * caller's io_table_def (io/timeline.h). The writer is io/timeline.c. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/timeline.h"
#include "io/timeline_hdf5.h"

struct io_timeline_reader {
  hid_t file;
  bool complete;
};

io_timeline_reader *io_timeline_reader_open(const char *path, bool allow_incomplete, char *err,
                                            size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  if (access(path, R_OK) != 0) {
    io_tl_set_msg(err, err_len, "cannot open timeline '%s': %s", path, strerror(errno));
    return NULL;
  }
  io_timeline_reader *r = malloc(sizeof *r);
  if (!r) {
    io_tl_set_msg(err, err_len, "out of memory");
    return NULL;
  }
  *r = (io_timeline_reader){.file = -1, .complete = false};
  io_tl_quiet q = io_tl_quiet_begin();
  r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (r->file < 0) {
    char what[IO_TL_MSG_BYTES];
    io_tl_set_msg(what, sizeof what,
                  "cannot open timeline '%s' (not HDF5, or damaged by a run that stopped)", path);
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
  }
  io_tl_quiet_end(q);
  int64_t complete = 0;
  if (r->file >= 0 && io_timeline_reader_attr_int64(r, "complete", &complete, NULL, 0) == 0)
    r->complete = complete == 1;
  if (r->file >= 0 && !r->complete && !allow_incomplete)
    io_tl_set_msg(
        msg, IO_TL_MSG_BYTES,
        "timeline '%s' is incomplete (complete=1 missing): the run that wrote it did not finish",
        path);
  if (r->file < 0 || (!r->complete && !allow_incomplete)) {
    io_timeline_reader_close(r);
    return io_tl_finish(-1, msg, err, err_len), NULL;
  }
  return r;
}

void io_timeline_reader_close(io_timeline_reader *r) {
  if (!r)
    return;
  if (r->file >= 0)
    H5Fclose(r->file);
  free(r);
}

bool io_timeline_reader_complete(const io_timeline_reader *r) { return r->complete; }

void io_timeline_reader_only(void) { H5dont_atexit(); }

/* Opens root attribute name if its type is of class want; else -1 with a message. */
static hid_t open_attr(io_timeline_reader *r, const char *name, H5T_class_t want, char *msg) {
  if (H5Aexists(r->file, name) <= 0) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "the timeline has no attribute '%s'", name);
    return -1;
  }
  hid_t attr = H5Aopen(r->file, name, H5P_DEFAULT);
  hid_t type = attr >= 0 ? H5Aget_type(attr) : -1;
  H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
  if (type >= 0)
    H5Tclose(type);
  if (attr >= 0 && cls == want)
    return attr;
  io_tl_set_msg(msg, IO_TL_MSG_BYTES, "attribute '%s' is not a %s", name,
                want == H5T_STRING    ? "string"
                : want == H5T_INTEGER ? "integer"
                                      : "floating-point number");
  if (attr >= 0)
    H5Aclose(attr);
  return -1;
}

static int read_number_attr(io_timeline_reader *r, const char *name, H5T_class_t cls, hid_t mem,
                            void *value, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  io_tl_quiet q = io_tl_quiet_begin();
  hid_t attr = open_attr(r, name, cls, msg);
  int status = attr >= 0 && H5Aread(attr, mem, value) >= 0 ? 0 : -1;
  if (attr >= 0 && status != 0)
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, "cannot read an attribute");
  if (attr >= 0)
    H5Aclose(attr);
  io_tl_quiet_end(q);
  return io_tl_finish(status, msg, err, err_len);
}

int io_timeline_reader_attr_int64(io_timeline_reader *r, const char *name, int64_t *value,
                                  char *err, size_t err_len) {
  return read_number_attr(r, name, H5T_INTEGER, H5T_NATIVE_INT64, value, err, err_len);
}

int io_timeline_reader_attr_double(io_timeline_reader *r, const char *name, double *value,
                                   char *err, size_t err_len) {
  return read_number_attr(r, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, value, err, err_len);
}

int io_timeline_reader_attr_string(io_timeline_reader *r, const char *name, char **value, char *err,
                                   size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  *value = NULL;
  io_tl_quiet q = io_tl_quiet_begin();
  hid_t attr = open_attr(r, name, H5T_STRING, msg);
  bool ok = attr >= 0 && (*value = io_tl_string_attr(attr)) != NULL;
  if (attr >= 0 && !ok)
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, "cannot read string attribute");
  if (attr >= 0)
    H5Aclose(attr);
  io_tl_quiet_end(q);
  return io_tl_finish(ok ? 0 : -1, msg, err, err_len);
}

static hid_t open_table(io_timeline_reader *r, const char *name, char *msg) {
  if (H5Lexists(r->file, name, H5P_DEFAULT) <= 0) { /* < 0 when a parent group is missing */
    H5Eclear2(H5E_DEFAULT);
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "the timeline has no table '%s'", name);
    return -1;
  }
  hid_t dataset = H5Dopen2(r->file, name, H5P_DEFAULT);
  if (dataset < 0) { /* e.g. its object header fails its checksum: a damaged timeline */
    char what[IO_TL_MSG_BYTES];
    io_tl_set_msg(what, sizeof what, "cannot open table '%s'", name);
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
  }
  return dataset;
}

/* What a compound member's type is, in io_field_type's words. */
static void describe_member(hid_t type, char *out, size_t len) {
  H5T_class_t cls = H5Tget_class(type);
  size_t bytes = H5Tget_size(type);
  if (cls == H5T_INTEGER)
    io_tl_set_msg(out, len, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", 8 * bytes);
  else if (cls == H5T_FLOAT)
    io_tl_set_msg(out, len, "%s", bytes == 8 ? "double" : bytes == 4 ? "float" : "a float");
  else if (cls == H5T_STRING)
    io_tl_set_msg(out, len, "string[%zu]", bytes);
  else
    io_tl_set_msg(out, len, "of HDF5 class %d", (int)cls);
}

/* Checks that every field of def exists in the file's compound type with the same type. */
static bool fields_match(hid_t dataset, const io_table_def *def, char *msg) {
  hid_t file_type = H5Dget_type(dataset);
  if (file_type < 0 || H5Tget_class(file_type) != H5T_COMPOUND) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "table '%s' is not a table of rows", def->name);
    if (file_type >= 0)
      H5Tclose(file_type);
    return false;
  }
  bool ok = true;
  for (size_t i = 0; ok && i < def->field_count; i++) {
    const io_field *f = &def->fields[i];
    int index = H5Tget_member_index(file_type, f->name);
    if (index < 0) {
      H5Eclear2(H5E_DEFAULT);
      io_tl_set_msg(msg, IO_TL_MSG_BYTES,
                    "table '%s' has no field '%s' (written by another schema version?)", def->name,
                    f->name);
      ok = false;
      break;
    }
    hid_t member = H5Tget_member_type(file_type, (unsigned)index);
    hid_t expected = io_tl_field_hdf5_type(f);
    char found[64], wanted[64];
    describe_member(member, found, sizeof found);
    describe_member(expected, wanted, sizeof wanted);
    if (strcmp(found, wanted) != 0) {
      io_tl_set_msg(msg, IO_TL_MSG_BYTES, "table '%s' field '%s' is %s in the file, %s expected",
                    def->name, f->name, found, wanted);
      ok = false;
    }
    H5Tclose(member);
    H5Tclose(expected);
  }
  H5Tclose(file_type);
  return ok;
}

static bool table_rows(hid_t dataset, uint64_t *rows) {
  hid_t space = H5Dget_space(dataset);
  hsize_t dims = 0;
  bool ok = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
            H5Sget_simple_extent_dims(space, &dims, NULL) == 1;
  if (space >= 0)
    H5Sclose(space);
  *rows = dims;
  return ok;
}

int io_timeline_reader_rows(io_timeline_reader *r, const char *name, uint64_t *rows, char *err,
                            size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  io_tl_quiet q = io_tl_quiet_begin();
  hid_t dataset = open_table(r, name, msg);
  bool ok = dataset >= 0 && table_rows(dataset, rows);
  if (dataset >= 0 && !ok)
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "'%s' is not a one-dimensional table", name);
  /* A damaged file can claim any extent. Rows past what the table's stored bytes can hold, even
   * deflated at zlib's best ratio (1032:1, zlib's "technical details" page), are not there: they
   * are refused before a reader allocates for them (found by fuzz/, target report). */
  hid_t type = ok && *rows > 0 ? H5Dget_type(dataset) : -1;
  size_t row_bytes = type >= 0 ? H5Tget_size(type) : 0;
  double stored = ok && *rows > 0 ? (double)H5Dget_storage_size(dataset) : 0.0;
  if (row_bytes > 0 && (double)*rows * (double)row_bytes > 1032.0 * stored) {
    io_tl_set_msg(
        msg, IO_TL_MSG_BYTES,
        "table '%s' claims %llu rows of %zu bytes but stores %.0f bytes: a damaged timeline", name,
        (unsigned long long)*rows, row_bytes, stored);
    ok = false;
  }
  if (type >= 0)
    H5Tclose(type);
  if (dataset >= 0)
    H5Dclose(dataset);
  io_tl_quiet_end(q);
  return io_tl_finish(ok ? 0 : -1, msg, err, err_len);
}

int io_timeline_reader_read(io_timeline_reader *r, const io_table_def *def, uint64_t first,
                            uint64_t count, void *rows, char *err, size_t err_len) {
  char msg[IO_TL_MSG_BYTES] = "";
  io_tl_quiet q = io_tl_quiet_begin();
  hid_t dataset = open_table(r, def->name, msg), type = -1, file_space = -1, mem_space = -1;
  uint64_t total = 0;
  bool ok = dataset >= 0 && fields_match(dataset, def, msg) &&
            (type = io_tl_row_type(def, msg)) >= 0;
  if (ok && !table_rows(dataset, &total)) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "'%s' is not a one-dimensional table", def->name);
    ok = false;
  }
  if (ok && (first > total || count > total - first)) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "table '%s' has %llu rows; rows %llu..%llu asked for",
                  def->name, (unsigned long long)total, (unsigned long long)first,
                  (unsigned long long)(first + count));
    ok = false;
  }
  if (ok && count > 0) {
    hsize_t start = first, n = count;
    ok = (file_space = H5Dget_space(dataset)) >= 0 &&
         (mem_space = H5Screate_simple(1, &n, NULL)) >= 0 &&
         H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &start, NULL, &n, NULL) >= 0 &&
         H5Dread(dataset, type, mem_space, file_space, H5P_DEFAULT, rows) >= 0;
    if (!ok) {
      char what[IO_TL_MSG_BYTES];
      io_tl_set_msg(what, sizeof what, "cannot read table '%s'", def->name);
      io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
    }
  }
  if (mem_space >= 0)
    H5Sclose(mem_space);
  if (file_space >= 0)
    H5Sclose(file_space);
  if (type >= 0)
    H5Tclose(type);
  if (dataset >= 0)
    H5Dclose(dataset);
  io_tl_quiet_end(q);
  return io_tl_finish(ok ? 0 : -1, msg, err, err_len);
}
