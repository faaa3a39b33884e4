#ifndef CNGHTTP2_SHIM_H
#define CNGHTTP2_SHIM_H
#include <nghttp2/nghttp2.h>
/* NGHTTP2_VERSION_NUM is 0xMMmmpp, e.g. 0x013400 for 1.52.0. */
static inline int cnghttp2_version_num(void) { return NGHTTP2_VERSION_NUM; }
#endif
