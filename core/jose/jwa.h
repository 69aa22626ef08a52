/*
 * JSON Web Algorithms (RFC 7518, RFC 8037): the algorithm identifiers this server implements and
 * the allow-lists callers build from them.
 *
 * Only asymmetric signatures are implemented. HS256/384/512 and "none" have no identifier here on
 * purpose: a token naming them never maps to an algorithm, so no allow-list can accept it, which
 * also rules out the HMAC-keyed-with-a-public-key confusion.
 *
 * Every function here is pure (no state, no allocation) and safe to call from any thread.
 */
#ifndef ESG_JOSE_JWA_H
#define ESG_JOSE_JWA_H

#include <stddef.h>
#include <stdint.h>

/* JWS signature algorithms. 0 is never a valid algorithm. */
typedef enum esg_jws_alg {
    ESG_JWS_ALG_INVALID = 0,
    ESG_JWS_RS256 = 1,
    ESG_JWS_RS384 = 2,
    ESG_JWS_RS512 = 3,
    ESG_JWS_PS256 = 4,
    ESG_JWS_PS384 = 5,
    ESG_JWS_PS512 = 6,
    ESG_JWS_ES256 = 7,
    ESG_JWS_ES384 = 8,
    ESG_JWS_ES512 = 9,
    ESG_JWS_EDDSA = 10,
    ESG_JWS_ALG_COUNT
} esg_jws_alg;

/* A set of JWS algorithms, one bit per esg_jws_alg; build it per use with ESG_JWS_ALG_BIT(). */
typedef uint32_t esg_jws_alg_set;

#define ESG_JWS_ALG_BIT(a) ((esg_jws_alg_set)1u << (unsigned)(a))
#define ESG_JWS_ALGS_RSA_PKCS1                                                                     \
    (ESG_JWS_ALG_BIT(ESG_JWS_RS256) | ESG_JWS_ALG_BIT(ESG_JWS_RS384) |                             \
     ESG_JWS_ALG_BIT(ESG_JWS_RS512))
#define ESG_JWS_ALGS_RSA_PSS                                                                       \
    (ESG_JWS_ALG_BIT(ESG_JWS_PS256) | ESG_JWS_ALG_BIT(ESG_JWS_PS384) |                             \
     ESG_JWS_ALG_BIT(ESG_JWS_PS512))
#define ESG_JWS_ALGS_ECDSA                                                                         \
    (ESG_JWS_ALG_BIT(ESG_JWS_ES256) | ESG_JWS_ALG_BIT(ESG_JWS_ES384) |                             \
     ESG_JWS_ALG_BIT(ESG_JWS_ES512))
/* Every algorithm this module implements. */
#define ESG_JWS_ALGS_ALL                                                                           \
    (ESG_JWS_ALGS_RSA_PKCS1 | ESG_JWS_ALGS_RSA_PSS | ESG_JWS_ALGS_ECDSA |                          \
     ESG_JWS_ALG_BIT(ESG_JWS_EDDSA))

/* JWE key management algorithms. */
typedef enum esg_jwe_alg {
    ESG_JWE_ALG_INVALID = 0,
    ESG_JWE_RSA_OAEP = 1,     /* RSAES-OAEP with SHA-1 and MGF1-SHA-1 */
    ESG_JWE_RSA_OAEP_256 = 2, /* RSAES-OAEP with SHA-256 and MGF1-SHA-256 */
    ESG_JWE_ALG_COUNT
} esg_jwe_alg;

/* JWE content encryption algorithms. */
typedef enum esg_jwe_enc {
    ESG_JWE_ENC_INVALID = 0,
    ESG_JWE_A128GCM = 1,
    ESG_JWE_A256GCM = 2,
    ESG_JWE_A128CBC_HS256 = 3,
    ESG_JWE_A256CBC_HS512 = 4,
    ESG_JWE_ENC_COUNT
} esg_jwe_enc;

/* Sets of JWE algorithms, one bit per enum value, like esg_jws_alg_set. */
typedef uint32_t esg_jwe_alg_set;
typedef uint32_t esg_jwe_enc_set;
#define ESG_JWE_ALG_BIT(a) ((esg_jwe_alg_set)1u << (unsigned)(a))
#define ESG_JWE_ENC_BIT(e) ((esg_jwe_enc_set)1u << (unsigned)(e))

/*
 * Maps a JWS "alg" value of `n` bytes to its identifier. Returns 0, or ESP_EINVAL for every name
 * this module does not implement (including "none" and the HMAC algorithms).
 */
int esg_jws_alg_from_name(const char *name, size_t n, esg_jws_alg *out);
/* Static name of a JWS algorithm ("RS256"), or NULL for an invalid value. */
const char *esg_jws_alg_name(esg_jws_alg alg);
/*
 * Parses a comma-separated list such as "RS256,ES256" into a set. Returns 0 or ESP_EINVAL (an
 * unknown name, or an empty list).
 */
int esg_jws_alg_set_parse(const char *list, esg_jws_alg_set *out);

/* Same for JWE "alg" and "enc" values: 0 or ESP_EINVAL. */
int esg_jwe_alg_from_name(const char *name, size_t n, esg_jwe_alg *out);
int esg_jwe_enc_from_name(const char *name, size_t n, esg_jwe_enc *out);
/* Static names, or NULL for invalid values. */
const char *esg_jwe_alg_name(esg_jwe_alg alg);
const char *esg_jwe_enc_name(esg_jwe_enc enc);
/* Content encryption key length in bytes for `enc` (16, 32 or 64); 0 for an invalid value. */
size_t esg_jwe_enc_key_len(esg_jwe_enc enc);

#endif
