/*
 * Relying parties: settings, registration rules for URIs, the stored document, the immutable
 * esg_client built from it, and a cache shared by every loop thread.
 *
 * The cache maps client ids to reference-counted clients (public keys parsed once). Entries live
 * CACHE_TTL_MS; a write on this instance evicts its entry, and other instances see the change when
 * their entry expires. A lookup that read the store before an eviction does not put its (possibly
 * old) result into the cache: every eviction advances an epoch, and a result is cached only when
 * the epoch did not move while it was being read.
 */
#include "oauth/clients.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwk.h"
#include "runtime/loop.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

#define COLLECTION "clients"
/* Longest client id looked up, in bytes (registration allows 100 characters of UTF-8). */
#define CLIENT_ID_MAX_BYTES 400
/* Longest URI accepted, registered or presented. */
#define URI_MAX       2048
#define CACHE_TTL_MS  60000
#define CACHE_BUCKETS 1024
#define CACHE_MAX     8192
/* Most path segments compared by the wildcard matcher; longer URIs do not match. */
#define MAX_SEGMENTS 128

/* ------------------------------------------------------------------------------------------------
 * Settings: written by esg_clients_configure() before any loop runs, read-only afterwards.
 */

static struct {
    int has_admin;
    char admin_sha256[65]; /* lower-case hex */
    int wildcards;
    char **claims;
    size_t n_claims;
    char **acrs;
    size_t n_acrs;
} S;

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

/*
 * Copies the strings of a JSON array (borrowed); with `member`, the string `member` of each object
 * item instead. Items of another type are skipped. Returns 0 or ESP_ENOMEM; *out is owned by the
 * caller (strv_free).
 */
static int strv_from_json(const json_t *arr, const char *member, char ***out, size_t *n)
{
    size_t count = json_array_size(arr);
    char **v = calloc(count + 1, sizeof(*v));
    size_t used = 0;
    if (v == NULL)
        return ESP_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(arr, i);
        if (member != NULL)
            item = json_object_get(item, member);
        if (!json_is_string(item))
            continue;
        v[used] = strdup(json_string_value(item));
        if (v[used] == NULL) {
            strv_free(v, used);
            return ESP_ENOMEM;
        }
        used++;
    }
    *out = v;
    *n = used;
    return 0;
}

static int strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Copies 64 hex digits to out[65] in lower case. Returns 0 or ESP_EINVAL. */
static int hex_digest(const char *hex, char out[65])
{
    if (strlen(hex) != 64)
        return ESP_EINVAL;
    for (size_t i = 0; i < 64; i++) {
        if (!is_hex((unsigned char)hex[i]))
            return ESP_EINVAL;
        out[i] = hex[i] >= 'A' && hex[i] <= 'F' ? (char)(hex[i] - 'A' + 'a') : hex[i];
    }
    out[64] = '\0';
    return 0;
}

int esg_clients_configure(const json_t *oidc, esg_buf *err)
{
    const json_t *clients = json_object_get(oidc, "clients");
    const char *hex = json_string_value(json_object_get(clients, "admin_token_sha256"));
    char digest[65];
    char **claims = NULL, **acrs = NULL;
    size_t n_claims = 0, n_acrs = 0;
    int rc;
    if (hex != NULL && hex_digest(hex, digest) != 0) {
        esg_buf_puts(err, "oidc.clients.admin_token_sha256: 64 hexadecimal digits expected");
        rc = ESP_ECONFIG;
        goto fail;
    }
    if ((rc = strv_from_json(json_object_get(oidc, "claims_supported"), NULL, &claims,
                             &n_claims)) != 0 ||
        (rc = strv_from_json(json_object_get(oidc, "acr"), "acr", &acrs, &n_acrs)) != 0)
        goto fail;
    esg_clients_reset();
    S.has_admin = hex != NULL;
    if (hex != NULL)
        memcpy(S.admin_sha256, digest, sizeof(digest));
    S.wildcards = json_is_true(json_object_get(clients, "redirect_uri_wildcards"));
    S.claims = claims;
    S.n_claims = n_claims;
    S.acrs = acrs;
    S.n_acrs = n_acrs;
    OPENSSL_cleanse(digest, sizeof(digest));
    return 0;
fail:
    OPENSSL_cleanse(digest, sizeof(digest));
    strv_free(claims, n_claims);
    strv_free(acrs, n_acrs);
    return rc;
}

