/*
 * ingest_record.c - field-by-field checks of certinv header and device
 * maps, copying what is kept into the caller's arena.
 */
#include "ingest_record.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ingest_mp.h"

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define TIME_MIN INT64_C(-62167219200)
#define TIME_MAX INT64_C(253402300799)

/* How much of an offending value a message quotes. */
#define QUOTE_MAX 32

typedef struct key_name {
  const char *name;
  size_t len;
} key_name;

#define KEY(text) { text, sizeof(text) - 1 }

enum header_key { HK_FORMAT, HK_VERSION, HK_SOURCE, HK_COLLECTED_AT,
                  HK_COUNT };

static const key_name header_keys[HK_COUNT] = {
  KEY("format"), KEY("version"), KEY("source"), KEY("collected_at"),
};

enum device_key { DK_DEVICE_ID, DK_HOSTNAME, DK_SERIAL_NUMBER, DK_OS,
                  DK_OS_VERSION, DK_CLIENT_VERSION, DK_USER,
                  DK_COLLECTED_AT, DK_COLLECTED_STORES, DK_CERTS,
                  DK_COUNT };

static const key_name device_keys[DK_COUNT] = {
  KEY("device_id"), KEY("hostname"), KEY("serial_number"), KEY("os"),
  KEY("os_version"), KEY("client_version"), KEY("user"),
  KEY("collected_at"), KEY("collected_stores"), KEY("certs"),
};

enum cert_key { CK_STORE, CK_PATH, CK_KEY_PATH, CK_DER, CK_HAS_KEY,
                CK_KEY_SPKI_SHA256, CK_LABEL, CK_COUNT };

static const key_name cert_keys[CK_COUNT] = {
  KEY("store"), KEY("path"), KEY("key_path"), KEY("der"), KEY("has_key"),
  KEY("key_spki_sha256"), KEY("label"),
};

/* One decoding: where to copy, what to say, and which code to give. */
typedef struct decoder {
  const cs_ingest_limits *limits;
  cs_arena *arena;
  char *why;
  const char *context; /* put before every message */
  long cert;           /* cert entry being read, or -1 */
  cs_status status;    /* returned on failure */
  bool quick;          /* see cs_ingest_decode_device_quick */
} decoder;

CS_PRINTF(2, 3)
static bool fail(decoder *d, const char *fmt, ...)
{
  va_list args;
  int n;

  if (d->cert >= 0) {
    n = snprintf(d->why, CS_INGEST_WHY_MAX, "%scert %ld: ", d->context,
                 d->cert);
  } else {
    n = snprintf(d->why, CS_INGEST_WHY_MAX, "%s", d->context);
  }
  n = n < 0 || n >= CS_INGEST_WHY_MAX ? CS_INGEST_WHY_MAX - 1 : n;
  va_start(args, fmt);
  vsnprintf(d->why + n, CS_INGEST_WHY_MAX - (size_t)n, fmt, args);
  va_end(args);
  return false;
}

static bool fail_nomem(decoder *d)
{
  d->status = CS_ERR_NOMEM;
  snprintf(d->why, CS_INGEST_WHY_MAX, "out of memory");
  return false;
}

static const char *kind_with_article(mp_kind kind)
{
  switch (kind) {
  case MP_NIL: return "nil";
  case MP_BOOL: return "a bool";
  case MP_UINT: return "an integer";
  case MP_INT: return "an integer";
  case MP_FLOAT: return "a float";
  case MP_STR: return "a str";
  case MP_BIN: return "a bin";
  case MP_EXT: return "an ext";
  case MP_ARRAY: return "an array";
  case MP_MAP: return "a map";
  }
  return "an unknown value";
}

void cs_ingest_escape(cs_str text, size_t max_shown, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t shown = text.len < max_shown ? text.len : max_shown;
  char *o = out;

  for (size_t i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)text.ptr[i];

    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      *o++ = (char)c;
      continue;
    }
    *o++ = '\\';
    *o++ = 'x';
    *o++ = digits[c >> 4];
    *o++ = digits[c & 15];
  }
  if (text.len > shown) {
    memcpy(o, "...", 3);
    o += 3;
  }
  *o = '\0';
}

static cs_str value_text(const mp_value *v)
{
  cs_str text = { (const char *)v->ptr, v->len };

  return text;
}

