/*
 * identity-mock through the real loader, registry and call layer, with the memory store as the
 * in-flight store and a worker pool for the password hashes: every factor right and wrong, the
 * fixed OTP's single use after send-otp, KYC exchange (accepted claims, locales, single use),
 * pairwise subjects, lookup, and identities files refused with a message naming the field.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/workers.h"
#include "store/store.h"
#include "test_loop.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

static esg_loop loop;
static char ids_path[256];
static struct esp_instance *mock;  /* fixed_otp 111111, pairwise by relying party */
static struct esp_instance *plain; /* no fixed OTP, pairwise by client */

#define PASSWORD   "correct horse battery"
#define SALT       "pepper"
#define RP         "rp-health"
#define CLIENT     "client-1"
#define TXN        "txn0000001"
#define PICTURE    "data:image/png;base64,iVBORw0KGgo="
#define ARABIC     "\xd8\xac\xd9\x8a\xd9\x86"
#define DOB        "1987-11-25"
#define KBI_FIELDS "[\"full_name\",\"date_of_birth\"]"

/* ---------------------------------------------------------------------------------------------
 * Calls.
 */

typedef struct outcome {
    int done;
    int status;
    char token[128];
    char subject[128];
    char text[4096]; /* claims_json, masked email, lookup email, metadata */
    char text2[256]; /* masked mobile, lookup phone */
} outcome;

static void copy(char *dst, size_t size, esp_str s)
{
    snprintf(dst, size, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static void on_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    outcome *o = ud;
    o->done = 1;
    o->status = status;
    (void)result;
}

static int is_done(void *arg)
{
    return ((outcome *)arg)->done;
}

typedef struct pending {
    outcome *o;
    int op;
} pending;

static void on_result(void *ud, int status, const char *code, const void *result)
{
    pending *p = ud;
    outcome *o = p->o;
    on_done(o, status, code, result);
    if (result == NULL)
        return;
    switch (p->op) {
    case ESG_OP_KYC_AUTH: {
        const esp_kyc_auth_result *r = result;
        copy(o->token, sizeof(o->token), r->kyc_token);
        copy(o->subject, sizeof(o->subject), r->subject);
        copy(o->text, sizeof(o->text), r->claims_metadata_json);
        break;
    }
    case ESG_OP_KYC_EXCHANGE:
        copy(o->text, sizeof(o->text), ((const esp_kyc_exchange_result *)result)->claims_json);
        break;
    case ESG_OP_SEND_OTP: {
        const esp_send_otp_result *r = result;
        copy(o->text, sizeof(o->text), r->masked_email);
        copy(o->text2, sizeof(o->text2), r->masked_mobile);
        break;
    }
    case ESG_OP_LOOKUP: {
        const esp_lookup_result *r = result;
        copy(o->text, sizeof(o->text), r->email);
        copy(o->text2, sizeof(o->text2), r->phone);
        break;
    }
    default:
        break;
    }
}

static outcome run(struct esp_instance *inst, int op, const void *req)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    pending p = {&o, op};
    int rc = esg_call(inst, op, req, on_result, &p);
    if (rc != 0) {
        o.status = rc;
        return o;
    }
    test_loop_until(&loop, is_done, &o, 20000);
    return o;
}

static esp_str s(const char *text)
{
    return (esp_str){text, text ? strlen(text) : 0};
}

/* Stands for the value of a challenge an authenticator instance already verified. */
static const char verified[] = "";

/* kyc_auth with up to two challenges given as factor/value pairs. */
static outcome auth_on(struct esp_instance *inst, const char *client, const char *rp,
                       const char *txn, const char *id, const char *f1, const char *v1,
                       const char *f2, const char *v2)
{
    esp_challenge c[2] = {{sizeof(esp_challenge), s(f1), ESP_STR_NULL, s(v1), v1 == verified},
                          {sizeof(esp_challenge), s(f2), ESP_STR_NULL, s(v2), v2 == verified}};
    const esp_challenge *list[2] = {&c[0], &c[1]};
    esp_kyc_auth_request req = {sizeof(req),
                                s(client),
                                s(rp),
                                s(txn),
                                s(id),
                                list,
                                f1 == NULL ? 0u : f2 == NULL ? 1u : 2u,
                                1};
    return run(inst, ESG_OP_KYC_AUTH, &req);
}

