/* Small string helpers. */
#ifndef ESG_UTIL_STR_H
#define ESG_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>

#include <esignet/plugin.h>

/* Compares two byte strings in time that depends only on their lengths. 1 when equal. */
int esg_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* malloc()ed NUL-terminated copy of `n` bytes; NULL on failure. */
char *esg_strndup(const char *s, size_t n);
/* esp_str view of a NUL-terminated string (NULL gives an empty string). */
esp_str esg_str(const char *s);
/* 1 when `s` (length n) equals the NUL-terminated `lit`. */
int esg_str_eq(const char *s, size_t n, const char *lit);
/* 1 when every byte of s[0..n) is in [a-z0-9_-] and 1 <= n <= max. */
int esg_is_identifier(const char *s, size_t n, size_t max);
/* 1 when s[0..n) is valid UTF-8 without NUL bytes or overlong forms. */
int esg_utf8_valid(const char *s, size_t n);
/* Lower-case hex of `n` bytes into out (2n+1 bytes). */
void esg_hex(const void *in, size_t n, char *out);

#endif
