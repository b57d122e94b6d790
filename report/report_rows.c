/*
 * report_rows.c - the per-device files: devices.csv and posture.ndjson,
 * one line per (device, applicable rule), streamed in the order the
 * devices are added.
 *
 * Lines are built by hand rather than through jansson: these files
 * grow with the fleet, and one object per line would cost more than
 * the escaping does.
 */
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

static const char csv_header[] =
    "device_id,hostname,serial_number,os,rule_id,rule_name,verdict,reason,"
    "detail,cert_sha256,not_after,store,path\r\n";

/*
 * `device` holds the columns of the current device, escaped once and
 * copied into each of its lines.
 */
struct cs_report_csv {
  const cs_report *report;
  cs_report_file file;
  cs_report_buf device;
  cs_report_buf line;
  bool broken; /* an add failed: the file would miss a device */
};

struct cs_report_ndjson {
  const cs_report *report;
  cs_report_file file;
  cs_report_buf device;
  cs_report_buf line;
  bool broken;
  char timestamp[CS_TIME_TEXT_MAX + 2]; /* as written after the key */
};

static cs_str cstr(const char *text)
{
  cs_str s = { text, text != NULL ? strlen(text) : 0 };

  return s;
}

/* The OS as the device reported it; the family when it sent none. */
static cs_str device_os(const cs_device *device)
{
  if (device->os_name.ptr != NULL && device->os_name.len > 0) {
    return device->os_name;
  }
  return cstr(cs_report__os_names[device->os]);
}

static cs_str row_detail(const cs_report_row *row)
{
  cs_str s = { row->result.detail,
               strnlen(row->result.detail, CS_POSTURE_DETAIL_MAX) };

  return s;
}

/* The cert's facts as text; empty when the named cert did not parse. */
typedef struct row_cert {
  char sha256[65];
  char not_after[CS_TIME_TEXT_MAX];
  const char *store;
  cs_str path;
} row_cert;

static void describe_cert(const cs_report_row *row, row_cert *out)
{
  out->sha256[0] = '\0';
  out->not_after[0] = '\0';
  out->store = "";
  out->path = cstr("");
  if (row->has_cert) {
    cs_hex_encode(row->cert_sha256, 32, out->sha256);
    cs_time_format(row->cert_not_after, out->not_after);
  }
  if (row->result.cert_index >= 0) {
    out->store = cs_report__loc_names[cs_report__location(row)];
    out->path = row->cert_path;
  }
}

static void csv_field(cs_report_buf *line, cs_str text, char end)
{
  bool quote = cs_report__csv_needs_quotes(text);

  if (quote) {
    cs_report__buf_addc(line, '"');
  }
  cs_report__text(line, text, CS_REPORT__TEXT_CSV);
  if (quote) {
    cs_report__buf_addc(line, '"');
  }
  if (end == '\n') {
    cs_report__buf_adds(line, "\r\n");
  } else {
    cs_report__buf_addc(line, end);
  }
}

static void csv_device(cs_report_buf *out, const cs_device *device)
{
  out->len = 0;
  csv_field(out, device->device_id, ',');
  csv_field(out, device->hostname, ',');
  csv_field(out, device->serial_number, ',');
  csv_field(out, device_os(device), ',');
}

static void csv_row(cs_report_buf *line, const cs_report_buf *device,
                    const cs_report_rule *rule, const cs_report_row *row)
{
  row_cert cert;

  describe_cert(row, &cert);
  cs_report__buf_add(line, device->ptr, device->len);
  csv_field(line, cstr(rule->id), ',');
  csv_field(line, cstr(rule->name), ',');
  csv_field(line, cstr(cs_report__verdict_names[row->result.verdict]), ',');
  csv_field(line, cstr(cs_report__reason_codes[row->result.reason]), ',');
  csv_field(line, row_detail(row), ',');
  csv_field(line, cstr(cert.sha256), ',');
  csv_field(line, cstr(cert.not_after), ',');
  csv_field(line, cstr(cert.store), ',');
  csv_field(line, cert.path, '\n');
}

