/*
 * main.c - certscan's entry point: picks the sub-command.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scanner.h"

static void print_usage(FILE *out)
{
  fprintf(out,
          "usage: certscan COMMAND [OPTIONS] ...\n"
          "\n"
          "commands:\n"
          "  scan   evaluate client-certificate posture rules over dumps\n"
          "  dump   print the objects of dumps as JSON lines\n"
          "  merge  combine partial results into one report\n"
          "\n"
          "`certscan COMMAND --help` describes each command.\n");
}

/*
 * A closed stdin, stdout or stderr would let the next file opened take
 * its number, and output meant for the terminal would land in it (the
 * event loop also refuses to run on those numbers): point a closed one
 * at /dev/null instead.
 */
static void keep_standard_streams_open(void)
{
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      int opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

      if (opened >= 0 && opened != fd) {
        close(opened);
      }
    }
  }
}

int main(int argc, char **argv)
{
  /*
   * Past a file-size limit, a write must fail with EFBIG so that the
   * writer removes its temporary file, not kill the process.
   */
  signal(SIGXFSZ, SIG_IGN);
  keep_standard_streams_open();

  if (argc < 2) {
    print_usage(stderr);
    return CS_EXIT_CONFIG;
  }

  const char *command = argv[1];

  if (strcmp(command, "scan") == 0) {
    return cs_cmd_scan(argc - 1, argv + 1);
  }
  if (strcmp(command, "dump") == 0) {
    return cs_cmd_dump(argc - 1, argv + 1);
  }
  if (strcmp(command, "merge") == 0) {
    return cs_cmd_merge(argc - 1, argv + 1);
  }
  if (strcmp(command, "--version") == 0 || strcmp(command, "version") == 0) {
    printf("certscan %s\n", CERTSCAN_VERSION);
    return CS_EXIT_OK;
  }
  if (strcmp(command, "--help") == 0 || strcmp(command, "help") == 0) {
    print_usage(stdout);
    return CS_EXIT_OK;
  }
  fprintf(stderr, "certscan: unknown command '%s'\n", command);
  print_usage(stderr);
  return CS_EXIT_CONFIG;
}
