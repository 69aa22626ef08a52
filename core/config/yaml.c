/*
 * YAML reader on libyaml's event API. The event API (rather than yaml_parser_load) lets us refuse
 * aliases, deep nesting and oversized documents while parsing, before any of it is built, and
 * keeps the start mark of every node.
 *
 * Nodes and strings live in a bump allocator owned by the document: a tree is freed at once and
 * its nodes are never modified, so many small allocations and their bookkeeping buy nothing.
 * Children of an open collection are collected on a pointer stack and copied into an exact-size
 * array when the collection ends.
 */
#include "config/yaml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <esignet/plugin.h>

#include "util/buf.h"
#include "util/str.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

/* One chunk of the document's bump allocator. */
typedef struct block {
    struct block *next;
    size_t used;
    size_t cap;
    _Alignas(max_align_t) unsigned char data[];
} block;

struct esg_yaml_doc {
    block *blocks;
    char *name;
    char *dir;
    const esg_yaml_node *root;
    esg_yaml_node empty_root; /* root of an empty document */
};

/* An open sequence or mapping: its node and where its children start on the pointer stack. */
typedef struct frame {
    esg_yaml_node *node;
    size_t base;
} frame;

typedef struct parse_state {
    esg_yaml_doc *doc;
    const esg_yaml_env *env;
    esg_yaml_limits lim;
    esg_config_errors *errors;
    const unsigned char *input; /* for positions of reader errors */
    size_t input_len;
    frame *frames;
    size_t depth;
    const esg_yaml_node **stack; /* children of the open collections */
    size_t stack_len;
    size_t stack_cap;
    size_t nodes;
    size_t text; /* bytes of all scalars so far */
    int documents;
    int failed; /* an error was reported; parsing goes on to find more */
} parse_state;

/* ---- allocation ------------------------------------------------------------------------------ */

