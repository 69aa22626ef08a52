/*
 * Strict application/x-www-form-urlencoded and query-string decoding. One allocation holds the
 * parameter array and every decoded string: decoding never grows a string, so the input length
 * plus one terminator per string bounds the memory.
 */
#include "http/form.h"

#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

#define DEF_MAX_PARAMS 64
#define DEF_MAX_NAME   64
#define DEF_MAX_VALUE  8192
#define DEF_MAX_INPUT  65536

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/*
 * Writes "<before>'<name>'<after>", quoting the parameter name only when it is short and made of
 * the characters OAuth parameter names use, so a reason never carries arbitrary client bytes;
 * otherwise writes `unnamed`.
 */
static void set_err_name(char *err, size_t errlen, const char *before, const char *after,
                         const char *unnamed, const char *name, size_t len)
{
    int plain = len > 0 && len <= 40;
    for (size_t i = 0; plain && i < len; i++) {
        char ch = name[i];
        plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                ch == '_' || ch == '-' || ch == '.';
    }
    if (err == NULL || errlen == 0)
        return;
    if (plain)
        snprintf(err, errlen, "%s'%.*s'%s", before, (int)len, name, after);
    else
        snprintf(err, errlen, "%s", unnamed);
}

static int hexv(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int esg_http_pct_decode(const char *raw, size_t n, unsigned flags, char *out, size_t *outlen)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)raw[i];
        if (ch == '%') {
            if (n - i < 3)
                return ESG_PCT_ESCAPE;
            int h1 = hexv((unsigned char)raw[i + 1]), h2 = hexv((unsigned char)raw[i + 2]);
            if (h1 < 0 || h2 < 0)
                return ESG_PCT_ESCAPE;
            ch = (unsigned char)(h1 << 4 | h2);
            if (ch == 0)
                return ESG_PCT_NUL;
            if (ch == '/' && (flags & ESG_PCT_NO_SLASH))
                return ESG_PCT_SLASH;
            i += 2;
        } else if (ch == '+' && (flags & ESG_PCT_PLUS)) {
            ch = ' ';
        } else if (ch < 0x20 || ch == 0x7f) {
            return ESG_PCT_CTRL;
        }
        out[k++] = (char)ch;
    }
    out[k] = '\0';
    *outlen = k;
    return esg_utf8_valid(out, k) ? ESG_PCT_OK : ESG_PCT_UTF8;
}

