/*
 * test_common.c - status tables, string comparison, the arena and the
 * time helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cs_common.h"

static void test_status_tables(void **state)
{
  (void)state;
  assert_string_equal(cs_status_name(CS_ERR_ZSTD), "ERR_ZSTD");
  assert_string_equal(cs_status_text(CS_ERR_NOT_CERTINV),
                      "not a certinv dump");
  assert_int_equal(cs_status_category(CS_OK), CS_CAT_NONE);
  assert_int_equal(cs_status_category(CS_ERR_RECORD_SHAPE), CS_CAT_RECORD);
  assert_int_equal(cs_status_category(CS_ERR_TRUNCATED), CS_CAT_FILE);
  assert_int_equal(cs_status_category(CS_ERR_CONFIG), CS_CAT_ABORT);
  assert_string_equal(cs_status_name(CS_STATUS_COUNT), "unknown");
}

static void test_error_set_formats(void **state)
{
  cs_error err;

  (void)state;
  assert_int_equal(cs_error_set(&err, CS_ERR_READ, "%s: %d", "f.zst", 7),
                   CS_ERR_READ);
  assert_int_equal(err.status, CS_ERR_READ);
  assert_string_equal(err.message, "f.zst: 7");
  assert_int_equal(cs_error_set(NULL, CS_ERR_USAGE, "x"), CS_ERR_USAGE);
}

static void test_str_compare_keeps_lengths(void **state)
{
  cs_str with_nul = { "null.python.org\0example.org", 27 };
  cs_str short_name = { "null.python.org", 15 };
  cs_str upper = { "NULL.Python.ORG", 15 };
  cs_str accented = { "\xc3\x89", 2 };
  cs_str accented_lower = { "\xc3\xa9", 2 };

  (void)state;
  assert_false(cs_str_eq(with_nul, short_name));
  assert_false(cs_str_eq_ascii_nocase(with_nul, short_name));
  assert_true(cs_str_eq_ascii_nocase(short_name, upper));
  assert_false(cs_str_eq_ascii_nocase(accented, accented_lower));
  assert_true(cs_str_eq_cstr(short_name, "null.python.org"));
}

static void test_arena_alignment_and_reset(void **state)
{
  cs_arena arena;

  (void)state;
  cs_arena_init(&arena, 64);

  uint8_t *a = cs_arena_alloc(&arena, 3);
  uint8_t *b = cs_arena_alloc(&arena, 5);
  uint8_t *big = cs_arena_alloc(&arena, 1000);
  char *copy = cs_arena_strndup(&arena, "ab\0cd", 5);

  assert_non_null(a);
  assert_non_null(big);
  assert_int_equal((uintptr_t)b % 16, 0);
  assert_int_equal((uintptr_t)big % 16, 0);
  assert_memory_equal(copy, "ab\0cd\0", 6);
  memset(big, 0xab, 1000);
  cs_arena_reset(&arena);
  assert_int_equal(arena.bytes_used, 0);
  assert_non_null(cs_arena_alloc(&arena, 32));
  cs_arena_cleanup(&arena);
}

static void test_time_round_trips(void **state)
{
  char text[CS_TIME_TEXT_MAX];
  int64_t t = 0;

  (void)state;
  assert_int_equal(cs_time_from_civil(1970, 1, 1, 0, 0, 0), 0);
  assert_int_equal(cs_time_from_civil(2000, 3, 1, 0, 0, 0), 951868800);
  assert_string_equal(cs_time_format(253402300799, text),
                      "9999-12-31T23:59:59Z");
  assert_string_equal(cs_time_format(-631152000, text),
                      "1950-01-01T00:00:00Z");
  assert_true(cs_time_parse("2026-12-01T00:00:00Z", &t));
  assert_int_equal(t, 1796083200);
  assert_true(cs_time_parse("2026-12-01T02:00:00.000+02:00", &t));
  assert_int_equal(t, 1796083200);
}

static void test_time_parse_refuses_bad_text(void **state)
{
  int64_t t = 0;

  (void)state;
  assert_false(cs_time_parse("2026-02-30T00:00:00Z", &t));
  assert_false(cs_time_parse("2026-12-01", &t));
  assert_false(cs_time_parse("2026-12-01T00:00:00", &t));
  assert_false(cs_time_parse("2026-12-01T24:00:00Z", &t));
  assert_false(cs_time_parse("2026-12-01T00:00:00Zjunk", &t));
  assert_false(cs_time_parse("2030-01-01T00:00:00.5Z", &t));
  assert_false(cs_time_parse("2030-01-01T00:00:00.Z", &t));
}

static void test_hex_encode(void **state)
{
  const uint8_t bytes[] = { 0x00, 0x9f, 0xff };
  char out[7];

  (void)state;
  cs_hex_encode(bytes, sizeof(bytes), out);
  assert_string_equal(out, "009fff");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_status_tables),
    cmocka_unit_test(test_error_set_formats),
    cmocka_unit_test(test_str_compare_keeps_lengths),
    cmocka_unit_test(test_arena_alignment_and_reset),
    cmocka_unit_test(test_time_round_trips),
    cmocka_unit_test(test_time_parse_refuses_bad_text),
    cmocka_unit_test(test_hex_encode),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
