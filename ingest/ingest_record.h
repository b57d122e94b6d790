/*
 * ingest_record.h - turns one complete msgpack object into a certinv
 * header or device, checking every field (internal).
 *
 * Each decoder reads `object` (the object's exact bytes, borrowed) and
 * copies what it keeps into `arena`. On failure it writes into `why`
 * what is wrong, without file or position: the reader adds those.
 */
#ifndef CS_INGEST_RECORD_H
#define CS_INGEST_RECORD_H

#include "cs_ingest.h"

#define CS_INGEST_WHY_MAX 256

/*
 * Decodes a header map. Returns CS_OK, CS_ERR_NOT_CERTINV (no certinv
 * header, or a field of the wrong type), CS_ERR_VERSION or
 * CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_ingest_decode_header(
    cs_bytes object, const cs_ingest_limits *limits, cs_arena *arena,
    cs_ingest_header *out, char why[CS_INGEST_WHY_MAX]);

/*
 * Decodes a device map. Returns CS_OK, CS_ERR_RECORD_SHAPE or
 * CS_ERR_NOMEM; `*out` is complete only on CS_OK.
 */
CS_MUST_CHECK cs_status cs_ingest_decode_device(
    cs_bytes object, const cs_ingest_limits *limits, cs_arena *arena,
    cs_device *out, char why[CS_INGEST_WHY_MAX]);

/*
 * The single-pass path for the common case: decodes a device from the
 * start of `bytes` (whatever follows it included) without framing it
 * first. True, with the device and `*out_used` (its size), only for a
 * complete, well-formed device map that holds no nested unknown value;
 * on false nothing is reported, and the caller frames the object and
 * decodes it with cs_ingest_decode_device, which then gives the same
 * result or says what is wrong. Arena memory used on false is kept.
 */
bool cs_ingest_decode_device_quick(cs_bytes bytes,
                                   const cs_ingest_limits *limits,
                                   cs_arena *arena, cs_device *out,
                                   size_t *out_used);

/*
 * Looks through the top-level keys of a map, which may be cut short
 * (only the bytes seen so far of an oversized record): the device_id
 * when it is a str (pointing into `object`), and whether a `format`
 * key is there. Never fails; what it cannot see it does not report.
 */
void cs_ingest_peek_keys(cs_bytes object, cs_str *out_device_id,
                         bool *out_has_format);

/*
 * Writes `text` for a message: printable ASCII as is, other bytes as
 * \xNN, cut to `max_shown` bytes with "..." after. `out` holds at least
 * 4 * max_shown + 4 bytes.
 */
void cs_ingest_escape(cs_str text, size_t max_shown, char *out);

#endif
