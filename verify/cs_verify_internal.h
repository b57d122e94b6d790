/*
 * cs_verify_internal.h - what the files of the verify module share and
 * nothing outside the module may use: the bounded DER reader, the text
 * decoders, and the pieces of the certificate walk.
 *
 * Every reader takes a view (cs_bytes) that only shrinks; nothing reads
 * a byte before checking that the view holds it. The first failure is
 * kept in a cs_der_state as static text plus a byte offset, so a
 * failing parse costs no formatting until the caller asks for it.
 */
#ifndef CS_VERIFY_INTERNAL_H
#define CS_VERIFY_INTERNAL_H

#include "cs_verify.h"

#include <openssl/types.h>

/* The tags a certificate uses (one-byte identifiers only). */
#define CS_DER_BOOLEAN 0x01
#define CS_DER_INTEGER 0x02
#define CS_DER_BIT_STRING 0x03
#define CS_DER_OCTET_STRING 0x04
#define CS_DER_NULL 0x05
#define CS_DER_OID 0x06
#define CS_DER_UTF8_STRING 0x0c
#define CS_DER_NUMERIC_STRING 0x12
#define CS_DER_PRINTABLE_STRING 0x13
#define CS_DER_T61_STRING 0x14
#define CS_DER_IA5_STRING 0x16
#define CS_DER_UTC_TIME 0x17
#define CS_DER_GENERALIZED_TIME 0x18
#define CS_DER_UNIVERSAL_STRING 0x1c
#define CS_DER_BMP_STRING 0x1e
#define CS_DER_SEQUENCE 0x30
#define CS_DER_SET 0x31
#define CS_DER_CONSTRUCTED 0x20
#define CS_DER_CONTEXT 0x80

/* [n] for a primitive and for a constructed context-specific tag. */
#define CS_DER_CTX(n) (CS_DER_CONTEXT | (n))
#define CS_DER_CTX_CONS(n) (CS_DER_CONTEXT | CS_DER_CONSTRUCTED | (n))

/*
 * More extensions than this make the certificate malformed: duplicates
 * are found by comparing against the ones already seen, kept on the
 * stack. Real certificates carry fewer than twenty.
 */
#define CS_VERIFY_MAX_EXTENSIONS 64

/*
 * The first failure of a parse. `what` names the field and `reason`
 * what is wrong, both static text; `offset` counts from `base`.
 * `nomem` is set instead when the arena ran out.
 */
typedef struct cs_der_state {
  const uint8_t *base;
  const char *what;
  const char *reason;
  size_t offset;
  bool nomem;
} cs_der_state;

/* One element: its tag, its contents, and all its bytes. */
typedef struct cs_der_tlv {
  uint8_t tag;
  cs_bytes contents;
  cs_bytes whole;
} cs_der_tlv;

void cs_der_init(cs_der_state *st, const uint8_t *base);

/* Records a failure at `at` (when none is recorded) and returns false. */
bool cs_der_fail(cs_der_state *st, const uint8_t *at, const char *what,
                 const char *reason);

/* Records that the arena ran out and returns false. */
bool cs_der_nomem(cs_der_state *st);

/*
 * Takes the next element off the front of `in`: one-byte tag, definite
 * minimal length, contents inside `in`. False, with the reason in
 * `st`, otherwise.
 */
bool cs_der_next(cs_der_state *st, cs_bytes *in, const char *what,
                 cs_der_tlv *out);

/* As cs_der_next, and the tag must be `tag`. */
bool cs_der_take(cs_der_state *st, cs_bytes *in, uint8_t tag,
                 const char *what, cs_der_tlv *out);

/* True when `in` is not empty and starts with `tag`. */
bool cs_der_peek(cs_bytes in, uint8_t tag);

/* True when `in` is empty; else a "trailing bytes" failure. */
bool cs_der_end(cs_der_state *st, cs_bytes in, const char *what);

/* A minimal, non-empty INTEGER. */
bool cs_der_check_integer(cs_der_state *st, const cs_der_tlv *tlv,
                          const char *what);

/*
 * A non-negative INTEGER that fits an int, into `out`. Assumes
 * cs_der_check_integer passed.
 */
bool cs_der_small_uint(cs_der_state *st, const cs_der_tlv *tlv,
                       const char *what, int *out);

/* Contents of an OBJECT IDENTIFIER: non-empty, minimal sub-ids. */
bool cs_der_check_oid(cs_der_state *st, const cs_der_tlv *tlv,
                      const char *what);

/*
 * A BIT STRING: unused-bit count at most 7, zero when empty, and the
 * unused bits themselves zero. `out_bits` gets the bytes after the
 * count; `out_unused` the count.
 */
bool cs_der_bit_string(cs_der_state *st, const cs_der_tlv *tlv,
                       const char *what, cs_bytes *out_bits,
                       unsigned *out_unused);

