/*
 * Clients: the stored document and the esg_client built from it, through the real SQLite plugin
 * and memory store; the unique public key hash, inactive clients, the cache (eviction on writes,
 * expiry, never completing inline, concurrent look-ups from several loops), settings, URI rules
 * and redirect URI matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "jose/jwk.h"
#include "oauth/clients.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/workers.h"
#include "store/store.h"
#include "test_loop.h"
#include "util/clock.h"
#include "util/str.h"

static esg_loop loop;
static char db_path[256];
static EVP_PKEY *rsa_key, *rsa_other, *ec_key, *rsa_enc;

/* ------------------------------------------------------------------------------------------------
 * Helpers.
 */

typedef struct outcome {
    int calls;
    int status;
    int returned; /* set once the starting function returned */
    int inline_call;
    esg_client *client;
    json_t *doc;
} outcome;

static int called(void *arg)
{
    return ((outcome *)arg)->calls > 0;
}

static void on_client(void *ud, int status, esg_client *c)
{
    outcome *o = ud;
    o->calls++;
    o->status = status;
    o->client = c;
    o->inline_call = !o->returned;
}

static void on_done(void *ud, int status)
{
    outcome *o = ud;
    o->calls++;
    o->status = status;
    o->inline_call = !o->returned;
}

static void on_doc(void *ud, int status, json_t *doc)
{
    outcome *o = ud;
    o->calls++;
    o->status = status;
    o->doc = doc;
    o->inline_call = !o->returned;
}

/* Looks a client up and waits; the caller unrefs o.client. */
static outcome get(const char *id)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    assert_int_equal(esg_clients_get(id, on_client, &o), 0);
    o.returned = 1;
    test_loop_until(&loop, called, &o, 10000);
    assert_int_equal(o.calls, 1);
    assert_false(o.inline_call);
    return o;
}

static int write_doc(json_t *doc, int replace)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    int rc = replace ? esg_clients_replace(doc, on_done, &o) : esg_clients_insert(doc, on_done, &o);
    o.returned = 1;
    json_decref(doc);
    if (rc != 0)
        return rc;
    test_loop_until(&loop, called, &o, 10000);
    assert_int_equal(o.calls, 1);
    assert_false(o.inline_call);
    return o.status;
}

static json_t *public_jwk(EVP_PKEY *pkey)
{
    json_t *jwk = NULL;
    assert_int_equal(esg_jwk_public_json(pkey, &jwk), 0);
    return jwk;
}

/* A stored document as the management API writes it. */
static json_t *make_doc(const char *id, EVP_PKEY *key, const char *status, json_t *redirects)
{
    char hash[65];
    json_t *jwk = public_jwk(key);
    assert_int_equal(esg_clients_key_hash(jwk, hash), 0);
    json_t *doc = json_pack(
        "{s:s,s:{s:s,s:s},s:s,s:s,s:o,s:[s,s],s:[s],s:o,s:s,s:[s],s:[s],s:s,s:{s:s,s:b,s:b,s:b,s:i}"
        ","
        "s:s,s:s}",
        "id", id, "name", "@none", "Client name", "fra", "Nom du client", "rp_id", "rp-1",
        "logo_uri", "https://rp.example/logo.png", "redirect_uris",
        redirects ? redirects : json_pack("[s]", "https://rp.example/cb"), "claims", "name",
        "email", "acr_values", "mosip:idp:acr:generated-code", "public_key", jwk, "public_key_hash",
        hash, "grant_types", "authorization_code", "auth_methods", "private_key_jwt", "status",
        status, "additional_config", "userinfo_response_type", "JWE", "require_pkce", 1,
        "require_pushed_authorization_requests", 1, "dpop_bound_access_tokens", 0,
        "consent_expire_in_mins", 30, "cr_dtimes", "2026-01-02T03:04:05.678Z", "upd_dtimes",
        "2026-01-02T03:04:05.678Z");
    assert_non_null(doc);
    return doc;
}

