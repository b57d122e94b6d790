/*
 * posture_rules.c - loads a rules file in the shape of the vendor's
 * device posture API and validates every client-certificate rule
 * against the configured signers, before any inventory is read.
 *
 * Every problem is a CS_ERR_CONFIG whose message names the file, the
 * rule (position, name and id) and what is wrong, so that a user can
 * fix the file without reading this code.
 */
#include "posture_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_ARENA_CHUNK (16 * 1024)

/* How much of a value from the file a message quotes. */
#define QUOTE_MAX "60"

static const char type_v2[] = "client_certificate_v2";
static const char type_v1[] = "client_certificate";

/* Where a rule sits, for messages. */
typedef struct rule_ctx {
  const char *path;
  size_t number; /* 1-based position in the file's list */
  const char *id;
  const char *name;
  cs_posture_rules *rules;
  const cs_verify_signers *signers;
  cs_error *err;
} rule_ctx;

static cs_status rule_error(const rule_ctx *ctx, const char *fmt, ...)
    CS_PRINTF(2, 3);

static cs_status rule_error(const rule_ctx *ctx, const char *fmt, ...)
{
  char problem[CS_ERROR_MESSAGE_MAX];
  char name[96] = "unnamed";
  char id[64] = "no id";
  va_list args;

  va_start(args, fmt);
  vsnprintf(problem, sizeof(problem), fmt, args);
  va_end(args);

  if (ctx->name != NULL) {
    snprintf(name, sizeof(name), "\"%." QUOTE_MAX "s\"", ctx->name);
  }
  if (ctx->id != NULL) {
    snprintf(id, sizeof(id), "%." QUOTE_MAX "s", ctx->id);
  }
  return cs_error_set(ctx->err, CS_ERR_CONFIG, "%s: rule %zu %s (%s): %s",
                      ctx->path, ctx->number, name, id, problem);
}

static cs_status nomem(const rule_ctx *ctx)
{
  return cs_error_set(ctx->err, CS_ERR_NOMEM,
                      "%s: out of memory loading rules", ctx->path);
}

