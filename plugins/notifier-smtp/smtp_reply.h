/*
 * SMTP replies (RFC 5321 §4.2): one parser for every reply of the session, fed line by line, so
 * that the fuzz target (tests/fuzz/fuzz_smtp_reply.c) exercises exactly what the plugin runs.
 */
#ifndef NOTIFIER_SMTP_REPLY_H
#define NOTIFIER_SMTP_REPLY_H

#include <stddef.h>

#define SMTP_MAX_LINE  2048 /* longest reply line accepted, without CRLF */
#define SMTP_MAX_LINES 100  /* most lines in one multi-line reply */

/* Service extensions announced in an EHLO reply (RFC 5321 §4.1.1.1). */
enum smtp_ext {
    SMTP_EXT_STARTTLS = 1u << 0,   /* RFC 3207 */
    SMTP_EXT_AUTH_PLAIN = 1u << 1, /* RFC 4954 with the PLAIN mechanism (RFC 4616) */
    SMTP_EXT_8BITMIME = 1u << 2,   /* RFC 6152 */
};

typedef struct smtp_reply {
    int code;       /* the three-digit reply code; every line of a reply has the same */
    int complete;   /* the last line ("ddd " or "ddd") arrived */
    size_t lines;   /* lines so far */
    unsigned ext;   /* enum smtp_ext, from lines after the first */
    char text[128]; /* text of the first line, truncated, for log messages */
} smtp_reply;

/* Empties `r` for the next reply. */
void smtp_reply_reset(smtp_reply *r);

/*
 * Adds one reply line (without its CRLF). Returns 0, or ESP_EINVAL for a line that is not an SMTP
 * reply line, continues a complete reply, changes the code, or exceeds the limits above.
 */
int smtp_reply_line(smtp_reply *r, const char *line, size_t len);

#endif
