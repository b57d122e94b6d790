/*
 * cs_gen_pki.c - the fleet's keys and CAs, and the rendering of a
 * certificate specification into DER.
 *
 * Keys come from OpenSSL's own generators fed by the seeded streams of
 * cs_gen_rng.c, so they are real keys that the same seed makes again.
 * The builder checks what it made: a certificate whose signature is
 * meant to verify is verified with the issuer's key, and one meant not
 * to is checked not to, so that the truth never rests on an untested
 * assumption about the bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "cs_gen.h"

#define DAY 86400

/* The example OID of ITU-T X.667: a UUID, not an algorithm. */
static const char unsupported_oid[] =
    "2.25.329800735698586629295641978511506172918";

static const char *alg_label(cs_gen_alg alg)
{
  static const char *labels[] = { "RSA-2048", "RSA-3072", "RSA-4096",
                                  "RSA-PSS-2048", "ECDSA P-256",
                                  "ECDSA P-384", "Ed25519" };

  return labels[alg];
}

static EVP_PKEY *keygen(cs_gen_alg alg, uint64_t seed, const char *label,
                        uint64_t index)
{
  cs_gen_rand_reseed(seed, label, index);

  switch (alg) {
  case CS_GEN_ALG_RSA2048:
  case CS_GEN_ALG_RSA2048_PSS:
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  case CS_GEN_ALG_RSA3072:
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
  case CS_GEN_ALG_RSA4096:
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
  case CS_GEN_ALG_P256:
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  case CS_GEN_ALG_P384:
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  default:
    return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  }
}

static X509_NAME *make_name(const char *cn, const char *org)
{
  X509_NAME *name = X509_NAME_new();

  if (name == NULL) {
    return NULL;
  }
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  (const unsigned char *)org, -1, -1, 0) ||
      (cn != NULL &&
       !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0))) {
    X509_NAME_free(name);
    return NULL;
  }
  return name;
}

/*
 * The same name in upper case with its first space doubled: equal to
 * the original under X.509 name comparison, different in bytes.
 */
static X509_NAME *make_folded_name(const char *cn, const char *org)
{
  char cn_folded[CS_GEN_TEXT_MAX * 2];
  char org_upper[CS_GEN_TEXT_MAX];
  size_t i, j = 0;
  bool doubled = false;

  for (i = 0; cn[i] != '\0' && j + 2 < sizeof(cn_folded); i++) {
    cn_folded[j++] = (char)toupper((unsigned char)cn[i]);
    if (cn[i] == ' ' && !doubled) {
      cn_folded[j++] = ' ';
      doubled = true;
    }
  }
  cn_folded[j] = '\0';

  for (i = 0; org[i] != '\0' && i + 1 < sizeof(org_upper); i++) {
    org_upper[i] = (char)toupper((unsigned char)org[i]);
  }
  org_upper[i] = '\0';
  return make_name(cn_folded, org_upper);
}

static const EVP_MD *alg_md(cs_gen_alg alg, bool sha1)
{
  if (alg == CS_GEN_ALG_ED25519) {
    return NULL;
  }
  if (sha1) {
    return EVP_sha1();
  }
  if (alg == CS_GEN_ALG_P384 || alg == CS_GEN_ALG_RSA4096) {
    return EVP_sha384();
  }
  return EVP_sha256();
}

/*
 * Signs `x` with `key`. PSS uses MGF1 with the same hash and a salt as
 * long as the hash; its salt and ECDSA nonces come from the stream
 * named by `rand_index`.
 */
static bool sign_cert(X509 *x, EVP_PKEY *key, cs_gen_alg alg, bool sha1,
                      uint64_t seed, uint64_t rand_index)
{
  const EVP_MD *md = alg_md(alg, sha1);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  bool ok = false;

  if (ctx == NULL) {
    return false;
  }
  cs_gen_rand_reseed(seed, "signature", rand_index);
  if (EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1) {
    goto done;
  }
  if (alg == CS_GEN_ALG_RSA2048_PSS &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)) {
    goto done;
  }
  ok = X509_sign_ctx(x, ctx) > 0;

