/*
 * esg-jose-bench: operations per second of the JOSE module on one thread, for the algorithms the
 * server uses: full compact JWS sign and verify of a 330-byte ID-token-like payload, and JWE
 * RSA-OAEP-256 + A256GCM of 1 KB. Compare with `openssl speed` (tools/bench/jose_bench.sh).
 *
 *   esg-jose-bench [SECONDS_PER_OPERATION]
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwa.h"
#include "jose/jwe.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "util/buf.h"
#include "util/clock.h"

static const char payload[] =
    "{\"iss\":\"https://idp.example.org\",\"sub\":\"J0zHXLkDPGZt8qN6dMnR0xE9yqU3bN4aDsq2fS1g5kw\","
    "\"aud\":\"client-1234567890\",\"exp\":1795641055,\"iat\":1795637455,\"auth_time\":1795637400,"
    "\"nonce\":\"n-0S6_WzA2Mj\",\"acr\":\"mosip:idp:acr:generated-code\",\"amr\":[\"OTP\"],"
    "\"at_hash\":\"77QmUPtjPfzWtF2AnpK9RQ\",\"azp\":\"client-1234567890\",\"sid\":\"a1b2c3\"}";

static double seconds_per_op = 2.0;

typedef int (*op_fn)(void *ctx);

static double measure(op_fn fn, void *ctx)
{
    int64_t start = esg_now_ms(), now;
    long n = 0;
    do {
        for (int i = 0; i < 16; i++) {
            if (fn(ctx) != 0) {
                fprintf(stderr, "operation failed\n");
                exit(1);
            }
        }
        n += 16;
        now = esg_now_ms();
    } while (now - start < (int64_t)(seconds_per_op * 1000));
    return (double)n * 1000.0 / (double)(now - start);
}

typedef struct sign_ctx {
    EVP_PKEY *key;
    json_t *header;
    esg_buf token;
    esg_jws_opts opts;
} sign_ctx;

static int do_sign(void *p)
{
    sign_ctx *c = p;
    esg_buf_reset(&c->token);
    return esg_jws_sign(c->key, c->header, payload, sizeof(payload) - 1, &c->token);
}

static int do_verify(void *p)
{
    sign_ctx *c = p;
    esg_jws jws;
    int rc = esg_jws_verify(c->token.data, c->token.len, c->key, &c->opts, &jws, NULL);
    esg_jws_clear(&jws);
    return rc;
}

typedef struct jwe_ctx {
    EVP_PKEY *key;
    unsigned char plain[1024];
    esg_buf token;
} jwe_ctx;

static int do_encrypt(void *p)
{
    jwe_ctx *c = p;
    esg_buf_reset(&c->token);
    return esg_jwe_encrypt(c->key, ESG_JWE_RSA_OAEP_256, ESG_JWE_A256GCM, NULL, c->plain,
                           sizeof(c->plain), &c->token);
}

static int do_decrypt(void *p)
{
    jwe_ctx *c = p;
    esg_buf out = ESG_BUF_INIT;
    esg_jwe_opts opts = {ESG_JWE_ALG_BIT(ESG_JWE_RSA_OAEP_256), ESG_JWE_ENC_BIT(ESG_JWE_A256GCM),
                         NULL, 0, 0};
    int rc = esg_jwe_decrypt(c->token.data, c->token.len, c->key, &opts, &out, NULL, NULL);
    esg_buf_free(&out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seconds_per_op = atof(argv[1]);
    const char *algs[] = {"ES256", "RS256", "PS256", "EdDSA"};
    printf("| operation | ops/s |\n|---|---|\n");
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        sign_ctx c;
        memset(&c, 0, sizeof(c));
        if (esg_jwk_generate_for_alg(algs[i], 2048, &c.key) != 0)
            return 1;
        c.header = json_pack("{s:s,s:s,s:s}", "alg", algs[i], "kid", "bench", "typ", "JWT");
        esg_jws_alg alg;
        esg_jws_alg_from_name(algs[i], strlen(algs[i]), &alg);
        c.opts.algs = ESG_JWS_ALG_BIT(alg);
        printf("| %s sign (compact JWS) | %.0f |\n", algs[i], measure(do_sign, &c));
        printf("| %s verify | %.0f |\n", algs[i], measure(do_verify, &c));
        fflush(stdout);
        esg_buf_free(&c.token);
        json_decref(c.header);
        EVP_PKEY_free(c.key);
    }
    jwe_ctx j;
    memset(&j, 0, sizeof(j));
    if (esg_jwk_generate_for_alg("RSA-OAEP-256", 2048, &j.key) != 0)
        return 1;
    printf("| JWE RSA-OAEP-256 + A256GCM 1 KB encrypt | %.0f |\n", measure(do_encrypt, &j));
    printf("| JWE RSA-OAEP-256 + A256GCM 1 KB decrypt | %.0f |\n", measure(do_decrypt, &j));
    esg_buf_free(&j.token);
    EVP_PKEY_free(j.key);
    return 0;
}
