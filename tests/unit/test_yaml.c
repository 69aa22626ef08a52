/* Unit tests of core/config/yaml.c: typing, positions, ${VAR} substitution, limits, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/errors.h"
#include "config/yaml.h"

/* Environment for tests: pairs of name and value, ending with NULL. */
static const char *test_vars[] = {
    "PORT",   "9000", "EMPTY", "",    "HOST", "id.example.org",
    "BOOL",   "true", "SPACE", "a b", "BAD",  "\xff",
    "DOLLAR", "x$y",  "NUM",   "42",  NULL,
};

static const char *test_lookup(void *ud, const char *name)
{
    const char **kv = ud;
    for (; kv[0] != NULL; kv += 2)
        if (strcmp(kv[0], name) == 0)
            return kv[1];
    return NULL;
}

static const esg_yaml_env test_env = {test_lookup, (void *)test_vars};

typedef struct loaded {
    esg_yaml_doc *doc;
    esg_config_errors errors;
    esg_buf text; /* formatted errors */
    int rc;
} loaded;

static void load_with(loaded *l, const char *yaml, size_t len, const esg_yaml_limits *limits)
{
    esg_yaml_opts opts = {&test_env, limits, NULL};
    memset(l, 0, sizeof(*l));
    esg_config_errors_init(&l->errors);
    l->rc = esg_yaml_load_string("t.yaml", yaml, len, &opts, &l->doc, &l->errors);
    assert_int_equal(esg_config_errors_format(&l->errors, &l->text), 0);
    if (l->rc == 0)
        assert_non_null(l->doc);
    else
        assert_null(l->doc);
}

static void load(loaded *l, const char *yaml)
{
    load_with(l, yaml, strlen(yaml), NULL);
}

static const char *errors_of(const loaded *l)
{
    return l->text.data ? l->text.data : "";
}

static void unload(loaded *l)
{
    esg_yaml_free(l->doc);
    esg_config_errors_free(&l->errors);
    esg_buf_free(&l->text);
}

/* Loads `yaml`, expects it to fail with exactly the error lines `expected`. */
static void expect_errors(const char *yaml, const char *expected)
{
    loaded l;
    load(&l, yaml);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l), expected);
    unload(&l);
}

/* Loads "v: <text>" and returns the value node's copy for inspection. */
static esg_yaml_node value_of(const char *yaml)
{
    loaded l;
    load(&l, yaml);
    if (l.rc != 0)
        fail_msg("unexpected errors: %s", errors_of(&l));
    const esg_yaml_node *v = esg_yaml_get(esg_yaml_root(l.doc), "v");
    assert_non_null(v);
    esg_yaml_node copy = *v;
    static char text[256];
    snprintf(text, sizeof(text), "%s", v->text ? v->text : "");
    copy.text = text;
    copy.items = NULL;
    copy.keys = NULL;
    copy.file = NULL;
    unload(&l);
    return copy;
}

static void expect_type(const char *yaml, int type)
{
    esg_yaml_node n = value_of(yaml);
    if (n.kind != ESG_YAML_SCALAR || n.type != type)
        fail_msg("%s: type %d, expected %d", yaml, n.type, type);
}

