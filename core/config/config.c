/*
 * The core settings: schema tables, the typed struct filled from the normalized JSON, and the
 * loader. The schema is data (esp_option tables like a plugin's), so the validator, the docs
 * generator and --check-config all read the same declarations; what the option language cannot
 * say (the form of a listen address, unique instance names, certificate and key given together)
 * is checked here while filling the struct, with positions taken from the node tree.
 */
#include "config/config.h"
#include "config/oidc_schema.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"

#define OPTION(...)                                                                                \
    {                                                                                              \
        .size = sizeof(esp_option), __VA_ARGS__                                                    \
    }
#define OPTIONS_END                                                                                \
    {                                                                                              \
        0                                                                                          \
    }
#define INSTANCES_MAX 64
#define NOT_VALIDATED "<not validated>"
#define MS(s)         ((int64_t)(s)*1000)
#define KIB(n)        ((int64_t)(n)*1024)
#define MIB(n)        ((int64_t)(n)*1024 * 1024)

/* ---- schema ---------------------------------------------------------------------------------- */

static const char *const tls_versions[] = {"1.2", "1.3", NULL};
static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const signing_algs[] = {"RS256", "PS256", "ES256", NULL};

static const esp_option tls_options[] = {
    OPTION(.key = "certificate", .type = ESP_OPT_PATH,
           .help = "PEM file with the server certificate followed by its chain; TLS is on when "
                   "this is set, and private_key must be set with it."),
    OPTION(.key = "private_key", .type = ESP_OPT_PATH,
           .help = "PEM file with the private key of the certificate."),
    OPTION(.key = "min_version", .type = ESP_OPT_ENUM, .default_text = "1.2",
           .choices = tls_versions, .help = "Oldest TLS protocol version accepted."),
    OPTIONS_END,
};

static const esp_option limits_options[] = {
    OPTION(.key = "request_line", .type = ESP_OPT_SIZE, .default_text = "8k", .min = 256,
           .max = KIB(64), .help = "Longest request line (method, target and version)."),
    OPTION(.key = "header_size", .type = ESP_OPT_SIZE, .default_text = "16k", .min = KIB(1),
           .max = MIB(1), .help = "Largest size of all request header fields together."),
    OPTION(.key = "headers", .type = ESP_OPT_INT, .default_text = "64", .min = 8, .max = 1024,
           .help = "Most header fields in one request."),
    OPTION(.key = "body", .type = ESP_OPT_SIZE, .default_text = "64k", .min = KIB(1),
           .max = MIB(16), .help = "Largest request body; larger requests get 413."),
    OPTION(.key = "connections", .type = ESP_OPT_INT, .default_text = "10000", .min = 1,
           .max = 1000000, .help = "Most open client connections per worker."),
    OPTIONS_END,
};

static const esp_option timeouts_options[] = {
    OPTION(.key = "header", .type = ESP_OPT_DURATION, .default_text = "10s", .min = 100,
           .max = MS(3600), .help = "Time a client has to send the request line and headers."),
    OPTION(.key = "body", .type = ESP_OPT_DURATION, .default_text = "10s", .min = 100,
           .max = MS(3600), .help = "Time a client has to send the request body."),
    OPTION(.key = "keepalive", .type = ESP_OPT_DURATION, .default_text = "60s", .min = 0,
           .max = MS(3600),
           .help = "How long an idle connection stays open; 0 closes it after each response."),
    OPTION(.key = "write", .type = ESP_OPT_DURATION, .default_text = "30s", .min = 100,
           .max = MS(3600), .help = "Time a client has to read a response."),
    OPTION(.key = "shutdown", .type = ESP_OPT_DURATION, .default_text = "30s", .min = 0,
           .max = MS(3600),
           .help = "On stop, how long requests in progress may finish before connections close."),
    OPTION(.key = "handler", .type = ESP_OPT_DURATION, .default_text = "30s", .min = 100,
           .max = MS(3600),
           .help = "Longest time a request may take before the server answers it with an error."),
    OPTIONS_END,
};

static const esp_option metrics_options[] = {
    OPTION(.key = "enabled", .type = ESP_OPT_BOOL, .default_text = "true",
           .help = "Serve Prometheus metrics at /metrics."),
    OPTION(.key = "loopback_only", .type = ESP_OPT_BOOL, .default_text = "true",
           .help = "Answer /metrics only to clients connecting from a loopback address."),
    OPTIONS_END,
};

