/*
 * test_report.c - the report module: aggregate arithmetic on a small
 * fleet whose every count is worked out by hand, the files it writes
 * (quoting, escaping, keys, timestamps), merging and partial results,
 * atomic writes, and the fleet findings.
 *
 * The certificates the rows name are real: made and signed by OpenSSL
 * in the group set-up, their SHA-256 taken from the DER.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cs_report.h"

#define DAY 86400

/* 2026-12-01T00:00:00Z, the example fleet's evaluation time. */
#define T0 1796083200LL

enum { C_SOON, C_MONTH, C_QUARTER, C_YEAR, C_EXPIRED, C_COUNT };

typedef struct test_cert {
  uint8_t *der;
  size_t der_len;
  uint8_t sha256[32];
  int64_t not_after;
} test_cert;

static test_cert certs[C_COUNT];

/* A self-signed Ed25519 certificate valid until `not_after`. */
static void make_cert(test_cert *out, const char *cn, int64_t not_after)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  unsigned char *p;
  unsigned int md_len = 0;

  assert_non_null(key);
  assert_non_null(x);
  assert_int_equal(X509_set_version(x, 2), 1);
  assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
  assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                              (const unsigned char *)cn,
                                              -1, -1, 0),
                   1);
  assert_int_equal(X509_set_subject_name(x, name), 1);
  assert_int_equal(X509_set_issuer_name(x, name), 1);
  assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x),
                                (time_t)(T0 - 400 * DAY)));
  assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after));
  assert_int_equal(X509_set_pubkey(x, key), 1);
  assert_true(X509_sign(x, key, NULL) > 0);

  int len = i2d_X509(x, NULL);

  assert_true(len > 0);
  out->der = malloc((size_t)len);
  p = out->der;
  assert_int_equal(i2d_X509(x, &p), len);
  out->der_len = (size_t)len;
  assert_int_equal(EVP_Digest(out->der, out->der_len, out->sha256, &md_len,
                              EVP_sha256(), NULL),
                   1);
  out->not_after = not_after;
  X509_NAME_free(name);
  X509_free(x);
  EVP_PKEY_free(key);
}

static int group_setup(void **state)
{
  (void)state;
  make_cert(&certs[C_SOON], "soon", T0 + 5 * DAY);
  make_cert(&certs[C_MONTH], "month", T0 + 20 * DAY);
  make_cert(&certs[C_QUARTER], "quarter", T0 + 60 * DAY);
  make_cert(&certs[C_YEAR], "year", T0 + 365 * DAY);
  make_cert(&certs[C_EXPIRED], "expired", T0 - DAY);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  for (int i = 0; i < C_COUNT; i++) {
    free(certs[i].der);
  }
  return 0;
}

/* Helpers ----------------------------------------------------------- */

static cs_str S(const char *text)
{
  cs_str s = { text, text != NULL ? strlen(text) : 0 };

  return s;
}

static const cs_posture_rule_info test_rules[3] = {
  { "r-win", "Windows corp", "client_certificate_v2", "windows",
    "b1a7c1a4-0000-4000-8000-000000000001",
    "{\"certificate_id\": \"b1a7c1a4-0000-4000-8000-000000000001\", "
    "\"operating_system\": \"windows\", \"cn\": \"${serial_number}\"}" },
  { "r-linux", "Linux corp", "client_certificate_v2", "linux",
    "b1a7c1a4-0000-4000-8000-000000000001",
    "{\"certificate_id\":\"b1a7c1a4-0000-4000-8000-000000000001\","
    "\"operating_system\":\"linux\"}" },
  { "r-any", "Any OS", "client_certificate", NULL,
    "b1a7c1a4-0000-4000-8000-000000000002",
    "{\"certificate_id\":\"b1a7c1a4-0000-4000-8000-000000000002\","
    "\"cn\":\"x\"}" },
};

static cs_report *new_report(void)
{
  cs_report_config config = { "certscan 0.1.0", T0, test_rules, 3, 1, false };
  cs_report *report = NULL;
  cs_error err;

  assert_int_equal(cs_report_new(&config, &report, &err), CS_OK);
  return report;
}

static cs_report_row row_na(void)
{
  cs_report_row row;

  memset(&row, 0, sizeof(row));
  row.result.verdict = CS_VERDICT_NOT_APPLICABLE;
  row.result.cert_index = -1;
  return row;
}

/* A row naming the device's cert entry `index` (parsed when `cert`). */
static cs_report_row row_cert(cs_verdict verdict, cs_reason reason,
                              const cs_device *device, int index,
                              const test_cert *cert)
{
  cs_report_row row = row_na();

  row.result.verdict = verdict;
  row.result.reason = reason;
  row.result.cert_index = index;
  row.cert_store = device->certs[index].store;
  row.cert_path = device->certs[index].path;
  if (cert != NULL) {
    row.has_cert = true;
    memcpy(row.cert_sha256, cert->sha256, 32);
    row.cert_not_after = cert->not_after;
  }
  return row;
}

static cs_report_row row_none(cs_verdict verdict, cs_reason reason)
{
  cs_report_row row = row_na();

  row.result.verdict = verdict;
  row.result.reason = reason;
  return row;
}

static cs_cert_entry entry(cs_store store, const char *path, int cert)
{
  cs_cert_entry e;

  memset(&e, 0, sizeof(e));
  e.store = store;
  e.path = S(path);
  if (cert >= 0) {
    e.der.ptr = certs[cert].der;
    e.der.len = certs[cert].der_len;
  } else {
    static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01 };

    e.der.ptr = junk;
    e.der.len = sizeof(junk);
  }
  e.has_key = CS_TRI_TRUE;
  return e;
}

static cs_device device(const char *id, const char *serial, cs_os os,
                        const char *os_name, cs_cert_entry *entries,
                        size_t n)
{
  cs_device d;

  memset(&d, 0, sizeof(d));
  d.device_id = S(id);
  d.hostname = S("host-1");
  d.serial_number = S(serial);
  d.os = os;
  d.os_name = S(os_name);
  d.os_version = S("10.0.19045");
  d.client_version = S("2024.6.1");
  d.user = S("ana@example.com");
  d.certs = entries;
  d.cert_count = n;
  return d;
}

static void add(cs_report *report, size_t input, const cs_device *d,
                const cs_report_row rows[3], size_t certs_read,
                size_t certs_malformed)
{
  cs_posture_cert_counts counts = { certs_read, certs_malformed, 1 };
  cs_error err;

  assert_int_equal(cs_report_add_device(report, input, d, rows, &counts,
                                        &err),
                   CS_OK);
}

/*
 * The hand-worked fleet: eight devices over two inputs and one
 * malformed record. The counts each test expects are derived in the
 * comments beside every device.
 */