/* 8-4-4-4-12 hexadecimal digits, either letter case. */
static bool is_uuid(const char *text)
{
  if (strlen(text) != 36) {
    return false;
  }
  for (size_t i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = text[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
               (c >= 'A' && c <= 'F');

    if (dash ? c != '-' : !hex) {
      return false;
    }
  }
  return true;
}

/* POSIX "/..." or Windows "C:\...", "C:/..." and "\\server\...". */
static bool is_absolute_path(const char *text)
{
  bool drive = ((text[0] >= 'A' && text[0] <= 'Z') ||
                (text[0] >= 'a' && text[0] <= 'z')) &&
               text[1] == ':' && (text[2] == '\\' || text[2] == '/');

  return text[0] == '/' || drive || (text[0] == '\\' && text[1] == '\\');
}

static const char *keep_string(const rule_ctx *ctx, const json_t *value)
{
  return cs_arena_strndup(&ctx->rules->arena, json_string_value(value),
                          json_string_length(value));
}

static cs_status read_os_name(const char *name, cs_os *out)
{
  static const char *const names[] = { "windows", "mac", "linux" };

  for (size_t i = 0; i < 3; i++) {
    if (strcmp(name, names[i]) == 0) {
      *out = (cs_os)i;
      return CS_OK;
    }
  }
  return CS_ERR_CONFIG;
}

/*
 * `match` platforms: the vendor's list names mobile platforms too;
 * they are accepted and simply never match an inventory device.
 */
static cs_status read_platform(const rule_ctx *ctx, size_t index,
                               const char *name, unsigned *mask)
{
  static const char *const others[] = { "android", "ios", "chromeos" };
  cs_os os;

  if (read_os_name(name, &os) == CS_OK) {
    *mask |= POSTURE_OS_BIT(os);
    return CS_OK;
  }
  for (size_t i = 0; i < 3; i++) {
    if (strcmp(name, others[i]) == 0) {
      return CS_OK;
    }
  }
  return rule_error(ctx,
                    "match[%zu].platform \"%." QUOTE_MAX "s\" is not a "
                    "platform (windows, mac, linux, android, ios, "
                    "chromeos)",
                    index, name);
}

static cs_status read_match(const rule_ctx *ctx, const json_t *rule,
                            posture_rule *out)
{
  const json_t *match = json_object_get(rule, "match");
  size_t i;
  const json_t *item;

  if (match == NULL || json_is_null(match)) {
    return CS_OK;
  }
  if (!json_is_array(match)) {
    return rule_error(ctx, "match must be an array of "
                           "{\"platform\": ...} objects");
  }

  /* An empty list restricts nothing, as when `match` is absent. */
  out->has_match = json_array_size(match) > 0;
  json_array_foreach(match, i, item) {
    const json_t *platform = json_object_get(item, "platform");
    cs_status status;

    if (!json_is_string(platform)) {
      return rule_error(ctx, "match[%zu] must be an object with a "
                             "\"platform\" string", i);
    }
    status = read_platform(ctx, i, json_string_value(platform),
                           &out->match_os);
    if (status != CS_OK) {
      return status;
    }
  }
  return CS_OK;
}

static cs_status read_certificate_id(const rule_ctx *ctx,
                                     const json_t *input,
                                     posture_rule *out)
{
  const json_t *value = json_object_get(input, "certificate_id");

  if (value == NULL) {
    return rule_error(ctx, "missing certificate_id");
  }
  if (!json_is_string(value)) {
    return rule_error(ctx, "certificate_id must be a string");
  }
  if (!is_uuid(json_string_value(value))) {
    return rule_error(ctx, "certificate_id \"%." QUOTE_MAX "s\" is not a "
                           "UUID", json_string_value(value));
  }
  out->info.certificate_id = keep_string(ctx, value);
  if (out->info.certificate_id == NULL) {
    return nomem(ctx);
  }
  return CS_OK;
}

static cs_status read_operating_system(const rule_ctx *ctx,
                                       const json_t *input,
                                       posture_rule *out)
{
  const json_t *value = json_object_get(input, "operating_system");

  if (value == NULL) {
    return rule_error(ctx, "missing operating_system (windows, mac or "
                           "linux)");
  }
  if (!json_is_string(value)) {
    return rule_error(ctx, "operating_system must be a string");
  }
  if (read_os_name(json_string_value(value), &out->os) != CS_OK) {
    return rule_error(ctx, "operating_system \"%." QUOTE_MAX "s\" is not "
                           "windows, mac or linux",
                      json_string_value(value));
  }
  out->os_named = true;
  out->info.operating_system = cs_os_name(out->os);
  return CS_OK;
}

static cs_status read_trust_stores(const rule_ctx *ctx,
                                   const json_t *locations,
                                   posture_rule *out)
{
  const json_t *stores = json_object_get(locations, "trust_stores");
  size_t i;
  const json_t *item;

  if (stores == NULL) {
    return CS_OK;
  }
  if (!json_is_array(stores)) {
    return rule_error(ctx, "locations.trust_stores must be an array of "
                           "strings");
  }
  json_array_foreach(stores, i, item) {
    const char *name = json_string_value(item);

    if (name == NULL) {
      return rule_error(ctx, "locations.trust_stores[%zu] must be a "
                             "string", i);
    }
    if (strcmp(name, "system") == 0) {
      out->stores |= CS_STORE_SYSTEM;
    } else if (strcmp(name, "user") == 0) {
      out->stores |= CS_STORE_USER;
    } else {
      return rule_error(ctx, "locations.trust_stores[%zu] \"%." QUOTE_MAX
                             "s\" is not a trust store (system, user)",
                        i, name);
    }
  }
  return CS_OK;
}

static cs_status read_paths(const rule_ctx *ctx, const json_t *locations,
                            posture_rule *out)
{
  const json_t *paths = json_object_get(locations, "paths");
  size_t i;
  const json_t *item;

  if (paths == NULL) {
    return CS_OK;
  }
  if (!json_is_array(paths)) {
    return rule_error(ctx, "locations.paths must be an array of strings");
  }
  out->paths = cs_arena_alloc(&ctx->rules->arena,
                              (json_array_size(paths) + 1) *
                                  sizeof(const char *));
  if (out->paths == NULL) {
    return nomem(ctx);
  }
  json_array_foreach(paths, i, item) {
    if (!json_is_string(item)) {
      return rule_error(ctx, "locations.paths[%zu] must be a string", i);
    }
    if (!is_absolute_path(json_string_value(item))) {
      return rule_error(ctx, "locations.paths[%zu] \"%." QUOTE_MAX "s\" "
                             "is not an absolute path",
                        i, json_string_value(item));
    }
    out->paths[i] = keep_string(ctx, item);
    if (out->paths[i] == NULL) {
      return nomem(ctx);
    }
  }
  out->path_count = json_array_size(paths);
  return CS_OK;
}

static cs_status read_locations(const rule_ctx *ctx, const json_t *input,
                                posture_rule *out)
{
  const json_t *locations = json_object_get(input, "locations");
  cs_status status;

  if (locations == NULL) {
    out->stores = CS_STORE_SYSTEM | CS_STORE_USER;
    return CS_OK;
  }
  if (!json_is_object(locations)) {
    return rule_error(ctx, "locations must be an object");
  }
  status = read_trust_stores(ctx, locations, out);
  if (status == CS_OK) {
    status = read_paths(ctx, locations, out);
  }
  if (status != CS_OK) {
    return status;
  }
  if (out->stores == 0 && out->path_count == 0) {
    return rule_error(ctx, "locations selects no trust store and no path");
  }
  return CS_OK;
}

static cs_status read_template(const rule_ctx *ctx, const json_t *value,
                               const char *field, posture_template *out)
{
  char why[160];
  cs_status status;

  status = cs_posture__template_parse(json_string_value(value),
                                      json_string_length(value),
                                      &ctx->rules->arena, out, why,
                                      sizeof(why));
  if (status == CS_ERR_NOMEM) {
    return nomem(ctx);
  }
  if (status != CS_OK) {
    return rule_error(ctx, "%s %s", field, why);
  }
  return CS_OK;
}

/* An empty cn, like an absent one, means the CN is not checked. */
static cs_status read_cn(const rule_ctx *ctx, const json_t *input,
                         posture_rule *out)
{
  const json_t *value = json_object_get(input, "cn");

  if (value == NULL || json_is_null(value)) {
    return CS_OK;
  }
  if (!json_is_string(value)) {
    return rule_error(ctx, "cn must be a string");
  }
  if (json_string_length(value) == 0) {
    return CS_OK;
  }
  out->has_cn = true;
  return read_template(ctx, value, "cn", &out->cn);
}

static cs_status read_sans(const rule_ctx *ctx, const json_t *input,
                           posture_rule *out)
{
  const json_t *sans = json_object_get(input, "subject_alternative_names");
  size_t i;
  const json_t *item;

  if (sans == NULL || json_is_null(sans)) {
    return CS_OK;
  }
  if (!json_is_array(sans)) {
    return rule_error(ctx, "subject_alternative_names must be an array "
                           "of strings");
  }
  out->sans = cs_arena_alloc(&ctx->rules->arena,
                             (json_array_size(sans) + 1) *
                                 sizeof(posture_template));
  if (out->sans == NULL) {
    return nomem(ctx);
  }
  json_array_foreach(sans, i, item) {
    char field[48];
    cs_status status;

    snprintf(field, sizeof(field), "subject_alternative_names[%zu]", i);
    if (!json_is_string(item)) {
      return rule_error(ctx, "%s must be a string", field);
    }
    if (json_string_length(item) == 0) {
      return rule_error(ctx, "%s is empty", field);
    }
    status = read_template(ctx, item, field, &out->sans[i]);
    if (status != CS_OK) {
      return status;
    }
  }
  out->san_count = json_array_size(sans);
  return CS_OK;
}

static cs_status read_eku(const rule_ctx *ctx, const json_t *input,
                          posture_rule *out)
{
  const json_t *eku = json_object_get(input, "extended_key_usage");
  size_t i;
  const json_t *item;

  if (eku == NULL || json_is_null(eku)) {
    return CS_OK;
  }
  if (!json_is_array(eku)) {
    return rule_error(ctx, "extended_key_usage must be an array of "
                           "strings");
  }
  json_array_foreach(eku, i, item) {
    const char *name = json_string_value(item);

    if (name == NULL) {
      return rule_error(ctx, "extended_key_usage[%zu] must be a string", i);
    }
    if (strcmp(name, "clientAuth") == 0) {
      out->eku |= CS_EKU_CLIENT_AUTH;
    } else if (strcmp(name, "emailProtection") == 0) {
      out->eku |= CS_EKU_EMAIL_PROTECTION;
    } else {
      return rule_error(ctx, "extended_key_usage[%zu] \"%." QUOTE_MAX "s\" "
                             "is not a supported purpose (clientAuth, "
                             "emailProtection)",
                        i, name);
    }
  }
  return CS_OK;
}

static cs_status read_check_private_key(const rule_ctx *ctx,
                                        const json_t *input,
                                        posture_rule *out)
{
  const json_t *value = json_object_get(input, "check_private_key");

  if (value == NULL || json_is_null(value)) {
    return CS_OK;
  }
  if (!json_is_boolean(value)) {
    return rule_error(ctx, "check_private_key must be true or false");
  }
  out->check_private_key = json_is_true(value);
  return CS_OK;
}

static cs_status read_v2_input(const rule_ctx *ctx, const json_t *input,
                               posture_rule *out)
{
  cs_status status = read_operating_system(ctx, input, out);

  if (status == CS_OK) {
    status = read_locations(ctx, input, out);
  }
  if (status == CS_OK) {
    status = read_cn(ctx, input, out);
  }
  if (status == CS_OK) {
    status = read_sans(ctx, input, out);
  }
  if (status == CS_OK) {
    status = read_eku(ctx, input, out);
  }
  if (status == CS_OK) {
    status = read_check_private_key(ctx, input, out);
  }
  return status;
}

/* A v1 rule knows only certificate_id and cn; it looks where v2 does
 * when `locations` is absent. */
static cs_status read_v1_input(const rule_ctx *ctx, const json_t *input,
                               posture_rule *out)
{
  out->stores = CS_STORE_SYSTEM | CS_STORE_USER;
  return read_cn(ctx, input, out);
}

static cs_status resolve_signer(const rule_ctx *ctx, posture_rule *out)
{
  const cs_verify_signer *signer;
  cs_error why;

  signer = cs_verify_signers_find(ctx->signers, out->info.certificate_id);
  if (signer == NULL) {
    return rule_error(ctx, "certificate_id %s has no signer in the "
                           "configured signers",
                      out->info.certificate_id);
  }
  cs_error_clear(&why);
  if (!cs_verify_signer_usable(signer, &why)) {
    return rule_error(ctx, "signer %s (\"%." QUOTE_MAX "s\") is not "
                           "usable: %s",
                      out->info.certificate_id,
                      cs_verify_signer_name(signer), why.message);
  }
  out->signer = signer;
  return CS_OK;
}

/* Sorted keys: the same rule gives the same text whatever its layout. */
static cs_status keep_input_json(const rule_ctx *ctx, const json_t *input,
                                 posture_rule *out)
{
  char *text = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS);

  if (text == NULL) {
    return nomem(ctx);
  }
  out->info.input_json = cs_arena_strndup(&ctx->rules->arena, text,
                                          strlen(text));
  free(text);
  if (out->info.input_json == NULL) {
    return nomem(ctx);
  }
  return CS_OK;
}

