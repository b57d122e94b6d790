/*
 * test_ingest.c - the certinv reader against dumps built here with
 * msgpack-c's packer and zstd: valid inputs field by field, every
 * wrong-typed or missing field, corrupt and truncated zstd and msgpack,
 * oversized records, and the example fleet.
 *
 * The certificates packed into records are real ones made by OpenSSL
 * (tests/ingest/gen_fixtures.sh); the reader treats them as bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "cs_ingest.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_UNDER_ASAN 1
#endif

#ifdef TEST_UNDER_ASAN
/* From the AddressSanitizer runtime, which replaces malloc. */
size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 2026-12-01T00:00:00Z, the example fleet's evaluation time. */
#define T_COLLECTED 1796083200u

typedef struct bytes_buf {
  uint8_t *ptr;
  size_t len;
} bytes_buf;

/* Certificates from tests/ingest/fixtures, and a scratch folder. */
static bytes_buf client_der;
static bytes_buf ca_der;
static uint8_t client_spki[32];
static char scratch_dir[160];

/* ---- files and fixtures ---- */

static bytes_buf read_whole(const char *path)
{
  bytes_buf out = { NULL, 0 };
  FILE *f = fopen(path, "rb");
  long size;

  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  size = ftell(f);
  assert_true(size > 0);
  rewind(f);
  out.ptr = malloc((size_t)size);
  assert_non_null(out.ptr);
  out.len = fread(out.ptr, 1, (size_t)size, f);
  assert_int_equal(out.len, (size_t)size);
  fclose(f);
  return out;
}

static void fixture_path(char *out, size_t size, const char *name)
{
  const char *root = getenv("CERTSCAN_SOURCE_DIR");

  assert_non_null(root);
  snprintf(out, size, "%s/tests/ingest/fixtures/%s", root, name);
}

static void hex_decode(const char *hex, uint8_t *out, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    unsigned byte;

    assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
    out[i] = (uint8_t)byte;
  }
}

static int group_setup(void **state)
{
  char path[512];
  bytes_buf hex;
  const char *tmp;

  (void)state;
  fixture_path(path, sizeof(path), "client.der");
  client_der = read_whole(path);
  fixture_path(path, sizeof(path), "ca.der");
  ca_der = read_whole(path);
  fixture_path(path, sizeof(path), "client.spki.sha256");
  hex = read_whole(path);
  assert_true(hex.len >= 64);
  hex_decode((const char *)hex.ptr, client_spki, sizeof(client_spki));
  free(hex.ptr);
  tmp = getenv("TMPDIR");
  snprintf(scratch_dir, sizeof(scratch_dir), "%s/cs-ingest-%6s",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", "");
  /* mkdtemp fills in the six template letters at the end. */
  memset(scratch_dir + strlen(scratch_dir) - 6, 'X', 6);
  assert_non_null(mkdtemp(scratch_dir));
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  free(client_der.ptr);
  free(ca_der.ptr);
  rmdir(scratch_dir);
  return 0;
}

/* Writes `len` bytes to a file of the scratch folder named `name`. */
static const char *write_input(const char *name, const void *data,
                               size_t len)
{
  static char path[256];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", scratch_dir, name);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  return path;
}

static void remove_input(const char *path)
{
  assert_int_equal(unlink(path), 0);
}

/* One zstd frame of `len` bytes, with a content checksum. */
static bytes_buf compress_frame(const void *src, size_t len)
{
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  bytes_buf out;
  size_t bound = ZSTD_compressBound(len);

  assert_non_null(cctx);
  assert_false(ZSTD_isError(
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
  out.ptr = malloc(bound);
  assert_non_null(out.ptr);
  out.len = ZSTD_compress2(cctx, out.ptr, bound, src, len);
  assert_false(ZSTD_isError(out.len));
  ZSTD_freeCCtx(cctx);
  return out;
}

static void append(bytes_buf *to, const void *src, size_t len)
{
  to->ptr = realloc(to->ptr, to->len + len);
  assert_non_null(to->ptr);
  memcpy(to->ptr + to->len, src, len);
  to->len += len;
}

/* ---- packing ---- */

typedef struct dump {
  msgpack_sbuffer sbuf;
  msgpack_packer pk;
} dump;

static void dump_init(dump *d)
{
  msgpack_sbuffer_init(&d->sbuf);
  msgpack_packer_init(&d->pk, &d->sbuf, msgpack_sbuffer_write);
}

static void dump_free(dump *d)
{
  msgpack_sbuffer_destroy(&d->sbuf);
}

static void put_str(msgpack_packer *pk, const char *s)
{
  msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void put_bin(msgpack_packer *pk, const void *p, size_t len)
{
  msgpack_pack_bin_with_body(pk, p, len);
}

static void put_kv(msgpack_packer *pk, const char *key, const char *value)
{
  put_str(pk, key);
  put_str(pk, value);
}

static void put_be(uint8_t *out, uint64_t v, unsigned n)
{
  for (unsigned i = 0; i < n; i++) {
    out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  }
}

static void put_ts32(msgpack_packer *pk, uint32_t sec)
{
  uint8_t body[4];

  put_be(body, sec, 4);
  msgpack_pack_ext_with_body(pk, body, 4, -1);
}

static void put_ts64(msgpack_packer *pk, uint32_t nsec, uint64_t sec)
{
  uint8_t body[8];

  put_be(body, ((uint64_t)nsec << 34) | sec, 8);
  msgpack_pack_ext_with_body(pk, body, 8, -1);
}

static void put_ts96(msgpack_packer *pk, uint32_t nsec, int64_t sec)
{
  uint8_t body[12];

  put_be(body, nsec, 4);
  put_be(body + 4, (uint64_t)sec, 8);
  msgpack_pack_ext_with_body(pk, body, 12, -1);
}

static void pack_header(msgpack_packer *pk, const char *source, int version)
{
  msgpack_pack_map(pk, 4);
  put_kv(pk, "format", "certinv");
  put_str(pk, "version");
  msgpack_pack_int(pk, version);
  put_kv(pk, "source", source);
  put_str(pk, "collected_at");
  put_ts32(pk, T_COLLECTED);
}

/* A small well-formed device: one system-store cert with its key. */
static void pack_simple_device(msgpack_packer *pk, const char *id)
{
  msgpack_pack_map(pk, 3);
  put_kv(pk, "device_id", id);
  put_kv(pk, "os", "linux");
  put_str(pk, "certs");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 3);
  put_kv(pk, "store", "system");
  put_str(pk, "der");
  put_bin(pk, client_der.ptr, client_der.len);
  put_str(pk, "has_key");
  msgpack_pack_true(pk);
}

/* ---- reading ---- */

#define TALLY_MESSAGES 8

typedef struct tally {
  size_t headers;
  size_t devices;
  size_t malformed;
  size_t certs;
  size_t messages;
  char message[TALLY_MESSAGES][CS_ERROR_MESSAGE_MAX];
  cs_status record_status[TALLY_MESSAGES];
  cs_status file_status; /* CS_OK when the input was read in full */
  char file_message[CS_ERROR_MESSAGE_MAX];
  uint64_t bytes_read;
} tally;

static void tally_item(tally *t, const cs_ingest_item *item)
{
  switch (item->kind) {
  case CS_INGEST_HEADER:
    t->headers++;
    break;
  case CS_INGEST_DEVICE:
    t->devices++;
    t->certs += item->as.device.cert_count;
    assert_int_equal(item->as.device.device_id.ptr[
                         item->as.device.device_id.len], '\0');
    break;
  case CS_INGEST_MALFORMED:
    t->malformed++;
    break;
  case CS_INGEST_END:
    break;
  }
}

static void tally_error(tally *t, cs_status status, const cs_error *err,
                        const cs_ingest_item *item)
{
  assert_int_equal(err->status, status);
  if (cs_status_category(status) == CS_CAT_RECORD) {
    assert_int_equal(item->kind, CS_INGEST_MALFORMED);
    if (t->messages < TALLY_MESSAGES) {
      t->record_status[t->messages] = status;
      snprintf(t->message[t->messages], CS_ERROR_MESSAGE_MAX, "%s",
               err->message);
    }
    t->messages++;
    return;
  }
  assert_int_equal(item->kind, CS_INGEST_END);
  t->file_status = status;
  snprintf(t->file_message, sizeof(t->file_message), "%s", err->message);
}

/* Reads a whole input; checks that END follows a FILE error. */
static void read_reader(cs_ingest_reader *reader, tally *t)
{
  cs_arena arena;
  cs_ingest_item item;
  cs_error err;
  uint64_t last_index = 0;

  memset(t, 0, sizeof(*t));
  cs_arena_init(&arena, 64 << 10);
  for (;;) {
    cs_status status = cs_ingest_next(reader, &arena, &item, &err);

    if (status != CS_OK) {
      tally_error(t, status, &err, &item);
    }
    tally_item(t, &item);
    if (item.kind == CS_INGEST_END) {
      break;
    }
    assert_true(item.position.record_index >= last_index);
    last_index = item.position.record_index;
    cs_arena_reset(&arena);
  }
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  assert_int_equal(item.kind, CS_INGEST_END);
  t->bytes_read = cs_ingest_bytes_read(reader);
  cs_arena_cleanup(&arena);
}

static void read_file(const char *path, const cs_ingest_limits *limits,
                      tally *t)
{
  cs_ingest_reader *reader = NULL;
  cs_error err;

  assert_int_equal(cs_ingest_open(path, limits, &reader, &err), CS_OK);
  assert_string_equal(cs_ingest_path(reader), path);
  read_reader(reader, t);
  cs_ingest_close(reader);
}

/* Writes `data` to a scratch file named `name`, reads it, removes it. */
static void read_bytes(const char *name, const void *data, size_t len,
                       const cs_ingest_limits *limits, tally *t)
{
  const char *path = write_input(name, data, len);

  read_file(path, limits, t);
  remove_input(path);
}

static void assert_counts(const tally *t, size_t headers, size_t devices,
                          size_t malformed)
{
  assert_int_equal(t->headers, headers);
  assert_int_equal(t->devices, devices);
  assert_int_equal(t->malformed, malformed);
  assert_int_equal(t->messages, malformed);
}

static char *scratch_name(const char *name)
{
  static char path[256];

  snprintf(path, sizeof(path), "%s/%s", scratch_dir, name);
  return path;
}

/* ---- valid input, field by field ---- */

/* Device "dev-win": every field, three certs in three stores. */
static void pack_full_device(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 10);
  put_kv(pk, "device_id", "dev-win");
  put_kv(pk, "hostname", "host-0001.corp.example");
  put_kv(pk, "serial_number", "SN-0001");
  put_kv(pk, "os", "windows");
  put_kv(pk, "os_version", "10.0.22631");
  put_kv(pk, "client_version", "2024.6.500.0");
  put_kv(pk, "user", "alice@corp.example");
  put_str(pk, "collected_at");
  put_ts32(pk, T_COLLECTED);
  put_str(pk, "collected_stores");
  msgpack_pack_array(pk, 2);
  put_str(pk, "system");
  put_str(pk, "path");
  put_str(pk, "certs");
  msgpack_pack_array(pk, 3);

  msgpack_pack_map(pk, 5);
  put_kv(pk, "store", "system");
  put_str(pk, "der");
  put_bin(pk, client_der.ptr, client_der.len);
  put_str(pk, "has_key");
  msgpack_pack_true(pk);
  put_str(pk, "key_spki_sha256");
  put_bin(pk, client_spki, sizeof(client_spki));
  put_kv(pk, "label", "host-0001");

  msgpack_pack_map(pk, 5);
  put_kv(pk, "store", "path");
  put_kv(pk, "path", "/etc/pki/tls/certs/client.pem");
  put_kv(pk, "key_path", "/etc/pki/tls/private/client.key");
  put_str(pk, "der");
  put_bin(pk, ca_der.ptr, ca_der.len);
  put_str(pk, "has_key");
  msgpack_pack_false(pk);

  msgpack_pack_map(pk, 2);
  put_kv(pk, "store", "user");
  put_str(pk, "der");
  put_bin(pk, client_der.ptr, client_der.len);
}

/* Device "dev-mac": required fields only, no certs, one store read. */
static void pack_bare_mac(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 4);
  put_kv(pk, "device_id", "dev-mac");
  put_kv(pk, "os", "mac");
  put_str(pk, "certs");
  msgpack_pack_array(pk, 0);
  put_str(pk, "collected_stores");
  msgpack_pack_array(pk, 1);
  put_str(pk, "system");
}

/* Device "dev-ios": an OS no rule covers, unknown keys everywhere. */
static void pack_other_os(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 5);
  put_kv(pk, "device_id", "dev-ios");
  put_str(pk, "extra");
  msgpack_pack_map(pk, 1);
  put_str(pk, "nested");
  msgpack_pack_array(pk, 4);
  msgpack_pack_int(pk, 1);
  msgpack_pack_double(pk, 2.5);
  msgpack_pack_nil(pk);
  msgpack_pack_map(pk, 1);
  put_str(pk, "k");
  put_bin(pk, "\x01\x02", 2);
  put_kv(pk, "os", "ios");
  put_str(pk, "collected_stores");
  msgpack_pack_array(pk, 0);
  put_str(pk, "certs");
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 3);
  put_str(pk, "thumbprint");
  msgpack_pack_ext_with_body(pk, "abcd", 4, 7);
  put_kv(pk, "store", "system");
  put_str(pk, "der");
  put_bin(pk, client_der.ptr, client_der.len);
}