static void configure(int wildcards, const char *admin_hex)
{
    esg_buf err = ESG_BUF_INIT;
    json_t *oidc = json_pack(
        "{s:[s,s,s],s:[{s:s,s:[s]},{s:s,s:[s]}],s:{s:b}}", "claims_supported", "name", "email",
        "phone_number", "acr", "acr", "mosip:idp:acr:generated-code", "amr", "otp", "acr",
        "mosip:idp:acr:password", "amr", "pwd", "clients", "redirect_uri_wildcards", wildcards);
    if (admin_hex != NULL)
        json_object_set_new(json_object_get(oidc, "clients"), "admin_token_sha256",
                            json_string(admin_hex));
    assert_int_equal(esg_clients_configure(oidc, &err), 0);
    json_decref(oidc);
    esg_buf_free(&err);
}

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(2), 0);
    assert_int_equal(esg_plugin_register_builtin(esg_memstore_descriptor(), &err), 0);
    assert_int_equal(esg_plugin_load(ESG_PLUGIN_BUILD_DIR "/storage-sqlite.so", &err), 0);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    json_t *mcfg = json_pack("{s:i}", "max_entries", 5000);
    struct esp_instance *mem, *sql;
    assert_int_equal(esg_instance_create(esg_cap_find(ESP_KIND_STORAGE, "memory", &err), "mem",
                                         mcfg, 5000, &mem, &err),
                     0);
    snprintf(db_path, sizeof(db_path), "%s/test_clients_%d.db", ESG_TEST_BUILD_DIR, (int)getpid());
    unlink(db_path);
    json_t *scfg = json_pack("{s:s,s:i}", "path", db_path, "busy_timeout", 1000);
    if (esg_instance_create(esg_cap_find(ESP_KIND_STORAGE, "sqlite", &err), "sql", scfg, 5000, &sql,
                            &err) != 0)
        fail_msg("%s", err.data);
    assert_int_equal(esg_store_configure(mem, sql, &err), 0);
    esg_buf_free(&err);
    configure(0, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char wal[300];
    esg_clock_set_offset_ms(0);
    esg_clients_reset();
    esg_store_configure(NULL, NULL, NULL);
    esg_plugins_shutdown();
    esg_workers_stop();
    assert_int_equal(test_loop_finish(&loop), 0);
    unlink(db_path);
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", db_path);
    unlink(wal);
    return 0;
}

static int setup_keys(void **state)
{
    (void)state;
    return esg_jwk_generate("RSA-2048", &rsa_key) != 0 ||
           esg_jwk_generate("RSA-2048", &rsa_other) != 0 ||
           esg_jwk_generate("P-256", &ec_key) != 0 || esg_jwk_generate("RSA-2048", &rsa_enc) != 0;
}

static int teardown_keys(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(rsa_other);
    EVP_PKEY_free(ec_key);
    EVP_PKEY_free(rsa_enc);
    return 0;
}

/* ------------------------------------------------------------------------------------------------
 * Tests.
 */

