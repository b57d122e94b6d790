/*
 * test_end_to_end.c - the certscan program against ground truths it did
 * not compute: the example fleet (verdicts from a separate
 * implementation), the bundled sample, and fleets made by certscan-gen
 * with several seeds, at 1, 2 and 4 threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "e2e_compare.h"

typedef struct e2e_env {
  const char *bin;
  const char *gen;
  const char *source;
  const char *shared;
  char work[256];
} e2e_env;

static int setup(void **state)
{
  static e2e_env env;

  env.bin = getenv("CERTSCAN_BIN");
  env.gen = getenv("CERTSCAN_GEN_BIN");
  env.source = getenv("CERTSCAN_SOURCE_DIR");
  env.shared = getenv("CERTSCAN_TESTDATA_DIR");
  if (env.bin == NULL || env.gen == NULL || env.source == NULL) {
    return -1;
  }
  snprintf(env.work, sizeof(env.work), "/tmp/certscan-e2e-XXXXXX");
  if (mkdtemp(env.work) == NULL) {
    return -1;
  }
  *state = &env;
  return 0;
}

static int teardown(void **state)
{
  e2e_env *env = *state;

  e2e_run("rm -rf '%s'", env->work);
  return 0;
}

/* The evaluated_at of a ground truth, for --at. */
static char *truth_time(const char *truth_path)
{
  json_t *truth = json_load_file(truth_path, 0, NULL);
  const char *at = json_string_value(json_object_get(truth, "evaluated_at"));
  char *copy = at ? strdup(at) : NULL;

  json_decref(truth);
  return copy;
}

/* Scans `inputs` of the fleet in `dir` into `out`; returns the status. */
static int scan(const e2e_env *env, const char *dir, const char *inputs,
                const char *truth, int threads, const char *out)
{
  char *at = truth_time(truth);
  int status;

  assert_non_null(at);
  status = e2e_run("'%s' scan -q --rules '%s/rules.json' "
                   "--signers '%s/signers.json' --at '%s' --threads %d "
                   "--out '%s' %s > '%s.stdout'",
                   env->bin, dir, dir, at, threads, out, inputs, out);
  free(at);
  return status;
}

static void assert_matches_truth(const char *out, const char *truth)
{
  char summary[1024];

  snprintf(summary, sizeof(summary), "%s/summary.json", out);
  assert_int_equal(e2e_compare_summary(summary, truth), 0);
}

static void assert_same_rows(char **want, size_t want_count, char **got,
                             size_t got_count)
{
  assert_non_null(want);
  assert_non_null(got);
  for (size_t i = 0; i < want_count && i < got_count; i++) {
    if (strcmp(want[i], got[i]) != 0) {
      fprintf(stderr, "row %zu: want %s, got %s\n", i, want[i], got[i]);
    }
    assert_string_equal(want[i], got[i]);
  }
  assert_int_equal(want_count, got_count);
}

static void test_example_fleet(void **state)
{
  e2e_env *env = *state;
  char dir[512], truth[600], inputs[1400], out[512], csv[600], rows[600];

  if (env->shared == NULL || access(env->shared, R_OK) != 0) {
    skip();
  }
  snprintf(dir, sizeof(dir), "%s/example", env->shared);
  snprintf(truth, sizeof(truth), "%s/expected.json", dir);
  snprintf(inputs, sizeof(inputs),
           "'%s/fleet-a.msgpack.zst' '%s/fleet-b.msgpack.zst'", dir, dir);
  snprintf(out, sizeof(out), "%s/example", env->work);
  assert_int_equal(scan(env, dir, inputs, truth, 2, out), 0);
  assert_matches_truth(out, truth);

  size_t want_count = 0, got_count = 0;

  snprintf(rows, sizeof(rows), "%s/expected-devices.csv", dir);
  snprintf(csv, sizeof(csv), "%s/devices.csv", out);

  char **want = e2e_csv_rows(rows, "device_id,rule_id,verdict,reason",
                             &want_count);
  char **got = e2e_csv_rows(csv, "device_id,rule_id,verdict,reason",
                            &got_count);

  assert_same_rows(want, want_count, got, got_count);
  e2e_rows_free(want, want_count);
  e2e_rows_free(got, got_count);
}