static void assert_str(cs_str s, const char *want)
{
  assert_non_null(s.ptr);
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.ptr, want, s.len);
  assert_int_equal(s.ptr[s.len], '\0');
}

static void assert_absent(cs_str s)
{
  assert_null(s.ptr);
  assert_int_equal(s.len, 0);
}

static void assert_bytes(cs_bytes b, const bytes_buf *want)
{
  assert_int_equal(b.len, want->len);
  assert_memory_equal(b.ptr, want->ptr, b.len);
}

static void check_full_device(const cs_device *d)
{
  assert_str(d->device_id, "dev-win");
  assert_str(d->hostname, "host-0001.corp.example");
  assert_str(d->serial_number, "SN-0001");
  assert_str(d->os_name, "windows");
  assert_int_equal(d->os, CS_OS_WINDOWS);
  assert_str(d->os_version, "10.0.22631");
  assert_str(d->client_version, "2024.6.500.0");
  assert_str(d->user, "alice@corp.example");
  assert_true(d->has_collected_at);
  assert_int_equal(d->collected_at, T_COLLECTED);
  assert_true(d->collected_stores_listed);
  assert_int_equal(d->collected_stores, CS_STORE_SYSTEM | CS_STORE_PATH);
  assert_int_equal(d->cert_count, 3);

  const cs_cert_entry *c = d->certs;

  assert_int_equal(c[0].store, CS_STORE_SYSTEM);
  assert_bytes(c[0].der, &client_der);
  assert_int_equal(c[0].has_key, CS_TRI_TRUE);
  assert_true(c[0].has_key_spki_sha256);
  assert_memory_equal(c[0].key_spki_sha256, client_spki, 32);
  assert_str(c[0].label, "host-0001");
  assert_absent(c[0].path);
  assert_int_equal(c[1].store, CS_STORE_PATH);
  assert_str(c[1].path, "/etc/pki/tls/certs/client.pem");
  assert_str(c[1].key_path, "/etc/pki/tls/private/client.key");
  assert_bytes(c[1].der, &ca_der);
  assert_int_equal(c[1].has_key, CS_TRI_FALSE);
  assert_false(c[1].has_key_spki_sha256);
  assert_int_equal(c[2].store, CS_STORE_USER);
  assert_int_equal(c[2].has_key, CS_TRI_UNKNOWN);
  assert_absent(c[2].label);
}

static void check_bare_mac(const cs_device *d)
{
  assert_str(d->device_id, "dev-mac");
  assert_int_equal(d->os, CS_OS_MAC);
  assert_absent(d->hostname);
  assert_absent(d->serial_number);
  assert_false(d->has_collected_at);
  assert_int_equal(d->cert_count, 0);
  assert_null(d->certs);
  assert_true(d->collected_stores_listed);
  assert_int_equal(d->collected_stores, CS_STORE_SYSTEM);
}

static void check_other_os(const cs_device *d)
{
  assert_str(d->device_id, "dev-ios");
  assert_int_equal(d->os, CS_OS_OTHER);
  assert_str(d->os_name, "ios");
  assert_true(d->collected_stores_listed);
  assert_int_equal(d->collected_stores, 0);
  assert_int_equal(d->cert_count, 1);
  assert_int_equal(d->certs[0].store, CS_STORE_SYSTEM);
  assert_bytes(d->certs[0].der, &client_der);
}

/* Packs header + the three devices; `offsets` gets where each starts. */
static void pack_three_devices(dump *d, const char *source,
                               size_t offsets[4])
{
  offsets[0] = d->sbuf.size;
  pack_header(&d->pk, source, 1);
  offsets[1] = d->sbuf.size;
  pack_full_device(&d->pk);
  offsets[2] = d->sbuf.size;
  pack_bare_mac(&d->pk);
  offsets[3] = d->sbuf.size;
  pack_other_os(&d->pk);
}

static void next_ok(cs_ingest_reader *reader, cs_arena *arena,
                    cs_ingest_item *item, cs_ingest_kind kind,
                    uint64_t index, uint64_t offset)
{
  cs_error err;

  assert_int_equal(cs_ingest_next(reader, arena, item, &err), CS_OK);
  assert_int_equal(err.status, CS_OK);
  assert_int_equal(item->kind, kind);
  assert_int_equal(item->position.record_index, index);
  assert_int_equal(item->position.offset, offset);
}

/* Reads the three devices back one item at a time. */
static void check_three_devices(cs_ingest_reader *reader,
                                const size_t offsets[4],
                                uint64_t first_index, uint64_t base)
{
  cs_arena arena;
  cs_ingest_item item;

  cs_arena_init(&arena, 4096);
  next_ok(reader, &arena, &item, CS_INGEST_HEADER, first_index,
          base + offsets[0]);
  assert_true(item.as.header.has_collected_at);
  assert_int_equal(item.as.header.collected_at, T_COLLECTED);
  next_ok(reader, &arena, &item, CS_INGEST_DEVICE, first_index + 1,
          base + offsets[1]);
  check_full_device(&item.as.device);
  next_ok(reader, &arena, &item, CS_INGEST_DEVICE, first_index + 2,
          base + offsets[2]);
  check_bare_mac(&item.as.device);
  next_ok(reader, &arena, &item, CS_INGEST_DEVICE, first_index + 3,
          base + offsets[3]);
  check_other_os(&item.as.device);
  cs_arena_cleanup(&arena);
}

static void test_valid_single_file(void **state)
{
  dump d;
  size_t offsets[4];
  cs_ingest_reader *reader;
  cs_error err;
  cs_arena arena;
  cs_ingest_item item;

  (void)state;
  dump_init(&d);
  pack_three_devices(&d, "unit", offsets);

  bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);
  const char *path = write_input("valid.msgpack.zst", z.ptr, z.len);

  assert_int_equal(cs_ingest_open(path, NULL, &reader, &err), CS_OK);
  check_three_devices(reader, offsets, 0, 0);
  cs_arena_init(&arena, 4096);
  next_ok(reader, &arena, &item, CS_INGEST_END, 4, d.sbuf.size);
  assert_int_equal(cs_ingest_bytes_read(reader), z.len);
  cs_arena_cleanup(&arena);
  cs_ingest_close(reader);
  remove_input(path);
  free(z.ptr);
  dump_free(&d);
}

