/*
 * HTTP server over real sockets: each test runs one or two server loops on 127.0.0.1 (port 0,
 * read back) in background threads, talks to them with blocking sockets from the test thread, and
 * at the end checks that every libuv handle was closed (uv_loop_close() succeeds).
 * Synchronisation uses condition variables and socket polls with generous upper bounds; the only
 * waits on time are the server timeouts under test, which are short (tens of ms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "util/log.h"

#define MAX_LOOPS 2
#define MAX_HELD  8
#define WAIT_MS   10000

/* cmocka asserts must stay on the test thread; loop threads abort on a broken expectation. */
#define LOOP_CHECK(x)                                                                              \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: loop check failed: %s\n", __FILE__, __LINE__, #x);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fixture fixture;

/* One server loop and its thread. */
typedef struct loopfx {
    fixture *f;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake;
    esg_http_server *srv;
    esg_http_req *held[MAX_HELD]; /* loop thread only */
    size_t nheld;
    int shut, stopping, done;
    esg_http_stats stats; /* copied at the end */
} loopfx;

struct fixture {
    loopfx loops[MAX_LOOPS];
    int nloops;
    int port;
    esg_http_router *router;
    esg_http_body *big;
    uv_mutex_t mu;
    uv_cond_t cv;
    /* Commands, set by the test thread under mu. */
    int cmd_shutdown, cmd_force, cmd_respond, cmd_stop;
    /* Events, set by loop threads under mu. */
    int held_total, shutdown_done, completed, responded;
    int last_status, last_aborted, gone_seen, respond_rc;
    char tmpdir[64];
};

/* ---- handlers (loop threads) ------------------------------------------------------------------*/

static void h_hello(esg_http_req *req, void *data)
{
    (void)data;
    esg_http_respond_static(req, 200, "text/plain", "hello", 5);
}

static void h_echo(esg_http_req *req, void *data)
{
    (void)data;
    esp_str b = esg_http_req_body(req);
    esg_buf out = ESG_BUF_INIT;
    esg_buf_append(&out, b.ptr, b.len);
    esg_http_respond_buf(req, 200, "application/octet-stream", &out);
}

static void h_param(esg_http_req *req, void *data)
{
    (void)data;
    esp_str v;
    esg_http_req_param(req, "client_id", &v);
    esg_buf out = ESG_BUF_INIT;
    esg_buf_append(&out, v.ptr, v.len);
    esg_http_respond_buf(req, 200, "text/plain", &out);
}

static void h_id(esg_http_req *req, void *data)
{
    (void)data;
    const char *id = esg_http_req_id(req);
    esg_buf out = ESG_BUF_INIT;
    esg_buf_puts(&out, id);
    esg_http_respond_buf(req, 200, "text/plain", &out);
}

static void h_big(esg_http_req *req, void *data)
{
    esg_http_respond_body(req, 200, data);
}

static void h_hold(esg_http_req *req, void *data)
{
    (void)data;
    loopfx *lf = esg_http_req_server_data(req);
    fixture *f = lf->f;
    LOOP_CHECK(lf->nheld < MAX_HELD);
    lf->held[lf->nheld++] = req;
    uv_mutex_lock(&f->mu);
    f->held_total++;
    uv_cond_broadcast(&f->cv);
    uv_mutex_unlock(&f->mu);
}

static void dispatch(esg_http_req *req, void *data)
{
    loopfx *lf = data;
    esg_http_router_dispatch(req, lf->f->router);
}

static void on_complete(esg_http_req *req, const esg_http_done_info *info, void *data)
{
    loopfx *lf = data;
    fixture *f = lf->f;
    (void)req;
    uv_mutex_lock(&f->mu);
    f->completed++;
    f->last_status = info->status;
    f->last_aborted = info->aborted;
    uv_cond_broadcast(&f->cv);
    uv_mutex_unlock(&f->mu);
}

