/*
 * Unit tests of core/config/config.c: the core schema, defaults, the typed struct, the checks the
 * option language cannot express, instance options, dumps and the generated docs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/log.h"

#define OPTION(...)                                                                                \
    {                                                                                              \
        .size = sizeof(esp_option), __VA_ARGS__                                                    \
    }
#define END                                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

static const char *test_vars[] = {"ESIGNET_PORT", "9443", "HSM_PIN", "24680", NULL};

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
    esg_config *cfg;
    esg_config_errors errors;
    esg_buf text;
    int rc;
} loaded;

static void load(loaded *l, const char *yaml)
{
    memset(l, 0, sizeof(*l));
    esg_config_errors_init(&l->errors);
    l->rc = esg_config_load_string("e.yaml", yaml, strlen(yaml), "/srv/esg", &test_env, &l->cfg,
                                   &l->errors);
    assert_int_equal(esg_config_errors_format(&l->errors, &l->text), 0);
    if (l->rc == 0)
        assert_non_null(l->cfg);
    else
        assert_null(l->cfg);
}

static void unload(loaded *l)
{
    esg_config_free(l->cfg);
    esg_config_errors_free(&l->errors);
    esg_buf_free(&l->text);
}

static void expect_errors(const char *yaml, const char *expected)
{
    loaded l;
    load(&l, yaml);
    assert_int_equal(l.rc, ESP_ECONFIG);
    assert_string_equal(l.text.data ? l.text.data : "", expected);
    unload(&l);
}

static void test_defaults(void **state)
{
    (void)state;
    loaded l;
    load(&l, "issuer: http://127.0.0.1:8088\n");
    if (l.rc != 0)
        fail_msg("%s", l.text.data);
    const esg_config *c = l.cfg;
    assert_string_equal(c->issuer, "http://127.0.0.1:8088");
    assert_string_equal(c->base_path, "/v1/esignet");
    assert_int_equal(c->server.n_listen, 1);
    assert_string_equal(c->server.listen[0].host, "127.0.0.1");
    assert_int_equal(c->server.listen[0].port, 8088);
    assert_int_equal(c->server.listen[0].ipv6, 0);
    assert_int_equal(c->server.workers, 0);
    assert_int_equal(c->server.backlog, 511);
    assert_null(c->server.tls.certificate);
    assert_null(c->server.tls.private_key);
    assert_int_equal(c->server.tls.min_version, ESG_TLS_1_2);
    assert_int_equal(c->server.limits.request_line, 8192);
    assert_int_equal(c->server.limits.header_size, 16384);
    assert_int_equal(c->server.limits.headers, 64);
    assert_int_equal(c->server.limits.body, 65536);
    assert_int_equal(c->server.limits.connections, 10000);
    assert_int_equal(c->server.timeouts.header, 10000);
    assert_int_equal(c->server.timeouts.body, 10000);
    assert_int_equal(c->server.timeouts.keepalive, 60000);
    assert_int_equal(c->server.timeouts.write, 30000);
    assert_int_equal(c->server.timeouts.shutdown, 30000);
    assert_int_equal(c->server.timeouts.handler, 30000);
    assert_int_equal(c->server.metrics.enabled, 1);
    assert_int_equal(c->server.metrics.loopback_only, 1);
    assert_int_equal(c->log.level, ESP_LOG_INFO);
    assert_int_equal(c->log.access, 1);
    assert_int_equal(c->plugins.n_dirs, 0);
    assert_int_equal(c->plugins.n_load, 0);
    assert_int_equal(c->plugins.workers, 4);
    assert_int_equal(c->plugins.call_timeout_ms, 5000);
    assert_int_equal(c->n_instances, 2);
    assert_string_equal(c->storage.inflight->type, "memory");
    assert_string_equal(c->storage.inflight->name, "inflight");
    assert_int_equal(c->storage.inflight->kind, ESP_KIND_STORAGE);
    assert_null(c->storage.inflight->options);
    assert_null(c->storage.inflight->node);
    assert_string_equal(c->storage.inflight->where, "storage.inflight.options");
    assert_string_equal(c->storage.persistent->type, "sqlite");
    assert_string_equal(c->storage.persistent->where, "storage.persistent.options");
    assert_int_equal(c->key_stores.count, 0);
    assert_int_equal(c->otp_notifiers.count, 0);
    assert_null(c->keys.default_store);
    assert_string_equal(c->keys.token_signing_alg, "RS256");
    unload(&l);
}

static void test_full_example(void **state)
{
    (void)state;
    esg_config *c = NULL;
    esg_config_errors errors;
    esg_buf text = ESG_BUF_INIT;
    esg_config_errors_init(&errors);
    int rc = esg_config_load(ESG_TEST_DATA_DIR "/config/full.yaml", &test_env, &c, &errors);
    esg_config_errors_format(&errors, &text);
    if (rc != 0)
        fail_msg("full.yaml: %s", text.data);
    char *dir = realpath(ESG_TEST_DATA_DIR "/config", NULL);
    assert_non_null(dir);
    char path[4096];

    assert_string_equal(c->issuer, "https://id.example.org");
    assert_string_equal(c->base_path, "/v1/esignet");
    assert_int_equal(c->server.n_listen, 3);
    assert_string_equal(c->server.listen[0].host, "127.0.0.1");
    assert_int_equal(c->server.listen[0].port, 9443); /* from ESIGNET_PORT */
    assert_string_equal(c->server.listen[1].host, "::1");
    assert_int_equal(c->server.listen[1].ipv6, 1);
    assert_string_equal(c->server.listen[2].host, "localhost");
    assert_int_equal(c->server.listen[2].port, 8443);
    assert_int_equal(c->server.workers, 2);
    assert_int_equal(c->server.backlog, 1024);
    snprintf(path, sizeof(path), "%s/tls/server.crt", dir);
    assert_string_equal(c->server.tls.certificate, path);
    assert_string_equal(c->server.tls.private_key, "/etc/esignet/tls/server.key");
    assert_int_equal(c->server.tls.min_version, ESG_TLS_1_3);
    assert_int_equal(c->server.limits.request_line, 4096);
    assert_int_equal(c->server.limits.header_size, 32768);
    assert_int_equal(c->server.limits.headers, 100);
    assert_int_equal(c->server.limits.body, 1048576);
    assert_int_equal(c->server.limits.connections, 5000);
    assert_int_equal(c->server.timeouts.header, 5000);
    assert_int_equal(c->server.timeouts.body, 15000);
    assert_int_equal(c->server.timeouts.keepalive, 120000);
    assert_int_equal(c->server.timeouts.write, 20000);
    assert_int_equal(c->server.timeouts.shutdown, 45000);
    assert_int_equal(c->server.timeouts.handler, 1500);
    assert_int_equal(c->server.metrics.enabled, 1);
    assert_int_equal(c->server.metrics.loopback_only, 0);
    assert_int_equal(c->log.level, ESP_LOG_DEBUG);
    assert_int_equal(c->log.access, 0);
    assert_int_equal(c->plugins.n_dirs, 2);
    snprintf(path, sizeof(path), "%s/plugins", dir);
    assert_string_equal(c->plugins.dirs[0], path);
    assert_string_equal(c->plugins.dirs[1], "/opt/esignet/plugins");
    assert_int_equal(c->plugins.n_load, 3);
    assert_string_equal(c->plugins.load[0], "keystore-file");
    assert_string_equal(c->plugins.load[1], "mock-identity");
    snprintf(path, sizeof(path), "%s/./local/audit-log.so", dir);
    assert_string_equal(c->plugins.load[2], path);
    assert_int_equal(c->plugins.workers, 8);
    assert_int_equal(c->plugins.call_timeout_ms, 3000);

    assert_string_equal(c->storage.inflight->type, "memory");
    assert_non_null(c->storage.inflight->options);
    assert_int_equal(c->storage.inflight->options->kind, ESG_YAML_MAPPING);
    assert_string_equal(c->storage.persistent->type, "sqlite");

    /* Every instance, in section order, with its kind, name, type and options node. */
    static const struct {
        uint32_t kind;
        const char *name, *type, *where;
        int has_options;
    } want[] = {
        {ESP_KIND_STORAGE, "inflight", "memory", "storage.inflight.options", 1},
        {ESP_KIND_STORAGE, "persistent", "sqlite", "storage.persistent.options", 1},
        {ESP_KIND_KEY_STORE, "main", "file", "key_stores[0].options", 1},
        {ESP_KIND_KEY_STORE, "hsm", "pkcs11", "key_stores[1].options", 1},
        {ESP_KIND_IDENTITY_BACKEND, "mock", "mock", "identity_backends[0].options", 1},
        {ESP_KIND_AUTHENTICATOR, "otp", "otp", "authenticators[0].options", 0},
        {ESP_KIND_AUTHENTICATOR, "pwd", "password", "authenticators[1].options", 0},
        {ESP_KIND_KEY_BINDER, "wallet", "mock-binder", "key_binders[0].options", 0},
        {ESP_KIND_CREDENTIAL_FORMAT, "sd-jwt", "sd-jwt", "credential_formats[0].options", 0},
        {ESP_KIND_CREDENTIAL_FORMAT, "jwt", "jwt_vc_json", "credential_formats[1].options", 0},
        {ESP_KIND_CREDENTIAL_DATA, "national-id", "mock", "credential_data[0].options", 0},
        {ESP_KIND_AUDIT_SINK, "log", "log", "audit_sinks[0].options", 0},
        {ESP_KIND_OTP_NOTIFIER, "console", "console", "otp_notifiers[0].options", 1},
    };
    assert_int_equal(c->n_instances, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < c->n_instances; i++) {
        const esg_config_instance *inst = &c->instances[i];
        assert_int_equal(inst->kind, want[i].kind);
        assert_string_equal(inst->name, want[i].name);
        assert_string_equal(inst->type, want[i].type);
        assert_string_equal(inst->where, want[i].where);
        assert_int_equal(inst->options != NULL, want[i].has_options);
        assert_non_null(inst->node);
        assert_null(inst->redacted);
    }
    assert_int_equal(c->key_stores.count, 2);
    assert_ptr_equal(c->key_stores.items, &c->instances[2]);
    assert_int_equal(c->identity_backends.count, 1);
    assert_int_equal(c->authenticators.count, 2);
    assert_int_equal(c->key_binders.count, 1);
    assert_int_equal(c->credential_formats.count, 2);
    assert_int_equal(c->credential_data.count, 1);
    assert_int_equal(c->audit_sinks.count, 1);
    assert_int_equal(c->otp_notifiers.count, 1);
    assert_ptr_equal(c->otp_notifiers.items, &c->instances[12]);
    /* The substituted PIN is in the node tree for the plugin to validate. */
    const esg_yaml_node *pin = esg_yaml_get(c->key_stores.items[1].options, "pin");
    assert_string_equal(pin->text, "24680");
    assert_int_equal(pin->type, ESG_YAML_STRING);
    assert_string_equal(c->keys.default_store, "hsm");
    assert_string_equal(c->keys.token_signing_alg, "PS256");

    /* The dump never shows options no plugin has validated, so the PIN cannot leak. */
    esg_buf dump = ESG_BUF_INIT;
    assert_int_equal(esg_config_dump(c, &dump), 0);
    assert_null(strstr(dump.data, "24680"));
    assert_non_null(strstr(dump.data, "\"options\": \"<not validated>\""));
    esg_buf_free(&dump);

    free(dir);
    esg_buf_free(&text);
    esg_config_free(c);
    esg_config_errors_free(&errors);
}

