/* Internal to serving/: the serving model that its LP kinds share (read-only while the engine
 * runs, except the per-node state that only the node's partition writes), the LP kinds, the
 * events and messages between them, and the functions one file of serving/ offers another. */
#ifndef SRV_MODEL_H
#define SRV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "hw/price_cache.h"
#include "io/timeline.h"
#include "jobs/kvcache_tier.h"
#include "jobs/router.h"
#include "jobs/sched.h"
#include "jobs/workload.h"
#include "net/link.h"
#include "partitions/part.h"
#include "serving/checkpoint.h"
#include "serving/cluster.h"
#include "serving/scenario.h"
#include "serving/schema.h"
#include "serving/serving.h"
#include "util/idmap.h"
#include "util/timebins.h"

/* The LP kinds, in id order: a new kind is one more file and one more row here and in the table of
 * serving.c. */
typedef enum srv_lp_kind {
  SRV_LP_ROUTER,     /* the one router, the global router in front of pod routers, or with regions
                      * one front door per region */
  SRV_LP_POD_ROUTER, /* hierarchical routing: one per pod (none without router.pods) */
  SRV_LP_INSTANCE,
  SRV_LP_LINK,
  SRV_LP_CONTROLLER, /* autoscaling (deployments.N.scaling): one, beside the (first) router; else
                        none */
  SRV_LP_KINDS
} srv_lp_kind;

enum {
  EV_ARRIVAL = 1,
  EV_DISPATCH,      /* (pod) router -> instance; aux: the decode instance, or NO_INSTANCE */
  EV_ITERATION_END, /* instance -> itself */
  EV_COMPLETE,      /* instance -> its (pod) router, pod router -> global router: it left */
  EV_KV_READY,      /* prefill -> decode instance: the prompt's KV is ready; aux: preemptions */
  EV_KV_PULL,       /* decode -> prefill instance: blocks are allocated, send the KV */
  EV_KV_ARRIVED,    /* last link -> decode instance: one flow of a transfer has landed */
  EV_KV_RELEASE,    /* decode -> prefill instance: the KV arrived, free your copy */
  EV_CHUNK,         /* between links */
  EV_ROUTE,         /* global router -> pod router: a request (dispatch_msg) */
  /* prefill -> decode instance, closed loops and router.batch only, just before EV_KV_READY: the
   * request's arrival and dispatch (arrival_msg), which the request store cannot know up front */
  EV_ARRIVED_AT,
  EV_REPORT, /* pod router -> itself: time to report its load (regions) */
  EV_LOAD,   /* pod router -> every front door: its load (load_msg) */
  /* Instance lifecycle (lifecycle.c, controller.c) */
  EV_START,   /* controller -> instance: start; aux: the srv_lc_state to reach (serving, warm) */
  EV_LC_STEP, /* instance -> itself: provisioning or loading done */
  EV_CLOSE,   /* controller -> (pod) router: send no more to instance aux; payload[0]: drain to
                 warm */
  EV_DRAIN,   /* (pod) router -> instance: finish your requests, then stop; aux: 1 to warm, 0 off */
  EV_READY,   /* instance -> (pod) router: serving, send it work */
  EV_LC_REPORT, /* instance -> controller: it reached state aux (serving, warm or off); payload[0]:
                   1 when a kill stopped it */
  EV_TICK,      /* controller -> itself: time to sample (and maybe decide) */
  EV_METRICS_ASK, /* controller -> router (with pods: every front door and pod router) */
  EV_METRICS,     /* routers -> controller: a deployment's metrics (metrics_msg); aux: deployment */
  EV_INTERRUPT,   /* controller -> itself: spot instance aux gets its interruption notice */
  EV_KILL,        /* controller -> instance: the notice is over, stop now */
  EV_GONE,        /* instance -> (pod) router: it stopped (killed): send it nothing */
  EV_RETRY,       /* instance -> (pod) router: a request it could not finish (dispatch_msg), again;
                     pod router -> front door: a request its pod cannot take now, to route again */
  EV_POD_STATE,   /* pod router -> front doors: aux 1 when its pod has an instance that accepts
                     work again, 0 when it has none */
  EV_BATCH_DUE,   /* router -> itself: a queued batch request's deadline less router.batch.lead
                     has come: it goes now, spare capacity or not */
};

/* What the router sees of a deployment, for its controller. */
typedef struct metrics_msg {
  uint64_t arrived;     /* requests that reached the router so far (the whole stream) */
  uint32_t outstanding; /* dispatched to its serving instances and not yet done */
  uint32_t held;        /* waiting at the router for an instance to accept them */
  uint32_t finished;    /* the workload is over: nothing more will arrive or is in flight (with
                           pods, per answer: a front door has read its last request) */
  /* With pods, where no one router sees every request: a front door's requests sent on, less a pod
   * router's requests that left the pod. Adding up to 0 over every answer, with every front door's
   * reading done: it is over. */
  int64_t unfinished;
} metrics_msg;
/* Rows a rank buffers before every rank writes them out: small enough that a run's memory is flat
 * from its first minutes (an hour of 64 instances appends about 8 MiB), large enough that the
 * collective writes stay rare. */