/*
 * An optional BOOLEAN whose default is FALSE: when `in` starts with
 * one, it must be the DER TRUE (one 0xff byte), since DER never encodes
 * a default. `out` is true when it was present.
 */
bool cs_der_take_default_false(cs_der_state *st, cs_bytes *in,
                               const char *what, bool *out);

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ. */
bool cs_der_take_time(cs_der_state *st, cs_bytes *in, const char *what,
                      int64_t *out);

/* True when an OID's contents equal `want` of `len` bytes. */
bool cs_der_oid_is(cs_bytes oid, const uint8_t *want, size_t len);

#define CS_DER_OID_IS(oid, array) cs_der_oid_is((oid), (array), sizeof(array))

/*
 * Directory strings. cs_verify__text_check validates `value` as a
 * string of ASN.1 type `tag` and gives the length of its UTF-8 form;
 * false when it does not decode (bad UTF-8, odd BMPString, a surrogate
 * or a code point past U+10FFFF). cs_verify__text_utf8 then writes that
 * many bytes to `out`. cs_verify__is_text says which tags are text:
 * UTF8String, the one-byte strings (Numeric, Printable, T61, IA5),
 * BMPString and UniversalString.
 */
bool cs_verify__is_text(uint8_t tag);
bool cs_verify__text_check(uint8_t tag, cs_bytes value, size_t *out_len);
void cs_verify__text_utf8(uint8_t tag, cs_bytes value, char *out);

/*
 * Walks a Name (the contents of its SEQUENCE) and checks every
 * attribute as OpenSSL's decoder does. With `arena`, the commonName
 * values are converted to UTF-8 into it.
 */
bool cs_verify__name_parse(cs_der_state *st, cs_bytes name,
                           const char *what, cs_arena *arena,
                           cs_str **out_cns, size_t *out_count);

/* What a parse learns besides the facts, for the signer store. */
typedef struct cs_verify__extras {
  bool is_ca;               /* basicConstraints cA is TRUE */
  bool has_key_usage;
  bool key_cert_sign;       /* keyUsage lists keyCertSign */
  cs_bytes key_alg;         /* OID contents of the key algorithm */
} cs_verify__extras;

/* The contents of the [3] extensions SEQUENCE OF Extension. */
bool cs_verify__extensions(cs_der_state *st, cs_bytes exts,
                           cs_arena *arena, cs_cert_facts *facts,
                           cs_verify__extras *extras);

/*
 * Maps the outer AlgorithmIdentifier (whole DER) to sig_kind, sig_hash
 * and sig_name. Valid DER that names an algorithm or parameters this
 * build does not verify gives CS_SIG_UNKNOWN, not a failure.
 */
bool cs_verify__sig_alg(cs_der_state *st, cs_bytes alg, cs_cert_facts *facts);

/* RSASSA-PSS parameters this build verifies. */
typedef struct cs_verify__pss {
  cs_hash hash;
  cs_hash mgf1_hash;
  int salt_len;
} cs_verify__pss;

/*
 * The PSS parameters of an AlgorithmIdentifier that cs_verify__sig_alg
 * mapped to CS_SIG_RSA_PSS. False when they are not usable.
 */
bool cs_verify__pss_params(cs_bytes alg, cs_verify__pss *out);

/* SHA-256 of `in`, without allocating or fetching. */
void cs_verify__sha256(cs_bytes in, uint8_t out[32]);

/* cs_verify_parse that also fills `extras` (may be NULL). */
cs_status cs_verify__parse_full(cs_bytes der, cs_arena *arena,
                                cs_cert_facts *out,
                                cs_verify__extras *extras, cs_error *err);

/* The kinds of signer key the check can use. */
typedef enum cs_verify__key {
  CS_VERIFY_KEY_NONE,
  CS_VERIFY_KEY_RSA,
  CS_VERIFY_KEY_RSA_PSS,
  CS_VERIFY_KEY_EC,
  CS_VERIFY_KEY_ED25519,
  CS_VERIFY_KEY_ED448,
  CS_VERIFY_KEY_DSA
} cs_verify__key;

/*
 * A signer, owned by its store. Every field is set at load and then only
 * read, by any number of threads. `serial` is unique in the process, so
 * per-thread caches key on it without fearing that a freed signer's
 * address comes back.
 */
struct cs_verify_signer {
  char *id;
  char *name;
  char *source;
  uint64_t serial;
  bool usable;
  char problem[CS_ERROR_MESSAGE_MAX];
  uint8_t *der;
  size_t der_len;
  cs_arena arena;
  cs_cert_facts facts;
  cs_verify__extras extras;
  X509 *x509;
  const X509_NAME *subject; /* borrowed from x509 */
  EVP_PKEY *pkey;           /* borrowed from x509, decoded once */
  cs_verify__key key;
};

#endif
