/*
 * report_fleet.c - the maps behind the fleet findings (how many devices
 * report each serial number, how many devices a verdict names each
 * certificate on) and the placeholder serial list.
 *
 * A map grows by one entry per distinct value and never shrinks: that
 * is the memory the findings cost (docs/REPORTS.md gives the figures).
 * Serials come from the devices themselves, so the table hashes with
 * SipHash-2-4 under a random key: crafted serials cannot pile into one
 * chain. Nothing printed depends on the table order.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "report_internal.h"

#define MAP_FIRST_CAP 1024
#define MAP_KEY_CHUNK (64u * 1024u)

static uint64_t rotl(uint64_t x, int b)
{
  return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
  v[0] += v[1];
  v[1] = rotl(v[1], 13) ^ v[0];
  v[0] = rotl(v[0], 32);
  v[2] += v[3];
  v[3] = rotl(v[3], 16) ^ v[2];
  v[0] += v[3];
  v[3] = rotl(v[3], 21) ^ v[0];
  v[2] += v[1];
  v[1] = rotl(v[1], 17) ^ v[2];
  v[2] = rotl(v[2], 32);
}

static uint64_t load_le64(const uint8_t *p, size_t n)
{
  uint64_t out = 0;

  for (size_t i = 0; i < n; i++) {
    out |= (uint64_t)p[i] << (8 * i);
  }
  return out;
}

static void sip_block(uint64_t v[4], uint64_t m)
{
  v[3] ^= m;
  sip_round(v);
  sip_round(v);
  v[0] ^= m;
}

static uint64_t siphash(const uint64_t key[2], const uint8_t *p, size_t n)
{
  uint64_t v[4] = { key[0] ^ 0x736f6d6570736575ull,
                    key[1] ^ 0x646f72616e646f6dull,
                    key[0] ^ 0x6c7967656e657261ull,
                    key[1] ^ 0x7465646279746573ull };
  size_t left = n;

  while (left >= 8) {
    sip_block(v, load_le64(p, 8));
    p += 8;
    left -= 8;
  }
  sip_block(v, load_le64(p, left) | ((uint64_t)(n & 0xff) << 56));
  v[2] ^= 0xff;
  for (int i = 0; i < 4; i++) {
    sip_round(v);
  }
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void cs_report__map_init(cs_report_map *map)
{
  map->slots = NULL;
  map->cap = 0;
  map->used = 0;
  map->seed[0] = 0x0706050403020100ull;
  map->seed[1] = 0x0f0e0d0c0b0a0908ull;
  /* A fixed key is still correct; only flooding gets cheaper. */
  (void)getrandom(map->seed, sizeof(map->seed), GRND_NONBLOCK);
  cs_arena_init(&map->keys, MAP_KEY_CHUNK);
}

void cs_report__map_cleanup(cs_report_map *map)
{
  free(map->slots);
  map->slots = NULL;
  map->cap = 0;
  map->used = 0;
  cs_arena_cleanup(&map->keys);
}


/*
 * Writes one byte of every page before the table is probed: a fresh page
 * first read maps the shared zero page, and the copy made at the first
 * write then flushes the TLB of every core the scan runs on. The
 * volatile store keeps the compiler from folding it into calloc.
 */
static void touch_pages(void *memory, size_t size)
{
  volatile uint8_t *bytes = memory;

  for (size_t at = 0; at < size; at += 4096) {
    bytes[at] = 0;
  }
}

static bool grow(cs_report_map *map)
{
  size_t cap = map->cap == 0 ? MAP_FIRST_CAP : map->cap * 2;

  if (cap > SIZE_MAX / sizeof(cs_report_map_entry)) {
    return false;
  }

  cs_report_map_entry *slots = calloc(cap, sizeof(*slots));

  if (slots == NULL) {
    return false;
  }
  touch_pages(slots, cap * sizeof(*slots));
  for (size_t i = 0; i < map->cap; i++) {
    const cs_report_map_entry *entry = &map->slots[i];

    if (entry->count == 0) {
      continue;
    }

    size_t at = (size_t)entry->hash & (cap - 1);

    while (slots[at].count != 0) {
      at = (at + 1) & (cap - 1);
    }
    slots[at] = *entry;
  }
  free(map->slots);
  map->slots = slots;
  map->cap = cap;
  return true;
}

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint32_t clamp32(uint64_t value)
{
  return value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
}