enum { FLUSH_BYTES = 4 << 20 };
/* Power intervals between the boundaries at which the power rows before them are written: the
 * nodes' energy bins hold about this many intervals, however long the run. */
enum { POWER_ROWS_INTERVALS = 1024 };
#define NO_INSTANCE UINT32_MAX

typedef struct dispatch_msg {
  int64_t id, arrival_ns;
  int32_t input_tokens, output_tokens;
  uint32_t model; /* job_request_attrs.model: routed among its deployments' instances (0: any) */
} dispatch_msg;

typedef struct complete_msg {
  int64_t id;
  int32_t input_tokens, output_tokens;
} complete_msg;

/* A pod router's load report to the front doors (regions): its outstanding requests. */
typedef struct load_msg {
  uint32_t outstanding;
} load_msg;

/* What the decode side needs from the prefill side to continue the request's row. */
typedef struct kv_ready_msg {
  int64_t id, first_scheduled_ns, first_token_ns;
  uint32_t prefix_hit_tokens;
  float energy_j; /* the prefill side's share */
} kv_ready_msg;

typedef struct arrival_msg {
  int64_t id, arrival_ns, dispatch_ns;
} arrival_msg;

typedef struct kv_pull_msg {
  int64_t id;
  uint64_t bytes;
  uint32_t flows;
} kv_pull_msg;

/* Arrival time and lengths of every request, by id: on every rank, so a decode instance anywhere
 * can continue a request it never saw dispatched. Only for disaggregated scenarios. In a closed
 * loop the arrivals are the clients' (not known up front): the prefill side sends each one
 * (EV_ARRIVED_AT) with its hand-off. */
typedef struct request_store {
  int64_t *arrival_ns;
  int32_t *input_tokens, *output_tokens;
  uint64_t count, cap;
} request_store;

/* Attributes of every request, by id, when the workload gives any that is not the default (NULL
 * otherwise: every request is interactive, priority 0): on every rank, as the request store. */
typedef struct attrs_store {
  job_request_attrs *attrs;
  uint64_t count, cap;
} attrs_store;

/* Prefix block hashes of every request of a trace that has them (Mooncake), by request id: read on
 * every rank so an instance anywhere can look up what the router dispatched to it. */
typedef struct hash_store {
  uint64_t *offsets; /* [requests + 1] into hashes */
  uint64_t *hashes;
  uint64_t requests;
} hash_store;

/* The instances one router dispatches to (all of them for the one router, a pod's for a pod
 * router): pool 0 takes new requests (the colocated instances, or the prefill ones), pool 1 the
 * decode instances, ordered by rack so that each rack's are one run of slots. */
typedef struct srv_pools {
  uint32_t *instance[2], size[2];    /* instance index of each slot */
  uint32_t *rack_first, *rack_count; /* [racks]: decode slots [first, first + count) in rack q */
  /* Model routing (the workload names models): each pool's slots are ordered by deployment, a
   * model's deployments together, so that the instances serving model name number k are the slots
   * [model_first[pool][k], + model_count[pool][k]); [workload models + 1]; NULL without. */
  uint32_t *model_first[2], *model_count[2];
} srv_pools;

/* Where the LPs run (placement.c): the partitions of the router, instances, nodes and links, and
 * the plan they come from (cut channels, predictions). */
typedef struct srv_placement {
  part_plan plan;
  uint32_t *router_partition;     /* [routers]: the one router, or each region's front door */
  uint32_t *instance_partition;   /* [instances] */
  uint32_t *node_partition;       /* [nodes]: the partition that owns the node's energy and tier */
  uint32_t *link_partition;       /* [links] */
  uint32_t *pod_router_partition; /* [pods] */
} srv_placement;

/* What the instances of one node add up as they run: their accelerators' draw, binned by power
 * interval, and the host CPUs' busy energy (W x ns). A cache line of its own, so that threads
 * running neighbouring nodes never write one line (measured: tests/bench/parallel, README
 * "Parallel runs"). */
typedef struct srv_node_acc {
  util_timebins energy;
  int64_t host_cpu_nj;
} __attribute__((aligned(64))) srv_node_acc;

