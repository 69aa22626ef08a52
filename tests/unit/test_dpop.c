/*
 * DPoP proof verification (core/oauth/dpop.c, RFC 9449 §4.3): valid RS256, PS256 and ES256
 * proofs, the RFC's own examples, one refusal per rule with the OAuth error it maps to, and the
 * htu normalisation.
 */
#include "test_jose_util.h"

#include <openssl/evp.h>

#include "jose/jws.h"
#include "oauth/dpop.h"

#define NOW     1800000000
#define HTU     "https://idp.example.com/v1/esignet/oauth/v2/token"
#define MAX_AGE 60
#define SKEW    5
#define ALGS                                                                                       \
    (ESG_JWS_ALG_BIT(ESG_JWS_RS256) | ESG_JWS_ALG_BIT(ESG_JWS_PS256) |                             \
     ESG_JWS_ALG_BIT(ESG_JWS_ES256))

/* RFC 9449 Figure 2 (token request), Figure 7 (refresh) and Figure 13 (resource, with ath). */
static const char RFC9449_FIG2[] =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0"
    "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10"
    "NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjo"
    "iUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ."
    "2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
static const char RFC9449_FIG7[] =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0"
    "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10"
    "NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjo"
    "iUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjY1Mjk2fQ."
    "pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5QsGSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA";
static const char RFC9449_FIG13[] =
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0"
    "VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10"
    "NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjo"
    "iR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI"
    "6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2o"
    "W9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA";
/* RFC 9449 §6.1: the thumbprint of the examples' key; §7.1: the access token of Figure 13. */
#define RFC9449_JKT "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#define RFC9449_AT  "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"

static EVP_PKEY *rsa, *rsa_other, *p256, *p384, *ed;

/* {"typ":"dpop+jwt","alg":alg,"jwk":<public JWK of key>}. */
static json_t *header(EVP_PKEY *key, const char *alg)
{
    json_t *jwk = NULL;
    assert_int_equal(esg_jwk_public_json(key, &jwk), 0);
    json_t *h = json_pack("{s:s,s:s,s:o}", "typ", "dpop+jwt", "alg", alg, "jwk", jwk);
    assert_non_null(h);
    return h;
}

/* The claims of a fresh token-endpoint proof. */
static json_t *claims(void)
{
    json_t *c = json_pack("{s:s,s:s,s:s,s:I}", "jti", "Jd3kQ8-wXv0cL2pYb7Nz1A", "htm", "POST",
                          "htu", HTU, "iat", (json_int_t)NOW);
    assert_non_null(c);
    return c;
}

/* Signs `c` under `h` with `key` (the header's alg); takes both references. */
static char *sign(EVP_PKEY *key, json_t *h, json_t *c)
{
    char *payload = json_dumps(c, JSON_COMPACT);
    assert_non_null(payload);
    esg_buf out = ESG_BUF_INIT;
    assert_int_equal(esg_jws_sign(key, h, payload, strlen(payload), &out), 0);
    free(payload);
    json_decref(h);
    json_decref(c);
    return esg_buf_steal(&out, NULL);
}

/* A valid ES256 proof, with one claim replaced (or removed when `value` is NULL). */
static char *proof_with(const char *name, json_t *value)
{
    json_t *c = claims();
    if (value != NULL)
        json_object_set_new(c, name, value);
    else
        json_object_del(c, name);
    return sign(p256, header(p256, "ES256"), c);
}

/* The request of the token endpoint for `proof`. */
static esg_dpop_request request(const char *proof)
{
    esg_dpop_request r = {proof,   strlen(proof), "POST", HTU, ALGS, NOW,
                          MAX_AGE, SKEW,          NULL,   0,   NULL, NULL};
    return r;
}

/* Verifies and checks the status and error; returns the reason (static). */
static const char *expect(const esg_dpop_request *r, int status, esg_dpop_error error,
                          esg_dpop_result *out)
{
    esg_dpop_result local;
    if (out == NULL)
        out = &local;
    int rc = esg_dpop_verify(r, out);
    if (rc != status || out->error != error)
        fail_msg("status %d error %d (%s), expected %d and %d", rc, (int)out->error,
                 out->reason ? out->reason : "-", status, (int)error);
    if (status != 0) {
        assert_non_null(out->reason);
    } else {
        assert_null(out->reason);
        assert_int_equal(strlen(out->jkt), ESG_JWK_THUMBPRINT_LEN);
    }
    return out->reason;
}

