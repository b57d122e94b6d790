/*
 * outputs.c - checks of output paths, made before any input is read so
 * that a run never does its work only to find it cannot write it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner.h"

cs_status cs_outputs_make_dir(const char *dir, cs_error *err)
{
  struct stat info;

  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    return cs_error_set(err, CS_ERR_USAGE, "--out %s: cannot create: %s",
                        dir, strerror(errno));
  }
  if (stat(dir, &info) != 0 || !S_ISDIR(info.st_mode)) {
    return cs_error_set(err, CS_ERR_USAGE, "--out %s: not a folder", dir);
  }
  if (access(dir, W_OK) != 0) {
    return cs_error_set(err, CS_ERR_USAGE, "--out %s: not writable", dir);
  }
  return CS_OK;
}

cs_status cs_outputs_check_file(const char *option, const char *path,
                                cs_error *err)
{
  const char *slash = strrchr(path, '/');
  char dir[4096];
  struct stat info;

  if (slash == NULL) {
    snprintf(dir, sizeof(dir), ".");
  } else {
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
  }
  if (stat(dir, &info) != 0 || !S_ISDIR(info.st_mode) ||
      access(dir, W_OK) != 0) {
    return cs_error_set(err, CS_ERR_USAGE,
                        "%s %s: folder %s is missing or not "
                        "writable", option, path, dir);
  }
  if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
    return cs_error_set(err, CS_ERR_USAGE, "%s %s: is a folder", option,
                        path);
  }
  return CS_OK;
}