static void *arena_alloc(esg_yaml_doc *doc, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    block *b = doc->blocks;

    n = (n + align - 1) & ~(align - 1);
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL)
            return NULL;
        b->next = doc->blocks;
        b->used = 0;
        b->cap = cap;
        doc->blocks = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static char *arena_strndup(esg_yaml_doc *doc, const char *s, size_t n)
{
    char *p = arena_alloc(doc, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- errors ---------------------------------------------------------------------------------- */

int esg_yaml_error(esg_config_errors *errors, const esg_yaml_node *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = esg_config_errors_vadd(errors, node ? node->file : NULL, node ? node->line : 0,
                                    node ? node->col : 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reports an error at a 0-based libyaml mark and remembers that the document is invalid. */
static int error_at(parse_state *st, yaml_mark_t mark, uint32_t col_shift, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int error_at(parse_state *st, yaml_mark_t mark, uint32_t col_shift, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    st->failed = 1;
    int rc = esg_config_errors_vadd(st->errors, st->doc->name, (uint32_t)mark.line + 1,
                                    (uint32_t)mark.column + 1 + col_shift, fmt, ap);
    va_end(ap);
    return rc;
}

/* Number of UTF-8 characters in s[0..n): the unit libyaml counts columns in. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            chars++;
    return chars;
}

/*
 * libyaml's reader reports encoding errors with a byte offset only; turn it into a line and a
 * column counted the way the scanner counts them.
 */
static int reader_error(parse_state *st, const yaml_parser_t *parser)
{
    size_t off = parser->problem_offset < st->input_len ? parser->problem_offset : st->input_len;
    size_t line_start = 0;
    yaml_mark_t mark = {0, 0, 0};

    for (size_t i = 0; i < off; i++) {
        if (st->input[i] == '\n') {
            mark.line++;
            line_start = i + 1;
        }
    }
    mark.column = utf8_chars((const char *)st->input + line_start, off - line_start);
    return error_at(st, mark, 0,
                    "invalid text: %s (the file must be UTF-8 without control "
                    "characters)",
                    parser->problem ? parser->problem : "unreadable character");
}

static int parser_error(parse_state *st, const yaml_parser_t *parser)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return ESP_ENOMEM;
    if (parser->error == YAML_READER_ERROR)
        return reader_error(st, parser);
    if (parser->context != NULL)
        return error_at(st, parser->problem_mark, 0, "YAML syntax error: %s (%s)",
                        parser->problem ? parser->problem : "unknown problem", parser->context);
    return error_at(st, parser->problem_mark, 0, "YAML syntax error: %s",
                    parser->problem ? parser->problem : "unknown problem");
}

/* ---- ${VAR} substitution --------------------------------------------------------------------- */

static const char *lookup_env(const parse_state *st, const char *name)
{
    if (st->env != NULL && st->env->lookup != NULL)
        return st->env->lookup(st->env->ud, name);
    return getenv(name);
}

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Column shift of byte `off` of a scalar value relative to the scalar's start mark. The value is
 * what libyaml produced after unescaping and folding, so offsets map to columns only when the
 * scalar is on one line and its source is exactly its value (plus the two quotes of a
 * double-quoted scalar); otherwise errors point at the scalar's start.
 */
static uint32_t value_col_shift(const yaml_event_t *ev, const char *value, size_t len, size_t off)
{
    size_t quotes = ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ? 2 : 0;
    if (ev->start_mark.line != ev->end_mark.line)
        return 0;
    if (ev->end_mark.column - ev->start_mark.column != utf8_chars(value, len) + quotes)
        return 0;
    return (uint32_t)(utf8_chars(value, off) + quotes / 2);
}

/*
 * Expands ${VAR}, ${VAR:-default} and $$ in `in` into `out`. Errors are reported at the `$`.
 * Returns 0 (also after reporting errors; st->failed is set then) or ESP_ENOMEM.
 */
static int substitute(parse_state *st, const yaml_event_t *ev, const char *in, size_t n,
                      esg_buf *out)
{
    int rc = 0;
    char name[256];
    size_t i = 0;

    while (i < n && rc == 0) {
        size_t dollar = i;
        if (in[i] != '$' || i + 1 >= n || (in[i + 1] != '$' && in[i + 1] != '{')) {
            rc = esg_buf_putc(out, in[i++]);
            continue;
        }
        if (in[i + 1] == '$') {
            rc = esg_buf_putc(out, '$');
            i += 2;
            continue;
        }
        uint32_t shift = value_col_shift(ev, in, n, dollar);
        size_t j = i + 2;
        size_t name_len = 0;
        if (j < n && is_name_start(in[j])) {
            while (j < n && is_name_char(in[j]))
                j++;
            name_len = j - (i + 2);
        }
        if (name_len == 0) {
            rc = error_at(st, ev->start_mark, shift,
                          "invalid ${...}: a variable name ([A-Za-z_][A-Za-z0-9_]*) must "
                          "follow \"${\"");
            goto done;
        }
        if (name_len >= sizeof(name)) {
            rc = error_at(st, ev->start_mark, shift, "variable name longer than %zu characters",
                          sizeof(name) - 1);
            goto done;
        }
        memcpy(name, in + i + 2, name_len);
        name[name_len] = '\0';

        const char *dflt = NULL;
        size_t dflt_len = 0;
        if (j < n && in[j] == ':' && j + 1 < n && in[j + 1] == '-') {
            j += 2;
            dflt = in + j;
            while (j < n && in[j] != '}' && in[j] != '{')
                j++;
            if (j < n && in[j] == '{') {
                rc = error_at(st, ev->start_mark, shift,
                              "nested braces in the default of ${%s} are not supported", name);
                goto done;
            }
            dflt_len = (size_t)(in + j - dflt);
        }
        if (j >= n) {
            rc = error_at(st, ev->start_mark, shift, "unterminated ${%s: missing \"}\"", name);
            goto done;
        }
        if (in[j] != '}') {
            rc =
                error_at(st, ev->start_mark, shift,
                         "invalid ${%s...}: expected \"}\" or \":-default}\" after the name", name);
            goto done;
        }
        i = j + 1;

        const char *value = lookup_env(st, name);
        if ((value == NULL || value[0] == '\0') && dflt != NULL) {
            rc = esg_buf_append(out, dflt, dflt_len);
        } else if (value == NULL) {
            rc = error_at(st, ev->start_mark, shift,
                          "environment variable %s is not set (write ${%s:-default} to give a "
                          "default)",
                          name, name);
        } else {
            rc = esg_buf_puts(out, value);
        }
    }
done:
    return rc;
}

/* ---- scalar typing (YAML 1.2 core schema) ---------------------------------------------------- */

static int is_null_text(const char *s, size_t n)
{
    return n == 0 || esg_str_eq(s, n, "~") || esg_str_eq(s, n, "null") ||
           esg_str_eq(s, n, "Null") || esg_str_eq(s, n, "NULL");
}

/* 1 true, 0 false, -1 not a boolean. */
static int bool_text(const char *s, size_t n)
{
    if (esg_str_eq(s, n, "true") || esg_str_eq(s, n, "True") || esg_str_eq(s, n, "TRUE"))
        return 1;
    if (esg_str_eq(s, n, "false") || esg_str_eq(s, n, "False") || esg_str_eq(s, n, "FALSE"))
        return 0;
    return -1;
}

static int digit_value(char c, int base)
{
    int v;
    if (c >= '0' && c <= '9')
        v = c - '0';
    else if (c >= 'a' && c <= 'f')
        v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        v = c - 'A' + 10;
    else
        return -1;
    return v < base ? v : -1;
}

/*
 * Integer forms of the core schema: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. Returns 1 and sets
 * *v, 0 when the text is no integer, -1 when it is one but does not fit in 64 bits.
 */
static int int_text(const char *s, size_t n, int64_t *v)
{
    int base = 10, neg = 0;
    size_t i = 0;
    uint64_t acc = 0, limit;

    if (n >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        base = s[1] == 'o' ? 8 : 16;
        i = 2;
    } else if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return 0;
    for (size_t k = i; k < n; k++)
        if (digit_value(s[k], base) < 0)
            return 0;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)digit_value(s[i], base);
        if (acc > (limit - d) / (unsigned)base)
            return -1;
        acc = acc * (unsigned)base + d;
    }
    if (neg)
        *v = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *v = (int64_t)acc;
    return 1;
}

static size_t skip_digits(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/*
 * Float forms of the core schema: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?,
 * [-+]?\.(inf|Inf|INF), \.(nan|NaN|NAN). Returns 1 and sets *v, or 0.
 */
static int float_text(const char *s, size_t n, double *v)
{
    size_t i = 0;
    int neg = 0;
    char tmp[128];

    if (esg_str_eq(s, n, ".nan") || esg_str_eq(s, n, ".NaN") || esg_str_eq(s, n, ".NAN")) {
        *v = NAN;
        return 1;
    }
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (esg_str_eq(s + i, n - i, ".inf") || esg_str_eq(s + i, n - i, ".Inf") ||
        esg_str_eq(s + i, n - i, ".INF")) {
        *v = neg ? -INFINITY : INFINITY;
        return 1;
    }
    if (i < n && s[i] == '.') {
        size_t e = skip_digits(s, n, i + 1);
        if (e == i + 1)
            return 0;
        i = e;
    } else {
        size_t e = skip_digits(s, n, i);
        if (e == i)
            return 0;
        i = e;
        if (i < n && s[i] == '.')
            i = skip_digits(s, n, i + 1);
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t k = i + 1;
        if (k < n && (s[k] == '-' || s[k] == '+'))
            k++;
        size_t e = skip_digits(s, n, k);
        if (e == k)
            return 0;
        i = e;
    }
    if (i != n || n >= sizeof(tmp))
        return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, NULL);
    return 1;
}

/*
 * Types `node` from its text: implicitly for plain scalars without a tag, as the tag says for
 * standard tags. Reports unknown tags and text that does not match its tag.
 */
static int type_scalar(parse_state *st, const yaml_event_t *ev, esg_yaml_node *node)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *s = node->text;
    size_t n = node->len;
    int b, r;

    node->type = ESG_YAML_STRING;
    if (tag == NULL || strcmp(tag, "!") == 0) {
        if (tag != NULL || node->style != ESG_YAML_PLAIN)
            return 0;
        if (is_null_text(s, n)) {
            node->type = ESG_YAML_NULL;
        } else if ((b = bool_text(s, n)) >= 0) {
            node->type = ESG_YAML_BOOL;
            node->b = b;
        } else if ((r = int_text(s, n, &node->i)) != 0) {
            if (r < 0)
                return error_at(st, ev->start_mark, 0, "integer does not fit in 64 bits");
            node->type = ESG_YAML_INT;
        } else if (float_text(s, n, &node->d)) {
            node->type = ESG_YAML_FLOAT;
        }
        return 0;
    }
    if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
        return error_at(st, ev->start_mark, 0,
                        "unsupported tag %s (only the standard tags !!str, "
                        "!!int, !!float, !!bool and !!null are allowed)",
                        tag);
    tag += strlen(TAG_PREFIX);
    if (strcmp(tag, "str") == 0)
        return 0;
    if (strcmp(tag, "null") == 0) {
        if (!is_null_text(s, n))
            return error_at(st, ev->start_mark, 0, "value tagged !!null is not null");
        node->type = ESG_YAML_NULL;
        return 0;
    }
    if (strcmp(tag, "bool") == 0) {
        if ((b = bool_text(s, n)) < 0)
            return error_at(st, ev->start_mark, 0, "value tagged !!bool is not true or false");
        node->type = ESG_YAML_BOOL;
        node->b = b;
        return 0;
    }
    if (strcmp(tag, "int") == 0) {
        r = int_text(s, n, &node->i);
        if (r == 0)
            return error_at(st, ev->start_mark, 0, "value tagged !!int is not an integer");
        if (r < 0)
            return error_at(st, ev->start_mark, 0, "integer does not fit in 64 bits");
        node->type = ESG_YAML_INT;
        return 0;
    }
    if (strcmp(tag, "float") == 0) {
        if (!float_text(s, n, &node->d))
            return error_at(st, ev->start_mark, 0, "value tagged !!float is not a number");
        node->type = ESG_YAML_FLOAT;
        return 0;
    }
    return error_at(st, ev->start_mark, 0, "unsupported tag !!%s on a scalar", tag);
}

/* ---- tree building --------------------------------------------------------------------------- */

static esg_yaml_node *new_node(parse_state *st, int kind, yaml_mark_t mark, int *rc)
{
    esg_yaml_node *node;

    if (++st->nodes > st->lim.max_nodes) {
        *rc = error_at(st, mark, 0, "too many nodes: the limit is %zu", st->lim.max_nodes);
        if (*rc == 0)
            *rc = ESP_ECONFIG;
        return NULL;
    }
    node = arena_alloc(st->doc, sizeof(*node));
    if (node == NULL) {
        *rc = ESP_ENOMEM;
        return NULL;
    }
    memset(node, 0, sizeof(*node));
    node->kind = (uint8_t)kind;
    node->line = (uint32_t)mark.line + 1;
    node->col = (uint32_t)mark.column + 1;
    node->file = st->doc->name;
    *rc = 0;
    return node;
}

/* 1 when the next node completed inside the innermost open collection is a mapping key. */
static int at_key(const parse_state *st)
{
    if (st->depth == 0)
        return 0;
    const frame *f = &st->frames[st->depth - 1];
    return f->node->kind == ESG_YAML_MAPPING && (st->stack_len - f->base) % 2 == 0;
}

/* Adds a finished node to the innermost open collection, or makes it the root. */
static int attach(parse_state *st, const esg_yaml_node *node)
{
    if (st->depth == 0) {
        st->doc->root = node;
        return 0;
    }
    if (st->stack_len == st->stack_cap) {
        size_t cap = st->stack_cap ? st->stack_cap * 2 : 64;
        const esg_yaml_node **p = realloc(st->stack, cap * sizeof(*p));
        if (p == NULL)
            return ESP_ENOMEM;
        st->stack = p;
        st->stack_cap = cap;
    }
    st->stack[st->stack_len++] = node;
    return 0;
}

static int check_anchor(parse_state *st, const yaml_event_t *ev, const yaml_char_t *anchor)
{
    if (anchor == NULL)
        return 0;
    return error_at(st, ev->start_mark, 0,
                    "anchors (&%s) are not allowed: write the value out in full", anchor);
}

static int on_scalar(parse_state *st, const yaml_event_t *ev)
{
    int rc;
    int key = at_key(st);
    size_t errors_before = esg_config_errors_total(st->errors);
    const char *raw = (const char *)ev->data.scalar.value;
    size_t raw_len = ev->data.scalar.length;
    esg_buf text = ESG_BUF_INIT;
    esg_yaml_node *node = new_node(st, ESG_YAML_SCALAR, ev->start_mark, &rc);

    if (node == NULL)
        goto done;
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        node->style = ESG_YAML_SINGLE_QUOTED;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        node->style = ESG_YAML_DOUBLE_QUOTED;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        node->style = ESG_YAML_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        node->style = ESG_YAML_FOLDED;
        break;
    default:
        node->style = ESG_YAML_PLAIN;
        break;
    }
    rc = check_anchor(st, ev, ev->data.scalar.anchor);
    if (rc != 0)
        goto done;
    if (raw_len > st->lim.max_scalar) {
        rc = error_at(st, ev->start_mark, 0, "scalar longer than %zu bytes", st->lim.max_scalar);
        raw_len = 0;
        goto finish;
    }
    if (!key && (node->style == ESG_YAML_PLAIN || node->style == ESG_YAML_DOUBLE_QUOTED)) {
        size_t before_substitution = esg_config_errors_total(st->errors);
        rc = substitute(st, ev, raw, raw_len, &text);
        if (rc != 0)
            goto done;
        if (esg_config_errors_total(st->errors) != before_substitution) {
            raw_len = 0;
            goto finish;
        }
        raw = text.data ? text.data : "";
        raw_len = text.len;
        if (raw_len > st->lim.max_scalar) {
            rc = error_at(st, ev->start_mark, 0, "value longer than %zu bytes after substitution",
                          st->lim.max_scalar);
            raw_len = 0;
            goto finish;
        }
    }
    if (!esg_utf8_valid(raw, raw_len)) {
        rc = error_at(st, ev->start_mark, 0,
                      "value is not valid UTF-8 text or contains a NUL character");
        raw_len = 0;
    }
finish:
    st->text += raw_len;
    if (st->text > st->lim.max_text) {
        rc = error_at(st, ev->start_mark, 0,
                      "the values of the document exceed %zu bytes in total after substitution",
                      st->lim.max_text);
        rc = rc ? rc : ESP_ECONFIG;
        goto done;
    }
    node->text = arena_strndup(st->doc, raw_len ? raw : "", raw_len);
    node->len = raw_len;
    if (node->text == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    if (rc == 0)
        rc = type_scalar(st, ev, node);
    if (rc == 0 && key && node->type != ESG_YAML_STRING &&
        esg_config_errors_total(st->errors) == errors_before)
        rc = error_at(st, ev->start_mark, 0,
                      "mapping key must be a string, not %s%s (quote it if it is meant as text)",
                      node->type == ESG_YAML_NULL  ? ""
                      : node->type == ESG_YAML_INT ? "an "
                                                   : "a ",
                      esg_yaml_type_name(node));
    if (rc == 0)
        rc = attach(st, node);
done:
    esg_buf_free(&text);
    return rc;
}

static int on_alias(parse_state *st, const yaml_event_t *ev)
{
    int rc;
    esg_yaml_node *node;

    if (at_key(st)) {
        rc =
            error_at(st, ev->start_mark, 0, "aliases (*%s) are not allowed", ev->data.alias.anchor);
        return rc ? rc : ESP_ECONFIG;
    }
    /* A null stands in for the alias so that the rest of the file is still checked. */
    node = new_node(st, ESG_YAML_SCALAR, ev->start_mark, &rc);
    if (node == NULL)
        return rc;
    node->type = ESG_YAML_NULL;
    node->text = "";
    rc = error_at(st, ev->start_mark, 0,
                  "aliases (*%s) are not allowed: write the value out in full",
                  ev->data.alias.anchor);
    if (rc == 0)
        rc = attach(st, node);
    return rc;
}

static int on_collection_start(parse_state *st, const yaml_event_t *ev, int kind)
{
    int rc;
    const yaml_char_t *anchor, *tag;
    const char *std_tag = kind == ESG_YAML_MAPPING ? TAG_PREFIX "map" : TAG_PREFIX "seq";
    esg_yaml_node *node;

    if (at_key(st)) {
        rc = error_at(st, ev->start_mark, 0, "mapping keys must be plain strings, not a %s",
                      kind == ESG_YAML_MAPPING ? "mapping" : "sequence");
        return rc ? rc : ESP_ECONFIG;
    }
    if (st->depth >= st->lim.max_depth) {
        rc = error_at(st, ev->start_mark, 0, "nesting deeper than %zu levels", st->lim.max_depth);
        return rc ? rc : ESP_ECONFIG;
    }
    node = new_node(st, kind, ev->start_mark, &rc);
    if (node == NULL)
        return rc;
    if (kind == ESG_YAML_MAPPING) {
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
    } else {
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
    }
    rc = check_anchor(st, ev, anchor);
    if (rc == 0 && tag != NULL && strcmp((const char *)tag, "!") != 0 &&
        strcmp((const char *)tag, std_tag) != 0)
        rc = error_at(st, ev->start_mark, 0, "unsupported tag %s on a %s", tag,
                      kind == ESG_YAML_MAPPING ? "mapping" : "sequence");
    if (rc != 0)
        return rc;
    st->frames[st->depth].node = node;
    st->frames[st->depth].base = st->stack_len;
    st->depth++;
    return 0;
}

typedef struct key_ref {
    const esg_yaml_node *key;
    size_t index;
} key_ref;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
    int c = memcmp(x->key->text, y->key->text, n);
    if (c != 0)
        return c;
    if (x->key->len != y->key->len)
        return x->key->len < y->key->len ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Reports keys that occur twice. Sorting (rather than comparing every pair) keeps a mapping with
 * tens of thousands of keys, as a fuzzer makes, from taking quadratic time.
 */
static int check_duplicates(parse_state *st, const esg_yaml_node *const *keys, size_t n)
{
    int rc = 0;
    key_ref *refs;

    if (n < 2)
        return 0;
    refs = malloc(n * sizeof(*refs));
    if (refs == NULL)
        return ESP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        refs[i].key = keys[i];
        refs[i].index = i;
    }
    qsort(refs, n, sizeof(*refs), key_ref_cmp);
    size_t first = 0;
    for (size_t i = 1; i < n && rc == 0; i++) {
        const esg_yaml_node *a = refs[first].key, *b = refs[i].key;
        if (a->len != b->len || memcmp(a->text, b->text, a->len) != 0) {
            first = i;
            continue;
        }
        esg_buf msg = ESG_BUF_INIT;
        rc = esg_config_quote(&msg, b->text, b->len);
        if (rc == 0) {
            st->failed = 1;
            rc = esg_yaml_error(st->errors, b,
                                "duplicate key %s (first given at line %u, column %u)", msg.data,
                                (unsigned)a->line, (unsigned)a->col);
        }
        esg_buf_free(&msg);
    }
    free(refs);
    return rc;
}

