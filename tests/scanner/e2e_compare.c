/*
 * e2e_compare.c - the comparisons the end-to-end tests make.
 */
#include "e2e_compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>

#include <jansson.h>

int e2e_run(const char *fmt, ...)
{
  char command[8192];
  va_list args;
  int status;

  va_start(args, fmt);
  vsnprintf(command, sizeof(command), fmt, args);
  va_end(args);
  status = system(command);
  if (status == -1 || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

static int differ(const char *what, const char *key, json_t *want,
                  json_t *got)
{
  char *want_text = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
  char *got_text = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY)
                       : NULL;

  fprintf(stderr, "%s %s: want %s, got %s\n", what, key,
          want_text ? want_text : "?", got_text ? got_text : "(missing)");
  free(want_text);
  free(got_text);
  return 1;
}

/* Counts each member of `want` that `got` lacks or holds otherwise. */
static int compare_members(const char *what, json_t *want, json_t *got)
{
  const char *key;
  json_t *value;
  int differences = 0;

  json_object_foreach(want, key, value) {
    json_t *other = json_object_get(got, key);

    if (other == NULL || !json_equal(value, other)) {
      differences += differ(what, key, value, other);
    }
  }
  return differences;
}

static json_t *find_rule(json_t *rules, const char *id)
{
  size_t i;
  json_t *rule;

  json_array_foreach(rules, i, rule) {
    const char *rule_id = json_string_value(json_object_get(rule, "id"));

    if (rule_id != NULL && strcmp(rule_id, id) == 0) {
      return rule;
    }
  }
  return NULL;
}

/* Reason maps are equal when every non-zero count matches. */
static int compare_reasons(const char *id, json_t *want, json_t *got)
{
  const char *key;
  json_t *value;
  int differences = compare_members(id, want, got);

  json_object_foreach(got, key, value) {
    if (json_integer_value(value) != 0 &&
        json_object_get(want, key) == NULL) {
      differences += differ(id, key, json_integer(0), value);
    }
  }
  return differences;
}

static int compare_rule(json_t *want, json_t *got_rules)
{
  static const char *const counts[] = { "applicable", "pass", "fail",
                                        "unknown", "not_applicable" };
  const char *id = json_string_value(json_object_get(want, "id"));
  json_t *got = id ? find_rule(got_rules, id) : NULL;
  int differences = 0;

  if (got == NULL) {
    fprintf(stderr, "rule %s missing from the summary\n", id ? id : "?");
    return 1;
  }
  for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
    json_t *value = json_object_get(want, counts[i]);
    json_t *other = json_object_get(got, counts[i]);

    if (value != NULL && (other == NULL || !json_equal(value, other))) {
      differences += differ(id, counts[i], value, other);
    }
  }
  return differences + compare_reasons(id, json_object_get(want, "reasons"),
                                       json_object_get(got, "reasons"));
}

int e2e_compare_summary(const char *summary_path, const char *truth_path)
{
  json_t *summary = json_load_file(summary_path, 0, NULL);
  json_t *truth = json_load_file(truth_path, 0, NULL);
  int differences = 0;
  size_t i;
  json_t *rule;

  if (summary == NULL || truth == NULL) {
    fprintf(stderr, "cannot read %s or %s\n", summary_path, truth_path);
    json_decref(summary);
    json_decref(truth);
    return -1;
  }
  differences += compare_members("devices",
                                 json_object_get(truth, "devices"),
                                 json_object_get(summary, "devices"));
  if (json_object_get(truth, "certificates") != NULL) {
    differences += compare_members("certificates",
                                   json_object_get(truth, "certificates"),
                                   json_object_get(summary,
                                                   "certificates"));
  }

  json_t *run = json_pack("{s:O,s:O}", "rules_skipped",
                          json_object_get(truth, "rules_skipped"),
                          "evaluated_at",
                          json_object_get(truth, "evaluated_at"));

  differences += run ? compare_members("run", run, summary) : 1;
  json_decref(run);
  if (json_array_size(json_object_get(truth, "rules")) !=
      json_array_size(json_object_get(summary, "rules"))) {
    fprintf(stderr, "rule count differs\n");
    differences++;
  }
  json_array_foreach(json_object_get(truth, "rules"), i, rule) {
    differences += compare_rule(rule, json_object_get(summary, "rules"));
  }
  json_decref(summary);
  json_decref(truth);
  return differences;
}

