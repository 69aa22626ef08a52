#include "plugin/shape.h"

#include <string.h>

#include <esignet/plugin.h>

#include "util/str.h"

static int copy_str(const esg_field *f, const esp_str *in, esg_arena *a, esp_str *out,
                    const char **why)
{
    if (in->len > 0 && in->ptr == NULL) {
        *why = f->name;
        return ESP_EINVAL;
    }
    if (f->required && in->len == 0) {
        *why = f->name;
        return ESP_EINVAL;
    }
    if (in->len > ESG_SHAPE_MAX_BYTES) {
        *why = f->name;
        return ESP_ETOOBIG;
    }
    return esg_arena_str(a, *in, out);
}

static int copy_struct(const esg_shape *shape, const void *src, esg_arena *a, void **dst,
                       const char **why, int depth)
{
    if (src == NULL || depth > 4) {
        *why = shape->name;
        return ESP_EINVAL;
    }
    uint32_t size;
    memcpy(&size, src, sizeof(size));
    /* A struct smaller than the ABI 1.0 layout was not filled by a conforming plugin. */
    if (size < shape->size) {
        *why = shape->name;
        return ESP_EINVAL;
    }
    unsigned char *out = esg_arena_alloc(a, shape->size);
    if (out == NULL)
        return ESP_ENOMEM;
    uint32_t out_size = (uint32_t)shape->size;
    memcpy(out, &out_size, sizeof(out_size));
    const unsigned char *in = src;
    for (size_t i = 0; i < shape->n_fields; i++) {
        const esg_field *f = &shape->fields[i];
        int rc = 0;
        switch (f->type) {
        case ESG_F_STR:
            rc = copy_str(f, (const esp_str *)(const void *)(in + f->offset), a,
                          (esp_str *)(void *)(out + f->offset), why);
            break;
        case ESG_F_U32:
            memcpy(out + f->offset, in + f->offset, sizeof(uint32_t));
            break;
        case ESG_F_I64:
            memcpy(out + f->offset, in + f->offset, sizeof(int64_t));
            break;
        case ESG_F_STR_ARRAY: {
            const esp_str *items;
            size_t n;
            memcpy(&items, in + f->offset, sizeof(items));
            memcpy(&n, in + f->count_offset, sizeof(n));
            if (n > ESG_SHAPE_MAX_ITEMS || (n > 0 && items == NULL)) {
                *why = f->name;
                return n > ESG_SHAPE_MAX_ITEMS ? ESP_ETOOBIG : ESP_EINVAL;
            }
            esp_str *copy = n ? esg_arena_alloc(a, n * sizeof(esp_str)) : NULL;
            if (n > 0 && copy == NULL)
                return ESP_ENOMEM;
            for (size_t k = 0; k < n && rc == 0; k++)
                rc = copy_str(f, &items[k], a, &copy[k], why);
            memcpy(out + f->offset, &copy, sizeof(copy));
            memcpy(out + f->count_offset, &n, sizeof(n));
            break;
        }
        case ESG_F_PTR_ARRAY: {
            const void *const *items;
            size_t n;
            memcpy(&items, in + f->offset, sizeof(items));
            memcpy(&n, in + f->count_offset, sizeof(n));
            if (n > ESG_SHAPE_MAX_ITEMS || (n > 0 && items == NULL)) {
                *why = f->name;
                return n > ESG_SHAPE_MAX_ITEMS ? ESP_ETOOBIG : ESP_EINVAL;
            }
            void **copy = n ? esg_arena_alloc(a, n * sizeof(void *)) : NULL;
            if (n > 0 && copy == NULL)
                return ESP_ENOMEM;
            for (size_t k = 0; k < n && rc == 0; k++)
                rc = copy_struct(f->nested, items[k], a, &copy[k], why, depth + 1);
            memcpy(out + f->offset, &copy, sizeof(copy));
            memcpy(out + f->count_offset, &n, sizeof(n));
            break;
        }
        case ESG_F_PTR: {
            const void *item;
            memcpy(&item, in + f->offset, sizeof(item));
            void *copy = NULL;
            if (item == NULL) {
                if (f->required) {
                    *why = f->name;
                    return ESP_EINVAL;
                }
            } else {
                rc = copy_struct(f->nested, item, a, &copy, why, depth + 1);
            }
            memcpy(out + f->offset, &copy, sizeof(copy));
            break;
        }
        default:
            rc = ESP_EINTERNAL;
        }
        if (rc != 0)
            return rc;
        if (a->total > ESG_SHAPE_MAX_BYTES) {
            *why = shape->name;
            return ESP_ETOOBIG;
        }
    }
    *dst = out;
    return 0;
}

