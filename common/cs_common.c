/*
 * cs_common.c - status tables, strings, the arena and time helpers.
 */
#include "cs_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cs_arena_chunk {
  cs_arena_chunk *next;
  size_t size;
  size_t used;
  _Alignas(16) uint8_t data[];
};

static const char *const status_names[] = {
#define CS_STATUS_NAME(name, cat, text) #name,
  CS_STATUS_LIST(CS_STATUS_NAME)
#undef CS_STATUS_NAME
};

static const char *const status_texts[] = {
#define CS_STATUS_TEXT(name, cat, text) text,
  CS_STATUS_LIST(CS_STATUS_TEXT)
#undef CS_STATUS_TEXT
};

static const cs_category status_categories[] = {
#define CS_STATUS_CAT(name, cat, text) CS_CAT_##cat,
  CS_STATUS_LIST(CS_STATUS_CAT)
#undef CS_STATUS_CAT
};

const char *cs_status_name(cs_status status)
{
  if ((unsigned)status >= CS_STATUS_COUNT) {
    return "unknown";
  }
  return status_names[status];
}

const char *cs_status_text(cs_status status)
{
  if ((unsigned)status >= CS_STATUS_COUNT) {
    return "unknown status";
  }
  return status_texts[status];
}

cs_category cs_status_category(cs_status status)
{
  if ((unsigned)status >= CS_STATUS_COUNT) {
    return CS_CAT_ABORT;
  }
  return status_categories[status];
}

cs_status cs_error_set(cs_error *err, cs_status status, const char *fmt, ...)
{
  va_list args;

  if (err == NULL) {
    return status;
  }
  err->status = status;
  va_start(args, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, args);
  va_end(args);
  return status;
}

void cs_error_clear(cs_error *err)
{
  err->status = CS_OK;
  err->message[0] = '\0';
}

bool cs_str_eq(cs_str a, cs_str b)
{
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool cs_str_eq_cstr(cs_str a, const char *b)
{
  cs_str other = { b, strlen(b) };

  return cs_str_eq(a, other);
}

static char ascii_lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool cs_str_eq_ascii_nocase(cs_str a, cs_str b)
{
  if (a.len != b.len) {
    return false;
  }
  for (size_t i = 0; i < a.len; i++) {
    if (ascii_lower(a.ptr[i]) != ascii_lower(b.ptr[i])) {
      return false;
    }
  }
  return true;
}

void cs_arena_init(cs_arena *arena, size_t chunk_size)
{
  arena->head = NULL;
  arena->chunk_size = chunk_size;
  arena->bytes_used = 0;
}

static cs_arena_chunk *arena_new_chunk(cs_arena *arena, size_t min_size)
{
  size_t size = arena->chunk_size > min_size ? arena->chunk_size : min_size;
  cs_arena_chunk *chunk = malloc(sizeof(*chunk) + size);

  if (chunk == NULL) {
    return NULL;
  }
  chunk->size = size;
  chunk->used = 0;
  chunk->next = arena->head;
  arena->head = chunk;
  return chunk;
}

void *cs_arena_alloc(cs_arena *arena, size_t size)
{
  size_t rounded = (size + 15) & ~(size_t)15;
  cs_arena_chunk *chunk = arena->head;

  if (rounded < size) {
    return NULL;
  }
  if (chunk == NULL || chunk->size - chunk->used < rounded) {
    chunk = arena_new_chunk(arena, rounded);
    if (chunk == NULL) {
      return NULL;
    }
  }

  void *out = chunk->data + chunk->used;

  chunk->used += rounded;
  arena->bytes_used += rounded;
  return out;
}

char *cs_arena_strndup(cs_arena *arena, const void *src, size_t len)
{
  char *out = cs_arena_alloc(arena, len + 1);

  if (out == NULL) {
    return NULL;
  }
  if (len > 0) {
    memcpy(out, src, len);
  }
  out[len] = '\0';
  return out;
}

void cs_arena_reset(cs_arena *arena)
{
  cs_arena_chunk *keep = NULL;
  cs_arena_chunk *chunk = arena->head;

  /* Keep one chunk of the usual size; oversized ones go back. */
  while (chunk != NULL) {
    cs_arena_chunk *next = chunk->next;

    if (keep == NULL && chunk->size == arena->chunk_size) {
      keep = chunk;
    } else {
      free(chunk);
    }
    chunk = next;
  }
  if (keep != NULL) {
    keep->next = NULL;
    keep->used = 0;
  }
  arena->head = keep;
  arena->bytes_used = 0;
}

void cs_arena_cleanup(cs_arena *arena)
{
  cs_arena_chunk *chunk = arena->head;

  while (chunk != NULL) {
    cs_arena_chunk *next = chunk->next;

    free(chunk);
    chunk = next;
  }
  arena->head = NULL;
  arena->bytes_used = 0;
}

/* Days from 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;

  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
  z += 719468;

  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);

  *day = (int)(doy - (153 * mp + 2) / 5 + 1);
  *month = m;
  *year = (int)(yoe + era * 400 + (m <= 2));
}

int64_t cs_time_from_civil(int year, int month, int day, int hour,
                           int minute, int second)
{
  return days_from_civil(year, month, day) * 86400 + hour * 3600 +
         minute * 60 + second;
}

char *cs_time_format(int64_t t, char buf[CS_TIME_TEXT_MAX])
{
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  int year, month, day;

  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  civil_from_days(days, &year, &month, &day);
  snprintf(buf, CS_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", year,
           month, day, (int)(secs / 3600), (int)(secs / 60 % 60),
           (int)(secs % 60));
  return buf;
}

/* Reads exactly `count` digits; false when one is missing. */
static bool read_digits(const char **text, int count, int *out)
{
  int value = 0;

  for (int i = 0; i < count; i++) {
    char c = (*text)[i];

    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  *text += count;
  *out = value;
  return true;
}

static int days_in_month(int year, int month)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30,
                              31, 31, 30, 31, 30, 31 };
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

  return month == 2 && leap ? 29 : days[month - 1];
}

