/*
 * cs_verify_name.c - X.501 Names: every attribute checked the way
 * OpenSSL's X509_NAME decoder checks it (so that a Name this module
 * accepts is one OpenSSL can compare), and the commonName values taken
 * out as UTF-8.
 */
#include "cs_verify_internal.h"

static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };

/*
 * The primitive universal tags OpenSSL takes as an attribute value:
 * the directory strings, BIT STRING, and the tags it files as unknown
 * (7, 8, 9, 11, 13, 14, 15, 29). VisibleString, GraphicString and
 * their kin are refused by its decoder, so they are refused here too.
 */
#define VALUE_TAG(t) (UINT32_C(1) << (t))
#define VALUE_TAGS                                                         \
  (VALUE_TAG(0x03) | VALUE_TAG(0x07) | VALUE_TAG(0x08) | VALUE_TAG(0x09) | \
   VALUE_TAG(0x0b) | VALUE_TAG(0x0c) | VALUE_TAG(0x0d) | VALUE_TAG(0x0e) | \
   VALUE_TAG(0x0f) | VALUE_TAG(0x12) | VALUE_TAG(0x13) | VALUE_TAG(0x14) | \
   VALUE_TAG(0x16) | VALUE_TAG(0x1c) | VALUE_TAG(0x1d) | VALUE_TAG(0x1e))

/* Walks the attributes of a Name, across its RDNs. */
typedef struct name_iter {
  cs_bytes rdns;
  cs_bytes atvs;
} name_iter;

/* Checks one value; `out_len` gets its UTF-8 length when it is text. */
static bool check_value(cs_der_state *st, const cs_der_tlv *v,
                        const char *what, bool is_cn, size_t *out_len)
{
  cs_bytes bits;
  unsigned unused;

  *out_len = 0;
  if (is_cn && !cs_verify__is_text(v->tag)) {
    return cs_der_fail(st, v->whole.ptr, what, "commonName is not a string");
  }
  if (v->tag == CS_DER_SEQUENCE) {
    return true;
  }
  if (v->tag >= 0x1f || (VALUE_TAGS & VALUE_TAG(v->tag)) == 0) {
    return cs_der_fail(st, v->whole.ptr, what,
                       "attribute value of a type Names do not allow");
  }
  if (v->tag == CS_DER_BIT_STRING) {
    return cs_der_bit_string(st, v, what, &bits, &unused);
  }
  if (cs_verify__is_text(v->tag) &&
      !cs_verify__text_check(v->tag, v->contents, out_len)) {
    return cs_der_fail(st, v->whole.ptr, what,
                       "string does not decode to Unicode");
  }
  return true;
}

/* 1: `type` and `value` hold the next attribute; 0: no more; -1: bad. */
static int name_next(cs_der_state *st, name_iter *it, const char *what,
                     cs_der_tlv *type, cs_der_tlv *value)
{
  cs_der_tlv rdn, atv;
  cs_bytes inner;

  while (it->atvs.len == 0) {
    if (it->rdns.len == 0) {
      return 0;
    }
    if (!cs_der_take(st, &it->rdns, CS_DER_SET, what, &rdn)) {
      return -1;
    }
    it->atvs = rdn.contents;
  }

  if (!cs_der_take(st, &it->atvs, CS_DER_SEQUENCE, what, &atv)) {
    return -1;
  }
  inner = atv.contents;
  if (!cs_der_take(st, &inner, CS_DER_OID, what, type) ||
      !cs_der_check_oid(st, type, what) ||
      !cs_der_next(st, &inner, what, value) ||
      !cs_der_end(st, inner, what)) {
    return -1;
  }
  return 1;
}

/* Checks every attribute; counts the CNs and the bytes they need. */
static bool name_check(cs_der_state *st, cs_bytes name, const char *what,
                       size_t *out_count, size_t *out_bytes)
{
  name_iter it = { name, { NULL, 0 } };
  cs_der_tlv type, value;
  int more;

  *out_count = 0;
  *out_bytes = 0;
  while ((more = name_next(st, &it, what, &type, &value)) == 1) {
    bool is_cn = CS_DER_OID_IS(type.contents, oid_cn);
    size_t len;

    if (!check_value(st, &value, what, is_cn, &len)) {
      return false;
    }
    if (is_cn) {
      *out_count += 1;
      *out_bytes += len + 1;
    }
  }
  return more == 0;
}

/* Second walk over a Name already checked: converts the CNs. */
static void name_copy_cns(cs_bytes name, cs_str *cns, char *text)
{
  cs_der_state st;
  name_iter it = { name, { NULL, 0 } };
  cs_der_tlv type, value;
  size_t i = 0;

  cs_der_init(&st, name.ptr);
  while (name_next(&st, &it, "Name", &type, &value) == 1) {
    size_t len;

    if (!CS_DER_OID_IS(type.contents, oid_cn) ||
        !cs_verify__text_check(value.tag, value.contents, &len)) {
      continue;
    }
    cs_verify__text_utf8(value.tag, value.contents, text);
    text[len] = '\0';
    cns[i].ptr = text;
    cns[i].len = len;
    text += len + 1;
    i++;
  }
}

bool cs_verify__name_parse(cs_der_state *st, cs_bytes name,
                           const char *what, cs_arena *arena,
                           cs_str **out_cns, size_t *out_count)
{
  size_t count, bytes;
  cs_str *cns;
  char *text;

  if (!name_check(st, name, what, &count, &bytes)) {
    return false;
  }
  if (arena == NULL || count == 0) {
    return true;
  }

  cns = cs_arena_alloc(arena, count * sizeof(*cns));
  text = cs_arena_alloc(arena, bytes);
  if (cns == NULL || text == NULL) {
    return cs_der_nomem(st);
  }
  name_copy_cns(name, cns, text);
  *out_cns = cns;
  *out_count = count;
  return true;
}
