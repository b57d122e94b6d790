/*
 * fuzz_ingest.c - libFuzzer target for the certinv reader. Any bytes,
 * raw msgpack or zstd, must give a clean run of items and errors: no
 * crash, no read out of bounds, every status in its category, every
 * device consistent with the limits, and END for good after an error
 * that ends the input.
 *
 * The first byte picks the record limit, so that small inputs reach
 * the path that streams past oversized records as well.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_ingest.h"

/* Enough items to cover any input the fuzzer makes up, fast. */
#define FUZZ_MAX_ITEMS 100000

/* Every byte handed out is read into here, so that ASan checks it. */
static volatile unsigned fuzz_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect(bool ok)
{
  if (!ok) {
    abort();
  }
}

static void check_str(cs_str s, size_t max)
{
  if (s.ptr == NULL) {
    expect(s.len == 0);
    return;
  }
  expect(s.len <= max && s.ptr[s.len] == '\0');
}

static unsigned touch(cs_bytes b)
{
  unsigned sum = 0;

  expect(b.len == 0 || b.ptr != NULL);
  for (size_t i = 0; i < b.len; i++) {
    sum += b.ptr[i];
  }
  return sum;
}

static unsigned check_cert(const cs_cert_entry *c, size_t max)
{
  expect(c->store == CS_STORE_SYSTEM || c->store == CS_STORE_USER ||
         c->store == CS_STORE_PATH);
  expect(c->store != CS_STORE_PATH || c->path.len > 0);
  expect(c->has_key <= CS_TRI_TRUE);
  check_str(c->path, max);
  check_str(c->key_path, max);
  check_str(c->label, max);
  return touch(c->der);
}

static unsigned check_device(const cs_device *d, const cs_ingest_limits *l)
{
  unsigned sum = 0;

  expect(d->device_id.len > 0);
  check_str(d->device_id, l->max_string_bytes);
  check_str(d->hostname, l->max_string_bytes);
  check_str(d->serial_number, l->max_string_bytes);
  check_str(d->os_name, l->max_string_bytes);
  check_str(d->os_version, l->max_string_bytes);
  check_str(d->client_version, l->max_string_bytes);
  check_str(d->user, l->max_string_bytes);
  expect((d->collected_stores & ~(unsigned)CS_STORES_ALL) == 0);
  expect(d->cert_count <= l->max_certs_per_device);
  expect((d->cert_count == 0) == (d->certs == NULL));
  for (size_t i = 0; i < d->cert_count; i++) {
    sum += check_cert(&d->certs[i], l->max_string_bytes);
  }
  return sum;
}

/* The status and the item must agree on what happened. */
static void check_status(cs_status status, const cs_error *err,
                         const cs_ingest_item *item)
{
  cs_category category = cs_status_category(status);

  expect(err->status == status);
  if (status == CS_OK) {
    expect(item->kind != CS_INGEST_MALFORMED);
    return;
  }
  expect(err->message[0] != '\0');
  if (category == CS_CAT_RECORD) {
    expect(item->kind == CS_INGEST_MALFORMED);
    return;
  }
  expect(category == CS_CAT_FILE || category == CS_CAT_ABORT);
  expect(item->kind == CS_INGEST_END);
}

static void run(cs_ingest_reader *reader, const cs_ingest_limits *limits)
{
  cs_arena arena;
  cs_ingest_item item;
  cs_error err;
  uint64_t last_offset = 0;

  cs_arena_init(&arena, 4096);
  for (int n = 0; n < FUZZ_MAX_ITEMS; n++) {
    cs_status status = cs_ingest_next(reader, &arena, &item, &err);

    check_status(status, &err, &item);
    expect(item.position.offset >= last_offset);
    last_offset = item.position.offset;
    if (item.kind == CS_INGEST_DEVICE) {
      fuzz_sink += check_device(&item.as.device, limits);
    }
    check_str(item.malformed_device_id, limits->max_string_bytes);
    if (item.kind == CS_INGEST_END) {
      expect(cs_ingest_next(reader, &arena, &item, &err) == CS_OK);
      expect(item.kind == CS_INGEST_END);
      break;
    }
    cs_arena_reset(&arena);
  }
  cs_arena_cleanup(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cs_ingest_limits limits = { 0 };
  cs_ingest_reader *reader = NULL;
  cs_error err;

  if (size == 0) {
    return 0;
  }
  limits.max_record_bytes = CS_INGEST_MIN_RECORD_BYTES + (size_t)data[0] * 64;
  limits.max_certs_per_device = 64;
  limits.max_string_bytes = 256;
  expect(cs_ingest_open_memory("fuzz", data + 1, size - 1, &limits, &reader,
                               &err) == CS_OK);
  run(reader, &limits);
  expect(cs_ingest_bytes_read(reader) <= size - 1);
  cs_ingest_close(reader);
  return 0;
}
