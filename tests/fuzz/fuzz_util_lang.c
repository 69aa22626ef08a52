/*
 * Language negotiation (util/lang.h) on arbitrary bytes, as ui_locales and as Accept-Language.
 * Invariants: the index is -1 or names a supported language, and a chosen language's code
 * occurs in the input (case-insensitively), since it can only come from a tag there.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const codes[] = {"en", "ar", "fr", "zh"};
#define N (sizeof(codes) / sizeof(codes[0]))

static int occurs(const char *s, size_t len, const char *code)
{
    size_t n = strlen(code);
    for (size_t i = 0; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && tolower((unsigned char)s[i + k]) == code[k])
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

static void check(const char *s, size_t len, int i)
{
    if (i < -1 || i >= (int)N)
        abort();
    if (i >= 0 && !occurs(s, len, codes[i]))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check(s, size, esg_lang_from_list(s, size, codes, N));
    check(s, size, esg_lang_from_accept(s, size, codes, N));
    check(s, size, esg_lang_match(s, size, codes, N));
    const char *three = esg_lang_iso639_3(s, size);
    if (three != NULL && strlen(three) != 3)
        abort();
    return 0;
}
