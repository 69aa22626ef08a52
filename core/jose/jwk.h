/*
 * JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2), key sets, thumbprints (RFC 7638) and key
 * generation, on OpenSSL 3 EVP_PKEY.
 *
 * Supported key types: RSA (2048 to 8192 bits), EC on P-256, P-384 and P-521, and OKP on Ed25519
 * and Ed448, each public or private. Symmetric ("oct") keys are not supported: this server never
 * uses HMAC or direct symmetric encryption, so it has no reason to parse them.
 *
 * Import is strict: required members must be present with the right JSON type, base64url must be
 * canonical (esg_b64url_decode), RSA n and e must be minimal (no leading zero byte), EC
 * coordinates and OKP keys must have the exact length of their curve, an EC point must lie on its
 * curve, and a private key must match its public members. Unknown members are ignored as RFC 7517
 * §4 requires, except private members when only a public key was asked for.
 *
 * Thread safety: an esg_jwk is immutable after creation, so several threads may use one at the
 * same time (OpenSSL 3 allows concurrent operations on one EVP_PKEY). Creating and freeing are the
 * caller's to serialise. Every function may be called from any thread.
 *
 * Status codes: 0 on success; ESP_EINVAL for malformed or unsupported input (with a static reason
 * string when `reason` is not NULL); ESP_ETOOBIG for input beyond the limits; ESP_ENOTFOUND for a
 * failed look-up; ESP_ENOMEM; ESP_EINTERNAL when OpenSSL fails on valid input. Reasons never
 * contain key material.
 */
#ifndef ESG_JOSE_JWK_H
#define ESG_JOSE_JWK_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

#include "jose/jwa.h"

/* Base64url length of a SHA-256 thumbprint, without the terminating NUL. */
#define ESG_JWK_THUMBPRINT_LEN 43

/* Key types. */
typedef enum esg_jwk_kty {
    ESG_JWK_KTY_INVALID = 0,
    ESG_JWK_KTY_RSA = 1,
    ESG_JWK_KTY_EC = 2,
    ESG_JWK_KTY_OKP = 3,
} esg_jwk_kty;

/* Flags of esg_jwk_import() and esg_jwk_set_parse(). */
enum esg_jwk_import_flags {
    /* Accept private members (d, p, q, ...). Without it a JWK carrying any is rejected. */
    ESG_JWK_ALLOW_PRIVATE = 1u << 0,
    /* Require a private key (implies ESG_JWK_ALLOW_PRIVATE). */
    ESG_JWK_REQUIRE_PRIVATE = 1u << 1,
    /*
     * Accept RSA moduli from 1024 bits, for old published test vectors and thumbprints only:
     * signing, verification and encryption still refuse keys below 2048 bits.
     */
    ESG_JWK_ALLOW_SMALL_RSA = 1u << 2,
};

/* Flags of esg_jwk_export(). */
enum esg_jwk_export_flags {
    /* Include the private members. Never set this for anything that leaves the process. */
    ESG_JWK_EXPORT_PRIVATE = 1u << 0,
    /* Leave out kid, alg, use and key_ops (for canonical comparisons). */
    ESG_JWK_EXPORT_BARE = 1u << 1,
};

/* Operations a key may be checked for with esg_jwk_check_use(). */
typedef enum esg_jwk_op {
    ESG_JWK_OP_SIGN = 1,
    ESG_JWK_OP_VERIFY = 2,
    ESG_JWK_OP_ENCRYPT = 3, /* wrapKey/encrypt with the public key */
    ESG_JWK_OP_DECRYPT = 4, /* unwrapKey/decrypt with the private key */
} esg_jwk_op;

/* A key: an EVP_PKEY plus the JWK parameters kid, alg, use and key_ops. Opaque. */
typedef struct esg_jwk esg_jwk;

/*
 * Imports a JWK object (borrowed; not kept). On success *out is a new key the caller frees with
 * esg_jwk_free(). `flags` is a mask of esg_jwk_import_flags. Returns 0, ESP_EINVAL (with
 * *reason), ESP_ENOMEM or ESP_EINTERNAL.
 */