static int on_collection_end(parse_state *st)
{
    int rc = 0;
    frame *f = &st->frames[st->depth - 1];
    esg_yaml_node *node = f->node;
    size_t n = st->stack_len - f->base;
    /* The stack is still unallocated when no collection had children yet. */
    const esg_yaml_node **src = n > 0 ? st->stack + f->base : NULL;

    if (node->kind == ESG_YAML_MAPPING) {
        const esg_yaml_node **keys = arena_alloc(st->doc, (n / 2 + 1) * sizeof(*keys));
        const esg_yaml_node **values = arena_alloc(st->doc, (n / 2 + 1) * sizeof(*values));
        if (keys == NULL || values == NULL)
            return ESP_ENOMEM;
        for (size_t i = 0; i < n / 2; i++) {
            keys[i] = src[2 * i];
            values[i] = src[2 * i + 1];
        }
        node->count = n / 2;
        node->keys = keys;
        node->items = values;
        rc = check_duplicates(st, keys, n / 2);
    } else {
        const esg_yaml_node **items = arena_alloc(st->doc, (n + 1) * sizeof(*items));
        if (items == NULL)
            return ESP_ENOMEM;
        if (n > 0)
            memcpy(items, src, n * sizeof(*items));
        node->count = n;
        node->items = items;
    }
    if (rc != 0)
        return rc;
    st->stack_len = f->base;
    st->depth--;
    return attach(st, node);
}