done:
  EVP_MD_CTX_free(ctx);
  return ok;
}

/* "YYYYMMDDHHMMSSZ"; OpenSSL writes UTCTime for 1950-2049 from it. */
static bool set_time(ASN1_TIME *t, int64_t when)
{
  char text[CS_TIME_TEXT_MAX];
  char asn1[20];

  cs_time_format(when, text);
  snprintf(asn1, sizeof(asn1), "%.4s%.2s%.2s%.2s%.2s%.2sZ", text, text + 5,
           text + 8, text + 11, text + 14, text + 17);
  return ASN1_TIME_set_string_X509(t, asn1) == 1;
}

static bool set_serial(X509 *x, const uint8_t serial[16])
{
  BIGNUM *bn = BN_bin2bn(serial, 16, NULL);
  bool ok = bn != NULL &&
            BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

  BN_free(bn);
  return ok;
}

static bool add_ca_extensions(X509 *x)
{
  BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
  ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
  bool ok = false;

  if (bc == NULL || ku == NULL) {
    goto done;
  }
  bc->ca = 0xff; /* DER's TRUE; OpenSSL writes the value as given */
  if (!ASN1_BIT_STRING_set_bit(ku, 5, 1) ||
      !ASN1_BIT_STRING_set_bit(ku, 6, 1)) {
    goto done;
  }
  ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0) == 1 &&
       X509_add1_ext_i2d(x, NID_key_usage, ku, 1, 0) == 1;

done:
  BASIC_CONSTRAINTS_free(bc);
  ASN1_BIT_STRING_free(ku);
  return ok;
}

static bool add_eku(X509 *x, unsigned eku)
{
  static const struct { unsigned bit; int nid; } map[] = {
    { CS_GEN_EKU_SERVER, NID_server_auth },
    { CS_GEN_EKU_CLIENT, NID_client_auth },
    { CS_GEN_EKU_EMAIL, NID_email_protect },
    { CS_GEN_EKU_ANY, NID_anyExtendedKeyUsage },
  };
  EXTENDED_KEY_USAGE *list = sk_ASN1_OBJECT_new_null();
  bool ok = list != NULL;
  size_t i;

  for (i = 0; ok && i < sizeof(map) / sizeof(map[0]); i++) {
    if ((eku & map[i].bit) != 0) {
      ok = sk_ASN1_OBJECT_push(list, OBJ_nid2obj(map[i].nid)) > 0;
    }
  }
  ok = ok && X509_add1_ext_i2d(x, NID_ext_key_usage, list, 0, 0) == 1;
  sk_ASN1_OBJECT_free(list);
  return ok;
}

static GENERAL_NAME *make_upn(const char *value)
{
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_TYPE *inner = ASN1_TYPE_new();
  ASN1_UTF8STRING *text = ASN1_UTF8STRING_new();
  ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1);

  if (gn == NULL || inner == NULL || text == NULL || oid == NULL ||
      !ASN1_STRING_set(text, value, -1)) {
    goto fail;
  }
  ASN1_TYPE_set(inner, V_ASN1_UTF8STRING, text);
  text = NULL;
  if (!GENERAL_NAME_set0_othername(gn, oid, inner)) {
    goto fail;
  }
  return gn;

fail:
  GENERAL_NAME_free(gn);
  ASN1_TYPE_free(inner);
  ASN1_UTF8STRING_free(text);
  ASN1_OBJECT_free(oid);
  return NULL;
}

static GENERAL_NAME *make_san(const cs_gen_san *san)
{
  GENERAL_NAME *gn;
  ASN1_IA5STRING *text;
  int type = GEN_DNS;

  if (san->type == CS_GEN_SAN_UPN) {
    return make_upn(san->value);
  }
  if (san->type == CS_GEN_SAN_IP) {
    return a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD,
                            san->value, 0);
  }
  if (san->type == CS_GEN_SAN_EMAIL) {
    type = GEN_EMAIL;
  } else if (san->type == CS_GEN_SAN_URI) {
    type = GEN_URI;
  }

  gn = GENERAL_NAME_new();
  text = ASN1_IA5STRING_new();
  if (gn == NULL || text == NULL || !ASN1_STRING_set(text, san->value, -1)) {
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(text);
    return NULL;
  }
  GENERAL_NAME_set0_value(gn, type, text);
  return gn;
}

