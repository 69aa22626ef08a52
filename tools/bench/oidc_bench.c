/*
 * esg-oidc-bench: load driver for the OpenID Connect authorization code flow of esignetd (run by
 * tools/bench/oidc_bench.sh, which starts the server and registers the client).
 *
 *   esg-oidc-bench flows  COMMON --users N --seconds T [--warmup S] [--ui page|esignet]
 *                         [--assertions K]
 *   esg-oidc-bench mint   COMMON --codes M --out FILE [--users N]
 *   esg-oidc-bench tokens COMMON --codes-file FILE [--conns C]
 *   COMMON: --port P --issuer URL --client-id ID --key JWK --redirect-uri URI [--server-pid PID]
 *
 * flows: N virtual users each run complete logins back to back: a browser (a new connection per
 * login, cookies kept) loads /authorize (page) or calls v3 oauth-details (esignet, the way
 * eSignet's own UI starts), fetches the CSRF token, sends the OTP, authenticates with it and
 * gets the code; then the relying party (one keep-alive connection per user) redeems it at the
 * token endpoint and calls userinfo. Logins that finish in the T seconds after the warm-up count.
 *
 * mint: M codes through complete logins (not timed), written as "code verifier" lines.
 * tokens: signs one client assertion per minted code, builds every token request, then sends them
 * over C keep-alive connections as fast as the server answers (one request in flight per
 * connection, like wrk) and times that. Minting is a separate run so that a profiler attached to
 * the server between the two sees the burst only.
 *
 * The driver is one thread with epoll and does no cryptography while it measures: assertions are
 * signed beforehand on two threads (the server idles then), and the only digest per login is
 * PKCE's. Its own CPU time over the window (getrusage) is printed next to the server's
 * (/proc/PID/stat) and everything else's (/proc/stat), so the share of the cores each took is
 * visible, and a run disturbed by other work on the machine shows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"

#define ACR_OTP     "mosip:idp:acr:generated-code"
#define DEMO_ID     "8267411571"
#define DEMO_OTP    "111111"
#define API         "/v1/esignet"
#define MAX_COOKIES 8

/* ---------------------------------------------------------------------------------------------
 * Options and small helpers.
 */

static struct {
    int port;
    const char *issuer;
    const char *client_id;
    const char *key_path;
    const char *redirect_uri;
    long server_pid;
    int users;
    double seconds;
    double warmup;
    int esignet_ui;
    long codes;
    int conns;
    const char *out;
    const char *codes_file;
} opt = {.users = 32, .seconds = 20, .warmup = 3, .codes = 20000, .conns = 32};

static char token_endpoint[512];
static char host_header[64];
static esg_jwk *client_key;
static const char *client_alg;

static void die(const char *what)
{
    fprintf(stderr, "esg-oidc-bench: %s\n", what);
    exit(1);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void random_token(char *out, size_t size, size_t bytes)
{
    if (esg_random_token(out, size, bytes) != 0)
        die("no randomness");
}

/* base64url(SHA-256(data)) and a NUL into out[44]: PKCE's S256 and eSignet's oauth-details hash. */
static void sha256_b64url(const void *data, size_t n, char out[44])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
}

/* Latency samples of one kind, in microseconds; sorted when reported. */
typedef struct hist {
    const char *name;
    uint32_t *v;
    size_t n, cap;
    long errors;
} hist;

static void hist_add(hist *h, int64_t us)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4096;
        h->v = realloc(h->v, h->cap * sizeof(*h->v));
        if (h->v == NULL)
            die("out of memory");
    }
    h->v[h->n++] = (uint32_t)(us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : us);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const hist *h, double p)
{
    if (h->n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(h->n - 1) + 0.5);
    return h->v[i] / 1000.0;
}

static void hist_row(hist *h, double seconds)
{
    qsort(h->v, h->n, sizeof(*h->v), cmp_u32);
    printf("| %-22s | %8zu | %9.1f | %7.2f | %7.2f | %7.2f | %7.2f | %ld |\n", h->name, h->n,
           (double)h->n / seconds, pct_ms(h, 0.50), pct_ms(h, 0.90), pct_ms(h, 0.99),
           h->n ? h->v[h->n - 1] / 1000.0 : 0.0, h->errors);
}

static void table_head(void)
{
    printf("| %-22s | %8s | %9s | %7s | %7s | %7s | %7s | %s |\n", "step", "count", "per s",
           "p50 ms", "p90 ms", "p99 ms", "max ms", "errors");
    printf("|------------------------|----------|-----------|---------|---------|---------|-------"
           "--|--------|\n");
}

/* ---------------------------------------------------------------------------------------------
 * CPU and memory of the server and of this driver over a measurement window.
 */

typedef struct usage {
    double server_s; /* user + sys seconds of the server process (all threads) */
    double self_s;   /* user + sys seconds of this driver */
    double busy_s;   /* non-idle seconds of every CPU (/proc/stat) */
    int64_t at_us;
} usage;

static double server_cpu_s(void)
{
    if (opt.server_pid <= 0)
        return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", opt.server_pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may hold spaces): state is field 3, utime 14. */
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f == NULL)
        return 0;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return 0;
    /* user nice system idle iowait irq softirq steal: all but idle and iowait. */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static usage usage_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    usage u = {server_cpu_s(),
               (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                   ru.ru_stime.tv_usec / 1e6,
               machine_busy_s(), now_us()};
    return u;
}

