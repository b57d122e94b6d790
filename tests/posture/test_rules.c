/*
 * test_rules.c - loading and validating rules files: the three shapes
 * the vendor's API gives, the rules kept and skipped, and the exact
 * message of every configuration error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "posture_fixtures.h"

#define SIGNER "6513270e-269e-4d37-b2a7-4de452e6b438"
#define BROKEN "7f1c2a55-9d0e-4b61-a3c8-2e5f6d7b8c90"
#define RID "36f675cc-81e7-4ef5-a8e2-5d940ed90475"
#define RID2 "6b0d549b-6f03-475a-9600-a35a099950d8"

/* The label every message of the one-rule files below starts with. */
#define LABEL "rule 1 \"r\" (" RID "): "

static struct {
  fx_pool *pool;
  cs_verify_signers *signers;
} g;

static int group_setup(void **state)
{
  fx_text *json;
  fx_cert_spec spec = { 0 };

  (void)state;
  g.pool = fx_pool_new();
  spec.cn = "Corp Issuing CA";
  spec.key = fx_key(g.pool, FX_KEY_EC);
  spec.not_before = "200101000000Z";
  spec.not_after = "350101000000Z";
  spec.ca = true;

  /* The API may list a signer without its PEM: kept, not usable. */
  json = fx_text_new(g.pool);
  fx_text_add(json, "[{\"id\": \"%s\", \"name\": \"corp issuing\", "
                    "\"certificates\": \"", SIGNER);
  fx_text_add_pem_json(json, fx_cert(g.pool, &spec));
  fx_text_add(json, "\"}, {\"id\": \"%s\", \"name\": \"listed only\"}]",
              BROKEN);

  g.signers = fx_signers_load(g.pool, fx_text_get(json));
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  cs_verify_signers_free(g.signers);
  fx_pool_free(g.pool);
  return 0;
}

static cs_status load_text(const char *json, const char **out_path,
                           cs_posture_rules **out_rules, cs_error *err)
{
  *out_path = fx_write(g.pool, "rules.json", json);
  cs_error_clear(err);
  return cs_posture_rules_load(*out_path, g.signers, out_rules, err);
}

static cs_posture_rules *load_ok(const char *json)
{
  cs_posture_rules *rules = NULL;
  const char *path;
  cs_error err;

  if (load_text(json, &path, &rules, &err) != CS_OK) {
    fail_msg("rules did not load: %s", err.message);
  }
  assert_non_null(rules);
  return rules;
}

/* The load fails with CS_ERR_CONFIG and "<path>: <problem>". */
static void expect_error(const char *json, const char *problem)
{
  cs_posture_rules *rules = (cs_posture_rules *)&g;
  const char *path;
  char want[2 * CS_ERROR_MESSAGE_MAX];
  cs_error err;

  assert_int_equal(load_text(json, &path, &rules, &err), CS_ERR_CONFIG);
  assert_null(rules);
  assert_int_equal(err.status, CS_ERR_CONFIG);
  snprintf(want, sizeof(want), "%s: %s", path, problem);
  assert_string_equal(err.message, want);
}

/* One v2 rule with these input members. */
static const char *v2(const char *input)
{
  fx_text *text = fx_text_new(g.pool);

  fx_text_add(text, "{\"id\": \"%s\", \"name\": \"r\", "
                    "\"type\": \"client_certificate_v2\", "
                    "\"input\": {%s}}", RID, input);
  return fx_text_get(text);
}

/* A v2 rule for windows with this signer and extra members. */
static const char *v2w(const char *extra)
{
  fx_text *text = fx_text_new(g.pool);

  fx_text_add(text, "\"certificate_id\": \"%s\", "
                    "\"operating_system\": \"windows\"%s%s",
              SIGNER, extra[0] != '\0' ? ", " : "", extra);
  return v2(fx_text_get(text));
}

static const char *rule_with(const char *members)
{
  fx_text *text = fx_text_new(g.pool);

  fx_text_add(text, "{\"type\": \"client_certificate_v2\", %s}", members);
  return fx_text_get(text);
}