static void test_schema_errors(void **state)
{
    (void)state;
    expect_errors("", "e.yaml:1:1: missing required key \"issuer\"\n");
    expect_errors("- a\n", "e.yaml:1:1: expected a mapping, found a list\n");
    expect_errors("issuer: ftp://example\n"
                  "server:\n"
                  "  listn: [a]\n"
                  "  workers: 300\n"
                  "  tls:\n"
                  "    min_version: 1.1\n"
                  "log:\n"
                  "  level: verbose\n"
                  "bogus: 1\n"
                  "sever: {}\n"
                  "key_store: []\n",
                  "e.yaml:9:1: unknown key \"bogus\"\n"
                  "e.yaml:10:1: unknown key \"sever\" (did you mean \"server\"?)\n"
                  "e.yaml:11:1: unknown key \"key_store\" (did you mean \"key_stores\"?)\n"
                  "e.yaml:1:9: issuer: invalid URL \"ftp://example\" (it must start with "
                  "http:// or https://)\n"
                  "e.yaml:3:3: unknown key \"listn\" in server (did you mean \"listen\"?)\n"
                  "e.yaml:4:12: server.workers: 300 is above the maximum 256\n"
                  "e.yaml:6:18: server.tls.min_version: \"1.1\" is not one of: 1.2, 1.3 (did you "
                  "mean \"1.2\"?)\n"
                  "e.yaml:8:10: log.level: \"verbose\" is not one of: error, warn, info, debug\n");
    expect_errors("issuer: http://a.example\n"
                  "server:\n"
                  "  listen: []\n"
                  "  timeouts: {header: 2h, keepalive: 1.5s}\n"
                  "  limits: {body: 32M}\n"
                  "plugins: {workers: 0, call_timeout: 5}\n",
                  "e.yaml:3:11: server.listen: must be at least 1 items\n"
                  "e.yaml:5:18: server.limits.body: 32MiB is above the maximum 16MiB\n"
                  "e.yaml:4:22: server.timeouts.header: 2h is above the maximum 1h\n"
                  "e.yaml:4:37: server.timeouts.keepalive: invalid duration \"1.5s\" (expected a "
                  "duration such as 30s, 250ms, 5m, 2h or 7d)\n"
                  "e.yaml:6:20: plugins.workers: 0 is below the minimum 1\n");
    expect_errors("issuer: http://a.example\n"
                  "key_stores:\n"
                  "  - ~\n" /* a null item is an empty mapping */
                  "  - name: x\n"
                  "  - {type: file, nam: y}\n",
                  "e.yaml:3:5: missing required key \"name\" in key_stores[0]\n"
                  "e.yaml:3:5: missing required key \"type\" in key_stores[0]\n"
                  "e.yaml:4:5: missing required key \"type\" in key_stores[1]\n"
                  "e.yaml:5:18: unknown key \"nam\" in key_stores[2] (did you mean \"name\"?)\n"
                  "e.yaml:5:5: missing required key \"name\" in key_stores[2]\n");
    /* Substitution errors come from the YAML layer, before any validation. */
    expect_errors("issuer: ${ISSUER}\n", "e.yaml:1:9: environment variable ISSUER is not set "
                                         "(write ${ISSUER:-default} to give a default)\n");
}