static const esp_option server_options[] = {
    OPTION(.key = "listen", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING,
           .default_text = "[\"127.0.0.1:8088\"]", .min = 1, .max = 16,
           .help = "Addresses to accept connections on, as host:port, [IPv6]:port or "
                   "name:port; port 0 picks a free port."),
    OPTION(.key = "workers", .type = ESP_OPT_INT, .default_text = "0", .min = 0, .max = 256,
           .help = "Number of event loops (threads) serving requests; 0 means one per CPU core."),
    OPTION(.key = "backlog", .type = ESP_OPT_INT, .default_text = "511", .min = 1, .max = 65535,
           .help = "Length of the queue of connections not yet accepted (listen(2) backlog)."),
    OPTION(.key = "tls", .type = ESP_OPT_OBJECT, .children = tls_options,
           .help = "TLS for the listeners; without a certificate the server speaks plain HTTP."),
    OPTION(.key = "limits", .type = ESP_OPT_OBJECT, .children = limits_options,
           .help = "Size limits of requests and connection counts."),
    OPTION(.key = "timeouts", .type = ESP_OPT_OBJECT, .children = timeouts_options,
           .help = "Time limits of connections and requests."),
    OPTION(.key = "metrics", .type = ESP_OPT_OBJECT, .children = metrics_options,
           .help = "The metrics endpoint."),
    OPTIONS_END,
};

static const esp_option log_options[] = {
    OPTION(.key = "level", .type = ESP_OPT_ENUM, .default_text = "info", .choices = log_levels,
           .help = "Most verbose level written to the log."),
    OPTION(.key = "access", .type = ESP_OPT_BOOL, .default_text = "true",
           .help = "Write one line per request (method, path, status, duration)."),
    OPTIONS_END,
};

static const esp_option plugins_options[] = {
    OPTION(.key = "dirs", .type = ESP_OPT_LIST, .item_type = ESP_OPT_PATH, .default_text = "[]",
           .min = 0, .max = 16,
           .help = "Directories searched for plugins by name, before the installed plugin "
                   "directory, which is always searched last."),
    OPTION(.key = "load", .type = ESP_OPT_LIST, .item_type = ESP_OPT_STRING, .default_text = "[]",
           .min = 0, .max = 128,
           .help = "Plugins to load: a name (found as <dir>/<name>.so) or a path ending in .so "
                   "(relative to this file's directory)."),
    OPTION(.key = "workers", .type = ESP_OPT_INT, .default_text = "4", .min = 1, .max = 256,
           .help = "Threads of the pool that runs blocking plugins (LDAP, PKCS#11, ...)."),
    OPTION(.key = "call_timeout", .type = ESP_OPT_DURATION, .default_text = "5s", .min = 10,
           .max = MS(600), .help = "Deadline of each call into a plugin."),
    OPTIONS_END,
};

static const esp_option inflight_options[] = {
    OPTION(.key = "type", .type = ESP_OPT_STRING, .default_text = "memory", .min = 1, .max = 64,
           .help = "Storage capability type for in-flight state with a time to live."),
    OPTION(.key = "options", .type = ESP_OPT_ANY,
           .help = "Options of that storage type (see esignetd --list-plugins)."),
    OPTIONS_END,
};

static const esp_option persistent_options[] = {
    OPTION(.key = "type", .type = ESP_OPT_STRING, .default_text = "sqlite", .min = 1, .max = 64,
           .help = "Storage capability type for persistent records."),
    OPTION(.key = "options", .type = ESP_OPT_ANY,
           .help = "Options of that storage type (see esignetd --list-plugins)."),
    OPTIONS_END,
};

static const esp_option storage_options[] = {
    OPTION(.key = "inflight", .type = ESP_OPT_OBJECT, .children = inflight_options,
           .help = "Where transactions, codes, nonces and other short-lived state live."),
    OPTION(.key = "persistent", .type = ESP_OPT_OBJECT, .children = persistent_options,
           .help = "Where clients, consents and wallet bindings live."),
    OPTIONS_END,
};

/* Items of every plugin instance list. */
static const esp_option instance_options[] = {
    OPTION(.key = "name", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 64,
           .help = "Name of this instance, [a-z0-9_-]{1,64}, unique within its list."),
    OPTION(.key = "type", .type = ESP_OPT_STRING, .flags = ESP_OPT_REQUIRED, .min = 1, .max = 64,
           .help = "Capability type a loaded plugin offers for this kind, e.g. file."),
    OPTION(.key = "options", .type = ESP_OPT_ANY,
           .help = "Options of that type, checked against what the plugin declares."),
    OPTIONS_END,
};

static const esp_option keys_options[] = {
    OPTION(.key = "default_store", .type = ESP_OPT_STRING, .min = 1, .max = 64,
           .help = "Key store instance that signs tokens; defaults to the first of key_stores."),
    OPTION(.key = "token_signing_alg", .type = ESP_OPT_ENUM, .default_text = "RS256",
           .choices = signing_algs, .help = "Algorithm of ID tokens and JWT access tokens."),
    OPTIONS_END,
};

/* ---- sections -------------------------------------------------------------------------------- */

typedef struct fill_ctx {
    esg_config *cfg;
    esg_config_errors *errors;
    int failed;
    int oom;
} fill_ctx;

