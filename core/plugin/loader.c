/*
 * Plugin loading: dlopen, the one entry symbol, and every check of the descriptor before the
 * plugin is accepted. A refused plugin leaves nothing behind and the reason names both versions
 * or the missing entry, so a plugin author can fix it from the message alone.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/registry.h"
#include "util/log.h"
#include "util/str.h"

/* Offsets of the entries every version 1 vtable of a kind must set. */
#define ENTRY(type, field)                                                                         \
    {                                                                                              \
#field, offsetof(type, field)                                                              \
    }
struct entry {
    const char *name;
    size_t offset;
};

static const struct entry identity_mandatory[] = {
    ENTRY(esp_identity_backend_v1, create), ENTRY(esp_identity_backend_v1, destroy),
    ENTRY(esp_identity_backend_v1, kyc_auth), ENTRY(esp_identity_backend_v1, kyc_exchange)};
static const struct entry authenticator_mandatory[] = {
    ENTRY(esp_authenticator_v1, create), ENTRY(esp_authenticator_v1, destroy),
    ENTRY(esp_authenticator_v1, factors), ENTRY(esp_authenticator_v1, verify)};
static const struct entry key_binder_mandatory[] = {
    ENTRY(esp_key_binder_v1, create), ENTRY(esp_key_binder_v1, destroy),
    ENTRY(esp_key_binder_v1, challenge_formats), ENTRY(esp_key_binder_v1, bind_key)};
static const struct entry key_store_mandatory[] = {
    ENTRY(esp_key_store_v1, create), ENTRY(esp_key_store_v1, destroy),
    ENTRY(esp_key_store_v1, keys), ENTRY(esp_key_store_v1, sign)};
static const struct entry credential_format_mandatory[] = {
    ENTRY(esp_credential_format_v1, create), ENTRY(esp_credential_format_v1, destroy),
    ENTRY(esp_credential_format_v1, format), ENTRY(esp_credential_format_v1, metadata),
    ENTRY(esp_credential_format_v1, issue)};
static const struct entry credential_data_mandatory[] = {ENTRY(esp_credential_data_v1, create),
                                                         ENTRY(esp_credential_data_v1, destroy),
                                                         ENTRY(esp_credential_data_v1, fetch)};
static const struct entry audit_sink_mandatory[] = {ENTRY(esp_audit_sink_v1, create),
                                                    ENTRY(esp_audit_sink_v1, destroy),
                                                    ENTRY(esp_audit_sink_v1, emit)};
static const struct entry notifier_mandatory[] = {
    ENTRY(esp_otp_notifier_v1, create), ENTRY(esp_otp_notifier_v1, destroy),
    ENTRY(esp_otp_notifier_v1, channels), ENTRY(esp_otp_notifier_v1, send)};
static const struct entry storage_mandatory[] = {ENTRY(esp_storage_v1, create),
                                                 ENTRY(esp_storage_v1, destroy)};
/* Storage functions come in families: all of a family or none of it, and at least one family. */
static const struct entry storage_kv[] = {
    ENTRY(esp_storage_v1, kv_put), ENTRY(esp_storage_v1, kv_get), ENTRY(esp_storage_v1, kv_take),
    ENTRY(esp_storage_v1, kv_del), ENTRY(esp_storage_v1, kv_incr)};
static const struct entry storage_rec[] = {
    ENTRY(esp_storage_v1, rec_put), ENTRY(esp_storage_v1, rec_get), ENTRY(esp_storage_v1, rec_find),
    ENTRY(esp_storage_v1, rec_del)};
#undef ENTRY

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct kind_rules {
    esg_kind_info info;
    const struct entry *mandatory;
    size_t n_mandatory;
};

