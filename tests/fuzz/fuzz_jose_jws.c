/*
 * Fuzz target: compact JWS parsing and verification with fixed keys (RFC 7515 A.3 P-256, RFC 8037
 * Ed25519), every algorithm allowed, one understood crit name and unencoded payloads permitted,
 * so that the fuzzer reaches every header rule. A verified payload also goes through the JWT
 * claim checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char p256_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}";
static const char ed_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                             "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";

static esg_jwk *keys[2];

static void load_keys(void)
{
    if (keys[0] != NULL)
        return;
    if (esg_jwk_import_json(p256_jwk, strlen(p256_jwk), 0, &keys[0], NULL) != 0 ||
        esg_jwk_import_json(ed_jwk, strlen(ed_jwk), 0, &keys[1], NULL) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const crit[] = {"exp", NULL};
    load_keys();
    esg_jws_opts o = {ESG_JWS_ALGS_ALL, crit, ESG_JWS_ALLOW_UNENCODED_PAYLOAD, 0, 0};
    esg_jws j = ESG_JWS_INIT;
    if (esg_jws_parse((const char *)data, size, &o, &j, NULL) != 0)
        return 0;
    for (size_t i = 0; i < 2; i++) {
        if (esg_jws_verify_parsed(&j, esg_jwk_pkey(keys[i]), &o, NULL) != 0)
            continue;
        json_t *claims = NULL;
        esg_jwt_error err;
        if (esg_jwt_claims_parse(j.payload, j.payload_len, &claims, &err) == 0) {
            esg_jwt_rules r = {1800000000, 60, 3600, 3600, "joe", "aud", NULL, 0};
            esg_jwt_claims_check(claims, &r, &err, NULL);
        }
        json_decref(claims);
    }
    esg_jwk *embedded = NULL;
    if (esg_jws_untrusted_jwk(&j, &embedded, NULL) == 0)
        esg_jws_verify_parsed(&j, esg_jwk_pkey(embedded), &o, NULL);
    esg_jwk_free(embedded);
    esg_jws_clear(&j);
    return 0;
}
