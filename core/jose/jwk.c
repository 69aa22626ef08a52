#include "jose/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/internal.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/str.h"

#define MAX_JWK_TEXT     (64u * 1024u)
#define MAX_JWKS_TEXT    (1024u * 1024u)
#define MAX_RSA_BITS     8192
#define MAX_RSA_E_BYTES  8
#define MAX_PARAM_LEN    256 /* kid, alg, use */
#define DEFAULT_MAX_KEYS 32

enum { OP_SIGN = 1u << 0, OP_VERIFY = 1u << 1, OP_ENCRYPT = 1u << 2, OP_DECRYPT = 1u << 3 };

struct esg_jwk {
    EVP_PKEY *pkey;
    esg_jwk_kty kty;
    int is_private;
    char *kid;
    char *alg;
    char *use;
    int has_key_ops;
    unsigned key_ops; /* OP_* bits named in key_ops */
};

struct esg_jwk_set {
    esg_jwk **keys;
    size_t n;
};

/* Members that only a private JWK carries (RFC 7518 §6.2.2, §6.3.2; "k" of symmetric keys). */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

/* ------------------------------------------------------------------------------------------------
 * Small helpers.
 */

/*
 * Decodes the base64url member `key` into `b`. Returns 0, ESP_ENOTFOUND when absent, ESP_EINVAL
 * when not a string or not canonical base64url, ESP_ENOMEM.
 */
static int get_b64(const json_t *o, const char *key, esg_buf *b)
{
    const char *s;
    size_t n;
    int rc = esg_jose_json_str(o, key, &s, &n);
    if (rc != 0)
        return rc;
    if (n == 0)
        return ESP_EINVAL;
    return esg_b64url_decode(b, s, n);
}

static int set_str(char **dst, const char *s)
{
    char *copy = NULL;
    if (s != NULL) {
        size_t n = strlen(s);
        if (n == 0 || n > MAX_PARAM_LEN || !esg_utf8_valid(s, n))
            return ESP_EINVAL;
        copy = esg_strndup(s, n);
        if (copy == NULL)
            return ESP_ENOMEM;
    }
    free(*dst);
    *dst = copy;
    return 0;
}

static int put_b64(json_t *o, const char *key, const void *data, size_t n, int secret)
{
    esg_buf b = ESG_BUF_INIT;
    int rc = esg_b64url_encode(&b, data, n);
    if (rc == 0 && json_object_set_new(o, key, json_stringn(b.data, b.len)) != 0)
        rc = ESP_ENOMEM;
    if (secret)
        esg_buf_free_secret(&b);
    else
        esg_buf_free(&b);
    return rc;
}

/* Writes a BIGNUM parameter as base64url: minimal length when pad is 0, else exactly `pad`. */
static int put_bn(json_t *o, const char *key, const EVP_PKEY *pkey, const char *param, size_t pad,
                  int secret)
{
    BIGNUM *bn = NULL;
    unsigned char buf[MAX_RSA_BITS / 8];
    int rc = ESP_EINTERNAL;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        goto done;
    if ((size_t)BN_num_bytes(bn) > sizeof(buf) || pad > sizeof(buf))
        goto done;
    int len = pad != 0 ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
    if (len <= 0)
        goto done;
    rc = put_b64(o, key, buf, (size_t)len, secret);
done:
    if (secret)
        OPENSSL_cleanse(buf, sizeof(buf));
    BN_clear_free(bn);
    return rc;
}

static esg_jwk_kty kty_of(const EVP_PKEY *pkey)
{
    if (EVP_PKEY_is_a(pkey, "RSA"))
        return ESG_JWK_KTY_RSA;
    if (esg_jose_ec_curve(pkey) != NULL)
        return ESG_JWK_KTY_EC;
    if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448"))
        return ESG_JWK_KTY_OKP;
    return ESG_JWK_KTY_INVALID;
}

static const char *okp_curve(const EVP_PKEY *pkey)
{
    return EVP_PKEY_is_a(pkey, "ED25519") ? "Ed25519" : "Ed448";
}

/* ------------------------------------------------------------------------------------------------
 * Import.
 */

/* Runs fromdata for `type` with the built parameters. */
static int fromdata(const char *type, OSSL_PARAM_BLD *bld, int selection, EVP_PKEY **out)
{
    int rc = ESP_EINVAL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, selection, params) != 1)
        goto done;
    rc = 0;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return rc;
}

/* Public check (point on the curve, RSA sanity) or, for a private key, the pairwise check. */
static int validate(EVP_PKEY *pkey, int priv)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL)
        return ESP_ENOMEM;
    int ok = priv ? EVP_PKEY_pairwise_check(ctx) : EVP_PKEY_public_check_quick(ctx);
    EVP_PKEY_CTX_free(ctx);
    return ok == 1 ? 0 : ESP_EINVAL;
}

static const char *const rsa_priv_jwk[] = {"d", "p", "q", "dp", "dq", "qi"};
static const char *const rsa_priv_ossl[] = {
    OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,
    OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};
