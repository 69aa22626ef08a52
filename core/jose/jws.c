#include "jose/jws.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/internal.h"
#include "util/b64.h"
#include "util/str.h"

/* ------------------------------------------------------------------------------------------------
 * ECDSA signature encodings.
 */

/* Appends a DER INTEGER holding the unsigned big-endian `v` (n bytes) at der[*pos]. */
static void der_uint(const uint8_t *v, size_t n, uint8_t *der, size_t *pos)
{
    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    int pad = (v[0] & 0x80) != 0;
    der[(*pos)++] = 0x02;
    der[(*pos)++] = (uint8_t)(n + (size_t)pad);
    if (pad)
        der[(*pos)++] = 0x00;
    memcpy(der + *pos, v, n);
    *pos += n;
}

int esg_jws_ecdsa_raw_to_der(const uint8_t *raw, size_t raw_len, uint8_t *der, size_t *der_len)
{
    if (raw_len != 64 && raw_len != 96 && raw_len != 132)
        return ESP_EINVAL;
    size_t half = raw_len / 2;
    uint8_t body[2 * (2 + 1 + 66)];
    size_t blen = 0;
    der_uint(raw, half, body, &blen);
    der_uint(raw + half, half, body, &blen);
    size_t pos = 0;
    der[pos++] = 0x30;
    if (blen >= 0x80)
        der[pos++] = 0x81;
    der[pos++] = (uint8_t)blen;
    memcpy(der + pos, body, blen);
    *der_len = pos + blen;
    return 0;
}

int esg_jws_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t coord_len, uint8_t *raw)
{
    int rc = ESP_EINVAL;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL || p != der + der_len)
        goto done;
    const BIGNUM *r = ECDSA_SIG_get0_r(sig), *s = ECDSA_SIG_get0_s(sig);
    if ((size_t)BN_num_bytes(r) > coord_len || (size_t)BN_num_bytes(s) > coord_len ||
        BN_bn2binpad(r, raw, (int)coord_len) < 0 ||
        BN_bn2binpad(s, raw + coord_len, (int)coord_len) < 0)
        goto done;
    rc = 0;
done:
    ECDSA_SIG_free(sig);
    return rc;
}

/* ------------------------------------------------------------------------------------------------
 * Signing.
 */

/* Digest-sign or digest-verify context for `info` with the padding JOSE requires. */
static int init_ctx(EVP_MD_CTX *ctx, EVP_PKEY *pkey, const esg_jose_alg_info *info, int sign)
{
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = info->md != NULL ? esg_jose_md(info->md) : NULL;
    if (info->md != NULL && md == NULL)
        return 0;
    int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey)
                  : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey);
    if (ok != 1)
        return 0;
    if (info->family == JOSE_FAM_RSA)
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    if (info->family == JOSE_FAM_RSA_PSS)
        /* RFC 7518 §3.5: salt as long as the hash, MGF1 with the same hash (the default). */
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    return 1;
}

