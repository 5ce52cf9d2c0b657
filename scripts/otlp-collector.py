#!/usr/bin/env python3
"""A minimal OpenTelemetry collector for scripts/containers-kill-loader.sh.

Usage: otlp-collector.py ADDRESS PORT OUTPUT.jsonl

Accepts OTLP/HTTP protobuf on /v1/traces (and /v1/metrics, /v1/logs, answered and dropped) and
appends one JSON line per span: service, instance (service.instance.id or host.name), trace, span,
parent, name, run (the span's sync.run_id attribute). No OTLP package is needed: ExportTraceServiceRequest
is read with protobuf's wire format, as tests/Sync.EndToEnd.Tests/Infrastructure/OtlpCollector.cs does.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fields(buf):
    """(field number, value) of a message; varints as int, length-delimited as bytes."""
    i, n = 0, len(buf)
    while i < n:
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            length, i = varint(buf, i)
            value, i = buf[i:i + length], i + length
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, value


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def attributes(key_values):
    """KeyValue: 1 key, 2 value (AnyValue: 1 string, 3 int)."""
    out = {}
    for kv in key_values:
        key = value = None
        for number, v in fields(kv):
            if number == 1:
                key = v.decode()
            elif number == 2:
                for n, any_value in fields(v):
                    if n == 1:
                        value = any_value.decode()
                    elif n == 3:
                        value = str(any_value)
        if key is not None and value is not None:
            out[key] = value
    return out


def spans(request):
    for number, resource_spans in fields(request):
        if number != 1:
            continue
        resource, scope_spans = {}, []
        for n, v in fields(resource_spans):
            if n == 1:
                resource = attributes(a for k, a in fields(v) if k == 1)
            elif n == 2:
                scope_spans.append(v)
        service = resource.get("service.name", "")
        instance = resource.get("service.instance.id") or resource.get("host.name", "")
        for scope in scope_spans:
            for n, span in fields(scope):
                if n != 2:
                    continue
                s = {"service": service, "instance": instance, "trace": "", "span": "", "parent": "", "name": ""}
                attrs = []
                for k, v in fields(span):
                    if k == 1:
                        s["trace"] = v.hex()
                    elif k == 2:
                        s["span"] = v.hex()
                    elif k == 4:
                        s["parent"] = v.hex()
                    elif k == 5:
                        s["name"] = v.decode()
                    elif k == 9:
                        attrs.append(v)
                s["run"] = attributes(attrs).get("sync.run_id", "")
                yield s


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/v1/traces":
            with open(OUTPUT, "a", encoding="utf-8") as out:
                for s in spans(body):
                    out.write(json.dumps(s) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    address, port, OUTPUT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ThreadingHTTPServer((address, port), Handler).serve_forever()
