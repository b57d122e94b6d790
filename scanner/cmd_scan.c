/*
 * cmd_scan.c - `certscan scan`: reads the options, loads signers and
 * rules, runs the pipeline and writes the reports.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "cs_verify.h"
#include "scanner.h"

#define MAX_SIGNER_PATHS 64
#define MAX_THREADS 256

typedef struct scan_options {
  const char *rules_path;
  const char *signer_paths[MAX_SIGNER_PATHS];
  size_t signer_path_count;
  const char *at_text;
  const char *partial_path;
  bool has_fail_under;
  double fail_under;
  bool no_findings;
  cs_scan_job job;
} scan_options;

enum {
  OPT_NO_DEVICES = 256,
  OPT_ALLOW_SHA1,
  OPT_FAIL_UNDER,
  OPT_TIMESTAMP_FORMAT,
  OPT_MAX_RECORD_SIZE,
  OPT_BATCH_SIZE,
  OPT_PARTIAL,
  OPT_NO_FINDINGS
};

static const struct option long_options[] = {
  { "rules", required_argument, NULL, 'r' },
  { "signers", required_argument, NULL, 's' },
  { "at", required_argument, NULL, 'a' },
  { "out", required_argument, NULL, 'o' },
  { "threads", required_argument, NULL, 't' },
  { "no-devices", no_argument, NULL, OPT_NO_DEVICES },
  { "allow-sha1", no_argument, NULL, OPT_ALLOW_SHA1 },
  { "fail-under", required_argument, NULL, OPT_FAIL_UNDER },
  { "timestamp-format", required_argument, NULL, OPT_TIMESTAMP_FORMAT },
  { "max-record-size", required_argument, NULL, OPT_MAX_RECORD_SIZE },
  { "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
  { "partial", required_argument, NULL, OPT_PARTIAL },
  { "no-findings", no_argument, NULL, OPT_NO_FINDINGS },
  { "quiet", no_argument, NULL, 'q' },
  { "verbose", no_argument, NULL, 'v' },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 }
};

static void print_help(FILE *out)
{
  fprintf(out,
    "usage: certscan scan --rules FILE --signers PATH [--signers PATH]...\n"
    "                     [OPTIONS] INPUT...\n"
    "\n"
    "Evaluates every client-certificate rule of FILE for every device\n"
    "of the INPUTs (dump files, '-' for standard input, or folders of\n"
    "*.zst and *.msgpack files) and writes the reports.\n"
    "\n"
    "  -r, --rules FILE        rules: API list envelope, array or object\n"
    "  -s, --signers PATH      signers JSON file or folder of <uuid>.pem\n"
    "  -a, --at TIME           evaluation time, RFC 3339 (default: now)\n"
    "  -o, --out DIR           write summary.json, devices.csv,\n"
    "                          posture.ndjson and report.html in DIR\n"
    "  -t, --threads N         worker threads (default: CPU count)\n"
    "      --no-devices        skip devices.csv and posture.ndjson\n"
    "      --no-findings       skip the fleet findings (shared serials\n"
    "                          and certificates), whose memory grows\n"
    "                          with the fleet\n"
    "      --allow-sha1        SHA-1 signatures are not weak\n"
    "      --fail-under PCT    exit 1 when a rule's compliance is lower\n"
    "      --timestamp-format F  rfc3339 (default), unix or unixnano\n"
    "      --max-record-size N   largest record in bytes (default 16 MiB)\n"
    "      --batch-size N      devices per work item (default 256)\n"
    "      --partial FILE      also write a partial result for merge\n"
    "  -q, --quiet             errors only on stderr\n"
    "  -v, --verbose           more detail on stderr\n"
    "\n"
    "exit status: 0 done, 1 below --fail-under, 2 usage or configuration\n"
    "error, 3 an input could not be read in full, a report could not be\n"
    "written, or the run was interrupted (what could be written is)\n");
}

static bool parse_count(const char *text, unsigned long long max,
                        unsigned long long *out)
{
  char *end;
  unsigned long long value;

  errno = 0;
  value = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value == 0 ||
      value > max || text[0] == '-') {
    return false;
  }
  *out = value;
  return true;
}

static int usage_error(const char *fmt, ...) CS_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
  va_list args;

  fprintf(stderr, "certscan scan: ");
  va_start(args, fmt);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fprintf(stderr, "\n(try certscan scan --help)\n");
  return CS_EXIT_CONFIG;
}

static int parse_option(scan_options *o, int option, const char *arg)
{
  unsigned long long value;
  char *end;

  switch (option) {
  case 'r':
    o->rules_path = arg;
    return 0;
  case 's':
    if (o->signer_path_count == MAX_SIGNER_PATHS) {
      return usage_error("too many --signers (at most 64)");
    }
    o->signer_paths[o->signer_path_count++] = arg;
    return 0;
  case 'a':
    o->at_text = arg;
    return 0;
  case 'o':
    o->job.out_dir = arg;
    return 0;
  case 't':
    if (!parse_count(arg, MAX_THREADS, &value)) {
      return usage_error("--threads wants 1 to 256, not '%s'", arg);
    }
    o->job.threads = (unsigned)value;
    return 0;
  case OPT_NO_DEVICES:
    o->job.write_devices = false;
    return 0;
  case OPT_ALLOW_SHA1:
    o->job.posture.allow_sha1 = true;
    return 0;
  case OPT_FAIL_UNDER:
    o->fail_under = strtod(arg, &end);
    if (end == arg || *end != '\0' ||
        !(o->fail_under >= 0 && o->fail_under <= 100)) {
      return usage_error("--fail-under wants 0 to 100, not '%s'", arg);
    }
    o->has_fail_under = true;
    return 0;
  case OPT_TIMESTAMP_FORMAT:
    if (!cs_report_time_format_parse(arg, &o->job.time_format)) {
      return usage_error("--timestamp-format: unknown format '%s'", arg);
    }
    return 0;
  case OPT_MAX_RECORD_SIZE:
    if (!parse_count(arg, CS_INGEST_MAX_RECORD_BYTES, &value) ||
        value < CS_INGEST_MIN_RECORD_BYTES) {
      return usage_error("--max-record-size wants %zu to %zu bytes, "
                         "not '%s'", CS_INGEST_MIN_RECORD_BYTES,
                         CS_INGEST_MAX_RECORD_BYTES, arg);
    }
    o->job.limits.max_record_bytes = (size_t)value;
    return 0;
  case OPT_BATCH_SIZE:
    if (!parse_count(arg, 65536, &value)) {
      return usage_error("--batch-size wants 1 to 65536, not '%s'", arg);
    }
    o->job.batch_devices = (size_t)value;
    return 0;
  case OPT_PARTIAL:
    o->partial_path = arg;
    return 0;
  case OPT_NO_FINDINGS:
    o->no_findings = true;
    return 0;
  case 'q':
    cs_log_set_level(CS_LOG_ERROR);
    o->job.progress = false;
    return 0;
  case 'v':
    cs_log_set_level(CS_LOG_DEBUG);
    return 0;
  default:
    return usage_error("%s", "unknown option");
  }
}

static void set_defaults(scan_options *o)
{
  /* The CPUs this process may run on, as affinity and cgroups allow. */
  unsigned cpus = uv_available_parallelism();

  memset(o, 0, sizeof(*o));
  o->job.threads = cpus < MAX_THREADS ? cpus : MAX_THREADS;
  o->job.batch_devices = 256;
  o->job.write_devices = true;
  o->job.time_format = CS_REPORT_TIME_RFC3339;
  o->job.progress = isatty(STDERR_FILENO) && getenv("CI") == NULL;
  cs_ingest_limits_default(&o->job.limits);
}

