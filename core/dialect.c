/*
 * dialect.c - the three dialects' names, and identifier and literal quoting
 * per dialect. Pure functions.
 *
 *   PostgreSQL, SQLite: "ident" with " doubled; 'text' with ' doubled
 *                       (standard_conforming_strings: backslash is literal).
 *   MySQL/MariaDB:      `ident` with ` doubled; 'text' with ' doubled and
 *                       backslash escaped, since backslash is an escape
 *                       character unless NO_BACKSLASH_ESCAPES is set.
 */
#include "dialect.h"

#include <string.h>

void quote_ident_into(sbuf *b, strata_dialect d, const char *name)
{
    char q = d == STRATA_MYSQL ? '`' : '"';
    sbuf_addc(b, q);
    for (const char *p = name; *p; p++) {
        if (*p == q)
            sbuf_addc(b, q);
        sbuf_addc(b, *p);
    }
    sbuf_addc(b, q);
}

void quote_ident_list_into(sbuf *b, strata_dialect d, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sbuf_add(b, ", ");
        quote_ident_into(b, d, names[i]);
    }
}

void params_into(sbuf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sbuf_add(b, i ? ", ?" : "?");
}

void insert_sql_into(sbuf *b, strata_dialect d, const char *table, const char *const *cols,
                     size_t ncols)
{
    sbuf_add(b, "INSERT INTO ");
    quote_ident_into(b, d, table);
    sbuf_add(b, " (");
    quote_ident_list_into(b, d, cols, ncols);
    sbuf_add(b, ") VALUES (");
    params_into(b, ncols);
    sbuf_addc(b, ')');
}

char *strata_quote_ident(strata_dialect d, const char *name)
{
    sbuf b = SBUF_INIT;
    quote_ident_into(&b, d, name);
    return sbuf_detach(&b);
}

void quote_literal_into(sbuf *b, strata_dialect d, const char *text, size_t len)
{
    sbuf_addc(b, '\'');
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\'')
            sbuf_addc(b, '\'');
        else if (d == STRATA_MYSQL && c == '\\')
            sbuf_addc(b, '\\');
        else if (d == STRATA_MYSQL && c == '\0') {
            sbuf_add(b, "\\0");
            continue;
        }
        sbuf_addc(b, c);
    }
    sbuf_addc(b, '\'');
}

char *strata_quote_literal(strata_dialect d, const char *text)
{
    sbuf b = SBUF_INIT;
    quote_literal_into(&b, d, text, strlen(text));
    return sbuf_detach(&b);
}

const char *strata_dialect_name(strata_dialect d)
{
    switch (d) {
    case STRATA_POSTGRES:
        return "postgres";
    case STRATA_MYSQL:
        return "mysql";
    case STRATA_SQLITE:
        return "sqlite";
    }
    return "?";
}

int strata_dialect_parse(const char *name)
{
    if (!name)
        return -1;
    if (str_ieq(name, "postgres") || str_ieq(name, "postgresql") || str_ieq(name, "pg"))
        return STRATA_POSTGRES;
    if (str_ieq(name, "mysql") || str_ieq(name, "mariadb"))
        return STRATA_MYSQL;
    if (str_ieq(name, "sqlite") || str_ieq(name, "sqlite3"))
        return STRATA_SQLITE;
    return -1;
}