static void test_round_trip(void **state)
{
    (void)state;
    json_t *doc = make_doc("rt", rsa_key, "ACTIVE", NULL);
    json_t *enc = public_jwk(rsa_enc);
    json_object_set_new(enc, "kid", json_string("enc-1"));
    json_object_set_new(doc, "enc_public_key", enc);
    json_t *expected = json_deep_copy(doc);
    assert_int_equal(write_doc(doc, 0), 0);

    outcome o = get("rt");
    assert_int_equal(o.status, 0);
    esg_client *c = o.client;
    assert_non_null(c);
    assert_string_equal(c->id, "rt");
    assert_string_equal(c->rp_id, "rp-1");
    assert_true(c->active);
    assert_string_equal(c->logo_uri, "https://rp.example/logo.png");
    assert_int_equal(c->n_redirect_uris, 1);
    assert_string_equal(c->redirect_uris[0], "https://rp.example/cb");
    assert_int_equal(c->n_claims, 2);
    assert_true(esg_client_has_claim(c, "email"));
    assert_false(esg_client_has_claim(c, "phone_number"));
    assert_int_equal(c->n_acrs, 1);
    assert_string_equal(c->acrs[0], "mosip:idp:acr:generated-code");
    assert_true(esg_jwk_pkey_equal(c->public_key, rsa_key));
    assert_false(esg_jwk_pkey_equal(c->public_key, rsa_other));
    assert_null(c->public_key_alg);
    assert_true(esg_jwk_pkey_equal(c->enc_key, rsa_enc));
    assert_string_equal(c->enc_kid, "enc-1");
    assert_int_equal(c->userinfo_type, ESG_USERINFO_JWE);
    assert_true(c->userinfo_type_set);
    assert_true(c->require_pkce);
    assert_true(c->require_par);
    assert_false(c->dpop_bound);
    assert_int_equal(c->consent_expire_mins, 30);
    assert_int_equal(c->created_at, 1767323045);
    assert_string_equal(esg_client_name(c, "fra"), "Nom du client");
    assert_string_equal(esg_client_name(c, "eng"), "Client name");
    assert_string_equal(esg_client_name(c, NULL), "Client name");
    esg_client_unref(c);

    /* The raw document comes back as stored, and the look-up never ran inline. */
    outcome l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(esg_clients_load("rt", on_doc, &l), 0);
    l.returned = 1;
    test_loop_until(&loop, called, &l, 10000);
    assert_int_equal(l.status, 0);
    assert_false(l.inline_call);
    assert_true(json_equal(l.doc, expected));
    json_decref(l.doc);
    json_decref(expected);

    /* Unknown ids, bad ids. */
    assert_int_equal(get("nobody").status, ESP_ENOTFOUND);
    outcome x;
    memset(&x, 0, sizeof(x));
    assert_int_equal(esg_clients_get("", on_client, &x), ESP_EINVAL);
    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(esg_clients_get(big, on_client, &x), ESP_EINVAL);
    assert_int_equal(esg_clients_load("", on_doc, &x), ESP_EINVAL);
    assert_int_equal(x.calls, 0);
    /* A document without the indexed members is refused before anything is written. */
    json_t *bad = json_pack("{s:s}", "id", "bad");
    assert_int_equal(write_doc(bad, 0), ESP_EINVAL);
}

static void test_unique_public_key(void **state)
{
    (void)state;
    assert_int_equal(write_doc(make_doc("k1", rsa_key, "ACTIVE", NULL), 0), 0);
    /* Same key under another id: refused as a duplicate key, and nothing was written. */
    assert_int_equal(write_doc(make_doc("k2", rsa_key, "ACTIVE", NULL), 0), ESP_EDUPLICATE_KEY);
    assert_int_equal(get("k2").status, ESP_ENOTFOUND);
    /* Same id with another key: a duplicate id. */
    assert_int_equal(write_doc(make_doc("k1", rsa_other, "ACTIVE", NULL), 0), ESP_EEXIST);
    /* EC keys hash x || y; another key registers fine. */
    assert_int_equal(write_doc(make_doc("k3", ec_key, "ACTIVE", NULL), 0), 0);
    assert_int_equal(write_doc(make_doc("k4", ec_key, "INACTIVE", NULL), 0), ESP_EDUPLICATE_KEY);
    /* Updating a client keeps its own hash without conflicting with itself. */
    assert_int_equal(write_doc(make_doc("k1", rsa_key, "ACTIVE", NULL), 1), 0);
    /* Replacing a client that does not exist. */
    assert_int_equal(write_doc(make_doc("k9", rsa_other, "ACTIVE", NULL), 1), ESP_ENOTFOUND);

    /* The hash is eSignet's: hex SHA-256 of n (RSA) or of x followed by y (EC). */
    json_t *ec = public_jwk(ec_key);
    char hash[65], manual[65], joined[256];
    unsigned char md[32];
    unsigned int len = 0;
    snprintf(joined, sizeof(joined), "%s%s", json_string_value(json_object_get(ec, "x")),
             json_string_value(json_object_get(ec, "y")));
    EVP_Digest(joined, strlen(joined), md, &len, EVP_sha256(), NULL);
    esg_hex(md, sizeof(md), manual);
    assert_int_equal(esg_clients_key_hash(ec, hash), 0);
    assert_string_equal(hash, manual);
    json_t *rsa = public_jwk(rsa_key);
    const char *n = json_string_value(json_object_get(rsa, "n"));
    EVP_Digest(n, strlen(n), md, &len, EVP_sha256(), NULL);
    esg_hex(md, sizeof(md), manual);
    assert_int_equal(esg_clients_key_hash(rsa, hash), 0);
    assert_string_equal(hash, manual);
    json_t *oct = json_pack("{s:s,s:s}", "kty", "oct", "k", "abc");
    assert_int_equal(esg_clients_key_hash(oct, hash), ESP_EINVAL);
    json_decref(oct);
    json_decref(ec);
    json_decref(rsa);
}

