/*
 * cs_report.c - the aggregates: a report's life, the add calls the
 * scanner makes for every device, merging, and the counts read back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

const char *const cs_report__loc_names[CS_REPORT__LOC_COUNT] = {
  "system", "user", "path", "none"
};

const char *const cs_report__os_names[CS_REPORT__OS_COUNT] = {
  "windows", "mac", "linux", "other"
};

const char *const cs_report__verdict_names[CS_VERDICT_COUNT] = {
  "pass", "fail", "unknown", "not_applicable"
};

const char *const cs_report__reason_codes[CS_REASON_COUNT] = {
#define REASON_CODE(name, code, step) code,
  CS_REASON_LIST(REASON_CODE)
#undef REASON_CODE
};

const int cs_report__expiry_days[CS_REPORT_EXPIRY_WINDOWS] =
    CS_REPORT_EXPIRY_DAYS;

/* An empty report with room for `rule_count` rules; NULL: no memory. */
static cs_report *report_alloc(size_t rule_count)
{
  cs_report *report = calloc(1, sizeof(*report));

  if (report == NULL) {
    return NULL;
  }
  cs_report__map_init(&report->serials);
  cs_report__map_init(&report->certs);
  if (rule_count > 0) {
    report->rules = calloc(rule_count, sizeof(*report->rules));
    if (report->rules == NULL) {
      cs_report_free(report);
      return NULL;
    }
  }
  report->rule_count = rule_count;
  return report;
}

static void rule_cleanup(cs_report_rule *rule)
{
  free(rule->id);
  free(rule->name);
  free(rule->type);
  free(rule->operating_system);
  free(rule->certificate_id);
  free(rule->input_json);
}

void cs_report_free(cs_report *report)
{
  if (report == NULL) {
    return;
  }
  for (size_t i = 0; i < report->rule_count && report->rules != NULL;
       i++) {
    rule_cleanup(&report->rules[i]);
  }
  for (size_t i = 0; i < report->input_count; i++) {
    free(report->inputs[i].path);
    free(report->inputs[i].error);
  }
  for (size_t i = 0; i < report->bad_count; i++) {
    free(report->bad[i].device_id);
    free(report->bad[i].message);
  }
  for (size_t i = 0; i < report->option_count; i++) {
    for (size_t j = 0; j < report->options[i].value_count; j++) {
      free(report->options[i].values[j]);
    }
    free(report->options[i].values);
    free(report->options[i].name);
  }
  cs_report__map_cleanup(&report->serials);
  cs_report__map_cleanup(&report->certs);
  free(report->rules);
  free(report->inputs);
  free(report->bad);
  free(report->options);
  free(report->tool_version);
  free(report->devices_files);
  free(report);
}

/* The rule's input as compact JSON, so that every output agrees. */
static cs_status normalise_input(const cs_posture_rule_info *info,
                                 char **out, cs_error *err)
{
  json_error_t jerr;

  *out = NULL;
  if (info->input_json == NULL) {
    return CS_OK;
  }

  json_t *input = json_loads(info->input_json, JSON_DECODE_ANY, &jerr);

  if (input == NULL) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "rule %s: input is not JSON: %s", info->id,
                        jerr.text);
  }
  *out = json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(input);
  if (*out == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  return CS_OK;
}

static cs_status copy_rule(cs_report_rule *rule,
                           const cs_posture_rule_info *info, cs_error *err)
{
  if (info->id == NULL || info->id[0] == '\0') {
    return cs_error_set(err, CS_ERR_CONFIG, "a rule has no id");
  }

  cs_status status = normalise_input(info, &rule->input_json, err);

  if (status != CS_OK) {
    return status;
  }
  rule->id = cs_report__strdup(info->id);
  rule->name = cs_report__strdup(info->name != NULL ? info->name : "");
  rule->type = cs_report__strdup(info->type != NULL ? info->type : "");
  rule->operating_system = cs_report__strdup(info->operating_system);
  rule->certificate_id = cs_report__strdup(info->certificate_id);
  if (rule->id == NULL || rule->name == NULL || rule->type == NULL ||
      (info->operating_system != NULL && rule->operating_system == NULL) ||
      (info->certificate_id != NULL && rule->certificate_id == NULL)) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  return CS_OK;
}

