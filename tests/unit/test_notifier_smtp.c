/*
 * notifier-smtp through the real loader and call layer on the worker pool, against an SMTP server
 * this test runs on a thread on 127.0.0.1 (a free port): the message and its headers, dot
 * stuffing, 4xx and 5xx replies, destinations that would inject commands, a silent server and the
 * timeout, STARTTLS with a certificate made here (trusted, untrusted, not offered), AUTH PLAIN,
 * 8BITMIME, and no OTP or password in the log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/workers.h"
#include "test_loop.h"
#include "util/b64.h"
#include "util/log.h"

#define OTP      "730194"
#define PASSWORD "s3cret-Pa55"
#define TO       "jane@example.com"

static esg_loop loop;
static char cert_path[256], other_cert_path[256], log_path[256];
static EVP_PKEY *key, *other_key;
static X509 *cert, *other_cert;

/* ---------------------------------------------------------------------------------------------
 * A scripted SMTP server for one connection.
 */

typedef struct server {
    int listen_fd;
    int port;
    pthread_t thread;
    /* Behaviour. */
    int offer_starttls;
    int offer_auth;
    int offer_8bitmime;
    const char *mail_reply; /* NULL: "250 ok" */
    const char *rcpt_reply;
    const char *data_reply; /* after the message */
    int use_other_cert;
    int ehlo_delay_ms; /* a slow server */
    /* What it saw. */
    char transcript[16384]; /* commands, one per line */
    char data[16384];       /* the DATA content as sent, terminator included */
    int tls_used;
    char auth[256];
} server;

typedef struct peer {
    int fd;
    SSL *ssl;
    char buf[4096];
    size_t len;
} peer;

static int peer_fill(peer *p)
{
    if (p->len >= sizeof(p->buf))
        return -1;
    ssize_t n = p->ssl ? SSL_read(p->ssl, p->buf + p->len, (int)(sizeof(p->buf) - p->len))
                       : recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, 0);
    if (n <= 0)
        return -1;
    p->len += (size_t)n;
    return 0;
}

/* One line with its CRLF into `out`; its length, or -1 at the end of the connection. */
static long peer_line(peer *p, char *out, size_t size)
{
    char *nl;
    while ((nl = memchr(p->buf, '\n', p->len)) == NULL) {
        if (peer_fill(p) != 0)
            return -1;
    }
    size_t n = (size_t)(nl - p->buf) + 1;
    if (n >= size)
        return -1;
    memcpy(out, p->buf, n);
    out[n] = '\0';
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
    return (long)n;
}

static void peer_say(peer *p, const char *text)
{
    if (p->ssl)
        SSL_write(p->ssl, text, (int)strlen(text));
    else
        send(p->fd, text, strlen(text), MSG_NOSIGNAL);
}

static void append(char *dst, size_t size, const char *text)
{
    size_t used = strlen(dst);
    snprintf(dst + used, size - used, "%s", text);
}