static outcome auth(const char *id, const char *factor, const char *value)
{
    return auth_on(mock, CLIENT, RP, TXN, id, factor, value, NULL, NULL);
}

static outcome send_otp(struct esp_instance *inst, const char *txn, const char *id,
                        const char *channel)
{
    esp_str ch[1] = {s(channel)};
    esp_send_otp_request req = {sizeof(req), s(CLIENT), s(RP), s(txn), s(id), ch, 1};
    return run(inst, ESG_OP_SEND_OTP, &req);
}

static outcome exchange(const char *client, const char *token, const char *const *claims, size_t n,
                        const char *const *locales, size_t n_locales)
{
    esp_str accepted[16], loc[8];
    for (size_t i = 0; i < n; i++)
        accepted[i] = s(claims[i]);
    for (size_t i = 0; i < n_locales; i++)
        loc[i] = s(locales[i]);
    esp_kyc_exchange_request req = {sizeof(req), s(client), s(RP), s(TXN), s("8267411571"),
                                    s(token),    accepted,  n,     loc,    n_locales,
                                    ESP_STR_NULL};
    return run(mock, ESG_OP_KYC_EXCHANGE, &req);
}

static char *b64url(const char *text)
{
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_encode(&b, text, strlen(text)), 0);
    return esg_buf_steal(&b, NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Fixture: an identities file with PBKDF2, SHA-256 and password-less identities.
 */

static char *pbkdf2_hash(const char *password)
{
    unsigned char salt[16], out[32];
    memset(salt, 0x5a, sizeof(salt));
    assert_int_equal(PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), 1000,
                                       EVP_sha256(), sizeof(out), out),
                     1);
    esg_buf b = ESG_BUF_INIT;
    esg_buf_puts(&b, "pbkdf2-sha256$1000$");
    esg_b64url_encode(&b, salt, sizeof(salt));
    esg_buf_putc(&b, '$');
    esg_b64url_encode(&b, out, sizeof(out));
    return esg_buf_steal(&b, NULL);
}

