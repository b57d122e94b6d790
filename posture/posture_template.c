/*
 * posture_template.c - the ${serial_number} and ${hostname} templates of
 * the cn and subject_alternative_names fields: parsed once when the
 * rules load, filled in for each device.
 */
#include "posture_internal.h"

#include <stdio.h>
#include <string.h>

/* A variable name longer than this is quoted only in part. */
#define VAR_QUOTE_MAX 40

static const struct {
  const char *name;
  posture_var var;
} known_vars[] = {
  { "serial_number", POSTURE_VAR_SERIAL_NUMBER },
  { "hostname", POSTURE_VAR_HOSTNAME },
};

static bool lookup_var(const char *name, size_t len, posture_var *out)
{
  cs_str given = { name, len };

  for (size_t i = 0; i < sizeof(known_vars) / sizeof(known_vars[0]); i++) {
    if (cs_str_eq_cstr(given, known_vars[i].name)) {
      *out = known_vars[i].var;
      return true;
    }
  }
  return false;
}

/* Counts a piece, and stores it when there is room to fill. */
static void add_piece(posture_piece *pieces, size_t *count, posture_var var,
                      const char *text, size_t len)
{
  if (pieces != NULL) {
    pieces[*count].var = var;
    pieces[*count].text = (cs_str){ text, len };
  }
  (*count)++;
}

/* Reads the variable whose name starts at `name`; sets `*out_close` to
 * its closing brace. */
static cs_status read_var(const char *name, const char *end,
                          const char **out_close, posture_var *out_var,
                          char *why, size_t why_size)
{
  const char *close = memchr(name, '}', (size_t)(end - name));
  int shown;

  if (close == NULL) {
    snprintf(why, why_size, "has an unterminated \"${\"");
    return CS_ERR_CONFIG;
  }
  *out_close = close;
  if (lookup_var(name, (size_t)(close - name), out_var)) {
    return CS_OK;
  }
  shown = (int)(close - name);
  snprintf(why, why_size,
           "has an unknown variable ${%.*s}%s (known: ${serial_number}, "
           "${hostname})",
           shown > VAR_QUOTE_MAX ? VAR_QUOTE_MAX : shown, name,
           shown > VAR_QUOTE_MAX ? "..." : "");
  return CS_ERR_CONFIG;
}

/*
 * Walks `text` once. With `pieces` NULL it only validates and counts;
 * otherwise it also fills `pieces`, which has room for the count.
 */
static cs_status scan_template(const char *text, size_t len,
                               posture_piece *pieces, size_t *out_count,
                               char *why, size_t why_size)
{
  const char *end = text + len;
  const char *start = text;
  const char *p = text;
  size_t count = 0;

  while (p < end) {
    const char *close;
    posture_var var;
    cs_status status;

    if (p[0] != '$' || p + 1 >= end || p[1] != '{') {
      p++;
      continue;
    }
    status = read_var(p + 2, end, &close, &var, why, why_size);
    if (status != CS_OK) {
      return status;
    }
    if (p > start) {
      add_piece(pieces, &count, POSTURE_VAR_NONE, start,
                (size_t)(p - start));
    }
    add_piece(pieces, &count, var, NULL, 0);
    p = close + 1;
    start = p;
  }

  if (end > start) {
    add_piece(pieces, &count, POSTURE_VAR_NONE, start,
              (size_t)(end - start));
  }
  *out_count = count;
  return CS_OK;
}

cs_status cs_posture__template_parse(const char *text, size_t len,
                                     cs_arena *arena, posture_template *out,
                                     char *why, size_t why_size)
{
  size_t count = 0;
  char *copy;
  cs_status status;

  if (len > CS_POSTURE_TEMPLATE_MAX) {
    snprintf(why, why_size, "is longer than %d bytes",
             CS_POSTURE_TEMPLATE_MAX);
    return CS_ERR_CONFIG;
  }
  status = scan_template(text, len, NULL, &count, why, why_size);
  if (status != CS_OK) {
    return status;
  }

  /* The pieces point into the arena's copy, not the JSON document. */
  copy = cs_arena_strndup(arena, text, len);
  out->pieces = cs_arena_alloc(arena, (count + 1) * sizeof(posture_piece));
  if (copy == NULL || out->pieces == NULL) {
    return CS_ERR_NOMEM;
  }
  out->source = copy;
  return scan_template(copy, len, out->pieces, &out->piece_count, why,
                       why_size);
}

static cs_str device_field(const cs_device *device, posture_var var)
{
  if (var == POSTURE_VAR_SERIAL_NUMBER) {
    return device->serial_number;
  }
  return device->hostname;
}

static const char *var_name(posture_var var)
{
  return var == POSTURE_VAR_SERIAL_NUMBER ? "serial_number" : "hostname";
}

/* Sums the expanded length; false when a variable has no value. */
static bool expanded_length(const posture_template *t,
                            const cs_device *device, size_t *out_len,
                            const char **out_missing)
{
  size_t total = 0;

  for (size_t i = 0; i < t->piece_count; i++) {
    const posture_piece *piece = &t->pieces[i];
    cs_str value = piece->text;

    if (piece->var != POSTURE_VAR_NONE) {
      value = device_field(device, piece->var);
      if (value.ptr == NULL || value.len == 0) {
        *out_missing = var_name(piece->var);
        return false;
      }
    }
    total += value.len;
  }
  *out_len = total;
  return true;
}

cs_status cs_posture__template_expand(const posture_template *t,
                                      const cs_device *device,
                                      cs_arena *arena,
                                      posture_expansion *out)
{
  size_t len = 0;
  char *buf;
  size_t at = 0;

  out->usable = false;
  out->missing = NULL;
  out->text = (cs_str){ NULL, 0 };

  if (t->piece_count == 1 && t->pieces[0].var == POSTURE_VAR_NONE) {
    out->usable = true;
    out->text = t->pieces[0].text;
    return CS_OK;
  }
  if (!expanded_length(t, device, &len, &out->missing)) {
    return CS_OK;
  }

  buf = cs_arena_alloc(arena, len + 1);
  if (buf == NULL) {
    return CS_ERR_NOMEM;
  }
  for (size_t i = 0; i < t->piece_count; i++) {
    const posture_piece *piece = &t->pieces[i];
    cs_str value = piece->var == POSTURE_VAR_NONE
                       ? piece->text
                       : device_field(device, piece->var);

    memcpy(buf + at, value.ptr, value.len);
    at += value.len;
  }
  buf[at] = '\0';
  out->usable = true;
  out->text = (cs_str){ buf, len };
  return CS_OK;
}