void esg_clients_reset(void)
{
    esg_clients_cache_clear();
    strv_free(S.claims, S.n_claims);
    strv_free(S.acrs, S.n_acrs);
    OPENSSL_cleanse(S.admin_sha256, sizeof(S.admin_sha256));
    memset(&S, 0, sizeof(S));
}

int esg_clients_admin_token_ok(const char *token, size_t len)
{
    unsigned char md[32];
    char hex[65];
    unsigned int md_len = 0;
    if (!S.has_admin || token == NULL || len == 0)
        return 0;
    if (EVP_Digest(token, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != sizeof(md))
        return 0;
    esg_hex(md, sizeof(md), hex);
    int ok = CRYPTO_memcmp(hex, S.admin_sha256, 64) == 0;
    OPENSSL_cleanse(md, sizeof(md));
    OPENSSL_cleanse(hex, sizeof(hex));
    return ok;
}

int esg_clients_claim_supported(const char *claim)
{
    return strv_has(S.claims, S.n_claims, claim);
}

int esg_clients_acr_supported(const char *acr)
{
    return strv_has(S.acrs, S.n_acrs, acr);
}

int esg_clients_wildcards(void)
{
    return S.wildcards;
}

/* ------------------------------------------------------------------------------------------------
 * URIs. Only ASCII is accepted (an IRI must be registered percent-encoded), and comparisons are
 * byte for byte, so nothing here depends on the locale.
 */

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

/* A URI cut into the parts the rules look at; pointers into the URI. */
typedef struct uri_view {
    size_t scheme_len; /* bytes before the first ':' */
    int has_authority; /* "//" follows the scheme */
    const char *host;  /* inside the authority; brackets kept for IPv6 literals */
    size_t host_len;   /* 0 without an authority */
    const char *port;  /* digits after the host's ':', or NULL */
    size_t port_len;   /* 0 when there is no port */
    int has_userinfo;  /* an '@' in the authority */
    size_t origin_len; /* scheme ':' and "//" authority, when present */
    const char *rest;  /* path, query and fragment */
    size_t rest_len;
} uri_view;

static int uri_split(const char *s, size_t n, uri_view *u)
{
    size_t i = 0;
    memset(u, 0, sizeof(*u));
    if (n == 0 || !is_alpha((unsigned char)s[0]))
        return ESP_EINVAL;
    while (i < n && (is_alpha((unsigned char)s[i]) || is_digit((unsigned char)s[i]) ||
                     s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (i == n || s[i] != ':')
        return ESP_EINVAL;
    u->scheme_len = i++;
    if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        const char *auth = s + i + 2;
        size_t a = 0, alen;
        u->has_authority = 1;
        i += 2;
        while (i < n && s[i] != '/' && s[i] != '?' && s[i] != '#')
            i++;
        alen = (size_t)(s + i - auth);
        u->has_userinfo = memchr(auth, '@', alen) != NULL;
        if (alen > 0 && auth[0] == '[') {
            const char *close = memchr(auth, ']', alen);
            if (close == NULL)
                return ESP_EINVAL;
            a = (size_t)(close - auth) + 1;
        } else {
            while (a < alen && auth[a] != ':')
                a++;
        }
        u->host = auth;
        u->host_len = a;
        if (a < alen) {
            if (auth[a] != ':')
                return ESP_EINVAL;
            u->port = auth + a + 1;
            u->port_len = alen - a - 1;
        }
    }
    u->origin_len = i;
    u->rest = s + i;
    u->rest_len = n - i;
    return 0;
}

/* Host names and IPv4 addresses as [a-z0-9-] labels; IPv6 literals in brackets. Lower case. */
static int host_valid(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return 0;
    if (h[0] == '[') {
        char text[64];
        unsigned char addr[16];
        if (n < 4 || n - 2 >= sizeof(text) || h[n - 1] != ']')
            return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (is_upper((unsigned char)h[i]))
                return 0;
        memcpy(text, h + 1, n - 2);
        text[n - 2] = '\0';
        return inet_pton(AF_INET6, text, addr) == 1;
    }
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || h[i] == '.') {
            if (label == 0 || label > 63 || h[i - 1] == '-' || h[i - label] == '-')
                return 0;
            label = 0;
            continue;
        }
        int c = (unsigned char)h[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-'))
            return 0;
        label++;
    }
    return 1;
}

static int port_valid(const uri_view *u)
{
    unsigned long v = 0;
    if (u->port == NULL)
        return 1;
    if (u->port_len == 0 || u->port_len > 5)
        return 0;
    for (size_t i = 0; i < u->port_len; i++) {
        if (!is_digit((unsigned char)u->port[i]))
            return 0;
        v = v * 10 + (unsigned long)(u->port[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/*
 * Checks the bytes after the origin: RFC 3986 path, query and fragment characters, with valid
 * percent escapes. '*' only when `star`; a fragment only when `fragment`.
 */
static int rest_chars_valid(const char *s, size_t n, int star, int fragment)
{
    static const char allowed[] = "-._~:/?@!$&'()+,;=";
    int in_fragment = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3 || !is_hex((unsigned char)s[i + 1]) || !is_hex((unsigned char)s[i + 2]))
                return 0;
            i += 2;
        } else if (c == '#') {
            if (!fragment || in_fragment)
                return 0;
            in_fragment = 1;
        } else if (c == '*') {
            if (!star)
                return 0;
        } else if (!(is_alpha(c) || is_digit(c) || (c != 0 && strchr(allowed, c) != NULL))) {
            return 0;
        }
    }
    return 1;
}

/* 1 when a path segment s[0..n) is "." or "..", also written with %2e. */
static int dot_segment(const char *s, size_t n)
{
    size_t dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            dots++;
        } else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
                   (s[i + 2] == 'e' || s[i + 2] == 'E')) {
            dots++;
            i += 2;
        } else {
            return 0;
        }
    }
    return dots == 1 || dots == 2;
}

