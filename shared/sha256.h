/* SHA-256 (FIPS 180-4), for storing stream keys as digests and comparing secrets without
 * leaking their length or contents through timing. Self-contained: golive-api links no TLS
 * library, and one hash of a short string does not justify one. */
#ifndef GL_SHA256_H
#define GL_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GL_SHA256_LEN 32
#define GL_SHA256_HEX (GL_SHA256_LEN * 2 + 1)

void gl_sha256(const void *data, size_t len, uint8_t out[GL_SHA256_LEN]);

/* The digest of s as 64 lowercase hex digits and a NUL. */
void gl_sha256_hex(const char *s, char out[GL_SHA256_HEX]);

/* a == b, in time that depends on neither string's contents nor length. */
bool gl_secret_equal(const char *a, const char *b);

#endif
