/*
 * opjson.h - operations and schema objects as migration-format JSON.
 */
#ifndef STRATA_OPJSON_H
#define STRATA_OPJSON_H

#include "ir.h"

json_t *column_json(const column *c, int in_pk);
json_t *index_json(const index_def *ix);
json_t *fk_json(const fk_def *fk);
/* A create_table operation that recreates t. */
json_t *table_json(const table *t);
/* Any operation. */
json_t *op_json(const op *o);

#endif