/* 1 when the path (the rest up to '?' or '#') has a "." or ".." segment. */
static int has_dot_segment(const char *s, size_t n)
{
    size_t end = 0, start = 0;
    while (end < n && s[end] != '?' && s[end] != '#')
        end++;
    for (size_t i = 0; i <= end; i++) {
        if (i == end || s[i] == '/') {
            if (dot_segment(s + start, i - start))
                return 1;
            start = i + 1;
        }
    }
    return 0;
}

static int scheme_is(const char *s, const uri_view *u, const char *name)
{
    return u->scheme_len == strlen(name) && memcmp(s, name, u->scheme_len) == 0;
}

static int loopback_host(const uri_view *u)
{
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        if (u->host_len == strlen(hosts[i]) && memcmp(u->host, hosts[i], u->host_len) == 0)
            return 1;
    return 0;
}

int esg_clients_redirect_uri_valid(const char *uri, size_t len)
{
    uri_view u;
    if (uri == NULL || len == 0 || len > URI_MAX || uri_split(uri, len, &u) != 0)
        return 0;
    for (size_t i = 0; i < u.scheme_len; i++)
        if (is_upper((unsigned char)uri[i]))
            return 0;
    int web = scheme_is(uri, &u, "https") || scheme_is(uri, &u, "http");
    if (web) {
        if (!u.has_authority || (scheme_is(uri, &u, "http") && !loopback_host(&u)))
            return 0;
        if (u.rest_len > 0 && u.rest[0] != '/' && u.rest[0] != '?')
            return 0;
    } else if (memchr(uri, '.', u.scheme_len) == NULL || len == u.scheme_len + 1) {
        /* RFC 8252 §7.1: private-use schemes are reverse domain names; this also keeps out
         * javascript:, data:, file: and the like. */
        return 0;
    }
    if (u.has_authority && (u.has_userinfo || !host_valid(u.host, u.host_len) || !port_valid(&u)))
        return 0;
    return rest_chars_valid(u.rest, u.rest_len, S.wildcards, 0) &&
           !has_dot_segment(u.rest, u.rest_len);
}

int esg_clients_logo_uri_valid(const char *uri, size_t len)
{
    uri_view u;
    if (uri == NULL || len == 0 || len > URI_MAX || uri_split(uri, len, &u) != 0)
        return 0;
    if (!(scheme_is(uri, &u, "https") || scheme_is(uri, &u, "http")) || !u.has_authority ||
        u.has_userinfo || !host_valid(u.host, u.host_len) || !port_valid(&u))
        return 0;
    if (u.rest_len > 0 && u.rest[0] != '/' && u.rest[0] != '?' && u.rest[0] != '#')
        return 0;
    return rest_chars_valid(u.rest, u.rest_len, 1, 1);
}

/* ------------------------------------------------------------------------------------------------
 * Wildcard matching (only when oidc.clients.redirect_uri_wildcards is true): the origin (scheme
 * and authority) must be equal byte for byte; the rest is matched as Spring's AntPathMatcher
 * does, with '/' separating segments: '?' matches one character, '*' any run of characters within
 * a segment, and a "**" segment any number of segments. Unlike Spring, empty segments are kept and
 * compared, and a presented URI with a dot segment never matches.
 */