static char *sha256_hash(const char *password)
{
    unsigned char md[32];
    unsigned int n;
    EVP_Digest(password, strlen(password), md, &n, EVP_sha256(), NULL);
    char *out = malloc(7 + 65);
    strcpy(out, "sha256$");
    for (int i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return out;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_identities(void)
{
    char *h1 = pbkdf2_hash(PASSWORD), *h2 = sha256_hash("legacy-pass1");
    esg_buf doc = ESG_BUF_INIT;
    esg_buf_printf(
        &doc,
        "{\"description\": \"test identities\", \"identities\": ["
        "{\"individual_id\": \"8267411571\", \"password_hash\": \"%s\", \"pin\": \"545411\","
        " \"knowledge\": {\"full_name\": \"Siddharth K Mansour\", \"date_of_birth\": \"" DOB "\"},"
        " \"claims\": {\"name\": \"Siddharth K Mansour\", \"name#ara\": \"" ARABIC "\","
        "  \"name#eng\": \"Siddharth K Mansour\", \"given_name\": \"Siddharth\","
        "  \"email\": \"siddharth@example.com\", \"email_verified\": true,"
        "  \"phone_number\": \"+919876543210\", \"birthdate\": \"" DOB "\","
        "  \"address\": {\"locality\": \"Bengaluru\", \"country\": \"IN\"},"
        "  \"address#ara\": {\"locality\": \"" ARABIC "\"},"
        "  \"picture\": \"" PICTURE "\", \"locale\": \"en\", \"updated_at\": 1700000000,"
        "  \"individual_id\": \"8267411571\"}},"
        "{\"individual_id\": \"legacy\", \"password_hash\": \"%s\","
        " \"claims\": {\"name\": \"Legacy User\", \"email\": \"legacy@example.org\"}},"
        "{\"individual_id\": \"nopass\", \"claims\": {\"name\": \"No Password\"}}]}",
        h1, h2);
    write_file(ids_path, doc.data);
    esg_buf_free(&doc);
    free(h1);
    free(h2);
}

static json_t *config(const char *extra_json)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"identities\": \"%s\", \"kbi_fields\": " KBI_FIELDS
             ", \"otp_validity\": 180000, \"kyc_token_validity\": 180000%s}",
             ids_path, extra_json);
    json_t *c = json_loads(text, 0, NULL);
    assert_non_null(c);
    return c;
}

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(2), 0);
    assert_int_equal(esg_plugin_register_builtin(esg_memstore_descriptor(), &err), 0);
    if (esg_plugin_load(ESG_PLUGIN_BUILD_DIR "/identity-mock.so", &err) != 0)
        fail_msg("%s", err.data);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    struct esp_instance *mem;
    json_t *mcfg = json_pack("{s:i,s:i}", "max_entries", 10000, "max_value_size", 4096);
    assert_int_equal(esg_instance_create(esg_cap_find(ESP_KIND_STORAGE, "memory", &err), "mem",
                                         mcfg, 5000, &mem, &err),
                     0);
    assert_int_equal(esg_store_configure(mem, NULL, &err), 0);
    snprintf(ids_path, sizeof(ids_path), "%s/test_identity_mock_%d.json", ESG_TEST_BUILD_DIR,
             (int)getpid());
    write_identities();
    esg_cap *cap = esg_cap_find(ESP_KIND_IDENTITY_BACKEND, "mock", &err);
    if (esg_instance_create(cap, "mock",
                            config(", \"fixed_otp\": \"111111\", \"subject_salt\": \"" SALT
                                   "\", \"pairwise\": \"relying_party\""),
                            10000, &mock, &err) != 0)
        fail_msg("%s", err.data);
    if (esg_instance_create(cap, "plain", config(", \"pairwise\": \"client\""), 10000, &plain,
                            &err) != 0)
        fail_msg("%s", err.data);
    esg_buf_free(&err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esg_clock_set_offset_ms(0);
    esg_store_configure(NULL, NULL, NULL);
    esg_plugins_shutdown();
    esg_workers_stop();
    assert_int_equal(test_loop_finish(&loop), 0);
    unlink(ids_path);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Tests.
 */

static void test_password(void **state)
{
    (void)state;
    outcome o = auth("8267411571", "PWD", PASSWORD);
    assert_int_equal(o.status, 0);
    assert_int_equal(strlen(o.token), 43);
    assert_int_equal(strlen(o.subject), 43);
    /* Claims metadata: every claim available, none verified. */
    json_t *meta = json_loads(o.text, 0, NULL);
    assert_true(json_is_array(json_object_get(meta, "email")));
    assert_null(json_object_get(meta, "name#ara"));
    json_decref(meta);

    assert_int_equal(auth("8267411571", "PWD", "correct horse battery!").status, ESP_EAUTH);
    assert_int_equal(auth("8267411571", "PWD", "").status, ESP_EAUTH);
    assert_int_equal(auth("no-such-person", "PWD", PASSWORD).status, ESP_EUNKNOWN_SUBJECT);
    /* eSignet's SHA-256 passwords, and an identity without a password. */
    assert_int_equal(auth("legacy", "PWD", "legacy-pass1").status, 0);
    assert_int_equal(auth("legacy", "PWD", "legacy-pass2").status, ESP_EAUTH);
    assert_int_equal(auth("nopass", "PWD", "anything at all").status, ESP_EAUTH);
    /* Both factors must pass. */
    assert_int_equal(
        auth_on(mock, CLIENT, RP, TXN, "8267411571", "PWD", PASSWORD, "PIN", "545411").status, 0);
    assert_int_equal(
        auth_on(mock, CLIENT, RP, TXN, "8267411571", "PWD", PASSWORD, "PIN", "545412").status,
        ESP_EAUTH);
    assert_int_equal(auth("8267411571", "PIN", "545411").status, 0);
    assert_int_equal(auth("8267411571", "PIN", "54541").status, ESP_EAUTH);
    assert_int_equal(auth("nopass", "PIN", "545411").status, ESP_EAUTH);
}

static void test_knowledge(void **state)
{
    (void)state;
    char *right = b64url("{\"full_name\": \"  siddharth k MANSOUR \", \"date_of_birth\": \"" DOB
                         "\", \"individual_id\": \"8267411571\"}");
    char *wrong = b64url("{\"full_name\": \"Siddharth Mansour\", \"date_of_birth\": \"" DOB "\"}");
    char *other_date = b64url("{\"full_name\": \"Siddharth K Mansour\", \"date_of_birth\": "
                              "\"25/11/1987\"}");
    char *missing = b64url("{\"full_name\": \"Siddharth K Mansour\"}");
    char *not_object = b64url("[\"Siddharth K Mansour\", \"" DOB "\"]");
    assert_int_equal(auth("8267411571", "KBI", right).status, 0);
    assert_int_equal(auth("8267411571", "KBI", wrong).status, ESP_EAUTH);
    assert_int_equal(auth("8267411571", "KBI", other_date).status, ESP_EAUTH);
    assert_int_equal(auth("8267411571", "KBI", missing).status, ESP_EAUTH);
    assert_int_equal(auth("8267411571", "KBI", not_object).status, ESP_EFORMAT);
    assert_int_equal(auth("8267411571", "KBI", "not+base64/url").status, ESP_EFORMAT);
    /* An identity without knowledge answers cannot pass KBI. */
    assert_int_equal(auth("legacy", "KBI", right).status, ESP_EAUTH);
    assert_int_equal(auth("no-such-person", "KBI", right).status, ESP_EUNKNOWN_SUBJECT);
    free(right);
    free(wrong);
    free(other_date);
    free(missing);
    free(not_object);
}

static void test_fixed_otp(void **state)
{
    (void)state;
    /* Before send-otp the right OTP is refused. */
    assert_int_equal(auth("8267411571", "OTP", "111111").status, ESP_ECHALLENGE_EXPIRED);
    outcome o = send_otp(mock, TXN, "8267411571", "email");
    assert_int_equal(o.status, 0);
    assert_string_equal(o.text, "s***@e*****e.com");
    assert_string_equal(o.text2, "");
    /* Another transaction or individual has no OTP outstanding. */
    assert_int_equal(
        auth_on(mock, CLIENT, RP, "txn0000002", "8267411571", "OTP", "111111", NULL, NULL).status,
        ESP_ECHALLENGE_EXPIRED);
    /* A wrong OTP, or a wrong password beside the right OTP, does not use the OTP up. */
    assert_int_equal(auth("8267411571", "OTP", "111112").status, ESP_EAUTH);
    assert_int_equal(
        auth_on(mock, CLIENT, RP, TXN, "8267411571", "OTP", "111111", "PWD", "wrong").status,
        ESP_EAUTH);
    assert_int_equal(auth("8267411571", "OTP", "111111").status, 0);
    /* Single use. */
    assert_int_equal(auth("8267411571", "OTP", "111111").status, ESP_ECHALLENGE_EXPIRED);

    /* Expiry after otp_validity (3 minutes). */
    assert_int_equal(send_otp(mock, TXN, "8267411571", "phone").status, 0);
    esg_clock_set_offset_ms(181000);
    assert_int_equal(auth("8267411571", "OTP", "111111").status, ESP_ECHALLENGE_EXPIRED);
    esg_clock_set_offset_ms(0);

    /* Without fixed_otp the mock leaves OTPs to an authenticator. */
    assert_int_equal(send_otp(plain, TXN, "8267411571", "email").status, ESP_ENOTSUP);
    assert_int_equal(
        auth_on(plain, CLIENT, RP, TXN, "8267411571", "OTP", "111111", NULL, NULL).status,
        ESP_EFACTOR);
}

static void test_send_otp_channels(void **state)
{
    (void)state;
    outcome o = send_otp(mock, "txn0000003", "8267411571", "phone");
    assert_int_equal(o.status, 0);
    assert_string_equal(o.text2, "*********3210");
    assert_string_equal(o.text, "");
    assert_int_equal(send_otp(mock, TXN, "legacy", "phone").status, ESP_ENO_CHANNEL);
    assert_int_equal(send_otp(mock, TXN, "nopass", "email").status, ESP_ENO_CHANNEL);
    assert_int_equal(send_otp(mock, TXN, "8267411571", "fax").status, ESP_ENO_CHANNEL);
    assert_int_equal(send_otp(mock, TXN, "no-such-person", "email").status, ESP_EUNKNOWN_SUBJECT);
}

static void test_verified_and_factors(void **state)
{
    (void)state;
    /* A challenge an authenticator verified passes without a value. */
    assert_int_equal(
        auth_on(plain, CLIENT, RP, TXN, "8267411571", "OTP", verified, NULL, NULL).status, 0);
    assert_int_equal(
        auth_on(plain, CLIENT, RP, TXN, "8267411571", "BIO", verified, NULL, NULL).status, 0);
    /* ... but the other factors still count. */
    assert_int_equal(
        auth_on(plain, CLIENT, RP, TXN, "8267411571", "BIO", verified, "PIN", "000000").status,
        ESP_EAUTH);
    assert_int_equal(auth("8267411571", "BIO", "{}").status, ESP_EFACTOR);
    assert_int_equal(auth("8267411571", "pwd", PASSWORD).status, ESP_EFACTOR);
    assert_int_equal(auth_on(mock, CLIENT, RP, TXN, "8267411571", NULL, NULL, NULL, NULL).status,
                     ESP_EAUTH);
    /* A factor in a format it does not take. */
    esp_challenge c = {sizeof(c), s("PWD"), s("jwt"), s(PASSWORD), 0};
    const esp_challenge *list[1] = {&c};
    esp_kyc_auth_request req = {sizeof(req), s(CLIENT), s(RP), s(TXN), s("8267411571"), list, 1, 0};
    assert_int_equal(run(mock, ESG_OP_KYC_AUTH, &req).status, ESP_EFORMAT);
}

static void test_exchange(void **state)
{
    (void)state;
    outcome a = auth("8267411571", "PIN", "545411");
    assert_int_equal(a.status, 0);
    const char *claims[] = {"name", "email", "address", "birthdate", "picture", "gender", "sub"};
    const char *locales[] = {"ar", "eng", "fr"};
    outcome o = exchange(CLIENT, a.token, claims, 7, locales, 3);
    assert_int_equal(o.status, 0);
    json_t *doc = json_loads(o.text, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "Siddharth K Mansour");
    /* "ar" finds name#ara; the variant is named as the client asked. */
    assert_string_equal(json_string_value(json_object_get(doc, "name#ar")), ARABIC);
    assert_string_equal(json_string_value(json_object_get(doc, "name#eng")), "Siddharth K Mansour");
    assert_null(json_object_get(doc, "name#fr"));
    assert_null(json_object_get(doc, "name#ara"));
    assert_string_equal(json_string_value(json_object_get(doc, "email")), "siddharth@example.com");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "address"), "locality")),
        "Bengaluru");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "address#ar"), "locality")), ARABIC);
    assert_string_equal(json_string_value(json_object_get(doc, "picture")), PICTURE);
    assert_string_equal(json_string_value(json_object_get(doc, "birthdate")), DOB);
    /* Only accepted claims the identity has: no gender (absent), no phone (not accepted). */
    assert_null(json_object_get(doc, "gender"));
    assert_null(json_object_get(doc, "phone_number"));
    assert_null(json_object_get(doc, "sub"));
    assert_int_equal(json_object_size(doc), 8);
    json_decref(doc);

    /* Single use, and unknown tokens. */
    assert_int_equal(exchange(CLIENT, a.token, claims, 1, NULL, 0).status, ESP_EKYC_EXCHANGE);
    assert_int_equal(exchange(CLIENT, "no-such-token", claims, 1, NULL, 0).status,
                     ESP_EKYC_EXCHANGE);
    /* A token is bound to its client. */
    a = auth("8267411571", "PIN", "545411");
    assert_int_equal(exchange("client-2", a.token, claims, 1, NULL, 0).status, ESP_EKYC_EXCHANGE);
    assert_int_equal(exchange(CLIENT, a.token, claims, 1, NULL, 0).status, ESP_EKYC_EXCHANGE);
    /* And expires after kyc_token_validity. */
    a = auth("8267411571", "PIN", "545411");
    esg_clock_set_offset_ms(181000);
    assert_int_equal(exchange(CLIENT, a.token, claims, 1, NULL, 0).status, ESP_EKYC_EXCHANGE);
    esg_clock_set_offset_ms(0);
    /* Nothing accepted: an empty object. */
    a = auth("8267411571", "PIN", "545411");
    o = exchange(CLIENT, a.token, NULL, 0, locales, 1);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.text, "{}");
}

