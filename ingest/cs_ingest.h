/*
 * cs_ingest.h - reads certinv v1 dumps: a file (or standard input)
 * holding zstd frames, or raw msgpack, whose objects are one header map
 * followed by device maps.
 *
 * The reader streams: it never holds a whole file, and a record larger
 * than the limit is skipped without being allocated. Every device it
 * returns has been validated field by field; its strings and bytes are
 * copied into the caller's arena, so they live as long as that arena
 * and may cross threads with it.
 *
 * One reader is used by one thread at a time. The module knows nothing
 * of OpenSSL: certificates stay opaque DER bytes here.
 */
#ifndef CS_INGEST_H
#define CS_INGEST_H

#include "cs_common.h"

typedef enum cs_os {
  CS_OS_WINDOWS,
  CS_OS_MAC,
  CS_OS_LINUX,
  CS_OS_OTHER /* kept as reported in `os_name`; no rule applies */
} cs_os;

/* Store values are bits so that sets of them fit in one unsigned. */
typedef enum cs_store {
  CS_STORE_SYSTEM = 1u << 0,
  CS_STORE_USER = 1u << 1,
  CS_STORE_PATH = 1u << 2
} cs_store;

#define CS_STORES_ALL (CS_STORE_SYSTEM | CS_STORE_USER | CS_STORE_PATH)

typedef enum cs_tristate {
  CS_TRI_UNKNOWN,
  CS_TRI_FALSE,
  CS_TRI_TRUE
} cs_tristate;

/* An absent string field has ptr == NULL and len == 0. */
typedef struct cs_cert_entry {
  cs_store store;
  cs_str path;
  cs_str key_path;
  cs_str label;
  cs_bytes der;
  cs_tristate has_key;
  bool has_key_spki_sha256;
  uint8_t key_spki_sha256[32];
} cs_cert_entry;

typedef struct cs_device {
  cs_str device_id;
  cs_str hostname;
  cs_str serial_number;
  cs_str os_name;
  cs_os os;
  cs_str os_version;
  cs_str client_version;
  cs_str user;
  bool has_collected_at;
  int64_t collected_at;
  /* Stores the collector could read; CS_STORES_ALL when not listed. */
  unsigned collected_stores;
  bool collected_stores_listed;
  cs_cert_entry *certs;
  size_t cert_count;
} cs_device;

typedef struct cs_ingest_header {
  cs_str source;
  bool has_collected_at;
  int64_t collected_at;
} cs_ingest_header;

typedef enum cs_ingest_kind {
  CS_INGEST_HEADER,
  CS_INGEST_DEVICE,
  CS_INGEST_MALFORMED, /* a record skipped; the error says why */
  CS_INGEST_END
} cs_ingest_kind;

/* Where an object sits in its input, for messages and reports. */
typedef struct cs_ingest_position {
  uint64_t offset;       /* byte offset of the object, decompressed */
  uint64_t record_index; /* 0-based index among the file's objects */
} cs_ingest_position;

typedef struct cs_ingest_item {
  cs_ingest_kind kind;
  cs_ingest_position position;
  union {
    cs_ingest_header header;
    cs_device device;
  } as;
  /* For MALFORMED: the device_id when it could be read, else empty. */
  cs_str malformed_device_id;
} cs_ingest_item;

typedef struct cs_ingest_limits {
  size_t max_record_bytes;   /* default 16 MiB */
  size_t max_certs_per_device;
  size_t max_string_bytes;
} cs_ingest_limits;

/*
 * Defaults: records up to 16 MiB (CS_INGEST_DEFAULT_RECORD_BYTES), 16384
 * cert entries per device, strings up to 16 KiB. When opening, a NULL
 * `limits` or a zero field means the default; max_record_bytes must lie
 * between CS_INGEST_MIN_RECORD_BYTES and CS_INGEST_MAX_RECORD_BYTES.
 * A reader holds a 256 KiB window that grows to max_record_bytes only
 * for a record that big, plus, for zstd input, the window of the frame
 * being read (at most 128 MiB, zstd's own default cap); nothing else
 * depends on the size of the input.
 */
#define CS_INGEST_DEFAULT_RECORD_BYTES ((size_t)16 << 20)
#define CS_INGEST_MIN_RECORD_BYTES ((size_t)64)
#define CS_INGEST_MAX_RECORD_BYTES ((size_t)1 << 30)
#define CS_INGEST_DEFAULT_CERTS 16384
#define CS_INGEST_DEFAULT_STRING_BYTES 16384

/* Records nested deeper than this many arrays and maps are malformed. */
#define CS_INGEST_MAX_DEPTH 32

void cs_ingest_limits_default(cs_ingest_limits *limits);

typedef struct cs_ingest_reader cs_ingest_reader;

/*
 * Opens `path` ("-" for standard input). Returns CS_OK and a reader in
 * `*out_reader` (the caller closes it), or CS_ERR_OPEN, CS_ERR_USAGE
 * (limits out of range) or CS_ERR_NOMEM with a message naming the file
 * in `err` and `*out_reader` NULL. Whether the input is zstd or raw
 * msgpack is decided by its first four bytes, on the first read.
 */
CS_MUST_CHECK cs_status cs_ingest_open(const char *path,
                                       const cs_ingest_limits *limits,
                                       cs_ingest_reader **out_reader,
                                       cs_error *err);

/*
 * Reads a dump that is already in memory, exactly as cs_ingest_open
 * reads a file. `data` is borrowed and must outlive the reader; `name`
 * is copied and stands for the file in messages.
 */
CS_MUST_CHECK cs_status cs_ingest_open_memory(const char *name,
                                              const void *data, size_t len,
                                              const cs_ingest_limits *limits,
                                              cs_ingest_reader **out_reader,
                                              cs_error *err);

/*
 * Reads the next object. Returns:
 *   CS_OK with item->kind HEADER, DEVICE or END;
 *   a RECORD-category status with item->kind MALFORMED: the record was
 *     skipped, `err` names file, offset, record index and device_id;
 *     call again for the next one;
 *   a FILE-category status: the rest of the input cannot be read
 *     (corrupt or truncated zstd, not a certinv dump, read error);
 *     later calls return CS_OK with END;
 *   CS_ERR_NOMEM (ABORT) when memory runs out; later calls give END.
 * Every error message reads
 *   "<file>: record <index> at offset <offset>: <what is wrong>"
 * with " (device <id>)" before the colon for a skipped record whose
 * device_id could be read (bytes outside printable ASCII as \xNN).
 * Objects that precede an error that ends the input have all been
 * returned. Strings and bytes of the item are copied into `arena`
 * (strings end in a NUL not counted in their length); `err` may be
 * NULL.
 */
CS_MUST_CHECK cs_status cs_ingest_next(cs_ingest_reader *reader,
                                       cs_arena *arena,
                                       cs_ingest_item *item,
                                       cs_error *err);

/* Bytes consumed from the input file so far (compressed size). */
uint64_t cs_ingest_bytes_read(const cs_ingest_reader *reader);

/* The path given to cs_ingest_open (the name, for memory). */
const char *cs_ingest_path(const cs_ingest_reader *reader);

/*
 * Closes the file (not standard input) and frees the reader; NULL is
 * fine. Items already returned stay valid: they live in the arena.
 */
void cs_ingest_close(cs_ingest_reader *reader);

/* "system", "user", "path"; "unknown" for anything else. */
const char *cs_store_name(cs_store store);

/* "windows", "mac", "linux"; "other" for CS_OS_OTHER. */
const char *cs_os_name(cs_os os);

#endif
