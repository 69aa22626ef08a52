/*
 * Helpers for tests that drive the core's asynchronous code on the test thread: a loop marked as
 * current, and running it until a condition holds, bounded by a generous deadline (a bound, never
 * a synchronisation point).
 */
#ifndef ESG_TEST_LOOP_H
#define ESG_TEST_LOOP_H

#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "runtime/loop.h"

static inline void test_loop_deadline(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Runs `loop` until done(arg) is true; aborts the test after `bound_ms`. */
static inline void test_loop_until(esg_loop *loop, int (*done)(void *), void *arg, int bound_ms)
{
    uv_timer_t guard;
    int expired = 0;
    uv_timer_init(&loop->uv, &guard);
    guard.data = &expired;
    uv_timer_start(&guard, test_loop_deadline, (uint64_t)bound_ms, 0);
    while (!done(arg) && !expired)
        uv_run(&loop->uv, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop->uv, UV_RUN_NOWAIT);
    if (expired) {
        fprintf(stderr, "test_loop_until: condition not met within %d ms\n", bound_ms);
        abort();
    }
}

/* Closes the loop's handles and checks that nothing else stays open. Returns uv_loop_close(). */
static inline int test_loop_finish(esg_loop *loop)
{
    esg_loop_close_handles(loop);
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop->uv);
    esg_loop_set_current(NULL);
    return rc;
}

#endif
