/* Channel names and patterns. A name is 1..GL_CHAN_MAX bytes of [A-Za-z0-9_.:@=-]; a ':' splits
 * a namespace prefix ("chat:stream_abc" -> "chat") and no ':'-separated segment may be empty.
 * Patterns are globs ('*' any run of bytes, '?' one byte) used by config rules. */
#ifndef GL_CHAN_H
#define GL_CHAN_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

#define GL_CHAN_MAX 255

/* GL_OK if name is a valid channel name, else GL_EINVAL with a message naming the problem. */
int gl_chan_validate(const char *name, gl_err *err);

/* The namespace prefix of a valid name (bytes before the first ':') into out (cap bytes);
 * "" when the name has no ':' or the prefix does not fit. Returns the prefix length. */
size_t gl_chan_prefix(const char *name, char *out, size_t cap);

/* Glob match of name against pattern. Iterative, no recursion: O(len(pattern) * len(name)). */
bool gl_chan_match(const char *pattern, const char *name);

#endif
