/* `windtunnel trace`: a timeline as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open: a process per node, a thread per instance with its iterations as slices,
 * requests as async slices, KV transfers as async slices and flows, counters for KV use and power.
 * Written by hand: the format needs only strings, integers and decimals, and Debian's JSON
 * libraries would add a dependency for what fprintf and one escaping function do. */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "io/units.h"
#include "serving/report.h"
#include "serving/schema.h"

/* What is written, and where. */
typedef struct trace_job {
  FILE *out;
  int64_t from_ns, to_ns; /* only what overlaps [from_ns, to_ns] */
  bool *instance_on;      /* [instances]: selected; NULL: all */
  uint32_t instances;
  uint32_t *instance_pid; /* [instances]: its node's process (node + 1) */
  uint32_t router_pid;    /* after the nodes' (some viewers treat pid 0 as the idle task) */
  uint64_t events;
  bool first;
} trace_job;

static void trace_usage(FILE *out) {
  fprintf(out,
          "usage: windtunnel trace FILE.h5 [-o run.json] [--from TIME] [--to TIME]\n"
          "                        [--instances LIST]\n"
          "Writes the timeline as Chrome trace-event JSON for Perfetto (ui.perfetto.dev) or\n"
          "chrome://tracing: a process per node, a track per instance with its iterations as\n"
          "slices (batch composition in their args; needs output.iterations: all or sampled,\n"
          "else interval counters stand in), requests as async slices from arrival to\n"
          "completion (queued, prefill, decode inside), KV transfers as async slices with\n"
          "flows from the prefill to the decode instance, counters for KV use and power.\n"
          "  -o, --output FILE   the JSON file (default: FILE.json beside the timeline)\n"
          "  --from TIME         leave out what ends before TIME (e.g. 10s, 2min; default 0)\n"
          "  --to TIME           leave out what starts after TIME (default: the run's end)\n"
          "  --instances LIST    only these instances, e.g. 0,3,8-11 (requests and transfers\n"
          "                      that touch one of them, their nodes' power)\n"
          "  -h, --help          this help\n");
}

/* ---- JSON pieces ---- */

static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(out, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(out, "\\u%04x", *p);
    else
      fputc(*p, out);
  }
  fputc('"', out);
}

/* A time in microseconds, exact to the nanosecond. */
static void json_us(FILE *out, int64_t ns) {
  if (ns < 0)
    fprintf(out, "-%lld.%03lld", (long long)(-ns / 1000), (long long)(-ns % 1000));
  else
    fprintf(out, "%lld.%03lld", (long long)(ns / 1000), (long long)(ns % 1000));
}

static void json_number(FILE *out, double x) {
  if (isfinite(x))
    fprintf(out, "%.9g", x);
  else
    fputs("null", out);
}

/* Starts an event: {"ph":..,"pid":..,"tid":..,"ts":..,"name":.. ; the caller adds fields and
 * closes it with end_event. */
