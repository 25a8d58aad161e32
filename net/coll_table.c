/* The collective cost model's fitted parameters: net/data/collective.csv parsed into a table of
 * (collective, domain) parameters, and the names of collectives and domains it uses. */
#include "net/coll_table.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/csv.h"

const char *const net_collective_names[NET_COLLECTIVE_COUNT] = {
    "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "send_recv"};
const char *const net_domain_names[NET_DOMAIN_COUNT] = {"intra", "inter"};

static int name_index(const char *const *names, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(names[i], name))
      return i;
  return -1;
}

int net_coll_table_parse(const char *text, size_t len, const char *name, net_coll_table *out,
                         char *err, size_t err_len) {
  util_csv c;
  if (util_csv_open_text(&c, text, len, name, err, err_len) != 0)
    return -1;
  static const char *const cols_names[] = {"op",      "domain",  "role",
                                           "base_ns", "step_ns", "link_frac"};
  int cols[6];
  for (int i = 0; i < 6; i++)
    if ((cols[i] = util_csv_col(&c, cols_names[i])) < 0) {
      snprintf(err, err_len, "%s: no column '%s'", name, cols_names[i]);
      util_csv_close(&c);
      return -1;
    }
  int bulk[3] = {util_csv_col(&c, "bulk_step_ns"), util_csv_col(&c, "bulk_link_frac"),
                 util_csv_col(&c, "copy_ns_per_byte")};
  bool seen[NET_COLLECTIVE_COUNT][NET_DOMAIN_COUNT] = {{false}};
  int r;
  while ((r = util_csv_next(&c, err, err_len)) == 1) {
    const char *role = util_csv_get(&c, cols[2]);
    if (strcmp(role, "fit") != 0 && strcmp(role, "transfer") != 0)
      continue; /* check rows carry errors only */
    int op = name_index(net_collective_names, NET_COLLECTIVE_COUNT, util_csv_get(&c, cols[0]));
    int dom = name_index(net_domain_names, NET_DOMAIN_COUNT, util_csv_get(&c, cols[1]));
    if (op < 0 || dom < 0) {
      snprintf(err, err_len, "%s:%ld: unknown op '%s' or domain '%s'", name, c.line,
               util_csv_get(&c, cols[0]), util_csv_get(&c, cols[1]));
      r = -1;
      break;
    }
    net_coll_params *p = &out->p[op][dom];
    if (util_csv_double(&c, cols[3], NAN, &p->base_ns, err, err_len) != 0 ||
        util_csv_double(&c, cols[4], NAN, &p->step_ns, err, err_len) != 0 ||
        util_csv_double(&c, cols[5], NAN, &p->link_frac, err, err_len) != 0) {
      r = -1;
      break;
    }
    if (!(p->base_ns >= 0.0) || !(p->step_ns >= 0.0) || !(p->link_frac > 0.0)) {
      snprintf(err, err_len, "%s:%ld: %s/%s needs base_ns, step_ns >= 0 and link_frac > 0", name,
               c.line, net_collective_names[op], net_domain_names[dom]);
      r = -1;
      break;
    }
    /* The bulk protocol's columns are optional: a table without them prices LL alone. */
    p->bulk_step_ns = p->bulk_link_frac = p->copy_ns_per_byte = 0.0;
    if (bulk[0] >= 0 && bulk[1] >= 0 && bulk[2] >= 0 && util_csv_get(&c, bulk[1])[0]) {
      if (util_csv_double(&c, bulk[0], NAN, &p->bulk_step_ns, err, err_len) != 0 ||
          util_csv_double(&c, bulk[1], NAN, &p->bulk_link_frac, err, err_len) != 0 ||
          util_csv_double(&c, bulk[2], NAN, &p->copy_ns_per_byte, err, err_len) != 0) {
        r = -1;
        break;
      }
      if (!(p->bulk_step_ns >= 0.0) || !(p->bulk_link_frac > 0.0) ||
          !(p->copy_ns_per_byte >= 0.0)) {
        snprintf(err, err_len,
                 "%s:%ld: %s/%s needs bulk_step_ns, copy_ns_per_byte >= 0 and bulk_link_frac > 0",
                 name, c.line, net_collective_names[op], net_domain_names[dom]);
        r = -1;
        break;
      }
    }
    seen[op][dom] = true;
  }
  util_csv_close(&c);
  if (r < 0)
    return -1;
  for (int op = 0; op < NET_COLLECTIVE_COUNT; op++)
    for (int dom = 0; dom < NET_DOMAIN_COUNT; dom++)
      if (!seen[op][dom]) {
        snprintf(err, err_len, "%s: no parameters for %s/%s", name, net_collective_names[op],
                 net_domain_names[dom]);
        return -1;
      }
  return 0;
}