static bool add_sans(X509 *x, const cs_gen_spec *spec)
{
  GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
  bool ok = names != NULL;
  size_t i;

  for (i = 0; ok && i < spec->san_count; i++) {
    GENERAL_NAME *gn = make_san(&spec->sans[i]);

    ok = gn != NULL && sk_GENERAL_NAME_push(names, gn) > 0;
    if (!ok) {
      GENERAL_NAME_free(gn);
    }
  }
  ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, names, 0, 0) == 1;
  GENERAL_NAMES_free(names);
  return ok;
}

static bool add_extensions(X509 *x, const cs_gen_spec *spec)
{
  if (spec->is_ca && !add_ca_extensions(x)) {
    return false;
  }
  if (spec->has_eku && !add_eku(x, spec->eku)) {
    return false;
  }
  if (spec->san_count > 0 && !add_sans(x, spec)) {
    return false;
  }
  return true;
}

static const cs_gen_ca *issuer_ca(const cs_gen_pki *pki, int issuer)
{
  if (issuer >= 0) {
    return &pki->signers[issuer];
  }
  if (issuer == CS_GEN_ISSUER_ROOT) {
    return &pki->root;
  }
  if (issuer == CS_GEN_ISSUER_OTHER0) {
    return &pki->other_cas[0];
  }
  if (issuer == CS_GEN_ISSUER_OTHER1) {
    return &pki->other_cas[1];
  }
  return NULL;
}

/* A few RSA keys (slow to make), then P-256 and Ed25519 keys. */
static cs_gen_alg pool_alg(int key)
{
  if (key < 2) {
    return CS_GEN_ALG_RSA2048;
  }
  return key < 13 ? CS_GEN_ALG_P256 : CS_GEN_ALG_ED25519;
}

/* The key that signs and its algorithm, by the specification. */
static void signing_key(const cs_gen_pki *pki, const cs_gen_spec *spec,
                        EVP_PKEY **out_key, cs_gen_alg *out_alg)
{
  const cs_gen_ca *ca = issuer_ca(pki, spec->issuer);

  if (ca == NULL) {
    *out_key = pki->pool[spec->key];
    *out_alg = pool_alg(spec->key);
    return;
  }
  if (spec->sig == CS_GEN_SIG_IMPOSTOR && spec->issuer >= 0) {
    ca = &pki->impostors[spec->issuer];
  }
  *out_key = ca->key;
  *out_alg = ca->alg;
}

static X509 *make_unsigned(const cs_gen_pki *pki, const cs_gen_spec *spec)
{
  X509 *x = X509_new();
  X509_NAME *subject = make_name(spec->has_cn ? spec->cn : NULL,
                                 spec->org);
  const cs_gen_ca *ca = issuer_ca(pki, spec->issuer);
  const X509_NAME *issuer = subject;

  if (ca != NULL) {
    issuer = spec->issuer_folded ? ca->name_folded : ca->name;
  }
  if (x == NULL || subject == NULL || !X509_set_version(x, X509_VERSION_3) ||
      !set_serial(x, spec->serial) || !X509_set_subject_name(x, subject) ||
      !X509_set_issuer_name(x, issuer) ||
      !set_time(X509_getm_notBefore(x), spec->not_before) ||
      !set_time(X509_getm_notAfter(x), spec->not_after) ||
      !X509_set_pubkey(x, pki->pool[spec->key]) ||
      !add_extensions(x, spec)) {
    X509_free(x);
    X509_NAME_free(subject);
    return NULL;
  }
  X509_NAME_free(subject);
  return x;
}

/* ---- DER surgery for the unsupported algorithm ---- */

typedef struct tlv {
  const uint8_t *start;
  size_t header;
  size_t total;
} tlv;