/* Returns -1 when the options are complete, else an exit status. */
static int parse_options(scan_options *o, int argc, char **argv)
{
  int option;

  set_defaults(o);
  optind = 1;
  while ((option = getopt_long(argc, argv, "r:s:a:o:t:qvh", long_options,
                               NULL)) != -1) {
    if (option == 'h') {
      print_help(stdout);
      return CS_EXIT_OK;
    }
    if (option == '?') {
      return usage_error("%s", "bad option");
    }

    int status = parse_option(o, option, optarg);

    if (status != 0) {
      return status;
    }
  }
  if (o->rules_path == NULL || o->signer_path_count == 0) {
    return usage_error("%s", "--rules and --signers are required");
  }
  if (o->at_text == NULL) {
    o->job.posture.at = (int64_t)time(NULL);
  } else if (!cs_time_parse(o->at_text, &o->job.posture.at)) {
    return usage_error("--at wants an RFC 3339 time, not '%s'", o->at_text);
  }
  if (o->job.time_format == CS_REPORT_TIME_UNIXNANO &&
      (o->job.posture.at > INT64_MAX / 1000000000 ||
       o->job.posture.at < INT64_MIN / 1000000000)) {
    return usage_error("--timestamp-format unixnano cannot write %s "
                       "(years 1678 to 2261 only)", o->at_text);
  }
  if (optind >= argc) {
    return usage_error("%s", "no INPUT given");
  }
  o->job.max_batches = 4 * (size_t)o->job.threads;
  return -1;
}