static int on_event(parse_state *st, const yaml_event_t *ev, int *finished)
{
    int rc = 0;
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        break;
    case YAML_DOCUMENT_START_EVENT:
        if (++st->documents > 1) {
            rc = error_at(st, ev->start_mark, 0,
                          "more than one YAML document: the configuration is one document");
            if (rc == 0)
                rc = ESP_ECONFIG;
        }
        break;
    case YAML_STREAM_END_EVENT:
        *finished = 1;
        break;
    case YAML_ALIAS_EVENT:
        rc = on_alias(st, ev);
        break;
    case YAML_SCALAR_EVENT:
        rc = on_scalar(st, ev);
        break;
    case YAML_SEQUENCE_START_EVENT:
        rc = on_collection_start(st, ev, ESG_YAML_SEQUENCE);
        break;
    case YAML_MAPPING_START_EVENT:
        rc = on_collection_start(st, ev, ESG_YAML_MAPPING);
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        rc = on_collection_end(st);
        break;
    }
    return rc;
}

static void set_limits(esg_yaml_limits *lim, const esg_yaml_opts *opts)
{
    const esg_yaml_limits *in = opts ? opts->limits : NULL;
    lim->max_bytes = in && in->max_bytes ? in->max_bytes : ESG_YAML_MAX_BYTES;
    lim->max_depth = in && in->max_depth ? in->max_depth : ESG_YAML_MAX_DEPTH;
    lim->max_nodes = in && in->max_nodes ? in->max_nodes : ESG_YAML_MAX_NODES;
    lim->max_scalar = in && in->max_scalar ? in->max_scalar : ESG_YAML_MAX_SCALAR;
    lim->max_text = in && in->max_text ? in->max_text : ESG_YAML_MAX_TEXT;
}