static int key_lookup(const key_name *keys, int count, const mp_value *key)
{
  for (int i = 0; i < count; i++) {
    if (mp_is_str(key, keys[i].name, keys[i].len)) {
      return i;
    }
  }
  return -1;
}

/* The literal compares below compile to a few loads, not calls. */
#define KEY_IS(key, text) (memcmp((key)->ptr, text, sizeof(text) - 1) == 0)

/* Device keys all differ in length: one compare finds each. */
static int device_key(const mp_value *key)
{
  switch (key->len) {
  case 9: return KEY_IS(key, "device_id") ? DK_DEVICE_ID : -1;
  case 8: return KEY_IS(key, "hostname") ? DK_HOSTNAME : -1;
  case 13: return KEY_IS(key, "serial_number") ? DK_SERIAL_NUMBER : -1;
  case 2: return KEY_IS(key, "os") ? DK_OS : -1;
  case 10: return KEY_IS(key, "os_version") ? DK_OS_VERSION : -1;
  case 14: return KEY_IS(key, "client_version") ? DK_CLIENT_VERSION : -1;
  case 4: return KEY_IS(key, "user") ? DK_USER : -1;
  case 12: return KEY_IS(key, "collected_at") ? DK_COLLECTED_AT : -1;
  case 16: return KEY_IS(key, "collected_stores") ? DK_COLLECTED_STORES
                                                  : -1;
  case 5: return KEY_IS(key, "certs") ? DK_CERTS : -1;
  default: return -1;
  }
}

static int cert_key(const mp_value *key)
{
  switch (key->len) {
  case 5:
    return KEY_IS(key, "store") ? CK_STORE
           : KEY_IS(key, "label") ? CK_LABEL
           : -1;
  case 4: return KEY_IS(key, "path") ? CK_PATH : -1;
  case 8: return KEY_IS(key, "key_path") ? CK_KEY_PATH : -1;
  case 3: return KEY_IS(key, "der") ? CK_DER : -1;
  case 7: return KEY_IS(key, "has_key") ? CK_HAS_KEY : -1;
  case 15: return KEY_IS(key, "key_spki_sha256") ? CK_KEY_SPKI_SHA256 : -1;
  default: return -1;
  }
}

/* Gives up a quick decoding: the caller frames the object and retries. */
static bool fall_back(decoder *d)
{
  d->why[0] = '\0';
  return false;
}

/* A framed object holds whole values, so a cut one is a broken map. */
static bool read_value(decoder *d, mp_view *view, mp_value *v)
{
  if (!mp_next(view, v)) {
    if (d->quick) {
      return fall_back(d);
    }
    return fail(d, "a value runs past the end of the record");
  }
  return true;
}

static bool read_key(decoder *d, mp_view *view, mp_value *key)
{
  if (!read_value(d, view, key)) {
    return false;
  }
  if (key->kind != MP_STR) {
    return fail(d, "a map key is %s, not str", kind_with_article(key->kind));
  }
  return true;
}

/*
 * Unknown keys are passed over. A quick decoding leaves nested unknown
 * values to the framing path, which bounds their depth.
 */
static bool skip_value(decoder *d, mp_view *view, const mp_value *v)
{
  if (d->quick && (v->kind == MP_ARRAY || v->kind == MP_MAP) &&
      v->count > 0) {
    return fall_back(d);
  }
  if (!mp_skip(view, v)) {
    return fail(d, "a value runs past the end of the record");
  }
  return true;
}

static bool take_str(decoder *d, const mp_value *v, const char *key,
                     cs_str *out)
{
  if (v->kind != MP_STR) {
    return fail(d, "\"%s\" is not str", key);
  }
  if (v->len > d->limits->max_string_bytes) {
    return fail(d, "\"%s\" is %zu bytes, over the %zu-byte string limit",
                key, v->len, d->limits->max_string_bytes);
  }

  char *copy = cs_arena_strndup(d->arena, v->ptr, v->len);

  if (copy == NULL) {
    return fail_nomem(d);
  }
  out->ptr = copy;
  out->len = v->len;
  return true;
}

