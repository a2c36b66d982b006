#!/usr/bin/env python3
"""Writes an S3 Inventory report in the documented AWS layout (CSV, gzip) for a set of objects,
into a local folder that mirrors the destination bucket, ready to be uploaded with `ferry cp`:

    OUT/<dest-prefix>/<source-bucket>/<config-id>/data/<uuid>.csv.gz
    OUT/<dest-prefix>/<source-bucket>/<config-id>/<YYYY-MM-DDTHH-MMZ>/manifest.json
    OUT/<dest-prefix>/<source-bucket>/<config-id>/<YYYY-MM-DDTHH-MMZ>/manifest.checksum
    OUT/<dest-prefix>/<source-bucket>/<config-id>/hive/dt=<YYYY-MM-DD-HH-MM>/symlink.txt

    make_inventory.py --source-bucket B --out DIR (--listing FILE | --ferry-ls-json FILE)
                      [--dest-prefix inventories] [--config-id daily]
                      [--timestamp 2026-11-27T00-00Z] [--rows-per-file 1000] [--versions]
                      [--corrupt bad-checksum|bad-md5|truncated-gzip|bad-key]

--listing FILE: CSV lines `key,size,etag[,last_modified[,storage_class]]` (last_modified as
2026-11-27T21:32:05.000Z; '-' for stdin). --ferry-ls-json FILE: what `ferry ls --json` prints
(one JSON object per line: key, size, etag, mtime_ns, storage_class; with --versions also
version_id, is_latest, delete_marker). --versions writes the VersionId, IsLatest and
IsDeleteMarker columns (a versioned inventory). Keys are URL-encoded as AWS writes them (a space
as '+'); every field is quoted. manifest.json lists each file's key (in the destination
bucket), size and MD5; manifest.checksum is the MD5 of manifest.json. Prints the manifest's key.
--corrupt damages the inventory as a test needs it: bad-checksum writes a manifest.checksum
that is not the manifest's MD5; bad-md5 lists the first data file with another MD5 (its size
right); truncated-gzip cuts the first data file in half and lists it as cut (its true size and
MD5: the inventory itself is damaged); bad-key writes the first row's key with a bad %-escape
(the file listed with its true size and MD5).
Python standard library only.
"""
import argparse
import csv
import datetime
import gzip
import hashlib
import io
import json
import os
import sys
import urllib.parse
import uuid


def read_listing(path):
    stream = sys.stdin if path == '-' else open(path, newline='', encoding='utf-8')
    with stream:
        for fields in csv.reader(stream):
            if not fields or fields[0].startswith('#'):
                continue
            if len(fields) < 3:
                sys.exit('make_inventory: a listing line needs key,size,etag: %r' % fields)
            yield {
                'key': fields[0],
                'size': int(fields[1]),
                'etag': fields[2],
                'last_modified': fields[3] if len(fields) > 3 else '2026-11-27T00:00:00.000Z',
                'storage_class': fields[4] if len(fields) > 4 and fields[4] else 'STANDARD',
            }