static void test_header_fields(void **state)
{
  dump d;
  cs_ingest_reader *reader;
  cs_error err;
  cs_arena arena;
  cs_ingest_item item;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "fleet-east", 1);
  assert_int_equal(cs_ingest_open_memory("mem", d.sbuf.data, d.sbuf.size,
                                         NULL, &reader, &err), CS_OK);
  cs_arena_init(&arena, 4096);
  next_ok(reader, &arena, &item, CS_INGEST_HEADER, 0, 0);
  assert_str(item.as.header.source, "fleet-east");
  assert_int_equal(item.as.header.collected_at, T_COLLECTED);
  next_ok(reader, &arena, &item, CS_INGEST_END, 1, d.sbuf.size);
  cs_arena_cleanup(&arena);
  cs_ingest_close(reader);
  dump_free(&d);
}

/* cat a.zst b.zst: two frames, a header in each, one decompressed run. */
static void test_two_concatenated_frames(void **state)
{
  dump a, b;
  size_t offsets_a[4], offsets_b[4];
  cs_ingest_reader *reader;
  cs_error err;
  tally t;

  (void)state;
  dump_init(&a);
  dump_init(&b);
  pack_three_devices(&a, "a", offsets_a);
  pack_three_devices(&b, "b", offsets_b);

  bytes_buf za = compress_frame(a.sbuf.data, a.sbuf.size);
  bytes_buf zb = compress_frame(b.sbuf.data, b.sbuf.size);

  append(&za, zb.ptr, zb.len);

  const char *path = write_input("ab.msgpack.zst", za.ptr, za.len);

  assert_int_equal(cs_ingest_open(path, NULL, &reader, &err), CS_OK);
  check_three_devices(reader, offsets_a, 0, 0);
  check_three_devices(reader, offsets_b, 4, a.sbuf.size);
  cs_ingest_close(reader);
  read_file(path, NULL, &t);
  assert_counts(&t, 2, 6, 0);
  assert_int_equal(t.file_status, CS_OK);
  assert_int_equal(t.bytes_read, za.len);
  remove_input(path);
  free(za.ptr);
  free(zb.ptr);
  dump_free(&a);
  dump_free(&b);
}

/* No zstd magic: raw msgpack, concatenated dumps included. */
static void test_uncompressed_msgpack(void **state)
{
  dump d;
  size_t offsets_a[4], offsets_b[4];
  size_t first_len;
  cs_ingest_reader *reader;
  cs_error err;
  tally t;

  (void)state;
  dump_init(&d);
  pack_three_devices(&d, "a", offsets_a);
  first_len = d.sbuf.size;
  pack_three_devices(&d, "b", offsets_b);

  const char *path = write_input("raw.msgpack", d.sbuf.data, d.sbuf.size);

  assert_int_equal(cs_ingest_open(path, NULL, &reader, &err), CS_OK);
  check_three_devices(reader, offsets_a, 0, 0);
  check_three_devices(reader, offsets_b, 4, 0);
  cs_ingest_close(reader);
  assert_int_equal(offsets_b[0], first_len);
  read_file(path, NULL, &t);
  assert_counts(&t, 2, 6, 0);
  assert_int_equal(t.bytes_read, d.sbuf.size);
  remove_input(path);
  dump_free(&d);
}

/*
 * An empty input is an error, not an empty fleet: a collector that
 * wrote nothing (or a copy that lost everything) must not pass as a
 * dump with zero failing devices. The same holds for a zstd frame
 * whose content is empty.
 */
static void test_empty_input_is_not_a_dump(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  tally t;

  (void)state;
  read_bytes("empty.msgpack.zst", "", 0, NULL, &t);
  assert_counts(&t, 0, 0, 0);
  assert_int_equal(t.file_status, CS_ERR_NOT_CERTINV);
  snprintf(want, sizeof(want),
           "%s: record 0 at offset 0: not a certinv dump: the input is "
           "empty", scratch_name("empty.msgpack.zst"));
  assert_string_equal(t.file_message, want);

  bytes_buf z = compress_frame("", 0);

  read_bytes("empty-frame.zst", z.ptr, z.len, NULL, &t);
  assert_counts(&t, 0, 0, 0);
  assert_int_equal(t.file_status, CS_ERR_NOT_CERTINV);
  snprintf(want, sizeof(want),
           "%s: record 0 at offset 0: not a certinv dump: the input is "
           "empty", scratch_name("empty-frame.zst"));
  assert_string_equal(t.file_message, want);
  assert_int_equal(t.bytes_read, z.len);
  free(z.ptr);
}

static void test_header_only(void **state)
{
  dump d;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "empty fleet", 1);

  bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);

  read_bytes("header-only.zst", z.ptr, z.len, NULL, &t);
  assert_counts(&t, 1, 0, 0);
  assert_int_equal(t.file_status, CS_OK);
  free(z.ptr);
  dump_free(&d);
}

/* ---- headers that are not certinv v1 ---- */

typedef void (*pack_fn)(msgpack_packer *pk);

static void first_array(msgpack_packer *pk)
{
  msgpack_pack_array(pk, 2);
  put_str(pk, "format");
  put_str(pk, "certinv");
}

static void first_no_format(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 1);
  put_str(pk, "version");
  msgpack_pack_int(pk, 1);
}

static void first_device(msgpack_packer *pk)
{
  pack_simple_device(pk, "dev-0");
}

static void first_format_other(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 2);
  put_kv(pk, "format", "x509inv");
  put_str(pk, "version");
  msgpack_pack_int(pk, 1);
}

static void first_format_int(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 2);
  put_str(pk, "format");
  msgpack_pack_int(pk, 1);
  put_str(pk, "version");
  msgpack_pack_int(pk, 1);
}

static void first_version_2(msgpack_packer *pk)
{
  pack_header(pk, "future", 2);
}

static void first_version_0(msgpack_packer *pk)
{
  pack_header(pk, "past", 0);
}

static void first_version_negative(msgpack_packer *pk)
{
  pack_header(pk, "odd", -3);
}

static void first_no_version(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 1);
  put_kv(pk, "format", "certinv");
}

static void first_version_str(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 2);
  put_kv(pk, "format", "certinv");
  put_kv(pk, "version", "1");
}

static void first_source_int(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 3);
  put_kv(pk, "format", "certinv");
  put_str(pk, "version");
  msgpack_pack_int(pk, 1);
  put_str(pk, "source");
  msgpack_pack_int(pk, 12);
}

static void first_collected_at_str(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 3);
  put_kv(pk, "format", "certinv");
  put_str(pk, "version");
  msgpack_pack_int(pk, 1);
  put_kv(pk, "collected_at", "yesterday");
}

static void first_int_key(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 1);
  msgpack_pack_int(pk, 1);
  put_str(pk, "certinv");
}

static void first_duplicate_format(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 3);
  put_kv(pk, "format", "certinv");
  put_str(pk, "version");
  msgpack_pack_int(pk, 1);
  put_kv(pk, "format", "other");
}

typedef struct bad_header {
  pack_fn pack;
  cs_status status;
  const char *why;
} bad_header;

static const bad_header bad_headers[] = {
  { first_array, CS_ERR_NOT_CERTINV,
    "not a certinv dump: expected a header map, found an array" },
  { first_no_format, CS_ERR_NOT_CERTINV,
    "not a certinv dump: the header has no \"format\"" },
  { first_device, CS_ERR_NOT_CERTINV,
    "not a certinv dump: the header has no \"format\"" },
  { first_format_other, CS_ERR_NOT_CERTINV,
    "not a certinv dump: \"format\" is \"x509inv\"" },
  { first_format_int, CS_ERR_NOT_CERTINV,
    "not a certinv dump: \"format\" is not str" },
  { first_version_2, CS_ERR_VERSION, "unsupported certinv version 2" },
  { first_version_0, CS_ERR_VERSION, "unsupported certinv version 0" },
  { first_version_negative, CS_ERR_VERSION,
    "unsupported certinv version -3" },
  { first_no_version, CS_ERR_NOT_CERTINV,
    "bad certinv header: no \"version\"" },
  { first_version_str, CS_ERR_NOT_CERTINV,
    "bad certinv header: \"version\" is not an integer" },
  { first_source_int, CS_ERR_NOT_CERTINV,
    "bad certinv header: \"source\" is not str" },
  { first_collected_at_str, CS_ERR_NOT_CERTINV,
    "bad certinv header: \"collected_at\" is not a timestamp" },
  { first_int_key, CS_ERR_NOT_CERTINV,
    "bad certinv header: a map key is an integer, not str" },
  { first_duplicate_format, CS_ERR_NOT_CERTINV,
    "bad certinv header: duplicate key \"format\"" },
};

/* Whatever follows a refused header is not read at all. */
static void test_bad_first_object(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];

  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(bad_headers); i++) {
    dump d;
    tally t;

    dump_init(&d);
    bad_headers[i].pack(&d.pk);
    pack_simple_device(&d.pk, "dev-1");

    bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);

    read_bytes("bad-header.zst", z.ptr, z.len, NULL, &t);
    snprintf(want, sizeof(want), "%s: record 0 at offset 0: %s",
             scratch_name("bad-header.zst"), bad_headers[i].why);
    print_message("case %zu: %s\n", i, bad_headers[i].why);
    assert_counts(&t, 0, 0, 0);
    assert_int_equal(t.file_status, bad_headers[i].status);
    assert_string_equal(t.file_message, want);
    free(z.ptr);
    dump_free(&d);
  }
}

/* A later header of another version ends the input where it stands. */
static void test_later_header_version_2(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  tally t;
  size_t at;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "v1", 1);
  pack_simple_device(&d.pk, "dev-0");
  pack_simple_device(&d.pk, "dev-1");
  at = d.sbuf.size;
  pack_header(&d.pk, "v2", 2);
  pack_simple_device(&d.pk, "dev-2");
  read_bytes("v1v2.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 2, 0);
  assert_int_equal(t.file_status, CS_ERR_VERSION);
  snprintf(want, sizeof(want),
           "%s: record 3 at offset %zu: unsupported certinv version 2",
           scratch_name("v1v2.msgpack"), at);
  assert_string_equal(t.file_message, want);
  dump_free(&d);
}

