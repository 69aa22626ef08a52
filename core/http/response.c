/*
 * Response heads and bodies. The head is written straight into the connection's reused head
 * buffer with memcpy (no printf on the hot path), then head and body leave in one writev.
 */
#include "http/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

struct esg_http_body {
    atomic_uint refs;
    size_t len;
    const char *data;
    char ctype[]; /* NUL-terminated content type, then the data */
};

/* ---- shared bodies ----------------------------------------------------------------------------*/

static int header_value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
    }
    return 1;
}

int esg_http_body_new(const void *data, size_t len, const char *content_type, esg_http_body **out)
{
    *out = NULL;
    if (content_type == NULL || (data == NULL && len > 0))
        return ESP_EINVAL;
    size_t clen = strlen(content_type);
    if (clen == 0 || !header_value_ok(content_type, clen))
        return ESP_EINVAL;
    if (len > SIZE_MAX - sizeof(esg_http_body) - clen - 1)
        return ESP_ENOMEM;
    esg_http_body *b = malloc(sizeof(esg_http_body) + clen + 1 + len);
    if (b == NULL)
        return ESP_ENOMEM;
    atomic_init(&b->refs, 1);
    memcpy(b->ctype, content_type, clen + 1);
    char *d = b->ctype + clen + 1;
    if (len > 0)
        memcpy(d, data, len);
    b->data = d;
    b->len = len;
    *out = b;
    return 0;
}

static int dump_to_buf(const char *buffer, size_t size, void *data)
{
    return esg_buf_append(data, buffer, size) == 0 ? 0 : -1;
}

