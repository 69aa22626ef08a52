/*
 * notifier-smtp: sends the OTP as an e-mail over SMTP (RFC 5321), optionally upgraded with
 * STARTTLS (RFC 3207) and authenticated with AUTH PLAIN (RFC 4954, RFC 4616).
 *
 * One message is one SMTP session: connect, EHLO, [STARTTLS, EHLO], [AUTH PLAIN], MAIL, RCPT,
 * DATA, QUIT. The session blocks, so the capability is flagged ESP_CAP_BLOCKING and send() runs on
 * the host's plugin worker pool; several workers may run sessions at once, which share only the
 * read-only instance and its SSL_CTX (safe for concurrent SSL_new). The socket is non-blocking and
 * every wait is a poll() bounded by `timeout`, for the connection, each command and each reply.
 *
 * Outcomes: a 4xx reply, a timeout or a lost connection is ESP_EUNAVAIL (try again later); a 5xx
 * reply or a protocol violation is ESP_ESEND_OTP. A destination that could inject headers or SMTP
 * commands is refused before connecting. The OTP and the password never appear in a log line.
 */
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <esignet/plugin.h>

#include "otp_mask.h"
#include "smtp_reply.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/str.h"

#define MAX_ADDRESS 254 /* RFC 5321 §4.5.3.1.3 path limit, less the angle brackets */
#define MAX_CLIENT  200 /* relying party name shown in the body */

typedef struct smtp {
    const esp_host *host;
    esp_instance *self;
    char *server; /* host name or address */
    char port[8];
    char *helo;
    char *from_header; /* the `from` option as written */
    char *from_addr;   /* its address, for MAIL FROM */
    char *subject;     /* header-ready: ASCII or RFC 2047 encoded words */
    char *username;
    char *password; /* secret */
    int starttls;
    int64_t timeout_ms;
    SSL_CTX *tls; /* when starttls */
} smtp;

static const char *const channel_list[] = {"email", NULL};

static const char *const *channels(void *inst)
{
    (void)inst;
    return channel_list;
}

/* ---------------------------------------------------------------------------------------------
 * Addresses and the message.
 */

/*
 * An addr-spec we are willing to put in a header and an SMTP command: ASCII, one '@' between a
 * non-empty local part and domain, and none of the characters that end an address, start a new
 * header line or command (CR, LF), or change its meaning in a header.
 */
static int valid_address(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (n == 0 || n > MAX_ADDRESS || at == NULL || at == s || at == s + n - 1 ||
        memchr(at + 1, '@', n - (size_t)(at + 1 - s)) != NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || strchr("<>()[],;:\\\"", c) != NULL)
            return 0;
    }
    return 1;
}

/* Whether `s` is printable ASCII (for header text written as is). */
static int printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < ' ' || (unsigned char)s[i] >= 0x7f)
            return 0;
    }
    return 1;
}