static void test_three_shapes(void **state)
{
  const char *one = v2w("");
  fx_text *array = fx_text_new(g.pool);
  fx_text *envelope = fx_text_new(g.pool);
  cs_posture_rules *rules;

  (void)state;
  fx_text_add(array, "[%s]", one);
  fx_text_add(envelope, "{\"success\": true, \"errors\": [], "
                        "\"result\": [%s, {\"id\": \"x\", \"type\": "
                        "\"disk_encryption\"}]}", one);

  rules = load_ok(one);
  assert_int_equal(cs_posture_rules_count(rules), 1);
  assert_int_equal(cs_posture_rules_skipped(rules), 0);
  cs_posture_rules_free(rules);

  rules = load_ok(fx_text_get(array));
  assert_int_equal(cs_posture_rules_count(rules), 1);
  cs_posture_rules_free(rules);

  rules = load_ok(fx_text_get(envelope));
  assert_int_equal(cs_posture_rules_count(rules), 1);
  assert_int_equal(cs_posture_rules_skipped(rules), 1);
  assert_string_equal(cs_posture_rules_info(rules, 0)->id, RID);
  assert_null(cs_posture_rules_info(rules, 1));
  cs_posture_rules_free(rules);

  rules = load_ok("[]");
  assert_int_equal(cs_posture_rules_count(rules), 0);
  cs_posture_rules_free(rules);
}

static void test_rule_info(void **state)
{
  fx_text *json = fx_text_new(g.pool);
  const cs_posture_rule_info *info;
  cs_posture_rules *rules;

  (void)state;
  fx_text_add(json, "[{\"name\": \"win\", \"id\": \"%s\", \"type\": "
                    "\"client_certificate_v2\", \"schedule\": \"1h\", "
                    "\"input\": {\"operating_system\": \"windows\", "
                    "\"certificate_id\": \"%s\", \"cn\": "
                    "\"${serial_number}_corp\", \"check_private_key\": "
                    "true}}, "
                    "{\"id\": \"%s\", \"name\": \"legacy\", \"type\": "
                    "\"client_certificate\", \"input\": {\"cn\": "
                    "\"x\", \"certificate_id\": \"%s\"}}]",
              RID, SIGNER, RID2, SIGNER);
  rules = load_ok(fx_text_get(json));
  assert_int_equal(cs_posture_rules_count(rules), 2);

  info = cs_posture_rules_info(rules, 0);
  assert_string_equal(info->id, RID);
  assert_string_equal(info->name, "win");
  assert_string_equal(info->type, "client_certificate_v2");
  assert_string_equal(info->operating_system, "windows");
  assert_string_equal(info->certificate_id, SIGNER);
  assert_string_equal(info->input_json,
                      "{\"certificate_id\":\"" SIGNER "\","
                      "\"check_private_key\":true,"
                      "\"cn\":\"${serial_number}_corp\","
                      "\"operating_system\":\"windows\"}");

  info = cs_posture_rules_info(rules, 1);
  assert_string_equal(info->type, "client_certificate");
  assert_null(info->operating_system);
  assert_string_equal(info->input_json,
                      "{\"certificate_id\":\"" SIGNER "\",\"cn\":\"x\"}");
  cs_posture_rules_free(rules);
}

/* The brief's example: five client-certificate rules and one other. */
static void test_example_rules_file(void **state)
{
  cs_verify_signers *signers = cs_verify_signers_new();
  cs_posture_rules *rules = NULL;
  cs_error err;

  (void)state;
  cs_error_clear(&err);
  if (cs_verify_signers_load(signers,
                             fx_testdata_path(g.pool,
                                            "example/signers.json"),
                             &err) != CS_OK) {
    fail_msg("%s", err.message);
  }
  if (cs_posture_rules_load(fx_testdata_path(g.pool,
                                           "example/rules.json"),
                            signers, &rules, &err) != CS_OK) {
    fail_msg("%s", err.message);
  }
  assert_int_equal(cs_posture_rules_count(rules), 5);
  assert_int_equal(cs_posture_rules_skipped(rules), 1);
  assert_string_equal(cs_posture_rules_info(rules, 1)->name,
                      "Linux corp client cert");
  assert_string_equal(cs_posture_rules_info(rules, 3)->type,
                      "client_certificate");
  assert_null(cs_posture_rules_info(rules, 3)->operating_system);
  assert_string_equal(cs_posture_rules_info(rules, 0)->input_json,
                      "{\"certificate_id\":"
                      "\"6513270e-269e-4d37-b2a7-4de452e6b438\","
                      "\"check_private_key\":true,"
                      "\"cn\":\"${serial_number}_corp\","
                      "\"extended_key_usage\":[\"clientAuth\"],"
                      "\"locations\":{\"trust_stores\":[\"system\"]},"
                      "\"operating_system\":\"windows\"}");
  cs_posture_rules_free(rules);
  cs_verify_signers_free(signers);
}

