/*
 * cs_gen_truth.c - the verdict of one device for one rule, computed
 * from the specifications the certificates were made from (never from
 * their bytes): the semantics of the posture check written a second
 * time, step by step, in the order the brief gives.
 */
#include <string.h>
#include <strings.h>

#include "cs_gen.h"

const char *cs_gen_reason_code(cs_gen_reason reason)
{
  static const char *codes[] = {
#define CS_GEN_REASON_CODE(name, code, step) code,
    CS_GEN_REASON_LIST(CS_GEN_REASON_CODE)
#undef CS_GEN_REASON_CODE
  };

  return reason < CS_GEN_R_COUNT ? codes[reason] : "";
}

static int reason_step(cs_gen_reason reason)
{
  static const int steps[] = {
#define CS_GEN_REASON_STEP(name, code, step) step,
    CS_GEN_REASON_LIST(CS_GEN_REASON_STEP)
#undef CS_GEN_REASON_STEP
  };

  return steps[reason];
}

const char *cs_gen_verdict_name(cs_gen_verdict verdict)
{
  static const char *names[] = { "pass", "fail", "unknown",
                                 "not_applicable" };

  return names[verdict];
}

bool cs_gen_template_expand(const char *tmpl, const cs_gen_device *device,
                            char *out, size_t out_size)
{
  size_t n = 0;
  const char *p = tmpl;

  while (*p != '\0') {
    const char *value = NULL;
    size_t skip = 0;
    size_t len;

    if (strncmp(p, "${serial_number}", 16) == 0) {
      value = device->serial_present ? device->serial : "";
      skip = 16;
    } else if (strncmp(p, "${hostname}", 11) == 0) {
      value = device->hostname;
      skip = 11;
    }
    if (value == NULL) {
      if (n + 1 >= out_size) {
        return false;
      }
      out[n++] = *p++;
      continue;
    }

    /* An absent or empty field makes the template match nothing. */
    len = strlen(value);
    if (len == 0 || n + len >= out_size) {
      return false;
    }
    memcpy(out + n, value, len);
    n += len;
    p += skip;
  }
  out[n] = '\0';
  return true;
}

static bool selects(const cs_gen_rule *rule, const cs_gen_entry *entry)
{
  size_t i;

  if (entry->store == CS_GEN_STORE_PATH) {
    for (i = 0; i < rule->path_count; i++) {
      if (strcmp(rule->paths[i], entry->path) == 0) {
        return true;
      }
    }
    return false;
  }
  return (cs_gen_rule_locations(rule) & entry->store) != 0;
}

/* Step 3: the signature, as the rule's signer sees it. */
static cs_gen_reason signature_step(const cs_gen_spec *spec)
{
  switch (spec->sig) {
  case CS_GEN_SIG_UNSUPPORTED:
    return CS_GEN_R_UNSUPPORTED_ALGORITHM;
  case CS_GEN_SIG_FLIPPED:
  case CS_GEN_SIG_IMPOSTOR:
    return CS_GEN_R_BAD_SIGNATURE;
  case CS_GEN_SIG_SHA1:
    return CS_GEN_R_WEAK_SIGNATURE;
  default:
    return CS_GEN_R_NONE;
  }
}

static bool cn_step(const cs_gen_rule *rule, const cs_gen_spec *spec,
                    const cs_gen_device *device)
{
  char want[2 * CS_GEN_TEXT_MAX];

  if (rule->cn == NULL) {
    return true;
  }
  if (!cs_gen_template_expand(rule->cn, device, want, sizeof(want))) {
    return false;
  }
  return spec->has_cn && strcasecmp(spec->cn, want) == 0;
}

static bool eku_step(const cs_gen_rule *rule, const cs_gen_spec *spec)
{
  if (rule->eku == 0) {
    return true;
  }
  return spec->has_eku && (spec->eku & rule->eku) == rule->eku;
}

