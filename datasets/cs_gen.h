/*
 * cs_gen.h - internal header of certscan-gen, the fleet generator.
 *
 * The generator writes a fleet in the certinv v1 format together with
 * the verdicts the posture check must give on it. It never asks the
 * scanner's modules: every certificate is made from a specification
 * (struct cs_gen_spec) and the verdicts are computed from those
 * specifications (cs_gen_truth.c), so the two cannot share a mistake.
 *
 * Determinism: every random choice comes from a ChaCha20 stream keyed
 * by the seed and a label naming what the bytes are for (a device
 * index, a certificate index); OpenSSL's own randomness (key
 * generation, ECDSA nonces, PSS salts) is routed to such a stream too.
 * The same options therefore give the same bytes whatever the number
 * of threads.
 */
#ifndef CS_GEN_H
#define CS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cs_common.h"

/* ---- random streams (cs_gen_rng.c) ---- */

typedef struct cs_gen_rng {
  uint32_t key[8];
  uint64_t counter;
  uint8_t block[64];
  size_t used;
} cs_gen_rng;

/* Keys the stream with SHA-256(seed, label, index). */
void cs_gen_rng_init(cs_gen_rng *rng, uint64_t seed, const char *label,
                     uint64_t index);
void cs_gen_rng_bytes(cs_gen_rng *rng, void *out, size_t len);
uint64_t cs_gen_rng_u64(cs_gen_rng *rng);

/* Uniform in [0, n); 0 when n is 0. */
uint64_t cs_gen_rng_below(cs_gen_rng *rng, uint64_t n);

/* Uniform in [lo, hi]. */
int64_t cs_gen_rng_range(cs_gen_rng *rng, int64_t lo, int64_t hi);

/* Uniform in [0, 1) with 53 bits. */
double cs_gen_rng_unit(cs_gen_rng *rng);

/* A version 4 UUID in lower case, 36 characters and a NUL. */
void cs_gen_rng_uuid(cs_gen_rng *rng, char out[37]);

/*
 * Routes OpenSSL's random bytes to a per-thread stream. Install once,
 * before any thread starts; then each thread calls cs_gen_rand_reseed
 * before every operation whose output depends on randomness.
 */
CS_MUST_CHECK bool cs_gen_rand_install(void);
void cs_gen_rand_reseed(uint64_t seed, const char *label, uint64_t index);

/* ---- options and defect rates (cs_gen_options.c) ---- */

/*
 * X(id, name, scope, default rate, description). The scope says what a
 * rate is the chance of: "rule" per (device, applicable rule), "device"
 * per device record, "cert" per passing rule certificate. The reason
 * codes come first: at most one of them is drawn per (device, rule).
 */
