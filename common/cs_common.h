/*
 * cs_common.h - what every certscan module shares: status codes, byte
 * views, a bump allocator for batch-owned memory, and time helpers.
 *
 * Nothing here logs, and nothing here knows about OpenSSL, zstd or
 * msgpack: the module sits at the bottom of the dependency graph.
 */
#ifndef CS_COMMON_H
#define CS_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_MUST_CHECK __attribute__((warn_unused_result))
#define CS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/*
 * What the caller should do after an error:
 *   NONE    - nothing went wrong;
 *   RECORD  - skip this record, count it as malformed, keep reading;
 *   FILE    - the rest of this input cannot be read; go to the next one;
 *   ABORT   - the run cannot go on (configuration, usage, memory).
 */
typedef enum cs_category {
  CS_CAT_NONE,
  CS_CAT_RECORD,
  CS_CAT_FILE,
  CS_CAT_ABORT
} cs_category;

/* X(name, category, short description): one list makes every table. */
#define CS_STATUS_LIST(X)                                                  \
  X(OK, NONE, "success")                                                   \
  X(ERR_NOMEM, ABORT, "out of memory")                                     \
  X(ERR_USAGE, ABORT, "usage error")                                       \
  X(ERR_CONFIG, ABORT, "configuration error")                              \
  X(ERR_OPEN, FILE, "cannot open input")                                   \
  X(ERR_READ, FILE, "read error")                                          \
  X(ERR_ZSTD, FILE, "corrupt zstd stream")                                 \
  X(ERR_TRUNCATED, FILE, "truncated input")                                \
  X(ERR_MSGPACK, FILE, "corrupt msgpack stream")                           \
  X(ERR_NOT_CERTINV, FILE, "not a certinv dump")                           \
  X(ERR_VERSION, FILE, "unsupported certinv version")                      \
  X(ERR_RECORD_SHAPE, RECORD, "malformed record")                          \
  X(ERR_RECORD_TOO_BIG, RECORD, "record over the size limit")              \
  X(ERR_CERT_MALFORMED, RECORD, "malformed certificate")                   \
  X(ERR_WRITE, ABORT, "cannot write output")                              \
  X(ERR_INTERRUPTED, ABORT, "interrupted")

typedef enum cs_status {
#define CS_STATUS_ENUM(name, cat, text) CS_##name,
  CS_STATUS_LIST(CS_STATUS_ENUM)
#undef CS_STATUS_ENUM
  CS_STATUS_COUNT
} cs_status;

/* "ERR_ZSTD" for CS_ERR_ZSTD; "unknown" outside the list. */
const char *cs_status_name(cs_status status);

/* A short lower-case description, as in the list above. */
const char *cs_status_text(cs_status status);

cs_category cs_status_category(cs_status status);

/*
 * An error with its full context. `message` is complete on its own:
 * the module that fills it names the file, byte offset, record index
 * and whatever else locates the problem.
 */
#define CS_ERROR_MESSAGE_MAX 512

typedef struct cs_error {
  cs_status status;
  char message[CS_ERROR_MESSAGE_MAX];
} cs_error;

/* Sets `err` (when not NULL) and returns `status`, for one-line exits. */
cs_status cs_error_set(cs_error *err, cs_status status, const char *fmt,
                       ...) CS_PRINTF(3, 4);

void cs_error_clear(cs_error *err);

/* A borrowed run of bytes; never owns what it points at. */
typedef struct cs_bytes {
  const uint8_t *ptr;
  size_t len;
} cs_bytes;

/*
 * A borrowed string of known length. It may hold NUL bytes, so compare
 * with the length, never with strcmp. Strings made by certscan modules
 * also end in a NUL that `len` does not count, for printing.
 */
typedef struct cs_str {
  const char *ptr;
  size_t len;
} cs_str;

bool cs_str_eq(cs_str a, cs_str b);
bool cs_str_eq_cstr(cs_str a, const char *b);

/* ASCII case folding only: other bytes must be equal. */
bool cs_str_eq_ascii_nocase(cs_str a, cs_str b);

/*
 * A bump allocator: memory that lives as long as a batch. Allocations
 * are 16-byte aligned; nothing is freed one by one. A chunk larger than
 * `chunk_size` is made for an allocation that does not fit one.
 */
typedef struct cs_arena_chunk cs_arena_chunk;

typedef struct cs_arena {
  cs_arena_chunk *head;
  size_t chunk_size;
  size_t bytes_used;
} cs_arena;

void cs_arena_init(cs_arena *arena, size_t chunk_size);

/* NULL when memory runs out. */
void *cs_arena_alloc(cs_arena *arena, size_t size);

/* Copies `len` bytes and adds a NUL after them; NULL on failure. */
char *cs_arena_strndup(cs_arena *arena, const void *src, size_t len);

/* Forgets every allocation but keeps one chunk for reuse. */
void cs_arena_reset(cs_arena *arena);

void cs_arena_cleanup(cs_arena *arena);

/*
 * Time is signed seconds since 1970-01-01T00:00:00Z, proleptic
 * Gregorian, no leap seconds: years 0000 to 9999 fit without overflow.
 */
int64_t cs_time_from_civil(int year, int month, int day, int hour,
                           int minute, int second);

/* "2026-12-01T00:00:00Z" into `buf`; returns `buf`. */
#define CS_TIME_TEXT_MAX 32
char *cs_time_format(int64_t t, char buf[CS_TIME_TEXT_MAX]);

/*
 * RFC 3339: "2026-12-01T00:00:00Z", or a numeric offset instead of Z.
 * A fraction of a second is accepted only when it is zero (".000"):
 * certificate times are whole seconds. False when `text` is not one.
 */
CS_MUST_CHECK bool cs_time_parse(const char *text, int64_t *out_time);

/* Lower-case hex of `len` bytes into `out`, which holds 2*len+1. */
void cs_hex_encode(const uint8_t *bytes, size_t len, char *out);

#endif