struct section;

/*
 * Fills the typed struct from a section's normalized value (`value`, never NULL for options with
 * defaults) and checks what the schema cannot; `node` is the section in the file (NULL when
 * absent) for error positions.
 */
typedef void (*fill_fn)(fill_ctx *fc, const struct section *s, const json_t *value,
                        const esg_yaml_node *node);

/*
 * One top-level key. Instance lists also name their plugin kind and where their view lives in
 * esg_config, so one generic filler serves all of them.
 */
typedef struct section {
    esp_option option;
    fill_fn fill;
    uint32_t kind;      /* instance lists: enum esp_kind; 0 otherwise */
    size_t list_offset; /* instance lists: offsetof(esg_config, <list>) */
} section;

static void fill_issuer(fill_ctx *fc, const section *s, const json_t *value,
                        const esg_yaml_node *node);
static void fill_base_path(fill_ctx *fc, const section *s, const json_t *value,
                           const esg_yaml_node *node);
static void fill_server(fill_ctx *fc, const section *s, const json_t *value,
                        const esg_yaml_node *node);
static void fill_log(fill_ctx *fc, const section *s, const json_t *value,
                     const esg_yaml_node *node);
static void fill_plugins(fill_ctx *fc, const section *s, const json_t *value,
                         const esg_yaml_node *node);
static void fill_storage(fill_ctx *fc, const section *s, const json_t *value,
                         const esg_yaml_node *node);
static void fill_instances(fill_ctx *fc, const section *s, const json_t *value,
                           const esg_yaml_node *node);
static void fill_keys(fill_ctx *fc, const section *s, const json_t *value,
                      const esg_yaml_node *node);
static void fill_oidc(fill_ctx *fc, const section *s, const json_t *value,
                      const esg_yaml_node *node);

#define INSTANCE_LIST(k, kind_, field, what)                                                       \
    {                                                                                              \
        OPTION(.key = k, .type = ESP_OPT_LIST, .item_type = ESP_OPT_OBJECT,                        \
               .children = instance_options, .default_text = "[]", .min = 0, .max = INSTANCES_MAX, \
               .help = what),                                                                      \
            fill_instances, kind_, offsetof(esg_config, field)                                     \
    }

/*
 * The top-level keys, in the order docs and dumps show them. Sections are filled in this order,
 * so a section may rely on those above it (keys reads key_stores).
 */
static const section sections[] = {
    {OPTION(.key = "issuer", .type = ESP_OPT_URL, .flags = ESP_OPT_REQUIRED, .min = 8, .max = 2048,
            .help = "OpenID issuer identifier: the server's public base URL, e.g. "
                    "https://id.example.org; it appears in tokens and discovery."),
     fill_issuer, 0, 0},
    {OPTION(.key = "base_path", .type = ESP_OPT_STRING, .default_text = "/v1/esignet", .min = 2,
            .max = 256,
            .help = "Path prefix of eSignet's JSON APIs; starts with / and does not end with /."),
     fill_base_path, 0, 0},
    {OPTION(.key = "server", .type = ESP_OPT_OBJECT, .children = server_options,
            .help = "The HTTP server: listeners, TLS, limits and timeouts."),
     fill_server, 0, 0},
    {OPTION(.key = "log", .type = ESP_OPT_OBJECT, .children = log_options,
            .help = "Logging (JSON lines on standard error)."),
     fill_log, 0, 0},
    {OPTION(.key = "plugins", .type = ESP_OPT_OBJECT, .children = plugins_options,
            .help = "Which plugins to load and how plugin calls run."),
     fill_plugins, 0, 0},
    {OPTION(.key = "storage", .type = ESP_OPT_OBJECT, .children = storage_options,
            .help = "Storage back-ends, each provided by a storage plugin type."),
     fill_storage, ESP_KIND_STORAGE, 0},
    INSTANCE_LIST("key_stores", ESP_KIND_KEY_STORE, key_stores,
                  "Key store instances, which hold the signing keys."),
    INSTANCE_LIST("identity_backends", ESP_KIND_IDENTITY_BACKEND, identity_backends,
                  "Identity back-end instances (KYC authentication and exchange, OTP sending)."),
    INSTANCE_LIST("authenticators", ESP_KIND_AUTHENTICATOR, authenticators,
                  "Authenticator instances, each verifying one or more factors."),
    INSTANCE_LIST("key_binders", ESP_KIND_KEY_BINDER, key_binders,
                  "Key binder instances for wallet binding."),
    INSTANCE_LIST("credential_formats", ESP_KIND_CREDENTIAL_FORMAT, credential_formats,
                  "Credential format instances (jwt_vc_json, vc+sd-jwt, ldp_vc, mso_mdoc)."),
    INSTANCE_LIST("credential_data", ESP_KIND_CREDENTIAL_DATA, credential_data,
                  "Credential data instances, which supply credential claims."),
    INSTANCE_LIST("audit_sinks", ESP_KIND_AUDIT_SINK, audit_sinks,
                  "Audit sink instances, which receive audit events."),
    INSTANCE_LIST("otp_notifiers", ESP_KIND_OTP_NOTIFIER, otp_notifiers,
                  "OTP notifier instances, which deliver one-time passwords."),
    {OPTION(.key = "keys", .type = ESP_OPT_OBJECT, .children = keys_options,
            .help = "Token signing keys."),
     fill_keys, 0, 0},
    {OPTION(.key = "oidc", .type = ESP_OPT_OBJECT, .children = esg_oidc_options,
            .help = "The OpenID Connect provider: lifetimes, scopes and claims, ACR/AMR, attempt "
                    "limits, client management."),
     fill_oidc, 0, 0},
};

