#!/usr/bin/env python3
"""Validates the documents mxc_spec_dump prints against the OCI JSON schemas.

Also checks the validator itself against the schemas' own good/bad test
documents, so a broken setup cannot pass silently.
"""
import argparse
import json
import pathlib
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("spec_schema: python3 module jsonschema is missing (apt-get install python3-jsonschema)")
    sys.exit(1)


def make_validator(schema_dir, name):
    """A draft-4 validator for schema_dir/name resolving its relative $refs."""
    store = {}
    for path in schema_dir.glob("*.json"):
        doc = json.loads(path.read_text())
        store[path.resolve().as_uri()] = doc
    schema = store[(schema_dir / name).resolve().as_uri()]
    base = (schema_dir / name).resolve().as_uri()
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        registry = Registry().with_resources(
            (uri, Resource.from_contents(doc, default_specification=DRAFT4))
            for uri, doc in store.items())
        schema = dict(schema, id=base)
        return jsonschema.Draft4Validator(schema, registry=registry)
    except ImportError:  # jsonschema < 4.18
        resolver = jsonschema.RefResolver(base_uri=base, referrer=schema, store=store)
        return jsonschema.Draft4Validator(schema, resolver=resolver)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump", required=True)
    parser.add_argument("--schemas", required=True)
    args = parser.parse_args()
    schema_dir = pathlib.Path(args.schemas)
    if not (schema_dir / "config-schema.json").is_file():
        print(f"spec_schema: OCI schemas not found in {schema_dir}")
        return 1

    passed = failed = 0

    def check(label, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {label}: {detail}")

    validators = {name: make_validator(schema_dir, name)
                  for name in ("config-schema.json", "state-schema.json", "features-schema.json")}

    # The validator must agree with the schemas' own test documents.
    for kind, schema in (("config", "config-schema.json"), ("state", "state-schema.json"),
                         ("features", "features-schema.json")):
        for expect_ok in (True, False):
            folder = schema_dir / "test" / kind / ("good" if expect_ok else "bad")
            for doc_path in sorted(folder.glob("*.json")):
                try:
                    errors = list(validators[schema].iter_errors(json.loads(doc_path.read_text())))
                except json.JSONDecodeError as e:
                    errors = [e]
                check(f"{kind}/{doc_path.parent.name}/{doc_path.name}",
                      (not errors) == expect_ok, errors[0] if errors else "accepted")

    for what, schema in (("features", "features-schema.json"),
                         ("state-running", "state-schema.json"),
                         ("state-stopped", "state-schema.json"),
                         ("spec", "config-schema.json"),
                         ("spec-rootless", "config-schema.json")):
        run = subprocess.run([args.dump, what], capture_output=True, text=True)
        if run.returncode != 0:
            check(what, False, run.stderr.strip())
            continue
        errors = list(validators[schema].iter_errors(json.loads(run.stdout)))
        check(f"mxc_spec_dump {what} vs {schema}", not errors,
              "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:3]))

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
