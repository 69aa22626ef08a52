/*
 * JSON Web Encryption, compact serialization (RFC 7516), with RSA-OAEP and RSA-OAEP-256 key
 * transport and A128GCM, A256GCM, A128CBC-HS256 and A256CBC-HS512 content encryption.
 *
 * Decryption is split so that the RSA private key can stay in a key store plugin:
 *   1. esg_jwe_parse(): header policy (allow-lists for "alg" and "enc", "crit", no "zip") and the
 *      five parts, decoded; `encrypted_key` is what the key store decrypts;
 *   2. the key store (or esg_jwe_unwrap_cek() with a local key) recovers the CEK;
 *   3. esg_jwe_decrypt_content(): checks the tag and decrypts.
 * esg_jwe_decrypt() runs all three with a local key.
 *
 * Failures after parsing are uniform: a wrong key, a corrupted encrypted key, a CEK of the wrong
 * length, a tampered header, IV, ciphertext or tag all give ESP_EAUTH with the same reason, and
 * an RSA-OAEP failure continues with a random CEK so that the work done does not tell the
 * attacker which step failed (RFC 7516 §11.5, Manger's attack on OAEP). The failing step is
 * logged only at debug level. Tags are checked in constant time (GCM in OpenSSL; CRYPTO_memcmp
 * for CBC-HMAC, before any CBC decryption). CEKs are wiped after use.
 *
 * Thread safety: reentrant; an esg_jwe belongs to one thread at a time; keys may be shared.
 *
 * Status codes: 0; ESP_EINVAL for malformed input or an algorithm not allowed (decided from the
 * public parts only); ESP_EAUTH for every decryption failure; ESP_ETOOBIG beyond a size limit;
 * ESP_ENOMEM; ESP_EINTERNAL (random generator or OpenSSL failure on valid input).
 */
#ifndef ESG_JOSE_JWE_H
#define ESG_JOSE_JWE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "jose/jwa.h"
#include "util/buf.h"

#define ESG_JWE_DEFAULT_MAX_TOKEN  (256u * 1024u)
#define ESG_JWE_DEFAULT_MAX_HEADER (8u * 1024u)
#define ESG_JWE_MAX_TOKEN_LIMIT    (4u * 1024u * 1024u)
/* Largest CEK of any supported "enc" (A256CBC-HS512). */
#define ESG_JWE_MAX_CEK 64

/* What the caller accepts. All fields are borrowed during the call. */
typedef struct esg_jwe_opts {
    esg_jwe_alg_set algs;    /* allowed key management algorithms; 0 accepts nothing */
    esg_jwe_enc_set encs;    /* allowed content encryption algorithms; 0 accepts nothing */
    const char *const *crit; /* NULL-terminated extension names understood in "crit", or NULL */
    size_t max_token;        /* 0: ESG_JWE_DEFAULT_MAX_TOKEN; capped at ESG_JWE_MAX_TOKEN_LIMIT */
    size_t max_header;       /* encoded header bytes; 0: ESG_JWE_DEFAULT_MAX_HEADER */
} esg_jwe_opts;

/*
 * A parsed compact JWE. Initialise by zeroing; release with esg_jwe_clear(). `header` and the
 * decoded parts are owned; `aad` points into the token passed to esg_jwe_parse(), which must stay
 * unchanged until decryption is done.
 */
typedef struct esg_jwe {
    json_t *header; /* the protected header, a JSON object */
    esg_jwe_alg alg;
    esg_jwe_enc enc;
    const char *kid; /* borrowed from header, NULL when absent */
    const uint8_t *encrypted_key;
    size_t encrypted_key_len;
    const uint8_t *iv;
    size_t iv_len;
    const uint8_t *ciphertext;
    size_t ciphertext_len;
    const uint8_t *tag;
    size_t tag_len;
    const char *aad; /* ASCII(BASE64URL(protected header)), borrowed from the token */
    size_t aad_len;
    uint8_t *buf_; /* storage of the decoded parts */
} esg_jwe;

/*
 * Parses `token` (`len` bytes) and applies the header policy of `opts`. Returns 0, ESP_EINVAL,
 * ESP_ETOOBIG or ESP_ENOMEM with *reason; on failure *out is left cleared.
 */
int esg_jwe_parse(const char *token, size_t len, const esg_jwe_opts *opts, esg_jwe *out,
                  const char **reason);

/* Releases what a parse stored and zeroes the struct. Safe on a zeroed struct. */
void esg_jwe_clear(esg_jwe *jwe);

/*
 * Recovers the CEK with a local RSA private key (borrowed) into `cek` (ESG_JWE_MAX_CEK bytes).
 * Always writes esg_jwe_enc_key_len(jwe->enc) bytes to *cek_len: when RSA-OAEP fails or yields a
 * CEK of the wrong length, a random CEK takes its place, so the failure only shows later, as the
 * same ESP_EAUTH every other failure gives. Returns 0, ESP_EINVAL (not an RSA key of at least 2048
 * bits) or ESP_EINTERNAL (no randomness).
 */
int esg_jwe_unwrap_cek(const esg_jwe *jwe, EVP_PKEY *key, uint8_t *cek, size_t *cek_len);

/*
 * Checks the tag and decrypts with `cek` (borrowed; `cek_len` must be the length "enc" needs),
 * appending the plaintext to `out`. Pass cek == NULL when a key store failed to unwrap the CEK:
 * the same work is done with a random key and the same error results. Returns 0, ESP_EAUTH,
 * ESP_ENOMEM or ESP_EINTERNAL. On failure nothing is appended.
 */
int esg_jwe_decrypt_content(const esg_jwe *jwe, const uint8_t *cek, size_t cek_len, esg_buf *out,
                            const char **reason);

/*
 * Parses, unwraps with `key` and decrypts, appending the plaintext to `out`. When `header` is not
 * NULL, it receives a new reference to the protected header on success (json_decref() it).
 * Returns as the three steps.
 */
int esg_jwe_decrypt(const char *token, size_t len, EVP_PKEY *key, const esg_jwe_opts *opts,
                    esg_buf *out, json_t **header, const char **reason);

/*
 * Encrypts `n` bytes to the RSA public key `key` (borrowed) and appends the compact JWE to `out`.
 * The protected header is {"alg", "enc"} followed by the members of `extra` (borrowed, may be
 * NULL) in their order, e.g. "kid", "cty": "JWT", "typ"; `extra` may not set "alg", "enc" or
 * "zip". Returns 0, ESP_EINVAL, ESP_ENOMEM or ESP_EINTERNAL.
 */
int esg_jwe_encrypt(EVP_PKEY *key, esg_jwe_alg alg, esg_jwe_enc enc, const json_t *extra,
                    const void *plaintext, size_t n, esg_buf *out);

/*
 * Like esg_jwe_encrypt() with a caller-chosen CEK and IV (`iv_len` 12 for GCM, 16 for CBC). For
 * tests against published vectors only: a CEK and IV pair must never be used twice.
 */
int esg_jwe_encrypt_with_cek(EVP_PKEY *key, esg_jwe_alg alg, esg_jwe_enc enc, const json_t *extra,
                             const uint8_t *cek, size_t cek_len, const uint8_t *iv, size_t iv_len,
                             const void *plaintext, size_t n, esg_buf *out);

#endif
