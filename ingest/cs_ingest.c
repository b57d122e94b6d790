/*
 * cs_ingest.c - the certinv reader: frames one msgpack object at a time
 * out of the decompressed window, refuses oversized ones by streaming
 * past them, and hands bounded ones to the record decoders.
 */
#include "cs_ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingest_mp.h"
#include "ingest_record.h"
#include "ingest_stream.h"

/* How much of a device_id a message quotes. */
#define ID_SHOWN_MAX 48

/*
 * The window may grow to this even under a smaller record limit: zstd
 * runs best when it can write long stretches at once.
 */
#define WINDOW_MIN ((size_t)256 << 10)

/* Room past the record limit for a header cut at the window's end. */
#define WINDOW_SLACK 16

struct cs_ingest_reader {
  cs_ingest_stream stream;
  cs_ingest_limits limits;
  char *path;
  const char *name; /* the file in messages */
  uint64_t record_index;
  bool header_seen;
  bool done;
};

typedef enum frame_kind {
  FRAME_OBJECT,  /* complete and within the limit, at the window start */
  FRAME_SKIPPED, /* over the limit; streamed past */
  FRAME_END      /* clean end of the input */
} frame_kind;

typedef struct object_frame {
  frame_kind kind;
  uint64_t size;
  bool too_deep;
} object_frame;

void cs_ingest_limits_default(cs_ingest_limits *limits)
{
  limits->max_record_bytes = CS_INGEST_DEFAULT_RECORD_BYTES;
  limits->max_certs_per_device = CS_INGEST_DEFAULT_CERTS;
  limits->max_string_bytes = CS_INGEST_DEFAULT_STRING_BYTES;
}

static cs_status take_limits(const cs_ingest_limits *given,
                             cs_ingest_limits *out, const char *name,
                             cs_error *err)
{
  cs_ingest_limits_default(out);
  if (given == NULL) {
    return CS_OK;
  }
  if (given->max_record_bytes != 0) {
    out->max_record_bytes = given->max_record_bytes;
  }
  if (given->max_certs_per_device != 0) {
    out->max_certs_per_device = given->max_certs_per_device;
  }
  if (given->max_string_bytes != 0) {
    out->max_string_bytes = given->max_string_bytes;
  }
  if (out->max_record_bytes < CS_INGEST_MIN_RECORD_BYTES ||
      out->max_record_bytes > CS_INGEST_MAX_RECORD_BYTES) {
    return cs_error_set(err, CS_ERR_USAGE,
                        "%s: record limit %zu is outside %zu to %zu bytes",
                        name, out->max_record_bytes,
                        CS_INGEST_MIN_RECORD_BYTES,
                        CS_INGEST_MAX_RECORD_BYTES);
  }
  return CS_OK;
}

static cs_status reader_new(const char *path, int fd, bool owns_fd,
                            const void *mem, size_t mem_len,
                            const cs_ingest_limits *limits,
                            cs_ingest_reader **out_reader, cs_error *err)
{
  cs_ingest_reader *r = calloc(1, sizeof(*r));
  size_t window;

  if (r == NULL || (r->path = strdup(path)) == NULL) {
    free(r);
    if (owns_fd) {
      close(fd);
    }
    return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", path);
  }
  r->limits = *limits;
  r->name = strcmp(path, "-") == 0 ? "<stdin>" : r->path;
  window = limits->max_record_bytes + WINDOW_SLACK;
  window = window < WINDOW_MIN ? WINDOW_MIN : window;
  if (cs_ingest_stream_init(&r->stream, fd, owns_fd, mem, mem_len,
                            window) != CS_OK) {
    cs_ingest_close(r);
    return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", path);
  }
  *out_reader = r;
  return CS_OK;
}

static cs_status open_fd(const char *path, int *out_fd, cs_error *err)
{
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0) {
    return cs_error_set(err, CS_ERR_OPEN, "%s: cannot open input: %s",
                        path, strerror(errno));
  }
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return cs_error_set(err, CS_ERR_OPEN,
                        "%s: cannot open input: it is a directory", path);
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  *out_fd = fd;
  return CS_OK;
}

cs_status cs_ingest_open(const char *path, const cs_ingest_limits *limits,
                         cs_ingest_reader **out_reader, cs_error *err)
{
  cs_ingest_limits checked;
  cs_status status;
  int fd = STDIN_FILENO;
  bool is_stdin = strcmp(path, "-") == 0;

  *out_reader = NULL;
  status = take_limits(limits, &checked, path, err);
  if (status != CS_OK) {
    return status;
  }
  if (!is_stdin) {
    status = open_fd(path, &fd, err);
    if (status != CS_OK) {
      return status;
    }
  }
  return reader_new(path, fd, !is_stdin, NULL, 0, &checked, out_reader,
                    err);
}

