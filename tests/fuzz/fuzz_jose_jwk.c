/*
 * Fuzz target: JWK and JWK Set import. Whatever imports must export, thumbprint and re-import to
 * the same key; nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const esg_jwk *k)
{
    char tp[ESG_JWK_THUMBPRINT_LEN + 1];
    json_t *pub = NULL, *priv = NULL;
    esg_jwk *again = NULL;
    if (esg_jwk_thumbprint(k, tp, sizeof(tp)) != 0 || esg_jwk_export(k, 0, &pub) != 0)
        abort();
    if (esg_jwk_import(pub, ESG_JWK_ALLOW_SMALL_RSA, &again, NULL) != 0 ||
        !esg_jwk_pkey_equal(esg_jwk_pkey(k), esg_jwk_pkey(again)))
        abort();
    if (esg_jwk_is_private(k) && esg_jwk_export(k, ESG_JWK_EXPORT_PRIVATE, &priv) != 0)
        abort();
    esg_jwk_check_use(k, ESG_JWK_OP_VERIFY, esg_jwk_alg(k), NULL);
    esg_jwk_free(again);
    json_decref(pub);
    json_decref(priv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esg_jwk *k = NULL;
    esg_jwk_set *s = NULL;
    const char *text = (const char *)data;
    if (esg_jwk_import_json(text, size, ESG_JWK_ALLOW_PRIVATE | ESG_JWK_ALLOW_SMALL_RSA, &k,
                            NULL) == 0)
        round_trip(k);
    esg_jwk_free(k);
    if (esg_jwk_set_parse_json(text, size, ESG_JWK_ALLOW_PRIVATE | ESG_JWK_ALLOW_SMALL_RSA, 8, &s,
                               NULL) == 0) {
        for (size_t i = 0; i < esg_jwk_set_count(s); i++)
            round_trip(esg_jwk_set_get(s, i));
        const esg_jwk *found = NULL;
        esg_jwk_set_find(s, NULL, "ES256", ESG_JWK_OP_VERIFY, &found);
    }
    esg_jwk_set_free(s);
    return 0;
}
