/* Router: table validation, matching rules, 404/405 and Allow, parameters, listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static void h(esg_http_req *req, void *data)
{
    (void)req;
    (void)data;
}

static void h2(esg_http_req *req, void *data)
{
    (void)req;
    (void)data;
}

#define GET  ESG_HTTP_M(ESG_HTTP_GET)
#define POST ESG_HTTP_M(ESG_HTTP_POST)
#define PUT  ESG_HTTP_M(ESG_HTTP_PUT)
#define HEAD ESG_HTTP_M(ESG_HTTP_HEAD)
#define DEL  ESG_HTTP_M(ESG_HTTP_DELETE)

static int build_fails(const esg_http_route *r, size_t n, const char *reason_part)
{
    esg_http_router *router = NULL;
    char err[256];
    int rc = esg_http_router_new(r, n, &router, err, sizeof(err));
    if (rc == 0) {
        esg_http_router_free(router);
        return 0;
    }
    assert_null(router);
    if (strstr(err, reason_part) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\"", err, reason_part);
    return 1;
}

static void test_table_validation(void **state)
{
    (void)state;
    const esg_http_route bad[][2] = {
        {{GET, "no-slash", h, NULL, NULL, 0}}, {{GET, "/a//b", h, NULL, NULL, 0}},
        {{GET, "/a/", h, NULL, NULL, 0}},      {{GET, "/a/{id", h, NULL, NULL, 0}},
        {{GET, "/a/{}", h, NULL, NULL, 0}},    {{GET, "/a/{a-b}", h, NULL, NULL, 0}},
        {{GET, "/a/x{id}", h, NULL, NULL, 0}}, {{GET, "/a/{id}/{id}", h, NULL, NULL, 0}},
        {{GET, "/a/%41", h, NULL, NULL, 0}},   {{GET, "/a/../b", h, NULL, NULL, 0}},
        {{GET, "/a/b c", h, NULL, NULL, 0}},   {{GET, "/a", NULL, NULL, NULL, 0}},
        {{0, "/a", h, NULL, NULL, 0}},         {{1u << 12, "/a", h, NULL, NULL, 0}},
        {{GET, NULL, h, NULL, NULL, 0}},
    };
    const char *why[] = {"must start with '/'", "empty segment",       "empty segment",
                         "malformed parameter", "malformed parameter", "malformed parameter",
                         "invalid segment",     "repeats a parameter", "invalid segment",
                         "invalid segment",     "invalid segment",     "needs a handler",
                         "needs a handler",     "needs a handler",     "must start with '/'"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(build_fails(bad[i], 1, why[i]));
    const esg_http_route dup[] = {{GET | POST, "/a/{x}", h, NULL, NULL, 0},
                                  {POST, "/a/{x}", h2, NULL, NULL, 0}};
    assert_true(build_fails(dup, 2, "POST /a/{x} is registered twice"));
    const esg_http_route renamed[] = {{GET, "/a/{x}", h, NULL, NULL, 0},
                                      {POST, "/a/{y}/b", h, NULL, NULL, 0}};
    assert_true(build_fails(renamed, 2, "names a parameter differently"));
    esg_http_route many = {GET, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", h, NULL, NULL, 0};
    assert_true(build_fails(&many, 1, "too many parameters"));
    char deep[200] = "";
    for (int i = 0; i <= ESG_HTTP_MAX_SEGMENTS; i++)
        strcat(deep, "/s");
    esg_http_route deep_route = {GET, deep, h, NULL, NULL, 0};
    assert_true(build_fails(&deep_route, 1, "too many segments"));
    /* NULL error buffers are allowed. */
    esg_http_router *r;
    assert_int_equal(esg_http_router_new(dup, 2, &r, NULL, 0), ESP_EINVAL);
    /* An empty table is valid and matches nothing. */
    esg_http_match m;
    assert_int_equal(esg_http_router_new(NULL, 0, &r, NULL, 0), 0);
    assert_int_equal(esg_http_router_match(r, ESG_HTTP_GET, "/", 1, &m), ESP_ENOTFOUND);
    esg_http_router_free(r);
}

static const esg_http_route table[] = {
    {GET, "/", h, NULL, "root", 0},
    {GET, "/.well-known/openid-configuration", h, NULL, "discovery", 1},
    {GET, "/.well-known/jwks.json", h, NULL, "jwks", 0},
    {GET | PUT | DEL, "/client-mgmt/client/{client_id}", h, NULL, "client", 0},
    {POST, "/client-mgmt/client", h, NULL, "client-create", 0},
    {GET, "/a/new", h, NULL, "a-new", 0},
    {GET, "/a/{id}", h, NULL, "a-id", 0},
    {POST, "/a/{id}/x", h, NULL, "a-id-x", 0},
    {GET, "/a/new/y", h, NULL, "a-new-y", 0},
    {HEAD, "/h", h2, NULL, "h-head", 0},
    {GET, "/h", h, NULL, "h-get", 0},
    {GET, "/u/{user}/k/{key}", h, NULL, "two", 0},
    {ESG_HTTP_M(ESG_HTTP_OPTIONS), "/opt", h, NULL, NULL, 0},
};

static const char *match_name(esg_http_router *r, int method, const char *path, int *rc)
{
    static esg_http_match m;
    *rc = esg_http_router_match(r, method, path, strlen(path), &m);
    return *rc == 0 ? m.route->name : NULL;
}