static void test_core_schema_typing(void **state)
{
    (void)state;
    esg_yaml_node n;

    n = value_of("v: 8088");
    assert_int_equal(n.type, ESG_YAML_INT);
    assert_int_equal(n.i, 8088);
    n = value_of("v: \"8088\"");
    assert_int_equal(n.type, ESG_YAML_STRING);
    assert_string_equal(n.text, "8088");
    assert_int_equal(n.style, ESG_YAML_DOUBLE_QUOTED);
    n = value_of("v: '8088'");
    assert_int_equal(n.type, ESG_YAML_STRING);
    assert_int_equal(n.style, ESG_YAML_SINGLE_QUOTED);
    n = value_of("v: -12");
    assert_int_equal(n.i, -12);
    n = value_of("v: +7");
    assert_int_equal(n.i, 7);
    n = value_of("v: 0x1F");
    assert_int_equal(n.i, 31);
    n = value_of("v: 0o17");
    assert_int_equal(n.i, 15);
    /* The core schema has no leading-zero octal: 010 is ten. */
    n = value_of("v: 010");
    assert_int_equal(n.i, 10);
    n = value_of("v: 9223372036854775807");
    assert_int_equal(n.i, INT64_MAX);
    n = value_of("v: -9223372036854775808");
    assert_true(n.i == INT64_MIN);

    const char *trues[] = {"v: true", "v: True", "v: TRUE"};
    for (size_t i = 0; i < 3; i++) {
        n = value_of(trues[i]);
        assert_int_equal(n.type, ESG_YAML_BOOL);
        assert_int_equal(n.b, 1);
    }
    n = value_of("v: false");
    assert_int_equal(n.type, ESG_YAML_BOOL);
    assert_int_equal(n.b, 0);

    /* YAML 1.1 booleans are plain strings here. */
    const char *words[] = {"v: yes", "v: no", "v: on",  "v: off",
                           "v: y",   "v: n",  "v: Yes", "v: tRUE"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        expect_type(words[i], ESG_YAML_STRING);

    const char *nulls[] = {"v:", "v: ~", "v: null", "v: Null", "v: NULL", "v: !!null ''"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        expect_type(nulls[i], ESG_YAML_NULL);
    expect_type("v: \"null\"", ESG_YAML_STRING);
    expect_type("v: ''", ESG_YAML_STRING);

    n = value_of("v: 1.5");
    assert_int_equal(n.type, ESG_YAML_FLOAT);
    assert_true(n.d == 1.5);
    expect_type("v: .5", ESG_YAML_FLOAT);
    expect_type("v: 1e3", ESG_YAML_FLOAT);
    expect_type("v: -.inf", ESG_YAML_FLOAT);
    expect_type("v: .NaN", ESG_YAML_FLOAT);
    expect_type("v: 1.2.3", ESG_YAML_STRING);
    expect_type("v: 0x", ESG_YAML_STRING);
    expect_type("v: 12abc", ESG_YAML_STRING);
    expect_type("v: 30s", ESG_YAML_STRING);

    /* Block scalars are strings and keep their text. */
    n = value_of("v: |\n  two\n  lines\n");
    assert_int_equal(n.type, ESG_YAML_STRING);
    assert_int_equal(n.style, ESG_YAML_LITERAL);
    assert_string_equal(n.text, "two\nlines\n");
    n = value_of("v: >\n  folded\n  text\n");
    assert_int_equal(n.style, ESG_YAML_FOLDED);
    assert_string_equal(n.text, "folded text\n");
}

static void test_tags(void **state)
{
    (void)state;
    esg_yaml_node n = value_of("v: !!str 12");
    assert_int_equal(n.type, ESG_YAML_STRING);
    assert_string_equal(n.text, "12");
    n = value_of("v: !!int \"12\"");
    assert_int_equal(n.type, ESG_YAML_INT);
    assert_int_equal(n.i, 12);
    n = value_of("v: !!bool \"false\"");
    assert_int_equal(n.type, ESG_YAML_BOOL);
    n = value_of("v: !!float 3");
    assert_int_equal(n.type, ESG_YAML_FLOAT);
    /* The non-specific tag makes a plain scalar a string. */
    expect_type("v: ! 12", ESG_YAML_STRING);
    n = value_of("v: !!map {a: 1}");
    assert_int_equal(n.kind, ESG_YAML_MAPPING);
    n = value_of("v: !!seq [1]");
    assert_int_equal(n.kind, ESG_YAML_SEQUENCE);

    expect_errors("v: !!bool yes\n", "t.yaml:1:4: value tagged !!bool is not true or false\n");
    expect_errors("v: !!int x\n", "t.yaml:1:4: value tagged !!int is not an integer\n");
    expect_errors("v: !!null x\n", "t.yaml:1:4: value tagged !!null is not null\n");
    expect_errors("v: !!float x\n", "t.yaml:1:4: value tagged !!float is not a number\n");
    expect_errors("v: !!binary aGk=\n", "t.yaml:1:4: unsupported tag !!binary on a scalar\n");
    expect_errors("v: !secret x\n",
                  "t.yaml:1:4: unsupported tag !secret (only the standard tags !!str, !!int, "
                  "!!float, !!bool and !!null are allowed)\n");
    expect_errors("v: !!set {a}\n", "t.yaml:1:4: unsupported tag tag:yaml.org,2002:set on a "
                                    "mapping\n");
    expect_errors("v: !x [1]\n", "t.yaml:1:4: unsupported tag !x on a sequence\n");
}

static void test_positions(void **state)
{
    (void)state;
    loaded l;
    load(&l, "a: 1\nserver:\n  listen:\n    - \"x\"\n    - [1, 2]\n  é: z\n");
    assert_int_equal(l.rc, 0);
    const esg_yaml_node *root = esg_yaml_root(l.doc);
    assert_int_equal(root->kind, ESG_YAML_MAPPING);
    assert_int_equal(root->count, 2);
    assert_int_equal(root->line, 1);
    assert_int_equal(root->col, 1);
    assert_string_equal(root->keys[1]->text, "server");
    assert_int_equal(root->keys[1]->line, 2);
    const esg_yaml_node *server = esg_yaml_get(root, "server");
    assert_int_equal(server->line, 3);
    assert_int_equal(server->col, 3);
    const esg_yaml_node *listen = esg_yaml_get(server, "listen");
    assert_int_equal(listen->kind, ESG_YAML_SEQUENCE);
    assert_int_equal(listen->count, 2);
    assert_int_equal(listen->items[0]->line, 4);
    assert_int_equal(listen->items[0]->col, 7);
    assert_int_equal(listen->items[1]->kind, ESG_YAML_SEQUENCE);
    assert_int_equal(listen->items[1]->items[1]->line, 5);
    assert_int_equal(listen->items[1]->items[1]->col, 11);
    assert_string_equal(listen->items[0]->file, "t.yaml");
    /* Columns count characters, not bytes: "é" is one column. */
    const esg_yaml_node *z = esg_yaml_get(server, "é");
    assert_non_null(z);
    assert_int_equal(z->col, 6);
    assert_null(esg_yaml_get(server, "missing"));
    assert_null(esg_yaml_get(z, "x"));
    assert_string_equal(esg_yaml_name(l.doc), "t.yaml");
    assert_null(esg_yaml_dir(l.doc));
    unload(&l);

    /* A UTF-8 byte order mark is skipped and does not shift the first line. */
    load(&l, "\xef\xbb\xbf"
             "a: 1\n");
    assert_int_equal(l.rc, 0);
    assert_int_equal(esg_yaml_root(l.doc)->keys[0]->col, 1);
    unload(&l);
}

static void test_empty_document(void **state)
{
    (void)state;
    const char *empties[] = {"", "# only a comment\n", "---\n", "---\n...\n"};
    for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        loaded l;
        load(&l, empties[i]);
        assert_int_equal(l.rc, 0);
        const esg_yaml_node *root = esg_yaml_root(l.doc);
        assert_int_equal(root->kind, ESG_YAML_SCALAR);
        assert_int_equal(root->type, ESG_YAML_NULL);
        assert_int_equal(root->line, empties[i][0] == '-' ? 2 : 1);
        unload(&l);
    }
}

static void test_empty_collections(void **state)
{
    (void)state;
    /* A collection that closes before any node was collected (a fuzzer finding: the child
       stack was still unallocated). */
    const char *texts[] = {"[]", "{}", "[[], {}]", "a: []\nb: {}\n"};
    const size_t counts[] = {0, 0, 2, 2};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        loaded l;
        load(&l, texts[i]);
        assert_int_equal(l.rc, 0);
        assert_int_equal(esg_yaml_root(l.doc)->count, counts[i]);
        assert_non_null(esg_yaml_root(l.doc)->items);
        unload(&l);
    }
}

