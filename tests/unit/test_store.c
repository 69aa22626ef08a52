/*
 * Storage: the built-in memory store (TTL, NX, take-once under concurrency, counters, limits) and
 * the SQLite record store (insert/upsert/update, unique indexes, find, delete, expiry,
 * persistence), both through the real plugin call path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/workers.h"
#include "store/store.h"
#include "test_loop.h"
#include "util/clock.h"

static esg_loop loop;
static char db_path[256];

typedef struct outcome {
    int calls;
    int status;
    char value[256];
    int64_t count;
    size_t n_records;
    char keys[512];
} outcome;

static void on_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    outcome *o = ud;
    o->calls++;
    o->status = status;
    o->value[0] = o->keys[0] = '\0';
    if (result == NULL)
        return;
    if (o->n_records == (size_t)-1) {
        const esp_rec_result *r = result;
        o->n_records = r->n_records;
        for (size_t i = 0; i < r->n_records; i++) {
            size_t used = strlen(o->keys);
            snprintf(o->keys + used, sizeof(o->keys) - used, "%s%s", i ? "," : "",
                     r->records[i]->key.ptr);
        }
        if (r->n_records > 0)
            snprintf(o->value, sizeof(o->value), "%s", r->records[0]->doc_json.ptr);
    } else {
        const esp_kv_result *r = result;
        snprintf(o->value, sizeof(o->value), "%.*s", (int)r->value.len,
                 r->value.ptr ? r->value.ptr : "");
        o->count = r->count;
    }
}

static int called(void *arg)
{
    return ((outcome *)arg)->calls > 0;
}

static outcome kv(int op, const char *key, const char *value, int64_t ttl, uint32_t mode)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    esp_kv_request req = {sizeof(req),
                          ESP_STR_LIT("test"),
                          {key, strlen(key)},
                          {value, value ? strlen(value) : 0},
                          ttl,
                          mode,
                          1};
    int rc = esg_kv(op, &req, on_done, &o);
    if (rc != 0) {
        o.status = rc;
        return o;
    }
    test_loop_until(&loop, called, &o, 10000);
    assert_int_equal(o.calls, 1);
    return o;
}

static outcome rec(int op, const char *key, const char *doc, uint32_t mode,
                   const esp_rec_index *const *idx, size_t n_idx, const char *iname,
                   const char *ivalue, int64_t expires_at)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    o.n_records = (size_t)-1;
    esp_rec_request req = {sizeof(req),
                           ESP_STR_LIT("clients"),
                           {key, key ? strlen(key) : 0},
                           {doc, doc ? strlen(doc) : 0},
                           mode,
                           idx,
                           n_idx,
                           {iname, iname ? strlen(iname) : 0},
                           {ivalue, ivalue ? strlen(ivalue) : 0},
                           expires_at};
    int rc = esg_rec(op, &req, on_done, &o);
    if (rc != 0) {
        o.status = rc;
        return o;
    }
    test_loop_until(&loop, called, &o, 10000);
    assert_int_equal(o.calls, 1);
    return o;
}

static int setup(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(2), 0);
    assert_int_equal(esg_plugin_register_builtin(esg_memstore_descriptor(), &err), 0);
    assert_int_equal(esg_plugin_load(ESG_PLUGIN_BUILD_DIR "/storage-sqlite.so", &err), 0);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);

    json_t *mcfg = json_pack("{s:i,s:i}", "max_entries", 5000, "max_value_size", 64);
    struct esp_instance *mem, *sql;
    assert_int_equal(esg_instance_create(esg_cap_find(ESP_KIND_STORAGE, "memory", &err), "mem",
                                         mcfg, 5000, &mem, &err),
                     0);
    snprintf(db_path, sizeof(db_path), "%s/test_store_%d.db", ESG_TEST_BUILD_DIR, (int)getpid());
    unlink(db_path);
    json_t *scfg = json_pack("{s:s,s:i}", "path", db_path, "busy_timeout", 1000);
    if (esg_instance_create(esg_cap_find(ESP_KIND_STORAGE, "sqlite", &err), "sql", scfg, 5000, &sql,
                            &err) != 0)
        fail_msg("%s", err.data);
    assert_int_equal(esg_store_configure(mem, sql, &err), 0);
    esg_buf_free(&err);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    esg_clock_set_offset_ms(0);
    esg_store_configure(NULL, NULL, NULL);
    esg_plugins_shutdown();
    esg_workers_stop();
    assert_int_equal(test_loop_finish(&loop), 0);
    char wal[300];
    unlink(db_path);
    snprintf(wal, sizeof(wal), "%s-wal", db_path);
    unlink(wal);
    snprintf(wal, sizeof(wal), "%s-shm", db_path);
    unlink(wal);
    return 0;
}

static void test_kv_basics(void **state)
{
    (void)state;
    assert_int_equal(kv(ESP_KV_PUT, "a", "one", 60000, ESP_KV_SET).status, 0);
    outcome o = kv(ESP_KV_GET, "a", NULL, 0, 0);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.value, "one");
    /* NX refuses an existing key; XX refuses a missing one. */
    assert_int_equal(kv(ESP_KV_PUT, "a", "two", 60000, ESP_KV_NX).status, ESP_EEXIST);
    assert_int_equal(kv(ESP_KV_PUT, "zz", "two", 60000, ESP_KV_XX).status, ESP_ENOTFOUND);
    assert_int_equal(kv(ESP_KV_PUT, "a", "two", 60000, ESP_KV_XX).status, 0);
    /* take returns the value once, then the key is gone. */
    o = kv(ESP_KV_TAKE, "a", NULL, 0, 0);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.value, "two");
    assert_int_equal(kv(ESP_KV_TAKE, "a", NULL, 0, 0).status, ESP_ENOTFOUND);
    assert_int_equal(kv(ESP_KV_DEL, "a", NULL, 0, 0).status, ESP_ENOTFOUND);
    /* Counters. */
    assert_int_equal(kv(ESP_KV_INCR, "n", NULL, 60000, 0).count, 1);
    assert_int_equal(kv(ESP_KV_INCR, "n", NULL, 60000, 0).count, 2);
    /* Limits: value size, missing TTL. */
    char big[100];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(kv(ESP_KV_PUT, "big", big, 60000, ESP_KV_SET).status, ESP_ETOOBIG);
    assert_int_equal(kv(ESP_KV_PUT, "nottl", "v", 0, ESP_KV_SET).status, ESP_EINVAL);
    /* A time to live that would overflow the clock is refused, not wrapped into the past. */
    assert_int_equal(kv(ESP_KV_PUT, "forever", "v", INT64_MAX, ESP_KV_SET).status, ESP_EINVAL);
    /* A counter refuses to overflow and keeps its value. */
    outcome o2;
    memset(&o2, 0, sizeof(o2));
    esp_kv_request big_delta = {
        sizeof(big_delta), ESP_STR_LIT("test"), ESP_STR_LIT("n"), ESP_STR_NULL, 60000, 0,
        INT64_MAX};
    assert_int_equal(esg_kv(ESP_KV_INCR, &big_delta, on_done, &o2), 0);
    test_loop_until(&loop, called, &o2, 10000);
    assert_int_equal(o2.status, ESP_ETOOBIG);
    assert_int_equal(kv(ESP_KV_INCR, "n", NULL, 60000, 0).count, 3);
}