static void begin_event(trace_job *job, const char *ph, uint32_t pid, uint32_t tid, int64_t ts_ns,
                        const char *name) {
  fputs(job->first ? "\n" : ",\n", job->out);
  job->first = false;
  job->events++;
  fprintf(job->out, "{\"ph\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":", ph, pid, tid);
  json_us(job->out, ts_ns);
  fputs(",\"name\":", job->out);
  json_string(job->out, name);
}

static void end_event(trace_job *job) { fputc('}', job->out); }

static void metadata(trace_job *job, const char *what, uint32_t pid, uint32_t tid, const char *name,
                     int64_t sort_index) {
  begin_event(job, "M", pid, tid, 0, what);
  fputs(",\"args\":{\"name\":", job->out);
  json_string(job->out, name);
  fputs("}", job->out);
  end_event(job);
  begin_event(job, "M", pid, tid, 0,
              strcmp(what, "process_name") == 0 ? "process_sort_index" : "thread_sort_index");
  fprintf(job->out, ",\"args\":{\"sort_index\":%lld}}", (long long)sort_index);
}

static void counter(trace_job *job, uint32_t pid, int64_t ts_ns, const char *name,
                    const char *series, double value) {
  begin_event(job, "C", pid, 0, ts_ns, name);
  fputs(",\"args\":{", job->out);
  json_string(job->out, series);
  fputc(':', job->out);
  json_number(job->out, value);
  fputs("}", job->out);
  end_event(job);
}

/* An async slice's begin or end ("b"/"e"): category and id pair them. */
static void async_event(trace_job *job, const char *ph, uint32_t pid, uint32_t tid, int64_t ts_ns,
                        const char *name, const char *cat, const char *id_prefix, int64_t id) {
  begin_event(job, ph, pid, tid, ts_ns, name);
  fprintf(job->out, ",\"cat\":\"%s\",\"id\":\"%s%lld\"", cat, id_prefix, (long long)id);
}

/* ---- selection ---- */

static bool instance_selected(const trace_job *job, int64_t instance) {
  if (instance < 0 || instance >= job->instances)
    return false;
  return !job->instance_on || job->instance_on[instance];
}

static bool overlaps(const trace_job *job, int64_t start_ns, int64_t end_ns) {
  return end_ns >= job->from_ns && start_ns <= job->to_ns;
}

/* Parses "0,3,8-11" into job->instance_on. Returns 0, or -1 with a message. */
static int parse_instances(trace_job *job, const char *list, char *err, size_t err_len) {
  job->instance_on = calloc(job->instances + 1, sizeof *job->instance_on);
  if (!job->instance_on) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  const char *p = list;
  while (*p) {
    char *end;
    long first = strtol(p, &end, 10), last = first;
    if (end == p || first < 0)
      goto bad;
    p = end;
    if (*p == '-') {
      last = strtol(p + 1, &end, 10);
      if (end == p + 1 || last < first)
        goto bad;
      p = end;
    }
    if (last >= (long)job->instances) {
      snprintf(err, err_len, "--instances: the timeline has instances 0 to %u, not %ld",
               job->instances ? job->instances - 1 : 0, last);
      return -1;
    }
    for (long i = first; i <= last; i++)
      job->instance_on[i] = true;
    if (*p == ',')
      p++;
    else if (*p)
      goto bad;
  }
  return 0;
bad:
  snprintf(err, err_len, "--instances expects a list such as 0,3,8-11, not '%s'", list);
  return -1;
}

/* ---- the parts of the trace ---- */

static const char *role_name(uint32_t role) {
  return role == 1 ? "prefill" : role == 2 ? "decode" : "mixed";
}

static void write_names(trace_job *job, const srv_node_row *nodes, uint64_t nnodes,
                        const srv_instance_row *inst, uint64_t ninst) {
  bool *node_used = calloc(nnodes + 1, sizeof *node_used);
  for (uint64_t i = 0; i < ninst; i++) {
    if (!instance_selected(job, inst[i].instance))
      continue;
    char name[256];
    snprintf(name, sizeof name, "instance %u (%s, %s, tp %u pp %u)", inst[i].instance,
             inst[i].deployment, role_name(inst[i].role), inst[i].tp, inst[i].pp);
    metadata(job, "thread_name", job->instance_pid[inst[i].instance], inst[i].instance + 1, name,
             inst[i].instance);
    if (node_used && inst[i].node < nnodes)
      node_used[inst[i].node] = true;
  }
  for (uint64_t n = 0; n < nnodes; n++) {
    if (job->instance_on && (!node_used || nodes[n].node >= nnodes || !node_used[nodes[n].node]))
      continue;
    char name[256];
    snprintf(name, sizeof name, "node %u (%s, rack %u)", nodes[n].node, nodes[n].group,
             nodes[n].rack);
    metadata(job, "process_name", nodes[n].node + 1, 0, name, nodes[n].node + 1);
  }
  free(node_used);
  if (!job->instance_on)
    metadata(job, "process_name", job->router_pid, 0, "router (requests that reached no instance)",
             job->router_pid);
}

static void write_iterations(trace_job *job, const srv_iteration_row *it, uint64_t nit,
                             const uint64_t *kv_total) {
  /* KV use counters change only at iterations; emit a point when the value changes. */
  uint32_t *last_kv = malloc((job->instances + 1) * sizeof *last_kv);
  if (last_kv)
    for (uint32_t i = 0; i < job->instances; i++)
      last_kv[i] = UINT32_MAX;
  for (uint64_t i = 0; i < nit; i++) {
    const srv_iteration_row *v = &it[i];
    if (!instance_selected(job, v->instance) || !overlaps(job, v->start_ns, v->end_ns))
      continue;
    uint32_t pid = job->instance_pid[v->instance];
    const char *name = v->prefill_seqs == 0 ? "decode" : v->decode_seqs == 0 ? "prefill" : "mixed";
    begin_event(job, "X", pid, v->instance + 1, v->start_ns, name);
    fputs(",\"dur\":", job->out);
    json_us(job->out, v->end_ns - v->start_ns);
    fprintf(job->out,
            ",\"args\":{\"iteration\":%llu,\"prefill_seqs\":%u,\"prefill_tokens\":%u,"
            "\"decode_seqs\":%u,\"batch\":%u,\"kv_blocks_used\":%u,\"decode_ctx_tokens\":%u}",
            (unsigned long long)v->index, v->prefill_seqs, v->prefill_tokens, v->decode_seqs,
            v->prefill_seqs + v->decode_seqs, v->kv_blocks_used, v->decode_ctx_tokens);
    end_event(job);
    if (last_kv && last_kv[v->instance] != v->kv_blocks_used && kv_total[v->instance]) {
      char cname[64];
      snprintf(cname, sizeof cname, "KV use, instance %u", v->instance);
      counter(job, pid, v->start_ns, cname, "share",
              (double)v->kv_blocks_used / (double)kv_total[v->instance]);
      last_kv[v->instance] = v->kv_blocks_used;
    }
  }
  free(last_kv);
}

/* Without iteration rows: each instance's interval sums as counters at the interval's start. */
static void write_intervals(trace_job *job, const srv_interval_row *ivl, uint64_t nivl,
                            int64_t width_ns, const uint64_t *kv_total) {
  for (uint64_t i = 0; i < nivl; i++) {
    const srv_interval_row *v = &ivl[i];
    if (!instance_selected(job, v->instance) || !overlaps(job, v->start_ns, v->start_ns + width_ns))
      continue;
    uint32_t pid = job->instance_pid[v->instance];
    char name[64];
    snprintf(name, sizeof name, "busy share, instance %u", v->instance);
    counter(job, pid, v->start_ns, name, "share", (double)v->busy_ns / (double)width_ns);
    snprintf(name, sizeof name, "mean batch, instance %u", v->instance);
    counter(job, pid, v->start_ns, name, "sequences",
            v->iterations ? (double)v->seqs / (double)v->iterations : 0);
    snprintf(name, sizeof name, "tokens/s, instance %u", v->instance);
    counter(job, pid, v->start_ns, name, "tokens/s",
            (double)(v->prefill_tokens + v->decode_seqs) / ((double)width_ns * 1e-9));
    if (kv_total[v->instance]) {
      snprintf(name, sizeof name, "KV use, instance %u", v->instance);
      counter(job, pid, v->start_ns, name, "share",
              v->kv_block_ns / ((double)kv_total[v->instance] * (double)width_ns));
    }
  }
}

static void write_requests(trace_job *job, const srv_request_row *req, uint64_t nreq,
                           int64_t simulated_ns) {
  for (uint64_t i = 0; i < nreq; i++) {
    const srv_request_row *q = &req[i];
    int64_t end = q->done_ns >= 0 ? q->done_ns : simulated_ns;
    bool on = job->instance_on ? instance_selected(job, q->instance) ||
                                     instance_selected(job, q->decode_instance)
                               : true;
    if (!on || q->arrival_ns < 0 || !overlaps(job, q->arrival_ns, end))
      continue;
    /* On the track of the instance that computed its prompt, or of its decode instance when
     * only that one is selected; on the router's when it reached none. */
    int64_t owner = instance_selected(job, q->instance)          ? q->instance
                    : instance_selected(job, q->decode_instance) ? q->decode_instance
                                                                 : -1;
    uint32_t pid = owner >= 0 ? job->instance_pid[owner] : job->router_pid;
    uint32_t tid = owner >= 0 ? (uint32_t)owner + 1 : 0;
    char name[64];
    snprintf(name, sizeof name, "request %lld", (long long)q->id);
    async_event(job, "b", pid, tid, q->arrival_ns, name, "request", "r", q->id);
    fprintf(job->out,
            ",\"args\":{\"id\":%lld,\"input_tokens\":%d,\"output_tokens\":%d,\"instance\":%d,"
            "\"decode_instance\":%d,\"preemptions\":%u,\"prefix_hit_tokens\":%u,\"completed\":%s",
            (long long)q->id, q->input_tokens, q->output_tokens, q->instance, q->decode_instance,
            q->preemptions, q->prefix_hit_tokens, q->fate == SRV_FATE_COMPLETED ? "true" : "false");
    if (q->first_token_ns >= 0) {
      fputs(",\"ttft_ms\":", job->out);
      json_number(job->out, (double)(q->first_token_ns - q->arrival_ns) * 1e-6);
    }
    fputs("}", job->out);
    end_event(job);
    /* Its phases, nested: each begins where the previous ends. */
    const struct {
      const char *name;
      int64_t start, end;
    } phases[] = {{"dispatch", q->arrival_ns, q->dispatch_ns},
                  {"queued", q->dispatch_ns, q->first_scheduled_ns},
                  {"prefill", q->first_scheduled_ns, q->first_token_ns},
                  {"decode", q->first_token_ns, q->done_ns}};
    for (size_t p = 0; p < sizeof phases / sizeof *phases; p++) {
      if (phases[p].start < 0)
        break;
      int64_t phase_end = phases[p].end >= 0 ? phases[p].end : end;
      async_event(job, "b", pid, tid, phases[p].start, phases[p].name, "request", "r", q->id);
      end_event(job);
      async_event(job, "e", pid, tid, phase_end, phases[p].name, "request", "r", q->id);
      end_event(job);
      if (phases[p].end < 0)
        break;
    }
    async_event(job, "e", pid, tid, end, name, "request", "r", q->id);
    end_event(job);
  }
}

static void write_transfers(trace_job *job, const srv_transfer_row *tr, uint64_t ntr, bool flows) {
  for (uint64_t i = 0; i < ntr; i++) {
    const srv_transfer_row *t = &tr[i];
    bool from = instance_selected(job, t->prefill_instance);
    bool to = instance_selected(job, t->decode_instance);
    if (!(from || to) || !overlaps(job, t->ready_ns, t->end_ns))
      continue;
    uint32_t to_pid = to ? job->instance_pid[t->decode_instance] : 0;
    if (to) {
      char name[64];
      snprintf(name, sizeof name, "KV of request %lld", (long long)t->id);
      async_event(job, "b", to_pid, t->decode_instance + 1, t->start_ns, name, "kv_transfer", "t",
                  t->id);
      fprintf(job->out,
              ",\"args\":{\"request\":%lld,\"from_instance\":%u,\"to_instance\":%u,"
              "\"bytes\":%llu,\"flows\":%u,\"wait_for_room_ms\":",
              (long long)t->id, t->prefill_instance, t->decode_instance,
              (unsigned long long)t->bytes, t->flows);
      json_number(job->out, (double)(t->start_ns - t->ready_ns) * 1e-6);
      fputs("}", job->out);
      end_event(job);
      async_event(job, "e", to_pid, t->decode_instance + 1, t->end_ns, name, "kv_transfer", "t",
                  t->id);
      end_event(job);
    }
    /* A flow from the prefill iteration that completed the KV (it ends at ready_ns) to the
     * decode instance's next iteration after the last byte. */
    if (flows && from && to) {
      begin_event(job, "s", job->instance_pid[t->prefill_instance], t->prefill_instance + 1,
                  t->ready_ns - 1, "KV transfer");
      fprintf(job->out, ",\"cat\":\"kv_flow\",\"id\":%lld}", (long long)t->id);
      begin_event(job, "f", to_pid, t->decode_instance + 1, t->end_ns, "KV transfer");
      fprintf(job->out, ",\"cat\":\"kv_flow\",\"id\":%lld}", (long long)t->id);
    }
  }
}

static void write_power(trace_job *job, const srv_power_row *pw, uint64_t npw, const bool *node_on,
                        uint64_t nnodes) {
  for (uint64_t i = 0; i < npw; i++) {
    const srv_power_row *p = &pw[i];
    if (p->node >= nnodes || (node_on && !node_on[p->node]) ||
        !overlaps(job, p->start_ns, p->end_ns))
      continue;
    counter(job, p->node + 1, p->start_ns, "IT power (W)", "W", p->avg_w);
  }
}

int app_trace(int argc, char **argv) {
  static const struct option options[] = {
      {"output", required_argument, 0, 'o'}, {"from", required_argument, 0, 'f'},
      {"to", required_argument, 0, 't'},     {"instances", required_argument, 0, 'i'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  const char *output = NULL, *from = NULL, *to = NULL, *instances = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'o': output = optarg; break;
    case 'f': from = optarg; break;
    case 't': to = optarg; break;
    case 'i': instances = optarg; break;
    case 'h': trace_usage(stdout); return 0;
    default:
      fprintf(stderr, "windtunnel trace: %s '%s'; see 'windtunnel trace --help'\n",
              optopt ? "missing value for" : "unknown option", argv[optind - 1]);
      return 2;
    }
  }
  if (optind + 1 != argc) {
    fprintf(stderr, optind < argc ? "windtunnel trace: one timeline at a time\n"
                                  : "windtunnel trace: which timeline? usage: windtunnel trace "
                                    "FILE.h5 -o run.json\n");
    return 2;
  }
  const char *path = argv[optind];
  char err[1024], default_output[4096], partial[4200];
  trace_job job = {.from_ns = 0, .to_ns = INT64_MAX, .first = true};
  if (from && io_units_parse_i64(IO_UNIT_NS, from, &job.from_ns, err, sizeof err) != 0) {
    fprintf(stderr, "windtunnel trace: --from: %s\n", err);
    return 2;
  }
  if (to && io_units_parse_i64(IO_UNIT_NS, to, &job.to_ns, err, sizeof err) != 0) {
    fprintf(stderr, "windtunnel trace: --to: %s\n", err);
    return 2;
  }
  if (job.to_ns < job.from_ns) {
    fprintf(stderr, "windtunnel trace: --to is before --from\n");
    return 2;
  }
  if (!output) {
    size_t len = strlen(path);
    if (len > 3 && strcmp(path + len - 3, ".h5") == 0)
      len -= 3;
    snprintf(default_output, sizeof default_output, "%.*s.json", (int)len, path);
    output = default_output;
  }
  io_timeline_reader *r = io_timeline_reader_open(path, false, err, sizeof err);
  if (!r) {
    fprintf(stderr, "windtunnel trace: %s\n", err);
    return 1;
  }
  srv_request_row *req = NULL;
  srv_instance_row *inst = NULL;
  srv_iteration_row *it = NULL;
  srv_interval_row *ivl = NULL;
  srv_transfer_row *tr = NULL;
  srv_node_row *nodes = NULL;
  srv_power_row *pw = NULL;
  uint64_t nreq = 0, ninst = 0, nit = 0, nivl = 0, ntr = 0, nnodes = 0, npw = 0;
  uint64_t *kv_total = NULL;
  bool *node_on = NULL;
  char *iterations_mode = NULL;
  int64_t simulated_ns = 0, interval_ns = 0, sample_every = 1;
  int rc = 1;
  if (io_timeline_reader_attr_int64(r, "simulated_ns", &simulated_ns, err, sizeof err) ||
      io_timeline_reader_attr_int64(r, "output_interval_ns", &interval_ns, err, sizeof err) ||
      io_timeline_reader_attr_int64(r, "output_sample_every", &sample_every, err, sizeof err) ||
      io_timeline_reader_attr_string(r, "output_iterations", &iterations_mode, err, sizeof err) ||
      srv_report_read_table(r, &srv_requests_table, (void **)&req, &nreq, err, sizeof err) ||
      srv_report_read_table(r, &srv_instances_table, (void **)&inst, &ninst, err, sizeof err) ||
      srv_report_read_table(r, &srv_iterations_table, (void **)&it, &nit, err, sizeof err) ||
      srv_report_read_table(r, &srv_intervals_table, (void **)&ivl, &nivl, err, sizeof err) ||
      srv_report_read_table(r, &srv_transfers_table, (void **)&tr, &ntr, err, sizeof err) ||
      srv_report_read_table(r, &srv_nodes_table, (void **)&nodes, &nnodes, err, sizeof err) ||
      srv_report_read_table(r, &srv_power_table, (void **)&pw, &npw, err, sizeof err))
    goto out;
  srv_sort_rows(&srv_requests_table, req, nreq);
  srv_sort_rows(&srv_instances_table, inst, ninst);
  srv_sort_rows(&srv_iterations_table, it, nit);
  srv_sort_rows(&srv_intervals_table, ivl, nivl);
  srv_sort_rows(&srv_transfers_table, tr, ntr);
  srv_sort_rows(&srv_nodes_table, nodes, nnodes);
  srv_sort_rows(&srv_power_table, pw, npw);
  job.instances = (uint32_t)ninst;
  job.router_pid = (uint32_t)nnodes + 1;
  job.instance_pid = calloc(ninst + 1, sizeof *job.instance_pid);
  kv_total = calloc(ninst + 1, sizeof *kv_total);
  node_on = calloc(nnodes + 1, sizeof *node_on);
  if (!job.instance_pid || !kv_total || !node_on) {
    snprintf(err, sizeof err, "out of memory for %llu instances", (unsigned long long)ninst);
    goto out;
  }
  if (instances && parse_instances(&job, instances, err, sizeof err) != 0) {
    rc = 2;
    goto out;
  }
  for (uint64_t i = 0; i < ninst; i++) {
    if (inst[i].instance >= ninst || inst[i].node >= nnodes) {
      snprintf(err, sizeof err, "%.500s: /instances row %llu names instance %u on node %u of %llu",
               path, (unsigned long long)i, inst[i].instance, inst[i].node,
               (unsigned long long)nnodes);
      goto out;
    }
    job.instance_pid[inst[i].instance] = inst[i].node + 1;
    kv_total[inst[i].instance] = inst[i].kv_blocks_total;
    if (instance_selected(&job, inst[i].instance))
      node_on[inst[i].node] = true;
  }
  snprintf(partial, sizeof partial, "%s.partial", output);
  job.out = fopen(partial, "w");
  if (!job.out) {
    snprintf(err, sizeof err, "cannot write %.900s", partial);
    goto out;
  }
  char note[512];
  if (nit)
    snprintf(note, sizeof note,
             strcmp(iterations_mode, "sampled") == 0
                 ? "iterations: every %lld-th of each instance (output.iterations: sampled)"
                 : "iterations: every one (output.iterations: all)",
             (long long)sample_every);
  else
    snprintf(note, sizeof note,
             "no per-iteration rows (output.iterations: %s): instance activity as counters per "
             "interval of %g s; run with --set output.iterations=all for iteration slices",
             iterations_mode, (double)interval_ns * 1e-9);
  fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"timeline\":", job.out);
  json_string(job.out, path);
  fputs(",\"note\":", job.out);
  json_string(job.out, note);
  fputs("},\"traceEvents\":[", job.out);
  write_names(&job, nodes, nnodes, inst, ninst);
  if (nit)
    write_iterations(&job, it, nit, kv_total);
  else if (nivl && interval_ns > 0)
    write_intervals(&job, ivl, nivl, interval_ns, kv_total);
  write_requests(&job, req, nreq, simulated_ns);
  write_transfers(&job, tr, ntr, nit > 0);
  write_power(&job, pw, npw, job.instance_on ? node_on : NULL, nnodes);
  fputs("\n]}\n", job.out);
  if (ferror(job.out) | (fclose(job.out) != 0)) {
    snprintf(err, sizeof err, "cannot write %.900s", partial);
    remove(partial);
    goto out;
  }
  if (rename(partial, output) != 0) {
    snprintf(err, sizeof err, "cannot rename %.400s to %.400s", partial, output);
    remove(partial);
    goto out;
  }
  if (!nit)
    fprintf(stderr, "windtunnel trace: %s\n", note);
  printf("%s: %llu trace events\n", output, (unsigned long long)job.events);
  rc = 0;
out:
  if (rc)
    fprintf(stderr, "windtunnel trace: %s\n", err);
  io_timeline_reader_close(r);
  free(req);
  free(inst);
  free(it);
  free(ivl);
  free(tr);
  free(nodes);
  free(pw);
  free(kv_total);
  free(node_on);
  free(iterations_mode);
  free(job.instance_pid);
  free(job.instance_on);
  return rc;
}
