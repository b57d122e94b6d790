/*
 * test_generator.c - runs the built certscan-gen (path in CERTSCAN_GEN)
 * and checks what it wrote: byte-identical output for the same seed
 * whatever the thread count, other bytes for another seed, the
 * arithmetic of expected.json, shards that decode as zstd + msgpack
 * with a certinv header, counts that agree with the records, exact
 * verdict counts when one defect is forced on every certificate, the
 * committed sample made again bit for bit, and exact usage errors.
 */
#define _GNU_SOURCE /* memmem */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zstd.h>

#define MAX_ARGS 40

/* The committed sample's command line, as datasets/sample/README.md
   gives it. */
static const char *const sample_args[] = {
  "--devices", "2000", "--shards", "2", "--seed", "20261201",
  "--certs-per-device", "0-1", NULL
};

/* ---- helpers: files and processes ---- */

static char *read_file(const char *path, size_t *out_len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long len;

  if (f == NULL) {
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)len + 1);
    if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
      free(buf);
      buf = NULL;
    }
    if (buf != NULL) {
      buf[len] = '\0';
      *out_len = (size_t)len;
    }
  }
  fclose(f);
  return buf;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void make_tmp(char *dir, size_t size)
{
  snprintf(dir, size, "/tmp/certscan-gen-test-XXXXXX");
  assert_non_null(mkdtemp(dir));
}