static void test_semantic_errors(void **state)
{
    (void)state;
    expect_errors("issuer: http://127.0.0.1:8088/?x=1\n" /* 1 */
                  "base_path: /v1/esignet/\n"            /* 2 */
                  "server:\n"                            /* 3 */
                  "  listen:\n"                          /* 4 */
                  "    - 127.0.0.1\n"                    /* 5 */
                  "    - \"[::1:80\"\n"                  /* 6 */
                  "    - \"::1:80\"\n"                   /* 7 */
                  "    - 999.1.1.1:80\n"                 /* 8 */
                  "    - host_name:80\n"                 /* 9 */
                  "    - a:99999\n"                      /* 10 */
                  "    - 127.0.0.1:8088\n"               /* 11 */
                  "    - 127.0.0.1:8088\n"               /* 12 */
                  "    - \"[fe80::1]\"\n"                /* 13 */
                  "    - \"[zz::1]:80\"\n"               /* 14 */
                  "  tls:\n"                             /* 15 */
                  "    certificate: x.pem\n"             /* 16 */
                  "plugins:\n"                           /* 17 */
                  "  load: [good, \"bad name\", x.so]\n" /* 18 */
                  "storage:\n"                           /* 19 */
                  "  inflight: {type: \"Bad Type\"}\n"   /* 20 */
                  "key_stores:\n"                        /* 21 */
                  "  - {name: a, type: file}\n"          /* 22 */
                  "  - {name: a, type: file}\n"          /* 23 */
                  "  - {name: \"B!\", type: \"x y\"}\n"  /* 24 */
                  "keys:\n"                              /* 25 */
                  "  default_store: nothere\n",          /* 26 */
                  "e.yaml:1:9: issuer: must not have a query (?...)\n"
                  "e.yaml:2:12: base_path: must start with \"/\" and not end with \"/\"\n"
                  "e.yaml:5:7: server.listen[0]: expected host:port, e.g. 127.0.0.1:8088\n"
                  "e.yaml:6:7: server.listen[1]: the IPv6 address is not closed with ]\n"
                  "e.yaml:7:7: server.listen[2]: write IPv6 addresses in brackets, e.g. "
                  "[::1]:8088\n"
                  "e.yaml:8:7: server.listen[3]: not an IPv4 address\n"
                  "e.yaml:9:7: server.listen[4]: the host is not an IPv4 address or a host name\n"
                  "e.yaml:10:7: server.listen[5]: the port must be a number from 0 to 65535\n"
                  "e.yaml:12:7: server.listen[7]: the address is listed twice\n"
                  "e.yaml:13:7: server.listen[8]: a port must follow, as [address]:port\n"
                  "e.yaml:14:7: server.listen[9]: not an IPv6 address\n"
                  "e.yaml:16:5: server.tls: certificate and private_key go together: set both "
                  "to enable TLS, or neither\n"
                  "e.yaml:18:16: plugins.load[1]: expected a plugin name ([a-z0-9_-]{1,64}) or a "
                  "path ending in .so\n"
                  "e.yaml:20:20: storage.inflight.type: a capability type is [a-z0-9_-]{1,64}\n"
                  "e.yaml:23:12: key_stores[1].name: \"a\" is already the name of key_stores[0] "
                  "(line 22)\n"
                  "e.yaml:24:12: key_stores[2].name: a name is [a-z0-9_-]{1,64}\n"
                  "e.yaml:24:24: key_stores[2].type: a capability type is [a-z0-9_-]{1,64}\n"
                  "e.yaml:26:18: keys.default_store: \"nothere\" is not the name of an entry of "
                  "key_stores\n");

    const char *bad_paths[] = {"v1", "/", "/a//b", "/a b", "/a?x", "/a#x", "/a%20"};
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        char yaml[128];
        snprintf(yaml, sizeof(yaml), "issuer: http://a.example\nbase_path: \"%s\"\n", bad_paths[i]);
        loaded l;
        load(&l, yaml);
        if (l.rc != ESP_ECONFIG)
            fail_msg("base_path %s was accepted", bad_paths[i]);
        assert_non_null(strstr(l.text.data, "e.yaml:2:12: base_path: "));
        unload(&l);
    }
    /* A lone private key is refused like a lone certificate; an IPv6 literal, a host name and
       port 0 are fine, and TLS with both files is on. */
    expect_errors("issuer: http://a.example\nserver:\n  tls: {private_key: k.pem}\n",
                  "e.yaml:3:8: server.tls: certificate and private_key go together: set both to "
                  "enable TLS, or neither\n");
    loaded l;
    load(&l, "issuer: https://a.example/realm\nbase_path: /api\nserver:\n  listen: "
             "[\"[::]:0\", \"my-host.example:80\", \"0.0.0.0:8088\"]\n  tls: {certificate: "
             "c.pem, private_key: /k.pem}\nkeys: {default_store: main}\nkey_stores: [{name: "
             "main, type: file, options: }]\n");
    if (l.rc != 0)
        fail_msg("%s", l.text.data);
    assert_string_equal(l.cfg->base_path, "/api");
    assert_string_equal(l.cfg->server.listen[0].host, "::");
    assert_int_equal(l.cfg->server.listen[0].port, 0);
    assert_string_equal(l.cfg->server.listen[1].host, "my-host.example");
    assert_string_equal(l.cfg->server.tls.certificate, "/srv/esg/c.pem");
    assert_string_equal(l.cfg->keys.default_store, "main");
    /* `options:` with no value counts as absent. */
    assert_null(l.cfg->key_stores.items[0].options);
    unload(&l);
}

