#include "status.h"

#include <stddef.h>

struct status_row {
    int code;
    const char *name;
    const char *message;
    const char *oauth;
    const char *esignet;
};

#define ROW(name, value, msg, oauth, esignet) {value, "ESP_" #name, msg, oauth, esignet},
static const struct status_row rows[] = {ESP_STATUS_MAP(ROW)};
#undef ROW

static const struct status_row *find(int status)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].code == status)
            return &rows[i];
    }
    return NULL;
}

const char *esg_strerror(int status)
{
    const struct status_row *r = find(status);
    return r ? r->message : "unknown status";
}

const char *esg_err_name(int status)
{
    const struct status_row *r = find(status);
    return r ? r->name : "ESP_UNKNOWN";
}

const char *esg_status_oauth_error(int status)
{
    const struct status_row *r = find(status);
    return r && r->oauth[0] ? r->oauth : "server_error";
}

const char *esg_status_esignet_error(int status)
{
    const struct status_row *r = find(status);
    return r && r->esignet[0] ? r->esignet : "unknown_error";
}

int esg_status_known(int status)
{
    return find(status) != NULL;
}
