/*
 * The running server: one event loop per worker thread (loop 0 on the main thread), an HTTP
 * server on each, the route table, signals (SIGTERM/SIGINT drain and stop, SIGHUP reloads the
 * keys), readiness, the access log and metrics. Plugins, instances, storage and keys are set up
 * before esg_server_run() (runtime/bootstrap.h) and torn down after it returns.
 */
#ifndef ESG_RUNTIME_SERVER_H
#define ESG_RUNTIME_SERVER_H

#include <stddef.h>
#include <stdint.h>

/* Settings of the running server; strings are borrowed for the duration of esg_server_run(). */
typedef struct esg_server_settings {
    const char *issuer;
    const char *base_path;
    const char *const *listen; /* "host:port" entries */
    size_t n_listen;
    int workers; /* loops; 0 = one per CPU */
    int backlog;
    const char *tls_certificate; /* NULL: plain HTTP */
    const char *tls_private_key;
    int tls_min_version; /* 12 or 13 */
    size_t max_request_line, max_header_size, max_headers, max_body, max_connections;
    uint32_t header_timeout_ms, body_timeout_ms, keepalive_timeout_ms, write_timeout_ms;
    uint32_t shutdown_timeout_ms;
    int metrics_enabled;
    int metrics_loopback_only;
    int access_log;
    uint32_t jwks_refresh_ms; /* how often key stores are asked for their keys */
    /* Tests: called on loop 0 once every loop listens, with the first listen port. */
    void (*on_ready)(int port, void *data);
    void *on_ready_data;
} esg_server_settings;

/* Fills the defaults that match the configuration schema's defaults. */
void esg_server_settings_init(esg_server_settings *s);

/*
 * Runs the server until SIGTERM or SIGINT and a graceful drain. Returns 0 after a clean stop, or
 * a negative status when start-up failed (the reason is logged). [init]
 */
int esg_server_run(const esg_server_settings *s);

/* Stops a running server as SIGTERM would (tests). [any] */
void esg_server_request_stop(void);

#endif