static void test_substitution(void **state)
{
    (void)state;
    esg_yaml_node n;

    /* A substituted plain scalar is typed after substitution. */
    n = value_of("v: ${PORT}");
    assert_int_equal(n.type, ESG_YAML_INT);
    assert_int_equal(n.i, 9000);
    n = value_of("v: ${UNSET:-8088}");
    assert_int_equal(n.type, ESG_YAML_INT);
    assert_int_equal(n.i, 8088);
    n = value_of("v: ${BOOL}");
    assert_int_equal(n.type, ESG_YAML_BOOL);
    /* Double-quoted scalars are substituted but stay strings. */
    n = value_of("v: \"${PORT:-1}\"");
    assert_int_equal(n.type, ESG_YAML_STRING);
    assert_string_equal(n.text, "9000");
    n = value_of("v: https://${HOST}:${PORT}/x");
    assert_string_equal(n.text, "https://id.example.org:9000/x");
    /* As in the shell, an empty variable takes the default. */
    n = value_of("v: ${EMPTY:-fallback}");
    assert_string_equal(n.text, "fallback");
    n = value_of("v: a${EMPTY}b");
    assert_string_equal(n.text, "ab");
    /* An empty default gives an empty value: null when plain, "" when quoted. */
    expect_type("v: ${UNSET:-}", ESG_YAML_NULL);
    n = value_of("v: \"${UNSET:-}\"");
    assert_int_equal(n.type, ESG_YAML_STRING);
    assert_string_equal(n.text, "");
    /* Defaults are literal text, spaces and colons included. */
    n = value_of("v: \"${UNSET:-a b:c}\"");
    assert_string_equal(n.text, "a b:c");
    /* $$ is a literal $, a lone $ stays, and values are not substituted again. */
    n = value_of("v: pa$$word");
    assert_string_equal(n.text, "pa$word");
    n = value_of("v: $$${PORT}");
    assert_string_equal(n.text, "$9000");
    n = value_of("v: a$b$");
    assert_string_equal(n.text, "a$b$");
    n = value_of("v: ${DOLLAR}");
    assert_string_equal(n.text, "x$y");
    n = value_of("v: $${PORT}");
    assert_string_equal(n.text, "${PORT}");
    n = value_of("v: \"${SPACE}\"");
    assert_string_equal(n.text, "a b");
    /* Single-quoted and block scalars are literal. */
    n = value_of("v: '${PORT}'");
    assert_string_equal(n.text, "${PORT}");
    n = value_of("v: |\n  ${PORT}\n");
    assert_string_equal(n.text, "${PORT}\n");
    /* Keys are never substituted. */
    loaded l;
    load(&l, "${PORT}: 1\n");
    assert_int_equal(l.rc, 0);
    assert_non_null(esg_yaml_get(esg_yaml_root(l.doc), "${PORT}"));
    unload(&l);
    /* Substitution works in sequences; in flow collections braces are YAML syntax, so a
       reference there must be quoted. */
    load(&l, "v:\n  - ${PORT}\n  - [\"${HOST}\"]\n");
    assert_int_equal(l.rc, 0);
    const esg_yaml_node *seq = esg_yaml_get(esg_yaml_root(l.doc), "v");
    assert_int_equal(seq->items[0]->i, 9000);
    assert_string_equal(seq->items[1]->items[0]->text, "id.example.org");
    unload(&l);
    expect_errors("v: [${PORT}]\n", "t.yaml:1:6: YAML syntax error: did not find expected ',' or "
                                    "']' (while parsing a flow sequence)\n");
}