static void respond_held(loopfx *lf)
{
    fixture *f = lf->f;
    for (size_t i = 0; i < lf->nheld; i++) {
        int gone = esg_http_req_is_gone(lf->held[i]);
        int rc = esg_http_respond_static(lf->held[i], 200, "text/plain", "held", 4);
        uv_mutex_lock(&f->mu);
        f->gone_seen += gone;
        f->respond_rc = rc;
        f->responded++;
        uv_cond_broadcast(&f->cv);
        uv_mutex_unlock(&f->mu);
    }
    lf->nheld = 0;
}

static void on_shutdown_done(esg_http_server *srv, void *data)
{
    loopfx *lf = data;
    fixture *f = lf->f;
    esg_http_server_stats(srv, &lf->stats);
    lf->done = 1;
    uv_mutex_lock(&f->mu);
    f->shutdown_done++;
    uv_cond_broadcast(&f->cv);
    uv_mutex_unlock(&f->mu);
    if (lf->stopping)
        uv_close((uv_handle_t *)&lf->wake, NULL);
}

static void on_wake(uv_async_t *a)
{
    loopfx *lf = a->data;
    fixture *f = lf->f;
    uv_mutex_lock(&f->mu);
    int sd = f->cmd_shutdown, force = f->cmd_force, resp = f->cmd_respond, stop = f->cmd_stop;
    uv_mutex_unlock(&f->mu);
    if ((sd || stop) && !lf->shut) {
        lf->shut = 1;
        LOOP_CHECK(esg_http_server_shutdown(lf->srv, on_shutdown_done, lf) == 0);
        LOOP_CHECK(esg_http_server_shutdown(lf->srv, on_shutdown_done, lf) == ESP_EINVAL);
    }
    if (force)
        esg_http_server_force_close(lf->srv);
    if (resp || stop)
        respond_held(lf);
    if (stop && !lf->stopping) {
        lf->stopping = 1;
        esg_http_server_force_close(lf->srv);
        if (lf->done)
            uv_close((uv_handle_t *)&lf->wake, NULL);
    }
}

static void loop_main(void *arg)
{
    loopfx *lf = arg;
    esg_log_set_buffered(1);
    uv_run(&lf->loop, UV_RUN_DEFAULT);
    esg_log_set_buffered(0);
}

/* ---- fixture (test thread) --------------------------------------------------------------------*/