static void test_sample_fleet(void **state)
{
  e2e_env *env = *state;
  char dir[512], truth[600], inputs[600], out[512];

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(truth, sizeof(truth), "%s/expected.json", dir);
  snprintf(inputs, sizeof(inputs), "'%s'", dir);
  snprintf(out, sizeof(out), "%s/sample", env->work);
  assert_int_equal(scan(env, dir, inputs, truth, 2, out), 0);
  assert_matches_truth(out, truth);
}

/*
 * Generated fleets: each seed's ground truth holds at every thread
 * count, and devices.csv is the same bytes whatever the thread count.
 */
static void test_generated_fleets(void **state)
{
  static const int seeds[] = { 11, 23, 2026 };
  static const int threads[] = { 1, 2, 4 };
  e2e_env *env = *state;

  for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
    char dir[512], truth[600], inputs[600], first_csv[700];

    snprintf(dir, sizeof(dir), "%s/gen-%d", env->work, seeds[s]);
    assert_int_equal(e2e_run("'%s' --devices 600 --shards 3 --seed %d "
                             "--out '%s' > /dev/null",
                             env->gen, seeds[s], dir), 0);
    snprintf(truth, sizeof(truth), "%s/expected.json", dir);
    snprintf(inputs, sizeof(inputs), "'%s'", dir);
    for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
      char out[600], csv[700];

      snprintf(out, sizeof(out), "%s/scan-%d", dir, threads[t]);
      assert_int_equal(scan(env, dir, inputs, truth, threads[t], out), 0);
      assert_matches_truth(out, truth);
      snprintf(csv, sizeof(csv), "%s/devices.csv", out);
      if (t == 0) {
        snprintf(first_csv, sizeof(first_csv), "%s", csv);
      } else {
        assert_true(e2e_same_file(first_csv, csv));
      }
    }
  }
}

/* Writes `text` to `path`. */
static void write_text(const char *path, const char *text)
{
  FILE *file = fopen(path, "w");

  assert_non_null(file);
  fputs(text, file);
  fclose(file);
}

/* A rule naming a signer that is not configured stops the run: exit 2. */
static void test_missing_signer_is_config_error(void **state)
{
  e2e_env *env = *state;
  char dir[512], rules[600], out[600];

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(rules, sizeof(rules), "%s/missing-signer.json", env->work);
  snprintf(out, sizeof(out), "%s/missing-signer", env->work);
  write_text(rules,
             "[{\"id\": \"0b7c7a4e-3a8d-4c53-9d5b-2f6a1d1e9c01\", "
             "\"name\": \"Orphan\", \"type\": \"client_certificate\", "
             "\"input\": {\"certificate_id\": "
             "\"11111111-2222-3333-4444-555555555555\"}}]");
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s' --signers "
                           "'%s/signers.json' --out '%s' '%s' "
                           "2> '%s.stderr'",
                           env->bin, rules, dir, out, dir, out), 2);
  assert_int_equal(access(out, F_OK), -1);
}

/*
 * A dump cut short: exit 3, the records before the cut still count, and
 * the summary names the input and its error.
 */
static void test_truncated_input_exit_3(void **state)
{
  e2e_env *env = *state;
  char dir[512], cut[600], out[600], summary[700];
  json_t *report;

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(cut, sizeof(cut), "%s/cut.msgpack.zst", env->work);
  snprintf(out, sizeof(out), "%s/cut", env->work);
  assert_int_equal(e2e_run("f=$(ls '%s'/*.zst | head -n 1); "
                           "head -c $(( $(stat -c %%s \"$f\") / 2 )) "
                           "\"$f\" > '%s'", dir, cut), 0);
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' --out '%s' '%s' "
                           "> /dev/null 2> '%s.stderr'",
                           env->bin, dir, dir, out, cut, out), 3);
  snprintf(summary, sizeof(summary), "%s/summary.json", out);
  report = json_load_file(summary, 0, NULL);
  assert_non_null(report);

  json_t *input = json_array_get(json_object_get(report, "inputs"), 0);
  json_t *devices = json_object_get(report, "devices");

  assert_non_null(json_string_value(json_object_get(input, "error")));
  assert_true(json_integer_value(json_object_get(devices, "evaluated")) >
              0);
  assert_int_equal(json_integer_value(json_object_get(input, "devices")) +
                       json_integer_value(json_object_get(input,
                                                          "malformed")),
                   json_integer_value(json_object_get(devices, "read")));
  json_decref(report);
}