typedef struct srv_model {
  const srv_scenario *s;
  uint32_t instances;
  uint32_t *instance_deployment;
  hw_deploy *deploys; /* one per deployment */
  uint64_t *capacity; /* [deployments]: what weighted routing gives an instance (srv_capacities) */
  /* [threads * deployments]: each thread's memo of each deployment's prices, made by the first
   * instance of that deployment created on that thread; NULL with simulation.price_cache off. */
  hw_price_cache **price_caches;
  srv_cluster cluster;
  core_lp_map lps;
  net_links links;
  srv_node_acc *node_acc;  /* [nodes]: written only by the partition owning the node */
  job_kv_tier **node_tier; /* [nodes]: NULL where the node type has none; as node_acc */
  uint32_t pods;           /* pod routers (router.pods: the pods with instances); 0: one router */
  /* The global router (pods) hears nothing back: no regions, no lifecycles, an open or offline
   * workload, and a pod policy that reads no load (round robin, weighted or not). The pod routers
   * then keep their completions, and the global router is a replicated LP (core_lp_kind): a copy
   * replays the workload beside every partition and sends only to its partition's pods, with no
   * channel between partitions and the same results at any partition count. */
  bool router_replicated;
  srv_pools *pools;        /* [pods, or 1]: what each (pod) router dispatches to */
  uint32_t *instance_pod;  /* [instances]: whose pools it is in (0 with one router) */
  uint32_t *instance_slot; /* [instances]: its slot in its pool */
  /* Regions (s->regions.count of them; 0: none): the pods of each, consecutive in region_pods from
   * region_pod_first[r], each pod's region and slot there, and the instances taking requests in
   * each region (what a load is divided by). */
  uint32_t regions;
  uint32_t *region_pods, *region_pod_first,
      *region_pod_count;                  /* [pods], [regions + 1], [regions] */
  uint32_t *pod_region, *pod_region_slot; /* [pods] */
  uint32_t *region_takers;                /* [regions] */
  int64_t route_ns; /* a request's arrival to its instance: the pod hop and the dispatch */
  request_store requests;
  io_timeline *tl;
  int t_requests, t_iterations, t_instances, t_engine, t_transfers, t_nodes, t_power, t_links,
      t_link_util, t_kv_tiers, t_intervals, t_lifecycle;
  /* Instance lifecycle (deployments.N.scaling): each instance's state at t=0 (srv_lc_state; NULL:
   * all serving) and each deployment's weight loading time. */
  uint8_t *initial_state;     /* [instances] */
  int64_t *load_ns;           /* [deployments] */
  uint32_t *deployment_first; /* [deployments + 1]: its instances are [first[d], first[d + 1]) */
  /* Per thread: rows appended since the last flush; energy_ns, the latest time its instances
   * accounted energy to (no event of theirs can come earlier, so their draw can be binned up to it)
   * and power_boundary_ns, when they next ask for a boundary to write the power rows before it. */
  struct {
    size_t bytes;
    int64_t energy_ns, power_boundary_ns;
    char pad[40]; /* one cache line per thread */
  } * appended;
  core_engine *engine; /* while it runs: the boundary call writes power rows of its LPs' nodes */
  int64_t *node_binned_ns;    /* [nodes]: scratch of the power rows' writer (output.c) */
  int64_t power_rows_span_ns; /* POWER_ROWS_INTERVALS power intervals (INT64_MAX past it) */
  int threads;
  int64_t end_ns;
  hash_store hashes;
  attrs_store attrs;
  /* Model routing: [deployments] the deployments each workload model name (number 1..) is aimed at,
   * as a bit per deployment in model_deployments[(k - 1) * deployments + d]; NULL: no request names
   * a model. */
  uint32_t workload_models;
  bool *model_deployments;
  uint64_t workload_requests;
  struct {
    int64_t first_arrival_ns, last_arrival_ns;
    double input_tokens, output_tokens; /* summed over the requests */
    int64_t skipped_rows;               /* malformed rows skipped (workload.skip_bad_rows) */
    int64_t dropped_arrivals;           /* arrivals at or past JOB_ARRIVAL_END_NS, dropped */
  } workload; /* what placement estimates work from, and what the summary reports */
  srv_placement placement;
  struct srv_router *router; /* on the router's rank only, for progress */
  const char *program_version;
  const srv_options *opt;
  const char *timeline_path; /* where the timeline is being written */
  /* Checkpoints (checkpoint.c): how many this run wrote and the latest one's time; the restarts
   * before this run (0: it started at time 0). */
  uint32_t checkpoints, restarts;
  int64_t checkpoint_ns;
  char err[512];
} srv_model;

/* A router's policies over its pools (pick[1] only when disaggregated); the global router has
 * pick[0] alone, over the pods. */
typedef struct srv_picks {
  job_router *pick[2];
} srv_picks;

/* A request waiting at the router until an instance accepts work (scaling from none, or every
 * instance draining). */