static esg_yaml_doc *doc_new(const char *name)
{
    esg_yaml_doc *doc = calloc(1, sizeof(*doc));
    if (doc == NULL)
        return NULL;
    doc->name = strdup(name != NULL ? name : "<string>");
    if (doc->name == NULL) {
        free(doc);
        return NULL;
    }
    doc->empty_root.kind = ESG_YAML_SCALAR;
    doc->empty_root.type = ESG_YAML_NULL;
    doc->empty_root.line = 1;
    doc->empty_root.col = 1;
    doc->empty_root.file = doc->name;
    doc->empty_root.text = "";
    return doc;
}

/* Parses `len` bytes into `doc`. Returns 0, ESP_ECONFIG (errors reported) or ESP_ENOMEM. */
static int parse(esg_yaml_doc *doc, const unsigned char *data, size_t len,
                 const esg_yaml_opts *opts, esg_config_errors *errors)
{
    int rc = 0, finished = 0, have_event = 0;
    yaml_parser_t parser;
    yaml_event_t ev;
    parse_state st;

    memset(&st, 0, sizeof(st));
    st.doc = doc;
    st.env = opts ? opts->env : NULL;
    st.errors = errors;
    set_limits(&st.lim, opts);

    if (len > st.lim.max_bytes) {
        rc = esg_config_errors_add(errors, doc->name, 0, 0,
                                   "file is larger than the limit of %zu bytes", st.lim.max_bytes);
        return rc ? rc : ESP_ECONFIG;
    }
    /* A UTF-8 byte order mark is not content; skipping it keeps columns of the first line right. */
    if (len >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf) {
        data += 3;
        len -= 3;
    }
    st.input = data;
    st.input_len = len;
    st.frames = calloc(st.lim.max_depth + 1, sizeof(*st.frames));
    if (st.frames == NULL)
        return ESP_ENOMEM;
    if (!yaml_parser_initialize(&parser)) {
        free(st.frames);
        return ESP_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, data, len);
    /* Forcing UTF-8 makes libyaml reject UTF-16 input instead of detecting it from a BOM. */
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    while (!finished) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = parser_error(&st, &parser);
            if (rc == 0)
                rc = ESP_ECONFIG;
            goto done;
        }
        have_event = 1;
        rc = on_event(&st, &ev, &finished);
        if (rc != 0)
            goto done;
        yaml_event_delete(&ev);
        have_event = 0;
    }
    if (doc->root == NULL)
        doc->root = &doc->empty_root;
    if (st.failed)
        rc = ESP_ECONFIG;
