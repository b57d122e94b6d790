/*
 * cs_verify_der.c - the bounded DER reader: elements, lengths, and the
 * primitive types a certificate uses, each checked for the one encoding
 * DER allows.
 */
#include "cs_verify_internal.h"

#include <string.h>

void cs_der_init(cs_der_state *st, const uint8_t *base)
{
  st->base = base;
  st->what = NULL;
  st->reason = NULL;
  st->offset = 0;
  st->nomem = false;
}

bool cs_der_fail(cs_der_state *st, const uint8_t *at, const char *what,
                 const char *reason)
{
  if (st->reason == NULL && !st->nomem) {
    st->what = what;
    st->reason = reason;
    st->offset = (size_t)(at - st->base);
  }
  return false;
}

bool cs_der_nomem(cs_der_state *st)
{
  st->nomem = true;
  return false;
}

/* Reads the length octets at `p` (inside `end`); 0 on failure. */
static size_t read_length(cs_der_state *st, const uint8_t *p,
                          const uint8_t *end, const char *what,
                          size_t *out_len)
{
  size_t count;
  size_t len = 0;

  if (p >= end) {
    return cs_der_fail(st, p, what, "truncated length");
  }
  if (*p < 0x80) {
    *out_len = *p;
    return 1;
  }
  if (*p == 0x80) {
    return cs_der_fail(st, p, what, "indefinite length (BER, not DER)");
  }

  count = *p & 0x7f;
  if (count > 4) {
    return cs_der_fail(st, p, what, "length of more than four octets");
  }
  if ((size_t)(end - p - 1) < count) {
    return cs_der_fail(st, p, what, "truncated length");
  }
  if (p[1] == 0) {
    return cs_der_fail(st, p, what, "non-minimal length encoding");
  }
  for (size_t i = 1; i <= count; i++) {
    len = (len << 8) | p[i];
  }
  if (len < 0x80) {
    return cs_der_fail(st, p, what, "non-minimal length encoding");
  }
  *out_len = len;
  return 1 + count;
}

bool cs_der_next(cs_der_state *st, cs_bytes *in, const char *what,
                 cs_der_tlv *out)
{
  const uint8_t *p = in->ptr;
  const uint8_t *end = in->ptr + in->len;
  size_t header, len;

  if (in->len == 0) {
    return cs_der_fail(st, p, what, "missing");
  }
  if ((p[0] & 0x1f) == 0x1f) {
    return cs_der_fail(st, p, what, "multi-byte tag");
  }

  header = read_length(st, p + 1, end, what, &len);
  if (header == 0) {
    return false;
  }
  header += 1;
  if ((size_t)(end - p) - header < len) {
    return cs_der_fail(st, p, what, "length past the end of its container");
  }

  out->tag = p[0];
  out->contents.ptr = p + header;
  out->contents.len = len;
  out->whole.ptr = p;
  out->whole.len = header + len;
  in->ptr += header + len;
  in->len -= header + len;
  return true;
}

bool cs_der_take(cs_der_state *st, cs_bytes *in, uint8_t tag,
                 const char *what, cs_der_tlv *out)
{
  if (in->len > 0 && in->ptr[0] != tag) {
    return cs_der_fail(st, in->ptr, what, "unexpected tag");
  }
  return cs_der_next(st, in, what, out);
}

bool cs_der_peek(cs_bytes in, uint8_t tag)
{
  return in.len > 0 && in.ptr[0] == tag;
}

bool cs_der_end(cs_der_state *st, cs_bytes in, const char *what)
{
  if (in.len != 0) {
    return cs_der_fail(st, in.ptr, what, "trailing bytes");
  }
  return true;
}

bool cs_der_check_integer(cs_der_state *st, const cs_der_tlv *tlv,
                          const char *what)
{
  const uint8_t *c = tlv->contents.ptr;

  /* OpenSSL refuses an empty INTEGER too ("illegal zero content"). */
  if (tlv->contents.len == 0) {
    return cs_der_fail(st, tlv->whole.ptr, what, "empty INTEGER");
  }
  if (tlv->contents.len > 1 &&
      ((c[0] == 0x00 && c[1] < 0x80) || (c[0] == 0xff && c[1] >= 0x80))) {
    return cs_der_fail(st, tlv->whole.ptr, what,
                       "INTEGER with a redundant leading octet");
  }
  return true;
}

bool cs_der_small_uint(cs_der_state *st, const cs_der_tlv *tlv,
                       const char *what, int *out)
{
  const uint8_t *c = tlv->contents.ptr;
  size_t len = tlv->contents.len;
  uint32_t value = 0;

  if ((c[0] & 0x80) != 0) {
    return cs_der_fail(st, tlv->whole.ptr, what, "negative INTEGER");
  }
  if (len > 4 || (len == 4 && c[0] >= 0x80)) {
    return cs_der_fail(st, tlv->whole.ptr, what, "INTEGER out of range");
  }
  for (size_t i = 0; i < len; i++) {
    value = (value << 8) | c[i];
  }
  *out = (int)value;
  return true;
}