static cs_gen_reason key_step(const cs_gen_rule *rule,
                              const cs_gen_entry *entry,
                              const cs_gen_pki *pki)
{
  if (!rule->check_private_key) {
    return CS_GEN_R_NONE;
  }
  if (entry->has_key == CS_GEN_TRI_FALSE) {
    return CS_GEN_R_NO_PRIVATE_KEY;
  }
  if (entry->has_key == CS_GEN_TRI_ABSENT) {
    return CS_GEN_R_PRIVATE_KEY_UNKNOWN;
  }
  if (entry->has_spki &&
      memcmp(entry->spki_sha256, pki->pool_spki_sha256[entry->spec.key],
             32) != 0) {
    return CS_GEN_R_KEY_MISMATCH;
  }
  return CS_GEN_R_NONE;
}

static bool san_step(const cs_gen_rule *rule, const cs_gen_spec *spec,
                     const cs_gen_device *device)
{
  char want[2 * CS_GEN_TEXT_MAX];
  size_t t, s;

  if (rule->san_count == 0) {
    return true;
  }
  for (t = 0; t < rule->san_count; t++) {
    if (!cs_gen_template_expand(rule->sans[t], device, want,
                                sizeof(want))) {
      continue;
    }
    for (s = 0; s < spec->san_count; s++) {
      if (spec->sans[s].type != CS_GEN_SAN_UPN &&
          strcasecmp(spec->sans[s].value, want) == 0) {
        return true;
      }
    }
  }
  return false;
}

/* The reason a candidate fails, or CS_GEN_R_NONE when it passes. */
static cs_gen_reason candidate_reason(const cs_gen_rule *rule,
                                      const cs_gen_entry *entry,
                                      const cs_gen_device *device,
                                      const cs_gen_pki *pki, int64_t at)
{
  const cs_gen_spec *spec = &entry->spec;
  cs_gen_reason reason;

  if (spec->malformed != CS_GEN_MAL_NONE) {
    return CS_GEN_R_MALFORMED_CERTIFICATE;
  }
  if (spec->issuer != rule->signer) {
    return CS_GEN_R_WRONG_ISSUER;
  }
  reason = signature_step(spec);
  if (reason != CS_GEN_R_NONE) {
    return reason;
  }
  if (at < spec->not_before) {
    return CS_GEN_R_NOT_YET_VALID;
  }
  if (at > spec->not_after) {
    return CS_GEN_R_EXPIRED;
  }
  if (!cn_step(rule, spec, device)) {
    return CS_GEN_R_CN_MISMATCH;
  }
  if (!eku_step(rule, spec)) {
    return CS_GEN_R_EKU_MISSING;
  }
  reason = key_step(rule, entry, pki);
  if (reason != CS_GEN_R_NONE) {
    return reason;
  }
  return san_step(rule, spec, device) ? CS_GEN_R_NONE
                                      : CS_GEN_R_SAN_MISMATCH;
}

static bool applies(const cs_gen_rule *rule, const cs_gen_device *device)
{
  if (!rule->evaluated || device->os == CS_GEN_OS_OTHER) {
    return false;
  }
  return rule->os < 0 || rule->os == device->os;
}

cs_gen_verdict_result cs_gen_truth_evaluate(const cs_gen_rule *rule,
                                            const cs_gen_device *device,
                                            const cs_gen_pki *pki,
                                            int64_t at)
{
  cs_gen_verdict_result result = { CS_GEN_V_NOT_APPLICABLE,
                                   CS_GEN_R_NONE };
  cs_gen_reason best = CS_GEN_R_NONE;
  bool any = false;
  size_t i;

  if (!applies(rule, device)) {
    return result;
  }

  for (i = 0; i < device->entry_count; i++) {
    const cs_gen_entry *entry = &device->entries[i];
    cs_gen_reason reason;

    if (!selects(rule, entry)) {
      continue;
    }
    reason = candidate_reason(rule, entry, device, pki, at);
    if (reason == CS_GEN_R_NONE) {
      result.verdict = CS_GEN_V_PASS;
      return result;
    }

    /* Strictly further only: a tie keeps the earlier candidate. */
    if (!any || reason_step(reason) > reason_step(best)) {
      best = reason;
    }
    any = true;
  }

  if (device->stores_listed &&
      (device->stores & cs_gen_rule_locations(rule)) == 0) {
    result.verdict = CS_GEN_V_UNKNOWN;
    result.reason = CS_GEN_R_NOT_COLLECTED;
    return result;
  }
  result.verdict = CS_GEN_V_FAIL;
  result.reason = any ? best : CS_GEN_R_NO_CERTIFICATE;
  return result;
}