#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* The top-level option array (contiguous, as the validator walks it) built from `sections`. */
static void top_options(esp_option top[N_SECTIONS + 1])
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        top[i] = sections[i].option;
    memset(&top[N_SECTIONS], 0, sizeof(top[N_SECTIONS]));
}

/* ---- filling --------------------------------------------------------------------------------- */

static void ferr(fill_ctx *fc, const esg_yaml_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ferr(fill_ctx *fc, const esg_yaml_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fc->failed = 1;
    if (esg_config_errors_vadd(fc->errors, at ? at->file : esg_yaml_name(fc->cfg->doc),
                               at ? at->line : 0, at ? at->col : 0, fmt, ap) != 0)
        fc->oom = 1;
    va_end(ap);
}

static const char *str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int64_t int_of(const json_t *obj, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(obj, key));
}

/* Item `i` of the sequence at `key` of `map`, for error positions; NULL when not in the file. */
static const esg_yaml_node *seq_item(const esg_yaml_node *seq, size_t i)
{
    if (seq == NULL || seq->kind != ESG_YAML_SEQUENCE || i >= seq->count)
        return NULL;
    return seq->items[i];
}

static const esg_yaml_node *item_node(const esg_yaml_node *map, const char *key, size_t i)
{
    return seq_item(esg_yaml_get(map, key), i);
}

static void fill_issuer(fill_ctx *fc, const section *s, const json_t *value,
                        const esg_yaml_node *node)
{
    const char *issuer = json_string_value(value);
    (void)s;
    /* OpenID Connect Discovery 1.0 §3: the issuer has no query and no fragment. */
    if (strchr(issuer, '?') != NULL)
        ferr(fc, node, "issuer: must not have a query (?...)");
    fc->cfg->issuer = issuer;
}

static void fill_base_path(fill_ctx *fc, const section *s, const json_t *value,
                           const esg_yaml_node *node)
{
    const char *p = json_string_value(value);
    size_t n = strlen(p);
    (void)s;
    if (p[0] != '/' || p[n - 1] == '/') {
        ferr(fc, node, "base_path: must start with \"/\" and not end with \"/\"");
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#' || c == '%' ||
                (c == '/' && p[i + 1] == '/')) {
                ferr(fc, node,
                     "base_path: use plain ASCII path segments without spaces, "
                     "\"?\", \"#\", \"%%\" or \"//\"");
                break;
            }
        }
    }
    fc->cfg->base_path = p;
}

static int valid_hostname(const char *h, size_t n)
{
    size_t label = 0;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0 && h[n - 1] != '-';
}

/*
 * Parses "host:port", "[IPv6]:port" or "name:port". Sets l->host (owned) and l->port. Returns
 * NULL, a message explaining what is wrong, or "" when memory ran out.
 */
static const char *parse_listen(const char *s, esg_config_listen *l)
{
    const char *host, *colon;
    size_t host_len;
    char buf[INET6_ADDRSTRLEN + 1];
    unsigned char addr[16];

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return "the IPv6 address is not closed with ]";
        host = s + 1;
        host_len = (size_t)(close - host);
        if (host_len == 0 || host_len >= sizeof(buf))
            return "not an IPv6 address";
        memcpy(buf, host, host_len);
        buf[host_len] = '\0';
        if (inet_pton(AF_INET6, buf, addr) != 1)
            return "not an IPv6 address";
        if (close[1] != ':')
            return "a port must follow, as [address]:port";
        colon = close + 1;
        l->ipv6 = 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return "expected host:port, e.g. 127.0.0.1:8088";
        host = s;
        host_len = (size_t)(colon - s);
        if (memchr(host, ':', host_len) != NULL)
            return "write IPv6 addresses in brackets, e.g. [::1]:8088";
        if (!valid_hostname(host, host_len))
            return "the host is not an IPv4 address or a host name";
        /* All digits and dots means an IPv4 address, which must then be a valid one. */
        if (strspn(host, "0123456789.") >= host_len) {
            if (host_len >= sizeof(buf))
                return "not an IPv4 address";
            memcpy(buf, host, host_len);
            buf[host_len] = '\0';
            if (inet_pton(AF_INET, buf, addr) != 1)
                return "not an IPv4 address";
        }
    }
    const char *port = colon + 1;
    size_t digits = strspn(port, "0123456789");
    if (digits == 0 || digits > 5 || port[digits] != '\0' || atol(port) > 65535)
        return "the port must be a number from 0 to 65535";
    l->port = (uint16_t)atol(port);
    l->host = esg_strndup(host, host_len);
    return l->host == NULL ? "" : NULL;
}

