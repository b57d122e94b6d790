/*
 * cs_posture.h - client-certificate posture rules: loading, validation
 * against the configured signers, and the verdict of one device for
 * every rule.
 *
 * Thread contract: rules are loaded once and then only read; each
 * thread evaluates devices with a worker of its own.
 */
#ifndef CS_POSTURE_H
#define CS_POSTURE_H

#include "cs_common.h"
#include "cs_ingest.h"
#include "cs_verify.h"

typedef enum cs_verdict {
  CS_VERDICT_PASS,
  CS_VERDICT_FAIL,
  CS_VERDICT_UNKNOWN,
  CS_VERDICT_NOT_APPLICABLE
} cs_verdict;

#define CS_VERDICT_COUNT 4

/*
 * X(name, code, step): the reason codes, with the step of the check
 * that gives each one. A failing device reports the candidate that got
 * furthest, so the step number ranks reasons.
 */
#define CS_REASON_LIST(X)                                                  \
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

typedef enum cs_reason {
#define CS_REASON_ENUM(name, code, step) CS_REASON_##name,
  CS_REASON_LIST(CS_REASON_ENUM)
#undef CS_REASON_ENUM
  CS_REASON_COUNT
} cs_reason;

/* "pass", "fail", "unknown", "not_applicable". */
const char *cs_verdict_name(cs_verdict verdict);

/* The reason code as reports print it; "" for CS_REASON_NONE. */
const char *cs_reason_code(cs_reason reason);

/* The step that gives the reason (0 for device-level reasons). */
int cs_reason_step(cs_reason reason);

/* What reports say about a rule. Strings belong to the rules. */
typedef struct cs_posture_rule_info {
  const char *id;
  const char *name;
  const char *type;             /* "client_certificate_v2", ... */
  const char *operating_system; /* NULL when the rule names none */
  const char *certificate_id;
  const char *input_json;       /* the rule's `input`, compact JSON */
} cs_posture_rule_info;

typedef struct cs_posture_rules cs_posture_rules;

/*
 * Loads a rules file (the API list envelope {"result": [...]}, a bare
 * array, or one rule object) and validates every client-certificate
 * rule against `signers`: an unknown ${variable}, an unknown EKU name,
 * a malformed UUID, a missing or unusable signer are CS_ERR_CONFIG,
 * naming the rule. Rules of other types are counted and skipped.
 * `signers` must outlive the rules.
 */
CS_MUST_CHECK cs_status cs_posture_rules_load(
    const char *path, const cs_verify_signers *signers,
    cs_posture_rules **out_rules, cs_error *err);

/* Accepts NULL. Every worker made from the rules must be freed first. */
void cs_posture_rules_free(cs_posture_rules *rules);

/* Client-certificate rules kept, in file order; info is NULL for an
 * index out of range. */
size_t cs_posture_rules_count(const cs_posture_rules *rules);
const cs_posture_rule_info *cs_posture_rules_info(
    const cs_posture_rules *rules, size_t index);

/* Rules of other types that were skipped. */
size_t cs_posture_rules_skipped(const cs_posture_rules *rules);

typedef struct cs_posture_options {
  int64_t at;      /* evaluation time */
  bool allow_sha1; /* SHA-1 signatures are then not weak (MD5 still is) */
} cs_posture_options;

#define CS_POSTURE_DETAIL_MAX 192

/*
 * One device against one rule. For PASS, the certificate is the first
 * that passed; for FAIL, the one that got furthest. cert_index is -1
 * when no certificate is named (no candidate, not applicable).
 */
typedef struct cs_posture_result {
  cs_verdict verdict;
  cs_reason reason;
  int cert_index;
  char detail[CS_POSTURE_DETAIL_MAX];
} cs_posture_result;

/* Counts from one device's certificates, for the run's totals. */
typedef struct cs_posture_cert_counts {
  size_t read;
  size_t malformed;
  size_t signatures; /* signatures verified with a signer's key */
} cs_posture_cert_counts;

/* The facts of a device's certificates, once parsed. */
typedef struct cs_posture_cert_view {
  bool parsed;               /* false: malformed_certificate */
  const cs_cert_facts *facts;
} cs_posture_cert_view;

typedef struct cs_posture_worker cs_posture_worker;

/*
 * A worker for one thread; NULL when memory runs out. `rules` is
 * borrowed and must outlive the worker; `options` is copied.
 */
cs_posture_worker *cs_posture_worker_new(const cs_posture_rules *rules,
                                         const cs_posture_options *options);

/* Accepts NULL. */
void cs_posture_worker_free(cs_posture_worker *worker);

/*
 * Evaluates `device` against every rule: `results` has one slot per
 * rule, in rule order. Each certificate is parsed once and each
 * (certificate, signer) signature checked once, whatever the number of
 * rules. The facts stay readable through cs_posture_worker_cert until
 * the next call, and point into the device's DER: the device must stay
 * alive as long as they are read. Returns CS_OK, or CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_posture_evaluate(cs_posture_worker *worker,
                                            const cs_device *device,
                                            cs_posture_result *results,
                                            cs_posture_cert_counts *counts);

/*
 * The parsed facts of the last device's certificate `index`; parsed is
 * false (and facts NULL) for a malformed one or an index out of range.
 */
cs_posture_cert_view cs_posture_worker_cert(const cs_posture_worker *worker,
                                            size_t index);

/*
 * Signature checks this worker has run since it was made: at most one
 * per (certificate, distinct signer) of each device, however many rules
 * share the signer. For benchmarks and tests.
 */
uint64_t cs_posture_worker_sig_checks(const cs_posture_worker *worker);

#endif
