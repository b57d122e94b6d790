/*
 * test_posture_vectors.c - the public test certificates of
 * tests/data/vectors, judged at the posture level with the clock each
 * manifest row pins.
 *
 * Where a manifest row leaves a DECISION, certscan's rules decide:
 * SHA-1 signatures are weak unless allowed, MD5 always is; a higher
 * root is not the signer; non-DER input, a duplicate extension or an
 * explicit EC curve make a certificate malformed (and a signer with an
 * explicit curve unusable); CN case folding is ASCII only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "posture_fixtures.h"

#define CT "vectors/certificate-transparency/test/testdata/"
#define PY "vectors/certificate-transparency/python/ct/crypto/testdata/"
#define LIMBO "vectors/x509-limbo/limbo/_assets/"

#define ID_CT_CA "0a5e3c1d-1f00-4c6e-9a41-000000000001"
#define ID_CT_INT "0a5e3c1d-1f00-4c6e-9a41-000000000002"
#define ID_NULL "0a5e3c1d-1f00-4c6e-9a41-000000000003"
#define ID_UTF8 "0a5e3c1d-1f00-4c6e-9a41-000000000004"
#define ID_EXPLICIT "0a5e3c1d-1f00-4c6e-9a41-000000000005"
#define RULE_ID "0a5e3c1d-1f00-4c6e-9a41-0000000000ff"

#define AT_MANIFEST "2026-12-03T12:00:00Z"
#define AT_2015 "2015-01-01T00:00:00Z"

static struct {
  fx_pool *pool;
  cs_verify_signers *signers;
} g;

static void add_signer(fx_text *json, const char *id, const char *file,
                       const char *sep)
{
  fx_text_add(json, "%s{\"id\": \"%s\", \"name\": \"%s\", "
                    "\"certificates\": \"", sep, id, file);
  fx_text_add_pem_file_json(json, fx_testdata_path(g.pool, file));
  fx_text_add(json, "\"}");
}

static int group_setup(void **state)
{
  fx_text *json;

  (void)state;
  g.pool = fx_pool_new();
  json = fx_text_new(g.pool);
  fx_text_add(json, "[");
  add_signer(json, ID_CT_CA, CT "ca-cert.pem", "");
  add_signer(json, ID_CT_INT, CT "intermediate-cert.pem", ", ");
  add_signer(json, ID_NULL, PY "null_chars.pem", ", ");
  add_signer(json, ID_UTF8, PY "cn_utf8.pem", ", ");
  add_signer(json, ID_EXPLICIT, LIMBO "explicit_curve_ca.pem", ", ");
  fx_text_add(json, "]");

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

/* One vector certificate judged by one rule; the worker stays open so
 * that a test may read the facts. */
typedef struct run {
  cs_posture_rules *rules;
  cs_posture_worker *worker;
  cs_posture_result result;
  cs_posture_cert_counts counts;
  fx_device device;
} run;

static void run_start(run *r, const char *file, const char *signer,
                      const char *input, const char *at, bool allow_sha1)
{
  cs_posture_options options = { fx_time(at), allow_sha1 };
  fx_text *json = fx_text_new(g.pool);
  cs_error err;

  fx_text_add(json, "{\"id\": \"%s\", \"name\": \"vector\", \"type\": "
                    "\"client_certificate_v2\", \"input\": "
                    "{\"certificate_id\": \"%s\", "
                    "\"operating_system\": \"linux\"%s%s}}",
              RULE_ID, signer, input[0] != '\0' ? ", " : "", input);
  cs_error_clear(&err);
  if (cs_posture_rules_load(fx_write(g.pool, "rules.json",
                                     fx_text_get(json)),
                            g.signers, &r->rules, &err) != CS_OK) {
    fail_msg("rules did not load: %s", err.message);
  }
  r->worker = cs_posture_worker_new(r->rules, &options);
  assert_non_null(r->worker);
  fx_device_init(&r->device, "linux", "S1", "h1");
  fx_device_add(&r->device, CS_STORE_SYSTEM,
                fx_read_cert_file(g.pool, fx_testdata_path(g.pool, file)),
                CS_TRI_TRUE);
  assert_int_equal(cs_posture_evaluate(r->worker, &r->device.dev,
                                       &r->result, &r->counts),
                   CS_OK);
  assert_int_equal(r->counts.read, 1);
}

static void run_end(run *r)
{
  cs_posture_worker_free(r->worker);
  cs_posture_rules_free(r->rules);
}

