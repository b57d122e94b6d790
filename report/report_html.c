/*
 * report_html.c - report.html: one page, inline CSS and SVG, no script
 * and nothing fetched, so it opens the same from a mail attachment or
 * an air-gapped share.
 *
 * Every string that came from an input or a configuration file goes
 * through the HTML escaper; numbers are the only text written as is.
 */
#include <string.h>

#include "report_internal.h"

#define CHART_WIDTH 900
#define LABEL_WIDTH 300
#define BAR_HEIGHT 22
#define ROW_HEIGHT 32
#define LABEL_CHARS 40

static const char *const verdict_colours[CS_VERDICT_COUNT] = {
  "#2e7d32", "#c62828", "#f9a825", "#9e9e9e"
};

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "margin:0;background:#f4f5f7;color:#1d2330}"
    "main{max-width:1100px;margin:0 auto;padding:24px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;"
    "border-bottom:1px solid #d5d9e0;padding-bottom:4px}"
    "h3{font-size:15px;margin:18px 0 6px}"
    ".meta{color:#5a6375;margin:0 0 16px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{background:#fff;border:1px solid #d5d9e0;border-radius:6px;"
    "padding:10px 14px;min-width:120px}"
    ".card b{display:block;font-size:22px}.card span{color:#5a6375}"
    "table{border-collapse:collapse;background:#fff;width:100%;"
    "margin:6px 0}"
    "th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left;"
    "vertical-align:top}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#eceef2}"
    "svg{background:#fff;border:1px solid #d5d9e0;border-radius:6px;"
    "max-width:100%;height:auto}"
    "svg text{font:13px system-ui,sans-serif;fill:#1d2330}"
    ".legend span{display:inline-block;margin-right:14px}"
    ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
    "vertical-align:-1px}"
    ".mono{font-family:ui-monospace,monospace;word-break:break-all}"
    ".none{color:#5a6375}"
    "table.narrow{width:auto;min-width:45%}"
    ".pair{display:flex;flex-wrap:wrap;gap:16px}"
    ".pair table{width:auto;min-width:420px}";

static void text(cs_report_buf *out, cs_str s)
{
  cs_report__text(out, s, CS_REPORT__TEXT_HTML);
}

static void ctext(cs_report_buf *out, const char *s)
{
  cs_str str = { s, s != NULL ? strlen(s) : 0 };

  text(out, str);
}

/* A chart label: at most LABEL_CHARS characters, the rest elided. */
static void label(cs_report_buf *out, const char *s)
{
  cs_str str = { s, strlen(s) };
  bool cut;

  text(out, cs_report__prefix(str, LABEL_CHARS, &cut));
  if (cut) {
    cs_report__buf_adds(out, "\xe2\x80\xa6");
  }
}

static const char *rule_title(const cs_report_rule *rule)
{
  return rule->name[0] != '\0' ? rule->name : rule->id;
}

static void head(cs_report_buf *out, const cs_report *report)
{
  char at[CS_TIME_TEXT_MAX];

  cs_report__buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                           "<meta charset=\"utf-8\">\n"
                           "<meta name=\"viewport\" "
                           "content=\"width=device-width,initial-scale=1\">"
                           "\n<title>certscan report ");
  cs_report__buf_adds(out, cs_time_format(report->evaluated_at, at));
  cs_report__buf_printf(out, "</title>\n<style>%s</style>\n</head>\n",
                        style);
  cs_report__buf_adds(out, "<body>\n<main>\n<h1>Client-certificate "
                           "posture</h1>\n<p class=\"meta\">Evaluated at ");
  cs_report__buf_adds(out, at);
  cs_report__buf_adds(out, " by ");
  ctext(out, report->tool_version);
  cs_report__buf_adds(out, "</p>\n");
}

static void card(cs_report_buf *out, uint64_t value, const char *what)
{
  cs_report__buf_printf(out,
                        "<div class=\"card\"><b>%llu</b><span>%s</span>"
                        "</div>\n",
                        (unsigned long long)value, what);
}

static void cards(cs_report_buf *out, const cs_report *report)
{
  cs_report_totals t;

  cs_report_get_totals(report, &t);
  cs_report__buf_adds(out, "<div class=\"cards\">\n");
  card(out, t.devices_read, "devices read");
  card(out, t.devices_evaluated, "devices evaluated");
  card(out, t.devices_malformed, "malformed records");
  card(out, t.certs_read, "certificates read");
  card(out, t.certs_malformed, "malformed certificates");
  card(out, t.inputs, "inputs");
  card(out, t.inputs_failed, "inputs not read in full");
  card(out, report->rules_skipped, "rules skipped");
  cs_report__buf_adds(out, "</div>\n");
}

