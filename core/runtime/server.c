#include "runtime/server.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "keys/keys.h"
#include "oidc/discovery.h"
#include "plugin/call.h"
#include "plugin/host.h"
#include "runtime/loop.h"
#include "runtime/metrics.h"
#include "runtime/routes.h"
#include "runtime/server_internal.h"
#include "runtime/version.h"
#include "runtime/workers.h"
#include "util/log.h"
#include "util/status.h"

#define MAX_LOOPS  256
#define MAX_LISTEN 16

typedef struct loop_ctx {
    esg_loop loop;
    esg_http_server *http;
    esg_http_body *docs[ESG_DOC_COUNT]; /* this loop's references; touched only by its thread */
    int fds[MAX_LISTEN];
    size_t n_fds;
    uv_timer_t grace;      /* drain deadline, then force-close */
    uv_timer_t drain_wait; /* waits for plugin calls still in flight after the drain */
    int drain_waited_ms;
    int timers_ready; /* grace and drain_wait are initialised */
    esg_task start_task;
    esg_task stop_task;
    pthread_t thread;
    int has_thread;
} loop_ctx;

/* Hands a new document to one loop, which swaps it in on its own thread. */
typedef struct doc_update {
    esg_task task;
    loop_ctx *lc;
    int doc;
    esg_http_body *body; /* one reference, owned by the update */
} doc_update;

static struct {
    const esg_server_settings *s;
    int n_loops;
    loop_ctx *loops;
    esg_http_router *router;
    esg_http_route *routes;
    const char **route_names;
    char **patterns;
    size_t n_routes;
    SSL_CTX *tls;
    esg_http_config http_cfg;
    _Atomic int ready; /* every loop listens and nothing drains */
    _Atomic int draining;
    _Atomic int listening;
    _Atomic int loops_done;
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t refresh;
    uv_async_t stop_async;
    int loops_initialized_signals; /* the signal, refresh and stop handles of loop 0 exist */
    int port;
    int status;
} S;

/* ---------------------------------------------------------------------------------------------
 * Services for route handlers.
 */

esg_http_body *esg_server_document(esg_http_req *req, int doc)
{
    loop_ctx *lc = esg_http_req_server_data(req);
    return doc >= 0 && doc < ESG_DOC_COUNT ? lc->docs[doc] : NULL;
}

const char *esg_server_not_ready_reason(void)
{
    if (atomic_load(&S.draining))
        return "draining";
    if (!atomic_load(&S.ready))
        return "starting";
    return NULL;
}

int esg_server_metrics_allowed(const char *remote, int (*is_loopback)(const char *))
{
    if (!S.s->metrics_enabled)
        return 0;
    return !S.s->metrics_loopback_only || is_loopback(remote);
}

/* ---------------------------------------------------------------------------------------------
 * Documents: built once (discovery) or on every key refresh (JWKS), then one reference per loop.
 */

static void apply_update(esg_task *t)
{
    doc_update *u = (doc_update *)t;
    esg_http_body_unref(u->lc->docs[u->doc]);
    u->lc->docs[u->doc] = u->body;
    free(u);
}

/* Publishes `body` to every loop; takes over the caller's reference. [loop 0 or init] */
static void publish(int doc, esg_http_body *body, int loops_running)
{
    for (int i = 0; i < S.n_loops; i++) {
        loop_ctx *lc = &S.loops[i];
        if (!loops_running) {
            esg_http_body_unref(lc->docs[doc]);
            lc->docs[doc] = esg_http_body_ref(body);
            continue;
        }
        doc_update *u = malloc(sizeof(*u));
        if (u == NULL)
            continue; /* That loop keeps the previous version. */
        u->lc = lc;
        u->doc = doc;
        u->body = esg_http_body_ref(body);
        u->task.run = apply_update;
        esg_loop_post(&lc->loop, &u->task);
    }
    esg_http_body_unref(body);
}

