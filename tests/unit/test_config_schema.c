/*
 * Unit tests of core/config/schema.c: every option type, conversion and bound, defaults, nesting,
 * messages with their positions, secrets, declaration checks and Markdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/errors.h"
#include "config/schema.h"
#include "config/yaml.h"

#define OPTION(...)                                                                                \
    {                                                                                              \
        .size = sizeof(esp_option), __VA_ARGS__                                                    \
    }
#define END                                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

static const char *const colors[] = {"red", "green", "blue", NULL};
static const char *const versions[] = {"1.2", "1.3", NULL};

static const esp_option item_opts[] = {
    OPTION(.key = "id", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 8,
           .help = "Item id."),
    OPTION(.key = "weight", .type = ESP_OPT_INT, .default_text = "1", .help = "Weight."),
    END,
};

static const esp_option db_opts[] = {
    OPTION(.key = "url", .type = ESP_OPT_URL, .default_text = "https://db.example.org",
           .help = "Database."),
    OPTION(.key = "password", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .min = 8, .max = 64,
           .help = "Password."),
    OPTION(.key = "pool", .type = ESP_OPT_INT, .default_text = "4", .min = 1, .max = 32,
           .help = "Connections."),
    END,
};

/* One option of every type, with bounds and defaults where they apply. */
static const esp_option all_opts[] = {
    OPTION(.key = "name", .type = ESP_OPT_STRING, .default_text = "svc", .min = 1, .max = 16,
           .help = "Name."),
    OPTION(.key = "count", .type = ESP_OPT_INT, .default_text = "3", .min = -5, .max = 10,
           .help = "Count."),
    OPTION(.key = "enabled", .type = ESP_OPT_BOOL, .default_text = "true", .help = "On."),
    OPTION(.key = "timeout", .type = ESP_OPT_DURATION, .default_text = "30s", .min = 100,
           .max = 3600000, .help = "Timeout."),
    OPTION(.key = "buffer", .type = ESP_OPT_SIZE, .default_text = "16k", .min = 1, .max = 1048576,
           .help = "Buffer."),
    OPTION(.key = "color", .type = ESP_OPT_ENUM, .default_text = "red", .choices = colors,
           .help = "Color."),
    OPTION(.key = "version", .type = ESP_OPT_ENUM, .choices = versions, .help = "Version."),
    OPTION(.key = "tags", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING, .default_text = "[]",
           .min = 0, .max = 3, .help = "Tags."),
    OPTION(.key = "items", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT, .children = item_opts,
           .help = "Items."),
    OPTION(.key = "limits", .type = ESP_OPT_MAP, .item_type = ESP_OPT_INT, .help = "Limits."),
    OPTION(.key = "db", .type = ESP_OPT_OBJECT, .children = db_opts, .help = "Database."),
    OPTION(.key = "extra", .type = ESP_OPT_ANY, .help = "Anything."),
    OPTION(.key = "file", .type = ESP_OPT_PATH, .help = "A file."),
    OPTION(.key = "endpoint", .type = ESP_OPT_URL, .help = "An endpoint."),
    OPTION(.key = "token", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .help = "Token."),
    OPTION(.key = "hook", .type = ESP_OPT_URL, .flags = ESP_OPT_SECRET, .help = "Hook."),
    OPTION(.key = "secrets", .type = ESP_OPT_MAP, .item_type = ESP_OPT_STRING,
           .flags = ESP_OPT_SECRET, .help = "Secrets."),
    OPTION(.key = "palette", .type = ESP_OPT_LIST, .item_type = ESP_OPT_ENUM, .choices = colors,
           .help = "Colors."),
    OPTION(.key = "zones", .type = ESP_OPT_MAP, .item_type = ESP_OPT_OBJECT, .children = item_opts,
           .help = "Zones."),
    END,
};

/* The normalized defaults of all_opts, in declaration order, in three parts so that tests can
   put members declared between them. */
#define HEAD_JSON                                                                                  \
    "\"name\":\"svc\",\"count\":3,\"enabled\":true,\"timeout\":30000,\"buffer\":16384,"            \
    "\"color\":\"red\""
#define TAGS_JSON     "\"tags\":[]"
#define DB_JSON       "\"db\":{\"url\":\"https://db.example.org\",\"pool\":4}"
#define DEFAULTS_JSON HEAD_JSON "," TAGS_JSON "," DB_JSON

static const char *base_dir = "/etc/esg";

typedef struct result {
    esg_yaml_doc *doc;
    esg_config_errors errors;
    esg_buf text;
    json_t *json;
    char *compact;
    int rc;
} result;

