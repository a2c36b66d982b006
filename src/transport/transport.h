// The transport module: compressed cross-region transport (issue 10, sections 1 and 2;
// docs/design/transport.md). Objects are packed near the source into ferry archives
// (src/archive) written to a staging location in the target region (pack.h), in batches
// bounded by bytes and count (batch.h); an unpacker near the target streams each archive into
// the destination with every entry's metadata, checked, and deletes it (unpack.h); the progress
// of every staged archive lives in the state database (store.h). Durable runs drive it through
// the "pack" and "unpack" job kinds (src/jobs/kinds/); `ferry unpack` drives it by listing a
// staging prefix where no state store is shared.
#pragma once

#include "transport/batch.h"
#include "transport/pack.h"
#include "transport/store.h"
#include "transport/unpack.h"
