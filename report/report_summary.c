/*
 * report_summary.c - summary.json: run metadata, inputs, totals, the
 * per-rule counts with their splits and forecast, and fleet findings.
 *
 * Keys are added in a fixed order and jansson keeps that order, so two
 * reports with equal counts give byte-identical files (the property
 * that `certscan merge` is checked against).
 */
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static const char *const expiry_keys[CS_REPORT_EXPIRY_WINDOWS] = {
  "within_7_days", "within_30_days", "within_90_days"
};

/* Sets `key`; a NULL value (an allocation that failed) clears *ok. */
void cs_report__put(json_t *obj, const char *key, json_t *value, bool *ok)
{
  if (obj == NULL) {
    json_decref(value);
    *ok = false;
    return;
  }
  if (json_object_set_new(obj, key, value) != 0) {
    *ok = false;
  }
}

void cs_report__append(json_t *array, json_t *value, bool *ok)
{
  if (array == NULL) {
    json_decref(value);
    *ok = false;
    return;
  }
  if (json_array_append_new(array, value) != 0) {
    *ok = false;
  }
}

json_t *cs_report__count(uint64_t value)
{
  return json_integer(value > INT64_MAX ? INT64_MAX : (json_int_t)value);
}

static json_t *time_text(int64_t t)
{
  char text[CS_TIME_TEXT_MAX];

  return json_string(cs_time_format(t, text));
}

static json_t *option_json(const cs_report_option *option, bool *ok)
{
  if (option->value_count == 1) {
    return cs_report__json_cstr(option->values[0]);
  }

  json_t *array = json_array();

  for (size_t i = 0; i < option->value_count; i++) {
    cs_report__append(array, cs_report__json_cstr(option->values[i]), ok);
  }
  return array;
}

static json_t *options_json(const cs_report *report, bool *ok)
{
  json_t *obj = json_object();

  for (size_t i = 0; i < report->option_count; i++) {
    cs_report__put(obj, report->options[i].name,
                   option_json(&report->options[i], ok), ok);
  }
  return obj;
}

static json_t *run_json(const cs_report *report, bool *ok)
{
  json_t *run = json_object();

  cs_report__put(run, "started_at",
                 report->started_at != 0 ? time_text(report->started_at)
                                         : json_null(),
                 ok);
  cs_report__put(run, "elapsed_seconds", json_real(report->elapsed_seconds),
                 ok);
  cs_report__put(run, "threads", json_integer(report->threads), ok);
  cs_report__put(run, "read_seconds", json_real(report->read_seconds), ok);
  cs_report__put(run, "peak_rss_bytes",
                 cs_report__count(report->peak_rss_bytes), ok);
  cs_report__put(run, "devices_files",
                 cs_report__json_cstr(report->devices_files), ok);
  cs_report__put(run, "options", options_json(report, ok), ok);
  return run;
}

/* The inputs as the summary and partial files list them. */
json_t *cs_report__inputs_json(const cs_report *report, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < report->input_count; i++) {
    const cs_report_input *in = &report->inputs[i];
    json_t *obj = json_object();

    cs_report__put(obj, "path", cs_report__json_cstr(in->path), ok);
    cs_report__put(obj, "bytes", cs_report__count(in->bytes), ok);
    cs_report__put(obj, "devices", cs_report__count(in->devices), ok);
    cs_report__put(obj, "malformed", cs_report__count(in->malformed), ok);
    cs_report__put(obj, "error", cs_report__json_cstr(in->error), ok);
    cs_report__append(array, obj, ok);
  }
  return array;
}

static json_t *totals_json(const cs_report *report, bool devices, bool *ok)
{
  json_t *obj = json_object();

  if (devices) {
    cs_report__put(obj, "read",
                   cs_report__count(report->devices_evaluated +
                                    report->devices_malformed),
                   ok);
    cs_report__put(obj, "evaluated",
                   cs_report__count(report->devices_evaluated), ok);
    cs_report__put(obj, "malformed",
                   cs_report__count(report->devices_malformed), ok);
  } else {
    cs_report__put(obj, "read", cs_report__count(report->certs_read), ok);
    cs_report__put(obj, "malformed", cs_report__count(report->certs_malformed),
                   ok);
    cs_report__put(obj, "signatures_checked",
                   cs_report__count(report->certs_signatures), ok);
  }
  return obj;
}

