/*
 * Copyright (c) 2026 The Bailey authors.  ISC licence, see LICENSE.
 *
 * replay: a main() for the fuzz targets when they are built with gcc (and
 * ASan/UBSan under SAN=1) instead of libFuzzer.  Runs in the test process
 * only, as the invoking user; trusts the corpus files no more than the
 * target does.  Each input is run in a forked child, so a crash names the
 * file that caused it and the rest still run.  Each input is copied into
 * an allocation of exactly its size, so a sanitizer sees every over-read.
 * Last line: "<name>: N passed, N failed".
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLAY_MAX_INPUT	(64 * 1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

struct replay_stats {
	unsigned long	passed;
	unsigned long	failed;
};

static int	replay_path(struct replay_stats *, const char *);

/* Runs one input in a child; 0 if the child exited 0. */
static int
replay_one(const char *label, const uint8_t *data, size_t len)
{
	pid_t	pid;
	int	status;
	uint8_t	*copy;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "replay: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Exactly len bytes (malloc(0) for the empty input). */
		if ((copy = malloc(len)) == NULL && len > 0) {
			_exit(71);
		}
		if (len > 0) {
			memcpy(copy, data, len);
		}
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
		exit(0);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "replay: waitpid: %s\n", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		return 0;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "replay: FAIL %s: killed by signal %d\n", label,
		    WTERMSIG(status));
	} else {
		fprintf(stderr, "replay: FAIL %s: exit status %d\n", label,
		    WEXITSTATUS(status));
	}
	return -1;
}

static void
replay_count(struct replay_stats *st, int r)
{
	if (r == 0) {
		st->passed++;
	} else {
		st->failed++;
	}
}

/* Reads a whole regular file into *data_r (caller frees). */
static int
replay_read(const char *path, uint8_t **data_r, size_t *len_r)
{
	struct stat	 sb;
	uint8_t		*data = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || sb.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: cannot stat or too large\n", path);
		goto out_close_fd;
	}
	if ((data = malloc((size_t)sb.st_size + 1)) == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		goto out_close_fd;
	}
	while (off < (size_t)sb.st_size) {
		n = read(fd, data + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "replay: %s: short read\n", path);
			free(data);
			goto out_close_fd;
		}
		off += (size_t)n;
	}
	*data_r = data;
	*len_r = off;
	ret = 0;
out_close_fd:
	close(fd);
	return ret;
}

static int
replay_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_dir(struct replay_stats *st, const char *dir)
{
	struct dirent	**ents;
	char		 *path;
	int		  i, n, ret = 0;

	if ((n = scandir(dir, &ents, NULL, replay_name_cmp)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) == -1) {
				ret = -1;
			} else {
				if (replay_path(st, path) == -1) {
					ret = -1;
				}
				free(path);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

/* A file is one input, a directory is walked; -1 if it cannot be read. */
static int
replay_path(struct replay_stats *st, const char *path)
{
	struct stat	 sb;
	uint8_t		*data;
	size_t		 len;

	if (stat(path, &sb) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		return replay_dir(st, path);
	}
	if (!S_ISREG(sb.st_mode)) {
		return 0;
	}
	if (replay_read(path, &data, &len) == -1) {
		return -1;
	}
	replay_count(st, replay_one(path, data, len));
	free(data);
	return 0;
}

/* Inputs every target must survive, whatever its corpus holds. */
static void
replay_builtin(struct replay_stats *st)
{
	static const uint8_t	bytes[] = { 0x00, '\n', '\r', 'a', ' ', 0xff };
	size_t			i;
	char			label[32];

	replay_count(st, replay_one("(builtin: empty)", bytes, 0));
	for (i = 0; i < sizeof(bytes); i++) {
		snprintf(label, sizeof(label), "(builtin: byte 0x%02x)",
		    bytes[i]);
		replay_count(st, replay_one(label, &bytes[i], 1));
	}
}

int
main(int argc, char **argv)
{
	struct replay_stats	 st = { 0, 0 };
	const char		*name;
	int			 i, bad_arg = 0;

	name = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file ...\n", name);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL) {
		LLVMFuzzerInitialize(&argc, &argv);
	}
	replay_builtin(&st);
	for (i = 1; i < argc; i++) {
		if (replay_path(&st, argv[i]) == -1) {
			bad_arg = 1;
		}
	}
	if (bad_arg) {
		st.failed++;
	}
	printf("%s: %lu passed, %lu failed\n", name, st.passed, st.failed);
	return st.failed == 0 ? 0 : 1;
}
