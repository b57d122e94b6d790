/*
 * test_verify.c - the verify module against OpenSSL itself.
 *
 * The corpus is every certificate these tests know: the fixtures made
 * by make-fixtures.sh, changed copies of them (each with one defect,
 * signed again so that nothing else is wrong), the public vectors under
 * tests/data and the example signers. Two differentials run
 * over it: cs_verify_parse against OpenSSL's decoder (d2i_X509, and the
 * re-encoding giving back the same bytes), and cs_verify_check against
 * X509_verify and X509_NAME_cmp for every (certificate, signer) pair.
 * Where certscan is stricter than OpenSSL on purpose, the case is
 * listed below with the reason, and the test asserts the difference.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "cs_verify.h"
#include "verify_fixture.h"

#define CORPUS_MAX 256
#define SIGNERS_MAX 80
#define LABEL_MAX 128

/* 2026-12-01T00:00:00Z, the example fleet's evaluation time. */
#define AT_2026_12_01 INT64_C(1796083200)

/*
 * Counts over the corpus, which the fixtures' design fixes whatever
 * keys make-fixtures.sh drew:
 * - 71 certificates parse: 40 fixtures, 18 changed copies, 10 vectors
 *   and 3 example signers; 52 are usable signers (not the X25519 one);
 * - 61 pairs verify: 26 fixture leaves with their issuers (leaf-case
 *   with both case CAs), 13 self-signed fixture CAs, the two case CAs
 *   with each other, the intermediate with its root, 10 re-signed
 *   copies, 7 vector pairs from the manifest, 2 self-signed examples;
 * - 36 bad signatures: "Example RSA CA" exists with two keys (18 of its
 *   certificates and 10 copies against the impostor, the impostor
 *   against the real one), 6 flipped-byte copies, and the example
 *   Device Issuing CA against ca-root, which bears its issuer's name;
 * - 9 unsupported: the SHA3 leaf and the 3 odd-PSS copies against both
 *   RSA CAs, the Ed25519 copy with NULL parameters;
 * - 3 name matches only after folding: leaf-case and the two case CAs.
 */
#define ACCEPTED_COUNT 71
#define USABLE_SIGNERS 52
#define PAIRS_OK 61
#define PAIRS_UNSUPPORTED 9
#define PAIRS_BAD 36
#define PAIRS_NAME_FALLBACK 3

/* One certificate of the corpus. */
typedef struct corpus_cert {
  char name[LABEL_MAX];
  cs_bytes der;
} corpus_cert;

/* A signer of the differential, with OpenSSL's view of it. */
typedef struct test_signer {
  char name[LABEL_MAX];
  const cs_verify_signer *signer;
  X509 *x509;
} test_signer;

typedef struct world {
  cs_arena arena;
  char tmp[64];
  corpus_cert certs[CORPUS_MAX];
  size_t cert_count;
  cs_verify_signers *store;
  test_signer signers[SIGNERS_MAX];
  size_t signer_count;
} world;

static world *the_world;

/* Copies a name into a LABEL_MAX buffer, cut if it must be. */
static void set_name(char *dst, const char *src)
{
  size_t len = strlen(src);

  if (len >= LABEL_MAX) {
    len = LABEL_MAX - 1;
  }
  memmove(dst, src, len);
  dst[len] = '\0';
}

static void add_cert(world *w, const char *name, cs_bytes der)
{
  corpus_cert *c;

  assert_true(w->cert_count < CORPUS_MAX);
  assert_non_null(der.ptr);
  c = &w->certs[w->cert_count++];
  set_name(c->name, name);
  c->der = der;
}

static cs_bytes fixture(world *w, const char *name)
{
  char file[128];
  cs_bytes der;

  snprintf(file, sizeof(file), "%s.pem", name);
  der = fx_cert_der(&w->arena, fx_path(&w->arena, file));
  assert_non_null(der.ptr);
  return der;
}

static const cs_cert_facts *parse_ok(cs_arena *arena, cs_bytes der)
{
  cs_cert_facts *facts = cs_arena_alloc(arena, sizeof(*facts));
  cs_error err;
  cs_status status = cs_verify_parse(der, arena, facts, &err);

  if (status != CS_OK) {
    fail_msg("parse failed: %s", err.message);
  }
  return facts;
}

static const corpus_cert *find_cert(const world *w, const char *name)
{
  for (size_t i = 0; i < w->cert_count; i++) {
    if (strcmp(w->certs[i].name, name) == 0) {
      return &w->certs[i];
    }
  }
  fail_msg("no certificate %s in the corpus", name);
  return NULL;
}

static const test_signer *find_signer(const world *w, const char *name)
{
  for (size_t i = 0; i < w->signer_count; i++) {
    if (strcmp(w->signers[i].name, name) == 0) {
      return &w->signers[i];
    }
  }
  fail_msg("no signer %s", name);
  return NULL;
}

/*
 * Changed certificates. Each recipe starts from a fixture, changes one
 * thing and, when it has a key, signs the new TBS again with the
 * fixture's issuer, so that the change is the only defect.
 */
typedef struct tamper_env {
  cs_arena *arena;
  EVP_PKEY *key; /* NULL: keep the old signature */
  const char *md;
  const char *arg;
} tamper_env;

typedef cs_bytes (*tamper_fn)(const tamper_env *env, cs_bytes der);