cs_status cs_report__map_add(cs_report_map *map, const uint8_t *key,
                             size_t len, uint64_t count)
{
  if (count == 0) {
    return CS_OK;
  }
  if (len > UINT32_MAX) {
    return CS_ERR_NOMEM;
  }
  /* Linear probing stays short below three quarters full. */
  if (map->used + 1 > map->cap / 4 * 3 && !grow(map)) {
    return CS_ERR_NOMEM;
  }

  uint64_t hash = siphash(map->seed, key, len);
  size_t i = (size_t)hash & (map->cap - 1);

  while (map->slots[i].count != 0) {
    cs_report_map_entry *slot = &map->slots[i];

    if (slot->hash == hash && slot->len == len &&
        memcmp(slot->key, key, len) == 0) {
      slot->count = clamp32(add_saturating(slot->count, count));
      return CS_OK;
    }
    i = (i + 1) & (map->cap - 1);
  }

  uint8_t *copy = cs_arena_alloc(&map->keys, len > 0 ? len : 1);

  if (copy == NULL) {
    return CS_ERR_NOMEM;
  }
  memcpy(copy, key, len);
  map->slots[i].key = copy;
  map->slots[i].hash = hash;
  map->slots[i].len = (uint32_t)len;
  map->slots[i].count = clamp32(count);
  map->used++;
  return CS_OK;
}

/* True when `a` is listed before `b`: more devices, then key bytes. */
static bool ranks_before(const cs_report_map_entry *a,
                         const cs_report_map_entry *b)
{
  if (a->count != b->count) {
    return a->count > b->count;
  }

  size_t n = a->len < b->len ? a->len : b->len;
  int cmp = memcmp(a->key, b->key, n);

  return cmp != 0 ? cmp < 0 : a->len < b->len;
}

static void top_insert(const cs_report_map_entry **top, size_t *n,
                       const cs_report_map_entry *entry)
{
  size_t at = *n;

  while (at > 0 && ranks_before(entry, top[at - 1])) {
    at--;
  }
  if (at >= CS_REPORT_TOP_MAX) {
    return;
  }

  size_t last = *n < CS_REPORT_TOP_MAX ? *n : CS_REPORT_TOP_MAX - 1;

  memmove(&top[at + 1], &top[at], (last - at) * sizeof(*top));
  top[at] = entry;
  if (*n < CS_REPORT_TOP_MAX) {
    (*n)++;
  }
}

void cs_report__map_top(const cs_report_map *map,
                        cs_report_map_filter filter,
                        const cs_report_map_entry **top, size_t *out_n,
                        uint64_t *out_entries, uint64_t *out_devices)
{
  *out_n = 0;
  *out_entries = 0;
  *out_devices = 0;
  for (size_t i = 0; i < map->cap; i++) {
    const cs_report_map_entry *entry = &map->slots[i];

    if (entry->count == 0 || !filter(entry)) {
      continue;
    }
    (*out_entries)++;
    *out_devices = add_saturating(*out_devices, entry->count);
    top_insert(top, out_n, entry);
  }
}

/* Compared after trimming, ASCII case-insensitively. */
static const char *const placeholder_serials[] = {
  "To Be Filled By O.E.M.", "To Be Filled By O.E.M", "To Be Filled By OEM",
  "Default string", "Default", "System Serial Number",
  "Chassis Serial Number", "Base Board Serial Number", "Serial Number",
  "SerialNumber", "0123456789", "123456789", "1234567890", "12345678",
  "None", "Not Specified", "Not Applicable", "Not Available", "N/A", "NA",
  "INVALID", "Unknown", "OEM", "O.E.M.", "Empty", "Null",
  "No Asset Information", "Type1ProductConfigId",
};

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static cs_str trim(cs_str s)
{
  while (s.len > 0 && is_space(s.ptr[0])) {
    s.ptr++;
    s.len--;
  }
  while (s.len > 0 && is_space(s.ptr[s.len - 1])) {
    s.len--;
  }
  return s;
}

static bool one_char_repeated(cs_str s)
{
  for (size_t i = 1; i < s.len; i++) {
    if (s.ptr[i] != s.ptr[0]) {
      return false;
    }
  }
  return true;
}

bool cs_report_serial_is_placeholder(cs_str serial)
{
  cs_str s = serial.ptr == NULL ? serial : trim(serial);

  if (s.len == 0) {
    return false;
  }
  if (one_char_repeated(s)) {
    return true;
  }

  size_t count = sizeof(placeholder_serials) / sizeof(*placeholder_serials);

  for (size_t i = 0; i < count; i++) {
    cs_str known = { placeholder_serials[i], strlen(placeholder_serials[i]) };

    if (cs_str_eq_ascii_nocase(s, known)) {
      return true;
    }
  }
  return false;
}

static cs_str entry_str(const cs_report_map_entry *entry)
{
  cs_str s = { (const char *)entry->key, entry->len };

  return s;
}

bool cs_report__is_shared_serial(const cs_report_map_entry *entry)
{
  return entry->count > 1 &&
         !cs_report_serial_is_placeholder(entry_str(entry));
}

bool cs_report__is_placeholder_entry(const cs_report_map_entry *entry)
{
  return cs_report_serial_is_placeholder(entry_str(entry));
}

bool cs_report__is_shared_cert(const cs_report_map_entry *entry)
{
  return entry->count > 1;
}
