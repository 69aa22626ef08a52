/*
 * Fuzz target: compact JWE parsing and decryption with a fixed RSA key (RFC 7516 A.1). The first
 * input byte chooses between the full path (RSA-OAEP unwrap, then content) and content decryption
 * with a fixed CEK, which lets the fuzzer explore GCM and CBC-HMAC handling without paying for
 * an RSA operation on every input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwe.h"
#include "jose/jwk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rsa_jwk[] =
    "{\"kty\":\"RSA\","
    "\"n\":\"oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-"
    "BVvxkeDNjbC4he8rUWcJoZmds2h7M70imEVhRU5djINXtql"
    "lXI4DFqcI1DgjT9LewND8MW2Krf3Spsk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2asbOenS"
    "ZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMStPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9k"
    "nDFGzKsNa7LZK2djYgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw\","
    "\"e\":\"AQAB\","
    "\"d\":\"kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-"
    "WY5NWV5KntaEeXS1j82E375xxhWMHXyvj"
    "YecPT9fpwR_M9gV8n9Hrh2anTpTD93Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghkqDp0Vqj"
    "3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vlt3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4O"
    "Jr0h-K-VFs3VSndVTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ\","
    "\"p\":\"1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-"
    "SWxkbkmoEzL7JXroSBjSrK3YIQgYd"
    "MgyAEPTPjXv_hI2_1eTSPVZfzL0lffNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0\","
    "\"q\":\"wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBmUDdaDYVTSNx_"
    "8Fyw1YYa9XGrGnDew"
    "00J28cRUoeBB_jKI1oma0Orv1T9aXIWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc\","
    "\"dp\":\"ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KLhMXvo-uz-KUJWDxS5pFQ_"
    "M0evdo1d"
    "KiRTjVw_x4NyqyXPM5nULPkcpU827rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE\","
    "\"dq\":"
    "\"Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCjywcMlYYg4yoC4YZa9hNVcsjqA3Fei"
    "L19rk8g6Qn29Tt0cj8qqyFpz9vNDBUfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis\","
    "\"qi\":\"VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-"
    "ZW1FxU7AlWAyLWybqq6t16VFd7hQd0y6flUK"
    "4SlOydB61gwanOsXGOAOv82cHq0E3eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY\"}";

static esg_jwk *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t cek[ESG_JWE_MAX_CEK] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    if (key == NULL &&
        esg_jwk_import_json(rsa_jwk, strlen(rsa_jwk), ESG_JWK_REQUIRE_PRIVATE, &key, NULL) != 0)
        abort();
    if (size == 0)
        return 0;
    int full = data[0] & 1;
    const char *tok = (const char *)data + 1;
    size_t len = size - 1;
    esg_jwe_opts o = {ESG_JWE_ALG_BIT(ESG_JWE_RSA_OAEP) | ESG_JWE_ALG_BIT(ESG_JWE_RSA_OAEP_256),
                      ESG_JWE_ENC_BIT(ESG_JWE_A128GCM) | ESG_JWE_ENC_BIT(ESG_JWE_A256GCM) |
                          ESG_JWE_ENC_BIT(ESG_JWE_A128CBC_HS256) |
                          ESG_JWE_ENC_BIT(ESG_JWE_A256CBC_HS512),
                      NULL, 0, 0};
    esg_buf out = ESG_BUF_INIT;
    if (full) {
        json_t *hdr = NULL;
        esg_jwe_decrypt(tok, len, esg_jwk_pkey(key), &o, &out, &hdr, NULL);
        json_decref(hdr);
    } else {
        esg_jwe j;
        if (esg_jwe_parse(tok, len, &o, &j, NULL) == 0) {
            esg_jwe_decrypt_content(&j, cek, esg_jwe_enc_key_len(j.enc), &out, NULL);
            esg_jwe_clear(&j);
        }
    }
    esg_buf_free_secret(&out);
    return 0;
}