static void test_inactive_invisible(void **state)
{
    (void)state;
    assert_int_equal(write_doc(make_doc("off", rsa_key, "INACTIVE", NULL), 0), 0);
    /* Twice: the second look-up may come from the cache, and is just as invisible. */
    assert_int_equal(get("off").status, ESP_ENOTFOUND);
    outcome o = get("off");
    assert_int_equal(o.status, ESP_ENOTFOUND);
    assert_null(o.client);
    /* The management API still reads it. */
    outcome l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(esg_clients_load("off", on_doc, &l), 0);
    test_loop_until(&loop, called, &l, 10000);
    assert_int_equal(l.status, 0);
    assert_string_equal(json_string_value(json_object_get(l.doc, "status")), "INACTIVE");
    json_decref(l.doc);
    /* Activated again: visible at once on this instance. */
    assert_int_equal(write_doc(make_doc("off", rsa_key, "ACTIVE", NULL), 1), 0);
    o = get("off");
    assert_int_equal(o.status, 0);
    esg_client_unref(o.client);
    /* And deactivated: invisible at once. */
    assert_int_equal(write_doc(make_doc("off", rsa_key, "INACTIVE", NULL), 1), 0);
    assert_int_equal(get("off").status, ESP_ENOTFOUND);
}

static void on_rec(void *ud, int status, const char *code, const void *result)
{
    outcome *o = ud;
    (void)code;
    (void)result;
    o->calls++;
    o->status = status;
}

/* Writes a document straight to the store, as another server instance would. */
static void write_behind_cache(json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    outcome o;
    memset(&o, 0, sizeof(o));
    esp_rec_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.collection = esg_str("clients");
    req.key = esg_str(json_string_value(json_object_get(doc, "id")));
    req.doc_json = esg_str(text);
    req.mode = ESP_REC_UPSERT;
    assert_int_equal(esg_rec(ESP_REC_PUT, &req, on_rec, &o), 0);
    test_loop_until(&loop, called, &o, 10000);
    assert_int_equal(o.status, 0);
    free(text);
    json_decref(doc);
}