static long server_mem_kb(const char *field)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%ld/status", opt.server_pid);
    FILE *f = opt.server_pid > 0 ? fopen(path, "r") : NULL;
    if (f == NULL)
        return -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, field, len) == 0 && line[len] == ':')
            kb = strtol(line + len + 1, NULL, 10);
    }
    fclose(f);
    return kb;
}

static void usage_report(const char *phase, usage a, usage b)
{
    double wall = (double)(b.at_us - a.at_us) / 1e6;
    double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    double server = b.server_s - a.server_s, self = b.self_s - a.self_s;
    double others = b.busy_s - a.busy_s - server - self;
    if (others < 0)
        others = 0; /* the counters tick at different moments */
    double sp = 100.0 * server / wall / cores, dp = 100.0 * self / wall / cores,
           op = 100.0 * others / wall / cores;
    long rss = server_mem_kb("VmRSS") / 1024, hwm = server_mem_kb("VmHWM") / 1024;
    printf("cpu %s (%% of %.0f cores over %.2f s): server %.0f%%, driver %.0f%%, other "
           "processes %.0f%%; server VmRSS %ld MiB, VmHWM %ld MiB\n",
           phase, cores, wall, sp, dp, op, rss, hwm);
    printf("result %s_server_cpu_pct=%.1f %s_driver_cpu_pct=%.1f %s_other_cpu_pct=%.1f "
           "%s_rss_mib=%ld %s_hwm_mib=%ld\n",
           phase, sp, phase, dp, phase, op, phase, rss, phase, hwm);
    if (op > 10)
        fprintf(stderr,
                "esg-oidc-bench: WARNING: other processes used %.0f%% of the cores during "
                "%s; the figures are disturbed\n",
                op, phase);
}

/* ---------------------------------------------------------------------------------------------
 * Client assertions, signed before any measurement.
 */

typedef struct pool {
    char **items;
    size_t n, next;
} pool;

static pool assertions;

static char *sign_assertion(void)
{
    char jti[48];
    random_token(jti, sizeof(jti), 24);
    int64_t now = esg_wall_s();
    /* exp at the default bound (5 minutes): the whole run uses them within that. */
    json_t *claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s}", "iss", opt.client_id, "sub",
                               opt.client_id, "aud", token_endpoint, "iat", (json_int_t)now, "exp",
                               (json_int_t)(now + 290), "jti", jti);
    json_t *header = json_pack("{s:s,s:s}", "alg", client_alg, "typ", "JWT");
    const char *kid = esg_jwk_kid(client_key);
    if (kid != NULL)
        json_object_set_new(header, "kid", json_string(kid));
    char *payload = json_dumps(claims, JSON_COMPACT);
    esg_buf out = ESG_BUF_INIT;
    if (payload == NULL ||
        esg_jws_sign(esg_jwk_pkey(client_key), header, payload, strlen(payload), &out) != 0)
        die("cannot sign a client assertion");
    free(payload);
    json_decref(claims);
    json_decref(header);
    return esg_buf_steal(&out, NULL);
}

typedef struct sign_job {
    pool *p;
    size_t from, to;
} sign_job;

static void *sign_range(void *arg)
{
    sign_job *j = arg;
    for (size_t i = j->from; i < j->to; i++)
        j->p->items[i] = sign_assertion();
    return NULL;
}

/* Fills the pool with `n` assertions on two threads. */
static void presign(pool *p, size_t n)
{
    int64_t t0 = now_us();
    p->items = calloc(n, sizeof(char *));
    if (p->items == NULL)
        die("out of memory");
    p->n = n;
    p->next = 0;
    pthread_t th[2];
    sign_job jobs[2] = {{p, 0, n / 2}, {p, n / 2, n}};
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, sign_range, &jobs[i]) != 0)
            die("pthread_create");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "esg-oidc-bench: %zu client assertions signed in %.1f s (before measuring)\n",
            n, (double)(now_us() - t0) / 1e6);
}

static long inline_signed;

/* The next assertion; signed here (and counted) only if the pool ran out. */
static const char *next_assertion(char **owned)
{
    *owned = NULL;
    if (assertions.next < assertions.n)
        return assertions.items[assertions.next++];
    inline_signed++;
    *owned = sign_assertion();
    return *owned;
}

/* ---------------------------------------------------------------------------------------------
 * HTTP/1.1 client connections on one epoll loop.
 */

static int ep;

typedef struct conn conn;
typedef void (*conn_cb)(conn *c, const char *failure);

struct conn {
    int fd;
    int used;      /* a response arrived on it: a server-side close before the next one is benign */
    int got_bytes; /* of the response to the request in flight */
    esg_buf out;
    size_t out_off;
    llhttp_t parser;
    int status;
    int complete;
    int keep_alive;
    int in_set_cookie;
    esg_buf hname, hval, body;
    esg_buf retry; /* the request in flight, resent once if an idle keep-alive was closed */
    conn_cb cb;
    void *ud;
    void (*on_cookie)(void *ud, const char *value, size_t len);
};

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    conn *c = p->data;
    return esg_buf_append(&c->hname, at, n) == 0 ? 0 : -1;
}

