/*
 * report_partial.c - a report saved as JSON lines, for `certscan merge`.
 *
 * Line 1 holds every count (the header); then one line per distinct
 * serial number and one per distinct named certificate, so that the
 * fleet findings of merged shards count devices across shards. The
 * header says how many of each follow, so a truncated file is refused.
 * Lines are parsed one at a time: loading never holds the whole file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define PARTIAL_FORMAT "certscan-partial"
#define PARTIAL_VERSION 1
#define PARTIAL_LINE_MAX ((size_t)64 << 20)

/* The years 0000 to 9999, as the time helpers promise. */
#define TIME_MIN (-62167219200LL)
#define TIME_MAX 253402300799LL

static json_t *counts_json(const uint64_t *counts, size_t n, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < n; i++) {
    cs_report__append(array, cs_report__count(counts[i]), ok);
  }
  return array;
}

static json_t *matrix_json(const uint64_t *counts, size_t rows, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < rows; i++) {
    cs_report__append(array,
                      counts_json(counts + i * CS_VERDICT_COUNT,
                                  CS_VERDICT_COUNT, ok),
                      ok);
  }
  return array;
}

static json_t *rule_json(const cs_report_rule *rule, bool *ok)
{
  json_t *obj = json_object();
  json_t *reasons = json_object();

  cs_report__put(obj, "id", cs_report__json_cstr(rule->id), ok);
  cs_report__put(obj, "name", cs_report__json_cstr(rule->name), ok);
  cs_report__put(obj, "type", cs_report__json_cstr(rule->type), ok);
  cs_report__put(obj, "operating_system",
                 cs_report__json_cstr(rule->operating_system), ok);
  cs_report__put(obj, "certificate_id",
                 cs_report__json_cstr(rule->certificate_id), ok);
  cs_report__put(obj, "input_json", cs_report__json_cstr(rule->input_json),
                 ok);
  cs_report__put(obj, "verdicts",
                 counts_json(rule->verdicts, CS_VERDICT_COUNT, ok), ok);
  for (int r = CS_REASON_NONE + 1; r < CS_REASON_COUNT; r++) {
    if (rule->reasons[r] > 0) {
      cs_report__put(reasons, cs_report__reason_codes[r],
                     cs_report__count(rule->reasons[r]), ok);
    }
  }
  cs_report__put(obj, "reasons", reasons, ok);
  cs_report__put(obj, "locations",
                 matrix_json(&rule->locations[0][0], CS_REPORT__LOC_COUNT,
                             ok),
                 ok);
  cs_report__put(obj, "oses",
                 matrix_json(&rule->oses[0][0], CS_REPORT__OS_COUNT, ok),
                 ok);
  cs_report__put(obj, "expiring",
                 counts_json(rule->expiring, CS_REPORT_EXPIRY_WINDOWS, ok),
                 ok);
  return obj;
}

static json_t *options_json(const cs_report *report, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < report->option_count; i++) {
    const cs_report_option *option = &report->options[i];
    json_t *obj = json_object();
    json_t *values = json_array();

    for (size_t j = 0; j < option->value_count; j++) {
      cs_report__append(values, cs_report__json_cstr(option->values[j]),
                        ok);
    }
    cs_report__put(obj, "name", cs_report__json_cstr(option->name), ok);
    cs_report__put(obj, "values", values, ok);
    cs_report__append(array, obj, ok);
  }
  return array;
}

static json_t *hex_json(const void *bytes, size_t len)
{
  char *text = malloc(len * 2 + 1);

  if (text == NULL) {
    return NULL;
  }
  cs_hex_encode(bytes, len, text);

  json_t *out = json_string(text);

  free(text);
  return out;
}

static json_t *bad_json(const cs_report *report, bool *ok)
{
  json_t *array = json_array();

  for (size_t i = 0; i < report->bad_count; i++) {
    const cs_report_bad *bad = &report->bad[i];
    json_t *obj = json_object();

    cs_report__put(obj, "input", cs_report__count(bad->input), ok);
    cs_report__put(obj, "record_index", cs_report__count(bad->record_index),
                   ok);
    cs_report__put(obj, "offset", cs_report__count(bad->offset), ok);
    cs_report__put(obj, "device_id_hex",
                   hex_json(bad->device_id, bad->device_id_len), ok);
    cs_report__put(obj, "message", cs_report__json_cstr(bad->message), ok);
    cs_report__append(array, obj, ok);
  }
  return array;
}

