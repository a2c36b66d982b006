// The REST stores' shared client pieces (rest_client.h).
#include "storage/rest/rest_client.h"

#include <charconv>
#include <random>

namespace ferry::storage::rest {

Status ReplySink::Begin(int status_code, const http::Headers& headers) {
  ok_ = status_code >= 200 && status_code < 300;
  error_.clear();
  collected_.clear();
  if (ok_ && target_ != nullptr) {
    began_ = true;
    return target_->Begin(status_code, headers);
  }
  return Status::Ok();
}

Status ReplySink::Write(std::span<const std::byte> data) {
  if (ok_ && target_ != nullptr) return target_->Write(data);
  std::string& into = ok_ ? collected_ : error_;
  if (into.size() + data.size() > (ok_ ? (64u << 20) : (64u << 10))) {
    // an error document's first 64 KiB say what it is; a collected reply that large is not one
    return ok_ ? Status::DataLoss("reply larger than 64 MiB") : Status::Ok();
  }
  into.append(reinterpret_cast<const char*>(data.data()), data.size());
  return Status::Ok();
}

std::chrono::milliseconds RetryAfter(const http::Headers& headers) {
  const std::string* v = headers.Find("Retry-After");
  uint64_t seconds = 0;
  if (v == nullptr ||
      std::from_chars(v->data(), v->data() + v->size(), seconds).ec != std::errc()) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::seconds(std::min<uint64_t>(seconds, 60));
}

uint64_t RandomBits() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace ferry::storage::rest
