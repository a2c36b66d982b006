#include "s3/credentials.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string_view>

namespace ferry::s3 {
namespace {

using Section = std::map<std::string, std::string>;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string HomeFile(const char* env_override, const char* relative) {
  std::string path = Env(env_override);
  if (!path.empty()) return path;
  const std::string home = Env("HOME");
  return home.empty() ? std::string() : home + "/" + relative;
}

// A tiny INI reader: "[section]" headers, "key = value" lines, '#' and ';' comments. Keys are
// case-sensitive like the AWS CLI's. Indented lines (nested settings such as "s3 =\n  x = y")
// are skipped. Returns nullopt when the file cannot be opened or lacks the section.
std::optional<Section> ReadIniSection(const std::string& path, std::string_view wanted) {
  if (path.empty()) return std::nullopt;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::optional<Section> found;
  bool in_wanted = false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) continue;
    const std::string_view l = Trim(line);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l.front() == '[' && l.back() == ']') {
      in_wanted = Trim(l.substr(1, l.size() - 2)) == wanted;
      if (in_wanted && !found) found.emplace();
      continue;
    }
    if (!in_wanted) continue;
    const size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    (*found)[std::string(Trim(l.substr(0, eq)))] = std::string(Trim(l.substr(eq + 1)));
  }
  return found;
}


std::optional<Section> ConfigSection(const std::string& profile) {
  const std::string path = HomeFile("AWS_CONFIG_FILE", ".aws/config");
  if (profile == "default") {
    if (auto s = ReadIniSection(path, "default")) return s;
  }
  return ReadIniSection(path, "profile " + profile);
}

}  // namespace

std::string ProfileName(const std::string& profile_override) {
  if (!profile_override.empty()) return profile_override;
  std::string env = Env("AWS_PROFILE");
  return env.empty() ? "default" : env;
}

std::optional<ProfileSection> ReadConfigSection(const std::string& header) {
  return ReadIniSection(HomeFile("AWS_CONFIG_FILE", ".aws/config"), header);
}

std::optional<ProfileSection> ReadProfile(const std::string& name, std::string* where) {
  const std::string creds_path = HomeFile("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  const std::string config_path = HomeFile("AWS_CONFIG_FILE", ".aws/config");
  if (where != nullptr) *where = creds_path + " or " + config_path;
  std::optional<ProfileSection> merged = ConfigSection(name);
  if (auto creds = ReadIniSection(creds_path, name)) {
    if (!merged) merged.emplace();
    for (auto& [k, v] : *creds) (*merged)[k] = v;
  }
  return merged;
}

std::string RegionFromEnvironment(const std::string& profile_override) {
  if (std::string r = Env("AWS_REGION"); !r.empty()) return r;
  if (std::string r = Env("AWS_DEFAULT_REGION"); !r.empty()) return r;
  if (auto section = ConfigSection(ProfileName(profile_override))) {
    if (auto it = section->find("region"); it != section->end()) return it->second;
  }
  return {};
}

std::string EndpointFromEnvironment() {
  if (std::string e = Env("AWS_ENDPOINT_URL_S3"); !e.empty()) return e;
  return Env("AWS_ENDPOINT_URL");
}

}  // namespace ferry::s3