/* One CSV record: fields split with RFC 4180 quoting. */
typedef struct csv_record {
  char **fields;
  size_t count;
} csv_record;

static void record_free(csv_record *record)
{
  for (size_t i = 0; i < record->count; i++) {
    free(record->fields[i]);
  }
  free(record->fields);
  record->fields = NULL;
  record->count = 0;
}

static void record_push(csv_record *record, const char *text, size_t len)
{
  char *field = malloc(len + 1);

  memcpy(field, text, len);
  field[len] = '\0';
  record->fields = realloc(record->fields,
                           (record->count + 1) * sizeof(char *));
  record->fields[record->count++] = field;
}

/* Reads one record; false at end of file. */
static bool read_record(FILE *file, csv_record *record)
{
  char *field = malloc(1 << 16);
  size_t len = 0;
  bool quoted = false;
  int c = fgetc(file);

  if (c == EOF) {
    free(field);
    return false;
  }
  for (; c != EOF; c = fgetc(file)) {
    if (quoted && c == '"') {
      int next = fgetc(file);

      if (next == '"') {
        field[len++] = '"';
        continue;
      }
      quoted = false;
      c = next;
    } else if (!quoted && c == '"' && len == 0) {
      quoted = true;
      continue;
    }
    if (!quoted && (c == ',' || c == '\n' || c == EOF)) {
      record_push(record, field, len);
      len = 0;
      if (c != ',') {
        break;
      }
      continue;
    }
    if (!quoted && c == '\r') {
      continue;
    }
    if (len < (1 << 16) - 1) {
      field[len++] = (char)c;
    }
  }
  if (c == EOF && len > 0) {
    record_push(record, field, len);
  }
  free(field);
  return true;
}

static int column_index(const csv_record *header, const char *name)
{
  for (size_t i = 0; i < header->count; i++) {
    if (strcmp(header->fields[i], name) == 0) {
      return (int)i;
    }
  }
  return -1;
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_columns(const csv_record *record, const int *indexes,
                          size_t count)
{
  size_t total = 1;
  char *row;

  for (size_t i = 0; i < count; i++) {
    if ((size_t)indexes[i] >= record->count) {
      return NULL;
    }
    total += strlen(record->fields[indexes[i]]) + 1;
  }
  row = calloc(1, total);
  for (size_t i = 0; i < count; i++) {
    if (i > 0) {
      strcat(row, ",");
    }
    strcat(row, record->fields[indexes[i]]);
  }
  return row;
}

char **e2e_csv_rows(const char *path, const char *columns,
                    size_t *out_count)
{
  FILE *file = fopen(path, "r");
  csv_record header = { NULL, 0 };
  csv_record record = { NULL, 0 };
  int indexes[16];
  size_t wanted = 0;
  char **rows = NULL;
  size_t count = 0;
  char names[256];

  if (file == NULL || !read_record(file, &header)) {
    if (file != NULL) {
      fclose(file);
    }
    return NULL;
  }
  snprintf(names, sizeof(names), "%s", columns);
  for (char *name = strtok(names, ","); name != NULL && wanted < 16;
       name = strtok(NULL, ",")) {
    indexes[wanted++] = column_index(&header, name);
  }
  record_free(&header);
  while (read_record(file, &record)) {
    char *row = join_columns(&record, indexes, wanted);

    record_free(&record);
    if (row == NULL) {
      continue;
    }
    rows = realloc(rows, (count + 1) * sizeof(char *));
    rows[count++] = row;
  }
  fclose(file);
  qsort(rows, count, sizeof(char *), compare_strings);
  *out_count = count;
  return rows;
}

void e2e_rows_free(char **rows, size_t count)
{
  for (size_t i = 0; i < count; i++) {
    free(rows[i]);
  }
  free(rows);
}

bool e2e_same_file(const char *a, const char *b)
{
  FILE *fa = fopen(a, "rb");
  FILE *fb = fopen(b, "rb");
  bool same = fa != NULL && fb != NULL;

  while (same) {
    int ca = fgetc(fa);
    int cb = fgetc(fb);

    if (ca != cb) {
      same = false;
    } else if (ca == EOF) {
      break;
    }
  }
  if (fa != NULL) {
    fclose(fa);
  }
  if (fb != NULL) {
    fclose(fb);
  }
  return same;
}