/* Length of the UTF-8 sequence starting with byte `c` (1 for anything else). */
static size_t utf8_len(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/*
 * A header value: as is when printable ASCII, otherwise RFC 2047 "B" encoded words of at most 45
 * bytes of whole UTF-8 characters each (60 base64 characters, within the 75 an encoded word may
 * have), folded onto continuation lines.
 */
static int header_text(esg_buf *out, const char *s, size_t n)
{
    if (printable_ascii(s, n))
        return esg_buf_append(out, s, n);
    size_t at = 0;
    int rc = 0;
    while (rc == 0 && at < n) {
        size_t end = at;
        while (end < n && end - at + utf8_len((unsigned char)s[end]) <= 45)
            end += utf8_len((unsigned char)s[end]);
        if (end > n)
            end = n;
        if (at > 0)
            rc = esg_buf_puts(out, "\r\n ");
        if (rc == 0)
            rc = esg_buf_puts(out, "=?UTF-8?B?");
        if (rc == 0)
            rc = esg_b64_encode(out, s + at, end - at);
        if (rc == 0)
            rc = esg_buf_puts(out, "?=");
        at = end;
    }
    return rc;
}

/* The address inside "Name <addr>", or the whole text when it has no angle brackets. */
static int from_address(const char *from, char **out)
{
    const char *lt = strrchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    const char *a = lt ? lt + 1 : from;
    size_t n = lt ? (gt ? (size_t)(gt - a) : 0) : strlen(from);
    if ((lt != NULL && (gt == NULL || gt[1] != '\0')) || !valid_address(a, n))
        return ESP_ECONFIG;
    *out = esg_strndup(a, n);
    return *out != NULL ? 0 : ESP_ENOMEM;
}

/* RFC 5322 §3.3 date in UTC, with English names whatever the process locale. */
static void rfc5322_date(int64_t wall_ms, char out[40])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Copies the relying party's name for the body with control characters made spaces. */
static void clean_client(esp_str name, char out[MAX_CLIENT + 1])
{
    size_t n = name.len < MAX_CLIENT ? name.len : MAX_CLIENT;
    /* Never cut a UTF-8 character in half. */
    while (n > 0 && n < name.len && ((unsigned char)name.ptr[n] & 0xc0) == 0x80)
        n--;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        out[i] = (c < ' ' || c == 0x7f) ? ' ' : (char)c;
    }
    out[n] = '\0';
}

/*
 * The whole message, CRLF line endings, not yet dot-stuffed. `eight_bit`: the server takes
 * 8BITMIME, so a non-ASCII body can go as is; otherwise such a body is base64.
 */
static int build_message(const smtp *s, const esp_notify_request *req, int eight_bit,
                         int *body_8bit, esg_buf *msg)
{
    char date[40], client[MAX_CLIENT + 1], id[32];
    unsigned char rnd[16];
    esg_buf body = ESG_BUF_INIT; /* holds the OTP */
    int rc = s->host->random(rnd, sizeof(rnd));
    if (rc != 0)
        goto out;
    esg_b64url_encode_to(rnd, sizeof(rnd), id);
    id[esg_b64url_encoded_len(sizeof(rnd))] = '\0';
    rfc5322_date(s->host->wall_ms(), date);
    clean_client(req->client_name, client);
    int64_t minutes = req->expires_in > 0 ? (req->expires_in + 59) / 60 : 0;
    rc = esg_buf_printf(&body, "%.*s is your sign-in code.\r\n", (int)req->otp.len, req->otp.ptr);
    if (rc == 0 && minutes > 0)
        rc = esg_buf_printf(&body, "It expires in %lld minute%s.\r\n", (long long)minutes,
                            minutes == 1 ? "" : "s");
    if (rc == 0 && client[0] != '\0')
        rc = esg_buf_printf(&body, "\r\nService asking you to sign in:\r\n%s\r\n", client);
    if (rc == 0)
        rc = esg_buf_puts(&body, "\r\nNever share this code. If you did not try to sign in, "
                                 "ignore this message.\r\n");
    if (rc != 0)
        goto out;
    int ascii = 1;
    for (size_t i = 0; i < body.len; i++)
        ascii &= (unsigned char)body.data[i] < 0x80;
    *body_8bit = !ascii && eight_bit;
    const char *domain = strchr(s->from_addr, '@') + 1;
    rc =
        esg_buf_printf(msg, "Date: %s\r\nFrom: %s\r\nTo: %.*s\r\nSubject: %s\r\n", date,
                       s->from_header, (int)req->destination.len, req->destination.ptr, s->subject);
    if (rc == 0)
        rc = esg_buf_printf(msg,
                            "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n"
                            "Content-Type: text/plain; charset=UTF-8\r\n"
                            "Content-Transfer-Encoding: %s\r\n\r\n",
                            id, domain,
                            ascii        ? "7bit"
                            : *body_8bit ? "8bit"
                                         : "base64");
    if (rc != 0)
        goto out;
    if (ascii || *body_8bit) {
        rc = esg_buf_append(msg, body.data, body.len);
        goto out;
    }
    /* base64 in lines of 76 characters (RFC 2045 §6.8). */
    esg_buf b64 = ESG_BUF_INIT;
    rc = esg_b64_encode(&b64, body.data, body.len);
    for (size_t at = 0; rc == 0 && at < b64.len; at += 76) {
        size_t n = b64.len - at < 76 ? b64.len - at : 76;
        rc = esg_buf_append(msg, b64.data + at, n);
        if (rc == 0)
            rc = esg_buf_puts(msg, "\r\n");
    }
    esg_buf_free_secret(&b64);
out:
    OPENSSL_cleanse(rnd, sizeof(rnd));
    esg_buf_free_secret(&body);
    return rc;
}