/* What a valid rule may say without an error. */
static void test_accepted_forms(void **state)
{
  static const char *const inputs[] = {
    "\"cn\": \"\"",
    "\"cn\": null, \"subject_alternative_names\": null",
    "\"cn\": \"plain text, no variables: $ { } $x\"",
    "\"cn\": \"${hostname}${serial_number}\"",
    "\"locations\": {\"paths\": [\"C:\\\\certs\\\\client.pem\"]}",
    "\"locations\": {\"paths\": [\"/etc/a.pem\", \"/etc/a.pem\"], "
    "\"trust_stores\": []}",
    "\"extended_key_usage\": []",
    "\"subject_alternative_names\": []",
    "\"check_private_key\": false",
    "\"future_member\": {\"kept\": true}",
  };
  cs_posture_rules *rules;

  (void)state;
  for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
    rules = load_ok(v2w(inputs[i]));
    assert_int_equal(cs_posture_rules_count(rules), 1);
    cs_posture_rules_free(rules);
  }

  /* Signer ids match in any letter case; the rule keeps its text. */
  rules = load_ok(v2("\"certificate_id\": "
                     "\"6513270E-269E-4D37-B2A7-4DE452E6B438\", "
                     "\"operating_system\": \"mac\""));
  assert_string_equal(cs_posture_rules_info(rules, 0)->certificate_id,
                      "6513270E-269E-4D37-B2A7-4DE452E6B438");
  cs_posture_rules_free(rules);
}

/* Only client-certificate rules are read; others are not judged. */
static void test_other_types_skipped_unjudged(void **state)
{
  cs_posture_rules *rules;

  (void)state;
  rules = load_ok("[{\"type\": \"disk_encryption\"}, "
                  "{\"type\": \"firewall\", \"id\": 7, \"input\": 3}, "
                  "{\"type\": \"Client_Certificate\"}]");
  assert_int_equal(cs_posture_rules_count(rules), 0);
  assert_int_equal(cs_posture_rules_skipped(rules), 3);
  cs_posture_rules_free(rules);
}

static void test_file_errors(void **state)
{
  cs_posture_rules *rules = NULL;
  const char *path;
  cs_error err;
  char want[CS_ERROR_MESSAGE_MAX];

  (void)state;
  assert_int_equal(load_text("[{\"type\": ", &path, &rules, &err),
                   CS_ERR_CONFIG);
  snprintf(want, sizeof(want), "%s:1:10: not valid JSON: ", path);
  assert_memory_equal(err.message, want, strlen(want));

  assert_int_equal(load_text("{\"a\": 1, \"a\": 2}", &path, &rules, &err),
                   CS_ERR_CONFIG);
  assert_non_null(strstr(err.message, "duplicate object key"));

  snprintf(want, sizeof(want), "%s/absent.json", fx_pool_dir(g.pool));
  cs_error_clear(&err);
  assert_int_equal(cs_posture_rules_load(want, g.signers, &rules, &err),
                   CS_ERR_CONFIG);
  assert_null(rules);
  assert_non_null(strstr(err.message, "absent.json: cannot read rules: "));

  expect_error("\"rules\"", "expected a rule object, an array of rules "
                            "or {\"result\": [...]}");
  expect_error("{\"result\": {}}", "\"result\" must be an array of rules");
  expect_error("{\"result\": null}", "\"result\" must be an array of rules");
}

static void test_header_errors(void **state)
{
  (void)state;
  expect_error("[1]", "rule 1 unnamed (no id): must be a JSON object");
  expect_error("[{\"type\": \"firewall\"}, {\"name\": \"n\"}]",
               "rule 2 \"n\" (no id): type missing or not a string");
  expect_error(rule_with("\"name\": \"r\""),
               "rule 1 \"r\" (no id): missing id");
  expect_error(rule_with("\"name\": \"r\", \"id\": 12"),
               "rule 1 \"r\" (no id): id must be a string");
  expect_error(rule_with("\"name\": \"r\", \"id\": \"rule-1\""),
               "rule 1 \"r\" (rule-1): id is not a UUID");
  expect_error(rule_with("\"id\": \"" RID "\""),
               "rule 1 unnamed (" RID "): missing name");
  expect_error(rule_with("\"id\": \"" RID "\", \"name\": false"),
               "rule 1 unnamed (" RID "): name must be a string");
  expect_error(rule_with("\"id\": \"" RID "\", \"name\": \"r\", "
                         "\"description\": 5"),
               LABEL "description must be a string");
  expect_error(rule_with("\"id\": \"" RID "\", \"name\": \"r\""),
               LABEL "missing input");
  expect_error(rule_with("\"id\": \"" RID "\", \"name\": \"r\", "
                         "\"input\": []"),
               LABEL "input must be an object");
}

