/*
 * libuv transport of the HTTP server: listening sockets, accept, reads into the connection's
 * buffer, writes with uv_try_write first, closes, the timeout lists and graceful shutdown; plus
 * the memory transport used by tests and fuzz targets.
 *
 * Timeouts follow h2o: every phase has one fixed timeout per server, so appending a connection
 * to the list of its phase keeps each list sorted by deadline. Arming, re-arming and cancelling
 * a timeout are O(1) list operations, and one uv_timer per server fires at the earliest head.
 */
#include "http/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/b64.h"
#include "util/clock.h"
#include "util/log.h"

/* Each of these limits must stay far below 4 GiB: buffer offsets are 32-bit. */
#define MAX_LIMIT (1u << 20)
/* Read-buffer room beyond the head limits, for whitespace and the first pipelined bytes. */
#define RBUF_SLACK 8192u

void esg_http_config_init(esg_http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_request_line = 8192;
    cfg->max_header_size = 16384;
    cfg->max_headers = 64;
    cfg->max_body = 1u << 20;
    cfg->max_connections = 10000;
    cfg->backlog = 511;
    cfg->header_timeout_ms = 10000;
    cfg->body_timeout_ms = 30000;
    cfg->keepalive_timeout_ms = 60000;
    cfg->write_timeout_ms = 30000;
    cfg->hsts_max_age = 31536000;
}

/* ---- listening sockets ------------------------------------------------------------------------*/

int esg_http_listen_fd(const char *host, int port, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char h[64];
    int s = -1, one = 1;
    *fd = -1;
    if (host == NULL || port < 0 || port > 65535)
        return ESP_EINVAL;
    size_t n = strlen(host);
    if (n >= sizeof(h))
        return ESP_EINVAL;
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        memcpy(h, host + 1, n - 2);
        h[n - 2] = '\0';
    } else {
        memcpy(h, host, n + 1);
    }
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, h, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sl = sizeof(*sin);
    } else if (inet_pton(AF_INET6, h, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*sin6);
    } else {
        return ESP_EINVAL;
    }
    const char *step = "socket";
    s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        goto fail;
    step = "setsockopt";
    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        goto fail;
    if (ss.ss_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
        goto fail;
    step = "bind";
    if (bind(s, (struct sockaddr *)&ss, sl) != 0)
        goto fail;
    *fd = s;
    return 0;
fail:;
    int err = errno;
    esg_log_kv kv[] = {ESG_KV_STR("host", host), ESG_KV_INT("port", port), ESG_KV_STR("step", step),
                       ESG_KV_STR("error", strerror(err))};
    esg_log_event(ESP_LOG_ERROR, "http.listen", kv, 4);
    if (s >= 0)
        close(s);
    return ESP_EIO;
}

int esg_http_fd_port(int fd, int *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return ESP_EIO;
    if (ss.ss_family == AF_INET)
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        return ESP_EIO;
    return 0;
}

/* ---- server lifetime --------------------------------------------------------------------------*/

static int config_check(const esg_http_config *cfg)
{
    if (cfg == NULL || cfg->dispatch == NULL || cfg->max_request_line == 0 ||
        cfg->max_header_size == 0 || cfg->max_headers == 0 || cfg->max_body == 0 ||
        cfg->max_connections == 0 || cfg->backlog <= 0 || cfg->header_timeout_ms == 0 ||
        cfg->body_timeout_ms == 0 || cfg->keepalive_timeout_ms == 0 || cfg->write_timeout_ms == 0)
        return ESP_EINVAL;
    if (cfg->max_request_line > MAX_LIMIT || cfg->max_header_size > MAX_LIMIT ||
        cfg->max_headers > 4096 || cfg->max_body > (size_t)1 << 30)
        return ESP_EINVAL;
    return 0;
}

static int server_alloc(const esg_http_config *cfg, esg_http_server **out)
{
    *out = NULL;
    int rc = config_check(cfg);
    if (rc != 0)
        return rc;
    esg_http_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return ESP_ENOMEM;
    srv->scratch = malloc(ESG_HTTP_SCRATCH_SIZE);
    if (srv->scratch == NULL) {
        free(srv);
        return ESP_ENOMEM;
    }
    srv->cfg = *cfg;
    srv->cfg.tls = NULL;
    srv->rbuf_max = (uint32_t)(cfg->max_request_line + cfg->max_header_size + RBUF_SLACK);
    srv->tl[ESG_TO_HEADER].timeout = cfg->header_timeout_ms;
    srv->tl[ESG_TO_BODY].timeout = cfg->body_timeout_ms;
    srv->tl[ESG_TO_KEEPALIVE].timeout = cfg->keepalive_timeout_ms;
    srv->tl[ESG_TO_WRITE].timeout = cfg->write_timeout_ms;
    srv->tl[ESG_TO_LINGER].timeout = cfg->header_timeout_ms;
    srv->rnd_pos = sizeof(srv->rnd);
    *out = srv;
    return 0;
}

