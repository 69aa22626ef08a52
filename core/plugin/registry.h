/*
 * Plugin registry: the plugins that were loaded (from .so files or built in), the capabilities
 * they offer, and the instances created from the configuration. Protocol code finds instances
 * here by kind and name and never sees dlopen().
 */
#ifndef ESG_PLUGIN_REGISTRY_H
#define ESG_PLUGIN_REGISTRY_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <esignet/plugin.h>

#include "util/buf.h"

/* Number of operations (enum esg_op in call.h) tracked per instance for metrics. */
#define ESG_OP_COUNT 26
/* Latency histogram bucket upper bounds in milliseconds (the last bucket is +Inf). */
#define ESG_LATENCY_BUCKETS 12
extern const double esg_latency_bounds_ms[ESG_LATENCY_BUCKETS];

typedef struct esg_cap esg_cap;

/* A loaded plugin; the esp_plugin handle plugins receive points to this. */
struct esp_plugin {
    char *path;                  /* owned; "builtin" for built-in plugins */
    void *dl;                    /* dlopen handle, NULL for built-ins */
    const esp_plugin_desc *desc; /* the plugin's static descriptor */
    void *state;                 /* what init() returned */
    int initialized;
    esg_cap *caps; /* owned array of accepted capabilities */
    size_t n_caps;
    struct esp_plugin *next;
};

/* One accepted capability of a plugin. */
struct esg_cap {
    struct esp_plugin *plugin;
    const esp_capability *desc;
    int kind;
    const char *type;
    const void *vtable;
};

/* Per-operation counters of an instance, updated from any thread. */
typedef struct esg_op_stats {
    _Atomic uint64_t calls;
    _Atomic uint64_t failures;
    _Atomic uint64_t timeouts;
    _Atomic uint64_t late; /* completions after the deadline (dropped) */
    _Atomic uint64_t double_completions;
    _Atomic uint64_t latency_us_sum;
    _Atomic uint64_t buckets[ESG_LATENCY_BUCKETS + 1];
} esg_op_stats;

/* A configured instance; the esp_instance handle plugins receive points to this. */
struct esp_instance {
    char *name; /* owned; unique per kind */
    int kind;
    esg_cap *cap;
    void *inst;     /* the plugin's instance data */
    json_t *config; /* owned; validated options, seen by the plugin as esp_value */
    int created;
    int blocking;            /* operations run on the worker pool */
    int64_t timeout_ms;      /* call deadline */
    _Atomic int64_t pending; /* calls started and not yet completed by the plugin */
    /* References to this struct: one of the registry until esg_plugins_shutdown(), and one per
     * call until its deadline timer has closed. The last to let go frees it
     * (esg_instance_release()), so a call finishing after shutdown never touches freed memory. */
    _Atomic int64_t refs;
    esg_op_stats stats[ESG_OP_COUNT];
    struct esp_instance *next;
};

/* Kind metadata: name used in logs and YAML section holding its instances. */
typedef struct esg_kind_info {
    int kind;
    const char *name;    /* "key store" */
    const char *section; /* "key_stores" */
    size_t vtable_size;  /* sizeof() of the version 1 vtable */
} esg_kind_info;

/* Metadata of a known kind, or NULL. */
const esg_kind_info *esg_kind_find(int kind);
/* Every known kind, in enum order; sets *n. */
const esg_kind_info *esg_kind_all(size_t *n);

/*
 * Loads a plugin from `path` and checks its descriptor (size, ABI version, capabilities, mandatory
 * vtable entries). Does not call init(). On failure returns ESP_EABI (refused; the reason is
 * appended to `err`) or ESP_EIO (cannot open), and nothing stays loaded. [init]
 */
int esg_plugin_load(const char *path, esg_buf *err);
/* Registers a plugin linked into the server, with the same checks as esg_plugin_load(). [init] */
int esg_plugin_register_builtin(const esp_plugin_desc *desc, esg_buf *err);
/* Checks a descriptor without registering it (used by the loader and by --list-plugins). */
int esg_plugin_check(const esp_plugin_desc *desc, const char *origin, esg_buf *err,
                     esg_buf *warnings);

/* Calls init() of every registered plugin that was not initialised yet. [init] */
int esg_plugins_init(const esp_host *host, esg_buf *err);

/* First registered plugin, for iteration with ->next. */
struct esp_plugin *esg_plugins_first(void);

/*
 * Finds the capability of `kind` whose type is `type` ("name:type" selects a plugin when two
 * offer the same type). Returns NULL and appends the reason to `err` (if not NULL) when none or
 * several match.
 */
esg_cap *esg_cap_find(int kind, const char *type, esg_buf *err);

/*
 * Creates an instance of `cap` named `name` with validated options `config` (ownership moves to
 * the instance, also on failure). [init]
 */
int esg_instance_create(esg_cap *cap, const char *name, json_t *config, int64_t timeout_ms,
                        struct esp_instance **out, esg_buf *err);
/* The instance of `kind` named `name`, or NULL. */
struct esp_instance *esg_instance_find(int kind, const char *name);
/* Drops one reference to `inst` (see `refs`); the last one frees the struct. [any] */
void esg_instance_release(struct esp_instance *inst);
/* The first instance of `kind` in configuration order, or NULL. */
struct esp_instance *esg_instance_first(int kind);
/* All instances, in creation order, for iteration with ->next. */
struct esp_instance *esg_instances_first(void);

/*
 * Destroys every instance (in reverse creation order), calls fini() of every plugin and unloads
 * them. Every call must have been answered (the plugin's code goes away); a call whose deadline
 * timer is still closing keeps its instance's handle valid until it has. [init]
 */
void esg_plugins_shutdown(void);

#endif
