/*
 * JSON Web Signature, compact serialization (RFC 7515), with the algorithms of jwa.h.
 *
 * Signing is split in three steps because the server's private keys live in key store plugins
 * that sign raw bytes:
 *   1. esg_jws_signing_input(): BASE64URL(header) "." BASE64URL(payload);
 *   2. esg_jws_sign_raw(): the signature in JOSE encoding (raw R||S for ECDSA), run by the key
 *      store next to its key;
 *   3. esg_jws_compact_append(): appends "." BASE64URL(signature).
 * esg_jws_sign() does all three with a local EVP_PKEY (tests, tools, in-process keys).
 *
 * Verification always pins the algorithm: the caller passes an allow-list and the key; the token
 * only chooses among the allowed algorithms, and the key's type must fit the one it chose. "none"
 * and HS256/384/512 are never implemented, so no allow-list can admit them. Parsing enforces
 * hard limits (token length, header length, number of header members, nesting), rejects
 * duplicate header members, a header that is not an object, any "crit" the caller did not declare
 * (RFC 7515 §4.1.11), "b64" (RFC 7797) unless explicitly allowed, and non-canonical base64url.
 * Keys embedded in the header ("jwk", "x5c") are never used implicitly; callers that bind such a
 * key (DPoP, OpenID4VCI proofs) get it with esg_jws_untrusted_jwk() or x5c.h and decide.
 *
 * Thread safety: every function is reentrant; an esg_jws belongs to one thread at a time. Keys
 * may be shared between threads.
 *
 * Status codes: 0; ESP_EINVAL for malformed input, an algorithm that is not implemented or not
 * allowed, a key that does not fit, a "crit" violation; ESP_EAUTH when the signature does not
 * verify; ESP_ETOOBIG beyond a size limit; ESP_ENOMEM; ESP_EINTERNAL when OpenSSL fails. A
 * static reason is stored in *reason when reason is not NULL; it never contains token bytes.
 */
#ifndef ESG_JOSE_JWS_H
#define ESG_JOSE_JWS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "jose/jwa.h"
#include "jose/jwk.h"
#include "util/buf.h"

/* Defaults of esg_jws_opts when a field is 0. */
#define ESG_JWS_DEFAULT_MAX_TOKEN  (64u * 1024u)
#define ESG_JWS_DEFAULT_MAX_HEADER (8u * 1024u)
/* Hard ceiling no option can raise. A header may also hold at most 64 members and array items
 * in total, nested at most 4 deep. */
#define ESG_JWS_MAX_TOKEN_LIMIT (1024u * 1024u)

/* esg_jws_opts.flags */
enum esg_jws_flags {
    /* Accept "b64": false (RFC 7797), which must then also be listed in "crit". */
    ESG_JWS_ALLOW_UNENCODED_PAYLOAD = 1u << 0,
};

/* What the caller accepts. Build one per use; all fields are borrowed during the call. */
typedef struct esg_jws_opts {
    esg_jws_alg_set algs;    /* allowed algorithms; 0 accepts nothing */
    const char *const *crit; /* NULL-terminated extension names understood in "crit", or NULL */
    unsigned flags;          /* esg_jws_flags */
    size_t max_token;        /* 0: ESG_JWS_DEFAULT_MAX_TOKEN; capped at ESG_JWS_MAX_TOKEN_LIMIT */
    size_t max_header;       /* encoded header bytes; 0: ESG_JWS_DEFAULT_MAX_HEADER */
} esg_jws_opts;

/* esg_jws.header_keys: key-carrying members present in the protected header. */
enum esg_jws_header_keys {
    ESG_JWS_HDR_JWK = 1u << 0,
    ESG_JWS_HDR_X5C = 1u << 1,
    ESG_JWS_HDR_KID = 1u << 2,
    ESG_JWS_HDR_JKU = 1u << 3, /* never fetched */
    ESG_JWS_HDR_X5U = 1u << 4, /* never fetched */
};

/*
 * A parsed compact JWS. Initialise with ESG_JWS_INIT (or zero it); release with esg_jws_clear().
 * `header` and the decoded bytes are owned by the struct; `signing_input` points into the token
 * passed to esg_jws_parse(), which must stay unchanged while the struct is used for
 * verification.
 */
typedef struct esg_jws {
    json_t *header;         /* the protected header, a JSON object */
    esg_jws_alg alg;        /* from "alg" */
    const char *kid;        /* "kid" (borrowed from header), NULL when absent */
    unsigned header_keys;   /* esg_jws_header_keys */
    const uint8_t *payload; /* decoded payload (raw bytes when "b64" is false) */
    size_t payload_len;
    const uint8_t *sig; /* decoded signature */
    size_t sig_len;
    const char *signing_input; /* token bytes before the second '.', borrowed */
    size_t signing_input_len;
    uint8_t *buf_; /* storage of payload and sig */
} esg_jws;

