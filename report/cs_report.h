/*
 * cs_report.h - the run's aggregates and the files written from them:
 * summary.json, devices.csv, posture.ndjson, report.html, the console
 * table, and partial results that `certscan merge` adds together.
 *
 * Thread contract: a report is used by one thread at a time. The
 * scanner feeds it on the loop thread, in the completion of each batch,
 * so it needs no locks; worker threads only fill cs_report_row arrays.
 *
 * Ownership: the report copies every string it keeps (rule texts,
 * input paths, serials, messages). Rows and devices given to an add
 * call are only read during that call; they may live in a batch arena.
 *
 * Every file is written under a temporary name in the output folder
 * and renamed into place when complete, so a reader never sees half a
 * file under its final name.
 */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdio.h>

#include "cs_common.h"
#include "cs_ingest.h"
#include "cs_posture.h"

/* Entries listed in each fleet finding, most devices first. */
#define CS_REPORT_TOP_MAX 10

/* Malformed records kept with their details; all of them are counted. */
#define CS_REPORT_MALFORMED_KEEP 100

/* Expiry forecast windows, in days after the evaluation time. */
#define CS_REPORT_EXPIRY_WINDOWS 3
#define CS_REPORT_EXPIRY_DAYS { 7, 30, 90 }

/*
 * The verdict of one device for one rule, with the certificate that
 * the verdict names (the passing one, or the one that got furthest).
 * When result.cert_index >= 0, `cert_store` and `cert_path` say where
 * that entry was found (`cert_path` is borrowed, usually from the cert
 * entry, and may be empty). `has_cert` says the certificate parsed, so
 * that `cert_sha256` and `cert_not_after` hold its facts.
 */
typedef struct cs_report_row {
  cs_posture_result result;
  bool has_cert;
  uint8_t cert_sha256[32];
  int64_t cert_not_after;
  cs_store cert_store;
  cs_str cert_path;
} cs_report_row;

/*
 * What a report is made from. The rule infos are copied, so they may
 * be freed after cs_report_new; `input_json` must be NULL or a JSON
 * text (it becomes PostureExpectedJSON).
 */
typedef struct cs_report_config {
  const char *tool_version;
  int64_t evaluated_at;
  const cs_posture_rule_info *rules;
  size_t rule_count;
  size_t rules_skipped;
  /*
   * No fleet findings: the maps of serials and certificates are the one
   * part of a report that grows with the fleet, which capacity runs
   * over many millions of devices may not want to pay for.
   */
  bool no_fleet_findings;
} cs_report_config;

typedef struct cs_report cs_report;

/*
 * Returns CS_OK and an empty report in `*out_report`; CS_ERR_CONFIG
 * when a rule's input_json does not parse or a rule has no id;
 * CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_report_new(const cs_report_config *config,
                                      cs_report **out_report,
                                      cs_error *err);

/* Accepts NULL. */
void cs_report_free(cs_report *report);

/* Run metadata for the summary: wall clock start, seconds, threads. */
void cs_report_set_timing(cs_report *report, int64_t started_at,
                          double elapsed_seconds, unsigned threads);

/*
 * Where a run's time and memory went, for capacity planning: seconds
 * the loop thread spent reading input (decompressing and unpacking,
 * while the pool verified), and the process's peak resident memory.
 */
typedef struct cs_report_profile {
  double read_seconds;
  uint64_t peak_rss_bytes;
} cs_report_profile;

void cs_report_set_profile(cs_report *report,
                           const cs_report_profile *profile);

/*
 * What became of devices.csv and posture.ndjson in this run, for the
 * summary's `run.devices_files` and the page: "written", "not
 * requested", or why they were not written. Copied; CS_ERR_NOMEM only.
 */
CS_MUST_CHECK cs_status cs_report_set_devices_files(cs_report *report,
                                                    const char *note,
                                                    cs_error *err);

