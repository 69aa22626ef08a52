/*
 * HTTP/1.1 protocol tests through the memory transport: the real parser glue, limits, request
 * sequencing and response writer, fed byte strings without sockets, so every case is exact and
 * fast. Socket behaviour (timeouts on real time, shutdown, TLS) is in test_http_server.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/internal.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "util/log.h"

static esg_http_req *held;
static int completed, last_status, last_aborted;
static char last_route[64];

static void h_hello(esg_http_req *req, void *data)
{
    (void)data;
    assert_int_equal(esg_http_respond_static(req, 200, "text/plain", "hello", 5), 0);
}

static void h_echo(esg_http_req *req, void *data)
{
    (void)data;
    esp_str b = esg_http_req_body(req);
    esg_buf out = ESG_BUF_INIT;
    assert_int_equal(esg_buf_append(&out, b.ptr, b.len), 0);
    assert_int_equal(esg_http_respond_buf(req, 200, "application/octet-stream", &out), 0);
    assert_null(out.data);
}

static void h_path(esg_http_req *req, void *data)
{
    (void)data;
    esp_str p = esg_http_req_path(req);
    assert_int_equal(esg_http_respond_static(req, 200, "text/plain", p.ptr, p.len), 0);
}

static void h_param(esg_http_req *req, void *data)
{
    (void)data;
    esp_str v;
    assert_int_equal(esg_http_req_param(req, "client_id", &v), 0);
    esg_buf out = ESG_BUF_INIT;
    assert_int_equal(esg_buf_append(&out, v.ptr, v.len), 0);
    esg_http_respond_buf(req, 200, "text/plain", &out);
}

static void h_hold(esg_http_req *req, void *data)
{
    (void)data;
    held = req;
}

static void h_head(esg_http_req *req, void *data)
{
    (void)data;
    esp_str v;
    assert_int_equal(esg_http_req_header(req, "X-TEST", &v), 0);
    assert_string_equal(v.ptr, "a  b");
    assert_int_equal(esg_http_req_header_unique(req, "x-dup", &v), ESP_EINVAL);
    assert_int_equal(esg_http_req_header_count(req, "X-Dup"), 2);
    assert_int_equal(esg_http_req_header(req, "x-none", &v), ESP_ENOTFOUND);
    assert_int_equal(esg_http_req_cookie(req, "sid", &v), 0);
    assert_int_equal(v.len, 3);
    assert_memory_equal(v.ptr, "abc", 3);
    assert_int_equal(esg_http_req_cookie(req, "twice", &v), ESP_EINVAL);
    assert_int_equal(esg_http_req_cookie(req, "nope", &v), ESP_ENOTFOUND);
    assert_int_equal(esg_http_req_header(req, "empty", &v), 0);
    assert_int_equal(v.len, 0);
    assert_string_equal(esg_http_req_query(req).ptr, "a=1&b=2");
    assert_string_equal(esg_http_req_path(req).ptr, "/headers");
    assert_string_equal(esg_http_req_target(req).ptr, "/headers?a=1&b=2");
    assert_string_equal(esg_http_req_remote_addr(req), "192.0.2.1");
    assert_false(esg_http_req_is_tls(req));
    assert_int_equal(esg_http_resp_header(req, "Content-Length", "1"), ESP_EINVAL);
    assert_int_equal(esg_http_resp_header(req, "X-Bad", "a\r\nInjected: 1"), ESP_EINVAL);
    assert_int_equal(esg_http_resp_header(req, "Bad Name", "x"), ESP_EINVAL);
    assert_int_equal(esg_http_resp_header(req, "X-Good", "yes"), 0);
    esg_http_resp_cache(req, 300);
    esg_http_resp_cors_any(req);
    esg_http_respond_empty(req, 204);
}

/* Answers "<status> <credentials>" for the Bearer credentials of the request. */
static void h_auth(esg_http_req *req, void *data)
{
    (void)data;
    esp_str token;
    int rc = esg_http_req_auth(req, "Bearer", &token);
    esg_buf out = ESG_BUF_INIT;
    assert_int_equal(esg_buf_printf(&out, "%d %.*s", rc, (int)token.len, token.ptr), 0);
    esg_http_respond_buf(req, 200, "text/plain", &out);
}