static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };
static const uint8_t oid_o[] = { 0x55, 0x04, 0x0a };
static const uint8_t oid_bc[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_ku[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_eku[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };

#define OID(a) ((cs_bytes){ (a), sizeof(a) })

static cs_bytes copy_bytes(cs_arena *arena, cs_bytes in, size_t extra)
{
  uint8_t *out = cs_arena_alloc(arena, in.len + extra + 1);

  memcpy(out, in.ptr, in.len);
  return (cs_bytes){ out, in.len };
}

static cs_bytes rebuilt(const tamper_env *env, const fx_cert *c)
{
  return fx_cert_join(env->arena, c, env->key, env->md);
}

static cs_bytes t_flip_last(const tamper_env *env, cs_bytes der)
{
  cs_bytes out = copy_bytes(env->arena, der, 0);

  ((uint8_t *)out.ptr)[out.len - 1] ^= 0x01;
  return out;
}

/* Changes the first letter of the subject CN named in `arg`. */
static cs_bytes t_flip_cn(const tamper_env *env, cs_bytes der)
{
  cs_bytes out = copy_bytes(env->arena, der, 0);
  uint8_t *at = memmem(out.ptr, out.len, env->arg, strlen(env->arg));

  assert_non_null(at);
  at[0] ^= 0x01;
  return out;
}

static cs_bytes t_trailing_byte(const tamper_env *env, cs_bytes der)
{
  cs_bytes out = copy_bytes(env->arena, der, 1);

  ((uint8_t *)out.ptr)[out.len++] = 0x00;
  return out;
}

/* The outer SEQUENCE with a three-octet length where two suffice. */
static cs_bytes t_outer_long_length(const tamper_env *env, cs_bytes der)
{
  cs_bytes pieces[2];
  uint8_t header[5] = { 0x30, 0x83, 0x00, der.ptr[2], der.ptr[3] };

  pieces[0] = (cs_bytes){ header, sizeof(header) };
  pieces[1] = fx_contents(der);
  return fx_cat(env->arena, 2, pieces);
}

static cs_bytes t_outer_indefinite(const tamper_env *env, cs_bytes der)
{
  cs_bytes pieces[3];

  pieces[0] = FX_LIT("\x30\x80");
  pieces[1] = fx_contents(der);
  pieces[2] = FX_LIT("\x00\x00");
  return fx_cat(env->arena, 3, pieces);
}

static cs_bytes t_serial_long_length(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes serial, pieces[2];
  uint8_t header[3] = { 0x02, 0x81, 0 };

  fx_cert_split(der, &c);
  serial = fx_contents(c.tbs[FX_SERIAL]);
  header[2] = (uint8_t)serial.len;
  pieces[0] = (cs_bytes){ header, sizeof(header) };
  pieces[1] = serial;
  c.tbs[FX_SERIAL] = fx_cat(env->arena, 2, pieces);
  return rebuilt(env, &c);
}

/* Replaces the TBS field at index arg[0]-'0' with the bytes after it. */
static cs_bytes t_field(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  size_t index = (size_t)(env->arg[0] - '0');
  size_t len = (size_t)(unsigned char)env->arg[1];

  fx_cert_split(der, &c);
  c.tbs[index] = (cs_bytes){ (const uint8_t *)env->arg + 2, len };
  return rebuilt(env, &c);
}

/* The subject as one attribute: arg = oid-byte tag value (see below). */
static cs_bytes t_subject(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  const uint8_t *a = (const uint8_t *)env->arg;
  cs_bytes oid = a[0] == 'C' ? OID(oid_cn) : OID(oid_o);
  cs_bytes value = { a + 3, a[2] };

  fx_cert_split(der, &c);
  c.tbs[FX_SUBJECT] = fx_name1(env->arena, oid, a[1], value);
  return rebuilt(env, &c);
}

/* notBefore replaced: arg = tag byte, then the time text. */
static cs_bytes t_not_before(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes times[2], text;

  fx_cert_split(der, &c);
  fx_children(fx_contents(c.tbs[FX_VALIDITY]), times, 2);
  text = (cs_bytes){ (const uint8_t *)env->arg + 1, strlen(env->arg) - 1 };
  times[0] = fx_enc(env->arena, (uint8_t)env->arg[0], text);
  c.tbs[FX_VALIDITY] = fx_enc(env->arena, 0x30, fx_cat(env->arena, 2, times));
  return rebuilt(env, &c);
}

/* notAfter as GeneralizedTime for a year UTCTime could hold. */
static cs_bytes t_not_after_gen(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes times[2];

  fx_cert_split(der, &c);
  fx_children(fx_contents(c.tbs[FX_VALIDITY]), times, 2);
  times[1] = fx_enc(env->arena, 0x18, FX_LIT("20300101000000Z"));
  c.tbs[FX_VALIDITY] = fx_enc(env->arena, 0x30, fx_cat(env->arena, 2, times));
  return rebuilt(env, &c);
}

/* The extensions of `c`, into `exts`; their count. */
static size_t extensions_of(const fx_cert *c, cs_bytes *exts, size_t max)
{
  cs_bytes seq = fx_contents(fx_contents(c->tbs[FX_EXTENSIONS]));

  return fx_children(seq, exts, max);
}

static size_t find_ext(const cs_bytes *exts, size_t count, cs_bytes oid)
{
  for (size_t i = 0; i < count; i++) {
    cs_bytes parts[1];

    fx_children(fx_contents(exts[i]), parts, 1);
    if (fx_contents(parts[0]).len == oid.len &&
        memcmp(fx_contents(parts[0]).ptr, oid.ptr, oid.len) == 0) {
      return i;
    }
  }
  fail_msg("extension not found");
  return 0;
}

static cs_bytes t_duplicate_extension(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes exts[17];
  size_t n;

  fx_cert_split(der, &c);
  n = extensions_of(&c, exts, 16);
  exts[n] = exts[0];
  c.tbs[FX_EXTENSIONS] = fx_extensions(env->arena, exts, n + 1);
  return rebuilt(env, &c);
}

/*
 * One extension rebuilt: arg[0] names it (B basicConstraints, K
 * keyUsage, E extendedKeyUsage, S subjectAltName), arg[1] is the
 * critical flag ('-' none, '0' FALSE, '1' 0x01, 'T' 0xff), and when
 * arg[2] is a length byte the value is replaced by the bytes after it.
 */
static cs_bytes t_extension(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes exts[16], parts[3], ext[3];
  size_t total, i, n, k = 0;
  const char *a = env->arg;
  cs_bytes oid = a[0] == 'B'   ? OID(oid_bc)
                 : a[0] == 'K' ? OID(oid_ku)
                 : a[0] == 'E' ? OID(oid_eku)
                               : OID(oid_san);

  fx_cert_split(der, &c);
  total = extensions_of(&c, exts, 16);
  i = find_ext(exts, total, oid);
  n = fx_children(fx_contents(exts[i]), parts, 3);
  ext[k++] = parts[0];
  if (a[1] != '-') {
    ext[k++] = a[1] == '0'   ? FX_LIT("\x01\x01\x00")
               : a[1] == '1' ? FX_LIT("\x01\x01\x01")
                             : FX_LIT("\x01\x01\xff");
  }
  if (a[2] != '\0') {
    cs_bytes value = { (const uint8_t *)a + 3, (size_t)a[2] };

    ext[k++] = fx_enc(env->arena, 0x04, value);
  } else {
    ext[k++] = parts[n - 1];
  }
  exts[i] = fx_enc(env->arena, 0x30, fx_cat(env->arena, k, ext));
  c.tbs[FX_EXTENSIONS] = fx_extensions(env->arena, exts, total);
  return rebuilt(env, &c);
}

/* A field appended to the TBS after the extensions. */
static cs_bytes t_tbs_trailing(const tamper_env *env, cs_bytes der)
{
  fx_cert c;

  fx_cert_split(der, &c);
  c.tbs[c.tbs_count++] = FX_LIT("\x05\x00");
  return rebuilt(env, &c);
}

/* issuerUniqueID and subjectUniqueID, before the extensions. */
static cs_bytes t_unique_ids(const tamper_env *env, cs_bytes der)
{
  fx_cert c;

  fx_cert_split(der, &c);
  c.tbs[FX_EXTENSIONS + 2] = c.tbs[FX_EXTENSIONS];
  c.tbs[FX_EXTENSIONS] = FX_LIT("\x81\x02\x00\xaa");
  c.tbs[FX_EXTENSIONS + 1] = FX_LIT("\x82\x03\x04\xab\xf0");
  c.tbs_count += 2;
  return rebuilt(env, &c);
}

/* An extension appended: arg[0] is its length, the DER follows. */
static cs_bytes t_extra_extension(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes exts[17];
  size_t n;

  fx_cert_split(der, &c);
  n = extensions_of(&c, exts, 16);
  exts[n] = (cs_bytes){ (const uint8_t *)env->arg + 1, (size_t)env->arg[0] };
  c.tbs[FX_EXTENSIONS] = fx_extensions(env->arena, exts, n + 1);
  return rebuilt(env, &c);
}

/* The EC key's algorithm without its curve. */
static cs_bytes t_ec_key_no_curve(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes parts[2], alg[2];

  fx_cert_split(der, &c);
  fx_children(fx_contents(c.tbs[FX_SPKI]), parts, 2);
  fx_children(fx_contents(parts[0]), alg, 2);
  parts[0] = fx_enc(env->arena, 0x30, alg[0]);
  c.tbs[FX_SPKI] = fx_enc(env->arena, 0x30, fx_cat(env->arena, 2, parts));
  return rebuilt(env, &c);
}

/* The signature with one unused bit, that bit cleared. */
static cs_bytes t_sig_unused_bit(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes bits;
  uint8_t *copy;

  fx_cert_split(der, &c);
  bits = copy_bytes(env->arena, fx_contents(c.sig), 0);
  copy = (uint8_t *)bits.ptr;
  copy[0] = 1;
  copy[bits.len - 1] &= 0xfe;
  c.sig = fx_enc(env->arena, 0x03, bits);
  return rebuilt(env, &c);
}

static cs_bytes t_sig_empty(const tamper_env *env, cs_bytes der)
{
  fx_cert c;

  fx_cert_split(der, &c);
  c.sig = FX_LIT("\x03\x00");
  return rebuilt(env, &c);
}

/*
 * RSASSA-PSS AlgorithmIdentifiers: 'T' trailerField 2, 'M' a mask
 * generation function that is not MGF1, 'N' no parameters at all.
 */
static cs_bytes pss_alg(cs_arena *a, char variant)
{
  cs_bytes sha256 = FX_LIT("\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04"
                           "\x02\x01\x05\x00");
  cs_bytes pss_oid = FX_LIT("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a");
  cs_bytes mgf[2], fields[4], alg[2];
  size_t n = 0;

  mgf[0] = variant == 'M'
               ? FX_LIT("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x09")
               : FX_LIT("\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08");
  mgf[1] = sha256;
  fields[n++] = fx_enc(a, 0xa0, sha256);
  fields[n++] = fx_enc(a, 0xa1, fx_enc(a, 0x30, fx_cat(a, 2, mgf)));
  fields[n++] = FX_LIT("\xa2\x03\x02\x01\x20");
  if (variant == 'T') {
    fields[n++] = FX_LIT("\xa3\x03\x02\x01\x02");
  }
  alg[0] = pss_oid;
  alg[1] = fx_enc(a, 0x30, fx_cat(a, n, fields));
  return fx_enc(a, 0x30, fx_cat(a, variant == 'N' ? 1 : 2, alg));
}

/* Both AlgorithmIdentifiers replaced: a PSS variant or arg's bytes. */
static cs_bytes t_algs(const tamper_env *env, cs_bytes der)
{
  fx_cert c;
  cs_bytes alg;

  if (env->arg[0] == 'P') {
    alg = pss_alg(env->arena, env->arg[1]);
  } else {
    alg = (cs_bytes){ (const uint8_t *)env->arg + 1, (size_t)env->arg[0] };
  }
  fx_cert_split(der, &c);
  c.alg = alg;
  c.tbs[FX_SIG_ALG] = alg;
  return rebuilt(env, &c);
}

typedef struct tamper {
  const char *name;
  const char *base;   /* the fixture it starts from */
  const char *issuer; /* the fixture that issued it, and signs again */
  bool resign;
  tamper_fn fn;
  const char *arg;
  const char *error; /* what cs_verify_parse says; NULL: it parses */
  int check;         /* cs_verify_check against the issuer, or -1 */
} tamper;

#define NO_CHECK (-1)

/* Byte offsets in the messages are stable: the fixtures' layout is. */
static const tamper tampers[] = {
  { "signature byte flipped", "leaf-rsa", "ca-rsa", false, t_flip_last, "",
    NULL, CS_SIG_CHECK_BAD_SIGNATURE },
  { "ECDSA signature byte flipped", "leaf-p256", "ca-p256", false, t_flip_last,
    "", NULL, CS_SIG_CHECK_BAD_SIGNATURE },
  { "Ed25519 signature byte flipped", "leaf-ed25519", "ca-ed25519", false,
    t_flip_last, "", NULL, CS_SIG_CHECK_BAD_SIGNATURE },
  { "TBS byte flipped", "leaf-rsa", "ca-rsa", false, t_flip_cn,
    "rsa.example.com", NULL, CS_SIG_CHECK_BAD_SIGNATURE },
  { "trailing byte", "leaf-rsa", "ca-rsa", false, t_trailing_byte, "",
    "after the certificate: trailing bytes (byte 681)", NO_CHECK },
  { "outer length not minimal", "leaf-rsa", "ca-rsa", false,
    t_outer_long_length, "",
    "Certificate: non-minimal length encoding (byte 1)", NO_CHECK },
  { "outer length indefinite", "leaf-rsa", "ca-rsa", false, t_outer_indefinite,
    "", "Certificate: indefinite length (BER, not DER) (byte 1)", NO_CHECK },
  { "serial length not minimal", "leaf-rsa", "ca-rsa", true,
    t_serial_long_length, "",
    "serialNumber: non-minimal length encoding (byte 14)", NO_CHECK },
  { "duplicate extension", "leaf-rsa", "ca-rsa", true, t_duplicate_extension,
    "", "extension: listed twice (byte 405)", NO_CHECK },
  { "explicit v1", "leaf-rsa", "ca-rsa", true, t_field,
    "0\x05\xa0\x03\x02\x01\x00",
    "version: default v1 encoded explicitly (byte 8)", NO_CHECK },
  { "version 4", "leaf-rsa", "ca-rsa", true, t_field,
    "0\x05\xa0\x03\x02\x01\x03", "version: not v1, v2 or v3 (byte 10)",
    NO_CHECK },
  { "inner algorithm differs", "leaf-rsa", "ca-rsa", true, t_field,
    "2\x0f\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c\x05\x00",
    "signature: differs from the outer signatureAlgorithm (byte 17)",
    NO_CHECK },
  { "unused bit in signature", "leaf-rsa", "ca-rsa", false, t_sig_unused_bit,
    "", "signatureValue: unused bits in the signature (byte 420)", NO_CHECK },
  { "empty signature", "leaf-rsa", "ca-rsa", false, t_sig_empty, "",
    "signatureValue: empty BIT STRING (byte 420)", NO_CHECK },
  { "UTCTime without seconds", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x17"
    "2501010000Z",
    "notBefore: UTCTime is not a valid YYMMDDHHMMSSZ (byte 84)", NO_CHECK },
  { "UTCTime with an offset", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x17"
    "250101000000+0100",
    "notBefore: UTCTime is not a valid YYMMDDHHMMSSZ (byte 84)", NO_CHECK },
  { "GeneralizedTime with a fraction", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x18"
    "20250101000000.5Z",
    "notBefore: GeneralizedTime is not a valid YYYYMMDDHHMMSSZ (byte 84)",
    NO_CHECK },
  { "GeneralizedTime without Z", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x18"
    "20250101000000",
    "notBefore: GeneralizedTime is not a valid YYYYMMDDHHMMSSZ (byte 84)",
    NO_CHECK },
  { "month 13", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x17"
    "251301000000Z",
    "notBefore: UTCTime is not a valid YYMMDDHHMMSSZ (byte 84)", NO_CHECK },
  { "February 30", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x17"
    "250230000000Z",
    "notBefore: UTCTime is not a valid YYMMDDHHMMSSZ (byte 84)", NO_CHECK },
  { "second 60", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x17"
    "250101000060Z",
    "notBefore: UTCTime is not a valid YYMMDDHHMMSSZ (byte 84)", NO_CHECK },
  { "time of another type", "leaf-rsa", "ca-rsa", true, t_not_before,
    "\x13"
    "250101000000Z",
    "notBefore: not a UTCTime or GeneralizedTime (byte 84)", NO_CHECK },
  { "GeneralizedTime in 2030", "leaf-rsa", "ca-rsa", true, t_not_after_gen, "",
    NULL, CS_SIG_CHECK_OK },
  { "empty serial", "leaf-rsa", "ca-rsa", true, t_field, "1\x02\x02\x00",

    "serialNumber: empty INTEGER (byte 13)", NO_CHECK },
  { "serial with a padding octet", "leaf-rsa", "ca-rsa", true, t_field,
    "1\x04\x02\x02\x00\x01",
    "serialNumber: INTEGER with a redundant leading octet (byte 13)",
    NO_CHECK },
  { "serial zero", "leaf-rsa", "ca-rsa", true, t_field, "1\x03\x02\x01\x00",
    NULL, CS_SIG_CHECK_OK },
  { "serial negative", "leaf-rsa", "ca-rsa", true, t_field, "1\x03\x02\x01\xff",
    NULL, CS_SIG_CHECK_OK },
  { "CN with a NUL", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x0c\x20"
    "nul.example.com\0evil.example.org",
    NULL, CS_SIG_CHECK_OK },
  { "CN as UniversalString", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x1c\x18"
    "\0\0\0Z\0\0\0\xfc\0\0\0r\0\0\0i\0\0\0c\0\0\0h",
    NULL, CS_SIG_CHECK_OK },
  { "CN BMPString of odd length", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x1e\x03"
    "\0A\0",
    "subject: string does not decode to Unicode (byte 125)", NO_CHECK },
  { "CN BMPString with a surrogate", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x1e\x04"
    "\xd8\x3d\xde\x00",
    "subject: string does not decode to Unicode (byte 125)", NO_CHECK },
  { "CN UniversalString past U+10FFFF", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x1c\x04"
    "\x00\x11\x00\x00",
    "subject: string does not decode to Unicode (byte 125)", NO_CHECK },
  { "CN bad UTF-8", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x0c\x02"
    "\xc0\x80",
    "subject: string does not decode to Unicode (byte 125)", NO_CHECK },
  { "CN as BIT STRING", "leaf-rsa", "ca-rsa", true, t_subject,
    "C\x03\x02"
    "\x00\x61",
    "subject: commonName is not a string (byte 125)", NO_CHECK },
  { "O as BIT STRING", "leaf-rsa", "ca-rsa", true, t_subject,
    "O\x03\x02"
    "\x00\x61",
    NULL, CS_SIG_CHECK_OK },
  { "O as VisibleString", "leaf-rsa", "ca-rsa", true, t_subject,
    "O\x1a\x07"
    "Example",
    "subject: attribute value of a type Names do not allow (byte 125)",
    NO_CHECK },
  { "empty subject RDN", "leaf-rsa", "ca-rsa", true, t_field,
    "5\x04\x30\x02\x31\x00", NULL, CS_SIG_CHECK_OK },
  { "critical encoded FALSE", "leaf-rsa", "ca-rsa", true, t_extension, "B0",

    "critical: default FALSE encoded explicitly (byte 269)", NO_CHECK },
  { "critical encoded 0x01", "leaf-rsa", "ca-rsa", true, t_extension, "K1",

    "critical: BOOLEAN TRUE not encoded as 0xff (byte 280)", NO_CHECK },
  { "extension OID padded", "leaf-rsa", "ca-rsa", true, t_extra_extension,
    "\x07\x30\x05\x06\x03\x2a\x80\x01",
    "extnID: OBJECT IDENTIFIER with a padded sub-identifier (byte 407)",
    NO_CHECK },
  { "unknown critical extension", "leaf-rsa", "ca-rsa", true, t_extra_extension,
    "\x0c\x30\x0a\x06\x03\x2a\x03\x04\x01\x01\xff\x04\x00", NULL,
    CS_SIG_CHECK_OK },
  { "empty extensions", "leaf-rsa", "ca-rsa", true, t_field,
    "7\x04\xa3\x02\x30\x00", NULL, CS_SIG_CHECK_OK },
  { "TBS trailing field", "leaf-rsa", "ca-rsa", true, t_tbs_trailing, "",

    "TBSCertificate: trailing bytes (byte 405)", NO_CHECK },
  { "unique identifiers", "leaf-rsa", "ca-rsa", true, t_unique_ids, "", NULL,
    CS_SIG_CHECK_OK },
  { "EKU holds an INTEGER", "leaf-rsa", "ca-rsa", true, t_extension,
    "E-\x05\x30\x03\x02\x01\x01", "extendedKeyUsage: unexpected tag (byte 300)",
    NO_CHECK },
  { "SAN choice [9]", "leaf-rsa", "ca-rsa", true, t_extension,
    "S-\x05\x30\x03\x89\x01\x61",
    "subjectAltName: not a GeneralName (byte 320)", NO_CHECK },
  { "basicConstraints cA FALSE", "leaf-rsa", "ca-rsa", true, t_extension,
    "B-\x05\x30\x03\x01\x01\x00",
    "basicConstraints: default FALSE encoded explicitly (byte 273)", NO_CHECK },
  { "EC key without a curve", "leaf-rsa", "ca-rsa", true, t_ec_key_no_curve, "",
    "subjectPublicKeyInfo: EC parameters are not a named curve (byte 167)",
    NO_CHECK },
  { "PSS trailerField 2", "leaf-pss", "ca-rsa", false, t_algs, "PT", NULL,
    CS_SIG_CHECK_UNSUPPORTED },
  { "PSS mask not MGF1", "leaf-pss", "ca-rsa", false, t_algs, "PM", NULL,
    CS_SIG_CHECK_UNSUPPORTED },
  { "PSS without parameters", "leaf-pss", "ca-rsa", false, t_algs, "PN", NULL,
    CS_SIG_CHECK_UNSUPPORTED },
  { "Ed25519 with NULL parameters", "leaf-ed25519", "ca-ed25519", false, t_algs,
    "\x09\x30\x07\x06\x03\x2b\x65\x70\x05\x00", NULL,
    CS_SIG_CHECK_UNSUPPORTED },
};

#define TAMPER_COUNT (sizeof(tampers) / sizeof(tampers[0]))

static cs_bytes make_tamper(cs_arena *arena, const tamper *t, cs_bytes base)
{
  tamper_env env = { arena, NULL, NULL, t->arg };
  cs_bytes out;

  if (t->resign) {
    env.key = fx_key(t->issuer);
    assert_non_null(env.key);
    env.md = strcmp(t->issuer, "ca-ed25519") == 0 ? NULL : "SHA256";
  }
  out = t->fn(&env, base);
  EVP_PKEY_free(env.key);
  return out;
}

static const char *const vectors[] = {
  "certificate-transparency/test/testdata/ca-cert.pem",
  "certificate-transparency/test/testdata/intermediate-cert.pem",
  "certificate-transparency/test/testdata/test-cert.pem",
  "certificate-transparency/test/testdata/test-intermediate-cert.pem",
  "certificate-transparency/test/testdata/test-embedded-cert.pem",
  "certificate-transparency/test/testdata/test-corrupted.pem",
  "certificate-transparency/python/ct/crypto/testdata/multiple_cn.pem",
  "certificate-transparency/python/ct/crypto/testdata/null_chars.pem",
  "certificate-transparency/python/ct/crypto/testdata/"
  "cert_bad_utf8_subject.pem",
  "certificate-transparency/python/ct/crypto/testdata/cn_utf8.pem",
  "certificate-transparency/python/ct/crypto/testdata/"
  "asn1_indefinite_length_encoding.pem",
  "certificate-transparency/python/ct/crypto/testdata/"
  "expiration_not_well_defined.pem",
  "certificate-transparency/python/ct/crypto/testdata/multiple_eku.pem",
  "certificate-transparency/python/ct/crypto/testdata/dsa_with_sha256.der",
  "x509-limbo/limbo/_assets/explicit_curve_ca.pem",
  "x509-limbo/limbo/_assets/explicit_curve_leaf.pem",
};

#define VECTOR_COUNT (sizeof(vectors) / sizeof(vectors[0]))

/* "vector:<file name>" for a vector path. */
static void vector_name(char *out, size_t size, const char *path)
{
  snprintf(out, size, "vector:%s", strrchr(path, '/') + 1);
}

static char *vector_path(cs_arena *arena, const char *rel)
{
  char *dir = fx_testdata(arena, "vectors");
  size_t len = strlen(dir) + strlen(rel) + 2;
  char *out = cs_arena_alloc(arena, len);

  snprintf(out, len, "%s/%s", dir, rel);
  return out;
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pem of the fixtures folder, in name order. */
static void add_fixtures(world *w)
{
  DIR *d = opendir(fx_dir());
  char *names[128];
  size_t count = 0;
  struct dirent *e;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL && count < 128) {
    size_t len = strlen(e->d_name);

    if (len > 4 && strcmp(e->d_name + len - 4, ".pem") == 0) {
      names[count] = cs_arena_strndup(&w->arena, e->d_name, len - 4);
      count++;
    }
  }
  closedir(d);
  qsort(names, count, sizeof(names[0]), compare_strings);

  /* make-fixtures.sh writes 40 certificates. */
  assert_int_equal(count, 40);
  for (size_t i = 0; i < count; i++) {
    char label[128];

    snprintf(label, sizeof(label), "fixture:%s", names[i]);
    add_cert(w, label, fixture(w, names[i]));
  }
}

static void add_tampers(world *w)
{
  for (size_t i = 0; i < TAMPER_COUNT; i++) {
    const tamper *t = &tampers[i];
    char label[128];

    snprintf(label, sizeof(label), "tamper:%s", t->name);
    add_cert(w, label, make_tamper(&w->arena, t, fixture(w, t->base)));
  }
}

static void add_vectors(world *w)
{
  for (size_t i = 0; i < VECTOR_COUNT; i++) {
    char label[128];

    vector_name(label, sizeof(label), vectors[i]);
    add_cert(w, label,
             fx_cert_der(&w->arena, vector_path(&w->arena, vectors[i])));
  }
}

/* Writes `der` as <dir>/<uuid>.pem; the uuid ends in `index`. */
static void write_signer_pem(const char *dir, size_t index, cs_bytes der)
{
  char path[512];
  FILE *f;

  snprintf(path, sizeof(path), "%s/00000000-0000-4000-8000-%012zu.pem", dir,
           index);
  f = fopen(path, "w");
  assert_non_null(f);
  assert_true(PEM_write(f, "CERTIFICATE", "", der.ptr, (long)der.len) > 0);
  fclose(f);
}

/* Removes a folder and the files in it. */
static void remove_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[1024];

  if (d == NULL) {
    return;
  }
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
      unlink(path);
    }
  }
  closedir(d);
  rmdir(dir);
}

