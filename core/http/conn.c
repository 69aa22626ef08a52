/*
 * HTTP/1.1 protocol of one connection: llhttp callbacks, limits, the request/response sequence,
 * keep-alive and pipelining. No socket code here; the transport is in server.c and tls.c.
 *
 * Sequencing: a connection handles one request at a time. When llhttp completes a message the
 * callback pauses the parser, so the bytes of pipelined requests stay unparsed in the read
 * buffer until the response of the current request has been written; then the buffer is
 * compacted and parsing resumes. This keeps responses in order, bounds the memory of a client
 * that pipelines without reading, and lets the request live in the connection without any
 * per-request allocation.
 *
 * Re-entrancy: a handler may answer synchronously from within dispatch, which runs inside
 * conn_process(); the resulting esg_http_conn_sent() must not parse recursively, so
 * conn_process() only sets `reprocess` when it is already running.
 */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

/* First size of a read buffer; it grows up to srv->rbuf_max while a head needs it. */
#define RBUF_INITIAL 4096u
/* A read buffer with less room than this grows, so reads are not tiny. */
#define RBUF_MIN_FREE 2048u
/* Chunk extensions are ignored but bounded per request. */
#define MAX_CHUNK_EXT 4096u
/* Per-connection buffers above this size are released after each request. */
#define KEEP_BUF_MAX 65536u

static esg_http_conn *conn_of(llhttp_t *p)
{
    return p->data;
}

/* Records the first error of a parser callback; llhttp then stops with HPE_USER. */
static int cb_fail(esg_http_conn *c, int status, const char *desc)
{
    if (c->err_status == 0) {
        c->err_status = status;
        c->err_desc = desc;
    }
    return HPE_USER;
}

/*
 * Extends span [*off, *off + *len) with `at`. llhttp splits a span only where a read ended, so
 * the pieces of one span are adjacent in the read buffer; a gap means obsolete line folding
 * (RFC 9112 §5.2), which a server may reject.
 */
static int span_add(esg_http_conn *c, uint32_t *off, uint32_t *len, const char *at, size_t n)
{
    uint32_t o = (uint32_t)(at - c->rbuf);
    if (*off == ESG_HDR_EMPTY) {
        *off = o;
        *len = (uint32_t)n;
        return 0;
    }
    if (*off + *len != o)
        return -1;
    *len += (uint32_t)n;
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    esg_http_conn *c = conn_of(p);
    esg_http_req_reset(&c->req);
    c->state = ESG_CONN_HEAD;
    c->req.start_ns = uv_hrtime();
    /* A new connection keeps the deadline armed at accept; it covers the TLS handshake too. */
    if (c->fresh)
        c->fresh = 0;
    else
        esg_http_timeout_set(c, ESG_TO_HEADER);
    return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    (void)at;
    c->line_bytes += (uint32_t)n;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    c->line_bytes += (uint32_t)n;
    if (c->line_bytes > c->srv->cfg.max_request_line)
        return cb_fail(c, 414, "request line too long");
    if (span_add(c, &c->req.target, &c->req.target_len, at, n) != 0)
        return cb_fail(c, 400, "malformed request target");
    return 0;
}

static int on_version(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    (void)at;
    c->line_bytes += (uint32_t)n;
    return 0;
}

static int on_version_complete(llhttp_t *p)
{
    conn_of(p)->line_done = 1;
    return 0;
}

/* Counts header (or trailer) bytes against max_header_size. */
static int count_head(esg_http_conn *c, size_t n)
{
    uint32_t *counter = c->in_trailers ? &c->trailer_bytes : &c->head_bytes;
    *counter += (uint32_t)n;
    if (*counter > c->srv->cfg.max_header_size)
        return cb_fail(c, 431, "request header fields too large");
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    if (count_head(c, n) != 0)
        return HPE_USER;
    if (c->in_trailers)
        return 0;
    if (c->hstate != 1) {
        if (c->req.nhdrs >= c->srv->cfg.max_headers)
            return cb_fail(c, 431, "too many header fields");
        esg_http_hdr *h = &c->hdrs[c->req.nhdrs];
        h->name = h->value = ESG_HDR_EMPTY;
        h->name_len = h->value_len = 0;
        c->hstate = 1;
    }
    esg_http_hdr *h = &c->hdrs[c->req.nhdrs];
    if (span_add(c, &h->name, &h->name_len, at, n) != 0)
        return cb_fail(c, 400, "malformed header field");
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    if (count_head(c, n) != 0)
        return HPE_USER;
    if (c->in_trailers || n == 0)
        return 0;
    esg_http_hdr *h = &c->hdrs[c->req.nhdrs];
    c->hstate = 2;
    if (span_add(c, &h->value, &h->value_len, at, n) != 0)
        return cb_fail(c, 400, "obsolete line folding is not accepted");
    return 0;
}