static const char *refused(const esg_dpop_request *r)
{
    return expect(r, ESP_EINVAL, ESG_DPOP_ERR_INVALID_PROOF, NULL);
}

/* The reason the token endpoint refuses claims `c` signed by `key` under `h` (both taken). */
static const char *refusal(EVP_PKEY *key, json_t *h, json_t *c)
{
    char *p = sign(key, h, c);
    esg_dpop_request r = request(p);
    const char *why = refused(&r);
    free(p);
    return why;
}

/* The reason a valid ES256 proof is refused once claim `name` is replaced (NULL: removed). */
static const char *refusal_with(const char *name, json_t *value)
{
    char *p = proof_with(name, value);
    esg_dpop_request r = request(p);
    const char *why = refused(&r);
    free(p);
    return why;
}

/* Verifies a valid ES256 proof with claim `name` replaced; it must pass. Fills *out. */
static void accepted_with(const char *name, json_t *value, esg_dpop_result *out)
{
    char *p = proof_with(name, value);
    esg_dpop_request r = request(p);
    expect(&r, 0, ESG_DPOP_ERR_NONE, out);
    free(p);
}

/* A proof signed by `key` with `alg` passes, and its thumbprint is the key's. */
static void check_valid(EVP_PKEY *key, const char *alg, esg_jws_alg id)
{
    char *p = sign(key, header(key, alg), claims());
    esg_dpop_request r = request(p);
    esg_dpop_result out;
    expect(&r, 0, ESG_DPOP_ERR_NONE, &out);
    char jkt[ESG_JWK_THUMBPRINT_LEN + 1];
    assert_int_equal(esg_jwk_thumbprint_pkey(key, jkt, sizeof(jkt)), 0);
    assert_string_equal(out.jkt, jkt);
    assert_string_equal(out.jti, "Jd3kQ8-wXv0cL2pYb7Nz1A");
    assert_int_equal(out.iat, NOW);
    assert_string_equal(out.nonce, "");
    /* Bound to that key, and to this algorithm set only. */
    r.jkt = jkt;
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    r.algs = ESG_JWS_ALGS_ALL & ~ESG_JWS_ALG_BIT(id);
    assert_string_equal(refused(&r), "JWS algorithm not allowed");
    free(p);
}

static void valid_proofs(void **state)
{
    (void)state;
    check_valid(rsa, "RS256", ESG_JWS_RS256);
    check_valid(rsa, "PS256", ESG_JWS_PS256);
    check_valid(p256, "ES256", ESG_JWS_ES256);
    /* Other algorithms only when the caller allows them. */
    char *p = sign(ed, header(ed, "EdDSA"), claims());
    esg_dpop_request r = request(p);
    assert_string_equal(refused(&r), "JWS algorithm not allowed");
    r.algs = ESG_JWS_ALG_BIT(ESG_JWS_EDDSA);
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    free(p);
    assert_string_equal(refusal(p384, header(p384, "ES384"), claims()),
                        "JWS algorithm not allowed");
}

static void rfc9449_examples(void **state)
{
    (void)state;
    esg_dpop_result out;
    esg_dpop_request r = request(RFC9449_FIG2);
    r.htu = "https://server.example.com/token";
    r.now = 1562262616 + 10;
    expect(&r, 0, ESG_DPOP_ERR_NONE, &out);
    assert_string_equal(out.jkt, RFC9449_JKT);
    assert_string_equal(out.jti, "-BwC3ESc6acc2lTc");
    assert_int_equal(out.iat, 1562262616);
    /* The same proof a day later is stale; at another endpoint it does not apply. */
    r.now = 1562262616 + 86400;
    assert_string_equal(refused(&r), "DPoP proof iat is too old");
    r.now = 1562262616;
    r.htu = "https://server.example.com/par";
    assert_string_equal(refused(&r), "DPoP proof htu does not match the request URL");

    r = request(RFC9449_FIG7);
    r.htu = "https://server.example.com/token";
    r.now = 1562265296;
    r.jkt = RFC9449_JKT;
    expect(&r, 0, ESG_DPOP_ERR_NONE, &out);
    assert_int_equal(out.iat, 1562265296);

    r = request(RFC9449_FIG13);
    r.method = "GET";
    r.htu = "https://resource.example.org/protectedresource";
    r.now = 1562262618;
    r.access_token = RFC9449_AT;
    r.access_token_len = strlen(RFC9449_AT);
    r.jkt = RFC9449_JKT;
    expect(&r, 0, ESG_DPOP_ERR_NONE, &out);
    assert_string_equal(out.jti, "e1j3V_bKic8-LAEB");
    r.access_token_len--;
    assert_string_equal(refused(&r), "DPoP proof ath does not match the access token");
    /* ES256 is not in eSignet's default set (RS256, PS256). */
    r.access_token_len++;
    r.algs = ESG_JWS_ALG_BIT(ESG_JWS_RS256) | ESG_JWS_ALG_BIT(ESG_JWS_PS256);
    assert_string_equal(refused(&r), "JWS algorithm not allowed");
}

