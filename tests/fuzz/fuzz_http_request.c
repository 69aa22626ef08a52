/*
 * Feeds arbitrary bytes through the real HTTP connection code (llhttp glue, limits, request
 * sequencing, response writer, router) over the memory transport, as if read from a socket.
 *
 * Input layout: byte 0 chooses the scenario (limits, end of input, timeouts, releasing the
 * connection while a handler holds a request), byte 1 seeds the chunk sizes; the rest is the
 * byte stream. Handlers answer synchronously, asynchronously (held until the next chunk) or with
 * the different body kinds, so every response path runs. The output must always be a sequence of
 * well-formed response heads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"
#include "http/internal.h"
#include "http/json_body.h"
#include "http/router.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static esg_http_req *held;
static esg_http_body *shared;

static void h_hello(esg_http_req *req, void *d)
{
    (void)d;
    esg_http_respond_static(req, 200, "text/plain", "hello", 5);
}

static void h_echo(esg_http_req *req, void *d)
{
    (void)d;
    esg_form f = ESG_FORM_INIT;
    json_t *j = NULL;
    char err[160];
    if (esg_http_req_form(req, ESG_FORM_OMIT_EMPTY, NULL, &f, err, sizeof(err)) == 0)
        esg_form_free(&f);
    if (esg_http_req_json(req, NULL, &j, err, sizeof(err)) == 0)
        json_decref(j);
    if (esg_http_req_query_form(req, ESG_FORM_PLUS_SPACE, NULL, &f, err, sizeof(err)) == 0)
        esg_form_free(&f);
    esp_str b = esg_http_req_body(req);
    esg_buf out = ESG_BUF_INIT;
    esg_buf_append(&out, b.ptr, b.len);
    esg_http_respond_buf(req, 200, "application/octet-stream", &out);
}

static void h_param(esg_http_req *req, void *d)
{
    esp_str v, h;
    (void)d;
    esg_http_req_param(req, "x", &v);
    esg_http_req_header(req, "x-a", &h);
    esg_http_req_cookie(req, "c", &h);
    esg_http_resp_header(req, "X-Len", v.len > 3 ? "long" : "short");
    esg_http_resp_cache(req, (unsigned)v.len);
    esg_http_resp_cors_any(req);
    esg_http_respond_error(req, 400, "invalid_request", esg_http_req_id(req));
}

static void h_hold(esg_http_req *req, void *d)
{
    (void)d;
    if (held != NULL)
        esg_http_respond_empty(held, 204);
    held = req;
}

static void h_json(esg_http_req *req, void *d)
{
    (void)d;
    json_t *j = json_pack("{s:s%}", "q", esg_http_req_query(req).ptr, esg_http_req_query(req).len);
    esg_http_respond_json(req, 200, j);
    json_decref(j);
}

static void h_shared(esg_http_req *req, void *d)
{
    (void)d;
    esg_http_respond_body(req, 200, shared);
}

static void h_redirect(esg_http_req *req, void *d)
{
    (void)d;
    esp_str q = esg_http_req_query(req);
    esg_http_respond_redirect(req, 303, q.len > 0 ? q.ptr : "/");
}

static const esg_http_route routes[] = {
    {ESG_HTTP_M(ESG_HTTP_GET), "/hello", h_hello, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_POST) | ESG_HTTP_M(ESG_HTTP_PUT), "/echo", h_echo, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET) | ESG_HTTP_M(ESG_HTTP_DELETE), "/p/{x}", h_param, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET) | ESG_HTTP_M(ESG_HTTP_POST), "/hold", h_hold, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/json", h_json, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/shared", h_shared, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/r", h_redirect, NULL, NULL, 0},
};

static esg_http_router *router;

/*
 * The completion callback also sees requests the layer rejected part-way through parsing: every
 * accessor must be safe on them.
 */