static bool time_from_ext(const mp_value *v, int64_t *out)
{
  uint64_t nsec;
  uint64_t both;

  switch (v->len) {
  case 4:
    *out = (int64_t)mp_load_be(v->ptr, 4);
    return true;
  case 8:
    both = mp_load_be(v->ptr, 8);
    nsec = both >> 34;
    *out = (int64_t)(both & UINT64_C(0x3ffffffff));
    break;
  case 12:
    nsec = mp_load_be(v->ptr, 4);
    *out = (int64_t)mp_load_be(v->ptr + 4, 8);
    break;
  default:
    return false;
  }
  return nsec <= 999999999u;
}

/* Timestamp extension (type -1) or integer seconds; nanoseconds drop. */
static bool read_time(decoder *d, const mp_value *v, const char *key,
                      int64_t *out)
{
  int64_t t;

  if (v->kind == MP_UINT && v->u > (uint64_t)TIME_MAX) {
    t = TIME_MAX + 1;
  } else if (mp_as_int64(v, &t)) {
    /* integer seconds */
  } else if (v->kind != MP_EXT || v->ext_type != -1 ||
             !time_from_ext(v, &t)) {
    return fail(d, "\"%s\" is not a timestamp", key);
  }
  if (t < TIME_MIN || t > TIME_MAX) {
    return fail(d, "\"%s\" is outside the years 0000 to 9999", key);
  }
  *out = t;
  return true;
}

static bool parse_store(const mp_value *v, cs_store *out)
{
  if (mp_is_str(v, "system", 6)) {
    *out = CS_STORE_SYSTEM;
  } else if (mp_is_str(v, "user", 4)) {
    *out = CS_STORE_USER;
  } else if (mp_is_str(v, "path", 4)) {
    *out = CS_STORE_PATH;
  } else {
    return false;
  }
  return true;
}

/* `what` names the value: "\"store\"" or a collected_stores entry. */
static bool read_store(decoder *d, const mp_value *v, const char *what,
                       cs_store *out)
{
  char quoted[4 * QUOTE_MAX + 4];

  if (v->kind != MP_STR) {
    return fail(d, "%s is not str", what);
  }
  if (!parse_store(v, out)) {
    cs_ingest_escape(value_text(v), QUOTE_MAX, quoted);
    return fail(d, "%s is \"%s\", not system, user or path", what, quoted);
  }
  return true;
}

/* Exact names only: "Windows" is some other OS, as the vendor's is. */
static cs_os os_from_name(const mp_value *v)
{
  if (mp_is_str(v, "windows", 7)) {
    return CS_OS_WINDOWS;
  }
  if (mp_is_str(v, "mac", 3)) {
    return CS_OS_MAC;
  }
  if (mp_is_str(v, "linux", 5)) {
    return CS_OS_LINUX;
  }
  return CS_OS_OTHER;
}

/*
 * Reads the value of a known key. Checks for duplicates first: a map
 * that says two things about one field is ambiguous, and which of the
 * two another reader would take is anyone's guess.
 */
static bool mark_seen(decoder *d, unsigned *seen, int id,
                      const key_name *keys)
{
  if (*seen & (1u << id)) {
    return fail(d, "duplicate key \"%s\"", keys[id].name);
  }
  *seen |= 1u << id;
  return true;
}

static bool cert_der(decoder *d, const mp_value *v, cs_cert_entry *cert)
{
  if (v->kind != MP_BIN) {
    return fail(d, "\"der\" is not bin");
  }
  if (v->len == 0) {
    return true;
  }

  uint8_t *copy = cs_arena_alloc(d->arena, v->len);

  if (copy == NULL) {
    return fail_nomem(d);
  }
  memcpy(copy, v->ptr, v->len);
  cert->der.ptr = copy;
  cert->der.len = v->len;
  return true;
}

static bool cert_spki(decoder *d, const mp_value *v, cs_cert_entry *cert)
{
  if (v->kind != MP_BIN) {
    return fail(d, "\"key_spki_sha256\" is not bin");
  }
  if (v->len != sizeof(cert->key_spki_sha256)) {
    return fail(d, "\"key_spki_sha256\" is %zu bytes, not 32", v->len);
  }
  memcpy(cert->key_spki_sha256, v->ptr, v->len);
  cert->has_key_spki_sha256 = true;
  return true;
}

