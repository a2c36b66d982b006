#include "cli/limits_options.h"

#include <fmt/format.h>

#include "obs/log.h"

namespace ferry::cli {

Result<limits::LimitsConfig> EffectiveLimits(const GlobalOptions& flags,
                                             const app::LimitsSettings& file) {
  limits::LimitsConfig c;
  if (!flags.bwlimit.empty()) {
    auto s = limits::BandwidthSchedule::Parse(flags.bwlimit);
    if (!s.ok()) return s.status().WithContext("--bwlimit");
    c.bandwidth = std::move(s).value();
  } else if (file.bwlimit) {
    // checked when the file was read
    FERRY_ASSIGN_OR_RETURN(c.bandwidth, limits::BandwidthSchedule::Parse(*file.bwlimit));
  }
  if (flags.max_rps < 0 || flags.max_rps > 1e9) {
    return Status::InvalidArgument("--max-rps must be a number above 0");
  }
  c.max_rps = flags.max_rps > 0 ? flags.max_rps : file.max_rps.value_or(0);
  if (flags.max_rps_burst < 0) {
    return Status::InvalidArgument("--max-rps-burst must be 1 or more");
  }
  c.max_rps_burst = flags.max_rps_burst > 0 ? flags.max_rps_burst : file.max_rps_burst.value_or(1);
  c.adaptive = !flags.no_adaptive_rate && file.adaptive.value_or(true);
  return c;
}

namespace {

std::string Describe(const limits::LimitsConfig& c) {
  std::string out;
  if (!c.bandwidth.unlimited()) {
    const limits::Rates now = limits::ProcessLimits().RatesNow();
    out += fmt::format("--bwlimit \"{}\" (now {} up, {} down)", c.bandwidth.text(),
                       limits::FormatRate(now.up), limits::FormatRate(now.down));
  }
  if (c.max_rps > 0) {
    if (!out.empty()) out += ", ";
    out += fmt::format("--max-rps {} per endpoint (burst {})", c.max_rps, c.max_rps_burst);
  }
  if (!c.adaptive) {
    if (!out.empty()) out += ", ";
    out += "no adaptive rate";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Status ApplyLimits(const GlobalOptions& flags, const app::LimitsSettings& file) {
  FERRY_ASSIGN_OR_RETURN(limits::LimitsConfig c, EffectiveLimits(flags, file));
  limits::Limits& process = limits::ProcessLimits();
  const limits::LimitsConfig before = process.config();
  const bool changed = before.bandwidth.text() != c.bandwidth.text() ||
                       before.max_rps != c.max_rps || before.max_rps_burst != c.max_rps_burst ||
                       before.adaptive != c.adaptive;
  process.Configure(c);
  if (changed) obs::Log(obs::Level::kInfo, "limits: " + Describe(c));
  return Status::Ok();
}

void LimitRequestsInFlight(int concurrency) {
  limits::ProcessLimits().SetRequestSlots(concurrency);
}

}  // namespace ferry::cli