cs_status cs_ingest_open_memory(const char *name, const void *data,
                                size_t len, const cs_ingest_limits *limits,
                                cs_ingest_reader **out_reader, cs_error *err)
{
  static const uint8_t nothing[1];
  cs_ingest_limits checked;
  cs_status status;

  *out_reader = NULL;
  status = take_limits(limits, &checked, name, err);
  if (status != CS_OK) {
    return status;
  }
  return reader_new(name, -1, false, data != NULL ? data : nothing, len,
                    &checked, out_reader, err);
}

uint64_t cs_ingest_bytes_read(const cs_ingest_reader *reader)
{
  return reader->stream.bytes_read;
}

const char *cs_ingest_path(const cs_ingest_reader *reader)
{
  return reader->path;
}

void cs_ingest_close(cs_ingest_reader *reader)
{
  if (reader == NULL) {
    return;
  }
  cs_ingest_stream_cleanup(&reader->stream);
  free(reader->path);
  free(reader);
}

const char *cs_store_name(cs_store store)
{
  switch (store) {
  case CS_STORE_SYSTEM: return "system";
  case CS_STORE_USER: return "user";
  case CS_STORE_PATH: return "path";
  }
  return "unknown";
}

const char *cs_os_name(cs_os os)
{
  switch (os) {
  case CS_OS_WINDOWS: return "windows";
  case CS_OS_MAC: return "mac";
  case CS_OS_LINUX: return "linux";
  case CS_OS_OTHER: return "other";
  }
  return "other";
}

/* Ends the input with a FILE (or ABORT) status; later calls give END. */
CS_PRINTF(5, 6)
static cs_status file_error(cs_ingest_reader *r, cs_ingest_item *item,
                            cs_error *err, cs_status status,
                            const char *fmt, ...)
{
  char what[CS_ERROR_MESSAGE_MAX];
  va_list args;

  va_start(args, fmt);
  vsnprintf(what, sizeof(what), fmt, args);
  va_end(args);
  r->done = true;
  item->kind = CS_INGEST_END;
  return cs_error_set(err, status, "%s: record %llu at offset %llu: %s",
                      r->name,
                      (unsigned long long)item->position.record_index,
                      (unsigned long long)item->position.offset, what);
}

/* A record skipped: MALFORMED, with the device_id when it is known. */
static cs_status record_error(cs_ingest_reader *r, cs_ingest_item *item,
                              cs_error *err, cs_status status,
                              const char *why)
{
  char id[4 * ID_SHOWN_MAX + 4];
  char device[sizeof(id) + 16] = "";

  item->kind = CS_INGEST_MALFORMED;
  memset(&item->as, 0, sizeof(item->as));
  if (item->malformed_device_id.len > 0) {
    cs_ingest_escape(item->malformed_device_id, ID_SHOWN_MAX, id);
    snprintf(device, sizeof(device), " (device %s)", id);
  }
  return cs_error_set(err, status, "%s: record %llu at offset %llu%s: %s",
                      r->name,
                      (unsigned long long)item->position.record_index,
                      (unsigned long long)item->position.offset, device,
                      why);
}

static cs_status nomem(cs_ingest_reader *r, cs_ingest_item *item,
                       cs_error *err)
{
  return file_error(r, item, err, CS_ERR_NOMEM, "out of memory");
}

/* Keeps the device_id of a skipped record for the report. */
static cs_status keep_device_id(cs_ingest_reader *r, cs_arena *arena,
                                cs_ingest_item *item, cs_error *err,
                                cs_str id)
{
  if (id.len == 0 || id.len > r->limits.max_string_bytes) {
    return CS_OK;
  }

  char *copy = cs_arena_strndup(arena, id.ptr, id.len);

  if (copy == NULL) {
    return nomem(r, item, err);
  }
  item->malformed_device_id.ptr = copy;
  item->malformed_device_id.len = id.len;
  return CS_OK;
}

/*
 * The object outgrew the limit: keep what can be learnt from the bytes
 * seen so far, then drop them and stream past the rest.
 */
static cs_status start_skipping(cs_ingest_reader *r, cs_arena *arena,
                                cs_ingest_item *item, cs_error *err,
                                const cs_ingest_scan *scan)
{
  cs_ingest_stream *s = &r->stream;
  cs_bytes seen = { s->buf + s->start, cs_ingest_stream_avail(s) };
  cs_str id;
  bool has_format;
  cs_status status;

  if (!r->header_seen) {
    return file_error(r, item, err, CS_ERR_NOT_CERTINV,
                      "not a certinv dump: the first object is over the "
                      "%zu-byte record limit", r->limits.max_record_bytes);
  }
  cs_ingest_peek_keys(seen, &id, &has_format);
  status = keep_device_id(r, arena, item, err, id);
  if (status != CS_OK) {
    return status;
  }
  cs_ingest_stream_consume(s, (size_t)scan->size);
  return CS_OK;
}