static void expected_subject(const char *salt, const char *id, const char *sector, char out[44])
{
    char text[256];
    unsigned char md[32];
    unsigned int n;
    snprintf(text, sizeof(text), "%s|%s|%s", salt, id, sector);
    EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
    esg_b64url_encode_to(md, sizeof(md), out);
    out[43] = '\0';
}

static void test_pairwise(void **state)
{
    (void)state;
    char want[44];
    outcome a1 = auth_on(mock, CLIENT, RP, TXN, "8267411571", "PIN", "545411", NULL, NULL);
    outcome a2 = auth_on(mock, "client-2", RP, TXN, "8267411571", "PIN", "545411", NULL, NULL);
    outcome b = auth_on(mock, CLIENT, "rp-bank", TXN, "8267411571", "PIN", "545411", NULL, NULL);
    outcome other = auth_on(mock, CLIENT, RP, TXN, "legacy", "PWD", "legacy-pass1", NULL, NULL);
    assert_int_equal(a1.status | a2.status | b.status | other.status, 0);
    expected_subject(SALT, "8267411571", RP, want);
    assert_string_equal(a1.subject, want);
    /* Stable per relying party, whichever of its clients asks; different across them. */
    assert_string_equal(a1.subject, a2.subject);
    assert_string_not_equal(a1.subject, b.subject);
    assert_string_not_equal(a1.subject, other.subject);
    /* Tokens differ every time. */
    assert_string_not_equal(a1.token, a2.token);

    /* pairwise: client, without a salt. */
    outcome c1 = auth_on(plain, CLIENT, RP, TXN, "8267411571", "PIN", "545411", NULL, NULL);
    outcome c2 = auth_on(plain, "client-2", RP, TXN, "8267411571", "PIN", "545411", NULL, NULL);
    expected_subject("", "8267411571", CLIENT, want);
    assert_string_equal(c1.subject, want);
    assert_string_not_equal(c1.subject, c2.subject);
    assert_string_not_equal(c1.subject, a1.subject);
}

