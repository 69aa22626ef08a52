/*
 * HTTP/1.1 server on libuv: one esg_http_server per event loop.
 *
 * How the runtime uses it (one loop per core, each on its own thread):
 *
 *   main thread:  esg_http_config_init(&cfg); set limits, timeouts, TLS, callbacks;
 *                 for each loop: esg_http_listen_fd("0.0.0.0", 8088, &fd[i]);
 *                 (every loop gets its own socket bound to the same address with SO_REUSEPORT,
 *                 so the kernel spreads new connections over the loops; libuv 1.44 has no
 *                 UV_TCP_REUSEPORT, hence the sockets are created here and handed over.)
 *   loop thread:  esg_http_server_new(loop, &cfg, &srv); esg_http_server_listen(srv, fd[i]);
 *                 uv_run(loop); the dispatch callback routes each request (router.h) and a
 *                 handler answers it (response.h), now or later from the same thread.
 *   stopping:     on the loop thread esg_http_server_shutdown(srv, done_cb, data): listeners
 *                 close at once (new connections are refused), idle keep-alive connections
 *                 close at once, requests in progress finish and their connections close after
 *                 the response. When the runtime's grace period ends it may call
 *                 esg_http_server_force_close(srv). done_cb runs once every connection is closed,
 *                 every dispatched request has been answered, and the server's own handles are
 *                 closed; then esg_http_server_free(srv).
 *
 * Timeouts are deadlines per phase, so a slow or silent client can never hold a connection:
 *   header_timeout_ms     from accept (or from the first byte after a keep-alive pause) until the
 *                         request head is complete; also bounds the TLS handshake. When it expires
 *                         part-way through a request, the client gets a best-effort 408.
 *   body_timeout_ms       from the end of the head until the whole body has arrived (408).
 *   keepalive_timeout_ms  idle time between a response and the next request.
 *   write_timeout_ms      a queued response that makes no progress for this long is dropped.
 * While a handler works no timer runs: the runtime bounds handler time itself.
 *
 * Errors the layer answers itself, each with {"error":...,"error_description":...} and, except
 * 404/405, "Connection: close": 400 malformed request (bad syntax, duplicate Content-Length,
 * Content-Length with Transfer-Encoding, bad target, missing or repeated Host), 408, 413 body too
 * large, 414 request line too long, 417 Expect other than 100-continue, 431 header section too
 * large or too many fields, 501 unknown method or a Transfer-Encoding other than "chunked",
 * 505 HTTP version other than 1.0/1.1, 503 over the connection limit. After an error response the
 * connection is half-closed and drained for up to header_timeout_ms, so the client can read the
 * response before the socket is closed.
 *
 * Logging: the layer writes at most one log line per rejected request or failed connection
 * (event "http.*"), never one per successful request; the runtime writes the access log from the
 * completion callback. Each server runs a uv_check handle that calls esg_log_flush() once per
 * loop iteration, so the runtime only has to call esg_log_set_buffered(1) on its loop threads.
 */
#ifndef ESG_HTTP_SERVER_H
#define ESG_HTTP_SERVER_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/request.h"

typedef struct esg_http_server esg_http_server;

/*
 * Receives every request whose head and body were accepted. It must arrange for exactly one
 * esg_http_respond_* call on the request, now or later on the same loop thread. [loop]
 */
typedef void (*esg_http_dispatch_cb)(esg_http_req *req, void *data);

/* What the completion callback learns about a finished request. */
typedef struct esg_http_done_info {
    int status;          /* status code sent, e.g. 200; that of the error the layer sent */
    uint64_t bytes_out;  /* response bytes handed to the socket (head and body) */
    uint64_t bytes_in;   /* request body bytes (decoded) */
    uint64_t latency_us; /* first request byte to the end of the response (or its abandonment) */
    const char *route;   /* name of the matched route, NULL when no route handled the request */
    int aborted;         /* 1 when the response did not reach the client completely */
} esg_http_done_info;

/*
 * Called once per request the layer saw, when its response was written or abandoned, including
 * the requests the layer rejected itself (then the request may be partly parsed: method
 * ESG_HTTP_METHOD_NONE, empty path). `req` and `info` are valid only during the call, and the
 * callback must not respond to the request. For the access log and metrics. [loop]
 */
typedef void (*esg_http_complete_cb)(esg_http_req *req, const esg_http_done_info *info, void *data);

/* Called once when a shutdown has completed (see the top of this file). [loop] */
typedef void (*esg_http_server_done_cb)(esg_http_server *srv, void *data);

/*
 * Server settings. esg_http_config_init() fills the defaults shown; every size and timeout must
 * then be non-zero. The configuration is copied by esg_http_server_new(), except `tls` (the
 * server takes its own reference with SSL_CTX_up_ref) and `data` (borrowed, must outlive the
 * server).
 */
