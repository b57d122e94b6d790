/*
 * test_posture.c - the verdict of one device for a rule, step by step,
 * with certificates made by OpenSSL for each case.
 *
 * Every case pins the evaluation time and the certificates' validity,
 * so the verdicts do not depend on the day the tests run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "posture_fixtures.h"

#define ID_ISSUING "6513270e-269e-4d37-b2a7-4de452e6b438"
#define ID_ROOT "0c4d7a4e-2b8f-4a57-9f53-3d1a6f0e9b21"
#define ID_RSA "d23f0824-128b-4f33-8c5c-7fd0a6a3a450"
#define ID_ED "9531985d-5d9d-49f8-9818-e811892f902b"
#define ID_OTHER "5e0b8a93-3f43-4c1c-8f0e-7b2d9e4c6a10"
#define ID_PSS "2f8e4c1a-7b3d-4e59-a6c0-9d1e2f3a4b5c"

#define RULE_ID "36f675cc-81e7-4ef5-a8e2-5d940ed90475"
#define AT "2026-12-01T00:00:00Z"

/* The usual rule input: serial CN, clientAuth, key, hostname SAN. */
#define FULL_INPUT                                                       \
  "\"cn\": \"${serial_number}_corp\", "                                 \
  "\"extended_key_usage\": [\"clientAuth\"], "                          \
  "\"check_private_key\": true, "                                       \
  "\"subject_alternative_names\": [\"${hostname}.corp.example\"]"

static struct {
  fx_pool *pool;
  EVP_PKEY *root_key, *issuing_key, *rsa_key, *ed_key, *other_key;
  EVP_PKEY *pss_key;
  EVP_PKEY *leaf_key;
  X509 *root, *issuing, *rsa_ca, *ed_ca, *other_ca, *pss_ca;
  cs_verify_signers *signers;
} g;

static X509 *make_ca(const char *cn, EVP_PKEY *key, X509 *issuer,
                     EVP_PKEY *issuer_key)
{
  fx_cert_spec spec = { 0 };

  spec.cn = cn;
  spec.key = key;
  spec.issuer = issuer;
  spec.issuer_key = issuer_key;
  spec.not_before = "200101000000Z";
  spec.not_after = "350101000000Z";
  spec.ca = true;
  return fx_cert(g.pool, &spec);
}

static void add_signer(fx_text *json, const char *id, const char *name,
                       X509 *cert, const char *sep)
{
  fx_text_add(json, "%s{\"id\": \"%s\", \"name\": \"%s\", "
                    "\"certificates\": \"", sep, id, name);
  fx_text_add_pem_json(json, cert);
  fx_text_add(json, "\"}");
}