static void test_lookup(void **state)
{
    (void)state;
    esp_lookup_request req = {sizeof(req), s("8267411571")};
    outcome o = run(mock, ESG_OP_LOOKUP, &req);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.text, "siddharth@example.com");
    assert_string_equal(o.text2, "+919876543210");
    req.individual_id = s("nopass");
    o = run(mock, ESG_OP_LOOKUP, &req);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.text, "");
    req.individual_id = s("no-such-person");
    assert_int_equal(run(mock, ESG_OP_LOOKUP, &req).status, ESP_EUNKNOWN_SUBJECT);
}

/*
 * Creates an instance from `doc` written to a file ending in `ext` (which chooses JSON or YAML);
 * returns what the plugin logged, or "" when it was accepted.
 */
static char *create_with_ext(const char *doc, const char *ext)
{
    char path[300], log_path[300];
    snprintf(path, sizeof(path), "%s%s", ids_path, ext);
    snprintf(log_path, sizeof(log_path), "%s.log", ids_path);
    write_file(path, doc);
    int fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    unlink(log_path); /* read through fd; nothing stays behind even when an assertion fails */
    esg_log_set_fd(fd);
    esg_buf err = ESG_BUF_INIT;
    char cfg[512];
    snprintf(cfg, sizeof(cfg), "{\"identities\": \"%s\"}", path);
    static int n;
    char name[32];
    snprintf(name, sizeof(name), "bad%d", n++);
    int rc = esg_instance_create(esg_cap_find(ESP_KIND_IDENTITY_BACKEND, "mock", NULL), name,
                                 json_loads(cfg, 0, NULL), 5000, NULL, &err);
    esg_log_set_fd(2);
    char *log = calloc(1, 8192);
    if (rc != 0) {
        assert_true(pread(fd, log, 8191, 0) >= 0);
        assert_int_equal(rc, ESP_ECONFIG);
    }
    close(fd);
    unlink(path);
    esg_buf_free(&err);
    return log;
}