static void test_cache(void **state)
{
    (void)state;
    assert_int_equal(write_doc(make_doc("cc", rsa_key, "ACTIVE", NULL), 0), 0);
    outcome a = get("cc");
    outcome b = get("cc");
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, 0);
    /* The second look-up was served from the cache: the same immutable object. */
    assert_ptr_equal(a.client, b.client);
    esg_client_unref(b.client);

    /* A change made behind this instance's back shows once the entry expires (60 s). */
    write_behind_cache(make_doc("cc", rsa_key, "ACTIVE", json_pack("[s]", "https://rp.example/x")));
    outcome c = get("cc");
    assert_ptr_equal(c.client, a.client);
    esg_client_unref(c.client);
    esg_clock_set_offset_ms(61000);
    c = get("cc");
    assert_ptr_not_equal(c.client, a.client);
    assert_string_equal(c.client->redirect_uris[0], "https://rp.example/x");
    /* The object handed out earlier is still valid: immutable and reference-counted. */
    assert_string_equal(a.client->redirect_uris[0], "https://rp.example/cb");
    esg_client_unref(a.client);
    esg_client_unref(c.client);

    /* A write on this instance evicts the entry at once. */
    c = get("cc");
    esg_client_unref(c.client);
    assert_int_equal(
        write_doc(make_doc("cc", rsa_key, "ACTIVE", json_pack("[s]", "https://rp.example/y")), 1),
        0);
    c = get("cc");
    assert_string_equal(c.client->redirect_uris[0], "https://rp.example/y");
    esg_client_unref(c.client);

    /* Clearing drops every entry. */
    write_behind_cache(make_doc("cc", rsa_key, "INACTIVE", NULL));
    c = get("cc");
    assert_int_equal(c.status, 0);
    esg_client_unref(c.client);
    esg_clients_cache_clear();
    assert_int_equal(get("cc").status, ESP_ENOTFOUND);
}

/* A full cache drops its expired entries before it takes a new one. */
static void test_cache_bound(void **state)
{
    (void)state;
    enum { FILL = 8192 };
    json_t *doc = make_doc("f", ec_key, "ACTIVE", NULL);
    for (int i = 0; i <= FILL; i++) {
        char id[32];
        snprintf(id, sizeof(id), "f%d", i);
        json_object_set_new(doc, "id", json_string(id));
        write_behind_cache(json_incref(doc));
        if (i < FILL)
            esg_client_unref(get(id).client);
    }
    json_decref(doc);
    /* Full of live entries: the next client is served but not cached. */
    outcome a = get("f8192"), b = get("f8192");
    assert_ptr_not_equal(a.client, b.client);
    esg_client_unref(a.client);
    esg_client_unref(b.client);
    /* Once they expired, a put sweeps them and the new client is cached. */
    esg_clock_set_offset_ms(61000);
    a = get("f8192");
    b = get("f8192");
    assert_ptr_equal(a.client, b.client);
    esg_client_unref(a.client);
    esg_client_unref(b.client);
}

static void test_store_failures(void **state)
{
    (void)state;
    struct esp_instance *mem = esg_store_inflight(), *sql = esg_store_persistent();
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_store_configure(mem, NULL, &err), 0);
    /* Look-ups always complete through the loop, also when the store cannot take the call. */
    assert_int_equal(get("any").status, ESP_EUNAVAIL);
    /* Writes refuse at once, and their callback never runs. */
    outcome o;
    memset(&o, 0, sizeof(o));
    json_t *doc = make_doc("w", rsa_key, "ACTIVE", NULL);
    assert_int_equal(esg_clients_insert(doc, on_done, &o), ESP_EUNAVAIL);
    assert_int_equal(esg_clients_load("w", on_doc, &o), ESP_EUNAVAIL);
    json_decref(doc);
    uv_run(&loop.uv, UV_RUN_NOWAIT);
    assert_int_equal(o.calls, 0);
    assert_int_equal(esg_store_configure(mem, sql, &err), 0);
    esg_buf_free(&err);
}

