/*
 * cmd_dump.c - `certscan dump`: one JSON line per object of the dumps,
 * for people inspecting what a collector sent. Certificates are shown
 * by store, path, key presence, SHA-256, subject and issuer CN and
 * notAfter; a record that could not be read becomes a "malformed" line
 * with the reader's message, so every object is accounted for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cs_ingest.h"
#include "cs_verify.h"
#include "scanner.h"

/*
 * A JSON string from bytes that may not be UTF-8: invalid bytes become
 * U+FFFD so that every line stays valid JSON.
 */
static json_t *text_value(const char *ptr, size_t len)
{
  json_t *value = json_stringn(ptr, len);

  if (value != NULL || ptr == NULL) {
    return value;
  }

  char *clean = malloc(len * 3 + 1);
  size_t out = 0;

  if (clean == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)ptr[i];

    if (c < 0x80) {
      clean[out++] = (char)c;
    } else {
      memcpy(clean + out, "\xef\xbf\xbd", 3);
      out += 3;
    }
  }
  value = json_stringn(clean, out);
  free(clean);
  return value;
}

static json_t *str_value(cs_str s)
{
  return s.ptr == NULL ? json_null() : text_value(s.ptr, s.len);
}

static json_t *time_value(bool present, int64_t t)
{
  char text[CS_TIME_TEXT_MAX];

  return present ? json_string(cs_time_format(t, text)) : json_null();
}

/* The first CN of a DER Name, or null. Dump is no hot path: OpenSSL. */
static json_t *issuer_cn(cs_bytes name_der)
{
  const unsigned char *p = name_der.ptr;
  X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)name_der.len);
  json_t *value = json_null();
  int index;

  if (name == NULL) {
    return value;
  }
  index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index >= 0) {
    ASN1_STRING *data =
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, data);

    if (len >= 0) {
      json_decref(value);
      value = text_value((const char *)utf8, (size_t)len);
      OPENSSL_free(utf8);
    }
  }
  X509_NAME_free(name);
  return value;
}

static void add_cert_facts(json_t *out, const cs_cert_entry *entry,
                           cs_arena *arena)
{
  cs_cert_facts facts;
  cs_error err;
  char hex[65];

  if (cs_verify_parse(entry->der, arena, &facts, &err) != CS_OK) {
    json_object_set_new(out, "malformed", json_string(err.message));
    return;
  }
  cs_hex_encode(facts.sha256, 32, hex);
  json_object_set_new(out, "sha256", json_string(hex));
  json_object_set_new(out, "subject_cn",
                      facts.cn_count > 0
                          ? text_value(facts.cns[0].ptr, facts.cns[0].len)
                          : json_null());
  json_object_set_new(out, "issuer_cn", issuer_cn(facts.issuer));
  json_object_set_new(out, "not_after", time_value(true, facts.not_after));
}

static json_t *cert_value(const cs_cert_entry *entry, cs_arena *arena)
{
  json_t *out = json_object();
  json_t *has_key = entry->has_key == CS_TRI_UNKNOWN
                        ? json_null()
                        : json_boolean(entry->has_key == CS_TRI_TRUE);

  json_object_set_new(out, "store", json_string(cs_store_name(entry->store)));
  json_object_set_new(out, "path", str_value(entry->path));
  json_object_set_new(out, "has_key", has_key);
  add_cert_facts(out, entry, arena);
  return out;
}

static json_t *stores_value(const cs_device *device)
{
  static const cs_store stores[] = { CS_STORE_SYSTEM, CS_STORE_USER,
                                     CS_STORE_PATH };
  json_t *list;

  if (!device->collected_stores_listed) {
    return json_null();
  }
  list = json_array();
  for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
    if (device->collected_stores & stores[i]) {
      json_array_append_new(list, json_string(cs_store_name(stores[i])));
    }
  }
  return list;
}