#define CS_GEN_DEFECT_LIST(X)                                               \
  X(MALFORMED_CERTIFICATE, "malformed_certificate", "rule", 0.012,          \
    "the rule's certificate is not one strict DER certificate")             \
  X(WRONG_ISSUER, "wrong_issuer", "rule", 0.015,                            \
    "issued by the root above the signer, another signer or another CA")    \
  X(UNSUPPORTED_ALGORITHM, "unsupported_algorithm", "rule", 0.006,          \
    "signature algorithm OID 2.25.329800735698586629295641978511506172918") \
  X(BAD_SIGNATURE, "bad_signature", "rule", 0.012,                          \
    "a signature byte flipped, or signed by an impostor key")               \
  X(WEAK_SIGNATURE, "weak_signature", "rule", 0.01,                         \
    "signed by the right key with SHA-1")                                   \
  X(NOT_YET_VALID, "not_yet_valid", "rule", 0.01,                           \
    "notBefore after the evaluation time")                                  \
  X(EXPIRED, "expired", "rule", 0.025,                                      \
    "notAfter before the evaluation time")                                  \
  X(CN_MISMATCH, "cn_mismatch", "rule", 0.015,                              \
    "subject CN differs from the template, or is absent")                   \
  X(EKU_MISSING, "eku_missing", "rule", 0.015,                              \
    "EKU absent, other purposes, or anyExtendedKeyUsage only")              \
  X(NO_PRIVATE_KEY, "no_private_key", "rule", 0.015, "has_key is false")    \
  X(PRIVATE_KEY_UNKNOWN, "private_key_unknown", "rule", 0.01,               \
    "has_key is absent from the rule's certificate")                        \
  X(KEY_MISMATCH, "key_mismatch", "rule", 0.008,                            \
    "key_spki_sha256 is the hash of another key")                           \
  X(SAN_MISMATCH, "san_mismatch", "rule", 0.012,                            \
    "no SAN matches (other names, none, or only an otherName)")             \
  X(NO_CERTIFICATE, "no_certificate", "rule", 0.03,                         \
    "no certificate in the rule's locations")                               \
  X(NOT_COLLECTED, "not_collected", "rule", 0.01,                           \
    "collected_stores leaves out the rule's locations")                     \
  X(MALFORMED_RECORD, "malformed_record", "device", 0.004,                  \
    "the device record has a wrong shape")                                  \
  X(SERIAL_MISSING, "serial_missing", "device", 0.01,                       \
    "serial_number absent from the record")                                 \
  X(SERIAL_EMPTY, "serial_empty", "device", 0.005, "serial_number is \"\"") \
  X(COLLECTED_NONE, "collected_none", "device", 0.004,                      \
    "collected_stores is an empty list and the device has no certs")        \
  X(HAS_KEY_ABSENT, "has_key_absent", "device", 0.01,                       \
    "no cert entry of the device has has_key")                              \
  X(UNRELATED_CA, "unrelated_ca", "device", 0.15,                           \
    "one to three self-signed CA certificates of other owners")             \
  X(EXTRA_CANDIDATE, "extra_candidate", "rule", 0.06,                       \
    "a second certificate for the rule, with a defect of its own")          \
  X(EDGE_CASE, "edge_case", "cert", 0.05,                                   \
    "a passing certificate on an edge: case, time bounds, far future")

typedef enum cs_gen_defect {
  CS_GEN_D_NONE = -1,
#define CS_GEN_DEFECT_ENUM(id, name, scope, rate, text) CS_GEN_D_##id,
  CS_GEN_DEFECT_LIST(CS_GEN_DEFECT_ENUM)
#undef CS_GEN_DEFECT_ENUM
  CS_GEN_D_COUNT
} cs_gen_defect;

/* Per-rule defects come first in the list, up to this one. */
#define CS_GEN_D_PER_RULE_COUNT (CS_GEN_D_NOT_COLLECTED + 1)

const char *cs_gen_defect_name(cs_gen_defect defect);

typedef enum cs_gen_alg {
  CS_GEN_ALG_RSA2048,
  CS_GEN_ALG_RSA3072,
  CS_GEN_ALG_RSA4096,
  CS_GEN_ALG_RSA2048_PSS,
  CS_GEN_ALG_P256,
  CS_GEN_ALG_P384,
  CS_GEN_ALG_ED25519,
  CS_GEN_ALG_COUNT
} cs_gen_alg;

const char *cs_gen_alg_name(cs_gen_alg alg);

enum { CS_GEN_OS_WINDOWS, CS_GEN_OS_MAC, CS_GEN_OS_LINUX, CS_GEN_OS_OTHER,
       CS_GEN_OS_COUNT };

#define CS_GEN_MAX_SIGNERS 16

typedef struct cs_gen_options {
  uint64_t devices;
  unsigned shards;
  uint64_t seed;
  const char *out_dir;
  int64_t at;
  cs_gen_alg signers[CS_GEN_MAX_SIGNERS];
  size_t signer_count;
  double os_mix[CS_GEN_OS_COUNT]; /* normalised to sum 1 */
  unsigned extra_min;
  unsigned extra_max;
  bool uncompressed;
  unsigned threads;
  double rates[CS_GEN_D_COUNT];
} cs_gen_options;

/*
 * Parses argv. Returns 0 to go on, 1 when --help or --list-defects was
 * served, 2 on a usage error (already printed to stderr).
 */
