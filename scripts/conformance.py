#!/usr/bin/env python3
"""API conformance gate: checks requests against AWS's published API models.

    conformance.py check DIR       every request recorded under DIR (*.jsonl, written by the
                                   test proxy) against botocore's service models: required
                                   members, enum values, string/list/map lengths, blob sizes,
                                   patterns, numeric ranges, types and unknown members.
                                   Prints each violation (operation, member, constraint; never
                                   a value) and exits 1 if there is any.
    conformance.py limits FILE     secinfra's blueprint limits (JSON, from the test suite)
                                   against the same models: each min, max and pattern must be
                                   the model's.

Runs in the emulator venv, where botocore (pinned by scripts/emulator.sh) carries the models.
Requests are decoded from the wire as each protocol serialises them (EC2 and Query forms,
JSON with X-Amz-Target, REST-JSON, REST-XML); the SDK's own framing (target prefix, Action
and Version, x-id, signing headers) is not a member and is not checked.
"""

import binascii
import glob
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter

import botocore.loaders
import regex

# SigV4 signing name -> botocore service name.
SERVICES = {
    "monitoring": "cloudwatch",
    "tagging": "resourcegroupstaggingapi",
    "email": "ses",
}

_loader = botocore.loaders.Loader()
_models = {}


def model(service):
    name = SERVICES.get(service, service)
    if name not in _models:
        _models[name] = _loader.load_service_model(name, "service-2")
    return _models[name]


# Values the emulator issued that secinfra only sends back: their patterns are the
# emulator's business. (member shape name -> why)
ISSUED_BY_THE_EMULATOR = {
    "LockToken": "moto 5.2.5 issues WAF IP set lock tokens of 6 hex digits where AWS's are "
    "UUIDs; secinfra returns the token GetIPSet gave it (docs/emulators.md)",
}


class Violation(Exception):
    pass