def iso_from_ns(ns):
    t = datetime.datetime.fromtimestamp(ns // 1_000_000_000, datetime.timezone.utc)
    return t.strftime('%Y-%m-%dT%H:%M:%S') + '.%03dZ' % ((ns // 1_000_000) % 1000)


def read_ferry_ls_json(path):
    stream = sys.stdin if path == '-' else open(path, encoding='utf-8')
    with stream:
        for line in stream:
            if not line.strip():
                continue
            o = json.loads(line)
            yield {
                'key': o['key'],
                'size': int(o['size']),
                'etag': o.get('etag', ''),
                'last_modified': iso_from_ns(int(o.get('mtime_ns', 0))),
                'storage_class': o.get('storage_class') or 'STANDARD',
                'version_id': o.get('version_id', ''),
                'is_latest': o.get('is_latest', True),
                'delete_marker': o.get('delete_marker', False),
            }


def schema(versions):
    cols = ['Bucket', 'Key']
    if versions:
        cols += ['VersionId', 'IsLatest', 'IsDeleteMarker']
    cols += ['Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'IsMultipartUploaded',
             'ReplicationStatus', 'EncryptionStatus']
    return cols


def row(bucket, o, versions):
    marker = bool(o.get('delete_marker'))
    fields = [bucket, urllib.parse.quote_plus(o['key'], safe='')]
    if versions:
        fields += [o.get('version_id', ''), 'true' if o.get('is_latest', True) else 'false',
                   'true' if marker else 'false']
    etag = o['etag']
    fields += ['' if marker else str(o['size']), o['last_modified'], '' if marker else etag,
               '' if marker else o['storage_class'], 'true' if '-' in etag else 'false', '',
               'SSE-S3']
    return fields


def write_data_file(folder, bucket, objects, versions, corrupt=None):
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator='\n')
    for i, o in enumerate(objects):
        fields = row(bucket, o, versions)
        if corrupt == 'bad-key' and i == 0:
            fields[1] = 'bad%zzkey'
        writer.writerow(fields)
    body = gzip.compress(text.getvalue().encode('utf-8'), mtime=0)
    if corrupt == 'truncated-gzip':
        body = body[:len(body) // 2]
    name = str(uuid.uuid4()) + '.csv.gz'
    with open(os.path.join(folder, name), 'wb') as f:
        f.write(body)
    return name, body


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--source-bucket', required=True)
    p.add_argument('--out', required=True)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--listing')
    src.add_argument('--ferry-ls-json')
    p.add_argument('--dest-prefix', default='inventories')
    p.add_argument('--dest-bucket', default='inventories')
    p.add_argument('--config-id', default='daily')
    p.add_argument('--timestamp', default='2026-11-27T00-00Z')
    p.add_argument('--rows-per-file', type=int, default=1000)
    p.add_argument('--versions', action='store_true')
    p.add_argument('--corrupt', choices=['bad-checksum', 'bad-md5', 'truncated-gzip', 'bad-key'])
    a = p.parse_args()

    objects = list(read_listing(a.listing) if a.listing else read_ferry_ls_json(a.ferry_ls_json))
    config = '/'.join(x for x in (a.dest_prefix.strip('/'), a.source_bucket, a.config_id) if x)
    data_dir = os.path.join(a.out, config, 'data')
    run_dir = os.path.join(a.out, config, a.timestamp)
    day = datetime.datetime.strptime(a.timestamp, '%Y-%m-%dT%H-%MZ')
    hive_dir = os.path.join(a.out, config, 'hive', 'dt=' + day.strftime('%Y-%m-%d-%H-%M'))
    for d in (data_dir, run_dir, hive_dir):
        os.makedirs(d, exist_ok=True)

    files = []
    for start in range(0, len(objects), max(1, a.rows_per_file)):
        chunk = objects[start:start + a.rows_per_file]
        first = start == 0
        name, body = write_data_file(data_dir, a.source_bucket, chunk, a.versions,
                                     a.corrupt if first else None)
        md5 = hashlib.md5(body + (b'x' if first and a.corrupt == 'bad-md5' else b'')).hexdigest()
        files.append({'key': config + '/data/' + name, 'size': len(body), 'MD5checksum': md5})
    created = int(day.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    manifest = {
        'sourceBucket': a.source_bucket,
        'destinationBucket': 'arn:aws:s3:::' + a.dest_bucket,
        'version': '2016-11-30',
        'creationTimestamp': str(created),
        'fileFormat': 'CSV',
        'fileSchema': ', '.join(schema(a.versions)),
        'files': files,
    }
    text = json.dumps(manifest, indent=2).encode('utf-8')
    with open(os.path.join(run_dir, 'manifest.json'), 'wb') as f:
        f.write(text)
    with open(os.path.join(run_dir, 'manifest.checksum'), 'w') as f:
        f.write(hashlib.md5(text + (b'x' if a.corrupt == 'bad-checksum' else b'')).hexdigest() +
                '\n')
    with open(os.path.join(hive_dir, 'symlink.txt'), 'w') as f:
        for file in files:
            f.write('s3://%s/%s\n' % (a.dest_bucket, file['key']))
    print(config + '/' + a.timestamp + '/manifest.json')


if __name__ == '__main__':
    main()