static void test_settings(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    char hex[65];
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest("s3cret-token", 12, md, &len, EVP_sha256(), NULL);
    esg_hex(md, sizeof(md), hex);
    /* Without a configured hash, no token is accepted. */
    assert_false(esg_clients_admin_token_ok("s3cret-token", 12));
    configure(0, hex);
    assert_true(esg_clients_admin_token_ok("s3cret-token", 12));
    assert_false(esg_clients_admin_token_ok("s3cret-token", 11));
    assert_false(esg_clients_admin_token_ok("s3cret-tokeN", 12));
    assert_false(esg_clients_admin_token_ok("", 0));
    /* Upper-case hex is the same hash. */
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    configure(0, hex);
    assert_true(esg_clients_admin_token_ok("s3cret-token", 12));
    /* Not hex: a configuration error, and the previous settings stay. */
    json_t *oidc = json_pack("{s:{s:s}}", "clients", "admin_token_sha256",
                             "zz00000000000000000000000000000000000000000000000000000000000000");
    assert_int_equal(esg_clients_configure(oidc, &err), ESP_ECONFIG);
    assert_non_null(strstr(err.data, "admin_token_sha256"));
    assert_true(esg_clients_admin_token_ok("s3cret-token", 12));
    json_decref(oidc);
    esg_buf_free(&err);

    assert_true(esg_clients_claim_supported("email"));
    assert_false(esg_clients_claim_supported("mail"));
    assert_false(esg_clients_claim_supported(NULL));
    assert_true(esg_clients_acr_supported("mosip:idp:acr:password"));
    assert_false(esg_clients_acr_supported("mosip:idp:acr:static-code"));
    assert_false(esg_clients_wildcards());
    configure(1, NULL);
    assert_true(esg_clients_wildcards());
    assert_false(esg_clients_admin_token_ok("s3cret-token", 12));
}

static int redirect_valid(const char *uri)
{
    return esg_clients_redirect_uri_valid(uri, strlen(uri));
}

