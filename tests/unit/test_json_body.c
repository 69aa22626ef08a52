/* Strict JSON bodies: limits checked before parsing, jansson rejections, request helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/internal.h"
#include "http/json_body.h"
#include "util/log.h"

static void bad(const char *in, size_t n, const esg_json_limits *lim, const char *reason)
{
    json_t *j = (json_t *)1;
    char err[160];
    assert_int_equal(esg_json_parse(in, n, lim, &j, err, sizeof(err)), ESP_EINVAL);
    assert_null(j);
    if (strcmp(err, reason) != 0)
        fail_msg("\"%.*s\": reason \"%s\", expected \"%s\"", (int)n, in, err, reason);
}

#define BAD(lit, lim, reason) bad((lit), sizeof(lit) - 1, (lim), (reason))

static void test_accepts(void **state)
{
    (void)state;
    json_t *j;
    char err[100];
    const char *in = "{\"a\":[1,{\"b\":\"[[[{{{\\\"\"}],\"c\":null}";
    assert_int_equal(esg_json_parse(in, strlen(in), NULL, &j, err, sizeof(err)), 0);
    assert_true(json_is_object(j));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "a"), 1), "b")),
        "[[[{{{\"");
    json_decref(j);
    /* Depth exactly at the limit; brackets inside strings do not count. */
    esg_json_limits lim = {0, 3, 0};
    in = "{\"a\":{\"b\":{\"c\":\"{{{{[[[[\"}}}";
    assert_int_equal(esg_json_parse(in, strlen(in), &lim, &j, err, sizeof(err)), 0);
    json_decref(j);
    esg_json_limits arr = {0, 0, ESG_JSON_TOP_ARRAY};
    assert_int_equal(esg_json_parse("[1]", 3, &arr, &j, err, sizeof(err)), 0);
    json_decref(j);
    esg_json_limits any = {0, 0, ESG_JSON_TOP_ANY};
    assert_int_equal(esg_json_parse("\"s\"", 3, &any, &j, err, sizeof(err)), 0);
    json_decref(j);
    esg_json_limits size = {8, 0, 0};
    assert_int_equal(esg_json_parse("{\"a\":12}", 8, &size, &j, err, sizeof(err)), 0);
    json_decref(j);
}

static void test_rejects(void **state)
{
    (void)state;
    esg_json_limits lim = {0, 3, 0};
    BAD("{\"a\":{\"b\":{\"c\":[]}}}", &lim, "JSON nested too deeply");
    /* A million brackets are refused by the scan, before jansson recurses. */
    size_t n = 1000000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    esg_json_limits big = {2000000, 0, ESG_JSON_TOP_ANY};
    bad(deep, n, &big, "JSON nested too deeply");
    free(deep);
    esg_json_limits size = {7, 0, 0};
    BAD("{\"a\":12}", &size, "JSON body too large");
    BAD("", NULL, "empty JSON body");
    BAD("{\"a\":1,\"a\":2}", NULL, "duplicate member name in a JSON object");
    BAD("{\"a\":{\"x\":1,\"x\":1}}", NULL, "duplicate member name in a JSON object");
    BAD("{\"a\":\"\xff\"}", NULL, "invalid UTF-8 in JSON");
    BAD("{\"a\":\"\\u0000\"}", NULL, "NUL character in a JSON string");
    BAD("{\"a\\u0000\":1}", NULL, "NUL character in a JSON string");
    BAD("{\"a\":1} x", NULL, "unexpected data after the JSON value");
    BAD("{\"a\":1}{}", NULL, "unexpected data after the JSON value");
    BAD("{\"a\":", NULL, "truncated JSON");
    BAD("{\"a\":99999999999999999999999}", NULL, "JSON number out of range");
    BAD("{\n\"a\":tru}", NULL, "malformed JSON at line 2, column 7");
    BAD("[1]", NULL, "JSON body must be an object");
    BAD("1", NULL, "JSON body must be an object");
    esg_json_limits arr = {0, 0, ESG_JSON_TOP_ARRAY};
    BAD("{}", &arr, "JSON body must be an array");
    esg_json_limits both = {0, 0, ESG_JSON_TOP_ARRAY | ESG_JSON_TOP_OBJECT};
    BAD("true", &both, "unexpected JSON type");
}

static int rc_seen;
static char err_seen[160];

static void on_req(esg_http_req *req, void *data)
{
    json_t *j = NULL;
    (void)data;
    rc_seen = esg_http_req_json(req, NULL, &j, err_seen, sizeof(err_seen));
    json_decref(j);
    esg_http_respond_empty(req, 204);
}

static void post(const char *headers, const char *body)
{
    esg_http_config cfg;
    esg_http_server *srv;
    esg_http_conn *c;
    char req[512];
    esg_http_config_init(&cfg);
    cfg.dispatch = on_req;
    assert_int_equal(esg_http_test_server_new(&cfg, &srv), 0);
    assert_int_equal(esg_http_test_conn_open(srv, &c), 0);
    snprintf(req, sizeof(req), "POST /t HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s",
             headers, strlen(body), body);
    rc_seen = 1;
    esg_http_test_conn_feed(c, req, strlen(req));
    assert_int_not_equal(rc_seen, 1);
    esg_http_test_conn_release(c);
    esg_http_test_server_free(srv);
}

static void test_request_json(void **state)
{
    (void)state;
    post("Content-Type: application/json\r\n", "{\"proof\":{}}");
    assert_int_equal(rc_seen, 0);
    post("Content-Type: application/json; charset=utf-8\r\n", "{}");
    assert_int_equal(rc_seen, 0);
    post("", "{}");
    assert_string_equal(err_seen, "missing Content-Type");
    post("Content-Type: text/plain\r\n", "{}");
    assert_string_equal(err_seen, "Content-Type must be application/json");
    post("Content-Type: application/json\r\ncontent-type: application/json\r\n", "{}");
    assert_string_equal(err_seen, "repeated Content-Type header");
    post("Content-Type: application/json\r\n", "");
    assert_string_equal(err_seen, "empty JSON body");
    post("Content-Type: application/json\r\n", "{\"a\":1,\"a\":1}");
    assert_int_equal(rc_seen, ESP_EINVAL);
    assert_string_equal(err_seen, "duplicate member name in a JSON object");
}

int main(void)
{
    esg_log_set_level(ESP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_request_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