static int group_setup(void **state)
{
  fx_text *json;

  (void)state;
  g.pool = fx_pool_new();
  g.root_key = fx_key(g.pool, FX_KEY_EC);
  g.issuing_key = fx_key(g.pool, FX_KEY_EC);
  g.rsa_key = fx_key(g.pool, FX_KEY_RSA);
  g.ed_key = fx_key(g.pool, FX_KEY_ED25519);
  g.other_key = fx_key(g.pool, FX_KEY_EC);
  g.pss_key = fx_key(g.pool, FX_KEY_RSA_PSS);
  g.leaf_key = fx_key(g.pool, FX_KEY_EC);
  g.root = make_ca("Corp Root CA", g.root_key, NULL, NULL);
  g.issuing = make_ca("Corp Issuing CA", g.issuing_key, g.root, g.root_key);
  g.rsa_ca = make_ca("Corp RSA CA", g.rsa_key, NULL, NULL);
  g.ed_ca = make_ca("Corp Ed25519 CA", g.ed_key, NULL, NULL);
  g.other_ca = make_ca("Other CA", g.other_key, NULL, NULL);
  g.pss_ca = make_ca("Corp RSA-PSS CA", g.pss_key, NULL, NULL);

  json = fx_text_new(g.pool);
  fx_text_add(json, "{\"result\": [");
  add_signer(json, ID_ISSUING, "issuing", g.issuing, "");
  add_signer(json, ID_ROOT, "root", g.root, ", ");
  add_signer(json, ID_RSA, "rsa", g.rsa_ca, ", ");
  add_signer(json, ID_ED, "ed25519", g.ed_ca, ", ");
  add_signer(json, ID_OTHER, "other", g.other_ca, ", ");
  add_signer(json, ID_PSS, "rsa-pss", g.pss_ca, ", ");
  fx_text_add(json, "]}");

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

/* A leaf of the issuing CA that passes the usual rule. */
static fx_cert_spec leaf_spec(void)
{
  fx_cert_spec spec = { 0 };

  spec.cn = "ABC123_corp";
  spec.key = g.leaf_key;
  spec.issuer = g.issuing;
  spec.issuer_key = g.issuing_key;
  spec.eku = "clientAuth";
  spec.san = "DNS:host1.corp.example";
  return spec;
}

static cs_bytes leaf_der(const fx_cert_spec *spec)
{
  return fx_der(g.pool, fx_cert(g.pool, spec));
}

static cs_bytes good_leaf(void)
{
  fx_cert_spec spec = leaf_spec();

  return leaf_der(&spec);
}

/* One v2 rule on `os` with signer `signer` and extra input members. */
static const char *rule_json(const char *os, const char *signer,
                             const char *input)
{
  fx_text *text = fx_text_new(g.pool);

  fx_text_add(text, "{\"id\": \"%s\", \"name\": \"test rule\", "
                    "\"type\": \"client_certificate_v2\", \"input\": "
                    "{\"certificate_id\": \"%s\", "
                    "\"operating_system\": \"%s\"%s%s}}",
              RULE_ID, signer, os, input[0] != '\0' ? ", " : "", input);
  return fx_text_get(text);
}

static cs_posture_rules *load_rules(const char *json)
{
  cs_posture_rules *rules = NULL;
  cs_error err;

  cs_error_clear(&err);
  if (cs_posture_rules_load(fx_write(g.pool, "rules.json", json),
                            g.signers, &rules, &err) != CS_OK) {
    fail_msg("rules did not load: %s", err.message);
  }
  return rules;
}

typedef struct eval_out {
  cs_posture_result result;
  cs_posture_cert_counts counts;
  uint64_t sig_checks;
} eval_out;

static eval_out evaluate_at(const char *rules_json, const fx_device *d,
                            const char *at, bool allow_sha1)
{
  cs_posture_options options = { fx_time(at), allow_sha1 };
  cs_posture_rules *rules = load_rules(rules_json);
  cs_posture_worker *worker = cs_posture_worker_new(rules, &options);
  cs_posture_result results[8];
  eval_out out;

  assert_non_null(worker);
  assert_true(cs_posture_rules_count(rules) <= 8);
  assert_int_equal(cs_posture_evaluate(worker, &d->dev, results,
                                       &out.counts),
                   CS_OK);
  out.result = results[0];
  out.sig_checks = cs_posture_worker_sig_checks(worker);
  cs_posture_worker_free(worker);
  cs_posture_rules_free(rules);
  return out;
}

static eval_out evaluate(const char *rules_json, const fx_device *d)
{
  return evaluate_at(rules_json, d, AT, false);
}

/* A windows device, serial ABC123, host1, with one system-store cert. */
static void one_cert_device(fx_device *d, cs_bytes der)
{
  fx_device_init(d, "windows", "ABC123", "host1");
  fx_device_add(d, CS_STORE_SYSTEM, der, CS_TRI_TRUE);
}

static void expect(eval_out out, cs_verdict verdict, cs_reason reason,
                   int cert_index, const char *detail)
{
  if (out.result.verdict != verdict || out.result.reason != reason) {
    fail_msg("got %s/%s (%s), wanted %s/%s",
             cs_verdict_name(out.result.verdict),
             cs_reason_code(out.result.reason), out.result.detail,
             cs_verdict_name(verdict), cs_reason_code(reason));
  }
  assert_int_equal(out.result.cert_index, cert_index);
  assert_string_equal(out.result.detail, detail);
}

/* One cert in the system store of a windows device: the verdict names
 * it whether it passes or fails. */
static void check_one(cs_bytes der, const char *input, cs_verdict verdict,
                      cs_reason reason, const char *detail)
{
  fx_device d;

  one_cert_device(&d, der);
  expect(evaluate(rule_json("windows", ID_ISSUING, input), &d), verdict,
         reason, 0, detail);
}

static void check_fail(cs_bytes der, const char *input, cs_reason reason,
                       const char *detail)
{
  check_one(der, input, CS_VERDICT_FAIL, reason, detail);
}

static void check_pass(cs_bytes der, const char *input)
{
  check_one(der, input, CS_VERDICT_PASS, CS_REASON_NONE, "");
}

static void test_reason_tables(void **state)
{
  (void)state;
  assert_string_equal(cs_verdict_name(CS_VERDICT_PASS), "pass");
  assert_string_equal(cs_verdict_name(CS_VERDICT_NOT_APPLICABLE),
                      "not_applicable");
  assert_string_equal(cs_verdict_name((cs_verdict)9), "unknown");
  assert_string_equal(cs_reason_code(CS_REASON_NONE), "");
  assert_string_equal(cs_reason_code(CS_REASON_KEY_MISMATCH),
                      "key_mismatch");
  assert_string_equal(cs_reason_code(CS_REASON_COUNT), "");
  assert_int_equal(cs_reason_step(CS_REASON_NOT_COLLECTED), 0);
  assert_int_equal(cs_reason_step(CS_REASON_MALFORMED_CERTIFICATE), 1);
  assert_int_equal(cs_reason_step(CS_REASON_WEAK_SIGNATURE), 3);
  assert_int_equal(cs_reason_step(CS_REASON_SAN_MISMATCH), 9);
  assert_int_equal(cs_reason_step(CS_REASON_COUNT), 0);
}

static void test_full_rule_passes(void **state)
{
  fx_device d;
  eval_out out;

  (void)state;
  one_cert_device(&d, good_leaf());
  out = evaluate(rule_json("windows", ID_ISSUING, FULL_INPUT), &d);
  expect(out, CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
  assert_int_equal(out.counts.read, 1);
  assert_int_equal(out.counts.malformed, 0);
  assert_int_equal(out.sig_checks, 1);
}

static void test_malformed_certificate(void **state)
{
  static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05, 0x00 };
  cs_bytes der = { junk, sizeof(junk) };
  fx_device d;
  eval_out out;

  (void)state;
  one_cert_device(&d, der);
  out = evaluate(rule_json("windows", ID_ISSUING, ""), &d);
  assert_int_equal(out.result.verdict, CS_VERDICT_FAIL);
  assert_int_equal(out.result.reason, CS_REASON_MALFORMED_CERTIFICATE);
  assert_int_equal(out.result.cert_index, 0);
  assert_true(strlen(out.result.detail) > 0);
  assert_int_equal(out.counts.read, 1);
  assert_int_equal(out.counts.malformed, 1);
  assert_int_equal(out.sig_checks, 0);
}

static void test_trailing_byte_is_malformed(void **state)
{
  cs_bytes der = good_leaf();
  uint8_t *longer = test_malloc(der.len + 1);
  cs_bytes padded = { longer, der.len + 1 };
  fx_device d;

  (void)state;
  memcpy(longer, der.ptr, der.len);
  longer[der.len] = 0;
  one_cert_device(&d, padded);
  assert_int_equal(evaluate(rule_json("windows", ID_ISSUING, ""), &d)
                       .result.reason,
                   CS_REASON_MALFORMED_CERTIFICATE);
  test_free(longer);
}

static void test_wrong_issuer(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.issuer = g.other_ca;
  spec.issuer_key = g.other_key;
  check_fail(leaf_der(&spec), "", CS_REASON_WRONG_ISSUER,
             "issuer is not the subject of signer " ID_ISSUING);
}

/* The check does not build chains: the root above the issuing CA is
 * not the certificate's signer. */
static void test_root_configured_instead_of_issuing_ca(void **state)
{
  fx_device d;

  (void)state;
  one_cert_device(&d, good_leaf());
  expect(evaluate(rule_json("windows", ID_ROOT, ""), &d), CS_VERDICT_FAIL,
         CS_REASON_WRONG_ISSUER, 0,
         "issuer is not the subject of signer " ID_ROOT);
}

static void test_bad_signature(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.issuer_key = g.other_key;
  check_fail(leaf_der(&spec), "", CS_REASON_BAD_SIGNATURE,
             "signature does not verify with signer " ID_ISSUING);
}

/* ecdsa-with-SHA256 turned into an arc no one assigned, inside and
 * outside the signed part, so the certificate stays consistent. */
static void test_unsupported_algorithm(void **state)
{
  static const uint8_t sha256_ecdsa[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
                                          0xce, 0x3d, 0x04, 0x03, 0x02 };
  static const uint8_t unknown[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x04, 0x03, 0x7f };
  cs_bytes der = fx_copy(g.pool, good_leaf());
  fx_device d;
  eval_out out;

  (void)state;
  assert_int_equal(fx_patch(der, sha256_ecdsa, unknown, sizeof(unknown)),
                   2);
  one_cert_device(&d, der);
  out = evaluate(rule_json("windows", ID_ISSUING, ""), &d);
  assert_int_equal(out.result.verdict, CS_VERDICT_FAIL);
  assert_int_equal(out.result.reason, CS_REASON_UNSUPPORTED_ALGORITHM);
  assert_int_equal(out.result.cert_index, 0);
  assert_non_null(strstr(out.result.detail, "is not supported"));
}

static cs_bytes rsa_leaf(const EVP_MD *md, bool pss)
{
  fx_cert_spec spec = leaf_spec();

  spec.issuer = g.rsa_ca;
  spec.issuer_key = g.rsa_key;
  spec.md = md;
  spec.pss = pss;
  return leaf_der(&spec);
}

static void test_sha1_is_weak_unless_allowed(void **state)
{
  fx_device d;

  (void)state;
  one_cert_device(&d, rsa_leaf(EVP_sha1(), false));
  expect(evaluate(rule_json("windows", ID_RSA, ""), &d), CS_VERDICT_FAIL,
         CS_REASON_WEAK_SIGNATURE, 0,
         "weak signature hash (sha1WithRSAEncryption); SHA-1 is refused "
         "unless allowed");
  expect(evaluate_at(rule_json("windows", ID_RSA, ""), &d, AT, true),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
}

/* OpenSSL 3.0 still signs with MD5 at its default settings. */
static void test_md5_stays_weak_with_allow_sha1(void **state)
{
  fx_device d;

  (void)state;
  one_cert_device(&d, rsa_leaf(EVP_md5(), false));
  expect(evaluate_at(rule_json("windows", ID_RSA, ""), &d, AT, true),
         CS_VERDICT_FAIL, CS_REASON_WEAK_SIGNATURE, 0,
         "weak signature hash (md5WithRSAEncryption)");
}

/* A bad signature is reported before a weak hash: step 3 checks the
 * signature first. The last byte of the DER is the signature's. */
static void test_bad_sha1_signature_is_bad_not_weak(void **state)
{
  cs_bytes der = fx_copy(g.pool, rsa_leaf(EVP_sha1(), false));
  fx_device d;

  (void)state;
  ((uint8_t *)der.ptr)[der.len - 1] ^= 0x01;
  one_cert_device(&d, der);
  expect(evaluate_at(rule_json("windows", ID_RSA, ""), &d, AT, false),
         CS_VERDICT_FAIL, CS_REASON_BAD_SIGNATURE, 0,
         "signature does not verify with signer " ID_RSA);
}

static void test_rsa_pss_signature_passes(void **state)
{
  cs_posture_options options = { fx_time(AT), false };
  cs_posture_rules *rules;
  cs_posture_worker *worker;
  cs_posture_result result;
  cs_posture_cert_counts counts;
  fx_device d;

  (void)state;
  one_cert_device(&d, rsa_leaf(EVP_sha256(), true));
  rules = load_rules(rule_json("windows", ID_RSA, FULL_INPUT));
  worker = cs_posture_worker_new(rules, &options);
  assert_non_null(worker);
  assert_int_equal(cs_posture_evaluate(worker, &d.dev, &result, &counts),
                   CS_OK);
  assert_int_equal(result.verdict, CS_VERDICT_PASS);
  assert_int_equal(cs_posture_worker_cert(worker, 0).facts->sig_kind,
                   CS_SIG_RSA_PSS);
  assert_int_equal(cs_posture_worker_cert(worker, 0).facts->sig_hash,
                   CS_HASH_SHA256);
  cs_posture_worker_free(worker);
  cs_posture_rules_free(rules);
}

/* A signer whose key is an RSA-PSS key (not rsaEncryption). */
static void test_rsa_pss_key_signer_passes(void **state)
{
  fx_cert_spec spec = leaf_spec();
  fx_device d;

  (void)state;
  spec.issuer = g.pss_ca;
  spec.issuer_key = g.pss_key;
  one_cert_device(&d, leaf_der(&spec));
  expect(evaluate(rule_json("windows", ID_PSS, FULL_INPUT), &d),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
}

static void test_ed25519_signer_passes(void **state)
{
  fx_cert_spec spec = leaf_spec();
  fx_device d;

  (void)state;
  spec.issuer = g.ed_ca;
  spec.issuer_key = g.ed_key;
  one_cert_device(&d, leaf_der(&spec));
  expect(evaluate(rule_json("windows", ID_ED, FULL_INPUT), &d),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
}

static void test_not_yet_valid(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.not_before = "270101000000Z";
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_NOT_YET_VALID,
             "not valid before 2027-01-01T00:00:00Z");
}

static void test_expired(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.not_after = "250301000000Z";
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_EXPIRED,
             "expired 2025-03-01T00:00:00Z");
}

/* Both ends of the validity period are inside it. */
static void test_validity_bounds_are_inclusive(void **state)
{
  fx_cert_spec spec = leaf_spec();
  const char *rule = rule_json("windows", ID_ISSUING, "");
  fx_device d;

  (void)state;
  spec.not_before = "261201000000Z";
  spec.not_after = "261231235959Z";
  one_cert_device(&d, leaf_der(&spec));
  expect(evaluate_at(rule, &d, "2026-12-01T00:00:00Z", false),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
  expect(evaluate_at(rule, &d, "2026-12-31T23:59:59Z", false),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
  expect(evaluate_at(rule, &d, "2026-11-30T23:59:59Z", false),
         CS_VERDICT_FAIL, CS_REASON_NOT_YET_VALID, 0,
         "not valid before 2026-12-01T00:00:00Z");
  expect(evaluate_at(rule, &d, "2027-01-01T00:00:00Z", false),
         CS_VERDICT_FAIL, CS_REASON_EXPIRED, 0,
         "expired 2026-12-31T23:59:59Z");
}

/* Reads the facts of a single certificate through a worker. */
static void facts_times(cs_bytes der, int64_t *not_before,
                        int64_t *not_after)
{
  cs_posture_options options = { fx_time(AT), false };
  cs_posture_rules *rules = load_rules(rule_json("windows", ID_ISSUING,
                                                 ""));
  cs_posture_worker *worker = cs_posture_worker_new(rules, &options);
  cs_posture_result result;
  cs_posture_cert_counts counts;
  cs_posture_cert_view view;
  fx_device d;

  one_cert_device(&d, der);
  assert_int_equal(cs_posture_evaluate(worker, &d.dev, &result, &counts),
                   CS_OK);
  assert_int_equal(result.verdict, CS_VERDICT_PASS);
  view = cs_posture_worker_cert(worker, 0);
  assert_true(view.parsed);
  *not_before = view.facts->not_before;
  *not_after = view.facts->not_after;
  cs_posture_worker_free(worker);
  cs_posture_rules_free(rules);
}

/* UTCTime 50 is 1950 and 49 is 2049; GeneralizedTime 9999 is a date,
 * not an overflow. */
static void test_time_encodings(void **state)
{
  fx_cert_spec spec = leaf_spec();
  int64_t nb = 0;
  int64_t na = 0;

  (void)state;
  spec.not_before = "500101000000Z";
  spec.not_after = "491231235959Z";
  facts_times(leaf_der(&spec), &nb, &na);
  assert_int_equal(nb, cs_time_from_civil(1950, 1, 1, 0, 0, 0));
  assert_int_equal(na, cs_time_from_civil(2049, 12, 31, 23, 59, 59));

  spec.not_before = "20260101000000Z";
  spec.not_after = "99991231235959Z";
  facts_times(leaf_der(&spec), &nb, &na);
  assert_int_equal(nb, cs_time_from_civil(2026, 1, 1, 0, 0, 0));
  assert_int_equal(na, cs_time_from_civil(9999, 12, 31, 23, 59, 59));
}

static void test_far_future_evaluation_time(void **state)
{
  fx_cert_spec spec = leaf_spec();
  fx_device d;

  (void)state;
  spec.not_after = "99991231235959Z";
  one_cert_device(&d, leaf_der(&spec));
  expect(evaluate_at(rule_json("windows", ID_ISSUING, ""), &d,
                     "9999-12-31T23:59:59Z", false),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
}

static void test_cn_mismatch(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.cn = "ABC123_corp.example";
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_CN_MISMATCH,
             "no subject CN equals \"ABC123_corp\"");
}

static void test_cn_absent(void **state)
{
  fx_cert_spec spec = leaf_spec();
  X509_NAME *name = X509_NAME_new();

  (void)state;
  assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                              (const unsigned char *)"Corp",
                                              -1, -1, 0),
                   1);
  spec.subject = name;
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_CN_MISMATCH,
             "certificate has no subject CN (wanted \"ABC123_corp\")");
  X509_NAME_free(name);
}

/* A NUL inside the CN: the name must not match the part before it. */
static void test_cn_with_embedded_nul(void **state)
{
  static const char cn[] = "ABC123_corp\0evil.example";
  fx_cert_spec spec = leaf_spec();
  X509_NAME *name = X509_NAME_new();

  (void)state;
  fx_name_add_cn(name, V_ASN1_UTF8STRING, cn, sizeof(cn) - 1);
  spec.subject = name;
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_CN_MISMATCH,
             "no subject CN equals \"ABC123_corp\"");
  X509_NAME_free(name);
}

