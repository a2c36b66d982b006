// Encryption settings of locations (contracts in app/encryption.h).
#include "app/encryption.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace ferry::app {

Result<CopyEncryption> EncryptionFromFlags(const EncryptionFlags& flags, const Location& source,
                                           const Location& destination) {
  CopyEncryption out;
  if (!flags.kms_key_id.empty() && flags.sse != "aws:kms") {
    return Status::InvalidArgument("--sse-kms-key-id needs --sse aws:kms");
  }
  if (!flags.sse.empty()) {
    FERRY_ASSIGN_OR_RETURN(s3::SseMode mode, s3::ParseSseMode(flags.sse));
    if (!destination.is_s3()) {
      return Status::InvalidArgument("--sse applies to an S3 destination, not the folder " +
                                     destination.text);
    }
    if (!flags.customer_key.empty()) {
      return Status::InvalidArgument(
          "--sse and --sse-c-key together: an object is encrypted one way (S3 refuses both)");
    }
    out.destination.write = s3::Encryption{mode, flags.kms_key_id, ""};
  }
  if (!flags.customer_key.empty()) {
    FERRY_ASSIGN_OR_RETURN(std::string key, s3::ParseCustomerKey(flags.customer_key,
                                                                 "--sse-c-key"));
    if (destination.is_s3()) {
      out.destination.write = s3::Encryption::Customer(key);
      out.destination.read_key = key;  // the planner's HEADs of the objects it wrote
    } else if (source.is_s3()) {
      out.source.read_key = key;  // a download: the key reads the source
    } else {
      return Status::InvalidArgument("--sse-c-key needs an S3 location");
    }
  }
  if (!flags.copy_source_key.empty()) {
    if (!source.is_s3()) {
      return Status::InvalidArgument("--sse-c-copy-source-key applies to an S3 source, not the "
                                     "folder " + source.text);
    }
    if (!destination.is_s3()) {
      return Status::InvalidArgument("--sse-c-copy-source-key is for copies between S3 "
                                     "locations: a download takes the source's key as "
                                     "--sse-c-key");
    }
    FERRY_ASSIGN_OR_RETURN(std::string key, s3::ParseCustomerKey(flags.copy_source_key,
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
    std::ifstream in(remote.sse_c_key_file, std::ios::binary);
    if (!in) {
      return Status::InvalidArgument(where + ": cannot read sse_c_key_file " +
                                     remote.sse_c_key_file);
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    FERRY_ASSIGN_OR_RETURN(key, s3::ParseCustomerKey(text, where + " sse_c_key_file " +
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
