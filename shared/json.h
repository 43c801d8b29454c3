/* Strict JSON input for everything that comes from the network, parsed by our own reader into
 * cJSON trees. cJSON's parser accepts bytes after the value, control characters and non-UTF-8 in
 * strings, leading zeros; keeps duplicate keys; cuts strings at \u0000 and turns every number into
 * a double. Here all of that is refused, and the members a caller names are kept as their exact
 * bytes (cJSON Raw nodes), so that a client's data is stored and delivered as it was written. */
#ifndef GL_JSON_H
#define GL_JSON_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define GL_JSON_DEPTH_MAX 64 /* deepest nesting of arrays and objects accepted */

/* Whether buf[0..len) is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF). */
bool gl_utf8_valid(const char *buf, size_t len);

/* Parse exactly one JSON value (RFC 8259) from buf[0..len), whitespace around it allowed, nested
 * at most GL_JSON_DEPTH_MAX deep. Refused with GL_EINVAL and a message naming the problem: invalid
 * UTF-8 or JSON, bytes after the value, a string or key holding U+0000 ("channel must not contain
 * NUL"), a key repeated in one object ("duplicate key \"sub\"").
 * A member whose key is listed in raw (NULL-terminated; NULL for none), at any depth, is checked
 * but not parsed further: it becomes a Raw node whose valuestring is the value's exact text
 * (NUL escapes and repeated keys inside it are kept as written). Returns the value (cJSON_Delete),
 * or NULL. buf needs no NUL after it. */
cJSON *gl_json_parse(const char *buf, size_t len, const char *const *raw, gl_err *err);

/* For an error reply only: gl_json_parse letting NUL (a string is then cut at it) and repeated
 * keys (cJSON_Get* finds the first) through, so that the refusal of such a message can still echo
 * its id. Never act on what it returns. */
cJSON *gl_json_parse_lenient(const char *buf, size_t len, const char *const *raw);

/* gl_json_parse with another bound on nesting: for a message that wraps values which were
 * checked against GL_JSON_DEPTH_MAX on their own (the wire's events). */
cJSON *gl_json_parse_depth(const char *buf, size_t len, const char *const *raw, int max_depth,
                           gl_err *err);

/* Check one JSON value as gl_json_parse does, but keep all of it as written: a Raw node holding
 * the value's text without the whitespace around it (cJSON_Delete), or NULL. */
cJSON *gl_json_parse_raw(const char *buf, size_t len, gl_err *err);

/* The exact text of obj's member name when it was kept raw, or NULL (absent, or not raw). */
const char *gl_json_raw(const cJSON *obj, const char *name);

/* Whether the raw text of a value is a JSON object (its first byte is '{'). */
bool gl_json_raw_is_object(const char *raw);

/* Add the integer v to obj as name, printed exactly: cJSON prints numbers with 15 significant
 * digits, so ids and counts past 10^15 would come out rounded. Returns the item, or NULL when
 * out of memory. */
cJSON *gl_json_add_int(cJSON *obj, const char *name, int64_t v);

/* The same as a new item (for arrays), or NULL when out of memory. */
cJSON *gl_json_int(int64_t v);

/* The n NUL-terminated strings stored in elem-byte slots from slots (a role list, blocked terms)
 * as a new JSON array, or NULL when out of memory. */
cJSON *gl_json_strings(const char *slots, size_t elem, size_t n);

#endif
