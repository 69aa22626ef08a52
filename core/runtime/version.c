#include "runtime/version.h"

#include <jansson.h>
#include <llhttp.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <uv.h>
#include <yaml.h>

#include <esignet/plugin.h>

const char *esg_version_text(void)
{
    static char text[512];
    if (text[0] == '\0') {
        snprintf(text, sizeof(text),
                 "esignetd %s (plugin ABI %d.%d; libuv %s, %s, jansson %s, libyaml %s, "
                 "llhttp %d.%d.%d, sqlite %s)",
                 ESG_VERSION, ESP_ABI_MAJOR, ESP_ABI_MINOR, uv_version_string(),
                 OpenSSL_version(OPENSSL_VERSION), jansson_version_str(), yaml_get_version_string(),
                 LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR, LLHTTP_VERSION_PATCH,
                 sqlite3_libversion());
    }
    return text;
}
