/*
 * cs_verify_signers.c - the signer store: signing certificates read
 * from JSON files or folders of <uuid>.pem, each decoded once (by this
 * module's parser for its facts and by OpenSSL for its key) and then
 * shared read-only.
 */
#include "cs_verify_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Larger signer files are refused: they cannot be a list of CAs. */
#define SIGNERS_FILE_MAX (64u << 20)
#define SIGNER_PEM_MAX (1u << 20)
#define UUID_LEN 36
#define SIGNER_ARENA_CHUNK 4096

/* A growing list of signers, for a store and for one file's batch. */
typedef struct signer_list {
  cs_verify_signer **items;
  size_t count;
  size_t cap;
} signer_list;

struct cs_verify_signers {
  signer_list list;
};

static atomic_uint_fast64_t next_serial = 1;

static bool is_uuid(const char *text, size_t len)
{
  if (len != UUID_LEN) {
    return false;
  }
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
               (c >= 'A' && c <= 'F');

    if (i == 8 || i == 13 || i == 18 || i == 23 ? c != '-' : !hex) {
      return false;
    }
  }
  return true;
}

static char *dup_lower(const char *text, size_t len)
{
  char *out = malloc(len + 1);

  if (out == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < len; i++) {
    char c = text[i];

    out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  out[len] = '\0';
  return out;
}

static void signer_free(cs_verify_signer *s)
{
  if (s == NULL) {
    return;
  }
  free(s->id);
  free(s->name);
  free(s->source);
  free(s->der);
  X509_free(s->x509);
  cs_arena_cleanup(&s->arena);
  free(s);
}

static void list_free(signer_list *list)
{
  for (size_t i = 0; i < list->count; i++) {
    signer_free(list->items[i]);
  }
  free(list->items);
  list->items = NULL;
  list->count = 0;
  list->cap = 0;
}

static bool list_push(signer_list *list, cs_verify_signer *s)
{
  if (list->count == list->cap) {
    size_t cap = list->cap == 0 ? 8 : list->cap * 2;
    cs_verify_signer **items = realloc(list->items, cap * sizeof(*items));

    if (items == NULL) {
      return false;
    }
    list->items = items;
    list->cap = cap;
  }
  list->items[list->count++] = s;
  return true;
}

static bool unusable(cs_verify_signer *s, const char *why)
{
  snprintf(s->problem, sizeof(s->problem), "%s", why);
  return false;
}

/* The DER of the first CERTIFICATE block in `pem`; NULL when none. */
static uint8_t *first_certificate(const char *pem, size_t len,
                                  size_t *out_len)
{
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  uint8_t *der = NULL;
  char *name = NULL;
  char *header = NULL;
  unsigned char *data = NULL;
  long data_len = 0;

  while (bio != NULL && der == NULL &&
         PEM_read_bio(bio, &name, &header, &data, &data_len) == 1) {
    if (strcmp(name, PEM_STRING_X509) == 0 && data_len > 0) {
      der = malloc((size_t)data_len);
      if (der != NULL) {
        memcpy(der, data, (size_t)data_len);
        *out_len = (size_t)data_len;
      }
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, (size_t)data_len);
  }
  BIO_free(bio);
  ERR_clear_error();
  return der;
}

static cs_verify__key key_kind(const EVP_PKEY *pkey)
{
  static const struct {
    const char *name;
    cs_verify__key key;
  } kinds[] = {
    { "RSA", CS_VERIFY_KEY_RSA },         { "RSA-PSS", CS_VERIFY_KEY_RSA_PSS },
    { "EC", CS_VERIFY_KEY_EC },           { "ED25519", CS_VERIFY_KEY_ED25519 },
    { "ED448", CS_VERIFY_KEY_ED448 },     { "DSA", CS_VERIFY_KEY_DSA },
  };

  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    if (EVP_PKEY_is_a(pkey, kinds[i].name)) {
      return kinds[i].key;
    }
  }
  return CS_VERIFY_KEY_NONE;
}

