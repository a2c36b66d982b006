#include "transfer/cutoff.h"

#include <algorithm>
#include <cctype>

#include "plan/filter.h"
#include "transfer/progress.h"

namespace ferry::transfer {

Result<CutoffMode> ParseCutoffMode(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "hard") return CutoffMode::kHard;
  if (t == "soft") return CutoffMode::kSoft;
  if (t == "cautious") return CutoffMode::kCautious;
  return Status::InvalidArgument("'" + std::string(text) + "': hard, soft or cautious");
}

Result<uint64_t> ParseMaxTransfer(std::string_view text) {
  FERRY_ASSIGN_OR_RETURN(const uint64_t bytes, plan::ParseSize(text));
  if (bytes == 0) return Status::InvalidArgument("'" + std::string(text) + "': at least 1 byte");
  return bytes;
}

Result<std::chrono::seconds> ParseMaxDuration(std::string_view text) {
  FERRY_ASSIGN_OR_RETURN(const std::chrono::seconds d, plan::ParseAge(text));
  if (d.count() <= 0) return Status::InvalidArgument("'" + std::string(text) + "': at least 1s");
  return d;
}

const char* CutoffModeName(CutoffMode mode) {
  switch (mode) {
    case CutoffMode::kHard: return "hard";
    case CutoffMode::kSoft: return "soft";
    case CutoffMode::kCautious: return "cautious";
  }
  return "hard";
}

Cutoff::Cutoff(const CutoffOptions& options, Clock& clock, Clock::MonoTime start)
    : options_(options),
      clock_(clock),
      deadline_(options.max_duration.count() > 0 ? start + options.max_duration
                                                 : Clock::MonoTime::max()) {}

void Cutoff::Trip(CutoffReason why) {
  if (reason_ == CutoffReason::kNone) reason_ = why;
}

void Cutoff::Left(uint64_t size) {
  objects_left_ += 1;
  bytes_left_ += size;
}

bool Cutoff::MayStart(uint64_t size) {
  std::lock_guard lock(mu_);
  if (reason_ == CutoffReason::kNone && clock_.MonoNow() >= deadline_) {
    Trip(CutoffReason::kMaxDuration);
  }
  const uint64_t max = options_.max_transfer;
  if (reason_ == CutoffReason::kNone && max > 0) {
    const bool past = options_.mode == CutoffMode::kCautious ? started_bytes_ + size > max
                                                             : started_bytes_ >= max;
    if (past) Trip(CutoffReason::kMaxTransfer);
  }
  if (reason_ != CutoffReason::kNone) return false;
  started_bytes_ += size;
  return true;
}

void Cutoff::Ended(uint64_t size, const Status& status) {
  if (status.code() == ErrorCode::kCancelled && cut()) Left(size);
}

bool Cutoff::CutNow() {
  std::lock_guard lock(mu_);
  if (reason_ == CutoffReason::kNone && clock_.MonoNow() >= deadline_) {
    Trip(CutoffReason::kMaxDuration);
  }
  return reason_ != CutoffReason::kNone;
}

void Cutoff::DeadlinePassed() {
  std::lock_guard lock(mu_);
  Trip(CutoffReason::kMaxDuration);
}

CutoffReason Cutoff::reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

std::string Cutoff::Describe(bool listing_stopped) const {
  std::string limit;
  if (reason() == CutoffReason::kMaxTransfer) {
    limit = "--max-transfer " + HumanBytes(static_cast<double>(options_.max_transfer));
  } else {
    limit = "--max-duration " + std::to_string(options_.max_duration.count() / 1000) + "s";
  }
  std::string left = std::to_string(objects_left()) + " object" +
                     (objects_left() == 1 ? "" : "s") + " (" +
                     HumanBytes(static_cast<double>(bytes_left())) + ") not copied";
  if (listing_stopped) left += " among those listed until then (the listing stopped there)";
  return "stopped by " + limit + " (--cutoff-mode " + CutoffModeName(options_.mode) + "): " +
         left + "; nothing was deleted; run the same command again to copy the rest";
}

}  // namespace ferry::transfer
