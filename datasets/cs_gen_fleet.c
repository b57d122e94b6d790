/*
 * cs_gen_fleet.c - one device: its identity, the certificates placed in
 * its stores with the defects drawn for it, its certinv record, and its
 * verdicts.
 *
 * Each rule that applies gets a certificate made to pass it, unless a
 * defect was drawn; a defect changes exactly one property of that
 * certificate, the one a single step of the check looks at. The
 * verdicts are then computed against every rule, over every
 * certificate of the device, so a certificate made for one rule is
 * judged as a candidate of all the others too.
 */
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "cs_gen.h"

#define DAY 86400

typedef struct device_plan {
  cs_gen_rng rng;
  const cs_gen_ctx *ctx;
  cs_gen_device *device;
  char true_serial[32]; /* on the certificates even when not reported */
  unsigned os_stores;
  unsigned collected;
  unsigned cert_no;
} device_plan;

static bool draw(device_plan *plan, cs_gen_defect defect)
{
  double rate = plan->ctx->options->rates[defect];

  return rate > 0 && cs_gen_rng_unit(&plan->rng) < rate;
}

static void random_text(cs_gen_rng *rng, const char *alphabet, size_t len,
                        char *out)
{
  size_t n = strlen(alphabet);
  size_t i;

  for (i = 0; i < len; i++) {
    out[i] = alphabet[cs_gen_rng_below(rng, n)];
  }
  out[len] = '\0';
}