static const struct kind_rules kinds[] = {
    {{ESP_KIND_IDENTITY_BACKEND, "identity backend", "identity_backends",
      sizeof(esp_identity_backend_v1)},
     identity_mandatory,
     N(identity_mandatory)},
    {{ESP_KIND_AUTHENTICATOR, "authenticator", "authenticators", sizeof(esp_authenticator_v1)},
     authenticator_mandatory,
     N(authenticator_mandatory)},
    {{ESP_KIND_KEY_BINDER, "key binder", "key_binders", sizeof(esp_key_binder_v1)},
     key_binder_mandatory,
     N(key_binder_mandatory)},
    {{ESP_KIND_KEY_STORE, "key store", "key_stores", sizeof(esp_key_store_v1)},
     key_store_mandatory,
     N(key_store_mandatory)},
    {{ESP_KIND_CREDENTIAL_FORMAT, "credential format", "credential_formats",
      sizeof(esp_credential_format_v1)},
     credential_format_mandatory,
     N(credential_format_mandatory)},
    {{ESP_KIND_CREDENTIAL_DATA, "credential data", "credential_data",
      sizeof(esp_credential_data_v1)},
     credential_data_mandatory,
     N(credential_data_mandatory)},
    {{ESP_KIND_AUDIT_SINK, "audit sink", "audit_sinks", sizeof(esp_audit_sink_v1)},
     audit_sink_mandatory,
     N(audit_sink_mandatory)},
    {{ESP_KIND_OTP_NOTIFIER, "OTP notifier", "otp_notifiers", sizeof(esp_otp_notifier_v1)},
     notifier_mandatory,
     N(notifier_mandatory)},
    {{ESP_KIND_STORAGE, "storage", "storage", sizeof(esp_storage_v1)},
     storage_mandatory,
     N(storage_mandatory)},
};

static esg_kind_info kind_infos[N(kinds)];

const esg_kind_info *esg_kind_all(size_t *n)
{
    for (size_t i = 0; i < N(kinds); i++)
        kind_infos[i] = kinds[i].info;
    *n = N(kinds);
    return kind_infos;
}

static const struct kind_rules *rules_for(int kind)
{
    for (size_t i = 0; i < N(kinds); i++) {
        if (kinds[i].info.kind == kind)
            return &kinds[i];
    }
    return NULL;
}

const esg_kind_info *esg_kind_find(int kind)
{
    const struct kind_rules *r = rules_for(kind);
    return r ? &r->info : NULL;
}

static int fn_set(const void *vtable, size_t offset)
{
    void (*fn)(void) = NULL;
    memcpy(&fn, (const char *)vtable + offset, sizeof(fn));
    return fn != NULL;
}

/* Counts how many entries of a family are set. */
static size_t family_set(const void *vtable, const struct entry *e, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)fn_set(vtable, e[i].offset);
    return k;
}

/*
 * Checks one capability. Returns 1 to accept, 0 to skip with a warning (unknown kind or newer
 * kind version: the plugin may still offer other kinds), -1 to refuse the whole plugin.
 */
