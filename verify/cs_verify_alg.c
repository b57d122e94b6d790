/*
 * cs_verify_alg.c - signature AlgorithmIdentifiers: which kind of key
 * and which hash, and the RSASSA-PSS parameters.
 *
 * Parameters are read as OpenSSL's X509_verify reads them: ignored for
 * PKCS#1 v1.5, ECDSA and DSA, required absent for EdDSA, decoded for
 * PSS. Valid DER naming something unusual is an unknown algorithm (the
 * check then answers "unsupported"); broken DER is a malformed
 * certificate.
 */
#include "cs_verify_internal.h"

typedef struct sig_entry {
  const char *oid;
  size_t oid_len;
  cs_sig_kind kind;
  cs_hash hash;
  const char *name;
} sig_entry;

#define RSA_OID(last) "\x2a\x86\x48\x86\xf7\x0d\x01\x01" last, 9
#define ECDSA_OID(tail, n) "\x2a\x86\x48\xce\x3d\x04" tail, 6 + (n)
#define NIST_OID(arc, last) "\x60\x86\x48\x01\x65\x03\x04" arc last, 9

static const sig_entry sig_table[] = {
  { RSA_OID("\x0b"), CS_SIG_RSA_PKCS1, CS_HASH_SHA256,
    "sha256WithRSAEncryption" },
  { RSA_OID("\x0c"), CS_SIG_RSA_PKCS1, CS_HASH_SHA384,
    "sha384WithRSAEncryption" },
  { RSA_OID("\x0d"), CS_SIG_RSA_PKCS1, CS_HASH_SHA512,
    "sha512WithRSAEncryption" },
  { RSA_OID("\x0e"), CS_SIG_RSA_PKCS1, CS_HASH_SHA224,
    "sha224WithRSAEncryption" },
  { RSA_OID("\x05"), CS_SIG_RSA_PKCS1, CS_HASH_SHA1,
    "sha1WithRSAEncryption" },
  { RSA_OID("\x04"), CS_SIG_RSA_PKCS1, CS_HASH_MD5, "md5WithRSAEncryption" },
  { "\x2b\x0e\x03\x02\x1d", 5, CS_SIG_RSA_PKCS1, CS_HASH_SHA1,
    "sha1WithRSA" },
  { RSA_OID("\x0a"), CS_SIG_RSA_PSS, CS_HASH_OTHER, "rsassaPss" },
  { ECDSA_OID("\x03\x02", 2), CS_SIG_ECDSA, CS_HASH_SHA256,
    "ecdsa-with-SHA256" },
  { ECDSA_OID("\x03\x03", 2), CS_SIG_ECDSA, CS_HASH_SHA384,
    "ecdsa-with-SHA384" },
  { ECDSA_OID("\x03\x04", 2), CS_SIG_ECDSA, CS_HASH_SHA512,
    "ecdsa-with-SHA512" },
  { ECDSA_OID("\x03\x01", 2), CS_SIG_ECDSA, CS_HASH_SHA224,
    "ecdsa-with-SHA224" },
  { ECDSA_OID("\x01", 1), CS_SIG_ECDSA, CS_HASH_SHA1, "ecdsa-with-SHA1" },
  { "\x2b\x65\x70", 3, CS_SIG_ED25519, CS_HASH_NONE, "Ed25519" },
  { "\x2b\x65\x71", 3, CS_SIG_ED448, CS_HASH_NONE, "Ed448" },
  { "\x2a\x86\x48\xce\x38\x04\x03", 7, CS_SIG_DSA, CS_HASH_SHA1,
    "dsaWithSHA1" },
  { NIST_OID("\x03", "\x01"), CS_SIG_DSA, CS_HASH_SHA224, "dsa_with_SHA224" },
  { NIST_OID("\x03", "\x02"), CS_SIG_DSA, CS_HASH_SHA256, "dsa_with_SHA256" },
  { NIST_OID("\x03", "\x03"), CS_SIG_DSA, CS_HASH_SHA384, "dsa_with_SHA384" },
  { NIST_OID("\x03", "\x04"), CS_SIG_DSA, CS_HASH_SHA512, "dsa_with_SHA512" },
};