static void test_second_cn_matches(void **state)
{
  fx_cert_spec spec = leaf_spec();
  X509_NAME *name = X509_NAME_new();

  (void)state;
  fx_name_add_cn(name, V_ASN1_UTF8STRING, "www.example", 11);
  fx_name_add_cn(name, V_ASN1_UTF8STRING, "abc123_CORP", 11);
  spec.subject = name;
  check_pass(leaf_der(&spec), FULL_INPUT);
  X509_NAME_free(name);
}

static void test_bmpstring_cn(void **state)
{
  static const char ucs2[] = "\0A\0B\0C\0" "1\0" "2\0" "3\0_\0c\0o"
                             "\0r\0p";
  fx_cert_spec spec = leaf_spec();
  X509_NAME *name = X509_NAME_new();

  (void)state;
  fx_name_add_cn(name, V_ASN1_BMPSTRING, ucs2, sizeof(ucs2) - 1);
  spec.subject = name;
  check_pass(leaf_der(&spec), FULL_INPUT);
  X509_NAME_free(name);
}

/* Case folding is ASCII only: "Ü" and "ü" are different letters here. */
static void test_utf8_cn_and_ascii_folding(void **state)
{
  fx_cert_spec spec = leaf_spec();
  cs_bytes der;

  (void)state;
  spec.cn = "Z\xc3\xbcrich-ABC123";
  der = leaf_der(&spec);
  check_pass(der, "\"cn\": \"z\xc3\xbcRICH-${serial_number}\"");
  check_fail(der, "\"cn\": \"Z\xc3\x9cRICH-${serial_number}\"",
             CS_REASON_CN_MISMATCH,
             "no subject CN equals \"Z\xc3\x9cRICH-ABC123\"");
}

