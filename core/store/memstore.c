/*
 * The built-in in-flight store: key-value entries with a time to live, held in process memory.
 *
 * Entries live in 64 shards, each a chained hash table under its own mutex, so loop threads
 * rarely contend. Keys are hashed with SipHash-1-3 under a random key because some keys come
 * from clients (jti, nonce) and must not be able to force collisions. Expired entries are removed
 * when touched and by an incremental sweep: every SWEEP_INTERVAL_MS a pass over each shard
 * starts, and each operation on the shard advances it by at most SWEEP_BUCKETS buckets. So the
 * lock is never held for a whole shard (a full sweep of a shard with a million entries stalls
 * every loop that touches it) and the work per second does not grow with the number of entries
 * the way a full sweep every second does. Expired entries are never returned, so a late sweep
 * only holds their memory a little longer; at max_entries a full sweep of the shard still runs
 * before a write is refused. Single use is atomic because take, NX-put and incr happen under the
 * shard lock.
 */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <esignet/plugin.h>

#include "store/store.h"
#include "util/clock.h"
#include "util/str.h"

#define SHARDS            64 /* chosen by the top 6 bits of the hash; buckets use the low bits */
#define SHARD_SHIFT       58
#define MAX_KEY           ESP_KEY_MAX
#define MAX_TTL_MS        (INT64_C(400) * 86400 * 1000) /* longest lifetime of an in-flight entry */
#define SWEEP_INTERVAL_MS 10000 /* between the starts of two passes over a shard */
#define SWEEP_BUCKETS     256   /* buckets visited per operation while a pass runs */

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    int64_t expires_ms; /* monotonic */
    size_t key_len;     /* ns '\0' key */
    size_t value_len;
    int64_t count; /* for kv_incr entries */
    unsigned char *value;
    char key[];
} entry;

typedef struct shard {
    pthread_mutex_t mu;
    entry **buckets;
    size_t n_buckets;
    size_t n_entries;
    size_t sweep_at; /* next bucket of the pass in progress */
    int64_t next_sweep_ms;
} shard;

typedef struct memstore {
    const esp_host *host;
    esp_instance *self;
    uint64_t sip_k0, sip_k1;
    int64_t max_entries;
    int64_t max_value;
    _Atomic int64_t total;
    shard shards[SHARDS];
} memstore;

/* SipHash-1-3 (Aumasson and Bernstein), 64-bit output. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t siphash13(const unsigned char *in, size_t len, uint64_t k0, uint64_t k1)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t k = 0; i + k < len; k++)
        b |= (uint64_t)in[i + k] << (8 * k);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static void free_entry(entry *e)
{
    if (e->value != NULL) {
        OPENSSL_cleanse(e->value, e->value_len);
        free(e->value);
    }
    OPENSSL_cleanse(e->key, e->key_len);
    free(e);
}

/* Builds "ns\0key" in `out` (ESP_NS_MAX + 1 + MAX_KEY bytes). */
static size_t compose(const esp_kv_request *req, char *out)
{
    memcpy(out, req->ns.ptr, req->ns.len);
    out[req->ns.len] = '\0';
    memcpy(out + req->ns.len + 1, req->key.ptr, req->key.len);
    return req->ns.len + 1 + req->key.len;
}

static void remove_at(memstore *m, shard *s, entry **link)
{
    entry *e = *link;
    *link = e->next;
    s->n_entries--;
    atomic_fetch_sub(&m->total, 1);
    free_entry(e);
}

static void sweep_bucket(memstore *m, shard *s, size_t b, int64_t now)
{
    entry **link = &s->buckets[b];
    while (*link != NULL) {
        if ((*link)->expires_ms <= now)
            remove_at(m, s, link);
        else
            link = &(*link)->next;
    }
}

/* The whole shard at once: only when the store is full, before a write is refused. */
static void sweep(memstore *m, shard *s, int64_t now)
{
    for (size_t b = 0; b < s->n_buckets; b++)
        sweep_bucket(m, s, b, now);
}

/* The next few buckets of the pass; the next pass is due SWEEP_INTERVAL_MS after this one ends.
 * A table that grew meanwhile is finished from the same index, which at worst leaves some
 * entries to the next pass. */
static void sweep_some(memstore *m, shard *s, int64_t now)
{
    size_t end = s->sweep_at + SWEEP_BUCKETS;
    for (; s->sweep_at < end && s->sweep_at < s->n_buckets; s->sweep_at++)
        sweep_bucket(m, s, s->sweep_at, now);
    if (s->sweep_at >= s->n_buckets) {
        s->sweep_at = 0;
        s->next_sweep_ms = now + SWEEP_INTERVAL_MS;
    }
}

