// SPDX-License-Identifier: GPL-2.0
/*
 * Reader for raw CPUID dumps (`cpuid -1 -r` format).  Strict on purpose:
 * a line that is not a CPU header, blank, or a complete register line is an
 * error naming that line, so a truncated or hand-edited dump is noticed
 * instead of silently decoding to fewer features.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cpuid_dump.h"

/* Longest excerpt of a bad line quoted in an error message. */
#define EXCERPT_MAX	60

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "0x" followed by 1 to 8 hex digits; returns the end, or NULL. */
static const char *parse_hex32(const char *p, __u32 *val)
{
	__u32 v = 0;
	int ndig = 0;

	if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
		return NULL;
	p += 2;
	while (isxdigit((unsigned char)*p)) {
		if (++ndig > 8)
			return NULL;
		v = v << 4 | (__u32)(isdigit((unsigned char)*p) ?
					*p - '0' : tolower((unsigned char)*p) - 'a' + 10);
		p++;
	}
	if (!ndig)
		return NULL;
	*val = v;
	return p;
}

/* "CPU:" or "CPU N:", alone on the line (surrounding blanks allowed). */
static bool is_cpu_header(const char *p)
{
	p = skip_blank(p);
	if (strncmp(p, "CPU", 3))
		return false;
	p += 3;
	if (*p == ' ') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p != ':')
		return false;
	return *skip_blank(p + 1) == '\0';
}

/*
 * "   0xLEAF 0xSUB: eax=0x... ebx=0x... ecx=0x... edx=0x...".  Returns NULL
 * on success or a description of the first thing that is wrong.
 */
static const char *parse_reg_line(const char *p, struct cpuid_leaf *e)
{
	static const char *const regname[4] = { "eax", "ebx", "ecx", "edx" };
	static const char *const regerr[4] = {
		"expected eax=0x<hex, at most 8 digits>",
		"expected ebx=0x<hex, at most 8 digits>",
		"expected ecx=0x<hex, at most 8 digits>",
		"expected edx=0x<hex, at most 8 digits>",
	};
	const char *q;
	int r;

	p = skip_blank(p);
	q = parse_hex32(p, &e->leaf);
	if (!q)
		return "expected a leaf number (0x<hex>, at most 8 digits)";
	if (*q != ' ' && *q != '\t')
		return "expected a blank and a sub-leaf number after the leaf number";
	p = skip_blank(q);
	q = parse_hex32(p, &e->subleaf);
	if (!q)
		return "expected a sub-leaf number (0x<hex>)";
	if (*q != ':')
		return "expected ':' after the sub-leaf number";
	p = q + 1;
	for (r = 0; r < 4; r++) {
		q = skip_blank(p);
		if (q == p)
			return regerr[r];
		p = q;
		if (strncmp(p, regname[r], 3) || p[3] != '=')
			return regerr[r];
		q = parse_hex32(p + 4, &e->regs[r]);
		if (!q)
			return regerr[r];
		p = q;
	}
	if (*skip_blank(p) != '\0')
		return "unexpected text after edx";
	return NULL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int push(struct cpuid_dump *d, const struct cpuid_leaf *e)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct cpuid_leaf *ne = realloc(d->e, cap * sizeof(*ne));

		if (!ne)
			return -1;
		d->e = ne;
		d->cap = cap;
	}
	d->e[d->n++] = *e;
	return 0;
}

const struct cpuid_leaf *cpuid_dump_find(const struct cpuid_dump *d,
					 __u32 leaf, __u32 subleaf)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->e[i].leaf == leaf && d->e[i].subleaf == subleaf)
			return &d->e[i];
	return NULL;
}

void cpuid_dump_free(struct cpuid_dump *d)
{
	free(d->e);
	d->e = NULL;
	d->n = 0;
	d->cap = 0;
}

int cpuid_dump_read(FILE *f, const char *name, struct cpuid_dump *d,
		    char *err, size_t errlen)
{
	const struct cpuid_leaf *dup;
	unsigned int lineno = 0;
	int headers = 0, ret = -1;
	struct cpuid_leaf e;
	char *line = NULL;
	size_t size = 0;
	const char *why;
	ssize_t len;

	memset(d, 0, sizeof(*d));
	errno = 0;
	while ((len = getline(&line, &size, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			set_err(err, errlen, "%s:%u: NUL byte: not a text file",
				name, lineno);
			goto out;
		}
		if (*skip_blank(line) == '\0')
			continue;
		if (is_cpu_header(line)) {
			/* Only the first CPU of a multi-CPU dump counts. */
			if (++headers > 1 || d->n)
				break;
			continue;
		}
		why = parse_reg_line(line, &e);
		if (why) {
			set_err(err, errlen,
				"%s:%u: malformed line (%s): \"%.*s%s\"",
				name, lineno, why, EXCERPT_MAX, line,
				len > EXCERPT_MAX ? "..." : "");
			goto out;
		}
		dup = cpuid_dump_find(d, e.leaf, e.subleaf);
		if (dup) {
			set_err(err, errlen,
				"%s:%u: leaf 0x%08x sub-leaf 0x%02x repeats line %u",
				name, lineno, e.leaf, e.subleaf, dup->line);
			goto out;
		}
		e.line = lineno;
		if (push(d, &e)) {
			set_err(err, errlen, "%s: out of memory", name);
			goto out;
		}
	}
	if (ferror(f)) {
		set_err(err, errlen, "%s: read error: %s", name,
			strerror(errno ? errno : EIO));
		goto out;
	}
	if (!d->n) {
		set_err(err, errlen, "%s: no CPUID register line (%u lines read)",
			name, lineno);
		goto out;
	}
	ret = 0;
out:
	free(line);
	if (ret)
		cpuid_dump_free(d);
	return ret;
}