cs_status cs_report_new(const cs_report_config *config,
                        cs_report **out_report, cs_error *err)
{
  *out_report = NULL;
  if (config->rule_count > 0 && config->rules == NULL) {
    return cs_error_set(err, CS_ERR_USAGE, "rules missing");
  }

  cs_report *report = report_alloc(config->rule_count);

  if (report == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  report->evaluated_at = config->evaluated_at;
  report->rules_skipped = config->rules_skipped;
  report->no_fleet_findings = config->no_fleet_findings;
  report->tool_version = cs_report__strdup(
      config->tool_version != NULL ? config->tool_version : "");
  if (report->tool_version == NULL) {
    cs_report_free(report);
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < config->rule_count; i++) {
    cs_status status = copy_rule(&report->rules[i], &config->rules[i], err);

    if (status != CS_OK) {
      cs_report_free(report);
      return status;
    }
  }
  *out_report = report;
  return CS_OK;
}

void cs_report_set_timing(cs_report *report, int64_t started_at,
                          double elapsed_seconds, unsigned threads)
{
  report->started_at = started_at;
  /* JSON has no NaN or infinity; a clock gone wrong records no time. */
  report->elapsed_seconds =
      isfinite(elapsed_seconds) && elapsed_seconds >= 0 ? elapsed_seconds
                                                        : 0;
  report->threads = threads;
}

void cs_report_set_profile(cs_report *report,
                           const cs_report_profile *profile)
{
  report->read_seconds =
      isfinite(profile->read_seconds) && profile->read_seconds >= 0
          ? profile->read_seconds
          : 0;
  report->peak_rss_bytes = profile->peak_rss_bytes;
}

static cs_report_option *find_option(cs_report *report, const char *name)
{
  for (size_t i = 0; i < report->option_count; i++) {
    if (strcmp(report->options[i].name, name) == 0) {
      return &report->options[i];
    }
  }
  return NULL;
}

static cs_report_option *new_option(cs_report *report, const char *name)
{
  size_t n = report->option_count + 1;
  cs_report_option *options = realloc(report->options, n * sizeof(*options));

  if (options == NULL) {
    return NULL;
  }
  report->options = options;

  cs_report_option *option = &options[report->option_count];

  option->name = cs_report__strdup(name);
  option->values = NULL;
  option->value_count = 0;
  if (option->name == NULL) {
    return NULL;
  }
  report->option_count = n;
  return option;
}

cs_status cs_report_set_devices_files(cs_report *report, const char *note,
                                      cs_error *err)
{
  char *copy = cs_report__strdup(note);

  if (copy == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  free(report->devices_files);
  report->devices_files = copy;
  return CS_OK;
}

cs_status cs_report_set_option(cs_report *report, const char *name,
                               const char *value, cs_error *err)
{
  if (name == NULL || name[0] == '\0') {
    return cs_error_set(err, CS_ERR_USAGE, "an option needs a name");
  }

  cs_report_option *option = find_option(report, name);

  if (option == NULL) {
    option = new_option(report, name);
  }

  char *copy = cs_report__strdup(value != NULL ? value : "");
  char **values = option == NULL || copy == NULL
                      ? NULL
                      : realloc(option->values, (option->value_count + 1) *
                                                    sizeof(*values));

  if (values == NULL) {
    free(copy);
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  option->values = values;
  values[option->value_count++] = copy;
  return CS_OK;
}

/* Takes ownership of the strings of `in`, freeing them on failure. */
cs_status cs_report__push_input(cs_report *report, const cs_report_input *in,
                                cs_error *err)
{
  if (report->input_count == report->input_cap) {
    size_t cap = report->input_cap == 0 ? 8 : report->input_cap * 2;
    cs_report_input *inputs = realloc(report->inputs, cap * sizeof(*inputs));

    if (inputs == NULL) {
      free(in->path);
      free(in->error);
      return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
    }
    report->inputs = inputs;
    report->input_cap = cap;
  }
  report->inputs[report->input_count++] = *in;
  return CS_OK;
}

/* Takes ownership as above; drops the record once the list is full. */
cs_status cs_report__push_bad(cs_report *report, const cs_report_bad *bad,
                              cs_error *err)
{
  if (report->bad_count == CS_REPORT_MALFORMED_KEEP) {
    free(bad->device_id);
    free(bad->message);
    return CS_OK;
  }
  if (report->bad == NULL) {
    report->bad = calloc(CS_REPORT_MALFORMED_KEEP, sizeof(*report->bad));
    if (report->bad == NULL) {
      free(bad->device_id);
      free(bad->message);
      return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
    }
  }
  report->bad[report->bad_count++] = *bad;
  return CS_OK;
}

cs_status cs_report_add_input(cs_report *report, const char *path,
                              size_t *out_input, cs_error *err)
{
  cs_report_input in = { 0 };

  in.path = cs_report__strdup(path != NULL ? path : "");
  if (in.path == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }

  cs_status status = cs_report__push_input(report, &in, err);

  if (status == CS_OK) {
    *out_input = report->input_count - 1;
  }
  return status;
}

static cs_status check_input(const cs_report *report, size_t input,
                             cs_error *err)
{
  if (input >= report->input_count) {
    return cs_error_set(err, CS_ERR_USAGE,
                        "input %zu out of range (%zu inputs)", input,
                        report->input_count);
  }
  return CS_OK;
}

cs_status cs_report_finish_input(cs_report *report, size_t input,
                                 uint64_t bytes, const char *error_text,
                                 cs_error *err)
{
  cs_status status = check_input(report, input, err);

  if (status != CS_OK) {
    return status;
  }

  cs_report_input *in = &report->inputs[input];
  char *copy = cs_report__strdup(error_text);

  if (error_text != NULL && copy == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  free(in->error);
  in->error = copy;
  in->bytes = bytes;
  return CS_OK;
}

cs_status cs_report_add_malformed(cs_report *report, size_t input,
                                  const cs_report_malformed *malformed,
                                  cs_error *err)
{
  cs_status status = check_input(report, input, err);

  if (status != CS_OK) {
    return status;
  }
  report->devices_malformed++;
  report->inputs[input].malformed++;
  if (report->bad_count == CS_REPORT_MALFORMED_KEEP) {
    return CS_OK;
  }

  cs_str id = malformed->device_id;
  cs_report_bad bad = { input, malformed->record_index, malformed->offset,
                        NULL, id.ptr != NULL ? id.len : 0, NULL };

  bad.device_id = malloc(bad.device_id_len + 1);
  bad.message = cs_report__strdup(
      malformed->message != NULL ? malformed->message : "");
  if (bad.device_id == NULL || bad.message == NULL) {
    free(bad.device_id);
    free(bad.message);
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  if (bad.device_id_len > 0) {
    memcpy(bad.device_id, id.ptr, bad.device_id_len);
  }
  bad.device_id[bad.device_id_len] = '\0';
  return cs_report__push_bad(report, &bad, err);
}

cs_status cs_report__check_rows(const cs_report *report,
                                const cs_device *device,
                                const cs_report_row *rows, cs_error *err)
{
  if (rows == NULL && report->rule_count > 0) {
    return cs_error_set(err, CS_ERR_USAGE, "no rows for the device");
  }
  if ((unsigned)device->os >= CS_REPORT__OS_COUNT) {
    return cs_error_set(err, CS_ERR_USAGE, "device os %d out of range",
                        (int)device->os);
  }
  for (size_t i = 0; i < report->rule_count; i++) {
    const cs_report_row *row = &rows[i];
    bool store_ok = row->result.cert_index < 0 ||
                    row->cert_store == CS_STORE_SYSTEM ||
                    row->cert_store == CS_STORE_USER ||
                    row->cert_store == CS_STORE_PATH;

    if ((unsigned)row->result.verdict >= CS_VERDICT_COUNT ||
        (unsigned)row->result.reason >= CS_REASON_COUNT || !store_ok) {
      return cs_error_set(err, CS_ERR_USAGE,
                          "rule %s: verdict, reason or store out of range",
                          report->rules[i].id);
    }
  }
  return CS_OK;
}

/* A certificate counts once per device, however many rules name it. */
static bool named_before(const cs_report_row *rows, size_t index)
{
  for (size_t j = 0; j < index; j++) {
    if (rows[j].has_cert &&
        memcmp(rows[j].cert_sha256, rows[index].cert_sha256, 32) == 0) {
      return true;
    }
  }
  return false;
}

static cs_status add_fleet(cs_report *report, const cs_device *device,
                           const cs_report_row *rows)
{
  cs_str serial = device->serial_number;
  cs_status status = CS_OK;

  if (serial.ptr == NULL || serial.len == 0) {
    report->missing_serials++;
  } else {
    status = cs_report__map_add(&report->serials,
                                (const uint8_t *)serial.ptr, serial.len, 1);
  }
  for (size_t i = 0; status == CS_OK && i < report->rule_count; i++) {
    if (rows[i].has_cert && !named_before(rows, i)) {
      status = cs_report__map_add(&report->certs, rows[i].cert_sha256, 32,
                                  1);
    }
  }
  return status;
}

int cs_report__location(const cs_report_row *row)
{
  if (row->result.cert_index < 0) {
    return CS_REPORT__LOC_NONE;
  }
  switch (row->cert_store) {
  case CS_STORE_SYSTEM:
    return CS_REPORT__LOC_SYSTEM;
  case CS_STORE_USER:
    return CS_REPORT__LOC_USER;
  default:
    return CS_REPORT__LOC_PATH;
  }
}

/* Whether the cert expires within `days` of `at`, without overflow. */
static bool expires_within(int64_t not_after, int64_t at, int days)
{
  if (not_after <= at) {
    return true;
  }
  return (uint64_t)not_after - (uint64_t)at <= (uint64_t)days * 86400u;
}

static void add_row(cs_report *report, cs_report_rule *rule, cs_os os,
                    const cs_report_row *row)
{
  cs_verdict verdict = row->result.verdict;

  rule->verdicts[verdict]++;
  rule->locations[cs_report__location(row)][verdict]++;
  rule->oses[os][verdict]++;
  if (verdict == CS_VERDICT_FAIL || verdict == CS_VERDICT_UNKNOWN) {
    rule->reasons[row->result.reason]++;
  }
  if (verdict != CS_VERDICT_PASS || !row->has_cert) {
    return;
  }
  for (int w = 0; w < CS_REPORT_EXPIRY_WINDOWS; w++) {
    if (expires_within(row->cert_not_after, report->evaluated_at,
                       cs_report__expiry_days[w])) {
      rule->expiring[w]++;
    }
  }
}

cs_status cs_report_add_device(cs_report *report, size_t input,
                               const cs_device *device,
                               const cs_report_row *rows,
                               const cs_posture_cert_counts *counts,
                               cs_error *err)
{
  cs_status status = check_input(report, input, err);

  if (status == CS_OK) {
    status = cs_report__check_rows(report, device, rows, err);
  }
  if (status != CS_OK) {
    return status;
  }
  if (!report->no_fleet_findings &&
      add_fleet(report, device, rows) != CS_OK) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < report->rule_count; i++) {
    add_row(report, &report->rules[i], device->os, &rows[i]);
  }
  report->devices_evaluated++;
  report->inputs[input].devices++;
  if (counts != NULL) {
    report->certs_read += counts->read;
    report->certs_malformed += counts->malformed;
    report->certs_signatures += counts->signatures;
  }
  return CS_OK;
}

static cs_status check_same_rules(const cs_report *into,
                                  const cs_report *from, cs_error *err)
{
  if (into->evaluated_at != from->evaluated_at) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "partials evaluated at different times (%lld and "
                        "%lld)",
                        (long long)into->evaluated_at,
                        (long long)from->evaluated_at);
  }
  if (into->rule_count != from->rule_count) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "partials have different rules (%zu and %zu)",
                        into->rule_count, from->rule_count);
  }
  for (size_t i = 0; i < into->rule_count; i++) {
    if (strcmp(into->rules[i].id, from->rules[i].id) != 0) {
      return cs_error_set(err, CS_ERR_CONFIG,
                          "partials have different rules: %s and %s",
                          into->rules[i].id, from->rules[i].id);
    }
  }
  return CS_OK;
}