static int build_discovery(void)
{
    esg_discovery_input in = {S.s->issuer, S.s->base_path};
    json_t *openid = NULL, *oauth = NULL;
    int rc = esg_discovery_build(&in, &openid, &oauth);
    if (rc != 0) {
        esg_logf(ESP_LOG_ERROR, "server.discovery", "cannot build discovery: %s", esg_strerror(rc));
        return rc;
    }
    esg_http_body *a = NULL, *b = NULL;
    rc = esg_http_body_new_json(openid, &a);
    if (rc == 0)
        rc = esg_http_body_new_json(oauth, &b);
    json_decref(openid);
    json_decref(oauth);
    if (rc != 0) {
        esg_http_body_unref(a);
        return rc;
    }
    publish(ESG_DOC_OPENID, a, 0);
    publish(ESG_DOC_OAUTH, b, 0);
    return 0;
}

typedef struct refresh_ctx {
    int loops_running;
    int *done; /* set when the first refresh completes (start-up) */
} refresh_ctx;

static void on_jwks(void *ud, int status, const char *jwks, size_t len)
{
    refresh_ctx *r = ud;
    if (status == 0) {
        esg_http_body *body = NULL;
        if (esg_http_body_new(jwks, len, "application/json", &body) == 0)
            publish(ESG_DOC_JWKS, body, r->loops_running);
    } else {
        esg_logf(ESP_LOG_ERROR, "keys.refresh_failed",
                 "key stores could not list their keys (%s); the previous JWKS stays",
                 esg_strerror(status));
    }
    if (r->done != NULL)
        *r->done = status == 0 ? 1 : -1;
    free(r);
}

static int refresh_jwks(int loops_running, int *done)
{
    refresh_ctx *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ESP_ENOMEM;
    r->loops_running = loops_running;
    r->done = done;
    int rc = esg_keys_refresh(on_jwks, r);
    if (rc != 0)
        free(r);
    return rc;
}

static void on_refresh_timer(uv_timer_t *t)
{
    (void)t;
    refresh_jwks(1, NULL);
}

/* Key stores rotated underneath us: rebuild the JWKS on loop 0 (one request at a time). */
static _Atomic int rotation_refresh_posted;
static esg_task rotation_task;

static void run_rotation_refresh(esg_task *t)
{
    (void)t;
    atomic_store(&rotation_refresh_posted, 0);
    esg_logf(ESP_LOG_INFO, "keys.rotated", "the active keys changed; publishing the JWKS");
    refresh_jwks(1, NULL);
}

static void on_keys_rotated(void)
{
    if (S.loops == NULL || atomic_load(&S.draining) || atomic_exchange(&rotation_refresh_posted, 1))
        return;
    rotation_task.run = run_rotation_refresh;
    esg_loop_post(&S.loops[0].loop, &rotation_task);
}

/* ---------------------------------------------------------------------------------------------
 * Requests: routing, access log and metrics.
 */

static void dispatch(esg_http_req *req, void *data)
{
    (void)data; /* the loop context, reached by handlers through esg_http_req_server_data() */
    esg_http_router_dispatch(req, S.router);
}

static void on_complete(esg_http_req *req, const esg_http_done_info *info, void *data)
{
    loop_ctx *lc = data;
    const esg_http_route *route = esg_http_req_route(req);
    int idx = -1;
    if (route != NULL && S.router != NULL)
        idx = (int)(route - esg_http_router_route(S.router, 0));
    esg_metrics_request(lc->loop.index, idx, info->status, info->latency_us);
    if (!S.s->access_log || !esg_log_enabled(ESP_LOG_INFO))
        return;
    /* The query string is never logged: it can carry codes, tokens and hints. */
    esp_str path = esg_http_req_path(req);
    esg_log_kv kv[] = {
        ESG_KV_STR("request_id", esg_http_req_id(req)),
        ESG_KV_STR("method", esg_http_method_name(esg_http_req_method(req))),
        ESG_KV_STRN("path", path.ptr ? path.ptr : "", path.len),
        ESG_KV_STR("route", info->route ? info->route : "-"),
        ESG_KV_INT("status", info->status),
        ESG_KV_DBL("latency_ms", (double)info->latency_us / 1000.0),
        ESG_KV_INT("bytes_out", (int64_t)info->bytes_out),
        ESG_KV_STR("remote", esg_http_req_remote_addr(req)),
    };
    esg_log_event(ESP_LOG_INFO, "http.request", kv, sizeof(kv) / sizeof(kv[0]));
}