/* Loads `yaml` and validates its root against `opts` with `ctx` (base_dir when NULL). */
static void run_ctx(result *r, const char *yaml, const esp_option *opts, const esg_schema_ctx *ctx)
{
    esg_schema_ctx dflt = {NULL, base_dir, NULL};
    memset(r, 0, sizeof(*r));
    esg_config_errors_init(&r->errors);
    assert_int_equal(esg_yaml_load_string("s.yaml", yaml, strlen(yaml), NULL, &r->doc, &r->errors),
                     0);
    r->rc =
        esg_schema_validate(ctx ? ctx : &dflt, esg_yaml_root(r->doc), opts, &r->json, &r->errors);
    assert_int_equal(esg_config_errors_format(&r->errors, &r->text), 0);
    if (r->rc == 0) {
        assert_non_null(r->json);
        r->compact = json_dumps(r->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else {
        assert_null(r->json);
    }
}

static void run(result *r, const char *yaml)
{
    run_ctx(r, yaml, all_opts, NULL);
}

static void done(result *r)
{
    free(r->compact);
    json_decref(r->json);
    esg_yaml_free(r->doc);
    esg_config_errors_free(&r->errors);
    esg_buf_free(&r->text);
}

/* Validates `yaml` against all_opts and expects the normalized JSON `{DEFAULTS,extra}`. */
static void expect_json(const char *yaml, const char *json)
{
    result r;
    run(&r, yaml);
    if (r.rc != 0)
        fail_msg("%s: unexpected errors:\n%s", yaml, r.text.data);
    assert_string_equal(r.compact, json);
    done(&r);
}

static void expect_errors(const char *yaml, const char *errors)
{
    result r;
    run(&r, yaml);
    assert_int_equal(r.rc, ESP_ECONFIG);
    assert_string_equal(r.text.data ? r.text.data : "", errors);
    done(&r);
}

static void test_defaults(void **state)
{
    (void)state;
    expect_json("", "{" DEFAULTS_JSON "}");
    expect_json("{}", "{" DEFAULTS_JSON "}");
    /* A null value counts as absent: the default applies. */
    expect_json("count:\nname: ~\ndb:\n", "{" DEFAULTS_JSON "}");
}

static void test_conversions(void **state)
{
    (void)state;
    expect_json("name: abc\ncount: -5\nenabled: false\ntimeout: 250ms\nbuffer: 1M\ncolor: blue\n"
                "version: 1.3\ntags: [a, \"b\"]\n",
                "{\"name\":\"abc\",\"count\":-5,\"enabled\":false,\"timeout\":250,"
                "\"buffer\":1048576,\"color\":\"blue\",\"version\":\"1.3\",\"tags\":[\"a\","
                "\"b\"],\"db\":{\"url\":\"https://db.example.org\",\"pool\":4}}");
    /* A plain integer duration means seconds; a plain integer size means bytes. */
    expect_json("timeout: 20\nbuffer: 512\n",
                "{\"name\":\"svc\",\"count\":3,\"enabled\":true,\"timeout\":20000,\"buffer\":512,"
                "\"color\":\"red\",\"tags\":[],\"db\":{\"url\":\"https://db.example.org\","
                "\"pool\":4}}");
    /* Any integer form counts, and the unit of a bare number is seconds or bytes. */
    expect_json("timeout: 0x10\nbuffer: 0o10\n",
                "{\"name\":\"svc\",\"count\":3,\"enabled\":true,\"timeout\":16000,\"buffer\":8,"
                "\"color\":\"red\"," TAGS_JSON "," DB_JSON "}");
    /* Enum values are compared as text: a plain 1.2 is a float to YAML but the choice "1.2". */
    expect_json("version: 1.2\n", "{" HEAD_JSON ",\"version\":\"1.2\"," TAGS_JSON "," DB_JSON "}");
    expect_json("version: \"1.2\"\n",
                "{" HEAD_JSON ",\"version\":\"1.2\"," TAGS_JSON "," DB_JSON "}");
    expect_json("items:\n  - id: a\n  - id: b\n    weight: 5\n",
                "{" HEAD_JSON "," TAGS_JSON ",\"items\":[{\"id\":\"a\",\"weight\":1},{\"id\":"
                "\"b\",\"weight\":5}]," DB_JSON "}");
    expect_json("limits: {a: 1, b: 2}\n",
                "{" HEAD_JSON "," TAGS_JSON ",\"limits\":{\"a\":1,\"b\":2}," DB_JSON "}");
    expect_json("zones: {north: {id: n}}\n",
                "{" DEFAULTS_JSON ",\"zones\":{\"north\":{\"id\":\"n\",\"weight\":1}}}");
    expect_json("palette: [green, red]\n", "{" DEFAULTS_JSON ",\"palette\":[\"green\",\"red\"]}");
    /* Object members come out in declaration order, whatever the order in the file. */
    expect_json("db:\n  pool: 8\n  url: http://localhost:5432/x\n",
                "{\"name\":\"svc\",\"count\":3,\"enabled\":true,\"timeout\":30000,"
                "\"buffer\":16384,\"color\":\"red\",\"tags\":[],\"db\":{\"url\":"
                "\"http://localhost:5432/x\",\"pool\":8}}");
    /* ANY copies the subtree unchecked. */
    expect_json("extra: {a: [1, 2.5, true, ~, x]}\n",
                "{" DEFAULTS_JSON ",\"extra\":{\"a\":[1,2.5,true,null,\"x\"]}}");
    expect_json("extra: 5\n", "{" DEFAULTS_JSON ",\"extra\":5}");
    /* Paths resolve against the base directory unless absolute. */
    expect_json("file: keys/a.pem\n", "{" DEFAULTS_JSON ",\"file\":\"/etc/esg/keys/a.pem\"}");
    expect_json("file: /abs/a.pem\n", "{" DEFAULTS_JSON ",\"file\":\"/abs/a.pem\"}");
    expect_json("endpoint: https://[::1]:8443/p?q=1\n",
                "{" DEFAULTS_JSON ",\"endpoint\":\"https://[::1]:8443/p?q=1\"}");
    expect_json("token: s3cr3t\n", "{" DEFAULTS_JSON ",\"token\":\"s3cr3t\"}");

    /* Without a base directory relative paths stay as written. */
    result r;
    esg_schema_ctx ctx = {NULL, NULL, NULL};
    run_ctx(&r, "file: keys/a.pem\n", all_opts, &ctx);
    assert_int_equal(r.rc, 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "file")), "keys/a.pem");
    done(&r);
    esg_schema_ctx slash = {NULL, "/", NULL};
    run_ctx(&r, "file: k\n", all_opts, &slash);
    assert_string_equal(json_string_value(json_object_get(r.json, "file")), "/k");
    done(&r);
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_errors("name: 12\n", "s.yaml:1:7: name: expected a string, found an integer (quote it "
                                "to use it as text)\n");
    expect_errors("name: [a]\n", "s.yaml:1:7: name: expected a string, found a list\n");
    expect_errors("count: \"3\"\n",
                  "s.yaml:1:8: count: expected an integer, found a string (remove the quotes)\n");
    expect_errors("count: 1.5\n", "s.yaml:1:8: count: expected an integer, found a float\n");
    expect_errors("enabled: yes\n",
                  "s.yaml:1:10: enabled: expected true or false, found a string (words like "
                  "yes/no/on/off are text in YAML 1.2; write true or false)\n");
    expect_errors("enabled: 1\n", "s.yaml:1:10: enabled: expected true or false, found an "
                                  "integer\n");
    expect_errors("timeout: {a: 1}\n",
                  "s.yaml:1:10: timeout: expected a duration such as 30s, 250ms, 5m, 2h or 7d, "
                  "found a mapping\n");
    expect_errors("buffer: true\n",
                  "s.yaml:1:9: buffer: expected a size such as 512, 16k or 1M, found a boolean\n");
    expect_errors("color: [red]\n",
                  "s.yaml:1:8: color: expected one of the listed values, found a list\n");
    expect_errors("tags: a\n", "s.yaml:1:7: tags: expected a list, found a string\n");
    expect_errors("tags: [a, 1]\n", "s.yaml:1:11: tags[1]: expected a string, found an integer "
                                    "(quote it to use it as text)\n");
    expect_errors("items: [1]\n", "s.yaml:1:9: items[0]: expected a mapping, found an integer\n");
    expect_errors("limits: [1]\n", "s.yaml:1:9: limits: expected a mapping, found a list\n");
    expect_errors("limits: {a: x}\n",
                  "s.yaml:1:13: limits.a: expected an integer, found a string\n");
    expect_errors("db: 5\n", "s.yaml:1:5: db: expected a mapping, found an integer\n");
    expect_errors("file: 5\n",
                  "s.yaml:1:7: file: expected a path, found an integer (quote it to use it as "
                  "text)\n");
    expect_errors("file: \"\"\n", "s.yaml:1:7: file: the path is empty\n");
    expect_errors("endpoint: [x]\n", "s.yaml:1:11: endpoint: expected a URL, found a list\n");
    expect_errors("palette: [red, pink]\n",
                  "s.yaml:1:16: palette[1]: \"pink\" is not one of: red, green, blue\n");
    expect_errors("extra: .inf\n", "s.yaml:1:8: JSON cannot represent infinity or NaN\n");
    expect_errors("- 1\n", "s.yaml:1:1: expected a mapping, found a list\n");
    expect_errors("zones: {z: {weight: 2}}\n",
                  "s.yaml:1:12: missing required key \"id\" in zones.z\n");
}

