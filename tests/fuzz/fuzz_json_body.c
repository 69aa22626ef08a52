/*
 * Strict JSON body parsing on arbitrary input. Byte 0 selects the depth limit and the accepted
 * top-level types; the rest is the body. An accepted value must have the requested type and
 * re-serialise.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http/json_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    esg_json_limits lim = {4096, (size_t)(data[0] & 7) + 1, (unsigned)(data[0] >> 3) & 7u};
    json_t *j = NULL;
    char err[160];
    int rc = esg_json_parse((const char *)data + 1, size - 1, &lim, &j, err, sizeof(err));
    if (rc == 0) {
        unsigned top = lim.top ? lim.top : ESG_JSON_TOP_OBJECT;
        unsigned kind = json_is_object(j)  ? ESG_JSON_TOP_OBJECT
                        : json_is_array(j) ? ESG_JSON_TOP_ARRAY
                                           : 0x4u;
        if (!(kind & top))
            abort();
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s == NULL)
            abort();
        free(s);
        json_decref(j);
    } else if (j != NULL || (rc != ESP_EINVAL && rc != ESP_ENOMEM)) {
        abort();
    }
    return 0;
}
