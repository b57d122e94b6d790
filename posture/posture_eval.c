/*
 * posture_eval.c - the verdict of one device for every rule.
 *
 * A worker parses each certificate of a device once, up front, and
 * checks each (certificate, signer) signature at most once, the first
 * time a rule needs it; every rule then reads those cached results.
 * Details are written only for the certificate a verdict names.
 */
#include "posture_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_ARENA_CHUNK (64 * 1024)

/* How much of an expanded template a detail quotes. */
#define DETAIL_QUOTE 64

static const char *const verdict_names[] = {
  "pass", "fail", "unknown", "not_applicable"
};

static const char *const reason_codes[] = {
#define CS_REASON_CODE(name, code, step) code,
  CS_REASON_LIST(CS_REASON_CODE)
#undef CS_REASON_CODE
};

static const int reason_steps[] = {
#define CS_REASON_STEP(name, code, step) step,
  CS_REASON_LIST(CS_REASON_STEP)
#undef CS_REASON_STEP
};

const char *cs_verdict_name(cs_verdict verdict)
{
  if ((unsigned)verdict >= CS_VERDICT_COUNT) {
    return "unknown";
  }
  return verdict_names[verdict];
}

const char *cs_reason_code(cs_reason reason)
{
  if ((unsigned)reason >= CS_REASON_COUNT) {
    return "";
  }
  return reason_codes[reason];
}

int cs_reason_step(cs_reason reason)
{
  if ((unsigned)reason >= CS_REASON_COUNT) {
    return 0;
  }
  return reason_steps[reason];
}

/* One certificate of the device being evaluated. */
typedef struct posture_cert {
  bool parsed;
  cs_cert_facts facts;
  const char *parse_error; /* why it did not parse, in the arena */
} posture_cert;

struct cs_posture_worker {
  const cs_posture_rules *rules;
  cs_posture_options options;
  cs_verify_ctx *verify;
  cs_arena arena;             /* reset for each device */
  const cs_device *device;
  posture_cert *certs;
  size_t cert_count;
  uint8_t *sig_cache;         /* cert x signer slot: 0 = not checked yet,
                                 else 1 + cs_sig_check */
  posture_expansion *sans;    /* room for the most SANs a rule lists */
  uint64_t sig_checks;
  uint64_t verifications; /* checks that reached the public key */
};

/* The templates of one rule, filled in for the current device. */
typedef struct rule_expansions {
  posture_expansion cn;
  posture_expansion *sans;
} rule_expansions;

cs_posture_worker *cs_posture_worker_new(const cs_posture_rules *rules,
                                         const cs_posture_options *options)
{
  cs_posture_worker *worker = calloc(1, sizeof(*worker));

  if (worker == NULL) {
    return NULL;
  }
  worker->rules = rules;
  worker->options = *options;
  cs_arena_init(&worker->arena, WORKER_ARENA_CHUNK);
  worker->verify = cs_verify_ctx_new();
  worker->sans = calloc(rules->max_san_count + 1, sizeof(*worker->sans));
  if (worker->verify == NULL || worker->sans == NULL) {
    cs_posture_worker_free(worker);
    return NULL;
  }
  return worker;
}

void cs_posture_worker_free(cs_posture_worker *worker)
{
  if (worker == NULL) {
    return;
  }
  cs_verify_ctx_free(worker->verify);
  cs_arena_cleanup(&worker->arena);
  free(worker->sans);
  free(worker);
}

uint64_t cs_posture_worker_sig_checks(const cs_posture_worker *worker)
{
  return worker->sig_checks;
}

cs_posture_cert_view cs_posture_worker_cert(const cs_posture_worker *worker,
                                            size_t index)
{
  cs_posture_cert_view view = { false, NULL };

  if (index < worker->cert_count && worker->certs[index].parsed) {
    view.parsed = true;
    view.facts = &worker->certs[index].facts;
  }
  return view;
}

/* A malformed certificate is a fact about the device, not an error. */
static cs_status parse_certs(cs_posture_worker *worker,
                             const cs_device *device,
                             cs_posture_cert_counts *counts)
{
  size_t n = device->cert_count;

  worker->certs = cs_arena_alloc(&worker->arena,
                                 (n + 1) * sizeof(posture_cert));
  if (worker->certs == NULL) {
    return CS_ERR_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    posture_cert *cert = &worker->certs[i];
    cs_error err;
    cs_status status;

    cs_error_clear(&err);
    memset(cert, 0, sizeof(*cert));
    status = cs_verify_parse(device->certs[i].der, &worker->arena,
                             &cert->facts, &err);
    if (status == CS_ERR_NOMEM) {
      return status;
    }
    cert->parsed = status == CS_OK;
    if (!cert->parsed) {
      cert->parse_error = cs_arena_strndup(&worker->arena, err.message,
                                           strlen(err.message));
      counts->malformed++;
    }
    counts->read++;
  }
  worker->cert_count = n;
  return CS_OK;
}

