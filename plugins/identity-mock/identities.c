/*
 * Parser and validator of the identities file (format in README.md).
 *
 * Validation is strict because the file is written by hand: an unknown member, a claim of the
 * wrong type or a password hash in an unknown format is far more likely a typo than an
 * intention, and a mock that silently ignores it makes a demo fail later in a confusing way.
 * Every message names the identity (position and individual_id) and the field.
 */
#include "identities.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <esignet/plugin.h>

#include "config/errors.h"
#include "config/yaml.h"
#include "util/b64.h"
#include "util/str.h"

#define PBKDF2_MIN_ITERATIONS 1000
#define PBKDF2_MAX_ITERATIONS 10000000
#define MAX_TEXT              4096         /* longest ordinary claim or answer, in bytes */
#define MAX_PICTURE           (512 * 1024) /* a data: URI picture */
#define MAX_PASSWORD          1024

/* Where a message points: identities[index] and its individual_id once known. */
typedef struct where {
    esg_buf *err;
    size_t index;
    const char *id;
} where;

static int failf(const where *w, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failf(const where *w, const char *field, const char *fmt, ...)
{
    if (w->err != NULL) {
        if (w->id != NULL)
            esg_buf_printf(w->err, "identities[%zu] (individual_id \"%s\"): ", w->index, w->id);
        else
            esg_buf_printf(w->err, "identities[%zu]: ", w->index);
        if (field != NULL)
            esg_buf_printf(w->err, "%s: ", field);
        va_list ap;
        va_start(ap, fmt);
        esg_buf_vprintf(w->err, fmt, ap);
        va_end(ap);
    }
    return ESP_EINVAL;
}

/* Checks one member `key` of an object; `field` names it in messages. */
typedef int (*member_check)(const where *w, const char *field, const char *key, json_t *v);

/* Runs `check` on every member of `obj`, named "<prefix>.<key>" (or "<key>" when prefix is NULL).
 */
static int each_member(const where *w, const char *prefix, json_t *obj, member_check check)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        char field[160];
        /* The prefix is itself a field name: both parts are bounded so that a name always fits
         * (a Release build proves the unbounded form can truncate and fails with -Werror). */
        snprintf(field, sizeof(field), "%.58s%s%.100s", prefix ? prefix : "", prefix ? "." : "",
                 key);
        int rc = check(w, field, key, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Password hashes.
 */

static int parse_b64(const char *s, size_t n, unsigned char *out, size_t max, size_t *out_len)
{
    uint8_t tmp[128];
    if (n == 0 || n > 100 || esg_b64_decoded_max(n) > sizeof(tmp) ||
        esg_b64url_decode_to(s, n, tmp, out_len) != 0 || *out_len > max) {
        OPENSSL_cleanse(tmp, sizeof(tmp));
        return ESP_EINVAL;
    }
    memcpy(out, tmp, *out_len);
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url> */
static int parse_pbkdf2(const where *w, const char *s, password_hash *h)
{
    const char *p = s + strlen("pbkdf2-sha256$");
    const char *d1 = strchr(p, '$');
    const char *d2 = d1 ? strchr(d1 + 1, '$') : NULL;
    if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '$') != NULL)
        return failf(w, "password_hash", "expected pbkdf2-sha256$<iterations>$<salt>$<hash>");
    uint64_t iterations = 0;
    if (d1 == p || d1 - p > 9)
        return failf(w, "password_hash", "the iteration count is not a number");
    for (const char *c = p; c < d1; c++) {
        if (*c < '0' || *c > '9')
            return failf(w, "password_hash", "the iteration count is not a number");
        iterations = iterations * 10 + (uint64_t)(*c - '0');
    }
    if (iterations < PBKDF2_MIN_ITERATIONS || iterations > PBKDF2_MAX_ITERATIONS)
        return failf(w, "password_hash", "the iteration count must be %d to %d",
                     PBKDF2_MIN_ITERATIONS, PBKDF2_MAX_ITERATIONS);
    h->iterations = (uint32_t)iterations;
    if (parse_b64(d1 + 1, (size_t)(d2 - d1 - 1), h->salt, sizeof(h->salt), &h->salt_len) != 0 ||
        h->salt_len < 8)
        return failf(w, "password_hash", "the salt must be 8 to 64 bytes in unpadded base64url");
    if (parse_b64(d2 + 1, strlen(d2 + 1), h->hash, sizeof(h->hash), &h->hash_len) != 0 ||
        h->hash_len < 16)
        return failf(w, "password_hash", "the hash must be 16 to 64 bytes in unpadded base64url");
    h->kind = PASSWORD_PBKDF2;
    return 0;
}

/* sha256$<64 hex digits>, as eSignet's mock identity system stores passwords. */
static int parse_sha256(const where *w, const char *s, password_hash *h)
{
    const char *hex = s + strlen("sha256$");
    if (strlen(hex) != 64)
        return failf(w, "password_hash", "sha256$ must be followed by 64 hex digits");
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return failf(w, "password_hash", "sha256$ must be followed by 64 hex digits");
        h->hash[i] = (unsigned char)(hi << 4 | lo);
    }
    h->hash_len = 32;
    h->kind = PASSWORD_SHA256;
    return 0;
}