static void test_kv_ttl(void **state)
{
    (void)state;
    assert_int_equal(kv(ESP_KV_PUT, "t", "v", 1000, ESP_KV_SET).status, 0);
    assert_int_equal(kv(ESP_KV_GET, "t", NULL, 0, 0).status, 0);
    esg_clock_set_offset_ms(1001);
    assert_int_equal(kv(ESP_KV_GET, "t", NULL, 0, 0).status, ESP_ENOTFOUND);
    /* An expired key can be created again with NX. */
    assert_int_equal(kv(ESP_KV_PUT, "t", "w", 1000, ESP_KV_NX).status, 0);
    esg_clock_set_offset_ms(0);
}

/* Several loops race to take the same keys: each key is taken exactly once. */
#define RACE_KEYS  500
#define RACE_LOOPS 4
static _Atomic int taken[RACE_KEYS];

typedef struct racer {
    esg_loop loop;
    int remaining;
} racer;

static void race_done(void *ud, int status, const char *code, const void *result)
{
    (void)code;
    racer *r = ud;
    if (status == 0) {
        const esp_kv_result *res = result;
        int k = atoi(res->value.ptr);
        atomic_fetch_add(&taken[k], 1);
    }
    r->remaining--;
}

static void *race_thread(void *arg)
{
    racer *r = arg;
    esg_loop_set_current(&r->loop);
    for (int k = 0; k < RACE_KEYS; k++) {
        char key[16];
        snprintf(key, sizeof(key), "race%d", k);
        esp_kv_request req = {
            sizeof(req), ESP_STR_LIT("test"), {key, strlen(key)}, ESP_STR_NULL, 0, 0, 0};
        if (esg_kv(ESP_KV_TAKE, &req, race_done, r) == 0)
            r->remaining++;
    }
    while (r->remaining > 0)
        uv_run(&r->loop.uv, UV_RUN_ONCE);
    esg_loop_close_handles(&r->loop);
    uv_run(&r->loop.uv, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop.uv);
    return NULL;
}