class Checker:
    def __init__(self, model, operation):
        self.model = model
        self.shapes = model["shapes"]
        self.operation = operation
        self.violations = []

    def add(self, path, constraint):
        self.violations.append((path or "(input)", constraint))

    # ---- value checks -------------------------------------------------------------

    def check(self, shape_name, value, path):
        if value is None:
            return  # not decodable: already reported
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                return self.add(path, f"must be a structure ({shape_name})")
            members = shape.get("members", {})
            for required in shape.get("required", []):
                if required not in value:
                    self.add(join(path, required), "required member missing")
            for name, item in value.items():
                if name not in members:
                    self.add(join(path, name), f"unknown member of {shape_name}")
                    continue
                self.check(members[name]["shape"], item, join(path, name))
        elif kind == "list":
            if not isinstance(value, list):
                return self.add(path, "must be a list")
            self.length(shape, len(value), path, "items")
            for i, item in enumerate(value):
                self.check(shape["member"]["shape"], item, f"{path}[{i}]")
        elif kind == "map":
            if not isinstance(value, dict):
                return self.add(path, "must be a map")
            self.length(shape, len(value), path, "entries")
            for key, item in value.items():
                self.check(shape["key"]["shape"], key, f"{path}{{key}}")
                self.check(shape["value"]["shape"], item, f"{path}{{value}}")
        elif kind == "string":
            if not isinstance(value, str):
                return self.add(path, "must be a string")
            self.length(shape, len(value), path, "characters")
            if "enum" in shape and value not in shape["enum"]:
                self.add(path, f"not one of the {len(shape['enum'])} values of enum {shape_name}")
            pattern = shape.get("pattern")
            if shape_name in ISSUED_BY_THE_EMULATOR:
                pattern = None
            if pattern is not None and not matches(pattern, value):
                self.add(path, f"does not match pattern {pattern}")
        elif kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                return self.add(path, f"must be an {kind}")
            if "min" in shape and value < shape["min"]:
                self.add(path, f"below the minimum {shape['min']}")
            if "max" in shape and value > shape["max"]:
                self.add(path, f"above the maximum {shape['max']}")
        elif kind in ("double", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return self.add(path, f"must be a {kind}")
            if "min" in shape and value < shape["min"]:
                self.add(path, f"below the minimum {shape['min']}")
            if "max" in shape and value > shape["max"]:
                self.add(path, f"above the maximum {shape['max']}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.add(path, "must be a boolean")
        elif kind == "blob":
            size = len(value) if isinstance(value, (bytes, str)) else 0
            self.length(shape, size, path, "bytes")
        elif kind == "timestamp":
            pass

    def length(self, shape, size, path, unit):
        if "min" in shape and size < shape["min"]:
            self.add(path, f"{size} {unit}, below the minimum {shape['min']}")
        if "max" in shape and size > shape["max"]:
            self.add(path, f"{size} {unit}, above the maximum {shape['max']}")


def join(path, name):
    return f"{path}.{name}" if path else name


_patterns = {}


def matches(pattern, value):
    """AWS matches a member's pattern against the whole value."""
    compiled = _patterns.get(pattern)
    if compiled is None:
        compiled = _patterns[pattern] = regex.compile(pattern)
    return compiled.fullmatch(value) is not None


# ---- decoding the wire into members ---------------------------------------------------


def scalar(shape, text, path, checker):
    kind = shape["type"]
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("double", "float"):
            return float(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
        if kind == "blob":
            return binascii.a2b_base64(text)
    except (ValueError, binascii.Error):
        checker.add(path, f"not a valid {kind}")
        return None
    return text


def query_key(name, ref, ec2):
    if ec2:
        if "queryName" in ref:
            return ref["queryName"]
        location = ref.get("locationName", name)
        return location[:1].upper() + location[1:]
    return ref.get("locationName", name)


def decode_query(checker, shape_name, params, prefix, used, ec2):
    shape = checker.shapes[shape_name]
    kind = shape["type"]
    present = lambda key: key in params or any(k.startswith(key + ".") for k in params)
    if kind == "structure":
        out = {}
        for name, ref in shape.get("members", {}).items():
            key = join(prefix, query_key(name, ref, ec2))
            if present(key):
                out[name] = decode_query(checker, ref["shape"], params, key, used, ec2)
        return out
    if kind == "list":
        if key_is_empty(params, prefix, used):
            return []
        member = shape["member"]
        if ec2 or shape.get("flattened"):
            base = prefix
        else:
            base = join(prefix, member.get("locationName", "member"))
        items, n = [], 1
        while present(f"{base}.{n}"):
            items.append(decode_query(checker, member["shape"], params, f"{base}.{n}", used, ec2))
            n += 1
        return items
    if kind == "map":
        key_name = shape["key"].get("locationName", "key")
        value_name = shape["value"].get("locationName", "value")
        base = prefix if shape.get("flattened") else join(prefix, "entry")
        out, n = {}, 1
        while present(f"{base}.{n}"):
            key = decode_query(checker, shape["key"]["shape"], params, f"{base}.{n}.{key_name}", used, ec2)
            out[key] = decode_query(
                checker, shape["value"]["shape"], params, f"{base}.{n}.{value_name}", used, ec2
            )
            n += 1
        return out
    used.add(prefix)
    return scalar(shape, params.get(prefix, ""), prefix, checker)


def key_is_empty(params, key, used):
    if key in params and params[key] == "":
        used.add(key)
        return True
    return False


def decode_json_body(checker, shape_name, value, path, names):
    """JSON members: `names` picks the wire name of a member (awsJson: its name; REST-JSON:
    its locationName when it has one)."""
    shape = checker.shapes[shape_name]
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = shape.get("members", {})
        wire = {names(n, r): n for n, r in members.items() if "location" not in r}
        out = {}
        for key, item in value.items():
            name = wire.get(key)
            if name is None:
                out[key] = item  # reported as unknown by the check
                continue
            out[name] = decode_json_body(checker, members[name]["shape"], item, join(path, name), names)
        return out
    if kind == "list" and isinstance(value, list):
        return [decode_json_body(checker, shape["member"]["shape"], v, path, names) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: decode_json_body(checker, shape["value"]["shape"], v, path, names) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        try:
            return binascii.a2b_base64(value)
        except binascii.Error:
            checker.add(path, "not valid base64")
    return value


def decode_xml(checker, shape_name, element, path):
    shape = checker.shapes[shape_name]
    kind = shape["type"]
    if kind == "structure":
        members = shape.get("members", {})
        out = {}
        children = list(element)
        for name, ref in members.items():
            if ref.get("xmlAttribute"):
                continue
            sub = checker.shapes[ref["shape"]]
            wire = ref.get("locationName", name)
            if sub["type"] == "list" and sub.get("flattened"):
                wire = ref.get("locationName", sub["member"].get("locationName", name))
                found = [c for c in children if local(c.tag) == wire]
                if found:
                    out[name] = [decode_xml(checker, sub["member"]["shape"], c, join(path, name)) for c in found]
                continue
            found = [c for c in children if local(c.tag) == wire]
            if found:
                out[name] = decode_xml(checker, ref["shape"], found[0], join(path, name))
        known = set()
        for name, ref in members.items():
            sub = checker.shapes[ref["shape"]]
            known.add(ref.get("locationName", name))
            if sub["type"] == "list" and sub.get("flattened"):
                known.add(sub["member"].get("locationName", name))
        for child in children:
            if local(child.tag) not in known:
                checker.add(join(path, local(child.tag)), f"unknown element of {shape_name}")
        return out
    if kind == "list":
        member = shape["member"]
        wire = member.get("locationName", "member")
        for child in element:
            if local(child.tag) != wire:
                checker.add(join(path, local(child.tag)), f"unknown element of {shape_name}")
        return [decode_xml(checker, member["shape"], c, path) for c in element if local(c.tag) == wire]
    if kind == "map":
        out = {}
        for entry in element:
            key = next((c.text for c in entry if local(c.tag) == shape["key"].get("locationName", "key")), None)
            val = next((c for c in entry if local(c.tag) == shape["value"].get("locationName", "value")), None)
            if key is not None and val is not None:
                out[key] = decode_xml(checker, shape["value"]["shape"], val, path)
        return out
    return scalar(shape, element.text or "", path, checker)


def local(tag):
    return tag.split("}", 1)[-1]


def dechunk(body):
    """A `Transfer-Encoding: chunked` or `aws-chunked` body, without its framing."""
    out, rest = b"", body
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


def match_rest(m, method, path, query):
    """The REST operation whose method and URI template fit the request, with its labels.
    S3 requests name their operation in `x-id` where URIs alone are ambiguous; otherwise
    the most specific template wins, then one whose required query members are present,
    then one not deprecated."""
    named = query.get("x-id", [None])[0]
    if named in m["operations"]:
        op = m["operations"][named]
        template = op.get("http", {}).get("requestUri", "/").partition("?")[0]
        labels = fit(template, path)
        if op.get("http", {}).get("method") == method and labels is not None:
            return named, labels, []
    best = None
    for name, op in m["operations"].items():
        http = op.get("http", {})
        if http.get("method") != method:
            continue
        template, _, literal = http.get("requestUri", "/").partition("?")
        labels = fit(template, path)
        if labels is None:
            continue
        literal_keys = [kv.split("=")[0] for kv in literal.split("&") if kv]
        literal_pairs = [tuple(kv.split("=", 1)) for kv in literal.split("&") if "=" in kv]
        if any(k not in query for k in literal_keys):
            continue
        if any(query.get(k, [None])[0] != v for k, v in literal_pairs):
            continue
        shape = m["shapes"][op["input"]["shape"]] if "input" in op else {}
        required_query = [
            r.get("locationName", n)
            for n, r in shape.get("members", {}).items()
            if r.get("location") == "querystring" and n in shape.get("required", [])
        ]
        score = (
            len(literal_keys),
            template.count("/") - template.count("{"),
            all(q in query for q in required_query),
            not op.get("deprecated", False),
        )
        if best is None or score > best[0]:
            best = (score, name, labels, literal_keys)
    return best[1:] if best else None


def fit(template, path):
    parts = [p for p in template.split("/") if p != ""]
    actual = [urllib.parse.unquote(p) for p in path.split("/") if p != ""]
    labels = {}
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if i >= len(actual):
                return None
            labels[part[1:-2]] = "/".join(actual[i:])
            return labels
        if i >= len(actual):
            return None
        if part.startswith("{") and part.endswith("}"):
            labels[part[1:-1]] = actual[i]
        elif part != actual[i]:
            return None
    return labels if len(parts) == len(actual) else None


def decode_request(record):
    """(service, operation, checker, params) of one recorded request."""
    service = record["service"]
    m = model(service)
    headers = record["headers"]
    body = bytes.fromhex(record["body_hex"])
    if "chunked" in headers.get("transfer-encoding", "") or "aws-chunked" in headers.get(
        "content-encoding", ""
    ):
        body = dechunk(body)
    target = record["target"]
    path, _, raw_query = target.partition("?")
    query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
    content_type = headers.get("content-type", "")

    if content_type.startswith("application/x-www-form-urlencoded") or (
        record["method"] == "GET" and "Action" in query
    ):
        params = dict(urllib.parse.parse_qsl(body.decode() or raw_query, keep_blank_values=True))
        operation = params.pop("Action", "")
        params.pop("Version", None)
        op = m["operations"].get(operation)
        if op is None:
            raise Violation(f"{service}:{operation or '?'}: not an operation of the model")
        checker = Checker(m, operation)
        used = set()
        ec2 = m["metadata"]["protocol"] == "ec2"
        value = {}
        if "input" in op:
            value = decode_query(checker, op["input"]["shape"], params, "", used, ec2)
        for key in sorted(set(params) - used):
            checker.add(key, "unknown member (no such parameter in the model)")
        return service, operation, checker, value, op

    if "x-amz-target" in headers:
        operation = headers["x-amz-target"].rsplit(".", 1)[-1]
        op = m["operations"].get(operation)
        if op is None:
            raise Violation(f"{service}:{operation}: not an operation of the model")
        checker = Checker(m, operation)
        data = json.loads(body or b"{}")
        value = {}
        if "input" in op:
            value = decode_json_body(checker, op["input"]["shape"], data, "", lambda n, r: n)
        return service, operation, checker, value, op

    found = match_rest(m, record["method"], path, query)
    if found is None:
        raise Violation(f"{service}: {record['method']} {path}: no operation of the model has this method and URI")
    operation, labels, literal_keys = found
    op = m["operations"][operation]
    checker = Checker(m, operation)
    if "input" not in op:
        return service, operation, checker, {}, op
    shape = checker.shapes[op["input"]["shape"]]
    members = shape.get("members", {})
    value = {}
    query_members = {r.get("locationName", n): n for n, r in members.items() if r.get("location") == "querystring"}
    for name, ref in members.items():
        location = ref.get("location")
        wire = ref.get("locationName", name)
        sub = checker.shapes[ref["shape"]]
        if location == "uri" and wire in labels:
            value[name] = scalar(sub, labels[wire], name, checker)
        elif location == "header" and wire.lower() in headers:
            value[name] = scalar(sub, headers[wire.lower()], name, checker)
        elif location == "querystring" and wire in query:
            if sub["type"] == "list":
                value[name] = [scalar(checker.shapes[sub["member"]["shape"]], v, name, checker) for v in query[wire]]
            else:
                value[name] = scalar(sub, query[wire][0], name, checker)
    for key in query:
        if key not in query_members and key not in literal_keys and key != "x-id":
            checker.add(key, "unknown query parameter")
    payload = shape.get("payload")
    protocol = m["metadata"]["protocol"]
    if payload:
        ref = members[payload]
        sub = checker.shapes[ref["shape"]]
        if sub["type"] in ("blob", "string"):
            if body:
                value[payload] = body if sub["type"] == "blob" else body.decode()
        elif body:
            if protocol == "rest-xml":
                root = ET.fromstring(body)
                value[payload] = decode_xml(checker, ref["shape"], root, payload)
            else:
                value[payload] = decode_json_body(checker, ref["shape"], json.loads(body), payload, lambda n, r: r.get("locationName", n))
    elif body:
        if protocol == "rest-xml":
            root = ET.fromstring(body)
            value.update(decode_xml(checker, op["input"]["shape"], root, ""))
        else:
            value.update(
                decode_json_body(checker, op["input"]["shape"], json.loads(body), "", lambda n, r: r.get("locationName", n))
            )
    return service, operation, checker, value, op


def check_requests(directory):
    files = sorted(glob.glob(os.path.join(directory, "*.jsonl")))
    operations = Counter()
    violations = Counter()
    requests = 0
    for name in files:
        with open(name) as f:
            for line in f:
                if not line.strip():
                    continue
                record = json.loads(line)
                requests += 1
                try:
                    service, operation, checker, value, op = decode_request(record)
                except Violation as e:
                    violations[str(e)] += 1
                    continue
                except (ValueError, ET.ParseError, KeyError) as e:
                    violations[f"{record['service']}: request not readable ({type(e).__name__})"] += 1
                    continue
                operations[f"{service}:{operation}"] += 1
                if "input" in op:
                    checker.check(op["input"]["shape"], value, "")
                for path, constraint in checker.violations:
                    violations[f"{service}:{operation}: {path}: {constraint}"] += 1
    print(
        f"conformance: {requests} requests, {len(operations)} operations of "
        f"{len({o.split(':')[0] for o in operations})} services checked against botocore "
        f"{botocore.__version__} models",
        file=sys.stderr,
    )
    for violation, count in sorted(violations.items()):
        print(f"  violation: {violation} ({count}x)", file=sys.stderr)
    if violations:
        print(f"conformance: {sum(violations.values())} violations", file=sys.stderr)
        return 1
    print("conformance: 0 violations", file=sys.stderr)
    return 0


def member_shape(spec):
    """`service:Operation.Member.Path` -> the shape of that member."""
    service, rest = spec.split(":", 1)
    operation, *path = rest.split(".")
    m = model(service)
    shape = m["shapes"][m["operations"][operation]["input"]["shape"]]
    for part in path:
        while shape["type"] == "list":
            shape = m["shapes"][shape["member"]["shape"]]
        if shape["type"] == "map":
            shape = m["shapes"][shape[part]["shape"]]
            continue
        shape = m["shapes"][shape["members"][part]["shape"]]
    return shape


def check_limits(path):
    with open(path) as f:
        limits = json.load(f)
    problems = 0
    for limit in limits:
        if limit["documented"]:
            continue  # a constraint AWS documents outside its model (EC2, RDS)
        shape = member_shape(limit["member"])
        model_min = shape.get("min", 0)
        model_max = shape.get("max")
        if limit["min"] != model_min or limit["max"] != model_max or limit["pattern"] != shape.get("pattern"):
            problems += 1
            print(
                f"  limit {limit['member']}: secinfra has min {limit['min']} max {limit['max']} "
                f"pattern {limit['pattern']!r}; the model has min {model_min} max {model_max} "
                f"pattern {shape.get('pattern')!r}",
                file=sys.stderr,
            )
    print(f"limits: {len(limits)} checked, {problems} differ from botocore {botocore.__version__}", file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "check":
        return check_requests(argv[2])
    if len(argv) == 3 and argv[1] == "limits":
        return check_limits(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