static const sig_entry hash_table[] = {
  { "\x2b\x0e\x03\x02\x1a", 5, CS_SIG_UNKNOWN, CS_HASH_SHA1, "sha1" },
  { NIST_OID("\x02", "\x04"), CS_SIG_UNKNOWN, CS_HASH_SHA224, "sha224" },
  { NIST_OID("\x02", "\x01"), CS_SIG_UNKNOWN, CS_HASH_SHA256, "sha256" },
  { NIST_OID("\x02", "\x02"), CS_SIG_UNKNOWN, CS_HASH_SHA384, "sha384" },
  { NIST_OID("\x02", "\x03"), CS_SIG_UNKNOWN, CS_HASH_SHA512, "sha512" },
};

static const uint8_t oid_mgf1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
                                    0x0d, 0x01, 0x01, 0x08 };

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const sig_entry *lookup(const sig_entry *table, size_t count,
                               cs_bytes oid)
{
  for (size_t i = 0; i < count; i++) {
    if (cs_der_oid_is(oid, (const uint8_t *)table[i].oid,
                      table[i].oid_len)) {
      return &table[i];
    }
  }
  return NULL;
}

/*
 * AlgorithmIdentifier ::= SEQUENCE { OID, parameters ANY OPTIONAL }.
 * `out_params` is empty when there are none.
 */
static bool take_alg_id(cs_der_state *st, cs_bytes *in, const char *what,
                        cs_bytes *out_oid, cs_der_tlv *out_params)
{
  cs_der_tlv seq, oid;
  cs_bytes inner;

  if (!cs_der_take(st, in, CS_DER_SEQUENCE, what, &seq)) {
    return false;
  }
  inner = seq.contents;
  if (!cs_der_take(st, &inner, CS_DER_OID, what, &oid) ||
      !cs_der_check_oid(st, &oid, what)) {
    return false;
  }
  out_params->tag = 0;
  out_params->whole.ptr = inner.ptr;
  out_params->whole.len = 0;
  out_params->contents = out_params->whole;
  if (inner.len > 0 && !cs_der_next(st, &inner, what, out_params)) {
    return false;
  }
  *out_oid = oid.contents;
  return cs_der_end(st, inner, what);
}

/* A hash AlgorithmIdentifier inside PSS parameters: SHA-1 or SHA-2. */
static bool pss_hash(cs_der_state *st, cs_bytes in, cs_hash *out,
                     bool *usable)
{
  cs_bytes oid;
  cs_der_tlv params;
  const sig_entry *entry;

  if (!take_alg_id(st, &in, "RSASSA-PSS hash", &oid, &params) ||
      !cs_der_end(st, in, "RSASSA-PSS hash")) {
    return false;
  }
  entry = lookup(hash_table, COUNT(hash_table), oid);
  if (entry == NULL ||
      (params.whole.len != 0 && params.tag != CS_DER_NULL) ||
      params.contents.len != 0) {
    *usable = false;
    return true;
  }
  *out = entry->hash;
  return true;
}

/* maskGenAlgorithm: MGF1 with a hash AlgorithmIdentifier. */
static bool pss_mgf(cs_der_state *st, cs_bytes in, cs_hash *out,
                    bool *usable)
{
  cs_bytes oid;
  cs_der_tlv params;

  if (!take_alg_id(st, &in, "RSASSA-PSS mask generation", &oid, &params) ||
      !cs_der_end(st, in, "RSASSA-PSS mask generation")) {
    return false;
  }
  if (!CS_DER_OID_IS(oid, oid_mgf1) || params.tag != CS_DER_SEQUENCE) {
    *usable = false;
    return true;
  }
  return pss_hash(st, params.whole, out, usable);
}

/* An explicit [n] INTEGER field of the PSS parameters. */
static bool pss_integer(cs_der_state *st, cs_bytes in, int *out,
                        bool *usable)
{
  const char *what = "RSASSA-PSS parameters";
  cs_der_tlv tlv;

  if (!cs_der_take(st, &in, CS_DER_INTEGER, what, &tlv) ||
      !cs_der_end(st, in, what) || !cs_der_check_integer(st, &tlv, what)) {
    return false;
  }
  if ((tlv.contents.ptr[0] & 0x80) != 0 || tlv.contents.len > 2) {
    *usable = false;
    return true;
  }
  return cs_der_small_uint(st, &tlv, what, out);
}

