/*
 * Fuzz target: DPoP proof verification (core/oauth/dpop.c). Byte 0 chooses the request the proof
 * is checked against; the rest is the DPoP header value.
 *   bits 0-1: the context: RFC 9449 Figure 2 (POST to https://server.example.com/token at its
 *             iat), Figure 13 (GET of the protected resource with the RFC's access token),
 *             Figure 7 (the refresh request), or POST to https://idp.example.com/token at
 *             1800000000 for generated proofs;
 *   bit 2:    the key must have the RFC examples' thumbprint;
 *   bit 3:    the nonce "eyJ7S_zG.eyJH0-Z.HX4w-7v" (RFC 9449 Figure 21) is expected;
 *   bit 4:    every implemented algorithm is allowed (else RS256, PS256, ES256);
 *   bit 5:    max_age is 1 second instead of 300;
 *   bit 6:    the rest is not a proof but the claims of one, which this target signs (ES256,
 *             RFC 7515 A.3 key) under a standard DPoP header, so that the fuzzer reaches every
 *             claim check behind a valid signature;
 *   bit 7:    with bit 6, the rest is "<header JSON>\n<claims JSON>" and both are signed as
 *             given, so that the header rules (typ, jwk, crit) are reached the same way.
 * Invariants, beyond no crash or leak: a refusal names its OAuth error and a reason; an accepted
 * proof has a 43-character base64url thumbprint equal to its header key's, and claims that a
 * second, independent reading finds as required (typ, htm, iat window, jti, ath, nonce).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/jwt.h"
#include "oauth/dpop.h"
#include "util/b64.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RFC_JKT   "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
#define RFC_AT    "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
#define RFC_NONCE "eyJ7S_zG.eyJH0-Z.HX4w-7v"

/* RFC 7515 A.3: the signing key of bit 6, and the header it is announced in. */
static const char a3_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","
    "\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}";
static const char a3_header[] =
    "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\","
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}}";

static esg_jwk *a3_key;

/* b64(header) "." b64(claims) "." ES256 signature, in `out`. 0, or -1 when signing failed. */
static int sign_proof(const uint8_t *header, size_t hn, const uint8_t *claims, size_t cn,
                      esg_buf *out)
{
    esg_buf sig = ESG_BUF_INIT;
    if (a3_key == NULL &&
        esg_jwk_import_json(a3_jwk, strlen(a3_jwk), ESG_JWK_ALLOW_PRIVATE, &a3_key, NULL) != 0)
        abort();
    int rc = esg_b64url_encode(out, header, hn);
    if (rc == 0)
        rc = esg_buf_putc(out, '.');
    if (rc == 0)
        rc = esg_b64url_encode(out, claims, cn);
    if (rc == 0)
        rc = esg_jws_sign_raw(esg_jwk_pkey(a3_key), "ES256", out->data, out->len, &sig);
    if (rc == 0)
        rc = esg_jws_compact_append(out, sig.data, sig.len);
    esg_buf_free(&sig);
    return rc == 0 ? 0 : -1;
}

static const struct {
    const char *method, *htu, *access_token;
    int64_t now;
} contexts[4] = {
    {"POST", "https://server.example.com/token", NULL, 1562262616},
    {"GET", "https://resource.example.org/protectedresource", RFC_AT, 1562262618},
    {"POST", "https://server.example.com/token", NULL, 1562265296},
    {"POST", "https://idp.example.com/token", NULL, 1800000000},
};

static int is_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static const char *claim(const json_t *claims, const char *name)
{
    return json_string_value(json_object_get(claims, name));
}

