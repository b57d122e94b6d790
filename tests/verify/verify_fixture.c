/*
 * verify_fixture.c - fixture paths and files, and the DER editor.
 */
#define _GNU_SOURCE
#include "verify_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

const char *fx_dir(void)
{
  static char dir[4096];
  const char *env = getenv("CERTSCAN_VERIFY_FIXTURES");
  const char *src = getenv("CERTSCAN_SOURCE_DIR");

  if (env != NULL && env[0] != '\0') {
    return env;
  }
  snprintf(dir, sizeof(dir), "%s/tests/verify/fixtures",
           src != NULL ? src : ".");
  return dir;
}

static char *join(cs_arena *arena, const char *a, const char *b)
{
  size_t len = strlen(a) + strlen(b) + 2;
  char *out = cs_arena_alloc(arena, len);

  snprintf(out, len, "%s/%s", a, b);
  return out;
}

char *fx_path(cs_arena *arena, const char *name)
{
  return join(arena, fx_dir(), name);
}

char *fx_testdata(cs_arena *arena, const char *rel)
{
  const char *dir = getenv("CERTSCAN_TESTDATA_DIR");

  if (dir == NULL) {
    fprintf(stderr, "CERTSCAN_TESTDATA_DIR is not set\n");
    abort();
  }
  return join(arena, dir, rel);
}