int esg_shape_copy(const esg_shape *shape, const void *src, esg_arena *arena, void **dst,
                   const char **why)
{
    const char *dummy;
    if (why == NULL)
        why = &dummy;
    *why = NULL;
    return copy_struct(shape, src, arena, dst, why, 0);
}

/* The tables below follow plugin.h field by field; tests/unit/test_plugin_shape.c checks that
 * every string, integer and array of every struct is covered. */

static const esg_field challenge_fields[] = {
    {"factor", offsetof(esp_challenge, factor), ESG_F_STR, 1, 0, NULL},
    {"format", offsetof(esp_challenge, format), ESG_F_STR, 0, 0, NULL},
    {"value", offsetof(esp_challenge, value), ESG_F_STR, 0, 0, NULL},
    {"verified", offsetof(esp_challenge, verified), ESG_F_U32, 0, 0, NULL},
};
const esg_shape esg_shape_challenge = {"esp_challenge", sizeof(esp_challenge), challenge_fields,
                                       sizeof(challenge_fields) / sizeof(challenge_fields[0])};

static const esg_field kyc_auth_request_fields[] = {
    {"client_id", offsetof(esp_kyc_auth_request, client_id), ESG_F_STR, 0, 0, NULL},
    {"relying_party_id", offsetof(esp_kyc_auth_request, relying_party_id), ESG_F_STR, 0, 0, NULL},
    {"transaction_id", offsetof(esp_kyc_auth_request, transaction_id), ESG_F_STR, 0, 0, NULL},
    {"individual_id", offsetof(esp_kyc_auth_request, individual_id), ESG_F_STR, 1, 0, NULL},
    {"challenges", offsetof(esp_kyc_auth_request, challenges), ESG_F_PTR_ARRAY, 0,
     offsetof(esp_kyc_auth_request, n_challenges), &esg_shape_challenge},
    {"claims_metadata_required", offsetof(esp_kyc_auth_request, claims_metadata_required),
     ESG_F_U32, 0, 0, NULL},
};
const esg_shape esg_shape_kyc_auth_request = {
    "esp_kyc_auth_request", sizeof(esp_kyc_auth_request), kyc_auth_request_fields,
    sizeof(kyc_auth_request_fields) / sizeof(kyc_auth_request_fields[0])};

static const esg_field kyc_auth_result_fields[] = {
    {"kyc_token", offsetof(esp_kyc_auth_result, kyc_token), ESG_F_STR, 1, 0, NULL},
    {"subject", offsetof(esp_kyc_auth_result, subject), ESG_F_STR, 1, 0, NULL},
    {"claims_metadata_json", offsetof(esp_kyc_auth_result, claims_metadata_json), ESG_F_STR, 0, 0,
     NULL},
};
const esg_shape esg_shape_kyc_auth_result = {
    "esp_kyc_auth_result", sizeof(esp_kyc_auth_result), kyc_auth_result_fields,
    sizeof(kyc_auth_result_fields) / sizeof(kyc_auth_result_fields[0])};