static bool expect_char(const char **text, char want)
{
  if (**text != want) {
    return false;
  }
  (*text)++;
  return true;
}

static bool parse_offset(const char *p, int *out_seconds)
{
  int sign, hours, minutes;

  if (*p == 'Z' || *p == 'z') {
    *out_seconds = 0;
    return p[1] == '\0';
  }
  if (*p != '+' && *p != '-') {
    return false;
  }
  sign = *p == '-' ? -1 : 1;
  p++;
  if (!read_digits(&p, 2, &hours) || !expect_char(&p, ':') ||
      !read_digits(&p, 2, &minutes) || *p != '\0') {
    return false;
  }
  if (hours > 23 || minutes > 59) {
    return false;
  }
  *out_seconds = sign * (hours * 3600 + minutes * 60);
  return true;
}

bool cs_time_parse(const char *text, int64_t *out_time)
{
  const char *p = text;
  int year, month, day, hour, minute, second, offset;

  if (!read_digits(&p, 4, &year) || !expect_char(&p, '-') ||
      !read_digits(&p, 2, &month) || !expect_char(&p, '-') ||
      !read_digits(&p, 2, &day)) {
    return false;
  }
  if (*p != 'T' && *p != 't' && *p != ' ') {
    return false;
  }
  p++;
  if (!read_digits(&p, 2, &hour) || !expect_char(&p, ':') ||
      !read_digits(&p, 2, &minute) || !expect_char(&p, ':') ||
      !read_digits(&p, 2, &second)) {
    return false;
  }
  /* Times are whole seconds: a fraction other than zero cannot be
   * compared with certificate times exactly, so it is refused. */
  if (*p == '.') {
    p++;
    if (*p != '0') {
      return false;
    }
    while (*p == '0') {
      p++;
    }
  }
  if (!parse_offset(p, &offset)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month) || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  *out_time =
      cs_time_from_civil(year, month, day, hour, minute, second) - offset;
  return true;
}

void cs_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";

  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * len] = '\0';
}
