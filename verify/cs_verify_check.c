/*
 * cs_verify_check.c - the issuer-name comparison and the signature
 * check, with the per-thread OpenSSL state that makes them cheap.
 *
 * OpenSSL 3.0 fetches an algorithm (under a global lock) every time a
 * context is set up from names. A cs_verify_ctx therefore keeps, per
 * thread: the digests fetched once; one digest context reused for every
 * TBS; and a few verification contexts, each set up once for one
 * (signer, algorithm, parameters) and reused for every certificate that
 * needs it. Signers' keys are decoded once, at load.
 */
#include "cs_verify_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Verification contexts kept per thread; the oldest is reused first. */
#define PREPARED_SLOTS 32

/* Issuer names remembered per thread when bytes alone did not decide. */
#define NAME_SLOTS 256

/* Longer issuer names are compared every time rather than remembered. */
#define NAME_CACHE_MAX 512

typedef struct prepared {
  uint64_t signer; /* the signer's serial; 0 when the slot is free */
  cs_sig_kind kind;
  cs_hash hash;
  cs_verify__pss pss;
  EVP_PKEY_CTX *pkey_ctx;  /* algorithms that sign a digest */
  EVP_MD_CTX *md_template; /* EdDSA: copied for each check */
} prepared;

typedef struct name_slot {
  uint64_t signer;
  bool equal;
  size_t len;
  uint8_t bytes[NAME_CACHE_MAX];
} name_slot;

struct cs_verify_ctx {
  EVP_MD *md[CS_HASH_OTHER];
  EVP_MD_CTX *digest;
  EVP_MD_CTX *pure;
  prepared slots[PREPARED_SLOTS];
  size_t next_victim;
  name_slot *names; /* NAME_SLOTS of them */
};

static const char *const md_names[CS_HASH_OTHER] = {
  [CS_HASH_MD5] = "MD5",       [CS_HASH_SHA1] = "SHA1",
  [CS_HASH_SHA224] = "SHA224", [CS_HASH_SHA256] = "SHA256",
  [CS_HASH_SHA384] = "SHA384", [CS_HASH_SHA512] = "SHA512",
};

cs_verify_ctx *cs_verify_ctx_new(void)
{
  cs_verify_ctx *ctx = calloc(1, sizeof(*ctx));

  if (ctx == NULL) {
    return NULL;
  }
  ctx->digest = EVP_MD_CTX_new();
  ctx->pure = EVP_MD_CTX_new();
  ctx->names = calloc(NAME_SLOTS, sizeof(*ctx->names));
  if (ctx->digest == NULL || ctx->pure == NULL || ctx->names == NULL) {
    cs_verify_ctx_free(ctx);
    return NULL;
  }
  return ctx;
}

static void slot_clear(prepared *slot)
{
  EVP_PKEY_CTX_free(slot->pkey_ctx);
  EVP_MD_CTX_free(slot->md_template);
  memset(slot, 0, sizeof(*slot));
}

void cs_verify_ctx_free(cs_verify_ctx *ctx)
{
  if (ctx == NULL) {
    return;
  }
  for (size_t i = 0; i < PREPARED_SLOTS; i++) {
    slot_clear(&ctx->slots[i]);
  }
  for (size_t i = 0; i < CS_HASH_OTHER; i++) {
    EVP_MD_free(ctx->md[i]);
  }
  EVP_MD_CTX_free(ctx->digest);
  EVP_MD_CTX_free(ctx->pure);
  free(ctx->names);
  free(ctx);
}

/* The digest for `hash`, fetched on first use; NULL when unavailable. */
static EVP_MD *get_md(cs_verify_ctx *ctx, cs_hash hash)
{
  if (hash <= CS_HASH_NONE || hash >= CS_HASH_OTHER) {
    return NULL;
  }
  if (ctx->md[hash] == NULL) {
    ctx->md[hash] = EVP_MD_fetch(NULL, md_names[hash], NULL);
  }
  return ctx->md[hash];
}

/* FNV-1a over the name, mixed with the signer: picks a name slot. */
static size_t name_slot_index(cs_bytes name, uint64_t signer)
{
  uint64_t h = UINT64_C(0xcbf29ce484222325) ^ signer;

  for (size_t i = 0; i < name.len; i++) {
    h = (h ^ name.ptr[i]) * UINT64_C(0x100000001b3);
  }
  return (size_t)(h % NAME_SLOTS);
}

