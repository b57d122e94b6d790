/*
 * cs_gen_run.c - makes the devices on worker threads and writes them in
 * order: shards, the per-device verdict table and expected.json.
 *
 * Thread contract: workers take batches of consecutive devices and fill
 * a slot each; only the main thread writes files and adds up counts,
 * taking slots in batch order. A worker waits when it runs a window of
 * slots ahead of the writer, which bounds memory. Every device's bytes
 * depend only on the seed and its index, so the thread count never
 * shows in the output.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <msgpack.h>
#include <zstd.h>

#include "cs_gen.h"

#define BATCH_DEVICES 16
#define WINDOW 64
#define PATH_MAX_LEN 4096

typedef struct batch {
  unsigned shard;
  uint64_t first;
  size_t count;
  msgpack_sbuffer records;
  msgpack_sbuffer table; /* CSV rows */
  cs_gen_device_truth truths[BATCH_DEVICES];
  bool ready;
  bool failed;
} batch;

typedef struct run_state {
  const cs_gen_ctx *ctx;
  uint64_t batch_count;
  uint64_t next_batch;   /* the next one a worker takes */
  uint64_t written;      /* batches the writer is done with */
  bool stop;
  batch slots[WINDOW];
  pthread_mutex_t lock;
  pthread_cond_t changed;
} run_state;

typedef struct totals {
  uint64_t devices_read;
  uint64_t devices_evaluated;
  uint64_t devices_malformed;
  uint64_t certs_read;
  uint64_t certs_malformed;
  uint64_t verdicts[CS_GEN_MAX_RULES][4];
  uint64_t reasons[CS_GEN_MAX_RULES][CS_GEN_R_COUNT];
} totals;

typedef struct shard_writer {
  FILE *file;
  ZSTD_CCtx *zstd;
  char path[PATH_MAX_LEN];
  char tmp_path[PATH_MAX_LEN + 8];
  uint8_t out[1 << 16];
} shard_writer;

/* ---- batches ---- */

static uint64_t shard_first(const cs_gen_options *o, unsigned shard)
{
  return o->devices * shard / o->shards;
}

/* Batch `b` never crosses a shard: each shard starts a new batch. */
static void batch_bounds(const cs_gen_options *o, uint64_t b,
                         unsigned *out_shard, uint64_t *out_first,
                         size_t *out_count)
{
  unsigned s;

  for (s = 0; s < o->shards; s++) {
    uint64_t first = shard_first(o, s);
    uint64_t size = shard_first(o, s + 1) - first;
    uint64_t batches = (size + BATCH_DEVICES - 1) / BATCH_DEVICES;

    if (b < batches) {
      *out_shard = s;
      *out_first = first + b * BATCH_DEVICES;
      *out_count = (size_t)(size - b * BATCH_DEVICES < BATCH_DEVICES
                                ? size - b * BATCH_DEVICES
                                : BATCH_DEVICES);
      return;
    }
    b -= batches;
  }
}

static uint64_t count_batches(const cs_gen_options *o)
{
  uint64_t total = 0;
  unsigned s;

  for (s = 0; s < o->shards; s++) {
    uint64_t size = shard_first(o, s + 1) - shard_first(o, s);

    total += (size + BATCH_DEVICES - 1) / BATCH_DEVICES;
  }
  return total;
}

static void append_row(msgpack_sbuffer *table, const cs_gen_device *d,
                       const cs_gen_rule *rule,
                       const cs_gen_verdict_result *result)
{
  char row[160];
  int len = snprintf(row, sizeof(row), "%s,%s,%s,%s\n", d->device_id,
                     rule->id, cs_gen_verdict_name(result->verdict),
                     cs_gen_reason_code(result->reason));

  msgpack_sbuffer_write(table, row, (size_t)len);
}

static bool make_batch(const cs_gen_ctx *ctx, batch *slot,
                       cs_gen_device *device)
{
  msgpack_packer pk;
  size_t i, r;

  msgpack_packer_init(&pk, &slot->records, msgpack_sbuffer_write);
  for (i = 0; i < slot->count; i++) {
    cs_gen_device_truth *truth = &slot->truths[i];
    bool ok = cs_gen_device_make(ctx, slot->first + i, &pk, device, truth);

    for (r = 0; ok && truth->evaluated && r < ctx->rules->count; r++) {
      if (truth->results[r].verdict != CS_GEN_V_NOT_APPLICABLE) {
        append_row(&slot->table, device, &ctx->rules->rules[r],
                   &truth->results[r]);
      }
    }
    cs_gen_device_cleanup(device);
    if (!ok) {
      return false;
    }
  }
  return true;
}