static void feed_fleet(cs_report *report)
{
  size_t a, b;
  cs_error err;
  cs_report_row rows[3];

  assert_int_equal(cs_report_add_input(report, "a.zst", &a, &err), CS_OK);

  /* D1 windows S1: win pass (soon, system), any pass (soon). */
  cs_cert_entry e1[] = { entry(CS_STORE_SYSTEM, NULL, C_SOON) };
  cs_device d1 = device("d1", "S1", CS_OS_WINDOWS, "windows", e1, 1);

  rows[0] = row_cert(CS_VERDICT_PASS, CS_REASON_NONE, &d1, 0,
                     &certs[C_SOON]);
  rows[1] = row_na();
  rows[2] = rows[0];
  add(report, a, &d1, rows, 1, 0);

  /* D2 windows S1 again: win pass (month, user), any cn_mismatch. */
  cs_cert_entry e2[] = { entry(CS_STORE_USER, NULL, C_MONTH) };
  cs_device d2 = device("d2", "S1", CS_OS_WINDOWS, "windows", e2, 1);

  rows[0] = row_cert(CS_VERDICT_PASS, CS_REASON_NONE, &d2, 0,
                     &certs[C_MONTH]);
  rows[1] = row_na();
  rows[2] = row_cert(CS_VERDICT_FAIL, CS_REASON_CN_MISMATCH, &d2, 0,
                     &certs[C_MONTH]);
  add(report, a, &d2, rows, 1, 0);

  /* D3 linux placeholder serial: linux and any pass (quarter, path). */
  cs_cert_entry e3[] = { entry(CS_STORE_PATH, "/etc/pki/a.pem", C_QUARTER) };
  cs_device d3 = device("d3", " to be filled by o.e.m. ", CS_OS_LINUX,
                        "linux", e3, 1);

  rows[0] = row_na();
  rows[1] = row_cert(CS_VERDICT_PASS, CS_REASON_NONE, &d3, 0,
                     &certs[C_QUARTER]);
  rows[2] = rows[1];
  add(report, a, &d3, rows, 1, 0);

  /* D4 linux, no serial, no cert: no_certificate twice. */
  cs_device d4 = device("d4", NULL, CS_OS_LINUX, "linux", NULL, 0);

  rows[0] = row_na();
  rows[1] = row_none(CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE);
  rows[2] = rows[1];
  add(report, a, &d4, rows, 0, 0);

  /* D5 mac S5: only the any-OS rule applies, and it is not_collected. */
  cs_cert_entry e5[] = { entry(CS_STORE_SYSTEM, NULL, C_YEAR) };
  cs_device d5 = device("d5", "S5", CS_OS_MAC, "mac", e5, 1);

  rows[0] = row_na();
  rows[1] = row_na();
  rows[2] = row_none(CS_VERDICT_UNKNOWN, CS_REASON_NOT_COLLECTED);
  add(report, a, &d5, rows, 1, 0);

  assert_int_equal(cs_report_finish_input(report, a, 1000, NULL, &err),
                   CS_OK);
  assert_int_equal(cs_report_add_input(report, "b.zst", &b, &err), CS_OK);

  /* D6 windows S6: win expired (user), any pass (soon, system). */
  cs_cert_entry e6[] = { entry(CS_STORE_SYSTEM, NULL, C_SOON),
                         entry(CS_STORE_USER, NULL, C_EXPIRED) };
  cs_device d6 = device("d6", "S6", CS_OS_WINDOWS, "windows", e6, 2);

  rows[0] = row_cert(CS_VERDICT_FAIL, CS_REASON_EXPIRED, &d6, 1,
                     &certs[C_EXPIRED]);
  rows[1] = row_na();
  rows[2] = row_cert(CS_VERDICT_PASS, CS_REASON_NONE, &d6, 0,
                     &certs[C_SOON]);
  add(report, b, &d6, rows, 2, 0);

  /* D7 an iPhone with a zero serial: nothing applies. */
  cs_device d7 = device("d7", "00000000", CS_OS_OTHER, "ios", NULL, 0);

  rows[0] = row_na();
  rows[1] = row_na();
  rows[2] = row_na();
  add(report, b, &d7, rows, 0, 0);

  /* D8 windows S8, a cert that does not parse: malformed twice. */
  cs_cert_entry e8[] = { entry(CS_STORE_SYSTEM, NULL, -1) };
  cs_device d8 = device("d8", "S8", CS_OS_WINDOWS, "windows", e8, 1);

  rows[0] = row_cert(CS_VERDICT_FAIL, CS_REASON_MALFORMED_CERTIFICATE, &d8,
                     0, NULL);
  rows[1] = row_na();
  rows[2] = rows[0];
  add(report, b, &d8, rows, 1, 1);

  cs_report_malformed bad = { 9, 1234, S("<script>"),
                              "b.zst: record 9 at offset 1234: no os" };

  assert_int_equal(cs_report_add_malformed(report, b, &bad, &err), CS_OK);
  assert_int_equal(cs_report_finish_input(report, b, 3000,
                                          "b.zst: truncated zstd frame",
                                          &err),
                   CS_OK);
}

static char *make_dir(void)
{
  char tmpl[] = "/tmp/cs-report-test-123456";

  /* mkdtemp replaces the last six characters, which must be capital X. */
  memset(tmpl + strlen(tmpl) - 6, 'X', 6);
  assert_non_null(mkdtemp(tmpl));
  return strdup(tmpl);
}

static size_t count_files(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    n += e->d_name[0] != '.';
  }
  closedir(d);
  return n;
}

static void remove_dir(char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];

  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') {
      snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
      unlink(path);
    }
  }
  closedir(d);
  rmdir(dir);
  free(dir);
}

static char *read_file(const char *dir, const char *name, size_t *out_len)
{
  char path[512];
  FILE *fp;
  long len;
  char *text;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  fp = fopen(path, "rb");
  assert_non_null(fp);
  assert_int_equal(fseek(fp, 0, SEEK_END), 0);
  len = ftell(fp);
  rewind(fp);
  text = malloc((size_t)len + 1);
  assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
  text[len] = '\0';
  fclose(fp);
  if (out_len != NULL) {
    *out_len = (size_t)len;
  }
  return text;
}

