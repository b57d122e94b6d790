/*
 * cs_verify_ext.c - certificate extensions: each listed once, critical
 * only as DER TRUE, and the four the checks read (extendedKeyUsage,
 * subjectAltName, basicConstraints, keyUsage) decoded strictly. Other
 * extensions stay opaque.
 */
#include "cs_verify_internal.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t oid_eku[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };
static const uint8_t oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_key_usage[] = { 0x55, 0x1d, 0x0f };
static const uint8_t oid_client_auth[] = { 0x2b, 0x06, 0x01, 0x05,
                                           0x05, 0x07, 0x03, 0x02 };
static const uint8_t oid_email_protection[] = { 0x2b, 0x06, 0x01, 0x05,
                                                0x05, 0x07, 0x03, 0x04 };
static const uint8_t oid_any_eku[] = { 0x55, 0x1d, 0x25, 0x00 };

/* keyUsage bit 5, counted from the most significant bit of byte 0. */
#define KEY_USAGE_KEY_CERT_SIGN 0x04

/* The value of an extension must be exactly one element. */
static bool take_value(cs_der_state *st, cs_bytes value, uint8_t tag,
                       const char *what, cs_der_tlv *out)
{
  return cs_der_take(st, &value, tag, what, out) &&
         cs_der_end(st, value, what);
}

static bool parse_eku(cs_der_state *st, cs_bytes value, cs_cert_facts *facts)
{
  const char *what = "extendedKeyUsage";
  cs_der_tlv seq, oid;
  cs_bytes in;

  if (!take_value(st, value, CS_DER_SEQUENCE, what, &seq)) {
    return false;
  }
  in = seq.contents;
  while (in.len > 0) {
    if (!cs_der_take(st, &in, CS_DER_OID, what, &oid) ||
        !cs_der_check_oid(st, &oid, what)) {
      return false;
    }
    if (CS_DER_OID_IS(oid.contents, oid_client_auth)) {
      facts->eku |= CS_EKU_CLIENT_AUTH;
    } else if (CS_DER_OID_IS(oid.contents, oid_email_protection)) {
      facts->eku |= CS_EKU_EMAIL_PROTECTION;
    } else if (CS_DER_OID_IS(oid.contents, oid_any_eku)) {
      facts->eku |= CS_EKU_ANY;
    }
  }
  facts->has_eku = true;
  return true;
}

/* Copies a string SAN into the arena. */
static bool san_text(cs_der_state *st, cs_arena *arena, cs_san_type type,
                     cs_bytes text, cs_san *out)
{
  char *copy = cs_arena_strndup(arena, text.ptr, text.len);

  if (copy == NULL) {
    return cs_der_nomem(st);
  }
  out->type = type;
  out->value.ptr = copy;
  out->value.len = text.len;
  return true;
}

static bool san_ip(cs_der_state *st, cs_arena *arena, cs_bytes addr,
                   cs_san *out)
{
  char text[INET6_ADDRSTRLEN];
  int family = addr.len == 4 ? AF_INET : AF_INET6;
  cs_bytes view;

  if (inet_ntop(family, addr.ptr, text, sizeof(text)) == NULL) {
    return cs_der_fail(st, addr.ptr, "subjectAltName",
                       "iPAddress does not convert");
  }
  view.ptr = (const uint8_t *)text;
  view.len = strlen(text);
  return san_text(st, arena, CS_SAN_IP, view, out);
}

static void san_other(const char *label, cs_san *out)
{
  out->type = CS_SAN_OTHER;
  out->value.ptr = label;
  out->value.len = strlen(label);
}

/* otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } */
static bool check_other_name(cs_der_state *st, cs_bytes in)
{
  const char *what = "subjectAltName otherName";
  cs_der_tlv oid, value;

  return cs_der_take(st, &in, CS_DER_OID, what, &oid) &&
         cs_der_check_oid(st, &oid, what) &&
         cs_der_take(st, &in, CS_DER_CTX_CONS(0), what, &value) &&
         cs_der_end(st, in, what);
}