/* Whether OpenSSL can start a verification with the key at all. */
static bool key_can_verify(EVP_PKEY *pkey, cs_verify__key key)
{
  bool ok;

  if (key == CS_VERIFY_KEY_ED25519 || key == CS_VERIFY_KEY_ED448) {
    EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();

    ok = md_ctx != NULL && EVP_DigestVerifyInit_ex(md_ctx, NULL, NULL, NULL,
                                                   NULL, pkey, NULL) == 1;
    EVP_MD_CTX_free(md_ctx);
  } else {
    EVP_PKEY_CTX *pkey_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

    ok = pkey_ctx != NULL && EVP_PKEY_verify_init(pkey_ctx) == 1;
    EVP_PKEY_CTX_free(pkey_ctx);
  }
  ERR_clear_error();
  return ok;
}

/* Decodes the key once; the signer is usable when this returns true. */
static bool signer_key(cs_verify_signer *s)
{
  const unsigned char *p = s->der;
  char why[128];

  s->x509 = d2i_X509(NULL, &p, (long)s->der_len);
  if (s->x509 == NULL || p != s->der + s->der_len) {
    ERR_clear_error();
    return unusable(s, "OpenSSL cannot decode the certificate");
  }
  s->pkey = X509_get0_pubkey(s->x509);
  if (s->pkey == NULL) {
    ERR_clear_error();
    return unusable(s, "the public key does not decode");
  }
  s->key = key_kind(s->pkey);
  if (s->key == CS_VERIFY_KEY_NONE) {
    snprintf(why, sizeof(why), "key algorithm %s cannot verify signatures",
             EVP_PKEY_get0_type_name(s->pkey));
    return unusable(s, why);
  }
  if (EVP_PKEY_missing_parameters(s->pkey)) {
    return unusable(s, "DSA key without its parameters");
  }
  if (!key_can_verify(s->pkey, s->key)) {
    return unusable(s, "OpenSSL cannot verify with the key");
  }
  s->subject = X509_get_subject_name(s->x509);
  return true;
}

static bool signer_certificate(cs_verify_signer *s, const char *pem,
                               size_t pem_len)
{
  cs_bytes der;
  cs_error err;

  s->der = first_certificate(pem, pem_len, &s->der_len);
  if (s->der == NULL) {
    return unusable(s, "no PEM CERTIFICATE block decodes");
  }
  der.ptr = s->der;
  der.len = s->der_len;
  if (cs_verify__parse_full(der, &s->arena, &s->facts, &s->extras, &err) !=
      CS_OK) {
    return unusable(s, err.message);
  }
  return signer_key(s);
}

/* The first subject CN, when it is printable as a C string. */
static const char *subject_cn(const cs_verify_signer *s)
{
  if (!s->usable || s->facts.cn_count == 0 ||
      memchr(s->facts.cns[0].ptr, '\0', s->facts.cns[0].len) != NULL) {
    return NULL;
  }
  return s->facts.cns[0].ptr;
}

/*
 * Makes a signer. `pem` may be NULL (no certificate: kept, unusable).
 * `name` NULL means the subject CN, else `fallback_name`. NULL only
 * when memory runs out.
 */
static cs_verify_signer *signer_new(const char *id, const char *name,
                                    const char *fallback_name,
                                    const char *source, const char *pem,
                                    size_t pem_len)
{
  cs_verify_signer *s = calloc(1, sizeof(*s));
  const char *cn;

  if (s == NULL) {
    return NULL;
  }
  cs_arena_init(&s->arena, SIGNER_ARENA_CHUNK);
  s->serial = atomic_fetch_add(&next_serial, 1);
  if (pem == NULL) {
    unusable(s, "no certificate");
  } else {
    s->usable = signer_certificate(s, pem, pem_len);
  }

  cn = subject_cn(s);
  s->id = dup_lower(id, strlen(id));
  s->source = strdup(source);
  s->name = strdup(name != NULL ? name : cn != NULL ? cn : fallback_name);
  if (s->id == NULL || s->source == NULL || s->name == NULL) {
    signer_free(s);
    return NULL;
  }
  return s;
}

