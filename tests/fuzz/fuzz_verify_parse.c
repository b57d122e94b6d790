/*
 * fuzz_verify_parse.c - libFuzzer target for the certificate reader and
 * the signature check. Any bytes must give CS_OK or
 * CS_ERR_CERT_MALFORMED with a message, never a crash or a read out of
 * bounds; facts that come back must point inside the input (views) or
 * be NUL-terminated strings of their stated length (arena copies), and
 * a second parse must give the same facts.
 *
 * A certificate that parses is then checked against three signers (RSA,
 * P-256, Ed25519, from the verify fixtures), once as it is and once with
 * its issuer taken to be the signer's subject, so that fuzzed
 * algorithms, parameters and signatures reach OpenSSL through the
 * prepared contexts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cs_verify.h"

#ifndef CERTSCAN_FIXTURES
#define CERTSCAN_FIXTURES "tests/verify/fixtures"
#endif

static const char *const signer_files[] = { "ca-rsa", "ca-p256",
                                            "ca-ed25519" };

#define SIGNER_COUNT (sizeof(signer_files) / sizeof(signer_files[0]))

static cs_verify_signers *signers;
static cs_verify_ctx *ctx;
static cs_arena arena;

/* Every byte handed out is read into here, so that ASan checks it. */
static volatile unsigned fuzz_sink;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect(bool ok)
{
  if (!ok) {
    abort();
  }
}

/* A fixture PEM as a JSON string value, newlines escaped. */
static void write_pem_json(FILE *out, const char *name)
{
  char path[1024];
  FILE *in;
  int c;

  snprintf(path, sizeof(path), "%s/%s.pem", CERTSCAN_FIXTURES, name);
  in = fopen(path, "r");
  expect(in != NULL);
  fputc('"', out);
  while ((c = fgetc(in)) != EOF) {
    fputs(c == '\n' ? "\\n" : (char[]){ (char)c, '\0' }, out);
  }
  fputc('"', out);
  fclose(in);
}

/* The signers, through the public loader, from a temporary JSON file. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  char path[64] = "/tmp/fuzz-verify-signers-";
  FILE *json;
  cs_error err;

  (void)argc;
  (void)argv;

  /* mkstemp's template: the prefix, then six X to replace. */
  memset(path + strlen(path), 'X', 6);
  json = fdopen(mkstemp(path), "w");
  expect(json != NULL);
  fputc('[', json);
  for (size_t i = 0; i < SIGNER_COUNT; i++) {
    fprintf(json, "%s{\"id\": \"00000000-0000-4000-8000-%012zu\", "
                  "\"certificates\": ",
            i > 0 ? ", " : "", i);
    write_pem_json(json, signer_files[i]);
    fputc('}', json);
  }
  fputc(']', json);
  fclose(json);

  signers = cs_verify_signers_new();
  ctx = cs_verify_ctx_new();
  expect(signers != NULL && ctx != NULL);
  expect(cs_verify_signers_load(signers, path, &err) == CS_OK);
  unlink(path);
  expect(cs_verify_signers_count(signers) == SIGNER_COUNT);
  cs_arena_init(&arena, 1 << 16);
  return 0;
}

static bool inside(cs_bytes view, const uint8_t *data, size_t size)
{
  return view.len == 0 ||
         (view.ptr >= data && view.len <= size &&
          (size_t)(view.ptr - data) <= size - view.len);
}

static unsigned touch(const void *ptr, size_t len)
{
  const uint8_t *p = ptr;
  unsigned sum = 0;

  for (size_t i = 0; i < len; i++) {
    sum += p[i];
  }
  return sum;
}

static unsigned check_str(cs_str s)
{
  expect(s.ptr != NULL && s.ptr[s.len] == '\0');
  return touch(s.ptr, s.len);
}

static void check_facts(const cs_cert_facts *f, const uint8_t *data,
                        size_t size)
{
  const cs_bytes views[] = { f->der,     f->tbs,     f->issuer,
                             f->subject, f->spki,    f->sig_alg,
                             f->signature, f->serial };
  unsigned sum = 0;

  expect(f->der.ptr == data && f->der.len == size);
  for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
    expect(inside(views[i], data, size));
    sum += touch(views[i].ptr, views[i].len);
  }
  expect(f->version >= 1 && f->version <= 3);
  expect(f->serial.len > 0);
  expect(f->sig_kind <= CS_SIG_DSA && f->sig_hash <= CS_HASH_OTHER);
  expect(f->sig_name != NULL && f->sig_name[0] != '\0');
  expect((f->eku & ~(CS_EKU_CLIENT_AUTH | CS_EKU_EMAIL_PROTECTION |
                     CS_EKU_ANY)) == 0);
  expect(f->has_eku || f->eku == 0);
  for (size_t i = 0; i < f->cn_count; i++) {
    sum += check_str(f->cns[i]);
  }
  for (size_t i = 0; i < f->san_count; i++) {
    expect(f->sans[i].type <= CS_SAN_OTHER);
    sum += check_str(f->sans[i].value);
  }
  fuzz_sink += sum;
}

static void check_signers(const cs_cert_facts *f)
{
  for (size_t i = 0; i < SIGNER_COUNT; i++) {
    const cs_verify_signer *s = cs_verify_signers_get0(signers, i);
    cs_cert_facts forced = *f;
    cs_sig_check r = cs_verify_check(ctx, f, s);

    expect(r <= CS_SIG_CHECK_BAD_SIGNATURE);
    forced.issuer = cs_verify_signer_facts(s)->subject;
    r = cs_verify_check(ctx, &forced, s);
    expect(r != CS_SIG_CHECK_WRONG_ISSUER);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cs_bytes der = { data, size };
  cs_cert_facts first, again;
  cs_error err;
  cs_status status;

  cs_arena_reset(&arena);
  status = cs_verify_parse(der, &arena, &first, &err);
  if (status != CS_OK) {
    expect(status == CS_ERR_CERT_MALFORMED);
    expect(strncmp(err.message, "malformed certificate: ", 23) == 0);
    return 0;
  }
  check_facts(&first, data, size);

  expect(cs_verify_parse(der, &arena, &again, &err) == CS_OK);
  expect(again.cn_count == first.cn_count &&
         again.san_count == first.san_count &&
         again.not_before == first.not_before &&
         again.not_after == first.not_after &&
         memcmp(again.sha256, first.sha256, 32) == 0 &&
         memcmp(again.spki_sha256, first.spki_sha256, 32) == 0);
  check_signers(&first);
  return 0;
}
