/*
 * report_console.c - the per-rule table the scanner prints when a run
 * ends, and the figure behind --fail-under.
 *
 * Rule names come from the rules file: control bytes are escaped so
 * that a name cannot move the cursor or recolour the terminal.
 */
#include <string.h>

#include "report_internal.h"

#define NAME_WIDTH 32

static size_t char_count(cs_str text)
{
  size_t chars = 0;

  for (size_t i = 0; i < text.len; i++) {
    chars += ((uint8_t)text.ptr[i] & 0xc0) != 0x80;
  }
  return chars;
}

/* The name escaped, cut to NAME_WIDTH characters, padded with spaces. */
static void name_cell(cs_report_buf *cell, const char *name)
{
  cs_report_buf escaped = { 0 };
  cs_str text = { name, strlen(name) };
  bool too_long, cut;

  cs_report__text(&escaped, text, CS_REPORT__TEXT_CONSOLE);
  if (escaped.failed) {
    cell->failed = true;
    cs_report__buf_free(&escaped);
    return;
  }

  cs_str shown = { escaped.ptr, escaped.len };

  (void)cs_report__prefix(shown, NAME_WIDTH, &too_long);
  shown = cs_report__prefix(shown, too_long ? NAME_WIDTH - 3 : NAME_WIDTH,
                            &cut);
  cs_report__buf_add(cell, shown.ptr, shown.len);
  if (too_long) {
    cs_report__buf_adds(cell, "...");
  }
  for (size_t n = char_count(shown) + (too_long ? 3 : 0); n < NAME_WIDTH;
       n++) {
    cs_report__buf_addc(cell, ' ');
  }
  cs_report__buf_free(&escaped);
}

static void rule_line(cs_report_buf *out, const cs_report_rule *rule)
{
  double fraction;
  char percent[16] = "-";
  cs_reason top = cs_report__top_reason(rule);

  if (cs_report__compliance(rule, &fraction)) {
    snprintf(percent, sizeof(percent), "%.2f%%", fraction * 100.0);
  }
  name_cell(out, rule->name[0] != '\0' ? rule->name : rule->id);
  cs_report__buf_printf(
      out, " %10llu %10llu %10llu %8llu %10s  %s\n",
      (unsigned long long)cs_report__applicable(rule),
      (unsigned long long)rule->verdicts[CS_VERDICT_PASS],
      (unsigned long long)rule->verdicts[CS_VERDICT_FAIL],
      (unsigned long long)rule->verdicts[CS_VERDICT_UNKNOWN], percent,
      top != CS_REASON_NONE ? cs_report__reason_codes[top] : "-");
}

cs_status cs_report_print_table(const cs_report *report, FILE *out,
                                cs_error *err)
{
  cs_report_buf text = { 0 };

  cs_report__buf_printf(&text, "%-*s %10s %10s %10s %8s %10s  %s\n",
                        NAME_WIDTH, "rule", "applicable", "pass", "fail",
                        "unknown", "compliance", "top reason");
  for (size_t i = 0; i < report->rule_count; i++) {
    rule_line(&text, &report->rules[i]);
  }
  if (text.failed) {
    cs_report__buf_free(&text);
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }

  bool ok = fwrite(text.ptr, 1, text.len, out) == text.len &&
            fflush(out) == 0;

  cs_report__buf_free(&text);
  if (!ok) {
    return cs_error_set(err, CS_ERR_WRITE, "cannot write the table");
  }
  return CS_OK;
}
