// Bounded JSON parsing and member access for the events parsers: nlohmann::json throws, so every
// call that may throw is here or behind a type check.
#include <exception>
#include <string>

#include "events/errors.h"
#include "events/parse_internal.h"

namespace ferry::events::internal {
namespace {

struct TooDeep : std::exception {
  const char* what() const noexcept override { return "nested too deep"; }
};

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view text, const ParseOptions& options,
                                       std::string_view what) {
  if (text.size() > options.max_body_bytes) {
    return Refuse(Reason::kTooLarge, std::string(what) + " of " + std::to_string(text.size()) +
                                         " bytes is over the limit of " +
                                         std::to_string(options.max_body_bytes));
  }
  // The callback sees every value with its depth: a body nested deeper than any notification
  // is refused while it is read, before it costs more.
  const nlohmann::json::parser_callback_t bound = [](int depth, nlohmann::json::parse_event_t,
                                                     nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw TooDeep();
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.begin(), text.end(), bound);
  } catch (const std::exception& e) {
    return Refuse(Reason::kMalformedJson, std::string(what) + " is not JSON: " + e.what());
  }
  if (!j.is_object()) {
    return Refuse(Reason::kMalformedJson, std::string(what) + " is JSON but not an object");
  }
  return j;
}

const std::string* StringMember(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

std::string StringOr(const nlohmann::json& j, const char* name) {
  const std::string* s = StringMember(j, name);
  return s ? *s : std::string();
}

const nlohmann::json* ObjectMember(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(name);
  if (it == j.end() || !it->is_object()) return nullptr;
  return &*it;
}

}  // namespace ferry::events::internal