int cs_gen_options_parse(int argc, char **argv, cs_gen_options *out);

/* ---- certificate authorities and keys (cs_gen_pki.c) ---- */

typedef struct cs_gen_ca {
  cs_gen_alg alg;
  EVP_PKEY *key;
  X509_NAME *name;
  X509_NAME *name_folded; /* same name, other letter case and spaces */
  X509 *cert;             /* NULL for an impostor: it only signs */
  char id[37];
  char *display_name;     /* "CN=...,O=..." */
  char *pem;
} cs_gen_ca;

#define CS_GEN_KEY_POOL 24

typedef struct cs_gen_pki {
  size_t signer_count;
  cs_gen_ca signers[CS_GEN_MAX_SIGNERS];
  cs_gen_ca impostors[CS_GEN_MAX_SIGNERS]; /* signer's name, other key */
  cs_gen_ca root;                          /* issued every signer */
  cs_gen_ca other_cas[2];                  /* another owner's CAs */
  EVP_PKEY *pool[CS_GEN_KEY_POOL];
  uint8_t pool_spki_sha256[CS_GEN_KEY_POOL][32];
} cs_gen_pki;

/* Issuer references in a specification. */
#define CS_GEN_ISSUER_SELF (-1)
#define CS_GEN_ISSUER_ROOT (-2)
#define CS_GEN_ISSUER_OTHER0 (-3)
#define CS_GEN_ISSUER_OTHER1 (-4)

typedef enum cs_gen_sig_mode {
  CS_GEN_SIG_NORMAL,
  CS_GEN_SIG_SHA1,        /* the issuer's key, SHA-1 */
  CS_GEN_SIG_FLIPPED,     /* the last signature byte flipped */
  CS_GEN_SIG_IMPOSTOR,    /* the issuer's name, the impostor's key */
  CS_GEN_SIG_UNSUPPORTED  /* algorithm OID no verifier knows */
} cs_gen_sig_mode;

typedef enum cs_gen_malformed {
  CS_GEN_MAL_NONE,
  CS_GEN_MAL_TRAILING,  /* two zero bytes after the certificate */
  CS_GEN_MAL_TRUNCATED, /* the last bytes cut off */
  CS_GEN_MAL_PEM        /* PEM text where DER belongs */
} cs_gen_malformed;

#define CS_GEN_EKU_CLIENT (1u << 0)
#define CS_GEN_EKU_EMAIL (1u << 1)
#define CS_GEN_EKU_SERVER (1u << 2)
#define CS_GEN_EKU_ANY (1u << 3)

typedef enum cs_gen_san_type {
  CS_GEN_SAN_DNS,
  CS_GEN_SAN_EMAIL,
  CS_GEN_SAN_URI,
  CS_GEN_SAN_IP,
  CS_GEN_SAN_UPN /* otherName: never compared by the check */
} cs_gen_san_type;

#define CS_GEN_MAX_SANS 4
#define CS_GEN_TEXT_MAX 96

typedef struct cs_gen_san {
  cs_gen_san_type type;
  char value[CS_GEN_TEXT_MAX];
} cs_gen_san;

/*
 * Everything a certificate is made of. The truth is computed from this
 * alone, so the builder must render every field exactly.
 */
typedef struct cs_gen_spec {
  int issuer;        /* signer index >= 0, or CS_GEN_ISSUER_* */
  bool issuer_folded; /* issuer written in other case and spacing */
  cs_gen_sig_mode sig;
  cs_gen_malformed malformed;
  bool is_ca;
  int key;           /* pool index of the subject key */
  uint8_t serial[16];
  int64_t not_before;
  int64_t not_after;
  bool has_cn;
  char cn[CS_GEN_TEXT_MAX];
  char org[CS_GEN_TEXT_MAX];
  bool has_eku;
  unsigned eku;      /* CS_GEN_EKU_* */
  size_t san_count;
  cs_gen_san sans[CS_GEN_MAX_SANS];
} cs_gen_spec;

/*
 * Makes every key and CA certificate from the seed. Returns false (with
 * a message on stderr: this is the program, not a library) on failure.
 */