static cs_status read_header(rule_ctx *ctx, const json_t *rule,
                             posture_rule *out)
{
  const json_t *id = json_object_get(rule, "id");
  const json_t *name = json_object_get(rule, "name");
  const json_t *description = json_object_get(rule, "description");

  /* Name the rule as well as the file allows before judging it. */
  ctx->id = json_string_value(id);
  ctx->name = json_string_value(name);
  if (id == NULL) {
    return rule_error(ctx, "missing id");
  }
  if (ctx->id == NULL) {
    return rule_error(ctx, "id must be a string");
  }
  if (!is_uuid(ctx->id)) {
    return rule_error(ctx, "id is not a UUID");
  }
  if (ctx->name == NULL) {
    return rule_error(ctx, name == NULL ? "missing name"
                                        : "name must be a string");
  }
  if (description != NULL && !json_is_string(description) &&
      !json_is_null(description)) {
    return rule_error(ctx, "description must be a string");
  }
  out->info.id = keep_string(ctx, id);
  out->info.name = keep_string(ctx, name);
  if (out->info.id == NULL || out->info.name == NULL) {
    return nomem(ctx);
  }
  return CS_OK;
}

static cs_status read_rule(rule_ctx *ctx, const json_t *rule,
                           const char *type, posture_rule *out)
{
  const json_t *input = json_object_get(rule, "input");
  bool v2 = strcmp(type, type_v2) == 0;
  cs_status status;

  memset(out, 0, sizeof(*out));
  out->info.type = v2 ? type_v2 : type_v1;
  status = read_header(ctx, rule, out);
  if (status == CS_OK) {
    status = read_match(ctx, rule, out);
  }
  if (status != CS_OK) {
    return status;
  }
  if (!json_is_object(input)) {
    return rule_error(ctx, input == NULL ? "missing input"
                                         : "input must be an object");
  }

  status = read_certificate_id(ctx, input, out);
  if (status == CS_OK) {
    status = v2 ? read_v2_input(ctx, input, out)
                : read_v1_input(ctx, input, out);
  }
  if (status == CS_OK) {
    status = resolve_signer(ctx, out);
  }
  if (status == CS_OK) {
    status = keep_input_json(ctx, input, out);
  }
  return status;
}

