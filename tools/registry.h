/* registry.h — the types collected by cmake/registry.cmake. */
#ifndef PK_TOOLS_REGISTRY_H
#define PK_TOOLS_REGISTRY_H

#include "cli.h"
#include "repro.h"

#endif