static bool file_exists(const char *dir, const char *name)
{
  char path[512];

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static json_t *load_summary(const cs_report *report, char **out_dir)
{
  cs_error err;
  json_error_t jerr;
  char path[512];

  *out_dir = make_dir();
  assert_int_equal(cs_report_write_summary(report, *out_dir, &err), CS_OK);
  snprintf(path, sizeof(path), "%s/summary.json", *out_dir);

  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

  assert_non_null(root);
  return root;
}

static int64_t jint(const json_t *obj, const char *path_a, const char *key)
{
  const json_t *at = path_a != NULL ? json_object_get(obj, path_a) : obj;
  json_t *value = json_object_get(at, key);

  assert_true(json_is_integer(value));
  return json_integer_value(value);
}

static const char *jstr(const json_t *obj, const char *key)
{
  json_t *value = json_object_get(obj, key);

  assert_true(json_is_string(value));
  return json_string_value(value);
}

/* Aggregates -------------------------------------------------------- */

static void expect_verdicts(const cs_report_rule_counts *c, uint64_t pass,
                            uint64_t fail, uint64_t unknown, uint64_t na)
{
  assert_int_equal(c->verdicts[CS_VERDICT_PASS], pass);
  assert_int_equal(c->verdicts[CS_VERDICT_FAIL], fail);
  assert_int_equal(c->verdicts[CS_VERDICT_UNKNOWN], unknown);
  assert_int_equal(c->verdicts[CS_VERDICT_NOT_APPLICABLE], na);
  assert_int_equal(c->applicable, pass + fail + unknown);
}

static void test_aggregate_counts(void **state)
{
  cs_report *report = new_report();
  cs_report_rule_counts c;
  cs_report_totals t;

  (void)state;
  feed_fleet(report);
  assert_int_equal(cs_report_rule_count(report), 3);

  assert_true(cs_report_get_rule_counts(report, 0, &c));
  expect_verdicts(&c, 2, 2, 0, 4);
  assert_int_equal(c.reasons[CS_REASON_EXPIRED], 1);
  assert_int_equal(c.reasons[CS_REASON_MALFORMED_CERTIFICATE], 1);
  assert_int_equal(c.reasons[CS_REASON_NONE], 0);
  assert_int_equal(c.expiring[0], 1);
  assert_int_equal(c.expiring[1], 2);
  assert_int_equal(c.expiring[2], 2);

  assert_true(cs_report_get_rule_counts(report, 1, &c));
  expect_verdicts(&c, 1, 1, 0, 6);
  assert_int_equal(c.reasons[CS_REASON_NO_CERTIFICATE], 1);
  assert_int_equal(c.expiring[0], 0);
  assert_int_equal(c.expiring[1], 0);
  assert_int_equal(c.expiring[2], 1);

  assert_true(cs_report_get_rule_counts(report, 2, &c));
  expect_verdicts(&c, 3, 3, 1, 1);
  assert_int_equal(c.reasons[CS_REASON_NO_CERTIFICATE], 1);
  assert_int_equal(c.reasons[CS_REASON_NOT_COLLECTED], 1);
  assert_int_equal(c.reasons[CS_REASON_MALFORMED_CERTIFICATE], 1);
  assert_int_equal(c.reasons[CS_REASON_CN_MISMATCH], 1);
  assert_int_equal(c.expiring[0], 2);
  assert_int_equal(c.expiring[1], 2);
  assert_int_equal(c.expiring[2], 3);
  assert_false(cs_report_get_rule_counts(report, 3, &c));

  cs_report_get_totals(report, &t);
  assert_int_equal(t.devices_read, 9);
  assert_int_equal(t.devices_evaluated, 8);
  assert_int_equal(t.devices_malformed, 1);
  assert_int_equal(t.certs_read, 7);
  assert_int_equal(t.certs_malformed, 1);
  assert_int_equal(t.certs_signatures, 8);
  assert_int_equal(t.input_bytes, 4000);
  assert_int_equal(t.inputs, 2);
  assert_int_equal(t.inputs_failed, 1);
  cs_report_free(report);
}

static void test_fleet_findings(void **state)
{
  cs_report *report = new_report();
  cs_report_fleet_counts f;

  (void)state;
  feed_fleet(report);
  cs_report_get_fleet_counts(report, &f);
  assert_int_equal(f.shared_serials, 1);        /* S1 */
  assert_int_equal(f.shared_serial_devices, 2); /* d1, d2 */
  assert_int_equal(f.shared_certs, 1);          /* soon: d1, d6 */
  assert_int_equal(f.shared_cert_devices, 2);
  assert_int_equal(f.placeholder_devices, 2); /* d3, d7 */
  assert_int_equal(f.missing_serial_devices, 1);
  cs_report_free(report);
}

/* 3000 serials, twelve of them shared: the map grows, the top is fixed. */
static void test_fleet_top_order(void **state)
{
  static const int repeats[12] = { 5, 5, 5, 7, 7, 3, 3, 3, 3, 3, 2, 2 };
  static const char *const top[10] = {
    "S0003", "S0004", "S0000", "S0001", "S0002",
    "S0005", "S0006", "S0007", "S0008", "S0009",
  };
  cs_report *report = new_report();
  cs_report_row rows[3] = { row_na(), row_na(), row_na() };
  cs_report_fleet_counts f;
  char serial[16];
  char *dir;
  size_t in;
  cs_error err;

  (void)state;
  assert_int_equal(cs_report_add_input(report, "a", &in, &err), CS_OK);
  for (int i = 0; i < 3000; i++) {
    snprintf(serial, sizeof(serial), "S%04d", i);

    cs_device d = device("d", serial, CS_OS_OTHER, "ios", NULL, 0);

    for (int k = 0; k < (i < 12 ? repeats[i] : 1); k++) {
      add(report, in, &d, rows, 0, 0);
    }
  }
  cs_report_get_fleet_counts(report, &f);
  assert_int_equal(f.shared_serials, 12);
  assert_int_equal(f.shared_serial_devices, 48);
  assert_int_equal(f.placeholder_devices, 0);

  json_t *root = load_summary(report, &dir);
  json_t *list = json_object_get(
      json_object_get(json_object_get(root, "fleet"), "shared_serials"),
      "top");

  assert_int_equal(json_array_size(list), 10);
  for (size_t i = 0; i < 10; i++) {
    assert_string_equal(jstr(json_array_get(list, i), "serial"), top[i]);
  }
  assert_int_equal(jint(json_array_get(list, 0), NULL, "devices"), 7);
  assert_int_equal(jint(json_array_get(list, 9), NULL, "devices"), 3);
  json_decref(root);
  remove_dir(dir);
  cs_report_free(report);
}

static void test_splits_in_summary(void **state)
{
  cs_report *report = new_report();
  char *dir;
  json_t *root;

  (void)state;
  feed_fleet(report);
  root = load_summary(report, &dir);

  json_t *rules = json_object_get(root, "rules");
  json_t *any = json_array_get(rules, 2);
  json_t *loc = json_object_get(any, "locations");
  json_t *os = json_object_get(any, "os");

  assert_int_equal(jint(loc, "system", "pass"), 2);
  assert_int_equal(jint(loc, "system", "fail"), 1);
  assert_int_equal(jint(loc, "user", "fail"), 1);
  assert_int_equal(jint(loc, "path", "pass"), 1);
  assert_int_equal(jint(loc, "none", "fail"), 1);
  assert_int_equal(jint(loc, "none", "unknown"), 1);
  assert_int_equal(jint(loc, "none", "not_applicable"), 1);
  assert_int_equal(jint(os, "windows", "pass"), 2);
  assert_int_equal(jint(os, "windows", "fail"), 2);
  assert_int_equal(jint(os, "linux", "pass"), 1);
  assert_int_equal(jint(os, "linux", "fail"), 1);
  assert_int_equal(jint(os, "mac", "unknown"), 1);
  assert_int_equal(jint(os, "other", "not_applicable"), 1);

  json_t *win = json_array_get(rules, 0);

  loc = json_object_get(win, "locations");
  assert_int_equal(jint(loc, "system", "pass"), 1);
  assert_int_equal(jint(loc, "system", "fail"), 1); /* the malformed one */
  assert_int_equal(jint(loc, "user", "pass"), 1);
  assert_int_equal(jint(loc, "user", "fail"), 1);
  assert_int_equal(jint(loc, "none", "not_applicable"), 4);
  json_decref(root);
  remove_dir(dir);
  cs_report_free(report);
}

static void test_bad_rows_are_refused(void **state)
{
  cs_report *report = new_report();
  cs_report_row rows[3] = { row_na(), row_na(), row_na() };
  cs_device d = device("x", "S", CS_OS_WINDOWS, "windows", NULL, 0);
  cs_report_totals t;
  cs_error err;
  size_t in;

  (void)state;
  assert_int_equal(cs_report_add_device(report, 0, &d, rows, NULL, &err),
                   CS_ERR_USAGE);
  assert_string_equal(err.message, "input 0 out of range (0 inputs)");
  assert_int_equal(cs_report_add_input(report, "a", &in, &err), CS_OK);

  rows[1].result.verdict = (cs_verdict)7;
  assert_int_equal(cs_report_add_device(report, in, &d, rows, NULL, &err),
                   CS_ERR_USAGE);
  assert_string_equal(err.message,
                      "rule r-linux: verdict, reason or store out of range");

  rows[1] = row_none(CS_VERDICT_FAIL, CS_REASON_COUNT);
  assert_int_equal(cs_report_add_device(report, in, &d, rows, NULL, &err),
                   CS_ERR_USAGE);

  rows[1] = row_none(CS_VERDICT_PASS, CS_REASON_NONE);
  rows[1].result.cert_index = 0;
  rows[1].cert_store = (cs_store)8;
  assert_int_equal(cs_report_add_device(report, in, &d, rows, NULL, &err),
                   CS_ERR_USAGE);
  assert_string_equal(err.message,
                      "rule r-linux: verdict, reason or store out of range");

  d.os = (cs_os)9;
  rows[1] = row_na();
  assert_int_equal(cs_report_add_device(report, in, &d, rows, NULL, &err),
                   CS_ERR_USAGE);
  assert_string_equal(err.message, "device os 9 out of range");

  cs_report_get_totals(report, &t);
  assert_int_equal(t.devices_evaluated, 0);
  assert_int_equal(cs_report_finish_input(report, 4, 0, NULL, &err),
                   CS_ERR_USAGE);
  assert_string_equal(err.message, "input 4 out of range (1 inputs)");
  cs_report_free(report);
}

static void test_new_refuses_bad_rules(void **state)
{
  cs_posture_rule_info bad[2] = { test_rules[0], test_rules[1] };
  cs_report_config config = { "v", T0, bad, 2, 0, false };
  cs_report *report = NULL;
  cs_error err;

  (void)state;
  bad[1].input_json = "{\"cn\": ";
  assert_int_equal(cs_report_new(&config, &report, &err), CS_ERR_CONFIG);
  assert_null(report);
  assert_string_equal(err.message,
                      "rule r-linux: input is not JSON: unexpected token "
                      "near end of file");

  bad[1] = test_rules[1];
  bad[0].id = "";
  assert_int_equal(cs_report_new(&config, &report, &err), CS_ERR_CONFIG);
  assert_string_equal(err.message, "a rule has no id");
}

static void test_min_compliance(void **state)
{
  cs_report *report = new_report();
  cs_device win = device("w", "S", CS_OS_WINDOWS, "windows", NULL, 0);
  cs_report_row rows[3];
  double pct = -1;
  size_t rule = 99;
  size_t in;
  cs_error err;

  (void)state;
  assert_false(cs_report_min_compliance(report, &pct, &rule));
  assert_int_equal(cs_report_add_input(report, "a", &in, &err), CS_OK);

  /* Windows rule: 29 of 100 pass; any-OS: 30 of 100; Linux: none. */
  for (int i = 0; i < 100; i++) {
    rows[0] = row_none(i < 29 ? CS_VERDICT_PASS : CS_VERDICT_FAIL,
                       i < 29 ? CS_REASON_NONE : CS_REASON_EXPIRED);
    rows[1] = row_na();
    rows[2] = row_none(i < 30 ? CS_VERDICT_PASS : CS_VERDICT_UNKNOWN,
                       i < 30 ? CS_REASON_NONE : CS_REASON_NOT_COLLECTED);
    add(report, in, &win, rows, 0, 0);
  }
  assert_true(cs_report_min_compliance(report, &pct, &rule));
  assert_true(pct == 29.0);
  assert_int_equal(rule, 0);
  assert_true(cs_report_min_compliance(report, NULL, NULL));
  cs_report_free(report);
}

/* devices.csv ------------------------------------------------------- */

static void test_csv_quoting(void **state)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  cs_report_csv *csv = NULL;
  cs_error err;
  size_t len;

  (void)state;
  cs_cert_entry e[] = { entry(CS_STORE_PATH, "/certs/a,b \"q\".pem",
                              C_SOON) };
  cs_device d = device("id,1", "S\"1", CS_OS_WINDOWS, "windows", e, 1);
  const char host[] = "h\0st\r\nx\x1b[31m\xff";
  cs_report_row rows[3];

  d.hostname.ptr = host;
  d.hostname.len = sizeof(host) - 1;
  rows[0] = row_cert(CS_VERDICT_FAIL, CS_REASON_CN_MISMATCH, &d, 0,
                     &certs[C_SOON]);
  strcpy(rows[0].result.detail, "CN \"a\" is not \"b\"\n");
  rows[1] = row_na();
  rows[2] = row_none(CS_VERDICT_UNKNOWN, CS_REASON_NOT_COLLECTED);

  assert_int_equal(cs_report_csv_open(report, dir, &csv, &err), CS_OK);
  assert_int_equal(cs_report_csv_add(csv, &d, rows, &err), CS_OK);
  assert_false(file_exists(dir, "devices.csv"));
  assert_int_equal(cs_report_csv_close(csv, &err), CS_OK);

  char *text = read_file(dir, "devices.csv", &len);
  char sha[65];
  char want[2048];

  cs_hex_encode(certs[C_SOON].sha256, 32, sha);
  snprintf(want, sizeof(want),
           "device_id,hostname,serial_number,os,rule_id,rule_name,verdict,"
           "reason,detail,cert_sha256,not_after,store,path\r\n"
           "\"id,1\",\"h\\x00st\r\nx\\x1B[31m\\xFF\",\"S\"\"1\",windows,"
           "r-win,Windows corp,fail,cn_mismatch,"
           "\"CN \"\"a\"\" is not \"\"b\"\"\n\",%s,2026-12-06T00:00:00Z,"
           "path,\"/certs/a,b \"\"q\"\".pem\"\r\n"
           "\"id,1\",\"h\\x00st\r\nx\\x1B[31m\\xFF\",\"S\"\"1\",windows,"
           "r-any,Any OS,unknown,not_collected,,,,,\r\n",
           sha);
  assert_string_equal(text, want);
  assert_int_equal(len, strlen(want));
  free(text);
  assert_int_equal(count_files(dir), 1);
  remove_dir(dir);
  cs_report_free(report);
}

