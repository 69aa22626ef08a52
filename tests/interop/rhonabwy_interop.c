/*
 * Interop with librhonabwy (GnuTLS/Nettle, independent of OpenSSL), linked into this test only.
 * Every rhonabwy call passes R_FLAG_IGNORE_REMOTE so that nothing is ever fetched. Checks, for
 * RS256, PS256, ES256 and EdDSA: our JWS verifies there and theirs here; the same RFC 7638
 * thumbprint; and RSA-OAEP-256 + A256GCM JWEs in both directions. Prints one line per check and
 * "N passed, M failed"; exits non-zero on any failure.
 */
#include <rhonabwy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwe.h"
#include "jose/jwk.h"
#include "jose/jws.h"

static int passed, failed;

static void report(int ok, const char *what, const char *alg)
{
    printf("%s %s %s\n", ok ? "ok  " : "FAIL", alg, what);
    if (ok)
        passed++;
    else
        failed++;
}

/* A rhonabwy key from our key's JWK (private when asked). */
static jwk_t *to_rhonabwy(const esg_jwk *k, int priv)
{
    json_t *j = NULL;
    jwk_t *r = NULL;
    if (esg_jwk_export(k, priv ? ESG_JWK_EXPORT_PRIVATE : 0, &j) != 0)
        return NULL;
    char *text = json_dumps(j, JSON_COMPACT);
    if (text == NULL || r_jwk_init(&r) != RHN_OK || r_jwk_import_from_json_str(r, text) != RHN_OK) {
        r_jwk_free(r);
        r = NULL;
    }
    free(text);
    json_decref(j);
    return r;
}

static void signatures(const char *spec, const char *alg, jwa_alg ralg)
{
    static const char payload[] = "{\"iss\":\"https://idp.example\",\"sub\":\"rhonabwy\"}";
    EVP_PKEY *pkey = NULL;
    esg_jwk *k = NULL;
    jwk_t *rpub = NULL, *rpriv = NULL;
    jws_t *jws = NULL;
    esg_buf tok = ESG_BUF_INIT;
    char *theirs = NULL;
    if (esg_jwk_generate(spec, &pkey) != 0 || esg_jwk_wrap(pkey, &k) != 0 ||
        (rpub = to_rhonabwy(k, 0)) == NULL || (rpriv = to_rhonabwy(k, 1)) == NULL) {
        report(0, "key setup", alg);
        goto done;
    }
    /* Ours -> rhonabwy. */
    json_t *hdr = json_pack("{s:s}", "alg", alg);
    int ok = esg_jws_sign(pkey, hdr, payload, strlen(payload), &tok) == 0 &&
             r_jws_init(&jws) == RHN_OK &&
             r_jws_parse(jws, tok.data, R_FLAG_IGNORE_REMOTE) == RHN_OK &&
             r_jws_get_alg(jws) == ralg &&
             r_jws_verify_signature(jws, rpub, R_FLAG_IGNORE_REMOTE) == RHN_OK;
    json_decref(hdr);
    report(ok, "esg signs, rhonabwy verifies", alg);
    r_jws_free(jws);
    jws = NULL;
    /* Rhonabwy -> ours. */
    ok = r_jws_init(&jws) == RHN_OK && r_jws_set_alg(jws, ralg) == RHN_OK &&
         r_jws_set_payload(jws, (const unsigned char *)payload, strlen(payload)) == RHN_OK &&
         (theirs = r_jws_serialize(jws, rpriv, R_FLAG_IGNORE_REMOTE)) != NULL;
    if (ok) {
        esg_jws_alg a;
        esg_jws_alg_from_name(alg, strlen(alg), &a);
        esg_jws_opts o = {ESG_JWS_ALG_BIT(a), NULL, 0, 0, 0};
        esg_jws j = ESG_JWS_INIT;
        ok = esg_jws_verify(theirs, strlen(theirs), pkey, &o, &j, NULL) == 0 &&
             j.payload_len == strlen(payload) && memcmp(j.payload, payload, j.payload_len) == 0;
        esg_jws_clear(&j);
    }
    report(ok, "rhonabwy signs, esg verifies", alg);
    /* Thumbprints. */
    char tp[ESG_JWK_THUMBPRINT_LEN + 1];
    char *rtp = r_jwk_thumbprint(rpub, R_JWK_THUMB_SHA256, R_FLAG_IGNORE_REMOTE);
    report(rtp != NULL && esg_jwk_thumbprint(k, tp, sizeof(tp)) == 0 && strcmp(rtp, tp) == 0,
           "same thumbprint", alg);
    r_free(rtp);
done:
    r_free(theirs);
    r_jws_free(jws);
    r_jwk_free(rpub);
    r_jwk_free(rpriv);
    esg_buf_free(&tok);
    esg_jwk_free(k);
    EVP_PKEY_free(pkey);
}

