/*
 * ingest_stream.h - the byte layer of the ingest module (internal):
 * a file descriptor or a memory block, zstd or raw (chosen by the
 * first four bytes), turned into a window of decompressed bytes.
 *
 * The window holds the bytes not yet consumed, [start, end) of `buf`.
 * It grows only when one object needs it, up to `cap_max`; the reader
 * keeps every object it asks to hold below that bound.
 */
#ifndef CS_INGEST_STREAM_H
#define CS_INGEST_STREAM_H

#include <zstd.h>

#include "cs_common.h"

#define CS_INGEST_STREAM_WHY_MAX 160

typedef struct cs_ingest_stream {
  /* Source: a descriptor, or `mem` when it is not NULL. */
  int fd;
  bool owns_fd;
  const uint8_t *mem;
  size_t mem_len;
  size_t mem_pos;
  uint64_t bytes_read;
  bool eof;

  /* Compression, known after the first fill. */
  bool started;
  bool compressed;
  bool frame_open;
  ZSTD_DCtx *dctx;
  uint8_t *in;
  size_t in_cap;
  ZSTD_inBuffer zin;

  /* Decompressed bytes. `offset` is where buf[start] sits in them. */
  uint8_t *buf;
  size_t cap;
  size_t cap_max;
  size_t start;
  size_t end;
  uint64_t offset;

  /* The first input error, returned by every later fill. */
  cs_status status;
  char why[CS_INGEST_STREAM_WHY_MAX];
} cs_ingest_stream;

/*
 * Sets up a stream over `fd` (closed by cleanup when `owns_fd`) or,
 * when `mem` is not NULL, over `mem_len` borrowed bytes. `cap_max`
 * bounds the window. Returns CS_OK or CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_ingest_stream_init(cs_ingest_stream *stream,
                                              int fd, bool owns_fd,
                                              const void *mem,
                                              size_t mem_len,
                                              size_t cap_max);

void cs_ingest_stream_cleanup(cs_ingest_stream *stream);

/*
 * Appends decompressed bytes to the window, first making room (moving
 * the unconsumed bytes to the front, or growing the window when they
 * fill it). Returns CS_OK with `*out_eof` false when bytes were added,
 * CS_OK with `*out_eof` true at the clean end of the input, or a FILE
 * status (ERR_READ, ERR_ZSTD, ERR_TRUNCATED) with `stream->why` saying
 * what went wrong; bytes decoded before an error are returned first.
 * CS_ERR_NOMEM when the window cannot grow.
 */
CS_MUST_CHECK cs_status cs_ingest_stream_fill(cs_ingest_stream *stream,
                                              bool *out_eof);

/* Marks `len` bytes at the front of the window as consumed. */
static inline void cs_ingest_stream_consume(cs_ingest_stream *stream,
                                            size_t len)
{
  stream->start += len;
  stream->offset += len;
}

static inline size_t cs_ingest_stream_avail(const cs_ingest_stream *stream)
{
  return stream->end - stream->start;
}

#endif