static const esg_http_route routes[] = {
    {ESG_HTTP_M(ESG_HTTP_GET), "/hello", h_hello, NULL, "hello", 0},
    {ESG_HTTP_M(ESG_HTTP_POST), "/echo", h_echo, NULL, "echo", 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/client/{client_id}", h_param, NULL, "client", 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/id", h_id, NULL, "id", 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/hold", h_hold, NULL, "hold", 0},
    {ESG_HTTP_M(ESG_HTTP_GET), "/big", h_big, NULL, "big", 0},
};

/* Route table with the big body attached (the table is copied by the router). */
static esg_http_route table[sizeof(routes) / sizeof(routes[0])];

static void base_config(esg_http_config *cfg)
{
    esg_http_config_init(cfg);
    cfg->header_timeout_ms = 5000;
    cfg->body_timeout_ms = 5000;
    cfg->keepalive_timeout_ms = 5000;
    cfg->write_timeout_ms = 5000;
    cfg->max_request_line = 1024;
    cfg->max_header_size = 2048;
    cfg->max_headers = 16;
    cfg->max_body = 1024;
}

static fixture *start(const esg_http_config *base, int nloops, size_t big_size)
{
    fixture *f = calloc(1, sizeof(*f));
    char err[200];
    assert_non_null(f);
    uv_mutex_init(&f->mu);
    uv_cond_init(&f->cv);
    f->nloops = nloops;
    memcpy(table, routes, sizeof(routes));
    if (big_size > 0) {
        char *b = malloc(big_size);
        memset(b, 'x', big_size);
        assert_int_equal(esg_http_body_new(b, big_size, "application/octet-stream", &f->big), 0);
        free(b);
        table[5].data = f->big;
    }
    assert_int_equal(
        esg_http_router_new(table, sizeof(table) / sizeof(table[0]), &f->router, err, sizeof(err)),
        0);
    for (int i = 0; i < nloops; i++) {
        loopfx *lf = &f->loops[i];
        int fd;
        lf->f = f;
        assert_int_equal(uv_loop_init(&lf->loop), 0);
        assert_int_equal(esg_http_listen_fd("127.0.0.1", f->port, &fd), 0);
        if (i == 0)
            assert_int_equal(esg_http_fd_port(fd, &f->port), 0);
        esg_http_config cfg = *base;
        cfg.dispatch = dispatch;
        cfg.on_complete = on_complete;
        cfg.data = lf;
        assert_int_equal(esg_http_server_new(&lf->loop, &cfg, &lf->srv), 0);
        assert_int_equal(esg_http_server_listen(lf->srv, fd), 0);
        assert_int_equal(uv_async_init(&lf->loop, &lf->wake, on_wake), 0);
        lf->wake.data = lf;
    }
    for (int i = 0; i < nloops; i++)
        assert_int_equal(uv_thread_create(&f->loops[i].thread, loop_main, &f->loops[i]), 0);
    return f;
}

static void command(fixture *f, int *flag)
{
    uv_mutex_lock(&f->mu);
    *flag = 1;
    uv_mutex_unlock(&f->mu);
    for (int i = 0; i < f->nloops; i++)
        uv_async_send(&f->loops[i].wake);
}

/* Waits until *counter >= want (under mu), at most WAIT_MS. */
static int wait_for(fixture *f, const int *counter, int want)
{
    uint64_t deadline = uv_hrtime() + (uint64_t)WAIT_MS * 1000000u;
    uv_mutex_lock(&f->mu);
    while (*counter < want) {
        uint64_t now = uv_hrtime();
        if (now >= deadline || uv_cond_timedwait(&f->cv, &f->mu, deadline - now) != 0) {
            if (*counter < want) {
                uv_mutex_unlock(&f->mu);
                return -1;
            }
        }
    }
    uv_mutex_unlock(&f->mu);
    return 0;
}

static void stop(fixture *f)
{
    command(f, &f->cmd_stop);
    for (int i = 0; i < f->nloops; i++) {
        loopfx *lf = &f->loops[i];
        assert_int_equal(uv_thread_join(&lf->thread), 0);
        /* Every handle of the loop, the server's included, must be closed by now. */
        assert_int_equal(uv_loop_close(&lf->loop), 0);
        esg_http_server_free(lf->srv);
    }
    esg_http_router_free(f->router);
    esg_http_body_unref(f->big);
    uv_cond_destroy(&f->cv);
    uv_mutex_destroy(&f->mu);
    free(f);
}

/* ---- blocking client --------------------------------------------------------------------------*/

typedef struct cli {
    int fd;
    SSL *ssl;
    char buf[65536];
    size_t len;
} cli;

typedef struct resp {
    int status;
    char head[4096];
    char body[8192];
    size_t body_len;
} resp;

static int64_t now_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

static int connect_fd(int port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct timeval tv = {WAIT_MS / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static void cli_open(cli *c, int port)
{
    c->fd = connect_fd(port, 0);
    assert_true(c->fd >= 0);
    c->ssl = NULL;
    c->len = 0;
}

static void cli_close(cli *c)
{
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    close(c->fd);
    c->ssl = NULL;
}

static void cli_send(cli *c, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = c->ssl ? SSL_write(c->ssl, s, (int)n) : send(c->fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

static void cli_puts(cli *c, const char *s)
{
    cli_send(c, s, strlen(s));
}

/* Reads more bytes; 0 on EOF, -1 on error or timeout. */
static ssize_t cli_fill(cli *c)
{
    if (c->len == sizeof(c->buf))
        return -1;
    ssize_t r = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
                       : recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (r > 0)
        c->len += (size_t)r;
    return r < 0 ? -1 : r;
}

/* Reads one response. Returns 0, or -1 when the connection ended first. */
static int cli_response(cli *c, resp *r, int head_request)
{
    char *end;
    memset(r, 0, sizeof(*r));
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
        if (cli_fill(c) <= 0)
            return -1;
    }
    size_t hlen = (size_t)(end - c->buf) + 4;
    assert_true(hlen < sizeof(r->head));
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
    size_t cl = 0;
    const char *p = strstr(r->head, "\r\nContent-Length: ");
    if (p != NULL && !head_request)
        cl = strtoul(p + 18, NULL, 10);
    while (c->len < hlen + cl) {
        if (cli_fill(c) <= 0)
            return -1;
    }
    r->body_len = cl;
    memcpy(r->body, c->buf + hlen, cl < sizeof(r->body) ? cl : sizeof(r->body) - 1);
    memmove(c->buf, c->buf + hlen + cl, c->len - hlen - cl);
    c->len -= hlen + cl;
    return 0;
}

/* Waits until the peer closes; returns the milliseconds waited, or -1 on timeout. */
static int64_t cli_wait_closed(cli *c)
{
    int64_t t0 = now_ms();
    for (;;) {
        c->len = 0;
        ssize_t r = cli_fill(c);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return now_ms() - t0;
        if (r < 0)
            return -1;
    }
}

/* 1 when nothing arrived and the connection is still open after polling for `ms`. */
static int cli_quiet(cli *c, int ms)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    return poll(&pfd, 1, ms) == 0;
}

static void get_ok(cli *c, const char *path, const char *body)
{
    char req[256];
    resp r;
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    cli_puts(c, req);
    assert_int_equal(cli_response(c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, body);
}

/* ---- tests ------------------------------------------------------------------------------------*/

static void test_keepalive_and_security_headers(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    fixture *f = start(&cfg, 1, 0);
    cli c;
    resp r;
    cli_open(&c, f->port);
    for (int i = 0; i < 3; i++)
        get_ok(&c, "/hello", "hello");
    cli_puts(&c, "GET /hello HTTP/1.1\r\nHost: t\r\nX-Request-ID: trace-42\r\n\r\n");
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_non_null(strstr(r.head, "\r\nX-Request-ID: trace-42\r\n"));
    assert_non_null(strstr(r.head, "\r\nX-Content-Type-Options: nosniff\r\n"));
    assert_non_null(strstr(r.head, "\r\nReferrer-Policy: no-referrer\r\n"));
    assert_non_null(strstr(r.head, "\r\nX-Frame-Options: DENY\r\n"));
    assert_non_null(strstr(r.head, "\r\nContent-Security-Policy: default-src 'none'"));
    assert_non_null(strstr(r.head, "\r\nCache-Control: no-store\r\n"));
    assert_non_null(strstr(r.head, " GMT\r\n"));
    cli_puts(&c, "GET /id HTTP/1.1\r\nHost: t\r\nX-Request-ID: bad id!\r\n\r\n");
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_int_equal(strlen(r.body), 22);
    assert_non_null(strstr(r.head, r.body));
    cli_puts(&c, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cli_response(&c, &r, 1), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "\r\nContent-Length: 5\r\n"));
    cli_puts(&c, "DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"));
    get_ok(&c, "/client/abc%2Bdef", "abc+def");
    /* The HEAD response carried no body: the next response parses cleanly. */
    get_ok(&c, "/hello", "hello");
    cli_close(&c);
    stop(f);
}

static void test_pipelining(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    fixture *f = start(&cfg, 1, 0);
    cli c;
    resp r;
    cli_open(&c, f->port);
    char all[4096] = "";
    for (int i = 0; i < 20; i++) {
        char one[128];
        snprintf(one, sizeof(one), "GET /client/n%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
        strcat(all, one);
    }
    strcat(all, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
    cli_puts(&c, all);
    for (int i = 0; i < 20; i++) {
        char want[16];
        snprintf(want, sizeof(want), "n%d", i);
        assert_int_equal(cli_response(&c, &r, 0), 0);
        assert_string_equal(r.body, want);
    }
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_string_equal(r.body, "body");
    cli_close(&c);
    stop(f);
}

/* Sends `req`, expects `status`, then the server closing the connection. */
static void expect_error(fixture *f, const char *req, size_t n, int status)
{
    cli c;
    resp r;
    cli_open(&c, f->port);
    cli_send(&c, req, n);
    assert_int_equal(cli_response(&c, &r, 0), 0);
    if (r.status != status)
        fail_msg("expected %d, got %d for %.60s", status, r.status, req);
    assert_non_null(strstr(r.head, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(r.body, "\"error\":\"invalid_request\""));
    assert_true(cli_wait_closed(&c) >= 0);
    cli_close(&c);
}

static void test_limits_and_errors(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    fixture *f = start(&cfg, 1, 0);
    static char buf[16384];
    int n;
    n = snprintf(buf, sizeof(buf), "GET /hello HTTP/1.1\r\nHost: t\r\nX: %03000d\r\n\r\n", 0);
    expect_error(f, buf, (size_t)n, 431);
    n = snprintf(buf, sizeof(buf), "GET /hello HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 20; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "H%d: v\r\n", i);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\r\n");
    expect_error(f, buf, (size_t)n, 431);
    n = snprintf(buf, sizeof(buf), "GET /%01100d HTTP/1.1\r\nHost: t\r\n\r\n", 0);
    expect_error(f, buf, (size_t)n, 414);
    /* The body follows at once: lingering lets the client read the 413 before the close. */
    n = snprintf(buf, sizeof(buf),
                 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
    memset(buf + n, 'b', 5000);
    expect_error(f, buf, (size_t)n + 5000, 413);
    n = snprintf(buf, sizeof(buf),
                 "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "200\r\n%0512d\r\n", 0);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "0\r\n\r\n");
    expect_error(f, buf, (size_t)n, 413);
    expect_error(f, "garbage\r\n\r\n", 11, 400);
    n = snprintf(
        buf, sizeof(buf),
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab");
    expect_error(f, buf, (size_t)n, 400);
    n = snprintf(buf, sizeof(buf),
                 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: "
                 "chunked\r\n\r\n0\r\n\r\n");
    expect_error(f, buf, (size_t)n, 400);
    expect_error(f, "BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 31, 501);
    stop(f);
}

static void test_error_then_linger(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    fixture *f = start(&cfg, 1, 0);
    cli c;
    resp r;
    static char chunk[65536];
    cli_open(&c, f->port);
    cli_puts(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n");
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_int_equal(r.status, 413);
    /*
     * The client had already started its body. The server shut its side down but keeps
     * draining, so the whole body goes through instead of being answered with a reset.
     */
    memset(chunk, 'b', sizeof(chunk));
    for (int i = 0; i < 16; i++)
        assert_int_equal(send(c.fd, chunk, sizeof(chunk), MSG_NOSIGNAL), (ssize_t)sizeof(chunk));
    c.len = 0;
    assert_int_equal(cli_fill(&c), 0);
    cli_close(&c);
    stop(f);
}

static void test_header_timeout(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    cfg.header_timeout_ms = 150;
    fixture *f = start(&cfg, 1, 0);
    cli silent, partial, good;
    resp r;
    int64_t t0 = now_ms();
    cli_open(&silent, f->port);
    cli_open(&partial, f->port);
    cli_puts(&partial, "GET /hello HTTP/1.1\r\nHo");
    /* Another client is served while those two hold their connections. */
    cli_open(&good, f->port);
    get_ok(&good, "/hello", "hello");
    int64_t waited = cli_wait_closed(&silent);
    assert_true(waited >= 0);
    assert_true(now_ms() - t0 >= 120);
    assert_int_equal(cli_response(&partial, &r, 0), 0);
    assert_int_equal(r.status, 408);
    assert_true(cli_wait_closed(&partial) >= 0);
    /* The good client started its own idle (keep-alive) period and is still usable. */
    get_ok(&good, "/hello", "hello");
    cli_close(&silent);
    cli_close(&partial);
    cli_close(&good);
    stop(f);
}

static void test_body_and_keepalive_timeouts(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    cfg.body_timeout_ms = 100;
    cfg.keepalive_timeout_ms = 100;
    fixture *f = start(&cfg, 1, 0);
    cli slow, idle;
    resp r;
    cli_open(&slow, f->port);
    cli_puts(&slow, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    assert_int_equal(cli_response(&slow, &r, 0), 0);
    assert_int_equal(r.status, 408);
    assert_true(cli_wait_closed(&slow) >= 0);
    cli_open(&idle, f->port);
    get_ok(&idle, "/hello", "hello");
    int64_t t0 = now_ms();
    assert_true(cli_wait_closed(&idle) >= 0);
    assert_true(now_ms() - t0 >= 60);
    cli_close(&slow);
    cli_close(&idle);
    stop(f);
}

static void test_write_timeout(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    cfg.write_timeout_ms = 100;
    /* Larger than any loopback socket buffers can absorb, so the write must stall. */
    fixture *f = start(&cfg, 1, (size_t)32 << 20);
    cli c;
    c.fd = connect_fd(f->port, 1);
    assert_true(c.fd >= 0);
    c.ssl = NULL;
    c.len = 0;
    cli_puts(&c, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
    /* The client never reads; the server drops the response and the connection. */
    assert_int_equal(wait_for(f, &f->completed, 1), 0);
    uv_mutex_lock(&f->mu);
    assert_int_equal(f->last_status, 200);
    assert_int_equal(f->last_aborted, 1);
    uv_mutex_unlock(&f->mu);
    cli_close(&c);
    stop(f);
}

static void test_shutdown_with_inflight_request(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    /* Longer than any wait here, so only the shutdown can close the idle connection. */
    cfg.keepalive_timeout_ms = 60000;
    fixture *f = start(&cfg, 1, 0);
    cli busy, idle;
    resp r;
    cli_open(&idle, f->port);
    get_ok(&idle, "/hello", "hello");
    cli_open(&busy, f->port);
    cli_puts(&busy, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(wait_for(f, &f->held_total, 1), 0);
    command(f, &f->cmd_shutdown);
    /* The idle keep-alive connection is closed at once. */
    assert_true(cli_wait_closed(&idle) >= 0);
    /* New connections are refused once the listener is closed (the close is asynchronous). */
    int refused = 0;
    for (int i = 0; i < 200 && !refused; i++) {
        int fd = connect_fd(f->port, 0);
        if (fd == -ECONNREFUSED)
            refused = 1;
        else if (fd >= 0)
            close(fd);
    }
    assert_true(refused);
    /* The request in progress still gets its response, then its connection closes. */
    assert_true(cli_quiet(&busy, 50));
    command(f, &f->cmd_respond);
    assert_int_equal(cli_response(&busy, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "held");
    assert_non_null(strstr(r.head, "\r\nConnection: close\r\n"));
    assert_true(cli_wait_closed(&busy) >= 0);
    assert_int_equal(wait_for(f, &f->shutdown_done, 1), 0);
    uv_mutex_lock(&f->mu);
    assert_int_equal(f->gone_seen, 0);
    assert_int_equal(f->respond_rc, 0);
    uv_mutex_unlock(&f->mu);
    cli_close(&idle);
    cli_close(&busy);
    stop(f);
}

static void test_force_close(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    fixture *f = start(&cfg, 1, 0);
    cli busy;
    cli_open(&busy, f->port);
    cli_puts(&busy, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(wait_for(f, &f->held_total, 1), 0);
    command(f, &f->cmd_shutdown);
    command(f, &f->cmd_force);
    assert_true(cli_wait_closed(&busy) >= 0);
    /* done_cb waits for the handler, which then finds its request gone. */
    uv_mutex_lock(&f->mu);
    assert_int_equal(f->shutdown_done, 0);
    uv_mutex_unlock(&f->mu);
    command(f, &f->cmd_respond);
    assert_int_equal(wait_for(f, &f->shutdown_done, 1), 0);
    uv_mutex_lock(&f->mu);
    assert_int_equal(f->gone_seen, 1);
    assert_int_equal(f->respond_rc, ESP_ECANCELED);
    assert_int_equal(f->last_aborted, 1);
    uv_mutex_unlock(&f->mu);
    cli_close(&busy);
    stop(f);
}

static void test_connection_limit(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    cfg.max_connections = 2;
    fixture *f = start(&cfg, 1, 0);
    cli a, b, c;
    resp r;
    cli_open(&a, f->port);
    get_ok(&a, "/hello", "hello");
    cli_open(&b, f->port);
    get_ok(&b, "/hello", "hello");
    cli_open(&c, f->port);
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.body, "temporarily_unavailable"));
    assert_true(cli_wait_closed(&c) >= 0);
    cli_close(&c);
    /* Once a slot is free, connections are served again. */
    cli_close(&a);
    int served = 0;
    for (int i = 0; i < 100 && !served; i++) {
        cli_open(&c, f->port);
        cli_puts(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
        served = cli_response(&c, &r, 0) == 0 && r.status == 200;
        cli_close(&c);
    }
    assert_true(served);
    cli_close(&b);
    stop(f);
}

static void test_two_loops_share_the_port(void **state)
{
    (void)state;
    esg_http_config cfg;
    base_config(&cfg);
    fixture *f = start(&cfg, 2, 0);
    cli c[24];
    for (int i = 0; i < 24; i++) {
        cli_open(&c[i], f->port);
        get_ok(&c[i], "/hello", "hello");
    }
    for (int i = 0; i < 24; i++)
        cli_close(&c[i]);
    command(f, &f->cmd_shutdown);
    assert_int_equal(wait_for(f, &f->shutdown_done, 2), 0);
    /* SO_REUSEPORT spreads connections over both sockets (2^-23 chance of a false failure). */
    assert_true(f->loops[0].stats.accepted > 0);
    assert_true(f->loops[1].stats.accepted > 0);
    assert_int_equal(f->loops[0].stats.accepted + f->loops[1].stats.accepted, 24);
    stop(f);
}

/* ---- TLS --------------------------------------------------------------------------------------*/

/* Writes a self-signed P-256 certificate for "localhost" and its key into dir. */
static X509 *make_cert(const char *dir)
{
    char path[128];
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(key);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:localhost");
    assert_non_null(ext);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    snprintf(path, sizeof(path), "%s/cert.pem", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    PEM_write_X509(fp, x);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/key.pem", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    EVP_PKEY_free(key);
    return x;
}

/* A temporary directory with a certificate and key, and a server context using them. */
typedef struct tls_files {
    char dir[32], cert[96], key[96];
    X509 *x;
} tls_files;

static void tls_files_make(tls_files *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/esg-http-tls-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    t->x = make_cert(t->dir);
    snprintf(t->cert, sizeof(t->cert), "%s/cert.pem", t->dir);
    snprintf(t->key, sizeof(t->key), "%s/key.pem", t->dir);
}

static void tls_files_remove(tls_files *t)
{
    X509_free(t->x);
    unlink(t->cert);
    unlink(t->key);
    rmdir(t->dir);
}

static int tls_connect(cli *c, int port, X509 *trust, int max_version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x02h2\x08http/1.1", 12);
    if (max_version)
        SSL_CTX_set_max_proto_version(ctx, max_version);
    cli_open(c, port);
    c->ssl = SSL_new(ctx);
    SSL_CTX_free(ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    int ok = SSL_connect(c->ssl) == 1;
    ERR_clear_error();
    return ok;
}

static void test_tls_roundtrip(void **state)
{
    (void)state;
    tls_files t;
    tls_files_make(&t);
    X509 *x = t.x;
    SSL_CTX *ctx;
    assert_int_equal(esg_http_tls_ctx_new(t.cert, t.key, 5, &ctx), ESP_EINVAL);
    assert_int_equal(esg_http_tls_ctx_new(t.key, t.cert, 0, &ctx), ESP_ECONFIG);
    assert_int_equal(esg_http_tls_ctx_new(t.cert, t.key, TLS1_3_VERSION, &ctx), 0);
    esg_http_config cfg;
    base_config(&cfg);
    cfg.tls = ctx;
    cfg.max_body = 100000;
    fixture *f = start(&cfg, 1, 0);
    /* The server holds its own reference. */
    SSL_CTX_free(ctx);
    cli c;
    resp r;
    assert_true(tls_connect(&c, f->port, x, 0));
    const unsigned char *alpn;
    unsigned alpn_len;
    SSL_get0_alpn_selected(c.ssl, &alpn, &alpn_len);
    assert_int_equal(alpn_len, 8);
    assert_memory_equal(alpn, "http/1.1", 8);
    cli_puts(&c, "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_non_null(strstr(r.head, "\r\nStrict-Transport-Security: max-age=31536000\r\n"));
    /* Pipelined requests and a body larger than one TLS record. */
    static char big[60000];
    int n = snprintf(big, sizeof(big),
                     "GET /client/x HTTP/1.1\r\nHost: localhost\r\n\r\n"
                     "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 40000\r\n\r\n");
    memset(big + n, 'z', 40000);
    cli_send(&c, big, (size_t)n + 40000);
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_string_equal(r.body, "x");
    assert_int_equal(cli_response(&c, &r, 0), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 40000);
    get_ok(&c, "/hello", "hello");
    cli_close(&c);
    /* The minimum version is enforced. */
    assert_false(tls_connect(&c, f->port, x, TLS1_2_VERSION));
    cli_close(&c);
    stop(f);
    tls_files_remove(&t);
}

static void test_tls_handshake_failures(void **state)
{
    (void)state;
    tls_files t;
    tls_files_make(&t);
    X509 *x = t.x;
    SSL_CTX *ctx;
    assert_int_equal(esg_http_tls_ctx_new(t.cert, t.key, 0, &ctx), 0);
    esg_http_config cfg;
    base_config(&cfg);
    cfg.tls = ctx;
    cfg.header_timeout_ms = 100;
    fixture *f = start(&cfg, 1, 0);
    SSL_CTX_free(ctx);
    cli silent, plain, good;
    /* The handshake is bounded by the header timeout. */
    cli_open(&silent, f->port);
    /* Plain HTTP on the TLS port fails the handshake and closes. */
    cli_open(&plain, f->port);
    cli_puts(&plain, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_true(cli_wait_closed(&plain) >= 0);
    assert_true(cli_wait_closed(&silent) >= 0);
    /* TLS 1.2 is accepted by default. */
    assert_true(tls_connect(&good, f->port, x, TLS1_2_VERSION));
    get_ok(&good, "/hello", "hello");
    cli_close(&good);
    cli_close(&silent);
    cli_close(&plain);
    stop(f);
    tls_files_remove(&t);
}

int main(void)
{
    esg_log_set_level(ESP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_and_security_headers),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_limits_and_errors),
        cmocka_unit_test(test_error_then_linger),
        cmocka_unit_test(test_header_timeout),
        cmocka_unit_test(test_body_and_keepalive_timeouts),
        cmocka_unit_test(test_write_timeout),
        cmocka_unit_test(test_shutdown_with_inflight_request),
        cmocka_unit_test(test_force_close),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_two_loops_share_the_port),
        cmocka_unit_test(test_tls_roundtrip),
        cmocka_unit_test(test_tls_handshake_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