/* The envelope, a bare array, or one rule: always handed on as a list. */
static cs_status rules_list(const char *path, json_t *root,
                            json_t **out_list, cs_error *err)
{
  const json_t *result;

  if (json_is_array(root)) {
    *out_list = json_incref(root);
    return CS_OK;
  }
  if (!json_is_object(root)) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "%s: expected a rule object, an array of rules or "
                        "{\"result\": [...]}", path);
  }
  result = json_object_get(root, "result");
  if (result == NULL) {
    *out_list = json_pack("[O]", root);
    return *out_list == NULL ? cs_error_set(err, CS_ERR_NOMEM,
                                            "%s: out of memory", path)
                             : CS_OK;
  }
  if (!json_is_array(result)) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "%s: \"result\" must be an array of rules", path);
  }
  *out_list = json_incref((json_t *)result);
  return CS_OK;
}

/* Each signer gets one slot so that a worker caches one check per
 * (certificate, signer), however many rules share the signer. */
static cs_status assign_signer_slots(cs_posture_rules *rules)
{
  rules->signers = cs_arena_alloc(&rules->arena, (rules->count + 1) *
                                                     sizeof(void *));
  if (rules->signers == NULL) {
    return CS_ERR_NOMEM;
  }
  for (size_t i = 0; i < rules->count; i++) {
    posture_rule *rule = &rules->rules[i];
    size_t slot = 0;

    while (slot < rules->signer_count &&
           rules->signers[slot] != rule->signer) {
      slot++;
    }
    if (slot == rules->signer_count) {
      rules->signers[rules->signer_count++] = rule->signer;
    }
    rule->signer_slot = slot;
    if (rule->san_count > rules->max_san_count) {
      rules->max_san_count = rule->san_count;
    }
  }
  return CS_OK;
}

