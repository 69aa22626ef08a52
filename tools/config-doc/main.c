/*
 * esignet-config-doc: writes the reference of the core settings into docs/CONFIGURATION.md,
 * between the lines <!-- BEGIN GENERATED core-options --> and <!-- END GENERATED core-options -->,
 * from the same esp_option tables the server validates with, so that the two cannot drift.
 *
 *   esignet-config-doc FILE          rewrite FILE when its generated region is out of date
 *   esignet-config-doc --check FILE  exit 1 when it is out of date, changing nothing
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
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

int main(int argc, char **argv)
{
    int rc, check = 0, status = 1;
    const char *path;
    esg_buf doc = ESG_BUF_INIT, tables = ESG_BUF_INIT, updated = ESG_BUF_INIT;

    if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        check = 1;
        path = argv[2];
    } else if (argc == 2 && argv[1][0] != '-') {
        path = argv[1];
    } else {
        fprintf(stderr, "usage: %s [--check] docs/CONFIGURATION.md\n", argv[0]);
        return 2;
    }
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
    esg_buf_free(&doc);
    esg_buf_free(&tables);
    esg_buf_free(&updated);
    return status;
}
