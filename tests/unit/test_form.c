/*
 * Strict query/form decoding: what is accepted, every rejection with its reason, and the
 * request-level helpers (Content-Type checks) through the memory transport.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/form.h"
#include "http/internal.h"
#include "util/log.h"

static void parse_ok(const char *in, unsigned flags, esg_form *f)
{
    char err[160];
    int rc = esg_form_parse(in, strlen(in), flags, NULL, f, err, sizeof(err));
    if (rc != 0)
        fail_msg("\"%s\" rejected: %s", in, err);
}

static void parse_bad(const char *in, size_t n, unsigned flags, const esg_form_limits *lim,
                      const char *reason)
{
    esg_form f = ESG_FORM_INIT;
    char err[160];
    assert_int_equal(esg_form_parse(in, n, flags, lim, &f, err, sizeof(err)), ESP_EINVAL);
    assert_null(f.params);
    assert_int_equal(f.n, 0);
    if (strcmp(err, reason) != 0)
        fail_msg("\"%.*s\": reason \"%s\", expected \"%s\"", (int)n, in, err, reason);
}

/* Literal inputs, with their exact length (embedded NULs included). */
#define PARSE_BAD(lit, flags, lim, reason)                                                         \
    parse_bad((lit), sizeof(lit) - 1, (flags), (lim), (reason))

