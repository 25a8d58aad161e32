/* Field lists of the serving timeline's tables and their keys (serving/schema.h). */
#define _GNU_SOURCE /* qsort_r */
#include "serving/schema.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const io_field request_fields[] = {
    IO_FIELD(srv_request_row, id, IO_FIELD_INT64),
    IO_FIELD(srv_request_row, arrival_ns, IO_FIELD_INT64),
    IO_FIELD(srv_request_row, dispatch_ns, IO_FIELD_INT64),
    IO_FIELD(srv_request_row, first_scheduled_ns, IO_FIELD_INT64),
    IO_FIELD(srv_request_row, first_token_ns, IO_FIELD_INT64),
    IO_FIELD(srv_request_row, done_ns, IO_FIELD_INT64),
    IO_FIELD(srv_request_row, input_tokens, IO_FIELD_INT32),
    IO_FIELD(srv_request_row, output_tokens, IO_FIELD_INT32),
    IO_FIELD(srv_request_row, instance, IO_FIELD_INT32),
    IO_FIELD(srv_request_row, decode_instance, IO_FIELD_INT32),
    IO_FIELD(srv_request_row, preemptions, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, prefix_hit_tokens, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, fate, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, decode_prefix_hit_tokens, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, swaps, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, tier_hit_tokens, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, priority, IO_FIELD_INT32),
    IO_FIELD(srv_request_row, service_tier, IO_FIELD_UINT32),
    IO_FIELD(srv_request_row, energy_j, IO_FIELD_DOUBLE),
    IO_FIELD(srv_request_row, deadline_ns, IO_FIELD_INT64),
};

static const io_field transfer_fields[] = {
    IO_FIELD(srv_transfer_row, id, IO_FIELD_INT64),
    IO_FIELD(srv_transfer_row, prefill_instance, IO_FIELD_UINT32),
    IO_FIELD(srv_transfer_row, decode_instance, IO_FIELD_UINT32),
    IO_FIELD(srv_transfer_row, bytes, IO_FIELD_UINT64),
    IO_FIELD(srv_transfer_row, flows, IO_FIELD_UINT32),
    IO_FIELD(srv_transfer_row, ready_ns, IO_FIELD_INT64),
    IO_FIELD(srv_transfer_row, start_ns, IO_FIELD_INT64),
    IO_FIELD(srv_transfer_row, end_ns, IO_FIELD_INT64),
};

static const io_field node_fields[] = {
    IO_FIELD(srv_node_row, node, IO_FIELD_UINT32),
    IO_FIELD(srv_node_row, rack, IO_FIELD_UINT32),
    IO_FIELD(srv_node_row, accelerators, IO_FIELD_UINT32),
    IO_FIELD(srv_node_row, busy_accelerators, IO_FIELD_UINT32),
    IO_FIELD_STR(srv_node_row, group),
    IO_FIELD(srv_node_row, host_w, IO_FIELD_DOUBLE),
    IO_FIELD(srv_node_row, idle_w, IO_FIELD_DOUBLE),
    IO_FIELD(srv_node_row, energy_j, IO_FIELD_DOUBLE),
    IO_FIELD(srv_node_row, host_cpu_j, IO_FIELD_DOUBLE),
};

static const io_field power_fields[] = {
    IO_FIELD(srv_power_row, node, IO_FIELD_UINT32),
    IO_FIELD(srv_power_row, rack, IO_FIELD_UINT32),
    IO_FIELD(srv_power_row, start_ns, IO_FIELD_INT64),
    IO_FIELD(srv_power_row, end_ns, IO_FIELD_INT64),
    IO_FIELD(srv_power_row, energy_j, IO_FIELD_DOUBLE),
    IO_FIELD(srv_power_row, avg_w, IO_FIELD_DOUBLE),
};

static const io_field link_fields[] = {
    IO_FIELD(srv_link_row, link, IO_FIELD_UINT32),
    IO_FIELD(srv_link_row, kind, IO_FIELD_UINT32),
    IO_FIELD_STR(srv_link_row, name),
    IO_FIELD(srv_link_row, bytes_per_s, IO_FIELD_DOUBLE),
    IO_FIELD(srv_link_row, latency_ns, IO_FIELD_INT64),
    IO_FIELD(srv_link_row, bytes, IO_FIELD_UINT64),
    IO_FIELD(srv_link_row, chunks, IO_FIELD_UINT64),
    IO_FIELD(srv_link_row, busy_ns, IO_FIELD_INT64),
};

static const io_field link_util_fields[] = {
    IO_FIELD(srv_link_util_row, link, IO_FIELD_UINT32),
    IO_FIELD(srv_link_util_row, start_ns, IO_FIELD_INT64),
    IO_FIELD(srv_link_util_row, busy_ns, IO_FIELD_INT64),
    IO_FIELD(srv_link_util_row, utilisation, IO_FIELD_DOUBLE),
};

