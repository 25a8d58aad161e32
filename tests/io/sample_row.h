/* The row both timeline tests write: 48 bytes, no padding, one field of every type. */
#ifndef TESTS_TIMELINE_SAMPLE_ROW_H
#define TESTS_TIMELINE_SAMPLE_ROW_H

#include <stdint.h>

#include "io/timeline.h"

typedef struct sample_row {
  uint64_t key;
  int64_t start_ns;
  double energy_j;
  int32_t instance;
  uint32_t tokens;
  float share;
  uint8_t fate;
  char label[11];
} sample_row;

static const io_field sample_fields[] = {
    IO_FIELD(sample_row, key, IO_FIELD_UINT64),      IO_FIELD(sample_row, start_ns, IO_FIELD_INT64),
    IO_FIELD(sample_row, energy_j, IO_FIELD_DOUBLE), IO_FIELD(sample_row, instance, IO_FIELD_INT32),
    IO_FIELD(sample_row, tokens, IO_FIELD_UINT32),   IO_FIELD(sample_row, share, IO_FIELD_FLOAT),
    IO_FIELD(sample_row, fate, IO_FIELD_UINT8),      IO_FIELD_STR(sample_row, label),
};

#endif