#define RSA_PRIV_COUNT (sizeof(rsa_priv_jwk) / sizeof(rsa_priv_jwk[0]))

static int import_rsa(const json_t *jwk, int priv, unsigned flags, EVP_PKEY **out,
                      const char **reason)
{
    int rc;
    esg_buf n = ESG_BUF_INIT, e = ESG_BUF_INIT;
    esg_buf pb[RSA_PRIV_COUNT];
    BIGNUM *bn_n = NULL, *bn_e = NULL, *bn_p[RSA_PRIV_COUNT] = {NULL};
    OSSL_PARAM_BLD *bld = NULL;
    memset(pb, 0, sizeof(pb));

    if (get_b64(jwk, "n", &n) != 0 || get_b64(jwk, "e", &e) != 0) {
        rc = jose_fail(reason, "RSA key needs base64url members n and e", ESP_EINVAL);
        goto done;
    }
    /* RFC 7518 §6.3.1: n and e use the minimum number of octets. */
    if ((uint8_t)n.data[0] == 0 || (uint8_t)e.data[0] == 0) {
        rc = jose_fail(reason, "RSA n or e has a leading zero octet", ESP_EINVAL);
        goto done;
    }
    size_t min_bits = (flags & ESG_JWK_ALLOW_SMALL_RSA) ? 1024 : 2048;
    size_t bits = n.len * 8;
    for (uint8_t top = (uint8_t)n.data[0]; (top & 0x80) == 0; top <<= 1)
        bits--;
    if (bits < min_bits || bits > MAX_RSA_BITS) {
        rc = jose_fail(reason, "RSA modulus size out of range", ESP_EINVAL);
        goto done;
    }
    if (e.len > MAX_RSA_E_BYTES || ((uint8_t)e.data[e.len - 1] & 1) == 0 ||
        (e.len == 1 && (uint8_t)e.data[0] < 3)) {
        rc = jose_fail(reason, "RSA public exponent is invalid", ESP_EINVAL);
        goto done;
    }
    if ((n.data[n.len - 1] & 1) == 0) {
        rc = jose_fail(reason, "RSA modulus is even", ESP_EINVAL);
        goto done;
    }
    if (priv && json_object_get(jwk, "oth") != NULL) {
        rc = jose_fail(reason, "multi-prime RSA keys are not supported", ESP_EINVAL);
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    bn_n = BN_bin2bn((const unsigned char *)n.data, (int)n.len, NULL);
    bn_e = BN_bin2bn((const unsigned char *)e.data, (int)e.len, NULL);
    if (bld == NULL || bn_n == NULL || bn_e == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (priv) {
        for (size_t i = 0; i < RSA_PRIV_COUNT; i++) {
            rc = get_b64(jwk, rsa_priv_jwk[i], &pb[i]);
            if (rc == ESP_ENOTFOUND) {
                /* The CRT parameters are optional in RFC 7518, but OpenSSL's consistency check
                 * needs them, and every key we meet (ours and the RFC vectors) has them. */
                rc = jose_fail(reason, "RSA private key needs d, p, q, dp, dq and qi", ESP_EINVAL);
                goto done;
            }
            if (rc != 0) {
                rc = jose_fail(reason, "RSA private member is not base64url", rc);
                goto done;
            }
            bn_p[i] = BN_secure_new();
            if (bn_p[i] == NULL ||
                BN_bin2bn((const unsigned char *)pb[i].data, (int)pb[i].len, bn_p[i]) == NULL ||
                OSSL_PARAM_BLD_push_BN(bld, rsa_priv_ossl[i], bn_p[i]) != 1) {
                rc = ESP_ENOMEM;
                goto done;
            }
        }
    }
    rc = fromdata("RSA", bld, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out);
    /*
     * A public key gets only the checks above: OpenSSL's RSA public check runs a randomised
     * Miller-Rabin test on n, so a malformed modulus could be accepted once and refused the next
     * time (found by fuzzing), and a bogus n only harms the tokens of whoever published it. A
     * private key must pass the pairwise consistency check.
     */
    if (rc == ESP_EINVAL)
        rc = jose_fail(reason, "RSA key rejected by OpenSSL", rc);
    else if (rc == 0 && priv && (rc = validate(*out, priv)) != 0)
        jose_fail(reason, "RSA key is inconsistent", rc);
done:
    if (rc != 0 && out != NULL) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    for (size_t i = 0; i < RSA_PRIV_COUNT; i++) {
        BN_clear_free(bn_p[i]);
        esg_buf_free_secret(&pb[i]);
    }
    BN_free(bn_n);
    BN_free(bn_e);
    OSSL_PARAM_BLD_free(bld);
    esg_buf_free(&n);
    esg_buf_free(&e);
    return rc;
}

static int import_ec(const json_t *jwk, int priv, EVP_PKEY **out, const char **reason,
                     int *unsupported)
{
    int rc;
    esg_buf x = ESG_BUF_INIT, y = ESG_BUF_INIT, d = ESG_BUF_INIT;
    unsigned char pub[1 + 2 * 66];
    BIGNUM *bn_d = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    const char *crv;
    size_t crv_n;

    if (esg_jose_json_str(jwk, "crv", &crv, &crv_n) != 0) {
        rc = jose_fail(reason, "EC key needs a crv string", ESP_EINVAL);
        goto done;
    }
    size_t clen = strlen(crv) == crv_n ? esg_jose_curve_len(crv) : 0;
    if (clen == 0) {
        *unsupported = 1;
        rc = jose_fail(reason, "unsupported EC curve", ESP_EINVAL);
        goto done;
    }
    if (get_b64(jwk, "x", &x) != 0 || get_b64(jwk, "y", &y) != 0 || x.len != clen ||
        y.len != clen) {
        rc = jose_fail(reason, "EC x and y must be base64url of the curve's length", ESP_EINVAL);
        goto done;
    }
    pub[0] = 0x04; /* uncompressed point, SEC 1 §2.3.3 */
    memcpy(pub + 1, x.data, clen);
    memcpy(pub + 1 + clen, y.data, clen);
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, crv, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * clen) != 1) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (priv) {
        if (get_b64(jwk, "d", &d) != 0 || d.len != clen) {
            rc = jose_fail(reason, "EC d must be base64url of the curve's length", ESP_EINVAL);
            goto done;
        }
        bn_d = BN_secure_new();
        if (bn_d == NULL || BN_bin2bn((const unsigned char *)d.data, (int)d.len, bn_d) == NULL ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn_d) != 1) {
            rc = ESP_ENOMEM;
            goto done;
        }
    }
    /* `pub` and `crv` stay alive until fromdata() has turned the builder into parameters. */
    rc = fromdata("EC", bld, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out);
    if (rc == ESP_EINVAL)
        rc = jose_fail(reason, "EC point is not on the curve", rc);
    else if (rc == 0 && (rc = validate(*out, priv)) != 0)
        jose_fail(reason,
                  priv ? "EC private key does not match x and y" : "EC point is not on the curve",
                  rc);
