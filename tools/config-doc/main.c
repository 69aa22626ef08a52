/*
 * esignet-config-doc: writes the reference of the core settings into docs/CONFIGURATION.md,
 * between the lines <!-- BEGIN GENERATED core-options --> and <!-- END GENERATED core-options -->,
 * from the same esp_option tables the server validates with, so that the two cannot drift.
 *
 *   esignet-config-doc FILE          rewrite FILE when its generated region is out of date
 *   esignet-config-doc --check FILE  exit 1 when it is out of date, changing nothing
 *
 * With `--plugins DIR` it also writes one region per plugin (<!-- BEGIN GENERATED plugin-NAME -->)
 * from the option arrays of the built-in plugins and of every .so in DIR, loaded through the real
 * loader; a plugin without a region yet gets one appended at the end of the file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <dirent.h>
#include <stdlib.h>

#include "config/config.h"
#include "plugin/registry.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/status.h"

#define REGION "core-options"

static int read_all(const char *path, esg_buf *out)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return ESP_EIO;
    }
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = esg_buf_append(out, chunk, n);
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        rc = ESP_EIO;
    }
    fclose(f);
    return rc;
}

static int write_all(const char *path, const esg_buf *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return ESP_EIO;
    }
    size_t n = fwrite(text->data, 1, text->len, f);
    if (fclose(f) != 0 || n != text->len) {
        fprintf(stderr, "%s: write error\n", path);
        return ESP_EIO;
    }
    return 0;
}

/* The Markdown of one plugin: a heading, its capabilities and their option tables. */
static int plugin_markdown(const struct esp_plugin *p, esg_buf *out)
{
    int rc = esg_buf_printf(out, "### Plugin `%s`\n\n%s\n", p->desc->name,
                            p->desc->description ? p->desc->description : "");
    for (size_t i = 0; rc == 0 && i < p->n_caps; i++) {
        const esg_cap *c = &p->caps[i];
        const esg_kind_info *k = esg_kind_find(c->kind);
        rc = esg_buf_printf(out, "\n#### %s type `%s` (in `%s`)\n\n%s\n\n", k->name, c->type,
                            k->section, c->desc->description ? c->desc->description : "");
        if (rc == 0 && (c->desc->options == NULL || c->desc->options->key == NULL))
            rc = esg_buf_puts(out, "No options.\n");
        else if (rc == 0)
            rc = esg_schema_markdown(c->desc->options, "options.", 0, out);
    }
    return rc;
}

/* Replaces (or appends) the region of every registered plugin in `doc`. */
static int splice_plugins(esg_buf *doc)
{
    int rc = 0;
    for (const struct esp_plugin *p = esg_plugins_first(); rc == 0 && p != NULL; p = p->next) {
        char region[96];
        snprintf(region, sizeof(region), "plugin-%s", p->desc->name);
        esg_buf md = ESG_BUF_INIT, next = ESG_BUF_INIT;
        rc = plugin_markdown(p, &md);
        if (rc == 0)
            rc = esg_config_docs_splice(doc->data, doc->len, region, md.data, &next);
        if (rc == ESP_ENOTFOUND) {
            /* A new plugin: its region goes at the end of the document. */
            esg_buf_reset(&next);
            rc = esg_buf_append(&next, doc->data, doc->len);
            if (rc == 0)
                rc = esg_buf_printf(&next,
                                    "\n<!-- BEGIN GENERATED %s -->\n%s<!-- END GENERATED "
                                    "%s -->\n",
                                    region, md.data, region);
        }
        if (rc == 0) {
            esg_buf_free(doc);
            *doc = next;
        } else {
            esg_buf_free(&next);
        }
        esg_buf_free(&md);
    }
    return rc;
}

/* Registers the built-in plugins and every .so in `dir`, in name order. */
static int load_plugins(const char *dir)
{
    esg_buf err = ESG_BUF_INIT;
    int rc = esg_plugin_register_builtin(esg_memstore_descriptor(), &err);
    struct dirent **names = NULL;
    int n = rc == 0 ? scandir(dir, &names, NULL, alphasort) : 0;
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        rc = ESP_EIO;
    }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]->d_name);
        if (rc == 0 && len > 3 && strcmp(names[i]->d_name + len - 3, ".so") == 0) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            rc = esg_plugin_load(path, &err);
        }
        free(names[i]);
    }
    free(names);
    if (rc != 0)
        fprintf(stderr, "%s\n", err.data ? err.data : esg_strerror(rc));
    esg_buf_free(&err);
    return rc;
}

int main(int argc, char **argv)
{
    int rc, check = 0, status = 1;
    const char *path;
    esg_buf doc = ESG_BUF_INIT, tables = ESG_BUF_INIT, updated = ESG_BUF_INIT;

    const char *plugin_dir = NULL;
    int a = 1;
    for (; a < argc - 1; a++) {
        if (strcmp(argv[a], "--check") == 0)
            check = 1;
        else if (strcmp(argv[a], "--plugins") == 0 && a + 1 < argc - 1)
            plugin_dir = argv[++a];
        else
            break;
    }
    if (a != argc - 1 || argv[a][0] == '-') {
        fprintf(stderr, "usage: %s [--check] [--plugins DIR] docs/CONFIGURATION.md\n", argv[0]);
        return 2;
    }
    path = argv[a];
    if (plugin_dir != NULL && load_plugins(plugin_dir) != 0)
        return 1;
    rc = read_all(path, &doc);
    if (rc == 0)
        rc = esg_config_markdown(&tables);
    if (rc == 0)
        rc = esg_config_docs_splice(doc.data ? doc.data : "", doc.len, REGION, tables.data,
                                    &updated);
    if (rc == ESP_ENOTFOUND) {
        fprintf(stderr,
                "%s: the lines <!-- BEGIN GENERATED " REGION " --> and <!-- END GENERATED " REGION
                " --> are missing\n",
                path);
        goto done;
    }
    if (rc == 0 && plugin_dir != NULL)
        rc = splice_plugins(&updated);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", path, esg_strerror(rc));
        goto done;
    }
    if (updated.len == doc.len && memcmp(updated.data, doc.data, doc.len) == 0) {
        status = 0;
        goto done;
    }
    if (check) {
        fprintf(stderr, "%s is out of date: run `make config-doc` (or esignet-config-doc %s)\n",
                path, path);
        goto done;
    }
    if (write_all(path, &updated) == 0) {
        printf("updated %s\n", path);
        status = 0;
    }
done:
    esg_plugins_shutdown();
    esg_buf_free(&doc);
    esg_buf_free(&tables);
    esg_buf_free(&updated);
    return status;
}
