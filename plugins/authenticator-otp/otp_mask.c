#include "otp_mask.h"

#include <string.h>

/* Appends `n` copies of `c`; returns 0 when it does not fit (one byte is kept for the NUL). */
static int put_repeat(char *out, size_t size, size_t *at, char c, size_t n)
{
    if (*at + n >= size)
        return 0;
    memset(out + *at, c, n);
    *at += n;
    return 1;
}

static int put_bytes(char *out, size_t size, size_t *at, const char *s, size_t n)
{
    if (*at + n >= size)
        return 0;
    memcpy(out + *at, s, n);
    *at += n;
    return 1;
}

size_t otp_mask_email(const char *addr, size_t n, char *out, size_t size)
{
    const char *at_sign = addr != NULL ? memchr(addr, '@', n) : NULL;
    if (at_sign == NULL || at_sign == addr || size == 0)
        return 0;
    const char *domain = at_sign + 1;
    size_t dlen = n - (size_t)(domain - addr);
    /* The top-level domain stays readable; the name before it keeps only its ends. */
    size_t name_len = dlen;
    for (size_t i = dlen; i > 0; i--) {
        if (domain[i - 1] == '.') {
            name_len = i - 1;
            break;
        }
    }
    size_t at = 0;
    int ok = put_bytes(out, size, &at, addr, 1) && put_repeat(out, size, &at, '*', 3) &&
             put_bytes(out, size, &at, "@", 1);
    if (ok && name_len == 1)
        ok = put_repeat(out, size, &at, '*', 1);
    else if (ok && name_len == 2)
        ok = put_bytes(out, size, &at, domain, 1) && put_repeat(out, size, &at, '*', 1);
    else if (ok && name_len > 2)
        ok = put_bytes(out, size, &at, domain, 1) &&
             put_repeat(out, size, &at, '*', name_len - 2) &&
             put_bytes(out, size, &at, domain + name_len - 1, 1);
    ok = ok && put_bytes(out, size, &at, domain + name_len, dlen - name_len);
    if (!ok)
        return 0;
    out[at] = '\0';
    return at;
}

size_t otp_mask_phone(const char *num, size_t n, char *out, size_t size)
{
    if (n >= size || (n > 0 && num == NULL))
        return 0;
    size_t keep = n < 4 ? 0 : 4;
    memset(out, '*', n - keep);
    memcpy(out + n - keep, num + n - keep, keep);
    out[n] = '\0';
    return n;
}

size_t otp_mask_destination(const char *channel, size_t channel_len, const char *dest, size_t n,
                            char *out, size_t size)
{
    if (channel_len == 5 && memcmp(channel, "email", 5) == 0)
        return otp_mask_email(dest, n, out, size);
    return otp_mask_phone(dest, n, out, size);
}