done:
    if (rc != 0 && out != NULL) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    BN_clear_free(bn_d);
    OSSL_PARAM_BLD_free(bld);
    esg_buf_free(&x);
    esg_buf_free(&y);
    esg_buf_free_secret(&d);
    return rc;
}

static int import_okp(const json_t *jwk, int priv, EVP_PKEY **out, const char **reason,
                      int *unsupported)
{
    int rc;
    esg_buf x = ESG_BUF_INIT, d = ESG_BUF_INIT;
    OSSL_PARAM_BLD *bld = NULL;
    const char *crv, *type;
    size_t crv_n, klen;
    unsigned char derived[57];
    size_t derived_len = sizeof(derived);

    if (esg_jose_json_str(jwk, "crv", &crv, &crv_n) != 0) {
        rc = jose_fail(reason, "OKP key needs a crv string", ESP_EINVAL);
        goto done;
    }
    if (esg_str_eq(crv, crv_n, "Ed25519")) {
        type = "ED25519";
        klen = 32;
    } else if (esg_str_eq(crv, crv_n, "Ed448")) {
        type = "ED448";
        klen = 57;
    } else {
        *unsupported = 1;
        rc = jose_fail(reason, "unsupported OKP curve", ESP_EINVAL);
        goto done;
    }
    if (get_b64(jwk, "x", &x) != 0 || x.len != klen) {
        rc = jose_fail(reason, "OKP x must be base64url of the curve's key length", ESP_EINVAL);
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (priv) {
        if (get_b64(jwk, "d", &d) != 0 || d.len != klen) {
            rc = jose_fail(reason, "OKP d must be base64url of the curve's key length", ESP_EINVAL);
            goto done;
        }
        /* Only d goes in: OpenSSL derives the public key, which must then equal x. */
        if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PRIV_KEY, d.data, d.len) != 1) {
            rc = ESP_ENOMEM;
            goto done;
        }
    } else if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x.data, x.len) != 1) {
        rc = ESP_ENOMEM;
        goto done;
    }
    rc = fromdata(type, bld, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, out);
    if (rc != 0) {
        jose_fail(reason, "OKP key rejected by OpenSSL", rc);
        goto done;
    }
    if (priv && (EVP_PKEY_get_raw_public_key(*out, derived, &derived_len) != 1 ||
                 derived_len != klen || CRYPTO_memcmp(derived, x.data, klen) != 0)) {
        rc = jose_fail(reason, "OKP private key does not match x", ESP_EINVAL);
        goto done;
    }
done:
    if (rc != 0 && out != NULL) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    OSSL_PARAM_BLD_free(bld);
    esg_buf_free(&x);
    esg_buf_free_secret(&d);
    return rc;
}