/* X509_NAME_cmp: OpenSSL's comparison, with case and space folding. */
static bool openssl_names_equal(cs_bytes issuer, const X509_NAME *subject)
{
  const unsigned char *p = issuer.ptr;
  X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)issuer.len);
  bool equal = name != NULL && p == issuer.ptr + issuer.len &&
               X509_NAME_cmp(name, subject) == 0;

  X509_NAME_free(name);
  ERR_clear_error();
  return equal;
}

static bool issuer_matches(cs_verify_ctx *ctx, const cs_cert_facts *cert,
                           const cs_verify_signer *signer)
{
  cs_bytes subject = signer->facts.subject;
  name_slot *slot;
  bool equal;

  if (cert->issuer.len == subject.len &&
      memcmp(cert->issuer.ptr, subject.ptr, subject.len) == 0) {
    return true;
  }
  if (cert->issuer.len > NAME_CACHE_MAX) {
    return openssl_names_equal(cert->issuer, signer->subject);
  }

  slot = &ctx->names[name_slot_index(cert->issuer, signer->serial)];
  if (slot->signer == signer->serial && slot->len == cert->issuer.len &&
      memcmp(slot->bytes, cert->issuer.ptr, slot->len) == 0) {
    return slot->equal;
  }
  equal = openssl_names_equal(cert->issuer, signer->subject);
  slot->signer = signer->serial;
  slot->equal = equal;
  slot->len = cert->issuer.len;
  memcpy(slot->bytes, cert->issuer.ptr, slot->len);
  return equal;
}

/* Whether a signature of this kind can come from the signer's key. */
static bool kind_fits_key(cs_sig_kind kind, cs_verify__key key)
{
  switch (kind) {
  case CS_SIG_RSA_PKCS1:
    return key == CS_VERIFY_KEY_RSA;
  case CS_SIG_RSA_PSS:
    return key == CS_VERIFY_KEY_RSA || key == CS_VERIFY_KEY_RSA_PSS;
  case CS_SIG_ECDSA:
    return key == CS_VERIFY_KEY_EC;
  case CS_SIG_ED25519:
    return key == CS_VERIFY_KEY_ED25519;
  case CS_SIG_ED448:
    return key == CS_VERIFY_KEY_ED448;
  case CS_SIG_DSA:
    return key == CS_VERIFY_KEY_DSA;
  default:
    return false;
  }
}

static bool set_rsa_params(EVP_PKEY_CTX *pkey_ctx, cs_verify_ctx *ctx,
                           cs_sig_kind kind, const cs_verify__pss *pss)
{
  EVP_MD *mgf1;

  if (kind == CS_SIG_RSA_PKCS1) {
    return EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PADDING) > 0;
  }
  mgf1 = get_md(ctx, pss->mgf1_hash);
  return mgf1 != NULL &&
         EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, mgf1) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, pss->salt_len) > 0;
}

/* A context that verifies a digest: RSA, ECDSA, DSA. */
static bool prepare_digest_verify(cs_verify_ctx *ctx, prepared *slot,
                                  const cs_verify_signer *signer)
{
  EVP_MD *md = get_md(ctx, slot->hash);
  EVP_PKEY_CTX *pkey_ctx;

  if (md == NULL) {
    return false;
  }
  pkey_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, signer->pkey, NULL);
  if (pkey_ctx == NULL || EVP_PKEY_verify_init(pkey_ctx) <= 0) {
    EVP_PKEY_CTX_free(pkey_ctx);
    return false;
  }

  /* Padding first: PSS settings are refused under PKCS#1 padding. */
  if ((slot->kind == CS_SIG_RSA_PKCS1 || slot->kind == CS_SIG_RSA_PSS) &&
      !set_rsa_params(pkey_ctx, ctx, slot->kind, &slot->pss)) {
    EVP_PKEY_CTX_free(pkey_ctx);
    return false;
  }
  if (EVP_PKEY_CTX_set_signature_md(pkey_ctx, md) <= 0) {
    EVP_PKEY_CTX_free(pkey_ctx);
    return false;
  }
  slot->pkey_ctx = pkey_ctx;
  return true;
}

/* EdDSA signs the message itself: a template for one-shot verifies. */
static bool prepare_pure_verify(prepared *slot, const cs_verify_signer *s)
{
  EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();

  if (md_ctx == NULL || EVP_DigestVerifyInit_ex(md_ctx, NULL, NULL, NULL,
                                                NULL, s->pkey, NULL) != 1) {
    EVP_MD_CTX_free(md_ctx);
    return false;
  }
  slot->md_template = md_ctx;
  return true;
}