/*
 * The signers: every fixture and vector as a <uuid>.pem in one folder,
 * and the example signers.json. Usable ones join the differential.
 */
static void load_signers(world *w)
{
  char dir[128];
  char json[512];
  const char *names[CORPUS_MAX];
  size_t count = 0;
  cs_error err;

  snprintf(dir, sizeof(dir), "%s/signers", w->tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  for (size_t i = 0; i < w->cert_count; i++) {
    const corpus_cert *c = &w->certs[i];

    if (strncmp(c->name, "fixture:", 8) == 0 ||
        strncmp(c->name, "vector:", 7) == 0) {
      write_signer_pem(dir, count, c->der);
      names[count++] = c->name;
    }
  }

  w->store = cs_verify_signers_new();
  assert_non_null(w->store);
  assert_int_equal(cs_verify_signers_load(w->store, dir, &err), CS_OK);
  snprintf(json, sizeof(json), "%s",
           fx_testdata(&w->arena, "example/signers.json"));
  assert_int_equal(cs_verify_signers_load(w->store, json, &err), CS_OK);
  assert_int_equal(cs_verify_signers_count(w->store), count + 3);
  remove_dir(dir);

  for (size_t i = 0; i < count + 3; i++) {
    const cs_verify_signer *s = cs_verify_signers_get0(w->store, i);
    const cs_cert_facts *facts = cs_verify_signer_facts(s);
    test_signer *t = &w->signers[w->signer_count++];
    const unsigned char *p;

    if (i < count) {
      set_name(t->name, names[i]);
    } else {
      snprintf(t->name, sizeof(t->name), "example:%s", cs_verify_signer_id(s));
      add_cert(w, t->name, facts->der);
    }
    t->signer = s;
    if (facts != NULL) {
      p = facts->der.ptr;
      t->x509 = d2i_X509(NULL, &p, (long)facts->der.len);
      assert_non_null(t->x509);
    }
  }
}

static int world_setup(void **state)
{
  world *w = calloc(1, sizeof(*w));

  cs_arena_init(&w->arena, 1 << 16);
  /* mkdtemp's template: the prefix, then six X to replace. */
  snprintf(w->tmp, sizeof(w->tmp), "/tmp/cs-verify-");
  memset(w->tmp + strlen(w->tmp), 'X', 6);
  if (mkdtemp(w->tmp) == NULL) {
    return -1;
  }
  add_fixtures(w);
  add_tampers(w);
  add_vectors(w);
  load_signers(w);
  the_world = w;
  *state = w;
  return 0;
}

static int world_teardown(void **state)
{
  world *w = *state;

  if (w == NULL) {
    return 0;
  }
  for (size_t i = 0; i < w->signer_count; i++) {
    X509_free(w->signers[i].x509);
  }
  cs_verify_signers_free(w->store);
  remove_dir(w->tmp);
  cs_arena_cleanup(&w->arena);
  free(w);
  return 0;
}

/*
 * OpenSSL accepts a certificate when d2i_X509 reads all of it and the
 * encoders give back the same bytes: the whole certificate (i2d_X509)
 * and the TBS re-encoded from what was decoded (i2d_re_X509_tbs, which
 * catches BER that d2i_X509 tolerates and caches).
 */
static bool openssl_accepts(cs_bytes der)
{
  const unsigned char *p = der.ptr;
  X509 *x = d2i_X509(NULL, &p, (long)der.len);
  unsigned char *out = NULL;
  cs_bytes cert_parts[1];
  bool ok;
  int len;

  if (x == NULL || p != der.ptr + der.len) {
    X509_free(x);
    ERR_clear_error();
    return false;
  }
  len = i2d_X509(x, &out);
  ok = len == (int)der.len && memcmp(out, der.ptr, der.len) == 0;
  OPENSSL_free(out);

  out = NULL;
  fx_children(fx_contents(der), cert_parts, 1);
  len = i2d_re_X509_tbs(x, &out);
  ok = ok && len == (int)cert_parts[0].len &&
       memcmp(out, cert_parts[0].ptr, cert_parts[0].len) == 0;
  OPENSSL_free(out);
  X509_free(x);
  ERR_clear_error();
  return ok;
}

/*
 * Where cs_verify_parse refuses what OpenSSL's decoder accepts, on
 * purpose. Every entry must be met, and met as exactly this difference.
 */
typedef struct stricter {
  const char *cert;
  const char *reason;
} stricter;

#define OPAQUE_EXTENSION                                                       \
  "OpenSSL leaves extension values undecoded until asked; certscan "           \
  "reads EKU, SAN, basicConstraints and keyUsage and needs them whole"
#define TIME_TEXT                                                              \
  "OpenSSL's decoder does not read time text (ASN1_TIME_check would "          \
  "refuse it); RFC 5280 4.1.2.5 allows only YYMMDDHHMMSSZ and "                \
  "YYYYMMDDHHMMSSZ"
#define EXPLICIT_CURVE                                                         \
  "RFC 5480 requires a named curve; OpenSSL decodes keys lazily and "          \
  "would verify with explicit parameters (CVE-2020-0601 class)"
#define DUPLICATE                                                              \
  "RFC 5280 4.2: an extension appears at most once; OpenSSL keeps both"

static const stricter parse_stricter[] = {
  { "tamper:duplicate extension", DUPLICATE },
  { "vector:multiple_eku.pem", DUPLICATE },
  { "tamper:explicit v1",
    "DER never encodes a DEFAULT value; OpenSSL writes back what it read" },
  { "tamper:version 4", "only v1, v2 and v3 exist" },
  { "tamper:critical encoded FALSE",
    "DER never encodes a DEFAULT value; OpenSSL writes back what it read" },
  { "tamper:critical encoded 0x01",
    "DER encodes TRUE as 0xff only; OpenSSL writes back the byte it read" },
  { "tamper:inner algorithm differs",
    "RFC 5280 4.1.1.2; OpenSSL decodes it and only X509_verify refuses" },
  { "tamper:unused bit in signature",
    "a signature is whole octets; only X509_verify refuses the count" },
  { "tamper:UTCTime without seconds", TIME_TEXT },
  { "tamper:UTCTime with an offset", TIME_TEXT },
  { "tamper:GeneralizedTime with a fraction", TIME_TEXT },
  { "tamper:GeneralizedTime without Z", TIME_TEXT },
  { "tamper:month 13", TIME_TEXT },
  { "tamper:February 30", TIME_TEXT },
  { "tamper:second 60", TIME_TEXT },
  { "tamper:CN as BIT STRING",
    "a commonName that is not a string cannot be compared with a rule" },
  { "tamper:EKU holds an INTEGER", OPAQUE_EXTENSION },
  { "tamper:SAN choice [9]", OPAQUE_EXTENSION },
  { "tamper:basicConstraints cA FALSE", OPAQUE_EXTENSION },
  { "tamper:EC key without a curve", EXPLICIT_CURVE },
  { "vector:explicit_curve_ca.pem", EXPLICIT_CURVE },
  { "vector:explicit_curve_leaf.pem", EXPLICIT_CURVE },
};

#define STRICTER_COUNT (sizeof(parse_stricter) / sizeof(parse_stricter[0]))

static const stricter *find_stricter(const char *cert)
{
  for (size_t i = 0; i < STRICTER_COUNT; i++) {
    if (strcmp(parse_stricter[i].cert, cert) == 0) {
      return &parse_stricter[i];
    }
  }
  return NULL;
}

static bool parses(cs_bytes der)
{
  cs_arena arena;
  cs_cert_facts facts;
  cs_error err;
  cs_status status;

  cs_arena_init(&arena, 1024);
  status = cs_verify_parse(der, &arena, &facts, &err);
  cs_arena_cleanup(&arena);
  assert_true(status == CS_OK || status == CS_ERR_CERT_MALFORMED);
  return status == CS_OK;
}

static void test_parse_agrees_with_openssl(void **state)
{
  world *w = *state;
  size_t met = 0;
  size_t accepted = 0;
  size_t wrong = 0;

  for (size_t i = 0; i < w->cert_count; i++) {
    const corpus_cert *c = &w->certs[i];
    bool ours = parses(c->der);
    bool theirs = openssl_accepts(c->der);
    const stricter *s = find_stricter(c->name);

    if (s != NULL && (ours || !theirs)) {
      print_error("%s: listed as stricter (%s) but ours=%d openssl=%d\n",
                  c->name, s->reason, ours, theirs);
      wrong++;
    } else if (s == NULL && ours != theirs) {
      print_error("%s: cs_verify_parse %s, OpenSSL %s\n", c->name,
                  ours ? "accepts" : "refuses", theirs ? "accepts" : "refuses");
      wrong++;
    }
    met += s != NULL;
    accepted += ours;
  }
  assert_int_equal(wrong, 0);
  assert_int_equal(met, STRICTER_COUNT);
  assert_int_equal(w->cert_count, 40 + TAMPER_COUNT + VECTOR_COUNT + 3);
  assert_int_equal(accepted, ACCEPTED_COUNT);
}

/* One changed copy: its parse message, or its check against its issuer. */
static bool tamper_as_expected(world *w, cs_verify_ctx *ctx, cs_arena *arena,
                               const tamper *t)
{
  char label[LABEL_MAX];
  char want[CS_ERROR_MESSAGE_MAX];
  cs_cert_facts facts;
  cs_error err;
  cs_status status;
  int check;

  snprintf(label, sizeof(label), "tamper:%s", t->name);
  status = cs_verify_parse(find_cert(w, label)->der, arena, &facts, &err);
  if (t->error != NULL) {
    snprintf(want, sizeof(want), "malformed certificate: %s", t->error);
    if (status == CS_ERR_CERT_MALFORMED && strcmp(err.message, want) == 0) {
      return true;
    }
    print_error("%s: want \"%s\", got %s \"%s\"\n", label, want,
                cs_status_name(status), err.message);
    return false;
  }
  if (status != CS_OK) {
    print_error("%s: %s\n", label, err.message);
    return false;
  }
  snprintf(label, sizeof(label), "fixture:%s", t->issuer);
  check = (int)cs_verify_check(ctx, &facts, find_signer(w, label)->signer);
  if (check != t->check) {
    print_error("tamper:%s: check %d, want %d\n", t->name, check, t->check);
    return false;
  }
  return true;
}

static void test_tampered_copies(void **state)
{
  world *w = *state;
  cs_verify_ctx *ctx = cs_verify_ctx_new();
  cs_arena arena;
  size_t wrong = 0;

  assert_non_null(ctx);
  cs_arena_init(&arena, 4096);
  for (size_t i = 0; i < TAMPER_COUNT; i++) {
    wrong += !tamper_as_expected(w, ctx, &arena, &tampers[i]);
  }
  assert_int_equal(wrong, 0);
  cs_arena_cleanup(&arena);
  cs_verify_ctx_free(ctx);
}

/* Every prefix of a certificate is malformed, for both readers. */
static void test_truncations(void **state)
{
  world *w = *state;
  static const char *const names[] = { "fixture:leaf-ip-san",
                                       "fixture:leaf-ed25519",
                                       "fixture:leaf-multi-cn" };
  cs_arena arena;
  size_t refused = 0;

  cs_arena_init(&arena, 4096);
  for (size_t n = 0; n < 3; n++) {
    cs_bytes der = find_cert(w, names[n])->der;

    for (size_t len = 0; len < der.len; len++) {
      cs_bytes prefix = { der.ptr, len };
      cs_cert_facts facts;
      cs_error err;

      assert_int_equal(cs_verify_parse(prefix, &arena, &facts, &err),
                       CS_ERR_CERT_MALFORMED);
      assert_false(openssl_accepts(prefix));
      refused++;
    }
    cs_arena_reset(&arena);
  }
  assert_int_equal(refused, find_cert(w, names[0])->der.len +
                                find_cert(w, names[1])->der.len +
                                find_cert(w, names[2])->der.len);
  cs_arena_cleanup(&arena);
}

/*
 * Where cs_verify_check answers "unsupported" although X509_verify
 * verifies: algorithms this build leaves out on purpose.
 */
static const stricter check_stricter[] = {
  { "fixture:leaf-sha3",
    "sha3-256WithRSAEncryption is not among the algorithms certscan "
    "verifies; a rule referencing such a signer reports "
    "unsupported_algorithm" },
};

static bool check_stricter_listed(const char *cert)
{
  for (size_t i = 0; i < sizeof(check_stricter) / sizeof(check_stricter[0]);
       i++) {
    if (strcmp(check_stricter[i].cert, cert) == 0) {
      return true;
    }
  }
  return false;
}

typedef struct pair_counts {
  size_t pairs;
  size_t ok;
  size_t wrong_issuer;
  size_t unsupported;
  size_t bad;
  size_t name_fallback;
  size_t stricter; /* unsupported here, verified by X509_verify */
} pair_counts;

/* One (certificate, signer) pair against X509_NAME_cmp, X509_verify. */
static void check_pair(cs_verify_ctx *ctx, const corpus_cert *c,
                       const cs_cert_facts *facts, X509 *x,
                       const test_signer *s, pair_counts *counts)
{
  const cs_cert_facts *sf = cs_verify_signer_facts(s->signer);
  cs_cert_facts forced = *facts;
  bool names_equal = X509_NAME_cmp(X509_get_issuer_name(x),
                                   X509_get_subject_name(s->x509)) == 0;
  bool verifies = X509_verify(x, X509_get0_pubkey(s->x509)) == 1;
  cs_sig_check r = cs_verify_check(ctx, facts, s->signer);
  cs_sig_check sig;

  ERR_clear_error();
  if ((r == CS_SIG_CHECK_WRONG_ISSUER) == names_equal) {
    fail_msg("%s by %s: check %d, X509_NAME_cmp says %s", c->name, s->name, r,
             names_equal ? "equal" : "different");
  }
  counts->name_fallback +=
      names_equal &&
      (facts->issuer.len != sf->subject.len ||
       memcmp(facts->issuer.ptr, sf->subject.ptr, sf->subject.len) != 0);

  /* The signature alone: pretend the names matched. */
  forced.issuer = sf->subject;
  sig = cs_verify_check(ctx, &forced, s->signer);
  if ((sig == CS_SIG_CHECK_OK && !verifies) ||
      (sig == CS_SIG_CHECK_BAD_SIGNATURE && verifies) ||
      (sig == CS_SIG_CHECK_UNSUPPORTED && verifies &&
       !check_stricter_listed(c->name)) ||
      sig == CS_SIG_CHECK_WRONG_ISSUER) {
    fail_msg("%s by %s: signature check %d, X509_verify %d", c->name, s->name,
             sig, verifies);
  }
  counts->stricter += sig == CS_SIG_CHECK_UNSUPPORTED && verifies;
  counts->pairs++;
  counts->ok += r == CS_SIG_CHECK_OK;
  counts->wrong_issuer += r == CS_SIG_CHECK_WRONG_ISSUER;
  counts->unsupported += r == CS_SIG_CHECK_UNSUPPORTED;
  counts->bad += r == CS_SIG_CHECK_BAD_SIGNATURE;
}

static void test_signatures_agree_with_openssl(void **state)
{
  world *w = *state;
  cs_verify_ctx *ctx = cs_verify_ctx_new();
  pair_counts counts = { 0 };
  cs_arena arena;

  cs_arena_init(&arena, 1 << 16);
  for (size_t i = 0; i < w->cert_count; i++) {
    const corpus_cert *c = &w->certs[i];
    cs_cert_facts facts;
    cs_error err;
    const unsigned char *p = c->der.ptr;
    X509 *x;

    if (cs_verify_parse(c->der, &arena, &facts, &err) != CS_OK) {
      continue;
    }
    x = d2i_X509(NULL, &p, (long)c->der.len);
    assert_non_null(x);
    for (size_t k = 0; k < w->signer_count; k++) {
      if (w->signers[k].x509 != NULL) {
        check_pair(ctx, c, &facts, x, &w->signers[k], &counts);
      }
    }
    X509_free(x);
  }
  assert_int_equal(counts.pairs, ACCEPTED_COUNT * USABLE_SIGNERS);
  assert_int_equal(counts.ok, PAIRS_OK);
  assert_int_equal(counts.unsupported, PAIRS_UNSUPPORTED);
  assert_int_equal(counts.bad, PAIRS_BAD);
  assert_int_equal(counts.name_fallback, PAIRS_NAME_FALLBACK);

  /*
   * The listed difference is met, once per certificate of ca-rsa's key
   * (ca-rsa, ca-no-kcs, ca-expired): the signature check alone ignores
   * the names.
   */
  assert_int_equal(counts.stricter, 3);
  cs_arena_cleanup(&arena);
  cs_verify_ctx_free(ctx);
}

/*
 * What each fixture leaf says, as make-fixtures.sh wrote it. CNs are
 * separated by '|'; SANs too, each prefixed by its type: D(NS), E(mail),
 * U(RI), I(P), O(ther).
 */
typedef struct leaf_expect {
  const char *name;
  cs_sig_kind kind;
  cs_hash hash;
  const char *sig_name;
  int version;
  uint16_t serial;
  int64_t not_before;
  int64_t not_after;
  const char *cns;
  const char *sans;
  bool has_eku;
  unsigned eku;
} leaf_expect;

#define T2025 INT64_C(1735689600)
#define T2030 INT64_C(1893456000)
#define RSA256 CS_SIG_RSA_PKCS1, CS_HASH_SHA256, "sha256WithRSAEncryption"
#define DEVICE_SAN "Ddevice.example.com"
#define CLIENT true, CS_EKU_CLIENT_AUTH

/* "Grüße aus Köln" and " – 東京" in UTF-8. */
#define GRUSS "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln"
#define TOKYO " \xe2\x80\x93 \xe6\x9d\xb1\xe4\xba\xac"

static const leaf_expect leaves[] = {
  { "leaf-rsa", RSA256, 3, 0x100e, T2025, T2030, "rsa.example.com", DEVICE_SAN,
    CLIENT },
  { "leaf-pss", CS_SIG_RSA_PSS, CS_HASH_SHA256, "rsassaPss", 3, 0x100f, T2025,
    T2030, "pss.example.com", DEVICE_SAN, CLIENT },
  { "leaf-pss-key", CS_SIG_RSA_PSS, CS_HASH_SHA256, "rsassaPss", 3, 0x1010,
    T2025, T2030, "pss-key.example.com", DEVICE_SAN, CLIENT },
  { "leaf-p256", CS_SIG_ECDSA, CS_HASH_SHA256, "ecdsa-with-SHA256", 3, 0x1011,
    T2025, T2030, "p256.example.com", DEVICE_SAN, CLIENT },
  { "leaf-p384", CS_SIG_ECDSA, CS_HASH_SHA384, "ecdsa-with-SHA384", 3, 0x1012,
    T2025, T2030, "p384.example.com", DEVICE_SAN, CLIENT },
  { "leaf-ed25519", CS_SIG_ED25519, CS_HASH_NONE, "Ed25519", 3, 0x1013, T2025,
    T2030, "ed25519.example.com", DEVICE_SAN, CLIENT },
  { "leaf-ed448", CS_SIG_ED448, CS_HASH_NONE, "Ed448", 3, 0x1014, T2025, T2030,
    "ed448.example.com", DEVICE_SAN, CLIENT },
  { "leaf-dsa", CS_SIG_DSA, CS_HASH_SHA256, "dsa_with_SHA256", 3, 0x1015, T2025,
    T2030, "dsa.example.com", DEVICE_SAN, CLIENT },
  { "leaf-sha1", CS_SIG_RSA_PKCS1, CS_HASH_SHA1, "sha1WithRSAEncryption", 3,
    0x1016, T2025, T2030, "sha1.example.com", DEVICE_SAN, CLIENT },
  { "leaf-sha3", CS_SIG_UNKNOWN, CS_HASH_OTHER, "unknown", 3, 0x1017, T2025,
    T2030, "sha3.example.com", DEVICE_SAN, CLIENT },
  { "leaf-utc-edges", RSA256, 3, 0x1018, INT64_C(-631152000),
    INT64_C(2524607999), "utc-edges.example.com", DEVICE_SAN, CLIENT },
  { "leaf-far-future", RSA256, 3, 0x1019, T2025, INT64_C(253402300799),
    "far-future.example.com", DEVICE_SAN, CLIENT },
  { "leaf-multi-cn", RSA256, 3, 0x101a, T2025, T2030,
    "first.example.com|second.example.com|third", DEVICE_SAN, CLIENT },
  { "leaf-bmp", RSA256, 3, 0x101b, T2025, T2030, GRUSS, DEVICE_SAN, CLIENT },
  { "leaf-t61", RSA256, 3, 0x101c, T2025, T2030, GRUSS, DEVICE_SAN, CLIENT },
  { "leaf-utf8", RSA256, 3, 0x101d, T2025, T2030, GRUSS TOKYO, DEVICE_SAN,
    CLIENT },
  { "leaf-printable", RSA256, 3, 0x101e, T2025, T2030, "printable.example.com",
    DEVICE_SAN, CLIENT },
  { "leaf-eku", RSA256, 3, 0x101f, T2025, T2030, "eku.example.com", "", true,
    CS_EKU_CLIENT_AUTH | CS_EKU_EMAIL_PROTECTION },
  { "leaf-any-eku", RSA256, 3, 0x1020, T2025, T2030, "any-eku.example.com", "",
    true, CS_EKU_ANY },
  { "leaf-ip-san", RSA256, 3, 0x1021, T2025, T2030, "ip.example.com",
    "I192.0.2.1|I2001:db8::1|Dhost.example.com|Euser@example.com|"
    "Uhttps://example.com/device",
    false, 0 },
  { "leaf-other-name", RSA256, 3, 0x1022, T2025, T2030, "upn.example.com",
    "OotherName", false, 0 },
  { "leaf-no-ext", RSA256, 1, 0x1023, T2025, T2030, "no-ext.example.com", "",
    false, 0 },
  { "leaf-case", RSA256, 3, 0x1024, T2025, T2030, "case.example.com",
    DEVICE_SAN, CLIENT },
  { "leaf-via-int", CS_SIG_ECDSA, CS_HASH_SHA256, "ecdsa-with-SHA256", 3,
    0x1025, T2025, T2030, "via-int.example.com", DEVICE_SAN, CLIENT },
  { "leaf-md5", CS_SIG_RSA_PKCS1, CS_HASH_MD5, "md5WithRSAEncryption", 3,
    0x1026, T2025, T2030, "md5.example.com", DEVICE_SAN, CLIENT },
};

/* `got` joined with '|', SANs prefixed by their type letter. */
static void join_strs(char *out, size_t size, const cs_str *strs,
                      const cs_san *sans, size_t count)
{
  size_t at = 0;

  out[0] = '\0';
  for (size_t i = 0; i < count; i++) {
    const cs_str *s = sans != NULL ? &sans[i].value : &strs[i];

    if (sans != NULL) {
      at += (size_t)snprintf(out + at, size - at, "%s%c", i ? "|" : "",
                             "DEUIO"[sans[i].type]);
    } else if (i > 0) {
      at += (size_t)snprintf(out + at, size - at, "|");
    }
    assert_int_equal(strlen(s->ptr), s->len);
    at += (size_t)snprintf(out + at, size - at, "%s", s->ptr);
  }
}

/* Spans and hashes against what OpenSSL reads from the same bytes. */
static void check_spans(const cs_cert_facts *f, X509 *x)
{
  unsigned char *spki = NULL;
  int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  uint8_t digest[32];
  const ASN1_BIT_STRING *sig;
  const unsigned char *name_der;
  size_t name_len;

  assert_true(spki_len > 0);
  assert_int_equal(f->spki.len, (size_t)spki_len);
  assert_memory_equal(f->spki.ptr, spki, f->spki.len);
  SHA256(spki, (size_t)spki_len, digest);
  assert_memory_equal(f->spki_sha256, digest, 32);
  OPENSSL_free(spki);

  SHA256(f->der.ptr, f->der.len, digest);
  assert_memory_equal(f->sha256, digest, 32);
  X509_get0_signature(&sig, NULL, x);
  assert_int_equal(f->signature.len, (size_t)sig->length);
  assert_memory_equal(f->signature.ptr, sig->data, f->signature.len);

  assert_int_equal(
      X509_NAME_get0_der(X509_get_issuer_name(x), &name_der, &name_len), 1);
  assert_int_equal(f->issuer.len, name_len);
  assert_memory_equal(f->issuer.ptr, name_der, name_len);
  assert_int_equal(
      X509_NAME_get0_der(X509_get_subject_name(x), &name_der, &name_len), 1);
  assert_int_equal(f->subject.len, name_len);
  assert_memory_equal(f->subject.ptr, name_der, name_len);
}

static void test_fixture_facts(void **state)
{
  world *w = *state;
  cs_arena arena;
  char text[512];

  cs_arena_init(&arena, 4096);
  for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
    const leaf_expect *e = &leaves[i];
    char label[LABEL_MAX];
    const cs_cert_facts *f;
    const unsigned char *p;
    X509 *x;

    snprintf(label, sizeof(label), "fixture:%s", e->name);
    f = parse_ok(&arena, find_cert(w, label)->der);
    assert_int_equal(f->sig_kind, e->kind);
    assert_int_equal(f->sig_hash, e->hash);
    assert_string_equal(f->sig_name, e->sig_name);
    assert_int_equal(f->version, e->version);
    assert_int_equal(f->serial.len, 2);
    assert_int_equal((f->serial.ptr[0] << 8) | f->serial.ptr[1], e->serial);
    assert_int_equal(f->not_before, e->not_before);
    assert_int_equal(f->not_after, e->not_after);
    join_strs(text, sizeof(text), f->cns, NULL, f->cn_count);
    assert_string_equal(text, e->cns);
    join_strs(text, sizeof(text), NULL, f->sans, f->san_count);
    assert_string_equal(text, e->sans);
    assert_int_equal(f->has_eku, e->has_eku);
    assert_int_equal(f->eku, e->eku);

    p = f->der.ptr;
    x = d2i_X509(NULL, &p, (long)f->der.len);
    assert_non_null(x);
    check_spans(f, x);
    X509_free(x);
  }
  cs_arena_cleanup(&arena);
}

