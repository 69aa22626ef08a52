/*
 * The discovery hot path on two loops: a cached 1 KB JSON document (tests/data/http/
 * discovery-1k.json) shared by both loops as one esg_http_body, served to keep-alive clients.
 *
 * As a test (default) it runs concurrent pipelining clients against two loops bound to one port
 * and checks every response byte for byte, then prints the rate it saw (not a benchmark figure:
 * client and server share the machine and the test may run under sanitizers).
 *
 * As a benchmark server: ESG_HTTP_BENCH_SERVE=<port>[:<seconds>] serves the same document on
 * 127.0.0.1:<port> at /.well-known/openid-configuration with two loops until the time is up
 * (default 60 s) or SIGINT/SIGTERM, for an external load generator such as
 *   wrk -t2 -c64 -d10s http://127.0.0.1:<port>/.well-known/openid-configuration
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
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

#define NLOOPS   2
#define NCLIENTS 4
#define BATCHES  200
#define PIPELINE 10

typedef struct bloop {
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t stop;
    esg_http_server *srv;
    esg_http_stats stats;
} bloop;

static esg_http_body *doc;
static char doc_bytes[2048];
static size_t doc_len;
static esg_http_router *router;
static bloop loops[NLOOPS];
static int port;

static void h_discovery(esg_http_req *req, void *data)
{
    esg_http_resp_cache(req, 3600);
    esg_http_resp_cors_any(req);
    esg_http_respond_body(req, 200, data);
}

static void on_done(esg_http_server *srv, void *data)
{
    bloop *bl = data;
    esg_http_server_stats(srv, &bl->stats);
    uv_close((uv_handle_t *)&bl->stop, NULL);
}

static void on_stop(uv_async_t *a)
{
    bloop *bl = a->data;
    if (esg_http_server_shutdown(bl->srv, on_done, bl) == 0)
        esg_http_server_force_close(bl->srv);
}

static void loop_main(void *arg)
{
    bloop *bl = arg;
    esg_log_set_buffered(1);
    uv_run(&bl->loop, UV_RUN_DEFAULT);
    esg_log_set_buffered(0);
}

static void load_doc(void)
{
    FILE *fp = fopen(ESG_TEST_DATA_DIR "/http/discovery-1k.json", "rb");
    assert_non_null(fp);
    doc_len = fread(doc_bytes, 1, sizeof(doc_bytes), fp);
    fclose(fp);
    assert_int_equal(doc_len, 1024);
}

static void start_loops(int want_port)
{
    static esg_http_route routes[1];
    routes[0] = (esg_http_route){ESG_HTTP_M(ESG_HTTP_GET),
                                 "/.well-known/openid-configuration",
                                 h_discovery,
                                 NULL,
                                 "discovery",
                                 0};
    load_doc();
    assert_int_equal(esg_http_body_new(doc_bytes, doc_len, "application/json", &doc), 0);
    routes[0].data = doc;
    assert_int_equal(esg_http_router_new(routes, 1, &router, NULL, 0), 0);
    esg_http_config cfg;
    esg_http_config_init(&cfg);
    cfg.dispatch = esg_http_router_dispatch;
    cfg.data = router;
    port = want_port;
    for (int i = 0; i < NLOOPS; i++) {
        int fd;
        assert_int_equal(uv_loop_init(&loops[i].loop), 0);
        assert_int_equal(esg_http_listen_fd("127.0.0.1", port, &fd), 0);
        if (i == 0)
            assert_int_equal(esg_http_fd_port(fd, &port), 0);
        assert_int_equal(esg_http_server_new(&loops[i].loop, &cfg, &loops[i].srv), 0);
        assert_int_equal(esg_http_server_listen(loops[i].srv, fd), 0);
        assert_int_equal(uv_async_init(&loops[i].loop, &loops[i].stop, on_stop), 0);
        loops[i].stop.data = &loops[i];
    }
    for (int i = 0; i < NLOOPS; i++)
        assert_int_equal(uv_thread_create(&loops[i].thread, loop_main, &loops[i]), 0);
}

static uint64_t stop_loops(void)
{
    uint64_t requests = 0;
    for (int i = 0; i < NLOOPS; i++)
        uv_async_send(&loops[i].stop);
    for (int i = 0; i < NLOOPS; i++) {
        assert_int_equal(uv_thread_join(&loops[i].thread), 0);
        assert_int_equal(uv_loop_close(&loops[i].loop), 0);
        esg_http_server_free(loops[i].srv);
        requests += loops[i].stats.requests;
    }
    esg_http_router_free(router);
    esg_http_body_unref(doc);
    return requests;
}

/* ---- clients ----------------------------------------------------------------------------------*/