static void remove_tree(const char *dir)
{
  nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/*
 * Runs certscan-gen with `args` (NULL-terminated), then `more`; stdout
 * and stderr go to files in `log_dir`. Returns the exit status.
 */
static int run_gen(const char *log_dir, const char *const *args,
                   const char *const *more)
{
  const char *gen = getenv("CERTSCAN_GEN");
  char *argv[MAX_ARGS];
  char path[512];
  size_t n = 0;
  int status;
  pid_t pid;

  assert_non_null(gen);
  argv[n++] = (char *)gen;
  for (; args != NULL && *args != NULL; args++) {
    argv[n++] = (char *)*args;
  }
  for (; more != NULL && *more != NULL; more++) {
    argv[n++] = (char *)*more;
  }
  argv[n] = NULL;
  assert_true(n < MAX_ARGS);

  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    snprintf(path, sizeof(path), "%s/stdout.txt", log_dir);
    dup2(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    snprintf(path, sizeof(path), "%s/stderr.txt", log_dir);
    dup2(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    execv(gen, argv);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Generates into a fresh folder `out` (made here). */
static void generate(char *out, size_t size, const char *const *args)
{
  const char *more[3] = { "--out", NULL, NULL };
  char logs[64];

  make_tmp(out, size);
  make_tmp(logs, sizeof(logs));
  more[1] = out;
  assert_int_equal(run_gen(logs, args, more), 0);
  remove_tree(logs);
}

static bool same_file(const char *dir_a, const char *dir_b,
                      const char *name)
{
  char path[512];
  size_t len_a = 0, len_b = 0;
  char *a, *b;
  bool same;

  snprintf(path, sizeof(path), "%s/%s", dir_a, name);
  a = read_file(path, &len_a);
  snprintf(path, sizeof(path), "%s/%s", dir_b, name);
  b = read_file(path, &len_b);
  assert_non_null(a);
  assert_non_null(b);
  same = len_a == len_b && memcmp(a, b, len_a) == 0;
  free(a);
  free(b);
  return same;
}

static json_t *load_json(const char *dir, const char *name)
{
  char path[512];
  json_t *doc;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  doc = json_load_file(path, 0, NULL);
  assert_non_null(doc);
  return doc;
}

static json_int_t get_int(const json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);

  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

/* ---- shards ---- */

static uint8_t *decompress(const char *path, size_t *out_len)
{
  size_t in_len = 0, cap = 1 << 20, len = 0;
  char *in = read_file(path, &in_len);
  uint8_t *out = malloc(cap);
  ZSTD_DStream *ds = ZSTD_createDStream();
  ZSTD_inBuffer ib = { in, in_len, 0 };
  size_t rc = 1;

  assert_non_null(in);
  assert_non_null(out);
  assert_int_equal((uint8_t)in[0], 0x28); /* zstd magic, first byte */
  while (ib.pos < ib.size) {
    ZSTD_outBuffer ob;

    if (cap - len < (1 << 16)) {
      cap *= 2;
      out = realloc(out, cap);
      assert_non_null(out);
    }
    ob.dst = out + len;
    ob.size = cap - len;
    ob.pos = 0;
    rc = ZSTD_decompressStream(ds, &ob, &ib);
    assert_false(ZSTD_isError(rc));
    len += ob.pos;
  }
  assert_int_equal(rc, 0); /* the last frame ended */
  ZSTD_freeDStream(ds);
  free(in);
  *out_len = len;
  return out;
}

static const msgpack_object *map_get(const msgpack_object *map,
                                     const char *key)
{
  uint32_t i;

  for (i = 0; i < map->via.map.size; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;

    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
        memcmp(k->via.str.ptr, key, k->via.str.size) == 0) {
      return &map->via.map.ptr[i].val;
    }
  }
  return NULL;
}

static bool is_str(const msgpack_object *o)
{
  return o != NULL && o->type == MSGPACK_OBJECT_STR;
}

static void check_header(const msgpack_object *h)
{
  const msgpack_object *v;

  assert_int_equal(h->type, MSGPACK_OBJECT_MAP);
  v = map_get(h, "format");
  assert_true(is_str(v));
  assert_int_equal(v->via.str.size, 7);
  assert_memory_equal(v->via.str.ptr, "certinv", 7);
  v = map_get(h, "version");
  assert_non_null(v);
  assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
  assert_int_equal(v->via.u64, 1);
  assert_true(is_str(map_get(h, "source")));
  v = map_get(h, "collected_at");
  assert_non_null(v);
  assert_int_equal(v->type, MSGPACK_OBJECT_EXT);
  assert_int_equal(v->via.ext.type, -1);
}

/* The DER is exactly one certificate that re-encodes to itself. */
static bool strict_der(const msgpack_object *der)
{
  const unsigned char *p = (const unsigned char *)der->via.bin.ptr;
  X509 *x = d2i_X509(NULL, &p, (long)der->via.bin.size);
  unsigned char *again = NULL;
  int len = x == NULL ? -1 : i2d_X509(x, &again);
  bool ok = x != NULL &&
            p == (const unsigned char *)der->via.bin.ptr +
                     der->via.bin.size &&
            len == (int)der->via.bin.size &&
            memcmp(again, der->via.bin.ptr, der->via.bin.size) == 0;

  OPENSSL_free(again);
  X509_free(x);
  return ok;
}

typedef struct fleet_counts {
  long devices;
  long malformed;
  long certs;
  long certs_malformed;
  long per_os[4]; /* windows, mac, linux, other */
  long sig_oids_unsupported;
  long sig_sha1;
} fleet_counts;

static void count_cert(const msgpack_object *entry, fleet_counts *c)
{
  const msgpack_object *der = map_get(entry, "der");
  const unsigned char *p;
  const ASN1_OBJECT *oid;
  const X509_ALGOR *alg;
  char text[80];
  X509 *x;

  assert_non_null(der);
  assert_int_equal(der->type, MSGPACK_OBJECT_BIN);
  c->certs++;
  if (!strict_der(der)) {
    c->certs_malformed++;
    return;
  }
  p = (const unsigned char *)der->via.bin.ptr;
  x = d2i_X509(NULL, &p, (long)der->via.bin.size);
  X509_get0_signature(NULL, &alg, x);
  X509_ALGOR_get0(&oid, NULL, NULL, alg);
  OBJ_obj2txt(text, sizeof(text), oid, 1);
  c->sig_oids_unsupported +=
      strcmp(text, "2.25.329800735698586629295641978511506172918") == 0;
  c->sig_sha1 += strcmp(text, "1.2.840.113549.1.1.5") == 0 ||
                 strcmp(text, "1.2.840.10045.4.1") == 0;
  X509_free(x);
}

static int os_index(const msgpack_object *os)
{
  static const char *names[] = { "windows", "mac", "linux" };
  int i;

  for (i = 0; i < 3; i++) {
    if (os->via.str.size == strlen(names[i]) &&
        memcmp(os->via.str.ptr, names[i], os->via.str.size) == 0) {
      return i;
    }
  }
  return 3;
}

static void count_record(const msgpack_object *rec, fleet_counts *c)
{
  const msgpack_object *os, *certs;
  uint32_t i;

  c->devices++;
  if (rec->type != MSGPACK_OBJECT_MAP || !is_str(map_get(rec, "device_id"))
      || !is_str(map_get(rec, "os")) ||
      (certs = map_get(rec, "certs")) == NULL ||
      certs->type != MSGPACK_OBJECT_ARRAY) {
    c->malformed++;
    return;
  }
  os = map_get(rec, "os");
  c->per_os[os_index(os)]++;
  for (i = 0; i < certs->via.array.size; i++) {
    count_cert(&certs->via.array.ptr[i], c);
  }
}

static void count_shard(const char *path, fleet_counts *c)
{
  size_t len = 0, off = 0;
  uint8_t *data = decompress(path, &len);
  msgpack_unpacked u;
  bool first = true;

  msgpack_unpacked_init(&u);
  while (off < len) {
    assert_int_equal(msgpack_unpack_next(&u, (const char *)data, len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    if (first) {
      check_header(&u.data);
      first = false;
    } else {
      count_record(&u.data, c);
    }
  }
  assert_false(first);
  msgpack_unpacked_destroy(&u);
  free(data);
}

static void count_fleet(const char *dir, unsigned shards, fleet_counts *c)
{
  char path[512];
  unsigned s;

  memset(c, 0, sizeof(*c));
  for (s = 0; s < shards; s++) {
    snprintf(path, sizeof(path), "%s/fleet-%03u.msgpack.zst", dir, s);
    count_shard(path, c);
  }
  snprintf(path, sizeof(path), "%s/fleet-%03u.msgpack.zst", dir, shards);
  assert_int_equal(access(path, F_OK), -1);
}

/* ---- checks of expected.json ---- */

static json_int_t reasons_sum(const json_t *reasons)
{
  const char *key;
  json_t *value;
  json_int_t sum = 0;

  json_object_foreach((json_t *)reasons, key, value) {
    assert_true(json_integer_value(value) > 0);
    sum += json_integer_value(value);
  }
  return sum;
}

/* applicable = pass + fail + unknown; the rest did not apply; reasons
   explain every device not passing. */
static void check_arithmetic(const json_t *exp)
{
  const json_t *devices = json_object_get(exp, "devices");
  json_int_t evaluated = get_int(devices, "evaluated");
  const json_t *rules = json_object_get(exp, "rules");
  size_t i;

  assert_int_equal(get_int(devices, "read"),
                   evaluated + get_int(devices, "malformed"));
  assert_int_equal(json_array_size(rules), 7);
  for (i = 0; i < json_array_size(rules); i++) {
    const json_t *r = json_array_get(rules, i);
    const json_t *reasons = json_object_get(r, "reasons");
    json_t *nc = json_object_get(reasons, "not_collected");

    assert_int_equal(get_int(r, "applicable"),
                     get_int(r, "pass") + get_int(r, "fail") +
                         get_int(r, "unknown"));
    assert_int_equal(get_int(r, "applicable") + get_int(r, "not_applicable"),
                     evaluated);
    assert_int_equal(reasons_sum(reasons),
                     get_int(r, "fail") + get_int(r, "unknown"));
    assert_int_equal(nc == NULL ? 0 : json_integer_value(nc),
                     get_int(r, "unknown"));
  }
}

static long csv_rows(const char *dir)
{
  char path[512];
  size_t len = 0, i;
  char *text;
  long rows = 0;

  snprintf(path, sizeof(path), "%s/expected-devices.csv", dir);
  text = read_file(path, &len);
  assert_non_null(text);
  assert_true(strncmp(text, "device_id,rule_id,verdict,reason\n", 33) ==
              0);
  for (i = 33; i < len; i++) {
    rows += text[i] == '\n';
  }
  free(text);
  return rows;
}

/* ---- tests ---- */

static const char *const small_args[] = {
  "--devices", "300", "--shards", "3", "--seed", "42", "--signers",
  "p256,ed25519,rsa2048-pss", "--defect", "malformed_record=0.02", NULL
};

/* Two runs of the small fleet, one thread against all: made once. */
typedef struct small_fleets {
  char one_thread[64];
  char all_threads[64];
} small_fleets;

static int make_small_fleets(void **state)
{
  static small_fleets fleets;
  const char *one[MAX_ARGS] = { "--threads", "1", NULL };
  size_t i;

  for (i = 0; small_args[i] != NULL; i++) {
    one[2 + i] = small_args[i];
  }
  one[2 + i] = NULL;
  generate(fleets.one_thread, sizeof(fleets.one_thread), one);
  generate(fleets.all_threads, sizeof(fleets.all_threads), small_args);
  *state = &fleets;
  return 0;
}

static int remove_small_fleets(void **state)
{
  small_fleets *fleets = *state;

  remove_tree(fleets->one_thread);
  remove_tree(fleets->all_threads);
  return 0;
}

static void test_same_seed_same_bytes(void **state)
{
  static const char *const names[] = {
    "expected.json", "expected-devices.csv", "rules.json",
    "signers.json", "fleet-000.msgpack.zst", "fleet-001.msgpack.zst",
    "fleet-002.msgpack.zst"
  };
  small_fleets *fleets = *state;
  size_t i;

  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    assert_true(same_file(fleets->one_thread, fleets->all_threads,
                          names[i]));
  }
}

static void test_other_seed_other_bytes(void **state)
{
  static const char *const names[] = {
    "expected-devices.csv", "rules.json", "signers.json",
    "fleet-000.msgpack.zst", "fleet-001.msgpack.zst",
    "fleet-002.msgpack.zst"
  };
  small_fleets *fleets = *state;
  const char *other[MAX_ARGS];
  char dir[64];
  size_t i;

  for (i = 0; small_args[i] != NULL; i++) {
    other[i] = strcmp(small_args[i], "42") == 0 ? "43" : small_args[i];
  }
  other[i] = NULL;
  generate(dir, sizeof(dir), other);
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    assert_false(same_file(fleets->all_threads, dir, names[i]));
  }
  remove_tree(dir);
}

static void test_counts_agree_with_records(void **state)
{
  small_fleets *fleets = *state;
  const char *dir = fleets->all_threads;
  fleet_counts c;
  json_t *exp;
  const json_t *rules;
  long applicable = 0;
  size_t i;

  exp = load_json(dir, "expected.json");
  check_arithmetic(exp);
  count_fleet(dir, 3, &c);

  assert_int_equal(c.devices, 300);
  assert_int_equal(get_int(json_object_get(exp, "devices"), "read"), 300);
  assert_int_equal(get_int(json_object_get(exp, "devices"), "malformed"),
                   c.malformed);
  assert_true(c.malformed > 0);
  assert_int_equal(get_int(json_object_get(exp, "certificates"), "read"),
                   c.certs);
  assert_int_equal(
      get_int(json_object_get(exp, "certificates"), "malformed"),
      c.certs_malformed);
  assert_int_equal(get_int(exp, "rules_skipped"), 1);

  /* A rule applies to exactly the devices of its operating system. */
  rules = json_object_get(exp, "rules");
  for (i = 0; i < json_array_size(rules); i++) {
    const json_t *r = json_array_get(rules, i);
    const char *os =
        json_string_value(json_object_get(r, "operating_system"));
    long want = c.per_os[0] + c.per_os[1] + c.per_os[2];

    if (os != NULL) {
      want = c.per_os[strcmp(os, "windows") == 0 ? 0
                       : strcmp(os, "mac") == 0  ? 1
                                                 : 2];
    } else {
      assert_string_equal(json_string_value(json_object_get(r, "type")),
                          "client_certificate");
    }
    assert_int_equal(get_int(r, "applicable"), want);
    applicable += want;
  }
  assert_int_equal(csv_rows(dir), applicable);
  json_decref(exp);
}

/*
 * basicConstraints cA must be the DER TRUE (0xff): OpenSSL writes any
 * other value it is given, and a strict reader refuses it.
 */
static void check_ca_true_is_der(const char *pem)
{
  static const unsigned char ca_true[] = { 0x30, 0x03, 0x01, 0x01, 0xff };
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  unsigned char *der = NULL;
  int len;

  assert_non_null(x);
  len = i2d_X509(x, &der);
  assert_true(len > 0);
  assert_non_null(memmem(der, (size_t)len, ca_true, sizeof(ca_true)));
  OPENSSL_free(der);
  X509_free(x);
  BIO_free(bio);
}

static void test_config_files_shape(void **state)
{
  small_fleets *fleets = *state;
  const char *dir = fleets->all_threads;
  json_t *rules, *signers, *result;
  size_t i, v1 = 0, v2 = 0, other = 0, no_locations = 0;

  rules = load_json(dir, "rules.json");
  assert_true(json_is_true(json_object_get(rules, "success")));
  assert_int_equal(json_array_size(json_object_get(rules, "errors")), 0);
  result = json_object_get(rules, "result");
  for (i = 0; i < json_array_size(result); i++) {
    json_t *r = json_array_get(result, i);
    const char *type = json_string_value(json_object_get(r, "type"));
    json_t *input = json_object_get(r, "input");

    if (strcmp(type, "client_certificate_v2") == 0) {
      v2++;
      no_locations += json_object_get(input, "locations") == NULL;
    } else if (strcmp(type, "client_certificate") == 0) {
      v1++;
      assert_int_equal(json_object_size(input), 2);
    } else {
      other++;
    }
  }
  assert_int_equal(v2, 6);
  assert_int_equal(v1, 1);
  assert_int_equal(other, 1);
  assert_int_equal(no_locations, 1);

  signers = load_json(dir, "signers.json");
  result = json_object_get(signers, "result");
  assert_int_equal(json_array_size(result), 3);
  for (i = 0; i < 3; i++) {
    const char *pem = json_string_value(
        json_object_get(json_array_get(result, i), "certificates"));

    assert_non_null(pem);
    assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    assert_true(json_is_true(
        json_object_get(json_array_get(result, i), "ca")));
    check_ca_true_is_der(pem);
  }
  json_decref(rules);
  json_decref(signers);
}

/* With no defect at all, every applicable device passes every rule. */
static void test_clean_fleet_passes(void **state)
{
  static const char *const args[] = {
    "--devices", "120", "--seed", "3", "--signers", "p256,ed25519",
    "--defect", "all=0", NULL
  };
  json_t *exp, *rules;
  char dir[64];
  size_t i;

  (void)state;
  generate(dir, sizeof(dir), args);
  exp = load_json(dir, "expected.json");
  check_arithmetic(exp);
  assert_int_equal(get_int(json_object_get(exp, "devices"), "malformed"), 0);
  assert_int_equal(
      get_int(json_object_get(exp, "certificates"), "malformed"), 0);
  rules = json_object_get(exp, "rules");
  for (i = 0; i < json_array_size(rules); i++) {
    json_t *r = json_array_get(rules, i);

    assert_true(get_int(r, "applicable") > 0);
    assert_int_equal(get_int(r, "pass"), get_int(r, "applicable"));
    assert_int_equal(json_object_size(json_object_get(r, "reasons")), 0);
  }
  json_decref(exp);
  remove_tree(dir);
}

/*
 * One defect on every rule's certificate and nothing else in the
 * stores: every applicable device must fail (or be unknown) with
 * exactly that reason.
 */
static void expect_all(const char *defect, const char *reason,
                       const char *verdict, fleet_counts *out)
{
  char rate[64];
  const char *args[] = {
    "--devices", "60", "--seed", "9", "--signers", "p256,rsa2048",
    "--certs-per-device", "0", "--defect", "all=0", "--defect", rate,
    NULL
  };
  json_t *exp, *rules;
  char dir[64];
  size_t i;

  snprintf(rate, sizeof(rate), "%s=1", defect);
  generate(dir, sizeof(dir), args);
  exp = load_json(dir, "expected.json");
  check_arithmetic(exp);
  rules = json_object_get(exp, "rules");
  for (i = 0; i < json_array_size(rules); i++) {
    json_t *r = json_array_get(rules, i);
    json_t *count = json_object_get(json_object_get(r, "reasons"), reason);

    assert_true(get_int(r, "applicable") > 0);
    assert_int_equal(get_int(r, verdict), get_int(r, "applicable"));
    assert_non_null(count);
    assert_int_equal(json_integer_value(count), get_int(r, "applicable"));
  }
  count_fleet(dir, 1, out);
  json_decref(exp);
  remove_tree(dir);
}

static void test_forced_defects(void **state)
{
  fleet_counts c;

  (void)state;
  expect_all("malformed_certificate", "malformed_certificate", "fail", &c);
  assert_int_equal(c.certs_malformed, c.certs);
  expect_all("unsupported_algorithm", "unsupported_algorithm", "fail", &c);
  assert_true(c.certs > 0);
  assert_int_equal(c.sig_oids_unsupported, c.certs);
  expect_all("weak_signature", "weak_signature", "fail", &c);
  assert_int_equal(c.sig_sha1, c.certs);
  expect_all("bad_signature", "bad_signature", "fail", &c);
  expect_all("not_yet_valid", "not_yet_valid", "fail", &c);
  expect_all("expired", "expired", "fail", &c);
  expect_all("no_certificate", "no_certificate", "fail", &c);
  assert_int_equal(c.certs, 0);
  expect_all("not_collected", "not_collected", "unknown", &c);
  assert_int_equal(c.certs, 0);
}

static void test_uncompressed_output(void **state)
{
  static const char *const args[] = {
    "--devices", "5", "--seed", "4", "--signers", "ed25519",
    "--uncompressed", NULL
  };
  char dir[64], path[128];
  size_t len = 0;
  char *data;

  (void)state;
  generate(dir, sizeof(dir), args);
  snprintf(path, sizeof(path), "%s/fleet-000.msgpack", dir);
  data = read_file(path, &len);
  assert_non_null(data);
  assert_int_equal((uint8_t)data[0], 0x84); /* a map of four: header */
  free(data);
  snprintf(path, sizeof(path), "%s/fleet-000.msgpack.zst", dir);
  assert_int_equal(access(path, F_OK), -1);
  remove_tree(dir);
}

static void test_sample_is_reproduced(void **state)
{
  static const char *const names[] = {
    "expected.json", "expected-devices.csv", "rules.json",
    "signers.json", "fleet-000.msgpack.zst", "fleet-001.msgpack.zst"
  };
  const char *source = getenv("CERTSCAN_SOURCE_DIR");
  char sample[512], dir[64];
  size_t i;

  (void)state;
  assert_non_null(source);
  snprintf(sample, sizeof(sample), "%s/datasets/sample", source);
  generate(dir, sizeof(dir), sample_args);
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    assert_true(same_file(sample, dir, names[i]));
  }
  remove_tree(dir);
}

/* Runs with `args`, wants exit 2 and exactly `message` on stderr. */
static void expect_usage_error(const char *const *args,
                               const char *message)
{
  char logs[64], path[128], want[512];
  size_t len = 0;
  char *err;

  make_tmp(logs, sizeof(logs));
  assert_int_equal(run_gen(logs, args, NULL), 2);
  snprintf(path, sizeof(path), "%s/stderr.txt", logs);
  err = read_file(path, &len);
  assert_non_null(err);
  snprintf(want, sizeof(want),
           "certscan-gen: %s\nTry 'certscan-gen --help'.\n", message);
  assert_string_equal(err, want);
  free(err);
  remove_tree(logs);
}

static void test_usage_errors(void **state)
{
  (void)state;
  expect_usage_error((const char *const[]){ "--devices", "3", NULL },
                     "--out DIR is required");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--signers", "rsa1024", NULL },
      "unknown signer algorithm 'rsa1024'");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--signers", ",", NULL },
      "--signers needs at least one algorithm");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--os-mix", "windows=5,bsd=1",
                             NULL },
      "bad --os-mix item 'bsd=1' (want OS=SHARE with OS windows, mac, "
      "linux or other)");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--os-mix", "mac=0", NULL },
      "--os-mix shares add up to zero");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--defect", "expired=1.5",
                             NULL },
      "bad --defect 'expired=1.5' (want NAME=RATE, RATE from 0 to 1)");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--defect", "bogus=0.1", NULL },
      "unknown defect 'bogus' (see --list-defects)");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--defect", "all=0.2", NULL },
      "the per-rule defect rates add up to 3.000, more than 1");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--shards", "0", NULL },
      "bad --shards '0' (want 1 to 1000)");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--devices", "-4", NULL },
      "bad --devices '-4' (want 0 to 4294967295)");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--at", "yesterday", NULL },
      "bad --at 'yesterday' (want RFC 3339, such as "
      "2026-12-01T00:00:00Z)");
  expect_usage_error(
      (const char *const[]){ "--out", "x", "--certs-per-device", "5-2",
                             NULL },
      "bad --certs-per-device '5-2' (want N up to 4 or MIN-MAX up to 8)");
  expect_usage_error((const char *const[]){ "--out", "x", "extra", NULL },
                     "unexpected argument 'extra'");
  expect_usage_error((const char *const[]){ "--bogus", NULL },
                     "unknown option or missing value: '--bogus'");
}