static int parse_password(const where *w, const json_t *v, password_hash *h)
{
    memset(h, 0, sizeof(*h));
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return failf(w, "password_hash", "must be a string");
    const char *s = json_string_value(v);
    if (strncmp(s, "pbkdf2-sha256$", strlen("pbkdf2-sha256$")) == 0)
        return parse_pbkdf2(w, s, h);
    if (strncmp(s, "sha256$", strlen("sha256$")) == 0)
        return parse_sha256(w, s, h);
    return failf(w, "password_hash",
                 "unknown format (expected pbkdf2-sha256$<iterations>$<salt>$<hash> or "
                 "sha256$<hex>)");
}

int password_verify(const password_hash *h, const char *password, size_t len)
{
    unsigned char out[64];
    unsigned int out_len = 0;
    int ok = 0;
    if (len > MAX_PASSWORD || (len > 0 && password == NULL))
        return 0;
    if (password == NULL)
        password = "";
    switch (h->kind) {
    case PASSWORD_PBKDF2:
        ok = PKCS5_PBKDF2_HMAC(password, (int)len, h->salt, (int)h->salt_len, (int)h->iterations,
                               EVP_sha256(), (int)h->hash_len, out) == 1 &&
             CRYPTO_memcmp(out, h->hash, h->hash_len) == 0;
        break;
    case PASSWORD_SHA256:
        ok = EVP_Digest(password, len, out, &out_len, EVP_sha256(), NULL) == 1 && out_len == 32 &&
             CRYPTO_memcmp(out, h->hash, 32) == 0;
        break;
    default:
        ok = 0;
    }
    OPENSSL_cleanse(out, sizeof(out));
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Claims.
 */

enum claim_type {
    T_TEXT,
    T_BOOL,
    T_TIME,
    T_ADDRESS,
    T_EMAIL,
    T_PHONE,
    T_DATE,
    T_PICTURE,
    T_URL,
};

/* The standard claims of OpenID Connect Core §5.1 and their types. */
static const struct {
    const char *name;
    int type;
    int localizable; /* may appear as name#lang (§5.2) */
} standard_claims[] = {
    {"name", T_TEXT, 1},
    {"given_name", T_TEXT, 1},
    {"family_name", T_TEXT, 1},
    {"middle_name", T_TEXT, 1},
    {"nickname", T_TEXT, 1},
    {"preferred_username", T_TEXT, 0},
    {"profile", T_URL, 0},
    {"picture", T_PICTURE, 0},
    {"website", T_URL, 0},
    {"email", T_EMAIL, 0},
    {"email_verified", T_BOOL, 0},
    {"gender", T_TEXT, 1},
    {"birthdate", T_DATE, 0},
    {"zoneinfo", T_TEXT, 0},
    {"locale", T_TEXT, 0},
    {"phone_number", T_PHONE, 0},
    {"phone_number_verified", T_BOOL, 0},
    {"address", T_ADDRESS, 1},
    {"updated_at", T_TIME, 0},
};

static const char *const address_members[] = {"formatted",   "street_address", "locality", "region",
                                              "postal_code", "country",        NULL};

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A claim name: [A-Za-z0-9_.:-]{1,64}. */
static int valid_claim_name(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '.' && c != ':' && c != '-')
            return 0;
    }
    return 1;
}