static cs_status start_device(cs_posture_worker *worker,
                              const cs_device *device,
                              cs_posture_cert_counts *counts)
{
  size_t slots = worker->rules->signer_count;
  size_t n = device->cert_count;

  cs_arena_reset(&worker->arena);
  worker->device = device;
  worker->certs = NULL;
  worker->cert_count = 0;
  counts->read = 0;
  counts->malformed = 0;

  if (slots != 0 && n > SIZE_MAX / slots) {
    return CS_ERR_NOMEM;
  }
  worker->sig_cache = cs_arena_alloc(&worker->arena, n * slots + 1);
  if (worker->sig_cache == NULL) {
    return CS_ERR_NOMEM;
  }
  memset(worker->sig_cache, 0, n * slots + 1);

  return parse_certs(worker, device, counts);
}

static cs_sig_check cert_signature(cs_posture_worker *worker, size_t index,
                                   const posture_rule *rule)
{
  size_t cell = index * worker->rules->signer_count + rule->signer_slot;

  if (worker->sig_cache[cell] == 0) {
    cs_sig_check check = cs_verify_check(worker->verify,
                                         &worker->certs[index].facts,
                                         rule->signer);

    worker->sig_cache[cell] = (uint8_t)(1 + check);
    worker->sig_checks++;
    if (check == CS_SIG_CHECK_OK || check == CS_SIG_CHECK_BAD_SIGNATURE) {
      worker->verifications++;
    }
  }
  return (cs_sig_check)(worker->sig_cache[cell] - 1);
}

static bool rule_applies(const posture_rule *rule, const cs_device *device)
{
  if (device->os != CS_OS_WINDOWS && device->os != CS_OS_MAC &&
      device->os != CS_OS_LINUX) {
    return false;
  }
  if (rule->os_named && rule->os != device->os) {
    return false;
  }
  return !rule->has_match || (rule->match_os & POSTURE_OS_BIT(device->os));
}

static bool rule_selects(const posture_rule *rule,
                         const cs_cert_entry *entry)
{
  if (entry->store != CS_STORE_PATH) {
    return (rule->stores & entry->store) != 0;
  }
  for (size_t i = 0; i < rule->path_count; i++) {
    if (entry->path.ptr != NULL &&
        cs_str_eq_cstr(entry->path, rule->paths[i])) {
      return true;
    }
  }
  return false;
}

/* The stores a rule reads from, with `path` standing for its paths. */
static unsigned rule_locations(const posture_rule *rule)
{
  return rule->stores | (rule->path_count > 0 ? CS_STORE_PATH : 0u);
}

static bool hash_is_weak(const cs_posture_worker *worker, cs_hash hash)
{
  return hash == CS_HASH_MD5 ||
         (hash == CS_HASH_SHA1 && !worker->options.allow_sha1);
}

static bool cn_matches(const cs_cert_facts *facts,
                       const posture_expansion *cn)
{
  if (!cn->usable) {
    return false;
  }
  for (size_t i = 0; i < facts->cn_count; i++) {
    if (cs_str_eq_ascii_nocase(facts->cns[i], cn->text)) {
      return true;
    }
  }
  return false;
}

static bool san_matches(const cs_cert_facts *facts,
                        const posture_expansion *sans, size_t san_count)
{
  for (size_t i = 0; i < facts->san_count; i++) {
    if (facts->sans[i].type == CS_SAN_OTHER) {
      continue;
    }
    for (size_t j = 0; j < san_count; j++) {
      if (sans[j].usable &&
          cs_str_eq_ascii_nocase(facts->sans[i].value, sans[j].text)) {
        return true;
      }
    }
  }
  return false;
}

static cs_reason check_key(const posture_rule *rule,
                           const cs_cert_entry *entry,
                           const cs_cert_facts *facts)
{
  if (!rule->check_private_key) {
    return CS_REASON_NONE;
  }
  if (entry->has_key == CS_TRI_FALSE) {
    return CS_REASON_NO_PRIVATE_KEY;
  }
  if (entry->has_key != CS_TRI_TRUE) {
    return CS_REASON_PRIVATE_KEY_UNKNOWN;
  }
  if (entry->has_key_spki_sha256 &&
      memcmp(entry->key_spki_sha256, facts->spki_sha256, 32) != 0) {
    return CS_REASON_KEY_MISMATCH;
  }
  return CS_REASON_NONE;
}