int esg_form_parse(const char *s, size_t n, unsigned flags, const esg_form_limits *lim,
                   esg_form *form, char *err, size_t errlen)
{
    size_t max_params = lim && lim->max_params ? lim->max_params : DEF_MAX_PARAMS;
    size_t max_name = lim && lim->max_name_len ? lim->max_name_len : DEF_MAX_NAME;
    size_t max_value = lim && lim->max_value_len ? lim->max_value_len : DEF_MAX_VALUE;
    size_t max_input = lim && lim->max_input ? lim->max_input : DEF_MAX_INPUT;
    unsigned pct = (flags & ESG_FORM_PLUS_SPACE) ? ESG_PCT_PLUS : 0;
    form->params = NULL;
    form->n = 0;
    form->mem = NULL;
    set_err(err, errlen, "");
    if (n == 0)
        return 0;
    if (s == NULL || n > max_input) {
        set_err(err, errlen, "too much parameter data");
        return ESP_EINVAL;
    }
    size_t pairs = 1;
    for (size_t i = 0; i < n; i++)
        pairs += s[i] == '&';
    if (pairs > max_params) {
        set_err(err, errlen, "too many parameters");
        return ESP_EINVAL;
    }
    char *mem = malloc(pairs * sizeof(esg_form_param) + n + 2 * pairs);
    if (mem == NULL) {
        set_err(err, errlen, "out of memory");
        return ESP_ENOMEM;
    }
    esg_form_param *params = (esg_form_param *)(void *)mem;
    char *out = mem + pairs * sizeof(esg_form_param);
    size_t np = 0, i = 0;
    int rc = ESP_EINVAL;
    while (i <= n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t end = amp != NULL ? (size_t)(amp - s) : n;
        const char *seg = s + i;
        size_t seglen = end - i;
        const char *eq = memchr(seg, '=', seglen);
        size_t nraw = eq != NULL ? (size_t)(eq - seg) : seglen;
        if (nraw == 0) {
            set_err(err, errlen, "empty parameter name");
            goto fail;
        }
        esg_form_param *p = &params[np];
        size_t len;
        int d = esg_http_pct_decode(seg, nraw, pct, out, &len);
        if (d != ESG_PCT_OK) {
            set_err(err, errlen,
                    d == ESG_PCT_ESCAPE ? "invalid percent-encoding in a parameter name"
                    : d == ESG_PCT_NUL  ? "NUL byte in a parameter name"
                    : d == ESG_PCT_CTRL ? "control character in a parameter name"
                                        : "invalid UTF-8 in a parameter name");
            goto fail;
        }
        if (len == 0) {
            set_err(err, errlen, "empty parameter name");
            goto fail;
        }
        if (len > max_name) {
            set_err(err, errlen, "parameter name too long");
            goto fail;
        }
        p->name = out;
        p->name_len = len;
        out += len + 1;
        const char *vraw = eq != NULL ? eq + 1 : seg + seglen;
        size_t vn = (size_t)(seg + seglen - vraw);
        d = esg_http_pct_decode(vraw, vn, pct, out, &len);
        if (d != ESG_PCT_OK) {
            static const char *const named[] = {
                "", "invalid percent-encoding in parameter ", "NUL byte in parameter ",
                "control character in parameter ", "invalid UTF-8 in parameter "};
            static const char *const unnamed[] = {
                "", "invalid percent-encoding in a parameter value",
                "NUL byte in a parameter value", "control character in a parameter value",
                "invalid UTF-8 in a parameter value"};
            set_err_name(err, errlen, named[d], "", unnamed[d], p->name, p->name_len);
            goto fail;
        }
        if (len > max_value) {
            set_err_name(err, errlen, "value of parameter ", " too long",
                         "parameter value too long", p->name, p->name_len);
            goto fail;
        }
        p->value = out;
        p->value_len = len;
        out += len + 1;
        i = end + 1;
        if (len == 0 && (flags & ESG_FORM_OMIT_EMPTY))
            continue;
        for (size_t k = 0; k < np; k++) {
            if (params[k].name_len == p->name_len &&
                memcmp(params[k].name, p->name, p->name_len) == 0) {
                set_err_name(err, errlen, "parameter ", " is repeated", "a parameter is repeated",
                             p->name, p->name_len);
                goto fail;
            }
        }
        np++;
    }
    form->params = params;
    form->n = np;
    form->mem = mem;
    return 0;
fail:
    free(mem);
    return rc;
}

void esg_form_free(esg_form *form)
{
    free(form->mem);
    form->params = NULL;
    form->n = 0;
    form->mem = NULL;
}

int esg_form_get(const esg_form *form, const char *name, esp_str *value)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < form->n; i++) {
        if (form->params[i].name_len == len && memcmp(form->params[i].name, name, len) == 0) {
            value->ptr = form->params[i].value;
            value->len = form->params[i].value_len;
            return 0;
        }
    }
    value->ptr = NULL;
    value->len = 0;
    return ESP_ENOTFOUND;
}

const char *esg_form_value(const esg_form *form, const char *name)
{
    esp_str v;
    return esg_form_get(form, name, &v) == 0 ? v.ptr : NULL;
}

int esg_http_req_query_form(const esg_http_req *req, unsigned flags, const esg_form_limits *lim,
                            esg_form *form, char *err, size_t errlen)
{
    esp_str q = esg_http_req_query(req);
    return esg_form_parse(q.ptr, q.len, flags, lim, form, err, errlen);
}

int esg_http_req_form(const esg_http_req *req, unsigned flags, const esg_form_limits *lim,
                      esg_form *form, char *err, size_t errlen)
{
    form->params = NULL;
    form->n = 0;
    form->mem = NULL;
    int rc = esg_http_req_content_type(req, "application/x-www-form-urlencoded", err, errlen);
    if (rc != 0)
        return rc;
    esp_str body = esg_http_req_body(req);
    return esg_form_parse(body.ptr, body.len, flags | ESG_FORM_PLUS_SPACE, lim, form, err, errlen);
}