static bool check_directory_name(cs_der_state *st, cs_bytes in)
{
  const char *what = "subjectAltName directoryName";
  cs_der_tlv name;

  return cs_der_take(st, &in, CS_DER_SEQUENCE, what, &name) &&
         cs_der_end(st, in, what) &&
         cs_verify__name_parse(st, name.contents, what, NULL, NULL, NULL);
}

/* Checks one GeneralName: a known choice, well-formed where it matters. */
static bool check_general_name(cs_der_state *st, const cs_der_tlv *gn)
{
  switch (gn->tag) {
  case CS_DER_CTX_CONS(0):
    return check_other_name(st, gn->contents);
  case CS_DER_CTX_CONS(4):
    return check_directory_name(st, gn->contents);
  case CS_DER_CTX(8):
    return cs_der_check_oid(st, gn, "subjectAltName registeredID");
  case CS_DER_CTX(1):
  case CS_DER_CTX(2):
  case CS_DER_CTX_CONS(3):
  case CS_DER_CTX_CONS(5):
  case CS_DER_CTX(6):
  case CS_DER_CTX(7):
    return true;
  default:
    return cs_der_fail(st, gn->whole.ptr, "subjectAltName",
                       "not a GeneralName");
  }
}

/* The value given to a GeneralName that is not compared. */
static const char *other_kind(uint8_t tag)
{
  switch (tag) {
  case CS_DER_CTX_CONS(0):
    return "otherName";
  case CS_DER_CTX_CONS(3):
    return "x400Address";
  case CS_DER_CTX_CONS(4):
    return "directoryName";
  case CS_DER_CTX_CONS(5):
    return "ediPartyName";
  case CS_DER_CTX(7):
    return "iPAddress";
  default:
    return "registeredID";
  }
}

/* Fills `out` from a checked GeneralName; strings go into the arena. */
static bool fill_general_name(cs_der_state *st, const cs_der_tlv *gn,
                              cs_arena *arena, cs_san *out)
{
  switch (gn->tag) {
  case CS_DER_CTX(1):
    return san_text(st, arena, CS_SAN_EMAIL, gn->contents, out);
  case CS_DER_CTX(2):
    return san_text(st, arena, CS_SAN_DNS, gn->contents, out);
  case CS_DER_CTX(6):
    return san_text(st, arena, CS_SAN_URI, gn->contents, out);
  case CS_DER_CTX(7):
    if (gn->contents.len == 4 || gn->contents.len == 16) {
      return san_ip(st, arena, gn->contents, out);
    }
    break;
  default:
    break;
  }
  san_other(other_kind(gn->tag), out);
  return true;
}

static bool parse_san(cs_der_state *st, cs_bytes value, cs_arena *arena,
                      cs_cert_facts *facts)
{
  const char *what = "subjectAltName";
  cs_der_tlv seq, gn;
  cs_bytes in;
  size_t count = 0;
  cs_san *sans;

  if (!take_value(st, value, CS_DER_SEQUENCE, what, &seq)) {
    return false;
  }

  /* First walk: check and count, so that one array fits them all. */
  in = seq.contents;
  while (in.len > 0) {
    if (!cs_der_next(st, &in, what, &gn) || !check_general_name(st, &gn)) {
      return false;
    }
    count++;
  }
  if (count == 0) {
    return true;
  }

  sans = cs_arena_alloc(arena, count * sizeof(*sans));
  if (sans == NULL) {
    return cs_der_nomem(st);
  }
  in = seq.contents;
  for (size_t i = 0; i < count; i++) {
    if (!cs_der_next(st, &in, what, &gn) ||
        !fill_general_name(st, &gn, arena, &sans[i])) {
      return false;
    }
  }
  facts->sans = sans;
  facts->san_count = count;
  return true;
}

