/*
 * The identities file parser of identity-mock (plugins/identity-mock/identities.c, compiled in)
 * on arbitrary input, read both as JSON and as YAML. An accepted document must give sorted, unique
 * identities that each find themselves, with claims objects and known password kinds; a refused
 * one must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/identity-mock/identities.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, int yaml)
{
    identities *db = NULL;
    esg_buf err = ESG_BUF_INIT;
    int rc = yaml ? identities_parse_yaml("fuzz.yaml", (const char *)data, size, &db, &err)
                  : identities_parse((const char *)data, size, &db, &err);
    if (rc != 0) {
        if (db != NULL || err.len == 0)
            abort();
        esg_buf_free(&err);
        return;
    }
    if (db == NULL || db->n == 0 || err.len != 0)
        abort();
    for (size_t i = 0; i < db->n; i++) {
        const identity *id = &db->items[i];
        if (i > 0 && strcmp(db->items[i - 1].individual_id, id->individual_id) >= 0)
            abort();
        if (identities_find(db, id->individual_id, strlen(id->individual_id)) != id)
            abort();
        if (!json_is_object(id->claims) || id->password.kind < PASSWORD_NONE ||
            id->password.kind > PASSWORD_SHA256)
            abort();
        /* Cheap hashes only: the iteration count is the input's to choose. */
        if (id->password.kind != PASSWORD_PBKDF2 || id->password.iterations <= 2000)
            password_verify(&id->password, "password", 8);
    }
    identities_free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, 0);
    check(data, size, 1);
    return 0;
}