static int on_header_field_complete(llhttp_t *p)
{
    conn *c = p->data;
    c->in_set_cookie = c->hname.len == 10 && strncasecmp(c->hname.data, "set-cookie", 10) == 0;
    esg_buf_reset(&c->hname);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (!c->in_set_cookie)
        return 0;
    return esg_buf_append(&c->hval, at, n) == 0 ? 0 : -1;
}

static int on_header_value_complete(llhttp_t *p)
{
    conn *c = p->data;
    if (c->in_set_cookie && c->on_cookie != NULL && c->hval.len > 0)
        c->on_cookie(c->ud, c->hval.data, c->hval.len);
    esg_buf_reset(&c->hval);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    conn *c = p->data;
    return esg_buf_append(&c->body, at, n) == 0 ? 0 : -1;
}

static int on_message_complete(llhttp_t *p)
{
    conn *c = p->data;
    c->status = p->status_code;
    c->keep_alive = llhttp_should_keep_alive(p);
    c->complete = 1;
    return HPE_PAUSED;
}

static llhttp_settings_t http_settings;

static void conn_close(conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->used = 0;
}

static int conn_open(conn *c)
{
    conn_close(c);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    /* A blocking connect on loopback completes at once; the socket is non-blocking after. */
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    llhttp_init(&c->parser, HTTP_RESPONSE, &http_settings);
    c->parser.data = c;
    return 0;
}

static void conn_init(conn *c, conn_cb cb, void *ud)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->cb = cb;
    c->ud = ud;
}

static void conn_flush(conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return;
        }
        return; /* the read side reports the failure */
    }
    esg_buf_reset(&c->out);
    c->out_off = 0;
}

/* Sends the request already in c->out (opening the connection if needed). */
static void conn_send(conn *c)
{
    if (c->fd < 0 && conn_open(c) != 0) {
        c->cb(c, "cannot connect");
        return;
    }
    esg_buf_reset(&c->retry);
    esg_buf_append(&c->retry, c->out.data, c->out.len);
    c->status = 0;
    c->complete = 0;
    c->got_bytes = 0;
    esg_buf_reset(&c->body);
    conn_flush(c);
}

static void conn_event(conn *c, uint32_t events)
{
    if (events & EPOLLOUT) {
        conn_flush(c);
        if (c->out.len == 0) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            int idle_close = c->used && !c->got_bytes;
            conn_close(c);
            if (idle_close && c->retry.len > 0) {
                /* The server closed an idle keep-alive connection: send again on a new one. */
                esg_buf_reset(&c->out);
                esg_buf_append(&c->out, c->retry.data, c->retry.len);
                conn_send(c);
                return;
            }
            c->cb(c, "connection closed");
            return;
        }
        c->got_bytes = 1;
        llhttp_errno_t e = llhttp_execute(&c->parser, buf, (size_t)n);
        if (e == HPE_PAUSED) {
            llhttp_resume(&c->parser);
        } else if (e != HPE_OK) {
            conn_close(c);
            c->cb(c, "bad HTTP response");
            return;
        }
        if (c->complete) {
            c->complete = 0;
            c->used = 1;
            esg_buf_reset(&c->retry);
            if (!c->keep_alive)
                conn_close(c);
            /* A NUL after the body, for the string searches of the callers. */
            esg_buf_append(&c->body, "", 1);
            c->body.len--;
            c->cb(c, NULL);
            return;
        }
    }
}

static void request_head(esg_buf *b, const char *method, const char *path)
{
    esg_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host_header);
}

static void request_body(esg_buf *b, const char *type, const char *body, size_t len)
{
    if (type != NULL)
        esg_buf_printf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", type, len);
    else
        esg_buf_puts(b, "\r\n");
    if (len > 0)
        esg_buf_append(b, body, len);
}

/* ---------------------------------------------------------------------------------------------
 * Virtual users running the flow.
 */

enum step {
    S_AUTHORIZE,
    S_CSRF,
    S_OAUTH_DETAILS,
    S_SEND_OTP,
    S_AUTHENTICATE,
    S_AUTH_CODE,
    S_TOKEN,
    S_USERINFO,
    S_COUNT
};

static hist steps[S_COUNT] = {{.name = "GET /authorize (page)"}, {.name = "GET csrf/token"},
                              {.name = "POST v3/oauth-details"}, {.name = "POST send-otp"},
                              {.name = "POST v3/authenticate"},  {.name = "POST auth-code"},
                              {.name = "POST oauth/v2/token"},   {.name = "GET oidc/userinfo"}};
static hist flow_hist = {.name = "complete flow"};

typedef enum mode { MODE_FLOWS, MODE_MINT } mode;

static struct {
    mode m;
    int measuring;  /* inside the window */
    int stopping;   /* no new flows */
    long in_flight; /* flows started and not finished */
    long flows_done, flows_failed;
    long want_codes;
    char **codes; /* mint: "code verifier" lines */
    long n_codes;
    int printed_errors;
} run;

typedef struct vu {
    conn browser, rp;
    enum step step;
    int64_t step_start, flow_start;
    struct {
        char name[48];
        char value[160];
    } jar[MAX_COOKIES];
    int n_jar;
    char csrf[64];
    char verifier[72], challenge[48], state[24], nonce[24];
    char txn[96], hash[48];
    char *accepted; /* JSON array text */
    char code[160];
    char *access_token;
} vu;