typedef struct client {
    uv_thread_t thread;
    int ok;
    int failed;
} client;

static int read_response(int fd, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end != NULL) {
            size_t hlen = (size_t)(end - buf) + 4;
            const char *cl = strstr(buf, "\r\nContent-Length: ");
            if (cl == NULL || cl > end || strtoul(cl + 18, NULL, 10) != doc_len ||
                strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) != 0 ||
                strstr(buf, "\r\nCache-Control: public, max-age=3600\r\n") == NULL)
                return -1;
            if (*have >= hlen + doc_len) {
                if (memcmp(buf + hlen, doc_bytes, doc_len) != 0)
                    return -1;
                memmove(buf, buf + hlen + doc_len, *have - hlen - doc_len);
                *have -= hlen + doc_len;
                return 0;
            }
        }
        ssize_t r = recv(fd, buf + *have, cap - *have - 1, 0);
        if (r <= 0)
            return -1;
        *have += (size_t)r;
        buf[*have] = '\0';
    }
}

static void client_main(void *arg)
{
    client *cl = arg;
    static const char req[] = "GET /.well-known/openid-configuration HTTP/1.1\r\nHost: b\r\n\r\n";
    char batch[sizeof(req) * PIPELINE];
    char buf[65536];
    size_t have = 0;
    for (int i = 0; i < PIPELINE; i++)
        memcpy(batch + i * (sizeof(req) - 1), req, sizeof(req) - 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        cl->failed = 1;
        close(fd);
        return;
    }
    for (int b = 0; b < BATCHES && !cl->failed; b++) {
        size_t len = (sizeof(req) - 1) * PIPELINE;
        if (send(fd, batch, len, MSG_NOSIGNAL) != (ssize_t)len) {
            cl->failed = 1;
            break;
        }
        for (int i = 0; i < PIPELINE; i++) {
            if (read_response(fd, buf, sizeof(buf), &have) != 0) {
                cl->failed = 1;
                break;
            }
            cl->ok++;
        }
    }
    close(fd);
}

static void test_discovery_two_loops(void **state)
{
    (void)state;
    client cl[NCLIENTS];
    start_loops(0);
    uint64_t t0 = uv_hrtime();
    for (int i = 0; i < NCLIENTS; i++) {
        cl[i].ok = cl[i].failed = 0;
        assert_int_equal(uv_thread_create(&cl[i].thread, client_main, &cl[i]), 0);
    }
    int total = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        assert_int_equal(uv_thread_join(&cl[i].thread), 0);
        assert_int_equal(cl[i].failed, 0);
        total += cl[i].ok;
    }
    double secs = (double)(uv_hrtime() - t0) / 1e9;
    assert_int_equal(total, NCLIENTS * BATCHES * PIPELINE);
    assert_int_equal(stop_loops(), (uint64_t)total);
    printf("[ INFO     ] %d responses in %.3f s (%.0f/s, clients on the same machine)\n", total,
           secs, total / secs);
}

static int serve(const char *spec)
{
    int p = atoi(spec), seconds = 60;
    const char *colon = strchr(spec, ':');
    if (colon != NULL)
        seconds = atoi(colon + 1);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Loop threads inherit the mask, so the signals reach sigtimedwait() below. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    start_loops(p);
    printf("serving on 127.0.0.1:%d for %d s with %d loops\n", port, seconds, NLOOPS);
    fflush(stdout);
    struct timespec ts = {seconds, 0};
    sigtimedwait(&set, NULL, &ts);
    uint64_t n = stop_loops();
    printf("served %llu requests\n", (unsigned long long)n);
    return 0;
}

int main(void)
{
    const char *spec = getenv("ESG_HTTP_BENCH_SERVE");
    esg_log_set_level(ESP_LOG_ERROR);
    if (spec != NULL && spec[0] != '\0')
        return serve(spec);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_two_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
