/*
 * ingest_mp.c - the msgpack extent scanner: where does this object
 * end, and is it nested too deep, from its headers alone.
 */
#include "ingest_mp.h"

/*
 * A bound on values still expected. Every value takes at least one
 * byte, so an object declaring more would need 256 TiB: no real input
 * does, and the counter stays far from wrapping.
 */
#define SCAN_PENDING_MAX ((uint64_t)1 << 48)

void cs_ingest_scan_init(cs_ingest_scan *scan)
{
  scan->size = 0;
  scan->payload = 0;
  scan->pending = 1;
  scan->depth = 0;
  scan->too_deep = false;
  scan->overflow = false;
}

/* Keeps one counter per open container until the depth bound. */
static void scan_track_depth(cs_ingest_scan *scan, const mp_head *h)
{
  if (scan->too_deep) {
    return;
  }
  if (scan->depth > 0) {
    scan->left[scan->depth - 1]--;
  }
  if (h->values > 0) {
    if (scan->depth == CS_INGEST_MAX_DEPTH) {
      scan->too_deep = true;
      return;
    }
    scan->left[scan->depth++] = h->values;
    return;
  }
  while (scan->depth > 0 && scan->left[scan->depth - 1] == 0) {
    scan->depth--;
  }
}

static bool scan_account(cs_ingest_scan *scan, const mp_head *h)
{
  scan->pending--;
  if (h->values > SCAN_PENDING_MAX - scan->pending) {
    scan->overflow = true;
    return false;
  }
  scan->size += h->size;
  scan->pending += h->values;
  scan->payload = h->len;
  scan_track_depth(scan, h);
  return true;
}

cs_ingest_scan_result cs_ingest_scan_feed(cs_ingest_scan *scan,
                                          const uint8_t *bytes, size_t len,
                                          size_t *out_used)
{
  size_t i = 0;
  mp_head h;

  for (;;) {
    if (scan->payload > 0) {
      size_t take = scan->payload < len - i ? (size_t)scan->payload
                                            : len - i;

      i += take;
      scan->payload -= take;
      scan->size += take;
      if (scan->payload > 0) {
        *out_used = i;
        return CS_SCAN_MORE;
      }
    }
    if (scan->pending == 0) {
      *out_used = i;
      return CS_SCAN_DONE;
    }
    if (i == len) {
      *out_used = i;
      return CS_SCAN_MORE;
    }

    mp_head_result r = mp_head_parse(bytes + i, len - i, &h);

    *out_used = i;
    if (r == MP_HEAD_SHORT) {
      return CS_SCAN_MORE;
    }
    if (r == MP_HEAD_BAD || !scan_account(scan, &h)) {
      return CS_SCAN_BAD;
    }
    i += h.size;
  }
}

uint64_t cs_ingest_scan_min_size(const cs_ingest_scan *scan)
{
  uint64_t rest = scan->payload + scan->pending;

  if (rest > UINT64_MAX - scan->size) {
    return UINT64_MAX;
  }
  return scan->size + rest;
}

bool cs_ingest_mp_next_any(mp_view *view, mp_value *v)
{
  mp_head h;
  size_t avail = (size_t)(view->end - view->p);

  *v = (mp_value){ .kind = MP_NIL };
  if (avail == 0 || mp_head_parse(view->p, avail, &h) != MP_HEAD_OK) {
    return false;
  }
  if (h.len > avail - h.size) {
    return false;
  }

  const uint8_t *payload = view->p + h.size;

  v->kind = h.kind;
  v->ext_type = h.ext_type;
  v->ptr = payload;
  v->len = (size_t)h.len;
  v->count = h.kind == MP_MAP ? h.values / 2 : h.values;
  mp_read_marker(view->p[0], v);
  mp_read_number(payload, &h, v);
  view->p = payload + h.len;
  return true;
}