/* Options of a made-up key store plugin. */
static const esp_option store_opts[] = {
    OPTION(.key = "dir", .type = ESP_OPT_PATH, .flags = ESP_OPT_REQUIRED, .help = "Key dir."),
    OPTION(.key = "pin", .type = ESP_OPT_STRING, .flags = ESP_OPT_SECRET, .min = 6, .max = 32,
           .help = "PIN."),
    OPTION(.key = "rotate", .type = ESP_OPT_DURATION, .default_text = "30d", .help = "Rotation."),
    END,
};

static void test_instance_options(void **state)
{
    (void)state;
    loaded l;
    load(&l, "issuer: http://a.example\n"
             "key_stores:\n"
             "  - name: main\n"
             "    type: file\n"
             "    options:\n"
             "      dri: keys\n"
             "      pin: \"12345\"\n"
             "  - name: other\n"
             "    type: file\n"
             "  - name: good\n"
             "    type: file\n"
             "    options: {dir: keys, pin: \"s3cr3t-pin\"}\n");
    assert_int_equal(l.rc, 0);
    esg_config *c = l.cfg;
    esg_config_errors errors;
    esg_buf text = ESG_BUF_INIT;
    json_t *json = NULL;
    esg_config_errors_init(&errors);

    assert_int_equal(
        esg_config_validate_options(c, &c->key_stores.items[0], store_opts, &json, &errors),
        ESP_ECONFIG);
    assert_null(json);
    assert_int_equal(
        esg_config_validate_options(c, &c->key_stores.items[1], store_opts, &json, &errors),
        ESP_ECONFIG);
    /* A capability that takes no options refuses any. */
    assert_int_equal(esg_config_validate_options(c, &c->key_stores.items[2], NULL, &json, &errors),
                     ESP_ECONFIG);
    esg_config_errors_format(&errors, &text);
    assert_string_equal(text.data,
                        "e.yaml:6:7: unknown key \"dri\" in key_stores[0].options (did you mean "
                        "\"dir\"?)\n"
                        "e.yaml:6:7: missing required key \"dir\" in key_stores[0].options\n"
                        "e.yaml:7:12: key_stores[0].options.pin: must be at least 6 bytes long\n"
                        "e.yaml:8:5: missing required key \"dir\" in key_stores[1].options\n"
                        "e.yaml:12:15: unknown key \"dir\" in key_stores[2].options (no options "
                        "are accepted here)\n"
                        "e.yaml:12:26: unknown key \"pin\" in key_stores[2].options (no options "
                        "are accepted here)\n");
    assert_null(strstr(text.data, "12345"));
    assert_null(c->key_stores.items[0].redacted);

    assert_int_equal(
        esg_config_validate_options(c, &c->key_stores.items[2], store_opts, &json, &errors), 0);
    char *compact = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(compact,
                        "{\"dir\":\"/srv/esg/keys\",\"pin\":\"s3cr3t-pin\",\"rotate\":2592000000}");
    free(compact);
    json_decref(json);
    assert_non_null(c->key_stores.items[2].redacted);

    /* The dump shows validated options with secrets redacted, unvalidated ones not at all. */
    esg_buf dump = ESG_BUF_INIT;
    assert_int_equal(esg_config_dump(c, &dump), 0);
    assert_null(strstr(dump.data, "s3cr3t-pin"));
    assert_null(strstr(dump.data, "12345"));
    assert_non_null(strstr(dump.data, "\"pin\": \"<redacted>\""));
    assert_non_null(strstr(dump.data, "\"dir\": \"/srv/esg/keys\""));
    assert_non_null(strstr(dump.data, "\"options\": \"<not validated>\""));
    json_t *parsed = json_loads(dump.data, 0, NULL);
    assert_non_null(parsed);
    json_t *stores = json_object_get(parsed, "key_stores");
    assert_string_equal(json_string_value(json_object_get(json_array_get(stores, 0), "options")),
                        "<not validated>");
    /* An item without options stays without. */
    assert_null(json_object_get(json_array_get(stores, 1), "options"));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(stores, 2), "options"), "rotate")),
                     2592000000);
    json_decref(parsed);
    esg_buf_free(&dump);

    /* Validating again replaces the kept copy. */
    assert_int_equal(
        esg_config_validate_options(c, &c->key_stores.items[2], store_opts, &json, &errors), 0);
    json_decref(json);

    esg_buf_free(&text);
    esg_config_errors_free(&errors);
    unload(&l);
}

