/*
 * Private structures of core/http, shared by its .c files and by the tests and fuzz targets of
 * this folder. Nothing outside core/http and its tests may include this header.
 *
 * Shape:
 *   esg_http_server  one per loop: listeners, connection list, timeout lists, counters.
 *   esg_http_conn    one per TCP connection: llhttp parser, read buffer, the one request that is
 *                    in progress (requests are handled one at a time per connection, so
 *                    pipelined responses leave in order and no per-request allocation is needed),
 *                    response buffers, optional TLS state.
 *   esg_http_req     embedded in its connection; header names and values, the target and the
 *                    query are spans of the connection's read buffer, NUL-terminated in place
 *                    once the head is parsed, so parsing copies nothing.
 *
 * Files: conn.c is the protocol (llhttp glue, limits, request and response sequencing) and is
 * independent of sockets; server.c is the libuv transport (accept, read, write, close, timers,
 * shutdown); tls.c puts OpenSSL with memory BIOs between the two; request.c and response.c
 * hold the public accessors and the response head writer.
 *
 * A server created with esg_http_test_server_new() has no loop: its connections are fed by
 * esg_http_test_conn_feed() and their output is collected in memory. Tests and the fuzz targets
 * use it to drive the real protocol code byte by byte, without sockets or timers.
 */
#ifndef ESG_HTTP_INTERNAL_H
#define ESG_HTTP_INTERNAL_H

#include <llhttp.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <uv.h>

#include "http/request.h"
#include "http/response.h"
#include "http/router.h"
#include "http/server.h"
#include "util/buf.h"

typedef struct esg_http_conn esg_http_conn;

/* Where a connection is in its request cycle. */
enum esg_http_conn_state {
    ESG_CONN_IDLE,    /* between requests, nothing of the next one parsed */
    ESG_CONN_HEAD,    /* reading the request line and header section */
    ESG_CONN_BODY,    /* reading the body (or trailers) */
    ESG_CONN_HANDLER, /* dispatched; waiting for the handler's response */
    ESG_CONN_WRITING, /* response handed to the transport, not yet fully written */
    ESG_CONN_LINGER,  /* after an error response: write side shut down, input drained */
    ESG_CONN_CLOSED,  /* close requested */
};

/* Timeout lists; a connection is on at most one. */
enum esg_http_timeout_kind {
    ESG_TO_HEADER,
    ESG_TO_BODY,
    ESG_TO_KEEPALIVE,
    ESG_TO_WRITE,
    ESG_TO_LINGER,
    ESG_TO_COUNT,
    ESG_TO_NONE = -1,
};

/* A header line as offsets into the connection's read buffer. */
typedef struct esg_http_hdr {
    uint32_t name, name_len;
    uint32_t value, value_len; /* value == ESG_HDR_EMPTY: empty value */
} esg_http_hdr;

#define ESG_HDR_EMPTY UINT32_MAX

/* Response body kinds. */
enum { ESG_BODY_NONE, ESG_BODY_OWNED, ESG_BODY_SHARED, ESG_BODY_STATIC };

/* Response flags set by the esg_http_resp_* functions. */
#define ESG_RF_CORS      0x01u
#define ESG_RF_CLOSE     0x02u
#define ESG_RF_CACHE_SET 0x04u /* handler sent its own Cache-Control */
#define ESG_RF_CSP_SET   0x08u
#define ESG_RF_XFO_SET   0x10u
#define ESG_RF_RP_SET    0x20u

struct esg_http_req {
    esg_http_conn *conn;
    esg_http_method method;
    uint8_t minor;               /* HTTP/1.<minor> */
    uint8_t keep_alive;          /* the connection may carry another request after this one */
    uint8_t dispatched;          /* handed to the dispatch callback, not yet answered */
    uint8_t responded;           /* a response was composed (guards against double responses) */
    uint32_t target, target_len; /* offsets into rbuf */
    uint32_t query, query_len;
    const char *path; /* decoded path: into rbuf or the connection's scratch buffer */
    size_t path_len;
    uint32_t nhdrs;
    uint64_t start_ns;
    void *user;
    const esg_http_route *route;
    size_t nparams;
    esp_str pnames[ESG_HTTP_MAX_PARAMS];
    esp_str pvalues[ESG_HTTP_MAX_PARAMS];
    char id[65];
    /* Response being built. */
    int status;
    unsigned rflags;
    unsigned max_age;
    int body_kind;
    esg_http_body *shared;
    const char *bptr;
    size_t blen;
};

/* Header lines the parser looks at itself: first index and count. */
enum { ESG_KH_HOST, ESG_KH_TE, ESG_KH_EXPECT, ESG_KH_REQID, ESG_KH_COUNT };

