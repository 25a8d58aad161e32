#!/usr/bin/env bash
# `check --json` prints one JSON object, valid or not (with the error), and `check --help` lists
# check's own options, not run's.
# Usage: check_json.sh WINDTUNNEL EXAMPLES_DIR
set -euo pipefail
wt=$1 examples=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
out=$("$wt" check "$examples/disaggregated.yaml" --json)
python3 -c "import json, sys
d = json.loads(sys.argv[1])
assert d['valid'] is True and d['instances'] == 8, d
assert [p['name'] for p in d['deployments']] == ['prefill', 'decode'], d
assert all(p['count'] > 0 and p['kv_blocks'] > 0 for p in d['deployments']), d
assert all(p['engine'] is None for p in d['deployments']), d" "$out" ||
  fail "check --json: $out"
# A deployment's engine profile, and whether its host work overlaps the kernels.
out=$("$wt" check "$examples/engines.yaml" --json)
python3 -c "import json, sys
d = json.loads(sys.argv[1])
assert [p['engine'] for p in d['deployments']] == ['sglang 0.4', 'vllm-v1 0.11'], d" "$out" ||
  fail "check --json with engines: $out"
out=$("$wt" check "$examples/engines.yaml")
grep -q 'engine sglang 0.4 (host overlapped)' <<<"$out" || fail "check with engines: $out"
# The router, and whether a global router in front of pods runs replicated (it reads no load).
for policy in weighted_round_robin least_requests; do
  out=$("$wt" check "$examples/default.yaml" --json "--set=router.pods={nodes: 1, policy: $policy}")
  python3 -c "import json, sys
d = json.loads(sys.argv[1])
assert d['router']['policy'] == 'least_requests', d
assert d['router']['pods'] == {'policy': sys.argv[2], 'replicated': sys.argv[2] != 'least_requests'}, d
" "$out" "$policy" || fail "check --json of router.pods.policy=$policy: $out"
done
out=$("$wt" check "$examples/default.yaml" --json)
python3 -c "import json, sys
assert json.loads(sys.argv[1])['router']['pods'] is None" "$out" || fail "check --json without pods: $out"
out=$("$wt" check "$examples/default.yaml" "--set=router.pods={nodes: 1, policy: round_robin}")
grep -q 'round_robin over pods, least_requests in each; the global router reads no load' <<<"$out" ||
  fail "check with a replicated global router: $out"
status=0
out=$("$wt" check --json --set workload.rate_scale=abc 2>/dev/null) || status=$?
[ "$status" = 1 ] || fail "check --json of a bad value exited $status"
python3 -c "import json, sys
d = json.loads(sys.argv[1])
assert d['valid'] is False and 'workload.rate_scale' in d['error'], d" "$out" ||
  fail "check --json of a bad value: $out"
help=$("$wt" check --help)
if ! grep -q -- '--set' <<<"$help" || ! grep -q -- '--json' <<<"$help"; then
  fail "check --help: $help"
fi
! grep -qE -- '--threads|--output|--stats' <<<"$help" || fail "check --help lists run's options"
status=0
"$wt" check --threads 2 2>/dev/null || status=$?
[ "$status" = 2 ] || fail "check --threads 2 exited $status, expected a usage error"
echo "PASS: check --json and check --help"
