/* The collective fit: reads measured NCCL tables (AIConfigurator, APEX+, Vidur), prices each
 * measured call on a preset's topology through net_coll_shape_of/net_coll_time_ns, fits each
 * (collective, domain)'s parameters by Nelder-Mead on squared log error, and reports the error,
 * as text (wt_net_fit) or as calibration rows (calib_eval_collectives). */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "calib/eval.h"
#include "calib/fit.h"
#include "calib/minimise.h"
#include "calib/output.h"
#include "calib/reader.h"
#include "net/collective_model.h"
#include "net/net.h"
#include "util/array.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/stats.h"

/* Where each dataset came from (the data directory's SOURCE.md files name them). */
static const char *const data_provenance[] = {
    "aiconfigurator/: github.com/ai-dynamo/aiconfigurator commit "
    "095f58a51c4ca8e61b66ec108d86f223f8d559ce (Apache-2.0)",
    "apex_plus/: github.com/microsoft/apex_plus commit 8769096536a34e8b3010fd444021f13858663a93 "
    "(MIT)",
    "vidur/data/: github.com/microsoft/vidur commit 7d47513363ec447a741ac5e47241580b47724fbf (MIT)",
};

/* A median may exceed its committed figure by this much (percentage points) before --check fails:
 * the figures are written with one decimal from unrounded parameters, and the committed sample
 * of tests/calib/net_data keeps every 20th Vidur row, which moves a median by up to 0.6 points. */
static double tolerance_pct(double committed) {
  double relative = 0.05 * committed;
  return relative > 1.0 ? relative : 1.0;
}

typedef enum reader_kind { READ_AIC, READ_APEX, READ_VIDUR } reader_kind;

typedef struct job {
  net_collective op;
  net_coll_domain domain;
  const char *role;    /* "fit" or "check" */
  const char *dataset; /* relative to the data directory */
  reader_kind reader;
  const char *preset; /* the system the data was measured on */
} job;

#define AIC "aiconfigurator/kernels/"
#define APEX "apex_plus/comm/"
#define VIDUR "vidur/data/profiling/network/"