static void test_cn_template_with_empty_serial(void **state)
{
  fx_device d;

  (void)state;
  fx_device_init(&d, "windows", "", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING, FULL_INPUT), &d),
         CS_VERDICT_FAIL, CS_REASON_CN_MISMATCH, 0,
         "cn template needs serial_number, which the device did not "
         "report");
  fx_device_init(&d, "windows", NULL, "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING, FULL_INPUT), &d),
         CS_VERDICT_FAIL, CS_REASON_CN_MISMATCH, 0,
         "cn template needs serial_number, which the device did not "
         "report");
}

/* Templates take the device's fields verbatim: no case or FQDN games. */
static void test_hostname_template_is_verbatim(void **state)
{
  fx_cert_spec spec = leaf_spec();
  fx_device d;

  (void)state;
  spec.cn = "host1.corp.example";
  fx_device_init(&d, "windows", "ABC123", "HOST1.corp.example");
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&spec), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING,
                            "\"cn\": \"${hostname}\""),
                  &d),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&spec), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING,
                            "\"cn\": \"${hostname}\""),
                  &d),
         CS_VERDICT_FAIL, CS_REASON_CN_MISMATCH, 0,
         "no subject CN equals \"host1\"");
}

static void test_eku_missing(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.eku = "emailProtection";
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_EKU_MISSING,
             "EKU lacks clientAuth");
  check_fail(leaf_der(&spec),
             "\"extended_key_usage\": [\"emailProtection\", "
             "\"clientAuth\"]",
             CS_REASON_EKU_MISSING, "EKU lacks clientAuth");
  spec.eku = "serverAuth";
  check_fail(leaf_der(&spec),
             "\"extended_key_usage\": [\"emailProtection\", "
             "\"clientAuth\"]",
             CS_REASON_EKU_MISSING,
             "EKU lacks clientAuth, emailProtection");
}