/*
 * DATA content (RFC 5321 §4.5.2): a line starting with '.' gets another '.', so that no line of
 * the message can end the transfer; the content ends with CRLF "." CRLF.
 */
static int dot_stuff(const esg_buf *msg, esg_buf *out)
{
    int rc = 0;
    int line_start = 1;
    for (size_t i = 0; rc == 0 && i < msg->len; i++) {
        if (line_start && msg->data[i] == '.')
            rc = esg_buf_putc(out, '.');
        if (rc == 0)
            rc = esg_buf_putc(out, msg->data[i]);
        line_start = msg->data[i] == '\n';
    }
    if (rc == 0 && !line_start)
        rc = esg_buf_puts(out, "\r\n");
    return rc == 0 ? esg_buf_puts(out, ".\r\n") : rc;
}

/* ---------------------------------------------------------------------------------------------
 * The connection: a non-blocking socket, optionally wrapped in TLS, every wait bounded.
 */

typedef struct session {
    const smtp *s;
    esp_call *call; /* checked between commands: the host may have stopped waiting */
    int fd;
    SSL *ssl;
    char in[SMTP_MAX_LINE + 2];
    size_t in_len;
    const char *stage; /* what was being done, for the log */
    int refused;       /* the session ended on an unexpected reply */
} session;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` until `deadline`; ESP_ETIMEDOUT when it passes. */
static int wait_io(session *ss, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return ESP_ETIMEDOUT;
        struct pollfd p = {ss->fd, events, 0};
        int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return ESP_EIO;
    }
}

/* After an SSL call returned `r` <= 0: waits for what TLS needs, or ESP_EIO for a failure. */
static int ssl_wait(session *ss, int r, int64_t deadline)
{
    int e = SSL_get_error(ss->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return wait_io(ss, POLLIN, deadline);
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_io(ss, POLLOUT, deadline);
    return ESP_EIO;
}

/*
 * After send() or recv() returned `r` <= 0: waits for `events` when the socket would block,
 * retries after a signal, and is ESP_EIO otherwise (an error, or the server closed).
 */
static int socket_wait(session *ss, ssize_t r, short events, int64_t deadline)
{
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return wait_io(ss, events, deadline);
    return r < 0 && errno == EINTR ? 0 : ESP_EIO;
}

static int connect_to(session *ss, const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return ESP_EIO;
    ss->fd = fd;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    int rc = errno == EINPROGRESS ? wait_io(ss, POLLOUT, deadline) : ESP_EIO;
    int err = 0;
    socklen_t len = sizeof(err);
    if (rc == 0 && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0))
        rc = ESP_EIO;
    if (rc != 0) {
        close(fd);
        ss->fd = -1;
    }
    return rc;
}

static int open_connection(session *ss)
{
    const smtp *s = ss->s;
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    ss->stage = "resolving the server";
    if (getaddrinfo(s->server, s->port, &hints, &list) != 0)
        return ESP_EUNAVAIL;
    ss->stage = "connecting";
    int rc = ESP_EUNAVAIL;
    int64_t deadline = mono_ms() + s->timeout_ms;
    for (const struct addrinfo *ai = list; ai != NULL && rc != 0; ai = ai->ai_next) {
        rc = connect_to(ss, ai, deadline);
        if (rc == ESP_ETIMEDOUT)
            break;
    }
    freeaddrinfo(list);
    return rc == 0 ? 0 : ESP_EUNAVAIL;
}

/* Sends all of `data` within one timeout. */
static int write_all(session *ss, const char *data, size_t n)
{
    int64_t deadline = mono_ms() + ss->s->timeout_ms;
    size_t done = 0;
    while (done < n) {
        int rc;
        if (ss->ssl != NULL) {
            int w = SSL_write(ss->ssl, data + done, (int)(n - done > 65536 ? 65536 : n - done));
            if (w > 0) {
                done += (size_t)w;
                continue;
            }
            rc = ssl_wait(ss, w, deadline);
        } else {
            ssize_t w = send(ss->fd, data + done, n - done, MSG_NOSIGNAL);
            if (w > 0) {
                done += (size_t)w;
                continue;
            }
            rc = socket_wait(ss, w, POLLOUT, deadline);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Reads more bytes into the input buffer before `deadline`. */
static int read_more(session *ss, int64_t deadline)
{
    for (;;) {
        char *p = ss->in + ss->in_len;
        size_t room = sizeof(ss->in) - ss->in_len;
        ssize_t r = ss->ssl != NULL ? SSL_read(ss->ssl, p, (int)room) : recv(ss->fd, p, room, 0);
        if (r > 0) {
            ss->in_len += (size_t)r;
            return 0;
        }
        int rc =
            ss->ssl != NULL ? ssl_wait(ss, (int)r, deadline) : socket_wait(ss, r, POLLIN, deadline);
        if (rc != 0)
            return rc;
    }
}

/*
 * Reads one whole reply within one timeout. Returns 0, ESP_ETIMEDOUT or ESP_EIO (connection) or
 * ESP_EINVAL (not an SMTP reply).
 */
static int read_reply(session *ss, smtp_reply *r)
{
    int64_t deadline = mono_ms() + ss->s->timeout_ms;
    smtp_reply_reset(r);
    while (!r->complete) {
        char *nl = memchr(ss->in, '\n', ss->in_len);
        if (nl == NULL) {
            if (ss->in_len >= sizeof(ss->in))
                return ESP_EINVAL;
            int rc = read_more(ss, deadline);
            if (rc != 0)
                return rc;
            continue;
        }
        size_t len = (size_t)(nl - ss->in);
        size_t used = len + 1;
        if (len > 0 && ss->in[len - 1] == '\r')
            len--;
        int rc = smtp_reply_line(r, ss->in, len);
        memmove(ss->in, ss->in + used, ss->in_len - used);
        ss->in_len -= used;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Maps an unexpected reply: 4xx is transient, 5xx (and anything else) permanent. */
static int reply_status(const smtp_reply *r, int expect_class)
{
    if (r->code / 100 == expect_class)
        return 0;
    return r->code / 100 == 4 ? ESP_EUNAVAIL : ESP_ESEND_OTP;
}

/* Maps a transport failure: the connection or the wait failed, or the peer spoke no SMTP. */
static int io_status(int rc)
{
    return rc == ESP_EINVAL ? ESP_ESEND_OTP : ESP_EUNAVAIL;
}

/*
 * Sends `line` (which must end with CRLF; NULL to only read, for the greeting) and reads the
 * reply, expecting class `expect_class`. Failures are mapped to ESP_EUNAVAIL or ESP_ESEND_OTP.
 */
static int exchange(session *ss, const char *stage, const char *line, size_t len, int expect_class,
                    smtp_reply *r)
{
    ss->stage = stage;
    /* Past the call's deadline nobody waits for the result; stop rather than send late. */
    if (ss->s->host->call_cancelled(ss->call)) {
        ss->stage = "the next command (the call's deadline had passed)";
        return ESP_EUNAVAIL;
    }
    int rc = line != NULL ? write_all(ss, line, len) : 0;
    if (rc == 0)
        rc = read_reply(ss, r);
    if (rc != 0)
        return io_status(rc);
    rc = reply_status(r, expect_class);
    ss->refused = rc != 0;
    return rc;
}

static int command(session *ss, const char *stage, int expect_class, smtp_reply *r, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static int command(session *ss, const char *stage, int expect_class, smtp_reply *r, const char *fmt,
                   ...)
{
    esg_buf line = ESG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = esg_buf_vprintf(&line, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = esg_buf_puts(&line, "\r\n");
    rc = rc == 0 ? exchange(ss, stage, line.data, line.len, expect_class, r) : ESP_ESEND_OTP;
    esg_buf_free_secret(&line);
    return rc;
}

/* Upgrades the connection to TLS, verifying the server's certificate against `server`. */
static int start_tls(session *ss)
{
    const smtp *s = ss->s;
    ss->stage = "TLS handshake";
    ss->ssl = SSL_new(s->tls);
    if (ss->ssl == NULL || SSL_set_fd(ss->ssl, ss->fd) != 1)
        return ESP_EUNAVAIL;
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, s->server, ip) == 1 || inet_pton(AF_INET6, s->server, ip) == 1;
    X509_VERIFY_PARAM *param = SSL_get0_param(ss->ssl);
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, s->server) == 1
                   : SSL_set1_host(ss->ssl, s->server) == 1 &&
                         SSL_set_tlsext_host_name(ss->ssl, s->server) == 1;
    if (!ok)
        return ESP_EUNAVAIL;
    int64_t deadline = mono_ms() + s->timeout_ms;
    for (;;) {
        int r = SSL_connect(ss->ssl);
        if (r == 1)
            return 0;
        int rc = ssl_wait(ss, r, deadline);
        if (rc != 0) {
            long verify = SSL_get_verify_result(ss->ssl);
            if (verify != X509_V_OK)
                s->host->log(s->self, ESP_LOG_WARN, "%s:%s: certificate not trusted: %s", s->server,
                             s->port, X509_verify_cert_error_string(verify));
            ERR_clear_error();
            return ESP_EUNAVAIL;
        }
    }
}

/* AUTH PLAIN with base64("\0user\0password") (RFC 4616); the buffers are wiped. */
static int auth_plain(session *ss, smtp_reply *r)
{
    const smtp *s = ss->s;
    esg_buf cred = ESG_BUF_INIT, line = ESG_BUF_INIT;
    int rc = esg_buf_putc(&cred, '\0');
    if (rc == 0)
        rc = esg_buf_puts(&cred, s->username);
    if (rc == 0)
        rc = esg_buf_putc(&cred, '\0');
    if (rc == 0)
        rc = esg_buf_puts(&cred, s->password);
    if (rc == 0)
        rc = esg_buf_puts(&line, "AUTH PLAIN ");
    if (rc == 0)
        rc = esg_b64_encode(&line, cred.data, cred.len);
    if (rc == 0)
        rc = esg_buf_puts(&line, "\r\n");
    rc = rc == 0 ? exchange(ss, "AUTH PLAIN", line.data, line.len, 2, r) : ESP_ESEND_OTP;
    esg_buf_free_secret(&cred);
    esg_buf_free_secret(&line);
    return rc;
}

/* EHLO, falling back to HELO for a server that does not know it (RFC 5321 §4.1.4). */
static int hello(session *ss, smtp_reply *r)
{
    int rc = command(ss, "EHLO", 2, r, "EHLO %s", ss->s->helo);
    if (rc == ESP_ESEND_OTP && (r->code == 500 || r->code == 502))
        rc = command(ss, "HELO", 2, r, "HELO %s", ss->s->helo);
    return rc;
}

/* The SMTP session for one message. Returns 0, ESP_EUNAVAIL or ESP_ESEND_OTP; `r` holds the
 * last reply for the log. */
static int deliver(session *ss, const esp_notify_request *req, smtp_reply *r)
{
    const smtp *s = ss->s;
    esg_buf msg = ESG_BUF_INIT, data = ESG_BUF_INIT; /* both hold the OTP */
    int rc, body_8bit = 0;
    if ((rc = open_connection(ss)) != 0 || (rc = exchange(ss, "greeting", NULL, 0, 2, r)) != 0 ||
        (rc = hello(ss, r)) != 0)
        goto out;
    if (s->starttls) {
        if (!(r->ext & SMTP_EXT_STARTTLS)) {
            ss->stage = "STARTTLS (not offered by the server)";
            rc = ESP_ESEND_OTP;
            goto out;
        }
        if ((rc = command(ss, "STARTTLS", 2, r, "STARTTLS")) != 0)
            goto out;
        /* Anything the server sent before the handshake is not to be trusted (RFC 3207 §6). */
        ss->in_len = 0;
        if ((rc = start_tls(ss)) != 0 || (rc = hello(ss, r)) != 0)
            goto out;
    }
    if (s->username != NULL) {
        if (!(r->ext & SMTP_EXT_AUTH_PLAIN)) {
            ss->stage = "AUTH (PLAIN not offered by the server)";
            rc = ESP_ESEND_OTP;
            goto out;
        }
        if ((rc = auth_plain(ss, r)) != 0)
            goto out;
    }
    int eight_bit = (r->ext & SMTP_EXT_8BITMIME) != 0;
    if ((rc = build_message(s, req, eight_bit, &body_8bit, &msg)) != 0 ||
        (rc = dot_stuff(&msg, &data)) != 0) {
        ss->stage = "building the message";
        rc = ESP_ESEND_OTP;
        goto out;
    }
    if ((rc = command(ss, "MAIL FROM", 2, r, "MAIL FROM:<%s>%s", s->from_addr,
                      body_8bit ? " BODY=8BITMIME" : "")) != 0 ||
        (rc = command(ss, "RCPT TO", 2, r, "RCPT TO:<%.*s>", (int)req->destination.len,
                      req->destination.ptr)) != 0 ||
        (rc = command(ss, "DATA", 3, r, "DATA")) != 0 ||
        (rc = exchange(ss, "message", data.data, data.len, 2, r)) != 0)
        goto out;
    /* The message is accepted; a failing QUIT changes nothing. */
    smtp_reply bye;
    command(ss, "QUIT", 2, &bye, "QUIT");
out:
    esg_buf_free_secret(&msg);
    esg_buf_free_secret(&data);
    return rc;
}

/* [worker] */
static esp_status op_send(void *inst, const esp_notify_request *req, esp_call *call)
{
    smtp *s = inst;
    const esp_host *host = s->host;
    char masked[320];
    if (!esg_str_eq(req->channel.ptr, req->channel.len, "email")) {
        host->call_fail(call, ESP_ESEND_OTP, NULL, "channel is not email");
        return 0;
    }
    if (!valid_address(req->destination.ptr, req->destination.len)) {
        host->call_fail(call, ESP_ESEND_OTP, NULL,
                        "refused a destination that is not a plain ASCII e-mail address");
        return 0;
    }
    otp_mask_email(req->destination.ptr, req->destination.len, masked, sizeof(masked));
    session ss;
    memset(&ss, 0, sizeof(ss));
    ss.s = s;
    ss.call = call;
    ss.fd = -1;
    smtp_reply r;
    smtp_reply_reset(&r);
    int rc = deliver(&ss, req, &r);
    if (ss.ssl != NULL) {
        SSL_shutdown(ss.ssl);
        SSL_free(ss.ssl);
    }
    if (ss.fd >= 0)
        close(ss.fd);
    OPENSSL_cleanse(ss.in, sizeof(ss.in));
    ERR_clear_error();
    if (rc == 0) {
        host->log(s->self, ESP_LOG_INFO, "OTP e-mail to %s accepted by %s:%s", masked, s->server,
                  s->port);
        host->call_done(call, NULL);
    } else if (ss.refused) {
        host->call_fail(call, rc, NULL, "OTP e-mail to %s via %s:%s: %s answered %d %s", masked,
                        s->server, s->port, ss.stage, r.code, r.text);
    } else {
        host->call_fail(call, rc, NULL, "OTP e-mail to %s via %s:%s failed at %s", masked,
                        s->server, s->port, ss.stage);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle.
 */

static void destroy(void *inst)
{
    smtp *s = inst;
    if (s == NULL)
        return;
    free(s->server);
    free(s->helo);
    free(s->from_header);
    free(s->from_addr);
    free(s->subject);
    free(s->username);
    if (s->password != NULL) {
        OPENSSL_cleanse(s->password, strlen(s->password));
        free(s->password);
    }
    SSL_CTX_free(s->tls);
    free(s);
}

static char *option_copy(const esp_host *host, const esp_value *config, const char *key,
                         const char *dflt)
{
    esp_str v = host->value_str(host->value_get(config, key));
    if (v.len == 0)
        return dflt != NULL ? esg_strndup(dflt, strlen(dflt)) : NULL;
    return esg_strndup(v.ptr, v.len);
}

static int make_tls(smtp *s, const esp_value *config)
{
    const esp_host *host = s->host;
    esp_str ca = host->value_str(host->value_get(config, "ca_file"));
    s->tls = SSL_CTX_new(TLS_client_method());
    if (s->tls == NULL || SSL_CTX_set_min_proto_version(s->tls, TLS1_2_VERSION) != 1)
        return ESP_EINTERNAL;
    SSL_CTX_set_verify(s->tls, SSL_VERIFY_PEER, NULL);
    int ok = ca.len > 0 ? SSL_CTX_load_verify_locations(s->tls, ca.ptr, NULL) == 1
                        : SSL_CTX_set_default_verify_paths(s->tls) == 1;
    ERR_clear_error();
    if (!ok) {
        host->log(s->self, ESP_LOG_ERROR, "cannot load the trusted certificates%s%s",
                  ca.len > 0 ? " from " : "", ca.len > 0 ? ca.ptr : "");
        return ESP_ECONFIG;
    }
    return 0;
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    smtp *s = calloc(1, sizeof(*s));
    esg_buf subject = ESG_BUF_INIT;
    int rc = ESP_ENOMEM;
    if (s == NULL)
        return rc;
    s->host = host;
    s->self = self;
    int64_t port = host->value_int(host->value_get(config, "port"), 25);
    s->timeout_ms = host->value_int(host->value_get(config, "timeout"), 10000);
    s->starttls = host->value_bool(host->value_get(config, "starttls"), 0);
    int allow_plain = host->value_bool(host->value_get(config, "allow_plain_auth_without_tls"), 0);
    snprintf(s->port, sizeof(s->port), "%d", (int)(port > 0 && port < 65536 ? port : 25));
    s->server = option_copy(host, config, "host", NULL);
    s->helo = option_copy(host, config, "helo", "localhost");
    s->from_header = option_copy(host, config, "from", NULL);
    s->username = option_copy(host, config, "username", NULL);
    s->password = option_copy(host, config, "password", "");
    char *subject_text = option_copy(host, config, "subject", "Your sign-in code");
    if (s->helo == NULL || s->password == NULL || subject_text == NULL)
        goto fail;
    rc = ESP_ECONFIG;
    if (s->server == NULL || s->from_header == NULL) {
        host->log(self, ESP_LOG_ERROR, "options host and from are required");
        goto fail;
    }
    if (!printable_ascii(s->from_header, strlen(s->from_header)) ||
        (rc = from_address(s->from_header, &s->from_addr)) != 0) {
        host->log(self, ESP_LOG_ERROR, "from must be an ASCII address, alone or as Name <address>");
        rc = rc == ESP_ENOMEM ? rc : ESP_ECONFIG;
        goto fail;
    }
    rc = ESP_ECONFIG;
    if (!printable_ascii(s->helo, strlen(s->helo)) || strchr(s->helo, ' ') != NULL) {
        host->log(self, ESP_LOG_ERROR, "helo must be a domain name or address literal");
        goto fail;
    }
    /* Header text must not break the header: no line breaks or other control characters. */
    for (const char *c = subject_text; *c != '\0'; c++) {
        if ((unsigned char)*c < ' ' || *c == 0x7f) {
            host->log(self, ESP_LOG_ERROR, "subject must be one line of text");
            goto fail;
        }
    }
    if (header_text(&subject, subject_text, strlen(subject_text)) != 0 ||
        (s->subject = esg_buf_steal(&subject, NULL)) == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    /* A password in clear text over the network is refused unless the deployer insists. */
    if (s->username != NULL && !s->starttls && !allow_plain) {
        host->log(self, ESP_LOG_ERROR,
                  "username is set without starttls; set allow_plain_auth_without_tls to send "
                  "the password unencrypted");
        goto fail;
    }
    if (s->starttls && (rc = make_tls(s, config)) != 0)
        goto fail;
    free(subject_text);
    *out = s;
    return 0;
fail:
    free(subject_text);
    esg_buf_free(&subject);
    destroy(s);
    return rc;
}

static const esp_option options[] = {
    {sizeof(esp_option), "host", ESP_OPT_STRING, ESP_OPT_REQUIRED, NULL,
     "SMTP server (host name or address); with starttls its certificate must name it.", 1, 255,
     NULL, 0, NULL},
    {sizeof(esp_option), "port", ESP_OPT_INT, 0, "25",
     "SMTP server port (25, or 587 for submission).", 1, 65535, NULL, 0, NULL},
    {sizeof(esp_option), "from", ESP_OPT_STRING, ESP_OPT_REQUIRED, NULL,
     "Sender, as address or Name <address> (ASCII).", 3, 320, NULL, 0, NULL},
    {sizeof(esp_option), "subject", ESP_OPT_STRING, 0, "Your sign-in code",
     "Subject of the OTP e-mail (UTF-8).", 1, 200, NULL, 0, NULL},
    {sizeof(esp_option), "helo", ESP_OPT_STRING, 0, "localhost", "Name this server gives in EHLO.",
     1, 255, NULL, 0, NULL},
    {sizeof(esp_option), "starttls", ESP_OPT_BOOL, 0, "false",
     "Upgrade the connection with STARTTLS and verify the server's certificate; the message is not "
     "sent when the server does not offer it.",
     0, 0, NULL, 0, NULL},
    {sizeof(esp_option), "ca_file", ESP_OPT_PATH, 0, NULL,
     "PEM file of the certificates trusted for starttls; default: the system store.", 1, 4096, NULL,
     0, NULL},
    {sizeof(esp_option), "username", ESP_OPT_STRING, 0, NULL,
     "User for AUTH PLAIN; needs starttls unless allow_plain_auth_without_tls.", 1, 255, NULL, 0,
     NULL},
    {sizeof(esp_option), "password", ESP_OPT_STRING, ESP_OPT_SECRET, NULL,
     "Password for AUTH PLAIN.", 0, 1024, NULL, 0, NULL},
    {sizeof(esp_option), "allow_plain_auth_without_tls", ESP_OPT_BOOL, 0, "false",
     "Allow AUTH PLAIN over an unencrypted connection (a local relay only).", 0, 0, NULL, 0, NULL},
    {sizeof(esp_option), "timeout", ESP_OPT_DURATION, 0, "10s",
     "Bound on connecting, on sending each command and on each reply.", 100, 300000, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_otp_notifier_v1 vtable = {
    .size = sizeof(esp_otp_notifier_v1),
    .create = create,
    .destroy = destroy,
    .channels = channels,
    .send = op_send,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_OTP_NOTIFIER,
    .kind_version = 1,
    .flags = ESP_CAP_BLOCKING,
    .type = "smtp",
    .description = "Sends OTPs by e-mail over SMTP, optionally with STARTTLS and AUTH PLAIN.",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "notifier-smtp",
    .version = "1.0.0",
    .description = "OTP notifier sending e-mail over SMTP.",
    .capabilities = caps,
};

ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void);
ESP_EXPORT const esp_plugin_desc *esp_plugin_describe(void)
{
    return &desc;
}