/* Steps 2 and 3: the signature, judged before any field. */
static cs_reason check_signature(cs_posture_worker *worker, size_t index,
                                 const posture_rule *rule)
{
  switch (cert_signature(worker, index, rule)) {
  case CS_SIG_CHECK_OK:
    break;
  case CS_SIG_CHECK_WRONG_ISSUER:
    return CS_REASON_WRONG_ISSUER;
  case CS_SIG_CHECK_UNSUPPORTED:
    return CS_REASON_UNSUPPORTED_ALGORITHM;
  default:
    return CS_REASON_BAD_SIGNATURE;
  }
  if (hash_is_weak(worker, worker->certs[index].facts.sig_hash)) {
    return CS_REASON_WEAK_SIGNATURE;
  }
  return CS_REASON_NONE;
}

/* Steps 4 to 9, the fields, in the order the check reads them. */
static cs_reason check_fields(const cs_posture_worker *worker, size_t index,
                              const posture_rule *rule,
                              const rule_expansions *expanded)
{
  const cs_cert_facts *facts = &worker->certs[index].facts;
  int64_t at = worker->options.at;
  cs_reason reason;

  if (facts->not_before > at) {
    return CS_REASON_NOT_YET_VALID;
  }
  if (at > facts->not_after) {
    return CS_REASON_EXPIRED;
  }
  if (rule->has_cn && !cn_matches(facts, &expanded->cn)) {
    return CS_REASON_CN_MISMATCH;
  }
  if (rule->eku != 0 &&
      (!facts->has_eku || (facts->eku & rule->eku) != rule->eku)) {
    return CS_REASON_EKU_MISSING;
  }
  reason = check_key(rule, &worker->device->certs[index], facts);
  if (reason != CS_REASON_NONE) {
    return reason;
  }
  if (rule->san_count > 0 &&
      !san_matches(facts, expanded->sans, rule->san_count)) {
    return CS_REASON_SAN_MISMATCH;
  }
  return CS_REASON_NONE;
}

/* The first step a candidate fails, or CS_REASON_NONE when it passes. */
static cs_reason check_candidate(cs_posture_worker *worker, size_t index,
                                 const posture_rule *rule,
                                 const rule_expansions *expanded)
{
  cs_reason reason;

  if (!worker->certs[index].parsed) {
    return CS_REASON_MALFORMED_CERTIFICATE;
  }
  reason = check_signature(worker, index, rule);
  if (reason != CS_REASON_NONE) {
    return reason;
  }
  return check_fields(worker, index, rule, expanded);
}

static cs_status expand_templates(cs_posture_worker *worker,
                                  const posture_rule *rule,
                                  rule_expansions *expanded)
{
  const cs_device *device = worker->device;
  cs_status status = CS_OK;

  expanded->cn.usable = false;
  expanded->sans = worker->sans;
  if (rule->has_cn) {
    status = cs_posture__template_expand(&rule->cn, device, &worker->arena,
                                         &expanded->cn);
  }
  for (size_t i = 0; status == CS_OK && i < rule->san_count; i++) {
    status = cs_posture__template_expand(&rule->sans[i], device,
                                         &worker->arena, &expanded->sans[i]);
  }
  return status;
}

/* Drops a UTF-8 sequence that a cut left incomplete at the end. */
static void trim_partial_utf8(char *text, size_t len)
{
  size_t lead = len;
  size_t need;
  unsigned char c;

  while (lead > 0 && ((unsigned char)text[lead - 1] & 0xc0) == 0x80) {
    lead--;
  }
  if (lead == 0) {
    return;
  }
  c = (unsigned char)text[lead - 1];
  need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  if (len - (lead - 1) < need) {
    text[lead - 1] = '\0';
  }
}

/* Appends to a detail, cutting it at the buffer's end (never inside a
 * UTF-8 character, so that reports stay valid text). */
static void detail_add(char *detail, const char *fmt, ...)
    CS_PRINTF(2, 3);

static void detail_add(char *detail, const char *fmt, ...)
{
  size_t used = strlen(detail);
  size_t room = CS_POSTURE_DETAIL_MAX - used;
  va_list args;
  int wanted;

  if (used + 1 >= CS_POSTURE_DETAIL_MAX) {
    return;
  }
  va_start(args, fmt);
  wanted = vsnprintf(detail + used, room, fmt, args);
  va_end(args);
  if (wanted >= 0 && (size_t)wanted >= room) {
    trim_partial_utf8(detail, CS_POSTURE_DETAIL_MAX - 1);
  }
}

