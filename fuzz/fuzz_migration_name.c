/*
 * fuzz_migration_name.c - libFuzzer target for reading a migrations
 * directory (migrations_load_dir): which file names are migrations, which
 * are misnamed migrations (an error naming the file), which are ignored.
 *
 * The input is a file name ('/' and NUL, which no name can hold, become
 * '_'; at most 255 bytes). A valid migration is written under that name in
 * an otherwise empty directory, which is then loaded. A name that
 * migration_filename_valid() accepts must load as exactly one migration.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzzutil.h"
#include "migration.h"
#include "strata.h"

static const char *body = "{\"up\": [{\"op\": \"sql\", \"all\": \"SELECT 1\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[4096];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/migrations", fuzz_scratch_dir());
        if (mkdir(dir, 0700) != 0)
            abort();
    }
    if (size == 0 || size > 255)
        return 0;
    char name[256];
    for (size_t i = 0; i < size; i++)
        name[i] = data[i] == '/' || data[i] == '\0' ? '_' : (char)data[i];
    name[size] = '\0';
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fputs(body, f);
    fclose(f);

    migration_set set;
    int rc = migrations_load_dir(dir, &set);
    if (rc == 0) {
        if (migration_filename_valid(name) && set.n != 1)
            abort(); /* a valid name that did not load */
        migration_set_free(&set);
    }
    (void)strata_error_message();
    strata_error_clear();
    unlink(path);
    return 0;
}