static void add_counts(uint64_t *into, const uint64_t *from, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    into[i] += from[i];
  }
}

static void merge_rule(cs_report_rule *into, const cs_report_rule *from)
{
  add_counts(into->verdicts, from->verdicts, CS_VERDICT_COUNT);
  add_counts(into->reasons, from->reasons, CS_REASON_COUNT);
  add_counts(&into->locations[0][0], &from->locations[0][0],
             CS_REPORT__LOC_COUNT * CS_VERDICT_COUNT);
  add_counts(&into->oses[0][0], &from->oses[0][0],
             CS_REPORT__OS_COUNT * CS_VERDICT_COUNT);
  add_counts(into->expiring, from->expiring, CS_REPORT_EXPIRY_WINDOWS);
}

static cs_status merge_map(cs_report_map *into, const cs_report_map *from)
{
  for (size_t i = 0; i < from->cap; i++) {
    const cs_report_map_entry *entry = &from->slots[i];

    if (entry->count != 0 &&
        cs_report__map_add(into, entry->key, entry->len, entry->count) !=
            CS_OK) {
      return CS_ERR_NOMEM;
    }
  }
  return CS_OK;
}

static cs_status merge_inputs(cs_report *into, const cs_report *from,
                              cs_error *err)
{
  size_t base = into->input_count;
  cs_status status = CS_OK;

  for (size_t i = 0; status == CS_OK && i < from->input_count; i++) {
    cs_report_input in = from->inputs[i];

    in.path = cs_report__strdup(in.path);
    in.error = cs_report__strdup(in.error);
    if (in.path == NULL || (from->inputs[i].error != NULL &&
                            in.error == NULL)) {
      free(in.path);
      free(in.error);
      return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
    }
    status = cs_report__push_input(into, &in, err);
  }
  for (size_t i = 0; status == CS_OK && i < from->bad_count; i++) {
    cs_report_bad bad = from->bad[i];

    bad.input += base;
    bad.device_id = malloc(bad.device_id_len + 1);
    bad.message = cs_report__strdup(from->bad[i].message);
    if (bad.device_id == NULL || bad.message == NULL) {
      free(bad.device_id);
      free(bad.message);
      return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
    }
    memcpy(bad.device_id, from->bad[i].device_id, bad.device_id_len + 1);
    status = cs_report__push_bad(into, &bad, err);
  }
  return status;
}

