/*
 * cs_verify_parse.c - one X.509 certificate, read from its DER without
 * decoding the public key: the walk over Certificate and
 * TBSCertificate, and the facts taken out on the way.
 */
#include "cs_verify_internal.h"

#include <string.h>

static const uint8_t oid_ec_public_key[] = { 0x2a, 0x86, 0x48, 0xce,
                                             0x3d, 0x02, 0x01 };

/* [0] EXPLICIT Version DEFAULT v1: present only for v2 and v3. */
static bool parse_version(cs_der_state *st, cs_bytes *tbs,
                          cs_cert_facts *out)
{
  const char *what = "version";
  cs_der_tlv outer, tlv;
  cs_bytes in;
  int value;

  out->version = 1;
  if (!cs_der_peek(*tbs, CS_DER_CTX_CONS(0))) {
    return true;
  }
  if (!cs_der_next(st, tbs, what, &outer)) {
    return false;
  }
  in = outer.contents;
  if (!cs_der_take(st, &in, CS_DER_INTEGER, what, &tlv) ||
      !cs_der_end(st, in, what) || !cs_der_check_integer(st, &tlv, what)) {
    return false;
  }
  if (tlv.contents.len != 1 || tlv.contents.ptr[0] > 2) {
    return cs_der_fail(st, tlv.whole.ptr, what, "not v1, v2 or v3");
  }
  value = tlv.contents.ptr[0];
  if (value == 0) {
    return cs_der_fail(st, outer.whole.ptr, what,
                       "default v1 encoded explicitly");
  }
  out->version = value + 1;
  return true;
}

static bool parse_serial(cs_der_state *st, cs_bytes *tbs,
                         cs_cert_facts *out)
{
  cs_der_tlv tlv;

  if (!cs_der_take(st, tbs, CS_DER_INTEGER, "serialNumber", &tlv) ||
      !cs_der_check_integer(st, &tlv, "serialNumber")) {
    return false;
  }
  out->serial = tlv.contents;
  return true;
}

static bool parse_inner_alg(cs_der_state *st, cs_bytes *tbs,
                            const cs_cert_facts *out)
{
  cs_der_tlv tlv;

  if (!cs_der_take(st, tbs, CS_DER_SEQUENCE, "signature", &tlv)) {
    return false;
  }
  if (tlv.whole.len != out->sig_alg.len ||
      memcmp(tlv.whole.ptr, out->sig_alg.ptr, tlv.whole.len) != 0) {
    return cs_der_fail(st, tlv.whole.ptr, "signature",
                       "differs from the outer signatureAlgorithm");
  }
  return true;
}

static bool parse_validity(cs_der_state *st, cs_bytes *tbs,
                           cs_cert_facts *out)
{
  cs_der_tlv tlv;
  cs_bytes in;

  if (!cs_der_take(st, tbs, CS_DER_SEQUENCE, "validity", &tlv)) {
    return false;
  }
  in = tlv.contents;
  return cs_der_take_time(st, &in, "notBefore", &out->not_before) &&
         cs_der_take_time(st, &in, "notAfter", &out->not_after) &&
         cs_der_end(st, in, "validity");
}

static bool parse_name(cs_der_state *st, cs_bytes *tbs, const char *what,
                       cs_arena *arena, cs_cert_facts *out,
                       cs_bytes *out_der)
{
  cs_der_tlv tlv;

  if (!cs_der_take(st, tbs, CS_DER_SEQUENCE, what, &tlv) ||
      !cs_verify__name_parse(st, tlv.contents, what, arena, &out->cns,
                             &out->cn_count)) {
    return false;
  }
  *out_der = tlv.whole;
  return true;
}

/*
 * SubjectPublicKeyInfo stays opaque, except that an EC key must name
 * its curve: explicit parameters are refused (RFC 5480; they are how
 * CVE-2020-0601 forged a trusted curve).
 */
static bool parse_spki(cs_der_state *st, cs_bytes *tbs, cs_cert_facts *out,
                       cs_verify__extras *extras)
{
  const char *what = "subjectPublicKeyInfo";
  cs_der_tlv spki, alg, oid, params, key;
  cs_bytes in, alg_in, bits;
  unsigned unused;

  if (!cs_der_take(st, tbs, CS_DER_SEQUENCE, what, &spki)) {
    return false;
  }
  in = spki.contents;
  if (!cs_der_take(st, &in, CS_DER_SEQUENCE, what, &alg)) {
    return false;
  }
  alg_in = alg.contents;
  if (!cs_der_take(st, &alg_in, CS_DER_OID, what, &oid) ||
      !cs_der_check_oid(st, &oid, what)) {
    return false;
  }
  params.tag = 0;
  if (alg_in.len > 0 && !cs_der_next(st, &alg_in, what, &params)) {
    return false;
  }
  if (!cs_der_end(st, alg_in, what) ||
      !cs_der_take(st, &in, CS_DER_BIT_STRING, what, &key) ||
      !cs_der_bit_string(st, &key, what, &bits, &unused) ||
      !cs_der_end(st, in, what)) {
    return false;
  }
  if (unused != 0) {
    return cs_der_fail(st, key.whole.ptr, what,
                       "public key is not a whole number of bytes");
  }
  if (CS_DER_OID_IS(oid.contents, oid_ec_public_key) &&
      params.tag != CS_DER_OID) {
    return cs_der_fail(st, alg.whole.ptr, what,
                       "EC parameters are not a named curve");
  }
  out->spki = spki.whole;
  extras->key_alg = oid.contents;
  return true;
}