static void serve(server *sv, peer *p)
{
    char line[2048];
    peer_say(p, "220 test.example ESMTP\r\n");
    while (peer_line(p, line, sizeof(line)) > 0) {
        append(sv->transcript, sizeof(sv->transcript), line);
        if (strncmp(line, "EHLO ", 5) == 0) {
            struct timespec delay = {0, (long)sv->ehlo_delay_ms * 1000000L};
            nanosleep(&delay, NULL);
            peer_say(p, "250-test.example\r\n");
            if (sv->offer_starttls && p->ssl == NULL)
                peer_say(p, "250-STARTTLS\r\n");
            if (sv->offer_8bitmime)
                peer_say(p, "250-8BITMIME\r\n");
            peer_say(p, sv->offer_auth ? "250 AUTH LOGIN PLAIN\r\n" : "250 SIZE 1000000\r\n");
        } else if (strcmp(line, "STARTTLS\r\n") == 0) {
            peer_say(p, "220 go ahead\r\n");
            SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
            SSL_CTX_use_certificate(ctx, sv->use_other_cert ? other_cert : cert);
            SSL_CTX_use_PrivateKey(ctx, sv->use_other_cert ? other_key : key);
            p->ssl = SSL_new(ctx);
            SSL_CTX_free(ctx);
            SSL_set_fd(p->ssl, p->fd);
            if (SSL_accept(p->ssl) != 1)
                return;
            sv->tls_used = 1;
        } else if (strncmp(line, "AUTH PLAIN ", 11) == 0) {
            snprintf(sv->auth, sizeof(sv->auth), "%.200s", line + 11);
            peer_say(p, "235 authenticated\r\n");
        } else if (strncmp(line, "MAIL FROM:", 10) == 0) {
            peer_say(p, sv->mail_reply ? sv->mail_reply : "250 ok\r\n");
        } else if (strncmp(line, "RCPT TO:", 8) == 0) {
            peer_say(p, sv->rcpt_reply ? sv->rcpt_reply : "250 ok\r\n");
        } else if (strcmp(line, "DATA\r\n") == 0) {
            peer_say(p, "354 end with .\r\n");
            long n;
            while ((n = peer_line(p, line, sizeof(line))) > 0) {
                append(sv->data, sizeof(sv->data), line);
                if (strcmp(line, ".\r\n") == 0)
                    break;
            }
            peer_say(p, sv->data_reply ? sv->data_reply : "250 queued\r\n");
        } else if (strcmp(line, "QUIT\r\n") == 0) {
            peer_say(p, "221 bye\r\n");
            return;
        } else {
            peer_say(p, "500 what\r\n");
        }
    }
}

static void *server_main(void *arg)
{
    server *sv = arg;
    /* A bound on how long the test may hang, not a synchronisation point. */
    struct pollfd pfd = {sv->listen_fd, POLLIN, 0};
    if (poll(&pfd, 1, 20000) != 1)
        return NULL;
    int fd = accept(sv->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    peer p;
    memset(&p, 0, sizeof(p));
    p.fd = fd;
    serve(sv, &p);
    if (p.ssl != NULL) {
        SSL_shutdown(p.ssl);
        SSL_free(p.ssl);
    }
    close(fd);
    return NULL;
}

/* A listening socket on 127.0.0.1 with a port the kernel chose. */
static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void server_start(server *sv)
{
    sv->listen_fd = listen_any(&sv->port);
    assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

static void server_stop(server *sv)
{
    pthread_join(sv->thread, NULL);
    close(sv->listen_fd);
}

/* ---------------------------------------------------------------------------------------------
 * Certificates: self-signed P-256 certificates for 127.0.0.1, made at start.
 */

static void make_cert(EVP_PKEY **k, X509 **c, const char *path)
{
    *k = EVP_EC_gen("P-256");
    assert_non_null(*k);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, *k);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, bc, -1);
    X509_EXTENSION_free(bc);
    assert_true(X509_sign(x, *k, EVP_sha256()) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    *c = x;
}

/* ---------------------------------------------------------------------------------------------
 * Plugin instances and calls.
 */

typedef struct outcome {
    int done;
    int status;
} outcome;

static void on_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    outcome *o = ud;
    o->done = 1;
    o->status = status;
}

static int is_done(void *arg)
{
    return ((outcome *)arg)->done;
}

static int instance_count;

/* Creates an instance for `port` with `extra` options (a JSON object's members, or ""). */
static int create_timed(int port, const char *extra, int64_t call_timeout_ms,
                        struct esp_instance **out)
{
    char text[1024], name[32];
    snprintf(text, sizeof(text),
             "{\"host\": \"127.0.0.1\", \"port\": %d, \"from\": \"eSignet <otp@example.org>\","
             " \"timeout\": 5000%s}",
             port, extra);
    snprintf(name, sizeof(name), "smtp%d", instance_count++);
    json_t *cfg = json_loads(text, 0, NULL);
    assert_non_null(cfg);
    esg_buf err = ESG_BUF_INIT;
    int rc = esg_instance_create(esg_cap_find(ESP_KIND_OTP_NOTIFIER, "smtp", NULL), name, cfg,
                                 call_timeout_ms, out, &err);
    esg_buf_free(&err);
    return rc;
}

