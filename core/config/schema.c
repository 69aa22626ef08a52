/*
 * Validation of YAML nodes against esp_option arrays, checks of the declarations themselves,
 * redaction of secrets and Markdown rendering. See schema.h for the rules.
 *
 * Internal functions report validation errors into the shared list and keep going, so that one
 * run shows every mistake; only allocation failure stops a walk. An allocation failure while
 * building a message or a path is remembered in a sticky flag instead of being threaded through
 * every return, because the only sensible reaction, returning ESP_ENOMEM at the end, is the same
 * wherever it happened.
 */
#include "config/schema.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

#define MAX_DECL_DEPTH   16
#define MAX_DECL_ENTRIES 1024
#define SUGGEST_MAX      64

/* State of one validation walk. */
typedef struct vstate {
    const char *base_dir;
    esg_config_errors *errors;
    esg_buf path; /* dotted path of the node being validated, for messages */
    int failed;   /* a validation error was reported */
    int oom;      /* an allocation failed somewhere */
} vstate;

static int validate_object(vstate *vs, const esp_option *opts, const esg_yaml_node *node,
                           const esg_yaml_node *anchor, int secret, json_t **out);
static void validate_value(vstate *vs, const esp_option *o, uint32_t type, int item, int secret,
                           const esg_yaml_node *node, json_t **out);

/* ---- option arrays --------------------------------------------------------------------------- */

/*
 * The next entry of an option array. The stride is the first entry's size, as plugin.h promises,
 * so that arrays built against a later minor (with a larger esp_option) are walked correctly.
 */
static const esp_option *opt_next(const esp_option *first, const esp_option *cur)
{
    return (const esp_option *)(const void *)((const char *)cur + first->size);
}

/* 1 when `opts` can be walked: NULL, empty, or entries at least as large as esp_option. */
static int walkable(const esp_option *opts)
{
    return opts == NULL || opts->key == NULL ||
           (opts->size >= sizeof(esp_option) && opts->size % _Alignof(esp_option) == 0);
}

static const esp_option *find_option(const esp_option *opts, const char *key, size_t n)
{
    if (opts == NULL)
        return NULL;
    for (const esp_option *o = opts; o->key != NULL; o = opt_next(opts, o))
        if (esg_str_eq(key, n, o->key))
            return o;
    return NULL;
}

static int bounded(const esp_option *o)
{
    return o->min != 0 || o->max != 0;
}

const char *esg_schema_type_name(uint32_t type)
{
    switch (type) {
    case ESP_OPT_STRING:
        return "string";
    case ESP_OPT_INT:
        return "integer";
    case ESP_OPT_BOOL:
        return "boolean";
    case ESP_OPT_DURATION:
        return "duration";
    case ESP_OPT_SIZE:
        return "size";
    case ESP_OPT_ENUM:
        return "enum";
    case ESP_OPT_LIST:
        return "list";
    case ESP_OPT_OBJECT:
        return "object";
    case ESP_OPT_MAP:
        return "map";
    case ESP_OPT_ANY:
        return "any";
    case ESP_OPT_PATH:
        return "path";
    case ESP_OPT_URL:
        return "URL";
    default:
        return "unknown";
    }
}

/* ---- units ----------------------------------------------------------------------------------- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Case-insensitive comparison of s[0..n) with the lower-case literal `lit`. */
static int eq_nocase(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lit[i])
            return 0;
    return 1;
}

/* A unit of durations or sizes: its spelling and how many base units (ms, bytes) it is. */
typedef struct unit {
    const char *name;
    int64_t factor;
} unit;

/* Accepted spellings; the empty one is the plain number (seconds for durations). */
static const unit duration_units[] = {{"", 1000},     {"ms", 1},       {"s", 1000}, {"m", 60000},
                                      {"h", 3600000}, {"d", 86400000}, {NULL, 0}};
static const unit size_units[] = {{"", 1},
                                  {"b", 1},
                                  {"k", 1024},
                                  {"kib", 1024},
                                  {"m", 1024 * 1024},
                                  {"mib", 1024 * 1024},
                                  {"g", 1024 * 1024 * 1024},
                                  {"gib", 1024 * 1024 * 1024},
                                  {NULL, 0}};

/* Largest units first, as messages and docs print them. */
static const unit duration_display[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000},
                                        {"s", 1000},     {"ms", 1},      {NULL, 0}};
static const unit size_display[] = {
    {"GiB", 1024 * 1024 * 1024}, {"MiB", 1024 * 1024}, {"KiB", 1024}, {"B", 1}, {NULL, 0}};

/*
 * Parses "<digits><unit>" with a unit from `units` (compared case-insensitively when `nocase`).
 * Returns 0, ESP_EINVAL or ESP_ETOOBIG.
 */
static int parse_quantity(const char *s, size_t n, const unit *units, int nocase, int64_t *out)
{
    size_t i = 0;
    int64_t v = 0;

    while (i < n && s[i] >= '0' && s[i] <= '9') {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return ESP_ETOOBIG;
        v = v * 10 + d;
        i++;
    }
    if (i == 0)
        return ESP_EINVAL;
    for (const unit *u = units; u->name != NULL; u++) {
        if (nocase ? eq_nocase(s + i, n - i, u->name) : esg_str_eq(s + i, n - i, u->name)) {
            if (v > INT64_MAX / u->factor)
                return ESP_ETOOBIG;
            *out = v * u->factor;
            return 0;
        }
    }
    return ESP_EINVAL;
}

int esg_schema_parse_duration(const char *s, size_t n, int64_t *ms)
{
    return parse_quantity(s, n, duration_units, 0, ms);
}

int esg_schema_parse_size(const char *s, size_t n, int64_t *bytes)
{
    return parse_quantity(s, n, size_units, 1, bytes);
}

/* Appends `v` in the largest unit of `units` that divides it exactly (the last one always does). */
static int format_quantity(esg_buf *out, int64_t v, const unit *units)
{
    const unit *u = units;
    while (u[1].name != NULL && (v == 0 || v % u->factor != 0))
        u++;
    return esg_buf_printf(out, "%lld%s", (long long)(v / u->factor), u->name);
}

int esg_schema_format_duration(esg_buf *out, int64_t ms)
{
    return format_quantity(out, ms, duration_display);
}

int esg_schema_format_size(esg_buf *out, int64_t bytes)
{
    return format_quantity(out, bytes, size_display);
}