static const cs_cert_facts *tamper_facts(world *w, cs_arena *arena,
                                         const char *name)
{
  char label[LABEL_MAX];

  snprintf(label, sizeof(label), "tamper:%s", name);
  return parse_ok(arena, find_cert(w, label)->der);
}

static void test_tampered_facts(void **state)
{
  world *w = *state;
  cs_arena arena;
  const cs_cert_facts *f;

  cs_arena_init(&arena, 4096);
  f = tamper_facts(w, &arena, "CN with a NUL");
  assert_int_equal(f->cn_count, 1);
  assert_int_equal(f->cns[0].len, 32);
  assert_memory_equal(f->cns[0].ptr, "nul.example.com\0evil.example.org", 33);
  assert_false(cs_str_eq_cstr(f->cns[0], "nul.example.com"));

  f = tamper_facts(w, &arena, "CN as UniversalString");
  assert_int_equal(f->cns[0].len, 7);
  assert_string_equal(f->cns[0].ptr, "Zürich");

  f = tamper_facts(w, &arena, "serial zero");
  assert_int_equal(f->serial.len, 1);
  assert_int_equal(f->serial.ptr[0], 0x00);
  f = tamper_facts(w, &arena, "serial negative");
  assert_int_equal(f->serial.len, 1);
  assert_int_equal(f->serial.ptr[0], 0xff);

  f = tamper_facts(w, &arena, "GeneralizedTime in 2030");
  assert_int_equal(f->not_after, T2030);
  f = tamper_facts(w, &arena, "empty subject RDN");
  assert_int_equal(f->cn_count, 0);
  assert_int_equal(f->subject.len, 4);
  f = tamper_facts(w, &arena, "O as BIT STRING");
  assert_int_equal(f->cn_count, 0);
  f = tamper_facts(w, &arena, "empty extensions");
  assert_false(f->has_eku);
  assert_int_equal(f->san_count, 0);

  f = tamper_facts(w, &arena, "PSS trailerField 2");
  assert_int_equal(f->sig_kind, CS_SIG_UNKNOWN);
  assert_string_equal(f->sig_name, "rsassaPss");
  f = tamper_facts(w, &arena, "Ed25519 with NULL parameters");
  assert_int_equal(f->sig_kind, CS_SIG_UNKNOWN);
  assert_string_equal(f->sig_name, "Ed25519");
  cs_arena_cleanup(&arena);
}

