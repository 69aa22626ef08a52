/*
 * Fuzz target for the utility decoders that read client bytes: base64url, padded base64, the
 * eSignet envelope time format and UTF-8 validation. Each decoder must either refuse or give a
 * value that encodes back to exactly the input (one accepted form per value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    esg_buf out = ESG_BUF_INIT, again = ESG_BUF_INIT;
    if (esg_b64url_decode(&out, in, size) == 0) {
        esg_b64url_encode(&again, out.data, out.len);
        if (again.len != size || (size > 0 && memcmp(again.data, in, size) != 0))
            abort();
    }
    esg_buf_reset(&out);
    esg_buf_reset(&again);
    if (esg_b64_decode(&out, in, size) == 0) {
        esg_b64_encode(&again, out.data, out.len);
        if (again.len != size || (size > 0 && memcmp(again.data, in, size) != 0))
            abort();
    }
    int64_t ms;
    if (esg_time_parse_iso(in, size, &ms) == 0) {
        char text[25];
        esg_time_format_iso(ms, text);
        if (size != 24 || memcmp(text, in, 24) != 0)
            abort();
    }
    (void)esg_utf8_valid(in, size);
    esg_buf_free(&out);
    esg_buf_free(&again);
    return 0;
}
