/*
 * Hostile and malformed input for JWK, JWS and JWE: every case here must be refused, with the
 * status the headers promise.
 */
#include "test_jose_util.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include "jose/jwe.h"
#include "jose/jws.h"

static EVP_PKEY *rsa, *p256, *p384, *ed, *rsa_other;

static int setup(void **state)
{
    (void)state;
    return tj_keys_generate(&rsa, &rsa_other, &p256, &p384, &ed);
}

static int teardown(void **state)
{
    (void)state;
    tj_keys_free(rsa, rsa_other, p256, p384, ed);
    return 0;
}

/* A token with the literal header JSON `hdr`, signed with `alg` by `key`. */
static char *sign_with(EVP_PKEY *key, const char *alg, const char *hdr, const char *payload)
{
    esg_buf b = ESG_BUF_INIT, sig = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_encode(&b, hdr, strlen(hdr)), 0);
    assert_int_equal(esg_buf_putc(&b, '.'), 0);
    assert_int_equal(esg_b64url_encode(&b, payload, strlen(payload)), 0);
    assert_int_equal(esg_jws_sign_raw(key, alg, b.data, b.len, &sig), 0);
    assert_int_equal(esg_jws_compact_append(&b, sig.data, sig.len), 0);
    esg_buf_free(&sig);
    return esg_buf_steal(&b, NULL);
}

static int verify(const char *tok, EVP_PKEY *key, esg_jws_alg_set algs, const char **why)
{
    esg_jws_opts o = {algs, NULL, 0, 0, 0};
    esg_jws j = ESG_JWS_INIT;
    int rc = esg_jws_verify(tok, strlen(tok), key, &o, &j, why);
    esg_jws_clear(&j);
    return rc;
}

static int verify_opts(const char *tok, EVP_PKEY *key, const esg_jws_opts *o, const char **why)
{
    esg_jws j = ESG_JWS_INIT;
    int rc = esg_jws_verify(tok, strlen(tok), key, o, &j, why);
    esg_jws_clear(&j);
    return rc;
}

static void alg_none_rejected(void **state)
{
    (void)state;
    const char *why = NULL;
    /* {"alg":"none"} with an empty and with a non-empty signature. */
    assert_int_equal(verify("eyJhbGciOiJub25lIn0.e30.", rsa, ~0u, &why), ESP_EINVAL);
    assert_int_equal(verify("eyJhbGciOiJub25lIn0.e30.AAAA", rsa, ~0u, &why), ESP_EINVAL);
    assert_string_equal(why, "JWS algorithm not supported");
    /* "None" and "NONE" are not special either. */
    assert_int_equal(verify("eyJhbGciOiJOb25lIn0.e30.AAAA", rsa, ~0u, &why), ESP_EINVAL);
}

/* HS256 over the signing input with `key` as the HMAC key. */
static char *hs256_token(const void *key, size_t key_len)
{
    const char *hdr = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    esg_buf b = ESG_BUF_INIT;
    unsigned char mac[32];
    size_t mac_len = 0;
    assert_int_equal(esg_b64url_encode(&b, hdr, strlen(hdr)), 0);
    assert_int_equal(esg_buf_puts(&b, ".eyJzdWIiOiJhZG1pbiJ9"), 0);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len,
                              (const unsigned char *)b.data, b.len, mac, sizeof(mac), &mac_len));
    assert_int_equal(esg_jws_compact_append(&b, mac, mac_len), 0);
    return esg_buf_steal(&b, NULL);
}

static void hs256_with_public_key_rejected(void **state)
{
    (void)state;
    /* The classic confusion: the verifier's public key (PEM text or JWK JSON) used as HMAC key. */
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa), 1);
    char *pem;
    long pem_len = BIO_get_mem_data(bio, &pem);
    char *t1 = hs256_token(pem, (size_t)pem_len);
    json_t *jwk = NULL;
    assert_int_equal(esg_jwk_public_json(rsa, &jwk), 0);
    char *jwk_text = json_dumps(jwk, JSON_COMPACT);
    char *t2 = hs256_token(jwk_text, strlen(jwk_text));
    const char *why = NULL;
    esg_jws_alg_set sets[] = {ESG_JWS_ALGS_ALL, ~(esg_jws_alg_set)0, ESG_JWS_ALGS_RSA_PKCS1};
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        assert_int_equal(verify(t1, rsa, sets[i], &why), ESP_EINVAL);
        assert_string_equal(why, "JWS algorithm not supported");
        assert_int_equal(verify(t2, rsa, sets[i], &why), ESP_EINVAL);
    }
    esg_jws_alg a;
    assert_int_equal(esg_jws_alg_from_name("HS256", 5, &a), ESP_EINVAL);
    assert_int_equal(esg_jws_alg_set_parse("RS256,HS256", &(esg_jws_alg_set){0}), ESP_EINVAL);
    free(t1);
    free(t2);
    free(jwk_text);
    json_decref(jwk);
    BIO_free(bio);
}