static int check_cap(const esp_capability *cap, size_t index, const char *origin, esg_buf *err,
                     esg_buf *warn)
{
    if (cap->size < sizeof(esp_capability)) {
        esg_buf_printf(err, "%s: capability #%zu: size %u is smaller than esp_capability (%zu)",
                       origin, index, cap->size, sizeof(esp_capability));
        return -1;
    }
    const struct kind_rules *r = rules_for((int)cap->kind);
    if (r == NULL) {
        esg_buf_printf(warn, "%s: capability #%zu has unknown kind %u, skipped; ", origin, index,
                       cap->kind);
        return 0;
    }
    if (cap->kind_version != 1) {
        esg_buf_printf(warn,
                       "%s: %s capability #%zu has kind version %u, this server supports 1, "
                       "skipped; ",
                       origin, r->info.name, index, cap->kind_version);
        return 0;
    }
    if (cap->type == NULL || !esg_is_identifier(cap->type, strlen(cap->type), 64)) {
        esg_buf_printf(err, "%s: %s capability #%zu: type must match [a-z0-9_-]{1,64}", origin,
                       r->info.name, index);
        return -1;
    }
    const uint32_t *vt = cap->vtable;
    if (vt == NULL) {
        esg_buf_printf(err, "%s: %s \"%s\": vtable is NULL", origin, r->info.name, cap->type);
        return -1;
    }
    if (*vt < r->info.vtable_size) {
        esg_buf_printf(err, "%s: %s \"%s\": vtable size %u is smaller than version 1 (%zu)", origin,
                       r->info.name, cap->type, *vt, r->info.vtable_size);
        return -1;
    }
    for (size_t i = 0; i < r->n_mandatory; i++) {
        if (!fn_set(vt, r->mandatory[i].offset)) {
            esg_buf_printf(err, "%s: %s \"%s\": mandatory function %s is NULL", origin,
                           r->info.name, cap->type, r->mandatory[i].name);
            return -1;
        }
    }
    if (cap->kind == ESP_KIND_STORAGE) {
        size_t kv = family_set(vt, storage_kv, N(storage_kv));
        size_t rec = family_set(vt, storage_rec, N(storage_rec));
        if ((kv != 0 && kv != N(storage_kv)) || (rec != 0 && rec != N(storage_rec)) ||
            kv + rec == 0) {
            esg_buf_printf(err,
                           "%s: storage \"%s\": set all five kv_* functions, all four rec_* "
                           "functions, or both",
                           origin, cap->type);
            return -1;
        }
    }
    return 1;
}

int esg_plugin_check(const esp_plugin_desc *desc, const char *origin, esg_buf *err,
                     esg_buf *warnings)
{
    if (desc == NULL) {
        esg_buf_printf(err, "%s: %s() returned NULL", origin, ESP_ENTRY_SYMBOL);
        return ESP_EABI;
    }
    if (desc->size < sizeof(esp_plugin_desc)) {
        esg_buf_printf(err, "%s: descriptor size %u is smaller than esp_plugin_desc 1.0 (%zu)",
                       origin, desc->size, sizeof(esp_plugin_desc));
        return ESP_EABI;
    }
    if (desc->abi_major != ESP_ABI_MAJOR || desc->abi_minor > ESP_ABI_MINOR) {
        esg_buf_printf(err,
                       "%s: built for plugin ABI %u.%u, this server implements %d.%d (the major "
                       "must match and the minor must not be newer)",
                       origin, desc->abi_major, desc->abi_minor, ESP_ABI_MAJOR, ESP_ABI_MINOR);
        return ESP_EABI;
    }
    if (desc->name == NULL || !esg_is_identifier(desc->name, strlen(desc->name), 64)) {
        esg_buf_printf(err, "%s: plugin name must match [a-z0-9_-]{1,64}", origin);
        return ESP_EABI;
    }
    if (desc->version == NULL || desc->capabilities == NULL) {
        esg_buf_printf(err, "%s: version and capabilities are mandatory", origin);
        return ESP_EABI;
    }
    size_t accepted = 0;
    for (size_t i = 0; desc->capabilities[i] != NULL; i++) {
        if (i >= 256) {
            esg_buf_printf(err, "%s: more than 256 capabilities (missing NULL terminator?)",
                           origin);
            return ESP_EABI;
        }
        const esp_capability *cap = desc->capabilities[i];
        int rc = check_cap(cap, i, origin, err, warnings);
        if (rc < 0)
            return ESP_EABI;
        if (rc == 0)
            continue;
        for (size_t j = 0; j < i; j++) {
            const esp_capability *o = desc->capabilities[j];
            if (o->size >= sizeof(esp_capability) && o->kind == cap->kind && o->type != NULL &&
                strcmp(o->type, cap->type) == 0) {
                esg_buf_printf(err, "%s: two capabilities of the same kind have type \"%s\"",
                               origin, cap->type);
                return ESP_EABI;
            }
        }
        accepted++;
    }
    if (accepted == 0) {
        esg_buf_printf(err, "%s: offers no capability this server supports", origin);
        return ESP_EABI;
    }
    return 0;
}