static void typ_must_be_dpop_jwt(void **state)
{
    (void)state;
    static const char *const bad[] = {"JWT", "DPOP+JWT", "application/dpop+jwt", "dpop+jwt ",
                                      "dpop"};
    for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *h = header(p256, "ES256");
        if (i < sizeof(bad) / sizeof(bad[0]))
            json_object_set_new(h, "typ", json_string(bad[i]));
        else
            json_object_del(h, "typ");
        assert_string_equal(refusal(p256, h, claims()), "DPoP proof typ is not dpop+jwt");
    }
    json_t *h = header(p256, "ES256");
    json_object_set_new(h, "typ", json_integer(1));
    refusal(p256, h, claims());
}

/* header "." payload "." signature, each part given as raw bytes. */
static char *compact(const char *hdr, const char *payload, const void *sig, size_t sig_len)
{
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_encode(&b, hdr, strlen(hdr)), 0);
    assert_int_equal(esg_buf_putc(&b, '.'), 0);
    assert_int_equal(esg_b64url_encode(&b, payload, strlen(payload)), 0);
    assert_int_equal(esg_jws_compact_append(&b, sig, sig_len), 0);
    return esg_buf_steal(&b, NULL);
}

static void alg_none_and_hmac_refused(void **state)
{
    (void)state;
    json_t *h = header(p256, "none");
    json_t *c = claims();
    char *hs = json_dumps(h, JSON_COMPACT), *cs = json_dumps(c, JSON_COMPACT);
    char *p = compact(hs, cs, "x", 1);
    esg_dpop_request r = request(p);
    r.algs = ~(esg_jws_alg_set)0;
    assert_string_equal(refused(&r), "JWS algorithm not supported");
    free(p);
    /* HS256 keyed with the public JWK (the classic confusion): never implemented. */
    free(hs);
    json_object_set_new(h, "alg", json_string("HS256"));
    hs = json_dumps(h, JSON_COMPACT);
    char *jwk = json_dumps(json_object_get(h, "jwk"), JSON_COMPACT);
    esg_buf input = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_encode(&input, hs, strlen(hs)), 0);
    assert_int_equal(esg_buf_putc(&input, '.'), 0);
    assert_int_equal(esg_b64url_encode(&input, cs, strlen(cs)), 0);
    unsigned char mac[32];
    size_t mac_len = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, jwk, strlen(jwk),
                              (const unsigned char *)input.data, input.len, mac, sizeof(mac),
                              &mac_len));
    p = compact(hs, cs, mac, mac_len);
    r = request(p);
    r.algs = ~(esg_jws_alg_set)0;
    assert_string_equal(refused(&r), "JWS algorithm not supported");
    free(p);
    esg_buf_free(&input);
    free(jwk);
    free(hs);
    free(cs);
    json_decref(h);
    json_decref(c);
}