static void legend(cs_report_buf *out)
{
  cs_report__buf_adds(out, "<p class=\"legend\">");
  for (int v = 0; v < CS_VERDICT_NOT_APPLICABLE; v++) {
    cs_report__buf_printf(out, "<span><i style=\"background:%s\"></i>%s"
                               "</span>",
                          verdict_colours[v], cs_report__verdict_names[v]);
  }
  cs_report__buf_adds(out, "</p>\n");
}

static void svg_open(cs_report_buf *out, int height, const char *what)
{
  cs_report__buf_printf(out,
                        "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        "role=\"img\" aria-label=\"%s\">\n",
                        CHART_WIDTH, height, CHART_WIDTH, height, what);
}

static void svg_label(cs_report_buf *out, int y, const char *name)
{
  cs_report__buf_printf(out, "<text x=\"8\" y=\"%d\"><title>", y + 16);
  ctext(out, name);
  cs_report__buf_adds(out, "</title>");
  label(out, name);
  cs_report__buf_adds(out, "</text>\n");
}

/* One stacked bar of pass, fail and unknown, as shares of applicable. */
static void compliance_bar(cs_report_buf *out, const cs_report_rule *rule,
                           int y)
{
  uint64_t applicable = cs_report__applicable(rule);
  double x = LABEL_WIDTH;
  double span = CHART_WIDTH - LABEL_WIDTH - 90;
  double fraction;

  svg_label(out, y, rule_title(rule));
  for (int v = 0; v < CS_VERDICT_NOT_APPLICABLE && applicable > 0; v++) {
    double w = span * (double)rule->verdicts[v] / (double)applicable;

    cs_report__buf_printf(out,
                          "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" "
                          "height=\"%d\" fill=\"%s\"><title>%s: %llu"
                          "</title></rect>\n",
                          x, y + 2, w, BAR_HEIGHT, verdict_colours[v],
                          cs_report__verdict_names[v],
                          (unsigned long long)rule->verdicts[v]);
    x += w;
  }
  if (cs_report__compliance(rule, &fraction)) {
    cs_report__buf_printf(out, "<text x=\"%d\" y=\"%d\">%.1f%%</text>\n",
                          CHART_WIDTH - 80, y + 18, fraction * 100.0);
  } else {
    cs_report__buf_printf(out,
                          "<text x=\"%d\" y=\"%d\">no device</text>\n",
                          LABEL_WIDTH, y + 18);
  }
}

static void compliance_chart(cs_report_buf *out, const cs_report *report)
{
  int height = (int)report->rule_count * ROW_HEIGHT + 16;

  cs_report__buf_adds(out, "<h2>Compliance per rule</h2>\n");
  legend(out);
  svg_open(out, height, "compliance per rule");
  for (size_t i = 0; i < report->rule_count; i++) {
    compliance_bar(out, &report->rules[i], 8 + (int)i * ROW_HEIGHT);
  }
  cs_report__buf_adds(out, "</svg>\n");
}

static void cell_count(cs_report_buf *out, uint64_t n)
{
  cs_report__buf_printf(out, "<td class=\"n\">%llu</td>",
                        (unsigned long long)n);
}

static void rule_table(cs_report_buf *out, const cs_report *report)
{
  cs_report__buf_adds(out,
                      "<table>\n<tr><th>rule</th><th>id</th><th>os</th>"
                      "<th class=\"n\">applicable</th><th class=\"n\">pass"
                      "</th><th class=\"n\">fail</th><th class=\"n\">"
                      "unknown</th><th class=\"n\">not applicable</th>"
                      "<th class=\"n\">compliance</th></tr>\n");
  for (size_t i = 0; i < report->rule_count; i++) {
    const cs_report_rule *rule = &report->rules[i];
    double fraction;

    cs_report__buf_adds(out, "<tr><td>");
    ctext(out, rule->name);
    cs_report__buf_adds(out, "</td><td class=\"mono\">");
    ctext(out, rule->id);
    cs_report__buf_adds(out, "</td><td>");
    ctext(out, rule->operating_system != NULL ? rule->operating_system
                                              : "any");
    cs_report__buf_adds(out, "</td>");
    cell_count(out, cs_report__applicable(rule));
    for (int v = 0; v < CS_VERDICT_COUNT; v++) {
      cell_count(out, rule->verdicts[v]);
    }
    if (cs_report__compliance(rule, &fraction)) {
      cs_report__buf_printf(out, "<td class=\"n\">%.2f%%</td></tr>\n",
                            fraction * 100.0);
    } else {
      cs_report__buf_adds(out, "<td class=\"n none\">-</td></tr>\n");
    }
  }
  cs_report__buf_adds(out, "</table>\n");
}

