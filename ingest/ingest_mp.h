/*
 * ingest_mp.h - the msgpack pieces of the ingest module (internal).
 *
 * Two tools work on raw msgpack bytes:
 *
 *   - the extent scanner measures where one object ends from its type
 *     headers alone (str, bin and ext lengths, array and map counts),
 *     a few bytes at a time, so that the reader can refuse an object
 *     over the size limit and stream past it without holding it;
 *   - the value reader decodes an object that is already known to be
 *     complete and bounded, through a view that only shrinks.
 *
 * Neither allocates, and neither recurses: nesting costs one counter
 * per level, up to CS_INGEST_MAX_DEPTH levels.
 */
#ifndef CS_INGEST_MP_H
#define CS_INGEST_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cs_ingest.h"

typedef enum mp_kind {
  MP_NIL,
  MP_BOOL,
  MP_UINT,  /* positive fixint and uint 8..64 */
  MP_INT,   /* negative fixint and int 8..64, whatever the sign */
  MP_FLOAT,
  MP_STR,
  MP_BIN,
  MP_EXT,
  MP_ARRAY,
  MP_MAP
} mp_kind;

/* What one type header says, before its payload. */
typedef struct mp_head {
  mp_kind kind;
  uint8_t size;     /* bytes of the header itself */
  int8_t ext_type;  /* MP_EXT only */
  uint64_t len;     /* payload bytes: str/bin/ext data, number bytes */
  uint64_t values;  /* values inside: n for arrays, 2n for maps */
} mp_head;

typedef enum mp_head_result {
  MP_HEAD_OK,
  MP_HEAD_SHORT, /* the header goes on past the bytes given */
  MP_HEAD_BAD    /* 0xc1, the one byte msgpack never uses */
} mp_head_result;

static inline uint64_t mp_load_be(const uint8_t *p, unsigned n)
{
  uint64_t v = 0;

  for (unsigned i = 0; i < n; i++) {
    v = (v << 8) | p[i];
  }
  return v;
}

/* A header whose length field of `n` bytes follows the marker byte. */
static inline mp_head_result mp_head_sized(const uint8_t *p, size_t avail,
                                           unsigned n, mp_kind kind,
                                           mp_head *h)
{
  unsigned extra = kind == MP_EXT ? 1u : 0u;

  if (avail < 1u + n + extra) {
    return MP_HEAD_SHORT;
  }
  h->kind = kind;
  h->size = (uint8_t)(1u + n + extra);
  if (kind == MP_ARRAY) {
    h->values = mp_load_be(p + 1, n);
  } else if (kind == MP_MAP) {
    h->values = 2 * mp_load_be(p + 1, n);
  } else {
    h->len = mp_load_be(p + 1, n);
  }
  if (kind == MP_EXT) {
    h->ext_type = (int8_t)p[1 + n];
  }
  return MP_HEAD_OK;
}

/* Headers whose marker alone says everything but the payload size. */
static inline mp_head_result mp_head_fixed(uint8_t b, mp_head *h)
{
  if (b >= 0xcc && b <= 0xcf) {
    h->kind = MP_UINT;
    h->len = 1u << (b - 0xcc);
  } else if (b >= 0xd0 && b <= 0xd3) {
    h->kind = MP_INT;
    h->len = 1u << (b - 0xd0);
  } else if (b == 0xca || b == 0xcb) {
    h->kind = MP_FLOAT;
    h->len = b == 0xca ? 4 : 8;
  } else if (b == 0xc0) {
    h->kind = MP_NIL;
  } else if (b == 0xc2 || b == 0xc3) {
    h->kind = MP_BOOL;
  } else {
    return MP_HEAD_BAD;
  }
  return MP_HEAD_OK;
}

/* The 0xc4..0xdf markers that carry a length or count field. */
static inline mp_head_result mp_head_long(const uint8_t *p, size_t avail,
                                          mp_head *h)
{
  uint8_t b = p[0];

  switch (b) {
  case 0xc4: case 0xc5: case 0xc6:
    return mp_head_sized(p, avail, 1u << (b - 0xc4), MP_BIN, h);
  case 0xc7: case 0xc8: case 0xc9:
    return mp_head_sized(p, avail, 1u << (b - 0xc7), MP_EXT, h);
  case 0xd9: case 0xda: case 0xdb:
    return mp_head_sized(p, avail, 1u << (b - 0xd9), MP_STR, h);
  case 0xdc: case 0xdd:
    return mp_head_sized(p, avail, 2u << (b - 0xdc), MP_ARRAY, h);
  case 0xde: case 0xdf:
    return mp_head_sized(p, avail, 2u << (b - 0xde), MP_MAP, h);
  default:
    break;
  }
  if (b >= 0xd4 && b <= 0xd8) {
    if (avail < 2) {
      return MP_HEAD_SHORT;
    }
    h->kind = MP_EXT;
    h->size = 2;
    h->ext_type = (int8_t)p[1];
    h->len = 1u << (b - 0xd4);
    return MP_HEAD_OK;
  }
  return mp_head_fixed(b, h);
}

/* Parses the header at `p`; `avail` >= 1 bytes may be read. */
static inline mp_head_result mp_head_parse(const uint8_t *p, size_t avail,
                                           mp_head *h)
{
  uint8_t b = p[0];

  h->size = 1;
  h->ext_type = 0;
  h->len = 0;
  h->values = 0;
  if (b <= 0x7f) {
    h->kind = MP_UINT;
  } else if (b >= 0xe0) {
    h->kind = MP_INT;
  } else if (b <= 0x8f) {
    h->kind = MP_MAP;
    h->values = 2u * (b & 0x0fu);
  } else if (b <= 0x9f) {
    h->kind = MP_ARRAY;
    h->values = b & 0x0fu;
  } else if (b <= 0xbf) {
    h->kind = MP_STR;
    h->len = b & 0x1fu;
  } else {
    return mp_head_long(p, avail, h);
  }
  return MP_HEAD_OK;
}

