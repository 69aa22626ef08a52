#include "jose/jwa.h"

#include <openssl/core_names.h>
#include <pthread.h>
#include <string.h>

#include <esignet/plugin.h>

#include "jose/internal.h"
#include "util/b64.h"
#include "util/str.h"

static const esg_jose_alg_info jws_algs[ESG_JWS_ALG_COUNT] = {
    [ESG_JWS_RS256] = {ESG_JWS_RS256, "RS256", JOSE_FAM_RSA, "SHA256", NULL, 0},
    [ESG_JWS_RS384] = {ESG_JWS_RS384, "RS384", JOSE_FAM_RSA, "SHA384", NULL, 0},
    [ESG_JWS_RS512] = {ESG_JWS_RS512, "RS512", JOSE_FAM_RSA, "SHA512", NULL, 0},
    [ESG_JWS_PS256] = {ESG_JWS_PS256, "PS256", JOSE_FAM_RSA_PSS, "SHA256", NULL, 0},
    [ESG_JWS_PS384] = {ESG_JWS_PS384, "PS384", JOSE_FAM_RSA_PSS, "SHA384", NULL, 0},
    [ESG_JWS_PS512] = {ESG_JWS_PS512, "PS512", JOSE_FAM_RSA_PSS, "SHA512", NULL, 0},
    [ESG_JWS_ES256] = {ESG_JWS_ES256, "ES256", JOSE_FAM_EC, "SHA256", "P-256", 32},
    [ESG_JWS_ES384] = {ESG_JWS_ES384, "ES384", JOSE_FAM_EC, "SHA384", "P-384", 48},
    [ESG_JWS_ES512] = {ESG_JWS_ES512, "ES512", JOSE_FAM_EC, "SHA512", "P-521", 66},
    [ESG_JWS_EDDSA] = {ESG_JWS_EDDSA, "EdDSA", JOSE_FAM_OKP, NULL, NULL, 0},
};

static const char *const jwe_alg_names[ESG_JWE_ALG_COUNT] = {
    [ESG_JWE_RSA_OAEP] = "RSA-OAEP",
    [ESG_JWE_RSA_OAEP_256] = "RSA-OAEP-256",
};

static const char *const jwe_enc_names[ESG_JWE_ENC_COUNT] = {
    [ESG_JWE_A128GCM] = "A128GCM",
    [ESG_JWE_A256GCM] = "A256GCM",
    [ESG_JWE_A128CBC_HS256] = "A128CBC-HS256",
    [ESG_JWE_A256CBC_HS512] = "A256CBC-HS512",
};

static const size_t jwe_enc_key_lens[ESG_JWE_ENC_COUNT] = {
    [ESG_JWE_A128GCM] = 16,
    [ESG_JWE_A256GCM] = 32,
    [ESG_JWE_A128CBC_HS256] = 32,
    [ESG_JWE_A256CBC_HS512] = 64,
};

const esg_jose_alg_info *esg_jose_alg_info_get(esg_jws_alg alg)
{
    if ((int)alg <= 0 || alg >= ESG_JWS_ALG_COUNT)
        return NULL;
    return &jws_algs[alg];
}

int esg_jws_alg_from_name(const char *name, size_t n, esg_jws_alg *out)
{
    for (int a = 1; a < ESG_JWS_ALG_COUNT; a++) {
        if (esg_str_eq(name, n, jws_algs[a].name)) {
            *out = (esg_jws_alg)a;
            return 0;
        }
    }
    return ESP_EINVAL;
}

const char *esg_jws_alg_name(esg_jws_alg alg)
{
    const esg_jose_alg_info *i = esg_jose_alg_info_get(alg);
    return i != NULL ? i->name : NULL;
}

int esg_jws_alg_set_parse(const char *list, esg_jws_alg_set *out)
{
    esg_jws_alg_set set = 0;
    const char *p = list;
    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, ',');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        esg_jws_alg a;
        if (esg_jws_alg_from_name(p, n, &a) != 0)
            return ESP_EINVAL;
        set |= ESG_JWS_ALG_BIT(a);
        p = end != NULL ? end + 1 : NULL;
    }
    if (set == 0)
        return ESP_EINVAL;
    *out = set;
    return 0;
}

static int find_name(const char *const *names, int count, const char *name, size_t n)
{
    for (int i = 1; i < count; i++) {
        if (names[i] != NULL && esg_str_eq(name, n, names[i]))
            return i;
    }
    return 0;
}

int esg_jwe_alg_from_name(const char *name, size_t n, esg_jwe_alg *out)
{
    int i = find_name(jwe_alg_names, ESG_JWE_ALG_COUNT, name, n);
    if (i == 0)
        return ESP_EINVAL;
    *out = (esg_jwe_alg)i;
    return 0;
}

int esg_jwe_enc_from_name(const char *name, size_t n, esg_jwe_enc *out)
{
    int i = find_name(jwe_enc_names, ESG_JWE_ENC_COUNT, name, n);
    if (i == 0)
        return ESP_EINVAL;
    *out = (esg_jwe_enc)i;
    return 0;
}