/* ---------------------------------------------------------------------------------------------
 * Start and stop of each loop.
 */

static void init_timers(loop_ctx *lc)
{
    if (lc->timers_ready)
        return;
    uv_timer_init(&lc->loop.uv, &lc->grace);
    uv_timer_init(&lc->loop.uv, &lc->drain_wait);
    lc->grace.data = lc->drain_wait.data = lc;
    lc->timers_ready = 1;
}

static void loop_start(esg_task *t)
{
    loop_ctx *lc = (loop_ctx *)((char *)t - offsetof(loop_ctx, start_task));
    init_timers(lc);
    /* Each loop's context is the data its requests carry (esg_http_req_server_data). */
    esg_http_config cfg = S.http_cfg;
    cfg.data = lc;
    int rc = esg_http_server_new(&lc->loop.uv, &cfg, &lc->http);
    for (size_t i = 0; rc == 0 && i < lc->n_fds; i++) {
        rc = esg_http_server_listen(lc->http, lc->fds[i]);
        lc->fds[i] = -1;
    }
    if (rc != 0) {
        esg_logf(ESP_LOG_ERROR, "server.listen_failed", "loop %d cannot serve: %s", lc->loop.index,
                 esg_strerror(rc));
        esg_server_request_stop();
        return;
    }
    if (atomic_fetch_add(&S.listening, 1) + 1 == S.n_loops && !atomic_load(&S.draining)) {
        atomic_store(&S.ready, 1);
        esg_log_kv kv[] = {ESG_KV_STR("version", ESG_VERSION), ESG_KV_INT("loops", S.n_loops),
                           ESG_KV_INT("port", S.port), ESG_KV_STR("issuer", S.s->issuer)};
        esg_log_event(ESP_LOG_INFO, "server.ready", kv, 4);
        if (S.s->on_ready != NULL)
            S.s->on_ready(S.port, S.s->on_ready_data);
    }
}

static void loop_close(loop_ctx *lc)
{
    if (lc->http != NULL) {
        esg_http_server_free(lc->http);
        lc->http = NULL;
    }
    for (int d = 0; d < ESG_DOC_COUNT; d++) {
        esg_http_body_unref(lc->docs[d]);
        lc->docs[d] = NULL;
    }
    if (lc->timers_ready) {
        uv_close((uv_handle_t *)&lc->grace, NULL);
        uv_close((uv_handle_t *)&lc->drain_wait, NULL);
    }
    esg_host_close_timers(&lc->loop);
    if (lc->loop.index == 0 && S.loops_initialized_signals) {
        uv_close((uv_handle_t *)&S.sig_term, NULL);
        uv_close((uv_handle_t *)&S.sig_int, NULL);
        uv_close((uv_handle_t *)&S.sig_hup, NULL);
        uv_close((uv_handle_t *)&S.refresh, NULL);
        uv_close((uv_handle_t *)&S.stop_async, NULL);
    }
    esg_loop_close_handles(&lc->loop);
}

/*
 * After the HTTP drain, plugin calls and blocking jobs may still be finishing (their completions
 * are posted to the loop that started them), so every loop keeps its wake-up handle open until
 * none is left anywhere, or until the grace period says to give up.
 */
static int work_left(void)
{
    return esg_calls_pending() > 0 || esg_workers_outstanding() > 0;
}

static void on_drain_wait(uv_timer_t *t)
{
    loop_ctx *lc = t->data;
    if (work_left() && lc->drain_waited_ms < (int)S.s->shutdown_timeout_ms) {
        lc->drain_waited_ms += 10;
        uv_timer_start(&lc->drain_wait, on_drain_wait, 10, 0);
        return;
    }
    if (work_left())
        esg_logf(ESP_LOG_WARN, "server.calls_abandoned",
                 "%lld plugin calls and %lld blocking jobs never completed; stopping anyway",
                 (long long)esg_calls_pending(), (long long)esg_workers_outstanding());
    loop_close(lc);
}

static void on_http_drained(esg_http_server *http, void *data)
{
    (void)http;
    loop_ctx *lc = data;
    uv_timer_stop(&lc->grace);
    on_drain_wait(&lc->drain_wait);
}

