/* The summary's headline figures by name (ttft_ms_p90, fleet_usd_per_h, ...): the columns of a
 * sweep's results file, and what a study's search limits and objectives may name. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <stddef.h>

#include "serving/report.h"

typedef enum srv_metric_type { SRV_METRIC_DOUBLE, SRV_METRIC_U64, SRV_METRIC_U32 } srv_metric_type;

typedef struct srv_metric {
  const char *name;
  size_t offset; /* in srv_summary */
  srv_metric_type type;
} srv_metric;

extern const srv_metric srv_metrics[];
extern const size_t srv_metric_count;

/* The metric called name; NULL when there is none. */
const srv_metric *srv_metric_find(const char *name);
/* Its value in s, as a double. */
double srv_metric_value(const srv_metric *m, const srv_summary *s);

#endif