CS_MUST_CHECK bool cs_gen_pki_init(cs_gen_pki *pki,
                                   const cs_gen_options *options);
void cs_gen_pki_cleanup(cs_gen_pki *pki);

/*
 * Renders `spec` as DER into a malloc'd buffer (*out_der, *out_len).
 * `rand_index` keys the stream for ECDSA nonces and PSS salts. Checks
 * its own work: a signature meant to verify is verified. Returns false
 * on an OpenSSL failure or a failed self-check.
 */
CS_MUST_CHECK bool cs_gen_cert_build(const cs_gen_pki *pki,
                                     const cs_gen_spec *spec,
                                     uint64_t seed, uint64_t rand_index,
                                     uint8_t **out_der, size_t *out_len);

/* PEM of a certificate, malloc'd. */
char *cs_gen_cert_pem(X509 *cert);

/* ---- rules (cs_gen_rules.c) ---- */

#define CS_GEN_MAX_RULES 8
#define CS_GEN_MAX_TEMPLATES 2
#define CS_GEN_MAX_PATHS 2

enum { CS_GEN_STORE_SYSTEM = 1u << 0, CS_GEN_STORE_USER = 1u << 1,
       CS_GEN_STORE_PATH = 1u << 2 };

typedef struct cs_gen_rule {
  char id[37];
  const char *name;
  const char *type;     /* client_certificate_v2, client_certificate */
  int os;               /* CS_GEN_OS_*, or -1 for a v1 rule */
  bool evaluated;       /* false: another type, skipped by the check */
  bool has_locations;
  unsigned trust_stores; /* CS_GEN_STORE_SYSTEM / USER */
  size_t path_count;
  const char *paths[CS_GEN_MAX_PATHS];
  int signer;           /* index into pki->signers */
  const char *cn;       /* template or NULL */
  size_t san_count;
  const char *sans[CS_GEN_MAX_TEMPLATES];
  unsigned eku;         /* CS_GEN_EKU_CLIENT / EMAIL */
  bool check_private_key;
  bool has_match;
  int served_by;        /* on devices of that rule's OS, its cert
                           serves this rule too; -1 otherwise */
} cs_gen_rule;

typedef struct cs_gen_rules {
  size_t count; /* evaluated and skipped rules, in file order */
  cs_gen_rule rules[CS_GEN_MAX_RULES];
} cs_gen_rules;

void cs_gen_rules_init(cs_gen_rules *rules, const cs_gen_pki *pki,
                       uint64_t seed);

/* Stores (CS_GEN_STORE_*) the rule selects. */
unsigned cs_gen_rule_locations(const cs_gen_rule *rule);

CS_MUST_CHECK bool cs_gen_rules_write(const cs_gen_rules *rules,
                                      const cs_gen_pki *pki,
                                      const char *path);
CS_MUST_CHECK bool cs_gen_signers_write(const cs_gen_pki *pki,
                                        const char *path);

/* ---- the verdicts (cs_gen_truth.c) ---- */

/*
 * The reason codes and their steps, written out here rather than taken
 * from the posture module: the ground truth must not share code with
 * the scanner it checks.
 */
#define CS_GEN_REASON_LIST(X)                                              \
  X(NONE, "", 0)                                                           \
  X(NO_CERTIFICATE, "no_certificate", 0)                                   \
  X(NOT_COLLECTED, "not_collected", 0)                                     \
  X(MALFORMED_CERTIFICATE, "malformed_certificate", 1)                     \
  X(WRONG_ISSUER, "wrong_issuer", 2)                                       \
  X(UNSUPPORTED_ALGORITHM, "unsupported_algorithm", 3)                     \
  X(BAD_SIGNATURE, "bad_signature", 3)                                     \
  X(WEAK_SIGNATURE, "weak_signature", 3)                                   \
  X(NOT_YET_VALID, "not_yet_valid", 4)                                     \
  X(EXPIRED, "expired", 5)                                                 \
  X(CN_MISMATCH, "cn_mismatch", 6)                                         \
  X(EKU_MISSING, "eku_missing", 7)                                         \
  X(NO_PRIVATE_KEY, "no_private_key", 8)                                   \
  X(PRIVATE_KEY_UNKNOWN, "private_key_unknown", 8)                         \
  X(KEY_MISMATCH, "key_mismatch", 8)                                       \
  X(SAN_MISMATCH, "san_mismatch", 9)

