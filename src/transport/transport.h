// The transport module: compressed cross-region transport (docs/design/transport.md).
// Objects are packed near the source into ferry archives (src/archive) written to a staging
// location in the target region; an unpacker near the target streams each archive into the
// destination with every entry's metadata, checked, and deletes it. Its headers:
//  - batch.h: the batches of a scan, bounded by bytes and count (slow start, slow stop);
//  - pack.h: Packer/PackObjects, the one pack pipeline (prefetch.h, read_ahead.h,
//    prefetch_gate.h: its reads ahead; upload_order.h: the packs sharing a staging location
//    send in job order);
//  - unpack.h: UnpackArchive (unpack_pipeline.h: its write path, which restores use too;
//    unpack_source.h: its reads ahead); unpack_listed.h: staging found by listing, where no
//    state store is shared; claim.h: several unpackers of one region;
//  - store.h: the archive progress store; run_archives.h: a run's archives by name, discarded
//    on --restart; staging_requests.h: the requests a staged archive costs;
//  - the adaptive level: content_class.h, level.h (the bandit), level_cpu.h, level_store.h
//    (its history), level_advisor.h (one pack's choice): the packs choose each archive's level
//    with it, so it lives here.
// Backup (src/backup) and the estimate (src/estimate) are built on it; it depends on neither.
// Durable runs drive it through the "pack" and "unpack" job kinds; `ferry unpack` drives it by
// listing a staging prefix where no state store is shared.
#pragma once

#include "transport/batch.h"
#include "transport/pack.h"
#include "transport/store.h"
#include "transport/unpack.h"
