/*
 * posture_fixtures.c - keys, certificates, files and devices for the
 * posture tests, made with OpenSSL at run time.
 */
#include "posture_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#define FX_MAX_ITEMS 512
#define FX_MAX_FILES 32

typedef enum fx_item_kind {
  FX_ITEM_MEM,
  FX_ITEM_PKEY,
  FX_ITEM_X509,
  FX_ITEM_NAME,
  FX_ITEM_TEXT,
  FX_ITEM_OPENSSL
} fx_item_kind;

typedef struct fx_item {
  fx_item_kind kind;
  void *ptr;
} fx_item;

struct fx_pool {
  char dir[64];
  fx_item items[FX_MAX_ITEMS];
  size_t item_count;
  char *files[FX_MAX_FILES];
  size_t file_count;
  long serial;
};

struct fx_text {
  char *buf;
  size_t len;
  size_t cap;
};

static void *keep(fx_pool *pool, fx_item_kind kind, void *ptr)
{
  assert_non_null(ptr);
  assert_true(pool->item_count < FX_MAX_ITEMS);
  pool->items[pool->item_count].kind = kind;
  pool->items[pool->item_count].ptr = ptr;
  pool->item_count++;
  return ptr;
}

fx_pool *fx_pool_new(void)
{
  fx_pool *pool = calloc(1, sizeof(*pool));

  assert_non_null(pool);
  snprintf(pool->dir, sizeof(pool->dir), "/tmp/cs_posture_XXXXXX");
  assert_non_null(mkdtemp(pool->dir));
  pool->serial = 1000;
  return pool;
}

static void free_item(fx_item *item)
{
  switch (item->kind) {
  case FX_ITEM_MEM:
    free(item->ptr);
    break;
  case FX_ITEM_PKEY:
    EVP_PKEY_free(item->ptr);
    break;
  case FX_ITEM_X509:
    X509_free(item->ptr);
    break;
  case FX_ITEM_NAME:
    X509_NAME_free(item->ptr);
    break;
  case FX_ITEM_TEXT:
    free(((fx_text *)item->ptr)->buf);
    free(item->ptr);
    break;
  case FX_ITEM_OPENSSL:
    OPENSSL_free(item->ptr);
    break;
  }
}

void fx_pool_free(fx_pool *pool)
{
  if (pool == NULL) {
    return;
  }
  for (size_t i = pool->item_count; i > 0; i--) {
    free_item(&pool->items[i - 1]);
  }
  for (size_t i = 0; i < pool->file_count; i++) {
    unlink(pool->files[i]);
    free(pool->files[i]);
  }
  rmdir(pool->dir);
  free(pool);
}

const char *fx_pool_dir(const fx_pool *pool)
{
  return pool->dir;
}

/* EVP_PKEY_Q_keygen takes a size only for "RSA", so this goes long. */
static EVP_PKEY *rsa_pss_key(void)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
  EVP_PKEY *key = NULL;

  assert_non_null(ctx);
  assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
  assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
  assert_int_equal(EVP_PKEY_keygen(ctx, &key), 1);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

EVP_PKEY *fx_key(fx_pool *pool, fx_key_kind kind)
{
  EVP_PKEY *key = NULL;

  switch (kind) {
  case FX_KEY_EC:
    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    break;
  case FX_KEY_RSA:
    key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    break;
  case FX_KEY_RSA_PSS:
    key = rsa_pss_key();
    break;
  case FX_KEY_ED25519:
    key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    break;
  }
  return keep(pool, FX_ITEM_PKEY, key);
}

void fx_name_add_cn(X509_NAME *name, int type, const void *bytes,
                    size_t len)
{
  assert_int_equal(X509_NAME_add_entry_by_NID(name, NID_commonName, type,
                                              bytes, (int)len, -1, 0),
                   1);
}