/* A language tag as in BCP 47, loosely: [A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*. */
static int valid_language(const char *s)
{
    size_t run = 0, i = 0;
    for (; s[i] != '\0' && s[i] != '-'; i++) {
        if (!is_alpha(s[i]))
            return 0;
        run++;
    }
    if (run < 2 || run > 8)
        return 0;
    while (s[i] == '-') {
        run = 0;
        for (i++; s[i] != '\0' && s[i] != '-'; i++) {
            if (!is_alpha(s[i]) && !is_digit(s[i]))
                return 0;
            run++;
        }
        if (run < 1 || run > 8)
            return 0;
    }
    return s[i] == '\0' && i <= 35;
}

static int valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') != NULL || strlen(s) > 254)
        return 0;
    for (const char *c = s; *c != '\0'; c++) {
        /* No white space, controls or characters that end an address in a mail header. */
        if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("<>()[],;:\\\"", *c) != NULL)
            return 0;
    }
    return 1;
}

static int valid_phone(const char *s)
{
    size_t digits = 0;
    for (const char *c = s; *c != '\0'; c++) {
        if (is_digit(*c))
            digits++;
        else if (strchr("+ -()", *c) == NULL)
            return 0;
    }
    return digits >= 4 && digits <= 20;
}

/* YYYY-MM-DD or YYYY (OpenID Connect Core §5.1, birthdate; 0000 marks an omitted year). */
static int valid_date(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (i == 4 || i == 7 ? s[i] != '-' : !is_digit(s[i]))
            return 0;
    }
    if (n == 4)
        return 1;
    if (n != 10)
        return 0;
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static int check_text(const where *w, const char *field, const json_t *v, size_t max)
{
    if (!json_is_string(v))
        return failf(w, field, "must be a string");
    if (json_string_length(v) == 0 || json_string_length(v) > max)
        return failf(w, field, "must be 1 to %zu bytes long", max);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return failf(w, field, "must not contain NUL characters");
    return 0;
}

static int address_member(const where *w, const char *field, const char *key, json_t *v)
{
    size_t k = 0;
    while (address_members[k] != NULL && strcmp(address_members[k], key) != 0)
        k++;
    if (address_members[k] == NULL)
        return failf(w, field,
                     "unknown member (expected formatted, street_address, locality, region, "
                     "postal_code or country)");
    return check_text(w, field, v, MAX_TEXT);
}