static void test_enums(void **state)
{
    (void)state;
    expect_errors("color: gren\n", "s.yaml:1:8: color: \"gren\" is not one of: red, green, blue "
                                   "(did you mean \"green\"?)\n");
    expect_errors("color: RED\n", "s.yaml:1:8: color: \"RED\" is not one of: red, green, blue "
                                  "(did you mean \"red\"?)\n");
    expect_errors("color: purple\n",
                  "s.yaml:1:8: color: \"purple\" is not one of: red, green, blue\n");
    expect_errors("version: 1.4\n", "s.yaml:1:10: version: \"1.4\" is not one of: 1.2, 1.3 (did "
                                    "you mean \"1.2\"?)\n");
    expect_errors("color: ~\nversion: ''\n", "s.yaml:2:10: version: \"\" is not one of: 1.2, "
                                             "1.3\n");
}

static void test_bounds(void **state)
{
    (void)state;
    expect_errors("name: \"\"\n", "s.yaml:1:7: name: must be at least 1 bytes long\n");
    expect_errors("name: abcdefghijklmnopq\n", "s.yaml:1:7: name: must be at most 16 bytes long\n");
    expect_json("name: abcdefghijklmnop\n",
                "{\"name\":\"abcdefghijklmnop\",\"count\":3,\"enabled\":true,\"timeout\":30000,"
                "\"buffer\":16384,\"color\":\"red\",\"tags\":[],\"db\":{\"url\":"
                "\"https://db.example.org\",\"pool\":4}}");
    expect_errors("count: 11\n", "s.yaml:1:8: count: 11 is above the maximum 10\n");
    expect_errors("count: -6\n", "s.yaml:1:8: count: -6 is below the minimum -5\n");
    expect_errors("timeout: 99ms\n", "s.yaml:1:10: timeout: 99ms is below the minimum 100ms\n");
    expect_errors("timeout: 2h\n", "s.yaml:1:10: timeout: 2h is above the maximum 1h\n");
    expect_errors("timeout: 3601\n", "s.yaml:1:10: timeout: 3601s is above the maximum 1h\n");
    expect_errors("buffer: 0\n", "s.yaml:1:9: buffer: 0B is below the minimum 1B\n");
    expect_errors("buffer: 1025k\n", "s.yaml:1:9: buffer: 1025KiB is above the maximum 1MiB\n");
    expect_errors("tags: [a, b, c, d]\n", "s.yaml:1:7: tags: must be at most 3 items\n");
    expect_errors("db: {pool: 0}\n", "s.yaml:1:12: db.pool: 0 is below the minimum 1\n");
    /* Bounds of a list count its items; they do not apply to each item. */
    expect_json("tags: [\"\", abcdefghijklmnopqrstuvwxyz]\n",
                "{\"name\":\"svc\",\"count\":3,\"enabled\":true,\"timeout\":30000,"
                "\"buffer\":16384,\"color\":\"red\",\"tags\":[\"\","
                "\"abcdefghijklmnopqrstuvwxyz\"],\"db\":{\"url\":\"https://db.example.org\","
                "\"pool\":4}}");
}

static void test_quantity_errors(void **state)
{
    (void)state;
    expect_errors("timeout: 5 min\n",
                  "s.yaml:1:10: timeout: invalid duration \"5 min\" (expected a duration such as "
                  "30s, 250ms, 5m, 2h or 7d)\n");
    expect_errors("timeout: -1\n", "s.yaml:1:10: timeout: invalid duration \"-1\" (expected a "
                                   "duration such as 30s, 250ms, 5m, 2h or 7d)\n");
    expect_errors("timeout: 1.5s\n", "s.yaml:1:10: timeout: invalid duration \"1.5s\" (expected a "
                                     "duration such as 30s, 250ms, 5m, 2h or 7d)\n");
    expect_errors("timeout: 9223372036854775807\n",
                  "s.yaml:1:10: timeout: \"9223372036854775807\" duration is too large\n");
    expect_errors("buffer: 16KB\n",
                  "s.yaml:1:9: buffer: invalid size \"16KB\" (expected a size such as 512, 16k or "
                  "1M; KB, MB and GB are ambiguous, write k or KiB (powers of 1024))\n");
    expect_errors("buffer: 1T\n", "s.yaml:1:9: buffer: invalid size \"1T\" (expected a size such "
                                  "as 512, 16k or 1M)\n");
    expect_errors("buffer: 99999999999G\n",
                  "s.yaml:1:9: buffer: \"99999999999G\" size is too large\n");
}

