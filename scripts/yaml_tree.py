#!/usr/bin/env python3
"""Prints what PyYAML makes of YAML files, as one JSON line per file, for the differential test.

Usage: yaml_tree.py FILE...  (or file names on stdin, one a line, when no argument is given)

Each line is {"path", "documents": [...], "error": null | {"message", "offset", "stage"}}.
`documents` holds the documents PyYAML's safe loader yields before an error; `stage` says
whether the error is a syntax error ("syntax") or a value PyYAML cannot construct
("construct", e.g. an invalid date or a mapping used as a key). The loader is `CSafeLoader`
(libyaml, what Docker Compose v1 and most tools use); "loader" in the output says which one
ran. The pure-Python `SafeLoader` differs on one known shape: it refuses a tab after a plain
scalar (`kind: Service<TAB>`), which libyaml, Go's YAML readers and ours accept.

Values are written in the canonical form the Rust test also writes (tests/yaml_differential.rs):
null, booleans and strings as JSON; integers as JSON numbers while |n| < 2**53, else
"!!int <decimal>"; finite floats as JSON numbers, others "!!float .inf" / "-.inf" / ".nan";
dates and times "!!timestamp <isoformat>"; binary "!!binary <base64>". Mapping keys that are
not strings are written "<tag> <canonical>" (e.g. "!!int 8080", "!!null"), so the key `8080`
and the key `"8080"` stay apart.

Two deliberate departures from `safe_load`, both where it refuses what the deploying tools read:
unknown local tags (`!reset`, `!override`: Docker Compose's) are read as if the node had no tag,
and a plain `=` (YAML 1.1's `value` type, which SafeLoader cannot construct) is the string "=".
"""

import base64
import datetime
import json
import math
import sys

import yaml


class TreeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that reads unknown tags as untagged nodes (compose's `!reset`, `!override`)."""


def construct_untagged(loader, node):
    if isinstance(node, yaml.ScalarNode):
        plain = node.style in (None, "")  # libyaml writes "" for plain, PyYAML None
        tag = loader.resolve(yaml.ScalarNode, node.value, (plain, not plain))
        node = yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, style=node.style)
    elif isinstance(node, yaml.SequenceNode):
        node = yaml.SequenceNode(
            "tag:yaml.org,2002:seq", node.value, node.start_mark, node.end_mark, node.flow_style
        )
    else:
        node = yaml.MappingNode(
            "tag:yaml.org,2002:map", node.value, node.start_mark, node.end_mark, node.flow_style
        )
    return loader.construct_object(node, deep=True)


def is_local_tag(tag):
    return tag is not None and tag.startswith("!") and not tag.startswith("!!")


_base_construct_undefined = TreeLoader.construct_undefined


def construct_undefined(loader, node):
    if is_local_tag(node.tag):
        return construct_untagged(loader, node)
    return _base_construct_undefined(loader, node)


TreeLoader.add_constructor(None, construct_undefined)
TreeLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: node.value)

TAGS = {bool: "!!bool", int: "!!int", float: "!!float", type(None): "!!null"}


def canonical(value):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else f"!!int {value}"
    if isinstance(value, float):
        if math.isnan(value):
            return "!!float .nan"
        if math.isinf(value):
            return "!!float .inf" if value > 0 else "!!float -.inf"
        return value
    if isinstance(value, (datetime.datetime, datetime.date)):
        return f"!!timestamp {value.isoformat()}"
    if isinstance(value, bytes):
        return f"!!binary {base64.b64encode(value).decode()}"
    if isinstance(value, dict):
        return {canonical_key(k): canonical(v) for k, v in value.items()}
    if isinstance(value, set):
        return {canonical_key(k): None for k in value}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return f"!!python {type(value).__name__} {value!r}"


def canonical_key(key):
    if isinstance(key, str):
        return key
    value = canonical(key)
    if isinstance(value, str):  # already tagged: "!!int 1e20", "!!timestamp ..."
        return value
    tag = TAGS.get(type(key), "!!" + type(key).__name__)
    if value is None:
        return tag
    return f"{tag} {json.dumps(value)}"


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    documents, error = [], None
    try:
        # PyYAML decodes bytes itself (BOM, UTF-16), as it does when a tool passes a file.
        for doc in yaml.load_all(data, Loader=TreeLoader):
            documents.append(canonical(doc))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        stage = "construct" if isinstance(e, yaml.constructor.ConstructorError) else "syntax"
        error = {
            "message": f"{e.context or ''} {e.problem or ''}".strip(),
            "offset": mark.index if mark else None,
            "stage": stage,
        }
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        error = {"message": str(e), "offset": None, "stage": "construct"}
    return {"path": path, "documents": documents, "error": error, "loader": TreeLoader.__mro__[1].__name__}


def main():
    paths = sys.argv[1:] or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    out = sys.stdout
    for path in paths:
        out.write(json.dumps(load(path), ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
