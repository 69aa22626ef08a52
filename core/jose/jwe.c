#include "jose/jwe.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/internal.h"
#include "jose/jws.h"
#include "util/b64.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/str.h"

#define MAX_RSA_BYTES 1024 /* 8192-bit modulus */

/* What each "enc" needs. */
typedef struct enc_info {
    int gcm;
    const char *cipher;
    const char *md; /* HMAC digest of the CBC-HMAC algorithms (RFC 7518 §5.2) */
    size_t key_len;
    size_t iv_len;
    size_t tag_len;
} enc_info;

static const enc_info encs[ESG_JWE_ENC_COUNT] = {
    [ESG_JWE_A128GCM] = {1, "AES-128-GCM", NULL, 16, 12, 16},
    [ESG_JWE_A256GCM] = {1, "AES-256-GCM", NULL, 32, 12, 16},
    [ESG_JWE_A128CBC_HS256] = {0, "AES-128-CBC", "SHA256", 32, 16, 16},
    [ESG_JWE_A256CBC_HS512] = {0, "AES-256-CBC", "SHA512", 64, 16, 32},
};

static const enc_info *enc_get(esg_jwe_enc enc)
{
    return (int)enc > 0 && enc < ESG_JWE_ENC_COUNT ? &encs[enc] : NULL;
}

static const char failed[] = "JWE decryption failed";

/* Debug-level detail of a uniform failure; never any key or plaintext byte. */
static void log_step(const char *step)
{
    if (!esg_log_enabled(ESP_LOG_DEBUG))
        return;
    esg_log_kv kv[] = {ESG_KV_STR("step", step)};
    esg_log_event(ESP_LOG_DEBUG, "jose.jwe_decrypt_failed", kv, 1);
}

/* ------------------------------------------------------------------------------------------------
 * Content encryption.
 */

static int gcm(const enc_info *e, int encrypt, const uint8_t *key, const uint8_t *iv,
               const char *aad, size_t aad_len, const uint8_t *in, size_t n, uint8_t *out,
               uint8_t *tag)
{
    int len = 0, fin = 0, ok;
    const EVP_CIPHER *cipher = esg_jose_cipher(e->cipher);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    OSSL_PARAM params[2] = {OSSL_PARAM_END, OSSL_PARAM_END};
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, e->tag_len);
    ok = ctx != NULL && cipher != NULL && n <= (size_t)INT32_MAX - 32 &&
         aad_len <= (size_t)INT32_MAX &&
         EVP_CipherInit_ex2(ctx, cipher, key, iv, encrypt, NULL) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aad_len) == 1 &&
         (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1) &&
         (encrypt || EVP_CIPHER_CTX_set_params(ctx, params) == 1) &&
         EVP_CipherFinal_ex(ctx, out + (n == 0 ? 0 : len), &fin) == 1 &&
         (!encrypt || EVP_CIPHER_CTX_get_params(ctx, params) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

/* RFC 7518 §5.2.2.1 step 5: HMAC over AAD || IV || ciphertext || AL, truncated to tag_len. */
static int cbc_tag(const enc_info *e, const uint8_t *mac_key, const char *aad, size_t aad_len,
                   const uint8_t *iv, const uint8_t *ct, size_t ct_len, uint8_t *tag)
{
    uint8_t al[8], mac[64];
    size_t mac_len = 0;
    char md[8];
    uint64_t bits = (uint64_t)aad_len * 8;
    for (int i = 7; i >= 0; i--, bits >>= 8)
        al[i] = (uint8_t)bits;
    snprintf(md, sizeof(md), "%s", e->md);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, md, 0),
                           OSSL_PARAM_END};
    EVP_MAC *hmac = esg_jose_hmac();
    EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    int ok = ctx != NULL && EVP_MAC_init(ctx, mac_key, e->key_len / 2, params) == 1 &&
             EVP_MAC_update(ctx, (const unsigned char *)aad, aad_len) == 1 &&
             EVP_MAC_update(ctx, iv, e->iv_len) == 1 && EVP_MAC_update(ctx, ct, ct_len) == 1 &&
             EVP_MAC_update(ctx, al, sizeof(al)) == 1 &&
             EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1 && mac_len >= e->tag_len;
    if (ok)
        memcpy(tag, mac, e->tag_len);
    OPENSSL_cleanse(mac, sizeof(mac));
    EVP_MAC_CTX_free(ctx);
    return ok;
}

