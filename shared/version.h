/* GoLive's version (the VERSION file at the top of the tree, built into shared/version.c): what
 * --version, the log's first line, rpc stats and the metrics say. */
#ifndef GL_VERSION_H
#define GL_VERSION_H

extern const char gl_version[];

#endif
