/*
 * ABI tests: deliberately broken plugins are refused with a clear message, and a plugin that
 * misbehaves at run time (double completion, completion after the deadline, malformed results,
 * an error return) cannot break the host's exactly-once delivery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "plugin/call.h"
#include "plugin/host.h"
#include "plugin/registry.h"
#include "runtime/loop.h"
#include "runtime/workers.h"
#include "test_loop.h"
#include "util/clock.h"

static void expect_refused(const char *variant, int status, const char *needle)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/abi_%s.so", ABI_PLUGIN_DIR, variant);
    esg_buf err = ESG_BUF_INIT;
    int rc = esg_plugin_load(path, &err);
    if (rc != status || err.data == NULL || strstr(err.data, needle) == NULL)
        fail_msg("%s: got %d \"%s\", want %d with \"%s\"", variant, rc, err.data ? err.data : "",
                 status, needle);
    assert_null(esg_plugins_first());
    esg_buf_free(&err);
}

static void test_refused_plugins(void **state)
{
    (void)state;
    expect_refused("wrong_size", ESP_EABI, "descriptor size 8 is smaller");
    char want[128];
    snprintf(want, sizeof(want), "built for plugin ABI %d.%d, this server implements %d.%d",
             ESP_ABI_MAJOR + 1, ESP_ABI_MINOR, ESP_ABI_MAJOR, ESP_ABI_MINOR);
    expect_refused("wrong_major", ESP_EABI, want);
    snprintf(want, sizeof(want), "built for plugin ABI %d.%d", ESP_ABI_MAJOR, ESP_ABI_MINOR + 1);
    expect_refused("newer_minor", ESP_EABI, want);
    expect_refused("missing_fn", ESP_EABI, "mandatory function sign is NULL");
    expect_refused("small_vtable", ESP_EABI, "smaller than version 1");
    expect_refused("no_symbol", ESP_EABI, "does not export esp_plugin_describe()");
    expect_refused("bad_type", ESP_EABI, "type must match");
    expect_refused("storage_half", ESP_EABI, "all five kv_* functions");
    expect_refused("does_not_exist", ESP_EIO, "cannot load");
}

/* Minor versions only add: a plugin built for an older minor loads. */
static void test_older_minor_loads(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_plugin_load(ABI_PLUGIN_DIR "/abi_older_minor.so", &err), 0);
    assert_int_equal(esg_plugins_first()->desc->abi_minor, ESP_ABI_MINOR - 1);
    esg_plugins_shutdown();
    esg_buf_free(&err);
}

static void test_unknown_kind_is_skipped(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_plugin_load(ABI_PLUGIN_DIR "/abi_unknown_kind.so", &err), 0);
    struct esp_plugin *p = esg_plugins_first();
    assert_non_null(p);
    assert_int_equal(p->n_caps, 1);
    assert_int_equal(p->caps[0].kind, ESP_KIND_KEY_STORE);
    /* The same name cannot be loaded twice. */
    assert_int_equal(esg_plugin_load(ABI_PLUGIN_DIR "/abi_good.so", &err), ESP_EABI);
    assert_non_null(strstr(err.data, "already loaded"));
    esg_plugins_shutdown();
    esg_buf_free(&err);
}

/* --- run-time behaviour ------------------------------------------------------------------- */

typedef struct outcome {
    int calls;
    int status;
    char code[80];
    char signature[80];
} outcome;

static esg_loop loop;
static struct esp_instance *inst;

static void on_sign(void *ud, int status, const char *error_code, const void *result)
{
    outcome *o = ud;
    o->calls++;
    o->status = status;
    snprintf(o->code, sizeof(o->code), "%s", error_code ? error_code : "");
    if (result != NULL) {
        const esp_sign_result *r = result;
        snprintf(o->signature, sizeof(o->signature), "%.*s", (int)r->signature.len,
                 r->signature.ptr);
    }
}

/* Runs the loop until `done()` is true or ten seconds pass: a bound, not a synchronisation. */
static int until_deadline;
static void poll_timer(uv_timer_t *t)
{
    (void)t;
    until_deadline = 1;
}

static void run_until(int (*done)(void *), void *arg)
{
    uv_timer_t guard;
    uv_timer_init(&loop.uv, &guard);
    until_deadline = 0;
    uv_timer_start(&guard, poll_timer, 10000, 0);
    while (!done(arg) && !until_deadline)
        uv_run(&loop.uv, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop.uv, UV_RUN_NOWAIT);
    assert_false(until_deadline);
}

static int called(void *arg)
{
    return ((outcome *)arg)->calls > 0;
}

static int nothing_pending(void *arg)
{
    (void)arg;
    return esg_calls_pending() == 0;
}

