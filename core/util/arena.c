#include "arena.h"

#include <openssl/crypto.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct esg_arena_block {
    esg_arena_block *next;
    size_t size;
    alignas(max_align_t) unsigned char data[];
};

#define BLOCK_SIZE 2048

void *esg_arena_alloc(esg_arena *a, size_t n)
{
    size_t align = alignof(max_align_t);
    if (n > SIZE_MAX - align)
        return NULL;
    n = (n + align - 1) & ~(align - 1);
    if (a->head == NULL || a->head->size - a->used < n) {
        size_t size = n > BLOCK_SIZE ? n : BLOCK_SIZE;
        esg_arena_block *b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->size = size;
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->total += size;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

int esg_arena_str(esg_arena *a, esp_str s, esp_str *out)
{
    if (s.ptr == NULL && s.len == 0) {
        out->ptr = NULL;
        out->len = 0;
        return 0;
    }
    if (s.ptr == NULL || s.len == SIZE_MAX)
        return ESP_EINVAL;
    char *p = esg_arena_alloc(a, s.len + 1);
    if (p == NULL)
        return ESP_ENOMEM;
    memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    out->ptr = p;
    out->len = s.len;
    return 0;
}

void esg_arena_free(esg_arena *a)
{
    esg_arena_block *b = a->head;
    while (b != NULL) {
        esg_arena_block *next = b->next;
        OPENSSL_cleanse(b->data, b->size);
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}
