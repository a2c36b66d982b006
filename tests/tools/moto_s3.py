"""S3 on a moto_server for tests/cli/checksums_test.sh, through the botocore that Debian's awscli
ships, and reference checksums computed here (independently of ferry's code).

    moto_s3.py ENDPOINT mb BUCKET
    moto_s3.py ENDPOINT put BUCKET KEY FILE [ALGORITHM [VALUE]]
        PutObject; with ALGORITHM the checksum header carries VALUE when given (a wrong one on
        purpose: moto keeps what it is sent), else the checksum this script computes
    moto_s3.py ENDPOINT head BUCKET KEY
        HeadObject with ChecksumMode=ENABLED, as JSON: checksums (ChecksumCRC32 ... from the
        x-amz-checksum-* headers), ETag, ContentType, Metadata
    moto_s3.py ENDPOINT get BUCKET KEY
        the same from a GetObject (moto's HEAD leaves out a composite value's "-N")
    moto_s3.py - expect ALGORITHM FILE [PART_SIZE]
        the x-amz-checksum-* value of FILE: full-object, or composite over PART_SIZE parts
        ("<base64>-N")

Credentials: anything (moto checks none); region us-east-1.
"""
import base64
import hashlib
import json
import sys
import zlib

sys.path.insert(0, "/usr/lib/python3/dist-packages")


def reflected_table(poly, width):
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


CRC32C_TABLE = reflected_table(0x82F63B78, 32)
CRC64NVME_TABLE = reflected_table(0x9A6C9329AC4BC9B5, 64)


def reflected_crc(data, table, width):
    mask = (1 << width) - 1
    crc = mask
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return (crc ^ mask) & mask


def digest(algorithm, data):
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return reflected_crc(data, CRC32C_TABLE, 32).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return reflected_crc(data, CRC64NVME_TABLE, 64).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    if algorithm == "SHA256":
        return hashlib.sha256(data).digest()
    raise SystemExit("unknown algorithm " + algorithm)


def expect(algorithm, path, part_size=None):
    data = open(path, "rb").read()
    if not part_size:
        return base64.b64encode(digest(algorithm, data)).decode()
    parts = [data[i:i + part_size] for i in range(0, len(data), part_size)]
    joined = b"".join(digest(algorithm, p) for p in parts)
    return "%s-%d" % (base64.b64encode(digest(algorithm, joined)).decode(), len(parts))


def client(endpoint):
    from awscli.botocore.config import Config
    from awscli.botocore.session import Session
    return Session().create_client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def main():
    endpoint, verb, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if verb == "expect":
        print(expect(args[0], args[1], int(args[2]) if len(args) > 2 else None))
        return
    s3 = client(endpoint)
    if verb == "mb":
        s3.create_bucket(Bucket=args[0])
    elif verb == "put":
        bucket, key, path = args[:3]
        body = open(path, "rb").read()
        kwargs = {}
        if len(args) > 3:
            algorithm = args[3]
            value = args[4] if len(args) > 4 else base64.b64encode(digest(algorithm, body)).decode()
            # the header itself, with the algorithm header SDKs send beside it (moto keeps the
            # checksum only then); botocore sends both as given
            headers = {"x-amz-checksum-" + algorithm.lower(): value,
                       "x-amz-sdk-checksum-algorithm": algorithm}

            def add(request, **_):
                for k, v in headers.items():
                    request.headers[k] = v
            s3.meta.events.register("before-sign.s3.PutObject", add)
        s3.put_object(Bucket=bucket, Key=key, Body=body, **kwargs)
    elif verb in ("head", "get"):
        # moto's HEAD leaves out a composite value's part count and type; its GET says them
        if verb == "head":
            r = s3.head_object(Bucket=args[0], Key=args[1], ChecksumMode="ENABLED")
        else:
            r = s3.get_object(Bucket=args[0], Key=args[1], ChecksumMode="ENABLED")
            r["Body"].read()
        # from the reply's headers: this botocore's model predates CRC64NVME
        headers = r["ResponseMetadata"]["HTTPHeaders"]
        out = {"Checksum" + k[len("x-amz-checksum-"):].upper(): v for k, v in headers.items()
               if k.startswith("x-amz-checksum-") and k != "x-amz-checksum-type"}
        out.update({"ETag": r["ETag"].strip('"'), "ContentType": r.get("ContentType", ""),
                    "Metadata": r.get("Metadata", {})})
        print(json.dumps(out, sort_keys=True))
    else:
        raise SystemExit("unknown verb " + verb)


main()