/*
 * Records one option of the run as given on the command line, for the
 * summary's `options`, in the order first set. Setting a name again
 * adds a value (several --signers): the summary then lists the values
 * in an array. CS_ERR_USAGE for a NULL or empty name; CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_report_set_option(cs_report *report,
                                             const char *name,
                                             const char *value,
                                             cs_error *err);

/*
 * Inputs are listed in the order added. `*out_input` is the index the
 * other calls take. cs_report_finish_input records the bytes read and,
 * when `error_text` is not NULL, why the input was not read in full.
 * An index out of range is CS_ERR_USAGE.
 */
CS_MUST_CHECK cs_status cs_report_add_input(cs_report *report,
                                            const char *path,
                                            size_t *out_input,
                                            cs_error *err);
CS_MUST_CHECK cs_status cs_report_finish_input(cs_report *report,
                                               size_t input,
                                               uint64_t bytes,
                                               const char *error_text,
                                               cs_error *err);

/* A record skipped by the reader; `device_id` empty when unreadable. */
typedef struct cs_report_malformed {
  uint64_t record_index;
  uint64_t offset;
  cs_str device_id;
  const char *message;
} cs_report_malformed;

CS_MUST_CHECK cs_status cs_report_add_malformed(
    cs_report *report, size_t input, const cs_report_malformed *malformed,
    cs_error *err);

/*
 * Adds one evaluated device: `rows` holds one row per rule, in rule
 * order, as the worker filled them. Returns CS_OK, CS_ERR_USAGE for an
 * input index out of range or a row with a verdict, reason or store
 * outside its list (the report is then unchanged), or CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_report_add_device(
    cs_report *report, size_t input, const cs_device *device,
    const cs_report_row *rows, const cs_posture_cert_counts *counts,
    cs_error *err);

/*
 * Adds every count of `from` into `into`: inputs and kept malformed
 * records are appended, fleet maps added together, start time the
 * earliest, elapsed seconds summed, threads the larger. Both must have
 * the same rules (ids, in order) and the same evaluation time, or it
 * is CS_ERR_CONFIG and `into` is unchanged; `from` must not be `into`
 * (CS_ERR_USAGE). CS_ERR_NOMEM may leave `into` partly merged.
 */
CS_MUST_CHECK cs_status cs_report_merge(cs_report *into,
                                        const cs_report *from,
                                        cs_error *err);

/*
 * A partial result: everything a report holds, fleet maps included, as
 * JSON lines (see docs/REPORTS.md). Saving writes `path` atomically.
 * Loading returns a new report in `*out_report`; CS_ERR_OPEN when the
 * file cannot be opened, CS_ERR_CONFIG naming the file and line when
 * it is not a valid partial, CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_report_save_partial(const cs_report *report,
                                               const char *path,
                                               cs_error *err);
CS_MUST_CHECK cs_status cs_report_load_partial(const char *path,
                                               cs_report **out_report,
                                               cs_error *err);

/* Totals of the run, for the scanner's messages and exit status. */
typedef struct cs_report_totals {
  uint64_t devices_read; /* evaluated + malformed */
  uint64_t devices_evaluated;
  uint64_t devices_malformed;
  uint64_t certs_read;
  uint64_t certs_malformed;
  uint64_t certs_signatures; /* signature checks run */
  uint64_t input_bytes;
  size_t inputs;
  size_t inputs_failed; /* finished with an error text */
} cs_report_totals;

void cs_report_get_totals(const cs_report *report,
                          cs_report_totals *out_totals);

size_t cs_report_rule_count(const cs_report *report);

/* Verdict counts of rule `index`; false when out of range. */
typedef struct cs_report_rule_counts {
  uint64_t verdicts[CS_VERDICT_COUNT]; /* indexed by cs_verdict */
  uint64_t applicable;                 /* pass + fail + unknown */
  uint64_t reasons[CS_REASON_COUNT];   /* indexed by cs_reason */
  uint64_t expiring[CS_REPORT_EXPIRY_WINDOWS]; /* 7, 30, 90 days */
} cs_report_rule_counts;

bool cs_report_get_rule_counts(const cs_report *report, size_t index,
                               cs_report_rule_counts *out_counts);

