/*
 * posture_fixtures.h - what the posture tests are made of: keys and
 * certificates made with OpenSSL at run time (fixed validity times, so
 * verdicts never depend on the day the tests run), signer and rules
 * files in a temporary folder, and devices built in C.
 *
 * A pool owns everything a test makes; fx_pool_free releases it and
 * removes the files. Any OpenSSL failure aborts the test run: a
 * fixture that cannot be made is a broken test, not a verdict.
 */
#ifndef POSTURE_FIXTURES_H
#define POSTURE_FIXTURES_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cs_posture.h"

typedef struct fx_pool fx_pool;

fx_pool *fx_pool_new(void);
void fx_pool_free(fx_pool *pool);

/* The pool's temporary folder. */
const char *fx_pool_dir(const fx_pool *pool);

typedef enum fx_key_kind {
  FX_KEY_EC,
  FX_KEY_RSA,
  FX_KEY_RSA_PSS, /* an id-RSASSA-PSS key: it signs only with PSS */
  FX_KEY_ED25519
} fx_key_kind;

/* A new key owned by the pool. */
EVP_PKEY *fx_key(fx_pool *pool, fx_key_kind kind);

/* A name with one UTF8String CN, owned by the pool. */
X509_NAME *fx_name(fx_pool *pool, const char *cn);

/* Adds a CN of ASN.1 `type` (V_ASN1_UTF8STRING, V_ASN1_BMPSTRING, ...)
 * holding exactly `len` bytes. */
void fx_name_add_cn(X509_NAME *name, int type, const void *bytes,
                    size_t len);

typedef struct fx_cert_spec {
  X509_NAME *subject;     /* or `cn`: a subject with that one CN */
  const char *cn;
  EVP_PKEY *key;          /* the certificate's key (required) */
  X509 *issuer;           /* NULL: self-issued */
  EVP_PKEY *issuer_key;   /* NULL: `key` signs */
  const char *not_before; /* ASN1_TIME_set_string form; default 2025 */
  const char *not_after;  /* default 2030-01-01 */
  const char *eku;        /* OpenSSL config form: "clientAuth,..." */
  const char *san;        /* OpenSSL config form: "DNS:a,email:b" */
  const EVP_MD *md;       /* NULL: SHA-256 (nothing for Ed25519) */
  bool pss;               /* RSA-PSS padding, salt = digest length */
  bool ca;                /* basicConstraints CA and keyCertSign */
  bool v1;                /* a version 1 certificate, no extensions */
} fx_cert_spec;

/* A signed certificate owned by the pool. */
X509 *fx_cert(fx_pool *pool, const fx_cert_spec *spec);

/* Its DER, owned by the pool. */
cs_bytes fx_der(fx_pool *pool, X509 *cert);

/* SHA-256 of the certificate's SubjectPublicKeyInfo. */
void fx_spki_sha256(X509 *cert, uint8_t out[32]);

/* Replaces every copy of `from` in `der` by `to` (same length); returns
 * how many were replaced. The bytes are the pool's own copy. */
size_t fx_patch(cs_bytes der, const void *from, const void *to, size_t len);

/* A copy of `der` owned by the pool, to patch without touching it. */
cs_bytes fx_copy(fx_pool *pool, cs_bytes der);

/* Writes `text` to `name` in the pool's folder; returns the path. */
const char *fx_write(fx_pool *pool, const char *name, const char *text);

/* Growing text, owned by the pool. */
typedef struct fx_text fx_text;

fx_text *fx_text_new(fx_pool *pool);
void fx_text_add(fx_text *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *fx_text_get(const fx_text *text);

/* Appends the certificate's PEM with line breaks written as \n. */
void fx_text_add_pem_json(fx_text *text, X509 *cert);

/* Appends the first PEM block of the file at `path` (any text around
 * it left out) with line breaks written as \n. */
void fx_text_add_pem_file_json(fx_text *text, const char *path);

/*
 * A signer store loaded from `json` (written to signers.json in the
 * pool's folder); the test fails when it does not load. The caller
 * frees it with cs_verify_signers_free.
 */
cs_verify_signers *fx_signers_load(fx_pool *pool, const char *json);

/* A path in the test data folder (CERTSCAN_TESTDATA_DIR, tests/data). */
const char *fx_testdata_path(fx_pool *pool, const char *relative);

/* The DER of the first PEM block of `path`, parsed or not, or of a
 * DER file; the test fails when the file cannot be read. */
cs_bytes fx_read_cert_file(fx_pool *pool, const char *path);

#define FX_MAX_CERTS 8

typedef struct fx_device {
  cs_device dev;
  cs_cert_entry entries[FX_MAX_CERTS];
} fx_device;

/* A device of `os` ("windows", ...); NULL serial or hostname: absent. */
void fx_device_init(fx_device *d, const char *os, const char *serial,
                    const char *hostname);

/* Adds a cert entry; returns it for further fields. */
cs_cert_entry *fx_device_add(fx_device *d, cs_store store, cs_bytes der,
                             cs_tristate has_key);

/* Lists the stores the collector read (sets collected_stores_listed). */
void fx_device_collected(fx_device *d, unsigned stores);

/* RFC 3339 to seconds; the test fails on a bad text. */
int64_t fx_time(const char *rfc3339);

#endif