/* Fits on H100 tables; H200 and the other sources are held out as checks. */
static const job jobs[] = {
    {NET_ALL_REDUCE, NET_DOMAIN_INTRA, "fit", AIC "h100_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h100"},
    {NET_ALL_REDUCE, NET_DOMAIN_INTRA, "check", AIC "h200_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h200"},
    {NET_ALL_REDUCE, NET_DOMAIN_INTRA, "check", APEX "H100-SXM-80GB/all_reduce.csv", READ_APEX,
     "dgx-h100"},
    {NET_ALL_REDUCE, NET_DOMAIN_INTRA, "check", APEX "H200-SXM-141GB/all_reduce.csv", READ_APEX,
     "dgx-h200"},
    {NET_ALL_REDUCE, NET_DOMAIN_INTRA, "check", VIDUR "h100_dgx/all_reduce.csv", READ_VIDUR,
     "dgx-h100"},
    {NET_ALL_REDUCE, NET_DOMAIN_INTRA, "check", VIDUR "a100_dgx/all_reduce.csv", READ_VIDUR,
     "dgx-a100"},
    {NET_ALL_GATHER, NET_DOMAIN_INTRA, "fit", AIC "h100_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h100"},
    {NET_ALL_GATHER, NET_DOMAIN_INTRA, "check", AIC "h200_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h200"},
    {NET_ALL_GATHER, NET_DOMAIN_INTRA, "check", APEX "H100-SXM-80GB/all_gather.csv", READ_APEX,
     "dgx-h100"},
    {NET_ALL_GATHER, NET_DOMAIN_INTRA, "check", APEX "H200-SXM-141GB/all_gather.csv", READ_APEX,
     "dgx-h200"},
    {NET_REDUCE_SCATTER, NET_DOMAIN_INTRA, "fit", AIC "h100_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h100"},
    {NET_REDUCE_SCATTER, NET_DOMAIN_INTRA, "check", AIC "h200_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h200"},
    {NET_REDUCE_SCATTER, NET_DOMAIN_INTRA, "check", APEX "H100-SXM-80GB/reduce_scatter.csv",
     READ_APEX, "dgx-h100"},
    {NET_REDUCE_SCATTER, NET_DOMAIN_INTRA, "check", APEX "H200-SXM-141GB/reduce_scatter.csv",
     READ_APEX, "dgx-h200"},
    {NET_ALL_TO_ALL, NET_DOMAIN_INTRA, "fit", AIC "h100_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h100"},
    {NET_ALL_TO_ALL, NET_DOMAIN_INTRA, "check", AIC "h200_sxm_comm_nccl_2.29.2_nccl_perf.csv",
     READ_AIC, "dgx-h200"},
    {NET_ALL_TO_ALL, NET_DOMAIN_INTRA, "check", APEX "H100-SXM-80GB/alltoall.csv", READ_APEX,
     "dgx-h100"},
    {NET_ALL_TO_ALL, NET_DOMAIN_INTRA, "check", APEX "H200-SXM-141GB/alltoall.csv", READ_APEX,
     "dgx-h200"},
    {NET_SEND_RECV, NET_DOMAIN_INTRA, "fit", APEX "H100-SXM-80GB/sendrecv.csv", READ_APEX,
     "dgx-h100"},
    {NET_SEND_RECV, NET_DOMAIN_INTRA, "check", APEX "H200-SXM-141GB/sendrecv.csv", READ_APEX,
     "dgx-h200"},
    {NET_SEND_RECV, NET_DOMAIN_INTRA, "check", VIDUR "h100_dgx/send_recv.csv", READ_VIDUR,
     "dgx-h100"},
    {NET_SEND_RECV, NET_DOMAIN_INTRA, "check", VIDUR "a100_dgx/send_recv.csv", READ_VIDUR,
     "dgx-a100"},
    /* Across nodes only Vidur measured: all-reduce on A100 nodes, send/recv on both. */
    {NET_ALL_REDUCE, NET_DOMAIN_INTER, "fit", VIDUR "a100_dgx/all_reduce.csv", READ_VIDUR,
     "dgx-a100"},
    {NET_SEND_RECV, NET_DOMAIN_INTER, "fit", VIDUR "h100_dgx/send_recv.csv", READ_VIDUR,
     "dgx-h100"},
    {NET_SEND_RECV, NET_DOMAIN_INTER, "check", VIDUR "a100_dgx/send_recv.csv", READ_VIDUR,
     "dgx-a100"},
};
#define NJOBS (sizeof jobs / sizeof jobs[0])

/* (collective, domain) pairs without measurements take another pair's parameters. */
typedef struct transfer {
  net_collective op;
  net_coll_domain domain;
  net_collective from;
  const char *why;
} transfer;

static const transfer transfers[] = {
    {NET_ALL_GATHER, NET_DOMAIN_INTER, NET_ALL_REDUCE, "no inter-node all-gather measurement"},
    {NET_REDUCE_SCATTER, NET_DOMAIN_INTER, NET_ALL_REDUCE,
     "no inter-node reduce-scatter measurement"},
    {NET_ALL_TO_ALL, NET_DOMAIN_INTER, NET_ALL_REDUCE, "no inter-node all-to-all measurement"},
};

/* ---- points ---- */

/* One measured call: bytes as nccl-tests counts them, ranks, ranks per node, time. */
typedef struct point {
  double bytes;
  uint32_t gpus, per_node;
  double measured_ns;
  net_coll_shape shape;
} point;

typedef struct points {
  point *p;
  size_t n, cap;
} points;

static int push(points *ps, double bytes, double gpus, double per_node, double measured_ns) {
  if (!(measured_ns > 0.0) || !(gpus >= 2.0) || !(per_node >= 1.0) || !(bytes >= 0.0))
    return 0; /* nothing to fit in log space, or not a collective */
  point *grown = util_grow(ps->p, &ps->cap, ps->n + 1, sizeof *grown);
  if (!grown)
    return -1;
  ps->p = grown;
  ps->p[ps->n++] = (point){bytes, (uint32_t)gpus, (uint32_t)per_node, measured_ns, {0}};
  return 0;
}