static void jwk_rules(void **state)
{
    (void)state;
    /* No jwk at all (a kid instead). */
    json_t *h = header(p256, "ES256");
    json_object_del(h, "jwk");
    json_object_set_new(h, "kid", json_string("k1"));
    assert_string_equal(refusal(p256, h, claims()), "DPoP proof has no jwk header");

    /* Private keys, of every type, are refused even when the signature would verify. */
    EVP_PKEY *keys[] = {p256, rsa};
    const char *algs[] = {"ES256", "RS256"};
    for (size_t i = 0; i < 2; i++) {
        esg_jwk *w = NULL;
        json_t *priv = NULL;
        assert_int_equal(esg_jwk_wrap(keys[i], &w), 0);
        assert_int_equal(esg_jwk_export(w, ESG_JWK_EXPORT_PRIVATE, &priv), 0);
        h = header(keys[i], algs[i]);
        json_object_set_new(h, "jwk", priv);
        assert_string_equal(refusal(keys[i], h, claims()), "DPoP proof jwk holds a private key");
        esg_jwk_free(w);
    }
    static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "k"};
    for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
        h = header(p256, "ES256");
        json_object_set_new(json_object_get(h, "jwk"), private_members[i], json_string("AAAA"));
        assert_string_equal(refusal(p256, h, claims()), "DPoP proof jwk holds a private key");
    }
    h = header(p256, "ES256");
    json_object_set_new(h, "jwk", json_pack("{s:s,s:s}", "kty", "oct", "k", "c2VjcmV0"));
    assert_string_equal(refusal(p256, h, claims()), "DPoP proof jwk holds a private key");

    /* Not a key, a key of the wrong type for alg, a key not meant for signatures. */
    h = header(p256, "ES256");
    json_object_set_new(h, "jwk", json_string("not a key"));
    refusal(p256, h, claims());
    h = header(rsa, "ES256");
    refusal(p256, h, claims());
    h = header(p256, "ES256");
    json_object_set_new(json_object_get(h, "jwk"), "use", json_string("enc"));
    assert_string_equal(refusal(p256, h, claims()), "the key's use does not allow this operation");
    h = header(rsa, "PS256");
    json_object_set_new(json_object_get(h, "jwk"), "alg", json_string("RS256"));
    refusal(rsa, h, claims());
}

static void signature_must_verify(void **state)
{
    (void)state;
    /* Signed by another key than the one in the header. */
    assert_string_equal(refusal(rsa_other, header(rsa, "PS256"), claims()),
                        "JWS signature does not verify");
    /* A claim changed after signing. */
    char *good = sign(p256, header(p256, "ES256"), claims());
    json_t *c = claims();
    json_object_set_new(c, "htm", json_string("GET"));
    char *cs = json_dumps(c, JSON_COMPACT);
    char *p = tj_replace_part(good, 1, cs, strlen(cs));
    esg_dpop_request r = request(p);
    r.method = "GET";
    assert_string_equal(refused(&r), "JWS signature does not verify");
    free(p);
    /* One bit of the signature flipped; a truncated signature. */
    esg_buf sig = ESG_BUF_INIT;
    tj_part_bytes(good, 2, &sig);
    sig.data[5] ^= 1;
    p = tj_replace_part(good, 2, sig.data, sig.len);
    r = request(p);
    assert_string_equal(refused(&r), "JWS signature does not verify");
    free(p);
    p = tj_replace_part(good, 2, sig.data, sig.len - 1);
    r = request(p);
    refused(&r);
    free(p);
    esg_buf_free(&sig);
    json_decref(c);
    free(cs);
    free(good);
}

static void htm_must_match(void **state)
{
    (void)state;
    char *p = sign(p256, header(p256, "ES256"), claims());
    esg_dpop_request r = request(p);
    r.method = "GET";
    assert_string_equal(refused(&r), "DPoP proof htm does not match the request method");
    r.method = "post";
    refused(&r);
    r.method = "POSTS";
    refused(&r);
    free(p);
    assert_string_equal(refusal_with("htm", json_integer(1)), "DPoP proof htm is not a string");
    assert_string_equal(refusal_with("htm", NULL), "DPoP proof has no htm");
}