static void warn_about_signers(const cs_verify_signers *signers, int64_t at)
{
  for (size_t i = 0; i < cs_verify_signers_count(signers); i++) {
    const cs_verify_signer *signer = cs_verify_signers_get0(signers, i);
    unsigned warnings = cs_verify_signer_warnings(signer, at);
    const char *id = cs_verify_signer_id(signer);

    if (warnings & CS_SIGNER_WARN_NOT_CA) {
      cs_log(CS_LOG_WARN, "signer %s is not a CA certificate", id);
    }
    if (warnings & CS_SIGNER_WARN_NO_KEY_CERT_SIGN) {
      cs_log(CS_LOG_WARN, "signer %s lacks the keyCertSign key usage", id);
    }
    if (warnings & CS_SIGNER_WARN_EXPIRED) {
      cs_log(CS_LOG_WARN, "signer %s is expired at the evaluation time",
             id);
    }
  }
}

static cs_status load_config(scan_options *o, cs_verify_signers *signers,
                             cs_posture_rules **out_rules, cs_error *err)
{
  for (size_t i = 0; i < o->signer_path_count; i++) {
    cs_status status = cs_verify_signers_load(signers, o->signer_paths[i],
                                              err);

    if (status != CS_OK) {
      return status;
    }
  }
  warn_about_signers(signers, o->job.posture.at);

  cs_status status = cs_posture_rules_load(o->rules_path, signers,
                                           out_rules, err);

  if (status != CS_OK) {
    return status;
  }

  size_t skipped = cs_posture_rules_skipped(*out_rules);

  if (skipped > 0) {
    cs_log(CS_LOG_WARN,
           "%s: %zu rule(s) of other types skipped (only client "
           "certificate rules are evaluated)", o->rules_path, skipped);
  }
  if (cs_posture_rules_count(*out_rules) == 0) {
    cs_log(CS_LOG_WARN, "%s: no client certificate rule to evaluate",
           o->rules_path);
  }
  return CS_OK;
}

static cs_status make_report(const scan_options *o,
                             const cs_posture_rules *rules,
                             cs_report **out_report, cs_error *err)
{
  size_t count = cs_posture_rules_count(rules);
  cs_posture_rule_info *infos = calloc(count + 1, sizeof(*infos));
  cs_report_config config = {
    .tool_version = "certscan " CERTSCAN_VERSION,
    .evaluated_at = o->job.posture.at,
    .rules = infos,
    .rule_count = count,
    .rules_skipped = cs_posture_rules_skipped(rules),
    .no_fleet_findings = o->no_findings,
  };
  cs_status status;

  if (infos == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < count; i++) {
    infos[i] = *cs_posture_rules_info(rules, i);
  }
  status = cs_report_new(&config, out_report, err);
  free(infos);
  return status;
}

static cs_status record_options(const scan_options *o, cs_report *report,
                                cs_error *err)
{
  char threads[16];
  cs_status status;

  snprintf(threads, sizeof(threads), "%u", o->job.threads);
  status = cs_report_set_option(report, "rules", o->rules_path, err);
  for (size_t i = 0; i < o->signer_path_count && status == CS_OK; i++) {
    status = cs_report_set_option(report, "signers", o->signer_paths[i],
                                  err);
  }
  if (status == CS_OK) {
    status = cs_report_set_option(report, "threads", threads, err);
  }
  if (status == CS_OK) {
    status = cs_report_set_option(report, "allow_sha1",
                                  o->job.posture.allow_sha1 ? "true"
                                                            : "false",
                                  err);
  }
  return status;
}

static cs_status write_reports(const scan_options *o,
                               const cs_report *report, cs_error *err)
{
  cs_status status = cs_report_print_table(report, stdout, err);

  if (status == CS_OK && o->job.out_dir != NULL) {
    status = cs_report_write_summary(report, o->job.out_dir, err);
  }
  if (status == CS_OK && o->job.out_dir != NULL) {
    status = cs_report_write_html(report, o->job.out_dir, err);
  }
  if (status == CS_OK && o->partial_path != NULL) {
    status = cs_report_save_partial(report, o->partial_path, err);
  }
  return status;
}