typedef struct srv_held {
  dispatch_msg msg;
  job_route_request rr; /* its block_hashes owned */
} srv_held;

/* A batch request waiting at the router for spare capacity (router.batch). */
typedef struct srv_batched {
  srv_held held;
  int64_t deadline_ns; /* when it should be done; INT64_MAX: no deadline */
  int64_t due_ns;      /* when it goes by the policy alone; INT64_MAX: never */
} srv_batched;

/* A router's batch queue (router.batch; batch.c): items[count] waiting for spare capacity,
 * earliest deadline first (then arrival, then id); among and model_full are scratch for picking
 * among the instances with room. */
typedef struct srv_batch_queue {
  srv_batched *items;
  size_t count, cap;
  bool *among;      /* [pool size] */
  bool *model_full; /* [workload models + 1] */
  uint64_t *left;   /* [workload models + 1]: batch requests that went on (sent, or due), by model:
                       the load the controllers count, rather than their arrivals */
} srv_batch_queue;

/* The router LP's state: the workload's source, read one request ahead; in a closed loop, the
 * clients ready to send (their think time over). With regions it is the front door of region
 * `region`: it reads only the requests that originate there, and keeps a pod policy per region and
 * what the load reports said. */
typedef struct srv_router {
  job_source *src;
  job_request next;
  bool has_next;
  uint64_t read; /* requests read from src (a restart reads them again to get back here) */
  srv_picks picks;
  uint64_t dispatched, skipped; /* skipped: requests of other regions' front doors */
  uint64_t unrouted;            /* of dispatched, those that could not arrive before the end */
  uint32_t ready_clients;
  uint32_t region;
  job_router **region_pick; /* [regions]: over each region's pods */
  uint32_t *reported;       /* [pods]: outstanding at the pod, its latest report */
  uint32_t *sent_since;     /* [pods]: what this front door sent it since that report arrived */
  bool *pod_takes; /* [workload models * pods], pods with model routing: pod p has an instance of
                      model k accepting work at [(k - 1) * pods + srv_pod_takes_column(m, p)]
                      (as this router knows) */
  srv_held *held;  /* [held_head, held_head + held_count) waiting, oldest first */
  size_t held_head, held_count, held_cap;
  srv_batch_queue batch; /* router.batch, one router */
  /* [workload models + 1], by the model requests name (0: none): the requests it has read, less
   * batch ones with router.batch, which count when they leave their queue (each deployment's
   * controller counts those it may serve), and of the held ones, how many (a request waits only
   * behind held ones of its own model). */
  uint64_t *arrived;
  uint32_t *held_of;
} srv_router;

/* A pod router LP's state. */
typedef struct srv_pod_router {
  uint32_t pod;
  srv_picks picks;
  uint32_t outstanding; /* requests in the pod: what it reports (regions) */
  uint64_t completed;   /* requests that left the pod (for the controller) */
  bool open;            /* some instance of the pod accepts work (what the front doors know) */
  bool *model_open;     /* [workload models], model routing: the same for model k at k - 1 */
  /* router.batch: batch requests waiting for room at the pod's instances */
  srv_batch_queue batch;
} srv_pod_router;

/* A request live at an instance: its timeline row, filled in as it goes. */
typedef struct srv_req {
  srv_request_row row;
  uint64_t *block_hashes;
  uint32_t block_count;
  bool handed_off;             /* prefill side: the decode instance owns the row now */
  bool client_first_token;     /* first_token_ns waits for the end of its next iteration here:
                                  decode side with router.first_token client (it is the prefill
                                  side's until then), or an engine with output_lag */
  uint32_t flows_pending;      /* decode side: flows of the transfer still on their way */
  srv_transfer_row transfer;   /* decode side */
  struct srv_req *prev, *next; /* the instance's live requests */
} srv_req;

/* Iterations a leap plans at most; most end sooner, at the first request to finish. 256 against
 * 64: the 1/20 datacenter day's first 2 h 0.94x CPU, the default example 0.95x (priced in runs of
 * the decode table, a longer leap costs little when an event cuts it). */
enum { SRV_LEAP_MAX = 256 };

/* One iteration of a leap: when it ends, and what each device draws during it. */
typedef struct srv_leap_step {
  int64_t end_ns;
  double power_w;
} srv_leap_step;