static bool tlv_read(const uint8_t *p, size_t len, tlv *out)
{
  size_t n, i, body = 0;

  if (len < 2) {
    return false;
  }
  if (p[1] < 0x80) {
    body = p[1];
    n = 2;
  } else {
    size_t count = p[1] & 0x7f;

    if (count == 0 || count > 4 || len < 2 + count) {
      return false;
    }
    for (i = 0; i < count; i++) {
      body = (body << 8) | p[2 + i];
    }
    n = 2 + count;
  }
  if (body > len - n) {
    return false;
  }
  out->start = p;
  out->header = n;
  out->total = n + body;
  return true;
}

static size_t put_header(uint8_t *out, uint8_t tag, size_t len)
{
  size_t n = 0, i;
  uint8_t digits[4];

  out[n++] = tag;
  if (len < 0x80) {
    out[n++] = (uint8_t)len;
    return n;
  }
  for (i = 0; len > 0; i++) {
    digits[i] = (uint8_t)len;
    len >>= 8;
  }
  out[n++] = (uint8_t)(0x80 | i);
  while (i > 0) {
    out[n++] = digits[--i];
  }
  return n;
}

/*
 * Rewrites both AlgorithmIdentifiers of a certificate (the one inside
 * the signed part and the outer one) to the unsupported OID without
 * parameters, keeping the signature bits: a well-formed certificate
 * whose algorithm no verifier knows.
 */
static bool rewrite_algorithm(uint8_t **der, size_t *len)
{
  uint8_t alg[64];
  size_t alg_len;
  ASN1_OBJECT *oid = OBJ_txt2obj(unsupported_oid, 1);
  uint8_t *p = alg + 2;
  int oid_len = oid == NULL ? -1 : i2d_ASN1_OBJECT(oid, NULL);
  tlv cert, tbs, outer_alg, sig, field, inner_alg;
  const uint8_t *q, *tbs_end;
  uint8_t *out, *w;
  size_t tbs_body;

  if (oid_len <= 0 || oid_len > (int)sizeof(alg) - 2) {
    ASN1_OBJECT_free(oid);
    return false;
  }
  i2d_ASN1_OBJECT(oid, &p);
  ASN1_OBJECT_free(oid);
  alg[0] = 0x30;
  alg[1] = (uint8_t)oid_len;
  alg_len = (size_t)oid_len + 2;

  if (!tlv_read(*der, *len, &cert)) {
    return false;
  }
  q = *der + cert.header;
  if (!tlv_read(q, cert.total - cert.header, &tbs) ||
      !tlv_read(q + tbs.total, cert.total - cert.header - tbs.total,
                &outer_alg) ||
      !tlv_read(q + tbs.total + outer_alg.total,
                cert.total - cert.header - tbs.total - outer_alg.total,
                &sig)) {
    return false;
  }

  /* Inside the TBS: [0] version, serial, then the algorithm. */
  q = tbs.start + tbs.header;
  tbs_end = tbs.start + tbs.total;
  if (!tlv_read(q, (size_t)(tbs_end - q), &field)) {
    return false;
  }
  if (field.start[0] == 0xa0) {
    q += field.total;
    if (!tlv_read(q, (size_t)(tbs_end - q), &field)) {
      return false;
    }
  }
  q += field.total;
  if (!tlv_read(q, (size_t)(tbs_end - q), &inner_alg)) {
    return false;
  }

  tbs_body = tbs.total - tbs.header - inner_alg.total + alg_len;
  out = malloc(*len + 2 * alg_len + 16);
  if (out == NULL) {
    return false;
  }

  /* The body of the new certificate goes after room for its header. */
  w = out + 8;
  w += put_header(w, 0x30, tbs_body);
  memcpy(w, tbs.start + tbs.header,
         (size_t)(inner_alg.start - tbs.start) - tbs.header);
  w += (size_t)(inner_alg.start - tbs.start) - tbs.header;
  memcpy(w, alg, alg_len);
  w += alg_len;
  memcpy(w, inner_alg.start + inner_alg.total,
         (size_t)(tbs_end - inner_alg.start) - inner_alg.total);
  w += (size_t)(tbs_end - inner_alg.start) - inner_alg.total;
  memcpy(w, alg, alg_len);
  w += alg_len;
  memcpy(w, sig.start, sig.total);
  w += sig.total;

  {
    size_t body = (size_t)(w - (out + 8));
    uint8_t head[8];
    size_t head_len = put_header(head, 0x30, body);

    memmove(out + head_len, out + 8, body);
    memcpy(out, head, head_len);
    free(*der);
    *der = out;
    *len = head_len + body;
  }
  return true;
}

