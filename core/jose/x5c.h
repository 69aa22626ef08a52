/*
 * X.509 certificate chains in JOSE (RFC 7515 §4.1.6, RFC 7517 §4.7): "x5c" decoding, chain
 * validation against a caller-supplied trust store, and the "x5t#S256" thumbprint.
 *
 * "x5u" and "jku" are never fetched anywhere in this module: a token cannot make the server open
 * a connection.
 *
 * Thread safety: reentrant. A chain (STACK_OF(X509)) belongs to one thread at a time; an
 * X509_STORE may be shared once it is no longer modified.
 *
 * Status codes: 0; ESP_EINVAL for malformed input or a chain that does not validate (with a static
 * reason); ESP_ETOOBIG beyond the limits; ESP_ENOMEM; ESP_EINTERNAL.
 */
#ifndef ESG_JOSE_X5C_H
#define ESG_JOSE_X5C_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#define ESG_X5C_DEFAULT_MAX_CERTS 10
#define ESG_X5C_MAX_CERT_B64      (16u * 1024u)

/*
 * Decodes an "x5c" value (borrowed): a non-empty array of standard, padded base64 DER
 * certificates, leaf first. At most `max_certs` (0 means ESG_X5C_DEFAULT_MAX_CERTS) certificates
 * of at most ESG_X5C_MAX_CERT_B64 characters each; every DER must be consumed exactly. *out is a
 * new stack the caller frees with esg_x5c_free(). Returns 0, ESP_EINVAL, ESP_ETOOBIG or
 * ESP_ENOMEM.
 */
int esg_x5c_decode(const json_t *x5c, size_t max_certs, STACK_OF(X509) * *out, const char **reason);

/* Frees a chain from esg_x5c_decode(); NULL is ignored. */
void esg_x5c_free(STACK_OF(X509) * chain);

/*
 * Validates `chain` (borrowed; element 0 is the leaf, the others untrusted intermediates) up to a
 * certificate of `trust` (borrowed) at time `at` (seconds since the epoch; 0 means now). On
 * success, when leaf_key is not NULL, *leaf_key is a new reference to the leaf's public key
 * (EVP_PKEY_free() it). Returns 0 or ESP_EINVAL ("certificate chain does not validate"; the
 * OpenSSL reason is logged at debug level), ESP_ENOMEM.
 */
int esg_x5c_verify(STACK_OF(X509) * chain, X509_STORE *trust, int64_t at, EVP_PKEY **leaf_key,
                   const char **reason);

/*
 * 0 when the leaf certificate of `chain` (borrowed) carries the same public key as `key`
 * (borrowed), ESP_EINVAL otherwise. Use it when a header has both "jwk" and "x5c".
 */
int esg_x5c_leaf_matches(STACK_OF(X509) * chain, const EVP_PKEY *key, const char **reason);

/*
 * For a JWK object (borrowed) that has an "x5c" member: 0 when the first certificate's key equals
 * the JWK's key (RFC 7517 §4.7), ESP_EINVAL otherwise; ESP_ENOTFOUND when there is no "x5c".
 * Does not validate the chain.
 */
int esg_x5c_check_jwk(const json_t *jwk, const char **reason);

/*
 * "x5t#S256" of a certificate (borrowed): base64url SHA-256 of its DER, 43 characters and a NUL
 * written to `out` (at least 44 bytes). Returns 0, ESP_EINVAL or ESP_EINTERNAL.
 */
int esg_x5c_thumbprint_s256(X509 *cert, char *out, size_t out_size);

#endif
