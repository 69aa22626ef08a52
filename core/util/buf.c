#include "buf.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

int esg_buf_reserve(esg_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return ESP_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return ESP_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int esg_buf_append(esg_buf *b, const void *p, size_t n)
{
    int rc = esg_buf_reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int esg_buf_puts(esg_buf *b, const char *s)
{
    return esg_buf_append(b, s, strlen(s));
}

int esg_buf_putc(esg_buf *b, char c)
{
    return esg_buf_append(b, &c, 1);
}

int esg_buf_vprintf(esg_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, copy);
    va_end(copy);
    if (n < 0)
        return ESP_EINVAL;
    if ((size_t)n < sizeof(small))
        return esg_buf_append(b, small, (size_t)n);
    int rc = esg_buf_reserve(b, (size_t)n);
    if (rc != 0)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int esg_buf_printf(esg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esg_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int esg_buf_json_escape(esg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    int rc = esg_buf_reserve(b, n);
    if (rc != 0)
        return rc;
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (esc != NULL) {
            if ((rc = esg_buf_append(b, s + start, i - start)) != 0 ||
                (rc = esg_buf_puts(b, esc)) != 0)
                return rc;
            start = i + 1;
        }
    }
    return esg_buf_append(b, s + start, n - start);
}

int esg_buf_url_encode(esg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = esg_buf_reserve(b, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            rc = esg_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = esg_buf_append(b, e, 3);
        }
    }
    return rc;
}

void esg_buf_reset(esg_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void esg_buf_free(esg_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void esg_buf_free_secret(esg_buf *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->cap);
    esg_buf_free(b);
}

char *esg_buf_steal(esg_buf *b, size_t *len)
{
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    if (p == NULL) {
        p = calloc(1, 1);
        if (len != NULL)
            *len = 0;
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
