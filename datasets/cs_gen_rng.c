/*
 * cs_gen_rng.c - deterministic random streams for the generator, and
 * the bridge that makes OpenSSL draw its random bytes from them.
 *
 * A stream is the ChaCha20 block function (RFC 8439) run in counter
 * mode under a key made by hashing the seed with a label. The keys it
 * helps make are test fixtures: what matters is that the same label
 * always gives the same bytes, on any thread, in any order.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_METHOD: see cs_gen_rand_* */

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cs_gen.h"

static uint32_t rotl32(uint32_t v, int n)
{
  return (v << n) | (v >> (32 - n));
}

#define QUARTER(a, b, c, d)                                                \
  do {                                                                     \
    a += b; d ^= a; d = rotl32(d, 16);                                     \
    c += d; b ^= c; b = rotl32(b, 12);                                     \
    a += b; d ^= a; d = rotl32(d, 8);                                      \
    c += d; b ^= c; b = rotl32(b, 7);                                      \
  } while (0)

static void chacha_block(const uint32_t key[8], uint64_t counter,
                         uint8_t out[64])
{
  uint32_t in[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
  uint32_t x[16];
  int i;

  memcpy(&in[4], key, 32);
  in[12] = (uint32_t)counter;
  in[13] = (uint32_t)(counter >> 32);
  memcpy(x, in, sizeof(x));

  for (i = 0; i < 10; i++) {
    QUARTER(x[0], x[4], x[8], x[12]);
    QUARTER(x[1], x[5], x[9], x[13]);
    QUARTER(x[2], x[6], x[10], x[14]);
    QUARTER(x[3], x[7], x[11], x[15]);
    QUARTER(x[0], x[5], x[10], x[15]);
    QUARTER(x[1], x[6], x[11], x[12]);
    QUARTER(x[2], x[7], x[8], x[13]);
    QUARTER(x[3], x[4], x[9], x[14]);
  }

  for (i = 0; i < 16; i++) {
    uint32_t v = x[i] + in[i];

    out[4 * i] = (uint8_t)v;
    out[4 * i + 1] = (uint8_t)(v >> 8);
    out[4 * i + 2] = (uint8_t)(v >> 16);
    out[4 * i + 3] = (uint8_t)(v >> 24);
  }
}

void cs_gen_rng_init(cs_gen_rng *rng, uint64_t seed, const char *label,
                     uint64_t index)
{
  uint8_t material[16];
  uint8_t digest[32];
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int i;

  for (i = 0; i < 8; i++) {
    material[i] = (uint8_t)(seed >> (8 * i));
    material[8 + i] = (uint8_t)(index >> (8 * i));
  }

  /* SHA-256 never fails on these inputs; a NULL context would. */
  if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
      !EVP_DigestUpdate(md, material, sizeof(material)) ||
      !EVP_DigestUpdate(md, label, strlen(label)) ||
      !EVP_DigestFinal_ex(md, digest, NULL)) {
    abort();
  }
  EVP_MD_CTX_free(md);

  for (i = 0; i < 8; i++) {
    rng->key[i] = (uint32_t)digest[4 * i] |
                  (uint32_t)digest[4 * i + 1] << 8 |
                  (uint32_t)digest[4 * i + 2] << 16 |
                  (uint32_t)digest[4 * i + 3] << 24;
  }
  rng->counter = 0;
  rng->used = sizeof(rng->block);
}

void cs_gen_rng_bytes(cs_gen_rng *rng, void *out, size_t len)
{
  uint8_t *dst = out;

  while (len > 0) {
    size_t take;

    if (rng->used == sizeof(rng->block)) {
      chacha_block(rng->key, rng->counter++, rng->block);
      rng->used = 0;
    }
    take = sizeof(rng->block) - rng->used;
    if (take > len) {
      take = len;
    }
    memcpy(dst, rng->block + rng->used, take);
    rng->used += take;
    dst += take;
    len -= take;
  }
}

uint64_t cs_gen_rng_u64(cs_gen_rng *rng)
{
  uint8_t b[8];
  uint64_t v = 0;
  int i;

  cs_gen_rng_bytes(rng, b, sizeof(b));
  for (i = 0; i < 8; i++) {
    v = (v << 8) | b[i];
  }
  return v;
}

uint64_t cs_gen_rng_below(cs_gen_rng *rng, uint64_t n)
{
  uint64_t limit;
  uint64_t v;

  if (n == 0) {
    return 0;
  }

  /* Rejection keeps the draw uniform. */
  limit = UINT64_MAX - UINT64_MAX % n;
  do {
    v = cs_gen_rng_u64(rng);
  } while (v >= limit);
  return v % n;
}

int64_t cs_gen_rng_range(cs_gen_rng *rng, int64_t lo, int64_t hi)
{
  return lo + (int64_t)cs_gen_rng_below(rng, (uint64_t)(hi - lo) + 1);
}

double cs_gen_rng_unit(cs_gen_rng *rng)
{
  return (double)(cs_gen_rng_u64(rng) >> 11) / 9007199254740992.0;
}

void cs_gen_rng_uuid(cs_gen_rng *rng, char out[37])
{
  uint8_t b[16];
  char hex[33];

  cs_gen_rng_bytes(rng, b, sizeof(b));
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  cs_hex_encode(b, sizeof(b), hex);
  snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
           hex + 16, hex + 20);
}

/*
 * OpenSSL 3.0 consults a RAND_METHOD set with RAND_set_rand_method
 * before its own DRBGs, for public and private bytes alike; that is the
 * one hook that reaches key generation inside the default provider.
 * The method reads the calling thread's stream.
 */
static _Thread_local cs_gen_rng thread_stream;
static _Thread_local bool thread_stream_ready;

static int rand_bytes(unsigned char *buf, int num)
{
  if (!thread_stream_ready || num < 0) {
    return 0;
  }
  cs_gen_rng_bytes(&thread_stream, buf, (size_t)num);
  return 1;
}

static int rand_seed(const void *buf, int num)
{
  (void)buf;
  (void)num;
  return 1;
}

static int rand_add(const void *buf, int num, double entropy)
{
  (void)buf;
  (void)num;
  (void)entropy;
  return 1;
}

static int rand_status(void)
{
  return 1;
}

static RAND_METHOD stream_method = {
  rand_seed, rand_bytes, NULL, rand_add, rand_bytes, rand_status
};

bool cs_gen_rand_install(void)
{
  return RAND_set_rand_method(&stream_method) == 1;
}

void cs_gen_rand_reseed(uint64_t seed, const char *label, uint64_t index)
{
  cs_gen_rng_init(&thread_stream, seed, label, index);
  thread_stream_ready = true;
}