static void test_substitution_errors(void **state)
{
    (void)state;
    expect_errors("a: 1\nport: ${NOPE}\n",
                  "t.yaml:2:7: environment variable NOPE is not set (write ${NOPE:-default} to "
                  "give a default)\n");
    /* The column is that of the "$", inside quotes too. */
    expect_errors("v: \"ab${NOPE}\"\n",
                  "t.yaml:1:7: environment variable NOPE is not set (write ${NOPE:-default} to "
                  "give a default)\n");
    expect_errors("v: x ${A:-${B}}\n",
                  "t.yaml:1:6: nested braces in the default of ${A} are not supported\n");
    expect_errors("v: ${A:-{x}}\n",
                  "t.yaml:1:4: nested braces in the default of ${A} are not supported\n");
    expect_errors("v: ${}\n",
                  "t.yaml:1:4: invalid ${...}: a variable name ([A-Za-z_][A-Za-z0-9_]*) "
                  "must follow \"${\"\n");
    expect_errors("v: ${1A}\n", "t.yaml:1:4: invalid ${...}: a variable name "
                                "([A-Za-z_][A-Za-z0-9_]*) must follow \"${\"\n");
    expect_errors("v: ${A\n", "t.yaml:1:4: unterminated ${A: missing \"}\"\n");
    expect_errors("v: ${A:x}\n",
                  "t.yaml:1:4: invalid ${A...}: expected \"}\" or \":-default}\" after the name\n");
    expect_errors("v: ${A-x}\n",
                  "t.yaml:1:4: invalid ${A...}: expected \"}\" or \":-default}\" after the name\n");
    /* A value from the environment must be UTF-8 too. */
    expect_errors("v: ${BAD}\n",
                  "t.yaml:1:4: value is not valid UTF-8 text or contains a NUL character\n");
    /* In a multi-line scalar the error points at the scalar. */
    expect_errors("v: \"first\n  ${NOPE}\"\n",
                  "t.yaml:1:4: environment variable NOPE is not set (write ${NOPE:-default} to "
                  "give a default)\n");
    /* Every bad reference is reported, not just the first. */
    expect_errors("a: ${X1}\nb: ${X2}\n",
                  "t.yaml:1:4: environment variable X1 is not set (write ${X1:-default} to give "
                  "a default)\n"
                  "t.yaml:2:4: environment variable X2 is not set (write ${X2:-default} to give "
                  "a default)\n");
    /* A long name is refused rather than truncated. */
    char yaml[400];
    memset(yaml, 'A', sizeof(yaml));
    memcpy(yaml, "v: ${", 5);
    memcpy(yaml + 300, "}\n", 3);
    expect_errors(yaml, "t.yaml:1:4: variable name longer than 255 characters\n");
}