static void test_match_errors(void **state)
{
  const char *base = "\"id\": \"" RID "\", \"name\": \"r\", \"input\": "
                     "{}, \"match\": ";
  fx_text *a = fx_text_new(g.pool);
  fx_text *b = fx_text_new(g.pool);
  fx_text *c = fx_text_new(g.pool);

  (void)state;
  fx_text_add(a, "%s{\"platform\": \"mac\"}", base);
  fx_text_add(b, "%s[{\"platform\": \"mac\"}, {\"os\": \"mac\"}]", base);
  fx_text_add(c, "%s[{\"platform\": \"freebsd\"}]", base);
  expect_error(rule_with(fx_text_get(a)),
               LABEL "match must be an array of {\"platform\": ...} "
                     "objects");
  expect_error(rule_with(fx_text_get(b)),
               LABEL "match[1] must be an object with a \"platform\" "
                     "string");
  expect_error(rule_with(fx_text_get(c)),
               LABEL "match[0].platform \"freebsd\" is not a platform "
                     "(windows, mac, linux, android, ios, chromeos)");
}

static void test_certificate_id_errors(void **state)
{
  (void)state;
  expect_error(v2("\"operating_system\": \"windows\""),
               LABEL "missing certificate_id");
  expect_error(v2("\"certificate_id\": 5"),
               LABEL "certificate_id must be a string");
  expect_error(v2("\"certificate_id\": \"6513270e-269e-4d37-b2a7\""),
               LABEL "certificate_id \"6513270e-269e-4d37-b2a7\" is not a "
                     "UUID");
  expect_error(v2("\"certificate_id\": "
                  "\"6513270e-269e-4d37-b2a7-4de452e6b43g\""),
               LABEL "certificate_id "
                     "\"6513270e-269e-4d37-b2a7-4de452e6b43g\" is not a "
                     "UUID");
  expect_error(v2("\"certificate_id\": "
                  "\"6513270e269e-4d37-b2a7-4de452e6b4380\""),
               LABEL "certificate_id "
                     "\"6513270e269e-4d37-b2a7-4de452e6b4380\" is not a "
                     "UUID");
  expect_error(v2("\"certificate_id\": "
                  "\"00000000-0000-4000-8000-000000000000\", "
                  "\"operating_system\": \"linux\""),
               LABEL "certificate_id 00000000-0000-4000-8000-000000000000 "
                     "has no signer in the configured signers");
}

static void test_unusable_signer(void **state)
{
  const cs_verify_signer *signer = cs_verify_signers_find(g.signers,
                                                          BROKEN);
  char want[2 * CS_ERROR_MESSAGE_MAX];
  cs_error why;

  (void)state;
  assert_non_null(signer);
  cs_error_clear(&why);
  assert_false(cs_verify_signer_usable(signer, &why));
  assert_true(strlen(why.message) > 0);
  snprintf(want, sizeof(want),
           LABEL "signer " BROKEN " (\"listed only\") is not usable: %s",
           why.message);
  expect_error(v2("\"certificate_id\": \"" BROKEN "\", "
                  "\"operating_system\": \"linux\""),
               want);
}

static void test_operating_system_errors(void **state)
{
  (void)state;
  expect_error(v2("\"certificate_id\": \"" SIGNER "\""),
               LABEL "missing operating_system (windows, mac or linux)");
  expect_error(v2("\"certificate_id\": \"" SIGNER "\", "
                  "\"operating_system\": [\"mac\"]"),
               LABEL "operating_system must be a string");
  expect_error(v2("\"certificate_id\": \"" SIGNER "\", "
                  "\"operating_system\": \"ios\""),
               LABEL "operating_system \"ios\" is not windows, mac or "
                     "linux");
  expect_error(v2("\"certificate_id\": \"" SIGNER "\", "
                  "\"operating_system\": \"Windows\""),
               LABEL "operating_system \"Windows\" is not windows, mac or "
                     "linux");
}

