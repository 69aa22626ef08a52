/*
 * A list of configuration errors, each with the file, line and column it points at.
 *
 * The loader, the YAML reader and the schema validator all append to one caller-owned list, so
 * that a deployer sees every mistake of a file in one run instead of fixing them one at a time.
 * The list stops growing at a limit (ESG_CONFIG_MAX_ERRORS by default) and only counts what it
 * drops, because a file fed to the wrong program can produce thousands of errors.
 *
 * Messages never contain the value of an option declared secret; the code that adds them is
 * responsible for that (see schema.h).
 */
#ifndef ESG_CONFIG_ERRORS_H
#define ESG_CONFIG_ERRORS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <esignet/plugin.h>

#include "util/buf.h"

/* Default number of errors kept before the rest are only counted. */
#define ESG_CONFIG_MAX_ERRORS 50

/* One error. `file` is NULL for errors that belong to no file (option declarations). */
typedef struct esg_config_error {
    char *file;    /* owned by the list */
    uint32_t line; /* 1-based; 0 when the error has no position */
    uint32_t col;  /* 1-based; 0 when the error has no position */
    char *message; /* owned by the list; without the position prefix */
} esg_config_error;

/* Initialise with ESG_CONFIG_ERRORS_INIT or esg_config_errors_init(). */
typedef struct esg_config_errors {
    esg_config_error *items; /* owned; `count` entries */
    size_t count;
    size_t cap;
    size_t max;     /* kept at most; 0 means ESG_CONFIG_MAX_ERRORS */
    size_t dropped; /* errors reported beyond `max` */
} esg_config_errors;

#define ESG_CONFIG_ERRORS_INIT                                                                     \
    {                                                                                              \
        NULL, 0, 0, 0, 0                                                                           \
    }

/* Empties `e` and sets its limit to ESG_CONFIG_MAX_ERRORS. Allocates nothing. */
void esg_config_errors_init(esg_config_errors *e);

/*
 * Appends an error. `file` (copied; may be NULL) and the 1-based `line`/`col` (0 for none) say
 * where; the message is formatted from `fmt`. Beyond the limit the error is only counted.
 * Returns 0 or ESP_ENOMEM.
 */
int esg_config_errors_add(esg_config_errors *e, const char *file, uint32_t line, uint32_t col,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* esg_config_errors_add() with a va_list, for callers that wrap it. */
int esg_config_errors_vadd(esg_config_errors *e, const char *file, uint32_t line, uint32_t col,
                           const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Total number of errors reported, kept or dropped. */
size_t esg_config_errors_total(const esg_config_errors *e);

/*
 * Appends one line per error to `out`, in the form compilers use so that editors can jump to it:
 *   file:line:col: message
 *   file: message            (no position)
 *   message                  (no file)
 * followed by "... and N more errors" when some were dropped. Returns 0 or ESP_ENOMEM.
 */
int esg_config_errors_format(const esg_config_errors *e, esg_buf *out);

/*
 * Appends `s` (n bytes) to `b` as a double-quoted string for a message: escaped as JSON so that
 * control characters cannot forge extra lines, and cut after 64 bytes (at a character boundary)
 * with "..." so that a runaway key cannot flood the output. Returns 0 or ESP_ENOMEM.
 */
int esg_config_quote(esg_buf *b, const char *s, size_t n);

/* Frees every error; `e` is empty (with its limit kept) and reusable afterwards. */
void esg_config_errors_free(esg_config_errors *e);

#endif
