/*
 * ingest_stream.c - reads the input in blocks and decompresses it into
 * the window the reader scans.
 */
#include "ingest_stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Large enough that zstd writes big runs; small next to the limit. */
#define STREAM_INITIAL_WINDOW ((size_t)256 << 10)

#define ZSTD_FRAME_MAGIC 0xfd2fb528u
#define ZSTD_SKIPPABLE_MAGIC 0x184d2a50u
#define ZSTD_SKIPPABLE_MASK 0xfffffff0u

CS_PRINTF(3, 4)
static cs_status stream_error(cs_ingest_stream *stream, cs_status status,
                              const char *fmt, ...)
{
  va_list args;

  stream->status = status;
  va_start(args, fmt);
  vsnprintf(stream->why, sizeof(stream->why), fmt, args);
  va_end(args);
  return status;
}

cs_status cs_ingest_stream_init(cs_ingest_stream *stream, int fd,
                                bool owns_fd, const void *mem,
                                size_t mem_len, size_t cap_max)
{
  memset(stream, 0, sizeof(*stream));
  stream->fd = fd;
  stream->owns_fd = owns_fd;
  stream->mem = mem;
  stream->mem_len = mem_len;
  stream->status = CS_OK;
  stream->cap_max = cap_max;
  stream->cap = cap_max < STREAM_INITIAL_WINDOW ? cap_max
                                                : STREAM_INITIAL_WINDOW;
  stream->buf = malloc(stream->cap);
  if (stream->buf == NULL) {
    return CS_ERR_NOMEM;
  }
  return CS_OK;
}

void cs_ingest_stream_cleanup(cs_ingest_stream *stream)
{
  free(stream->buf);
  free(stream->in);
  ZSTD_freeDCtx(stream->dctx);
  if (stream->owns_fd && stream->fd >= 0) {
    close(stream->fd);
  }
  stream->buf = NULL;
  stream->in = NULL;
  stream->dctx = NULL;
  stream->fd = -1;
}