static void htu_must_match(void **state)
{
    (void)state;
    static const char *const same[] = {
        HTU,
        HTU "?x=1",
        HTU "#frag",
        HTU "?a=b#c",
        "HTTPS://IDP.Example.COM/v1/esignet/oauth/v2/token",
        "https://idp.example.com:443/v1/esignet/oauth/v2/token",
        "https://idp.example.com:/v1/esignet/oauth/v2/token",
        "https://idp.example.com/v1/esignet/oauth/./v2/token",
        "https://idp.example.com/v1/esignet/x/../oauth/v2/token",
        "https://idp.example.com/v1/%65signet/oauth/v2/token",
    };
    static const char *const other[] = {
        "http://idp.example.com/v1/esignet/oauth/v2/token",
        "https://idp.example.com:8443/v1/esignet/oauth/v2/token",
        "https://idp.example.org/v1/esignet/oauth/v2/token",
        "https://idp.example.com/v1/esignet/oauth/v2/token/",
        "https://idp.example.com/v1/esignet/oauth/v2/Token",
        "https://idp.example.com/v1/esignet/oauth/v2/par",
        "https://idp.example.com/v1/esignet/oauth//v2/token",
        "https://idp.example.com/v1/esignet/oauth/v2/token%2F",
    };
    static const char *const malformed[] = {
        "/v1/esignet/oauth/v2/token",
        "ftp://idp.example.com/v1/esignet/oauth/v2/token",
        "https:/idp.example.com/v1/esignet/oauth/v2/token",
        "https://user@idp.example.com/v1/esignet/oauth/v2/token",
        "https://idp.example.com:99999/v1/esignet/oauth/v2/token",
        "https://idp.example.com:44a/v1/esignet/oauth/v2/token",
        "https://idp.example.com/v1/esignet oauth/v2/token",
        "https://idp.example.com/v1/esignet/oauth/v2/token%zz",
        "https://idp.example.com/v1/esignet/oauth/v2/token%4",
        "https:///v1/esignet/oauth/v2/token",
        "",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        accepted_with("htu", json_string(same[i]), NULL);
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        assert_string_equal(refusal_with("htu", json_string(other[i])),
                            "DPoP proof htu does not match the request URL");
    }
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        assert_string_equal(refusal_with("htu", json_string(malformed[i])),
                            "DPoP proof htu is not an http or https URL");
    }
    /* The configured URL's own query and fragment do not count either. */
    char *p = sign(p256, header(p256, "ES256"), claims());
    esg_dpop_request r = request(p);
    r.htu = HTU "?tenant=1#x";
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    free(p);
    assert_string_equal(refusal_with("htu", NULL), "DPoP proof has no htu");
    refusal_with("htu", json_pack("[s]", HTU));
}

static void htu_normalisation(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"HTTP://Example.COM", "http://example.com/"},
        {"http://example.com:80/a", "http://example.com/a"},
        {"http://example.com:0080/a", "http://example.com/a"},
        {"https://example.com:80/a", "https://example.com:80/a"},
        {"https://example.com:08443/a", "https://example.com:8443/a"},
        {"https://[2001:DB8::1]:443/a", "https://[2001:db8::1]/a"},
        {"https://[::1]:8080", "https://[::1]:8080/"},
        {"https://h/a/b/c/./../../g", "https://h/a/g"},
        {"https://h/mid/content=5/../6", "https://h/mid/6"},
        {"https://h/..", "https://h/"},
        {"https://h/a/..", "https://h/"},
        {"https://h/a/./", "https://h/a/"},
        {"https://h/a//..", "https://h/a/"},
        {"https://h/%7Euser/%2fx/%c3%a9", "https://h/~user/%2Fx/%C3%A9"},
        {"https://h/a/%2E%2e/b", "https://h/b"},
        {"https://h/%41%2E./b", "https://h/A../b"},
        {"https://h/A?q=%zz#f", "https://h/A"},
        {"https://h?q", "https://h/"},
        {"https://h#", "https://h/"},
    };
    char out[ESG_DPOP_MAX_HTU + 2];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (esg_dpop_htu_normalize(cases[i][0], strlen(cases[i][0]), out, sizeof(out)) != 0)
            fail_msg("%s refused", cases[i][0]);
        assert_string_equal(out, cases[i][1]);
    }
    static const char *const bad[] = {
        "https://h/\x01", "https://h/\xc3\xa9", "https://h/{x}", "https://[::1/", "https://h:1:2/",
        "https://h%41/",  "https://[::1]x:1/",  "mailto:a@b",    "https:",        "http//h/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(esg_dpop_htu_normalize(bad[i], strlen(bad[i]), out, sizeof(out)),
                         ESP_EINVAL);
    /* Bounded: the input, and the room the caller gives. */
    char big[ESG_DPOP_MAX_HTU + 2];
    memcpy(big, "https://h/", 10);
    memset(big + 10, 'a', sizeof(big) - 11);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(esg_dpop_htu_normalize(big, strlen(big), out, sizeof(out)), ESP_EINVAL);
    assert_int_equal(esg_dpop_htu_normalize(big, ESG_DPOP_MAX_HTU, out, sizeof(out)), 0);
    assert_int_equal(esg_dpop_htu_normalize("https://h", 9, out, 10), ESP_EINVAL);
    assert_int_equal(esg_dpop_htu_normalize("https://h", 9, out, 11), 0);
    assert_string_equal(out, "https://h/");
}