static void test_take_once_under_concurrency(void **state)
{
    (void)state;
    for (int k = 0; k < RACE_KEYS; k++) {
        char key[16], val[16];
        snprintf(key, sizeof(key), "race%d", k);
        snprintf(val, sizeof(val), "%d", k);
        assert_int_equal(kv(ESP_KV_PUT, key, val, 60000, ESP_KV_SET).status, 0);
        atomic_store(&taken[k], 0);
    }
    racer racers[RACE_LOOPS];
    pthread_t threads[RACE_LOOPS];
    for (int i = 0; i < RACE_LOOPS; i++) {
        memset(&racers[i], 0, sizeof(racers[i]));
        assert_int_equal(esg_loop_init(&racers[i].loop, i + 1), 0);
        assert_int_equal(pthread_create(&threads[i], NULL, race_thread, &racers[i]), 0);
    }
    for (int i = 0; i < RACE_LOOPS; i++)
        pthread_join(threads[i], NULL);
    for (int k = 0; k < RACE_KEYS; k++)
        assert_int_equal(atomic_load(&taken[k]), 1);
}

static void test_records(void **state)
{
    (void)state;
    esp_rec_index pk = {sizeof(pk), ESP_STR_LIT("public_key_hash"), ESP_STR_LIT("h1"), 1};
    esp_rec_index rp = {sizeof(rp), ESP_STR_LIT("rp"), ESP_STR_LIT("rp1"), 0};
    const esp_rec_index *idx1[] = {&pk, &rp};
    assert_int_equal(
        rec(ESP_REC_PUT, "c1", "{\"name\":\"one\"}", ESP_REC_INSERT, idx1, 2, NULL, NULL, 0).status,
        0);
    /* Same key again: refused. */
    assert_int_equal(
        rec(ESP_REC_PUT, "c1", "{\"name\":\"x\"}", ESP_REC_INSERT, NULL, 0, NULL, NULL, 0).status,
        ESP_EEXIST);
    /* Another key with the same unique index value: refused, and nothing is written. */
    const esp_rec_index *idx2[] = {&pk};
    assert_int_equal(
        rec(ESP_REC_PUT, "c2", "{\"name\":\"two\"}", ESP_REC_INSERT, idx2, 1, NULL, NULL, 0).status,
        ESP_EEXIST);
    assert_int_equal(rec(ESP_REC_GET, "c2", NULL, 0, NULL, 0, NULL, NULL, 0).status, ESP_ENOTFOUND);
    /* Non-unique index values may repeat. */
    const esp_rec_index *idx3[] = {&rp};
    assert_int_equal(
        rec(ESP_REC_PUT, "c2", "{\"name\":\"two\"}", ESP_REC_INSERT, idx3, 1, NULL, NULL, 0).status,
        0);
    outcome o = rec(ESP_REC_FIND, NULL, NULL, 0, NULL, 0, "rp", "rp1", 0);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.n_records, 2);
    assert_string_equal(o.keys, "c1,c2");
    o = rec(ESP_REC_FIND, NULL, NULL, 0, NULL, 0, "public_key_hash", "h1", 0);
    assert_int_equal(o.n_records, 1);
    assert_string_equal(o.keys, "c1");
    /* Update and upsert; update of a missing key is refused. */
    assert_int_equal(
        rec(ESP_REC_PUT, "c1", "{\"name\":\"uno\"}", ESP_REC_UPDATE, NULL, 0, NULL, NULL, 0).status,
        0);
    o = rec(ESP_REC_GET, "c1", NULL, 0, NULL, 0, NULL, NULL, 0);
    assert_string_equal(o.value, "{\"name\":\"uno\"}");
    /* The update replaced the index values: c1 no longer holds h1. */
    assert_int_equal(
        rec(ESP_REC_FIND, NULL, NULL, 0, NULL, 0, "public_key_hash", "h1", 0).n_records, 0);
    assert_int_equal(
        rec(ESP_REC_PUT, "c9", "{\"a\":1}", ESP_REC_UPDATE, NULL, 0, NULL, NULL, 0).status,
        ESP_ENOTFOUND);
    assert_int_equal(
        rec(ESP_REC_PUT, "c9", "{\"a\":1}", ESP_REC_UPSERT, NULL, 0, NULL, NULL, 0).status, 0);
    /* Documents must be JSON objects. */
    assert_int_equal(
        rec(ESP_REC_PUT, "c8", "not json", ESP_REC_UPSERT, NULL, 0, NULL, NULL, 0).status,
        ESP_EINVAL);
    assert_int_equal(rec(ESP_REC_PUT, "c8", "[1]", ESP_REC_UPSERT, NULL, 0, NULL, NULL, 0).status,
                     ESP_EINVAL);
    /* Delete, twice. */
    assert_int_equal(rec(ESP_REC_DEL, "c2", NULL, 0, NULL, 0, NULL, NULL, 0).status, 0);
    assert_int_equal(rec(ESP_REC_DEL, "c2", NULL, 0, NULL, 0, NULL, NULL, 0).status, ESP_ENOTFOUND);
    /* c1 lost its index values in the update above and c2 is gone: nothing is left under rp1,
     * which also shows that deleting a record removes its index values. */
    assert_int_equal(rec(ESP_REC_FIND, NULL, NULL, 0, NULL, 0, "rp", "rp1", 0).n_records, 0);
    /* Expiry. */
    int64_t soon = esg_wall_s() + 60;
    assert_int_equal(
        rec(ESP_REC_PUT, "c7", "{\"a\":1}", ESP_REC_UPSERT, NULL, 0, NULL, NULL, soon).status, 0);
    assert_int_equal(rec(ESP_REC_GET, "c7", NULL, 0, NULL, 0, NULL, NULL, 0).status, 0);
    esg_clock_set_offset_ms(61000);
    assert_int_equal(rec(ESP_REC_GET, "c7", NULL, 0, NULL, 0, NULL, NULL, 0).status, ESP_ENOTFOUND);
    esg_clock_set_offset_ms(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kv_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kv_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_take_once_under_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_records, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
