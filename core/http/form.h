/*
 * Strict decoding of query strings and application/x-www-form-urlencoded bodies into a small
 * parameter list.
 *
 * Strict means that every input has at most one meaning: a bad percent escape, a decoded NUL,
 * invalid UTF-8, a raw control character, an empty parameter name (which includes "a=1&&b=2"
 * and a trailing '&') and a repeated parameter name (RFC 6749 §3.1: "Request and response
 * parameters MUST NOT be included more than once") are all errors. Each error comes with a reason
 * fit for an OAuth error_description; it names the parameter when its name is short printable
 * ASCII, and never quotes a value.
 *
 * Threads: [any]; a form is owned by one thread at a time.
 */
#ifndef ESG_HTTP_FORM_H
#define ESG_HTTP_FORM_H

#include <stddef.h>

#include <esignet/plugin.h>

#include "http/request.h"

/* '+' decodes to a space. Form bodies and OAuth query strings (RFC 6749 Appendix B) use it. */
#define ESG_FORM_PLUS_SPACE 0x1u
/*
 * A parameter with an empty value is dropped, as if it were absent (RFC 6749 §3.1: "Parameters
 * sent without a value MUST be treated as if they were omitted"). Repetition is checked after
 * dropping, so "a=&a=1" is a single a=1.
 */
#define ESG_FORM_OMIT_EMPTY 0x2u

/* Bounds; a zero field takes the default in brackets. */
typedef struct esg_form_limits {
    size_t max_params;    /* [64] name=value pairs */
    size_t max_name_len;  /* [64] decoded bytes */
    size_t max_value_len; /* [8192] decoded bytes */
    size_t max_input;     /* [65536] encoded bytes of the whole input */
} esg_form_limits;

/* One decoded parameter. Both strings are NUL-terminated and owned by the form. */
typedef struct esg_form_param {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} esg_form_param;

/* A parsed form. Initialise with ESG_FORM_INIT; release with esg_form_free(). */
typedef struct esg_form {
    esg_form_param *params; /* in input order */
    size_t n;
    void *mem; /* single allocation holding params and strings */
} esg_form;

#define ESG_FORM_INIT                                                                              \
    {                                                                                              \
        NULL, 0, NULL                                                                              \
    }

/*
 * Parses s[0..n) (without a leading '?'). An empty input gives zero parameters. On success *form
 * (which must be empty) owns the result. On failure *form stays empty and err[0..errlen) holds
 * the reason. Returns 0, ESP_EINVAL or ESP_ENOMEM.
 */
int esg_form_parse(const char *s, size_t n, unsigned flags, const esg_form_limits *lim,
                   esg_form *form, char *err, size_t errlen);

/* Releases the form's memory; it is empty and reusable afterwards. */
void esg_form_free(esg_form *form);

/* Value of parameter `name` (NUL-terminated, owned by the form), or NULL when absent. */
const char *esg_form_value(const esg_form *form, const char *name);

/* Same as esg_form_value() with the length. Returns 0 or ESP_ENOTFOUND. */
int esg_form_get(const esg_form *form, const char *name, esp_str *value);

/*
 * Parses the query string of a request (esg_http_req_query()). Same flags, limits and errors as
 * esg_form_parse(). [loop]
 */
int esg_http_req_query_form(const esg_http_req *req, unsigned flags, const esg_form_limits *lim,
                            esg_form *form, char *err, size_t errlen);

/*
 * Parses the body of a request as application/x-www-form-urlencoded: the request must have
 * exactly one Content-Type header with that media type (a charset parameter must be UTF-8).
 * ESG_FORM_PLUS_SPACE is always applied. Same errors as esg_form_parse(). [loop]
 */
int esg_http_req_form(const esg_http_req *req, unsigned flags, const esg_form_limits *lim,
                      esg_form *form, char *err, size_t errlen);

#endif