static void merge_timing(cs_report *into, const cs_report *from)
{
  if (into->started_at == 0 ||
      (from->started_at != 0 && from->started_at < into->started_at)) {
    into->started_at = from->started_at;
  }
  into->elapsed_seconds += from->elapsed_seconds;
  into->read_seconds += from->read_seconds;
  if (from->threads > into->threads) {
    into->threads = from->threads;
  }
  if (from->peak_rss_bytes > into->peak_rss_bytes) {
    into->peak_rss_bytes = from->peak_rss_bytes;
  }
}

cs_status cs_report_merge(cs_report *into, const cs_report *from,
                          cs_error *err)
{
  if (into == from) {
    return cs_error_set(err, CS_ERR_USAGE,
                        "a report cannot be merged into itself");
  }

  cs_status status = check_same_rules(into, from, err);

  if (status != CS_OK) {
    return status;
  }
  /* Findings of only some shards would undercount: drop them all. */
  if (from->no_fleet_findings && !into->no_fleet_findings) {
    into->no_fleet_findings = true;
    cs_report__map_cleanup(&into->serials);
    cs_report__map_cleanup(&into->certs);
    cs_report__map_init(&into->serials);
    cs_report__map_init(&into->certs);
  }
  if (!into->no_fleet_findings &&
      (merge_map(&into->serials, &from->serials) != CS_OK ||
       merge_map(&into->certs, &from->certs) != CS_OK)) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  status = merge_inputs(into, from, err);
  if (status != CS_OK) {
    return status;
  }
  for (size_t i = 0; i < into->rule_count; i++) {
    merge_rule(&into->rules[i], &from->rules[i]);
  }
  into->devices_evaluated += from->devices_evaluated;
  into->devices_malformed += from->devices_malformed;
  into->certs_read += from->certs_read;
  into->certs_malformed += from->certs_malformed;
  into->certs_signatures += from->certs_signatures;
  into->missing_serials += from->missing_serials;
  merge_timing(into, from);
  return CS_OK;
}

