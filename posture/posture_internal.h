/*
 * posture_internal.h - what the rules loader hands the evaluator: the
 * validated form of each rule, and the ${variable} templates.
 *
 * Only files of posture/ include this header. Everything here lives in
 * the arena of the cs_posture_rules that holds it and is read-only once
 * cs_posture_rules_load has returned.
 */
#ifndef CS_POSTURE_INTERNAL_H
#define CS_POSTURE_INTERNAL_H

#include "cs_posture.h"

/* A template longer than this is a configuration error. */
#define CS_POSTURE_TEMPLATE_MAX 1024

typedef enum posture_var {
  POSTURE_VAR_NONE, /* literal text */
  POSTURE_VAR_SERIAL_NUMBER,
  POSTURE_VAR_HOSTNAME
} posture_var;

typedef struct posture_piece {
  posture_var var;
  cs_str text; /* the literal text when var is POSTURE_VAR_NONE */
} posture_piece;

typedef struct posture_template {
  const char *source; /* as the rule wrote it */
  posture_piece *pieces;
  size_t piece_count;
} posture_template;

/*
 * A template filled in for one device. When a variable's field is
 * absent or empty the template matches nothing: usable is false and
 * `missing` names the variable.
 */
typedef struct posture_expansion {
  bool usable;
  const char *missing;
  cs_str text;
} posture_expansion;

/* Bits of the operating systems a rule's `match` list allows. */
#define POSTURE_OS_BIT(os) (1u << (unsigned)(os))

typedef struct posture_rule {
  cs_posture_rule_info info;
  const cs_verify_signer *signer;
  size_t signer_slot; /* index among the distinct signers of the rules */
  bool os_named;
  cs_os os;
  bool has_match;
  unsigned match_os;  /* POSTURE_OS_BIT of each platform listed */
  unsigned stores;    /* CS_STORE_SYSTEM and CS_STORE_USER selected */
  const char **paths; /* absolute paths selected */
  size_t path_count;
  bool has_cn;
  posture_template cn;
  posture_template *sans;
  size_t san_count;
  unsigned eku;       /* CS_EKU_* bits required */
  bool check_private_key;
} posture_rule;

struct cs_posture_rules {
  cs_arena arena;
  posture_rule *rules;
  size_t count;
  size_t skipped;
  const cs_verify_signer **signers; /* distinct, in order of first use */
  size_t signer_count;
  size_t max_san_count;
};

/*
 * Parses `text` (NUL-terminated, `len` bytes) into `out`, copying what
 * it keeps into `arena`. Returns CS_OK; CS_ERR_CONFIG with the problem
 * (an unknown variable, an unterminated "${") in `why`, a sentence
 * fragment that the caller prefixes with the field's name; or
 * CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_posture__template_parse(const char *text,
                                                   size_t len,
                                                   cs_arena *arena,
                                                   posture_template *out,
                                                   char *why,
                                                   size_t why_size);

/*
 * Fills `t` in for `device`. A template without variables needs no
 * memory; others are written into `arena`. Returns CS_OK or
 * CS_ERR_NOMEM.
 */
CS_MUST_CHECK cs_status cs_posture__template_expand(
    const posture_template *t, const cs_device *device, cs_arena *arena,
    posture_expansion *out);

#endif
