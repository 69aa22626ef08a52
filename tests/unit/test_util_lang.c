/*
 * Language negotiation (util/lang.h): ui_locales lists and Accept-Language values, matched on
 * the primary subtag, with q-values, q=0, malformed weights and wildcards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/lang.h"

static const char *const codes[] = {"en", "ar", "fr"};
#define N (sizeof(codes) / sizeof(codes[0]))

static int accept(const char *v)
{
    return esg_lang_from_accept(v, strlen(v), codes, N);
}

static int list(const char *v)
{
    return esg_lang_from_list(v, strlen(v), codes, N);
}

static void test_match(void **state)
{
    (void)state;
    assert_int_equal(esg_lang_match("ar", 2, codes, N), 1);
    assert_int_equal(esg_lang_match("AR-eg", 5, codes, N), 1);
    assert_int_equal(esg_lang_match("fr_CA", 5, codes, N), 2);
    assert_int_equal(esg_lang_match("ara", 3, codes, N), -1);
    assert_int_equal(esg_lang_match("a", 1, codes, N), -1);
    assert_int_equal(esg_lang_match("-en", 3, codes, N), -1);
    assert_int_equal(esg_lang_match("", 0, codes, N), -1);
    /* Only `len` bytes count: "ar" inside a longer buffer. */
    assert_int_equal(esg_lang_match("arabic", 2, codes, N), 1);
}

static void test_ui_locales(void **state)
{
    (void)state;
    assert_int_equal(list("ar"), 1);
    assert_int_equal(list("de ar-EG en"), 1); /* the first one that exists */
    assert_int_equal(list("  fr   en "), 2);
    assert_int_equal(list("de it"), -1);
    assert_int_equal(list(""), -1);
    assert_int_equal(list("   "), -1);
}

static void test_accept_language(void **state)
{
    (void)state;
    assert_int_equal(accept("ar"), 1);
    assert_int_equal(accept("de, fr;q=0.8, en;q=0.9"), 0); /* the highest weight */
    assert_int_equal(accept("en;q=0.5, ar;q=0.5"), 0);     /* the earlier of equal ones */
    assert_int_equal(accept("ar-SA,ar;q=0.9,en-US;q=0.8"), 1);
    assert_int_equal(accept("en;q=0, ar;q=0.1"), 1); /* q=0: not English */
    assert_int_equal(accept("en;q=0"), -1);
    assert_int_equal(accept("en;q=0.000"), -1);
    assert_int_equal(accept("*"), -1);
    assert_int_equal(accept("*, fr;q=0.1"), 2);
    assert_int_equal(accept("en ; Q=1.0 , ar;q=0.999"), 0);
    assert_int_equal(accept("\ten;q=0.2;foo=bar,\tar;level=1;q=0.3"), 1);
    /* Malformed weights make the item ignored, not preferred. */
    assert_int_equal(accept("en;q=2, ar;q=0.1"), 1);
    assert_int_equal(accept("en;q=1.5, ar;q=0.1"), 1);
    assert_int_equal(accept("en;q=0.12345, ar;q=0.1"), 1);
    assert_int_equal(accept("en;q=.5, ar;q=0.1"), 1);
    assert_int_equal(accept("en;q=, ar;q=0.1"), 1);
    assert_int_equal(accept("en;q=0.x, ar;q=0.1"), 1);
    assert_int_equal(accept(",,, ; ;q=1,"), -1);
    assert_int_equal(accept(""), -1);
}

static void test_iso639_3(void **state)
{
    (void)state;
    assert_string_equal(esg_lang_iso639_3("ar", 2), "ara");
    assert_string_equal(esg_lang_iso639_3("EN-gb", 5), "eng");
    assert_string_equal(esg_lang_iso639_3("ta_IN", 5), "tam");
    assert_null(esg_lang_iso639_3("eng", 3)); /* already three letters: not in the table */
    assert_null(esg_lang_iso639_3("xx", 2));
    assert_null(esg_lang_iso639_3("a", 1));
    assert_null(esg_lang_iso639_3("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_ui_locales),
        cmocka_unit_test(test_accept_language),
        cmocka_unit_test(test_iso639_3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
