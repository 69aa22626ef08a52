/*
 * The core's own settings: their schema (an esp_option table, the same language plugins use),
 * the typed struct the rest of the core reads, and the loader that turns one YAML file into both.
 *
 * How the runtime uses it:
 *
 *   esg_config_errors errors;
 *   esg_config_errors_init(&errors);
 *   esg_config *cfg = NULL;
 *   int rc = esg_config_load(path, NULL, &cfg, &errors);        // NULL: getenv() for ${VAR}
 *   ...load plugins (cfg->plugins), then for each instance (cfg->instances[i]):
 *       find the capability of kind inst->kind and type inst->type, check its declarations with
 *       esg_schema_check_options(), then
 *       rc = esg_config_validate_options(cfg, inst, cap->options, &json, &errors);
 *   ...on any error: esg_config_errors_format(&errors, &buf), print buf.data to stderr, exit 1.
 *   esg_config_free(cfg); esg_config_errors_free(&errors);
 *
 * `esignetd --check-config FILE` does the same without creating instances, prints every error
 * (one "file:line:col: message" line each) and exits 1, or prints esg_config_dump() and exits 0.
 *
 * Adding a section (oidc, vci, ...) is one row in the `sections` table of config.c (its option
 * entry and the function that fills the typed struct) plus its struct below; the docs table and
 * the unknown-key check follow from the row.
 */
#ifndef ESG_CONFIG_CONFIG_H
#define ESG_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <esignet/plugin.h>

#include "config/errors.h"
#include "config/schema.h"
#include "config/yaml.h"
#include "util/buf.h"

/* TLS protocol versions as on the wire (equal to OpenSSL's TLS1_2_VERSION / TLS1_3_VERSION). */
#define ESG_TLS_1_2 0x0303
#define ESG_TLS_1_3 0x0304

/* One address to listen on. */
typedef struct esg_config_listen {
    char *host;    /* owned by the config: IPv4 text, IPv6 text without brackets, or a host name */
    uint16_t port; /* 0 means any free port (tests) */
    int ipv6;      /* 1 when written as [IPv6]:port */
} esg_config_listen;

/* server.tls; TLS is on when certificate is set (private_key is then set too). */
typedef struct esg_config_tls {
    const char *certificate; /* absolute or relative to the config file's directory; or NULL */
    const char *private_key; /* likewise */
    uint16_t min_version;    /* ESG_TLS_1_2 or ESG_TLS_1_3 */
} esg_config_tls;

typedef struct esg_config_limits {
    int64_t request_line; /* bytes */
    int64_t header_size;  /* bytes, all header lines together */
    int64_t headers;      /* number of header fields */
    int64_t body;         /* bytes */
    int64_t connections;  /* open connections per worker */
} esg_config_limits;

typedef struct esg_config_timeouts { /* all in milliseconds */
    int64_t header;
    int64_t body;
    int64_t keepalive;
    int64_t write;
    int64_t shutdown;
    int64_t handler;
} esg_config_timeouts;

typedef struct esg_config_server {
    esg_config_listen *listen; /* owned; n_listen >= 1 entries */
    size_t n_listen;
    int workers; /* 0: one event loop per CPU core */
    int backlog;
    esg_config_tls tls;
    esg_config_limits limits;
    esg_config_timeouts timeouts;
    struct {
        int enabled;
        int loopback_only;
    } metrics;
} esg_config_server;

typedef struct esg_config_log {
    int level;  /* ESP_LOG_ERROR .. ESP_LOG_DEBUG */
    int access; /* one line per request */
} esg_config_log;

typedef struct esg_config_plugins {
    const char **dirs; /* owned array of borrowed strings; absolute or relative to the config dir */
    size_t n_dirs;
    /* Owned array of owned strings: plugin names ([a-z0-9_-]{1,64}, to be found as <dir>/<name>.so)
       or paths ending in ".so" (relative ones resolved against the config file's directory). */
    char **load;
    size_t n_load;
    int workers;             /* threads of the blocking-plugin pool */
    int64_t call_timeout_ms; /* deadline of each plugin call */
} esg_config_plugins;

/*
 * One plugin instance the deployer configured: an item of key_stores, identity_backends, ..., or
 * storage.inflight / storage.persistent. Its options are validated later, when the plugin that
 * implements `type` is loaded, with esg_config_validate_options().
 */
typedef struct esg_config_instance {
    uint32_t kind;                /* enum esp_kind */
    const char *section;          /* "key_stores", ..., "storage"; static */
    size_t index;                 /* position in its section's list (storage: 0 inflight,
                                     1 persistent) */
    const char *name;             /* unique within its section; borrowed from the config */
    const char *type;             /* capability type, e.g. "file"; borrowed from the config */
    const esg_yaml_node *node;    /* the item's mapping; NULL when it came from defaults */
    const esg_yaml_node *options; /* its `options` value; NULL when absent */
    char *where;                  /* owned: "key_stores[0].options", for messages */
    json_t *redacted;             /* owned: validated options with secrets redacted, for dumps;
                                     NULL until esg_config_validate_options() succeeded */
} esg_config_instance;