/* ---- malformed renderings ---- */

static bool make_malformed(cs_gen_malformed kind, uint8_t **der,
                           size_t *len)
{
  uint8_t *grown;

  if (kind == CS_GEN_MAL_TRUNCATED) {
    *len -= 7;
    return true;
  }
  if (kind == CS_GEN_MAL_TRAILING) {
    grown = realloc(*der, *len + 2);
    if (grown == NULL) {
      return false;
    }
    grown[*len] = 0;
    grown[*len + 1] = 0;
    *der = grown;
    *len += 2;
    return true;
  }
  {
    BIO *bio = BIO_new(BIO_s_mem());
    char *text;
    long text_len;
    bool ok;

    ok = bio != NULL &&
         PEM_write_bio(bio, "CERTIFICATE", "", *der, (long)*len) > 0;
    text_len = ok ? BIO_get_mem_data(bio, &text) : 0;
    grown = ok ? malloc((size_t)text_len) : NULL;
    if (grown != NULL) {
      memcpy(grown, text, (size_t)text_len);
      free(*der);
      *der = grown;
      *len = (size_t)text_len;
    }
    BIO_free(bio);
    return grown != NULL;
  }
}

/* ---- self-checks ---- */

static EVP_PKEY *verify_key(const cs_gen_pki *pki, const cs_gen_spec *spec)
{
  const cs_gen_ca *ca = issuer_ca(pki, spec->issuer);

  return ca == NULL ? pki->pool[spec->key] : ca->key;
}

/* The DER parses, re-encodes to itself and verifies as intended. */
static bool self_check(const cs_gen_pki *pki, const cs_gen_spec *spec,
                       const uint8_t *der, size_t len)
{
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  unsigned char *again = NULL;
  int again_len;
  bool want_valid = spec->sig == CS_GEN_SIG_NORMAL ||
                    spec->sig == CS_GEN_SIG_SHA1;
  bool ok;

  if (x == NULL || p != der + len) {
    X509_free(x);
    return false;
  }
  again_len = i2d_X509(x, &again);
  ok = again_len == (int)len && memcmp(again, der, len) == 0;
  if (ok && spec->sig != CS_GEN_SIG_UNSUPPORTED) {
    ok = (X509_verify(x, verify_key(pki, spec)) == 1) == want_valid;
  }
  OPENSSL_free(again);
  X509_free(x);
  ERR_clear_error();
  return ok;
}

static bool malformed_check(const uint8_t *der, size_t len)
{
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  bool whole = x != NULL && p == der + len;

  X509_free(x);
  ERR_clear_error();
  return !whole;
}