static unsigned op_bit(const char *s, size_t n)
{
    if (esg_str_eq(s, n, "sign"))
        return OP_SIGN;
    if (esg_str_eq(s, n, "verify"))
        return OP_VERIFY;
    if (esg_str_eq(s, n, "encrypt") || esg_str_eq(s, n, "wrapKey"))
        return OP_ENCRYPT;
    if (esg_str_eq(s, n, "decrypt") || esg_str_eq(s, n, "unwrapKey"))
        return OP_DECRYPT;
    return 0; /* other registered or private values: allowed, never granting our operations */
}

/* kid, alg, use and key_ops (RFC 7517 §4.2-4.5). */
static int import_params(const json_t *jwk, esg_jwk *k, const char **reason)
{
    static const char *const names[] = {"kid", "alg", "use"};
    char **dst[] = {&k->kid, &k->alg, &k->use};
    for (size_t i = 0; i < 3; i++) {
        const char *s;
        size_t n;
        int rc = esg_jose_json_str(jwk, names[i], &s, &n);
        if (rc == ESP_ENOTFOUND)
            continue;
        if (rc != 0 || strlen(s) != n)
            return jose_fail(reason, "kid, alg and use must be strings", ESP_EINVAL);
        rc = set_str(dst[i], s);
        if (rc != 0)
            return jose_fail(reason, "kid, alg or use is empty or too long", rc);
    }
    const json_t *ops = json_object_get(jwk, "key_ops");
    if (ops != NULL) {
        size_t i;
        const json_t *v;
        if (!json_is_array(ops) || json_array_size(ops) > 8)
            return jose_fail(reason, "key_ops must be an array of at most 8 strings", ESP_EINVAL);
        json_array_foreach(ops, i, v)
        {
            if (!json_is_string(v))
                return jose_fail(reason, "key_ops must be an array of strings", ESP_EINVAL);
            for (size_t j = 0; j < i; j++) {
                if (json_equal(v, json_array_get(ops, j)))
                    return jose_fail(reason, "key_ops has duplicate values", ESP_EINVAL);
            }
            k->key_ops |= op_bit(json_string_value(v), json_string_length(v));
        }
        k->has_key_ops = 1;
    }
    /* RFC 7517 §4.3: when use and key_ops are both present they must agree. */
    if (k->use != NULL && k->has_key_ops) {
        unsigned allowed = strcmp(k->use, "sig") == 0   ? (OP_SIGN | OP_VERIFY)
                           : strcmp(k->use, "enc") == 0 ? (OP_ENCRYPT | OP_DECRYPT)
                                                        : 0;
        if ((k->key_ops & ~allowed) != 0)
            return jose_fail(reason, "use and key_ops disagree", ESP_EINVAL);
    }
    return 0;
}

int esg_jwk_json_has_private(const json_t *jwk)
{
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        if (json_object_get(jwk, private_members[i]) != NULL)
            return 1;
    }
    return 0;
}