static void vu_cookie(void *ud, const char *v, size_t len)
{
    vu *u = ud;
    const char *eq = memchr(v, '=', len);
    if (eq == NULL)
        return;
    size_t nlen = (size_t)(eq - v);
    const char *val = eq + 1;
    const char *end = memchr(val, ';', len - nlen - 1);
    size_t vlen = end ? (size_t)(end - val) : len - nlen - 1;
    if (nlen >= sizeof(u->jar[0].name) || vlen >= sizeof(u->jar[0].value))
        return;
    int i;
    for (i = 0; i < u->n_jar; i++)
        if (strlen(u->jar[i].name) == nlen && memcmp(u->jar[i].name, v, nlen) == 0)
            break;
    if (i == u->n_jar) {
        if (u->n_jar == MAX_COOKIES)
            return;
        u->n_jar++;
    }
    memcpy(u->jar[i].name, v, nlen);
    u->jar[i].name[nlen] = '\0';
    memcpy(u->jar[i].value, val, vlen);
    u->jar[i].value[vlen] = '\0';
}

static void put_cookies(vu *u, esg_buf *b)
{
    if (u->n_jar == 0)
        return;
    esg_buf_puts(b, "Cookie: ");
    for (int i = 0; i < u->n_jar; i++)
        esg_buf_printf(b, "%s%s=%s", i ? "; " : "", u->jar[i].name, u->jar[i].value);
    esg_buf_puts(b, "\r\n");
}

static void vu_start(vu *u);

static void flow_error(vu *u, const char *why, const char *body)
{
    steps[u->step].errors++;
    run.flows_failed++;
    /* A server that fails every login would otherwise keep the driver spinning. */
    if (run.flows_failed >= 1000 && run.flows_failed > 10 * (run.flows_done + run.n_codes + 1))
        die("most logins fail; see the errors above");
    if (run.printed_errors < 5) {
        run.printed_errors++;
        fprintf(stderr, "esg-oidc-bench: %s failed: %s: %.300s\n", steps[u->step].name, why,
                body ? body : "");
    }
    run.in_flight--;
    conn_close(&u->browser);
    vu_start(u);
}

/* Sends what c->out holds as step `s` of the flow. */
static void send_step(vu *u, conn *c, enum step s)
{
    u->step = s;
    u->step_start = now_us();
    conn_send(c);
}

/* A GET by the browser, with its cookies. */
static void browser_get(vu *u, const char *path, enum step s)
{
    esg_buf *b = &u->browser.out;
    request_head(b, "GET", path);
    put_cookies(u, b);
    request_body(b, NULL, NULL, 0);
    send_step(u, &u->browser, s);
}

/* Browser calls to eSignet's JSON APIs: envelope, CSRF and oauth-details headers. */
static void api_call(vu *u, enum step s, const char *path, json_t *request, int txn_headers)
{
    char ts[25];
    esg_time_format_iso(esg_wall_ms(), ts);
    json_t *env = json_pack("{s:s,s:o}", "requestTime", ts, "request", request);
    char *text = env ? json_dumps(env, JSON_COMPACT) : NULL;
    json_decref(env);
    if (text == NULL)
        die("cannot build a request");
    esg_buf *b = &u->browser.out;
    request_head(b, "POST", path);
    put_cookies(u, b);
    esg_buf_printf(b, "X-XSRF-TOKEN: %s\r\n", u->csrf);
    if (txn_headers)
        esg_buf_printf(b, "oauth-details-key: %s\r\noauth-details-hash: %s\r\n", u->txn, u->hash);
    request_body(b, "application/json", text, strlen(text));
    free(text);
    send_step(u, &u->browser, s);
}

static void do_authorize(vu *u)
{
    esg_buf q = ESG_BUF_INIT;
    esg_buf_puts(&q, "/authorize?client_id=");
    esg_buf_url_encode(&q, opt.client_id, strlen(opt.client_id));
    esg_buf_puts(&q, "&redirect_uri=");
    esg_buf_url_encode(&q, opt.redirect_uri, strlen(opt.redirect_uri));
    esg_buf_printf(&q,
                   "&response_type=code&scope=openid%%20profile%%20email&state=%s&nonce=%s"
                   "&acr_values=%s&code_challenge=%s&code_challenge_method=S256",
                   u->state, u->nonce, "mosip%3Aidp%3Aacr%3Agenerated-code", u->challenge);
    browser_get(u, q.data, S_AUTHORIZE);
    esg_buf_free(&q);
}

static void do_csrf(vu *u)
{
    browser_get(u, API "/csrf/token", S_CSRF);
}

static void do_oauth_details(vu *u)
{
    json_t *r =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "clientId", opt.client_id, "redirectUri",
                  opt.redirect_uri, "responseType", "code", "scope", "openid profile email",
                  "acrValues", ACR_OTP, "codeChallenge", u->challenge, "codeChallengeMethod",
                  "S256", "nonce", u->nonce, "state", u->state);
    api_call(u, S_OAUTH_DETAILS, API "/authorization/v3/oauth-details", r, 0);
}

static void do_send_otp(vu *u)
{
    json_t *r = json_pack("{s:s,s:s,s:[s]}", "transactionId", u->txn, "individualId", DEMO_ID,
                          "otpChannels", "email");
    api_call(u, S_SEND_OTP, API "/authorization/send-otp", r, 1);
}

