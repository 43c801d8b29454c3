/* Strict JSON input for everything that comes from the network. cJSON alone accepts trailing
 * bytes after the value and strings that are not UTF-8; both would end up stored and sent on
 * to WebSocket clients, which must close on invalid UTF-8 (RFC 6455 8.1). */
#ifndef GL_JSON_H
#define GL_JSON_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether buf[0..len) is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF). */
bool gl_utf8_valid(const char *buf, size_t len);

/* Parse exactly one JSON value from buf[0..len) (whitespace around it allowed). Returns the
 * value (cJSON_Delete), or NULL with GL_EINVAL and a message naming the problem. */
cJSON *gl_json_parse(const char *buf, size_t len, gl_err *err);

#endif