static void test_any_eku_does_not_stand_in(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.eku = "anyExtendedKeyUsage";
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_EKU_MISSING,
             "EKU lacks clientAuth (anyExtendedKeyUsage does not count)");
}

static void test_no_eku_extension(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.eku = NULL;
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_EKU_MISSING,
             "no EKU extension; needs clientAuth");
  check_pass(leaf_der(&spec), "\"cn\": \"${serial_number}_corp\"");
}

static void test_both_ekus_pass(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.eku = "clientAuth,emailProtection";
  check_pass(leaf_der(&spec),
             "\"extended_key_usage\": [\"emailProtection\", "
             "\"clientAuth\"]");
}

static void check_key_case(cs_tristate has_key, const uint8_t *spki,
                           const char *input, cs_verdict verdict,
                           cs_reason reason, const char *detail)
{
  fx_device d;
  cs_cert_entry *entry;

  fx_device_init(&d, "windows", "ABC123", "host1");
  entry = fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), has_key);
  if (spki != NULL) {
    entry->has_key_spki_sha256 = true;
    memcpy(entry->key_spki_sha256, spki, 32);
  }
  expect(evaluate(rule_json("windows", ID_ISSUING, input), &d), verdict,
         reason, 0, detail);
}

static void test_private_key_steps(void **state)
{
  fx_cert_spec spec = leaf_spec();
  uint8_t spki[32];
  uint8_t other[32];

  (void)state;
  fx_spki_sha256(fx_cert(g.pool, &spec), spki);
  memcpy(other, spki, 32);
  other[31] ^= 1;
  check_key_case(CS_TRI_FALSE, NULL, FULL_INPUT, CS_VERDICT_FAIL,
                 CS_REASON_NO_PRIVATE_KEY,
                 "the device has no private key for it");
  check_key_case(CS_TRI_UNKNOWN, NULL, FULL_INPUT, CS_VERDICT_FAIL,
                 CS_REASON_PRIVATE_KEY_UNKNOWN,
                 "the device did not report whether it has the private "
                 "key");
  check_key_case(CS_TRI_TRUE, other, FULL_INPUT, CS_VERDICT_FAIL,
                 CS_REASON_KEY_MISMATCH,
                 "key_spki_sha256 differs from the certificate's key");
  check_key_case(CS_TRI_TRUE, spki, FULL_INPUT, CS_VERDICT_PASS,
                 CS_REASON_NONE, "");
  /* Without check_private_key neither the flag nor the hash counts. */
  check_key_case(CS_TRI_FALSE, other, "\"cn\": \"ABC123_corp\"",
                 CS_VERDICT_PASS, CS_REASON_NONE, "");
}

static void test_san_other_name_is_not_compared(void **state)
{
  fx_cert_spec spec = leaf_spec();

  (void)state;
  spec.san = "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:host1.corp.example";
  check_fail(leaf_der(&spec), FULL_INPUT, CS_REASON_SAN_MISMATCH,
             "no DNS, email, URI or IP SAN equals "
             "\"host1.corp.example\"");
  /* Whatever text the facts give such an entry, it is not compared. */
  check_fail(leaf_der(&spec),
             "\"subject_alternative_names\": [\"otherName\"]",
             CS_REASON_SAN_MISMATCH,
             "no DNS, email, URI or IP SAN equals \"otherName\"");
}

static void test_san_types_compared(void **state)
{
  fx_cert_spec spec = leaf_spec();
  const char *input = "\"subject_alternative_names\": "
                      "[\"${serial_number}@devices.example\"]";

  (void)state;
  spec.san = "email:abc123@DEVICES.example";
  check_pass(leaf_der(&spec), input);
  spec.san = "URI:https://abc123@devices.example";
  check_fail(leaf_der(&spec), input, CS_REASON_SAN_MISMATCH,
             "no DNS, email, URI or IP SAN equals "
             "\"ABC123@devices.example\"");
  spec.san = "URI:urn:device:ABC123";
  check_pass(leaf_der(&spec), "\"subject_alternative_names\": "
                              "[\"urn:device:${serial_number}\"]");
  spec.san = "IP:192.0.2.7";
  check_pass(leaf_der(&spec), "\"subject_alternative_names\": "
                              "[\"192.0.2.7\"]");
}