static void do_authenticate(vu *u)
{
    json_t *r = json_pack("{s:s,s:s,s:[{s:s,s:s,s:s}]}", "transactionId", u->txn, "individualId",
                          DEMO_ID, "challengeList", "authFactorType", "OTP", "challenge", DEMO_OTP,
                          "format", "alpha-numeric");
    api_call(u, S_AUTHENTICATE, API "/authorization/v3/authenticate", r, 1);
}

static void do_auth_code(vu *u)
{
    json_error_t jerr;
    json_t *accepted = json_loads(u->accepted ? u->accepted : "[]", 0, &jerr);
    json_t *r = json_pack("{s:s,s:o,s:[]}", "transactionId", u->txn, "acceptedClaims", accepted,
                          "permittedAuthorizeScopes");
    api_call(u, S_AUTH_CODE, API "/authorization/auth-code", r, 1);
}

/* The token request's bytes for one code (and a fresh assertion). */
static void token_request(esg_buf *b, const char *code, const char *verifier, const char *assertion)
{
    esg_buf f = ESG_BUF_INIT;
    esg_buf_puts(&f, "grant_type=authorization_code&code=");
    esg_buf_url_encode(&f, code, strlen(code));
    esg_buf_puts(&f, "&redirect_uri=");
    esg_buf_url_encode(&f, opt.redirect_uri, strlen(opt.redirect_uri));
    esg_buf_puts(&f, "&code_verifier=");
    esg_buf_url_encode(&f, verifier, strlen(verifier));
    esg_buf_puts(&f, "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type"
                     "%3Ajwt-bearer&client_assertion=");
    esg_buf_puts(&f, assertion);
    request_head(b, "POST", API "/oauth/v2/token");
    request_body(b, "application/x-www-form-urlencoded", f.data, f.len);
    esg_buf_free(&f);
}

static void do_token(vu *u)
{
    char *owned;
    const char *a = next_assertion(&owned);
    token_request(&u->rp.out, u->code, u->verifier, a);
    free(owned);
    send_step(u, &u->rp, S_TOKEN);
}

static void do_userinfo(vu *u)
{
    esg_buf *b = &u->rp.out;
    request_head(b, "GET", API "/oidc/userinfo");
    esg_buf_printf(b, "Authorization: Bearer %s\r\n", u->access_token);
    request_body(b, NULL, NULL, 0);
    send_step(u, &u->rp, S_USERINFO);
}

/* The JSON text inside <script type="application/json" id="ID">...</script> of the page. */
static json_t *embedded_json(const char *page, const char *id)
{
    char marker[96];
    snprintf(marker, sizeof(marker), "<script type=\"application/json\" id=\"%s\">", id);
    const char *s = strstr(page, marker);
    const char *e = s ? strstr(s, "</script>") : NULL;
    if (e == NULL)
        return NULL;
    s += strlen(marker);
    json_error_t jerr;
    return json_loadb(s, (size_t)(e - s), 0, &jerr);
}

/* Takes transactionId and the claims to accept from oauth-details. */
static int take_details(vu *u, const json_t *d)
{
    const char *tid = json_string_value(json_object_get(d, "transactionId"));
    if (tid == NULL || strlen(tid) >= sizeof(u->txn))
        return -1;
    snprintf(u->txn, sizeof(u->txn), "%s", tid);
    json_t *acc = json_array();
    json_array_extend(acc, json_object_get(d, "essentialClaims"));
    json_array_extend(acc, json_object_get(d, "voluntaryClaims"));
    free(u->accepted);
    u->accepted = json_dumps(acc, JSON_COMPACT);
    json_decref(acc);
    return 0;
}

/* An eSignet envelope without errors: its "response" member. */
static json_t *envelope_response(const conn *c, const char **why)
{
    *why = "HTTP status";
    if (c->status != 200)
        return NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(c->body.data, c->body.len, 0, &jerr);
    json_t *errors = json_object_get(doc, "errors");
    json_t *r = json_object_get(doc, "response");
    *why = "errors in the envelope";
    if (doc == NULL || (errors != NULL && json_array_size(errors) > 0) || !json_is_object(r)) {
        json_decref(doc);
        return NULL;
    }
    json_incref(r);
    json_decref(doc);
    return r;
}

static void step_done(vu *u)
{
    if (run.measuring)
        hist_add(&steps[u->step], now_us() - u->step_start);
}

static void flow_done(vu *u)
{
    run.in_flight--;
    if (run.measuring) {
        run.flows_done++;
        hist_add(&flow_hist, now_us() - u->flow_start);
    }
    vu_start(u);
}