/*
 * The extent scanner. Feed it the bytes of one object in order, in as
 * many pieces as they arrive; it keeps only counters.
 */
typedef struct cs_ingest_scan {
  uint64_t size;    /* bytes of the object passed so far */
  uint64_t payload; /* payload bytes of the current value still to pass */
  uint64_t pending; /* values not yet started, the root included */
  uint64_t left[CS_INGEST_MAX_DEPTH]; /* values left per open container */
  unsigned depth;
  bool too_deep;    /* nesting went past CS_INGEST_MAX_DEPTH */
  bool overflow;    /* counts no input could ever hold */
} cs_ingest_scan;

typedef enum cs_ingest_scan_result {
  CS_SCAN_MORE, /* the object goes on past the bytes given */
  CS_SCAN_DONE, /* the object ends within the bytes given */
  CS_SCAN_BAD   /* not msgpack: see `overflow`, else a 0xc1 byte */
} cs_ingest_scan_result;

void cs_ingest_scan_init(cs_ingest_scan *scan);

/*
 * Scans `bytes[0..len)`, the object's bytes that follow those already
 * fed. `*out_used` is how many it passed: for DONE, where the object
 * ends; for MORE, all but a header cut at the end (at most 8 bytes,
 * to be given again with what follows); for BAD, where the bad header
 * starts.
 */
cs_ingest_scan_result cs_ingest_scan_feed(cs_ingest_scan *scan,
                                          const uint8_t *bytes, size_t len,
                                          size_t *out_used);

/* The fewest bytes the whole object can take, from what was seen. */
uint64_t cs_ingest_scan_min_size(const cs_ingest_scan *scan);

/* A decoded value; str, bin and ext point into the view's bytes. */
typedef struct mp_value {
  mp_kind kind;
  bool boolean;
  int8_t ext_type;
  uint64_t u;          /* MP_UINT */
  int64_t i;           /* MP_INT */
  const uint8_t *ptr;  /* MP_STR, MP_BIN, MP_EXT */
  size_t len;
  uint64_t count;      /* MP_ARRAY elements, MP_MAP pairs */
} mp_value;

/* A bounded view: `p` only moves forward, never past `end`. */
typedef struct mp_view {
  const uint8_t *p;
  const uint8_t *end;
} mp_view;

/* Integers of 1 to 8 payload bytes; other kinds are left alone. */
static inline void mp_read_number(const uint8_t *p, const mp_head *h,
                                  mp_value *v)
{
  if (h->len == 0 || (h->kind != MP_UINT && h->kind != MP_INT)) {
    return;
  }

  uint64_t raw = mp_load_be(p, (unsigned)h->len);
  unsigned shift = 64u - 8u * (unsigned)h->len;

  if (h->kind == MP_UINT) {
    v->u = raw;
  } else {
    v->i = (int64_t)(raw << shift) >> shift;
  }
}

/* Small values that live in the marker byte itself. */
static inline void mp_read_marker(uint8_t b, mp_value *v)
{
  if (b <= 0x7f) {
    v->u = b;
  } else if (b >= 0xe0) {
    v->i = (int8_t)b;
  } else if (b == 0xc2 || b == 0xc3) {
    v->boolean = b == 0xc3;
  }
}

/* Any value: the general path of mp_next, out of line. */
bool cs_ingest_mp_next_any(mp_view *view, mp_value *v);

/*
 * Reads one value. Arrays and maps give their count and leave the view
 * on their first element; everything else is passed whole. False when
 * the value does not fit in the view or is not msgpack. Short strings,
 * most keys and values of a record, take the first branch; only the
 * fields that belong to the value's kind are set on that path.
 */
__attribute__((always_inline))
static inline bool mp_next(mp_view *view, mp_value *v)
{
  const uint8_t *p = view->p;

  if (p < view->end && (p[0] & 0xe0) == 0xa0) {
    size_t len = p[0] & 0x1fu;

    if (len >= (size_t)(view->end - p)) {
      return false;
    }
    v->kind = MP_STR;
    v->ptr = p + 1;
    v->len = len;
    v->count = 0;
    view->p = p + 1 + len;
    return true;
  }
  return cs_ingest_mp_next_any(view, v);
}

/* Passes the elements of an array or map just read; false if cut. */
static inline bool mp_skip(mp_view *view, const mp_value *v)
{
  uint64_t left = v->kind == MP_MAP ? 2 * v->count
                  : v->kind == MP_ARRAY ? v->count
                  : 0;
  mp_value inner;

  while (left > 0) {
    if (!mp_next(view, &inner)) {
      return false;
    }
    left--;
    if (inner.kind == MP_ARRAY) {
      left += inner.count;
    } else if (inner.kind == MP_MAP) {
      left += 2 * inner.count;
    }
  }
  return true;
}

/* Signed value of an integer of either kind; false if not one. */
static inline bool mp_as_int64(const mp_value *v, int64_t *out)
{
  if (v->kind == MP_INT) {
    *out = v->i;
    return true;
  }
  if (v->kind == MP_UINT && v->u <= (uint64_t)INT64_MAX) {
    *out = (int64_t)v->u;
    return true;
  }
  return false;
}

static inline bool mp_is_str(const mp_value *v, const char *text,
                             size_t text_len)
{
  return v->kind == MP_STR && v->len == text_len &&
         (text_len == 0 || memcmp(v->ptr, text, text_len) == 0);
}

#endif
