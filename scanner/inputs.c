/*
 * inputs.c - turns INPUT arguments into the list of files to read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scanner.h"

typedef struct path_list {
  char **items;
  size_t count;
  size_t capacity;
} path_list;

static bool path_list_push(path_list *list, char *path)
{
  if (path == NULL) {
    return false;
  }
  /* One spare slot keeps the array NULL-terminated. */
  if (list->count + 1 >= list->capacity) {
    size_t capacity = list->capacity ? list->capacity * 2 : 16;
    char **items = realloc(list->items, capacity * sizeof(*items));

    if (items == NULL) {
      free(path);
      return false;
    }
    list->items = items;
    list->capacity = capacity;
  }
  list->items[list->count++] = path;
  list->items[list->count] = NULL;
  return true;
}

static bool has_suffix(const char *name, const char *suffix)
{
  size_t name_len = strlen(name);
  size_t suffix_len = strlen(suffix);

  return name_len > suffix_len &&
         strcmp(name + name_len - suffix_len, suffix) == 0;
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name)
{
  size_t dir_len = strlen(dir);
  size_t name_len = strlen(name);
  char *path;

  while (dir_len > 1 && dir[dir_len - 1] == '/') {
    dir_len--;
  }
  path = malloc(dir_len + name_len + 2);

  if (path == NULL) {
    return NULL;
  }
  memcpy(path, dir, dir_len);
  path[dir_len] = '/';
  memcpy(path + dir_len + 1, name, name_len + 1);
  return path;
}

/* Adds the folder's dump files, sorted by name. */
static cs_status add_folder(path_list *list, const char *dir, cs_error *err)
{
  DIR *handle = opendir(dir);
  struct dirent *entry;
  size_t first = list->count;

  if (handle == NULL) {
    return cs_error_set(err, CS_ERR_USAGE, "%s: cannot list folder: %s",
                        dir, strerror(errno));
  }
  while ((entry = readdir(handle)) != NULL) {
    if (!has_suffix(entry->d_name, ".zst") &&
        !has_suffix(entry->d_name, ".msgpack")) {
      continue;
    }
    if (!path_list_push(list, join_path(dir, entry->d_name))) {
      closedir(handle);
      return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
    }
  }
  closedir(handle);
  if (list->count > first) {
    qsort(list->items + first, list->count - first, sizeof(char *),
          compare_names);
  }
  return CS_OK;
}

static cs_status add_argument(path_list *list, const char *arg,
                              cs_error *err)
{
  struct stat info;

  if (strcmp(arg, "-") != 0) {
    if (stat(arg, &info) != 0) {
      return cs_error_set(err, CS_ERR_USAGE, "%s: %s", arg,
                          strerror(errno));
    }
    if (S_ISDIR(info.st_mode)) {
      return add_folder(list, arg, err);
    }
  }
  if (!path_list_push(list, strdup(arg))) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  return CS_OK;
}

cs_status cs_inputs_expand(char *const *args, int count, char ***out_paths,
                           size_t *out_count, cs_error *err)
{
  path_list list = { NULL, 0, 0 };

  for (int i = 0; i < count; i++) {
    cs_status status = add_argument(&list, args[i], err);

    if (status != CS_OK) {
      if (list.items != NULL) {
        cs_inputs_free(list.items);
      }
      return status;
    }
  }
  if (list.count == 0) {
    free(list.items);
    return cs_error_set(err, CS_ERR_USAGE,
                        "no input: give dump files or folders holding "
                        "*.zst or *.msgpack files");
  }
  *out_paths = list.items;
  *out_count = list.count;
  return CS_OK;
}

void cs_inputs_free(char **paths)
{
  if (paths == NULL) {
    return;
  }
  for (char **p = paths; *p != NULL; p++) {
    free(*p);
  }
  free(paths);
}