static bool in_domain(net_coll_domain d, double gpus, double per_node) {
  return (per_node >= gpus) == (d == NET_DOMAIN_INTRA);
}

/* AIConfigurator NCCL tables: message_size elements of nccl_dtype (half 2 B, int8 1 B), which
 * times the element size is nccl-tests' size; latency in ms; all GPUs in one node. */
static const char *aic_op_name(net_collective op) {
  static const char *const names[] = {"all_reduce", "all_gather", "reduce_scatter", "alltoall",
                                      "sendrecv"};
  return names[op];
}

typedef struct rows_ctx {
  const job *j;
  points *out;
} rows_ctx;

static int rows_record(const calib_reader *rc, const util_csv *c, const int *cols, void *ctx) {
  const rows_ctx *t = ctx;
  const job *j = t->j;
  double v[4];
  if (j->reader == READ_AIC) {
    if (strcmp(util_csv_get(c, cols[3]), aic_op_name(j->op)) != 0)
      return 0;
    const char *dtype = util_csv_get(c, cols[4]);
    double elem = !strcmp(dtype, "half") ? 2.0 : !strcmp(dtype, "int8") ? 1.0 : 0.0;
    if (elem == 0.0)
      return 0;
    if (calib_reader_nums(rc, c, cols, v, 3) != 0)
      return -1;
    if (push(t->out, v[1] * elem, v[0], v[0], v[2] * 1e6) != 0)
      return util_err(rc->err, rc->err_len, "out of memory");
    return 0;
  }
  if (calib_reader_nums(rc, c, cols, v, 4) != 0)
    return -1;
  double gpus, per_node, bytes, ns;
  if (j->reader == READ_APEX) /* size in KiB, time in us */
    gpus = v[0] * v[1], per_node = v[1], bytes = v[2] * 1024.0, ns = v[3] * 1e3;
  else /* Vidur: size in bytes, median in ms */
    gpus = v[0], per_node = v[1], bytes = v[2], ns = v[3] * 1e6;
  if (in_domain(j->domain, gpus, per_node) && push(t->out, bytes, gpus, per_node, ns) != 0)
    return util_err(rc->err, rc->err_len, "out of memory");
  return 0;
}

static int read_rows(const calib_reader *rc, const job *j, points *out) {
  static const char *const aic[] = {"num_gpus", "message_size", "latency", "op_name", "nccl_dtype"};
  static const char *const apex[] = {"num_nodes", "num_gpus_per_node", "size(kb)", "time(us)"};
  char median[64];
  snprintf(median, sizeof median, "time_stats.%s.median",
           j->op == NET_SEND_RECV ? "send_recv" : "all_reduce");
  const char *const vidur[] = {"num_workers", "devices_per_node", "size", median};
  rows_ctx t = {j, out};
  util_csv c;
  if (calib_reader_open(rc, &c, j->dataset) != 0 ||
      calib_reader_each(rc, &c,
                        j->reader == READ_AIC    ? aic
                        : j->reader == READ_APEX ? apex
                                                 : vidur,
                        j->reader == READ_AIC ? 5 : 4, NULL, 0, rows_record, &t) != 0)
    return -1;
  if (out->n == 0)
    return util_err(rc->err, rc->err_len, "%s/%s: no usable rows", rc->data_dir, j->dataset);
  return 0;
}

/* Builds the preset's topology with enough nodes and prices each point's placement: ranks fill
 * per_node accelerators of consecutive nodes. */