static json_t *bad_json(const cs_report *report, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < report->bad_count; i++) {
    const cs_report_bad *bad = &report->bad[i];
    cs_str id = { bad->device_id, bad->device_id_len };
    json_t *obj = json_object();

    cs_report__put(obj, "file",
                   cs_report__json_cstr(report->inputs[bad->input].path), ok);
    cs_report__put(obj, "record_index", cs_report__count(bad->record_index),
                   ok);
    cs_report__put(obj, "offset", cs_report__count(bad->offset), ok);
    cs_report__put(obj, "device_id", cs_report__json_str(id), ok);
    cs_report__put(obj, "message", cs_report__json_cstr(bad->message), ok);
    cs_report__append(array, obj, ok);
  }
  return array;
}

static json_t *per_second(uint64_t amount, double scale, double seconds)
{
  if (seconds <= 0) {
    return json_null();
  }
  return json_real((double)amount / scale / seconds);
}

static json_t *throughput_json(const cs_report *report, bool *ok)
{
  cs_report_totals totals;
  json_t *obj = json_object();
  double s = report->elapsed_seconds;

  cs_report_get_totals(report, &totals);
  cs_report__put(obj, "devices_per_second",
                 per_second(totals.devices_read, 1, s), ok);
  cs_report__put(obj, "certificates_per_second",
                 per_second(totals.certs_read, 1, s), ok);
  cs_report__put(obj, "signatures_per_second",
                 per_second(totals.certs_signatures, 1, s), ok);
  cs_report__put(obj, "megabytes_per_second",
                 per_second(totals.input_bytes, 1e6, s), ok);
  return obj;
}

static json_t *verdicts_json(const uint64_t *verdicts, bool *ok)
{
  json_t *obj = json_object();

  for (int v = 0; v < CS_VERDICT_COUNT; v++) {
    cs_report__put(obj, cs_report__verdict_names[v],
                   cs_report__count(verdicts[v]), ok);
  }
  return obj;
}

static json_t *reasons_json(const cs_report_rule *rule, bool *ok)
{
  json_t *obj = json_object();

  for (int r = CS_REASON_NONE + 1; r < CS_REASON_COUNT; r++) {
    if (rule->reasons[r] > 0) {
      cs_report__put(obj, cs_report__reason_codes[r],
                     cs_report__count(rule->reasons[r]), ok);
    }
  }
  return obj;
}

static json_t *splits_json(const cs_report_rule *rule, bool by_os, bool *ok)
{
  json_t *obj = json_object();
  int n = by_os ? CS_REPORT__OS_COUNT : CS_REPORT__LOC_COUNT;

  for (int i = 0; i < n; i++) {
    if (by_os) {
      cs_report__put(obj, cs_report__os_names[i],
                     verdicts_json(rule->oses[i], ok), ok);
    } else {
      cs_report__put(obj, cs_report__loc_names[i],
                     verdicts_json(rule->locations[i], ok), ok);
    }
  }
  return obj;
}

static json_t *expiring_json(const cs_report_rule *rule, bool *ok)
{
  json_t *obj = json_object();

  for (int w = 0; w < CS_REPORT_EXPIRY_WINDOWS; w++) {
    cs_report__put(obj, expiry_keys[w], cs_report__count(rule->expiring[w]),
                   ok);
  }
  return obj;
}

static json_t *rule_json(const cs_report_rule *rule, bool *ok)
{
  json_t *obj = json_object();
  double compliance;

  cs_report__put(obj, "id", cs_report__json_cstr(rule->id), ok);
  cs_report__put(obj, "name", cs_report__json_cstr(rule->name), ok);
  cs_report__put(obj, "type", cs_report__json_cstr(rule->type), ok);
  cs_report__put(obj, "operating_system",
                 cs_report__json_cstr(rule->operating_system), ok);
  cs_report__put(obj, "applicable",
                 cs_report__count(cs_report__applicable(rule)), ok);
  for (int v = 0; v < CS_VERDICT_COUNT; v++) {
    cs_report__put(obj, cs_report__verdict_names[v],
                   cs_report__count(rule->verdicts[v]), ok);
  }
  cs_report__put(obj, "compliance",
                 cs_report__compliance(rule, &compliance)
                     ? json_real(compliance)
                     : json_null(),
                 ok);
  cs_report__put(obj, "reasons", reasons_json(rule, ok), ok);
  cs_report__put(obj, "locations", splits_json(rule, false, ok), ok);
  cs_report__put(obj, "os", splits_json(rule, true, ok), ok);
  cs_report__put(obj, "expiring", expiring_json(rule, ok), ok);
  return obj;
}

