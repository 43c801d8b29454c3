/* The version string (version.h). The Makefile passes GL_VERSION from the VERSION file. */
#include "version.h"

#ifndef GL_VERSION
#define GL_VERSION "unknown"
#endif

const char gl_version[] = GL_VERSION;
