/* The one helper shared by serving/report.c (the summary) and serving/report_write.c (the CSV
 * export): both refuse a timeline they cannot read right. Not installed: callers see report.h. */
#ifndef WT_SERVING_REPORT_PRIVATE_H
#define WT_SERVING_REPORT_PRIVATE_H

#include <stddef.h>

#include "io/timeline.h"

/* Refuses a file this report cannot read right: another schema, or another version of it. Returns
 * 0, or -1 with a message. */
int report_check_schema(io_timeline_reader *r, char *err, size_t err_len);

#endif
