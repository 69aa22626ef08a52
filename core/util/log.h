/*
 * Structured logging: one JSON object per line on stderr, e.g.
 *   {"ts":"2026-11-25T20:37:34.123Z","level":"info","event":"http.request","status":200}
 *
 * Loop threads buffer their lines and flush once per loop iteration (esg_log_flush()), so a busy
 * server makes one write() per batch instead of one per request; each write holds whole lines.
 * Other threads write each line at once. Never pass secrets, tokens, OTPs or keys as values.
 */
#ifndef ESG_UTIL_LOG_H
#define ESG_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <esignet/plugin.h>

enum esg_log_kv_type { ESG_KV_STR_T, ESG_KV_INT_T, ESG_KV_DBL_T, ESG_KV_RAW_T };

/* One field of a log line. Strings are borrowed for the duration of the call. */
typedef struct esg_log_kv {
    const char *key;
    int type;
    const char *s; /* ESG_KV_STR_T text, or ESG_KV_RAW_T pre-encoded JSON */
    size_t n;
    int64_t i;
    double d;
} esg_log_kv;

#define ESG_KV_STR(k, v)       ((esg_log_kv){(k), ESG_KV_STR_T, (v), (size_t)-1, 0, 0})
#define ESG_KV_STRN(k, v, len) ((esg_log_kv){(k), ESG_KV_STR_T, (v), (len), 0, 0})
#define ESG_KV_INT(k, v)       ((esg_log_kv){(k), ESG_KV_INT_T, NULL, 0, (int64_t)(v), 0})
#define ESG_KV_DBL(k, v)       ((esg_log_kv){(k), ESG_KV_DBL_T, NULL, 0, 0, (double)(v)})

/* Sets the most verbose level written (ESP_LOG_ERROR .. ESP_LOG_DEBUG). [any] */
void esg_log_set_level(int level);
/* Parses "error", "warn", "info" or "debug"; -1 when unknown. */
int esg_log_level_parse(const char *s);
/* 1 when lines of `level` are written. [any] */
int esg_log_enabled(int level);

/* Writes one line with `event` and the fields. [any] */
void esg_log_event(int level, const char *event, const esg_log_kv *kv, size_t n);
/* Writes one line with `event` and a "msg" field formatted from `fmt`. [any] */
void esg_logf(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void esg_vlogf(int level, const char *event, const esg_log_kv *kv, size_t n, const char *fmt,
               va_list ap) __attribute__((format(printf, 5, 0)));

/* Turns buffering on or off for the calling thread (loop threads turn it on). */
void esg_log_set_buffered(int on);
/* Writes the calling thread's buffered lines. */
void esg_log_flush(void);
/* Tests only: sends lines to `fd` instead of stderr (2). */
void esg_log_set_fd(int fd);

#endif