static char *create_with(const char *doc)
{
    return create_with_ext(doc, ".bad");
}

static void expect_refused(const char *doc, const char *const *needles)
{
    char *log = create_with(doc);
    if (log[0] == '\0')
        fail_msg("accepted: %s", doc);
    for (size_t i = 0; needles[i] != NULL; i++) {
        if (strstr(log, needles[i]) == NULL)
            fail_msg("message lacks \"%s\": %s", needles[i], log);
    }
    free(log);
}

#define REFUSED(doc, ...)                                                                          \
    do {                                                                                           \
        const char *const needles_[] = {__VA_ARGS__, NULL};                                        \
        expect_refused(doc, needles_);                                                             \
    } while (0)

static void test_bad_files(void **state)
{
    (void)state;
    REFUSED("{\"identities\": [", "line 1");
    REFUSED("[]", "identities");
    REFUSED("{\"identities\": []}", "non-empty list");
    REFUSED("{\"identities\": [], \"people\": 1}", "people");
    REFUSED("{\"identities\": [{\"claims\": {}}]}", "identities[0]", "individual_id");
    REFUSED("{\"identities\": [{\"individual_id\": \"a b\", \"claims\": {}}]}", "visible ASCII");
    REFUSED("{\"identities\": [{\"individual_id\": \"x\", \"claims\": {}},"
            " {\"individual_id\": \"x\", \"claims\": {}}]}",
            "x", "more than once");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {}},"
            " {\"individual_id\": \"b\", \"password_hash\": \"md5$abc\", \"claims\": {}}]}",
            "identities[1]", "\\\"b\\\"", "password_hash", "unknown format");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"password_hash\": "
            "\"pbkdf2-sha256$10$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\", \"claims\": {}}]}",
            "iteration count");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"password_hash\": "
            "\"pbkdf2-sha256$1000$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA\", \"claims\": {}}]}",
            "salt");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"password_hash\": \"sha256$00\","
            " \"claims\": {}}]}",
            "64 hex digits");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\"}]}", "claims", "required");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {\"email\": 3}}]}",
            "claims.email", "string");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {\"email\": \"nobody\"}}]}",
            "claims.email", "e-mail address");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": "
            "{\"email_verified\": \"yes\"}}]}",
            "claims.email_verified");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": "
            "{\"birthdate\": \"25/11/1987\"}}]}",
            "claims.birthdate", "YYYY-MM-DD");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": "
            "{\"address\": {\"city\": \"X\"}}}]}",
            "claims.address", "city");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": "
            "{\"picture\": \"file:///etc/passwd\"}}]}",
            "claims.picture");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {\"email#ara\": \"a@b\"}}]}",
            "claims.email#ara", "no language variants");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {\"name#1\": \"A\"}}]}",
            "language tag");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {}, \"pwd\": \"x\"}]}", "pwd",
            "unknown member");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {}, "
            "\"knowledge\": {\"full_name\": 7}}]}",
            "knowledge.full_name");
    REFUSED("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {\"name\": \"A\", "
            "\"name\": \"B\"}}]}",
            "duplicate");
    /* A minimal valid file is accepted (the counter-check of the cases above). */
    char *log = create_with("{\"identities\": [{\"individual_id\": \"a\", \"claims\": {}}]}");
    assert_string_equal(log, "");
    free(log);
}