static void test_empty_and_tiny_input(void **state)
{
  cs_arena arena;
  cs_cert_facts facts;
  cs_error err;
  cs_bytes empty = { NULL, 0 };
  cs_bytes null_seq = { (const uint8_t *)"\x30\x00", 2 };
  cs_bytes huge = { (const uint8_t *)"\x30\x85\x01\x00\x00\x00\x00", 7 };

  (void)state;
  cs_arena_init(&arena, 1024);
  assert_int_equal(cs_verify_parse(empty, &arena, &facts, &err),
                   CS_ERR_CERT_MALFORMED);
  assert_string_equal(err.message,
                      "malformed certificate: Certificate: missing (byte 0)");
  assert_int_equal(cs_verify_parse(null_seq, &arena, &facts, &err),
                   CS_ERR_CERT_MALFORMED);
  assert_string_equal(
      err.message, "malformed certificate: TBSCertificate: missing (byte 2)");
  assert_int_equal(cs_verify_parse(huge, &arena, &facts, &err),
                   CS_ERR_CERT_MALFORMED);
  assert_string_equal(err.message,
                      "malformed certificate: Certificate: length of more "
                      "than four octets (byte 1)");
  assert_int_equal(arena.bytes_used, 0);
  cs_arena_cleanup(&arena);
}

