/*
 * From a configuration file to a ready core: plugins loaded and checked, instance options
 * validated, and (unless only checking) plugins initialised, instances created, storage and keys
 * wired. The command line (core/main.c) uses it for the server and for the tools.
 */
#ifndef ESG_RUNTIME_BOOTSTRAP_H
#define ESG_RUNTIME_BOOTSTRAP_H

#include "config/config.h"
#include "runtime/server.h"

enum esg_bootstrap_mode {
    ESG_BOOT_CHECK, /* validate everything, create nothing */
    ESG_BOOT_START, /* create instances, start the worker pool */
};

typedef struct esg_app {
    esg_config *cfg;
    esg_server_settings settings;
    char **listen_specs; /* owned array of owned strings, "host:port" */
    int workers_started;
} esg_app;

/*
 * Loads `config_path` and sets up the core as `mode` says. On failure every problem is printed
 * to stderr (file:line:col for configuration errors) and a negative status is returned; what was
 * set up is torn down again. [init]
 */
int esg_bootstrap(const char *config_path, int mode, esg_app *app);

/* Destroys instances, unloads plugins, stops the worker pool, frees the configuration. [init] */
void esg_bootstrap_teardown(esg_app *app);

/*
 * Prints what the plugins at `paths` offer (every .so in a directory path), without initialising
 * them: name, version, ABI, capabilities with their options. Returns 0 when every file loaded.
 */
int esg_list_plugins(const char *const *paths, size_t n);

#endif
