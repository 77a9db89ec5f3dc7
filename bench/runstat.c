// SPDX-License-Identifier: GPL-2.0
/*
 * runstat: run a command, report its wall time, CPU time and peak RSS.
 *
 *   runstat [-t TIMEOUT_S] COMMAND [ARGS...]
 *
 * Prints "runstat: status=S seconds=T cpu_seconds=C maxrss_kib=K minflt=F"
 * on stderr after the command ends: wall time, user + system CPU time
 * (which other load on the machine barely changes), peak RSS, and the
 * minor page faults (pages first touched: each is kernel time).  status is the exit
 * status, or 128+signal; 124 after TIMEOUT_S, when the command is killed.
 * The command inherits stdin, stdout and stderr.
 *
 * Why not Python's wait4(): ru_maxrss includes the RSS the process had
 * before execve(), i.e. the whole Python interpreter the child was forked
 * from.  Forked from this small program, the command starts near nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	kill(child, SIGKILL);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	double timeout = 0, secs;
	int status, i = 1, code;

	if (argc > 3 && !strcmp(argv[1], "-t")) {
		timeout = atof(argv[2]);
		i = 3;
	}
	if (i >= argc) {
		fputs("usage: runstat [-t TIMEOUT_S] COMMAND [ARGS...]\n", stderr);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	child = fork();
	if (child < 0) {
		perror("runstat: fork");
		return 2;
	}
	if (!child) {
		execvp(argv[i], argv + i);
		fprintf(stderr, "runstat: %s: %s\n", argv[i], strerror(errno));
		_exit(127);
	}
	if (timeout > 0) {
		signal(SIGALRM, on_alarm);
		/* Whole seconds, rounded up: the limit is a safety net. */
		alarm((unsigned int)(timeout + 0.999));
	}
	while (wait4(child, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("runstat: wait4");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Killed by SIGKILL once the alarm could have fired: the timeout. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL &&
	    timeout > 0 && secs >= timeout)
		code = 124;
	else if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else
		code = 128 + WTERMSIG(status);
	fprintf(stderr, "runstat: status=%d seconds=%.6f cpu_seconds=%.6f maxrss_kib=%ld minflt=%ld\n",
		code, secs,
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		ru.ru_maxrss, ru.ru_minflt);
	return 0;
}
