/*
 * The plugin worker pool: dedicated threads for plugins flagged ESP_CAP_BLOCKING (SQLite,
 * PKCS#11, LDAP, vendor SDKs). It is separate from libuv's process-wide pool, which also serves
 * file system and DNS work and would starve behind slow HSM calls.
 */
#ifndef ESG_RUNTIME_WORKERS_H
#define ESG_RUNTIME_WORKERS_H

#include "runtime/loop.h"

typedef struct esg_work esg_work;

/* A job: `work` runs on a worker thread, then `done` on the loop that submitted it. */
struct esg_work {
    esg_task task; /* used to post `done` back; owned by the pool while submitted */
    void (*work)(esg_work *w);
    void (*done)(esg_work *w);
    esg_loop *home;
    esg_work *next;
};

/* Starts `n` worker threads (1..256). Returns 0, ESP_EINVAL or ESP_EINTERNAL. [init] */
int esg_workers_start(int n);
/*
 * Submits a job from a loop thread. Returns 0, or ESP_EINVAL when the pool is not running or the
 * caller is not on a loop thread, or ESP_EAGAIN when 1024 jobs per thread are already waiting;
 * then neither function runs. [loop]
 */
int esg_workers_submit(esg_work *w);
/*
 * Finishes queued jobs, then stops and joins the threads. Their `done` posts reach loops that are
 * still open; posts to closed loops are dropped. [init]
 */
void esg_workers_stop(void);
/*
 * The same with a bound: waits at most `ms` for the threads to finish their jobs. Returns 0 when
 * they all did (and were joined), or ESP_ETIMEDOUT: then the busy threads are left running,
 * detached, and may still post to their jobs' loops, whose memory must therefore stay. A later
 * esg_workers_stop() returns at once. [init]
 */
int esg_workers_stop_within(int64_t ms);
/* Worker threads still running, those left running by esg_workers_stop_within() included: while
 * any is, plugin code may run and plugins must stay loaded. [any] */
int esg_workers_alive(void);
/* Jobs queued and not yet started, for metrics. [any] */
int64_t esg_workers_queued(void);
/* Jobs submitted whose `done` has not run yet: the drain at shutdown waits for 0. [any] */
int64_t esg_workers_outstanding(void);

#endif