/*
 * Horizontal bars with a count at the end, scaled to the largest; bar
 * `i` in colours[i]. Zero counts are left out unless `zeros`.
 */
static void count_bars(cs_report_buf *out, const char *const *labels,
                       const uint64_t *counts, size_t n,
                       const char *const *colours, bool zeros,
                       const char *what)
{
  uint64_t max = 1;
  size_t shown = 0;

  for (size_t i = 0; i < n; i++) {
    max = counts[i] > max ? counts[i] : max;
    shown += zeros || counts[i] > 0;
  }
  svg_open(out, (int)shown * ROW_HEIGHT + 16, what);

  int y = 8;

  for (size_t i = 0; i < n; i++) {
    if (!zeros && counts[i] == 0) {
      continue;
    }

    double w = (CHART_WIDTH - LABEL_WIDTH - 90) * (double)counts[i] /
               (double)max;

    svg_label(out, y, labels[i]);
    cs_report__buf_printf(out,
                          "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" "
                          "height=\"%d\" fill=\"%s\"/>\n"
                          "<text x=\"%.1f\" y=\"%d\">%llu</text>\n",
                          LABEL_WIDTH, y + 2, w, BAR_HEIGHT, colours[i],
                          LABEL_WIDTH + w + 6, y + 18,
                          (unsigned long long)counts[i]);
    y += ROW_HEIGHT;
  }
  cs_report__buf_adds(out, "</svg>\n");
}

static void reasons(cs_report_buf *out, const cs_report *report)
{
  const char *colours[CS_REASON_COUNT];

  /* Missing data is not a failure: it gets the colour of unknown. */
  for (int r = 0; r < CS_REASON_COUNT; r++) {
    colours[r] = verdict_colours[r == CS_REASON_NOT_COLLECTED
                                     ? CS_VERDICT_UNKNOWN
                                     : CS_VERDICT_FAIL];
  }
  cs_report__buf_adds(out, "<h2>Why devices do not pass</h2>\n");
  for (size_t i = 0; i < report->rule_count; i++) {
    const cs_report_rule *rule = &report->rules[i];

    cs_report__buf_adds(out, "<h3>");
    ctext(out, rule_title(rule));
    cs_report__buf_adds(out, "</h3>\n");
    if (rule->verdicts[CS_VERDICT_FAIL] +
            rule->verdicts[CS_VERDICT_UNKNOWN] ==
        0) {
      cs_report__buf_adds(out, "<p class=\"none\">No failing or unknown "
                               "device.</p>\n");
      continue;
    }
    count_bars(out, cs_report__reason_codes, rule->reasons,
               CS_REASON_COUNT, colours, false, "devices per reason");
  }
}

static void expiry(cs_report_buf *out, const cs_report *report)
{
  static const char *const windows[CS_REPORT_EXPIRY_WINDOWS] = {
    "within 7 days", "within 30 days", "within 90 days"
  };
  static const char *const colours[CS_REPORT_EXPIRY_WINDOWS] = {
    "#b71c1c", "#ef6c00", "#fbc02d"
  };

  cs_report__buf_adds(out, "<h2>Passing certificates expiring soon</h2>\n"
                           "<p class=\"meta\">Passing devices whose "
                           "passing certificate expires within each "
                           "window after the evaluation time (each window "
                           "includes the shorter ones).</p>\n");
  for (size_t i = 0; i < report->rule_count; i++) {
    const cs_report_rule *rule = &report->rules[i];

    cs_report__buf_adds(out, "<h3>");
    ctext(out, rule_title(rule));
    cs_report__buf_printf(out, " <span class=\"none\">(%llu passing)"
                               "</span></h3>\n",
                          (unsigned long long)rule->verdicts[0]);
    if (rule->expiring[CS_REPORT_EXPIRY_WINDOWS - 1] == 0) {
      cs_report__buf_adds(out, "<p class=\"none\">None within 90 days."
                               "</p>\n");
      continue;
    }
    count_bars(out, windows, rule->expiring, CS_REPORT_EXPIRY_WINDOWS,
               colours, true, "passing certificates expiring");
  }
}

