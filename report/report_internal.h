/*
 * report_internal.h - what the files of the report module share: the
 * layout of a report, the fleet maps, text escaping and atomic files.
 * Nothing here is part of the public API.
 */
#ifndef CS_REPORT_INTERNAL_H
#define CS_REPORT_INTERNAL_H

#include <stdio.h>

#include <jansson.h>

#include "cs_report.h"

/* Where the certificate a row names was found; NONE when no cert. */
enum {
  CS_REPORT__LOC_SYSTEM,
  CS_REPORT__LOC_USER,
  CS_REPORT__LOC_PATH,
  CS_REPORT__LOC_NONE,
  CS_REPORT__LOC_COUNT
};

#define CS_REPORT__OS_COUNT 4 /* windows, mac, linux, other */

/*
 * Names as every output spells them, made from the lists of the
 * posture and ingest headers.
 */
extern const char *const cs_report__loc_names[CS_REPORT__LOC_COUNT];
extern const char *const cs_report__os_names[CS_REPORT__OS_COUNT];
extern const char *const cs_report__verdict_names[CS_VERDICT_COUNT];
extern const char *const cs_report__reason_codes[CS_REASON_COUNT];
extern const int cs_report__expiry_days[CS_REPORT_EXPIRY_WINDOWS];

/*
 * A growing byte buffer. A failed allocation sets `failed` and later
 * appends do nothing, so a writer checks once at the end of a line.
 */
typedef struct cs_report_buf {
  char *ptr;
  size_t len;
  size_t cap;
  bool failed;
} cs_report_buf;

void cs_report__buf_add(cs_report_buf *buf, const void *bytes, size_t len);
void cs_report__buf_addc(cs_report_buf *buf, char c);
void cs_report__buf_adds(cs_report_buf *buf, const char *text);
void cs_report__buf_printf(cs_report_buf *buf, const char *fmt, ...)
    CS_PRINTF(2, 3);
void cs_report__buf_free(cs_report_buf *buf);

/* How a string from the input is made safe for an output. */
typedef enum cs_report_text {
  CS_REPORT__TEXT_UTF8,    /* invalid UTF-8 bytes as \xNN, rest as is */
  CS_REPORT__TEXT_CSV,     /* also NUL, controls but TAB CR LF; "" */
  CS_REPORT__TEXT_HTML,    /* as CSV, plus & < > " ' as entities */
  CS_REPORT__TEXT_CONSOLE, /* every control byte, CR and LF included */
  CS_REPORT__TEXT_JSON     /* a quoted JSON string, \xNN for bad UTF-8 */
} cs_report_text;

void cs_report__text(cs_report_buf *buf, cs_str text, cs_report_text mode);

/*
 * The longest prefix of `text` with at most `max_chars` characters (a
 * character: a byte that is not a UTF-8 continuation byte); *out_cut
 * says whether anything was left out.
 */
cs_str cs_report__prefix(cs_str text, size_t max_chars, bool *out_cut);

/* True when `text` must be quoted as an RFC 4180 field. */
bool cs_report__csv_needs_quotes(cs_str text);

/* A jansson string holding `text` made valid UTF-8; NULL: no memory. */
json_t *cs_report__json_str(cs_str text);

/* A jansson string, or JSON null for a NULL `text`. */
json_t *cs_report__json_cstr(const char *text);

/*
 * Counts from a map of distinct values (serials or certificates). A
 * slot is 16 bytes because a fleet map holds one per distinct value;
 * a count stops at UINT32_MAX devices.
 */
typedef struct cs_report_map_entry {
  const uint8_t *key;
  uint64_t hash; /* compared before the key, which lives elsewhere */
  uint32_t len;
  uint32_t count; /* 0: the slot is free */
} cs_report_map_entry;

typedef struct cs_report_map {
  cs_report_map_entry *slots;
  size_t cap; /* a power of two, or 0 */
  size_t used;
  uint64_t seed[2];
  cs_arena keys;
} cs_report_map;

void cs_report__map_init(cs_report_map *map);
void cs_report__map_cleanup(cs_report_map *map);

/*
 * Adds `count` to the entry of `key`, creating it. CS_ERR_NOMEM, also
 * for a key over 4 GiB.
 */
CS_MUST_CHECK cs_status cs_report__map_add(cs_report_map *map,
                                           const uint8_t *key, size_t len,
                                           uint64_t count);

/* Keeps entries whose key and count pass a filter. */
typedef bool (*cs_report_map_filter)(const cs_report_map_entry *entry);

/*
 * The entries that pass `filter`, most devices first, ties by key
 * bytes: at most CS_REPORT_TOP_MAX into `top`, the number in
 * `*out_n`. Also sums, over every entry that passes, the entries in
 * `*out_entries` and their counts in `*out_devices`.
 */
void cs_report__map_top(const cs_report_map *map,
                        cs_report_map_filter filter,
                        const cs_report_map_entry **top, size_t *out_n,
                        uint64_t *out_entries, uint64_t *out_devices);