static void iat_window(void **state)
{
    (void)state;
    /* [now - max_age - skew, now + skew], inclusive. */
    const json_int_t ok[] = {NOW, NOW - MAX_AGE - SKEW, NOW + SKEW};
    esg_dpop_result out;
    for (size_t i = 0; i < 3; i++)
        accepted_with("iat", json_integer(ok[i]), &out);
    assert_string_equal(refusal_with("iat", json_integer(NOW - MAX_AGE - SKEW - 1)),
                        "DPoP proof iat is too old");
    assert_string_equal(refusal_with("iat", json_integer(NOW + SKEW + 1)),
                        "DPoP proof iat is in the future");
    accepted_with("iat", json_real(NOW + 0.75), &out);
    assert_int_equal(out.iat, NOW);
    assert_string_equal(refusal_with("iat", json_string("1800000000")),
                        "DPoP proof claim has the wrong type");
    assert_string_equal(refusal_with("iat", NULL), "DPoP proof has no iat");
    /* exp, when a client adds one, is honoured too. */
    refusal_with("exp", json_integer(NOW - SKEW));
}

static void jti_rules(void **state)
{
    (void)state;
    assert_string_equal(refusal_with("jti", NULL), "DPoP proof has no jti");
    assert_string_equal(refusal_with("jti", json_string("")),
                        "DPoP proof jti is empty, too long or not printable");
    refusal_with("jti", json_string("a\nb"));
    refusal_with("jti", json_integer(7));
    char long_jti[ESG_DPOP_MAX_JTI + 2];
    memset(long_jti, 'j', sizeof(long_jti) - 1);
    long_jti[sizeof(long_jti) - 1] = '\0';
    refusal_with("jti", json_string(long_jti));
    long_jti[ESG_DPOP_MAX_JTI] = '\0';
    esg_dpop_result out;
    accepted_with("jti", json_string(long_jti), &out);
    assert_string_equal(out.jti, long_jti);
}

/* base64url(SHA-256(at)). */
static void ath_of(const char *at, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(at, strlen(at), md, &n, EVP_sha256(), NULL), 1);
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
}

static void ath_rules(void **state)
{
    (void)state;
    static const char at[] = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
    char ath[44];
    ath_of(at, ath);
    char *p = proof_with("ath", json_string(ath));
    esg_dpop_request r = request(p);
    r.access_token = at;
    r.access_token_len = strlen(at);
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    /* Another token: the proof was made for this one. */
    r.access_token = "other-token";
    r.access_token_len = strlen(r.access_token);
    assert_string_equal(refused(&r), "DPoP proof ath does not match the access token");
    /* Without an access token ath is not looked at. */
    r.access_token = NULL;
    r.access_token_len = 0;
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    free(p);
    /* An access token but no ath, or an ath of the wrong form. */
    p = sign(p256, header(p256, "ES256"), claims());
    r = request(p);
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    r.access_token = at;
    r.access_token_len = strlen(at);
    assert_string_equal(refused(&r), "DPoP proof has no ath for the access token");
    free(p);
    ath[42] = ath[42] == 'A' ? 'B' : 'A';
    p = proof_with("ath", json_string(ath));
    r.proof = p;
    r.proof_len = strlen(p);
    assert_string_equal(refused(&r), "DPoP proof ath does not match the access token");
    free(p);
    ath[42] = '\0';
    p = proof_with("ath", json_string(ath));
    r.proof = p;
    r.proof_len = strlen(p);
    refused(&r);
    free(p);
    p = proof_with("ath", json_integer(1));
    r.proof = p;
    r.proof_len = strlen(p);
    assert_string_equal(refused(&r), "DPoP proof ath is not a string");
    free(p);
}

