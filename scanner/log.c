/*
 * log.c - the program's messages on stderr, with levels.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "scanner.h"

static cs_log_level current_level = CS_LOG_INFO;

void cs_log_set_level(cs_log_level level)
{
  current_level = level;
}

void cs_log(cs_log_level level, const char *fmt, ...)
{
  static const char *const prefixes[] = { "error", "warning", "info",
                                          "debug" };
  va_list args;

  if (level > current_level) {
    return;
  }

  /* On a terminal, clear a progress line the message would run into. */
  if (isatty(STDERR_FILENO)) {
    fputs("\r\033[K", stderr);
  }
  fprintf(stderr, "certscan: %s: ", prefixes[level]);
  va_start(args, fmt);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fputc('\n', stderr);
}
