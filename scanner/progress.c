/*
 * progress.c - one self-rewriting line on stderr while a scan runs:
 * bytes read, devices per second, and an estimate of the time left
 * from the input sizes. Only used when stderr is a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "scanner.h"

/* Redraw at most this often, in nanoseconds. */
#define PROGRESS_INTERVAL_NS 250000000ull

struct cs_progress {
  uint64_t total_bytes; /* 0 when unknown (standard input) */
  uint64_t started_ns;
  uint64_t drawn_ns;
  bool drawn;
};

cs_progress *cs_progress_new(char **paths, size_t count)
{
  cs_progress *progress = calloc(1, sizeof(*progress));
  struct stat info;

  if (progress == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    if (strcmp(paths[i], "-") == 0 || stat(paths[i], &info) != 0) {
      progress->total_bytes = 0;
      break;
    }
    progress->total_bytes += (uint64_t)info.st_size;
  }
  progress->started_ns = uv_hrtime();
  return progress;
}

void cs_progress_update(cs_progress *progress, uint64_t bytes_done,
                        uint64_t devices_done)
{
  uint64_t now = uv_hrtime();
  double seconds;

  if (now - progress->drawn_ns < PROGRESS_INTERVAL_NS) {
    return;
  }
  progress->drawn_ns = now;
  progress->drawn = true;
  seconds = (double)(now - progress->started_ns) / 1e9;
  if (seconds <= 0) {
    return;
  }

  double rate = (double)devices_done / seconds;

  fprintf(stderr, "\r%8.1f MB  %10llu devices  %9.0f devices/s",
          (double)bytes_done / 1e6, (unsigned long long)devices_done, rate);
  if (progress->total_bytes > 0 && bytes_done > 0) {
    double left = (double)(progress->total_bytes - bytes_done) *
                  seconds / (double)bytes_done;

    fprintf(stderr, "  ETA %5.0f s", left > 0 ? left : 0);
  }
  fflush(stderr);
}

void cs_progress_finish(cs_progress *progress)
{
  if (progress == NULL) {
    return;
  }
  if (progress->drawn) {
    fputc('\n', stderr);
  }
  free(progress);
}