/* Reads up to `cap` source bytes; `*out_got` 0 marks the end. */
static cs_status source_read(cs_ingest_stream *stream, uint8_t *dst,
                             size_t cap, size_t *out_got)
{
  size_t got;

  if (stream->mem != NULL) {
    got = stream->mem_len - stream->mem_pos;
    got = got < cap ? got : cap;
    memcpy(dst, stream->mem + stream->mem_pos, got);
    stream->mem_pos += got;
  } else {
    ssize_t n;

    do {
      n = read(stream->fd, dst, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      return stream_error(stream, CS_ERR_READ, "read error: %s",
                          strerror(errno));
    }
    got = (size_t)n;
  }
  stream->bytes_read += got;
  stream->eof = got == 0;
  *out_got = got;
  return CS_OK;
}

static bool is_zstd_magic(const uint8_t *p, size_t len)
{
  if (len < 4) {
    return false;
  }

  uint32_t magic = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

  return magic == ZSTD_FRAME_MAGIC ||
         (magic & ZSTD_SKIPPABLE_MASK) == ZSTD_SKIPPABLE_MAGIC;
}

/*
 * Reads the first bytes into the window and looks for the zstd magic.
 * Raw msgpack stays where it is; zstd input moves to the input buffer.
 */
static cs_status stream_start(cs_ingest_stream *stream)
{
  size_t got;
  cs_status status;

  stream->started = true;
  while (stream->end - stream->start < 4 && !stream->eof) {
    status = source_read(stream, stream->buf + stream->end,
                         stream->cap - stream->end, &got);
    if (status != CS_OK) {
      return status;
    }
    stream->end += got;
  }

  size_t have = stream->end - stream->start;

  if (!is_zstd_magic(stream->buf + stream->start, have)) {
    return CS_OK;
  }
  stream->compressed = true;
  stream->in_cap = ZSTD_DStreamInSize();
  stream->in_cap = have > stream->in_cap ? have : stream->in_cap;
  stream->in = malloc(stream->in_cap);
  stream->dctx = ZSTD_createDCtx();
  if (stream->in == NULL || stream->dctx == NULL) {
    return stream_error(stream, CS_ERR_NOMEM, "out of memory");
  }
  memcpy(stream->in, stream->buf + stream->start, have);
  stream->zin.src = stream->in;
  stream->zin.size = have;
  stream->zin.pos = 0;
  stream->end = stream->start;
  return CS_OK;
}

/* Moves unconsumed bytes to the front; grows when they fill it all. */
static cs_status stream_make_room(cs_ingest_stream *stream)
{
  size_t used = stream->end - stream->start;

  if (stream->start > 0 && stream->cap - stream->end < stream->cap / 2) {
    memmove(stream->buf, stream->buf + stream->start, used);
    stream->start = 0;
    stream->end = used;
  }
  if (stream->end < stream->cap) {
    return CS_OK;
  }

  size_t grown = stream->cap > stream->cap_max / 2 ? stream->cap_max
                                                   : stream->cap * 2;
  uint8_t *buf = grown > stream->cap ? realloc(stream->buf, grown) : NULL;

  if (buf == NULL) {
    return stream_error(stream, CS_ERR_NOMEM,
                        "out of memory for a %zu-byte window", grown);
  }
  stream->buf = buf;
  stream->cap = grown;
  return CS_OK;
}

static cs_status fill_raw(cs_ingest_stream *stream)
{
  size_t got;
  cs_status status;

  if (stream->eof) {
    return CS_OK;
  }
  status = source_read(stream, stream->buf + stream->end,
                       stream->cap - stream->end, &got);
  stream->end += status == CS_OK ? got : 0;
  return status;
}

static uint64_t zstd_position(const cs_ingest_stream *stream)
{
  return stream->bytes_read - (stream->zin.size - stream->zin.pos);
}

/*
 * Decompresses until some output appears or the input ends. zstd may
 * still hold output when the input is used up, so the end is only
 * reached once a call with no input gives nothing.
 */
static cs_status fill_zstd(cs_ingest_stream *stream)
{
  size_t got;
  cs_status status;

  for (;;) {
    if (stream->zin.pos == stream->zin.size && !stream->eof) {
      status = source_read(stream, stream->in, stream->in_cap, &got);
      if (status != CS_OK) {
        return status;
      }
      stream->zin.size = got;
      stream->zin.pos = 0;
    }

    ZSTD_outBuffer out = { stream->buf + stream->end,
                           stream->cap - stream->end, 0 };
    size_t in_before = stream->zin.pos;
    size_t ret = ZSTD_decompressStream(stream->dctx, &out, &stream->zin);

    stream->end += out.pos;
    if (ZSTD_isError(ret)) {
      return stream_error(stream, CS_ERR_ZSTD,
                          "corrupt zstd stream: %s (compressed byte %llu)",
                          ZSTD_getErrorName(ret),
                          (unsigned long long)zstd_position(stream));
    }
    /* A call that did nothing says only what the next frame needs. */
    if (out.pos > 0 || stream->zin.pos != in_before) {
      stream->frame_open = ret != 0;
    }
    if (out.pos > 0) {
      return CS_OK;
    }
    if (stream->eof && stream->zin.pos == stream->zin.size) {
      break;
    }
  }
  if (stream->frame_open) {
    return stream_error(stream, CS_ERR_TRUNCATED,
                        "truncated input: the zstd frame is cut short at "
                        "compressed byte %llu",
                        (unsigned long long)stream->bytes_read);
  }
  return CS_OK;
}

cs_status cs_ingest_stream_fill(cs_ingest_stream *stream, bool *out_eof)
{
  cs_status status;
  size_t before;

  *out_eof = false;
  if (stream->status != CS_OK) {
    return stream->status;
  }
  status = stream_make_room(stream);
  if (status != CS_OK) {
    return status;
  }
  before = stream->end;
  if (!stream->started) {
    status = stream_start(stream);
    if (status != CS_OK || stream->end > before) {
      return status;
    }
  }
  status = stream->compressed ? fill_zstd(stream) : fill_raw(stream);
  if (stream->end > before) {
    return CS_OK;
  }
  if (status != CS_OK) {
    return status;
  }
  *out_eof = true;
  return CS_OK;
}