/* Reports key their rows by rule id, so one id may name one rule. */
static cs_status check_duplicate_id(rule_ctx *ctx, size_t kept)
{
  const posture_rule *last = &ctx->rules->rules[kept];

  for (size_t i = 0; i < kept; i++) {
    cs_str a = { ctx->rules->rules[i].info.id, 36 };
    cs_str b = { last->info.id, 36 };

    if (cs_str_eq_ascii_nocase(a, b)) {
      return rule_error(ctx, "id is already used by rule \"%." QUOTE_MAX
                             "s\"", ctx->rules->rules[i].info.name);
    }
  }
  return CS_OK;
}

static cs_status read_entry(rule_ctx *ctx, const json_t *entry)
{
  const char *type = json_string_value(json_object_get(entry, "type"));
  cs_posture_rules *rules = ctx->rules;
  cs_status status;

  ctx->id = json_string_value(json_object_get(entry, "id"));
  ctx->name = json_string_value(json_object_get(entry, "name"));
  if (!json_is_object(entry)) {
    return rule_error(ctx, "must be a JSON object");
  }
  if (type == NULL) {
    return rule_error(ctx, "type missing or not a string");
  }
  if (strcmp(type, type_v2) != 0 && strcmp(type, type_v1) != 0) {
    rules->skipped++;
    return CS_OK;
  }

  status = read_rule(ctx, entry, type, &rules->rules[rules->count]);
  if (status == CS_OK) {
    status = check_duplicate_id(ctx, rules->count);
  }
  if (status == CS_OK) {
    rules->count++;
  }
  return status;
}

