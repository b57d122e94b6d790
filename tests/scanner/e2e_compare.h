/*
 * e2e_compare.h - helpers of the end-to-end tests: run a command,
 * compare a summary.json with a ground truth, read CSV rows.
 */
#ifndef CS_E2E_COMPARE_H
#define CS_E2E_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

/* Runs a shell command; returns its exit status, or -1. */
int e2e_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Compares every count the ground truth holds (devices, certificates
 * when present, rules_skipped, evaluated_at, and per rule its verdict
 * counts and reasons) with the summary. Prints each difference to
 * stderr; returns the number of differences (-1: a file unreadable).
 */
int e2e_compare_summary(const char *summary_path, const char *truth_path);

/*
 * Reads the CSV at `path` (RFC 4180 quoting), keeps the columns named
 * in `columns` (comma separated), and returns the rows joined with ','
 * and sorted, one string per row, in `*out_rows`; NULL on failure.
 */
char **e2e_csv_rows(const char *path, const char *columns,
                    size_t *out_count);
void e2e_rows_free(char **rows, size_t count);

/* True when both files hold the same bytes. */
bool e2e_same_file(const char *a, const char *b);

#endif
