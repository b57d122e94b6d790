/*
 * cs_gen_rules.c - the posture rules of a generated fleet and the two
 * configuration files a scan takes: rules.json in the vendor API's list
 * envelope and signers.json with the signing certificates.
 *
 * The rule set covers every kind the check knows: v2 rules per
 * operating system with trust stores, paths, or no locations at all,
 * CN and SAN templates with both variables, EKU lists, the private key
 * check on and off; one v1 rule; one rule of another type that a scan
 * skips.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cs_gen.h"

typedef struct rule_template {
  const char *name;
  const char *type;
  int os;
  bool has_locations;
  unsigned trust_stores;
  const char *paths[CS_GEN_MAX_PATHS];
  int signer; /* taken modulo the number of signers */
  const char *cn;
  const char *sans[CS_GEN_MAX_TEMPLATES];
  unsigned eku;
  bool check_private_key;
  bool has_match;
  int served_by;
} rule_template;

static const rule_template templates[] = {
  { "Windows machine certificate", "client_certificate_v2",
    CS_GEN_OS_WINDOWS, true, CS_GEN_STORE_SYSTEM, { NULL }, 0,
    "${serial_number}_corp", { NULL }, CS_GEN_EKU_CLIENT, true, false, -1 },
  { "Windows user certificate", "client_certificate_v2",
    CS_GEN_OS_WINDOWS, true, CS_GEN_STORE_USER, { NULL }, 1,
    "${hostname}", { NULL }, CS_GEN_EKU_CLIENT | CS_GEN_EKU_EMAIL, false,
    false, -1 },
  { "Windows any store", "client_certificate_v2", CS_GEN_OS_WINDOWS,
    false, 0, { NULL }, 2, NULL,
    { "${hostname}.corp.example", "${serial_number}@devices.example" }, 0,
    true, true, -1 },
  { "macOS System keychain", "client_certificate_v2", CS_GEN_OS_MAC, true,
    CS_GEN_STORE_SYSTEM, { NULL }, 3, "${serial_number}",
    { NULL }, CS_GEN_EKU_CLIENT, true, true, -1 },
  { "Linux NSS database or file", "client_certificate_v2",
    CS_GEN_OS_LINUX, true, CS_GEN_STORE_SYSTEM,
    { "/etc/corp/client.pem", NULL }, 4, "${hostname}",
    { "${hostname}.corp.example", NULL }, 0, true, false, -1 },
  { "Linux device file", "client_certificate_v2", CS_GEN_OS_LINUX, true, 0,
    { "/opt/corp/device.pem", "/etc/corp/client.pem" }, 5,
    "${serial_number}_corp", { NULL }, CS_GEN_EKU_CLIENT, false, false,
    -1 },
  { "Legacy client certificate", "client_certificate", -1, false,
    0, { NULL }, 0, "${serial_number}_corp", { NULL }, 0, false, false,
    0 },
  { "Disk encryption", "disk_encryption", -1, false, 0, { NULL }, 0, NULL,
    { NULL }, 0, false, false, -1 },
};

void cs_gen_rules_init(cs_gen_rules *rules, const cs_gen_pki *pki,
                       uint64_t seed)
{
  size_t i, j;

  memset(rules, 0, sizeof(*rules));
  for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
    const rule_template *t = &templates[i];
    cs_gen_rule *r = &rules->rules[i];
    cs_gen_rng rng;

    cs_gen_rng_init(&rng, seed, "rule-id", i);
    cs_gen_rng_uuid(&rng, r->id);
    r->name = t->name;
    r->type = t->type;
    r->os = t->os;
    r->evaluated = strncmp(t->type, "client_certificate", 18) == 0;
    r->has_locations = t->has_locations;
    r->trust_stores = t->trust_stores;
    for (j = 0; j < CS_GEN_MAX_PATHS && t->paths[j] != NULL; j++) {
      r->paths[r->path_count++] = t->paths[j];
    }
    r->signer = t->signer % (int)pki->signer_count;
    r->cn = t->cn;
    for (j = 0; j < CS_GEN_MAX_TEMPLATES && t->sans[j] != NULL; j++) {
      r->sans[r->san_count++] = t->sans[j];
    }
    r->eku = t->eku;
    r->check_private_key = t->check_private_key;
    r->has_match = t->has_match;
    r->served_by = t->served_by;
  }
  rules->count = i;
}

unsigned cs_gen_rule_locations(const cs_gen_rule *rule)
{
  unsigned stores;

  if (!rule->has_locations) {
    return CS_GEN_STORE_SYSTEM | CS_GEN_STORE_USER;
  }
  stores = rule->trust_stores;
  if (rule->path_count > 0) {
    stores |= CS_GEN_STORE_PATH;
  }
  return stores;
}

static const char *os_key(int os)
{
  static const char *names[] = { "windows", "mac", "linux" };

  return names[os];
}