bool cs_gen_cert_build(const cs_gen_pki *pki, const cs_gen_spec *spec,
                       uint64_t seed, uint64_t rand_index,
                       uint8_t **out_der, size_t *out_len)
{
  X509 *x = make_unsigned(pki, spec);
  EVP_PKEY *key;
  cs_gen_alg alg;
  unsigned char *tmp = NULL;
  int len;
  uint8_t *der;
  size_t der_len;

  if (x == NULL) {
    return false;
  }
  signing_key(pki, spec, &key, &alg);
  if (!sign_cert(x, key, alg, spec->sig == CS_GEN_SIG_SHA1, seed,
                 rand_index) ||
      (len = i2d_X509(x, &tmp)) <= 0) {
    X509_free(x);
    return false;
  }
  X509_free(x);

  der = malloc((size_t)len);
  if (der == NULL) {
    OPENSSL_free(tmp);
    return false;
  }
  memcpy(der, tmp, (size_t)len);
  OPENSSL_free(tmp);
  der_len = (size_t)len;

  /* The signature BIT STRING ends the certificate. */
  if (spec->sig == CS_GEN_SIG_FLIPPED) {
    der[der_len - 1] ^= 0x01;
  }
  if (spec->sig == CS_GEN_SIG_UNSUPPORTED &&
      !rewrite_algorithm(&der, &der_len)) {
    free(der);
    return false;
  }
  if (!self_check(pki, spec, der, der_len)) {
    fprintf(stderr, "certscan-gen: self-check failed for a certificate\n");
    free(der);
    return false;
  }
  if (spec->malformed != CS_GEN_MAL_NONE &&
      (!make_malformed(spec->malformed, &der, &der_len) ||
       !malformed_check(der, der_len))) {
    free(der);
    return false;
  }
  *out_der = der;
  *out_len = der_len;
  return true;
}

char *cs_gen_cert_pem(X509 *cert)
{
  BIO *bio = BIO_new(BIO_s_mem());
  char *data;
  char *out = NULL;
  long len;

  if (bio != NULL && PEM_write_bio_X509(bio, cert) == 1) {
    len = BIO_get_mem_data(bio, &data);
    out = malloc((size_t)len + 1);
    if (out != NULL) {
      memcpy(out, data, (size_t)len);
      out[len] = '\0';
    }
  }
  BIO_free(bio);
  return out;
}

/* ---- CAs ---- */

static bool ca_names(cs_gen_ca *ca, const char *cn, const char *org)
{
  size_t len = strlen(cn) + strlen(org) + 8;

  ca->name = make_name(cn, org);
  ca->name_folded = make_folded_name(cn, org);
  ca->display_name = malloc(len);
  if (ca->name == NULL || ca->name_folded == NULL ||
      ca->display_name == NULL) {
    return false;
  }
  snprintf(ca->display_name, len, "CN=%s,O=%s", cn, org);
  return true;
}

/* A CA certificate for `ca`, signed by `by` (itself when NULL). */
static bool ca_certify(cs_gen_ca *ca, const cs_gen_ca *by, int64_t at,
                       uint64_t seed, uint64_t serial_index)
{
  const cs_gen_ca *signer = by == NULL ? ca : by;
  X509 *x = X509_new();
  uint8_t serial[16] = { 0x7e };
  bool ok;
  int i;

  for (i = 0; i < 8; i++) {
    serial[8 + i] = (uint8_t)(serial_index >> (8 * (7 - i)));
  }
  ok = x != NULL && X509_set_version(x, X509_VERSION_3) &&
       set_serial(x, serial) && X509_set_subject_name(x, ca->name) &&
       X509_set_issuer_name(x, signer->name) &&
       set_time(X509_getm_notBefore(x), at - 3 * 365 * (int64_t)DAY) &&
       set_time(X509_getm_notAfter(x), at + 10 * 365 * (int64_t)DAY) &&
       X509_set_pubkey(x, ca->key) && add_ca_extensions(x) &&
       sign_cert(x, signer->key, signer->alg, false, seed,
                 UINT64_MAX - serial_index);
  if (!ok) {
    X509_free(x);
    return false;
  }
  ca->cert = x;
  ca->pem = cs_gen_cert_pem(x);
  return ca->pem != NULL;
}

static bool ca_make(cs_gen_ca *ca, cs_gen_alg alg, const char *cn,
                    const char *org, uint64_t seed, const char *label,
                    uint64_t index)
{
  cs_gen_rng rng;

  ca->alg = alg;
  ca->key = keygen(alg, seed, label, index);
  cs_gen_rng_init(&rng, seed, label, index);
  cs_gen_rng_uuid(&rng, ca->id);
  return ca->key != NULL && ca_names(ca, cn, org);
}