cs_status cs_report_csv_open(const cs_report *report, const char *dir,
                             cs_report_csv **out_csv, cs_error *err)
{
  cs_report_csv *csv = calloc(1, sizeof(*csv));

  *out_csv = NULL;
  if (csv == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  csv->report = report;

  cs_status status = cs_report__file_open(&csv->file, dir, "devices.csv",
                                          err);

  if (status == CS_OK) {
    status = cs_report__file_write(&csv->file, csv_header,
                                   sizeof(csv_header) - 1, err);
  }
  if (status != CS_OK) {
    cs_report_csv_abort(csv);
    return status;
  }
  *out_csv = csv;
  return CS_OK;
}

/* Writes the line buffer as one piece, so a device is all or nothing. */
static cs_status flush_line(cs_report_file *file, cs_report_buf *line,
                            cs_report_buf *device, cs_error *err)
{
  cs_status status = CS_OK;

  if (line->failed || device->failed) {
    status = cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  } else {
    status = cs_report__file_write(file, line->ptr, line->len, err);
  }
  line->len = 0;
  line->failed = false;
  device->failed = false;
  return status;
}

cs_status cs_report_csv_add(cs_report_csv *csv, const cs_device *device,
                            const cs_report_row *rows, cs_error *err)
{
  const cs_report *report = csv->report;
  cs_status status = cs_report__check_rows(report, device, rows, err);

  if (status != CS_OK) {
    csv->broken = true;
    return status;
  }
  csv_device(&csv->device, device);
  for (size_t i = 0; i < report->rule_count; i++) {
    if (rows[i].result.verdict != CS_VERDICT_NOT_APPLICABLE) {
      csv_row(&csv->line, &csv->device, &report->rules[i], &rows[i]);
    }
  }
  status = flush_line(&csv->file, &csv->line, &csv->device, err);
  csv->broken |= status != CS_OK;
  return status;
}

/* Commits the file, unless a device is missing from it. */
static cs_status commit_unless_broken(cs_report_file *file, bool broken,
                                      cs_error *err)
{
  if (!broken) {
    return cs_report__file_commit(file, err);
  }
  cs_error_set(err, CS_ERR_WRITE, "%s not written: a device could not be "
                                  "added to it",
               file->final_path);
  cs_report__file_abort(file);
  return CS_ERR_WRITE;
}

cs_status cs_report_csv_close(cs_report_csv *csv, cs_error *err)
{
  cs_status status = commit_unless_broken(&csv->file, csv->broken, err);

  cs_report__buf_free(&csv->device);
  cs_report__buf_free(&csv->line);
  free(csv);
  return status;
}

void cs_report_csv_abort(cs_report_csv *csv)
{
  if (csv == NULL) {
    return;
  }
  cs_report__file_abort(&csv->file);
  cs_report__buf_free(&csv->device);
  cs_report__buf_free(&csv->line);
  free(csv);
}

bool cs_report_time_format_parse(const char *text,
                                 cs_report_time_format *out_format)
{
  static const char *const names[] = { "rfc3339", "unix", "unixnano" };

  for (int i = 0; i < 3; i++) {
    if (text != NULL && strcmp(text, names[i]) == 0) {
      *out_format = (cs_report_time_format)i;
      return true;
    }
  }
  return false;
}

/* The Timestamp value, once per file: every line has the same one. */
static cs_status format_timestamp(cs_report_ndjson *nd, int64_t at,
                                  cs_report_time_format format,
                                  cs_error *err)
{
  char text[CS_TIME_TEXT_MAX];
  const int64_t nano = 1000000000;

  switch (format) {
  case CS_REPORT_TIME_RFC3339:
    snprintf(nd->timestamp, sizeof(nd->timestamp), "\"%s\"",
             cs_time_format(at, text));
    return CS_OK;
  case CS_REPORT_TIME_UNIX:
    snprintf(nd->timestamp, sizeof(nd->timestamp), "%lld", (long long)at);
    return CS_OK;
  case CS_REPORT_TIME_UNIXNANO:
    if (at > INT64_MAX / nano || at < INT64_MIN / nano) {
      return cs_error_set(err, CS_ERR_USAGE,
                          "evaluation time %s does not fit unixnano "
                          "timestamps (1677 to 2262)",
                          cs_time_format(at, text));
    }
    snprintf(nd->timestamp, sizeof(nd->timestamp), "%lld",
             (long long)(at * nano));
    return CS_OK;
  }
  return cs_error_set(err, CS_ERR_USAGE, "unknown timestamp format %d",
                      (int)format);
}

cs_status cs_report_ndjson_open(const cs_report *report, const char *dir,
                                cs_report_time_format format,
                                cs_report_ndjson **out_nd, cs_error *err)
{
  cs_report_ndjson *nd = calloc(1, sizeof(*nd));

  *out_nd = NULL;
  if (nd == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  nd->report = report;

  cs_status status = format_timestamp(nd, report->evaluated_at, format, err);

  if (status != CS_OK) {
    free(nd);
    return status;
  }
  status = cs_report__file_open(&nd->file, dir, "posture.ndjson", err);
  if (status != CS_OK) {
    free(nd);
    return status;
  }
  *out_nd = nd;
  return CS_OK;
}

/* `"key":` (keys are fixed ASCII names). */
static void key_colon(cs_report_buf *line, const char *key)
{
  cs_report__buf_addc(line, '"');
  cs_report__buf_adds(line, key);
  cs_report__buf_add(line, "\":", 2);
}

static void json_key(cs_report_buf *line, const char *key, cs_str value)
{
  key_colon(line, key);
  cs_report__text(line, value, CS_REPORT__TEXT_JSON);
  cs_report__buf_addc(line, ',');
}

/* A cert fact as a JSON string, or null when there is none. */
static void json_key_or_null(cs_report_buf *line, const char *key,
                             cs_str value, const char *end)
{
  key_colon(line, key);
  if (value.len == 0) {
    cs_report__buf_adds(line, "null");
  } else {
    cs_report__text(line, value, CS_REPORT__TEXT_JSON);
  }
  cs_report__buf_adds(line, end);
}

static void received_json(cs_report_buf *line, const cs_report_row *row)
{
  row_cert cert;

  describe_cert(row, &cert);
  cs_report__buf_adds(line, "\"PostureReceivedJSON\":{");
  json_key(line, "verdict",
           cstr(cs_report__verdict_names[row->result.verdict]));
  json_key(line, "reason", cstr(cs_report__reason_codes[row->result.reason]));
  json_key(line, "detail", row_detail(row));
  json_key_or_null(line, "cert_sha256", cstr(cert.sha256), ",");
  json_key_or_null(line, "store", cstr(cert.store), ",");
  if (row->result.cert_index >= 0) {
    json_key(line, "path", cert.path);
  } else {
    cs_report__buf_adds(line, "\"path\":null,");
  }
  json_key_or_null(line, "not_after", cstr(cert.not_after), "},");
}

static void ndjson_device(cs_report_buf *out, const cs_device *device)
{
  out->len = 0;
  cs_report__buf_addc(out, '{');
  json_key(out, "ClientVersion", device->client_version);
  json_key(out, "DeviceID", device->device_id);
  json_key(out, "DeviceName", device->hostname);
  json_key(out, "DeviceSerialNumber", device->serial_number);
  json_key(out, "DeviceType", device_os(device));
  json_key(out, "OSVersion", device->os_version);
  json_key(out, "Email", device->user);
}

static void ndjson_row(cs_report_ndjson *nd, const cs_report_rule *rule,
                       const cs_report_row *row)
{
  cs_report_buf *line = &nd->line;

  cs_report__buf_add(line, nd->device.ptr, nd->device.len);
  json_key(line, "PolicyID", cstr(rule->id));
  json_key(line, "PostureCheckName", cstr(rule->name));
  json_key(line, "PostureCheckType", cstr(rule->type));
  cs_report__buf_adds(line, row->result.verdict == CS_VERDICT_PASS
                                ? "\"PostureEvaluatedResult\":true,"
                                : "\"PostureEvaluatedResult\":false,");
  cs_report__buf_adds(line, "\"PostureExpectedJSON\":");
  cs_report__buf_adds(line,
                      rule->input_json != NULL ? rule->input_json : "null");
  cs_report__buf_addc(line, ',');
  received_json(line, row);
  cs_report__buf_adds(line, "\"Timestamp\":");
  cs_report__buf_adds(line, nd->timestamp);
  cs_report__buf_add(line, "}\n", 2);
}

cs_status cs_report_ndjson_add(cs_report_ndjson *nd, const cs_device *device,
                               const cs_report_row *rows, cs_error *err)
{
  const cs_report *report = nd->report;
  cs_status status = cs_report__check_rows(report, device, rows, err);

  if (status != CS_OK) {
    nd->broken = true;
    return status;
  }
  ndjson_device(&nd->device, device);
  for (size_t i = 0; i < report->rule_count; i++) {
    if (rows[i].result.verdict != CS_VERDICT_NOT_APPLICABLE) {
      ndjson_row(nd, &report->rules[i], &rows[i]);
    }
  }
  status = flush_line(&nd->file, &nd->line, &nd->device, err);
  nd->broken |= status != CS_OK;
  return status;
}

cs_status cs_report_ndjson_close(cs_report_ndjson *nd, cs_error *err)
{
  cs_status status = commit_unless_broken(&nd->file, nd->broken, err);

  cs_report__buf_free(&nd->device);
  cs_report__buf_free(&nd->line);
  free(nd);
  return status;
}

void cs_report_ndjson_abort(cs_report_ndjson *nd)
{
  if (nd == NULL) {
    return;
  }
  cs_report__file_abort(&nd->file);
  cs_report__buf_free(&nd->device);
  cs_report__buf_free(&nd->line);
  free(nd);
}