static void test_getenv_default(void **state)
{
    (void)state;
    /* Without an injected lookup the process environment is used. */
    setenv("ESG_TEST_YAML_VAR", "77", 1);
    esg_yaml_doc *doc = NULL;
    esg_config_errors errors;
    esg_config_errors_init(&errors);
    const char *yaml = "v: ${ESG_TEST_YAML_VAR}\n";
    assert_int_equal(esg_yaml_load_string("e.yaml", yaml, strlen(yaml), NULL, &doc, &errors), 0);
    assert_int_equal(esg_yaml_get(esg_yaml_root(doc), "v")->i, 77);
    esg_yaml_free(doc);
    unsetenv("ESG_TEST_YAML_VAR");
    assert_int_equal(esg_yaml_load_string("e.yaml", yaml, strlen(yaml), NULL, &doc, &errors),
                     ESP_ECONFIG);
    assert_int_equal(errors.count, 1);
    esg_config_errors_free(&errors);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_errors("a: &x 1\nb: *x\n",
                  "t.yaml:1:4: anchors (&x) are not allowed: write the value out in full\n"
                  "t.yaml:2:4: aliases (*x) are not allowed: write the value out in full\n");
    expect_errors("a: &m {k: v}\n",
                  "t.yaml:1:4: anchors (&m) are not allowed: write the value out in full\n");
    expect_errors("a: 1\nb: 2\na: 3\n",
                  "t.yaml:3:1: duplicate key \"a\" (first given at line 1, column 1)\n");
    expect_errors("m:\n  x: 1\n  y: 2\n  x: 3\n  x: 4\n",
                  "t.yaml:4:3: duplicate key \"x\" (first given at line 2, column 3)\n"
                  "t.yaml:5:3: duplicate key \"x\" (first given at line 2, column 3)\n");
    /* "1" and 1 are the same key text once quoted differently. */
    expect_errors("\"k\": 1\nk: 2\n",
                  "t.yaml:2:1: duplicate key \"k\" (first given at line 1, column 1)\n");
    expect_errors("8088: a\n", "t.yaml:1:1: mapping key must be a string, not an integer (quote "
                               "it if it is meant as text)\n");
    expect_errors("true: a\n", "t.yaml:1:1: mapping key must be a string, not a boolean (quote "
                               "it if it is meant as text)\n");
    expect_errors("~: a\n", "t.yaml:1:1: mapping key must be a string, not null (quote it if it "
                            "is meant as text)\n");
    expect_errors("1.5: a\n", "t.yaml:1:1: mapping key must be a string, not a float (quote it "
                              "if it is meant as text)\n");
    expect_errors("? [a]\n: b\n", "t.yaml:1:3: mapping keys must be plain strings, not a "
                                  "sequence\n");
    expect_errors("? {a: 1}\n: b\n",
                  "t.yaml:1:3: mapping keys must be plain strings, not a mapping\n");
    expect_errors("a: 1\n---\nb: 2\n",
                  "t.yaml:2:1: more than one YAML document: the configuration is one document\n");
    expect_errors("a: [1,\n", "t.yaml:2:1: YAML syntax error: did not find expected node content "
                              "(while parsing a flow node)\n");
    expect_errors("a: b: c\n", "t.yaml:1:5: YAML syntax error: mapping values are not allowed in "
                               "this context\n");
    expect_errors("a:\n\tb: 1\n", "t.yaml:2:1: YAML syntax error: found character that cannot "
                                  "start any token (while scanning for the next token)\n");
}

