/* Internal to io/timeline*.c: what the timeline's writer (timeline.c) and reader
 * (timeline_read.c) share: one-line messages from HDF5's error stack, HDF5 kept quiet, and the
 * HDF5 types of io_table_def rows (timeline_hdf5.c). Not a public header. */
#ifndef IO_TIMELINE_HDF5_H
#define IO_TIMELINE_HDF5_H

#include <stddef.h>

#include <hdf5.h>

#include "io/timeline.h"

enum { IO_TL_MSG_BYTES = 512 };

/* vsnprintf into msg when msg is not NULL. */
void io_tl_set_msg(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "what: <HDF5's innermost error>" into msg and clears HDF5's error stack. */
void io_tl_hdf5_msg(char *msg, size_t len, const char *what);

/* HDF5 prints its error stack by default; we report one line instead. Every public function that
 * calls HDF5 silences it for its duration and restores the caller's setting. */
typedef struct io_tl_quiet {
  H5E_auto2_t func;
  void *data;
} io_tl_quiet;
io_tl_quiet io_tl_quiet_begin(void);
void io_tl_quiet_end(io_tl_quiet q);

/* status, with msg copied into err when it is not 0. */
int io_tl_finish(int status, const char *msg, char *err, size_t err_len);

/* Bytes of a field in its row, and its HDF5 type (the caller closes it; -1 on failure). */
/* The value of string attribute attr, fixed-length (as the writer stores strings) or
 * variable-length (as another program may): malloc'd, the caller's to free; NULL when it is not a
 * string or HDF5 fails. */
char *io_tl_string_attr(hid_t attr);

size_t io_tl_field_bytes(const io_field *f);
hid_t io_tl_field_hdf5_type(const io_field *f);
/* The compound type of def's row struct, after checking the definition; -1 with a message in msg
 * (IO_TL_MSG_BYTES). */
hid_t io_tl_row_type(const io_table_def *def, char *msg);

#endif