static void split_table(cs_report_buf *out, const char *title,
                        const char *const *names, const uint64_t *counts,
                        size_t rows)
{
  cs_report__buf_printf(out, "<table>\n<tr><th>%s</th>", title);
  for (int v = 0; v < CS_VERDICT_COUNT; v++) {
    cs_report__buf_printf(out, "<th class=\"n\">%s</th>",
                          cs_report__verdict_names[v]);
  }
  cs_report__buf_adds(out, "</tr>\n");
  for (size_t r = 0; r < rows; r++) {
    cs_report__buf_printf(out, "<tr><td>%s</td>", names[r]);
    for (int v = 0; v < CS_VERDICT_COUNT; v++) {
      cell_count(out, counts[r * CS_VERDICT_COUNT + v]);
    }
    cs_report__buf_adds(out, "</tr>\n");
  }
  cs_report__buf_adds(out, "</table>\n");
}

static void splits(cs_report_buf *out, const cs_report *report)
{
  cs_report__buf_adds(out, "<h2>By location and operating system</h2>\n"
                           "<p class=\"meta\">Location: the store of the "
                           "certificate the verdict names (none: no "
                           "certificate named).</p>\n");
  for (size_t i = 0; i < report->rule_count; i++) {
    const cs_report_rule *rule = &report->rules[i];

    cs_report__buf_adds(out, "<h3>");
    ctext(out, rule_title(rule));
    cs_report__buf_adds(out, "</h3>\n");
    cs_report__buf_adds(out, "<div class=\"pair\">\n");
    split_table(out, "location", cs_report__loc_names,
                &rule->locations[0][0], CS_REPORT__LOC_COUNT);
    split_table(out, "os", cs_report__os_names, &rule->oses[0][0],
                CS_REPORT__OS_COUNT);
    cs_report__buf_adds(out, "</div>\n");
  }
}

/* One finding: "<title>: <values> <unit>, <devices> <device_unit>". */
static void finding(cs_report_buf *out, const cs_report_map *map,
                    cs_report_map_filter filter, const char *const words[3],
                    bool hex)
{
  const cs_report_map_entry *top[CS_REPORT_TOP_MAX];
  uint64_t entries, devices;
  size_t n;

  cs_report__map_top(map, filter, top, &n, &entries, &devices);
  cs_report__buf_printf(out, "<h3>%s: %llu %s, %llu %s</h3>\n", words[0],
                        (unsigned long long)entries, words[1],
                        (unsigned long long)devices, words[2]);
  if (n == 0) {
    return;
  }
  cs_report__buf_adds(out, "<table class=\"narrow\">\n<tr><th>value</th>"
                           "<th class=\"n\">devices</th></tr>\n");
  for (size_t i = 0; i < n; i++) {
    char digest[65];
    cs_str value = { (const char *)top[i]->key, top[i]->len };

    cs_report__buf_adds(out, "<tr><td class=\"mono\">");
    if (hex && top[i]->len == 32) {
      cs_hex_encode(top[i]->key, 32, digest);
      cs_report__buf_adds(out, digest);
    } else {
      text(out, value);
    }
    cs_report__buf_adds(out, "</td>");
    cell_count(out, top[i]->count);
    cs_report__buf_adds(out, "</tr>\n");
  }
  cs_report__buf_adds(out, "</table>\n");
}

static void fleet(cs_report_buf *out, const cs_report *report)
{
  if (report->no_fleet_findings) {
    cs_report__buf_adds(out, "<h2>Fleet findings</h2>\n<p class=\"meta\">"
                             "Not collected in this run "
                             "(--no-findings).</p>\n");
    return;
  }
  cs_report__buf_adds(out, "<h2>Fleet findings</h2>\n<p class=\"meta\">"
                           "Reported beside the verdicts; they never "
                           "change one.</p>\n");
  static const char *const shared_serials[3] = {
    "Serial numbers shared by several devices", "serials", "devices"
  };
  static const char *const shared_certs[3] = {
    "Certificates named on several devices", "certificates",
    "(device, certificate) pairs"
  };
  static const char *const placeholders[3] = {
    "Placeholder serial numbers", "values", "devices"
  };

  finding(out, &report->serials, cs_report__is_shared_serial,
          shared_serials, false);
  finding(out, &report->certs, cs_report__is_shared_cert, shared_certs,
          true);
  finding(out, &report->serials, cs_report__is_placeholder_entry,
          placeholders, false);
  cs_report__buf_printf(out, "<h3>Devices without a serial number: %llu"
                             "</h3>\n",
                        (unsigned long long)report->missing_serials);
}

