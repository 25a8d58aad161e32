/* A program outside Windtunnel that uses its installed engine library (core/): built by
 * tests/app/install.sh with pkg-config and with find_package(windtunnel) against an installed
 * prefix, to prove both work. Maps two LP kinds to ids and prints how many LPs there are. */
#include <core.h>
#include <stdio.h>

static int handle(core_lp *lp, const core_event *ev, void *model) {
  (void)lp, (void)ev, (void)model;
  return 0;
}

int main(void) {
  static const core_lp_type type = {.name = "demo", .handle = handle};
  const core_lp_kind kinds[] = {{&type, 3, NULL}, {&type, 4, NULL}};
  core_lp_map map;
  if (core_lp_map_init(&map, kinds, 2) != 0)
    return 1;
  printf("lps=%u\n", core_lp_map_lps(&map));
  return core_lp_map_lps(&map) == 7 ? 0 : 1;
}