static int create(int port, const char *extra, struct esp_instance **out)
{
    return create_timed(port, extra, 10000, out);
}

static int notify_as(struct esp_instance *inst, const char *to, const char *client)
{
    esp_notify_request req = {
        sizeof(req), ESP_STR_LIT("email"), {to, strlen(to)},        ESP_STR_LIT(OTP),
        180,         ESP_STR_LIT("en"),    {client, strlen(client)}};
    outcome o = {0, 0};
    int rc = esg_call(inst, ESG_OP_NOTIFY, &req, on_done, &o);
    if (rc != 0)
        return rc;
    test_loop_until(&loop, is_done, &o, 20000);
    return o.status;
}

/* Runs one notification against a server with behaviour `sv`; returns the status. */
static int deliver(server *sv, const char *extra, const char *to, const char *client)
{
    struct esp_instance *inst;
    server_start(sv);
    int rc = create(sv->port, extra, &inst);
    if (rc == 0)
        rc = notify_as(inst, to, client);
    else
        shutdown(sv->listen_fd, SHUT_RDWR); /* wakes the server thread's poll */
    server_stop(sv);
    return rc;
}

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    signal(SIGPIPE, SIG_IGN); /* as the server does */
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(2), 0);
    if (esg_plugin_load(ESG_PLUGIN_BUILD_DIR "/notifier-smtp.so", &err) != 0)
        fail_msg("%s", err.data);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    esg_buf_free(&err);
    snprintf(cert_path, sizeof(cert_path), "%s/test_notifier_smtp_%d.pem", ESG_TEST_BUILD_DIR,
             (int)getpid());
    snprintf(other_cert_path, sizeof(other_cert_path), "%s/test_notifier_smtp_%d_other.pem",
             ESG_TEST_BUILD_DIR, (int)getpid());
    snprintf(log_path, sizeof(log_path), "%s/test_notifier_smtp_%d.log", ESG_TEST_BUILD_DIR,
             (int)getpid());
    make_cert(&key, &cert, cert_path);
    make_cert(&other_key, &other_cert, other_cert_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esg_plugins_shutdown();
    esg_workers_stop();
    assert_int_equal(test_loop_finish(&loop), 0);
    unlink(cert_path);
    unlink(other_cert_path);
    unlink(log_path);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    X509_free(cert);
    X509_free(other_cert);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Tests.
 */

static void test_message(void **state)
{
    (void)state;
    server sv;
    memset(&sv, 0, sizeof(sv));
    assert_int_equal(deliver(&sv, "", TO, "Health Portal"), 0);
    assert_string_equal(sv.transcript, "EHLO localhost\r\n"
                                       "MAIL FROM:<otp@example.org>\r\n"
                                       "RCPT TO:<" TO ">\r\n"
                                       "DATA\r\n"
                                       "QUIT\r\n");
    const char *d = sv.data;
    assert_true(strncmp(d, "Date: ", 6) == 0);
    assert_non_null(strstr(d, " +0000\r\nFrom: eSignet <otp@example.org>\r\nTo: " TO
                              "\r\nSubject: Your sign-in code\r\nMessage-ID: <"));
    assert_non_null(strstr(d, "@example.org>\r\nMIME-Version: 1.0\r\n"
                              "Content-Type: text/plain; charset=UTF-8\r\n"
                              "Content-Transfer-Encoding: 7bit\r\n\r\n" OTP
                              " is your sign-in code.\r\n"
                              "It expires in 3 minutes.\r\n"));
    assert_non_null(strstr(d, "\r\nHealth Portal\r\n"));
    /* Every line ends with CRLF, and the content with CRLF "." CRLF. */
    for (const char *c = d; *c != '\0'; c++) {
        if (*c == '\n')
            assert_int_equal(c[-1], '\r');
    }
    size_t n = strlen(d);
    assert_string_equal(d + n - 5, "\r\n.\r\n");
    /* A date as RFC 5322 writes it: "Date: Thu, 26 Nov 2026 10:00:00 +0000". */
    assert_int_equal(d[9], ',');
    assert_int_equal(d[6 + 5 + 2 + 1 + 3 + 1 + 4 + 1 + 8], ' ');
}

static void test_dot_stuffing(void **state)
{
    (void)state;
    server sv;
    memset(&sv, 0, sizeof(sv));
    /* The relying party's name starts a body line: its dot is doubled. */
    assert_int_equal(deliver(&sv, "", TO, ".hidden"), 0);
    assert_non_null(strstr(sv.data, "\r\n..hidden\r\n"));
    assert_null(strstr(sv.data, "\r\n.hidden\r\n"));
    /* A name that tries to end the message and start a new transaction stays one line. */
    memset(&sv, 0, sizeof(sv));
    assert_int_equal(deliver(&sv, "", TO, "x\r\n.\r\nMAIL FROM:<evil@example.net>"), 0);
    assert_non_null(strstr(sv.data, "\r\nx  .  MAIL FROM:<evil@example.net>\r\n"));
    assert_null(strstr(sv.transcript, "evil"));
    assert_string_equal(sv.data + strlen(sv.data) - 5, "\r\n.\r\n");
}

static void test_replies(void **state)
{
    (void)state;
    server sv;
    /* 4xx: try later; 5xx: failed. */
    memset(&sv, 0, sizeof(sv));
    sv.rcpt_reply = "451-4.3.0 try\r\n451 4.3.0 again later\r\n";
    assert_int_equal(deliver(&sv, "", TO, "x"), ESP_EUNAVAIL);
    assert_null(strstr(sv.transcript, "DATA"));
    memset(&sv, 0, sizeof(sv));
    sv.mail_reply = "550 5.7.1 sender refused\r\n";
    assert_int_equal(deliver(&sv, "", TO, "x"), ESP_ESEND_OTP);
    assert_null(strstr(sv.transcript, "RCPT"));
    memset(&sv, 0, sizeof(sv));
    sv.data_reply = "554 5.6.0 message refused\r\n";
    assert_int_equal(deliver(&sv, "", TO, "x"), ESP_ESEND_OTP);
    memset(&sv, 0, sizeof(sv));
    sv.data_reply = "452 4.3.1 insufficient storage\r\n";
    assert_int_equal(deliver(&sv, "", TO, "x"), ESP_EUNAVAIL);
    /* Not SMTP at all. */
    memset(&sv, 0, sizeof(sv));
    sv.mail_reply = "hello there\r\n";
    assert_int_equal(deliver(&sv, "", TO, "x"), ESP_ESEND_OTP);
}

static void test_injection_refused(void **state)
{
    (void)state;
    int port;
    int fd = listen_any(&port);
    struct esp_instance *inst;
    assert_int_equal(create(port, "", &inst), 0);
    const char *bad[] = {TO "\r\nRCPT TO:<evil@example.net>",
                         TO "\nBcc: evil@example.net",
                         "jane@example.com>",
                         "<jane@example.com",
                         "jane doe@example.com",
                         "jane@exa\rmple.com",
                         "jane",
                         "@example.com",
                         "jane@",
                         "j@n@example.com",
                         "j\xc3\xa4ne@example.com"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(notify_as(inst, bad[i], "x"), ESP_ESEND_OTP);
    /* Refused before connecting: nothing is waiting to be accepted. */
    struct pollfd pfd = {fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    close(fd);
}

static void test_silent_server(void **state)
{
    (void)state;
    /* The kernel accepts the connection; nobody ever greets. */
    int port;
    int fd = listen_any(&port);
    struct esp_instance *inst;
    assert_int_equal(create(port, ", \"timeout\": 300", &inst), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(notify_as(inst, TO, "x"), ESP_EUNAVAIL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_true(ms >= 250);
    assert_true(ms < 5000);
    close(fd);
    /* Nobody listening at all. */
    fd = listen_any(&port);
    close(fd);
    assert_int_equal(create(port, "", &inst), 0);
    assert_int_equal(notify_as(inst, TO, "x"), ESP_EUNAVAIL);
}

static int plugin_idle(void *arg)
{
    return atomic_load(&((struct esp_instance *)arg)->pending) == 0;
}

static void test_call_deadline(void **state)
{
    (void)state;
    /* The EHLO reply comes after the call's deadline: the session stops before MAIL. */
    server sv;
    memset(&sv, 0, sizeof(sv));
    sv.ehlo_delay_ms = 600;
    struct esp_instance *inst;
    server_start(&sv);
    assert_int_equal(create_timed(sv.port, "", 200, &inst), 0);
    assert_int_equal(notify_as(inst, TO, "x"), ESP_ETIMEDOUT);
    test_loop_until(&loop, plugin_idle, inst, 20000);
    server_stop(&sv);
    assert_string_equal(sv.transcript, "EHLO localhost\r\n");
}

static void test_starttls(void **state)
{
    (void)state;
    char extra[600];
    server sv;
    /* Offered and trusted: the session goes on in TLS and authenticates there. */
    snprintf(extra, sizeof(extra),
             ", \"starttls\": true, \"ca_file\": \"%s\", \"username\": \"otp-sender\","
             " \"password\": \"" PASSWORD "\"",
             cert_path);
    memset(&sv, 0, sizeof(sv));
    sv.offer_starttls = sv.offer_auth = 1;
    assert_int_equal(deliver(&sv, extra, TO, "x"), 0);
    assert_int_equal(sv.tls_used, 1);
    assert_string_equal(sv.transcript, "EHLO localhost\r\nSTARTTLS\r\nEHLO localhost\r\n"
                                       "AUTH PLAIN AG90cC1zZW5kZXIAczNjcmV0LVBhNTU=\r\n"
                                       "MAIL FROM:<otp@example.org>\r\nRCPT TO:<" TO ">\r\n"
                                       "DATA\r\nQUIT\r\n");
    assert_non_null(strstr(sv.data, OTP " is your sign-in code."));

    /* Required but not offered: nothing is sent in clear. */
    memset(&sv, 0, sizeof(sv));
    sv.offer_auth = 1;
    assert_int_equal(deliver(&sv, extra, TO, "x"), ESP_ESEND_OTP);
    assert_string_equal(sv.transcript, "EHLO localhost\r\n");

    /* A certificate that is not trusted. */
    memset(&sv, 0, sizeof(sv));
    sv.offer_starttls = sv.offer_auth = sv.use_other_cert = 1;
    assert_int_equal(deliver(&sv, extra, TO, "x"), ESP_EUNAVAIL);
    assert_null(strstr(sv.transcript, "MAIL"));
    assert_int_equal(sv.tls_used, 0);

    /* AUTH over plain text only when allowed, and only with AUTH PLAIN offered. */
    memset(&sv, 0, sizeof(sv));
    assert_int_equal(deliver(&sv, ", \"username\": \"u\", \"password\": \"p\"", TO, "x"),
                     ESP_ECONFIG);
    memset(&sv, 0, sizeof(sv));
    sv.offer_auth = 1;
    assert_int_equal(deliver(&sv,
                             ", \"username\": \"u\", \"password\": \"p\","
                             " \"allow_plain_auth_without_tls\": true",
                             TO, "x"),
                     0);
    assert_string_equal(sv.auth, "AHUAcA==\r\n");
    memset(&sv, 0, sizeof(sv));
    assert_int_equal(deliver(&sv,
                             ", \"username\": \"u\", \"password\": \"p\","
                             " \"allow_plain_auth_without_tls\": true",
                             TO, "x"),
                     ESP_ESEND_OTP);
    assert_null(strstr(sv.transcript, "AUTH"));
    assert_null(strstr(sv.transcript, "MAIL"));
}

static void test_encodings(void **state)
{
    (void)state;
    server sv;
    /* A UTF-8 subject becomes encoded words; a UTF-8 body goes 8-bit where offered... */
    memset(&sv, 0, sizeof(sv));
    sv.offer_8bitmime = 1;
    assert_int_equal(deliver(&sv,
                             ", \"subject\": \"Votre code de connexion \xc3\xa0 usage unique\"", TO,
                             "Sant\xc3\xa9"),
                     0);
    assert_non_null(strstr(sv.transcript, "MAIL FROM:<otp@example.org> BODY=8BITMIME\r\n"));
    assert_non_null(strstr(sv.data, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(sv.data, "Content-Transfer-Encoding: 8bit\r\n"));
    assert_non_null(strstr(sv.data, "\r\nSant\xc3\xa9\r\n"));
    const char *subj = strstr(sv.data, "Subject: ") + 9;
    assert_null(memchr(subj, 0xc3, (size_t)(strstr(subj, "\r\nMessage-ID") - subj)));
    /* ... and as base64 where not. */
    memset(&sv, 0, sizeof(sv));
    assert_int_equal(deliver(&sv, "", TO, "Sant\xc3\xa9"), 0);
    assert_non_null(strstr(sv.transcript, "MAIL FROM:<otp@example.org>\r\n"));
    assert_non_null(strstr(sv.data, "Content-Transfer-Encoding: base64\r\n\r\n"));
    assert_null(strstr(sv.data, OTP));
    const char *body = strstr(sv.data, "\r\n\r\n") + 4;
    esg_buf decoded = ESG_BUF_INIT;
    char b64[4096] = {0};
    for (const char *c = body; *c != '\0' && *c != '.'; c++) {
        if (*c != '\r' && *c != '\n')
            b64[strlen(b64)] = *c;
    }
    assert_int_equal(esg_b64_decode(&decoded, b64, strlen(b64)), 0);
    assert_non_null(strstr(decoded.data, OTP " is your sign-in code."));
    assert_non_null(strstr(decoded.data, "Sant\xc3\xa9"));
    esg_buf_free(&decoded);
}

static void test_bad_options(void **state)
{
    (void)state;
    struct esp_instance *inst;
    assert_int_equal(create(25, ", \"from\": \"otp@example.org\\r\\nBcc: x@y\"", &inst),
                     ESP_ECONFIG);
    assert_int_equal(create(25, ", \"from\": \"not an address\"", &inst), ESP_ECONFIG);
    assert_int_equal(create(25, ", \"subject\": \"code\\r\\nBcc: x@y\"", &inst), ESP_ECONFIG);
    assert_int_equal(create(25, ", \"starttls\": true, \"ca_file\": \"/nonexistent.pem\"", &inst),
                     ESP_ECONFIG);
    assert_int_equal(create(25, ", \"from\": \"Name <otp@example.org>\"", &inst), 0);
}

static void test_no_secrets_in_log(void **state)
{
    (void)state;
    char extra[600];
    snprintf(extra, sizeof(extra),
             ", \"starttls\": true, \"ca_file\": \"%s\", \"username\": \"otp-sender\","
             " \"password\": \"" PASSWORD "\"",
             cert_path);
    int fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    esg_log_set_level(ESP_LOG_DEBUG);
    esg_log_set_fd(fd);
    server sv;
    memset(&sv, 0, sizeof(sv));
    sv.offer_starttls = sv.offer_auth = 1;
    int ok = deliver(&sv, extra, TO, "x");
    memset(&sv, 0, sizeof(sv));
    sv.offer_starttls = sv.offer_auth = 1;
    sv.data_reply = "554 5.6.0 refused\r\n";
    int refused = deliver(&sv, extra, TO, "x");
    esg_log_set_fd(2);
    esg_log_set_level(ESP_LOG_INFO);
    char log[16384] = {0};
    assert_true(pread(fd, log, sizeof(log) - 1, 0) > 0);
    close(fd);
    assert_int_equal(ok, 0);
    assert_int_equal(refused, ESP_ESEND_OTP);
    assert_non_null(strstr(log, "OTP e-mail to j***@e*****e.com accepted"));
    assert_non_null(strstr(log, "554 5.6.0 refused"));
    assert_null(strstr(log, OTP));
    assert_null(strstr(log, PASSWORD));
    assert_null(strstr(log, "AG90cC1zZW5kZXIAczNjcmV0LVBhNTU"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dot_stuffing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_starttls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encodings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secrets_in_log, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