static void test_matching(void **state)
{
    (void)state;
    esg_http_router *r;
    char err[128];
    assert_int_equal(
        esg_http_router_new(table, sizeof(table) / sizeof(table[0]), &r, err, sizeof(err)), 0);
    int rc;
    assert_string_equal(match_name(r, ESG_HTTP_GET, "/", &rc), "root");
    assert_string_equal(match_name(r, ESG_HTTP_GET, "/.well-known/jwks.json", &rc), "jwks");
    assert_string_equal(match_name(r, ESG_HTTP_HEAD, "/.well-known/openid-configuration", &rc),
                        "discovery");
    assert_string_equal(match_name(r, ESG_HTTP_DELETE, "/client-mgmt/client/abc", &rc), "client");
    assert_string_equal(match_name(r, ESG_HTTP_POST, "/client-mgmt/client", &rc), "client-create");
    /* Literal before parameter, and backtracking from a literal branch that ends badly. */
    assert_string_equal(match_name(r, ESG_HTTP_GET, "/a/new", &rc), "a-new");
    assert_string_equal(match_name(r, ESG_HTTP_GET, "/a/old", &rc), "a-id");
    assert_string_equal(match_name(r, ESG_HTTP_POST, "/a/new/x", &rc), "a-id-x");
    assert_string_equal(match_name(r, ESG_HTTP_GET, "/a/new/y", &rc), "a-new-y");
    /* An explicit HEAD route wins over the implied one. */
    assert_string_equal(match_name(r, ESG_HTTP_HEAD, "/h", &rc), "h-head");
    assert_string_equal(match_name(r, ESG_HTTP_GET, "/h", &rc), "h-get");
    esg_http_match om;
    assert_int_equal(esg_http_router_match(r, ESG_HTTP_OPTIONS, "/opt", 4, &om), 0);
    assert_string_equal(om.route->pattern, "/opt");
    /* Misses. */
    const char *missing[] = {
        "/nope",        "/a",       "/a/", "/a/new/", "//", "/a//x", "/client-mgmt/client/",
        "/.well-known", "/a/b/c/d", ""};
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
        assert_null(match_name(r, ESG_HTTP_GET, missing[i], &rc));
        assert_int_equal(rc, ESP_ENOTFOUND);
    }
    esg_http_match m;
    assert_int_equal(esg_http_router_match(r, ESG_HTTP_GET, "/a/1/x", 6, &m), ESP_ENOTSUP);
    assert_int_equal(m.allow, POST);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(esg_http_router_match(r, ESG_HTTP_POST, "/client-mgmt/client/z", 21, &m),
                     ESP_ENOTSUP);
    assert_int_equal(m.allow, GET | HEAD | PUT | DEL);
    char allow[64];
    assert_int_equal(esg_http_methods_format(m.allow, allow, sizeof(allow)), 0);
    assert_string_equal(allow, "GET, HEAD, PUT, DELETE");
    assert_int_equal(esg_http_methods_format(m.allow, allow, 8), ESP_ETOOBIG);
    assert_int_equal(esg_http_router_match(r, 99, "/", 1, &m), ESP_ENOTFOUND);
    /* Parameters. */
    assert_int_equal(esg_http_router_match(r, ESG_HTTP_GET, "/u/alice/k/k1", 13, &m), 0);
    assert_string_equal(m.route->name, "two");
    assert_int_equal(m.nparams, 2);
    assert_int_equal(m.names[0].len, 4);
    assert_memory_equal(m.names[0].ptr, "user", 4);
    assert_int_equal(m.values[0].len, 5);
    assert_memory_equal(m.values[0].ptr, "alice", 5);
    assert_memory_equal(m.names[1].ptr, "key", 3);
    assert_memory_equal(m.values[1].ptr, "k1", 2);
    /* Listing keeps table order. */
    assert_int_equal(esg_http_router_count(r), sizeof(table) / sizeof(table[0]));
    assert_string_equal(esg_http_router_route(r, 1)->name, "discovery");
    assert_int_equal(esg_http_router_route(r, 1)->flags, 1);
    assert_null(esg_http_router_route(r, 100));
    esg_http_router_free(r);
}

static void test_sixty_routes(void **state)
{
    (void)state;
    static char patterns[60][64];
    esg_http_route rs[60];
    for (int i = 0; i < 60; i++) {
        snprintf(patterns[i], sizeof(patterns[i]), i % 2 ? "/v1/esignet/r%d/{id}" : "/v1/r%d", i);
        rs[i] = (esg_http_route){GET | POST, patterns[i], h, NULL, NULL, 0};
    }
    esg_http_router *r;
    assert_int_equal(esg_http_router_new(rs, 60, &r, NULL, 0), 0);
    esg_http_match m;
    for (int i = 0; i < 60; i++) {
        char path[64];
        snprintf(path, sizeof(path), i % 2 ? "/v1/esignet/r%d/xyz" : "/v1/r%d", i);
        assert_int_equal(esg_http_router_match(r, ESG_HTTP_POST, path, strlen(path), &m), 0);
        assert_ptr_equal(m.route->pattern, patterns[i]);
    }
    esg_http_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_validation),
        cmocka_unit_test(test_matching),
        cmocka_unit_test(test_sixty_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