static void fill_listen(fill_ctx *fc, const json_t *list, const esg_yaml_node *server)
{
    esg_config_server *srv = &fc->cfg->server;
    size_t n = json_array_size(list);

    srv->listen = calloc(n ? n : 1, sizeof(*srv->listen));
    if (srv->listen == NULL) {
        fc->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const esg_yaml_node *at = item_node(server, "listen", i);
        esg_config_listen *l = &srv->listen[srv->n_listen];
        const char *problem = parse_listen(json_string_value(json_array_get(list, i)), l);
        if (problem != NULL && problem[0] == '\0') {
            fc->oom = 1;
            return;
        }
        if (problem != NULL) {
            ferr(fc, at, "server.listen[%zu]: %s", i, problem);
            continue;
        }
        srv->n_listen++;
        for (size_t j = 0; j + 1 < srv->n_listen; j++) {
            if (srv->listen[j].port == l->port && l->port != 0 &&
                strcmp(srv->listen[j].host, l->host) == 0) {
                ferr(fc, at, "server.listen[%zu]: the address is listed twice", i);
                break;
            }
        }
    }
}

static void fill_server(fill_ctx *fc, const section *s, const json_t *value,
                        const esg_yaml_node *node)
{
    esg_config_server *srv = &fc->cfg->server;
    const json_t *tls = json_object_get(value, "tls");
    const json_t *limits = json_object_get(value, "limits");
    const json_t *timeouts = json_object_get(value, "timeouts");
    const json_t *metrics = json_object_get(value, "metrics");
    (void)s;

    fill_listen(fc, json_object_get(value, "listen"), node);
    srv->workers = (int)int_of(value, "workers");
    srv->backlog = (int)int_of(value, "backlog");

    srv->tls.certificate = str_of(tls, "certificate");
    srv->tls.private_key = str_of(tls, "private_key");
    srv->tls.min_version =
        strcmp(str_of(tls, "min_version"), "1.3") == 0 ? ESG_TLS_1_3 : ESG_TLS_1_2;
    if ((srv->tls.certificate == NULL) != (srv->tls.private_key == NULL)) {
        const esg_yaml_node *at = esg_yaml_get(node, "tls");
        ferr(fc, at ? at : node,
             "server.tls: certificate and private_key go together: set both "
             "to enable TLS, or neither");
    }

    srv->limits.request_line = int_of(limits, "request_line");
    srv->limits.header_size = int_of(limits, "header_size");
    srv->limits.headers = int_of(limits, "headers");
    srv->limits.body = int_of(limits, "body");
    srv->limits.connections = int_of(limits, "connections");

    srv->timeouts.header = int_of(timeouts, "header");
    srv->timeouts.body = int_of(timeouts, "body");
    srv->timeouts.keepalive = int_of(timeouts, "keepalive");
    srv->timeouts.write = int_of(timeouts, "write");
    srv->timeouts.shutdown = int_of(timeouts, "shutdown");
    srv->timeouts.handler = int_of(timeouts, "handler");

    srv->metrics.enabled = json_is_true(json_object_get(metrics, "enabled"));
    srv->metrics.loopback_only = json_is_true(json_object_get(metrics, "loopback_only"));
}