/* The instance LP's state. */
typedef struct srv_instance {
  uint32_t index;
  const srv_deployment *dep;
  const hw_deploy *deploy;
  hw_price_cache *price_cache; /* its thread's for its deployment; NULL: price every iteration */
  job_sched *sched;
  bool busy;
  srv_iteration_row iteration; /* the open one, while busy */
  const job_sched_seq *seqs;   /* of the open iteration */
  uint32_t num_seqs, batch_tokens;
  uint64_t iterations, completed, preemptions, kv_blocks_peak;
  int64_t busy_ns, last_event_ns;
  double kv_block_ns;
  const srv_kv_tier *tier; /* of its node type, NULL: none */
  int64_t tier_ns;         /* of busy_ns, spent copying to and from the tier */
  /* Energy: every device draws device_w since power_since_ns; its nodes' bins hold that draw up
   * to binned_ns already (util/timebins: binning a stretch in pieces adds what it adds whole). */
  uint32_t devices;
  double device_w, idle_w;
  /* Of device_w over the open iteration: what the host's CPUs add while its host work runs
   * (hw/host.h), counted per node in node_acc's host_cpu_nj when it closes. */
  double host_cpu_w;
  int64_t power_since_ns, binned_ns;
  int thread;
  double energy_j;
  srv_req live;     /* sentinel of a circular list */
  util_idmap by_id; /* live requests, by request id */
  /* A leap (instance.c): iterations leap[0..leap_len) run without an event each, the open one
   * leap[leap_at]; leap_len 0: none. end_gen: the aux of the awaited EV_ITERATION_END (a leap cut
   * short leaves a stale one). */
  srv_leap_step *leap;
  uint32_t leap_at, leap_len, end_gen;
  arrival_msg arrived_at;           /* the last EV_ARRIVED_AT, for the EV_KV_READY after it */
  srv_interval_row interval;        /* output.iterations aggregated: the open interval's sums */
  uint64_t leaps, leapt_iterations; /* iterations that had no event of their own */
  /* Lifecycle (lifecycle.c): its state since lc_since_ns, the time spent in each state before,
   * where a start or a drain ends (srv_lc_state), and of the serving time, the busy part (busy_ns
   * was busy_mark_ns when it last began serving). */
  uint8_t lc_state, lc_goal;
  uint32_t lc_seq;
  int64_t lc_since_ns, lc_ns[SRV_LC_STATES];
  int64_t serving_busy_ns, busy_mark_ns;
} srv_instance;

extern const core_lp_type srv_router_type, srv_pod_router_type, srv_instance_type,
    srv_controller_type;

static inline uint32_t srv_router_lp(const srv_model *m) {
  return core_lp_map_id(&m->lps, SRV_LP_ROUTER, 0);
}
/* Region r's front door (regions). */
static inline uint32_t srv_front_door_lp(const srv_model *m, uint32_t region) {
  return core_lp_map_id(&m->lps, SRV_LP_ROUTER, region);
}
static inline uint32_t srv_pod_router_lp(const srv_model *m, uint32_t pod) {
  return core_lp_map_id(&m->lps, SRV_LP_POD_ROUTER, pod);
}
static inline uint32_t srv_instance_lp(const srv_model *m, uint32_t instance) {
  return core_lp_map_id(&m->lps, SRV_LP_INSTANCE, instance);
}
static inline uint32_t srv_controller_lp(const srv_model *m) {
  return core_lp_map_id(&m->lps, SRV_LP_CONTROLLER, 0);
}
/* The router an instance reports to: its pod's, or the one router. */
static inline uint32_t srv_instance_router_lp(const srv_model *m, uint32_t instance) {
  return m->pods ? srv_pod_router_lp(m, m->instance_pod[instance]) : srv_router_lp(m);
}
/* The instance an instance LP's event came from. */
static inline uint32_t srv_instance_of(const srv_model *m, uint32_t lp_id) {
  return lp_id - core_lp_map_id(&m->lps, SRV_LP_INSTANCE, 0);
}
static inline uint32_t srv_instance_rack(const srv_model *m, uint32_t instance) {
  const srv_cluster *c = &m->cluster;
  return c->node_rack[c->accel_node[c->accel_ids[c->accel_offsets[instance]]]];
}
/* The node of the instance's first accelerator: its KV tier's. */
static inline uint32_t srv_instance_node(const srv_model *m, uint32_t instance) {
  const srv_cluster *c = &m->cluster;
  return c->accel_node[c->accel_ids[c->accel_offsets[instance]]];
}

/* Pod `pod`'s column in a router's pod_takes: its place in region order (region_pods) with
 * regions, so that each region's pods are consecutive there, else the pod itself. */
static inline uint32_t srv_pod_takes_column(const srv_model *m, uint32_t pod) {
  return m->regions ? m->region_pod_first[m->pod_region[pod]] + m->pod_region_slot[pod] : pod;
}

/* regions.c: the one-way latency from a front door to a region's pod routers and back, and the
 * front door's choice of region for a request aimed at model `model` (0: at none). */
