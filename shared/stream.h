/* Streaming names and secrets: the public stream name (which is also the HLS path and the chat
 * channel chat:stream_<name>) and the secret stream key a broadcaster's encoder presents. */
#ifndef GL_STREAM_H
#define GL_STREAM_H

#include "err.h"
#include "sha256.h"

#include <stdbool.h>
#include <stddef.h>

#define GL_STREAM_NAME_MAX 48      /* bytes, without the NUL */
#define GL_STREAM_KEY_PREFIX "sk_" /* tells a key from a stream name at a glance */
#define GL_STREAM_KEY_RANDOM 32    /* bytes from the OS CSPRNG */
#define GL_STREAM_KEY_LEN (3 + 2 * GL_STREAM_KEY_RANDOM) /* "sk_" + hex */
#define GL_STREAM_CHANNEL_PREFIX "chat:stream_"
#define GL_STREAM_CHANNEL_MAX (sizeof(GL_STREAM_CHANNEL_PREFIX) + GL_STREAM_NAME_MAX)

/* name is 1..48 of [a-z0-9_-] and does not look like a key ("sk_..."). GL_OK or GL_EINVAL
 * with a message that says which rule failed. */
int gl_stream_name_check(const char *name, gl_err *err);

/* The stream's chat channel, "chat:stream_<name>", into out. */
void gl_stream_channel(const char *name, char out[GL_STREAM_CHANNEL_MAX]);

/* The stream name of a chat channel, or NULL when channel is not a stream's. */
const char *gl_stream_of_channel(const char *channel);

/* A new secret key ("sk_" + 64 hex digits) from getrandom(2). GL_OK, or GL_EINTERNAL when the
 * kernel will not give randomness (logged). */
int gl_stream_key_new(char out[GL_STREAM_KEY_LEN + 1], gl_err *err);

/* s has a key's shape: the prefix and 64 lowercase hex digits. */
bool gl_stream_key_shape(const char *s);

/* What the database stores for a key: its SHA-256 in hex. Keys carry 256 random bits, so a
 * fast unsalted digest is enough: there is nothing to guess or precompute. */
void gl_stream_key_hash(const char *key, char out[GL_SHA256_HEX]);

#endif