#define ESG_JWS_INIT                                                                               \
    {                                                                                              \
        NULL, ESG_JWS_ALG_INVALID, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL                        \
    }

/*
 * Parses `token` (`len` bytes, not necessarily NUL-terminated) and applies the header policy of
 * `opts` (algorithm allowed, crit, b64, limits). Does not verify the signature. On failure *out is
 * left cleared. Returns 0, ESP_EINVAL, ESP_ETOOBIG or ESP_ENOMEM.
 */
int esg_jws_parse(const char *token, size_t len, const esg_jws_opts *opts, esg_jws *out,
                  const char **reason);

/*
 * Verifies the signature of a parsed JWS with `key` (borrowed), whose type must fit the token's
 * algorithm, which must be in opts->algs. Returns 0, ESP_EINVAL (algorithm or key), ESP_EAUTH
 * (bad signature), ESP_ENOMEM or ESP_EINTERNAL.
 */
int esg_jws_verify_parsed(const esg_jws *jws, EVP_PKEY *key, const esg_jws_opts *opts,
                          const char **reason);

/*
 * esg_jws_parse() then esg_jws_verify_parsed(). On success *out holds the header and payload
 * (the caller clears it); on failure it is cleared. Returns as the two steps.
 */
int esg_jws_verify(const char *token, size_t len, EVP_PKEY *key, const esg_jws_opts *opts,
                   esg_jws *out, const char **reason);

/* Releases what a parse stored and zeroes the struct. Safe on a zeroed or cleared struct. */
void esg_jws_clear(esg_jws *jws);

/*
 * The "jwk" header member as a public key, for callers that bind it to something they trust
 * (a DPoP "jkt", a proof's binding). Never use it to verify the token without such a binding. A
 * "jwk" with private members is rejected. *out is freed with esg_jwk_free(). Returns 0,
 * ESP_ENOTFOUND (no "jwk"), ESP_EINVAL or ESP_ENOMEM.
 */
int esg_jws_untrusted_jwk(const esg_jws *jws, esg_jwk **out, const char **reason);

/*
 * Appends BASE64URL(compact JSON of `header`) "." BASE64URL(payload) to `out`. The header must
 * be an object with an "alg" string. Members keep their insertion order. Returns 0, ESP_EINVAL or
 * ESP_ENOMEM.
 */
int esg_jws_signing_input(const json_t *header, const void *payload, size_t n, esg_buf *out);

/*
 * Signs `data` (the signing input) with `pkey` (borrowed) for algorithm `alg` (a NUL-terminated
 * name such as "ES256") and appends the JOSE signature to `sig`: RSA the modulus size, ECDSA
 * R||S each padded to the curve size, EdDSA 64 bytes. The key must fit the algorithm. This is
 * what a key store runs. Returns 0, ESP_EINVAL (unknown algorithm, unfit key), ESP_ENOMEM or
 * ESP_EINTERNAL.
 */
int esg_jws_sign_raw(EVP_PKEY *pkey, const char *alg, const void *data, size_t n, esg_buf *sig);

/* Appends "." BASE64URL(sig) to `inout`, which holds the signing input. 0 or ESP_ENOMEM. */
int esg_jws_compact_append(esg_buf *inout, const void *sig, size_t n);

/*
 * All three steps with a local key: the algorithm is the header's "alg". Appends the compact JWS
 * to `out`. Returns as esg_jws_signing_input() and esg_jws_sign_raw().
 */
int esg_jws_sign(EVP_PKEY *pkey, const json_t *header, const void *payload, size_t n, esg_buf *out);

/*
 * Converts an ECDSA signature between DER (X9.62 Ecdsa-Sig-Value, what OpenSSL and most HSMs
 * produce) and JOSE (R||S, each exactly `coord_len` bytes: 32, 48 or 66).
 * esg_jws_ecdsa_der_to_raw() writes 2*coord_len bytes to `raw`; returns 0 or ESP_EINVAL.
 * esg_jws_ecdsa_raw_to_der() writes at most ESG_JWS_ECDSA_DER_MAX bytes to `der` and sets
 * *der_len; returns 0 or ESP_EINVAL (length not 64, 96 or 132).
 */
#define ESG_JWS_ECDSA_DER_MAX 144
int esg_jws_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t coord_len, uint8_t *raw);
int esg_jws_ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t *der, size_t *der_len);

#endif