static outcome sign_with(const char *kid, int64_t timeout_ms)
{
    outcome o;
    memset(&o, 0, sizeof(o));
    esp_sign_request req = {
        sizeof(req), {kid, strlen(kid)}, ESP_STR_LIT("ES256"), ESP_STR_LIT("data")};
    assert_int_equal(esg_call_timeout(inst, ESG_OP_SIGN, &req, timeout_ms, on_sign, &o), 0);
    /* Completion is never delivered inline, even when the plugin completes synchronously. */
    assert_int_equal(o.calls, 0);
    run_until(called, &o);
    run_until(nothing_pending, NULL);
    return o;
}

static int setup_good(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_plugin_load(ABI_PLUGIN_DIR "/abi_good.so", &err), 0);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    esg_cap *cap = esg_cap_find(ESP_KIND_KEY_STORE, "test", &err);
    assert_non_null(cap);
    assert_int_equal(esg_instance_create(cap, "ks", json_object(), 2000, &inst, &err), 0);
    esg_buf_free(&err);
    return 0;
}

static int teardown_good(void **state)
{
    (void)state;
    esg_plugins_shutdown();
    esg_loop_close_handles(&loop);
    uv_run(&loop.uv, UV_RUN_DEFAULT);
    /* Every handle is closed: the loop closes cleanly. */
    assert_int_equal(uv_loop_close(&loop.uv), 0);
    esg_loop_set_current(NULL);
    return 0;
}

static void test_completion_paths(void **state)
{
    (void)state;
    outcome o = sign_with("sync", 2000);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.signature, "signature");

    o = sign_with("thread", 2000);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);

    o = sign_with("fail", 2000);
    assert_int_equal(o.status, ESP_EKEY);
    assert_string_equal(o.code, "hsm_offline");

    o = sign_with("return_error", 2000);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, ESP_EUNAVAIL);

    /* A result missing a mandatory member becomes an internal error, never a half result. */
    o = sign_with("bad_result", 2000);
    assert_int_equal(o.status, ESP_EINTERNAL);
    assert_string_equal(o.signature, "");
}

static void test_double_completion(void **state)
{
    (void)state;
    uint64_t before = inst->stats[ESG_OP_SIGN].double_completions;
    outcome o = sign_with("double", 2000);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_int_equal(inst->stats[ESG_OP_SIGN].double_completions, before + 1);
}

static void test_completion_after_deadline(void **state)
{
    (void)state;
    uint64_t late = inst->stats[ESG_OP_SIGN].late;
    uint64_t timeouts = inst->stats[ESG_OP_SIGN].timeouts;
    /* The plugin answers after 300 ms; the deadline is 30 ms. */
    outcome o = sign_with("late", 30);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, ESP_ETIMEDOUT);
    assert_int_equal(inst->stats[ESG_OP_SIGN].timeouts, timeouts + 1);
    /* sign_with() waited until the plugin completed: the late result was dropped, not delivered. */
    assert_int_equal(inst->stats[ESG_OP_SIGN].late, late + 1);
    assert_int_equal(o.calls, 1);
}

static void test_unsupported_and_bad_requests(void **state)
{
    (void)state;
    outcome o;
    memset(&o, 0, sizeof(o));
    /* Optional function not implemented: refused at once, callback never runs. */
    esp_rotate_request rot = {sizeof(rot), ESP_STR_NULL};
    assert_int_equal(esg_call(inst, ESG_OP_ROTATE, &rot, on_sign, &o), ESP_ENOTSUP);
    /* A request smaller than its ABI 1.0 layout is refused before the plugin sees it. */
    esp_sign_request small = {8, ESP_STR_NULL, ESP_STR_LIT("ES256"), ESP_STR_NULL};
    assert_int_equal(esg_call(inst, ESG_OP_SIGN, &small, on_sign, &o), ESP_EINVAL);
    /* A required member missing (alg) is refused too. */
    esp_sign_request noalg = {sizeof(noalg), ESP_STR_NULL, ESP_STR_NULL, ESP_STR_NULL};
    assert_int_equal(esg_call(inst, ESG_OP_SIGN, &noalg, on_sign, &o), ESP_EINVAL);
    assert_int_equal(o.calls, 0);
}

/*
 * Shutdown from a call's completion, while the call itself is not yet released and its deadline
 * timer not yet closed: the destroyed instance's handle stays valid until that close has run,
 * and is then freed (ASan and LeakSanitizer check both halves).
 */
static void on_sign_then_shutdown(void *ud, int status, const char *error_code, const void *result)
{
    on_sign(ud, status, error_code, result);
    assert_true(esg_calls_pending() > 0);
    esg_plugins_shutdown();
}

static void test_shutdown_while_a_call_is_closing(void **state)
{
    (void)state;
    outcome o;
    memset(&o, 0, sizeof(o));
    esp_sign_request req = {sizeof(req), ESP_STR_LIT("sync"), ESP_STR_LIT("ES256"),
                            ESP_STR_LIT("data")};
    assert_int_equal(esg_call_timeout(inst, ESG_OP_SIGN, &req, 2000, on_sign_then_shutdown, &o), 0);
    run_until(called, &o);
    assert_int_equal(o.status, 0);
    run_until(nothing_pending, NULL);
    inst = NULL;
}

