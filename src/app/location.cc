#include "app/location.h"

#include <algorithm>
#include <cctype>

namespace ferry::app {
namespace {

bool IsRemoteName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

Result<Location> ParseBucketPath(Location loc, std::string_view rest) {
  const size_t slash = rest.find('/');
  loc.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) loc.prefix = std::string(rest.substr(slash + 1));
  if (loc.bucket.empty()) {
    return Status::InvalidArgument("malformed location '" + loc.text + "': no bucket name");
  }
  if (Status s = ValidateBucketName(loc.bucket); !s.ok()) {
    return Status::InvalidArgument("malformed location '" + loc.text + "': " + s.message());
  }
  if (!loc.prefix.empty() && loc.prefix.back() != '/') loc.prefix += '/';
  if (loc.prefix.find('\0') != std::string::npos) {
    return Status::InvalidArgument("malformed location '" + loc.text + "': NUL in prefix");
  }
  return loc;
}

// az://ACCOUNT/CONTAINER/prefix
Result<Location> ParseAzurePath(Location loc, std::string_view rest) {
  const size_t slash = rest.find('/');
  loc.kind = Location::Kind::kAzure;
  loc.account = std::string(rest.substr(0, slash));
  if (loc.account.empty() || slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Status::InvalidArgument("malformed location '" + loc.text +
                                   "': use az://ACCOUNT/CONTAINER[/prefix]");
  }
  Result<Location> parsed = ParseBucketPath(std::move(loc), rest.substr(slash + 1));
  if (!parsed.ok()) return parsed;
  if (Status s = ValidateAzureNames(parsed->account, parsed->bucket); !s.ok()) {
    return Status::InvalidArgument("malformed location '" + parsed->text + "': " + s.message());
  }
  return parsed;
}

// gs://BUCKET/prefix: the S3 path rules but GCS's bucket names ('_' allowed, longer with dots)
Result<Location> ParseGcsPath(Location loc, std::string_view rest) {
  loc.kind = Location::Kind::kGcs;
  const std::string_view bucket = rest.substr(0, rest.find('/'));
  if (bucket.empty()) {
    return Status::InvalidArgument("malformed location '" + loc.text +
                                   "': use gs://BUCKET[/prefix]");
  }
  if (Status s = ValidateGcsBucketName(bucket); !s.ok()) {
    return Status::InvalidArgument("malformed location '" + loc.text + "': " + s.message());
  }
  loc.bucket = std::string(bucket);
  loc.prefix = bucket.size() < rest.size() ? std::string(rest.substr(bucket.size() + 1)) : "";
  if (!loc.prefix.empty() && loc.prefix.back() != '/') loc.prefix += '/';
  if (loc.prefix.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
    return Status::InvalidArgument("malformed location '" + loc.text +
                                   "': NUL, CR or LF in prefix");
  }
  return loc;
}

}  // namespace

Status ValidateGcsBucketName(std::string_view b) {
  const auto alnum = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::islower(u) || std::isdigit(u);
  };
  const bool dotted = b.find('.') != std::string_view::npos;
  if (b.size() < 3 || b.size() > (dotted ? 222u : 63u)) {
    return Status::InvalidArgument("GCS bucket name '" + std::string(b) +
                                   "' must be 3 to 63 characters long (222 with dots)");
  }
  size_t part = 0;
  for (char c : b) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return Status::InvalidArgument("GCS bucket name '" + std::string(b) +
                                     "' may only contain a-z, 0-9, '-', '_' and '.'");
    }
    part = c == '.' ? 0 : part + 1;
    if (part > 63) {
      return Status::InvalidArgument("GCS bucket name '" + std::string(b) +
                                     "': a dot-separated part is over 63 characters");
    }
  }
  if (!alnum(b.front()) || !alnum(b.back())) {
    return Status::InvalidArgument("GCS bucket name '" + std::string(b) +
                                   "' must start and end with a letter or digit");
  }
  return Status::Ok();
}

Status ValidateAzureNames(std::string_view account, std::string_view container) {
  auto lower_alnum = [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::islower(u) || std::isdigit(u);
  };
  if (account.size() < 3 || account.size() > 24 ||
      !std::all_of(account.begin(), account.end(), lower_alnum)) {
    return Status::InvalidArgument("Azure account name '" + std::string(account) +
                                   "' must be 3 to 24 characters of a-z and 0-9");
  }
  if (container.size() < 3 || container.size() > 63 ||
      !std::all_of(container.begin(), container.end(),
                   [&](char c) { return lower_alnum(c) || c == '-'; }) ||
      !lower_alnum(container.front()) || !lower_alnum(container.back()) ||
      container.find("--") != std::string_view::npos) {
    return Status::InvalidArgument("Azure container name '" + std::string(container) +
                                   "' must be 3 to 63 characters of a-z, 0-9 and single '-', "
                                   "starting and ending with a letter or digit");
  }
  return Status::Ok();
}

Status ValidateBucketName(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) {
    return Status::InvalidArgument("bucket name '" + std::string(b) +
                                   "' must be 3 to 63 characters long");
  }
  for (char c : b) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '.' || c == '-')) {
      return Status::InvalidArgument("bucket name '" + std::string(b) +
                                     "' may only contain a-z, 0-9, '.' and '-'");
    }
  }
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(b.front()) || !alnum(b.back())) {
    return Status::InvalidArgument("bucket name '" + std::string(b) +
                                   "' must start and end with a letter or digit");
  }
  return Status::Ok();
}

Result<Location> ParseLocation(std::string_view text) {
  Location loc;
  loc.text = std::string(text);
  if (text.empty()) return Status::InvalidArgument("malformed location: empty");
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("malformed location: contains a NUL byte");
  }
  const size_t scheme = text.find("://");
  if (scheme != std::string_view::npos) {
    const std::string_view name = text.substr(0, scheme);
    const std::string_view rest = text.substr(scheme + 3);
    if (name == "s3") {
      loc.kind = Location::Kind::kS3;
      return ParseBucketPath(std::move(loc), rest);
    }
    if (name == "az") return ParseAzurePath(std::move(loc), rest);
    if (name == "gs") return ParseGcsPath(std::move(loc), rest);
    if (name == "file") {
      if (rest.empty() || rest.front() != '/') {
        return Status::InvalidArgument("malformed location '" + loc.text +
                                       "': file:// needs an absolute path (file:///dir)");
      }
      loc.path = std::string(rest);
      return loc;
    }
    return Status::InvalidArgument("malformed location '" + loc.text + "': unknown scheme '" +
                                   std::string(name) +
                                   "://' (use s3://, az://, gs://, file:// or NAME:)");
  }
  const size_t colon = text.find(':');
  const size_t slash = text.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash) &&
      IsRemoteName(text.substr(0, colon))) {
    loc.kind = Location::Kind::kS3;
    loc.remote = std::string(text.substr(0, colon));
    return ParseBucketPath(std::move(loc), text.substr(colon + 1));
  }
  loc.path = std::string(text);
  return loc;
}

}  // namespace ferry::app