static int name_is(const char *s, uint32_t n, const char *lit, size_t litlen)
{
    return n == litlen && strncasecmp(s, lit, litlen) == 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    esg_http_conn *c = conn_of(p);
    /* ": " and CRLF count too, so the limit is close to the size on the wire. */
    if (count_head(c, 4) != 0)
        return HPE_USER;
    if (c->in_trailers)
        return 0;
    esg_http_hdr *h = &c->hdrs[c->req.nhdrs];
    const char *name = c->rbuf + h->name;
    int kh = -1;
    if (name_is(name, h->name_len, "host", 4))
        kh = ESG_KH_HOST;
    else if (name_is(name, h->name_len, "transfer-encoding", 17))
        kh = ESG_KH_TE;
    else if (name_is(name, h->name_len, "expect", 6))
        kh = ESG_KH_EXPECT;
    else if (name_is(name, h->name_len, "x-request-id", 12))
        kh = ESG_KH_REQID;
    if (kh >= 0) {
        if (c->kh_count[kh]++ == 0)
            c->kh_first[kh] = (int)c->req.nhdrs;
    }
    c->req.nhdrs++;
    c->hstate = 0;
    return 0;
}

/* Value of known header `kh` (first occurrence), trimmed; length 0 when absent or empty. */
static esp_str known_value(const esg_http_conn *c, int kh)
{
    esp_str v = {"", 0};
    if (c->kh_count[kh] == 0)
        return v;
    const esg_http_hdr *h = &c->hdrs[c->kh_first[kh]];
    if (h->value == ESG_HDR_EMPTY)
        return v;
    v.ptr = c->rbuf + h->value;
    v.len = h->value_len;
    while (v.len > 0 && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t'))
        v.len--;
    return v;
}

static esg_http_method map_method(uint8_t m)
{
    switch (m) {
    case HTTP_GET:
        return ESG_HTTP_GET;
    case HTTP_HEAD:
        return ESG_HTTP_HEAD;
    case HTTP_POST:
        return ESG_HTTP_POST;
    case HTTP_PUT:
        return ESG_HTTP_PUT;
    case HTTP_DELETE:
        return ESG_HTTP_DELETE;
    case HTTP_PATCH:
        return ESG_HTTP_PATCH;
    case HTTP_OPTIONS:
        return ESG_HTTP_OPTIONS;
    default:
        return ESG_HTTP_METHOD_NONE;
    }
}

static int on_headers_complete(llhttp_t *p)
{
    esg_http_conn *c = conn_of(p);
    esg_http_req *req = &c->req;
    const esg_http_config *cfg = &c->srv->cfg;
    const char *desc = NULL;

    req->minor = p->http_minor;
    if (p->http_major != 1 || p->http_minor > 1) {
        cb_fail(c, 505, "HTTP version not supported");
        return -1;
    }
    req->method = map_method(p->method);
    if (req->method == ESG_HTTP_METHOD_NONE) {
        cb_fail(c, 501, "method not implemented");
        return -1;
    }
    /* RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0. */
    if (c->kh_count[ESG_KH_HOST] > 1 || (req->minor == 1 && c->kh_count[ESG_KH_HOST] == 0)) {
        cb_fail(c, 400, "missing or repeated Host header");
        return -1;
    }
    int has_body = 0;
    if (c->kh_count[ESG_KH_TE] > 0) {
        /* RFC 9112 §6.1: a server may refuse Transfer-Encoding in HTTP/1.0. */
        if (req->minor == 0) {
            cb_fail(c, 400, "Transfer-Encoding in an HTTP/1.0 request");
            return -1;
        }
        esp_str te = known_value(c, ESG_KH_TE);
        if (c->kh_count[ESG_KH_TE] != 1 || te.len != 7 || strncasecmp(te.ptr, "chunked", 7) != 0) {
            cb_fail(c, 501, "transfer coding not implemented");
            return -1;
        }
        has_body = 1;
    } else if (p->flags & F_CONTENT_LENGTH) {
        if (p->content_length > cfg->max_body) {
            cb_fail(c, 413, "request body too large");
            return -1;
        }
        has_body = p->content_length > 0;
    }
    if (c->kh_count[ESG_KH_EXPECT] > 0) {
        esp_str ex = known_value(c, ESG_KH_EXPECT);
        if (c->kh_count[ESG_KH_EXPECT] != 1 || ex.len != 12 ||
            strncasecmp(ex.ptr, "100-continue", 12) != 0) {
            cb_fail(c, 417, "only Expect: 100-continue is supported");
            return -1;
        }
        /* RFC 9110 §10.1.1: no interim response to HTTP/1.0 or when no body follows. */
        c->send_continue = has_body && req->minor == 1;
    }
    int st = esg_http_req_head_done(c, &desc);
    if (st != 0) {
        cb_fail(c, st, desc);
        return -1;
    }
    c->upgrade = p->upgrade != 0;
    c->in_trailers = 1;
    c->state = ESG_CONN_BODY;
    if (has_body)
        esg_http_timeout_set(c, ESG_TO_BODY);
    else
        esg_http_timeout_clear(c);
    if (c->send_continue) {
        c->send_continue = 0;
        if (esg_http_conn_write_continue(c) != 0) {
            cb_fail(c, 500, "could not write the interim response");
            return -1;
        }
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    if (n > c->srv->cfg.max_body - c->body.len)
        return cb_fail(c, 413, "request body too large");
    if (esg_buf_append(&c->body, at, n) != 0)
        return cb_fail(c, 500, "out of memory");
    return 0;
}

static int on_chunk_extension(llhttp_t *p, const char *at, size_t n)
{
    esg_http_conn *c = conn_of(p);
    (void)at;
    c->ext_bytes += (uint32_t)n;
    if (c->ext_bytes > MAX_CHUNK_EXT)
        return cb_fail(c, 400, "chunk extensions too long");
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    esg_http_conn *c = conn_of(p);
    /* After an Upgrade request the stream would change protocol; we answer and close instead. */
    c->req.keep_alive = llhttp_should_keep_alive(p) && !c->upgrade;
    c->state = ESG_CONN_HANDLER;
    return HPE_PAUSED;
}

static const llhttp_settings_t parser_settings = {
    .on_message_begin = on_message_begin,
    .on_method = on_method,
    .on_url = on_url,
    .on_version = on_version,
    .on_version_complete = on_version_complete,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_extension_name = on_chunk_extension,
    .on_chunk_extension_value = on_chunk_extension,
    .on_message_complete = on_message_complete,
};

/* Resets the parse accounting for the next request (the parser itself continues). */
static void head_reset(esg_http_conn *c)
{
    c->line_bytes = c->head_bytes = c->trailer_bytes = c->ext_bytes = 0;
    c->hstate = 0;
    c->line_done = c->in_trailers = 0;
    c->upgrade = 0;
    c->send_continue = 0;
    c->err_status = 0;
    c->err_desc = NULL;
    for (int i = 0; i < ESG_KH_COUNT; i++) {
        c->kh_first[i] = -1;
        c->kh_count[i] = 0;
    }
}

int esg_http_conn_new(esg_http_server *srv, esg_http_conn **out)
{
    size_t size = sizeof(esg_http_conn) + srv->cfg.max_headers * sizeof(esg_http_hdr);
    esg_http_conn *c = calloc(1, size);
    if (c == NULL)
        return ESP_ENOMEM;
    c->rbuf = malloc(RBUF_INITIAL);
    if (c->rbuf == NULL) {
        free(c);
        return ESP_ENOMEM;
    }
    c->rcap = RBUF_INITIAL;
    c->srv = srv;
    c->tkind = ESG_TO_NONE;
    c->req.conn = c;
    llhttp_init(&c->parser, HTTP_REQUEST, &parser_settings);
    c->parser.data = c;
    head_reset(c);
    esg_http_req_reset(&c->req);
    *out = c;
    return 0;
}

void esg_http_conn_destroy(esg_http_conn *c)
{
    esg_http_resp_release(&c->req);
    esg_http_tls_free(c);
    esg_buf_free(&c->body);
    esg_buf_free(&c->scratch);
    esg_buf_free(&c->whead);
    esg_buf_free(&c->extra);
    esg_buf_free(&c->obuf);
    esg_buf_free(&c->tls_out);
    free(c->rbuf);
    free(c);
}

void esg_http_conn_start(esg_http_conn *c)
{
    c->state = ESG_CONN_IDLE;
    c->fresh = 1;
    esg_http_timeout_set(c, ESG_TO_HEADER);
    esg_http_conn_update_reading(c);
}

void esg_http_conn_read_space(esg_http_conn *c, char **p, size_t *n)
{
    uint32_t max = c->srv->rbuf_max;
    if (c->rcap - c->rlen < RBUF_MIN_FREE && c->rcap < max) {
        uint32_t cap = c->rcap * 2;
        if (cap < c->rlen + RBUF_MIN_FREE)
            cap = c->rlen + RBUF_MIN_FREE;
        if (cap > max)
            cap = max;
        /* Spans are offsets, so moving the buffer is safe. Without memory, read what fits. */
        char *nb = realloc(c->rbuf, cap);
        if (nb != NULL) {
            c->rbuf = nb;
            c->rcap = cap;
        }
    }
    *p = c->rbuf + c->rlen;
    *n = c->rcap - c->rlen;
}

/* Maps an llhttp error to the status the client gets. */
static int map_parse_error(esg_http_conn *c, llhttp_errno_t e, const char **desc)
{
    switch (e) {
    case HPE_INVALID_METHOD: {
        /*
         * An unknown method that is still a well-formed token gets 501 (RFC 9110 §9.1); random
         * bytes get 400.
         */
        uint32_t i = 0, start;
        while (i < c->rlen && (c->rbuf[i] == '\r' || c->rbuf[i] == '\n'))
            i++;
        start = i;
        while (i < c->rlen && i - start < 32 && c->rbuf[i] >= 'A' && c->rbuf[i] <= 'Z')
            i++;
        if (i > start && i < c->rlen && c->rbuf[i] == ' ') {
            *desc = "method not implemented";
            return 501;
        }
        *desc = "malformed request line";
        return 400;
    }
    case HPE_INVALID_VERSION:
        *desc = "HTTP version not supported";
        return 505;
    case HPE_INVALID_TRANSFER_ENCODING:
        *desc = "transfer coding not implemented";
        return 501;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        *desc = "conflicting Content-Length or Transfer-Encoding";
        return 400;
    case HPE_INVALID_CONTENT_LENGTH:
        *desc = "invalid Content-Length";
        return 400;
    case HPE_INVALID_CHUNK_SIZE:
        *desc = "invalid chunked encoding";
        return 400;
    case HPE_INVALID_URL:
        *desc = "malformed request target";
        return 400;
    case HPE_INVALID_HEADER_TOKEN:
        *desc = "malformed header field";
        return 400;
    default:
        *desc = "malformed request";
        return 400;
    }
}

enum { STEP_MORE, STEP_REQUEST, STEP_ERROR };

static int parse_step(esg_http_conn *c)
{
    llhttp_errno_t e = llhttp_execute(&c->parser, c->rbuf + c->rpos, c->rlen - c->rpos);
    if (e == HPE_OK) {
        c->rpos = c->rlen;
        if (c->state == ESG_CONN_BODY) {
            /* Body bytes were copied out; keep only the head so the buffer never fills. */
            c->rlen = c->rpos = c->keep;
        } else if (c->state == ESG_CONN_IDLE) {
            /* Only blank lines between requests were consumed. */
            c->rlen = c->rpos = 0;
        }
        return STEP_MORE;
    }
    if (e == HPE_PAUSED) {
        c->rpos = (uint32_t)(llhttp_get_error_pos(&c->parser) - c->rbuf);
        llhttp_resume(&c->parser);
        return STEP_REQUEST;
    }
    int status;
    const char *desc;
    if (c->err_status != 0) {
        status = c->err_status;
        desc = c->err_desc;
    } else {
        status = map_parse_error(c, e, &desc);
    }
    esg_http_conn_fail(c, status, desc);
    return STEP_ERROR;
}

static void dispatch(esg_http_conn *c)
{
    esg_http_server *srv = c->srv;
    esg_http_timeout_clear(c);
    c->req.dispatched = 1;
    srv->stats.requests++;
    srv->cfg.dispatch(&c->req, srv->cfg.data);
}

/* Parses whatever the read buffer holds while the state allows it. */
static void conn_process(esg_http_conn *c)
{
    if (c->in_process) {
        c->reprocess = 1;
        return;
    }
    c->in_process = 1;
    do {
        c->reprocess = 0;
        while (
            !c->closing && c->rpos < c->rlen &&
            (c->state == ESG_CONN_IDLE || c->state == ESG_CONN_HEAD || c->state == ESG_CONN_BODY)) {
            int step = parse_step(c);
            if (step == STEP_REQUEST)
                dispatch(c);
            else if (step == STEP_ERROR)
                break;
        }
    } while (c->reprocess && !c->closing);
    c->in_process = 0;
    if (c->closing)
        return;
    /*
     * A head that fills the largest read buffer exceeds the limits even if the callbacks could
     * not tell yet (for example because of long runs of whitespace).
     */
    if ((c->state == ESG_CONN_HEAD || c->state == ESG_CONN_IDLE) && c->rlen == c->rcap &&
        c->rcap >= c->srv->rbuf_max) {
        if (c->line_done)
            esg_http_conn_fail(c, 431, "request header fields too large");
        else
            esg_http_conn_fail(c, 414, "request line too long");
        return;
    }
    esg_http_conn_update_reading(c);
}

void esg_http_conn_received(esg_http_conn *c, size_t n)
{
    c->rlen += (uint32_t)n;
    conn_process(c);
}

void esg_http_conn_eof(esg_http_conn *c)
{
    switch (c->state) {
    case ESG_CONN_HANDLER:
    case ESG_CONN_WRITING:
        /*
         * The client may have only half-closed; the response is still attempted, then the
         * connection closes. Handlers see the request as gone so they can stop early.
         */
        c->peer_eof = 1;
        esg_http_conn_update_reading(c);
        break;
    default:
        /* Idle, lingering, or part-way through a request that can no longer complete. */
        esg_http_conn_close(c);
        break;
    }
}

/* Shrinks a per-connection buffer that grew beyond what keep-alive connections should hold. */
static void trim_buf(esg_buf *b)
{
    if (b->cap > KEEP_BUF_MAX)
        esg_buf_free(b);
    else
        esg_buf_reset(b);
}

static void complete_request(esg_http_conn *c, int status)
{
    esg_http_server *srv = c->srv;
    esg_http_req *req = &c->req;
    if (srv->cfg.on_complete != NULL) {
        esg_http_done_info info;
        memset(&info, 0, sizeof(info));
        info.status = req->status;
        info.bytes_out = c->out_bytes;
        info.bytes_in = c->body.len;
        info.latency_us = req->start_ns ? (uv_hrtime() - req->start_ns) / 1000u : 0;
        info.route =
            req->route ? (req->route->name ? req->route->name : req->route->pattern) : NULL;
        info.aborted = status < 0 || c->closing;
        srv->cfg.on_complete(req, &info, srv->cfg.data);
    }
    esg_http_resp_release(req);
    req->dispatched = 0;
}

void esg_http_conn_sent(esg_http_conn *c, int status)
{
    esg_http_req *req = &c->req;
    esg_http_timeout_clear(c);
    complete_request(c, status);
    if (c->handle_closed) {
        /* The handle closed while a handler held the request: nothing else refers to it. */
        esg_http_conn_handle_closed(c);
        return;
    }
    if (c->closing)
        return;
    if (status < 0) {
        esg_http_conn_close(c);
        return;
    }
    if (!req->keep_alive || c->srv->draining || c->peer_eof) {
        /* Lingering only helps a client that may still be sending. */
        if (c->linger && !c->peer_eof)
            esg_http_conn_linger(c);
        else
            esg_http_conn_close(c);
        return;
    }
    /* Ready for the next request: move pipelined bytes to the front. */
    uint32_t rest = c->rlen - c->rpos;
    if (rest > 0 && c->rpos > 0)
        memmove(c->rbuf, c->rbuf + c->rpos, rest);
    c->rlen = rest;
    c->rpos = 0;
    c->keep = 0;
    trim_buf(&c->body);
    trim_buf(&c->scratch);
    trim_buf(&c->whead);
    trim_buf(&c->extra);
    trim_buf(&c->obuf);
    trim_buf(&c->tls_out);
    head_reset(c);
    esg_http_req_reset(req);
    c->out_bytes = 0;
    c->state = ESG_CONN_IDLE;
    esg_http_timeout_set(c, ESG_TO_KEEPALIVE);
    conn_process(c);
}

int esg_http_conn_send_response(esg_http_conn *c)
{
    esg_http_req *req = &c->req;
    if (c->closing) {
        esg_http_resp_release(req);
        esg_http_conn_sent(c, ESP_ECANCELED);
        return ESP_ECANCELED;
    }
    c->state = ESG_CONN_WRITING;
    unsigned n = 0;
    c->iov[n++] = uv_buf_init(c->whead.data, (unsigned)c->whead.len);
    if (req->method != ESG_HTTP_HEAD && req->blen > 0)
        c->iov[n++] = uv_buf_init((char *)(uintptr_t)req->bptr, (unsigned)req->blen);
    c->out_bytes = 0;
    for (unsigned i = 0; i < n; i++)
        c->out_bytes += c->iov[i].len;
    int r = esg_http_conn_write(c, c->iov, n);
    if (r == 1) {
        esg_http_timeout_set(c, ESG_TO_WRITE);
        return 0;
    }
    esg_http_conn_sent(c, r < 0 ? r : 0);
    return 0;
}

void esg_http_conn_fail(esg_http_conn *c, int status, const char *desc)
{
    esg_http_server *srv = c->srv;
    srv->stats.errors++;
    /* The log line and the X-Request-ID of the error response carry the same id. */
    if (c->req.id[0] == '\0')
        esg_http_server_new_id(srv, c->req.id);
    if (esg_log_enabled(ESP_LOG_INFO)) {
        esg_log_kv kv[] = {ESG_KV_INT("status", status), ESG_KV_STR("reason", desc),
                           ESG_KV_STR("remote", esg_http_req_remote_addr(&c->req)),
                           ESG_KV_STR("request_id", c->req.id)};
        esg_log_event(ESP_LOG_INFO, "http.reject", kv, sizeof(kv) / sizeof(kv[0]));
    }
    c->req.keep_alive = 0;
    /* Drain what the client still sends so it can read the error before the socket closes. */
    c->linger = 1;
    esg_http_send_error(c, status, desc);
}

void esg_http_conn_timeout(esg_http_conn *c, int kind)
{
    esg_http_server *srv = c->srv;
    switch (kind) {
    case ESG_TO_HEADER:
    case ESG_TO_BODY:
        srv->stats.timeouts++;
        if (c->state == ESG_CONN_HEAD || c->state == ESG_CONN_BODY) {
            /* Part of a request arrived: say why, if the socket takes it now, then close. */
            srv->stats.errors++;
            if (esg_log_enabled(ESP_LOG_INFO)) {
                esg_log_kv kv[] = {ESG_KV_STR("phase", kind == ESG_TO_HEADER ? "header" : "body"),
                                   ESG_KV_STR("remote", esg_http_req_remote_addr(&c->req))};
                esg_log_event(ESP_LOG_INFO, "http.timeout", kv, 2);
            }
            c->req.keep_alive = 0;
            c->best_effort = 1;
            esg_http_send_error(c, 408, "request timeout");
        } else {
            esg_http_conn_close(c);
        }
        break;
    case ESG_TO_WRITE: {
        /*
         * A response that still moves gets another period; a stuck one is dropped. An empty
         * queue means the last bytes left and the write callback is about to run.
         */
        size_t q = c->srv->loop ? uv_stream_get_write_queue_size(&c->h.stream) : 0;
        if (c->srv->loop != NULL && q < c->wq_size) {
            c->wq_size = q;
            esg_http_timeout_set(c, ESG_TO_WRITE);
            break;
        }
        srv->stats.timeouts++;
        esg_http_conn_close(c);
        break;
    }
    default:
        esg_http_conn_close(c);
        break;
    }
}
