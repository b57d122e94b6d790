/*
 * report_text.c - making strings from the input safe for each output,
 * and writing files atomically.
 *
 * Strings in a dump are bytes: a device_id may hold NUL, control bytes
 * or invalid UTF-8. Every output keeps the bytes it can carry and
 * writes the others as the four characters \xNN, so that no output is
 * ever invalid (JSON needs UTF-8) or able to steer a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "report_internal.h"

static bool buf_reserve(cs_report_buf *buf, size_t extra)
{
  if (buf->failed) {
    return false;
  }
  if (buf->cap - buf->len > extra) {
    return true;
  }

  size_t want = buf->len + extra + 1;
  size_t cap = buf->cap > 0 ? buf->cap : 256;

  while (cap < want) {
    if (cap > SIZE_MAX / 2) {
      buf->failed = true;
      return false;
    }
    cap *= 2;
  }

  char *ptr = realloc(buf->ptr, cap);

  if (ptr == NULL) {
    buf->failed = true;
    return false;
  }
  buf->ptr = ptr;
  buf->cap = cap;
  return true;
}

void cs_report__buf_add(cs_report_buf *buf, const void *bytes, size_t len)
{
  if (len == 0 || !buf_reserve(buf, len)) {
    return;
  }
  memcpy(buf->ptr + buf->len, bytes, len);
  buf->len += len;
  buf->ptr[buf->len] = '\0';
}

void cs_report__buf_addc(cs_report_buf *buf, char c)
{
  cs_report__buf_add(buf, &c, 1);
}

void cs_report__buf_adds(cs_report_buf *buf, const char *text)
{
  cs_report__buf_add(buf, text, strlen(text));
}

void cs_report__buf_printf(cs_report_buf *buf, const char *fmt, ...)
{
  char small[256];
  va_list ap;

  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if (n < 0) {
    buf->failed = true;
    return;
  }
  if ((size_t)n < sizeof(small)) {
    cs_report__buf_add(buf, small, (size_t)n);
    return;
  }
  if (!buf_reserve(buf, (size_t)n)) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  buf->len += (size_t)n;
}

void cs_report__buf_free(cs_report_buf *buf)
{
  free(buf->ptr);
  buf->ptr = NULL;
  buf->len = 0;
  buf->cap = 0;
  buf->failed = false;
}

/*
 * The length of the well-formed UTF-8 sequence at `p` (1 to 4), or 0:
 * overlong forms, surrogates and code points past U+10FFFF are not.
 */
static size_t utf8_seq(const uint8_t *p, size_t n, uint32_t *out_cp)
{
  uint32_t cp;
  size_t len;

  if (p[0] < 0x80) {
    *out_cp = p[0];
    return 1;
  }
  if (p[0] >= 0xc2 && p[0] <= 0xdf) {
    cp = p[0] & 0x1f;
    len = 2;
  } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
    cp = p[0] & 0x0f;
    len = 3;
  } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
    cp = p[0] & 0x07;
    len = 4;
  } else {
    return 0;
  }
  if (n < len) {
    return 0;
  }
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (p[i] & 0x3f);
  }

  static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };

  if (cp < min_cp[len] || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  *out_cp = cp;
  return len;
}

static void add_hex_escape(cs_report_buf *buf, const uint8_t *bytes,
                           size_t len, bool json)
{
  for (size_t i = 0; i < len; i++) {
    cs_report__buf_printf(buf, json ? "\\\\x%02X" : "\\x%02X", bytes[i]);
  }
}

