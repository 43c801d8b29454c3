/* libFuzzer target for shared/config.c: any bytes as realtime.yaml. A parse either fails with a
 * NUL-terminated message or yields a config whose rules and namespaces resolve; nothing leaks. */
#include "fuzz.h"
#include "shared/acl.h"
#include "shared/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gl_config *cfg = NULL;
    gl_policy p;
    gl_err err;
    int rv;

    gl_err_clear(&err);
    rv = gl_config_parse((const char *)data, size, "fuzz.yaml", &cfg, &err);
    if (rv != GL_OK) {
        CHECK(cfg == NULL);
        CHECK(err.code == rv);
        CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
        return 0;
    }
    CHECK(cfg != NULL);
    // Every rule's pattern matches itself, so some rule (maybe an earlier one) must match it.
    for (size_t i = 0; i < cfg->n_channels; i++) {
        CHECK(gl_config_match(cfg, cfg->channels[i].pattern) != NULL);
        gl_policy_resolve(cfg, cfg->channels[i].pattern, NULL, &p);
    }
    for (size_t i = 0; i < cfg->n_namespaces; i++)
        CHECK(gl_config_namespace(cfg, cfg->namespaces[i].name) == &cfg->namespaces[i]);
    for (size_t i = 0; i < cfg->n_rpc_proxies; i++)
        CHECK(gl_config_rpc_proxy(cfg, cfg->rpc_proxies[i].method) == &cfg->rpc_proxies[i]);
    gl_policy_resolve(cfg, "chat:stream_abc", NULL, &p);
    gl_config_destroy(cfg);
    return 0;
}
