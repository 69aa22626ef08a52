/*
 * TLS on libuv streams with OpenSSL memory BIOs: ciphertext read from the socket is written into
 * the read BIO, SSL_read decrypts into the connection's read buffer (so the HTTP code above sees
 * plaintext exactly as on a plain connection), and whatever OpenSSL puts into the write BIO is
 * copied out and written to the socket, one write request at a time.
 *
 * SSL_CTX objects are shared by every loop (SSL_new on a shared context is thread-safe); each SSL
 * object belongs to one connection and so to one loop thread. OpenSSL's error queue is
 * per-thread, and it is cleared before each call whose errors are inspected.
 */
#include "http/internal.h"

#include <limits.h>
#include <openssl/err.h>
#include <string.h>

#include "util/log.h"

/* ALPN: only HTTP/1.1 is spoken; a client offering nothing else in common is refused. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char protos[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, protos, sizeof(protos) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

int esg_http_tls_ctx_configure(SSL_CTX *ctx, int min_version)
{
    if (min_version == 0)
        min_version = TLS1_2_VERSION;
    if (ctx == NULL || (min_version != TLS1_2_VERSION && min_version != TLS1_3_VERSION))
        return ESP_EINVAL;
    if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1)
        return ESP_EINTERNAL;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Idle keep-alive connections then hold no record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return 0;
}

int esg_http_tls_ctx_new(const char *cert_chain_file, const char *key_file, int min_version,
                         SSL_CTX **out)
{
    const char *step = "context";
    int rc = ESP_ECONFIG;
    *out = NULL;
    if (min_version != 0 && min_version != TLS1_2_VERSION && min_version != TLS1_3_VERSION)
        return ESP_EINVAL;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        goto fail;
    step = "certificate chain";
    if (cert_chain_file == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert_chain_file) != 1)
        goto fail;
    step = "private key";
    if (key_file == NULL || SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    step = "protocol settings";
    if (esg_http_tls_ctx_configure(ctx, min_version) != 0)
        goto fail;
    *out = ctx;
    return 0;
fail:;
    char reason[256];
    ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
    esg_log_kv kv[] = {ESG_KV_STR("step", step), ESG_KV_STR("error", reason),
                       ESG_KV_STR("cert", cert_chain_file ? cert_chain_file : "-")};
    esg_log_event(ESP_LOG_ERROR, "http.tls_config", kv, 3);
    SSL_CTX_free(ctx);
    return rc;
}

int esg_http_tls_start(esg_http_conn *c)
{
    BIO *rb = NULL, *wb = NULL;
    ERR_clear_error();
    SSL *ssl = SSL_new(c->srv->cfg.tls);
    rb = BIO_new(BIO_s_mem());
    wb = BIO_new(BIO_s_mem());
    if (ssl == NULL || rb == NULL || wb == NULL) {
        BIO_free(rb);
        BIO_free(wb);
        SSL_free(ssl);
        return ESP_ENOMEM;
    }
    /* An empty memory BIO means "wait for more", not end of file. */
    BIO_set_mem_eof_return(rb, -1);
    BIO_set_mem_eof_return(wb, -1);
    SSL_set_bio(ssl, rb, wb);
    SSL_set_accept_state(ssl);
    c->ssl = ssl;
    return 0;
}

void esg_http_tls_free(esg_http_conn *c)
{
    SSL_free(c->ssl);
    c->ssl = NULL;
}

static void tls_fail(esg_http_conn *c, const char *what)
{
    c->tls_failed = 1;
    if (esg_log_enabled(ESP_LOG_INFO)) {
        char reason[160];
        ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
        esg_log_kv kv[] = {ESG_KV_STR("step", what), ESG_KV_STR("error", reason),
                           ESG_KV_STR("remote", c->peer)};
        esg_log_event(ESP_LOG_INFO, "http.tls", kv, 3);
    }
    ERR_clear_error();
}

static int tls_flush(esg_http_conn *c);

static void on_tls_written(uv_write_t *w, int status)
{
    esg_http_conn *c = w->data;
    c->tls_writing = 0;
    int r = status < 0 ? ESP_EIO : tls_flush(c);
    if (r == 1)
        return;
    if (c->tls_resp_pending) {
        c->tls_resp_pending = 0;
        esg_http_conn_sent(c, r);
    } else if (r < 0) {
        esg_http_conn_close(c);
    }
}

/*
 * Moves the write BIO to the socket. Returns 0 when it is empty, 1 while a write is queued, or
 * ESP_EIO.
 */