/* Reads an accepted proof again, without dpop.c, and aborts on any disagreement. */
static void recheck(const esg_dpop_request *r, const esg_dpop_result *out)
{
    esg_jws_opts o = {ESG_JWS_ALGS_ALL, NULL, 0, 0, 0};
    esg_jws j = ESG_JWS_INIT;
    json_t *claims = NULL;
    esg_jwt_error err;
    char jkt[ESG_JWK_THUMBPRINT_LEN + 1];
    if (strlen(out->jkt) != ESG_JWK_THUMBPRINT_LEN || !is_b64url(out->jkt, strlen(out->jkt)) ||
        out->reason != NULL || out->error != ESG_DPOP_ERR_NONE)
        abort();
    if (esg_jws_parse(r->proof, r->proof_len, &o, &j, NULL) != 0 ||
        (r->algs & ESG_JWS_ALG_BIT(j.alg)) == 0 ||
        esg_jwt_claims_parse(j.payload, j.payload_len, &claims, &err) != 0)
        abort();
    const char *typ = json_string_value(json_object_get(j.header, "typ"));
    if (typ == NULL || strcmp(typ, "dpop+jwt") != 0)
        abort();
    if (esg_jwk_json_has_private(json_object_get(j.header, "jwk")) ||
        esg_jwk_thumbprint_json(json_object_get(j.header, "jwk"), jkt, sizeof(jkt)) != 0 ||
        strcmp(jkt, out->jkt) != 0 || (r->jkt != NULL && strcmp(jkt, r->jkt) != 0))
        abort();
    const char *htm = claim(claims, "htm"), *jti = claim(claims, "jti");
    if (htm == NULL || strcmp(htm, r->method) != 0 || jti == NULL || strcmp(jti, out->jti) != 0 ||
        jti[0] == '\0' || claim(claims, "htu") == NULL)
        abort();
    const json_t *iat = json_object_get(claims, "iat");
    if (!json_is_number(iat) || out->iat < r->now - r->max_age - r->skew ||
        out->iat > r->now + r->skew)
        abort();
    if (r->access_token != NULL && claim(claims, "ath") == NULL)
        abort();
    const char *nonce = claim(claims, "nonce");
    if (r->nonce != NULL && (nonce == NULL || strcmp(nonce, r->nonce) != 0))
        abort();
    if (strcmp(out->nonce, nonce != NULL ? nonce : "") != 0)
        abort();
    json_decref(claims);
    esg_jws_clear(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    const char *proof = (const char *)data + 1;
    size_t len = size - 1;
    esg_buf signed_proof = ESG_BUF_INIT;
    if (opt & 64) {
        const uint8_t *h = (const uint8_t *)a3_header, *c = data + 1;
        size_t hn = strlen(a3_header), cn = size - 1;
        const uint8_t *nl = (opt & 128) ? memchr(data + 1, '\n', size - 1) : NULL;
        if (nl != NULL) {
            h = data + 1;
            hn = (size_t)(nl - h);
            c = nl + 1;
            cn = size - 1 - hn - 1;
        }
        if (sign_proof(h, hn, c, cn, &signed_proof) != 0) {
            esg_buf_free(&signed_proof);
            return 0;
        }
        proof = signed_proof.data;
        len = signed_proof.len;
    }
    esg_dpop_request r = {proof,
                          len,
                          contexts[opt & 3].method,
                          contexts[opt & 3].htu,
                          (opt & 16)
                              ? ESG_JWS_ALGS_ALL
                              : ESG_JWS_ALG_BIT(ESG_JWS_RS256) | ESG_JWS_ALG_BIT(ESG_JWS_PS256) |
                                    ESG_JWS_ALG_BIT(ESG_JWS_ES256),
                          contexts[opt & 3].now,
                          (opt & 32) ? 1 : 300,
                          10,
                          contexts[opt & 3].access_token,
                          contexts[opt & 3].access_token ? strlen(RFC_AT) : 0,
                          (opt & 8) ? RFC_NONCE : NULL,
                          (opt & 4) ? RFC_JKT : NULL};
    esg_dpop_result out;
    int rc = esg_dpop_verify(&r, &out);
    if (rc == 0)
        recheck(&r, &out);
    esg_buf_free(&signed_proof);
    if (rc == 0)
        return 0;
    if (out.error == ESG_DPOP_ERR_NONE || out.reason == NULL ||
        esg_dpop_error_code(out.error)[0] == '\0')
        abort();
    if (rc != ESP_EINVAL && rc != ESP_ETOOBIG && rc != ESP_ENOMEM && rc != ESP_EINTERNAL)
        abort();
    /* Only a proof valid in every other respect is sent for a nonce. */
    if (out.error == ESG_DPOP_ERR_USE_NONCE &&
        (r.nonce == NULL || strlen(out.jkt) != ESG_JWK_THUMBPRINT_LEN || out.jti[0] == '\0'))
        abort();
    return 0;
}