/* A template without a value matches nothing; the others still count. */
static void test_san_templates_with_missing_field(void **state)
{
  fx_cert_spec spec = leaf_spec();
  const char *input = "\"subject_alternative_names\": "
                      "[\"${hostname}.corp.example\", "
                      "\"${serial_number}@devices.example\"]";
  fx_device d;

  (void)state;
  spec.san = "email:ABC123@devices.example";
  fx_device_init(&d, "windows", "ABC123", NULL);
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&spec), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING, input), &d),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");

  spec.san = "email:XYZ999@devices.example";
  fx_device_init(&d, "windows", "ABC123", NULL);
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&spec), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING, input), &d),
         CS_VERDICT_FAIL, CS_REASON_SAN_MISMATCH, 0,
         "no DNS, email, URI or IP SAN equals \"ABC123@devices.example\"; "
         "san template needs hostname, which the device did not report");
}

/* Details are cut on UTF-8 character boundaries, never inside one. */
static void test_details_cut_on_character_boundaries(void **state)
{
  fx_text *input = fx_text_new(g.pool);
  fx_text *want = fx_text_new(g.pool);
  fx_text *path = fx_text_new(g.pool);
  fx_device d;
  eval_out out;

  (void)state;
  fx_text_add(input, "\"cn\": \"");
  for (int i = 0; i < 70; i++) {
    fx_text_add(input, "\xc3\xa9");
  }
  fx_text_add(input, "\"");
  fx_text_add(want, "no subject CN equals \"");
  for (int i = 0; i < 32; i++) {
    fx_text_add(want, "\xc3\xa9");
  }
  fx_text_add(want, "\"");
  check_fail(good_leaf(), fx_text_get(input), CS_REASON_CN_MISMATCH,
             fx_text_get(want));

  /* 19 bytes of text, then room for "/" and 85 two-byte letters. */
  fx_text_add(path, "/");
  for (int i = 0; i < 95; i++) {
    fx_text_add(path, "\xc3\xbc");
  }
  input = fx_text_new(g.pool);
  fx_text_add(input, "\"locations\": {\"paths\": [\"%s\"]}",
              fx_text_get(path));
  fx_device_init(&d, "linux", "ABC123", "host1");
  out = evaluate(rule_json("linux", ID_ISSUING, fx_text_get(input)), &d);
  assert_int_equal(out.result.reason, CS_REASON_NO_CERTIFICATE);
  assert_int_equal(strlen(out.result.detail), 19 + 1 + 170);
  assert_memory_equal(out.result.detail, "no certificate in: /", 20);
  assert_memory_equal(out.result.detail + 20, fx_text_get(path) + 1, 170);
}

/* A certificate file holding its own key: store path, no key_path. */
static void test_path_rule_with_key_in_same_file(void **state)
{
  const char *rule = rule_json("linux", ID_ISSUING,
                               "\"locations\": {\"paths\": "
                               "[\"/etc/corp/client.pem\"]}, "
                               "\"check_private_key\": true");
  fx_device d;
  cs_cert_entry *entry;

  (void)state;
  fx_device_init(&d, "linux", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  entry = fx_device_add(&d, CS_STORE_PATH, good_leaf(), CS_TRI_TRUE);
  entry->path = (cs_str){ "/etc/corp/client.pem", 20 };
  expect(evaluate(rule, &d), CS_VERDICT_PASS, CS_REASON_NONE, 1, "");

  /* Paths compare as exact strings. */
  entry->path = (cs_str){ "/etc/corp/Client.pem", 20 };
  expect(evaluate(rule, &d), CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE, -1,
         "no certificate in: /etc/corp/client.pem");
}

static void test_stores_select_candidates(void **state)
{
  fx_device d;

  (void)state;
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_USER, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING,
                            "\"locations\": {\"trust_stores\": "
                            "[\"system\"]}"),
                  &d),
         CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE, -1,
         "no certificate in: system store");
  expect(evaluate(rule_json("windows", ID_ISSUING, ""), &d),
         CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
}

static void test_first_passing_candidate_is_named(void **state)
{
  fx_cert_spec expired = leaf_spec();
  fx_device d;

  (void)state;
  expired.not_after = "250301000000Z";
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&expired), CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_USER, good_leaf(), CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING, FULL_INPUT), &d),
         CS_VERDICT_PASS, CS_REASON_NONE, 1, "");
}

/* The candidate that got furthest gives the reason; ties keep the
 * first in the device's order. */
static void test_ranking_furthest_then_first(void **state)
{
  fx_cert_spec wrong = leaf_spec();
  fx_cert_spec expired = leaf_spec();
  static const uint8_t junk[] = { 0x01, 0x02 };
  cs_bytes bad = { junk, sizeof(junk) };
  fx_device d;

  (void)state;
  wrong.issuer = g.other_ca;
  wrong.issuer_key = g.other_key;
  expired.not_after = "250301000000Z";
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, bad, CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&wrong), CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_USER, leaf_der(&expired), CS_TRI_TRUE);
  expired.not_after = "260101000000Z";
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&expired), CS_TRI_TRUE);
  expect(evaluate(rule_json("windows", ID_ISSUING, FULL_INPUT), &d),
         CS_VERDICT_FAIL, CS_REASON_EXPIRED, 2,
         "expired 2025-03-01T00:00:00Z");

  /* no_private_key and private_key_unknown share step 8. */
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&wrong), CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_UNKNOWN);
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_FALSE);
  expect(evaluate(rule_json("windows", ID_ISSUING, FULL_INPUT), &d),
         CS_VERDICT_FAIL, CS_REASON_PRIVATE_KEY_UNKNOWN, 1,
         "the device did not report whether it has the private key");
}

