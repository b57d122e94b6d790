/*
 * cs_verify.h - the facts of one certificate, read from its DER, and
 * the check of its signature against a configured signing certificate.
 *
 * Three parts:
 *   - cs_verify_parse: a strict, bounded DER reader that takes out what
 *     the posture rules need (names, validity, CNs, EKU, SANs, hashes)
 *     and refuses anything that is not exactly one DER certificate;
 *   - cs_verify_signers: signing certificates loaded from JSON files or
 *     folders of <uuid>.pem; each public key is parsed once, then shared
 *     read-only by every thread;
 *   - cs_verify_ctx: one per thread, holding the prepared OpenSSL
 *     contexts that each signature check reuses.
 *
 * Thread contract: a signer store is built on one thread and then only
 * read; a context is used by one thread at a time.
 */
#ifndef CS_VERIFY_H
#define CS_VERIFY_H

#include "cs_common.h"

typedef enum cs_sig_kind {
  CS_SIG_UNKNOWN, /* an algorithm this build does not verify */
  CS_SIG_RSA_PKCS1,
  CS_SIG_RSA_PSS,
  CS_SIG_ECDSA,
  CS_SIG_ED25519,
  CS_SIG_ED448,
  CS_SIG_DSA
} cs_sig_kind;

typedef enum cs_hash {
  CS_HASH_NONE, /* pure signatures such as Ed25519 */
  CS_HASH_MD5,
  CS_HASH_SHA1,
  CS_HASH_SHA224,
  CS_HASH_SHA256,
  CS_HASH_SHA384,
  CS_HASH_SHA512,
  CS_HASH_OTHER
} cs_hash;

/* Extended key usage purposes, as bits. */
#define CS_EKU_CLIENT_AUTH (1u << 0)
#define CS_EKU_EMAIL_PROTECTION (1u << 1)
#define CS_EKU_ANY (1u << 2)

typedef enum cs_san_type {
  CS_SAN_DNS,
  CS_SAN_EMAIL,
  CS_SAN_URI,
  CS_SAN_IP, /* value is the address as text: 192.0.2.1, 2001:db8::1 */
  CS_SAN_OTHER /* otherName, directoryName, ...: never compared */
} cs_san_type;

typedef struct cs_san {
  cs_san_type type;
  cs_str value;
} cs_san;

/*
 * The facts of one certificate. Byte views point into the DER given to
 * cs_verify_parse; converted strings (CNs, SANs) live in the arena it
 * was given. Both must outlive the facts.
 */
typedef struct cs_cert_facts {
  cs_bytes der;
  cs_bytes tbs;           /* the signed part, as it was encoded */
  cs_bytes issuer;        /* DER of the issuer Name */
  cs_bytes subject;       /* DER of the subject Name */
  cs_bytes spki;          /* DER of the SubjectPublicKeyInfo */
  cs_bytes sig_alg;       /* DER of the outer AlgorithmIdentifier */
  cs_bytes signature;     /* signature bytes (BIT STRING, no unused bits) */
  int version;            /* 1, 2 or 3 */
  cs_bytes serial;        /* INTEGER contents, may be empty */
  int64_t not_before;
  int64_t not_after;
  cs_sig_kind sig_kind;
  cs_hash sig_hash;
  const char *sig_name;   /* "sha256WithRSAEncryption", static text */
  bool has_eku;
  unsigned eku;           /* CS_EKU_* bits of the purposes listed */
  size_t cn_count;
  cs_str *cns;            /* subject CNs as UTF-8, lengths kept */
  size_t san_count;
  cs_san *sans;
  uint8_t sha256[32];     /* of the whole DER */
  uint8_t spki_sha256[32];
} cs_cert_facts;

/*
 * Reads one certificate. Returns CS_OK with `out` filled, or
 * CS_ERR_CERT_MALFORMED with the reason in `err` when `der` is not
 * exactly one strict DER certificate (trailing bytes, non-minimal
 * lengths, version outside 1..3, inner and outer signature algorithms
 * differing, unused bits in the signature, a duplicate extension, a
 * time that is not YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ, an explicit EC
 * curve, a string that does not decode). CS_ERR_NOMEM when the arena
 * runs out.
 */