int esg_jws_sign_raw(EVP_PKEY *pkey, const char *alg, const void *data, size_t n, esg_buf *sig)
{
    int rc = ESP_EINTERNAL;
    esg_jws_alg a;
    EVP_MD_CTX *ctx = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    if (pkey == NULL || alg == NULL || esg_jws_alg_from_name(alg, strlen(alg), &a) != 0)
        return ESP_EINVAL;
    const esg_jose_alg_info *info = esg_jose_alg_info_get(a);
    if (!esg_jose_key_fits(pkey, info))
        return ESP_EINVAL;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (!init_ctx(ctx, pkey, info, 1) ||
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)data, n) != 1)
        goto done;
    if (info->family != JOSE_FAM_EC) {
        if ((rc = esg_buf_reserve(sig, len)) != 0)
            goto done;
        if (EVP_DigestSign(ctx, (unsigned char *)sig->data + sig->len, &len,
                           (const unsigned char *)data, n) != 1) {
            rc = ESP_EINTERNAL;
            goto done;
        }
        sig->len += len;
        rc = 0;
        goto done;
    }
    /* ECDSA: OpenSSL writes DER; JOSE wants R||S of fixed width (RFC 7518 §3.4). */
    der = malloc(len);
    if (der == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (EVP_DigestSign(ctx, der, &len, (const unsigned char *)data, n) != 1)
        goto done;
    if ((rc = esg_buf_reserve(sig, 2 * info->coord_len)) != 0)
        goto done;
    if (esg_jws_ecdsa_der_to_raw(der, len, info->coord_len, (uint8_t *)sig->data + sig->len) != 0) {
        rc = ESP_EINTERNAL;
        goto done;
    }
    sig->len += 2 * info->coord_len;
    rc = 0;
done:
    if (sig->data != NULL)
        sig->data[sig->len] = '\0';
    free(der);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int esg_jws_signing_input(const json_t *header, const void *payload, size_t n, esg_buf *out)
{
    if (!json_is_object(header) || !json_is_string(json_object_get(header, "alg")))
        return ESP_EINVAL;
    char *h = json_dumps(header, JSON_COMPACT);
    if (h == NULL)
        return ESP_ENOMEM;
    int rc = esg_b64url_encode(out, h, strlen(h));
    if (rc == 0)
        rc = esg_buf_putc(out, '.');
    if (rc == 0)
        rc = esg_b64url_encode(out, payload, n);
    free(h);
    return rc;
}

int esg_jws_compact_append(esg_buf *inout, const void *sig, size_t n)
{
    int rc = esg_buf_putc(inout, '.');
    if (rc == 0)
        rc = esg_b64url_encode(inout, sig, n);
    return rc;
}

int esg_jws_sign(EVP_PKEY *pkey, const json_t *header, const void *payload, size_t n, esg_buf *out)
{
    esg_buf sig = ESG_BUF_INIT;
    size_t start = out->len;
    int rc = esg_jws_signing_input(header, payload, n, out);
    if (rc != 0)
        goto done;
    rc = esg_jws_sign_raw(pkey, json_string_value(json_object_get(header, "alg")),
                          out->data + start, out->len - start, &sig);
    if (rc == 0)
        rc = esg_jws_compact_append(out, sig.data, sig.len);
done:
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    esg_buf_free(&sig);
    return rc;
}

/* ------------------------------------------------------------------------------------------------
 * Parsing.
 */

void esg_jws_clear(esg_jws *jws)
{
    if (jws == NULL)
        return;
    json_decref(jws->header);
    free(jws->buf_);
    memset(jws, 0, sizeof(*jws));
}

int esg_jws_parse(const char *token, size_t len, const esg_jws_opts *opts, esg_jws *out,
                  const char **reason)
{
    int rc = ESP_EINVAL;
    esg_jws j = ESG_JWS_INIT;
    size_t max_token = opts->max_token != 0 ? opts->max_token : ESG_JWS_DEFAULT_MAX_TOKEN;
    size_t max_header = opts->max_header != 0 ? opts->max_header : ESG_JWS_DEFAULT_MAX_HEADER;
    const char *dot1, *dot2;
    size_t pos = 0;

    memset(out, 0, sizeof(*out));
    if (max_token > ESG_JWS_MAX_TOKEN_LIMIT)
        max_token = ESG_JWS_MAX_TOKEN_LIMIT;
    if (token == NULL || len == 0) {
        rc = jose_fail(reason, "empty token", ESP_EINVAL);
        goto done;
    }
    if (len > max_token) {
        rc = jose_fail(reason, "token too large", ESP_ETOOBIG);
        goto done;
    }
    dot1 = memchr(token, '.', len);
    dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL) {
        rc = jose_fail(reason, "compact JWS needs exactly three parts", ESP_EINVAL);
        goto done;
    }
    /* One allocation holds the decoded header, then the payload and signature. */
    j.buf_ = malloc(esg_b64_decoded_max(len) + 3);
    if (j.buf_ == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if ((rc = esg_jose_header_parse(token, (size_t)(dot1 - token), max_header, j.buf_, &j.header,
                                    reason)) != 0)
        goto done;
    const char *alg;
    size_t alg_n;
    if (esg_jose_json_str(j.header, "alg", &alg, &alg_n) != 0) {
        rc = jose_fail(reason, "JWS header needs an alg string", ESP_EINVAL);
        goto done;
    }
    if (esg_jws_alg_from_name(alg, alg_n, &j.alg) != 0) {
        rc = jose_fail(reason, "JWS algorithm not supported", ESP_EINVAL);
        goto done;
    }
    if ((opts->algs & ESG_JWS_ALG_BIT(j.alg)) == 0) {
        rc = jose_fail(reason, "JWS algorithm not allowed", ESP_EINVAL);
        goto done;
    }
    if ((rc = esg_jose_check_crit(j.header, opts->crit,
                                  (opts->flags & ESG_JWS_ALLOW_UNENCODED_PAYLOAD) != 0, reason)) !=
        0)
        goto done;
    if ((rc = esg_jose_header_kid(j.header, &j.kid, reason)) != 0)
        goto done;
    if (j.kid != NULL)
        j.header_keys |= ESG_JWS_HDR_KID;
    j.header_keys |= (json_object_get(j.header, "jwk") ? ESG_JWS_HDR_JWK : 0) |
                     (json_object_get(j.header, "x5c") ? ESG_JWS_HDR_X5C : 0) |
                     (json_object_get(j.header, "jku") ? ESG_JWS_HDR_JKU : 0) |
                     (json_object_get(j.header, "x5u") ? ESG_JWS_HDR_X5U : 0);

    const char *pl = dot1 + 1;
    size_t pl_len = (size_t)(dot2 - pl);
    if (json_is_false(json_object_get(j.header, "b64"))) {
        /* RFC 7797: the payload is used as is; in compact form it only excludes '.'. */
        j.payload = (const uint8_t *)pl;
        j.payload_len = pl_len;
    } else if (esg_jose_decode_part(pl, pl_len, j.buf_, &pos, &j.payload, &j.payload_len) != 0) {
        rc = jose_fail(reason, "JWS payload is not base64url", ESP_EINVAL);
        goto done;
    }
    size_t sig_len = len - (size_t)(dot2 + 1 - token);
    if (sig_len == 0) {
        rc = jose_fail(reason, "JWS signature is empty", ESP_EINVAL);
        goto done;
    }
    if (esg_jose_decode_part(dot2 + 1, sig_len, j.buf_, &pos, &j.sig, &j.sig_len) != 0) {
        rc = jose_fail(reason, "JWS signature is not base64url", ESP_EINVAL);
        goto done;
    }
    j.signing_input = token;
    j.signing_input_len = (size_t)(dot2 - token);
    rc = 0;
done:
    if (rc != 0)
        esg_jws_clear(&j);
    else
        *out = j;
    return rc;
}

int esg_jws_verify_parsed(const esg_jws *jws, EVP_PKEY *key, const esg_jws_opts *opts,
                          const char **reason)
{
    int rc = ESP_EINTERNAL;
    EVP_MD_CTX *ctx = NULL;
    uint8_t der[ESG_JWS_ECDSA_DER_MAX];
    const uint8_t *sig = jws->sig;
    size_t sig_len = jws->sig_len;
    const esg_jose_alg_info *info = esg_jose_alg_info_get(jws->alg);

    if (info == NULL || (opts->algs & ESG_JWS_ALG_BIT(jws->alg)) == 0)
        return jose_fail(reason, "JWS algorithm not allowed", ESP_EINVAL);
    if (!esg_jose_key_fits(key, info))
        return jose_fail(reason, "key type does not fit the JWS algorithm", ESP_EINVAL);
    /* Exact signature lengths: anything else is malformed, never a "maybe". */
    switch (info->family) {
    case JOSE_FAM_RSA:
    case JOSE_FAM_RSA_PSS:
        if (sig_len != (size_t)EVP_PKEY_get_size(key))
            return jose_fail(reason, "JWS signature has the wrong length", ESP_EINVAL);
        break;
    case JOSE_FAM_EC:
        if (sig_len != 2 * info->coord_len ||
            esg_jws_ecdsa_raw_to_der(jws->sig, jws->sig_len, der, &sig_len) != 0)
            return jose_fail(reason, "JWS signature has the wrong length", ESP_EINVAL);
        sig = der;
        break;
    default:
        if (sig_len != (EVP_PKEY_is_a(key, "ED25519") ? 64u : 114u))
            return jose_fail(reason, "JWS signature has the wrong length", ESP_EINVAL);
        break;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (!init_ctx(ctx, key, info, 0)) {
        rc = jose_fail(reason, "cannot set up verification", ESP_EINTERNAL);
        goto done;
    }
    int ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws->signing_input,
                              jws->signing_input_len);
    rc = ok == 1 ? 0 : jose_fail(reason, "JWS signature does not verify", ESP_EAUTH);
done:
    EVP_MD_CTX_free(ctx);
    return rc;
}

int esg_jws_verify(const char *token, size_t len, EVP_PKEY *key, const esg_jws_opts *opts,
                   esg_jws *out, const char **reason)
{
    int rc = esg_jws_parse(token, len, opts, out, reason);
    if (rc == 0 && (rc = esg_jws_verify_parsed(out, key, opts, reason)) != 0)
        esg_jws_clear(out);
    return rc;
}

int esg_jws_untrusted_jwk(const esg_jws *jws, esg_jwk **out, const char **reason)
{
    *out = NULL;
    const json_t *jwk = json_object_get(jws->header, "jwk");
    if (jwk == NULL)
        return jose_fail(reason, "no jwk header parameter", ESP_ENOTFOUND);
    return esg_jwk_import(jwk, 0, out, reason);
}