#ifndef __SANITIZE_ADDRESS__
/*
 * Counting allocations: this file's malloc family stands in for libc's
 * (AddressSanitizer brings its own, so the test is left out there).
 */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);

static size_t allocations;

void *malloc(size_t size)
{
  allocations++;
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
  allocations++;
  return __libc_calloc(count, size);
}

void *realloc(void *ptr, size_t size)
{
  allocations++;
  return __libc_realloc(ptr, size);
}

/* Once the arena has its chunk, a parse allocates nothing at all. */
static void test_parse_allocates_nothing(void **state)
{
  world *w = *state;
  cs_bytes der = find_cert(w, "fixture:leaf-ip-san")->der;
  cs_arena arena;
  cs_cert_facts facts;
  cs_error err;
  size_t before;

  cs_arena_init(&arena, 1 << 16);
  assert_int_equal(cs_verify_parse(der, &arena, &facts, &err), CS_OK);
  cs_arena_reset(&arena);
  before = allocations;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(cs_verify_parse(der, &arena, &facts, &err), CS_OK);
    assert_int_equal(facts.san_count, 5);
    cs_arena_reset(&arena);
  }
  assert_int_equal(allocations, before);
  cs_arena_cleanup(&arena);
}
#endif

/* The check for a certificate of the corpus against a signer. */
static cs_sig_check check_named(cs_verify_ctx *ctx, cs_arena *arena,
                                const char *cert, const char *signer)
{
  const cs_cert_facts *f = parse_ok(arena, find_cert(the_world, cert)->der);

  return cs_verify_check(ctx, f, find_signer(the_world, signer)->signer);
}

#define CT "vector:"
#define MALFORMED "malformed certificate: "

/* certificate-transparency/MANIFEST.md, parse and signature columns. */
static void test_ct_manifest(void **state)
{
  world *w = *state;
  cs_verify_ctx *ctx = cs_verify_ctx_new();
  cs_arena arena;
  const cs_cert_facts *f;

  cs_arena_init(&arena, 4096);
  f = parse_ok(&arena, find_cert(w, CT "ca-cert.pem")->der);
  assert_int_equal(f->sig_hash, CS_HASH_SHA1);
  assert_int_equal(f->serial.len, 1);
  assert_int_equal(f->serial.ptr[0], 0);
  assert_int_equal(f->cn_count, 0);
  assert_int_equal(check_named(ctx, &arena, CT "ca-cert.pem", CT "ca-cert.pem"),
                   CS_SIG_CHECK_OK);
  assert_int_equal(
      check_named(ctx, &arena, CT "intermediate-cert.pem", CT "ca-cert.pem"),
      CS_SIG_CHECK_OK);
  assert_int_equal(
      check_named(ctx, &arena, CT "test-cert.pem", CT "ca-cert.pem"),
      CS_SIG_CHECK_OK);
  assert_int_equal(check_named(ctx, &arena, CT "test-intermediate-cert.pem",
                               CT "intermediate-cert.pem"),
                   CS_SIG_CHECK_OK);

  /* A root above the real issuer does not count. */
  assert_int_equal(check_named(ctx, &arena, CT "test-intermediate-cert.pem",
                               CT "ca-cert.pem"),
                   CS_SIG_CHECK_WRONG_ISSUER);
  assert_int_equal(
      check_named(ctx, &arena, CT "test-embedded-cert.pem", CT "ca-cert.pem"),
      CS_SIG_CHECK_OK);
  assert_false(parses(find_cert(w, CT "test-corrupted.pem")->der));
  assert_int_equal(
      check_named(ctx, &arena, CT "null_chars.pem", CT "null_chars.pem"),
      CS_SIG_CHECK_OK);
  assert_int_equal(check_named(ctx, &arena, CT "cn_utf8.pem", CT "cn_utf8.pem"),
                   CS_SIG_CHECK_OK);
  cs_arena_cleanup(&arena);
  cs_verify_ctx_free(ctx);
}

static void expect_malformed(world *w, const char *cert, const char *msg)
{
  cs_arena arena;
  cs_cert_facts facts;
  cs_error err;

  cs_arena_init(&arena, 1024);
  assert_int_equal(
      cs_verify_parse(find_cert(w, cert)->der, &arena, &facts, &err),
      CS_ERR_CERT_MALFORMED);
  assert_string_equal(err.message, msg);
  cs_arena_cleanup(&arena);
}

static void test_ct_oddities(void **state)
{
  world *w = *state;
  static const char *const rdio[] = { "www.rd.io", "rdio.com",
                                      "rd.io",     "api.rdio.com",
                                      "api.rd.io", "www.rdio.com" };
  cs_arena arena;
  const cs_cert_facts *f;

  cs_arena_init(&arena, 4096);
  f = parse_ok(&arena, find_cert(w, CT "multiple_cn.pem")->der);
  assert_int_equal(f->cn_count, 6);
  for (size_t i = 0; i < 6; i++) {
    assert_true(cs_str_eq_cstr(f->cns[i], rdio[i]));
  }
  assert_int_equal(f->san_count, 6);

  f = parse_ok(&arena, find_cert(w, CT "null_chars.pem")->der);
  assert_int_equal(f->cn_count, 1);
  assert_int_equal(f->cns[0].len, 27);
  assert_memory_equal(f->cns[0].ptr, "null.python.org\0example.org", 28);
  assert_int_equal(f->san_count, 5);
  assert_int_equal(f->sans[0].type, CS_SAN_DNS);
  assert_int_equal(f->sans[0].value.len, 30);
  assert_memory_equal(f->sans[0].value.ptr, "altnull.python.org\0example.com",
                      30);
  assert_int_equal(f->sans[1].type, CS_SAN_EMAIL);
  assert_int_equal(f->sans[1].value.len, 32);
  assert_int_equal(f->sans[2].type, CS_SAN_URI);
  assert_int_equal(f->sans[2].value.len, 41);
  assert_true(cs_str_eq_cstr(f->sans[3].value, "192.0.2.1"));
  assert_true(cs_str_eq_cstr(f->sans[4].value, "2001:db8::1"));

  f = parse_ok(&arena, find_cert(w, CT "cn_utf8.pem")->der);
  assert_int_equal(f->version, 1);
  assert_int_equal(f->cns[0].len, 55);
  assert_true(cs_str_eq_cstr(f->cns[0], "ñeco ñýáěšžěšž"
                                        "řěčíě+ščýáíéřáíÚ"));

  f = parse_ok(&arena, find_cert(w, CT "expiration_not_well_defined.pem")->der);
  assert_int_equal(f->not_after, INT64_C(253402300799));
  assert_int_equal(f->sig_kind, CS_SIG_RSA_PKCS1);
  assert_int_equal(f->sig_hash, CS_HASH_MD5);

  f = parse_ok(&arena, find_cert(w, CT "dsa_with_sha256.der")->der);
  assert_int_equal(f->sig_kind, CS_SIG_DSA);
  assert_int_equal(f->sig_hash, CS_HASH_SHA256);
  assert_true((f->eku & CS_EKU_CLIENT_AUTH) != 0);

  expect_malformed(w, CT "cert_bad_utf8_subject.pem",
                   MALFORMED
                   "subject: string does not decode to Unicode (byte 315)");
  expect_malformed(w, CT "asn1_indefinite_length_encoding.pem",
                   MALFORMED
                   "TBSCertificate: indefinite length (BER, not DER) (byte 5)");
  expect_malformed(w, CT "multiple_eku.pem",
                   MALFORMED "extension: listed twice (byte 1098)");
  expect_malformed(
      w, CT "test-corrupted.pem",
      MALFORMED "Certificate: length past the end of its container (byte 0)");
  cs_arena_cleanup(&arena);
}

/* x509-limbo/MANIFEST.md: explicit curves, as a leaf and as a signer. */
static void test_limbo_explicit_curves(void **state)
{
  world *w = *state;
  cs_error err;

  expect_malformed(
      w, CT "explicit_curve_leaf.pem",
      MALFORMED
      "subjectPublicKeyInfo: EC parameters are not a named curve (byte 147)");
  expect_malformed(
      w, CT "explicit_curve_ca.pem",
      MALFORMED
      "subjectPublicKeyInfo: EC parameters are not a named curve (byte 163)");
  assert_false(cs_verify_signer_usable(
      find_signer(w, CT "explicit_curve_ca.pem")->signer, &err));
  assert_int_equal(err.status, CS_ERR_CONFIG);
  assert_non_null(strstr(err.message, "EC parameters are not a named "
                                      "curve"));
}