/* The filters of the three fleet findings. */
bool cs_report__is_shared_serial(const cs_report_map_entry *entry);
bool cs_report__is_placeholder_entry(const cs_report_map_entry *entry);
bool cs_report__is_shared_cert(const cs_report_map_entry *entry);

typedef struct cs_report_rule {
  char *id;
  char *name;
  char *type;
  char *operating_system; /* NULL when none */
  char *certificate_id;   /* NULL when none */
  char *input_json;       /* compact, as jansson writes it; or NULL */
  uint64_t verdicts[CS_VERDICT_COUNT];
  uint64_t reasons[CS_REASON_COUNT];
  uint64_t locations[CS_REPORT__LOC_COUNT][CS_VERDICT_COUNT];
  uint64_t oses[CS_REPORT__OS_COUNT][CS_VERDICT_COUNT];
  uint64_t expiring[CS_REPORT_EXPIRY_WINDOWS];
} cs_report_rule;

typedef struct cs_report_input {
  char *path;
  uint64_t bytes;
  uint64_t devices;
  uint64_t malformed;
  char *error; /* NULL when read in full */
} cs_report_input;

typedef struct cs_report_bad {
  size_t input;
  uint64_t record_index;
  uint64_t offset;
  char *device_id;
  size_t device_id_len;
  char *message;
} cs_report_bad;

typedef struct cs_report_option {
  char *name;
  char **values;
  size_t value_count;
} cs_report_option;

struct cs_report {
  char *tool_version;
  int64_t evaluated_at;
  int64_t started_at;
  double elapsed_seconds;
  unsigned threads;
  double read_seconds;
  uint64_t peak_rss_bytes;
  cs_report_option *options;
  size_t option_count;
  cs_report_rule *rules;
  size_t rule_count;
  uint64_t rules_skipped;
  bool no_fleet_findings;
  char *devices_files; /* what became of the per-device files */
  uint64_t certs_signatures;
  cs_report_input *inputs;
  size_t input_count;
  size_t input_cap;
  cs_report_bad *bad; /* CS_REPORT_MALFORMED_KEEP slots once used */
  size_t bad_count;
  uint64_t devices_evaluated;
  uint64_t devices_malformed;
  uint64_t certs_read;
  uint64_t certs_malformed;
  uint64_t missing_serials;
  cs_report_map serials;
  cs_report_map certs;
};

/*
 * CS_ERR_USAGE when `rows` (one per rule) or the device hold a verdict,
 * reason, store or OS outside its list; checked before any count or
 * line is changed.
 */
CS_MUST_CHECK cs_status cs_report__check_rows(const cs_report *report,
                                              const cs_device *device,
                                              const cs_report_row *rows,
                                              cs_error *err);

/* CS_REPORT__LOC_* of the cert entry a row names. */
int cs_report__location(const cs_report_row *row);

/* A copy of `text` made with malloc, or NULL for NULL or no memory. */
char *cs_report__strdup(const char *text);

/* Appends an input or a kept malformed record; CS_ERR_NOMEM. */
CS_MUST_CHECK cs_status cs_report__push_input(cs_report *report,
                                              const cs_report_input *in,
                                              cs_error *err);
CS_MUST_CHECK cs_status cs_report__push_bad(cs_report *report,
                                            const cs_report_bad *bad,
                                            cs_error *err);

/*
 * A file written under a temporary name beside `final_path` and
 * renamed over it by commit. Abort (also after a failed commit) removes
 * the temporary file. Commit and abort release everything.
 */
typedef struct cs_report_file {
  FILE *fp;
  char *tmp_path;
  char *final_path;
} cs_report_file;

CS_MUST_CHECK cs_status cs_report__file_open(cs_report_file *file,
                                             const char *dir,
                                             const char *name,
                                             cs_error *err);
CS_MUST_CHECK cs_status cs_report__file_commit(cs_report_file *file,
                                               cs_error *err);
void cs_report__file_abort(cs_report_file *file);

/* Writes `len` bytes; CS_ERR_WRITE naming the file when it fails. */
CS_MUST_CHECK cs_status cs_report__file_write(cs_report_file *file,
                                              const void *bytes, size_t len,
                                              cs_error *err);

/*
 * Builders that tolerate failed allocations: a NULL value or container
 * clears *ok (and the value is released), so a document is checked once.
 */
void cs_report__put(json_t *obj, const char *key, json_t *value, bool *ok);
void cs_report__append(json_t *array, json_t *value, bool *ok);

/* A JSON integer; counts past INT64_MAX are clamped. */
json_t *cs_report__count(uint64_t value);

/* The inputs as summary.json and partial files list them. */
json_t *cs_report__inputs_json(const cs_report *report, bool *ok);

/* Compliance of a rule as a fraction; false when applicable is 0. */
bool cs_report__compliance(const cs_report_rule *rule, double *out);

uint64_t cs_report__applicable(const cs_report_rule *rule);

/* The reason with most devices (list order on ties); NONE if none. */
cs_reason cs_report__top_reason(const cs_report_rule *rule);

#endif