static void test_csv_writer_checks_rows(void **state)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  cs_report_csv *csv = NULL;
  cs_device d = device("x", "S", CS_OS_WINDOWS, "windows", NULL, 0);
  cs_report_row rows[3] = { row_na(), row_na(), row_na() };
  cs_error err;

  (void)state;
  assert_int_equal(cs_report_csv_open(report, dir, &csv, &err), CS_OK);
  rows[2].result.reason = (cs_reason)200;
  assert_int_equal(cs_report_csv_add(csv, &d, rows, &err), CS_ERR_USAGE);
  assert_string_equal(err.message,
                      "rule r-any: verdict, reason or store out of range");

  /* The file would miss that device: it is not written at all. */
  rows[2] = row_na();
  assert_int_equal(cs_report_csv_add(csv, &d, rows, &err), CS_OK);
  assert_int_equal(cs_report_csv_close(csv, &err), CS_ERR_WRITE);

  char want[512];

  snprintf(want, sizeof(want),
           "%s/devices.csv not written: a device could not be added to it",
           dir);
  assert_string_equal(err.message, want);
  assert_int_equal(count_files(dir), 0);

  /* Nothing refused: the header alone is a complete file. */
  assert_int_equal(cs_report_csv_open(report, dir, &csv, &err), CS_OK);
  assert_int_equal(cs_report_csv_close(csv, &err), CS_OK);

  char *text = read_file(dir, "devices.csv", NULL);

  assert_string_equal(text, "device_id,hostname,serial_number,os,rule_id,"
                            "rule_name,verdict,reason,detail,cert_sha256,"
                            "not_after,store,path\r\n");
  free(text);
  remove_dir(dir);
  cs_report_free(report);
}

/* Atomic writes: an aborted or failed writer leaves no file at all. */
static void test_atomic_abort(void **state)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  cs_report_csv *csv = NULL;
  cs_report_ndjson *nd = NULL;
  cs_device d = device("x", "S", CS_OS_WINDOWS, "windows", NULL, 0);
  cs_report_row rows[3] = { row_none(CS_VERDICT_FAIL,
                                     CS_REASON_NO_CERTIFICATE),
                            row_na(), row_na() };
  cs_error err;

  (void)state;
  assert_int_equal(cs_report_csv_open(report, dir, &csv, &err), CS_OK);
  assert_int_equal(cs_report_ndjson_open(report, dir, CS_REPORT_TIME_UNIX,
                                         &nd, &err),
                   CS_OK);
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(cs_report_csv_add(csv, &d, rows, &err), CS_OK);
    assert_int_equal(cs_report_ndjson_add(nd, &d, rows, &err), CS_OK);
  }
  assert_int_equal(count_files(dir), 2); /* the two temporary files */
  cs_report_csv_abort(csv);
  cs_report_ndjson_abort(nd);
  cs_report_csv_abort(NULL);
  assert_int_equal(count_files(dir), 0);

  assert_int_equal(cs_report_csv_open(report, "/nonexistent/dir", &csv,
                                      &err),
                   CS_ERR_WRITE);
  assert_null(csv);
  assert_non_null(strstr(err.message, "cannot create a file beside "
                                      "/nonexistent/dir/devices.csv: No "
                                      "such file or directory"));
  remove_dir(dir);
  cs_report_free(report);
}

static void test_atomic_failed_write(void **state)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  cs_report_csv *csv = NULL;
  cs_device d = device("x", "S", CS_OS_WINDOWS, "windows", NULL, 0);
  cs_report_row rows[3] = { row_none(CS_VERDICT_FAIL,
                                     CS_REASON_NO_CERTIFICATE),
                            row_na(), row_na() };
  struct rlimit saved, small;
  cs_error err;
  cs_status status = CS_OK;

  (void)state;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
  small = saved;
  small.rlim_cur = 4096;
  signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(cs_report_csv_open(report, dir, &csv, &err), CS_OK);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);

  /* The disk "fills" mid-way: an add or the close must fail. */
  for (int i = 0; i < 20000 && status == CS_OK; i++) {
    status = cs_report_csv_add(csv, &d, rows, &err);
  }
  if (status == CS_OK) {
    status = cs_report_csv_close(csv, &err);
    assert_int_equal(status, CS_ERR_WRITE);
    assert_non_null(strstr(err.message, "File too large"));
  } else {
    assert_int_equal(status, CS_ERR_WRITE);
    assert_non_null(strstr(err.message, "File too large"));
    assert_int_equal(cs_report_csv_close(csv, &err), CS_ERR_WRITE);
  }
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
  assert_false(file_exists(dir, "devices.csv"));
  assert_int_equal(count_files(dir), 0);
  remove_dir(dir);
  cs_report_free(report);
}

/* posture.ndjson ---------------------------------------------------- */

static const char *const ndjson_keys[] = {
  "ClientVersion", "DeviceID", "DeviceName", "DeviceSerialNumber",
  "DeviceType", "OSVersion", "Email", "PolicyID", "PostureCheckName",
  "PostureCheckType", "PostureEvaluatedResult", "PostureExpectedJSON",
  "PostureReceivedJSON", "Timestamp",
};

static json_t **write_ndjson(cs_report_time_format format, size_t *out_n)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  cs_report_ndjson *nd = NULL;
  cs_error err;
  cs_report_row rows[3];

  cs_cert_entry e[] = { entry(CS_STORE_USER, NULL, C_MONTH) };
  cs_device d = device("dev\"1", "SN-1", CS_OS_WINDOWS, "windows", e, 1);

  rows[0] = row_cert(CS_VERDICT_PASS, CS_REASON_NONE, &d, 0,
                     &certs[C_MONTH]);
  rows[1] = row_na();
  rows[2] = row_none(CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE);
  strcpy(rows[2].result.detail, "no certificate in system, user");
  d.hostname.ptr = "h\0\xc3";
  d.hostname.len = 3;
  assert_int_equal(cs_report_ndjson_open(report, dir, format, &nd, &err),
                   CS_OK);
  assert_int_equal(cs_report_ndjson_add(nd, &d, rows, &err), CS_OK);
  assert_int_equal(cs_report_ndjson_close(nd, &err), CS_OK);

  char *text = read_file(dir, "posture.ndjson", NULL);
  json_t **lines = calloc(4, sizeof(*lines));
  size_t n = 0;

  for (char *line = strtok(text, "\n"); line != NULL;
       line = strtok(NULL, "\n")) {
    json_error_t jerr;

    assert_true(n < 3);
    lines[n] = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                          &jerr);
    assert_non_null(lines[n]);
    n++;
  }
  free(text);
  remove_dir(dir);
  cs_report_free(report);
  *out_n = n;
  return lines;
}

static void free_lines(json_t **lines, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    json_decref(lines[i]);
  }
  free(lines);
}

