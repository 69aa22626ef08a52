/*
 * Clock and randomness. Both are replaceable so that tests can move time and make random values
 * repeatable; production code never calls time() or RAND_bytes() directly.
 */
#ifndef ESG_UTIL_CLOCK_H
#define ESG_UTIL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC, plus the test offset); never goes back. [any] */
int64_t esg_now_ms(void);
/* Wall-clock milliseconds since the epoch, plus the test offset. [any] */
int64_t esg_wall_ms(void);
/* Wall-clock seconds since the epoch. [any] */
int64_t esg_wall_s(void);
/*
 * Tests only: shifts esg_wall_ms() and esg_now_ms() by `offset_ms`, so expiry can be tested
 * without waiting. libuv timers (call deadlines, HTTP timeouts) are not affected.
 */
void esg_clock_set_offset_ms(int64_t offset_ms);

/* Formats `ms` as "yyyy-MM-ddTHH:mm:ss.SSSZ" (eSignet's envelope time) into out[25]; times
 * before the epoch are written as the epoch. */
void esg_time_format_iso(int64_t ms, char out[25]);
/*
 * Parses exactly "yyyy-MM-ddTHH:mm:ss.SSSZ" (years 1970 to 9999) into milliseconds since the
 * epoch. Returns 0 or ESP_EINVAL.
 */
int esg_time_parse_iso(const char *s, size_t n, int64_t *ms);

/* Fills `buf` with `n` bytes from the CSPRNG. Returns 0 or ESP_EINTERNAL. [any] */
int esg_random(void *buf, size_t n);
/* Writes `n` random characters from [A-Za-z0-9] and a NUL to `out` (n + 1 bytes). [any] */
int esg_random_alnum(char *out, size_t n);
/* Writes base64url of `nbytes` random bytes and a NUL to `out`. [any] */
int esg_random_token(char *out, size_t out_size, size_t nbytes);

/* Tests only: makes esg_random() deterministic (seeded counter) when `seed` is non-zero. */
void esg_random_set_test_seed(uint64_t seed);

#endif