static int shape_points(const calib_reader *rc, const job *j, points *pts) {
  const net_preset *pr = net_preset_find(j->preset);
  if (!pr) {
    snprintf(rc->err, rc->err_len, "no preset '%s'", j->preset);
    return -1;
  }
  uint32_t nodes = 1;
  for (size_t i = 0; i < pts->n; i++) {
    uint32_t need = (pts->p[i].gpus + pts->p[i].per_node - 1) / pts->p[i].per_node;
    if (pts->p[i].gpus > 256) { /* before a topology of that many nodes is built */
      snprintf(rc->err, rc->err_len, "%s: %u ranks, more than 256", j->dataset, pts->p[i].gpus);
      return -1;
    }
    if (pts->p[i].per_node > pr->accels_per_node) {
      snprintf(rc->err, rc->err_len, "%s: %u ranks per node on %s nodes of %u", j->dataset,
               pts->p[i].per_node, pr->name, pr->accels_per_node);
      return -1;
    }
    if (need > nodes)
      nodes = need;
  }
  net_node_group g = pr->group;
  g.count = nodes;
  net_topology *t = net_topology_create(&g, 1, &pr->fabric, rc->err, rc->err_len);
  if (!t)
    return -1;
  int result = 0;
  uint32_t accels[256];
  for (size_t i = 0; i < pts->n && result == 0; i++) {
    point *p = &pts->p[i];
    for (uint32_t r = 0; r < p->gpus; r++)
      accels[r] = r / p->per_node * pr->accels_per_node + r % p->per_node;
    if (net_coll_shape_of(t, j->op, accels, p->gpus, &p->shape) != 0) {
      snprintf(rc->err, rc->err_len, "%s: %u ranks cannot reach each other on %s", j->dataset,
               p->gpus, pr->name);
      result = -1;
    } else if (p->shape.domain != j->domain) {
      snprintf(rc->err, rc->err_len, "%s: a %u-rank point is not %s", j->dataset, p->gpus,
               net_domain_names[j->domain]);
      result = -1;
    }
  }
  net_topology_destroy(t);
  return result;
}

/* A job's measured calls, read and placed on its preset; 0, or -1 with a message (pts holds what
 * was read either way: the caller frees it). */
static int load(const calib_reader *rc, const job *j, points *pts) {
  return read_rows(rc, j, pts) != 0 || shape_points(rc, j, pts) != 0 ? -1 : 0;
}

/* ---- the fit ---- */

static double predict_ns(const job *j, const point *p, const net_coll_params *params) {
  return net_coll_time_ns(&p->shape, j->op, NET_ALGO_AUTO, p->bytes, params);
}

/* A link fraction in (0, 1] from an unbounded search coordinate: a protocol cannot beat the link's
 * bandwidth, so the fit may not trade the copy term for a link faster than the datasheet's. */
static double frac_of(double x) { return 1.0 / (1.0 + exp(-x)); }
static double frac_x(double frac) { return log(frac / (1.0 - frac)); }

static net_coll_params params_of(const double *x) {
  return (net_coll_params){.base_ns = exp(x[0]),
                           .step_ns = exp(x[1]),
                           .link_frac = frac_of(x[2]),
                           .bulk_step_ns = exp(x[3]),
                           .bulk_link_frac = frac_of(x[4]),
                           .copy_ns_per_byte = exp(x[5])};
}

/* LL's base, step and link fraction; bulk's step, link fraction and copy cost per byte. */
enum { NPARAMS = 6 };

/* The search over the parameters (logs; logits for the fractions): wider first steps (0.5) than the
 * kernel fits', up to 10 runs of 600 steps per parameter, and a tighter convergence test (1e-13).
 */
static const calib_minimise_opts search = {
    .first_step = 0.5, .restarts = 10, .iterations_per_param = 600, .converged = 1e-13};

/* One job's points, for the loss. */
typedef struct problem {
  const job *j;
  const points *pts;
} problem;

/* Mean squared log error of the predicted times under the search coordinates x. */
static double loss(const void *ctx, const double *x) {
  const problem *pb = ctx;
  net_coll_params params = params_of(x);
  double sum = 0.0;
  for (size_t i = 0; i < pb->pts->n; i++) {
    double le = log(predict_ns(pb->j, &pb->pts->p[i], &params) / pb->pts->p[i].measured_ns);
    sum += le * le;
  }
  return isfinite(sum) ? sum / (double)pb->pts->n : INFINITY;
}

/* ---- error statistics ---- */

typedef struct fit_stats {
  size_t n;
  double median_pct, p90_pct;
} fit_stats;

