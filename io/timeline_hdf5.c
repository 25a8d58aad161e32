/* What the timeline's writer and reader share (io/timeline_hdf5.h): messages, quiet HDF5, row
 * types. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "io/timeline_hdf5.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void io_tl_set_msg(char *msg, size_t len, const char *fmt, ...) {
  if (!msg || len == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, len, fmt, ap);
  va_end(ap);
}

static herr_t innermost_cb(unsigned n, const H5E_error2_t *e, void *out) {
  if (n == 0 && e->desc)
    snprintf(out, IO_TL_MSG_BYTES, "%s", e->desc);
  return 0;
}

void io_tl_hdf5_msg(char *msg, size_t len, const char *what) {
  char detail[IO_TL_MSG_BYTES] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_cb, detail);
  H5Eclear2(H5E_DEFAULT);
  if (detail[0])
    io_tl_set_msg(msg, len, "%s: %s", what, detail);
  else
    io_tl_set_msg(msg, len, "%s", what);
}

io_tl_quiet io_tl_quiet_begin(void) {
  io_tl_quiet q;
  H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  return q;
}

void io_tl_quiet_end(io_tl_quiet q) { H5Eset_auto2(H5E_DEFAULT, q.func, q.data); }

int io_tl_finish(int status, const char *msg, char *err, size_t err_len) {
  if (status != 0)
    io_tl_set_msg(err, err_len, "%s", msg);
  return status;
}

char *io_tl_string_attr(hid_t attr) {
  hid_t type = H5Aget_type(attr), mem = H5Tcopy(H5T_C_S1);
  htri_t variable = type >= 0 ? H5Tis_variable_str(type) : -1;
  size_t bytes = variable == 0 ? H5Tget_size(type) : 0;
  char *value = NULL;
  bool ok = mem >= 0 && variable >= 0 && H5Tget_class(type) == H5T_STRING &&
            H5Tset_cset(mem, H5Tget_cset(type)) >= 0;
  if (ok && variable) {
    char *heap = NULL; /* HDF5 allocates it */
    ok = H5Tset_size(mem, H5T_VARIABLE) >= 0 && H5Aread(attr, mem, &heap) >= 0 &&
         (value = strdup(heap ? heap : "")) != NULL;
    if (heap)
      H5free_memory(heap);
  } else if (ok) {
    ok = bytes > 0 && (value = calloc(1, bytes + 1)) != NULL && H5Tset_size(mem, bytes) >= 0 &&
         H5Aread(attr, mem, value) >= 0;
  }
  if (!ok) {
    free(value);
    value = NULL;
  }
  if (mem >= 0)
    H5Tclose(mem);
  if (type >= 0)
    H5Tclose(type);
  return value;
}

size_t io_tl_field_bytes(const io_field *f) {
  switch (f->type) {
  case IO_FIELD_INT64:
  case IO_FIELD_UINT64:
  case IO_FIELD_DOUBLE: return 8;
  case IO_FIELD_INT32:
  case IO_FIELD_UINT32:
  case IO_FIELD_FLOAT: return 4;
  case IO_FIELD_UINT8: return 1;
  case IO_FIELD_STRING: return f->string_bytes;
  }
  return 0;
}

hid_t io_tl_field_hdf5_type(const io_field *f) {
  switch (f->type) {
  case IO_FIELD_INT64: return H5Tcopy(H5T_NATIVE_INT64);
  case IO_FIELD_UINT64: return H5Tcopy(H5T_NATIVE_UINT64);
  case IO_FIELD_INT32: return H5Tcopy(H5T_NATIVE_INT32);
  case IO_FIELD_UINT32: return H5Tcopy(H5T_NATIVE_UINT32);
  case IO_FIELD_DOUBLE: return H5Tcopy(H5T_NATIVE_DOUBLE);
  case IO_FIELD_FLOAT: return H5Tcopy(H5T_NATIVE_FLOAT);
  case IO_FIELD_UINT8: return H5Tcopy(H5T_NATIVE_UINT8);
  case IO_FIELD_STRING: {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, f->string_bytes) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0)) {
      H5Tclose(t);
      return -1;
    }
    return t;
  }
  }
  return -1;
}

hid_t io_tl_row_type(const io_table_def *def, char *msg) {
  if (!def->name || !def->name[0] || def->row_bytes == 0 || def->field_count == 0) {
    io_tl_set_msg(msg, IO_TL_MSG_BYTES, "table '%s': needs a name, a row size and fields",
                  def->name ? def->name : "");
    return -1;
  }
  hid_t type = H5Tcreate(H5T_COMPOUND, def->row_bytes);
  for (size_t i = 0; type >= 0 && i < def->field_count; i++) {
    const io_field *f = &def->fields[i];
    size_t bytes = io_tl_field_bytes(f);
    if (!f->name || !f->name[0] || bytes == 0 || f->offset + bytes > def->row_bytes) {
      io_tl_set_msg(msg, IO_TL_MSG_BYTES,
                    "table '%s': field %zu ('%s') has no name or size, or ends past the row",
                    def->name, i, f->name ? f->name : "");
      H5Tclose(type);
      return -1;
    }
    hid_t member = io_tl_field_hdf5_type(f);
    herr_t status = member < 0 ? -1 : H5Tinsert(type, f->name, f->offset, member);
    if (member >= 0)
      H5Tclose(member);
    if (status < 0) {
      char what[IO_TL_MSG_BYTES];
      io_tl_set_msg(what, sizeof what, "table '%s': field '%s' (duplicate or overlapping?)",
                    def->name, f->name);
      io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, what);
      H5Tclose(type);
      return -1;
    }
  }
  if (type < 0)
    io_tl_hdf5_msg(msg, IO_TL_MSG_BYTES, "cannot create a compound type");
  return type;
}