static int import_key(const json_t *jwk, unsigned flags, esg_jwk **out, const char **reason,
                      int *unsupported)
{
    int rc;
    const char *kty;
    size_t kty_n;
    esg_jwk *k = NULL;
    int priv = 0;

    *unsupported = 0;
    if (!json_is_object(jwk)) {
        rc = jose_fail(reason, "JWK is not a JSON object", ESP_EINVAL);
        goto done;
    }
    if (esg_jose_json_str(jwk, "kty", &kty, &kty_n) != 0) {
        rc = jose_fail(reason, "JWK needs a kty string", ESP_EINVAL);
        goto done;
    }
    esg_jwk_kty kty_id = esg_str_eq(kty, kty_n, "RSA")   ? ESG_JWK_KTY_RSA
                         : esg_str_eq(kty, kty_n, "EC")  ? ESG_JWK_KTY_EC
                         : esg_str_eq(kty, kty_n, "OKP") ? ESG_JWK_KTY_OKP
                                                         : ESG_JWK_KTY_INVALID;
    if (kty_id == ESG_JWK_KTY_INVALID) {
        /* Checked first so that a key set can skip, say, an "oct" key (RFC 7517 §5). */
        *unsupported = 1;
        rc = jose_fail(reason, "unsupported kty", ESP_EINVAL);
        goto done;
    }
    priv = esg_jwk_json_has_private(jwk);
    if (flags & ESG_JWK_REQUIRE_PRIVATE)
        flags |= ESG_JWK_ALLOW_PRIVATE;
    if (priv && !(flags & ESG_JWK_ALLOW_PRIVATE)) {
        rc = jose_fail(reason, "private key members where a public key is expected", ESP_EINVAL);
        goto done;
    }
    if (!priv && (flags & ESG_JWK_REQUIRE_PRIVATE)) {
        rc = jose_fail(reason, "a private key is required", ESP_EINVAL);
        goto done;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    k->kty = kty_id;
    if (kty_id == ESG_JWK_KTY_RSA)
        rc = import_rsa(jwk, priv, flags, &k->pkey, reason);
    else if (kty_id == ESG_JWK_KTY_EC)
        rc = import_ec(jwk, priv, &k->pkey, reason, unsupported);
    else
        rc = import_okp(jwk, priv, &k->pkey, reason, unsupported);
    if (rc != 0)
        goto done;
    k->is_private = priv;
    rc = import_params(jwk, k, reason);
done:
    if (rc != 0) {
        esg_jwk_free(k);
        k = NULL;
    }
    *out = k;
    return rc;
}

int esg_jwk_import(const json_t *jwk, unsigned flags, esg_jwk **out, const char **reason)
{
    int unsupported;
    return import_key(jwk, flags, out, reason, &unsupported);
}

/* Parses JSON text with duplicate members rejected; ESP_ETOOBIG above `max`. */
static int load_json(const char *text, size_t n, size_t max, json_t **out, const char **reason)
{
    if (n > max)
        return jose_fail(reason, "JSON text too large", ESP_ETOOBIG);
    *out = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
    if (*out == NULL)
        return jose_fail(reason, "not valid JSON (or duplicate members)", ESP_EINVAL);
    return 0;
}

int esg_jwk_import_json(const char *text, size_t n, unsigned flags, esg_jwk **out,
                        const char **reason)
{
    json_t *j = NULL;
    *out = NULL;
    int rc = load_json(text, n, MAX_JWK_TEXT, &j, reason);
    if (rc == 0)
        rc = esg_jwk_import(j, flags, out, reason);
    json_decref(j);
    return rc;
}

/* 1 when the key holds private material or cannot be inspected (an HSM key). */
static int pkey_is_private(const EVP_PKEY *pkey, esg_jwk_kty kty)
{
    BIGNUM *bn = NULL;
    size_t len = 0;
    int priv = 0;
    switch (kty) {
    case ESG_JWK_KTY_RSA:
        priv = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &bn) == 1;
        if (!priv && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &bn) != 1)
            priv = 1; /* opaque: an engine or HSM key, which only exists for its private half */
        break;
    case ESG_JWK_KTY_EC:
        priv = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1;
        if (!priv && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bn) != 1)
            priv = 1;
        break;
    case ESG_JWK_KTY_OKP:
        priv = EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1;
        break;
    default:
        break;
    }
    BN_clear_free(bn);
    return priv;
}

int esg_jwk_wrap(EVP_PKEY *pkey, esg_jwk **out)
{
    *out = NULL;
    if (pkey == NULL)
        return ESP_EINVAL;
    esg_jwk_kty kty = kty_of(pkey);
    if (kty == ESG_JWK_KTY_INVALID || (kty == ESG_JWK_KTY_RSA && EVP_PKEY_get_bits(pkey) < 2048))
        return ESP_EINVAL;
    esg_jwk *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ESP_ENOMEM;
    if (EVP_PKEY_up_ref(pkey) != 1) {
        free(k);
        return ESP_EINTERNAL;
    }
    k->pkey = pkey;
    k->kty = kty;
    k->is_private = pkey_is_private(pkey, kty);
    *out = k;
    return 0;
}

void esg_jwk_free(esg_jwk *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->kid);
    free(k->alg);
    free(k->use);
    free(k);
}

EVP_PKEY *esg_jwk_pkey(const esg_jwk *k)
{
    return k->pkey;
}

esg_jwk_kty esg_jwk_type(const esg_jwk *k)
{
    return k->kty;
}

int esg_jwk_is_private(const esg_jwk *k)
{
    return k->is_private;
}

const char *esg_jwk_kid(const esg_jwk *k)
{
    return k->kid;
}

const char *esg_jwk_alg(const esg_jwk *k)
{
    return k->alg;
}

const char *esg_jwk_use(const esg_jwk *k)
{
    return k->use;
}

int esg_jwk_set_kid(esg_jwk *k, const char *kid)
{
    return set_str(&k->kid, kid);
}

int esg_jwk_set_alg(esg_jwk *k, const char *alg)
{
    return set_str(&k->alg, alg);
}

int esg_jwk_set_use(esg_jwk *k, const char *use)
{
    return set_str(&k->use, use);
}