static void test_parse_units(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        int64_t ms;
    } durations[] = {
        {"250ms", 0, 250},
        {"30s", 0, 30000},
        {"5m", 0, 300000},
        {"2h", 0, 7200000},
        {"7d", 0, 604800000},
        {"12", 0, 12000},
        {"0", 0, 0},
        {"0ms", 0, 0},
        {"", ESP_EINVAL, 0},
        {"s", ESP_EINVAL, 0},
        {"5 s", ESP_EINVAL, 0},
        {"5S", ESP_EINVAL, 0},
        {"5sec", ESP_EINVAL, 0},
        {"-5s", ESP_EINVAL, 0},
        {"1.5h", ESP_EINVAL, 0},
        {"5w", ESP_EINVAL, 0},
        {"9223372036854775808ms", ESP_ETOOBIG, 0},
        {"106751991167301d", ESP_ETOOBIG, 0},
    };
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        int64_t v = -1;
        int rc = esg_schema_parse_duration(durations[i].text, strlen(durations[i].text), &v);
        if (rc != durations[i].rc || (rc == 0 && v != durations[i].ms))
            fail_msg("duration \"%s\": rc %d value %lld", durations[i].text, rc, (long long)v);
    }
    static const struct {
        const char *text;
        int rc;
        int64_t bytes;
    } sizes[] = {
        {"512", 0, 512},
        {"512B", 0, 512},
        {"512b", 0, 512},
        {"16k", 0, 16384},
        {"16K", 0, 16384},
        {"16KiB", 0, 16384},
        {"16kib", 0, 16384},
        {"1M", 0, 1048576},
        {"1MiB", 0, 1048576},
        {"1m", 0, 1048576},
        {"1G", 0, 1073741824},
        {"1GiB", 0, 1073741824},
        {"16KB", ESP_EINVAL, 0},
        {"1MB", ESP_EINVAL, 0},
        {"1 M", ESP_EINVAL, 0},
        {"k", ESP_EINVAL, 0},
        {"-1", ESP_EINVAL, 0},
        {"1.5M", ESP_EINVAL, 0},
        {"8589934592G", ESP_ETOOBIG, 0},
    };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int64_t v = -1;
        int rc = esg_schema_parse_size(sizes[i].text, strlen(sizes[i].text), &v);
        if (rc != sizes[i].rc || (rc == 0 && v != sizes[i].bytes))
            fail_msg("size \"%s\": rc %d value %lld", sizes[i].text, rc, (long long)v);
    }

    esg_buf b = ESG_BUF_INIT;
    const int64_t ms[] = {0, 1, 999, 1000, 90000, 3600000, 86400000, 1500};
    const char *ms_text = "0ms 1ms 999ms 1s 90s 1h 1d 1500ms ";
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        assert_int_equal(esg_schema_format_duration(&b, ms[i]), 0);
        esg_buf_putc(&b, ' ');
    }
    assert_string_equal(b.data, ms_text);
    esg_buf_reset(&b);
    const int64_t bytes[] = {0, 512, 1024, 1536, 1048576, 1073741824, 3221225472};
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        assert_int_equal(esg_schema_format_size(&b, bytes[i]), 0);
        esg_buf_putc(&b, ' ');
    }
    assert_string_equal(b.data, "0B 512B 1KiB 1536B 1MiB 1GiB 3GiB ");
    esg_buf_free(&b);
}

static void test_urls(void **state)
{
    (void)state;
    const char *good[] = {"http://a",        "https://a.example.org",
                          "HTTPS://A:1/x",   "http://127.0.0.1:8088",
                          "https://[::1]/p", "http://h:65535?x=1#"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "endpoint: \"%s\"\n", good[i]);
        result r;
        run(&r, yaml);
        /* The last one has an (empty) fragment and must fail; the others pass. */
        assert_int_equal(r.rc, i + 1 == sizeof(good) / sizeof(good[0]) ? ESP_ECONFIG : 0);
        done(&r);
    }
    static const struct {
        const char *url;
        const char *problem;
    } bad[] = {
        {"ftp://a", "it must start with http:// or https://"},
        {"a.example.org", "it must start with http:// or https://"},
        {"http://", "it has no host"},
        {"http:///x", "it has no host"},
        {"http://:80", "it has no host"},
        {"http://a b", "it contains spaces, control characters or backslashes"},
        {"http://a\\\\b", "it contains spaces, control characters or backslashes"},
        {"http://a/#top", "it must not have a fragment (#...)"},
        {"http://u:p@a", "it must not contain user:password@ (put credentials in a secret option)"},
        {"http://a:0", "its port is not a number from 1 to 65535"},
        {"http://a:65536", "its port is not a number from 1 to 65535"},
        {"http://a:", "its port is not a number from 1 to 65535"},
        {"http://a:8x", "its port is not a number from 1 to 65535"},
        {"http://[::1", "its IPv6 host is not closed with ]"},
        {"http://[]", "its IPv6 host is not closed with ]"},
        {"http://[::1]x", "its port is not a number from 1 to 65535"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[160], expected[320];
        snprintf(yaml, sizeof(yaml), "endpoint: \"%s\"\n", bad[i].url);
        snprintf(expected, sizeof(expected), "s.yaml:1:11: endpoint: invalid URL \"%s\" (%s)\n",
                 bad[i].url, bad[i].problem);
        expect_errors(yaml, expected);
    }
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_errors("cuont: 1\n", "s.yaml:1:1: unknown key \"cuont\" (did you mean \"count\"?)\n");
    expect_errors("db:\n  pol: 1\n",
                  "s.yaml:2:3: unknown key \"pol\" in db (did you mean \"pool\"?)\n");
    expect_errors("items:\n  - id: a\n    wieght: 2\n",
                  "s.yaml:3:5: unknown key \"wieght\" in items[0] (did you mean \"weight\"?)\n");
    expect_errors("frobnicate: 1\n", "s.yaml:1:1: unknown key \"frobnicate\"\n");
    expect_errors("Name: x\n", "s.yaml:1:1: unknown key \"Name\" (did you mean \"name\"?)\n");
    /* Control characters in keys cannot forge extra lines of output. */
    expect_errors("\"a\\nb\": 1\n", "s.yaml:1:1: unknown key \"a\\nb\"\n");
}