static void test_accepts(void **state)
{
    (void)state;
    esg_form f = ESG_FORM_INIT;
    parse_ok("", ESG_FORM_PLUS_SPACE, &f);
    assert_int_equal(f.n, 0);
    parse_ok("response_type=code&scope=openid+profile&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
             "&state=%C3%A9t%C3%A9&flag&empty=",
             ESG_FORM_PLUS_SPACE, &f);
    assert_int_equal(f.n, 6);
    assert_string_equal(esg_form_value(&f, "response_type"), "code");
    assert_string_equal(esg_form_value(&f, "scope"), "openid profile");
    assert_string_equal(esg_form_value(&f, "redirect_uri"), "https://rp.example/cb");
    assert_string_equal(esg_form_value(&f, "state"), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(esg_form_value(&f, "flag"), "");
    assert_string_equal(esg_form_value(&f, "empty"), "");
    assert_null(esg_form_value(&f, "missing"));
    assert_null(esg_form_value(&f, "Scope"));
    esp_str v;
    assert_int_equal(esg_form_get(&f, "scope", &v), 0);
    assert_int_equal(v.len, 14);
    assert_int_equal(esg_form_get(&f, "nope", &v), ESP_ENOTFOUND);
    assert_string_equal(f.params[0].name, "response_type");
    esg_form_free(&f);
    assert_null(f.mem);
    /* Without PLUS_SPACE a '+' is literal; "=" inside a value is data. */
    parse_ok("a=1+1=2&b=%2B", 0, &f);
    assert_string_equal(esg_form_value(&f, "a"), "1+1=2");
    assert_string_equal(esg_form_value(&f, "b"), "+");
    esg_form_free(&f);
    /* OMIT_EMPTY drops empty values before the repetition check. */
    parse_ok("a=&a=1&b=&c", ESG_FORM_OMIT_EMPTY, &f);
    assert_int_equal(f.n, 1);
    assert_string_equal(esg_form_value(&f, "a"), "1");
    esg_form_free(&f);
    /* Exactly at the limits. */
    esg_form_limits lim = {2, 3, 4, 20};
    char err[100];
    assert_int_equal(esg_form_parse("abc=1234&d=", 11, 0, &lim, &f, err, sizeof(err)), 0);
    assert_int_equal(f.n, 2);
    esg_form_free(&f);
}

static void test_rejects(void **state)
{
    (void)state;
    PARSE_BAD("a=%zz", 0, NULL, "invalid percent-encoding in parameter 'a'");
    PARSE_BAD("a=%4", 0, NULL, "invalid percent-encoding in parameter 'a'");
    PARSE_BAD("a=%", 0, NULL, "invalid percent-encoding in parameter 'a'");
    PARSE_BAD("%g1=x", 0, NULL, "invalid percent-encoding in a parameter name");
    PARSE_BAD("a=%00", 0, NULL, "NUL byte in parameter 'a'");
    PARSE_BAD("a%00=1", 0, NULL, "NUL byte in a parameter name");
    PARSE_BAD("a=x\x01y", 0, NULL, "control character in parameter 'a'");
    PARSE_BAD("a=x\ny", 0, NULL, "control character in parameter 'a'");
    PARSE_BAD("a\x7f=1", 0, NULL, "control character in a parameter name");
    PARSE_BAD("a=%FF", 0, NULL, "invalid UTF-8 in parameter 'a'");
    PARSE_BAD("a=%C0%AF", 0, NULL, "invalid UTF-8 in parameter 'a'");
    PARSE_BAD("a=%ED%A0%80", 0, NULL, "invalid UTF-8 in parameter 'a'");
    PARSE_BAD("%FF=1", 0, NULL, "invalid UTF-8 in a parameter name");
    PARSE_BAD("a=\0", 0, NULL, "control character in parameter 'a'");
    PARSE_BAD("=x", 0, NULL, "empty parameter name");
    PARSE_BAD("&a=1", 0, NULL, "empty parameter name");
    PARSE_BAD("a=1&", 0, NULL, "empty parameter name");
    PARSE_BAD("a=1&&b=2", 0, NULL, "empty parameter name");
    PARSE_BAD("&", 0, NULL, "empty parameter name");
    PARSE_BAD("scope=a&client_id=x&scope=b", 0, NULL, "parameter 'scope' is repeated");
    PARSE_BAD("a=1&a=1", 0, NULL, "parameter 'a' is repeated");
    PARSE_BAD("%3Cb%3E=1&%3Cb%3E=2", 0, NULL, "a parameter is repeated");
    PARSE_BAD("a+b=1&a%20b=2", ESG_FORM_PLUS_SPACE, NULL, "a parameter is repeated");
    /* OMIT_EMPTY still refuses two non-empty values. */
    PARSE_BAD("a=1&a=2", ESG_FORM_OMIT_EMPTY, NULL, "parameter 'a' is repeated");
    esg_form_limits lim = {2, 3, 4, 20};
    PARSE_BAD("a=1&b=2&c=3", 0, &lim, "too many parameters");
    PARSE_BAD("abcd=1", 0, &lim, "parameter name too long");
    PARSE_BAD("a=12345", 0, &lim, "value of parameter 'a' too long");
    PARSE_BAD("abc=12341234123412341234", 0, &lim, "too much parameter data");
    char big[70000];
    memset(big, 'a', sizeof(big));
    parse_bad(big, sizeof(big), 0, NULL, "too much parameter data");
}

/* ---- request helpers --------------------------------------------------------------------------*/

static int rc_seen;
static char err_seen[160];
static char scope_seen[64];

static void on_req(esg_http_req *req, void *data)
{
    esg_form f = ESG_FORM_INIT;
    if (data == NULL)
        rc_seen = esg_http_req_form(req, 0, NULL, &f, err_seen, sizeof(err_seen));
    else
        rc_seen =
            esg_http_req_query_form(req, ESG_FORM_PLUS_SPACE, NULL, &f, err_seen, sizeof(err_seen));
    const char *scope = esg_form_value(&f, "scope");
    snprintf(scope_seen, sizeof(scope_seen), "%s", scope ? scope : "");
    esg_form_free(&f);
    esg_http_respond_empty(req, 204);
}

static void run(const char *request, int query)
{
    esg_http_config cfg;
    esg_http_server *srv;
    esg_http_conn *c;
    esg_http_config_init(&cfg);
    cfg.dispatch = on_req;
    cfg.data = query ? (void *)&cfg : NULL;
    assert_int_equal(esg_http_test_server_new(&cfg, &srv), 0);
    assert_int_equal(esg_http_test_conn_open(srv, &c), 0);
    rc_seen = 1;
    err_seen[0] = scope_seen[0] = '\0';
    esg_http_test_conn_feed(c, request, strlen(request));
    assert_int_not_equal(rc_seen, 1);
    esg_http_test_conn_release(c);
    esg_http_test_server_free(srv);
}

static void post(const char *headers, const char *body)
{
    char req[512];
    snprintf(req, sizeof(req), "POST /t HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s",
             headers, strlen(body), body);
    run(req, 0);
}

static void test_request_form(void **state)
{
    (void)state;
    post("Content-Type: application/x-www-form-urlencoded\r\n", "scope=a+b&x=1");
    assert_int_equal(rc_seen, 0);
    assert_string_equal(scope_seen, "a b");
    post("Content-Type: Application/X-WWW-Form-Urlencoded ; charset=\"UTF-8\"\r\n", "scope=c");
    assert_int_equal(rc_seen, 0);
    assert_string_equal(scope_seen, "c");
    post("", "scope=c");
    assert_int_equal(rc_seen, ESP_EINVAL);
    assert_string_equal(err_seen, "missing Content-Type");
    post("Content-Type: application/x-www-form-urlencoded\r\nContent-Type: "
         "application/x-www-form-urlencoded\r\n",
         "scope=c");
    assert_string_equal(err_seen, "repeated Content-Type header");
    post("Content-Type: application/json\r\n", "scope=c");
    assert_string_equal(err_seen, "Content-Type must be application/x-www-form-urlencoded");
    post("Content-Type: application/x-www-form-urlencoded; charset=iso-8859-1\r\n", "scope=c");
    assert_string_equal(err_seen, "Content-Type must be application/x-www-form-urlencoded");
    post("Content-Type: application/x-www-form-urlencoded\r\n", "scope=a&scope=b");
    assert_string_equal(err_seen, "parameter 'scope' is repeated");
    run("GET /t?scope=openid+email&a=%41 HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    assert_int_equal(rc_seen, 0);
    assert_string_equal(scope_seen, "openid email");
    run("GET /t HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    assert_int_equal(rc_seen, 0);
    run("GET /t?scope=1&scope=2 HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    assert_int_equal(rc_seen, ESP_EINVAL);
    assert_string_equal(err_seen, "parameter 'scope' is repeated");
}

static void test_media_type(void **state)
{
    (void)state;
    const char *ok[] = {"application/json",
                        " application/json ",
                        "APPLICATION/JSON",
                        "application/json;charset=utf-8",
                        "application/json; charset=\"utf-8\"",
                        "application/json; foo=bar; charset=UTF-8"};
    const char *bad[] = {"",
                         "application/jsonx",
                         "application/jso",
                         "text/json",
                         "application/json; charset=latin1",
                         "application/json;",
                         "application/json; charset",
                         "application/json; charset=",
                         "application/json; charset=\"utf-8",
                         "application/json, text/plain",
                         "application/json x"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(esg_http_media_type_is(ok[i], strlen(ok[i]), "application/json"), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (esg_http_media_type_is(bad[i], strlen(bad[i]), "application/json") != ESP_EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

int main(void)
{
    esg_log_set_level(ESP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_request_form),
        cmocka_unit_test(test_media_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