static int check_claim_value(const where *w, const char *field, int type, json_t *v)
{
    int rc;
    switch (type) {
    case T_BOOL:
        return json_is_boolean(v) ? 0 : failf(w, field, "must be true or false");
    case T_TIME:
        return json_is_integer(v) && json_integer_value(v) >= 0
                   ? 0
                   : failf(w, field, "must be seconds since the epoch");
    case T_ADDRESS:
        if (!json_is_object(v) || json_object_size(v) == 0)
            return failf(w, field, "must be an object of address members");
        return each_member(w, field, v, address_member);
    case T_PICTURE:
        if ((rc = check_text(w, field, v, MAX_PICTURE)) != 0)
            return rc;
        if (strncmp(json_string_value(v), "https://", 8) != 0 &&
            strncmp(json_string_value(v), "http://", 7) != 0 &&
            strncmp(json_string_value(v), "data:image/", 11) != 0)
            return failf(w, field, "must be an http(s) URL or a data:image/ URI");
        return 0;
    case T_URL:
        if ((rc = check_text(w, field, v, MAX_TEXT)) != 0)
            return rc;
        if (strncmp(json_string_value(v), "https://", 8) != 0 &&
            strncmp(json_string_value(v), "http://", 7) != 0)
            return failf(w, field, "must be an http(s) URL");
        return 0;
    case T_EMAIL:
        if ((rc = check_text(w, field, v, 254)) != 0)
            return rc;
        return valid_email(json_string_value(v)) ? 0 : failf(w, field, "is not an e-mail address");
    case T_PHONE:
        if ((rc = check_text(w, field, v, 32)) != 0)
            return rc;
        return valid_phone(json_string_value(v))
                   ? 0
                   : failf(w, field, "must be a phone number (digits, +, space, -, parentheses)");
    case T_DATE:
        if ((rc = check_text(w, field, v, 10)) != 0)
            return rc;
        return valid_date(json_string_value(v)) ? 0 : failf(w, field, "must be YYYY-MM-DD or YYYY");
    default:
        return check_text(w, field, v, MAX_TEXT);
    }
}

static int claim_member(const where *w, const char *field, const char *key, json_t *v)
{
    const char *hash = strchr(key, '#');
    size_t base_len = hash ? (size_t)(hash - key) : strlen(key);
    if (!valid_claim_name(key, base_len))
        return failf(w, field, "a claim name is [A-Za-z0-9_.:-]{1,64}, optionally #language");
    if (hash != NULL && !valid_language(hash + 1))
        return failf(w, field, "\"%s\" is not a language tag", hash + 1);
    int type = -1, localizable = 1;
    for (size_t i = 0; i < sizeof(standard_claims) / sizeof(standard_claims[0]); i++) {
        if (strlen(standard_claims[i].name) == base_len &&
            memcmp(standard_claims[i].name, key, base_len) == 0) {
            type = standard_claims[i].type;
            localizable = standard_claims[i].localizable;
        }
    }
    if (hash != NULL && !localizable)
        return failf(w, field, "this claim has no language variants");
    /* Claims beyond the standard ones are the deployer's own; any JSON value will do. */
    return type >= 0 ? check_claim_value(w, field, type, v) : 0;
}

static int answer_member(const where *w, const char *field, const char *key, json_t *v)
{
    (void)key;
    return check_text(w, field, v, MAX_TEXT);
}

static int identity_member(const where *w, const char *field, const char *key, json_t *v)
{
    (void)v;
    static const char *const known[] = {"individual_id", "password_hash", "pin",
                                        "knowledge",     "claims",        NULL};
    for (size_t i = 0; known[i] != NULL; i++) {
        if (strcmp(known[i], key) == 0)
            return 0;
    }
    return failf(w, field,
                 "unknown member (expected individual_id, password_hash, pin, knowledge, claims)");
}

/* individual_id: 1 to IDENTITY_ID_MAX visible ASCII characters. */
static int check_id(const where *w, const json_t *v)
{
    if (json_is_number(v))
        return failf(w, "individual_id", "must be a string (quote digits in YAML)");
    if (!json_is_string(v))
        return failf(w, "individual_id", "required, a string");
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n > IDENTITY_ID_MAX)
        return failf(w, "individual_id", "must be 1 to %d characters", IDENTITY_ID_MAX);
    for (size_t i = 0; i < n; i++) {
        if (s[i] <= ' ' || s[i] > '~')
            return failf(w, "individual_id", "must be visible ASCII characters only");
    }
    return 0;
}

