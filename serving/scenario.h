/* A scenario: the cluster, its deployments, router, workload, SLOs, simulation and output settings,
 * loaded from a YAML file (plus --set overrides), validated, with catalogue extensions applied. */
#ifndef SRV_SCENARIO_H
#define SRV_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/hw.h"
#include "jobs/autoscale.h"
#include "jobs/router.h"
#include "jobs/sched.h"
#include "jobs/workload.h"
#include "net/net.h"
#include "partitions/part.h"

/* Most OpenMP threads per rank, for simulation.threads and --threads alike. */
#define SRV_MAX_THREADS 1024

typedef enum srv_role { SRV_ROLE_MIXED, SRV_ROLE_PREFILL, SRV_ROLE_DECODE } srv_role;

/* A KV tier of a node type (jobs/kvcache_tier.h): memory below HBM that the instances of each such
 * node share for swapped-out requests and spilled prefix blocks. */
typedef enum srv_kv_tier_kind {
  SRV_KV_TIER_NONE,
  SRV_KV_TIER_HOST_DRAM,
  SRV_KV_TIER_CXL
} srv_kv_tier_kind;

typedef struct srv_kv_tier {
  srv_kv_tier_kind kind;
  double capacity_bytes; /* per node */
  double bytes_per_s;    /* one instance's copies between its HBM and the tier */
  int64_t latency_ns;    /* added once to each iteration's loads and once to its stores */
} srv_kv_tier;

/* A node type of the cluster and how many of them there are. */
typedef struct srv_node_group {
  char name[64];
  const hw_accel *accel; /* in the scenario's catalogue */
  uint32_t accels_per_node;
  uint32_t count;
  char system[32];    /* the net preset its scale-up domain and NICs came from; "" for none */
  net_node_group net; /* count, accels_per_node, NICs and scale-up domain */
  double host_w;      /* per node: CPUs, memory, NICs, fans, storage */
  uint32_t nodes_per_rack;
  srv_kv_tier kv_tier;
  char region_name[64]; /* cluster.nodes.N.region as written ("" for none) */
  uint32_t region;      /* its index in regions.list (with regions) */
} srv_node_group;

/* Regions (serving/scenario_regions.c): node types grouped into regions with one-way latencies
 * between them; one front-door router per region takes the requests that originate there and
 * sends each to a region's pod routers by regions.policy. */
#define SRV_MAX_REGIONS 32

typedef enum srv_region_policy {
  SRV_REGION_NEAREST,      /* the request's origin region */
  SRV_REGION_LEAST_LOADED, /* least outstanding per instance, as the reports say */
  SRV_REGION_SPILLOVER,    /* home, unless its load passes regions.spillover: the nearest below */
} srv_region_policy;

typedef struct srv_region {
  char name[64];
  double share;                        /* of the requests, the ones that originate here */
  int64_t latency_ns[SRV_MAX_REGIONS]; /* one way, to each region; 0 to itself */
} srv_region;

typedef struct srv_regions {
  uint32_t count; /* 0: no regions */
  srv_region list[SRV_MAX_REGIONS];
  srv_region_policy policy;
  double spillover; /* outstanding requests per request-taking instance of the home region */
  int64_t report_interval_ns; /* each pod router's load report to every front door */
} srv_regions;
/* Who decides a scaling deployment's instance count (serving/controller.c). */
typedef enum srv_controller_kind {
  SRV_CONTROLLER_NONE,     /* the count stays where `initial` put it */
  SRV_CONTROLLER_REACTIVE, /* Kubernetes HPA on requests per instance (jobs/autoscale.h) */
  SRV_CONTROLLER_FORECAST, /* Holt-Winters on the request rate, an allocation every interval */
} srv_controller_kind;

/* A deployment's instance lifecycle (serving/lifecycle): off, provisioning (acquiring the node),
 * loading weights, serving, draining (finishing its requests, accepting none), off again; a warm
 * pool kept loaded but not serving. Without the `scaling` key every instance serves from t=0 to the
 * end. */
