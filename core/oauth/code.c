#include "oauth/code.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "oidc/settings.h"
#include "store/kv_json.h"
#include "util/b64.h"
#include "util/clock.h"

void esg_code_hash(const char *code, size_t len, char out[44])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(code, len, md, &n, EVP_sha256(), NULL);
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
}

typedef struct issue {
    void (*cb)(void *ud, int status, const char *code);
    void *ud;
    char code[48];
} issue;

static void on_stored(void *ud, int status, json_t *doc)
{
    issue *i = ud;
    json_decref(doc);
    i->cb(i->ud, status, status == 0 ? i->code : NULL);
    free(i);
}

int esg_code_issue(const esg_txn *t, void (*cb)(void *ud, int status, const char *code), void *ud)
{
    issue *i = calloc(1, sizeof(*i));
    if (i == NULL)
        return ESP_ENOMEM;
    i->cb = cb;
    i->ud = ud;
    char hash[44];
    int rc = esg_random_token(i->code, sizeof(i->code), 32);
    json_t *doc = rc == 0 ? esg_txn_to_json(t) : NULL;
    if (rc == 0 && doc == NULL)
        rc = ESP_ENOMEM;
    if (rc == 0) {
        esg_code_hash(i->code, strlen(i->code), hash);
        /* NX: a collision of 256 random bits does not happen, but if the store says the key
         * exists the code is refused rather than overwriting another transaction. */
        rc =
            esg_kv_json_put("code", hash, doc, esg_oidc()->lifetimes.code, ESP_KV_NX, on_stored, i);
    }
    json_decref(doc);
    if (rc != 0)
        free(i);
    return rc;
}