/* Issuer names: raw bytes, OpenSSL's folding, and what is not enough. */
static void test_issuer_names(void **state)
{
  cs_verify_ctx *ctx = cs_verify_ctx_new();
  cs_arena arena;
  const char *leaf_case = "fixture:leaf-case";

  (void)state;
  cs_arena_init(&arena, 4096);

  /* Twice each: the second answer comes from the name cache. */
  for (int round = 0; round < 2; round++) {
    assert_int_equal(check_named(ctx, &arena, leaf_case, "fixture:ca-case"),
                     CS_SIG_CHECK_OK);
    assert_int_equal(
        check_named(ctx, &arena, leaf_case, "fixture:ca-case-variant"),
        CS_SIG_CHECK_OK);
    assert_int_equal(check_named(ctx, &arena, leaf_case, "fixture:ca-rsa"),
                     CS_SIG_CHECK_WRONG_ISSUER);
    assert_int_equal(
        check_named(ctx, &arena, "fixture:leaf-via-int", "fixture:ca-root"),
        CS_SIG_CHECK_WRONG_ISSUER);
    assert_int_equal(
        check_named(ctx, &arena, "fixture:leaf-via-int", "fixture:ca-int"),
        CS_SIG_CHECK_OK);
  }

  /* Same name, another key: the name matches, the signature does not. */
  assert_int_equal(
      check_named(ctx, &arena, "fixture:leaf-rsa", "fixture:ca-rsa-impostor"),
      CS_SIG_CHECK_BAD_SIGNATURE);
  assert_int_equal(
      check_named(ctx, &arena, "fixture:leaf-sha3", "fixture:ca-rsa"),
      CS_SIG_CHECK_UNSUPPORTED);
  assert_int_equal(
      check_named(ctx, &arena, "fixture:leaf-sha1", "fixture:ca-rsa"),
      CS_SIG_CHECK_OK);
  cs_arena_cleanup(&arena);
  cs_verify_ctx_free(ctx);
}

/*
 * A signature whose kind the signer's key cannot make: the algorithm is
 * one certscan verifies, so the signature simply does not verify.
 */
