/*
 * fuzzutil.c - see fuzzutil.h.
 */
#include "fuzzutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch[PATH_MAX];

/* Remove the scratch directory and the plain files in it. */
static void scratch_cleanup(void)
{
    if (!scratch[0])
        return;
    DIR *d = opendir(scratch);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                continue;
            char p[PATH_MAX + 512];
            snprintf(p, sizeof p, "%s/%s", scratch, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(scratch);
}

const char *fuzz_scratch_dir(void)
{
    if (scratch[0])
        return scratch;
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || !*base)
        base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/strata-fuzz-XXXXXX", base);
    if (!mkdtemp(scratch)) {
        fprintf(stderr, "fuzz: mkdtemp %s: %s\n", scratch, strerror(errno));
        abort();
    }
    atexit(scratch_cleanup);
    return scratch;
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    static char path[PATH_MAX + 512];
    snprintf(path, sizeof path, "%s/%s", fuzz_scratch_dir(), name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "fuzz: open %s: %s\n", path, strerror(errno));
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "fuzz: write %s: %s\n", path, strerror(errno));
            abort();
        }
        off += (size_t)n;
    }
    close(fd);
    return path;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}