static json_t *device_value(const cs_device *device, cs_arena *arena)
{
  json_t *out = json_object();
  json_t *certs = json_array();

  json_object_set_new(out, "device_id", str_value(device->device_id));
  json_object_set_new(out, "hostname", str_value(device->hostname));
  json_object_set_new(out, "serial_number",
                      str_value(device->serial_number));
  json_object_set_new(out, "os", str_value(device->os_name));
  json_object_set_new(out, "os_version", str_value(device->os_version));
  json_object_set_new(out, "collected_at",
                      time_value(device->has_collected_at,
                                 device->collected_at));
  json_object_set_new(out, "collected_stores", stores_value(device));
  for (size_t i = 0; i < device->cert_count; i++) {
    json_array_append_new(certs, cert_value(&device->certs[i], arena));
  }
  json_object_set_new(out, "certs", certs);
  return out;
}

static json_t *item_value(const char *path, const cs_ingest_item *item,
                          cs_status status, const cs_error *err,
                          cs_arena *arena)
{
  json_t *out;

  if (status != CS_OK) {
    out = json_object();
    json_object_set_new(out, "type", json_string("malformed"));
    json_object_set_new(out, "device_id",
                        str_value(item->malformed_device_id));
    json_object_set_new(out, "error", json_string(err->message));
  } else if (item->kind == CS_INGEST_HEADER) {
    out = json_object();
    json_object_set_new(out, "type", json_string("header"));
    json_object_set_new(out, "format", json_string("certinv"));
    json_object_set_new(out, "version", json_integer(1));
    json_object_set_new(out, "source", str_value(item->as.header.source));
    json_object_set_new(out, "collected_at",
                        time_value(item->as.header.has_collected_at,
                                   item->as.header.collected_at));
  } else {
    json_t *device = device_value(&item->as.device, arena);

    out = json_object();
    json_object_set_new(out, "type", json_string("device"));
    json_object_update(out, device);
    json_decref(device);
  }
  json_object_set_new(out, "file", json_string(path));
  json_object_set_new(out, "record",
                      json_integer((json_int_t)item->position.record_index));
  return out;
}

static bool print_line(json_t *value)
{
  int rc = json_dumpf(value, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);

  json_decref(value);
  return rc == 0 && fputc('\n', stdout) != EOF;
}

/* Dumps one input; false when it could not be read in full. */
static bool dump_input(const char *path, const cs_ingest_limits *limits,
                       cs_arena *arena)
{
  cs_ingest_reader *reader;
  cs_ingest_item item;
  cs_error err;
  cs_status status;
  bool complete = true;

  if (cs_ingest_open(path, limits, &reader, &err) != CS_OK) {
    cs_log(CS_LOG_ERROR, "%s", err.message);
    return false;
  }
  for (;;) {
    cs_arena_reset(arena);
    status = cs_ingest_next(reader, arena, &item, &err);
    if (status == CS_OK && item.kind == CS_INGEST_END) {
      break;
    }
    if (status != CS_OK && cs_status_category(status) != CS_CAT_RECORD) {
      cs_log(CS_LOG_ERROR, "%s", err.message);
      complete = false;
      break;
    }
    if (!print_line(item_value(path, &item, status, &err, arena))) {
      cs_log(CS_LOG_ERROR, "cannot write to standard output");
      complete = false;
      break;
    }
  }
  cs_ingest_close(reader);
  return complete;
}

int cs_cmd_dump(int argc, char **argv)
{
  cs_ingest_limits limits;
  cs_arena arena;
  char **inputs = NULL;
  size_t count = 0;
  cs_error err;
  int exit_code = CS_EXIT_OK;

  if (argc < 2 || strcmp(argv[1], "--help") == 0) {
    fprintf(argc < 2 ? stderr : stdout,
            "usage: certscan dump INPUT...\n"
            "Prints each header, device and malformed record of the\n"
            "dumps (files, '-' or folders) as one JSON line.\n");
    return argc < 2 ? CS_EXIT_CONFIG : CS_EXIT_OK;
  }
  if (cs_inputs_expand(argv + 1, argc - 1, &inputs, &count, &err) !=
      CS_OK) {
    cs_log(CS_LOG_ERROR, "%s", err.message);
    return CS_EXIT_CONFIG;
  }
  cs_ingest_limits_default(&limits);
  cs_arena_init(&arena, 64u << 10);
  for (size_t i = 0; i < count; i++) {
    if (!dump_input(inputs[i], &limits, &arena)) {
      exit_code = CS_EXIT_INPUT;
    }
  }
  cs_arena_cleanup(&arena);
  cs_inputs_free(inputs);
  return exit_code;
}