static void test_required(void **state)
{
    (void)state;
    expect_errors("items:\n  - weight: 2\n",
                  "s.yaml:2:5: missing required key \"id\" in items[0]\n");
    expect_errors("items:\n  - id:\n", "s.yaml:2:8: items[0].id: a value is required\n");
    expect_errors("items: [{}]\n", "s.yaml:1:9: missing required key \"id\" in items[0]\n");

    /* At the top level the error points at the mapping, or at the anchor when nothing is given. */
    static const esp_option req[] = {
        OPTION(.key = "must", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .help = "M."),
        END,
    };
    result r;
    run_ctx(&r, "\n\nx: 1\n", req, NULL);
    assert_string_equal(r.text.data, "s.yaml:3:1: unknown key \"x\"\n"
                                     "s.yaml:3:1: missing required key \"must\"\n");
    done(&r);

    run_ctx(&r, "inst:\n  name: a\n", all_opts, NULL);
    const esg_yaml_node *inst = esg_yaml_get(esg_yaml_root(r.doc), "inst");
    esg_schema_ctx ctx = {"key_stores[0].options", NULL, inst};
    json_t *out = NULL;
    esg_config_errors errors;
    esg_config_errors_init(&errors);
    assert_int_equal(esg_schema_validate(&ctx, NULL, req, &out, &errors), ESP_ECONFIG);
    assert_null(out);
    esg_buf b = ESG_BUF_INIT;
    esg_config_errors_format(&errors, &b);
    assert_string_equal(b.data,
                        "s.yaml:2:3: missing required key \"must\" in key_stores[0].options\n");
    esg_config_errors_free(&errors);
    esg_buf_reset(&b);
    /* With a `where`, type errors name the full path. */
    assert_int_equal(esg_schema_validate(&ctx, esg_yaml_get(inst, "name"), req, &out, &errors),
                     ESP_ECONFIG);
    esg_config_errors_format(&errors, &b);
    assert_string_equal(b.data, "s.yaml:2:9: key_stores[0].options: expected a mapping, found a "
                                "string\n");
    esg_config_errors_free(&errors);
    esg_buf_free(&b);
    done(&r);
}

static void test_no_options(void **state)
{
    (void)state;
    result r;
    static const esp_option empty[] = {END};
    run_ctx(&r, "", NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.compact, "{}");
    done(&r);
    run_ctx(&r, "{}", empty, NULL);
    assert_int_equal(r.rc, 0);
    done(&r);
    esg_schema_ctx ctx = {"otp_notifiers[1].options", NULL, NULL};
    run_ctx(&r, "a: 1\n", NULL, &ctx);
    assert_int_equal(r.rc, ESP_ECONFIG);
    assert_string_equal(r.text.data, "s.yaml:1:1: unknown key \"a\" in otp_notifiers[1].options "
                                     "(no options are accepted here)\n");
    done(&r);
    run_ctx(&r, "a: 1\n", empty, NULL);
    assert_string_equal(r.text.data, "s.yaml:1:1: unknown key \"a\" (no options are accepted "
                                     "here)\n");
    done(&r);
}

static void test_many_errors(void **state)
{
    (void)state;
    /* Every error is reported in one run, in file order within each mapping. */
    expect_errors("name: 1\ncount: x\nbogus: 1\ndb:\n  pool: 99\n  url: ftp://x\n",
                  "s.yaml:3:1: unknown key \"bogus\"\n"
                  "s.yaml:1:7: name: expected a string, found an integer (quote it to use it as "
                  "text)\n"
                  "s.yaml:2:8: count: expected an integer, found a string\n"
                  "s.yaml:6:8: db.url: invalid URL \"ftp://x\" (it must start with http:// or "
                  "https://)\n"
                  "s.yaml:5:9: db.pool: 99 is above the maximum 32\n");
    /* The list stops growing at its limit and counts the rest. */
    esg_buf yaml = ESG_BUF_INIT;
    for (int i = 0; i < 60; i++)
        esg_buf_printf(&yaml, "bad%d: 1\n", i);
    result r;
    run(&r, yaml.data);
    assert_int_equal(r.errors.count, ESG_CONFIG_MAX_ERRORS);
    assert_int_equal(r.errors.dropped, 10);
    assert_non_null(strstr(r.text.data, "... and 10 more errors\n"));
    done(&r);
    esg_buf_free(&yaml);
}