/* Stats over the points with `gpus` ranks (0: all), printed as one report line. */
static fit_stats evaluate(const job *j, const points *pts, const net_coll_params *params,
                          uint32_t gpus, double *scratch, FILE *report) {
  fit_stats s = {0, NAN, NAN};
  for (size_t i = 0; i < pts->n; i++)
    if (gpus == 0 || pts->p[i].gpus == gpus)
      scratch[s.n++] = fabs(predict_ns(j, &pts->p[i], params) / pts->p[i].measured_ns - 1.0);
  if (s.n == 0)
    return s;
  util_error_percentiles(scratch, s.n, &s.median_pct, &s.p90_pct);
  if (report) {
    char g[16];
    snprintf(g, sizeof g, gpus ? "%u" : "all", gpus);
    fprintf(report,
            "collective dataset=%s op=%s gpus=%s points=%zu median_abs_pct=%.1f p90_abs_pct=%.1f "
            "domain=%s role=%s\n",
            j->dataset, net_collective_names[j->op], g, s.n, s.median_pct, s.p90_pct,
            net_domain_names[j->domain], j->role);
  }
  return s;
}

/* The all-ranks stats plus one line per rank count, in increasing order. */
static fit_stats report_job(const job *j, const points *pts, const net_coll_params *params,
                            FILE *report, char *err, size_t err_len) {
  fit_stats all = {0, NAN, NAN};
  double *scratch = malloc(pts->n * sizeof *scratch);
  if (!scratch) {
    snprintf(err, err_len, "out of memory");
    return all;
  }
  all = evaluate(j, pts, params, 0, scratch, report);
  for (uint32_t g = 2, prev = 1; g != UINT32_MAX; prev = g) {
    g = UINT32_MAX; /* the next larger rank count present */
    for (size_t i = 0; i < pts->n; i++)
      if (pts->p[i].gpus > prev && pts->p[i].gpus < g)
        g = pts->p[i].gpus;
    if (g != UINT32_MAX)
      evaluate(j, pts, params, g, scratch, report);
  }
  free(scratch);
  return all;
}

/* ---- committed figures and output ---- */

/* The committed median of (op, domain, dataset) in the embedded collective.csv; NAN if none. */
static double committed_median(const job *j) {
  util_csv c;
  char err[256];
  double median = NAN;
  if (util_csv_open_text(&c, net_data_collective_csv, net_data_collective_csv_len, "collective.csv",
                         err, sizeof err) != 0)
    return NAN;
  int op = util_csv_col(&c, "op"), dom = util_csv_col(&c, "domain"),
      ds = util_csv_col(&c, "dataset");
  int med = util_csv_col(&c, "median_abs_pct");
  while (op >= 0 && dom >= 0 && ds >= 0 && med >= 0 && util_csv_next(&c, err, sizeof err) == 1)
    if (!strcmp(util_csv_get(&c, op), net_collective_names[j->op]) &&
        !strcmp(util_csv_get(&c, dom), net_domain_names[j->domain]) &&
        !strcmp(util_csv_get(&c, ds), j->dataset) &&
        util_csv_double(&c, med, NAN, &median, err, sizeof err) != 0)
      median = NAN;
  util_csv_close(&c);
  return median;
}

typedef struct row {
  const job *j;
  fit_stats stats;
} row;

