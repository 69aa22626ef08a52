#include "api/envelope.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "http/json_body.h"
#include "http/response.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/clock.h"

char *esg_envelope_dump(const json_t *value)
{
    /* Compact, insertion order, raw UTF-8 and unescaped '/': what JSON.stringify() produces for
     * the same parsed value (control characters never occur: inputs refuse them), so that the
     * login page can recompute the oauth-details hash over the bytes it received. */
    return json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
}

int esg_envelope_parse(esg_http_req *req, json_t **doc, json_t **request, const char **error,
                       const char **message)
{
    *error = "invalid_request";
    json_t *root = NULL;
    char why[128];
    if (esg_http_req_json(req, NULL, &root, why, sizeof(why)) != 0) {
        *message = "the body must be a JSON object (application/json)";
        return ESP_EINVAL;
    }
    json_t *t = json_object_get(root, "requestTime");
    json_t *r = json_object_get(root, "request");
    int64_t ms;
    if (!json_is_string(t) ||
        esg_time_parse_iso(json_string_value(t), json_string_length(t), &ms) != 0) {
        *message = "requestTime must be yyyy-MM-ddTHH:mm:ss.SSSZ";
        json_decref(root);
        return ESP_EINVAL;
    }
    int64_t skew = ms - esg_wall_ms();
    if (skew > ESG_ENVELOPE_LEEWAY_MS || skew < -ESG_ENVELOPE_LEEWAY_MS) {
        *message = "requestTime is too far from the server's time";
        json_decref(root);
        return ESP_EINVAL;
    }
    if (!json_is_object(r)) {
        *message = "request must be an object";
        json_decref(root);
        return ESP_EINVAL;
    }
    *doc = root;
    *request = r;
    return 0;
}

static void put_time(esg_buf *b)
{
    char ts[25];
    esg_time_format_iso(esg_wall_ms(), ts);
    esg_buf_printf(b, "{\"responseTime\":\"%s\",\"response\":", ts);
}

int esg_envelope_ok(esg_http_req *req, json_t *response, char hash_out[44])
{
    char *text = response ? esg_envelope_dump(response) : NULL;
    json_decref(response);
    if (response != NULL && text == NULL)
        return esg_http_respond_error(req, 500, "unknown_error", NULL);
    esg_buf b = ESG_BUF_INIT;
    put_time(&b);
    esg_buf_puts(&b, text ? text : "null");
    esg_buf_puts(&b, ",\"errors\":[]}");
    if (hash_out != NULL) {
        unsigned char md[32];
        unsigned int len = 0;
        const char *h = text ? text : "null";
        EVP_Digest(h, strlen(h), md, &len, EVP_sha256(), NULL);
        esg_b64url_encode_to(md, sizeof(md), hash_out);
        hash_out[43] = '\0';
    }
    free(text);
    if (b.data == NULL)
        return esg_http_respond_error(req, 500, "unknown_error", NULL);
    return esg_http_respond_buf(req, 200, "application/json", &b);
}

int esg_envelope_error(esg_http_req *req, int http_status, const char *code, const char *message)
{
    esg_buf b = ESG_BUF_INIT;
    put_time(&b);
    esg_buf_puts(&b, "null,\"errors\":[{\"errorCode\":\"");
    esg_buf_json_escape(&b, code, strlen(code));
    esg_buf_puts(&b, "\",\"errorMessage\":\"");
    const char *m = message ? message : code;
    esg_buf_json_escape(&b, m, strlen(m));
    esg_buf_puts(&b, "\"}]}");
    if (b.data == NULL)
        return esg_http_respond_error(req, 500, "unknown_error", NULL);
    return esg_http_respond_buf(req, http_status, "application/json", &b);
}