static void on_grace(uv_timer_t *t)
{
    loop_ctx *lc = t->data;
    esg_logf(ESP_LOG_WARN, "server.drain_timeout",
             "loop %d: closing the connections still open after the shutdown grace period",
             lc->loop.index);
    esg_http_server_force_close(lc->http);
}

static void loop_stop(esg_task *t)
{
    loop_ctx *lc = (loop_ctx *)((char *)t - offsetof(loop_ctx, stop_task));
    init_timers(lc);
    if (lc->http == NULL) {
        /* Never started listening (start-up failure): nothing to drain. */
        on_drain_wait(&lc->drain_wait);
        return;
    }
    uv_timer_start(&lc->grace, on_grace, S.s->shutdown_timeout_ms, 0);
    if (esg_http_server_shutdown(lc->http, on_http_drained, lc) != 0)
        on_http_drained(lc->http, lc);
}

static void begin_stop(void)
{
    if (atomic_exchange(&S.draining, 1))
        return;
    atomic_store(&S.ready, 0);
    esg_logf(ESP_LOG_INFO, "server.stopping", "draining in-flight requests (at most %u ms)",
             S.s->shutdown_timeout_ms);
    uv_signal_stop(&S.sig_term);
    uv_signal_stop(&S.sig_int);
    uv_signal_stop(&S.sig_hup);
    uv_timer_stop(&S.refresh);
    for (int i = 0; i < S.n_loops; i++) {
        S.loops[i].stop_task.run = loop_stop;
        esg_loop_post(&S.loops[i].loop, &S.loops[i].stop_task);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (signum == SIGHUP) {
        esg_logf(ESP_LOG_INFO, "server.reload_keys", "SIGHUP: reloading the keys");
        refresh_jwks(1, NULL);
        return;
    }
    begin_stop();
}

static void on_stop_async(uv_async_t *h)
{
    (void)h;
    begin_stop();
}

void esg_server_request_stop(void)
{
    if (S.loops != NULL)
        uv_async_send(&S.stop_async);
}

static void *loop_thread(void *arg)
{
    loop_ctx *lc = arg;
    char name[16];
    snprintf(name, sizeof(name), "esg-loop-%d", lc->loop.index);
    pthread_setname_np(pthread_self(), name);
    esg_loop_run(&lc->loop);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Set-up.
 */

void esg_server_settings_init(esg_server_settings *s)
{
    static const char *const default_listen[] = {"127.0.0.1:8088"};
    memset(s, 0, sizeof(*s));
    s->base_path = "/v1/esignet";
    s->listen = default_listen;
    s->n_listen = 1;
    s->backlog = 511;
    s->tls_min_version = 12;
    s->max_request_line = 8192;
    s->max_header_size = 16384;
    s->max_headers = 64;
    s->max_body = 65536;
    s->max_connections = 10000;
    s->header_timeout_ms = 10000;
    s->body_timeout_ms = 10000;
    s->keepalive_timeout_ms = 60000;
    s->write_timeout_ms = 30000;
    s->shutdown_timeout_ms = 30000;
    s->metrics_enabled = 1;
    s->metrics_loopback_only = 1;
    s->access_log = 1;
    s->jwks_refresh_ms = 60000;
}

static int build_router(void)
{
    size_t n;
    const esg_route_def *defs = esg_routes(&n);
    S.routes = calloc(n, sizeof(*S.routes));
    S.patterns = calloc(n, sizeof(*S.patterns));
    S.route_names = calloc(n, sizeof(*S.route_names));
    if (S.routes == NULL || S.patterns == NULL || S.route_names == NULL)
        return ESP_ENOMEM;
    S.n_routes = n;
    for (size_t i = 0; i < n; i++) {
        const esg_route_def *d = &defs[i];
        size_t len = strlen(d->path) + (d->under_base ? strlen(S.s->base_path) : 0) + 1;
        S.patterns[i] = malloc(len);
        if (S.patterns[i] == NULL)
            return ESP_ENOMEM;
        snprintf(S.patterns[i], len, "%s%s", d->under_base ? S.s->base_path : "", d->path);
        S.routes[i] = (esg_http_route){d->methods, S.patterns[i], d->handler, NULL, d->name, 0};
        S.route_names[i] = d->name;
    }
    char err[256];
    int rc = esg_http_router_new(S.routes, n, &S.router, err, sizeof(err));
    if (rc != 0)
        esg_logf(ESP_LOG_ERROR, "server.routes", "bad route table: %s", err);
    return rc;
}

/* Splits "host:port", "[v6]:port" into an IP literal and a port. */
static int split_listen(const char *spec, char *host, size_t hsize, int *port)
{
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || colon == spec)
        return ESP_EINVAL;
    size_t hlen = (size_t)(colon - spec);
    if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
        spec++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= hsize)
        return ESP_EINVAL;
    memcpy(host, spec, hlen);
    host[hlen] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535)
        return ESP_EINVAL;
    *port = (int)p;
    return 0;
}