int64_t srv_region_hop_ns(const srv_model *m, uint32_t from, uint32_t to);
uint32_t srv_pick_region(const srv_model *m, const srv_router *r, uint32_t model);
/* The pods of region g, by their slots there, open to model `model` as front door r knows (its
 * pod_takes): the candidates for job_router_pick_among; NULL for model 0 (every pod). */
const bool *srv_region_takes(const srv_model *m, const srv_router *r, uint32_t g, uint32_t model);
/* With pods: the one-way latency from region `from`'s front door (the global router without
 * regions) to pod `pod`'s router, and from the controller (beside the first front door) to an
 * instance, which its commands and the instance's reports take. */
int64_t srv_pod_hop_ns(const srv_model *m, uint32_t from, uint32_t pod);
int64_t srv_controller_hop_ns(const srv_model *m, uint32_t instance);
/* Every region needs an instance that takes requests: 0, or -1 with a message (check and run). */
int srv_regions_check(const srv_scenario *s, const srv_cluster *c, char *err, size_t err_len);
int srv_regions_build(srv_model *m, char *err, size_t err_len); /* after the pools */
void srv_regions_free(srv_model *m);

/* router.c: progress on stderr about once a second (core_config.progress; context is the model),
 * and what the one router and the pod routers share. */
void srv_progress(int64_t now_ns, double wall_s, uint64_t events, void *context);
/* Creates the policies over pools, or (pools NULL) the global policy over the pods. */
int srv_picks_create(core_lp *lp, const srv_model *m, const srv_pools *pools, srv_picks *p);
void srv_picks_destroy(srv_picks *p);
/* The policies' state into a checkpoint, and back into policies srv_picks_create made alike. */
int srv_picks_save(const srv_picks *p, core_pack *out);
int srv_picks_load(srv_picks *p, core_unpack *in);
/* Picks an instance of pools (and a decode instance when the request needs one) and sends it
 * there after the dispatch latency; among (borrowed, [pool size], NULL: all) limits the first
 * pick to its true slots. Returns 0, 1 when no instance accepts work now (nothing is sent), or
 * negative. */
int srv_dispatch(core_lp *lp, srv_model *m, const srv_pools *pools, srv_picks *p,
                 const dispatch_msg *msg, const job_route_request *rr, const bool *among);
/* With lifecycles: sets whether a policy's slot accepts work (0, or -1 out of memory); marks the
 * slots of instances that do not serve at t=0; and whether a pool has one that does (of model
 * `model`'s slots: 0 for all). */
int srv_set_accepting(core_lp *lp, job_router *pick, uint32_t slot, bool accepting);
int srv_picks_initial(core_lp *lp, const srv_model *m, const srv_pools *pools, srv_picks *p);
bool srv_pool_open(const srv_model *m, const srv_pools *pools, uint32_t model);
/* For each scaling deployment, base plus, of the requests it may serve (naming it, its model or
 * nothing): those outstanding at its accepting instances in pools (by pick; NULL: none), those
 * read and held by `front` (a router or front door; NULL: a pod router) and those that left the
 * batch queue `batch` (NULL: none), to the controller after latency_ns. */
int srv_metrics_send(core_lp *lp, srv_model *m, const srv_pools *pools, const job_router *pick,
                     const srv_router *front, const srv_batch_queue *batch, int64_t latency_ns,
                     const metrics_msg *base);
/* A completion from an instance of pools: it is no longer outstanding there. Returns whether the
 * request has left its pod (a decode or colocated instance finished it, or a prefill instance
 * whose request needs no decode). */
bool srv_release(const srv_model *m, srv_picks *p, uint32_t instance, const complete_msg *c);
/* A request that reaches no instance (or waits at a router at the end): its row, unfinished. */
int srv_append_unrouted(core_lp *lp, srv_model *m, const dispatch_msg *q);

/* batch.c: the batch queue, for the router that picks instances of pools by p (reach_ns: from it
 * to an instance; what would arrive after the end is not sent). Waiting requests' hashes are
 * copied (keep), and packed and unpacked (unpack's hashes are the caller's to free). */
int srv_held_keep(core_lp *lp, srv_held *h, const dispatch_msg *msg, const job_route_request *rr);
void srv_held_pack(const srv_held *h, core_pack *out);
uint64_t *srv_held_unpack(const srv_model *m, core_unpack *in, dispatch_msg *msg,
                          job_route_request *rr);
int srv_batch_create(core_lp *lp, const srv_model *m, const srv_pools *pools, srv_batch_queue *q);
void srv_batch_destroy(srv_batch_queue *q);
/* A batch request at the router: queued (and sent on at once if an instance has room, unless
 * blocked), with a wake-up (EV_BATCH_DUE) at its due time. Returns 0, 1 when its due time has come
 * already (route it as any other, nothing done), or negative. */
