/*
 * The key facade: JWKS assembly (public members only, expired keys left out, a failing key store
 * keeps nothing half-built), JWT signing through a key store, and the retry when the cached kid
 * was rotated away underneath. Uses an in-process key store whose behaviour the test controls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "keys/keys.h"
#include "oidc/discovery.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "test_loop.h"
#include "util/b64.h"
#include "util/clock.h"

static esg_loop loop;
static const esp_host *host;

/* The fake store: a current kid, an optional leaking key, and a switch to fail listing. */
static char current_kid[32] = "kid-1";
static int leak_private;
static int fail_listing;
static int sign_calls;
static char last_signed_kid[32];

static esp_status fk_create(const esp_host *h, esp_instance *self, void *state,
                            const esp_value *config, void **out)
{
    (void)self;
    (void)state;
    (void)config;
    host = h;
    *out = &current_kid;
    return 0;
}

static void fk_destroy(void *inst)
{
    (void)inst;
}

static esp_status fk_keys(void *inst, esp_call *call)
{
    (void)inst;
    if (fail_listing)
        return ESP_EUNAVAIL;
    esp_key_info active = {
        sizeof(esp_key_info),
        {current_kid, strlen(current_kid)},
        ESP_STR_LIT("ES256"),
        ESP_STR_LIT("sig"),
        ESP_STR_LIT("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"x\",\"y\":\"y\"}"),
        0,
        0,
        ESP_KEY_ACTIVE};
    esp_key_info expired = {
        sizeof(esp_key_info),
        ESP_STR_LIT("old"),
        ESP_STR_LIT("ES256"),
        ESP_STR_LIT("sig"),
        ESP_STR_LIT("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"a\",\"y\":\"b\"}"),
        0,
        esg_wall_s() - 10,
        ESP_KEY_RETIRED};
    esp_key_info leaky = {
        sizeof(esp_key_info),
        ESP_STR_LIT("leaky"),
        ESP_STR_LIT("RS256"),
        ESP_STR_LIT("sig"),
        ESP_STR_LIT("{\"kty\":\"RSA\",\"n\":\"n\",\"e\":\"AQAB\",\"d\":\"secret\"}"),
        0,
        0,
        ESP_KEY_ACTIVE};
    const esp_key_info *list[] = {&active, &expired, &leaky};
    esp_keys_result res = {sizeof(res), list, leak_private ? 3u : 2u};
    host->call_done(call, &res);
    return 0;
}

static esp_status fk_sign(void *inst, const esp_sign_request *req, esp_call *call)
{
    (void)inst;
    sign_calls++;
    snprintf(last_signed_kid, sizeof(last_signed_kid), "%.*s", (int)req->kid.len, req->kid.ptr);
    if (req->kid.len != strlen(current_kid) || memcmp(req->kid.ptr, current_kid, req->kid.len))
        return ESP_ENOTFOUND; /* rotated away */
    esp_sign_result res = {sizeof(res), {current_kid, strlen(current_kid)}, ESP_STR_LIT("sig!")};
    host->call_done(call, &res);
    return 0;
}

static const esp_key_store_v1 fk_vtable = {
    sizeof(esp_key_store_v1), fk_create, fk_destroy, fk_keys, fk_sign, NULL, NULL};
static const esp_capability fk_cap = {
    sizeof(esp_capability), ESP_KIND_KEY_STORE, 1, 0, "fake", "fake", NULL, &fk_vtable};
static const esp_capability *const fk_caps[] = {&fk_cap, NULL};
static const esp_plugin_desc fk_desc = {sizeof(esp_plugin_desc),
                                        ESP_ABI_MAJOR,
                                        ESP_ABI_MINOR,
                                        "fake-keys",
                                        "1",
                                        "fake",
                                        fk_caps,
                                        NULL,
                                        NULL};

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_plugin_register_builtin(&fk_desc, &err), 0);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    assert_int_equal(esg_instance_create(esg_cap_find(ESP_KIND_KEY_STORE, "fake", &err), "ks",
                                         json_object(), 5000, NULL, &err),
                     0);
    assert_int_equal(esg_keys_configure(NULL, &err), 0);
    esg_buf_free(&err);
    snprintf(current_kid, sizeof(current_kid), "kid-1");
    leak_private = fail_listing = sign_calls = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esg_keys_reset();
    esg_plugins_shutdown();
    assert_int_equal(test_loop_finish(&loop), 0);
    return 0;
}

typedef struct got {
    int done;
    int status;
    char text[2048];
} got;

static int got_done(void *arg)
{
    return ((got *)arg)->done;
}

static void on_jwks(void *ud, int status, const char *jwks, size_t len)
{
    got *g = ud;
    g->done = 1;
    g->status = status;
    snprintf(g->text, sizeof(g->text), "%.*s", (int)len, jwks ? jwks : "");
}

static void on_jwt(void *ud, int status, const char *jwt, size_t len)
{
    on_jwks(ud, status, jwt, len);
}

static got refresh(void)
{
    got g;
    memset(&g, 0, sizeof(g));
    assert_int_equal(esg_keys_refresh(on_jwks, &g), 0);
    test_loop_until(&loop, got_done, &g, 10000);
    return g;
}

