#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-json.py SCHEMA DEFINITION < OUTPUT: whether OUTPUT, what
# vfioctl-client --json printed, is one JSON object of the shape that
# SCHEMA's $defs/DEFINITION gives (each line one, for monitor-event), and
# whether it fits the schema as a whole. Says why not on stderr, exits 1.
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
definition = sys.argv[2]
text = sys.stdin.read()
documents = text.splitlines() if definition == "monitor-event" else [text]
if not documents:
    print(f"not a {definition}: no output", file=sys.stderr)
    sys.exit(1)
whole = jsonschema.Draft202012Validator(schema)
part_schema = {key: value for key, value in schema.items() if key != "oneOf"}
part_schema["$ref"] = "#/$defs/" + definition
part = jsonschema.Draft202012Validator(part_schema)
try:
    for document in documents:
        value = json.loads(document)
        part.validate(value)
        whole.validate(value)
except (ValueError, jsonschema.ValidationError) as e:
    print(f"not a {definition}: {e}\n{text}", file=sys.stderr)
    sys.exit(1)
