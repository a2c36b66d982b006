#include "state/state_url.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace ferry::state {
namespace {

constexpr std::string_view kSchemeSep = "://";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Where the user-info password sits in `url`: [begin, end) of the text after ':' and before
// '@', or an empty range.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  bool empty() const { return begin >= end; }
};

Span UserinfoPassword(std::string_view url) {
  const size_t sep = url.find(kSchemeSep);
  if (sep == std::string_view::npos) return {};
  const size_t start = sep + kSchemeSep.size();
  const size_t query = std::min(url.find('?', start), url.size());
  const size_t at = url.substr(0, query).rfind('@');
  if (at == std::string_view::npos || at < start) return {};
  const size_t colon = url.substr(0, at).find(':', start);
  if (colon == std::string_view::npos) return {};
  return {colon + 1, at};
}

// The query parameters of `url` (text after '?', split at '&'), with their positions.
std::vector<Span> QueryParams(std::string_view url) {
  std::vector<Span> out;
  if (url.find(kSchemeSep) == std::string_view::npos) return out;
  size_t pos = url.find('?');
  if (pos == std::string_view::npos) return out;
  ++pos;
  while (pos <= url.size()) {
    const size_t amp = std::min(url.find('&', pos), url.size());
    out.push_back({pos, amp});
    pos = amp + 1;
  }
  return out;
}

bool IsPasswordParam(std::string_view param) {
  return param.substr(0, param.find('=')) == "password";
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

}  // namespace

Status MalformedStateUrl(std::string_view url, std::string_view why) {
  return Status::InvalidArgument("malformed state URL \"" + RedactUrl(url) +
                                 "\": " + std::string(why));
}

Result<StateUrl> ParseStateUrl(std::string_view url) {
  if (url.empty()) return MalformedStateUrl(url, "empty");
  if (url.find('\0') != std::string_view::npos) return MalformedStateUrl(url, "contains NUL");
  const size_t sep = url.find(kSchemeSep);
  if (sep == std::string_view::npos) {
    // A plain path, unless it starts like one of our URLs with the "//" missing ("postgres:x").
    const size_t colon = url.find(':');
    if (colon != std::string_view::npos) {
      const std::string scheme = Lower(url.substr(0, colon));
      if (scheme == "sqlite" || scheme == "postgres" || scheme == "postgresql") {
        return MalformedStateUrl(url, "expected \"" + scheme + "://\"");
      }
    }
    return StateUrl{StoreType::kSqlite, std::string(url)};
  }
  const std::string scheme = Lower(url.substr(0, sep));
  const std::string_view rest = url.substr(sep + kSchemeSep.size());
  if (scheme == "sqlite") {
    if (rest.empty()) return MalformedStateUrl(url, "no database path after sqlite://");
    return StateUrl{StoreType::kSqlite, std::string(rest)};
  }
  if (scheme == "postgres" || scheme == "postgresql") {
    return StateUrl{StoreType::kPostgres, std::string(url)};
  }
  return MalformedStateUrl(
      url, "unknown scheme \"" + scheme + "\" (want sqlite://PATH, postgres://... or a file path)");
}

std::string RedactUrl(std::string_view url) {
  std::string out;
  size_t copied = 0;
  auto copy_to = [&](size_t pos) {
    out.append(url.substr(copied, pos - copied));
    copied = pos;
  };
  if (Span pw = UserinfoPassword(url); pw.begin > 0) {
    copy_to(pw.begin - 1);  // drop ':' + password, keep '@'
    copied = pw.end;
  }
  bool first_param = true;
  for (const Span& p : QueryParams(url)) {
    if (p.begin < copied) continue;
    copy_to(p.begin);
    if (IsPasswordParam(url.substr(p.begin, p.end - p.begin))) {
      copied = std::min(p.end + 1, url.size());  // skip the parameter and its '&'
      continue;
    }
    first_param = false;
  }
  copy_to(url.size());
  // "...?password=x" alone leaves a dangling '?' or '&'.
  while (!out.empty() && (out.back() == '&' || (out.back() == '?' && first_param))) {
    out.pop_back();
  }
  return out;
}

std::string ScrubMessage(std::string_view message, std::string_view url) {
  std::string out(message);
  if (url.empty()) return out;
  const std::string redacted = RedactUrl(url);
  ReplaceAll(out, url, redacted);
  std::vector<std::string> secrets;
  if (Span pw = UserinfoPassword(url); !pw.empty()) {
    secrets.emplace_back(url.substr(pw.begin, pw.end - pw.begin));
  }
  for (const Span& p : QueryParams(url)) {
    std::string_view param = url.substr(p.begin, p.end - p.begin);
    if (IsPasswordParam(param) && param.find('=') != std::string_view::npos) {
      secrets.emplace_back(param.substr(param.find('=') + 1));
    }
  }
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    ReplaceAll(out, secret, "***");
    ReplaceAll(out, PercentDecode(secret), "***");
  }
  return out;
}

}  // namespace ferry::state