static void test_encoding(void **state)
{
    (void)state;
    loaded l;
    expect_errors("a: 1\nb: x\xff\n", "t.yaml:2:5: invalid text: invalid leading UTF-8 octet (the "
                                      "file must be UTF-8 without control characters)\n");
    expect_errors("a: \xc0\x80\n", "t.yaml:1:4: invalid text: invalid length of a UTF-8 sequence "
                                   "(the file must be UTF-8 without control characters)\n");
    /* UTF-16 (here with its byte order mark) is not detected: it is invalid UTF-8. */
    expect_errors("\xff\xfe"
                  "a\0:\0",
                  "t.yaml:1:1: invalid text: invalid leading UTF-8 octet (the file must be UTF-8 "
                  "without control characters)\n");
    /* A NUL byte in the file, and one produced by an escape, are both refused. */
    load_with(&l, "a: b\0c\n", 7, NULL);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l), "t.yaml:1:5: invalid text: control characters are not "
                                       "allowed (the file must be UTF-8 without control "
                                       "characters)\n");
    unload(&l);
    expect_errors("a: \"x\\0y\"\n",
                  "t.yaml:1:4: value is not valid UTF-8 text or contains a NUL character\n");
    expect_errors("\"k\\0\": 1\n",
                  "t.yaml:1:1: value is not valid UTF-8 text or contains a NUL character\n");
    /* Escapes of valid characters are fine. */
    esg_yaml_node n = value_of("v: \"\\u00e9\\t\"");
    assert_string_equal(n.text, "\xc3\xa9\t");
}

static char *nested(size_t depth)
{
    char *s = malloc(2 * depth + 2);
    assert_non_null(s);
    for (size_t i = 0; i < depth; i++)
        s[i] = '[';
    for (size_t i = 0; i < depth; i++)
        s[depth + i] = ']';
    s[2 * depth] = '\n';
    s[2 * depth + 1] = '\0';
    return s;
}