static const cs_verify_signer *find_in(cs_verify_signer *const *items,
                                       size_t count, const char *id)
{
  cs_str want = { id, strlen(id) };

  for (size_t i = 0; i < count; i++) {
    cs_str have = { items[i]->id, strlen(items[i]->id) };

    if (cs_str_eq_ascii_nocase(have, want)) {
      return items[i];
    }
  }
  return NULL;
}

/* Adds `s` to `batch` unless its id is taken; takes `s` either way. */
static cs_status batch_add(const cs_verify_signers *store,
                           signer_list *batch, cs_verify_signer *s,
                           const char *where, cs_error *err)
{
  if (s == NULL) {
    return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", where);
  }
  if (find_in(store->list.items, store->list.count, s->id) != NULL ||
      find_in(batch->items, batch->count, s->id) != NULL) {
    cs_error_set(err, CS_ERR_CONFIG, "%s: signer id %s is listed twice",
                 where, s->id);
    signer_free(s);
    return CS_ERR_CONFIG;
  }
  if (!list_push(batch, s)) {
    signer_free(s);
    return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", where);
  }
  return CS_OK;
}

/* Reads a whole file of at most `max` bytes; NUL-terminated. */
static cs_status read_file(const char *path, size_t max, char **out,
                           size_t *out_len, cs_error *err)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0;
  size_t cap = 0;

  if (f == NULL) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: cannot open: %s", path,
                        strerror(errno));
  }
  for (;;) {
    if (cap - len < 4096) {
      char *bigger = realloc(buf, cap + 65536);

      if (bigger == NULL) {
        free(buf);
        fclose(f);
        return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", path);
      }
      buf = bigger;
      cap += 65536;
    }

    size_t got = fread(buf + len, 1, cap - len - 1, f);

    len += got;
    if (len > max) {
      OPENSSL_clear_free(buf, cap);
      fclose(f);
      return cs_error_set(err, CS_ERR_CONFIG, "%s: larger than %zu bytes",
                          path, max);
    }
    if (got == 0) {
      break;
    }
  }
  if (ferror(f)) {
    OPENSSL_clear_free(buf, cap);
    fclose(f);
    return cs_error_set(err, CS_ERR_CONFIG, "%s: read error", path);
  }
  fclose(f);
  buf[len] = '\0';
  *out = buf;
  *out_len = len;
  return CS_OK;
}

/* A member that must be a string when present; NULL when absent. */
static cs_status optional_string(json_t *entry, const char *key,
                                 const char *where, json_t **out,
                                 cs_error *err)
{
  json_t *value = json_object_get(entry, key);

  /* API listings write an omitted member as null: the same as absent. */
  if (json_is_null(value)) {
    value = NULL;
  }
  if (value != NULL && !json_is_string(value)) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: %s is not a string",
                        where, key);
  }
  *out = value;
  return CS_OK;
}

static cs_status json_entry(const cs_verify_signers *store,
                            signer_list *batch, json_t *entry,
                            const char *where, cs_error *err)
{
  json_t *id = NULL;
  json_t *name = NULL;
  json_t *pem = NULL;
  const char *id_text;
  cs_status status;

  if (!json_is_object(entry)) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: not an object", where);
  }
  if ((status = optional_string(entry, "id", where, &id, err)) != CS_OK ||
      (status = optional_string(entry, "name", where, &name, err)) !=
          CS_OK ||
      (status = optional_string(entry, "certificates", where, &pem, err)) !=
          CS_OK) {
    return status;
  }
  if (id == NULL) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: no id", where);
  }
  id_text = json_string_value(id);
  if (!is_uuid(id_text, json_string_length(id))) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: id \"%.64s\" is not a UUID",
                        where, id_text);
  }
  return batch_add(store, batch,
                   signer_new(id_text,
                              name != NULL ? json_string_value(name) : NULL,
                              id_text, where,
                              pem != NULL ? json_string_value(pem) : NULL,
                              pem != NULL ? json_string_length(pem) : 0),
                   where, err);
}

/*
 * A private key has no business in a signers file; where one is, its
 * text is wiped before the parsed JSON is freed, so no copy lingers.
 */
