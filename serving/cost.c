/* The scenario's cost section: the price of each accelerator-hour (the table hw/data/prices.csv,
 * embedded, or the scenario's own) and of energy, and what the cluster's accelerators cost an hour.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "serving/scenario_read.h"
#include "util/csv.h"

extern const char srv_prices_csv[];
extern const size_t srv_prices_csv_len;

/* USD per kWh: the U.S. average retail price of electricity to industrial customers in 2023, 8.06
 * cents per kWh (EIA, Electric Power Monthly; hw/data/SOURCES.md, "Prices"). */
static const double default_energy_usd_per_kwh = 0.0806;

/* The table's price of accelerator `name`: 1 and *usd_per_h when it has one, 0 when it has none,
 * -1 with a message when the embedded table cannot be read. */
static int table_price(const char *name, double *usd_per_h, char *err, size_t err_len) {
  util_csv csv;
  static const char *const need[] = {"accelerator", "usd_per_accelerator_hour"};
  int cols[2], found = 0;
  if (util_csv_open_text(&csv, srv_prices_csv, srv_prices_csv_len, "hw/data/prices.csv", err,
                         err_len) != 0)
    return -1;
  int rc = util_csv_need_cols(&csv, need, cols, 2, err, err_len) == 0 ? 1 : -1;
  while (rc > 0 && !found && (rc = util_csv_next(&csv, err, err_len)) > 0) {
    if (strcmp(util_csv_get(&csv, cols[0]), name) != 0)
      continue;
    if (util_csv_double(&csv, cols[1], NAN, usd_per_h, err, err_len) != 0)
      rc = -1;
    else if (!(*usd_per_h >= 0 && isfinite(*usd_per_h))) {
      snprintf(err, err_len, "hw/data/prices.csv: %s has no valid price", name);
      rc = -1;
    } else
      found = 1;
  }
  util_csv_close(&csv);
  return rc < 0 ? -1 : found;
}

/* accel's price: the scenario's (overrides, a mapping of names to prices, already checked) or the
 * table's; returns as table_price. */
static int price_of(const scn_loader *ld, const io_node *overrides, const char *accel,
                    double *usd_per_h) {
  for (size_t i = 0; overrides && i < overrides->count; i++)
    if (strcmp(overrides->keys[i]->text, accel) == 0)
      return io_node_get_f64(overrides->values[i], "", IO_UNIT_NUMBER, 0, INFINITY, usd_per_h,
                             ld->err, ld->err_len) == 0
                 ? 1
                 : -1;
  return table_price(accel, usd_per_h, ld->err, ld->err_len);
}

int scn_read_cost(const scn_loader *ld, const io_node *m) {
  static const char *const keys[] = {"energy_per_kwh", "accelerator_hour", NULL};
  srv_scenario *s = ld->s;
  s->cost.energy_usd_per_kwh = default_energy_usd_per_kwh;
  s->cost.accelerators_usd_per_h = 0;
  s->cost.accelerators = 0;
  s->cost.unpriced[0] = '\0';
  const io_node *overrides = io_node_find(m, "accelerator_hour");
  int rc;
  if ((rc = scn_check_keys(ld, m, keys)) != 0 ||
      (rc = scn_optional(io_node_get_f64(m, "energy_per_kwh", IO_UNIT_NUMBER, 0, INFINITY,
                                         &s->cost.energy_usd_per_kwh, ld->err, ld->err_len))) != 0)
    return rc;
  if (overrides) {
    if ((rc = scn_expect_kind(ld, overrides, IO_NODE_MAPPING,
                              "a mapping of accelerator names to USD per accelerator-hour")) != 0)
      return rc;
    for (size_t i = 0; i < overrides->count; i++) {
      double usd_per_h;
      if (!hw_catalog_accel(s->catalog, overrides->keys[i]->text))
        return scn_unknown_name(ld, overrides->keys[i], true);
      if ((rc = io_node_get_f64(overrides->values[i], "", IO_UNIT_NUMBER, 0, INFINITY, &usd_per_h,
                                ld->err, ld->err_len)) != 0)
        return rc;
    }
  }
  for (size_t g = 0; g < s->node_groups; g++) {
    const srv_node_group *ng = &s->nodes[g];
    uint32_t n = ng->accels_per_node * ng->count;
    double usd_per_h = 0;
    s->cost.accelerators += n;
    int priced = price_of(ld, overrides, ng->accel->name, &usd_per_h);
    if (priced < 0)
      return IO_DOC_EINVAL;
    if (priced) {
      s->cost.accelerators_usd_per_h += usd_per_h * n;
      continue;
    }
    s->cost.accelerators_usd_per_h = NAN;
    if (!strstr(s->cost.unpriced, ng->accel->name)) {
      size_t len = strlen(s->cost.unpriced);
      snprintf(s->cost.unpriced + len, sizeof s->cost.unpriced - len, "%s%s", len ? ", " : "",
               ng->accel->name);
    }
  }
  return 0;
}
