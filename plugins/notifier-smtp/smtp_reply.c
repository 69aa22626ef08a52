#include "smtp_reply.h"

#include <string.h>

#include <esignet/plugin.h>

void smtp_reply_reset(smtp_reply *r)
{
    memset(r, 0, sizeof(*r));
}

/* Whether `text` starts with the keyword `kw`, case-insensitively, ending at a space, '=' or
 * the end. */
static int keyword(const char *text, size_t n, const char *kw, size_t *after)
{
    size_t k = strlen(kw);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++) {
        char c = text[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != kw[i])
            return 0;
    }
    if (n > k && text[k] != ' ' && text[k] != '=')
        return 0;
    *after = k;
    return 1;
}

/* Extension keywords of one EHLO line, e.g. "STARTTLS" or "AUTH LOGIN PLAIN". */
static unsigned extension(const char *text, size_t n)
{
    size_t at = 0;
    if (keyword(text, n, "STARTTLS", &at))
        return SMTP_EXT_STARTTLS;
    if (keyword(text, n, "8BITMIME", &at))
        return SMTP_EXT_8BITMIME;
    if (!keyword(text, n, "AUTH", &at))
        return 0;
    /* Mechanism names follow, separated by spaces ("AUTH=" is an old spelling of the same). */
    while (at < n) {
        while (at < n && (text[at] == ' ' || text[at] == '='))
            at++;
        size_t len = 0;
        if (keyword(text + at, n - at, "PLAIN", &len))
            return SMTP_EXT_AUTH_PLAIN;
        while (at < n && text[at] != ' ')
            at++;
    }
    return 0;
}

int smtp_reply_line(smtp_reply *r, const char *line, size_t len)
{
    if (r->complete || len < 3 || len > SMTP_MAX_LINE || r->lines >= SMTP_MAX_LINES)
        return ESP_EINVAL;
    /* Reply codes are 2yz to 5yz with y in 0..5 (RFC 5321 §4.2.1). */
    if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || line[2] < '0' ||
        line[2] > '9')
        return ESP_EINVAL;
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (len > 3 && line[3] != ' ' && line[3] != '-')
        return ESP_EINVAL;
    if (r->lines > 0 && code != r->code)
        return ESP_EINVAL;
    const char *text = len > 4 ? line + 4 : "";
    size_t n = len > 4 ? len - 4 : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return ESP_EINVAL;
    }
    if (r->lines == 0) {
        size_t keep = n < sizeof(r->text) - 1 ? n : sizeof(r->text) - 1;
        memcpy(r->text, text, keep);
        r->text[keep] = '\0';
    } else {
        r->ext |= extension(text, n);
    }
    r->code = code;
    r->lines++;
    r->complete = len == 3 || line[3] == ' ';
    return 0;
}