static const esg_field kyc_exchange_request_fields[] = {
    {"client_id", offsetof(esp_kyc_exchange_request, client_id), ESG_F_STR, 0, 0, NULL},
    {"relying_party_id", offsetof(esp_kyc_exchange_request, relying_party_id), ESG_F_STR, 0, 0,
     NULL},
    {"transaction_id", offsetof(esp_kyc_exchange_request, transaction_id), ESG_F_STR, 0, 0, NULL},
    {"individual_id", offsetof(esp_kyc_exchange_request, individual_id), ESG_F_STR, 0, 0, NULL},
    {"kyc_token", offsetof(esp_kyc_exchange_request, kyc_token), ESG_F_STR, 1, 0, NULL},
    {"accepted_claims", offsetof(esp_kyc_exchange_request, accepted_claims), ESG_F_STR_ARRAY, 0,
     offsetof(esp_kyc_exchange_request, n_accepted_claims), NULL},
    {"claims_locales", offsetof(esp_kyc_exchange_request, claims_locales), ESG_F_STR_ARRAY, 0,
     offsetof(esp_kyc_exchange_request, n_claims_locales), NULL},
    {"claim_details_json", offsetof(esp_kyc_exchange_request, claim_details_json), ESG_F_STR, 0, 0,
     NULL},
};
const esg_shape esg_shape_kyc_exchange_request = {
    "esp_kyc_exchange_request", sizeof(esp_kyc_exchange_request), kyc_exchange_request_fields,
    sizeof(kyc_exchange_request_fields) / sizeof(kyc_exchange_request_fields[0])};