static const io_field iteration_fields[] = {
    IO_FIELD(srv_iteration_row, instance, IO_FIELD_UINT32),
    IO_FIELD(srv_iteration_row, index, IO_FIELD_UINT64),
    IO_FIELD(srv_iteration_row, start_ns, IO_FIELD_INT64),
    IO_FIELD(srv_iteration_row, end_ns, IO_FIELD_INT64),
    IO_FIELD(srv_iteration_row, prefill_seqs, IO_FIELD_UINT32),
    IO_FIELD(srv_iteration_row, prefill_tokens, IO_FIELD_UINT32),
    IO_FIELD(srv_iteration_row, decode_seqs, IO_FIELD_UINT32),
    IO_FIELD(srv_iteration_row, kv_blocks_used, IO_FIELD_UINT32),
    IO_FIELD(srv_iteration_row, decode_ctx_tokens, IO_FIELD_UINT32),
};

static const io_field instance_fields[] = {
    IO_FIELD(srv_instance_row, instance, IO_FIELD_UINT32),
    IO_FIELD(srv_instance_row, tp, IO_FIELD_UINT32),
    IO_FIELD(srv_instance_row, pp, IO_FIELD_UINT32),
    IO_FIELD(srv_instance_row, role, IO_FIELD_UINT32),
    IO_FIELD(srv_instance_row, pod, IO_FIELD_INT32),
    IO_FIELD(srv_instance_row, rack, IO_FIELD_UINT32),
    IO_FIELD(srv_instance_row, node, IO_FIELD_UINT32),
    IO_FIELD(srv_instance_row, nodes, IO_FIELD_UINT32),
    IO_FIELD_STR(srv_instance_row, deployment),
    IO_FIELD_STR(srv_instance_row, model),
    IO_FIELD_STR(srv_instance_row, accelerator),
    IO_FIELD(srv_instance_row, kv_blocks_total, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, kv_blocks_peak, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, iterations, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, completed, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, preemptions, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, busy_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, kv_block_ns, IO_FIELD_DOUBLE),
    IO_FIELD(srv_instance_row, energy_j, IO_FIELD_DOUBLE),
    IO_FIELD(srv_instance_row, prefix_query_tokens, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, prefix_hit_tokens, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, tier_hit_tokens, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, swaps_out, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, swaps_in, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, tier_load_bytes, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, tier_store_bytes, IO_FIELD_UINT64),
    IO_FIELD(srv_instance_row, tier_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, off_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, provisioning_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, loading_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, warm_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, serving_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, draining_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, serving_busy_ns, IO_FIELD_INT64),
    IO_FIELD(srv_instance_row, accelerators, IO_FIELD_UINT32),
};

static const io_field lifecycle_fields[] = {
    IO_FIELD(srv_lifecycle_row, time_ns, IO_FIELD_INT64),
    IO_FIELD(srv_lifecycle_row, instance, IO_FIELD_UINT32),
    IO_FIELD(srv_lifecycle_row, seq, IO_FIELD_UINT32),
    IO_FIELD(srv_lifecycle_row, from, IO_FIELD_UINT32),
    IO_FIELD(srv_lifecycle_row, to, IO_FIELD_UINT32),
    IO_FIELD(srv_lifecycle_row, reason, IO_FIELD_UINT32),
    IO_FIELD(srv_lifecycle_row, accelerators, IO_FIELD_UINT32),
};

static const io_field kv_tier_fields[] = {
    IO_FIELD(srv_kv_tier_row, node, IO_FIELD_UINT32),
    IO_FIELD(srv_kv_tier_row, kind, IO_FIELD_UINT32),
    IO_FIELD(srv_kv_tier_row, capacity_bytes, IO_FIELD_DOUBLE),
    IO_FIELD(srv_kv_tier_row, bytes_per_s, IO_FIELD_DOUBLE),
    IO_FIELD(srv_kv_tier_row, latency_ns, IO_FIELD_INT64),
    IO_FIELD(srv_kv_tier_row, peak_bytes, IO_FIELD_UINT64),
    IO_FIELD(srv_kv_tier_row, stored_blocks, IO_FIELD_UINT64),
    IO_FIELD(srv_kv_tier_row, evicted_blocks, IO_FIELD_UINT64),
    IO_FIELD(srv_kv_tier_row, hit_blocks, IO_FIELD_UINT64),
};

static const io_field interval_fields[] = {
    IO_FIELD(srv_interval_row, instance, IO_FIELD_UINT32),
    IO_FIELD(srv_interval_row, kv_blocks_peak, IO_FIELD_UINT32),
    IO_FIELD(srv_interval_row, start_ns, IO_FIELD_INT64),
    IO_FIELD(srv_interval_row, iterations, IO_FIELD_UINT64),
    IO_FIELD(srv_interval_row, prefill_tokens, IO_FIELD_UINT64),
    IO_FIELD(srv_interval_row, decode_seqs, IO_FIELD_UINT64),
    IO_FIELD(srv_interval_row, seqs, IO_FIELD_UINT64),
    IO_FIELD(srv_interval_row, busy_ns, IO_FIELD_INT64),
    IO_FIELD(srv_interval_row, kv_block_ns, IO_FIELD_DOUBLE),
};

