/*
 * verify_fixture.h - what the verify tests use to find, read and change
 * certificates: fixture paths, PEM and key loading, and a small DER
 * editor that rebuilds a certificate from its fields and signs it again
 * with OpenSSL, so that a changed certificate has exactly one defect.
 *
 * The editor is deliberately independent of the module under test: it
 * splits elements with its own few lines and never calls cs_verify_*.
 * Every buffer it returns lives in the arena it was given.
 */
#ifndef VERIFY_FIXTURE_H
#define VERIFY_FIXTURE_H

#include <openssl/evp.h>

#include "cs_common.h"

/* Where the fixtures are: $CERTSCAN_VERIFY_FIXTURES or the source tree. */
const char *fx_dir(void);

/* "<fixtures>/<name>" and "<tests/data>/<rel>", in the arena. */
char *fx_path(cs_arena *arena, const char *name);
char *fx_testdata(cs_arena *arena, const char *rel);

/* The whole file; ptr NULL when it cannot be read. */
cs_bytes fx_read(cs_arena *arena, const char *path);

/*
 * The DER of the first certificate in a file: the first CERTIFICATE
 * block of a PEM file, or the file itself when it is not PEM. ptr NULL
 * when a PEM file holds no block that decodes.
 */
cs_bytes fx_cert_der(cs_arena *arena, const char *path);

/* A fixture's private key; the caller frees it. */
EVP_PKEY *fx_key(const char *name);

/* tag, minimal DER length, contents. */
cs_bytes fx_enc(cs_arena *arena, uint8_t tag, cs_bytes contents);

/* `n` pieces one after another. */
cs_bytes fx_cat(cs_arena *arena, size_t n, const cs_bytes *pieces);

/* Bytes from a C string literal of known size. */
#define FX_LIT(s) ((cs_bytes){ (const uint8_t *)(s), sizeof(s) - 1 })

/* The elements inside `contents`; their count, at most `max`. */
size_t fx_children(cs_bytes contents, cs_bytes *out, size_t max);

/* The contents of the element `tlv`. */
cs_bytes fx_contents(cs_bytes tlv);

/* A certificate taken apart: the TBS fields, the algorithm, the value. */
#define FX_TBS_MAX 16

typedef struct fx_cert {
  cs_bytes tbs[FX_TBS_MAX];
  size_t tbs_count;
  cs_bytes alg;
  cs_bytes sig;
} fx_cert;

/* Where the fields of a v3 certificate sit in fx_cert.tbs. */
enum {
  FX_VERSION,
  FX_SERIAL,
  FX_SIG_ALG,
  FX_ISSUER,
  FX_VALIDITY,
  FX_SUBJECT,
  FX_SPKI,
  FX_EXTENSIONS
};

void fx_cert_split(cs_bytes der, fx_cert *out);

/* The TBSCertificate element built from the fields. */
cs_bytes fx_cert_tbs(cs_arena *arena, const fx_cert *cert);

/*
 * The certificate again. With `key`, the new TBS is signed (digest
 * `md`, NULL for EdDSA) and the signature replaces the old one; without,
 * the old signature stays.
 */
cs_bytes fx_cert_join(cs_arena *arena, const fx_cert *cert, EVP_PKEY *key,
                      const char *md);

/* A Name of one RDN: attribute `oid` (contents) = value `tag`/`value`. */
cs_bytes fx_name1(cs_arena *arena, cs_bytes oid, uint8_t tag, cs_bytes value);

/* The extensions [3] element with `count` Extension elements. */
cs_bytes fx_extensions(cs_arena *arena, const cs_bytes *exts, size_t count);

#endif