const char *esg_jwe_alg_name(esg_jwe_alg alg)
{
    return (int)alg > 0 && alg < ESG_JWE_ALG_COUNT ? jwe_alg_names[alg] : NULL;
}

const char *esg_jwe_enc_name(esg_jwe_enc enc)
{
    return (int)enc > 0 && enc < ESG_JWE_ENC_COUNT ? jwe_enc_names[enc] : NULL;
}

size_t esg_jwe_enc_key_len(esg_jwe_enc enc)
{
    return (int)enc > 0 && enc < ESG_JWE_ENC_COUNT ? jwe_enc_key_lens[enc] : 0;
}

/* ------------------------------------------------------------------------------------------------
 * Digests, ciphers and HMAC fetched once. The tables are filled under pthread_once, then only
 * read, so concurrent readers need no lock. They are released when the image holding this code is
 * unloaded: at process exit, or at dlclose() of a plugin that links the module statically, where
 * they would otherwise be lost with the plugin's static memory.
 */

static const char *const md_names[] = {"SHA1", "SHA256", "SHA384", "SHA512"};
static EVP_MD *md_table[sizeof(md_names) / sizeof(md_names[0])];
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static const char *const cipher_names[] = {"AES-128-GCM", "AES-256-GCM", "AES-128-CBC",
                                           "AES-256-CBC"};
static EVP_CIPHER *cipher_table[sizeof(cipher_names) / sizeof(cipher_names[0])];
static EVP_MAC *hmac;