static void test_ndjson_keys(void **state)
{
  size_t n;
  json_t **lines = write_ndjson(CS_REPORT_TIME_RFC3339, &n);
  const char *key;
  json_t *value;
  size_t i = 0;
  char sha[65];

  (void)state;
  assert_int_equal(n, 2); /* the Linux rule does not apply */
  json_object_foreach(lines[0], key, value)
  {
    assert_true(i < 14);
    assert_string_equal(key, ndjson_keys[i]);
    i++;
  }
  assert_int_equal(i, 14);
  assert_string_equal(jstr(lines[0], "DeviceID"), "dev\"1");
  assert_int_equal(json_string_length(json_object_get(lines[0],
                                                      "DeviceName")),
                   6);
  assert_memory_equal(jstr(lines[0], "DeviceName"), "h\0\\xC3", 6);
  assert_string_equal(jstr(lines[0], "DeviceType"), "windows");
  assert_string_equal(jstr(lines[0], "Email"), "ana@example.com");
  assert_string_equal(jstr(lines[0], "PolicyID"), "r-win");
  assert_string_equal(jstr(lines[0], "PostureCheckType"),
                      "client_certificate_v2");
  assert_true(json_is_true(json_object_get(lines[0],
                                           "PostureEvaluatedResult")));
  assert_true(json_is_false(json_object_get(lines[1],
                                            "PostureEvaluatedResult")));
  assert_string_equal(jstr(json_object_get(lines[0], "PostureExpectedJSON"),
                           "cn"),
                      "${serial_number}");

  json_t *got = json_object_get(lines[0], "PostureReceivedJSON");

  cs_hex_encode(certs[C_MONTH].sha256, 32, sha);
  assert_string_equal(jstr(got, "verdict"), "pass");
  assert_string_equal(jstr(got, "reason"), "");
  assert_string_equal(jstr(got, "cert_sha256"), sha);
  assert_string_equal(jstr(got, "store"), "user");
  assert_string_equal(jstr(got, "path"), "");
  assert_string_equal(jstr(got, "not_after"), "2026-12-21T00:00:00Z");

  got = json_object_get(lines[1], "PostureReceivedJSON");
  assert_string_equal(jstr(got, "reason"), "no_certificate");
  assert_string_equal(jstr(got, "detail"), "no certificate in system, user");
  assert_true(json_is_null(json_object_get(got, "cert_sha256")));
  assert_true(json_is_null(json_object_get(got, "store")));
  assert_true(json_is_null(json_object_get(got, "path")));
  assert_true(json_is_null(json_object_get(got, "not_after")));
  assert_string_equal(jstr(lines[1], "Timestamp"), "2026-12-01T00:00:00Z");
  free_lines(lines, n);
}

static void test_ndjson_timestamps(void **state)
{
  size_t n;
  json_t **lines;
  cs_report_time_format format;
  cs_report *report;
  cs_report_ndjson *nd = (cs_report_ndjson *)&format;
  cs_error err;

  (void)state;
  lines = write_ndjson(CS_REPORT_TIME_UNIX, &n);
  assert_int_equal(jint(lines[0], NULL, "Timestamp"), T0);
  free_lines(lines, n);
  lines = write_ndjson(CS_REPORT_TIME_UNIXNANO, &n);
  assert_int_equal(jint(lines[1], NULL, "Timestamp"), T0 * 1000000000LL);
  free_lines(lines, n);

  assert_true(cs_report_time_format_parse("unixnano", &format));
  assert_int_equal(format, CS_REPORT_TIME_UNIXNANO);
  assert_true(cs_report_time_format_parse("rfc3339", &format));
  assert_int_equal(format, CS_REPORT_TIME_RFC3339);
  assert_false(cs_report_time_format_parse("RFC3339", &format));
  assert_false(cs_report_time_format_parse("", &format));

  /* 2300 is past what signed 64-bit nanoseconds can hold. */
  cs_report_config config = { "v", 10413792000LL, test_rules, 3, 0, false };

  assert_int_equal(cs_report_new(&config, &report, &err), CS_OK);
  assert_int_equal(cs_report_ndjson_open(report, "/tmp",
                                         CS_REPORT_TIME_UNIXNANO, &nd, &err),
                   CS_ERR_USAGE);
  assert_null(nd);
  assert_string_equal(err.message,
                      "evaluation time 2300-01-01T00:00:00Z does not fit "
                      "unixnano timestamps (1677 to 2262)");
  cs_report_free(report);
}

/* summary.json ------------------------------------------------------ */

static void expect_keys(const json_t *obj, const char *const *keys,
                        size_t n)
{
  const char *key;
  json_t *value;
  size_t i = 0;

  json_object_foreach((json_t *)obj, key, value)
  {
    assert_true(i < n);
    assert_string_equal(key, keys[i]);
    i++;
  }
  assert_int_equal(i, n);
}

static void test_summary_json(void **state)
{
  static const char *const top_keys[] = {
    "tool", "version", "evaluated_at", "run", "inputs", "devices",
    "certificates", "malformed_records", "throughput", "rules_skipped",
    "rules", "fleet",
  };
  static const char *const rule_keys[] = {
    "id", "name", "type", "operating_system", "applicable", "pass",
    "fail", "unknown", "not_applicable", "compliance", "reasons",
    "locations", "os", "expiring",
  };
  static const char *const any_reasons[] = {
    "no_certificate", "not_collected", "malformed_certificate",
    "cn_mismatch",
  };
  cs_report *report = new_report();
  char *dir;
  cs_error err;

  (void)state;
  feed_fleet(report);
  cs_report_set_timing(report, T0 - 3600, 2.0, 4);
  assert_int_equal(cs_report_set_option(report, "signers", "a.json", &err),
                   CS_OK);
  assert_int_equal(cs_report_set_option(report, "rules", "r.json", &err),
                   CS_OK);
  assert_int_equal(cs_report_set_option(report, "signers", "b", &err),
                   CS_OK);
  assert_int_equal(cs_report_set_option(report, "", "x", &err),
                   CS_ERR_USAGE);
  assert_string_equal(err.message, "an option needs a name");

  json_t *root = load_summary(report, &dir);
  json_t *rules = json_object_get(root, "rules");
  json_t *win = json_array_get(rules, 0);
  json_t *any = json_array_get(rules, 2);

  expect_keys(root, top_keys, 12);
  expect_keys(win, rule_keys, 14);
  expect_keys(json_object_get(any, "reasons"), any_reasons, 4);
  assert_string_equal(jstr(root, "version"), "certscan 0.1.0");
  assert_string_equal(jstr(root, "evaluated_at"), "2026-12-01T00:00:00Z");
  assert_int_equal(jint(root, "devices", "read"), 9);
  assert_int_equal(jint(root, "devices", "evaluated"), 8);
  assert_int_equal(jint(root, "devices", "malformed"), 1);
  assert_int_equal(jint(root, "certificates", "read"), 7);
  assert_int_equal(jint(root, "certificates", "signatures_checked"), 8);
  assert_int_equal(jint(root, NULL, "rules_skipped"), 1);
  assert_string_equal(jstr(win, "id"), "r-win");
  assert_string_equal(jstr(win, "operating_system"), "windows");
  assert_true(json_is_null(json_object_get(any, "operating_system")));
  assert_int_equal(jint(any, NULL, "applicable"), 7);
  assert_true(json_real_value(json_object_get(win, "compliance")) == 0.5);
  assert_int_equal(jint(any, "expiring", "within_90_days"), 3);

  json_t *run = json_object_get(root, "run");

  assert_string_equal(jstr(run, "started_at"), "2026-11-30T23:00:00Z");
  assert_int_equal(jint(run, NULL, "threads"), 4);
  assert_string_equal(jstr(json_object_get(run, "options"), "rules"),
                      "r.json");
  assert_int_equal(json_array_size(json_object_get(
                       json_object_get(run, "options"), "signers")),
                   2);
  assert_true(json_real_value(json_object_get(
                  json_object_get(root, "throughput"),
                  "devices_per_second")) == 4.5);

  json_t *b = json_array_get(json_object_get(root, "inputs"), 1);

  assert_string_equal(jstr(b, "path"), "b.zst");
  assert_int_equal(jint(b, NULL, "devices"), 3);
  assert_int_equal(jint(b, NULL, "malformed"), 1);
  assert_string_equal(jstr(b, "error"), "b.zst: truncated zstd frame");
  assert_true(json_is_null(json_object_get(
      json_array_get(json_object_get(root, "inputs"), 0), "error")));

  json_t *bad = json_array_get(json_object_get(root, "malformed_records"),
                               0);

  assert_string_equal(jstr(bad, "file"), "b.zst");
  assert_int_equal(jint(bad, NULL, "record_index"), 9);
  assert_int_equal(jint(bad, NULL, "offset"), 1234);
  assert_string_equal(jstr(bad, "device_id"), "<script>");

  json_t *fleet = json_object_get(root, "fleet");
  json_t *shared = json_object_get(fleet, "shared_serials");

  assert_int_equal(jint(shared, NULL, "serials"), 1);
  assert_int_equal(jint(shared, NULL, "devices"), 2);
  assert_string_equal(jstr(json_array_get(json_object_get(shared, "top"),
                                          0),
                           "serial"),
                      "S1");
  assert_int_equal(jint(fleet, "placeholder_serials", "devices"), 2);
  assert_int_equal(jint(fleet, "shared_certificates", "certificates"), 1);
  assert_int_equal(jint(fleet, NULL, "missing_serials"), 1);
  json_decref(root);
  remove_dir(dir);
  cs_report_free(report);
}