/* BasicConstraints ::= SEQUENCE { cA DEFAULT FALSE, pathLen OPTIONAL } */
static bool parse_basic_constraints(cs_der_state *st, cs_bytes value,
                                    cs_verify__extras *extras)
{
  const char *what = "basicConstraints";
  cs_der_tlv seq, path_len;
  cs_bytes in;
  int unused;

  if (!take_value(st, value, CS_DER_SEQUENCE, what, &seq)) {
    return false;
  }
  in = seq.contents;
  if (!cs_der_take_default_false(st, &in, what, &extras->is_ca)) {
    return false;
  }
  if (cs_der_peek(in, CS_DER_INTEGER) &&
      (!cs_der_next(st, &in, what, &path_len) ||
       !cs_der_check_integer(st, &path_len, what) ||
       !cs_der_small_uint(st, &path_len, what, &unused))) {
    return false;
  }
  return cs_der_end(st, in, what);
}

static bool parse_key_usage(cs_der_state *st, cs_bytes value,
                            cs_verify__extras *extras)
{
  const char *what = "keyUsage";
  cs_der_tlv tlv;
  cs_bytes bits;
  unsigned unused;

  if (!take_value(st, value, CS_DER_BIT_STRING, what, &tlv) ||
      !cs_der_bit_string(st, &tlv, what, &bits, &unused)) {
    return false;
  }
  extras->has_key_usage = true;
  extras->key_cert_sign =
      bits.len > 0 && (bits.ptr[0] & KEY_USAGE_KEY_CERT_SIGN) != 0;
  return true;
}

static bool parse_known(cs_der_state *st, cs_bytes oid, cs_bytes value,
                        cs_arena *arena, cs_cert_facts *facts,
                        cs_verify__extras *extras)
{
  if (CS_DER_OID_IS(oid, oid_eku)) {
    return parse_eku(st, value, facts);
  }
  if (CS_DER_OID_IS(oid, oid_san)) {
    return parse_san(st, value, arena, facts);
  }
  if (CS_DER_OID_IS(oid, oid_basic_constraints)) {
    return parse_basic_constraints(st, value, extras);
  }
  if (CS_DER_OID_IS(oid, oid_key_usage)) {
    return parse_key_usage(st, value, extras);
  }
  return true;
}

static bool seen_before(const cs_bytes *seen, size_t count, cs_bytes oid)
{
  for (size_t i = 0; i < count; i++) {
    if (cs_der_oid_is(seen[i], oid.ptr, oid.len)) {
      return true;
    }
  }
  return false;
}

bool cs_verify__extensions(cs_der_state *st, cs_bytes exts,
                           cs_arena *arena, cs_cert_facts *facts,
                           cs_verify__extras *extras)
{
  const char *what = "extension";
  cs_bytes seen[CS_VERIFY_MAX_EXTENSIONS];
  size_t count = 0;

  while (exts.len > 0) {
    cs_der_tlv ext, oid, value;
    cs_bytes in;
    bool critical;

    if (!cs_der_take(st, &exts, CS_DER_SEQUENCE, what, &ext)) {
      return false;
    }
    in = ext.contents;
    if (!cs_der_take(st, &in, CS_DER_OID, "extnID", &oid) ||
        !cs_der_check_oid(st, &oid, "extnID") ||
        !cs_der_take_default_false(st, &in, "critical", &critical) ||
        !cs_der_take(st, &in, CS_DER_OCTET_STRING, "extnValue", &value) ||
        !cs_der_end(st, in, what)) {
      return false;
    }
    if (seen_before(seen, count, oid.contents)) {
      return cs_der_fail(st, ext.whole.ptr, what, "listed twice");
    }
    if (count == CS_VERIFY_MAX_EXTENSIONS) {
      return cs_der_fail(st, ext.whole.ptr, what, "too many extensions");
    }
    seen[count++] = oid.contents;
    if (!parse_known(st, oid.contents, value.contents, arena, facts,
                     extras)) {
      return false;
    }
  }
  return true;
}