static void test_not_collected_and_no_certificate(void **state)
{
  const char *system_rule = rule_json("windows", ID_ISSUING,
                                      "\"locations\": {\"trust_stores\": "
                                      "[\"system\"]}");
  fx_device d;

  (void)state;
  fx_device_init(&d, "windows", "ABC123", "host1");
  expect(evaluate(system_rule, &d), CS_VERDICT_FAIL,
         CS_REASON_NO_CERTIFICATE, -1, "no certificate in: system store");

  fx_device_collected(&d, CS_STORE_USER);
  expect(evaluate(system_rule, &d), CS_VERDICT_UNKNOWN,
         CS_REASON_NOT_COLLECTED, -1,
         "the device did not collect: system store");

  /* One selected location read is enough to judge. */
  expect(evaluate(rule_json("windows", ID_ISSUING, ""), &d),
         CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE, -1,
         "no certificate in: system store, user store");

  fx_device_collected(&d, CS_STORE_SYSTEM);
  expect(evaluate(system_rule, &d), CS_VERDICT_FAIL,
         CS_REASON_NO_CERTIFICATE, -1, "no certificate in: system store");
}

/* Not collected never hides a pass, and it outranks a failure. */
static void test_not_collected_with_candidates(void **state)
{
  fx_cert_spec expired = leaf_spec();
  const char *system_rule = rule_json("windows", ID_ISSUING,
                                      "\"locations\": {\"trust_stores\": "
                                      "[\"system\"]}");
  fx_device d;

  (void)state;
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_collected(&d, CS_STORE_USER);
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(system_rule, &d), CS_VERDICT_PASS, CS_REASON_NONE, 0,
         "");

  expired.not_after = "250301000000Z";
  d.entries[0].der = leaf_der(&expired);
  expect(evaluate(system_rule, &d), CS_VERDICT_UNKNOWN,
         CS_REASON_NOT_COLLECTED, -1,
         "the device did not collect: system store");
}

static void test_path_rule_counts_path_store(void **state)
{
  const char *rule = rule_json("linux", ID_ISSUING,
                               "\"locations\": {\"paths\": "
                               "[\"/etc/corp/client.pem\"]}");
  fx_device d;

  (void)state;
  fx_device_init(&d, "linux", "ABC123", "host1");
  fx_device_collected(&d, CS_STORE_SYSTEM | CS_STORE_USER);
  expect(evaluate(rule, &d), CS_VERDICT_UNKNOWN, CS_REASON_NOT_COLLECTED,
         -1, "the device did not collect: /etc/corp/client.pem");
  fx_device_collected(&d, CS_STORE_PATH);
  expect(evaluate(rule, &d), CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE, -1,
         "no certificate in: /etc/corp/client.pem");
}

static const char *v1_rule(const char *match)
{
  fx_text *text = fx_text_new(g.pool);

  fx_text_add(text, "{\"id\": \"%s\", \"name\": \"legacy\", "
                    "\"type\": \"client_certificate\", %s"
                    "\"input\": {\"certificate_id\": \"%s\", "
                    "\"cn\": \"${serial_number}_corp\"}}",
              RULE_ID, match, ID_ISSUING);
  return fx_text_get(text);
}

static void expect_not_applicable(const char *rule, const char *os)
{
  fx_device d;

  fx_device_init(&d, os, "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(rule, &d), CS_VERDICT_NOT_APPLICABLE, CS_REASON_NONE, -1,
         "");
}

static void expect_pass_on(const char *rule, const char *os)
{
  fx_device d;

  fx_device_init(&d, os, "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, good_leaf(), CS_TRI_TRUE);
  expect(evaluate(rule, &d), CS_VERDICT_PASS, CS_REASON_NONE, 0, "");
}

static void test_operating_system_and_match(void **state)
{
  const char *mac_only = v1_rule("\"match\": [{\"platform\": \"mac\"}, "
                                 "{\"platform\": \"ios\"}], ");

  (void)state;
  expect_pass_on(v1_rule(""), "windows");
  expect_pass_on(v1_rule(""), "mac");
  expect_pass_on(v1_rule(""), "linux");
  expect_not_applicable(v1_rule(""), "ios");
  expect_not_applicable(v1_rule(""), "android");

  expect_pass_on(mac_only, "mac");
  expect_not_applicable(mac_only, "windows");
  expect_not_applicable(mac_only, "ios");

  expect_pass_on(rule_json("windows", ID_ISSUING, ""), "windows");
  expect_not_applicable(rule_json("windows", ID_ISSUING, ""), "linux");
  expect_not_applicable(rule_json("windows", ID_ISSUING, ""), "ios");
}

/* Five rules over one signer: one signature check per certificate. */
static void test_signature_checked_once_per_signer(void **state)
{
  cs_posture_options options = { fx_time(AT), false };
  fx_text *json = fx_text_new(g.pool);
  cs_posture_rules *rules;
  cs_posture_worker *worker;
  cs_posture_result results[6];
  cs_posture_cert_counts counts;
  fx_cert_spec other_cn = leaf_spec();
  fx_device d;

  (void)state;
  fx_text_add(json, "[");
  for (int i = 0; i < 5; i++) {
    fx_text_add(json, "%s{\"id\": \"00000000-0000-4000-8000-00000000000%d\","
                      " \"name\": \"r%d\", \"type\": "
                      "\"client_certificate_v2\", \"input\": "
                      "{\"certificate_id\": \"%s\", \"operating_system\": "
                      "\"windows\", \"cn\": \"${serial_number}_corp\"}}",
                i == 0 ? "" : ", ", i, i, ID_ISSUING);
  }
  fx_text_add(json, ", {\"id\": \"00000000-0000-4000-8000-000000000009\","
                    " \"name\": \"other\", \"type\": "
                    "\"client_certificate\", \"input\": "
                    "{\"certificate_id\": \"%s\"}}]",
              ID_OTHER);
  rules = load_rules(fx_text_get(json));
  worker = cs_posture_worker_new(rules, &options);
  assert_non_null(worker);

  /* The first cert fails after its signature check: every rule then
   * looks at both certs. */
  other_cn.cn = "XYZ999_corp";
  fx_device_init(&d, "windows", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, leaf_der(&other_cn), CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_USER, good_leaf(), CS_TRI_TRUE);
  assert_int_equal(cs_posture_evaluate(worker, &d.dev, results, &counts),
                   CS_OK);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(results[i].verdict, CS_VERDICT_PASS);
    assert_int_equal(results[i].cert_index, 1);
  }
  assert_int_equal(results[5].reason, CS_REASON_WRONG_ISSUER);
  /* 2 certs x issuing; the last rule checks both against other. */
  assert_int_equal(cs_posture_worker_sig_checks(worker), 4);
  /* Only the two checks against the issuing CA reach a public key. */
  assert_int_equal(counts.signatures, 2);

  /* The cache belongs to one device: the next device checks again. */
  assert_int_equal(cs_posture_evaluate(worker, &d.dev, results, &counts),
                   CS_OK);
  assert_int_equal(cs_posture_worker_sig_checks(worker), 8);
  assert_int_equal(counts.signatures, 2);
  cs_posture_worker_free(worker);
  cs_posture_rules_free(rules);
}