static void nonce_rules(void **state)
{
    (void)state;
    esg_dpop_result out;
    /* Expected but absent: use_dpop_nonce, with the key and jti already known. */
    char *p = sign(p256, header(p256, "ES256"), claims());
    esg_dpop_request r = request(p);
    r.nonce = "n-0123456789abcdef";
    assert_string_equal(expect(&r, ESP_EINVAL, ESG_DPOP_ERR_USE_NONCE, &out),
                        "DPoP proof has no nonce");
    assert_int_equal(strlen(out.jkt), ESG_JWK_THUMBPRINT_LEN);
    assert_string_equal(out.jti, "Jd3kQ8-wXv0cL2pYb7Nz1A");
    assert_string_equal(esg_dpop_error_code(out.error), "use_dpop_nonce");
    free(p);
    /* Present and equal; present and different (an older nonce, a prefix, a longer one). */
    p = proof_with("nonce", json_string("n-0123456789abcdef"));
    r = request(p);
    r.nonce = "n-0123456789abcdef";
    expect(&r, 0, ESG_DPOP_ERR_NONE, &out);
    assert_string_equal(out.nonce, "n-0123456789abcdef");
    static const char *const wrong[] = {"n-0123456789abcdee", "n-0123456789abcde",
                                        "n-0123456789abcdef0"};
    for (size_t i = 0; i < 3; i++) {
        r.nonce = wrong[i];
        assert_string_equal(expect(&r, ESP_EINVAL, ESG_DPOP_ERR_USE_NONCE, NULL),
                            "DPoP proof nonce is not the current one");
    }
    /* Not expected: accepted and handed back for the caller's own check. */
    r.nonce = NULL;
    expect(&r, 0, ESG_DPOP_ERR_NONE, &out);
    assert_string_equal(out.nonce, "n-0123456789abcdef");
    free(p);
    /* A nonce outside the RFC 9449 §8.1 syntax is a malformed proof, expected or not. */
    static const char *const malformed[] = {"", "a b", "a\"b", "a\\b", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        p = proof_with("nonce", json_string(malformed[i]));
        r = request(p);
        assert_string_equal(refused(&r), "DPoP proof nonce is malformed");
        r.nonce = "n";
        refused(&r);
        free(p);
    }
    p = proof_with("nonce", json_integer(5));
    r = request(p);
    r.nonce = "5";
    assert_string_equal(refused(&r), "DPoP proof nonce is malformed");
    free(p);
    /* Every other failure wins over the nonce: fixing the nonce alone must be enough. */
    p = sign(p256, header(p256, "ES256"), claims());
    r = request(p);
    r.nonce = "n";
    r.method = "GET";
    refused(&r);
    free(p);
}

static void jkt_binding(void **state)
{
    (void)state;
    char *p = sign(rsa, header(rsa, "RS256"), claims());
    esg_dpop_request r = request(p);
    char other[ESG_JWK_THUMBPRINT_LEN + 1];
    assert_int_equal(esg_jwk_thumbprint_pkey(rsa_other, other, sizeof(other)), 0);
    r.jkt = other;
    assert_string_equal(refused(&r), "DPoP proof key is not the bound key (jkt)");
    r.jkt = "";
    refused(&r);
    char mine[ESG_JWK_THUMBPRINT_LEN + 2];
    assert_int_equal(esg_jwk_thumbprint_pkey(rsa, mine, sizeof(mine)), 0);
    r.jkt = mine;
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    strcat(mine, "A");
    refused(&r);
    free(p);
}

