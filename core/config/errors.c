#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

void esg_config_errors_init(esg_config_errors *e)
{
    memset(e, 0, sizeof(*e));
    e->max = ESG_CONFIG_MAX_ERRORS;
}

int esg_config_errors_vadd(esg_config_errors *e, const char *file, uint32_t line, uint32_t col,
                           const char *fmt, va_list ap)
{
    int rc = 0;
    esg_buf msg = ESG_BUF_INIT;
    char *file_copy = NULL;
    size_t max = e->max ? e->max : ESG_CONFIG_MAX_ERRORS;

    if (e->count >= max) {
        e->dropped++;
        goto done;
    }
    rc = esg_buf_vprintf(&msg, fmt, ap);
    if (rc != 0)
        goto done;
    if (file != NULL) {
        file_copy = strdup(file);
        if (file_copy == NULL) {
            rc = ESP_ENOMEM;
            goto done;
        }
    }
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        esg_config_error *items = realloc(e->items, cap * sizeof(*items));
        if (items == NULL) {
            rc = ESP_ENOMEM;
            goto done;
        }
        e->items = items;
        e->cap = cap;
    }
    e->items[e->count].file = file_copy;
    e->items[e->count].line = line;
    e->items[e->count].col = col;
    e->items[e->count].message = esg_buf_steal(&msg, NULL);
    if (e->items[e->count].message == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    e->count++;
    file_copy = NULL;
done:
    free(file_copy);
    esg_buf_free(&msg);
    return rc;
}

int esg_config_errors_add(esg_config_errors *e, const char *file, uint32_t line, uint32_t col,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esg_config_errors_vadd(e, file, line, col, fmt, ap);
    va_end(ap);
    return rc;
}

size_t esg_config_errors_total(const esg_config_errors *e)
{
    return e->count + e->dropped;
}

int esg_config_errors_format(const esg_config_errors *e, esg_buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < e->count && rc == 0; i++) {
        const esg_config_error *err = &e->items[i];
        if (err->file != NULL && err->line > 0)
            rc = esg_buf_printf(out, "%s:%u:%u: %s\n", err->file, (unsigned)err->line,
                                (unsigned)err->col, err->message);
        else if (err->file != NULL)
            rc = esg_buf_printf(out, "%s: %s\n", err->file, err->message);
        else
            rc = esg_buf_printf(out, "%s\n", err->message);
    }
    if (rc == 0 && e->dropped > 0)
        rc = esg_buf_printf(out, "... and %zu more error%s\n", e->dropped,
                            e->dropped == 1 ? "" : "s");
    return rc;
}

int esg_config_quote(esg_buf *b, const char *s, size_t n)
{
    const size_t max = 64;
    size_t cut = n;
    int rc;

    if (n > max) {
        cut = max;
        /* Back off continuation bytes so that the cut never splits a UTF-8 sequence. */
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            cut--;
    }
    rc = esg_buf_putc(b, '"');
    if (rc == 0)
        rc = esg_buf_json_escape(b, s, cut);
    if (rc == 0)
        rc = esg_buf_puts(b, cut < n ? "...\"" : "\"");
    return rc;
}

void esg_config_errors_free(esg_config_errors *e)
{
    for (size_t i = 0; i < e->count; i++) {
        free(e->items[i].file);
        free(e->items[i].message);
    }
    free(e->items);
    e->items = NULL;
    e->count = 0;
    e->cap = 0;
    e->dropped = 0;
}