static void test_jwks(void **state)
{
    (void)state;
    got g = refresh();
    assert_int_equal(g.status, 0);
    json_t *doc = json_loads(g.text, 0, NULL);
    json_t *keys = json_object_get(doc, "keys");
    /* The expired key is gone; kid, alg and use are added from the key store's description. */
    assert_int_equal(json_array_size(keys), 1);
    json_t *k = json_array_get(keys, 0);
    assert_string_equal(json_string_value(json_object_get(k, "kid")), "kid-1");
    assert_string_equal(json_string_value(json_object_get(k, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(k, "use")), "sig");
    json_decref(doc);

    /* A key store that returns private members gets that key dropped, never published. */
    leak_private = 1;
    g = refresh();
    assert_int_equal(g.status, 0);
    assert_null(strstr(g.text, "secret"));
    assert_null(strstr(g.text, "leaky"));

    /* A failing key store: the caller is told, and gets no document to publish. */
    fail_listing = 1;
    g = refresh();
    assert_int_equal(g.status, ESP_EUNAVAIL);
    assert_string_equal(g.text, "");
}

static void test_sign_jwt_and_retry_after_rotation(void **state)
{
    (void)state;
    json_t *claims = json_pack("{s:s}", "sub", "alice");
    got g;
    memset(&g, 0, sizeof(g));
    /* No listing yet: the facade lists the keys first, then signs. */
    assert_int_equal(esg_keys_sign_jwt("ES256", "JWT", claims, on_jwt, &g), 0);
    test_loop_until(&loop, got_done, &g, 10000);
    assert_int_equal(g.status, 0);
    char *dot1 = strchr(g.text, '.');
    char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    assert_non_null(dot2);
    esg_buf h = ESG_BUF_INIT, p = ESG_BUF_INIT, sig = ESG_BUF_INIT;
    assert_int_equal(esg_b64url_decode(&h, g.text, (size_t)(dot1 - g.text)), 0);
    assert_string_equal(h.data, "{\"alg\":\"ES256\",\"kid\":\"kid-1\",\"typ\":\"JWT\"}");
    assert_int_equal(esg_b64url_decode(&p, dot1 + 1, (size_t)(dot2 - dot1 - 1)), 0);
    assert_string_equal(p.data, "{\"sub\":\"alice\"}");
    assert_int_equal(esg_b64url_decode(&sig, dot2 + 1, strlen(dot2 + 1)), 0);
    assert_string_equal(sig.data, "sig!");

    /* Another process rotates: the cached kid fails once, the list is read, the retry works. */
    snprintf(current_kid, sizeof(current_kid), "kid-2");
    memset(&g, 0, sizeof(g));
    sign_calls = 0;
    assert_int_equal(esg_keys_sign_jwt("ES256", NULL, claims, on_jwt, &g), 0);
    test_loop_until(&loop, got_done, &g, 10000);
    assert_int_equal(g.status, 0);
    assert_int_equal(sign_calls, 2);
    assert_string_equal(last_signed_kid, "kid-2");
    esg_buf_reset(&h);
    dot1 = strchr(g.text, '.');
    assert_int_equal(esg_b64url_decode(&h, g.text, (size_t)(dot1 - g.text)), 0);
    assert_string_equal(h.data, "{\"alg\":\"ES256\",\"kid\":\"kid-2\"}");

    /* No key for the algorithm at all. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(esg_keys_sign_jwt("RS256", NULL, claims, on_jwt, &g), 0);
    test_loop_until(&loop, got_done, &g, 10000);
    assert_int_equal(g.status, ESP_EKEY);
    /* Bad arguments never start anything. */
    json_t *not_object = json_array();
    assert_int_equal(esg_keys_sign_jwt("ES256", NULL, not_object, on_jwt, &g), ESP_EINVAL);
    json_decref(not_object);
    esg_buf_free(&h);
    esg_buf_free(&p);
    esg_buf_free(&sig);
    json_decref(claims);
}

static void test_discovery(void **state)
{
    (void)state;
    json_t *o = NULL, *a = NULL;
    esg_discovery_input in = {"https://idp.example", "/v1/esignet"};
    assert_int_equal(esg_discovery_build(&in, &o, &a), 0);
    assert_string_equal(json_string_value(json_object_get(o, "issuer")), "https://idp.example");
    assert_string_equal(json_string_value(json_object_get(o, "jwks_uri")),
                        "https://idp.example/.well-known/jwks.json");
    assert_string_equal(json_string_value(json_object_get(a, "issuer")), "https://idp.example");
    json_decref(o);
    json_decref(a);
    const char *bad[] = {"idp.example",           "https://idp.example/", "https://idp.example?x=1",
                         "https://idp.example#f", "ftp://idp.example",    "https://"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        in.issuer = bad[i];
        assert_int_equal(esg_discovery_build(&in, &o, &a), ESP_EINVAL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jwks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_jwt_and_retry_after_rotation, setup, teardown),
        cmocka_unit_test(test_discovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