static void put_count(json_t *obj, const char *key, uint64_t value, bool *ok)
{
  cs_report__put(obj, key, cs_report__count(value), ok);
}

static json_t *header_json(const cs_report *report)
{
  bool ok = true;
  json_t *h = json_object();

  cs_report__put(h, "format", json_string(PARTIAL_FORMAT), &ok);
  cs_report__put(h, "version", json_integer(PARTIAL_VERSION), &ok);
  cs_report__put(h, "tool_version",
                 cs_report__json_cstr(report->tool_version), &ok);
  cs_report__put(h, "evaluated_at", json_integer(report->evaluated_at),
                 &ok);
  cs_report__put(h, "started_at", json_integer(report->started_at), &ok);
  cs_report__put(h, "elapsed_seconds", json_real(report->elapsed_seconds),
                 &ok);
  put_count(h, "threads", report->threads, &ok);
  cs_report__put(h, "read_seconds", json_real(report->read_seconds), &ok);
  put_count(h, "peak_rss_bytes", report->peak_rss_bytes, &ok);
  cs_report__put(h, "options", options_json(report, &ok), &ok);
  put_count(h, "rules_skipped", report->rules_skipped, &ok);
  cs_report__put(h, "fleet_findings",
                 json_boolean(!report->no_fleet_findings), &ok);
  put_count(h, "devices_evaluated", report->devices_evaluated, &ok);
  put_count(h, "devices_malformed", report->devices_malformed, &ok);
  put_count(h, "certs_read", report->certs_read, &ok);
  put_count(h, "certs_malformed", report->certs_malformed, &ok);
  put_count(h, "certs_signatures", report->certs_signatures, &ok);
  put_count(h, "missing_serials", report->missing_serials, &ok);

  json_t *rules = json_array();

  for (size_t i = 0; i < report->rule_count; i++) {
    cs_report__append(rules, rule_json(&report->rules[i], &ok), &ok);
  }
  cs_report__put(h, "rules", rules, &ok);
  cs_report__put(h, "inputs", cs_report__inputs_json(report, &ok), &ok);
  cs_report__put(h, "malformed", bad_json(report, &ok), &ok);
  put_count(h, "serials", report->serials.used, &ok);
  put_count(h, "certificates", report->certs.used, &ok);
  if (!ok) {
    json_decref(h);
    return NULL;
  }
  return h;
}

static void entry_line(cs_report_buf *line, const char *key,
                       const cs_report_map_entry *entry)
{
  static const char digits[] = "0123456789abcdef";

  cs_report__buf_printf(line, "{\"%s\":\"", key);
  for (size_t i = 0; i < entry->len; i++) {
    char pair[2] = { digits[entry->key[i] >> 4], digits[entry->key[i] & 15] };

    cs_report__buf_add(line, pair, 2);
  }
  cs_report__buf_printf(line, "\",\"devices\":%llu}\n",
                        (unsigned long long)entry->count);
}