/* A blocking plugin whose calls time out while they wait for the one worker: they are answered
 * with ESP_ETIMEDOUT and never run afterwards (no write the caller was told failed, no backlog). */
static void test_blocking_calls_that_timed_out_do_not_run(void **state)
{
    (void)state;
    esg_buf err = ESG_BUF_INIT;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(1), 0);
    assert_int_equal(esg_plugin_load(ABI_PLUGIN_DIR "/abi_blocking.so", &err), 0);
    assert_int_equal(esg_plugins_init(esg_host_get(), &err), 0);
    assert_int_equal(esg_instance_create(esg_cap_find(ESP_KIND_KEY_STORE, "test", &err), "ks",
                                         json_object(), 2000, &inst, &err),
                     0);
    outcome o[5];
    memset(o, 0, sizeof(o));
    esp_sign_request slow = {sizeof(slow), ESP_STR_LIT("slow"), ESP_STR_LIT("ES256"),
                             ESP_STR_LIT("data")};
    for (int i = 0; i < 5; i++)
        assert_int_equal(esg_call_timeout(inst, ESG_OP_SIGN, &slow, 50, on_sign, &o[i]), 0);
    for (int i = 0; i < 5; i++) {
        run_until(called, &o[i]);
        assert_int_equal(o[i].status, ESP_ETIMEDOUT);
    }
    run_until(nothing_pending, NULL);
    outcome count = sign_with("count", 2000);
    assert_int_equal(count.status, 0);
    /* Only the first call had started before its deadline. */
    assert_string_equal(count.signature, "1");
    esg_workers_stop();
    esg_plugins_shutdown();
    esg_buf_free(&err);
    assert_int_equal(test_loop_finish(&loop), 0);
}

/* A blocking job that runs until the test releases it. */
typedef struct held_job {
    esg_work work;
    _Atomic int release;
    int done;
} held_job;

static void held_work(esg_work *w)
{
    held_job *j = (held_job *)w;
    while (!atomic_load(&j->release))
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
}

static void held_done(esg_work *w)
{
    ((held_job *)w)->done = 1;
}

static int held_job_done(void *arg)
{
    return ((held_job *)arg)->done;
}

/*
 * Stopping the pool with a bound returns when a job outlives it, and leaves that job's thread
 * running (a command line tool must not hang at exit on a stuck job); the job's completion still
 * reaches its loop, which the caller kept.
 */
static void test_bounded_stop_leaves_a_stuck_job_running(void **state)
{
    (void)state;
    assert_int_equal(esg_loop_init(&loop, 0), 0);
    esg_loop_set_current(&loop);
    assert_int_equal(esg_workers_start(2), 0);
    held_job job;
    memset(&job, 0, sizeof(job));
    job.work.work = held_work;
    job.work.done = held_done;
    assert_int_equal(esg_workers_submit(&job.work), 0);
    uint64_t started = uv_hrtime();
    assert_int_equal(esg_workers_stop_within(50), ESP_ETIMEDOUT);
    assert_true(uv_hrtime() - started < UINT64_C(5000000000));
    assert_true(esg_workers_alive() >= 1);
    /* Nothing is left to stop or join. */
    esg_workers_stop();
    atomic_store(&job.release, 1);
    run_until(held_job_done, &job);
    for (int i = 0; i < 10000 && esg_workers_alive() > 0; i++)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    assert_int_equal(esg_workers_alive(), 0);
    /* Without a job the bound is not reached: the threads are joined. */
    assert_int_equal(esg_workers_start(2), 0);
    assert_int_equal(esg_workers_stop_within(10000), 0);
    assert_int_equal(esg_workers_alive(), 0);
    assert_int_equal(test_loop_finish(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_plugins),
        cmocka_unit_test(test_unknown_kind_is_skipped),
        cmocka_unit_test(test_older_minor_loads),
        cmocka_unit_test_setup_teardown(test_completion_paths, setup_good, teardown_good),
        cmocka_unit_test_setup_teardown(test_double_completion, setup_good, teardown_good),
        cmocka_unit_test_setup_teardown(test_completion_after_deadline, setup_good, teardown_good),
        cmocka_unit_test_setup_teardown(test_unsupported_and_bad_requests, setup_good,
                                        teardown_good),
        cmocka_unit_test_setup_teardown(test_shutdown_while_a_call_is_closing, setup_good,
                                        teardown_good),
        cmocka_unit_test(test_blocking_calls_that_timed_out_do_not_run),
        cmocka_unit_test(test_bounded_stop_leaves_a_stuck_job_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