X509_NAME *fx_name(fx_pool *pool, const char *cn)
{
  X509_NAME *name = keep(pool, FX_ITEM_NAME, X509_NAME_new());

  fx_name_add_cn(name, V_ASN1_UTF8STRING, cn, strlen(cn));
  return name;
}

static void set_time(ASN1_TIME *slot, const char *text)
{
  assert_int_equal(ASN1_TIME_set_string(slot, text), 1);
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;

  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  assert_non_null(ext);
  assert_int_equal(X509_add_ext(cert, ext, -1), 1);
  X509_EXTENSION_free(ext);
}

static void add_extensions(X509 *cert, X509 *issuer,
                           const fx_cert_spec *spec)
{
  if (spec->ca) {
    add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (spec->eku != NULL) {
    add_ext(cert, issuer, NID_ext_key_usage, spec->eku);
  }
  if (spec->san != NULL) {
    add_ext(cert, issuer, NID_subject_alt_name, spec->san);
  }
}

static void sign_cert(X509 *cert, EVP_PKEY *key, const fx_cert_spec *spec)
{
  const EVP_MD *md = spec->md != NULL ? spec->md : EVP_sha256();
  EVP_MD_CTX *mctx;
  EVP_PKEY_CTX *pctx = NULL;

  if (EVP_PKEY_is_a(key, "ED25519")) {
    assert_true(X509_sign(cert, key, NULL) > 0);
    return;
  }
  if (!spec->pss) {
    assert_true(X509_sign(cert, key, md) > 0);
    return;
  }
  mctx = EVP_MD_CTX_new();
  assert_non_null(mctx);
  assert_int_equal(EVP_DigestSignInit(mctx, &pctx, md, NULL, key), 1);
  assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) >
              0);
  assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                               RSA_PSS_SALTLEN_DIGEST) > 0);
  assert_true(X509_sign_ctx(cert, mctx) > 0);
  EVP_MD_CTX_free(mctx);
}

static void set_names(fx_pool *pool, X509 *cert,
                      const fx_cert_spec *spec)
{
  X509_NAME *subject = spec->subject;
  X509_NAME *issuer;

  if (subject == NULL) {
    subject = fx_name(pool, spec->cn != NULL ? spec->cn : "fixture");
  }
  issuer = spec->issuer != NULL ? X509_get_subject_name(spec->issuer)
                                : subject;
  assert_int_equal(X509_set_subject_name(cert, subject), 1);
  assert_int_equal(X509_set_issuer_name(cert, issuer), 1);
}

X509 *fx_cert(fx_pool *pool, const fx_cert_spec *spec)
{
  X509 *cert = keep(pool, FX_ITEM_X509, X509_new());
  EVP_PKEY *signer = spec->issuer_key != NULL ? spec->issuer_key
                                              : spec->key;
  long version = spec->v1 ? X509_VERSION_1 : X509_VERSION_3;

  assert_int_equal(X509_set_version(cert, version), 1);
  assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert),
                                    pool->serial++),
                   1);
  set_names(pool, cert, spec);
  set_time(X509_getm_notBefore(cert), spec->not_before != NULL
                                          ? spec->not_before
                                          : "250101000000Z");
  set_time(X509_getm_notAfter(cert), spec->not_after != NULL
                                         ? spec->not_after
                                         : "300101000000Z");
  assert_int_equal(X509_set_pubkey(cert, spec->key), 1);
  if (!spec->v1) {
    add_extensions(cert, spec->issuer != NULL ? spec->issuer : cert, spec);
  }
  sign_cert(cert, signer, spec);
  return cert;
}

cs_bytes fx_der(fx_pool *pool, X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509(cert, &der);
  cs_bytes out;

  assert_true(len > 0);
  keep(pool, FX_ITEM_OPENSSL, der);
  out.ptr = der;
  out.len = (size_t)len;
  return out;
}