static void inputs(cs_report_buf *out, const cs_report *report)
{
  cs_report__buf_adds(out, "<h2>Inputs</h2>\n<table>\n<tr><th>path</th>"
                           "<th class=\"n\">bytes</th><th class=\"n\">"
                           "devices</th><th class=\"n\">malformed</th>"
                           "<th>error</th></tr>\n");
  for (size_t i = 0; i < report->input_count; i++) {
    const cs_report_input *in = &report->inputs[i];

    cs_report__buf_adds(out, "<tr><td class=\"mono\">");
    ctext(out, in->path);
    cs_report__buf_adds(out, "</td>");
    cell_count(out, in->bytes);
    cell_count(out, in->devices);
    cell_count(out, in->malformed);
    cs_report__buf_adds(out, "<td>");
    ctext(out, in->error != NULL ? in->error : "");
    cs_report__buf_adds(out, "</td></tr>\n");
  }
  cs_report__buf_adds(out, "</table>\n");
}

static void malformed(cs_report_buf *out, const cs_report *report)
{
  if (report->bad_count == 0) {
    return;
  }
  cs_report__buf_printf(out, "<h2>Malformed records</h2>\n<p class=\"meta\">"
                             "%s %zu of %llu, in input order.</p>\n",
                        report->bad_count < report->devices_malformed
                            ? "The first"
                            : "All",
                        report->bad_count,
                        (unsigned long long)report->devices_malformed);
  cs_report__buf_adds(out, "<table>\n<tr><th>file</th><th class=\"n\">"
                           "record</th><th class=\"n\">offset</th>"
                           "<th>device_id</th><th>message</th></tr>\n");
  for (size_t i = 0; i < report->bad_count; i++) {
    const cs_report_bad *bad = &report->bad[i];
    cs_str id = { bad->device_id, bad->device_id_len };

    cs_report__buf_adds(out, "<tr><td class=\"mono\">");
    ctext(out, report->inputs[bad->input].path);
    cs_report__buf_adds(out, "</td>");
    cell_count(out, bad->record_index);
    cell_count(out, bad->offset);
    cs_report__buf_adds(out, "<td class=\"mono\">");
    text(out, id);
    cs_report__buf_adds(out, "</td><td>");
    ctext(out, bad->message);
    cs_report__buf_adds(out, "</td></tr>\n");
  }
  cs_report__buf_adds(out, "</table>\n");
}

static void run(cs_report_buf *out, const cs_report *report)
{
  char started[CS_TIME_TEXT_MAX] = "-";

  if (report->started_at != 0) {
    cs_time_format(report->started_at, started);
  }
  cs_report__buf_printf(out, "<h2>Run</h2>\n<table>\n<tr><th>started</th>"
                             "<td>%s</td></tr>\n<tr><th>elapsed</th><td>"
                             "%.3f s</td></tr>\n<tr><th>threads</th><td>"
                             "%u</td></tr>\n",
                        started, report->elapsed_seconds, report->threads);
  if (report->devices_files != NULL) {
    cs_report__buf_adds(out, "<tr><th>per-device files</th><td>");
    ctext(out, report->devices_files);
    cs_report__buf_adds(out, "</td></tr>\n");
  }
  for (size_t i = 0; i < report->option_count; i++) {
    const cs_report_option *option = &report->options[i];

    cs_report__buf_adds(out, "<tr><th>");
    ctext(out, option->name);
    cs_report__buf_adds(out, "</th><td class=\"mono\">");
    for (size_t j = 0; j < option->value_count; j++) {
      cs_report__buf_adds(out, j > 0 ? "<br>" : "");
      ctext(out, option->values[j]);
    }
    cs_report__buf_adds(out, "</td></tr>\n");
  }
  cs_report__buf_adds(out, "</table>\n");
}

static void page(cs_report_buf *out, const cs_report *report)
{
  head(out, report);
  cards(out, report);
  compliance_chart(out, report);
  rule_table(out, report);
  reasons(out, report);
  expiry(out, report);
  splits(out, report);
  fleet(out, report);
  inputs(out, report);
  malformed(out, report);
  run(out, report);
  cs_report__buf_adds(out, "</main>\n</body>\n</html>\n");
}

cs_status cs_report_write_html(const cs_report *report, const char *dir,
                               cs_error *err)
{
  cs_report_buf out = { 0 };

  page(&out, report);
  if (out.failed) {
    cs_report__buf_free(&out);
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }

  cs_report_file file;
  cs_status status = cs_report__file_open(&file, dir, "report.html", err);

  if (status == CS_OK) {
    status = cs_report__file_write(&file, out.ptr, out.len, err);
  }
  cs_report__buf_free(&out);
  if (status == CS_OK) {
    return cs_report__file_commit(&file, err);
  }
  cs_report__file_abort(&file);
  return status;
}