static cs_status bad_msgpack(cs_ingest_reader *r, cs_ingest_item *item,
                             cs_error *err, const cs_ingest_scan *scan,
                             uint8_t byte)
{
  unsigned long long at = item->position.offset + scan->size;

  if (scan->overflow) {
    return file_error(r, item, err, CS_ERR_MSGPACK,
                      "corrupt msgpack stream: the count at offset %llu "
                      "declares more values than any input holds", at);
  }
  return file_error(r, item, err, CS_ERR_MSGPACK,
                    "corrupt msgpack stream: byte 0x%02x at offset %llu "
                    "is not a msgpack type", byte, at);
}

static cs_status cut_short(cs_ingest_reader *r, cs_ingest_item *item,
                           cs_error *err, const cs_ingest_scan *scan,
                           bool skipping)
{
  unsigned long long have = cs_ingest_stream_avail(&r->stream);

  if (skipping) {
    return file_error(r, item, err, CS_ERR_TRUNCATED,
                      "truncated input: a record over the %zu-byte limit "
                      "is cut short after %llu bytes",
                      r->limits.max_record_bytes, have + scan->size);
  }
  return file_error(r, item, err, CS_ERR_TRUNCATED,
                    "truncated input: the object is cut short after %llu "
                    "bytes", have);
}

/*
 * Finds the end of the next object. A bounded object is left whole at
 * the window start; an oversized one is streamed past, so that memory
 * never holds more than the limit of it.
 */
static cs_status frame_object(cs_ingest_reader *r, cs_arena *arena,
                              cs_ingest_item *item, cs_error *err,
                              object_frame *frame)
{
  cs_ingest_stream *s = &r->stream;
  cs_ingest_scan scan;
  bool skipping = false;
  bool eof;
  cs_status status;

  cs_ingest_scan_init(&scan);
  for (;;) {
    size_t from = skipping ? 0 : (size_t)scan.size;
    size_t used;
    cs_ingest_scan_result res = cs_ingest_scan_feed(
        &scan, s->buf + s->start + from, cs_ingest_stream_avail(s) - from,
        &used);

    if (skipping) {
      cs_ingest_stream_consume(s, used);
      from = used = 0;
    }
    if (res == CS_SCAN_BAD) {
      return bad_msgpack(r, item, err, &scan, s->buf[s->start + from + used]);
    }
    if (!skipping &&
        cs_ingest_scan_min_size(&scan) > r->limits.max_record_bytes) {
      status = start_skipping(r, arena, item, err, &scan);
      if (status != CS_OK) {
        return status;
      }
      skipping = true;
    }
    if (res == CS_SCAN_DONE) {
      frame->kind = skipping ? FRAME_SKIPPED : FRAME_OBJECT;
      frame->size = scan.size;
      frame->too_deep = scan.too_deep;
      return CS_OK;
    }
    status = cs_ingest_stream_fill(s, &eof);
    if (status != CS_OK) {
      return file_error(r, item, err, status, "%s", s->why);
    }
    if (eof && !skipping && cs_ingest_stream_avail(s) == 0) {
      frame->kind = FRAME_END;
      return CS_OK;
    }
    if (eof) {
      return cut_short(r, item, err, &scan, skipping);
    }
  }
}

static cs_status read_header(cs_ingest_reader *r, cs_arena *arena,
                             cs_ingest_item *item, cs_error *err,
                             cs_bytes object)
{
  char why[CS_INGEST_WHY_MAX];
  cs_status status = cs_ingest_decode_header(object, &r->limits, arena,
                                             &item->as.header, why);

  if (status != CS_OK) {
    return file_error(r, item, err, status, "%s", why);
  }
  r->header_seen = true;
  item->kind = CS_INGEST_HEADER;
  return CS_OK;
}

/*
 * Any object after the first that does not decode as a device is a
 * malformed device, unless it is a map with `format` and no device_id:
 * a header again, as where two dumps were concatenated.
 */
