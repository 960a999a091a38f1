/*
 * progress.c - the progress line on stderr while seed, check and
 * migrations work. On a terminal it is one line, rewritten in place and
 * cleared before anything else is printed; on a pipe or a file (only with
 * --progress) each update is a line of its own, so logs stay readable.
 * Results go to stdout and are never mixed with it.
 */
#include "cli.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

static int terminal = -1; /* is stderr a terminal? (-1: not asked yet) */
static int line_shown;    /* a line on the terminal that is not ended */

static int is_terminal(void)
{
    if (terminal < 0)
        terminal = isatty(STDERR_FILENO);
    return terminal;
}

int cli_progress_enabled(const cli_opts *o)
{
    if (o->progress >= 0)
        return o->progress;
    return is_terminal() && !o->json;
}

void cli_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (is_terminal()) {
        fputc('\r', stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\033[K", stderr);
        line_shown = 1;
    } else {
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
    fflush(stderr);
}

void cli_progress_keep(void)
{
    if (line_shown)
        fputc('\n', stderr);
    line_shown = 0;
}

void cli_progress_clear(void)
{
    if (line_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    line_shown = 0;
}

/* "migrating 3 of 82: <id>" as each migration starts; gone once the last
 * is done (the log says what was applied). */
void cli_progress_migration(const strata_migration_progress *p, void *payload)
{
    (void)payload;
    if (!p->done)
        cli_progress("%s %zu of %zu: %s (%.1f s)", p->down ? "reverting" : "migrating", p->number,
                     p->total, p->id, p->seconds);
    else if (p->number == p->total)
        cli_progress_clear();
}

/* "seed: table 3 of 12, product: 120000 rows (48000 rows/s)" while a table
 * loads; a terminal keeps the line of a table that took long enough to
 * show one, elsewhere every table's last count is a line. */
void cli_progress_seed(const strata_seed_progress *p, void *payload)
{
    (void)payload;
    if (p->done && is_terminal() && !line_shown)
        return;
    cli_progress("seed: table %zu of %zu, %s: %lld rows (%.0f rows/s)%s", p->tables_done + 1,
                 p->tables_total, p->table, p->rows, p->rows_per_second, p->done ? ", done" : "");
    if (p->done)
        cli_progress_keep();
}

/* The check's databases and how far each has come. */
typedef struct check_state {
    char labels[16][32];
    size_t done[16], total[16];
    size_t n;
} check_state;

/* "check: postgres 3/7, mysql 2/7, sqlite 7/7 (4.2 s)" on a terminal;
 * elsewhere "check: mysql: apply all migrations: ok (2 of 7, 4.2 s)". */
void cli_progress_check(const strata_check_progress *p, void *payload)
{
    static check_state state;
    (void)payload;
    if (!is_terminal()) {
        cli_progress("check: %s: %s: %s (%zu of %zu, %.1f s)", p->database, p->step,
                     p->ok ? "ok" : "FAILED", p->steps_done, p->steps_total, p->seconds);
        return;
    }
    size_t k = 0;
    while (k < state.n && strcmp(state.labels[k], p->database) != 0)
        k++;
    if (k == state.n && state.n < 16)
        snprintf(state.labels[state.n++], sizeof state.labels[0], "%s", p->database);
    if (k < state.n) {
        state.done[k] = p->steps_done;
        state.total[k] = p->steps_total;
    }
    char line[512] = "";
    for (size_t i = 0; i < state.n; i++)
        snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s %zu/%zu", i ? ", " : "",
                 state.labels[i], state.done[i], state.total[i]);
    cli_progress("check: %s (%.1f s)", line, p->seconds);
}

/* "fleet: 120 done (1 failed), 4 running, 75 pending (12.3 s)" on a
 * terminal; elsewhere a line as each database ends: "fleet: tenant_3: ok,
 * 82 migrations (3.2 s; 120 of 200 done)". */
void cli_progress_fleet(const strata_fleet_progress *p, void *payload)
{
    (void)payload;
    if (!is_terminal()) {
        if (p->status == STRATA_TARGET_RUNNING)
            return;
        cli_progress("fleet: %s: %s, %zu migration%s (%.1f s; %zu of %zu done)", p->target,
                     strata_target_status_name(p->status), p->result->migrations,
                     p->result->migrations == 1 ? "" : "s", p->result->seconds, p->done, p->total);
        return;
    }
    char failed[48] = "";
    if (p->failed)
        snprintf(failed, sizeof failed, " (%zu failed)", p->failed);
    cli_progress("fleet: %zu done%s, %zu running, %zu pending (%.1f s)", p->done, failed,
                 p->running, p->pending, p->seconds);
}
