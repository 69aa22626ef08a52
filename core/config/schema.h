/*
 * Validation of YAML subtrees against esp_option declarations (include/esignet/plugin.h), the one
 * schema language the core and every plugin use.
 *
 * Validation produces a normalized JSON object (jansson): every declared key that has a value or a
 * default is present, durations are integer milliseconds, sizes integer bytes, relative paths are
 * resolved, enum values are the declared spelling. Members appear in declaration order, so dumps
 * are stable. Errors are collected, not just the first, each at the file:line:col of the text it
 * is about; the values of ESP_OPT_SECRET options (and of everything below one) never appear in an
 * error message, and esg_schema_redact() replaces them for dumps.
 *
 * Rules beyond plugin.h, documented for deployers in docs/CONFIGURATION.md:
 *   - A key whose value is null (`key:` with nothing after it, `~`, `null`) counts as absent, so
 * the default applies and a required key is reported missing.
 *   - Scalars are strictly typed (yaml.h): a quoted "8088" is not an integer and a plain 8088 is
 *     not a string. Enum values are the exception: they are compared as text, so that
 *     `min_version: 1.2` means the choice "1.2" although YAML reads a float.
 *   - ESP_OPT_DURATION takes an integer (seconds) or "<digits><unit>" with unit ms, s, m, h or d.
 *   - ESP_OPT_SIZE takes an integer (bytes) or "<digits><unit>" with unit B, k/KiB, M/MiB, G/GiB
 *     (case-insensitive; powers of 1024). KB/MB/GB are refused because they are ambiguous.
 *   - ESP_OPT_URL is an absolute http(s) URL with a host, without fragment, whitespace or
 *     user:password@ (credentials belong in secret options, which dumps redact).
 *   - min == max == 0 means unbounded; otherwise the value lies in [min, max] (use INT64_MAX for
 *     "no upper bound"). Bounds count bytes for strings, paths and URLs (as written), milliseconds
 *     for durations, bytes for sizes and entries for lists and maps.
 *
 * Option arrays are walked with the stride of their first element's `size` and end at key == NULL,
 * as plugin.h promises plugins built against a later minor version.
 */
#ifndef ESG_CONFIG_SCHEMA_H
#define ESG_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <esignet/plugin.h>

#include "config/errors.h"
#include "config/yaml.h"
#include "util/buf.h"

/* What dumps show instead of a secret value. */
#define ESG_SCHEMA_REDACTED "<redacted>"

/* Where a subtree sits, for messages and path resolution. Every member may be NULL. */
typedef struct esg_schema_ctx {
    /* Dotted path of the validated node for messages, e.g. "server" or
       "key_stores[0].options"; NULL or "" at the top level of a file. Borrowed. */
    const char *where;
    /* Directory relative ESP_OPT_PATH values are joined to; NULL keeps them as written. */
    const char *base_dir;
    /* Node whose position errors about missing keys use when the validated node is NULL (for
       example the plugin instance mapping that has no `options` key). Borrowed. */
    const esg_yaml_node *anchor;
} esg_schema_ctx;

/*
 * Validates `node` (a mapping, or NULL / a null scalar for "nothing given") against the option
 * array `options` (NULL: the owner takes no options, so only an empty or absent node is valid).
 * On success sets *out to a new JSON object the caller releases with json_decref() and returns 0.
 * On failure sets *out to NULL, appends errors to `errors` (caller-owned) and returns ESP_ECONFIG,
 * or returns ESP_EINVAL for an option array that cannot be walked (size smaller than
 * esp_option; also reported), or ESP_ENOMEM. `ctx` may be NULL. Everything is borrowed.
 */
int esg_schema_validate(const esg_schema_ctx *ctx, const esg_yaml_node *node,
                        const esp_option *options, json_t **out, esg_config_errors *errors);

/*
 * Checks option declarations themselves, so that a plugin author learns about a mistake when the
 * plugin is loaded, not when a deployer happens to hit it: table size and alignment, key names
 * ([A-Za-z_][A-Za-z0-9_-]{0,63}, unique within their array), types and flags, enum choices,
 * item_type and children where they belong (and only there), bounds (min <= max, no bounds where
 * they mean nothing), REQUIRED together with a default, and that each default_text parses and
 * passes its own option's validation. Nesting deeper than 16 levels (usually a cycle) and arrays
 * longer than 1024 entries (usually a missing terminator) are errors. `owner` names the declarer
 * at the start of each message, e.g. `plugin "otp", authenticator "otp"` (borrowed). Returns 0,
 * ESP_ECONFIG (errors appended) or ESP_ENOMEM. NULL `options` is valid.
 */
int esg_schema_check_options(const esp_option *options, const char *owner,
                             esg_config_errors *errors);

/*
 * Deep copy of `value` (an object esg_schema_validate() produced from `options`) in which the
 * value of every ESP_OPT_SECRET option, wherever it is nested, is the string ESG_SCHEMA_REDACTED.
 * Sets *out to a new reference (caller releases it). Returns 0 or ESP_ENOMEM.
 */
int esg_schema_redact(const json_t *value, const esp_option *options, json_t **out);

/*
 * Appends a Markdown table documenting `options` to `out`: one row per option with key, type,
 * default, flags (required, secret), bounds and help. Nested options get dotted keys
 * ("tls.min_version"), items of lists of objects "list[].key" and values of maps of objects
 * "map.<name>.key". `prefix` (may be NULL) is put before every key, e.g. "server.". When
 * `skip_objects` is non-zero, top-level ESP_OPT_OBJECT options are left out (callers that give
 * each object its own table). Returns 0 or ESP_ENOMEM.
 */
int esg_schema_markdown(const esp_option *options, const char *prefix, int skip_objects,
                        esg_buf *out);

/* Name of an option type for messages and docs ("string", "duration", ...); "unknown" if none. */
const char *esg_schema_type_name(uint32_t type);

/*
 * Parses a duration ("250ms", "30s", "5m", "2h", "7d", or digits meaning seconds) of `n` bytes
 * into milliseconds. Returns 0, ESP_EINVAL (malformed) or ESP_ETOOBIG (beyond int64 ms).
 */
int esg_schema_parse_duration(const char *s, size_t n, int64_t *ms);

/*
 * Parses a size ("512", "512B", "16k", "16KiB", "1M", "1MiB", "1G", "1GiB"; units
 * case-insensitive, powers of 1024) of `n` bytes into bytes. Returns 0, ESP_EINVAL or
 * ESP_ETOOBIG.
 */
int esg_schema_parse_size(const char *s, size_t n, int64_t *bytes);

/* Appends `ms` in the largest unit that divides it exactly ("30s", "250ms"). 0 or ESP_ENOMEM. */
int esg_schema_format_duration(esg_buf *out, int64_t ms);

/* Appends `bytes` in the largest unit that divides it exactly ("16KiB", "512B"). */
int esg_schema_format_size(esg_buf *out, int64_t bytes);

#endif