typedef struct srv_scaling {
  bool enabled;
  uint32_t initial, min, max; /* serving at t=0; the controller's limits (max <= count) */
  uint32_t warm;              /* instances kept loaded, not serving, ready to serve at once */
  int64_t provision_ns;       /* node acquisition: from a start decision to loading */
  double storage_bytes_per_s; /* weights read from the node's storage ... */
  double network_bytes_per_s; /* ... or pulled over the network (0: not): the lesser limits */
  /* Spot capacity: the last `spot` instances are interrupted at random (a Poisson process of
   * spot_per_s per instance, from the controller's counter-based stream), each with a notice: the
   * router stops sending it work at once, and after the notice it stops, its unfinished requests
   * going back to the router to be served elsewhere. */
  uint32_t spot;
  double spot_interruptions_per_s;
  int64_t spot_notice_ns;
  srv_controller_kind controller;
  int64_t interval_ns; /* between decisions */
  job_hpa_config hpa;  /* reactive: target requests (outstanding and waiting) per instance */
  /* forecast: per-bin request counts, a season of them, one instance's requests per second */
  int64_t bin_ns, season_ns;
  double capacity_per_s;
  double alpha, beta, gamma;
} srv_scaling;

/* `count` identical instances of a model on an accelerator. */
typedef struct srv_deployment {
  char name[64];
  const hw_model *model;
  const hw_accel *accel;
  hw_deploy_config hw; /* tp, pp, dtypes, scheduler limits for the activation reserve */
  uint32_t count;
  srv_role role;
  job_sched_config sched; /* total_kv_blocks computed from memory unless set explicitly */
  /* The engine's KV memory fraction (vLLM's gpu_memory_utilization, default 0.9; SGLang's
   * mem_fraction_static, TensorRT-LLM's free_gpu_memory_fraction: hw.kv_rule says which). */
  double gpu_memory_utilization;
  char engine[48]; /* "vllm-v1 0.11" when the deployment names an engine; "" when it does not */
  bool output_lag; /* its engine's: a first token is seen after the next iteration's host work */
  srv_scaling scaling;
} srv_deployment;

/* Streams a workload may merge (workload.streams). */
#define SRV_MAX_STREAMS 16

typedef struct srv_workload {
  /* Several sources merged in arrival order (workload.streams), each a srv_workload of its own
   * (its source, attributes and model); owned; none: this one's source. */
  struct srv_workload *streams;
  size_t stream_count;
  bool synthetic;
  char trace_path[1024]; /* resolved relative to the scenario file's folder */
  job_trace_format format;
  job_source_opts opts; /* offset, rate scale, window, cap, skip bad rows, offline, attributes */
  job_workload_mode mode;
  job_closed_loop closed; /* mode closed */
  char model_name[64];    /* workload.model: what requests without a model column aim at */
  job_synth_spec synth;   /* when synthetic: rate_curve points stored below */
  job_rate_point rate_curve[256]; /* a week of hourly points fits */
  char empirical_path[1024];
} srv_workload;

/* Opens the workload's request source: its trace, or its synthetic generator. Returns 0, or a
 * job_source code (JOB_SOURCE_ENOMEM, ...) with a message in err. */
int srv_workload_open(const srv_workload *w, job_source **src, char *err, size_t err_len);

/* What the timeline keeps of instance iterations (output.iterations). */
typedef enum srv_iterations_output {
  SRV_ITERATIONS_ALL,        /* a /iterations row each */
  SRV_ITERATIONS_SAMPLED,    /* a /iterations row for every sample_every-th of each instance */
  SRV_ITERATIONS_AGGREGATED, /* /instance_intervals: per instance and interval sums */
  SRV_ITERATIONS_NONE,
} srv_iterations_output;