static void *worker_main(void *arg)
{
  run_state *st = arg;
  cs_gen_device *device = malloc(sizeof(*device));

  pthread_mutex_lock(&st->lock);
  for (;;) {
    uint64_t b;
    batch *slot;
    bool ok;

    while (!st->stop && st->next_batch < st->batch_count &&
           st->next_batch >= st->written + WINDOW) {
      pthread_cond_wait(&st->changed, &st->lock);
    }
    if (st->stop || st->next_batch >= st->batch_count) {
      break;
    }
    b = st->next_batch++;
    slot = &st->slots[b % WINDOW];
    pthread_mutex_unlock(&st->lock);

    batch_bounds(st->ctx->options, b, &slot->shard, &slot->first,
                 &slot->count);
    msgpack_sbuffer_init(&slot->records);
    msgpack_sbuffer_init(&slot->table);
    ok = device != NULL && make_batch(st->ctx, slot, device);

    pthread_mutex_lock(&st->lock);
    slot->failed = !ok;
    slot->ready = true;
    pthread_cond_broadcast(&st->changed);
  }
  pthread_mutex_unlock(&st->lock);
  free(device);
  return NULL;
}

/* ---- shards ---- */

static bool shard_write(shard_writer *w, const void *data, size_t len,
                        ZSTD_EndDirective mode)
{
  ZSTD_inBuffer in = { data, len, 0 };
  size_t left;

  if (w->zstd == NULL) {
    return fwrite(data, 1, len, w->file) == len;
  }
  do {
    ZSTD_outBuffer out = { w->out, sizeof(w->out), 0 };

    left = ZSTD_compressStream2(w->zstd, &out, &in, mode);
    if (ZSTD_isError(left) ||
        fwrite(w->out, 1, out.pos, w->file) != out.pos) {
      return false;
    }
  } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
  return true;
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
  msgpack_pack_str(pk, strlen(s));
  msgpack_pack_str_body(pk, s, strlen(s));
}

static bool shard_open(shard_writer *w, const cs_gen_options *o,
                       unsigned shard)
{
  msgpack_sbuffer buf;
  msgpack_packer pk;
  msgpack_timestamp ts = { o->at - 3600, 0 };
  char source[96];
  bool ok;

  snprintf(w->path, sizeof(w->path), "%s/fleet-%03u.msgpack%s", o->out_dir,
           shard, o->uncompressed ? "" : ".zst");
  snprintf(w->tmp_path, sizeof(w->tmp_path), "%s.tmp", w->path);
  w->file = fopen(w->tmp_path, "wb");
  w->zstd = o->uncompressed ? NULL : ZSTD_createCCtx();
  if (w->file == NULL || (!o->uncompressed && w->zstd == NULL)) {
    return false;
  }
  if (w->zstd != NULL) {
    ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_compressionLevel, 3);
    ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_checksumFlag, 1);
  }

  snprintf(source, sizeof(source), "certscan-gen seed %llu shard %u of %u",
           (unsigned long long)o->seed, shard + 1, o->shards);
  msgpack_sbuffer_init(&buf);
  msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 4);
  pack_cstr(&pk, "format");
  pack_cstr(&pk, "certinv");
  pack_cstr(&pk, "version");
  msgpack_pack_int(&pk, 1);
  pack_cstr(&pk, "source");
  pack_cstr(&pk, source);
  pack_cstr(&pk, "collected_at");
  msgpack_pack_timestamp(&pk, &ts);
  ok = shard_write(w, buf.data, buf.size, ZSTD_e_continue);
  msgpack_sbuffer_destroy(&buf);
  return ok;
}

