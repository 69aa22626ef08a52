#include "plugin/registry.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/host.h"
#include "util/log.h"
#include "util/status.h"
#include "util/str.h"

static struct esp_plugin *plugins;     /* registration order */
static struct esp_instance *instances; /* creation order */

struct esp_plugin *esg_plugins_first(void)
{
    return plugins;
}

struct esp_instance *esg_instances_first(void)
{
    return instances;
}

static void free_plugin(struct esp_plugin *p)
{
    if (p == NULL)
        return;
    free(p->caps);
    free(p->path);
    /* ESG_KEEP_PLUGINS keeps shared objects mapped at exit, so that leak checkers can still
     * name the plugin functions in their stack traces. */
    if (p->dl != NULL && getenv("ESG_KEEP_PLUGINS") == NULL)
        dlclose(p->dl);
    free(p);
}

/* Accepts a checked descriptor: builds the capability list and appends it to the registry. */
static int add(const esp_plugin_desc *desc, const char *path, void *dl, esg_buf *err)
{
    for (struct esp_plugin *o = plugins; o != NULL; o = o->next) {
        if (strcmp(o->desc->name, desc->name) == 0) {
            esg_buf_printf(err, "%s: a plugin named \"%s\" is already loaded from %s", path,
                           desc->name, o->path);
            return ESP_EABI;
        }
    }
    struct esp_plugin *p = calloc(1, sizeof(*p));
    size_t n = 0;
    while (desc->capabilities[n] != NULL)
        n++;
    if (p == NULL || (p->caps = calloc(n, sizeof(*p->caps))) == NULL ||
        (p->path = esg_strndup(path, strlen(path))) == NULL) {
        free_plugin(p);
        return ESP_ENOMEM;
    }
    p->desc = desc;
    for (size_t i = 0; i < n; i++) {
        const esp_capability *c = desc->capabilities[i];
        /* Capabilities the checker skipped (unknown kind or version) stay out of the registry. */
        if (esg_kind_find((int)c->kind) == NULL || c->kind_version != 1)
            continue;
        esg_cap *cap = &p->caps[p->n_caps++];
        cap->plugin = p;
        cap->desc = c;
        cap->kind = (int)c->kind;
        cap->type = c->type;
        cap->vtable = c->vtable;
    }
    p->dl = dl;
    struct esp_plugin **tail = &plugins;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = p;
    return 0;
}

static void log_warnings(esg_buf *w)
{
    if (w->len > 0)
        esg_logf(ESP_LOG_WARN, "plugin.warning", "%s", w->data);
}

int esg_plugin_load(const char *path, esg_buf *err)
{
    int rc;
    esg_buf warn = ESG_BUF_INIT;
    /* RTLD_LOCAL: a plugin's symbols never satisfy another plugin's references. */
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        esg_buf_printf(err, "%s: cannot load: %s", path, dlerror());
        return ESP_EIO;
    }
    void *sym = dlsym(dl, ESP_ENTRY_SYMBOL);
    if (sym == NULL) {
        esg_buf_printf(err, "%s: does not export %s(); is it an esignet plugin?", path,
                       ESP_ENTRY_SYMBOL);
        rc = ESP_EABI;
        goto fail;
    }
    esp_describe_fn describe;
    memcpy(&describe, &sym, sizeof(describe));
    const esp_plugin_desc *desc = describe();
    if ((rc = esg_plugin_check(desc, path, err, &warn)) != 0)
        goto fail;
    if ((rc = add(desc, path, dl, err)) != 0)
        goto fail;
    log_warnings(&warn);
    esg_buf_free(&warn);
    return 0;
fail:
    esg_buf_free(&warn);
    dlclose(dl);
    return rc;
}

int esg_plugin_register_builtin(const esp_plugin_desc *desc, esg_buf *err)
{
    esg_buf warn = ESG_BUF_INIT;
    const char *origin = "builtin";
    int rc = esg_plugin_check(desc, origin, err, &warn);
    if (rc == 0)
        rc = add(desc, origin, NULL, err);
    if (rc == 0)
        log_warnings(&warn);
    esg_buf_free(&warn);
    return rc;
}

int esg_plugins_init(const esp_host *host, esg_buf *err)
{
    for (struct esp_plugin *p = plugins; p != NULL; p = p->next) {
        if (p->initialized)
            continue;
        if (p->desc->init != NULL) {
            int rc = p->desc->init(host, p, &p->state);
            if (rc != 0) {
                esg_buf_printf(err, "plugin %s (%s): init failed: %s", p->desc->name, p->path,
                               host->strerror(rc));
                return rc < 0 ? rc : ESP_EINTERNAL;
            }
        }
        p->initialized = 1;
    }
    return 0;
}