static void describe_locations(const posture_rule *rule, char *detail)
{
  const char *sep = "";

  if (rule->stores & CS_STORE_SYSTEM) {
    detail_add(detail, "system store");
    sep = ", ";
  }
  if (rule->stores & CS_STORE_USER) {
    detail_add(detail, "%suser store", sep);
    sep = ", ";
  }
  for (size_t i = 0; i < rule->path_count; i++) {
    detail_add(detail, "%s%s", sep, rule->paths[i]);
    sep = ", ";
  }
}

/* Quotes at most DETAIL_QUOTE bytes of `text`, ending on a UTF-8
 * character boundary. */
static int quote_len(cs_str text)
{
  size_t cut = DETAIL_QUOTE;

  if (text.len <= cut) {
    return (int)text.len;
  }
  while (cut > 0 && ((unsigned char)text.ptr[cut] & 0xc0) == 0x80) {
    cut--;
  }
  return (int)cut;
}

static void describe_cn(const cs_cert_facts *facts,
                        const rule_expansions *expanded, char *detail)
{
  cs_str want = expanded->cn.text;

  if (!expanded->cn.usable) {
    detail_add(detail, "cn template needs %s, which the device did not "
                       "report", expanded->cn.missing);
    return;
  }
  if (facts->cn_count == 0) {
    detail_add(detail, "certificate has no subject CN (wanted \"%.*s\")",
               quote_len(want), want.ptr);
    return;
  }
  detail_add(detail, "no subject CN equals \"%.*s\"", quote_len(want),
             want.ptr);
}

static void describe_sans(const posture_rule *rule,
                          const rule_expansions *expanded, char *detail)
{
  const char *sep = "no DNS, email, URI or IP SAN equals ";
  const char *missing = NULL;

  for (size_t i = 0; i < rule->san_count; i++) {
    if (expanded->sans[i].usable) {
      detail_add(detail, "%s\"%.*s\"", sep,
                 quote_len(expanded->sans[i].text), expanded->sans[i].text.ptr);
      sep = " or ";
    } else if (missing == NULL) {
      missing = expanded->sans[i].missing;
    }
  }
  if (missing != NULL) {
    detail_add(detail, "%ssan template needs %s, which the device did "
                       "not report", detail[0] == '\0' ? "" : "; ",
               missing);
  }
}

static void describe_eku(const posture_rule *rule,
                         const cs_cert_facts *facts, char *detail)
{
  unsigned lacking = facts->has_eku ? rule->eku & ~facts->eku : rule->eku;
  bool both = lacking == (CS_EKU_CLIENT_AUTH | CS_EKU_EMAIL_PROTECTION);

  detail_add(detail, "%s %s%s%s",
             facts->has_eku ? "EKU lacks" : "no EKU extension; needs",
             (lacking & CS_EKU_CLIENT_AUTH) ? "clientAuth" : "",
             both ? ", " : "",
             (lacking & CS_EKU_EMAIL_PROTECTION) ? "emailProtection" : "");
  if (facts->has_eku && (facts->eku & CS_EKU_ANY)) {
    detail_add(detail, " (anyExtendedKeyUsage does not count)");
  }
}

static void describe_signature(const cs_posture_worker *worker,
                               cs_reason reason, const posture_rule *rule,
                               const cs_cert_facts *facts, char *detail)
{
  const char *alg = facts->sig_name != NULL ? facts->sig_name : "unknown";
  const char *signer = cs_verify_signer_id(rule->signer);

  if (reason == CS_REASON_WRONG_ISSUER) {
    detail_add(detail, "issuer is not the subject of signer %s", signer);
  } else if (reason == CS_REASON_UNSUPPORTED_ALGORITHM) {
    detail_add(detail, "signature algorithm %s is not supported", alg);
  } else if (reason == CS_REASON_BAD_SIGNATURE) {
    detail_add(detail, "signature does not verify with signer %s", signer);
  } else {
    detail_add(detail, "weak signature hash (%s)%s", alg,
               facts->sig_hash == CS_HASH_SHA1 &&
                       !worker->options.allow_sha1
                   ? "; SHA-1 is refused unless allowed"
                   : "");
  }
}

