#!/usr/bin/env python3
"""azure_admin: what ferry does not do for Azure yet, for the CLI tests on Azurite (Shared Key
signed here with Python's standard library, independently of ferry's signer).

  azure_admin.py ENDPOINT ACCOUNT BASE64_KEY mkcontainer C
  azure_admin.py ENDPOINT ACCOUNT BASE64_KEY rmcontainer C        (a missing one is fine)
  azure_admin.py ENDPOINT ACCOUNT BASE64_KEY blocks committed|uncommitted C/BLOB
      -> "COUNT UPLOAD_ID..." (the upload ids of ferry's block names)
  azure_admin.py ENDPOINT ACCOUNT BASE64_KEY sas        -> an account SAS (one hour)

Used by tests/cli/azure_test.sh and azure_faults_test.sh.
"""
import base64, email.utils, hashlib, hmac, sys, time, urllib.error, urllib.parse, urllib.request
import xml.etree.ElementTree as ET
endpoint, account, key = sys.argv[1], sys.argv[2], base64.b64decode(sys.argv[3])
cmd, args = sys.argv[4], sys.argv[5:]
def sign(s): return base64.b64encode(hmac.new(key, s.encode(), hashlib.sha256).digest()).decode()
def call(method, path, query):
    date = email.utils.formatdate(usegmt=True)
    base = urllib.parse.urlparse(endpoint).path
    res = "/%s%s/%s" % (account, base, urllib.parse.quote(path)) + "".join(
        "\n%s:%s" % kv for kv in sorted(query.items()))
    sts = "%s\n\n\n\n\napplication/octet-stream\n\n\n\n\n\n\nx-ms-date:%s\n" % (method, date)
    sts += "x-ms-version:2021-08-06\n" + res
    url = "%s/%s?%s" % (endpoint, urllib.parse.quote(path), urllib.parse.urlencode(query))
    auth = "SharedKey %s:%s" % (account, sign(sts))
    headers = {"Content-Type": "application/octet-stream", "x-ms-date": date,
               "x-ms-version": "2021-08-06", "Authorization": auth}
    req = urllib.request.Request(url, method=method, data=b"" if method == "PUT" else None,
                                 headers=headers)
    return urllib.request.urlopen(req, timeout=10).read()
if cmd == "mkcontainer":
    call("PUT", args[0], {"restype": "container"})
elif cmd == "rmcontainer":
    try: call("DELETE", args[0], {"restype": "container"})
    except urllib.error.HTTPError as e: sys.exit(0 if e.code == 404 else 1)
elif cmd == "blocks":  # committed|uncommitted CONTAINER/BLOB -> "COUNT UPLOAD_ID..." (ferry's ids)
    try: body = call("GET", args[1], {"comp": "blocklist", "blocklisttype": args[0]})
    except urllib.error.HTTPError: print("0"); sys.exit(0)
    tag = "CommittedBlocks" if args[0] == "committed" else "UncommittedBlocks"
    names = ET.fromstring(body).findall("./%s/Block/Name" % tag)
    ids = [base64.b64decode(n.text).decode() for n in names]
    print(" ".join([str(len(ids))] + sorted(set(i[6:22] for i in ids))))
elif cmd == "sas":
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    sp, ss, srt, sv = "rwdlacup", "b", "sco", "2019-12-12"
    sig = sign("\n".join([account, sp, ss, srt, "", expiry, "", "", sv, ""]))
    query = {"sv": sv, "ss": ss, "srt": srt, "sp": sp, "se": expiry, "sig": sig}
    print(urllib.parse.urlencode(query))