esg_cap *esg_cap_find(int kind, const char *type, esg_buf *err)
{
    const char *colon = strchr(type, ':');
    size_t plen = colon ? (size_t)(colon - type) : 0;
    const char *t = colon ? colon + 1 : type;
    esg_cap *found = NULL;
    int count = 0;
    for (struct esp_plugin *p = plugins; p != NULL; p = p->next) {
        if (colon && !esg_str_eq(type, plen, p->desc->name))
            continue;
        for (size_t i = 0; i < p->n_caps; i++) {
            if (p->caps[i].kind == kind && strcmp(p->caps[i].type, t) == 0) {
                found = &p->caps[i];
                count++;
            }
        }
    }
    const esg_kind_info *k = esg_kind_find(kind);
    if (count == 0) {
        if (err != NULL)
            esg_buf_printf(err,
                           "no loaded plugin offers a %s of type \"%s\" (is it in plugins.load?)",
                           k ? k->name : "capability", type);
        return NULL;
    }
    if (count > 1) {
        if (err != NULL)
            esg_buf_printf(err,
                           "several plugins offer a %s of type \"%s\"; write \"plugin:%s\" to "
                           "choose one",
                           k ? k->name : "capability", t, t);
        return NULL;
    }
    return found;
}

struct esp_instance *esg_instance_find(int kind, const char *name)
{
    for (struct esp_instance *i = instances; i != NULL; i = i->next) {
        if (i->kind == kind && strcmp(i->name, name) == 0)
            return i;
    }
    return NULL;
}

struct esp_instance *esg_instance_first(int kind)
{
    for (struct esp_instance *i = instances; i != NULL; i = i->next) {
        if (i->kind == kind)
            return i;
    }
    return NULL;
}

int esg_instance_create(esg_cap *cap, const char *name, json_t *config, int64_t timeout_ms,
                        struct esp_instance **out, esg_buf *err)
{
    int rc;
    struct esp_instance *inst = NULL;
    const esg_kind_info *k = esg_kind_find(cap->kind);
    if (esg_instance_find(cap->kind, name) != NULL) {
        esg_buf_printf(err, "two %s instances are named \"%s\"", k->name, name);
        rc = ESP_ECONFIG;
        goto fail;
    }
    if (!cap->plugin->initialized) {
        esg_buf_printf(err, "plugin %s is not initialised", cap->plugin->desc->name);
        rc = ESP_EINTERNAL;
        goto fail;
    }
    inst = calloc(1, sizeof(*inst));
    if (inst == NULL || (inst->name = esg_strndup(name, strlen(name))) == NULL) {
        rc = ESP_ENOMEM;
        goto fail;
    }
    atomic_init(&inst->refs, 1);
    inst->kind = cap->kind;
    inst->cap = cap;
    inst->config = config;
    config = NULL;
    inst->blocking = (cap->desc->flags & ESP_CAP_BLOCKING) != 0;
    inst->timeout_ms = timeout_ms;
    const esp_vtable_common *vt = cap->vtable;
    rc = vt->create(esg_host_get(), inst, cap->plugin->state, (const esp_value *)inst->config,
                    &inst->inst);
    if (rc != 0) {
        esg_buf_printf(err,
                       "%s \"%s\" (type %s from plugin %s) could not be created: %s (see the "
                       "plugin's log lines above)",
                       k->name, name, cap->type, cap->plugin->desc->name, esg_strerror(rc));
        if (rc > 0)
            rc = ESP_EINTERNAL;
        goto fail;
    }
    inst->created = 1;
    struct esp_instance **tail = &instances;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = inst;
    if (out != NULL)
        *out = inst;
    return 0;
fail:
    json_decref(config);
    if (inst != NULL) {
        json_decref(inst->config);
        free(inst->name);
        free(inst);
    }
    return rc;
}

static void destroy_instances(struct esp_instance *i)
{
    /* Reverse creation order: later instances may use earlier ones. */
    if (i == NULL)
        return;
    destroy_instances(i->next);
    if (i->created) {
        const esp_vtable_common *vt = i->cap->vtable;
        vt->destroy(i->inst);
    }
    json_decref(i->config);
    free(i->name);
    i->config = NULL;
    i->name = NULL;
    /* A call whose deadline timer is still closing holds a reference: the last one frees it. */
    esg_instance_release(i);
}

void esg_instance_release(struct esp_instance *inst)
{
    /* Nothing may touch `inst` after its own decrement but the one that reached zero. */
    if (atomic_fetch_sub(&inst->refs, 1) == 1)
        free(inst);
}

void esg_plugins_shutdown(void)
{
    destroy_instances(instances);
    instances = NULL;
    struct esp_plugin *p = plugins;
    while (p != NULL) {
        struct esp_plugin *next = p->next;
        if (p->initialized && p->desc->fini != NULL)
            p->desc->fini(p->state);
        free_plugin(p);
        p = next;
    }
    plugins = NULL;
}