done:
    if (have_event)
        yaml_event_delete(&ev);
    yaml_parser_delete(&parser);
    free(st.stack);
    free(st.frames);
    return rc;
}

int esg_yaml_load_string(const char *name, const char *text, size_t len, const esg_yaml_opts *opts,
                         esg_yaml_doc **out, esg_config_errors *errors)
{
    int rc;
    esg_yaml_doc *doc = doc_new(name);

    *out = NULL;
    if (doc == NULL)
        return ESP_ENOMEM;
    if (opts != NULL && opts->base_dir != NULL) {
        doc->dir = strdup(opts->base_dir);
        if (doc->dir == NULL) {
            rc = ESP_ENOMEM;
            goto done;
        }
    }
    rc = parse(doc, (const unsigned char *)(text ? text : ""), text ? len : 0, opts, errors);
done:
    if (rc != 0)
        esg_yaml_free(doc);
    else
        *out = doc;
    return rc;
}

/* Absolute directory of `path`, or its directory as written when it cannot be resolved. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir, *real;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = esg_strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return NULL;
    real = realpath(dir, NULL);
    if (real == NULL)
        return dir;
    free(dir);
    return real;
}

/* Reads at most `max` + 1 bytes, so that an oversized file is detected without reading it all. */
static int read_file(FILE *f, size_t max, esg_buf *out)
{
    int rc;
    size_t n;

    do {
        rc = esg_buf_reserve(out, 65536);
        if (rc != 0)
            return rc;
        size_t room = out->cap - out->len - 1;
        if (room > max + 1 - out->len)
            room = max + 1 - out->len;
        n = fread(out->data + out->len, 1, room, f);
        out->len += n;
        out->data[out->len] = '\0';
    } while (n > 0 && out->len <= max);
    return ferror(f) ? ESP_EIO : 0;
}

