#!/usr/bin/env python3
"""Validates probe JSON reports against data/schema/report.schema.json.

Usage: validate_report.py SCHEMA REPORT [REPORT ...]
Exit 0 when every report is valid; 1 with one line per error otherwise; 2 on usage errors.
"""
import json
import sys

try:
    import jsonschema
except ImportError:
    sys.stderr.write("validate_report: python3-jsonschema is not installed (scripts/install-deps.sh)\n")
    sys.exit(2)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    bad = 0
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in err.absolute_path) or "(top)"
            print(f"{path}: {where}: {err.message}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
