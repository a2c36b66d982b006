// Encryption settings of locations (contracts in app/encryption.h).
#include "app/encryption.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>

namespace ferry::app {
namespace {

// The bytes of a key file; nullopt when it cannot be opened.
std::optional<std::string> ReadCustomerKeyFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

Status RefuseSecretOnCommandLine(std::string_view flag, const std::string& value) {
  if (value.empty()) return Status::Ok();
  const std::string f(flag);
  return Status::InvalidArgument(
      f + " takes the secret itself, which any user of this machine can read in the "
      "process's command line (/proc/PID/cmdline): give " + f + "-file PATH or " + f +
      "-env NAME instead");
}

Result<std::string> ReadCustomerKey(const CustomerKeyFlags& flags, std::string_view flag) {
  const std::string f(flag);
  FERRY_RETURN_IF_ERROR(RefuseSecretOnCommandLine(flag, flags.value));
  if (!flags.file.empty() && !flags.env.empty()) {
    return Status::InvalidArgument("give " + f + "-file or " + f + "-env, not both");
  }
  if (!flags.file.empty()) {
    std::optional<std::string> text = ReadCustomerKeyFileText(flags.file);
    if (!text) return Status::InvalidArgument("cannot read " + f + "-file " + flags.file);
    return s3::ParseCustomerKey(*text, f + "-file " + flags.file, /*allow_raw=*/true);
  }
  if (!flags.env.empty()) {
    const char* v = std::getenv(flags.env.c_str());
    if (v == nullptr || *v == '\0') {
      return Status::InvalidArgument(f + "-env: environment variable " + flags.env +
                                     " is not set");
    }
    return s3::ParseCustomerKey(v, f + "-env " + flags.env);
  }
  return std::string();
}

Result<CopyEncryption> EncryptionFromFlags(const EncryptionFlags& flags, const Location& source,
                                           const Location& destination) {
  CopyEncryption out;
  // A key on the command line is refused before any other check can print a line about it.
  FERRY_RETURN_IF_ERROR(RefuseSecretOnCommandLine("--sse-c-key", flags.customer_key.value));
  FERRY_RETURN_IF_ERROR(
      RefuseSecretOnCommandLine("--sse-c-copy-source-key", flags.copy_source_key.value));
  if (!flags.kms_key_id.empty() && flags.sse != "aws:kms") {
    return Status::InvalidArgument("--sse-kms-key-id needs --sse aws:kms");
  }
  if (!flags.sse.empty()) {
    FERRY_ASSIGN_OR_RETURN(s3::SseMode mode, s3::ParseSseMode(flags.sse));
    if (!destination.is_s3()) {
      return Status::InvalidArgument("--sse applies to an S3 destination, not the folder " +
                                     destination.text);
    }
    if (flags.customer_key.any()) {
      return Status::InvalidArgument(
          "--sse and --sse-c-key together: an object is encrypted one way (S3 refuses both)");
    }
    out.destination.write = s3::Encryption{mode, flags.kms_key_id, ""};
  }
  if (flags.customer_key.any()) {
    FERRY_ASSIGN_OR_RETURN(std::string key, ReadCustomerKey(flags.customer_key, "--sse-c-key"));
    if (destination.is_s3()) {
      out.destination.write = s3::Encryption::Customer(key);
      out.destination.read_key = key;  // the planner's HEADs of the objects it wrote
    } else if (source.is_s3()) {
      out.source.read_key = key;  // a download: the key reads the source
    } else {
      return Status::InvalidArgument("--sse-c-key needs an S3 location");
    }
  }
  if (flags.copy_source_key.any()) {
    if (!source.is_s3()) {
      return Status::InvalidArgument("--sse-c-copy-source-key applies to an S3 source, not the "
                                     "folder " + source.text);
    }
    if (!destination.is_s3()) {
      return Status::InvalidArgument("--sse-c-copy-source-key is for copies between S3 "
                                     "locations: a download takes the source's key as "
                                     "--sse-c-key-file or --sse-c-key-env");
    }
    FERRY_ASSIGN_OR_RETURN(std::string key, ReadCustomerKey(flags.copy_source_key,
                                                            "--sse-c-copy-source-key"));
    out.source.read_key = std::move(key);
  }
  return out;
}

Result<storage::S3Encryption> RemoteEncryption(const RemoteConfig& remote) {
  storage::S3Encryption out;
  const std::string where = "remote '" + remote.name + "'";
  if (!remote.sse.empty()) {
    FERRY_ASSIGN_OR_RETURN(s3::SseMode mode, s3::ParseSseMode(remote.sse));
    out.write = s3::Encryption{mode, remote.sse_kms_key_id, ""};
  }
  std::string key;
  if (!remote.sse_c_key_file.empty()) {
    std::optional<std::string> text = ReadCustomerKeyFileText(remote.sse_c_key_file);
    if (!text) {
      return Status::InvalidArgument(where + ": cannot read sse_c_key_file " +
                                     remote.sse_c_key_file);
    }
    FERRY_ASSIGN_OR_RETURN(key, s3::ParseCustomerKey(*text, where + " sse_c_key_file " +
                                                               remote.sse_c_key_file,
                                                     /*allow_raw=*/true));
  } else if (!remote.sse_c_key_env.empty()) {
    const char* v = std::getenv(remote.sse_c_key_env.c_str());
    if (v == nullptr || *v == '\0') {
      return Status::InvalidArgument(where + ": environment variable " + remote.sse_c_key_env +
                                     " (sse_c_key_env) is not set");
    }
    FERRY_ASSIGN_OR_RETURN(key, s3::ParseCustomerKey(
                                    v, where + " sse_c_key_env " + remote.sse_c_key_env));
  }
  if (!key.empty()) {
    out.write = s3::Encryption::Customer(key);
    out.read_key = std::move(key);
  }
  return out;
}

storage::S3Encryption Apply(storage::S3Encryption base, const EncryptionOverride& override) {
  if (override.write) base.write = *override.write;
  if (override.read_key) base.read_key = *override.read_key;
  return base;
}

}  // namespace ferry::app