static int write_csv(const char *out_path, const net_coll_table *table, const row *rows,
                     size_t nrows, char *err, size_t err_len) {
  char tmp[UTIL_CSV_TMP_BYTES];
  FILE *f = util_csv_create(out_path, tmp, err, err_len);
  if (!f)
    return -1;
  fprintf(f,
          "# Fitted parameters of net/'s collective cost model (net/collective.c, "
          "net/SOURCES.md).\n");
  fprintf(
      f,
      "# Written by `wt_net_fit DATA_DIR net/data/collective.csv` (calib_fit_collectives, "
      "calib/fit_collectives.c), DATA_DIR laid out\n# like ../shared/data: do not edit by hand.\n");
  for (size_t i = 0; i < sizeof data_provenance / sizeof *data_provenance; i++)
    fprintf(f, "# data %s\n", data_provenance[i]);
  fprintf(f,
          "# role fit: parameters fitted to the dataset; check: the same parameters against "
          "held-out data;\n# transfer: parameters copied where nothing was measured. Errors: "
          "median and p90 of |predicted/measured - 1|, percent.\n");
  fprintf(f,
          "op,domain,role,base_ns,step_ns,link_frac,bulk_step_ns,bulk_link_frac,copy_ns_per_byte,"
          "dataset,gpus,points,median_abs_pct,p90_abs_pct\n");
  for (size_t i = 0; i < nrows; i++) {
    const job *j = rows[i].j;
    fprintf(f, "%s,%s,%s,", net_collective_names[j->op], net_domain_names[j->domain], j->role);
    if (!strcmp(j->role, "fit")) {
      const net_coll_params *p = &table->p[j->op][j->domain];
      fprintf(f, "%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", p->base_ns, p->step_ns, p->link_frac,
              p->bulk_step_ns, p->bulk_link_frac, p->copy_ns_per_byte);
    } else {
      fprintf(f, ",,,,,,");
    }
    fprintf(f, "%s,all,%zu,%.1f,%.1f\n", j->dataset, rows[i].stats.n, rows[i].stats.median_pct,
            rows[i].stats.p90_pct);
  }
  for (size_t t = 0; t < sizeof transfers / sizeof *transfers; t++) {
    const transfer *tr = &transfers[t];
    const net_coll_params *p = &table->p[tr->op][tr->domain];
    fprintf(f, "%s,%s,transfer,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,\"as %s/%s: %s\",all,0,,\n",
            net_collective_names[tr->op], net_domain_names[tr->domain], p->base_ns, p->step_ns,
            p->link_frac, p->bulk_step_ns, p->bulk_link_frac, p->copy_ns_per_byte,
            net_collective_names[tr->from], net_domain_names[tr->domain], tr->why);
  }
  return util_csv_commit(f, tmp, out_path, err, err_len);
}

int calib_fit_collectives(const char *data_dir, const char *out_path, FILE *report, char *err,
                          size_t err_len) {
  if (out_path && calib_output_writable(out_path, err, err_len) != 0)
    return -1; /* an unwritable output fails now, not after the fit */
  bool fitting = out_path != NULL;
  net_coll_table table;
  if (net_coll_table_parse(net_data_collective_csv, net_data_collective_csv_len,
                           "net/data/collective.csv (embedded)", &table, err, err_len) != 0)
    return -1;
  calib_reader rc = {data_dir, err, err_len};
  row rows[NJOBS];
  size_t nrows = 0, evaluated = 0;
  int result = 0;
  char worse[512] = "";
  /* Fits first (pass 0), then transfers, then checks against the fitted parameters (pass 1). */
  for (int pass = 0; pass < 2 && result >= 0; pass++) {
    for (size_t k = 0; k < NJOBS && result >= 0; k++) {
      const job *j = &jobs[k];
      bool is_fit = !strcmp(j->role, "fit");
      if ((pass == 0) != is_fit)
        continue;
      points pts = {0};
      if (load(&rc, j, &pts) != 0) {
        free(pts.p);
        if (fitting) {
          result = -1; /* every dataset is needed for a reproducible file */
          break;
        }
        if (report)
          fprintf(report, "collective dataset=%s op=%s skipped: %s\n", j->dataset,
                  net_collective_names[j->op], err);
        continue;
      }
      net_coll_params *params = &table.p[j->op][j->domain];
      if (fitting && is_fit) {
        /* From a launch of 5 us, LL steps of 1 us at half the link, bulk steps of 2 us at 90%
         * and staging at 1 TB/s: the orders of magnitude of nccl-tests on NVLink. */
        double x[NPARAMS] = {log(5000.0), log(1000.0), frac_x(0.5),
                             log(2000.0), frac_x(0.9), log(1e-3)};
        problem pb = {j, &pts};
        calib_minimise(loss, &pb, NPARAMS, &search, x);
        *params = params_of(x);
      }
      if (report && fitting && is_fit)
        fprintf(report,
                "  fitted %s/%s: base_ns=%.6g step_ns=%.6g link_frac=%.6g bulk_step_ns=%.6g "
                "bulk_link_frac=%.6g copy_ns_per_byte=%.6g\n",
                net_collective_names[j->op], net_domain_names[j->domain], params->base_ns,
                params->step_ns, params->link_frac, params->bulk_step_ns, params->bulk_link_frac,
                params->copy_ns_per_byte);
      fit_stats s = report_job(j, &pts, params, report, err, err_len);
      free(pts.p);
      if (s.n == 0) {
        result = -1;
        break;
      }
      rows[nrows++] = (row){j, s};
      evaluated++;
      if (!fitting) {
        double committed = committed_median(j);
        if (isfinite(committed) && s.median_pct > committed + tolerance_pct(committed)) {
          snprintf(worse, sizeof worse,
                   "%s %s/%s: median error %.1f%% exceeds the committed %.1f%% by more than "
                   "%.1f points",
                   j->dataset, net_collective_names[j->op], net_domain_names[j->domain],
                   s.median_pct, committed, tolerance_pct(committed));
          if (report)
            fprintf(report, "  FAIL: %s\n", worse);
          result = 1;
        }
      }
    }
    if (pass == 0 && fitting)
      for (size_t t = 0; t < sizeof transfers / sizeof *transfers; t++)
        table.p[transfers[t].op][transfers[t].domain] =
            table.p[transfers[t].from][transfers[t].domain];
  }
  if (result < 0)
    return -1;
  if (!fitting && evaluated == 0) {
    snprintf(err, err_len, "%s: none of the measured tables was found", data_dir);
    return -1;
  }
  if (result > 0) {
    snprintf(err, err_len, "%s", worse);
    return 1;
  }
  if (fitting) {
    /* Rows in the job table's order, fits and checks together. */
    row ordered[NJOBS];
    size_t n = 0;
    for (size_t k = 0; k < NJOBS; k++)
      for (size_t i = 0; i < nrows; i++)
        if (rows[i].j == &jobs[k])
          ordered[n++] = rows[i];
    return write_csv(out_path, &table, ordered, n, err, err_len);
  }
  return 0;
}