/* Whether a well-formed code point is written as \xNN in `mode`. */
static bool must_escape(uint32_t cp, cs_report_text mode)
{
  switch (mode) {
  case CS_REPORT__TEXT_CSV:
  case CS_REPORT__TEXT_HTML:
    return (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') ||
           cp == 0x7f;
  case CS_REPORT__TEXT_CONSOLE:
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
  default:
    return false;
  }
}

static const char *html_entity(uint32_t cp)
{
  switch (cp) {
  case '&':
    return "&amp;";
  case '<':
    return "&lt;";
  case '>':
    return "&gt;";
  case '"':
    return "&quot;";
  case '\'':
    return "&#39;";
  default:
    return NULL;
  }
}

static bool json_escape(cs_report_buf *buf, uint32_t cp)
{
  switch (cp) {
  case '"':
    cs_report__buf_adds(buf, "\\\"");
    return true;
  case '\\':
    cs_report__buf_adds(buf, "\\\\");
    return true;
  case '\n':
    cs_report__buf_adds(buf, "\\n");
    return true;
  case '\r':
    cs_report__buf_adds(buf, "\\r");
    return true;
  case '\t':
    cs_report__buf_adds(buf, "\\t");
    return true;
  default:
    break;
  }
  if (cp < 0x20) {
    cs_report__buf_printf(buf, "\\u%04x", (unsigned)cp);
    return true;
  }
  return false;
}

/* Writes one well-formed sequence of `len` bytes, escaped for `mode`. */
static void add_seq(cs_report_buf *buf, const uint8_t *p, size_t len,
                    uint32_t cp, cs_report_text mode)
{
  if (must_escape(cp, mode)) {
    add_hex_escape(buf, p, len, false);
    return;
  }
  if (mode == CS_REPORT__TEXT_CSV && cp == '"') {
    cs_report__buf_adds(buf, "\"\"");
    return;
  }
  if (mode == CS_REPORT__TEXT_HTML && html_entity(cp) != NULL) {
    cs_report__buf_adds(buf, html_entity(cp));
    return;
  }
  if (mode == CS_REPORT__TEXT_JSON && json_escape(buf, cp)) {
    return;
  }
  cs_report__buf_add(buf, p, len);
}

/* Printable ASCII that no mode escapes: copied in runs, the usual case. */
static size_t plain_run(const uint8_t *p, size_t n)
{
  size_t i = 0;

  while (i < n && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' &&
         p[i] != '\\' && p[i] != '&' && p[i] != '<' && p[i] != '>' &&
         p[i] != '\'') {
    i++;
  }
  return i;
}

void cs_report__text(cs_report_buf *buf, cs_str text, cs_report_text mode)
{
  const uint8_t *p = (const uint8_t *)text.ptr;
  size_t n = text.ptr == NULL ? 0 : text.len;
  bool json = mode == CS_REPORT__TEXT_JSON;

  if (json) {
    cs_report__buf_addc(buf, '"');
  }
  while (n > 0) {
    uint32_t cp = 0;
    size_t len = plain_run(p, n);

    if (len > 0) {
      cs_report__buf_add(buf, p, len);
    } else if ((len = utf8_seq(p, n, &cp)) == 0) {
      add_hex_escape(buf, p, 1, json);
      len = 1;
    } else {
      add_seq(buf, p, len, cp, mode);
    }
    p += len;
    n -= len;
  }
  if (json) {
    cs_report__buf_addc(buf, '"');
  }
}

cs_str cs_report__prefix(cs_str text, size_t max_chars, bool *out_cut)
{
  size_t chars = 0;

  *out_cut = false;
  for (size_t i = 0; text.ptr != NULL && i < text.len; i++) {
    if (((uint8_t)text.ptr[i] & 0xc0) == 0x80) {
      continue;
    }
    if (chars == max_chars) {
      *out_cut = true;
      text.len = i;
      return text;
    }
    chars++;
  }
  return text;
}

bool cs_report__csv_needs_quotes(cs_str text)
{
  for (size_t i = 0; text.ptr != NULL && i < text.len; i++) {
    char c = text.ptr[i];

    if (c == ',' || c == '"' || c == '\r' || c == '\n') {
      return true;
    }
  }
  return false;
}

json_t *cs_report__json_str(cs_str text)
{
  cs_report_buf buf = { 0 };

  cs_report__text(&buf, text, CS_REPORT__TEXT_UTF8);
  if (buf.failed) {
    cs_report__buf_free(&buf);
    return NULL;
  }

  json_t *out = json_stringn(buf.ptr != NULL ? buf.ptr : "", buf.len);

  cs_report__buf_free(&buf);
  return out;
}

json_t *cs_report__json_cstr(const char *text)
{
  if (text == NULL) {
    return json_null();
  }

  cs_str s = { text, strlen(text) };

  return cs_report__json_str(s);
}

char *cs_report__strdup(const char *text)
{
  if (text == NULL) {
    return NULL;
  }

  size_t len = strlen(text);
  char *out = malloc(len + 1);

  if (out != NULL) {
    memcpy(out, text, len + 1);
  }
  return out;
}

static char *path_join(const char *dir, const char *name)
{
  cs_report_buf buf = { 0 };

  if (dir != NULL) {
    cs_report__buf_adds(&buf, dir);
    if (buf.len > 0 && buf.ptr[buf.len - 1] != '/') {
      cs_report__buf_addc(&buf, '/');
    }
  }
  cs_report__buf_adds(&buf, name);
  if (buf.failed) {
    cs_report__buf_free(&buf);
    return NULL;
  }
  return buf.ptr;
}

/* Random enough that two writers of one folder never pick one name. */
static uint64_t tmp_suffix(void)
{
  uint64_t value = 0;

  if (getrandom(&value, sizeof(value), GRND_NONBLOCK) ==
      (ssize_t)sizeof(value)) {
    return value;
  }
  return ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
         (uint64_t)(uintptr_t)&value;
}

static void file_release(cs_report_file *file)
{
  free(file->tmp_path);
  free(file->final_path);
  file->tmp_path = NULL;
  file->final_path = NULL;
  file->fp = NULL;
}

/* Creates the temporary file; the umask applies as for any output. */
static int create_tmp(cs_report_file *file)
{
  size_t size = strlen(file->final_path) + 32;

  file->tmp_path = malloc(size);
  if (file->tmp_path == NULL) {
    errno = ENOMEM;
    return -1;
  }
  for (int attempt = 0; attempt < 8; attempt++) {
    snprintf(file->tmp_path, size, "%s.tmp-%016llx", file->final_path,
             (unsigned long long)tmp_suffix());

    int fd = open(file->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0666);

    if (fd >= 0 || errno != EEXIST) {
      return fd;
    }
  }
  return -1;
}

cs_status cs_report__file_open(cs_report_file *file, const char *dir,
                               const char *name, cs_error *err)
{
  file->fp = NULL;
  file->tmp_path = NULL;
  file->final_path = path_join(dir, name);
  if (file->final_path == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }

  int fd = create_tmp(file);

  if (fd < 0) {
    int saved = errno;

    cs_error_set(err, CS_ERR_WRITE, "cannot create a file beside %s: %s",
                 file->final_path, strerror(saved));
    file_release(file);
    return CS_ERR_WRITE;
  }
  file->fp = fdopen(fd, "w");
  if (file->fp == NULL) {
    close(fd);
    cs_report__file_abort(file);
    return cs_error_set(err, CS_ERR_NOMEM, "out of memory");
  }
  setvbuf(file->fp, NULL, _IOFBF, 1u << 16);
  return CS_OK;
}

cs_status cs_report__file_write(cs_report_file *file, const void *bytes,
                                size_t len, cs_error *err)
{
  if (len == 0 || fwrite(bytes, 1, len, file->fp) == len) {
    return CS_OK;
  }
  return cs_error_set(err, CS_ERR_WRITE, "cannot write %s: %s",
                      file->final_path, strerror(errno));
}

/* The rename is durable only once the folder itself is synced. */
static void sync_parent(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash == NULL ? cs_report__strdup(".")
                            : strndup(path, (size_t)(slash - path) + 1);

  if (dir == NULL) {
    return;
  }

  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

cs_status cs_report__file_commit(cs_report_file *file, cs_error *err)
{
  FILE *fp = file->fp;
  bool ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0;
  int saved = errno;

  file->fp = NULL;
  if (fclose(fp) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && rename(file->tmp_path, file->final_path) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    cs_error_set(err, CS_ERR_WRITE, "cannot write %s: %s", file->final_path,
                 strerror(saved));
    cs_report__file_abort(file);
    return CS_ERR_WRITE;
  }
  sync_parent(file->final_path);
  file_release(file);
  return CS_OK;
}

void cs_report__file_abort(cs_report_file *file)
{
  if (file->fp != NULL) {
    fclose(file->fp);
  }
  if (file->tmp_path != NULL) {
    unlink(file->tmp_path);
  }
  file_release(file);
}
