/* Strict JSON request bodies: size and depth checked by a linear scan, then jansson. */
#include "http/json_body.h"

#include <stdio.h>

#define DEF_MAX_BYTES ((size_t)1 << 20)
#define DEF_MAX_DEPTH 32

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/*
 * Deepest nesting of objects and arrays, counting only brackets outside strings. Malformed input
 * gives some number; jansson rejects it afterwards anyway.
 */
static size_t max_depth(const char *s, size_t n, size_t limit)
{
    size_t depth = 0, deepest = 0;
    int in_str = 0, esc = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (ch == '\\')
                esc = 1;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            if (++depth > deepest)
                deepest = depth;
            if (deepest > limit)
                return deepest;
        } else if ((ch == '}' || ch == ']') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

int esg_json_parse(const char *data, size_t n, const esg_json_limits *lim, json_t **out, char *err,
                   size_t errlen)
{
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEF_MAX_BYTES;
    size_t limit = lim && lim->max_depth ? lim->max_depth : DEF_MAX_DEPTH;
    unsigned top = lim && lim->top ? lim->top : ESG_JSON_TOP_OBJECT;
    json_error_t e;
    *out = NULL;
    set_err(err, errlen, "");
    if (data == NULL || n == 0) {
        set_err(err, errlen, "empty JSON body");
        return ESP_EINVAL;
    }
    if (n > max_bytes) {
        set_err(err, errlen, "JSON body too large");
        return ESP_EINVAL;
    }
    if (max_depth(data, n, limit) > limit) {
        set_err(err, errlen, "JSON nested too deeply");
        return ESP_EINVAL;
    }
    json_t *j = json_loadb(data, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
    if (j == NULL) {
        switch (json_error_code(&e)) {
        case json_error_out_of_memory:
            set_err(err, errlen, "out of memory");
            return ESP_ENOMEM;
        case json_error_duplicate_key:
            set_err(err, errlen, "duplicate member name in a JSON object");
            break;
        case json_error_invalid_utf8:
            set_err(err, errlen, "invalid UTF-8 in JSON");
            break;
        case json_error_null_character:
        case json_error_null_byte_in_key:
            set_err(err, errlen, "NUL character in a JSON string");
            break;
        case json_error_numeric_overflow:
            set_err(err, errlen, "JSON number out of range");
            break;
        case json_error_premature_end_of_input:
            set_err(err, errlen, "truncated JSON");
            break;
        case json_error_end_of_input_expected:
            set_err(err, errlen, "unexpected data after the JSON value");
            break;
        default:
            if (err != NULL && errlen > 0)
                snprintf(err, errlen, "malformed JSON at line %d, column %d", e.line, e.column);
            break;
        }
        return ESP_EINVAL;
    }
    unsigned kind = json_is_object(j)  ? ESG_JSON_TOP_OBJECT
                    : json_is_array(j) ? ESG_JSON_TOP_ARRAY
                                       : 0x4u;
    if (!(kind & top)) {
        set_err(err, errlen,
                top == ESG_JSON_TOP_OBJECT  ? "JSON body must be an object"
                : top == ESG_JSON_TOP_ARRAY ? "JSON body must be an array"
                                            : "unexpected JSON type");
        json_decref(j);
        return ESP_EINVAL;
    }
    *out = j;
    return 0;
}

int esg_http_req_json(const esg_http_req *req, const esg_json_limits *lim, json_t **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    int rc = esg_http_req_content_type(req, "application/json", err, errlen);
    if (rc != 0)
        return rc;
    esp_str body = esg_http_req_body(req);
    return esg_json_parse(body.ptr, body.len, lim, out, err, errlen);
}
