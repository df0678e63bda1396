/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compiler.h - the attributes the library's code is marked with. */
#ifndef AT_COMPILER_H
#define AT_COMPILER_H

/* Exported from the shared object (the build hides everything else; the
 * version scripts then choose what is really exported). */
#define AT_EXPORT __attribute__((visibility("default")))

/* A parameter a function takes for the shape of its interface and does not
 * use, or uses on some architectures only (the build warns about any
 * other). */
#define AT_UNUSED __attribute__((unused))

#endif /* AT_COMPILER_H */