void cs_report_get_totals(const cs_report *report,
                          cs_report_totals *out_totals)
{
  memset(out_totals, 0, sizeof(*out_totals));
  out_totals->devices_evaluated = report->devices_evaluated;
  out_totals->devices_malformed = report->devices_malformed;
  out_totals->devices_read =
      report->devices_evaluated + report->devices_malformed;
  out_totals->certs_read = report->certs_read;
  out_totals->certs_malformed = report->certs_malformed;
  out_totals->certs_signatures = report->certs_signatures;
  out_totals->inputs = report->input_count;
  for (size_t i = 0; i < report->input_count; i++) {
    out_totals->input_bytes += report->inputs[i].bytes;
    if (report->inputs[i].error != NULL) {
      out_totals->inputs_failed++;
    }
  }
}

size_t cs_report_rule_count(const cs_report *report)
{
  return report->rule_count;
}

uint64_t cs_report__applicable(const cs_report_rule *rule)
{
  return rule->verdicts[CS_VERDICT_PASS] + rule->verdicts[CS_VERDICT_FAIL] +
         rule->verdicts[CS_VERDICT_UNKNOWN];
}

bool cs_report__compliance(const cs_report_rule *rule, double *out)
{
  uint64_t applicable = cs_report__applicable(rule);

  if (applicable == 0) {
    return false;
  }
  *out = (double)rule->verdicts[CS_VERDICT_PASS] / (double)applicable;
  return true;
}