static void wipe_private_keys(json_t *entries)
{
  size_t i;
  json_t *entry;

  json_array_foreach(entries, i, entry) {
    json_t *key = json_object_get(entry, "private_key");

    if (json_is_string(key)) {
      OPENSSL_cleanse((char *)json_string_value(key),
                      json_string_length(key));
    }
  }
}

/* The entries: a bare array, {"result": [...]}, or one object. */
static cs_status json_entries(json_t *root, const char *path,
                              json_t **out, cs_error *err)
{
  json_t *result;

  if (json_is_array(root)) {
    *out = json_incref(root);
    return CS_OK;
  }
  if (!json_is_object(root)) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "%s: neither an array nor an object of signers",
                        path);
  }
  result = json_object_get(root, "result");
  if (result == NULL) {
    *out = json_array();
    if (*out == NULL || json_array_append(*out, root) != 0) {
      json_decref(*out);
      return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", path);
    }
    return CS_OK;
  }
  if (!json_is_array(result)) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "%s: \"result\" is not an array", path);
  }
  *out = json_incref(result);
  return CS_OK;
}

static cs_status load_json_root(const cs_verify_signers *store,
                                signer_list *batch, json_t *root,
                                const char *path, cs_error *err)
{
  json_t *entries;
  json_t *entry;
  size_t i;
  cs_status status = json_entries(root, path, &entries, err);

  if (status != CS_OK) {
    return status;
  }
  json_array_foreach(entries, i, entry) {
    char where[CS_ERROR_MESSAGE_MAX / 2];

    snprintf(where, sizeof(where), "%s: entry %zu", path, i + 1);
    status = json_entry(store, batch, entry, where, err);
    if (status != CS_OK) {
      break;
    }
  }
  wipe_private_keys(entries);
  json_decref(entries);
  return status;
}

static cs_status load_json(const cs_verify_signers *store,
                           signer_list *batch, const char *path,
                           cs_error *err)
{
  json_error_t jerr;
  json_t *root;
  char *text;
  size_t len;
  cs_status status = read_file(path, SIGNERS_FILE_MAX, &text, &len, err);

  if (status != CS_OK) {
    return status;
  }
  root = json_loadb(text, len, 0, &jerr);
  OPENSSL_clear_free(text, len);
  if (root == NULL) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "%s: not JSON: %s (line %d, column %d)", path,
                        jerr.text, jerr.line, jerr.column);
  }
  status = load_json_root(store, batch, root, path, err);
  json_decref(root);
  return status;
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.pem names in `dir`, sorted so that loading is repeatable. */
static cs_status pem_names(const char *dir, char ***out, size_t *out_count,
                           cs_error *err)
{
  DIR *d = opendir(dir);
  char **names = NULL;
  size_t count = 0;
  size_t cap = 0;
  struct dirent *e;

  if (d == NULL) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: cannot open: %s", dir,
                        strerror(errno));
  }
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);

    if (e->d_name[0] == '.' || len < 4 ||
        strcmp(e->d_name + len - 4, ".pem") != 0) {
      continue;
    }
    if (count == cap) {
      char **bigger = realloc(names, (cap + 16) * sizeof(*names));

      if (bigger == NULL) {
        break;
      }
      names = bigger;
      cap += 16;
    }
    names[count] = strdup(e->d_name);
    if (names[count] == NULL) {
      break;
    }
    count++;
  }
  closedir(d);
  if (e != NULL) {
    for (size_t i = 0; i < count; i++) {
      free(names[i]);
    }
    free(names);
    return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", dir);
  }
  if (count > 0) {
    qsort(names, count, sizeof(*names), compare_names);
  }
  *out = names;
  *out_count = count;
  return CS_OK;
}

static cs_status pem_file(const cs_verify_signers *store,
                          signer_list *batch, const char *dir,
                          const char *file, cs_error *err)
{
  char path[4096];
  char id[UUID_LEN + 1];
  char *pem;
  size_t len;
  cs_status status;
  size_t stem = strlen(file) - 4;

  snprintf(path, sizeof(path), "%s/%s", dir, file);
  if (!is_uuid(file, stem)) {
    return cs_error_set(err, CS_ERR_CONFIG,
                        "%s: file name is not <uuid>.pem", path);
  }
  memcpy(id, file, UUID_LEN);
  id[UUID_LEN] = '\0';
  status = read_file(path, SIGNER_PEM_MAX, &pem, &len, err);
  if (status != CS_OK) {
    return status;
  }
  status = batch_add(store, batch,
                     signer_new(id, NULL, file, path, pem, len), path, err);
  OPENSSL_clear_free(pem, len);
  return status;
}