static const esg_field kyc_exchange_result_fields[] = {
    {"claims_json", offsetof(esp_kyc_exchange_result, claims_json), ESG_F_STR, 0, 0, NULL},
    {"signed_kyc", offsetof(esp_kyc_exchange_result, signed_kyc), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_kyc_exchange_result = {
    "esp_kyc_exchange_result", sizeof(esp_kyc_exchange_result), kyc_exchange_result_fields,
    sizeof(kyc_exchange_result_fields) / sizeof(kyc_exchange_result_fields[0])};

static const esg_field send_otp_request_fields[] = {
    {"client_id", offsetof(esp_send_otp_request, client_id), ESG_F_STR, 0, 0, NULL},
    {"relying_party_id", offsetof(esp_send_otp_request, relying_party_id), ESG_F_STR, 0, 0, NULL},
    {"transaction_id", offsetof(esp_send_otp_request, transaction_id), ESG_F_STR, 0, 0, NULL},
    {"individual_id", offsetof(esp_send_otp_request, individual_id), ESG_F_STR, 1, 0, NULL},
    {"channels", offsetof(esp_send_otp_request, channels), ESG_F_STR_ARRAY, 0,
     offsetof(esp_send_otp_request, n_channels), NULL},
};
const esg_shape esg_shape_send_otp_request = {
    "esp_send_otp_request", sizeof(esp_send_otp_request), send_otp_request_fields,
    sizeof(send_otp_request_fields) / sizeof(send_otp_request_fields[0])};

static const esg_field send_otp_result_fields[] = {
    {"masked_email", offsetof(esp_send_otp_result, masked_email), ESG_F_STR, 0, 0, NULL},
    {"masked_mobile", offsetof(esp_send_otp_result, masked_mobile), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_send_otp_result = {
    "esp_send_otp_result", sizeof(esp_send_otp_result), send_otp_result_fields,
    sizeof(send_otp_result_fields) / sizeof(send_otp_result_fields[0])};

static const esg_field lookup_request_fields[] = {
    {"individual_id", offsetof(esp_lookup_request, individual_id), ESG_F_STR, 1, 0, NULL},
};
const esg_shape esg_shape_lookup_request = {
    "esp_lookup_request", sizeof(esp_lookup_request), lookup_request_fields,
    sizeof(lookup_request_fields) / sizeof(lookup_request_fields[0])};

static const esg_field lookup_result_fields[] = {
    {"email", offsetof(esp_lookup_result, email), ESG_F_STR, 0, 0, NULL},
    {"phone", offsetof(esp_lookup_result, phone), ESG_F_STR, 0, 0, NULL},
    {"locale", offsetof(esp_lookup_result, locale), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_lookup_result = {
    "esp_lookup_result", sizeof(esp_lookup_result), lookup_result_fields,
    sizeof(lookup_result_fields) / sizeof(lookup_result_fields[0])};

static const esg_field jwks_result_fields[] = {
    {"jwks_json", offsetof(esp_jwks_result, jwks_json), ESG_F_STR, 1, 0, NULL},
};
const esg_shape esg_shape_jwks_result = {
    "esp_jwks_result", sizeof(esp_jwks_result), jwks_result_fields,
    sizeof(jwks_result_fields) / sizeof(jwks_result_fields[0])};

static const esg_field challenge_request_fields[] = {
    {"client_id", offsetof(esp_challenge_request, client_id), ESG_F_STR, 0, 0, NULL},
    {"client_name", offsetof(esp_challenge_request, client_name), ESG_F_STR, 0, 0, NULL},
    {"transaction_id", offsetof(esp_challenge_request, transaction_id), ESG_F_STR, 0, 0, NULL},
    {"individual_id", offsetof(esp_challenge_request, individual_id), ESG_F_STR, 1, 0, NULL},
    {"channels", offsetof(esp_challenge_request, channels), ESG_F_STR_ARRAY, 0,
     offsetof(esp_challenge_request, n_channels), NULL},
    {"email", offsetof(esp_challenge_request, email), ESG_F_STR, 0, 0, NULL},
    {"phone", offsetof(esp_challenge_request, phone), ESG_F_STR, 0, 0, NULL},
    {"locale", offsetof(esp_challenge_request, locale), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_challenge_request = {
    "esp_challenge_request", sizeof(esp_challenge_request), challenge_request_fields,
    sizeof(challenge_request_fields) / sizeof(challenge_request_fields[0])};

static const esg_field verify_request_fields[] = {
    {"client_id", offsetof(esp_verify_request, client_id), ESG_F_STR, 0, 0, NULL},
    {"transaction_id", offsetof(esp_verify_request, transaction_id), ESG_F_STR, 0, 0, NULL},
    {"auth_transaction_id", offsetof(esp_verify_request, auth_transaction_id), ESG_F_STR, 0, 0,
     NULL},
    {"individual_id", offsetof(esp_verify_request, individual_id), ESG_F_STR, 0, 0, NULL},
    {"origin", offsetof(esp_verify_request, origin), ESG_F_STR, 0, 0, NULL},
    {"challenge", offsetof(esp_verify_request, challenge), ESG_F_PTR, 1, 0, &esg_shape_challenge},
};
const esg_shape esg_shape_verify_request = {
    "esp_verify_request", sizeof(esp_verify_request), verify_request_fields,
    sizeof(verify_request_fields) / sizeof(verify_request_fields[0])};

static const esg_field bind_key_request_fields[] = {
    {"individual_id", offsetof(esp_bind_key_request, individual_id), ESG_F_STR, 1, 0, NULL},
    {"challenges", offsetof(esp_bind_key_request, challenges), ESG_F_PTR_ARRAY, 0,
     offsetof(esp_bind_key_request, n_challenges), &esg_shape_challenge},
    {"public_key_jwk_json", offsetof(esp_bind_key_request, public_key_jwk_json), ESG_F_STR, 1, 0,
     NULL},
    {"auth_factor_type", offsetof(esp_bind_key_request, auth_factor_type), ESG_F_STR, 1, 0, NULL},
    {"headers_json", offsetof(esp_bind_key_request, headers_json), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_bind_key_request = {
    "esp_bind_key_request", sizeof(esp_bind_key_request), bind_key_request_fields,
    sizeof(bind_key_request_fields) / sizeof(bind_key_request_fields[0])};

static const esg_field bind_key_result_fields[] = {
    {"certificate_pem", offsetof(esp_bind_key_result, certificate_pem), ESG_F_STR, 1, 0, NULL},
    {"subject", offsetof(esp_bind_key_result, subject), ESG_F_STR, 1, 0, NULL},
};
const esg_shape esg_shape_bind_key_result = {
    "esp_bind_key_result", sizeof(esp_bind_key_result), bind_key_result_fields,
    sizeof(bind_key_result_fields) / sizeof(bind_key_result_fields[0])};

static const esg_field key_info_fields[] = {
    {"kid", offsetof(esp_key_info, kid), ESG_F_STR, 1, 0, NULL},
    {"alg", offsetof(esp_key_info, alg), ESG_F_STR, 1, 0, NULL},
    {"use", offsetof(esp_key_info, use), ESG_F_STR, 1, 0, NULL},
    {"public_jwk_json", offsetof(esp_key_info, public_jwk_json), ESG_F_STR, 1, 0, NULL},
    {"created_at", offsetof(esp_key_info, created_at), ESG_F_I64, 0, 0, NULL},
    {"expires_at", offsetof(esp_key_info, expires_at), ESG_F_I64, 0, 0, NULL},
    {"state", offsetof(esp_key_info, state), ESG_F_U32, 0, 0, NULL},
};
const esg_shape esg_shape_key_info = {"esp_key_info", sizeof(esp_key_info), key_info_fields,
                                      sizeof(key_info_fields) / sizeof(key_info_fields[0])};

static const esg_field keys_result_fields[] = {
    {"keys", offsetof(esp_keys_result, keys), ESG_F_PTR_ARRAY, 0, offsetof(esp_keys_result, n_keys),
     &esg_shape_key_info},
};
const esg_shape esg_shape_keys_result = {
    "esp_keys_result", sizeof(esp_keys_result), keys_result_fields,
    sizeof(keys_result_fields) / sizeof(keys_result_fields[0])};

static const esg_field sign_request_fields[] = {
    {"kid", offsetof(esp_sign_request, kid), ESG_F_STR, 0, 0, NULL},
    {"alg", offsetof(esp_sign_request, alg), ESG_F_STR, 1, 0, NULL},
    {"data", offsetof(esp_sign_request, data), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_sign_request = {
    "esp_sign_request", sizeof(esp_sign_request), sign_request_fields,
    sizeof(sign_request_fields) / sizeof(sign_request_fields[0])};

static const esg_field sign_result_fields[] = {
    {"kid", offsetof(esp_sign_result, kid), ESG_F_STR, 1, 0, NULL},
    {"signature", offsetof(esp_sign_result, signature), ESG_F_STR, 1, 0, NULL},
};
const esg_shape esg_shape_sign_result = {
    "esp_sign_result", sizeof(esp_sign_result), sign_result_fields,
    sizeof(sign_result_fields) / sizeof(sign_result_fields[0])};

static const esg_field decrypt_request_fields[] = {
    {"kid", offsetof(esp_decrypt_request, kid), ESG_F_STR, 0, 0, NULL},
    {"alg", offsetof(esp_decrypt_request, alg), ESG_F_STR, 1, 0, NULL},
    {"ciphertext", offsetof(esp_decrypt_request, ciphertext), ESG_F_STR, 1, 0, NULL},
};
const esg_shape esg_shape_decrypt_request = {
    "esp_decrypt_request", sizeof(esp_decrypt_request), decrypt_request_fields,
    sizeof(decrypt_request_fields) / sizeof(decrypt_request_fields[0])};

static const esg_field decrypt_result_fields[] = {
    {"plaintext", offsetof(esp_decrypt_result, plaintext), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_decrypt_result = {
    "esp_decrypt_result", sizeof(esp_decrypt_result), decrypt_result_fields,
    sizeof(decrypt_result_fields) / sizeof(decrypt_result_fields[0])};

static const esg_field rotate_request_fields[] = {
    {"alg", offsetof(esp_rotate_request, alg), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_rotate_request = {
    "esp_rotate_request", sizeof(esp_rotate_request), rotate_request_fields,
    sizeof(rotate_request_fields) / sizeof(rotate_request_fields[0])};

static const esg_field issue_request_fields[] = {
    {"configuration_id", offsetof(esp_issue_request, configuration_id), ESG_F_STR, 1, 0, NULL},
    {"issuer", offsetof(esp_issue_request, issuer), ESG_F_STR, 1, 0, NULL},
    {"request_json", offsetof(esp_issue_request, request_json), ESG_F_STR, 0, 0, NULL},
    {"holder_jwk_json", offsetof(esp_issue_request, holder_jwk_json), ESG_F_STR, 0, 0, NULL},
    {"holder_id", offsetof(esp_issue_request, holder_id), ESG_F_STR, 0, 0, NULL},
    {"claims_json", offsetof(esp_issue_request, claims_json), ESG_F_STR, 0, 0, NULL},
    {"issued_at", offsetof(esp_issue_request, issued_at), ESG_F_I64, 0, 0, NULL},
    {"expires_at", offsetof(esp_issue_request, expires_at), ESG_F_I64, 0, 0, NULL},
};
const esg_shape esg_shape_issue_request = {
    "esp_issue_request", sizeof(esp_issue_request), issue_request_fields,
    sizeof(issue_request_fields) / sizeof(issue_request_fields[0])};

static const esg_field issue_result_fields[] = {
    {"credential", offsetof(esp_issue_result, credential), ESG_F_STR, 1, 0, NULL},
    {"is_json", offsetof(esp_issue_result, is_json), ESG_F_U32, 0, 0, NULL},
};
const esg_shape esg_shape_issue_result = {
    "esp_issue_result", sizeof(esp_issue_result), issue_result_fields,
    sizeof(issue_result_fields) / sizeof(issue_result_fields[0])};

static const esg_field metadata_result_fields[] = {
    {"configuration_json", offsetof(esp_metadata_result, configuration_json), ESG_F_STR, 1, 0,
     NULL},
};
const esg_shape esg_shape_metadata_result = {
    "esp_metadata_result", sizeof(esp_metadata_result), metadata_result_fields,
    sizeof(metadata_result_fields) / sizeof(metadata_result_fields[0])};

static const esg_field credential_data_request_fields[] = {
    {"configuration_id", offsetof(esp_credential_data_request, configuration_id), ESG_F_STR, 0, 0,
     NULL},
    {"scope", offsetof(esp_credential_data_request, scope), ESG_F_STR, 0, 0, NULL},
    {"subject", offsetof(esp_credential_data_request, subject), ESG_F_STR, 0, 0, NULL},
    {"client_id", offsetof(esp_credential_data_request, client_id), ESG_F_STR, 0, 0, NULL},
    {"token_claims_json", offsetof(esp_credential_data_request, token_claims_json), ESG_F_STR, 0, 0,
     NULL},
};
const esg_shape esg_shape_credential_data_request = {
    "esp_credential_data_request", sizeof(esp_credential_data_request),
    credential_data_request_fields,
    sizeof(credential_data_request_fields) / sizeof(credential_data_request_fields[0])};

static const esg_field credential_data_result_fields[] = {
    {"claims_json", offsetof(esp_credential_data_result, claims_json), ESG_F_STR, 1, 0, NULL},
};
const esg_shape esg_shape_credential_data_result = {
    "esp_credential_data_result", sizeof(esp_credential_data_result), credential_data_result_fields,
    sizeof(credential_data_result_fields) / sizeof(credential_data_result_fields[0])};

static const esg_field notify_request_fields[] = {
    {"channel", offsetof(esp_notify_request, channel), ESG_F_STR, 1, 0, NULL},
    {"destination", offsetof(esp_notify_request, destination), ESG_F_STR, 1, 0, NULL},
    {"otp", offsetof(esp_notify_request, otp), ESG_F_STR, 1, 0, NULL},
    {"expires_in", offsetof(esp_notify_request, expires_in), ESG_F_I64, 0, 0, NULL},
    {"locale", offsetof(esp_notify_request, locale), ESG_F_STR, 0, 0, NULL},
    {"client_name", offsetof(esp_notify_request, client_name), ESG_F_STR, 0, 0, NULL},
};
const esg_shape esg_shape_notify_request = {
    "esp_notify_request", sizeof(esp_notify_request), notify_request_fields,
    sizeof(notify_request_fields) / sizeof(notify_request_fields[0])};

static const esg_field kv_request_fields[] = {
    {"ns", offsetof(esp_kv_request, ns), ESG_F_STR, 1, 0, NULL},
    {"key", offsetof(esp_kv_request, key), ESG_F_STR, 1, 0, NULL},
    {"value", offsetof(esp_kv_request, value), ESG_F_STR, 0, 0, NULL},
    {"ttl_ms", offsetof(esp_kv_request, ttl_ms), ESG_F_I64, 0, 0, NULL},
    {"mode", offsetof(esp_kv_request, mode), ESG_F_U32, 0, 0, NULL},
    {"delta", offsetof(esp_kv_request, delta), ESG_F_I64, 0, 0, NULL},
};
const esg_shape esg_shape_kv_request = {"esp_kv_request", sizeof(esp_kv_request), kv_request_fields,
                                        sizeof(kv_request_fields) / sizeof(kv_request_fields[0])};

static const esg_field kv_result_fields[] = {
    {"value", offsetof(esp_kv_result, value), ESG_F_STR, 0, 0, NULL},
    {"ttl_ms", offsetof(esp_kv_result, ttl_ms), ESG_F_I64, 0, 0, NULL},
    {"count", offsetof(esp_kv_result, count), ESG_F_I64, 0, 0, NULL},
};
const esg_shape esg_shape_kv_result = {"esp_kv_result", sizeof(esp_kv_result), kv_result_fields,
                                       sizeof(kv_result_fields) / sizeof(kv_result_fields[0])};

static const esg_field rec_index_fields[] = {
    {"name", offsetof(esp_rec_index, name), ESG_F_STR, 1, 0, NULL},
    {"value", offsetof(esp_rec_index, value), ESG_F_STR, 0, 0, NULL},
    {"unique", offsetof(esp_rec_index, unique), ESG_F_U32, 0, 0, NULL},
};
const esg_shape esg_shape_rec_index = {"esp_rec_index", sizeof(esp_rec_index), rec_index_fields,
                                       sizeof(rec_index_fields) / sizeof(rec_index_fields[0])};

static const esg_field rec_request_fields[] = {
    {"collection", offsetof(esp_rec_request, collection), ESG_F_STR, 1, 0, NULL},
    {"key", offsetof(esp_rec_request, key), ESG_F_STR, 0, 0, NULL},
    {"doc_json", offsetof(esp_rec_request, doc_json), ESG_F_STR, 0, 0, NULL},
    {"mode", offsetof(esp_rec_request, mode), ESG_F_U32, 0, 0, NULL},
    {"indexes", offsetof(esp_rec_request, indexes), ESG_F_PTR_ARRAY, 0,
     offsetof(esp_rec_request, n_indexes), &esg_shape_rec_index},
    {"index_name", offsetof(esp_rec_request, index_name), ESG_F_STR, 0, 0, NULL},
    {"index_value", offsetof(esp_rec_request, index_value), ESG_F_STR, 0, 0, NULL},
    {"expires_at", offsetof(esp_rec_request, expires_at), ESG_F_I64, 0, 0, NULL},
};
const esg_shape esg_shape_rec_request = {
    "esp_rec_request", sizeof(esp_rec_request), rec_request_fields,
    sizeof(rec_request_fields) / sizeof(rec_request_fields[0])};

static const esg_field record_fields[] = {
    {"key", offsetof(esp_record, key), ESG_F_STR, 1, 0, NULL},
    {"doc_json", offsetof(esp_record, doc_json), ESG_F_STR, 1, 0, NULL},
    {"created_at", offsetof(esp_record, created_at), ESG_F_I64, 0, 0, NULL},
    {"updated_at", offsetof(esp_record, updated_at), ESG_F_I64, 0, 0, NULL},
    {"expires_at", offsetof(esp_record, expires_at), ESG_F_I64, 0, 0, NULL},
};
const esg_shape esg_shape_record = {"esp_record", sizeof(esp_record), record_fields,
                                    sizeof(record_fields) / sizeof(record_fields[0])};

static const esg_field rec_result_fields[] = {
    {"records", offsetof(esp_rec_result, records), ESG_F_PTR_ARRAY, 0,
     offsetof(esp_rec_result, n_records), &esg_shape_record},
};
const esg_shape esg_shape_rec_result = {"esp_rec_result", sizeof(esp_rec_result), rec_result_fields,
                                        sizeof(rec_result_fields) / sizeof(rec_result_fields[0])};
