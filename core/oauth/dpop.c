#include "oauth/dpop.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <esignet/plugin.h>

#include "jose/jws.h"
#include "jose/jwt.h"
#include "util/b64.h"
#include "util/clock.h"
#include "util/str.h"

/* ------------------------------------------------------------------------------------------------
 * htu normalisation (RFC 3986 §6.2.2, §6.2.3).
 */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int is_alnum(int c)
{
    c = lower(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_unreserved(int c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 §2: unreserved, reserved and '%'. */
static int is_uri_char(int c)
{
    return is_unreserved(c) || (c != 0 && strchr(":/?#[]@!$&'()*+,;=%", c) != NULL);
}

/* Appends one path segment ("/seg") to out, or applies "." and ".." (RFC 3986 §5.2.4). */
static void put_segment(char *out, size_t *len, const char *seg, size_t n, int last)
{
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        while (*len > 0 && out[*len - 1] != '/')
            (*len)--;
        if (*len > 0)
            (*len)--;
    }
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
        if (last)
            out[(*len)++] = '/';
        return;
    }
    out[(*len)++] = '/';
    memcpy(out + *len, seg, n);
    *len += n;
}

/*
 * Writes the path [p, p+n) (empty, or starting with '/') to out with percent-encodings normalised
 * and dot segments removed. `tmp` has room for n bytes. Returns the length or -1.
 */
static long put_path(const char *p, size_t n, char *tmp, char *out)
{
    size_t t = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%') {
            tmp[t++] = p[i];
            continue;
        }
        if (i + 2 >= n)
            return -1;
        int hi = hex_value((unsigned char)p[i + 1]), lo = hex_value((unsigned char)p[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        int c = hi * 16 + lo;
        if (is_unreserved(c)) {
            tmp[t++] = (char)c;
        } else {
            tmp[t++] = '%';
            tmp[t++] = "0123456789ABCDEF"[hi];
            tmp[t++] = "0123456789ABCDEF"[lo];
        }
        i += 2;
    }
    if (t == 0) {
        out[0] = '/';
        return 1;
    }
    for (size_t i = 0; i < t;) {
        size_t j = i + 1;
        while (j < t && tmp[j] != '/')
            j++;
        put_segment(out, &len, tmp + i + 1, j - i - 1, j == t);
        i = j;
    }
    return (long)len;
}

int esg_dpop_htu_normalize(const char *in, size_t n, char *out, size_t out_size)
{
    size_t i = 0, len = 0;
    char tmp[ESG_DPOP_MAX_HTU];

    if (in == NULL || out == NULL || out_size < n + 2 || n > ESG_DPOP_MAX_HTU)
        return ESP_EINVAL;
    for (size_t k = 0; k < n; k++) {
        if (in[k] == '?' || in[k] == '#') {
            n = k;
            break;
        }
        if (!is_uri_char((unsigned char)in[k]))
            return ESP_EINVAL;
    }
    /* Scheme. */
    while (i < n && in[i] != ':')
        i++;
    if (i == 4 && strncasecmp(in, "http", 4) == 0) {
        memcpy(out, "http", 4);
    } else if (i == 5 && strncasecmp(in, "https", 5) == 0) {
        memcpy(out, "https", 5);
    } else {
        return ESP_EINVAL;
    }
    int https = i == 5;
    len = i;
    if (n - i < 3 || in[i + 1] != '/' || in[i + 2] != '/')
        return ESP_EINVAL;
    memcpy(out + len, "://", 3);
    len += 3;
    i += 3;
    /* Authority: host, then an optional port. */
    size_t a = i;
    while (i < n && in[i] != '/')
        i++;
    const char *auth = in + a;
    size_t alen = i - a, h = 0;
    if (alen == 0 || memchr(auth, '@', alen) != NULL || memchr(auth, '%', alen) != NULL)
        return ESP_EINVAL;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (close == NULL)
            return ESP_EINVAL;
        h = (size_t)(close - auth) + 1;
    } else {
        while (h < alen && auth[h] != ':')
            h++;
    }
    if (h == 0 || (h < alen && auth[h] != ':'))
        return ESP_EINVAL;
    for (size_t k = 0; k < h; k++)
        out[len++] = (char)lower((unsigned char)auth[k]);
    if (h < alen) {
        unsigned long port = 0;
        for (size_t k = h + 1; k < alen; k++) {
            if (auth[k] < '0' || auth[k] > '9')
                return ESP_EINVAL;
            port = port * 10 + (unsigned long)(auth[k] - '0');
            if (port > 65535)
                return ESP_EINVAL;
        }
        if (h + 1 < alen && port != (https ? 443u : 80u)) {
            char digits[8];
            int d = snprintf(digits, sizeof(digits), ":%lu", port);
            memcpy(out + len, digits, (size_t)d);
            len += (size_t)d;
        }
    }
    long plen = put_path(in + i, n - i, tmp, out + len);
    if (plen < 0 || len + (size_t)plen >= out_size)
        return ESP_EINVAL;
    len += (size_t)plen;
    out[len] = '\0';
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Proof verification.
 */

const char *esg_dpop_error_code(esg_dpop_error e)
{
    switch (e) {
    case ESG_DPOP_ERR_INVALID_PROOF:
        return "invalid_dpop_proof";
    case ESG_DPOP_ERR_USE_NONCE:
        return "use_dpop_nonce";
    case ESG_DPOP_ERR_SERVER:
        return "server_error";
    default:
        return "";
    }
}

/* Records a refusal and returns `status`. */
static int refuse(esg_dpop_result *out, int status, esg_dpop_error e, const char *reason)
{
    out->error = e;
    out->reason = reason;
    return status;
}

static int invalid(esg_dpop_result *out, const char *reason)
{
    return refuse(out, ESP_EINVAL, ESG_DPOP_ERR_INVALID_PROOF, reason);
}

/* A failure reported by the JOSE layer: a bad proof, unless the server ran out of something. */
static int jose_refuse(esg_dpop_result *out, int rc, const char *why, const char *fallback)
{
    if (rc == ESP_ENOMEM || rc == ESP_EINTERNAL)
        return refuse(out, rc, ESG_DPOP_ERR_SERVER, why != NULL ? why : "DPoP check failed");
    return refuse(out, rc == ESP_ETOOBIG ? ESP_ETOOBIG : ESP_EINVAL, ESG_DPOP_ERR_INVALID_PROOF,
                  why != NULL ? why : fallback);
}

/* Claim `name` as a string without NUL bytes: 1, 0 when absent, -1 when of another type. */
static int claim_str(const json_t *claims, const char *name, const char **s, size_t *n)
{
    const json_t *v = json_object_get(claims, name);
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return -1;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return strlen(*s) == *n ? 1 : -1;
}

/* Why esg_jwt_claims_check() refused the claims, in DPoP terms. */
static const char *claims_reason(esg_jwt_error e, const char *claim)
{
    static const char *const missing[][2] = {{"jti", "DPoP proof has no jti"},
                                             {"htm", "DPoP proof has no htm"},
                                             {"htu", "DPoP proof has no htu"},
                                             {"iat", "DPoP proof has no iat"}};
    for (size_t i = 0; e == ESG_JWT_ERR_MISSING && claim != NULL && i < 4; i++) {
        if (strcmp(claim, missing[i][0]) == 0)
            return missing[i][1];
    }
    switch (e) {
    case ESG_JWT_ERR_IAT_FUTURE:
        return "DPoP proof iat is in the future";
    case ESG_JWT_ERR_TOO_OLD:
        return "DPoP proof iat is too old";
    case ESG_JWT_ERR_CLAIM_TYPE:
        return "DPoP proof claim has the wrong type";
    default:
        return esg_jwt_error_str(e);
    }
}

/* RFC 9449 §8.1: nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E. */
static int nonce_valid(const char *s, size_t n)
{
    if (n == 0 || n > ESG_DPOP_MAX_NONCE)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

/* A jti the caller can store: 1 to ESG_DPOP_MAX_JTI bytes, no control characters. */
static int jti_valid(const char *s, size_t n)
{
    if (n == 0 || n > ESG_DPOP_MAX_JTI)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* The payload checks after the signature: registered claims, htm, htu, ath. */
static int check_claims(const esg_dpop_request *req, const json_t *claims, const char *want_htu,
                        esg_dpop_result *out)
{
    static const char *const required[] = {"jti", "htm", "htu", "iat", NULL};
    esg_jwt_rules rules = {req->now, req->skew, 0, req->max_age, NULL, NULL, required, 0};
    esg_jwt_error jerr = ESG_JWT_OK;
    const char *claim = NULL, *s = NULL;
    size_t n = 0;
    char got_htu[ESG_DPOP_MAX_HTU + 2];

    if (esg_jwt_claims_check(claims, &rules, &jerr, &claim) != 0)
        return invalid(out, claims_reason(jerr, claim));
    if (claim_str(claims, "jti", &s, &n) != 1 || !jti_valid(s, n))
        return invalid(out, "DPoP proof jti is empty, too long or not printable");
    memcpy(out->jti, s, n);
    out->jti[n] = '\0';
    const json_t *iat = json_object_get(claims, "iat");
    out->iat =
        json_is_integer(iat) ? (int64_t)json_integer_value(iat) : (int64_t)json_real_value(iat);
    if (claim_str(claims, "htm", &s, &n) != 1)
        return invalid(out, "DPoP proof htm is not a string");
    if (strlen(req->method) != n || memcmp(s, req->method, n) != 0)
        return invalid(out, "DPoP proof htm does not match the request method");
    if (claim_str(claims, "htu", &s, &n) != 1 ||
        esg_dpop_htu_normalize(s, n, got_htu, sizeof(got_htu)) != 0)
        return invalid(out, "DPoP proof htu is not an http or https URL");
    if (strcmp(got_htu, want_htu) != 0)
        return invalid(out, "DPoP proof htu does not match the request URL");
    if (req->access_token != NULL) {
        unsigned char md[32];
        unsigned int md_len = 0;
        char ath[ESG_JWK_THUMBPRINT_LEN + 1];
        int has = claim_str(claims, "ath", &s, &n);
        if (has == 0)
            return invalid(out, "DPoP proof has no ath for the access token");
        if (has < 0)
            return invalid(out, "DPoP proof ath is not a string");
        if (EVP_Digest(req->access_token, req->access_token_len, md, &md_len, EVP_sha256(), NULL) !=
                1 ||
            md_len != sizeof(md))
            return refuse(out, ESP_EINTERNAL, ESG_DPOP_ERR_SERVER, "SHA-256 failed");
        esg_b64url_encode_to(md, sizeof(md), ath);
        if (!esg_ct_equal(s, n, ath, ESG_JWK_THUMBPRINT_LEN))
            return invalid(out, "DPoP proof ath does not match the access token");
    }
    return 0;
}

/* The nonce: its syntax always, its value when the caller expects one (RFC 9449 §8, §11.3). */
static int check_nonce(const esg_dpop_request *req, const json_t *claims, esg_dpop_result *out)
{
    const char *s = NULL;
    size_t n = 0;
    int has = claim_str(claims, "nonce", &s, &n);
    if (has < 0 || (has > 0 && !nonce_valid(s, n)))
        return invalid(out, "DPoP proof nonce is malformed");
    if (has > 0) {
        memcpy(out->nonce, s, n);
        out->nonce[n] = '\0';
    }
    if (req->nonce == NULL)
        return 0;
    if (has == 0)
        return refuse(out, ESP_EINVAL, ESG_DPOP_ERR_USE_NONCE, "DPoP proof has no nonce");
    if (!esg_ct_equal(s, n, req->nonce, strlen(req->nonce)))
        return refuse(out, ESP_EINVAL, ESG_DPOP_ERR_USE_NONCE,
                      "DPoP proof nonce is not the current one");
    return 0;
}

int esg_dpop_verify(const esg_dpop_request *req, esg_dpop_result *out)
{
    int rc;
    esg_jws jws = ESG_JWS_INIT;
    esg_jwk *key = NULL;
    json_t *claims = NULL;
    const char *why = NULL;
    esg_jwt_error jerr = ESG_JWT_OK;
    char want_htu[ESG_DPOP_MAX_HTU + 2];

    memset(out, 0, sizeof(*out));
    esg_jws_alg_set algs = req->algs & ESG_JWS_ALGS_ALL;
    if (req->method == NULL || req->method[0] == '\0' || req->htu == NULL || req->max_age <= 0 ||
        req->skew < 0 || algs == 0 ||
        esg_dpop_htu_normalize(req->htu, strlen(req->htu), want_htu, sizeof(want_htu)) != 0)
        return refuse(out, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, "DPoP check is misconfigured");
    if (req->proof == NULL || req->proof_len == 0)
        return invalid(out, "DPoP proof is empty");
    if (req->proof_len > ESG_DPOP_MAX_PROOF)
        return refuse(out, ESP_ETOOBIG, ESG_DPOP_ERR_INVALID_PROOF, "DPoP proof is too large");

    /* The JWS, its type and its key (RFC 9449 §4.3 points 2 and 4 to 7). */
    esg_jws_opts opts = {algs, NULL, 0, ESG_DPOP_MAX_PROOF, ESG_DPOP_MAX_HEADER};
    if ((rc = esg_jws_parse(req->proof, req->proof_len, &opts, &jws, &why)) != 0) {
        rc = jose_refuse(out, rc, why, "DPoP proof is not a compact JWS");
        goto done;
    }
    const json_t *typ = json_object_get(jws.header, "typ");
    if (!json_is_string(typ) || json_string_length(typ) != 8 ||
        memcmp(json_string_value(typ), "dpop+jwt", 8) != 0) {
        rc = invalid(out, "DPoP proof typ is not dpop+jwt");
        goto done;
    }
    const json_t *jwk = json_object_get(jws.header, "jwk");
    if (jwk == NULL) {
        rc = invalid(out, "DPoP proof has no jwk header");
        goto done;
    }
    if (esg_jwk_json_has_private(jwk)) {
        rc = invalid(out, "DPoP proof jwk holds a private key");
        goto done;
    }
    if ((rc = esg_jwk_import(jwk, 0, &key, &why)) != 0 ||
        (rc = esg_jwk_check_use(key, ESG_JWK_OP_VERIFY, esg_jws_alg_name(jws.alg), &why)) != 0 ||
        (rc = esg_jws_verify_parsed(&jws, esg_jwk_pkey(key), &opts, &why)) != 0) {
        rc = jose_refuse(out, rc, why, "DPoP proof signature does not verify");
        goto done;
    }

    /* The claims (points 3, 8, 9, 11 and the ath of 12). */
    if (esg_jwt_claims_parse(jws.payload, jws.payload_len, &claims, &jerr) != 0) {
        rc = invalid(out, "DPoP proof claims are not a JSON object");
        goto done;
    }
    if ((rc = check_claims(req, claims, want_htu, out)) != 0)
        goto done;

    /* The key binding (point 12, RFC 9449 §10), then the nonce (point 10). */
    if ((rc = esg_jwk_thumbprint(key, out->jkt, sizeof(out->jkt))) != 0) {
        rc = jose_refuse(out, rc, NULL, "DPoP proof key has no thumbprint");
        goto done;
    }
    if (req->jkt != NULL &&
        !esg_ct_equal(out->jkt, ESG_JWK_THUMBPRINT_LEN, req->jkt, strlen(req->jkt))) {
        rc = invalid(out, "DPoP proof key is not the bound key (jkt)");
        goto done;
    }
    rc = check_nonce(req, claims, out);
done:
    json_decref(claims);
    esg_jwk_free(key);
    esg_jws_clear(&jws);
    return rc;
}
