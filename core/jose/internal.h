/*
 * Declarations shared by the files of core/jose and by nothing else. Not a public interface:
 * other modules include jwa.h, jwk.h, jws.h, jwe.h, jwt.h or x5c.h.
 */
#ifndef ESG_JOSE_INTERNAL_H
#define ESG_JOSE_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "jose/jwa.h"

/* Key families an algorithm needs. */
enum jose_family { JOSE_FAM_RSA = 1, JOSE_FAM_RSA_PSS = 2, JOSE_FAM_EC = 3, JOSE_FAM_OKP = 4 };

/* What a JWS algorithm needs from a key and from the digest. */
typedef struct esg_jose_alg_info {
    esg_jws_alg alg;
    const char *name;
    int family;        /* enum jose_family */
    const char *md;    /* digest name, NULL for EdDSA (which hashes internally) */
    const char *curve; /* JOSE curve name for ECDSA ("P-256"), NULL otherwise */
    size_t coord_len;  /* ECDSA: bytes of R and of S in the JOSE signature */
} esg_jose_alg_info;

/* Table entry of `alg`, or NULL for an invalid value. [any] */
const esg_jose_alg_info *esg_jose_alg_info_get(esg_jws_alg alg);

/*
 * The digest `name` ("SHA256", "SHA384", "SHA512", "SHA1"), fetched once per process and kept,
 * because an implicit fetch on every operation costs a lock and a lookup in OpenSSL 3. NULL when
 * the provider does not offer it. The result is borrowed and lives until exit. [any]
 */
const EVP_MD *esg_jose_md(const char *name);

/*
 * The cipher `name` ("AES-128-GCM", "AES-256-GCM", "AES-128-CBC", "AES-256-CBC") and the HMAC
 * implementation, fetched once like esg_jose_md(). NULL when unavailable. [any]
 */
const EVP_CIPHER *esg_jose_cipher(const char *name);
EVP_MAC *esg_jose_hmac(void);

/* The curve of an EC key, as a JOSE name ("P-256", "P-384", "P-521"); NULL otherwise. [any] */
const char *esg_jose_ec_curve(const EVP_PKEY *pkey);
/* JOSE coordinate length of a curve name (32, 48, 66), or 0 for an unknown name. */
size_t esg_jose_curve_len(const char *crv);

/*
 * 1 when `pkey` may be used with `info`: the right key type, for ECDSA the right curve, for RSA
 * a modulus of at least 2048 bits. [any]
 */
int esg_jose_key_fits(const EVP_PKEY *pkey, const esg_jose_alg_info *info);

/*
 * Checks a parsed JSON value against structural limits: nesting depth at most `max_depth`
 * (1 for a flat object) and at most `max_members` object members and array items in total.
 * Returns 0 or ESP_ETOOBIG.
 */
int esg_jose_json_limits(const json_t *v, int max_depth, size_t max_members);

/*
 * Applies RFC 7515 §4.1.11 to a protected header: "crit", when present, is a non-empty array of
 * distinct strings, none a registered header name, each present in the header and each in
 * `understood` (NULL-terminated, may be NULL). "b64" (RFC 7797) is accepted only when
 * `allow_b64` is set, as a boolean that "crit" lists. Returns 0 or ESP_EINVAL with *reason.
 */
int esg_jose_check_crit(const json_t *header, const char *const *understood, int allow_b64,
                        const char **reason);

/* Limits on every protected header, JWS and JWE alike. */
#define ESG_JOSE_HEADER_MEMBERS 64
#define ESG_JOSE_HEADER_DEPTH   4

/*
 * Decodes base64url [s, s+n) to buf + *pos, sets *out and *out_len to the decoded bytes and
 * advances *pos. Returns 0 or ESP_EINVAL.
 */
int esg_jose_decode_part(const char *s, size_t n, uint8_t *buf, size_t *pos, const uint8_t **out,
                         size_t *out_len);

/*
 * Decodes and parses a protected header of `n` base64url characters, using `scratch` (at least
 * esg_b64_decoded_max(n) bytes): it must be non-empty, at most `max` characters, base64url of a
 * JSON object without duplicate members and within ESG_JOSE_HEADER_DEPTH and
 * ESG_JOSE_HEADER_MEMBERS. *out is a new object. Returns 0, ESP_EINVAL or ESP_ETOOBIG.
 */
int esg_jose_header_parse(const char *b64, size_t n, size_t max, uint8_t *scratch, json_t **out,
                          const char **reason);

/*
 * The header's "kid" (borrowed) in *kid, or NULL when absent. Returns 0, or ESP_EINVAL when it is
 * not a string or holds a NUL.
 */
int esg_jose_header_kid(const json_t *header, const char **kid, const char **reason);

/*
 * String member `key` of `obj`: 0 with *s and *n set, ESP_ENOTFOUND when absent, ESP_EINVAL when
 * present but not a string.
 */
int esg_jose_json_str(const json_t *obj, const char *key, const char **s, size_t *n);

/*
 * jansson's iteration API takes non-const pointers although it does not modify the value; this
 * drops the qualifier without a cast that -Wcast-qual would report.
 */
static inline json_t *jose_mut(const json_t *v)
{
    union {
        const json_t *c;
        json_t *m;
    } u = {v};
    return u.m;
}

/* Sets *reason (when reason is not NULL) and returns rc: keeps each error path one line. */
static inline int jose_fail(const char **reason, const char *why, int rc)
{
    if (reason != NULL)
        *reason = why;
    return rc;
}

#endif