static void test_dump(void **state)
{
    (void)state;
    loaded l;
    load(&l, "issuer: http://a.example\nserver: {timeouts: {header: 1m}}\n");
    assert_int_equal(l.rc, 0);
    esg_buf dump = ESG_BUF_INIT;
    assert_int_equal(esg_config_dump(l.cfg, &dump), 0);
    json_t *j = json_loads(dump.data, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(j, "server"), "timeouts"), "header")),
                     60000);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j, "storage"), "inflight"), "type")),
                        "memory");
    /* Top-level keys come out in schema order. */
    const char *order[] = {"issuer",
                           "base_path",
                           "server",
                           "log",
                           "plugins",
                           "storage",
                           "key_stores",
                           "identity_backends",
                           "authenticators",
                           "key_binders",
                           "credential_formats",
                           "credential_data",
                           "audit_sinks",
                           "otp_notifiers",
                           "keys",
                           "oidc"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        assert_true(i < sizeof(order) / sizeof(order[0]));
        assert_string_equal(key, order[i++]);
    }
    assert_int_equal(i, sizeof(order) / sizeof(order[0]));
    json_decref(j);
    esg_buf_free(&dump);
    unload(&l);
}

static void test_files(void **state)
{
    (void)state;
    esg_config *c = NULL;
    esg_config_errors errors;
    esg_buf text = ESG_BUF_INIT;
    esg_config_errors_init(&errors);
    assert_int_equal(esg_config_load("/nonexistent/esignet.yaml", NULL, &c, &errors), ESP_EIO);
    assert_null(c);
    esg_config_errors_format(&errors, &text);
    assert_string_equal(text.data,
                        "/nonexistent/esignet.yaml: cannot open: No such file or directory\n");
    esg_buf_free(&text);
    esg_config_errors_free(&errors);
}

