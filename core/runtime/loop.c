#include "runtime/loop.h"

#include <string.h>

#include <esignet/plugin.h>

#include "util/log.h"

static _Thread_local esg_loop *current_loop;

static void run_list(esg_task *t)
{
    while (t != NULL) {
        esg_task *next = t->next;
        t->next = NULL;
        t->run(t);
        t = next;
    }
}

static void on_wake(uv_async_t *h)
{
    esg_loop *loop = h->data;
    /* Take the whole queue at once: wake-ups collapse, so one callback may stand for many posts. */
    pthread_mutex_lock(&loop->mu);
    esg_task *t = loop->remote_head;
    loop->remote_head = loop->remote_tail = NULL;
    pthread_mutex_unlock(&loop->mu);
    run_list(t);
}

static void on_idle(uv_idle_t *h)
{
    esg_loop *loop = h->data;
    /* Tasks may post more local tasks; those run in the next iteration. */
    esg_task *t = loop->local_head;
    loop->local_head = loop->local_tail = NULL;
    uv_idle_stop(&loop->idle);
    run_list(t);
}

static void on_check(uv_check_t *h)
{
    (void)h;
    esg_log_flush();
}

int esg_loop_init(esg_loop *loop, int index)
{
    memset(loop, 0, sizeof(*loop));
    loop->index = index;
    if (uv_loop_init(&loop->uv) != 0)
        return ESP_EINTERNAL;
    if (pthread_mutex_init(&loop->mu, NULL) != 0)
        goto fail_loop;
    if (uv_async_init(&loop->uv, &loop->wake, on_wake) != 0)
        goto fail_mu;
    loop->wake.data = loop;
    uv_idle_init(&loop->uv, &loop->idle);
    loop->idle.data = loop;
    uv_check_init(&loop->uv, &loop->check);
    loop->check.data = loop;
    uv_check_start(&loop->check, on_check);
    /* The check handle must not keep the loop alive on its own. */
    uv_unref((uv_handle_t *)&loop->check);
    loop->uv.data = loop;
    return 0;
fail_mu:
    pthread_mutex_destroy(&loop->mu);
fail_loop:
    uv_loop_close(&loop->uv);
    return ESP_EINTERNAL;
}

void esg_loop_set_current(esg_loop *loop)
{
    current_loop = loop;
    if (loop != NULL)
        loop->thread = pthread_self();
}

esg_loop *esg_loop_current(void)
{
    return current_loop;
}

void esg_loop_run(esg_loop *loop)
{
    esg_loop_set_current(loop);
    esg_log_set_buffered(1);
    loop->running = 1;
    uv_run(&loop->uv, UV_RUN_DEFAULT);
    loop->running = 0;
    esg_log_set_buffered(0);
    current_loop = NULL;
}

void esg_loop_post(esg_loop *loop, esg_task *task)
{
    task->next = NULL;
    if (current_loop == loop) {
        /* `closed` is written by this same thread, so it can be read without the lock. Only work
         * abandoned at shutdown arrives after it (a plugin completing after the drain gave up on
         * it); running it would touch handles that are gone. */
        if (loop->closed) {
            esg_log_event(ESP_LOG_ERROR, "loop.post_after_close", NULL, 0);
            return;
        }
        if (loop->local_tail != NULL)
            loop->local_tail->next = task;
        else
            loop->local_head = task;
        loop->local_tail = task;
        uv_idle_start(&loop->idle, on_idle);
        return;
    }
    pthread_mutex_lock(&loop->mu);
    if (loop->closed) {
        pthread_mutex_unlock(&loop->mu);
        esg_log_event(ESP_LOG_ERROR, "loop.post_after_close", NULL, 0);
        return;
    }
    if (loop->remote_tail != NULL)
        loop->remote_tail->next = task;
    else
        loop->remote_head = task;
    loop->remote_tail = task;
    /* Sent under the lock, so that no wake-up can reach the handle after close has begun. */
    uv_async_send(&loop->wake);
    pthread_mutex_unlock(&loop->mu);
}

void esg_loop_close_handles(esg_loop *loop)
{
    /* Run what is still queued, including what those tasks post in turn, so no completion and
     * no release is lost; then refuse further posts and close. */
    for (;;) {
        pthread_mutex_lock(&loop->mu);
        int remote = loop->remote_head != NULL;
        if (!remote && loop->local_head == NULL)
            loop->closed = 1;
        pthread_mutex_unlock(&loop->mu);
        if (loop->closed)
            break;
        if (remote)
            on_wake(&loop->wake);
        if (loop->local_head != NULL)
            on_idle(&loop->idle);
    }
    uv_close((uv_handle_t *)&loop->wake, NULL);
    uv_close((uv_handle_t *)&loop->idle, NULL);
    uv_close((uv_handle_t *)&loop->check, NULL);
}

void esg_loop_destroy(esg_loop *loop)
{
    uv_loop_close(&loop->uv);
    pthread_mutex_destroy(&loop->mu);
}