int esg_jwk_import(const json_t *jwk, unsigned flags, esg_jwk **out, const char **reason);
/*
 * Same from JSON text of `n` bytes (not necessarily NUL-terminated). Duplicate members are
 * rejected. Returns as esg_jwk_import(), or ESP_ETOOBIG for more than 64 KiB of text.
 */
int esg_jwk_import_json(const char *text, size_t n, unsigned flags, esg_jwk **out,
                        const char **reason);

/*
 * 1 when the JWK object `jwk` (borrowed) carries any private member of any key type ("d", "p",
 * "q", "dp", "dq", "qi", "oth", or "k" of a symmetric key), whether or not the rest of it is a
 * valid key; 0 otherwise, also for a non-object. For callers that must refuse private material
 * before anything else, such as a DPoP proof's "jwk" header (RFC 9449 §4.3).
 */
int esg_jwk_json_has_private(const json_t *jwk);

/*
 * Wraps an existing key, taking a new reference to it (the caller keeps its own). The key has no
 * kid, alg, use or key_ops. Returns 0, ESP_EINVAL (unsupported type or curve, RSA below 2048
 * bits) or ESP_ENOMEM.
 */
int esg_jwk_wrap(EVP_PKEY *pkey, esg_jwk **out);

/* Frees a key; NULL is ignored. Private material is wiped by OpenSSL when the EVP_PKEY goes. */
void esg_jwk_free(esg_jwk *k);

/* The EVP_PKEY, borrowed: valid until esg_jwk_free(). Never NULL for a valid key. */
EVP_PKEY *esg_jwk_pkey(const esg_jwk *k);
/* The key type. */
esg_jwk_kty esg_jwk_type(const esg_jwk *k);
/* 1 when the key holds private material. */
int esg_jwk_is_private(const esg_jwk *k);
/* The kid, alg and use members, borrowed NUL-terminated strings; NULL when absent. */
const char *esg_jwk_kid(const esg_jwk *k);
const char *esg_jwk_alg(const esg_jwk *k);
const char *esg_jwk_use(const esg_jwk *k);

/*
 * Sets kid, alg or use (copied; NULL removes it). Only for keys the caller just created: a key
 * shared with other threads is immutable. Returns 0, ESP_EINVAL (not a valid identifier or
 * value) or ESP_ENOMEM.
 */
int esg_jwk_set_kid(esg_jwk *k, const char *kid);
int esg_jwk_set_alg(esg_jwk *k, const char *alg);
int esg_jwk_set_use(esg_jwk *k, const char *use);

/*
 * Checks that the key may be used for `op` with algorithm `alg` (a JWS or JWE "alg" name, or NULL
 * to skip the algorithm check): the key's own alg, use and key_ops members must allow it
 * (RFC 7517 §4.2-4.4), the key type must fit the algorithm, and signing or decrypting needs a
 * private key. Returns 0 or ESP_EINVAL with *reason.
 */
int esg_jwk_check_use(const esg_jwk *k, esg_jwk_op op, const char *alg, const char **reason);

/*
 * Exports a key as a new JWK object (the caller json_decref()s it). Members are written in the
 * order kty, crv/n/e/x/y, private members, then kid, use, alg. `flags` is a mask of
 * esg_jwk_export_flags. Returns 0, ESP_EINVAL (ESG_JWK_EXPORT_PRIVATE on a public key), ESP_ENOMEM
 * or ESP_EINTERNAL.
 */
int esg_jwk_export(const esg_jwk *k, unsigned flags, json_t **out);

/*
 * Public JWK of an EVP_PKEY (borrowed), without kid/alg/use. Works for provider- and engine-backed
 * keys too (the public part is read back through DER when the key does not answer parameter
 * queries). Returns 0, ESP_EINVAL (unsupported key), ESP_ENOMEM or ESP_EINTERNAL.
 */
int esg_jwk_public_json(EVP_PKEY *pkey, json_t **out);