/* Finds the live entry for a key; expired entries found on the way are removed. */
static entry **find(memstore *m, shard *s, uint64_t h, const char *key, size_t len, int64_t now)
{
    if (s->n_buckets == 0)
        return NULL;
    entry **link = &s->buckets[h & (s->n_buckets - 1)];
    while (*link != NULL) {
        entry *e = *link;
        if (e->expires_ms <= now) {
            remove_at(m, s, link);
            continue;
        }
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return link;
        link = &e->next;
    }
    return NULL;
}

static int grow(shard *s)
{
    size_t n = s->n_buckets ? s->n_buckets * 2 : 64;
    entry **nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return ESP_ENOMEM;
    for (size_t b = 0; b < s->n_buckets; b++) {
        entry *e = s->buckets[b];
        while (e != NULL) {
            entry *next = e->next;
            e->next = nb[e->hash & (n - 1)];
            nb[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = nb;
    s->n_buckets = n;
    return 0;
}

static int check_request(memstore *m, const esp_kv_request *req, int with_value)
{
    if (req->ns.len == 0 || req->ns.len > ESP_NS_MAX || req->key.len == 0 || req->key.len > MAX_KEY)
        return ESP_EINVAL;
    if (with_value && (int64_t)req->value.len > m->max_value)
        return ESP_ETOOBIG;
    return 0;
}

/* Creates an entry and links it; the shard is locked. */
static int insert(memstore *m, shard *s, uint64_t h, const char *key, size_t len,
                  const esp_kv_request *req, int64_t now, entry **out)
{
    if (atomic_load(&m->total) >= m->max_entries) {
        sweep(m, s, now);
        if (atomic_load(&m->total) >= m->max_entries)
            return ESP_EAGAIN;
    }
    if (s->n_entries + 1 > s->n_buckets && grow(s) != 0)
        return ESP_ENOMEM;
    entry *e = calloc(1, sizeof(*e) + len);
    if (e == NULL)
        return ESP_ENOMEM;
    if (req->value.len > 0) {
        e->value = malloc(req->value.len);
        if (e->value == NULL) {
            free(e);
            return ESP_ENOMEM;
        }
        memcpy(e->value, req->value.ptr, req->value.len);
    }
    e->value_len = req->value.len;
    e->hash = h;
    e->key_len = len;
    memcpy(e->key, key, len);
    e->expires_ms = now + req->ttl_ms;
    e->next = s->buckets[h & (s->n_buckets - 1)];
    s->buckets[h & (s->n_buckets - 1)] = e;
    s->n_entries++;
    atomic_fetch_add(&m->total, 1);
    *out = e;
    return 0;
}

static esp_status kv_op(void *inst, const esp_kv_request *req, esp_call *call, int op)
{
    memstore *m = inst;
    const esp_host *host = m->host;
    int with_value = op == ESP_KV_PUT;
    int rc = check_request(m, req, with_value);
    if (rc != 0)
        return rc;
    if ((op == ESP_KV_PUT || op == ESP_KV_INCR) && (req->ttl_ms <= 0 || req->ttl_ms > MAX_TTL_MS))
        return ESP_EINVAL;
    char key[ESP_NS_MAX + 1 + MAX_KEY];
    size_t len = compose(req, key);
    uint64_t h = siphash13((const unsigned char *)key, len, m->sip_k0, m->sip_k1);
    shard *s = &m->shards[h >> SHARD_SHIFT];
    int64_t now = esg_now_ms();

    pthread_mutex_lock(&s->mu);
    if (now >= s->next_sweep_ms)
        sweep_some(m, s, now);
    entry **link = find(m, s, h, key, len, now);
    entry *e = link ? *link : NULL;
    esp_kv_result res = {sizeof(res), ESP_STR_NULL, 0, 0};
    switch (op) {
    case ESP_KV_PUT:
        if (req->mode == ESP_KV_NX && e != NULL) {
            rc = ESP_EEXIST;
            break;
        }
        if (req->mode == ESP_KV_XX && e == NULL) {
            rc = ESP_ENOTFOUND;
            break;
        }
        if (e != NULL)
            remove_at(m, s, link);
        rc = insert(m, s, h, key, len, req, now, &e);
        break;
    case ESP_KV_GET:
    case ESP_KV_TAKE:
        if (e == NULL) {
            rc = ESP_ENOTFOUND;
            break;
        }
        res.value.ptr = (const char *)e->value;
        res.value.len = e->value_len;
        res.ttl_ms = e->expires_ms - now;
        res.count = e->count;
        /* The result is copied by call_done before the entry can change or go. */
        host->call_done(call, &res);
        if (op == ESP_KV_TAKE)
            remove_at(m, s, link);
        pthread_mutex_unlock(&s->mu);
        return 0;
    case ESP_KV_DEL:
        if (e == NULL)
            rc = ESP_ENOTFOUND;
        else
            remove_at(m, s, link);
        break;
    case ESP_KV_INCR:
        if (e == NULL) {
            esp_kv_request fresh = *req;
            fresh.value = ESP_STR_NULL;
            rc = insert(m, s, h, key, len, &fresh, now, &e);
            if (rc != 0)
                break;
        }
        int64_t next;
        if (__builtin_add_overflow(e->count, req->delta, &next)) {
            rc = ESP_ETOOBIG;
            break;
        }
        e->count = next;
        res.count = e->count;
        res.ttl_ms = e->expires_ms - now;
        break;
    default:
        rc = ESP_ENOTSUP;
    }
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        return rc;
    host->call_done(call, (op == ESP_KV_INCR) ? &res : NULL);
    return 0;
}

static esp_status kv_put(void *inst, const esp_kv_request *req, esp_call *call)
{
    return kv_op(inst, req, call, ESP_KV_PUT);
}

static esp_status kv_get(void *inst, const esp_kv_request *req, esp_call *call)
{
    return kv_op(inst, req, call, ESP_KV_GET);
}

static esp_status kv_take(void *inst, const esp_kv_request *req, esp_call *call)
{
    return kv_op(inst, req, call, ESP_KV_TAKE);
}

static esp_status kv_del(void *inst, const esp_kv_request *req, esp_call *call)
{
    return kv_op(inst, req, call, ESP_KV_DEL);
}

static esp_status kv_incr(void *inst, const esp_kv_request *req, esp_call *call)
{
    return kv_op(inst, req, call, ESP_KV_INCR);
}

static int64_t count(void *inst)
{
    memstore *m = inst;
    return atomic_load(&m->total);
}

static esp_status create(const esp_host *host, esp_instance *self, void *state,
                         const esp_value *config, void **out)
{
    (void)state;
    memstore *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return ESP_ENOMEM;
    m->host = host;
    m->self = self;
    m->max_entries = host->value_int(host->value_get(config, "max_entries"), 1000000);
    m->max_value = host->value_int(host->value_get(config, "max_value_size"), 65536);
    uint64_t k[2];
    if (host->random(k, sizeof(k)) != 0) {
        free(m);
        return ESP_EINTERNAL;
    }
    m->sip_k0 = k[0];
    m->sip_k1 = k[1];
    for (int i = 0; i < SHARDS; i++)
        pthread_mutex_init(&m->shards[i].mu, NULL);
    *out = m;
    return 0;
}

static void destroy(void *inst)
{
    memstore *m = inst;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &m->shards[i];
        for (size_t b = 0; b < s->n_buckets; b++) {
            entry *e = s->buckets[b];
            while (e != NULL) {
                entry *next = e->next;
                free_entry(e);
                e = next;
            }
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    free(m);
}

static const esp_option options[] = {
    {sizeof(esp_option), "max_entries", ESP_OPT_INT, 0, "1000000",
     "Most entries held at once; beyond it writes fail with a temporary error.", 1, 1000000000,
     NULL, 0, NULL},
    {sizeof(esp_option), "max_value_size", ESP_OPT_SIZE, 0, "64k", "Largest value accepted.", 16,
     16 << 20, NULL, 0, NULL},
    {sizeof(esp_option), NULL, 0, 0, NULL, NULL, 0, 0, NULL, 0, NULL},
};

static const esp_storage_v1 vtable = {
    .size = sizeof(esp_storage_v1),
    .create = create,
    .destroy = destroy,
    .kv_put = kv_put,
    .kv_get = kv_get,
    .kv_take = kv_take,
    .kv_del = kv_del,
    .kv_incr = kv_incr,
    .count = count,
};

static const esp_capability cap = {
    .size = sizeof(esp_capability),
    .kind = ESP_KIND_STORAGE,
    .kind_version = 1,
    .type = "memory",
    .description = "In-process key-value store with time to live (single server only).",
    .options = options,
    .vtable = &vtable,
};

static const esp_capability *const caps[] = {&cap, NULL};

static const esp_plugin_desc desc = {
    .size = sizeof(esp_plugin_desc),
    .abi_major = ESP_ABI_MAJOR,
    .abi_minor = ESP_ABI_MINOR,
    .name = "memory",
    .version = ESG_VERSION,
    .description = "Built-in in-memory storage for in-flight state.",
    .capabilities = caps,
};

const esp_plugin_desc *esg_memstore_descriptor(void)
{
    return &desc;
}