static bool cert_field(decoder *d, int id, const mp_value *v,
                       cs_cert_entry *cert)
{
  switch (id) {
  case CK_STORE:
    return read_store(d, v, "\"store\"", &cert->store);
  case CK_PATH:
    return take_str(d, v, "path", &cert->path);
  case CK_KEY_PATH:
    return take_str(d, v, "key_path", &cert->key_path);
  case CK_DER:
    return cert_der(d, v, cert);
  case CK_HAS_KEY:
    if (v->kind != MP_BOOL) {
      return fail(d, "\"has_key\" is not bool");
    }
    cert->has_key = v->boolean ? CS_TRI_TRUE : CS_TRI_FALSE;
    return true;
  case CK_KEY_SPKI_SHA256:
    return cert_spki(d, v, cert);
  case CK_LABEL:
    return take_str(d, v, "label", &cert->label);
  default:
    return true;
  }
}

static bool cert_required(decoder *d, unsigned seen,
                          const cs_cert_entry *cert)
{
  if (!(seen & (1u << CK_STORE))) {
    return fail(d, "no \"store\"");
  }
  if (!(seen & (1u << CK_DER))) {
    return fail(d, "no \"der\"");
  }
  if (cert->store == CS_STORE_PATH && cert->path.len == 0) {
    return fail(d, "store \"path\" without a \"path\"");
  }
  return true;
}

static bool read_cert(decoder *d, mp_view *view, cs_cert_entry *cert)
{
  mp_value map = { .kind = MP_NIL };
  mp_value key = { .kind = MP_NIL };
  mp_value v = { .kind = MP_NIL };
  unsigned seen = 0;

  memset(cert, 0, sizeof(*cert));
  cert->has_key = CS_TRI_UNKNOWN;
  if (!read_value(d, view, &map)) {
    return false;
  }
  if (map.kind != MP_MAP) {
    return fail(d, "entry is %s, not a map", kind_with_article(map.kind));
  }
  for (uint64_t i = 0; i < map.count; i++) {
    if (!read_key(d, view, &key) || !read_value(d, view, &v)) {
      return false;
    }

    int id = cert_key(&key);

    if (id < 0) {
      if (!skip_value(d, view, &v)) {
        return false;
      }
      continue;
    }
    if (!mark_seen(d, &seen, id, cert_keys) || !cert_field(d, id, &v, cert)) {
      return false;
    }
  }
  return cert_required(d, seen, cert);
}

static bool read_certs(decoder *d, mp_view *view, const mp_value *v,
                       cs_device *out)
{
  size_t limit = d->limits->max_certs_per_device;

  if (v->kind != MP_ARRAY) {
    return fail(d, "\"certs\" is not an array");
  }
  if (limit > SIZE_MAX / sizeof(cs_cert_entry)) {
    limit = SIZE_MAX / sizeof(cs_cert_entry);
  }
  if (v->count > limit) {
    return fail(d, "\"certs\" has %llu entries, over the limit of %zu",
                (unsigned long long)v->count, limit);
  }
  if (v->count == 0) {
    return true;
  }

  size_t count = (size_t)v->count;
  cs_cert_entry *certs = cs_arena_alloc(d->arena, count * sizeof(*certs));

  if (certs == NULL) {
    return fail_nomem(d);
  }
  for (size_t i = 0; i < count; i++) {
    d->cert = (long)i;
    if (!read_cert(d, view, &certs[i])) {
      return false;
    }
  }
  d->cert = -1;
  out->certs = certs;
  out->cert_count = count;
  return true;
}

static bool read_collected_stores(decoder *d, mp_view *view,
                                  const mp_value *v, cs_device *out)
{
  mp_value entry;
  char what[64];
  cs_store store = CS_STORE_SYSTEM;

  if (v->kind != MP_ARRAY) {
    return fail(d, "\"collected_stores\" is not an array");
  }
  out->collected_stores = 0;
  out->collected_stores_listed = true;
  for (uint64_t i = 0; i < v->count; i++) {
    if (!read_value(d, view, &entry)) {
      return false;
    }
    snprintf(what, sizeof(what), "\"collected_stores\" entry %llu",
             (unsigned long long)i);
    if (!read_store(d, &entry, what, &store)) {
      return false;
    }
    out->collected_stores |= (unsigned)store;
  }
  return true;
}

/* The plain string fields of a device; NULL for the others. */
static cs_str *device_text(cs_device *device, int id)
{
  switch (id) {
  case DK_DEVICE_ID: return &device->device_id;
  case DK_HOSTNAME: return &device->hostname;
  case DK_SERIAL_NUMBER: return &device->serial_number;
  case DK_OS: return &device->os_name;
  case DK_OS_VERSION: return &device->os_version;
  case DK_CLIENT_VERSION: return &device->client_version;
  case DK_USER: return &device->user;
  default: return NULL;
  }
}

