/*
 * Base64 (RFC 4648 §4) and base64url without padding (RFC 4648 §5, as JOSE uses it, RFC 7515 §2).
 * Decoders are strict: characters outside the alphabet, whitespace, misplaced padding and
 * non-zero trailing bits are errors, so every encoded value has exactly one accepted form.
 */
#ifndef ESG_UTIL_B64_H
#define ESG_UTIL_B64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Length of the base64url encoding of `n` bytes (no padding). */
size_t esg_b64url_encoded_len(size_t n);
/* Largest decoded length of `n` encoded characters. */
size_t esg_b64_decoded_max(size_t n);

/* Writes the base64url encoding of `in` to `out` (esg_b64url_encoded_len(n) bytes, no NUL). */
void esg_b64url_encode_to(const void *in, size_t n, char *out);
/* Appends the base64url encoding of `in` to `b`. Returns 0 or ESP_ENOMEM. */
int esg_b64url_encode(esg_buf *b, const void *in, size_t n);
/* Appends padded standard base64 of `in` to `b`. Returns 0 or ESP_ENOMEM. */
int esg_b64_encode(esg_buf *b, const void *in, size_t n);

/*
 * Decodes unpadded base64url `in` into `out`, which has room for esg_b64_decoded_max(n) bytes;
 * sets *out_len. Returns 0 or ESP_EINVAL.
 */
int esg_b64url_decode_to(const char *in, size_t n, uint8_t *out, size_t *out_len);
/* Appends the decoding of unpadded base64url `in` to `b`. Returns 0, ESP_EINVAL or ESP_ENOMEM. */
int esg_b64url_decode(esg_buf *b, const char *in, size_t n);
/* Appends the decoding of padded standard base64 `in` to `b`. Returns 0, ESP_EINVAL, ESP_ENOMEM. */
int esg_b64_decode(esg_buf *b, const char *in, size_t n);

#endif