static bool same_pss(const cs_verify__pss *a, const cs_verify__pss *b)
{
  return a->hash == b->hash && a->mgf1_hash == b->mgf1_hash &&
         a->salt_len == b->salt_len;
}

/* The slot for this signer and algorithm, set up when missing. */
static prepared *find_prepared(cs_verify_ctx *ctx,
                               const cs_verify_signer *signer,
                               cs_sig_kind kind, cs_hash hash,
                               const cs_verify__pss *pss)
{
  prepared *slot;
  bool ok;

  for (size_t i = 0; i < PREPARED_SLOTS; i++) {
    slot = &ctx->slots[i];
    if (slot->signer == signer->serial && slot->kind == kind &&
        slot->hash == hash && same_pss(&slot->pss, pss)) {
      return slot;
    }
  }

  slot = &ctx->slots[ctx->next_victim];
  ctx->next_victim = (ctx->next_victim + 1) % PREPARED_SLOTS;
  slot_clear(slot);
  slot->kind = kind;
  slot->hash = hash;
  slot->pss = *pss;
  ok = kind == CS_SIG_ED25519 || kind == CS_SIG_ED448
           ? prepare_pure_verify(slot, signer)
           : prepare_digest_verify(ctx, slot, signer);
  if (!ok) {
    slot_clear(slot);
    return NULL;
  }
  slot->signer = signer->serial;
  return slot;
}

static bool verify_digest(cs_verify_ctx *ctx, const prepared *slot,
                          const cs_cert_facts *cert)
{
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len;

  if (EVP_DigestInit_ex2(ctx->digest, ctx->md[slot->hash], NULL) != 1 ||
      EVP_DigestUpdate(ctx->digest, cert->tbs.ptr, cert->tbs.len) != 1 ||
      EVP_DigestFinal_ex(ctx->digest, digest, &digest_len) != 1) {
    return false;
  }
  return EVP_PKEY_verify(slot->pkey_ctx, cert->signature.ptr,
                         cert->signature.len, digest, digest_len) == 1;
}

static bool verify_pure(cs_verify_ctx *ctx, const prepared *slot,
                        const cs_cert_facts *cert)
{
  if (EVP_MD_CTX_copy_ex(ctx->pure, slot->md_template) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx->pure, cert->signature.ptr,
                          cert->signature.len, cert->tbs.ptr,
                          cert->tbs.len) == 1;
}

static cs_sig_check verify_signature(cs_verify_ctx *ctx,
                                     const cs_cert_facts *cert,
                                     const cs_verify_signer *signer)
{
  cs_verify__pss pss = { CS_HASH_NONE, CS_HASH_NONE, 0 };
  prepared *slot;
  bool ok;

  if (cert->sig_kind == CS_SIG_RSA_PSS &&
      !cs_verify__pss_params(cert->sig_alg, &pss)) {
    return CS_SIG_CHECK_UNSUPPORTED;
  }

  /* A context OpenSSL refuses to set up cannot verify: fail closed. */
  slot = find_prepared(ctx, signer, cert->sig_kind, cert->sig_hash, &pss);
  ok = slot != NULL && (slot->pkey_ctx != NULL
                            ? verify_digest(ctx, slot, cert)
                            : verify_pure(ctx, slot, cert));
  if (!ok) {
    ERR_clear_error();
    return CS_SIG_CHECK_BAD_SIGNATURE;
  }
  return CS_SIG_CHECK_OK;
}

cs_sig_check cs_verify_check(cs_verify_ctx *ctx, const cs_cert_facts *cert,
                             const cs_verify_signer *signer)
{
  if (!signer->usable) {
    return CS_SIG_CHECK_UNSUPPORTED;
  }
  if (!issuer_matches(ctx, cert, signer)) {
    return CS_SIG_CHECK_WRONG_ISSUER;
  }
  if (cert->sig_kind == CS_SIG_UNKNOWN) {
    return CS_SIG_CHECK_UNSUPPORTED;
  }

  /* An algorithm certscan verifies, but not one the signer's key makes. */
  if (!kind_fits_key(cert->sig_kind, signer->key)) {
    return CS_SIG_CHECK_BAD_SIGNATURE;
  }
  return verify_signature(ctx, cert, signer);
}