/*
 * RFC 7638 SHA-256 thumbprint, base64url, written with a NUL to `out` (at least
 * ESG_JWK_THUMBPRINT_LEN + 1 bytes). Returns 0, ESP_EINVAL (too small a buffer, unsupported key),
 * ESP_ENOMEM or ESP_EINTERNAL.
 */
int esg_jwk_thumbprint(const esg_jwk *k, char *out, size_t out_size);
/* Same for an EVP_PKEY (borrowed). */
int esg_jwk_thumbprint_pkey(EVP_PKEY *pkey, char *out, size_t out_size);
/*
 * Same for a JWK object (borrowed), public or private: the key is validated like
 * esg_jwk_import() with ESG_JWK_ALLOW_PRIVATE first, so an invalid JWK has no thumbprint.
 */
int esg_jwk_thumbprint_json(const json_t *jwk, char *out, size_t out_size);

/* 1 when both keys have the same public key (EVP_PKEY_eq), 0 otherwise or when either is NULL. */
int esg_jwk_pkey_equal(const EVP_PKEY *a, const EVP_PKEY *b);

/*
 * Generates a key. `spec` is one of "RSA-2048", "RSA-3072", "RSA-4096", "P-256", "P-384",
 * "P-521", "Ed25519", "Ed448". *out is a new EVP_PKEY the caller frees with EVP_PKEY_free().
 * Returns 0, ESP_EINVAL (unknown spec) or ESP_EINTERNAL. RSA generation takes a while: not on a
 * loop thread.
 */
int esg_jwk_generate(const char *spec, EVP_PKEY **out);
/*
 * Generates a key for a JWS or JWE algorithm name: RS*, PS*, RSA-OAEP* use `rsa_bits` (2048, 3072
 * or 4096; 0 means 2048), ES256/384/512 their curve, EdDSA Ed25519. Returns as esg_jwk_generate().
 */
int esg_jwk_generate_for_alg(const char *alg, int rsa_bits, EVP_PKEY **out);

/* ------------------------------------------------------------------------------------------------
 * Key sets (RFC 7517 §5).
 */

/* A parsed JWK Set. Opaque; immutable after parsing, so it may be shared between threads. */
typedef struct esg_jwk_set esg_jwk_set;

/*
 * Parses a JWK Set object (borrowed). At most `max_keys` keys (0 means 32) are accepted; more is
 * ESP_ETOOBIG. Keys of a type or curve this module does not implement are skipped, as RFC 7517
 * §5 says; a malformed key of a supported type rejects the whole set (ESP_EINVAL) so that a broken
 * document is noticed instead of being half used. `flags` as for esg_jwk_import(). *out is freed
 * with esg_jwk_set_free().
 */
int esg_jwk_set_parse(const json_t *jwks, unsigned flags, size_t max_keys, esg_jwk_set **out,
                      const char **reason);
/* Same from JSON text (at most 1 MiB, duplicates rejected). */
int esg_jwk_set_parse_json(const char *text, size_t n, unsigned flags, size_t max_keys,
                           esg_jwk_set **out, const char **reason);
/* Frees a set and its keys; NULL is ignored. */
void esg_jwk_set_free(esg_jwk_set *s);
/* Number of keys kept. */
size_t esg_jwk_set_count(const esg_jwk_set *s);
/* Key `i` (borrowed; valid until the set is freed), NULL when out of range. */
const esg_jwk *esg_jwk_set_get(const esg_jwk_set *s, size_t i);
/*
 * Finds the key for a JWS or JWE: `kid` (NULL for any) must equal the key's kid; `alg` (NULL for
 * any) must be usable with the key (esg_jwk_check_use() with `op`). Without a kid, more than one
 * candidate is ambiguous and fails, so that a token cannot pick among keys by trial. Returns 0
 * with *out borrowed, ESP_ENOTFOUND or ESP_EINVAL (ambiguous).
 */
int esg_jwk_set_find(const esg_jwk_set *s, const char *kid, const char *alg, esg_jwk_op op,
                     const esg_jwk **out);

#endif