/* ---- corrupt and truncated zstd ---- */

/* Frame A: header + 3 devices; frame B: header + 4 devices. */
static void two_frames(dump *a, dump *b, bytes_buf *za, bytes_buf *zb)
{
  dump_init(a);
  dump_init(b);
  pack_header(&a->pk, "a", 1);
  pack_header(&b->pk, "b", 1);
  for (int i = 0; i < 3; i++) {
    pack_simple_device(&a->pk, "dev-a");
  }
  for (int i = 0; i < 4; i++) {
    pack_simple_device(&b->pk, "dev-b");
  }
  *za = compress_frame(a->sbuf.data, a->sbuf.size);
  *zb = compress_frame(b->sbuf.data, b->sbuf.size);
}

static void test_truncated_zstd(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump a, b;
  bytes_buf za, zb;
  tally t;

  (void)state;
  two_frames(&a, &b, &za, &zb);

  /* Cut in the middle of frame A: nothing can be decoded. */
  read_bytes("cut-a.zst", za.ptr, za.len / 2, NULL, &t);
  assert_counts(&t, 0, 0, 0);
  assert_int_equal(t.file_status, CS_ERR_TRUNCATED);
  snprintf(want, sizeof(want),
           "%s: record 0 at offset 0: truncated input: the zstd frame is "
           "cut short at compressed byte %zu",
           scratch_name("cut-a.zst"), za.len / 2);
  assert_string_equal(t.file_message, want);

  /* Cut in the middle of frame B: all of frame A still counts. */
  size_t cut = za.len + zb.len / 2;

  append(&za, zb.ptr, zb.len);
  read_bytes("cut-b.zst", za.ptr, cut, NULL, &t);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.file_status, CS_ERR_TRUNCATED);
  snprintf(want, sizeof(want),
           "%s: record 4 at offset %zu: truncated input: the zstd frame is "
           "cut short at compressed byte %zu",
           scratch_name("cut-b.zst"), a.sbuf.size, cut);
  assert_string_equal(t.file_message, want);
  assert_int_equal(t.bytes_read, cut);
  free(za.ptr);
  free(zb.ptr);
  dump_free(&a);
  dump_free(&b);
}

static void test_bit_flipped_zstd(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump a, b;
  bytes_buf za, zb;
  size_t a_len;
  tally t;

  (void)state;
  two_frames(&a, &b, &za, &zb);
  a_len = za.len;
  append(&za, zb.ptr, zb.len);

  /*
   * A flipped bit in frame B's magic: B is no zstd frame at all. The
   * position is where zstd stopped reading: the start of frame B.
   */
  za.ptr[a_len] ^= 0x01;
  read_bytes("flip-magic.zst", za.ptr, za.len, NULL, &t);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.file_status, CS_ERR_ZSTD);
  snprintf(want, sizeof(want),
           "%s: record 4 at offset %zu: corrupt zstd stream: %s "
           "(compressed byte %zu)", scratch_name("flip-magic.zst"),
           a.sbuf.size, ZSTD_getErrorString(ZSTD_error_prefix_unknown),
           a_len);
  assert_string_equal(t.file_message, want);
  za.ptr[a_len] ^= 0x01;

  /*
   * A flipped bit in B's checksum. zstd checks a frame this small whole
   * before it releases any of it, so none of B is returned, and the
   * position is the start of B. (A frame larger than the window is
   * released block by block: records before the check are returned.)
   */
  za.ptr[za.len - 1] ^= 0x10;
  read_bytes("flip-sum.zst", za.ptr, za.len, NULL, &t);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.file_status, CS_ERR_ZSTD);
  snprintf(want, sizeof(want),
           "%s: record 4 at offset %zu: corrupt zstd stream: %s "
           "(compressed byte %zu)", scratch_name("flip-sum.zst"),
           a.sbuf.size, ZSTD_getErrorString(ZSTD_error_checksum_wrong),
           a_len);
  assert_string_equal(t.file_message, want);
  free(za.ptr);
  free(zb.ptr);
  dump_free(&a);
  dump_free(&b);
}

/* Data after the last frame that is not a frame is corruption too. */
static void test_garbage_after_frame(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump a, b;
  bytes_buf za, zb;
  size_t a_len;
  tally t;

  (void)state;
  two_frames(&a, &b, &za, &zb);
  a_len = za.len;
  append(&za, "\x00\x01\x02\x03\x04\x05\x06\x07", 8);
  read_bytes("garbage.zst", za.ptr, za.len, NULL, &t);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.file_status, CS_ERR_ZSTD);
  snprintf(want, sizeof(want),
           "%s: record 4 at offset %zu: corrupt zstd stream: %s "
           "(compressed byte %zu)", scratch_name("garbage.zst"),
           a.sbuf.size, ZSTD_getErrorString(ZSTD_error_prefix_unknown),
           a_len);
  assert_string_equal(t.file_message, want);
  free(za.ptr);
  free(zb.ptr);
  dump_free(&a);
  dump_free(&b);
}

/* A skippable frame first is still zstd, as the format allows. */
static void test_skippable_frame_first(void **state)
{
  static const uint8_t skippable[] = { 0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0,
                                       'c', 's', '1' };
  dump a, b;
  bytes_buf za, zb;
  bytes_buf file = { NULL, 0 };
  tally t;

  (void)state;
  two_frames(&a, &b, &za, &zb);
  append(&file, skippable, sizeof(skippable));
  append(&file, za.ptr, za.len);
  read_bytes("skippable.zst", file.ptr, file.len, NULL, &t);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.file_status, CS_OK);
  free(file.ptr);
  free(za.ptr);
  free(zb.ptr);
  dump_free(&a);
  dump_free(&b);
}

/* ---- corrupt and truncated msgpack ---- */

static void test_truncated_msgpack(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "cut", 1);
  pack_simple_device(&d.pk, "dev-0");
  pack_simple_device(&d.pk, "dev-1");
  at = d.sbuf.size;
  pack_simple_device(&d.pk, "dev-2");

  size_t cut = at + (d.sbuf.size - at) / 2;

  read_bytes("cut.msgpack", d.sbuf.data, cut, NULL, &t);
  assert_counts(&t, 1, 2, 0);
  assert_int_equal(t.file_status, CS_ERR_TRUNCATED);
  snprintf(want, sizeof(want),
           "%s: record 3 at offset %zu: truncated input: the object is cut "
           "short after %zu bytes", scratch_name("cut.msgpack"), at,
           cut - at);
  assert_string_equal(t.file_message, want);

  /* The same cut inside a zstd frame that itself is whole. */
  bytes_buf z = compress_frame(d.sbuf.data, cut);

  read_bytes("cut-inside.zst", z.ptr, z.len, NULL, &t);
  assert_counts(&t, 1, 2, 0);
  assert_int_equal(t.file_status, CS_ERR_TRUNCATED);
  snprintf(want, sizeof(want),
           "%s: record 3 at offset %zu: truncated input: the object is cut "
           "short after %zu bytes", scratch_name("cut-inside.zst"), at,
           cut - at);
  assert_string_equal(t.file_message, want);
  free(z.ptr);
  dump_free(&d);
}

static void test_invalid_msgpack_byte(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "c1", 1);
  pack_simple_device(&d.pk, "dev-0");
  at = d.sbuf.size;
  msgpack_sbuffer_write(&d.sbuf, "\xc1", 1);
  pack_simple_device(&d.pk, "dev-1");
  read_bytes("c1.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 1, 0);
  assert_int_equal(t.file_status, CS_ERR_MSGPACK);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu: corrupt msgpack stream: byte 0xc1 "
           "at offset %zu is not a msgpack type", scratch_name("c1.msgpack"),
           at, at);
  assert_string_equal(t.file_message, want);
  dump_free(&d);

  /* Inside a record: the message gives both places. */
  dump_init(&d);
  pack_header(&d.pk, "c1", 1);
  at = d.sbuf.size;
  msgpack_pack_map(&d.pk, 1);
  put_str(&d.pk, "device_id");
  msgpack_sbuffer_write(&d.sbuf, "\xc1", 1);
  read_bytes("c1-inside.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 0, 0);
  assert_int_equal(t.file_status, CS_ERR_MSGPACK);
  snprintf(want, sizeof(want),
           "%s: record 1 at offset %zu: corrupt msgpack stream: byte 0xc1 "
           "at offset %zu is not a msgpack type",
           scratch_name("c1-inside.msgpack"), at, at + 11);
  assert_string_equal(t.file_message, want);
  dump_free(&d);
}

/*
 * Element counts no input could hold are refused, not waited for. Each
 * map32 header of 2^32-1 pairs adds 2^33-3 values still expected; the
 * scanner gives up past 2^48 of them (256 TiB of input at least), which
 * is header number 32768 counting from 0: 2^48 / (2^33 - 3) = 32768.01.
 */
static void test_absurd_counts(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "counts", 1);
  pack_simple_device(&d.pk, "dev-0");
  at = d.sbuf.size;
  for (int i = 0; i < 40000; i++) {
    msgpack_sbuffer_write(&d.sbuf, "\xdf\xff\xff\xff\xff", 5);
  }
  read_bytes("counts.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 1, 0);
  assert_int_equal(t.file_status, CS_ERR_MSGPACK);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu: corrupt msgpack stream: the count "
           "at offset %zu declares more values than any input holds",
           scratch_name("counts.msgpack"), at, at + 5 * (size_t)32768);
  assert_string_equal(t.file_message, want);
  dump_free(&d);
}

/* ---- one wrong field per record ---- */