typedef struct seg {
    const char *p;
    size_t n;
} seg;

/* Splits s[0..n) at '/' after a leading '/'. Returns the number of segments, or -1 for too many. */
static int split_segments(const char *s, size_t n, seg *out)
{
    int count = 0;
    size_t start;
    if (n == 0)
        return 0;
    start = s[0] == '/' ? 1 : 0;
    for (size_t i = start; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (count == MAX_SEGMENTS)
                return -1;
            out[count].p = s + start;
            out[count].n = i - start;
            count++;
            start = i + 1;
        }
    }
    return count;
}

static int segment_glob(const seg *p, const seg *s)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < s->n) {
        if (pi < p->n && p->p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < p->n && (p->p[pi] == '?' || p->p[pi] == s->p[si])) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < p->n && p->p[pi] == '*')
        pi++;
    return pi == p->n;
}

static int is_double_star(const seg *p)
{
    return p->n == 2 && p->p[0] == '*' && p->p[1] == '*';
}

static int segments_match(const seg *p, int np, const seg *s, int ns)
{
    int pi = 0, si = 0, star = -1, mark = 0;
    while (si < ns) {
        if (pi < np && is_double_star(&p[pi])) {
            star = pi++;
            mark = si;
        } else if (pi < np && segment_glob(&p[pi], &s[si])) {
            pi++;
            si++;
        } else if (star >= 0) {
            pi = star + 1;
            si = ++mark;
        } else {
            return 0;
        }
    }
    while (pi < np && is_double_star(&p[pi]))
        pi++;
    return pi == np;
}

static int wildcard_match(const char *pattern, const char *uri, size_t len)
{
    uri_view pu, uu;
    seg ps[MAX_SEGMENTS], us[MAX_SEGMENTS];
    size_t plen = strlen(pattern);
    if (len > URI_MAX || uri_split(pattern, plen, &pu) != 0 || uri_split(uri, len, &uu) != 0)
        return 0;
    if (pu.origin_len != uu.origin_len || memcmp(pattern, uri, pu.origin_len) != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)uri[i];
        if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\')
            return 0;
    }
    if (has_dot_segment(uu.rest, uu.rest_len))
        return 0;
    /* "/a" and "?q" differ in kind: a path never matches a bare query, and the other way round. */
    if (uu.rest_len > 0 && pu.rest_len > 0 && (uu.rest[0] == '/') != (pu.rest[0] == '/'))
        return 0;
    int np = split_segments(pu.rest, pu.rest_len, ps);
    int ns = split_segments(uu.rest, uu.rest_len, us);
    if (np < 0 || ns < 0)
        return 0;
    return segments_match(ps, np, us, ns);
}