static void test_kind_must_fit_key(void **state)
{
  world *w = *state;
  cs_verify_ctx *ctx = cs_verify_ctx_new();
  cs_arena arena;
  cs_cert_facts f;
  const cs_verify_signer *rsa = find_signer(w, "fixture:ca-rsa")->signer;
  const cs_verify_signer *pss = find_signer(w, "fixture:ca-pss")->signer;

  cs_arena_init(&arena, 4096);
  f = *parse_ok(&arena, find_cert(w, "fixture:leaf-p256")->der);
  f.issuer = cs_verify_signer_facts(rsa)->subject;
  assert_int_equal(cs_verify_check(ctx, &f, rsa),
                   CS_SIG_CHECK_BAD_SIGNATURE);

  /* A PKCS#1 v1.5 signature cannot come from an RSA-PSS key. */
  f = *parse_ok(&arena, find_cert(w, "fixture:leaf-rsa")->der);
  f.issuer = cs_verify_signer_facts(pss)->subject;
  assert_int_equal(cs_verify_check(ctx, &f, pss),
                   CS_SIG_CHECK_BAD_SIGNATURE);

  /* PSS from a plain RSA key is fine: leaf-pss is signed that way. */
  assert_int_equal(
      check_named(ctx, &arena, "fixture:leaf-pss", "fixture:ca-rsa"),
      CS_SIG_CHECK_OK);
  cs_arena_cleanup(&arena);
  cs_verify_ctx_free(ctx);
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* A fixture's PEM as a JSON string, newlines escaped. */
static char *pem_json(cs_arena *arena, const char *name)
{
  char file[96];
  cs_bytes pem;
  char *out;
  size_t at = 0;

  snprintf(file, sizeof(file), "%s.pem", name);
  pem = fx_read(arena, fx_path(arena, file));
  assert_non_null(pem.ptr);
  out = cs_arena_alloc(arena, 2 * pem.len + 3);
  out[at++] = '"';
  for (size_t i = 0; i < pem.len; i++) {
    if (pem.ptr[i] == '\n') {
      out[at++] = '\\';
      out[at++] = 'n';
    } else {
      out[at++] = (char)pem.ptr[i];
    }
  }
  out[at++] = '"';
  out[at] = '\0';
  return out;
}

/* Writes `json` to <tmp>/<file> and loads it into a new store. */
static cs_status load_json_text(world *w, const char *file, const char *json,
                                cs_verify_signers **out, cs_error *err)
{
  char path[256];
  cs_status status;

  snprintf(path, sizeof(path), "%s/%s", w->tmp, file);
  write_text(path, json);
  *out = cs_verify_signers_new();
  assert_non_null(*out);
  status = cs_verify_signers_load(*out, path, err);
  unlink(path);
  return status;
}

#define ID1 "6513270E-269E-4D37-B2A7-4DE452E6B438"
#define ID1_LOWER "6513270e-269e-4d37-b2a7-4de452e6b438"
#define ID2 "d23f0824-128b-4f33-8c5c-7fd0a6a3a450"

static void test_signers_json_shapes(void **state)
{
  world *w = *state;
  cs_arena arena;
  char json[16384];
  cs_verify_signers *store;
  cs_error err;
  const char *p256, *ed;

  cs_arena_init(&arena, 1 << 14);
  p256 = pem_json(&arena, "ca-p256");
  ed = pem_json(&arena, "ca-ed25519");

  snprintf(json, sizeof(json),
           "[{\"id\": \"" ID1 "\", \"name\": \"P-256\", \"certificates\": "
           "%s}, {\"id\": \"" ID2 "\", \"certificates\": %s}]",
           p256, ed);
  assert_int_equal(load_json_text(w, "bare.json", json, &store, &err), CS_OK);
  assert_int_equal(cs_verify_signers_count(store), 2);
  assert_string_equal(cs_verify_signer_id(cs_verify_signers_get0(store, 0)),
                      ID1_LOWER);
  assert_string_equal(cs_verify_signer_name(cs_verify_signers_get0(store, 0)),
                      "P-256");

  /* No name: the subject CN stands in. */
  assert_string_equal(cs_verify_signer_name(cs_verify_signers_get0(store, 1)),
                      "Example Ed25519 CA");
  assert_ptr_equal(cs_verify_signers_find(store, ID1),
                   cs_verify_signers_get0(store, 0));
  assert_ptr_equal(cs_verify_signers_find(store, ID1_LOWER),
                   cs_verify_signers_get0(store, 0));
  assert_null(cs_verify_signers_find(store, "00000000-0000-0000-0000-"
                                            "000000000000"));
  assert_null(cs_verify_signers_get0(store, 2));
  cs_verify_signers_free(store);

  snprintf(json, sizeof(json),
           "{\"success\": true, \"result\": [{\"id\": \"" ID1 "\", "
           "\"certificates\": %s, \"ca\": true}]}",
           p256);
  assert_int_equal(load_json_text(w, "envelope.json", json, &store, &err),
                   CS_OK);
  assert_int_equal(cs_verify_signers_count(store), 1);
  assert_true(cs_verify_signer_usable(cs_verify_signers_get0(store, 0), &err));
  cs_verify_signers_free(store);

  snprintf(json, sizeof(json), "{\"id\": \"" ID2 "\", \"certificates\": %s}",
           ed);
  assert_int_equal(load_json_text(w, "one.json", json, &store, &err), CS_OK);
  assert_int_equal(cs_verify_signers_count(store), 1);
  cs_verify_signers_free(store);
  cs_arena_cleanup(&arena);
}

/* `json` in a file named bad.json must fail with "<path>: <message>". */
static void expect_json_error(world *w, const char *json, const char *msg)
{
  cs_verify_signers *store;
  cs_error err;
  char want[1200];

  assert_int_equal(load_json_text(w, "bad.json", json, &store, &err),
                   CS_ERR_CONFIG);
  snprintf(want, sizeof(want), "%s/bad.json%s", w->tmp, msg);
  assert_string_equal(err.message, want);
  assert_int_equal(cs_verify_signers_count(store), 0);
  cs_verify_signers_free(store);
}

static void test_signers_json_errors(void **state)
{
  world *w = *state;

  expect_json_error(w, "[{\"id\": ",
                    ": not JSON: unexpected token near end of file "
                    "(line 1, column 8)");
  expect_json_error(w, "\"text\"",
                    ": not JSON: '[' or '{' expected near '\"text\"' "
                    "(line 1, column 6)");
  expect_json_error(w, "{\"result\": {}}", ": \"result\" is not an array");
  expect_json_error(w, "[1]", ": entry 1: not an object");
  expect_json_error(w, "[{\"name\": \"x\"}]", ": entry 1: no id");
  expect_json_error(w, "[{\"id\": 7}]", ": entry 1: id is not a string");
  expect_json_error(w, "[{\"id\": \"" ID1 "\"}, {\"id\": \"not-a-uuid\"}]",
                    ": entry 2: id \"not-a-uuid\" is not a UUID");
  expect_json_error(w, "[{\"id\": \"" ID1 "x\"}]",
                    ": entry 1: id \"" ID1 "x\" is not a UUID");
  expect_json_error(w, "[{\"id\": \"" ID1 "\", \"name\": 1}]",
                    ": entry 1: name is not a string");
  expect_json_error(w, "[{\"id\": \"" ID1 "\", \"certificates\": []}]",
                    ": entry 1: certificates is not a string");
  expect_json_error(w, "[{\"id\": \"" ID1 "\"}, {\"id\": \"" ID1_LOWER "\"}]",
                    ": entry 2: signer id " ID1_LOWER " is listed twice");
}

static void test_signers_json_quirks(void **state)
{
  world *w = *state;
  cs_arena arena;
  char json[16384];
  cs_verify_signers *store;
  cs_error err;
  const cs_verify_signer *s;
  char path[256];

  cs_arena_init(&arena, 1 << 14);

  /*
   * No certificate (null, as API listings write an omitted member):
   * kept, not usable; a private key: never kept.
   */
  snprintf(json, sizeof(json),
           "[{\"id\": \"" ID1 "\", \"name\": \"listing\","
           " \"certificates\": null},"
           " {\"id\": \"" ID2 "\", \"certificates\": %s, \"private_key\": "
           "\"-----BEGIN PRIVATE KEY-----\\nMIIBVQ==\\n-----END PRIVATE "
           "KEY-----\\n\"}]",
           pem_json(&arena, "ca-rsa"));
  assert_int_equal(load_json_text(w, "quirks.json", json, &store, &err), CS_OK);
  snprintf(path, sizeof(path), "%s/quirks.json", w->tmp);
  s = cs_verify_signers_get0(store, 0);
  assert_false(cs_verify_signer_usable(s, &err));
  snprintf(json, sizeof(json),
           "signer " ID1_LOWER " (%s: entry 1): no certificate", path);
  assert_string_equal(err.message, json);
  assert_int_equal(err.status, CS_ERR_CONFIG);
  assert_null(cs_verify_signer_facts(s));
  assert_int_equal(cs_verify_signer_warnings(s, AT_2026_12_01), 0);

  s = cs_verify_signers_get0(store, 1);
  assert_true(cs_verify_signer_usable(s, NULL));
  assert_null(strstr(cs_verify_signer_name(s), "PRIVATE"));
  assert_null(strstr(cs_verify_signer_source(s), "PRIVATE"));
  snprintf(json, sizeof(json), "%s: entry 2", path);
  assert_string_equal(cs_verify_signer_source(s), json);

  /* The same id again, from another file, any case: refused. */
  snprintf(json, sizeof(json), "{\"id\": \"%s\"}", ID2);
  write_text(path, json);
  assert_int_equal(cs_verify_signers_load(store, path, &err), CS_ERR_CONFIG);
  snprintf(json, sizeof(json), "%s: entry 1: signer id " ID2 " is listed twice",
           path);
  assert_string_equal(err.message, json);
  assert_int_equal(cs_verify_signers_count(store), 2);
  unlink(path);

  assert_int_equal(cs_verify_signers_load(store, path, &err), CS_ERR_CONFIG);
  snprintf(json, sizeof(json), "%s: cannot open: No such file or directory",
           path);
  assert_string_equal(err.message, json);
  cs_verify_signers_free(store);
  cs_arena_cleanup(&arena);
}

/* Writes a fixture's PEM into <tmp>/<dir>/<file>, after `prefix`. */
static void put_fixture(world *w, const char *name, const char *dir,
                        const char *file, const char *prefix)
{
  cs_arena arena;
  char src[96];
  char path[512];
  cs_bytes pem;
  FILE *f;

  cs_arena_init(&arena, 4096);
  snprintf(src, sizeof(src), "%s.pem", name);
  pem = fx_read(&arena, fx_path(&arena, src));
  assert_non_null(pem.ptr);
  snprintf(path, sizeof(path), "%s/%s/%s", w->tmp, dir, file);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(prefix, f);
  assert_int_equal(fwrite(pem.ptr, 1, pem.len, f), pem.len);
  fclose(f);
  cs_arena_cleanup(&arena);
}

#define UUID_A "0A1B2C3D-0000-4000-8000-00000000000A"
#define UUID_A_LOWER "0a1b2c3d-0000-4000-8000-00000000000a"
#define UUID_B "0a1b2c3d-0000-4000-8000-00000000000b"
#define UUID_C "0a1b2c3d-0000-4000-8000-00000000000c"
#define UUID_D "0a1b2c3d-0000-4000-8000-00000000000d"

/*
 * <tmp>/dir: four signers (an upper-case name, a key block before the
 * certificate, broken base64, a v1 leaf) and two files to skip.
 */
static void make_signer_dir(world *w, char *dir, size_t size)
{
  char path[512];

  snprintf(dir, size, "%s/dir", w->tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  put_fixture(w, "ca-p384", "dir", UUID_A ".pem", "");
  put_fixture(w, "ca-dsa", "dir", "README.txt", "");
  put_fixture(w, "ca-dsa", "dir", ".hidden.pem", "");
  put_fixture(w, "ca-ed448", "dir", UUID_B ".pem",
              "-----BEGIN PRIVATE KEY-----\nMIIBVQ==\n"
              "-----END PRIVATE KEY-----\n");
  snprintf(path, sizeof(path), "%s/" UUID_C ".pem", dir);
  write_text(path, "-----BEGIN CERTIFICATE-----\nnot base64\n"
                   "-----END CERTIFICATE-----\n");
  put_fixture(w, "leaf-no-ext", "dir", UUID_D ".pem", "");
}

static void test_signers_dir(void **state)
{
  world *w = *state;
  char dir[256];
  char want[1200];
  cs_verify_signers *store = cs_verify_signers_new();
  cs_error err;
  const cs_verify_signer *s;

  make_signer_dir(w, dir, sizeof(dir));
  assert_int_equal(cs_verify_signers_load(store, dir, &err), CS_OK);
  assert_int_equal(cs_verify_signers_count(store), 4);

  s = cs_verify_signers_find(store, UUID_A);
  assert_string_equal(cs_verify_signer_id(s), UUID_A_LOWER);
  assert_string_equal(cs_verify_signer_name(s), "Example P-384 CA");
  snprintf(want, sizeof(want), "%s/" UUID_A ".pem", dir);
  assert_string_equal(cs_verify_signer_source(s), want);

  /* A key block first: the first CERTIFICATE block is the signer. */
  s = cs_verify_signers_find(store, UUID_B);
  assert_true(cs_verify_signer_usable(s, NULL));
  assert_string_equal(cs_verify_signer_name(s), "Example Ed448 CA");

  /* Unusable: the name falls back to the file name. */
  s = cs_verify_signers_find(store, UUID_C);
  assert_false(cs_verify_signer_usable(s, &err));
  assert_string_equal(cs_verify_signer_name(s), UUID_C ".pem");
  snprintf(want, sizeof(want),
           "signer " UUID_C " (%s/" UUID_C ".pem): no PEM CERTIFICATE "
           "block decodes",
           dir);
  assert_string_equal(err.message, want);

  /* A v1 leaf: no basicConstraints, no keyUsage. */
  s = cs_verify_signers_find(store, UUID_D);
  assert_int_equal(cs_verify_signer_warnings(s, AT_2026_12_01),
                   CS_SIGNER_WARN_NOT_CA);
  cs_verify_signers_free(store);
  remove_dir(dir);
}

static void test_signers_dir_errors(void **state)
{
  world *w = *state;
  char dir[256];
  char want[1200];
  cs_verify_signers *store = cs_verify_signers_new();
  cs_error err;

  /* Loading the folder again: every id is taken. */
  make_signer_dir(w, dir, sizeof(dir));
  assert_int_equal(cs_verify_signers_load(store, dir, &err), CS_OK);
  assert_int_equal(cs_verify_signers_load(store, dir, &err), CS_ERR_CONFIG);
  snprintf(want, sizeof(want),
           "%s/" UUID_A ".pem: signer id " UUID_A_LOWER " is listed twice",
           dir);
  assert_string_equal(err.message, want);
  assert_int_equal(cs_verify_signers_count(store), 4);
  cs_verify_signers_free(store);

  /* A .pem whose name is not a UUID fails the folder, adding nothing. */
  store = cs_verify_signers_new();
  put_fixture(w, "ca-p256", "dir", "ca.pem", "");
  assert_int_equal(cs_verify_signers_load(store, dir, &err), CS_ERR_CONFIG);
  snprintf(want, sizeof(want), "%s/ca.pem: file name is not <uuid>.pem", dir);
  assert_string_equal(err.message, want);
  assert_int_equal(cs_verify_signers_count(store), 0);
  cs_verify_signers_free(store);
  remove_dir(dir);
}

static void expect_unusable(world *w, const char *name, const char *why)
{
  const test_signer *t = find_signer(w, name);
  cs_error err;
  const char *got;

  assert_false(cs_verify_signer_usable(t->signer, &err));
  got = strstr(err.message, "): ");
  assert_non_null(got);
  assert_string_equal(got + 3, why);
  assert_null(cs_verify_signer_facts(t->signer));
}

static void test_signers_unusable(void **state)
{
  world *w = *state;

  expect_unusable(w, "fixture:x25519",
                  "key algorithm X25519 cannot verify signatures");
  expect_unusable(
      w, CT "explicit_curve_ca.pem",
      MALFORMED
      "subjectPublicKeyInfo: EC parameters are not a named curve (byte 163)");
  expect_unusable(w, CT "cert_bad_utf8_subject.pem",
                  MALFORMED
                  "subject: string does not decode to Unicode (byte 315)");
  expect_unusable(w, CT "asn1_indefinite_length_encoding.pem",
                  MALFORMED
                  "TBSCertificate: indefinite length (BER, not DER) (byte 5)");
  expect_unusable(w, CT "test-corrupted.pem",
                  MALFORMED
                  "Certificate: length past the end of its container (byte 0)");
}

static void test_signers_warnings(void **state)
{
  world *w = *state;
  int64_t after_2034 = INT64_C(2019686401);
  struct {
    const char *signer;
    int64_t at;
    unsigned warnings;
  } cases[] = {
    { "fixture:ca-rsa", AT_2026_12_01, 0 },
    { "fixture:ca-rsa", INT64_C(2019686400), 0 },
    { "fixture:ca-rsa", after_2034, CS_SIGNER_WARN_EXPIRED },
    { "fixture:ca-no-kcs", AT_2026_12_01, CS_SIGNER_WARN_NO_KEY_CERT_SIGN },
    { "fixture:ca-expired", AT_2026_12_01, CS_SIGNER_WARN_EXPIRED },
    { "fixture:leaf-rsa", AT_2026_12_01,
      CS_SIGNER_WARN_NOT_CA | CS_SIGNER_WARN_NO_KEY_CERT_SIGN },
    { "fixture:leaf-rsa", after_2034,
      CS_SIGNER_WARN_NOT_CA | CS_SIGNER_WARN_NO_KEY_CERT_SIGN |
          CS_SIGNER_WARN_EXPIRED },
    { CT "null_chars.pem", AT_2026_12_01,
      CS_SIGNER_WARN_NOT_CA | CS_SIGNER_WARN_NO_KEY_CERT_SIGN |
          CS_SIGNER_WARN_EXPIRED },
    { "example:6513270e-269e-4d37-b2a7-4de452e6b438", AT_2026_12_01, 0 },
    { "example:d23f0824-128b-4f33-8c5c-7fd0a6a3a450", AT_2026_12_01, 0 },
    { "example:9531985d-5d9d-49f8-9818-e811892f902b", AT_2026_12_01, 0 },
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const test_signer *t = find_signer(w, cases[i].signer);

    if (cs_verify_signer_warnings(t->signer, cases[i].at) !=
        cases[i].warnings) {
      fail_msg("%s: warnings %u, want %u", cases[i].signer,
               cs_verify_signer_warnings(t->signer, cases[i].at),
               cases[i].warnings);
    }
  }
}

/* The example fleet's signers, as its README describes them. */
static void test_example_signers(void **state)
{
  world *w = *state;
  static const struct {
    const char *id;
    const char *name;
    cs_sig_kind kind;
  } expect[] = {
    { "6513270e-269e-4d37-b2a7-4de452e6b438",
      "CN=Example Device Issuing CA,O=Example Corp", CS_SIG_RSA_PKCS1 },
    { "d23f0824-128b-4f33-8c5c-7fd0a6a3a450",
      "CN=Example Linux Device CA,O=Example Corp", CS_SIG_RSA_PKCS1 },
    { "9531985d-5d9d-49f8-9818-e811892f902b",
      "CN=Example Mac Device CA,O=Example Corp", CS_SIG_ED25519 },
  };

  for (size_t i = 0; i < 3; i++) {
    const cs_verify_signer *s = cs_verify_signers_find(w->store, expect[i].id);

    assert_non_null(s);
    assert_string_equal(cs_verify_signer_name(s), expect[i].name);
    assert_true(cs_verify_signer_usable(s, NULL));
    assert_int_equal(cs_verify_signer_facts(s)->sig_kind, expect[i].kind);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_agrees_with_openssl),
    cmocka_unit_test(test_tampered_copies),
    cmocka_unit_test(test_tampered_facts),
    cmocka_unit_test(test_truncations),
    cmocka_unit_test(test_empty_and_tiny_input),
    cmocka_unit_test(test_fixture_facts),
#ifndef __SANITIZE_ADDRESS__
    cmocka_unit_test(test_parse_allocates_nothing),
#endif
    cmocka_unit_test(test_signatures_agree_with_openssl),
    cmocka_unit_test(test_issuer_names),
    cmocka_unit_test(test_kind_must_fit_key),
    cmocka_unit_test(test_ct_manifest),
    cmocka_unit_test(test_ct_oddities),
    cmocka_unit_test(test_limbo_explicit_curves),
    cmocka_unit_test(test_signers_json_shapes),
    cmocka_unit_test(test_signers_json_errors),
    cmocka_unit_test(test_signers_json_quirks),
    cmocka_unit_test(test_signers_dir),
    cmocka_unit_test(test_signers_dir_errors),
    cmocka_unit_test(test_signers_unusable),
    cmocka_unit_test(test_signers_warnings),
    cmocka_unit_test(test_example_signers),
  };

  return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