int esg_jwk_check_use(const esg_jwk *k, esg_jwk_op op, const char *alg, const char **reason)
{
    int sig = op == ESG_JWK_OP_SIGN || op == ESG_JWK_OP_VERIFY;
    unsigned bit = op == ESG_JWK_OP_SIGN      ? OP_SIGN
                   : op == ESG_JWK_OP_VERIFY  ? OP_VERIFY
                   : op == ESG_JWK_OP_ENCRYPT ? OP_ENCRYPT
                   : op == ESG_JWK_OP_DECRYPT ? OP_DECRYPT
                                              : 0;
    if (bit == 0)
        return jose_fail(reason, "unknown key operation", ESP_EINVAL);
    if (alg != NULL) {
        esg_jws_alg ja;
        esg_jwe_alg ea;
        if (k->alg != NULL && strcmp(k->alg, alg) != 0)
            return jose_fail(reason, "the key is bound to another algorithm", ESP_EINVAL);
        if (esg_jws_alg_from_name(alg, strlen(alg), &ja) == 0) {
            if (!sig)
                return jose_fail(reason, "a signature algorithm for an encryption operation",
                                 ESP_EINVAL);
            if (!esg_jose_key_fits(k->pkey, esg_jose_alg_info_get(ja)))
                return jose_fail(reason, "key type does not fit the algorithm", ESP_EINVAL);
        } else if (esg_jwe_alg_from_name(alg, strlen(alg), &ea) == 0) {
            if (sig)
                return jose_fail(reason, "an encryption algorithm for a signature operation",
                                 ESP_EINVAL);
            if (k->kty != ESG_JWK_KTY_RSA || EVP_PKEY_get_bits(k->pkey) < 2048)
                return jose_fail(reason, "key type does not fit the algorithm", ESP_EINVAL);
        } else {
            return jose_fail(reason, "unsupported algorithm", ESP_EINVAL);
        }
    }
    if (k->use != NULL && strcmp(k->use, sig ? "sig" : "enc") != 0)
        return jose_fail(reason, "the key's use does not allow this operation", ESP_EINVAL);
    if (k->has_key_ops && (k->key_ops & bit) == 0)
        return jose_fail(reason, "the key's key_ops do not allow this operation", ESP_EINVAL);
    if ((op == ESG_JWK_OP_SIGN || op == ESG_JWK_OP_DECRYPT) && !k->is_private)
        return jose_fail(reason, "the operation needs a private key", ESP_EINVAL);
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Export.
 */

static int export_public(const EVP_PKEY *pkey, esg_jwk_kty kty, json_t *o)
{
    int rc;
    switch (kty) {
    case ESG_JWK_KTY_RSA:
        if ((rc = put_bn(o, "n", pkey, OSSL_PKEY_PARAM_RSA_N, 0, 0)) != 0 ||
            (rc = put_bn(o, "e", pkey, OSSL_PKEY_PARAM_RSA_E, 0, 0)) != 0)
            return rc;
        return 0;
    case ESG_JWK_KTY_EC: {
        const char *crv = esg_jose_ec_curve(pkey);
        size_t clen = esg_jose_curve_len(crv);
        if (json_object_set_new(o, "crv", json_string(crv)) != 0)
            return ESP_ENOMEM;
        if ((rc = put_bn(o, "x", pkey, OSSL_PKEY_PARAM_EC_PUB_X, clen, 0)) != 0 ||
            (rc = put_bn(o, "y", pkey, OSSL_PKEY_PARAM_EC_PUB_Y, clen, 0)) != 0)
            return rc;
        return 0;
    }
    case ESG_JWK_KTY_OKP: {
        unsigned char x[57];
        size_t len = sizeof(x);
        if (json_object_set_new(o, "crv", json_string(okp_curve(pkey))) != 0)
            return ESP_ENOMEM;
        if (EVP_PKEY_get_raw_public_key(pkey, x, &len) != 1)
            return ESP_EINTERNAL;
        return put_b64(o, "x", x, len, 0);
    }
    default:
        return ESP_EINVAL;
    }
}

static int export_private(const EVP_PKEY *pkey, esg_jwk_kty kty, json_t *o)
{
    int rc = 0;
    switch (kty) {
    case ESG_JWK_KTY_RSA:
        for (size_t i = 0; i < RSA_PRIV_COUNT && rc == 0; i++)
            rc = put_bn(o, rsa_priv_jwk[i], pkey, rsa_priv_ossl[i], 0, 1);
        return rc;
    case ESG_JWK_KTY_EC:
        return put_bn(o, "d", pkey, OSSL_PKEY_PARAM_PRIV_KEY,
                      esg_jose_curve_len(esg_jose_ec_curve(pkey)), 1);
    case ESG_JWK_KTY_OKP: {
        unsigned char d[57];
        size_t len = sizeof(d);
        if (EVP_PKEY_get_raw_private_key(pkey, d, &len) != 1)
            rc = ESP_EINTERNAL;
        else
            rc = put_b64(o, "d", d, len, 1);
        OPENSSL_cleanse(d, sizeof(d));
        return rc;
    }
    default:
        return ESP_EINVAL;
    }
}

/*
 * The public part of any key as a JWK object. A key that does not answer parameter queries (an
 * engine-backed HSM key) is re-read through its DER SubjectPublicKeyInfo first.
 */
static int public_members(EVP_PKEY *pkey, esg_jwk_kty kty, json_t *o)
{
    static const char *const names[] = {"kty", "crv", "n", "e", "x", "y"};
    const char *kty_name = kty == ESG_JWK_KTY_RSA ? "RSA" : kty == ESG_JWK_KTY_EC ? "EC" : "OKP";
    if (json_object_set_new(o, "kty", json_string(kty_name)) != 0)
        return ESP_ENOMEM;
    int rc = export_public(pkey, kty, o);
    if (rc != ESP_EINTERNAL)
        return rc;
    for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
        json_object_del(o, names[i]);
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0)
        return ESP_EINTERNAL;
    const unsigned char *p = der;
    EVP_PKEY *copy = d2i_PUBKEY(NULL, &p, len);
    OPENSSL_free(der);
    if (copy == NULL)
        return ESP_EINTERNAL;
    rc = export_public(copy, kty, o);
    EVP_PKEY_free(copy);
    return rc;
}