static void expect_reason(const char *file, const char *signer,
                          const char *input, const char *at,
                          bool allow_sha1, cs_reason reason)
{
  cs_verdict verdict = reason == CS_REASON_NONE ? CS_VERDICT_PASS
                                                : CS_VERDICT_FAIL;
  run r;

  run_start(&r, file, signer, input, at, allow_sha1);
  if (r.result.verdict != verdict || r.result.reason != reason) {
    fail_msg("%s at %s%s: got %s/%s (%s), wanted %s", file, at,
             allow_sha1 ? " with SHA-1 allowed" : "",
             cs_verdict_name(r.result.verdict),
             cs_reason_code(r.result.reason), r.result.detail,
             reason == CS_REASON_NONE ? "pass" : cs_reason_code(reason));
  }
  assert_int_equal(r.result.cert_index, 0);
  assert_int_equal(r.counts.malformed,
                   reason == CS_REASON_MALFORMED_CERTIFICATE ? 1 : 0);
  run_end(&r);
}

/* A SHA-1 vector: weak unless SHA-1 is allowed, then `allowed`. */
static void expect_sha1(const char *file, const char *signer,
                        const char *at, cs_reason allowed)
{
  expect_reason(file, signer, "", at, false, CS_REASON_WEAK_SIGNATURE);
  expect_reason(file, signer, "", at, true, allowed);
}

static void test_ct_direct_signers(void **state)
{
  static const struct {
    const char *file;
    const char *signer;
  } rows[] = {
    { CT "ca-cert.pem", ID_CT_CA },
    { CT "intermediate-cert.pem", ID_CT_CA },
    { CT "test-cert.pem", ID_CT_CA },
    { CT "test-intermediate-cert.pem", ID_CT_INT },
    { CT "test-embedded-cert.pem", ID_CT_CA },
  };

  (void)state;
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    expect_sha1(rows[i].file, rows[i].signer, AT_MANIFEST,
                CS_REASON_EXPIRED);
    expect_sha1(rows[i].file, rows[i].signer, AT_2015, CS_REASON_NONE);
  }
}

/* Only the root configured: the leaf's issuer is the intermediate. */
static void test_ct_root_is_not_the_signer(void **state)
{
  (void)state;
  expect_reason(CT "test-intermediate-cert.pem", ID_CT_CA, "", AT_2015,
                true, CS_REASON_WRONG_ISSUER);
  expect_reason(CT "test-intermediate-cert.pem", ID_CT_CA, "",
                AT_MANIFEST, false, CS_REASON_WRONG_ISSUER);
}

static void test_unreadable_certificates(void **state)
{
  static const char *const files[] = {
    CT "test-corrupted.pem",
    PY "cert_bad_utf8_subject.pem",
    PY "asn1_indefinite_length_encoding.pem",
    PY "multiple_eku.pem",
    LIMBO "explicit_curve_leaf.pem",
    LIMBO "explicit_curve_ca.pem",
  };

  (void)state;
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    expect_reason(files[i], ID_CT_CA, "", AT_MANIFEST, true,
                  CS_REASON_MALFORMED_CERTIFICATE);
  }
}

/* A signer whose key has explicit curve parameters is refused when a
 * rule names it, before any device is read. */
static void test_explicit_curve_signer_is_a_config_error(void **state)
{
  const cs_verify_signer *signer = cs_verify_signers_find(g.signers,
                                                          ID_EXPLICIT);
  cs_posture_rules *rules = NULL;
  cs_error err;
  const char *path;

  (void)state;
  assert_non_null(signer);
  assert_false(cs_verify_signer_usable(signer, NULL));
  path = fx_write(g.pool, "rules.json",
                  "{\"id\": \"" RULE_ID "\", \"name\": \"limbo\", "
                  "\"type\": \"client_certificate\", \"input\": "
                  "{\"certificate_id\": \"" ID_EXPLICIT "\"}}");
  cs_error_clear(&err);
  assert_int_equal(cs_posture_rules_load(path, g.signers, &rules, &err),
                   CS_ERR_CONFIG);
  assert_null(rules);
  assert_non_null(strstr(err.message, "rule 1 \"limbo\" (" RULE_ID "): "
                                      "signer " ID_EXPLICIT));
  assert_non_null(strstr(err.message, "is not usable: "));
}

/* Six CNs: the facts keep them all; the issuer is not shipped. */
static void test_multiple_cn(void **state)
{
  const cs_cert_facts *facts;
  run r;

  (void)state;
  run_start(&r, PY "multiple_cn.pem", ID_CT_CA, "", AT_MANIFEST, true);
  assert_int_equal(r.result.reason, CS_REASON_WRONG_ISSUER);
  facts = cs_posture_worker_cert(r.worker, 0).facts;
  assert_non_null(facts);
  assert_int_equal(facts->cn_count, 6);
  assert_true(cs_str_eq_cstr(facts->cns[0], "www.rd.io"));
  assert_true(cs_str_eq_cstr(facts->cns[5], "www.rdio.com"));
  run_end(&r);
}