/* ---- URLs ------------------------------------------------------------------------------------ */

/* What is wrong with URL s[0..n), or NULL when it is an acceptable absolute http(s) URL. */
static const char *url_problem(const char *s, size_t n)
{
    size_t i;
    if (n >= 7 && eq_nocase(s, 7, "http://"))
        i = 7;
    else if (n >= 8 && eq_nocase(s, 8, "https://"))
        i = 8;
    else
        return "it must start with http:// or https://";
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c <= 0x20 || c == 0x7f || c == '\\')
            return "it contains spaces, control characters or backslashes";
        if (c == '#')
            return "it must not have a fragment (#...)";
    }
    size_t auth_end = i;
    while (auth_end < n && s[auth_end] != '/' && s[auth_end] != '?')
        auth_end++;
    if (memchr(s + i, '@', auth_end - i) != NULL)
        return "it must not contain user:password@ (put credentials in a secret option)";
    size_t host_end;
    if (i < auth_end && s[i] == '[') {
        const char *close = memchr(s + i, ']', auth_end - i);
        if (close == NULL || close == s + i + 1)
            return "its IPv6 host is not closed with ]";
        host_end = (size_t)(close - s) + 1;
    } else {
        host_end = i;
        while (host_end < auth_end && s[host_end] != ':')
            host_end++;
        if (host_end == i)
            return "it has no host";
    }
    if (host_end < auth_end) {
        if (s[host_end] != ':' || host_end + 1 == auth_end || auth_end - host_end - 1 > 5)
            return "its port is not a number from 1 to 65535";
        long port = 0;
        for (size_t k = host_end + 1; k < auth_end; k++) {
            if (s[k] < '0' || s[k] > '9')
                return "its port is not a number from 1 to 65535";
            port = port * 10 + (s[k] - '0');
        }
        if (port < 1 || port > 65535)
            return "its port is not a number from 1 to 65535";
    }
    return NULL;
}

/* ---- messages -------------------------------------------------------------------------------- */

static const char *path_str(const vstate *vs)
{
    return vs->path.data != NULL ? vs->path.data : "";
}

/* Appends ".key" (or "key" at the start) to the path; returns the length to restore. */
static size_t path_push_key(vstate *vs, const char *key, size_t n)
{
    size_t saved = vs->path.len;
    if (vs->path.len > 0 && esg_buf_putc(&vs->path, '.') != 0)
        vs->oom = 1;
    if (esg_buf_append(&vs->path, key, n) != 0)
        vs->oom = 1;
    return saved;
}

static size_t path_push_index(vstate *vs, size_t i)
{
    size_t saved = vs->path.len;
    if (esg_buf_printf(&vs->path, "[%zu]", i) != 0)
        vs->oom = 1;
    return saved;
}

static void path_pop(vstate *vs, size_t saved)
{
    vs->path.len = saved;
    if (vs->path.data != NULL)
        vs->path.data[saved] = '\0';
}

