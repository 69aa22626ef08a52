#include "b64.h"

#include <esignet/plugin.h>

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t esg_b64url_encoded_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t esg_b64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

static void encode(const uint8_t *in, size_t n, char *out, const char *alpha, int pad)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (pad) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        if (pad)
            out[o++] = '=';
    }
}

void esg_b64url_encode_to(const void *in, size_t n, char *out)
{
    encode(in, n, out, url_alphabet, 0);
}

int esg_b64url_encode(esg_buf *b, const void *in, size_t n)
{
    size_t len = esg_b64url_encoded_len(n);
    int rc = esg_buf_reserve(b, len);
    if (rc != 0)
        return rc;
    encode(in, n, b->data + b->len, url_alphabet, 0);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int esg_b64_encode(esg_buf *b, const void *in, size_t n)
{
    size_t len = (n + 2) / 3 * 4;
    int rc = esg_buf_reserve(b, len);
    if (rc != 0)
        return rc;
    encode(in, n, b->data + b->len, std_alphabet, 1);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static int value_of(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static int decode(const char *in, size_t n, uint8_t *out, size_t *out_len, int url)
{
    size_t o = 0;
    if (!url) {
        /* Standard base64 must be padded to a multiple of 4 with at most two '='. */
        if (n % 4 != 0)
            return ESP_EINVAL;
        if (n >= 1 && in[n - 1] == '=')
            n--;
        if (n >= 1 && in[n - 1] == '=')
            n--;
    }
    if (n % 4 == 1)
        return ESP_EINVAL;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value_of((unsigned char)in[i], url);
        if (v < 0)
            return ESP_EINVAL;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, otherwise two encodings would decode to the same bytes. */
    if (acc != 0)
        return ESP_EINVAL;
    *out_len = o;
    return 0;
}

int esg_b64url_decode_to(const char *in, size_t n, uint8_t *out, size_t *out_len)
{
    return decode(in, n, out, out_len, 1);
}

static int decode_buf(esg_buf *b, const char *in, size_t n, int url)
{
    int rc = esg_buf_reserve(b, esg_b64_decoded_max(n));
    if (rc != 0)
        return rc;
    size_t got = 0;
    rc = decode(in, n, (uint8_t *)b->data + b->len, &got, url);
    if (rc != 0) {
        b->data[b->len] = '\0';
        return rc;
    }
    b->len += got;
    b->data[b->len] = '\0';
    return 0;
}

int esg_b64url_decode(esg_buf *b, const char *in, size_t n)
{
    return decode_buf(b, in, n, 1);
}

int esg_b64_decode(esg_buf *b, const char *in, size_t n)
{
    return decode_buf(b, in, n, 0);
}
