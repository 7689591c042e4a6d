#!/usr/bin/env python3
"""Validates Breakwater envelopes against the published JSON Schemas in proto/.

Usage: validate_proto.py PROTO_DIR [MESSAGES_DIR ...]

An independent check, in another language, that what the Swift encoder writes is what
proto/ promises. Every schema in PROTO_DIR is checked against the draft 2020-12
metaschema and put into one `referencing` registry under its `$id`, so `$ref`s between
files resolve without any network access. Then every `*.json` file in
PROTO_DIR/examples (the golden examples) and in each MESSAGES_DIR is validated against
PROTO_DIR/<type>.schema.json, where <type> is the envelope's own "type".

Prints one line per failure, `FAIL <file>: <where>: <what>`, then one summary line.
Exit status: 0 when everything is valid, 1 when anything is not, 2 on a usage error.
Needs the PyPI packages jsonschema and referencing (see .ci/requirements-test.txt).
"""

import json
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_SUFFIX = ".schema.json"
# Schemas that are not message types.
SHARED_SCHEMAS = {"common", "envelope"}


def where(error):
    """A readable location of a validation error inside the instance."""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return "$" + path


def load_json(path):
    with open(path, "rb") as handle:
        return json.loads(handle.read().decode("utf-8"))


class Checker:
    def __init__(self, proto_dir):
        self.proto_dir = proto_dir
        self.failures = []  # (file, where, what)
        self.failed_files = set()
        self.validators = {}  # type name -> validator
        self.schema_count = 0
        self._load_schemas()

    def fail(self, file, location, message):
        self.failures.append((str(file), location, message))
        self.failed_files.add(str(file))

    def _load_schemas(self):
        resources = []
        schemas = {}
        for path in sorted(self.proto_dir.glob("*" + SCHEMA_SUFFIX)):
            name = path.name[: -len(SCHEMA_SUFFIX)]
            try:
                schema = load_json(path)
                Draft202012Validator.check_schema(schema)
            except (ValueError, UnicodeDecodeError) as error:
                self.fail(path, "$", f"not JSON: {error}")
                continue
            except SchemaError as error:
                self.fail(path, "$" + "".join(f".{p}" for p in error.absolute_path), f"not a valid schema: {error.message}")
                continue
            schema_id = schema.get("$id", "")
            if not schema_id.endswith("/" + path.name):
                self.fail(path, "$.$id", f"$id {schema_id!r} does not end with /{path.name}")
                continue
            if name not in SHARED_SCHEMAS:
                const = schema.get("properties", {}).get("type", {}).get("const")
                if const != name:
                    self.fail(path, "$.properties.type.const", f"is {const!r}, expected {name!r} (the file name)")
            resources.append((schema_id, Resource.from_contents(schema, default_specification=DRAFT202012)))
            schemas[name] = schema
            self.schema_count += 1
        registry = Registry().with_resources(resources)
        for name, schema in schemas.items():
            if name not in SHARED_SCHEMAS:
                self.validators[name] = Draft202012Validator(schema, registry=registry)
        if "envelope" not in schemas or "common" not in schemas:
            self.fail(self.proto_dir, "$", "envelope.schema.json and common.schema.json are required")

    def check_file(self, path, expected_type=None):
        try:
            message = load_json(path)
        except (ValueError, UnicodeDecodeError) as error:
            self.fail(path, "$", f"not JSON: {error}")
            return
        if not isinstance(message, dict):
            self.fail(path, "$", "an envelope is a JSON object")
            return
        type_name = message.get("type")
        if not isinstance(type_name, str):
            self.fail(path, "$.type", f"must be a string naming the message type, found {type_name!r}")
            return
        if expected_type is not None and type_name != expected_type:
            self.fail(path, "$.type", f"is {type_name!r}, but the example file is named after {expected_type!r}")
        validator = self.validators.get(type_name)
        if validator is None:
            self.fail(path, "$.type", f"no schema {type_name}{SCHEMA_SUFFIX} in {self.proto_dir}")
            return
        try:
            errors = sorted(validator.iter_errors(message), key=lambda e: list(map(str, e.absolute_path)))
        except Exception as error:  # an unresolvable $ref, for one
            self.fail(path, "$", f"validator error: {type(error).__name__}: {error}")
            return
        for error in errors:
            self.fail(path, where(error), error.message)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    proto_dir = Path(argv[1])
    message_dirs = [Path(arg) for arg in argv[2:]]
    for directory in [proto_dir, *message_dirs]:
        if not directory.is_dir():
            print(f"validate_proto: {directory} is not a directory", file=sys.stderr)
            return 2

    checker = Checker(proto_dir)
    examples = sorted((proto_dir / "examples").glob("*.json"))
    for path in examples:
        checker.check_file(path, expected_type=path.name[: -len(".json")])
    example_types = {path.name[: -len(".json")] for path in examples}
    for type_name in sorted(set(checker.validators) - example_types):
        checker.fail(proto_dir / "examples", "$", f"no golden example {type_name}.json for {type_name}{SCHEMA_SUFFIX}")

    message_count = 0
    for directory in message_dirs:
        for path in sorted(directory.glob("*.json")):
            message_count += 1
            checker.check_file(path)

    for file, location, message in checker.failures:
        print(f"FAIL {file}: {location}: {message}")
    status = "FAILED" if checker.failures else "OK"
    print(
        f"validate_proto {status}: {checker.schema_count} schemas, {len(examples)} examples, "
        f"{message_count} messages; {len(checker.failed_files)} invalid files, {len(checker.failures)} errors"
    )
    return 1 if checker.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