static cs_status write_map(cs_report_file *file, const cs_report_map *map,
                           const char *key, cs_error *err)
{
  cs_report_buf line = { 0 };
  cs_status status = CS_OK;

  for (size_t i = 0; status == CS_OK && i < map->cap; i++) {
    if (map->slots[i].count == 0) {
      continue;
    }
    entry_line(&line, key, &map->slots[i]);
    if (line.len >= 65536 || line.failed) {
      status = line.failed
                   ? cs_error_set(err, CS_ERR_NOMEM, "out of memory")
                   : cs_report__file_write(file, line.ptr, line.len, err);
      line.len = 0;
    }
  }
  if (status == CS_OK && !line.failed) {
    status = cs_report__file_write(file, line.ptr, line.len, err);
  }
  if (status == CS_OK && line.failed) {
    status = cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  cs_report__buf_free(&line);
  return status;
}

cs_status cs_report_save_partial(const cs_report *report, const char *path,
                                 cs_error *err)
{
  json_t *header = header_json(report);
  char *text = header == NULL
                   ? NULL
                   : json_dumps(header, JSON_COMPACT | JSON_PRESERVE_ORDER);

  json_decref(header);
  if (text == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }

  cs_report_file file;
  cs_status status = cs_report__file_open(&file, NULL, path, err);

  if (status == CS_OK) {
    status = cs_report__file_write(&file, text, strlen(text), err);
  }
  if (status == CS_OK) {
    status = cs_report__file_write(&file, "\n", 1, err);
  }
  free(text);
  if (status == CS_OK) {
    status = write_map(&file, &report->serials, "serial", err);
  }
  if (status == CS_OK) {
    status = write_map(&file, &report->certs, "sha256", err);
  }
  if (status == CS_OK) {
    return cs_report__file_commit(&file, err);
  }
  cs_report__file_abort(&file);
  return status;
}

/* Reading ------------------------------------------------------------ */

typedef struct loader {
  const char *path;
  FILE *fp;
  cs_report_buf line;
  size_t line_no;
  cs_error *err;
} loader;

static cs_status bad_partial(loader *ld, const char *what)
{
  return cs_error_set(ld->err, CS_ERR_CONFIG, "partial %s line %zu: %s",
                      ld->path, ld->line_no, what);
}

/* CS_OK with a line, CS_OK with *eof at the end, or an error. */
static cs_status read_line(loader *ld, bool *eof)
{
  int c;

  ld->line.len = 0;
  ld->line_no++;
  *eof = false;
  while ((c = getc_unlocked(ld->fp)) != EOF && c != '\n') {
    if (ld->line.len >= PARTIAL_LINE_MAX) {
      return bad_partial(ld, "line longer than 64 MiB");
    }
    cs_report__buf_addc(&ld->line, (char)c);
  }
  if (ferror(ld->fp)) {
    return cs_error_set(ld->err, CS_ERR_READ, "partial %s: read error",
                        ld->path);
  }
  if (ld->line.failed) {
    return cs_error_set(ld->err, CS_ERR_NOMEM, "out of memory");
  }
  *eof = c == EOF && ld->line.len == 0;
  return CS_OK;
}

static cs_status parse_line(loader *ld, json_t **out)
{
  json_error_t jerr;
  bool eof;
  cs_status status = read_line(ld, &eof);

  *out = NULL;
  if (status != CS_OK) {
    return status;
  }
  if (eof) {
    return bad_partial(ld, "file ends early");
  }
  *out = json_loadb(ld->line.ptr, ld->line.len, JSON_REJECT_DUPLICATES,
                    &jerr);
  if (*out == NULL || !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return bad_partial(ld, "not a JSON object");
  }
  return CS_OK;
}

static bool get_u64(const json_t *obj, const char *key, uint64_t *out)
{
  json_t *value = json_object_get(obj, key);

  if (!json_is_integer(value) || json_integer_value(value) < 0) {
    return false;
  }
  *out = (uint64_t)json_integer_value(value);
  return true;
}

static bool get_time(const json_t *obj, const char *key, int64_t *out)
{
  json_t *value = json_object_get(obj, key);

  if (!json_is_integer(value) || json_integer_value(value) < TIME_MIN ||
      json_integer_value(value) > TIME_MAX) {
    return false;
  }
  *out = json_integer_value(value);
  return true;
}

/* A string member (NULL for JSON null when `nullable`). */
static bool get_str(const json_t *obj, const char *key, bool nullable,
                    const char **out)
{
  json_t *value = json_object_get(obj, key);

  *out = NULL;
  if (nullable && json_is_null(value)) {
    return true;
  }
  if (!json_is_string(value)) {
    return false;
  }
  *out = json_string_value(value);
  return strlen(*out) == json_string_length(value);
}

static bool get_counts(const json_t *array, uint64_t *out, size_t n)
{
  if (!json_is_array(array) || json_array_size(array) != n) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *value = json_array_get(array, i);

    if (!json_is_integer(value) || json_integer_value(value) < 0) {
      return false;
    }
    out[i] = (uint64_t)json_integer_value(value);
  }
  return true;
}

static bool get_matrix(const json_t *array, uint64_t *out, size_t rows)
{
  if (!json_is_array(array) || json_array_size(array) != rows) {
    return false;
  }
  for (size_t i = 0; i < rows; i++) {
    if (!get_counts(json_array_get(array, i), out + i * CS_VERDICT_COUNT,
                    CS_VERDICT_COUNT)) {
      return false;
    }
  }
  return true;
}