/*
 * RSASSA-PSS-params ::= SEQUENCE { [0] hash DEFAULT sha1, [1] mgf
 * DEFAULT mgf1SHA1, [2] saltLength DEFAULT 20, [3] trailerField
 * DEFAULT 1 }. Explicit defaults are read like any value.
 */
static bool pss_decode(cs_der_state *st, cs_bytes in, cs_verify__pss *out,
                       bool *usable)
{
  const char *what = "RSASSA-PSS parameters";
  cs_der_tlv field;
  int trailer = 1;

  out->hash = CS_HASH_SHA1;
  out->mgf1_hash = CS_HASH_SHA1;
  out->salt_len = 20;
  *usable = true;
  if (cs_der_peek(in, CS_DER_CTX_CONS(0)) &&
      (!cs_der_next(st, &in, what, &field) ||
       !pss_hash(st, field.contents, &out->hash, usable))) {
    return false;
  }
  if (cs_der_peek(in, CS_DER_CTX_CONS(1)) &&
      (!cs_der_next(st, &in, what, &field) ||
       !pss_mgf(st, field.contents, &out->mgf1_hash, usable))) {
    return false;
  }
  if (cs_der_peek(in, CS_DER_CTX_CONS(2)) &&
      (!cs_der_next(st, &in, what, &field) ||
       !pss_integer(st, field.contents, &out->salt_len, usable))) {
    return false;
  }
  if (cs_der_peek(in, CS_DER_CTX_CONS(3)) &&
      (!cs_der_next(st, &in, what, &field) ||
       !pss_integer(st, field.contents, &trailer, usable))) {
    return false;
  }
  if (trailer != 1) {
    *usable = false;
  }
  return cs_der_end(st, in, what);
}

/* PSS needs its parameters as a SEQUENCE: absent or NULL is unusable. */
static bool pss_from_params(cs_der_state *st, const cs_der_tlv *params,
                            cs_verify__pss *out, bool *usable)
{
  if (params->tag != CS_DER_SEQUENCE) {
    *usable = false;
    return true;
  }
  return pss_decode(st, params->contents, out, usable);
}

static void set_unknown(cs_cert_facts *facts, const char *name)
{
  facts->sig_kind = CS_SIG_UNKNOWN;
  facts->sig_hash = CS_HASH_OTHER;
  facts->sig_name = name;
}

bool cs_verify__sig_alg(cs_der_state *st, cs_bytes alg, cs_cert_facts *facts)
{
  cs_bytes oid;
  cs_der_tlv params;
  const sig_entry *entry;
  cs_verify__pss pss;
  bool usable;

  if (!take_alg_id(st, &alg, "signatureAlgorithm", &oid, &params)) {
    return false;
  }
  entry = lookup(sig_table, COUNT(sig_table), oid);
  if (entry == NULL) {
    set_unknown(facts, "unknown");
    return true;
  }
  facts->sig_kind = entry->kind;
  facts->sig_hash = entry->hash;
  facts->sig_name = entry->name;

  if (entry->kind == CS_SIG_RSA_PSS) {
    if (!pss_from_params(st, &params, &pss, &usable)) {
      return false;
    }
    if (!usable) {
      set_unknown(facts, entry->name);
      return true;
    }
    facts->sig_hash = pss.hash;
  }
  if ((entry->kind == CS_SIG_ED25519 || entry->kind == CS_SIG_ED448) &&
      params.whole.len != 0) {
    set_unknown(facts, entry->name);
  }
  return true;
}

bool cs_verify__pss_params(cs_bytes alg, cs_verify__pss *out)
{
  cs_der_state st;
  cs_bytes oid;
  cs_der_tlv params;
  bool usable = false;

  cs_der_init(&st, alg.ptr);
  if (!take_alg_id(&st, &alg, "signatureAlgorithm", &oid, &params) ||
      !pss_from_params(&st, &params, out, &usable)) {
    return false;
  }
  return usable;
}
