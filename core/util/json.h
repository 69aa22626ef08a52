/*
 * Small jansson helpers for lists used as sets (scopes, claims, ACR alternatives).
 */
#ifndef ESG_UTIL_JSON_H
#define ESG_UTIL_JSON_H

#include <jansson.h>

/* 1 when the array `arr` (borrowed; NULL counts as empty) holds a value equal to `v`. [any] */
int esg_json_array_has(const json_t *arr, const json_t *v);

/*
 * Appends `item` (owned: taken in every case) to `arr` unless an equal value is already there.
 * Returns 0, or ESP_ENOMEM. [any]
 */
int esg_json_append_unique(json_t *arr, json_t *item);

/* 1 when every value of `a` is in `b` (both borrowed; NULL counts as empty). [any] */
int esg_json_array_subset(const json_t *a, const json_t *b);

#endif