void fx_spki_sha256(X509 *cert, uint8_t out[32])
{
  unsigned char *spki = NULL;
  int len = i2d_PUBKEY(X509_get0_pubkey(cert), &spki);

  assert_true(len > 0);
  assert_int_equal(EVP_Digest(spki, (size_t)len, out, NULL, EVP_sha256(),
                              NULL),
                   1);
  OPENSSL_free(spki);
}

size_t fx_patch(cs_bytes der, const void *from, const void *to, size_t len)
{
  uint8_t *bytes = (uint8_t *)der.ptr;
  size_t count = 0;

  for (size_t i = 0; i + len <= der.len; i++) {
    if (memcmp(bytes + i, from, len) == 0) {
      memcpy(bytes + i, to, len);
      count++;
    }
  }
  return count;
}

cs_bytes fx_copy(fx_pool *pool, cs_bytes der)
{
  uint8_t *copy = keep(pool, FX_ITEM_MEM, malloc(der.len + 1));
  cs_bytes out = { copy, der.len };

  memcpy(copy, der.ptr, der.len);
  return out;
}

const char *fx_write(fx_pool *pool, const char *name, const char *text)
{
  char *path = malloc(strlen(pool->dir) + strlen(name) + 2);
  FILE *file;

  assert_non_null(path);
  sprintf(path, "%s/%s", pool->dir, name);
  file = fopen(path, "wb");
  assert_non_null(file);
  assert_int_equal(fwrite(text, 1, strlen(text), file), strlen(text));
  assert_int_equal(fclose(file), 0);
  for (size_t i = 0; i < pool->file_count; i++) {
    if (strcmp(pool->files[i], path) == 0) {
      free(path);
      return pool->files[i];
    }
  }
  assert_true(pool->file_count < FX_MAX_FILES);
  pool->files[pool->file_count++] = path;
  return path;
}

fx_text *fx_text_new(fx_pool *pool)
{
  fx_text *text = keep(pool, FX_ITEM_TEXT, calloc(1, sizeof(*text)));

  text->cap = 256;
  text->buf = calloc(1, text->cap);
  assert_non_null(text->buf);
  return text;
}

void fx_text_add(fx_text *text, const char *fmt, ...)
{
  va_list args;
  int need;

  va_start(args, fmt);
  need = vsnprintf(NULL, 0, fmt, args);
  va_end(args);
  assert_true(need >= 0);
  if (text->len + (size_t)need + 1 > text->cap) {
    while (text->len + (size_t)need + 1 > text->cap) {
      text->cap *= 2;
    }
    text->buf = realloc(text->buf, text->cap);
    assert_non_null(text->buf);
  }
  va_start(args, fmt);
  vsnprintf(text->buf + text->len, text->cap - text->len, fmt, args);
  va_end(args);
  text->len += (size_t)need;
}

const char *fx_text_get(const fx_text *text)
{
  return text->buf;
}

void fx_text_add_pem_json(fx_text *text, X509 *cert)
{
  BIO *bio = BIO_new(BIO_s_mem());
  char *pem;
  long len;

  assert_non_null(bio);
  assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
  len = BIO_get_mem_data(bio, &pem);
  for (long i = 0; i < len; i++) {
    if (pem[i] == '\n') {
      fx_text_add(text, "\\n");
    } else {
      fx_text_add(text, "%c", pem[i]);
    }
  }
  BIO_free(bio);
}

void fx_text_add_pem_file_json(fx_text *text, const char *path)
{
  static const char end_line[] = "-----END CERTIFICATE-----";
  char buf[65536];
  FILE *file = fopen(path, "rb");
  size_t len;
  char *begin;
  char *end;

  assert_non_null(file);
  len = fread(buf, 1, sizeof(buf) - 1, file);
  fclose(file);
  buf[len] = '\0';
  begin = strstr(buf, "-----BEGIN CERTIFICATE-----");
  assert_non_null(begin);
  end = strstr(begin, end_line);
  assert_non_null(end);
  end += sizeof(end_line) - 1;
  for (char *p = begin; p < end; p++) {
    if (*p == '\n') {
      fx_text_add(text, "\\n");
    } else if (*p != '\r') {
      fx_text_add(text, "%c", *p);
    }
  }
  fx_text_add(text, "\\n");
}