/* The fleet findings; never a verdict. */
typedef struct cs_report_fleet_counts {
  uint64_t shared_serials;        /* serials seen on more than 1 device */
  uint64_t shared_serial_devices; /* devices holding those serials */
  uint64_t shared_certs;          /* named certs on more than 1 device */
  uint64_t shared_cert_devices;   /* (device, shared cert) pairs */
  uint64_t placeholder_devices;   /* devices with a placeholder serial */
  uint64_t missing_serial_devices;
} cs_report_fleet_counts;

void cs_report_get_fleet_counts(const cs_report *report,
                                cs_report_fleet_counts *out_counts);

/*
 * True when `serial`, trimmed of ASCII white space and compared ASCII
 * case-insensitively, is a vendor placeholder ("To Be Filled By
 * O.E.M.", "Default string", "0123456789", ...) or one character
 * repeated ("00000000"). An empty serial is missing, not a placeholder.
 */
bool cs_report_serial_is_placeholder(cs_str serial);

/*
 * The lowest compliance, in percent, among rules with applicable > 0,
 * and that rule's index (either out pointer may be NULL). False when
 * no rule applies to any device: nothing is below a threshold then.
 */
bool cs_report_min_compliance(const cs_report *report, double *out_percent,
                              size_t *out_rule);

/* summary.json and report.html in folder `dir`. CS_ERR_WRITE, NOMEM. */
CS_MUST_CHECK cs_status cs_report_write_summary(const cs_report *report,
                                                const char *dir,
                                                cs_error *err);
CS_MUST_CHECK cs_status cs_report_write_html(const cs_report *report,
                                             const char *dir,
                                             cs_error *err);

/* The per-rule console table; CS_ERR_WRITE when `out` fails. */
CS_MUST_CHECK cs_status cs_report_print_table(const cs_report *report,
                                              FILE *out, cs_error *err);

/*
 * Per-device files, streamed in the order devices are added. open
 * creates the temporary file in `dir`; add writes one line per rule
 * whose verdict is not not_applicable (a device's lines are written
 * whole or not at all); close flushes, syncs and renames the file to
 * its final name and frees the writer whatever happens; abort removes
 * the temporary file and frees the writer (NULL accepted). Once an add
 * has failed, close refuses too (CS_ERR_WRITE) and leaves no file: a
 * file under its final name never misses a device. The report gives
 * the rule texts and must outlive the writer.
 */
typedef struct cs_report_csv cs_report_csv;

CS_MUST_CHECK cs_status cs_report_csv_open(const cs_report *report,
                                           const char *dir,
                                           cs_report_csv **out_csv,
                                           cs_error *err);
CS_MUST_CHECK cs_status cs_report_csv_add(cs_report_csv *csv,
                                          const cs_device *device,
                                          const cs_report_row *rows,
                                          cs_error *err);
CS_MUST_CHECK cs_status cs_report_csv_close(cs_report_csv *csv,
                                            cs_error *err);
void cs_report_csv_abort(cs_report_csv *csv);

/* How posture.ndjson writes Timestamp. */
typedef enum cs_report_time_format {
  CS_REPORT_TIME_RFC3339, /* "2026-12-01T00:00:00Z" */
  CS_REPORT_TIME_UNIX,    /* 1795996800 */
  CS_REPORT_TIME_UNIXNANO /* 1795996800000000000 */
} cs_report_time_format;

/* "rfc3339", "unix", "unixnano"; false for anything else. */
CS_MUST_CHECK bool cs_report_time_format_parse(
    const char *text, cs_report_time_format *out_format);

typedef struct cs_report_ndjson cs_report_ndjson;

/*
 * As the CSV writer. CS_ERR_USAGE when the evaluation time does not fit
 * the format (unixnano ends in 2262).
 */
CS_MUST_CHECK cs_status cs_report_ndjson_open(const cs_report *report,
                                              const char *dir,
                                              cs_report_time_format format,
                                              cs_report_ndjson **out_nd,
                                              cs_error *err);
CS_MUST_CHECK cs_status cs_report_ndjson_add(cs_report_ndjson *nd,
                                             const cs_device *device,
                                             const cs_report_row *rows,
                                             cs_error *err);
CS_MUST_CHECK cs_status cs_report_ndjson_close(cs_report_ndjson *nd,
                                               cs_error *err);
void cs_report_ndjson_abort(cs_report_ndjson *nd);

#endif
