#include "jose/x5c.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/internal.h"
#include "jose/jwk.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/log.h"

void esg_x5c_free(STACK_OF(X509) * chain)
{
    sk_X509_pop_free(chain, X509_free);
}

int esg_x5c_decode(const json_t *x5c, size_t max_certs, STACK_OF(X509) * *out, const char **reason)
{
    int rc = 0;
    STACK_OF(X509) *chain = NULL;
    esg_buf der = ESG_BUF_INIT;
    size_t i;
    const json_t *v;

    *out = NULL;
    if (max_certs == 0)
        max_certs = ESG_X5C_DEFAULT_MAX_CERTS;
    if (!json_is_array(x5c) || json_array_size(x5c) == 0) {
        rc = jose_fail(reason, "x5c must be a non-empty array", ESP_EINVAL);
        goto done;
    }
    if (json_array_size(x5c) > max_certs) {
        rc = jose_fail(reason, "x5c has too many certificates", ESP_ETOOBIG);
        goto done;
    }
    chain = sk_X509_new_null();
    if (chain == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    json_array_foreach(x5c, i, v)
    {
        if (!json_is_string(v)) {
            rc = jose_fail(reason, "x5c must hold strings", ESP_EINVAL);
            goto done;
        }
        if (json_string_length(v) > ESG_X5C_MAX_CERT_B64) {
            rc = jose_fail(reason, "x5c certificate too large", ESP_ETOOBIG);
            goto done;
        }
        esg_buf_reset(&der);
        /* RFC 7515 §4.1.6: standard base64 (not base64url) of the DER. */
        if (esg_b64_decode(&der, json_string_value(v), json_string_length(v)) != 0 ||
            der.len == 0) {
            rc = jose_fail(reason, "x5c certificate is not base64", ESP_EINVAL);
            goto done;
        }
        const unsigned char *p = (const unsigned char *)der.data;
        X509 *cert = d2i_X509(NULL, &p, (long)der.len);
        if (cert == NULL || p != (const unsigned char *)der.data + der.len) {
            X509_free(cert);
            rc = jose_fail(reason, "x5c certificate is not a DER certificate", ESP_EINVAL);
            goto done;
        }
        if (sk_X509_push(chain, cert) <= 0) {
            X509_free(cert);
            rc = ESP_ENOMEM;
            goto done;
        }
    }
done:
    ERR_clear_error();
    esg_buf_free(&der);
    if (rc != 0)
        esg_x5c_free(chain);
    else
        *out = chain;
    return rc;
}

int esg_x5c_verify(STACK_OF(X509) * chain, X509_STORE *trust, int64_t at, EVP_PKEY **leaf_key,
                   const char **reason)
{
    int rc = ESP_EINVAL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509 *leaf = chain != NULL && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;

    if (leaf_key != NULL)
        *leaf_key = NULL;
    if (leaf == NULL || trust == NULL)
        return jose_fail(reason, "no certificate chain or trust store", ESP_EINVAL);
    ctx = X509_STORE_CTX_new();
    untrusted = sk_X509_new_null();
    if (ctx == NULL || untrusted == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    for (int i = 1; i < sk_X509_num(chain); i++) {
        if (sk_X509_push(untrusted, sk_X509_value(chain, i)) <= 0) {
            rc = ESP_ENOMEM;
            goto done;
        }
    }
    if (X509_STORE_CTX_init(ctx, trust, leaf, untrusted) != 1) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (at != 0)
        X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        if (esg_log_enabled(ESP_LOG_DEBUG)) {
            esg_log_kv kv[] = {ESG_KV_STR("error", X509_verify_cert_error_string(err)),
                               ESG_KV_INT("depth", X509_STORE_CTX_get_error_depth(ctx))};
            esg_log_event(ESP_LOG_DEBUG, "jose.x5c_invalid", kv, 2);
        }
        rc = jose_fail(reason, "certificate chain does not validate", ESP_EINVAL);
        goto done;
    }
    if (leaf_key != NULL) {
        *leaf_key = X509_get_pubkey(leaf);
        if (*leaf_key == NULL) {
            rc = jose_fail(reason, "leaf certificate key is not usable", ESP_EINVAL);
            goto done;
        }
    }
    rc = 0;
done:
    ERR_clear_error();
    sk_X509_free(untrusted); /* the certificates belong to `chain` */
    X509_STORE_CTX_free(ctx);
    return rc;
}

int esg_x5c_leaf_matches(STACK_OF(X509) * chain, const EVP_PKEY *key, const char **reason)
{
    X509 *leaf = chain != NULL && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : NULL;
    EVP_PKEY *leaf_key = leaf != NULL ? X509_get0_pubkey(leaf) : NULL;
    if (!esg_jwk_pkey_equal(leaf_key, key))
        return jose_fail(reason, "certificate key differs from the JWK", ESP_EINVAL);
    return 0;
}

int esg_x5c_check_jwk(const json_t *jwk, const char **reason)
{
    const json_t *x5c = json_object_get(jwk, "x5c");
    STACK_OF(X509) *chain = NULL;
    esg_jwk *k = NULL;
    if (x5c == NULL)
        return jose_fail(reason, "no x5c member", ESP_ENOTFOUND);
    int rc = esg_x5c_decode(x5c, 0, &chain, reason);
    if (rc == 0)
        rc = esg_jwk_import(jwk, ESG_JWK_ALLOW_PRIVATE, &k, reason);
    if (rc == 0)
        rc = esg_x5c_leaf_matches(chain, esg_jwk_pkey(k), reason);
    esg_jwk_free(k);
    esg_x5c_free(chain);
    return rc;
}

int esg_x5c_thumbprint_s256(X509 *cert, char *out, size_t out_size)
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (cert == NULL || out == NULL || out_size < 44)
        return ESP_EINVAL;
    if (X509_digest(cert, esg_jose_md("SHA256"), md, &md_len) != 1 || md_len != 32)
        return ESP_EINTERNAL;
    esg_b64url_encode_to(md, md_len, out);
    out[43] = '\0';
    return 0;
}