static void describe_failure(const cs_posture_worker *worker,
                             const posture_rule *rule, size_t index,
                             cs_reason reason, const rule_expansions *expanded,
                             char *detail)
{
  const posture_cert *cert = &worker->certs[index];
  const cs_cert_facts *facts = &cert->facts;
  char when[CS_TIME_TEXT_MAX];

  switch (reason) {
  case CS_REASON_MALFORMED_CERTIFICATE:
    detail_add(detail, "%s", cert->parse_error != NULL ? cert->parse_error
                                                       : "does not parse");
    break;
  case CS_REASON_NOT_YET_VALID:
    detail_add(detail, "not valid before %s",
               cs_time_format(facts->not_before, when));
    break;
  case CS_REASON_EXPIRED:
    detail_add(detail, "expired %s", cs_time_format(facts->not_after, when));
    break;
  case CS_REASON_CN_MISMATCH:
    describe_cn(facts, expanded, detail);
    break;
  case CS_REASON_EKU_MISSING:
    describe_eku(rule, facts, detail);
    break;
  case CS_REASON_NO_PRIVATE_KEY:
    detail_add(detail, "the device has no private key for it");
    break;
  case CS_REASON_PRIVATE_KEY_UNKNOWN:
    detail_add(detail, "the device did not report whether it has the "
                       "private key");
    break;
  case CS_REASON_KEY_MISMATCH:
    detail_add(detail, "key_spki_sha256 differs from the certificate's "
                       "key");
    break;
  case CS_REASON_SAN_MISMATCH:
    describe_sans(rule, expanded, detail);
    break;
  default:
    describe_signature(worker, reason, rule, facts, detail);
    break;
  }
}

static void set_result(cs_posture_result *result, cs_verdict verdict,
                       cs_reason reason, int cert_index)
{
  result->verdict = verdict;
  result->reason = reason;
  result->cert_index = cert_index;
  result->detail[0] = '\0';
}

/* No candidate passed: not collected, no candidate, or the furthest. */
static void conclude_failure(const cs_posture_worker *worker,
                             const posture_rule *rule, size_t best,
                             cs_reason best_reason,
                             const rule_expansions *expanded,
                             cs_posture_result *result)
{
  const cs_device *device = worker->device;

  if (device->collected_stores_listed &&
      (device->collected_stores & rule_locations(rule)) == 0) {
    set_result(result, CS_VERDICT_UNKNOWN, CS_REASON_NOT_COLLECTED, -1);
    detail_add(result->detail, "the device did not collect: ");
    describe_locations(rule, result->detail);
    return;
  }
  if (best == SIZE_MAX) {
    set_result(result, CS_VERDICT_FAIL, CS_REASON_NO_CERTIFICATE, -1);
    detail_add(result->detail, "no certificate in: ");
    describe_locations(rule, result->detail);
    return;
  }
  set_result(result, CS_VERDICT_FAIL, best_reason, (int)best);
  describe_failure(worker, rule, best, best_reason, expanded, result->detail);
}

static cs_status evaluate_rule(cs_posture_worker *worker,
                               const posture_rule *rule,
                               cs_posture_result *result)
{
  const cs_device *device = worker->device;
  rule_expansions expanded;
  size_t best = SIZE_MAX;
  cs_reason best_reason = CS_REASON_NONE;
  cs_status status;

  set_result(result, CS_VERDICT_NOT_APPLICABLE, CS_REASON_NONE, -1);
  if (!rule_applies(rule, device)) {
    return CS_OK;
  }
  status = expand_templates(worker, rule, &expanded);
  if (status != CS_OK) {
    return status;
  }

  for (size_t i = 0; i < worker->cert_count; i++) {
    cs_reason reason;

    if (!rule_selects(rule, &device->certs[i])) {
      continue;
    }
    reason = check_candidate(worker, i, rule, &expanded);
    if (reason == CS_REASON_NONE) {
      set_result(result, CS_VERDICT_PASS, CS_REASON_NONE, (int)i);
      return CS_OK;
    }
    /* Strictly further wins, so a tie keeps the earlier certificate. */
    if (best == SIZE_MAX ||
        cs_reason_step(reason) > cs_reason_step(best_reason)) {
      best = i;
      best_reason = reason;
    }
  }
  conclude_failure(worker, rule, best, best_reason, &expanded, result);
  return CS_OK;
}

cs_status cs_posture_evaluate(cs_posture_worker *worker,
                              const cs_device *device,
                              cs_posture_result *results,
                              cs_posture_cert_counts *counts)
{
  const cs_posture_rules *rules = worker->rules;
  cs_status status;

  uint64_t verified_before = worker->verifications;

  status = start_device(worker, device, counts);
  for (size_t i = 0; status == CS_OK && i < rules->count; i++) {
    status = evaluate_rule(worker, &rules->rules[i], &results[i]);
  }
  counts->signatures = (size_t)(worker->verifications - verified_before);
  return status;
}