static void test_summary_of_empty_run(void **state)
{
  cs_report *report = new_report();
  char *dir;

  (void)state;
  cs_report_set_timing(report, 0, INFINITY, 2);

  json_t *root = load_summary(report, &dir);
  json_t *rule = json_array_get(json_object_get(root, "rules"), 1);

  assert_int_equal(jint(rule, NULL, "applicable"), 0);
  assert_true(json_is_null(json_object_get(rule, "compliance")));
  assert_int_equal(json_object_size(json_object_get(rule, "reasons")), 0);
  assert_true(json_is_null(json_object_get(
      json_object_get(root, "throughput"), "devices_per_second")));
  assert_true(json_is_null(json_object_get(json_object_get(root, "run"),
                                           "started_at")));
  assert_true(json_real_value(json_object_get(json_object_get(root, "run"),
                                              "elapsed_seconds")) == 0.0);
  json_decref(root);
  remove_dir(dir);
  cs_report_free(report);
}

/* report.html ------------------------------------------------------- */

static void test_html_escapes_input(void **state)
{
  cs_posture_rule_info rules[3] = { test_rules[0], test_rules[1],
                                    test_rules[2] };
  cs_report_config config = { "certscan <b>", T0, rules, 3, 0, false };
  cs_report *report = NULL;
  char *dir = make_dir();
  cs_error err;
  cs_report_row rows[3] = { row_none(CS_VERDICT_FAIL,
                                     CS_REASON_NO_CERTIFICATE),
                            row_na(), row_na() };
  size_t in;

  (void)state;
  rules[0].name = "Win & \"corp\" <i>";
  assert_int_equal(cs_report_new(&config, &report, &err), CS_OK);
  assert_int_equal(cs_report_add_input(report, "<img src=x>.zst", &in,
                                       &err),
                   CS_OK);

  cs_device d = device("<script>alert(1)</script>", "<svg onload=x>",
                       CS_OS_WINDOWS, "windows", NULL, 0);

  add(report, in, &d, rows, 0, 0);
  add(report, in, &d, rows, 0, 0);

  cs_report_malformed bad = { 1, 2, S("<script>alert(2)</script>"),
                              "bad 'quote'" };

  assert_int_equal(cs_report_add_malformed(report, in, &bad, &err), CS_OK);
  assert_int_equal(cs_report_write_html(report, dir, &err), CS_OK);

  char *html = read_file(dir, "report.html", NULL);

  assert_null(strstr(html, "<script"));
  assert_null(strstr(html, "<img"));
  assert_null(strstr(html, "<svg onload"));
  assert_null(strstr(html, "<i>"));
  assert_null(strstr(html, "certscan <b>"));
  assert_non_null(strstr(html, "&lt;script&gt;alert(2)&lt;/script&gt;"));
  assert_non_null(strstr(html, "&lt;img src=x&gt;.zst"));
  assert_non_null(strstr(html, "&lt;svg onload=x&gt;"));
  assert_non_null(strstr(html, "Win &amp; &quot;corp&quot; &lt;i&gt;"));
  assert_non_null(strstr(html, "bad &#39;quote&#39;"));
  assert_non_null(strstr(html, "certscan &lt;b&gt;"));
  assert_null(strstr(html, "http-equiv"));
  assert_null(strstr(html, "src=\"http"));
  assert_non_null(strstr(html, "</html>\n"));
  free(html);
  remove_dir(dir);
  cs_report_free(report);
}

/* Console ----------------------------------------------------------- */

static void test_console_table(void **state)
{
  cs_posture_rule_info rules[3] = { test_rules[0], test_rules[1],
                                    test_rules[2] };
  cs_report_config config = { "v", T0, rules, 3, 0, false };
  cs_report *report = NULL;
  char buf[2048] = { 0 };
  FILE *out = fmemopen(buf, sizeof(buf) - 1, "w");
  cs_error err;

  (void)state;
  rules[1].name = "Linux \x1b[2J corp rule with a name too long to fit";
  assert_int_equal(cs_report_new(&config, &report, &err), CS_OK);
  feed_fleet(report);
  assert_int_equal(cs_report_print_table(report, out, &err), CS_OK);
  fclose(out);
  assert_string_equal(
      buf,
      "rule                             applicable       pass       fail "
      " unknown compliance  top reason\n"
      "Windows corp                              4          2          2 "
      "       0     50.00%  malformed_certificate\n"
      "Linux \\x1B[2J corp rule with ...          2          1          1 "
      "       0     50.00%  no_certificate\n"
      "Any OS                                    7          3          3 "
      "       1     42.86%  no_certificate\n");
  cs_report_free(report);
}

/* Merge and partial results ----------------------------------------- */

