#!/usr/bin/python3
"""validate.py SCHEMA LOG - check a SARIF log against a JSON schema with
Debian's python3-jsonschema (the validator the schema's "$schema" names,
formats checked). Prints every violation; exit 0 when there is none."""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        log = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    errors = list(cls(schema, format_checker=jsonschema.FormatChecker()).iter_errors(log))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) or "(root)", ":", e.message)
    print(f"{sys.argv[2]}: {len(errors)} violation(s) of {schema.get('title', sys.argv[1])}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
