/*
 * Helpers shared by the JOSE unit tests (test_jose_*.c): reading the vectors under
 * tests/data/jose and small token manipulations. Header-only so that each test stays one
 * executable.
 */
#ifndef TEST_JOSE_UTIL_H
#define TEST_JOSE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <esignet/plugin.h>
#include <jansson.h>

#include "jose/jwk.h"
#include "util/b64.h"
#include "util/buf.h"

#define JOSE_DATA ESG_TEST_DATA_DIR "/jose/"

/* Reads tests/data/jose/<name> into a malloc()ed, NUL-terminated buffer; fails the test if absent.
 */
static inline char *tj_read(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s%s", JOSE_DATA, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    esg_buf b = ESG_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(esg_buf_append(&b, chunk, n), 0);
    fclose(f);
    if (b.data == NULL)
        assert_int_equal(esg_buf_puts(&b, ""), 0);
    if (len != NULL)
        *len = b.len;
    return esg_buf_steal(&b, NULL);
}

static inline json_t *tj_json(const char *name)
{
    size_t n;
    char *s = tj_read(name, &n);
    json_t *j = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
    free(s);
    assert_non_null(j);
    return j;
}

/* Imports a JWK file; fails the test when the import fails. */
static inline esg_jwk *tj_jwk(const char *name, unsigned flags)
{
    json_t *j = tj_json(name);
    esg_jwk *k = NULL;
    const char *why = NULL;
    int rc = esg_jwk_import(j, flags, &k, &why);
    json_decref(j);
    if (rc != 0)
        fail_msg("import of %s failed: %s", name, why ? why : "?");
    return k;
}

/*
 * The keys the JOSE tests sign with, generated in a group setup: two RSA-2048 keys, P-256, P-384
 * and Ed25519. Returns 0, or -1 so that the setup fails the group.
 */
static inline int tj_keys_generate(EVP_PKEY **rsa, EVP_PKEY **rsa_other, EVP_PKEY **p256,
                                   EVP_PKEY **p384, EVP_PKEY **ed)
{
    if (esg_jwk_generate("RSA-2048", rsa) != 0 || esg_jwk_generate("RSA-2048", rsa_other) != 0 ||
        esg_jwk_generate("P-256", p256) != 0 || esg_jwk_generate("P-384", p384) != 0 ||
        esg_jwk_generate("Ed25519", ed) != 0)
        return -1;
    return 0;
}

static inline void tj_keys_free(EVP_PKEY *rsa, EVP_PKEY *rsa_other, EVP_PKEY *p256, EVP_PKEY *p384,
                                EVP_PKEY *ed)
{
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(ed);
}

/* Start and length of part `i` of a compact token. */
static inline void tj_part(const char *tok, int i, const char **p, size_t *n)
{
    const char *s = tok;
    for (int k = 0; k < i; k++) {
        s = strchr(s, '.');
        assert_non_null(s);
        s++;
    }
    const char *e = strchr(s, '.');
    *p = s;
    *n = e != NULL ? (size_t)(e - s) : strlen(s);
}

/* Decodes part `i` into `out` (appended). */
static inline void tj_part_bytes(const char *tok, int i, esg_buf *out)
{
    const char *p;
    size_t n;
    tj_part(tok, i, &p, &n);
    assert_int_equal(esg_b64url_decode(out, p, n), 0);
}

/* A copy of `tok` with part `i` replaced by base64url of `data`. */
static inline char *tj_replace_part(const char *tok, int i, const void *data, size_t n)
{
    const char *p;
    size_t len;
    tj_part(tok, i, &p, &len);
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_buf_append(&b, tok, (size_t)(p - tok)), 0);
    assert_int_equal(esg_b64url_encode(&b, data, n), 0);
    assert_int_equal(esg_buf_puts(&b, p + len), 0);
    return esg_buf_steal(&b, NULL);
}

/* A copy of `tok` with part `i` replaced by the raw text `text`. */
static inline char *tj_replace_text(const char *tok, int i, const char *text)
{
    const char *p;
    size_t len;
    tj_part(tok, i, &p, &len);
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_buf_append(&b, tok, (size_t)(p - tok)), 0);
    assert_int_equal(esg_buf_puts(&b, text), 0);
    assert_int_equal(esg_buf_puts(&b, p + len), 0);
    return esg_buf_steal(&b, NULL);
}

#endif