static const io_field engine_fields[] = {
    IO_FIELD(srv_engine_row, rank, IO_FIELD_UINT32),
    IO_FIELD(srv_engine_row, thread, IO_FIELD_UINT32),
    IO_FIELD(srv_engine_row, events, IO_FIELD_UINT64),
    IO_FIELD(srv_engine_row, windows, IO_FIELD_UINT64),
    IO_FIELD(srv_engine_row, sent_thread, IO_FIELD_UINT64),
    IO_FIELD(srv_engine_row, sent_rank, IO_FIELD_UINT64),
    IO_FIELD(srv_engine_row, received_remote, IO_FIELD_UINT64),
    IO_FIELD(srv_engine_row, pending_peak, IO_FIELD_UINT64),
    IO_FIELD(srv_engine_row, process_s, IO_FIELD_DOUBLE),
    IO_FIELD(srv_engine_row, sync_s, IO_FIELD_DOUBLE),
};

#define TABLE(name, row, fields)                                                                   \
  { name, sizeof(row), fields, sizeof fields / sizeof *fields, 0 }

const io_table_def srv_requests_table = TABLE("requests", srv_request_row, request_fields);
const io_table_def srv_iterations_table = TABLE("iterations", srv_iteration_row, iteration_fields);
const io_table_def srv_instances_table = TABLE("instances", srv_instance_row, instance_fields);
const io_table_def srv_engine_table = TABLE("engine", srv_engine_row, engine_fields);
const io_table_def srv_transfers_table = TABLE("transfers", srv_transfer_row, transfer_fields);
const io_table_def srv_nodes_table = TABLE("nodes", srv_node_row, node_fields);
const io_table_def srv_power_table = TABLE("power", srv_power_row, power_fields);
const io_table_def srv_links_table = TABLE("links", srv_link_row, link_fields);
const io_table_def srv_link_util_table = TABLE("link_utilisation", srv_link_util_row,
                                               link_util_fields);
const io_table_def srv_kv_tiers_table = TABLE("kv_tiers", srv_kv_tier_row, kv_tier_fields);
const io_table_def srv_intervals_table = TABLE("instance_intervals", srv_interval_row,
                                               interval_fields);
const io_table_def srv_lifecycle_table = TABLE("lifecycle", srv_lifecycle_row, lifecycle_fields);

/* Each table's key: one or two integer fields, as the row types' comments name them. */
static const struct {
  const io_table_def *def;
  const char *keys[2];
} table_keys[] = {
    {&srv_requests_table, {"id"}},
    {&srv_iterations_table, {"instance", "index"}},
    {&srv_intervals_table, {"instance", "start_ns"}},
    {&srv_instances_table, {"instance"}},
    {&srv_transfers_table, {"id"}},
    {&srv_nodes_table, {"node"}},
    {&srv_power_table, {"node", "start_ns"}},
    {&srv_links_table, {"link"}},
    {&srv_link_util_table, {"link", "start_ns"}},
    {&srv_kv_tiers_table, {"node"}},
    {&srv_engine_table, {"rank", "thread"}},
    {&srv_lifecycle_table, {"instance", "seq"}},
};

/* A key field's value as an int64 (every key field is an integer). */
static int64_t key_value(const io_field *f, const void *row) {
  const void *p = (const char *)row + f->offset;
  switch (f->type) {
  case IO_FIELD_INT64: return *(const int64_t *)p;
  case IO_FIELD_UINT64: return (int64_t) * (const uint64_t *)p;
  case IO_FIELD_INT32: return *(const int32_t *)p;
  case IO_FIELD_UINT32: return *(const uint32_t *)p;
  case IO_FIELD_UINT8: return *(const uint8_t *)p;
  default: assert(!"a key field is an integer"); return 0;
  }
}

static int cmp_by_key(const void *a, const void *b, void *keys) {
  const io_field *const *k = keys;
  for (int i = 0; i < 2 && k[i]; i++) {
    int64_t x = key_value(k[i], a), y = key_value(k[i], b);
    if (x != y)
      return (x > y) - (x < y);
  }
  return 0;
}

void srv_sort_rows(const io_table_def *def, void *rows, uint64_t n) {
  const io_field *keys[2] = {NULL, NULL};
  for (size_t t = 0; t < sizeof table_keys / sizeof *table_keys; t++)
    if (table_keys[t].def == def)
      for (int i = 0; i < 2 && table_keys[t].keys[i]; i++)
        for (size_t f = 0; f < def->field_count; f++)
          if (strcmp(def->fields[f].name, table_keys[t].keys[i]) == 0)
            keys[i] = &def->fields[f];
  assert(keys[0]); /* one of the serving tables */
  if (n > 1)
    qsort_r(rows, n, def->row_bytes, cmp_by_key, keys);
}