static int open_listeners(void)
{
    for (size_t a = 0; a < S.s->n_listen && a < MAX_LISTEN; a++) {
        char host[128];
        int port;
        if (split_listen(S.s->listen[a], host, sizeof(host), &port) != 0) {
            esg_logf(ESP_LOG_ERROR, "server.listen", "server.listen: \"%s\" is not host:port",
                     S.s->listen[a]);
            return ESP_ECONFIG;
        }
        /* Port 0: the first socket picks a free port and the other loops bind the same one. */
        for (int i = 0; i < S.n_loops; i++) {
            int fd;
            int rc = esg_http_listen_fd(host, port, &fd);
            if (rc != 0) {
                esg_logf(ESP_LOG_ERROR, "server.listen", "cannot listen on %s: %s", S.s->listen[a],
                         esg_strerror(rc));
                return rc;
            }
            if (port == 0 && esg_http_fd_port(fd, &port) != 0) {
                close(fd);
                return ESP_EIO;
            }
            S.loops[i].fds[S.loops[i].n_fds++] = fd;
        }
        if (a == 0)
            S.port = port;
    }
    return 0;
}

static int loop_count(void)
{
    if (S.s->workers > 0)
        return S.s->workers > MAX_LOOPS ? MAX_LOOPS : S.s->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_LOOPS ? MAX_LOOPS : (int)n;
}

static void teardown(void)
{
    esg_keys_on_rotation(NULL);
    /* Blocking jobs still queued run now; their completions reach closed loops and are dropped.
     * The pool must be gone before the loops' memory, which its threads post to: a job still
     * running after the shutdown timeout is left behind, and so is that memory. */
    int abandoned = esg_workers_stop_within(S.s->shutdown_timeout_ms) != 0;
    abandoned |= esg_calls_pending() > 0;
    for (int i = 0; S.loops != NULL && i < S.n_loops; i++) {
        loop_ctx *lc = &S.loops[i];
        for (size_t f = 0; f < lc->n_fds; f++) {
            if (lc->fds[f] >= 0)
                close(lc->fds[f]);
        }
        if (!lc->loop.closed) {
            /* A loop that never ran (start-up failed): close its handles (and drop its documents)
             * as a stopping loop does. */
            esg_loop_set_current(&lc->loop);
            loop_close(lc);
            uv_run(&lc->loop.uv, UV_RUN_DEFAULT);
            esg_loop_set_current(NULL);
        }
        if (!abandoned)
            esg_loop_destroy(&lc->loop);
    }
    /* A plugin may still complete an abandoned call and post to its loop: keep that memory. */
    if (!abandoned)
        free(S.loops);
    esg_http_router_free(S.router);
    for (size_t i = 0; S.patterns != NULL && i < S.n_routes; i++)
        free(S.patterns[i]);
    free(S.patterns);
    free(S.routes);
    free(S.route_names);
    if (S.tls != NULL)
        SSL_CTX_free(S.tls);
    esg_metrics_free();
    memset(&S, 0, sizeof(S));
}

static int wait_first_refresh(loop_ctx *lc0)
{
    int done = 0;
    int rc = refresh_jwks(0, &done);
    if (rc != 0)
        return rc;
    while (done == 0)
        uv_run(&lc0->loop.uv, UV_RUN_ONCE);
    return done > 0 ? 0 : ESP_EKEY;
}

