// Target names, secrets and descriptions (target.h).
#include "notify/target.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ferry::notify {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kWebhook: return "webhook";
    case Kind::kSns: return "sns";
    case Kind::kSqs: return "sqs";
    case Kind::kSmtp: return "smtp";
  }
  return "webhook";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : {Kind::kWebhook, Kind::kSns, Kind::kSqs, Kind::kSmtp}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string_view EndStateName(EndState state) {
  switch (state) {
    case EndState::kDone: return "done";
    case EndState::kFailed: return "failed";
    case EndState::kDead: return "dead";
    case EndState::kCut: return "cut";
  }
  return "failed";
}

std::optional<EndState> ParseEndState(std::string_view name) {
  for (EndState s : {EndState::kDone, EndState::kFailed, EndState::kDead, EndState::kCut}) {
    if (EndStateName(s) == name) return s;
  }
  return std::nullopt;
}

bool OnSet::Has(EndState state) const {
  switch (state) {
    case EndState::kDone: return done;
    case EndState::kFailed: return failed;
    case EndState::kDead: return dead;
    case EndState::kCut: return cut;
  }
  return false;
}

Result<std::string> ReadSecret(const Secret& secret, std::string_view what) {
  const std::string name(what);
  if (!secret.env.empty()) {
    const char* v = std::getenv(secret.env.c_str());
    if (v == nullptr || *v == '\0') {
      return Status::InvalidArgument(name + ": environment variable " + secret.env +
                                     " is not set");
    }
    return std::string(v);
  }
  if (!secret.file.empty()) {
    std::ifstream in(secret.file, std::ios::binary);
    if (!in) return Status::InvalidArgument(name + ": cannot read " + secret.file);
    std::ostringstream text;
    text << in.rdbuf();
    std::string v = text.str();
    if (v.ends_with('\n')) v.pop_back();
    if (v.ends_with('\r')) v.pop_back();
    if (v.empty()) return Status::InvalidArgument(name + ": " + secret.file + " is empty");
    return v;
  }
  return std::string();
}

namespace {
// scheme://host[:port]/path of `url`: user info and query left out.
std::string UrlWithoutSecrets(std::string_view url) {
  const size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  const std::string_view head = scheme == std::string_view::npos ? "" : url.substr(0, scheme + 3);
  const size_t slash = rest.find('/');
  const size_t at = rest.substr(0, slash).rfind('@');
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  const size_t query = rest.find('?');
  std::string out = std::string(head) + std::string(rest.substr(0, query));
  if (query != std::string_view::npos) out += "?...";
  return out;
}
}  // namespace

std::string DescribeTarget(const Target& target) {
  const std::string kind(KindName(target.kind));
  switch (target.kind) {
    case Kind::kSns: return kind + " " + target.topic_arn;
    case Kind::kSqs: return kind + " " + UrlWithoutSecrets(target.queue_url);
    case Kind::kWebhook:
    case Kind::kSmtp: break;
  }
  return kind + " " + UrlWithoutSecrets(target.url);
}

}  // namespace ferry::notify
