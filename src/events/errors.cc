#include "events/errors.h"

#include <array>

namespace ferry::events {
namespace {

constexpr std::array<std::string_view, 13> kReasonNames = {
    "too_large",       "malformed_json",
    "unknown_body",    "unknown_version",
    "unknown_source",  "missing_field",
    "invalid_field",   "invalid_key",
    "bad_cert_url",    "unsupported_signature_version",
    "bad_certificate", "bad_signature",
    "bad_subscribe_url",
};
static_assert(kReasonNames.size() == static_cast<size_t>(Reason::kBadSubscribeUrl) + 1);

bool IsSignatureReason(Reason reason) {
  return reason == Reason::kBadCertUrl || reason == Reason::kUnsupportedSignatureVersion ||
         reason == Reason::kBadCertificate || reason == Reason::kBadSignature ||
         reason == Reason::kBadSubscribeUrl;
}

}  // namespace

std::string_view ReasonName(Reason reason) { return kReasonNames[static_cast<size_t>(reason)]; }

Status Refuse(Reason reason, std::string_view message) {
  std::string text(ReasonName(reason));
  text += ": ";
  text += message;
  return IsSignatureReason(reason) ? Status::Unauthenticated(std::move(text))
                                   : Status::InvalidArgument(std::move(text));
}

std::string_view ReasonOf(const Status& status) {
  if (status.ok()) return "";
  const std::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return "other";
  const std::string_view word = message.substr(0, colon);
  for (std::string_view name : kReasonNames) {
    if (name == word) return name;
  }
  return "other";
}

}  // namespace ferry::events