static void test_secrets(void **state)
{
    (void)state;
    const char *secret_values[] = {"hunter2", "s3cr3tTOKEN", "u:pw@hook", "12345678901"};
    const char *yaml = "db:\n  password: hunter2\n"
                       "token: [s3cr3tTOKEN]\n"
                       "hook: \"http://u:pw@hook\"\n"
                       "secrets: {k: 12345678901}\n";
    result r;
    run(&r, yaml);
    assert_int_equal(r.rc, ESP_ECONFIG);
    assert_string_equal(r.text.data,
                        "s.yaml:2:13: db.password: must be at least 8 bytes long\n"
                        "s.yaml:3:8: token: expected a string, found a list\n"
                        "s.yaml:4:7: hook: invalid URL (it must not contain user:password@ (put "
                        "credentials in a secret option))\n"
                        "s.yaml:5:14: secrets.k: expected a string, found an integer (quote it "
                        "to use it as text)\n");
    for (size_t i = 0; i < sizeof(secret_values) / sizeof(secret_values[0]); i++)
        assert_null(strstr(r.text.data, secret_values[i]));
    done(&r);

    /* Bounds and enum values of secret options are not echoed either. */
    static const esp_option secret_opts[] = {
        OPTION(.key = "pin", .type = ESP_OPT_INT, .flags = ESP_OPT_SECRET, .min = 0, .max = 9999,
               .help = "PIN."),
        OPTION(.key = "mode", .type = ESP_OPT_ENUM, .flags = ESP_OPT_SECRET, .choices = colors,
               .help = "Mode."),
        OPTION(.key = "ttl", .type = ESP_OPT_DURATION, .flags = ESP_OPT_SECRET, .help = "TTL."),
        OPTION(.key = "flag", .type = ESP_OPT_BOOL, .flags = ESP_OPT_SECRET, .help = "Flag."),
        END,
    };
    run_ctx(&r, "pin: 123456\nmode: gren\nttl: 77parsecs\nflag: yes\n", secret_opts, NULL);
    assert_string_equal(r.text.data, "s.yaml:1:6: pin: value is above the maximum 9999\n"
                                     "s.yaml:2:7: mode: is not one of: red, green, blue\n"
                                     "s.yaml:3:6: ttl: invalid duration (expected a duration such "
                                     "as 30s, 250ms, 5m, 2h or 7d)\n"
                                     "s.yaml:4:7: flag: expected true or false, found a string\n");
    assert_null(strstr(r.text.data, "123456"));
    assert_null(strstr(r.text.data, "gren"));
    assert_null(strstr(r.text.data, "77parsecs"));
    done(&r);

    /* Redaction replaces every secret, however deep, and nothing else. */
    run(&r, "db:\n  password: hunter2hunter2\ntoken: s3cr3tTOKEN\nsecrets: {a: x1, b: x2}\n"
            "zones: {z: {id: visible}}\n");
    assert_int_equal(r.rc, 0);
    json_t *red = NULL;
    assert_int_equal(esg_schema_redact(r.json, all_opts, &red), 0);
    char *text = json_dumps(red, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "{\"name\":\"svc\",\"count\":3,\"enabled\":true,\"timeout\":30000,"
                              "\"buffer\":16384,\"color\":\"red\",\"tags\":[],\"db\":{\"url\":"
                              "\"https://db.example.org\",\"password\":\"<redacted>\","
                              "\"pool\":4},\"token\":\"<redacted>\",\"secrets\":\"<redacted>\","
                              "\"zones\":{\"z\":{\"id\":\"visible\",\"weight\":1}}}");
    free(text);
    /* The original is untouched. */
    assert_string_equal(json_string_value(json_object_get(r.json, "token")), "s3cr3tTOKEN");
    json_decref(red);
    done(&r);
}

static void test_stride(void **state)
{
    (void)state;
    /* An array built against a later minor has larger entries; it is walked by their size. */
    typedef struct option_v2 {
        esp_option base;
        uint64_t added_later;
    } option_v2;
    static const option_v2 v2[] = {
        {{.size = sizeof(option_v2),
          .key = "a",
          .type = ESP_OPT_INT,
          .default_text = "1",
          .help = "A."},
         7},
        {{.size = sizeof(option_v2), .key = "b", .type = ESP_OPT_STRING, .help = "B."}, 8},
        {{0}, 0},
    };
    result r;
    run_ctx(&r, "b: x\n", &v2[0].base, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.compact, "{\"a\":1,\"b\":\"x\"}");
    done(&r);
    esg_config_errors errors;
    esg_config_errors_init(&errors);
    assert_int_equal(esg_schema_check_options(&v2[0].base, "plugin \"v2\"", &errors), 0);
    esg_config_errors_free(&errors);

    /* Entries smaller than esp_option cannot be walked. */
    static const esp_option small[] = {
        {.size = 8, .key = "a", .type = ESP_OPT_INT, .help = "A."},
        END,
    };
    run_ctx(&r, "a: 1\n", small, NULL);
    assert_int_equal(r.rc, ESP_EINVAL);
    assert_string_equal(r.text.data, "s.yaml:1:1: the option declarations cannot be read (entry "
                                     "size 8 is smaller than esp_option)\n");
    done(&r);
}

/* Checks `opts` and expects exactly `expected` (one line per error). */
static void expect_decl(const esp_option *opts, const char *expected)
{
    esg_config_errors errors;
    esg_buf b = ESG_BUF_INIT;
    esg_config_errors_init(&errors);
    int rc = esg_schema_check_options(opts, "plugin \"bad\"", &errors);
    assert_int_equal(esg_config_errors_format(&errors, &b), 0);
    if (expected[0] == '\0') {
        assert_int_equal(rc, 0);
    } else {
        assert_int_equal(rc, ESP_ECONFIG);
        assert_string_equal(b.data, expected);
    }
    esg_buf_free(&b);
    esg_config_errors_free(&errors);
}

static const esp_option cyclic[];
static const esp_option cyclic[] = {
    OPTION(.key = "self", .type = ESP_OPT_OBJECT, .children = cyclic, .help = "Loops."),
    END,
};

