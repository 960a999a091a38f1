/*
 * render.h - a schema model as text (render.c): one migration that builds
 * it, a Mermaid ER diagram, a Graphviz graph.
 */
#ifndef STRATA_RENDER_H
#define STRATA_RENDER_H

#include "ir.h"

/* Every table and enum of s as one migration (JSON text, caller frees):
 * create_enum, then create_table in foreign-key order; `raw` statements of
 * `raw_dialect` (may be NULL) become an sql op for that database only, and
 * then an explicit down that drops what the migration made. */
char *schema_migration_json(const schema *s, const char *description, const strvec *raw,
                            strata_dialect raw_dialect);
/* A Mermaid erDiagram of s (caller frees). */
char *schema_mermaid(const schema *s);
/* A Graphviz digraph of s, labelled `title` when not NULL (caller frees). */
char *schema_dot(const schema *s, const char *title);
/* s in format f; `title` is the JSON's description or the graph's label. */
char *schema_render(const schema *s, strata_schema_format f, const char *title);

#endif