static int parse_identity(json_t *item, size_t index, identity *out, esg_buf *err)
{
    where w = {err, index, NULL};
    if (!json_is_object(item))
        return failf(&w, NULL, "must be an object");
    int rc = check_id(&w, json_object_get(item, "individual_id"));
    if (rc != 0)
        return rc;
    w.id = json_string_value(json_object_get(item, "individual_id"));
    if ((rc = each_member(&w, NULL, item, identity_member)) != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->individual_id = w.id;
    if ((rc = parse_password(&w, json_object_get(item, "password_hash"), &out->password)) != 0)
        return rc;
    const json_t *pin = json_object_get(item, "pin");
    if (pin != NULL) {
        if ((rc = check_text(&w, "pin", pin, 64)) != 0)
            return rc;
        out->pin = json_string_value(pin);
    }
    out->knowledge = json_object_get(item, "knowledge");
    if (out->knowledge != NULL && !json_is_object(out->knowledge))
        return failf(&w, "knowledge", "must be an object of answers");
    if (out->knowledge != NULL &&
        (rc = each_member(&w, "knowledge", out->knowledge, answer_member)) != 0)
        return rc;
    out->claims = json_object_get(item, "claims");
    if (!json_is_object(out->claims))
        return failf(&w, "claims", "required, an object of OpenID claims");
    if ((rc = each_member(&w, "claims", out->claims, claim_member)) != 0)
        return rc;
    out->email = json_string_value(json_object_get(out->claims, "email"));
    out->phone = json_string_value(json_object_get(out->claims, "phone_number"));
    out->locale = json_string_value(json_object_get(out->claims, "locale"));
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const identity *)a)->individual_id, ((const identity *)b)->individual_id);
}

