#!/usr/bin/env python3
"""quoting_server: an HTTP server whose error replies quote the request's credentials back, for
tests/cli/secrets_test.sh (an error message ferry prints must never carry them on).

    quoting_server.py        prints its port (127.0.0.1, any free one) alone on the first line

  HEAD (any path)            200, no body (a bucket check passes)
  POST with X-Amz-Target     400, SQS's JSON error: InvalidSignatureException whose message
                             quotes the canonical request as the server computed it, with the
                             values of every signed header (x-amz-security-token among them)
  anything else              400, S3's XML <Error> AuthorizationHeaderMalformed whose
                             <Message> quotes the x-amz-security-token and Authorization headers

Python 3 standard library only; SIGTERM ends it.
"""

import hashlib
import http.server
import json
import signal
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_HEAD(self):
        self._reply(200, "application/xml", b"")

    def do_POST(self):
        body = self._body()
        if not self.headers.get("X-Amz-Target"):
            return self._s3_error()
        auth = self.headers.get("Authorization", "")
        signed = []
        if "SignedHeaders=" in auth:
            signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        canonical = "POST\n/\n\n" + "".join(
            "%s:%s\n" % (h, (self.headers.get(h) or "").strip()) for h in signed)
        canonical += "\n%s\n%s" % (";".join(signed), hashlib.sha256(body).hexdigest())
        message = ("Signature mismatch. The Canonical String for this request should have "
                   "been\n'%s'\n" % canonical)
        error = {"__type": "com.amazon.coral.service#InvalidSignatureException",
                 "message": message}
        self._reply(400, "application/x-amz-json-1.0", json.dumps(error).encode())

    def _s3_error(self):
        message = "Malformed credentials: x-amz-security-token: %s; Authorization: %s" % (
            self.headers.get("x-amz-security-token", ""), self.headers.get("Authorization", ""))
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
               "<Code>AuthorizationHeaderMalformed</Code><Message>%s</Message></Error>" %
               message.replace("&", "&amp;").replace("<", "&lt;"))
        self._reply(400, "application/xml", xml.encode())

    def do_GET(self):
        self._s3_error()

    def do_PUT(self):
        self._body()
        self._s3_error()

    def do_DELETE(self):
        self._s3_error()

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
