#include "util/lang.h"

#include <string.h>
#include <strings.h>

int esg_lang_match(const char *tag, size_t len, const char *const *codes, size_t n)
{
    size_t primary = 0;
    while (primary < len && tag[primary] != '-' && tag[primary] != '_')
        primary++;
    if (primary == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strlen(codes[i]) == primary && strncasecmp(codes[i], tag, primary) == 0)
            return (int)i;
    }
    return -1;
}

int esg_lang_from_list(const char *s, size_t len, const char *const *codes, size_t n)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        int found = i > start ? esg_lang_match(s + start, i - start, codes, n) : -1;
        if (found >= 0)
            return found;
    }
    return -1;
}

const char *esg_lang_iso639_3(const char *tag, size_t len)
{
    /* The languages eSignet deployments name clients in; extend as needed. */
    static const char *const table[][2] = {
        {"ar", "ara"}, {"bn", "ben"}, {"de", "deu"}, {"en", "eng"}, {"es", "spa"},
        {"fr", "fra"}, {"hi", "hin"}, {"kn", "kan"}, {"ml", "mal"}, {"pt", "por"},
        {"sw", "swa"}, {"ta", "tam"}, {"te", "tel"}, {"tl", "tgl"}, {"ur", "urd"},
    };
    size_t primary = 0;
    while (primary < len && tag[primary] != '-' && tag[primary] != '_')
        primary++;
    for (size_t i = 0; primary == 2 && i < sizeof(table) / sizeof(table[0]); i++) {
        if (strncasecmp(table[i][0], tag, 2) == 0)
            return table[i][1];
    }
    return NULL;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* An RFC 9110 qvalue ("0", "0.5", "1.000") in thousandths, or -1 when malformed. */
static int qvalue(const char *s, size_t len)
{
    if (len == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (len == 1)
        return q;
    if (s[1] != '.' || len > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

int esg_lang_from_accept(const char *s, size_t len, const char *const *codes, size_t n)
{
    int best = -1;
    int best_q = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != ',')
            end++;
        size_t p = i;
        while (p < end && is_ows(s[p]))
            p++;
        size_t tag = p;
        while (p < end && s[p] != ';' && !is_ows(s[p]))
            p++;
        size_t tag_len = p - tag;
        int q = 1000;
        /* Parameters: only the weight ";q=..." is defined; others are skipped. */
        while (p < end) {
            while (p < end && (is_ows(s[p]) || s[p] == ';'))
                p++;
            size_t param = p;
            while (p < end && s[p] != ';' && !is_ows(s[p]))
                p++;
            if (p - param >= 2 && (s[param] == 'q' || s[param] == 'Q') && s[param + 1] == '=')
                q = qvalue(s + param + 2, p - param - 2);
        }
        if (q > best_q && tag_len > 0) {
            int found = esg_lang_match(s + tag, tag_len, codes, n);
            if (found >= 0) {
                best = found;
                best_q = q;
            }
        }
        i = end + 1;
    }
    return best;
}