typedef struct srv_scenario {
  char path[1024];     /* the file it came from; "(built-in default)" for the default */
  char *resolved_text; /* the document after --set, as YAML, for the timeline; owned */
  hw_catalog *catalog; /* built-in plus the scenario's accelerators and models; owned */
  srv_node_group *nodes;
  size_t node_groups;
  srv_deployment *deployments;
  size_t deployment_count;
  struct {
    const job_route_policy *policy;
    const job_route_policy *decode_policy; /* picks a disaggregated request's decode instance */
    bool decode_same_rack; /* among the decode instances in the prefill instance's rack, if any */
    /* A disaggregated request's first token counts when the decode instance emits it (the client
     * behind a P/D proxy sees it then: vLLM's proxy streams the decode instance's answer), not
     * when the prefill instance samples it (first_token: client; default prefill). */
    bool first_token_at_client;
    int64_t dispatch_latency_ns; /* arrival at the (pod) router to arrival at the instance */
    /* Hierarchical routing: a global router sends each request to the router of a pod (`nodes`
     * consecutive nodes of one node type; default, a rack), which picks its instance. */
    struct {
      bool enabled;
      uint32_t nodes;                 /* 0: the node type's nodes_per_rack */
      const job_route_policy *policy; /* the global router's choice of pod */
      int64_t latency_ns;             /* global router to pod router, and back */
    } pods;
    /* Batch requests wait for spare capacity (router.batch, SageServe's queue): a batch-tier
     * request goes only to an instance with fewer than `spare` outstanding requests (0: off, batch
     * requests are routed as any other), else waits in the router's queue, earliest deadline
     * first (at the pod routers with pods); one with a deadline goes by the policy alone at its
     * deadline minus lead_ns (-1: half its deadline). */
    struct {
      uint32_t spare;
      int64_t lead_ns;
    } batch;
  } router;
  struct {
    net_fabric_spec fabric;
    int64_t chunk_bytes; /* transfers move in chunks of this size */
    bool instant_kv;     /* KV transfers take no time and load no link (for comparisons) */
  } network;
  struct {
    int64_t interval_ns;                 /* power and link utilisation series */
    double pue;                          /* facility power / IT power */
    double rack_budget_w, site_budget_w; /* 0: none */
  } power;
  /* What the fleet costs (serving/cost.c): its accelerators' rental per hour, from the price table
   * (hw/data/prices.csv) or cost.accelerator_hour, and energy per kWh of facility energy. */
  struct {
    double energy_usd_per_kwh;     /* NAN: no price */
    double accelerators_usd_per_h; /* every accelerator of the cluster; NAN when one has no price */
    uint32_t accelerators;         /* how many the cluster holds */
    char unpriced[256];            /* the cluster's accelerator types without a price; "" if none */
  } cost;
  bool disaggregated; /* some deployment has the prefill or decode role */
  bool scaling;       /* some deployment has a lifecycle (deployments.N.scaling) */
  srv_workload workload;
  struct {
    int64_t ttft_ns, tpot_ns; /* a request meets the SLO when both hold */
  } slo;
  srv_regions regions;
  struct {
    int64_t end_ns; /* 0: until every request has finished */
    uint64_t seed;
    int threads;             /* 1 .. SRV_MAX_THREADS */
    part_strategy placement; /* how LPs are placed on ranks and threads; auto by default */
    bool leaps;       /* instances advance steady decode stretches in one event (same results) */
    bool price_cache; /* iteration prices memoised per batch shape (same results) */
  } simulation;
  struct {
    char path[1024];
    bool compress;
    srv_iterations_output iterations; /* which /iterations rows, or /instance_intervals */
    int64_t interval_ns;              /* of /instance_intervals */
    uint32_t sample_every;            /* sampled: every this many iterations of an instance */
  } output;
} srv_scenario;

/* Loads path (NULL: the built-in default scenario), applies each "key.path=value" of sets,
 * validates everything (unknown keys, units, ranges, that the deployments fit the cluster), and
 * resolves catalogue names. On error returns negative with "file:line:col: key.path: what was
 * expected". */
int srv_scenario_load(const char *path, const char *const *sets, size_t set_count,
                      srv_scenario **out, char *err, size_t err_len);
void srv_scenario_free(srv_scenario *s);

/* Total instances over all deployments. */
uint32_t srv_scenario_instances(const srv_scenario *s);

/* Whether the global router in front of pods (router.pods) hears nothing back: its policy reads no
 * load (round robin, weighted or not), the workload is open or offline, and there are no regions
 * and no scaling. It then runs replicated beside every partition, and nothing is cut between the
 * pods (README, "Parallel runs"). */
bool srv_scenario_router_replicated(const srv_scenario *s);

/* Whether deployment d serves requests aimed at name: the deployment's name, else its model's (as
 * the catalogue finds it: case and punctuation ignored). */
bool srv_deployment_serves(const srv_scenario *s, size_t d, const char *name);
/* The deployments that serve each model name src has met (1 .. job_source_models), as
 * aimed[(k - 1) * deployment_count + d] (aimed may be NULL: only check). Fails with a message for a
 * name that no deployment taking requests serves, or (disaggregated) no decode deployment. */
int srv_workload_models(const srv_scenario *s, const job_source *src, bool *aimed, char *err,
                        size_t err_len);
/* The region request `id` originates in: a pure function of the seed and the id, drawn by the
 * regions' shares, so that every LP on every rank agrees (serving/regions.c). */
uint32_t srv_request_origin(const srv_scenario *s, int64_t id);

#endif