static bool shard_close(shard_writer *w, bool keep)
{
  bool ok = keep;

  if (w->file == NULL) {
    return keep;
  }
  if (ok && w->zstd != NULL) {
    ok = shard_write(w, NULL, 0, ZSTD_e_end);
  }
  ok = fclose(w->file) == 0 && ok;
  ZSTD_freeCCtx(w->zstd);
  w->file = NULL;
  w->zstd = NULL;
  if (ok && rename(w->tmp_path, w->path) != 0) {
    ok = false;
  }
  if (!ok) {
    remove(w->tmp_path);
  }
  return ok;
}

/* ---- totals and expected.json ---- */

static void add_truths(totals *t, const cs_gen_rules *rules,
                       const batch *slot)
{
  size_t i, r;

  for (i = 0; i < slot->count; i++) {
    const cs_gen_device_truth *truth = &slot->truths[i];

    t->devices_read++;
    if (truth->malformed) {
      t->devices_malformed++;
      continue;
    }
    t->devices_evaluated++;
    t->certs_read += truth->certs;
    t->certs_malformed += truth->certs_malformed;
    for (r = 0; r < rules->count; r++) {
      t->verdicts[r][truth->results[r].verdict]++;
      t->reasons[r][truth->results[r].reason]++;
    }
  }
}

static json_t *rule_counts(const totals *t, const cs_gen_rule *rule,
                           size_t r)
{
  static const char *os_names[] = { "windows", "mac", "linux" };
  const uint64_t *v = t->verdicts[r];
  json_t *obj = json_object();
  json_t *reasons = json_object();
  int i;

  json_object_set_new(obj, "id", json_string(rule->id));
  json_object_set_new(obj, "name", json_string(rule->name));
  json_object_set_new(obj, "type", json_string(rule->type));
  json_object_set_new(obj, "operating_system",
                      rule->os < 0 ? json_null()
                                   : json_string(os_names[rule->os]));
  json_object_set_new(obj, "applicable",
                      json_integer((json_int_t)(v[CS_GEN_V_PASS] +
                                                v[CS_GEN_V_FAIL] +
                                                v[CS_GEN_V_UNKNOWN])));
  json_object_set_new(obj, "pass", json_integer((json_int_t)v[0]));
  json_object_set_new(obj, "fail", json_integer((json_int_t)v[1]));
  json_object_set_new(obj, "unknown", json_integer((json_int_t)v[2]));
  json_object_set_new(obj, "not_applicable",
                      json_integer((json_int_t)v[3]));
  for (i = 1; i < CS_GEN_R_COUNT; i++) {
    if (t->reasons[r][i] > 0) {
      json_object_set_new(reasons, cs_gen_reason_code((cs_gen_reason)i),
                          json_integer((json_int_t)t->reasons[r][i]));
    }
  }
  json_object_set_new(obj, "reasons", reasons);
  return obj;
}

static json_t *pair(const char *k1, uint64_t v1, const char *k2,
                    uint64_t v2)
{
  json_t *obj = json_object();

  json_object_set_new(obj, k1, json_integer((json_int_t)v1));
  json_object_set_new(obj, k2, json_integer((json_int_t)v2));
  return obj;
}

static bool write_expected(const cs_gen_ctx *ctx, const totals *t,
                           const char *path)
{
  char at[CS_TIME_TEXT_MAX];
  json_t *doc = json_object();
  json_t *devices = pair("read", t->devices_read, "evaluated",
                         t->devices_evaluated);
  json_t *rules = json_array();
  size_t r, skipped = 0;
  int rc;

  json_object_set_new(devices, "malformed",
                      json_integer((json_int_t)t->devices_malformed));
  json_object_set_new(doc, "evaluated_at",
                      json_string(cs_time_format(ctx->options->at, at)));
  json_object_set_new(doc, "devices", devices);
  json_object_set_new(doc, "certificates",
                      pair("read", t->certs_read, "malformed",
                           t->certs_malformed));
  for (r = 0; r < ctx->rules->count; r++) {
    if (ctx->rules->rules[r].evaluated) {
      json_array_append_new(rules,
                            rule_counts(t, &ctx->rules->rules[r], r));
    } else {
      skipped++;
    }
  }
  json_object_set_new(doc, "rules_skipped",
                      json_integer((json_int_t)skipped));
  json_object_set_new(doc, "rules", rules);
  rc = json_dump_file(doc, path, JSON_INDENT(1));
  json_decref(doc);
  return rc == 0;
}

/* ---- the writer loop ---- */

