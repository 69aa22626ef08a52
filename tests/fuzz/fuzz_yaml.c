/*
 * YAML loading and schema validation on arbitrary input. The input is loaded as a configuration
 * file (with a fixed environment for ${VAR}), checked against the guarantees of yaml.h, then
 * validated against a schema that uses every option type and flag, redacted and rendered. Any
 * broken guarantee aborts, so the fuzzer reports it like a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/schema.h"
#include "config/yaml.h"
#include "util/str.h"

#define OPTION(...)                                                                                \
    {                                                                                              \
        .size = sizeof(esp_option), __VA_ARGS__                                                    \
    }
#define END                                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const colors[] = {"red", "green", "blue", NULL};

static const esp_option item_opts[] = {
    OPTION(.key = "id", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 8,
           .help = "Id."),
    OPTION(.key = "weight", .type = ESP_OPT_INT, .default_text = "1", .min = -3, .max = 3,
           .help = "Weight."),
    OPTION(.key = "secret", .type = ESP_OPT_ANY, .flags = ESP_OPT_SECRET, .help = "Hidden."),
    END,
};

static const esp_option db_opts[] = {
    OPTION(.key = "url", .type = ESP_OPT_URL, .default_text = "https://db.example.org",
           .help = "URL."),
    OPTION(.key = "password", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .min = 8, .max = 64,
           .help = "Password."),
    OPTION(.key = "items", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT, .children = item_opts,
           .help = "Items."),
    END,
};

static const esp_option schema[] = {
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
    OPTION(.key = "tags", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING, .default_text = "[]",
           .min = 0, .max = 3, .help = "Tags."),
    OPTION(.key = "items", .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT, .children = item_opts,
           .help = "Items."),
    OPTION(.key = "limits", .type = ESP_OPT_MAP, .item_type = ESP_OPT_SIZE, .min = 0, .max = 4,
           .help = "Limits."),
    OPTION(.key = "zones", .type = ESP_OPT_MAP, .item_type = ESP_OPT_OBJECT, .children = item_opts,
           .help = "Zones."),
    OPTION(.key = "db", .type = ESP_OPT_OBJECT, .children = db_opts, .help = "Database."),
    OPTION(.key = "extra", .type = ESP_OPT_ANY, .help = "Anything."),
    OPTION(.key = "file", .type = ESP_OPT_PATH, .help = "A file."),
    OPTION(.key = "endpoint", .type = ESP_OPT_URL, .min = 8, .max = 200, .help = "Endpoint."),
    OPTION(.key = "token", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .help = "Token."),
    OPTION(.key = "palette", .type = ESP_OPT_LIST, .item_type = ESP_OPT_ENUM, .choices = colors,
           .help = "Colors."),
    OPTION(.key = "waits", .type = ESP_OPT_LIST, .item_type = ESP_OPT_DURATION,
           .help = "Durations."),
    OPTION(.key = "required", .type = ESP_OPT_BOOL, .flags = ESP_OPT_REQUIRED, .help = "Must."),
    END,
};

static const char *fuzz_env(void *ud, const char *name)
{
    (void)ud;
    if (strcmp(name, "PORT") == 0)
        return "8088";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "HOST") == 0)
        return "id.example.org";
    if (strcmp(name, "DOLLAR") == 0)
        return "${PORT}$$";
    return NULL;
}

/* Checks what yaml.h promises about every node; returns the depth below `n`. */
static size_t check_node(const esg_yaml_node *n, const char *file)
{
    size_t depth = 0;
    if (n == NULL || n->line < 1 || n->col < 1 || n->file != file)
        abort();
    if (n->kind == ESG_YAML_SCALAR) {
        if (n->text == NULL || strlen(n->text) != n->len || !esg_utf8_valid(n->text, n->len))
            abort();
        if (n->type < ESG_YAML_NULL || n->type > ESG_YAML_STRING || n->count != 0)
            abort();
        return 0;
    }
    if (n->kind != ESG_YAML_SEQUENCE && n->kind != ESG_YAML_MAPPING)
        abort();
    for (size_t i = 0; i < n->count; i++) {
        if (n->kind == ESG_YAML_MAPPING) {
            const esg_yaml_node *k = n->keys[i];
            if (k->kind != ESG_YAML_SCALAR || k->type != ESG_YAML_STRING)
                abort();
            check_node(k, file);
            /* Keys are unique. */
            for (size_t j = 0; j < i && j < 64; j++)
                if (strcmp(n->keys[j]->text, k->text) == 0)
                    abort();
        }
        size_t d = check_node(n->items[i], file);
        if (d > depth)
            depth = d;
    }
    return depth + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esg_yaml_env env = {fuzz_env, NULL};
    esg_yaml_opts opts = {&env, NULL, NULL};
    esg_yaml_doc *doc = NULL;
    esg_config_errors errors;
    esg_buf text = ESG_BUF_INIT;
    json_t *json = NULL, *red = NULL, *any = NULL;

    esg_config_errors_init(&errors);
    int rc = esg_yaml_load_string("fuzz.yaml", (const char *)data, size, &opts, &doc, &errors);
    if ((rc == 0) != (doc != NULL) || (rc == 0 && errors.count != 0) ||
        (rc == ESP_ECONFIG && esg_config_errors_total(&errors) == 0))
        abort();
    if (rc == 0) {
        const esg_yaml_node *root = esg_yaml_root(doc);
        if (check_node(root, esg_yaml_name(doc)) > ESG_YAML_MAX_DEPTH)
            abort();
        esg_schema_ctx ctx = {"fuzz", "/base", root};
        rc = esg_schema_validate(&ctx, root, schema, &json, &errors);
        if ((rc == 0) != (json != NULL) || (rc == ESP_ECONFIG && errors.count == 0))
            abort();
        if (rc == 0) {
            if (!json_is_object(json) || esg_schema_redact(json, schema, &red) != 0)
                abort();
            /* The secret is redacted in the copy and kept in the original. */
            json_t *token = json_object_get(red, "token");
            if (token != NULL && strcmp(json_string_value(token), ESG_SCHEMA_REDACTED) != 0)
                abort();
            char *dump = json_dumps(red, JSON_COMPACT);
            free(dump);
        }
        if (esg_yaml_to_json(root, &any, &errors) == 0 && any == NULL)
            abort();
    }
    /* Every message formats into lines. */
    if (esg_config_errors_format(&errors, &text) != 0)
        abort();

    /* The unit parsers take the raw bytes too. */
    int64_t v;
    esg_schema_parse_duration((const char *)data, size, &v);
    esg_schema_parse_size((const char *)data, size, &v);

    json_decref(any);
    json_decref(red);
    json_decref(json);
    esg_buf_free(&text);
    esg_config_errors_free(&errors);
    esg_yaml_free(doc);
    return 0;
}
