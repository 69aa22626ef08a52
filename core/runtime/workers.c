#include "runtime/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include <esignet/plugin.h>

#include "util/log.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static esg_work *head, *tail;
static pthread_t *threads;
static int n_threads;
static int stopping;
static int alive; /* threads that have not left worker_main(), abandoned ones included */
static _Atomic int64_t queued;
static _Atomic int64_t outstanding; /* submitted and whose `done` has not run yet */

/* Jobs waiting per thread before submissions are refused: beyond it the back end cannot keep
 * up, and queueing more only turns every request into a timeout. */
#define QUEUE_PER_THREAD 1024

static void run_done(esg_task *t)
{
    esg_work *w = (esg_work *)t;
    w->done(w); /* may free w */
    atomic_fetch_sub(&outstanding, 1);
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (head == NULL && !stopping)
            pthread_cond_wait(&cv, &mu);
        esg_work *w = head;
        if (w == NULL) {
            alive--;
            pthread_mutex_unlock(&mu);
            break;
        }
        head = w->next;
        if (head == NULL)
            tail = NULL;
        pthread_mutex_unlock(&mu);
        atomic_fetch_sub(&queued, 1);
        w->work(w);
        w->task.run = run_done;
        esg_loop_post(w->home, &w->task);
        /* Lines logged by plugins on this thread go out now; workers are not loop threads. */
        esg_log_flush();
    }
    return NULL;
}

int esg_workers_start(int n)
{
    if (n < 1 || n > 256 || threads != NULL)
        return ESP_EINVAL;
    threads = calloc((size_t)n, sizeof(*threads));
    if (threads == NULL)
        return ESP_ENOMEM;
    stopping = 0;
    /* Jobs whose `done` was dropped at a previous shutdown never come back; start from zero. */
    atomic_store(&outstanding, 0);
    for (n_threads = 0; n_threads < n; n_threads++) {
        pthread_mutex_lock(&mu);
        alive++;
        pthread_mutex_unlock(&mu);
        if (pthread_create(&threads[n_threads], NULL, worker_main, NULL) != 0) {
            pthread_mutex_lock(&mu);
            alive--;
            pthread_mutex_unlock(&mu);
            esg_workers_stop();
            return ESP_EINTERNAL;
        }
    }
    return 0;
}

int esg_workers_submit(esg_work *w)
{
    esg_loop *home = esg_loop_current();
    if (home == NULL)
        return ESP_EINVAL;
    pthread_mutex_lock(&mu);
    if (threads == NULL || stopping) {
        pthread_mutex_unlock(&mu);
        return ESP_EINVAL;
    }
    if (atomic_load(&queued) >= (int64_t)n_threads * QUEUE_PER_THREAD) {
        pthread_mutex_unlock(&mu);
        return ESP_EAGAIN;
    }
    w->home = home;
    w->next = NULL;
    if (tail != NULL)
        tail->next = w;
    else
        head = w;
    tail = w;
    atomic_fetch_add(&queued, 1);
    atomic_fetch_add(&outstanding, 1);
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return 0;
}

int esg_workers_stop_within(int64_t ms)
{
    pthread_mutex_lock(&mu);
    if (threads == NULL) {
        pthread_mutex_unlock(&mu);
        return 0;
    }
    stopping = 1;
    pthread_cond_broadcast(&cv);
    /* Polled: this runs once, at the end, and a job may hold a thread for as long as it likes. */
    int left = 0;
    if (ms >= 0) {
        uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000u;
        while (alive > 0 && uv_hrtime() < deadline) {
            pthread_mutex_unlock(&mu);
            nanosleep(&(struct timespec){0, 2000000L}, NULL);
            pthread_mutex_lock(&mu);
        }
        left = alive;
    }
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n_threads; i++) {
        if (left == 0)
            pthread_join(threads[i], NULL);
        else
            pthread_detach(threads[i]);
    }
    free(threads);
    threads = NULL;
    n_threads = 0;
    if (left > 0)
        esg_logf(ESP_LOG_WARN, "workers.abandoned",
                 "%d plugin worker threads still running after %lld ms; left running", left,
                 (long long)ms);
    return left == 0 ? 0 : ESP_ETIMEDOUT;
}

void esg_workers_stop(void)
{
    esg_workers_stop_within(-1);
}

int esg_workers_alive(void)
{
    pthread_mutex_lock(&mu);
    int n = alive;
    pthread_mutex_unlock(&mu);
    return n;
}

int64_t esg_workers_queued(void)
{
    return atomic_load(&queued);
}

int64_t esg_workers_outstanding(void)
{
    return atomic_load(&outstanding);
}