int esg_yaml_load_file(const char *path, const esg_yaml_opts *opts, esg_yaml_doc **out,
                       esg_config_errors *errors)
{
    int rc;
    esg_yaml_limits lim;
    esg_buf data = ESG_BUF_INIT;
    esg_yaml_doc *doc = NULL;
    FILE *f = NULL;

    *out = NULL;
    set_limits(&lim, opts);
    f = fopen(path, "rb");
    if (f == NULL) {
        rc = esg_config_errors_add(errors, path, 0, 0, "cannot open: %s", strerror(errno));
        rc = rc ? rc : ESP_EIO;
        goto done;
    }
    errno = 0;
    rc = read_file(f, lim.max_bytes, &data);
    if (rc == ESP_EIO) {
        int err = errno;
        rc =
            esg_config_errors_add(errors, path, 0, 0, "cannot read: %s", strerror(err ? err : EIO));
        rc = rc ? rc : ESP_EIO;
    }
    if (rc != 0)
        goto done;
    doc = doc_new(path);
    if (doc == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    doc->dir = dir_of(path);
    if (doc->dir == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    rc = parse(doc, (const unsigned char *)(data.data ? data.data : ""), data.len, opts, errors);
done:
    if (f != NULL)
        fclose(f);
    esg_buf_free(&data);
    if (rc != 0)
        esg_yaml_free(doc);
    else
        *out = doc;
    return rc;
}

void esg_yaml_free(esg_yaml_doc *doc)
{
    if (doc == NULL)
        return;
    block *b = doc->blocks;
    while (b != NULL) {
        block *next = b->next;
        free(b);
        b = next;
    }
    free(doc->name);
    free(doc->dir);
    free(doc);
}

const esg_yaml_node *esg_yaml_root(const esg_yaml_doc *doc)
{
    return doc->root;
}

const char *esg_yaml_name(const esg_yaml_doc *doc)
{
    return doc->name;
}

const char *esg_yaml_dir(const esg_yaml_doc *doc)
{
    return doc->dir;
}

const esg_yaml_node *esg_yaml_get(const esg_yaml_node *map, const char *key)
{
    if (map == NULL || map->kind != ESG_YAML_MAPPING)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i]->text, key) == 0)
            return map->items[i];
    return NULL;
}