/* Says in the summary whether devices.csv and posture.ndjson exist. */
static cs_status record_devices_files(const scan_options *o,
                                      cs_status scanned, cs_report *report,
                                      cs_error *err)
{
  char note[CS_ERROR_MESSAGE_MAX + 32];

  if (o->job.out_dir == NULL) {
    snprintf(note, sizeof(note), "not requested (no --out)");
  } else if (!o->job.write_devices) {
    snprintf(note, sizeof(note), "not requested (--no-devices)");
  } else if (scanned == CS_ERR_WRITE) {
    snprintf(note, sizeof(note), "not written: %s", err->message);
  } else {
    snprintf(note, sizeof(note), "written");
  }
  return cs_report_set_devices_files(report, note, err);
}

/* The partial's folder first, so that a refusal leaves no --out behind. */
static cs_status check_outputs(const scan_options *o, cs_error *err)
{
  if (o->partial_path != NULL &&
      cs_outputs_check_file("--partial", o->partial_path, err) != CS_OK) {
    return err->status;
  }
  if (o->job.out_dir != NULL &&
      cs_outputs_make_dir(o->job.out_dir, err) != CS_OK) {
    return err->status;
  }
  return CS_OK;
}

/* 3 when an input was cut short, 1 when a rule is below the bar. */
static int exit_status(const scan_options *o, const cs_report *report)
{
  cs_report_totals totals;
  double lowest;
  size_t rule;

  cs_report_get_totals(report, &totals);
  if (totals.inputs_failed > 0) {
    cs_log(CS_LOG_ERROR, "%zu of %zu inputs could not be read in full",
           totals.inputs_failed, totals.inputs);
    return CS_EXIT_INPUT;
  }
  if (o->has_fail_under && cs_report_min_compliance(report, &lowest, &rule)
      && lowest < o->fail_under) {
    const cs_posture_rule_info *info =
        cs_posture_rules_info(o->job.rules, rule);

    cs_log(CS_LOG_ERROR, "rule \"%s\" (%s): compliance %.4f%% is under "
           "--fail-under %g%%", info->name, info->id, lowest,
           o->fail_under);
    return CS_EXIT_BELOW_THRESHOLD;
  }
  return CS_EXIT_OK;
}

static int run(scan_options *o, int argc, char **argv)
{
  cs_verify_signers *signers = cs_verify_signers_new();
  cs_posture_rules *rules = NULL;
  cs_report *report = NULL;
  char **inputs = NULL;
  int exit_code = CS_EXIT_CONFIG;
  cs_error err;
  uint64_t started_ns = uv_hrtime();
  int64_t started_at = (int64_t)time(NULL);

  cs_error_clear(&err);
  if (signers == NULL) {
    cs_error_set(&err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  if (
      cs_inputs_expand(argv + optind, argc - optind, &inputs,
                       &o->job.input_count, &err) != CS_OK ||
      load_config(o, signers, &rules, &err) != CS_OK ||
      make_report(o, rules, &report, &err) != CS_OK ||
      record_options(o, report, &err) != CS_OK ||
      check_outputs(o, &err) != CS_OK) {
    goto done;
  }
  o->job.inputs = inputs;
  o->job.rules = rules;

  char threads[16];

  snprintf(threads, sizeof(threads), "%u", o->job.threads);
  setenv("UV_THREADPOOL_SIZE", threads, 1);
  /*
   * When only the per-device files failed (disk full), the scan is
   * complete: the summary is still written, and the exit says 3.
   */
  cs_status scanned = cs_scan_run(&o->job, report, &err);

  if (scanned == CS_ERR_USAGE) {
    goto done;
  }
  if (scanned != CS_OK && scanned != CS_ERR_WRITE) {
    exit_code = CS_EXIT_INPUT;
    goto done;
  }
  cs_report_set_timing(report, started_at,
                       (double)(uv_hrtime() - started_ns) / 1e9,
                       o->job.threads);
  if (record_devices_files(o, scanned, report, &err) != CS_OK) {
    goto done;
  }
  if (scanned == CS_ERR_WRITE) {
    cs_error_clear(&err);
  }
  if (write_reports(o, report, &err) != CS_OK) {
    exit_code = CS_EXIT_INPUT;
    goto done;
  }
  exit_code = scanned == CS_ERR_WRITE ? CS_EXIT_INPUT
                                      : exit_status(o, report);

done:
  if (err.status != CS_OK) {
    cs_log(CS_LOG_ERROR, "%s", err.message);
  }
  cs_report_free(report);
  cs_posture_rules_free(rules);
  cs_verify_signers_free(signers);
  cs_inputs_free(inputs);
  return exit_code;
}

int cs_cmd_scan(int argc, char **argv)
{
  scan_options options;
  int status = parse_options(&options, argc, argv);

  if (status >= 0) {
    return status;
  }
  return run(&options, argc, argv);
}