int esg_http_body_new_json(const json_t *json, esg_http_body **out)
{
    esg_buf b = ESG_BUF_INIT;
    int rc = ESP_EINVAL;
    *out = NULL;
    if (json == NULL ||
        json_dump_callback(json, dump_to_buf, &b, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        goto done;
    rc = esg_http_body_new(b.data, b.len, "application/json", out);
done:
    esg_buf_free(&b);
    return rc;
}

esg_http_body *esg_http_body_ref(esg_http_body *body)
{
    atomic_fetch_add_explicit(&body->refs, 1, memory_order_relaxed);
    return body;
}

void esg_http_body_unref(esg_http_body *body)
{
    if (body == NULL)
        return;
    /* Release on the way down, acquire for the freeing thread (the usual refcount ordering). */
    if (atomic_fetch_sub_explicit(&body->refs, 1, memory_order_acq_rel) == 1)
        free(body);
}

esp_str esg_http_body_data(const esg_http_body *body)
{
    esp_str s = {body->data, body->len};
    return s;
}

/* ---- head writing -----------------------------------------------------------------------------*/

const char *esg_http_status_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 425:
        return "Too Early";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

/* The Date header value, formatted once per second per thread (RFC 9110 §5.6.7 IMF-fixdate). */
static _Thread_local int64_t date_sec = -1;
static _Thread_local char date_str[30];

static const char *http_date(void)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t now = esg_wall_s();
    if (now != date_sec) {
        time_t t = (time_t)now;
        struct tm tm;
        gmtime_r(&t, &tm);
        unsigned y = (unsigned)(tm.tm_year + 1900) % 10000u;
        char *p = date_str;
        memcpy(p, days[tm.tm_wday % 7], 3);
        p[3] = ',';
        p[4] = ' ';
        p[5] = (char)('0' + tm.tm_mday / 10);
        p[6] = (char)('0' + tm.tm_mday % 10);
        p[7] = ' ';
        memcpy(p + 8, months[tm.tm_mon % 12], 3);
        p[11] = ' ';
        p[12] = (char)('0' + y / 1000);
        p[13] = (char)('0' + y / 100 % 10);
        p[14] = (char)('0' + y / 10 % 10);
        p[15] = (char)('0' + y % 10);
        p[16] = ' ';
        p[17] = (char)('0' + tm.tm_hour / 10);
        p[18] = (char)('0' + tm.tm_hour % 10);
        p[19] = ':';
        p[20] = (char)('0' + tm.tm_min / 10);
        p[21] = (char)('0' + tm.tm_min % 10);
        p[22] = ':';
        p[23] = (char)('0' + tm.tm_sec / 10);
        p[24] = (char)('0' + tm.tm_sec % 10);
        memcpy(p + 25, " GMT", 5);
        date_sec = now;
    }
    return date_str;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (i > 0)
        *p++ = tmp[--i];
    return p;
}

static const char sec_headers[] = "X-Content-Type-Options: nosniff\r\n"
                                  "Referrer-Policy: no-referrer\r\n"
                                  "X-Frame-Options: DENY\r\n"
                                  "Content-Security-Policy: default-src 'none'; "
                                  "frame-ancestors 'none'\r\n";

/*
 * Writes the response head into c->whead. The bound reserved below covers every fixed line;
 * only the content type, the request id and the handler's lines vary.
 */
static int compose(esg_http_req *req, int status, const char *ctype, size_t body_len)
{
    esg_http_conn *c = req->conn;
    esg_http_server *srv = c->srv;
    size_t ctype_len = ctype != NULL ? strlen(ctype) : 0;
    if (req->id[0] == '\0')
        esg_http_server_new_id(srv, req->id);
    size_t id_len = strlen(req->id);
    esg_buf *h = &c->whead;
    esg_buf_reset(h);
    if (esg_buf_reserve(h, 768 + ctype_len + id_len + c->extra.len) != 0)
        return ESP_ENOMEM;
    char *p = h->data;

    p = PUT_LIT(p, "HTTP/1.1 ");
    *p++ = (char)('0' + status / 100);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    const char *reason = esg_http_status_reason(status);
    p = put(p, reason, strlen(reason));
    p = PUT_LIT(p, "\r\nDate: ");
    p = put(p, http_date(), 29);
    p = PUT_LIT(p, "\r\n");
    if (srv->cfg.server_header)
        p = PUT_LIT(p, "Server: esignet-c\r\n");
    if (ctype_len > 0) {
        p = PUT_LIT(p, "Content-Type: ");
        p = put(p, ctype, ctype_len);
        p = PUT_LIT(p, "\r\n");
    }
    /* RFC 9110 §8.6: no Content-Length in 204 responses; 304 has no body either. */
    if (status != 204 && status != 304) {
        p = PUT_LIT(p, "Content-Length: ");
        p = put_u64(p, body_len);
        p = PUT_LIT(p, "\r\n");
    }
    int ka = req->keep_alive && !(req->rflags & ESG_RF_CLOSE) && !srv->draining && !c->peer_eof;
    req->keep_alive = (uint8_t)ka;
    if (!ka)
        p = PUT_LIT(p, "Connection: close\r\n");
    else if (req->minor == 0)
        p = PUT_LIT(p, "Connection: keep-alive\r\n");
    p = PUT_LIT(p, "X-Request-ID: ");
    p = put(p, req->id, id_len);
    p = PUT_LIT(p, "\r\n");
    if (!(req->rflags & ESG_RF_CACHE_SET)) {
        if (req->max_age > 0) {
            p = PUT_LIT(p, "Cache-Control: public, max-age=");
            p = put_u64(p, req->max_age);
            p = PUT_LIT(p, "\r\n");
        } else {
            p = PUT_LIT(p, "Cache-Control: no-store\r\n");
        }
    }
    if (!(req->rflags & (ESG_RF_CSP_SET | ESG_RF_XFO_SET | ESG_RF_RP_SET))) {
        p = PUT_LIT(p, sec_headers);
    } else {
        p = PUT_LIT(p, "X-Content-Type-Options: nosniff\r\n");
        if (!(req->rflags & ESG_RF_RP_SET))
            p = PUT_LIT(p, "Referrer-Policy: no-referrer\r\n");
        if (!(req->rflags & ESG_RF_XFO_SET))
            p = PUT_LIT(p, "X-Frame-Options: DENY\r\n");
        if (!(req->rflags & ESG_RF_CSP_SET))
            p = PUT_LIT(p,
                        "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n");
    }
    if (c->ssl != NULL && srv->cfg.hsts_max_age > 0) {
        p = PUT_LIT(p, "Strict-Transport-Security: max-age=");
        p = put_u64(p, srv->cfg.hsts_max_age);
        p = PUT_LIT(p, "\r\n");
    }
    if (req->rflags & ESG_RF_CORS)
        p = PUT_LIT(p, "Access-Control-Allow-Origin: *\r\n");
    if (c->extra.len > 0)
        p = put(p, c->extra.data, c->extra.len);
    p = PUT_LIT(p, "\r\n");
    h->len = (size_t)(p - h->data);
    h->data[h->len] = '\0';
    req->status = status;
    return 0;
}

void esg_http_resp_release(esg_http_req *req)
{
    if (req->body_kind == ESG_BODY_SHARED)
        esg_http_body_unref(req->shared);
    req->shared = NULL;
    req->body_kind = ESG_BODY_NONE;
    req->bptr = NULL;
    req->blen = 0;
}

static const char *error_code_for(int status)
{
    if (status == 503)
        return "temporarily_unavailable";
    if (status >= 500 && status != 501 && status != 505)
        return "server_error";
    return "invalid_request";
}

static int error_body(esg_buf *b, const char *error, const char *desc)
{
    esg_buf_reset(b);
    int rc = esg_buf_puts(b, "{\"error\":\"");
    if (rc == 0)
        rc = esg_buf_json_escape(b, error, strlen(error));
    if (rc == 0 && desc != NULL) {
        rc = esg_buf_puts(b, "\",\"error_description\":\"");
        if (rc == 0)
            rc = esg_buf_json_escape(b, desc, strlen(desc));
    }
    if (rc == 0)
        rc = esg_buf_puts(b, "\"}");
    return rc;
}

/* Sends a JSON error composed by the layer itself and closes the connection after it. */
static int send_layer_error(esg_http_conn *c, int status, const char *desc)
{
    esg_http_req *req = &c->req;
    esg_http_resp_release(req);
    esg_buf_reset(&c->extra);
    req->rflags = ESG_RF_CLOSE;
    req->max_age = 0;
    req->responded = 1;
    if (error_body(&c->obuf, error_code_for(status), desc) != 0 ||
        compose(req, status, "application/json", c->obuf.len) != 0) {
        /* Out of memory even for an error: the client only sees the connection close. */
        esg_http_conn_close(c);
        req->status = status;
        esg_http_conn_sent(c, ESP_ENOMEM);
        return ESP_ENOMEM;
    }
    req->body_kind = ESG_BODY_OWNED;
    req->bptr = c->obuf.data;
    req->blen = c->obuf.len;
    return esg_http_conn_send_response(c);
}

void esg_http_send_error(esg_http_conn *c, int status, const char *desc)
{
    send_layer_error(c, status, desc);
}

/*
 * Common end of every esg_http_respond_* call: the body is already attached to the request.
 * Unusable arguments turn into a 500 from the layer.
 */
static int respond(esg_http_req *req, int status, const char *ctype, int arg_rc)
{
    esg_http_conn *c = req->conn;
    if (req->responded) {
        /* A second response would corrupt the stream: keep the first, report the bug. */
        esg_logf(ESP_LOG_ERROR, "http.double_response", "request %s answered twice", req->id);
        return ESP_EALREADY;
    }
    req->responded = 1;
    if (c->closing) {
        /* Nothing is sent, but the access log still shows what the handler answered. */
        req->status = arg_rc == 0 && status >= 200 && status <= 599 ? status : 500;
        return esg_http_conn_send_response(c);
    }
    if (arg_rc == 0 && (status < 200 || status > 599))
        arg_rc = ESP_EINVAL;
    if (arg_rc == 0 && ctype != NULL && !header_value_ok(ctype, strlen(ctype)))
        arg_rc = ESP_EINVAL;
    if (arg_rc == 0)
        arg_rc = compose(req, status, ctype, req->blen);
    if (arg_rc != 0) {
        esg_logf(ESP_LOG_ERROR, "http.bad_response", "request %s: %s; sent 500 instead", req->id,
                 arg_rc == ESP_ENOMEM ? "out of memory" : "invalid response arguments");
        send_layer_error(c, 500, "internal error");
        return arg_rc;
    }
    return esg_http_conn_send_response(c);
}

int esg_http_respond_buf(esg_http_req *req, int status, const char *content_type, esg_buf *body)
{
    esg_http_conn *c = req->conn;
    int rc = 0;
    if (req->responded) {
        esg_buf_free(body);
        return respond(req, status, content_type, 0);
    }
    esg_http_resp_release(req);
    if (body != NULL) {
        esg_buf_free(&c->obuf);
        c->obuf = *body;
        body->data = NULL;
        body->len = body->cap = 0;
    } else {
        rc = ESP_EINVAL;
    }
    req->body_kind = ESG_BODY_OWNED;
    req->bptr = c->obuf.data;
    req->blen = c->obuf.len;
    return respond(req, status, content_type, rc);
}

int esg_http_respond_body(esg_http_req *req, int status, esg_http_body *body)
{
    if (!req->responded) {
        esg_http_resp_release(req);
        if (body != NULL) {
            req->body_kind = ESG_BODY_SHARED;
            req->shared = esg_http_body_ref(body);
            req->bptr = body->data;
            req->blen = body->len;
        }
    }
    return respond(req, status, body != NULL ? body->ctype : NULL, body != NULL ? 0 : ESP_EINVAL);
}

int esg_http_respond_static(esg_http_req *req, int status, const char *content_type,
                            const void *data, size_t len)
{
    if (req->responded)
        return respond(req, status, content_type, 0);
    esg_http_resp_release(req);
    req->body_kind = ESG_BODY_STATIC;
    req->bptr = data;
    req->blen = data != NULL ? len : 0;
    return respond(req, status, content_type, data == NULL && len > 0 ? ESP_EINVAL : 0);
}

int esg_http_respond_json(esg_http_req *req, int status, const json_t *json)
{
    esg_http_conn *c = req->conn;
    int rc = 0;
    if (req->responded)
        return respond(req, status, NULL, 0);
    esg_http_resp_release(req);
    esg_buf_reset(&c->obuf);
    if (json == NULL ||
        json_dump_callback(json, dump_to_buf, &c->obuf, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        rc = json == NULL ? ESP_EINVAL : ESP_ENOMEM;
    req->body_kind = ESG_BODY_OWNED;
    req->bptr = c->obuf.data;
    req->blen = c->obuf.len;
    return respond(req, status, "application/json", rc);
}

int esg_http_respond_error(esg_http_req *req, int status, const char *error,
                           const char *description)
{
    esg_http_conn *c = req->conn;
    int rc = 0;
    if (req->responded)
        return respond(req, status, NULL, 0);
    esg_http_resp_release(req);
    if (error == NULL || status < 400)
        rc = ESP_EINVAL;
    else if (error_body(&c->obuf, error, description) != 0)
        rc = ESP_ENOMEM;
    req->body_kind = ESG_BODY_OWNED;
    req->bptr = c->obuf.data;
    req->blen = c->obuf.len;
    return respond(req, status, "application/json", rc);
}

int esg_http_respond_redirect(esg_http_req *req, int status, const char *location)
{
    int rc = 0;
    if (req->responded)
        return respond(req, status, NULL, 0);
    esg_http_resp_release(req);
    if ((status != 302 && status != 303 && status != 307) || location == NULL ||
        location[0] == '\0') {
        rc = ESP_EINVAL;
    } else {
        for (const char *s = location; *s != '\0'; s++) {
            if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
                rc = ESP_EINVAL;
                break;
            }
        }
    }
    if (rc == 0)
        rc = esg_http_resp_header(req, "Location", location);
    return respond(req, status, NULL, rc);
}

int esg_http_respond_empty(esg_http_req *req, int status)
{
    if (!req->responded)
        esg_http_resp_release(req);
    return respond(req, status, NULL, 0);
}

/* ---- header options ---------------------------------------------------------------------------*/

static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr("!#$%&'*+-.^_`|~", ch) != NULL))
            return 0;
    }
    return 1;
}