/* A deterministic pseudo-random fleet, device `i` always the same. */
static uint32_t mix(uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

static const char *const serial_pool[] = {
  "A1", "A2", "A3", "Default string", "B7", "none", "C9",
};

static void random_device(cs_report *report, size_t input, uint32_t i)
{
  static const cs_os oses[] = { CS_OS_WINDOWS, CS_OS_LINUX, CS_OS_MAC,
                                CS_OS_OTHER };
  static const char *const os_names[] = { "windows", "linux", "mac", "ios" };
  static const char *const rule_os[] = { "windows", "linux", NULL };
  uint32_t r = mix(i + 1);
  char id[32];
  int os = (int)(r % 4);
  int cert = (int)((r >> 4) % C_COUNT);
  cs_cert_entry e[] = { entry((cs_store)(1u << ((r >> 8) % 3)), "/p.pem",
                              cert) };
  cs_report_row rows[3];

  snprintf(id, sizeof(id), "dev-%u", i);

  cs_device d = device(id, serial_pool[(r >> 12) % 7], oses[os],
                       os_names[os], e, 1);

  for (int k = 0; k < 3; k++) {
    uint32_t v = (r >> (16 + 4 * k)) % 4;
    bool applies = oses[os] != CS_OS_OTHER &&
                   (rule_os[k] == NULL ||
                    strcmp(rule_os[k], os_names[os]) == 0);

    if (!applies) {
      rows[k] = row_na();
    } else if (v == 0) {
      rows[k] = row_cert(CS_VERDICT_PASS, CS_REASON_NONE, &d, 0,
                         &certs[cert]);
    } else if (v == 1) {
      rows[k] = row_cert(CS_VERDICT_FAIL, CS_REASON_WRONG_ISSUER, &d, 0,
                         &certs[cert]);
    } else if (v == 2) {
      rows[k] = row_none(CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE);
    } else {
      rows[k] = row_none(CS_VERDICT_UNKNOWN, CS_REASON_NOT_COLLECTED);
    }
  }
  add(report, input, &d, rows, 1, cert == C_EXPIRED);
}

/* Shard `s` of the random fleet: 40 devices and 3 malformed records. */
static void feed_shard(cs_report *report, int s)
{
  char path[32];
  size_t in;
  cs_error err;

  snprintf(path, sizeof(path), "shard-%d.zst", s);
  assert_int_equal(cs_report_add_input(report, path, &in, &err), CS_OK);
  for (uint32_t i = 0; i < 40; i++) {
    random_device(report, in, (uint32_t)s * 40 + i);
  }
  for (uint64_t k = 0; k < 3; k++) {
    cs_report_malformed bad = { k, k * 100, S("m"), "no os" };

    assert_int_equal(cs_report_add_malformed(report, in, &bad, &err),
                     CS_OK);
  }
  assert_int_equal(cs_report_finish_input(report, in, 5000 + (uint64_t)s,
                                          NULL, &err),
                   CS_OK);
}

static void set_run(cs_report *report, int64_t started, double elapsed,
                    unsigned threads)
{
  cs_error err;

  cs_report_set_timing(report, started, elapsed, threads);
  assert_int_equal(cs_report_set_option(report, "rules", "r.json", &err),
                   CS_OK);
}

/* Writes summary.json and report.html, and returns both, joined. */
static char *outputs_of(const cs_report *report)
{
  char *dir = make_dir();
  cs_error err;
  size_t a_len, b_len;

  assert_int_equal(cs_report_write_summary(report, dir, &err), CS_OK);
  assert_int_equal(cs_report_write_html(report, dir, &err), CS_OK);

  char *a = read_file(dir, "summary.json", &a_len);
  char *b = read_file(dir, "report.html", &b_len);
  char *both = malloc(a_len + b_len + 1);

  memcpy(both, a, a_len);
  memcpy(both + a_len, b, b_len + 1);
  free(a);
  free(b);
  remove_dir(dir);
  return both;
}

static cs_report *single_run(void)
{
  cs_report *report = new_report();

  feed_shard(report, 0);
  feed_shard(report, 1);
  feed_shard(report, 2);
  set_run(report, 1000, 6.0, 4);
  return report;
}

static cs_report *shard_run(int s)
{
  cs_report *report = new_report();

  feed_shard(report, s);
  set_run(report, 1000 + s * 10, (double)(s + 1), s == 1 ? 4 : 2);
  return report;
}

static void test_merge_equals_single(void **state)
{
  cs_report *single = single_run();
  cs_report *merged = shard_run(0);
  cs_report *part;
  cs_report_fleet_counts f;
  cs_error err;

  (void)state;
  for (int s = 1; s < 3; s++) {
    part = shard_run(s);
    assert_int_equal(cs_report_merge(merged, part, &err), CS_OK);
    cs_report_free(part);
  }

  /* The shards share serials and certificates: found across shards. */
  cs_report_get_fleet_counts(single, &f);
  assert_true(f.shared_serials >= 4);
  assert_true(f.shared_certs >= 4);
  assert_true(f.placeholder_devices > 0);

  char *want = outputs_of(single);
  char *got = outputs_of(merged);

  assert_string_equal(got, want);
  free(want);
  free(got);
  cs_report_free(single);
  cs_report_free(merged);
}

static void test_merge_refuses_other_rules(void **state)
{
  cs_report *a = new_report();
  cs_report *b = NULL;
  cs_posture_rule_info rules[3] = { test_rules[0], test_rules[2],
                                    test_rules[1] };
  cs_report_config config = { "v", T0, rules, 3, 0, false };
  cs_report_totals t;
  cs_error err;

  (void)state;
  feed_fleet(a);
  assert_int_equal(cs_report_new(&config, &b, &err), CS_OK);
  feed_shard(b, 0);
  assert_int_equal(cs_report_merge(a, b, &err), CS_ERR_CONFIG);
  assert_string_equal(err.message,
                      "partials have different rules: r-linux and r-any");
  cs_report_free(b);

  config.rule_count = 2;
  assert_int_equal(cs_report_new(&config, &b, &err), CS_OK);
  assert_int_equal(cs_report_merge(a, b, &err), CS_ERR_CONFIG);
  assert_string_equal(err.message,
                      "partials have different rules (3 and 2)");
  cs_report_free(b);

  config.rules = test_rules;
  config.rule_count = 3;
  config.evaluated_at = T0 + 1;
  assert_int_equal(cs_report_new(&config, &b, &err), CS_OK);
  assert_int_equal(cs_report_merge(a, b, &err), CS_ERR_CONFIG);
  assert_string_equal(err.message,
                      "partials evaluated at different times (1796083200 "
                      "and 1796083201)");
  cs_report_free(b);

  assert_int_equal(cs_report_merge(a, a, &err), CS_ERR_USAGE);
  assert_string_equal(err.message, "a report cannot be merged into itself");

  cs_report_get_totals(a, &t);
  assert_int_equal(t.devices_evaluated, 8);
  assert_int_equal(t.inputs, 2);
  cs_report_free(a);
}

static char *save(const cs_report *report, const char *dir, const char *name)
{
  char *path = malloc(512);
  cs_error err;

  snprintf(path, 512, "%s/%s", dir, name);
  assert_int_equal(cs_report_save_partial(report, path, &err), CS_OK);
  return path;
}

static void test_partial_round_trip(void **state)
{
  cs_report *report = new_report();
  cs_report *loaded = NULL;
  char *dir = make_dir();
  cs_error err;

  (void)state;
  feed_fleet(report);
  set_run(report, 1000, 1.25, 2);

  char *path = save(report, dir, "run.partial");

  assert_int_equal(cs_report_load_partial(path, &loaded, &err), CS_OK);

  char *want = outputs_of(report);
  char *got = outputs_of(loaded);

  assert_string_equal(got, want);
  free(want);
  free(got);

  /* Saving what was loaded gives the same header line. */
  char *again = save(loaded, dir, "again.partial");
  char *first = read_file(dir, "run.partial", NULL);
  char *second = read_file(dir, "again.partial", NULL);

  *strchr(first, '\n') = '\0';
  *strchr(second, '\n') = '\0';
  assert_string_equal(first, second);
  free(first);
  free(second);
  free(again);
  free(path);
  cs_report_free(loaded);
  cs_report_free(report);
  remove_dir(dir);
}

static void test_partials_merge_equals_single(void **state)
{
  cs_report *single = single_run();
  cs_report *merged = NULL;
  char *dir = make_dir();
  char *paths[3];
  cs_error err;

  (void)state;
  for (int s = 0; s < 3; s++) {
    char name[32];
    cs_report *part = shard_run(s);

    snprintf(name, sizeof(name), "shard-%d.partial", s);
    paths[s] = save(part, dir, name);
    cs_report_free(part);
  }
  assert_int_equal(cs_report_load_partial(paths[0], &merged, &err), CS_OK);
  for (int s = 1; s < 3; s++) {
    cs_report *part = NULL;

    assert_int_equal(cs_report_load_partial(paths[s], &part, &err), CS_OK);
    assert_int_equal(cs_report_merge(merged, part, &err), CS_OK);
    cs_report_free(part);
  }

  char *want = outputs_of(single);
  char *got = outputs_of(merged);

  assert_string_equal(got, want);
  free(want);
  free(got);
  for (int s = 0; s < 3; s++) {
    free(paths[s]);
  }
  cs_report_free(single);
  cs_report_free(merged);
  remove_dir(dir);
}

static void write_text(const char *path, const char *text, size_t len)
{
  FILE *fp = fopen(path, "wb");

  assert_non_null(fp);
  assert_int_equal(fwrite(text, 1, len, fp), len);
  fclose(fp);
}

/* `text` with the first `from` replaced by `to`. */
static char *replace(const char *text, const char *from, const char *to)
{
  const char *at = strstr(text, from);
  size_t head = (size_t)(at - text);
  char *out = malloc(strlen(text) + strlen(to) + 1);

  assert_non_null(at);
  memcpy(out, text, head);
  strcpy(out + head, to);
  strcat(out, at + strlen(from));
  return out;
}

/* Loads `text` as a partial and expects `status` and `message`. */
static void expect_refused(const char *dir, const char *text, size_t len,
                           cs_status status, const char *message)
{
  char path[512];
  cs_report *report = (cs_report *)&path;
  cs_error err;

  snprintf(path, sizeof(path), "%s/bad.partial", dir);
  write_text(path, text, len);
  assert_int_equal(cs_report_load_partial(path, &report, &err), status);
  assert_null(report);

  char *want = replace(message, "%s", path);

  assert_string_equal(err.message, want);
  free(want);
}

/*
 * The header line of `good`, then `first` (when not NULL) in place of
 * the first entry line, then the fleet's entries in a fixed order with
 * S1 on three devices instead of two.
 */
static char *with_entries(const char *good, const char *first)
{
  static const char *const serials[] = {
    "S1", " to be filled by o.e.m. ", "S5", "S6", "00000000", "S8",
  };
  static const int named[] = { C_SOON, C_MONTH, C_QUARTER, C_EXPIRED };
  size_t header = (size_t)(strchr(good, '\n') - good) + 1;
  char *out = calloc(1, header + 4096);
  char hex[129];

  memcpy(out, good, header);
  if (first != NULL) {
    strcat(out, first);
  }
  for (size_t i = first != NULL ? 1 : 0; i < 6; i++) {
    cs_hex_encode((const uint8_t *)serials[i], strlen(serials[i]), hex);
    sprintf(out + strlen(out), "{\"serial\":\"%s\",\"devices\":%d}\n",
            hex, i == 0 ? 3 : 1);
  }
  for (size_t i = 0; i < 4; i++) {
    cs_hex_encode(certs[named[i]].sha256, 32, hex);
    sprintf(out + strlen(out), "{\"sha256\":\"%s\",\"devices\":%d}\n",
            hex, i == 0 ? 2 : 1);
  }
  return out;
}

static void test_partial_refuses_bad_files(void **state)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  cs_report *loaded = NULL;
  cs_error err;
  size_t len;

  (void)state;
  feed_fleet(report);

  char *path = save(report, dir, "good.partial");
  char *good = read_file(dir, "good.partial", &len);
  char *edited;

  assert_int_equal(cs_report_load_partial("/nonexistent.partial", &loaded,
                                          &err),
                   CS_ERR_OPEN);
  assert_string_equal(err.message, "cannot open partial "
                                   "/nonexistent.partial: No such file or "
                                   "directory");

  /* 6 serials and 4 named certs follow the header: 11 lines. */
  expect_refused(dir, good, len - 1 - strlen(strrchr(good, '{')) + 1,
                 CS_ERR_CONFIG, "partial %s line 11: file ends early");
  expect_refused(dir, "", 0, CS_ERR_CONFIG,
                 "partial %s line 1: file ends early");
  expect_refused(dir, "[1,2]\n", 6, CS_ERR_CONFIG,
                 "partial %s line 1: not a JSON object");
  expect_refused(dir, "{\"format\":\"certinv\"}\n", 21, CS_ERR_CONFIG,
                 "partial %s line 1: not a certscan partial of version 1");

  edited = replace(good, "\"version\":1", "\"version\":2");
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 1: not a certscan partial of version 1");
  free(edited);

  edited = replace(good, "\"devices_evaluated\":8", "\"devices_evaluated\":9");
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 1: counts do not add up");
  free(edited);

  edited = replace(good, "\"verdicts\":[2,2,0,4]", "\"verdicts\":[2,2,4]");
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 1: a rule's counts are missing or wrong");
  free(edited);

  edited = with_entries(good, "{\"serial\":\"5331\",\"devices\":-1}\n");
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 2: not a serial line");
  free(edited);

  edited = with_entries(good, "{\"serial\":\"53\",\"devices\":1,"
                              "\"x\":1}\n");
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 2: not a serial line");
  free(edited);

  edited = with_entries(good, "{\"serial\":\"5G\",\"devices\":1}\n");
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 2: not a serial line");
  free(edited);

  /* Every line well formed, but S1 claims three devices, not two. */
  edited = with_entries(good, NULL);
  expect_refused(dir, edited, strlen(edited), CS_ERR_CONFIG,
                 "partial %s line 11: serial counts do not add up to the "
                 "devices");
  free(edited);

  edited = malloc(len + 32);
  memcpy(edited, good, len);
  memcpy(edited + len, "{}\n", 4);
  expect_refused(dir, edited, len + 3, CS_ERR_CONFIG,
                 "partial %s line 12: more lines than the header lists");
  free(edited);

  free(good);
  free(path);
  remove_dir(dir);
  cs_report_free(report);
}