/* Every entry is parsed and counted, candidate or not. */
static void test_counts_and_cert_views(void **state)
{
  static const uint8_t junk[] = { 0x30, 0x00 };
  cs_bytes bad = { junk, sizeof(junk) };
  cs_posture_options options = { fx_time(AT), false };
  cs_posture_rules *rules = load_rules(rule_json("windows", ID_ISSUING,
                                                 "\"locations\": "
                                                 "{\"trust_stores\": "
                                                 "[\"user\"]}"));
  cs_posture_worker *worker = cs_posture_worker_new(rules, &options);
  cs_bytes der = good_leaf();
  cs_posture_result result;
  cs_posture_cert_counts counts;
  cs_posture_cert_view view;
  fx_device d;

  (void)state;
  fx_device_init(&d, "linux", "ABC123", "host1");
  fx_device_add(&d, CS_STORE_SYSTEM, bad, CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_SYSTEM, der, CS_TRI_TRUE);
  fx_device_add(&d, CS_STORE_PATH, bad, CS_TRI_TRUE);
  assert_int_equal(cs_posture_evaluate(worker, &d.dev, &result, &counts),
                   CS_OK);
  assert_int_equal(result.verdict, CS_VERDICT_NOT_APPLICABLE);
  assert_int_equal(counts.read, 3);
  assert_int_equal(counts.malformed, 2);
  assert_int_equal(cs_posture_worker_sig_checks(worker), 0);

  view = cs_posture_worker_cert(worker, 0);
  assert_false(view.parsed);
  assert_null(view.facts);
  view = cs_posture_worker_cert(worker, 1);
  assert_true(view.parsed);
  assert_int_equal(view.facts->der.len, der.len);
  assert_int_equal(view.facts->cn_count, 1);
  assert_memory_equal(view.facts->cns[0].ptr, "ABC123_corp", 11);
  view = cs_posture_worker_cert(worker, 3);
  assert_false(view.parsed);

  /* A device without certificates resets the counts. */
  fx_device_init(&d, "windows", "ABC123", "host1");
  assert_int_equal(cs_posture_evaluate(worker, &d.dev, &result, &counts),
                   CS_OK);
  assert_int_equal(counts.read, 0);
  assert_int_equal(counts.malformed, 0);
  assert_false(cs_posture_worker_cert(worker, 1).parsed);
  cs_posture_worker_free(worker);
  cs_posture_rules_free(rules);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_reason_tables),
    cmocka_unit_test(test_full_rule_passes),
    cmocka_unit_test(test_malformed_certificate),
    cmocka_unit_test(test_trailing_byte_is_malformed),
    cmocka_unit_test(test_wrong_issuer),
    cmocka_unit_test(test_root_configured_instead_of_issuing_ca),
    cmocka_unit_test(test_bad_signature),
    cmocka_unit_test(test_unsupported_algorithm),
    cmocka_unit_test(test_sha1_is_weak_unless_allowed),
    cmocka_unit_test(test_md5_stays_weak_with_allow_sha1),
    cmocka_unit_test(test_bad_sha1_signature_is_bad_not_weak),
    cmocka_unit_test(test_rsa_pss_signature_passes),
    cmocka_unit_test(test_rsa_pss_key_signer_passes),
    cmocka_unit_test(test_ed25519_signer_passes),
    cmocka_unit_test(test_not_yet_valid),
    cmocka_unit_test(test_expired),
    cmocka_unit_test(test_validity_bounds_are_inclusive),
    cmocka_unit_test(test_time_encodings),
    cmocka_unit_test(test_far_future_evaluation_time),
    cmocka_unit_test(test_cn_mismatch),
    cmocka_unit_test(test_cn_absent),
    cmocka_unit_test(test_cn_with_embedded_nul),
    cmocka_unit_test(test_second_cn_matches),
    cmocka_unit_test(test_bmpstring_cn),
    cmocka_unit_test(test_utf8_cn_and_ascii_folding),
    cmocka_unit_test(test_cn_template_with_empty_serial),
    cmocka_unit_test(test_hostname_template_is_verbatim),
    cmocka_unit_test(test_eku_missing),
    cmocka_unit_test(test_any_eku_does_not_stand_in),
    cmocka_unit_test(test_no_eku_extension),
    cmocka_unit_test(test_both_ekus_pass),
    cmocka_unit_test(test_private_key_steps),
    cmocka_unit_test(test_san_other_name_is_not_compared),
    cmocka_unit_test(test_san_types_compared),
    cmocka_unit_test(test_san_templates_with_missing_field),
    cmocka_unit_test(test_details_cut_on_character_boundaries),
    cmocka_unit_test(test_path_rule_with_key_in_same_file),
    cmocka_unit_test(test_stores_select_candidates),
    cmocka_unit_test(test_first_passing_candidate_is_named),
    cmocka_unit_test(test_ranking_furthest_then_first),
    cmocka_unit_test(test_not_collected_and_no_certificate),
    cmocka_unit_test(test_not_collected_with_candidates),
    cmocka_unit_test(test_path_rule_counts_path_store),
    cmocka_unit_test(test_operating_system_and_match),
    cmocka_unit_test(test_signature_checked_once_per_signer),
    cmocka_unit_test(test_counts_and_cert_views),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
