#include "store/store.h"

#include "util/log.h"

static struct esp_instance *inflight_inst;
static struct esp_instance *persistent_inst;

int esg_store_configure(struct esp_instance *inflight, struct esp_instance *persistent,
                        esg_buf *err)
{
    if (inflight != NULL && !esg_op_supported(inflight, ESG_OP_KV_TAKE)) {
        esg_buf_printf(err, "storage.inflight: storage \"%s\" (type %s) has no key-value functions",
                       inflight->name, inflight->cap->type);
        return ESP_ECONFIG;
    }
    if (persistent != NULL && !esg_op_supported(persistent, ESG_OP_REC_GET)) {
        esg_buf_printf(err, "storage.persistent: storage \"%s\" (type %s) has no record functions",
                       persistent->name, persistent->cap->type);
        return ESP_ECONFIG;
    }
    inflight_inst = inflight;
    persistent_inst = persistent;
    return 0;
}

struct esp_instance *esg_store_inflight(void)
{
    return inflight_inst;
}

struct esp_instance *esg_store_persistent(void)
{
    return persistent_inst;
}

int esg_kv(int op, const esp_kv_request *req, esg_call_cb cb, void *ud)
{
    if (inflight_inst == NULL)
        return ESP_EUNAVAIL;
    if (op < ESP_KV_PUT || op > ESP_KV_INCR)
        return ESP_EINVAL;
    return esg_call(inflight_inst, ESG_OP_KV_PUT + op, req, cb, ud);
}

int esg_rec(int op, const esp_rec_request *req, esg_call_cb cb, void *ud)
{
    if (persistent_inst == NULL)
        return ESP_EUNAVAIL;
    if (op < ESP_REC_PUT || op > ESP_REC_DEL)
        return ESP_EINVAL;
    return esg_call(persistent_inst, ESG_OP_REC_PUT + op, req, cb, ud);
}