static void fill_log(fill_ctx *fc, const section *s, const json_t *value, const esg_yaml_node *node)
{
    (void)s;
    (void)node;
    fc->cfg->log.level = esg_log_level_parse(str_of(value, "level"));
    fc->cfg->log.access = json_is_true(json_object_get(value, "access"));
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void fill_plugins(fill_ctx *fc, const section *s, const json_t *value,
                         const esg_yaml_node *node)
{
    esg_config_plugins *p = &fc->cfg->plugins;
    const json_t *dirs = json_object_get(value, "dirs");
    const json_t *load = json_object_get(value, "load");
    const char *base = esg_yaml_dir(fc->cfg->doc);
    (void)s;

    p->workers = (int)int_of(value, "workers");
    p->call_timeout_ms = int_of(value, "call_timeout");
    p->dirs = calloc(json_array_size(dirs) + 1, sizeof(*p->dirs));
    p->load = calloc(json_array_size(load) + 1, sizeof(*p->load));
    if (p->dirs == NULL || p->load == NULL) {
        fc->oom = 1;
        return;
    }
    for (size_t i = 0; i < json_array_size(dirs); i++)
        p->dirs[p->n_dirs++] = json_string_value(json_array_get(dirs, i));
    for (size_t i = 0; i < json_array_size(load); i++) {
        const char *item = json_string_value(json_array_get(load, i));
        esg_buf path = ESG_BUF_INIT;
        int rc = 0;
        if (ends_with(item, ".so") && item[0] != '/' && base != NULL)
            rc = esg_buf_printf(&path, "%s/%s", base, item);
        else if (ends_with(item, ".so") || esg_is_identifier(item, strlen(item), 64))
            rc = esg_buf_puts(&path, item);
        else
            ferr(fc, item_node(node, "load", i),
                 "plugins.load[%zu]: expected a plugin name ([a-z0-9_-]{1,64}) or a path ending "
                 "in .so",
                 i);
        if (rc != 0)
            fc->oom = 1;
        if (path.len > 0)
            p->load[p->n_load++] = esg_buf_steal(&path, NULL);
        esg_buf_free(&path);
    }
}

/*
 * Sets up the next instance from its normalized item and its node in the file. `where` (copied)
 * names its options in messages.
 */
static esg_config_instance *add_instance(fill_ctx *fc, uint32_t kind, const char *section_key,
                                         size_t index, const char *where, const json_t *item,
                                         const esg_yaml_node *node)
{
    esg_config *cfg = fc->cfg;
    esg_config_instance *inst = &cfg->instances[cfg->n_instances];

    memset(inst, 0, sizeof(*inst));
    inst->where = strdup(where);
    if (inst->where == NULL) {
        fc->oom = 1;
        return NULL;
    }
    inst->kind = kind;
    inst->section = section_key;
    inst->index = index;
    inst->name = str_of(item, "name");
    inst->type = str_of(item, "type");
    inst->node = node;
    inst->options = esg_yaml_get(node, "options");
    if (inst->options != NULL && inst->options->kind == ESG_YAML_SCALAR &&
        inst->options->type == ESG_YAML_NULL)
        inst->options = NULL;
    cfg->n_instances++;
    return inst;
}

static void check_type_name(fill_ctx *fc, const esg_config_instance *inst, const char *what)
{
    if (!esg_is_identifier(inst->type, strlen(inst->type), 64))
        ferr(fc, esg_yaml_get(inst->node, "type"), "%s.type: a capability type is [a-z0-9_-]{1,64}",
             what);
}

static void fill_storage(fill_ctx *fc, const section *s, const json_t *value,
                         const esg_yaml_node *node)
{
    static const char *const names[] = {"inflight", "persistent"};
    esg_config_instance *slots[2] = {NULL, NULL};
    char where[64];

    for (size_t i = 0; i < 2; i++) {
        snprintf(where, sizeof(where), "storage.%s.options", names[i]);
        slots[i] = add_instance(fc, s->kind, "storage", i, where, json_object_get(value, names[i]),
                                esg_yaml_get(node, names[i]));
        if (slots[i] == NULL)
            return;
        slots[i]->name = names[i];
        snprintf(where, sizeof(where), "storage.%s", names[i]);
        check_type_name(fc, slots[i], where);
    }
    fc->cfg->storage.inflight = slots[0];
    fc->cfg->storage.persistent = slots[1];
}

static void fill_instances(fill_ctx *fc, const section *s, const json_t *value,
                           const esg_yaml_node *node)
{
    esg_config_instances *list = (esg_config_instances *)(void *)((char *)fc->cfg + s->list_offset);
    const char *key = s->option.key;
    char where[96];

    list->items = &fc->cfg->instances[fc->cfg->n_instances];
    list->count = 0;
    for (size_t i = 0; i < json_array_size(value); i++) {
        const esg_yaml_node *item = seq_item(node, i);
        snprintf(where, sizeof(where), "%s[%zu].options", key, i);
        esg_config_instance *inst =
            add_instance(fc, s->kind, key, i, where, json_array_get(value, i), item);
        if (inst == NULL)
            return;
        list->count++;
        if (!esg_is_identifier(inst->name, strlen(inst->name), 64))
            ferr(fc, esg_yaml_get(item, "name"), "%s[%zu].name: a name is [a-z0-9_-]{1,64}", key,
                 i);
        snprintf(where, sizeof(where), "%s[%zu]", key, i);
        check_type_name(fc, inst, where);
        for (size_t j = 0; j + 1 < list->count; j++) {
            if (strcmp(list->items[j].name, inst->name) == 0) {
                const esg_yaml_node *first = esg_yaml_get(list->items[j].node, "name");
                ferr(fc, esg_yaml_get(item, "name"),
                     "%s[%zu].name: \"%s\" is already the name of %s[%zu] (line %u)", key, i,
                     inst->name, key, j, first ? (unsigned)first->line : 0u);
                break;
            }
        }
    }
}

/* The oidc section stays JSON here; core/oidc reads it into its own settings. */
static void fill_oidc(fill_ctx *fc, const section *s, const json_t *value,
                      const esg_yaml_node *node)
{
    (void)s;
    (void)node;
    fc->cfg->oidc = value;
}

static void fill_keys(fill_ctx *fc, const section *s, const json_t *value,
                      const esg_yaml_node *node)
{
    esg_config *cfg = fc->cfg;
    const char *store = str_of(value, "default_store");
    (void)s;

    cfg->keys.token_signing_alg = str_of(value, "token_signing_alg");
    if (store == NULL) {
        cfg->keys.default_store = cfg->key_stores.count > 0 ? cfg->key_stores.items[0].name : NULL;
        return;
    }
    for (size_t i = 0; i < cfg->key_stores.count; i++) {
        if (strcmp(cfg->key_stores.items[i].name, store) == 0) {
            cfg->keys.default_store = store;
            return;
        }
    }
    ferr(fc, esg_yaml_get(node, "default_store"),
         "keys.default_store: \"%s\" is not the name of an entry of key_stores", store);
}

/* Number of plugin instances the normalized config holds, to size the instance array once. */
static size_t count_instances(const json_t *json)
{
    size_t n = 2; /* storage.inflight and storage.persistent */
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (sections[i].kind != 0 && sections[i].option.type == ESP_OPT_LIST)
            n += json_array_size(json_object_get(json, sections[i].option.key));
    return n;
}

/* Validates the document against the core schema and fills a new config that takes `doc`. */
static int config_from_doc(esg_yaml_doc *doc, esg_config **out, esg_config_errors *errors)
{
    int rc;
    esp_option top[N_SECTIONS + 1];
    esg_config *cfg = NULL;
    const esg_yaml_node *root = esg_yaml_root(doc);
    esg_schema_ctx ctx = {NULL, esg_yaml_dir(doc), root};
    fill_ctx fc;

    *out = NULL;
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        esg_yaml_free(doc);
        return ESP_ENOMEM;
    }
    cfg->doc = doc;
    top_options(top);
    rc = esg_schema_validate(&ctx, root, top, &cfg->json, errors);
    if (rc != 0)
        goto done;
    cfg->instances = calloc(count_instances(cfg->json), sizeof(*cfg->instances));
    if (cfg->instances == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    memset(&fc, 0, sizeof(fc));
    fc.cfg = cfg;
    fc.errors = errors;
    for (size_t i = 0; i < N_SECTIONS && !fc.oom; i++)
        sections[i].fill(&fc, &sections[i], json_object_get(cfg->json, sections[i].option.key),
                         esg_yaml_get(root, sections[i].option.key));
    rc = fc.oom ? ESP_ENOMEM : fc.failed ? ESP_ECONFIG : 0;
done:
    if (rc != 0)
        esg_config_free(cfg);
    else
        *out = cfg;
    return rc;
}

int esg_config_load(const char *path, const esg_yaml_env *env, esg_config **out,
                    esg_config_errors *errors)
{
    esg_yaml_opts opts = {env, NULL, NULL};
    esg_yaml_doc *doc = NULL;
    int rc = esg_yaml_load_file(path, &opts, &doc, errors);

    *out = NULL;
    if (rc != 0)
        return rc;
    return config_from_doc(doc, out, errors);
}

int esg_config_load_string(const char *name, const char *text, size_t len, const char *base_dir,
                           const esg_yaml_env *env, esg_config **out, esg_config_errors *errors)
{
    esg_yaml_opts opts = {env, NULL, base_dir};
    esg_yaml_doc *doc = NULL;
    int rc = esg_yaml_load_string(name, text, len, &opts, &doc, errors);

    *out = NULL;
    if (rc != 0)
        return rc;
    return config_from_doc(doc, out, errors);
}

void esg_config_free(esg_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < cfg->server.n_listen; i++)
        free(cfg->server.listen[i].host);
    free(cfg->server.listen);
    free(cfg->plugins.dirs);
    for (size_t i = 0; i < cfg->plugins.n_load; i++)
        free(cfg->plugins.load[i]);
    free(cfg->plugins.load);
    for (size_t i = 0; i < cfg->n_instances; i++) {
        free(cfg->instances[i].where);
        json_decref(cfg->instances[i].redacted);
    }
    free(cfg->instances);
    json_decref(cfg->json);
    esg_yaml_free(cfg->doc);
    free(cfg);
}