/* Validates a parsed document (owned: taken in every case) into a new set of identities. */
static int from_document(json_t *doc, identities **out, esg_buf *err)
{
    identities *db = calloc(1, sizeof(*db));
    int rc = ESP_ENOMEM;
    if (db == NULL) {
        json_decref(doc);
        goto fail;
    }
    db->doc = doc;
    rc = ESP_EINVAL;
    json_t *list = json_object_get(db->doc, "identities");
    const char *key;
    json_t *v;
    json_object_foreach(db->doc, key, v)
    {
        if (strcmp(key, "identities") != 0 && strcmp(key, "description") != 0) {
            esg_buf_printf(err, "unknown top-level member \"%s\" (expected identities)", key);
            goto fail;
        }
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        esg_buf_printf(err, "the document must be an object whose \"identities\" member is a "
                            "non-empty list");
        goto fail;
    }
    db->n = json_array_size(list);
    db->items = calloc(db->n, sizeof(identity));
    if (db->items == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    uint32_t dearest = 0;
    for (size_t i = 0; i < db->n; i++) {
        if ((rc = parse_identity(json_array_get(list, i), i, &db->items[i], err)) != 0)
            goto fail;
        if (db->items[i].password.kind == PASSWORD_PBKDF2 &&
            db->items[i].password.iterations > dearest)
            dearest = db->items[i].password.iterations;
    }
    qsort(db->items, db->n, sizeof(identity), by_id);
    for (size_t i = 1; i < db->n; i++) {
        if (strcmp(db->items[i - 1].individual_id, db->items[i].individual_id) == 0) {
            esg_buf_printf(err, "individual_id \"%s\" appears more than once",
                           db->items[i].individual_id);
            rc = ESP_EINVAL;
            goto fail;
        }
    }
    /*
     * The stand-in hash for unknown individuals costs as much as the dearest real one, so that a
     * wrong individual ID is not told apart from a wrong password by the response time.
     */
    if (dearest > 0) {
        db->dummy.kind = PASSWORD_PBKDF2;
        db->dummy.iterations = dearest;
        db->dummy.salt_len = 16;
        db->dummy.hash_len = 32;
    } else {
        db->dummy.kind = PASSWORD_SHA256;
        db->dummy.hash_len = 32;
    }
    *out = db;
    return 0;
fail:
    identities_free(db);
    return rc;
}

int identities_parse(const char *text, size_t len, identities **out, esg_buf *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        esg_buf_printf(err, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return ESP_EINVAL;
    }
    return from_document(doc, out, err);
}

/*
 * YAML goes through the configuration loader: the same limits, duplicate-key refusal and
 * ${VAR}/$$ expansion as the main configuration, then the JSON validation above. YAML 1.2 types
 * unquoted digits as numbers, so the messages ask for a string where one is needed.
 */
int identities_parse_yaml(const char *name, const char *text, size_t len, identities **out,
                          esg_buf *err)
{
    esg_config_errors errors;
    esg_config_errors_init(&errors);
    esg_yaml_limits limits = {.max_bytes = IDENTITIES_MAX_FILE,
                              .max_nodes = 4 * 1024 * 1024,
                              .max_scalar = 1024 * 1024,
                              .max_text = IDENTITIES_MAX_FILE};
    esg_yaml_opts opts = {.limits = &limits};
    esg_yaml_doc *ydoc = NULL;
    json_t *doc = NULL;
    int rc = esg_yaml_load_string(name, text, len, &opts, &ydoc, &errors);
    if (rc == 0)
        rc = esg_yaml_to_json(esg_yaml_root(ydoc), &doc, &errors);
    esg_yaml_free(ydoc);
    if (rc == 0) {
        rc = from_document(doc, out, err);
    } else {
        esg_config_errors_format(&errors, err);
        rc = rc == ESP_ENOMEM ? rc : ESP_EINVAL;
    }
    esg_config_errors_free(&errors);
    return rc;
}

int identities_load(const char *path, identities **out, esg_buf *err)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    int rc = ESP_EIO;
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        esg_buf_printf(err, "cannot open %s", path);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)IDENTITIES_MAX_FILE) {
        esg_buf_printf(err, "%s: not a regular file of at most %u bytes", path,
                       IDENTITIES_MAX_FILE);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    text = malloc(size + 1);
    if (text == NULL) {
        rc = ESP_ENOMEM;
        goto out;
    }
    if (fread(text, 1, size, f) != size) {
        esg_buf_printf(err, "cannot read %s", path);
        goto out;
    }
    esg_buf msg = ESG_BUF_INIT;
    size_t plen = strlen(path);
    int yaml = (plen > 5 && strcmp(path + plen - 5, ".yaml") == 0) ||
               (plen > 4 && strcmp(path + plen - 4, ".yml") == 0);
    rc = yaml ? identities_parse_yaml(path, text, size, out, &msg)
              : identities_parse(text, size, out, &msg);
    if (rc != 0)
        esg_buf_printf(err, "%s: %s", path, msg.data ? msg.data : "out of memory");
    esg_buf_free(&msg);
out:
    if (f != NULL)
        fclose(f);
    free(text);
    return rc;
}

void identities_free(identities *db)
{
    if (db == NULL)
        return;
    if (db->items != NULL)
        OPENSSL_cleanse(db->items, db->n * sizeof(identity));
    free(db->items);
    json_decref(db->doc);
    free(db);
}

typedef struct id_key {
    const char *id;
    size_t len;
} id_key;

static int find_cmp(const void *k, const void *item)
{
    const id_key *key = k;
    const char *id = ((const identity *)item)->individual_id;
    size_t n = strlen(id);
    int c = memcmp(key->id, id, key->len < n ? key->len : n);
    if (c != 0)
        return c;
    return key->len < n ? -1 : key->len > n ? 1 : 0;
}

const identity *identities_find(const identities *db, const char *id, size_t len)
{
    if (db == NULL || id == NULL || len == 0 || len > IDENTITY_ID_MAX)
        return NULL;
    id_key key = {id, len};
    return bsearch(&key, db->items, db->n, sizeof(identity), find_cmp);
}