static void test_location_errors(void **state)
{
  (void)state;
  expect_error(v2w("\"locations\": [\"system\"]"),
               LABEL "locations must be an object");
  expect_error(v2w("\"locations\": {\"trust_stores\": \"system\"}"),
               LABEL "locations.trust_stores must be an array of strings");
  expect_error(v2w("\"locations\": {\"trust_stores\": [\"user\", 1]}"),
               LABEL "locations.trust_stores[1] must be a string");
  expect_error(v2w("\"locations\": {\"trust_stores\": [\"machine\"]}"),
               LABEL "locations.trust_stores[0] \"machine\" is not a "
                     "trust store (system, user)");
  expect_error(v2w("\"locations\": {\"trust_stores\": [\"path\"]}"),
               LABEL "locations.trust_stores[0] \"path\" is not a "
                     "trust store (system, user)");
  expect_error(v2w("\"locations\": {\"paths\": \"/etc/a.pem\"}"),
               LABEL "locations.paths must be an array of strings");
  expect_error(v2w("\"locations\": {\"paths\": [null]}"),
               LABEL "locations.paths[0] must be a string");
  expect_error(v2w("\"locations\": {\"paths\": [\"/a.pem\", "
                   "\"certs/client.pem\"]}"),
               LABEL "locations.paths[1] \"certs/client.pem\" is not an "
                     "absolute path");
  expect_error(v2w("\"locations\": {\"paths\": [\"\"]}"),
               LABEL "locations.paths[0] \"\" is not an absolute path");
  expect_error(v2w("\"locations\": {}"),
               LABEL "locations selects no trust store and no path");
  expect_error(v2w("\"locations\": {\"trust_stores\": [], \"paths\": []}"),
               LABEL "locations selects no trust store and no path");
}

static void test_template_errors(void **state)
{
  (void)state;
  expect_error(v2w("\"cn\": 7"), LABEL "cn must be a string");
  expect_error(v2w("\"cn\": \"${serial}_corp\""),
               LABEL "cn has an unknown variable ${serial} (known: "
                     "${serial_number}, ${hostname})");
  expect_error(v2w("\"cn\": \"${}\""),
               LABEL "cn has an unknown variable ${} (known: "
                     "${serial_number}, ${hostname})");
  expect_error(v2w("\"cn\": \"${HOSTNAME}\""),
               LABEL "cn has an unknown variable ${HOSTNAME} (known: "
                     "${serial_number}, ${hostname})");
  expect_error(v2w("\"cn\": \"${hostname\""),
               LABEL "cn has an unterminated \"${\"");
  expect_error(v2w("\"cn\": \"a_${serial_number}_${\""),
               LABEL "cn has an unterminated \"${\"");
  expect_error(v2w("\"subject_alternative_names\": \"${hostname}\""),
               LABEL "subject_alternative_names must be an array of "
                     "strings");
  expect_error(v2w("\"subject_alternative_names\": [\"a\", 2]"),
               LABEL "subject_alternative_names[1] must be a string");
  expect_error(v2w("\"subject_alternative_names\": [\"a\", \"\"]"),
               LABEL "subject_alternative_names[1] is empty");
  expect_error(v2w("\"subject_alternative_names\": [\"${hostname}.x\", "
                   "\"${user}@x\"]"),
               LABEL "subject_alternative_names[1] has an unknown "
                     "variable ${user} (known: ${serial_number}, "
                     "${hostname})");
}

static void test_long_template(void **state)
{
  fx_text *input = fx_text_new(g.pool);

  (void)state;
  fx_text_add(input, "\"cn\": \"");
  for (int i = 0; i < 1025; i++) {
    fx_text_add(input, "a");
  }
  fx_text_add(input, "\"");
  expect_error(v2w(fx_text_get(input)),
               LABEL "cn is longer than 1024 bytes");
}

