// The server-side encryption of the S3 locations a process opens (docs/design/encryption.md):
// a remote's settings in the config file (sse, sse_kms_key_id, sse_c_key_file or
// sse_c_key_env) and the command line's for one cp/sync (--sse, --sse-kms-key-id, --sse-c-key,
// --sse-c-copy-source-key), turned into storage::S3Encryption. Customer keys are read here
// (from a file or an environment variable, or the flag's value) and held in memory only: no
// message, log line, state row or job payload ever holds one (Wiring keeps the command line's
// per location in the process, not in the run it records).
//
// Thread-safety: pure functions but for RemoteEncryption, which reads a file or the
// environment.
#pragma once

#include <optional>
#include <string>

#include "app/config.h"
#include "app/location.h"
#include "base/status.h"
#include "storage/s3/s3_backend.h"

namespace ferry::app {

// What the command line of one cp/sync asks (values as given; customer keys in base64).
struct EncryptionFlags {
  std::string sse;              // --sse: "", "AES256" or "aws:kms"
  std::string kms_key_id;       // --sse-kms-key-id (needs --sse aws:kms)
  std::string customer_key;     // --sse-c-key: the destination's SSE-C key (or, when the
                                // destination is a folder, the S3 source's)
  std::string copy_source_key;  // --sse-c-copy-source-key: the S3 source's SSE-C key
  bool any() const {
    return !sse.empty() || !kms_key_id.empty() || !customer_key.empty() ||
           !copy_source_key.empty();
  }
};

// Part of a location's encryption that replaces its remote's: a field left unset keeps the
// remote's setting.
struct EncryptionOverride {
  std::optional<s3::Encryption> write;
  std::optional<std::string> read_key;
};

// The flags checked against the two locations and turned into the overrides of each side.
struct CopyEncryption {
  EncryptionOverride source;
  EncryptionOverride destination;
};

// Checks the flags (kInvalidArgument, one line, for usage errors: an unknown --sse,
// --sse-kms-key-id without --sse aws:kms, --sse or --sse-c-copy-source-key with a local side
// they cannot apply to, --sse together with --sse-c-key on an S3 destination, a key that is
// not base64 of 32 bytes) and returns what each side gets.
Result<CopyEncryption> EncryptionFromFlags(const EncryptionFlags& flags, const Location& source,
                                           const Location& destination);

// A remote's encryption from the config file: its `sse` / `sse_kms_key_id` for writes, and
// its SSE-C key, read from sse_c_key_file (base64 of 32 bytes, or the 32 raw bytes) or the
// environment variable sse_c_key_env (base64), for writes and reads. Errors (kInvalidArgument)
// name the remote and the file or variable, never the key.
Result<storage::S3Encryption> RemoteEncryption(const RemoteConfig& remote);

// `base` with the set fields of `override` in their place.
storage::S3Encryption Apply(storage::S3Encryption base, const EncryptionOverride& override);

}  // namespace ferry::app