static json_t *string_array(const char *const *items, size_t count)
{
  json_t *array = json_array();
  size_t i;

  for (i = 0; i < count; i++) {
    json_array_append_new(array, json_string(items[i]));
  }
  return array;
}

static json_t *locations_json(const cs_gen_rule *r)
{
  json_t *loc = json_object();
  const char *stores[2];
  size_t n = 0;

  if ((r->trust_stores & CS_GEN_STORE_SYSTEM) != 0) {
    stores[n++] = "system";
  }
  if ((r->trust_stores & CS_GEN_STORE_USER) != 0) {
    stores[n++] = "user";
  }
  if (n > 0) {
    json_object_set_new(loc, "trust_stores", string_array(stores, n));
  }
  if (r->path_count > 0) {
    json_object_set_new(loc, "paths",
                        string_array(r->paths, r->path_count));
  }
  return loc;
}

static json_t *eku_json(unsigned eku)
{
  const char *names[2];
  size_t n = 0;

  if ((eku & CS_GEN_EKU_CLIENT) != 0) {
    names[n++] = "clientAuth";
  }
  if ((eku & CS_GEN_EKU_EMAIL) != 0) {
    names[n++] = "emailProtection";
  }
  return string_array(names, n);
}

static json_t *input_v2(const cs_gen_rule *r, const cs_gen_pki *pki)
{
  json_t *input = json_object();

  json_object_set_new(input, "certificate_id",
                      json_string(pki->signers[r->signer].id));
  json_object_set_new(input, "operating_system",
                      json_string(os_key(r->os)));
  if (r->has_locations) {
    json_object_set_new(input, "locations", locations_json(r));
  }
  if (r->cn != NULL) {
    json_object_set_new(input, "cn", json_string(r->cn));
  }
  if (r->san_count > 0) {
    json_object_set_new(input, "subject_alternative_names",
                        string_array(r->sans, r->san_count));
  }
  if (r->eku != 0) {
    json_object_set_new(input, "extended_key_usage", eku_json(r->eku));
  }
  json_object_set_new(input, "check_private_key",
                      json_boolean(r->check_private_key));
  return input;
}

static json_t *rule_json(const cs_gen_rule *r, const cs_gen_pki *pki)
{
  json_t *rule = json_object();
  json_t *input = json_object();

  json_object_set_new(rule, "id", json_string(r->id));
  json_object_set_new(rule, "name", json_string(r->name));
  json_object_set_new(rule, "type", json_string(r->type));
  json_object_set_new(rule, "schedule", json_string("1h"));

  if (strcmp(r->type, "client_certificate_v2") == 0) {
    json_decref(input);
    input = input_v2(r, pki);
  } else if (strcmp(r->type, "client_certificate") == 0) {
    json_object_set_new(input, "certificate_id",
                        json_string(pki->signers[r->signer].id));
    json_object_set_new(input, "cn", json_string(r->cn));
  } else {
    json_object_set_new(input, "requireAll", json_true());
  }
  if (r->has_match) {
    json_t *match = json_array();
    json_t *platform = json_object();

    json_object_set_new(platform, "platform", json_string(os_key(r->os)));
    json_array_append_new(match, platform);
    json_object_set_new(rule, "match", match);
  }
  json_object_set_new(rule, "input", input);
  return rule;
}

static bool write_json(json_t *doc, const char *path)
{
  int rc = json_dump_file(doc, path, JSON_INDENT(1));

  json_decref(doc);
  if (rc != 0) {
    fprintf(stderr, "certscan-gen: cannot write %s\n", path);
    return false;
  }
  return true;
}

bool cs_gen_rules_write(const cs_gen_rules *rules, const cs_gen_pki *pki,
                        const char *path)
{
  json_t *doc = json_object();
  json_t *result = json_array();
  size_t i;

  for (i = 0; i < rules->count; i++) {
    json_array_append_new(result, rule_json(&rules->rules[i], pki));
  }
  json_object_set_new(doc, "success", json_true());
  json_object_set_new(doc, "errors", json_array());
  json_object_set_new(doc, "messages", json_array());
  json_object_set_new(doc, "result", result);
  return write_json(doc, path);
}

bool cs_gen_signers_write(const cs_gen_pki *pki, const char *path)
{
  json_t *doc = json_object();
  json_t *result = json_array();
  size_t i;

  for (i = 0; i < pki->signer_count; i++) {
    const cs_gen_ca *ca = &pki->signers[i];
    json_t *signer = json_object();

    json_object_set_new(signer, "id", json_string(ca->id));
    json_object_set_new(signer, "name", json_string(ca->display_name));
    json_object_set_new(signer, "certificates", json_string(ca->pem));
    json_object_set_new(signer, "ca", json_true());
    json_array_append_new(result, signer);
  }
  json_object_set_new(doc, "result", result);
  return write_json(doc, path);
}