/* A v1 rule reads only certificate_id and cn. */
static void test_v1_rules(void **state)
{
  cs_posture_rules *rules;

  (void)state;
  rules = load_ok("{\"id\": \"" RID "\", \"name\": \"r\", \"type\": "
                  "\"client_certificate\", \"input\": {\"certificate_id\": "
                  "\"" SIGNER "\", \"operating_system\": \"ios\", "
                  "\"locations\": 5}}");
  assert_null(cs_posture_rules_info(rules, 0)->operating_system);
  cs_posture_rules_free(rules);
  expect_error("{\"id\": \"" RID "\", \"name\": \"r\", \"type\": "
               "\"client_certificate\", \"input\": {\"cn\": \"${x}\", "
               "\"certificate_id\": \"" SIGNER "\"}}",
               LABEL "cn has an unknown variable ${x} (known: "
                     "${serial_number}, ${hostname})");
  expect_error("{\"id\": \"" RID "\", \"name\": \"r\", \"type\": "
               "\"client_certificate\", \"input\": {\"cn\": \"a\"}}",
               LABEL "missing certificate_id");
}

static void test_eku_and_key_errors(void **state)
{
  (void)state;
  expect_error(v2w("\"extended_key_usage\": \"clientAuth\""),
               LABEL "extended_key_usage must be an array of strings");
  expect_error(v2w("\"extended_key_usage\": [true]"),
               LABEL "extended_key_usage[0] must be a string");
  expect_error(v2w("\"extended_key_usage\": [\"clientAuth\", "
                   "\"serverAuth\"]"),
               LABEL "extended_key_usage[1] \"serverAuth\" is not a "
                     "supported purpose (clientAuth, emailProtection)");
  expect_error(v2w("\"extended_key_usage\": [\"1.3.6.1.5.5.7.3.2\"]"),
               LABEL "extended_key_usage[0] \"1.3.6.1.5.5.7.3.2\" is not "
                     "a supported purpose (clientAuth, emailProtection)");
  expect_error(v2w("\"check_private_key\": \"true\""),
               LABEL "check_private_key must be true or false");
  expect_error(v2w("\"check_private_key\": 1"),
               LABEL "check_private_key must be true or false");
}

/* The first error stops the load, naming the rule where it is. */
static void test_error_names_the_failing_rule(void **state)
{
  fx_text *json = fx_text_new(g.pool);

  (void)state;
  fx_text_add(json, "{\"result\": [%s, {\"type\": \"firewall\"}, "
                    "{\"id\": \"%s\", \"name\": \"Second\", \"type\": "
                    "\"client_certificate_v2\", \"input\": "
                    "{\"certificate_id\": \"%s\", \"operating_system\": "
                    "\"linux\", \"extended_key_usage\": [\"any\"]}}]}",
              v2w(""), RID2, SIGNER);
  expect_error(fx_text_get(json),
               "rule 3 \"Second\" (" RID2 "): extended_key_usage[0] "
               "\"any\" is not a supported purpose (clientAuth, "
               "emailProtection)");
}

static void test_duplicate_rule_id(void **state)
{
  fx_text *json = fx_text_new(g.pool);
  const char *upper = "36F675CC-81E7-4EF5-A8E2-5D940ED90475";

  (void)state;
  fx_text_add(json, "[%s, {\"id\": \"%s\", \"name\": \"again\", "
                    "\"type\": \"client_certificate\", \"input\": "
                    "{\"certificate_id\": \"%s\"}}]",
              v2w(""), upper, SIGNER);
  expect_error(fx_text_get(json),
               "rule 2 \"again\" (36F675CC-81E7-4EF5-A8E2-5D940ED90475): "
               "id is already used by rule \"r\"");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_three_shapes),
    cmocka_unit_test(test_rule_info),
    cmocka_unit_test(test_example_rules_file),
    cmocka_unit_test(test_accepted_forms),
    cmocka_unit_test(test_other_types_skipped_unjudged),
    cmocka_unit_test(test_file_errors),
    cmocka_unit_test(test_header_errors),
    cmocka_unit_test(test_match_errors),
    cmocka_unit_test(test_certificate_id_errors),
    cmocka_unit_test(test_unusable_signer),
    cmocka_unit_test(test_operating_system_errors),
    cmocka_unit_test(test_location_errors),
    cmocka_unit_test(test_template_errors),
    cmocka_unit_test(test_long_template),
    cmocka_unit_test(test_v1_rules),
    cmocka_unit_test(test_eku_and_key_errors),
    cmocka_unit_test(test_error_names_the_failing_rule),
    cmocka_unit_test(test_duplicate_rule_id),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