bool cs_der_check_oid(cs_der_state *st, const cs_der_tlv *tlv,
                      const char *what)
{
  const uint8_t *c = tlv->contents.ptr;
  size_t len = tlv->contents.len;

  if (len == 0) {
    return cs_der_fail(st, tlv->whole.ptr, what, "empty OBJECT IDENTIFIER");
  }
  if ((c[len - 1] & 0x80) != 0) {
    return cs_der_fail(st, tlv->whole.ptr, what,
                       "OBJECT IDENTIFIER ends inside a sub-identifier");
  }

  /* A sub-identifier never starts with 0x80: that would be padding. */
  for (size_t i = 0; i < len; i++) {
    bool starts = i == 0 || (c[i - 1] & 0x80) == 0;

    if (starts && c[i] == 0x80) {
      return cs_der_fail(st, tlv->whole.ptr, what,
                         "OBJECT IDENTIFIER with a padded sub-identifier");
    }
  }
  return true;
}

bool cs_der_bit_string(cs_der_state *st, const cs_der_tlv *tlv,
                       const char *what, cs_bytes *out_bits,
                       unsigned *out_unused)
{
  const uint8_t *c = tlv->contents.ptr;
  size_t len = tlv->contents.len;
  unsigned unused;

  if (len == 0) {
    return cs_der_fail(st, tlv->whole.ptr, what, "empty BIT STRING");
  }
  unused = c[0];
  if (unused > 7 || (len == 1 && unused != 0)) {
    return cs_der_fail(st, tlv->whole.ptr, what,
                       "BIT STRING with a bad unused-bit count");
  }
  if (unused != 0 && (c[len - 1] & ((1u << unused) - 1)) != 0) {
    return cs_der_fail(st, tlv->whole.ptr, what,
                       "BIT STRING with unused bits set");
  }
  out_bits->ptr = c + 1;
  out_bits->len = len - 1;
  *out_unused = unused;
  return true;
}

bool cs_der_take_default_false(cs_der_state *st, cs_bytes *in,
                               const char *what, bool *out)
{
  cs_der_tlv tlv;

  *out = false;
  if (!cs_der_peek(*in, CS_DER_BOOLEAN)) {
    return true;
  }
  if (!cs_der_next(st, in, what, &tlv)) {
    return false;
  }
  if (tlv.contents.len != 1) {
    return cs_der_fail(st, tlv.whole.ptr, what, "BOOLEAN of wrong length");
  }
  if (tlv.contents.ptr[0] == 0x00) {
    return cs_der_fail(st, tlv.whole.ptr, what,
                       "default FALSE encoded explicitly");
  }
  if (tlv.contents.ptr[0] != 0xff) {
    return cs_der_fail(st, tlv.whole.ptr, what,
                       "BOOLEAN TRUE not encoded as 0xff");
  }
  *out = true;
  return true;
}

static bool all_digits(const uint8_t *p, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (p[i] < '0' || p[i] > '9') {
      return false;
    }
  }
  return true;
}

/*
 * Checks the digits and the Z of a time, then lets cs_time_parse judge
 * the calendar (month, day of month, hour, minute) from RFC 3339 text.
 */
static bool time_from_digits(const uint8_t *p, size_t len, bool utc,
                             int64_t *out)
{
  char text[] = "YYYY-MM-DDTHH:MM:SSZ";
  size_t y = utc ? 2 : 4;

  if (len != y + 11 || p[len - 1] != 'Z' || !all_digits(p, len - 1)) {
    return false;
  }

  /* Seconds stop at 59 in certificates, as OpenSSL's time check has it. */
  if (p[y + 8] > '5') {
    return false;
  }
  if (utc) {
    text[0] = p[0] < '5' ? '2' : '1';
    text[1] = p[0] < '5' ? '0' : '9';
  }
  memcpy(text + 4 - y, p, y);
  memcpy(text + 5, p + y, 2);
  memcpy(text + 8, p + y + 2, 2);
  memcpy(text + 11, p + y + 4, 2);
  memcpy(text + 14, p + y + 6, 2);
  memcpy(text + 17, p + y + 8, 2);
  return cs_time_parse(text, out);
}

bool cs_der_take_time(cs_der_state *st, cs_bytes *in, const char *what,
                      int64_t *out)
{
  cs_der_tlv tlv;
  bool utc;

  if (!cs_der_next(st, in, what, &tlv)) {
    return false;
  }
  if (tlv.tag != CS_DER_UTC_TIME && tlv.tag != CS_DER_GENERALIZED_TIME) {
    return cs_der_fail(st, tlv.whole.ptr, what,
                       "not a UTCTime or GeneralizedTime");
  }
  utc = tlv.tag == CS_DER_UTC_TIME;
  if (!time_from_digits(tlv.contents.ptr, tlv.contents.len, utc, out)) {
    return cs_der_fail(st, tlv.whole.ptr, what,
                       utc ? "UTCTime is not a valid YYMMDDHHMMSSZ"
                           : "GeneralizedTime is not a valid "
                             "YYYYMMDDHHMMSSZ");
  }
  return true;
}

bool cs_der_oid_is(cs_bytes oid, const uint8_t *want, size_t len)
{
  return oid.len == len && memcmp(oid.ptr, want, len) == 0;
}