static void test_declarations(void **state)
{
    (void)state;
    expect_decl(all_opts, "");
    expect_decl(NULL, "");

    static const esp_option bad_type[] = {OPTION(.key = "a", .type = 99, .help = "A."), END};
    expect_decl(bad_type, "plugin \"bad\": option \"a\": unknown type 99\n");
    static const esp_option bad_flags[] = {
        OPTION(.key = "a", .type = ESP_OPT_INT, .flags = 8, .help = "A."), END};
    expect_decl(bad_flags, "plugin \"bad\": option \"a\": unknown flags 0x8\n");
    static const esp_option bad_keys[] = {
        OPTION(.key = "", .type = ESP_OPT_INT, .help = "A."),
        OPTION(.key = "a.b", .type = ESP_OPT_INT, .help = "A."),
        OPTION(.key = "9x", .type = ESP_OPT_INT, .help = "A."),
        OPTION(.key = "ok", .type = ESP_OPT_INT, .help = "A."),
        OPTION(.key = "ok", .type = ESP_OPT_INT, .help = "A."),
        END,
    };
    expect_decl(bad_keys, "plugin \"bad\": option \"\": the key is not a valid name "
                          "([A-Za-z_][A-Za-z0-9_-]{0,63})\n"
                          "plugin \"bad\": option \"a.b\": the key is not a valid name "
                          "([A-Za-z_][A-Za-z0-9_-]{0,63})\n"
                          "plugin \"bad\": option \"9x\": the key is not a valid name "
                          "([A-Za-z_][A-Za-z0-9_-]{0,63})\n"
                          "plugin \"bad\": option \"ok\": the key is declared twice\n");
    static const char *const empty_choices[] = {NULL};
    static const char *const dup_choices[] = {"a", "", "a", NULL};
    static const esp_option bad_enums[] = {
        OPTION(.key = "none", .type = ESP_OPT_ENUM, .help = "A."),
        OPTION(.key = "empty", .type = ESP_OPT_ENUM, .choices = empty_choices, .help = "A."),
        OPTION(.key = "dup", .type = ESP_OPT_ENUM, .choices = dup_choices, .help = "A."),
        OPTION(.key = "stray", .type = ESP_OPT_STRING, .choices = colors, .help = "A."),
        OPTION(.key = "listnone", .type = ESP_OPT_LIST, .item_type = ESP_OPT_ENUM, .help = "A."),
        END,
    };
    expect_decl(bad_enums,
                "plugin \"bad\": option \"none\": an enum needs a non-empty, NULL-terminated "
                "choices list\n"
                "plugin \"bad\": option \"empty\": an enum needs a non-empty, NULL-terminated "
                "choices list\n"
                "plugin \"bad\": option \"dup\": choice 1 is empty or not UTF-8 text\n"
                "plugin \"bad\": option \"dup\": choice \"a\" is listed twice\n"
                "plugin \"bad\": option \"stray\": choices are set but the option is not an enum "
                "(nor a list or map of enum)\n"
                "plugin \"bad\": option \"listnone\": an enum needs a non-empty, NULL-terminated "
                "choices list\n");
    static const esp_option bad_items[] = {
        OPTION(.key = "noitem", .type = ESP_OPT_LIST, .help = "A."),
        OPTION(.key = "nested", .type = ESP_OPT_MAP, .item_type = ESP_OPT_LIST, .help = "A."),
        OPTION(.key = "stray", .type = ESP_OPT_INT, .item_type = ESP_OPT_INT, .help = "A."),
        OPTION(.key = "nochildren", .type = ESP_OPT_OBJECT, .help = "A."),
        OPTION(.key = "listobj", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT, .help = "A."),
        OPTION(.key = "strayc", .type = ESP_OPT_STRING, .children = item_opts, .help = "A."),
        END,
    };
    expect_decl(bad_items,
                "plugin \"bad\": option \"noitem\": a list needs an item_type other than list or "
                "map (got 0)\n"
                "plugin \"bad\": option \"nested\": a map needs an item_type other than list or "
                "map (got 7)\n"
                "plugin \"bad\": option \"stray\": item_type is set but the option is not a list "
                "or map\n"
                "plugin \"bad\": option \"nochildren\": an object needs children (an option "
                "array, possibly empty)\n"
                "plugin \"bad\": option \"listobj\": an object needs children (an option array, "
                "possibly empty)\n"
                "plugin \"bad\": option \"strayc\": children are set but the option is not an "
                "object (nor a list or map of objects)\n");
    static const esp_option bad_bounds[] = {
        OPTION(.key = "minmax", .type = ESP_OPT_INT, .min = 5, .max = 1, .help = "A."),
        OPTION(.key = "onlymin", .type = ESP_OPT_STRING, .min = 1, .help = "A."),
        OPTION(.key = "neg", .type = ESP_OPT_SIZE, .min = -1, .max = 10, .help = "A."),
        OPTION(.key = "flag", .type = ESP_OPT_BOOL, .max = 1, .help = "A."),
        OPTION(.key = "okint", .type = ESP_OPT_INT, .min = -10, .max = INT64_MAX, .help = "A."),
        END,
    };
    expect_decl(bad_bounds,
                "plugin \"bad\": option \"minmax\": min 5 is greater than max 1 (use INT64_MAX "
                "for no upper bound)\n"
                "plugin \"bad\": option \"onlymin\": min 1 is greater than max 0 (use INT64_MAX "
                "for no upper bound)\n"
                "plugin \"bad\": option \"neg\": min -1 is negative, which a size never is\n"
                "plugin \"bad\": option \"flag\": min and max mean nothing for a boolean; leave "
                "them 0\n");
    static const esp_option bad_defaults[] = {
        OPTION(.key = "req", .type = ESP_OPT_INT, .flags = ESP_OPT_REQUIRED, .default_text = "1",
               .help = "A."),
        OPTION(.key = "obj", .type = ESP_OPT_OBJECT, .children = item_opts,
               .default_text = "{id: x}", .help = "A."),
        OPTION(.key = "wrong", .type = ESP_OPT_DURATION, .default_text = "soon", .help = "A."),
        OPTION(.key = "range", .type = ESP_OPT_INT, .default_text = "50", .min = 0, .max = 10,
               .help = "A."),
        OPTION(.key = "choice", .type = ESP_OPT_ENUM, .choices = colors, .default_text = "pink",
               .help = "A."),
        OPTION(.key = "yaml", .type = ESP_OPT_LIST, .item_type = ESP_OPT_INT, .default_text = "[1,",
               .help = "A."),
        OPTION(.key = "env", .type = ESP_OPT_STRING, .default_text = "${HOME}", .help = "A."),
        OPTION(.key = "hidden", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET,
               .default_text = "12", .help = "A."),
        OPTION(.key = "fine", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,
               .children = item_opts, .default_text = "[{id: a}]", .help = "A."),
        END,
    };
    expect_decl(
        bad_defaults,
        "plugin \"bad\": option \"req\": is required and has a default; drop one of them\n"
        "plugin \"bad\": option \"obj\": an object takes its defaults from its children; "
        "default_text must be NULL\n"
        "plugin \"bad\": option \"wrong\": its default \"soon\" is invalid (wrong: invalid "
        "duration \"soon\" (expected a duration such as 30s, 250ms, 5m, 2h or 7d))\n"
        "plugin \"bad\": option \"range\": its default \"50\" is invalid (range: 50 is above the "
        "maximum 10)\n"
        "plugin \"bad\": option \"choice\": its default \"pink\" is invalid (choice: \"pink\" is "
        "not one of: red, green, blue)\n"
        "plugin \"bad\": option \"yaml\": its default \"[1,\" is invalid (YAML syntax error: did "
        "not find expected node content (while parsing a flow node))\n"
        "plugin \"bad\": option \"env\": its default \"${HOME}\" is invalid (environment "
        "variable HOME is not set (write ${HOME:-default} to give a default))\n"
        "plugin \"bad\": option \"hidden\": its default is invalid (hidden: expected a string, "
        "found an integer (quote it to use it as text))\n");
    static const esp_option nested_bad[] = {
        OPTION(.key = "outer", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,
               .children = bad_type, .help = "A."),
        END,
    };
    expect_decl(nested_bad, "plugin \"bad\": option \"outer.a\": unknown type 99\n");
    expect_decl(cyclic, "plugin \"bad\": option "
                        "\"self.self.self.self.self.self.self.self.self.self.self.self.self.self."
                        "self.self.self\": options are nested deeper than 16 levels (do children "
                        "point back to a parent?)\n");
    static const esp_option small[] = {{.size = 4, .key = "a"}, END};
    char expected[160];
    snprintf(expected, sizeof(expected),
             "plugin \"bad\": entries have size 4; set .size = sizeof(esp_option) (%zu)\n",
             sizeof(esp_option));
    expect_decl(small, expected);

    /* A very long array is taken for a missing terminator. */
    enum { N = 1030 };
    static esp_option many[N + 1];
    static char names[N][8];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        many[i] = (esp_option){
            .size = sizeof(esp_option), .key = names[i], .type = ESP_OPT_INT, .help = "K."};
    }
    expect_decl(many, "plugin \"bad\": more than 1024 options in one array (is the {0} "
                      "terminator missing?)\n");
}