/* The NUL-joined CN and SANs must not match their first part. */
static void test_null_chars(void **state)
{
  const char *at = "2013-08-07T13:12:00Z";
  const char *file = PY "null_chars.pem";

  (void)state;
  expect_reason(file, ID_NULL, "", at, false, CS_REASON_WEAK_SIGNATURE);
  expect_reason(file, ID_NULL, "", at, true, CS_REASON_NONE);
  expect_reason(file, ID_NULL, "\"cn\": \"null.python.org\"", at, true,
                CS_REASON_CN_MISMATCH);
  expect_reason(file, ID_NULL,
                "\"subject_alternative_names\": "
                "[\"altnull.python.org\", \"null@python.org\", "
                "\"http://null.python.org\"]",
                at, true, CS_REASON_SAN_MISMATCH);
  expect_reason(file, ID_NULL,
                "\"subject_alternative_names\": [\"192.0.2.1\"]", at,
                true, CS_REASON_NONE);
  expect_reason(file, ID_NULL,
                "\"subject_alternative_names\": [\"2001:DB8::1\"]", at,
                true, CS_REASON_NONE);
  expect_reason(file, ID_NULL, "", AT_MANIFEST, true, CS_REASON_EXPIRED);
}

/* Upper-casing the non-ASCII letters makes a different name here. */
static void test_cn_utf8_folding(void **state)
{
  const char *at = "2009-03-10T00:00:00Z";
  const char *file = PY "cn_utf8.pem";
  const char *same = "\"cn\": \"\\u00f1eco \\u00f1\\u00fd\\u00e1\\u011b"
                     "\\u0161\\u017e\\u011b\\u0161\\u017e\\u0159\\u011b"
                     "\\u010d\\u00ed\\u011b+\\u0161\\u010d\\u00fd\\u00e1"
                     "\\u00ed\\u00e9\\u0159\\u00e1\\u00ed\\u00da\"";
  const char *ascii_upper = "\"cn\": \"\\u00f1ECO \\u00f1\\u00fd\\u00e1"
                            "\\u011b\\u0161\\u017e\\u011b\\u0161\\u017e"
                            "\\u0159\\u011b\\u010d\\u00ed\\u011b+\\u0161"
                            "\\u010d\\u00fd\\u00e1\\u00ed\\u00e9\\u0159"
                            "\\u00e1\\u00ed\\u00da\"";
  const char *upper = "\"cn\": \"\\u00d1ECO \\u00d1\\u00dd\\u00c1\\u011a"
                      "\\u0160\\u017d\\u011a\\u0160\\u017d\\u0158\\u011a"
                      "\\u010c\\u00cd\\u011a+\\u0160\\u010c\\u00dd\\u00c1"
                      "\\u00cd\\u00c9\\u0158\\u00c1\\u00cd\\u00da\"";

  (void)state;
  expect_reason(file, ID_UTF8, same, at, true, CS_REASON_NONE);
  expect_reason(file, ID_UTF8, ascii_upper, at, true, CS_REASON_NONE);
  expect_reason(file, ID_UTF8, upper, at, true, CS_REASON_CN_MISMATCH);
  expect_reason(file, ID_UTF8, same, AT_MANIFEST, true, CS_REASON_EXPIRED);
}

/* 9999-12-31T23:59:59Z is a date like any other. */
static void test_expiration_not_well_defined(void **state)
{
  const cs_cert_facts *facts;
  run r;

  (void)state;
  run_start(&r, PY "expiration_not_well_defined.pem", ID_CT_CA, "",
            AT_MANIFEST, true);
  assert_int_equal(r.result.reason, CS_REASON_WRONG_ISSUER);
  facts = cs_posture_worker_cert(r.worker, 0).facts;
  assert_non_null(facts);
  assert_int_equal(facts->not_after,
                   cs_time_from_civil(9999, 12, 31, 23, 59, 59));
  assert_int_equal(facts->sig_hash, CS_HASH_MD5);
  run_end(&r);
}

static void test_dsa_certificate_parses(void **state)
{
  const cs_cert_facts *facts;
  run r;

  (void)state;
  run_start(&r, PY "dsa_with_sha256.der", ID_CT_CA, "", AT_MANIFEST, true);
  assert_int_equal(r.result.reason, CS_REASON_WRONG_ISSUER);
  facts = cs_posture_worker_cert(r.worker, 0).facts;
  assert_non_null(facts);
  assert_int_equal(facts->sig_kind, CS_SIG_DSA);
  assert_int_equal(facts->sig_hash, CS_HASH_SHA256);
  run_end(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ct_direct_signers),
    cmocka_unit_test(test_ct_root_is_not_the_signer),
    cmocka_unit_test(test_unreadable_certificates),
    cmocka_unit_test(test_explicit_curve_signer_is_a_config_error),
    cmocka_unit_test(test_multiple_cn),
    cmocka_unit_test(test_null_chars),
    cmocka_unit_test(test_cn_utf8_folding),
    cmocka_unit_test(test_expiration_not_well_defined),
    cmocka_unit_test(test_dsa_certificate_parses),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