int srv_batch_arrive(core_lp *lp, srv_model *m, const srv_pools *pools, srv_picks *p,
                     srv_batch_queue *q, const dispatch_msg *msg, const job_route_request *rr,
                     bool blocked, int64_t reach_ns);
/* Sends queued requests, in queue order, while an instance of theirs has spare capacity. */
int srv_batch_dispatch(core_lp *lp, srv_model *m, const srv_pools *pools, srv_picks *p,
                       srv_batch_queue *q, int64_t reach_ns);
/* Takes out a request whose due time has come, into out (its hashes the caller's); false: none. */
bool srv_batch_take_due(const srv_model *m, srv_batch_queue *q, int64_t now_ns, srv_held *out);
void srv_batch_save(const srv_model *m, const srv_batch_queue *q, core_pack *out);
int srv_batch_load(core_lp *lp, const srv_model *m, srv_batch_queue *q, core_unpack *in);

/* instance.c */
int srv_start_iteration(core_lp *lp, srv_model *m, srv_instance *in);
/* A new, empty scheduler for the instance (at creation, and when a spot instance is killed). */
int srv_instance_new_scheduler(core_lp *lp, srv_model *m, srv_instance *in);

/* lifecycle.c: an instance's lifecycle. init at create (its state at t=0, its power); handle takes
 * EV_START, EV_LC_STEP, EV_DRAIN and EV_KILL; after every event, settle ends a drain that has no
 * request left; close adds the last state's time up to the end of the run. */
void srv_lifecycle_init(srv_model *m, srv_instance *in);
int srv_lifecycle_initial_row(core_lp *lp, srv_model *m, srv_instance *in);
int srv_lifecycle_handle(core_lp *lp, srv_model *m, srv_instance *in, const core_event *ev);
int srv_lifecycle_settle(core_lp *lp, srv_model *m, srv_instance *in);
void srv_lifecycle_close(srv_instance *in, int64_t end_ns);
/* A request that reached an instance that no longer serves: back to the router (EV_RETRY). */
int srv_lifecycle_bounce(core_lp *lp, srv_model *m, const dispatch_msg *d);

/* requests.c */
/* A new live request: linked, findable by id, its hashes expanded. NULL out of memory. */
srv_req *srv_req_add(srv_model *m, srv_instance *in, const srv_request_row *row);
void srv_req_drop(srv_instance *in, srv_req *rec); /* unlinks and frees */
void srv_req_free(srv_req *rec);
int srv_add_to_scheduler(core_lp *lp, srv_instance *in, srv_req *rec, bool hold_kv, bool remote_kv);
int srv_complete_at_router(core_lp *lp, srv_model *m, const srv_req *rec);
/* Request id's attributes: the workload's store, or the defaults. */
job_request_attrs srv_request_attrs(const srv_model *m, int64_t id);
/* The request's attributes (the workload's store, or the defaults) into its row; arrival_ns set. */
void srv_row_attrs(const srv_model *m, srv_request_row *row);
/* The dispatch of a request again (a stopped instance's), its model from the workload's attributes.
 */
dispatch_msg srv_row_dispatch(const srv_model *m, const srv_request_row *row);
/* The same from attributes at hand (the router's request). */
void srv_row_set_attrs(srv_request_row *row, const job_request_attrs *a);

/* Why energy accounting failed: the bins (int64 nJ) hold a node's energy up to 9.2e18 nJ, about
 * 10 days of a 10 kW node. */
#define SRV_ENERGY_BINS_FAILED                                                                     \
  "out of memory for energy bins, or a node's energy past 2,562 kWh (INT64_MAX nJ)"

/* energy.c: adds what the instance's devices drew since power_since_ns to their nodes, and returns
 * it. */
double srv_account_energy(srv_model *m, srv_instance *in, int64_t until_ns, int *rc);
/* The same for n stretches in a row (a leap's iterations, 1 <= n <= SRV_LEAP_MAX): stretch j ends
 * at steps[j].end_ns, each device drawing device_w in the first and steps[j].power_w after;
 * joules[j] gets each one's energy, bit for bit what n calls of srv_account_energy would return.
 * Returns the last. */
double srv_account_energy_run(srv_model *m, srv_instance *in, const srv_leap_step *steps,
                              uint32_t n, double *joules, int *rc);
/* energy.c: adds the instance's draw since binned_ns to its nodes' bins up to until_ns (no later
 * than its next account), and lowers node_binned_ns[node] of each of its nodes to what the bins now
 * hold of it. Returns 0, or -1 out of memory or past the bins' range. */
int srv_bin_energy(srv_model *m, srv_instance *in, int64_t until_ns, int64_t *node_binned_ns);