static void sizes_and_shapes(void **state)
{
    (void)state;
    /* Larger than ESG_DPOP_MAX_PROOF: refused before decoding. */
    char *good = sign(p256, header(p256, "ES256"), claims());
    esg_buf big = ESG_BUF_INIT;
    assert_int_equal(esg_buf_puts(&big, good), 0);
    while (big.len <= ESG_DPOP_MAX_PROOF)
        assert_int_equal(esg_buf_putc(&big, 'A'), 0);
    esg_dpop_request r = request(big.data);
    assert_string_equal(expect(&r, ESP_ETOOBIG, ESG_DPOP_ERR_INVALID_PROOF, NULL),
                        "DPoP proof is too large");
    esg_buf_free(&big);
    /* A padded claim within the limit is fine; a padded header beyond its own limit is not. */
    char pad[3000];
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    char *p = proof_with("pad", json_string(pad));
    r = request(p);
    expect(&r, 0, ESG_DPOP_ERR_NONE, NULL);
    free(p);
    json_t *h = header(p256, "ES256");
    json_object_set_new(json_object_get(h, "jwk"), "pad", json_string(pad));
    p = sign(p256, h, claims());
    r = request(p);
    assert_int_equal(esg_dpop_verify(&r, &(esg_dpop_result){0}), ESP_ETOOBIG);
    free(p);
    /* Not exactly one compact JWS. */
    esg_buf two = ESG_BUF_INIT;
    assert_int_equal(esg_buf_printf(&two, "%s, %s", good, good), 0);
    const char *shapes[] = {"", "a.b", "a.b.c.d.e", two.data, " x.y.z"};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        r = request(shapes[i]);
        refused(&r);
    }
    esg_buf_free(&two);
    esg_buf lead = ESG_BUF_INIT;
    assert_int_equal(esg_buf_printf(&lead, " %s", good), 0);
    r = request(lead.data);
    refused(&r);
    esg_buf_free(&lead);
    r = request(good);
    r.proof = NULL;
    assert_string_equal(refused(&r), "DPoP proof is empty");
    /* Claims that are not one JSON object. */
    p = tj_replace_part(good, 1, "[1]", 3);
    r = request(p);
    refused(&r);
    free(p);
    h = header(p256, "ES256");
    char *hs = json_dumps(h, JSON_COMPACT);
    esg_buf in = ESG_BUF_INIT, sig = ESG_BUF_INIT;
    const char *dup =
        "{\"jti\":\"a\",\"jti\":\"b\",\"htm\":\"POST\",\"htu\":\"" HTU "\",\"iat\":1800000000}";
    assert_int_equal(esg_b64url_encode(&in, hs, strlen(hs)), 0);
    assert_int_equal(esg_buf_putc(&in, '.'), 0);
    assert_int_equal(esg_b64url_encode(&in, dup, strlen(dup)), 0);
    assert_int_equal(esg_jws_sign_raw(p256, "ES256", in.data, in.len, &sig), 0);
    assert_int_equal(esg_jws_compact_append(&in, sig.data, sig.len), 0);
    r = request(in.data);
    assert_string_equal(refused(&r), "DPoP proof claims are not a JSON object");
    esg_buf_free(&in);
    esg_buf_free(&sig);
    free(hs);
    /* crit the verifier does not understand, and an unencoded payload. */
    json_object_set_new(h, "crit", json_pack("[s]", "exp"));
    json_object_set_new(h, "exp", json_integer(1));
    refusal(p256, h, claims());
    free(good);
}

static void misuse_is_a_server_error(void **state)
{
    (void)state;
    char *p = sign(p256, header(p256, "ES256"), claims());
    esg_dpop_request base = request(p);
    esg_dpop_request r = base;
    r.method = NULL;
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    r = base;
    r.method = "";
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    r = base;
    r.htu = "/oauth/v2/token";
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    r = base;
    r.htu = NULL;
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    r = base;
    r.max_age = 0;
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    r = base;
    r.skew = -1;
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    r = base;
    r.algs = 0;
    expect(&r, ESP_ECONFIG, ESG_DPOP_ERR_SERVER, NULL);
    /* now == 0 is the wall clock: a proof from 2027 is in the future or stale, never valid. */
    r = base;
    r.now = 0;
    refused(&r);
    assert_string_equal(esg_dpop_error_code(ESG_DPOP_ERR_INVALID_PROOF), "invalid_dpop_proof");
    assert_string_equal(esg_dpop_error_code(ESG_DPOP_ERR_SERVER), "server_error");
    assert_string_equal(esg_dpop_error_code(ESG_DPOP_ERR_NONE), "");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_proofs),
        cmocka_unit_test(rfc9449_examples),
        cmocka_unit_test(typ_must_be_dpop_jwt),
        cmocka_unit_test(alg_none_and_hmac_refused),
        cmocka_unit_test(jwk_rules),
        cmocka_unit_test(signature_must_verify),
        cmocka_unit_test(htm_must_match),
        cmocka_unit_test(htu_must_match),
        cmocka_unit_test(htu_normalisation),
        cmocka_unit_test(iat_window),
        cmocka_unit_test(jti_rules),
        cmocka_unit_test(ath_rules),
        cmocka_unit_test(nonce_rules),
        cmocka_unit_test(jkt_binding),
        cmocka_unit_test(sizes_and_shapes),
        cmocka_unit_test(misuse_is_a_server_error),
    };
    if (tj_keys_generate(&rsa, &rsa_other, &p256, &p384, &ed) != 0)
        return 1;
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    tj_keys_free(rsa, rsa_other, p256, p384, ed);
    return failed;
}