/*
 * Damaged partials: flipped bytes, cut lines, lost newlines. Each load
 * either succeeds or is refused with a message; none may crash, leak or
 * read out of bounds (the sanitizer build runs this too).
 */
static void test_partial_survives_damage(void **state)
{
  cs_report *report = new_report();
  char *dir = make_dir();
  char path[512];
  size_t len;
  int refused = 0;

  (void)state;
  feed_fleet(report);

  char *partial = save(report, dir, "good.partial");
  char *good = read_file(dir, "good.partial", &len);
  char *copy = malloc(len);

  snprintf(path, sizeof(path), "%s/damaged.partial", dir);
  for (uint32_t round = 0; round < 1500; round++) {
    uint32_t r = mix(round + 7);
    size_t at = r % len;
    size_t keep = round % 3 == 0 ? at : len;
    cs_report *loaded = NULL;
    cs_error err;

    memcpy(copy, good, len);
    copy[at] = (char)(round % 5 == 0 ? '\n' : (r >> 16) & 0xff);
    write_text(path, copy, keep);

    cs_status status = cs_report_load_partial(path, &loaded, &err);

    if (status == CS_OK) {
      cs_report_free(loaded);
      continue;
    }
    assert_null(loaded);
    assert_true(status == CS_ERR_CONFIG || status == CS_ERR_NOMEM);
    assert_non_null(strstr(err.message, path));
    refused++;
  }
  assert_true(refused > 1000);
  free(copy);
  free(good);
  free(partial);
  remove_dir(dir);
  cs_report_free(report);
}

/* Placeholder serials ----------------------------------------------- */

static void test_placeholder_serials(void **state)
{
  static const char *const yes[] = {
    "To Be Filled By O.E.M.", "  to be filled by o.e.m.\t", "Default string",
    "DEFAULT STRING", "System Serial Number", "0123456789", "None",
    "Not Specified", "Not Applicable", "n/a", "INVALID", "123456789",
    "0", "00000000000", "FFFFFFFF", "xxxxxx", "Chassis Serial Number",
  };
  static const char *const no[] = {
    "", "   ", "C02XL0GHJGH5", "5CG1234XYZ", "VMware-56 4d 12", "0001",
    "None1", "N/A N/A", "To Be Filled", "012345678",
  };
  const char with_nul[] = "None\0";

  (void)state;
  for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
    assert_true(cs_report_serial_is_placeholder(S(yes[i])));
  }
  for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
    assert_false(cs_report_serial_is_placeholder(S(no[i])));
  }

  cs_str nul = { with_nul, sizeof(with_nul) - 1 };
  cs_str absent = { NULL, 0 };

  assert_false(cs_report_serial_is_placeholder(nul));
  assert_false(cs_report_serial_is_placeholder(absent));
}

/*
 * Without fleet findings nothing is kept per serial or certificate; the
 * summary says so with "fleet": null, partials carry the choice, and a
 * merge with such a shard drops the findings of the others, which would
 * otherwise undercount.
 */
static void test_no_fleet_findings(void **state)
{
  cs_report_config config = { "v", T0, test_rules, 3, 1, true };
  cs_report *quiet = NULL;
  cs_report *full = new_report();
  cs_report *loaded = NULL;
  cs_report_fleet_counts f;
  cs_error err;
  char *summary_dir;
  char *dir = make_dir();

  (void)state;
  assert_int_equal(cs_report_new(&config, &quiet, &err), CS_OK);
  feed_fleet(quiet);
  feed_fleet(full);
  cs_report_get_fleet_counts(quiet, &f);
  assert_int_equal(f.shared_serials, 0);
  assert_int_equal(f.shared_certs, 0);
  assert_int_equal(f.placeholder_devices, 0);

  json_t *root = load_summary(quiet, &summary_dir);

  assert_true(json_is_null(json_object_get(root, "fleet")));
  assert_int_equal(jint(root, "devices", "evaluated"), 8);
  json_decref(root);
  remove_dir(summary_dir);

  char *path = save(quiet, dir, "quiet.partial");

  assert_int_equal(cs_report_load_partial(path, &loaded, &err), CS_OK);
  assert_int_equal(cs_report_merge(full, loaded, &err), CS_OK);
  cs_report_get_fleet_counts(full, &f);
  assert_int_equal(f.shared_serials, 0);
  assert_int_equal(f.shared_certs, 0);
  root = load_summary(full, &summary_dir);
  assert_true(json_is_null(json_object_get(root, "fleet")));
  assert_int_equal(jint(root, "devices", "evaluated"), 16);
  json_decref(root);
  remove_dir(summary_dir);
  free(path);
  remove_dir(dir);
  cs_report_free(loaded);
  cs_report_free(full);
  cs_report_free(quiet);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_aggregate_counts),
    cmocka_unit_test(test_fleet_findings),
    cmocka_unit_test(test_fleet_top_order),
    cmocka_unit_test(test_splits_in_summary),
    cmocka_unit_test(test_bad_rows_are_refused),
    cmocka_unit_test(test_new_refuses_bad_rules),
    cmocka_unit_test(test_min_compliance),
    cmocka_unit_test(test_csv_quoting),
    cmocka_unit_test(test_csv_writer_checks_rows),
    cmocka_unit_test(test_atomic_abort),
    cmocka_unit_test(test_atomic_failed_write),
    cmocka_unit_test(test_ndjson_keys),
    cmocka_unit_test(test_ndjson_timestamps),
    cmocka_unit_test(test_summary_json),
    cmocka_unit_test(test_summary_of_empty_run),
    cmocka_unit_test(test_html_escapes_input),
    cmocka_unit_test(test_console_table),
    cmocka_unit_test(test_merge_equals_single),
    cmocka_unit_test(test_merge_refuses_other_rules),
    cmocka_unit_test(test_partial_round_trip),
    cmocka_unit_test(test_no_fleet_findings),
    cmocka_unit_test(test_partials_merge_equals_single),
    cmocka_unit_test(test_partial_refuses_bad_files),
    cmocka_unit_test(test_partial_survives_damage),
    cmocka_unit_test(test_placeholder_serials),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