static void signer_cn(const cs_gen_options *options, size_t i, char *out,
                      size_t out_size)
{
  size_t j, same = 0;

  for (j = 0; j < i; j++) {
    same += options->signers[j] == options->signers[i];
  }
  if (same == 0) {
    snprintf(out, out_size, "Example %s Device CA",
             alg_label(options->signers[i]));
  } else {
    snprintf(out, out_size, "Example %s Device CA %zu",
             alg_label(options->signers[i]), same + 1);
  }
}

static bool make_signers(cs_gen_pki *pki, const cs_gen_options *options)
{
  char cn[CS_GEN_TEXT_MAX];
  size_t i;

  for (i = 0; i < options->signer_count; i++) {
    cs_gen_alg alg = options->signers[i];

    signer_cn(options, i, cn, sizeof(cn));
    if (!ca_make(&pki->signers[i], alg, cn, "Example Corp",
                 options->seed, "signer", i) ||
        !ca_certify(&pki->signers[i], &pki->root, options->at,
                    options->seed, 100 + i) ||
        !ca_make(&pki->impostors[i], alg, cn, "Example Corp",
                 options->seed, "impostor", i)) {
      return false;
    }
    pki->signer_count++;
  }
  return true;
}

bool cs_gen_pki_init(cs_gen_pki *pki, const cs_gen_options *options)
{
  uint64_t seed = options->seed;
  size_t i;

  memset(pki, 0, sizeof(*pki));
  for (i = 0; i < CS_GEN_KEY_POOL; i++) {
    pki->pool[i] = keygen(pool_alg((int)i), seed, "leaf-key", i);
    if (pki->pool[i] == NULL) {
      goto fail;
    }
    {
      unsigned char *spki = NULL;
      int len = i2d_PUBKEY(pki->pool[i], &spki);

      if (len <= 0 || EVP_Digest(spki, (size_t)len,
                                 pki->pool_spki_sha256[i], NULL,
                                 EVP_sha256(), NULL) != 1) {
        OPENSSL_free(spki);
        goto fail;
      }
      OPENSSL_free(spki);
    }
  }

  if (!ca_make(&pki->root, CS_GEN_ALG_P384, "Example Fleet Root CA",
               "Example Corp", seed, "root", 0) ||
      !ca_certify(&pki->root, NULL, options->at, seed, 1) ||
      !ca_make(&pki->other_cas[0], CS_GEN_ALG_P256,
               "Other Corp Issuing CA 1", "Other Corp", seed, "other", 0) ||
      !ca_certify(&pki->other_cas[0], NULL, options->at, seed, 2) ||
      !ca_make(&pki->other_cas[1], CS_GEN_ALG_ED25519,
               "Other Corp Issuing CA 2", "Other Corp", seed, "other", 1) ||
      !ca_certify(&pki->other_cas[1], NULL, options->at, seed, 3) ||
      !make_signers(pki, options)) {
    goto fail;
  }
  return true;

fail:
  fprintf(stderr, "certscan-gen: cannot make the fleet's keys: %s\n",
          ERR_reason_error_string(ERR_peek_last_error()));
  cs_gen_pki_cleanup(pki);
  return false;
}

static void ca_cleanup(cs_gen_ca *ca)
{
  EVP_PKEY_free(ca->key);
  X509_NAME_free(ca->name);
  X509_NAME_free(ca->name_folded);
  X509_free(ca->cert);
  free(ca->display_name);
  free(ca->pem);
  memset(ca, 0, sizeof(*ca));
}

void cs_gen_pki_cleanup(cs_gen_pki *pki)
{
  size_t i;

  for (i = 0; i < CS_GEN_MAX_SIGNERS; i++) {
    ca_cleanup(&pki->signers[i]);
    ca_cleanup(&pki->impostors[i]);
  }
  ca_cleanup(&pki->root);
  ca_cleanup(&pki->other_cas[0]);
  ca_cleanup(&pki->other_cas[1]);
  for (i = 0; i < CS_GEN_KEY_POOL; i++) {
    EVP_PKEY_free(pki->pool[i]);
    pki->pool[i] = NULL;
  }
  pki->signer_count = 0;
}