static int tls_flush(esg_http_conn *c)
{
    if (c->tls_writing)
        return 1;
    BIO *wb = SSL_get_wbio(c->ssl);
    size_t pending = BIO_ctrl_pending(wb);
    if (pending == 0)
        return 0;
    esg_buf_reset(&c->tls_out);
    if (pending > INT_MAX || esg_buf_reserve(&c->tls_out, pending) != 0)
        return ESP_EIO;
    int got = BIO_read(wb, c->tls_out.data, (int)pending);
    if (got <= 0)
        return ESP_EIO;
    c->tls_out.len = (size_t)got;
    uv_buf_t b = uv_buf_init(c->tls_out.data, (unsigned)got);
    int r = uv_try_write(&c->h.stream, &b, 1);
    if (r == UV_EAGAIN)
        r = 0;
    else if (r < 0)
        return ESP_EIO;
    if (r == got || c->best_effort)
        return 0;
    b.base += r;
    b.len -= (size_t)r;
    c->wreq.data = c;
    if (uv_write(&c->wreq, &c->h.stream, &b, 1, on_tls_written) != 0)
        return ESP_EIO;
    c->tls_writing = 1;
    c->wq_size = uv_stream_get_write_queue_size(&c->h.stream);
    return 1;
}

int esg_http_tls_write(esg_http_conn *c, uv_buf_t *bufs, unsigned n, int response)
{
    ERR_clear_error();
    for (unsigned i = 0; i < n; i++) {
        /* With memory BIOs and no partial-write mode, SSL_write takes everything or fails. */
        size_t off = 0;
        while (off < bufs[i].len) {
            size_t k = bufs[i].len - off;
            if (k > INT_MAX)
                k = INT_MAX;
            int w = SSL_write(c->ssl, bufs[i].base + off, (int)k);
            if (w <= 0) {
                tls_fail(c, "write");
                return ESP_EIO;
            }
            off += (size_t)w;
        }
    }
    int r = tls_flush(c);
    if (r == 1 && response)
        c->tls_resp_pending = 1;
    return r;
}

void esg_http_tls_pump(esg_http_conn *c)
{
    int eof = 0;
    if (c->tls_pumping || !c->tls_hs_done)
        return;
    c->tls_pumping = 1;
    while (!c->closing && c->reading && c->state != ESG_CONN_LINGER) {
        char *p;
        size_t space;
        esg_http_conn_read_space(c, &p, &space);
        if (space == 0)
            break;
        ERR_clear_error();
        int r = SSL_read(c->ssl, p, space > INT_MAX ? INT_MAX : (int)space);
        if (r > 0) {
            esg_http_conn_received(c, (size_t)r);
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            eof = 1;
            break;
        }
        tls_fail(c, "read");
        c->tls_pumping = 0;
        esg_http_conn_close(c);
        return;
    }
    c->tls_pumping = 0;
    if (c->closing)
        return;
    /* Reading can produce output too (TLS 1.3 key updates, alerts). */
    if (tls_flush(c) < 0) {
        esg_http_conn_close(c);
        return;
    }
    if (eof)
        esg_http_conn_eof(c);
}

void esg_http_tls_read(esg_http_conn *c, const char *data, size_t n)
{
    BIO *rb = SSL_get_rbio(c->ssl);
    if (n > INT_MAX || BIO_write(rb, data, (int)n) != (int)n) {
        esg_http_conn_close(c);
        return;
    }
    if (!c->tls_hs_done) {
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                if (tls_flush(c) < 0)
                    esg_http_conn_close(c);
                return;
            }
            /* Send the alert if the socket takes it now, then give up. */
            tls_fail(c, "handshake");
            c->best_effort = 1;
            tls_flush(c);
            esg_http_conn_close(c);
            return;
        }
        c->tls_hs_done = 1;
        if (tls_flush(c) < 0) {
            esg_http_conn_close(c);
            return;
        }
    }
    esg_http_tls_pump(c);
}

void esg_http_tls_close_notify(esg_http_conn *c)
{
    char tmp[256];
    if (!c->tls_hs_done || c->tls_failed || c->tls_writing)
        return;
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    ERR_clear_error();
    BIO *wb = SSL_get_wbio(c->ssl);
    size_t pending = BIO_ctrl_pending(wb);
    if (pending == 0 || pending > sizeof(tmp))
        return;
    int got = BIO_read(wb, tmp, (int)pending);
    if (got <= 0)
        return;
    uv_buf_t b = uv_buf_init(tmp, (unsigned)got);
    uv_try_write(&c->h.stream, &b, 1);
}