static void on_check(uv_check_t *h)
{
    (void)h;
    esg_log_flush();
}

int esg_http_server_new(uv_loop_t *loop, const esg_http_config *cfg, esg_http_server **out)
{
    esg_http_server *srv;
    if (loop == NULL)
        return ESP_EINVAL;
    int rc = server_alloc(cfg, &srv);
    if (rc != 0)
        return rc;
    srv->loop = loop;
    if (cfg->tls != NULL) {
        SSL_CTX_up_ref(cfg->tls);
        srv->cfg.tls = cfg->tls;
    }
    /* Neither handle keeps the loop alive on its own: connections and listeners do. */
    uv_timer_init(loop, &srv->timer);
    srv->timer.data = srv;
    uv_unref((uv_handle_t *)&srv->timer);
    uv_check_init(loop, &srv->check);
    srv->check.data = srv;
    uv_check_start(&srv->check, on_check);
    uv_unref((uv_handle_t *)&srv->check);
    srv->handles_open = 2;
    *out = srv;
    return 0;
}

static void on_srv_handle_closed(uv_handle_t *h)
{
    esg_http_server *srv = h->data;
    if (--srv->handles_open == 0)
        srv->done(srv, srv->done_data);
}

/* Completes a shutdown once nothing is open any more; done_cb follows from close callbacks. */
static void check_done(esg_http_server *srv)
{
    if (srv->loop == NULL || !srv->draining || srv->handles_closing || srv->nconns > 0 ||
        srv->open_listeners > 0)
        return;
    srv->handles_closing = 1;
    uv_close((uv_handle_t *)&srv->timer, on_srv_handle_closed);
    uv_close((uv_handle_t *)&srv->check, on_srv_handle_closed);
}

static void on_listener_closed(uv_handle_t *h)
{
    esg_http_server *srv = h->data;
    srv->open_listeners--;
    check_done(srv);
}

static void on_connection(uv_stream_t *l, int status);

int esg_http_server_listen(esg_http_server *srv, int fd)
{
    uv_tcp_t *l = NULL;
    int rc = ESP_EINVAL;
    if (srv->draining || srv->loop == NULL)
        goto fail;
    rc = ESP_ENOMEM;
    uv_tcp_t **arr = realloc(srv->listeners, (srv->nlisteners + 1) * sizeof(*arr));
    if (arr == NULL)
        goto fail;
    srv->listeners = arr;
    l = malloc(sizeof(*l));
    if (l == NULL)
        goto fail;
    uv_tcp_init(srv->loop, l);
    l->data = srv;
    srv->listeners[srv->nlisteners++] = l;
    srv->open_listeners++;
    rc = ESP_EIO;
    int r = uv_tcp_open(l, fd);
    if (r != 0)
        goto fail;
    /* From here the handle owns the descriptor and closes it with itself. */
    fd = -1;
    r = uv_listen((uv_stream_t *)l, srv->cfg.backlog, on_connection);
    if (r != 0)
        goto fail_log;
    return 0;
fail_log:
    esg_logf(ESP_LOG_ERROR, "http.listen", "listen failed: %s", uv_strerror(r));
fail:
    if (fd >= 0)
        close(fd);
    return rc;
}

int esg_http_server_shutdown(esg_http_server *srv, esg_http_server_done_cb done, void *data)
{
    if (srv->draining || done == NULL || srv->loop == NULL)
        return ESP_EINVAL;
    srv->draining = 1;
    srv->done = done;
    srv->done_data = data;
    for (size_t i = 0; i < srv->nlisteners; i++)
        uv_close((uv_handle_t *)srv->listeners[i], on_listener_closed);
    /* Idle connections go now; the others close after their current response. */
    for (esg_http_conn *c = srv->conns; c != NULL; c = c->next) {
        if (!c->closing && c->state == ESG_CONN_IDLE && c->rpos == c->rlen && !c->req.dispatched)
            esg_http_conn_close(c);
    }
    check_done(srv);
    return 0;
}

void esg_http_server_force_close(esg_http_server *srv)
{
    if (!srv->draining)
        return;
    for (esg_http_conn *c = srv->conns; c != NULL; c = c->next)
        esg_http_conn_close(c);
}

