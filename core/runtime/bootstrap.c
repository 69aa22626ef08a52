#include "runtime/bootstrap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys/keys.h"
#include "oauth/clients.h"
#include "oidc/auth.h"
#include "oidc/settings.h"
#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/workers.h"
#include "store/store.h"
#include "util/log.h"
#include "util/status.h"
#include "util/str.h"

#ifndef ESG_PLUGIN_DIR
#define ESG_PLUGIN_DIR "/usr/local/lib/esignet/plugins"
#endif

static void print_errors(esg_config_errors *errors)
{
    esg_buf out = ESG_BUF_INIT;
    esg_config_errors_format(errors, &out);
    if (out.len > 0)
        fputs(out.data, stderr);
    esg_buf_free(&out);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Resolves a plugins.load entry: a path to a .so, or a name searched in the plugin dirs. */
static int resolve_plugin(const esg_config *cfg, const char *entry, char *out, size_t size)
{
    size_t n = strlen(entry);
    if (n > 3 && strcmp(entry + n - 3, ".so") == 0) {
        snprintf(out, size, "%s", entry);
        return file_exists(out) ? 0 : ESP_ENOTFOUND;
    }
    for (size_t i = 0; i <= cfg->plugins.n_dirs; i++) {
        /* The configured directories first, then the install directory. */
        const char *dir = i < cfg->plugins.n_dirs ? cfg->plugins.dirs[i] : ESG_PLUGIN_DIR;
        snprintf(out, size, "%s/%s.so", dir, entry);
        if (file_exists(out))
            return 0;
    }
    return ESP_ENOTFOUND;
}

static int load_plugins(const esg_config *cfg)
{
    esg_buf err = ESG_BUF_INIT;
    int rc = esg_plugin_register_builtin(esg_memstore_descriptor(), &err);
    for (size_t i = 0; rc == 0 && i < cfg->plugins.n_load; i++) {
        char path[4096];
        if (resolve_plugin(cfg, cfg->plugins.load[i], path, sizeof(path)) != 0) {
            esg_buf_printf(&err, "plugins.load: plugin \"%s\" not found in plugins.dirs or %s",
                           cfg->plugins.load[i], ESG_PLUGIN_DIR);
            rc = ESP_ENOTFOUND;
            break;
        }
        rc = esg_plugin_load(path, &err);
    }
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", esg_yaml_name(cfg->doc), err.data ? err.data : "");
    esg_buf_free(&err);
    return rc;
}

/* Validates every instance's options against its capability; collects every error. */
static int validate_instances(esg_config *cfg, esg_cap **caps, json_t **options,
                              esg_config_errors *errors)
{
    int status = 0;
    for (size_t i = 0; i < cfg->n_instances; i++) {
        esg_config_instance *ci = &cfg->instances[i];
        esg_buf why = ESG_BUF_INIT;
        esg_cap *cap = esg_cap_find((int)ci->kind, ci->type, &why);
        if (cap == NULL) {
            const esg_yaml_node *at = ci->node;
            if (at != NULL)
                esg_yaml_error(errors, esg_yaml_get(at, "type") ? esg_yaml_get(at, "type") : at,
                               "%s: %s", ci->where, why.data);
            else
                esg_config_errors_add(errors, esg_yaml_name(cfg->doc), 0, 0, "%s: %s", ci->where,
                                      why.data);
            esg_buf_free(&why);
            status = ESP_ECONFIG;
            continue;
        }
        esg_buf_free(&why);
        int rc = esg_schema_check_options(cap->desc->options, cap->plugin->desc->name, errors);
        if (rc == 0)
            rc = esg_config_validate_options(cfg, ci, cap->desc->options, &options[i], errors);
        if (rc != 0)
            status = rc;
        caps[i] = cap;
    }
    return status;
}

static void fill_settings(esg_app *app)
{
    const esg_config *c = app->cfg;
    esg_server_settings *s = &app->settings;
    esg_server_settings_init(s);
    s->issuer = c->issuer;
    s->base_path = c->base_path;
    s->listen = (const char *const *)app->listen_specs;
    s->n_listen = c->server.n_listen;
    s->workers = c->server.workers;
    s->backlog = c->server.backlog;
    s->tls_certificate = c->server.tls.certificate;
    s->tls_private_key = c->server.tls.private_key;
    s->tls_min_version = c->server.tls.min_version == ESG_TLS_1_3 ? 13 : 12;
    s->max_request_line = (size_t)c->server.limits.request_line;
    s->max_header_size = (size_t)c->server.limits.header_size;
    s->max_headers = (size_t)c->server.limits.headers;
    s->max_body = (size_t)c->server.limits.body;
    s->max_connections = (size_t)c->server.limits.connections;
    s->header_timeout_ms = (uint32_t)c->server.timeouts.header;
    s->body_timeout_ms = (uint32_t)c->server.timeouts.body;
    s->keepalive_timeout_ms = (uint32_t)c->server.timeouts.keepalive;
    s->write_timeout_ms = (uint32_t)c->server.timeouts.write;
    s->shutdown_timeout_ms = (uint32_t)c->server.timeouts.shutdown;
    s->metrics_enabled = c->server.metrics.enabled;
    s->metrics_loopback_only = c->server.metrics.loopback_only;
    s->access_log = c->log.access;
}

static int listen_specs(esg_app *app)
{
    const esg_config *c = app->cfg;
    app->listen_specs = calloc(c->server.n_listen, sizeof(char *));
    if (app->listen_specs == NULL)
        return ESP_ENOMEM;
    for (size_t i = 0; i < c->server.n_listen; i++) {
        const esg_config_listen *l = &c->server.listen[i];
        size_t len = strlen(l->host) + 16;
        char *spec = malloc(len);
        if (spec == NULL)
            return ESP_ENOMEM;
        snprintf(spec, len, l->ipv6 ? "[%s]:%u" : "%s:%u", l->host, (unsigned)l->port);
        app->listen_specs[i] = spec;
    }
    return 0;
}

int esg_bootstrap(const char *config_path, int mode, esg_app *app)
{
    esg_config_errors errors;
    esg_config_errors_init(&errors);
    esg_cap **caps = NULL;
    json_t **options = NULL;
    memset(app, 0, sizeof(*app));
    int rc = esg_config_load(config_path, NULL, &app->cfg, &errors);
    if (rc != 0)
        goto fail;
    esg_config *cfg = app->cfg;
    esg_log_set_level(cfg->log.level);
    if ((rc = load_plugins(cfg)) != 0)
        goto fail;
    caps = calloc(cfg->n_instances + 1, sizeof(*caps));
    options = calloc(cfg->n_instances + 1, sizeof(*options));
    if (caps == NULL || options == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    if ((rc = validate_instances(cfg, caps, options, &errors)) != 0)
        goto fail;
    if ((rc = esg_oidc_settings_load(cfg, &errors)) != 0)
        goto fail;
    esg_buf cerr = ESG_BUF_INIT;
    if ((rc = esg_clients_configure(cfg->oidc, &cerr)) != 0) {
        esg_config_errors_add(&errors, esg_yaml_name(cfg->doc), 0, 0, "%s",
                              cerr.data ? cerr.data : esg_strerror(rc));
        esg_buf_free(&cerr);
        goto fail;
    }
    esg_buf_free(&cerr);
    if ((rc = listen_specs(app)) != 0)
        goto fail;
    fill_settings(app);
    if (mode == ESG_BOOT_CHECK)
        goto done;

    esg_buf err = ESG_BUF_INIT;
    if ((rc = esg_plugins_init(esg_host_get(), &err)) != 0)
        goto fail_msg;
    if ((rc = esg_workers_start(cfg->plugins.workers)) != 0) {
        esg_buf_printf(&err, "cannot start the plugin worker pool");
        goto fail_msg;
    }
    app->workers_started = 1;
    /* Instances in configuration order: storage, key stores, then the rest, as config.c lists
     * them, so that later instances may use earlier ones through host services. */
    for (size_t i = 0; i < cfg->n_instances; i++) {
        esg_config_instance *ci = &cfg->instances[i];
        rc = esg_instance_create(caps[i], ci->name, options[i], cfg->plugins.call_timeout_ms, NULL,
                                 &err);
        options[i] = NULL; /* ownership moved, also on failure */
        if (rc != 0)
            goto fail_msg;
    }
    struct esp_instance *inflight =
        cfg->storage.inflight ? esg_instance_find(ESP_KIND_STORAGE, cfg->storage.inflight->name)
                              : NULL;
    struct esp_instance *persistent =
        cfg->storage.persistent ? esg_instance_find(ESP_KIND_STORAGE, cfg->storage.persistent->name)
                                : NULL;
    if ((rc = esg_store_configure(inflight, persistent, &err)) != 0 ||
        (rc = esg_keys_configure(cfg->keys.default_store, &err)) != 0 ||
        (rc = esg_auth_check(&err)) != 0)
        goto fail_msg;
    esg_buf_free(&err);
done:
    for (size_t i = 0; options != NULL && i < cfg->n_instances; i++)
        json_decref(options[i]);
    free(options);
    free(caps);
    esg_config_errors_free(&errors);
    return 0;
fail_msg:
    fprintf(stderr, "%s: %s\n", config_path, err.data ? err.data : esg_strerror(rc));
    esg_buf_free(&err);
fail:
    print_errors(&errors);
    for (size_t i = 0; options != NULL && app->cfg != NULL && i < app->cfg->n_instances; i++)
        json_decref(options[i]);
    free(options);
    free(caps);
    esg_config_errors_free(&errors);
    esg_bootstrap_teardown(app);
    return rc < 0 ? rc : ESP_ECONFIG;
}

void esg_bootstrap_teardown(esg_app *app)
{
    esg_clients_reset();
    esg_oidc_settings_free();
    esg_store_configure(NULL, NULL, NULL);
    esg_keys_reset();
    /* The pool first: its jobs run plugin code and must finish before instances go. (A caller
     * that stopped it with a bound already has; threads it left running are counted below.) */
    if (app->workers_started)
        esg_workers_stop();
    /* A call a plugin never completed may still complete from the plugin's own thread, and a
     * worker thread left running still runs plugin code: their instances and code must stay, so
     * the plugins are left loaded (a leak, not a crash). */
    if (esg_calls_pending() > 0 || esg_workers_alive() > 0)
        esg_logf(ESP_LOG_ERROR, "server.plugins_kept",
                 "%lld plugin calls never completed, %d worker threads still busy; plugins are "
                 "not unloaded",
                 (long long)esg_calls_pending(), esg_workers_alive());
    else
        esg_plugins_shutdown();
    if (app->listen_specs != NULL) {
        for (size_t i = 0; app->cfg != NULL && i < app->cfg->server.n_listen; i++)
            free(app->listen_specs[i]);
        free(app->listen_specs);
    }
    esg_config_free(app->cfg);
    memset(app, 0, sizeof(*app));
}

/* ---------------------------------------------------------------------------------------------
 * --list-plugins
 */

static const char *type_name(uint32_t t)
{
    return esg_schema_type_name(t);
}

static void print_options(const esp_option *opts, const char *prefix)
{
    if (opts == NULL || opts->key == NULL)
        return;
    size_t stride = opts->size;
    for (const esp_option *o = opts; o->key != NULL;
         o = (const esp_option *)(const void *)((const char *)o + stride)) {
        printf("      %s%s  (%s%s%s)", prefix, o->key, type_name(o->type),
               (o->flags & ESP_OPT_REQUIRED) ? ", required" : "",
               (o->flags & ESP_OPT_SECRET) ? ", secret" : "");
        if (o->default_text != NULL)
            printf(" default: %s", o->default_text);
        printf("\n");
        if (o->help != NULL)
            printf("          %s\n", o->help);
        if (o->children != NULL) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s%s.", prefix, o->key);
            print_options(o->children, sub);
        }
    }
}

static int list_one(const char *path)
{
    esg_buf err = ESG_BUF_INIT;
    int rc = esg_plugin_load(path, &err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err.data);
        esg_buf_free(&err);
        return rc;
    }
    esg_buf_free(&err);
    struct esp_plugin *p = esg_plugins_first();
    while (p->next != NULL)
        p = p->next;
    const esp_plugin_desc *d = p->desc;
    printf("%s %s (plugin ABI %u.%u) %s\n  %s\n", d->name, d->version, d->abi_major, d->abi_minor,
           path, d->description ? d->description : "");
    for (size_t i = 0; i < p->n_caps; i++) {
        const esg_cap *c = &p->caps[i];
        const esg_kind_info *k = esg_kind_find(c->kind);
        printf("    %s \"%s\"%s: %s\n", k->name, c->type,
               (c->desc->flags & ESP_CAP_BLOCKING) ? " [blocking]" : "",
               c->desc->description ? c->desc->description : "");
        print_options(c->desc->options, "");
    }
    return 0;
}

int esg_list_plugins(const char *const *paths, size_t n)
{
    static const char *const fallback[] = {ESG_PLUGIN_DIR};
    if (n == 0) {
        paths = fallback;
        n = 1;
    }
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            fprintf(stderr, "%s: not found\n", paths[i]);
            status = ESP_ENOTFOUND;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (list_one(paths[i]) != 0)
                status = ESP_EABI;
            continue;
        }
        struct dirent **names = NULL;
        int count = scandir(paths[i], &names, NULL, alphasort);
        for (int k = 0; k < count; k++) {
            size_t len = strlen(names[k]->d_name);
            if (len > 3 && strcmp(names[k]->d_name + len - 3, ".so") == 0) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", paths[i], names[k]->d_name);
                if (list_one(path) != 0)
                    status = ESP_EABI;
            }
            free(names[k]);
        }
        free(names);
    }
    esg_plugins_shutdown();
    return status;
}
