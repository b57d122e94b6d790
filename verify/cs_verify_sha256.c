/*
 * cs_verify_sha256.c - SHA-256 for the certificate facts.
 *
 * In OpenSSL 3.0 the one-shot SHA256() fetches the algorithm (a global
 * lock) and allocates a context on every call, which is most of its
 * cost for a certificate-sized input. The low-level functions it
 * replaced still exist and do neither, so the parser keeps to zero
 * allocations and no shared state. They are deprecated in 3.0, hence
 * the suppression, kept to this one file.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "cs_verify_internal.h"

#include <openssl/sha.h>

void cs_verify__sha256(cs_bytes in, uint8_t out[32])
{
  SHA256_CTX ctx;

  SHA256_Init(&ctx);
  SHA256_Update(&ctx, in.ptr, in.len);
  SHA256_Final(out, &ctx);
}