static json_t *rules_json(const cs_report *report, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < report->rule_count; i++) {
    cs_report__append(array, rule_json(&report->rules[i], ok), ok);
  }
  return array;
}

static json_t *entry_key(const cs_report_map_entry *entry, bool hex)
{
  char text[65];
  cs_str s = { (const char *)entry->key, entry->len };

  if (!hex || entry->len != 32) {
    return cs_report__json_str(s);
  }
  cs_hex_encode(entry->key, 32, text);
  return json_string(text);
}

/* One finding: how many values, how many devices, the top values. */
static json_t *finding_json(const cs_report_map *map,
                            cs_report_map_filter filter,
                            const char *count_key, const char *value_key,
                            bool *ok)
{
  const cs_report_map_entry *top[CS_REPORT_TOP_MAX];
  uint64_t entries, devices;
  size_t n;
  bool hex = strcmp(value_key, "sha256") == 0;
  json_t *obj = json_object();
  json_t *list = json_array();

  cs_report__map_top(map, filter, top, &n, &entries, &devices);
  cs_report__put(obj, count_key, cs_report__count(entries), ok);
  cs_report__put(obj, "devices", cs_report__count(devices), ok);
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_object();

    cs_report__put(item, value_key, entry_key(top[i], hex), ok);
    cs_report__put(item, "devices", cs_report__count(top[i]->count), ok);
    cs_report__append(list, item, ok);
  }
  cs_report__put(obj, "top", list, ok);
  return obj;
}

static json_t *fleet_json(const cs_report *report, bool *ok)
{
  json_t *obj = json_object();

  cs_report__put(obj, "shared_serials",
                 finding_json(&report->serials, cs_report__is_shared_serial,
                              "serials", "serial", ok),
                 ok);
  cs_report__put(obj, "shared_certificates",
                 finding_json(&report->certs, cs_report__is_shared_cert,
                              "certificates", "sha256", ok),
                 ok);
  cs_report__put(obj, "placeholder_serials",
                 finding_json(&report->serials,
                              cs_report__is_placeholder_entry, "serials",
                              "serial", ok),
                 ok);
  cs_report__put(obj, "missing_serials",
                 cs_report__count(report->missing_serials), ok);
  return obj;
}

/* The summary document; NULL when memory runs out. */
static json_t *summary_json(const cs_report *report)
{
  bool ok = true;
  json_t *root = json_object();

  cs_report__put(root, "tool", json_string("certscan"), &ok);
  cs_report__put(root, "version", cs_report__json_cstr(report->tool_version),
                 &ok);
  cs_report__put(root, "evaluated_at", time_text(report->evaluated_at), &ok);
  cs_report__put(root, "run", run_json(report, &ok), &ok);
  cs_report__put(root, "inputs", cs_report__inputs_json(report, &ok), &ok);
  cs_report__put(root, "devices", totals_json(report, true, &ok), &ok);
  cs_report__put(root, "certificates", totals_json(report, false, &ok), &ok);
  cs_report__put(root, "malformed_records", bad_json(report, &ok), &ok);
  cs_report__put(root, "throughput", throughput_json(report, &ok), &ok);
  cs_report__put(root, "rules_skipped",
                 cs_report__count(report->rules_skipped), &ok);
  cs_report__put(root, "rules", rules_json(report, &ok), &ok);
  cs_report__put(root, "fleet",
                 report->no_fleet_findings ? json_null()
                                           : fleet_json(report, &ok),
                 &ok);
  if (!ok) {
    json_decref(root);
    return NULL;
  }
  return root;
}

cs_status cs_report_write_summary(const cs_report *report, const char *dir,
                                  cs_error *err)
{
  json_t *root = summary_json(report);
  char *text = root == NULL ? NULL
                            : json_dumps(root, JSON_INDENT(2) |
                                                   JSON_PRESERVE_ORDER |
                                                   JSON_REAL_PRECISION(10));

  json_decref(root);
  if (text == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }

  cs_report_file file;
  cs_status status = cs_report__file_open(&file, dir, "summary.json", err);

  if (status == CS_OK) {
    status = cs_report__file_write(&file, text, strlen(text), err);
  }
  if (status == CS_OK) {
    status = cs_report__file_write(&file, "\n", 1, err);
  }
  free(text);
  if (status == CS_OK) {
    return cs_report__file_commit(&file, err);
  }
  cs_report__file_abort(&file);
  return status;
}