static void vu_on_response(conn *c, const char *failure)
{
    vu *u = c->ud;
    if (failure != NULL) {
        flow_error(u, failure, NULL);
        return;
    }
    const char *why = "unexpected response";
    json_t *r = NULL;
    switch (u->step) {
    case S_AUTHORIZE: {
        json_t *d = c->status == 200 ? embedded_json(c->body.data, "oauth-details") : NULL;
        json_t *ctx = d ? embedded_json(c->body.data, "login-context") : NULL;
        const char *h = json_string_value(json_object_get(ctx, "hash"));
        int ok = h != NULL && strlen(h) < sizeof(u->hash) && take_details(u, d) == 0;
        if (ok)
            snprintf(u->hash, sizeof(u->hash), "%s", h);
        json_decref(d);
        json_decref(ctx);
        if (!ok)
            break;
        step_done(u);
        do_csrf(u);
        return;
    }
    case S_CSRF: {
        json_error_t jerr;
        json_t *doc = c->status == 200 ? json_loadb(c->body.data, c->body.len, 0, &jerr) : NULL;
        const char *t = json_string_value(json_object_get(doc, "token"));
        int ok = t != NULL && strlen(t) < sizeof(u->csrf);
        if (ok)
            snprintf(u->csrf, sizeof(u->csrf), "%s", t);
        json_decref(doc);
        if (!ok)
            break;
        step_done(u);
        if (opt.esignet_ui)
            do_oauth_details(u);
        else
            do_send_otp(u);
        return;
    }
    case S_OAUTH_DETAILS: {
        if ((r = envelope_response(c, &why)) == NULL || take_details(u, r) != 0)
            break;
        /* eSignet's UI hashes the bytes of "response" as received: they end before
         * ,"errors":[]} at the end of the envelope. */
        const char *s = strstr(c->body.data, "\"response\":");
        const char *tail = ",\"errors\":[]}";
        size_t tl = strlen(tail);
        if (s == NULL || c->body.len < tl ||
            memcmp(c->body.data + c->body.len - tl, tail, tl) != 0) {
            why = "envelope shape";
            break;
        }
        s += strlen("\"response\":");
        sha256_b64url(s, (size_t)(c->body.data + c->body.len - tl - s), u->hash);
        json_decref(r);
        step_done(u);
        do_send_otp(u);
        return;
    }
    case S_SEND_OTP:
    case S_AUTHENTICATE:
        if ((r = envelope_response(c, &why)) == NULL)
            break;
        json_decref(r);
        step_done(u);
        if (u->step == S_SEND_OTP)
            do_authenticate(u);
        else
            do_auth_code(u);
        return;
    case S_AUTH_CODE: {
        if ((r = envelope_response(c, &why)) == NULL)
            break;
        const char *code = json_string_value(json_object_get(r, "code"));
        const char *state = json_string_value(json_object_get(r, "state"));
        int ok = code != NULL && strlen(code) < sizeof(u->code) && state != NULL &&
                 strcmp(state, u->state) == 0;
        if (ok)
            snprintf(u->code, sizeof(u->code), "%s", code);
        json_decref(r);
        if (!ok) {
            why = "no code or wrong state";
            break;
        }
        step_done(u);
        conn_close(&u->browser); /* the browser goes back to the relying party */
        if (run.m == MODE_MINT) {
            esg_buf line = ESG_BUF_INIT;
            esg_buf_printf(&line, "%s %s", u->code, u->verifier);
            run.codes[run.n_codes++] = esg_buf_steal(&line, NULL);
            run.in_flight--;
            vu_start(u);
            return;
        }
        do_token(u);
        return;
    }
    case S_TOKEN: {
        json_error_t jerr;
        json_t *doc = c->status == 200 ? json_loadb(c->body.data, c->body.len, 0, &jerr) : NULL;
        const char *at = json_string_value(json_object_get(doc, "access_token"));
        int ok = at != NULL && json_is_string(json_object_get(doc, "id_token"));
        if (ok) {
            free(u->access_token);
            u->access_token = strdup(at);
        }
        json_decref(doc);
        if (!ok)
            break;
        step_done(u);
        do_userinfo(u);
        return;
    }
    case S_USERINFO:
        /* A signed JWT: three base64url parts. */
        if (c->status != 200 || strchr(c->body.data, '.') == NULL)
            break;
        step_done(u);
        flow_done(u);
        return;
    case S_COUNT:
        break;
    }
    flow_error(u, why, c->body.data);
}

static void vu_start(vu *u)
{
    if (run.stopping)
        return;
    if (run.m == MODE_MINT && run.n_codes + run.in_flight >= run.want_codes)
        return;
    run.in_flight++;
    u->n_jar = 0; /* a new browser */
    u->csrf[0] = '\0';
    random_token(u->verifier, sizeof(u->verifier), 48);
    sha256_b64url(u->verifier, strlen(u->verifier), u->challenge);
    random_token(u->state, sizeof(u->state), 12);
    random_token(u->nonce, sizeof(u->nonce), 12);
    u->flow_start = now_us();
    if (conn_open(&u->browser) != 0) {
        u->step = opt.esignet_ui ? S_CSRF : S_AUTHORIZE;
        flow_error(u, "cannot connect", NULL);
        return;
    }
    if (opt.esignet_ui)
        do_csrf(u);
    else
        do_authorize(u);
}

static vu *vus_create(int n)
{
    vu *v = calloc((size_t)n, sizeof(*v));
    if (v == NULL)
        die("out of memory");
    for (int i = 0; i < n; i++) {
        conn_init(&v[i].browser, vu_on_response, &v[i]);
        v[i].browser.on_cookie = vu_cookie;
        conn_init(&v[i].rp, vu_on_response, &v[i]);
    }
    return v;
}

/* Runs the loop until `until_us` (0: until `done` says so). */
static void loop(int64_t until_us, int (*done)(void))
{
    struct epoll_event evs[256];
    for (;;) {
        int64_t now = now_us();
        if (until_us && now >= until_us)
            return;
        if (done && done())
            return;
        int timeout = until_us ? (int)((until_us - now) / 1000) + 1 : 100;
        if (timeout > 100)
            timeout = 100;
        int n = epoll_wait(ep, evs, 256, timeout);
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events);
    }
}