int esg_server_run(const esg_server_settings *s)
{
    int rc;
    memset(&S, 0, sizeof(S));
    S.s = s;
    S.n_loops = loop_count();
    S.loops = calloc((size_t)S.n_loops, sizeof(*S.loops));
    if (S.loops == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    for (int i = 0; i < S.n_loops; i++) {
        if ((rc = esg_loop_init(&S.loops[i].loop, i)) != 0)
            goto fail;
    }
    if ((rc = build_router()) != 0 ||
        (rc = esg_metrics_init(S.n_routes, S.route_names, S.n_loops)) != 0)
        goto fail;
    if (s->tls_certificate != NULL) {
        rc = esg_http_tls_ctx_new(s->tls_certificate, s->tls_private_key,
                                  s->tls_min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION,
                                  &S.tls);
        if (rc != 0)
            goto fail;
    }
    esg_http_config_init(&S.http_cfg);
    S.http_cfg.max_request_line = s->max_request_line;
    S.http_cfg.max_header_size = s->max_header_size;
    S.http_cfg.max_headers = s->max_headers;
    S.http_cfg.max_body = s->max_body;
    S.http_cfg.max_connections = s->max_connections;
    S.http_cfg.backlog = s->backlog;
    S.http_cfg.header_timeout_ms = s->header_timeout_ms;
    S.http_cfg.body_timeout_ms = s->body_timeout_ms;
    S.http_cfg.keepalive_timeout_ms = s->keepalive_timeout_ms;
    S.http_cfg.write_timeout_ms = s->write_timeout_ms;
    S.http_cfg.tls = S.tls;
    S.http_cfg.dispatch = dispatch;
    S.http_cfg.on_complete = on_complete;
    if ((rc = open_listeners()) != 0)
        goto fail;

    /* Loop 0 runs on this thread; the key stores are asked for their keys before anything is
     * served, so the JWKS exists from the first request. */
    loop_ctx *lc0 = &S.loops[0];
    esg_loop_set_current(&lc0->loop);
    if ((rc = wait_first_refresh(lc0)) != 0) {
        esg_logf(ESP_LOG_ERROR, "server.start", "no JWKS: %s", esg_strerror(rc));
        goto fail;
    }
    /* Discovery names the algorithms the key stores sign with, known after the first listing. */
    if ((rc = build_discovery()) != 0)
        goto fail;
    uv_signal_init(&lc0->loop.uv, &S.sig_term);
    uv_signal_init(&lc0->loop.uv, &S.sig_int);
    uv_signal_init(&lc0->loop.uv, &S.sig_hup);
    uv_signal_start(&S.sig_term, on_signal, SIGTERM);
    uv_signal_start(&S.sig_int, on_signal, SIGINT);
    uv_signal_start(&S.sig_hup, on_signal, SIGHUP);
    uv_timer_init(&lc0->loop.uv, &S.refresh);
    uv_timer_start(&S.refresh, on_refresh_timer, s->jwks_refresh_ms, s->jwks_refresh_ms);
    uv_async_init(&lc0->loop.uv, &S.stop_async, on_stop_async);
    S.loops_initialized_signals = 1;
    esg_keys_on_rotation(on_keys_rotated);
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < S.n_loops; i++) {
        loop_ctx *lc = &S.loops[i];
        lc->start_task.run = loop_start;
        esg_loop_post(&lc->loop, &lc->start_task);
    }
    for (int i = 1; i < S.n_loops; i++) {
        if (pthread_create(&S.loops[i].thread, NULL, loop_thread, &S.loops[i]) != 0) {
            esg_logf(ESP_LOG_ERROR, "server.start", "cannot start loop thread %d", i);
            begin_stop();
            break;
        }
        S.loops[i].has_thread = 1;
    }
    esg_loop_run(&lc0->loop);
    for (int i = 1; i < S.n_loops; i++) {
        if (S.loops[i].has_thread)
            pthread_join(S.loops[i].thread, NULL);
    }
    esg_logf(ESP_LOG_INFO, "server.stopped", "all connections closed");
    rc = 0;
fail:
    teardown();
    return rc;
}