cs_bytes fx_read(cs_arena *arena, const char *path)
{
  cs_bytes out = { NULL, 0 };
  FILE *f = fopen(path, "rb");
  long size;
  uint8_t *buf;

  if (f == NULL) {
    return out;
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = cs_arena_alloc(arena, (size_t)size + 1);
  if (fread(buf, 1, (size_t)size, f) == (size_t)size) {
    out.ptr = buf;
    out.len = (size_t)size;
  }
  fclose(f);
  return out;
}

cs_bytes fx_cert_der(cs_arena *arena, const char *path)
{
  cs_bytes file = fx_read(arena, path);
  cs_bytes out = { NULL, 0 };
  BIO *bio;
  char *name = NULL;
  char *header = NULL;
  unsigned char *data = NULL;
  long len = 0;

  if (file.ptr == NULL ||
      memmem(file.ptr, file.len, "-----BEGIN", 10) == NULL) {
    return file;
  }
  bio = BIO_new_mem_buf(file.ptr, (int)file.len);
  while (PEM_read_bio(bio, &name, &header, &data, &len) == 1) {
    bool cert = strcmp(name, "CERTIFICATE") == 0;

    if (cert) {
      uint8_t *copy = cs_arena_alloc(arena, (size_t)len + 1);

      memcpy(copy, data, (size_t)len);
      out.ptr = copy;
      out.len = (size_t)len;
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (cert) {
      break;
    }
  }
  BIO_free(bio);
  ERR_clear_error();
  return out;
}

EVP_PKEY *fx_key(const char *name)
{
  cs_arena arena;
  char file[128];
  EVP_PKEY *key = NULL;
  FILE *f;

  cs_arena_init(&arena, 1024);
  snprintf(file, sizeof(file), "%s.key", name);
  f = fopen(fx_path(&arena, file), "r");
  if (f != NULL) {
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
  }
  cs_arena_cleanup(&arena);
  return key;
}

cs_bytes fx_enc(cs_arena *arena, uint8_t tag, cs_bytes contents)
{
  uint8_t header[6];
  size_t n = 0;
  size_t len = contents.len;
  uint8_t *out;

  header[n++] = tag;
  if (len < 0x80) {
    header[n++] = (uint8_t)len;
  } else if (len < 0x100) {
    header[n++] = 0x81;
    header[n++] = (uint8_t)len;
  } else if (len < 0x10000) {
    header[n++] = 0x82;
    header[n++] = (uint8_t)(len >> 8);
    header[n++] = (uint8_t)len;
  } else {
    header[n++] = 0x83;
    header[n++] = (uint8_t)(len >> 16);
    header[n++] = (uint8_t)(len >> 8);
    header[n++] = (uint8_t)len;
  }
  out = cs_arena_alloc(arena, n + len + 1);
  memcpy(out, header, n);
  if (len > 0) {
    memcpy(out + n, contents.ptr, len);
  }
  return (cs_bytes){ out, n + len };
}

cs_bytes fx_cat(cs_arena *arena, size_t n, const cs_bytes *pieces)
{
  size_t len = 0;
  uint8_t *out;
  size_t at = 0;

  for (size_t i = 0; i < n; i++) {
    len += pieces[i].len;
  }
  out = cs_arena_alloc(arena, len + 1);
  for (size_t i = 0; i < n; i++) {
    if (pieces[i].len > 0) {
      memcpy(out + at, pieces[i].ptr, pieces[i].len);
    }
    at += pieces[i].len;
  }
  return (cs_bytes){ out, len };
}

/* Header size and contents length of the element at `p`; 0 if bad. */
static size_t header_of(const uint8_t *p, size_t avail, size_t *out_len)
{
  size_t count, len = 0;

  if (avail < 2) {
    return 0;
  }
  if (p[1] < 0x80) {
    *out_len = p[1];
    return avail - 2 >= p[1] ? 2 : 0;
  }
  count = p[1] & 0x7f;
  if (count == 0 || count > 4 || avail < 2 + count) {
    return 0;
  }
  for (size_t i = 0; i < count; i++) {
    len = (len << 8) | p[2 + i];
  }
  *out_len = len;
  return avail - 2 - count >= len ? 2 + count : 0;
}

size_t fx_children(cs_bytes contents, cs_bytes *out, size_t max)
{
  size_t n = 0;
  size_t at = 0;

  while (at < contents.len && n < max) {
    size_t len;
    size_t header = header_of(contents.ptr + at, contents.len - at, &len);

    if (header == 0) {
      break;
    }
    out[n].ptr = contents.ptr + at;
    out[n].len = header + len;
    at += header + len;
    n++;
  }
  return n;
}

cs_bytes fx_contents(cs_bytes tlv)
{
  size_t len;
  size_t header = header_of(tlv.ptr, tlv.len, &len);

  return (cs_bytes){ tlv.ptr + header, header == 0 ? 0 : len };
}

void fx_cert_split(cs_bytes der, fx_cert *out)
{
  cs_bytes parts[3];
  cs_bytes cert = fx_contents(der);

  memset(out, 0, sizeof(*out));
  if (fx_children(cert, parts, 3) != 3) {
    return;
  }
  out->tbs_count = fx_children(fx_contents(parts[0]), out->tbs, FX_TBS_MAX);
  out->alg = parts[1];
  out->sig = parts[2];
}

cs_bytes fx_cert_tbs(cs_arena *arena, const fx_cert *cert)
{
  return fx_enc(arena, 0x30, fx_cat(arena, cert->tbs_count, cert->tbs));
}

static cs_bytes sign(cs_arena *arena, cs_bytes tbs, EVP_PKEY *key,
                     const char *md)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t len = 0;
  uint8_t *sig = NULL;

  if (EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key, NULL) == 1 &&
      EVP_DigestSign(ctx, NULL, &len, tbs.ptr, tbs.len) == 1) {
    sig = cs_arena_alloc(arena, len + 1);
    sig[0] = 0;
    if (EVP_DigestSign(ctx, sig + 1, &len, tbs.ptr, tbs.len) != 1) {
      len = 0;
    }
  }
  EVP_MD_CTX_free(ctx);
  return fx_enc(arena, 0x03, (cs_bytes){ sig, sig == NULL ? 0 : len + 1 });
}

cs_bytes fx_cert_join(cs_arena *arena, const fx_cert *cert, EVP_PKEY *key,
                      const char *md)
{
  cs_bytes parts[3];

  parts[0] = fx_cert_tbs(arena, cert);
  parts[1] = cert->alg;
  parts[2] = key != NULL ? sign(arena, parts[0], key, md) : cert->sig;
  return fx_enc(arena, 0x30, fx_cat(arena, 3, parts));
}

cs_bytes fx_name1(cs_arena *arena, cs_bytes oid, uint8_t tag, cs_bytes value)
{
  cs_bytes atv[2];

  atv[0] = fx_enc(arena, 0x06, oid);
  atv[1] = fx_enc(arena, tag, value);
  return fx_enc(
      arena, 0x30,
      fx_enc(arena, 0x31, fx_enc(arena, 0x30, fx_cat(arena, 2, atv))));
}

cs_bytes fx_extensions(cs_arena *arena, const cs_bytes *exts, size_t count)
{
  return fx_enc(arena, 0xa3, fx_enc(arena, 0x30, fx_cat(arena, count, exts)));
}