static void test_limits(void **state)
{
    (void)state;
    loaded l;

    char *ok = nested(ESG_YAML_MAX_DEPTH);
    load(&l, ok);
    assert_int_equal(l.rc, 0);
    unload(&l);
    free(ok);
    char *deep = nested(ESG_YAML_MAX_DEPTH + 1);
    expect_errors(deep, "t.yaml:1:65: nesting deeper than 64 levels\n");
    free(deep);

    /* One byte over the size limit. */
    size_t big = ESG_YAML_MAX_BYTES + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, '#', big);
    load_with(&l, text, big, NULL);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l), "t.yaml: file is larger than the limit of 1048576 bytes\n");
    unload(&l);
    /* Exactly at the limit is fine. */
    load_with(&l, text, ESG_YAML_MAX_BYTES, NULL);
    assert_int_equal(l.rc, 0);
    unload(&l);
    free(text);

    /* Node count and scalar length, with small limits. */
    esg_yaml_limits small = {0, 3, 5, 8, 0};
    load_with(&l, "[1, 2, 3, 4]", 12, &small);
    assert_int_equal(l.rc, 0);
    unload(&l);
    load_with(&l, "[1, 2, 3, 4, 5]", 15, &small);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l), "t.yaml:1:14: too many nodes: the limit is 5\n");
    unload(&l);
    load_with(&l, "a: 123456789", 12, &small);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l), "t.yaml:1:4: scalar longer than 8 bytes\n");
    unload(&l);
    load_with(&l, "a: ${HOST}", 10, &small);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l),
                        "t.yaml:1:4: value longer than 8 bytes after substitution\n");
    unload(&l);
    load_with(&l, "[[[1]]]", 7, &small);
    assert_int_equal(l.rc, 0);
    unload(&l);
    load_with(&l, "[[[[1]]]]", 9, &small);
    assert_int_equal(l.rc, ESP_ECONFIG);
    unload(&l);

    /* The total text after substitution is bounded too. */
    esg_yaml_limits text_limit = {0, 0, 0, 0, 40};
    const char *many = "- ${HOST}\n- ${HOST}\n- ${HOST}\n";
    load_with(&l, many, strlen(many), &text_limit);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(errors_of(&l), "t.yaml:3:3: the values of the document exceed 40 bytes "
                                       "in total after substitution\n");
    unload(&l);

    /* Billion laughs stops at the first anchor; nothing is expanded. */
    expect_errors("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: [*b,*b]\n",
                  "t.yaml:1:4: anchors (&a) are not allowed: write the value out in full\n"
                  "t.yaml:2:4: anchors (&b) are not allowed: write the value out in full\n"
                  "t.yaml:2:8: aliases (*a) are not allowed: write the value out in full\n"
                  "t.yaml:2:11: aliases (*a) are not allowed: write the value out in full\n"
                  "t.yaml:3:5: aliases (*b) are not allowed: write the value out in full\n"
                  "t.yaml:3:8: aliases (*b) are not allowed: write the value out in full\n");
}

static void test_to_json(void **state)
{
    (void)state;
    loaded l;
    json_t *j = NULL;
    load(&l, "s: \"x\"\ni: 3\nb: true\nn: ~\nf: 2.5\nl: [1, {k: v}]\n");
    assert_int_equal(l.rc, 0);
    assert_int_equal(esg_yaml_to_json(esg_yaml_root(l.doc), &j, &l.errors), 0);
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "{\"s\":\"x\",\"i\":3,\"b\":true,\"n\":null,\"f\":2.5,\"l\":[1,{"
                              "\"k\":\"v\"}]}");
    free(text);
    json_decref(j);
    unload(&l);

    load(&l, "a: .inf\nb: [.nan]\n");
    assert_int_equal(l.rc, 0);
    assert_int_equal(esg_yaml_to_json(esg_yaml_root(l.doc), &j, &l.errors), ESP_ECONFIG);
    assert_null(j);
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_config_errors_format(&l.errors, &b), 0);
    assert_string_equal(b.data, "t.yaml:1:4: JSON cannot represent infinity or NaN\n"
                                "t.yaml:2:5: JSON cannot represent infinity or NaN\n");
    esg_buf_free(&b);
    unload(&l);
    assert_int_equal(esg_yaml_to_json(NULL, &j, NULL), ESP_EINVAL);
}