int esg_jwk_export(const esg_jwk *k, unsigned flags, json_t **out)
{
    int rc;
    json_t *o = json_object();
    *out = NULL;
    if (o == NULL)
        return ESP_ENOMEM;
    if ((flags & ESG_JWK_EXPORT_PRIVATE) && !k->is_private) {
        rc = ESP_EINVAL;
        goto done;
    }
    rc = public_members(k->pkey, k->kty, o);
    if (rc == 0 && (flags & ESG_JWK_EXPORT_PRIVATE))
        rc = export_private(k->pkey, k->kty, o);
    if (rc != 0 || (flags & ESG_JWK_EXPORT_BARE))
        goto done;
    if ((k->kid != NULL && json_object_set_new(o, "kid", json_string(k->kid)) != 0) ||
        (k->use != NULL && json_object_set_new(o, "use", json_string(k->use)) != 0) ||
        (k->alg != NULL && json_object_set_new(o, "alg", json_string(k->alg)) != 0))
        rc = ESP_ENOMEM;
done:
    if (rc != 0)
        json_decref(o);
    else
        *out = o;
    return rc;
}

int esg_jwk_public_json(EVP_PKEY *pkey, json_t **out)
{
    *out = NULL;
    esg_jwk_kty kty = pkey != NULL ? kty_of(pkey) : ESG_JWK_KTY_INVALID;
    if (kty == ESG_JWK_KTY_INVALID)
        return ESP_EINVAL;
    json_t *o = json_object();
    if (o == NULL)
        return ESP_ENOMEM;
    int rc = public_members(pkey, kty, o);
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Thumbprints (RFC 7638 §3.2: required members only, sorted, no whitespace).
 */

static int thumbprint_of(const json_t *pub, char *out)
{
    static const char *const rsa[] = {"e", "kty", "n", NULL};
    static const char *const ec[] = {"crv", "kty", "x", "y", NULL};
    static const char *const okp[] = {"crv", "kty", "x", NULL};
    const char *kty = json_string_value(json_object_get(pub, "kty"));
    const char *const *members = strcmp(kty, "RSA") == 0 ? rsa : strcmp(kty, "EC") == 0 ? ec : okp;
    esg_buf b = ESG_BUF_INIT;
    int rc = esg_buf_putc(&b, '{');
    for (size_t i = 0; rc == 0 && members[i] != NULL; i++) {
        const json_t *v = json_object_get(pub, members[i]);
        /* Every value is a curve name, key type or base64url: nothing needs JSON escaping. */
        rc = esg_buf_printf(&b, "%s\"%s\":\"%s\"", i ? "," : "", members[i], json_string_value(v));
    }
    if (rc == 0)
        rc = esg_buf_putc(&b, '}');
    unsigned char md[32];
    unsigned int md_len = 0;
    if (rc == 0 && EVP_Digest(b.data, b.len, md, &md_len, esg_jose_md("SHA256"), NULL) != 1)
        rc = ESP_EINTERNAL;
    if (rc == 0) {
        esg_b64url_encode_to(md, md_len, out);
        out[ESG_JWK_THUMBPRINT_LEN] = '\0';
    }
    esg_buf_free(&b);
    return rc;
}

int esg_jwk_thumbprint_pkey(EVP_PKEY *pkey, char *out, size_t out_size)
{
    if (out == NULL || out_size < ESG_JWK_THUMBPRINT_LEN + 1)
        return ESP_EINVAL;
    json_t *pub = NULL;
    int rc = esg_jwk_public_json(pkey, &pub);
    if (rc == 0)
        rc = thumbprint_of(pub, out);
    json_decref(pub);
    return rc;
}

int esg_jwk_thumbprint(const esg_jwk *k, char *out, size_t out_size)
{
    return esg_jwk_thumbprint_pkey(k->pkey, out, out_size);
}

int esg_jwk_thumbprint_json(const json_t *jwk, char *out, size_t out_size)
{
    esg_jwk *k = NULL;
    int rc = esg_jwk_import(jwk, ESG_JWK_ALLOW_PRIVATE | ESG_JWK_ALLOW_SMALL_RSA, &k, NULL);
    if (rc == 0)
        rc = esg_jwk_thumbprint(k, out, out_size);
    esg_jwk_free(k);
    return rc;
}

int esg_jwk_pkey_equal(const EVP_PKEY *a, const EVP_PKEY *b)
{
    return a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;
}

/* ------------------------------------------------------------------------------------------------
 * Generation.
 */

int esg_jwk_generate(const char *spec, EVP_PKEY **out)
{
    EVP_PKEY *p = NULL;
    *out = NULL;
    if (spec == NULL)
        return ESP_EINVAL;
    if (strcmp(spec, "RSA-2048") == 0)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (strcmp(spec, "RSA-3072") == 0)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    else if (strcmp(spec, "RSA-4096") == 0)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
    else if (strcmp(spec, "P-256") == 0 || strcmp(spec, "P-384") == 0 || strcmp(spec, "P-521") == 0)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec);
    else if (strcmp(spec, "Ed25519") == 0)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else if (strcmp(spec, "Ed448") == 0)
        p = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    else
        return ESP_EINVAL;
    if (p == NULL)
        return ESP_EINTERNAL;
    *out = p;
    return 0;
}

