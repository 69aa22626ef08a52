/*
 * A growable byte buffer. The buffer owns `data`; it is always NUL-terminated (the terminator is
 * not counted in `len`) once anything was appended, so text can be passed to C APIs directly.
 */
#ifndef ESG_UTIL_BUF_H
#define ESG_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct esg_buf {
    char *data;
    size_t len;
    size_t cap;
} esg_buf;

#define ESG_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for `extra` more bytes plus the terminator. Returns 0 or ESP_ENOMEM. */
int esg_buf_reserve(esg_buf *b, size_t extra);
/* Appends `n` bytes. Returns 0 or ESP_ENOMEM. */
int esg_buf_append(esg_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. Returns 0 or ESP_ENOMEM. */
int esg_buf_puts(esg_buf *b, const char *s);
/* Appends one byte. Returns 0 or ESP_ENOMEM. */
int esg_buf_putc(esg_buf *b, char c);
/* Appends printf-formatted text. Returns 0, ESP_ENOMEM or ESP_EINVAL (bad format). */
int esg_buf_printf(esg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int esg_buf_vprintf(esg_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends `s` as the inside of a JSON string (without the quotes), escaping as RFC 8259 says. */
int esg_buf_json_escape(esg_buf *b, const char *s, size_t n);
/*
 * Appends `s` percent-encoded for a URI query component: every byte except the RFC 3986
 * unreserved characters (A-Z a-z 0-9 - . _ ~) becomes %XX. Returns 0 or ESP_ENOMEM.
 */
int esg_buf_url_encode(esg_buf *b, const char *s, size_t n);
/* Empties the buffer but keeps its memory. */
void esg_buf_reset(esg_buf *b);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void esg_buf_free(esg_buf *b);
/* Like esg_buf_free() but overwrites the memory first (for secrets). */
void esg_buf_free_secret(esg_buf *b);
/* Transfers ownership of the data to the caller (free() it); the buffer becomes empty. */
char *esg_buf_steal(esg_buf *b, size_t *len);

#endif
