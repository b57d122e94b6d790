/*
 * cmd_merge.c - `certscan merge`: adds partial results written by
 * `certscan scan --partial` (one per shard or task) into the report a
 * single run over all the shards would have written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scanner.h"

static const struct option merge_options[] = {
  { "out", required_argument, NULL, 'o' },
  { "partial", required_argument, NULL, 'p' },
  { "help", no_argument, NULL, 'h' },
  { NULL, 0, NULL, 0 }
};

static void print_merge_help(FILE *out)
{
  fprintf(out,
          "usage: certscan merge [--out DIR] [--partial FILE] PARTIAL...\n"
          "Combines partial results into one report: the console table,\n"
          "and summary.json and report.html in DIR when given; --partial\n"
          "writes the combined partial for a later merge. Each shard\n"
          "must be given once.\n"
          "\n"
          "exit status: 0 done, 2 usage error or a partial that cannot be\n"
          "read or merged, 3 a report could not be written\n");
}

static cs_status merge_all(char **paths, int count, cs_report **out,
                           cs_error *err)
{
  cs_report *total = NULL;
  cs_status status = cs_report_load_partial(paths[0], &total, err);

  for (int i = 1; i < count && status == CS_OK; i++) {
    cs_report *part = NULL;

    status = cs_report_load_partial(paths[i], &part, err);
    if (status == CS_OK) {
      status = cs_report_merge(total, part, err);
    }
    cs_report_free(part);
  }
  if (status != CS_OK) {
    cs_report_free(total);
    return status;
  }
  *out = total;
  return CS_OK;
}

/*
 * The same partial twice would count its devices twice and turn every
 * serial into a shared one: refuse it.
 */
static cs_status check_distinct(char **paths, int count, cs_error *err)
{
  struct stat a, b;

  for (int i = 0; i < count; i++) {
    if (stat(paths[i], &a) != 0) {
      continue;
    }
    for (int j = i + 1; j < count; j++) {
      if (stat(paths[j], &b) == 0 && a.st_dev == b.st_dev &&
          a.st_ino == b.st_ino) {
        return cs_error_set(err, CS_ERR_USAGE,
                            "%s and %s are the same partial: each shard "
                            "must be merged once", paths[i], paths[j]);
      }
    }
  }
  return CS_OK;
}

static cs_status check_outputs(const char *dir, const char *partial,
                               cs_error *err)
{
  if (dir != NULL && cs_outputs_make_dir(dir, err) != CS_OK) {
    return err->status;
  }
  if (partial != NULL &&
      cs_outputs_check_file("--partial", partial, err) != CS_OK) {
    return err->status;
  }
  return CS_OK;
}

static cs_status write_merged(const cs_report *report, const char *dir,
                              const char *partial, cs_error *err)
{
  cs_status status = cs_report_print_table(report, stdout, err);

  if (status == CS_OK && dir != NULL) {
    status = cs_report_write_summary(report, dir, err);
    if (status == CS_OK) {
      status = cs_report_write_html(report, dir, err);
    }
  }
  if (status == CS_OK && partial != NULL) {
    status = cs_report_save_partial(report, partial, err);
  }
  return status;
}

int cs_cmd_merge(int argc, char **argv)
{
  const char *dir = NULL;
  const char *partial = NULL;
  cs_report *report = NULL;
  cs_error err;
  int option;

  optind = 1;
  while ((option = getopt_long(argc, argv, "o:p:h", merge_options,
                               NULL)) != -1) {
    if (option == 'o') {
      dir = optarg;
    } else if (option == 'p') {
      partial = optarg;
    } else {
      print_merge_help(option == 'h' ? stdout : stderr);
      return option == 'h' ? CS_EXIT_OK : CS_EXIT_CONFIG;
    }
  }
  if (optind >= argc) {
    print_merge_help(stderr);
    return CS_EXIT_CONFIG;
  }
  if (check_distinct(argv + optind, argc - optind, &err) != CS_OK ||
      check_outputs(dir, partial, &err) != CS_OK ||
      merge_all(argv + optind, argc - optind, &report, &err) != CS_OK) {
    cs_log(CS_LOG_ERROR, "%s", err.message);
    return CS_EXIT_CONFIG;
  }
  if (write_merged(report, dir, partial, &err) != CS_OK) {
    cs_log(CS_LOG_ERROR, "%s", err.message);
    cs_report_free(report);
    return CS_EXIT_INPUT;
  }

  cs_report_totals totals;

  cs_report_get_totals(report, &totals);
  cs_report_free(report);
  return totals.inputs_failed > 0 ? CS_EXIT_INPUT : CS_EXIT_OK;
}