static void test_type_names(void **state)
{
    (void)state;
    loaded l;
    load(&l, "[a, 1, 2.0, true, ~, [], {}]");
    const esg_yaml_node *r = esg_yaml_root(l.doc);
    const char *names[] = {"string", "integer", "float", "boolean", "null", "sequence", "mapping"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(esg_yaml_type_name(r->items[i]), names[i]);
    assert_string_equal(esg_yaml_type_name(NULL), "nothing");
    unload(&l);
}

static void test_files(void **state)
{
    (void)state;
    esg_yaml_doc *doc = NULL;
    esg_config_errors errors;
    esg_buf b = ESG_BUF_INIT;
    esg_config_errors_init(&errors);

    assert_int_equal(esg_yaml_load_file("/nonexistent/x.yaml", NULL, &doc, &errors), ESP_EIO);
    assert_null(doc);
    assert_int_equal(esg_config_errors_format(&errors, &b), 0);
    assert_string_equal(b.data, "/nonexistent/x.yaml: cannot open: No such file or directory\n");
    esg_config_errors_free(&errors);
    esg_buf_reset(&b);

    assert_int_equal(esg_yaml_load_file(ESG_TEST_DATA_DIR "/config", NULL, &doc, &errors), ESP_EIO);
    assert_int_equal(esg_config_errors_format(&errors, &b), 0);
    assert_string_equal(b.data, ESG_TEST_DATA_DIR "/config: cannot read: Is a directory\n");
    esg_config_errors_free(&errors);

    /* A file's directory is resolved to an absolute path for relative ESP_OPT_PATH values. */
    esg_yaml_env env = {test_lookup, (void *)test_vars};
    esg_yaml_opts opts = {&env, NULL, NULL};
    assert_int_equal(
        esg_yaml_load_file(ESG_TEST_DATA_DIR "/config/full.yaml", &opts, &doc, &errors), 0);
    char *real = realpath(ESG_TEST_DATA_DIR "/config", NULL);
    assert_non_null(real);
    assert_string_equal(esg_yaml_dir(doc), real);
    assert_string_equal(esg_yaml_name(doc), ESG_TEST_DATA_DIR "/config/full.yaml");
    free(real);
    esg_yaml_free(doc);
    esg_buf_free(&b);
    esg_config_errors_free(&errors);
}

static void test_error_list(void **state)
{
    (void)state;
    esg_config_errors e;
    esg_buf b = ESG_BUF_INIT;
    esg_config_errors_init(&e);
    for (int i = 0; i < ESG_CONFIG_MAX_ERRORS + 3; i++)
        assert_int_equal(esg_config_errors_add(&e, "f.yaml", (uint32_t)i + 1, 2, "error %d", i), 0);
    assert_int_equal(e.count, ESG_CONFIG_MAX_ERRORS);
    assert_int_equal(e.dropped, 3);
    assert_int_equal(esg_config_errors_total(&e), ESG_CONFIG_MAX_ERRORS + 3);
    assert_int_equal(esg_config_errors_format(&e, &b), 0);
    assert_non_null(strstr(b.data, "f.yaml:1:2: error 0\n"));
    assert_non_null(strstr(b.data, "f.yaml:50:2: error 49\n... and 3 more errors\n"));
    assert_null(strstr(b.data, "error 50"));
    esg_config_errors_free(&e);
    esg_buf_reset(&b);

    esg_config_errors_init(&e);
    e.max = 1;
    esg_config_errors_add(&e, NULL, 0, 0, "no file");
    esg_config_errors_add(&e, NULL, 0, 0, "dropped");
    assert_int_equal(esg_config_errors_format(&e, &b), 0);
    assert_string_equal(b.data, "no file\n... and 1 more error\n");
    esg_config_errors_free(&e);
    esg_buf_reset(&b);

    /* Quoting escapes control characters and cuts long text at a character boundary. */
    assert_int_equal(esg_config_quote(&b, "a\nb\"", 4), 0);
    assert_string_equal(b.data, "\"a\\nb\\\"\"");
    esg_buf_reset(&b);
    char longkey[100];
    memset(longkey, 'k', sizeof(longkey));
    memcpy(longkey + 63, "\xc3\xa9", 2);
    assert_int_equal(esg_config_quote(&b, longkey, sizeof(longkey)), 0);
    assert_int_equal(b.len, 1 + 63 + 3 + 1);
    assert_string_equal(b.data + 64, "...\"");
    esg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core_schema_typing),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_empty_document),
        cmocka_unit_test(test_empty_collections),
        cmocka_unit_test(test_substitution),
        cmocka_unit_test(test_substitution_errors),
        cmocka_unit_test(test_getenv_default),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_error_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