static cs_status load_dir(const cs_verify_signers *store,
                          signer_list *batch, const char *dir,
                          cs_error *err)
{
  char **names = NULL;
  size_t count = 0;
  cs_status status = pem_names(dir, &names, &count, err);

  for (size_t i = 0; status == CS_OK && i < count; i++) {
    status = pem_file(store, batch, dir, names[i], err);
  }
  for (size_t i = 0; i < count; i++) {
    free(names[i]);
  }
  free(names);
  return status;
}

cs_verify_signers *cs_verify_signers_new(void)
{
  return calloc(1, sizeof(cs_verify_signers));
}

void cs_verify_signers_free(cs_verify_signers *signers)
{
  if (signers == NULL) {
    return;
  }
  list_free(&signers->list);
  free(signers);
}

/* Moves the batch into the store; what moved is NULL in the batch. */
static cs_status store_take(cs_verify_signers *store, signer_list *batch,
                            const char *path, cs_error *err)
{
  for (size_t i = 0; i < batch->count; i++) {
    if (!list_push(&store->list, batch->items[i])) {
      return cs_error_set(err, CS_ERR_NOMEM, "%s: out of memory", path);
    }
    batch->items[i] = NULL;
  }
  return CS_OK;
}

cs_status cs_verify_signers_load(cs_verify_signers *signers,
                                 const char *path, cs_error *err)
{
  signer_list batch = { NULL, 0, 0 };
  struct stat st;
  cs_status status;

  if (stat(path, &st) != 0) {
    return cs_error_set(err, CS_ERR_CONFIG, "%s: cannot open: %s", path,
                        strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    status = load_dir(signers, &batch, path, err);
  } else {
    status = load_json(signers, &batch, path, err);
  }
  if (status == CS_OK) {
    status = store_take(signers, &batch, path, err);
  }
  list_free(&batch);
  return status;
}

size_t cs_verify_signers_count(const cs_verify_signers *signers)
{
  return signers->list.count;
}

const cs_verify_signer *cs_verify_signers_get0(
    const cs_verify_signers *signers, size_t index)
{
  return index < signers->list.count ? signers->list.items[index] : NULL;
}

const cs_verify_signer *cs_verify_signers_find(
    const cs_verify_signers *signers, const char *id)
{
  return find_in(signers->list.items, signers->list.count, id);
}

const char *cs_verify_signer_id(const cs_verify_signer *signer)
{
  return signer->id;
}

const char *cs_verify_signer_name(const cs_verify_signer *signer)
{
  return signer->name;
}

const char *cs_verify_signer_source(const cs_verify_signer *signer)
{
  return signer->source;
}

bool cs_verify_signer_usable(const cs_verify_signer *signer, cs_error *err)
{
  if (signer->usable) {
    return true;
  }
  cs_error_set(err, CS_ERR_CONFIG, "signer %s (%s): %s", signer->id,
               signer->source, signer->problem);
  return false;
}

unsigned cs_verify_signer_warnings(const cs_verify_signer *signer,
                                   int64_t at)
{
  unsigned warnings = 0;

  if (!signer->usable) {
    return 0;
  }
  if (!signer->extras.is_ca) {
    warnings |= CS_SIGNER_WARN_NOT_CA;
  }
  if (signer->extras.has_key_usage && !signer->extras.key_cert_sign) {
    warnings |= CS_SIGNER_WARN_NO_KEY_CERT_SIGN;
  }
  if (at > signer->facts.not_after) {
    warnings |= CS_SIGNER_WARN_EXPIRED;
  }
  return warnings;
}

const cs_cert_facts *cs_verify_signer_facts(const cs_verify_signer *signer)
{
  return signer->usable ? &signer->facts : NULL;
}