static int flows_drained(void)
{
    return run.in_flight == 0;
}

/* ---------------------------------------------------------------------------------------------
 * flows
 */

static void cmd_flows(void)
{
    run.m = MODE_FLOWS;
    if (opt.esignet_ui)
        steps[S_AUTHORIZE].name = NULL;
    else
        steps[S_OAUTH_DETAILS].name = NULL;
    vu *v = vus_create(opt.users);
    for (int i = 0; i < opt.users; i++)
        vu_start(&v[i]);
    loop(now_us() + (int64_t)(opt.warmup * 1e6), NULL);
    run.measuring = 1;
    long inline_before = inline_signed;
    usage a = usage_now();
    loop(a.at_us + (int64_t)(opt.seconds * 1e6), NULL);
    usage b = usage_now();
    run.measuring = 0;
    run.stopping = 1;
    loop(now_us() + 10000000, flows_drained);
    double secs = (double)(b.at_us - a.at_us) / 1e6;
    const char *ui = opt.esignet_ui ? "esignet" : "page";
    printf("flows (%s): %d users, %.1f s measured after %.1f s warm-up\n", ui, opt.users, secs,
           opt.warmup);
    table_head();
    for (int s = 0; s < S_COUNT; s++)
        if (steps[s].name != NULL)
            hist_row(&steps[s], secs);
    hist_row(&flow_hist, secs);
    printf("result flows_%s_per_s=%.1f flows_%s_failed=%ld inline_signed=%ld\n", ui,
           (double)run.flows_done / secs, ui, run.flows_failed, inline_signed - inline_before);
    char phase[32];
    snprintf(phase, sizeof(phase), "flows_%s", ui);
    usage_report(phase, a, b);
}

/* ---------------------------------------------------------------------------------------------
 * tokens
 */

typedef struct burst_conn {
    conn c;
    int64_t sent_at;
} burst_conn;

static struct {
    esg_buf *reqs;
    long n, next, done, failed;
    hist lat;
    int printed;
} burst = {.lat = {.name = "POST oauth/v2/token"}};

static void burst_send(burst_conn *bc)
{
    if (burst.next >= burst.n)
        return;
    esg_buf *r = &burst.reqs[burst.next++];
    esg_buf_append(&bc->c.out, r->data, r->len);
    esg_buf_free(r);
    bc->sent_at = now_us();
    conn_send(&bc->c);
}

static void burst_on_response(conn *c, const char *failure)
{
    burst_conn *bc = c->ud;
    hist_add(&burst.lat, now_us() - bc->sent_at);
    burst.done++;
    if (failure != NULL || c->status != 200 || strstr(c->body.data, "\"access_token\"") == NULL) {
        burst.failed++;
        burst.lat.errors++;
        if (burst.printed++ < 5)
            fprintf(stderr, "esg-oidc-bench: token request failed: %s %d %.300s\n",
                    failure ? failure : "", c->status, c->body.data ? c->body.data : "");
    }
    burst_send(bc);
}

static int burst_finished(void)
{
    return burst.done == burst.n;
}

static int mint_finished(void)
{
    return run.n_codes >= run.want_codes || (run.in_flight == 0 && run.stopping);
}

static void cmd_mint(void)
{
    run.m = MODE_MINT;
    run.want_codes = opt.codes;
    run.codes = calloc((size_t)opt.codes, sizeof(char *));
    FILE *out = fopen(opt.out, "w");
    if (run.codes == NULL || out == NULL)
        die("cannot write the codes");
    int64_t t0 = now_us();
    vu *v = vus_create(opt.users);
    for (int i = 0; i < opt.users; i++)
        vu_start(&v[i]);
    loop(0, mint_finished);
    if (run.n_codes < run.want_codes)
        die("could not mint the codes");
    for (long i = 0; i < run.n_codes; i++)
        fprintf(out, "%s\n", run.codes[i]);
    if (fclose(out) != 0)
        die("cannot write the codes");
    fprintf(stderr, "esg-oidc-bench: %ld codes minted in %.1f s (%ld failed logins)\n", run.n_codes,
            (double)(now_us() - t0) / 1e6, run.flows_failed);
}