static void test_core_schema_is_valid(void **state)
{
    (void)state;
    esg_config_errors errors;
    esg_buf text = ESG_BUF_INIT;
    esg_config_errors_init(&errors);
    int rc = esg_config_check_schema(&errors);
    esg_config_errors_format(&errors, &text);
    if (rc != 0)
        fail_msg("core schema: %s", text.data);
    esg_buf_free(&text);
    esg_config_errors_free(&errors);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    esg_buf b = ESG_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(esg_buf_append(&b, chunk, n), 0);
    fclose(f);
    return esg_buf_steal(&b, len);
}

static void test_docs_current(void **state)
{
    (void)state;
    size_t len;
    char *doc = read_file(ESG_TEST_DATA_DIR "/../../docs/CONFIGURATION.md", &len);
    esg_buf tables = ESG_BUF_INIT, updated = ESG_BUF_INIT;
    assert_int_equal(esg_config_markdown(&tables), 0);
    assert_int_equal(esg_config_docs_splice(doc, len, "core-options", tables.data, &updated), 0);
    if (updated.len != len || memcmp(updated.data, doc, len) != 0)
        fail_msg("docs/CONFIGURATION.md is out of date: run `make config-doc` in the build "
                 "directory and commit the result");
    /* Every top-level key and every section appears in the docs. */
    const char *keys[] = {"`issuer`",
                          "`server.listen`",
                          "`server.tls.min_version`",
                          "`server.limits.connections`",
                          "`server.timeouts.handler`",
                          "`server.metrics.loopback_only`",
                          "`log.access`",
                          "`plugins.call_timeout`",
                          "`storage.persistent.options`",
                          "`otp_notifiers[].options`",
                          "`keys.token_signing_alg`"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strstr(tables.data, keys[i]) == NULL)
            fail_msg("%s missing from the generated docs", keys[i]);
    free(doc);
    esg_buf_free(&tables);
    esg_buf_free(&updated);
}

