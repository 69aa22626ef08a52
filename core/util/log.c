#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

static _Atomic int max_level = ESP_LOG_INFO;
static _Atomic int out_fd = 2;
static _Thread_local esg_buf tl_buf;
static _Thread_local int tl_buffered;

/* Lines beyond this size are flushed at once even on loop threads. */
#define FLUSH_AT 16384

static const char *level_names[] = {"error", "warn", "info", "debug"};

void esg_log_set_level(int level)
{
    if (level < ESP_LOG_ERROR)
        level = ESP_LOG_ERROR;
    if (level > ESP_LOG_DEBUG)
        level = ESP_LOG_DEBUG;
    atomic_store(&max_level, level);
}

int esg_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0)
            return i;
    }
    return -1;
}

int esg_log_enabled(int level)
{
    return level <= atomic_load(&max_level);
}

void esg_log_set_fd(int fd)
{
    atomic_store(&out_fd, fd);
}

static void write_all(const char *p, size_t n)
{
    int fd = atomic_load(&out_fd);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* Nowhere left to report a failing log. */
        }
        p += w;
        n -= (size_t)w;
    }
}

void esg_log_flush(void)
{
    if (tl_buf.len > 0) {
        write_all(tl_buf.data, tl_buf.len);
        esg_buf_reset(&tl_buf);
    }
}

void esg_log_set_buffered(int on)
{
    if (!on)
        esg_log_flush();
    tl_buffered = on;
    if (!on)
        esg_buf_free(&tl_buf);
}

static void put_kv(esg_buf *b, const esg_log_kv *kv)
{
    esg_buf_puts(b, ",\"");
    esg_buf_puts(b, kv->key);
    esg_buf_puts(b, "\":");
    switch (kv->type) {
    case ESG_KV_STR_T: {
        const char *s = kv->s ? kv->s : "";
        size_t n = kv->n == (size_t)-1 ? strlen(s) : kv->n;
        esg_buf_putc(b, '"');
        esg_buf_json_escape(b, s, n);
        esg_buf_putc(b, '"');
        break;
    }
    case ESG_KV_INT_T:
        esg_buf_printf(b, "%lld", (long long)kv->i);
        break;
    case ESG_KV_DBL_T:
        esg_buf_printf(b, "%.3f", kv->d);
        break;
    default:
        esg_buf_append(b, kv->s, kv->n == (size_t)-1 ? strlen(kv->s) : kv->n);
        break;
    }
}

static void emit(int level, const char *event, const esg_log_kv *kv, size_t n, const esg_buf *msg)
{
    esg_buf local = ESG_BUF_INIT;
    esg_buf *b = tl_buffered ? &tl_buf : &local;
    size_t start = b->len;
    char ts[25];
    esg_time_format_iso(esg_wall_ms(), ts);
    esg_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":\"", ts, level_names[level]);
    esg_buf_json_escape(b, event, strlen(event));
    esg_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++)
        put_kv(b, &kv[i]);
    if (msg != NULL) {
        esg_buf_puts(b, ",\"msg\":\"");
        esg_buf_json_escape(b, msg->data ? msg->data : "", msg->len);
        esg_buf_putc(b, '"');
    }
    if (esg_buf_puts(b, "}\n") != 0) {
        /* Out of memory part-way: drop the partial line rather than emit broken JSON. */
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
    }
    if (b == &local) {
        write_all(local.data, local.len);
        esg_buf_free(&local);
    } else if (b->len >= FLUSH_AT || level == ESP_LOG_ERROR) {
        esg_log_flush();
    }
}

void esg_vlogf(int level, const char *event, const esg_log_kv *kv, size_t n, const char *fmt,
               va_list ap)
{
    if (!esg_log_enabled(level))
        return;
    esg_buf msg = ESG_BUF_INIT;
    esg_buf_vprintf(&msg, fmt, ap);
    emit(level, event, kv, n, &msg);
    esg_buf_free(&msg);
}

void esg_log_event(int level, const char *event, const esg_log_kv *kv, size_t n)
{
    if (esg_log_enabled(level))
        emit(level, event, kv, n, NULL);
}

void esg_logf(int level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esg_vlogf(level, event, NULL, 0, fmt, ap);
    va_end(ap);
}