/* Divided last, so that 29 of 100 is exactly 29, not 28.999... */
static bool compliance_percent(const cs_report_rule *rule, double *out)
{
  uint64_t applicable = cs_report__applicable(rule);

  if (applicable == 0) {
    return false;
  }
  *out = (double)rule->verdicts[CS_VERDICT_PASS] * 100.0 /
         (double)applicable;
  return true;
}

cs_reason cs_report__top_reason(const cs_report_rule *rule)
{
  cs_reason top = CS_REASON_NONE;

  for (int r = CS_REASON_NONE + 1; r < CS_REASON_COUNT; r++) {
    if (rule->reasons[r] > rule->reasons[top] ||
        (top == CS_REASON_NONE && rule->reasons[r] > 0)) {
      top = (cs_reason)r;
    }
  }
  return top;
}

bool cs_report_get_rule_counts(const cs_report *report, size_t index,
                               cs_report_rule_counts *out_counts)
{
  if (index >= report->rule_count) {
    return false;
  }

  const cs_report_rule *rule = &report->rules[index];

  memcpy(out_counts->verdicts, rule->verdicts, sizeof(rule->verdicts));
  memcpy(out_counts->reasons, rule->reasons, sizeof(rule->reasons));
  memcpy(out_counts->expiring, rule->expiring, sizeof(rule->expiring));
  out_counts->applicable = cs_report__applicable(rule);
  return true;
}

void cs_report_get_fleet_counts(const cs_report *report,
                                cs_report_fleet_counts *out_counts)
{
  const cs_report_map_entry *top[CS_REPORT_TOP_MAX];
  uint64_t entries;
  size_t n;

  memset(out_counts, 0, sizeof(*out_counts));
  cs_report__map_top(&report->serials, cs_report__is_shared_serial, top, &n,
                     &out_counts->shared_serials,
                     &out_counts->shared_serial_devices);
  cs_report__map_top(&report->serials, cs_report__is_placeholder_entry, top,
                     &n, &entries, &out_counts->placeholder_devices);
  cs_report__map_top(&report->certs, cs_report__is_shared_cert, top, &n,
                     &out_counts->shared_certs,
                     &out_counts->shared_cert_devices);
  out_counts->missing_serial_devices = report->missing_serials;
}

bool cs_report_min_compliance(const cs_report *report, double *out_percent,
                              size_t *out_rule)
{
  bool found = false;
  double lowest = 0;
  size_t lowest_rule = 0;

  for (size_t i = 0; i < report->rule_count; i++) {
    double percent;

    if (compliance_percent(&report->rules[i], &percent) &&
        (!found || percent < lowest)) {
      found = true;
      lowest = percent;
      lowest_rule = i;
    }
  }
  if (found && out_percent != NULL) {
    *out_percent = lowest;
  }
  if (found && out_rule != NULL) {
    *out_rule = lowest_rule;
  }
  return found;
}
