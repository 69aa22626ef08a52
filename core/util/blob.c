#include "blob.h"

#include <stdlib.h>
#include <string.h>

esg_blob *esg_blob_new(const void *p, size_t n)
{
    esg_blob *b = malloc(sizeof(*b) + n + 1);
    if (b == NULL)
        return NULL;
    atomic_init(&b->refs, 1);
    b->len = n;
    if (n > 0)
        memcpy(b->data, p, n);
    b->data[n] = '\0';
    return b;
}

esg_blob *esg_blob_ref(esg_blob *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void esg_blob_unref(esg_blob *b)
{
    if (b != NULL && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
        free(b);
}

/* A tiny spin lock: the critical sections are a pointer load plus an increment. */
static void lock(esg_blob_slot *s)
{
    int expected = 0;
    while (!atomic_compare_exchange_weak_explicit(&s->lock, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
        expected = 0;
}

static void unlock(esg_blob_slot *s)
{
    atomic_store_explicit(&s->lock, 0, memory_order_release);
}

esg_blob *esg_blob_slot_get(esg_blob_slot *slot)
{
    lock(slot);
    esg_blob *b = atomic_load_explicit(&slot->current, memory_order_relaxed);
    if (b != NULL)
        esg_blob_ref(b);
    unlock(slot);
    return b;
}

void esg_blob_slot_set(esg_blob_slot *slot, esg_blob *b)
{
    lock(slot);
    esg_blob *old = atomic_load_explicit(&slot->current, memory_order_relaxed);
    atomic_store_explicit(&slot->current, b, memory_order_relaxed);
    unlock(slot);
    esg_blob_unref(old);
}