struct esg_http_conn {
    esg_http_server *srv;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
    } h;
    uv_write_t wreq;      /* the response (or, with TLS, any ciphertext) */
    uv_write_t wreq_cont; /* "100 Continue" on plain connections */
    uv_shutdown_t sreq;   /* lingering close */
    llhttp_t parser;
    int state;

    /* Read buffer: [0, keep) head of the current request, [rpos, rlen) not yet parsed. */
    char *rbuf;
    uint32_t rcap, rlen, rpos, keep;

    /* Head accounting for the limits. */
    uint32_t line_bytes, head_bytes, trailer_bytes, ext_bytes;
    int hstate; /* 0 between headers, 1 in a name, 2 in a value */
    uint8_t line_done, in_trailers;
    int kh_first[ESG_KH_COUNT];
    uint32_t kh_count[ESG_KH_COUNT];
    int err_status;       /* set by a parser callback before it fails */
    const char *err_desc; /* static text for the error body */

    /* Timeouts. */
    int tkind;
    uint64_t deadline;
    esg_http_conn *tprev, *tnext;
    size_t wq_size; /* write queue size when the write timer was armed */

    /* Server's list of connections. */
    esg_http_conn *prev, *next;

    esg_buf body;    /* request body */
    esg_buf scratch; /* decoded path */
    esg_buf whead;   /* response head */
    esg_buf extra;   /* handler's response header lines */
    esg_buf obuf;    /* owned response body */
    uv_buf_t iov[2];
    uint64_t out_bytes;

    SSL *ssl;
    esg_buf tls_out; /* ciphertext being written */

    char peer[48];

    unsigned in_process : 1, reprocess : 1, fresh : 1, reading : 1, closing : 1, handle_closed : 1,
        peer_eof : 1, linger : 1, best_effort : 1, send_continue : 1, upgrade : 1, tls_hs_done : 1,
        tls_writing : 1, tls_resp_pending : 1, tls_pumping : 1, tls_failed : 1, rejecting : 1;

    esg_http_req req;
    esg_http_hdr hdrs[]; /* cfg.max_headers entries */
};

/* Timeout list: connections in deadline order (every entry has the same timeout). */
typedef struct esg_http_tlist {
    esg_http_conn *head, *tail;
    uint64_t timeout;
} esg_http_tlist;

#define ESG_HTTP_SCRATCH_SIZE 65536

struct esg_http_server {
    uv_loop_t *loop; /* NULL for a test server (memory transport) */
    esg_http_config cfg;
    uint32_t rbuf_max;
    uv_timer_t timer;
    uv_check_t check;
    uint64_t timer_due;
    int timer_on;
    esg_http_tlist tl[ESG_TO_COUNT];
    uv_tcp_t **listeners;
    size_t nlisteners, open_listeners;
    esg_http_conn *conns;
    size_t nconns;     /* every connection object, rejected ones included */
    size_t nrejecting; /* connections being answered 503 over max_connections */
    esg_http_stats stats;
    int draining, handles_closing, handles_open;
    esg_http_server_done_cb done;
    void *done_data;
    unsigned char rnd[480];
    size_t rnd_pos;
    uint64_t id_counter;
    char *scratch; /* TLS ciphertext and discarded input, consumed within each read callback */
    esg_buf mem_out;
};

/* ---- conn.c: protocol ------------------------------------------------------------------------ */

/* Allocates a connection of `srv` (no handle initialised). Returns 0 or ESP_ENOMEM. */
int esg_http_conn_new(esg_http_server *srv, esg_http_conn **out);
/* Frees the memory of a connection whose handle is closed and whose request is finished. */
void esg_http_conn_destroy(esg_http_conn *c);
/* A new connection is ready to read: arms the header timeout and starts reading. */
void esg_http_conn_start(esg_http_conn *c);
/* Room for the next read at the end of the read buffer (grown when allowed); *n may be 0. */
void esg_http_conn_read_space(esg_http_conn *c, char **p, size_t *n);
/* `n` bytes were appended at the end of the read buffer: parse them. */
void esg_http_conn_received(esg_http_conn *c, size_t n);
/* The client closed its sending side. */
void esg_http_conn_eof(esg_http_conn *c);
/* The transport finished (status 0) or abandoned (negative) writing the current response. */
void esg_http_conn_sent(esg_http_conn *c, int status);
/* Timeout `kind` expired for the connection. */
void esg_http_conn_timeout(esg_http_conn *c, int kind);
/* Writes the response composed in c->whead and c->req; see response.c. Returns 0 or ECANCELED. */
int esg_http_conn_send_response(esg_http_conn *c);
/* Answers the request being parsed with a layer error and closes the connection after it. */
void esg_http_conn_fail(esg_http_conn *c, int status, const char *desc);

/* ---- server.c: transport --------------------------------------------------------------------- */

/* The handle is closed: frees the connection unless a handler still holds its request. */
void esg_http_conn_handle_closed(esg_http_conn *c);
/* Closes the connection (idempotent); a held request becomes gone. */
void esg_http_conn_close(esg_http_conn *c);
/*
 * Writes bufs in order. Returns 0 when everything was written at once, 1 when the rest is queued
 * (esg_http_conn_sent() follows), or ESP_EIO. With c->best_effort nothing is queued.
 */