typedef struct esg_http_config {
    size_t max_request_line;       /* 8192: method + target + version, else 414 */
    size_t max_header_size;        /* 16384: header field lines (and trailers), else 431 */
    size_t max_headers;            /* 64: header field lines, else 431 */
    size_t max_body;               /* 1 MiB: request body after de-chunking, else 413 */
    size_t max_connections;        /* 10000: open connections per loop; more get 503 and close */
    int backlog;                   /* 511: listen() backlog of each socket */
    uint32_t header_timeout_ms;    /* 10000 */
    uint32_t body_timeout_ms;      /* 30000 */
    uint32_t keepalive_timeout_ms; /* 60000 */
    uint32_t write_timeout_ms;     /* 30000 */
    SSL_CTX *tls;                  /* NULL: plain HTTP; see esg_http_tls_ctx_new() */
    uint32_t hsts_max_age;         /* 31536000: Strict-Transport-Security max-age on TLS; 0 none */
    int server_header;             /* 0: send "Server: esignet-c" when non-zero */
    esg_http_dispatch_cb dispatch; /* mandatory */
    esg_http_complete_cb on_complete; /* optional */
    void *data;                       /* passed to both callbacks; esg_http_req_server_data() */
} esg_http_config;

/* Fills `cfg` with the defaults (no callbacks, no TLS). [any] */
void esg_http_config_init(esg_http_config *cfg);

/*
 * Creates the TCP socket of one loop: non-blocking, close-on-exec, SO_REUSEADDR and SO_REUSEPORT
 * set, bound to `host` (an IP literal: "127.0.0.1", "0.0.0.0", "::" or "[::]"; an IPv6 socket is
 * IPv6-only so that "0.0.0.0" and "::" can be bound side by side) and `port`. It is not
 * listening yet: esg_http_server_listen() does that with cfg.backlog, so the backlog is set in
 * one place. Port 0 picks a free port: read it with esg_http_fd_port() and bind the other loops'
 * sockets to that port. The caller owns *fd until esg_http_server_listen() takes it. Returns 0,
 * ESP_EINVAL (not an IP literal, bad port) or ESP_EIO (socket or bind failed; logged). [any]
 */
int esg_http_listen_fd(const char *host, int port, int *fd);

/* Local port a socket is bound to. Returns 0 or ESP_EIO. [any] */
int esg_http_fd_port(int fd, int *port);

/*
 * Creates the server of one loop. Nothing is accepted before esg_http_server_listen(). The
 * caller owns *out; once this succeeds, the server holds libuv handles, so it can only be
 * released by esg_http_server_shutdown() followed, after done_cb, by esg_http_server_free().
 * Returns 0, ESP_EINVAL (a zero limit or timeout, no dispatch callback) or ESP_ENOMEM. [loop]
 */
int esg_http_server_new(uv_loop_t *loop, const esg_http_config *cfg, esg_http_server **out);

/*
 * Listens with cfg.backlog and accepts connections on `fd` (from esg_http_listen_fd(), or any
 * bound TCP socket). The
 * server owns the descriptor from this call on, also when it fails. A server may listen on
 * several sockets. Returns 0, ESP_EINVAL (after shutdown started) or ESP_EIO. [loop]
 */
int esg_http_server_listen(esg_http_server *srv, int fd);

/*
 * Starts a graceful shutdown; `done` (mandatory) runs later, once, from the loop, never from
 * within this call. Returns 0, or ESP_EINVAL when a shutdown was already started (then `done`
 * will not run for this call). [loop]
 */
int esg_http_server_shutdown(esg_http_server *srv, esg_http_server_done_cb done, void *data);

/*
 * Closes every remaining connection now, during a shutdown whose grace period ran out. Requests
 * still held by handlers become gone (esg_http_req_is_gone()); done_cb waits until they are
 * answered. Does nothing before esg_http_server_shutdown(). [loop]
 */
void esg_http_server_force_close(esg_http_server *srv);

/* Frees the server after its done_cb ran (or NULL). [loop] */
void esg_http_server_free(esg_http_server *srv);

/* Counters of one server, read on its loop thread (the runtime's metrics). */
typedef struct esg_http_stats {
    uint64_t connections; /* open now */
    uint64_t accepted;    /* accepted in total */
    uint64_t rejected;    /* refused with 503 over max_connections */
    uint64_t requests;    /* requests dispatched to handlers */
    uint64_t errors;      /* requests the layer answered with an error (4xx/5xx of its own) */
    uint64_t timeouts;    /* connections closed by a timeout */
} esg_http_stats;

/* Copies the counters of `srv`. [loop] */
void esg_http_server_stats(const esg_http_server *srv, esg_http_stats *out);

/*
 * Creates a server-side TLS context: certificate chain and private key from PEM files, minimum
 * protocol `min_version` (TLS1_2_VERSION or TLS1_3_VERSION; 0 means TLS 1.2), ALPN "http/1.1",
 * no compression, no renegotiation, server cipher preference. The caller owns *out
 * (SSL_CTX_free). Returns 0, ESP_EINVAL (bad version) or ESP_ECONFIG (files unusable; logged).
 * [any]
 */
int esg_http_tls_ctx_new(const char *cert_chain_file, const char *key_file, int min_version,
                         SSL_CTX **out);

/*
 * Applies the same protocol settings and ALPN selection to a context the caller built itself
 * (certificates already loaded). Returns 0, ESP_EINVAL or ESP_EINTERNAL. [any]
 */
int esg_http_tls_ctx_configure(SSL_CTX *ctx, int min_version);

#endif
