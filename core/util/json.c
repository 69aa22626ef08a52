#include "util/json.h"

#include <esignet/plugin.h>

int esg_json_array_has(const json_t *arr, const json_t *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (json_equal(x, v))
            return 1;
    }
    return 0;
}

int esg_json_append_unique(json_t *arr, json_t *item)
{
    if (item == NULL)
        return ESP_ENOMEM;
    if (esg_json_array_has(arr, item)) {
        json_decref(item);
        return 0;
    }
    return json_array_append_new(arr, item) == 0 ? 0 : ESP_ENOMEM;
}

int esg_json_array_subset(const json_t *a, const json_t *b)
{
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x)
    {
        if (!esg_json_array_has(b, x))
            return 0;
    }
    return 1;
}