static void test_help(void **state)
{
  char logs[64], path[128];
  size_t len = 0;
  char *out;

  (void)state;
  make_tmp(logs, sizeof(logs));
  assert_int_equal(
      run_gen(logs, (const char *const[]){ "--help", NULL }, NULL), 0);
  snprintf(path, sizeof(path), "%s/stdout.txt", logs);
  out = read_file(path, &len);
  assert_non_null(out);
  assert_true(strncmp(out, "Usage: certscan-gen --out DIR", 29) == 0);
  free(out);
  assert_int_equal(
      run_gen(logs, (const char *const[]){ "--list-defects", NULL }, NULL),
      0);
  out = read_file(path, &len);
  assert_non_null(out);
  assert_non_null(strstr(out, "\nexpired "));
  assert_non_null(strstr(out, "\nmalformed_record "));
  free(out);
  remove_tree(logs);
}

int main(void)
{
  const struct CMUnitTest small[] = {
    cmocka_unit_test(test_same_seed_same_bytes),
    cmocka_unit_test(test_other_seed_other_bytes),
    cmocka_unit_test(test_counts_agree_with_records),
    cmocka_unit_test(test_config_files_shape),
  };
  const struct CMUnitTest others[] = {
    cmocka_unit_test(test_clean_fleet_passes),
    cmocka_unit_test(test_forced_defects),
    cmocka_unit_test(test_uncompressed_output),
    cmocka_unit_test(test_sample_is_reproduced),
    cmocka_unit_test(test_usage_errors),
    cmocka_unit_test(test_help),
  };
  int failed;

  failed = cmocka_run_group_tests_name("small fleet", small,
                                       make_small_fleets,
                                       remove_small_fleets);
  return failed + cmocka_run_group_tests_name("generator", others, NULL,
                                              NULL);
}