static void on_complete(esg_http_req *req, const esg_http_done_info *info, void *d)
{
    esp_str n, v;
    (void)d;
    if (info->status < 100 || info->status > 599)
        abort();
    size_t sum = esg_http_req_target(req).len + esg_http_req_path(req).len +
                 esg_http_req_query(req).len + esg_http_req_body(req).len +
                 strlen(esg_http_req_id(req)) + strlen(esg_http_req_remote_addr(req)) +
                 strlen(esg_http_method_name(esg_http_req_method(req)));
    for (size_t i = 0; i < esg_http_req_header_total(req); i++) {
        esg_http_req_header_at(req, i, &n, &v);
        if (strlen(n.ptr) != n.len || strlen(v.ptr) != v.len)
            abort();
        sum += esg_http_req_header_count(req, n.ptr);
    }
    sum += (size_t)esg_http_req_header_unique(req, "host", &v) + v.len;
    sum += (size_t)esg_http_req_cookie(req, "c", &v) + v.len;
    if (esg_http_req_auth(req, "Bearer", &v) == 0) {
        /* Accepted credentials are a non-empty token68 without spaces. */
        if (v.len == 0 || memchr(v.ptr, ' ', v.len) != NULL || v.ptr[0] == '=')
            abort();
    } else if (v.len != 0) {
        abort();
    }
    sum += (size_t)esg_http_req_is_gone(req) + (size_t)esg_http_req_is_tls(req);
    if (sum == (size_t)-1)
        abort();
}

static void answer_held(void)
{
    if (held != NULL) {
        esg_http_req *r = held;
        held = NULL;
        esg_http_respond_static(r, 200, "text/plain", "late", 4);
    }
}

/* Every response starts with a status line; a response never ends in the middle of a head. */
static void check_output(const esg_buf *out)
{
    if (out->len == 0)
        return;
    if (out->len < 12 || memcmp(out->data, "HTTP/1.1 ", 9) != 0)
        abort();
    if (strstr(out->data, "\r\n\r\n") == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (router == NULL) {
        esg_log_set_level(ESP_LOG_ERROR);
        if (esg_http_router_new(routes, sizeof(routes) / sizeof(routes[0]), &router, NULL, 0) ||
            esg_http_body_new("{\"k\":1}", 7, "application/json", &shared))
            abort();
    }
    uint8_t mode = data[0];
    unsigned seed = data[1];
    data += 2;
    size -= 2;

    esg_http_config cfg;
    esg_http_config_init(&cfg);
    if (mode & 1) {
        cfg.max_request_line = 64;
        cfg.max_header_size = 128;
        cfg.max_headers = 4;
        cfg.max_body = 32;
    }
    cfg.dispatch = esg_http_router_dispatch;
    cfg.on_complete = on_complete;
    cfg.data = router;
    esg_http_server *srv;
    esg_http_conn *c;
    if (esg_http_test_server_new(&cfg, &srv) != 0)
        abort();
    if (esg_http_test_conn_open(srv, &c) != 0)
        abort();
    int released = 0;
    size_t off = 0;
    while (off < size && !esg_http_test_conn_closed(c)) {
        /* Chunks of 1..64 bytes, or everything at once. */
        size_t n = (mode & 2) ? size - off : 1 + (seed % 64);
        seed = seed * 1103515245u + 12345u;
        if (n > size - off)
            n = size - off;
        size_t taken = esg_http_test_conn_feed(c, data + off, n);
        if (taken < n) {
            /* The connection stopped reading: a held request blocks it. */
            answer_held();
            taken += esg_http_test_conn_feed(c, data + off + taken, n - taken);
            if (taken == 0)
                break;
        }
        off += taken;
        if ((mode & 4) && (seed & 3) == 0)
            answer_held();
        if ((mode & 0x40) && held != NULL && (seed & 7) == 1) {
            /* The client disappears while a handler works. */
            esg_http_test_conn_release(c);
            released = 1;
            break;
        }
    }
    if (!released) {
        if (mode & 8)
            esg_http_test_conn_eof(c);
        if (mode & 0x10) {
            for (int i = 0; i < 4 && esg_http_test_conn_expire(c) != ESG_TO_NONE; i++)
                ;
        }
        if (mode & 0x20)
            answer_held();
        esg_http_test_conn_release(c);
    }
    answer_held();
    check_output(esg_http_test_output(srv));
    esg_http_test_server_free(srv);
    return 0;
}