typedef enum bad_where {
  IN_DEVICE, /* `key` of the device map */
  IN_CERT,   /* `key` of cert entry 1 */
  AS_CERT    /* `value` packs cert entry 1 whole */
} bad_where;

/*
 * One malformed device. `key` NULL means `value` packs a whole extra
 * key/value pair; `value` NULL means `key` is left out.
 */
typedef struct bad_field {
  const char *name;
  bad_where where;
  const char *key;
  pack_fn value;
  const char *why;
  bool id_shown;
} bad_field;

static void v_int7(msgpack_packer *pk)
{
  msgpack_pack_int(pk, 7);
}

static void v_nil(msgpack_packer *pk)
{
  msgpack_pack_nil(pk);
}

static void v_true(msgpack_packer *pk)
{
  msgpack_pack_true(pk);
}

static void v_float(msgpack_packer *pk)
{
  msgpack_pack_double(pk, 1796083200.5);
}

static void v_bin3(msgpack_packer *pk)
{
  put_bin(pk, "SN1", 3);
}

static void v_str(msgpack_packer *pk)
{
  put_str(pk, "yesterday");
}

static void v_empty_str(msgpack_packer *pk)
{
  put_str(pk, "");
}

static void v_array1(msgpack_packer *pk)
{
  msgpack_pack_array(pk, 1);
  put_str(pk, "2024.6");
}

static void v_map1(msgpack_packer *pk)
{
  msgpack_pack_map(pk, 1);
  put_kv(pk, "store", "system");
}

static void v_ext5(msgpack_packer *pk)
{
  msgpack_pack_ext_with_body(pk, "\x6b\x0e\x0e\x00", 4, 5);
}

static void v_ts_6_bytes(msgpack_packer *pk)
{
  msgpack_pack_ext_with_body(pk, "\x00\x00\x6b\x0e\x0e\x00", 6, -1);
}

static void v_ts_bad_nsec(msgpack_packer *pk)
{
  put_ts64(pk, 1000000000u, T_COLLECTED);
}

static void v_ts_year_10000(msgpack_packer *pk)
{
  msgpack_pack_int64(pk, INT64_C(253402300800));
}

static void v_ts_uint_max(msgpack_packer *pk)
{
  msgpack_pack_uint64(pk, UINT64_MAX);
}

static void v_ts96_year_minus_1(msgpack_packer *pk)
{
  put_ts96(pk, 0, INT64_C(-62167219201));
}

static void v_stores_int(msgpack_packer *pk)
{
  msgpack_pack_array(pk, 2);
  put_str(pk, "system");
  msgpack_pack_int(pk, 3);
}

static void v_stores_floppy(msgpack_packer *pk)
{
  msgpack_pack_array(pk, 2);
  put_str(pk, "user");
  put_str(pk, "floppy");
}

static void v_store_cloud(msgpack_packer *pk)
{
  put_str(pk, "cloud");
}

static void v_store_nul(msgpack_packer *pk)
{
  msgpack_pack_str_with_body(pk, "sys\0tem\n", 8);
}

static void v_store_upper(msgpack_packer *pk)
{
  put_str(pk, "System");
}

static void v_bin31(msgpack_packer *pk)
{
  put_bin(pk, client_spki, 31);
}

static void v_bin33(msgpack_packer *pk)
{
  uint8_t long_hash[33] = { 0 };

  put_bin(pk, long_hash, sizeof(long_hash));
}

static void v_der_as_str(msgpack_packer *pk)
{
  msgpack_pack_str_with_body(pk, client_der.ptr, client_der.len);
}

static void v_int_key(msgpack_packer *pk)
{
  msgpack_pack_int(pk, 42);
  put_str(pk, "answer");
}

static void v_dup_device_id(msgpack_packer *pk)
{
  put_kv(pk, "device_id", "dev-other");
}

static void v_dup_der(msgpack_packer *pk)
{
  put_str(pk, "der");
  put_bin(pk, client_der.ptr, client_der.len);
}

static void v_cert_int(msgpack_packer *pk)
{
  msgpack_pack_int(pk, 5);
}

static void v_cert_array(msgpack_packer *pk)
{
  msgpack_pack_array(pk, 1);
  put_bin(pk, client_der.ptr, client_der.len);
}

static const bad_field bad_fields[] = {
  { "device_id int", IN_DEVICE, "device_id", v_int7,
    "\"device_id\" is not str", false },
  { "device_id missing", IN_DEVICE, "device_id", NULL,
    "no \"device_id\"", false },
  { "device_id empty", IN_DEVICE, "device_id", v_empty_str,
    "\"device_id\" is empty", false },
  { "device_id twice", IN_DEVICE, NULL, v_dup_device_id,
    "duplicate key \"device_id\"", true },
  { "hostname int", IN_DEVICE, "hostname", v_int7,
    "\"hostname\" is not str", true },
  { "serial_number bin", IN_DEVICE, "serial_number", v_bin3,
    "\"serial_number\" is not str", true },
  { "os nil", IN_DEVICE, "os", v_nil, "\"os\" is not str", true },
  { "os missing", IN_DEVICE, "os", NULL, "no \"os\"", true },
  { "os_version int", IN_DEVICE, "os_version", v_int7,
    "\"os_version\" is not str", true },
  { "client_version array", IN_DEVICE, "client_version", v_array1,
    "\"client_version\" is not str", true },
  { "user bool", IN_DEVICE, "user", v_true, "\"user\" is not str", true },
  { "collected_at str", IN_DEVICE, "collected_at", v_str,
    "\"collected_at\" is not a timestamp", true },
  { "collected_at float", IN_DEVICE, "collected_at", v_float,
    "\"collected_at\" is not a timestamp", true },
  { "collected_at ext 5", IN_DEVICE, "collected_at", v_ext5,
    "\"collected_at\" is not a timestamp", true },
  { "collected_at ext -1 of 6 bytes", IN_DEVICE, "collected_at",
    v_ts_6_bytes, "\"collected_at\" is not a timestamp", true },
  { "collected_at nanoseconds 1e9", IN_DEVICE, "collected_at",
    v_ts_bad_nsec, "\"collected_at\" is not a timestamp", true },
  { "collected_at year 10000", IN_DEVICE, "collected_at", v_ts_year_10000,
    "\"collected_at\" is outside the years 0000 to 9999", true },
  { "collected_at uint64 max", IN_DEVICE, "collected_at", v_ts_uint_max,
    "\"collected_at\" is outside the years 0000 to 9999", true },
  { "collected_at year -1", IN_DEVICE, "collected_at",
    v_ts96_year_minus_1,
    "\"collected_at\" is outside the years 0000 to 9999", true },
  { "collected_stores str", IN_DEVICE, "collected_stores", v_str,
    "\"collected_stores\" is not an array", true },
  { "collected_stores entry int", IN_DEVICE, "collected_stores",
    v_stores_int, "\"collected_stores\" entry 1 is not str", true },
  { "collected_stores entry floppy", IN_DEVICE, "collected_stores",
    v_stores_floppy,
    "\"collected_stores\" entry 1 is \"floppy\", not system, user or path",
    true },
  { "certs map", IN_DEVICE, "certs", v_map1,
    "\"certs\" is not an array", true },
  { "certs missing", IN_DEVICE, "certs", NULL, "no \"certs\"", true },
  { "device key int", IN_DEVICE, NULL, v_int_key,
    "a map key is an integer, not str", true },
  { "cert int", AS_CERT, NULL, v_cert_int,
    "cert 1: entry is an integer, not a map", true },
  { "cert array", AS_CERT, NULL, v_cert_array,
    "cert 1: entry is an array, not a map", true },
  { "store int", IN_CERT, "store", v_int7,
    "cert 1: \"store\" is not str", true },
  { "store cloud", IN_CERT, "store", v_store_cloud,
    "cert 1: \"store\" is \"cloud\", not system, user or path", true },
  { "store with NUL", IN_CERT, "store", v_store_nul,
    "cert 1: \"store\" is \"sys\\x00tem\\x0a\", not system, user or path",
    true },
  { "store System", IN_CERT, "store", v_store_upper,
    "cert 1: \"store\" is \"System\", not system, user or path", true },
  { "store missing", IN_CERT, "store", NULL, "cert 1: no \"store\"", true },
  { "path int", IN_CERT, "path", v_int7, "cert 1: \"path\" is not str",
    true },
  { "path missing for store path", IN_CERT, "path", NULL,
    "cert 1: store \"path\" without a \"path\"", true },
  { "path empty for store path", IN_CERT, "path", v_empty_str,
    "cert 1: store \"path\" without a \"path\"", true },
  { "key_path int", IN_CERT, "key_path", v_int7,
    "cert 1: \"key_path\" is not str", true },
  { "der str", IN_CERT, "der", v_der_as_str, "cert 1: \"der\" is not bin",
    true },
  { "der nil", IN_CERT, "der", v_nil, "cert 1: \"der\" is not bin", true },
  { "der missing", IN_CERT, "der", NULL, "cert 1: no \"der\"", true },
  { "der twice", IN_CERT, NULL, v_dup_der, "cert 1: duplicate key \"der\"",
    true },
  { "has_key int", IN_CERT, "has_key", v_int7,
    "cert 1: \"has_key\" is not bool", true },
  { "has_key nil", IN_CERT, "has_key", v_nil,
    "cert 1: \"has_key\" is not bool", true },
  { "key_spki_sha256 str", IN_CERT, "key_spki_sha256", v_str,
    "cert 1: \"key_spki_sha256\" is not bin", true },
  { "key_spki_sha256 31 bytes", IN_CERT, "key_spki_sha256", v_bin31,
    "cert 1: \"key_spki_sha256\" is 31 bytes, not 32", true },
  { "key_spki_sha256 33 bytes", IN_CERT, "key_spki_sha256", v_bin33,
    "cert 1: \"key_spki_sha256\" is 33 bytes, not 32", true },
  { "label int", IN_CERT, "label", v_int7, "cert 1: \"label\" is not str",
    true },
  { "cert key int", IN_CERT, NULL, v_int_key,
    "cert 1: a map key is an integer, not str", true },
};