const char *esg_yaml_type_name(const esg_yaml_node *node)
{
    if (node == NULL)
        return "nothing";
    if (node->kind == ESG_YAML_MAPPING)
        return "mapping";
    if (node->kind == ESG_YAML_SEQUENCE)
        return "sequence";
    switch (node->type) {
    case ESG_YAML_NULL:
        return "null";
    case ESG_YAML_BOOL:
        return "boolean";
    case ESG_YAML_INT:
        return "integer";
    case ESG_YAML_FLOAT:
        return "float";
    default:
        return "string";
    }
}

static int to_json(const esg_yaml_node *node, json_t **out, esg_config_errors *errors)
{
    int rc = 0;
    json_t *v = NULL;

    if (node->kind == ESG_YAML_SCALAR) {
        switch (node->type) {
        case ESG_YAML_NULL:
            v = json_null();
            break;
        case ESG_YAML_BOOL:
            v = json_boolean(node->b);
            break;
        case ESG_YAML_INT:
            v = json_integer((json_int_t)node->i);
            break;
        case ESG_YAML_FLOAT:
            if (isnan(node->d) || isinf(node->d)) {
                rc = esg_yaml_error(errors, node, "JSON cannot represent infinity or NaN");
                rc = rc ? rc : ESP_ECONFIG;
                goto done;
            }
            v = json_real(node->d);
            break;
        default:
            v = json_stringn(node->text, node->len);
            break;
        }
        if (v == NULL)
            rc = ESP_ENOMEM;
        goto done;
    }
    v = node->kind == ESG_YAML_MAPPING ? json_object() : json_array();
    if (v == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < node->count; i++) {
        json_t *item = NULL;
        int r = to_json(node->items[i], &item, errors);
        if (r == ESP_ECONFIG) {
            /* Keep converting the siblings so that every bad value is reported. */
            rc = ESP_ECONFIG;
            continue;
        }
        if (r != 0) {
            rc = r;
            goto done;
        }
        if (node->kind == ESG_YAML_MAPPING)
            r = json_object_setn_new(v, node->keys[i]->text, node->keys[i]->len, item);
        else
            r = json_array_append_new(v, item);
        if (r != 0) {
            rc = ESP_ENOMEM;
            goto done;
        }
    }
done:
    if (rc != 0) {
        json_decref(v);
        v = NULL;
    }
    *out = v;
    return rc;
}

int esg_yaml_to_json(const esg_yaml_node *node, json_t **out, esg_config_errors *errors)
{
    *out = NULL;
    if (node == NULL)
        return ESP_EINVAL;
    return to_json(node, out, errors);
}