static void encryption(void)
{
    static const char secret[] = "{\"sub\":\"rhonabwy\",\"nonce\":\"n-0S6_WzA2Mj\"}";
    EVP_PKEY *pkey = NULL;
    esg_jwk *k = NULL;
    jwk_t *rpub = NULL, *rpriv = NULL;
    jwe_t *jwe = NULL;
    esg_buf tok = ESG_BUF_INIT, out = ESG_BUF_INIT;
    char *theirs = NULL;
    size_t n = 0;
    const char *alg = "RSA-OAEP-256/A256GCM";
    if (esg_jwk_generate("RSA-2048", &pkey) != 0 || esg_jwk_wrap(pkey, &k) != 0 ||
        (rpub = to_rhonabwy(k, 0)) == NULL || (rpriv = to_rhonabwy(k, 1)) == NULL) {
        report(0, "key setup", alg);
        goto done;
    }
    int ok = esg_jwe_encrypt(pkey, ESG_JWE_RSA_OAEP_256, ESG_JWE_A256GCM, NULL, secret,
                             strlen(secret), &tok) == 0 &&
             r_jwe_init(&jwe) == RHN_OK &&
             r_jwe_parse(jwe, tok.data, R_FLAG_IGNORE_REMOTE) == RHN_OK &&
             r_jwe_decrypt(jwe, rpriv, R_FLAG_IGNORE_REMOTE) == RHN_OK;
    const unsigned char *pt = ok ? r_jwe_get_payload(jwe, &n) : NULL;
    report(pt != NULL && n == strlen(secret) && memcmp(pt, secret, n) == 0,
           "esg encrypts, rhonabwy decrypts", alg);
    r_jwe_free(jwe);
    jwe = NULL;
    ok = r_jwe_init(&jwe) == RHN_OK && r_jwe_set_alg(jwe, R_JWA_ALG_RSA_OAEP_256) == RHN_OK &&
         r_jwe_set_enc(jwe, R_JWA_ENC_A256GCM) == RHN_OK &&
         r_jwe_set_payload(jwe, (const unsigned char *)secret, strlen(secret)) == RHN_OK &&
         (theirs = r_jwe_serialize(jwe, rpub, R_FLAG_IGNORE_REMOTE)) != NULL;
    esg_jwe_opts o = {ESG_JWE_ALG_BIT(ESG_JWE_RSA_OAEP_256), ESG_JWE_ENC_BIT(ESG_JWE_A256GCM), NULL,
                      0, 0};
    ok = ok && esg_jwe_decrypt(theirs, strlen(theirs), pkey, &o, &out, NULL, NULL) == 0 &&
         out.len == strlen(secret) && memcmp(out.data, secret, out.len) == 0;
    report(ok, "rhonabwy encrypts, esg decrypts", alg);
done:
    r_free(theirs);
    r_jwe_free(jwe);
    r_jwk_free(rpub);
    r_jwk_free(rpriv);
    esg_buf_free(&tok);
    esg_buf_free_secret(&out);
    esg_jwk_free(k);
    EVP_PKEY_free(pkey);
}

int main(void)
{
    if (r_global_init() != RHN_OK) {
        fprintf(stderr, "r_global_init failed\n");
        return 1;
    }
    signatures("RSA-2048", "RS256", R_JWA_ALG_RS256);
    signatures("RSA-2048", "PS256", R_JWA_ALG_PS256);
    signatures("P-256", "ES256", R_JWA_ALG_ES256);
    signatures("Ed25519", "EdDSA", R_JWA_ALG_EDDSA);
    encryption();
    r_global_close();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
