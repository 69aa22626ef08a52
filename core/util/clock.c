#include "clock.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <esignet/plugin.h>

#include "b64.h"

static _Atomic int64_t wall_offset_ms;
static _Atomic int64_t mono_offset_ms;
static _Atomic uint64_t test_seed;
static _Atomic uint64_t test_counter;

int64_t esg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&mono_offset_ms);
}

int64_t esg_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&wall_offset_ms);
}

int64_t esg_wall_s(void)
{
    return esg_wall_ms() / 1000;
}

void esg_clock_set_offset_ms(int64_t offset_ms)
{
    atomic_store(&wall_offset_ms, offset_ms);
    atomic_store(&mono_offset_ms, offset_ms);
}

void esg_time_format_iso(int64_t ms, char out[25])
{
    if (ms < 0)
        ms = 0; /* The format has no sign; times before the epoch are clamped to it. */
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    /* Years beyond 9999 cannot be written in this format; clamp rather than truncate. */
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    snprintf(out, 25, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", year, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000));
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int esg_time_parse_iso(const char *s, size_t n, int64_t *ms)
{
    int y, mo, d, h, mi, se, milli;
    if (n != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[23] != 'Z')
        return ESP_EINVAL;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se) ||
        digits(s + 20, 3, &milli))
        return ESP_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
        return ESP_EINVAL;
    /* The format carries request and response times; nothing before the epoch is meaningful,
     * and excluding it keeps every accepted value representable as a non-negative time. */
    if (y < 1970)
        return ESP_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return ESP_EINVAL;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + milli;
    return 0;
}

void esg_random_set_test_seed(uint64_t seed)
{
    atomic_store(&test_seed, seed);
    atomic_store(&test_counter, 0);
}

int esg_random(void *buf, size_t n)
{
    uint64_t seed = atomic_load(&test_seed);
    if (seed != 0) {
        /* Deterministic stream for tests: SHA-256(seed || counter) blocks. */
        unsigned char *p = buf;
        while (n > 0) {
            uint64_t in[2] = {seed, atomic_fetch_add(&test_counter, 1)};
            unsigned char md[32];
            unsigned int mdlen = 0;
            if (!EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha256(), NULL))
                return ESP_EINTERNAL;
            size_t k = n < sizeof(md) ? n : sizeof(md);
            memcpy(p, md, k);
            p += k;
            n -= k;
        }
        return 0;
    }
    while (n > 0) {
        int k = n > 1 << 20 ? 1 << 20 : (int)n;
        if (RAND_bytes(buf, k) != 1)
            return ESP_EINTERNAL;
        buf = (unsigned char *)buf + k;
        n -= (size_t)k;
    }
    return 0;
}

int esg_random_alnum(char *out, size_t n)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;
    while (i < n) {
        unsigned char r[64];
        if (esg_random(r, sizeof(r)) != 0)
            return ESP_EINTERNAL;
        for (size_t j = 0; j < sizeof(r) && i < n; j++) {
            /* Rejection sampling keeps the distribution uniform: 248 = 62 * 4. */
            if (r[j] < 248)
                out[i++] = alpha[r[j] % 62];
        }
    }
    out[n] = '\0';
    return 0;
}

int esg_random_token(char *out, size_t out_size, size_t nbytes)
{
    unsigned char r[64];
    if (nbytes > sizeof(r) || esg_b64url_encoded_len(nbytes) + 1 > out_size)
        return ESP_EINVAL;
    if (esg_random(r, nbytes) != 0)
        return ESP_EINTERNAL;
    esg_b64url_encode_to(r, nbytes, out);
    out[esg_b64url_encoded_len(nbytes)] = '\0';
    return 0;
}
