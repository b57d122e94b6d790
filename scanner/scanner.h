/*
 * scanner.h - the parts of the certscan program: sub-commands, the
 * scan pipeline, input listing and the program's log.
 *
 * Only the program writes to stderr; the library modules return errors
 * with their context and the program decides how loud to be.
 */
#ifndef CS_SCANNER_H
#define CS_SCANNER_H

#include <stdio.h>

#include "cs_common.h"
#include "cs_posture.h"
#include "cs_report.h"

#define CERTSCAN_VERSION "0.1.0"

/* Exit statuses, as documented in the README. */
enum {
  CS_EXIT_OK = 0,
  CS_EXIT_BELOW_THRESHOLD = 1,
  CS_EXIT_CONFIG = 2,
  CS_EXIT_INPUT = 3
};

typedef enum cs_log_level {
  CS_LOG_ERROR,
  CS_LOG_WARN,
  CS_LOG_INFO,
  CS_LOG_DEBUG
} cs_log_level;

void cs_log_set_level(cs_log_level level);
void cs_log(cs_log_level level, const char *fmt, ...) CS_PRINTF(2, 3);

/*
 * Expands the INPUT arguments: a file, "-" for standard input, or a
 * folder, whose *.zst and *.msgpack files are taken in name order.
 * On success `*out_paths` is a NULL-terminated array the caller frees
 * with cs_inputs_free. A path that does not exist is CS_ERR_USAGE.
 */
CS_MUST_CHECK cs_status cs_inputs_expand(char *const *args, int count,
                                         char ***out_paths,
                                         size_t *out_count, cs_error *err);
void cs_inputs_free(char **paths);

/* What `certscan scan` runs, once its options are read and checked. */
typedef struct cs_scan_job {
  char **inputs;
  size_t input_count;
  const cs_posture_rules *rules;
  cs_posture_options posture;
  cs_ingest_limits limits;
  unsigned threads;
  size_t batch_devices;
  size_t max_batches;
  const char *out_dir;         /* NULL: no files */
  bool write_devices;          /* devices.csv and posture.ndjson */
  cs_report_time_format time_format;
  bool progress;               /* stderr is a terminal */
} cs_scan_job;

/*
 * Reads every input through the worker pool and fills `report`. The
 * per-device files are written in input order when the job asks for
 * them. Input problems are recorded in the report (and logged), not
 * returned: the status is CS_OK unless the run could not go on
 * (CS_ERR_NOMEM, CS_ERR_WRITE).
 */
CS_MUST_CHECK cs_status cs_scan_run(const cs_scan_job *job,
                                    cs_report *report, cs_error *err);

/* The progress line on a terminal: bytes, devices/s, ETA. */
typedef struct cs_progress cs_progress;

cs_progress *cs_progress_new(char **paths, size_t count);
void cs_progress_update(cs_progress *progress, uint64_t bytes_done,
                        uint64_t devices_done);
void cs_progress_finish(cs_progress *progress);

/*
 * Creates the --out folder when missing and checks that it is a
 * writable folder; CS_ERR_USAGE naming it otherwise.
 */
CS_MUST_CHECK cs_status cs_outputs_make_dir(const char *dir, cs_error *err);

/*
 * Checks that a file can be written at `path` (its folder exists and is
 * writable, and it is not a folder); CS_ERR_USAGE naming `option`.
 */
CS_MUST_CHECK cs_status cs_outputs_check_file(const char *option,
                                              const char *path,
                                              cs_error *err);

int cs_cmd_scan(int argc, char **argv);
int cs_cmd_dump(int argc, char **argv);
int cs_cmd_merge(int argc, char **argv);

#endif