int esg_http_resp_header(esg_http_req *req, const char *name, const char *value)
{
    static const char *const managed[] = {
        "content-length", "transfer-encoding", "connection", "date",    "server",
        "x-request-id",   "content-type",      "keep-alive", "upgrade", "trailer"};
    esg_http_conn *c = req->conn;
    if (req->responded || name == NULL || value == NULL || !is_token(name) ||
        !header_value_ok(value, strlen(value)))
        return ESP_EINVAL;
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
        if (strcasecmp(name, managed[i]) == 0)
            return ESP_EINVAL;
    }
    unsigned flag = 0;
    if (strcasecmp(name, "cache-control") == 0)
        flag = ESG_RF_CACHE_SET;
    else if (strcasecmp(name, "content-security-policy") == 0)
        flag = ESG_RF_CSP_SET;
    else if (strcasecmp(name, "x-frame-options") == 0)
        flag = ESG_RF_XFO_SET;
    else if (strcasecmp(name, "referrer-policy") == 0)
        flag = ESG_RF_RP_SET;
    size_t mark = c->extra.len;
    if (esg_buf_puts(&c->extra, name) != 0 || esg_buf_append(&c->extra, ": ", 2) != 0 ||
        esg_buf_puts(&c->extra, value) != 0 || esg_buf_append(&c->extra, "\r\n", 2) != 0) {
        c->extra.len = mark;
        if (c->extra.data != NULL)
            c->extra.data[mark] = '\0';
        return ESP_ENOMEM;
    }
    req->rflags |= flag;
    return 0;
}

void esg_http_resp_cache(esg_http_req *req, unsigned max_age_s)
{
    req->max_age = max_age_s;
}

void esg_http_resp_cors_any(esg_http_req *req)
{
    req->rflags |= ESG_RF_CORS;
}

int esg_http_resp_set_csp(esg_http_req *req, const char *policy)
{
    return esg_http_resp_header(req, "Content-Security-Policy", policy);
}

void esg_http_resp_close(esg_http_req *req)
{
    req->rflags |= ESG_RF_CLOSE;
}