CS_MUST_CHECK cs_status cs_verify_parse(cs_bytes der, cs_arena *arena,
                                        cs_cert_facts *out, cs_error *err);

/* A configured signing certificate. */
typedef struct cs_verify_signer cs_verify_signer;

/* Warnings about a signer; never a reason to refuse it. */
#define CS_SIGNER_WARN_NOT_CA (1u << 0)
#define CS_SIGNER_WARN_NO_KEY_CERT_SIGN (1u << 1)
#define CS_SIGNER_WARN_EXPIRED (1u << 2)

/*
 * The id (lower-case UUID), name and where the signer came from
 * ("<file>: entry <n>" for JSON, the .pem's path for a folder).
 */
const char *cs_verify_signer_id(const cs_verify_signer *signer);
const char *cs_verify_signer_name(const cs_verify_signer *signer);
const char *cs_verify_signer_source(const cs_verify_signer *signer);

/*
 * True when the signer has a certificate that parsed and a public key
 * this build can use; otherwise false, with why in `err`.
 */
bool cs_verify_signer_usable(const cs_verify_signer *signer, cs_error *err);

/* CS_SIGNER_WARN_* bits, with expiry judged at time `at`. */
unsigned cs_verify_signer_warnings(const cs_verify_signer *signer,
                                   int64_t at);

/* The signer certificate's facts; NULL when it is not usable. */
const cs_cert_facts *cs_verify_signer_facts(const cs_verify_signer *signer);

typedef struct cs_verify_signers cs_verify_signers;

cs_verify_signers *cs_verify_signers_new(void);
void cs_verify_signers_free(cs_verify_signers *signers);

/*
 * Adds the signers of `path`: a JSON file (bare array, {"result": [...]}
 * or one object, each {"id", "name", "certificates"}) or a folder of
 * <uuid>.pem files. A `private_key` member is ignored and not kept.
 * Errors (file unreadable, not JSON, an id that is not a UUID, the same
 * id twice) are CS_ERR_CONFIG naming the file. A signer whose PEM is
 * missing or broken is kept but not usable, so that only a rule that
 * references it fails.
 */
CS_MUST_CHECK cs_status cs_verify_signers_load(cs_verify_signers *signers,
                                               const char *path,
                                               cs_error *err);

size_t cs_verify_signers_count(const cs_verify_signers *signers);
const cs_verify_signer *cs_verify_signers_get0(
    const cs_verify_signers *signers, size_t index);

/* The signer with this id (any letter case), or NULL. */
const cs_verify_signer *cs_verify_signers_find(
    const cs_verify_signers *signers, const char *id);

typedef enum cs_sig_check {
  CS_SIG_CHECK_OK,
  CS_SIG_CHECK_WRONG_ISSUER,  /* issuer name is not the signer's subject */
  CS_SIG_CHECK_UNSUPPORTED,   /* algorithm this build does not verify */
  CS_SIG_CHECK_BAD_SIGNATURE  /* does not verify with the signer's key */
} cs_sig_check;

/* Per-thread state for signature checks. NULL when memory runs out. */
typedef struct cs_verify_ctx cs_verify_ctx;

cs_verify_ctx *cs_verify_ctx_new(void);
void cs_verify_ctx_free(cs_verify_ctx *ctx);

/*
 * Step 2 and the signature part of step 3 of the check: the issuer name
 * equals the signer's subject (X.509 comparison: raw bytes, then case
 * and space folding), the algorithm is supported, and the signature over
 * the TBS bytes verifies with the signer's cached key. `signer` must be
 * usable (an unusable one gives CS_SIG_CHECK_UNSUPPORTED). When OpenSSL
 * cannot set up its context the answer is CS_SIG_CHECK_BAD_SIGNATURE:
 * the check fails closed. Weak hashes are not judged here: see
 * cert->sig_hash.
 */
cs_sig_check cs_verify_check(cs_verify_ctx *ctx, const cs_cert_facts *cert,
                             const cs_verify_signer *signer);

#endif