static void test_markdown(void **state)
{
    (void)state;
    static const esp_option opts[] = {
        OPTION(.key = "listen", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING,
               .default_text = "[\"a:1\"]", .min = 1, .max = 4, .help = "Where | to <listen>."),
        OPTION(.key = "mode", .type = ESP_OPT_ENUM, .choices = versions, .default_text = "1.2",
               .help = "Mode."),
        OPTION(.key = "db", .type = ESP_OPT_OBJECT, .children = db_opts, .help = "Database."),
        OPTION(.key = "items", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,
               .children = item_opts, .help = "Items."),
        OPTION(.key = "zones", .type = ESP_OPT_MAP, .item_type = ESP_OPT_OBJECT,
               .children = item_opts, .help = "Zones."),
        OPTION(.key = "wait", .type = ESP_OPT_DURATION, .min = 1000, .max = INT64_MAX,
               .help = "Wait."),
        OPTION(.key = "buf", .type = ESP_OPT_SIZE, .min = 1024, .max = 1048576,
               .default_text = "4k", .help = "Buffer."),
        OPTION(.key = "code", .type = ESP_OPT_STRING, .default_text = "'`x`'",
               .flags = ESP_OPT_REQUIRED | ESP_OPT_SECRET, .help = "Code."),
        END,
    };
    esg_buf b = ESG_BUF_INIT;
    assert_int_equal(esg_schema_markdown(opts, "p.", 0, &b), 0);
    assert_string_equal(
        b.data, "| Key | Type | Default | Flags | Bounds | Description |\n"
                "| --- | --- | --- | --- | --- | --- |\n"
                "| `p.listen` | list of string | `[\"a:1\"]` |  | 1 to 4 items | Where \\| to "
                "&lt;listen&gt;. |\n"
                "| `p.mode` | enum: `1.2`, `1.3` | `1.2` |  |  | Mode. |\n"
                "| `p.db` | object |  |  |  | Database. |\n"
                "| `p.db.url` | URL | `https://db.example.org` |  |  | Database. |\n"
                "| `p.db.password` | string |  | secret | length 8 to 64 bytes | Password. |\n"
                "| `p.db.pool` | integer | `4` |  | 1 to 32 | Connections. |\n"
                "| `p.items` | list of object |  |  |  | Items. |\n"
                "| `p.items[].id` | string |  | required | length 1 to 8 bytes | Item id. |\n"
                "| `p.items[].weight` | integer | `1` |  |  | Weight. |\n"
                "| `p.zones` | map of object |  |  |  | Zones. |\n"
                "| `p.zones.<name>.id` | string |  | required | length 1 to 8 bytes | Item id. |\n"
                "| `p.zones.<name>.weight` | integer | `1` |  |  | Weight. |\n"
                "| `p.wait` | duration |  |  | at least 1s | Wait. |\n"
                "| `p.buf` | size | `4k` |  | 1KiB to 1MiB | Buffer. |\n"
                "| `p.code` | string | `` '`x`' `` | required, secret |  | Code. |\n");
    esg_buf_reset(&b);
    assert_int_equal(esg_schema_markdown(opts, NULL, 1, &b), 0);
    assert_null(strstr(b.data, "db"));
    assert_non_null(strstr(b.data, "| `items[].id` |"));
    esg_buf_free(&b);
    assert_string_equal(esg_schema_type_name(ESP_OPT_URL), "URL");
    assert_string_equal(esg_schema_type_name(0), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_type_errors),  cmocka_unit_test(test_enums),
        cmocka_unit_test(test_bounds),       cmocka_unit_test(test_quantity_errors),
        cmocka_unit_test(test_parse_units),  cmocka_unit_test(test_urls),
        cmocka_unit_test(test_unknown_keys), cmocka_unit_test(test_required),
        cmocka_unit_test(test_no_options),   cmocka_unit_test(test_many_errors),
        cmocka_unit_test(test_secrets),      cmocka_unit_test(test_stride),
        cmocka_unit_test(test_declarations), cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
