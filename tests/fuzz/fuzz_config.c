/*
 * The whole configuration loader on arbitrary input: core schema, typed struct, instance checks,
 * instance option validation against a made-up plugin schema, and the redacted dump. A secret
 * of a validated instance must never reach the dump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define OPTION(...)                                                                                \
    {                                                                                              \
        .size = sizeof(esp_option), __VA_ARGS__                                                    \
    }
#define END                                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const esp_option plugin_opts[] = {
    OPTION(.key = "dir", .type = ESP_OPT_PATH, .default_text = "keys", .help = "Dir."),
    OPTION(.key = "pin", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .help = "PIN."),
    OPTION(.key = "ttl", .type = ESP_OPT_DURATION, .default_text = "1h", .help = "TTL."),
    END,
};

static const char *fuzz_env(void *ud, const char *name)
{
    (void)ud;
    return strcmp(name, "PORT") == 0 ? "8088" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    esg_yaml_env env = {fuzz_env, NULL};
    esg_config *cfg = NULL;
    esg_config_errors errors;
    esg_buf dump = ESG_BUF_INIT;

    esg_config_errors_init(&errors);
    int rc =
        esg_config_load_string("fuzz.yaml", (const char *)data, size, "/base", &env, &cfg, &errors);
    if ((rc == 0) != (cfg != NULL))
        abort();
    if (rc == 0) {
        if (cfg->issuer == NULL || cfg->base_path == NULL || cfg->server.n_listen == 0 ||
            cfg->storage.inflight == NULL || cfg->storage.persistent == NULL)
            abort();
        for (size_t i = 0; i < cfg->n_instances; i++) {
            json_t *opts = NULL;
            esg_config_validate_options(cfg, &cfg->instances[i], plugin_opts, &opts, &errors);
            json_decref(opts);
        }
        if (esg_config_dump(cfg, &dump) != 0)
            abort();
        /* In the dump, validated options have their PIN redacted and others are not shown. */
        json_t *parsed = json_loads(dump.data, 0, NULL);
        if (parsed == NULL)
            abort();
        for (size_t i = 0; i < cfg->n_instances; i++) {
            const esg_config_instance *inst = &cfg->instances[i];
            json_t *section = json_object_get(parsed, inst->section);
            json_t *item = inst->kind == ESP_KIND_STORAGE ? json_object_get(section, inst->name)
                                                          : json_array_get(section, inst->index);
            json_t *shown = json_object_get(item, "options");
            if (item == NULL)
                abort();
            if (inst->redacted != NULL) {
                json_t *pin = json_object_get(shown, "pin");
                if (pin != NULL && strcmp(json_string_value(pin), ESG_SCHEMA_REDACTED) != 0)
                    abort();
            } else if (shown != NULL && !json_is_string(shown)) {
                abort();
            }
        }
        json_decref(parsed);
    }
    esg_buf_free(&dump);
    esg_config_errors_free(&errors);
    esg_config_free(cfg);
    return 0;
}