static const char *const device_key_order[] = {
  "device_id", "hostname", "serial_number", "os", "os_version",
  "client_version", "user", "collected_at", "collected_stores", "certs",
};

static const char *const cert_key_order[] = {
  "store", "path", "key_path", "der", "has_key", "key_spki_sha256", "label",
};

typedef void (*default_fn)(msgpack_packer *pk, const char *key,
                           const bad_field *bad);

static bool listed(const char *const *keys, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(keys[i], key) == 0) {
      return true;
    }
  }
  return false;
}

/* Packs a map of `keys`, each by `def`, with `bad` applied if given. */
static void pack_fields(msgpack_packer *pk, const char *const *keys,
                        size_t n, const bad_field *bad, default_fn def,
                        const bad_field *pass_on)
{
  size_t count = n;
  bool extra = bad != NULL && (bad->key == NULL ||
                               !listed(keys, n, bad->key));

  if (bad != NULL && bad->key != NULL && bad->value == NULL) {
    count--;
  }
  msgpack_pack_map(pk, count + (extra ? 1 : 0));
  for (size_t i = 0; i < n; i++) {
    if (bad != NULL && bad->key != NULL && strcmp(bad->key, keys[i]) == 0) {
      if (bad->value != NULL) {
        put_str(pk, keys[i]);
        bad->value(pk);
      }
      continue;
    }
    put_str(pk, keys[i]);
    def(pk, keys[i], pass_on);
  }
  if (extra && bad->key != NULL) {
    put_str(pk, bad->key);
  }
  if (extra) {
    bad->value(pk);
  }
}

/* Cert 0: system store, the client cert. Cert 1: a PEM path. */
static void cert0_value(msgpack_packer *pk, const char *key,
                        const bad_field *bad)
{
  (void)bad;
  if (strcmp(key, "store") == 0) {
    put_str(pk, "system");
  } else if (strcmp(key, "path") == 0) {
    put_str(pk, "C:\\certs\\client.pem");
  } else if (strcmp(key, "key_path") == 0) {
    put_str(pk, "C:\\certs\\client.key");
  } else if (strcmp(key, "der") == 0) {
    put_bin(pk, client_der.ptr, client_der.len);
  } else if (strcmp(key, "has_key") == 0) {
    msgpack_pack_true(pk);
  } else if (strcmp(key, "key_spki_sha256") == 0) {
    put_bin(pk, client_spki, sizeof(client_spki));
  } else {
    put_str(pk, "client");
  }
}

static void cert1_value(msgpack_packer *pk, const char *key,
                        const bad_field *bad)
{
  if (strcmp(key, "store") == 0) {
    put_str(pk, "path");
  } else if (strcmp(key, "path") == 0) {
    put_str(pk, "/etc/pki/tls/certs/client.pem");
  } else if (strcmp(key, "der") == 0) {
    put_bin(pk, ca_der.ptr, ca_der.len);
  } else {
    cert0_value(pk, key, bad);
  }
}

static void pack_certs(msgpack_packer *pk, const bad_field *bad)
{
  msgpack_pack_array(pk, 2);
  pack_fields(pk, cert_key_order, ARRAY_LEN(cert_key_order), NULL,
              cert0_value, NULL);
  if (bad != NULL && bad->where == AS_CERT) {
    bad->value(pk);
    return;
  }
  pack_fields(pk, cert_key_order, ARRAY_LEN(cert_key_order),
              bad != NULL && bad->where == IN_CERT ? bad : NULL,
              cert1_value, NULL);
}

/* `bad` rides along so that the certs can apply it. */
static void device_value(msgpack_packer *pk, const char *key,
                         const bad_field *bad)
{
  static const char *const texts[][2] = {
    { "device_id", "dev-bad" }, { "hostname", "host-0002.corp.example" },
    { "serial_number", "SN-0002" }, { "os", "windows" },
    { "os_version", "10.0.22631" }, { "client_version", "2024.6.500.0" },
    { "user", "bob@corp.example" },
  };

  for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
    if (strcmp(key, texts[i][0]) == 0) {
      put_str(pk, texts[i][1]);
      return;
    }
  }
  if (strcmp(key, "collected_at") == 0) {
    put_ts32(pk, T_COLLECTED);
  } else if (strcmp(key, "collected_stores") == 0) {
    msgpack_pack_array(pk, 3);
    put_str(pk, "system");
    put_str(pk, "user");
    put_str(pk, "path");
  } else {
    pack_certs(pk, bad);
  }
}

static void pack_device_with(msgpack_packer *pk, const bad_field *bad)
{
  pack_fields(pk, device_key_order, ARRAY_LEN(device_key_order),
              bad != NULL && bad->where == IN_DEVICE ? bad : NULL,
              device_value, bad);
}

/* The healthy twin of every bad record reads back whole. */
static void test_full_device_reads(void **state)
{
  dump d;
  cs_ingest_reader *reader;
  cs_error err;
  cs_arena arena;
  cs_ingest_item item;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "twin", 1);
  pack_device_with(&d.pk, NULL);
  assert_int_equal(cs_ingest_open_memory("twin", d.sbuf.data, d.sbuf.size,
                                         NULL, &reader, &err), CS_OK);
  cs_arena_init(&arena, 4096);
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  assert_int_equal(item.kind, CS_INGEST_DEVICE);
  assert_str(item.as.device.device_id, "dev-bad");
  assert_int_equal(item.as.device.collected_stores, CS_STORES_ALL);
  assert_int_equal(item.as.device.cert_count, 2);
  assert_str(item.as.device.certs[0].path, "C:\\certs\\client.pem");
  assert_int_equal(item.as.device.certs[1].store, CS_STORE_PATH);
  assert_bytes(item.as.device.certs[1].der, &ca_der);
  cs_arena_cleanup(&arena);
  cs_ingest_close(reader);
  dump_free(&d);
}

/* Header, a good device, the bad one, a good one: one malformed. */
static void test_bad_field(void **state)
{
  const bad_field *bad = *state;
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at;
  tally t;

  dump_init(&d);
  pack_header(&d.pk, "bad", 1);
  pack_simple_device(&d.pk, "dev-0");
  at = d.sbuf.size;
  pack_device_with(&d.pk, bad);
  pack_simple_device(&d.pk, "dev-2");

  bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);

  read_bytes("fleet-bad.msgpack.zst", z.ptr, z.len, NULL, &t);
  assert_counts(&t, 1, 2, 1);
  assert_int_equal(t.file_status, CS_OK);
  assert_int_equal(t.record_status[0], CS_ERR_RECORD_SHAPE);
  snprintf(want, sizeof(want), "%s: record 2 at offset %zu%s: %s",
           scratch_name("fleet-bad.msgpack.zst"), at,
           bad->id_shown ? " (device dev-bad)" : "", bad->why);
  assert_string_equal(t.message[0], want);
  free(z.ptr);
  dump_free(&d);
}

/* ---- timestamps ---- */

static void pack_device_at(msgpack_packer *pk, int form, int64_t sec,
                           uint32_t nsec)
{
  msgpack_pack_map(pk, 4);
  put_kv(pk, "device_id", "dev-time");
  put_kv(pk, "os", "linux");
  put_str(pk, "certs");
  msgpack_pack_array(pk, 0);
  put_str(pk, "collected_at");
  switch (form) {
  case 32:
    put_ts32(pk, (uint32_t)sec);
    break;
  case 64:
    put_ts64(pk, nsec, (uint64_t)sec);
    break;
  case 96:
    put_ts96(pk, nsec, sec);
    break;
  default:
    msgpack_pack_int64(pk, sec);
    break;
  }
}

static void test_timestamps(void **state)
{
  static const struct {
    int form;
    int64_t sec;
    uint32_t nsec;
  } cases[] = {
    { 32, T_COLLECTED, 0 },
    { 32, UINT32_MAX, 0 },
    { 64, T_COLLECTED, 999999999 },
    { 64, (INT64_C(1) << 34) - 1, 0 },
    { 96, INT64_C(-31536000), 500 },
    { 96, INT64_C(-62167219200), 0 },
    { 96, INT64_C(253402300799), 999999999 },
    { 0, 1700000000, 0 },
    { 0, -1, 0 },
    { 0, 0, 0 },
  };
  dump d;
  cs_ingest_reader *reader;
  cs_error err;
  cs_arena arena;
  cs_ingest_item item;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "times", 1);
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    pack_device_at(&d.pk, cases[i].form, cases[i].sec, cases[i].nsec);
  }
  assert_int_equal(cs_ingest_open_memory("times", d.sbuf.data, d.sbuf.size,
                                         NULL, &reader, &err), CS_OK);
  cs_arena_init(&arena, 4096);
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
    assert_int_equal(item.kind, CS_INGEST_DEVICE);
    assert_true(item.as.device.has_collected_at);
    assert_int_equal(item.as.device.collected_at, cases[i].sec);
  }
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  assert_int_equal(item.kind, CS_INGEST_END);
  cs_arena_cleanup(&arena);
  cs_ingest_close(reader);
  dump_free(&d);
}

/* ---- sizes, depth and limits ---- */

static size_t heap_in_use(void)
{
#ifdef TEST_UNDER_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 info = mallinfo2();

  return info.uordblks + info.hblkhd;
#endif
}

/* A device of `certs` real certificates, device_id first. */
static void pack_big_device(msgpack_packer *pk, const char *id,
                            size_t certs)
{
  msgpack_pack_map(pk, 3);
  put_kv(pk, "device_id", id);
  put_kv(pk, "os", "windows");
  put_str(pk, "certs");
  msgpack_pack_array(pk, certs);
  for (size_t i = 0; i < certs; i++) {
    msgpack_pack_map(pk, 2);
    put_kv(pk, "store", "user");
    put_str(pk, "der");
    put_bin(pk, client_der.ptr, client_der.len);
  }
}