static const char upper_alnum[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
static const char lower_alnum[] = "abcdefghijkmnpqrstuvwxyz0123456789";

static int pick_os(device_plan *plan)
{
  double u = cs_gen_rng_unit(&plan->rng);
  double sum = 0;
  int os;

  for (os = 0; os < CS_GEN_OS_OTHER; os++) {
    sum += plan->ctx->options->os_mix[os];
    if (u < sum) {
      return os;
    }
  }
  return CS_GEN_OS_OTHER;
}

static void make_identity(device_plan *plan)
{
  static const char *others[] = { "ios", "android", "chromeos" };
  static const char *names[] = { "windows", "mac", "linux" };
  static const char *prefixes[] = { "WIN-", "mbp-", "lnx-", "phone-" };
  static const unsigned stores[] = {
    CS_GEN_STORE_SYSTEM | CS_GEN_STORE_USER, CS_GEN_STORE_SYSTEM,
    CS_GEN_STORE_SYSTEM | CS_GEN_STORE_PATH, CS_GEN_STORE_SYSTEM
  };
  cs_gen_device *d = plan->device;
  char part[16];

  d->os = pick_os(plan);
  d->os_name = d->os == CS_GEN_OS_OTHER
                   ? others[cs_gen_rng_below(&plan->rng, 3)]
                   : names[d->os];
  cs_gen_rng_uuid(&plan->rng, d->device_id);
  random_text(&plan->rng, d->os == CS_GEN_OS_WINDOWS ? upper_alnum
                                                     : lower_alnum,
              8, part);
  snprintf(d->hostname, sizeof(d->hostname), "%s%s", prefixes[d->os],
           part);
  random_text(&plan->rng, upper_alnum, 10, part);
  snprintf(plan->true_serial, sizeof(plan->true_serial), "%s%s",
           d->os == CS_GEN_OS_MAC ? "C02" : "", part);

  d->serial_present = true;
  snprintf(d->serial, sizeof(d->serial), "%s", plan->true_serial);
  if (draw(plan, CS_GEN_D_SERIAL_MISSING)) {
    d->serial_present = false;
    d->serial[0] = '\0';
  } else if (draw(plan, CS_GEN_D_SERIAL_EMPTY)) {
    d->serial[0] = '\0';
  }

  plan->os_stores = stores[d->os];
}

/* ---- specifications ---- */

static void set_serial(device_plan *plan, cs_gen_spec *spec)
{
  uint64_t index = plan->device->index;
  int i;

  spec->serial[0] = 0x2c;
  for (i = 0; i < 8; i++) {
    spec->serial[1 + i] = (uint8_t)(index >> (8 * (7 - i)));
  }
  spec->serial[9] = (uint8_t)plan->cert_no;
  cs_gen_rng_bytes(&plan->rng, spec->serial + 10, 6);
}

static void healthy_times(device_plan *plan, cs_gen_spec *spec)
{
  int64_t at = plan->ctx->options->at;

  spec->not_before = at - cs_gen_rng_range(&plan->rng, DAY, 700 * DAY);
  spec->not_after = at + cs_gen_rng_range(&plan->rng, DAY, 900 * DAY);
}

/* A template expanded with the values the certificate was made for. */
static void expand_true(device_plan *plan, const char *tmpl, char *out,
                        size_t out_size)
{
  cs_gen_device truth = *plan->device;

  truth.entry_count = 0;
  truth.serial_present = true;
  snprintf(truth.serial, sizeof(truth.serial), "%s", plan->true_serial);
  if (!cs_gen_template_expand(tmpl, &truth, out, out_size)) {
    out[0] = '\0';
  }
}

static void add_san(cs_gen_spec *spec, cs_gen_san_type type,
                    const char *value)
{
  if (spec->san_count < CS_GEN_MAX_SANS) {
    spec->sans[spec->san_count].type = type;
    snprintf(spec->sans[spec->san_count].value, CS_GEN_TEXT_MAX, "%s",
             value);
    spec->san_count++;
  }
}

static void rule_sans(device_plan *plan, const cs_gen_rule *rule,
                      cs_gen_spec *spec)
{
  char value[CS_GEN_TEXT_MAX];
  size_t t = cs_gen_rng_below(&plan->rng, rule->san_count);

  expand_true(plan, rule->sans[t], value, sizeof(value));
  add_san(spec, strchr(value, '@') != NULL ? CS_GEN_SAN_EMAIL
                                           : CS_GEN_SAN_DNS,
          value);
}

static void healthy_spec(device_plan *plan, const cs_gen_rule *rule,
                         cs_gen_spec *spec)
{
  memset(spec, 0, sizeof(*spec));
  spec->issuer = rule->signer;
  spec->key = (int)cs_gen_rng_below(&plan->rng, CS_GEN_KEY_POOL);
  set_serial(plan, spec);
  healthy_times(plan, spec);
  snprintf(spec->org, sizeof(spec->org), "Example Corp");

  spec->has_cn = true;
  if (rule->cn != NULL) {
    expand_true(plan, rule->cn, spec->cn, sizeof(spec->cn));
  } else {
    snprintf(spec->cn, sizeof(spec->cn), "%s", plan->device->hostname);
  }

  spec->eku = rule->eku;
  spec->has_eku = rule->eku != 0 || cs_gen_rng_below(&plan->rng, 2) == 0;
  if (spec->has_eku) {
    spec->eku |= CS_GEN_EKU_CLIENT;
  }

  if (rule->san_count > 0) {
    rule_sans(plan, rule, spec);
  } else if (cs_gen_rng_below(&plan->rng, 2) == 0) {
    char value[CS_GEN_TEXT_MAX];

    snprintf(value, sizeof(value), "%s.corp.example",
             plan->device->hostname);
    add_san(spec, CS_GEN_SAN_DNS, value);
  }
  if (cs_gen_rng_below(&plan->rng, 4) == 0) {
    add_san(spec, CS_GEN_SAN_UPN, "device@corp.example");
  }
}

static void key_fields(device_plan *plan, const cs_gen_rule *rule,
                       cs_gen_entry *entry)
{
  uint64_t u = cs_gen_rng_below(&plan->rng, 10);

  entry->has_key = CS_GEN_TRI_TRUE;
  if (!rule->check_private_key) {
    entry->has_key = u < 6 ? CS_GEN_TRI_TRUE
                           : (u < 8 ? CS_GEN_TRI_FALSE : CS_GEN_TRI_ABSENT);
  }
  entry->has_spki = entry->has_key == CS_GEN_TRI_TRUE &&
                    cs_gen_rng_below(&plan->rng, 2) == 0;
  memcpy(entry->spki_sha256,
         plan->ctx->pki->pool_spki_sha256[entry->spec.key], 32);
}

/* ---- defects: each changes the one property its step looks at ---- */

static bool defect_wrong_issuer(device_plan *plan, const cs_gen_rule *rule,
                                cs_gen_spec *spec)
{
  size_t signers = plan->ctx->pki->signer_count;
  uint64_t choice = cs_gen_rng_below(&plan->rng, 3);

  if (choice == 0) {
    spec->issuer = CS_GEN_ISSUER_ROOT;
  } else if (choice == 1 && signers > 1) {
    spec->issuer = (int)((size_t)(rule->signer + 1 +
                                  cs_gen_rng_below(&plan->rng,
                                                   signers - 1)) %
                         signers);
  } else {
    spec->issuer = cs_gen_rng_below(&plan->rng, 2) == 0
                       ? CS_GEN_ISSUER_OTHER0
                       : CS_GEN_ISSUER_OTHER1;
  }
  return true;
}

static bool defect_eku(device_plan *plan, const cs_gen_rule *rule,
                       cs_gen_spec *spec)
{
  uint64_t choice = cs_gen_rng_below(&plan->rng, 4);

  if (rule->eku == 0) {
    return false;
  }
  spec->has_eku = choice != 0;
  if (choice == 1) {
    spec->eku = CS_GEN_EKU_SERVER;
  } else if (choice == 2) {
    spec->eku = CS_GEN_EKU_ANY;
  } else if (choice == 3) {
    /* One purpose short of what the rule lists. */
    spec->eku = (rule->eku & CS_GEN_EKU_EMAIL) != 0 ? CS_GEN_EKU_CLIENT
                                                     : CS_GEN_EKU_EMAIL;
  }
  return true;
}

static bool defect_san(device_plan *plan, const cs_gen_rule *rule,
                       cs_gen_spec *spec)
{
  char value[CS_GEN_TEXT_MAX];
  uint64_t choice = cs_gen_rng_below(&plan->rng, 4);

  if (rule->san_count == 0) {
    return false;
  }
  expand_true(plan, rule->sans[0], value, sizeof(value));
  spec->san_count = 0;
  if (choice == 0) {
    snprintf(value, sizeof(value), "%s.other.example",
             plan->device->hostname);
    add_san(spec, CS_GEN_SAN_DNS, value);
  } else if (choice == 1) {
    /* The right text, but in an otherName the check does not read. */
    add_san(spec, CS_GEN_SAN_UPN, value);
  } else if (choice == 2) {
    add_san(spec, CS_GEN_SAN_IP, "192.0.2.10");
    add_san(spec, CS_GEN_SAN_URI, "https://corp.example/device");
  }
  return true;
}

static bool defect_cn(device_plan *plan, const cs_gen_rule *rule,
                      cs_gen_spec *spec)
{
  if (rule->cn == NULL) {
    return false;
  }
  if (cs_gen_rng_below(&plan->rng, 3) == 0) {
    spec->has_cn = false;
  } else {
    strncat(spec->cn, "-old", sizeof(spec->cn) - strlen(spec->cn) - 1);
  }
  return true;
}

static bool defect_key(device_plan *plan, const cs_gen_rule *rule,
                       cs_gen_defect defect, cs_gen_entry *entry)
{
  int other = (entry->spec.key + 1 +
               (int)cs_gen_rng_below(&plan->rng, CS_GEN_KEY_POOL - 1)) %
              CS_GEN_KEY_POOL;

  if (!rule->check_private_key) {
    return false;
  }
  if (defect == CS_GEN_D_NO_PRIVATE_KEY) {
    entry->has_key = CS_GEN_TRI_FALSE;
  } else if (defect == CS_GEN_D_PRIVATE_KEY_UNKNOWN) {
    entry->has_key = CS_GEN_TRI_ABSENT;
  } else {
    entry->has_key = CS_GEN_TRI_TRUE;
    entry->has_spki = true;
    memcpy(entry->spki_sha256, plan->ctx->pki->pool_spki_sha256[other],
           32);
  }
  return true;
}

static bool defect_times(device_plan *plan, cs_gen_defect defect,
                         cs_gen_spec *spec)
{
  int64_t at = plan->ctx->options->at;

  if (defect == CS_GEN_D_NOT_YET_VALID) {
    spec->not_before = at + cs_gen_rng_range(&plan->rng, 1, 200 * DAY);
    spec->not_after = spec->not_before + 365 * DAY;
  } else {
    spec->not_after = at - cs_gen_rng_range(&plan->rng, 1, 400 * DAY);
    spec->not_before = spec->not_after - 365 * DAY;
  }
  return true;
}

static bool defect_signature(device_plan *plan, const cs_gen_rule *rule,
                             cs_gen_defect defect, cs_gen_spec *spec)
{
  cs_gen_alg alg = plan->ctx->pki->signers[rule->signer].alg;

  if (defect == CS_GEN_D_UNSUPPORTED_ALGORITHM) {
    spec->sig = CS_GEN_SIG_UNSUPPORTED;
  } else if (defect == CS_GEN_D_BAD_SIGNATURE) {
    spec->sig = cs_gen_rng_below(&plan->rng, 2) == 0 ? CS_GEN_SIG_FLIPPED
                                                     : CS_GEN_SIG_IMPOSTOR;
  } else if (alg != CS_GEN_ALG_ED25519) {
    spec->sig = CS_GEN_SIG_SHA1;
  } else {
    return false; /* Ed25519 has no SHA-1 form */
  }
  return true;
}

/* Applies `defect` to a healthy entry; false when the rule cannot show
   it (the entry then stays healthy). */
static bool apply_defect(device_plan *plan, const cs_gen_rule *rule,
                         cs_gen_defect defect, cs_gen_entry *entry)
{
  cs_gen_spec *spec = &entry->spec;

  switch (defect) {
  case CS_GEN_D_MALFORMED_CERTIFICATE:
    spec->malformed =
        (cs_gen_malformed)(1 + cs_gen_rng_below(&plan->rng, 3));
    return true;
  case CS_GEN_D_WRONG_ISSUER:
    return defect_wrong_issuer(plan, rule, spec);
  case CS_GEN_D_UNSUPPORTED_ALGORITHM:
  case CS_GEN_D_BAD_SIGNATURE:
  case CS_GEN_D_WEAK_SIGNATURE:
    return defect_signature(plan, rule, defect, spec);
  case CS_GEN_D_NOT_YET_VALID:
  case CS_GEN_D_EXPIRED:
    return defect_times(plan, defect, spec);
  case CS_GEN_D_CN_MISMATCH:
    return defect_cn(plan, rule, spec);
  case CS_GEN_D_EKU_MISSING:
    return defect_eku(plan, rule, spec);
  case CS_GEN_D_NO_PRIVATE_KEY:
  case CS_GEN_D_PRIVATE_KEY_UNKNOWN:
  case CS_GEN_D_KEY_MISMATCH:
    return defect_key(plan, rule, defect, entry);
  case CS_GEN_D_SAN_MISMATCH:
    return defect_san(plan, rule, spec);
  default:
    return false;
  }
}

/* A passing certificate on one of the edges the check must get right. */
static void apply_edge(device_plan *plan, const cs_gen_rule *rule,
                       cs_gen_spec *spec)
{
  int64_t at = plan->ctx->options->at;
  size_t i;

  switch (cs_gen_rng_below(&plan->rng, 6)) {
  case 0:
    spec->issuer_folded = true;
    break;
  case 1:
    for (i = 0; spec->cn[i] != '\0'; i++) {
      if (spec->cn[i] >= 'a' && spec->cn[i] <= 'z') {
        spec->cn[i] = (char)(spec->cn[i] - 'a' + 'A');
      } else if (spec->cn[i] >= 'A' && spec->cn[i] <= 'Z') {
        spec->cn[i] = (char)(spec->cn[i] - 'A' + 'a');
      }
    }
    break;
  case 2:
    spec->not_after = at;
    break;
  case 3:
    spec->not_before = at;
    break;
  case 4:
    spec->not_after = cs_time_from_civil(9999, 12, 31, 23, 59, 59);
    break;
  default:
    if (rule->eku != 0) {
      spec->eku |= CS_GEN_EKU_ANY;
    }
    break;
  }
}

/* ---- placing certificates ---- */

static cs_gen_entry *new_entry(device_plan *plan)
{
  cs_gen_device *d = plan->device;
  cs_gen_entry *entry;

  if (d->entry_count == CS_GEN_MAX_ENTRIES) {
    return NULL;
  }
  entry = &d->entries[d->entry_count++];
  memset(entry, 0, sizeof(*entry));
  plan->cert_no++;
  return entry;
}

/* A location of `rule` that was collected; false when none is. */
static bool pick_location(device_plan *plan, const cs_gen_rule *rule,
                          cs_gen_entry *entry)
{
  unsigned usable = cs_gen_rule_locations(rule) & plan->os_stores &
                    plan->collected;
  unsigned choices[3];
  size_t n = 0;
  unsigned bit;

  for (bit = 1; bit <= CS_GEN_STORE_PATH; bit <<= 1) {
    if ((usable & bit) != 0) {
      choices[n++] = bit;
    }
  }
  if (n == 0) {
    return false;
  }
  entry->store = choices[cs_gen_rng_below(&plan->rng, n)];
  if (entry->store == CS_GEN_STORE_PATH) {
    entry->path = rule->paths[cs_gen_rng_below(&plan->rng,
                                               rule->path_count)];
    if (cs_gen_rng_below(&plan->rng, 2) == 0) {
      entry->key_path = strcmp(entry->path, "/etc/corp/client.pem") == 0
                            ? "/etc/corp/client_key.pem"
                            : "/opt/corp/device_key.pem";
    }
  }
  if (cs_gen_rng_below(&plan->rng, 3) == 0) {
    entry->label = "Corp Device Certificate";
  }
  return true;
}

static cs_gen_defect random_cert_defect(device_plan *plan)
{
  return (cs_gen_defect)cs_gen_rng_below(&plan->rng,
                                         CS_GEN_D_SAN_MISMATCH + 1);
}

static void place_rule_cert(device_plan *plan, const cs_gen_rule *rule,
                            cs_gen_defect defect)
{
  cs_gen_entry *entry;
  cs_gen_entry probe;

  memset(&probe, 0, sizeof(probe));
  if (!pick_location(plan, rule, &probe) ||
      (entry = new_entry(plan)) == NULL) {
    return;
  }
  *entry = probe;
  healthy_spec(plan, rule, &entry->spec);
  key_fields(plan, rule, entry);
  if (!apply_defect(plan, rule, defect, entry) &&
      draw(plan, CS_GEN_D_EDGE_CASE)) {
    apply_edge(plan, rule, &entry->spec);
  }
}

static void unrelated_leaf(device_plan *plan, cs_gen_entry *entry)
{
  cs_gen_spec *spec = &entry->spec;
  char value[CS_GEN_TEXT_MAX];
  char name[12];

  random_text(&plan->rng, lower_alnum, 6, name);
  spec->issuer = cs_gen_rng_below(&plan->rng, 2) == 0
                     ? CS_GEN_ISSUER_OTHER0
                     : CS_GEN_ISSUER_OTHER1;
  spec->has_cn = true;
  snprintf(spec->cn, sizeof(spec->cn), "svc-%s.other.example", name);
  snprintf(spec->org, sizeof(spec->org), "Other Corp");
  spec->has_eku = true;
  spec->eku = cs_gen_rng_below(&plan->rng, 2) == 0 ? CS_GEN_EKU_SERVER
                                                   : CS_GEN_EKU_CLIENT;
  snprintf(value, sizeof(value), "svc-%s.other.example", name);
  add_san(spec, CS_GEN_SAN_DNS, value);
}

static void unrelated_ca(device_plan *plan, cs_gen_entry *entry)
{
  cs_gen_spec *spec = &entry->spec;
  char name[8];

  random_text(&plan->rng, upper_alnum, 4, name);
  spec->issuer = CS_GEN_ISSUER_SELF;
  spec->is_ca = true;
  spec->has_cn = true;
  snprintf(spec->cn, sizeof(spec->cn), "Legacy Root CA %s", name);
  snprintf(spec->org, sizeof(spec->org), "Vendor %s", name);
}

/* Stores of the device that hold certificates and were collected. */
static bool pick_any_store(device_plan *plan, cs_gen_entry *entry)
{
  static const char *paths[] = { "/home/user/.certs/vpn.pem",
                                 "/usr/local/share/ca/extra.pem" };
  unsigned usable = plan->os_stores & plan->collected;
  unsigned bit;

  if (usable == 0) {
    return false;
  }
  do {
    bit = 1u << cs_gen_rng_below(&plan->rng, 3);
  } while ((usable & bit) == 0);
  entry->store = bit;
  if (bit == CS_GEN_STORE_PATH) {
    entry->path = paths[cs_gen_rng_below(&plan->rng, 2)];
  }
  return true;
}

static void place_unrelated(device_plan *plan, bool ca)
{
  cs_gen_entry probe;
  cs_gen_entry *entry;

  memset(&probe, 0, sizeof(probe));
  if (!pick_any_store(plan, &probe) || (entry = new_entry(plan)) == NULL) {
    return;
  }
  *entry = probe;
  entry->spec.key = (int)cs_gen_rng_below(&plan->rng, CS_GEN_KEY_POOL);
  set_serial(plan, &entry->spec);
  healthy_times(plan, &entry->spec);
  if (ca) {
    unrelated_ca(plan, entry);
  } else {
    unrelated_leaf(plan, entry);
  }
  entry->has_key = (cs_gen_tri)cs_gen_rng_below(&plan->rng, 3);
  if (cs_gen_rng_below(&plan->rng, 10) == 0) {
    entry->spec.not_after = plan->ctx->options->at - 30 * DAY;
    entry->spec.not_before = entry->spec.not_after - 365 * DAY;
  }
}

static bool rule_applies(const cs_gen_rule *rule, int os)
{
  return rule->evaluated && os != CS_GEN_OS_OTHER &&
         (rule->os < 0 || rule->os == os);
}

static cs_gen_defect draw_rule_defect(device_plan *plan)
{
  double u = cs_gen_rng_unit(&plan->rng);
  double sum = 0;
  int d;

  for (d = 0; d < CS_GEN_D_PER_RULE_COUNT; d++) {
    sum += plan->ctx->options->rates[d];
    if (u < sum) {
      return (cs_gen_defect)d;
    }
  }
  return CS_GEN_D_NONE;
}

/* Which stores the collector read: decided before anything is placed. */
static void plan_collection(device_plan *plan, cs_gen_defect *defects)
{
  const cs_gen_rules *rules = plan->ctx->rules;
  cs_gen_device *d = plan->device;
  size_t r;

  plan->collected = plan->os_stores;
  d->stores_listed = cs_gen_rng_below(&plan->rng, 4) == 0;
  if (draw(plan, CS_GEN_D_COLLECTED_NONE)) {
    d->stores_listed = true;
    plan->collected = 0;
  }
  for (r = 0; r < rules->count; r++) {
    if (defects[r] == CS_GEN_D_NOT_COLLECTED) {
      d->stores_listed = true;
      plan->collected &= ~cs_gen_rule_locations(&rules->rules[r]);
    }
  }
  d->stores = plan->collected;
}

static void place_certificates(device_plan *plan)
{
  const cs_gen_rules *rules = plan->ctx->rules;
  const cs_gen_options *options = plan->ctx->options;
  cs_gen_defect defects[CS_GEN_MAX_RULES];
  uint64_t extra;
  size_t r;

  for (r = 0; r < rules->count; r++) {
    defects[r] = rule_applies(&rules->rules[r], plan->device->os)
                     ? draw_rule_defect(plan)
                     : CS_GEN_D_NONE;
  }
  plan_collection(plan, defects);

  for (r = 0; r < rules->count; r++) {
    const cs_gen_rule *rule = &rules->rules[r];

    if (!rule_applies(rule, plan->device->os) ||
        (rule->served_by >= 0 &&
         rules->rules[rule->served_by].os == plan->device->os) ||
        defects[r] == CS_GEN_D_NO_CERTIFICATE ||
        defects[r] == CS_GEN_D_NOT_COLLECTED) {
      continue;
    }
    place_rule_cert(plan, rule, defects[r]);
    if (draw(plan, CS_GEN_D_EXTRA_CANDIDATE)) {
      place_rule_cert(plan, rule, random_cert_defect(plan));
    }
  }

  extra = (uint64_t)cs_gen_rng_range(&plan->rng, options->extra_min,
                                     options->extra_max);
  while (extra-- > 0) {
    place_unrelated(plan, false);
  }
  if (draw(plan, CS_GEN_D_UNRELATED_CA)) {
    extra = 1 + cs_gen_rng_below(&plan->rng, 3);
    while (extra-- > 0) {
      place_unrelated(plan, true);
    }
  }
}

static void shuffle_entries(device_plan *plan)
{
  cs_gen_device *d = plan->device;
  size_t i;

  for (i = d->entry_count; i > 1; i--) {
    size_t j = cs_gen_rng_below(&plan->rng, i);
    cs_gen_entry tmp = d->entries[i - 1];

    d->entries[i - 1] = d->entries[j];
    d->entries[j] = tmp;
  }
}

static bool build_ders(device_plan *plan)
{
  const cs_gen_ctx *ctx = plan->ctx;
  cs_gen_device *d = plan->device;
  size_t i;

  for (i = 0; i < d->entry_count; i++) {
    cs_gen_entry *e = &d->entries[i];

    if (!cs_gen_cert_build(ctx->pki, &e->spec, ctx->options->seed,
                           d->index * 64 + i, &e->der, &e->der_len)) {
      return false;
    }
  }
  return true;
}

/* ---- the record ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
  size_t len = strlen(s);

  msgpack_pack_str(pk, len);
  msgpack_pack_str_body(pk, s, len);
}

static void pack_kv(msgpack_packer *pk, const char *key, const char *value)
{
  pack_str(pk, key);
  pack_str(pk, value);
}

static void pack_time(msgpack_packer *pk, int64_t t)
{
  msgpack_timestamp ts = { t, 0 };

  msgpack_pack_timestamp(pk, &ts);
}

static void pack_entry(msgpack_packer *pk, const cs_gen_entry *e)
{
  static const char *store_names[] = { "", "system", "user", "", "path" };
  size_t fields = 2 + (e->path != NULL) + (e->key_path != NULL) +
                  (e->label != NULL) + (e->has_key != CS_GEN_TRI_ABSENT) +
                  e->has_spki;

  msgpack_pack_map(pk, fields);
  pack_kv(pk, "store", store_names[e->store]);
  if (e->path != NULL) {
    pack_kv(pk, "path", e->path);
  }
  if (e->key_path != NULL) {
    pack_kv(pk, "key_path", e->key_path);
  }
  pack_str(pk, "der");
  msgpack_pack_bin(pk, e->der_len);
  msgpack_pack_bin_body(pk, e->der, e->der_len);
  if (e->has_key != CS_GEN_TRI_ABSENT) {
    pack_str(pk, "has_key");
    if (e->has_key == CS_GEN_TRI_TRUE) {
      msgpack_pack_true(pk);
    } else {
      msgpack_pack_false(pk);
    }
  }
  if (e->has_spki) {
    pack_str(pk, "key_spki_sha256");
    msgpack_pack_bin(pk, 32);
    msgpack_pack_bin_body(pk, e->spki_sha256, 32);
  }
  if (e->label != NULL) {
    pack_kv(pk, "label", e->label);
  }
}

static void pack_stores(msgpack_packer *pk, unsigned stores)
{
  static const char *names[] = { "system", "user", "path" };
  size_t count = 0;
  unsigned i;

  for (i = 0; i < 3; i++) {
    count += (stores >> i) & 1u;
  }
  msgpack_pack_array(pk, count);
  for (i = 0; i < 3; i++) {
    if ((stores & (1u << i)) != 0) {
      pack_str(pk, names[i]);
    }
  }
}

static void pack_device(device_plan *plan, msgpack_packer *pk)
{
  static const char *versions[] = { "10.0.22631", "14.6.1", "6.1.0-28",
                                    "17.5" };
  const cs_gen_device *d = plan->device;
  size_t fields = 9 + d->serial_present + d->stores_listed;
  size_t i;

  msgpack_pack_map(pk, fields);
  pack_kv(pk, "device_id", d->device_id);
  pack_kv(pk, "hostname", d->hostname);
  if (d->serial_present) {
    pack_kv(pk, "serial_number", d->serial);
  }
  pack_kv(pk, "os", d->os_name);
  pack_kv(pk, "os_version", versions[d->os]);
  pack_kv(pk, "client_version", "2024.6.415.0");
  pack_kv(pk, "user", "user@corp.example");
  pack_str(pk, "collected_at");
  pack_time(pk, plan->ctx->options->at -
                    cs_gen_rng_range(&plan->rng, 0, 3 * DAY));
  if (d->stores_listed) {
    pack_str(pk, "collected_stores");
    pack_stores(pk, d->stores);
  }
  pack_str(pk, "source_index");
  msgpack_pack_uint64(pk, d->index);
  pack_str(pk, "certs");
  msgpack_pack_array(pk, d->entry_count);
  for (i = 0; i < d->entry_count; i++) {
    pack_entry(pk, &d->entries[i]);
  }
}

/*
 * A record the reader must count as malformed: each shape breaks one
 * requirement of the device map that the format states.
 */
static void pack_malformed(device_plan *plan, msgpack_packer *pk)
{
  const cs_gen_device *d = plan->device;

  switch (cs_gen_rng_below(&plan->rng, 6)) {
  case 0: /* no device_id */
    msgpack_pack_map(pk, 3);
    pack_kv(pk, "hostname", d->hostname);
    pack_kv(pk, "os", "windows");
    pack_str(pk, "certs");
    msgpack_pack_array(pk, 0);
    break;
  case 1: /* device_id not a string */
    msgpack_pack_map(pk, 3);
    pack_str(pk, "device_id");
    msgpack_pack_uint64(pk, d->index);
    pack_kv(pk, "os", "windows");
    pack_str(pk, "certs");
    msgpack_pack_array(pk, 0);
    break;
  case 2: /* certs not an array */
    msgpack_pack_map(pk, 3);
    pack_kv(pk, "device_id", d->device_id);
    pack_kv(pk, "os", "linux");
    pack_kv(pk, "certs", "none");
    break;
  case 3: /* not a map at all */
    msgpack_pack_uint64(pk, d->index);
    break;
  case 4: /* no os */
    msgpack_pack_map(pk, 2);
    pack_kv(pk, "device_id", d->device_id);
    pack_str(pk, "certs");
    msgpack_pack_array(pk, 0);
    break;
  default: /* os not a string */
    msgpack_pack_map(pk, 3);
    pack_kv(pk, "device_id", d->device_id);
    pack_str(pk, "os");
    msgpack_pack_int(pk, 7);
    pack_str(pk, "certs");
    msgpack_pack_array(pk, 0);
    break;
  }
}

static void fill_truth(device_plan *plan, cs_gen_device_truth *truth)
{
  const cs_gen_ctx *ctx = plan->ctx;
  const cs_gen_device *d = plan->device;
  size_t i;

  truth->evaluated = true;
  truth->certs = d->entry_count;
  for (i = 0; i < d->entry_count; i++) {
    truth->certs_malformed +=
        d->entries[i].spec.malformed != CS_GEN_MAL_NONE;
  }
  for (i = 0; i < ctx->rules->count; i++) {
    truth->results[i] = cs_gen_truth_evaluate(&ctx->rules->rules[i], d,
                                              ctx->pki, ctx->options->at);
  }
}

bool cs_gen_device_make(const cs_gen_ctx *ctx, uint64_t index,
                        msgpack_packer *pk, cs_gen_device *device,
                        cs_gen_device_truth *truth)
{
  device_plan plan;
  size_t i;

  memset(device, 0, sizeof(*device));
  memset(truth, 0, sizeof(*truth));
  memset(&plan, 0, sizeof(plan));
  plan.ctx = ctx;
  plan.device = device;
  device->index = index;
  cs_gen_rng_init(&plan.rng, ctx->options->seed, "device", index);
  make_identity(&plan);

  if (draw(&plan, CS_GEN_D_MALFORMED_RECORD)) {
    pack_malformed(&plan, pk);
    truth->malformed = true;
    return true;
  }

  place_certificates(&plan);
  shuffle_entries(&plan);
  if (draw(&plan, CS_GEN_D_HAS_KEY_ABSENT)) {
    for (i = 0; i < device->entry_count; i++) {
      device->entries[i].has_key = CS_GEN_TRI_ABSENT;
      device->entries[i].has_spki = false;
    }
  }
  if (!build_ders(&plan)) {
    return false;
  }
  pack_device(&plan, pk);
  fill_truth(&plan, truth);
  return true;
}

void cs_gen_device_cleanup(cs_gen_device *device)
{
  size_t i;

  for (i = 0; i < device->entry_count; i++) {
    free(device->entries[i].der);
    device->entries[i].der = NULL;
  }
  device->entry_count = 0;
}
