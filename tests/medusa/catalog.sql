-- catalog.sql - a PostgreSQL database's schema as lines "kind|field|field...",
-- for compare_catalogs.py (scripts/medusa-e2e.sh). Run with psql -X -A -t -F'|'.
-- The current schema only; the history tables of Strata (strata_*) and of
-- TypeORM (migrations) are left out by the comparison, not here.
SELECT 'table', c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
 ORDER BY 2;
-- columns: type as format_type prints it, nullability, default expression
SELECT 'column', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END,
       coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY 2, 3;
-- primary keys, foreign keys, unique constraints and checks, with their definition
SELECT 'constraint', c.relname, k.contype, k.conname, pg_get_constraintdef(k.oid)
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema()
 ORDER BY 2, 3, 4;
-- indexes that are not a constraint's, with their definition (method,
-- columns, operator classes, predicate)
SELECT 'index', c.relname, i.relname,
       regexp_replace(pg_get_indexdef(i.oid), ' ON ' || current_schema() || '\.', ' ON ')
  FROM pg_index x
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema()
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype IN ('p', 'u', 'x'))
 ORDER BY 2, 3;
-- enum types with their labels in order
SELECT 'enum', t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
  FROM pg_type t
  JOIN pg_enum e ON e.enumtypid = t.oid
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = current_schema()
 GROUP BY t.typname
 ORDER BY 2;
SELECT 'sequence', c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind = 'S'
 ORDER BY 2;
SELECT 'extension', extname FROM pg_extension ORDER BY 2;
