/*
 * Event loops. The server runs one libuv loop per worker thread (one per core by default). Work
 * that finishes on another thread (a plugin completing a call, a blocking job) is posted back to
 * the loop that started it as an esg_task; the loop runs posted tasks in order.
 */
#ifndef ESG_RUNTIME_LOOP_H
#define ESG_RUNTIME_LOOP_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

/* A unit of work posted to a loop. Intrusive: embed it in the object that owns the work. */
typedef struct esg_task {
    struct esg_task *next;
    void (*run)(struct esg_task *task);
} esg_task;

typedef struct esg_loop {
    uv_loop_t uv;
    int index;          /* 0 .. n-1 */
    pthread_t thread;   /* the thread that runs uv */
    int running;        /* the thread is inside esg_loop_run() */
    uv_async_t wake;    /* posted tasks from other threads */
    uv_idle_t idle;     /* same-thread tasks: keeps the loop from blocking while any wait */
    uv_check_t check;   /* flushes buffered log lines once per iteration */
    pthread_mutex_t mu; /* protects remote_head/remote_tail */
    esg_task *remote_head;
    esg_task *remote_tail;
    int closed;           /* set under mu by esg_loop_close_handles(); later posts are dropped */
    esg_task *local_head; /* touched only by the loop thread */
    esg_task *local_tail;
    void *data; /* owner's slot (the runtime's per-loop state) */
} esg_loop;

/* Initialises `loop` (caller-owned memory). Returns 0 or ESP_EINTERNAL. [init] */
int esg_loop_init(esg_loop *loop, int index);
/*
 * Runs the loop on the calling thread until no handle is active and marks the thread as this
 * loop's, so that esg_loop_current() finds it. [loop]
 */
void esg_loop_run(esg_loop *loop);
/*
 * Runs every queued task (and what they post), then refuses further posts and closes the loop's
 * own handles; call from the loop thread when the owner stops. [loop]
 */
void esg_loop_close_handles(esg_loop *loop);
/* Frees what esg_loop_init() allocated once the loop has stopped. [init] */
void esg_loop_destroy(esg_loop *loop);

/*
 * Runs `task->run(task)` on `loop`'s thread, after the current callback returns: never inline, so
 * a completion never re-enters its caller. Tasks posted from one thread run in posting order.
 * After esg_loop_close_handles() a post is dropped and logged (work abandoned at shutdown). The
 * loop's memory must outlive every thread that may still post to it. [any]
 */
void esg_loop_post(esg_loop *loop, esg_task *task);

/* The loop whose thread is calling, or NULL on other threads. [any] */
esg_loop *esg_loop_current(void);
/* Tests and tools: marks the calling thread as running `loop` without esg_loop_run(). */
void esg_loop_set_current(esg_loop *loop);

#endif