int esg_config_validate_options(esg_config *cfg, esg_config_instance *inst,
                                const esp_option *options, json_t **out, esg_config_errors *errors)
{
    int rc;
    json_t *v = NULL, *redacted = NULL;
    esg_schema_ctx ctx = {inst->where, esg_yaml_dir(cfg->doc), inst->node};

    *out = NULL;
    rc = esg_schema_validate(&ctx, inst->options, options, &v, errors);
    if (rc != 0)
        goto done;
    rc = esg_schema_redact(v, options, &redacted);
    if (rc != 0)
        goto done;
    json_decref(inst->redacted);
    inst->redacted = redacted;
    *out = v;
    v = NULL;
done:
    json_decref(v);
    return rc;
}

/* The JSON object of an instance inside a copy of the normalized config. */
static json_t *instance_json(json_t *root, const esg_config_instance *inst)
{
    json_t *sec = json_object_get(root, inst->section);
    if (inst->kind == ESP_KIND_STORAGE)
        return json_object_get(sec, inst->name);
    return json_array_get(sec, inst->index);
}

int esg_config_dump(const esg_config *cfg, esg_buf *out)
{
    int rc;
    esp_option top[N_SECTIONS + 1];
    json_t *copy = NULL;
    char *text = NULL;

    top_options(top);
    rc = esg_schema_redact(cfg->json, top, &copy);
    if (rc != 0)
        goto done;
    for (size_t i = 0; i < cfg->n_instances; i++) {
        const esg_config_instance *inst = &cfg->instances[i];
        json_t *obj = instance_json(copy, inst);
        json_t *v;
        if (obj == NULL)
            continue;
        if (inst->redacted != NULL)
            v = json_incref(inst->redacted);
        else if (json_object_get(obj, "options") != NULL)
            v = json_string(NOT_VALIDATED);
        else
            continue;
        if (json_object_set_new(obj, "options", v) != 0) {
            rc = ESP_ENOMEM;
            goto done;
        }
    }
    text = json_dumps(copy, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        rc = ESP_ENOMEM;
        goto done;
    }
    rc = esg_buf_puts(out, text);
    if (rc == 0)
        rc = esg_buf_putc(out, '\n');
done:
    free(text);
    json_decref(copy);
    return rc;
}

