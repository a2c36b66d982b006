// The run-end document (document.h).
#include "notify/document.h"

#include <ctime>
#include <cstdio>

#include "base/json_util.h"

namespace ferry::notify {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::system_clock;

int64_t UnixMs(system_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}


// A document's time: "2026-11-28T06:15:00.123Z" read back (what TimeText writes).
system_clock::time_point ParseDocumentTime(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    throw std::invalid_argument("time '" + text + "' is not RFC 3339 UTC");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return system_clock::from_time_t(timegm(&tm)) + milliseconds(ms);
}

}  // namespace

std::string TimeText(system_clock::time_point t) {
  const int64_t ms = UnixMs(t);
  const std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms - static_cast<int64_t>(secs) * 1000));
  return buf;
}

std::string DocumentJson(const RunEnd& run) {
  json errors = json::array();
  for (size_t i = 0; i < run.errors.size() && i < kMaxErrors; ++i) {
    errors.push_back(run.errors[i].substr(0, 500));
  }
  const double seconds = static_cast<double>(UnixMs(run.ended) - UnixMs(run.started)) / 1000.0;
  json doc = {
      {"ferry_notification", 1},
      {"run_id", run.run_id},
      {"command", run.command},
      {"source", run.source},
      {"destination", run.destination},
      {"state", std::string(EndStateName(run.state))},
      {"durable", run.durable},
      {"objects",
       {{"copied", run.objects.copied},
        {"skipped", run.objects.skipped ? json(*run.objects.skipped) : json(nullptr)},
        {"failed", run.objects.failed},
        {"deleted", run.objects.deleted}}},
      {"bytes", run.bytes},
      {"errors", errors},
      {"started", TimeText(run.started)},
      {"ended", TimeText(run.ended)},
      {"duration_seconds", seconds},
      {"report", run.report.empty() ? json(nullptr) : json(run.report)},
  };
  return json_util::Dump(doc);
}

Result<RunEnd> ParseDocument(const std::string& text) {
  return json_util::ParseJson(text, "notification document", [](const json& j) -> Result<RunEnd> {
    RunEnd r;
    r.run_id = j.at("run_id").get<std::string>();
    r.command = j.at("command").get<std::string>();
    r.source = j.at("source").get<std::string>();
    r.destination = j.at("destination").get<std::string>();
    const std::optional<EndState> state = ParseEndState(j.at("state").get<std::string>());
    if (!state) return Status::InvalidArgument("malformed notification document: state");
    r.state = *state;
    r.durable = j.at("durable").get<bool>();
    const json& o = j.at("objects");
    r.objects.copied = o.at("copied").get<uint64_t>();
    if (!o.at("skipped").is_null()) r.objects.skipped = o.at("skipped").get<uint64_t>();
    r.objects.failed = o.at("failed").get<uint64_t>();
    r.objects.deleted = o.at("deleted").get<uint64_t>();
    r.bytes = j.at("bytes").get<uint64_t>();
    for (const json& e : j.at("errors")) r.errors.push_back(e.get<std::string>());
    r.started = ParseDocumentTime(j.at("started").get<std::string>());
    r.ended = ParseDocumentTime(j.at("ended").get<std::string>());
    if (!j.at("report").is_null()) r.report = j.at("report").get<std::string>();
    return r;
  });
}

std::string Subject(const RunEnd& run) {
  return "ferry " + run.command + " " + std::string(EndStateName(run.state)) + ": " +
         std::to_string(run.objects.copied) + " copied, " + std::to_string(run.objects.failed) +
         " failed (run " + run.run_id + ")";
}

}  // namespace ferry::notify