int esg_http_conn_write(esg_http_conn *c, uv_buf_t *bufs, unsigned n);
/* Sends "HTTP/1.1 100 Continue" ahead of the response. Returns 0 or ESP_EIO. */
int esg_http_conn_write_continue(esg_http_conn *c);
/* Shuts down the write side and drains input until EOF or the linger timeout. */
void esg_http_conn_linger(esg_http_conn *c);
/* Starts or stops reading to match the connection's state and free buffer space. */
void esg_http_conn_update_reading(esg_http_conn *c);
/* Puts the connection on timeout list `kind` (replacing any other), or takes it off. */
void esg_http_timeout_set(esg_http_conn *c, int kind);
void esg_http_timeout_clear(esg_http_conn *c);
/* Next request id: 16 random bytes in base64url (from a per-server pool), into out[23]. */
void esg_http_server_new_id(esg_http_server *srv, char out[23]);

/* ---- tls.c ----------------------------------------------------------------------------------- */

/* Creates the SSL object of an accepted connection. Returns 0 or ESP_ENOMEM. */
int esg_http_tls_start(esg_http_conn *c);
/* Ciphertext arrived from the socket. */
void esg_http_tls_read(esg_http_conn *c, const char *data, size_t n);
/* Decrypts buffered records into the read buffer while it has room. */
void esg_http_tls_pump(esg_http_conn *c);
/*
 * Encrypts and writes; same returns as esg_http_conn_write(). When `response` is set and the
 * ciphertext could not all be written at once, esg_http_conn_sent() follows once it has been.
 */
int esg_http_tls_write(esg_http_conn *c, uv_buf_t *bufs, unsigned n, int response);
/* Best-effort close_notify before the socket closes. */
void esg_http_tls_close_notify(esg_http_conn *c);
/* Frees the SSL object. */
void esg_http_tls_free(esg_http_conn *c);

/* ---- form.c: percent-decoding shared by paths, query strings and forms ---------------------- */

enum { ESG_PCT_OK, ESG_PCT_ESCAPE, ESG_PCT_NUL, ESG_PCT_CTRL, ESG_PCT_UTF8, ESG_PCT_SLASH };
#define ESG_PCT_PLUS     0x1u /* '+' decodes to a space */
#define ESG_PCT_NO_SLASH 0x2u /* "%2F" is an error (paths: segments must keep their meaning) */

/*
 * Decodes raw[0..n) into out (room for n + 1 bytes), NUL-terminated, *outlen without the NUL.
 * Returns ESG_PCT_OK, or the first problem: a bad escape, a decoded NUL, a raw control
 * character, invalid UTF-8 in the result, or an encoded '/' with ESG_PCT_NO_SLASH.
 */
int esg_http_pct_decode(const char *raw, size_t n, unsigned flags, char *out, size_t *outlen);

/* ---- request.c / response.c ------------------------------------------------------------------ */

/* Clears the per-request fields for the next request on the connection. */
void esg_http_req_reset(esg_http_req *req);
/*
 * The head is parsed: NUL-terminates spans, decodes the target, picks the request id. Returns 0
 * or an HTTP status (400, 500) with *desc set.
 */
int esg_http_req_head_done(esg_http_conn *c, const char **desc);
/* Layer error response: JSON body, "Connection: close". */
void esg_http_send_error(esg_http_conn *c, int status, const char *desc);
/* Releases the response body of the request (shared reference, owned buffer). */
void esg_http_resp_release(esg_http_req *req);

/* ---- memory transport for tests and fuzzing -------------------------------------------------- */

/* Creates a server without a loop. Same config rules as esg_http_server_new(). */
int esg_http_test_server_new(const esg_http_config *cfg, esg_http_server **out);
/* Frees a test server; every connection must have been released and every request answered. */
void esg_http_test_server_free(esg_http_server *srv);
/* Opens a connection (as if accepted). Returns 0, ESP_EAGAIN (over max_connections) or ENOMEM. */
int esg_http_test_conn_open(esg_http_server *srv, esg_http_conn **out);
/*
 * Delivers bytes as reads would, as far as the connection reads (it stops when its buffer is
 * full while a request is in progress, or once it closes). Returns the number of bytes taken.
 */
size_t esg_http_test_conn_feed(esg_http_conn *c, const void *data, size_t n);
/* Delivers end of input. */
void esg_http_test_conn_eof(esg_http_conn *c);
/* Fires the connection's pending timeout, if any; returns the kind fired or ESG_TO_NONE. */
int esg_http_test_conn_expire(esg_http_conn *c);
/* 1 once the connection asked to close. */
int esg_http_test_conn_closed(const esg_http_conn *c);
/* Plays the part of the handle's close callback (closing first when needed). */
void esg_http_test_conn_release(esg_http_conn *c);
/* Everything the server's connections wrote. */
esg_buf *esg_http_test_output(esg_http_server *srv);

#endif
