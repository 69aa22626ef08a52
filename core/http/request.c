/*
 * Request accessors and the work done once a request head is parsed: NUL-terminating the spans
 * in place, decoding the target into a routable path, choosing the request id.
 */
#include "http/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

static const char *const method_names[ESG_HTTP_METHOD_COUNT] = {
    "-", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
};

const char *esg_http_method_name(int method)
{
    if (method <= 0 || method >= ESG_HTTP_METHOD_COUNT)
        return "-";
    return method_names[method];
}

void esg_http_req_reset(esg_http_req *req)
{
    esg_http_conn *c = req->conn;
    memset(req, 0, sizeof(*req));
    req->conn = c;
    req->target = req->query = ESG_HDR_EMPTY;
    req->path = "";
    req->body_kind = ESG_BODY_NONE;
}

static esp_str span(const esg_http_conn *c, uint32_t off, uint32_t len)
{
    esp_str s = {"", 0};
    if (off != ESG_HDR_EMPTY && len > 0) {
        s.ptr = c->rbuf + off;
        s.len = len;
    }
    return s;
}

/* Headers, target and query are readable once the head is complete (see head_ok). */
static int head_ok(const esg_http_req *req)
{
    const esg_http_conn *c = req->conn;
    return c->keep > 0;
}

/* 1 when one segment of a path is "." or "..". */
static int has_dot_segment(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* p[i] is '/'; the segment runs to the next '/'. */
        size_t j = i + 1;
        while (j < n && p[j] != '/')
            j++;
        size_t len = j - i - 1;
        if ((len == 1 && p[i + 1] == '.') || (len == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
            return 1;
        i = j;
    }
    return 0;
}

/*
 * Splits the target into path and query and decodes the path. Origin form ("/a?b") and absolute
 * form ("http://host/a?b", RFC 9112 §3.2.2) are accepted; the asterisk and authority forms only
 * belong to OPTIONS * and CONNECT, which no route serves.
 */
static int decode_target(esg_http_conn *c, const char **desc)
{
    esg_http_req *req = &c->req;
    const char *t = c->rbuf + req->target;
    size_t n = req->target_len;
    size_t i;

    *desc = "malformed request target";
    if (req->target == ESG_HDR_EMPTY || n == 0)
        return 400;
    if (t[0] == '/') {
        i = 0;
    } else {
        size_t s;
        if (n > 7 && strncasecmp(t, "http://", 7) == 0)
            s = 7;
        else if (n > 8 && strncasecmp(t, "https://", 8) == 0)
            s = 8;
        else
            return 400;
        i = s;
        while (i < n && t[i] != '/' && t[i] != '?')
            i++;
        if (i == s)
            return 400;
    }
    if (memchr(t, '#', n) != NULL)
        return 400;
    const char *q = memchr(t + i, '?', n - i);
    size_t path_end = q != NULL ? (size_t)(q - t) : n;
    if (q != NULL) {
        req->query = (uint32_t)(q + 1 - c->rbuf);
        req->query_len = (uint32_t)(n - path_end - 1);
    }
    const char *raw = t + i;
    size_t rawlen = path_end - i;
    if (rawlen == 0) {
        /* Absolute form without a path: RFC 9112 §3.2.2 makes it "/". */
        req->path = "/";
        req->path_len = 1;
        return 0;
    }
    if (memchr(raw, '%', rawlen) == NULL) {
        if (has_dot_segment(raw, rawlen)) {
            *desc = "dot segments are not accepted in the path";
            return 400;
        }
        if (q == NULL) {
            /* The target's own terminator ends the path: nothing to copy. */
            req->path = raw;
            req->path_len = rawlen;
            return 0;
        }
        esg_buf_reset(&c->scratch);
        if (esg_buf_append(&c->scratch, raw, rawlen) != 0) {
            *desc = "out of memory";
            return 500;
        }
        req->path = c->scratch.data;
        req->path_len = rawlen;
        return 0;
    }
    esg_buf_reset(&c->scratch);
    if (esg_buf_reserve(&c->scratch, rawlen) != 0) {
        *desc = "out of memory";
        return 500;
    }
    char *out = c->scratch.data;
    size_t k;
    switch (esg_http_pct_decode(raw, rawlen, ESG_PCT_NO_SLASH, out, &k)) {
    case ESG_PCT_OK:
        break;
    case ESG_PCT_NUL:
        *desc = "NUL byte in the path";
        return 400;
    case ESG_PCT_SLASH:
        *desc = "encoded '/' in the path";
        return 400;
    case ESG_PCT_UTF8:
        *desc = "invalid UTF-8 in the path";
        return 400;
    default:
        *desc = "invalid percent-encoding in the path";
        return 400;
    }
    c->scratch.len = k;
    if (has_dot_segment(out, k)) {
        *desc = "dot segments are not accepted in the path";
        return 400;
    }
    req->path = out;
    req->path_len = k;
    return 0;
}

static int reqid_valid(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

int esg_http_req_head_done(esg_http_conn *c, const char **desc)
{
    esg_http_req *req = &c->req;
    uint32_t keep = 1;
    /*
     * Every span is followed by a byte llhttp has already consumed (':' after a name, CR or
     * whitespace after a value, SP after the target), so it can hold the terminator.
     */
    for (uint32_t i = 0; i < req->nhdrs; i++) {
        esg_http_hdr *h = &c->hdrs[i];
        c->rbuf[h->name + h->name_len] = '\0';
        if (h->name + h->name_len + 1 > keep)
            keep = h->name + h->name_len + 1;
        if (h->value == ESG_HDR_EMPTY)
            continue;
        while (h->value_len > 0 && (c->rbuf[h->value + h->value_len - 1] == ' ' ||
                                    c->rbuf[h->value + h->value_len - 1] == '\t'))
            h->value_len--;
        c->rbuf[h->value + h->value_len] = '\0';
        if (h->value + h->value_len + 1 > keep)
            keep = h->value + h->value_len + 1;
        if (h->value_len == 0)
            h->value = ESG_HDR_EMPTY;
    }
    if (req->target != ESG_HDR_EMPTY) {
        c->rbuf[req->target + req->target_len] = '\0';
        if (req->target + req->target_len + 1 > keep)
            keep = req->target + req->target_len + 1;
    }
    c->keep = keep;

    int st = decode_target(c, desc);
    if (st != 0)
        return st;

    if (c->kh_count[ESG_KH_REQID] == 1) {
        const esg_http_hdr *h = &c->hdrs[c->kh_first[ESG_KH_REQID]];
        esp_str v = span(c, h->value, h->value_len);
        if (reqid_valid(v.ptr, v.len)) {
            memcpy(req->id, v.ptr, v.len);
            req->id[v.len] = '\0';
        }
    }
    if (req->id[0] == '\0')
        esg_http_server_new_id(c->srv, req->id);
    return 0;
}

esg_http_method esg_http_req_method(const esg_http_req *req)
{
    return req->method;
}

esp_str esg_http_req_target(const esg_http_req *req)
{
    if (!head_ok(req))
        return (esp_str){"", 0};
    return span(req->conn, req->target, req->target_len);
}

esp_str esg_http_req_path(const esg_http_req *req)
{
    esp_str s = {req->path, req->path_len};
    return s;
}

esp_str esg_http_req_query(const esg_http_req *req)
{
    if (!head_ok(req))
        return (esp_str){"", 0};
    return span(req->conn, req->query, req->query_len);
}

esp_str esg_http_req_body(const esg_http_req *req)
{
    const esg_http_conn *c = req->conn;
    esp_str s = {c->body.data != NULL ? c->body.data : "", c->body.len};
    return s;
}

/* Counts the headers named `name` and stores the value of the first in *first. */
static size_t find_headers(const esg_http_req *req, const char *name, esp_str *first)
{
    const esg_http_conn *c = req->conn;
    size_t nlen = strlen(name), count = 0;
    if (!head_ok(req))
        return 0;
    for (uint32_t i = 0; i < req->nhdrs; i++) {
        const esg_http_hdr *h = &c->hdrs[i];
        if (h->name_len != nlen || strncasecmp(c->rbuf + h->name, name, nlen) != 0)
            continue;
        if (count++ == 0 && first != NULL)
            *first = span(c, h->value, h->value_len);
    }
    return count;
}

int esg_http_req_header(const esg_http_req *req, const char *name, esp_str *value)
{
    *value = (esp_str){"", 0};
    return find_headers(req, name, value) > 0 ? 0 : ESP_ENOTFOUND;
}

int esg_http_req_header_unique(const esg_http_req *req, const char *name, esp_str *value)
{
    *value = (esp_str){"", 0};
    size_t n = find_headers(req, name, value);
    if (n == 0)
        return ESP_ENOTFOUND;
    if (n > 1) {
        *value = (esp_str){"", 0};
        return ESP_EINVAL;
    }
    return 0;
}

size_t esg_http_req_header_count(const esg_http_req *req, const char *name)
{
    return find_headers(req, name, NULL);
}

size_t esg_http_req_header_total(const esg_http_req *req)
{
    return head_ok(req) ? req->nhdrs : 0;
}

void esg_http_req_header_at(const esg_http_req *req, size_t i, esp_str *name, esp_str *value)
{
    const esg_http_conn *c = req->conn;
    *name = *value = (esp_str){"", 0};
    if (!head_ok(req) || i >= req->nhdrs)
        return;
    *name = span(c, c->hdrs[i].name, c->hdrs[i].name_len);
    *value = span(c, c->hdrs[i].value, c->hdrs[i].value_len);
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 7235 §2.1). */
static int token68(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (memchr("-._~+/", s[i], 6) != NULL || (s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
        i++;
    while (i > 0 && i < n && s[i] == '=')
        i++;
    return i > 0 && i == n;
}

int esg_http_req_auth(const esg_http_req *req, const char *scheme, esp_str *credentials)
{
    esp_str v;
    size_t slen = strlen(scheme);
    *credentials = (esp_str){"", 0};
    int rc = esg_http_req_header_unique(req, "Authorization", &v);
    if (rc != 0)
        return rc;
    if (v.len <= slen || strncasecmp(v.ptr, scheme, slen) != 0 || v.ptr[slen] != ' ')
        return ESP_EINVAL;
    /* One or more spaces separate the scheme from the credentials (1*SP). */
    size_t i = slen;
    while (i < v.len && v.ptr[i] == ' ')
        i++;
    if (!token68(v.ptr + i, v.len - i))
        return ESP_EINVAL;
    *credentials = (esp_str){v.ptr + i, v.len - i};
    return 0;
}

int esg_http_req_cookie(const esg_http_req *req, const char *name, esp_str *value)
{
    const esg_http_conn *c = req->conn;
    size_t nlen = strlen(name), found = 0;
    *value = (esp_str){"", 0};
    if (!head_ok(req) || nlen == 0)
        return ESP_ENOTFOUND;
    for (uint32_t i = 0; i < req->nhdrs; i++) {
        const esg_http_hdr *h = &c->hdrs[i];
        if (h->name_len != 6 || strncasecmp(c->rbuf + h->name, "cookie", 6) != 0)
            continue;
        esp_str v = span(c, h->value, h->value_len);
        size_t j = 0;
        /* cookie-string = cookie-pair *( ";" SP cookie-pair ), RFC 6265 §4.2.1. */
        while (j < v.len) {
            while (j < v.len && (v.ptr[j] == ' ' || v.ptr[j] == '\t'))
                j++;
            size_t ps = j;
            while (j < v.len && v.ptr[j] != ';')
                j++;
            size_t pe = j;
            if (j < v.len)
                j++;
            const char *eq = memchr(v.ptr + ps, '=', pe - ps);
            if (eq == NULL)
                continue;
            size_t kl = (size_t)(eq - (v.ptr + ps));
            while (kl > 0 && v.ptr[ps + kl - 1] == ' ')
                kl--;
            if (kl != nlen || memcmp(v.ptr + ps, name, nlen) != 0)
                continue;
            const char *vs = eq + 1;
            size_t vl = (size_t)(v.ptr + pe - vs);
            while (vl > 0 && (vs[vl - 1] == ' ' || vs[vl - 1] == '\t'))
                vl--;
            if (vl >= 2 && vs[0] == '"' && vs[vl - 1] == '"') {
                vs++;
                vl -= 2;
            }
            if (found++ == 0) {
                value->ptr = vs;
                value->len = vl;
            }
        }
    }
    if (found == 0)
        return ESP_ENOTFOUND;
    if (found > 1) {
        *value = (esp_str){"", 0};
        return ESP_EINVAL;
    }
    return 0;
}

int esg_http_req_param(const esg_http_req *req, const char *name, esp_str *value)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < req->nparams; i++) {
        if (req->pnames[i].len == nlen && memcmp(req->pnames[i].ptr, name, nlen) == 0) {
            *value = req->pvalues[i];
            return 0;
        }
    }
    *value = (esp_str){"", 0};
    return ESP_ENOTFOUND;
}

const char *esg_http_req_id(const esg_http_req *req)
{
    return req->id;
}

const char *esg_http_req_remote_addr(esg_http_req *req)
{
    const esg_http_conn *c = req->conn;
    return c->peer[0] != '\0' ? c->peer : "-";
}

uint64_t esg_http_req_start_ns(const esg_http_req *req)
{
    return req->start_ns;
}

int esg_http_req_is_tls(const esg_http_req *req)
{
    return req->conn->ssl != NULL;
}

int esg_http_req_is_gone(const esg_http_req *req)
{
    const esg_http_conn *c = req->conn;
    return c->closing || c->peer_eof;
}

void *esg_http_req_get_user(const esg_http_req *req)
{
    return req->user;
}

void esg_http_req_set_user(esg_http_req *req, void *user)
{
    req->user = user;
}

void *esg_http_req_server_data(const esg_http_req *req)
{
    return req->conn->srv->cfg.data;
}

const esg_http_route *esg_http_req_route(const esg_http_req *req)
{
    return req->route;
}

static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int esg_http_media_type_is(const char *v, size_t n, const char *mime)
{
    size_t i = 0, mlen = strlen(mime);
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    size_t s = i;
    while (i < n && (is_tchar((unsigned char)v[i]) || v[i] == '/'))
        i++;
    if (i - s != mlen || strncasecmp(v + s, mime, mlen) != 0)
        return ESP_EINVAL;
    /* Parameters: *( OWS ";" OWS name "=" ( token / quoted-string ) ), RFC 9110 §5.6.6. */
    for (;;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (i == n)
            return 0;
        if (v[i] != ';')
            return ESP_EINVAL;
        i++;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t ns = i;
        while (i < n && is_tchar((unsigned char)v[i]))
            i++;
        size_t nl = i - ns;
        if (nl == 0 || i == n || v[i] != '=')
            return ESP_EINVAL;
        i++;
        size_t vs, vl;
        if (i < n && v[i] == '"') {
            vs = ++i;
            while (i < n && v[i] != '"' && v[i] != '\\')
                i++;
            if (i == n || v[i] != '"')
                return ESP_EINVAL;
            vl = i - vs;
            i++;
        } else {
            vs = i;
            while (i < n && is_tchar((unsigned char)v[i]))
                i++;
            vl = i - vs;
            if (vl == 0)
                return ESP_EINVAL;
        }
        if (nl == 7 && strncasecmp(v + ns, "charset", 7) == 0 &&
            !(vl == 5 && strncasecmp(v + vs, "utf-8", 5) == 0))
            return ESP_EINVAL;
    }
}

int esg_http_req_content_type(const esg_http_req *req, const char *mime, char *err, size_t errlen)
{
    esp_str ct;
    const char *why = NULL;
    int rc = esg_http_req_header_unique(req, "content-type", &ct);
    if (rc == ESP_ENOTFOUND)
        why = "missing Content-Type";
    else if (rc != 0)
        why = "repeated Content-Type header";
    else if (esg_http_media_type_is(ct.ptr, ct.len, mime) != 0)
        why = "unexpected Content-Type";
    if (why == NULL)
        return 0;
    if (err != NULL && errlen > 0) {
        if (rc == 0)
            snprintf(err, errlen, "Content-Type must be %s", mime);
        else
            snprintf(err, errlen, "%s", why);
    }
    return ESP_EINVAL;
}
