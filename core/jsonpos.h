/*
 * jsonpos.h - where a JSON path ("up[3].columns[2]", as the parser's error
 * messages write them) starts in a JSON text: its line and column, for
 * messages and for SARIF regions that point at the right line of a file.
 */
#ifndef STRATA_JSONPOS_H
#define STRATA_JSONPOS_H

/* Find the value at `path` in `text` (the whole document for ""). Sets
 * *line and *column (1-based; the column counts bytes) and returns 1, or
 * returns 0 when the text has no such value or is not valid JSON there. */
int json_path_position(const char *text, const char *path, int *line, int *column);

#endif
