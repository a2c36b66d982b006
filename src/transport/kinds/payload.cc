// The unpack job's payload (kinds.h).
#include <nlohmann/json.hpp>

#include "base/json_util.h"
#include "transport/kinds/kinds.h"

namespace ferry::transport {

using json = nlohmann::json;

std::string EncodeUnpack(const UnpackPayload& p) {
  return json_util::Dump(json{{"archive", p.archive}, {"objects", p.objects}, {"bytes", p.bytes}});
}

Result<UnpackPayload> DecodeUnpack(const std::string& text) {
  return json_util::ParseJson(text, "unpack payload", [](const json& j) -> Result<UnpackPayload> {
    UnpackPayload p;
    p.archive = j.at("archive").get<std::string>();
    p.objects = j.at("objects").get<uint64_t>();
    p.bytes = j.at("bytes").get<uint64_t>();
    return p;
  });
}

}  // namespace ferry::transport