void esg_http_server_free(esg_http_server *srv)
{
    if (srv == NULL)
        return;
    for (size_t i = 0; i < srv->nlisteners; i++)
        free(srv->listeners[i]);
    free(srv->listeners);
    if (srv->cfg.tls != NULL)
        SSL_CTX_free(srv->cfg.tls);
    esg_buf_free(&srv->mem_out);
    free(srv->scratch);
    free(srv);
}

void esg_http_server_stats(const esg_http_server *srv, esg_http_stats *out)
{
    *out = srv->stats;
    out->connections = srv->nconns;
}

void esg_http_server_new_id(esg_http_server *srv, char out[23])
{
    if (srv->rnd_pos + 16 > sizeof(srv->rnd)) {
        if (esg_random(srv->rnd, sizeof(srv->rnd)) != 0) {
            /* Without randomness an id only has to be unique: use a counter. */
            uint64_t v[2] = {(uint64_t)(uintptr_t)srv, ++srv->id_counter};
            esg_b64url_encode_to(v, 16, out);
            out[22] = '\0';
            return;
        }
        srv->rnd_pos = 0;
    }
    esg_b64url_encode_to(srv->rnd + srv->rnd_pos, 16, out);
    out[22] = '\0';
    srv->rnd_pos += 16;
}

/* ---- connections ------------------------------------------------------------------------------*/

static void conn_link(esg_http_server *srv, esg_http_conn *c)
{
    c->prev = NULL;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
}

void esg_http_conn_handle_closed(esg_http_conn *c)
{
    esg_http_server *srv = c->srv;
    c->handle_closed = 1;
    /* A handler still holds the request: its response frees the connection. */
    if (c->req.dispatched)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->nconns--;
    if (c->rejecting)
        srv->nrejecting--;
    esg_http_conn_destroy(c);
    check_done(srv);
}

static void on_conn_closed(uv_handle_t *h)
{
    esg_http_conn_handle_closed(h->data);
}

void esg_http_conn_close(esg_http_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->state = ESG_CONN_CLOSED;
    c->reading = 0;
    esg_http_timeout_clear(c);
    if (c->srv->loop == NULL)
        return;
    if (c->ssl != NULL)
        esg_http_tls_close_notify(c);
    uv_close(&c->h.handle, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    esg_http_conn *c = h->data;
    (void)hint;
    /* Ciphertext and discarded bytes are consumed within the read callback: share one buffer. */
    if (c->ssl != NULL || c->state == ESG_CONN_LINGER || c->closing) {
        *buf = uv_buf_init(c->srv->scratch, ESG_HTTP_SCRATCH_SIZE);
        return;
    }
    char *p;
    size_t n;
    esg_http_conn_read_space(c, &p, &n);
    *buf = uv_buf_init(p, (unsigned)n);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    esg_http_conn *c = s->data;
    if (nread > 0) {
        if (c->closing || c->state == ESG_CONN_LINGER)
            return;
        if (c->ssl != NULL)
            esg_http_tls_read(c, buf->base, (size_t)nread);
        else
            esg_http_conn_received(c, (size_t)nread);
        return;
    }
    if (nread == 0)
        return;
    if (nread == UV_ENOBUFS) {
        /* The buffer is full while a request is in progress: wait for its response. */
        uv_read_stop(s);
        c->reading = 0;
        return;
    }
    if (nread == UV_EOF) {
        c->reading = 0;
        esg_http_conn_eof(c);
        return;
    }
    /* Reset or another error: the client is gone. */
    esg_http_conn_close(c);
}

void esg_http_conn_update_reading(esg_http_conn *c)
{
    int want;
    if (c->closing || c->peer_eof)
        want = 0;
    else if (c->state == ESG_CONN_LINGER)
        want = 1;
    else
        want = c->rlen < c->rcap || c->rcap < c->srv->rbuf_max;
    if (want != (int)c->reading) {
        c->reading = (unsigned)want;
        if (c->srv->loop != NULL) {
            if (!want)
                uv_read_stop(&c->h.stream);
            else if (uv_read_start(&c->h.stream, on_alloc, on_read) != 0) {
                esg_http_conn_close(c);
                return;
            }
        }
    }
    /* Records already decrypted or buffered by OpenSSL do not wake the socket: pull them. */
    if (want && c->ssl != NULL && c->state != ESG_CONN_LINGER)
        esg_http_tls_pump(c);
}

static void on_written(uv_write_t *w, int status)
{
    esg_http_conn_sent(w->data, status < 0 ? ESP_EIO : 0);
}

int esg_http_conn_write(esg_http_conn *c, uv_buf_t *bufs, unsigned n)
{
    esg_http_server *srv = c->srv;
    if (srv->loop == NULL) {
        for (unsigned i = 0; i < n; i++) {
            if (esg_buf_append(&srv->mem_out, bufs[i].base, bufs[i].len) != 0)
                return ESP_EIO;
        }
        return 0;
    }
    if (c->ssl != NULL)
        return esg_http_tls_write(c, bufs, n, 1);
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    int r = uv_try_write(&c->h.stream, bufs, n);
    if (r == UV_EAGAIN)
        r = 0;
    else if (r < 0)
        return ESP_EIO;
    if ((size_t)r == total || c->best_effort)
        return 0;
    size_t off = (size_t)r;
    unsigned i = 0;
    while (i < n && off >= bufs[i].len) {
        off -= bufs[i].len;
        i++;
    }
    bufs[i].base += off;
    bufs[i].len -= off;
    c->wreq.data = c;
    if (uv_write(&c->wreq, &c->h.stream, bufs + i, n - i, on_written) != 0)
        return ESP_EIO;
    c->wq_size = uv_stream_get_write_queue_size(&c->h.stream);
    return 1;
}

static void on_continue_written(uv_write_t *w, int status)
{
    /* A failure shows again when the response is written; nothing to do here. */
    (void)w;
    (void)status;
}

int esg_http_conn_write_continue(esg_http_conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)msg, sizeof(msg) - 1);
    if (c->srv->loop == NULL)
        return esg_buf_append(&c->srv->mem_out, msg, sizeof(msg) - 1) == 0 ? 0 : ESP_EIO;
    if (c->ssl != NULL)
        return esg_http_tls_write(c, &b, 1, 0) < 0 ? ESP_EIO : 0;
    int r = uv_try_write(&c->h.stream, &b, 1);
    if (r == UV_EAGAIN)
        r = 0;
    else if (r < 0)
        return ESP_EIO;
    if ((size_t)r == b.len)
        return 0;
    b.base += r;
    b.len -= (size_t)r;
    if (uv_write(&c->wreq_cont, &c->h.stream, &b, 1, on_continue_written) != 0)
        return ESP_EIO;
    return 0;
}