/* Index of `name` in `names`, or -1. */
static int index_of(const char *const *names, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

static void md_fetch_all(void)
{
    for (size_t i = 0; i < sizeof(md_names) / sizeof(md_names[0]); i++)
        md_table[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
    for (size_t i = 0; i < sizeof(cipher_names) / sizeof(cipher_names[0]); i++)
        cipher_table[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
    hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

__attribute__((destructor)) static void md_release_all(void)
{
    for (size_t i = 0; i < sizeof(md_names) / sizeof(md_names[0]); i++) {
        EVP_MD_free(md_table[i]);
        md_table[i] = NULL;
    }
    for (size_t i = 0; i < sizeof(cipher_names) / sizeof(cipher_names[0]); i++) {
        EVP_CIPHER_free(cipher_table[i]);
        cipher_table[i] = NULL;
    }
    EVP_MAC_free(hmac);
    hmac = NULL;
}

const EVP_CIPHER *esg_jose_cipher(const char *name)
{
    pthread_once(&md_once, md_fetch_all);
    int i = index_of(cipher_names, sizeof(cipher_names) / sizeof(cipher_names[0]), name);
    return i >= 0 ? cipher_table[i] : NULL;
}

EVP_MAC *esg_jose_hmac(void)
{
    pthread_once(&md_once, md_fetch_all);
    return hmac;
}

const EVP_MD *esg_jose_md(const char *name)
{
    pthread_once(&md_once, md_fetch_all);
    int i = index_of(md_names, sizeof(md_names) / sizeof(md_names[0]), name);
    return i >= 0 ? md_table[i] : NULL;
}

/* ------------------------------------------------------------------------------------------------
 * Keys and algorithms.
 */

size_t esg_jose_curve_len(const char *crv)
{
    if (strcmp(crv, "P-256") == 0)
        return 32;
    if (strcmp(crv, "P-384") == 0)
        return 48;
    if (strcmp(crv, "P-521") == 0)
        return 66;
    return 0;
}

const char *esg_jose_ec_curve(const EVP_PKEY *pkey)
{
    char group[64];
    size_t len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1)
        return NULL;
    /* OpenSSL reports the NIST name or the SECG alias depending on how the key was made. */
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
        return "P-256";
    if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
        return "P-384";
    if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
        return "P-521";
    return NULL;
}

int esg_jose_key_fits(const EVP_PKEY *pkey, const esg_jose_alg_info *info)
{
    if (pkey == NULL || info == NULL)
        return 0;
    switch (info->family) {
    case JOSE_FAM_RSA:
    case JOSE_FAM_RSA_PSS:
        return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048;
    case JOSE_FAM_EC: {
        const char *crv = esg_jose_ec_curve(pkey);
        return crv != NULL && strcmp(crv, info->curve) == 0;
    }
    case JOSE_FAM_OKP:
        return EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448");
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------------------------------
 * JSON helpers.
 */

/* Header parameters registered by RFC 7515/7516/7518 §4.1: "crit" may not name them. */
static const char *const registered_headers[] = {
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
    "enc", "zip", "epk", "apu", "apv", "iv",  "tag", "p2s",      "p2c", NULL,
};

static int in_list(const char *const *list, const char *s, size_t n)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        if (esg_str_eq(s, n, list[i]))
            return 1;
    }
    return 0;
}

/* RFC 7515 §4.1.11 and RFC 7797 §6. */
int esg_jose_check_crit(const json_t *header, const char *const *understood, int allow_b64,
                        const char **reason)
{
    const json_t *crit = json_object_get(header, "crit");
    const json_t *b64 = json_object_get(header, "b64");
    int b64_listed = 0;
    if (crit != NULL) {
        size_t i;
        const json_t *v;
        if (!json_is_array(crit) || json_array_size(crit) == 0)
            return jose_fail(reason, "crit must be a non-empty array", ESP_EINVAL);
        json_array_foreach(crit, i, v)
        {
            if (!json_is_string(v))
                return jose_fail(reason, "crit must list strings", ESP_EINVAL);
            const char *s = json_string_value(v);
            size_t n = json_string_length(v);
            if (n == 0 || in_list(registered_headers, s, n))
                return jose_fail(reason, "crit lists a registered header parameter", ESP_EINVAL);
            for (size_t j = 0; j < i; j++) {
                if (json_equal(v, json_array_get(crit, j)))
                    return jose_fail(reason, "crit lists a name twice", ESP_EINVAL);
            }
            if (strlen(s) != n || json_object_get(header, s) == NULL)
                return jose_fail(reason, "crit lists a parameter the header lacks", ESP_EINVAL);
            if (esg_str_eq(s, n, "b64")) {
                if (!allow_b64)
                    return jose_fail(reason, "crit extension not understood", ESP_EINVAL);
                b64_listed = 1;
            } else if (!in_list(understood, s, n)) {
                return jose_fail(reason, "crit extension not understood", ESP_EINVAL);
            }
        }
    }
    if (b64 != NULL) {
        if (!allow_b64)
            return jose_fail(reason, "b64 header parameter not allowed", ESP_EINVAL);
        if (!json_is_boolean(b64) || !b64_listed)
            return jose_fail(reason, "b64 must be a boolean listed in crit", ESP_EINVAL);
    }
    return 0;
}

static int walk(const json_t *v, int depth, int max_depth, size_t *budget)
{
    int is_object = json_is_object(v);
    if (!is_object && !json_is_array(v))
        return 0;
    if (depth > max_depth)
        return ESP_ETOOBIG;
    size_t n = is_object ? json_object_size(v) : json_array_size(v);
    if (n > *budget)
        return ESP_ETOOBIG;
    *budget -= n;
    void *it = is_object ? json_object_iter(jose_mut(v)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *child = is_object ? json_object_iter_value(it) : json_array_get(v, i);
        int rc = walk(child, depth + 1, max_depth, budget);
        if (rc != 0)
            return rc;
        if (is_object)
            it = json_object_iter_next(jose_mut(v), it);
    }
    return 0;
}

int esg_jose_json_limits(const json_t *v, int max_depth, size_t max_members)
{
    size_t budget = max_members;
    return walk(v, 1, max_depth, &budget);
}

int esg_jose_json_str(const json_t *obj, const char *key, const char **s, size_t *n)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return ESP_ENOTFOUND;
    if (!json_is_string(v))
        return ESP_EINVAL;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

int esg_jose_decode_part(const char *s, size_t n, uint8_t *buf, size_t *pos, const uint8_t **out,
                         size_t *out_len)
{
    size_t got = 0;
    if (esg_b64url_decode_to(s, n, buf + *pos, &got) != 0)
        return ESP_EINVAL;
    *out = buf + *pos;
    *out_len = got;
    *pos += got;
    return 0;
}

int esg_jose_header_parse(const char *b64, size_t n, size_t max, uint8_t *scratch, json_t **out,
                          const char **reason)
{
    const uint8_t *bytes;
    size_t len, pos = 0;
    *out = NULL;
    if (n == 0)
        return jose_fail(reason, "empty protected header", ESP_EINVAL);
    if (n > max)
        return jose_fail(reason, "protected header too large", ESP_ETOOBIG);
    if (esg_jose_decode_part(b64, n, scratch, &pos, &bytes, &len) != 0)
        return jose_fail(reason, "protected header is not base64url", ESP_EINVAL);
    json_t *h = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(h)) {
        json_decref(h);
        return jose_fail(reason, "protected header is not a JSON object (or has duplicate members)",
                         ESP_EINVAL);
    }
    if (esg_jose_json_limits(h, ESG_JOSE_HEADER_DEPTH, ESG_JOSE_HEADER_MEMBERS) != 0) {
        json_decref(h);
        return jose_fail(reason, "protected header too complex", ESP_ETOOBIG);
    }
    *out = h;
    return 0;
}

int esg_jose_header_kid(const json_t *header, const char **kid, const char **reason)
{
    const json_t *v = json_object_get(header, "kid");
    *kid = NULL;
    if (v == NULL)
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return jose_fail(reason, "kid must be a string", ESP_EINVAL);
    *kid = json_string_value(v);
    return 0;
}