static bool device_field(decoder *d, int id, mp_view *view,
                         const mp_value *v, cs_device *out)
{
  cs_str *text = device_text(out, id);

  if (text != NULL) {
    if (!take_str(d, v, device_keys[id].name, text)) {
      return false;
    }
    if (id == DK_DEVICE_ID && text->len == 0) {
      return fail(d, "\"device_id\" is empty");
    }
    if (id == DK_OS) {
      out->os = os_from_name(v);
    }
    return true;
  }
  switch (id) {
  case DK_COLLECTED_AT:
    out->has_collected_at = true;
    return read_time(d, v, "collected_at", &out->collected_at);
  case DK_COLLECTED_STORES:
    return read_collected_stores(d, view, v, out);
  case DK_CERTS:
    return read_certs(d, view, v, out);
  default:
    return true;
  }
}

static bool device_required(decoder *d, unsigned seen)
{
  if (!(seen & (1u << DK_DEVICE_ID))) {
    return fail(d, "no \"device_id\"");
  }
  if (!(seen & (1u << DK_OS))) {
    return fail(d, "no \"os\"");
  }
  if (!(seen & (1u << DK_CERTS))) {
    return fail(d, "no \"certs\"");
  }
  return true;
}

static bool device_fields(decoder *d, mp_view *view, uint64_t pairs,
                          cs_device *out)
{
  mp_value key = { .kind = MP_NIL };
  mp_value v = { .kind = MP_NIL };
  unsigned seen = 0;

  for (uint64_t i = 0; i < pairs; i++) {
    if (!read_key(d, view, &key) || !read_value(d, view, &v)) {
      return false;
    }

    int id = device_key(&key);

    if (id < 0) {
      if (!skip_value(d, view, &v)) {
        return false;
      }
      continue;
    }
    if (!mark_seen(d, &seen, id, device_keys) ||
        !device_field(d, id, view, &v, out)) {
      return false;
    }
  }
  return device_required(d, seen);
}

static cs_status decode_device(decoder *d, cs_bytes object,
                               cs_device *out, size_t *out_used)
{
  mp_view view = { object.ptr, object.ptr + object.len };
  mp_value map;

  memset(out, 0, sizeof(*out));
  out->os = CS_OS_OTHER;
  out->collected_stores = CS_STORES_ALL;
  if (!read_value(d, &view, &map)) {
    return d->status;
  }
  if (map.kind != MP_MAP) {
    if (d->quick) {
      fall_back(d);
      return d->status;
    }
    fail(d, "record is %s, not a map", kind_with_article(map.kind));
    return d->status;
  }
  if (!device_fields(d, &view, map.count, out)) {
    return d->status;
  }
  *out_used = (size_t)(view.p - object.ptr);
  return CS_OK;
}

cs_status cs_ingest_decode_device(cs_bytes object,
                                  const cs_ingest_limits *limits,
                                  cs_arena *arena, cs_device *out,
                                  char why[CS_INGEST_WHY_MAX])
{
  decoder d = { limits, arena, why, "", -1, CS_ERR_RECORD_SHAPE, false };
  size_t used;

  return decode_device(&d, object, out, &used);
}

bool cs_ingest_decode_device_quick(cs_bytes bytes,
                                   const cs_ingest_limits *limits,
                                   cs_arena *arena, cs_device *out,
                                   size_t *out_used)
{
  char why[CS_INGEST_WHY_MAX];
  decoder d = { limits, arena, why, "", -1, CS_ERR_RECORD_SHAPE, true };

  return decode_device(&d, bytes, out, out_used) == CS_OK;
}

/* The values of the header's known keys, checked once all are seen. */
typedef struct header_values {
  unsigned seen;
  mp_value v[HK_COUNT];
} header_values;

static bool header_collect(decoder *d, mp_view *view, uint64_t pairs,
                           header_values *hv)
{
  mp_value key = { .kind = MP_NIL };
  mp_value v = { .kind = MP_NIL };

  for (uint64_t i = 0; i < pairs; i++) {
    if (!read_key(d, view, &key) || !read_value(d, view, &v)) {
      return false;
    }

    int id = key_lookup(header_keys, HK_COUNT, &key);

    if (!skip_value(d, view, &v)) {
      return false;
    }
    if (id < 0) {
      continue;
    }
    if (!mark_seen(d, &hv->seen, id, header_keys)) {
      return false;
    }
    hv->v[id] = v;
  }
  return true;
}

