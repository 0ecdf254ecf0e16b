#!/usr/bin/env python3
"""Alertmanager webhook receiver for the fire drill: python3 alert_webhook_receiver.py PORT FILE.

Listens on 127.0.0.1:PORT and appends every POST as one JSON line {"path": ..., "body": ...} to FILE, so the
drill can check with jq which receiver (the path) got which alerts, with which labels, annotations and status.
GET answers 200 "ok" (readiness). Standard library only: python3 is all it needs.
"""
import http.server
import json
import sys

port, out = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            # Kept, not dropped: a malformed notification must show up as a failed check, not vanish.
            body = {"unparsed": raw.decode("utf-8", "replace")}
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        self.send_response(200)
        self.end_headers()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook: " + (fmt % args) + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