/* A figure at the one decimal wt_net_fit reports it with: calibrate has always judged the
 * collective figures at that precision (--check against the committed ones, also one decimal). */
static double one_decimal(double pct) {
  char text[32];
  snprintf(text, sizeof text, "%.1f", pct);
  return strtod(text, NULL);
}

int calib_eval_collectives(const char *data_dir, calib_rows *out, char *err, size_t err_len) {
  net_coll_table table;
  if (net_coll_table_parse(net_data_collective_csv, net_data_collective_csv_len,
                           "net/data/collective.csv (embedded)", &table, err, err_len) != 0)
    return -1;
  char why[512]; /* why a table was skipped: it goes into the row's note */
  calib_reader rc = {data_dir, why, sizeof why};
  int result = 0;
  /* Fits first, then checks, as calib_fit_collectives reports them. */
  for (int pass = 0; pass < 2 && result == 0; pass++) {
    for (size_t k = 0; k < NJOBS && result == 0; k++) {
      const job *j = &jobs[k];
      if ((pass == 0) != !strcmp(j->role, "fit"))
        continue;
      points pts = {0};
      calib_row row;
      memset(&row, 0, sizeof row);
      if (load(&rc, j, &pts) != 0) {
        snprintf(row.op, sizeof row.op, "collective.%s", net_collective_names[j->op]);
        result = calib_rows_skip(out, j->dataset, row.op, why);
        free(pts.p);
        continue;
      }
      double *scratch = malloc(pts.n * sizeof *scratch);
      if (scratch) { /* all rank counts together; per rank count: wt_net_fit --check */
        fit_stats s = evaluate(j, &pts, &table.p[j->op][j->domain], 0, scratch, NULL);
        snprintf(row.dataset, sizeof row.dataset, "%s", j->dataset);
        snprintf(row.op, sizeof row.op, "collective.%s.%s", net_collective_names[j->op],
                 net_domain_names[j->domain]);
        row.points = s.n;
        row.median_abs_pct = one_decimal(s.median_pct), row.p90_abs_pct = one_decimal(s.p90_pct);
        snprintf(row.note, sizeof row.note,
                 "net/ collective model on the measuring system's preset (per rank count: "
                 "wt_net_fit --check)");
      }
      result = scratch ? calib_rows_add(out, &row) : -1;
      free(scratch);
      free(pts.p);
    }
  }
  return result != 0 ? util_err(err, err_len, "out of memory") : 0;
}