cs_verify_signers *fx_signers_load(fx_pool *pool, const char *json)
{
  cs_verify_signers *signers = cs_verify_signers_new();
  cs_error err;

  assert_non_null(signers);
  cs_error_clear(&err);
  if (cs_verify_signers_load(signers, fx_write(pool, "signers.json", json),
                             &err) != CS_OK) {
    fail_msg("signers did not load: %s", err.message);
  }
  return signers;
}

const char *fx_testdata_path(fx_pool *pool, const char *relative)
{
  const char *dir = getenv("CERTSCAN_TESTDATA_DIR");
  char *path;

  assert_non_null(dir);
  path = keep(pool, FX_ITEM_MEM,
              malloc(strlen(dir) + strlen(relative) + 2));
  sprintf(path, "%s/%s", dir, relative);
  return path;
}

/* PEM_bytes_read_bio gives the base64 body without parsing it, so a
 * damaged certificate still reaches the parser under test. */
cs_bytes fx_read_cert_file(fx_pool *pool, const char *path)
{
  BIO *bio = BIO_new_file(path, "rb");
  unsigned char *der = NULL;
  char *name = NULL;
  long len = 0;
  cs_bytes out;

  assert_non_null(bio);
  if (PEM_bytes_read_bio(&der, &len, &name, "CERTIFICATE", bio,
                         NULL, NULL) != 1) {
    char buf[65536];
    int got;

    assert_int_equal(BIO_reset(bio), 0);
    got = BIO_read(bio, buf, sizeof(buf));
    assert_true(got > 0);
    der = OPENSSL_malloc((size_t)got);
    assert_non_null(der);
    memcpy(der, buf, (size_t)got);
    len = got;
  }
  OPENSSL_free(name);
  BIO_free(bio);
  keep(pool, FX_ITEM_OPENSSL, der);
  out.ptr = der;
  out.len = (size_t)len;
  return out;
}

static cs_str str_of(const char *text)
{
  cs_str out = { text, text != NULL ? strlen(text) : 0 };

  return out;
}

void fx_device_init(fx_device *d, const char *os, const char *serial,
                    const char *hostname)
{
  memset(d, 0, sizeof(*d));
  d->dev.device_id = str_of("dev-1");
  d->dev.os_name = str_of(os);
  if (strcmp(os, "windows") == 0) {
    d->dev.os = CS_OS_WINDOWS;
  } else if (strcmp(os, "mac") == 0) {
    d->dev.os = CS_OS_MAC;
  } else if (strcmp(os, "linux") == 0) {
    d->dev.os = CS_OS_LINUX;
  } else {
    d->dev.os = CS_OS_OTHER;
  }
  d->dev.serial_number = str_of(serial);
  d->dev.hostname = str_of(hostname);
  d->dev.collected_stores = CS_STORES_ALL;
  d->dev.certs = d->entries;
}

cs_cert_entry *fx_device_add(fx_device *d, cs_store store, cs_bytes der,
                             cs_tristate has_key)
{
  cs_cert_entry *entry;

  assert_true(d->dev.cert_count < FX_MAX_CERTS);
  entry = &d->entries[d->dev.cert_count++];
  entry->store = store;
  entry->der = der;
  entry->has_key = has_key;
  return entry;
}

void fx_device_collected(fx_device *d, unsigned stores)
{
  d->dev.collected_stores = stores;
  d->dev.collected_stores_listed = true;
}

int64_t fx_time(const char *rfc3339)
{
  int64_t t = 0;

  assert_true(cs_time_parse(rfc3339, &t));
  return t;
}