/* Header, dev-0, a device of 1 MiB or more, dev-2. */
static size_t pack_with_huge(dump *d, size_t *out_huge_len)
{
  size_t at;
  size_t certs = ((size_t)1 << 20) / client_der.len + 1;

  dump_init(d);
  pack_header(&d->pk, "huge", 1);
  pack_simple_device(&d->pk, "dev-0");
  at = d->sbuf.size;
  pack_big_device(&d->pk, "dev-huge", certs);
  *out_huge_len = d->sbuf.size - at;
  pack_simple_device(&d->pk, "dev-2");
  return at;
}

/*
 * With a 4 KiB limit, a 1 MiB record in the middle is skipped, alone,
 * and never held: the heap grows by the reader's fixed buffers only.
 */
static void test_oversized_record_skipped(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  cs_ingest_limits limits = { .max_record_bytes = 4096 };
  cs_ingest_reader *reader;
  cs_error err;
  cs_arena arena;
  cs_ingest_item item;
  dump d;
  size_t huge_len;
  size_t at = pack_with_huge(&d, &huge_len);
  const char *path = write_input("huge.msgpack", d.sbuf.data, d.sbuf.size);
  size_t before = heap_in_use();

  (void)state;
  assert_true(huge_len > ((size_t)1 << 20));
  cs_arena_init(&arena, 4096);
  assert_int_equal(cs_ingest_open(path, &limits, &reader, &err), CS_OK);
  next_ok(reader, &arena, &item, CS_INGEST_HEADER, 0, 0);
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  assert_str(item.as.device.device_id, "dev-0");
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err),
                   CS_ERR_RECORD_TOO_BIG);
  assert_int_equal(item.kind, CS_INGEST_MALFORMED);
  assert_str(item.malformed_device_id, "dev-huge");
  assert_int_equal(item.position.offset, at);
  assert_true(heap_in_use() - before < (size_t)640 << 10);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu (device dev-huge): record of %zu "
           "bytes is over the 4096-byte limit", path, at, huge_len);
  assert_string_equal(err.message, want);
  assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
  assert_str(item.as.device.device_id, "dev-2");
  next_ok(reader, &arena, &item, CS_INGEST_END, 4, d.sbuf.size);
  cs_ingest_close(reader);
  cs_arena_cleanup(&arena);
  remove_input(path);
  dump_free(&d);
}

/* The same through zstd, and a big record under the limit grows. */
static void test_oversized_record_compressed(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  cs_ingest_limits limits = { .max_record_bytes = 4096 };
  dump d;
  size_t huge_len;
  size_t at = pack_with_huge(&d, &huge_len);
  bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);
  tally t;

  (void)state;
  read_bytes("huge.zst", z.ptr, z.len, &limits, &t);
  assert_counts(&t, 1, 2, 1);
  assert_int_equal(t.record_status[0], CS_ERR_RECORD_TOO_BIG);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu (device dev-huge): record of %zu "
           "bytes is over the 4096-byte limit", scratch_name("huge.zst"), at,
           huge_len);
  assert_string_equal(t.message[0], want);

  read_bytes("huge-ok.zst", z.ptr, z.len, NULL, &t);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.certs, 2 + ((size_t)1 << 20) / client_der.len + 1);
  free(z.ptr);
  dump_free(&d);
}

/* A bin that declares more bytes than the input holds. */
static void test_declared_length_past_the_end(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "liar", 1);
  pack_simple_device(&d.pk, "dev-0");
  at = d.sbuf.size;
  msgpack_pack_map(&d.pk, 3);
  put_kv(&d.pk, "device_id", "dev-liar");
  put_str(&d.pk, "der");
  msgpack_sbuffer_write(&d.sbuf, "\xc6\x7f\xff\xff\xf0", 5);
  msgpack_sbuffer_write(&d.sbuf, (const char *)client_der.ptr,
                        client_der.len);

  /* Over the 16 MiB default limit: refused from the header alone. */
  read_bytes("liar.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 1, 0);
  assert_int_equal(t.file_status, CS_ERR_TRUNCATED);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu: truncated input: a record over the "
           "16777216-byte limit is cut short after %zu bytes",
           scratch_name("liar.msgpack"), at, d.sbuf.size - at);
  assert_string_equal(t.file_message, want);
  dump_free(&d);

  /* Under the limit, the reader waits for bytes that never come. */
  dump_init(&d);
  pack_header(&d.pk, "liar", 1);
  at = d.sbuf.size;
  msgpack_pack_map(&d.pk, 1);
  put_str(&d.pk, "der");
  msgpack_sbuffer_write(&d.sbuf, "\xc5\x20\x00", 3);
  msgpack_sbuffer_write(&d.sbuf, (const char *)client_der.ptr,
                        client_der.len);
  read_bytes("liar-small.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 0, 0);
  assert_int_equal(t.file_status, CS_ERR_TRUNCATED);
  snprintf(want, sizeof(want),
           "%s: record 1 at offset %zu: truncated input: the object is cut "
           "short after %zu bytes", scratch_name("liar-small.msgpack"), at,
           d.sbuf.size - at);
  assert_string_equal(t.file_message, want);
  dump_free(&d);
}

/* A first object over the limit cannot be a header. */
static void test_oversized_first_object(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  cs_ingest_limits limits = { .max_record_bytes = 4096 };
  dump d;
  tally t;

  (void)state;
  dump_init(&d);
  pack_big_device(&d.pk, "dev-first", 20);
  read_bytes("big-first.msgpack", d.sbuf.data, d.sbuf.size, &limits, &t);
  assert_counts(&t, 0, 0, 0);
  assert_int_equal(t.file_status, CS_ERR_NOT_CERTINV);
  snprintf(want, sizeof(want),
           "%s: record 0 at offset 0: not a certinv dump: the first object "
           "is over the 4096-byte record limit",
           scratch_name("big-first.msgpack"));
  assert_string_equal(t.file_message, want);
  dump_free(&d);
}

/* A device whose unknown key "x" holds `levels` nested arrays. */
static void pack_nested_device(msgpack_packer *pk, const char *id,
                               int levels)
{
  msgpack_pack_map(pk, 4);
  put_kv(pk, "device_id", id);
  put_str(pk, "x");
  for (int i = 0; i < levels; i++) {
    msgpack_pack_array(pk, 1);
  }
  msgpack_pack_nil(pk);
  put_kv(pk, "os", "linux");
  put_str(pk, "certs");
  msgpack_pack_array(pk, 0);
}

/* The device map is level 1: 31 arrays inside it make 32, the most. */
static void test_nesting_depth(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "deep", 1);
  pack_nested_device(&d.pk, "dev-31", CS_INGEST_MAX_DEPTH - 1);
  at = d.sbuf.size;
  pack_nested_device(&d.pk, "dev-32", CS_INGEST_MAX_DEPTH);
  pack_nested_device(&d.pk, "dev-5000", 5000);
  pack_simple_device(&d.pk, "dev-ok");
  read_bytes("deep.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 2, 2);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu (device dev-32): record nests deeper "
           "than 32 levels", scratch_name("deep.msgpack"), at);
  assert_string_equal(t.message[0], want);
  assert_int_equal(t.record_status[0], CS_ERR_RECORD_SHAPE);
  assert_non_null(strstr(t.message[1], "(device dev-5000): record nests"));
  dump_free(&d);
}

static void test_limits(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  cs_ingest_limits limits = { .max_certs_per_device = 1,
                              .max_string_bytes = 9 };
  cs_ingest_reader *reader = NULL;
  cs_error err;
  dump d;
  size_t at;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "limits", 1);
  pack_simple_device(&d.pk, "dev-0");
  at = d.sbuf.size;
  pack_big_device(&d.pk, "dev-1", 2);
  pack_simple_device(&d.pk, "dev-0123456");
  read_bytes("limits.msgpack", d.sbuf.data, d.sbuf.size, &limits, &t);
  assert_counts(&t, 1, 1, 2);
  snprintf(want, sizeof(want),
           "%s: record 2 at offset %zu (device dev-1): \"certs\" has 2 "
           "entries, over the limit of 1", scratch_name("limits.msgpack"),
           at);
  assert_string_equal(t.message[0], want);
  assert_non_null(strstr(t.message[1], ": record 3 at offset "));
  assert_non_null(strstr(t.message[1], ": \"device_id\" is 11 bytes, over "
                                       "the 9-byte string limit"));

  limits.max_record_bytes = 63;
  assert_int_equal(cs_ingest_open("x", &limits, &reader, &err),
                   CS_ERR_USAGE);
  assert_null(reader);
  assert_string_equal(err.message,
                      "x: record limit 63 is outside 64 to 1073741824 bytes");
  dump_free(&d);
}

static void test_records_that_are_not_maps(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  dump d;
  size_t at[3];
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "shapes", 1);
  at[0] = d.sbuf.size;
  msgpack_pack_int(&d.pk, 17);
  at[1] = d.sbuf.size;
  msgpack_pack_array(&d.pk, 2);
  put_kv(&d.pk, "device_id", "x");
  at[2] = d.sbuf.size;
  put_str(&d.pk, "device_id");
  pack_simple_device(&d.pk, "dev-ok");
  read_bytes("shapes.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 1, 3);

  static const char *const kinds[] = { "an integer", "an array", "a str" };

  for (size_t i = 0; i < 3; i++) {
    snprintf(want, sizeof(want),
             "%s: record %zu at offset %zu: record is %s, not a map",
             scratch_name("shapes.msgpack"), i + 1, at[i], kinds[i]);
    assert_string_equal(t.message[i], want);
  }
  dump_free(&d);
}