static void h_html(esg_http_req *req, void *data)
{
    (void)data;
    assert_int_equal(esg_http_resp_set_csp(req, "default-src 'self'"), 0);
    esg_http_respond_static(req, 200, "text/html; charset=utf-8", "<p>x</p>", 8);
}

static void h_redirect(esg_http_req *req, void *data)
{
    (void)data;
    assert_int_equal(esg_http_respond_redirect(req, 303, "https://rp.example/cb?code=x"), 0);
}

static void h_bad_redirect(esg_http_req *req, void *data)
{
    (void)data;
    assert_int_equal(esg_http_respond_redirect(req, 303, "https://rp.example/\r\nSet-Cookie: x"),
                     ESP_EINVAL);
}

static void h_json(esg_http_req *req, void *data)
{
    (void)data;
    json_t *j = json_pack("{s:s,s:i}", "a", "b\"<", "n", 1);
    assert_int_equal(esg_http_respond_json(req, 201, j), 0);
    json_decref(j);
}

static void h_shared(esg_http_req *req, void *data)
{
    esg_http_resp_cache(req, 3600);
    esg_http_respond_body(req, 200, data);
}

static const esg_http_route routes[] = {
    {ESG_HTTP_M(ESG_HTTP_GET), "/hello", h_hello, NULL, "hello", 0},
    {ESG_HTTP_M(ESG_HTTP_POST) | ESG_HTTP_M(ESG_HTTP_PUT), "/echo", h_echo, NULL, "echo", 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/p/{x}", h_path, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/a", h_path, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/b", h_path, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/c", h_path, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/client/{client_id}", h_param, NULL, "client", 0},
    {ESG_HTTP_M(ESG_HTTP_GET) | ESG_HTTP_M(ESG_HTTP_POST), "/hold", h_hold, NULL, "hold", 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/headers", h_head, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/auth", h_auth, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/html", h_html, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/redirect", h_redirect, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/bad-redirect", h_bad_redirect, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/json", h_json, NULL, NULL, 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/shared", h_shared, NULL, NULL, 0},
};

static void on_complete(esg_http_req *req, const esg_http_done_info *info, void *data)
{
    (void)req;
    (void)data;
    completed++;
    last_status = info->status;
    last_aborted = info->aborted;
    snprintf(last_route, sizeof(last_route), "%s", info->route ? info->route : "-");
}

typedef struct fx {
    esg_http_server *srv;
    esg_http_router *router;
    esg_http_body *shared;
    esg_http_route table[sizeof(routes) / sizeof(routes[0])];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    char err[200];
    memcpy(f->table, routes, sizeof(routes));
    assert_int_equal(esg_http_body_new("{\"k\":1}", 7, "application/json", &f->shared), 0);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (routes[i].handler == h_shared)
            f->table[i].data = f->shared;
    }
    assert_int_equal(
        esg_http_router_new(f->table, sizeof(routes) / sizeof(routes[0]), &f->router, err, 200), 0);
    esg_http_config cfg;
    esg_http_config_init(&cfg);
    cfg.max_request_line = 200;
    cfg.max_header_size = 600;
    cfg.max_headers = 10;
    cfg.max_body = 100;
    cfg.max_connections = 4;
    cfg.dispatch = esg_http_router_dispatch;
    cfg.on_complete = on_complete;
    cfg.data = f->router;
    assert_int_equal(esg_http_test_server_new(&cfg, &f->srv), 0);
    held = NULL;
    completed = last_status = last_aborted = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    esg_http_test_server_free(f->srv);
    esg_http_router_free(f->router);
    esg_http_body_unref(f->shared);
    free(f);
    return 0;
}

/* Opens a connection, feeds `in` in one piece, returns the output (static until next call). */
static const char *roundtrip(fx *f, esg_http_conn **cp, const char *in)
{
    esg_http_conn *c = NULL;
    assert_int_equal(esg_http_test_conn_open(f->srv, &c), 0);
    esg_buf_reset(esg_http_test_output(f->srv));
    esg_http_test_conn_feed(c, in, strlen(in));
    *cp = c;
    esg_buf *o = esg_http_test_output(f->srv);
    return o->data ? o->data : "";
}

static int count_str(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void expect_one(fx *f, const char *in, const char *status_line, int closes)
{
    esg_http_conn *c;
    const char *out = roundtrip(f, &c, in);
    if (strncmp(out, status_line, strlen(status_line)) != 0)
        fail_msg("for %s expected %s, got %.80s", in, status_line, out);
    assert_int_equal(esg_http_test_conn_closed(c), closes);
    if (closes)
        assert_non_null(strstr(out, "Connection: close\r\n"));
    esg_http_test_conn_release(c);
}

static void test_simple_get(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(out, "\r\nContent-Length: 5\r\n"));
    assert_non_null(strstr(out, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(out, "\r\nDate: "));
    assert_non_null(strstr(out, "\r\nX-Request-ID: "));
    assert_non_null(strstr(out, "\r\nCache-Control: no-store\r\n"));
    assert_non_null(strstr(out, "\r\nX-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(out, "\r\nReferrer-Policy: no-referrer\r\n"));
    assert_non_null(strstr(out, "\r\nX-Frame-Options: DENY\r\n"));
    assert_non_null(
        strstr(out, "\r\nContent-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"));
    assert_null(strstr(out, "Strict-Transport-Security"));
    assert_null(strstr(out, "Connection:"));
    assert_null(strstr(out, "Server:"));
    assert_true(strcmp(out + strlen(out) - 9, "\r\n\r\nhello") == 0);
    assert_false(esg_http_test_conn_closed(c));
    assert_int_equal(completed, 1);
    assert_int_equal(last_status, 200);
    assert_string_equal(last_route, "hello");
    /* The connection is back to keep-alive idle; its timeout closes it. */
    assert_int_equal(esg_http_test_conn_expire(c), ESG_TO_KEEPALIVE);
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
}

static void test_pipelining_in_order(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c,
                                "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *a = strstr(out, "\r\n\r\n/a"), *b = strstr(out, "\r\n\r\n/b"),
               *cc = strstr(out, "\r\n\r\n/c");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(cc);
    assert_true(a < b && b < cc);
    assert_int_equal(count_str(out, "HTTP/1.1 200 OK"), 3);
    assert_int_equal(completed, 3);
    esg_http_test_conn_release(c);
}

static void test_byte_by_byte(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nX-Long: abcdefghij\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\n"
                      "Trailer-X: 1\r\n\r\n"
                      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(esg_http_test_conn_open(f->srv, &c), 0);
    esg_buf_reset(esg_http_test_output(f->srv));
    for (size_t i = 0; req[i] != '\0'; i++)
        assert_int_equal(esg_http_test_conn_feed(c, req + i, 1), 1);
    const char *out = esg_http_test_output(f->srv)->data;
    assert_non_null(strstr(out, "Content-Length: 5\r\n"));
    assert_non_null(strstr(out, "\r\n\r\nabcde"));
    assert_int_equal(count_str(out, "HTTP/1.1 200 OK"), 2);
    esg_http_test_conn_release(c);
}

static void test_limits(void **state)
{
    fx *f = *state;
    char big[1024];
    /* 414: request line over 200 bytes. */
    memset(big, 'a', sizeof(big));
    snprintf(big, sizeof(big), "GET /%0250d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    expect_one(f, big, "HTTP/1.1 414 ", 1);
    /* 431: one header too large, and too many headers. */
    snprintf(big, sizeof(big), "GET /hello HTTP/1.1\r\nHost: x\r\nX: %0700d\r\n\r\n", 0);
    expect_one(f, big, "HTTP/1.1 431 ", 1);
    expect_one(f,
               "GET /hello HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: "
               "1\r\nG: 1\r\nH: 1\r\nI: 1\r\nJ: 1\r\nK: 1\r\n\r\n",
               "HTTP/1.1 431 ", 1);
    /* 413 from Content-Length, and from a chunked body that grows too large. */
    expect_one(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", "HTTP/1.1 413 ",
               1);
    snprintf(big, sizeof(big),
             "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "40\r\n%064d\r\n40\r\n%064d\r\n0\r\n\r\n",
             0, 0);
    expect_one(f, big, "HTTP/1.1 413 ", 1);
    /* A body exactly at the limit passes. */
    snprintf(big, sizeof(big),
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n%0100d", 0);
    expect_one(f, big, "HTTP/1.1 200 ", 0);
    /* Trailers count against the header limit. */
    snprintf(big, sizeof(big),
             "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: "
             "%0650d\r\n\r\n",
             0);
    expect_one(f, big, "HTTP/1.1 431 ", 1);
}

static void test_malformed(void **state)
{
    fx *f = *state;
    expect_one(f, "hello world\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "\x01\x02\x03\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f,
               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
               "HTTP/1.1 400 ", 1);
    expect_one(f,
               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: "
               "chunked\r\n\r\n0\r\n\r\n",
               "HTTP/1.1 400 ", 1);
    expect_one(f, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 400 ",
               1);
    expect_one(f, "GET /hello HTTP/1.1\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /hello HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /hello HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /hello#frag HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET * HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
               "HTTP/1.1 400 ", 1);
    expect_one(f, "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
               "HTTP/1.1 400 ", 1);
    /* The error body is the small JSON object, and never echoes the request. */
    esg_http_conn *c;
    const char *out = roundtrip(f, &c, "GET /<script> HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(out, "{\"error\":\"invalid_request\",\"error_description\":\""));
    assert_null(strstr(out, "<script>"));
    esg_http_test_conn_release(c);
}

static void test_not_implemented(void **state)
{
    fx *f = *state;
    expect_one(f, "FOO /hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 ", 1);
    expect_one(f, "PROPFIND /hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 ", 1);
    expect_one(f, "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 501 ", 1);
    expect_one(f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
               "HTTP/1.1 501 ", 1);
    expect_one(
        f, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 501 ", 1);
    expect_one(f, "GET /hello HTTP/1.2\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ", 1);
    expect_one(f, "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ", 1);
    expect_one(f, "GET /hello HTTP/0.9\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ", 1);
    expect_one(f, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\na",
               "HTTP/1.1 417 ", 1);
}

static void test_expect_continue(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(
        f, &c,
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n");
    esg_http_test_conn_feed(c, "ok", 2);
    out = esg_http_test_output(f->srv)->data;
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
    assert_true(strcmp(out + strlen(out) - 6, "\r\n\r\nok") == 0);
    esg_http_test_conn_release(c);
    /* Too large: 413 at once, without 100 Continue. */
    out = roundtrip(
        f, &c,
        "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 200\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
    esg_http_test_conn_release(c);
}

static void test_head_and_methods(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(out, "Content-Length: 5\r\n"));
    assert_true(strcmp(out + strlen(out) - 4, "\r\n\r\n") == 0);
    esg_http_test_conn_release(c);

    out = roundtrip(f, &c, "DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 405 ", 13) == 0);
    assert_non_null(strstr(out, "\r\nAllow: POST, PUT\r\n"));
    assert_false(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
    out = roundtrip(f, &c, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_non_null(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
    esg_http_test_conn_release(c);
    out = roundtrip(f, &c, "GET /nothing/here HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 404 ", 13) == 0);
    assert_false(esg_http_test_conn_closed(c));
    assert_string_equal(last_route, "-");
    esg_http_test_conn_release(c);
}

static void test_paths(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c, "GET /client/a%20b%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strcmp(out + strlen(out) - 7, "\r\na b\xc3\xa9") == 0);
    assert_string_equal(last_route, "client");
    esg_http_test_conn_release(c);
    out = roundtrip(f, &c, "GET http://example.org/p/q?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n");
    assert_true(strcmp(out + strlen(out) - 6, "\r\n/p/q") == 0);
    esg_http_test_conn_release(c);
    out = roundtrip(f, &c, "GET /p/%7e?x=%2F HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strcmp(out + strlen(out) - 6, "\r\n/p/~") == 0);
    esg_http_test_conn_release(c);
    expect_one(f, "GET /p/a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/a%2fb HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/a%00 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/%zz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/%4 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/%FF HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/../hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /p/%2e%2e HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    expect_one(f, "GET /./hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 ", 1);
    /* "..." is an ordinary segment. */
    expect_one(f, "GET /p/... HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", 0);
    expect_one(f, "GET /p/ HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", 0);
    expect_one(f, "GET //hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", 0);
}

static const char *header_value(const char *out, const char *name, char *buf, size_t size)
{
    const char *p = strstr(out, name);
    if (p == NULL)
        return NULL;
    p += strlen(name);
    const char *e = strstr(p, "\r\n");
    snprintf(buf, size, "%.*s", (int)(e - p), p);
    return buf;
}

static void test_request_id(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    char v[100];
    const char *out =
        roundtrip(f, &c, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: abc-DEF_1.2\r\n\r\n");
    assert_string_equal(header_value(out, "\r\nX-Request-ID: ", v, sizeof(v)), "abc-DEF_1.2");
    esg_http_test_conn_release(c);
    const char *bad[] = {
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: a b\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: <x>\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\r\nX-Request-ID: "
        "b\r\n\r\n",
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        out = roundtrip(f, &c, bad[i]);
        header_value(out, "\r\nX-Request-ID: ", v, sizeof(v));
        /* A generated id: 16 random bytes in base64url. */
        assert_int_equal(strlen(v), 22);
        for (size_t k = 0; k < 22; k++)
            assert_non_null(
                strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", v[k]));
        esg_http_test_conn_release(c);
    }
    /* 64 characters are still accepted. */
    out = roundtrip(f, &c,
                    "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: "
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n");
    assert_int_equal(strlen(header_value(out, "\r\nX-Request-ID: ", v, sizeof(v))), 64);
    esg_http_test_conn_release(c);
}

/* The body of a GET /auth with `headers` (each line ending in CRLF). */
static const char *auth_answer(fx *f, esg_http_conn **c, const char *headers)
{
    char text[512];
    snprintf(text, sizeof(text), "GET /auth HTTP/1.1\r\nHost: x\r\n%s\r\n", headers);
    const char *out = roundtrip(f, c, text);
    const char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
    return body + 4;
}

static void test_authorization_credentials(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    char ok[64], notfound[64], invalid[64];
    snprintf(notfound, sizeof(notfound), "%d ", ESP_ENOTFOUND);
    snprintf(invalid, sizeof(invalid), "%d ", ESP_EINVAL);
    static const struct {
        const char *headers;
        const char *token; /* NULL: refused as malformed */
    } cases[] = {
        {"Authorization: Bearer abc.DEF-_~+/9==\r\n", "abc.DEF-_~+/9=="},
        {"Authorization: bearer   tok\r\n", "tok"}, /* scheme without case, 1*SP */
        {"Authorization: Bearer\r\n", NULL},
        {"Authorization: Bearer \r\n", NULL},
        {"Authorization: Bearertok\r\n", NULL},
        {"Authorization: Basic dXNlcjpwYXNz\r\n", NULL},
        {"Authorization: DPoP tok\r\n", NULL},
        {"Authorization: Bearer a b\r\n", NULL},
        {"Authorization: Bearer =abc\r\n", NULL},
        {"Authorization: Bearer ab=c\r\n", NULL},
        {"Authorization: Bearer a\"b\r\n", NULL},
        {"Authorization: Bearer a\r\nAuthorization: Bearer a\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = auth_answer(f, &c, cases[i].headers);
        if (cases[i].token != NULL) {
            snprintf(ok, sizeof(ok), "0 %s", cases[i].token);
            assert_string_equal(got, ok);
        } else {
            assert_string_equal(got, invalid);
        }
        esg_http_test_conn_release(c);
    }
    assert_string_equal(auth_answer(f, &c, ""), notfound);
    esg_http_test_conn_release(c);
}

static void test_headers_api_and_options(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c,
                                "GET /headers?a=1&b=2 HTTP/1.1\r\nHost: x\r\nX-Test:   a  b  \r\n"
                                "X-Dup: 1\r\nx-dup: 2\r\nCookie: a=1; sid=abc; twice=1\r\n"
                                "Cookie: twice=2\r\nEmpty:\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 204 No Content\r\n", 25) == 0);
    assert_null(strstr(out, "Content-Length"));
    assert_non_null(strstr(out, "\r\nCache-Control: public, max-age=300\r\n"));
    assert_non_null(strstr(out, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    assert_non_null(strstr(out, "\r\nX-Good: yes\r\n"));
    assert_null(strstr(out, "Injected"));
    esg_http_test_conn_release(c);

    out = roundtrip(f, &c, "GET /html HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_non_null(strstr(out, "\r\nContent-Security-Policy: default-src 'self'\r\n"));
    assert_int_equal(count_str(out, "Content-Security-Policy"), 1);
    assert_non_null(strstr(out, "\r\nX-Frame-Options: DENY\r\n"));
    esg_http_test_conn_release(c);

    out = roundtrip(f, &c, "GET /redirect HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 303 See Other\r\n", 24) == 0);
    assert_non_null(strstr(out, "\r\nLocation: https://rp.example/cb?code=x\r\n"));
    assert_non_null(strstr(out, "\r\nContent-Length: 0\r\n"));
    esg_http_test_conn_release(c);

    out = roundtrip(f, &c, "GET /bad-redirect HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 500 ", 13) == 0);
    assert_null(strstr(out, "Set-Cookie"));
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);

    out = roundtrip(f, &c, "GET /json HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_true(strncmp(out, "HTTP/1.1 201 Created\r\n", 22) == 0);
    assert_non_null(strstr(out, "\r\n\r\n{\"a\":\"b\\\"<\",\"n\":1}"));
    esg_http_test_conn_release(c);

    out = roundtrip(
        f, &c, "GET /shared HTTP/1.1\r\nHost: x\r\n\r\nGET /shared HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(count_str(out, "\r\n\r\n{\"k\":1}"), 2);
    assert_int_equal(count_str(out, "Cache-Control: public, max-age=3600\r\n"), 2);
    esg_http_test_conn_release(c);
}

static void test_http10(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c, "GET /hello HTTP/1.0\r\n\r\n");
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
    out = roundtrip(f, &c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_non_null(strstr(out, "Connection: keep-alive\r\n"));
    assert_false(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
    out = roundtrip(f, &c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
    /* After an Upgrade request the server answers and closes rather than switch protocols. */
    out = roundtrip(f, &c,
                    "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: "
                    "websocket\r\n\r\nGET /hello HTTP/1.1\r\n");
    assert_int_equal(count_str(out, "HTTP/1.1 200"), 1);
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
}

static void test_async_and_gone(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    const char *out = roundtrip(f, &c,
                                "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_string_equal(out, "");
    assert_non_null(held);
    assert_false(esg_http_req_is_gone(held));
    /* The pipelined request waits for the held one; responses stay in order. */
    assert_int_equal(esg_http_respond_static(held, 200, "text/plain", "first", 5), 0);
    held = NULL;
    out = esg_http_test_output(f->srv)->data;
    const char *a = strstr(out, "first"), *b = strstr(out, "\r\n/a");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    esg_http_test_conn_release(c);

    /* The client half-closes: the request is gone, the response is still written, then close. */
    out = roundtrip(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    esg_http_test_conn_eof(c);
    assert_true(esg_http_req_is_gone(held));
    assert_int_equal(esg_http_respond_static(held, 200, "text/plain", "late", 4), 0);
    assert_non_null(strstr(esg_http_test_output(f->srv)->data, "Connection: close"));
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);

    /* The connection dies while the handler works: responding only frees the request. */
    completed = 0;
    out = roundtrip(f, &c, "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    esg_http_test_conn_release(c);
    assert_true(esg_http_req_is_gone(held));
    assert_string_equal(esg_http_req_body(held).ptr, "abc");
    esg_buf_reset(esg_http_test_output(f->srv));
    assert_int_equal(esg_http_respond_static(held, 200, "text/plain", "x", 1), ESP_ECANCELED);
    held = NULL;
    assert_int_equal(esg_http_test_output(f->srv)->len, 0);
    assert_int_equal(completed, 1);
    assert_int_equal(last_aborted, 1);
    assert_int_equal(last_status, 200);
}

static void test_timeouts(void **state)
{
    fx *f = *state;
    esg_http_conn *c;
    /* Part of a head, then the header timeout: 408 and close. */
    const char *out = roundtrip(f, &c, "GET /hello HTTP/1.1\r\nHo");
    assert_string_equal(out, "");
    assert_int_equal(esg_http_test_conn_expire(c), ESG_TO_HEADER);
    out = esg_http_test_output(f->srv)->data;
    assert_true(strncmp(out, "HTTP/1.1 408 ", 13) == 0);
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
    /* A silent new connection is closed without a response. */
    out = roundtrip(f, &c, "");
    assert_int_equal(esg_http_test_conn_expire(c), ESG_TO_HEADER);
    assert_int_equal(esg_http_test_output(f->srv)->len, 0);
    assert_true(esg_http_test_conn_closed(c));
    esg_http_test_conn_release(c);
    /* Slow body. */
    out = roundtrip(f, &c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    assert_int_equal(esg_http_test_conn_expire(c), ESG_TO_BODY);
    assert_true(strncmp(esg_http_test_output(f->srv)->data, "HTTP/1.1 408 ", 13) == 0);
    esg_http_test_conn_release(c);
    /* A handler at work has no timer running. */
    out = roundtrip(f, &c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_int_equal(esg_http_test_conn_expire(c), ESG_TO_NONE);
    esg_http_respond_empty(held, 204);
    held = NULL;
    esg_http_test_conn_release(c);
}

static void test_connection_limit_and_buffer(void **state)
{
    fx *f = *state;
    esg_http_conn *c[5];
    for (int i = 0; i < 4; i++)
        assert_int_equal(esg_http_test_conn_open(f->srv, &c[i]), 0);
    assert_int_equal(esg_http_test_conn_open(f->srv, &c[4]), ESP_EAGAIN);
    for (int i = 0; i < 4; i++)
        esg_http_test_conn_release(c[i]);
    /* A client pipelining without end while a handler works is throttled, not buffered. */
    esg_http_conn *k;
    roundtrip(f, &k, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    char junk[4096];
    memset(junk, 'G', sizeof(junk));
    size_t taken = 0;
    for (int i = 0; i < 100; i++)
        taken += esg_http_test_conn_feed(k, junk, sizeof(junk));
    assert_true(taken < 100 * sizeof(junk));
    assert_true(taken <= f->srv->rbuf_max);
    esg_http_respond_empty(held, 204);
    held = NULL;
    /* Then the junk is parsed and rejected. */
    assert_true(esg_http_test_conn_closed(k));
    esg_http_test_conn_release(k);
}

int main(void)
{
    /* Rejections log one line each; keep the test output readable. */
    esg_log_set_level(ESP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_simple_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelining_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_implemented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers_api_and_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorization_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_and_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_limit_and_buffer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