/* AES-CBC with PKCS#7 padding; *out_len receives the output length. */
static int cbc(const enc_info *e, int encrypt, const uint8_t *key, const uint8_t *iv,
               const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    int len = 0, fin = 0;
    const EVP_CIPHER *cipher = esg_jose_cipher(e->cipher);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL && cipher != NULL && n <= (size_t)INT32_MAX - 32 &&
             EVP_CipherInit_ex2(ctx, cipher, key, iv, encrypt, NULL) == 1 &&
             EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1 &&
             EVP_CipherFinal_ex(ctx, out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    *out_len = ok ? (size_t)len + (size_t)fin : 0;
    return ok;
}

/* ------------------------------------------------------------------------------------------------
 * Parsing.
 */

void esg_jwe_clear(esg_jwe *jwe)
{
    if (jwe == NULL)
        return;
    json_decref(jwe->header);
    free(jwe->buf_);
    memset(jwe, 0, sizeof(*jwe));
}

/* Reads a string member and maps it with `from_name`. */
static int header_name(const json_t *h, const char *key,
                       int (*from_name)(const char *, size_t, int *), int *out)
{
    const char *s;
    size_t n;
    if (esg_jose_json_str(h, key, &s, &n) != 0)
        return ESP_EINVAL;
    return from_name(s, n, out);
}

static int alg_from_name(const char *s, size_t n, int *out)
{
    esg_jwe_alg a;
    int rc = esg_jwe_alg_from_name(s, n, &a);
    *out = (int)a;
    return rc;
}

static int enc_from_name(const char *s, size_t n, int *out)
{
    esg_jwe_enc e;
    int rc = esg_jwe_enc_from_name(s, n, &e);
    *out = (int)e;
    return rc;
}

int esg_jwe_parse(const char *token, size_t len, const esg_jwe_opts *opts, esg_jwe *out,
                  const char **reason)
{
    int rc = ESP_EINVAL;
    esg_jwe j;
    const char *dots[4];
    size_t max_token = opts->max_token != 0 ? opts->max_token : ESG_JWE_DEFAULT_MAX_TOKEN;
    size_t max_header = opts->max_header != 0 ? opts->max_header : ESG_JWE_DEFAULT_MAX_HEADER;
    size_t pos = 0, ndots = 0;
    int alg = 0, enc = 0;

    memset(&j, 0, sizeof(j));
    memset(out, 0, sizeof(*out));
    if (max_token > ESG_JWE_MAX_TOKEN_LIMIT)
        max_token = ESG_JWE_MAX_TOKEN_LIMIT;
    if (token == NULL || len == 0) {
        rc = jose_fail(reason, "empty token", ESP_EINVAL);
        goto done;
    }
    if (len > max_token) {
        rc = jose_fail(reason, "token too large", ESP_ETOOBIG);
        goto done;
    }
    for (size_t i = 0; i < len; i++) {
        if (token[i] != '.')
            continue;
        if (ndots == 4) {
            ndots++;
            break;
        }
        dots[ndots++] = token + i;
    }
    if (ndots != 4) {
        rc = jose_fail(reason, "compact JWE needs exactly five parts", ESP_EINVAL);
        goto done;
    }
    size_t hlen = (size_t)(dots[0] - token);
    j.buf_ = malloc(esg_b64_decoded_max(len) + 12);
    if (j.buf_ == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if ((rc = esg_jose_header_parse(token, hlen, max_header, j.buf_, &j.header, reason)) != 0)
        goto done;
    if (header_name(j.header, "alg", alg_from_name, &alg) != 0 ||
        header_name(j.header, "enc", enc_from_name, &enc) != 0) {
        rc = jose_fail(reason, "JWE alg or enc missing or not supported", ESP_EINVAL);
        goto done;
    }
    j.alg = (esg_jwe_alg)alg;
    j.enc = (esg_jwe_enc)enc;
    if ((opts->algs & ESG_JWE_ALG_BIT(j.alg)) == 0 || (opts->encs & ESG_JWE_ENC_BIT(j.enc)) == 0) {
        rc = jose_fail(reason, "JWE alg or enc not allowed", ESP_EINVAL);
        goto done;
    }
    if (json_object_get(j.header, "zip") != NULL) {
        rc = jose_fail(reason, "compressed JWE not supported", ESP_EINVAL);
        goto done;
    }
    if ((rc = esg_jose_check_crit(j.header, opts->crit, 0, reason)) != 0)
        goto done;
    if ((rc = esg_jose_header_kid(j.header, &j.kid, reason)) != 0)
        goto done;
    const char *p1 = dots[0] + 1, *p2 = dots[1] + 1, *p3 = dots[2] + 1, *p4 = dots[3] + 1;
    if (esg_jose_decode_part(p1, (size_t)(dots[1] - p1), j.buf_, &pos, &j.encrypted_key,
                             &j.encrypted_key_len) != 0 ||
        esg_jose_decode_part(p2, (size_t)(dots[2] - p2), j.buf_, &pos, &j.iv, &j.iv_len) != 0 ||
        esg_jose_decode_part(p3, (size_t)(dots[3] - p3), j.buf_, &pos, &j.ciphertext,
                             &j.ciphertext_len) != 0 ||
        esg_jose_decode_part(p4, len - (size_t)(p4 - token), j.buf_, &pos, &j.tag, &j.tag_len) !=
            0) {
        rc = jose_fail(reason, "JWE part is not base64url", ESP_EINVAL);
        goto done;
    }
    const enc_info *e = enc_get(j.enc);
    if (j.encrypted_key_len == 0 || j.iv_len != e->iv_len || j.tag_len != e->tag_len ||
        (!e->gcm && (j.ciphertext_len == 0 || j.ciphertext_len % 16 != 0))) {
        rc = jose_fail(reason, "JWE part has the wrong length", ESP_EINVAL);
        goto done;
    }
    j.aad = token;
    j.aad_len = hlen;
    rc = 0;
done:
    if (rc != 0)
        esg_jwe_clear(&j);
    else
        *out = j;
    return rc;
}

/* ------------------------------------------------------------------------------------------------
 * Key transport.
 */

static int oaep_ctx(EVP_PKEY_CTX *ctx, esg_jwe_alg alg)
{
    const EVP_MD *md = esg_jose_md(alg == ESG_JWE_RSA_OAEP_256 ? "SHA256" : "SHA1");
    return md != NULL && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1;
}

static int rsa_key_ok(const EVP_PKEY *key)
{
    return key != NULL && EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048 &&
           EVP_PKEY_get_size(key) <= MAX_RSA_BYTES;
}

int esg_jwe_unwrap_cek(const esg_jwe *jwe, EVP_PKEY *key, uint8_t *cek, size_t *cek_len)
{
    uint8_t plain[MAX_RSA_BYTES], rnd[ESG_JWE_MAX_CEK];
    size_t got = sizeof(plain);
    size_t need = esg_jwe_enc_key_len(jwe->enc);
    int rc = ESP_EINTERNAL;
    EVP_PKEY_CTX *ctx = NULL;

    *cek_len = 0;
    if (!rsa_key_ok(key) || need == 0)
        return ESP_EINVAL;
    /* The substitute is drawn before decrypting, so success and failure do the same work. */
    if (esg_random(rnd, need) != 0)
        goto done;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    unsigned ok =
        ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 && oaep_ctx(ctx, jwe->alg) &&
        EVP_PKEY_decrypt(ctx, plain, &got, jwe->encrypted_key, jwe->encrypted_key_len) == 1;
    ok &= (unsigned)(got == need);
    uint8_t mask = (uint8_t)(0u - ok); /* 0xff when the CEK is good, 0 otherwise */
    for (size_t i = 0; i < need; i++)
        cek[i] = (uint8_t)((plain[i] & mask) | (rnd[i] & (uint8_t)~mask));
    *cek_len = need;
    if (!ok)
        log_step("key unwrap");
    rc = 0;
done:
    OPENSSL_cleanse(plain, sizeof(plain));
    OPENSSL_cleanse(rnd, sizeof(rnd));
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* ------------------------------------------------------------------------------------------------
 * Decryption.
 */

int esg_jwe_decrypt_content(const esg_jwe *jwe, const uint8_t *cek, size_t cek_len, esg_buf *out,
                            const char **reason)
{
    const enc_info *e = enc_get(jwe->enc);
    uint8_t key[ESG_JWE_MAX_CEK], tag[32];
    int rc = ESP_EINTERNAL, ok = 0;
    size_t start = out->len, pt_len = 0;

    if (e == NULL)
        return jose_fail(reason, failed, ESP_EINVAL);
    int usable = cek != NULL && cek_len == e->key_len;
    if (esg_random(key, e->key_len) != 0)
        goto done;
    if (usable)
        memcpy(key, cek, e->key_len);
    if ((rc = esg_buf_reserve(out, jwe->ciphertext_len + 16)) != 0)
        goto done;
    uint8_t *dst = (uint8_t *)out->data + start;
    if (e->gcm) {
        memcpy(tag, jwe->tag, e->tag_len);
        ok = gcm(e, 0, key, jwe->iv, jwe->aad, jwe->aad_len, jwe->ciphertext, jwe->ciphertext_len,
                 dst, tag);
        pt_len = jwe->ciphertext_len;
    } else {
        /* MAC first, in constant time; CBC padding is only looked at under a valid MAC. */
        ok = cbc_tag(e, key, jwe->aad, jwe->aad_len, jwe->iv, jwe->ciphertext, jwe->ciphertext_len,
                     tag) &&
             CRYPTO_memcmp(tag, jwe->tag, e->tag_len) == 0;
        ok = ok && cbc(e, 0, key + e->key_len / 2, jwe->iv, jwe->ciphertext, jwe->ciphertext_len,
                       dst, &pt_len);
    }
    if (!ok || !usable) {
        OPENSSL_cleanse(dst, jwe->ciphertext_len + 16);
        out->data[start] = '\0';
        log_step(usable ? "content" : "cek");
        rc = jose_fail(reason, failed, ESP_EAUTH);
        goto done;
    }
    out->len = start + pt_len;
    out->data[out->len] = '\0';
    rc = 0;
done:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(tag, sizeof(tag));
    return rc;
}

int esg_jwe_decrypt(const char *token, size_t len, EVP_PKEY *key, const esg_jwe_opts *opts,
                    esg_buf *out, json_t **header, const char **reason)
{
    esg_jwe j;
    uint8_t cek[ESG_JWE_MAX_CEK];
    size_t cek_len = 0;
    if (header != NULL)
        *header = NULL;
    int rc = esg_jwe_parse(token, len, opts, &j, reason);
    if (rc != 0)
        return rc;
    rc = esg_jwe_unwrap_cek(&j, key, cek, &cek_len);
    if (rc == ESP_EINVAL)
        jose_fail(reason, "key does not fit the JWE algorithm", rc);
    if (rc == 0)
        rc = esg_jwe_decrypt_content(&j, cek, cek_len, out, reason);
    if (rc == 0 && header != NULL)
        *header = json_incref(j.header);
    OPENSSL_cleanse(cek, sizeof(cek));
    esg_jwe_clear(&j);
    return rc;
}

/* ------------------------------------------------------------------------------------------------
 * Encryption.
 */

/* The protected header: alg, enc, then the caller's members. */
static int build_header(esg_jwe_alg alg, esg_jwe_enc enc, const json_t *extra, char **out)
{
    int rc = 0;
    json_t *h = json_object();
    if (h == NULL)
        return ESP_ENOMEM;
    if (json_object_set_new(h, "alg", json_string(esg_jwe_alg_name(alg))) != 0 ||
        json_object_set_new(h, "enc", json_string(esg_jwe_enc_name(enc))) != 0) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (extra != NULL) {
        const char *k;
        json_t *v;
        if (!json_is_object(extra)) {
            rc = ESP_EINVAL;
            goto done;
        }
        json_object_foreach(jose_mut(extra), k, v)
        {
            if (strcmp(k, "alg") == 0 || strcmp(k, "enc") == 0 || strcmp(k, "zip") == 0) {
                rc = ESP_EINVAL;
                goto done;
            }
            if (json_object_set(h, k, v) != 0) {
                rc = ESP_ENOMEM;
                goto done;
            }
        }
    }
    *out = json_dumps(h, JSON_COMPACT);
    if (*out == NULL)
        rc = ESP_ENOMEM;
done:
    json_decref(h);
    return rc;
}

int esg_jwe_encrypt_with_cek(EVP_PKEY *key, esg_jwe_alg alg, esg_jwe_enc enc, const json_t *extra,
                             const uint8_t *cek, size_t cek_len, const uint8_t *iv, size_t iv_len,
                             const void *plaintext, size_t n, esg_buf *out)
{
    int rc = ESP_EINVAL;
    const enc_info *e = enc_get(enc);
    char *hdr = NULL;
    esg_buf aad = ESG_BUF_INIT;
    uint8_t ek[MAX_RSA_BYTES], tag[32];
    size_t ek_len = sizeof(ek), ct_len = 0;
    uint8_t *ct = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    size_t start = out->len;

    if (e == NULL || esg_jwe_alg_name(alg) == NULL || !rsa_key_ok(key) || cek == NULL ||
        cek_len != e->key_len || iv == NULL || iv_len != e->iv_len)
        goto done;
    if ((rc = build_header(alg, enc, extra, &hdr)) != 0 ||
        (rc = esg_b64url_encode(&aad, hdr, strlen(hdr))) != 0)
        goto done;
    rc = ESP_EINTERNAL;
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) != 1 || !oaep_ctx(ctx, alg) ||
        EVP_PKEY_encrypt(ctx, ek, &ek_len, cek, cek_len) != 1)
        goto done;
    ct = malloc(n + 32);
    if (ct == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (e->gcm) {
        if (!gcm(e, 1, cek, iv, aad.data, aad.len, plaintext, n, ct, tag))
            goto done;
        ct_len = n;
    } else if (!cbc(e, 1, cek + e->key_len / 2, iv, plaintext, n, ct, &ct_len) ||
               !cbc_tag(e, cek, aad.data, aad.len, iv, ct, ct_len, tag)) {
        goto done;
    }
    if ((rc = esg_buf_append(out, aad.data, aad.len)) != 0 ||
        (rc = esg_jws_compact_append(out, ek, ek_len)) != 0 ||
        (rc = esg_jws_compact_append(out, iv, iv_len)) != 0 ||
        (rc = esg_jws_compact_append(out, ct, ct_len)) != 0 ||
        (rc = esg_jws_compact_append(out, tag, e->tag_len)) != 0)
        goto done;
    rc = 0;
done:
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    if (ct != NULL)
        OPENSSL_cleanse(ct, n + 32);
    free(ct);
    free(hdr);
    esg_buf_free(&aad);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int esg_jwe_encrypt(EVP_PKEY *key, esg_jwe_alg alg, esg_jwe_enc enc, const json_t *extra,
                    const void *plaintext, size_t n, esg_buf *out)
{
    const enc_info *e = enc_get(enc);
    uint8_t cek[ESG_JWE_MAX_CEK], iv[16];
    if (e == NULL)
        return ESP_EINVAL;
    if (esg_random(cek, e->key_len) != 0 || esg_random(iv, e->iv_len) != 0)
        return ESP_EINTERNAL;
    int rc = esg_jwe_encrypt_with_cek(key, alg, enc, extra, cek, e->key_len, iv, e->iv_len,
                                      plaintext, n, out);
    OPENSSL_cleanse(cek, sizeof(cek));
    return rc;
}