static bool get_reasons(const json_t *obj, uint64_t *out)
{
  const char *code;
  json_t *value;

  if (!json_is_object(obj)) {
    return false;
  }
  json_object_foreach((json_t *)obj, code, value)
  {
    int r = CS_REASON_NONE + 1;

    while (r < CS_REASON_COUNT &&
           strcmp(code, cs_report__reason_codes[r]) != 0) {
      r++;
    }
    if (r == CS_REASON_COUNT || !json_is_integer(value) ||
        json_integer_value(value) < 0) {
      return false;
    }
    out[r] = (uint64_t)json_integer_value(value);
  }
  return true;
}

static bool rule_info(const json_t *obj, cs_posture_rule_info *info)
{
  return json_is_object(obj) && get_str(obj, "id", false, &info->id) &&
         get_str(obj, "name", false, &info->name) &&
         get_str(obj, "type", false, &info->type) &&
         get_str(obj, "operating_system", true,
                 &info->operating_system) &&
         get_str(obj, "certificate_id", true, &info->certificate_id) &&
         get_str(obj, "input_json", true, &info->input_json);
}

static bool rule_counts(const json_t *obj, cs_report_rule *rule)
{
  return get_counts(json_object_get(obj, "verdicts"), rule->verdicts,
                    CS_VERDICT_COUNT) &&
         get_reasons(json_object_get(obj, "reasons"), rule->reasons) &&
         get_matrix(json_object_get(obj, "locations"),
                    &rule->locations[0][0], CS_REPORT__LOC_COUNT) &&
         get_matrix(json_object_get(obj, "oses"), &rule->oses[0][0],
                    CS_REPORT__OS_COUNT) &&
         get_counts(json_object_get(obj, "expiring"), rule->expiring,
                    CS_REPORT_EXPIRY_WINDOWS);
}