static void test_docs_splice(void **state)
{
    (void)state;
    esg_buf out = ESG_BUF_INIT;
    const char *doc = "intro\n<!-- BEGIN GENERATED r -->\nold\ntext\n<!-- END GENERATED r -->\n"
                      "tail\n";
    assert_int_equal(esg_config_docs_splice(doc, strlen(doc), "r", "new", &out), 0);
    assert_string_equal(out.data,
                        "intro\n<!-- BEGIN GENERATED r -->\nnew\n<!-- END GENERATED r -->\ntail\n");
    esg_buf_reset(&out);
    assert_int_equal(esg_config_docs_splice(doc, strlen(doc), "r", "", &out), 0);
    assert_string_equal(out.data,
                        "intro\n<!-- BEGIN GENERATED r -->\n<!-- END GENERATED r -->\ntail\n");
    esg_buf_reset(&out);
    assert_int_equal(esg_config_docs_splice(doc, strlen(doc), "other", "x", &out), ESP_ENOTFOUND);
    const char *reversed = "<!-- END GENERATED r -->\n<!-- BEGIN GENERATED r -->\n";
    assert_int_equal(esg_config_docs_splice(reversed, strlen(reversed), "r", "x", &out),
                     ESP_ENOTFOUND);
    /* Markers count only as whole lines, not when quoted in the text. */
    const char *inline_marker = "see `<!-- BEGIN GENERATED r -->` and\n<!-- END GENERATED r -->\n";
    assert_int_equal(esg_config_docs_splice(inline_marker, strlen(inline_marker), "r", "x", &out),
                     ESP_ENOTFOUND);
    esg_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_example),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_semantic_errors),
        cmocka_unit_test(test_instance_options),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_core_schema_is_valid),
        cmocka_unit_test(test_docs_current),
        cmocka_unit_test(test_docs_splice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
