// SPDX-License-Identifier: GPL-2.0
/*
 * readfiles: open each file, fstat it, read it to its end, close it: the
 * system calls `pcmctl baseline FILE...` makes to read a pool, and nothing
 * else.  scripts/bench-pool runs it beside pcmctl to show what of
 * pcmctl's time is the kernel's share of reading 10,000 files.
 *
 *   readfiles FILE...
 *
 * Prints the number of bytes read; exit 1 if a file could not be read.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	unsigned long long total = 0;
	struct stat st;
	int i, fd, ret = 0;
	ssize_t n;

	for (i = 1; i < argc; i++) {
		fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			perror(argv[i]);
			ret = 1;
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += n;
		if (n < 0) {
			perror(argv[i]);
			ret = 1;
		}
		close(fd);
	}
	printf("%llu\n", total);
	return ret;
}