/* Device ids in messages are quoted safely, whatever they hold. */
static void test_device_id_escaped(void **state)
{
  char long_id[200];
  dump d;
  tally t;

  (void)state;
  memset(long_id, 'a', sizeof(long_id) - 1);
  long_id[sizeof(long_id) - 1] = '\0';
  dump_init(&d);
  pack_header(&d.pk, "ids", 1);
  msgpack_pack_map(&d.pk, 1);
  put_kv(&d.pk, "device_id", "evil\n\x1b[31m\"id\\");
  msgpack_pack_map(&d.pk, 1);
  put_kv(&d.pk, "device_id", long_id);
  read_bytes("ids.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 0, 2);
  assert_non_null(strstr(t.message[0], " (device evil\\x0a\\x1b[31m\\x22id"
                                       "\\x5c): no \"os\""));
  assert_non_null(strstr(t.message[1], " (device aaaaaaaaaaaaaaaaaaaaaaaa"
                                       "aaaaaaaaaaaaaaaaaaaaaaaa...): "));
  dump_free(&d);
}

static void test_os_names(void **state)
{
  static const struct {
    const char *name;
    cs_os os;
  } cases[] = {
    { "windows", CS_OS_WINDOWS }, { "mac", CS_OS_MAC },
    { "linux", CS_OS_LINUX }, { "ios", CS_OS_OTHER },
    { "Windows", CS_OS_OTHER }, { "", CS_OS_OTHER },
  };

  (void)state;
  for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
    dump d;
    cs_ingest_reader *reader;
    cs_error err;
    cs_arena arena;
    cs_ingest_item item;

    dump_init(&d);
    pack_header(&d.pk, "os", 1);
    msgpack_pack_map(&d.pk, 3);
    put_kv(&d.pk, "device_id", "dev-os");
    put_kv(&d.pk, "os", cases[i].name);
    put_str(&d.pk, "certs");
    msgpack_pack_array(&d.pk, 0);
    assert_int_equal(cs_ingest_open_memory("os", d.sbuf.data, d.sbuf.size,
                                           NULL, &reader, &err), CS_OK);
    cs_arena_init(&arena, 1024);
    next_ok(reader, &arena, &item, CS_INGEST_HEADER, 0, 0);
    assert_int_equal(cs_ingest_next(reader, &arena, &item, &err), CS_OK);
    assert_int_equal(item.as.device.os, cases[i].os);
    assert_str(item.as.device.os_name, cases[i].name);
    cs_arena_cleanup(&arena);
    cs_ingest_close(reader);
    dump_free(&d);
  }
  assert_string_equal(cs_os_name(CS_OS_MAC), "mac");
  assert_string_equal(cs_os_name(CS_OS_OTHER), "other");
  assert_string_equal(cs_store_name(CS_STORE_PATH), "path");
  assert_string_equal(cs_store_name((cs_store)0), "unknown");
}

/* Many records across many window refills and zstd input blocks. */
static void test_long_stream(void **state)
{
  char id[32];
  dump d;
  size_t big_at = 0;
  tally t;

  (void)state;
  dump_init(&d);
  pack_header(&d.pk, "long", 1);
  for (int i = 0; i < 4000; i++) {
    snprintf(id, sizeof(id), "dev-%04d", i);
    pack_simple_device(&d.pk, id);
    if (i == 2000) {
      big_at = d.sbuf.size;
      pack_big_device(&d.pk, "dev-600k", ((size_t)600 << 10) /
                                             client_der.len);
    }
  }
  assert_true(d.sbuf.size - big_at > ((size_t)600 << 10) - 1024);

  bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);

  read_bytes("long.zst", z.ptr, z.len, NULL, &t);
  assert_counts(&t, 1, 4001, 0);
  assert_int_equal(t.certs, 4000 + ((size_t)600 << 10) / client_der.len);
  assert_int_equal(t.bytes_read, z.len);
  read_bytes("long.msgpack", d.sbuf.data, d.sbuf.size, NULL, &t);
  assert_counts(&t, 1, 4001, 0);
  free(z.ptr);
  dump_free(&d);
}

static void test_open_errors(void **state)
{
  char want[CS_ERROR_MESSAGE_MAX];
  cs_ingest_reader *reader = NULL;
  cs_error err;
  const char *missing = scratch_name("no-such-file.zst");

  (void)state;
  assert_int_equal(cs_ingest_open(missing, NULL, &reader, &err),
                   CS_ERR_OPEN);
  assert_null(reader);
  snprintf(want, sizeof(want),
           "%s: cannot open input: No such file or directory", missing);
  assert_string_equal(err.message, want);
  assert_int_equal(cs_ingest_open(scratch_dir, NULL, &reader, &err),
                   CS_ERR_OPEN);
  snprintf(want, sizeof(want), "%s: cannot open input: it is a directory",
           scratch_dir);
  assert_string_equal(err.message, want);
  cs_ingest_close(NULL);
}

/* The reader over memory gives what the reader over a file gives. */
static void test_memory_reader(void **state)
{
  dump d;
  size_t offsets[4];
  cs_ingest_reader *reader;
  cs_error err;
  tally t;

  (void)state;
  dump_init(&d);
  pack_three_devices(&d, "mem", offsets);

  bytes_buf z = compress_frame(d.sbuf.data, d.sbuf.size);

  assert_int_equal(cs_ingest_open_memory("fleet.zst", z.ptr, z.len, NULL,
                                         &reader, &err), CS_OK);
  read_reader(reader, &t);
  cs_ingest_close(reader);
  assert_counts(&t, 1, 3, 0);
  assert_int_equal(t.bytes_read, z.len);
  assert_int_equal(cs_ingest_open_memory("nothing", NULL, 0, NULL, &reader,
                                         &err), CS_OK);
  read_reader(reader, &t);
  cs_ingest_close(reader);
  assert_string_equal(t.file_message, "nothing: record 0 at offset 0: not a "
                                      "certinv dump: the input is empty");
  free(z.ptr);
  dump_free(&d);
}

/* ---- the example fleet, checked independently of certscan ---- */

static bool ends_with(const char *text, const char *tail)
{
  size_t n = strlen(text);
  size_t m = strlen(tail);

  return n >= m && strcmp(text + n - m, tail) == 0;
}

static void test_example_fleet(void **state)
{
  static const char *const whys[] = {
    ": no \"device_id\"",
    " (device bad-certs): \"certs\" is not an array",
    ": record is an integer, not a map",
    " (device no-os): no \"os\"",
  };
  const char *shared = getenv("CERTSCAN_TESTDATA_DIR");
  char path[2][512];
  struct stat st;
  tally t[2];

  (void)state;
  if (shared == NULL) {
    skip();
  }
  snprintf(path[0], sizeof(path[0]), "%s/example/fleet-a.msgpack.zst",
           shared);
  snprintf(path[1], sizeof(path[1]), "%s/example/fleet-b.msgpack.zst",
           shared);
  if (stat(path[0], &st) != 0 || stat(path[1], &st) != 0) {
    skip();
  }
  read_file(path[0], NULL, &t[0]);
  read_file(path[1], NULL, &t[1]);
  assert_int_equal(t[0].file_status, CS_OK);
  assert_int_equal(t[1].file_status, CS_OK);
  assert_int_equal(t[0].headers + t[1].headers, 2);
  assert_int_equal(t[0].devices + t[0].malformed + t[1].devices +
                   t[1].malformed, 204);
  assert_int_equal(t[0].malformed + t[1].malformed, 4);
  assert_int_equal(t[0].devices + t[1].devices, 200);
  assert_int_equal(t[0].bytes_read, 44973);
  assert_int_equal(t[1].bytes_read, 35503);
  for (size_t i = 0; i < ARRAY_LEN(whys); i++) {
    const tally *in = &t[i / 2];

    assert_true(ends_with(in->message[i % 2], whys[i]));
    assert_int_equal(strncmp(in->message[i % 2], path[i / 2],
                             strlen(path[i / 2])), 0);
  }
}

int main(void)
{
  static struct CMUnitTest bad_field_tests[ARRAY_LEN(bad_fields)];
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_valid_single_file),
    cmocka_unit_test(test_header_fields),
    cmocka_unit_test(test_two_concatenated_frames),
    cmocka_unit_test(test_uncompressed_msgpack),
    cmocka_unit_test(test_empty_input_is_not_a_dump),
    cmocka_unit_test(test_header_only),
    cmocka_unit_test(test_bad_first_object),
    cmocka_unit_test(test_later_header_version_2),
    cmocka_unit_test(test_truncated_zstd),
    cmocka_unit_test(test_bit_flipped_zstd),
    cmocka_unit_test(test_garbage_after_frame),
    cmocka_unit_test(test_skippable_frame_first),
    cmocka_unit_test(test_truncated_msgpack),
    cmocka_unit_test(test_invalid_msgpack_byte),
    cmocka_unit_test(test_absurd_counts),
    cmocka_unit_test(test_full_device_reads),
    cmocka_unit_test(test_timestamps),
    cmocka_unit_test(test_oversized_record_skipped),
    cmocka_unit_test(test_oversized_record_compressed),
    cmocka_unit_test(test_declared_length_past_the_end),
    cmocka_unit_test(test_oversized_first_object),
    cmocka_unit_test(test_nesting_depth),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_records_that_are_not_maps),
    cmocka_unit_test(test_device_id_escaped),
    cmocka_unit_test(test_os_names),
    cmocka_unit_test(test_long_stream),
    cmocka_unit_test(test_open_errors),
    cmocka_unit_test(test_memory_reader),
    cmocka_unit_test(test_example_fleet),
  };
  int failed;

  for (size_t i = 0; i < ARRAY_LEN(bad_fields); i++) {
    bad_field_tests[i] = (struct CMUnitTest){
      .name = bad_fields[i].name,
      .test_func = test_bad_field,
      .initial_state = (void *)&bad_fields[i],
    };
  }
  failed = cmocka_run_group_tests_name("ingest", tests, group_setup,
                                       group_teardown);
  failed += cmocka_run_group_tests_name("ingest bad fields",
                                        bad_field_tests, group_setup,
                                        group_teardown);
  return failed;
}