static void on_shutdown(uv_shutdown_t *r, int status)
{
    /* The connection closes on EOF or when the linger timeout fires. */
    (void)r;
    (void)status;
}

void esg_http_conn_linger(esg_http_conn *c)
{
    if (c->srv->loop == NULL) {
        esg_http_conn_close(c);
        return;
    }
    c->state = ESG_CONN_LINGER;
    esg_http_timeout_set(c, ESG_TO_LINGER);
    if (uv_shutdown(&c->sreq, &c->h.stream, on_shutdown) != 0) {
        esg_http_conn_close(c);
        return;
    }
    esg_http_conn_update_reading(c);
}

static void on_connection(uv_stream_t *l, int status)
{
    esg_http_server *srv = l->data;
    esg_http_conn *c;
    if (status < 0) {
        esg_logf(ESP_LOG_ERROR, "http.accept", "accept failed: %s", uv_strerror(status));
        return;
    }
    if (esg_http_conn_new(srv, &c) != 0) {
        esg_logf(ESP_LOG_ERROR, "http.accept", "out of memory for a new connection");
        return;
    }
    uv_tcp_init(srv->loop, &c->h.tcp);
    c->h.handle.data = c;
    conn_link(srv, c);
    if (uv_accept(l, &c->h.stream) != 0) {
        esg_http_conn_close(c);
        return;
    }
    srv->stats.accepted++;
    struct sockaddr_storage ss;
    int sl = sizeof(ss);
    if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
        else if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
    }
    uv_tcp_nodelay(&c->h.tcp, 1);
    if (srv->nconns - srv->nrejecting - 1 >= srv->cfg.max_connections) {
        srv->stats.rejected++;
        /*
         * A 503 needs a few round trips of lingering; bound those too, and do not spend a TLS
         * handshake on a connection that is refused anyway.
         */
        if (srv->cfg.tls != NULL || srv->nrejecting >= srv->cfg.max_connections) {
            esg_http_conn_close(c);
            return;
        }
        c->rejecting = 1;
        srv->nrejecting++;
        esg_http_conn_fail(c, 503, "too many connections");
        return;
    }
    if (srv->cfg.tls != NULL && esg_http_tls_start(c) != 0) {
        esg_http_conn_close(c);
        return;
    }
    esg_http_conn_start(c);
}

/* ---- timeouts ---------------------------------------------------------------------------------*/

static void on_timer(uv_timer_t *t);

