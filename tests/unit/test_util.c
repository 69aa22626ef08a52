/* Unit tests of core/util: base64, buffers, time, strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/str.h"

static void test_b64url_rfc4648_vectors(void **state)
{
    (void)state;
    /* RFC 4648 §10 vectors, in the URL alphabet without padding. */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *out[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        esg_buf b = ESG_BUF_INIT;
        assert_int_equal(esg_b64url_encode(&b, in[i], strlen(in[i])), 0);
        assert_string_equal(b.data ? b.data : "", out[i]);
        esg_buf d = ESG_BUF_INIT;
        assert_int_equal(esg_b64url_decode(&d, out[i], strlen(out[i])), 0);
        assert_int_equal(d.len, strlen(in[i]));
        assert_memory_equal(d.data ? d.data : "", in[i], d.len);
        esg_buf_free(&b);
        esg_buf_free(&d);
    }
}

static void test_b64_strictness(void **state)
{
    (void)state;
    esg_buf d = ESG_BUF_INIT;
    /* Padding, the standard alphabet, whitespace and non-zero trailing bits are refused. */
    assert_int_equal(esg_b64url_decode(&d, "Zg==", 4), ESP_EINVAL);
    assert_int_equal(esg_b64url_decode(&d, "+/8", 3), ESP_EINVAL);
    assert_int_equal(esg_b64url_decode(&d, "Zm 9v", 5), ESP_EINVAL);
    assert_int_equal(esg_b64url_decode(&d, "Zh", 2), ESP_EINVAL);
    assert_int_equal(esg_b64url_decode(&d, "Z", 1), ESP_EINVAL);
    assert_int_equal(esg_b64_decode(&d, "Zm9vYg", 6), ESP_EINVAL);
    assert_int_equal(esg_b64_decode(&d, "Zm9vYg==", 8), 0);
    assert_memory_equal(d.data, "foob", 4);
    esg_buf_free(&d);
    esg_buf e = ESG_BUF_INIT;
    assert_int_equal(esg_b64_encode(&e, "\xfb\xff", 2), 0);
    assert_string_equal(e.data, "+/8=");
    esg_buf_free(&e);
}

static void test_buf_json_escape(void **state)
{
    (void)state;
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_buf_json_escape(&b, "a\"b\\c\n\x01", 7), 0);
    assert_string_equal(b.data, "a\\\"b\\\\c\\n\\u0001");
    esg_buf_reset(&b);
    assert_int_equal(esg_buf_printf(&b, "%s-%d", "x", 42), 0);
    assert_string_equal(b.data, "x-42");
    esg_buf_free(&b);
}

static void test_time_iso(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(esg_time_parse_iso("2024-02-29T23:59:59.123Z", 24, &ms), 0);
    char out[25];
    esg_time_format_iso(ms, out);
    assert_string_equal(out, "2024-02-29T23:59:59.123Z");
    assert_int_equal(esg_time_parse_iso("1970-01-01T00:00:00.000Z", 24, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(esg_time_parse_iso("2023-02-29T00:00:00.000Z", 24, &ms), ESP_EINVAL);
    assert_int_equal(esg_time_parse_iso("2023-01-01T00:00:00Z", 20, &ms), ESP_EINVAL);
    assert_int_equal(esg_time_parse_iso("2023-01-01 00:00:00.000Z", 24, &ms), ESP_EINVAL);
    /* Found by fuzzing: a date before the epoch cannot round-trip; it is refused. */
    assert_int_equal(esg_time_parse_iso("1012-02-29T23:59:59.123Z", 24, &ms), ESP_EINVAL);
}

static void test_strings(void **state)
{
    (void)state;
    assert_true(esg_ct_equal("abc", 3, "abc", 3));
    assert_false(esg_ct_equal("abc", 3, "abd", 3));
    assert_false(esg_ct_equal("abc", 3, "abcd", 4));
    assert_true(esg_utf8_valid("h\xc3\xa9llo", 6));
    assert_false(esg_utf8_valid("\xc0\xaf", 2));     /* overlong '/' */
    assert_false(esg_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(esg_utf8_valid("a\0b", 3));
    assert_true(esg_is_identifier("keystore-file", 13, 64));
    assert_false(esg_is_identifier("Key", 3, 64));
    assert_string_equal(esg_err_name(ESP_EAUTH), "ESP_EAUTH");
    assert_string_equal(esg_status_oauth_error(ESP_EUNAVAIL), "temporarily_unavailable");
    assert_string_equal(esg_status_esignet_error(ESP_ETOO_MANY_ATTEMPTS), "no_attempts_left");
    assert_string_equal(esg_status_oauth_error(12345), "server_error");
}

static void test_random(void **state)
{
    (void)state;
    char a[33], b[33];
    assert_int_equal(esg_random_alnum(a, 32), 0);
    assert_int_equal(esg_random_alnum(b, 32), 0);
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    char t[64];
    assert_int_equal(esg_random_token(t, sizeof(t), 32), 0);
    assert_int_equal(strlen(t), 43);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_rfc4648_vectors),
        cmocka_unit_test(test_b64_strictness),
        cmocka_unit_test(test_buf_json_escape),
        cmocka_unit_test(test_time_iso),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
