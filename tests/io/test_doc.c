/* Unit tests of io_doc: the tree and its locations, getters and their messages, unknown keys,
 * --set overrides, refusals of bad YAML, and emit -> reload giving the same tree. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "harness.h"

#include "io/doc.h"

#define SCENARIO IO_TEST_DIR "/data/scenario.yaml"

static const char *const study =
    "simulation:\n"        /* 1 */
    "  end: 2h\n"          /* 2 */
    "  lookahead: 5us\n"   /* 3 */
    "deployments:\n"       /* 4 */
    "  - model: a\n"       /* 5 */
    "    tp: two\n"        /* 6 */
    "    max_num_seq: 8\n" /* 7 */
    "  - model: b\n"       /* 8 */
    "    tp: 4\n"          /* 9 */
    "    role: decdoe\n"   /* 10 */
    "    power: 700W\n";   /* 11 */

static io_doc *load(const char *name, const char *text) {
  io_doc *doc = NULL;
  char err[512] = "";
  int rc = io_doc_load_string(name, text, &doc, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\nload failed: %s\n", err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return doc;
}

/* Checks that text fails to load with rc and exactly the message want. */
static void assert_load_fails(const char *text, int want_rc, const char *want) {
  io_doc *doc = NULL;
  char err[512] = "";
  int rc = io_doc_load_string("bad.yaml", text, &doc, err, sizeof err);
  if (rc != want_rc || strcmp(err, want) != 0)
    fprintf(stderr, "\nrc %d message\n  '%s'\nwanted\n  '%s'\n", rc, err, want);
  CU_ASSERT_EQUAL(rc, want_rc);
  CU_ASSERT_STRING_EQUAL(err, want);
  CU_ASSERT_PTR_NULL(doc);
}

static void assert_message(int rc, int want_rc, const char *err, const char *want) {
  if (rc != want_rc || strcmp(err, want) != 0)
    fprintf(stderr, "\nrc %d message\n  '%s'\nwanted\n  '%s'\n", rc, err, want);
  CU_ASSERT_EQUAL(rc, want_rc);
  CU_ASSERT_STRING_EQUAL(err, want);
}

static void test_tree_keeps_order_kinds_locations_and_paths(void) {
  io_doc *doc = NULL;
  char err[512] = "";
  CU_ASSERT_EQUAL_FATAL(io_doc_load_file(SCENARIO, &doc, err, sizeof err), 0);
  const io_node *root = io_doc_root(doc);
  CU_ASSERT_EQUAL(root->kind, IO_NODE_MAPPING);
  CU_ASSERT_EQUAL_FATAL(root->count, 3);
  CU_ASSERT_STRING_EQUAL(root->keys[0]->text, "simulation");
  CU_ASSERT_STRING_EQUAL(root->keys[1]->text, "deployments");
  CU_ASSERT_STRING_EQUAL(root->keys[2]->text, "models");
  const io_node *deployments = io_node_find(root, "deployments");
  CU_ASSERT_EQUAL_FATAL(deployments->kind, IO_NODE_SEQUENCE);
  CU_ASSERT_EQUAL(deployments->count, 2);
  const io_node *tp = io_node_find(root, "deployments.1.tp");
  CU_ASSERT_FATAL(tp != NULL);
  CU_ASSERT_STRING_EQUAL(tp->text, "8");
  CU_ASSERT_STRING_EQUAL(tp->file, SCENARIO);
  CU_ASSERT_EQUAL(tp->line, 10);
  CU_ASSERT_EQUAL(tp->col, 9);
  CU_ASSERT_STRING_EQUAL(tp->path, "deployments.1.tp");
  CU_ASSERT_EQUAL(deployments->values[1]->keys[1]->line, 10); /* keys keep their place too */
  CU_ASSERT_EQUAL(deployments->values[1]->keys[1]->col, 5);
  /* a key with dots is quoted in paths; lookups are relative to their base */
  const io_node *layers = io_node_find(root, "models.\"Llama-3.1-8B\".layers");
  CU_ASSERT_FATAL(layers != NULL);
  CU_ASSERT_STRING_EQUAL(layers->path, "models.\"Llama-3.1-8B\".layers");
  CU_ASSERT_EQUAL(layers->line, 13);
  CU_ASSERT_PTR_EQUAL(io_node_find(deployments, "1.tp"), tp);
  CU_ASSERT_PTR_EQUAL(io_node_find(root, ""), root);
  CU_ASSERT_PTR_NULL(io_node_find(root, "deployments.2.tp"));
  CU_ASSERT_PTR_NULL(io_node_find(root, "deployments.x"));
  CU_ASSERT_PTR_NULL(io_node_find(root, "simulation.end.x"));
  CU_ASSERT_PTR_NULL(io_node_find(root, "simulation..end"));
  io_doc_free(doc);

  doc = NULL;
  int rc = io_doc_load_file("/nonexistent/study.yaml", &doc, err, sizeof err);
  assert_message(rc, IO_DOC_EIO, err,
                 "/nonexistent/study.yaml: cannot open: No such file or directory");
  CU_ASSERT_PTR_NULL(doc);
}

static void test_getters_parse_units_and_check_ranges(void) {
  io_doc *doc = load("study.yaml", study);
  const io_node *root = io_doc_root(doc);
  char err[512] = "";
  int64_t end_ns = 0, tp = 0;
  double power_w = 0;
  CU_ASSERT_EQUAL(
      io_node_get_i64(root, "simulation.end", IO_UNIT_NS, 1, INT64_MAX, &end_ns, err, sizeof err),
      0);
  CU_ASSERT_EQUAL(end_ns, 7200000000000);
  CU_ASSERT_EQUAL(
      io_node_get_i64(root, "deployments.1.tp", IO_UNIT_NUMBER, 1, 64, &tp, err, sizeof err), 0);
  CU_ASSERT_EQUAL(tp, 4);
  const io_node *second = io_node_find(root, "deployments.1");
  CU_ASSERT_EQUAL(
      io_node_get_f64(second, "power", IO_UNIT_W, 0, INFINITY, &power_w, err, sizeof err), 0);
  CU_ASSERT_EQUAL(power_w, 700);

  int rc = io_node_get_i64(root, "deployments.0.tp", IO_UNIT_NUMBER, 1, 64, &tp, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:6:9: deployments.0.tp: expected a number such as '8', got 'two'");
  rc = io_node_get_i64(root, "simulation.end", IO_UNIT_NS, 1000, 1000000000, &end_ns, err,
                       sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:2:8: simulation.end: expected a value from 1us to 1s, got '2h'");
  rc = io_node_get_i64(second, "tp", IO_UNIT_NUMBER, 8, INT64_MAX, &tp, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:9:9: deployments.1.tp: expected a value of at least 8, got '4'");
  rc = io_node_get_f64(second, "power", IO_UNIT_W, -INFINITY, 500, &power_w, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:11:12: deployments.1.power: expected a value of at most 500W, got "
                 "'700W'");
  rc = io_node_get_f64(root, "simulation.lookahead", IO_UNIT_W, 0, INFINITY, &power_w, err,
                       sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:3:14: simulation.lookahead: expected a power such as '700W' or "
                 "'1.2kW', got '5us' (units: W, kW, MW)");
  rc = io_node_get_i64(root, "deployments", IO_UNIT_NUMBER, 0, 9, &tp, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:5:3: deployments: expected a number such as '8', got a sequence");
  CU_ASSERT_EQUAL(tp, 4); /* failures leave the value alone */
  CU_ASSERT_EQUAL(power_w, 700);

  /* missing keys are their own code, so callers keep defaults */
  int64_t seed = 7;
  rc = io_node_get_i64(root, "simulation.seed", IO_UNIT_NUMBER, 0, INT64_MAX, &seed, err,
                       sizeof err);
  assert_message(rc, IO_DOC_EMISSING, err, "study.yaml:2:3: simulation: missing key 'seed'");
  CU_ASSERT_EQUAL(seed, 7);
  rc = io_node_get_i64(root, "deployments.5.tp", IO_UNIT_NUMBER, 0, 9, &tp, err, sizeof err);
  assert_message(rc, IO_DOC_EMISSING, err,
                 "study.yaml:5:3: deployments: no item '5' (the sequence has 2)");
  rc = io_node_get_i64(root, "simulation.end.x", IO_UNIT_NUMBER, 0, 9, &tp, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:2:8: simulation.end: expected a mapping holding 'x', got '2h'");
  const io_node *sim = NULL;
  CU_ASSERT_EQUAL(io_node_get(root, "simulation", IO_NODE_MAPPING, &sim, err, sizeof err), 0);
  CU_ASSERT_PTR_EQUAL(sim, root->values[0]);
  rc = io_node_get(root, "simulation", IO_NODE_SEQUENCE, &sim, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:2:3: simulation: expected a sequence, got a mapping");
  io_doc_free(doc);
}

static void test_strings_bools_and_choices(void) {
  io_doc *doc = load("c.yaml", "name: \"0.5\"\nstream: true\nfast: yes\nrole: decdoe\n");
  const io_node *root = io_doc_root(doc);
  static const char *const roles[] = {"prefill", "decode", "both", NULL};
  char err[512] = "";
  const char *name = NULL;
  bool stream = false, fast = false;
  int role = -1;
  CU_ASSERT_EQUAL(io_node_get_str(root, "name", &name, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(name, "0.5");
  CU_ASSERT_EQUAL(io_node_get_bool(root, "stream", &stream, err, sizeof err), 0);
  CU_ASSERT_TRUE(stream);
  int rc = io_node_get_bool(root, "fast", &fast, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "c.yaml:3:7: fast: unknown value 'yes' (expected one of: false, true)");
  rc = io_node_get_choice(root, "role", roles, &role, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "c.yaml:4:7: role: unknown value 'decdoe' (did you mean 'decode'?)");
  CU_ASSERT_EQUAL(role, -1);
  io_doc_free(doc);
}

static void test_unknown_keys_rejected_with_suggestion(void) {
  io_doc *doc = load("study.yaml", study);
  const io_node *root = io_doc_root(doc);
  static const char *const top[] = {"simulation", "deployments", NULL};
  static const char *const deployment[] = {"model", "tp", "max_num_seqs", "role", "power", NULL};
  static const char *const few[] = {"model", "count", NULL};
  char err[512] = "";
  CU_ASSERT_EQUAL(io_node_check_keys(root, top, err, sizeof err), 0);
  int rc = io_node_check_keys(io_node_find(root, "deployments.0"), deployment, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:7:5: deployments.0: unknown key 'max_num_seq' (did you mean "
                 "'max_num_seqs'?)");
  rc = io_node_check_keys(io_node_find(root, "deployments.1"), few, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:9:5: deployments.1: unknown key 'tp' (expected one of: model, "
                 "count)");
  rc = io_node_check_keys(io_node_find(root, "deployments"), few, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:5:3: deployments: expected a mapping, got a sequence");
  io_doc_free(doc);
}

static void test_duplicate_keys_rejected(void) {
  assert_load_fails("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n", IO_DOC_EINVAL,
                    "bad.yaml:5:3: b.c: duplicate key 'c' (first at line 3)");
  assert_load_fails("{x: 1, x: 1}", IO_DOC_EINVAL,
                    "bad.yaml:1:8: x: duplicate key 'x' (first at line 1)");
}

static void test_malformed_yaml_reports_libyaml_problem_with_location(void) {
  assert_load_fails("a: [1, 2\nb: 3\n", IO_DOC_EINVAL,
                    "bad.yaml:2:2: did not find expected ',' or ']' (while parsing a flow sequence "
                    "at line 1, column 4)");
  assert_load_fails("a: 1\n b: 2\n", IO_DOC_EINVAL,
                    "bad.yaml:2:3: mapping values are not allowed in this context");
  assert_load_fails("a:\n\t- 1\n", IO_DOC_EINVAL,
                    "bad.yaml:2:1: found character that cannot start any token (while scanning "
                    "for the next token at line 2, column 1)");
  assert_load_fails("a: \"unterminated\n", IO_DOC_EINVAL,
                    "bad.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar "
                    "at line 1, column 4)");
  assert_load_fails("a: \xff\n", IO_DOC_EINVAL, "bad.yaml: byte 3: invalid leading UTF-8 octet");
  assert_load_fails("a: 1\n---\nb: 2\n", IO_DOC_EINVAL,
                    "bad.yaml:1:1: found a second document at line 2; write one document");
  assert_load_fails("base: &b {tp: 2}\n", IO_DOC_EINVAL,
                    "bad.yaml:1:7: base: anchors and aliases are not supported (found '&b'); "
                    "write the values out");
  assert_load_fails("a: 1\nb: *a\n", IO_DOC_EINVAL,
                    "bad.yaml:2:4: b: anchors and aliases are not supported (found '*a'); write "
                    "the values out");
  assert_load_fails("? [a, b]\n: 1\n", IO_DOC_EINVAL, "bad.yaml:1:3: mapping keys must be scalars");
  char deep[400] = "";
  for (int i = 0; i < 70; i++)
    strcat(deep, "[");
  assert_load_fails(
      deep, IO_DOC_EINVAL,
      "bad.yaml:1:66: 0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
      "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0: nested deeper "
      "than 64 levels");
}

static void test_empty_documents_are_empty_mappings(void) {
  const char *texts[] = {"", "# only a comment\n", "---\n"};
  for (int i = 0; i < 3; i++) {
    io_doc *doc = load("empty.yaml", texts[i]);
    const io_node *root = io_doc_root(doc);
    CU_ASSERT_EQUAL(root->kind, IO_NODE_MAPPING);
    CU_ASSERT_EQUAL(root->count, 0);
    CU_ASSERT_EQUAL(root->line, 1);
    io_doc_free(doc);
  }
}

static void test_set_replaces_creates_and_reports_command_line(void) {
  io_doc *doc = load("study.yaml", study);
  const io_node *root = io_doc_root(doc);
  char err[512] = "";
  int64_t value = 0;
  /* replace a scalar inside a sequence element */
  CU_ASSERT_EQUAL_FATAL(io_doc_set(doc, "deployments.0.tp=4", err, sizeof err), 0);
  const io_node *tp = io_node_find(root, "deployments.0.tp");
  CU_ASSERT_STRING_EQUAL(tp->text, "4");
  CU_ASSERT_STRING_EQUAL(tp->file, "--set deployments.0.tp=4");
  CU_ASSERT_EQUAL(tp->line, 0);
  CU_ASSERT_STRING_EQUAL(tp->path, "deployments.0.tp");
  CU_ASSERT_EQUAL(io_node_find(root, "deployments.0")->count, 3); /* replaced, not added */
  /* a new key in an existing mapping, and new mappings along a path */
  CU_ASSERT_EQUAL(io_doc_set(doc, "simulation.seed=42", err, sizeof err), 0);
  CU_ASSERT_EQUAL(
      io_node_get_i64(root, "simulation.seed", IO_UNIT_NUMBER, 0, 100, &value, err, sizeof err), 0);
  CU_ASSERT_EQUAL(value, 42);
  CU_ASSERT_EQUAL(io_doc_set(doc, "slo.ttft.p99=500ms", err, sizeof err), 0);
  CU_ASSERT_EQUAL(
      io_node_get_i64(root, "slo.ttft.p99", IO_UNIT_NS, 0, INT64_MAX, &value, err, sizeof err), 0);
  CU_ASSERT_EQUAL(value, 500000000);
  CU_ASSERT_STRING_EQUAL(io_node_find(root, "slo.ttft")->path, "slo.ttft");
  CU_ASSERT_STRING_EQUAL(root->keys[root->count - 1]->text, "slo");
  /* YAML values: a flow sequence replaces a scalar; a mapping appends a sequence item */
  CU_ASSERT_EQUAL(io_doc_set(doc, "deployments.1.devices=[0, 1]", err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_node_find(root, "deployments.1.devices")->kind, IO_NODE_SEQUENCE);
  CU_ASSERT_STRING_EQUAL(io_node_find(root, "deployments.1.devices.1")->path,
                         "deployments.1.devices.1");
  CU_ASSERT_EQUAL(io_doc_set(doc, "deployments.2={model: c, tp: 8}", err, sizeof err), 0);
  CU_ASSERT_EQUAL(io_node_find(root, "deployments")->count, 3);
  CU_ASSERT_EQUAL(
      io_node_get_i64(root, "deployments.2.tp", IO_UNIT_NUMBER, 0, 100, &value, err, sizeof err),
      0);
  CU_ASSERT_EQUAL(value, 8);
  CU_ASSERT_EQUAL(io_doc_set(doc, "models.\"Qwen2.5-7B\".layers=28", err, sizeof err), 0);
  CU_ASSERT_PTR_NOT_NULL(io_node_find(root, "models.\"Qwen2.5-7B\".layers"));
  CU_ASSERT_STRING_EQUAL(io_node_find(root, "models")->keys[0]->text, "Qwen2.5-7B");

  /* a bad value is reported as coming from the command line */
  CU_ASSERT_EQUAL(io_doc_set(doc, "deployments.1.tp=four", err, sizeof err), 0);
  int rc = io_node_get_i64(root, "deployments.1.tp", IO_UNIT_NUMBER, 1, 64, &value, err,
                           sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "--set deployments.1.tp=four: deployments.1.tp: expected a number such as '8', "
                 "got 'four'");
  static const char *const deployment[] = {"model", "tp", "max_num_seqs", NULL};
  CU_ASSERT_EQUAL(io_doc_set(doc, "deployments.1.max_num_seq=8", err, sizeof err), 0);
  rc = io_node_check_keys(io_node_find(root, "deployments.1"), deployment, err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "study.yaml:10:5: deployments.1: unknown key 'role' (expected one of: model, tp, "
                 "max_num_seqs)");

  /* refusals leave the document as it was */
  rc = io_doc_set(doc, "deployments.7.tp=1", err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "--set deployments.7.tp=1: 'deployments' has no item '7' (it has 3; index 3 "
                 "appends)");
  rc = io_doc_set(doc, "simulation.end.unit=s", err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "--set simulation.end.unit=s: 'simulation.end' is a scalar, it has no key 'unit'");
  rc = io_doc_set(doc, "simulation.end", err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "--set simulation.end: expected key.path=value with a key path such as "
                 "'deployments.0.tp'");
  rc = io_doc_set(doc, "a..b=1", err, sizeof err);
  CU_ASSERT_EQUAL(rc, IO_DOC_EINVAL);
  CU_ASSERT_PTR_NULL(io_node_find(root, "a"));
  rc = io_doc_set(doc, "simulation.end=[1,", err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "--set simulation.end=[1,: did not find expected node content (at the end of "
                 "the value)");
  rc = io_doc_set(doc, "simulation.end=a: b: c", err, sizeof err);
  assert_message(rc, IO_DOC_EINVAL, err,
                 "--set simulation.end=a: b: c: mapping values are not allowed in this context "
                 "(at column 5 of the value)");
  CU_ASSERT_STRING_EQUAL(io_node_find(root, "simulation.end")->text, "2h");
  io_doc_free(doc);
}

/* Same shape, keys, texts and quoting (locations differ by design). */
static bool same_tree(const io_node *a, const io_node *b) {
  if (a->kind != b->kind || a->count != b->count || strcmp(a->path, b->path) != 0)
    return false;
  if (a->kind == IO_NODE_SCALAR)
    return strcmp(a->text, b->text) == 0 && a->quoted == b->quoted;
  for (size_t i = 0; i < a->count; i++)
    if ((a->keys && !same_tree(a->keys[i], b->keys[i])) || !same_tree(a->values[i], b->values[i]))
      return false;
  return true;
}

static void test_emit_then_reload_gives_the_same_tree(void) {
  io_doc *doc = load("r.yaml",
                     "plain: 80GiB\n"
                     "quoted: \"0.5\"\n"
                     "single: 'yes'\n"
                     "empty:\n"
                     "colon: \"a: b\"\n"
                     "hash: \"x # y\"\n"
                     "lines: |\n  one\n  two\n"
                     "unicode: 5\xC2\xB5s\n"
                     "\"dotted.key\": {a: [1, [2, 3], {}], b: []}\n"
                     "long: "
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     " bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"
                     "seq:\n  - - x\n    - y\n  - k: v\n");
  char err[512] = "";
  CU_ASSERT_EQUAL_FATAL(io_doc_set(doc, "seq.1.k={deep: [1, 2]}", err, sizeof err), 0);
  char *text = NULL, *again = NULL;
  CU_ASSERT_EQUAL_FATAL(io_doc_emit(doc, &text, err, sizeof err), 0);
  io_doc *back = load("emitted.yaml", text);
  CU_ASSERT_TRUE(same_tree(io_doc_root(doc), io_doc_root(back)));
  CU_ASSERT_EQUAL_FATAL(io_doc_emit(back, &again, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(again, text); /* emitting is a fixed point */
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "plain: 80GiB\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "quoted: \"0.5\"\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "lines: \"one\\ntwo\\n\"\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "unicode: 5\xC2\xB5s\n"));
  /* the comparison itself can fail */
  CU_ASSERT_EQUAL_FATAL(io_doc_set(back, "quoted=0.5", err, sizeof err), 0);
  CU_ASSERT_FALSE(same_tree(io_doc_root(doc), io_doc_root(back)));
  free(text);
  free(again);
  io_doc_free(back);
  io_doc_free(doc);

  doc = load("e.yaml", "");
  CU_ASSERT_EQUAL_FATAL(io_doc_emit(doc, &text, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(text, "{}\n");
  free(text);
  io_doc_free(doc);
}

int main(void) {
  static const harness_test tests[] = {
      {"tree_keeps_order_kinds_locations_and_paths",
       test_tree_keeps_order_kinds_locations_and_paths},
      {"getters_parse_units_and_check_ranges", test_getters_parse_units_and_check_ranges},
      {"strings_bools_and_choices", test_strings_bools_and_choices},
      {"unknown_keys_rejected_with_suggestion", test_unknown_keys_rejected_with_suggestion},
      {"duplicate_keys_rejected", test_duplicate_keys_rejected},
      {"malformed_yaml_reports_libyaml_problem_with_location",
       test_malformed_yaml_reports_libyaml_problem_with_location},
      {"empty_documents_are_empty_mappings", test_empty_documents_are_empty_mappings},
      {"set_replaces_creates_and_reports_command_line",
       test_set_replaces_creates_and_reports_command_line},
      {"emit_then_reload_gives_the_same_tree", test_emit_then_reload_gives_the_same_tree},
      {NULL, NULL},
  };
  return harness_run("io_doc", tests, NULL, true);
}