typedef enum cs_gen_reason {
#define CS_GEN_REASON_ENUM(name, code, step) CS_GEN_R_##name,
  CS_GEN_REASON_LIST(CS_GEN_REASON_ENUM)
#undef CS_GEN_REASON_ENUM
  CS_GEN_R_COUNT
} cs_gen_reason;

const char *cs_gen_reason_code(cs_gen_reason reason);

typedef enum cs_gen_verdict {
  CS_GEN_V_PASS,
  CS_GEN_V_FAIL,
  CS_GEN_V_UNKNOWN,
  CS_GEN_V_NOT_APPLICABLE
} cs_gen_verdict;

const char *cs_gen_verdict_name(cs_gen_verdict verdict);

typedef enum cs_gen_tri { CS_GEN_TRI_ABSENT, CS_GEN_TRI_FALSE,
                          CS_GEN_TRI_TRUE } cs_gen_tri;

/* One cert entry of a device, as written and as judged. */
typedef struct cs_gen_entry {
  cs_gen_spec spec;
  unsigned store;      /* one CS_GEN_STORE_* bit */
  const char *path;    /* for CS_GEN_STORE_PATH */
  const char *key_path;
  const char *label;
  cs_gen_tri has_key;
  bool has_spki;
  uint8_t spki_sha256[32];
  uint8_t *der;        /* owned */
  size_t der_len;
} cs_gen_entry;

#define CS_GEN_MAX_ENTRIES 24

typedef struct cs_gen_device {
  uint64_t index;
  int os;
  const char *os_name;
  char device_id[37];
  char hostname[48];
  char serial[32];     /* as the record carries it */
  bool serial_present;
  bool stores_listed;
  unsigned stores;     /* collected, when listed */
  size_t entry_count;
  cs_gen_entry entries[CS_GEN_MAX_ENTRIES];
} cs_gen_device;

typedef struct cs_gen_verdict_result {
  cs_gen_verdict verdict;
  cs_gen_reason reason;
} cs_gen_verdict_result;

/* The verdict of `device` for `rule` at time `at` (brief section 5). */
cs_gen_verdict_result cs_gen_truth_evaluate(const cs_gen_rule *rule,
                                            const cs_gen_device *device,
                                            const cs_gen_pki *pki,
                                            int64_t at);

/* Expands a CN or SAN template; false when it matches nothing. */
bool cs_gen_template_expand(const char *tmpl, const cs_gen_device *device,
                            char *out, size_t out_size);

/* ---- devices (cs_gen_fleet.c) ---- */

typedef struct cs_gen_ctx {
  const cs_gen_options *options;
  const cs_gen_pki *pki;
  const cs_gen_rules *rules;
} cs_gen_ctx;

/* What one device adds to the totals and to the per-device table. */
typedef struct cs_gen_device_truth {
  bool malformed;
  bool evaluated;
  size_t certs;
  size_t certs_malformed;
  cs_gen_verdict_result results[CS_GEN_MAX_RULES];
} cs_gen_device_truth;

typedef struct msgpack_packer msgpack_packer;

/*
 * Makes device `index`, packs it into `pk` and fills `truth` (and
 * `device` for the table). Returns false on an OpenSSL failure.
 */
CS_MUST_CHECK bool cs_gen_device_make(const cs_gen_ctx *ctx,
                                      uint64_t index, msgpack_packer *pk,
                                      cs_gen_device *device,
                                      cs_gen_device_truth *truth);

/* Frees what cs_gen_device_make allocated in `device`. */
void cs_gen_device_cleanup(cs_gen_device *device);

/* ---- the run (cs_gen_run.c) ---- */

CS_MUST_CHECK bool cs_gen_run(const cs_gen_ctx *ctx);

#endif