/*
 * An identities file in YAML: the same structure, loaded by the configuration loader, so its
 * duplicate keys and YAML 1.2 typing (unquoted digits are numbers) are refused with a position.
 */
static void test_yaml_file(void **state)
{
    (void)state;
    char *hash = sha256_hash("yaml-pass1");
    char doc[2048], path[300];
    snprintf(doc, sizeof(doc),
             "description: YAML identities\n"
             "identities:\n"
             "  - individual_id: \"4455667788\"\n"
             "    password_hash: \"%s\"\n"
             "    claims:\n"
             "      name: Yaml User\n"
             "      name#ara: \"" ARABIC "\"\n"
             "      email: yaml@example.org\n"
             "      birthdate: 1990-01-02\n"
             "      address: {locality: Pune, country: IN}\n",
             hash);
    free(hash);
    snprintf(path, sizeof(path), "%s.yaml", ids_path);
    write_file(path, doc);
    esg_buf err = ESG_BUF_INIT;
    struct esp_instance *y;
    if (esg_instance_create(esg_cap_find(ESP_KIND_IDENTITY_BACKEND, "mock", NULL), "yaml",
                            json_pack("{s:s}", "identities", path), 5000, &y, &err) != 0)
        fail_msg("%s", err.data);
    esg_buf_free(&err);
    unlink(path);
    assert_int_equal(
        auth_on(y, CLIENT, RP, TXN, "4455667788", "PWD", "yaml-pass1", NULL, NULL).status, 0);
    assert_int_equal(
        auth_on(y, CLIENT, RP, TXN, "4455667788", "PWD", "wrong-pass1", NULL, NULL).status,
        ESP_EAUTH);

    char *log =
        create_with_ext("identities:\n  - individual_id: 8267411571\n    claims: {}\n", ".yml");
    assert_non_null(strstr(log, "quote digits in YAML"));
    free(log);
    log = create_with_ext("identities:\n  - individual_id: a\n    individual_id: b\n"
                          "    claims: {}\n",
                          ".yaml");
    assert_non_null(strstr(log, "duplicate key"));
    assert_non_null(strstr(log, ".yaml:3:"));
    free(log);
    log = create_with_ext("identities: [{individual_id: a, claims: {}}]\n", ".yaml");
    assert_string_equal(log, "");
    free(log);
}