/* Makes the report from the header's rules, through cs_report_new. */
static cs_status new_from_header(loader *ld, const json_t *h,
                                 cs_report **out)
{
  const json_t *rules = json_object_get(h, "rules");
  cs_report_config config = { 0 };
  uint64_t skipped;

  if (!get_str(h, "tool_version", false, &config.tool_version) ||
      !get_time(h, "evaluated_at", &config.evaluated_at) ||
      !get_u64(h, "rules_skipped", &skipped) || !json_is_array(rules)) {
    return bad_partial(ld, "run metadata missing or wrong");
  }
  config.rule_count = json_array_size(rules);
  config.rules_skipped = (size_t)skipped;

  const json_t *findings = json_object_get(h, "fleet_findings");

  if (!json_is_boolean(findings)) {
    return bad_partial(ld, "fleet_findings missing or not a boolean");
  }
  config.no_fleet_findings = json_is_false(findings);

  cs_posture_rule_info *infos =
      calloc(config.rule_count + 1, sizeof(*infos));

  if (infos == NULL) {
    return cs_error_set(ld->err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < config.rule_count; i++) {
    if (!rule_info(json_array_get(rules, i), &infos[i])) {
      free(infos);
      return bad_partial(ld, "a rule lacks id, name, type or input_json");
    }
  }
  config.rules = infos;

  cs_status status = cs_report_new(&config, out, ld->err);

  free(infos);
  if (status == CS_ERR_CONFIG) {
    char why[CS_ERROR_MESSAGE_MAX];

    snprintf(why, sizeof(why), "%s", ld->err->message);
    return bad_partial(ld, why);
  }
  return status;
}

static cs_status load_options(loader *ld, const json_t *h, cs_report *report)
{
  const json_t *options = json_object_get(h, "options");
  cs_status status = CS_OK;

  if (!json_is_array(options)) {
    return bad_partial(ld, "options missing");
  }
  for (size_t i = 0; status == CS_OK && i < json_array_size(options); i++) {
    json_t *option = json_array_get(options, i);
    json_t *values = json_object_get(option, "values");
    const char *name;

    if (!get_str(option, "name", false, &name) || !json_is_array(values)) {
      return bad_partial(ld, "an option lacks name or values");
    }
    for (size_t j = 0; status == CS_OK && j < json_array_size(values); j++) {
      json_t *value = json_array_get(values, j);

      if (!json_is_string(value)) {
        return bad_partial(ld, "an option value is not a string");
      }
      status = cs_report_set_option(report, name, json_string_value(value),
                                    ld->err);
    }
  }
  return status;
}

static cs_status load_inputs(loader *ld, const json_t *h, cs_report *report)
{
  const json_t *inputs = json_object_get(h, "inputs");

  if (!json_is_array(inputs)) {
    return bad_partial(ld, "inputs missing");
  }
  for (size_t i = 0; i < json_array_size(inputs); i++) {
    json_t *obj = json_array_get(inputs, i);
    const char *path, *error;
    cs_report_input in = { 0 };

    if (!get_str(obj, "path", false, &path) ||
        !get_str(obj, "error", true, &error) ||
        !get_u64(obj, "bytes", &in.bytes) ||
        !get_u64(obj, "devices", &in.devices) ||
        !get_u64(obj, "malformed", &in.malformed)) {
      return bad_partial(ld, "an input lacks path, bytes, devices, "
                             "malformed or error");
    }
    in.path = cs_report__strdup(path);
    in.error = cs_report__strdup(error);
    if (in.path == NULL || (error != NULL && in.error == NULL)) {
      free(in.path);
      free(in.error);
      return cs_error_set(ld->err, CS_ERR_NOMEM, "out of memory");
    }

    cs_status status = cs_report__push_input(report, &in, ld->err);

    if (status != CS_OK) {
      return status;
    }
  }
  return CS_OK;
}

static bool hex_value(char c, uint8_t *out)
{
  if (c >= '0' && c <= '9') {
    *out = (uint8_t)(c - '0');
  } else if (c >= 'a' && c <= 'f') {
    *out = (uint8_t)(c - 'a' + 10);
  } else {
    return false;
  }
  return true;
}

/* Lower-case hex into a malloc'd buffer (NUL added); false if not hex. */
static bool hex_decode(const char *text, uint8_t **out, size_t *out_len)
{
  size_t len = strlen(text);

  *out = NULL;
  if (len % 2 != 0) {
    return false;
  }
  *out = malloc(len / 2 + 1);
  if (*out == NULL) {
    return false;
  }
  for (size_t i = 0; i < len / 2; i++) {
    uint8_t hi, lo;

    if (!hex_value(text[2 * i], &hi) || !hex_value(text[2 * i + 1], &lo)) {
      free(*out);
      *out = NULL;
      return false;
    }
    (*out)[i] = (uint8_t)(hi << 4 | lo);
  }
  (*out)[len / 2] = 0;
  *out_len = len / 2;
  return true;
}

static cs_status load_one_bad(loader *ld, const json_t *obj,
                              cs_report *report)
{
  uint64_t input;
  const char *id_hex, *message;
  cs_report_bad bad = { 0 };

  if (!get_u64(obj, "input", &input) ||
      !get_u64(obj, "record_index", &bad.record_index) ||
      !get_u64(obj, "offset", &bad.offset) ||
      !get_str(obj, "device_id_hex", false, &id_hex) ||
      !get_str(obj, "message", false, &message) ||
      input >= report->input_count) {
    return bad_partial(ld, "a malformed record is incomplete");
  }
  bad.input = (size_t)input;
  if (!hex_decode(id_hex, (uint8_t **)&bad.device_id, &bad.device_id_len)) {
    return bad_partial(ld, "a malformed record's device_id is not hex");
  }
  bad.message = cs_report__strdup(message);
  if (bad.message == NULL) {
    free(bad.device_id);
    return cs_error_set(ld->err, CS_ERR_NOMEM, "out of memory");
  }
  return cs_report__push_bad(report, &bad, ld->err);
}

static cs_status load_bad(loader *ld, const json_t *h, cs_report *report)
{
  const json_t *list = json_object_get(h, "malformed");
  cs_status status = CS_OK;

  if (!json_is_array(list) ||
      json_array_size(list) > CS_REPORT_MALFORMED_KEEP) {
    return bad_partial(ld, "malformed list missing or too long");
  }
  for (size_t i = 0; status == CS_OK && i < json_array_size(list); i++) {
    status = load_one_bad(ld, json_array_get(list, i), report);
  }
  return status;
}

static cs_status load_totals(loader *ld, const json_t *h, cs_report *report)
{
  const json_t *rules = json_object_get(h, "rules");
  uint64_t threads;
  json_t *elapsed = json_object_get(h, "elapsed_seconds");
  json_t *read = json_object_get(h, "read_seconds");

  if (!get_time(h, "started_at", &report->started_at) ||
      !json_is_number(elapsed) || json_number_value(elapsed) < 0 ||
      !json_is_number(read) || json_number_value(read) < 0 ||
      !get_u64(h, "peak_rss_bytes", &report->peak_rss_bytes) ||
      !get_u64(h, "certs_signatures", &report->certs_signatures) ||
      !get_u64(h, "threads", &threads) || threads > UINT32_MAX ||
      !get_u64(h, "devices_evaluated", &report->devices_evaluated) ||
      !get_u64(h, "devices_malformed", &report->devices_malformed) ||
      !get_u64(h, "certs_read", &report->certs_read) ||
      !get_u64(h, "certs_malformed", &report->certs_malformed) ||
      !get_u64(h, "missing_serials", &report->missing_serials)) {
    return bad_partial(ld, "totals missing or wrong");
  }
  report->elapsed_seconds = json_number_value(elapsed);
  report->read_seconds = json_number_value(read);
  report->threads = (unsigned)threads;
  for (size_t i = 0; i < report->rule_count; i++) {
    if (!rule_counts(json_array_get(rules, i), &report->rules[i])) {
      return bad_partial(ld, "a rule's counts are missing or wrong");
    }
  }
  return CS_OK;
}

static bool add_checked(uint64_t *sum, uint64_t value)
{
  return !__builtin_add_overflow(*sum, value, sum);
}

static bool sum_is(const uint64_t *values, size_t n, size_t stride,
                   uint64_t want)
{
  uint64_t sum = 0;

  for (size_t i = 0; i < n; i++) {
    if (!add_checked(&sum, values[i * stride])) {
      return false;
    }
  }
  return sum == want;
}

/* Each rule's verdicts, splits and inputs add up to the device totals. */
static bool rules_add_up(const cs_report *report)
{
  for (size_t i = 0; i < report->rule_count; i++) {
    const cs_report_rule *rule = &report->rules[i];

    if (!sum_is(rule->verdicts, CS_VERDICT_COUNT, 1,
                report->devices_evaluated)) {
      return false;
    }
    for (int v = 0; v < CS_VERDICT_COUNT; v++) {
      if (!sum_is(&rule->locations[0][v], CS_REPORT__LOC_COUNT,
                  CS_VERDICT_COUNT, rule->verdicts[v]) ||
          !sum_is(&rule->oses[0][v], CS_REPORT__OS_COUNT, CS_VERDICT_COUNT,
                  rule->verdicts[v])) {
        return false;
      }
    }
    for (int w = 0; w < CS_REPORT_EXPIRY_WINDOWS; w++) {
      uint64_t next = w + 1 < CS_REPORT_EXPIRY_WINDOWS
                          ? rule->expiring[w + 1]
                          : rule->verdicts[CS_VERDICT_PASS];

      if (rule->expiring[w] > next) {
        return false;
      }
    }
  }
  return true;
}

static bool inputs_add_up(const cs_report *report)
{
  uint64_t devices = 0;
  uint64_t malformed = 0;

  for (size_t i = 0; i < report->input_count; i++) {
    if (!add_checked(&devices, report->inputs[i].devices) ||
        !add_checked(&malformed, report->inputs[i].malformed)) {
      return false;
    }
  }
  return devices == report->devices_evaluated &&
         malformed == report->devices_malformed &&
         report->bad_count <= report->devices_malformed;
}

static cs_status load_header(loader *ld, cs_report **out,
                             uint64_t *out_serials, uint64_t *out_certs)
{
  json_t *h;
  const char *format;
  uint64_t version;
  cs_status status = parse_line(ld, &h);

  if (status != CS_OK) {
    return status;
  }
  if (!get_str(h, "format", false, &format) ||
      strcmp(format, PARTIAL_FORMAT) != 0 ||
      !get_u64(h, "version", &version) || version != PARTIAL_VERSION ||
      !get_u64(h, "serials", out_serials) ||
      !get_u64(h, "certificates", out_certs)) {
    json_decref(h);
    return bad_partial(ld, "not a certscan partial of version 1");
  }
  status = new_from_header(ld, h, out);
  if (status == CS_OK) {
    status = load_options(ld, h, *out);
  }
  if (status == CS_OK) {
    status = load_inputs(ld, h, *out);
  }
  if (status == CS_OK) {
    status = load_bad(ld, h, *out);
  }
  if (status == CS_OK) {
    status = load_totals(ld, h, *out);
  }
  if (status == CS_OK && (!rules_add_up(*out) || !inputs_add_up(*out))) {
    status = bad_partial(ld, "counts do not add up");
  }
  json_decref(h);
  return status;
}

/* One fleet map line: {"<key>": "<hex>", "devices": n}. */
static cs_status load_entry(loader *ld, const char *key, size_t want_len,
                            cs_report_map *map, uint64_t *sum)
{
  json_t *obj;
  const char *hex;
  uint64_t devices;
  uint8_t *bytes;
  size_t len;
  cs_status status = parse_line(ld, &obj);

  if (status != CS_OK) {
    return status;
  }
  if (json_object_size(obj) != 2 || !get_str(obj, key, false, &hex) ||
      !get_u64(obj, "devices", &devices) || devices == 0 ||
      !hex_decode(hex, &bytes, &len)) {
    json_decref(obj);
    return bad_partial(ld, strcmp(key, "serial") == 0
                               ? "not a serial line"
                               : "not a certificate line");
  }
  json_decref(obj);
  if ((want_len != 0 && len != want_len) || len == 0 ||
      !add_checked(sum, devices)) {
    free(bytes);
    return bad_partial(ld, "wrong key length or device count");
  }
  status = cs_report__map_add(map, bytes, len, devices);
  free(bytes);
  if (status != CS_OK) {
    return cs_error_set(ld->err, CS_ERR_NOMEM, "out of memory");
  }
  return CS_OK;
}

static cs_status load_maps(loader *ld, cs_report *report, uint64_t serials,
                           uint64_t certs)
{
  uint64_t serial_devices = report->missing_serials;
  uint64_t cert_devices = 0;
  cs_status status = CS_OK;

  if (report->no_fleet_findings && (serials != 0 || certs != 0)) {
    return bad_partial(ld, "fleet maps in a run without fleet findings");
  }

  for (uint64_t i = 0; status == CS_OK && i < serials; i++) {
    status = load_entry(ld, "serial", 0, &report->serials, &serial_devices);
  }
  for (uint64_t i = 0; status == CS_OK && i < certs; i++) {
    status = load_entry(ld, "sha256", 32, &report->certs, &cert_devices);
  }
  if (status != CS_OK) {
    return status;
  }
  if (report->serials.used != serials || report->certs.used != certs) {
    return bad_partial(ld, "a serial or certificate is listed twice");
  }
  /* Without findings no serial is counted, so there is nothing to add. */
  if (!report->no_fleet_findings &&
      serial_devices != report->devices_evaluated) {
    return bad_partial(ld, "serial counts do not add up to the devices");
  }
  return CS_OK;
}

cs_status cs_report_load_partial(const char *path, cs_report **out_report,
                                 cs_error *err)
{
  loader ld = { path, NULL, { 0 }, 0, err };
  cs_report *report = NULL;
  uint64_t serials = 0, certs = 0;
  bool eof = false;

  *out_report = NULL;
  ld.fp = fopen(path, "rb");
  if (ld.fp == NULL) {
    return cs_error_set(err, CS_ERR_OPEN, "cannot open partial %s: %s",
                        path, strerror(errno));
  }

  cs_status status = load_header(&ld, &report, &serials, &certs);

  if (status == CS_OK) {
    status = load_maps(&ld, report, serials, certs);
  }
  if (status == CS_OK) {
    status = read_line(&ld, &eof);
  }
  if (status == CS_OK && !eof) {
    status = bad_partial(&ld, "more lines than the header lists");
  }
  fclose(ld.fp);
  cs_report__buf_free(&ld.line);
  if (status != CS_OK) {
    cs_report_free(report);
    return status;
  }
  *out_report = report;
  return CS_OK;
}