static void arm(esg_http_server *srv, uint64_t due)
{
    uint64_t now = uv_now(srv->loop);
    srv->timer_on = 1;
    srv->timer_due = due;
    uv_timer_start(&srv->timer, on_timer, due > now ? due - now : 0, 0);
}

void esg_http_timeout_clear(esg_http_conn *c)
{
    esg_http_server *srv = c->srv;
    if (c->tkind == ESG_TO_NONE)
        return;
    if (srv->loop != NULL) {
        esg_http_tlist *l = &srv->tl[c->tkind];
        if (c->tprev != NULL)
            c->tprev->tnext = c->tnext;
        else
            l->head = c->tnext;
        if (c->tnext != NULL)
            c->tnext->tprev = c->tprev;
        else
            l->tail = c->tprev;
    }
    c->tprev = c->tnext = NULL;
    c->tkind = ESG_TO_NONE;
}

void esg_http_timeout_set(esg_http_conn *c, int kind)
{
    esg_http_server *srv = c->srv;
    esg_http_timeout_clear(c);
    c->tkind = kind;
    if (srv->loop == NULL)
        return;
    esg_http_tlist *l = &srv->tl[kind];
    c->deadline = uv_now(srv->loop) + l->timeout;
    c->tnext = NULL;
    c->tprev = l->tail;
    if (l->tail != NULL)
        l->tail->tnext = c;
    else
        l->head = c;
    l->tail = c;
    if (!srv->timer_on || c->deadline < srv->timer_due)
        arm(srv, c->deadline);
}

static void on_timer(uv_timer_t *t)
{
    esg_http_server *srv = t->data;
    uint64_t now = uv_now(srv->loop);
    srv->timer_on = 0;
    for (int k = 0; k < ESG_TO_COUNT; k++) {
        esg_http_conn *c;
        while ((c = srv->tl[k].head) != NULL && c->deadline <= now) {
            esg_http_timeout_clear(c);
            esg_http_conn_timeout(c, k);
        }
    }
    /* A timeout handler may have armed the timer already (a re-armed write timeout). */
    uint64_t due = UINT64_MAX;
    for (int k = 0; k < ESG_TO_COUNT; k++) {
        if (srv->tl[k].head != NULL && srv->tl[k].head->deadline < due)
            due = srv->tl[k].head->deadline;
    }
    if (due != UINT64_MAX && (!srv->timer_on || due < srv->timer_due))
        arm(srv, due);
}

/* ---- memory transport -------------------------------------------------------------------------*/

int esg_http_test_server_new(const esg_http_config *cfg, esg_http_server **out)
{
    return server_alloc(cfg, out);
}

void esg_http_test_server_free(esg_http_server *srv)
{
    esg_http_server_free(srv);
}

int esg_http_test_conn_open(esg_http_server *srv, esg_http_conn **out)
{
    esg_http_conn *c;
    *out = NULL;
    if (srv->nconns >= srv->cfg.max_connections)
        return ESP_EAGAIN;
    int rc = esg_http_conn_new(srv, &c);
    if (rc != 0)
        return rc;
    conn_link(srv, c);
    memcpy(c->peer, "192.0.2.1", 10);
    esg_http_conn_start(c);
    *out = c;
    return 0;
}

size_t esg_http_test_conn_feed(esg_http_conn *c, const void *data, size_t n)
{
    const char *d = data;
    size_t taken = 0;
    while (taken < n && !c->closing) {
        if (c->state == ESG_CONN_LINGER)
            return n;
        if (!c->reading)
            break;
        char *p;
        size_t space;
        esg_http_conn_read_space(c, &p, &space);
        if (space == 0)
            break;
        size_t k = n - taken < space ? n - taken : space;
        memcpy(p, d + taken, k);
        taken += k;
        esg_http_conn_received(c, k);
    }
    return taken;
}

void esg_http_test_conn_eof(esg_http_conn *c)
{
    if (!c->closing)
        esg_http_conn_eof(c);
}

int esg_http_test_conn_expire(esg_http_conn *c)
{
    int k = c->tkind;
    if (k == ESG_TO_NONE || c->closing)
        return ESG_TO_NONE;
    esg_http_timeout_clear(c);
    esg_http_conn_timeout(c, k);
    return k;
}

int esg_http_test_conn_closed(const esg_http_conn *c)
{
    return c->closing;
}

void esg_http_test_conn_release(esg_http_conn *c)
{
    esg_http_conn_close(c);
    esg_http_conn_handle_closed(c);
}

esg_buf *esg_http_test_output(esg_http_server *srv)
{
    return &srv->mem_out;
}
