// The server-side encryption of the S3 locations a process opens (docs/design/encryption.md):
// a remote's settings in the config file (sse, sse_kms_key_id, sse_c_key_file or
// sse_c_key_env) and the command line's for one cp/sync (--sse, --sse-kms-key-id,
// --sse-c-key-file/-env, --sse-c-copy-source-key-file/-env), turned into storage::S3Encryption.
// Customer keys are read here, from a file or an environment variable, never from the command
// line itself (any local user reads a process's argv in /proc/PID/cmdline: --sse-c-key VALUE is
// refused), and held in memory only: no message, log line, state row or job payload ever holds
// one (Wiring keeps the command line's per location in the process, not in the run it
// records).
//
// Thread-safety: pure functions but for RemoteEncryption and EncryptionFromFlags, which read a
// file or the environment.
#pragma once

#include <optional>
#include <string>

#include "app/config.h"
#include "app/location.h"
#include "base/status.h"
#include "storage/s3/s3_backend.h"

namespace ferry::app {

// Where the command line says one SSE-C key is: a file (base64 of the 32 bytes, a trailing
// newline allowed, or the 32 raw bytes; as a remote's sse_c_key_file) or an environment
// variable (base64). `value` is the key given on the command line itself: refused.
struct CustomerKeyFlags {
  std::string file;   // --sse-c-key-file PATH
  std::string env;    // --sse-c-key-env NAME
  std::string value;  // --sse-c-key VALUE: refused (readable in /proc/PID/cmdline)
  bool any() const { return !file.empty() || !env.empty() || !value.empty(); }
};

// What the command line of one cp/sync asks (values as given).
struct EncryptionFlags {
  std::string sse;                   // --sse: "", "AES256" or "aws:kms"
  std::string kms_key_id;            // --sse-kms-key-id (needs --sse aws:kms)
  CustomerKeyFlags customer_key;     // --sse-c-key-*: the destination's SSE-C key (or, when
                                     // the destination is a folder, the S3 source's)
  CustomerKeyFlags copy_source_key;  // --sse-c-copy-source-key-*: the S3 source's SSE-C key
  bool any() const {
    return !sse.empty() || !kms_key_id.empty() || customer_key.any() || copy_source_key.any();
  }
};

// The flag `flag` ("--sse-c-key") given with the secret itself: kInvalidArgument, one line
// naming `flag`-file and `flag`-env instead, never the value. Ok when `value` is empty. For
// every flag whose value form would put a secret on the command line (events setup --token
// too), checked before anything else runs.
Status RefuseSecretOnCommandLine(std::string_view flag, const std::string& value);

// The 32 raw bytes of the SSE-C key `flags` name ("" when none), read from the file or the
// variable; `flag` ("--sse-c-key") names them in errors (kInvalidArgument, one line: the value
// form refused, both forms given, an unreadable file, an unset variable, not a key), which
// never hold the key.
Result<std::string> ReadCustomerKey(const CustomerKeyFlags& flags, std::string_view flag);

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

// Checks the flags and reads the keys they name (kInvalidArgument, one line, for usage errors:
// an unknown --sse, --sse-kms-key-id without --sse aws:kms, --sse or --sse-c-copy-source-key-*
// with a local side they cannot apply to, --sse together with --sse-c-key-* on an S3
// destination, a key given on the command line itself, a key file or variable that cannot be
// read or holds no key) and returns what each side gets.
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