static cs_status read_device(cs_ingest_reader *r, cs_arena *arena,
                             cs_ingest_item *item, cs_error *err,
                             cs_bytes object)
{
  char why[CS_INGEST_WHY_MAX];
  cs_str id;
  bool has_format;
  cs_status status = cs_ingest_decode_device(object, &r->limits, arena,
                                             &item->as.device, why);

  if (status == CS_OK) {
    item->kind = CS_INGEST_DEVICE;
    return CS_OK;
  }
  if (status == CS_ERR_NOMEM) {
    return nomem(r, item, err);
  }
  cs_ingest_peek_keys(object, &id, &has_format);
  if (has_format && id.ptr == NULL) {
    return read_header(r, arena, item, err, object);
  }
  if (keep_device_id(r, arena, item, err, id) != CS_OK) {
    return CS_ERR_NOMEM;
  }
  return record_error(r, item, err, status, why);
}

static cs_status too_deep(cs_ingest_reader *r, cs_arena *arena,
                          cs_ingest_item *item, cs_error *err,
                          cs_bytes object)
{
  char why[64];
  cs_str id;
  bool has_format;

  if (!r->header_seen) {
    return file_error(r, item, err, CS_ERR_NOT_CERTINV,
                      "not a certinv dump: the first object nests deeper "
                      "than %d levels", CS_INGEST_MAX_DEPTH);
  }
  cs_ingest_peek_keys(object, &id, &has_format);
  if (keep_device_id(r, arena, item, err, id) != CS_OK) {
    return CS_ERR_NOMEM;
  }
  snprintf(why, sizeof(why), "record nests deeper than %d levels",
           CS_INGEST_MAX_DEPTH);
  return record_error(r, item, err, CS_ERR_RECORD_SHAPE, why);
}

static cs_status read_object(cs_ingest_reader *r, cs_arena *arena,
                             cs_ingest_item *item, cs_error *err,
                             const object_frame *frame)
{
  cs_ingest_stream *s = &r->stream;
  cs_bytes object = { s->buf + s->start, (size_t)frame->size };
  cs_status status;

  if (frame->too_deep) {
    status = too_deep(r, arena, item, err, object);
  } else if (!r->header_seen) {
    status = read_header(r, arena, item, err, object);
  } else {
    status = read_device(r, arena, item, err, object);
  }
  cs_ingest_stream_consume(s, (size_t)frame->size);
  return status;
}

static cs_status skipped(cs_ingest_reader *r, cs_ingest_item *item,
                         cs_error *err, const object_frame *frame)
{
  char why[128];

  snprintf(why, sizeof(why), "record of %llu bytes is over the %zu-byte "
           "limit", (unsigned long long)frame->size,
           r->limits.max_record_bytes);
  return record_error(r, item, err, CS_ERR_RECORD_TOO_BIG, why);
}

/*
 * Most records are whole in the window already: decode those in one
 * pass. Anything else (cut at the window's end, over the limit,
 * malformed, a header again) takes the framing path, which measures
 * the object first and then gives the same verdict or says what is
 * wrong.
 */
static bool quick_device(cs_ingest_reader *r, cs_arena *arena,
                         cs_ingest_item *item)
{
  cs_ingest_stream *s = &r->stream;
  size_t avail = cs_ingest_stream_avail(s);
  size_t max = r->limits.max_record_bytes;
  cs_bytes bytes = { s->buf + s->start, avail < max ? avail : max };
  size_t used;

  if (!r->header_seen ||
      !cs_ingest_decode_device_quick(bytes, &r->limits, arena,
                                     &item->as.device, &used)) {
    return false;
  }
  item->kind = CS_INGEST_DEVICE;
  cs_ingest_stream_consume(s, used);
  r->record_index++;
  return true;
}

/* An input with no object at all is no dump: say so, do not pass it. */
static cs_status finish(cs_ingest_reader *r, cs_ingest_item *item,
                        cs_error *err)
{
  if (!r->header_seen) {
    return file_error(r, item, err, CS_ERR_NOT_CERTINV,
                      "not a certinv dump: the input is empty");
  }
  r->done = true;
  return CS_OK;
}

cs_status cs_ingest_next(cs_ingest_reader *reader, cs_arena *arena,
                         cs_ingest_item *item, cs_error *err)
{
  object_frame frame = { FRAME_END, 0, false };
  cs_status status;

  memset(item, 0, sizeof(*item));
  item->kind = CS_INGEST_END;
  item->position.offset = reader->stream.offset;
  item->position.record_index = reader->record_index;
  if (err != NULL) {
    cs_error_clear(err);
  }
  if (reader->done || quick_device(reader, arena, item)) {
    return CS_OK;
  }
  status = frame_object(reader, arena, item, err, &frame);
  if (status != CS_OK) {
    return status;
  }
  if (frame.kind == FRAME_END) {
    return finish(reader, item, err);
  }
  reader->record_index++;
  if (frame.kind == FRAME_SKIPPED) {
    return skipped(reader, item, err, &frame);
  }
  return read_object(reader, arena, item, err, &frame);
}
