#!/usr/bin/env python3
"""A fake Amazon SNS for tests/cli/serve_sns_test.sh: the HTTPS host that serves a signing
certificate and answers ConfirmSubscription, and a signer of envelopes as SNS signs them.

  fake_sns.py serve --cert TLS.pem --key TLS.key --signing-cert SIGN.pem --port-file F --log L
      HTTPS on 127.0.0.1 (a free port, written to F). GET /<name>.pem: the signing certificate;
      GET /?Action=ConfirmSubscription&...: recorded (one line per GET, the query) in L and
      answered with ConfirmSubscription's XML; anything else 404.

  fake_sns.py envelope --type T --topic ARN --key SIGN.key --cert-url URL
                       [--message TEXT] [--subscribe-url URL] [--token T]
                       [--replace-message TEXT]
      Prints one SNS envelope (JSON) of type T signed with SIGN.key (SignatureVersion 2:
      SHA256withRSA, through `openssl dgst`); --replace-message swaps its Message for TEXT after
      signing (a forgery).
"""
import argparse
import base64
import datetime
import http.server
import json
import ssl
import subprocess
import sys
import threading
import urllib.parse
import uuid


def serve(args):
    with open(args.signing_cert, "rb") as f:
        signing_cert = f.read()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet
            pass

        def answer(self, code, body, ctype="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path.endswith(".pem"):
                return self.answer(200, signing_cert)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/" and query.get("Action") == ["ConfirmSubscription"]:
                with lock, open(args.log, "a") as log:
                    log.write(self.headers.get("Host", "") + " " + url.query + "\n")
                arn = query.get("TopicArn", [""])[0] + ":" + str(uuid.uuid4())
                xml = ("<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>"
                       + arn + "</SubscriptionArn></ConfirmSubscriptionResult>"
                       "</ConfirmSubscriptionResponse>")
                return self.answer(200, xml.encode(), "text/xml")
            return self.answer(404, b"not found")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(args.port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


def envelope(args):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    e = {"Type": args.type, "MessageId": str(uuid.uuid4()), "TopicArn": args.topic,
         "Timestamp": now, "SignatureVersion": "2", "SigningCertURL": args.cert_url}
    if args.type == "Notification":
        e["Subject"] = "Amazon S3 Notification"
        e["Message"] = args.message
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        e["Message"] = "You have chosen to subscribe to the topic " + args.topic + "."
        e["SubscribeURL"] = args.subscribe_url
        e["Token"] = args.token
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(name + "\n" + e[name] + "\n" for name in fields)
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key],
                               input=text.encode(), capture_output=True, check=True).stdout
    e["Signature"] = base64.b64encode(signature).decode()
    if args.replace_message is not None:
        e["Message"] = args.replace_message
    json.dump(e, sys.stdout)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve")
    for name in ("--cert", "--key", "--signing-cert", "--port-file", "--log"):
        s.add_argument(name, required=True)
    e = sub.add_parser("envelope")
    e.add_argument("--type", required=True,
                   choices=["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"])
    for name in ("--topic", "--key", "--cert-url"):
        e.add_argument(name, required=True)
    e.add_argument("--message", default="")
    e.add_argument("--subscribe-url", default="")
    e.add_argument("--token", default="")
    e.add_argument("--replace-message")
    args = parser.parse_args()
    serve(args) if args.command == "serve" else envelope(args)


if __name__ == "__main__":
    main()
