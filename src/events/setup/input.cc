// The pure input and output helpers of setup.h: event names, topic names, URLs, masking.
#include <algorithm>
#include <cctype>

#include "events/setup/setup.h"

namespace ferry::events::setup {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsEventNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '*';
}

}  // namespace

std::vector<std::string> DefaultEvents() { return {"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}; }

Result<std::vector<std::string>> ParseEvents(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view word = Trim(text.substr(0, comma));
    std::string name;
    if (word == "created") {
      name = "s3:ObjectCreated:*";
    } else if (word == "removed") {
      name = "s3:ObjectRemoved:*";
    } else if (word == "delete-marker") {
      name = "s3:ObjectRemoved:DeleteMarkerCreated";
    } else if (word.starts_with("s3:") && word.size() > 3 &&
               std::all_of(word.begin(), word.end(), IsEventNameChar)) {
      name = std::string(word);
    } else {
      return Status::InvalidArgument(
          "--events: unknown event '" + std::string(word) +
          "' (created, removed, delete-marker, or a name such as s3:ObjectCreated:Put)");
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string TopicNameFor(std::string_view bucket) {
  std::string name = "ferry-";
  for (char c : bucket) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
    name.push_back(ok ? c : '-');
  }
  return name.substr(0, 256);
}

std::string ConfigurationIdFor(std::string_view topic) {
  return topic.starts_with("ferry-") ? std::string(topic) : "ferry-" + std::string(topic);
}

Status ValidateTopicName(std::string_view name) {
  const bool ok = !name.empty() && name.size() <= 256 &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' ||
                           c == '_';
                  });
  if (ok) return Status::Ok();
  return Status::InvalidArgument("--topic: '" + std::string(name) +
                                 "' is not a topic name (1 to 256 letters, digits, '-', '_')");
}

Status ValidateEndpointUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("--endpoint: '" + MaskUrl(url) + "' " + std::string(why));
  };
  size_t rest = 0;
  if (url.starts_with("http://")) {
    rest = 7;
  } else if (url.starts_with("https://")) {
    rest = 8;
  } else {
    return bad("is not an http:// or https:// URL");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return bad("holds a space or a control character");
    }
  }
  if (url.find('#') != std::string_view::npos) return bad("holds a fragment ('#')");
  std::string_view authority = url.substr(rest);
  authority = authority.substr(0, authority.find_first_of("/?"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return bad("has a malformed host");
    host = host.substr(0, close + 1);
  } else if (const size_t colon = host.find(':'); colon != std::string_view::npos) {
    const std::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      return bad("has a malformed port");
    }
    host = host.substr(0, colon);
  }
  if (host.empty()) return bad("has no host");
  return Status::Ok();
}

std::string MaskToken(std::string_view token) {
  if (token.empty()) return {};
  if (token.size() < 12) return "***";
  return std::string(token.substr(0, 3)) + "***";
}

std::string MaskUrl(std::string_view url) {
  std::string out;
  const size_t scheme = url.find("://");
  size_t pos = 0;
  if (scheme != std::string_view::npos) {
    pos = scheme + 3;
    out.append(url.substr(0, pos));
    const size_t end = std::min(url.find_first_of("/?#", pos), url.size());
    std::string_view authority = url.substr(pos, end - pos);
    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
      const std::string_view user_info = authority.substr(0, at);
      const size_t colon = user_info.find(':');
      out.append(user_info.substr(0, colon));
      if (colon != std::string_view::npos) out.append(":***");
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
    pos = end;
  }
  const size_t query = url.find('?', pos);
  if (query == std::string_view::npos) {
    out.append(url.substr(pos));
    return out;
  }
  out.append(url.substr(pos, query + 1 - pos));
  std::string_view rest = url.substr(query + 1);
  std::string_view fragment;
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash);
    rest = rest.substr(0, hash);
  }
  bool first = true;
  while (true) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const size_t eq = pair.find('=');
    out.append(pair.substr(0, eq));
    if (eq != std::string_view::npos) out.append("=***");
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  out.append(fragment);
  return out;
}

}  // namespace ferry::events::setup
