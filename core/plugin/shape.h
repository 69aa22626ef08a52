/*
 * Shapes of the structs that cross the plugin boundary, as field tables, so that one function can
 * validate and deep-copy any request or result: the host copies requests into memory the call
 * owns (plugins may keep using them until they complete, even after a deadline released the
 * caller) and copies results before call_done() returns (plugins may pass stack memory).
 */
#ifndef ESG_PLUGIN_SHAPE_H
#define ESG_PLUGIN_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

enum esg_field_type {
    ESG_F_STR,       /* esp_str */
    ESG_F_U32,       /* uint32_t */
    ESG_F_I64,       /* int64_t */
    ESG_F_STR_ARRAY, /* const esp_str * with a size_t count at count_offset */
    ESG_F_PTR_ARRAY, /* const T *const * with a size_t count at count_offset; T is `nested` */
    ESG_F_PTR,       /* const T *; T is `nested` */
};

typedef struct esg_shape esg_shape;

typedef struct esg_field {
    const char *name;
    size_t offset;
    int type;
    int required; /* strings: non-empty; pointers: non-NULL */
    size_t count_offset;
    const esg_shape *nested;
} esg_field;

struct esg_shape {
    const char *name;
    size_t size; /* sizeof() of the ABI 1.0 struct: the smallest accepted `size` */
    const esg_field *fields;
    size_t n_fields;
};

/* Largest count accepted in any array, and largest total copy, against runaway plugins. */
#define ESG_SHAPE_MAX_ITEMS 10000
#define ESG_SHAPE_MAX_BYTES (16u << 20)

/*
 * Validates `src` against `shape` and deep-copies it into `arena`; *dst points to the copy, whose
 * `size` is set to shape->size. On failure returns ESP_EINVAL (with *why naming the field) or
 * ESP_ETOOBIG or ESP_ENOMEM, and *dst is unchanged. [any]
 */
int esg_shape_copy(const esg_shape *shape, const void *src, esg_arena *arena, void **dst,
                   const char **why);

/* Shapes of plugin.h, ABI 1.0. */
extern const esg_shape esg_shape_challenge, esg_shape_kyc_auth_request, esg_shape_kyc_auth_result,
    esg_shape_kyc_exchange_request, esg_shape_kyc_exchange_result, esg_shape_send_otp_request,
    esg_shape_send_otp_result, esg_shape_lookup_request, esg_shape_lookup_result,
    esg_shape_jwks_result, esg_shape_challenge_request, esg_shape_verify_request,
    esg_shape_bind_key_request, esg_shape_bind_key_result, esg_shape_key_info,
    esg_shape_keys_result, esg_shape_sign_request, esg_shape_sign_result, esg_shape_decrypt_request,
    esg_shape_decrypt_result, esg_shape_rotate_request, esg_shape_issue_request,
    esg_shape_issue_result, esg_shape_metadata_result, esg_shape_credential_data_request,
    esg_shape_credential_data_result, esg_shape_notify_request, esg_shape_kv_request,
    esg_shape_kv_result, esg_shape_rec_index, esg_shape_rec_request, esg_shape_record,
    esg_shape_rec_result;

#endif