int esg_jwk_generate_for_alg(const char *alg, int rsa_bits, EVP_PKEY **out)
{
    esg_jws_alg ja;
    esg_jwe_alg ea;
    char spec[16];
    *out = NULL;
    if (alg == NULL)
        return ESP_EINVAL;
    if (rsa_bits == 0)
        rsa_bits = 2048;
    if (rsa_bits != 2048 && rsa_bits != 3072 && rsa_bits != 4096)
        return ESP_EINVAL;
    snprintf(spec, sizeof(spec), "RSA-%d", rsa_bits);
    if (esg_jwe_alg_from_name(alg, strlen(alg), &ea) == 0)
        return esg_jwk_generate(spec, out);
    if (esg_jws_alg_from_name(alg, strlen(alg), &ja) != 0)
        return ESP_EINVAL;
    const esg_jose_alg_info *info = esg_jose_alg_info_get(ja);
    switch (info->family) {
    case JOSE_FAM_RSA:
    case JOSE_FAM_RSA_PSS:
        return esg_jwk_generate(spec, out);
    case JOSE_FAM_EC:
        return esg_jwk_generate(info->curve, out);
    default:
        return esg_jwk_generate("Ed25519", out);
    }
}

/* ------------------------------------------------------------------------------------------------
 * Key sets.
 */

int esg_jwk_set_parse(const json_t *jwks, unsigned flags, size_t max_keys, esg_jwk_set **out,
                      const char **reason)
{
    int rc = 0;
    esg_jwk_set *s = NULL;
    const json_t *keys = json_object_get(jwks, "keys");
    *out = NULL;
    if (max_keys == 0)
        max_keys = DEFAULT_MAX_KEYS;
    if (!json_is_object(jwks) || !json_is_array(keys)) {
        rc = jose_fail(reason, "JWK Set needs a keys array", ESP_EINVAL);
        goto done;
    }
    if (json_array_size(keys) > max_keys) {
        rc = jose_fail(reason, "too many keys in the JWK Set", ESP_ETOOBIG);
        goto done;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->keys = calloc(json_array_size(keys) + 1, sizeof(*s->keys))) == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(keys, i, v)
    {
        int unsupported = 0;
        esg_jwk *k = NULL;
        rc = import_key(v, flags, &k, reason, &unsupported);
        if (rc != 0 && unsupported) {
            rc = 0;
            continue;
        }
        if (rc != 0)
            goto done;
        s->keys[s->n++] = k;
    }
done:
    if (rc != 0)
        esg_jwk_set_free(s);
    else
        *out = s;
    return rc;
}

int esg_jwk_set_parse_json(const char *text, size_t n, unsigned flags, size_t max_keys,
                           esg_jwk_set **out, const char **reason)
{
    json_t *j = NULL;
    *out = NULL;
    int rc = load_json(text, n, MAX_JWKS_TEXT, &j, reason);
    if (rc == 0)
        rc = esg_jwk_set_parse(j, flags, max_keys, out, reason);
    json_decref(j);
    return rc;
}

void esg_jwk_set_free(esg_jwk_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        esg_jwk_free(s->keys[i]);
    free(s->keys);
    free(s);
}

size_t esg_jwk_set_count(const esg_jwk_set *s)
{
    return s->n;
}

const esg_jwk *esg_jwk_set_get(const esg_jwk_set *s, size_t i)
{
    return i < s->n ? s->keys[i] : NULL;
}

int esg_jwk_set_find(const esg_jwk_set *s, const char *kid, const char *alg, esg_jwk_op op,
                     const esg_jwk **out)
{
    const esg_jwk *found = NULL;
    size_t matches = 0;
    *out = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const esg_jwk *k = s->keys[i];
        if (kid != NULL && (k->kid == NULL || strcmp(k->kid, kid) != 0))
            continue;
        if (esg_jwk_check_use(k, op, alg, NULL) != 0)
            continue;
        found = k;
        matches++;
    }
    if (matches == 0)
        return ESP_ENOTFOUND;
    if (matches > 1)
        return ESP_EINVAL;
    *out = found;
    return 0;
}