/* Adds nj nanojoules per device, the host CPUs' busy draw of the instance's iterations (whole nJ
 * per iteration, so that the sums are the same in any order), to its nodes' host_cpu_nj. */
void srv_account_host_cpu(srv_model *m, const srv_instance *in, int64_t nj);

/* handoff.c: the disaggregated hand-off of a request's KV from its prefill to its decode
 * instance. The receive and release handlers return 1 when the instance may now have work to
 * start, 0 when not, negative on failure. */
int srv_hand_off(core_lp *lp, srv_model *m, srv_req *rec);
int srv_pull_kv(core_lp *lp, srv_model *m, srv_instance *in, srv_req *rec,
                uint32_t local_hit_tokens);
int srv_receive_kv_ready(core_lp *lp, srv_model *m, srv_instance *in, const core_event *ev);
int srv_send_kv(core_lp *lp, srv_model *m, const core_event *ev);
int srv_receive_flow(core_lp *lp, srv_model *m, srv_instance *in, const core_event *ev);
int srv_release_kv(core_lp *lp, srv_instance *in, const core_event *ev);

/* placement.c: places the units and the router on ranks x threads partitions, after the workload
 * is scanned; fills m->placement. Returns 0, or -1 with a message. */
int srv_place(srv_model *m, uint32_t ranks, uint32_t threads, part_strategy strategy, char *err,
              size_t err_len);
void srv_placement_free(srv_placement *p);
/* Fills m->capacity, once the workload is scanned: what a weighted routing policy gives an
 * instance of each deployment, its decode throughput in output tokens a second by the cost model
 * at a full batch of the workload's mean context (max_num_seqs, or as many as its KV blocks
 * hold); at least 1. Returns 0, or -1 out of memory. */
int srv_capacities(srv_model *m);
/* A pod's: its (prefill or colocated) instances' capacities summed. */
uint64_t srv_pod_capacity(const srv_model *m, uint32_t pod);

/* output.c: the timeline's tables and rows. Creates the timeline, or (append) opens one that a
 * checkpoint closed, to write after its rows. */
int srv_open_timeline(srv_model *m, const char *path, MPI_Comm comm, bool append, char *err,
                      size_t err_len);
/* Buffers a row of `table` from lp's thread; asks for a collective flush when enough is buffered.
 */
int srv_append(core_lp *lp, srv_model *m, int table, const void *row, size_t row_bytes);
int srv_append_request(core_lp *lp, srv_model *m, const srv_request_row *row);
/* What the timeline keeps of closed iterations (output.iterations), and the last interval's sums
 * at the end: the rows of the open iteration, ending at steps[0].end_ns, and of the n - 1 of a leap
 * after it (iteration k > 0 holding kv_blocks_used[k - 1] KV blocks, decode_seqs more context
 * tokens than the one before); in->iteration becomes the last of them. */
int srv_output_run(core_lp *lp, srv_model *m, srv_instance *in, const srv_leap_step *steps,
                   uint32_t n, const uint32_t *kv_blocks_used);
int srv_output_last_interval(core_lp *lp, srv_model *m, srv_instance *in);
int srv_flush_boundary(MPI_Comm comm, void *context); /* core_config.boundary */
/* After the run: the engine's rows, instances' last energy and rows, nodes, power series and
 * links, then the root attributes; fills result. Collective. Returns 0, or -1 with a message. */
int srv_write_results(srv_model *m, core_engine *engine, MPI_Comm comm, double wall_s,
                      srv_result *result, char *err, size_t err_len);

/* checkpoint.c: a checkpoint written (core_config.checkpoint: collective, m the context; the
 * reason in m->err on failure), and one read back by a restart. */
int srv_checkpoint_write(MPI_Comm comm, core_engine *e, int64_t at_ns, void *context);
typedef struct srv_restart {
  srv_checkpoint_header header;
  unsigned char **files; /* [header.ranks]: each rank file's bytes */
  core_unpack *engine;   /* [header.ranks]: its engine pack (core_config.restore) */
  core_unpack *nodes;    /* [header.ranks]: its node records */
} srv_restart;
/* Every rank reads every rank file (a restart's ranks need not be the writer's), checked against
 * the header's lengths and hashes. 0, or -1 with why (r is then for srv_restart_free). */
int srv_restart_read(srv_restart *r, const char *dir, char *err, size_t err_len);
/* The node records of the nodes this rank owns now, into m's bins, host CPU energy and tiers
 * (made empty before). */
int srv_restart_nodes(srv_model *m, const srv_restart *r, int rank, char *err, size_t err_len);
/* Rank 0: the checkpoint's timeline copied to path, checked against its hash. */
int srv_restart_timeline(const char *dir, const srv_restart *r, const char *path, char *err,
                         size_t err_len);
void srv_restart_free(srv_restart *r);

#endif