static void cmd_tokens(void)
{
    /* One assertion per request, and every request's bytes, before anything is timed. */
    FILE *in = fopen(opt.codes_file, "r");
    if (in == NULL)
        die("cannot read the codes");
    char line[512];
    size_t cap = 0;
    char **codes = NULL;
    while (fgets(line, sizeof(line), in) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strchr(line, ' ') == NULL)
            continue;
        if ((size_t)burst.n == cap) {
            cap = cap ? cap * 2 : 4096;
            codes = realloc(codes, cap * sizeof(*codes));
            if (codes == NULL)
                die("out of memory");
        }
        codes[burst.n++] = strdup(line);
    }
    fclose(in);
    if (burst.n == 0)
        die("no codes");
    presign(&assertions, (size_t)burst.n);
    burst.reqs = calloc((size_t)burst.n, sizeof(esg_buf));
    if (burst.reqs == NULL)
        die("out of memory");
    for (long i = 0; i < burst.n; i++) {
        char *sp = strchr(codes[i], ' ');
        *sp = '\0';
        token_request(&burst.reqs[i], codes[i], sp + 1, assertions.items[i]);
        free(codes[i]);
        free(assertions.items[i]);
    }
    free(codes);

    /* The burst. */
    burst_conn *bcs = calloc((size_t)opt.conns, sizeof(*bcs));
    if (bcs == NULL)
        die("out of memory");
    for (int i = 0; i < opt.conns; i++) {
        conn_init(&bcs[i].c, burst_on_response, &bcs[i]);
        if (conn_open(&bcs[i].c) != 0)
            die("cannot connect");
    }
    usage a = usage_now();
    for (int i = 0; i < opt.conns; i++)
        burst_send(&bcs[i]);
    loop(0, burst_finished);
    usage b = usage_now();
    double secs = (double)(b.at_us - a.at_us) / 1e6;
    printf("tokens: %ld requests over %d connections in %.2f s\n", burst.n, opt.conns, secs);
    table_head();
    hist_row(&burst.lat, secs);
    printf("result tokens_per_s=%.1f tokens_failed=%ld token_p50_ms=%.2f token_p99_ms=%.2f\n",
           (double)(burst.done - burst.failed) / secs, burst.failed, pct_ms(&burst.lat, 0.5),
           pct_ms(&burst.lat, 0.99));
    usage_report("tokens", a, b);
}

/* ---------------------------------------------------------------------------------------------
 * main
 */

static void usage_exit(void)
{
    fputs("usage: esg-oidc-bench flows|mint|tokens --port P --issuer URL --client-id ID\n"
          "         --key JWK --redirect-uri URI [--server-pid PID]\n"
          "  flows:  [--users N] [--seconds T] [--warmup S] [--ui page|esignet] [--assertions K]\n"
          "  mint:   --codes M --out FILE [--users N]\n"
          "  tokens: --codes-file FILE [--conns C]\n",
          stderr);
    exit(2);
}

static void load_client_key(void)
{
    FILE *f = fopen(opt.key_path, "r");
    if (f == NULL)
        die("cannot open the client key");
    char text[16384];
    size_t n = fread(text, 1, sizeof(text), f);
    fclose(f);
    const char *why = NULL;
    if (esg_jwk_import_json(text, n, ESG_JWK_REQUIRE_PRIVATE, &client_key, &why) != 0)
        die(why ? why : "bad client key");
    client_alg = esg_jwk_alg(client_key);
    if (client_alg == NULL)
        client_alg = esg_jwk_type(client_key) == ESG_JWK_KTY_EC ? "ES256" : "RS256";
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage_exit();
    const char *cmd = argv[1];
    long presign_n = -1;
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (val == NULL)
            usage_exit();
        i++;
        if (strcmp(k, "--port") == 0)
            opt.port = atoi(val);
        else if (strcmp(k, "--issuer") == 0)
            opt.issuer = val;
        else if (strcmp(k, "--client-id") == 0)
            opt.client_id = val;
        else if (strcmp(k, "--key") == 0)
            opt.key_path = val;
        else if (strcmp(k, "--redirect-uri") == 0)
            opt.redirect_uri = val;
        else if (strcmp(k, "--server-pid") == 0)
            opt.server_pid = atol(val);
        else if (strcmp(k, "--users") == 0)
            opt.users = atoi(val);
        else if (strcmp(k, "--seconds") == 0)
            opt.seconds = atof(val);
        else if (strcmp(k, "--warmup") == 0)
            opt.warmup = atof(val);
        else if (strcmp(k, "--ui") == 0)
            opt.esignet_ui = strcmp(val, "esignet") == 0;
        else if (strcmp(k, "--codes") == 0)
            opt.codes = atol(val);
        else if (strcmp(k, "--conns") == 0)
            opt.conns = atoi(val);
        else if (strcmp(k, "--out") == 0)
            opt.out = val;
        else if (strcmp(k, "--codes-file") == 0)
            opt.codes_file = val;
        else if (strcmp(k, "--assertions") == 0)
            presign_n = atol(val);
        else
            usage_exit();
    }
    if (opt.port <= 0 || !opt.issuer || !opt.client_id || !opt.key_path || !opt.redirect_uri ||
        opt.users <= 0 || opt.conns <= 0 || opt.codes <= 0)
        usage_exit();
    snprintf(token_endpoint, sizeof(token_endpoint), "%s%s/oauth/v2/token", opt.issuer, API);
    snprintf(host_header, sizeof(host_header), "127.0.0.1:%d", opt.port);
    load_client_key();
    llhttp_settings_init(&http_settings);
    http_settings.on_header_field = on_header_field;
    http_settings.on_header_field_complete = on_header_field_complete;
    http_settings.on_header_value = on_header_value;
    http_settings.on_header_value_complete = on_header_value_complete;
    http_settings.on_body = on_body;
    http_settings.on_message_complete = on_message_complete;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "flows") == 0) {
        /* Enough assertions for the warm-up and the window at the rate given (or a guess). */
        presign(&assertions,
                (size_t)(presign_n >= 0 ? presign_n : (long)(2000 * (opt.seconds + opt.warmup))));
        cmd_flows();
    } else if (strcmp(cmd, "mint") == 0 && opt.out != NULL) {
        cmd_mint();
    } else if (strcmp(cmd, "tokens") == 0 && opt.codes_file != NULL) {
        cmd_tokens();
    } else {
        usage_exit();
    }
    return 0;
}
