#include "oauth/errors.h"

#include <esignet/plugin.h>

#include "http/response.h"
#include "util/log.h"
#include "util/status.h"

void esg_oauth_respond_error(esg_http_req *req, int status, const char *error,
                             const char *description)
{
    esg_http_resp_header(req, "Pragma", "no-cache");
    esg_http_respond_error(req, status, error, description);
}

void esg_oauth_respond_failure(esg_http_req *req, const char *endpoint, int status)
{
    if (status == ESP_EUNAVAIL || status == ESP_ETIMEDOUT) {
        esg_logf(ESP_LOG_WARN, "oauth.unavailable", "%s: %s", endpoint, esg_strerror(status));
        esg_oauth_respond_error(req, 503, "temporarily_unavailable",
                                "a back end did not answer; try again later");
        return;
    }
    esg_logf(ESP_LOG_ERROR, "oauth.failed", "%s: %s", endpoint, esg_strerror(status));
    esg_oauth_respond_error(req, 500, "server_error", NULL);
}