/* --fail-under above the sample's lowest compliance: exit 1. */
static void test_fail_under_exit_1(void **state)
{
  e2e_env *env = *state;
  char dir[512], truth[600];
  char *at;

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(truth, sizeof(truth), "%s/expected.json", dir);
  at = truth_time(truth);
  assert_non_null(at);
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' --at '%s' "
                           "--no-devices --fail-under 100 '%s' > /dev/null",
                           env->bin, dir, dir, at, dir), 1);
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' --at '%s' "
                           "--no-devices --fail-under 0 '%s' > /dev/null",
                           env->bin, dir, dir, at, dir), 0);
  free(at);
}

/* dump prints one line per header and per device record read. */
static void test_dump_lines(void **state)
{
  e2e_env *env = *state;
  char dir[512], truth[600], lines[600];
  json_t *expected;
  FILE *file;
  long count = 0;
  int c;

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(truth, sizeof(truth), "%s/expected.json", dir);
  snprintf(lines, sizeof(lines), "%s/dump.jsonl", env->work);
  assert_int_equal(e2e_run("'%s' dump '%s' > '%s'", env->bin, dir, lines),
                   0);
  file = fopen(lines, "r");
  assert_non_null(file);
  while ((c = fgetc(file)) != EOF) {
    count += c == '\n';
  }
  fclose(file);
  expected = json_load_file(truth, 0, NULL);
  assert_non_null(expected);

  json_int_t read = json_integer_value(
      json_object_get(json_object_get(expected, "devices"), "read"));

  /* The sample has two shards, each opening with its header. */
  assert_int_equal(count, read + 2);
  assert_int_equal(e2e_run("grep -c '\"type\":\"header\"' '%s' "
                           "| grep -qx 2", lines), 0);
  json_decref(expected);
}

/* Options that cannot work are refused before any input is read. */
static void test_bad_options_exit_2(void **state)
{
  /* WORK stands for the test's scratch folder. */
  static const char *const cases[] = {
    "--out WORK/a-file",
    "--partial WORK/missing/p.partial",
    "--max-record-size 10",
    "--fail-under nan",
    "--timestamp-format unixnano --at 2300-01-01T00:00:00Z",
    "--at 2030-01-01T00:00:00.5Z",
    "--threads 0",
  };
  e2e_env *env = *state;
  char dir[512], option[700];

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  assert_int_equal(e2e_run("touch '%s/a-file'; mkdir -p '%s/empty'",
                           env->work, env->work), 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *work = strstr(cases[i], "WORK");

    if (work != NULL) {
      snprintf(option, sizeof(option), "%.*s'%s'%s",
               (int)(work - cases[i]), cases[i], env->work, work + 4);
    } else {
      snprintf(option, sizeof(option), "%s", cases[i]);
    }
    assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                             "--signers '%s/signers.json' %s '%s' "
                             "> /dev/null 2>&1",
                             env->bin, dir, dir, option, dir), 2);
  }
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' '%s/empty' "
                           "> /dev/null 2>&1",
                           env->bin, dir, dir, env->work), 2);
}

/*
 * Past a file-size limit the per-device files are dropped, no temporary
 * file is left, and the summary is still written: exit 3.
 */