static bool header_format(decoder *d, const header_values *hv)
{
  const mp_value *format = &hv->v[HK_FORMAT];
  char quoted[4 * QUOTE_MAX + 4];

  if (!(hv->seen & (1u << HK_FORMAT))) {
    return fail(d, "not a certinv dump: the header has no \"format\"");
  }
  if (format->kind != MP_STR) {
    return fail(d, "not a certinv dump: \"format\" is not str");
  }
  if (!mp_is_str(format, "certinv", 7)) {
    cs_ingest_escape(value_text(format), QUOTE_MAX, quoted);
    return fail(d, "not a certinv dump: \"format\" is \"%s\"", quoted);
  }
  return true;
}

static bool header_version(decoder *d, const header_values *hv)
{
  const mp_value *version = &hv->v[HK_VERSION];
  int64_t number;

  if (!(hv->seen & (1u << HK_VERSION))) {
    return fail(d, "bad certinv header: no \"version\"");
  }
  if (version->kind == MP_UINT && version->u > 1) {
    d->status = CS_ERR_VERSION;
    return fail(d, "unsupported certinv version %llu",
                (unsigned long long)version->u);
  }
  if (!mp_as_int64(version, &number)) {
    return fail(d, "bad certinv header: \"version\" is not an integer");
  }
  if (number != 1) {
    d->status = CS_ERR_VERSION;
    return fail(d, "unsupported certinv version %lld", (long long)number);
  }
  return true;
}

cs_status cs_ingest_decode_header(cs_bytes object,
                                  const cs_ingest_limits *limits,
                                  cs_arena *arena, cs_ingest_header *out,
                                  char why[CS_INGEST_WHY_MAX])
{
  decoder d = { limits, arena, why, "", -1, CS_ERR_NOT_CERTINV, false };
  mp_view view = { object.ptr, object.ptr + object.len };
  header_values hv = { 0 };
  mp_value map;

  memset(out, 0, sizeof(*out));
  if (!read_value(&d, &view, &map)) {
    return d.status;
  }
  if (map.kind != MP_MAP) {
    fail(&d, "not a certinv dump: expected a header map, found %s",
         kind_with_article(map.kind));
    return d.status;
  }
  d.context = "bad certinv header: ";
  if (!header_collect(&d, &view, map.count, &hv)) {
    return d.status;
  }
  d.context = "";
  if (!header_format(&d, &hv) || !header_version(&d, &hv)) {
    return d.status;
  }
  d.context = "bad certinv header: ";
  if ((hv.seen & (1u << HK_SOURCE)) &&
      !take_str(&d, &hv.v[HK_SOURCE], "source", &out->source)) {
    return d.status;
  }
  if (hv.seen & (1u << HK_COLLECTED_AT)) {
    out->has_collected_at = true;
    if (!read_time(&d, &hv.v[HK_COLLECTED_AT], "collected_at",
                   &out->collected_at)) {
      return d.status;
    }
  }
  return CS_OK;
}

void cs_ingest_peek_keys(cs_bytes object, cs_str *out_device_id,
                         bool *out_has_format)
{
  mp_view view = { object.ptr, object.ptr + object.len };
  mp_value map = { .kind = MP_NIL };
  mp_value key = { .kind = MP_NIL };
  mp_value v = { .kind = MP_NIL };

  out_device_id->ptr = NULL;
  out_device_id->len = 0;
  *out_has_format = false;
  if (!mp_next(&view, &map) || map.kind != MP_MAP) {
    return;
  }
  for (uint64_t i = 0; i < map.count; i++) {
    if (!mp_next(&view, &key) || !mp_skip(&view, &key) ||
        !mp_next(&view, &v)) {
      return;
    }
    if (mp_is_str(&key, "format", 6)) {
      *out_has_format = true;
    }
    if (mp_is_str(&key, "device_id", 9) && v.kind == MP_STR &&
        out_device_id->ptr == NULL) {
      out_device_id->ptr = (const char *)v.ptr;
      out_device_id->len = v.len;
    }
    if (!mp_skip(&view, &v)) {
      return;
    }
  }
}
