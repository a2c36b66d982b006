// The cache module: `ferry cache` fills a fast cache location (typically an S3 Express One Zone
// directory bucket) from a source with a TTL. Its parts:
//   index.h    the cache index in the state database (component "cache"): entries, failures
//   locks.h    hierarchical prefix locks with leases, across processes and machines
//   warm.h     one warm request: lock, list, skip/renew or copy, record
//   expire.h   exact expiry with compare-and-delete, and the serve loop
//   verify.h   index against cache location, mended both ways
//   request.h  TTL texts and JSON request files
// Depends on transfer (copies), storage (backends) and state (the database); used by the CLI.
// See docs/design/cache.md.
#pragma once

#include "cache/expire.h"
#include "cache/index.h"
#include "cache/locks.h"
#include "cache/request.h"
#include "cache/verify.h"
#include "cache/warm.h"