static void test_uri_rules(void **state)
{
    (void)state;
    const char *good[] = {
        "https://rp.example/cb",
        "https://rp.example",
        "https://rp.example:8443/cb?x=1&y=%20",
        "https://[2001:db8::1]/cb",
        "https://10.1.2.3/cb",
        "http://127.0.0.1:3000/cb",
        "http://localhost/cb",
        "http://[::1]:8080/cb",
        "com.example.app:/oauth2redirect",
        "io.mosip.residentapp://oauth",
    };
    const char *bad[] = {
        "",
        "/relative/cb",
        "rp.example/cb",
        "https://rp.example/cb#frag",
        "https://rp.example/cb#",
        "http://rp.example/cb", /* http only for loopback */
        "http://127.0.0.2/cb",
        "http://localhost.rp.example/cb",
        "HTTPS://rp.example/cb",      /* scheme in lower case */
        "https://RP.example/cb",      /* host in lower case */
        "https://user@rp.example/cb", /* no userinfo */
        "https://rp.example@evil.example/cb",
        "https:///cb",
        "https://rp..example/cb",
        "https://-rp.example/cb",
        "https://rp.example:0/cb",
        "https://rp.example:99999/cb",
        "https://rp.example:/cb",
        "https://rp.example/a b",
        "https://rp.example/%zz",
        "https://rp.example/%2",
        "https://rp.example/a\\b",
        "https://rp.example/caf\xc3\xa9", /* IRIs must be percent-encoded */
        "https://rp.example/a/../b",
        "https://rp.example/a/%2e%2E/b",
        "https://rp.example/./b",
        "https://rp.example/*", /* wildcards are off */
        "https://*.rp.example/cb",
        "javascript:alert(1)",
        "data:text/html,x",
        "file:///etc/passwd",
        "myapp:/cb", /* private-use schemes are reverse domain names */
        "com.example.app:",
        "https://rp.example/\x01",
        "https://rp.example/cb\n",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!redirect_valid(good[i]))
            fail_msg("refused: %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (redirect_valid(bad[i]))
            fail_msg("accepted: %s", bad[i]);
    char longer[2100] = "https://rp.example/";
    memset(longer + strlen(longer), 'a', sizeof(longer) - strlen(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_false(redirect_valid(longer));

    /* With wildcards on, '*' may appear in the path, never in the scheme or host. */
    configure(1, NULL);
    assert_true(redirect_valid("https://rp.example/*"));
    assert_true(redirect_valid("https://rp.example/**/cb"));
    assert_true(redirect_valid("http://localhost:3000/**"));
    assert_false(redirect_valid("https://*.rp.example/cb"));
    assert_false(redirect_valid("https://rp.example*/cb"));
    assert_false(redirect_valid("http*://rp.example/cb"));
    assert_false(redirect_valid("http://rp.example/*")); /* still no plain http */

    const char *logo_good[] = {"https://rp.example/logo.png", "http://cdn.rp.example/l.svg#x",
                               "https://rp.example:8443/l?size=2"};
    const char *logo_bad[] = {"",
                              "ftp://rp.example/l.png",
                              "data:image/png;base64,AAAA",
                              "javascript:x",
                              "https://rp.example/l .png",
                              "//rp.example/l.png",
                              "https://rp.example/a#b#c"};
    for (size_t i = 0; i < sizeof(logo_good) / sizeof(logo_good[0]); i++)
        assert_true(esg_clients_logo_uri_valid(logo_good[i], strlen(logo_good[i])));
    for (size_t i = 0; i < sizeof(logo_bad) / sizeof(logo_bad[0]); i++)
        if (esg_clients_logo_uri_valid(logo_bad[i], strlen(logo_bad[i])))
            fail_msg("accepted logo: %s", logo_bad[i]);
}

static int allowed(const esg_client *c, const char *uri)
{
    return esg_client_redirect_allowed(c, uri, strlen(uri));
}

static void test_redirect_matching(void **state)
{
    (void)state;
    json_t *uris = json_pack("[s,s,s,s,s]", "https://rp.example/cb", "https://rp.example/a%20b",
                             "https://rp.example/app/*/done", "https://rp.example/deep/**",
                             "com.example.app:/cb?v=?");
    assert_int_equal(write_doc(make_doc("rd", rsa_key, "ACTIVE", uris), 0), 0);
    outcome o = get("rd");
    assert_int_equal(o.status, 0);
    esg_client *c = o.client;

    /* Exact byte equality by default (RFC 9700 §4.1.3). */
    assert_true(allowed(c, "https://rp.example/cb"));
    assert_true(allowed(c, "https://rp.example/a%20b"));
    assert_true(allowed(c, "https://rp.example/app/*/done")); /* the literal pattern text */
    const char *refused[] = {
        "https://rp.example/cb/",
        "https://rp.example/cb?x=1",
        "https://rp.example/c",
        "https://rp.example/cbx",
        "https://rp.example/cb#x",
        "https://rp.example/cb.evil.example",
        "https://rp.example.evil.example/cb",
        "https://evil.example/https://rp.example/cb",
        "HTTPS://rp.example/cb",
        "https://RP.EXAMPLE/cb",
        "https://rp.example/CB",
        "https://rp.example/%63b",
        "https://rp.example/a%20B",
        "https://rp.example/a b",
        "https://rp.example:443/cb",
        "http://rp.example/cb",
        "https://rp.example//cb",
        "",
        "https://rp.example/app/x/done",
        "https://rp.example/deep/x",
        "com.example.app:/cb?v=x",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (allowed(c, refused[i]))
            fail_msg("matched without wildcards: %s", refused[i]);
    /* A presented URI with a NUL inside is not the registered one. */
    assert_false(esg_client_redirect_allowed(c, "https://rp.example/cb\0x", 23));
    assert_false(esg_client_redirect_allowed(c, "https://rp.example/cb", 20));

    /* Wildcards only when the deployment enables them; the object does not change. */
    configure(1, NULL);
    assert_true(allowed(c, "https://rp.example/cb"));
    assert_true(allowed(c, "https://rp.example/app/x/done"));
    assert_true(allowed(c, "https://rp.example/app//done")); /* '*' matches an empty run */
    assert_true(allowed(c, "https://rp.example/deep/x"));
    assert_true(allowed(c, "https://rp.example/deep/x/y/z?q=1"));
    assert_true(allowed(c, "https://rp.example/deep"));
    assert_true(allowed(c, "com.example.app:/cb?v=x")); /* '?' is one character */
    const char *wild_refused[] = {
        "https://rp.example/app/x/y/done", /* '*' stays within a segment */
        "https://rp.example/app/x/done/",
        "https://rp.example/app/x/donex",
        "https://evil.example/app/x/done", /* the origin is compared exactly */
        "https://rp.example.evil.example/deep/x",
        "https://rp.example@evil.example/deep/x",
        "https://rp.example:8443/deep/x",
        "http://rp.example/deep/x",
        "https://RP.example/deep/x",
        "https://rp.example/deep/../admin", /* dot segments never match */
        "https://rp.example/deep/%2e%2e/admin",
        "https://rp.example/deep/x#frag",
        "https://rp.example/deep/a b",
        "https://rp.example/deep/a\\b",
        "https://rp.example/deepx",
        "com.example.app:/cb?v=xy",
        "com.example.app:/cb?v=",
        "rp.example/deep/x",
    };
    for (size_t i = 0; i < sizeof(wild_refused) / sizeof(wild_refused[0]); i++)
        if (allowed(c, wild_refused[i]))
            fail_msg("matched with wildcards: %s", wild_refused[i]);
    configure(0, NULL);
    assert_false(allowed(c, "https://rp.example/app/x/done"));
    esg_client_unref(c);
}

/* Several loops look the same clients up while the cache is cleared under them. */
#define RACE_LOOPS 4
#define RACE_GETS  300

typedef struct racer {
    esg_loop loop;
    int pending;
    int ok, not_found, wrong;
} racer;

static void race_done(void *ud, int status, esg_client *c)
{
    racer *r = ud;
    r->pending--;
    if (status == 0 && c != NULL && strcmp(c->id, "race-on") == 0 && c->n_redirect_uris == 1)
        r->ok++;
    else if (status == ESP_ENOTFOUND && c == NULL)
        r->not_found++;
    else
        r->wrong++;
    esg_client_unref(c);
}

static void *race_thread(void *arg)
{
    racer *r = arg;
    esg_loop_set_current(&r->loop);
    for (int i = 0; i < RACE_GETS; i++) {
        const char *id = i % 3 == 0 ? "race-off" : i % 3 == 1 ? "race-on" : "race-none";
        if (esg_clients_get(id, race_done, r) == 0)
            r->pending++;
        else
            r->wrong++;
        if (i % 16 == 0)
            uv_run(&r->loop.uv, UV_RUN_NOWAIT);
    }
    while (r->pending > 0)
        uv_run(&r->loop.uv, UV_RUN_ONCE);
    esg_loop_close_handles(&r->loop);
    uv_run(&r->loop.uv, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop.uv);
    return NULL;
}

static void test_concurrent_gets(void **state)
{
    (void)state;
    assert_int_equal(write_doc(make_doc("race-on", rsa_key, "ACTIVE", NULL), 0), 0);
    assert_int_equal(write_doc(make_doc("race-off", ec_key, "INACTIVE", NULL), 0), 0);
    racer racers[RACE_LOOPS];
    pthread_t threads[RACE_LOOPS];
    for (int i = 0; i < RACE_LOOPS; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        assert_int_equal(esg_loop_init(&racers[i].loop, i + 1), 0);
        assert_int_equal(pthread_create(&threads[i], NULL, race_thread, &racers[i]), 0);
    }
    for (int i = 0; i < 200; i++)
        esg_clients_cache_clear();
    for (int i = 0; i < RACE_LOOPS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(racers[i].wrong, 0);
        assert_int_equal(racers[i].ok, RACE_GETS / 3);
        assert_int_equal(racers[i].not_found, 2 * RACE_GETS / 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_public_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inactive_invisible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_gets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