/* The instances of one section: a view into esg_config.instances (borrowed). */
typedef struct esg_config_instances {
    esg_config_instance *items;
    size_t count;
} esg_config_instances;

typedef struct esg_config_keys {
    const char *default_store;     /* name of a key store instance; NULL when there is none */
    const char *token_signing_alg; /* "RS256", "PS256" or "ES256" */
} esg_config_keys;

/*
 * The loaded configuration. Everything it points to is owned by it and freed by
 * esg_config_free(); strings marked borrowed point into `json` and live as long as the config.
 * Read-only after loading, except for esg_config_validate_options(), which the runtime calls
 * from one thread during start-up.
 */
typedef struct esg_config {
    const char *issuer;
    const char *base_path;
    esg_config_server server;
    esg_config_log log;
    esg_config_plugins plugins;

    /* Every plugin instance, in the order of the sections below; owned. */
    esg_config_instance *instances;
    size_t n_instances;
    struct {
        esg_config_instance *inflight;   /* points into instances */
        esg_config_instance *persistent; /* points into instances */
    } storage;
    esg_config_instances key_stores;
    esg_config_instances identity_backends;
    esg_config_instances authenticators;
    esg_config_instances key_binders;
    esg_config_instances credential_formats;
    esg_config_instances credential_data;
    esg_config_instances audit_sinks;
    esg_config_instances otp_notifiers;

    esg_config_keys keys;

    /* The normalized `oidc` section (borrowed from `json`); core/oidc reads its settings from it.
     */
    const json_t *oidc;

    json_t *json;      /* the normalized core configuration; owned */
    esg_yaml_doc *doc; /* the file's node tree, kept for instance options; owned */
} esg_config;

/*
 * Loads, substitutes and validates the configuration file at `path` (borrowed). `env` (borrowed
 * for the call; NULL: getenv()) resolves ${VAR}. On success sets *out to a config the caller frees
 * with esg_config_free() and returns 0. Otherwise sets *out to NULL, appends every problem found
 * to `errors` (caller-owned) and returns ESP_ECONFIG (invalid content), ESP_EIO (unreadable file)
 * or ESP_ENOMEM.
 */
int esg_config_load(const char *path, const esg_yaml_env *env, esg_config **out,
                    esg_config_errors *errors);

/*
 * Like esg_config_load() for `len` bytes of YAML at `text` (borrowed), named `name` in messages.
 * Relative paths resolve against `base_dir` (borrowed; NULL keeps them relative). For tests and
 * fuzzing.
 */
int esg_config_load_string(const char *name, const char *text, size_t len, const char *base_dir,
                           const esg_yaml_env *env, esg_config **out, esg_config_errors *errors);

/* Frees a config and everything it owns. NULL is ignored. */
void esg_config_free(esg_config *cfg);

/*
 * Validates an instance's `options` subtree against the options its capability declares (NULL:
 * it takes none). Positions and messages name the instance ("key_stores[0].options"); missing
 * keys point at the instance's item when it has no `options` key. On success sets *out to the
 * normalized options (a new reference the caller releases), keeps a redacted copy in
 * inst->redacted for esg_config_dump(), and returns 0. Otherwise returns ESP_ECONFIG with errors
 * appended, or ESP_ENOMEM. `inst` must belong to `cfg`; `options` is borrowed for the call.
 */
int esg_config_validate_options(esg_config *cfg, esg_config_instance *inst,
                                const esp_option *options, json_t **out, esg_config_errors *errors);

/*
 * Appends the effective configuration to `out` as indented JSON (which is also YAML): defaults
 * filled in, units normalized, secrets replaced by "<redacted>". Instance options that were not
 * validated yet are shown as "<not validated>", since without their schema nobody knows which of
 * them are secrets. Returns 0 or ESP_ENOMEM.
 */
int esg_config_dump(const esg_config *cfg, esg_buf *out);

/*
 * Appends the Markdown reference of the core settings (one table per section) to `out`; the
 * generated part of docs/CONFIGURATION.md. Returns 0 or ESP_ENOMEM.
 */
int esg_config_markdown(esg_buf *out);

/*
 * Checks the core's own option declarations with esg_schema_check_options(); a unit test runs it
 * so that a bad edit of the table fails the build's tests. Returns 0, ESP_ECONFIG or ESP_ENOMEM.
 */
int esg_config_check_schema(esg_config_errors *errors);

/*
 * Replaces the text between the lines "<!-- BEGIN GENERATED <region> -->" and
 * "<!-- END GENERATED <region> -->" of the document `doc` (`len` bytes, borrowed) with `content`,
 * appending the whole new document to `out`. Returns 0, ESP_ENOTFOUND (markers missing or out of
 * order) or ESP_ENOMEM. Used by tools/config-doc and by the test that keeps the docs current.
 */
int esg_config_docs_splice(const char *doc, size_t len, const char *region, const char *content,
                           esg_buf *out);

#endif