int esg_client_redirect_allowed(const esg_client *c, const char *uri, size_t len)
{
    if (c == NULL || uri == NULL)
        return 0;
    for (size_t i = 0; i < c->n_redirect_uris; i++) {
        const char *r = c->redirect_uris[i];
        if (strlen(r) == len && memcmp(r, uri, len) == 0)
            return 1;
    }
    if (!S.wildcards)
        return 0;
    for (size_t i = 0; i < c->n_redirect_uris; i++) {
        const char *r = c->redirect_uris[i];
        if (strpbrk(r, "*?") != NULL && wildcard_match(r, uri, len))
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * The public key hash.
 */

int esg_clients_key_hash(const json_t *jwk, char out[65])
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const json_t *a = NULL, *b = NULL;
    unsigned char md[32];
    unsigned int md_len = 0;
    if (kty != NULL && strcmp(kty, "RSA") == 0) {
        a = json_object_get(jwk, "n");
    } else if (kty != NULL && strcmp(kty, "EC") == 0) {
        a = json_object_get(jwk, "x");
        b = json_object_get(jwk, "y");
        if (!json_is_string(b))
            return ESP_EINVAL;
    }
    if (!json_is_string(a))
        return ESP_EINVAL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok =
        ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, json_string_value(a), json_string_length(a)) == 1 &&
        (b == NULL || EVP_DigestUpdate(ctx, json_string_value(b), json_string_length(b)) == 1) &&
        EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len == sizeof(md);
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ESP_EINTERNAL;
    esg_hex(md, sizeof(md), out);
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Clients.
 */

static void client_free(esg_client *c)
{
    free(c->id);
    free(c->rp_id);
    json_decref(c->name);
    free(c->logo_uri);
    strv_free(c->redirect_uris, c->n_redirect_uris);
    strv_free(c->claims, c->n_claims);
    strv_free(c->acrs, c->n_acrs);
    EVP_PKEY_free(c->public_key);
    free(c->public_key_alg);
    json_decref(c->public_jwk);
    EVP_PKEY_free(c->enc_key);
    free(c->enc_kid);
    json_decref(c->additional_config);
    free(c);
}

esg_client *esg_client_ref(esg_client *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void esg_client_unref(esg_client *c)
{
    if (c != NULL && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        client_free(c);
}

int esg_client_has_claim(const esg_client *c, const char *claim)
{
    return c != NULL && strv_has(c->claims, c->n_claims, claim);
}

const char *esg_client_name(const esg_client *c, const char *lang)
{
    const char *s = lang != NULL ? json_string_value(json_object_get(c->name, lang)) : NULL;
    if (s == NULL)
        s = json_string_value(json_object_get(c->name, "@none"));
    return s != NULL ? s : c->id;
}

static char *dup_member(const json_t *doc, const char *name)
{
    const char *s = json_string_value(json_object_get(doc, name));
    return s != NULL ? strdup(s) : NULL;
}

/* Imports a stored public JWK (borrowed). *pkey gets its own reference; *jwk_alg and *kid are
 * copies of those members (NULL when absent or not asked for). */
static int import_key(const json_t *jwk, EVP_PKEY **pkey, char **jwk_alg, char **kid)
{
    esg_jwk *k = NULL;
    const char *why = NULL;
    int rc = esg_jwk_import(jwk, 0, &k, &why);
    if (rc != 0)
        return rc;
    *pkey = esg_jwk_pkey(k);
    EVP_PKEY_up_ref(*pkey);
    if (jwk_alg != NULL && esg_jwk_alg(k) != NULL && (*jwk_alg = strdup(esg_jwk_alg(k))) == NULL)
        rc = ESP_ENOMEM;
    if (kid != NULL && esg_jwk_kid(k) != NULL && (*kid = strdup(esg_jwk_kid(k))) == NULL)
        rc = ESP_ENOMEM;
    esg_jwk_free(k);
    return rc;
}

static int64_t doc_time_s(const json_t *doc, const char *name)
{
    const json_t *t = json_object_get(doc, name);
    int64_t ms = 0;
    if (!json_is_string(t) || esg_time_parse_iso(json_string_value(t), json_string_length(t), &ms))
        return 0;
    return ms / 1000;
}

/* Reads the settings of additional_config that the flows use (eSignet §6.3). */
static void derive_additional(esg_client *c)
{
    const json_t *a = c->additional_config;
    const char *type = json_string_value(json_object_get(a, "userinfo_response_type"));
    const json_t *mins = json_object_get(a, "consent_expire_in_mins");
    c->userinfo_type_set = type != NULL;
    c->userinfo_type =
        type != NULL && strcmp(type, "JWE") == 0 ? ESG_USERINFO_JWE : ESG_USERINFO_JWS;
    c->require_pkce = json_is_true(json_object_get(a, "require_pkce"));
    c->require_par = json_is_true(json_object_get(a, "require_pushed_authorization_requests"));
    c->dpop_bound = json_is_true(json_object_get(a, "dpop_bound_access_tokens"));
    c->consent_expire_mins = json_is_integer(mins) ? (long)json_integer_value(mins) : 0;
}

/* Builds a client from a stored document (borrowed). Returns 0, ESP_EINVAL or ESP_ENOMEM. */
static int client_from_doc(const json_t *doc, esg_client **out)
{
    esg_client *c = calloc(1, sizeof(*c));
    const json_t *name = json_object_get(doc, "name");
    const json_t *enc = json_object_get(doc, "enc_public_key");
    const json_t *extra = json_object_get(doc, "additional_config");
    const char *status = json_string_value(json_object_get(doc, "status"));
    int rc = ESP_ENOMEM;
    if (c == NULL)
        return ESP_ENOMEM;
    atomic_init(&c->refs, 1);
    c->id = dup_member(doc, "id");
    c->rp_id = dup_member(doc, "rp_id");
    c->logo_uri = dup_member(doc, "logo_uri");
    c->name = json_is_object(name) ? json_deep_copy(name) : json_object();
    c->public_jwk = json_deep_copy(json_object_get(doc, "public_key"));
    c->additional_config = json_is_object(extra) ? json_deep_copy(extra) : json_object();
    if (c->name == NULL || c->additional_config == NULL)
        goto fail;
    rc = ESP_EINVAL;
    if (c->id == NULL || c->rp_id == NULL || c->public_jwk == NULL || status == NULL)
        goto fail;
    c->active = strcmp(status, "ACTIVE") == 0;
    if ((rc = strv_from_json(json_object_get(doc, "redirect_uris"), NULL, &c->redirect_uris,
                             &c->n_redirect_uris)) != 0 ||
        (rc = strv_from_json(json_object_get(doc, "claims"), NULL, &c->claims, &c->n_claims)) !=
            0 ||
        (rc = strv_from_json(json_object_get(doc, "acr_values"), NULL, &c->acrs, &c->n_acrs)) != 0)
        goto fail;
    if ((rc = import_key(c->public_jwk, &c->public_key, &c->public_key_alg, NULL)) != 0)
        goto fail;
    if (json_is_object(enc) && (rc = import_key(enc, &c->enc_key, NULL, &c->enc_kid)) != 0)
        goto fail;
    derive_additional(c);
    c->created_at = doc_time_s(doc, "cr_dtimes");
    c->updated_at = doc_time_s(doc, "upd_dtimes");
    *out = c;
    return 0;
fail:
    client_free(c);
    return rc;
}

/* A record request for the client `id` (borrowed) of the collection. */
static esp_rec_request record_key(const char *id, size_t len)
{
    esp_rec_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.collection = esg_str(COLLECTION);
    req.key = (esp_str){id, len};
    return req;
}

/* Parses a stored record's document into *doc (owned by the caller). */
static int record_doc(const void *result, json_t **doc)
{
    const esp_rec_result *r = result;
    if (r == NULL || r->n_records != 1)
        return ESP_EINTERNAL;
    json_t *d = json_loadb(r->records[0]->doc_json.ptr, r->records[0]->doc_json.len,
                           JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(d)) {
        json_decref(d);
        return ESP_EINTERNAL;
    }
    *doc = d;
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * The cache: chained buckets under one mutex. Lookups and insertions are short (no allocation of
 * clients, no freeing under the lock), so one lock shared by every loop is enough.
 */

typedef struct cache_entry {
    struct cache_entry *next;
    esg_client *client; /* one reference, owned by the entry */
    int64_t expires_ms; /* esg_now_ms() */
} cache_entry;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cache_entry *cache_buckets[CACHE_BUCKETS];
static size_t cache_count;
static uint64_t cache_epoch; /* advanced by every eviction */
static int64_t cache_swept_ms;

static size_t bucket_of(const char *id, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: ids of registered clients only */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)id[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h % CACHE_BUCKETS);
}

/* Unlinks the entry for id (under cache_mu) and returns its client for unref outside. */
static esg_client *cache_unlink(const char *id, size_t len)
{
    cache_entry **pp = &cache_buckets[bucket_of(id, len)];
    for (; *pp != NULL; pp = &(*pp)->next) {
        cache_entry *e = *pp;
        if (strlen(e->client->id) == len && memcmp(e->client->id, id, len) == 0) {
            esg_client *c = e->client;
            *pp = e->next;
            free(e);
            cache_count--;
            return c;
        }
    }
    return NULL;
}

/*
 * Looks id up. Returns a new reference to a live entry's client, or NULL (an expired entry is
 * dropped); *epoch receives the epoch at the time of the lookup.
 */
static esg_client *cache_get(const char *id, size_t len, uint64_t *epoch)
{
    esg_client *hit = NULL, *stale = NULL;
    int64_t now = esg_now_ms();
    pthread_mutex_lock(&cache_mu);
    *epoch = cache_epoch;
    for (cache_entry *e = cache_buckets[bucket_of(id, len)]; e != NULL; e = e->next) {
        if (strlen(e->client->id) == len && memcmp(e->client->id, id, len) == 0) {
            if (e->expires_ms > now)
                hit = esg_client_ref(e->client);
            else
                stale = cache_unlink(id, len);
            break;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    esg_client_unref(stale);
    return hit;
}

/* Frees a list of entries unlinked from the cache, outside cache_mu. */
static void free_entries(cache_entry *list)
{
    while (list != NULL) {
        cache_entry *e = list;
        list = e->next;
        esg_client_unref(e->client);
        free(e);
    }
}

/*
 * Under cache_mu: unlinks every entry when `all`, else the expired ones, and returns them for
 * free_entries().
 */
static cache_entry *cache_detach(int all, int64_t now)
{
    cache_entry *out = NULL;
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        cache_entry **pp = &cache_buckets[b];
        while (*pp != NULL) {
            cache_entry *e = *pp;
            if (!all && e->expires_ms > now) {
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            e->next = out;
            out = e;
            cache_count--;
        }
    }
    return out;
}

/*
 * Caches `c` (a new reference is taken) unless an eviction happened since `epoch`. A full cache
 * drops its expired entries first, at most once a second; if it is still full, `c` is not cached.
 */
static void cache_put(esg_client *c, uint64_t epoch)
{
    size_t len = strlen(c->id);
    cache_entry *e = malloc(sizeof(*e)), *stale = NULL;
    esg_client *old = NULL;
    int64_t now = esg_now_ms();
    if (e == NULL)
        return;
    pthread_mutex_lock(&cache_mu);
    if (cache_count >= CACHE_MAX && now - cache_swept_ms >= 1000) {
        cache_swept_ms = now;
        stale = cache_detach(0, now);
    }
    if (cache_epoch != epoch || cache_count >= CACHE_MAX) {
        pthread_mutex_unlock(&cache_mu);
        free(e);
        free_entries(stale);
        return;
    }
    old = cache_unlink(c->id, len);
    size_t b = bucket_of(c->id, len);
    e->client = esg_client_ref(c);
    e->expires_ms = now + CACHE_TTL_MS;
    e->next = cache_buckets[b];
    cache_buckets[b] = e;
    cache_count++;
    pthread_mutex_unlock(&cache_mu);
    esg_client_unref(old);
    free_entries(stale);
}

static void cache_evict(const char *id)
{
    pthread_mutex_lock(&cache_mu);
    cache_epoch++;
    esg_client *old = cache_unlink(id, strlen(id));
    pthread_mutex_unlock(&cache_mu);
    esg_client_unref(old);
}

void esg_clients_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    cache_epoch++;
    cache_entry *all = cache_detach(1, 0);
    pthread_mutex_unlock(&cache_mu);
    free_entries(all);
}

/* ------------------------------------------------------------------------------------------------
 * Look-ups for the flows.
 */

typedef struct get_op {
    esg_task task; /* delivery of a cache hit or a failed start, posted to the loop */
    esg_client_cb cb;
    void *ud;
    int status;
    esg_client *client; /* owned until delivered */
    uint64_t epoch;
    char id[];
} get_op;

/* Calls back with the outcome: inactive clients are reported as not found. Frees the op. */
static void get_finish(get_op *op, int status, esg_client *c)
{
    if (status == 0 && !c->active) {
        esg_client_unref(c);
        c = NULL;
        status = ESP_ENOTFOUND;
    }
    op->cb(op->ud, status, status == 0 ? c : NULL);
    free(op);
}

static void get_posted(esg_task *task)
{
    get_op *op = (get_op *)((char *)task - offsetof(get_op, task));
    get_finish(op, op->status, op->client);
}

static void get_stored(void *ud, int status, const char *code, const void *result)
{
    get_op *op = ud;
    esg_client *c = NULL;
    json_t *doc = NULL;
    (void)code;
    if (status == 0 && (status = record_doc(result, &doc)) == 0)
        status = client_from_doc(doc, &c);
    json_decref(doc);
    if (status == ESP_EINVAL || status == ESP_EINTERNAL) {
        esg_log_kv kv[] = {ESG_KV_STR("client_id", op->id)};
        esg_log_event(ESP_LOG_ERROR, "clients.corrupt", kv, 1);
        status = ESP_EINTERNAL;
    }
    if (status == 0)
        cache_put(c, op->epoch);
    get_finish(op, status, c);
}

int esg_clients_get(const char *client_id, esg_client_cb cb, void *ud)
{
    size_t len = client_id != NULL ? strlen(client_id) : 0;
    esg_loop *loop = esg_loop_current();
    if (len == 0 || len > CLIENT_ID_MAX_BYTES || cb == NULL || loop == NULL)
        return ESP_EINVAL;
    get_op *op = calloc(1, sizeof(*op) + len + 1);
    if (op == NULL)
        return ESP_ENOMEM;
    memcpy(op->id, client_id, len);
    op->cb = cb;
    op->ud = ud;
    op->task.run = get_posted;
    op->client = cache_get(client_id, len, &op->epoch);
    if (op->client != NULL) {
        esg_loop_post(loop, &op->task);
        return 0;
    }
    esp_rec_request req = record_key(op->id, len);
    int rc = esg_rec(ESP_REC_GET, &req, get_stored, op);
    if (rc != 0) {
        /* The contract promises a later callback for every accepted id, so a store that cannot
         * take the call is reported through the loop as well. */
        op->status = rc;
        esg_loop_post(loop, &op->task);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Writes and raw reads for the management API.
 */

typedef struct write_op {
    esg_clients_done_cb cb;
    void *ud;
    char id[];
} write_op;

static void write_finish(write_op *op, int status)
{
    if (status == 0)
        cache_evict(op->id);
    op->cb(op->ud, status);
    free(op);
}

/* Starts a record put of `doc` in `mode` with its index values; `done` receives `op`. */
static int put_doc(const json_t *doc, uint32_t mode, esg_call_cb done, esg_clients_done_cb cb,
                   void *ud)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    const char *hash = json_string_value(json_object_get(doc, "public_key_hash"));
    const char *rp = json_string_value(json_object_get(doc, "rp_id"));
    if (id == NULL || hash == NULL || rp == NULL || cb == NULL || strlen(id) > CLIENT_ID_MAX_BYTES)
        return ESP_EINVAL;
    char *text = json_dumps(doc, JSON_COMPACT);
    write_op *op = calloc(1, sizeof(*op) + strlen(id) + 1);
    int rc = ESP_ENOMEM;
    if (text == NULL || op == NULL)
        goto out;
    strcpy(op->id, id);
    op->cb = cb;
    op->ud = ud;
    esp_rec_index by_key = {sizeof(by_key), esg_str("public_key_hash"), esg_str(hash), 1};
    esp_rec_index by_rp = {sizeof(by_rp), esg_str("rp_id"), esg_str(rp), 0};
    const esp_rec_index *indexes[] = {&by_key, &by_rp};
    esp_rec_request req = record_key(id, strlen(id));
    req.doc_json = esg_str(text);
    req.mode = mode;
    req.indexes = indexes;
    req.n_indexes = 2;
    rc = esg_rec(ESP_REC_PUT, &req, done, op);
    if (rc == 0)
        op = NULL; /* owned by the call now */
out:
    free(op);
    free(text);
    return rc;
}

/* After an insert failed with EEXIST: tells a taken id from a taken public key hash. */
static void insert_probed(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    write_op *op = ud;
    op->cb(op->ud, status == 0               ? ESP_EEXIST
                   : status == ESP_ENOTFOUND ? ESP_EDUPLICATE_KEY
                                             : status);
    free(op);
}

static void insert_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    write_op *op = ud;
    if (status == ESP_EEXIST) {
        esp_rec_request req = record_key(op->id, strlen(op->id));
        int rc = esg_rec(ESP_REC_GET, &req, insert_probed, op);
        if (rc == 0)
            return;
        status = rc;
    }
    write_finish(op, status);
}

int esg_clients_insert(const json_t *doc, esg_clients_done_cb cb, void *ud)
{
    return put_doc(doc, ESP_REC_INSERT, insert_done, cb, ud);
}

static void replace_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    (void)result;
    write_finish(ud, status);
}

int esg_clients_replace(const json_t *doc, esg_clients_done_cb cb, void *ud)
{
    return put_doc(doc, ESP_REC_UPDATE, replace_done, cb, ud);
}

typedef struct load_op {
    esg_clients_doc_cb cb;
    void *ud;
} load_op;

static void load_done(void *ud, int status, const char *code, const void *result)
{
    load_op *op = ud;
    json_t *doc = NULL;
    (void)code;
    if (status == 0)
        status = record_doc(result, &doc);
    op->cb(op->ud, status, doc);
    free(op);
}

int esg_clients_load(const char *client_id, esg_clients_doc_cb cb, void *ud)
{
    size_t len = client_id != NULL ? strlen(client_id) : 0;
    if (len == 0 || len > CLIENT_ID_MAX_BYTES || cb == NULL)
        return ESP_EINVAL;
    load_op *op = malloc(sizeof(*op));
    if (op == NULL)
        return ESP_ENOMEM;
    op->cb = cb;
    op->ud = ud;
    esp_rec_request req = record_key(client_id, len);
    int rc = esg_rec(ESP_REC_GET, &req, load_done, op);
    if (rc != 0)
        free(op);
    return rc;
}