typedef struct writer {
  shard_writer shard;
  int open_shard;
  FILE *table;
  totals sums;
} writer;

static bool write_slot(writer *w, const cs_gen_ctx *ctx, batch *slot)
{
  bool ok = !slot->failed;

  while (ok && w->open_shard < (int)slot->shard) {
    ok = shard_close(&w->shard, true) &&
         shard_open(&w->shard, ctx->options, (unsigned)++w->open_shard);
  }
  ok = ok && shard_write(&w->shard, slot->records.data, slot->records.size,
                         ZSTD_e_continue);
  ok = ok && fwrite(slot->table.data, 1, slot->table.size, w->table) ==
                 slot->table.size;
  if (ok) {
    add_truths(&w->sums, ctx->rules, slot);
  }
  msgpack_sbuffer_destroy(&slot->records);
  msgpack_sbuffer_destroy(&slot->table);
  return ok;
}

static bool drain(run_state *st, writer *w)
{
  uint64_t b;
  bool ok = true;

  for (b = 0; b < st->batch_count && ok; b++) {
    batch *slot = &st->slots[b % WINDOW];

    pthread_mutex_lock(&st->lock);
    while (!slot->ready) {
      pthread_cond_wait(&st->changed, &st->lock);
    }
    pthread_mutex_unlock(&st->lock);

    ok = write_slot(w, st->ctx, slot);

    pthread_mutex_lock(&st->lock);
    slot->ready = false;
    st->written = b + 1;
    st->stop = !ok;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
  }
  return ok;
}

/* Empty shards still get their header; then every shard is closed. */
static bool finish_shards(writer *w, const cs_gen_options *o, bool ok)
{
  while (ok && w->open_shard + 1 < (int)o->shards) {
    ok = shard_close(&w->shard, true) &&
         shard_open(&w->shard, o, (unsigned)++w->open_shard);
  }
  return shard_close(&w->shard, ok);
}

static bool run_threads(run_state *st, writer *w)
{
  pthread_t threads[64];
  unsigned n = st->ctx->options->threads;
  unsigned started = 0;
  bool ok;

  while (started < n &&
         pthread_create(&threads[started], NULL, worker_main, st) == 0) {
    started++;
  }
  ok = started > 0 && drain(st, w);
  if (!ok) {
    pthread_mutex_lock(&st->lock);
    st->stop = true;
    pthread_cond_broadcast(&st->changed);
    pthread_mutex_unlock(&st->lock);
  }
  while (started > 0) {
    pthread_join(threads[--started], NULL);
  }
  return ok;
}

static bool make_dir(const char *path)
{
  if (mkdir(path, 0777) == 0 || errno == EEXIST) {
    return true;
  }
  fprintf(stderr, "certscan-gen: cannot create %s: %s\n", path,
          strerror(errno));
  return false;
}

bool cs_gen_run(const cs_gen_ctx *ctx)
{
  const cs_gen_options *o = ctx->options;
  char path[PATH_MAX_LEN];
  run_state *st = calloc(1, sizeof(*st));
  writer *w = calloc(1, sizeof(*w));
  bool ok;

  if (st == NULL || w == NULL || !make_dir(o->out_dir)) {
    free(st);
    free(w);
    return false;
  }
  st->ctx = ctx;
  st->batch_count = count_batches(o);
  pthread_mutex_init(&st->lock, NULL);
  pthread_cond_init(&st->changed, NULL);

  snprintf(path, sizeof(path), "%s/expected-devices.csv", o->out_dir);
  w->table = fopen(path, "w");
  ok = w->table != NULL &&
       fputs("device_id,rule_id,verdict,reason\n", w->table) >= 0 &&
       shard_open(&w->shard, o, 0) && run_threads(st, w);
  ok = finish_shards(w, o, ok);
  ok = w->table != NULL && fclose(w->table) == 0 && ok;

  snprintf(path, sizeof(path), "%s/expected.json", o->out_dir);
  ok = ok && write_expected(ctx, &w->sums, path);
  if (!ok) {
    fprintf(stderr, "certscan-gen: cannot write the fleet to %s\n",
            o->out_dir);
  }
  pthread_mutex_destroy(&st->lock);
  pthread_cond_destroy(&st->changed);
  free(st);
  free(w);
  return ok;
}