/* [1] issuerUniqueID and [2] subjectUniqueID: IMPLICIT BIT STRINGs. */
static bool parse_unique_id(cs_der_state *st, cs_bytes *tbs, uint8_t n,
                            const char *what)
{
  cs_der_tlv tlv;
  cs_bytes bits;
  unsigned unused;

  if (!cs_der_peek(*tbs, CS_DER_CTX(n))) {
    return true;
  }
  return cs_der_next(st, tbs, what, &tlv) &&
         cs_der_bit_string(st, &tlv, what, &bits, &unused);
}

static bool parse_extensions(cs_der_state *st, cs_bytes *tbs,
                             cs_arena *arena, cs_cert_facts *out,
                             cs_verify__extras *extras)
{
  cs_der_tlv outer, seq;
  cs_bytes in;

  if (!cs_der_peek(*tbs, CS_DER_CTX_CONS(3))) {
    return true;
  }
  if (!cs_der_next(st, tbs, "extensions", &outer)) {
    return false;
  }
  in = outer.contents;
  return cs_der_take(st, &in, CS_DER_SEQUENCE, "extensions", &seq) &&
         cs_der_end(st, in, "extensions") &&
         cs_verify__extensions(st, seq.contents, arena, out, extras);
}

static bool parse_tbs(cs_der_state *st, cs_bytes tbs, cs_arena *arena,
                      cs_cert_facts *out, cs_verify__extras *extras)
{
  return parse_version(st, &tbs, out) && parse_serial(st, &tbs, out) &&
         parse_inner_alg(st, &tbs, out) &&
         parse_name(st, &tbs, "issuer", NULL, out, &out->issuer) &&
         parse_validity(st, &tbs, out) &&
         parse_name(st, &tbs, "subject", arena, out, &out->subject) &&
         parse_spki(st, &tbs, out, extras) &&
         parse_unique_id(st, &tbs, 1, "issuerUniqueID") &&
         parse_unique_id(st, &tbs, 2, "subjectUniqueID") &&
         parse_extensions(st, &tbs, arena, out, extras) &&
         cs_der_end(st, tbs, "TBSCertificate");
}

/* Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signature } */
static bool parse_certificate(cs_der_state *st, cs_bytes der,
                              cs_arena *arena, cs_cert_facts *out,
                              cs_verify__extras *extras)
{
  cs_der_tlv cert, tbs, alg, sig;
  cs_bytes in = der;
  unsigned unused;

  if (!cs_der_take(st, &in, CS_DER_SEQUENCE, "Certificate", &cert) ||
      !cs_der_end(st, in, "after the certificate")) {
    return false;
  }
  in = cert.contents;
  if (!cs_der_take(st, &in, CS_DER_SEQUENCE, "TBSCertificate", &tbs) ||
      !cs_der_take(st, &in, CS_DER_SEQUENCE, "signatureAlgorithm", &alg) ||
      !cs_der_take(st, &in, CS_DER_BIT_STRING, "signatureValue", &sig) ||
      !cs_der_end(st, in, "Certificate") ||
      !cs_der_bit_string(st, &sig, "signatureValue", &out->signature,
                         &unused)) {
    return false;
  }
  if (unused != 0) {
    return cs_der_fail(st, sig.whole.ptr, "signatureValue",
                       "unused bits in the signature");
  }
  out->tbs = tbs.whole;
  out->sig_alg = alg.whole;
  return cs_verify__sig_alg(st, alg.whole, out) &&
         parse_tbs(st, tbs.contents, arena, out, extras);
}

static cs_status parse_error(const cs_der_state *st, cs_error *err)
{
  if (st->nomem) {
    return cs_error_set(err, CS_ERR_NOMEM,
                        "out of memory reading a certificate");
  }
  return cs_error_set(err, CS_ERR_CERT_MALFORMED,
                      "malformed certificate: %s: %s (byte %zu)", st->what,
                      st->reason, st->offset);
}

cs_status cs_verify__parse_full(cs_bytes der, cs_arena *arena,
                                cs_cert_facts *out,
                                cs_verify__extras *extras, cs_error *err)
{
  cs_verify__extras local;
  cs_der_state st;

  memset(out, 0, sizeof(*out));
  if (extras == NULL) {
    extras = &local;
  }
  memset(extras, 0, sizeof(*extras));
  cs_der_init(&st, der.ptr);
  if (!parse_certificate(&st, der, arena, out, extras)) {
    return parse_error(&st, err);
  }
  out->der = der;
  cs_verify__sha256(der, out->sha256);
  cs_verify__sha256(out->spki, out->spki_sha256);
  return CS_OK;
}

cs_status cs_verify_parse(cs_bytes der, cs_arena *arena, cs_cert_facts *out,
                          cs_error *err)
{
  return cs_verify__parse_full(der, arena, out, NULL, err);
}