static void test_file_size_limit(void **state)
{
  e2e_env *env = *state;
  char dir[512], out[600];

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(out, sizeof(out), "%s/fsize", env->work);
  assert_int_equal(e2e_run("ulimit -f 500; '%s' scan -q --rules "
                           "'%s/rules.json' --signers '%s/signers.json' "
                           "--out '%s' '%s' > /dev/null 2>&1",
                           env->bin, dir, dir, out, dir), 3);
  assert_int_equal(e2e_run("test -s '%s/summary.json' && "
                           "test -s '%s/report.html' && "
                           "test ! -e '%s/devices.csv' && "
                           "test -z \"$(ls '%s' | grep tmp)\"",
                           out, out, out, out), 0);
  assert_int_equal(e2e_run("grep -q '\"devices_files\": \"not written: "
                           "cannot write' '%s/summary.json'", out), 0);
}

/* A closed standard input reads as an empty dump: exit 3, no crash. */
static void test_closed_stdin(void **state)
{
  e2e_env *env = *state;
  char dir[512];

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' - <&- "
                           "> /dev/null 2>&1",
                           env->bin, dir, dir), 3);
}

/*
 * Each shard scanned on its own with --partial, then merged: the same
 * counts as the ground truth of the whole fleet.
 */
static void test_merge_partials(void **state)
{
  e2e_env *env = *state;
  char dir[512], truth[600], out[600];
  char *at;

  snprintf(dir, sizeof(dir), "%s/datasets/sample", env->source);
  snprintf(truth, sizeof(truth), "%s/expected.json", dir);
  snprintf(out, sizeof(out), "%s/merged", env->work);
  at = truth_time(truth);
  assert_non_null(at);
  assert_int_equal(e2e_run("n=0; for f in '%s'/*.zst; do n=$((n+1)); "
                           "'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' --at '%s' "
                           "--no-devices --partial '%s'/part-$n.partial "
                           "\"$f\" > /dev/null || exit 1; done",
                           dir, env->bin, dir, dir, at, env->work), 0);
  assert_int_equal(e2e_run("'%s' merge --out '%s' '%s'/part-*.partial "
                           "> /dev/null", env->bin, out, env->work), 0);
  free(at);
  assert_matches_truth(out, truth);

  /* The same shard twice would double its devices: refused. */
  assert_int_equal(e2e_run("'%s' merge '%s'/part-1.partial "
                           "'%s'/part-1.partial > /dev/null 2>&1",
                           env->bin, env->work, env->work), 2);
}

/*
 * SIGINT mid-scan: the batches in flight finish, unfinished files are
 * removed, no report is written, and the exit status is 3. The fleet is
 * signed with P-384 so that the scan lasts seconds, well past the
 * signal.
 */
static void test_interrupted_scan(void **state)
{
  e2e_env *env = *state;
  char dir[512], out[600];

  snprintf(dir, sizeof(dir), "%s/slow", env->work);
  snprintf(out, sizeof(out), "%s/interrupted", env->work);
  assert_int_equal(e2e_run("'%s' --devices 3000 --signers p384 --seed 5 "
                           "--out '%s' > /dev/null", env->gen, dir), 0);
  assert_int_equal(e2e_run("'%s' scan -q --rules '%s/rules.json' "
                           "--signers '%s/signers.json' --threads 1 "
                           "--out '%s' '%s' > /dev/null 2>&1 & pid=$!; "
                           "sleep 0.5; kill -INT $pid; wait $pid",
                           env->bin, dir, dir, out, dir), 3);
  assert_int_equal(e2e_run("test -z \"$(ls -A '%s')\"", out), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_example_fleet),
    cmocka_unit_test(test_sample_fleet),
    cmocka_unit_test(test_generated_fleets),
    cmocka_unit_test(test_missing_signer_is_config_error),
    cmocka_unit_test(test_truncated_input_exit_3),
    cmocka_unit_test(test_fail_under_exit_1),
    cmocka_unit_test(test_dump_lines),
    cmocka_unit_test(test_bad_options_exit_2),
    cmocka_unit_test(test_file_size_limit),
    cmocka_unit_test(test_closed_stdin),
    cmocka_unit_test(test_merge_partials),
    cmocka_unit_test(test_interrupted_scan),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
