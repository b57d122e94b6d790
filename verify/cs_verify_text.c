/*
 * cs_verify_text.c - directory strings to UTF-8: UTF8String checked,
 * the one-byte types read as Latin-1 (as OpenSSL reads T61String),
 * BMPString as UCS-2 and UniversalString as UCS-4, both big-endian.
 */
#include "cs_verify_internal.h"

#include <string.h>

/* Code points a string may hold: no surrogates, nothing past U+10FFFF. */
static bool code_point_ok(uint32_t cp)
{
  return cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff);
}

static size_t utf8_size(uint32_t cp)
{
  if (cp < 0x80) {
    return 1;
  }
  if (cp < 0x800) {
    return 2;
  }
  return cp < 0x10000 ? 3 : 4;
}

static char *utf8_put(char *out, uint32_t cp)
{
  if (cp < 0x80) {
    *out++ = (char)cp;
  } else if (cp < 0x800) {
    *out++ = (char)(0xc0 | (cp >> 6));
    *out++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out++ = (char)(0xe0 | (cp >> 12));
    *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *out++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *out++ = (char)(0xf0 | (cp >> 18));
    *out++ = (char)(0x80 | ((cp >> 12) & 0x3f));
    *out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *out++ = (char)(0x80 | (cp & 0x3f));
  }
  return out;
}

/*
 * One UTF-8 sequence at p[0..left): its length, or 0 when it is not the
 * shortest encoding of an allowed code point.
 */
static size_t utf8_sequence(const uint8_t *p, size_t left)
{
  static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
  size_t n;
  uint32_t cp;

  if (p[0] < 0x80) {
    return 1;
  }
  if ((p[0] & 0xe0) == 0xc0) {
    n = 2;
    cp = p[0] & 0x1f;
  } else if ((p[0] & 0xf0) == 0xe0) {
    n = 3;
    cp = p[0] & 0x0f;
  } else if ((p[0] & 0xf8) == 0xf0) {
    n = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  if (left < n) {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if (cp < min_cp[n] || !code_point_ok(cp)) {
    return 0;
  }
  return n;
}

static bool check_utf8(cs_bytes v, size_t *out_len)
{
  for (size_t i = 0; i < v.len;) {
    size_t n = utf8_sequence(v.ptr + i, v.len - i);

    if (n == 0) {
      return false;
    }
    i += n;
  }
  *out_len = v.len;
  return true;
}

static size_t latin1_len(cs_bytes v)
{
  size_t len = v.len;

  for (size_t i = 0; i < v.len; i++) {
    len += v.ptr[i] >> 7;
  }
  return len;
}

/* Big-endian code units of `width` bytes (2: UCS-2, 4: UCS-4). */
static bool check_wide(cs_bytes v, size_t width, size_t *out_len)
{
  size_t len = 0;

  if (v.len % width != 0) {
    return false;
  }
  for (size_t i = 0; i < v.len; i += width) {
    uint32_t cp = 0;

    for (size_t k = 0; k < width; k++) {
      cp = (cp << 8) | v.ptr[i + k];
    }
    if (!code_point_ok(cp)) {
      return false;
    }
    len += utf8_size(cp);
  }
  *out_len = len;
  return true;
}

bool cs_verify__is_text(uint8_t tag)
{
  switch (tag) {
  case CS_DER_UTF8_STRING:
  case CS_DER_NUMERIC_STRING:
  case CS_DER_PRINTABLE_STRING:
  case CS_DER_T61_STRING:
  case CS_DER_IA5_STRING:
  case CS_DER_BMP_STRING:
  case CS_DER_UNIVERSAL_STRING:
    return true;
  default:
    return false;
  }
}

bool cs_verify__text_check(uint8_t tag, cs_bytes value, size_t *out_len)
{
  switch (tag) {
  case CS_DER_UTF8_STRING:
    return check_utf8(value, out_len);
  case CS_DER_NUMERIC_STRING:
  case CS_DER_PRINTABLE_STRING:
  case CS_DER_T61_STRING:
  case CS_DER_IA5_STRING:
    *out_len = latin1_len(value);
    return true;
  case CS_DER_BMP_STRING:
    return check_wide(value, 2, out_len);
  case CS_DER_UNIVERSAL_STRING:
    return check_wide(value, 4, out_len);
  default:
    return false;
  }
}

void cs_verify__text_utf8(uint8_t tag, cs_bytes value, char *out)
{
  size_t width = tag == CS_DER_BMP_STRING         ? 2
                 : tag == CS_DER_UNIVERSAL_STRING ? 4
                                                  : 1;

  if (tag == CS_DER_UTF8_STRING) {
    if (value.len > 0) {
      memcpy(out, value.ptr, value.len);
    }
    return;
  }
  for (size_t i = 0; i < value.len; i += width) {
    uint32_t cp = 0;

    for (size_t k = 0; k < width; k++) {
      cp = (cp << 8) | value.ptr[i + k];
    }
    out = utf8_put(out, cp);
  }
}