static void key_type_must_fit_alg(void **state)
{
    (void)state;
    const char *why = NULL;
    char *es = sign_with(p256, "ES256", "{\"alg\":\"ES256\"}", "{}");
    char *rs = sign_with(rsa, "RS256", "{\"alg\":\"RS256\"}", "{}");
    char *ps = sign_with(rsa, "PS256", "{\"alg\":\"PS256\"}", "{}");
    char *eddsa = sign_with(ed, "EdDSA", "{\"alg\":\"EdDSA\"}", "{}");
    assert_int_equal(verify(es, p256, ESG_JWS_ALGS_ALL, NULL), 0);
    assert_int_equal(verify(es, rsa, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_string_equal(why, "key type does not fit the JWS algorithm");
    assert_int_equal(verify(es, p384, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL); /* wrong curve */
    assert_int_equal(verify(rs, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_int_equal(verify(rs, ed, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_int_equal(verify(eddsa, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_int_equal(verify(eddsa, ed, ESG_JWS_ALGS_ALL, NULL), 0);
    assert_int_equal(verify(ps, rsa, ESG_JWS_ALGS_ALL, NULL), 0);
    /* A PKCS#1 v1.5 signature relabelled PS256 (and vice versa) does not verify. */
    char *relabel = tj_replace_text(rs, 0, "eyJhbGciOiJQUzI1NiJ9");
    assert_int_equal(verify(relabel, rsa, ESG_JWS_ALGS_ALL, &why), ESP_EAUTH);
    /* Signing refuses an unfit key too. */
    esg_buf sig = ESG_BUF_INIT;
    assert_int_equal(esg_jws_sign_raw(p256, "RS256", "x", 1, &sig), ESP_EINVAL);
    assert_int_equal(esg_jws_sign_raw(rsa, "ES256", "x", 1, &sig), ESP_EINVAL);
    assert_int_equal(esg_jws_sign_raw(rsa, "HS256", "x", 1, &sig), ESP_EINVAL);
    assert_int_equal(sig.len, 0);
    /* Wrong key of the right type. */
    assert_int_equal(verify(rs, rsa_other, ESG_JWS_ALGS_ALL, &why), ESP_EAUTH);
    assert_string_equal(why, "JWS signature does not verify");
    free(relabel);
    free(es);
    free(rs);
    free(ps);
    free(eddsa);
}

static void alg_must_be_allowed(void **state)
{
    (void)state;
    const char *why = NULL;
    char *rs = sign_with(rsa, "RS256", "{\"alg\":\"RS256\"}", "{}");
    assert_int_equal(verify(rs, rsa, ESG_JWS_ALG_BIT(ESG_JWS_ES256), &why), ESP_EINVAL);
    assert_string_equal(why, "JWS algorithm not allowed");
    assert_int_equal(verify(rs, rsa, ESG_JWS_ALGS_RSA_PSS, &why), ESP_EINVAL);
    assert_int_equal(verify(rs, rsa, 0, &why), ESP_EINVAL);
    assert_int_equal(verify(rs, rsa, ESG_JWS_ALG_BIT(ESG_JWS_RS256), NULL), 0);
    /* The header's alg must be a string. */
    char *num = sign_with(rsa, "RS256", "{\"alg\":256}", "{}");
    assert_int_equal(verify(num, rsa, ~0u, &why), ESP_EINVAL);
    assert_string_equal(why, "JWS header needs an alg string");
    free(num);
    free(rs);
}

static void crit_rules(void **state)
{
    (void)state;
    const char *why = NULL;
    const char *const understood[] = {"exp", NULL};
    esg_jws_opts plain = {ESG_JWS_ALGS_ALL, NULL, 0, 0, 0};
    esg_jws_opts knows = {ESG_JWS_ALGS_ALL, understood, 0, 0, 0};
    char *t = sign_with(p256, "ES256", "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", "{}");
    assert_int_equal(verify_opts(t, p256, &plain, &why), ESP_EINVAL);
    assert_string_equal(why, "crit extension not understood");
    assert_int_equal(verify_opts(t, p256, &knows, NULL), 0);
    free(t);
    static const char *const bad[] = {
        "{\"alg\":\"ES256\",\"crit\":[]}",                          /* empty */
        "{\"alg\":\"ES256\",\"crit\":\"exp\",\"exp\":1}",           /* not an array */
        "{\"alg\":\"ES256\",\"crit\":[\"alg\"]}",                   /* registered name */
        "{\"alg\":\"ES256\",\"crit\":[\"kid\"],\"kid\":\"a\"}",     /* registered name */
        "{\"alg\":\"ES256\",\"crit\":[\"exp\"]}",                   /* member absent */
        "{\"alg\":\"ES256\",\"crit\":[\"exp\",\"exp\"],\"exp\":1}", /* duplicate */
        "{\"alg\":\"ES256\",\"crit\":[1]}",                         /* not a string */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = sign_with(p256, "ES256", bad[i], "{}");
        assert_int_equal(verify_opts(t, p256, &knows, &why), ESP_EINVAL);
        free(t);
    }
}

static void b64_false_needs_declaration(void **state)
{
    (void)state;
    const char *hdr = "{\"alg\":\"ES256\",\"b64\":false,\"crit\":[\"b64\"]}";
    /* RFC 7797: the payload goes into the signing input and the token unencoded. */
    esg_buf b = ESG_BUF_INIT, sig = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_encode(&b, hdr, strlen(hdr)), 0);
    assert_int_equal(esg_buf_puts(&b, ".$raw payload!"), 0);
    assert_int_equal(esg_jws_sign_raw(p256, "ES256", b.data, b.len, &sig), 0);
    assert_int_equal(esg_jws_compact_append(&b, sig.data, sig.len), 0);
    const char *why = NULL;
    esg_jws_opts plain = {ESG_JWS_ALGS_ALL, NULL, 0, 0, 0};
    esg_jws_opts allow = {ESG_JWS_ALGS_ALL, NULL, ESG_JWS_ALLOW_UNENCODED_PAYLOAD, 0, 0};
    assert_int_equal(verify_opts(b.data, p256, &plain, &why), ESP_EINVAL);
    esg_jws j = ESG_JWS_INIT;
    assert_int_equal(esg_jws_verify(b.data, b.len, p256, &allow, &j, &why), 0);
    assert_int_equal(j.payload_len, 13);
    assert_memory_equal(j.payload, "$raw payload!", 13);
    esg_jws_clear(&j);
    /* b64 without crit is refused even when allowed. */
    char *t = sign_with(p256, "ES256", "{\"alg\":\"ES256\",\"b64\":false}", "{}");
    assert_int_equal(verify_opts(t, p256, &allow, &why), ESP_EINVAL);
    free(t);
    esg_buf_free(&b);
    esg_buf_free(&sig);
}

static void size_limits(void **state)
{
    (void)state;
    const char *why = NULL;
    esg_jws_opts small = {ESG_JWS_ALGS_ALL, NULL, 0, 256, 64};
    /* A big payload beyond max_token. */
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char *t = sign_with(p256, "ES256", "{\"alg\":\"ES256\"}", big);
    assert_int_equal(verify_opts(t, p256, &small, &why), ESP_ETOOBIG);
    free(t);
    /* A long header. */
    t = sign_with(p256, "ES256",
                  "{\"alg\":\"ES256\",\"x\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                  "{}");
    assert_int_equal(verify_opts(t, p256, &small, &why), ESP_ETOOBIG);
    free(t);
    /* Too many members, too deep. */
    esg_buf h = ESG_BUF_INIT;
    assert_int_equal(esg_buf_puts(&h, "{\"alg\":\"ES256\""), 0);
    for (int i = 0; i < 70; i++)
        assert_int_equal(esg_buf_printf(&h, ",\"m%d\":%d", i, i), 0);
    assert_int_equal(esg_buf_putc(&h, '}'), 0);
    t = sign_with(p256, "ES256", h.data, "{}");
    assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, &why), ESP_ETOOBIG);
    free(t);
    t = sign_with(p256, "ES256", "{\"alg\":\"ES256\",\"x\":[[[[[1]]]]]}", "{}");
    assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, &why), ESP_ETOOBIG);
    free(t);
    esg_buf_free(&h);
}

static void malformed_compact(void **state)
{
    (void)state;
    const char *why = NULL;
    char *good = sign_with(p256, "ES256", "{\"alg\":\"ES256\"}", "{\"a\":1}");
    assert_int_equal(verify(good, p256, ESG_JWS_ALGS_ALL, NULL), 0);
    esg_buf b = ESG_BUF_INIT;
    /* Trailing data: a fourth part, a newline, a space. */
    const char *suffixes[] = {".x", "\n", " ", "=", "."};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        esg_buf_reset(&b);
        assert_int_equal(esg_buf_printf(&b, "%s%s", good, suffixes[i]), 0);
        assert_int_equal(verify(b.data, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    }
    /* Bad base64url in each part: standard alphabet, padding, whitespace. */
    for (int part = 0; part < 3; part++) {
        static const char *const junk[] = {"ab+c", "ab/c", "abc=", "ab c", "a"};
        for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
            char *t = tj_replace_text(good, part, junk[i]);
            assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
            free(t);
        }
    }
    /* Non-canonical base64url: same bytes, different trailing bits. */
    const char *sig;
    size_t sig_n;
    tj_part(good, 2, &sig, &sig_n);
    char *alt = strdup(good);
    alt[strlen(alt) - 1] = sig[sig_n - 1] == 'A' ? 'B' : 'A';
    assert_int_not_equal(verify(alt, p256, ESG_JWS_ALGS_ALL, &why), 0);
    free(alt);
    /* Two or one part, empty input, empty header. */
    assert_int_equal(verify("eyJhbGciOiJFUzI1NiJ9.e30", p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_int_equal(verify("", p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_int_equal(verify(".e30.AAAA", p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    esg_buf_free(&b);
    free(good);
}

static void header_must_be_unique_object(void **state)
{
    (void)state;
    const char *why = NULL;
    static const char *const bad[] = {
        "{\"alg\":\"ES256\",\"alg\":\"ES256\"}",
        "{\"alg\":\"ES256\",\"kid\":\"a\",\"kid\":\"b\"}",
        "[\"ES256\"]",
        "\"ES256\"",
        "{\"alg\":\"ES256\"",
        "{\"alg\":\"ES256\"} x",
        "{\"alg\":\"ES256\",\"kid\":7}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *t = sign_with(p256, "ES256", bad[i], "{}");
        assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
        free(t);
    }
}

static void truncated_and_der_signatures(void **state)
{
    (void)state;
    const char *why = NULL;
    char *good = sign_with(p256, "ES256", "{\"alg\":\"ES256\"}", "{}");
    char *rs = sign_with(rsa, "RS256", "{\"alg\":\"RS256\"}", "{}");
    esg_buf sig = ESG_BUF_INIT;
    tj_part_bytes(good, 2, &sig);
    assert_int_equal(sig.len, 64);
    char *t = tj_replace_part(good, 2, sig.data, 63);
    assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    assert_string_equal(why, "JWS signature has the wrong length");
    free(t);
    esg_buf rsig = ESG_BUF_INIT;
    tj_part_bytes(rs, 2, &rsig);
    t = tj_replace_part(rs, 2, rsig.data, rsig.len - 1);
    assert_int_equal(verify(t, rsa, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    free(t);
    /* The same ECDSA signature in DER, as OpenSSL emits it, is not JOSE. */
    uint8_t der[ESG_JWS_ECDSA_DER_MAX];
    size_t der_len;
    assert_int_equal(esg_jws_ecdsa_raw_to_der((uint8_t *)sig.data, 64, der, &der_len), 0);
    t = tj_replace_part(good, 2, der, der_len);
    assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, &why), ESP_EINVAL);
    free(t);
    /* The conversion round-trips. */
    uint8_t raw[64];
    assert_int_equal(esg_jws_ecdsa_der_to_raw(der, der_len, 32, raw), 0);
    assert_memory_equal(raw, sig.data, 64);
    assert_int_equal(esg_jws_ecdsa_der_to_raw(der, der_len - 1, 32, raw), ESP_EINVAL);
    esg_buf_free(&rsig);
    esg_buf_free(&sig);
    free(rs);
    free(good);
}

/* Replaces R or S of a P-256 JOSE signature and expects a failure. */
static void expect_bad_scalar(const char *tok, int which, const uint8_t value[32])
{
    esg_buf sig = ESG_BUF_INIT;
    tj_part_bytes(tok, 2, &sig);
    memcpy(sig.data + (which ? 32 : 0), value, 32);
    char *t = tj_replace_part(tok, 2, sig.data, 64);
    assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, NULL), ESP_EAUTH);
    free(t);
    esg_buf_free(&sig);
}

static void ecdsa_scalars_and_points(void **state)
{
    (void)state;
    char *good = sign_with(p256, "ES256", "{\"alg\":\"ES256\"}", "{}");
    /* The order n of P-256 (SEC 2 §2.4.2). */
    static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                  0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
    static const uint8_t zero[32] = {0};
    static const uint8_t ones[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (int which = 0; which < 2; which++) {
        expect_bad_scalar(good, which, zero);
        expect_bad_scalar(good, which, n);
        expect_bad_scalar(good, which, ones);
    }
    /*
     * High S: (r, n - s) is the other valid ECDSA signature of the same message. JOSE does not
     * forbid it and common signers emit either form, so it verifies; callers must not use
     * signatures as identifiers (jti is the identifier).
     */
    esg_buf sig = ESG_BUF_INIT;
    tj_part_bytes(good, 2, &sig);
    BIGNUM *bn_n = BN_bin2bn(n, 32, NULL), *s = BN_bin2bn((uint8_t *)sig.data + 32, 32, NULL);
    assert_int_equal(BN_sub(s, bn_n, s), 1);
    assert_int_equal(BN_bn2binpad(s, (uint8_t *)sig.data + 32, 32), 32);
    char *t = tj_replace_part(good, 2, sig.data, 64);
    assert_int_equal(verify(t, p256, ESG_JWS_ALGS_ALL, NULL), 0);
    free(t);
    BN_free(bn_n);
    BN_free(s);
    esg_buf_free(&sig);

    /* Points off the curve, wrong lengths, curve mismatches. */
    json_t *jwk = NULL;
    assert_int_equal(esg_jwk_public_json(p256, &jwk), 0);
    esg_jwk *k = NULL;
    const char *why = NULL;
    assert_int_equal(esg_jwk_import(jwk, 0, &k, NULL), 0);
    esg_jwk_free(k);
    esg_buf y = ESG_BUF_INIT;
    const char *ys = json_string_value(json_object_get(jwk, "y"));
    assert_int_equal(esg_b64url_decode(&y, ys, strlen(ys)), 0);
    y.data[31] ^= 1;
    esg_buf enc = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_encode(&enc, y.data, y.len), 0);
    json_t *off = json_deep_copy(jwk);
    json_object_set_new(off, "y", json_string(enc.data));
    assert_int_equal(esg_jwk_import(off, 0, &k, &why), ESP_EINVAL);
    assert_null(k);
    json_object_set_new(off, "y", json_string("AAAA"));
    assert_int_equal(esg_jwk_import(off, 0, &k, &why), ESP_EINVAL);
    json_object_set_new(off, "y", json_string(ys));
    json_object_set_new(off, "crv", json_string("P-384"));
    assert_int_equal(esg_jwk_import(off, 0, &k, &why), ESP_EINVAL);
    json_object_set_new(off, "crv", json_string("secp256k1"));
    assert_int_equal(esg_jwk_import(off, 0, &k, &why), ESP_EINVAL);
    json_decref(off);
    esg_buf_free(&enc);
    esg_buf_free(&y);
    json_decref(jwk);
    free(good);
}

static void jwk_strictness(void **state)
{
    (void)state;
    const char *why = NULL;
    esg_jwk *k = NULL;
    json_t *priv = NULL;
    esg_jwk *whole = NULL;
    assert_int_equal(esg_jwk_wrap(p256, &whole), 0);
    assert_true(esg_jwk_is_private(whole));
    assert_int_equal(esg_jwk_export(whole, ESG_JWK_EXPORT_PRIVATE, &priv), 0);
    /* Private members where a public key is expected. */
    assert_true(esg_jwk_json_has_private(priv));
    assert_int_equal(esg_jwk_import(priv, 0, &k, &why), ESP_EINVAL);
    assert_string_equal(why, "private key members where a public key is expected");
    assert_int_equal(esg_jwk_import(priv, ESG_JWK_ALLOW_PRIVATE, &k, NULL), 0);
    assert_true(esg_jwk_is_private(k));
    esg_jwk_free(k);
    /* d that does not belong to x and y. */
    json_t *other = NULL;
    esg_jwk *ow = NULL;
    EVP_PKEY *p2 = NULL;
    assert_int_equal(esg_jwk_generate("P-256", &p2), 0);
    assert_int_equal(esg_jwk_wrap(p2, &ow), 0);
    assert_int_equal(esg_jwk_export(ow, ESG_JWK_EXPORT_PRIVATE, &other), 0);
    json_object_set(priv, "d", json_object_get(other, "d"));
    assert_int_equal(esg_jwk_import(priv, ESG_JWK_ALLOW_PRIVATE, &k, &why), ESP_EINVAL);
    /* Any private member counts, whatever the rest of the object; a public key has none. */
    json_t *pub = NULL;
    assert_int_equal(esg_jwk_export(whole, 0, &pub), 0);
    assert_false(esg_jwk_json_has_private(pub));
    static const char *const members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        json_t *o = json_pack("{s:s,s:s}", "kty", "XYZ", members[i], "AAAA");
        assert_true(esg_jwk_json_has_private(o));
        json_decref(o);
    }
    json_t *str = json_string("d");
    assert_false(esg_jwk_json_has_private(str));
    assert_false(esg_jwk_json_has_private(NULL));
    json_decref(str);
    json_decref(pub);
    /* Unknown and symmetric kty, missing members, wrong types. */
    static const char *const bad[] = {
        "{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        "{\"kty\":\"XYZ\"}",
        "{\"kty\":\"RSA\",\"e\":\"AQAB\"}",
        "{\"kty\":\"RSA\",\"n\":5,\"e\":\"AQAB\"}",
        "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\"}",
        "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}",
        "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
        "{\"kty\":5}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            esg_jwk_import_json(bad[i], strlen(bad[i]), ESG_JWK_ALLOW_PRIVATE, &k, &why),
            ESP_EINVAL);
        assert_null(k);
    }
    /* Duplicate members in JWK text. */
    const char *dup = "{\"kty\":\"OKP\",\"kty\":\"OKP\"}";
    assert_int_equal(esg_jwk_import_json(dup, strlen(dup), 0, &k, &why), ESP_EINVAL);
    /* RSA below 2048 bits only with the test-vector flag; n with a leading zero never. */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    json_t *sj = NULL;
    assert_int_equal(esg_jwk_public_json(small, &sj), 0);
    assert_int_equal(esg_jwk_import(sj, 0, &k, &why), ESP_EINVAL);
    assert_string_equal(why, "RSA modulus size out of range");
    assert_int_equal(esg_jwk_import(sj, ESG_JWK_ALLOW_SMALL_RSA, &k, NULL), 0);
    esg_jwk_free(k);
    assert_int_equal(esg_jwk_wrap(small, &k), ESP_EINVAL);
    esg_buf nb = ESG_BUF_INIT, ne = ESG_BUF_INIT;
    char *ns = strdup(json_string_value(json_object_get(sj, "n")));
    assert_int_equal(esg_buf_putc(&nb, 0), 0);
    assert_int_equal(esg_b64url_decode(&nb, ns, strlen(ns)), 0);
    assert_int_equal(esg_b64url_encode(&ne, nb.data, nb.len), 0);
    json_object_set_new(sj, "n", json_string(ne.data));
    assert_int_equal(esg_jwk_import(sj, ESG_JWK_ALLOW_SMALL_RSA, &k, &why), ESP_EINVAL);
    /* Even exponent. */
    json_object_set_new(sj, "n", json_string(ns));
    json_object_set_new(sj, "e", json_string("AQAA"));
    assert_int_equal(esg_jwk_import(sj, ESG_JWK_ALLOW_SMALL_RSA, &k, &why), ESP_EINVAL);
    free(ns);
    esg_buf_free(&nb);
    esg_buf_free(&ne);
    json_decref(sj);
    EVP_PKEY_free(small);
    json_decref(other);
    esg_jwk_free(ow);
    EVP_PKEY_free(p2);
    json_decref(priv);
    esg_jwk_free(whole);
}

static void jwk_use_and_key_ops(void **state)
{
    (void)state;
    json_t *pub = NULL;
    esg_jwk *k = NULL;
    const char *why = NULL;
    assert_int_equal(esg_jwk_public_json(rsa, &pub), 0);
    json_object_set_new(pub, "use", json_string("sig"));
    json_object_set_new(pub, "key_ops", json_pack("[s]", "encrypt"));
    assert_int_equal(esg_jwk_import(pub, 0, &k, &why), ESP_EINVAL);
    assert_string_equal(why, "use and key_ops disagree");
    json_object_set_new(pub, "key_ops", json_pack("[s,s]", "verify", "verify"));
    assert_int_equal(esg_jwk_import(pub, 0, &k, &why), ESP_EINVAL);
    json_object_set_new(pub, "key_ops", json_pack("[s]", "verify"));
    json_object_set_new(pub, "alg", json_string("PS256"));
    assert_int_equal(esg_jwk_import(pub, 0, &k, NULL), 0);
    assert_int_equal(esg_jwk_check_use(k, ESG_JWK_OP_VERIFY, "PS256", NULL), 0);
    assert_int_equal(esg_jwk_check_use(k, ESG_JWK_OP_VERIFY, NULL, NULL), 0);
    assert_int_equal(esg_jwk_check_use(k, ESG_JWK_OP_VERIFY, "RS256", &why), ESP_EINVAL);
    assert_int_equal(esg_jwk_check_use(k, ESG_JWK_OP_SIGN, "PS256", &why), ESP_EINVAL);
    assert_int_equal(esg_jwk_check_use(k, ESG_JWK_OP_ENCRYPT, "RSA-OAEP-256", &why), ESP_EINVAL);
    esg_jwk_free(k);
    /* A JWK Set with two keys and no kid cannot be searched by algorithm alone. */
    json_t *set = json_pack("{s:[O,O]}", "keys", pub, pub);
    esg_jwk_set *s = NULL;
    const esg_jwk *found = NULL;
    assert_int_equal(esg_jwk_set_parse(set, 0, 0, &s, NULL), 0);
    assert_int_equal(esg_jwk_set_find(s, NULL, "PS256", ESG_JWK_OP_VERIFY, &found), ESP_EINVAL);
    esg_jwk_set_free(s);
    assert_int_equal(esg_jwk_set_parse(set, 0, 1, &s, &why), ESP_ETOOBIG);
    /* Unsupported kty is skipped, a malformed supported one rejects the set. */
    json_array_append_new(json_object_get(set, "keys"),
                          json_pack("{s:s,s:s}", "kty", "oct", "k", "AAAA"));
    assert_int_equal(esg_jwk_set_parse(set, 0, 0, &s, NULL), 0);
    assert_int_equal(esg_jwk_set_count(s), 2);
    esg_jwk_set_free(s);
    json_array_append_new(json_object_get(set, "keys"), json_pack("{s:s}", "kty", "EC"));
    assert_int_equal(esg_jwk_set_parse(set, 0, 0, &s, &why), ESP_EINVAL);
    json_decref(set);
    json_decref(pub);
}

static void embedded_jwk_not_trusted(void **state)
{
    (void)state;
    /* The attacker signs with their own key and ships it in the header. */
    json_t *attacker = NULL;
    assert_int_equal(esg_jwk_public_json(p384, &attacker), 0);
    json_t *hdr = json_pack("{s:s,s:O}", "alg", "ES384", "jwk", attacker);
    esg_buf tok = ESG_BUF_INIT;
    assert_int_equal(esg_jws_sign(p384, hdr, "{}", 2, &tok), 0);
    esg_jws_opts o = {ESG_JWS_ALGS_ALL, NULL, 0, 0, 0};
    esg_jws j = ESG_JWS_INIT;
    /* Verification with the relying party's own key fails: the header key is ignored. */
    assert_int_equal(esg_jws_verify(tok.data, tok.len, p256, &o, &j, NULL), ESP_EINVAL);
    assert_int_equal(esg_jws_verify(tok.data, tok.len, rsa, &o, &j, NULL), ESP_EINVAL);
    /* A caller that binds the key gets it explicitly. */
    assert_int_equal(esg_jws_parse(tok.data, tok.len, &o, &j, NULL), 0);
    assert_true(j.header_keys & ESG_JWS_HDR_JWK);
    esg_jwk *k = NULL;
    assert_int_equal(esg_jws_untrusted_jwk(&j, &k, NULL), 0);
    assert_true(esg_jwk_pkey_equal(esg_jwk_pkey(k), p384));
    assert_int_equal(esg_jws_verify_parsed(&j, esg_jwk_pkey(k), &o, NULL), 0);
    esg_jwk_free(k);
    esg_jws_clear(&j);
    /* A header jwk with private members is refused. */
    esg_jwk *w = NULL;
    json_t *priv = NULL;
    assert_int_equal(esg_jwk_wrap(p384, &w), 0);
    assert_int_equal(esg_jwk_export(w, ESG_JWK_EXPORT_PRIVATE, &priv), 0);
    json_object_set(hdr, "jwk", priv);
    esg_buf_reset(&tok);
    assert_int_equal(esg_jws_sign(p384, hdr, "{}", 2, &tok), 0);
    assert_int_equal(esg_jws_parse(tok.data, tok.len, &o, &j, NULL), 0);
    assert_int_equal(esg_jws_untrusted_jwk(&j, &k, NULL), ESP_EINVAL);
    esg_jws_clear(&j);
    json_decref(priv);
    esg_jwk_free(w);
    esg_buf_free(&tok);
    json_decref(hdr);
    json_decref(attacker);
}

static void jwe_tampering(void **state)
{
    (void)state;
    esg_jwe_opts o = {ESG_JWE_ALG_BIT(ESG_JWE_RSA_OAEP_256),
                      ESG_JWE_ENC_BIT(ESG_JWE_A256GCM) | ESG_JWE_ENC_BIT(ESG_JWE_A128CBC_HS256),
                      NULL, 0, 0};
    json_t *extra = json_pack("{s:s,s:s}", "kid", "k1", "cty", "JWT");
    esg_jwe_enc encs[] = {ESG_JWE_A256GCM, ESG_JWE_A128CBC_HS256};
    for (size_t e = 0; e < 2; e++) {
        esg_buf tok = ESG_BUF_INIT, out = ESG_BUF_INIT;
        assert_int_equal(
            esg_jwe_encrypt(rsa, ESG_JWE_RSA_OAEP_256, encs[e], extra, "secret", 6, &tok), 0);
        json_t *hdr = NULL;
        assert_int_equal(esg_jwe_decrypt(tok.data, tok.len, rsa, &o, &out, &hdr, NULL), 0);
        assert_int_equal(out.len, 6);
        assert_memory_equal(out.data, "secret", 6);
        assert_string_equal(json_string_value(json_object_get(hdr, "cty")), "JWT");
        json_decref(hdr);
        /* Flip one bit in every part, and use the wrong key: always the same answer. */
        for (int part = 0; part < 5; part++) {
            esg_buf raw = ESG_BUF_INIT;
            tj_part_bytes(tok.data, part, &raw);
            raw.data[raw.len / 2] ^= 0x04;
            char *t = tj_replace_part(tok.data, part, raw.data, raw.len);
            const char *why = NULL;
            esg_buf_reset(&out);
            int rc = esg_jwe_decrypt(t, strlen(t), rsa, &o, &out, NULL, &why);
            if (part == 0) {
                /* The header may no longer parse; if it does, the AAD changed. */
                assert_true(rc == ESP_EINVAL || rc == ESP_EAUTH);
            } else {
                assert_int_equal(rc, ESP_EAUTH);
                assert_string_equal(why, "JWE decryption failed");
            }
            assert_int_equal(out.len, 0);
            free(t);
            esg_buf_free(&raw);
        }
        const char *why = NULL;
        assert_int_equal(esg_jwe_decrypt(tok.data, tok.len, rsa_other, &o, &out, NULL, &why),
                         ESP_EAUTH);
        assert_string_equal(why, "JWE decryption failed");
        /* A key store that failed to unwrap: the same error. */
        esg_jwe j;
        assert_int_equal(esg_jwe_parse(tok.data, tok.len, &o, &j, NULL), 0);
        assert_int_equal(esg_jwe_decrypt_content(&j, NULL, 0, &out, &why), ESP_EAUTH);
        uint8_t short_cek[8] = {0};
        assert_int_equal(esg_jwe_decrypt_content(&j, short_cek, 8, &out, &why), ESP_EAUTH);
        esg_jwe_clear(&j);
        /* A signature key cannot decrypt. */
        assert_int_equal(esg_jwe_decrypt(tok.data, tok.len, p256, &o, &out, NULL, &why),
                         ESP_EINVAL);
        /* Not allowed by the caller. */
        esg_jwe_opts gcm128 = {o.algs, ESG_JWE_ENC_BIT(ESG_JWE_A128GCM), NULL, 0, 0};
        assert_int_equal(esg_jwe_decrypt(tok.data, tok.len, rsa, &gcm128, &out, NULL, &why),
                         ESP_EINVAL);
        assert_string_equal(why, "JWE alg or enc not allowed");
        esg_buf_free(&tok);
        esg_buf_free(&out);
    }
    /* Header rules: zip, alg override, five parts. */
    json_t *zip = json_pack("{s:s}", "zip", "DEF");
    esg_buf tok = ESG_BUF_INIT, out = ESG_BUF_INIT;
    assert_int_equal(esg_jwe_encrypt(rsa, ESG_JWE_RSA_OAEP_256, ESG_JWE_A256GCM, zip, "x", 1, &tok),
                     ESP_EINVAL);
    json_t *crit = json_pack("{s:[s],s:i}", "crit", "exp", "exp", 1);
    assert_int_equal(
        esg_jwe_encrypt(rsa, ESG_JWE_RSA_OAEP_256, ESG_JWE_A256GCM, crit, "x", 1, &tok), 0);
    const char *why = NULL;
    assert_int_equal(esg_jwe_decrypt(tok.data, tok.len, rsa, &o, &out, NULL, &why), ESP_EINVAL);
    assert_string_equal(why, "crit extension not understood");
    assert_int_equal(esg_jwe_decrypt("a.b.c.d", 7, rsa, &o, &out, NULL, &why), ESP_EINVAL);
    assert_int_equal(esg_jwe_decrypt("a.b.c.d.e.f", 11, rsa, &o, &out, NULL, &why), ESP_EINVAL);
    esg_jwe_opts tiny = {o.algs, o.encs, NULL, 64, 0};
    assert_int_equal(esg_jwe_decrypt(tok.data, tok.len, rsa, &tiny, &out, NULL, &why), ESP_ETOOBIG);
    json_decref(crit);
    json_decref(zip);
    esg_buf_free(&tok);
    esg_buf_free(&out);
    json_decref(extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alg_none_rejected),
        cmocka_unit_test(hs256_with_public_key_rejected),
        cmocka_unit_test(key_type_must_fit_alg),
        cmocka_unit_test(alg_must_be_allowed),
        cmocka_unit_test(crit_rules),
        cmocka_unit_test(b64_false_needs_declaration),
        cmocka_unit_test(size_limits),
        cmocka_unit_test(malformed_compact),
        cmocka_unit_test(header_must_be_unique_object),
        cmocka_unit_test(truncated_and_der_signatures),
        cmocka_unit_test(ecdsa_scalars_and_points),
        cmocka_unit_test(jwk_strictness),
        cmocka_unit_test(jwk_use_and_key_ops),
        cmocka_unit_test(embedded_jwk_not_trusted),
        cmocka_unit_test(jwe_tampering),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
