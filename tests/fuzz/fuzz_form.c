/*
 * Strict form/query decoding and media-type parsing on arbitrary input. Byte 0 selects flags and
 * limits; the rest is the input. Accepted forms are checked against the guarantees of form.h:
 * non-empty, NUL-terminated, valid UTF-8 names without repeats, and values without NUL bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0] & 3;
    esg_form_limits small = {4, 8, 16, 64};
    const esg_form_limits *lim = (data[0] & 4) ? &small : NULL;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    esg_form f = ESG_FORM_INIT;
    char err[160];
    int rc = esg_form_parse(s, n, flags, lim, &f, err, sizeof(err));
    if (rc == 0) {
        for (size_t i = 0; i < f.n; i++) {
            const esg_form_param *p = &f.params[i];
            if (p->name_len == 0 || p->name[p->name_len] != '\0' || p->value[p->value_len] != '\0')
                abort();
            if (!esg_utf8_valid(p->name, p->name_len) || !esg_utf8_valid(p->value, p->value_len))
                abort();
            if ((flags & ESG_FORM_OMIT_EMPTY) && p->value_len == 0)
                abort();
            for (size_t k = 0; k < i; k++) {
                if (f.params[k].name_len == p->name_len &&
                    memcmp(f.params[k].name, p->name, p->name_len) == 0)
                    abort();
            }
            if (esg_form_value(&f, p->name) != p->value)
                abort();
        }
    } else if (rc != ESP_EINVAL || f.params != NULL || err[0] == '\0') {
        abort();
    }
    esg_form_free(&f);
    esg_http_media_type_is(s, n, "application/x-www-form-urlencoded");
    return 0;
}