int esg_config_markdown(esg_buf *out)
{
    int rc;
    esp_option top[N_SECTIONS + 1];
    esg_buf prefix = ESG_BUF_INIT;

    top_options(top);
    rc = esg_buf_puts(out, "### Top-level settings\n\n");
    if (rc == 0)
        rc = esg_schema_markdown(top, NULL, 1, out);
    for (size_t i = 0; i < N_SECTIONS && rc == 0; i++) {
        const esp_option *o = &sections[i].option;
        if (o->type != ESP_OPT_OBJECT)
            continue;
        esg_buf_reset(&prefix);
        rc = esg_buf_printf(out, "\n### `%s`\n\n%s\n\n", o->key, o->help);
        if (rc == 0)
            rc = esg_buf_printf(&prefix, "%s.", o->key);
        if (rc == 0)
            rc = esg_schema_markdown(o->children, prefix.data, 0, out);
    }
    esg_buf_free(&prefix);
    return rc;
}

int esg_config_check_schema(esg_config_errors *errors)
{
    esp_option top[N_SECTIONS + 1];
    top_options(top);
    return esg_schema_check_options(top, "core configuration", errors);
}

/* Position of `line` (a whole line) in doc[from..len), or NULL. */
static const char *find_line(const char *doc, size_t len, size_t from, const char *line)
{
    size_t n = strlen(line);
    for (size_t i = from; i + n <= len; i++) {
        if ((i == 0 || doc[i - 1] == '\n') && memcmp(doc + i, line, n) == 0 &&
            (i + n == len || doc[i + n] == '\n'))
            return doc + i;
    }
    return NULL;
}

int esg_config_docs_splice(const char *doc, size_t len, const char *region, const char *content,
                           esg_buf *out)
{
    int rc;
    esg_buf begin = ESG_BUF_INIT, end = ESG_BUF_INIT;
    const char *b, *e;

    rc = esg_buf_printf(&begin, "<!-- BEGIN GENERATED %s -->", region);
    if (rc == 0)
        rc = esg_buf_printf(&end, "<!-- END GENERATED %s -->", region);
    if (rc != 0)
        goto done;
    b = find_line(doc, len, 0, begin.data);
    e = b ? find_line(doc, len, (size_t)(b - doc) + begin.len, end.data) : NULL;
    if (b == NULL || e == NULL) {
        rc = ESP_ENOTFOUND;
        goto done;
    }
    rc = esg_buf_append(out, doc, (size_t)(b - doc) + begin.len);
    if (rc == 0)
        rc = esg_buf_printf(out, "\n%s", content);
    if (rc == 0 && content[0] != '\0' && content[strlen(content) - 1] != '\n')
        rc = esg_buf_putc(out, '\n');
    if (rc == 0)
        rc = esg_buf_append(out, e, len - (size_t)(e - doc));
done:
    esg_buf_free(&begin);
    esg_buf_free(&end);
    return rc;
}