static cs_status read_rules(const char *path, const json_t *list,
                            const cs_verify_signers *signers,
                            cs_posture_rules *rules, cs_error *err)
{
  rule_ctx ctx = { path, 0, NULL, NULL, rules, signers, err };
  size_t i;
  const json_t *entry;

  rules->rules = cs_arena_alloc(&rules->arena, (json_array_size(list) + 1) *
                                                   sizeof(posture_rule));
  if (rules->rules == NULL) {
    return nomem(&ctx);
  }
  json_array_foreach(list, i, entry) {
    cs_status status;

    ctx.number = i + 1;
    status = read_entry(&ctx, entry);
    if (status != CS_OK) {
      return status;
    }
  }
  if (assign_signer_slots(rules) != CS_OK) {
    return nomem(&ctx);
  }
  return CS_OK;
}

static cs_status load_json(const char *path, json_t **out_root,
                           cs_error *err)
{
  json_error_t jerr;

  *out_root = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                             &jerr);
  if (*out_root != NULL) {
    return CS_OK;
  }
  if (jerr.line < 1) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: cannot read rules: %s",
                        path, jerr.text);
  }
  return cs_error_set(err, CS_ERR_CONFIG, "%s:%d:%d: not valid JSON: %s",
                      path, jerr.line, jerr.column, jerr.text);
}

cs_status cs_posture_rules_load(const char *path,
                                const cs_verify_signers *signers,
                                cs_posture_rules **out_rules, cs_error *err)
{
  json_t *root = NULL;
  json_t *list = NULL;
  cs_posture_rules *rules;
  cs_status status;

  *out_rules = NULL;
  rules = calloc(1, sizeof(*rules));
  if (rules == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", path);
  }
  cs_arena_init(&rules->arena, RULES_ARENA_CHUNK);

  status = load_json(path, &root, err);
  if (status == CS_OK) {
    status = rules_list(path, root, &list, err);
  }
  if (status == CS_OK) {
    status = read_rules(path, list, signers, rules, err);
  }
  json_decref(list);
  json_decref(root);
  if (status != CS_OK) {
    cs_posture_rules_free(rules);
    return status;
  }
  *out_rules = rules;
  return CS_OK;
}

void cs_posture_rules_free(cs_posture_rules *rules)
{
  if (rules == NULL) {
    return;
  }
  cs_arena_cleanup(&rules->arena);
  free(rules);
}

size_t cs_posture_rules_count(const cs_posture_rules *rules)
{
  return rules->count;
}

const cs_posture_rule_info *cs_posture_rules_info(
    const cs_posture_rules *rules, size_t index)
{
  if (index >= rules->count) {
    return NULL;
  }
  return &rules->rules[index].info;
}

size_t cs_posture_rules_skipped(const cs_posture_rules *rules)
{
  return rules->skipped;
}