/* The demo identities shipped in config/: they load, and the documented credentials work. */
static void test_demo_file(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    struct esp_instance *demo;
    json_t *cfg =
        json_pack("{s:s,s:s}", "identities", ESG_TEST_DATA_DIR "/../../config/identities.json",
                  "fixed_otp", "111111");
    if (esg_instance_create(esg_cap_find(ESP_KIND_IDENTITY_BACKEND, "mock", NULL), "demo", cfg,
                            10000, &demo, &err) != 0)
        fail_msg("%s", err.data);
    esg_buf_free(&err);
    char *kbi =
        b64url("{\"full_name\": \"Siddharth K Mansour\", \"date_of_birth\": \"1987-11-25\"}");
    assert_int_equal(
        auth_on(demo, CLIENT, RP, TXN, "8267411571", "PWD", "Sid@Demo2024", "KBI", kbi).status, 0);
    free(kbi);
    assert_int_equal(
        auth_on(demo, CLIENT, RP, TXN, "5860356276", "PWD", "Aisha#Demo99", NULL, NULL).status, 0);
    assert_int_equal(
        auth_on(demo, CLIENT, RP, TXN, "2154189532", "PWD", "mosip1234", NULL, NULL).status, 0);
    assert_int_equal(send_otp(demo, TXN, "8267411571", "email").status, 0);
    outcome a = auth_on(demo, CLIENT, RP, TXN, "8267411571", "OTP", "111111", "PIN", "545411");
    assert_int_equal(a.status, 0);
    /* 8267411571 carries every standard claim, with Arabic variants. */
    const char *claims[] = {"name",         "given_name",
                            "family_name",  "middle_name",
                            "nickname",     "preferred_username",
                            "email",        "email_verified",
                            "phone_number", "phone_number_verified",
                            "birthdate",    "gender",
                            "address",      "picture",
                            "locale",       "zoneinfo",
                            "updated_at"};
    const char *locales[] = {"ara"};
    esp_str accepted[17], loc[1] = {s(locales[0])};
    for (size_t i = 0; i < 17; i++)
        accepted[i] = s(claims[i]);
    esp_kyc_exchange_request req = {sizeof(req), s(CLIENT), s(RP), s(TXN), s("8267411571"),
                                    s(a.token),  accepted,  17,    loc,    1,
                                    ESP_STR_NULL};
    outcome o = run(demo, ESG_OP_KYC_EXCHANGE, &req);
    assert_int_equal(o.status, 0);
    json_t *doc = json_loads(o.text, 0, NULL);
    for (size_t i = 0; i < 17; i++) {
        if (json_object_get(doc, claims[i]) == NULL)
            fail_msg("the demo identity lacks %s", claims[i]);
    }
    assert_non_null(json_object_get(doc, "name#ara"));
    assert_non_null(json_object_get(doc, "address#ara"));
    assert_true(
        strncmp(json_string_value(json_object_get(doc, "picture")), "data:image/png;", 15) == 0);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_knowledge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_otp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_otp_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verified_and_factors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairwise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
