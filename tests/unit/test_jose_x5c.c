/*
 * x5c: decoding, chain validation against a trust store at a given time, key binding and the
 * x5t#S256 thumbprint. The chain in tests/data/jose/x5c was made with the openssl command (root ->
 * intermediate -> leaf, P-256); leaf.x5t256 was computed with Python's hashlib.
 */
#include "test_jose_util.h"

#include <openssl/pem.h>

#include "jose/jws.h"
#include "jose/x5c.h"

#define VALID_AT  1800000000 /* 2027-01-15 */
#define BEFORE_AT 1700000000 /* 2023-11-14, before the certificates existed */

static X509 *load_cert(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%sx5c/%s", JOSE_DATA, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(c);
    return c;
}

static X509_STORE *store_with(const char *name)
{
    X509_STORE *s = X509_STORE_new();
    X509 *c = load_cert(name);
    assert_int_equal(X509_STORE_add_cert(s, c), 1);
    X509_free(c);
    return s;
}

static void chain_validates(void **state)
{
    (void)state;
    json_t *x5c = tj_json("x5c/chain.x5c.json");
    STACK_OF(X509) *chain = NULL;
    assert_int_equal(esg_x5c_decode(x5c, 0, &chain, NULL), 0);
    assert_int_equal(sk_X509_num(chain), 2);
    X509_STORE *root = store_with("root.pem");
    X509_STORE *other = store_with("other.pem");
    EVP_PKEY *leaf_key = NULL;
    const char *why = NULL;
    assert_int_equal(esg_x5c_verify(chain, root, VALID_AT, &leaf_key, &why), 0);
    X509 *leaf = load_cert("leaf.pem");
    assert_true(esg_jwk_pkey_equal(leaf_key, X509_get0_pubkey(leaf)));
    assert_int_equal(esg_x5c_leaf_matches(chain, leaf_key, NULL), 0);
    /* Wrong time, wrong anchor, missing intermediate. */
    assert_int_equal(esg_x5c_verify(chain, root, BEFORE_AT, NULL, &why), ESP_EINVAL);
    assert_string_equal(why, "certificate chain does not validate");
    assert_int_equal(esg_x5c_verify(chain, other, VALID_AT, NULL, &why), ESP_EINVAL);
    X509 *inter = sk_X509_pop(chain);
    assert_int_equal(esg_x5c_verify(chain, root, VALID_AT, NULL, &why), ESP_EINVAL);
    /* Intermediate first: the "leaf" is then a CA cert that does not chain either way. */
    sk_X509_unshift(chain, inter);
    X509 *old_leaf = sk_X509_delete(chain, 1);
    sk_X509_push(chain, old_leaf);
    EVP_PKEY *k2 = NULL;
    if (esg_x5c_verify(chain, root, VALID_AT, &k2, NULL) == 0)
        assert_false(esg_jwk_pkey_equal(k2, X509_get0_pubkey(leaf)));
    EVP_PKEY_free(k2);
    /* A key that is not the leaf's. */
    EVP_PKEY *stranger = NULL;
    assert_int_equal(esg_jwk_generate("P-256", &stranger), 0);
    assert_int_equal(esg_x5c_leaf_matches(chain, stranger, &why), ESP_EINVAL);
    EVP_PKEY_free(stranger);
    EVP_PKEY_free(leaf_key);
    X509_free(leaf);
    X509_STORE_free(root);
    X509_STORE_free(other);
    esg_x5c_free(chain);
    json_decref(x5c);
}

static void decode_limits(void **state)
{
    (void)state;
    json_t *x5c = tj_json("x5c/chain.x5c.json");
    STACK_OF(X509) *chain = NULL;
    const char *why = NULL;
    assert_int_equal(esg_x5c_decode(x5c, 1, &chain, &why), ESP_ETOOBIG);
    assert_null(chain);
    static const char *const bad[] = {
        "[]", "{}", "[1]", "[\"!!!!\"]", "[\"AAAA\"]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_int_equal(esg_x5c_decode(j, 0, &chain, &why), ESP_EINVAL);
        json_decref(j);
    }
    /* base64url instead of base64, and trailing bytes after the DER. */
    const char *first = json_string_value(json_array_get(x5c, 0));
    char *url = strdup(first);
    for (char *p = url; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    json_t *j = json_pack("[s]", url);
    if (strcmp(url, first) != 0)
        assert_int_equal(esg_x5c_decode(j, 0, &chain, &why), ESP_EINVAL);
    json_decref(j);
    esg_buf der = ESG_BUF_INIT, b64 = ESG_BUF_INIT;
    assert_int_equal(esg_b64_decode(&der, first, strlen(first)), 0);
    assert_int_equal(esg_buf_append(&der, "\0\0\0", 3), 0);
    assert_int_equal(esg_b64_encode(&b64, der.data, der.len), 0);
    j = json_pack("[s]", b64.data);
    assert_int_equal(esg_x5c_decode(j, 0, &chain, &why), ESP_EINVAL);
    json_decref(j);
    esg_buf_free(&der);
    esg_buf_free(&b64);
    free(url);
    json_decref(x5c);
}

static void x5t_s256(void **state)
{
    (void)state;
    X509 *leaf = load_cert("leaf.pem");
    char *want = tj_read("x5c/leaf.x5t256", NULL);
    char tp[44];
    assert_int_equal(esg_x5c_thumbprint_s256(leaf, tp, sizeof(tp)), 0);
    assert_string_equal(tp, want);
    assert_int_equal(esg_x5c_thumbprint_s256(leaf, tp, 43), ESP_EINVAL);
    free(want);
    X509_free(leaf);
}

/* A JWS carrying x5c: the caller validates the chain, then verifies with the leaf key. */
static void jws_with_x5c(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof(path), "%sx5c/leaf.key", JOSE_DATA);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    EVP_PKEY *priv = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(priv);
    json_t *x5c = tj_json("x5c/chain.x5c.json");
    json_t *hdr = json_pack("{s:s,s:O}", "alg", "ES256", "x5c", x5c);
    esg_buf tok = ESG_BUF_INIT;
    assert_int_equal(esg_jws_sign(priv, hdr, "{}", 2, &tok), 0);
    esg_jws_opts o = {ESG_JWS_ALG_BIT(ESG_JWS_ES256), NULL, 0, 0, 0};
    esg_jws j = ESG_JWS_INIT;
    assert_int_equal(esg_jws_parse(tok.data, tok.len, &o, &j, NULL), 0);
    assert_true(j.header_keys & ESG_JWS_HDR_X5C);
    STACK_OF(X509) *chain = NULL;
    assert_int_equal(esg_x5c_decode(json_object_get(j.header, "x5c"), 0, &chain, NULL), 0);
    X509_STORE *root = store_with("root.pem");
    EVP_PKEY *leaf_key = NULL;
    assert_int_equal(esg_x5c_verify(chain, root, VALID_AT, &leaf_key, NULL), 0);
    assert_int_equal(esg_jws_verify_parsed(&j, leaf_key, &o, NULL), 0);
    esg_jws_clear(&j);
    EVP_PKEY_free(leaf_key);
    X509_STORE_free(root);
    esg_x5c_free(chain);
    esg_buf_free(&tok);
    json_decref(hdr);
    json_decref(x5c);
    EVP_PKEY_free(priv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_validates),
        cmocka_unit_test(decode_limits),
        cmocka_unit_test(x5t_s256),
        cmocka_unit_test(jws_with_x5c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
