/*
 * The SMTP reply parser of notifier-smtp (plugins/notifier-smtp/smtp_reply.c, compiled in) fed
 * the input line by line, as the plugin feeds what a server sends. A reply that is accepted has
 * one valid code on every line, ends exactly once, and stays within the line limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/notifier-smtp/smtp_reply.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    smtp_reply r;
    smtp_reply_reset(&r);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && p[len - 1] == '\r')
            len--;
        int was_complete = r.complete;
        size_t lines = r.lines;
        int first = r.code;
        int rc = smtp_reply_line(&r, p, len);
        if (rc == 0) {
            if (was_complete || r.code < 200 || r.code > 559 || r.lines != lines + 1 ||
                r.lines > SMTP_MAX_LINES || (lines > 0 && r.code != first) ||
                strlen(r.text) >= sizeof(r.text))
                abort();
        } else if (rc != ESP_EINVAL || r.lines != lines) {
            abort();
        }
        /* A finished or broken reply: the next bytes start a new one, as in a session. */
        if (rc != 0 || r.complete)
            smtp_reply_reset(&r);
        p = nl ? nl + 1 : end;
    }
    return 0;
}