static void verr(vstate *vs, const esg_yaml_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports a validation error at `at`. */
static void verr(vstate *vs, const esg_yaml_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vs->failed = 1;
    if (esg_config_errors_vadd(vs->errors, at ? at->file : NULL, at ? at->line : 0,
                               at ? at->col : 0, fmt, ap) != 0)
        vs->oom = 1;
    va_end(ap);
}

/* A quoted rendering of a node's text for messages; "" when the value must not be shown. */
static void quote_value(vstate *vs, esg_buf *b, const esg_yaml_node *node, int secret)
{
    if (secret || node == NULL || node->kind != ESG_YAML_SCALAR)
        return;
    if (esg_config_quote(b, node->text, node->len) != 0 || esg_buf_putc(b, ' ') != 0)
        vs->oom = 1;
}

/*
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment), since
 * swapped letters are the most common typo; letter case is ignored. SIZE_MAX for strings too long
 * to be worth suggesting for.
 */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    size_t rows[3][SUGGEST_MAX + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    if (an > SUGGEST_MAX || bn > SUGGEST_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= bn; j++)
        prev[j] = j;
    for (size_t i = 1; i <= an; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= bn; j++) {
            int ca = lower((unsigned char)a[i - 1]), cb = lower((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + (ca != cb);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == lower((unsigned char)b[j - 2]) &&
                lower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[bn];
}

/*
 * The candidate closest to `s` when it is close enough to be a typo: at most one edit for short
 * words, two up to eight characters, three beyond. Letter case does not count as an edit.
 */
static const char *suggest(const char *s, size_t n, const char *const *candidates, size_t count)
{
    size_t limit = n <= 3 ? 1 : n <= 8 ? 2 : 3;
    size_t best = SIZE_MAX;
    const char *pick = NULL;
    for (size_t i = 0; i < count; i++) {
        size_t d = edit_distance(s, n, candidates[i], strlen(candidates[i]));
        if (d <= limit && d < best) {
            best = d;
            pick = candidates[i];
        }
    }
    return pick;
}

static const char *suggest_key(const esp_option *opts, const char *s, size_t n)
{
    const char *keys[64];
    size_t count = 0;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    if (opts == NULL)
        return NULL;
    /* Candidates go through suggest() in batches so that any number of options works. */
    for (const esp_option *o = opts; o->key != NULL; o = opt_next(opts, o)) {
        keys[count++] = o->key;
        const esp_option *next = opt_next(opts, o);
        if (count == sizeof(keys) / sizeof(keys[0]) || next->key == NULL) {
            const char *pick = suggest(s, n, keys, count);
            if (pick != NULL) {
                size_t d = edit_distance(s, n, pick, strlen(pick));
                if (d < best_d) {
                    best_d = d;
                    best = pick;
                }
            }
            count = 0;
        }
    }
    return best;
}

static size_t count_choices(const char *const *choices)
{
    size_t n = 0;
    while (choices != NULL && choices[n] != NULL)
        n++;
    return n;
}

/* "a", "an" or nothing before a type name in messages. */
static const char *found_name(const esg_yaml_node *node)
{
    if (node->kind == ESG_YAML_MAPPING)
        return "a mapping";
    if (node->kind == ESG_YAML_SEQUENCE)
        return "a list";
    switch (node->type) {
    case ESG_YAML_NULL:
        return "null";
    case ESG_YAML_BOOL:
        return "a boolean";
    case ESG_YAML_INT:
        return "an integer";
    case ESG_YAML_FLOAT:
        return "a float";
    default:
        return "a string";
    }
}

static const char *expected_name(uint32_t type)
{
    switch (type) {
    case ESP_OPT_STRING:
        return "a string";
    case ESP_OPT_INT:
        return "an integer";
    case ESP_OPT_BOOL:
        return "true or false";
    case ESP_OPT_DURATION:
        return "a duration such as 30s, 250ms, 5m, 2h or 7d";
    case ESP_OPT_SIZE:
        return "a size such as 512, 16k or 1M";
    case ESP_OPT_ENUM:
        return "one of the listed values";
    case ESP_OPT_LIST:
        return "a list";
    case ESP_OPT_OBJECT:
    case ESP_OPT_MAP:
        return "a mapping";
    case ESP_OPT_PATH:
        return "a path";
    case ESP_OPT_URL:
        return "a URL";
    default:
        return "a value";
    }
}

static int all_digits(const char *s, size_t n)
{
    size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int yaml11_bool(const char *s, size_t n)
{
    static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (eq_nocase(s, n, words[i]))
            return 1;
    return 0;
}

static void type_error(vstate *vs, const esg_yaml_node *node, uint32_t type, int secret)
{
    const char *hint = "";
    int scalar = node->kind == ESG_YAML_SCALAR;
    int plain = scalar && node->style == ESG_YAML_PLAIN;

    if ((type == ESP_OPT_STRING || type == ESP_OPT_PATH || type == ESP_OPT_URL) && plain &&
        (node->type == ESG_YAML_BOOL || node->type == ESG_YAML_INT || node->type == ESG_YAML_FLOAT))
        hint = " (quote it to use it as text)";
    else if (type == ESP_OPT_INT && scalar && !plain && all_digits(node->text, node->len))
        hint = " (remove the quotes)";
    else if (type == ESP_OPT_BOOL && !secret && scalar && node->type == ESG_YAML_STRING &&
             yaml11_bool(node->text, node->len))
        hint = " (words like yes/no/on/off are text in YAML 1.2; write true or false)";
    verr(vs, node, "%s%sexpected %s, found %s%s", path_str(vs), vs->path.len ? ": " : "",
         expected_name(type), found_name(node), hint);
}

/* Formats a bound for messages in the unit of its type. */
static void format_bound(vstate *vs, esg_buf *b, uint32_t type, int64_t v)
{
    int rc;
    if (type == ESP_OPT_DURATION)
        rc = esg_schema_format_duration(b, v);
    else if (type == ESP_OPT_SIZE)
        rc = esg_schema_format_size(b, v);
    else
        rc = esg_buf_printf(b, "%lld", (long long)v);
    if (rc != 0)
        vs->oom = 1;
}

/*
 * Checks `v` against the option's bounds. `type` is the option's own type: lengths for text,
 * counts for lists and maps, the value otherwise.
 */
static void check_bounds(vstate *vs, const esp_option *o, uint32_t type, const esg_yaml_node *node,
                         int secret, int64_t v)
{
    const char *what;
    int below;
    esg_buf lim = ESG_BUF_INIT, val = ESG_BUF_INIT;

    if (!bounded(o) || (v >= o->min && v <= o->max))
        return;
    below = v < o->min;
    format_bound(vs, &lim, type, below ? o->min : o->max);
    switch (type) {
    case ESP_OPT_STRING:
    case ESP_OPT_PATH:
    case ESP_OPT_URL:
        what = "bytes long";
        break;
    case ESP_OPT_LIST:
        what = "items";
        break;
    case ESP_OPT_MAP:
        what = "entries";
        break;
    default:
        what = NULL;
        break;
    }
    if (what != NULL)
        verr(vs, node, "%s: must be at %s %s %s", path_str(vs), below ? "least" : "most", lim.data,
             what);
    else if (secret)
        verr(vs, node, "%s: value is %s the %s %s", path_str(vs), below ? "below" : "above",
             below ? "minimum" : "maximum", lim.data);
    else {
        format_bound(vs, &val, type, v);
        verr(vs, node, "%s: %s is %s the %s %s", path_str(vs), val.data, below ? "below" : "above",
             below ? "minimum" : "maximum", lim.data);
    }
    esg_buf_free(&lim);
    esg_buf_free(&val);
}

/* ---- values ---------------------------------------------------------------------------------- */

static int is_string(const esg_yaml_node *node)
{
    return node->kind == ESG_YAML_SCALAR && node->type == ESG_YAML_STRING;
}

static int is_null(const esg_yaml_node *node)
{
    return node == NULL || (node->kind == ESG_YAML_SCALAR && node->type == ESG_YAML_NULL);
}

static json_t *checked(vstate *vs, json_t *v)
{
    if (v == NULL)
        vs->oom = 1;
    return v;
}

static json_t *path_value(vstate *vs, const esg_yaml_node *node)
{
    esg_buf b = ESG_BUF_INIT;
    json_t *v;
    if (node->text[0] == '/' || vs->base_dir == NULL || vs->base_dir[0] == '\0')
        return checked(vs, json_stringn(node->text, node->len));
    size_t dl = strlen(vs->base_dir);
    if (esg_buf_append(&b, vs->base_dir, dl) != 0 ||
        (vs->base_dir[dl - 1] != '/' && esg_buf_putc(&b, '/') != 0) ||
        esg_buf_append(&b, node->text, node->len) != 0) {
        vs->oom = 1;
        esg_buf_free(&b);
        return NULL;
    }
    v = checked(vs, json_stringn(b.data, b.len));
    esg_buf_free(&b);
    return v;
}

static void validate_text(vstate *vs, const esp_option *o, uint32_t type, int item, int secret,
                          const esg_yaml_node *node, json_t **out)
{
    if (!is_string(node)) {
        type_error(vs, node, type, secret);
        return;
    }
    size_t before = esg_config_errors_total(vs->errors);
    if (!item)
        check_bounds(vs, o, type, node, secret, (int64_t)node->len);
    if (type == ESP_OPT_PATH && node->len == 0)
        verr(vs, node, "%s: the path is empty", path_str(vs));
    if (type == ESP_OPT_URL) {
        const char *problem = url_problem(node->text, node->len);
        if (problem != NULL) {
            esg_buf q = ESG_BUF_INIT;
            quote_value(vs, &q, node, secret);
            verr(vs, node, "%s: invalid URL %s(%s)", path_str(vs), q.data ? q.data : "", problem);
            esg_buf_free(&q);
        }
    }
    if (esg_config_errors_total(vs->errors) != before)
        return;
    if (type == ESP_OPT_PATH)
        *out = path_value(vs, node);
    else
        *out = checked(vs, json_stringn(node->text, node->len));
}

/* Durations and sizes: an integer in the base unit (seconds or bytes) or text with a unit. */
static void validate_quantity(vstate *vs, const esp_option *o, uint32_t type, int item, int secret,
                              const esg_yaml_node *node, json_t **out)
{
    int64_t v = 0;
    int rc;
    int duration = type == ESP_OPT_DURATION;

    if (node->kind == ESG_YAML_SCALAR && node->type == ESG_YAML_INT) {
        /* A plain integer is in the unit of the empty spelling: seconds or bytes. */
        int64_t factor = duration ? duration_units[0].factor : size_units[0].factor;
        if (node->i < 0)
            rc = ESP_EINVAL;
        else if (node->i > INT64_MAX / factor)
            rc = ESP_ETOOBIG;
        else {
            v = node->i * factor;
            rc = 0;
        }
    } else if (is_string(node)) {
        rc = duration ? esg_schema_parse_duration(node->text, node->len, &v)
                      : esg_schema_parse_size(node->text, node->len, &v);
    } else {
        type_error(vs, node, type, secret);
        return;
    }
    if (rc != 0) {
        esg_buf q = ESG_BUF_INIT;
        quote_value(vs, &q, node, secret);
        const char *hint = "";
        if (!duration && rc == ESP_EINVAL && node->len >= 2 &&
            lower((unsigned char)node->text[node->len - 1]) == 'b' &&
            !(node->text[node->len - 2] >= '0' && node->text[node->len - 2] <= '9'))
            hint = "; KB, MB and GB are ambiguous, write k or KiB (powers of 1024)";
        if (rc == ESP_ETOOBIG)
            verr(vs, node, "%s: %s%s is too large", path_str(vs), q.data ? q.data : "",
                 duration ? "duration" : "size");
        else
            verr(vs, node, "%s: invalid %s %s(expected %s%s)", path_str(vs),
                 duration ? "duration" : "size", q.data ? q.data : "", expected_name(type), hint);
        esg_buf_free(&q);
        return;
    }
    size_t before = esg_config_errors_total(vs->errors);
    if (!item)
        check_bounds(vs, o, type, node, secret, v);
    if (esg_config_errors_total(vs->errors) == before)
        *out = checked(vs, json_integer((json_int_t)v));
}

static void validate_enum(vstate *vs, const esp_option *o, int secret, const esg_yaml_node *node,
                          json_t **out)
{
    size_t n = count_choices(o->choices);
    esg_buf list = ESG_BUF_INIT, q = ESG_BUF_INIT;

    if (node->kind != ESG_YAML_SCALAR || node->type == ESG_YAML_NULL) {
        type_error(vs, node, ESP_OPT_ENUM, secret);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (esg_str_eq(node->text, node->len, o->choices[i])) {
            *out = checked(vs, json_string(o->choices[i]));
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (esg_buf_printf(&list, "%s%s", i ? ", " : "", o->choices[i]) != 0)
            vs->oom = 1;
    quote_value(vs, &q, node, secret);
    const char *pick = secret ? NULL : suggest(node->text, node->len, o->choices, n);
    if (pick != NULL)
        verr(vs, node, "%s: %sis not one of: %s (did you mean \"%s\"?)", path_str(vs),
             q.data ? q.data : "", list.data ? list.data : "", pick);
    else
        verr(vs, node, "%s: %sis not one of: %s", path_str(vs), q.data ? q.data : "",
             list.data ? list.data : "");
    esg_buf_free(&list);
    esg_buf_free(&q);
}

/* An item of a list or a value of a map: objects by their children, others by item_type. */
static void validate_item(vstate *vs, const esp_option *o, int secret, const esg_yaml_node *node,
                          json_t **out)
{
    if (o->item_type == ESP_OPT_OBJECT)
        validate_object(vs, o->children, node, node, secret, out);
    else
        validate_value(vs, o, o->item_type, 1, secret, node, out);
}

static void validate_list(vstate *vs, const esp_option *o, int item, int secret,
                          const esg_yaml_node *node, json_t **out)
{
    json_t *arr;
    if (node->kind != ESG_YAML_SEQUENCE) {
        type_error(vs, node, ESP_OPT_LIST, secret);
        return;
    }
    arr = checked(vs, json_array());
    for (size_t i = 0; arr != NULL && i < node->count; i++) {
        json_t *v = NULL;
        size_t saved = path_push_index(vs, i);
        validate_item(vs, o, secret, node->items[i], &v);
        path_pop(vs, saved);
        if (v != NULL && json_array_append_new(arr, v) != 0)
            vs->oom = 1;
    }
    if (!item)
        check_bounds(vs, o, ESP_OPT_LIST, node, secret, (int64_t)node->count);
    *out = arr;
}

static void validate_map(vstate *vs, const esp_option *o, int item, int secret,
                         const esg_yaml_node *node, json_t **out)
{
    json_t *obj;
    if (node->kind != ESG_YAML_MAPPING) {
        type_error(vs, node, ESP_OPT_MAP, secret);
        return;
    }
    obj = checked(vs, json_object());
    for (size_t i = 0; obj != NULL && i < node->count; i++) {
        json_t *v = NULL;
        const esg_yaml_node *key = node->keys[i];
        size_t saved = path_push_key(vs, key->text, key->len);
        validate_item(vs, o, secret, node->items[i], &v);
        path_pop(vs, saved);
        if (v != NULL && json_object_setn_new(obj, key->text, key->len, v) != 0)
            vs->oom = 1;
    }
    if (!item)
        check_bounds(vs, o, ESP_OPT_MAP, node, secret, (int64_t)node->count);
    *out = obj;
}

/*
 * Validates a present, non-null value as `type` (the option's type, or its item_type for items of
 * lists and maps: then `item` is set and the option's bounds, which count the list, are not
 * applied). Sets *out to a new reference, or leaves it NULL after reporting an error.
 */
static void validate_value(vstate *vs, const esp_option *o, uint32_t type, int item, int secret,
                           const esg_yaml_node *node, json_t **out)
{
    size_t before;

    *out = NULL;
    switch (type) {
    case ESP_OPT_STRING:
    case ESP_OPT_PATH:
    case ESP_OPT_URL:
        validate_text(vs, o, type, item, secret, node, out);
        break;
    case ESP_OPT_INT:
        if (node->kind != ESG_YAML_SCALAR || node->type != ESG_YAML_INT) {
            type_error(vs, node, type, secret);
            break;
        }
        before = esg_config_errors_total(vs->errors);
        if (!item)
            check_bounds(vs, o, type, node, secret, node->i);
        if (esg_config_errors_total(vs->errors) == before)
            *out = checked(vs, json_integer((json_int_t)node->i));
        break;
    case ESP_OPT_BOOL:
        if (node->kind != ESG_YAML_SCALAR || node->type != ESG_YAML_BOOL) {
            type_error(vs, node, type, secret);
            break;
        }
        *out = checked(vs, json_boolean(node->b));
        break;
    case ESP_OPT_DURATION:
    case ESP_OPT_SIZE:
        validate_quantity(vs, o, type, item, secret, node, out);
        break;
    case ESP_OPT_ENUM:
        validate_enum(vs, o, secret, node, out);
        break;
    case ESP_OPT_LIST:
        validate_list(vs, o, item, secret, node, out);
        break;
    case ESP_OPT_MAP:
        validate_map(vs, o, item, secret, node, out);
        break;
    case ESP_OPT_OBJECT:
        validate_object(vs, o->children, node, node, secret, out);
        break;
    case ESP_OPT_ANY: {
        int rc = esg_yaml_to_json(node, out, vs->errors);
        if (rc == ESP_ECONFIG)
            vs->failed = 1;
        else if (rc != 0)
            vs->oom = 1;
        break;
    }
    default:
        verr(vs, node, "%s: the option declares the unknown type %u", path_str(vs), (unsigned)type);
        break;
    }
}

static const char *no_env(void *ud, const char *name)
{
    (void)ud;
    (void)name;
    return NULL;
}

/*
 * Parses an option's default_text as YAML and validates it like a value written in the file.
 * Errors go to `scratch`, not to the deployer's list: a bad default is the declarer's mistake,
 * and esg_schema_check_options() reports it with the declaration. Sets *out (NULL when the
 * default is null). Returns 0, ESP_ECONFIG or ESP_ENOMEM.
 */
static int default_value(const esp_option *o, uint32_t type, const char *base_dir,
                         const char *where, esg_config_errors *scratch, json_t **out)
{
    int rc;
    esg_yaml_doc *doc = NULL;
    const esg_yaml_env env = {no_env, NULL};
    const esg_yaml_opts opts = {&env, NULL, NULL};
    vstate sub;

    *out = NULL;
    memset(&sub, 0, sizeof(sub));
    sub.base_dir = base_dir;
    sub.errors = scratch;
    rc = esg_yaml_load_string("default", o->default_text, strlen(o->default_text), &opts, &doc,
                              scratch);
    if (rc != 0)
        goto done;
    if (esg_buf_puts(&sub.path, where) != 0) {
        rc = ESP_ENOMEM;
        goto done;
    }
    const esg_yaml_node *root = esg_yaml_root(doc);
    if (!is_null(root))
        validate_value(&sub, o, type, 0, o->flags & ESP_OPT_SECRET, root, out);
    rc = sub.oom ? ESP_ENOMEM : sub.failed ? ESP_ECONFIG : 0;
done:
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
    }
    esg_buf_free(&sub.path);
    esg_yaml_free(doc);
    return rc;
}

/* Reports a key that `opts` does not declare, with the closest declared key as a suggestion. */
static void unknown_key(vstate *vs, const esp_option *opts, const esg_yaml_node *key)
{
    esg_buf msg = ESG_BUF_INIT;
    const char *pick = suggest_key(opts, key->text, key->len);
    int rc = esg_buf_puts(&msg, "unknown key ");
    if (rc == 0)
        rc = esg_config_quote(&msg, key->text, key->len);
    if (rc == 0 && vs->path.len > 0)
        rc = esg_buf_printf(&msg, " in %s", path_str(vs));
    if (rc == 0 && pick != NULL)
        rc = esg_buf_printf(&msg, " (did you mean \"%s\"?)", pick);
    else if (rc == 0 && (opts == NULL || opts->key == NULL))
        rc = esg_buf_puts(&msg, " (no options are accepted here)");
    if (rc != 0)
        vs->oom = 1;
    else
        verr(vs, key, "%s", msg.data);
    esg_buf_free(&msg);
}

/* Value of an option that is absent or null in the file: an error, its default, or nothing. */
static void absent_value(vstate *vs, const esp_option *o, const esg_yaml_node *null_node,
                         const esg_yaml_node *anchor, size_t parent_len, int secret, json_t **out)
{
    *out = NULL;
    if (o->flags & ESP_OPT_REQUIRED) {
        if (null_node != NULL)
            verr(vs, null_node, "%s: a value is required", path_str(vs));
        else if (parent_len > 0)
            verr(vs, anchor, "missing required key \"%s\" in %.*s", o->key, (int)parent_len,
                 path_str(vs));
        else
            verr(vs, anchor, "missing required key \"%s\"", o->key);
        return;
    }
    if (o->default_text != NULL) {
        esg_config_errors scratch;
        esg_config_errors_init(&scratch);
        int rc = default_value(o, o->type, vs->base_dir, path_str(vs), &scratch, out);
        if (rc == ESP_ENOMEM)
            vs->oom = 1;
        else if (rc != 0)
            verr(vs, anchor, "%s: the declared default is invalid (%s)", path_str(vs),
                 scratch.count > 0 ? scratch.items[0].message : "no detail");
        esg_config_errors_free(&scratch);
        return;
    }
    if (o->type == ESP_OPT_OBJECT)
        validate_object(vs, o->children, NULL, anchor, secret, out);
}

/*
 * Validates a mapping against option array `opts`. `node` NULL or null means an empty mapping;
 * `anchor` positions errors about missing keys then. Sets *out to the normalized object.
 * Returns 0, or ESP_EINVAL for an array that cannot be walked.
 */
static int validate_object(vstate *vs, const esp_option *opts, const esg_yaml_node *node,
                           const esg_yaml_node *anchor, int secret, json_t **out)
{
    json_t *obj = NULL;
    size_t parent_len = vs->path.len;

    *out = NULL;
    if (!walkable(opts)) {
        verr(vs, node ? node : anchor,
             "%s%sthe option declarations cannot be read (entry size %u is smaller than "
             "esp_option)",
             path_str(vs), vs->path.len ? ": " : "", (unsigned)opts->size);
        return ESP_EINVAL;
    }
    if (is_null(node)) {
        node = NULL;
    } else if (node->kind != ESG_YAML_MAPPING) {
        type_error(vs, node, ESP_OPT_OBJECT, secret);
        return 0;
    } else {
        anchor = node;
    }
    obj = checked(vs, json_object());
    if (obj == NULL)
        return 0;

    /* Unknown keys first, in file order, so that typos are reported where they are. */
    for (size_t i = 0; node != NULL && i < node->count; i++) {
        const esg_yaml_node *key = node->keys[i];
        if (find_option(opts, key->text, key->len) != NULL)
            continue;
        unknown_key(vs, opts, key);
    }

    for (const esp_option *o = opts; o != NULL && o->key != NULL; o = opt_next(opts, o)) {
        const esg_yaml_node *value = esg_yaml_get(node, o->key);
        int sec = secret || (o->flags & ESP_OPT_SECRET);
        json_t *v = NULL;
        size_t saved = path_push_key(vs, o->key, strlen(o->key));
        if (is_null(value))
            absent_value(vs, o, value, anchor, parent_len, sec, &v);
        else
            validate_value(vs, o, o->type, 0, sec, value, &v);
        path_pop(vs, saved);
        if (v != NULL && json_object_set_new(obj, o->key, v) != 0)
            vs->oom = 1;
    }
    *out = obj;
    return 0;
}

int esg_schema_validate(const esg_schema_ctx *ctx, const esg_yaml_node *node,
                        const esp_option *options, json_t **out, esg_config_errors *errors)
{
    int rc;
    vstate vs;
    json_t *obj = NULL;

    *out = NULL;
    memset(&vs, 0, sizeof(vs));
    vs.errors = errors;
    vs.base_dir = ctx ? ctx->base_dir : NULL;
    if (ctx != NULL && ctx->where != NULL && esg_buf_puts(&vs.path, ctx->where) != 0) {
        rc = ESP_ENOMEM;
        goto done;
    }
    rc = validate_object(&vs, options, node, ctx ? ctx->anchor : NULL, 0, &obj);
    if (rc != 0)
        goto done;
    rc = vs.oom ? ESP_ENOMEM : vs.failed ? ESP_ECONFIG : 0;
done:
    if (rc != 0)
        json_decref(obj);
    else
        *out = obj;
    esg_buf_free(&vs.path);
    return rc;
}

/* ---- redaction ------------------------------------------------------------------------------- */

static int redact_object(json_t *obj, const esp_option *opts);

static int redact_items(json_t *v, const esp_option *o)
{
    size_t i;
    const char *k;
    json_t *item;
    int rc = 0;

    if (o->item_type != ESP_OPT_OBJECT || o->children == NULL)
        return 0;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item)
        {
            if (rc == 0)
                rc = redact_object(item, o->children);
        }
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, item)
        {
            if (rc == 0)
                rc = redact_object(item, o->children);
        }
    }
    return rc;
}

static int redact_object(json_t *obj, const esp_option *opts)
{
    int rc = 0;
    if (!json_is_object(obj) || opts == NULL || !walkable(opts))
        return 0;
    for (const esp_option *o = opts; o->key != NULL && rc == 0; o = opt_next(opts, o)) {
        json_t *v = json_object_get(obj, o->key);
        if (v == NULL)
            continue;
        if (o->flags & ESP_OPT_SECRET) {
            if (json_object_set_new(obj, o->key, json_string(ESG_SCHEMA_REDACTED)) != 0)
                rc = ESP_ENOMEM;
        } else if (o->type == ESP_OPT_OBJECT) {
            rc = redact_object(v, o->children);
        } else if (o->type == ESP_OPT_LIST || o->type == ESP_OPT_MAP) {
            rc = redact_items(v, o);
        }
    }
    return rc;
}

int esg_schema_redact(const json_t *value, const esp_option *options, json_t **out)
{
    int rc;
    json_t *copy = json_deep_copy(value);

    *out = NULL;
    if (copy == NULL)
        return ESP_ENOMEM;
    rc = redact_object(copy, options);
    if (rc != 0)
        json_decref(copy);
    else
        *out = copy;
    return rc;
}

/* ---- declaration checks ---------------------------------------------------------------------- */

typedef struct dstate {
    const char *owner;
    esg_config_errors *errors;
    esg_buf path;
    int failed;
    int oom;
} dstate;

/*
 * Reports a declaration error: `<owner>: option "<path>": <message>`. Errors about a whole array
 * (`array` set: entry size, length, depth) name the option that holds the array, or only the
 * owner for the top-level array.
 */
static void vderr(dstate *ds, int array, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vderr(dstate *ds, int array, const char *fmt, va_list ap)
{
    esg_buf msg = ESG_BUF_INIT;
    const char *owner = ds->owner ? ds->owner : "";
    const char *sep = ds->owner ? ": " : "";
    int rc;

    ds->failed = 1;
    rc = esg_buf_vprintf(&msg, fmt, ap);
    if (rc == 0 && array && ds->path.len == 0)
        rc = esg_config_errors_add(ds->errors, NULL, 0, 0, "%s%s%s", owner, sep, msg.data);
    else if (rc == 0)
        rc = esg_config_errors_add(ds->errors, NULL, 0, 0, "%s%soption \"%s\": %s", owner, sep,
                                   ds->path.data ? ds->path.data : "", msg.data);
    if (rc != 0)
        ds->oom = 1;
    esg_buf_free(&msg);
}

static void derr(dstate *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void derr_array(dstate *ds, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void derr(dstate *ds, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vderr(ds, 0, fmt, ap);
    va_end(ap);
}

static void derr_array(dstate *ds, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vderr(ds, 1, fmt, ap);
    va_end(ap);
}

static int valid_key_name(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 64)
        return 0;
    if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int check_array(dstate *ds, const esp_option *opts, int depth);

static void check_bounds_decl(dstate *ds, const esp_option *o)
{
    switch (o->type) {
    case ESP_OPT_BOOL:
    case ESP_OPT_ENUM:
    case ESP_OPT_OBJECT:
    case ESP_OPT_ANY:
        if (bounded(o))
            derr(ds, "min and max mean nothing for a %s; leave them 0",
                 esg_schema_type_name(o->type));
        return;
    default:
        break;
    }
    if (!bounded(o))
        return;
    if (o->min > o->max)
        derr(ds, "min %lld is greater than max %lld (use INT64_MAX for no upper bound)",
             (long long)o->min, (long long)o->max);
    if (o->type != ESP_OPT_INT && o->min < 0)
        derr(ds, "min %lld is negative, which a %s never is", (long long)o->min,
             esg_schema_type_name(o->type));
}

static void check_choices(dstate *ds, const esp_option *o, int is_enum)
{
    size_t n = count_choices(o->choices);
    if (!is_enum) {
        if (o->choices != NULL)
            derr(ds, "choices are set but the option is not an enum (nor a list or map of enum)");
        return;
    }
    if (n == 0) {
        derr(ds, "an enum needs a non-empty, NULL-terminated choices list");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (o->choices[i][0] == '\0' || !esg_utf8_valid(o->choices[i], strlen(o->choices[i])))
            derr(ds, "choice %zu is empty or not UTF-8 text", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->choices[i], o->choices[j]) == 0)
                derr(ds, "choice \"%s\" is listed twice", o->choices[i]);
    }
}

static void check_default(dstate *ds, const esp_option *o)
{
    esg_config_errors scratch;
    json_t *v = NULL;
    int rc;

    if (o->default_text == NULL)
        return;
    if (o->flags & ESP_OPT_REQUIRED) {
        derr(ds, "is required and has a default; drop one of them");
        return;
    }
    if (o->type == ESP_OPT_OBJECT) {
        derr(ds, "an object takes its defaults from its children; default_text must be NULL");
        return;
    }
    esg_config_errors_init(&scratch);
    rc = default_value(o, o->type, NULL, ds->path.data ? ds->path.data : "", &scratch, &v);
    json_decref(v);
    if (rc == ESP_ENOMEM) {
        ds->oom = 1;
    } else if (rc != 0) {
        if (o->flags & ESP_OPT_SECRET)
            derr(ds, "its default is invalid (%s)",
                 scratch.count > 0 ? scratch.items[0].message : "no detail");
        else
            derr(ds, "its default \"%s\" is invalid (%s)", o->default_text,
                 scratch.count > 0 ? scratch.items[0].message : "no detail");
    }
    esg_config_errors_free(&scratch);
}

static void check_option(dstate *ds, const esp_option *o, int depth)
{
    int container = o->type == ESP_OPT_LIST || o->type == ESP_OPT_MAP;
    int object_items = container && o->item_type == ESP_OPT_OBJECT;

    if (o->type < ESP_OPT_STRING || o->type > ESP_OPT_URL) {
        derr(ds, "unknown type %u", (unsigned)o->type);
        return;
    }
    if (o->flags & ~(uint32_t)(ESP_OPT_REQUIRED | ESP_OPT_SECRET))
        derr(ds, "unknown flags 0x%x",
             (unsigned)(o->flags & ~(uint32_t)(ESP_OPT_REQUIRED | ESP_OPT_SECRET)));
    if (container) {
        if (o->item_type < ESP_OPT_STRING || o->item_type > ESP_OPT_URL ||
            o->item_type == ESP_OPT_LIST || o->item_type == ESP_OPT_MAP)
            derr(ds, "a %s needs an item_type other than list or map (got %u)",
                 esg_schema_type_name(o->type), (unsigned)o->item_type);
    } else if (o->item_type != 0) {
        derr(ds, "item_type is set but the option is not a list or map");
    }
    check_choices(ds, o, o->type == ESP_OPT_ENUM || (container && o->item_type == ESP_OPT_ENUM));
    check_bounds_decl(ds, o);
    if (o->type == ESP_OPT_OBJECT || object_items) {
        if (o->children == NULL)
            derr(ds, "an object needs children (an option array, possibly empty)");
        else if (check_array(ds, o->children, depth + 1) == ESP_ENOMEM)
            ds->oom = 1;
    } else if (o->children != NULL) {
        derr(ds, "children are set but the option is not an object (nor a list or map of "
                 "objects)");
    }
    check_default(ds, o);
}

static int check_array(dstate *ds, const esp_option *opts, int depth)
{
    size_t count = 0;
    size_t parent_len = ds->path.len;

    if (opts == NULL || opts->key == NULL)
        return 0;
    if (depth > MAX_DECL_DEPTH) {
        derr_array(ds,
                   "options are nested deeper than %d levels (do children point back to a parent?)",
                   MAX_DECL_DEPTH);
        return 0;
    }
    if (!walkable(opts)) {
        derr_array(ds, "entries have size %u; set .size = sizeof(esp_option) (%zu)",
                   (unsigned)opts->size, sizeof(esp_option));
        return 0;
    }
    for (const esp_option *o = opts; o->key != NULL; o = opt_next(opts, o)) {
        if (++count > MAX_DECL_ENTRIES) {
            derr_array(ds, "more than %d options in one array (is the {0} terminator missing?)",
                       MAX_DECL_ENTRIES);
            break;
        }
        if (parent_len > 0 && esg_buf_putc(&ds->path, '.') != 0)
            ds->oom = 1;
        if (esg_buf_puts(&ds->path, o->key) != 0)
            ds->oom = 1;
        if (!valid_key_name(o->key))
            derr(ds, "the key is not a valid name ([A-Za-z_][A-Za-z0-9_-]{0,63})");
        for (const esp_option *p = opts; p != o; p = opt_next(opts, p))
            if (strcmp(p->key, o->key) == 0) {
                derr(ds, "the key is declared twice");
                break;
            }
        check_option(ds, o, depth);
        ds->path.len = parent_len;
        if (ds->path.data != NULL)
            ds->path.data[parent_len] = '\0';
    }
    return ds->oom ? ESP_ENOMEM : 0;
}

int esg_schema_check_options(const esp_option *options, const char *owner,
                             esg_config_errors *errors)
{
    int rc;
    dstate ds;

    memset(&ds, 0, sizeof(ds));
    ds.owner = owner;
    ds.errors = errors;
    rc = check_array(&ds, options, 0);
    if (rc == 0)
        rc = ds.oom ? ESP_ENOMEM : ds.failed ? ESP_ECONFIG : 0;
    esg_buf_free(&ds.path);
    return rc;
}

/* ---- Markdown -------------------------------------------------------------------------------- */

/*
 * Appends text for a table cell: `|` escaped and line breaks turned into spaces. Outside code
 * spans (`code` 0) `<` and `>` become entities too, or renderers take "<name>" for an HTML tag
 * and drop it.
 */
static int md_cell(esg_buf *out, const char *s, int code)
{
    int rc = 0;
    for (; s != NULL && *s != '\0' && rc == 0; s++) {
        if (*s == '|')
            rc = esg_buf_puts(out, "\\|");
        else if (*s == '\n' || *s == '\r')
            rc = esg_buf_putc(out, ' ');
        else if (!code && *s == '<')
            rc = esg_buf_puts(out, "&lt;");
        else if (!code && *s == '>')
            rc = esg_buf_puts(out, "&gt;");
        else
            rc = esg_buf_putc(out, *s);
    }
    return rc;
}

/* Appends `s` as inline code; a backtick inside needs a longer fence. */
static int md_code(esg_buf *out, const char *s)
{
    const char *fence = strchr(s, '`') ? "`` " : "`";
    const char *close = strchr(s, '`') ? " ``" : "`";
    int rc = esg_buf_puts(out, fence);
    if (rc == 0)
        rc = md_cell(out, s, 1);
    if (rc == 0)
        rc = esg_buf_puts(out, close);
    return rc;
}

static int md_choices(esg_buf *out, const char *const *choices)
{
    int rc = 0;
    for (size_t i = 0; choices != NULL && choices[i] != NULL && rc == 0; i++) {
        rc = esg_buf_puts(out, i ? ", " : ": ");
        if (rc == 0)
            rc = md_code(out, choices[i]);
    }
    return rc;
}

static int md_type(esg_buf *out, const esp_option *o)
{
    int rc;
    if (o->type == ESP_OPT_LIST || o->type == ESP_OPT_MAP) {
        rc = esg_buf_printf(out, "%s of %s", o->type == ESP_OPT_LIST ? "list" : "map",
                            esg_schema_type_name(o->item_type));
        if (rc == 0 && o->item_type == ESP_OPT_ENUM)
            rc = md_choices(out, o->choices);
        return rc;
    }
    rc = esg_buf_puts(out, esg_schema_type_name(o->type));
    if (rc == 0 && o->type == ESP_OPT_ENUM)
        rc = md_choices(out, o->choices);
    return rc;
}

static int md_bounds(esg_buf *out, const esp_option *o)
{
    int rc = 0;
    const char *prefix = "", *suffix = "";
    vstate fmt;

    if (!bounded(o))
        return 0;
    switch (o->type) {
    case ESP_OPT_STRING:
    case ESP_OPT_PATH:
    case ESP_OPT_URL:
        prefix = "length ";
        suffix = " bytes";
        break;
    case ESP_OPT_LIST:
        suffix = " items";
        break;
    case ESP_OPT_MAP:
        suffix = " entries";
        break;
    default:
        break;
    }
    memset(&fmt, 0, sizeof(fmt));
    rc = esg_buf_puts(out, prefix);
    if (rc == 0 && o->max == INT64_MAX) {
        rc = esg_buf_puts(out, "at least ");
        format_bound(&fmt, out, o->type, o->min);
    } else if (rc == 0) {
        format_bound(&fmt, out, o->type, o->min);
        rc = esg_buf_puts(out, " to ");
        format_bound(&fmt, out, o->type, o->max);
    }
    if (rc == 0)
        rc = esg_buf_puts(out, suffix);
    return rc != 0 || fmt.oom ? ESP_ENOMEM : 0;
}

static int md_rows(esg_buf *out, const esp_option *opts, esg_buf *key, int skip_objects, int depth)
{
    int rc = 0;
    size_t base = key->len;

    if (opts == NULL || opts->key == NULL || !walkable(opts) || depth > MAX_DECL_DEPTH)
        return 0;
    for (const esp_option *o = opts; o->key != NULL && rc == 0; o = opt_next(opts, o)) {
        key->len = base;
        if (key->data != NULL)
            key->data[base] = '\0';
        if (skip_objects && o->type == ESP_OPT_OBJECT)
            continue;
        rc = esg_buf_puts(key, o->key);
        if (rc == 0)
            rc = esg_buf_puts(out, "| ");
        if (rc == 0)
            rc = md_code(out, key->data);
        if (rc == 0)
            rc = esg_buf_puts(out, " | ");
        if (rc == 0)
            rc = md_type(out, o);
        if (rc == 0)
            rc = esg_buf_puts(out, " | ");
        if (rc == 0 && o->default_text != NULL)
            rc = md_code(out, o->default_text);
        if (rc == 0)
            rc = esg_buf_printf(out, " | %s%s%s | ", o->flags & ESP_OPT_REQUIRED ? "required" : "",
                                (o->flags & ESP_OPT_REQUIRED) && (o->flags & ESP_OPT_SECRET) ? ", "
                                                                                             : "",
                                o->flags & ESP_OPT_SECRET ? "secret" : "");
        if (rc == 0)
            rc = md_bounds(out, o);
        if (rc == 0)
            rc = esg_buf_puts(out, " | ");
        if (rc == 0)
            rc = md_cell(out, o->help, 0);
        if (rc == 0)
            rc = esg_buf_puts(out, " |\n");
        if (rc != 0 || o->children == NULL)
            continue;
        if (o->type == ESP_OPT_OBJECT)
            rc = esg_buf_putc(key, '.');
        else if (o->type == ESP_OPT_LIST && o->item_type == ESP_OPT_OBJECT)
            rc = esg_buf_puts(key, "[].");
        else if (o->type == ESP_OPT_MAP && o->item_type == ESP_OPT_OBJECT)
            rc = esg_buf_puts(key, ".<name>.");
        else
            continue;
        if (rc == 0)
            rc = md_rows(out, o->children, key, 0, depth + 1);
    }
    key->len = base;
    if (key->data != NULL)
        key->data[base] = '\0';
    return rc;
}

int esg_schema_markdown(const esp_option *options, const char *prefix, int skip_objects,
                        esg_buf *out)
{
    int rc;
    esg_buf key = ESG_BUF_INIT;

    rc = esg_buf_puts(out, "| Key | Type | Default | Flags | Bounds | Description |\n"
                           "| --- | --- | --- | --- | --- | --- |\n");
    if (rc == 0 && prefix != NULL)
        rc = esg_buf_puts(&key, prefix);
    if (rc == 0)
        rc = md_rows(out, options, &key, skip_objects, 0);
    esg_buf_free(&key);
    return rc;
}
